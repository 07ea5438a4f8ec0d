//! The risk model's sidecar: its features, their sources and missing-value rules, the\nsub-models and their calibration, checked on reading.
use crate::errors::input_error;
use anyhow::{bail, Context, Result};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use super::*;

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
    pub(super) fn table_suffix(self) -> Option<&'static str> {
        match self {
            Source::Prs => Some(crate::scores::PRS_TABLE),
            Source::Expression => Some(crate::scores::EXPRESSION_TABLE),
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

    pub(super) fn check(&self) -> Result<()> {
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
pub(super) fn checked_model_file(path: &Path, sha256: &str) -> Result<()> {
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
