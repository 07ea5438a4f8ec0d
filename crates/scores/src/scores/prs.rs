//! `varstream score prs`: polygenic scores the way pgsc_calc computes them.
//!
//! Matching follows pgsc_calc (pgscatalog-match) so that a SUM we print equals the SUM a
//! pgsc_calc run (plink2 `--score ... no-mean-imputation`) prints on the same genotypes; the
//! match log accounts for every scoring-file row so a report can say why a variant is absent.
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::errors::BadInput;
use anyhow::{bail, Context, Result};

use super::pgs_file::{ScoreRow, ScoringFile};
use super::vcf_genotypes::{self, allele_count, GenotypedSite, VcfSites};
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

/// pgsc_calc's match types, declared in priority order (derive(Ord) ranks them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchType {
    /// effect = REF, other = ALT.
    RefAlt,
    /// effect = ALT, other = REF.
    AltRef,
    /// Same after complementing both scoring alleles.
    RefAltFlip,
    /// Same after complementing both scoring alleles.
    AltRefFlip,
    /// No other allele; effect = REF.
    NoOaRef,
    /// No other allele; effect = ALT.
    NoOaAlt,
    /// No other allele; complement(effect) = REF.
    NoOaRefFlip,
    /// No other allele; complement(effect) = ALT.
    NoOaAltFlip,
    /// A record stating the reference allele only (ALT `.`, as `bcftools convert --gvcf2vcf`
    /// writes hom-ref sites): effect = REF, so a `0/0` sample carries two effect copies.
    /// Beyond pgsc_calc, which needs the other allele as ALT and so never scores these sites.
    RefOnly,
    /// The same with other = REF: a `0/0` sample carries no effect copy.
    RefOnlyOther,
    /// [`MatchType::RefOnly`] after complementing the scoring alleles.
    RefOnlyFlip,
    /// [`MatchType::RefOnlyOther`] after complementing the scoring alleles.
    RefOnlyOtherFlip,
}

/// The effect allele index of a row whose effect allele is not in its reference-only record:
/// no genotype names it, so every called sample has 0 copies.
const NOT_LISTED: usize = usize::MAX;

impl MatchType {
    /// pgsc_calc's spelling.
    pub fn name(self) -> &'static str {
        match self {
            MatchType::RefAlt => "refalt",
            MatchType::AltRef => "altref",
            MatchType::RefAltFlip => "refalt_flip",
            MatchType::AltRefFlip => "altref_flip",
            MatchType::NoOaRef => "no_oa_ref",
            MatchType::NoOaAlt => "no_oa_alt",
            MatchType::NoOaRefFlip => "no_oa_ref_flip",
            MatchType::NoOaAltFlip => "no_oa_alt_flip",
            MatchType::RefOnly => "ref_only",
            MatchType::RefOnlyOther => "ref_only_other",
            MatchType::RefOnlyFlip => "ref_only_flip",
            MatchType::RefOnlyOtherFlip => "ref_only_other_flip",
        }
    }

    fn flipped(self) -> bool {
        matches!(
            self,
            MatchType::RefAltFlip
                | MatchType::AltRefFlip
                | MatchType::NoOaRefFlip
                | MatchType::NoOaAltFlip
                | MatchType::RefOnlyFlip
                | MatchType::RefOnlyOtherFlip
        )
    }

    fn effect_is_ref(self) -> bool {
        matches!(
            self,
            MatchType::RefAlt
                | MatchType::RefAltFlip
                | MatchType::NoOaRef
                | MatchType::NoOaRefFlip
                | MatchType::RefOnly
                | MatchType::RefOnlyFlip
        )
    }
}

/// Whether a row ends up in the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Scored.
    Matched,
    /// A candidate matched but a filter removed it.
    Excluded,
    /// No VCF record matched.
    Unmatched,
}

/// The fate of one scoring-file row.
#[derive(Debug, Clone)]
pub struct RowMatch {
    /// Matched, excluded or unmatched.
    pub status: Status,
    /// Best match type, when any candidate matched.
    pub match_type: Option<MatchType>,
    /// Index of the matched record within its locus, and the ALT index used.
    site: Option<(usize, usize)>,
    /// Allele index (0 = REF) whose copies are counted.
    effect_index: usize,
    /// `chrom:pos:ref:alt` of the matched record.
    pub target_variant: String,
    /// Effect allele as spelled in the VCF (complemented for flips).
    pub target_effect_allele: String,
    /// Target REF/ALT are complementary SNP alleles.
    pub ambiguous: bool,
    /// Target record has more than one ALT.
    pub multiallelic: bool,
    /// More than one candidate shares the best match type.
    pub duplicate_best_match: bool,
    /// Another row of the same score matched the same target allele.
    pub duplicate_id: bool,
    /// Why the row is not scored (empty when matched).
    pub reason: String,
}

fn complement(s: &str) -> String {
    // Per base, not reversed: pgsc_calc flips alleles this way.
    s.chars()
        .map(|c| match c {
            'A' => 'T',
            'T' => 'A',
            'C' => 'G',
            'G' => 'C',
            o => o,
        })
        .collect()
}

fn is_ambiguous(r: &str, a: &str) -> bool {
    r.len() == 1 && a.len() == 1 && complement(r) == a
}

fn usable_allele(a: &str) -> bool {
    !a.is_empty()
        && a.bytes()
            .all(|b| matches!(b, b'A' | b'C' | b'G' | b'T' | b'N'))
}

/// Best match of one row against the records at its locus (filters applied later).
fn match_row(row: &ScoreRow, sites: &[GenotypedSite]) -> RowMatch {
    let mut m = RowMatch {
        status: Status::Unmatched,
        match_type: None,
        site: None,
        effect_index: 0,
        target_variant: String::new(),
        target_effect_allele: String::new(),
        ambiguous: false,
        multiallelic: false,
        duplicate_best_match: false,
        duplicate_id: false,
        reason: String::new(),
    };
    if row.pos.is_none() {
        m.reason = "no position in scoring file".into();
        return m;
    }
    if sites.is_empty() {
        m.reason = "no VCF record at this position".into();
        return m;
    }
    let e = &row.effect_allele;
    let ef = complement(e);
    let mut cands: Vec<(MatchType, usize, usize)> = Vec::new();
    for (si, site) in sites.iter().enumerate() {
        let r = &site.alleles[0];
        if site.is_reference_only() {
            // A hom-ref site: the scoring alleles are checked against REF only (ALT index 0).
            let o = row.other_allele.as_deref();
            let of = o.map(complement);
            let t = if e == r {
                Some(MatchType::RefOnly)
            } else if o == Some(r.as_str()) {
                Some(MatchType::RefOnlyOther)
            } else if &ef == r {
                Some(MatchType::RefOnlyFlip)
            } else if of.as_ref() == Some(r) {
                Some(MatchType::RefOnlyOtherFlip)
            } else {
                None
            };
            cands.extend(t.map(|t| (t, si, 0)));
            continue;
        }
        for ai in 1..site.alleles.len() {
            let a = &site.alleles[ai];
            if !usable_allele(a) {
                continue;
            }
            let t = match &row.other_allele {
                Some(o) => {
                    let of = complement(o);
                    if e == r && o == a {
                        Some(MatchType::RefAlt)
                    } else if e == a && o == r {
                        Some(MatchType::AltRef)
                    } else if &ef == r && &of == a {
                        Some(MatchType::RefAltFlip)
                    } else if &ef == a && &of == r {
                        Some(MatchType::AltRefFlip)
                    } else {
                        None
                    }
                }
                None if e == r => Some(MatchType::NoOaRef),
                None if e == a => Some(MatchType::NoOaAlt),
                None if &ef == r => Some(MatchType::NoOaRefFlip),
                None if &ef == a => Some(MatchType::NoOaAltFlip),
                None => None,
            };
            if let Some(t) = t {
                cands.push((t, si, ai));
            }
        }
    }
    let Some(best) = cands.iter().map(|c| c.0).min() else {
        m.reason = "alleles do not match any VCF record at this position".into();
        return m;
    };
    // Two ALTs of one record matching on REF count the same allele copies: one candidate.
    let mut seen = HashSet::new();
    let bests: Vec<(usize, usize)> = cands
        .iter()
        .filter(|c| c.0 == best)
        .filter(|c| seen.insert((c.1, if best.effect_is_ref() { 0 } else { c.2 })))
        .map(|c| (c.1, c.2))
        .collect();
    let (si, ai) = bests[0];
    let site = &sites[si];
    m.match_type = Some(best);
    m.site = Some((si, ai));
    if ai == 0 {
        // Reference-only record: strand is judged from the scoring alleles themselves.
        m.effect_index = if best.effect_is_ref() { 0 } else { NOT_LISTED };
        m.target_variant = format!("{}:{}:{}:.", site.chrom, site.pos, site.alleles[0]);
        m.target_effect_allele = if best.flipped() {
            ef.clone()
        } else {
            e.clone()
        };
        m.ambiguous = row
            .other_allele
            .as_deref()
            .is_some_and(|o| is_ambiguous(e, o));
    } else {
        m.effect_index = if best.effect_is_ref() { 0 } else { ai };
        m.target_variant = site.variant_id(ai);
        m.target_effect_allele = site.alleles[m.effect_index].clone();
        m.ambiguous = is_ambiguous(&site.alleles[0], &site.alleles[ai]);
    }
    m.multiallelic = site.is_multiallelic();
    m.duplicate_best_match = bests.len() > 1;
    m.status = Status::Matched;
    m
}

/// Match every row of a scoring file and apply pgsc_calc's default filters.
pub fn match_score(
    file: &ScoringFile,
    vcf: &VcfSites,
    keep_ambiguous: bool,
    keep_multiallelic: bool,
) -> Vec<RowMatch> {
    let empty: Vec<GenotypedSite> = Vec::new();
    let mut out: Vec<RowMatch> = file
        .rows
        .iter()
        .map(|row| {
            let sites = row
                .pos
                .and_then(|p| vcf.by_locus.get(&(chrom_key(&row.chrom), p)))
                .unwrap_or(&empty);
            let mut m = match_row(row, sites);
            if m.status == Status::Matched {
                let why = if m.duplicate_best_match {
                    "duplicate_best_match: several VCF records match equally well"
                } else if m.ambiguous && !keep_ambiguous {
                    "ambiguous: palindromic A/T or C/G SNP (strand cannot be resolved)"
                } else if m.multiallelic && !keep_multiallelic {
                    "multiallelic: VCF record has more than one ALT"
                } else {
                    ""
                };
                if !why.is_empty() {
                    m.status = Status::Excluded;
                    m.reason = why.into();
                }
            }
            m
        })
        .collect();
    // Rows that would count the same target allele twice are all dropped (pgsc_calc's
    // duplicate_ID rule), since no single row can be said to be the right one.
    let mut by_target: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (i, m) in out.iter().enumerate() {
        if m.status == Status::Matched {
            by_target
                .entry((m.target_variant.clone(), m.target_effect_allele.clone()))
                .or_default()
                .push(i);
        }
    }
    for idx in by_target.values().filter(|v| v.len() > 1) {
        let lines: Vec<String> = idx.iter().map(|&i| file.rows[i].line.to_string()).collect();
        for &i in idx {
            out[i].status = Status::Excluded;
            out[i].duplicate_id = true;
            out[i].reason = format!(
                "duplicate_ID: lines {} match the same VCF allele",
                lines.join(",")
            );
        }
    }
    out
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
    let files: Vec<ScoringFile> = args
        .pgs
        .iter()
        .map(|p| ScoringFile::read(p).bad_input())
        .collect::<Result<_>>()?;
    let reference = match &args.reference_distribution {
        Some(p) => Some(ReferenceDistributions::read(p).bad_input()?),
        None => None,
    };
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

/// A reference distribution of SUM for one score.
#[derive(Debug, Clone, Default)]
pub struct Distribution {
    /// Population the reference was computed in (e.g. `1000G EUR`).
    pub population: String,
    /// Mean and standard deviation, when given.
    pub mean_sd: Option<(f64, f64)>,
    /// (percentile 0-100, SUM value) pairs sorted by percentile, when given.
    pub quantiles: Vec<(f64, f64)>,
}

impl Distribution {
    /// (Z, percentile) of a SUM: Z from mean/sd; percentile from the quantiles when given
    /// (linear interpolation, clamped to the ends), else from the normal CDF of Z.
    pub fn place(&self, sum: f64) -> (f64, f64) {
        let z = self
            .mean_sd
            .map(|(m, sd)| (sum - m) / sd)
            .unwrap_or(f64::NAN);
        let q = &self.quantiles;
        let pct = if q.len() >= 2 {
            if sum <= q[0].1 {
                q[0].0
            } else if sum >= q[q.len() - 1].1 {
                q[q.len() - 1].0
            } else {
                let i = q
                    .windows(2)
                    .position(|w| sum >= w[0].1 && sum <= w[1].1)
                    .unwrap_or(0);
                let (a, b) = (q[i], q[i + 1]);
                if b.1 > a.1 {
                    a.0 + (b.0 - a.0) * (sum - a.1) / (b.1 - a.1)
                } else {
                    a.0
                }
            }
        } else {
            100.0 * normal_cdf(z)
        };
        (z, pct)
    }
}

/// Standard normal CDF (Abramowitz & Stegun 7.1.26; |error| < 1.5e-7).
pub fn normal_cdf(z: f64) -> f64 {
    if !z.is_finite() {
        return if z.is_nan() {
            f64::NAN
        } else if z > 0.0 {
            1.0
        } else {
            0.0
        };
    }
    let x = z.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.3275911 * x);
    let poly = t
        * (0.254829592
            + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let erf = 1.0 - poly * (-x * x).exp();
    if z >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// Reference distributions by score id.
#[derive(Debug, Default)]
pub struct ReferenceDistributions(HashMap<String, Distribution>);

impl ReferenceDistributions {
    /// Read a TSV with header `score_id population mean sd` (one row per score) and/or
    /// `score_id population percentile value` (one row per quantile).
    pub fn read(path: &Path) -> Result<Self> {
        use std::io::BufRead;
        let name = path.display();
        let mut lines = super::open_text(path)?.lines().enumerate();
        let header = loop {
            match lines.next() {
                Some((_, l)) => {
                    let l = l.with_context(|| format!("cannot read {name}"))?;
                    if !l.trim().is_empty() && !l.starts_with("##") {
                        break l;
                    }
                }
                None => bail!("{name}: empty reference distribution"),
            }
        };
        let cols: Vec<String> = header
            .trim_start_matches('#')
            .split('\t')
            .map(|s| s.trim().to_string())
            .collect();
        let col = |n: &str| cols.iter().position(|c| c == n);
        let id_c = col("score_id").with_context(|| format!("{name}: no score_id column"))?;
        let pop_c = col("population").with_context(|| format!("{name}: no population column"))?;
        let (mean_c, sd_c, pct_c, val_c) =
            (col("mean"), col("sd"), col("percentile"), col("value"));
        if (mean_c.is_none() || sd_c.is_none()) && (pct_c.is_none() || val_c.is_none()) {
            bail!("{name}: needs columns mean and sd, or percentile and value");
        }
        let mut map: HashMap<String, Distribution> = HashMap::new();
        for (i, l) in lines {
            let l = l.with_context(|| format!("cannot read {name}"))?;
            if l.trim().is_empty() {
                continue;
            }
            let f: Vec<&str> = l.split('\t').map(str::trim).collect();
            let num = |c: Option<usize>| -> Result<Option<f64>> {
                match c
                    .and_then(|c| f.get(c))
                    .filter(|s| !s.is_empty() && **s != "NA")
                {
                    Some(s) => Ok(Some(s.parse().with_context(|| {
                        format!("{name}: line {}: {s:?} is not a number", i + 1)
                    })?)),
                    None => Ok(None),
                }
            };
            let id = f
                .get(id_c)
                .with_context(|| format!("{name}: line {}: too few columns", i + 1))?;
            let d = map.entry(id.to_string()).or_default();
            d.population = f.get(pop_c).unwrap_or(&"").to_string();
            if let (Some(m), Some(sd)) = (num(mean_c)?, num(sd_c)?) {
                if sd <= 0.0 {
                    bail!("{name}: line {}: sd must be positive", i + 1);
                }
                d.mean_sd = Some((m, sd));
            }
            if let (Some(p), Some(v)) = (num(pct_c)?, num(val_c)?) {
                d.quantiles.push((p, v));
            }
        }
        for d in map.values_mut() {
            d.quantiles.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        Ok(Self(map))
    }

    fn get(&self, id: &str) -> Option<&Distribution> {
        self.0.get(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scores::pgs_file::EffectType;

    fn site(alleles: &[&str]) -> GenotypedSite {
        GenotypedSite {
            chrom: "1".into(),
            pos: 100,
            id: ".".into(),
            alleles: alleles.iter().map(|s| s.to_string()).collect(),
            gts: vec![Some(vcf_genotypes::Call::diploid(0, 1))],
            end: 100,
        }
    }

    fn row(e: &str, o: Option<&str>) -> ScoreRow {
        ScoreRow {
            line: 1,
            rsid: String::new(),
            chrom: "1".into(),
            pos: Some(100),
            effect_allele: e.into(),
            other_allele: o.map(String::from),
            weight: 1.0,
            effect_type: EffectType::Additive,
        }
    }

    #[test]
    fn match_types_in_priority_order() {
        let s = [site(&["A", "G"])];
        let t = |e, o| match_row(&row(e, o), &s).match_type;
        assert_eq!(t("A", Some("G")), Some(MatchType::RefAlt));
        assert_eq!(t("G", Some("A")), Some(MatchType::AltRef));
        assert_eq!(t("T", Some("C")), Some(MatchType::RefAltFlip));
        assert_eq!(t("C", Some("T")), Some(MatchType::AltRefFlip));
        assert_eq!(t("A", None), Some(MatchType::NoOaRef));
        assert_eq!(t("G", None), Some(MatchType::NoOaAlt));
        assert_eq!(t("T", None), Some(MatchType::NoOaRefFlip));
        assert_eq!(t("A", Some("C")), None);
        // A palindromic site: refalt beats the altref_flip reading of the same alleles.
        let p = [site(&["A", "T"])];
        let m = match_row(&row("A", Some("T")), &p);
        assert_eq!(m.match_type, Some(MatchType::RefAlt));
        assert!(m.ambiguous);
        assert_eq!(m.effect_index, 0);
    }

    #[test]
    fn reference_only_sites_are_hom_ref() {
        let s = [site(&["A"]), site(&["A", "<*>"])];
        for s in s.chunks(1) {
            let t = |e, o| {
                let m = match_row(&row(e, o), s);
                (m.match_type, m.effect_index, m.target_variant)
            };
            let v = "1:100:A:.".to_string();
            assert_eq!(t("A", Some("G")), (Some(MatchType::RefOnly), 0, v.clone()));
            assert_eq!(
                t("G", Some("A")),
                (Some(MatchType::RefOnlyOther), NOT_LISTED, v.clone())
            );
            assert_eq!(
                t("T", Some("C")),
                (Some(MatchType::RefOnlyFlip), 0, v.clone())
            );
            assert_eq!(
                t("C", Some("T")),
                (Some(MatchType::RefOnlyOtherFlip), NOT_LISTED, v)
            );
            assert_eq!(t("G", Some("C")).0, None);
        }
        // A 0/1 genotype never names the unlisted effect allele.
        assert_eq!(allele_count(s[0].gts[0], NOT_LISTED), Some(0.0));
    }

    #[test]
    fn equal_best_matches_are_duplicates() {
        let s = [site(&["A", "G"]), site(&["A", "G"])];
        assert!(match_row(&row("G", Some("A")), &s).duplicate_best_match);
        // ...but REF matches on two ALTs of one record count the same copies.
        let m = [site(&["A", "G", "T"])];
        assert!(!match_row(&row("A", None), &m).duplicate_best_match);
    }

    #[test]
    fn normal_cdf_is_accurate() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.959964) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-1.0) - 0.158655).abs() < 1e-6);
    }

    #[test]
    fn quantile_placement_interpolates() {
        let d = Distribution {
            population: "X".into(),
            mean_sd: Some((0.0, 2.0)),
            quantiles: vec![(0.0, -1.0), (50.0, 0.0), (100.0, 1.0)],
        };
        let (z, p) = d.place(0.5);
        assert_eq!(z, 0.25);
        assert_eq!(p, 75.0);
        assert_eq!(d.place(5.0).1, 100.0);
    }
}
