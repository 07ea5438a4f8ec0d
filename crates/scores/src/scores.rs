//! Downstream per-sample scores (polygenic risk, predicted expression, variant effects) and
//! the risk of a trait that a learned model computes from them.
//!
//! Every scorer reads any VCF/BCF (ours or another caller's) through [`vcf_genotypes`], so the
//! genotype and chromosome-name conventions are the same for all three. Semantics are
//! documented in `docs/scores.md`; keep that file in step with the code.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub mod effects;
pub mod expression;
pub mod pgs_file;
pub mod prs;
pub mod risk;
pub mod targets;
pub use crate::vcf_genotypes;

/// `varstream score ...` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ScoreCommand {
    /// Polygenic risk scores from PGS Catalog scoring files (pgsc_calc-style matching).
    Prs(prs::PrsArgs),
    /// Predicted gene expression from PredictDB/PrediXcan SQLite weight databases.
    Expression(expression::ExpressionArgs),
    /// Per-variant effects on a sequence model's predicted tracks (ONNX model + JSON sidecar).
    Effects(effects::EffectsArgs),
    /// Probability of a trait from the scores above and covariates, through a risk model
    /// (ONNX + JSON sidecar contract).
    Risk(risk::RiskArgs),
}

impl ScoreCommand {
    /// Run the chosen scoring subcommand.
    pub fn run(self) -> Result<()> {
        match self {
            ScoreCommand::Prs(a) => prs::run(&a).map(|_| ()),
            ScoreCommand::Expression(a) => expression::run(&a),
            ScoreCommand::Effects(a) => effects::run(&a),
            ScoreCommand::Risk(a) => risk::run(&a).map(|_| ()),
        }
    }
}

/// Scores requested on `varstream call`, run on the finished VCF.
#[derive(Debug, Default)]
pub struct AfterCall {
    /// PGS Catalog scoring files.
    pgs: Vec<PathBuf>,
    /// Their reference distribution, for Z and percentile.
    pgs_reference: Option<PathBuf>,
    /// PredictDB SQLite weight databases.
    weights: Vec<PathBuf>,
    /// `pgs` and `pgs_reference`, read (before calling, so a bad one fails first): only
    /// [`AfterCall::read`] makes them, so they always match the paths.
    pgs_read: Option<prs::PrsInputs>,
    /// `weights`, read.
    weights_read: Vec<expression::Model>,
}

impl AfterCall {
    /// Read every input now: the outputs are checked by the caller, with the VCF's.
    pub fn read(
        pgs: Vec<PathBuf>,
        pgs_reference: Option<PathBuf>,
        weights: Vec<PathBuf>,
    ) -> Result<Self> {
        let pgs_read = if pgs.is_empty() {
            None
        } else {
            Some(prs::PrsInputs::read(&pgs, pgs_reference.as_deref())?)
        };
        let weights_read = weights
            .iter()
            .map(|p| crate::errors::BadInput::bad_input(expression::Model::read(p)))
            .collect::<Result<_>>()?;
        Ok(Self {
            pgs,
            pgs_reference,
            weights,
            pgs_read,
            weights_read,
        })
    }
}

/// Suffix of `score prs`'s score table after the output prefix.
pub const PRS_TABLE: &str = ".prs.tsv";
/// Suffix of `score expression`'s table after the output prefix.
pub const EXPRESSION_TABLE: &str = ".expression.tsv";

/// Score tables written by [`score_after_call`].
#[derive(Debug, Default, Clone)]
pub struct AfterCallTables {
    /// `PREFIX.prs.tsv`, when scoring files were given.
    pub prs: Option<PathBuf>,
    /// `PREFIX.expression.tsv`, when weight databases were given.
    pub expression: Option<PathBuf>,
}

/// Run the scores requested on `varstream call` against its finished VCF, with the same
/// defaults as `varstream score prs` / `score expression` (outputs `PREFIX.prs.tsv`,
/// `PREFIX.prs_matches.tsv.gz`, `PREFIX.expression.tsv`).
pub fn score_after_call(vcf: &Path, prefix: &Path, req: AfterCall) -> Result<AfterCallTables> {
    let mut tables = AfterCallTables::default();
    if let Some(read) = req.pgs_read {
        let mut args = prs::PrsArgs::defaults(vcf, &req.pgs, prefix);
        args.reference_distribution = req.pgs_reference.clone();
        prs::score(&args, read).context("polygenic scores after calling")?;
        tables.prs = Some(prefixed(prefix, PRS_TABLE));
    }
    if !req.weights.is_empty() {
        let args = expression::ExpressionArgs::defaults(vcf, &req.weights, prefix);
        expression::score(&args, &req.weights_read)
            .context("predicted expression after calling")?;
        tables.expression = Some(prefixed(prefix, EXPRESSION_TABLE));
    }
    Ok(tables)
}

pub use crate::contig_names::chrom_key;

pub use crate::output::prefixed;

/// Create an output file, gzip-compressed when the name ends in `.gz`, under a temporary
/// name: call [`crate::output::OutputFile::commit`] when it is complete.
pub fn create_output(path: &Path) -> Result<crate::output::OutputFile> {
    crate::output::OutputFile::create(path)
}

/// Open a whole text input (plain, gzip or bgzip); see [`crate::input::open_text`].
pub fn open_text(path: &Path) -> Result<Box<dyn std::io::BufRead>> {
    crate::input::open_text(path, "file")
}

/// Format a float for TSV output: full round-trip precision, `NA` for non-finite values.
pub fn fmt_f64(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        "NA".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chromosome_names_are_normalised() {
        assert_eq!(chrom_key("chr11"), "11");
        assert_eq!(chrom_key("11"), "11");
        assert_eq!(chrom_key("chrX"), "X");
        assert_eq!(chrom_key("chrM"), "MT");
        assert_eq!(chrom_key("MT"), "MT");
        assert_eq!(chrom_key("c\u{e9}1"), "C\u{e9}1");
        assert_eq!(chrom_key("\u{e9}\u{e9}"), "\u{e9}\u{e9}");
    }

    #[test]
    fn prefix_keeps_dots() {
        assert_eq!(
            prefixed(Path::new("out/s1.v2"), ".prs.tsv"),
            PathBuf::from("out/s1.v2.prs.tsv")
        );
    }
}
