//! Stage: realign. Where reads disagree about indels or are soft-clipped together, the reads
//! are assembled into local haplotypes (a de Bruijn graph, as DeepVariant's realigner does) and
//! every read there is placed on its best haplotype, then mapped back to the reference through
//! that haplotype's alignment. Reads carrying one event then show it in one representation,
//! and events aligners clip instead of gapping (long insertions, deletions near read ends)
//! become visible to candidate finding.
use std::collections::{BTreeMap, HashMap};

use crate::reads::{AlignedRead, Indel, DEL, GAP};

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

/// Soft clips shorter than this are not evidence of an event (aligners clip a few bases of a
/// read's end near a mismatch).
const MIN_CLIP: u32 = 5;
/// Reads whose best haplotype leaves mismatches costing more than this (sum of their base
/// qualities, each capped at 40) keep their alignment.
pub const MAX_REALIGN_COST: u32 = 100;
/// Cost of one gap in a read's alignment, above any one mismatch (qualities are capped at 40):
/// an SNV is not re-explained as a shifted repeat unit.
const GAP_COST: u32 = 45;

/// Longest tandem-repeat unit followed past a window's edge, so no window ends inside a repeat
/// (its edge k-mers would recur in haplotypes with another copy of the unit).
const MAX_UNIT: usize = 6;

/// Windows `[start, end)` to realign: indel anchors and clip points seen in at least two reads
/// within `2 * pad` of each other, widened to the ends of tandem repeats they touch, padded,
/// inside `[from, to)`; `ref_seq` (ASCII) starts at `ref_start` and covers `[from, to)`.
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
    let mut windows: Vec<(u64, u64)> = Vec::new();
    for (lo, hi, n) in clusters {
        if n < 2 || lo < from || hi + 1 > to {
            continue;
        }
        let mut ws = lo;
        let mut we = hi + 1;
        for u in 1..=MAX_UNIT as u64 {
            let mut s = lo;
            while s > from + u && s - 1 + u < to && base(s - 1) == base(s - 1 + u) {
                s -= 1;
            }
            let mut e = hi + 1;
            while e + 1 < to && e >= from + u && base(e) == base(e - u) {
                e += 1;
            }
            ws = ws.min(s);
            we = we.max(e);
        }
        let (ws, we) = (ws.saturating_sub(p.pad).max(from), (we + p.pad).min(to));
        match windows.last_mut() {
            Some((_, last_end)) if ws <= *last_end => *last_end = we.max(*last_end),
            _ => windows.push((ws, we)),
        }
    }
    windows.retain(|&(ws, we)| we - ws <= p.max_window);
    windows
}

/// The read bases that lie over `[ws, we)`, with a clip included where the read's aligned part
/// starts or ends inside the window (clipped bases there are often the event itself).
fn window_segment(r: &AlignedRead, ws: u64, we: u64) -> Option<(usize, usize)> {
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

/// Haplotypes (base codes) through the window's de Bruijn graph, the reference among them;
/// `None` when no k in range gives an acyclic graph with few enough paths.
pub fn assemble(
    ref_w: &[u8],
    segments: &[(&[u8], &[u8])],
    p: &RealignParams,
) -> Option<Vec<Vec<u8>>> {
    if ref_w.iter().any(|&b| b > 3) {
        return None;
    }
    let mut k = p.k_min;
    while k <= p.k_max && k < ref_w.len() {
        if let Some(paths) = assemble_k(ref_w, segments, k, p) {
            return Some(paths);
        }
        k += p.k_step;
    }
    None
}

fn assemble_k(
    ref_w: &[u8],
    segments: &[(&[u8], &[u8])],
    k: usize,
    p: &RealignParams,
) -> Option<Vec<Vec<u8>>> {
    // Node ids in first-seen order keep everything below independent of hashing.
    let mut ids: HashMap<&[u8], u32> = HashMap::new();
    let mut kmers: Vec<&[u8]> = Vec::new();
    let mut edges: HashMap<(u32, u32), (u32, bool)> = HashMap::new();
    let n_ref = ref_w.len() - k + 1;
    for i in 0..n_ref {
        let before = kmers.len();
        let v = node(&ref_w[i..i + k], &mut ids, &mut kmers);
        if kmers.len() == before {
            return None; // a repeated reference k-mer makes the reference path a cycle
        }
        if i > 0 {
            edges.insert((v - 1, v), (0, true));
        }
    }
    let (source, sink) = (0u32, n_ref as u32 - 1);
    for &(bases, quals) in segments {
        let mut run = 0usize;
        let mut prev: Option<u32> = None;
        for i in 0..bases.len() {
            if bases[i] > 3 || quals[i] < p.min_kmer_baseq {
                run = 0;
                prev = None;
                continue;
            }
            run += 1;
            if run < k {
                continue;
            }
            let v = node(&bases[i + 1 - k..=i], &mut ids, &mut kmers);
            if let Some(u) = prev {
                edges.entry((u, v)).or_insert((0, false)).0 += 1;
            }
            prev = Some(v);
        }
    }
    let n = kmers.len();
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut back: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (&(u, v), &(count, is_ref)) in &edges {
        if is_ref || count >= p.min_edge_count {
            out[u as usize].push(v);
            back[v as usize].push(u);
        }
    }
    // Sorted successors make the paths' order independent of hashing; reachability is not.
    for l in &mut out {
        l.sort_unstable();
    }
    let from_source = reach(&out, source);
    let to_sink = reach(&back, sink);
    let keep: Vec<bool> = (0..n).map(|v| from_source[v] && to_sink[v]).collect();
    for l in &mut out {
        l.retain(|&w| keep[w as usize]);
    }
    // Depth-first search for a cycle among kept nodes (0 new, 1 on stack, 2 done).
    let mut state = vec![0u8; n];
    let mut stack: Vec<(u32, usize)> = vec![(source, 0)];
    state[source as usize] = 1;
    while let Some(&mut (v, ref mut next)) = stack.last_mut() {
        let succ = out[v as usize].get(*next).copied();
        *next += 1;
        match succ {
            Some(w) if state[w as usize] == 1 => return None,
            Some(w) if state[w as usize] == 0 => {
                state[w as usize] = 1;
                stack.push((w, 0));
            }
            Some(_) => {}
            None => {
                state[v as usize] = 2;
                stack.pop();
            }
        }
    }
    // Every source-to-sink path, up to `max_paths`.
    let mut paths: Vec<Vec<u8>> = Vec::new();
    let mut path: Vec<u32> = vec![source];
    let mut cursor: Vec<usize> = vec![0];
    while let Some(v) = path.last().copied() {
        if v == sink {
            let mut seq = kmers[source as usize].to_vec();
            seq.extend(path[1..].iter().map(|&w| kmers[w as usize][k - 1]));
            paths.push(seq);
            if paths.len() > p.max_paths {
                return None;
            }
            path.pop();
            cursor.pop();
            continue;
        }
        let c = cursor.last_mut().expect("bug: cursor per node");
        let succ = out[v as usize].get(*c).copied();
        *c += 1;
        match succ {
            Some(w) => {
                path.push(w);
                cursor.push(0);
            }
            None => {
                path.pop();
                cursor.pop();
            }
        }
    }
    Some(paths)
}

fn reach(adj: &[Vec<u32>], from: u32) -> Vec<bool> {
    let mut seen = vec![false; adj.len()];
    let mut todo = vec![from];
    seen[from as usize] = true;
    while let Some(v) = todo.pop() {
        for &w in &adj[v as usize] {
            if !seen[w as usize] {
                seen[w as usize] = true;
                todo.push(w);
            }
        }
    }
    seen
}

fn node<'a>(km: &'a [u8], ids: &mut HashMap<&'a [u8], u32>, kmers: &mut Vec<&'a [u8]>) -> u32 {
    *ids.entry(km).or_insert_with(|| {
        kmers.push(km);
        kmers.len() as u32 - 1
    })
}

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
struct Placed {
    seq: Vec<u8>,
    cols: Vec<Col>,
    /// Column of each haplotype base.
    col_of: Vec<usize>,
    /// Gaps (runs of insertion or deletion columns) starting at or before each column.
    gaps_upto: Vec<u32>,
    /// Length minus the window's reference length.
    delta: i64,
}

impl Placed {
    fn new(seq: Vec<u8>, cols: Vec<Col>, delta: i64) -> Self {
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
fn compose(r: &AlignedRead, cols: &[Col], col_of: &[usize], o: usize) -> Option<AlignedRead> {
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
fn own_cost(r: &AlignedRead, code: &impl Fn(u64) -> u8, ref_start: u64, ref_end: u64) -> u32 {
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

/// Best placement of `r` on each haplotype (`None` where it fits nowhere near its alignment).
fn placements(
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
pub fn realign_reads(
    reads: &mut [AlignedRead],
    ref_seq: &[u8],
    ref_start: u64,
    from: u64,
    to: u64,
    p: &RealignParams,
) -> usize {
    if !p.enabled || reads.is_empty() {
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
    fn random_seq(n: usize, seed: u64) -> Vec<u8> {
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

    #[test]
    fn test_assembly_finds_reference_and_deletion() {
        let refseq: Vec<u8> = random_seq(120, 7).iter().map(|&b| base_code(b)).collect();
        let alt: Vec<u8> = [&refseq[..60], &refseq[64..]].concat();
        let q = [30u8; 200];
        let segs: Vec<(&[u8], &[u8])> = (0..4)
            .map(|i| (&alt[i * 5..], &q[..alt.len() - i * 5]))
            .chain((0..4).map(|i| (&refseq[i * 5..], &q[..refseq.len() - i * 5])))
            .collect();
        let mut haps = assemble(&refseq, &segs, &RealignParams::default()).unwrap();
        haps.sort();
        let mut want = vec![refseq.clone(), alt];
        want.sort();
        assert_eq!(haps, want);
        // One read's error path is pruned.
        let mut err = refseq.clone();
        err[30] = (err[30] + 1) % 4;
        let segs2: Vec<(&[u8], &[u8])> = vec![(&refseq, &q[..120]), (&err, &q[..120])];
        assert_eq!(
            assemble(&refseq, &segs2, &RealignParams::default()).unwrap(),
            vec![refseq]
        );
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
