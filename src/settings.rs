//! The command line resolved once into each run's typed settings (ripgrep's
//! `HiArgs::from_low_args`): defaults applied, files that shape the run parsed, every output
//! of the whole run checked, and every input the run will read after calling read now, so a
//! bad one fails before any work and leaves nothing behind. Running them is
//! [`crate::commands`]; nothing here writes a file.
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::call_command::{CallConfig, GvcfOptions};
use crate::candidates::CandidateParams;
use crate::cli::{
    CallArgs, Command, EvalArgs, EvidenceArgs, MakeExamplesArgs, PanelArgs, ReportArgs, ShardsArgs,
};
use crate::errors::BadInput;
use crate::make_examples::ExamplesConfig;
use crate::reads::ReadFilter;
use crate::realign::RealignParams;
use crate::report::findings::FindingsInputs;
use crate::report::ReportInputs;
use crate::scatter_beds::ShardsConfig;
use crate::shard_stages::ShardParams;

/// One subcommand's settings.
pub enum Settings {
    /// `call`, with the scores and report asked of the same run.
    Call(Box<CallSettings>),
    /// `make-examples`.
    MakeExamples(ExamplesConfig),
    /// `eval`.
    Eval(EvalSettings),
    /// `score ...`: the scores crate resolves its own subcommands.
    Score(crate::scores::ScoreCommand),
    /// `report`.
    Report(ReportSettings),
    /// `shards`.
    Shards(ShardsConfig),
}

/// `varstream call`: the caller's settings, then what is scored and reported on its VCF.
pub struct CallSettings {
    /// The caller's settings.
    pub call: CallConfig,
    /// `--pgs`, `--pgs-reference` and `--weights`, scored on the finished VCF.
    pub scores: crate::scores::AfterCall,
    /// `--report` (with `--panel`, `--annotations`): the report's variants section, if any.
    pub report: Option<Option<FindingsInputs>>,
}

/// `varstream eval`.
pub struct EvalSettings {
    pub truth: PathBuf,
    pub query: PathBuf,
    pub regions: PathBuf,
    pub reference: PathBuf,
    /// `--sample`: the truth's and the query's sample names.
    pub samples: (Option<String>, Option<String>),
}

/// `varstream report`.
pub struct ReportSettings {
    pub inputs: ReportInputs,
    /// Output prefix.
    pub prefix: PathBuf,
}

impl Settings {
    /// Resolve a parsed command line.
    pub fn from_cli(command: Command) -> Result<Self> {
        Ok(match command {
            Command::Call(a) => Settings::Call(Box::new(call(a)?)),
            Command::MakeExamples(a) => Settings::MakeExamples(make_examples(a)?),
            Command::Eval(a) => Settings::Eval(eval(a)),
            Command::Score(c) => Settings::Score(c),
            Command::Report(a) => Settings::Report(report(a)?),
            Command::Shards(a) => Settings::Shards(shards(a)),
        })
    }
}

/// The command line as given, for the VCF header and the report.
pub fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}

/// Read filters and candidate thresholds, shared by `call` and `make-examples`.
fn shard_params(e: &EvidenceArgs) -> Result<ShardParams> {
    if let Some(n) = e.min_alt_reads {
        crate::candidates::check_min_alt_reads(n as u64)
            .map_err(|err| crate::errors::input_error(format!("--min-alt-reads '{n}': {err}")))?;
    }
    Ok(ShardParams {
        filter: ReadFilter {
            min_mapq: e.min_mapq,
            min_baseq: e.min_baseq,
            max_depth: e.max_depth,
        },
        candidates: CandidateParams {
            min_baseq: e.min_baseq,
            min_snv_fraction: e.min_snv_fraction,
            min_indel_fraction: e
                .min_indel_fraction
                .unwrap_or(CandidateParams::default().min_indel_fraction),
            min_count: e
                .min_alt_reads
                .unwrap_or(CandidateParams::default().min_count),
            ..CandidateParams::default()
        },
        realign: RealignParams {
            enabled: !e.no_realign,
            ..RealignParams::default()
        },
        tiles: Default::default(),
        gvcf: false,
        phase: false,
        keep_reads: false,
    })
}

fn findings(panel: &PanelArgs, reference: Option<&Path>) -> Result<Option<FindingsInputs>> {
    if panel.annotation_fields.is_some() && panel.annotations.is_none() {
        crate::bail_input!(
            "--annotation-fields picks INFO fields of --annotations: add --annotations (and \
             --panel)"
        );
    }
    let Some(bed) = panel.panel.clone() else {
        return Ok(None);
    };
    Ok(Some(FindingsInputs {
        panel: bed,
        annotations: panel.annotations.clone(),
        fields: panel.annotation_fields.clone().unwrap_or_else(|| {
            crate::report::findings::DEFAULT_FIELDS
                .split(',')
                .map(String::from)
                .collect()
        }),
        reference: reference.map(Path::to_path_buf),
    }))
}

fn call(a: CallArgs) -> Result<CallSettings> {
    let gvcf = match &a.gvcf {
        Some(path) => Some(GvcfOptions {
            path: path.clone(),
            bands: crate::gvcf::GqBands::parse(&a.gvcf_gq_bands)?,
        }),
        None => None,
    };
    let mut shard = shard_params(&a.evidence)?;
    shard.gvcf = gvcf.is_some();
    shard.phase = a.phase;
    let cfg = CallConfig {
        reference: a.reference,
        reads: a.reads,
        output: a.output,
        regions: a.region,
        bed: a.regions,
        threads: a.threads,
        model: a.model,
        read_model: a.read_model,
        device: a.device,
        sample: a.sample,
        shard,
        min_alt_reads: a.evidence.min_alt_reads,
        min_indel_fraction_given: a.evidence.min_indel_fraction.is_some(),
        min_qual: a.min_qual,
        batch_size: a.batch_size,
        shard_bp: a.shard_size,
        command_line: command_line(),
        ploidy: crate::ploidy::PloidySettings {
            sex: a.sex,
            haploid_contigs: a.haploid_contigs.map(|v| {
                v.into_iter()
                    .filter(|c| !c.is_empty() && c != "none")
                    .collect()
            }),
            par: match a.par.as_deref() {
                None => crate::ploidy::ParSource::Builtin,
                Some("none") => crate::ploidy::ParSource::None,
                Some(bed) => crate::ploidy::ParSource::Bed(
                    crate::regions::read_bed(Path::new(bed)).bad_input()?,
                ),
            },
            ploidy_file: a.ploidy_file,
        },
        no_calibration: a.no_calibration,
        gvcf,
        platform: a.platform,
    };
    // The files scoring and the report will write are checked now, not after calling.
    let prefix = crate::output::output_prefix(&cfg.output);
    let scored = crate::scores::prefixed;
    let mut later = Vec::new();
    if !a.pgs.is_empty() {
        later.push(scored(&prefix, crate::scores::PRS_TABLE));
        later.push(scored(&prefix, ".prs_matches.tsv.gz"));
    }
    if !a.weights.is_empty() {
        later.push(scored(&prefix, crate::scores::EXPRESSION_TABLE));
    }
    if a.report {
        later.extend(crate::report::output_paths(&prefix));
    }
    let mut inputs = vec![cfg.reference.clone(), cfg.reads.clone()];
    inputs.extend(a.pgs.iter().cloned());
    inputs.extend(a.pgs_reference.iter().cloned());
    inputs.extend(a.weights.iter().cloned());
    inputs.extend(a.panel.panel.iter().cloned());
    inputs.extend(a.panel.annotations.iter().cloned());
    crate::output::check_outputs(&later, &inputs)?;
    if a.panel.panel.is_some() && !a.report {
        crate::bail_input!("--panel and --annotations shape the report: add --report");
    }
    // The inputs of the scores and the report are read now too: a bad one fails the run
    // before calling, and leaves no VCF behind.
    let scores = crate::scores::AfterCall::read(a.pgs, a.pgs_reference, a.weights)?;
    if let Some(p) = &a.panel.panel {
        crate::report::findings::read_panel(p).bad_input()?;
    }
    if let Some(p) = &a.panel.annotations {
        crate::input::open_vcf(p)?;
    }
    let report = match findings(&a.panel, Some(&cfg.reference))? {
        found if a.report => Some(found),
        _ => None,
    };
    Ok(CallSettings {
        call: cfg,
        scores,
        report,
    })
}

fn make_examples(a: MakeExamplesArgs) -> Result<ExamplesConfig> {
    let mut shard = shard_params(&a.evidence)?;
    shard.keep_reads = a.read_tensors;
    Ok(ExamplesConfig {
        shard,
        reference: a.reference,
        reads: a.reads,
        truth: a.truth,
        confident: a.confident,
        output: a.output,
        regions: a.region,
        name: a.name,
        threads: a.threads,
        sample: a.sample,
    })
}

fn eval(a: EvalArgs) -> EvalSettings {
    // One name for both files, or TRUTH,QUERY (rtg vcfeval's form).
    let samples = match a.sample.as_deref().map(|s| s.split_once(',')) {
        None => (None, None),
        Some(None) => (a.sample.clone(), a.sample.clone()),
        Some(Some((t, q))) => (Some(t.to_string()), Some(q.to_string())),
    };
    EvalSettings {
        samples,
        truth: a.truth,
        query: a.query,
        regions: a.regions,
        reference: a.reference,
    }
}

fn report(a: ReportArgs) -> Result<ReportSettings> {
    Ok(ReportSettings {
        inputs: ReportInputs {
            findings: findings(&a.panel, a.reference.as_deref())?,
            vcf: a.vcf,
            sample: a.sample,
            stats: a.stats,
            prs: a.prs,
            expression: a.expression,
            effects: a.effects,
            risk: a.risk,
            command_line: command_line(),
        },
        prefix: a.output,
    })
}

fn shards(a: ShardsArgs) -> ShardsConfig {
    ShardsConfig {
        reference: a.reference,
        reads: a.reads,
        regions: a.region,
        bed: a.regions,
        count: a.count,
        output: a.output,
    }
}
