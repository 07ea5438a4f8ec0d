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
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::errors::{input_error, BadInput};
use anyhow::Result;

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

mod sidecar;
pub use sidecar::*;
mod features;
pub use features::*;

#[cfg(test)]
mod tests;
