//! Integration tests for `varstream score {prs,expression,effects}`.
//!
//! Fixtures are written into temp dirs by the tests; the plink2 comparisons run only where a
//! `plink2` binary is on PATH and say so when skipped.
//!
//! Over 600 lines: the PRS and expression tests share their fixtures and the plink2
//! comparison, which splitting would copy or scatter.
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::vcf_head;
use crate::corpus::complement;
use varstream::scores::{self, expression, prs};

fn vcf_text(samples: &[&str], records: &[(&str, u64, &str, &str, &str)]) -> String {
    let mut s = vcf_head(&[("1", 0), ("2", 0), ("11", 0)], &[], &["GT"], samples);
    for (c, p, r, a, gts) in records {
        s.push_str(&format!(
            "{c}\t{p}\t.\t{r}\t{a}\t.\tPASS\t.\tGT\t{}\n",
            gts.replace(' ', "\t")
        ));
    }
    s
}

const SCORE_HEAD: &str = "#format_version=2.0\n#pgs_id=EDGE1\n#genome_build=GRCh38\n#weight_type=beta\n\
rsID\tchr_name\tchr_position\teffect_allele\tother_allele\teffect_weight\tis_dominant\tis_recessive\n";

/// 14 rows covering every fate; see the comments for the expected match of each.
fn edge_fixture(dir: &Path) -> (PathBuf, PathBuf) {
    let vcf = dir.join("edge.vcf");
    let recs = [
        ("1", 100, "A", "G", "0/0 0/1 1/1 ./."),   // r1 refalt
        ("1", 200, "C", "T", "0/1 1/1 0/0 0|1"),   // r2 altref
        ("1", 300, "G", "A", "1/1 0/1 0/0 0/0"),   // r3 refalt_flip
        ("1", 400, "A", "C", "0/1 0/0 1/1 0/1"),   // r4 altref_flip
        ("1", 500, "A", "T", "0/1 0/1 0/1 0/1"),   // r5 palindromic
        ("1", 600, "C", "A,G", "0/2 1/2 2/2 0/0"), // r6 multi-allelic
        ("1", 800, "G", "A", "0/1 0/1 0/1 0/1"),   // r8 allele mismatch
        ("1", 900, "G", "A", "1/1 0/1 0/0 ./."),   // r9 no other allele
        ("2", 100, "C", "T", "0/1 0/1 0/1 0/1"),   // r10+r11 duplicate_ID
        ("2", 200, "C", "T", "0/1 0/1 0/1 0/1"),   // r12 duplicate best match...
        ("2", 200, "C", "T", "1/1 1/1 1/1 1/1"),   // ...with this record
        ("2", 300, "T", "C", "0/1 ./. 1/1 0/0"),   // r13 missing GT
        ("2", 400, "AT", "A", "0/1 0/0 1/1 1/1"),  // r14 indel
    ];
    std::fs::write(&vcf, vcf_text(&["S1", "S2", "S3", "S4"], &recs)).unwrap();
    let score = dir.join("EDGE1.txt");
    let rows = "r1\t1\t100\tA\tG\t1.0\tFalse\tFalse\n\
r2\t1\t200\tT\tC\t2.0\tFalse\tFalse\n\
r3\t1\t300\tC\tT\t0.5\tFalse\tFalse\n\
r4\t1\t400\tG\tT\t-1.0\tFalse\tFalse\n\
r5\t1\t500\tT\tA\t10\tFalse\tFalse\n\
r6\t1\t600\tG\tC\t10\tFalse\tFalse\n\
r7\t1\t700\tG\tC\t10\tFalse\tFalse\n\
r8\t1\t800\tT\tG\t10\tFalse\tFalse\n\
r9\t1\t900\tA\t\t0.25\tFalse\tFalse\n\
r10\t2\t100\tT\tC\t10\tFalse\tFalse\n\
r11\t2\t100\tT\tC\t10\tFalse\tFalse\n\
r12\t2\t200\tT\tC\t10\tFalse\tFalse\n\
r13\tchr2\t300\tC\tT\t3.0\tFalse\tFalse\n\
r14\t2\t400\tA\tAT\t-2.0\tFalse\tFalse\n";
    std::fs::write(&score, format!("{SCORE_HEAD}{rows}")).unwrap();
    (vcf, score)
}

pub(crate) fn read_tsv(path: &Path) -> Vec<HashMap<String, String>> {
    let mut text = String::new();
    let f = std::fs::File::open(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::MultiGzDecoder::new(f)
            .read_to_string(&mut text)
            .unwrap();
    } else {
        std::io::BufReader::new(f)
            .read_to_string(&mut text)
            .unwrap();
    }
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .trim_start_matches('#')
        .split('\t')
        .map(String::from)
        .collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split('\t').map(String::from))
                .collect()
        })
        .collect()
}

fn prs_args(vcf: &Path, pgs: &[PathBuf], out: &Path) -> prs::PrsArgs {
    prs::PrsArgs::defaults(vcf, pgs, out)
}

#[test]
fn prs_edge_cases_log_every_row_and_sum_by_hand() {
    let d = tempfile::tempdir().unwrap();
    let (vcf, score) = edge_fixture(d.path());
    std::fs::create_dir(d.path().join("out")).unwrap();
    let out = d.path().join("out/edge");
    // 7 of 14 rows survive: the default 0.75 overlap fails the score...
    let res = prs::run(&prs_args(&vcf, std::slice::from_ref(&score), &out)).unwrap();
    assert!(!res[0].pass);
    let rows = read_tsv(&d.path().join("out/edge.prs.tsv"));
    assert_eq!(rows.len(), 4);
    assert!(rows
        .iter()
        .all(|r| r["status"] == "FAIL" && r["SUM"] == "NA" && r["variants_matched"] == "7"));
    // ...and a lower threshold scores it.
    let mut args = prs_args(&vcf, &[score], &out);
    args.min_overlap = 0.5;
    let res = prs::run(&args).unwrap();
    assert!(res[0].pass);
    let log = read_tsv(&d.path().join("out/edge.prs_matches.tsv.gz"));
    assert_eq!(log.len(), 14, "one log row per scoring-file row");
    let fate: Vec<(String, String)> = log
        .iter()
        .map(|r| (r["match_status"].clone(), r["match_type"].clone()))
        .collect();
    let expect = [
        ("matched", "refalt"),
        ("matched", "altref"),
        ("matched", "refalt_flip"),
        ("matched", "altref_flip"),
        ("excluded", "altref"),
        ("excluded", "altref"),
        ("unmatched", ""),
        ("unmatched", ""),
        ("matched", "no_oa_alt"),
        ("excluded", "altref"),
        ("excluded", "altref"),
        ("excluded", "altref"),
        ("matched", "altref"),
        ("matched", "altref"),
    ];
    for (i, (got, want)) in fate.iter().zip(expect).enumerate() {
        assert_eq!(
            (got.0.as_str(), got.1.as_str()),
            want,
            "row r{}: {:?}",
            i + 1,
            log[i]
        );
    }
    assert_eq!(log[4]["ambiguous"], "true");
    assert!(log[4]["reason"].starts_with("ambiguous"));
    assert_eq!(log[5]["multiallelic"], "true");
    assert_eq!(log[5]["target_variant"], "1:600:C:G");
    assert!(log[6]["reason"].contains("no VCF record"));
    assert!(log[7]["reason"].contains("alleles do not match"));
    assert_eq!(log[9]["duplicate_ID"], "true");
    assert!(log[10]["reason"].contains("lines"));
    assert_eq!(log[11]["duplicate_best_match"], "true");
    assert_eq!(log[2]["flipped"], "true");
    assert_eq!(log[2]["target_effect_allele"], "G");
    assert_eq!(log[13]["target_variant"], "2:400:AT:A");
    // Hand-computed (see the genotype comments in edge_fixture); missing GT adds nothing.
    let sums: HashMap<String, (f64, f64)> = res[0]
        .samples
        .iter()
        .map(|s| (s.sample.clone(), (s.sum, s.denom)))
        .collect();
    assert_eq!(sums["S1"], (4.5, 14.0));
    assert_eq!(sums["S2"], (5.75, 12.0));
    assert_eq!(sums["S3"], (1.0, 14.0));
    assert_eq!(sums["S4"], (-2.0, 10.0));
    let table = read_tsv(&d.path().join("out/edge.prs.tsv"));
    let s2 = table.iter().find(|r| r["sample"] == "S2").unwrap();
    assert_eq!(
        (
            s2["SUM"].as_str(),
            s2["DENOM"].as_str(),
            s2["status"].as_str()
        ),
        ("5.75", "12", "PASS")
    );
    assert_eq!(s2["AVG"].parse::<f64>().unwrap(), 5.75 / 12.0);
    assert_eq!(s2["match_rate"], "0.5000");
}

// A sample with no called genotype at any matched variant (every GT missing) has no score:
// status FAIL and NA, not SUM 0 with PASS (which `score risk` then used as a real 0).
#[test]
fn prs_sample_without_genotypes_is_fail_not_zero() {
    let d = tempfile::tempdir().unwrap();
    let (_, score) = edge_fixture(d.path());
    let vcf = d.path().join("missing.vcf");
    let recs = [
        ("1", 100, "A", "G", "0/1 ./."),
        ("1", 200, "C", "T", "1/1 ./."),
        ("1", 300, "G", "A", "0/0 ./."),
        ("1", 400, "A", "C", "0/1 ./."),
        ("1", 900, "G", "A", "1/1 ./."),
        ("2", 100, "C", "T", "0/1 ./."),
        ("2", 200, "C", "T", "0/1 ./."),
        ("2", 300, "T", "C", "0/1 ./."),
        ("2", 400, "AT", "A", "0/1 ./."),
    ];
    std::fs::write(&vcf, vcf_text(&["CALLED", "EMPTY"], &recs)).unwrap();
    let mut args = prs_args(&vcf, &[score], &d.path().join("m"));
    args.min_overlap = 0.5;
    prs::run(&args).unwrap();
    let rows = read_tsv(&d.path().join("m.prs.tsv"));
    let row = |s: &str| rows.iter().find(|r| r["sample"] == s).unwrap().clone();
    assert_eq!(row("CALLED")["status"], "PASS");
    assert_ne!(row("CALLED")["SUM"], "NA");
    assert_eq!(row("EMPTY")["status"], "FAIL");
    assert_eq!(
        (row("EMPTY")["SUM"].as_str(), row("EMPTY")["AVG"].as_str()),
        ("NA", "NA")
    );
}

#[test]
fn prs_keep_flags_bring_back_palindromes_and_multiallelics() {
    let d = tempfile::tempdir().unwrap();
    let (vcf, score) = edge_fixture(d.path());
    let mut args = prs_args(&vcf, &[score], &d.path().join("k"));
    args.min_overlap = 0.0;
    args.keep_ambiguous = true;
    args.keep_multiallelic = true;
    let res = prs::run(&args).unwrap();
    assert_eq!(res[0].matched, 9);
    // S1 gains r5 (1 T copy × 10) and r6 (1 G copy × 10).
    assert_eq!(res[0].samples[0].sum, 4.5 + 10.0 + 10.0);
}

#[test]
fn prs_dominant_recessive_by_hand() {
    let d = tempfile::tempdir().unwrap();
    let vcf = d.path().join("dr.vcf");
    std::fs::write(
        &vcf,
        vcf_text(
            &["A", "B", "C"],
            &[
                ("1", 10, "C", "T", "0/0 0/1 1/1"),
                ("1", 20, "G", "A", "0/0 0/1 1/1"),
                ("1", 30, "G", "T", "0/1 1/1 0/0"),
            ],
        ),
    )
    .unwrap();
    let score = d.path().join("dr.txt");
    std::fs::write(
        &score,
        format!("{}r1\t1\t10\tT\tC\t1\tTrue\tFalse\nr2\t1\t20\tA\tG\t10\tFalse\tTrue\nr3\t1\t30\tT\tG\t100\tFalse\tFalse\n", SCORE_HEAD.replace("EDGE1", "DR")),
    )
    .unwrap();
    let res = prs::run(&prs_args(&vcf, &[score], &d.path().join("dr"))).unwrap();
    let sums: Vec<f64> = res[0].samples.iter().map(|s| s.sum).collect();
    // dominant min(d,1), recessive max(d-1,0), additive d
    assert_eq!(sums, vec![100.0, 1.0 + 200.0, 1.0 + 10.0]);
}

#[test]
fn prs_reference_distribution_adds_z_and_percentile() {
    let d = tempfile::tempdir().unwrap();
    let (vcf, score) = edge_fixture(d.path());
    let reference = d.path().join("ref.tsv");
    std::fs::write(
        &reference,
        "score_id\tpopulation\tmean\tsd\nEDGE1\t1000G EUR\t1.0\t2.0\n",
    )
    .unwrap();
    let mut args = prs_args(&vcf, &[score], &d.path().join("z"));
    args.min_overlap = 0.5;
    args.reference_distribution = Some(reference);
    prs::run(&args).unwrap();
    let t = read_tsv(&d.path().join("z.prs.tsv"));
    let s1 = t.iter().find(|r| r["sample"] == "S1").unwrap();
    assert_eq!(s1["Z"], "1.75");
    assert_eq!(s1["reference_population"], "1000G EUR");
    let pct: f64 = s1["percentile"].parse().unwrap();
    assert!((pct - 95.994).abs() < 0.01, "{pct}");
}

/// SUM of one score per sample, as plink2 computes it from our matched rows.
/// Returns (sum, tolerance from plink2's printed precision, DENOM) per sample, or None
/// without plink2.
pub(crate) fn plink2_sums(
    vcf: &Path,
    log: &Path,
    score_id: &str,
    dir: &Path,
    mean_impute: bool,
) -> Option<HashMap<String, (f64, f64, f64)>> {
    if Command::new("plink2").arg("--version").output().is_err() {
        crate::common::skip("plink2 comparison: no plink2 on PATH (Debian package `plink2`)");
        return None;
    }
    let rows = read_tsv(log);
    let mut out: HashMap<String, (f64, f64, f64)> = HashMap::new();
    for model in ["additive", "dominant", "recessive"] {
        let mine: Vec<_> = rows
            .iter()
            .filter(|r| {
                r["score_id"] == score_id
                    && r["match_status"] == "matched"
                    && r["effect_type"] == model
            })
            .collect();
        if mine.is_empty() {
            continue;
        }
        let sf = dir.join(format!("plink_{score_id}_{model}.txt"));
        let text: String = std::iter::once("ID\tA1\tW\n".to_string())
            .chain(mine.iter().map(|r| {
                // plink2 names human chromosomes without `chr` (`chr11` is `11` in its IDs).
                let id = &r["target_variant"];
                format!(
                    "{}\t{}\t{}\n",
                    id.strip_prefix("chr").unwrap_or(id),
                    r["target_effect_allele"],
                    r["effect_weight"]
                )
            }))
            .collect();
        std::fs::write(&sf, text).unwrap();
        let prefix = dir.join(format!("plink_{score_id}_{model}"));
        let mut cmd = Command::new("plink2");
        cmd.args(["--vcf"])
            .arg(vcf)
            .args([
                "--set-all-var-ids",
                "@:#:$r:$a",
                "--new-id-max-allele-len",
                "1000",
                "--max-alleles",
                "2",
                "--rm-dup",
                "exclude-all",
                "--score",
            ])
            .arg(&sf);
        cmd.args(["1", "2", "3", "header-read", "cols=+scoresums,+denom"]);
        if !mean_impute {
            cmd.arg("no-mean-imputation");
        }
        if model != "additive" {
            cmd.arg(model);
        }
        let o = cmd.arg("--out").arg(&prefix).output().unwrap();
        assert!(
            o.status.success(),
            "plink2 failed: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        for r in read_tsv(&prefix.with_extension("sscore")) {
            let printed = &r["W_SUM"];
            let v: f64 = printed.parse().unwrap();
            // plink2 prints 6 significant digits: half a unit in the last printed place.
            let tol = if v == 0.0 {
                1e-12
            } else {
                0.5 * 10f64.powf(v.abs().log10().floor() - 5.0) + 1e-12
            };
            let e = out.entry(r["IID"].clone()).or_default();
            e.0 += v;
            e.1 += tol;
            e.2 += r["DENOM"].parse::<f64>().unwrap();
        }
    }
    Some(out)
}

pub(crate) fn compare_with_plink2(
    res: &prs::ScoreResult,
    plink: &HashMap<String, (f64, f64, f64)>,
) -> f64 {
    let mut max = 0f64;
    for s in &res.samples {
        let (p, tol, denom) = plink.get(&s.sample).copied().unwrap_or((0.0, 1e-12, 0.0));
        assert_eq!(s.denom, denom, "{} {}: DENOM", res.id, s.sample);
        let diff = (s.sum - p).abs();
        assert!(
            diff <= tol,
            "{} {}: ours {} plink2 {p} (tol {tol})",
            res.id,
            s.sample,
            s.sum
        );
        max = max.max(diff);
    }
    max
}

#[test]
fn prs_edge_cases_equal_plink2() {
    let d = tempfile::tempdir().unwrap();
    let (vcf, score) = edge_fixture(d.path());
    // add dominant and recessive rows so all three plink2 modifiers are exercised
    let dr = d.path().join("DR.txt");
    std::fs::write(&dr, format!("{}r1\t1\t100\tA\tG\t0.7\tTrue\tFalse\nr2\t1\t200\tT\tC\t1.3\tFalse\tTrue\nr3\t1\t300\tC\tT\t0.11\tFalse\tFalse\nr13\t2\t300\tC\tT\t0.123456789\tTrue\tFalse\n", SCORE_HEAD.replace("EDGE1", "DR"))).unwrap();
    let mut args = prs_args(&vcf, &[score, dr], &d.path().join("e"));
    args.min_overlap = 0.5;
    let res = prs::run(&args).unwrap();
    let log = d.path().join("e.prs_matches.tsv.gz");
    for r in &res {
        let Some(p) = plink2_sums(&vcf, &log, &r.id, d.path(), false) else {
            return;
        };
        let max = compare_with_plink2(r, &p);
        eprintln!(
            "plink2 comparison {}: {} samples, {} matched rows, max |SUM diff| = {max:e}",
            r.id,
            r.samples.len(),
            r.matched
        );
    }
}

#[test]
fn prs_pgs000001_equals_plink2() {
    let pgs = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/scores/PGS000001_hmPOS_GRCh37.txt.gz");
    let file = varstream::scores::pgs_file::ScoringFile::read(&pgs).unwrap();
    assert_eq!(file.id, "PGS000001");
    assert_eq!(file.rows.len(), 77);
    assert!(file.harmonized);
    let d = tempfile::tempdir().unwrap();
    // Seeded genotypes at the scoring file's own positions; REF/ALT from its alleles in
    // varied orientations (refalt, altref, strand-flipped), some sites absent.
    let mut state: u64 = 0x5eed_1234;
    let mut rand = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as u32
    };
    let samples: Vec<String> = (0..20).map(|i| format!("P{i:02}")).collect();
    let mut recs: Vec<(u32, u64, String, String, String)> = Vec::new();
    for (i, row) in file.rows.iter().enumerate() {
        let other = row
            .other_allele
            .clone()
            .expect("PGS000001 has other alleles");
        let (r, a) = match i % 3 {
            0 => (other.clone(), row.effect_allele.clone()),
            1 => (row.effect_allele.clone(), other.clone()),
            _ => (complement(&other), complement(&row.effect_allele)),
        };
        if i % 13 == 5 {
            continue;
        }
        let gts: Vec<&str> = (0..samples.len())
            .map(|_| ["0/0", "0/1", "1/1", "0/1", "0/0", "./."][(rand() % 6) as usize])
            .collect();
        let chrom: u32 = row.chrom.parse().unwrap();
        recs.push((chrom, row.pos.unwrap(), r, a, gts.join("\t")));
    }
    recs.sort_by_key(|r| (r.0, r.1));
    let names: Vec<String> = (1..=22).map(|c| c.to_string()).collect();
    let contigs: Vec<(&str, u64)> = names.iter().map(|c| (c.as_str(), 0)).collect();
    let mut text = vcf_head(
        &contigs,
        &[],
        &["GT"],
        &samples.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    for (c, p, r, a, g) in &recs {
        text.push_str(&format!("{c}\t{p}\t.\t{r}\t{a}\t.\tPASS\t.\tGT\t{g}\n"));
    }
    let vcf = d.path().join("pgs1.vcf");
    std::fs::write(&vcf, text).unwrap();
    let res = prs::run(&prs_args(&vcf, &[pgs], &d.path().join("p"))).unwrap();
    let log = read_tsv(&d.path().join("p.prs_matches.tsv.gz"));
    assert_eq!(log.len(), 77);
    let count = |k: &str, v: &str| log.iter().filter(|r| r[k] == v).count();
    let (m, x, u) = (
        count("match_status", "matched"),
        count("match_status", "excluded"),
        count("match_status", "unmatched"),
    );
    eprintln!(
        "PGS000001: {m} matched, {x} excluded (palindromic: {}), {u} unmatched, {} flipped",
        count("ambiguous", "true"),
        count("flipped", "true")
    );
    assert_eq!(m + x + u, 77);
    assert_eq!(u, 6);
    assert!(count("flipped", "true") > 10 && x > 0);
    assert!(res[0].pass, "matched {m}/77");
    let Some(p) = plink2_sums(
        &vcf,
        &d.path().join("p.prs_matches.tsv.gz"),
        "PGS000001",
        d.path(),
        false,
    ) else {
        return;
    };
    let max = compare_with_plink2(&res[0], &p);
    eprintln!(
        "plink2 comparison PGS000001: 20 samples, {m} matched rows, max |SUM diff| = {max:e}"
    );
}

// A scoring file as the PGS Catalog serves some (a complete gzip stream whose last line has
// every column but no final newline) is read whole; a last line cut short of its columns is
// refused, naming the line. Truncation is judged by structure, not by a final newline.
#[test]
fn pgs_file_without_final_newline_is_read_and_a_cut_row_is_not() {
    use std::io::{Read as _, Write as _};
    let pgs = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/scores/PGS000001_hmPOS_GRCh37.txt.gz");
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&pgs).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let gz = |t: &str, path: &Path| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(t.as_bytes()).unwrap();
        std::fs::write(path, e.finish().unwrap()).unwrap();
    };
    let d = tempfile::tempdir().unwrap();
    let whole = varstream::scores::pgs_file::ScoringFile::read(&pgs).unwrap();
    let no_newline = d.path().join("PGS000001_no_newline.txt.gz");
    gz(text.trim_end_matches('\n'), &no_newline);
    let read = varstream::scores::pgs_file::ScoringFile::read(&no_newline).unwrap();
    assert_eq!(read.rows.len(), 77);
    assert_eq!(format!("{:?}", read.rows), format!("{:?}", whole.rows));
    // The same, plain text.
    let plain = d.path().join("PGS000001_no_newline.txt");
    std::fs::write(&plain, text.trim_end_matches('\n')).unwrap();
    assert_eq!(
        varstream::scores::pgs_file::ScoringFile::read(&plain)
            .unwrap()
            .rows
            .len(),
        77
    );
    // Cut inside the last line, two columns short.
    let body = text.trim_end_matches('\n');
    let cut_at = body.rmatch_indices('\t').nth(1).unwrap().0;
    let cut = d.path().join("PGS000001_cut.txt.gz");
    gz(&body[..cut_at], &cut);
    let e = varstream::scores::pgs_file::ScoringFile::read(&cut).unwrap_err();
    let msg = format!("{e:#}");
    assert!(
        msg.contains("PGS000001_cut.txt.gz") && msg.contains("columns"),
        "{msg}"
    );
}

fn make_predictdb(path: &Path) {
    let db = rusqlite::Connection::open(path).unwrap();
    db.execute_batch(
        "CREATE TABLE weights (gene TEXT, rsid TEXT, varID TEXT, ref_allele TEXT, eff_allele TEXT, weight DOUBLE);
         CREATE TABLE extra (gene TEXT, genename TEXT, \"n.snps.in.model\" INTEGER, \"pred.perf.R2\" DOUBLE, \"pred.perf.pval\" DOUBLE, \"pred.perf.qval\" DOUBLE);
         INSERT INTO weights VALUES
           ('ENSG1', 'rs1', 'chr1_100_A_G_b38', 'A', 'G', 0.5),
           ('ENSG1', 'rs2', 'chr1_200_C_T_b38', 'T', 'C', -1.0),
           ('ENSG1', 'rs3', 'chr1_300_G_A_b38', 'G', 'A', 2.0),
           ('ENSG2', 'rs4', 'rs4', 'C', 'T', 0.25),
           ('ENSG2', 'rs9', 'chr1_999_A_C_b38', 'A', 'C', 7.0);
         INSERT INTO extra VALUES ('ENSG1', 'GENE1', 3, 0.31, 1e-5, 1e-4), ('ENSG2', 'GENE2', 2, 0.12, 0.01, 0.02);",
    )
    .unwrap();
}

#[test]
fn expression_matches_hand_computed_predixcan() {
    let d = tempfile::tempdir().unwrap();
    let vcf = d.path().join("e.vcf");
    let mut text = vcf_text(
        &["S1", "S2", "S3"],
        &[
            ("chr1", 100, "A", "G", "0/1 1/1 ./."),
            ("chr1", 200, "C", "T", "0/0 0/1 1/1"),
            ("chr1", 300, "G", "A", "1/1 ./. 0/1"),
        ],
    );
    text.push_str("chr1\t400\trs4\tC\tT\t.\tPASS\t.\tGT\t0/1\t0/0\t1/1\n");
    std::fs::write(&vcf, text.replace("##contig=<ID=1>", "##contig=<ID=chr1>")).unwrap();
    let db = d.path().join("Whole_Blood.db");
    make_predictdb(&db);
    let run = |missing: expression::Missing| {
        let mut a = expression::ExpressionArgs::defaults(
            &vcf,
            std::slice::from_ref(&db),
            &d.path().join(format!("x_{missing:?}")),
        );
        a.missing = missing;
        expression::run(&a).unwrap();
        read_tsv(&d.path().join(format!("x_{missing:?}.expression.tsv")))
    };
    let get = |t: &[HashMap<String, String>], s: &str, g: &str| {
        t.iter()
            .find(|r| r["sample"] == s && r["gene"] == g)
            .unwrap()
            .clone()
    };
    let skip = run(expression::Missing::Skip);
    assert_eq!(skip.len(), 6);
    // ENSG1, S1: 0.5×1 (G copies) + (-1)×(C copies = 2) + 2×2 (A copies) = 2.5
    let r = get(&skip, "S1", "ENSG1");
    assert_eq!(
        (
            r["predicted_expression"].as_str(),
            r["n_snps_used"].as_str(),
            r["n_snps_in_model"].as_str()
        ),
        ("2.5", "3", "3")
    );
    assert_eq!(
        (
            r["genename"].as_str(),
            r["pred_perf_R2"].as_str(),
            r["model"].as_str()
        ),
        ("GENE1", "0.31", "Whole_Blood")
    );
    // S2: 0.5×2 + (-1)×1 + missing (skipped) = 0
    let r = get(&skip, "S2", "ENSG1");
    assert_eq!(
        (
            r["predicted_expression"].as_str(),
            r["n_snps_used"].as_str()
        ),
        ("0", "2")
    );
    // S3: missing + (-1)×0 + 2×1 = 2
    assert_eq!(get(&skip, "S3", "ENSG1")["predicted_expression"], "2");
    // ENSG2 by rsID (varID is an rsID): S3 0.25×2; the absent rs9 is never used.
    let r = get(&skip, "S3", "ENSG2");
    assert_eq!(
        (
            r["predicted_expression"].as_str(),
            r["n_snps_used"].as_str(),
            r["n_snps_in_model"].as_str()
        ),
        ("0.5", "1", "2")
    );
    // PrediXcan: missing = 0 ALT copies → S2 rs3 (eff = ALT A) adds 0; S3 rs1 adds 0.
    let px = run(expression::Missing::Predixcan);
    assert_eq!(get(&px, "S2", "ENSG1")["predicted_expression"], "0");
    assert_eq!(get(&px, "S2", "ENSG1")["n_snps_used"], "3");
    // Mean: S2 rs3 gets mean A copies of S1,S3 = 1.5 → 0 + 2×1.5 = 3
    let mean = run(expression::Missing::Mean);
    assert_eq!(get(&mean, "S2", "ENSG1")["predicted_expression"], "3");
    // S3 rs1: mean G copies (1+2)/2 = 1.5 → 0.5×1.5 + 0 + 2 = 2.75
    assert_eq!(get(&mean, "S3", "ENSG1")["predicted_expression"], "2.75");
}

#[test]
fn expression_predixcan_counts_missing_as_zero_alt_when_eff_is_ref() {
    let d = tempfile::tempdir().unwrap();
    let vcf = d.path().join("e.vcf");
    std::fs::write(&vcf, vcf_text(&["S1"], &[("1", 200, "C", "T", "./.")])).unwrap();
    let db = d.path().join("m.db");
    make_predictdb(&db);
    let mut a = expression::ExpressionArgs::defaults(&vcf, &[db], &d.path().join("y"));
    a.missing = expression::Missing::Predixcan;
    expression::run(&a).unwrap();
    let t = read_tsv(&d.path().join("y.expression.tsv"));
    // rs2's eff_allele C is REF: 0 ALT copies = 2 C copies → -1 × 2
    let r = t.iter().find(|r| r["gene"] == "ENSG1").unwrap();
    assert_eq!(
        (
            r["predicted_expression"].as_str(),
            r["n_snps_used"].as_str()
        ),
        ("-2", "1")
    );
}

#[test]
fn score_after_call_writes_prs_and_expression() {
    let d = tempfile::tempdir().unwrap();
    let (vcf, score) = edge_fixture(d.path());
    let db = d.path().join("m.db");
    make_predictdb(&db);
    std::fs::create_dir(d.path().join("run")).unwrap();
    let prefix = d.path().join("run/sample");
    scores::score_after_call(
        &vcf,
        &prefix,
        scores::AfterCall::read(vec![score], None, vec![db]).unwrap(),
    )
    .unwrap();
    for f in [
        "sample.prs.tsv",
        "sample.prs_matches.tsv.gz",
        "sample.expression.tsv",
    ] {
        assert!(d.path().join("run").join(f).is_file(), "{f}");
    }
    scores::score_after_call(&vcf, &prefix, scores::AfterCall::default()).unwrap();
}

#[test]
fn cli_score_prs_runs_and_reports_bad_input() {
    let d = tempfile::tempdir().unwrap();
    let (vcf, score) = edge_fixture(d.path());
    let exe = env!("CARGO_BIN_EXE_varstream");
    let o = Command::new(exe)
        .args(["score", "prs", "--vcf"])
        .arg(&vcf)
        .arg("--pgs")
        .arg(&score)
        .args(["--min-overlap", "0.5", "--output"])
        .arg(d.path().join("cli"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(d.path().join("cli.prs.tsv").is_file());
    let bad = d.path().join("bad.txt");
    std::fs::write(
        &bad,
        "#pgs_id=B\nchr_name\tchr_position\teffect_allele\teffect_weight\n1\t5\tA\tx\n",
    )
    .unwrap();
    let o = Command::new(exe)
        .args(["score", "prs", "--vcf"])
        .arg(&vcf)
        .arg("--pgs")
        .arg(&bad)
        .arg("--output")
        .arg(d.path().join("b"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.txt") && err.contains("line 3") && err.contains("effect_weight"),
        "{err}"
    );
}

fn ort_available() -> bool {
    if varstream::inference::locate_onnxruntime().is_err() {
        crate::common::skip("effects test: ONNX Runtime not found (set ORT_DYLIB_PATH or create .venv with onnxruntime==1.31.1)");
        return false;
    }
    true
}

#[test]
fn effects_match_hand_computed_tracks() {
    if !ort_available() {
        return;
    }
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scores");
    let d = tempfile::tempdir().unwrap();
    // positions 0-based: 0..19
    let fa = d.path().join("g.fa");
    std::fs::write(&fa, ">chr1\nACGTAAAACCCCGGGGTTTT\n").unwrap();
    // window 8, centre index 4: target at 0-based 8 → window [4, 12) = "AAAACCCC"
    let bed = d.path().join("t.bed");
    std::fs::write(&bed, "chr1\t8\t9\tplus\t0\t+\nchr1\t0\t9\tminus\t0\t-\n").unwrap();
    let vcf = d.path().join("v.vcf");
    let text = vcf_text(
        &["S1", "S2"],
        &[
            ("1", 6, "A", "G", "0/1 1/1"),
            ("1", 11, "C", "A", "./. 0/1"),
            ("1", 30, "T", "C", "1/1 1/1"),
        ],
    );
    std::fs::write(&vcf, text).unwrap();
    let args = scores::effects::EffectsArgs {
        vcf,
        reference: fa,
        model: data.join("effects_test_model.onnx"),
        sidecar: None,
        targets: bed,
        output: d.path().join("fx"),
        device: varstream::inference::Device::Cpu,
        threads: 1,
        batch_size: None,
    };
    scores::effects::run(&args).unwrap();
    let t = read_tsv(&d.path().join("fx.effects.tsv"));
    let get = |pos: &str, target: &str, track: &str| {
        let r = t
            .iter()
            .find(|r| r["pos"] == pos && r["target_id"] == target && r["track"] == track)
            .unwrap();
        (
            r["ref_score"].parse::<f64>().unwrap(),
            r["alt_score"].parse::<f64>().unwrap(),
            r["alt_minus_ref"].parse::<f64>().unwrap(),
        )
    };
    // "plus" window AAAACCCC: gc 4, a_weight 1+2+3+4 = 10.
    // pos 6 (0-based 5, index 1) A→G: AGAACCCC: gc 5, a_weight 1+3+4 = 8
    assert_eq!(get("6", "plus", "gc"), (4.0, 5.0, 1.0));
    assert_eq!(get("6", "plus", "a_weight"), (10.0, 8.0, -2.0));
    // pos 11 (0-based 10, index 6) C→A: AAAACCAC: gc 3, a_weight 10 + 7 = 17
    assert_eq!(get("11", "plus", "gc"), (4.0, 3.0, -1.0));
    assert_eq!(get("11", "plus", "a_weight"), (10.0, 17.0, 7.0));
    // "minus": centre 8 on '-', window [4,12) reverse-complemented: GGGGTTTT (gc 4, a 0);
    // A→G at 0-based 5 → AGAACCCC rc = GGGGTTCT: gc 5, and no A on this strand
    assert_eq!(get("6", "minus", "gc"), (4.0, 5.0, 1.0));
    assert_eq!(get("6", "minus", "a_weight"), (0.0, 0.0, 0.0));
    // C→A at 0-based 10 → AAAACCAC rc = GTGGTTTT: gc 3, a_weight 0
    assert_eq!(get("11", "minus", "gc"), (4.0, 3.0, -1.0));
    assert_eq!(t.len(), 2 * 2 * 2, "pos 30 lies outside every window");
    let s = read_tsv(&d.path().join("fx.effects_samples.tsv"));
    let w = |sample: &str, target: &str, track: &str| {
        s.iter()
            .find(|r| r["sample"] == sample && r["target_id"] == target && r["track"] == track)
            .unwrap()["dosage_weighted_effect"]
            .parse::<f64>()
            .unwrap()
    };
    // S1: 1 copy of pos 6 (missing at 11); S2: 2 copies of pos 6 + 1 of pos 11
    assert_eq!(w("S1", "plus", "a_weight"), -2.0);
    assert_eq!(w("S2", "plus", "a_weight"), -4.0 + 7.0);
}

#[test]
fn prs_mean_imputation_with_50_samples_equals_plink2() {
    let d = tempfile::tempdir().unwrap();
    let mut state: u64 = 42;
    let mut rand = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let samples: Vec<String> = (0..60).map(|i| format!("M{i}")).collect();
    let names: Vec<&str> = samples.iter().map(String::as_str).collect();
    let gts: Vec<String> = (0..10)
        .map(|_| {
            (0..60)
                .map(|_| ["0/0", "0/1", "1/1", "./."][rand() % 4])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let recs: Vec<(&str, u64, &str, &str, &str)> = gts
        .iter()
        .enumerate()
        .map(|(k, g)| ("1", 100 * (k as u64 + 1), "A", "G", g.as_str()))
        .collect();
    let vcf = d.path().join("mi.vcf");
    std::fs::write(&vcf, vcf_text(&names, &recs)).unwrap();
    let rows: String = (0..10)
        .map(|k| {
            let (e, o) = if k % 2 == 1 { ("G", "A") } else { ("A", "G") };
            format!(
                "r{k}\t1\t{}\t{e}\t{o}\t{}\tFalse\tFalse\n",
                100 * (k + 1),
                0.1 * (k + 1) as f64
            )
        })
        .collect();
    let score = d.path().join("MI.txt");
    std::fs::write(
        &score,
        format!("{}{rows}", SCORE_HEAD.replace("EDGE1", "MI")),
    )
    .unwrap();
    let res = prs::run(&prs_args(&vcf, &[score], &d.path().join("mi"))).unwrap();
    assert!(
        res[0].samples.iter().all(|s| s.denom == 20.0),
        "imputed variants count in DENOM"
    );
    let Some(p) = plink2_sums(
        &vcf,
        &d.path().join("mi.prs_matches.tsv.gz"),
        "MI",
        d.path(),
        true,
    ) else {
        return;
    };
    let max = compare_with_plink2(&res[0], &p);
    eprintln!(
        "plink2 comparison MI (mean imputation): 60 samples, 10 rows, max |SUM diff| = {max:e}"
    );
}
