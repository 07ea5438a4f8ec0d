//! [`ReadSource`]: an open BAM or CRAM, its header (contigs, read groups, samples, M5), its
//! index, and the records of an interval as the stages want them.
use std::path::{Path, PathBuf};

use anyhow::Result;
use rust_htslib::bam::{self, ext::BamRecordExtensions as _, Read as _};

use crate::errors::input_error;

use super::*;

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
