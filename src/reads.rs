//! Stage: reads. Opening BAM/CRAM, filtering records, and turning each kept alignment into a
//! compact per-reference-position view that the candidate and tensor stages share.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rust_htslib::bam::{self, record::Cigar, Read as _};

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

/// Build an [`AlignedRead`] from a record; `None` when it has no aligned bases, or no
/// sequence to go with its CIGAR (SEQ `*`).
pub fn from_record(rec: &bam::Record) -> Option<AlignedRead> {
    if !cigar_ops_known(rec) {
        return None;
    }
    let seq = rec.seq();
    let qual = rec.qual();
    let cigar = rec.cigar();
    // htslib checks a mapped read's CIGAR against its SEQ, unless SEQ is `*` (length 0).
    let query_len: usize = cigar
        .iter()
        .map(|op| match *op {
            Cigar::Match(n)
            | Cigar::Equal(n)
            | Cigar::Diff(n)
            | Cigar::Ins(n)
            | Cigar::SoftClip(n) => n as usize,
            _ => 0,
        })
        .sum();
    if query_len != seq.len() {
        return None;
    }
    let no_qual = qual.first().is_none_or(|&q| q == 255);
    let start = rec.pos().max(0) as u64;
    let mut bases = Vec::with_capacity(seq.len() + 8);
    let mut quals = Vec::with_capacity(seq.len() + 8);
    let mut indels = Vec::new();
    let (mut clip_left, mut clip_right) = (0u32, 0u32);
    let mut qidx = Vec::with_capacity(seq.len() + 8);
    let mut qpos = 0usize;
    let q_at = |i: usize| if no_qual { MISSING_BASEQ } else { qual[i] };
    for op in cigar.iter() {
        match *op {
            Cigar::Match(n) | Cigar::Equal(n) | Cigar::Diff(n) => {
                for _ in 0..n {
                    bases.push(base_code(seq[qpos]));
                    quals.push(q_at(qpos));
                    qidx.push(qpos as u32);
                    qpos += 1;
                }
            }
            Cigar::Ins(n) => {
                // An insertion before any aligned base has no anchor on the reference; a
                // zero-length one (`0I`, which htslib accepts) inserts nothing.
                if !bases.is_empty() && n > 0 {
                    let s: Vec<u8> = (qpos..qpos + n as usize).map(|i| seq[i]).collect();
                    indels.push(Indel::Ins {
                        anchor: start + bases.len() as u64 - 1,
                        seq: s,
                    });
                }
                qpos += n as usize;
            }
            Cigar::Del(n) => {
                if !bases.is_empty() && n > 0 {
                    indels.push(Indel::Del {
                        anchor: start + bases.len() as u64 - 1,
                        len: n,
                    });
                }
                for _ in 0..n {
                    bases.push(DEL);
                    quals.push(0);
                    qidx.push(u32::MAX);
                }
            }
            Cigar::RefSkip(n) => {
                for _ in 0..n {
                    bases.push(GAP);
                    quals.push(0);
                    qidx.push(u32::MAX);
                }
            }
            Cigar::SoftClip(n) => {
                if bases.is_empty() {
                    clip_left += n;
                } else {
                    clip_right += n;
                }
                qpos += n as usize
            }
            Cigar::HardClip(_) | Cigar::Pad(_) => {}
        }
    }
    if bases.is_empty() {
        return None;
    }
    let read_seq: Vec<u8> = (0..seq.len()).map(|i| base_code(seq[i])).collect();
    let seq_qual: Vec<u8> = (0..seq.len()).map(q_at).collect();
    Some(AlignedRead {
        start,
        reverse: rec.is_reverse(),
        mapq: rec.mapq(),
        bases,
        quals,
        indels,
        seq: read_seq,
        seq_qual,
        qidx,
        clip_left,
        clip_right,
    })
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

/// Deterministic downsampling: a read whose span reaches coverage `c > max_depth` is kept
/// with probability `max_depth / c`, decided by its name hash. Unlike a first-come cap this
/// does not favour reads by position. Input and output are in alignment order.
pub fn downsample(reads: Vec<(u64, AlignedRead)>, max_depth: usize) -> Vec<AlignedRead> {
    let (Some(lo), Some(hi)) = (
        reads.iter().map(|(_, r)| r.start).min(),
        reads.iter().map(|(_, r)| r.end()).max(),
    ) else {
        return Vec::new();
    };
    let mut cov = vec![0i32; (hi - lo + 1) as usize];
    for (_, r) in &reads {
        cov[(r.start - lo) as usize] += 1;
        cov[(r.end() - lo) as usize] -= 1;
    }
    for i in 1..cov.len() {
        cov[i] += cov[i - 1];
    }
    let cap = max_depth.max(1) as f64;
    reads
        .into_iter()
        .filter(|(h, r)| {
            let peak = cov[(r.start - lo) as usize..(r.end() - lo) as usize]
                .iter()
                .copied()
                .max()
                .unwrap_or(0) as f64;
            peak <= cap || ((h >> 11) as f64 / (1u64 << 53) as f64) < cap / peak
        })
        .map(|(_, r)| r)
        .collect()
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

impl ReadSource {
    /// Open `path` (BAM or CRAM, with its index). CRAM is decoded against `reference`, never a
    /// network reference server.
    pub fn open(path: &Path, reference: &Path) -> Result<Self> {
        let mut reader = bam::IndexedReader::from_path(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot open indexed BAM/CRAM {} (is there a .bai/.crai index?): {e}",
                path.display()
            )
        })?;
        // NB: without an explicit reference htslib fetches CRAM references over the network.
        reader.set_reference(reference).map_err(|e| {
            anyhow::anyhow!(
                "cannot set reference {} for {}: {e}",
                reference.display(),
                path.display()
            )
        })?;
        Ok(Self {
            reader,
            path: path.to_path_buf(),
        })
    }

    /// Contigs of the header.
    pub fn contigs(&self) -> Vec<(String, u64)> {
        header_contigs(self.reader.header())
    }

    /// Sample name from the first @RG SM tag, if any.
    pub fn sample_name(&self) -> Option<String> {
        let text = String::from_utf8_lossy(self.reader.header().as_bytes()).into_owned();
        text.lines()
            .filter(|l| l.starts_with("@RG"))
            .flat_map(|l| l.split('\t'))
            .find_map(|f| f.strip_prefix("SM:").map(str::to_string))
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Kept reads overlapping `contig:[start, end)`, in alignment order, after filters and the
    /// depth cap.
    pub fn fetch(
        &mut self,
        contig: &str,
        start: u64,
        end: u64,
        filter: &ReadFilter,
    ) -> Result<Vec<AlignedRead>> {
        let tid = self
            .reader
            .header()
            .tid(contig.as_bytes())
            .with_context(|| format!("contig {contig} not in {}", self.path.display()))?;
        self.reader
            .fetch((tid as i32, start as i64, end as i64))
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot fetch {contig}:{start}-{end} from {}: {e}",
                    self.path.display()
                )
            })?;
        let mut kept = Vec::new();
        let mut rec = bam::Record::new();
        while read_record(&mut self.reader, &mut rec).map_err(|e| {
            anyhow::anyhow!(
                "corrupt record in {} near {contig}:{}: {e}",
                self.path.display(),
                start + 1
            )
        })? {
            if rec.flags() & EXCLUDE_FLAGS != 0 || rec.mapq() < filter.min_mapq || rec.mapq() == 255
            {
                continue;
            }
            if let Some(read) = from_record(&rec) {
                kept.push((name_hash(rec.qname()), read));
            }
        }
        let out = downsample(kept, filter.max_depth);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(start: u64, seq: &str, indels: Vec<Indel>) -> AlignedRead {
        test_read(start, seq, indels, false)
    }

    #[test]
    fn test_downsample_is_deterministic_and_unbiased_by_position() {
        let reads: Vec<_> = (0..2000)
            .map(|i| {
                (
                    name_hash(format!("read{i}").as_bytes()),
                    read((i % 50) as u64, &"A".repeat(100), vec![]),
                )
            })
            .collect();
        let a = downsample(reads.clone(), 250);
        let b = downsample(reads.clone(), 250);
        let starts = |v: &[AlignedRead]| v.iter().map(|r| r.start).collect::<Vec<_>>();
        assert_eq!(starts(&a), starts(&b));
        // About 2000 reads overlap the middle: keep about 250 of them.
        assert!((180..=320).contains(&a.len()), "kept {}", a.len());
        // Not first-come: reads starting late survive as well as early ones.
        assert!(a.iter().any(|r| r.start >= 40) && a.iter().any(|r| r.start < 10));
        // Shallow data is untouched.
        assert_eq!(downsample(reads[..100].to_vec(), 250).len(), 100);
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
        assert!(from_record(&rec("r\t0\tc\t5\t60\t4M\t*\t0\t0\t*\t*")).is_none());
        // Zero-length indels are no indels (left_align expects every insertion to hold bases).
        let mut r = from_record(&rec("r\t0\tc\t5\t60\t2M0I0D2M\t*\t0\t0\tACGT\t*")).unwrap();
        assert!(r.indels.is_empty());
        left_align(&mut r, b"ACGTACGTACGT", 0);
        // `B` (code 9) parses, but rust-htslib's cigar() cannot represent it.
        assert!(from_record(&rec("r\t0\tc\t5\t60\t2M1B2M\t*\t0\t0\tACGT\t*")).is_none());
        let r = from_record(&rec("r\t0\tc\t5\t60\t2M1I1M\t*\t0\t0\tACGT\t*")).unwrap();
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
