//! `varstream score expression`: PrediXcan predicted expression from PredictDB SQLite models.
//!
//! predicted = Σ weight × (copies of eff_allele), the PrediXcan formula; alleles are taken as
//! written in the database (no strand flipping), as PrediXcan does, because PredictDB models
//! are built on the same strand as the reference the VCF is called against.
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::errors::BadInput;
use anyhow::{bail, Context, Result};
use rusqlite::{Connection, OpenFlags};

use super::vcf_genotypes::{self, allele_count, GenotypedSite};
use super::{chrom_key, create_output, fmt_f64, prefixed};

/// What a missing genotype contributes to a gene's prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Missing {
    /// Contributes nothing and is not counted in n_snps_used.
    #[default]
    Skip,
    /// The mean effect-allele dosage of the samples called at that variant.
    Mean,
    /// PrediXcan's Predict.py: a missing genotype is 0 ALT copies (so 2 copies of eff_allele
    /// when eff_allele is REF), counted as used.
    Predixcan,
}

/// How weight rows find their VCF record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum MatchBy {
    /// varID (`chr_pos_ref_alt[_build]`) when it parses, else rsID.
    #[default]
    Auto,
    /// Chromosome and position from varID.
    Varid,
    /// The VCF ID column equals the rsid column.
    Rsid,
}

/// `varstream score expression` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct ExpressionArgs {
    /// VCF/BCF with genotypes (GT), any number of samples.
    #[arg(long)]
    pub vcf: PathBuf,
    /// PredictDB SQLite model(s) (tables `weights` and `extra`).
    #[arg(long, num_args = 1.., required = true)]
    pub weights: Vec<PathBuf>,
    /// Output prefix: writes PREFIX.expression.tsv.
    #[arg(long)]
    pub output: PathBuf,
    /// Missing-genotype handling.
    #[arg(long, value_enum, default_value_t = Missing::Skip)]
    pub missing: Missing,
    /// How model variants are found in the VCF.
    #[arg(long, value_enum, default_value_t = MatchBy::Auto)]
    pub match_by: MatchBy,
}

impl ExpressionArgs {
    /// The defaults `varstream call --weights` uses.
    pub fn defaults(vcf: &Path, weights: &[PathBuf], output: &Path) -> Self {
        Self {
            vcf: vcf.to_path_buf(),
            weights: weights.to_vec(),
            output: output.to_path_buf(),
            missing: Missing::Skip,
            match_by: MatchBy::Auto,
        }
    }
}

/// One row of the `weights` table.
#[derive(Debug, Clone)]
pub struct Weight {
    /// Gene id.
    pub gene: String,
    /// rsID (may be empty).
    pub rsid: String,
    /// `chr_pos_ref_alt_b38`-style id.
    pub var_id: String,
    /// Non-effect allele.
    pub ref_allele: String,
    /// Allele whose copies are weighted.
    pub eff_allele: String,
    /// Weight.
    pub weight: f64,
}

/// Per-gene metadata from `extra`.
#[derive(Debug, Clone, Default)]
pub struct GeneInfo {
    /// Gene symbol.
    pub genename: String,
    /// `n.snps.in.model`.
    pub n_snps_in_model: Option<i64>,
    /// `pred.perf.R2`.
    pub r2: Option<f64>,
}

/// A PredictDB model read into memory.
#[derive(Debug, Clone)]
pub struct Model {
    /// Name used in the output: the database file name without `.db`.
    pub name: String,
    /// Weight rows, in table order.
    pub weights: Vec<Weight>,
    /// `extra` rows by gene.
    pub genes: HashMap<String, GeneInfo>,
}

/// Parse `chr_pos_ref_alt[_build]` into (chrom key, pos).
pub fn parse_var_id(v: &str) -> Option<(String, u64)> {
    let parts: Vec<&str> = v.split(['_', ':']).collect();
    if parts.len() < 4 {
        return None;
    }
    Some((chrom_key(parts[0]), parts[1].parse().ok()?))
}

impl Model {
    /// Read a PredictDB database (opened read-only).
    pub fn read(path: &Path) -> Result<Self> {
        let name_s = path.display().to_string();
        if !path.is_file() {
            bail!("weights database {name_s} does not exist");
        }
        let db = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .with_context(|| format!("cannot open SQLite database {name_s}"))?;
        let mut stmt = db
            .prepare("SELECT gene, rsid, varID, ref_allele, eff_allele, weight FROM weights")
            .with_context(|| format!("{name_s}: no PredictDB `weights` table with columns gene, rsid, varID, ref_allele, eff_allele, weight"))?;
        let text = |r: &rusqlite::Row, i: usize| -> rusqlite::Result<String> {
            Ok(r.get::<_, Option<String>>(i)?.unwrap_or_default())
        };
        let weights = stmt
            .query_map([], |r| {
                Ok(Weight {
                    gene: text(r, 0)?,
                    // GTEx v8 writes `.` (and some builds `NA`) where a variant has no
                    // rsID: no ID, or it would match every VCF record whose ID is `.`.
                    rsid: Some(text(r, 1)?)
                        .filter(|s| s != "." && !s.eq_ignore_ascii_case("NA"))
                        .unwrap_or_default(),
                    var_id: text(r, 2)?,
                    ref_allele: text(r, 3)?.to_ascii_uppercase(),
                    eff_allele: text(r, 4)?.to_ascii_uppercase(),
                    weight: r.get(5)?,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .with_context(|| format!("{name_s}: cannot read the weights table"))?;
        let mut genes = HashMap::new();
        let cols: Vec<String> = db
            .prepare("PRAGMA table_info(extra)")
            .and_then(|mut s| s.query_map([], |r| r.get::<_, String>(1))?.collect())
            .with_context(|| format!("{name_s}: cannot read the extra table's columns"))?;
        if cols.iter().any(|c| c == "gene") {
            let pick = |want: &[&str]| {
                want.iter()
                    .find(|w| cols.iter().any(|c| c == *w))
                    .map(|w| format!("\"{w}\""))
                    .unwrap_or("NULL".into())
            };
            let sql = format!(
                "SELECT gene, {}, {}, {} FROM extra",
                pick(&["genename"]),
                pick(&["n.snps.in.model", "n_snps_in_model"]),
                pick(&["pred.perf.R2", "pred_perf_r2", "R2"])
            );
            let mut s = db
                .prepare(&sql)
                .with_context(|| format!("{name_s}: cannot query extra"))?;
            let rows = s
                .query_map([], |r| {
                    Ok((
                        text(r, 0)?,
                        GeneInfo {
                            genename: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                            n_snps_in_model: r.get(2)?,
                            r2: r.get(3)?,
                        },
                    ))
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .with_context(|| format!("{name_s}: cannot read the extra table"))?;
            genes.extend(rows);
        } else {
            log::warn!(
                "{name_s}: no `extra` table; n_snps_in_model counts weight rows and R2 is NA"
            );
        }
        let name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = name.strip_suffix(".db").unwrap_or(&name).to_string();
        Ok(Self {
            name,
            weights,
            genes,
        })
    }
}

/// One gene's prediction for one sample.
#[derive(Debug, Clone)]
pub struct Prediction {
    /// Sample.
    pub sample: String,
    /// Model name.
    pub model: String,
    /// Gene id.
    pub gene: String,
    /// Predicted expression.
    pub value: f64,
    /// Model variants that contributed for this sample.
    pub n_snps_used: usize,
    /// Model size (`extra`, else weight rows of the gene).
    pub n_snps_in_model: i64,
}

fn locate<'a>(
    w: &Weight,
    by: MatchBy,
    by_locus: &'a HashMap<(String, u64), Vec<GenotypedSite>>,
    by_id: &'a HashMap<String, Vec<GenotypedSite>>,
) -> Option<(&'a GenotypedSite, usize)> {
    let cands: &[GenotypedSite] = match (by, parse_var_id(&w.var_id)) {
        (MatchBy::Varid | MatchBy::Auto, Some(locus)) => {
            by_locus.get(&locus).map(Vec::as_slice).unwrap_or(&[])
        }
        (MatchBy::Varid, None) => &[],
        _ => by_id.get(&w.rsid).map(Vec::as_slice).unwrap_or(&[]),
    };
    cands.iter().find_map(|s| {
        if s.is_reference_only() {
            // A hom-ref site (ALT `.`): eff_allele is REF (index 0), or ref_allele is and no
            // genotype there names eff_allele (0 copies).
            return if s.alleles[0] == w.eff_allele {
                Some((s, 0))
            } else {
                (s.alleles[0] == w.ref_allele).then_some((s, usize::MAX))
            };
        }
        let e = s.alleles.iter().position(|a| *a == w.eff_allele)?;
        let r = s.alleles.iter().position(|a| *a == w.ref_allele)?;
        (e != r).then_some((s, e))
    })
}

/// Predict every gene of `models` for every sample of the VCF.
pub fn predict(
    vcf: &Path,
    models: &[Model],
    missing: Missing,
    by: MatchBy,
) -> Result<Vec<Prediction>> {
    let loci: HashSet<(String, u64)> = models
        .iter()
        .flat_map(|m| &m.weights)
        .filter_map(|w| parse_var_id(&w.var_id))
        .collect();
    let ids: HashSet<&str> = models
        .iter()
        .flat_map(|m| &m.weights)
        .map(|w| w.rsid.as_str())
        .filter(|s| !s.is_empty())
        .collect();
    let mut by_locus: HashMap<(String, u64), Vec<GenotypedSite>> = HashMap::new();
    let mut by_id: HashMap<String, Vec<GenotypedSite>> = HashMap::new();
    let samples = vcf_genotypes::for_each_site(vcf, |s| {
        s.refuse_reference_block(vcf)?;
        let key = (chrom_key(&s.chrom), s.pos);
        if by != MatchBy::Rsid && loci.contains(&key) {
            by_locus.entry(key).or_default().push(s.clone());
        }
        if by != MatchBy::Varid && ids.contains(s.id.as_str()) {
            by_id.entry(s.id.clone()).or_default().push(s.clone());
        }
        Ok(())
    })?;
    let n = samples.len();
    let mut out = Vec::new();
    for model in models {
        let mut order: Vec<&str> = Vec::new();
        let mut acc: HashMap<&str, (Vec<f64>, Vec<usize>, i64)> = HashMap::new();
        let mut found = 0usize;
        for w in &model.weights {
            let e = acc.entry(w.gene.as_str()).or_insert_with(|| {
                order.push(w.gene.as_str());
                (vec![0.0; n], vec![0; n], 0)
            });
            e.2 += 1;
            let Some((site, eff)) = locate(w, by, &by_locus, &by_id) else {
                continue;
            };
            found += 1;
            let doses: Vec<Option<f64>> = site.gts.iter().map(|&g| allele_count(g, eff)).collect();
            let called: Vec<f64> = doses.iter().flatten().copied().collect();
            for (i, d) in doses.iter().enumerate() {
                let d = match (d, missing) {
                    (Some(d), _) => Some(*d),
                    (None, Missing::Skip) => None,
                    (None, Missing::Mean) if called.is_empty() => None,
                    (None, Missing::Mean) => Some(called.iter().sum::<f64>() / called.len() as f64),
                    (None, Missing::Predixcan) => Some(if eff == 0 { 2.0 } else { 0.0 }),
                };
                if let Some(d) = d {
                    e.0[i] += w.weight * d;
                    e.1[i] += 1;
                }
            }
        }
        log::info!(
            "{}: {found}/{} model variants found in {}",
            model.name,
            model.weights.len(),
            vcf.display()
        );
        for (i, sample) in samples.iter().enumerate() {
            for gene in &order {
                let (v, used, rows) = &acc[gene];
                let info = model.genes.get(*gene);
                out.push(Prediction {
                    sample: sample.clone(),
                    model: model.name.clone(),
                    gene: gene.to_string(),
                    value: v[i],
                    n_snps_used: used[i],
                    n_snps_in_model: info.and_then(|g| g.n_snps_in_model).unwrap_or(*rows),
                });
            }
        }
    }
    Ok(out)
}

/// Run `score expression`: write PREFIX.expression.tsv.
pub fn run(args: &ExpressionArgs) -> Result<()> {
    let mut inputs = vec![args.vcf.clone()];
    inputs.extend(args.weights.iter().cloned());
    crate::output::check_outputs(&[prefixed(&args.output, super::EXPRESSION_TABLE)], &inputs)?;
    let models: Vec<Model> = args
        .weights
        .iter()
        .map(|p| Model::read(p).bad_input())
        .collect::<Result<_>>()?;
    score(args, &models)
}

/// [`run`] on databases already read (`call --weights` reads them before calling), its
/// output already checked.
pub fn score(args: &ExpressionArgs, models: &[Model]) -> Result<()> {
    let preds = predict(&args.vcf, &models, args.missing, args.match_by).bad_input()?;
    let path = prefixed(&args.output, super::EXPRESSION_TABLE);
    let mut out = create_output(&path)?;
    writeln!(out, "sample\tmodel\tgene\tgenename\tpredicted_expression\tn_snps_used\tn_snps_in_model\tpred_perf_R2")?;
    let infos: HashMap<&str, &Model> = models.iter().map(|m| (m.name.as_str(), m)).collect();
    for p in &preds {
        let info = infos
            .get(p.model.as_str())
            .and_then(|m| m.genes.get(&p.gene));
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            p.sample,
            p.model,
            p.gene,
            info.map(|g| g.genename.as_str()).unwrap_or(""),
            fmt_f64(p.value),
            p.n_snps_used,
            p.n_snps_in_model,
            info.and_then(|g| g.r2)
                .map(fmt_f64)
                .unwrap_or_else(|| "NA".into())
        )?;
    }
    out.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn var_ids_parse() {
        assert_eq!(
            parse_var_id("chr1_12345_A_G_b38"),
            Some(("1".into(), 12345))
        );
        assert_eq!(parse_var_id("1_12345_A_G"), Some(("1".into(), 12345)));
        assert_eq!(parse_var_id("rs123"), None);
    }
}
