//! Every explicit option of `varstream score prs | expression | effects | risk` and of
//! `varstream report` takes effect or says why not (issue 23, item 3). Options another module
//! already checks by their effect are listed in docs/errors.md ("Which test covers which
//! option"); the cases here are the rest, one table per subcommand through
//! [`crate::options_call::run_cases`], which names every option that failed.
use std::path::{Path, PathBuf};

use crate::common::*;
use crate::options_call::run_cases;
use crate::scores::read_tsv;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `varstream ARGS` with the log at the level the flags choose (no inherited RUST_LOG).
fn varstream(args: &[&str]) -> (std::process::Output, String) {
    let out = bin()
        .env_remove("RUST_LOG")
        .args(args)
        .output()
        .expect("cannot start varstream");
    let err = stderr_text(&out);
    (out, err)
}

/// The header of an annotation VCF declaring INFO CLNSIG and MYFIELD (ClinVar-like).
pub(crate) fn annotation_head() -> String {
    "##fileformat=VCFv4.2\n\
     ##INFO=<ID=CLNSIG,Number=.,Type=String,Description=\"Clinical significance\">\n\
     ##INFO=<ID=MYFIELD,Number=1,Type=String,Description=\"A field of the test\">\n\
     #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        .to_string()
}

#[test]
fn score_prs_and_expression_options_take_effect_or_say_why_not() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let vcf = dir.join("v.vcf");
    let mut text = vcf_head(&[("chr1", 0)], &[], &["GT"], &["S1"]);
    text += "chr1\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n\
             chr1\t200\trs7\tC\tT\t50\tPASS\t.\tGT\t1/1\n\
             chr1\t300\trs9\tG\tA\t50\tPASS\t.\tGT\t0/1\n";
    std::fs::write(&vcf, text).unwrap();
    let cases: Vec<(&str, Box<dyn Fn()>)> = vec![
        (
            "score prs --reference-distribution",
            Box::new(|| {
                let pgs = dir.join("PGS_A.txt");
                std::fs::write(
                    &pgs,
                    "#pgs_id=PGS_A\n#genome_build=GRCh38\n\
                     chr_name\tchr_position\teffect_allele\tother_allele\teffect_weight\n\
                     chr1\t100\tG\tA\t1.5\n",
                )
                .unwrap();
                let reference = dir.join("dist.tsv");
                std::fs::write(
                    &reference,
                    "score_id\tpopulation\tmean\tsd\nPGS_B\tEUR\t0\t1\n",
                )
                .unwrap();
                let out = dir.join("prs");
                let (o, err) = varstream(&[
                    "score",
                    "prs",
                    "--vcf",
                    s(&vcf),
                    "--pgs",
                    s(&pgs),
                    "--reference-distribution",
                    s(&reference),
                    "--output",
                    s(&out),
                ]);
                assert_ok(&o);
                let t = read_tsv(&dir.join("prs.prs.tsv"));
                assert_eq!((t[0]["SUM"].as_str(), t[0]["Z"].as_str()), ("1.5", "NA"));
                assert!(
                    err.contains("has no row for PGS_A") && err.contains("it has PGS_B"),
                    "{err}"
                );
            }),
        ),
        (
            "score prs --min-overlap",
            Box::new(|| {
                // One of two rows is in the VCF: 0.5 fails the default 0.75, passes 0.5.
                let pgs = dir.join("PGS_HALF.txt");
                std::fs::write(
                    &pgs,
                    "#pgs_id=PGS_HALF\n#genome_build=GRCh38\n\
                     chr_name\tchr_position\teffect_allele\tother_allele\teffect_weight\n\
                     chr1\t100\tG\tA\t1.5\nchr1\t5000\tC\tT\t1\n",
                )
                .unwrap();
                let status = |name: &str, extra: &[&str]| {
                    let out = dir.join(name);
                    let mut args = vec!["score", "prs", "--vcf", s(&vcf), "--pgs", s(&pgs)];
                    args.extend(["--output", s(&out)]);
                    args.extend_from_slice(extra);
                    let (o, err) = varstream(&args);
                    assert_ok(&o);
                    let t = read_tsv(&dir.join(format!("{name}.prs.tsv")));
                    (t[0]["status"].clone(), err)
                };
                let (st, err) = status("half_default", &[]);
                assert_eq!(st, "FAIL");
                assert!(err.contains("< --min-overlap 0.75"), "{err}");
                assert_eq!(status("half", &["--min-overlap", "0.5"]).0, "PASS");
            }),
        ),
        (
            "score expression --match-by",
            Box::new(|| {
                // rs1's varID names chr1:100, rs7's a position the VCF lacks, rs9's no
                // position at all: varid finds rs1; rsid rs7 and rs9; auto rs1 and rs9.
                let db = dir.join("m.db");
                crate::predictdb_gtex::gtex_v8_db(
                    &db,
                    &[
                        ("G", "rs1", "chr1_100_A_G_b38", "A", "G", 1.0),
                        ("G", "rs7", "chr1_999_C_T_b38", "C", "T", 10.0),
                        ("G", "rs9", "rs9", "G", "A", 100.0),
                    ],
                    &[("G", "GENE")],
                );
                let value = |by: &str| -> String {
                    let out = dir.join(format!("e_{by}"));
                    let (o, _) = varstream(&[
                        "score",
                        "expression",
                        "--vcf",
                        s(&vcf),
                        "--weights",
                        s(&db),
                        "--output",
                        s(&out),
                        "--match-by",
                        by,
                    ]);
                    assert_ok(&o);
                    read_tsv(&dir.join(format!("e_{by}.expression.tsv")))[0]["predicted_expression"]
                        .clone()
                };
                assert_eq!(value("auto"), "101");
                assert_eq!(value("varid"), "1");
                assert_eq!(value("rsid"), "120");
            }),
        ),
    ];
    run_cases(cases);
}

/// The effects test model copied to `dir` without its sidecar beside it.
fn effects_inputs(dir: &Path) -> (PathBuf, PathBuf, PathBuf, PathBuf, PathBuf) {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scores");
    let fa = dir.join("g.fa");
    std::fs::write(&fa, ">chr1\nACGTAAAACCCCGGGGTTTT\n").unwrap();
    let bed = dir.join("t.bed");
    std::fs::write(&bed, "chr1\t8\t9\tplus\t0\t+\n").unwrap();
    let vcf = dir.join("fx.vcf");
    let mut text = vcf_head(&[("chr1", 0)], &[], &["GT"], &["S1"]);
    text += "chr1\t6\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\nchr1\t11\t.\tC\tA\t50\tPASS\t.\tGT\t1/1\n";
    std::fs::write(&vcf, text).unwrap();
    let model = dir.join("elsewhere.onnx");
    std::fs::copy(data.join("effects_test_model.onnx"), &model).unwrap();
    (fa, bed, vcf, model, data.join("effects_test_model.json"))
}

#[test]
fn score_effects_and_risk_options_take_effect_or_say_why_not() {
    if !require_ort() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let (fa, bed, vcf, model, sidecar) = effects_inputs(dir);
    let effects = |name: &str, extra: &[&str]| {
        let out = dir.join(name);
        let mut args = vec![
            "score",
            "effects",
            "--vcf",
            s(&vcf),
            "--ref",
            s(&fa),
            "--model",
            s(&model),
            "--targets",
            s(&bed),
            "--output",
            s(&out),
        ];
        args.extend_from_slice(extra);
        varstream(&args)
    };
    let with_sidecar = |extra: &[&str]| -> Vec<String> {
        let mut v = vec!["--sidecar".to_string(), s(&sidecar).to_string()];
        v.extend(extra.iter().map(|x| x.to_string()));
        v
    };
    let risk_dir = dir.join("risk");
    std::fs::create_dir(&risk_dir).unwrap();
    let cases: Vec<(&str, Box<dyn Fn()>)> = vec![
        (
            "score effects --sidecar",
            Box::new(|| {
                // The model's own MODEL.json is absent: the default fails, --sidecar runs.
                let (o, _) = effects("nosidecar", &[]);
                assert_fails(&o, &[INPUT], &["elsewhere.json"]);
                let args = with_sidecar(&[]);
                let (o, _) = effects(
                    "sidecar",
                    &args.iter().map(String::as_str).collect::<Vec<_>>(),
                );
                assert_ok(&o);
                let t = read_tsv(&dir.join("sidecar.effects.tsv"));
                assert!(t.iter().any(|r| r["track"] == "gc"), "{t:?}");
            }),
        ),
        (
            "score effects --batch-size",
            Box::new(|| {
                let args = with_sidecar(&["--batch-size", "1"]);
                let (o, err) = effects(
                    "batch",
                    &args.iter().map(String::as_str).collect::<Vec<_>>(),
                );
                assert_ok(&o);
                assert!(err.contains("batches of up to 1 "), "{err}");
                // The sidecar's 3 without the flag; 0 is refused, not clamped to 1.
                let args = with_sidecar(&[]);
                let (_, err) = effects(
                    "batch3",
                    &args.iter().map(String::as_str).collect::<Vec<_>>(),
                );
                assert!(err.contains("batches of up to 3 "), "{err}");
                let args = with_sidecar(&["--batch-size", "0"]);
                let (o, _) = effects(
                    "batch0",
                    &args.iter().map(String::as_str).collect::<Vec<_>>(),
                );
                assert_fails(&o, &[INPUT], &["--batch-size"]);
            }),
        ),
        (
            "score effects --threads",
            Box::new(|| {
                let args = with_sidecar(&["--threads", "2"]);
                let (o, err) = effects(
                    "threads",
                    &args.iter().map(String::as_str).collect::<Vec<_>>(),
                );
                assert_ok(&o);
                assert!(err.contains("on 2 thread(s)"), "{err}");
                let args = with_sidecar(&["--threads", "0"]);
                let (o, _) = effects(
                    "threads0",
                    &args.iter().map(String::as_str).collect::<Vec<_>>(),
                );
                assert_fails(&o, &[INPUT], &["--threads"]);
            }),
        ),
        (
            "score effects --device",
            Box::new(|| {
                let args = with_sidecar(&["--device", "cuda"]);
                let (o, err) =
                    effects("cuda", &args.iter().map(String::as_str).collect::<Vec<_>>());
                assert!(
                    !o.status.success(),
                    "CUDA asked for, and the run passed:\n{err}"
                );
                assert!(err.to_lowercase().contains("cuda"), "{err}");
                assert!(!dir.join("cuda.effects.tsv").exists());
            }),
        ),
        (
            "score risk --sidecar and --device",
            Box::new(|| {
                let prefix = crate::risk::score_cohort(&risk_dir, &[]);
                let models = crate::risk::repo("models");
                // The model and its sub-model copied where no sidecar lies beside them.
                let m = risk_dir.join("copied.onnx");
                std::fs::copy(models.join("demo-risk-v1.onnx"), &m).unwrap();
                std::fs::copy(
                    models.join("demo-risk-v1-no-prs.onnx"),
                    risk_dir.join("demo-risk-v1-no-prs.onnx"),
                )
                .unwrap();
                let covariates = crate::risk::repo("tests/data/risk/demo_cohort.covariates.tsv");
                let risk = |name: &str, extra: &[&str]| {
                    let out = risk_dir.join(name);
                    let mut args = vec![
                        "score",
                        "risk",
                        "--model",
                        s(&m),
                        "--features",
                        s(&prefix),
                        "--covariates",
                        s(&covariates),
                        "--output",
                        s(&out),
                    ];
                    args.extend_from_slice(extra);
                    varstream(&args)
                };
                let (o, _) = risk("nosidecar", &[]);
                assert_fails(&o, &[INPUT], &["copied.json"]);
                let side = models.join("demo-risk-v1.json");
                let (o, _) = risk("sidecar", &["--sidecar", s(&side)]);
                assert_ok(&o);
                assert_eq!(read_tsv(&risk_dir.join("sidecar.risk.tsv")).len(), 24);
                let (o, err) = risk("cuda", &["--sidecar", s(&side), "--device", "cuda"]);
                assert!(
                    !o.status.success(),
                    "CUDA asked for, and the run passed:\n{err}"
                );
                assert!(err.to_lowercase().contains("cuda"), "{err}");
            }),
        ),
    ];
    run_cases(cases);
}

#[test]
fn report_annotation_fields_take_effect_or_say_why_not() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let vcf = dir.join("r.vcf");
    let mut text = vcf_head(&[("chr1", 0)], &[], &["GT"], &["S1"]);
    text += "chr1\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n";
    std::fs::write(&vcf, text).unwrap();
    let panel = dir.join("panel.bed");
    std::fs::write(&panel, "chr1\t50\t150\tGENE1\n").unwrap();
    let annotations = dir.join("clinvar.vcf");
    std::fs::write(
        &annotations,
        format!(
            "{}chr1\t100\t7\tA\tG\t.\t.\tCLNSIG=Benign;MYFIELD=a_b\n",
            annotation_head()
        ),
    )
    .unwrap();
    let report = |name: &str, extra: &[&str]| {
        let out = dir.join(name);
        let mut args = vec!["report", "--vcf", s(&vcf), "--output", s(&out)];
        args.extend_from_slice(extra);
        varstream(&args)
    };
    let with = ["--panel", s(&panel), "--annotations", s(&annotations)];
    let cases: Vec<(&str, Box<dyn Fn()>)> = vec![(
        "report --annotation-fields",
        Box::new(|| {
            let info = |name: &str| -> serde_json::Value {
                let j: serde_json::Value = serde_json::from_str(
                    &std::fs::read_to_string(dir.join(format!("{name}.report.json"))).unwrap(),
                )
                .unwrap();
                j["findings"]["calls"][0]["annotations"][0]["info"].clone()
            };
            let (o, _) = report("default", &with);
            assert_ok(&o);
            assert_eq!(info("default"), serde_json::json!({"CLNSIG": "Benign"}));
            let mut args = with.to_vec();
            args.extend(["--annotation-fields", "MYFIELD,NOPE"]);
            let (o, err) = report("picked", &args);
            assert_ok(&o);
            assert_eq!(info("picked"), serde_json::json!({"MYFIELD": "a b"}));
            assert!(
                err.contains("--annotation-fields: NOPE not declared"),
                "{err}"
            );
            // Fields of no annotation file: a usage error naming both flags.
            let (o, _) = report("alone", &["--annotation-fields", "CLNSIG"]);
            assert_fails(&o, &[INPUT], &["--annotation-fields", "--annotations"]);
        }),
    )];
    run_cases(cases);
}
