#!/usr/bin/env nextflow
// Scatter-gather calling of one sample with varstream:
//   nextflow run workflows/nextflow --reads S.bam --fasta ref.fa [--regions r.bed] \
//       --shards 8 --outdir results
// The BAM/CRAM index (.bai/.crai) and the FASTA's .fai must sit beside them.
include { VARSTREAM_SCATTER_GATHER } from './subworkflows/local/varstream_scatter_gather/main'

workflow {
    if (!params.reads || !params.fasta) {
        error "give --reads BAM|CRAM and --fasta FASTA"
    }
    def reads = file(params.reads, checkIfExists: true)
    def index = file("${params.reads}${reads.extension == 'cram' ? '.crai' : '.bai'}", checkIfExists: true)
    def regions = params.regions ? file(params.regions, checkIfExists: true) : []
    def meta = [ id: params.sample ?: reads.simpleName ]

    ch_reads = channel.of( [ meta, reads, index, regions ] )
    ch_fasta = channel.value( [ [ id: 'reference' ], file(params.fasta, checkIfExists: true) ] )
    ch_fai   = channel.value( [ [ id: 'reference' ], file("${params.fasta}.fai", checkIfExists: true) ] )

    VARSTREAM_SCATTER_GATHER ( ch_reads, ch_fasta, ch_fai, params.shards )

    // Every process puts (process, tool, version) on the `versions` topic.
    channel.topic('versions')
        .map { process, tool, version -> "${process.tokenize(':').last()}\t${tool}\t${version}" }
        .unique()
        .collectFile( name: 'versions.tsv', storeDir: params.outdir, sort: true, newLine: true )
}
