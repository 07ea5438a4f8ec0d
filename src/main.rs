//! Thin entry point: parse flags, set up logging and signals, run, map errors to exit codes
//! (the policy is in `varstream::errors`).
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = varstream::cli::Cli::parse();
    varstream::cli::init_logging(cli.verbose, cli.quiet);
    if let Err(e) = varstream::output::install_signal_handlers() {
        eprintln!("varstream: error: {e:#}");
        return ExitCode::from(varstream::errors::EXIT_FAILURE);
    }
    match cli.command.run() {
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
