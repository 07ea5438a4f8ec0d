//! PredictDB databases in the GTEx v8 schema (issue 23, item 1, the corpus's last entry):
//! `weights(gene, rsid, varID, ref_allele, eff_allele, weight)` with varIDs like
//! `chr1_12345_A_G_b38`, rsid `.` or `NA` where a variant has none, and the v8 `extra` table
//! (`gene_type`, `alpha`, `n_snps_in_window`, `"n.snps.in.model"`, `"pred.perf.*"`). Built here
//! with rusqlite, scored with `varstream score expression` on a `chr`-less VCF, and compared
//! gene by gene with plink2 `--score` (the eff_allele as A1, so plink2 counts REF copies where
//! eff_allele is REF) and with the PrediXcan formula computed here.
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use crate::common::*;
use crate::scores::read_tsv;

/// One `weights` row: gene, rsid, varID, ref_allele, eff_allele, weight.
pub(crate) type WeightRow<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, f64);

/// A PredictDB database at `path` in the exact GTEx v8 schema: `weights` rows as given, and an
/// `extra` row per `(gene, genename)` with its `"n.snps.in.model"` counted from the weights.
pub(crate) fn gtex_v8_db(path: &Path, weights: &[WeightRow], genes: &[(&str, &str)]) {
    let db = rusqlite::Connection::open(path).unwrap();
    db.execute_batch(
        "CREATE TABLE weights (gene TEXT, rsid TEXT, varID TEXT, ref_allele TEXT, \
         eff_allele TEXT, weight DOUBLE);
         CREATE TABLE extra (gene TEXT, genename TEXT, gene_type TEXT, alpha DOUBLE, \
         n_snps_in_window INTEGER, \"n.snps.in.model\" INTEGER, \"pred.perf.R2\" DOUBLE, \
         \"pred.perf.pval\" DOUBLE, \"pred.perf.qval\" DOUBLE);
         CREATE INDEX weights_gene ON weights (gene);
         CREATE INDEX weights_rsid_gene ON weights (rsid, gene);
         CREATE INDEX weights_varID_gene ON weights (varID, gene);",
    )
    .unwrap();
    for w in weights {
        db.execute(
            "INSERT INTO weights VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![w.0, w.1, w.2, w.3, w.4, w.5],
        )
        .unwrap();
    }
    for (gene, name) in genes {
        let n = weights.iter().filter(|w| w.0 == *gene).count() as i64;
        db.execute(
            "INSERT INTO extra VALUES (?1, ?2, 'protein_coding', 0.5, ?3, ?4, 0.21, 1e-6, 1e-5)",
            rusqlite::params![gene, name, n * 40, n],
        )
        .unwrap();
    }
}

/// Three samples on a VCF whose contigs have no `chr`; one record phased, one GT missing.
const RECORDS: &[(&str, u64, &str, &str, &str, [&str; 3])] = &[
    ("1", 1000, "rs100", "A", "G", ["0/1", "1/1", "0/0"]),
    ("1", 2000, ".", "C", "T", ["1/1", "0/1", "./."]),
    ("1", 3000, "rs300", "G", "A", ["0/0", "0/1", "1/1"]),
    ("2", 500, "rs500", "T", "C", ["0|1", "1|1", "0/1"]),
];
const SAMPLES: [&str; 3] = ["S1", "S2", "S3"];

const GENES: &[(&str, &str)] = &[
    ("ENSG00000000001.1", "GENE_A"),
    ("ENSG00000000002.1", "GENE_B"),
    ("ENSG00000000003.1", "GENE_C"),
];

/// The weights: an eff_allele that is the VCF's REF (rs at 2000, rsid `.`), a variant absent
/// from the VCF in GENE_A and the whole of GENE_C, rsid `NA`, and a `.` rsid whose alleles are
/// those of the VCF's `.` record but whose varID is elsewhere (it must match nothing).
const WEIGHTS: &[WeightRow] = &[
    (
        "ENSG00000000001.1",
        "rs100",
        "chr1_1000_A_G_b38",
        "A",
        "G",
        0.5,
    ),
    (
        "ENSG00000000001.1",
        ".",
        "chr1_2000_C_T_b38",
        "T",
        "C",
        -0.75,
    ),
    (
        "ENSG00000000001.1",
        "rs999",
        "chr1_9999_A_C_b38",
        "A",
        "C",
        3.0,
    ),
    (
        "ENSG00000000002.1",
        "NA",
        "chr1_3000_G_A_b38",
        "G",
        "A",
        1.25,
    ),
    (
        "ENSG00000000002.1",
        "rs500",
        "chr2_500_T_C_b38",
        "T",
        "C",
        -0.4,
    ),
    ("ENSG00000000002.1", ".", "chr1_7000_C_T_b38", "C", "T", 9.0),
    (
        "ENSG00000000003.1",
        "rs42",
        "chr3_100_A_T_b38",
        "A",
        "T",
        2.0,
    ),
];

/// Copies of `allele` in a GT (None when missing).
fn copies(gt: &str, ref_allele: &str, alt: &str, allele: &str) -> Option<f64> {
    let mut n = 0.0;
    for a in gt.split(['/', '|']) {
        let al = match a {
            "0" => ref_allele,
            "1" => alt,
            _ => return None,
        };
        if al == allele {
            n += 1.0;
        }
    }
    Some(n)
}

/// PrediXcan's sum per (sample, gene): weight × copies of eff_allele over the weights whose
/// varID names a VCF record with the same alleles; a missing genotype adds nothing (the
/// default `--missing skip`). Also the variants used per (sample, gene).
fn predixcan() -> HashMap<(String, String), (f64, usize)> {
    let mut out: HashMap<(String, String), (f64, usize)> = HashMap::new();
    for (gene, _) in GENES {
        for s in SAMPLES {
            out.insert((s.to_string(), gene.to_string()), (0.0, 0));
        }
    }
    for (gene, _, var_id, r, eff, w) in WEIGHTS {
        let f: Vec<&str> = var_id.split('_').collect();
        let (chrom, pos) = (f[0].trim_start_matches("chr"), f[1].parse::<u64>().unwrap());
        let Some(rec) = RECORDS.iter().find(|x| {
            x.0 == chrom
                && x.1 == pos
                && [x.3, x.4].contains(r)
                && [x.3, x.4].contains(eff)
                && r != eff
        }) else {
            continue;
        };
        for (i, s) in SAMPLES.iter().enumerate() {
            if let Some(c) = copies(rec.5[i], rec.3, rec.4, eff) {
                let e = out.get_mut(&(s.to_string(), gene.to_string())).unwrap();
                e.0 += w * c;
                e.1 += 1;
            }
        }
    }
    out
}

/// plink2 `--score` per gene on the same VCF (IDs `CHROM:POS:REF:ALT`, eff_allele as A1,
/// missing genotypes adding nothing): SUM per (sample, gene), None without plink2. A gene
/// none of whose variants is in the VCF is absent (plink2 refuses to score it).
fn plink2(vcf: &Path, dir: &Path) -> Option<HashMap<(String, String), f64>> {
    if Command::new("plink2").arg("--version").output().is_err() {
        skip("GTEx v8 comparison: no plink2 on PATH (Debian package `plink2`)");
        return None;
    }
    let mut out = HashMap::new();
    for (n, (gene, _)) in GENES.iter().enumerate() {
        let score = dir.join(format!("plink_gene{n}.txt"));
        let mut text = String::from("ID\tA1\tW\n");
        for (g, _, var_id, r, eff, w) in WEIGHTS.iter().filter(|w| w.0 == *gene) {
            let f: Vec<&str> = var_id.split('_').collect();
            // varID is chr_pos_ref_alt; its ref/alt are the VCF's, eff_allele either of them.
            let _ = (g, r);
            text += &format!(
                "{}:{}:{}:{}\t{eff}\t{w}\n",
                f[0].trim_start_matches("chr"),
                f[1],
                f[2],
                f[3]
            );
        }
        std::fs::write(&score, text).unwrap();
        let prefix = dir.join(format!("plink_gene{n}"));
        let o = Command::new("plink2")
            .arg("--vcf")
            .arg(vcf)
            .args(["--set-all-var-ids", "@:#:$r:$a", "--score"])
            .arg(&score)
            .args([
                "1",
                "2",
                "3",
                "header-read",
                "cols=+scoresums",
                "no-mean-imputation",
            ])
            .arg("--out")
            .arg(&prefix)
            .output()
            .unwrap();
        if !o.status.success() {
            let log = std::fs::read_to_string(prefix.with_extension("log")).unwrap_or_default();
            assert!(
                log.contains("No valid variants") || log.contains("no valid"),
                "plink2 failed on {gene}:\n{log}"
            );
            continue;
        }
        for r in read_tsv(&prefix.with_extension("sscore")) {
            out.insert(
                (r["IID"].clone(), gene.to_string()),
                r["W_SUM"].parse().unwrap(),
            );
        }
    }
    Some(out)
}

#[test]
fn gtex_v8_predictdb_equals_plink2_and_the_predixcan_formula() {
    let d = tempfile::tempdir().unwrap();
    let vcf = d.path().join("chrless.vcf");
    let mut text = vcf_head(&[("1", 0), ("2", 0), ("3", 0)], &[], &["GT"], &SAMPLES);
    for (c, p, id, r, a, gts) in RECORDS {
        text += &format!(
            "{c}\t{p}\t{id}\t{r}\t{a}\t50\tPASS\t.\tGT\t{}\n",
            gts.join("\t")
        );
    }
    std::fs::write(&vcf, text).unwrap();
    let db = d.path().join("en_Whole_Blood.db");
    gtex_v8_db(&db, WEIGHTS, GENES);
    let score = |name: &str, extra: &[&str]| {
        let out = d.path().join(name);
        let mut args = vec![
            "score",
            "expression",
            "--vcf",
            vcf.to_str().unwrap(),
            "--weights",
            db.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        assert_ok(&run(&args));
        read_tsv(&d.path().join(format!("{name}.expression.tsv")))
    };
    let ours = score("gtex", &[]);
    assert_eq!(ours.len(), SAMPLES.len() * GENES.len(), "{ours:?}");
    let want = predixcan();
    let plink = plink2(&vcf, d.path());
    for r in &ours {
        let key = (r["sample"].clone(), r["gene"].clone());
        let got: f64 = r["predicted_expression"].parse().unwrap();
        let (expected, used) = want[&key];
        eprintln!(
            "{} {}: varstream {got}, PrediXcan formula {expected}, plink2 {:?}",
            key.0,
            key.1,
            plink.as_ref().and_then(|p| p.get(&key))
        );
        assert!(
            (got - expected).abs() < 1e-9,
            "{key:?}: {got} != {expected}"
        );
        assert_eq!(r["n_snps_used"], used.to_string(), "{key:?}");
        let genename = GENES.iter().find(|g| g.0 == key.1).unwrap().1;
        assert_eq!(
            (r["genename"].as_str(), r["pred_perf_R2"].as_str()),
            (genename, "0.21")
        );
        let in_model = WEIGHTS.iter().filter(|w| w.0 == key.1).count();
        assert_eq!(
            r["n_snps_in_model"],
            in_model.to_string(),
            "from \"n.snps.in.model\""
        );
        if let Some(p) = &plink {
            // plink2 prints 6 significant digits; a gene with no variant in the VCF is 0.
            let theirs = p.get(&key).copied().unwrap_or(0.0);
            assert!(
                (got - theirs).abs() <= 1e-5 * got.abs().max(1.0),
                "{key:?}: plink2 {theirs}"
            );
        }
    }
    // Spot values: S1 GENE_A = 0.5 × 1 G + (-0.75) × 0 C (T/T) = 0.5; S2 = 0.5 × 2 - 0.75 × 1.
    let at = |s: &str, g: &str| -> f64 {
        ours.iter()
            .find(|r| r["sample"] == s && r["gene"] == g)
            .unwrap()["predicted_expression"]
            .parse()
            .unwrap()
    };
    assert_eq!(at("S1", "ENSG00000000001.1"), 0.5);
    assert_eq!(at("S2", "ENSG00000000001.1"), 0.25);
    assert_eq!(at("S3", "ENSG00000000003.1"), 0.0);
    // By rsID alone, `.` and `NA` are no IDs: only rs100 and rs500 are found (a `.` rsid
    // matched the VCF's `.` record at 2000, whose alleles the GENE_B row at 7000 shares).
    let by_rsid = score("gtex_rsid", &["--match-by", "rsid"]);
    let used: HashMap<(String, String), String> = by_rsid
        .iter()
        .map(|r| {
            (
                (r["sample"].clone(), r["gene"].clone()),
                r["n_snps_used"].clone(),
            )
        })
        .collect();
    assert_eq!(used[&("S1".into(), "ENSG00000000001.1".into())], "1");
    assert_eq!(used[&("S1".into(), "ENSG00000000002.1".into())], "1");
}
