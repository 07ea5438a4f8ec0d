//! A haplotype's alignment to the window's reference (affine gaps), as columns that map
//! haplotype bases back to reference positions.
/// One column of a haplotype's alignment to the reference: a haplotype base over a reference
/// position, a haplotype base inserted, or a reference position deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    /// Haplotype base over reference position (absolute, 0-based).
    M(u64),
    /// Inserted haplotype base.
    I,
    /// Deleted reference position.
    D(u64),
}

// Haplotype-to-reference scores in GATK's proportions (match 200, mismatch -150, gap open -260,
// extend -11): one gap is preferred to a cluster of mismatches.
const MATCH: i32 = 20;
const MISMATCH: i32 = -15;
const GAP_OPEN: i32 = -26;
const GAP_EXTEND: i32 = -1;

/// Global alignment of `hap` to `ref_w` (which starts at reference position `ws`) with affine
/// gaps; the shared prefix and suffix are matched outright.
pub fn align_to_ref(ref_w: &[u8], hap: &[u8], ws: u64) -> Vec<Col> {
    let max_fix = ref_w.len().min(hap.len());
    let pre = ref_w.iter().zip(hap).take_while(|(a, b)| a == b).count();
    let suf = ref_w
        .iter()
        .rev()
        .zip(hap.iter().rev())
        .take_while(|(a, b)| a == b)
        .count()
        .min(max_fix - pre);
    let a = &ref_w[pre..ref_w.len() - suf];
    let b = &hap[pre..hap.len() - suf];
    let mut cols: Vec<Col> = (0..pre as u64).map(|i| Col::M(ws + i)).collect();
    let mid = ws + pre as u64;
    for op in substitute_gap_pairs(gotoh(a, b), ref_w, hap, pre) {
        cols.push(match op {
            Op::M(i) => Col::M(mid + i as u64),
            Op::I => Col::I,
            Op::D(i) => Col::D(mid + i as u64),
        });
    }
    let tail = (ref_w.len() - suf) as u64;
    cols.extend((tail..ref_w.len() as u64).map(|i| Col::M(ws + i)));
    cols
}

#[derive(Clone, Copy)]
enum Op {
    M(usize),
    I,
    D(usize),
}

/// Rewrite an insertion and a deletion of the same length, with at most one aligned base
/// between them and neither of them a repeat indel, as substitutions when those change no more
/// bases than the two gaps do. `ops` align `full_ref[pre..]` to `full_hap[pre..]`.
///
/// Why: the affine scores prefer two short gaps to three mismatches whenever the shift gains a
/// match, so a three-base substitution in unique sequence (GAC>AGG, HG001 chr20:59,933,876 in
/// the fresh sets) came out as A>AAG plus GAC>G. It is the same haplotype, but truth sets and
/// the scorers (vcfallelicprimitives) write an equal-length REF/ALT as substitutions, so exact
/// matching counted 3 FN and 2 FP. A gap whose bases repeat the reference beside it is a real
/// repeat indel and stays (rewriting one broke an AT-repeat deletion next to an insertion;
/// benches/results/mnp.md).
fn substitute_gap_pairs(ops: Vec<Op>, full_ref: &[u8], full_hap: &[u8], pre: usize) -> Vec<Op> {
    let (a, b) = (&full_ref[pre..], &full_hap[pre..]);
    let run = |from: usize| {
        let kind = std::mem::discriminant(&ops[from]);
        ops[from..]
            .iter()
            .take_while(|o| std::mem::discriminant(*o) == kind)
            .count()
    };
    // Is `seq` one copy of the reference ending at `before` or starting at `after`? For an
    // insertion both are where it goes in; for a deletion, its start and its end.
    let repeats = |seq: &[u8], before: usize, after: usize| {
        let l = seq.len();
        (before >= l && &full_ref[before - l..before] == seq)
            || full_ref.get(after..after + l) == Some(seq)
    };
    let mut out = Vec::with_capacity(ops.len());
    let (mut i, mut ra, mut hb) = (0usize, 0usize, 0usize);
    while i < ops.len() {
        if !matches!(ops[i], Op::M(_)) {
            let len = run(i);
            let between = ops[i + len..]
                .iter()
                .take_while(|o| matches!(o, Op::M(_)))
                .count();
            let j = i + len + between;
            let other = j < ops.len()
                && !matches!(ops[j], Op::M(_))
                && std::mem::discriminant(&ops[j]) != std::mem::discriminant(&ops[i]);
            if between <= 1 && other && run(j) == len {
                let span = len + between;
                // Where each gap starts, in reference and haplotype coordinates of `a` / `b`.
                let (ins_ra, ins_hb, del_ra) = if matches!(ops[i], Op::I) {
                    (ra, hb, ra + between)
                } else {
                    (ra + len + between, hb + between, ra)
                };
                let inserted = &b[ins_hb..ins_hb + len];
                let deleted = &a[del_ra..del_ra + len];
                let repeat_indel = repeats(inserted, pre + ins_ra, pre + ins_ra)
                    || repeats(deleted, pre + del_ra, pre + del_ra + len);
                let changed = (0..span).filter(|&k| a[ra + k] != b[hb + k]).count();
                if !repeat_indel && changed <= 2 * len {
                    out.extend((0..span).map(|k| Op::M(ra + k)));
                    ra += span;
                    hb += span;
                    i = j + len;
                    continue;
                }
            }
        }
        match ops[i] {
            Op::M(_) => {
                ra += 1;
                hb += 1
            }
            Op::I => hb += 1,
            Op::D(_) => ra += 1,
        }
        out.push(ops[i]);
        i += 1;
    }
    out
}

/// Needleman-Wunsch with affine gaps (Gotoh): ops turning reference `a` into haplotype `b`.
fn gotoh(a: &[u8], b: &[u8]) -> Vec<Op> {
    const NEG: i32 = i32::MIN / 4;
    let (la, lb) = (a.len(), b.len());
    let w = lb + 1;
    // States: 0 = match/mismatch, 1 = insertion (consumes b), 2 = deletion (consumes a).
    let mut s = vec![[NEG; 3]; (la + 1) * w];
    let mut from = vec![[0u8; 3]; (la + 1) * w];
    s[0][0] = 0;
    let best = |c: [i32; 3], add: [i32; 3]| -> (i32, u8) {
        let mut m = (c[0] + add[0], 0u8);
        for k in 1..3 {
            if c[k] + add[k] > m.0 {
                m = (c[k] + add[k], k as u8);
            }
        }
        m
    };
    for i in 0..=la {
        for j in 0..=lb {
            if i == 0 && j == 0 {
                continue;
            }
            let mut cell = [NEG; 3];
            let mut ptr = [0u8; 3];
            if i > 0 && j > 0 {
                let sc = if a[i - 1] == b[j - 1] {
                    MATCH
                } else {
                    MISMATCH
                };
                let (v, k) = best(s[(i - 1) * w + j - 1], [sc; 3]);
                (cell[0], ptr[0]) = (v, k);
            }
            if j > 0 {
                let c = s[i * w + j - 1];
                let (v, k) = best(c, [GAP_OPEN, GAP_EXTEND, GAP_OPEN]);
                (cell[1], ptr[1]) = (v, k);
            }
            if i > 0 {
                let c = s[(i - 1) * w + j];
                let (v, k) = best(c, [GAP_OPEN, GAP_OPEN, GAP_EXTEND]);
                (cell[2], ptr[2]) = (v, k);
            }
            s[i * w + j] = cell;
            from[i * w + j] = ptr;
        }
    }
    let (_, mut state) = best(s[la * w + lb], [0; 3]);
    let (mut i, mut j) = (la, lb);
    let mut ops = Vec::with_capacity(la + lb);
    while i > 0 || j > 0 {
        let prev = from[i * w + j][state as usize];
        match state {
            0 => {
                i -= 1;
                j -= 1;
                ops.push(Op::M(i));
            }
            1 => {
                j -= 1;
                ops.push(Op::I);
            }
            _ => {
                i -= 1;
                ops.push(Op::D(i));
            }
        }
        state = prev;
    }
    ops.reverse();
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reads::base_code;

    fn codes(s: &[u8]) -> Vec<u8> {
        s.iter().map(|&c| base_code(c)).collect()
    }

    #[test]
    fn test_three_base_substitution_is_not_two_gaps() {
        // HG001 chr20:59,933,875 (hg19): GAC>AGG after an A. The affine scores alone write it
        // as A>AAG plus GAC>G (two gaps, one shifted match gained).
        let (flank_l, flank_r) = (&b"TTGACCTAGGCATCCA"[..], &b"TTCAGGATCCGTAGCT"[..]);
        let r = codes(&[flank_l, b"AGAC", flank_r].concat());
        let h = codes(&[flank_l, b"AAGG", flank_r].concat());
        assert!(
            gotoh(&r, &h).iter().any(|o| !matches!(o, Op::M(_))),
            "the plain affine alignment has gaps here (else this test shows nothing)"
        );
        let cols = align_to_ref(&r, &h, 1000);
        assert_eq!(cols.len(), r.len());
        assert!(cols
            .iter()
            .enumerate()
            .all(|(k, c)| *c == Col::M(1000 + k as u64)));
    }

    #[test]
    fn test_repeat_deletion_beside_insertion_stays_gaps() {
        // An AT deleted from an AT repeat, and AC inserted right after the repeat: two real
        // indels (HG002 chr20:6,688,909-6,688,950 in the holdout sets), not substitutions.
        let (left, right) = (&b"GCCTGAGGCT"[..], &b"TTCAGCTTGAACC"[..]);
        let r = codes(&[left, b"ATATATATAT", b"G", right].concat());
        let h = codes(&[left, b"ATATATAT", b"G", b"AC", right].concat());
        let cols = align_to_ref(&r, &h, 0);
        assert_eq!(cols.iter().filter(|c| **c == Col::I).count(), 2);
        assert!(
            cols.iter().any(|c| matches!(c, Col::D(_))),
            "the repeat deletion stays a deletion: {cols:?}"
        );
    }

    #[test]
    fn test_indels_apart_stay_gaps() {
        // A 2 bp insertion and, 8 bp later, a 2 bp deletion stay two gaps.
        let (left, mid, right) = (
            &b"GATTACAGCTTG"[..],
            &b"ACGTCAGG"[..],
            &b"CATGGTTAACCGGAT"[..],
        );
        let r = codes(&[left, mid, b"TA", right].concat());
        let h = codes(&[left, b"CC", mid, right].concat());
        let cols = align_to_ref(&r, &h, 0);
        assert_eq!(cols.iter().filter(|c| **c == Col::I).count(), 2);
        assert_eq!(cols.iter().filter(|c| matches!(c, Col::D(_))).count(), 2);
    }

    #[test]
    fn test_gotoh_places_one_gap() {
        let r = b"ACGTTGCAAGCTTAGCATCG";
        let h = b"ACGTTGCATCG"; // 9 bases deleted after position 7
        let cols = align_to_ref(&codes(r), &codes(h), 100);
        let dels: Vec<u64> = cols
            .iter()
            .filter_map(|c| if let Col::D(p) = c { Some(*p) } else { None })
            .collect();
        assert_eq!(dels.len(), 9);
        assert!(
            dels.windows(2).all(|w| w[1] == w[0] + 1),
            "one contiguous gap: {dels:?}"
        );
        assert_eq!(
            cols.iter().filter(|c| matches!(c, Col::M(_))).count(),
            h.len()
        );
        let ins = align_to_ref(&codes(h), &codes(r), 0);
        assert_eq!(ins.iter().filter(|c| **c == Col::I).count(), 9);
    }
}
