process VARSTREAM_CALL {
    tag "${meta.id}"
    label 'process_high'

    // No conda package or container of varstream is published yet: the task environment
    // needs `varstream` on its PATH and ONNX Runtime where it looks (see docs/install.md).

    input:
    tuple val(meta), path(reads), path(index), path(intervals)
    tuple val(meta2), path(fasta)
    tuple val(meta3), path(fai)

    output:
    tuple val(meta), path("${prefix}.vcf.gz")    , emit: vcf
    tuple val(meta), path("${prefix}.vcf.gz.tbi"), emit: tbi
    tuple val("${task.process}"), val('varstream'), eval("varstream --version | sed 's/^varstream //'"), topic: versions, emit: versions_varstream

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def regions = intervals ? "--regions ${intervals}" : ''
    """
    varstream call \\
        --ref ${fasta} \\
        --reads ${reads} \\
        ${regions} \\
        --threads ${task.cpus} \\
        --output ${prefix}.vcf.gz \\
        ${args}
    """

    stub:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    echo ${args}
    echo "" | bgzip -c > ${prefix}.vcf.gz
    touch ${prefix}.vcf.gz.tbi
    """
}
