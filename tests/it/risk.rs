//! `varstream score risk` on the shipped demonstration model and on a second model these
//! tests build (a logistic regression, `scripts/make_risk_test_model.py`).
//!
//! The demonstration cohort (`tests/data/risk/`, written by `scripts/train_risk.py`) holds 24
//! held-out individuals of the synthetic training cohort: their genotypes, covariates, the
//! features PyTorch computed for them and the probabilities PyTorch gave. `score prs`,
//! `score expression` and `score risk` on the VCF must reproduce those probabilities: the
//! features varstream computes are the ones the model was trained on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{assert_ok, ci, require_ort, run};

pub(crate) fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A TSV as maps from column to value, keyed by its `sample` column.
fn tsv(path: &Path) -> HashMap<String, HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    lines
        .map(|l| {
            let row: HashMap<String, String> = header
                .iter()
                .map(|h| h.to_string())
                .zip(l.split('\t').map(String::from))
                .collect();
            (row["sample"].clone(), row)
        })
        .collect()
}

fn num(row: &HashMap<String, String>, col: &str) -> f64 {
    row[col]
        .parse()
        .unwrap_or_else(|_| panic!("{col} = {:?} is not a number", row[col]))
}

/// `score prs` (PGS000001, extra flags) and `score expression` (the demo model's synthetic
/// eQTL weights) on the demonstration cohort, with prefix DIR/cohort.
pub(crate) fn score_cohort(dir: &Path, prs_flags: &[&str]) -> PathBuf {
    let vcf = repo("tests/data/risk/demo_cohort.vcf");
    let prefix = dir.join("cohort");
    let pgs = repo("tests/data/scores/PGS000001_hmPOS_GRCh37.txt.gz");
    let mut args = vec![
        "-q",
        "score",
        "prs",
        "--vcf",
        s(&vcf),
        "--pgs",
        s(&pgs),
        "--output",
        s(&prefix),
    ];
    args.extend_from_slice(prs_flags);
    assert_ok(&run(&args));
    let db = repo("models/demo-risk-v1.eqtl.db");
    assert_ok(&run(&[
        "-q",
        "score",
        "expression",
        "--vcf",
        s(&vcf),
        "--weights",
        s(&db),
        "--output",
        s(&prefix),
    ]));
    prefix
}

fn score_risk(
    model: &Path,
    features: &Path,
    covariates: &Path,
    out: &Path,
) -> std::process::Output {
    run(&[
        "-q",
        "score",
        "risk",
        "--model",
        s(model),
        "--features",
        s(features),
        "--covariates",
        s(covariates),
        "--output",
        s(out),
    ])
}

fn sha256_of(path: &Path) -> String {
    let sidecar: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path.with_extension("json")).unwrap())
            .unwrap();
    sidecar["sha256"].as_str().unwrap().to_string()
}

#[test]
fn demo_model_reproduces_pytorch_on_the_demo_cohort() {
    if !require_ort() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let prefix = score_cohort(d.path(), &[]);
    let expected = tsv(&repo("tests/data/risk/demo_cohort.expected.tsv"));
    assert_eq!(expected.len(), 24);
    // The features varstream wrote are the ones the model was trained on.
    let prs = tsv(&prefix.with_extension("prs.tsv"));
    let expression = std::fs::read_to_string(prefix.with_extension("expression.tsv")).unwrap();
    for (sample, e) in &expected {
        let sum = num(&prs[sample], "SUM");
        assert!(
            (sum - num(e, "prs_PGS000001")).abs() < 1e-9,
            "{sample}: SUM {sum}"
        );
        assert_eq!(prs[sample]["variants_matched"], "70", "palindromes dropped");
        for g in ["SYNTH0001", "SYNTH0002", "SYNTH0003", "SYNTH0004"] {
            let v: f64 = expression
                .lines()
                .find(|l| l.starts_with(&format!("{sample}\t")) && l.contains(&format!("\t{g}\t")))
                .unwrap()
                .split('\t')
                .nth(4)
                .unwrap()
                .parse()
                .unwrap();
            assert!(
                (v - num(e, &format!("expr_{g}"))).abs() < 1e-9,
                "{sample} {g}"
            );
        }
    }
    let model = repo("models/demo-risk-v1.onnx");
    let out = d.path().join("risk");
    let o = score_risk(
        &model,
        &prefix,
        &repo("tests/data/risk/demo_cohort.covariates.tsv"),
        &out,
    );
    assert_ok(&o);
    let risk = tsv(&out.with_extension("risk.tsv"));
    assert_eq!(risk.len(), 24);
    let mut max_diff: f64 = 0.0;
    for (sample, e) in &expected {
        let r = &risk[sample];
        let diff = (num(r, "probability") - num(e, "probability")).abs();
        max_diff = max_diff.max(diff);
        assert!(
            diff < 1e-5,
            "{sample}: {} vs {}",
            r["probability"],
            e["probability"]
        );
        assert_eq!(r["model"], "demo-risk-v1");
        assert_eq!(r["model_sha256"], sha256_of(&model));
        assert_eq!(r["trait"], "synthetic demonstration trait (not a disease)");
        assert_eq!(r["horizon"], "10 years");
        assert_eq!(
            r["features_used"],
            "prs_PGS000001,expr_SYNTH0001,expr_SYNTH0002,expr_SYNTH0003,expr_SYNTH0004,age,sex"
        );
        assert_eq!(r["features_missing"], ".");
        assert!(
            r["calibration"].contains("held-out AUC"),
            "{}",
            r["calibration"]
        );
        assert!(r["training_cohort"].contains("synthetic"));
    }
    eprintln!("demo model: 24 samples, max |varstream - torch| = {max_diff:e}");
    // The same inputs give the same bytes.
    let again = d.path().join("again");
    assert_ok(&score_risk(
        &model,
        &prefix,
        &repo("tests/data/risk/demo_cohort.covariates.tsv"),
        &again,
    ));
    assert_eq!(
        std::fs::read(out.with_extension("risk.tsv")).unwrap(),
        std::fs::read(again.with_extension("risk.tsv")).unwrap()
    );
}

// A PRS that fails its minimum overlap has no value: the sidecar sends those samples to the
// sub-model without the PRS, whose probabilities PyTorch also recorded.
#[test]
fn demo_model_falls_back_to_its_submodel_without_a_prs() {
    if !require_ort() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    // 70 of 77 rows match (7 palindromes), so --min-overlap 0.95 fails the score.
    let prefix = score_cohort(d.path(), &["--min-overlap", "0.95"]);
    let prs = tsv(&prefix.with_extension("prs.tsv"));
    assert!(prs
        .values()
        .all(|r| r["status"] == "FAIL" && r["SUM"] == "NA"));
    // One gene's row removed for D03: imputed with the value the sidecar states.
    let expr_path = prefix.with_extension("expression.tsv");
    let text = std::fs::read_to_string(&expr_path).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !(l.starts_with("D03\t") && l.contains("\tSYNTH0002\t")))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(kept.lines().count() + 1, text.lines().count());
    std::fs::write(&expr_path, kept).unwrap();
    let out = d.path().join("risk");
    let o = score_risk(
        &repo("models/demo-risk-v1.onnx"),
        &prefix,
        &repo("tests/data/risk/demo_cohort.covariates.tsv"),
        &out,
    );
    assert_ok(&o);
    let risk = tsv(&out.with_extension("risk.tsv"));
    let expected = tsv(&repo("tests/data/risk/demo_cohort.expected.tsv"));
    let sidecar: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo("models/demo-risk-v1.json")).unwrap())
            .unwrap();
    let sub_sha = sidecar["submodels"][0]["sha256"].as_str().unwrap();
    for (sample, e) in &expected {
        let r = &risk[sample];
        assert_eq!(r["model"], "demo-risk-v1-no-prs");
        assert_eq!(r["model_sha256"], sub_sha);
        if sample == "D03" {
            assert_eq!(
                r["features_missing"],
                "prs_PGS000001:submodel,expr_SYNTH0002:imputed=-3.218558"
            );
            continue;
        }
        assert_eq!(r["features_missing"], "prs_PGS000001:submodel");
        let diff = (num(r, "probability") - num(e, "probability_no_prs")).abs();
        assert!(diff < 1e-5, "{sample}: {diff}");
    }
    // The imputed value is the training mean, so D03's probability moved.
    let d03 =
        (num(&risk["D03"], "probability") - num(&expected["D03"], "probability_no_prs")).abs();
    assert!(
        d03 > 1e-4,
        "imputing SYNTH0002 should change D03's risk ({d03})"
    );
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

// A second model of the same contract, built here: other features (AVG, an effects track),
// another order, another coding of sex. Its probabilities are computed by hand.
#[test]
fn a_second_sidecar_model_built_by_the_tests() {
    if !require_ort() {
        return;
    }
    let python = repo(".venv/bin/python");
    let d = tempfile::tempdir().unwrap();
    let model_dir = d.path().join("model");
    let weights = [0.3, 0.8, -0.5, 0.2, 0.4];
    let bias = -1.0;
    let built = Command::new(&python)
        .arg(repo("scripts/make_risk_test_model.py"))
        .arg(&model_dir)
        .args([
            "--weights",
            &weights.map(|w| w.to_string()).join(","),
            "--bias",
            &bias.to_string(),
        ])
        .output();
    match built {
        Ok(o) if o.status.success() => {}
        other => {
            let why = match other {
                Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                Err(e) => e.to_string(),
            };
            assert!(
                !ci(),
                "building the test risk model needs .venv with onnx (scripts/setup.sh): {why}"
            );
            eprintln!("SKIP: cannot build the test risk model (run scripts/setup.sh): {why}");
            return;
        }
    }
    let prefix = score_cohort(d.path(), &[]);
    // An effects table for 3 samples only: the others impute 0.
    std::fs::write(
        prefix.with_extension("effects_samples.tsv"),
        "sample\ttarget_id\ttrack\tn_variants_carried\tdosage_weighted_effect\n\
         D01\tT1\tgc\t1\t2\nD02\tT1\tgc\t2\t-1.5\nD01\tT2\tgc\t1\t7\nD05\tT1\ta_weight\t1\t9\n",
    )
    .unwrap();
    // Covariates with another column order, an extra column, and a missing age for D04.
    let cov = d.path().join("cov.tsv");
    let mut text = String::from("sex\tbmi\tsample\tage\n");
    for (sample, row) in tsv(&repo("tests/data/risk/demo_cohort.covariates.tsv")) {
        let age = if sample == "D04" {
            "NA"
        } else {
            row["age"].as_str()
        };
        text.push_str(&format!("{}\t25\t{sample}\t{age}\n", row["sex"]));
    }
    std::fs::write(&cov, text).unwrap();
    let out = d.path().join("risk");
    let model = model_dir.join("risk_test_model.onnx");
    assert_ok(&score_risk(&model, &prefix, &cov, &out));
    let risk = tsv(&out.with_extension("risk.tsv"));
    let prs = tsv(&prefix.with_extension("prs.tsv"));
    let expected = tsv(&repo("tests/data/risk/demo_cohort.expected.tsv"));
    let covs = tsv(&cov);
    assert_eq!(risk.len(), 24);
    for (sample, r) in &risk {
        let age = covs[sample]["age"].parse::<f64>().unwrap_or(50.0);
        let female = if covs[sample]["sex"] == "F" { 1.0 } else { 0.0 };
        let effect = match sample.as_str() {
            "D01" => 2.0,
            "D02" => -1.5,
            _ => 0.0,
        };
        let x = [
            (age - 50.0) / 10.0,
            (num(&prs[sample], "AVG") - 0.02) / 0.01,
            num(&expected[sample], "expr_SYNTH0003") - 1.0,
            effect / 2.0,
            female,
        ];
        let p = sigmoid(bias + x.iter().zip(weights).map(|(x, w)| x * w).sum::<f64>());
        let got = num(r, "probability");
        assert!((got - p).abs() < 1e-5, "{sample}: {got} vs {p}");
        assert_eq!(r["model"], "risk-test-logistic");
        assert_eq!(r["horizon"], "5 years");
        let missing = match sample.as_str() {
            "D01" | "D02" => ".",
            "D04" => "age:imputed=50,effect_t1:imputed=0",
            _ => "effect_t1:imputed=0",
        };
        assert_eq!(r["features_missing"], missing, "{sample}");
    }
}
