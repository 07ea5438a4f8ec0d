//! Command-line flags (clap derive), as the user typed them: each value checked where it is
//! parsed ([`values`]), nothing resolved. [`crate::settings`] turns them into each run's
//! typed settings, as ripgrep's `LowArgs` become `HiArgs`.
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::candidates::CandidateParams;
use crate::inference::Device;
use crate::reads::ReadFilter;

/// varstream: streaming germline small-variant caller.
#[derive(Debug, Parser)]
#[command(name = "varstream", version = crate::VERSION, about)]
pub struct Cli {
    /// More log output (-v debug, -vv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only warnings and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Call small variants: BAM/CRAM to a bgzipped, indexed VCF.
    Call(CallArgs),
    /// Write labelled training examples (.npy shards) from reads and a truth VCF.
    MakeExamples(MakeExamplesArgs),
    /// Compare a VCF with a truth VCF inside confident regions.
    Eval(EvalArgs),
    /// Per-sample scores from a VCF.
    #[command(subcommand)]
    Score(crate::scores::ScoreCommand),
    /// Per-sample report (JSON, HTML, MultiQC table) from a VCF and any score tables.
    Report(ReportArgs),
    /// Cut the callable genome into N BED files of balanced work, for calling on a cluster.
    Shards(ShardsArgs),
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Read filters and candidate thresholds shared by `call` and `make-examples`.
#[derive(Debug, Args)]
pub struct EvidenceArgs {
    /// Drop reads with mapping quality below this.
    #[arg(long, default_value_t = ReadFilter::default().min_mapq)]
    pub min_mapq: u8,
    /// Do not count bases with quality below this.
    #[arg(long, default_value_t = ReadFilter::default().min_baseq)]
    pub min_baseq: u8,
    /// Most reads over any position; reads past it are dropped deterministically.
    #[arg(long, default_value_t = ReadFilter::default().max_depth, value_parser = values::at_least_one)]
    pub max_depth: usize,
    /// Fraction of reads an SNV allele needs to become a candidate.
    #[arg(long, default_value_t = CandidateParams::default().min_snv_fraction, value_parser = values::fraction)]
    pub min_snv_fraction: f32,
    /// Fraction of reads an insertion or deletion needs to become a candidate.
    /// (Default: 0.06 for Illumina; for `call` on long reads, the platform's: 0.08 HiFi,
    /// 0.15 ONT.)
    #[arg(long, value_parser = values::fraction)]
    pub min_indel_fraction: Option<f32>,
    /// Reads an allele needs to become a candidate, at least 1 (`call`: default the model's
    /// sidecar `calling.min_alt_reads`, else 2; `make-examples`: default 2).
    #[arg(long)]
    pub min_alt_reads: Option<u32>,
    /// Use reads as aligned: no local assembly and realignment around indels and clips.
    #[arg(long)]
    pub no_realign: bool,
}

/// `varstream call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// Reference FASTA (plain with .fai, or bgzipped with .fai and .gzi).
    #[arg(long = "ref")]
    pub reference: PathBuf,
    /// Aligned reads: BAM or CRAM, coordinate-sorted and indexed.
    #[arg(long)]
    pub reads: PathBuf,
    /// Output VCF (.vcf.gz, bgzipped, with a .tbi index beside it).
    #[arg(long, short)]
    pub output: PathBuf,
    /// Region to call, chr:start-end (1-based, inclusive); repeatable.
    #[arg(long)]
    pub region: Vec<String>,
    /// BED file of regions to call (intersected with --region when both are given).
    #[arg(long)]
    pub regions: Option<PathBuf>,
    /// Worker threads (default: all available cores).
    #[arg(long, default_value_t = default_threads(), value_parser = values::at_least_one)]
    pub threads: usize,
    /// Genotyping model (.onnx with its .json sidecar); default: varstream-v4, built in.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Read-level second-tier model (.onnx with its .json sidecar): sites the genotyping
    /// model is unsure of (GQ < 30 or DP < 15) are genotyped again from their reads
    /// (benches/results/read_tier.md). Default: none (one tier).
    #[arg(long)]
    pub read_model: Option<PathBuf>,
    /// Where inference runs.
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    pub device: Device,
    /// Sample name in the VCF (default: the reads' @RG SM tag).
    #[arg(long, value_parser = values::sample_name)]
    pub sample: Option<String>,
    /// QUAL below which non-reference calls are LowQual (default: the model's sidecar, else 1).
    #[arg(long, value_parser = values::quality)]
    pub min_qual: Option<f64>,
    /// Examples per inference batch.
    #[arg(long, default_value_t = 512, value_parser = values::at_least_one)]
    pub batch_size: usize,
    /// Shard length in bp (the unit of parallel work; output does not depend on it).
    #[arg(long, default_value_t = crate::regions::DEFAULT_SHARD_BP, value_parser = values::at_least_one_u64)]
    pub shard_size: u64,
    /// PGS Catalog scoring files to score on the finished VCF.
    #[arg(long)]
    pub pgs: Vec<PathBuf>,
    /// Reference distribution of the --pgs scores (TSV; docs/scores.md), for Z and percentile.
    #[arg(long, requires = "pgs")]
    pub pgs_reference: Option<PathBuf>,
    /// PredictDB weight databases to score on the finished VCF.
    #[arg(long)]
    pub weights: Vec<PathBuf>,
    /// Also write OUT.report.{json,html} and OUT.report_mqc.json (with the run's stats and any
    /// scores above).
    #[arg(long)]
    pub report: bool,
    /// The sample's sex: auto (inferred from chrX and chrY read depth), XX or XY. XY makes
    /// the --haploid-contigs haploid outside the PARs; XX leaves chrY uncalled.
    #[arg(long, value_enum, default_value_t = crate::ploidy::SexChoice::Auto)]
    pub sex: crate::ploidy::SexChoice,
    /// Contigs that are haploid in an XY sample, outside the PARs (comma-separated, or
    /// `none`; default: chrX,chrY or X,Y as the reads name them). chrM/MT is always haploid.
    #[arg(long, value_delimiter = ',')]
    pub haploid_contigs: Option<Vec<String>>,
    /// Pseudo-autosomal regions (BED), diploid in XY samples; `none` for no PARs. Default:
    /// built in for GRCh37 and GRCh38, recognised by the length of chrX and chrY.
    #[arg(long)]
    pub par: Option<String>,
    /// Ploidy per region in bcftools' format (CHROM FROM TO SEX PLOIDY; SEX M/XY, F/XX or *;
    /// PLOIDY 0, 1 or 2), replacing the built-in human rules: for other organisms.
    #[arg(long, conflicts_with_all = ["haploid_contigs", "par"])]
    pub ploidy_file: Option<PathBuf>,
    /// Write the model's genotype posteriors without the sidecar's depth calibration (to fit
    /// a new one: scripts/calibrate.py).
    #[arg(long)]
    pub no_calibration: bool,
    /// Also write a gVCF (.g.vcf.gz, bgzipped, with a .tbi index): every base of the called
    /// regions in a variant record or a reference block.
    #[arg(long)]
    pub gvcf: Option<PathBuf>,
    /// GQ bands of the gVCF's reference blocks, as increasing exclusive upper bounds from 1 to
    /// 100 (`5,20,60`: GQ 0-4, 5-19, 20-59, 60-99), or `deepvariant` (0-4, 5-9, ..., 95-99)
    /// or `gatk` (1, 2, ..., 60, 70, 80, 90, 99).
    #[arg(long, requires = "gvcf", default_value = crate::gvcf::DEFAULT_BANDS)]
    pub gvcf_gq_bands: String,
    /// Phase heterozygous PASS calls from the reads (long reads link many; Illumina read
    /// pairs link nearby ones): GT `0|1` / `1|0` with PS, in the VCF and the gVCF, and
    /// phasing statistics in the stats file and the report. With long reads, a heterozygous
    /// call whose reads are split between the haplotypes of its block, beyond what read
    /// errors and the model's GQ explain, is filtered PhaseConflict (docs/phasing.md).
    #[arg(long)]
    pub phase: bool,
    /// Sequencing platform: auto (from the header's @RG PL/DS and @PG aligner, and the read
    /// lengths; ambiguous evidence is an error asking for this flag), illumina, hifi, ont-r10
    /// or ont-r9. Written to the VCF header. Without --model, hifi and ont-r10 are called with
    /// their own built-in models (varstream-hifi-v1, varstream-ont-r10-v1), the others with
    /// the Illumina-trained default.
    #[arg(long, default_value = "auto", value_parser = values::platform)]
    pub platform: crate::platform::PlatformChoice,
    #[command(flatten)]
    pub panel: PanelArgs,
    #[command(flatten)]
    pub evidence: EvidenceArgs,
}

/// The report's clinically readable variants: a gene panel and an annotation VCF.
#[derive(Debug, Args)]
pub struct PanelArgs {
    /// BED of genes or panel regions (name in column 4): the report lists the PASS calls
    /// inside it.
    #[arg(long)]
    pub panel: Option<PathBuf>,
    /// VCF (plain or bgzipped text, e.g. ClinVar) whose records annotate the panel's calls,
    /// matched by exact allele after normalisation.
    #[arg(long, requires = "panel")]
    pub annotations: Option<PathBuf>,
    /// INFO fields of --annotations to show (default: CLNSIG,CLNDN,CLNREVSTAT,GENEINFO).
    #[arg(long, value_delimiter = ',')]
    pub annotation_fields: Option<Vec<String>>,
}

/// `varstream report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// VCF/BCF to report on (any caller's).
    #[arg(long)]
    pub vcf: PathBuf,
    /// Output prefix: writes PREFIX.report.json, PREFIX.report.html, PREFIX.report_mqc.json.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Sample to report (default: the first).
    #[arg(long, value_parser = values::sample_name)]
    pub sample: Option<String>,
    /// `varstream score prs` table (PREFIX.prs.tsv) to include.
    #[arg(long)]
    pub prs: Option<PathBuf>,
    /// `varstream score expression` table (PREFIX.expression.tsv) to include.
    #[arg(long)]
    pub expression: Option<PathBuf>,
    /// `varstream score effects` per-sample table (PREFIX.effects_samples.tsv) to include.
    #[arg(long)]
    pub effects: Option<PathBuf>,
    /// `varstream score risk` table (PREFIX.risk.tsv) to include.
    #[arg(long)]
    pub risk: Option<PathBuf>,
    /// `varstream call`'s PREFIX.stats.json: regions, depth, reads filtered, sex.
    #[arg(long)]
    pub stats: Option<PathBuf>,
    #[command(flatten)]
    pub panel: PanelArgs,
    /// Reference FASTA, to left-align indels when matching --annotations.
    #[arg(long = "ref", requires = "annotations")]
    pub reference: Option<PathBuf>,
}

/// `varstream shards`.
#[derive(Debug, Args)]
pub struct ShardsArgs {
    /// Reference FASTA (plain with .fai, or bgzipped with .fai and .gzi).
    #[arg(long = "ref")]
    pub reference: PathBuf,
    /// BAM/CRAM to call: its contigs define the callable set as in `call`, and a BAM's .bai
    /// gives the reads per region to balance (otherwise bases are balanced).
    #[arg(long)]
    pub reads: Option<PathBuf>,
    /// Region to cut, chr:start-end (1-based, inclusive); repeatable.
    #[arg(long)]
    pub region: Vec<String>,
    /// BED file of regions to cut (intersected with --region when both are given).
    #[arg(long)]
    pub regions: Option<PathBuf>,
    /// Number of BED files (fewer when the callable set has fewer 25 kb grid cells).
    #[arg(long, short = 'n', value_parser = values::at_least_one)]
    pub count: usize,
    /// Existing folder for shard-0000.bed, shard-0001.bed, ... (name order is genome order).
    #[arg(long, short)]
    pub output: PathBuf,
}

/// `varstream make-examples`.
#[derive(Debug, Args)]
pub struct MakeExamplesArgs {
    /// Reference FASTA.
    #[arg(long = "ref")]
    pub reference: PathBuf,
    /// Aligned reads (BAM/CRAM, indexed).
    #[arg(long)]
    pub reads: PathBuf,
    /// Truth VCF (bgzipped and indexed); its first sample's genotypes are the labels.
    #[arg(long)]
    pub truth: PathBuf,
    /// BED of regions where the truth is complete; only these are used.
    #[arg(long)]
    pub confident: PathBuf,
    /// Output folder for shard-NNNNN.{x,y}.npy, .meta.tsv and examples.json.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Restrict further to chr:start-end; repeatable.
    #[arg(long)]
    pub region: Vec<String>,
    /// Name of this data source in the metadata.
    #[arg(long, default_value = "examples")]
    pub name: String,
    /// Worker threads.
    #[arg(long, default_value_t = default_threads(), value_parser = values::at_least_one)]
    pub threads: usize,
    /// The sample whose reads to use when the reads hold several (as `call --sample`).
    #[arg(long, value_parser = values::sample_name)]
    pub sample: Option<String>,
    /// Also write each example's read rows (shard-NNNNN.r.npy, int8 = value x 64), the read
    /// tier's input (docs/models.md, read tier).
    #[arg(long)]
    pub read_tensors: bool,
    #[command(flatten)]
    pub evidence: EvidenceArgs,
}

/// `varstream eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Truth VCF.
    #[arg(long)]
    pub truth: PathBuf,
    /// VCF to evaluate (FILTER PASS or '.').
    #[arg(long)]
    pub query: PathBuf,
    /// Confident regions (BED); only variants whose POS lies inside count.
    #[arg(long)]
    pub regions: PathBuf,
    /// Reference FASTA (for left-alignment).
    #[arg(long = "ref")]
    pub reference: PathBuf,
    /// The sample to compare, NAME in both files or TRUTH_NAME,QUERY_NAME (as rtg vcfeval's
    /// --sample); needed for a file of several samples (default: each file's only sample).
    #[arg(long, value_parser = values::sample_name)]
    pub sample: Option<String>,
}

/// Value parsers: every number and name of the command line is checked where it is parsed,
/// never clamped or let through (a bad one is clap's usage error, exit 2, naming the flag).
pub mod values {
    /// An integer of at least 1 (threads, batch size, depth cap, counts).
    pub fn at_least_one(s: &str) -> Result<usize, String> {
        match s.trim().parse::<usize>() {
            Ok(0) => Err("must be at least 1".into()),
            Ok(v) => Ok(v),
            Err(e) => Err(format!("not a whole number ({e})")),
        }
    }

    /// [`at_least_one`] as a `u64` (lengths in bp).
    pub fn at_least_one_u64(s: &str) -> Result<u64, String> {
        at_least_one(s).map(|v| v as u64)
    }

    /// A fraction: a number from 0 to 1 (not NaN).
    pub fn fraction(s: &str) -> Result<f32, String> {
        let v: f32 = s
            .trim()
            .parse()
            .map_err(|e| format!("not a number ({e})"))?;
        if !(0.0..=1.0).contains(&v) {
            return Err("must be a number from 0 to 1".into());
        }
        Ok(v)
    }

    /// A Phred quality: a finite number of at least 0.
    pub fn quality(s: &str) -> Result<f64, String> {
        let v: f64 = s
            .trim()
            .parse()
            .map_err(|e| format!("not a number ({e})"))?;
        if !v.is_finite() || v < 0.0 {
            return Err("must be a finite number of at least 0".into());
        }
        Ok(v)
    }

    /// `--platform`: `auto` or a platform.
    pub fn platform(s: &str) -> Result<crate::platform::PlatformChoice, String> {
        use clap::ValueEnum as _;
        if s == "auto" {
            return Ok(crate::platform::PlatformChoice::Auto);
        }
        crate::platform::Platform::from_str(s, true)
            .map(crate::platform::PlatformChoice::Given)
            .map_err(|_| "must be auto, illumina, hifi, ont-r10 or ont-r9".to_string())
    }

    /// A sample name as a VCF column header holds it: not empty, no tab, newline or other
    /// control character (which would break the header or inject lines into it).
    pub fn sample_name(s: &str) -> Result<String, String> {
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        if s.chars().any(char::is_control) {
            return Err("must not hold a tab, newline or other control character".into());
        }
        Ok(s.to_string())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn test_values_refuse_what_would_be_clamped_or_let_through() {
            assert!(at_least_one("0").is_err() && at_least_one("-1").is_err());
            assert_eq!(at_least_one("4"), Ok(4));
            for bad in ["nan", "NaN", "-0.1", "1.01", "inf", "x"] {
                assert!(fraction(bad).is_err(), "{bad}");
            }
            assert_eq!(fraction("0.12"), Ok(0.12));
            for bad in ["nan", "inf", "-inf", "-1"] {
                assert!(quality(bad).is_err(), "{bad}");
            }
            assert_eq!(quality("0"), Ok(0.0));
            for bad in ["", "A\tB", "A\nB", "A\rB"] {
                assert!(sample_name(bad).is_err(), "{bad:?}");
            }
            assert_eq!(sample_name("NA12878 rep 2").as_deref(), Ok("NA12878 rep 2"));
        }
    }
}
