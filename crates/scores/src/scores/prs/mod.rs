//! `varstream score prs`: polygenic scores the way pgsc_calc computes them.
//!
//! Matching follows pgsc_calc (pgscatalog-match) so that a SUM we print equals the SUM a
//! pgsc_calc run (plink2 `--score ... no-mean-imputation`) prints on the same genotypes; the
//! match log accounts for every scoring-file row so a report can say why a variant is absent.
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::errors::BadInput;
use anyhow::Result;

use super::pgs_file::ScoringFile;
use super::vcf_genotypes::{self, allele_count, VcfSites};
use super::{chrom_key, create_output, fmt_f64, prefixed};

/// pgsc_calc only mean-imputes when at least this many samples are scored together.
pub const MIN_SAMPLES_FOR_MEAN_IMPUTATION: usize = 50;

/// What a missing genotype contributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Imputation {
    /// pgsc_calc's rule: `mean` with at least 50 samples, else `none`.
    #[default]
    Auto,
    /// Missing genotypes contribute the mean (transformed) dosage of the scored samples.
    Mean,
    /// Missing genotypes contribute 0 and are left out of DENOM.
    None,
}

/// `varstream score prs` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct PrsArgs {
    /// VCF/BCF with genotypes (GT), any number of samples.
    #[arg(long)]
    pub vcf: PathBuf,
    /// PGS Catalog scoring file(s), v2.0, plain or gzipped; use the harmonized file
    /// (`*_hmPOS_GRCh37/38`) for the build of the VCF.
    #[arg(long, num_args = 1.., required = true)]
    pub pgs: Vec<PathBuf>,
    /// Output prefix: writes PREFIX.prs.tsv and PREFIX.prs_matches.tsv.gz.
    #[arg(long)]
    pub output: PathBuf,
    /// A score whose fraction of matched scoring-file rows is below this fails.
    #[arg(long, default_value_t = 0.75)]
    pub min_overlap: f64,
    /// Reference distribution of SUM per score (TSV; see docs/scores.md) for Z and percentile.
    #[arg(long)]
    pub reference_distribution: Option<PathBuf>,
    /// Keep palindromic (A/T, C/G) SNPs, which pgsc_calc drops by default.
    #[arg(long)]
    pub keep_ambiguous: bool,
    /// Keep matches at multi-allelic VCF records, which pgsc_calc drops by default.
    #[arg(long)]
    pub keep_multiallelic: bool,
    /// Missing-genotype handling.
    #[arg(long, value_enum, default_value_t = Imputation::Auto)]
    pub imputation: Imputation,
}

impl PrsArgs {
    /// The defaults `varstream call --pgs` uses.
    pub fn defaults(vcf: &Path, pgs: &[PathBuf], output: &Path) -> Self {
        Self {
            vcf: vcf.to_path_buf(),
            pgs: pgs.to_vec(),
            output: output.to_path_buf(),
            min_overlap: 0.75,
            reference_distribution: None,
            keep_ambiguous: false,
            keep_multiallelic: false,
            imputation: Imputation::Auto,
        }
    }
}

/// One sample's score.
#[derive(Debug, Clone)]
pub struct SampleScore {
    /// Sample name.
    pub sample: String,
    /// Σ weight × transformed dosage.
    pub sum: f64,
    /// plink2's ALLELE_CT: 2 per variant with a (called or imputed) genotype.
    pub denom: f64,
}

/// A score across samples, with its match summary.
#[derive(Debug, Clone)]
pub struct ScoreResult {
    /// Score id.
    pub id: String,
    /// Build of the positions matched.
    pub build: String,
    /// Rows scored.
    pub matched: usize,
    /// Rows in the file.
    pub total: usize,
    /// Whether matched/total reached --min-overlap.
    pub pass: bool,
    /// Per-sample scores (empty when failed).
    pub samples: Vec<SampleScore>,
}

fn compute(
    file: &ScoringFile,
    matches: &[RowMatch],
    vcf: &VcfSites,
    mean_impute: bool,
) -> Vec<SampleScore> {
    let n = vcf.samples.len();
    let mut sums = vec![0.0; n];
    let mut denoms = vec![0.0; n];
    for (row, m) in file.rows.iter().zip(matches) {
        if m.status != Status::Matched {
            continue;
        }
        let (si, _) = m.site.expect("matched rows have a site");
        let site = &vcf.by_locus[&(
            chrom_key(&row.chrom),
            row.pos.expect("matched rows have a position"),
        )][si];
        let doses: Vec<Option<f64>> = site
            .gts
            .iter()
            .map(|&g| allele_count(g, m.effect_index).map(|d| row.effect_type.transform(d)))
            .collect();
        let called: Vec<f64> = doses.iter().flatten().copied().collect();
        let mean = if called.is_empty() {
            0.0
        } else {
            called.iter().sum::<f64>() / called.len() as f64
        };
        for (i, d) in doses.iter().enumerate() {
            match d {
                Some(d) => {
                    sums[i] += row.weight * d;
                    denoms[i] += 2.0;
                }
                None if mean_impute => {
                    sums[i] += row.weight * mean;
                    denoms[i] += 2.0;
                }
                None => {}
            }
        }
    }
    (0..n)
        .map(|i| SampleScore {
            sample: vcf.samples[i].clone(),
            sum: sums[i],
            denom: denoms[i],
        })
        .collect()
}

/// The scoring files and reference distribution of a run, read once.
#[derive(Debug)]
pub struct PrsInputs {
    /// `--pgs`, in order.
    pub files: Vec<ScoringFile>,
    /// `--reference-distribution`.
    pub reference: Option<ReferenceDistributions>,
}

impl PrsInputs {
    /// Read `pgs` and `reference`; a bad one is a one-line input error naming it.
    pub fn read(pgs: &[PathBuf], reference: Option<&Path>) -> Result<Self> {
        Ok(Self {
            files: pgs
                .iter()
                .map(|p| ScoringFile::read(p).bad_input())
                .collect::<Result<_>>()?,
            reference: reference
                .map(|p| ReferenceDistributions::read(p).bad_input())
                .transpose()?,
        })
    }
}

/// Run `score prs`: write PREFIX.prs.tsv and PREFIX.prs_matches.tsv.gz, return the scores.
pub fn run(args: &PrsArgs) -> Result<Vec<ScoreResult>> {
    let mut inputs = vec![args.vcf.clone()];
    inputs.extend(args.pgs.iter().cloned());
    inputs.extend(args.reference_distribution.iter().cloned());
    crate::output::check_outputs(
        &[
            prefixed(&args.output, super::PRS_TABLE),
            prefixed(&args.output, ".prs_matches.tsv.gz"),
        ],
        &inputs,
    )?;
    if !(0.0..=1.0).contains(&args.min_overlap) {
        crate::bail_input!(
            "--min-overlap must be between 0 and 1, got {}",
            args.min_overlap
        );
    }
    let read = PrsInputs::read(&args.pgs, args.reference_distribution.as_deref())?;
    score(args, read)
}

/// [`run`] on inputs already read (`call --pgs` reads them before calling), its outputs
/// already checked.
pub fn score(args: &PrsArgs, read: PrsInputs) -> Result<Vec<ScoreResult>> {
    let PrsInputs { files, reference } = read;
    if let (Some(path), Some(reference)) = (&args.reference_distribution, &reference) {
        // A reference that names none of a score's ids would leave its Z and percentile NA
        // with nothing said.
        for f in files.iter().filter(|f| reference.get(&f.id).is_none()) {
            let has = reference.ids();
            log::warn!(
                "reference distribution {} (--reference-distribution, call's --pgs-reference) \
                 has no row for {}: its Z and percentile are NA (it has {}{})",
                path.display(),
                f.id,
                has.iter().take(5).copied().collect::<Vec<_>>().join(", "),
                if has.len() > 5 { ", ..." } else { "" }
            );
        }
    }
    let wanted: HashSet<(String, u64)> = files
        .iter()
        .flat_map(|f| f.rows.iter())
        .filter_map(|r| Some((chrom_key(&r.chrom), r.pos?)))
        .collect();
    // Positions of another build match nothing, or the wrong variants: refuse, don't score.
    if let Some(vcf_build) = vcf_genotypes::header_build(&args.vcf).bad_input()? {
        for f in &files {
            if vcf_genotypes::normalize_build(&f.build).is_some_and(|b| b != vcf_build) {
                crate::bail_input!(
                    "{}: positions are on {} but VCF {} is {vcf_build} (its header says so): use \
                     the scoring file harmonized to {vcf_build} (`*_hmPOS_{vcf_build}`)",
                    f.path.display(),
                    f.build,
                    args.vcf.display()
                );
            }
        }
    }
    let vcf = vcf_genotypes::load_sites(&args.vcf, |c, p| wanted.contains(&(c.to_string(), p)))
        .bad_input()?;
    let mean_impute = match args.imputation {
        Imputation::Auto => vcf.samples.len() >= MIN_SAMPLES_FOR_MEAN_IMPUTATION,
        Imputation::Mean => true,
        Imputation::None => false,
    };
    log::info!(
        "scoring {} sample(s) from {} with {} scoring file(s); missing genotypes {}",
        vcf.samples.len(),
        args.vcf.display(),
        files.len(),
        if mean_impute {
            "mean-imputed"
        } else {
            "contribute 0 (no mean imputation)"
        }
    );
    let matches_path = prefixed(&args.output, ".prs_matches.tsv.gz");
    let mut log_out = create_output(&matches_path)?;
    writeln!(
        log_out,
        "score_id\tline\trsID\tchr_name\tchr_position\teffect_allele\tother_allele\teffect_weight\t\
         effect_type\tmatch_status\tmatch_type\ttarget_variant\ttarget_effect_allele\tambiguous\t\
         multiallelic\tflipped\tduplicate_best_match\tduplicate_ID\treason"
    )?;
    let mut results = Vec::new();
    for file in &files {
        let matches = match_score(file, &vcf, args.keep_ambiguous, args.keep_multiallelic);
        write_matches(&mut log_out, file, &matches)?;
        let matched = matches
            .iter()
            .filter(|m| m.status == Status::Matched)
            .count();
        let total = file.rows.len();
        let pass = matched as f64 / total as f64 >= args.min_overlap;
        if !pass {
            let excluded = matches
                .iter()
                .filter(|m| m.status == Status::Excluded)
                .count();
            log::warn!(
                "{}: only {matched}/{total} variants matched (< --min-overlap {}; {excluded} \
                 excluded as ambiguous or multi-allelic, {} not in the VCF); score reported as \
                 FAIL",
                file.id,
                args.min_overlap,
                total - matched - excluded
            );
        }
        let samples = if pass {
            compute(file, &matches, &vcf, mean_impute)
        } else {
            Vec::new()
        };
        // A sample with no called genotype at any matched variant has no score, not a score
        // of 0 (a VCF without GT, or with every GT missing, scored SUM 0 PASS).
        let no_gt: Vec<&str> = samples
            .iter()
            .filter(|s| s.denom == 0.0)
            .map(|s| s.sample.as_str())
            .collect();
        if !no_gt.is_empty() && matched > 0 {
            log::warn!(
                "{}: {} sample(s) have no called genotype at any of its {matched} matched \
                 variants ({}{}): reported as FAIL with no score",
                file.id,
                no_gt.len(),
                no_gt.iter().take(5).copied().collect::<Vec<_>>().join(", "),
                if no_gt.len() > 5 { ", ..." } else { "" }
            );
        }
        results.push(ScoreResult {
            id: file.id.clone(),
            build: file.build.clone(),
            matched,
            total,
            pass,
            samples,
        });
    }
    log_out.commit()?;
    write_scores(
        &prefixed(&args.output, super::PRS_TABLE),
        &results,
        &vcf.samples,
        reference.as_ref(),
    )?;
    Ok(results)
}

fn write_matches(out: &mut dyn Write, file: &ScoringFile, matches: &[RowMatch]) -> Result<()> {
    let b = |x: bool| if x { "true" } else { "false" };
    for (row, m) in file.rows.iter().zip(matches) {
        let status = match m.status {
            Status::Matched => "matched",
            Status::Excluded => "excluded",
            Status::Unmatched => "unmatched",
        };
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            file.id,
            row.line,
            row.rsid,
            row.chrom,
            row.pos.map(|p| p.to_string()).unwrap_or_default(),
            row.effect_allele,
            row.other_allele.as_deref().unwrap_or(""),
            row.weight,
            row.effect_type.name(),
            status,
            m.match_type.map(|t| t.name()).unwrap_or(""),
            m.target_variant,
            m.target_effect_allele,
            b(m.ambiguous),
            b(m.multiallelic),
            b(m.match_type.is_some_and(|t| t.flipped())),
            b(m.duplicate_best_match),
            b(m.duplicate_id),
            m.reason
        )?;
    }
    Ok(())
}

fn write_scores(
    path: &Path,
    results: &[ScoreResult],
    samples: &[String],
    reference: Option<&ReferenceDistributions>,
) -> Result<()> {
    let mut out = create_output(path)?;
    write!(out, "sample\tscore_id\tSUM\tDENOM\tAVG\tvariants_matched\tvariants_total\tmatch_rate\tstatus\tbuild")?;
    if reference.is_some() {
        write!(out, "\tZ\tpercentile\treference_population")?;
    }
    writeln!(out)?;
    for sample in samples {
        for r in results {
            // No genotype called at any matched variant: no score (FAIL, NA), not 0.
            let s = r
                .samples
                .iter()
                .find(|s| &s.sample == sample && s.denom > 0.0);
            let (sum, denom, avg) = match s {
                Some(s) => (fmt_f64(s.sum), fmt_f64(s.denom), fmt_f64(s.sum / s.denom)),
                None => ("NA".into(), "NA".into(), "NA".into()),
            };
            write!(
                out,
                "{sample}\t{}\t{sum}\t{denom}\t{avg}\t{}\t{}\t{:.4}\t{}\t{}",
                r.id,
                r.matched,
                r.total,
                r.matched as f64 / r.total as f64,
                if r.pass && s.is_some() {
                    "PASS"
                } else {
                    "FAIL"
                },
                r.build
            )?;
            if let Some(reference) = reference {
                match (s, reference.get(&r.id)) {
                    (Some(s), Some(d)) => {
                        let (z, pct) = d.place(s.sum);
                        write!(out, "\t{}\t{}\t{}", fmt_f64(z), fmt_f64(pct), d.population)?;
                    }
                    (_, d) => write!(
                        out,
                        "\tNA\tNA\t{}",
                        d.map(|d| d.population.as_str()).unwrap_or("NA")
                    )?,
                }
            }
            writeln!(out)?;
        }
    }
    out.commit()
}

mod matching;
pub use matching::*;
mod reference;
pub use reference::*;

#[cfg(test)]
mod tests;
