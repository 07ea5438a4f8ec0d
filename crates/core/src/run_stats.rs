//! What a `call` run measured besides its calls, written as `PREFIX.stats.json` for the
//! report: the regions called, the depth over them, what the read stage did with the reads,
//! and (when known) the sample's sex.
//!
//! Every number comes from counts the caller makes anyway (the pileup's depth, the read
//! stage's [`ReadCounts`]), summed over shards. Depth is counted per position of a shard and
//! reads by the shard their alignment starts in, so the file is the same for any
//! `--threads`, `--shard-size` or split of the regions.
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::reads::ReadCounts;

/// Version of the file's layout; bump it when a field changes meaning or is removed.
pub const STATS_VERSION: u32 = 2;
/// Suffix of the stats file after the output prefix.
pub const STATS_FILE: &str = ".stats.json";
/// Depths at which the file counts the bases covered at least that deep.
pub const DEPTH_THRESHOLDS: [u16; 4] = [1, 10, 20, 30];

/// Depth over some called bases.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Bases called.
    pub bp: u64,
    /// Sum over those bases of the depth.
    pub depth_sum: u64,
    /// Bases with depth ≥ each of [`DEPTH_THRESHOLDS`] (1, 10, 20, 30).
    pub bp_at_least: [u64; 4],
}

impl Coverage {
    /// The coverage of a run of per-position depths.
    pub fn of(depths: &[u16]) -> Self {
        let mut c = Coverage {
            bp: depths.len() as u64,
            ..Default::default()
        };
        for &d in depths {
            c.depth_sum += d as u64;
            for (k, &t) in DEPTH_THRESHOLDS.iter().enumerate() {
                c.bp_at_least[k] += (d >= t) as u64;
            }
        }
        c
    }

    /// Add another stretch.
    pub fn add(&mut self, o: &Coverage) {
        self.bp += o.bp;
        self.depth_sum += o.depth_sum;
        for (a, b) in self.bp_at_least.iter_mut().zip(o.bp_at_least) {
            *a += b;
        }
    }

    /// Mean depth (0 over no bases).
    pub fn mean(&self) -> f64 {
        if self.bp == 0 {
            0.0
        } else {
            self.depth_sum as f64 / self.bp as f64
        }
    }

    /// Fraction of bases with depth ≥ `threshold` (one of [`DEPTH_THRESHOLDS`]).
    pub fn fraction_at_least(&self, threshold: u16) -> Option<f64> {
        let k = DEPTH_THRESHOLDS.iter().position(|&t| t == threshold)?;
        (self.bp > 0).then(|| self.bp_at_least[k] as f64 / self.bp as f64)
    }
}

/// One contig's share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContigStats {
    /// Contig name as in the reference.
    pub contig: String,
    /// Intervals called on it (after merging).
    pub intervals: u64,
    /// Depth over them.
    pub coverage: Coverage,
    /// Mean depth, for readers of the JSON.
    pub mean_depth: f64,
}

/// The sample's sex and its evidence: `call` writes it when calling depended on it
/// (`ploidy::SexCall`), and the report shows it when present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SexEvidence {
    /// `XX`, `XY` or `ambiguous`.
    pub call: String,
    /// `inferred` or `user`.
    pub source: String,
    /// chrX depth over autosomal depth, when measured.
    #[serde(default)]
    pub x_depth_ratio: Option<f64>,
    /// chrY depth over autosomal depth, when measured.
    #[serde(default)]
    pub y_depth_ratio: Option<f64>,
    /// Free text.
    #[serde(default)]
    pub note: Option<String>,
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStats {
    /// [`STATS_VERSION`].
    pub stats_version: u32,
    /// Tool and version.
    pub generated_by: String,
    /// Sample column of the VCF.
    pub sample: String,
    /// Total called bases and intervals.
    pub regions: RegionSummary,
    /// Depth over all called bases.
    pub coverage: Coverage,
    /// Mean depth over all called bases.
    pub mean_depth: f64,
    /// What depth means here.
    pub depth_definition: String,
    /// Per contig, in reference order.
    pub per_contig: Vec<ContigStats>,
    /// Records whose alignment starts in the called regions, by what the read stage did.
    pub reads: ReadCounts,
    /// Settings that shaped these counts.
    pub read_filters: ReadFilterSummary,
    /// The sample's sex, when known (see [`SexEvidence`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<SexEvidence>,
    /// With `call --phase`: heterozygous PASS calls phased, blocks and block N50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phasing: Option<crate::phasing::PhasingStats>,
}

/// Called regions in numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegionSummary {
    /// Merged intervals.
    pub intervals: u64,
    /// Bases.
    pub bp: u64,
}

/// The read filters of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadFilterSummary {
    /// `--min-mapq`.
    pub min_mapq: u8,
    /// `--min-baseq`.
    pub min_baseq: u8,
    /// `--max-depth`.
    pub max_depth: usize,
}

/// Accumulates shard results, in any order, into [`RunStats`].
#[derive(Debug, Default)]
pub struct StatsCollector {
    contigs: Vec<(String, u64, Coverage)>,
    reads: ReadCounts,
}

impl StatsCollector {
    /// Start with the called intervals (contig order is kept).
    pub fn new(intervals: &[crate::regions::Interval]) -> Self {
        let mut contigs: Vec<(String, u64, Coverage)> = Vec::new();
        for iv in intervals {
            match contigs.iter_mut().find(|c| c.0 == iv.contig) {
                Some(c) => c.1 += 1,
                None => contigs.push((iv.contig.clone(), 1, Coverage::default())),
            }
        }
        Self {
            contigs,
            reads: ReadCounts::default(),
        }
    }

    /// Add one shard's depth and reads.
    pub fn add(&mut self, contig: &str, coverage: &Coverage, reads: &ReadCounts) {
        if let Some(c) = self.contigs.iter_mut().find(|c| c.0 == contig) {
            c.2.add(coverage);
        }
        self.reads.add(reads);
    }

    /// The file's contents.
    pub fn finish(self, sample: &str, filters: &crate::reads::ReadFilter) -> RunStats {
        let mut total = Coverage::default();
        let mut regions = RegionSummary::default();
        let per_contig = self
            .contigs
            .into_iter()
            .map(|(contig, intervals, coverage)| {
                total.add(&coverage);
                regions.intervals += intervals;
                regions.bp += coverage.bp;
                ContigStats {
                    contig,
                    intervals,
                    mean_depth: round4(coverage.mean()),
                    coverage,
                }
            })
            .collect();
        RunStats {
            stats_version: STATS_VERSION,
            generated_by: format!("varstream {}", env!("CARGO_PKG_VERSION")),
            sample: sample.to_string(),
            regions,
            mean_depth: round4(total.mean()),
            coverage: total,
            depth_definition: "reads over each called base (a deletion counts) after the read \
                               filters and the --max-depth cap, as the caller piles them up"
                .to_string(),
            per_contig,
            reads: self.reads,
            read_filters: ReadFilterSummary {
                min_mapq: filters.min_mapq,
                min_baseq: filters.min_baseq,
                max_depth: filters.max_depth,
            },
            sex: None,
            phasing: None,
        }
    }
}

impl RunStats {
    /// Why nothing could be called, when reads were seen in the called regions but none was
    /// used (nothing piled up): the counts by reason, in one line. `None` otherwise.
    pub fn nothing_usable(&self) -> Option<String> {
        let r = &self.reads;
        if r.seen == 0 || r.kept > 0 || self.coverage.depth_sum > 0 {
            return None;
        }
        let f = &self.read_filters;
        let reasons: Vec<String> = [
            (
                r.flagged,
                "unmapped, secondary, supplementary, duplicate or QC-fail".to_string(),
            ),
            (
                r.low_mapq,
                format!("MAPQ under --min-mapq {} (or 255)", f.min_mapq),
            ),
            (r.other_sample, "of another sample's read group".to_string()),
            (
                r.unusable,
                "without a sequence or an aligned base".to_string(),
            ),
            (r.downsampled, "over --max-depth".to_string()),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, why)| format!("{n} {why}"))
        .collect();
        Some(format!(
            "{} read(s) start in the called regions and none could be used: {}",
            r.seen,
            reasons.join(", ")
        ))
    }
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// `PREFIX.stats.json`.
pub fn path_for(prefix: &Path) -> std::path::PathBuf {
    crate::output::prefixed(prefix, STATS_FILE)
}

/// Write the file through a temporary.
pub fn write(stats: &RunStats, path: &Path) -> Result<()> {
    write_uncommitted(stats, path)?.commit()
}

/// [`write`] up to the rename, so that `call` commits it with the VCF.
pub fn write_uncommitted(stats: &RunStats, path: &Path) -> Result<crate::output::TempPath> {
    let text = serde_json::to_string_pretty(stats)? + "\n";
    crate::output::write_file_uncommitted(path, text.as_bytes())
}

/// Read a stats file (bad input when it is not one).
pub fn read(path: &Path) -> Result<RunStats> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read stats file {}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    // Version 1 differs only by `reads.too_long` (the retired read-length cap), ignored here.
    let version = v["stats_version"].as_u64();
    if !matches!(version, Some(1) | Some(2)) {
        anyhow::bail!(
            "{}: stats_version {} is not 1 or 2, the versions this varstream reads",
            path.display(),
            v["stats_version"]
        );
    }
    let stats: RunStats = serde_json::from_value(v)
        .with_context(|| format!("{}: not a varstream stats file", path.display()))?;
    if let Some(sex) = &stats.sex {
        if !["XX", "XY", "ambiguous"].contains(&sex.call.as_str())
            || !["inferred", "user"].contains(&sex.source.as_str())
        {
            anyhow::bail!(
                "{}: sex call {:?} from {:?}: the call must be XX, XY or ambiguous and the \
                 source inferred or user",
                path.display(),
                sex.call,
                sex.source
            );
        }
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_counts_thresholds_and_adds_up() {
        let a = Coverage::of(&[0, 1, 9, 10, 19, 20, 30, 50]);
        assert_eq!(a.bp, 8);
        assert_eq!(a.depth_sum, 139);
        assert_eq!(a.bp_at_least, [7, 5, 3, 2]);
        let mut t = Coverage::of(&[0, 1, 9, 10]);
        t.add(&Coverage::of(&[19, 20, 30, 50]));
        assert_eq!(t, a);
        assert_eq!(a.fraction_at_least(20), Some(3.0 / 8.0));
        assert_eq!(a.fraction_at_least(15), None);
        assert_eq!(Coverage::default().mean(), 0.0);
    }
}
