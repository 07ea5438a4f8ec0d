//! Real reads: NA12878 chr20:10.0-10.1 Mb (the development evaluation set, never used for
//! training). Found through VARSTREAM_DATA (default ../shared/data); skipped with a message
//! when absent, except under `CI=true`, where CI has it beside the clone and a skip would hide
//! a broken path.

use std::path::{Path, PathBuf};

use crate::common::*;

struct Data {
    dir: PathBuf,
}

impl Data {
    fn find() -> Option<Self> {
        let dir = shared_data().join("na12878_chr20");
        if dir.join("NA12878_S1.chr20.10_10p1mb.bam").is_file() {
            Some(Self { dir })
        } else {
            assert!(
                !ci(),
                "real data not found at {} under CI=true (set VARSTREAM_DATA)",
                dir.display()
            );
            eprintln!(
                "SKIP: real data not found at {} (set VARSTREAM_DATA)",
                dir.display()
            );
            None
        }
    }
    fn p(&self, f: &str) -> String {
        self.dir.join(f).display().to_string()
    }
}

fn call(d: &Data, reads: &str, out: &std::path::Path, threads: &str) {
    let o = call_with(
        Path::new(&d.p("ucsc.hg19.chr20.unittest.fasta.gz")),
        Path::new(&d.p(reads)),
        out,
        &["--region", "chr20:10000000-10100000", "--threads", threads],
    );
    assert_ok(&o);
}

fn evaluate(d: &Data, vcf: &std::path::Path, bed: &std::path::Path) -> varstream::eval::Comparison {
    let reference = varstream::reference::Reference::open(std::path::Path::new(
        &d.p("ucsc.hg19.chr20.unittest.fasta.gz"),
    ))
    .unwrap();
    let rep = varstream::eval::evaluate(
        std::path::Path::new(&d.p("test_nist.b37_chr20_100kbp_at_10mb.vcf.gz")),
        vcf,
        bed,
        &reference,
        (None, None),
    )
    .unwrap();
    eprintln!("{}:\n{}", bed.display(), rep.table());
    rep
}

// Accuracy floors against GIAB v3.3.2. The targets are ALL F1_GT >= 0.98 in the
// confident BED over 10.00-10.01 Mb (met), and SNV F1 >= 0.96 / INDEL F1 >= 0.85 over the whole
// window (SNV met, INDEL not yet: model varstream-v3 with local realignment measures
// 0.9612 / 0.8434 with this comparison). The
// window floors below guard against regressions from the measured values; raise them as models
// improve. Models are chosen on held-out simulated data, never on this window.
#[test]
fn accuracy_floors_on_na12878() {
    let Some(d) = Data::find() else { return };
    if !require_ort() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let vcf = tmp.path().join("na12878.vcf.gz");
    call(&d, "NA12878_S1.chr20.10_10p1mb.bam", &vcf, "2");
    let conf = tmp.path().join("conf10k.bed");
    let bed = std::fs::read_to_string(d.p("test_nist.b37_chr20_100kbp_at_10mb.bed")).unwrap();
    let clipped: String = bed
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let (s, e): (u64, u64) = (f[1].parse().ok()?, f[2].parse().ok()?);
            let e = e.min(10_010_000);
            (s < e).then(|| format!("{}\t{s}\t{e}\n", f[0]))
        })
        .collect();
    std::fs::write(&conf, clipped).unwrap();
    let c = evaluate(&d, &vcf, &conf);
    assert_eq!(
        c.all().tp + c.all().fn_,
        48,
        "truth variants in confident BED ∩ 10.00-10.01 Mb"
    );
    assert!(
        c.all().f1_gt() >= 0.98,
        "confident ALL F1_GT {:.4} < 0.98",
        c.all().f1_gt()
    );
    let w = evaluate(&d, &vcf, std::path::Path::new(&d.p("window.bed")));
    assert!(
        w.snv.f1() >= 0.96,
        "window SNV F1 {:.4} fell below the 0.96 target",
        w.snv.f1()
    );
    assert!(
        w.indel.f1() >= 0.83,
        "window INDEL F1 {:.4} fell below the 0.83 regression floor",
        w.indel.f1()
    );
}

// The same reads as BAM and CRAM, and one or two threads, give the same VCF body.
#[test]
fn bam_cram_and_threads_agree_on_na12878() {
    let Some(d) = Data::find() else { return };
    if !require_ort() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (b1, b2, c2) = (
        tmp.path().join("b1.vcf.gz"),
        tmp.path().join("b2.vcf.gz"),
        tmp.path().join("c2.vcf.gz"),
    );
    call(&d, "NA12878_S1.chr20.10_10p1mb.bam", &b1, "1");
    call(&d, "NA12878_S1.chr20.10_10p1mb.bam", &b2, "2");
    call(&d, "NA12878_S1.chr20.10_10p1mb.cram", &c2, "2");
    let body = vcf_body(&b1);
    assert!(body.len() > 200, "{} records", body.len());
    assert_eq!(body, vcf_body(&b2), "--threads 1 vs 2");
    assert_eq!(body, vcf_body(&c2), "BAM vs CRAM");
}
