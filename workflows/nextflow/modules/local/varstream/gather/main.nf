// Shard VCFs of one sample into one: `bcftools concat --naive` copies their compressed blocks
// in file-name order (shard-0000, shard-0001, ...: genome order) after checking that their
// headers agree, and tabix refuses records out of order. The body is that of a single run.
process VARSTREAM_GATHER {
    tag "${meta.id}"
    label 'process_single'

    input:
    tuple val(meta), path(vcfs)

    output:
    tuple val(meta), path("${prefix}.vcf.gz")    , emit: vcf
    tuple val(meta), path("${prefix}.vcf.gz.tbi"), emit: tbi
    tuple val("${task.process}"), val('bcftools'), eval("bcftools --version | sed '1!d; s/^.*bcftools //'"), topic: versions, emit: versions_bcftools
    tuple val("${task.process}"), val('tabix'), eval("tabix -h 2>&1 | sed -n 's/^Version: //p'"), topic: versions, emit: versions_tabix

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    bcftools concat --naive ${args} -o ${prefix}.vcf.gz \$(printf '%s\\n' ${vcfs} | LC_ALL=C sort)
    tabix -p vcf ${prefix}.vcf.gz
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
