//! Reading the feature values (score tables, covariates) a risk model needs, per sample.
use crate::errors::{input_error, BadInput};
use crate::scores::prefixed;
use anyhow::{bail, Context, Result};
use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};

use super::*;

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
