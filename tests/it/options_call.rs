//! Every explicit option of `varstream call` takes effect or says why not (issue 23, item 3):
//! one table of cases, each setting one option to a value whose effect shows on the small
//! fixture (three planted variants on chrT) and checking it against the default run. Options
//! another module already checks that way are listed in docs/errors.md ("Which test covers
//! which option") and not repeated here.
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::*;

/// A finished `call` run: its output, VCF and stderr.
pub(crate) struct Ran {
    pub out: Output,
    pub vcf: PathBuf,
    pub err: String,
}

impl Ran {
    pub fn body(&self) -> Vec<String> {
        vcf_body(&self.vcf)
    }
    /// POS of every record.
    pub fn positions(&self) -> Vec<u64> {
        self.body()
            .iter()
            .map(|l| l.split('\t').nth(1).unwrap().parse().unwrap())
            .collect()
    }
    /// A file beside the VCF: `OUT` without `.vcf.gz`, then `suffix`.
    pub fn beside(&self, suffix: &str) -> PathBuf {
        let name = self.vcf.file_name().unwrap().to_str().unwrap();
        self.vcf
            .with_file_name(format!("{}{suffix}", name.trim_end_matches(".vcf.gz")))
    }
}

/// `call` on the fixture with `extra` (and `--threads 1` unless `extra` sets threads).
pub(crate) fn call_run(fx: &Fixture, name: &str, extra: &[&str]) -> Ran {
    let mut args: Vec<&str> = extra.to_vec();
    if !extra.contains(&"--threads") {
        args.extend(["--threads", "1"]);
    }
    // The -v/-q cases read the log: the flags choose its level, not an inherited RUST_LOG.
    let vcf = fx.dir.path().join(format!("{name}.vcf.gz"));
    let mut cmd = bin();
    cmd.env_remove("RUST_LOG").args([
        "call",
        "--ref",
        fx.fasta.to_str().unwrap(),
        "--reads",
        fx.bam.to_str().unwrap(),
        "--output",
        vcf.to_str().unwrap(),
    ]);
    let out = cmd.args(&args).output().expect("cannot start varstream");
    let err = stderr_text(&out);
    Ran { out, vcf, err }
}

/// The number N in the log's "calling N shards".
fn shards_logged(err: &str) -> usize {
    let at = err
        .find("calling ")
        .expect("no `calling N shards` log line");
    err[at + 8..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// Run each `(option, check)`; every failing option is named at the end, not only the first.
pub(crate) fn run_cases(cases: Vec<(&str, Box<dyn Fn() + '_>)>) {
    let mut failed = Vec::new();
    for (option, check) in cases {
        eprintln!("--- {option}");
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check())).is_err() {
            failed.push(option);
        }
    }
    assert!(
        failed.is_empty(),
        "options with no effect, or no word on why (see each one's panic above): {failed:?}"
    );
}

/// A PredictDB database with one gene whose only weight is the planted SNV's ALT (2.0).
fn snv_weights(fx: &Fixture) -> PathBuf {
    let snv = &fx.planted[0];
    let db = fx.dir.path().join("snv.db");
    crate::predictdb_gtex::gtex_v8_db(
        &db,
        &[(
            "ENSG_SNV",
            "rs1",
            &format!("chrT_{}_{}_{}_b38", snv.pos, snv.ref_allele, snv.alt),
            &snv.ref_allele,
            &snv.alt,
            2.0,
        )],
        &[("ENSG_SNV", "SNVGENE")],
    );
    db
}

#[test]
fn every_call_option_takes_effect_or_says_why_not() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let base = call_run(&fx, "base", &[]);
    assert_ok(&base.out);
    let base_body = base.body();
    let [snv, _del, ins] = [&fx.planted[0], &fx.planted[1], &fx.planted[2]];
    assert_eq!(pass_calls(&base_body).len(), 3, "{base_body:?}");
    let dir = fx.dir.path();
    let fx = &fx;
    let s = |p: &Path| p.to_str().unwrap().to_string();

    let pgs = crate::call::write_pgs(fx, &[(&fx.planted[1], 0.25), (&fx.planted[2], 0.5)]);
    let reference = dir.join("ref_dist.tsv");
    std::fs::write(
        &reference,
        "score_id\tpopulation\tmean\tsd\nPGS_TEST\tTEST\t0.5\t0.25\n",
    )
    .unwrap();
    let other_reference = dir.join("other_dist.tsv");
    std::fs::write(
        &other_reference,
        "score_id\tpopulation\tmean\tsd\nPGS_OTHER\tTEST\t0\t1\n",
    )
    .unwrap();
    let panel = dir.join("panel.bed");
    std::fs::write(&panel, "chrT\t900\t1100\tGENE1\n").unwrap();
    let annotations = dir.join("clinvar.vcf");
    std::fs::write(
        &annotations,
        format!(
            "{}chrT\t{}\t42\t{}\t{}\t.\t.\tCLNSIG=Pathogenic;MYFIELD=seen_here\n",
            crate::options_scores::annotation_head(),
            snv.pos,
            snv.ref_allele,
            snv.alt
        ),
    )
    .unwrap();

    let cases: Vec<(&str, Box<dyn Fn()>)> = vec![
        (
            "--region",
            Box::new(|| {
                let r = call_run(fx, "region", &["--region", "chrT:900-1100"]);
                assert_ok(&r.out);
                assert_eq!(
                    r.positions(),
                    vec![snv.pos],
                    "only the SNV lies in chrT:900-1100"
                );
            }),
        ),
        (
            "--regions",
            Box::new(|| {
                let bed = dir.join("r.bed");
                std::fs::write(&bed, "chrT\t1899\t2100\n").unwrap();
                let r = call_run(fx, "regions", &["--regions", &s(&bed)]);
                assert_ok(&r.out);
                assert_eq!(
                    r.positions(),
                    vec![ins.pos],
                    "only the insertion lies in the BED"
                );
            }),
        ),
        (
            "--threads",
            Box::new(|| {
                let r = call_run(fx, "threads", &["--threads", "3"]);
                assert_ok(&r.out);
                assert!(r.err.contains("3 worker(s)"), "{}", r.err);
                assert_eq!(r.body(), base_body);
            }),
        ),
        (
            "--sample",
            Box::new(|| {
                let r = call_run(fx, "sample", &["--sample", "RENAMED"]);
                assert_ok(&r.out);
                let head = vcf_header(&r.vcf);
                let columns = head.last().unwrap();
                assert!(columns.ends_with("\tRENAMED"), "{columns}");
            }),
        ),
        (
            "--min-qual",
            Box::new(|| {
                let r = call_run(fx, "minqual", &["--min-qual", "10000"]);
                assert_ok(&r.out);
                assert!(vcf_header(&r.vcf)
                    .iter()
                    .any(|l| l.contains("QUAL < 10000")));
                let filters: Vec<String> = r
                    .body()
                    .iter()
                    .map(|l| l.split('\t').nth(6).unwrap().to_string())
                    .collect();
                assert!(
                    !filters.is_empty() && filters.iter().all(|f| f != "PASS"),
                    "{filters:?}"
                );
                assert!(filters.iter().any(|f| f == "LowQual"), "{filters:?}");
            }),
        ),
        (
            "--batch-size",
            Box::new(|| {
                let r = call_run(fx, "batch", &["--batch-size", "7"]);
                assert_ok(&r.out);
                assert!(r.err.contains("batches of up to 7"), "{}", r.err);
                assert_eq!(r.body(), base_body, "batches never change the calls");
            }),
        ),
        (
            "--shard-size",
            Box::new(|| {
                let r = call_run(fx, "shardsize", &["--shard-size", "500"]);
                assert_ok(&r.out);
                // chrT 3,000 bp and chrU 600 bp: 6 + 2 shards of 500, against 2 by default.
                assert_eq!(shards_logged(&r.err), 8, "{}", r.err);
                assert_eq!(shards_logged(&base.err), 2, "{}", base.err);
                assert_eq!(r.body(), base_body, "shards never change the calls");
            }),
        ),
        (
            "--pgs-reference",
            Box::new(|| {
                let r = call_run(
                    fx,
                    "pgsref",
                    &["--pgs", &s(&pgs), "--pgs-reference", &s(&reference)],
                );
                assert_ok(&r.out);
                let t = crate::scores::read_tsv(&r.beside(".prs.tsv"));
                // hom deletion 2 × 0.25 + het insertion 1 × 0.5 = 1.0: Z (1 - 0.5) / 0.25 = 2.
                assert_eq!(t[0]["SUM"], "1");
                assert_eq!(
                    (t[0]["Z"].as_str(), t[0]["reference_population"].as_str()),
                    ("2", "TEST")
                );
                // A reference without this score leaves Z NA, and says so.
                let r = call_run(
                    fx,
                    "pgsref_other",
                    &["--pgs", &s(&pgs), "--pgs-reference", &s(&other_reference)],
                );
                assert_ok(&r.out);
                assert_eq!(crate::scores::read_tsv(&r.beside(".prs.tsv"))[0]["Z"], "NA");
                assert!(
                    r.err.contains("WARN") && r.err.contains("has no row for PGS_TEST"),
                    "{}",
                    r.err
                );
            }),
        ),
        (
            "--weights",
            Box::new(|| {
                let db = snv_weights(fx);
                let r = call_run(fx, "weights", &["--weights", &s(&db)]);
                assert_ok(&r.out);
                let t = crate::scores::read_tsv(&r.beside(".expression.tsv"));
                assert_eq!(t.len(), 1, "{t:?}");
                // One ALT copy of the het SNV × 2.0.
                assert_eq!(
                    (t[0]["gene"].as_str(), t[0]["predicted_expression"].as_str()),
                    ("ENSG_SNV", "2")
                );
            }),
        ),
        (
            "--no-calibration",
            Box::new(|| {
                let r = call_run(fx, "nocal", &["--no-calibration"]);
                assert_ok(&r.out);
                // The shipped model has a depth calibration: without it QUAL or GQ move.
                assert_eq!(r.positions(), base.positions());
                assert_ne!(
                    r.body(),
                    base_body,
                    "--no-calibration changed no QUAL or GQ"
                );
                // A model without one says the flag changes nothing.
                let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/varstream-v4");
                let m = dir.join("uncalibrated.onnx");
                std::fs::copy(shipped.with_extension("onnx"), &m).unwrap();
                let mut side: serde_json::Value = serde_json::from_str(
                    &std::fs::read_to_string(shipped.with_extension("json")).unwrap(),
                )
                .unwrap();
                side["calling"]
                    .as_object_mut()
                    .unwrap()
                    .remove("calibration");
                std::fs::write(m.with_extension("json"), side.to_string()).unwrap();
                let r = call_run(fx, "nocal2", &["--model", &s(&m), "--no-calibration"]);
                assert_ok(&r.out);
                assert!(
                    r.err.contains("--no-calibration changes nothing"),
                    "{}",
                    r.err
                );
            }),
        ),
        (
            "--gvcf-gq-bands",
            Box::new(|| {
                let gvcf = |name: &str, extra: &[&str]| {
                    let g = dir.join(format!("{name}.g.vcf.gz"));
                    let mut args = vec!["--gvcf", g.to_str().unwrap()];
                    args.extend_from_slice(extra);
                    let r = call_run(fx, name, &args);
                    assert_ok(&r.out);
                    (vcf_header(&g), vcf_body(&g))
                };
                let (default_head, default) = gvcf("bands_default", &[]);
                let every: Vec<String> = (1..100).map(|g| g.to_string()).collect();
                let every = every.join(",");
                let (head, fine) = gvcf("bands_every", &["--gvcf-gq-bands", &every]);
                let bands =
                    |h: &[String]| h.iter().find(|l| l.contains("GQBands=")).unwrap().clone();
                assert_ne!(
                    bands(&head),
                    bands(&default_head),
                    "the header names the bands"
                );
                // The reads' ends ramp the depth, and so GQ: one band per GQ cuts more blocks.
                assert!(
                    fine.len() > default.len(),
                    "{} lines with a band per GQ, {} by default",
                    fine.len(),
                    default.len()
                );
            }),
        ),
        (
            "--annotation-fields",
            Box::new(|| {
                let r = call_run(
                    fx,
                    "fields",
                    &[
                        "--report",
                        "--panel",
                        &s(&panel),
                        "--annotations",
                        &s(&annotations),
                        "--annotation-fields",
                        "MYFIELD,NOTDECLARED",
                    ],
                );
                assert_ok(&r.out);
                let j: serde_json::Value = serde_json::from_str(
                    &std::fs::read_to_string(r.beside(".report.json")).unwrap(),
                )
                .unwrap();
                let f = &j["findings"];
                assert_eq!(
                    f["annotation_fields"],
                    serde_json::json!(["MYFIELD", "NOTDECLARED"])
                );
                let info = &f["calls"][0]["annotations"][0]["info"];
                assert_eq!(info, &serde_json::json!({"MYFIELD": "seen here"}), "{f}");
                assert!(
                    r.err
                        .contains("--annotation-fields: NOTDECLARED not declared"),
                    "{}",
                    r.err
                );
                // Without --annotations there is nothing to pick fields from.
                let r = call_run(fx, "fields2", &["--annotation-fields", "CLNSIG"]);
                assert_fails(&r.out, &[INPUT], &["--annotation-fields", "--annotations"]);
            }),
        ),
        (
            "--min-baseq",
            Box::new(|| {
                // Every base of the fixture has quality 40: at 41 no base counts, not even an
                // indel's anchor (the insertion was once called, from reads the haplotype
                // rescoring let through), so nothing can be called: exit 3, one line, no VCF.
                let r = call_run(fx, "baseq", &["--min-baseq", "41"]);
                assert_fails(&r.out, &[3], &["none of their bases", "--min-baseq 41"]);
                let r = call_run(fx, "baseq40", &["--min-baseq", "40"]);
                assert_ok(&r.out);
                let at = r.positions();
                assert!(at.contains(&snv.pos) && at.contains(&ins.pos), "{at:?}");
            }),
        ),
        (
            "--min-snv-fraction",
            Box::new(|| {
                let r = call_run(fx, "snvfrac", &["--min-snv-fraction", "0.9"]);
                assert_ok(&r.out);
                let at = r.positions();
                assert!(
                    !at.contains(&snv.pos),
                    "the het SNV (0.5) is no candidate: {at:?}"
                );
                assert!(at.contains(&ins.pos), "{at:?}");
            }),
        ),
        (
            "--min-indel-fraction",
            Box::new(|| {
                let r = call_run(fx, "indelfrac", &["--min-indel-fraction", "0.9"]);
                assert_ok(&r.out);
                let at = r.positions();
                assert!(
                    !at.contains(&ins.pos),
                    "the het insertion is no candidate: {at:?}"
                );
                assert!(at.contains(&snv.pos), "{at:?}");
            }),
        ),
        (
            "-v",
            Box::new(|| {
                let r = call_run(fx, "verbose", &["-v"]);
                assert_ok(&r.out);
                assert!(r.err.contains(" DEBUG "), "{}", r.err);
                assert!(!base.err.contains(" DEBUG "), "{}", base.err);
            }),
        ),
        (
            "-q",
            Box::new(|| {
                let r = call_run(fx, "quiet", &["-q"]);
                assert_ok(&r.out);
                assert!(base.err.contains(" INFO "), "{}", base.err);
                assert!(!r.err.contains(" INFO "), "{}", r.err);
                assert_eq!(r.body(), base_body);
            }),
        ),
    ];
    run_cases(cases);
}
