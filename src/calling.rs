//! One shard from reads to VCF lines, as plain functions: reads → candidates → tensors, then
//! (after inference) genotypes → VCF text. [`crate::pipeline`] runs these on threads.
use anyhow::Result;

use crate::candidates::{allele_depths, assign_reads, find_sites, CandidateParams, Pileup, Site};
use crate::genotypes::{call, filter, genotype_posteriors};
use crate::reads::{left_align, ReadFilter, ReadSource};
use crate::reference::Reference;
use crate::regions::Shard;
use crate::tensors::{encode, EXAMPLE_LEN, WINDOW};

/// Reads are fetched this far beyond a shard so that windows and indels at its edges see all
/// their evidence, whichever shard they fall in.
pub const READ_PAD: u64 = 300;
/// Reference is fetched this much further still, for left-alignment and long deletions.
pub const REF_PAD: u64 = 1_000;

/// Candidates of one shard and their encoded examples (one per site and alt, in order).
#[derive(Debug, Default)]
pub struct ShardExamples {
    /// Candidate sites with anchors inside the shard, in position order.
    pub sites: Vec<Site>,
    /// `EXAMPLE_LEN` values per example; examples ordered by site then alt.
    pub tensors: Vec<f32>,
}

impl ShardExamples {
    /// Number of examples.
    pub fn len(&self) -> usize {
        self.tensors.len() / EXAMPLE_LEN
    }

    /// No examples.
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }
}

/// Settings shared by every shard.
#[derive(Debug, Clone, Default)]
pub struct ShardParams {
    /// Read filters.
    pub filter: ReadFilter,
    /// Candidate thresholds.
    pub candidates: CandidateParams,
}

/// Find candidates in `shard` and encode their examples.
pub fn prepare_shard(
    shard: &Shard,
    source: &mut ReadSource,
    reference: &Reference,
    p: &ShardParams,
) -> Result<ShardExamples> {
    let iv = &shard.interval;
    let read_from = iv.start.saturating_sub(READ_PAD);
    let reads = source.fetch(&iv.contig, read_from, iv.end + READ_PAD, &p.filter)?;
    let ref_from = read_from.saturating_sub(REF_PAD);
    let ref_seq = reference.fetch(&iv.contig, ref_from, iv.end + READ_PAD + REF_PAD)?;
    let mut reads = reads;
    for r in &mut reads {
        left_align(r, &ref_seq, ref_from);
    }
    let pileup = Pileup::build(ref_from, ref_seq, &reads, p.candidates.min_baseq);
    let mut sites = find_sites(&iv.contig, &pileup, &reads, iv.start, iv.end, &p.candidates);
    let n: usize = sites.iter().map(|s| s.alts.len()).sum();
    let mut tensors = vec![0f32; n * EXAMPLE_LEN];
    let mut chunks = tensors.chunks_mut(EXAMPLE_LEN);
    // Reads are sorted by start, so the reads that can touch a window form one slice.
    let longest = reads
        .iter()
        .map(|r| r.bases.len() as u64)
        .max()
        .unwrap_or(0);
    for site in &mut sites {
        let lo = site.pos.saturating_sub(WINDOW as u64 + longest);
        let a = reads.partition_point(|r| r.start < lo);
        let b = reads.partition_point(|r| r.start <= site.informative_end + WINDOW as u64);
        let near = &reads[a..b];
        let assigned = assign_reads(site, &pileup, near, p.candidates.min_baseq);
        site.allele_depths = allele_depths(&assigned, site.alts.len());
        for k in 0..site.alts.len() {
            let out = chunks.next().expect("bug: example count");
            encode(
                site,
                k,
                &pileup,
                near,
                &assigned,
                p.candidates.min_baseq,
                out,
            );
        }
    }
    Ok(ShardExamples { sites, tensors })
}

/// Genotype each site from its alts' probabilities (`probs`: 3 per example, in example order)
/// and format VCF lines.
pub fn genotype_shard(sites: &[Site], probs: &[[f32; 3]], min_qual: f64) -> Result<String> {
    let n: usize = sites.iter().map(|s| s.alts.len()).sum();
    anyhow::ensure!(
        probs.len() == n,
        "bug: {} probabilities for {n} examples",
        probs.len()
    );
    let mut out = String::new();
    let mut next = 0;
    for site in sites {
        let per_alt = &probs[next..next + site.alts.len()];
        next += site.alts.len();
        let c = call(&genotype_posteriors(per_alt));
        out.push_str(&crate::vcf::record(site, &c, filter(&c, min_qual)));
    }
    Ok(out)
}
