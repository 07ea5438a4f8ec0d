//! The read tier (issue 25; make-examples' read rows are tested in make_examples.rs):
//! `call --read-model` routes exactly the sites its rule names to the read-tier model and
//! genotypes them from that model's probabilities. Models here are one MatMul
//! (scripts/make_read_tier_test_model.py), so their output is known: "0,1,2" repeats the first
//! tier, "2,1,0" swaps hom_ref and hom_alt.
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn test_model(dir: &Path, order: &str, first_tier_sha: Option<&str>) -> PathBuf {
    let out = dir.join(format!("tier-{}.onnx", order.replace(',', "")));
    let mut cmd = Command::new(repo(".venv/bin/python"));
    cmd.arg(repo("scripts/make_read_tier_test_model.py"))
        .arg(&out)
        .args([
            "--input-len",
            &varstream::read_tensors::TIER_INPUT_LEN.to_string(),
            "--rows-spec",
            &varstream::read_tensors::spec_json().to_string(),
            "--tensor-spec",
            &varstream::tensors::spec_json().to_string(),
            "--order",
            order,
            "--first-tier",
        ])
        .arg(repo("models/varstream-v4.onnx"));
    if let Some(sha) = first_tier_sha {
        cmd.args(["--first-tier-sha", sha]);
    }
    let built = cmd
        .output()
        .expect("cannot run .venv/bin/python (scripts/setup.sh)");
    assert!(
        built.status.success(),
        "make_read_tier_test_model.py: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    out
}

/// GT of each record, by position.
fn genotypes(body: &[String]) -> Vec<(String, String)> {
    body.iter()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[1].to_string(),
                f[9].split(':').next().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn read_tier_replaces_the_routed_sites_probabilities() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let d = tempfile::tempdir().unwrap();
    let call = |name: &str, extra: &[&str]| {
        let (out, vcf) = call_fixture(&fx, &fx.bam, &format!("{name}.vcf.gz"), extra);
        assert_ok(&out);
        (vcf_body(&vcf), stderr_text(&out))
    };
    let same = test_model(d.path(), "0,1,2", None);
    let swap = test_model(d.path(), "2,1,0", None);
    // At 40x the swap changes exactly the sites the rule routes (first-tier GQ < 30 or
    // DP < 15), and no other.
    let (one, _) = call("one", &[]);
    let (deep, log) = call("deep", &["--read-model", swap.to_str().unwrap(), "-v"]);
    let field = |l: &String, key: &str| -> u32 {
        let f: Vec<&str> = l.split('\t').collect();
        let k = f[8].split(':').position(|x| x == key).unwrap();
        f[9].split(':').nth(k).unwrap().parse().unwrap()
    };
    let routed: Vec<bool> = one
        .iter()
        .map(|l| field(l, "GQ") < 30 || field(l, "DP") < 15)
        .collect();
    let n_routed = routed.iter().filter(|&&r| r).count();
    assert!(
        n_routed < one.len(),
        "the fixture needs confident sites at 40x"
    );
    assert!(
        log.contains(&format!(
            "read tier: {n_routed} of {} candidate sites",
            one.len()
        )),
        "{log}"
    );
    assert_eq!(deep.len(), one.len());
    for ((a, b), r) in one.iter().zip(&deep).zip(&routed) {
        if !r {
            assert_eq!(a, b, "a site the rule does not route must not change");
        }
    }
    // Under 15 reads every site is routed.
    let cap = ["--max-depth", "10"];
    let (low, _) = call("low", &cap);
    let mut args = cap.to_vec();
    args.extend(["--read-model", same.to_str().unwrap(), "-v"]);
    let (low_same, log) = call("low_same", &args);
    assert_eq!(
        low_same, low,
        "a read tier repeating the first must change nothing"
    );
    let head = vcf_header(&fx.dir.path().join("low_same.vcf.gz"));
    assert!(
        head.iter()
            .any(|l| l.starts_with("##varstream_read_model=<Name=read-tier-test-012,SHA256=")),
        "{head:?}"
    );
    let n = low.len();
    assert!(
        log.contains(&format!("read tier: {n} of {n} candidate sites")),
        "{log}"
    );
    let mut args = cap.to_vec();
    args.extend(["--read-model", swap.to_str().unwrap()]);
    let (low_swap, _) = call("low_swap", &args);
    let before = genotypes(&low);
    let after = genotypes(&low_swap);
    assert_eq!(before.len(), after.len());
    for ((pos, a), (_, b)) in before.iter().zip(&after) {
        match a.as_str() {
            "1/1" => assert_eq!(b, "0/0", "{pos}: hom ALT must become hom REF"),
            "0/1" => assert_eq!(b, "0/1", "{pos}"),
            other => panic!("{pos}: unexpected first-tier genotype {other}"),
        }
    }
    assert!(before.iter().any(|(_, g)| g == "1/1"));
}

#[test]
fn read_model_for_another_first_tier_is_refused() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let d = tempfile::tempdir().unwrap();
    let other = test_model(d.path(), "0,1,2", Some(&"0".repeat(64)));
    let (out, vcf) = call_fixture(
        &fx,
        &fx.bam,
        "x.vcf.gz",
        &["--read-model", other.to_str().unwrap()],
    );
    let last = assert_fails(&out, &[2], &["read model", "first-tier model"]);
    assert!(last.contains(other.to_str().unwrap()), "{last}");
    assert!(!vcf.exists());
    let missing = d.path().join("absent.onnx");
    let (out, _) = call_fixture(
        &fx,
        &fx.bam,
        "y.vcf.gz",
        &["--read-model", missing.to_str().unwrap()],
    );
    assert_fails(&out, &[2], &["absent.onnx"]);
}
