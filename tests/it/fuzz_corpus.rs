//! Replays every committed fuzz corpus file (`fuzz/corpus/TARGET/*`) through the harness the
//! cargo-fuzz targets run (`fuzz/harness.rs`), on the stable toolchain and without a
//! sanitizer, so that inputs which once crashed a parser stay fixed. A harness must return
//! normally on every input: bad input is an error, never a panic, abort or crash.
//!
//! Under `cargo test --release` integer overflow wraps instead of panicking, so an overflow
//! input only fails here in a debug build (and under `cargo fuzz`, which keeps debug
//! assertions). Add a file to `fuzz/corpus/TARGET/` to keep any input checked.
use std::path::{Path, PathBuf};

#[path = "../../fuzz/harness.rs"]
mod harness;

fn corpus_files(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("no corpus {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    files
}

fn replay(target: &str) {
    let (_, run) = harness::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no harness {target}"));
    let mut failed = Vec::new();
    let files = corpus_files(target);
    for file in &files {
        let data = std::fs::read(file).unwrap();
        if std::panic::catch_unwind(|| run(&data)).is_err() {
            failed.push(file.display().to_string());
        }
    }
    harness::remove_scratch();
    assert!(
        failed.is_empty(),
        "{target}: {} of {} corpus files panicked:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}

macro_rules! corpus_tests {
    ($($target:ident),* $(,)?) => {
        $(
            #[test]
            fn $target() {
                replay(stringify!($target));
            }
        )*

        /// Every harness has a test above, a fuzz target and a corpus.
        #[test]
        fn every_target_is_replayed() {
            let tested = [$(stringify!($target)),*];
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
            for (name, _) in harness::TARGETS {
                assert!(tested.contains(name), "no replay test for {name}");
                assert!(
                    root.join("fuzz_targets").join(format!("{name}.rs")).is_file(),
                    "no fuzz target for {name}"
                );
                assert!(root.join("corpus").join(name).is_dir(), "no corpus for {name}");
            }
            assert_eq!(tested.len(), harness::TARGETS.len());
        }
    };
}

corpus_tests!(
    regions,
    pgs_file,
    prs_reference,
    expression,
    model_sidecar,
    effects_sidecar,
    targets,
    vcf_genotypes,
    report,
    eval_calls,
    bam_record,
);
