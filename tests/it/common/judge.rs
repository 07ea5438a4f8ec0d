//! Judging a finished run as the exit policy has it (docs/errors.md): its status, its last
//! stderr line, what it left in the output folder.
use std::path::{Path, PathBuf};
use std::process::Output;

/// The input or the command line is wrong.
pub const INPUT: i32 = 2;
/// Any other failure.
pub const OTHER: i32 = 1;

/// The status as a shell reports it: the exit code, or 128 + the signal that ended the process.
pub fn shell_status(st: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0))
}

pub fn stderr_text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn last_line(err: &str) -> String {
    err.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_string()
}

/// A failed run as the policy has it: status one of `codes`, no panic, and a last stderr
/// line `varstream: error: ...` that contains each of `needles`. Returns that line.
#[track_caller]
pub fn assert_fails(out: &Output, codes: &[i32], needles: &[&str]) -> String {
    let err = stderr_text(out);
    let status = shell_status(out.status);
    assert!(
        !err.contains("panicked"),
        "varstream panicked (status {status}):\n{err}"
    );
    assert!(
        codes.contains(&status),
        "exit status {status}, want {codes:?}; stderr:\n{err}"
    );
    let last = last_line(&err);
    assert!(
        last.starts_with("varstream: error:"),
        "the last stderr line must start with `varstream: error:`; stderr:\n{err}"
    );
    for n in needles {
        assert!(
            last.contains(n),
            "the error line should contain {n:?}:\n{last}"
        );
    }
    eprintln!("status {status}: {last}");
    last
}

/// The error line contains at least one of `any` (e.g. either of two files that disagree).
#[track_caller]
pub fn assert_names_any(last: &str, any: &[&str]) {
    assert!(
        any.iter().any(|n| last.contains(n)),
        "the error line should name one of {any:?}:\n{last}"
    );
}

/// The error line names `file` and its line `line` (as `file:line` or `line N`).
#[track_caller]
pub fn assert_names_line(last: &str, file: &str, line: usize) {
    assert!(
        last.contains(file),
        "the error line should name {file}:\n{last}"
    );
    assert!(
        last.contains(&format!("{file}:{line}")) || last.contains(&format!("line {line}")),
        "the error line should name line {line} of {file}:\n{last}"
    );
}

/// A run that succeeded (exit 0, no panic), showing its stderr when it did not.
#[track_caller]
pub fn assert_ok(out: &Output) {
    let err = stderr_text(out);
    assert!(!err.contains("panicked"), "varstream panicked:\n{err}");
    assert_eq!(shell_status(out.status), 0, "stderr:\n{err}");
}

/// A fresh, empty output folder `name` in `parent`.
pub fn out_dir(parent: &Path, name: &str) -> PathBuf {
    let d = parent.join(name);
    std::fs::create_dir(&d).unwrap();
    d
}

pub fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Nothing at all is left in the output folder: no output, no index, no temporary.
#[track_caller]
pub fn assert_empty(dir: &Path) {
    let left = entries(dir);
    assert!(
        left.is_empty(),
        "a failed run left files in {}: {left:?}",
        dir.display()
    );
}
