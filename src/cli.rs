//! Command-line flags (clap derive). Raw flags only; validation lives with each stage.
use clap::{Parser, Subcommand};

/// varstream: streaming germline small-variant caller.
#[derive(Debug, Parser)]
#[command(name = "varstream", version, about)]
pub struct Cli {
    /// More log output (-v debug, -vv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only warnings and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Per-sample scores from a VCF.
    #[command(subcommand)]
    Score(crate::scores::ScoreCommand),
}

impl Command {
    /// Run the subcommand.
    pub fn run(self) -> anyhow::Result<()> {
        match self {
            Command::Score(c) => c.run(),
        }
    }
}

/// Logging to stderr; RUST_LOG overrides the level chosen by flags.
pub fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "debug",
        _ => "trace",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level))
        .format_timestamp_secs()
        .init();
}
