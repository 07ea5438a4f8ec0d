//! The streaming depth cap (`--max-depth`) and the counts of what the read stage did with
//! each record.

use anyhow::Result;

use super::*;

/// FNV-1a of a read name, mixed: a fixed hash, so downsampling is identical on every run and
/// machine (mates share the hash, so they are kept together wherever coverage is the same).
pub fn name_hash(name: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in name {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // splitmix64 finaliser: FNV's low bits are weak for similar names.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The streaming depth cap. Reads arrive in alignment order; one whose start position has
/// coverage `c > max_depth` (reads passing the filters that span it, itself included) is
/// kept with probability `max_depth / c`, decided by its name hash. Unlike a first-come cap
/// this does not favour reads by position, and the decision depends only on the read and on
/// the reads over its start, never on where a fetch began, so every shard that sees a read
/// agrees about it. Memory is bounded by `max_depth`, not by raw depth: a read that cannot
/// be kept whatever comes next (its hash is above `max_depth / c` for the coverage seen so
/// far, which only grows) is dropped before it is decoded, and the rest wait only until the
/// reads starting at the same position have all been seen.
pub struct DepthCap<T = AlignedRead> {
    cap: f64,
    /// Ends of the counted reads that may still cover the current start.
    ends: std::collections::BinaryHeap<std::cmp::Reverse<u64>>,
    group_start: u64,
    pending: Vec<(f64, T)>,
    kept: Vec<T>,
    dropped: usize,
}

/// A read's name hash as a number in [0, 1).
fn hash_fraction(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

impl<T> DepthCap<T> {
    /// A cap of `max_depth` reads (at least 1).
    pub fn new(max_depth: usize) -> Self {
        Self {
            cap: max_depth.max(1) as f64,
            ends: Default::default(),
            group_start: 0,
            pending: Vec::new(),
            kept: Vec::new(),
            dropped: 0,
        }
    }

    fn close_group(&mut self) {
        let c = self.ends.len() as f64;
        let cap = self.cap;
        for (frac, r) in self.pending.drain(..) {
            if c <= cap || frac < cap / c {
                self.kept.push(r);
            } else {
                self.dropped += 1;
            }
        }
    }

    /// Offer the read `[start, end)` with name hash `hash`. `build` decodes it, and is called
    /// only when the read may be kept; `Ok(None)` from it means the read is not evidence
    /// (e.g. outside the wanted interval) though it still counts towards coverage.
    pub fn offer(
        &mut self,
        start: u64,
        end: u64,
        hash: u64,
        build: impl FnOnce() -> Result<Option<T>>,
    ) -> Result<()> {
        if start != self.group_start || self.ends.is_empty() {
            self.close_group();
            self.group_start = start;
            while self.ends.peek().is_some_and(|e| e.0 <= start) {
                self.ends.pop();
            }
        }
        self.ends.push(std::cmp::Reverse(end.max(start + 1)));
        let c = self.ends.len() as f64;
        let frac = hash_fraction(hash);
        if c > self.cap && frac >= self.cap / c {
            self.dropped += 1;
            return Ok(());
        }
        if let Some(r) = build()? {
            self.pending.push((frac, r));
        }
        Ok(())
    }

    /// The kept reads in arrival order, and how many were dropped by the cap.
    pub fn finish(mut self) -> (Vec<T>, usize) {
        self.close_group();
        (self.kept, self.dropped)
    }
}

/// Apply [`DepthCap`] to reads already in memory (tests and small tools); `(hash, read)`
/// pairs in alignment order.
pub fn downsample(reads: Vec<(u64, AlignedRead)>, max_depth: usize) -> Vec<AlignedRead> {
    let mut cap = DepthCap::new(max_depth);
    for (h, r) in reads {
        let (s, e) = (r.start, r.end());
        cap.offer(s, e, h, || Ok(Some(r)))
            .expect("building an in-memory read cannot fail");
    }
    cap.finish().0
}

/// What the read stage did with the records it saw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReadCounts {
    /// Records returned by the index query over the wanted interval.
    pub seen: u64,
    /// Unmapped, secondary, supplementary, duplicate or QC-fail.
    pub flagged: u64,
    /// MAPQ under `--min-mapq` (or 255, unknown).
    pub low_mapq: u64,
    /// From read groups of another sample.
    pub other_sample: u64,
    /// Stored without a sequence, or with no aligned base.
    pub unusable: u64,
    /// Dropped by the `--max-depth` cap.
    pub downsampled: u64,
    /// Kept as evidence.
    pub kept: u64,
}

impl ReadCounts {
    /// Set `downsampled` to the records no other count accounts for.
    pub(super) fn settle(&mut self) {
        self.downsampled = [
            self.flagged,
            self.low_mapq,
            self.other_sample,
            self.unusable,
            self.kept,
        ]
        .iter()
        .fold(self.seen, |left, &n| left.saturating_sub(n));
    }

    /// Add another interval's counts.
    pub fn add(&mut self, o: &ReadCounts) {
        self.seen += o.seen;
        self.flagged += o.flagged;
        self.low_mapq += o.low_mapq;
        self.other_sample += o.other_sample;
        self.unusable += o.unusable;
        self.downsampled += o.downsampled;
        self.kept += o.kept;
    }
}

/// Count a record in the fetch's counts when it is wanted, and in the owned counts when it
/// starts in the owned interval.
pub(super) fn bump(
    counts: &mut ReadCounts,
    owned: &mut ReadCounts,
    wanted: bool,
    mine: bool,
    field: fn(&mut ReadCounts) -> &mut u64,
) {
    *field(counts) += wanted as u64;
    *field(owned) += mine as u64;
}

/// The reads of one interval, after filters and the depth cap.
#[derive(Debug, Default)]
pub struct ReadBatch {
    /// Kept reads overlapping `[start, end)`, in alignment order.
    pub reads: Vec<AlignedRead>,
    /// Fetched interval (0-based, half-open).
    pub start: u64,
    /// End of the fetched interval.
    pub end: u64,
    /// What happened to the records.
    pub counts: ReadCounts,
    /// The same for the records that start in the owned interval of
    /// [`ReadSource::fetch_owning`] (a shard inside the fetch): summed over shards, these
    /// count every record once.
    pub owned: ReadCounts,
}
