//! Decoding one BAM record into an [`AlignedRead`]: the whole read, or only its slice over a
//! fetched interval; its CIGAR checked, `=` bases read as the reference's; indels left-aligned.

use anyhow::Result;
use rust_htslib::bam::{self, record::Cigar};

use super::*;

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
        name: name_hash(rec.qname()),
        reach: read_reach(rec, rec_end),
    }))
}

/// [`AlignedRead::reach`]: a paired read whose mate starts further right on the same contig
/// (within a library's insert sizes) reaches past the mate's start by [`SLICE_PAD`], as long
/// as any paired read is.
fn read_reach(rec: &bam::Record, rec_end: u64) -> u64 {
    const MAX_INSERT: i64 = 10_000;
    let mate_right = rec.is_paired()
        && !rec.is_mate_unmapped()
        && rec.mtid() == rec.tid()
        && rec.mpos() >= rec.pos()
        && rec.mpos() - rec.pos() <= MAX_INSERT;
    if mate_right {
        rec_end.max(rec.mpos() as u64 + SLICE_PAD)
    } else {
        rec_end
    }
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

/// Whether every CIGAR operation code is one rust-htslib knows (0-8, `MIDNSHP=X`): its
/// `cigar()` panics on others, which htslib lets through (the 4-bit code in a BAM file, or
/// `B` in SAM text).
pub(super) fn cigar_ops_known(rec: &bam::Record) -> bool {
    rec.raw_cigar().iter().all(|&c| c & 0xf <= 8)
}
