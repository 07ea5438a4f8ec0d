//! `varstream score risk`: the probability of a trait from a sample's scores, through a small
//! learned model (ONNX) whose JSON sidecar is its contract.
//!
//! The sidecar names every input feature and where it comes from (a PGS Catalog score in
//! `PREFIX.prs.tsv`, a PredictDB gene in `PREFIX.expression.tsv`, a sequence-model effect in
//! `PREFIX.effects_samples.tsv`, or a covariate such as age or sex from `--covariates`), how
//! it is scaled, and what a missing value does: refuse (the run fails), impute a stated
//! value, or fall back to a sub-model that does without it. It also names the output (the
//! probability of a trait over a horizon), the training cohort and the calibration. The
//! contract is documented in `docs/scores.md`; keep the two in step.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use crate::errors::{input_error, BadInput};
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{create_output, prefixed};
use crate::inference::{Device, OnnxModel};

/// Suffix of `score risk`'s table after the output prefix.
pub const RISK_TABLE: &str = ".risk.tsv";
/// Suffix of `score effects`' per-sample table after its prefix.
pub const EFFECTS_SAMPLES_TABLE: &str = ".effects_samples.tsv";
/// The only sidecar format this build reads.
pub const SIDECAR_FORMAT: &str = "varstream-risk-model";
/// Its version.
pub const SIDECAR_VERSION: u32 = 1;

/// `varstream score risk` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct RiskArgs {
    /// Risk model in ONNX; its sidecar is MODEL.json unless --sidecar is given.
    #[arg(long)]
    pub model: PathBuf,
    /// The model's JSON sidecar (default: the model path with extension .json).
    #[arg(long)]
    pub sidecar: Option<PathBuf>,
    /// Prefix of the score tables to read: PREFIX.prs.tsv, PREFIX.expression.tsv,
    /// PREFIX.effects_samples.tsv (those the model's features need).
    #[arg(long)]
    pub features: PathBuf,
    /// Covariates: TSV with a `sample` column and one column per covariate the model names.
    #[arg(long)]
    pub covariates: Option<PathBuf>,
    /// Output prefix: writes PREFIX.risk.tsv.
    #[arg(long)]
    pub output: PathBuf,
    /// Where the model runs.
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    pub device: Device,
}

/// Where a feature's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A score in `PREFIX.prs.tsv`.
    Prs,
    /// A gene in `PREFIX.expression.tsv`.
    Expression,
    /// A target and track in `PREFIX.effects_samples.tsv`.
    Effects,
    /// A column of `--covariates`.
    Covariate,
}

impl Source {
    fn table_suffix(self) -> Option<&'static str> {
        match self {
            Source::Prs => Some(super::PRS_TABLE),
            Source::Expression => Some(super::EXPRESSION_TABLE),
            Source::Effects => Some(EFFECTS_SAMPLES_TABLE),
            Source::Covariate => None,
        }
    }
}

/// What a missing feature does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MissingAction {
    /// The run fails (exit 2), naming the sample and the feature.
    Refuse,
    /// The stated value (on the feature's raw scale, before scaling) is used.
    Impute,
    /// The first sub-model that does not use the feature is run instead.
    Submodel,
}

/// A feature's missing-value rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Missing {
    /// What happens.
    pub action: MissingAction,
    /// The imputed raw value (`impute` only).
    #[serde(default)]
    pub value: Option<f64>,
}

/// One input feature of the model, in the order the model's input columns take them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feature {
    /// Unique name (used by sub-models and in the output).
    pub name: String,
    /// Which table holds it.
    pub source: Source,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// `prs`: the PGS Catalog score id (`score_id` column).
    #[serde(default)]
    pub score_id: Option<String>,
    /// `prs`: the column used, `SUM`, `AVG` or `Z` (Z needs `score prs
    /// --reference-distribution`).
    #[serde(default)]
    pub value: Option<String>,
    /// `expression`: the gene id (`gene` column).
    #[serde(default)]
    pub gene: Option<String>,
    /// `expression`: the PredictDB model (`model` column, the database's file stem); needed
    /// only when several models predict the gene.
    #[serde(default)]
    pub model: Option<String>,
    /// `effects`: the target id.
    #[serde(default)]
    pub target_id: Option<String>,
    /// `effects`: the track.
    #[serde(default)]
    pub track: Option<String>,
    /// `covariate`: the column of `--covariates`.
    #[serde(default)]
    pub column: Option<String>,
    /// `covariate`: categories and their numeric codes (e.g. `{"F": 0, "M": 1}`); without
    /// it the column must be numeric.
    #[serde(default)]
    pub levels: Option<BTreeMap<String, f64>>,
    /// Scaled = (raw − center) / scale.
    #[serde(default)]
    pub center: f64,
    /// See `center`; default 1.
    #[serde(default = "one")]
    pub scale: f64,
    /// What a missing value does.
    pub missing: Missing,
}

fn one() -> f64 {
    1.0
}

/// The model's output.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraitSpec {
    /// Short identifier.
    pub id: String,
    /// What is predicted, in words.
    pub name: String,
    /// Over what time (e.g. `10 years`, `lifetime`).
    pub horizon: String,
    /// How a case is defined.
    #[serde(default)]
    pub definition: Option<String>,
}

/// How well the probabilities matched outcomes on held-out data.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// What the held-out data were.
    pub data: String,
    /// Held-out individuals.
    pub n: u64,
    /// Cases among them.
    pub cases: u64,
    /// Area under the ROC curve.
    pub auc: f64,
    /// Slope of logit(outcome) on logit(probability); 1 is ideal.
    pub slope: f64,
    /// Calibration-in-the-large: intercept with the logit as an offset; 0 is ideal.
    pub intercept: f64,
    /// Reliability table: `[mean predicted, observed fraction, n]` per bin.
    #[serde(default)]
    pub reliability: Vec<[f64; 3]>,
    /// The same numbers for the baseline (e.g. the PRS alone), when measured.
    #[serde(default)]
    pub baseline: Option<serde_json::Value>,
    /// What a reader must keep in mind.
    pub caveat: String,
}

/// A model used instead of the main one when features it lacks are missing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubModel {
    /// Name shown in the output.
    pub name: String,
    /// ONNX file, relative to the sidecar's folder.
    pub file: String,
    /// SHA-256 of that file.
    pub sha256: String,
    /// Names of the main features it takes, in its input order.
    pub features: Vec<String>,
    /// Its held-out calibration.
    pub calibration: Calibration,
}

/// Who the model was trained on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Training {
    /// The cohort, in words.
    pub cohort: String,
    /// Anything else (sizes, prevalence, simulation settings, recipe).
    #[serde(default)]
    pub details: Option<serde_json::Value>,
}

/// The model's JSON sidecar: its contract.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskSidecar {
    /// Must be [`SIDECAR_FORMAT`].
    pub format: String,
    /// Must be [`SIDECAR_VERSION`].
    pub format_version: u32,
    /// Model name.
    pub name: String,
    /// SHA-256 of the ONNX file; checked before the model runs.
    pub sha256: String,
    /// What the probability is of.
    #[serde(rename = "trait")]
    pub trait_: TraitSpec,
    /// Input features in input-column order.
    pub features: Vec<Feature>,
    /// Fallbacks for features whose missing action is `submodel`, tried in order.
    #[serde(default)]
    pub submodels: Vec<SubModel>,
    /// Training cohort.
    pub training: Training,
    /// Held-out calibration of the main model.
    pub calibration: Calibration,
    /// Free text (licence, intended use, reference to a model card).
    #[serde(default)]
    pub notes: Option<String>,
}

impl RiskSidecar {
    /// Read and check a sidecar; every fault names the file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read risk model sidecar {}", path.display()))?;
        let s: RiskSidecar = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a valid risk model sidecar", path.display()))?;
        s.check()
            .with_context(|| format!("risk model sidecar {}", path.display()))?;
        Ok(s)
    }

    fn check(&self) -> Result<()> {
        if self.format != SIDECAR_FORMAT || self.format_version != SIDECAR_VERSION {
            bail!(
                "format is {:?} version {}, but this varstream reads {SIDECAR_FORMAT:?} version \
                 {SIDECAR_VERSION}",
                self.format,
                self.format_version
            );
        }
        if self.features.is_empty() {
            bail!("no features");
        }
        let mut names = HashSet::new();
        for f in &self.features {
            if !names.insert(f.name.as_str()) {
                bail!("feature {} is listed twice", f.name);
            }
            check_feature(f).with_context(|| format!("feature {}", f.name))?;
            if f.missing.action == MissingAction::Submodel && self.submodels.is_empty() {
                bail!(
                    "feature {}: missing action is submodel, but no submodels are listed",
                    f.name
                );
            }
        }
        for m in &self.submodels {
            if m.features.is_empty() {
                bail!("submodel {} has no features", m.name);
            }
            for n in &m.features {
                if !names.contains(n.as_str()) {
                    bail!(
                        "submodel {} names feature {n}, which the model does not list",
                        m.name
                    );
                }
            }
        }
        Ok(())
    }
}

fn check_feature(f: &Feature) -> Result<()> {
    let have = |x: &Option<String>| x.as_deref().is_some_and(|s| !s.is_empty());
    let (needs, allowed): (Vec<(&str, bool)>, [bool; 7]) = match f.source {
        Source::Prs => (
            vec![("score_id", have(&f.score_id)), ("value", have(&f.value))],
            [true, true, false, false, false, false, false],
        ),
        Source::Expression => (
            vec![("gene", have(&f.gene))],
            [false, false, true, true, false, false, false],
        ),
        Source::Effects => (
            vec![("target_id", have(&f.target_id)), ("track", have(&f.track))],
            [false, false, false, false, true, true, false],
        ),
        Source::Covariate => (
            vec![("column", have(&f.column))],
            [false, false, false, false, false, false, true],
        ),
    };
    for (key, ok) in needs {
        if !ok {
            bail!(
                "source {} needs {key}",
                format!("{:?}", f.source).to_lowercase()
            );
        }
    }
    let given = [
        ("score_id", f.score_id.is_some()),
        ("value", f.value.is_some()),
        ("gene", f.gene.is_some()),
        ("model", f.model.is_some()),
        ("target_id", f.target_id.is_some()),
        ("track", f.track.is_some()),
        ("column", f.column.is_some() || f.levels.is_some()),
    ];
    for ((key, is), ok) in given.iter().zip(allowed) {
        if *is && !ok {
            bail!(
                "{key} does not apply to source {}",
                format!("{:?}", f.source).to_lowercase()
            );
        }
    }
    if let Some(v) = &f.value {
        if !["SUM", "AVG", "Z"].contains(&v.as_str()) {
            bail!("value must be SUM, AVG or Z, not {v:?}");
        }
    }
    if !f.center.is_finite() || !f.scale.is_finite() || f.scale == 0.0 {
        bail!("center must be finite and scale finite and non-zero");
    }
    if let Some(levels) = &f.levels {
        if levels.is_empty() || levels.values().any(|v| !v.is_finite()) {
            bail!("levels must map categories to finite numbers");
        }
    }
    match (f.missing.action, f.missing.value) {
        (MissingAction::Impute, Some(v)) if v.is_finite() => {}
        (MissingAction::Impute, _) => bail!("missing action impute needs a finite value"),
        (_, Some(_)) => bail!("missing value applies only to action impute"),
        _ => {}
    }
    Ok(())
}

/// A model file checked against the checksum its sidecar states.
fn checked_model_file(path: &Path, sha256: &str) -> Result<()> {
    let bytes = std::fs::read(path)
        .map_err(|e| input_error(format!("cannot read risk model {}: {e}", path.display())))?;
    let got = format!("{:x}", Sha256::digest(&bytes));
    if !got.eq_ignore_ascii_case(sha256) {
        crate::bail_input!(
            "risk model {}: SHA-256 {got} differs from the {sha256} its sidecar states (another \
             model, or a sidecar for another version of it)",
            path.display()
        );
    }
    Ok(())
}

/// A scorer's TSV with named columns.
struct Tsv {
    path: PathBuf,
    columns: HashMap<String, usize>,
    /// (line number, fields).
    rows: Vec<(usize, Vec<String>)>,
}

impl Tsv {
    fn read(path: &Path, what: &str) -> Result<Self> {
        let mut lines = crate::input::open_text(path, what)?.lines().enumerate();
        let header = loop {
            match lines.next() {
                Some((_, l)) => {
                    let l = l.with_context(|| format!("cannot read {}", path.display()))?;
                    if !l.trim().is_empty() && !l.starts_with("##") {
                        break l;
                    }
                }
                None => bail!("{}: empty table", path.display()),
            }
        };
        let columns: HashMap<String, usize> = header
            .trim_start_matches('#')
            .split('\t')
            .enumerate()
            .map(|(i, c)| (c.trim().to_string(), i))
            .collect();
        if !columns.contains_key("sample") {
            bail!("{}: no sample column", path.display());
        }
        let width = header.split('\t').count();
        let mut rows = Vec::new();
        for (i, l) in lines {
            let l = l.with_context(|| format!("cannot read {}", path.display()))?;
            if l.trim().is_empty() {
                continue;
            }
            let f: Vec<String> = l.split('\t').map(|s| s.trim().to_string()).collect();
            if f.len() != width {
                bail!(
                    "{}: line {} has {} columns, the header {width}",
                    path.display(),
                    i + 1,
                    f.len()
                );
            }
            rows.push((i + 1, f));
        }
        Ok(Self {
            path: path.to_path_buf(),
            columns,
            rows,
        })
    }

    fn col(&self, name: &str, why: &str) -> Result<usize> {
        self.columns.get(name).copied().ok_or_else(|| {
            input_error(format!(
                "{}: no {name} column, which {why} needs",
                self.path.display()
            ))
        })
    }
}

/// A parsed number, `None` for `NA` or empty.
fn number(s: &str, path: &Path, line: usize, column: &str) -> Result<Option<f64>> {
    if s.is_empty() || s == "NA" || s == "." {
        return Ok(None);
    }
    let x: f64 = s.parse().map_err(|_| {
        input_error(format!(
            "{}: line {line}: {column} {s:?} is not a number",
            path.display()
        ))
    })?;
    if !x.is_finite() {
        crate::bail_input!(
            "{}: line {line}: {column} {s:?} is not a finite number",
            path.display()
        );
    }
    Ok(Some(x))
}

/// Raw feature values by sample: `values[s][f]` is `None` when missing.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureValues {
    /// Samples, in the order they first appear in the tables.
    pub samples: Vec<String>,
    /// One row per sample, one value per model feature.
    pub values: Vec<Vec<Option<f64>>>,
    /// Where each feature was looked for (a file name), for messages.
    pub origin: Vec<String>,
}

/// Read every feature the model names from the tables at `prefix` and from `covariates`.
pub fn read_features(
    sc: &RiskSidecar,
    prefix: &Path,
    covariates: Option<&Path>,
) -> Result<FeatureValues> {
    let mut tables: HashMap<Source, Option<Tsv>> = HashMap::new();
    let mut samples: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for f in &sc.features {
        let Some(suffix) = f.source.table_suffix() else {
            continue;
        };
        if tables.contains_key(&f.source) {
            continue;
        }
        let path = prefixed(prefix, suffix);
        let t = if path.exists() {
            let t = Tsv::read(&path, "feature table").bad_input()?;
            let sc_ = t.columns["sample"];
            for (_, r) in &t.rows {
                if seen.insert(r[sc_].clone()) {
                    samples.push(r[sc_].clone());
                }
            }
            Some(t)
        } else {
            log::warn!(
                "{} does not exist: features from it count as missing",
                path.display()
            );
            None
        };
        tables.insert(f.source, t);
    }
    if samples.is_empty() {
        let wanted: Vec<String> = tables
            .keys()
            .filter_map(|s| s.table_suffix())
            .map(|s| prefixed(prefix, s).display().to_string())
            .collect();
        crate::bail_input!(
            "no samples: the model's features come from {} and none of these exists or lists \
             a sample (run `varstream score prs|expression|effects --output {}` first)",
            if wanted.is_empty() {
                "covariates only, which need a score table to name the samples".to_string()
            } else {
                wanted.join(", ")
            },
            prefix.display()
        );
    }
    let cov = covariates
        .map(|p| Tsv::read(p, "covariates").bad_input())
        .transpose()?;
    let index: HashMap<&str, usize> = samples
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let mut values = vec![vec![None; sc.features.len()]; samples.len()];
    let mut origin = Vec::new();
    for (fi, f) in sc.features.iter().enumerate() {
        let table = match f.source {
            Source::Covariate => cov.as_ref(),
            s => tables[&s].as_ref(),
        };
        origin.push(match (f.source, table) {
            (_, Some(t)) => t.path.display().to_string(),
            (Source::Covariate, None) => "--covariates (not given)".to_string(),
            (s, None) => format!(
                "{} (absent)",
                prefixed(prefix, s.table_suffix().unwrap_or("")).display()
            ),
        });
        let Some(t) = table else { continue };
        let filled = fill_feature(f, t, &index)?;
        for (si, v) in filled {
            if values[si][fi].is_some() {
                crate::bail_input!(
                    "{}: sample {} has several rows for feature {}",
                    t.path.display(),
                    samples[si],
                    f.name
                );
            }
            values[si][fi] = v;
        }
    }
    Ok(FeatureValues {
        samples,
        values,
        origin,
    })
}

/// The rows of `t` that hold feature `f`: (sample index, raw value or `None` for NA).
fn fill_feature(
    f: &Feature,
    t: &Tsv,
    index: &HashMap<&str, usize>,
) -> Result<Vec<(usize, Option<f64>)>> {
    let why = format!("feature {}", f.name);
    let sample_c = t.columns["sample"];
    let path = &t.path;
    let mut out = Vec::new();
    let mut rows_seen: HashMap<usize, usize> = HashMap::new();
    let mut add = |si: usize, line: usize, v: Option<f64>| -> Result<()> {
        if let Some(first) = rows_seen.insert(si, line) {
            crate::bail_input!(
                "{}: lines {first} and {line} both give feature {} for one sample",
                path.display(),
                f.name
            );
        }
        out.push((si, v));
        Ok(())
    };
    match f.source {
        Source::Prs => {
            let id_c = t.col("score_id", &why)?;
            let value = f.value.as_deref().unwrap_or("SUM");
            let val_c = t.columns.get(value).copied().ok_or_else(|| {
                input_error(format!(
                    "{}: no {value} column, which feature {} needs{}",
                    path.display(),
                    f.name,
                    if value == "Z" {
                        " (run `score prs` with --reference-distribution)"
                    } else {
                        ""
                    }
                ))
            })?;
            let status_c = t.columns.get("status").copied();
            for (line, r) in &t.rows {
                if Some(&r[id_c]) != f.score_id.as_ref() {
                    continue;
                }
                let Some(&si) = index.get(r[sample_c].as_str()) else {
                    continue;
                };
                // A FAIL score (too few variants matched) has no value.
                let failed = status_c.is_some_and(|c| r[c] == "FAIL");
                let v = if failed {
                    None
                } else {
                    number(&r[val_c], path, *line, value)?
                };
                add(si, *line, v)?;
            }
        }
        Source::Expression => {
            let gene_c = t.col("gene", &why)?;
            let val_c = t.col("predicted_expression", &why)?;
            let model_c = t.columns.get("model").copied();
            for (line, r) in &t.rows {
                if Some(&r[gene_c]) != f.gene.as_ref() {
                    continue;
                }
                if let (Some(want), Some(c)) = (&f.model, model_c) {
                    if &r[c] != want {
                        continue;
                    }
                }
                let Some(&si) = index.get(r[sample_c].as_str()) else {
                    continue;
                };
                add(
                    si,
                    *line,
                    number(&r[val_c], path, *line, "predicted_expression")?,
                )
                .map_err(|e| {
                    if f.model.is_none() {
                        input_error(format!(
                            "{e:#} (several PredictDB models predict gene {}: name one with \
                                 \"model\" in the sidecar)",
                            f.gene.as_deref().unwrap_or("")
                        ))
                    } else {
                        e
                    }
                })?;
            }
        }
        Source::Effects => {
            let target_c = t.col("target_id", &why)?;
            let track_c = t.col("track", &why)?;
            let val_c = t.col("dosage_weighted_effect", &why)?;
            for (line, r) in &t.rows {
                if Some(&r[target_c]) != f.target_id.as_ref()
                    || Some(&r[track_c]) != f.track.as_ref()
                {
                    continue;
                }
                let Some(&si) = index.get(r[sample_c].as_str()) else {
                    continue;
                };
                add(
                    si,
                    *line,
                    number(&r[val_c], path, *line, "dosage_weighted_effect")?,
                )?;
            }
        }
        Source::Covariate => {
            let column = f.column.as_deref().unwrap_or("");
            let c = t.col(column, &why)?;
            for (line, r) in &t.rows {
                let Some(&si) = index.get(r[sample_c].as_str()) else {
                    continue;
                };
                let raw = r[c].as_str();
                let v = match &f.levels {
                    _ if raw.is_empty() || raw == "NA" || raw == "." => None,
                    Some(levels) => Some(*levels.get(raw).ok_or_else(|| {
                        input_error(format!(
                            "{}: line {line}: {column} {raw:?} is not one of the model's \
                             levels ({})",
                            path.display(),
                            levels.keys().cloned().collect::<Vec<_>>().join(", ")
                        ))
                    })?),
                    None => number(raw, path, *line, column)?,
                };
                add(si, *line, v)?;
            }
        }
    }
    Ok(out)
}

/// A model the samples run through: the main one or a sub-model.
#[derive(Debug, Clone)]
struct Runnable {
    name: String,
    path: PathBuf,
    sha256: String,
    /// Indices into the main feature list, in input order.
    features: Vec<usize>,
    calibration: Calibration,
}

/// What one sample gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Index into the runnable models (0 = the main model).
    pub model: usize,
    /// The scaled input row.
    pub input: Vec<f32>,
    /// Features with a value.
    pub used: Vec<String>,
    /// Missing features and what was done: `name:imputed=VALUE` or `name:submodel`.
    pub missing: Vec<String>,
}

/// Choose the model for one sample and build its input row, or say why it cannot run.
/// `models[0]` is the main model; the rest are the sub-models in sidecar order.
fn plan(sc: &RiskSidecar, models: &[Runnable], values: &[Option<f64>]) -> Result<Plan, String> {
    let absent: Vec<usize> = (0..sc.features.len())
        .filter(|&i| values[i].is_none())
        .collect();
    let needs_fallback: Vec<usize> = absent
        .iter()
        .copied()
        .filter(|&i| sc.features[i].missing.action == MissingAction::Submodel)
        .collect();
    let model = if needs_fallback.is_empty() {
        0
    } else {
        match (1..models.len()).find(|&m| {
            needs_fallback
                .iter()
                .all(|i| !models[m].features.contains(i))
        }) {
            Some(m) => m,
            None => {
                let names: Vec<&str> = needs_fallback
                    .iter()
                    .map(|&i| sc.features[i].name.as_str())
                    .collect();
                return Err(format!(
                    "{} missing, and no sub-model of the sidecar does without {}",
                    names.join(", "),
                    if names.len() == 1 { "it" } else { "them" }
                ));
            }
        }
    };
    let mut p = Plan {
        model,
        input: Vec::new(),
        used: Vec::new(),
        missing: Vec::new(),
    };
    for &i in &absent {
        let f = &sc.features[i];
        if !models[model].features.contains(&i) {
            p.missing.push(format!("{}:submodel", f.name));
        } else if f.missing.action == MissingAction::Refuse {
            return Err(format!(
                "{} is missing, and model {} refuses to run without it",
                f.name, sc.name
            ));
        }
    }
    for &i in &models[model].features {
        let f = &sc.features[i];
        let raw = match values[i] {
            Some(v) => {
                p.used.push(f.name.clone());
                v
            }
            None => {
                // Only impute is left: refuse returned above, submodel chose a model without it.
                let v = f.missing.value.unwrap_or(0.0);
                p.missing.push(format!("{}:imputed={v}", f.name));
                v
            }
        };
        p.input.push(((raw - f.center) / f.scale) as f32);
    }
    Ok(p)
}

fn calibration_text(c: &Calibration) -> String {
    format!(
        "held-out AUC {:.3}, calibration slope {:.2}, intercept {:.2} (n = {}, {} cases; {})",
        c.auc, c.slope, c.intercept, c.n, c.cases, c.data
    )
}

/// One sample's result.
#[derive(Debug, Clone)]
pub struct RiskResult {
    /// Sample.
    pub sample: String,
    /// Probability of the trait.
    pub probability: f32,
    /// What was used.
    pub plan: Plan,
}

/// Run `score risk`: write `PREFIX.risk.tsv`.
pub fn run(args: &RiskArgs) -> Result<Vec<RiskResult>> {
    let sidecar_path = args
        .sidecar
        .clone()
        .unwrap_or_else(|| args.model.with_extension("json"));
    let mut inputs = vec![args.model.clone(), sidecar_path.clone()];
    inputs.extend(args.covariates.iter().cloned());
    for s in [
        super::PRS_TABLE,
        super::EXPRESSION_TABLE,
        EFFECTS_SAMPLES_TABLE,
    ] {
        inputs.push(prefixed(&args.features, s));
    }
    let out_path = prefixed(&args.output, RISK_TABLE);
    crate::output::check_outputs(std::slice::from_ref(&out_path), &inputs)?;
    if !args.model.is_file() {
        crate::bail_input!("risk model {} does not exist", args.model.display());
    }
    let sc = RiskSidecar::read(&sidecar_path).bad_input()?;
    checked_model_file(&args.model, &sc.sha256)?;
    let dir = sidecar_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let by_name: HashMap<&str, usize> = sc
        .features
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name.as_str(), i))
        .collect();
    let mut models = vec![Runnable {
        name: sc.name.clone(),
        path: args.model.clone(),
        sha256: sc.sha256.to_ascii_lowercase(),
        features: (0..sc.features.len()).collect(),
        calibration: sc.calibration.clone(),
    }];
    for m in &sc.submodels {
        models.push(Runnable {
            name: m.name.clone(),
            path: dir.join(&m.file),
            sha256: m.sha256.to_ascii_lowercase(),
            features: m.features.iter().map(|n| by_name[n.as_str()]).collect(),
            calibration: m.calibration.clone(),
        });
    }
    let fv = read_features(&sc, &args.features, args.covariates.as_deref())?;
    let mut plans = Vec::with_capacity(fv.samples.len());
    for (s, vals) in fv.samples.iter().zip(&fv.values) {
        let p = plan(&sc, &models, vals).map_err(|why| {
            let sources: Vec<String> = sc
                .features
                .iter()
                .zip(&fv.origin)
                .zip(vals)
                .filter(|(_, v)| v.is_none())
                .map(|((f, o), _)| format!("{} from {o}", f.name))
                .collect();
            input_error(format!(
                "sample {s}: {why} (looked for {})",
                sources.join("; ")
            ))
        })?;
        plans.push(p);
    }
    let mut probs = vec![f32::NAN; plans.len()];
    for (mi, m) in models.iter().enumerate() {
        let rows: Vec<usize> = (0..plans.len()).filter(|&i| plans[i].model == mi).collect();
        if rows.is_empty() {
            continue;
        }
        if mi > 0 {
            if !m.path.is_file() {
                crate::bail_input!(
                    "sub-model {} of {}: {} does not exist",
                    m.name,
                    sidecar_path.display(),
                    m.path.display()
                );
            }
            checked_model_file(&m.path, &m.sha256)?;
        }
        let mut onnx = OnnxModel::load(&m.path, args.device, 1).bad_input()?;
        let n = m.features.len();
        onnx.check_signature(&[n], 1).bad_input()?;
        let input: Vec<f32> = rows
            .iter()
            .flat_map(|&i| plans[i].input.iter().copied())
            .collect();
        let (shape, out) = onnx.run(&input, &[rows.len(), n])?;
        if out.len() != rows.len() {
            crate::bail_input!(
                "risk model {} returned shape {shape:?} for {} samples; [batch, 1] was expected",
                m.path.display(),
                rows.len()
            );
        }
        for (&i, &p) in rows.iter().zip(&out) {
            if !(0.0..=1.0).contains(&p) {
                crate::bail_input!(
                    "risk model {} returned {p} for sample {}: not a probability (the sidecar \
                     contract asks for a sigmoid output)",
                    m.path.display(),
                    fv.samples[i]
                );
            }
            probs[i] = p;
        }
    }
    let mut out = create_output(&out_path)?;
    writeln!(
        out,
        "sample\ttrait\thorizon\tprobability\tmodel\tmodel_sha256\tfeatures_used\t\
         features_missing\ttraining_cohort\tcalibration"
    )?;
    let list = |v: &[String]| {
        if v.is_empty() {
            ".".to_string()
        } else {
            v.join(",")
        }
    };
    let mut results = Vec::new();
    for ((s, p), prob) in fv.samples.iter().zip(plans).zip(probs) {
        let m = &models[p.model];
        writeln!(
            out,
            "{s}\t{}\t{}\t{prob}\t{}\t{}\t{}\t{}\t{}\t{}",
            sc.trait_.name,
            sc.trait_.horizon,
            m.name,
            m.sha256,
            list(&p.used),
            list(&p.missing),
            sc.training.cohort.replace('\t', " "),
            calibration_text(&m.calibration).replace('\t', " ")
        )?;
        results.push(RiskResult {
            sample: s.clone(),
            probability: prob,
            plan: p,
        });
    }
    out.commit()?;
    log::info!(
        "risk of {} for {} sample(s) with {} -> {}",
        sc.trait_.name,
        results.len(),
        sc.name,
        out_path.display()
    );
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feature(name: &str, action: &str) -> serde_json::Value {
        let missing = match action {
            "impute" => serde_json::json!({"action": "impute", "value": 2.0}),
            a => serde_json::json!({ "action": a }),
        };
        serde_json::json!({"name": name, "source": "covariate", "column": name,
                           "center": 1.0, "scale": 2.0, "missing": missing})
    }

    fn calibration() -> serde_json::Value {
        serde_json::json!({"data": "d", "n": 10, "cases": 2, "auc": 0.7, "slope": 1.0,
                           "intercept": 0.0, "caveat": "c"})
    }

    fn sidecar(features: Vec<serde_json::Value>, subs: Vec<(&str, Vec<&str>)>) -> RiskSidecar {
        let subs: Vec<serde_json::Value> = subs
            .into_iter()
            .map(|(n, f)| {
                serde_json::json!({"name": n, "file": "x.onnx", "sha256": "00",
                                   "features": f, "calibration": calibration()})
            })
            .collect();
        let v = serde_json::json!({
            "format": SIDECAR_FORMAT, "format_version": 1, "name": "m", "sha256": "00",
            "trait": {"id": "t", "name": "T", "horizon": "10 years"},
            "features": features, "submodels": subs,
            "training": {"cohort": "c"}, "calibration": calibration()
        });
        let s: RiskSidecar = serde_json::from_value(v).unwrap();
        s.check().unwrap();
        s
    }

    fn runnables(sc: &RiskSidecar) -> Vec<Runnable> {
        let idx = |n: &String| sc.features.iter().position(|f| &f.name == n).unwrap();
        let mut v = vec![Runnable {
            name: sc.name.clone(),
            path: PathBuf::new(),
            sha256: String::new(),
            features: (0..sc.features.len()).collect(),
            calibration: sc.calibration.clone(),
        }];
        for m in &sc.submodels {
            v.push(Runnable {
                name: m.name.clone(),
                path: PathBuf::new(),
                sha256: String::new(),
                features: m.features.iter().map(idx).collect(),
                calibration: m.calibration.clone(),
            });
        }
        v
    }

    #[test]
    fn scaling_imputation_and_refusal() {
        let sc = sidecar(vec![feature("a", "impute"), feature("b", "refuse")], vec![]);
        let m = runnables(&sc);
        let p = plan(&sc, &m, &[Some(5.0), Some(3.0)]).unwrap();
        assert_eq!((p.model, p.input.clone()), (0, vec![2.0, 1.0]));
        assert_eq!(p.used, ["a", "b"]);
        // a imputed with its raw value 2 → (2 − 1) / 2.
        let p = plan(&sc, &m, &[None, Some(3.0)]).unwrap();
        assert_eq!(p.input, vec![0.5, 1.0]);
        assert_eq!(p.missing, ["a:imputed=2"]);
        let e = plan(&sc, &m, &[Some(5.0), None]).unwrap_err();
        assert!(e.contains("b is missing") && e.contains("refuses"), "{e}");
    }

    #[test]
    fn submodel_fallback_picks_the_first_that_does_without() {
        let sc = sidecar(
            vec![
                feature("p", "submodel"),
                feature("q", "submodel"),
                feature("c", "impute"),
            ],
            vec![("no_p", vec!["q", "c"]), ("c_only", vec!["c"])],
        );
        let m = runnables(&sc);
        let p = plan(&sc, &m, &[None, Some(3.0), Some(1.0)]).unwrap();
        assert_eq!(p.model, 1);
        assert_eq!(p.input, vec![1.0, 0.0]);
        assert_eq!(p.missing, ["p:submodel"]);
        let p = plan(&sc, &m, &[None, None, None]).unwrap();
        assert_eq!(p.model, 2);
        assert_eq!(p.missing, ["p:submodel", "q:submodel", "c:imputed=2"]);
        // Only q missing: no_p takes q, so c_only runs.
        assert_eq!(
            plan(&sc, &m, &[Some(1.0), None, Some(1.0)]).unwrap().model,
            2
        );
        let sc = sidecar(
            vec![feature("p", "submodel"), feature("c", "impute")],
            vec![("needs_p", vec!["p"])],
        );
        let e = plan(&sc, &runnables(&sc), &[None, Some(1.0)]).unwrap_err();
        assert!(e.contains("no sub-model"), "{e}");
    }

    #[test]
    fn sidecar_faults_are_refused() {
        let base = |f: serde_json::Value| {
            serde_json::json!({
                "format": SIDECAR_FORMAT, "format_version": 1, "name": "m", "sha256": "00",
                "trait": {"id": "t", "name": "T", "horizon": "h"}, "features": [f],
                "training": {"cohort": "c"}, "calibration": calibration()
            })
        };
        let check = |v: serde_json::Value| -> String {
            match serde_json::from_value::<RiskSidecar>(v) {
                Err(e) => e.to_string(),
                Ok(s) => s
                    .check()
                    .map(|_| "ok".into())
                    .unwrap_or_else(|e| format!("{e:#}")),
            }
        };
        let ok = feature("a", "refuse");
        assert_eq!(check(base(ok.clone())), "ok");
        let mut no_score = serde_json::json!({"name": "p", "source": "prs", "value": "SUM",
                                               "missing": {"action": "refuse"}});
        assert!(check(base(no_score.clone())).contains("needs score_id"));
        no_score["score_id"] = "PGS1".into();
        no_score["value"] = "MEAN".into();
        assert!(check(base(no_score)).contains("SUM, AVG or Z"));
        let mut wrong_key = ok.clone();
        wrong_key["gene"] = "G".into();
        assert!(check(base(wrong_key)).contains("does not apply"));
        let mut zero = ok.clone();
        zero["scale"] = 0.0.into();
        assert!(check(base(zero)).contains("non-zero"));
        let mut typo = ok.clone();
        typo["scael"] = 1.0.into();
        assert!(check(base(typo)).contains("unknown field"));
        assert!(check(base(feature("a", "submodel"))).contains("no submodels"));
        let mut v = base(ok);
        v["format_version"] = 2.into();
        assert!(check(v).contains("version"));
    }
}
