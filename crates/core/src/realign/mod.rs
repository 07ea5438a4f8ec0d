//! Stage: realign. Where reads disagree about indels or are soft-clipped together, the reads
//! are assembled into local haplotypes (a de Bruijn graph, as DeepVariant's realigner does) and
//! every read there is placed on its best haplotype, then mapped back to the reference through
//! that haplotype's alignment. Reads carrying one event then show it in one representation,
//! and events aligners clip instead of gapping (long insertions, deletions near read ends)
//! become visible to candidate finding.
//!
//! Submodules, in the order a window goes through them: `windows` (where to realign),
//! `assembly` (candidate haplotypes), `align` (each haplotype against the reference),
//! `placement` (each read against each haplotype, and back to the reference).
mod align;
mod assembly;
mod placement;
mod windows;

use std::collections::BTreeMap;

use crate::reads::{AlignedRead, Indel};
pub use align::{align_to_ref, Col};
pub use assembly::assemble;
use placement::{compose, own_cost, placements, Placed};
pub use windows::active_windows;
use windows::window_segment;

/// Realignment settings.
#[derive(Debug, Clone)]
pub struct RealignParams {
    /// Realign at all.
    pub enabled: bool,
    /// Bases below this quality do not enter k-mers.
    pub min_kmer_baseq: u8,
    /// Read k-mer transitions seen fewer times than this are dropped as errors.
    pub min_edge_count: u32,
    /// Smallest k tried; larger k (in `k_step`s up to `k_max`) until the graph has no cycle.
    pub k_min: usize,
    /// Largest k tried.
    pub k_max: usize,
    /// Step between the k tried.
    pub k_step: usize,
    /// A graph with more source-to-sink paths than this is not used.
    pub max_paths: usize,
    /// Haplotypes kept besides the reference, most read support first.
    pub max_haplotypes: usize,
    /// Reference added on each side of the evidence of a window.
    pub pad: u64,
    /// Windows longer than this are left as aligned.
    pub max_window: u64,
}

impl Default for RealignParams {
    fn default() -> Self {
        Self {
            enabled: true,
            min_kmer_baseq: 15,
            min_edge_count: 2,
            k_min: 11,
            k_max: 101,
            k_step: 2,
            max_paths: 64,
            max_haplotypes: 8,
            pad: 20,
            max_window: 500,
        }
    }
}

/// Reads whose best haplotype leaves mismatches costing more than this (sum of their base
/// qualities, each capped at 40) keep their alignment.
pub const MAX_REALIGN_COST: u32 = 100;
/// Cost of one gap in a read's alignment, above any one mismatch (qualities are capped at 40):
/// an SNV is not re-explained as a shifted repeat unit.
const GAP_COST: u32 = 45;

/// The window's reference with the read's indels inside it applied (its bases otherwise
/// ignored), when it has any and they all lie inside the window.
fn cigar_haplotype(r: &AlignedRead, ref_w: &[u8], ws: u64) -> Option<Vec<u8>> {
    let we = ws + ref_w.len() as u64;
    if r.indels.is_empty()
        || r.indels
            .iter()
            .any(|e| e.anchor() < ws || e.anchor() + 1 >= we)
    {
        return None;
    }
    let mut h = Vec::with_capacity(ref_w.len() + 16);
    let mut next = 0usize;
    for e in &r.indels {
        let a = (e.anchor() - ws) as usize;
        if a + 1 < next {
            return None;
        }
        h.extend_from_slice(&ref_w[next..=a]);
        next = a + 1;
        match e {
            Indel::Del { len, .. } => next += *len as usize,
            Indel::Ins { seq, .. } => {
                let codes: Vec<u8> = seq.iter().map(|&c| crate::reads::base_code(c)).collect();
                if codes.iter().any(|&c| c > 3) {
                    return None;
                }
                h.extend(codes);
            }
        }
        if next > ref_w.len() {
            return None;
        }
    }
    h.extend_from_slice(&ref_w[next..]);
    Some(h)
}

/// Haplotypes of a window: the assembled ones (or the reference alone if assembly failed),
/// then gapped alignments that at least two reads agree on. A graph can lose a path (too few
/// error-free k-mers at the k that avoids cycles in a repeat), and a haplotype lost would have
/// its reads realigned away from an event they show.
fn window_haplotypes<'a>(
    ref_w: &[u8],
    segments: &[(&[u8], &[u8])],
    near: impl Iterator<Item = &'a AlignedRead>,
    ws: u64,
    p: &RealignParams,
) -> Vec<Vec<u8>> {
    let assembled = assemble(ref_w, segments, p);
    let n_assembled = assembled.as_ref().map_or(0, Vec::len);
    let mut haps = assembled.unwrap_or_else(|| vec![ref_w.to_vec()]);
    let mut from_reads: BTreeMap<Vec<u8>, u32> = BTreeMap::new();
    for r in near {
        if let Some(h) = cigar_haplotype(r, ref_w, ws) {
            *from_reads.entry(h).or_default() += 1;
        }
    }
    for (h, n) in from_reads {
        if n >= p.min_edge_count && !haps.contains(&h) {
            haps.push(h);
        }
    }
    log::trace!(
        "realign at {ws}: {n_assembled} assembled + {} read haplotypes",
        haps.len() - n_assembled.max(1)
    );
    haps
}

/// Haplotypes reads are moved to: the reference first, then those at least `min_edge_count`
/// reads fit better than every other, most such reads first. Inside a repeat most reads fit
/// several equally; counting those would keep haplotypes no read tells apart.
fn kept_haplotypes(
    placements: &[Vec<Option<(u32, usize)>>],
    ref_hap: usize,
    p: &RealignParams,
) -> Vec<usize> {
    let n = placements.first().map_or(0, Vec::len);
    let mut support = vec![0u32; n];
    for pl in placements {
        let mut costs: Vec<(u32, usize)> = pl
            .iter()
            .enumerate()
            .filter_map(|(h, x)| x.map(|(c, _)| (c, h)))
            .collect();
        costs.sort_unstable();
        match costs[..] {
            [(c, h), (c2, _), ..] if c < c2 => support[h] += 1,
            [(_, h)] => support[h] += 1,
            _ => {}
        }
    }
    let mut kept: Vec<usize> = (0..n)
        .filter(|&h| h != ref_hap && support[h] >= p.min_edge_count)
        .collect();
    kept.sort_by_key(|&h| (std::cmp::Reverse(support[h]), h));
    kept.truncate(p.max_haplotypes);
    log::trace!("realign: support {support:?}, kept {kept:?} besides the reference {ref_hap}");
    if !kept.is_empty() {
        kept.insert(0, ref_hap);
    }
    kept
}

/// `r` moved onto its best kept haplotype, if that explains it better than its own alignment
/// (cost from `own`, computed only when some haplotype fits). Only a better explanation moves
/// a read: a haplotype the graph missed (it can join a true SNV with a stutter indel into one
/// path) must not pull reads onto a worse one.
fn moved(
    r: &AlignedRead,
    pl: &[Option<(u32, usize)>],
    kept: &[usize],
    padded: &[Placed],
    own: impl FnOnce() -> u32,
) -> Option<AlignedRead> {
    let min = kept.iter().filter_map(|&h| pl[h].map(|(c, _)| c)).min()?;
    if min >= own() {
        return None;
    }
    // A read ending inside a repeat fits several haplotypes equally: it keeps its own
    // alignment when that is one of them, so no event is invented at its end.
    let mut first = None;
    for &h in kept {
        let Some((c, o)) = pl[h] else { continue };
        if c != min {
            continue;
        }
        let Some(new) = compose(r, &padded[h].cols, &padded[h].col_of, o) else {
            continue;
        };
        if (new.start, &new.bases, &new.indels) == (r.start, &r.bases, &r.indels) {
            return None;
        }
        first.get_or_insert(new);
    }
    first
}

/// Realign `reads` (sorted by start) in the active windows within `[from, to)`; `ref_seq`
/// (ASCII) starts at `ref_start` and must extend past the windows by a read length for reads
/// to be placed. Returns how many reads changed alignment; `reads` stay sorted by start.
///
/// Long reads ([`AlignedRead::long`]) are left as aligned and give no evidence here: the
/// realigner places whole reads on haplotypes a few hundred bases long, and a long read is
/// held only as a slice, so its placement would depend on where the slice was cut. DeepVariant
/// likewise turns realignment off for its PacBio and ONT models.
pub fn realign_reads(
    reads: &mut Vec<AlignedRead>,
    ref_seq: &[u8],
    ref_start: u64,
    from: u64,
    to: u64,
    p: &RealignParams,
) -> usize {
    if !p.enabled || reads.is_empty() {
        return 0;
    }
    if reads.iter().any(|r| r.long) {
        let (mut short, long): (Vec<_>, Vec<_>) =
            std::mem::take(reads).into_iter().partition(|r| !r.long);
        let changed = realign_short_reads(&mut short, ref_seq, ref_start, from, to, p);
        // Stable: at one start, the short reads first, each group in its own order.
        short.extend(long);
        short.sort_by_key(|r| r.start);
        *reads = short;
        return changed;
    }
    realign_short_reads(reads, ref_seq, ref_start, from, to, p)
}

/// [`realign_reads`] where no read is long.
fn realign_short_reads(
    reads: &mut [AlignedRead],
    ref_seq: &[u8],
    ref_start: u64,
    from: u64,
    to: u64,
    p: &RealignParams,
) -> usize {
    if reads.is_empty() {
        return 0;
    }
    let longest = reads.iter().map(|r| r.seq.len() as u64).max().unwrap_or(0);
    let ref_end = ref_start + ref_seq.len() as u64;
    let code = |pos: u64| crate::reads::base_code(ref_seq[(pos - ref_start) as usize]);
    let mut changed = 0;
    for (ws, we) in active_windows(
        reads,
        ref_seq,
        ref_start,
        from.max(ref_start),
        to.min(ref_end),
        p,
    ) {
        let ref_w: Vec<u8> = (ws..we).map(code).collect();
        let a = reads.partition_point(|r| r.start + longest < ws);
        let b = reads.partition_point(|r| r.start < we + longest);
        let near: Vec<usize> = (a..b)
            .filter(|&i| {
                let r = &reads[i];
                r.start < we + r.clip_left as u64
                    && r.end() + r.clip_right as u64 > ws
                    && !r.seq.is_empty()
            })
            .collect();
        let segments: Vec<(&[u8], &[u8])> = near
            .iter()
            .filter_map(|&i| {
                let r = &reads[i];
                let (lo, hi) = window_segment(r, ws, we)?;
                Some((&r.seq[lo..hi], &r.seq_qual[lo..hi]))
            })
            .collect();
        let haps = window_haplotypes(&ref_w, &segments, near.iter().map(|&i| &reads[i]), ws, p);
        if haps.len() < 2 {
            continue;
        }
        // Each haplotype padded with reference on both sides, so whole reads can be placed.
        let flank = longest + 64;
        let (ls, re) = (
            ws.saturating_sub(flank).max(ref_start),
            (we + flank).min(ref_end),
        );
        let padded: Vec<Placed> = haps
            .iter()
            .map(|h| {
                let seq: Vec<u8> = (ls..ws)
                    .map(code)
                    .chain(h.iter().copied())
                    .chain((we..re).map(code))
                    .collect();
                let cols: Vec<Col> = (ls..ws)
                    .map(Col::M)
                    .chain(align_to_ref(&ref_w, h, ws))
                    .chain((we..re).map(Col::M))
                    .collect();
                Placed::new(seq, cols, h.len() as i64 - ref_w.len() as i64)
            })
            .collect();
        let ref_hap = haps
            .iter()
            .position(|h| *h == ref_w)
            .expect("bug: reference path");
        let placements: Vec<Vec<Option<(u32, usize)>>> = near
            .iter()
            .map(|&i| placements(&reads[i], &padded, ls, ws, we))
            .collect();
        let kept = kept_haplotypes(&placements, ref_hap, p);
        if kept.is_empty() {
            continue;
        }
        for (&i, pl) in near.iter().zip(&placements) {
            let own = || own_cost(&reads[i], &code, ref_start, ref_end);
            if let Some(new) = moved(&reads[i], pl, &kept, &padded, own) {
                changed += 1;
                reads[i] = new;
            }
        }
    }
    reads.sort_by_key(|r| r.start);
    changed
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidates::{find_sites, AltKind, CandidateParams, Pileup};
    use crate::reads::{base_code, test_read};

    /// A fixed pseudo-random sequence: no short repeats for the assembler to trip on.
    pub(crate) fn random_seq(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                b"ACGT"[(x >> 62) as usize]
            })
            .collect()
    }

    /// A read of haplotype bases `hap[from..from + len]` aligned as its first `aligned` bases
    /// on the reference from `start` (ungapped), the rest soft-clipped.
    fn clipped_read(
        hap: &[u8],
        from: usize,
        len: usize,
        start: u64,
        aligned: usize,
    ) -> AlignedRead {
        let seq = std::str::from_utf8(&hap[from..from + aligned]).unwrap();
        let mut r = test_read(start, seq, vec![], from.is_multiple_of(2));
        r.seq = hap[from..from + len]
            .iter()
            .map(|&b| base_code(b))
            .collect();
        r.seq_qual = vec![30; len];
        r.clip_right = (len - aligned) as u32;
        r
    }

    #[test]
    fn test_clipped_insertion_is_realigned_and_found() {
        // A 30 bp insertion after reference position 149 that no read was aligned with: reads
        // from the left are clipped where it starts, reads from the right are clipped before
        // it (their aligned part starts after it).
        let refseq = random_seq(400, 11);
        let ins = random_seq(30, 99);
        let hap: Vec<u8> = [&refseq[..150], &ins[..], &refseq[150..]].concat();
        let mut reads = Vec::new();
        for from in (70..150).step_by(4) {
            // Left side: aligned up to the insertion, the rest clipped.
            reads.push(clipped_read(&hap, from, 80, from as u64, 150 - from));
        }
        for from in (100..180).step_by(4) {
            // Right side: bases before the insertion's end clipped, the rest aligned after it.
            let aligned_from = 180;
            if from + 80 <= aligned_from + 10 {
                continue;
            }
            let seq = std::str::from_utf8(&hap[aligned_from..from + 80]).unwrap();
            let mut r = test_read(150, seq, vec![], true);
            r.seq = hap[from..from + 80].iter().map(|&b| base_code(b)).collect();
            r.seq_qual = vec![30; 80];
            r.clip_left = (aligned_from - from) as u32;
            r.qidx = r.qidx.iter().map(|&q| q + r.clip_left).collect();
            reads.push(r);
        }
        for from in (60..260).step_by(10) {
            let seq = std::str::from_utf8(&refseq[from..from + 80]).unwrap();
            reads.push(test_read(from as u64, seq, vec![], false));
        }
        reads.sort_by_key(|r| r.start);
        let before = find_sites(
            "c",
            &Pileup::build(0, refseq.clone(), &reads, 10),
            &reads,
            0,
            400,
            &CandidateParams::default(),
        );
        assert!(before
            .iter()
            .all(|s| !s.alts.iter().any(|a| matches!(a, AltKind::Ins(_)))));
        let changed = realign_reads(&mut reads, &refseq, 0, 0, 400, &RealignParams::default());
        // Reads holding the whole insertion now show it (12 from the left, 10 from the right);
        // reads ending inside it stay clipped, as an aligner would leave them.
        assert_eq!(changed, 22);
        assert!(reads.windows(2).all(|w| w[0].start <= w[1].start));
        let p = Pileup::build(0, refseq.clone(), &reads, 10);
        let sites = find_sites("c", &p, &reads, 0, 400, &CandidateParams::default());
        let site = sites
            .iter()
            .find(|s| s.pos == 149)
            .expect("insertion candidate");
        assert_eq!(site.alts, vec![AltKind::Ins(ins.clone())]);
        assert_eq!(site.allele_depths[1], 22, "{:?}", site.allele_depths);
        // Reads of the reference stay as they were.
        assert!(
            reads
                .iter()
                .filter(|r| r.seq.len() == 80 && r.indels.is_empty())
                .count()
                >= 20
        );
    }
}
