//! One exit-status policy for every subcommand.
//!
//! - 0: success.
//! - 2: the input or the command line is wrong, so retrying will not help: a missing or
//!   malformed file, a contig mismatch, zero callable bases, mixed samples without `--sample`,
//!   non-finite numbers, an output path that names an input. Marked with [`InputError`].
//! - 3: the run worked but had nothing to work on: reads were seen in the called regions and
//!   none could be used (all unmapped, duplicates, under `--min-mapq`, ...). No output is
//!   written; the message gives the counts by reason. Marked with [`NothingUsable`]. A
//!   workflow that calls regions where this is expected (all reads MAPQ 0 in a repeat) can
//!   accept 3 for that step.
//! - 1: any other failure (I/O such as a full disk, memory, a library error).
//! - 130 / 143: interrupted by SIGINT / SIGTERM (see [`crate::output::install_signal_handlers`]).
//!
//! Workflow engines retry 1 and 130-145 (nf-core's default `errorStrategy` retries 130-145);
//! 2 tells them that the inputs must change first.
use std::fmt;

/// Exit status for bad input or a bad command line.
pub const EXIT_INPUT: u8 = 2;
/// Exit status for any other failure.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for a run that saw reads but could use none of them.
pub const EXIT_NOTHING_USABLE: u8 = 3;

/// Marks an error as "input was seen but none of it was usable" (exit 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NothingUsable(pub String);

/// Marks an error as the user's input being wrong (exit 2). The message is the whole error
/// chain on one line, so adding context above it keeps the cause.
#[derive(Debug, thiserror::Error)]
pub struct InputError(String);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An [`InputError`] with this message.
pub fn input_error(msg: impl fmt::Display) -> anyhow::Error {
    anyhow::Error::new(InputError(one_line(&msg.to_string())))
}

/// Mark an existing error (and its causes) as bad input.
pub fn as_input(err: anyhow::Error) -> anyhow::Error {
    if is_input(&err) {
        return err;
    }
    input_error(format!("{err:#}"))
}

/// Return early with an [`InputError`], formatted like `anyhow::bail!`.
#[macro_export]
macro_rules! bail_input {
    ($($arg:tt)*) => {
        return Err($crate::errors::input_error(format!($($arg)*)))
    };
}

/// `.bad_input()` on results: the error, whatever it is, means the input is wrong.
pub trait BadInput<T> {
    /// Mark the error as bad input (exit 2).
    fn bad_input(self) -> anyhow::Result<T>;
}

impl<T, E: Into<anyhow::Error>> BadInput<T> for Result<T, E> {
    fn bad_input(self) -> anyhow::Result<T> {
        self.map_err(|e| as_input(e.into()))
    }
}

/// Whether any error in the chain is an [`InputError`].
pub fn is_input(err: &anyhow::Error) -> bool {
    err.chain().any(|c| c.is::<InputError>())
}

/// The exit status for a failed run.
pub fn exit_status(err: &anyhow::Error) -> u8 {
    if err.chain().any(|c| c.is::<NothingUsable>()) {
        EXIT_NOTHING_USABLE
    } else if is_input(err) {
        EXIT_INPUT
    } else {
        EXIT_FAILURE
    }
}

/// Messages are one line: logs and workflow engines show the last line of stderr.
pub fn one_line(s: &str) -> String {
    if !s.contains(['\n', '\r']) {
        return s.to_string();
    }
    s.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn test_input_errors_keep_their_status_under_context() {
        let e: anyhow::Result<()> = Err(input_error("bad.bed line 3: end before start"));
        let e = e.context("while calling chr1:1-100").unwrap_err();
        assert_eq!(exit_status(&e), EXIT_INPUT);
        assert_eq!(
            format!("{e:#}"),
            "while calling chr1:1-100: bad.bed line 3: end before start"
        );
        let io: anyhow::Result<()> = Err(anyhow::anyhow!("No space left on device"));
        assert_eq!(exit_status(&io.unwrap_err()), EXIT_FAILURE);
    }

    #[test]
    fn test_bad_input_marks_any_error_and_joins_lines() {
        let r: Result<(), std::io::Error> = Err(std::io::Error::other("a\nb"));
        let e = r.bad_input().unwrap_err();
        assert!(is_input(&e));
        assert_eq!(e.to_string(), "a b");
    }
}
