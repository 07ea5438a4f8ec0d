//! Reference distributions of scores (`--pgs-reference`): Z and percentile from a mean and SD.
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::path::Path;

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
        let mut lines = crate::scores::open_text(path)?.lines().enumerate();
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

    pub(super) fn get(&self, id: &str) -> Option<&Distribution> {
        self.0.get(id)
    }

    /// The score ids it has distributions for, sorted.
    pub fn ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.0.keys().map(String::as_str).collect();
        ids.sort_unstable();
        ids
    }
}
