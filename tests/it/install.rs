//! The binary as a user installs it (`cargo install --locked --path .`, `make install`): copied
//! out of the checkout into a bare prefix, run from another folder with no ONNX Runtime
//! variables, it finds the library by each documented route, and with none it exits 1 saying
//! what to run. Also: `--version` names the commit, as the VCF header and the report do.
use crate::common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A copy of the binary at `PREFIX/bin/varstream` in a temporary folder outside the
/// repository, an empty home, an empty working folder and a `PATH` with nothing on it.
struct Installed {
    dir: tempfile::TempDir,
    exe: PathBuf,
}

impl Installed {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for d in ["prefix/bin", "prefix/lib", "home", "work", "empty-path"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let exe = dir.path().join("prefix/bin/varstream");
        std::fs::copy(env!("CARGO_BIN_EXE_varstream"), &exe).unwrap();
        Installed { dir, exe }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// Run it with only HOME and PATH set (no ORT_DYLIB_PATH, VIRTUAL_ENV, ...), from the
    /// empty working folder. `path` is PATH (the empty folder when None).
    fn run(&self, args: &[&str], path: Option<&Path>) -> Output {
        Command::new(&self.exe)
            .args(args)
            .current_dir(self.path("work"))
            .env_clear()
            .env("HOME", self.path("home"))
            .env(
                "PATH",
                path.map_or(self.path("empty-path"), Path::to_path_buf),
            )
            .output()
            .expect("cannot start the installed varstream")
    }

    /// `call` on the small fixture, writing `work/NAME`.
    fn call(&self, fx: &Fixture, name: &str, path: Option<&Path>) -> (Output, PathBuf) {
        let vcf = self.path("work").join(name);
        let out = self.run(
            &[
                "call",
                "--ref",
                fx.fasta.to_str().unwrap(),
                "--reads",
                fx.bam.to_str().unwrap(),
                "--output",
                vcf.to_str().unwrap(),
                "--report",
            ],
            path,
        );
        (out, vcf)
    }
}

/// The library the test process itself finds (the checkout's .venv under `make test`).
fn checkout_library() -> Option<PathBuf> {
    if !require_ort() {
        return None;
    }
    Some(varstream::inference::locate_onnxruntime().unwrap())
}

fn link(target: &Path, link: &Path) {
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, link).unwrap();
}

fn version_of(inst: &Installed) -> String {
    let out = inst.run(&["--version"], None);
    assert_ok(&out);
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

// `make install` puts the library in PREFIX/lib: found from PREFIX/bin/varstream, and the
// VCF header and the report carry `--version`'s string.
#[test]
fn installed_binary_finds_the_library_in_prefix_lib() {
    let Some(lib) = checkout_library() else {
        return;
    };
    let inst = Installed::new();
    link(&lib, &inst.path("prefix/lib/libonnxruntime.so.1.31.1"));
    let fx = build(true);
    let (out, vcf) = inst.call(&fx, "o.vcf.gz", None);
    assert_ok(&out);
    assert!(vcf.exists());

    let version = version_of(&inst);
    let source = format!("##source={version}");
    let header = {
        use std::io::Read;
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(std::fs::File::open(&vcf).unwrap())
            .read_to_string(&mut s)
            .unwrap();
        s
    };
    assert!(
        header.lines().any(|l| l == source),
        "no `{source}` in the VCF header"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(inst.path("work/o.report.json")).unwrap())
            .unwrap();
    assert_eq!(report["generated_by"], version.as_str());
    assert_eq!(report["provenance"]["source"], version.as_str());
}

// The install hint's own route: `python3 -m venv ~/.venv && ~/.venv/bin/pip install ...`.
#[test]
fn installed_binary_finds_the_library_in_a_home_venv() {
    let Some(lib) = checkout_library() else {
        return;
    };
    let inst = Installed::new();
    link(
        &lib,
        &inst.path(
            "home/.venv/lib/python3.11/site-packages/onnxruntime/capi/libonnxruntime.so.1.31.1",
        ),
    );
    let fx = build(true);
    let (out, vcf) = inst.call(&fx, "o.vcf.gz", None);
    assert_ok(&out);
    assert!(vcf.exists());
}

// Any Python environment: the `onnxruntime` package that `python3` on PATH imports (here the
// checkout's .venv/bin, as an activated venv or conda would put it on PATH).
#[test]
fn installed_binary_finds_python3s_onnxruntime() {
    let Some(lib) = checkout_library() else {
        return;
    };
    // .../VENV/lib/python3.X/site-packages/onnxruntime/capi/libonnxruntime.so.1.31.1
    let venv_bin = lib.ancestors().nth(6).map(|v| v.join("bin"));
    let Some(venv_bin) = venv_bin.filter(|b| b.join("python3").exists()) else {
        assert!(!ci(), "{} is not inside a venv with python3", lib.display());
        eprintln!("SKIP: {} is not inside a venv with python3", lib.display());
        return;
    };
    let inst = Installed::new();
    let fx = build(true);
    let (out, vcf) = inst.call(&fx, "o.vcf.gz", Some(&venv_bin));
    assert_ok(&out);
    assert!(vcf.exists());
}

// Nowhere to be found: exit 1, no VCF, and a last line that says what to run.
#[test]
fn installed_binary_without_the_library_says_what_to_run() {
    let inst = Installed::new();
    let fx = build(true);
    let (out, vcf) = inst.call(&fx, "o.vcf.gz", None);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(!vcf.exists());
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.trim_end().lines().last().unwrap_or_default();
    for want in [
        "varstream: error: ONNX Runtime library (libonnxruntime.so.1.31.1) not found",
        "`python3 -m venv ~/.venv && ~/.venv/bin/pip install onnxruntime==1.31.1`",
        &format!(
            "copy libonnxruntime.so.1.31.1 into {}",
            inst.path("prefix/lib").display()
        ),
        "ORT_DYLIB_PATH",
    ] {
        assert!(last.contains(want), "`{want}` not in the last line: {last}");
    }
    // A checkout's own binary is told to run `make setup` there instead.
    assert!(!last.contains("make setup"), "{last}");
}

// `--version`: the package version, the commit it was built from and its date.
#[test]
fn version_names_the_commit() {
    let inst = Installed::new();
    let version = version_of(&inst);
    let pkg = env!("CARGO_PKG_VERSION");
    let rest = version
        .strip_prefix(&format!("varstream {pkg} ("))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("unexpected --version: {version}"));
    let root = env!("CARGO_MANIFEST_DIR");
    let head = Command::new("git")
        .args(["-C", root, "rev-parse", "--short=7", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success());
    match head {
        Some(h) => {
            let commit = String::from_utf8(h.stdout).unwrap().trim().to_string();
            let (described, date) = rest.split_once(", ").unwrap();
            assert!(
                described == commit || described == format!("{commit}-dirty"),
                "--version says {described}, HEAD is {commit}"
            );
            assert!(
                date.len() == 10 && date.chars().filter(|c| *c == '-').count() == 2,
                "{date}"
            );
        }
        // Built from a tarball or without git.
        None => assert_eq!(rest, "no git commit"),
    }
}
