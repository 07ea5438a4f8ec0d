//! Stage: reference confidence. How sure the reads make us that a position is homozygous
//! reference, for the gVCF's reference blocks: genotype likelihoods of REF against one
//! unspecified other allele (`<*>`), from every read over the position, as GATK's
//! reference-confidence model computes them ("REF vs any"), with each base weighed by its
//! own quality and its read's mapping quality.
//!
//! Each read over a position is one observation:
//! - a base at or above `--min-baseq` that matches the reference, or one that does not;
//!   its error rate is its base quality;
//! - an indel: a deletion over the position, or an insertion or deletion anchored at it.
//!   Its error rate depends on the tandem repeat that starts after the position, where
//!   polymerase slippage makes indel errors common ([`indel_error_phred`]);
//! - a soft clip of at least [`MIN_CLIP`] bases next to it (an insertion or a longer event
//!   the aligner clipped), with its own error rate;
//! - anything else (an `N`, a base under the quality floor, an `N` reference) tells nothing.
//!
//! With ε the observation's error rate, under REF it is seen with probability 1 − ε if it
//! shows the reference and ε (a mismatch: ε/3 for each other base, as GATK) if not; under
//! `<*>` the other way round. A read mapped wrongly (probability 10^(−MAPQ/10)) shows either
//! with the mean of the two, whatever the genotype. Genotypes R/R, R/N and N/N take the
//! product over reads of P(obs | R), the mean of P(obs | R) and P(obs | N), and P(obs | N).
//! GQ and PL follow from these likelihoods with a flat prior, as DeepVariant computes them
//! (`crates/core/src/gvcf.rs`): GQ is −10·log10 of 1 − P(R/R), so a position without reads, where each
//! genotype has probability 1/3, has GQ 2.
use crate::reads::{base_code, AlignedRead, Indel, DEL};

/// A soft clip at least this long counts as evidence of an event next to it (the same
/// length realignment treats as evidence, `realign::windows`).
pub const MIN_CLIP: u32 = 5;
/// Error rate (Phred) of an indel observation outside tandem repeats: GATK's default base
/// insertion and deletion quality. The held-out simulated reads show indel errors there at
/// 3e-6 per read (Phred 55); real libraries have more, so the floor stays at GATK's value.
pub const INDEL_ERROR_PHRED: u8 = 45;
/// Error rate (Phred) of a soft clip next to a homozygous-reference position: adapters,
/// low-quality ends and chimeric reads clip where there is no variant.
pub const CLIP_ERROR_PHRED: u8 = 20;
/// Base and mapping qualities are capped here (as the pileup caps them for its means).
const MAX_BQ: u8 = 40;
const MAX_MQ: usize = 60;
/// Largest error Phred in the table.
const MAX_Q: usize = 60;

/// log10 likelihoods of R/R, R/N and N/N at one position (N: any allele but the reference).
pub type Likelihoods = [f32; 3];

/// Error rate (Phred) of an indel observation at a position followed by a tandem repeat of
/// `len` bases with a `unit`-base motif (found by [`repeat_after`]); fitted on the held-out
/// simulated set `holdout_grch38` (35x, usual stutter). Per read, indel errors there were 1.3e-3 in 5 bp homopolymers,
/// 2.3e-3 at 10 bp and 2e-2 from 18 bp; 3e-4 in 5-copy dinucleotide repeats and 2.4e-3 from
/// 10 copies (`scripts/indel_error_rates.py`). Homopolymers: 1e-3 · e^(0.2 (len − 5)); 2-4 bp
/// motifs from 8 bp:
/// 2e-4 · e^(0.2 (len − 10)); each at most 5e-2 and at least [`INDEL_ERROR_PHRED`].
pub fn indel_error_phred(unit: usize, len: usize) -> u8 {
    let e = match (unit, len) {
        (1, l) if l >= 5 => 1e-3 * (0.2 * (l as f64 - 5.0)).exp(),
        (2..=4, l) if l >= 8 => 2e-4 * (0.2 * (l as f64 - 10.0)).exp(),
        _ => return INDEL_ERROR_PHRED,
    };
    ((-10.0 * e.min(5e-2).log10()).round() as u8).min(INDEL_ERROR_PHRED)
}

/// How far [`repeat_after`] follows a repeat: beyond the span where [`indel_error_phred`]
/// reaches its floor for every unit (25 bases for a homopolymer, 38 for units of 2-4).
pub const MAX_REPEAT_SPAN: usize = 64;

/// The longest tandem repeat (motif of 1 to 4 bases, at least two copies) that starts right
/// after `seq[i]`: (motif length, bases it spans), or (1, 1) when there is none. Indels
/// are left-aligned, so the anchor of an indel in a repeat is the base before it.
///
/// The span is followed at most [`MAX_REPEAT_SPAN`] bases: past that the indel error rate no
/// longer changes, and following a run of `N` (gaps of the reference, often megabases) to its
/// end at every base of it cost time quadratic in the run (a whole chromosome's gVCF took
/// many minutes).
pub fn repeat_after(seq: &[u8], i: usize) -> (usize, usize) {
    let mut best = (1, 1);
    let start = i + 1;
    let limit = seq.len().min(start + MAX_REPEAT_SPAN);
    for unit in 1..=4 {
        if start + unit > seq.len() {
            break;
        }
        let mut n = unit;
        while start + n < limit && seq[start + n] == seq[start + n - unit] {
            n += 1;
        }
        if n >= 2 * unit && n > best.1 {
            best = (unit, n);
        }
    }
    best
}

/// Per-read log10 likelihood terms for every observation, base quality and mapping quality.
pub struct RefModel {
    /// `[kind][q][mq]`: kind 0 = match, 1 = mismatch (q: base quality), 2 = an indel or a
    /// clip (q: its error rate).
    table: Vec<Likelihoods>,
}

impl Default for RefModel {
    fn default() -> Self {
        Self::new()
    }
}

impl RefModel {
    /// One model for the whole process (its table is built once).
    pub fn shared() -> &'static RefModel {
        static MODEL: std::sync::OnceLock<RefModel> = std::sync::OnceLock::new();
        MODEL.get_or_init(RefModel::new)
    }

    /// The model with the documented error rates.
    pub fn new() -> Self {
        let mut table = vec![[0f32; 3]; 3 * (MAX_Q + 1) * (MAX_MQ + 1)];
        for kind in 0..3 {
            for q in 0..=MAX_Q {
                let e = 10f64.powf(-(q as f64) / 10.0).min(0.75);
                let (p_ref, p_alt) = match kind {
                    0 => (1.0 - e, e / 3.0),
                    1 => (e / 3.0, 1.0 - e),
                    _ => (e, 1.0 - e),
                };
                for mq in 0..=MAX_MQ {
                    let m = 10f64.powf(-(mq as f64) / 10.0).min(1.0);
                    let wrong = (p_ref + p_alt) / 2.0;
                    let r = (1.0 - m) * p_ref + m * wrong;
                    let a = (1.0 - m) * p_alt + m * wrong;
                    table[Self::index(kind, q, mq)] = [
                        r.log10() as f32,
                        ((r + a) / 2.0).log10() as f32,
                        a.log10() as f32,
                    ];
                }
            }
        }
        Self { table }
    }

    /// Entries per mapping quality: three kinds of observation × every error Phred.
    const ROW: usize = 3 * (MAX_Q + 1);

    fn index(kind: usize, q: usize, mq: usize) -> usize {
        mq * Self::ROW + kind * (MAX_Q + 1) + q
    }

    /// Likelihoods at every position of `[from, to)` from `reads` (sorted by start, as the
    /// read stage gives them, after realignment and left-alignment). `ref_seq` starts at
    /// `ref_from` and covers `[from, to)` and the repeats after it. Bases under `min_baseq`
    /// are not evidence, as in the pileup.
    pub fn likelihoods(
        &self,
        reads: &[AlignedRead],
        from: u64,
        to: u64,
        ref_seq: &[u8],
        ref_from: u64,
        min_baseq: u8,
    ) -> Vec<Likelihoods> {
        let n = to.saturating_sub(from) as usize;
        let codes: Vec<u8> = ref_seq.iter().map(|&b| base_code(b)).collect();
        let ref_index = |pos: u64| {
            pos.checked_sub(ref_from)
                .map(|i| i as usize)
                .filter(|&i| i < codes.len())
        };
        // Per position of [from, to): the reference base code and the row offset of an
        // indel observation there (its error rate follows the repeat after it).
        let mut here = Vec::with_capacity(n);
        let mut indel_at = Vec::with_capacity(n);
        for pos in from..to {
            let (code, q) = match ref_index(pos) {
                Some(i) => {
                    let (unit, len) = repeat_after(&codes, i);
                    (codes[i], indel_error_phred(unit, len))
                }
                None => (4, INDEL_ERROR_PHRED),
            };
            here.push(code);
            indel_at.push(2 * (MAX_Q + 1) + q as usize);
        }
        let clip = 2 * (MAX_Q + 1) + CLIP_ERROR_PHRED as usize;
        let mut out = vec![[0f32; 3]; n];
        // Reads are sorted by start; none reaches further than the longest of them.
        let longest = reads
            .iter()
            .map(|r| r.bases.len() as u64)
            .max()
            .unwrap_or(0);
        let first = reads.partition_point(|r| r.start + longest < from);
        for r in &reads[first..] {
            if r.start > to || r.end() < from {
                continue;
            }
            let row = &self.table[Self::index(0, 0, (r.mapq as usize).min(MAX_MQ))..][..Self::ROW];
            // A left clip speaks for the base before the read.
            if r.clip_left >= MIN_CLIP && r.start > from && r.start <= to {
                let t = row[clip];
                let o = &mut out[(r.start - 1 - from) as usize];
                o.iter_mut().zip(t).for_each(|(x, y)| *x += y);
            }
            let lo = from.saturating_sub(r.start) as usize;
            let hi = (to.saturating_sub(r.start) as usize).min(r.bases.len());
            if lo >= hi {
                continue;
            }
            let j0 = (r.start + lo as u64 - from) as usize;
            let span = j0..j0 + (hi - lo);
            let last = r.bases.len() - 1;
            let clipped_right = r.clip_right >= MIN_CLIP;
            let mut anchors = r.indels.iter().map(Indel::anchor).peekable();
            let cells = r.bases[lo..hi]
                .iter()
                .zip(&r.quals[lo..hi])
                .zip(&here[span.clone()])
                .zip(&indel_at[span.clone()])
                .zip(&mut out[span]);
            for (k, ((((&b, &q), &rc), &indel), o)) in (lo..hi).zip(cells) {
                let mut indel_here = b == DEL;
                if anchors.peek().is_some() {
                    let pos = r.start + k as u64;
                    while let Some(a) = anchors.next_if(|&a| a <= pos) {
                        indel_here |= a == pos;
                    }
                }
                let at = if indel_here {
                    indel
                } else if clipped_right && k == last {
                    clip
                } else if b < 4 && q >= min_baseq && rc < 4 {
                    let q = q.min(MAX_BQ) as usize;
                    if b == rc {
                        q
                    } else {
                        MAX_Q + 1 + q
                    }
                } else {
                    continue;
                };
                let t = row[at];
                o[0] += t[0];
                o[1] += t[1];
                o[2] += t[2];
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {

    /// [`repeat_after`] without its span limit.
    fn repeat_after_unbounded(seq: &[u8], i: usize) -> (usize, usize) {
        let mut best = (1, 1);
        let start = i + 1;
        for unit in 1..=4 {
            if start + unit > seq.len() {
                break;
            }
            let mut n = unit;
            while start + n < seq.len() && seq[start + n] == seq[start + n - unit] {
                n += 1;
            }
            if n >= 2 * unit && n > best.1 {
                best = (unit, n);
            }
        }
        best
    }

    // The span limit changes no indel error rate: homopolymers, short tandem repeats and N
    // runs of every length up to far past the limit, in random flanks.
    #[test]
    fn test_repeat_span_limit_changes_no_indel_error_rate() {
        let mut x: u64 = 7;
        let mut rnd = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as usize
        };
        for motif in ["A", "AC", "ACG", "ACGT", "N", "AAC"] {
            for copies in [1, 2, 5, 12, 20, 30, 40, 80, 300] {
                let mut seq: Vec<u8> = (0..20).map(|_| b"ACGT"[rnd() % 4]).collect();
                seq.extend(motif.as_bytes().repeat(copies));
                seq.extend((0..20).map(|_| b"ACGT"[rnd() % 4]));
                let codes: Vec<u8> = seq.iter().map(|&b| base_code(b)).collect();
                for i in 0..codes.len() {
                    let (u1, l1) = repeat_after(&codes, i);
                    let (u2, l2) = repeat_after_unbounded(&codes, i);
                    assert_eq!(
                        indel_error_phred(u1, l1),
                        indel_error_phred(u2, l2),
                        "{motif} x {copies} at {i}"
                    );
                }
            }
        }
    }
    use super::*;
    use crate::reads::test_read as read;

    fn gap(l: &Likelihoods) -> f32 {
        // Phred of R/N relative to R/R: how much more likely hom-ref is than a het.
        10.0 * (l[0] - l[1])
    }

    #[test]
    fn test_clean_reads_favour_hom_ref_by_about_3_phred_each() {
        let refseq = b"ACGTACGTAC".to_vec();
        let reads: Vec<_> = (0..20)
            .map(|i| read(0, "ACGTACGTAC", vec![], i % 2 == 0))
            .collect();
        let l = RefModel::new().likelihoods(&reads, 0, 10, &refseq, 0, 10);
        for x in &l {
            assert!((gap(x) - 20.0 * 3.0103).abs() < 0.5, "{x:?}");
            assert!(x[2] < x[1]);
        }
    }

    #[test]
    fn test_mismatches_and_indels_lower_the_hom_ref_margin() {
        let refseq = b"ACGTACGTAC".to_vec();
        let mut reads: Vec<_> = (0..10)
            .map(|_| read(0, "ACGTACGTAC", vec![], false))
            .collect();
        let clean = RefModel::new().likelihoods(&reads, 0, 10, &refseq, 0, 10);
        reads.push(read(0, "ACTTACGTAC", vec![], false));
        reads.push(read(
            0,
            "ACGTA-GTAC",
            vec![Indel::Del { anchor: 4, len: 1 }],
            false,
        ));
        let l = RefModel::new().likelihoods(&reads, 0, 10, &refseq, 0, 10);
        // Position 2: one mismatch (quality 30 in test reads) among 12 reads.
        assert!(gap(&l[2]) < gap(&clean[2]) - 20.0, "{:?}", l[2]);
        // The deletion's anchor and the deleted base both see the indel.
        assert!(gap(&l[4]) < gap(&clean[4]) - 20.0);
        assert!(gap(&l[5]) < gap(&clean[5]) - 20.0);
        // Elsewhere the two extra reads only add support for REF.
        assert!(gap(&l[8]) > gap(&clean[8]));
    }

    #[test]
    fn test_repeat_after_and_its_indel_error() {
        let codes = |s: &str| s.bytes().map(base_code).collect::<Vec<u8>>();
        // After position 0: seven As.
        assert_eq!(repeat_after(&codes("GAAAAAAAC"), 0), (1, 7));
        // After position 1: (CA) x 4 and a C.
        assert_eq!(repeat_after(&codes("TGCACACACAC"), 1), (2, 9));
        assert_eq!(repeat_after(&codes("ACGT"), 0), (1, 1));
        assert_eq!(indel_error_phred(1, 1), INDEL_ERROR_PHRED);
        assert_eq!(indel_error_phred(1, 5), 30);
        assert_eq!(indel_error_phred(1, 10), 26);
        assert_eq!(indel_error_phred(1, 40), 13);
        assert_eq!(indel_error_phred(2, 10), 37);
        // A stutter read in a homopolymer costs hom-ref less than one elsewhere.
        let refseq = b"GAAAAAAAAAACGTCGATCG".to_vec();
        let mut reads: Vec<_> = (0..10)
            .map(|_| read(0, "GAAAAAAAAAACGTCGATCG", vec![], false))
            .collect();
        reads.push(read(
            0,
            "G-AAAAAAAAACGTCGATCG",
            vec![Indel::Del { anchor: 0, len: 1 }],
            false,
        ));
        reads.push(read(
            0,
            "GAAAAAAAAAACGTC-ATCG",
            vec![Indel::Del { anchor: 14, len: 1 }],
            false,
        ));
        let l = RefModel::new().likelihoods(&reads, 0, 20, &refseq, 0, 10);
        assert!(gap(&l[0]) > gap(&l[14]) + 10.0, "{:?} {:?}", l[0], l[14]);
    }

    #[test]
    fn test_no_reads_no_preference() {
        let l = RefModel::new().likelihoods(&[], 0, 5, b"ACGTA", 0, 10);
        assert!(l.iter().all(|x| *x == [0.0, 0.0, 0.0]));
    }

    #[test]
    fn test_low_mapping_quality_reads_say_little() {
        let refseq = b"ACGTACGTAC".to_vec();
        let mut r = read(0, "ACTTACGTAC", vec![], false);
        r.mapq = 3;
        let low = RefModel::new().likelihoods(&[r.clone()], 0, 10, &refseq, 0, 10);
        r.mapq = 60;
        let high = RefModel::new().likelihoods(&[r], 0, 10, &refseq, 0, 10);
        assert!(gap(&low[2]).abs() < gap(&high[2]).abs() / 5.0);
    }
}
