//! Downstream per-sample scores (polygenic risk, predicted expression, variant effects).
use std::path::{Path, PathBuf};

/// `varstream score ...` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ScoreCommand {}

impl ScoreCommand {
    /// Run the chosen scoring subcommand.
    pub fn run(self) -> anyhow::Result<()> {
        match self {}
    }
}

/// Scores requested on `varstream call`, run on the finished VCF.
#[derive(Debug, Default, Clone)]
pub struct AfterCall {
    /// PGS Catalog scoring files.
    pub pgs: Vec<PathBuf>,
    /// PredictDB SQLite weight databases.
    pub weights: Vec<PathBuf>,
}

/// Run the scores requested on `varstream call` against its finished VCF.
pub fn score_after_call(_vcf: &Path, _prefix: &Path, req: &AfterCall) -> anyhow::Result<()> {
    if req.pgs.is_empty() && req.weights.is_empty() {
        return Ok(());
    }
    anyhow::bail!("scores after call are not implemented yet")
}
