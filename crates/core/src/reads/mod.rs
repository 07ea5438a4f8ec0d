//! Stage: reads. Opening BAM/CRAM, filtering records, and turning each kept alignment into a
//! compact per-reference-position view that the candidate and tensor stages share.
//!
//! Here: the read as the stages see it ([`AlignedRead`]) and the filters. [`source`]: the
//! open file ([`ReadSource`]), its header and the records of an interval; [`decode`]: one
//! record into an [`AlignedRead`] (or its slice over the fetch); [`depth_cap`]: the streaming
//! `--max-depth` cap and the counts of what happened to each record.

/// Code in [`AlignedRead::bases`] for a reference position the read deletes.
pub const DEL: u8 = 5;
/// Code for an `N` (skipped) reference position or an unknown base.
pub const GAP: u8 = 6;
/// Base quality assumed for reads stored without qualities (`*` in SAM).
pub const MISSING_BASEQ: u8 = 20;

/// Read filters and the depth cap.
#[derive(Debug, Clone)]
pub struct ReadFilter {
    /// Drop reads with mapping quality below this.
    pub min_mapq: u8,
    /// Bases below this quality are not counted as evidence.
    pub min_baseq: u8,
    /// Reads over deeper positions are downsampled to about this depth.
    pub max_depth: usize,
}

impl Default for ReadFilter {
    fn default() -> Self {
        Self {
            min_mapq: 5,
            min_baseq: 10,
            max_depth: 250,
        }
    }
}

/// Flags that remove a read from calling: unmapped, secondary, QC-fail, duplicate, supplementary.
pub const EXCLUDE_FLAGS: u16 = 0x4 | 0x100 | 0x200 | 0x400 | 0x800;

/// An indel in a read, anchored at the reference base before it (VCF convention, 0-based).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Indel {
    /// `len` reference bases after `anchor` are deleted.
    Del { anchor: u64, len: u32 },
    /// `seq` is inserted after `anchor`.
    Ins { anchor: u64, seq: Vec<u8> },
}

impl Indel {
    /// The anchor position (0-based).
    pub fn anchor(&self) -> u64 {
        match self {
            Indel::Del { anchor, .. } | Indel::Ins { anchor, .. } => *anchor,
        }
    }
}

/// One kept alignment, reduced to what calling needs.
#[derive(Debug, Clone)]
pub struct AlignedRead {
    /// First aligned reference position (0-based).
    pub start: u64,
    /// Reverse strand.
    pub reverse: bool,
    /// Mapping quality.
    pub mapq: u8,
    /// Per reference position from `start`: 0-3 = A,C,G,T; 4 = N; [`DEL`]; [`GAP`].
    pub bases: Vec<u8>,
    /// Base quality per reference position (0 where deleted).
    pub quals: Vec<u8>,
    /// Indels in reference order.
    pub indels: Vec<Indel>,
    /// The read's bases as codes 0-4, soft clips included (for re-scoring against haplotypes).
    pub seq: Vec<u8>,
    /// Base qualities of `seq`.
    pub seq_qual: Vec<u8>,
    /// Index into `seq` of the base aligned at each reference position (`u32::MAX` if none).
    pub qidx: Vec<u32>,
    /// Soft-clipped bases before the first aligned base.
    pub clip_left: u32,
    /// Soft-clipped bases after the last aligned base.
    pub clip_right: u32,
    /// The record's alignment, soft clips included, spans more than [`SLICE_PAD`] of
    /// reference: it may be held as a slice ([`from_record_in`]), and the realigner, which
    /// places whole reads, leaves it as aligned. Shorter reads are never sliced.
    pub long: bool,
    /// [`name_hash`] of the read's name: mates share it, and the shards that see a read agree
    /// on it, so phasing links a read's alleles across sites, mates and shards.
    pub name: u64,
    /// The read's alignment end, or past its mate's start when the mate aligns further right
    /// on the same contig: no site at or after this can be linked through this read (phasing
    /// forgets it there; a slice's `end()` is only the slice's).
    pub reach: u64,
}

impl AlignedRead {
    /// A read built from per-reference-position codes (tests and fixtures): its sequence is
    /// the aligned bases, no clips; inserted bases come from `indels`.
    pub fn synthetic(
        start: u64,
        reverse: bool,
        bases: Vec<u8>,
        quals: Vec<u8>,
        indels: Vec<Indel>,
    ) -> Self {
        let mut seq = Vec::new();
        let mut seq_qual = Vec::new();
        let mut qidx = Vec::new();
        for (k, (&b, &q)) in bases.iter().zip(&quals).enumerate() {
            if b <= 4 {
                qidx.push(seq.len() as u32);
                seq.push(b);
                seq_qual.push(q);
            } else {
                qidx.push(u32::MAX);
            }
            for ev in &indels {
                if let Indel::Ins { anchor, seq: ins } = ev {
                    if *anchor == start + k as u64 {
                        seq.extend(ins.iter().map(|&c| base_code(c)));
                        seq_qual.extend(std::iter::repeat_n(q, ins.len()));
                    }
                }
            }
        }
        let span = bases.len() as u64;
        AlignedRead {
            start,
            reverse,
            mapq: 60,
            bases,
            quals,
            indels,
            seq,
            seq_qual,
            qidx,
            clip_left: 0,
            clip_right: 0,
            long: false,
            // Synthetic reads are unnamed: each is its own read for phasing.
            name: name_hash(format!("synthetic:{start}:{reverse}:{span}").as_bytes()),
            reach: start + span,
        }
    }

    /// Exclusive end on the reference.
    pub fn end(&self) -> u64 {
        self.start + self.bases.len() as u64
    }

    /// Base code at reference position `pos`, if the read spans it.
    pub fn base_at(&self, pos: u64) -> Option<(u8, u8)> {
        let i = pos.checked_sub(self.start)? as usize;
        Some((*self.bases.get(i)?, self.quals[i]))
    }
}

/// Map an ASCII base to 0-3 (A,C,G,T) or 4.
pub fn base_code(b: u8) -> u8 {
    match b {
        b'A' | b'a' => 0,
        b'C' | b'c' => 1,
        b'G' | b'g' => 2,
        b'T' | b't' => 3,
        _ => 4,
    }
}

/// A kept read is cut to the interval it was fetched for, widened by this much on each side:
/// only that slice of a long read is decoded and held, so memory follows the shard and
/// `--max-depth`, never the read's length. No short read is ever cut (its whole span lies
/// within this of any interval it overlaps), and the reference a shard loads reaches this far
/// too ([`crate::shard_stages::REF_PAD`]), so a slice never runs past its reference.
pub const SLICE_PAD: u64 = 1_000;
pub mod decode;
pub mod depth_cap;
pub mod source;
#[cfg(test)]
mod tests;

pub use decode::*;
pub use depth_cap::*;
pub use source::*;
