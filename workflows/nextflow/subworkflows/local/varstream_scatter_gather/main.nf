// Scatter-gather calling: cut each sample's callable set into BED files of balanced work
// (varstream shards), call each on its own task, and concatenate the VCFs in genome order.
// The gathered VCF has the body of one `varstream call` over the same regions.
include { VARSTREAM_SHARDS } from '../../../modules/local/varstream/shards/main'
include { VARSTREAM_CALL   } from '../../../modules/local/varstream/call/main'
include { VARSTREAM_GATHER } from '../../../modules/local/varstream/gather/main'

workflow VARSTREAM_SCATTER_GATHER {

    take:
    ch_reads     // channel: [ val(meta), path(reads), path(index), path(intervals) ]; intervals may be []
    ch_fasta     // channel: [ val(meta2), path(fasta) ]
    ch_fai       // channel: [ val(meta3), path(fai) ]
    shard_count  // value: BED files per sample (fewer when the regions hold fewer 25 kb grid cells)

    main:
    fasta = ch_fasta.first()
    fai   = ch_fai.first()

    VARSTREAM_SHARDS ( ch_reads, fasta, fai, shard_count )

    // One call per BED file; the shard's name goes into meta.id, so that outputs are
    // named SAMPLE.shard-NNNN.vcf.gz, and the sample's meta and shard count come along to
    // gather on.
    ch_scatter = ch_reads
        .map { meta, reads, index, intervals -> [ meta, reads, index ] }
        .join ( VARSTREAM_SHARDS.out.beds )
        .flatMap { meta, reads, index, beds ->
            def list = beds instanceof List ? beds : [ beds ]
            list.collect { bed ->
                [ meta + [ id: "${meta.id}.${bed.baseName}", sample_meta: meta, shards: list.size() ], reads, index, bed ]
            }
        }

    VARSTREAM_CALL ( ch_scatter, fasta, fai )

    // groupKey with the shard count lets each sample gather as soon as its shards are done.
    ch_gather = VARSTREAM_CALL.out.vcf
        .map { meta, vcf -> [ groupKey(meta.sample_meta, meta.shards), vcf ] }
        .groupTuple()
        .map { key, vcfs -> [ key.getGroupTarget(), vcfs ] }

    VARSTREAM_GATHER ( ch_gather )

    emit:
    vcf = VARSTREAM_GATHER.out.vcf   // channel: [ val(meta), path(vcf.gz) ]
    tbi = VARSTREAM_GATHER.out.tbi   // channel: [ val(meta), path(vcf.gz.tbi) ]
    // Tool versions go to the `versions` topic (channel.topic('versions')), not an emit.
}
