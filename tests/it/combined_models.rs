//! scripts/combine_models.py (issue 13): graphs of the shipped GRU and v4 load and run in
//! `varstream call`, and the tiers graph's routing is exact at its two extremes: with a
//! threshold above 1 every example goes to v4 (output = the built-in v4's), with 0 every
//! example is settled by the GRU (output = models/varstream-gru-v1.onnx's). Calibration is
//! off in every run: the combined sidecars carry v4's, the GRU's sidecar its own.
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn combine(dir: &Path, mode: &str, threshold: &str) -> PathBuf {
    let out = dir.join(format!("{mode}-{threshold}.onnx"));
    let built = Command::new(repo(".venv/bin/python"))
        .arg(repo("scripts/combine_models.py"))
        .args([mode])
        .arg(repo("models/varstream-gru-v1.onnx"))
        .arg(repo("models/varstream-v4.onnx"))
        .arg(&out)
        .args(["--name", &format!("test-{mode}"), "--threshold", threshold])
        .output()
        .expect("cannot run .venv/bin/python (scripts/setup.sh)");
    assert!(
        built.status.success(),
        "combine_models.py: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    out
}

fn call(fx: &Fixture, model: Option<&Path>, name: &str) -> Vec<String> {
    let vcf = fx.dir.path().join(format!("{name}.vcf.gz"));
    let mut args = vec![
        "call".to_string(),
        "--ref".into(),
        fx.fasta.to_str().unwrap().into(),
        "--reads".into(),
        fx.bam.to_str().unwrap().into(),
        "--output".into(),
        vcf.to_str().unwrap().into(),
        "--no-calibration".into(),
        "--threads".into(),
        "1".into(),
    ];
    if let Some(m) = model {
        args.extend(["--model".into(), m.to_str().unwrap().into()]);
    }
    let out = bin().args(&args).output().unwrap();
    assert_ok(&out);
    vcf_body(&vcf)
}

#[test]
fn combined_graphs_run_and_tiers_route_exactly() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let d = tempfile::tempdir().unwrap();
    let v4 = call(&fx, None, "v4");
    let gru = call(&fx, Some(&repo("models/varstream-gru-v1.onnx")), "gru");
    let all_to_v4 = call(&fx, Some(&combine(d.path(), "tiers", "1.01")), "tiers-none");
    let all_to_gru = call(&fx, Some(&combine(d.path(), "tiers", "0")), "tiers-all");
    assert!(!v4.is_empty());
    // The two networks write different posteriors (QUAL, GQ, PL), so the checks below can tell
    // which one a row went to.
    assert_ne!(gru, v4);
    assert_eq!(all_to_v4, v4, "tiers with threshold 1.01 must be v4");
    assert_eq!(all_to_gru, gru, "tiers with threshold 0 must be the GRU");
    // The shipped threshold and the ensemble: same records as v4 here (40x of clean reads:
    // both networks call the three planted variants with the same genotypes).
    for (mode, th) in [("tiers", "0.99"), ("ensemble", "0.99")] {
        let body = call(&fx, Some(&combine(d.path(), mode, th)), mode);
        let site = |l: &String| l.split('\t').take(5).collect::<Vec<_>>().join("\t");
        let gt = |l: &String| {
            l.split('\t')
                .nth(9)
                .unwrap()
                .split(':')
                .next()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            body.iter().map(site).collect::<Vec<_>>(),
            v4.iter().map(site).collect::<Vec<_>>(),
            "{mode}"
        );
        assert_eq!(
            body.iter().map(gt).collect::<Vec<_>>(),
            v4.iter().map(gt).collect::<Vec<_>>(),
            "{mode}"
        );
    }
}
