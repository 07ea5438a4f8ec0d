//! Where to realign: clusters of indel and soft-clip evidence, widened over tandem repeats.
use std::collections::BTreeMap;

use super::RealignParams;
use crate::reads::AlignedRead;

/// Soft clips shorter than this are not evidence of an event (aligners clip a few bases of a
/// read's end near a mismatch).
const MIN_CLIP: u32 = 5;

/// Longest tandem-repeat unit followed past a window's edge, so no window ends inside a repeat
/// (its edge k-mers would recur in haplotypes with another copy of the unit).
const MAX_UNIT: usize = 6;

/// Windows `[start, end)` to realign: indel anchors and clip points seen in at least two reads
/// within `2 * pad` of each other, widened to the ends of tandem repeats they touch, padded,
/// inside `[from, to)`; `ref_seq` (ASCII) starts at `ref_start` and covers `[from, to)`.
///
/// `reads` are all the reads overlapping `[from, to)`, so the evidence there is complete, but a
/// cluster could continue past `from` or `to`, and a repeat could too. A window is therefore
/// used only when it is seen whole: one that contains a cluster within `2 * pad` of the edge,
/// or a repeat that reaches it, is dropped. The windows a site depends on then come out the
/// same in every shard that fetches enough around the site (see `shard_stages::READ_PAD`).
pub fn active_windows(
    reads: &[AlignedRead],
    ref_seq: &[u8],
    ref_start: u64,
    from: u64,
    to: u64,
    p: &RealignParams,
) -> Vec<(u64, u64)> {
    let mut evidence: BTreeMap<u64, u32> = BTreeMap::new();
    for r in reads {
        for e in &r.indels {
            *evidence.entry(e.anchor()).or_default() += 1;
        }
        if r.clip_left >= MIN_CLIP {
            *evidence.entry(r.start).or_default() += 1;
        }
        if r.clip_right >= MIN_CLIP {
            *evidence.entry(r.end()).or_default() += 1;
        }
    }
    let mut clusters: Vec<(u64, u64, u32)> = Vec::new();
    for (&pos, &n) in &evidence {
        match clusters.last_mut() {
            Some((_, hi, m)) if pos <= *hi + 2 * p.pad => {
                *hi = pos;
                *m += n;
            }
            _ => clusters.push((pos, pos, n)),
        }
    }
    let base = |pos: u64| ref_seq[(pos - ref_start) as usize].to_ascii_uppercase();
    // (start, end, seen whole)
    let mut windows: Vec<(u64, u64, bool)> = Vec::new();
    let margin = 2 * p.pad;
    for (lo, hi, n) in clusters {
        if n < 2 {
            continue;
        }
        let mut whole = lo >= from + margin && hi + 1 + margin <= to;
        let mut ws = lo.max(from);
        let mut we = (hi + 1).min(to);
        for u in 1..=MAX_UNIT as u64 {
            let mut s = ws;
            while s > from + u && s - 1 + u < to && base(s - 1) == base(s - 1 + u) {
                s -= 1;
            }
            let mut e = we;
            while e + 1 < to && e >= from + u && base(e) == base(e - u) {
                e += 1;
            }
            // A repeat followed to the edge of what was fetched may go on past it.
            whole &= s > from + u && e + 1 < to;
            ws = ws.min(s);
            we = we.max(e);
        }
        let (ws, we) = (ws.saturating_sub(p.pad).max(from), (we + p.pad).min(to));
        match windows.last_mut() {
            Some((_, last_end, last_whole)) if ws <= *last_end => {
                *last_end = we.max(*last_end);
                *last_whole &= whole;
            }
            _ => windows.push((ws, we, whole)),
        }
    }
    windows
        .into_iter()
        .filter(|&(ws, we, whole)| whole && we - ws <= p.max_window)
        .map(|(ws, we, _)| (ws, we))
        .collect()
}

/// The read bases that lie over `[ws, we)`, with a clip included where the read's aligned part
/// starts or ends inside the window (clipped bases there are often the event itself).
pub(super) fn window_segment(r: &AlignedRead, ws: u64, we: u64) -> Option<(usize, usize)> {
    if r.end() <= ws || r.start >= we {
        return None;
    }
    let aligned = |p: u64| {
        let q = r.qidx[(p - r.start) as usize];
        (q != u32::MAX).then_some(q as usize)
    };
    let lo = if r.start >= ws {
        0
    } else {
        (ws..r.end().min(we)).find_map(aligned)?
    };
    let hi = if r.end() <= we {
        r.seq.len()
    } else {
        (r.start.max(ws)..we).rev().find_map(aligned)? + 1
    };
    (hi > lo).then_some((lo, hi))
}
