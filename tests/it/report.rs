//! `varstream report` on a hand-written VCF whose statistics are counted by hand below, and
//! checked against `bcftools stats` where bcftools is installed.
//!
//! Over 600 lines: one hand-counted VCF and the report's sections checked against it.

use std::path::Path;

use crate::common::{assert_ok, run};

/// Two samples so that `--sample` matters; the second sample's genotypes differ.
const VCF: &str = "##fileformat=VCFv4.2
##source=varstream 0.1.0
##varstream_model=<Name=m1,SHA256=abc>
##reference=file:///ref.fa
##contig=<ID=chr1,length=100000>
##contig=<ID=chr2,length=100000>
##FILTER=<ID=PASS,Description=\"All filters passed\">
##FILTER=<ID=RefCall,Description=\"ref\">
##FILTER=<ID=LowQual,Description=\"low\">
##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">
##FORMAT=<ID=GQ,Number=1,Type=Integer,Description=\"GQ\">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"DP\">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"AD\">
##FORMAT=<ID=VAF,Number=A,Type=Float,Description=\"VAF\">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2
chr1\t100\t.\tA\tG\t50\tPASS\t.\tGT:GQ:DP:AD:VAF\t0/1:45:30:15,15:0.5\t0/0:50:30:30,0:0
chr1\t200\t.\tC\tA\t35\tPASS\t.\tGT:GQ:DP:AD:VAF\t1/1:25:22:0,22:1\t0/1:20:22:11,11:0.5
chr1\t300\t.\tT\tTAC\t12\tPASS\t.\tGT:GQ:DP:AD:VAF\t0/1:12:18:10,8:0.444\t./.:.:.:.:.
chr1\t400\t.\tGTTT\tG\t80\tPASS\t.\tGT:GQ:DP:AD:VAF\t1/1:60:40:1,39:0.975\t0/1:30:40:20,20:0.5
chr1\t500\t.\tC\tT,G\t70\t.\t.\tGT:GQ:DP:AD:VAF\t1/2:40:35:0,18,17:0.514,0.486\t0/1:40:35:17,18,0:0.514,0
chr1\t600\t.\tC\tCA\t3\tRefCall\t.\tGT:GQ:DP:AD:VAF\t0/0:15:30:28,2:0.067\t0/0:15:30:28,2:0.067
chr1\t700\t.\tG\tT\t0.5\tLowQual\t.\tGT:GQ:DP:AD:VAF\t0/1:1:8:6,2:0.25\t0/1:1:8:6,2:0.25
chr2\t50\t.\tA\tC\t40\tPASS\t.\tGT:GQ:DP:AD:VAF\t0/1:39:28:14,14:0.5\t0/1:39:28:14,14:0.5
";

const PRS: &str =
    "sample\tscore_id\tSUM\tDENOM\tAVG\tvariants_matched\tvariants_total\tmatch_rate\tstatus\tbuild
S1\tPGS1\t0.5\t4\t0.125\t4\t4\t1\tPASS\tGRCh37
S2\tPGS1\t0.25\t4\t0.0625\t4\t4\t1\tPASS\tGRCh37
";

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A temp dir holding `s.vcf` (the VCF above), and `report --vcf s.vcf -o DIR/out ARGS`.
fn report(args: &[&str]) -> (tempfile::TempDir, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let vcf = dir.path().join("s.vcf");
    std::fs::write(&vcf, VCF).unwrap();
    let prefix = dir.path().join("out");
    let mut all = vec![
        "report",
        "--vcf",
        vcf.to_str().unwrap(),
        "-o",
        prefix.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let out = run(&all);
    (dir, out)
}

#[test]
fn report_counts_match_hand_counts() {
    let prs_dir = tempfile::tempdir().unwrap();
    let prs = prs_dir.path().join("s.prs.tsv");
    std::fs::write(&prs, PRS).unwrap();
    let (dir, out) = report(&["--prs", prs.to_str().unwrap()]);
    assert_ok(&out);
    let r = json(&dir.path().join("out.report.json"));
    let s = &r["stats"];
    assert_eq!(r["sample"], "S1");
    assert_eq!(r["provenance"]["model"], "Name=m1, SHA256=abc");
    assert_eq!(s["records"], 8);
    // FILTER "." counts as PASS, as in `varstream eval`.
    assert_eq!(
        s["filters"],
        serde_json::json!({"PASS": 6, "RefCall": 1, "LowQual": 1})
    );
    assert_eq!(s["calls"], 6);
    assert_eq!(s["multiallelic"], 1);
    // SNV alleles: 100 A>G, 200 C>A, 500 C>T and C>G, chr2 A>C.
    assert_eq!(s["types"]["snv"], 5);
    assert_eq!(s["types"]["insertion"], 1);
    assert_eq!(s["types"]["deletion"], 1);
    // Transitions A>G, C>T; transversions C>A, C>G, A>C.
    assert_eq!(
        (s["transitions"].clone(), s["transversions"].clone()),
        (2.into(), 3.into())
    );
    assert_eq!(
        s["zygosity"],
        serde_json::json!({"het": 3, "hom_alt": 2, "het_alt": 1, "hemizygous": 0})
    );
    assert_eq!(s["het_hom_ratio"], 2.0);
    assert_eq!(s["indel_lengths"], serde_json::json!([[-3, 1], [2, 1]]));
    // QUAL 50, 35, 12, 80, 70, 40 in bins from 0, 10, 20, 30, 40, 50, 60, 80, 100.
    assert_eq!(
        s["qual"]["counts"],
        serde_json::json!([0, 1, 0, 1, 1, 1, 1, 1, 0])
    );
    // One VAF per called ALT: 0.5, 1, 0.444, 0.975, 0.514, 0.486, 0.5.
    let vaf: Vec<u64> = serde_json::from_value(s["vaf"]["counts"].clone()).unwrap();
    assert_eq!(vaf.iter().sum::<u64>(), 7);
    assert_eq!((vaf[8], vaf[9], vaf[10], vaf[19]), (1, 1, 3, 2));
    assert_eq!(
        s["per_contig"],
        serde_json::json!([["chr1", 5], ["chr2", 1]])
    );
    assert_eq!(
        r["prs"]["rows"],
        serde_json::json!([["S1", "PGS1", "0.5", "4", "0.125", "4", "4", "1", "PASS", "GRCh37"]])
    );

    let html = std::fs::read_to_string(dir.path().join("out.report.html")).unwrap();
    assert!(html.contains("<h1>Sample S1</h1>") && html.contains("<td>PGS1</td>"));
    assert!(
        html.contains("<th>Ti/Tv (SNVs)</th><td>0.67 (2 / 3)</td>"),
        "{html}"
    );
    let mqc = json(&dir.path().join("out.report_mqc.json"));
    assert_eq!(mqc["data"]["S1"]["PASS calls"], 6);

    // Another sample, and the same input gives the same page (up to the VCF's folder).
    let (dir2, out) = report(&["--sample", "S2"]);
    assert_ok(&out);
    let r2 = json(&dir2.path().join("out.report.json"));
    assert_eq!(r2["stats"]["calls"], 4);
    assert_eq!(
        r2["stats"]["zygosity"],
        serde_json::json!({"het": 4, "hom_alt": 0, "het_alt": 0, "hemizygous": 0})
    );
    assert_eq!(r2["stats"]["het_hom_ratio"], serde_json::Value::Null);
    let (dir3, out) = report(&["--sample", "S2"]);
    assert_ok(&out);
    // The page says the day it was written; everything else is the same.
    let page = |d: &tempfile::TempDir| {
        let html = std::fs::read_to_string(d.path().join("out.report.html"))
            .unwrap()
            .replace(d.path().to_str().unwrap(), "DIR");
        let at = html.find("<span id=\"run-date\">").unwrap();
        let end = at + html[at..].find("</span>").unwrap();
        format!("{}{}", &html[..at], &html[end..])
    };
    assert_eq!(page(&dir2), page(&dir3));
}

#[test]
fn report_agrees_with_bcftools_stats() {
    if std::process::Command::new("bcftools")
        .arg("--version")
        .output()
        .is_err()
    {
        crate::common::skip("bcftools not installed (scripts/setup.sh installs it)");
        return;
    }
    let (dir, out) = report(&[]);
    assert_ok(&out);
    let vcf = dir.path().join("s.vcf");
    // bcftools counts the ALTs of records, ours the ALTs of the S1 genotype: keep S1's PASS
    // non-reference records, where the two are the same alleles.
    let sub = dir.path().join("s1.vcf");
    let o = std::process::Command::new("bcftools")
        .args(["view", "-s", "S1", "-f", "PASS,.", "-i", "GT=\"alt\"", "-o"])
        .arg(&sub)
        .arg(&vcf)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = std::process::Command::new("bcftools")
        .arg("stats")
        .arg(&sub)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    let sn = |key: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with("SN\t") && l.contains(key))
            .and_then(|l| l.split('\t').nth(3))
            .unwrap_or_else(|| panic!("no '{key}' in bcftools stats:\n{text}"))
            .parse()
            .unwrap()
    };
    let tstv: Vec<u64> = text
        .lines()
        .find(|l| l.starts_with("TSTV\t"))
        .unwrap()
        .split('\t')
        .skip(2)
        .take(2)
        .map(|x| x.parse().unwrap())
        .collect();
    let s = &json(&dir.path().join("out.report.json"))["stats"];
    assert_eq!(s["calls"], sn("number of records:"));
    assert_eq!(s["multiallelic"], sn("number of multiallelic sites:"));
    assert_eq!(s["transitions"], tstv[0]);
    assert_eq!(s["transversions"], tstv[1]);
    let indels =
        s["types"]["insertion"].as_u64().unwrap() + s["types"]["deletion"].as_u64().unwrap();
    assert_eq!(indels, sn("number of indels:"));
}

#[test]
fn missing_sample_is_an_error_naming_the_file() {
    let (dir, out) = report(&["--sample", "S9"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("s.vcf") && err.contains("no sample S9"),
        "{err}"
    );
    assert!(!dir.path().join("out.report.json").exists());
}

// ------------------------------------------------------------------------------------------
// Report version 2: stats, sex, panel variants, scores; schema; rendering in Chromium.

/// chr1 of the VCF above as a reference: the REF bases where the records say, and around the
/// deletion at 400 (GTTT>G) a fourth T at 404, so a record written one base to the right
/// (401 TTTT>T) is the same deletion once left-aligned.
fn reference_fasta(path: &Path) {
    let mut seq = vec![b'C'; 1000];
    for (pos, bases) in [
        (100, "A"),
        (200, "C"),
        (300, "T"),
        (400, "GTTTTA"),
        (500, "C"),
        (600, "C"),
        (700, "G"),
    ] {
        seq[pos - 1..pos - 1 + bases.len()].copy_from_slice(bases.as_bytes());
    }
    let mut text = String::from(">chr1\n");
    for line in seq.chunks(60) {
        text.push_str(std::str::from_utf8(line).unwrap());
        text.push('\n');
    }
    text.push_str(">chr2\n");
    text.push_str(&"A".repeat(100));
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

/// A stats file as `call` writes it: chr1 called at 30x, chrX at 15x, chrY at 4x.
fn stats_json(sex: Option<serde_json::Value>) -> serde_json::Value {
    let cov = |bp: u64, depth: u64| {
        serde_json::json!({"bp": bp, "depth_sum": bp * depth,
                           "bp_at_least": [bp, bp, if depth >= 20 { bp } else { 0 }, 0]})
    };
    let mut s = serde_json::json!({
        "stats_version": 2,
        "generated_by": "varstream 0.1.0",
        "sample": "S1",
        "regions": {"intervals": 3, "bp": 3000},
        "coverage": {"bp": 3000, "depth_sum": 49000, "bp_at_least": [3000, 3000, 1000, 0]},
        "mean_depth": 16.3333,
        "depth_definition": "reads over each called base",
        "per_contig": [
            {"contig": "chr1", "intervals": 1, "coverage": cov(1000, 30), "mean_depth": 30.0},
            {"contig": "chrX", "intervals": 1, "coverage": cov(1000, 15), "mean_depth": 15.0},
            {"contig": "chrY", "intervals": 1, "coverage": cov(1000, 4), "mean_depth": 4.0}
        ],
        "reads": {"seen": 1000, "flagged": 10, "low_mapq": 20, "other_sample": 0,
                  "unusable": 1, "downsampled": 0, "kept": 969},
        "read_filters": {"min_mapq": 5, "min_baseq": 10, "max_depth": 250}
    });
    if let Some(x) = sex {
        s["sex"] = x;
    }
    s
}

/// Every input of a full report, written into `dir`; returns the `report` arguments.
fn full_inputs(dir: &Path, sex: Option<serde_json::Value>) -> Vec<String> {
    let p = |name: &str| dir.join(name).to_str().unwrap().to_string();
    std::fs::write(dir.join("s.vcf"), VCF).unwrap();
    reference_fasta(&dir.join("ref.fa"));
    std::fs::write(
        dir.join("s.stats.json"),
        serde_json::to_string_pretty(&stats_json(sex)).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("s.prs.tsv"),
        "sample\tscore_id\tSUM\tDENOM\tAVG\tvariants_matched\tvariants_total\tmatch_rate\tstatus\t\
         build\tZ\tpercentile\treference_population\n\
         S1\tPGS1\t0.5\t4\t0.125\t4\t5\t0.8000\tPASS\tGRCh37\t1.2345\t89.1\t1000G EUR\n\
         S2\tPGS1\t0.25\t4\t0.0625\t4\t5\t0.8000\tPASS\tGRCh37\t0.1\t54\t1000G EUR\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("s.risk.tsv"),
        "sample\ttrait\thorizon\tprobability\tmodel\tmodel_sha256\tfeatures_used\tfeatures_missing\t\
         training_cohort\tcalibration\n\
         S1\ttest trait\t10 years\t0.1234\tmodel-x\t0123456789abcdef0123\tprs\t.\tcohort C\t\
         held-out AUC 0.700, calibration slope 1.00, intercept 0.00 (n = 10, 2 cases; d)\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("s.expression.tsv"),
        "sample\tmodel\tgene\tgenename\tpredicted_expression\tn_snps_used\tn_snps_in_model\t\
         pred_perf_R2\nS1\tWhole_Blood\tENSG1\tGENE1\t2.5\t3\t3\t0.31\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("s.effects_samples.tsv"),
        "sample\ttarget_id\ttrack\tn_variants_carried\tdosage_weighted_effect\nS1\tT1\tgc\t1\t-2\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("panel.bed"),
        "chr1\t150\t450\tGENE1\nchr2\t0\t10\tGENE2\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("clinvar.vcf"),
        "##fileformat=VCFv4.1\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n\
         1\t200\t1001\tC\tA\t.\t.\tCLNSIG=Pathogenic;CLNDN=Test_condition;CLNREVSTAT=criteria_provided\n\
         1\t300\t1002\tT\tTAG\t.\t.\tCLNSIG=Benign\n\
         1\t401\t1003\tTTTT\tT\t.\t.\tCLNSIG=Likely_benign;GENEINFO=GENE1:1\n",
    )
    .unwrap();
    [
        "--vcf",
        &p("s.vcf"),
        "-o",
        &p("out"),
        "--stats",
        &p("s.stats.json"),
        "--prs",
        &p("s.prs.tsv"),
        "--risk",
        &p("s.risk.tsv"),
        "--expression",
        &p("s.expression.tsv"),
        "--effects",
        &p("s.effects_samples.tsv"),
        "--panel",
        &p("panel.bed"),
        "--annotations",
        &p("clinvar.vcf"),
        "--ref",
        &p("ref.fa"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn run_report(args: &[String]) -> std::process::Output {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut all = vec!["-q", "report"];
    all.extend(a);
    run(&all)
}

/// The report JSON checked against docs/report.schema.json with the PyPI `jsonschema` in
/// .venv (scripts/setup.sh). `None` when that is not installed (a failure when CI=true).
pub(crate) fn schema_errors(json: &Path) -> Option<Vec<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = "import json, sys, jsonschema\n\
        schema = json.load(open(sys.argv[1]))\n\
        jsonschema.Draft202012Validator.check_schema(schema)\n\
        v = jsonschema.Draft202012Validator(schema)\n\
        for e in v.iter_errors(json.load(open(sys.argv[2]))):\n\
        \x20   print('/'.join(map(str, e.absolute_path)) + ': ' + e.message)\n";
    let o = std::process::Command::new(root.join(".venv/bin/python"))
        .args(["-c", script])
        .arg(root.join("docs/report.schema.json"))
        .arg(json)
        .output();
    match o {
        Ok(o) if o.status.success() => Some(
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(String::from)
                .collect(),
        ),
        other => {
            let why = match other {
                Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                Err(e) => e.to_string(),
            };
            assert!(
                !crate::common::ci(),
                "validating the report JSON needs .venv with jsonschema (scripts/setup.sh): {why}"
            );
            eprintln!("SKIP (schema): .venv with jsonschema not available: {why}");
            None
        }
    }
}

// A stats file of version 1 (before the read-length cap was retired, with reads.too_long) is
// still read.
#[test]
fn report_reads_a_version_1_stats_file() {
    let dir = tempfile::tempdir().unwrap();
    let args = full_inputs(dir.path(), None);
    let mut v1 = stats_json(None);
    v1["stats_version"] = 1.into();
    v1["reads"]["too_long"] = 0.into();
    std::fs::write(dir.path().join("s.stats.json"), v1.to_string()).unwrap();
    let out = run_report(&args);
    assert_ok(&out);
    let r = json(&dir.path().join("out.report.json"));
    assert_eq!(r["run"]["stats"]["reads"]["low_mapq"], 20);
}

// A panel BED on contigs the VCF has no record on (another build's names, another region)
// lists nothing: the report says so in a warning instead of an empty table alone.
#[test]
fn report_panel_without_overlap_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let args = full_inputs(dir.path(), None);
    let out = run_report(&args);
    assert_ok(&out);
    let quiet = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!quiet.contains("no variant can be listed"), "{quiet}");
    std::fs::write(dir.path().join("panel.bed"), "chr9\t0\t100\tGENE9\n").unwrap();
    let out = run_report(&args);
    assert_ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("panel.bed: none of its 1 region(s) lies on a contig with a record")
            && err.contains("no variant can be listed"),
        "{err}"
    );
}

#[test]
fn report_v2_sections_in_json_and_schema() {
    let dir = tempfile::tempdir().unwrap();
    let args = full_inputs(dir.path(), None);
    let out = run_report(&args);
    assert_ok(&out);
    let path = dir.path().join("out.report.json");
    let bytes = std::fs::read(&path).unwrap();
    let r: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(r["report_version"], 2);
    // Provenance: the model's name and checksum from the VCF header, the report's command.
    let p = &r["provenance"];
    assert_eq!(
        (p["model_name"].as_str(), p["model_sha256"].as_str()),
        (Some("m1"), Some("abc"))
    );
    assert!(p["report_command"].as_str().unwrap().contains("--panel"));
    assert_eq!(p["version"], env!("CARGO_PKG_VERSION"));
    // What was called, from the stats file.
    assert_eq!(r["run"]["stats"]["regions"]["bp"], 3000);
    assert_eq!(r["run"]["stats"]["reads"]["low_mapq"], 20);
    // No sex call in the stats: X and Y depth against chr1's 30x.
    let sex = &r["sex"];
    assert_eq!(sex["status"], "depth_only");
    assert_eq!(
        (sex["x_depth_ratio"].as_f64(), sex["y_depth_ratio"].as_f64()),
        (Some(0.5), Some(0.1333))
    );
    assert_eq!(sex["autosomal_mean_depth"], 30.0);
    // Panel: 200 C>A (1/1), 300 T>TAC (0/1), 400 GTTT>G (1/1) lie in GENE1; 100 and 500 not.
    let f = &r["findings"];
    let calls = f["calls"].as_array().unwrap();
    let pos: Vec<u64> = calls.iter().map(|c| c["pos"].as_u64().unwrap()).collect();
    assert_eq!(pos, [200, 300, 400]);
    assert_eq!(
        (f["panel_regions"].as_u64(), f["panel_bp"].as_u64()),
        (Some(2), Some(310))
    );
    // Annotated by exact allele: 200 C>A as is; the deletion written at 401 after
    // left-alignment; 300 T>TAG is another allele than the call's T>TAC.
    assert_eq!(f["annotated"], 2);
    assert_eq!(calls[0]["annotations"][0]["id"], "1001");
    assert_eq!(
        calls[0]["annotations"][0]["info"]["CLNDN"],
        "Test condition"
    );
    assert_eq!(calls[0]["genotype"], "1/1");
    assert_eq!(calls[1]["annotations"], serde_json::json!([]));
    assert_eq!(calls[2]["annotations"][0]["id"], "1003");
    assert_eq!(calls[2]["annotations"][0]["info"]["GENEINFO"], "GENE1:1");
    assert_eq!(calls[2]["vaf"], 0.975);
    let mqc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out.report_mqc.json")).unwrap())
            .unwrap();
    assert_eq!(mqc["data"]["S1"]["Mean depth"], 16.333);
    assert_eq!(mqc["data"]["S1"]["% bases >= 20x"], 33.333);
    // Scores, each for S1 only.
    assert_eq!(r["prs"]["rows"].as_array().unwrap().len(), 1);
    assert_eq!(r["risk"]["rows"][0][3], "0.1234");
    assert_eq!(r["effects"]["rows"][0][4], "-2");
    if let Some(errors) = schema_errors(&path) {
        assert!(errors.is_empty(), "schema errors: {errors:#?}");
    }
    // Without the optional inputs the report still fits the schema.
    let (dir2, out) = report(&[]);
    assert_ok(&out);
    let bare = dir2.path().join("out.report.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&bare).unwrap()).unwrap();
    assert_eq!(v["sex"]["status"], "not_assessed");
    assert!(v["run"].is_null() && v["findings"].is_null());
    if let Some(errors) = schema_errors(&bare) {
        assert!(errors.is_empty(), "schema errors: {errors:#?}");
    }
    // A report the schema must refuse: the check can fail.
    let mut bad = r.clone();
    bad["sex"]["status"] = "male".into();
    bad["stats"]["calls"] = (-1).into();
    let bad_path = dir.path().join("bad.json");
    std::fs::write(&bad_path, serde_json::to_vec(&bad).unwrap()).unwrap();
    if let Some(errors) = schema_errors(&bad_path) {
        assert_eq!(errors.len(), 2, "{errors:#?}");
    }
    // The same inputs give the same JSON bytes.
    assert_ok(&run_report(&args));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    // A sex call in the stats file is reported as such.
    let args = full_inputs(
        dir.path(),
        Some(
            serde_json::json!({"call": "XY", "source": "inferred", "x_depth_ratio": 0.51,
                                "y_depth_ratio": 0.42, "note": "from X/Y depth"}),
        ),
    );
    assert_ok(&run_report(&args));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(r["sex"]["status"], "reported");
    assert_eq!(r["sex"]["call"]["call"], "XY");
    if let Some(errors) = schema_errors(&path) {
        assert!(errors.is_empty(), "schema errors: {errors:#?}");
    }
}

/// Headless Chromium, if installed (scripts/setup.sh installs Debian's `chromium`).
fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|c| {
        std::process::Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Run Chromium headless on `page` with `args`; flags that work as root in a container, and a
/// fresh profile.
fn chromium_run(exe: &str, page: &Path, args: &[String]) -> std::process::Output {
    let profile = tempfile::tempdir().unwrap();
    let o = std::process::Command::new("timeout")
        .arg("120")
        .arg(exe)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("cannot start chromium");
    assert!(
        o.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// Width, height and RGBA pixels of an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium
/// writes).
fn decode_png(bytes: &[u8]) -> (usize, usize, Vec<[u8; 4]>) {
    use std::io::Read;
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let (mut at, mut idat) = (8, Vec::new());
    let (mut w, mut h, mut channels) = (0, 0, 0);
    while at + 8 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let kind = &bytes[at + 4..at + 8];
        let data = &bytes[at + 8..at + 8 + len];
        match kind {
            b"IHDR" => {
                w = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                h = u32::from_be_bytes(data[4..8].try_into().unwrap()) as usize;
                assert_eq!((data[8], data[12]), (8, 0), "8-bit, not interlaced");
                channels = match data[9] {
                    2 => 3,
                    6 => 4,
                    t => panic!("PNG colour type {t}"),
                };
            }
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        at += 12 + len;
    }
    let mut raw = Vec::new();
    flate2::read::ZlibDecoder::new(&idat[..])
        .read_to_end(&mut raw)
        .unwrap();
    let stride = w * channels;
    let mut prev = vec![0u8; stride];
    let mut pixels = Vec::with_capacity(w * h);
    for row in raw.chunks(stride + 1).take(h) {
        let (filter, line) = (row[0], &row[1..]);
        let mut cur = vec![0u8; stride];
        for i in 0..stride {
            let a = if i >= channels {
                cur[i - channels] as i32
            } else {
                0
            };
            let b = prev[i] as i32;
            let c = if i >= channels {
                prev[i - channels] as i32
            } else {
                0
            };
            let pred = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) / 2,
                4 => {
                    let p = a + b - c;
                    let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                    if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    }
                }
                f => panic!("PNG filter {f}"),
            };
            cur[i] = line[i].wrapping_add(pred as u8);
        }
        for px in cur.chunks(channels) {
            pixels.push([px[0], px[1], px[2], if channels == 4 { px[3] } else { 255 }]);
        }
        prev = cur;
    }
    (w, h, pixels)
}

/// The text of an HTML fragment: tags dropped, entities left as they are.
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

// The page as a browser sees it: every section present, in order, not nested, and with more
// than its heading; a screenshot that is not blank; and a print to PDF of several pages.
#[test]
fn report_renders_in_headless_chromium() {
    let Some(exe) = chromium() else {
        assert!(
            !crate::common::ci(),
            "the report test needs chromium when CI=true (scripts/setup.sh installs it)"
        );
        eprintln!("SKIP: chromium not installed (scripts/setup.sh installs it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let args = full_inputs(dir.path(), None);
    assert_ok(&run_report(&args));
    let page = dir.path().join("out.report.html");

    let dom = String::from_utf8(chromium_run(exe, &page, &["--dump-dom".into()]).stdout).unwrap();
    assert_eq!(
        dom.matches("<section").count(),
        9,
        "nine sections, none nested or lost"
    );
    let mut last = 0;
    let ids = [
        ("summary", "Mean depth"),
        ("provenance", "m1 (abc)"),
        ("called", "kept as evidence"),
        ("sex", "chrX mean depth"),
        ("calls", "Ti/Tv"),
        ("distributions", "Indel length"),
        ("variants", "Test condition"),
        ("scores", "89.1"),
        ("limits", "Research use"),
    ];
    for (id, needle) in ids {
        let open = format!("<section id=\"{id}\">");
        let at = dom.find(&open).unwrap_or_else(|| panic!("no section {id}"));
        assert!(at > last, "section {id} out of order");
        last = at;
        let body = &dom[at + open.len()..];
        let body = &body[..body.find("</section>").unwrap()];
        assert!(
            !body.contains("<section"),
            "section {id} holds another section"
        );
        let text = text_of(body);
        assert!(text.len() > 40, "section {id} is nearly empty: {text:?}");
        assert!(
            text.contains(needle),
            "section {id} lacks {needle:?}: {text}"
        );
    }
    // The risk caveat and the PRS population are on the page.
    assert!(dom.contains("1000G EUR") && dom.contains("only as good as the cohort"));

    let shot = dir.path().join("shot.png");
    chromium_run(
        exe,
        &page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1000,1400".into(),
        ],
    );
    let (w, h, px) = decode_png(&std::fs::read(&shot).unwrap());
    assert_eq!((w, h), (1000, 1400));
    let inked = px
        .iter()
        .filter(|p| p[..3].iter().any(|&c| c < 200))
        .count();
    let blue = px
        .iter()
        .filter(|p| p[2] > 150 && p[0] < 110 && p[1] < 150)
        .count();
    eprintln!(
        "screenshot: {inked} dark pixels, {blue} chart-blue pixels of {}",
        w * h
    );
    assert!(inked > w * h / 100, "the screenshot is (nearly) blank");
    assert!(
        blue > 500,
        "nothing in the report's blue (section rules, chart bars) on the first screen"
    );

    let pdf = dir.path().join("out.pdf");
    chromium_run(
        exe,
        &page,
        &[
            format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer".into(),
        ],
    );
    let bytes = std::fs::read(&pdf).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let pages: u32 = text
        .split("/Count ")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .expect("a page count in the PDF");
    assert!((2..=12).contains(&pages), "printed on {pages} pages");
}
