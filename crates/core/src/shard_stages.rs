//! One shard from reads to VCF lines, as plain functions: reads → candidates → tensors, then
//! (after inference) genotypes → VCF text. [`crate::pipeline`] runs these on threads.
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use anyhow::Result;

use crate::candidates::{
    allele_depths, assign_reads, find_sites, median_depth, median_depth_of_blocks, CandidateParams,
    Pileup, ReadAllele, Site,
};
use crate::genotypes::{call_site_by, filter, unexplained_reads};
use crate::gvcf::{non_ref_allele, RefEvidence};
use crate::phasing::{het_reads, SiteRead};
use crate::reads::{left_align, AlignedRead, ReadBatch, ReadCounts, ReadFilter, ReadSource};
use crate::realign::{realign_reads, RealignParams};
use crate::ref_confidence::RefModel;
use crate::reference::Reference;
use crate::regions::Shard;
use crate::run_stats::Coverage;
use crate::tensors::{allele_set_count, allele_sets, encode, EXAMPLE_LEN, WINDOW};
use crate::vcf::CallRecord;

/// Reads are fetched this far beyond a shard, so that a site gets the same reads whichever
/// shard it falls in. Windows and indels at the shard's edges see all their evidence, and
/// every realignment window that can move a read the shard's sites use (a window of at most
/// `max_window` = 500 bp overlapping a read of up to ~400 bp over a site) lies wholly inside
/// the fetch, with the margin `realign::windows` needs to see a cluster whole. Windows that
/// reach the edge of a fetch are not used; a window that long is over `max_window` anyway.
pub const READ_PAD: u64 = 1_000;
/// Reference is fetched this much further still, for left-alignment and long deletions.
pub const REF_PAD: u64 = 1_000;
pub use crate::regions::DEPTH_TILE;
/// Tile depths remembered for shards that are not whole tiles (region edges, BED intervals,
/// small `--shard-size`); shards arrive roughly in order, so a few suffice.
const TILE_CACHE: usize = 64;

/// A tile: contig and index.
type TileKey = (String, u64);

/// Median depths of recently seen tiles, shared by the workers.
#[derive(Debug, Clone, Default)]
pub struct TileDepths(Arc<Mutex<VecDeque<(TileKey, u16)>>>);

impl TileDepths {
    fn get(&self, key: &TileKey) -> Option<u16> {
        let cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        cache.iter().find(|(k, _)| k == key).map(|&(_, d)| d)
    }

    fn put(&self, key: TileKey, depth: u16) {
        let mut cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if cache.iter().all(|(k, _)| *k != key) {
            if cache.len() == TILE_CACHE {
                cache.pop_front();
            }
            cache.push_back((key, depth));
        }
    }
}

/// Median depth (reads as filtered, before realignment) of tile `k` of `contig`. A shard that
/// is exactly the tile passes its reads, fetched over the same interval.
pub fn tile_depth(
    contig: &str,
    k: u64,
    shard_reads: Option<&[AlignedRead]>,
    source: &mut ReadSource,
    p: &ShardParams,
) -> Result<u16> {
    let (ts, te) = (k * DEPTH_TILE, (k + 1) * DEPTH_TILE);
    if let Some(reads) = shard_reads {
        return Ok(median_depth(reads, ts, te));
    }
    let key = (contig.to_string(), k);
    if let Some(d) = p.tiles.get(&key) {
        return Ok(d);
    }
    let blocks = source.fetch_blocks(contig, ts, te, &p.filter)?;
    let d = median_depth_of_blocks(&blocks, ts, te);
    p.tiles.put(key, d);
    Ok(d)
}

/// Candidates of one shard and their encoded examples (one per site and alt, in order).
#[derive(Debug, Default)]
pub struct ShardExamples {
    /// Candidate sites with anchors inside the shard, in position order.
    pub sites: Vec<Site>,
    /// `EXAMPLE_LEN` values per example; examples ordered by site, then by
    /// [`allele_sets`] of the site.
    pub tensors: Vec<f32>,
    /// Per site: reads that carry an allele other than REF and the site's ALTs.
    pub other_depths: Vec<u32>,
    /// Per site, when [`ShardParams::phase`]: each read's allele there.
    pub site_reads: Vec<Vec<SiteRead>>,
    /// The gVCF's evidence at every position of the shard, when [`ShardParams::gvcf`].
    pub ref_evidence: Option<RefEvidence>,
    /// Depth over the shard's own bases, from the pileup.
    pub coverage: Coverage,
    /// Read bases (at or above `--min-baseq`) over the shard's own A/C/G/T reference bases,
    /// and how many of them differ from the reference: a run whose reads disagree with the
    /// reference far beyond sequencing error was aligned to another sequence.
    pub ref_agreement: RefAgreement,
    /// What the read stage did with the records that start in the shard.
    pub reads: ReadCounts,
    /// The reads behind each site, when [`ShardParams::keep_reads`]: the read tier encodes
    /// its rows from them ([`ShardExamples::rows`]).
    pub site_evidence: Option<SiteEvidence>,
}

/// The realigned reads of a shard and, per site, which of them lie near it and their alleles
/// there: what [`crate::read_tensors::encode_rows`] needs, kept so that rows are encoded only
/// for the examples that need them.
#[derive(Debug, Default)]
pub struct SiteEvidence {
    reads: Vec<AlignedRead>,
    near: Vec<std::ops::Range<usize>>,
    assigned: Vec<Vec<Option<ReadAllele>>>,
    ref_seq: Vec<u8>,
    ref_from: u64,
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

    /// The read rows of allele set `set` of site `site` (an index into `sites`), into `out`
    /// ([`crate::read_tensors::ROWS_LEN`] values). Needs [`ShardParams::keep_reads`].
    pub fn rows(&self, site: usize, set: &[usize], out: &mut [f32]) {
        let ev = self
            .site_evidence
            .as_ref()
            .expect("bug: rows asked of a shard prepared without keep_reads");
        crate::read_tensors::encode_rows(
            &self.sites[site],
            set,
            &ev.reads[ev.near[site].clone()],
            &ev.assigned[site],
            &ev.ref_seq,
            ev.ref_from,
            out,
        );
    }
}

/// The read tier's step for one shard (needs [`ShardParams::keep_reads`]): genotype every
/// site from the first tier's `probs`, then genotype again, with the read tier's
/// probabilities (`infer`, one row per input) in place of the first tier's, the sites the
/// routing rule sends it ([`crate::read_tensors::routed`]). Returns the records and how many
/// sites were routed. No threads: `infer` is the caller's.
pub fn second_tier(
    ex: &ShardExamples,
    mut probs: Vec<[f32; 3]>,
    infer: impl FnOnce(Vec<f32>) -> Result<Vec<[f32; 3]>>,
    genotype: impl Fn(&[[f32; 3]]) -> Result<Vec<CallRecord>>,
) -> Result<(Vec<CallRecord>, usize)> {
    let first = genotype(&probs)?;
    let routed: Vec<bool> = ex
        .sites
        .iter()
        .zip(&first)
        .map(|(s, r)| crate::read_tensors::routed(s.depth, r.call.gq))
        .collect();
    let n = routed.iter().filter(|&&r| r).count();
    if n == 0 {
        return Ok((first, 0));
    }
    let (inputs, which) = tier_inputs(ex, &probs, &routed);
    for (e, p) in which.into_iter().zip(infer(inputs)?) {
        probs[e] = p;
    }
    Ok((genotype(&probs)?, n))
}

/// The read tier's inputs for the shard's sites marked in `routed` (one per site): for each
/// of their examples, the first tier's probabilities, the pileup example and the read rows
/// ([`crate::read_tensors::tier_input`]); and, per input, the index of the example it stands
/// for.
fn tier_inputs(ex: &ShardExamples, probs: &[[f32; 3]], routed: &[bool]) -> (Vec<f32>, Vec<usize>) {
    let mut inputs = Vec::new();
    let mut which = Vec::new();
    let mut rows = vec![0f32; crate::read_tensors::ROWS_LEN];
    let mut next = 0;
    for (i, site) in ex.sites.iter().enumerate() {
        let sets = allele_sets(site.alts.len());
        if routed[i] {
            for (k, set) in sets.iter().enumerate() {
                let e = next + k;
                ex.rows(i, set, &mut rows);
                crate::read_tensors::tier_input(
                    probs[e],
                    &ex.tensors[e * EXAMPLE_LEN..(e + 1) * EXAMPLE_LEN],
                    &rows,
                    &mut inputs,
                );
                which.push(e);
            }
        }
        next += sets.len();
    }
    (inputs, which)
}

/// Read bases against the reference bases they lie on ([`ShardExamples::ref_agreement`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RefAgreement {
    /// Read bases counted.
    pub bases: u64,
    /// Of them, bases other than the reference's.
    pub mismatches: u64,
}

impl RefAgreement {
    /// Share of read bases that disagree with the reference above which the reads were not
    /// aligned to this reference: sequencing error is about 1 % (Illumina, HiFi) to under
    /// 10 % (ONT R9.4.1 substitutions), a heterozygous variant density 0.1 %; a same-length
    /// reference of another sequence disagrees at about 75 % of bases.
    pub const MAX_MISMATCH_SHARE: f64 = 0.25;
    /// Fewer read bases than this say nothing either way.
    pub const MIN_BASES: u64 = 10_000;

    /// Over pileup indices `[a, b)`.
    pub fn of(pileup: &Pileup, a: usize, b: usize) -> Self {
        let mut out = Self::default();
        for i in a..b.min(pileup.counts.len()) {
            let rc = crate::reads::base_code(pileup.ref_seq[i]) as usize;
            if rc > 3 {
                continue;
            }
            for strand in &pileup.counts[i] {
                let n: u64 = strand[..4].iter().map(|&c| c as u64).sum();
                out.bases += n;
                out.mismatches += n - strand[rc] as u64;
            }
        }
        out
    }

    /// Add another shard's counts.
    pub fn add(&mut self, o: &RefAgreement) {
        self.bases += o.bases;
        self.mismatches += o.mismatches;
    }

    /// Whether the reads disagree with the reference beyond any sequencing error.
    pub fn disagrees(&self) -> bool {
        self.bases >= Self::MIN_BASES
            && self.mismatches as f64 > Self::MAX_MISMATCH_SHARE * self.bases as f64
    }
}

/// Settings shared by every shard.
#[derive(Debug, Clone, Default)]
pub struct ShardParams {
    /// Read filters.
    pub filter: ReadFilter,
    /// Candidate thresholds.
    pub candidates: CandidateParams,
    /// Local realignment.
    pub realign: RealignParams,
    /// Tile depths shared by the workers (see [`DEPTH_TILE`]).
    pub tiles: TileDepths,
    /// Also compute the reference evidence at every position, for the gVCF.
    pub gvcf: bool,
    /// Also keep each read's allele at each site, for phasing.
    pub phase: bool,
    /// Also keep the reads behind each site, for the read tier ([`ShardExamples::rows`]).
    pub keep_reads: bool,
}

/// The read stage of one shard: its reads and those [`READ_PAD`] around it, filtered and
/// capped at `--max-depth` while they are read. `reference` (ASCII from a position) covers
/// the fetch and [`REF_PAD`] around it, for bases stored as `=`.
pub fn read_shard(
    shard: &Shard,
    source: &mut ReadSource,
    p: &ShardParams,
    reference: Option<(&[u8], u64)>,
) -> Result<ReadBatch> {
    let iv = &shard.interval;
    source.fetch_owning(
        &iv.contig,
        iv.start.saturating_sub(READ_PAD),
        iv.end + READ_PAD,
        (iv.start, iv.end),
        &p.filter,
        reference,
    )
}

// A read's slice reaches SLICE_PAD past the fetch: the shard's reference must cover it.
const _: () = assert!(crate::reads::SLICE_PAD <= REF_PAD);

/// Find candidates in `shard` and encode their examples: the read stage, the shard's tile
/// depths and reference, then [`examples_from_reads`].
pub fn prepare_shard(
    shard: &Shard,
    source: &mut ReadSource,
    reference: &Reference,
    p: &ShardParams,
) -> Result<ShardExamples> {
    let iv = &shard.interval;
    // The reference first: the read stage resolves bases stored as `=` against it.
    let ref_from = iv.start.saturating_sub(READ_PAD).saturating_sub(REF_PAD);
    let ref_seq = reference.fetch(&iv.contig, ref_from, iv.end + READ_PAD + REF_PAD)?;
    let batch = read_shard(shard, source, p, Some((&ref_seq, ref_from)))?;
    let whole_tile = iv.start.is_multiple_of(DEPTH_TILE) && iv.end == iv.start + DEPTH_TILE;
    let tiles: Vec<u16> = (iv.start / DEPTH_TILE..=(iv.end - 1) / DEPTH_TILE)
        .map(|k| {
            tile_depth(
                &iv.contig,
                k,
                whole_tile.then_some(&batch.reads[..]),
                source,
                p,
            )
        })
        .collect::<Result<_>>()?;
    Ok(examples_from_reads(
        shard, batch, &ref_seq, ref_from, &tiles, p,
    ))
}

/// The pure part of a shard: realign, left-align, pile up, find candidates and encode their
/// examples. `batch` holds the reads fetched around the shard; `ref_seq` starts at `ref_from`
/// and covers the batch plus [`REF_PAD`]; `tiles` are the median depths of the
/// [`DEPTH_TILE`] tiles the shard touches, in order. No I/O and no threads, so tests drive it
/// from SAM text.
pub fn examples_from_reads(
    shard: &Shard,
    batch: ReadBatch,
    ref_seq: &[u8],
    ref_from: u64,
    tiles: &[u16],
    p: &ShardParams,
) -> ShardExamples {
    let iv = &shard.interval;
    let first_tile = iv.start / DEPTH_TILE;
    let read_counts = batch.owned;
    let mut reads = batch.reads;
    realign_reads(
        &mut reads,
        ref_seq,
        ref_from,
        batch.start,
        batch.end,
        &p.realign,
    );
    for r in &mut reads {
        left_align(r, ref_seq, ref_from);
    }
    let pileup = Pileup::build(ref_from, ref_seq.to_vec(), &reads, p.candidates.min_baseq);
    let ref_evidence = p.gvcf.then(|| ref_evidence(iv, &pileup, &reads, p));
    let own = |pos: u64| ((pos.saturating_sub(ref_from)) as usize).min(pileup.depth.len());
    let coverage = Coverage::of(&pileup.depth[own(iv.start)..own(iv.end)]);
    let ref_agreement = RefAgreement::of(&pileup, own(iv.start), own(iv.end));
    let mut sites = find_sites(&iv.contig, &pileup, &reads, iv.start, iv.end, &p.candidates);
    // Reads are sorted by start, so the reads that can touch a window form one slice.
    let longest = reads
        .iter()
        .map(|r| r.bases.len() as u64)
        .max()
        .unwrap_or(0);
    let near_of = |site: &Site| {
        let lo = site.pos.saturating_sub(WINDOW as u64 + longest);
        let a = reads.partition_point(|r| r.start < lo);
        let b = reads.partition_point(|r| r.start <= site.informative_end + WINDOW as u64);
        a..b
    };
    let mut assigned_of: Vec<Vec<Option<ReadAllele>>> = Vec::with_capacity(sites.len());
    for site in &mut sites {
        let assigned = assign_reads(site, &pileup, &reads[near_of(site)], p.candidates.min_baseq);
        site.allele_depths = allele_depths(&assigned, site.alts.len());
        assigned_of.push(assigned);
    }
    // A candidate no read supports once the filters have judged each read's allele (an indel
    // seen only in reads whose bases there are under --min-baseq) is no site: the model would
    // be asked about evidence the user excluded.
    let keep: Vec<bool> = sites
        .iter()
        .map(|s| s.allele_depths[1..].iter().any(|&d| d > 0))
        .collect();
    let mut k = keep.iter();
    sites.retain(|_| *k.next().unwrap());
    let mut k = keep.iter();
    assigned_of.retain(|_| *k.next().unwrap());
    let n = example_count(&sites);
    let mut tensors = vec![0f32; n * EXAMPLE_LEN];
    let mut chunks = tensors.chunks_mut(EXAMPLE_LEN);
    let mut other_depths = Vec::with_capacity(sites.len());
    let mut site_reads = Vec::with_capacity(if p.phase { sites.len() } else { 0 });
    for (site, assigned) in sites.iter().zip(&assigned_of) {
        let near = &reads[near_of(site)];
        if p.phase {
            site_reads.push(
                near.iter()
                    .zip(assigned)
                    .filter_map(|(r, a)| {
                        let allele = match a {
                            Some(ReadAllele::Ref) => 0,
                            Some(ReadAllele::Alt(k)) => *k as u8 + 1,
                            _ => return None,
                        };
                        Some(SiteRead {
                            read: r.name,
                            allele,
                            reach: r.reach,
                        })
                    })
                    .collect(),
            );
        }
        other_depths.push(
            assigned
                .iter()
                .filter(|a| matches!(a, Some(ReadAllele::Other)))
                .count() as u32,
        );
        for set in allele_sets(site.alts.len()) {
            let out = chunks.next().expect("bug: example count");
            encode(
                site,
                &set,
                &pileup,
                near,
                assigned,
                p.candidates.min_baseq,
                tiles[(site.pos / DEPTH_TILE - first_tile) as usize],
                out,
            );
        }
    }
    let near: Vec<std::ops::Range<usize>> = if p.keep_reads {
        sites.iter().map(near_of).collect()
    } else {
        Vec::new()
    };
    let site_evidence = p.keep_reads.then(|| SiteEvidence {
        near,
        assigned: assigned_of,
        ref_seq: ref_seq.to_vec(),
        ref_from,
        reads,
    });
    ShardExamples {
        sites,
        tensors,
        other_depths,
        site_reads,
        ref_evidence,
        coverage,
        ref_agreement,
        reads: read_counts,
        site_evidence,
    }
}

/// Reference likelihoods, depth and bases at every position of the shard (not its padding).
fn ref_evidence(
    iv: &crate::regions::Interval,
    pileup: &Pileup,
    reads: &[AlignedRead],
    p: &ShardParams,
) -> RefEvidence {
    let (from, to) = (iv.start, iv.end);
    // The pileup spans the shard and its padding; a base it lacks has no reads and is `N`.
    let at = |pos: u64| pileup.index(pos);
    RefEvidence {
        from,
        likelihoods: RefModel::shared().likelihoods(
            reads,
            from,
            to,
            &pileup.ref_seq,
            pileup.start,
            p.candidates.min_baseq,
        ),
        depth: (from..to)
            .map(|x| at(x).map_or(0, |i| pileup.depth[i]))
            .collect(),
        bases: (from..to)
            .map(|x| at(x).map_or(b'N', |i| pileup.ref_seq[i]))
            .collect(),
    }
}

/// How sites are genotyped: the LowQual threshold, the sample's ploidy, the calibration.
#[derive(Debug, Clone, Default)]
pub struct Genotyping {
    pub min_qual: f64,
    pub ploidy: crate::ploidy::PloidyMap,
    pub calibration: crate::genotypes::Calibration,
}

/// Examples the sites get: one per allele set ([`allele_sets`]).
fn example_count(sites: &[Site]) -> usize {
    sites.iter().map(|s| allele_set_count(s.alts.len())).sum()
}

/// Genotype each site from its allele sets' probabilities (`probs`: 3 per example, in example
/// order) at the ploidy of its position, calibrated for its depth. With `other_depths` (one
/// per site, from [`ShardExamples::other_depths`]) each record also gets its gVCF `<*>`
/// allele; with `site_reads` ([`ShardExamples::site_reads`]) each heterozygous PASS call
/// gets its reads' alleles for the phaser.
pub fn genotype_records(
    sites: &[Site],
    other_depths: Option<&[u32]>,
    site_reads: Option<&[Vec<SiteRead>]>,
    probs: &[[f32; 3]],
    g: &Genotyping,
) -> Result<Vec<CallRecord>> {
    let n = example_count(sites);
    anyhow::ensure!(
        probs.len() == n,
        "bug: {} probabilities for {n} examples",
        probs.len()
    );
    let mut out = Vec::with_capacity(sites.len());
    let mut next = 0;
    for (i, site) in sites.iter().enumerate() {
        let sets = allele_sets(site.alts.len());
        let per_set = &probs[next..next + sets.len()];
        next += sets.len();
        let indel = site
            .alts
            .iter()
            .any(|a| !matches!(a, crate::candidates::AltKind::Snv(_)));
        let c = call_site_by(
            site.alts.len(),
            &sets,
            per_set,
            g.ploidy.at(&site.contig, site.pos),
            |gt| {
                let unexplained = g.calibration.splits_unexplained()
                    && unexplained_reads(site.depth, &site.allele_depths, gt);
                g.calibration.for_site(site.depth, indel, unexplained)
            },
        );
        let f = filter(&c, g.min_qual);
        // In the site's own allele numbering, before uncalled ALTs are dropped.
        let het_reads = match site_reads {
            Some(reads) if crate::phasing::phasable(&c, f) => het_reads(&reads[i], c.gt),
            _ => Vec::new(),
        };
        let (s, c) = if c.gt == (0, 0) {
            (site.clone(), c)
        } else {
            keep_called_alleles(site, &c)
        };
        let non_ref = other_depths.map(|other| {
            // Reads of the ALTs the genotype left out now support an unlisted allele.
            let dropped: u32 = site.allele_depths[1..].iter().sum::<u32>()
                - s.allele_depths[1..].iter().sum::<u32>();
            non_ref_allele(&c, &s.allele_depths, other[i] + dropped)
        });
        out.push(CallRecord {
            site: s,
            call: c,
            filter: f,
            non_ref,
            het_reads,
            phase: None,
        });
    }
    Ok(out)
}

/// Drop ALT alleles the genotype does not use, as `bcftools call` and GATK do: a listed but
/// uncalled ALT is noise to every downstream tool (split records of it look like calls).
/// PL keeps the genotypes over the remaining alleles, re-normalised; AD and VAF follow; REF and
/// ALTs lose the trailing bases they then all share. QUAL and GQ are unchanged.
pub fn keep_called_alleles(
    site: &Site,
    c: &crate::genotypes::Call,
) -> (Site, crate::genotypes::Call) {
    use crate::genotypes::genotype_index;
    let mut kept: Vec<usize> = vec![0, c.gt.0, c.gt.1];
    kept.sort_unstable();
    kept.dedup();
    let new_index = |old: usize| {
        kept.iter()
            .position(|&k| k == old)
            .expect("bug: allele kept")
    };
    let mut pl = Vec::new();
    if c.ploidy == 1 {
        pl.extend(kept.iter().map(|&k| c.pl[k]));
    } else {
        for b in 0..kept.len() {
            for a in 0..=b {
                pl.push(c.pl[genotype_index(kept[a], kept[b])]);
            }
        }
    }
    let min = pl.iter().copied().min().unwrap_or(0);
    pl.iter_mut().for_each(|x| *x -= min);
    let mut s = site.clone();
    s.alts = kept[1..]
        .iter()
        .map(|&k| site.alts[k - 1].clone())
        .collect();
    s.alt_alleles = kept[1..]
        .iter()
        .map(|&k| site.alt_alleles[k - 1].clone())
        .collect();
    s.allele_depths = kept.iter().map(|&k| site.allele_depths[k]).collect();
    while s.ref_allele.len() > 1
        && s.alt_alleles
            .iter()
            .all(|a| a.len() > 1 && a.last() == s.ref_allele.last())
    {
        s.ref_allele.pop();
        s.alt_alleles.iter_mut().for_each(|a| {
            a.pop();
        });
    }
    let gt = (new_index(c.gt.0), new_index(c.gt.1));
    (
        s,
        crate::genotypes::Call {
            gt,
            ploidy: c.ploidy,
            gq: c.gq,
            qual: c.qual,
            pl,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidates::AltKind;
    use crate::genotypes::Call;

    #[test]
    fn test_keep_called_alleles_drops_unused_alt_and_trims() {
        // REF GTTT; ALTs GT (del TT), GTT (del T), G (del TTT); called 0/1.
        let site = Site {
            contig: "c".into(),
            pos: 9,
            ref_allele: b"GTTT".to_vec(),
            alts: vec![AltKind::Del(2), AltKind::Del(1), AltKind::Del(3)],
            alt_alleles: vec![b"GT".to_vec(), b"GTT".to_vec(), b"G".to_vec()],
            depth: 26,
            allele_depths: vec![5, 11, 3, 2],
            informative_end: 14,
        };
        // 10 genotypes over 4 alleles; only the ones over {0, 1} matter: 0/0, 0/1, 1/1.
        let pl = vec![22, 0, 26, 49, 27, 59, 47, 25, 74, 57];
        let c = Call {
            gt: (0, 1),
            ploidy: 2,
            gq: 19,
            qual: 22.5,
            pl,
        };
        let (s, k) = keep_called_alleles(&site, &c);
        assert_eq!(s.ref_allele, b"GTT");
        assert_eq!(s.alt_alleles, vec![b"G".to_vec()]);
        assert_eq!(s.allele_depths, vec![5, 11]);
        assert_eq!(k.gt, (0, 1));
        assert_eq!(k.pl, vec![22, 0, 26]);
        assert_eq!((k.gq, k.qual), (19, 22.5));
    }

    #[test]
    fn test_keep_called_alleles_renumbers_het_alt_alt() {
        // ALTs A, C, T; called 1/3 -> alleles {0, 1, 3} become 0, 1, 2 and GT 1/2.
        let site = Site {
            contig: "c".into(),
            pos: 0,
            ref_allele: b"G".to_vec(),
            alts: vec![AltKind::Snv(b'A'), AltKind::Snv(b'C'), AltKind::Snv(b'T')],
            alt_alleles: vec![b"A".to_vec(), b"C".to_vec(), b"T".to_vec()],
            depth: 20,
            allele_depths: vec![0, 9, 2, 9],
            informative_end: 1,
        };
        // VCF order over 4 alleles: 00 01 11 02 12 22 03 13 23 33
        let pl = vec![90, 40, 50, 80, 70, 99, 45, 0, 60, 55];
        let c = Call {
            gt: (1, 3),
            ploidy: 2,
            gq: 30,
            qual: 90.0,
            pl,
        };
        let (s, k) = keep_called_alleles(&site, &c);
        assert_eq!(s.alt_alleles, vec![b"A".to_vec(), b"T".to_vec()]);
        assert_eq!(s.allele_depths, vec![0, 9, 9]);
        assert_eq!(k.gt, (1, 2));
        // new order 00 01 11 02 12 22 = old 00 01 11 03 13 33
        assert_eq!(k.pl, vec![90, 40, 50, 45, 0, 55]);
    }
}
