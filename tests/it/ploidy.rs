//! Ploidy and sex end to end: a synthetic genome with an autosome, chrX (with a PAR), chrY and
//! chrM, read as an XY, an XX and an X0 sample.

use crate::common::*;
use rand::{Rng, SeedableRng};

const A_LEN: usize = 20_000;
const X_LEN: usize = 30_000;
const Y_LEN: usize = 12_000;
const M_LEN: usize = 3_000;
/// chrX:1-6000 is the PAR (given with --par).
const PAR_END: usize = 6_000;

#[derive(Clone, Copy, PartialEq)]
enum Karyotype {
    XY,
    XX,
    X0,
}

/// 0-based positions of the planted SNVs.
const A_HET: u64 = 5_000;
const A_HOM: u64 = 12_000;
const X_PAR_HET: u64 = 3_000;
/// On the first X: hemizygous in XY and X0, heterozygous in XX.
const X_SNV: u64 = 15_000;
/// On both X in XX; on the only X otherwise.
const X_BOTH: u64 = 22_000;
const Y_SNV: u64 = 6_000;
const M_SNV: u64 = 1_500;

struct SexFixture {
    dir: tempfile::TempDir,
    fasta: std::path::PathBuf,
    bam: std::path::PathBuf,
    par: std::path::PathBuf,
}

fn snv(reference: &[u8], p: u64) -> (u64, Vec<u8>, Vec<u8>) {
    let r = reference[p as usize];
    (p, vec![r], vec![if r == b'G' { b'T' } else { b'G' }])
}

fn hap(reference: &[u8], snvs: &[(u64, Vec<u8>, Vec<u8>)]) -> Hap {
    let v: Vec<(u64, &[u8], &[u8])> = snvs.iter().map(|(p, r, a)| (*p, &r[..], &a[..])).collect();
    apply(reference, &v)
}

/// Reads (20x per haplotype: 100 bp every 5 bases) sorted by contig, then position: the sort
/// key puts the contig's rank above any position.
fn build_sex(k: Karyotype) -> SexFixture {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
    let a = random_seq(&mut rng, A_LEN);
    let x = random_seq(&mut rng, X_LEN);
    let y = random_seq(&mut rng, Y_LEN);
    let m = random_seq(&mut rng, M_LEN);
    let _ = rng.random::<u8>();
    let (dir, fasta) = temp_fasta(&[("chr1", &a), ("chrX", &x), ("chrY", &y), ("chrM", &m)]);
    let par = dir.path().join("par.bed");
    std::fs::write(&par, format!("chrX\t0\t{PAR_END}\n")).unwrap();

    let mut records: Vec<(u64, String)> = Vec::new();
    let mut add = |rank: u64, contig: &str, h: &Hap, prefix: &str, keep: &dyn Fn(u64) -> bool| {
        for (pos, line) in tiled_reads(contig, h, 5, prefix, "") {
            if keep(pos) {
                records.push((rank * 1_000_000_000 + pos, line));
            }
        }
    };
    let all = |_: u64| true;
    add(
        0,
        "chr1",
        &hap(&a, &[snv(&a, A_HET), snv(&a, A_HOM)]),
        "a1",
        &all,
    );
    add(0, "chr1", &hap(&a, &[snv(&a, A_HOM)]), "a2", &all);
    let x1 = hap(&x, &[snv(&x, X_PAR_HET), snv(&x, X_SNV), snv(&x, X_BOTH)]);
    add(1, "chrX", &x1, "x1", &all);
    let x2 = hap(&x, &[snv(&x, X_BOTH)]);
    match k {
        Karyotype::XX => add(1, "chrX", &x2, "x2", &all),
        // The Y's copy of the PAR: its reads map to chrX's PAR.
        Karyotype::XY => add(1, "chrX", &x2, "x2", &|p| p + 100 <= PAR_END as u64),
        Karyotype::X0 => {}
    }
    if k == Karyotype::XY {
        add(2, "chrY", &hap(&y, &[snv(&y, Y_SNV)]), "y1", &all);
    }
    add(3, "chrM", &hap(&m, &[snv(&m, M_SNV)]), "m1", &all);
    add(3, "chrM", &hap(&m, &[snv(&m, M_SNV)]), "m2", &all);

    let header = sam_header(
        &[
            ("chr1", A_LEN),
            ("chrX", X_LEN),
            ("chrY", Y_LEN),
            ("chrM", M_LEN),
        ],
        "SEXTEST",
    );
    let bam = dir.path().join("reads.bam");
    write_alignments(&bam, &header, records, None);
    SexFixture {
        dir,
        fasta,
        bam,
        par,
    }
}

fn call(fx: &SexFixture, name: &str, extra: &[&str]) -> (std::process::Output, std::path::PathBuf) {
    let vcf = fx.dir.path().join(name);
    (call_with(&fx.fasta, &fx.bam, &vcf, extra), vcf)
}

/// GT of the record at contig:pos (0-based), if any.
fn gt_at(body: &[String], contig: &str, pos0: u64) -> Option<String> {
    body.iter()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .find(|f| f[0] == contig && f[1] == (pos0 + 1).to_string())
        .map(|f| f[9].split(':').next().unwrap().to_string())
}

fn header_sex(vcf: &std::path::Path) -> String {
    use std::io::Read;
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(vcf).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s.lines()
        .find(|l| l.starts_with("##varstream_sex="))
        .unwrap_or("")
        .to_string()
}

#[test]
fn xy_sample_is_inferred_and_called_haploid_outside_the_par() {
    if !require_ort() {
        return;
    }
    let fx = build_sex(Karyotype::XY);
    let par = fx.par.to_str().unwrap().to_string();
    let (out, vcf) = call(&fx, "xy.vcf.gz", &["--par", &par]);
    assert_ok(&out);
    let sex = header_sex(&vcf);
    assert!(sex.contains("Sex=XY,Source=inferred"), "{sex}");
    let body = vcf_body(&vcf);
    assert_eq!(gt_at(&body, "chr1", A_HET).as_deref(), Some("0/1"));
    assert_eq!(gt_at(&body, "chr1", A_HOM).as_deref(), Some("1/1"));
    assert_eq!(
        gt_at(&body, "chrX", X_PAR_HET).as_deref(),
        Some("0/1"),
        "PAR stays diploid"
    );
    assert_eq!(gt_at(&body, "chrX", X_SNV).as_deref(), Some("1"));
    assert_eq!(gt_at(&body, "chrX", X_BOTH).as_deref(), Some("1"));
    assert_eq!(gt_at(&body, "chrY", Y_SNV).as_deref(), Some("1"));
    assert_eq!(gt_at(&body, "chrM", M_SNV).as_deref(), Some("1"));
    // Haploid PL: one value per allele.
    let rec = body
        .iter()
        .find(|l| l.starts_with("chrX\t15001\t"))
        .unwrap();
    let pl = rec.split('\t').nth(9).unwrap().split(':').nth(5).unwrap();
    assert_eq!(pl.split(',').count(), 2, "{rec}");
    // bcftools reads the haploid genotypes.
    if let Ok(o) = std::process::Command::new("bcftools")
        .args(["query", "-f", "[%GT]\\n", "-r", "chrX:15001"])
        .arg(&vcf)
        .output()
    {
        assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "1", "{o:?}");
    } else {
        assert!(!ci(), "bcftools is required when CI=true");
    }

    // The same calls for any sharding and threads.
    let (out, vcf1) = call(
        &fx,
        "xy1.vcf.gz",
        &["--par", &par, "--shard-size", "1000", "--threads", "1"],
    );
    assert_ok(&out);
    assert_eq!(vcf_body(&vcf1), body);
    // A scattered run over chrX alone infers the same sex (the windows do not depend on it).
    let (out, vcfx) = call(&fx, "xyx.vcf.gz", &["--par", &par, "--region", "chrX"]);
    assert_ok(&out);
    assert_eq!(header_sex(&vcfx), sex);
    let x_only: Vec<String> = body
        .iter()
        .filter(|l| l.starts_with("chrX\t"))
        .cloned()
        .collect();
    assert_eq!(vcf_body(&vcfx), x_only);
}

#[test]
fn xx_sample_stays_diploid_and_has_no_chry_calls() {
    if !require_ort() {
        return;
    }
    let fx = build_sex(Karyotype::XX);
    let par = fx.par.to_str().unwrap().to_string();
    let (out, vcf) = call(&fx, "xx.vcf.gz", &["--par", &par]);
    assert_ok(&out);
    assert!(
        header_sex(&vcf).contains("Sex=XX,Source=inferred"),
        "{}",
        header_sex(&vcf)
    );
    let body = vcf_body(&vcf);
    assert_eq!(gt_at(&body, "chrX", X_SNV).as_deref(), Some("0/1"));
    assert_eq!(gt_at(&body, "chrX", X_BOTH).as_deref(), Some("1/1"));
    assert!(body.iter().all(|l| !l.starts_with("chrY\t")));
    assert_eq!(gt_at(&body, "chrM", M_SNV).as_deref(), Some("1"));
}

#[test]
fn x0_is_ambiguous_and_diploid_unless_the_user_chooses() {
    if !require_ort() {
        return;
    }
    let fx = build_sex(Karyotype::X0);
    let par = fx.par.to_str().unwrap().to_string();
    let (out, vcf) = call(&fx, "x0.vcf.gz", &["--par", &par]);
    assert_ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ambiguous"), "{stderr}");
    assert!(
        header_sex(&vcf).contains("Sex=unknown"),
        "{}",
        header_sex(&vcf)
    );
    let body = vcf_body(&vcf);
    assert_eq!(gt_at(&body, "chrX", X_SNV).as_deref(), Some("1/1"));
    // The user's word wins.
    let (out, vcf) = call(&fx, "x0xy.vcf.gz", &["--par", &par, "--sex", "XY"]);
    assert_ok(&out);
    assert!(header_sex(&vcf).contains("Sex=XY,Source=user"));
    assert_eq!(gt_at(&vcf_body(&vcf), "chrX", X_SNV).as_deref(), Some("1"));
}

// An explicit --haploid-contigs applies as given, whatever the sex (as DeepVariant's
// --haploid_contigs does): on an XX sample chrX is called haploid, with a warning that the
// sex says otherwise, and an autosome the user names is haploid too.
#[test]
fn explicit_haploid_contigs_apply_whatever_the_sex() {
    if !require_ort() {
        return;
    }
    let fx = build_sex(Karyotype::XX);
    let par = fx.par.to_str().unwrap().to_string();
    let (out, vcf) = call(
        &fx,
        "hx.vcf.gz",
        &["--par", &par, "--haploid-contigs", "chrX,chr1"],
    );
    assert_ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--haploid-contigs chrX: called haploid as given")
            && stderr.contains("sex is XX"),
        "{stderr}"
    );
    let body = vcf_body(&vcf);
    assert_eq!(gt_at(&body, "chrX", X_BOTH).as_deref(), Some("1"));
    assert_eq!(gt_at(&body, "chr1", A_HOM).as_deref(), Some("1"));
    // Inside chrX's PAR the sample stays diploid.
    assert_eq!(gt_at(&body, "chrX", X_PAR_HET).as_deref(), Some("0/1"));
}

#[test]
fn ploidy_file_sets_ploidy_0_and_1() {
    if !require_ort() {
        return;
    }
    let fx = build_sex(Karyotype::XY);
    let file = fx.dir.path().join("ploidy.txt");
    // chr1 haploid (an organism with no diploid chr1), chrY absent, the rest diploid.
    std::fs::write(&file, "chr1 * * * 1\nchrY 1 12000 * 0\n* * * * 2\n").unwrap();
    let (out, vcf) = call(&fx, "pf.vcf.gz", &["--ploidy-file", file.to_str().unwrap()]);
    assert_ok(&out);
    let body = vcf_body(&vcf);
    assert_eq!(gt_at(&body, "chr1", A_HOM).as_deref(), Some("1"));
    assert_eq!(gt_at(&body, "chrX", X_PAR_HET).as_deref(), Some("0/1"));
    assert!(body.iter().all(|l| !l.starts_with("chrY\t")));
    assert_eq!(
        gt_at(&body, "chrM", M_SNV).as_deref(),
        Some("1/1"),
        "the file replaces chrM's default"
    );
    assert_eq!(header_sex(&vcf), "", "no rule depends on the sex");
    // A bad row is exit 2, naming the file and line.
    std::fs::write(&file, "chr1 1 100 * 3\n").unwrap();
    let (out, _) = call(
        &fx,
        "bad.vcf.gz",
        &["--ploidy-file", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ploidy.txt line 1"), "{stderr}");
    // A haploid contig the reads lack: exit 2 with the right name.
    let (out, _) = call(&fx, "hc.vcf.gz", &["--haploid-contigs", "X"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean chrX?"));
    // Unknown PARs for an XY sample's chrX: exit 2 with the fix.
    let (out, _) = call(&fx, "nopar.vcf.gz", &["--sex", "XY"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--par"));
}

// Options that change nothing in this run say so: --sex where no called region depends on
// the sex, --haploid-contigs naming a contig that is not called, --par with no haploid contig
// called.
#[test]
fn ploidy_options_that_change_nothing_say_so() {
    if !require_ort() {
        return;
    }
    let fx = build_sex(Karyotype::XY);
    let par = fx.par.to_str().unwrap().to_string();
    let (out, _) = call(
        &fx,
        "idle.vcf.gz",
        &[
            "--region",
            "chr1",
            "--sex",
            "XY",
            "--haploid-contigs",
            "chrX,chrY",
            "--par",
            &par,
        ],
    );
    assert_ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    for want in [
        "--sex XY: no called region's ploidy depends on the sex",
        "--haploid-contigs chrX,chrY: no region is called there",
        "--par: no haploid contig is called",
    ] {
        assert!(err.contains(want), "missing {want:?} in {err}");
    }
    // Where they do apply, no such warning.
    let (out, _) = call(&fx, "used.vcf.gz", &["--sex", "XY", "--par", &par]);
    assert_ok(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("changes nothing") && !err.contains("change nothing"),
        "{err}"
    );
}
