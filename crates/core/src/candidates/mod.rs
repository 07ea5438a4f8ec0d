//! Stage: candidates. A per-position pileup of one shard's reads, the candidate variant sites
//! found in it, and which allele each read carries at each site.
//!
//! About 600 lines: the pileup, the sites found in it and the reads' alleles at them share
//! one set of types and the one `--min-baseq` rule, which is easier to check in one file.
use crate::reads::{base_code, AlignedRead, Indel, DEL, GAP};

/// Thresholds for proposing an allele (DeepVariant's published defaults: 0.12 for SNVs,
/// 0.06 for indels, at least 2 reads; a model's sidecar may lower the reads to 1).
#[derive(Debug, Clone)]
pub struct CandidateParams {
    /// Minimum reads carrying the allele.
    pub min_count: u32,
    /// Minimum fraction of reads at the site for an SNV allele.
    pub min_snv_fraction: f32,
    /// Minimum fraction for an insertion or deletion.
    pub min_indel_fraction: f32,
    /// Alleles kept per site, most supported first.
    pub max_alts: usize,
    /// Base quality floor for counting a base.
    pub min_baseq: u8,
}

impl Default for CandidateParams {
    fn default() -> Self {
        Self {
            min_count: 2,
            min_snv_fraction: 0.12,
            min_indel_fraction: 0.06,
            max_alts: 3,
            min_baseq: 10,
        }
    }
}

/// Most reads `--min-alt-reads` / `calling.min_alt_reads` may ask for: past this no allele
/// would be proposed at ordinary depths, which is a typo rather than a setting.
pub const MAX_MIN_ALT_READS: u64 = 1000;

/// Check a minimum ALT read count: at least 1 (0 would propose every base of the reference).
pub fn check_min_alt_reads(n: u64) -> anyhow::Result<u32> {
    if !(1..=MAX_MIN_ALT_READS).contains(&n) {
        anyhow::bail!("the minimum reads for a candidate allele must be 1 to {MAX_MIN_ALT_READS}");
    }
    Ok(n as u32)
}

/// Per-position, per-strand counts over a window of the reference.
#[derive(Debug, Clone)]
pub struct Pileup {
    /// 0-based reference position of index 0.
    pub start: u64,
    /// Reference bases (upper case) of the window.
    pub ref_seq: Vec<u8>,
    /// `[pos][strand][A, C, G, T, ins-after, del]`, bases only at or above the quality floor.
    pub counts: Vec<[[u16; 6]; 2]>,
    /// Reads spanning each position (including deletions), after filters.
    pub depth: Vec<u16>,
    /// Sum of min(BQ, 40) over aligned bases.
    pub bq_sum: Vec<u32>,
    /// Aligned bases counted in `bq_sum`.
    pub bq_n: Vec<u16>,
    /// Sum of min(MAPQ, 60) over reads spanning.
    pub mq_sum: Vec<u32>,
}

impl Pileup {
    /// Count `reads` over the window `[start, start + ref_seq.len())`.
    pub fn build(start: u64, ref_seq: Vec<u8>, reads: &[AlignedRead], min_baseq: u8) -> Self {
        let n = ref_seq.len();
        let mut p = Pileup {
            start,
            ref_seq,
            counts: vec![[[0; 6]; 2]; n],
            depth: vec![0; n],
            bq_sum: vec![0; n],
            bq_n: vec![0; n],
            mq_sum: vec![0; n],
        };
        // Depth and MAPQ sums change only where reads start and end (and around `N` skips):
        // difference arrays, summed once at the end, instead of two writes per base.
        let mut depth_diff = vec![0i32; n + 1];
        let mut mq_diff = vec![0i64; n + 1];
        for r in reads {
            let s = r.reverse as usize;
            let mq = r.mapq.min(60) as i64;
            // The part of the read inside the window, as one range of read offsets and one of
            // window indices (no per-base bounds test).
            let first = start.saturating_sub(r.start) as usize;
            let i0 = (r.start + first as u64 - start) as usize;
            if first >= r.bases.len() || i0 >= n {
                continue;
            }
            let len = (r.bases.len() - first).min(n - i0);
            depth_diff[i0] += 1;
            depth_diff[i0 + len] -= 1;
            mq_diff[i0] += mq;
            mq_diff[i0 + len] -= mq;
            // Equal-length slices, indexed in one loop: no bounds checks, no iterator chains
            // (a five-way zip here cost about 40 instructions a base).
            let bq_sum = &mut p.bq_sum[i0..i0 + len];
            let bq_n = &mut p.bq_n[i0..i0 + len];
            let counts = &mut p.counts[i0..i0 + len];
            let bases = &r.bases[first..first + len];
            let quals = &r.quals[first..first + len];
            // A deleted position is evidence as good as its deletion's anchor base, by the
            // same --min-baseq rule as a base (one rule for REF, SNV and indel evidence).
            let mut anchor_q = r.bases[..first]
                .iter()
                .zip(&r.quals[..first])
                .rev()
                .find(|(&b, _)| b < DEL)
                .map_or(u8::MAX, |(_, &q)| q);
            for k in 0..len {
                let (b, q) = (bases[k], quals[k]);
                if b < DEL {
                    anchor_q = q;
                    bq_sum[k] += q.min(40) as u32;
                    bq_n[k] = bq_n[k].saturating_add(1);
                    if b < 4 && q >= min_baseq {
                        let c = &mut counts[k][s][b as usize];
                        *c = c.saturating_add(1);
                    }
                } else if b == DEL {
                    if anchor_q >= min_baseq {
                        counts[k][s][5] = counts[k][s][5].saturating_add(1);
                    }
                } else {
                    // A skipped position: no depth there.
                    depth_diff[i0 + k] -= 1;
                    depth_diff[i0 + k + 1] += 1;
                    mq_diff[i0 + k] -= mq;
                    mq_diff[i0 + k + 1] += mq;
                }
            }
            for ev in &r.indels {
                if let (Indel::Ins { .. }, Some(i)) = (ev, p.index(ev.anchor())) {
                    if r.base_at(ev.anchor()).is_some_and(|(_, q)| q >= min_baseq) {
                        p.counts[i][s][4] = p.counts[i][s][4].saturating_add(1);
                    }
                }
            }
        }
        let (mut depth, mut mq_sum) = (0i32, 0i64);
        for i in 0..n {
            depth += depth_diff[i];
            mq_sum += mq_diff[i];
            p.depth[i] = depth.clamp(0, u16::MAX as i32) as u16;
            p.mq_sum[i] = mq_sum as u32;
        }
        p
    }

    /// Window index of reference position `pos`.
    pub fn index(&self, pos: u64) -> Option<usize> {
        let i = pos.checked_sub(self.start)? as usize;
        (i < self.ref_seq.len()).then_some(i)
    }

    /// Reference base at `pos` (`N` outside the window).
    pub fn ref_base(&self, pos: u64) -> u8 {
        self.index(pos).map_or(b'N', |i| self.ref_seq[i])
    }
}

/// Median depth over the covered (depth > 0) positions of `[from, to)`, counting the aligned
/// bases and deletions of `reads`: what depth looks like around a site, so that a site's depth
/// can be judged relative to it (collapsed duplications stand out). 0 when nothing is covered.
pub fn median_depth(reads: &[AlignedRead], from: u64, to: u64) -> u16 {
    // Depth changes only where reads start and end, and around `N` skips (found by a memchr
    // over the read's codes): a difference array, summed once.
    let n = to.saturating_sub(from) as usize;
    let mut diff = vec![0i32; n + 1];
    for r in reads {
        let (lo, hi) = (r.start.max(from), r.end().min(to));
        if lo >= hi {
            continue;
        }
        let (i, j) = ((lo - from) as usize, (hi - from) as usize);
        diff[i] += 1;
        diff[j] -= 1;
        let codes = &r.bases[(lo - r.start) as usize..(hi - r.start) as usize];
        if codes.contains(&GAP) {
            for (k, &b) in codes.iter().enumerate() {
                if b > DEL {
                    diff[i + k] -= 1;
                    diff[i + k + 1] += 1;
                }
            }
        }
    }
    let mut running = 0i32;
    let depth = diff[..n].iter().map(|&d| {
        running += d;
        running.clamp(0, u16::MAX as i32) as u16
    });
    let mut covered: Vec<u16> = depth.into_iter().filter(|&d| d > 0).collect();
    if covered.is_empty() {
        return 0;
    }
    let mid = covered.len() / 2;
    *covered.select_nth_unstable(mid).1
}

/// [`median_depth`] from reads' aligned blocks ([`crate::reads::aligned_blocks`]) instead of
/// whole reads: the same number, without holding the reads.
pub fn median_depth_of_blocks(blocks: &[Vec<(u64, u64)>], from: u64, to: u64) -> u16 {
    let n = to.saturating_sub(from) as usize;
    let mut diff = vec![0i32; n + 1];
    for read in blocks {
        for &(s, e) in read {
            let (s, e) = (s.max(from), e.min(to));
            if s < e {
                diff[(s - from) as usize] += 1;
                diff[(e - from) as usize] -= 1;
            }
        }
    }
    let mut depth = 0i32;
    let mut covered: Vec<u16> = Vec::with_capacity(n);
    for d in &diff[..n] {
        depth += d;
        if depth > 0 {
            covered.push(depth.min(u16::MAX as i32) as u16);
        }
    }
    if covered.is_empty() {
        return 0;
    }
    let mid = covered.len() / 2;
    *covered.select_nth_unstable(mid).1
}

/// An alternate allele at a site, relative to the anchor base.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AltKind {
    /// Single-base substitution at the anchor.
    Snv(u8),
    /// Deletion of this many bases after the anchor.
    Del(u32),
    /// Insertion of these bases after the anchor.
    Ins(Vec<u8>),
}

/// Which allele a read carries at a site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAllele {
    /// The reference allele.
    Ref,
    /// The site's alt allele with this index.
    Alt(usize),
    /// A non-reference allele not among the site's alts.
    Other,
}

/// A candidate variant site.
#[derive(Debug, Clone)]
pub struct Site {
    /// Contig name.
    pub contig: String,
    /// 0-based anchor position (VCF POS - 1).
    pub pos: u64,
    /// VCF REF (spans the longest deletion).
    pub ref_allele: Vec<u8>,
    /// Alternate alleles, most supported first.
    pub alts: Vec<AltKind>,
    /// VCF ALT strings, aligned with `alts`.
    pub alt_alleles: Vec<Vec<u8>>,
    /// Reads spanning the anchor.
    pub depth: u32,
    /// Reads supporting REF, then each alt.
    pub allele_depths: Vec<u32>,
    /// A read tells the alleles apart only if it aligns up to and including this position:
    /// the end of the repeat an indel sits in (an indel can be placed anywhere inside it).
    pub informative_end: u64,
}

impl Site {
    /// Is alt `k` an SNV (after the shared-REF padding is removed)?
    pub fn is_snv(&self, k: usize) -> bool {
        matches!(self.alts[k], AltKind::Snv(_))
    }
}

/// First reference position after the repeat that an indel of `seq` anchored at `pos` lies
/// in: reads ending before it cannot show whether they carry the indel.
pub fn repeat_end(pileup: &Pileup, pos: u64, seq: &[u8]) -> u64 {
    let mut p = pos + 1;
    while !seq.is_empty()
        && pileup.ref_base(p) == seq[((p - pos - 1) as usize) % seq.len()]
        && p < pos + 1_000
    {
        p += 1;
    }
    p
}

/// Allele carried by `read` at the site anchored at `pos` among `alts`, or `None` when the
/// read is uninformative there (not spanning through `informative_end`, low-quality or unknown
/// base).
pub fn read_allele(
    read: &AlignedRead,
    pos: u64,
    informative_end: u64,
    ref_base: u8,
    alts: &[AltKind],
    min_baseq: u8,
) -> Option<ReadAllele> {
    let (b, q) = read.base_at(pos)?;
    if read.start > pos || read.end() <= informative_end {
        return None;
    }
    let event = read.indels.iter().find(|e| e.anchor() == pos);
    // One --min-baseq rule for every allele: an indel is evidence as good as its anchor base,
    // as REF and SNV evidence is as good as its base. (Indels once counted whatever the
    // anchor's quality, so reads with low qualities gave REF no support and an indel all.)
    if event.is_some() && q < min_baseq {
        return None;
    }
    let kind = match event {
        Some(Indel::Del { len, .. }) => AltKind::Del(*len),
        Some(Indel::Ins { seq, .. }) => AltKind::Ins(seq.to_ascii_uppercase()),
        None => {
            if b == DEL {
                return Some(ReadAllele::Other);
            }
            if b > 3 || q < min_baseq {
                return None;
            }
            if b == base_code(ref_base) {
                return Some(ReadAllele::Ref);
            }
            AltKind::Snv(b"ACGT"[b as usize])
        }
    };
    Some(
        alts.iter()
            .position(|a| *a == kind)
            .map_or(ReadAllele::Other, ReadAllele::Alt),
    )
}

/// Find candidate sites with anchors in `[from, to)`.
pub fn find_sites(
    contig: &str,
    pileup: &Pileup,
    reads: &[AlignedRead],
    from: u64,
    to: u64,
    params: &CandidateParams,
) -> Vec<Site> {
    use std::collections::BTreeMap;
    // Indel observations by anchor: (kind -> count).
    let mut indels: BTreeMap<u64, BTreeMap<AltKind, u32>> = BTreeMap::new();
    for r in reads {
        for ev in &r.indels {
            let a = ev.anchor();
            if a < from || a >= to {
                continue;
            }
            let kind = match ev {
                Indel::Del { len, .. } => AltKind::Del(*len),
                Indel::Ins { seq, .. } => {
                    if seq.iter().any(|&c| base_code(c) > 3) {
                        continue;
                    }
                    AltKind::Ins(seq.to_ascii_uppercase())
                }
            };
            *indels.entry(a).or_default().entry(kind).or_default() += 1;
        }
    }
    let mut sites = Vec::new();
    for pos in from..to {
        let Some(i) = pileup.index(pos) else { continue };
        let ref_base = pileup.ref_seq[i];
        let rc = base_code(ref_base);
        if rc > 3 {
            continue;
        }
        let depth = pileup.depth[i] as u32;
        if depth == 0 {
            continue;
        }
        let mut alts: Vec<(u32, AltKind)> = Vec::new();
        for b in 0..4u8 {
            if b == rc {
                continue;
            }
            let c = pileup.counts[i][0][b as usize] as u32 + pileup.counts[i][1][b as usize] as u32;
            if c >= params.min_count && c as f32 >= params.min_snv_fraction * depth as f32 {
                alts.push((c, AltKind::Snv(b"ACGT"[b as usize])));
            }
        }
        if let Some(m) = indels.get(&pos) {
            for (kind, &c) in m {
                if let AltKind::Del(len) = kind {
                    // A deletion over unknown reference cannot be written as a VCF allele.
                    if (1..=*len as u64).any(|d| base_code(pileup.ref_base(pos + d)) > 3) {
                        continue;
                    }
                }
                if c >= params.min_count && c as f32 >= params.min_indel_fraction * depth as f32 {
                    alts.push((c, kind.clone()));
                }
            }
        }
        if alts.is_empty() {
            continue;
        }
        alts.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        alts.truncate(params.max_alts);
        let kinds: Vec<AltKind> = alts.into_iter().map(|(_, k)| k).collect();
        sites.push(make_site(
            contig,
            pos,
            pileup,
            reads,
            kinds,
            params.min_baseq,
        ));
    }
    sites
}

/// Build the VCF alleles of a site and count each read's allele.
pub fn make_site(
    contig: &str,
    pos: u64,
    pileup: &Pileup,
    reads: &[AlignedRead],
    alts: Vec<AltKind>,
    min_baseq: u8,
) -> Site {
    let max_del = alts
        .iter()
        .map(|a| if let AltKind::Del(l) = a { *l } else { 0 })
        .max()
        .unwrap_or(0) as u64;
    let ref_allele: Vec<u8> = (pos..=pos + max_del).map(|p| pileup.ref_base(p)).collect();
    let tail = &ref_allele[1..];
    let alt_alleles = alts
        .iter()
        .map(|a| match a {
            AltKind::Snv(b) => [&[*b][..], tail].concat(),
            AltKind::Del(l) => [&ref_allele[..1], &ref_allele[1 + *l as usize..]].concat(),
            AltKind::Ins(s) => [&ref_allele[..1], s, tail].concat(),
        })
        .collect();
    let informative_end = alts
        .iter()
        .map(|a| match a {
            AltKind::Snv(_) => pos + 1,
            AltKind::Del(l) => repeat_end(pileup, pos, &ref_allele[1..=*l as usize]),
            AltKind::Ins(s) => repeat_end(pileup, pos, s),
        })
        .max()
        .unwrap_or(pos + 1);
    let mut allele_depths = vec![0u32; alts.len() + 1];
    let ref_base = ref_allele[0];
    for r in reads {
        match read_allele(r, pos, informative_end, ref_base, &alts, min_baseq) {
            Some(ReadAllele::Ref) => allele_depths[0] += 1,
            Some(ReadAllele::Alt(k)) => allele_depths[k + 1] += 1,
            _ => {}
        }
    }
    let depth = pileup.index(pos).map_or(0, |i| pileup.depth[i] as u32);
    Site {
        contig: contig.to_string(),
        pos,
        ref_allele,
        alts,
        alt_alleles,
        depth,
        allele_depths,
        informative_end,
    }
}

/// Flank of reference on each side of a site in the haplotypes reads are scored against.
pub const HAP_FLANK: u64 = 60;
/// A read is assigned to a haplotype only if the runner-up scores this much worse
/// (sum of mismatching base qualities, each capped at 40).
pub const MIN_HAP_MARGIN: u32 = 15;
/// A read whose best haplotype still costs more than this fits none of them.
pub const MAX_HAP_COST: u32 = 100;

/// Allele of every read at `site`. Reads whose alignment already shows one of the site's
/// alts keep it; at indel sites, every other read is re-scored, ungapped and with its soft
/// clips, against the REF and each ALT haplotype, since aligners often clip or mismatch an
/// indel near a read end instead of opening a gap.
pub fn assign_reads(
    site: &Site,
    pileup: &Pileup,
    reads: &[AlignedRead],
    min_baseq: u8,
) -> Vec<Option<ReadAllele>> {
    let ref_base = site.ref_allele[0];
    let cigar: Vec<Option<ReadAllele>> = reads
        .iter()
        .map(|r| {
            read_allele(
                r,
                site.pos,
                site.informative_end,
                ref_base,
                &site.alts,
                min_baseq,
            )
        })
        .collect();
    if site.alts.iter().all(|a| matches!(a, AltKind::Snv(_))) {
        return cigar;
    }
    let ws = site.pos.saturating_sub(HAP_FLANK).max(pileup.start);
    let we = (site.informative_end + HAP_FLANK).min(pileup.start + pileup.ref_seq.len() as u64);
    let ref_hap: Vec<u8> = (ws..we).map(|p| base_code(pileup.ref_base(p))).collect();
    let at = (site.pos - ws) as usize;
    let haps: Vec<Vec<u8>> = std::iter::once(ref_hap.clone())
        .chain(site.alts.iter().map(|a| {
            let mut h = ref_hap[..=at].to_vec();
            match a {
                AltKind::Snv(b) => {
                    h[at] = base_code(*b);
                    h.extend_from_slice(&ref_hap[at + 1..]);
                }
                AltKind::Del(l) => {
                    h.extend_from_slice(&ref_hap[(at + 1 + *l as usize).min(ref_hap.len())..])
                }
                AltKind::Ins(s) => {
                    h.extend(s.iter().map(|&c| base_code(c)));
                    h.extend_from_slice(&ref_hap[at + 1..]);
                }
            }
            h
        }))
        .collect();
    let max_shift = site.alts.iter().map(|a| match a {
        AltKind::Snv(_) => 0,
        AltKind::Del(l) => *l as i64,
        AltKind::Ins(s) => s.len() as i64,
    });
    let max_shift = max_shift.max().unwrap_or(0) + 1;
    reads
        .iter()
        .zip(cigar)
        .map(|(r, c)| {
            if matches!(c, Some(ReadAllele::Alt(_))) || r.end() <= ws || r.start >= we {
                return c;
            }
            // Ungapped scoring cannot judge reads with another indel in the window.
            if r.indels
                .iter()
                .any(|e| e.anchor() + 1 >= ws && e.anchor() < we && e.anchor() != site.pos)
            {
                return c;
            }
            let p = r.start.max(ws);
            let Some(&qi) = r.qidx.get((p - r.start) as usize) else {
                return c;
            };
            if qi == u32::MAX {
                return c;
            }
            let base_off = (p - ws) as i64 - qi as i64;
            // The one --min-baseq rule holds here too. A read rescored against the haplotypes
            // is evidence through its bases over the window, so it counts only when their mean
            // quality reaches --min-baseq (rescoring once let reads of any quality through, so
            // --min-baseq above every quality still called indels).
            // Read bases i with haplotype position i + base_off inside the window.
            let lo = (-base_off).clamp(0, r.seq_qual.len() as i64) as usize;
            let hi = (ref_hap.len() as i64 - base_off).clamp(lo as i64, r.seq_qual.len() as i64);
            let window_quals = &r.seq_qual[lo..hi as usize];
            let sum: u64 = window_quals.iter().map(|&q| q as u64).sum();
            if window_quals.is_empty() || sum < min_baseq as u64 * window_quals.len() as u64 {
                return c;
            }
            let costs: Vec<u32> = haps
                .iter()
                .map(|h| {
                    (-max_shift..=max_shift)
                        .map(|d| hap_cost(r, h, base_off + d))
                        .min()
                        .unwrap_or(u32::MAX)
                })
                .collect();
            let mut order: Vec<usize> = (0..costs.len()).collect();
            order.sort_by_key(|&i| (costs[i], i));
            let (best, second) = (order[0], order[1]);
            if costs[best] > MAX_HAP_COST {
                return Some(ReadAllele::Other);
            }
            if costs[second] < costs[best] + MIN_HAP_MARGIN {
                return None;
            }
            Some(if best == 0 {
                ReadAllele::Ref
            } else {
                ReadAllele::Alt(best - 1)
            })
        })
        .collect()
}

/// Sum of capped qualities of the read's bases that disagree with `hap` when read base `i`
/// sits at haplotype position `i + off`; bases off the haplotype cost nothing.
fn hap_cost(r: &AlignedRead, hap: &[u8], off: i64) -> u32 {
    let mut cost = 0u32;
    for (i, (&b, &q)) in r.seq.iter().zip(&r.seq_qual).enumerate() {
        let h = i as i64 + off;
        if h < 0 || h >= hap.len() as i64 || b > 3 {
            continue;
        }
        if hap[h as usize] != b {
            cost += q.min(40) as u32;
        }
    }
    cost
}

/// Reads per allele (REF first) from assignments.
pub fn allele_depths(assigned: &[Option<ReadAllele>], n_alts: usize) -> Vec<u32> {
    let mut ad = vec![0u32; n_alts + 1];
    for a in assigned.iter().flatten() {
        match a {
            ReadAllele::Ref => ad[0] += 1,
            ReadAllele::Alt(k) => ad[k + 1] += 1,
            ReadAllele::Other => {}
        }
    }
    ad
}

#[cfg(test)]
mod tests;
