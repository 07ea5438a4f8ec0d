//! Stage: reads. Opening BAM/CRAM, filtering records, and turning each kept alignment into a
//! compact per-reference-position view that the candidate and tensor stages share.
use std::path::{Path, PathBuf};

use anyhow::Result;
use rust_htslib::bam::{self, ext::BamRecordExtensions as _, record::Cigar, Read as _};

use crate::errors::input_error;

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

/// A record whose CIGAR consumes another number of query bases than its SEQ holds is corrupt
/// (SEQ `*`, length 0, is allowed: such reads are skipped).
pub fn check_cigar_length(rec: &bam::Record) -> Result<()> {
    // No sequence, or no CIGAR (`*`): nothing to compare.
    if rec.seq_len() == 0 || rec.cigar_len() == 0 {
        return Ok(());
    }
    // From the packed CIGAR: `rec.cigar()` allocates a parsed copy per call.
    let query_len: usize = rec
        .raw_cigar()
        .iter()
        .map(|&c| match c & 0xf {
            CIGAR_M | CIGAR_I | CIGAR_S | CIGAR_EQ | CIGAR_X => (c >> 4) as usize,
            _ => 0,
        })
        .sum();
    if query_len != rec.seq_len() {
        return Err(crate::errors::input_error(format!(
            "read {} at position {}: CIGAR covers {query_len} bases but SEQ has {}",
            String::from_utf8_lossy(rec.qname()),
            rec.pos() + 1,
            rec.seq_len()
        )));
    }
    Ok(())
}

// BAM's CIGAR operation codes (SAM specification, section 4.2).
const CIGAR_M: u32 = 0;
const CIGAR_I: u32 = 1;
const CIGAR_D: u32 = 2;
const CIGAR_N: u32 = 3;
const CIGAR_S: u32 = 4;
const CIGAR_EQ: u32 = 7;
const CIGAR_X: u32 = 8;

/// Why a record cannot be used as evidence although it passed the filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// Stored without its sequence (SEQ `*`), as some pipelines do for secondary copies.
    NoSequence,
    /// No aligned base (only clips or insertions).
    NoAlignedBase,
}

/// Build an [`AlignedRead`] from a record, or say why it cannot be used. A CIGAR whose query
/// length differs from the sequence's is corrupt input: an error naming the read.
pub fn from_record(rec: &bam::Record) -> Result<std::result::Result<AlignedRead, Unusable>> {
    from_record_in(rec, 0, u64::MAX, None)
}

/// [`from_record`] for the slice of the read over the reference interval `[lo, hi)`; only that
/// part of the record is decoded. A read cut on a side starts (or ends) at its first (last)
/// aligned base inside the interval, keeps no soft clip there, and drops the indels the cut
/// splits (a deletion running past it, an insertion at its edge). On a side that is not cut, a
/// soft clip keeps the bases that would lie inside `[lo, hi)`. `NoAlignedBase` when no aligned
/// base of the read lies inside.
///
/// `reference` (ASCII bases and the 0-based position of the first) resolves an aligned base
/// stored as `=` (SEQ written by `samtools calmd -e`) to the reference base there; without it,
/// or outside it, `=` reads as `N`.
pub fn from_record_in(
    rec: &bam::Record,
    lo: u64,
    hi: u64,
    reference: Option<(&[u8], u64)>,
) -> Result<std::result::Result<AlignedRead, Unusable>> {
    if !cigar_ops_known(rec) {
        return Err(crate::errors::input_error(format!(
            "read {} has an unknown CIGAR operation",
            String::from_utf8_lossy(rec.qname())
        )));
    }
    if rec.seq_len() == 0 {
        return Ok(Err(Unusable::NoSequence));
    }
    check_cigar_length(rec)?;
    let n_seq = rec.seq_len();
    let rec_start = rec.pos().max(0) as u64;
    // First walk: the reference end, the soft clips, and the query indices of the first and
    // last aligned bases inside [lo, hi).
    let (mut rpos, mut qpos) = (rec_start, 0usize);
    let (mut soft_left, mut soft_right) = (0u32, 0u32);
    let mut consumed_ref = false;
    let mut first_in: Option<(u64, usize)> = None;
    let mut last_in: Option<(u64, usize)> = None;
    for &c in rec.raw_cigar() {
        let n = c >> 4;
        if n == 0 {
            continue;
        }
        match c & 0xf {
            CIGAR_M | CIGAR_EQ | CIGAR_X => {
                let (a, b) = (rpos.max(lo), (rpos + n as u64).min(hi));
                if a < b {
                    first_in.get_or_insert((a, qpos + (a - rpos) as usize));
                    last_in = Some((b - 1, qpos + (b - 1 - rpos) as usize));
                }
                rpos += n as u64;
                qpos += n as usize;
                consumed_ref = true;
            }
            CIGAR_I => qpos += n as usize,
            CIGAR_D | CIGAR_N => {
                rpos += n as u64;
                consumed_ref = true;
            }
            CIGAR_S => {
                if consumed_ref {
                    soft_right += n;
                } else {
                    soft_left += n;
                }
                qpos += n as usize;
            }
            _ => {}
        }
    }
    let rec_end = rpos;
    if rec_end == rec_start {
        return Ok(Err(Unusable::NoAlignedBase));
    }
    let footprint = (rec_end - rec_start) + soft_left as u64 + soft_right as u64;
    let (Some((first_pos, first_q)), Some((last_pos, last_q))) = (first_in, last_in) else {
        return Ok(Err(Unusable::NoAlignedBase));
    };
    let cut_left = rec_start < lo;
    let cut_right = rec_end > hi;
    // The slice [start, end) on the reference and [q0, q1) of the query.
    let (start, clip_left, q0) = if cut_left {
        (first_pos, 0, first_q)
    } else {
        let keep = (soft_left as u64).min(rec_start - lo) as u32;
        (rec_start, keep, (soft_left - keep) as usize)
    };
    let (end, clip_right, q1) = if cut_right {
        (last_pos + 1, 0, last_q + 1)
    } else {
        let keep = (soft_right as u64).min(hi - rec_end) as u32;
        (rec_end, keep, n_seq - (soft_right - keep) as usize)
    };
    // The sequence is decoded once, from its 4-bit packing, into base codes; the
    // per-position vectors are then filled by whole CIGAR operations. Decoding base by base
    // through `Seq`'s index was a third of all instructions of a run.
    let packed = rec.seq().encoded;
    let nibble = |i: usize| (packed[i / 2] >> ((1 - i % 2) * 4)) & 0xf;
    let mut seq: Vec<u8> = Vec::with_capacity(q1 - q0 + 1);
    if q0 % 2 == 1 {
        seq.push(NIBBLE_CODE[nibble(q0) as usize]);
    }
    for &pair in &packed[q0.div_ceil(2)..q1.div_ceil(2)] {
        seq.extend_from_slice(&NIBBLE_CODE_PAIRS[pair as usize]);
    }
    seq.truncate(q1 - q0);
    let qual = rec.qual();
    let seq_qual: Vec<u8> = if qual.first().is_none_or(|&q| q == 255) {
        vec![MISSING_BASEQ; q1 - q0]
    } else {
        qual[q0..q1].to_vec()
    };
    let span = (end - start) as usize;
    let mut bases = Vec::with_capacity(span);
    let mut quals = Vec::with_capacity(span);
    let mut qidx = Vec::with_capacity(span);
    let mut indels = Vec::new();
    // Second walk: fill [start, end).
    let (mut rpos, mut qpos) = (rec_start, 0usize);
    for &c in rec.raw_cigar() {
        let n = c >> 4;
        // Zero-length operations (`0M`, `0I`) are legal and mean nothing.
        if n == 0 {
            continue;
        }
        let (a, b) = (rpos.max(start), (rpos + n as u64).min(end));
        match c & 0xf {
            CIGAR_M | CIGAR_EQ | CIGAR_X => {
                if a < b {
                    let q = qpos + (a - rpos) as usize - q0..qpos + (b - rpos) as usize - q0;
                    if let Some((ref_seq, ref_start)) = reference {
                        for (i, pos) in q.clone().zip(a..b) {
                            // Nibble 0 is `=`: the reference base.
                            if nibble(i + q0) == 0 {
                                let at = pos.checked_sub(ref_start).map(|k| k as usize);
                                seq[i] =
                                    at.and_then(|k| ref_seq.get(k)).map_or(4, |&c| base_code(c));
                            }
                        }
                    }
                    bases.extend_from_slice(&seq[q.clone()]);
                    quals.extend_from_slice(&seq_qual[q.clone()]);
                    qidx.extend(q.map(|i| i as u32));
                }
                rpos += n as u64;
                qpos += n as usize;
            }
            CIGAR_I => {
                // An insertion needs its anchor (the base before it) and, where the read was
                // cut, the base after it inside the slice; one before any aligned base has no
                // anchor on the reference.
                let inside = rpos > start && (rpos < end || (rpos == end && !cut_right));
                if inside && !bases.is_empty() {
                    indels.push(Indel::Ins {
                        anchor: rpos - 1,
                        seq: (qpos..qpos + n as usize)
                            .map(|i| NIBBLE_ASCII[nibble(i) as usize])
                            .collect(),
                    });
                }
                qpos += n as usize;
            }
            CIGAR_D | CIGAR_N => {
                if a < b {
                    let code = if c & 0xf == CIGAR_D { DEL } else { GAP };
                    // A deletion is kept when the slice holds its anchor and, where the read
                    // was cut, the base after it.
                    let whole = rpos > start && (rpos + n as u64 <= end || !cut_right);
                    if code == DEL && whole && !bases.is_empty() {
                        indels.push(Indel::Del {
                            anchor: rpos - 1,
                            len: n,
                        });
                    }
                    bases.resize(bases.len() + (b - a) as usize, code);
                    quals.resize(quals.len() + (b - a) as usize, 0);
                    qidx.resize(qidx.len() + (b - a) as usize, u32::MAX);
                }
                rpos += n as u64;
            }
            CIGAR_S => qpos += n as usize,
            // H and P consume nothing; unknown codes were refused above.
            _ => {}
        }
    }
    Ok(Ok(AlignedRead {
        start,
        reverse: rec.is_reverse(),
        mapq: rec.mapq(),
        bases,
        quals,
        indels,
        seq,
        seq_qual,
        qidx,
        clip_left,
        clip_right,
        long: footprint > SLICE_PAD,
    }))
}

/// BAM's 4-bit base codes (`=ACMGRSVTWYHKDBN`) as [`base_code`]s: A, C, G, T are 0-3, the
/// rest (ambiguity codes, `=`, `N`) 4.
const NIBBLE_CODE: [u8; 16] = [4, 0, 1, 4, 2, 4, 4, 4, 3, 4, 4, 4, 4, 4, 4, 4];
/// [`NIBBLE_CODE`] for both bases of a packed byte (high nibble first), decoding two at once.
const NIBBLE_CODE_PAIRS: [[u8; 2]; 256] = {
    let mut t = [[0u8; 2]; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = [NIBBLE_CODE[b >> 4], NIBBLE_CODE[b & 0xf]];
        b += 1;
    }
    t
};
/// The same codes as ASCII, as htslib's `Seq` gives them.
const NIBBLE_ASCII: &[u8; 16] = b"=ACMGRSVTWYHKDBN";

/// Reference intervals `[start, end)` that a record's bases or deletions cover (`N` skips
/// excluded), as [`crate::candidates::median_depth`] counts them; `None` for a record with
/// no sequence or no aligned base, which [`from_record`] would not use either.
pub fn aligned_blocks(rec: &bam::Record) -> Option<Vec<(u64, u64)>> {
    if rec.seq_len() == 0 {
        return None;
    }
    let mut pos = rec.pos().max(0) as u64;
    let mut blocks: Vec<(u64, u64)> = Vec::new();
    // Like `from_record`: every M/=/X/D position counts, N skips do not, and a record with
    // no reference-consuming operation is not used.
    let mut any_base = false;
    for op in rec.cigar().iter() {
        let (len, covers) = match *op {
            Cigar::Match(n) | Cigar::Equal(n) | Cigar::Diff(n) | Cigar::Del(n) => (n as u64, true),
            Cigar::RefSkip(n) => (n as u64, false),
            _ => (0, false),
        };
        any_base |= len > 0;
        if covers && len > 0 {
            match blocks.last_mut() {
                Some(b) if b.1 == pos => b.1 = pos + len,
                _ => blocks.push((pos, pos + len)),
            }
        }
        pos += len;
    }
    any_base.then_some(blocks)
}

/// Shift each indel to its leftmost equivalent position, so that reads aligned with the same
/// event in different places of a repeat agree. `ref_seq` starts at `ref_start`.
pub fn left_align(read: &mut AlignedRead, ref_seq: &[u8], ref_start: u64) {
    let ref_at = |pos: u64| -> Option<u8> {
        pos.checked_sub(ref_start)
            .and_then(|i| ref_seq.get(i as usize))
            .map(|&b| base_code(b))
    };
    let other_anchors: Vec<u64> = read.indels.iter().map(Indel::anchor).collect();
    let start = read.start;
    // An indel stops at the read's first base or where it would touch another of its indels.
    let blocked = |k: usize, anchor: u64| {
        anchor <= start
            || other_anchors
                .iter()
                .enumerate()
                .any(|(j, &a)| j != k && a == anchor - 1)
    };
    for k in 0..read.indels.len() {
        match read.indels[k].clone() {
            Indel::Del { mut anchor, len } => {
                let len64 = len as u64;
                loop {
                    // Shifting moves the read base at `anchor` to the deletion's last position.
                    if blocked(k, anchor) {
                        break;
                    }
                    let i = (anchor - read.start) as usize;
                    let b = read.bases[i];
                    if b > 3 || Some(b) != ref_at(anchor + len64) {
                        break;
                    }
                    let q = read.quals[i];
                    let last = i + len as usize;
                    read.bases[last] = b;
                    read.quals[last] = q;
                    read.qidx[last] = read.qidx[i];
                    read.bases[i] = DEL;
                    read.quals[i] = 0;
                    read.qidx[i] = u32::MAX;
                    anchor -= 1;
                }
                read.indels[k] = Indel::Del { anchor, len };
            }
            Indel::Ins {
                mut anchor,
                mut seq,
            } => {
                loop {
                    if blocked(k, anchor) {
                        break;
                    }
                    let i = (anchor - read.start) as usize;
                    let b = read.bases[i];
                    let last = *seq.last().expect("bug: empty insertion");
                    if b > 3 || b != base_code(last) {
                        break;
                    }
                    // Rotating the inserted sequence leaves the aligned bases unchanged.
                    seq.rotate_right(1);
                    anchor -= 1;
                }
                read.indels[k] = Indel::Ins { anchor, seq };
            }
        }
    }
    read.indels.sort();
}

/// A read from text for tests: `ACGT` per reference position, `-` for a deleted one, BQ 30.
#[cfg(test)]
pub(crate) fn test_read(start: u64, seq: &str, indels: Vec<Indel>, reverse: bool) -> AlignedRead {
    let bases: Vec<u8> = seq
        .bytes()
        .map(|b| if b == b'-' { DEL } else { base_code(b) })
        .collect();
    let quals = bases
        .iter()
        .map(|&b| if b == DEL { 0 } else { 30 })
        .collect();
    AlignedRead::synthetic(start, reverse, bases, quals, indels)
}

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

/// A kept read is cut to the interval it was fetched for, widened by this much on each side:
/// only that slice of a long read is decoded and held, so memory follows the shard and
/// `--max-depth`, never the read's length. No short read is ever cut (its whole span lies
/// within this of any interval it overlaps), and the reference a shard loads reaches this far
/// too ([`crate::shard_stages::REF_PAD`]), so a slice never runs past its reference.
pub const SLICE_PAD: u64 = 1_000;

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
    fn settle(&mut self) {
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
fn bump(
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

/// Whether every CIGAR operation code is one rust-htslib knows (0-8, `MIDNSHP=X`): its
/// `cigar()` panics on others, which htslib lets through (the 4-bit code in a BAM file, or
/// `B` in SAM text).
fn cigar_ops_known(rec: &bam::Record) -> bool {
    rec.raw_cigar().iter().all(|&c| c & 0xf <= 8)
}

/// Read the next record of `reader` into `rec`; `Ok(false)` at the end.
///
/// rust-htslib reports htslib's "record cut short in its fixed-size part" (-3) as success and
/// leaves `rec` as it was: a stale or inconsistent record whose fields then panic when read.
/// htslib sets the read-name length of every record it reads (at least 1), so clearing it
/// first tells a real read from that one.
pub fn read_record(reader: &mut impl bam::Read, rec: &mut bam::Record) -> Result<bool> {
    rec.inner_mut().core.l_qname = 0;
    match reader.read(rec) {
        None => Ok(false),
        Some(Err(e)) => Err(e.into()),
        Some(Ok(())) if rec.inner().core.l_qname == 0 => {
            anyhow::bail!("truncated BAM/CRAM record")
        }
        Some(Ok(())) if !cigar_ops_known(rec) => {
            anyhow::bail!(
                "record {} has an unknown CIGAR operation",
                String::from_utf8_lossy(rec.qname())
            )
        }
        Some(Ok(())) => Ok(true),
    }
}

/// An open, indexed BAM or CRAM.
pub struct ReadSource {
    reader: bam::IndexedReader,
    path: PathBuf,
    /// Read groups of the chosen sample, when the file holds several samples.
    read_groups: Option<std::collections::HashSet<Vec<u8>>>,
}

/// An index made from another file, or from this file before it was rewritten, points
/// htslib at arbitrary bytes, and htslib does not notice when they happen to decode. Check a
/// `.bai` against its BAM: every chunk offset it lists must land on a BGZF block inside the
/// file. An index more than a minute older than its file is refused too (htslib only warns):
/// offsets of the old contents can land on the new contents' blocks and give other reads
/// without any error.
fn check_index(path: &Path) -> Result<()> {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let mut candidates = Vec::new();
    for ext in ["bai", "csi", "crai"] {
        candidates.push(PathBuf::from(format!("{}.{ext}", path.display())));
        candidates.push(path.with_extension(ext));
    }
    let Some(index) = candidates.into_iter().find(|p| p.is_file()) else {
        return Ok(()); // htslib's own error says it is missing
    };
    // A minute's grace: copies of a file and its index land in either order, moments apart.
    if let (Some(d), Some(i)) = (modified(path), modified(&index)) {
        if i + std::time::Duration::from_secs(60) < d {
            // htslib only warns, and an index of the file's former contents can point at
            // the new contents' blocks and give other reads without any error.
            return Err(input_error(format!(
                "index {} is older than {}: re-index it (`samtools index {}`), or, if the \
                 index is known to be current (copied before its file), `touch` it",
                index.display(),
                path.display(),
                path.display()
            )));
        }
    }
    if index.extension().is_none_or(|e| e != "bai") {
        return Ok(());
    }
    let mismatch = |why: String| {
        input_error(format!(
            "index {} does not match {} ({why}): was it made from another file, or before the \
             file was rewritten? (`samtools index {}`)",
            index.display(),
            path.display(),
            path.display()
        ))
    };
    let bytes = std::fs::read(&index)
        .map_err(|e| input_error(format!("cannot read index {}: {e}", index.display())))?;
    let offsets = bai_chunk_offsets(&bytes).ok_or_else(|| mismatch("not a BAI index".into()))?;
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path)
        .map_err(|e| input_error(format!("cannot open {}: {e}", path.display())))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    // Up to 256 offsets spread over the index: enough to catch another file's layout.
    let step = offsets.len().div_ceil(256).max(1);
    for &off in offsets.iter().step_by(step) {
        let block = off >> 16;
        let mut magic = [0u8; 4];
        let ok = block < len
            && f.seek(SeekFrom::Start(block)).is_ok()
            && f.read_exact(&mut magic).is_ok()
            && magic == [0x1f, 0x8b, 0x08, 0x04];
        if !ok {
            return Err(mismatch(format!("no BGZF block at byte {block}")));
        }
    }
    Ok(())
}

/// The chunk start offsets (BGZF virtual offsets) of a BAI index, or `None` if it is not one.
fn bai_chunk_offsets(b: &[u8]) -> Option<Vec<u64>> {
    let mut at = 0usize;
    let mut take = |n: usize| -> Option<&[u8]> {
        let s = b.get(at..at + n)?;
        at += n;
        Some(s)
    };
    let u32_at = |s: &[u8]| u32::from_le_bytes(s.try_into().unwrap_or([0; 4]));
    if take(4)? != b"BAI\x01" {
        return None;
    }
    let n_ref = u32_at(take(4)?);
    let mut out = Vec::new();
    for _ in 0..n_ref {
        let n_bin = u32_at(take(4)?);
        for _ in 0..n_bin {
            let bin = u32_at(take(4)?);
            let n_chunk = u32_at(take(4)?);
            for _ in 0..n_chunk {
                let beg = u64::from_le_bytes(take(8)?.try_into().ok()?);
                take(8)?;
                // Bin 37450 is htslib's pseudo-bin of counts, not offsets to blocks.
                if bin != 37450 {
                    out.push(beg);
                }
            }
        }
        let n_intv = u32_at(take(4)?);
        take(8 * n_intv as usize)?;
    }
    Some(out)
}

/// Contig names and lengths from a BAM/CRAM header.
pub fn header_contigs(header: &bam::HeaderView) -> Vec<(String, u64)> {
    (0..header.target_count())
        .map(|tid| {
            (
                String::from_utf8_lossy(header.tid2name(tid)).into_owned(),
                header.target_len(tid).unwrap_or(0),
            )
        })
        .collect()
}

/// `(ID, SM)` of each `@RG` line of a SAM header text.
pub fn read_groups(header_text: &str) -> Vec<(String, Option<String>)> {
    header_text
        .lines()
        .filter(|l| l.starts_with("@RG\t"))
        .map(|l| {
            let field = |tag: &str| {
                l.split('\t')
                    .find_map(|f| f.strip_prefix(tag))
                    .map(str::to_string)
            };
            (field("ID:").unwrap_or_default(), field("SM:"))
        })
        .collect()
}

impl ReadSource {
    /// Open `path` (BAM or CRAM, with its index). CRAM is decoded against `reference`, never a
    /// network reference server.
    pub fn open(path: &Path, reference: &Path) -> Result<Self> {
        let what = if path.extension().is_some_and(|e| e == "cram") {
            "CRAM"
        } else {
            "BAM"
        };
        if !path.is_file() {
            return Err(input_error(format!(
                "{what} {} does not exist",
                path.display()
            )));
        }
        // An index is useless without its whole file; a cut BAM is otherwise found only
        // where a query reaches the missing part.
        if what == "BAM" {
            crate::input::check_complete(path, what)?;
        }
        if what == "BAM" {
            check_index(path)?;
        }
        let mut reader = bam::IndexedReader::from_path(path).map_err(|e| {
            let hint = if path.extension().is_some_and(|e| e == "bam" || e == "cram") {
                format!(" (is it indexed? `samtools index {}`)", path.display())
            } else {
                String::new()
            };
            input_error(format!(
                "cannot open {what} {} with its index: {e}{hint}",
                path.display()
            ))
        })?;
        // NB: without an explicit reference htslib fetches CRAM references over the network.
        reader.set_reference(reference).map_err(|e| {
            input_error(format!(
                "cannot set reference {} for {}: {e}",
                reference.display(),
                path.display()
            ))
        })?;
        Ok(Self {
            reader,
            path: path.to_path_buf(),
            read_groups: None,
        })
    }

    /// Contigs of the header.
    pub fn contigs(&self) -> Vec<(String, u64)> {
        header_contigs(self.reader.header())
    }

    /// The SAM header as text.
    pub fn header_text(&self) -> String {
        String::from_utf8_lossy(self.reader.header().as_bytes()).into_owned()
    }

    /// The read-group IDs of the chosen sample, when [`ReadSource::select_sample`] restricted
    /// the reads to some (`None`: every read group).
    pub fn chosen_read_groups(&self) -> Option<Vec<String>> {
        self.read_groups.as_ref().map(|ids| {
            let mut v: Vec<String> = ids
                .iter()
                .map(|id| String::from_utf8_lossy(id).into_owned())
                .collect();
            v.sort();
            v
        })
    }

    /// The median query length of up to `max` primary mapped records over `intervals`, in
    /// file order from the first interval on; `None` when there are none. For telling short
    /// reads from long ones, not for statistics.
    pub fn median_read_length(
        &mut self,
        intervals: &[crate::regions::Interval],
        max: usize,
    ) -> Result<Option<u64>> {
        let mut lens = Vec::new();
        let mut rec = bam::Record::new();
        for iv in intervals {
            let Some(tid) = self.reader.header().tid(iv.contig.as_bytes()) else {
                continue;
            };
            if self
                .reader
                .fetch((tid as i32, iv.start as i64, iv.end as i64))
                .is_err()
            {
                continue; // the read stage reports a broken index with its own message
            }
            while lens.len() < max {
                match read_record(&mut self.reader, &mut rec) {
                    Ok(true) => {}
                    _ => break,
                }
                if rec.flags() & EXCLUDE_FLAGS != 0 {
                    continue;
                }
                let len = if rec.seq_len() > 0 {
                    rec.seq_len() as u64
                } else {
                    (rec.reference_end() - rec.pos()).max(0) as u64
                };
                lens.push(len);
            }
            if lens.len() >= max {
                break;
            }
        }
        lens.sort_unstable();
        Ok(lens.get(lens.len() / 2).copied())
    }

    /// The `@SQ` lines' `M5` tags (MD5 of each contig's sequence, upper case), by contig.
    pub fn contig_md5s(&self) -> Vec<(String, String)> {
        self.header_text()
            .lines()
            .filter(|l| l.starts_with("@SQ\t"))
            .filter_map(|l| {
                let field = |tag: &str| l.split('\t').find_map(|f| f.strip_prefix(tag));
                Some((
                    field("SN:")?.to_string(),
                    field("M5:")?.to_ascii_lowercase(),
                ))
            })
            .collect()
    }

    /// Distinct sample names (`@RG SM`), in header order.
    pub fn samples(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (_, sm) in read_groups(&self.header_text()) {
            if let Some(sm) = sm.filter(|s| !out.contains(s)) {
                out.push(sm);
            }
        }
        out
    }

    /// Choose the sample to call and return its name for the VCF. A file with several
    /// samples needs `wanted`, and then only that sample's read groups are read. With one
    /// sample (or none named), `wanted` only names the VCF column.
    pub fn select_sample(&mut self, wanted: Option<&str>) -> Result<String> {
        let samples = self.samples();
        match (samples.len(), wanted) {
            (0, w) => Ok(w.unwrap_or("SAMPLE").to_string()),
            (1, None) => Ok(samples[0].clone()),
            (1, Some(w)) => {
                if w != samples[0] {
                    log::info!(
                        "naming the sample {w} (the read groups of {} say {})",
                        self.path.display(),
                        samples[0]
                    );
                }
                Ok(w.to_string())
            }
            (_, None) => Err(input_error(format!(
                "{} holds reads of {} samples ({}): choose one with --sample",
                self.path.display(),
                samples.len(),
                samples.join(", ")
            ))),
            (_, Some(w)) => {
                if !samples.iter().any(|s| s == w) {
                    return Err(input_error(format!(
                        "--sample {w} is not among the samples of {} ({})",
                        self.path.display(),
                        samples.join(", ")
                    )));
                }
                let ids = read_groups(&self.header_text())
                    .into_iter()
                    .filter(|(_, sm)| sm.as_deref() == Some(w))
                    .map(|(id, _)| id.into_bytes())
                    .collect();
                self.read_groups = Some(ids);
                Ok(w.to_string())
            }
        }
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Kept reads overlapping `contig:[start, end)`, sorted by start, after filters and the
    /// depth cap ([`DepthCap`]), each held as its slice over `[start - SLICE_PAD, end +
    /// SLICE_PAD)` ([`from_record_in`]). Reads that end before `start` but cover the start of
    /// one that is kept are read too, only to count the coverage the cap needs.
    pub fn fetch(
        &mut self,
        contig: &str,
        start: u64,
        end: u64,
        filter: &ReadFilter,
    ) -> Result<ReadBatch> {
        self.fetch_owning(contig, start, end, (start, end), filter, None)
    }

    /// [`ReadSource::fetch`], also counting apart the records whose alignment starts in
    /// `own` ([`ReadBatch::owned`]); `reference` (bases from a position) resolves bases stored
    /// as `=` ([`from_record_in`]).
    pub fn fetch_owning(
        &mut self,
        contig: &str,
        start: u64,
        end: u64,
        own: (u64, u64),
        filter: &ReadFilter,
        reference: Option<(&[u8], u64)>,
    ) -> Result<ReadBatch> {
        // Each read is held as its slice over the fetch and SLICE_PAD around it; the record's
        // own start travels beside it, for the owned counts (a slice may start later).
        let (lo, hi) = (
            start.saturating_sub(SLICE_PAD),
            end.saturating_add(SLICE_PAD),
        );
        let (kept, counts, mut owned) =
            self.fetch_counting(contig, start, end, own, filter, |rec| {
                let rec_start = rec.pos().max(0) as u64;
                Ok(from_record_in(rec, lo, hi, reference)?
                    .ok()
                    .map(|r| (rec_start, r)))
            })?;
        owned.kept = kept
            .iter()
            .filter(|(s, _)| (own.0..own.1).contains(s))
            .count() as u64;
        owned.settle();
        let mut reads: Vec<AlignedRead> = kept.into_iter().map(|(_, r)| r).collect();
        // A slice starts at its first base inside the fetch, which can be after the start of
        // a read that follows it in the file; stable, so already sorted reads keep their order.
        reads.sort_by_key(|r| r.start);
        Ok(ReadBatch {
            reads,
            start,
            end,
            counts,
            owned,
        })
    }

    /// The aligned blocks (reference intervals with a base or a deletion, not `N` skips) of
    /// the reads [`ReadSource::fetch`] would keep: enough to measure depth, at a few bytes a
    /// read.
    pub fn fetch_blocks(
        &mut self,
        contig: &str,
        start: u64,
        end: u64,
        filter: &ReadFilter,
    ) -> Result<Vec<Vec<(u64, u64)>>> {
        let (blocks, _) =
            self.fetch_with(contig, start, end, filter, |rec| Ok(aligned_blocks(rec)))?;
        Ok(blocks)
    }

    /// [`ReadSource::fetch`] with `build` making what is kept of each read (`Ok(None)`: the
    /// read is not evidence).
    pub fn fetch_with<T>(
        &mut self,
        contig: &str,
        start: u64,
        end: u64,
        filter: &ReadFilter,
        build: impl FnMut(&bam::Record) -> Result<Option<T>>,
    ) -> Result<(Vec<T>, ReadCounts)> {
        let (reads, counts, _) = self.fetch_counting(contig, start, end, (0, 0), filter, build)?;
        Ok((reads, counts))
    }

    /// The earliest alignment start among the records over position `start` (`start` itself
    /// when none begins before it).
    fn earliest_start_over(&mut self, tid: u32, contig: &str, start: u64) -> Result<u64> {
        if start == 0 {
            return Ok(0);
        }
        let path = &self.path;
        self.reader
            .fetch((tid as i32, start as i64, start as i64 + 1))
            .map_err(|e| {
                input_error(format!(
                    "cannot query {contig}:{} in {} (is the index stale? `samtools index {}`): {e}",
                    start + 1,
                    path.display(),
                    path.display()
                ))
            })?;
        let mut rec = bam::Record::new();
        let mut from = start;
        // Errors in these records are reported by the main query, which reads them again.
        while let Ok(true) = read_record(&mut self.reader, &mut rec) {
            from = from.min(rec.pos().max(0) as u64);
        }
        Ok(from)
    }

    /// [`ReadSource::fetch_with`], with the records that start in `own` counted apart too
    /// (all but `kept` and `downsampled`, which need the kept reads' starts).
    fn fetch_counting<T>(
        &mut self,
        contig: &str,
        start: u64,
        end: u64,
        own: (u64, u64),
        filter: &ReadFilter,
        mut build: impl FnMut(&bam::Record) -> Result<Option<T>>,
    ) -> Result<(Vec<T>, ReadCounts, ReadCounts)> {
        let tid = self.reader.header().tid(contig.as_bytes()).ok_or_else(|| {
            input_error(format!("contig {contig} is not in {}", self.path.display()))
        })?;
        // The depth cap decides a read by the coverage at its start, so the stream must hold
        // every read over the start of every read wanted here: it begins at the earliest start
        // among the reads that cover `start` (whatever their length).
        let from = self.earliest_start_over(tid, contig, start)?;
        let path = &self.path;
        self.reader
            .fetch((tid as i32, from as i64, end as i64))
            .map_err(|e| {
                input_error(format!(
                    "cannot query {contig}:{}-{end} in {} (is the index stale? `samtools index {}`): {e}",
                    from + 1,
                    path.display(),
                    path.display()
                ))
            })?;
        let mut counts = ReadCounts::default();
        let mut owned = ReadCounts::default();
        let mut cap = DepthCap::new(filter.max_depth);
        let mut rec = bam::Record::new();
        // htslib refuses a corrupt record before its name can be read: name the last good one.
        let mut last_good: Option<(String, i64)> = None;
        loop {
            let more = read_record(&mut self.reader, &mut rec).map_err(|e| {
                let at = match &last_good {
                    Some((name, pos)) => format!("after read {name} at {contig}:{}", pos + 1),
                    None => format!(
                        "in the first record of the query {contig}:{}-{end}",
                        from + 1
                    ),
                };
                input_error(format!("{}: corrupt record {at}: {e:#}", path.display()))
            })?;
            if !more {
                break;
            }
            last_good = Some((String::from_utf8_lossy(rec.qname()).into_owned(), rec.pos()));
            let rec_end = rec.reference_end().max(rec.pos() + 1) as u64;
            let rec_start = rec.pos().max(0) as u64;
            // Reads before `start` only count coverage; report only the wanted interval.
            let wanted = rec_end > start;
            let mine = (own.0..own.1).contains(&rec_start);
            bump(&mut counts, &mut owned, wanted, mine, |c| &mut c.seen);
            if rec.flags() & EXCLUDE_FLAGS != 0 {
                bump(&mut counts, &mut owned, wanted, mine, |c| &mut c.flagged);
                continue;
            }
            if rec.mapq() < filter.min_mapq || rec.mapq() == 255 {
                bump(&mut counts, &mut owned, wanted, mine, |c| &mut c.low_mapq);
                continue;
            }
            // Checked for every mapped record, not only those the depth cap keeps: corrupt
            // input is an error wherever it is. (Unmapped reads placed beside their mates
            // have no CIGAR and were skipped above.)
            check_cigar_length(&rec)
                .map_err(|e| input_error(format!("{}: {contig}: {e:#}", path.display())))?;
            if let Some(groups) = &self.read_groups {
                let rg = match rec.aux(b"RG") {
                    Ok(rust_htslib::bam::record::Aux::String(s)) => Some(s.as_bytes()),
                    _ => None,
                };
                if !rg.is_some_and(|g| groups.contains(g)) {
                    bump(&mut counts, &mut owned, wanted, mine, |c| {
                        &mut c.other_sample
                    });
                    continue;
                }
            }
            let mut unusable = false;
            cap.offer(rec_start, rec_end, name_hash(rec.qname()), || {
                if !wanted {
                    return Ok(None);
                }
                match build(&rec) {
                    Ok(Some(read)) => Ok(Some(read)),
                    Ok(None) => {
                        unusable = true;
                        Ok(None)
                    }
                    Err(e) => Err(input_error(format!("{}: {contig}: {e:#}", path.display()))),
                }
            })?;
            bump(&mut counts, &mut owned, unusable, unusable && mine, |c| {
                &mut c.unusable
            });
        }
        let (reads, _) = cap.finish();
        counts.kept = reads.len() as u64;
        counts.settle();
        Ok((reads, counts, owned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(start: u64, seq: &str, indels: Vec<Indel>) -> AlignedRead {
        test_read(start, seq, indels, false)
    }

    /// 2,000 reads of 100 bp starting uniformly over 1,000 bp (about 200x), in alignment
    /// order, named `read{i}`.
    fn uniform(n: usize, span: u64) -> Vec<(u64, AlignedRead)> {
        let mut reads: Vec<_> = (0..n)
            .map(|i| {
                (
                    name_hash(format!("read{i}").as_bytes()),
                    read((i as u64 * 7919) % span, &"A".repeat(100), vec![]),
                )
            })
            .collect();
        reads.sort_by_key(|(_, r)| r.start);
        reads
    }

    fn max_coverage(reads: &[AlignedRead]) -> usize {
        let end = reads.iter().map(AlignedRead::end).max().unwrap_or(0) as usize;
        let mut cov = vec![0usize; end + 1];
        for r in reads {
            for c in &mut cov[r.start as usize..r.end() as usize] {
                *c += 1;
            }
        }
        cov.into_iter().max().unwrap_or(0)
    }

    #[test]
    fn test_depth_cap_holds_depth_near_the_cap_and_is_deterministic() {
        let reads = uniform(20_000, 1_000); // about 2,000x
        let a = downsample(reads.clone(), 250);
        let b = downsample(reads.clone(), 250);
        let starts = |v: &[AlignedRead]| v.iter().map(|r| r.start).collect::<Vec<_>>();
        assert_eq!(starts(&a), starts(&b));
        // Past the first read length, where coverage has built up, depth stays near the cap.
        let steady: Vec<AlignedRead> = a.iter().filter(|r| r.start >= 100).cloned().collect();
        let peak = max_coverage(&steady);
        assert!((200..=330).contains(&peak), "peak depth {peak}");
        // Not first-come: reads starting late survive as well as early ones.
        assert!(a.iter().any(|r| r.start >= 900) && a.iter().any(|r| r.start < 100));
        // Shallow data is untouched.
        assert_eq!(downsample(uniform(100, 1_000), 250).len(), 100);
    }

    #[test]
    fn test_depth_cap_on_a_pile_up_at_one_position() {
        // 30,000 reads starting at one base: the cap keeps about max_depth of them.
        let reads: Vec<_> = (0..30_000)
            .map(|i| {
                (
                    name_hash(format!("p{i}").as_bytes()),
                    read(500, &"C".repeat(150), vec![]),
                )
            })
            .collect();
        let kept = downsample(reads, 250).len();
        assert!((200..=300).contains(&kept), "kept {kept}");
    }

    #[test]
    fn test_depth_cap_ignores_the_order_of_reads_at_one_position_and_where_reading_began() {
        let reads = uniform(5_000, 1_000);
        let names =
            |v: Vec<AlignedRead>| v.iter().map(|r| (r.start, r.seq.len())).collect::<Vec<_>>();
        let base = downsample(reads.clone(), 100);
        // Reverse the order within each start position: same reads kept.
        let mut shuffled = reads.clone();
        shuffled.sort_by_key(|(h, r)| (r.start, std::cmp::Reverse(*h)));
        let mut a = names(base.clone());
        let mut b = names(downsample(shuffled, 100));
        a.sort();
        b.sort();
        assert_eq!(a, b);
        // Starting the stream later (as a later shard's fetch does), but with every read over
        // the positions it asks about, decides those reads the same way.
        let late: Vec<_> = reads
            .iter()
            .filter(|(_, r)| r.end() > 600)
            .cloned()
            .collect();
        let keep_late = |v: &[AlignedRead]| {
            v.iter()
                .filter(|r| r.start >= 600)
                .map(|r| r.start)
                .collect::<Vec<_>>()
        };
        assert_eq!(keep_late(&base), keep_late(&downsample(late, 100)));
    }

    #[test]
    fn test_left_align_deletion_in_repeat() {
        // ref: G A A A T, read deletes the third A (pos 3): G A A - T
        let refseq = b"GAAAT";
        let mut r = read(0, "GAA-T", vec![Indel::Del { anchor: 2, len: 1 }]);
        left_align(&mut r, refseq, 0);
        assert_eq!(r.indels, vec![Indel::Del { anchor: 0, len: 1 }]);
        assert_eq!(r.bases, vec![2, DEL, 0, 0, 3]);
    }

    #[test]
    fn test_left_align_insertion_in_repeat() {
        // ref: G C A C A T ; read inserts "CA" after pos 4 (A) -> shifts left to after pos 0.
        let refseq = b"GCACAT";
        let mut r = read(
            0,
            "GCACAT",
            vec![Indel::Ins {
                anchor: 4,
                seq: b"CA".to_vec(),
            }],
        );
        left_align(&mut r, refseq, 0);
        assert_eq!(
            r.indels,
            vec![Indel::Ins {
                anchor: 0,
                seq: b"CA".to_vec()
            }]
        );
    }

    #[test]
    fn test_read_without_sequence_is_skipped() {
        let header = bam::HeaderView::from_bytes(b"@SQ\tSN:c\tLN:100\n");
        let rec = |line: &str| bam::Record::from_sam(&header, line.as_bytes()).unwrap();
        assert_eq!(
            from_record(&rec("r\t0\tc\t5\t60\t4M\t*\t0\t0\t*\t*"))
                .unwrap()
                .err(),
            Some(Unusable::NoSequence)
        );
        // Zero-length indels are no indels (left_align expects every insertion to hold bases).
        let mut r = from_record(&rec("r\t0\tc\t5\t60\t2M0I0D2M\t*\t0\t0\tACGT\t*"))
            .unwrap()
            .unwrap();
        assert!(r.indels.is_empty());
        left_align(&mut r, b"ACGTACGTACGT", 0);
        // `B` (code 9) parses, but rust-htslib's cigar() cannot represent it: corrupt input.
        let e = from_record(&rec("r\t0\tc\t5\t60\t2M1B2M\t*\t0\t0\tACGT\t*")).unwrap_err();
        assert!(crate::errors::is_input(&e), "{e:#}");
        let r = from_record(&rec("r\t0\tc\t5\t60\t2M1I1M\t*\t0\t0\tACGT\t*"))
            .unwrap()
            .unwrap();
        assert_eq!((r.start, r.bases.len(), r.seq.len()), (4, 3, 4));
    }

    #[test]
    fn test_record_cut_in_its_fixed_part_is_an_error() {
        use std::io::Read as _;
        let dir = tempfile::tempdir().unwrap();
        let header = bam::HeaderView::from_bytes(b"@SQ\tSN:c\tLN:100\n");
        let gz = dir.path().join("r.bam");
        {
            let hdr = bam::Header::from_template(&header);
            let mut w = bam::Writer::from_path(&gz, &hdr, bam::Format::Bam).unwrap();
            let line = "r\t0\tc\t5\t60\t4M\t*\t0\t0\tACGT\t*";
            w.write(&bam::Record::from_sam(&header, line.as_bytes()).unwrap())
                .unwrap();
        }
        // The same BAM uncompressed, then a record whose 32-byte fixed part is cut at 16.
        let mut raw = Vec::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(&gz).unwrap())
            .read_to_end(&mut raw)
            .unwrap();
        raw.extend_from_slice(&60i32.to_le_bytes());
        raw.extend_from_slice(&[0; 16]);
        let cut = dir.path().join("cut.bam");
        std::fs::write(&cut, raw).unwrap();
        let mut reader = bam::Reader::from_path(&cut).unwrap();
        let mut rec = bam::Record::new();
        assert!(read_record(&mut reader, &mut rec).unwrap());
        assert_eq!(rec.qname(), b"r");
        let e = read_record(&mut reader, &mut rec).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
    }

    /// A record from SAM text on a 100 kb contig `c`.
    fn sam_rec(line: &str) -> bam::Record {
        let header = bam::HeaderView::from_bytes(b"@SQ\tSN:c\tLN:100000\n");
        bam::Record::from_sam(&header, line.as_bytes()).unwrap()
    }

    #[test]
    fn test_a_slice_holds_the_same_bases_indels_and_sequence_as_the_whole_read() {
        // 10S 300M 2I 200M 5D 400M 1I 90M 7S from position 1,000 (0-based 999): reference span
        // 999..1994, query 1,010 bases.
        let cigar = "10S300M2I200M5D400M1I90M7S";
        let n = 10 + 300 + 2 + 200 + 400 + 1 + 90 + 7;
        let seq: String = (0..n)
            .map(|i| ['A', 'C', 'G', 'T'][(i * 7 + i / 3) % 4])
            .collect();
        let qual: String = (0..n).map(|i| (b'!' + (i % 40) as u8) as char).collect();
        let rec = sam_rec(&format!(
            "r\t0\tc\t1000\t60\t{cigar}\t*\t0\t0\t{seq}\t{qual}"
        ));
        let whole = from_record(&rec).unwrap().unwrap();
        assert_eq!((whole.start, whole.end(), whole.seq.len()), (999, 1994, n));
        assert_eq!(
            (whole.clip_left, whole.clip_right, whole.long),
            (10, 7, true)
        );
        for (lo, hi) in [
            (0, u64::MAX),
            (1200, 1600),
            (1299, 1300),
            (1500, 1900),
            (990, 1505),
        ] {
            let part = from_record_in(&rec, lo, hi, None).unwrap().unwrap();
            assert!(part.start >= lo.max(whole.start) && part.end() <= hi.min(whole.end()));
            // Every reference position of the slice reads as in the whole read: code, quality,
            // and the sequence base its query index points at.
            for pos in part.start..part.end() {
                let (k, j) = ((pos - part.start) as usize, (pos - whole.start) as usize);
                assert_eq!(part.base_at(pos), whole.base_at(pos), "{lo}-{hi} at {pos}");
                match (part.qidx[k], whole.qidx[j]) {
                    (u32::MAX, u32::MAX) => {}
                    (a, b) => assert_eq!(part.seq[a as usize], whole.seq[b as usize]),
                }
            }
            // Indels: those whose anchor and next base lie inside the slice, unchanged.
            let inside: Vec<Indel> = whole
                .indels
                .iter()
                .filter(|e| {
                    let last = match e {
                        Indel::Del { anchor, len } => anchor + *len as u64 + 1,
                        Indel::Ins { anchor, .. } => anchor + 1,
                    };
                    e.anchor() >= part.start && last < part.end()
                })
                .cloned()
                .collect();
            assert_eq!(part.indels, inside, "{lo}-{hi}");
            // A cut side keeps no clip; an uncut one keeps what lies inside [lo, hi).
            let cut_left = lo > whole.start;
            assert_eq!(
                part.clip_left,
                if cut_left {
                    0
                } else {
                    10u32.min((999 - lo.min(999)) as u32)
                }
            );
            assert_eq!(part.clip_right, if hi < whole.end() { 0 } else { 7 });
        }
        // The slice over 1,299..1,300 is one base; over an interval holding only the deletion,
        // nothing.
        assert_eq!(
            from_record_in(&rec, 1299, 1300, None)
                .unwrap()
                .unwrap()
                .bases
                .len(),
            1
        );
        let del_at = 999 + 300 + 200; // first deleted position
        assert_eq!(
            from_record_in(&rec, del_at, del_at + 5, None)
                .unwrap()
                .err(),
            Some(Unusable::NoAlignedBase)
        );
    }

    // Random CIGARs (every operation, clips at both ends, zero-length and adjacent
    // operations) cut at random windows: never a panic, and every position of a slice reads
    // as in the whole read, with the same sequence base behind it.
    #[test]
    fn test_random_records_sliced_at_random_windows_agree_with_the_whole_read() {
        let (mut cut_left, mut cut_right) = (0, 0);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for _ in 0..2_000 {
            let mut cigar = String::new();
            let mut qlen = 0u64;
            if rnd(3) == 0 {
                let n = rnd(50) + 1;
                cigar.push_str(&format!("{n}S"));
                qlen += n;
            }
            let n_ops = rnd(12) + 1;
            for k in 0..n_ops {
                let op = if k == 0 || k + 1 == n_ops { 0 } else { rnd(6) };
                let n = rnd(if op == 0 { 300 } else { 20 }) + 1;
                let c = match op {
                    0 => ['M', '=', 'X'][rnd(3) as usize],
                    1 => 'I',
                    2 | 3 => 'D',
                    4 => 'N',
                    _ => 'M',
                };
                if matches!(c, 'M' | '=' | 'X' | 'I') {
                    qlen += n;
                }
                cigar.push_str(&format!("{n}{c}"));
            }
            if rnd(3) == 0 {
                let n = rnd(50) + 1;
                cigar.push_str(&format!("{n}S"));
                qlen += n;
            }
            let seq: String = (0..qlen)
                .map(|_| ['A', 'C', 'G', 'T', 'N', '='][rnd(6) as usize])
                .collect();
            let pos = 1000 + rnd(2000);
            let rec = sam_rec(&format!("r\t0\tc\t{pos}\t60\t{cigar}\t*\t0\t0\t{seq}\t*"));
            let Ok(Ok(whole)) = from_record(&rec) else {
                continue;
            };
            for _ in 0..4 {
                let lo = pos.saturating_sub(300) + rnd(whole.bases.len() as u64 + 600);
                let hi = lo + rnd(1500) + 1;
                let part = match from_record_in(&rec, lo, hi, None).unwrap() {
                    Ok(p) => p,
                    Err(_) => continue,
                };
                assert!(
                    part.start >= whole.start && part.end() <= whole.end(),
                    "{cigar} {lo}-{hi}"
                );
                assert_eq!(part.long, whole.long);
                cut_left += (part.start > whole.start) as u32;
                cut_right += (part.end() < whole.end()) as u32;
                for p in part.start..part.end() {
                    let (k, j) = ((p - part.start) as usize, (p - whole.start) as usize);
                    assert_eq!(
                        part.base_at(p),
                        whole.base_at(p),
                        "{cigar} {lo}-{hi} at {p}"
                    );
                    match (part.qidx[k], whole.qidx[j]) {
                        (u32::MAX, u32::MAX) => {}
                        (a, b) => assert_eq!(part.seq[a as usize], whole.seq[b as usize]),
                    }
                }
                for e in &part.indels {
                    assert!(whole.indels.contains(e), "{cigar} {lo}-{hi}: {e:?}");
                    assert!(e.anchor() >= part.start && e.anchor() < part.end());
                }
                // The slice's realignment inputs stay consistent: clips lie within the
                // sequence, and every query index points into it.
                assert!((part.clip_left + part.clip_right) as usize <= part.seq.len());
                assert!(part
                    .qidx
                    .iter()
                    .all(|&q| q == u32::MAX || (q as usize) < part.seq.len()));
            }
        }
        assert!(
            cut_left > 500 && cut_right > 500,
            "cuts: {cut_left} left, {cut_right} right"
        );
    }

    #[test]
    fn test_reads_longer_than_the_slice_pad_are_long_and_short_ones_are_never_cut() {
        let rec = |cigar: &str, n: usize| {
            sam_rec(&format!(
                "r\t0\tc\t5001\t60\t{cigar}\t*\t0\t0\t{}\t*",
                "A".repeat(n)
            ))
        };
        // Footprint (span plus clips) 1,000: not long. 1,001: long.
        assert!(!from_record(&rec("990M10S", 1000)).unwrap().unwrap().long);
        assert!(from_record(&rec("990M11S", 1001)).unwrap().unwrap().long);
        assert!(from_record(&rec("30000M", 30000)).unwrap().unwrap().long);
        // A short read overlapping a fetch [start, end) lies within SLICE_PAD of it whole.
        let r = rec("20S960M20S", 1000);
        for start in [5000u64, 5500, 5959] {
            let (lo, hi) = (start - SLICE_PAD, start + 10 + SLICE_PAD);
            let part = from_record_in(&r, lo, hi, None).unwrap().unwrap();
            let whole = from_record(&r).unwrap().unwrap();
            assert_eq!(
                (part.start, part.bases, part.seq),
                (whole.start, whole.bases, whole.seq)
            );
        }
    }

    #[test]
    fn test_left_align_stops_at_mismatch() {
        let refseq = b"GATAT";
        let mut r = read(0, "GAT-T", vec![Indel::Del { anchor: 2, len: 1 }]);
        left_align(&mut r, refseq, 0);
        // Deleting the A at pos 3: shift while read base at anchor == ref[anchor + len]:
        // anchor 2 is T, ref[3] is A -> stays.
        assert_eq!(r.indels, vec![Indel::Del { anchor: 2, len: 1 }]);
    }
}
