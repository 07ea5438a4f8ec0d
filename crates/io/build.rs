//! Names the git commit the binary is built from: sets `VARSTREAM_VERSION` to
//! `0.1.0 (abc1234, 2026-11-29)`, the package version, the short commit, `-dirty` when tracked
//! files differ from it, and the commit's date (not the build's, so one commit gives the same
//! string, and the same VCF header and report bytes, whenever it is built). Outside a git
//! checkout (a source tarball, `cargo package`), or without git, it is `0.1.0 (no git commit)`.
use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    // --no-optional-locks: a build must not rewrite the repository's index.
    let out = Command::new("git")
        .arg("--no-optional-locks")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_string())
}

fn main() {
    let pkg = std::env::var("CARGO_PKG_VERSION").unwrap();
    // This crate lives in crates/io of the workspace; the repository is the workspace's.
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let dir = crate_dir.join("../..");
    println!("cargo:rerun-if-changed=build.rs");
    // A change to the sources can make the tree dirty (or clean again). Changes elsewhere in
    // the tree (README, tests) are seen at the next commit, branch switch or source change.
    for p in ["crates", "src", "models", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", dir.join(p).display());
    }
    // Only this package's own repository counts, not one it was unpacked inside.
    let top = git(&dir, &["rev-parse", "--show-toplevel"]).map(PathBuf::from);
    let ours = match (top.as_deref().map(Path::canonicalize), dir.canonicalize()) {
        (Some(Ok(t)), Ok(d)) => t == d,
        _ => false,
    };
    let described = if ours { describe(&dir) } else { None };
    let version = match &described {
        Some(d) => format!("{pkg} ({d})"),
        None => format!("{pkg} (no git commit)"),
    };
    println!("cargo:rustc-env=VARSTREAM_VERSION={version}");
    // The commit alone, for the report's provenance (empty without one).
    let commit = described
        .as_deref()
        .and_then(|d| d.split(',').next())
        .unwrap_or("");
    println!("cargo:rustc-env=VARSTREAM_GIT_COMMIT={commit}");
}

/// `abc1234[-dirty], YYYY-MM-DD`; also tells cargo which git files show a new commit.
fn describe(dir: &Path) -> Option<String> {
    let commit = git(dir, &["rev-parse", "--short=7", "HEAD"])?;
    let date = git(dir, &["log", "-1", "--format=%cs", "HEAD"])?;
    let dirty = !git(dir, &["status", "--porcelain", "--untracked-files=no"])?.is_empty();
    // A new commit or branch. Not the index: `git status` and `git add` rewrite it, and each
    // rewrite would rebuild the whole crate.
    let mut watch = vec!["HEAD".to_string(), "packed-refs".to_string()];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        watch.push(branch);
    }
    for w in watch {
        if let Some(p) = git(dir, &["rev-parse", "--git-path", &w]) {
            let p = PathBuf::from(p);
            let p = if p.is_absolute() { p } else { dir.join(p) };
            // cargo reruns the script on every build for a watched file that does not exist.
            if p.exists() {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        }
    }
    Some(format!(
        "{commit}{}, {date}",
        if dirty { "-dirty" } else { "" }
    ))
}
