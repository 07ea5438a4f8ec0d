//! `varstream shards`: the callable genome cut into N BED files of about equal work, for
//! running `call` on N machines and concatenating the VCFs.
//!
//! The callable set is resolved exactly as `call` resolves it ([`regions::resolve`] over the
//! contigs of the reads and the reference), then cut into cells on the grid `call` shards on
//! ([`regions::shard`] at [`regions::DEFAULT_SHARD_BP`], which is one depth tile). Each BED
//! file is a run of consecutive cells, so the files in name order are in genome order, each
//! callable base is in exactly one of them, and every cut between two files lies on the grid
//! (or at the edge of a callable interval). Calling each file with `--regions` then gives the
//! records of one run, split in order: `bcftools concat --naive` of the VCFs in file-name order
//! is the single run's body.
//!
//! Work per cell: with `--reads` whose `.bai` is readable, the compressed bytes of reads the
//! index's linear index puts in the cell (read count is what calling time follows), plus a
//! tenth of the total spread by bases so that read-less stretches are not free; otherwise the
//! cell's non-N reference bases.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::bail_input;
use crate::errors::BadInput;
use crate::preamble::{Preamble, SampleChoice};
use crate::reference::Reference;
use crate::regions::{self, Interval};

/// Settings of one `varstream shards` run.
#[derive(Debug, Clone)]
pub struct ShardsConfig {
    /// Reference FASTA.
    pub reference: PathBuf,
    /// Reads whose contigs (and index) define the callable set and the work, if given.
    pub reads: Option<PathBuf>,
    /// `--region` values.
    pub regions: Vec<String>,
    /// `--regions` BED.
    pub bed: Option<PathBuf>,
    /// How many BED files to write (fewer when there are fewer grid cells).
    pub count: usize,
    /// Folder the BED files go in (must exist).
    pub output: PathBuf,
}

/// Share of the work spread evenly over callable bases when reads give the rest: the part of
/// calling that scans every base (reference, pileup columns, tiles) whether or not reads are
/// there. A rough figure; it only keeps read-less stretches from weighing nothing.
const PER_BASE_SHARE: f64 = 0.1;

/// BAI linear-index window: 16 kb (`min_shift` 14).
const BAI_WINDOW: u64 = 1 << 14;

/// The BED file name of shard `i` of `n`: zero-padded so that names sort in genome order.
pub fn bed_name(i: usize, n: usize) -> String {
    let width = n.saturating_sub(1).to_string().len().max(4);
    format!("shard-{i:0width$}.bed")
}

/// Cut `weights` (one per cell, in genome order) into `min(count, cells)` runs of consecutive
/// cells, none empty, each as close to an equal share of the total as cell boundaries allow:
/// the k-th cut is the cell boundary nearest to k/n of the total. No run weighs more than
/// total/n plus the heaviest cell. All-zero weights count cells instead.
pub fn partition(weights: &[f64], count: usize) -> Vec<std::ops::Range<usize>> {
    let m = weights.len();
    let n = count.min(m);
    if n == 0 {
        return Vec::new();
    }
    let total: f64 = weights.iter().sum();
    let w: Vec<f64> = if total > 0.0 {
        weights.to_vec()
    } else {
        vec![1.0; m]
    };
    let mut prefix = Vec::with_capacity(m + 1);
    prefix.push(0.0);
    for x in &w {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + x);
    }
    let total = prefix[m];
    let mut cuts = vec![0usize];
    for k in 1..n {
        let target = total * k as f64 / n as f64;
        // First boundary at or past the target, or the one before it if that is nearer.
        let mut i = prefix.partition_point(|&c| c < target);
        if i > 0
            && (target - prefix[i - 1]) <= (prefix.get(i).copied().unwrap_or(f64::MAX) - target)
        {
            i -= 1;
        }
        // Leave at least one cell for this run and each run after it.
        let lo = cuts[k - 1] + 1;
        let hi = m - (n - k);
        cuts.push(i.clamp(lo, hi));
    }
    cuts.push(m);
    cuts.windows(2).map(|c| c[0]..c[1]).collect()
}

/// The merged BED text of consecutive cells (0-based, half-open; touching cells joined).
pub fn bed_text(cells: &[Interval]) -> String {
    let mut out = String::new();
    let mut open: Option<Interval> = None;
    for c in cells {
        match &mut open {
            Some(o) if o.contig == c.contig && o.end == c.start => o.end = c.end,
            _ => {
                if let Some(o) = open.take() {
                    out.push_str(&format!("{}\t{}\t{}\n", o.contig, o.start, o.end));
                }
                open = Some(c.clone());
            }
        }
    }
    if let Some(o) = open {
        out.push_str(&format!("{}\t{}\t{}\n", o.contig, o.start, o.end));
    }
    out
}

/// What a BAI index says about one reference sequence: the virtual file offset of the first
/// read overlapping each 16 kb window, and the offset past its last read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BaiRef {
    /// Linear index: per window, the smallest virtual offset of a read overlapping it.
    pub windows: Vec<u64>,
    /// Virtual offset just past the last read (htslib's pseudo-bin), if recorded.
    pub end: Option<u64>,
}

/// Parse a BAI index (SAMv1 §5.2) into its per-reference linear indexes; `None` if it is not
/// one or is cut.
pub fn parse_bai(b: &[u8]) -> Option<Vec<BaiRef>> {
    let mut at = 0usize;
    let mut take = |n: usize| -> Option<&[u8]> {
        let s = b.get(at..at.checked_add(n)?)?;
        at += n;
        Some(s)
    };
    let u32_of = |s: &[u8]| u32::from_le_bytes(s.try_into().unwrap_or([0; 4]));
    let u64_of = |s: &[u8]| u64::from_le_bytes(s.try_into().unwrap_or([0; 8]));
    if take(4)? != b"BAI\x01" {
        return None;
    }
    let n_ref = u32_of(take(4)?);
    let mut out = Vec::new();
    for _ in 0..n_ref {
        let mut r = BaiRef::default();
        let n_bin = u32_of(take(4)?);
        for _ in 0..n_bin {
            let bin = u32_of(take(4)?);
            let n_chunk = u32_of(take(4)?) as usize;
            let chunks = take(n_chunk.checked_mul(16)?)?;
            // Bin 37450 is htslib's pseudo-bin: (first read, past last read), (mapped, unmapped).
            if bin == 37450 && n_chunk >= 1 {
                r.end = Some(u64_of(&chunks[8..16]));
            }
        }
        let n_intv = u32_of(take(4)?) as usize;
        let lin = take(n_intv.checked_mul(8)?)?;
        r.windows = lin.chunks_exact(8).map(u64_of).collect();
        out.push(r);
    }
    Some(out)
}

/// Compressed bytes of reads in each 16 kb window of one reference (from the differences of
/// the linear index's block offsets: reads are stored in position order).
pub fn window_bytes(r: &BaiRef) -> Vec<u64> {
    let block = |v: u64| v >> 16;
    (0..r.windows.len())
        .map(|w| {
            let next = match r.windows.get(w + 1) {
                Some(&v) => block(v),
                None => r.end.map_or(block(r.windows[w]), block),
            };
            next.saturating_sub(block(r.windows[w]))
        })
        .collect()
}

/// Bytes of `window_bytes` falling in `[start, end)`, each window's spread evenly over it.
fn bytes_in(windows: &[u64], start: u64, end: u64) -> f64 {
    let (first, last) = (start / BAI_WINDOW, end.saturating_sub(1) / BAI_WINDOW);
    (first..=last)
        .filter_map(|w| windows.get(w as usize).map(|&b| (w, b)))
        .map(|(w, b)| {
            let (ws, we) = (w * BAI_WINDOW, (w + 1) * BAI_WINDOW);
            let overlap = end.min(we).saturating_sub(start.max(ws));
            b as f64 * overlap as f64 / BAI_WINDOW as f64
        })
        .sum()
}

/// The `.bai` beside a BAM (`x.bam.bai` or `x.bai`), if there is one.
fn bai_of(bam: &Path) -> Option<PathBuf> {
    if bam.extension().is_none_or(|e| e != "bam") {
        return None;
    }
    [
        PathBuf::from(format!("{}.bai", bam.display())),
        bam.with_extension("bai"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// Non-N bases of each cell.
fn base_weights(reference: &Reference, cells: &[Interval]) -> Result<Vec<f64>> {
    cells
        .iter()
        .map(|c| {
            let seq = reference.fetch(&c.contig, c.start, c.end).bad_input()?;
            Ok(seq.iter().filter(|&&b| b != b'N').count() as f64)
        })
        .collect()
}

/// One shard as written.
#[derive(Debug, Clone)]
pub struct WrittenShard {
    /// The BED file.
    pub path: PathBuf,
    /// Callable bases in it.
    pub bases: u64,
    /// Its share of the work (0..1).
    pub share: f64,
}

/// Write the BED files; returns them in genome order.
pub fn run(cfg: &ShardsConfig) -> Result<Vec<WrittenShard>> {
    if cfg.count == 0 {
        bail_input!("--count must be at least 1");
    }
    if !cfg.output.is_dir() {
        bail_input!(
            "output folder {} does not exist or is not a folder (create it first)",
            cfg.output.display()
        );
    }
    let mut bai = None;
    // With reads: the same inputs and checks as `call` (every sample's reads weigh).
    let (reference, intervals) = match &cfg.reads {
        Some(reads) => {
            let p = Preamble::open(
                &cfg.reference,
                reads,
                SampleChoice::AllReads,
                &cfg.regions,
                cfg.bed.as_deref(),
            )?;
            if let Some(index) = bai_of(reads) {
                let bytes = std::fs::read(&index).map_err(|e| {
                    crate::errors::input_error(format!(
                        "cannot read index {}: {e}",
                        index.display()
                    ))
                })?;
                match parse_bai(&bytes) {
                    Some(refs) => bai = Some((p.reads.contigs(), refs)),
                    None => {
                        log::info!("{} is not a BAI index: balancing by bases", index.display())
                    }
                }
            } else {
                log::info!(
                    "no .bai beside {}: balancing by bases, not reads",
                    reads.display()
                );
            }
            (p.reference, p.intervals)
        }
        None => {
            let reference = Reference::open(&cfg.reference).bad_input()?;
            let every: Vec<(String, u64)> = reference
                .contigs()
                .iter()
                .map(|c| (c.name.clone(), c.length))
                .collect();
            let intervals = regions::resolve(&cfg.regions, cfg.bed.as_deref(), &every)?;
            (std::sync::Arc::new(reference), intervals)
        }
    };
    let cells: Vec<Interval> = regions::shard(&intervals, regions::DEFAULT_SHARD_BP)
        .into_iter()
        .map(|s| s.interval)
        .collect();
    // The outputs are checked before the reference is read for the weights.
    let n = cfg.count.min(cells.len());
    let paths: Vec<PathBuf> = (0..n).map(|i| cfg.output.join(bed_name(i, n))).collect();
    let mut inputs = vec![cfg.reference.clone()];
    inputs.extend(cfg.reads.iter().cloned());
    inputs.extend(cfg.bed.iter().cloned());
    crate::output::check_outputs(&paths, &inputs)?;
    refuse_stale(&cfg.output, &paths)?;
    if n < cfg.count {
        log::warn!(
            "the callable set has only {} cells of the {} bp grid: writing {n} BED files, not {}",
            cells.len(),
            regions::DEFAULT_SHARD_BP,
            cfg.count
        );
    }
    let bases = base_weights(&reference, &cells)?;
    let by_reads = bai.as_ref().map(|(contigs, refs)| {
        let per_window: Vec<Vec<u64>> = refs.iter().map(window_bytes).collect();
        cells
            .iter()
            .map(|c| {
                contigs
                    .iter()
                    .position(|(n, _)| *n == c.contig)
                    .and_then(|tid| per_window.get(tid))
                    .map_or(0.0, |w| bytes_in(w, c.start, c.end))
            })
            .collect::<Vec<f64>>()
    });
    let total_bases: f64 = bases.iter().sum();
    let weights: Vec<f64> = match by_reads {
        Some(r) if r.iter().sum::<f64>() > 0.0 => {
            let total_reads: f64 = r.iter().sum();
            log::info!(
                "balancing by reads ({:.1} MB of compressed reads in the callable set, from the BAM index)",
                total_reads / 1e6
            );
            r.iter()
                .zip(&bases)
                .map(|(r, b)| {
                    (1.0 - PER_BASE_SHARE) * r / total_reads
                        + PER_BASE_SHARE * b / total_bases.max(1.0)
                })
                .collect()
        }
        _ => bases.clone(),
    };
    let groups = partition(&weights, n);
    let total: f64 = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let mut written = Vec::with_capacity(n);
    for (g, path) in groups.iter().zip(&paths) {
        crate::output::write_file(path, bed_text(&cells[g.clone()]).as_bytes())?;
        let shard = WrittenShard {
            path: path.clone(),
            bases: cells[g.clone()].iter().map(|c| c.end - c.start).sum(),
            share: weights[g.clone()].iter().sum::<f64>() / total,
        };
        let (first, last) = (&cells[g.start], &cells[g.end - 1]);
        log::info!(
            "{}: {} bp, {}:{} to {}:{}, {:.1}% of the work",
            path.display(),
            shard.bases,
            first.contig,
            first.start + 1,
            last.contig,
            last.end,
            100.0 * shard.share
        );
        written.push(shard);
    }
    Ok(written)
}

/// A `shard-*.bed` left in the folder by an earlier run with more shards would be called and
/// concatenated too by a workflow that globs the folder: refuse rather than delete it.
fn refuse_stale(dir: &Path, writing: &[PathBuf]) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list output folder {}", dir.display()))?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("shard-")
            && name.ends_with(".bed")
            && !writing
                .iter()
                .any(|p| p.file_name() == Some(e.file_name().as_os_str()))
        {
            bail_input!(
                "output folder {} already holds {name}, which this run would not replace: use an empty folder",
                dir.display()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn iv(contig: &str, start: u64, end: u64) -> Interval {
        Interval {
            contig: contig.into(),
            start,
            end,
        }
    }

    /// Parse `bed_text` back into intervals.
    fn parse(text: &str) -> Vec<Interval> {
        text.lines()
            .map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                iv(f[0], f[1].parse().unwrap(), f[2].parse().unwrap())
            })
            .collect()
    }

    // For random region sets and counts (including more shards than grid cells), the shard
    // BEDs cover the callable set exactly once, in genome order, cut only on the grid or at
    // interval edges, none empty, and none heavier than an equal share plus one cell.
    #[test]
    fn test_shards_partition_the_callable_set_for_any_count() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        let grid = regions::DEFAULT_SHARD_BP;
        let contigs = vec![
            ("c1".to_string(), 310_000u64),
            ("c2".to_string(), 40_000),
            ("c3".to_string(), 137_001),
        ];
        let order: Vec<String> = contigs.iter().map(|c| c.0.clone()).collect();
        for case in 0..300 {
            // A random region set: up to 8 intervals anywhere, overlapping or not; or none.
            let k = rng.random_range(0..=8);
            let raw: Vec<Interval> = (0..k)
                .map(|_| {
                    let (name, len) = &contigs[rng.random_range(0..contigs.len())];
                    let s = rng.random_range(0..*len);
                    let e = (s + rng.random_range(1..120_000)).min(*len);
                    iv(name, s, e)
                })
                .collect();
            let intervals = if raw.is_empty() {
                contigs.iter().map(|(n, l)| iv(n, 0, *l)).collect()
            } else {
                regions::merge(raw, &order)
            };
            let cells: Vec<Interval> = regions::shard(&intervals, grid)
                .into_iter()
                .map(|s| s.interval)
                .collect();
            let weights: Vec<f64> = cells
                .iter()
                .map(|c| match case % 3 {
                    0 => (c.end - c.start) as f64,
                    1 => rng.random_range(0.0..1000.0),
                    _ => 0.0,
                })
                .collect();
            let count = rng.random_range(1..=cells.len() + 5);
            let groups = partition(&weights, count);
            assert_eq!(groups.len(), count.min(cells.len()), "case {case}");
            let beds: Vec<Vec<Interval>> = groups
                .iter()
                .map(|g| parse(&bed_text(&cells[g.clone()])))
                .collect();
            // Exactly once, in order: the BEDs one after another are the merged callable set.
            let joined: Vec<Interval> = beds.iter().flatten().cloned().collect();
            assert!(
                beds.iter().all(|b| !b.is_empty()),
                "case {case}: empty shard"
            );
            assert_eq!(
                regions::merge(joined.clone(), &order),
                intervals,
                "case {case}: union"
            );
            let rank = |i: &Interval| (order.iter().position(|c| *c == i.contig), i.start);
            for w in joined.windows(2) {
                assert!(rank(&w[0]) < rank(&w[1]), "case {case}: order {w:?}");
                assert!(
                    w[0].contig != w[1].contig || w[0].end <= w[1].start,
                    "case {case}: overlap {w:?}"
                );
            }
            // Cuts between shards: on the grid unless at the edge of a callable interval.
            for pair in beds.windows(2) {
                let (a, b) = (pair[0].last().unwrap(), &pair[1][0]);
                if a.contig == b.contig && a.end == b.start {
                    assert_eq!(a.end % grid, 0, "case {case}: cut off the grid at {a}");
                }
            }
            let total: f64 = weights.iter().sum();
            if total > 0.0 {
                let heaviest = weights.iter().cloned().fold(0.0, f64::max);
                for g in &groups {
                    let w: f64 = weights[g.clone()].iter().sum();
                    assert!(
                        w <= total / groups.len() as f64 + heaviest + 1e-6,
                        "case {case}: shard weighs {w} of {total}"
                    );
                }
            }
        }
    }

    #[test]
    fn test_partition_balances_uneven_work() {
        // Ten cells, the first two hold most of the work: they get shards of their own.
        let w = [40.0, 40.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 4.0, 4.0];
        assert_eq!(partition(&w, 3), vec![0..1, 1..2, 2..10]);
        assert_eq!(partition(&w, 1), vec![0..10]);
        assert_eq!(partition(&[1.0; 4], 2), vec![0..2, 2..4]);
        assert_eq!(partition(&[1.0; 2], 5), vec![0..1, 1..2]);
        assert!(partition(&[], 3).is_empty());
    }

    #[test]
    fn test_bed_names_sort_in_order() {
        assert_eq!(bed_name(3, 4), "shard-0003.bed");
        assert_eq!(bed_name(12_345, 20_000), "shard-12345.bed");
        let names: Vec<String> = (0..12_000).map(|i| bed_name(i, 12_000)).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }

    #[test]
    fn test_bai_linear_index_gives_bytes_per_window() {
        // One reference, one ordinary bin with one chunk, the pseudo-bin, three windows.
        let mut b = b"BAI\x01".to_vec();
        b.extend(1u32.to_le_bytes());
        b.extend(2u32.to_le_bytes());
        b.extend(4681u32.to_le_bytes());
        b.extend(1u32.to_le_bytes());
        b.extend(((100u64) << 16).to_le_bytes());
        b.extend(((900u64) << 16).to_le_bytes());
        b.extend(37450u32.to_le_bytes());
        b.extend(2u32.to_le_bytes());
        b.extend(((100u64) << 16).to_le_bytes());
        b.extend(((900u64) << 16 | 5).to_le_bytes());
        b.extend(700u64.to_le_bytes());
        b.extend(0u64.to_le_bytes());
        b.extend(3u32.to_le_bytes());
        for off in [100u64, 400, 400] {
            b.extend((off << 16 | 7).to_le_bytes());
        }
        let refs = parse_bai(&b).unwrap();
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].end, Some((900 << 16) | 5));
        assert_eq!(window_bytes(&refs[0]), vec![300, 0, 500]);
        // Half of window 0 and all of window 2.
        let w = window_bytes(&refs[0]);
        assert_eq!(bytes_in(&w, BAI_WINDOW / 2, 3 * BAI_WINDOW), 650.0);
        assert!(
            parse_bai(&b[..b.len() - 3]).is_none(),
            "a cut index is refused"
        );
        assert!(parse_bai(b"BAM\x01").is_none());
    }
}
