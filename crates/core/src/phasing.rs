//! Stage: phasing (`call --phase`). Heterozygous PASS calls linked by reads are put on
//! haplotypes and written `0|1` / `1|0` with `PS`, the position of the block's first variant
//! (as WhatsHap writes it).
//!
//! The method is a streaming, read-weighted majority, in the spirit of WhatsHap's weighted
//! minimum error correction but online. Each read that has been placed on a haplotype holds a
//! score: the sites of its block where it carried the allele on haplotype 1, minus those where
//! it carried the other. A new site is oriented by the reads it shares with earlier sites, each
//! voting for the orientation its haplotype implies with weight `min(|score|, 3)` (a read seen
//! agreeing at more sites is less likely mis-mapped or chimeric; capped so that one read cannot
//! outvote several). With no linking read a site starts a block. If its reads agree about
//! every block they link (80 % of the weight on one side; two thirds for an indel) it joins
//! the earliest, and later blocks it links are joined to that one. If they disagree it stays
//! unphased and the blocks go on past it (a wrong-looking site, often a false heterozygote,
//! neither joins nor cuts a block). With long reads, a site whose reads are split between
//! the haplotypes of a block more than errors explain, weighed against the model's
//! confidence, is filtered `PhaseConflict` ([`conflict`]), and only SNVs start blocks or
//! place reads ([`Phaser::new`]).
//!
//! Why not WhatsHap's exact dynamic programme or HapCUT2's max-cut: both need a whole
//! connected component in memory, and with long reads one component can be a whole contig;
//! varstream's memory is bounded by the shard and the reads' span. Phasing here holds only the
//! reads that can still reach a coming site, the records of the last [`MERGE_WINDOW`], and
//! those of a block that has one site so far (a block is written only once it has two: a
//! lone heterozygote is not phased, as in WhatsHap), at most [`MAX_HOLD`] of genome.
//!
//! Determinism: the phaser sees the calls in genome order, one shard's records after another,
//! and decides from them alone; the records and each read's alleles do not depend on threads,
//! shard size or how a run's regions are split (reads are identified across shards and mates
//! by [`crate::reads::name_hash`]), so neither does the phasing. Runs made separately (scatter
//! jobs) each phase their own region: blocks end at the edges of separately called regions.
use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::genotypes::{Call, Filter};
use crate::vcf::CallRecord;

/// A read's vote weighs at most this much, however many sites it agreed at.
pub const MAX_READ_WEIGHT: u32 = 3;
/// Per-read error (allele misread, or read misplaced) assumed of a true heterozygote when
/// weighing a split of its reads between haplotypes: SNVs, indels. Pessimistic on purpose
/// (long reads misread an SNV about 1 % of the time), so that only a split far beyond
/// what errors explain filters a call (see [`conflict`]).
pub const CONFLICT_ERROR: (f64, f64) = (0.1, 0.2);
/// Records are held until calls this far past them have been phased, so that a block
/// begun within this distance of a site that links it to an earlier block can still be
/// joined to it (renamed and turned); decided by positions alone, so that it does not
/// depend on the shards.
pub const MERGE_WINDOW: u64 = 100_000;
/// A block with one site is held back this far at most (genome bases past the site) waiting
/// for a read to link a second site; reads of up to this span phase whatever their length.
pub const MAX_HOLD: u64 = 300_000;

/// A read's allele at a candidate site: 0 for REF, `k + 1` for ALT `k` (before the genotype
/// drops the ALTs it does not use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SiteRead {
    /// [`crate::reads::AlignedRead::name`].
    pub read: u64,
    /// The allele.
    pub allele: u8,
    /// [`crate::reads::AlignedRead::reach`].
    pub reach: u64,
}

/// A read's allele at a heterozygous call: which of the genotype's two alleles it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HetRead {
    /// [`crate::reads::AlignedRead::name`].
    pub read: u64,
    /// It carries the GT's second allele (the `1` of `0/1`).
    pub second: bool,
    /// [`crate::reads::AlignedRead::reach`].
    pub reach: u64,
}

/// The reads of a heterozygous call with alleles `gt` (indices as in [`SiteRead::allele`]):
/// reads of other alleles are left out, and a read seen twice (overlapping mates) counts once,
/// or not at all where its mates disagree.
pub fn het_reads(reads: &[SiteRead], gt: (usize, usize)) -> Vec<HetRead> {
    let mut out: Vec<HetRead> = reads
        .iter()
        .filter(|r| r.allele as usize == gt.0 || r.allele as usize == gt.1)
        .map(|r| HetRead {
            read: r.read,
            second: r.allele as usize == gt.1,
            reach: r.reach,
        })
        .collect();
    out.sort_by_key(|h| (h.read, h.second));
    let mut kept: Vec<HetRead> = Vec::with_capacity(out.len());
    let mut i = 0;
    while i < out.len() {
        let j = out[i..].partition_point(|h| h.read == out[i].read) + i;
        if out[i..j].iter().all(|h| h.second == out[i].second) {
            let reach = out[i..j].iter().map(|h| h.reach).max().unwrap_or(0);
            kept.push(HetRead { reach, ..out[i] });
        }
        i = j;
    }
    kept
}

/// Where a phased call lies: its block and which way round its alleles are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phase {
    /// `PS`: 1-based position of the block's first variant.
    pub set: u64,
    /// The GT's second allele is on haplotype 1 (`1|0`).
    pub swapped: bool,
}

/// Whether phasing considers a call: a diploid heterozygous PASS call.
pub fn phasable(call: &Call, filter: Filter) -> bool {
    filter == Filter::Pass && call.ploidy == 2 && call.gt.0 != call.gt.1
}

/// Whether a heterozygous call whose `n` linking reads put `m` (at least one) on the
/// minority orientation of their block is a phase conflict: the split is likelier if the
/// reads' alleles do not follow the haplotypes at all (each side 1/2) than if the call is a
/// true heterozygote whose reads are wrong with probability [`CONFLICT_ERROR`], by more
/// than the model's own odds that the call is right (from its GQ).
pub fn conflict(n: u32, m: u32, snv: bool, gq: u32) -> bool {
    if m == 0 || 2 * m > n {
        return false;
    }
    let e = if snv {
        CONFLICT_ERROR.0
    } else {
        CONFLICT_ERROR.1
    };
    let (n, m) = (f64::from(n), f64::from(m));
    // log10 of the likelihood ratio, independent : true heterozygote.
    let log_lr = n * 0.5f64.log10() - (m * e.log10() + (n - m) * (1.0 - e).log10());
    // log10 of the odds that the call is right: P / (1 - P), with 1 - P = 10^(-GQ/10).
    let wrong = 10f64.powf(-f64::from(gq) / 10.0);
    let log_odds = (1.0 - wrong).max(f64::MIN_POSITIVE).log10() - wrong.log10();
    log_lr > log_odds
}

/// What the phaser made of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    Phased(Phase),
    Unphased,
    /// Filtered `PhaseConflict`.
    Conflict,
}

/// Reads linking a site to a block: their weight and number saying "as written" (the GT's
/// first allele on haplotype 1) and "swapped".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Vote {
    set: u64,
    as_written: u32,
    swapped: u32,
    reads_as_written: u32,
    reads_swapped: u32,
}

/// Phasing of one contig, for the stats file and the report.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ContigPhasing {
    /// The contig.
    pub contig: String,
    /// Heterozygous PASS calls (diploid).
    pub het_calls: u64,
    /// Of them, written phased.
    pub phased: u64,
    /// Phase blocks (each of at least two variants).
    pub blocks: u64,
    /// Heterozygous calls filtered `PhaseConflict` (not counted in `het_calls`).
    #[serde(default)]
    pub conflicts: u64,
    /// N50 of the blocks' spans (first to last variant, inclusive), in bases.
    pub block_n50: u64,
}

/// Phasing over a run.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PhasingStats {
    /// Per contig with a heterozygous call, in the order called.
    pub contigs: Vec<ContigPhasing>,
    /// The same over all contigs (N50 over every block).
    pub total: ContigPhasing,
}

struct ReadHap {
    set: u64,
    score: i32,
    reach: u64,
}

struct Block {
    last: u64,
    sites: u32,
    /// While the block has one site: that record (batch number, index) and the position from
    /// which no read can link it any more.
    single: Option<((u64, usize), u64)>,
}

struct Pending<T> {
    extra: T,
    /// Every call before this was seen when the batch came.
    end: u64,
    records: Vec<CallRecord>,
    /// One-site blocks in these records not yet decided.
    waiting: usize,
}

/// Phases calls handed over in genome order, a batch (a shard's records, with whatever the
/// writer needs beside them, `T`) at a time, and hands batches back once final, in order.
pub struct Phaser<T> {
    /// Short reads (Illumina): indels may start blocks and place reads (otherwise only SNVs
    /// do), and no call is filtered as a [`conflict`] (long reads only).
    short_reads: bool,
    contig: Option<String>,
    reads: HashMap<u64, ReadHap>,
    blocks: BTreeMap<u64, Block>,
    /// Blocks with one site (few at a time: those a read can still extend).
    singles: Vec<u64>,
    pending: VecDeque<Pending<T>>,
    /// Batch number of `pending[0]`.
    first: u64,
    /// Final batches not yet handed back.
    done: Vec<(T, Vec<CallRecord>)>,
    here: ContigPhasing,
    spans: Vec<u64>,
    all_spans: Vec<u64>,
    stats: PhasingStats,
}

impl<T> Default for Phaser<T> {
    /// For short reads: [`Phaser::new`]`(true)`.
    fn default() -> Self {
        Self::new(true)
    }
}

impl<T> Phaser<T> {
    /// A phaser for short reads (Illumina) or long ones.
    ///
    /// With short reads indels start blocks and place reads. Long reads' homopolymer-length
    /// errors make false heterozygous indels common (hundreds per Mb of ONT-like reads with
    /// the Illumina-trained model), and a false site that places reads costs the true ones
    /// after it their phase, so with long reads only SNVs build blocks and indels join them
    /// (as LongPhase does by default; WhatsHap's `--only-snvs` leaves indels out altogether).
    ///
    /// With long reads a split site is filtered `PhaseConflict` ([`conflict`]). Not with
    /// short reads: pairs link few reads per site, and where collapsed paralogs mix copies
    /// the reads' haplotypes mean little; on the held-out Illumina sets the filter removed
    /// two calls, both of truth alleles (one a true heterozygote), and no false one
    /// (docs/phasing.md).
    pub fn new(short_reads: bool) -> Self {
        Self {
            short_reads,
            contig: None,
            reads: HashMap::new(),
            blocks: BTreeMap::new(),
            singles: Vec::new(),
            pending: VecDeque::new(),
            first: 0,
            done: Vec::new(),
            here: ContigPhasing::default(),
            spans: Vec::new(),
            all_spans: Vec::new(),
            stats: PhasingStats::default(),
        }
    }

    /// Phase `records` (of `contig`, in position order, every call before `done_to` on it
    /// now seen) and return the batches that are final, in the order given.
    pub fn push(
        &mut self,
        contig: &str,
        done_to: u64,
        extra: T,
        records: Vec<CallRecord>,
    ) -> Vec<(T, Vec<CallRecord>)> {
        if self.contig.as_deref() != Some(contig) {
            self.end_contig();
            self.contig = Some(contig.to_string());
            self.here.contig = contig.to_string();
        }
        let n = records.len();
        self.pending.push_back(Pending {
            extra,
            end: done_to,
            records,
            waiting: 0,
        });
        let batch = self.first + self.pending.len() as u64 - 1;
        for i in 0..n {
            let rec = &mut self.pending.back_mut().expect("just pushed").records[i];
            if !phasable(&rec.call, rec.filter) {
                continue;
            }
            let pos = rec.site.pos;
            // Needed only here: the held record need not keep them.
            let reads = std::mem::take(&mut rec.het_reads);
            let snv = (0..rec.site.alts.len()).all(|k| rec.site.is_snv(k));
            let gq = rec.call.gq;
            self.expire(pos);
            let placed = self.place(pos, &reads, snv, gq, (batch, i));
            let rec = &mut self.pending.back_mut().expect("just pushed").records[i];
            match placed {
                Placement::Conflict => {
                    rec.filter = Filter::PhaseConflict;
                    self.here.conflicts += 1;
                }
                Placement::Phased(phase) => {
                    rec.phase = Some(phase);
                    self.here.het_calls += 1;
                }
                Placement::Unphased => self.here.het_calls += 1,
            }
        }
        self.expire(done_to);
        self.reads.retain(|_, h| h.reach > done_to);
        self.ready(done_to.saturating_sub(MERGE_WINDOW));
        std::mem::take(&mut self.done)
    }

    /// The batches still held, once every call has been pushed; and the stats.
    pub fn finish(mut self) -> (Vec<(T, Vec<CallRecord>)>, PhasingStats) {
        self.end_contig();
        debug_assert!(self.pending.is_empty(), "bug: a batch held past its contig");
        self.stats.total.block_n50 = n50(&mut self.all_spans);
        (self.done, self.stats)
    }

    /// Orient the site at `pos` by its reads: join a block, start one, stay unphased, or be
    /// filtered as a [`conflict`]. Reads that disagree about a block (under 80 % of the
    /// weight on one side; two thirds for an indel, whose reads' alleles homopolymer-length
    /// errors make noisier) leave the site unphased. A site places its reads on haplotypes
    /// only when 80 % agree, so an indel joined on a weaker majority is a passenger.
    fn place(
        &mut self,
        pos: u64,
        reads: &[HetRead],
        snv: bool,
        gq: u32,
        at: (u64, usize),
    ) -> Placement {
        let mut votes: Vec<Vote> = Vec::new();
        for r in reads {
            let Some(h) = self.reads.get(&r.read) else {
                continue;
            };
            // A read of a block that ended with one site (removed) no longer links anything.
            if h.score == 0 || !self.blocks.contains_key(&h.set) {
                continue;
            }
            let w = h.score.unsigned_abs().min(MAX_READ_WEIGHT);
            let as_written = (h.score > 0) != r.second;
            let v = match votes.iter_mut().find(|v| v.set == h.set) {
                Some(v) => v,
                None => {
                    votes.push(Vote {
                        set: h.set,
                        as_written: 0,
                        swapped: 0,
                        reads_as_written: 0,
                        reads_swapped: 0,
                    });
                    votes.last_mut().expect("just pushed")
                }
            };
            if as_written {
                v.as_written += w;
                v.reads_as_written += 1;
            } else {
                v.swapped += w;
                v.reads_swapped += 1;
            }
        }
        log::trace!(
            "phasing {}: {} reads, votes {votes:?}",
            pos + 1,
            reads.len()
        );
        votes.sort_unstable();
        // Long reads: the block most reads link (the earliest of equals) judges a conflict.
        let judge = votes.iter().max_by_key(|v| {
            (
                v.reads_as_written + v.reads_swapped,
                std::cmp::Reverse(v.set),
            )
        });
        if let Some(v) = judge.filter(|_| !self.short_reads) {
            let n = v.reads_as_written + v.reads_swapped;
            if conflict(n, v.reads_as_written.min(v.reads_swapped), snv, gq) {
                return Placement::Conflict;
            }
        }
        let anchors = snv || self.short_reads;
        let ratio = if snv { 4 } else { 2 };
        // Every vote weighs at least 1, so any one read links.
        let clear = |v: &Vote| v.as_written.max(v.swapped) >= ratio * v.as_written.min(v.swapped);
        if votes.is_empty() {
            if reads.is_empty() || !anchors {
                return Placement::Unphased;
            }
            let set = pos + 1;
            let expires = reads.iter().map(|r| r.reach).max().unwrap_or(0);
            self.blocks.insert(
                set,
                Block {
                    last: pos,
                    sites: 1,
                    single: Some((at, expires.min(pos + MAX_HOLD))),
                },
            );
            self.singles.push(set);
            self.pending_mut(at.0).waiting += 1;
            self.record_reads(set, false, reads);
            return Placement::Phased(Phase {
                set,
                swapped: false,
            });
        }
        if !votes.iter().all(clear) {
            return Placement::Unphased;
        }
        // The earliest block it links clearly; later blocks it links join it.
        let Vote {
            set,
            as_written,
            swapped,
            ..
        } = votes[0];
        let places = anchors && as_written.max(swapped) >= 4 * as_written.min(swapped);
        let swapped = swapped > as_written;
        if !places {
            return Placement::Phased(Phase { set, swapped });
        }
        self.merge_blocks(pos, set, swapped, &votes[1..]);
        let block = self.blocks.get_mut(&set).expect("voted for");
        block.last = pos;
        block.sites += 1;
        if let Some(((batch, _), _)) = block.single.take() {
            self.singles.retain(|&s| s != set);
            self.pending_mut(batch).waiting -= 1;
        }
        self.record_reads(set, swapped, reads);
        Placement::Phased(Phase { set, swapped })
    }

    /// A site joining block `set` (`swapped` there) that also links, clearly, later blocks
    /// (`others`) joins them: a block that began within [`MERGE_WINDOW`] of the site (so
    /// every record of it is still held) is turned to agree and renamed, and its reads
    /// follow. Without this, a site between two others that reads link only to the later
    /// one starts a block of its own, and the blocks it links stay apart.
    fn merge_blocks(&mut self, pos: u64, set: u64, swapped: bool, others: &[Vote]) {
        for &Vote {
            set: other,
            as_written,
            swapped: turned,
            ..
        } in others
        {
            if other + MERGE_WINDOW <= pos + 1 {
                continue;
            }
            let Some(b) = self.blocks.remove(&other) else {
                continue;
            };
            let flip = (turned > as_written) != swapped;
            if let Some(((batch, _), _)) = b.single {
                self.singles.retain(|&s| s != other);
                self.pending_mut(batch).waiting -= 1;
            }
            let target = self.blocks.get_mut(&set).expect("voted for");
            target.sites += b.sites;
            target.last = target.last.max(b.last);
            for r in self.pending.iter_mut().flat_map(|p| p.records.iter_mut()) {
                if let Some(ph) = r.phase.as_mut().filter(|ph| ph.set == other) {
                    ph.set = set;
                    ph.swapped ^= flip;
                }
            }
            for h in self.reads.values_mut().filter(|h| h.set == other) {
                h.set = set;
                if flip {
                    h.score = -h.score;
                }
            }
        }
    }

    /// Place each read on the haplotype its allele at a site of block `set` implies.
    fn record_reads(&mut self, set: u64, swapped: bool, reads: &[HetRead]) {
        for r in reads {
            let h = self.reads.entry(r.read).or_insert(ReadHap {
                set,
                score: 0,
                reach: 0,
            });
            if h.set != set {
                *h = ReadHap {
                    set,
                    score: 0,
                    reach: 0,
                };
            }
            h.score += if r.second == swapped { 1 } else { -1 };
            h.reach = h.reach.max(r.reach);
        }
    }

    /// One-site blocks that no read can extend once calls up to `pos` are seen are not
    /// phased after all, and are forgotten.
    fn expire(&mut self, pos: u64) {
        let blocks = &self.blocks;
        let (ended, open): (Vec<u64>, Vec<u64>) = self
            .singles
            .iter()
            .partition(|s| blocks[s].single.is_some_and(|(_, e)| e <= pos));
        self.singles = open;
        for set in ended {
            let b = self.blocks.remove(&set).expect("listed");
            let ((batch, i), _) = b.single.expect("listed");
            let p = self.pending_mut(batch);
            p.waiting -= 1;
            p.records[i].phase = None;
        }
    }

    fn pending_mut(&mut self, batch: u64) -> &mut Pending<T> {
        &mut self.pending[(batch - self.first) as usize]
    }

    /// Move the batches at the front with nothing undecided and ending by `final_to` to
    /// `done`, counted into the stats.
    fn ready(&mut self, final_to: u64) {
        while self
            .pending
            .front()
            .is_some_and(|p| p.waiting == 0 && p.end <= final_to)
        {
            let p = self.pending.pop_front().expect("checked");
            self.first += 1;
            self.here.phased += p.records.iter().filter(|r| r.phase.is_some()).count() as u64;
            self.done.push((p.extra, p.records));
        }
    }

    /// Undecided blocks of the contig are not phased; its blocks go into the stats.
    fn end_contig(&mut self) {
        self.expire(u64::MAX);
        self.ready(u64::MAX);
        for (set, b) in std::mem::take(&mut self.blocks) {
            if b.sites >= 2 {
                self.here.blocks += 1;
                self.spans.push(b.last + 2 - set);
            }
        }
        self.reads.clear();
        if self.contig.is_some() {
            self.here.block_n50 = n50(&mut self.spans);
            self.all_spans.append(&mut self.spans);
            let here = std::mem::take(&mut self.here);
            let t = &mut self.stats.total;
            t.het_calls += here.het_calls;
            t.phased += here.phased;
            t.blocks += here.blocks;
            t.conflicts += here.conflicts;
            if here.het_calls + here.conflicts > 0 {
                self.stats.contigs.push(here);
            }
        }
    }
}

/// N50 of `spans`: the span such that blocks at least that long cover half the total.
pub fn n50(spans: &mut [u64]) -> u64 {
    spans.sort_unstable_by(|a, b| b.cmp(a));
    let total: u64 = spans.iter().sum();
    let mut acc = 0;
    for &s in spans.iter() {
        acc += s;
        if 2 * acc >= total {
            return s;
        }
    }
    0
}

#[cfg(test)]
mod tests;
