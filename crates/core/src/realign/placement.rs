//! Reads against haplotypes: the cost of placing a read on each, the cost of its own
//! alignment, and a placed read re-expressed against the reference.
use super::{Col, GAP_COST, MAX_REALIGN_COST};
use crate::reads::{AlignedRead, Indel, DEL, GAP};

/// Sum of capped qualities of read bases that disagree with `hap` with read base 0 at `hap[o]`,
/// or `None` once it exceeds `bound`.
fn place_cost(seq: &[u8], qual: &[u8], hap: &[u8], o: usize, bound: u32) -> Option<u32> {
    let mut cost = 0u32;
    for ((&b, &q), &h) in seq.iter().zip(qual).zip(&hap[o..o + seq.len()]) {
        if b != h && b <= 3 && h <= 3 {
            cost += q.min(40) as u32;
            if cost > bound {
                return None;
            }
        }
    }
    Some(cost)
}

/// A haplotype padded with reference on both sides, ready for reads to be placed on it.
pub(super) struct Placed {
    seq: Vec<u8>,
    pub(super) cols: Vec<Col>,
    /// Column of each haplotype base.
    pub(super) col_of: Vec<usize>,
    /// Gaps (runs of insertion or deletion columns) starting at or before each column.
    gaps_upto: Vec<u32>,
    /// Length minus the window's reference length.
    delta: i64,
}

impl Placed {
    pub(super) fn new(seq: Vec<u8>, cols: Vec<Col>, delta: i64) -> Self {
        let col_of = cols
            .iter()
            .enumerate()
            .filter(|(_, c)| !matches!(c, Col::D(_)))
            .map(|(k, _)| k)
            .collect();
        let kind = |c: &Col| match c {
            Col::M(_) => 0,
            Col::I => 1,
            Col::D(_) => 2,
        };
        let mut n = 0;
        let gaps_upto = (0..cols.len())
            .map(|k| {
                if kind(&cols[k]) != 0 && (k == 0 || kind(&cols[k - 1]) != kind(&cols[k])) {
                    n += 1;
                }
                n
            })
            .collect();
        Placed {
            seq,
            cols,
            col_of,
            gaps_upto,
            delta,
        }
    }

    /// Gaps a read from haplotype base `o` to `o + len - 1` crosses.
    fn gaps(&self, o: usize, len: usize) -> u32 {
        self.gaps_upto[self.col_of[o + len - 1]] - self.gaps_upto[self.col_of[o]]
    }
}

/// Lowest-cost placement of `r` on `hap` at offsets from `o0 - lo_slack` to `o0 + hi_slack`
/// (ties: nearest `o0`) whose mismatches cost at most `MAX_REALIGN_COST`. Each gap the read
/// crosses adds `GAP_COST`, as in [`own_cost`].
fn best_placement(
    r: &AlignedRead,
    hap: &Placed,
    o0: i64,
    lo_slack: i64,
    hi_slack: i64,
) -> Option<(u32, usize)> {
    let n = r.seq.len();
    let mut best: Option<(u32, usize)> = None;
    for d in 0..=lo_slack.max(hi_slack) {
        for o in [o0 - d, o0 + d]
            .into_iter()
            .take(if d == 0 { 1 } else { 2 })
        {
            if o < o0 - lo_slack || o > o0 + hi_slack || o < 0 || o as usize + n > hap.seq.len() {
                continue;
            }
            let o = o as usize;
            let gap = GAP_COST * hap.gaps(o, n);
            // Mismatches are capped on their own; gaps are not (a compound event has several).
            let bound = match best {
                None => MAX_REALIGN_COST,
                Some((c, _)) => match c.checked_sub(gap + 1) {
                    Some(b) => b.min(MAX_REALIGN_COST),
                    None => continue,
                },
            };
            if let Some(c) = place_cost(&r.seq, &r.seq_qual, &hap.seq, o, bound) {
                if best.is_none_or(|(bc, _)| c + gap < bc) {
                    best = Some((c + gap, o));
                }
            }
        }
    }
    best
}

/// `r` re-expressed against the reference when its bases sit from `o` on a haplotype whose
/// columns are `cols` (`col_of` maps each haplotype base to its column).
pub(super) fn compose(
    r: &AlignedRead,
    cols: &[Col],
    col_of: &[usize],
    o: usize,
) -> Option<AlignedRead> {
    let n = r.seq.len();
    let (c0, c1) = (col_of[o], col_of[o + n - 1]);
    let mut i = 0usize;
    let mut start: Option<u64> = None;
    let (mut bases, mut quals, mut qidx) = (Vec::new(), Vec::new(), Vec::new());
    let mut indels: Vec<Indel> = Vec::new();
    let mut pending: Vec<Col> = Vec::new();
    let mut pending_ins = Vec::new();
    let mut clip_left = 0u32;
    for &c in &cols[c0..=c1] {
        match c {
            Col::M(pos) => {
                let s = *start.get_or_insert_with(|| {
                    clip_left = i as u32;
                    pos
                });
                let mut ins = pending_ins.iter();
                for p in pending.drain(..) {
                    let anchor = s + bases.len() as u64 - 1;
                    match p {
                        Col::D(_) => {
                            match indels.last_mut() {
                                Some(Indel::Del { anchor: a, len })
                                    if *a + *len as u64 == anchor =>
                                {
                                    *len += 1
                                }
                                _ => indels.push(Indel::Del { anchor, len: 1 }),
                            }
                            bases.push(DEL);
                            quals.push(0);
                            qidx.push(u32::MAX);
                        }
                        _ => {
                            let base = *ins.next().expect("bug: inserted base");
                            match indels.last_mut() {
                                Some(Indel::Ins { anchor: a, seq }) if *a == anchor => {
                                    seq.push(base)
                                }
                                _ => indels.push(Indel::Ins {
                                    anchor,
                                    seq: vec![base],
                                }),
                            }
                        }
                    }
                }
                pending_ins.clear();
                bases.push(r.seq[i]);
                quals.push(r.seq_qual[i]);
                qidx.push(i as u32);
                i += 1;
            }
            Col::I => {
                if start.is_some() {
                    pending.push(Col::I);
                    pending_ins.push(b"ACGTN"[r.seq[i].min(4) as usize]);
                }
                i += 1;
            }
            Col::D(_) => {
                if start.is_some() {
                    pending.push(c);
                }
            }
        }
    }
    debug_assert_eq!(i, n);
    start.map(|start| AlignedRead {
        start,
        bases,
        quals,
        indels,
        qidx,
        clip_left,
        clip_right: pending_ins.len() as u32,
        ..r.clone()
    })
}

/// Cost of a read's own alignment on the same scale as [`place_cost`]: mismatching aligned
/// bases, clipped bases against the reference continuing past the clip, and `GAP_COST` per
/// indel.
pub(super) fn own_cost(
    r: &AlignedRead,
    code: &impl Fn(u64) -> u8,
    ref_start: u64,
    ref_end: u64,
) -> u32 {
    let mut cost = GAP_COST * r.indels.len() as u32;
    let mut add = |b: u8, q: u8, pos: u64| {
        if pos >= ref_start && pos < ref_end {
            let h = code(pos);
            if b != h && b <= 3 && h <= 3 {
                cost += q.min(40) as u32;
            }
        }
    };
    for (k, &q) in r.qidx.iter().enumerate() {
        if q != u32::MAX {
            add(
                r.seq[q as usize],
                r.seq_qual[q as usize],
                r.start + k as u64,
            );
        }
    }
    let n = r.seq.len();
    for j in 0..r.clip_left as usize {
        if let Some(pos) = (r.start + j as u64).checked_sub(r.clip_left as u64) {
            add(r.seq[j], r.seq_qual[j], pos);
        }
    }
    for j in 0..r.clip_right as usize {
        let qi = n - r.clip_right as usize + j;
        add(r.seq[qi], r.seq_qual[qi], r.end() + j as u64);
    }
    cost
}

/// Best placement of `r` on each haplotype (`None` where it fits nowhere near its alignment).
pub(super) fn placements(
    r: &AlignedRead,
    padded: &[Placed],
    ls: u64,
    ws: u64,
    we: u64,
) -> Vec<Option<(u32, usize)>> {
    // Haplotypes are reference outside the window: a read showing an event there (or a
    // spliced one) keeps its alignment rather than lose that event.
    if r.bases.contains(&GAP)
        || r.indels
            .iter()
            .any(|e| e.anchor() + 1 < ws || e.anchor() >= we)
    {
        return vec![None; padded.len()];
    }
    let o0 = r.start as i64 - ls as i64 - r.clip_left as i64;
    let own: i64 = r
        .indels
        .iter()
        .map(|e| match e {
            Indel::Del { len, .. } => *len as i64,
            Indel::Ins { seq, .. } => seq.len() as i64,
        })
        .sum();
    let slack = 8 + own;
    padded
        .iter()
        .map(|h| best_placement(r, h, o0, slack - h.delta.min(0), slack + h.delta.max(0)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reads::{base_code, test_read};
    use crate::realign::align_to_ref;
    use crate::realign::tests::random_seq;

    #[test]
    fn test_read_starting_inside_insertion_is_clipped() {
        let refseq: Vec<u8> = random_seq(40, 3).iter().map(|&b| base_code(b)).collect();
        // Six copies of a base unlike its neighbours: the insertion has one place.
        let x = (0..4)
            .find(|&b| b != refseq[19] && b != refseq[20])
            .unwrap();
        let hap: Vec<u8> = [&refseq[..20], &[x; 6][..], &refseq[20..]].concat();
        let cols = align_to_ref(&refseq, &hap, 1000);
        let col_of: Vec<usize> = cols
            .iter()
            .enumerate()
            .filter(|(_, c)| !matches!(c, Col::D(_)))
            .map(|(k, _)| k)
            .collect();
        // Read = hap[23..38]: 3 inserted bases, then reference from 1020.
        let mut r = test_read(0, "A", vec![], false);
        r.seq = hap[23..38].to_vec();
        r.seq_qual = vec![30; 15];
        let new = compose(&r, &cols, &col_of, 23).unwrap();
        assert_eq!((new.start, new.clip_left, new.clip_right), (1020, 3, 0));
        assert!(new.indels.is_empty());
        assert_eq!(new.qidx[0], 3);
        // Read = hap[15..30] spans the insertion: it shows it, anchored at 1019.
        r.seq = hap[15..30].to_vec();
        let new = compose(&r, &cols, &col_of, 15).unwrap();
        assert_eq!(new.start, 1015);
        let ins = vec![b"ACGT"[x as usize]; 6];
        assert_eq!(
            new.indels,
            vec![Indel::Ins {
                anchor: 1019,
                seq: ins
            }]
        );
        assert_eq!(new.bases.len(), 9);
    }
}
