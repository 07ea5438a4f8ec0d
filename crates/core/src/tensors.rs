//! Stage: tensors. One fixed-size window of pileup features per (site, alt allele); the layout
//! is versioned and written into each model's sidecar, which is checked when a model loads.
use crate::candidates::{AltKind, Pileup, ReadAllele, Site};
use crate::reads::{base_code, AlignedRead};

/// Layout version; bump whenever channels, their order or their scaling change.
pub const TENSOR_VERSION: u32 = 7;
/// Positions per window: the anchor and 16 on each side.
pub const WINDOW: usize = 33;
/// Index of the anchor within the window.
pub const CENTER: usize = WINDOW / 2;

/// Channel names, in order. Per-strand counts are divided by the depth at the anchor.
pub const CHANNELS: &[&str] = &[
    "fwd_A",
    "fwd_C",
    "fwd_G",
    "fwd_T",
    "fwd_ins",
    "fwd_del",
    "fwd_support_alt",
    "fwd_support_other",
    "rev_A",
    "rev_C",
    "rev_G",
    "rev_T",
    "rev_ins",
    "rev_del",
    "rev_support_alt",
    "rev_support_other",
    "ref_A",
    "ref_C",
    "ref_G",
    "ref_T",
    "mean_baseq",
    "mean_mapq",
    "alt_span",
    "depth",
    "indel_length",
    "alt_reads_mismatch",
    "other_reads_mismatch",
    "soft_clip",
    "fwd_support_ref",
    "rev_support_ref",
    "informative_alt_fraction",
    "alt_mapq_delta",
    "alt_baseq_delta",
    "repeat_tract",
    "repeat_unit",
    "depth_ratio",
];
/// Channels per position.
pub const N_CHANNELS: usize = CHANNELS.len();
/// Values in one example.
pub const EXAMPLE_LEN: usize = WINDOW * N_CHANNELS;

/// How the channels are scaled, for the model sidecar.
pub const ENCODING: &str = "per-strand A,C,G,T counts (BQ >= min-baseq) divided by all such bases at \
the position; per-strand insertion-after and deletion counts divided by the read depth at the anchor; \
per-strand reads supporting this alt / another non-ref allele / REF, spread over the positions they \
cover, divided by the reads assigned any allele at the site; ref one-hot; mean min(BQ,40)/40; mean min(MAPQ,60)/60; 1 over the positions the alt changes; \
depth/100; (len(ALT)-len(REF))/10 clamped to [-2,2]; mismatching bases (BQ >= min-baseq, off the \
anchor) on reads supporting this alt, and on all other informative reads, divided by depth; reads \
whose soft clip starts at the position, divided by depth; reads supporting this alt divided by reads \
assigned any allele (constant over the window); mean min(MAPQ,60)/60 of reads supporting this alt \
minus that of all reads assigned an allele, and the same for min(BQ,40)/40 of their base at the \
anchor (both constant; 0 without supporting reads); for an indel, the reference bases after the \
anchor that repeat its minimal unit, /20 clamped to 2, and that unit's length /6 clamped to 1 \
(both constant; 0 for SNVs); read depth divided by the median depth of the covered positions \
of the fixed 25 kb genome tile holding the anchor (from position k * 25000), /2 clamped to 2; \
window of 33 reference positions centred on the VCF anchor. Sites with several alts also get one example per pair of alts, read support counting \
either alt of the pair and length, span and repeat features from the first";

/// The allele sets a site gets one example each for: every alt alone, then (at sites with
/// several alts) every pair of alts taken as one allele. A pair's example answers how many
/// copies of either alt the sample has; 2 rules out REF, which single-alt examples cannot see
/// when each alt alone looks like a het (a 1/2 site). DeepVariant does the same.
pub fn allele_sets(n_alts: usize) -> Vec<Vec<usize>> {
    let mut sets: Vec<Vec<usize>> = (0..n_alts).map(|k| vec![k]).collect();
    for a in 0..n_alts {
        for b in a + 1..n_alts {
            sets.push(vec![a, b]);
        }
    }
    sets
}

/// `allele_sets(n_alts).len()`, without building them.
pub fn allele_set_count(n_alts: usize) -> usize {
    n_alts + n_alts * n_alts.saturating_sub(1) / 2
}

/// Write the example for the alts `set` of `site` into `out` (length [`EXAMPLE_LEN`], row-major
/// `[position][channel]`). Reads carrying any alt of the set support "the alt"; length, span
/// and repeat features are those of the set's first alt.
/// `assigned` holds each read's allele at the site (from [`crate::candidates::assign_reads`]);
/// `typical_depth` is the median depth of the site's genome tile
/// ([`crate::shard_stages::tile_depth`]).
// Each argument is a distinct input of one example; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn encode(
    site: &Site,
    set: &[usize],
    pileup: &Pileup,
    reads: &[AlignedRead],
    assigned: &[Option<ReadAllele>],
    min_baseq: u8,
    typical_depth: u16,
    out: &mut [f32],
) {
    debug_assert_eq!(out.len(), EXAMPLE_LEN);
    let k = set[0];
    let in_set = |a: &ReadAllele| matches!(a, ReadAllele::Alt(j) if set.contains(j));
    out.fill(0.0);
    let lo = site.pos as i64 - CENTER as i64;
    let center_depth = pileup.index(site.pos).map_or(0, |i| pileup.depth[i]).max(1) as f32;
    let norm = 1.0 / center_depth;
    for w in 0..WINDOW {
        let pos = lo + w as i64;
        if pos < 0 {
            continue;
        }
        let row = &mut out[w * N_CHANNELS..(w + 1) * N_CHANNELS];
        let Some(i) = pileup.index(pos as u64) else {
            continue;
        };
        // Base counts as fractions of the bases that pass the quality floor here, so that
        // data with many low-quality bases looks like data with few.
        let counted: u32 = (0..2)
            .flat_map(|s| (0..4).map(move |c| (s, c)))
            .map(|(s, c)| pileup.counts[i][s][c] as u32)
            .sum();
        let base_norm = 1.0 / counted.max(1) as f32;
        for s in 0..2 {
            for c in 0..4 {
                row[s * 8 + c] = pileup.counts[i][s][c] as f32 * base_norm;
            }
            for c in 4..6 {
                row[s * 8 + c] = pileup.counts[i][s][c] as f32 * norm;
            }
        }
        let rb = base_code(pileup.ref_seq[i]);
        if rb < 4 {
            row[16 + rb as usize] = 1.0;
        }
        if pileup.bq_n[i] > 0 {
            row[20] = pileup.bq_sum[i] as f32 / pileup.bq_n[i] as f32 / 40.0;
        }
        if pileup.depth[i] > 0 {
            row[21] = pileup.mq_sum[i] as f32 / pileup.depth[i] as f32 / 60.0;
        }
        row[23] = pileup.depth[i] as f32 / 100.0;
        row[35] = (pileup.depth[i] as f32 / typical_depth.max(1) as f32 / 2.0).min(2.0);
    }
    // Reads carrying this alt / another non-ref allele, spread over the positions they cover;
    // the mismatches each group carries elsewhere (reads from a paralog carry several).
    // Support channels count reads as fractions of those assigned an allele.
    let informative = assigned.iter().filter(|a| a.is_some()).count();
    let support_norm = 1.0 / informative.max(1) as f32;
    for (r, allele) in reads.iter().zip(assigned) {
        let s = r.reverse as usize;
        let (ch, mm_ch) = match allele {
            Some(a) if in_set(a) => (Some(s * 8 + 6), 25),
            Some(ReadAllele::Alt(_)) | Some(ReadAllele::Other) => (Some(s * 8 + 7), 26),
            Some(ReadAllele::Ref) => (Some(28 + s), 26),
            None => (None, 26),
        };
        let a = (r.start as i64 - lo).max(0);
        let b = (r.end() as i64 - lo).min(WINDOW as i64);
        for w in a..b {
            let wu = w as usize;
            if let Some(ch) = ch {
                out[wu * N_CHANNELS + ch] += support_norm;
            }
            let pos = (lo + w) as u64;
            if wu != CENTER {
                if let Some((base, q)) = r.base_at(pos) {
                    if base < 4 && q >= min_baseq && base != base_code(pileup.ref_base(pos)) {
                        out[wu * N_CHANNELS + mm_ch] += norm;
                    }
                }
            }
        }
        if r.clip_left > 0 && (0..WINDOW as i64).contains(&(r.start as i64 - lo)) {
            out[(r.start as i64 - lo) as usize * N_CHANNELS + 27] += norm;
        }
        let last = r.end() as i64 - 1 - lo;
        if r.clip_right > 0 && (0..WINDOW as i64).contains(&last) {
            out[last as usize * N_CHANNELS + 27] += norm;
        }
    }
    let (span_from, span_to, len_diff) = match &site.alts[k] {
        AltKind::Snv(_) => (CENTER, CENTER + 1, 0i64),
        AltKind::Del(l) => (
            CENTER + 1,
            (CENTER + 1 + *l as usize).min(WINDOW),
            -(*l as i64),
        ),
        AltKind::Ins(s) => (CENTER, CENTER + 2, s.len() as i64),
    };
    let len_feature = (len_diff as f32 / 10.0).clamp(-2.0, 2.0);
    let this_alt = assigned.iter().flatten().filter(|a| in_set(a)).count();
    let alt_fraction = if informative > 0 {
        this_alt as f32 / informative as f32
    } else {
        0.0
    };
    // Reads from a paralog or with a systematic error tend to have lower MAPQ / BQ than the
    // other reads at the site; relative values do not depend on the data's overall levels.
    let (mut mq, mut bq, mut n) = ([0f32; 2], [0f32; 2], [0f32; 2]);
    for (r, a) in reads.iter().zip(assigned) {
        let Some(a) = a else { continue };
        let q = r.base_at(site.pos).map_or(0, |(_, q)| q.min(40)) as f32 / 40.0;
        let m = r.mapq.min(60) as f32 / 60.0;
        for g in 0..2 {
            if g == 0 || in_set(a) {
                mq[g] += m;
                bq[g] += q;
                n[g] += 1.0;
            }
        }
    }
    let (mq_delta, bq_delta) = if n[1] > 0.0 {
        (mq[1] / n[1] - mq[0] / n[0], bq[1] / n[1] - bq[0] / n[0])
    } else {
        (0.0, 0.0)
    };
    // Stutter grows with the length of the repeat an indel sits in, which can reach far
    // beyond the window's 16 bases of reference on each side.
    let (tract, unit) = repeat_context(pileup, site.pos, &site.alts[k]);
    let tract_feature = (tract as f32 / 20.0).min(2.0);
    let unit_feature = (unit as f32 / 6.0).min(1.0);
    for w in 0..WINDOW {
        out[w * N_CHANNELS + 33] = tract_feature;
        out[w * N_CHANNELS + 34] = unit_feature;
        out[w * N_CHANNELS + 24] = len_feature;
        out[w * N_CHANNELS + 30] = alt_fraction;
        out[w * N_CHANNELS + 31] = mq_delta;
        out[w * N_CHANNELS + 32] = bq_delta;
        if (span_from..span_to).contains(&w) {
            out[w * N_CHANNELS + 22] = 1.0;
        }
    }
}

/// Reference bases after the anchor at `pos` that repeat the minimal unit of an indel, and
/// that unit's length; `(0, 0)` for an SNV. Indels are left-aligned, so the repeat they can
/// slide in starts right after the anchor.
pub fn repeat_context(pileup: &Pileup, pos: u64, alt: &AltKind) -> (u64, usize) {
    let seq: Vec<u8> = match alt {
        AltKind::Snv(_) => return (0, 0),
        AltKind::Del(l) => (1..=*l as u64).map(|d| pileup.ref_base(pos + d)).collect(),
        AltKind::Ins(s) => s.to_ascii_uppercase(),
    };
    let unit = (1..=seq.len())
        .find(|&p| (p..seq.len()).all(|i| seq[i] == seq[i % p]))
        .unwrap_or(seq.len());
    let end = crate::candidates::repeat_end(pileup, pos, &seq[..unit]);
    (end - pos - 1, unit)
}

/// The tensor spec as JSON, for make-examples output and model sidecars.
pub fn spec_json() -> serde_json::Value {
    serde_json::json!({
        "tensor_version": TENSOR_VERSION,
        "window": WINDOW,
        "channels": CHANNELS,
        "shape": [WINDOW, N_CHANNELS],
        "encoding": ENCODING,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidates::{find_sites, CandidateParams};
    use crate::reads::test_read as read;

    #[test]
    fn test_pair_examples_count_reads_of_either_alt() {
        assert_eq!(
            allele_sets(3),
            vec![
                vec![0],
                vec![1],
                vec![2],
                vec![0, 1],
                vec![0, 2],
                vec![1, 2]
            ]
        );
        assert_eq!(allele_sets(1), vec![vec![0]]);
        for n in 0..5 {
            assert_eq!(allele_set_count(n), allele_sets(n).len());
        }
        // 3 reads G>T at pos 2, 2 reads delete pos 3 (anchor 2), 3 reference reads.
        let refseq = b"ACGTACGTAAAAAAAAAAAAAAAAAAAAAAAA".to_vec();
        let r = String::from_utf8(refseq.clone()).unwrap();
        let snv = format!("ACT{}", &r[3..]);
        let del = format!("ACG-{}", &r[4..]);
        let mut reads = Vec::new();
        for _ in 0..3 {
            reads.push(read(0, &snv, vec![], false));
            reads.push(read(0, &r, vec![], true));
        }
        for _ in 0..2 {
            let d = crate::reads::Indel::Del { anchor: 2, len: 1 };
            reads.push(read(0, &del, vec![d], true));
        }
        let p = Pileup::build(0, refseq, &reads, 10);
        let sites = find_sites("c", &p, &reads, 0, 8, &CandidateParams::default());
        assert_eq!(sites[0].alts.len(), 2);
        let assigned = crate::candidates::assign_reads(&sites[0], &p, &reads, 10);
        let frac = |set: &[usize]| {
            let mut x = vec![0f32; EXAMPLE_LEN];
            encode(&sites[0], set, &p, &reads, &assigned, 10, 4, &mut x);
            let c = CHANNELS
                .iter()
                .position(|n| *n == "informative_alt_fraction")
                .unwrap();
            x[CENTER * N_CHANNELS + c]
        };
        assert_eq!(frac(&[0]), 3.0 / 8.0);
        assert_eq!(frac(&[1]), 2.0 / 8.0);
        assert_eq!(frac(&[0, 1]), 5.0 / 8.0);
    }

    #[test]
    fn test_repeat_context() {
        // anchor G at 2, then CACACA, then T.
        let p = Pileup::build(0, b"AAGCACACATTT".to_vec(), &[], 10);
        assert_eq!(repeat_context(&p, 2, &AltKind::Del(2)), (6, 2));
        assert_eq!(repeat_context(&p, 2, &AltKind::Del(4)), (6, 2));
        assert_eq!(repeat_context(&p, 2, &AltKind::Ins(b"ca".to_vec())), (6, 2));
        // An insertion unrelated to the following bases sits in no repeat.
        assert_eq!(repeat_context(&p, 2, &AltKind::Ins(b"GG".to_vec())), (0, 1));
        // CAC has period 2 as a string: still the CA repeat.
        assert_eq!(repeat_context(&p, 2, &AltKind::Del(3)), (6, 2));
        // ACG does not repeat after it: the tract is the deleted bases alone.
        let q = Pileup::build(0, b"TACGTTT".to_vec(), &[], 10);
        assert_eq!(repeat_context(&q, 0, &AltKind::Del(3)), (3, 3));
        // T homopolymer after the anchor at 8 (A): delete one T.
        assert_eq!(repeat_context(&p, 8, &AltKind::Del(1)), (3, 1));
        assert_eq!(repeat_context(&p, 8, &AltKind::Snv(b'C')), (0, 0));
    }

    #[test]
    fn test_encode_het_snv() {
        // 40 bp reference; SNV A>G at pos 20 on 2 forward reads; 2 reverse reads are ref.
        let mut refseq = vec![b'A'; 40];
        refseq[21] = b'C';
        let mut alt = String::from_utf8(refseq.clone()).unwrap();
        alt.replace_range(20..21, "G");
        let refs = String::from_utf8(refseq.clone()).unwrap();
        let reads = vec![
            read(0, &alt, vec![], false),
            read(0, &alt, vec![], false),
            read(0, &refs, vec![], true),
            read(0, &refs, vec![], true),
        ];
        let p = Pileup::build(0, refseq, &reads, 10);
        let sites = find_sites("c", &p, &reads, 0, 40, &CandidateParams::default());
        assert_eq!(sites.len(), 1);
        let mut x = vec![0f32; EXAMPLE_LEN];
        let assigned = crate::candidates::assign_reads(&sites[0], &p, &reads, 10);
        encode(&sites[0], &[0], &p, &reads, &assigned, 10, 4, &mut x);
        let at =
            |w: usize, c: &str| x[w * N_CHANNELS + CHANNELS.iter().position(|n| *n == c).unwrap()];
        assert_eq!(at(CENTER, "fwd_G"), 0.5);
        assert_eq!(at(CENTER, "rev_A"), 0.5);
        assert_eq!(at(CENTER, "fwd_support_alt"), 0.5);
        assert_eq!(at(0, "fwd_support_alt"), 0.5);
        assert_eq!(at(CENTER, "rev_support_alt"), 0.0);
        assert_eq!(at(CENTER, "rev_support_ref"), 0.5);
        assert_eq!(at(CENTER, "informative_alt_fraction"), 0.5);
        // all reads MAPQ 60 and BQ 30: alt reads do not differ from the rest
        assert_eq!(at(CENTER, "alt_mapq_delta"), 0.0);
        assert_eq!(at(CENTER, "alt_baseq_delta"), 0.0);
        assert_eq!(at(CENTER, "ref_A"), 1.0);
        assert_eq!(at(CENTER + 1, "ref_C"), 1.0);
        assert_eq!(at(CENTER, "alt_span"), 1.0);
        assert_eq!(at(CENTER + 1, "alt_span"), 0.0);
        assert!((at(CENTER, "mean_baseq") - 0.75).abs() < 1e-6);
        assert_eq!(at(CENTER, "mean_mapq"), 1.0);
        assert!((at(CENTER, "depth") - 0.04).abs() < 1e-6);
        // window positions 21.. from the left edge: pos 20-16 = 4 >= 0 so all rows are filled
        assert_eq!(at(WINDOW - 1, "depth"), 0.04);
        // every position has the same depth: half of the (clamped) ratio scale
        assert_eq!(at(CENTER, "depth_ratio"), 0.5);
    }
}
