//! Candidate haplotypes of a window: paths through a de Bruijn graph of the reads' k-mers.
use rustc_hash::FxHashMap as HashMap;

use super::RealignParams;

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
    let mut ids: HashMap<&[u8], u32> = HashMap::default();
    let mut kmers: Vec<&[u8]> = Vec::new();
    let mut edges: HashMap<(u32, u32), (u32, bool)> = HashMap::default();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reads::base_code;
    use crate::realign::tests::random_seq;

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
}
