//! Thin entry point: parse flags, set up logging and signals, run, map errors to exit codes
//! (the policy is in `varstream::errors`).
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // A bad command line is one line on stderr and exit 2, like every other bad input
    // (clap's own report ends with a "try --help" line that logs would show instead).
    let cli = match varstream::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            // The message is the text before clap's usage block, on one line.
            let text = e.render().to_string();
            let msg: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.is_empty() && !l.starts_with("Usage:"))
                .collect();
            let msg = msg.join(" ");
            eprintln!(
                "varstream: error: {} (see --help)",
                msg.strip_prefix("error: ").unwrap_or(&msg)
            );
            return ExitCode::from(varstream::errors::EXIT_INPUT);
        }
    };
    init_logging(cli.verbose, cli.quiet);
    if let Err(e) = varstream::output::install_signal_handlers() {
        eprintln!("varstream: error: {e:#}");
        return ExitCode::from(varstream::errors::EXIT_FAILURE);
    }
    let run =
        varstream::settings::Settings::from_cli(cli.command).and_then(varstream::commands::run);
    match run {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // A closed stdout (e.g. `| head`) is not a failure.
            if err.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            let msg = varstream::errors::one_line(&format!("{err:#}"));
            eprintln!("varstream: error: {msg}");
            ExitCode::from(varstream::errors::exit_status(&err))
        }
    }
}

/// Logging to stderr; RUST_LOG overrides the level chosen by flags.
fn init_logging(verbose: u8, quiet: bool) {
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
