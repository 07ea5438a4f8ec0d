//! Thin entry point: parse flags, set up logging, run, map errors to exit codes.
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = varstream::cli::Cli::parse();
    varstream::cli::init_logging(cli.verbose, cli.quiet);
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
            eprintln!("varstream: error: {err:#}");
            // Input errors exit 1 (nf-core retries 130-145, which must not mean "bad input").
            ExitCode::from(1)
        }
    }
}
