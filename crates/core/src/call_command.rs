//! `varstream call`: validated settings, then the run — shards through the pipeline into the VCF.
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use crate::errors::BadInput;
use anyhow::{Context, Result};

use crate::gvcf::{ref_positions, BlockWriter, GqBands, RefPosition};
use crate::inference::{Device, OnnxModel};
use crate::model;
use crate::overlapping_calls::OverlapResolver;
use crate::phasing::Phaser;
use crate::pipeline::{run_ordered, with_inference, with_optional_inference};
use crate::preamble::{open_reads, Preamble, ReadsUsed, SampleChoice};
use crate::regions;
use crate::shard_stages::{genotype_records, prepare_shard, second_tier, ShardParams};
use crate::tensors::{N_CHANNELS, WINDOW};
use crate::vcf::{header, HeaderInfo, VcfWriter};
use std::sync::atomic::Ordering;

/// QUAL under which non-reference calls are LowQual when the model's sidecar names none.
pub const DEFAULT_MIN_QUAL: f64 = 1.0;

/// Settings for one calling run.
#[derive(Debug, Clone)]
pub struct CallConfig {
    /// Reference FASTA.
    pub reference: PathBuf,
    /// BAM or CRAM.
    pub reads: PathBuf,
    /// Output `.vcf.gz`.
    pub output: PathBuf,
    /// `--region` values.
    pub regions: Vec<String>,
    /// `--regions` BED.
    pub bed: Option<PathBuf>,
    /// Worker threads.
    pub threads: usize,
    /// Model file; `None` = the shipped default.
    pub model: Option<PathBuf>,
    /// The read tier's model, if any.
    pub read_model: Option<PathBuf>,
    /// Inference device.
    pub device: Device,
    /// Sample name override.
    pub sample: Option<String>,
    /// Per-shard settings.
    pub shard: ShardParams,
    /// `--min-alt-reads`: overrides the model's `calling.min_alt_reads` (else
    /// `shard.candidates.min_count` stands).
    pub min_alt_reads: Option<u32>,
    /// `--min-indel-fraction` was given: otherwise the platform's default applies.
    pub min_indel_fraction_given: bool,
    /// LowQual threshold override.
    pub min_qual: Option<f64>,
    /// Examples per inference batch.
    pub batch_size: usize,
    /// Shard length.
    pub shard_bp: u64,
    /// The command line, for the header.
    pub command_line: String,
    /// Sex, haploid contigs, PARs or a ploidy file.
    pub ploidy: crate::ploidy::PloidySettings,
    /// Write the model's posteriors uncalibrated (to fit a calibration).
    pub no_calibration: bool,
    /// Also write a gVCF.
    pub gvcf: Option<GvcfOptions>,
    /// `--platform`.
    pub platform: crate::platform::PlatformChoice,
}

/// `--gvcf` and its settings.
#[derive(Debug, Clone)]
pub struct GvcfOptions {
    /// Output `.g.vcf.gz`.
    pub path: PathBuf,
    /// GQ bands of the reference blocks.
    pub bands: GqBands,
}

/// The index path htslib writes beside a bgzipped VCF.
fn tbi(path: &std::path::Path) -> PathBuf {
    PathBuf::from(format!("{}.tbi", path.display()))
}

/// What a finished run reports.
#[derive(Debug, Clone, Default)]
pub struct CallSummary {
    /// Candidate sites written.
    pub records: usize,
    /// Records with FILTER=PASS.
    pub pass: usize,
    /// Shards processed.
    pub shards: usize,
}

/// Call variants as configured and write the indexed VCF (and gVCF) at the sample's ploidy.
pub fn run(cfg: &CallConfig) -> Result<CallSummary> {
    let started = Instant::now();
    let stats_path = crate::run_stats::path_for(&crate::output::output_prefix(&cfg.output));
    let mut inputs = vec![cfg.reference.clone(), cfg.reads.clone()];
    inputs.extend(cfg.bed.iter().cloned());
    inputs.extend(cfg.model.iter().cloned());
    inputs.extend(cfg.ploidy.ploidy_file.iter().cloned());
    let mut outputs = vec![cfg.output.clone(), tbi(&cfg.output), stats_path.clone()];
    if let Some(g) = &cfg.gvcf {
        outputs.extend([g.path.clone(), tbi(&g.path)]);
    }
    crate::output::check_outputs(&outputs, &inputs)?;
    // The VCF is bgzipped and indexed, whatever its name would suggest: a name that says
    // otherwise (`.vcf`, `.bcf`) is refused rather than silently given another format.
    let named = std::iter::once(("--output", &cfg.output))
        .chain(cfg.gvcf.iter().map(|g| ("--gvcf", &g.path)));
    for (flag, path) in named {
        if !path.to_string_lossy().ends_with(".vcf.gz") {
            crate::bail_input!(
                "{flag} {}: call writes a bgzipped VCF with a .tbi index; name it \
                 NAME.vcf.gz",
                path.display()
            );
        }
    }
    // Opening one reader up front validates the inputs before any thread starts.
    let Preamble {
        reference,
        reads: mut probe,
        sample,
        callable,
        intervals,
    } = Preamble::open(
        &cfg.reference,
        &cfg.reads,
        SampleChoice::One(cfg.sample.as_deref()),
        &cfg.regions,
        cfg.bed.as_deref(),
    )?;
    let median_len = probe.median_read_length(&intervals, 200)?;
    let platform = crate::platform::resolve(
        cfg.platform,
        &probe.header_text(),
        probe.chosen_read_groups().as_deref(),
        median_len,
        &cfg.reads,
    )?;
    log::info!(
        "platform: {} ({}; {})",
        platform.platform,
        platform.source,
        platform.evidence
    );
    if cfg.model.is_none() && !model::has_platform_model(platform.platform) {
        // Say so rather than let the user assume a long-read model.
        log::warn!(
            "no {} model yet: calling with the Illumina-trained model, which calls \
             homopolymer-length errors as indels (docs/long-reads.md)",
            platform.platform
        );
    }
    let (ploidy, sex) =
        crate::ploidy::resolve(&cfg.ploidy, &callable, &intervals, &reference, &mut probe)?;
    // Ploidy 0 (chrY of an XX sample, or a ploidy file's 0) is not called at all.
    let intervals = ploidy.drop_absent(&intervals);
    if intervals.is_empty() {
        log::warn!("every region to call has ploidy 0 for this sample: the VCF has no records");
    }
    let shards = regions::shard(&intervals, cfg.shard_bp);
    let total_bp: u64 = intervals.iter().map(|i| i.end - i.start).sum();
    drop(probe);

    let workers = cfg.threads.max(1);
    // ORT gets half the threads: pileup workers and inference overlap in time.
    let ort_threads = workers.div_ceil(2);
    let (info, onnx) = match &cfg.model {
        Some(p) if !p.is_file() => {
            return Err(crate::errors::input_error(format!(
                "model file {} does not exist",
                p.display()
            )))
        }
        Some(p) => (
            model::load_info(p).bad_input()?,
            OnnxModel::load(p, cfg.device, ort_threads).bad_input()?,
        ),
        None => {
            // The platform's own built-in model where there is one (docs/long-reads.md).
            let built_in = model::embedded_for(platform.platform);
            let info = model::embedded_model_info(&built_in)?;
            let onnx =
                OnnxModel::load_from_memory(built_in.onnx, &info.path, cfg.device, ort_threads)?;
            (info, onnx)
        }
    };
    onnx.check_signature(&[WINDOW, N_CHANNELS], 3).bad_input()?;
    // The read tier: its sidecar must match this build's rows and the first tier in use.
    let read_tier = match &cfg.read_model {
        None => None,
        Some(p) if !p.is_file() => {
            return Err(crate::errors::input_error(format!(
                "read model file {} does not exist",
                p.display()
            )))
        }
        Some(p) => {
            let read_info = model::load_info(p).bad_input()?;
            crate::read_tensors::check_sidecar(&read_info.sidecar, &info.sha256)
                .with_context(|| format!("read model {}", p.display()))
                .bad_input()?;
            let m = OnnxModel::load(p, cfg.device, ort_threads).bad_input()?;
            m.check_signature(&[crate::read_tensors::TIER_INPUT_LEN], 3)
                .bad_input()?;
            log::info!(
                "read tier: model {}, for sites with GQ < {} or DP < {}",
                read_info.name,
                crate::read_tensors::ROUTE_BELOW_GQ,
                crate::read_tensors::ROUTE_BELOW_DEPTH
            );
            Some((read_info, m))
        }
    };
    let min_qual = cfg.min_qual.or(info.min_qual).unwrap_or(DEFAULT_MIN_QUAL);
    // A model trained on 1-read candidates is called with them unless the command line says
    // otherwise (issue 13).
    let mut shard_params = cfg.shard.clone();
    shard_params.keep_reads = read_tier.is_some();
    if let Some(n) = cfg.min_alt_reads.or(info.min_alt_reads) {
        shard_params.candidates.min_count = n;
    }
    // Long reads' homopolymer errors are common indels: their platform's threshold, unless
    // the command line gave one.
    if !cfg.min_indel_fraction_given {
        shard_params.candidates.min_indel_fraction = platform.platform.default_min_indel_fraction();
    }
    let shard_params = &shard_params;
    log::info!(
        "calling {} shards ({} bp) of {} with model {} on {:?}, {} worker(s), inference \
         batches of up to {}",
        shards.len(),
        total_bp,
        cfg.reads.display(),
        info.name,
        cfg.device,
        workers,
        cfg.batch_size
    );
    if cfg.no_calibration && info.calibration.is_empty() {
        log::warn!(
            "--no-calibration changes nothing: model {} has no calibration in its sidecar",
            info.name
        );
    }

    let mut used = ReadsUsed::new(&intervals);
    let head = HeaderInfo {
        sample: sample.clone(),
        contigs: callable.clone(),
        reference: std::fs::canonicalize(&cfg.reference)
            .unwrap_or(cfg.reference.clone())
            .display()
            .to_string(),
        command: cfg.command_line.clone(),
        model_name: info.name.clone(),
        model_sha256: info.sha256.clone(),
        min_qual,
        extra_meta: std::iter::once(platform.header_line())
            .chain(read_tier.as_ref().map(|(i, _)| {
                format!(
                    "##varstream_read_model=<Name={},SHA256={}>",
                    i.name, i.sha256
                )
            }))
            .chain(sex.iter().map(|c| c.header_line()))
            .collect(),
        phased: cfg.shard.phase,
    };
    let genotyping = crate::shard_stages::Genotyping {
        min_qual,
        ploidy,
        calibration: if cfg.no_calibration {
            Default::default()
        } else {
            info.calibration.clone()
        },
    };
    let vcf_header = header(&head);
    let mut writer = VcfWriter::create(&cfg.output, &vcf_header)?;
    let mut gvcf = match &cfg.gvcf {
        Some(g) => Some((
            VcfWriter::create(&g.path, &crate::gvcf::header(&vcf_header, &g.bands))?,
            BlockWriter::new(g.bands.clone()),
        )),
        None => None,
    };
    let progress = Progress::new(shards.len() as u64);
    let mut summary = CallSummary {
        shards: shards.len(),
        ..Default::default()
    };

    // Records reach the writers through the overlap resolver (it holds a shard back while a
    // group of overlapping calls there may still grow) and, when phasing, the phaser (it holds
    // a shard back while a block there has one site that a read may still extend).
    let mut resolver = OverlapResolver::<Held>::new(min_qual);
    let mut phaser = cfg
        .shard
        .phase
        .then(|| Phaser::<Held>::new(platform.platform == crate::platform::Platform::Illumina));
    let mut write = |held: Held, records: Vec<crate::vcf::CallRecord>| -> Result<()> {
        summary.records += records.len();
        summary.pass += records
            .iter()
            .filter(|r| r.filter == crate::genotypes::Filter::Pass)
            .count();
        let mut text = String::new();
        records.iter().for_each(|r| r.write_vcf(&mut text));
        writer.write(&text)?;
        if let (Some((w, cutter)), Some(positions)) = (&mut gvcf, held.ref_positions) {
            let iv = &held.interval;
            let mut out = String::new();
            cutter.shard(&iv.contig, iv.start, &positions, &records, &mut out);
            w.write(&out)?;
        }
        Ok(())
    };
    // A batch the resolver has finished with: through the phaser when phasing, then written.
    let mut deliver = |held: Held, records: Vec<crate::vcf::CallRecord>| -> Result<()> {
        match &mut phaser {
            Some(p) => {
                let (contig, end) = (held.interval.contig.clone(), held.interval.end);
                for (held, records) in p.push(&contig, end, held, records) {
                    write(held, records)?;
                }
                Ok(())
            }
            None => write(held, records),
        }
    };
    let samples = SampleChoice::One(cfg.sample.as_deref());
    let read_onnx = read_tier.map(|(_, m)| m);
    let routed_sites = std::sync::atomic::AtomicUsize::new(0);
    let all_sites = std::sync::atomic::AtomicUsize::new(0);
    let tier_shape = [crate::read_tensors::TIER_INPUT_LEN];
    with_inference(onnx, &[WINDOW, N_CHANNELS], cfg.batch_size, |client| {
        with_optional_inference(read_onnx, &tier_shape, cfg.batch_size, |read_client| {
            run_ordered(
                &shards,
                workers,
                || open_reads(&cfg.reads, &cfg.reference, samples).map(|(source, _)| source),
                |source, shard| {
                    let mut ex = prepare_shard(shard, source, &reference, shard_params)
                        .with_context(|| format!("while calling {}", shard.interval))?;
                    let other = cfg.gvcf.is_some().then_some(&ex.other_depths[..]);
                    let site_reads = shard_params.phase.then_some(&ex.site_reads[..]);
                    let records = match &read_client {
                        None => {
                            let probs = client.infer(std::mem::take(&mut ex.tensors))?;
                            genotype_records(&ex.sites, other, site_reads, &probs, &genotyping)?
                        }
                        Some(read_client) => {
                            let probs = client.infer(ex.tensors.clone())?;
                            let (records, routed) = second_tier(
                                &ex,
                                probs,
                                |inputs| read_client.infer(inputs),
                                |probs| {
                                    genotype_records(
                                        &ex.sites,
                                        other,
                                        site_reads,
                                        probs,
                                        &genotyping,
                                    )
                                },
                            )?;
                            all_sites.fetch_add(ex.sites.len(), Ordering::Relaxed);
                            routed_sites.fetch_add(routed, Ordering::Relaxed);
                            records
                        }
                    };
                    Ok(ShardCalls {
                        records,
                        ref_positions: ex.ref_evidence.as_ref().map(|ev| {
                            ref_positions(&shard.interval.contig, ev, &genotyping.ploidy)
                        }),
                        coverage: ex.coverage,
                        reads: ex.reads,
                        ref_agreement: ex.ref_agreement,
                    })
                },
                |shard, calls| {
                    used.add(
                        &shard.interval.contig,
                        &calls.coverage,
                        &calls.reads,
                        &calls.ref_agreement,
                    );
                    let iv = &shard.interval;
                    let held = Held {
                        interval: iv.clone(),
                        ref_positions: calls.ref_positions,
                    };
                    for (held, records) in resolver.push(&iv.contig, iv.end, held, calls.records) {
                        deliver(held, records)?;
                    }
                    progress.tick(&iv.to_string());
                    Ok(())
                },
            )
        })
    })?;
    if cfg.read_model.is_some() {
        log::info!(
            "read tier: {} of {} candidate sites genotyped again from their reads",
            routed_sites.into_inner(),
            all_sites.into_inner()
        );
    }
    let (rest, resolved) = resolver.finish();
    if resolved > 0 {
        log::info!(
            "{resolved} group(s) of overlapping calls given genotypes a diploid genome can have"
        );
    }
    for (held, records) in rest {
        deliver(held, records)?;
    }
    let phasing = match phaser {
        Some(p) => {
            let (rest, stats) = p.finish();
            for (held, records) in rest {
                write(held, records)?;
            }
            Some(stats)
        }
        None => None,
    };
    let mut run_stats = used.finish(
        &sample,
        &cfg.shard.filter,
        &cfg.reads,
        &cfg.reference,
        "no VCF written",
    )?;
    // The VCF and the gVCF appear together, or neither does.
    let mut done = writer.close()?;
    if let Some((mut w, mut cutter)) = gvcf {
        let mut out = String::new();
        cutter.close(&mut out);
        w.write(&out)?;
        done.extend(w.close()?);
    }
    // The stats file too: on any failure (a full disk) none of the run's outputs appears.
    run_stats.phasing = phasing;
    run_stats.sex = sex.as_ref().map(|c| crate::run_stats::SexEvidence {
        call: c.sex.map_or("ambiguous", |s| s.as_str()).to_string(),
        source: c.source.to_string(),
        x_depth_ratio: c.x_ratio,
        y_depth_ratio: c.y_ratio,
        note: Some(format!(
            "{} (reads with MAPQ >= 20 in fixed windows: {} autosomal, {} chrX, {} chrY)",
            c.note, c.reads[0], c.reads[1], c.reads[2]
        )),
    });
    done.push(crate::run_stats::write_uncommitted(
        &run_stats,
        &stats_path,
    )?);
    crate::output::commit_all(done)?;
    progress.finish();
    log::info!(
        "wrote {} ({} records, {} PASS) in {:.1}s",
        cfg.output.display(),
        summary.records,
        summary.pass,
        started.elapsed().as_secs_f64()
    );
    Ok(summary)
}

/// What the writers need of a shard beside its records.
struct Held {
    interval: regions::Interval,
    ref_positions: Option<Vec<RefPosition>>,
}

/// What a worker hands the writer for one shard.
struct ShardCalls {
    /// The shard's records, in position order.
    records: Vec<crate::vcf::CallRecord>,
    /// Every reference position's evidence, when a gVCF is written.
    ref_positions: Option<Vec<RefPosition>>,
    coverage: crate::run_stats::Coverage,
    reads: crate::reads::ReadCounts,
    ref_agreement: crate::shard_stages::RefAgreement,
}

/// A progress bar on a terminal, periodic log lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: u64,
    done: std::cell::Cell<u64>,
    last_log: std::cell::Cell<Instant>,
}

impl Progress {
    fn new(total: u64) -> Self {
        let bar =
            (std::io::stderr().is_terminal() && log::log_enabled!(log::Level::Info)).then(|| {
                let b = indicatif::ProgressBar::new(total);
                b.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{elapsed_precise} [{bar:40}] {pos}/{len} shards {msg}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                b
            });
        Self {
            bar,
            total,
            done: 0.into(),
            last_log: Instant::now().into(),
        }
    }

    fn tick(&self, at: &str) {
        self.done.set(self.done.get() + 1);
        if let Some(b) = &self.bar {
            b.inc(1);
            b.set_message(at.to_string());
        } else if self.last_log.get().elapsed().as_secs() >= 20 {
            self.last_log.set(Instant::now());
            log::info!("{}/{} shards done, at {at}", self.done.get(), self.total);
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
