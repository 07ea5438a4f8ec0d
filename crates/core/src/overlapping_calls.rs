//! Stage: overlapping calls. A diploid genome has two copies of each base, so calls whose
//! alleles overlap cannot put more ALT alleles on a base than the ploidy (a heterozygous
//! deletion overlapping a homozygous one asserts three). The model genotypes each site on its
//! own and can write such a group; this stage, in the writer and in genome order, gives an
//! incompatible group the most probable combination of genotypes that fits, as DeepVariant's
//! postprocessing does (`haplotypes.py`). Compatible groups, and every other record, are left
//! exactly as they are. The rule is in docs/accuracy.md ("Overlapping calls").
//!
//! Determinism: records come in genome order, a batch (a shard's records) at a time, with the
//! position before which every call has been seen; a group is resolved only once no later
//! call can join it, so the result does not depend on threads, shard size or region split.
use std::collections::VecDeque;

use crate::genotypes::{filter, genotypes, gq_of, posteriors_from_pl, Filter};
use crate::vcf::CallRecord;

/// A group of more overlapping calls than this is left as it is (its combinations grow as
/// the product of the calls' genotype counts).
pub const MAX_GROUP: usize = 6;
/// Nor is a group with more genotype combinations than this.
pub const MAX_COMBINATIONS: usize = 200_000;

/// Where an ALT allele of a record changes the reference, in half bases: base `b` (0-based)
/// is `2b`, and an insertion after base `b` is the point `2b + 1`. Shared leading and
/// trailing bases of REF and ALT (an indel's anchor) do not count.
pub fn allele_span(pos: u64, reference: &[u8], alt: &[u8]) -> (u64, u64) {
    let prefix = reference
        .iter()
        .zip(alt)
        .take_while(|(a, b)| a == b)
        .count();
    let rest = (reference.len() - prefix).min(alt.len() - prefix);
    let suffix = reference[prefix..]
        .iter()
        .rev()
        .zip(alt[prefix..].iter().rev())
        .take(rest)
        .take_while(|(a, b)| a == b)
        .count();
    let changed = reference.len() - prefix - suffix;
    let first = pos + prefix as u64;
    if changed == 0 {
        // An insertion between bases first - 1 and first.
        let point = (2 * first).saturating_sub(1);
        (point, point)
    } else {
        (2 * first, 2 * (first + changed as u64 - 1))
    }
}

/// Whether resolution considers a record: a non-reference PASS call.
fn takes_part(r: &CallRecord) -> bool {
    r.filter == Filter::Pass && (r.call.gt.0 > 0 || r.call.gt.1 > 0)
}

/// The genotypes a record could have, in PL order.
fn choices(r: &CallRecord) -> Vec<(usize, usize)> {
    if r.call.ploidy == 1 {
        (0..r.call.pl.len()).map(|a| (a, a)).collect()
    } else {
        genotypes(r.site.alt_alleles.len() + 1)
    }
}

/// The ALT alleles a genotype puts on the genome's copies (a haploid `(a, a)` is one copy).
fn alt_copies(gt: (usize, usize), ploidy: u8) -> Vec<usize> {
    let copies: &[usize] = if ploidy == 1 { &[gt.0] } else { &[gt.0, gt.1] };
    copies.iter().copied().filter(|&a| a > 0).collect()
}

/// The most ALT alleles over any base of `spans` (each span one allele on one copy).
fn max_load(spans: &[(u64, u64)]) -> usize {
    spans
        .iter()
        .map(|&(s, _)| spans.iter().filter(|&&(a, b)| a <= s && s <= b).count())
        .max()
        .unwrap_or(0)
}

/// The half-base span of all a record's ALT alleles together.
fn record_span(r: &CallRecord) -> (u64, u64) {
    spans_of(r)[1..]
        .iter()
        .fold((u64::MAX, 0), |(s, e), &(a, z)| (s.min(a), e.max(z)))
}

/// The ALT spans of each record's alleles (index 0, REF, has none).
fn spans_of(r: &CallRecord) -> Vec<(u64, u64)> {
    let mut v = vec![(0, 0)];
    v.extend(
        r.site
            .alt_alleles
            .iter()
            .map(|alt| allele_span(r.site.pos, &r.site.ref_allele, alt)),
    );
    v
}

/// Load of a group under one genotype per record.
fn load(group: &[&CallRecord], spans: &[Vec<(u64, u64)>], gts: &[(usize, usize)]) -> usize {
    let all: Vec<(u64, u64)> = group
        .iter()
        .zip(spans)
        .zip(gts)
        .flat_map(|((r, sp), &gt)| {
            alt_copies(gt, r.call.ploidy)
                .into_iter()
                .map(|a| sp[a])
                .collect::<Vec<_>>()
        })
        .collect();
    max_load(&all)
}

/// The genotypes an incompatible group should have: the compatible combination with the
/// smallest summed PL (ties: fewer ALT copies, then earlier in VCF order), or `None` when the
/// group is compatible as called or too large to search.
pub fn resolve(group: &[&CallRecord]) -> Option<Vec<(usize, usize)>> {
    let ploidy = group.iter().map(|r| r.call.ploidy).min()? as usize;
    let spans: Vec<Vec<(u64, u64)>> = group.iter().map(|r| spans_of(r)).collect();
    let called: Vec<(usize, usize)> = group.iter().map(|r| r.call.gt).collect();
    if group.len() > MAX_GROUP || load(group, &spans, &called) <= ploidy {
        return None;
    }
    let options: Vec<Vec<(usize, usize)>> = group.iter().map(|r| choices(r)).collect();
    let total = options
        .iter()
        .try_fold(1usize, |n, o| n.checked_mul(o.len()))?;
    if total > MAX_COMBINATIONS {
        log::debug!(
            "overlapping calls at {}:{}: {total} combinations, left as called",
            group[0].site.contig,
            group[0].site.pos + 1
        );
        return None;
    }
    // (summed PL, ALT copies) of the best so far, and its genotypes.
    type Scored = ((u64, usize), Vec<(usize, usize)>);
    let mut best: Option<Scored> = None;
    let mut index = vec![0usize; group.len()];
    loop {
        let gts: Vec<(usize, usize)> = index.iter().zip(&options).map(|(&i, o)| o[i]).collect();
        if load(group, &spans, &gts) <= ploidy {
            let pl: u64 = group
                .iter()
                .zip(&index)
                .map(|(r, &i)| u64::from(r.call.pl[i]))
                .sum();
            let copies: usize = gts
                .iter()
                .zip(group)
                .map(|(&gt, r)| alt_copies(gt, r.call.ploidy).len())
                .sum();
            if best.as_ref().is_none_or(|(k, _)| (pl, copies) < *k) {
                best = Some(((pl, copies), gts));
            }
        }
        // Next combination, the last record's genotype fastest.
        let mut k = group.len();
        loop {
            if k == 0 {
                return best.map(|(_, gts)| gts);
            }
            k -= 1;
            index[k] += 1;
            if index[k] < options[k].len() {
                break;
            }
            index[k] = 0;
        }
    }
}

/// Give `r` genotype `gt`: its GQ from its PL, its FILTER again. PL and QUAL stay.
fn regenotype(r: &mut CallRecord, gt: (usize, usize), min_qual: f64) {
    let i = choices(r)
        .iter()
        .position(|&g| g == gt)
        .expect("a genotype of its own");
    r.call.gt = gt;
    r.call.gq = gq_of(&posteriors_from_pl(&r.call.pl), i);
    r.filter = filter(&r.call, min_qual);
    if r.filter != Filter::Pass || gt.0 == gt.1 {
        // No longer a heterozygous PASS call: nothing to phase.
        r.het_reads.clear();
    }
}

struct Pending<T> {
    extra: T,
    /// Every call before this was seen when the batch came.
    end: u64,
    records: Vec<CallRecord>,
}

/// Resolves overlapping calls in batches handed over in genome order, and hands the batches
/// back, in order, once no later call can overlap theirs.
pub struct OverlapResolver<T> {
    min_qual: f64,
    contig: Option<String>,
    pending: VecDeque<Pending<T>>,
    /// Groups whose genotypes were changed.
    resolved: u64,
}

impl<T> OverlapResolver<T> {
    /// A resolver; `min_qual` as the genotyping's, for the FILTER of a changed call.
    pub fn new(min_qual: f64) -> Self {
        Self {
            min_qual,
            contig: None,
            pending: VecDeque::new(),
            resolved: 0,
        }
    }

    /// Take `records` (of `contig`, in position order, every call before `done_to` on it now
    /// seen) and return the batches that are final, in the order given.
    pub fn push(
        &mut self,
        contig: &str,
        done_to: u64,
        extra: T,
        records: Vec<CallRecord>,
    ) -> Vec<(T, Vec<CallRecord>)> {
        let mut out = Vec::new();
        if self.contig.as_deref() != Some(contig) {
            out = self.drain(u64::MAX);
            self.contig = Some(contig.to_string());
        }
        self.pending.push_back(Pending {
            extra,
            end: done_to,
            records,
        });
        out.extend(self.drain(done_to));
        out
    }

    /// The batches still held, once every call has been pushed.
    pub fn finish(mut self) -> (Vec<(T, Vec<CallRecord>)>, u64) {
        let out = self.drain(u64::MAX);
        (out, self.resolved)
    }

    /// Resolve the groups that end before `done_to` (no later call can reach them) and hand
    /// back the front batches whose records are all in such groups.
    fn drain(&mut self, done_to: u64) -> Vec<(T, Vec<CallRecord>)> {
        let horizon = done_to.saturating_mul(2).saturating_sub(1);
        // (batch, index) of every record taking part, in genome order, with its span.
        let mut members: Vec<((usize, usize), (u64, u64))> = Vec::new();
        for (b, p) in self.pending.iter().enumerate() {
            for (i, r) in p.records.iter().enumerate().filter(|(_, r)| takes_part(r)) {
                members.push(((b, i), record_span(r)));
            }
        }
        // Groups: runs of records whose spans overlap the run's reach so far.
        let mut groups: Vec<(Vec<(usize, usize)>, u64)> = Vec::new();
        for (at, (s, e)) in members {
            match groups.last_mut() {
                Some((g, reach)) if s <= *reach => {
                    g.push(at);
                    *reach = (*reach).max(e);
                }
                _ => groups.push((vec![at], e)),
            }
        }
        // The first batch holding a record of a group that may still grow.
        let mut open_from = self.pending.len();
        for (g, reach) in &groups {
            if *reach >= horizon && done_to != u64::MAX {
                open_from = open_from.min(g[0].0);
                continue;
            }
            if g.len() < 2 {
                continue;
            }
            let picked = {
                let recs: Vec<&CallRecord> = g
                    .iter()
                    .map(|&(b, i)| &self.pending[b].records[i])
                    .collect();
                resolve(&recs)
            };
            if let Some(gts) = picked {
                self.resolved += 1;
                let first = &self.pending[g[0].0].records[g[0].1].site;
                log::debug!(
                    "overlapping calls at {}:{}: genotypes {:?}",
                    first.contig,
                    first.pos + 1,
                    gts
                );
                for (&(b, i), gt) in g.iter().zip(gts) {
                    let r = &mut self.pending[b].records[i];
                    if r.call.gt != gt {
                        regenotype(r, gt, self.min_qual);
                    }
                }
            }
        }
        let mut out = Vec::new();
        let mut taken = 0;
        while taken < open_from && self.pending.front().is_some_and(|p| p.end <= done_to) {
            let p = self.pending.pop_front().expect("checked");
            out.push((p.extra, p.records));
            taken += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests;
