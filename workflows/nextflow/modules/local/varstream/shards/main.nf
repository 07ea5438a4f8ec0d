process VARSTREAM_SHARDS {
    tag "${meta.id}"
    label 'process_single'

    // Needs `varstream` on the PATH (see VARSTREAM_CALL).

    input:
    tuple val(meta), path(reads), path(index), path(intervals)
    tuple val(meta2), path(fasta)
    tuple val(meta3), path(fai)
    val count

    output:
    tuple val(meta), path("${prefix}/shard-*.bed"), emit: beds
    tuple val("${task.process}"), val('varstream'), eval("varstream --version | sed 's/^varstream //'"), topic: versions, emit: versions_varstream

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.shards"
    def regions = intervals ? "--regions ${intervals}" : ''
    """
    mkdir -p ${prefix}
    varstream shards \\
        --ref ${fasta} \\
        --reads ${reads} \\
        ${regions} \\
        --count ${count} \\
        --output ${prefix} \\
        ${args}
    """

    stub:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.shards"
    """
    echo ${args}
    mkdir -p ${prefix}
    touch ${prefix}/shard-0000.bed
    """
}
