//! The workflow steps in `workflows/`, run on data the tests make:
//! - the Snakemake scatter-gather (shards → call per shard → concat + index → report), whose
//!   gathered VCF body must be the single run's;
//! - the Nextflow modules: Nextflow cannot be installed offline, so `workflows/nextflow/lint.py`
//!   checks their nf-core shape and runs their rendered `script:` and `stub:` blocks, chained
//!   as the subworkflow chains them; the gathered body must again be the single run's;
//! - MultiQC finding the report's `_mqc.json` section.
//!
//! Snakemake and MultiQC come from `scripts/setup.sh workflows` (PyPI, into .venv). Without
//! them these tests skip with a message, and fail when `CI=true`.
use crate::common::shard_genome;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `.venv/bin/NAME`, or `None` (with a message; a failure under `CI=true`).
fn venv_tool(name: &str) -> Option<PathBuf> {
    let p = repo().join(".venv/bin").join(name);
    if p.is_file() {
        return Some(p);
    }
    eprintln!(
        "SKIP: {} missing (run `scripts/setup.sh workflows`)",
        p.display()
    );
    assert!(!ci(), "{} is required when CI=true", p.display());
    None
}

/// Is `tool` on the PATH? (A failure under `CI=true` when not.)
fn require_on_path(tool: &str, arg: &str) -> bool {
    let ok = Command::new(tool).arg(arg).output().is_ok();
    if !ok {
        eprintln!("SKIP: {tool} not found");
        assert!(!ci(), "{tool} is required when CI=true");
    }
    ok
}

fn check(out: &std::process::Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One `varstream call` over `regions`; its VCF body.
fn single_run(fx: &Fixture, regions: Option<&Path>, name: &str) -> Vec<String> {
    let mut extra = vec!["--threads", "2"];
    if let Some(r) = regions {
        extra.extend(["--regions", r.to_str().unwrap()]);
    }
    let (out, vcf) = call_fixture(fx, &fx.bam, name, &extra);
    assert_ok(&out);
    vcf_body(&vcf)
}

/// A BED over parts of chrA and chrB: seven grid cells, two of them partial.
fn regions_bed(fx: &Fixture) -> PathBuf {
    let bed = fx.dir.path().join("regions.bed");
    std::fs::write(&bed, "chrA\t10000\t110000\nchrB\t0\t40000\n").unwrap();
    bed
}

/// How many `.bed` files `dir` holds (Snakemake adds a timestamp file to folder outputs).
fn beds_in(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "bed")
        })
        .count()
}

/// Run the Snakefile with `config` in `dir`.
fn snakemake(snakemake: &Path, config: &Path, dir: &Path) {
    let out = Command::new(snakemake)
        .arg("-s")
        .arg(repo().join("workflows/snakemake/Snakefile"))
        .arg("--configfile")
        .arg(config)
        .args(["--cores", "2", "--directory"])
        .arg(dir)
        .output()
        .unwrap();
    check(&out, "snakemake");
}

// Two samples through the Snakemake workflow with a regions BED and 4 shards: each gathered
// VCF has the single run's body and an index, and the report counts its PASS calls.
#[test]
fn snakemake_scatter_gather_equals_a_single_run() {
    if !require_ort() || !require_on_path("bcftools", "--version") {
        return;
    }
    let Some(snakemake_bin) = venv_tool("snakemake") else {
        return;
    };
    let fx = shard_genome::build_genome();
    let bed = regions_bed(&fx);
    let body = single_run(&fx, Some(&bed), "single.vcf.gz");
    let pass = body.iter().filter(|l| l.contains("\tPASS\t")).count();
    assert!(pass > 100, "the regions should hold many calls: {pass}");
    let second = fx.dir.path().join("second.bam");
    std::fs::copy(&fx.bam, &second).unwrap();
    std::fs::copy(
        fx.dir.path().join("reads.bam.bai"),
        fx.dir.path().join("second.bam.bai"),
    )
    .unwrap();
    let config = fx.dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "varstream: {}\nreference: {}\nregions: {}\nshards: 4\nthreads: 1\noutdir: results\n\
             samples:\n  S1: {}\n  S2: {}\n",
            env!("CARGO_BIN_EXE_varstream"),
            fx.fasta.display(),
            bed.display(),
            fx.bam.display(),
            second.display()
        ),
    )
    .unwrap();
    let work = fx.dir.path().join("snakemake");
    std::fs::create_dir_all(&work).unwrap();
    snakemake(&snakemake_bin, &config, &work);
    for s in ["S1", "S2"] {
        let dir = work.join("results").join(s);
        assert_eq!(beds_in(&dir.join("shards")), 4, "{s}: BED files");
        assert_eq!(vcf_body(&dir.join(format!("{s}.vcf.gz"))), body, "{s}");
        assert!(dir.join(format!("{s}.vcf.gz.tbi")).is_file());
        let mqc: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{s}.report_mqc.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(mqc["data"]["SHARDS"]["PASS calls"], pass, "{s}: {mqc}");
    }
}

// The same workflow on the real development data (hg19 chr20, a BAM whose header lists every
// hg19 contig while the reference holds chr20 only) when it is there: the 100 kb window in
// 4 shards gives the single run's body. Nothing here chooses or tunes anything.
#[test]
fn snakemake_on_the_dev_data_when_present() {
    let data = shared_data().join("na12878_chr20");
    let bam = data.join("NA12878_S1.chr20.10_10p1mb.bam");
    if !bam.is_file() {
        skip(&format!(
            "{} not found (real data; set VARSTREAM_DATA)",
            bam.display()
        ));
        return;
    }
    if !require_ort() || !require_on_path("bcftools", "--version") {
        return;
    }
    let Some(snakemake_bin) = venv_tool("snakemake") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let fasta = data.join("ucsc.hg19.chr20.unittest.fasta.gz");
    let window = data.join("window.bed");
    let single = dir.path().join("single.vcf.gz");
    assert_ok(&call_with(
        &fasta,
        &bam,
        &single,
        &["--regions", window.to_str().unwrap(), "--threads", "2"],
    ));
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "varstream: {}\nreference: {}\nregions: {}\nshards: 4\nthreads: 1\noutdir: results\n\
             samples:\n  NA12878: {}\n",
            env!("CARGO_BIN_EXE_varstream"),
            fasta.display(),
            window.display(),
            bam.display()
        ),
    )
    .unwrap();
    snakemake(&snakemake_bin, &config, dir.path());
    let out = dir.path().join("results/NA12878");
    assert_eq!(beds_in(&out.join("shards")), 4);
    let body = vcf_body(&single);
    assert!(body.len() > 200, "{} records", body.len());
    assert_eq!(vcf_body(&out.join("NA12878.vcf.gz")), body);
}

// The Nextflow modules' shape, and their scripts run as the subworkflow chains them:
// shards → one call per BED → gather (given the VCFs out of order), whose body must be the
// single run's. (Nextflow itself is not run: see docs/workflows.md.)
#[test]
fn nextflow_modules_lint_and_their_scripts_gather_a_single_run() {
    if !require_ort() || !require_on_path("bcftools", "--version") {
        return;
    }
    let fx = shard_genome::build_genome();
    let bed = regions_bed(&fx);
    let body = single_run(&fx, Some(&bed), "single.vcf.gz");
    // The module stages the FASTA's index beside it, as a pipeline would pass it.
    rust_htslib::faidx::Reader::from_path(&fx.fasta).unwrap();
    let work = fx.dir.path().join("nextflow");
    let out = Command::new("python3")
        .arg(repo().join("workflows/nextflow/lint.py"))
        .arg("--run")
        .args(["--varstream", env!("CARGO_BIN_EXE_varstream")])
        .args(["--fasta", fx.fasta.to_str().unwrap()])
        .args(["--reads", fx.bam.to_str().unwrap()])
        .args(["--bed", bed.to_str().unwrap()])
        .args(["--shards", "4", "--workdir", work.to_str().unwrap()])
        .output()
        .unwrap();
    check(&out, "workflows/nextflow/lint.py --run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let gathered = stdout
        .lines()
        .find_map(|l| l.strip_prefix("gathered: "))
        .unwrap_or_else(|| panic!("no gathered VCF in: {stdout}"));
    assert_eq!(vcf_body(Path::new(gathered)), body);
    let calls = std::fs::read_dir(&work)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with("call.")
        })
        .count();
    assert_eq!(calls, 4, "one call task per shard");
}

/// A small VCF for `varstream report` (two PASS calls for S1, one het one hom; a RefCall).
const VCF_BODY: &str = "chr1\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\t1/1
chr1\t200\t.\tC\tCA\t35\tPASS\t.\tGT\t1/1\t0/1
chr1\t300\t.\tT\tC\t3\tRefCall\t.\tGT\t0/0\t0/0
chr1\t400\t.\tG\tA\t40\tPASS\t.\tGT\t0/0\t0/1
";

// MultiQC finds the `_mqc.json` of two reports and puts their section, with each sample's
// numbers, in its data JSON and its HTML report.
#[test]
fn multiqc_finds_the_varstream_section() {
    let Some(multiqc) = venv_tool("multiqc") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let reports = dir.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let vcf = dir.path().join("calls.vcf");
    let text = vcf_head(&[("chr1", 100_000)], &[], &["GT"], &["S1", "S2"]) + VCF_BODY;
    std::fs::write(&vcf, text).unwrap();
    for s in ["S1", "S2"] {
        let prefix = reports.join(s);
        assert_ok(&run(&[
            "report",
            "--vcf",
            vcf.to_str().unwrap(),
            "--sample",
            s,
            "--output",
            prefix.to_str().unwrap(),
        ]));
    }
    let out_dir = dir.path().join("multiqc");
    let out = Command::new(&multiqc)
        .arg(&reports)
        .arg("--outdir")
        .arg(&out_dir)
        .output()
        .unwrap();
    check(&out, "multiqc");
    let data: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out_dir.join("multiqc_data/multiqc_data.json")).unwrap(),
    )
    .unwrap();
    let section = &data["report_saved_raw_data"]["multiqc_varstream_calls"];
    assert_eq!(section["S1"]["PASS calls"], 2, "{section}");
    assert_eq!(section["S2"]["PASS calls"], 3, "{section}");
    assert_eq!(section["S1"]["Indels"], 1, "{section}");
    let html = std::fs::read_to_string(out_dir.join("multiqc_report.html")).unwrap();
    assert!(
        html.contains("varstream calls"),
        "no varstream section in the HTML"
    );
    assert!(
        html.contains("varstream_calls"),
        "no varstream section id in the HTML"
    );
}
