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
    for op in gotoh(a, b) {
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

enum Op {
    M(usize),
    I,
    D(usize),
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

    #[test]
    fn test_gotoh_places_one_gap() {
        let r = b"ACGTTGCAAGCTTAGCATCG";
        let h = b"ACGTTGCATCG"; // 9 bases deleted after position 7
        let cols = align_to_ref(&r.map(base_code), &h.map(base_code), 100);
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
        let ins = align_to_ref(&h.map(base_code), &r.map(base_code), 0);
        assert_eq!(ins.iter().filter(|c| **c == Col::I).count(), 9);
    }
}
