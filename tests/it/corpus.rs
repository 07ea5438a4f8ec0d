//! Issue 23's corpus, the VCFs and score inputs: calls of three samples as bcftools
//! (`mpileup | call -mv`) and freebayes write them, and PGS Catalog scoring files as authors
//! submit them (gVCFs: `corpus_gvcf.rs`). Every VCF is written here by the real tool from
//! BAMs of planted genotypes, so what is tested is what a user has; each answer is compared
//! with plink2's and with the planted genotypes'.
//!
//! Over 600 lines: the cohort's builders (BAMs, truth, scoring files) and the tests that use
//! them; the gVCF tests are in corpus_gvcf.rs.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rand::SeedableRng;

use crate::common::*;
use crate::other_tools::tool;
use crate::scores::{compare_with_plink2, plink2_sums, read_tsv};
use varstream::scores::prs;

/// The samples, in BAM (and so VCF column) order.
pub(crate) const SAMPLES: [&str; 3] = ["ANN", "BEN", "CAL"];
/// CAL's reads stop here: her genotypes after it are missing (`./.`).
pub(crate) const CAL_COVERED: u64 = 2_300;
pub(crate) const CONTIG: &str = "chr11";

/// One planted variant: 0-based position, REF then ALTs, and each sample's two alleles.
pub(crate) struct Site {
    pub(crate) pos0: usize,
    pub(crate) alleles: Vec<Vec<u8>>,
    pub(crate) gts: [(usize, usize); 3],
}

impl Site {
    pub(crate) fn allele(&self, i: usize) -> String {
        String::from_utf8(self.alleles[i].clone()).unwrap()
    }
}

/// A 4 kb `chr11` and 40x BAMs of three samples with SNVs, a deletion, an insertion, a
/// multi-allelic SNV and an MNP, in varied genotypes; CAL is covered only up to 2.3 kb.
pub(crate) struct Cohort {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) fasta: PathBuf,
    pub(crate) bams: Vec<PathBuf>,
    pub(crate) sites: Vec<Site>,
}

pub(crate) fn cohort() -> Cohort {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(41);
    let reference = random_seq(&mut rng, 4_000);
    let (dir, fasta) = temp_fasta(&[(CONTIG, &reference)]);
    let base = |p: usize| reference[p];
    let shift = |b: u8, k: usize| b"ACGT"[(b"ACGT".iter().position(|&x| x == b).unwrap() + k) % 4];
    // A non-palindromic SNV (ALT not the complement of REF), so strand flips can be tested.
    let snv_np = |p: usize| {
        let r = base(p);
        let a = shift(r, 1);
        let a = if b"ATCG"[b"TAGC".iter().position(|&x| x == r).unwrap()] == a {
            shift(r, 2)
        } else {
            a
        };
        vec![vec![r], vec![a]]
    };
    let mut del = 1_300;
    while base(del) == base(del + 2) {
        del += 1;
    }
    let ins_alt = {
        let a = base(2_100);
        let last = if a == b'G' { b'T' } else { b'G' };
        vec![a, b'C', last]
    };
    let mnp = 3_400;
    let sites = vec![
        Site {
            pos0: 500,
            alleles: snv_np(500),
            gts: [(0, 1), (1, 1), (0, 0)],
        },
        Site {
            pos0: 900,
            alleles: snv_np(900),
            gts: [(1, 1), (0, 0), (0, 1)],
        },
        Site {
            pos0: del,
            alleles: vec![reference[del..del + 3].to_vec(), vec![base(del)]],
            gts: [(0, 1), (1, 0), (1, 1)],
        },
        Site {
            pos0: 1_700,
            alleles: vec![
                vec![base(1_700)],
                vec![shift(base(1_700), 1)],
                vec![shift(base(1_700), 2)],
            ],
            gts: [(0, 1), (2, 0), (1, 2)],
        },
        Site {
            pos0: 2_100,
            alleles: vec![vec![base(2_100)], ins_alt],
            gts: [(0, 0), (0, 1), (1, 0)],
        },
        Site {
            pos0: 2_600,
            alleles: snv_np(2_600),
            gts: [(0, 1), (1, 1), (0, 1)],
        },
        Site {
            pos0: 3_000,
            alleles: snv_np(3_000),
            gts: [(1, 0), (0, 0), (1, 1)],
        },
        Site {
            pos0: mnp,
            alleles: vec![
                reference[mnp..mnp + 2].to_vec(),
                vec![shift(base(mnp), 1), shift(base(mnp + 1), 1)],
            ],
            gts: [(1, 0), (0, 0), (0, 0)],
        },
    ];
    let mut bams = Vec::new();
    for (s, name) in SAMPLES.iter().enumerate() {
        let mut records = Vec::new();
        for h in 0..2 {
            let vars: Vec<(u64, &[u8], &[u8])> = sites
                .iter()
                .filter_map(|site| {
                    let a = if h == 0 { site.gts[s].0 } else { site.gts[s].1 };
                    (a > 0).then(|| (site.pos0 as u64, &site.alleles[0][..], &site.alleles[a][..]))
                })
                .collect();
            let hap = apply(&reference, &vars);
            records.extend(
                tiled_reads(
                    CONTIG,
                    &hap,
                    5,
                    &format!("{name}h{h}"),
                    &format!("\tRG:Z:rg{name}"),
                )
                .into_iter()
                .filter(|(p, _)| s != 2 || *p < CAL_COVERED),
            );
        }
        let bam = dir.path().join(format!("{name}.bam"));
        // One read group per sample, as freebayes requires of several BAMs.
        let header =
            sam_header(&[(CONTIG, 4_000)], name).replace("ID:rg1", &format!("ID:rg{name}"));
        write_alignments(&bam, &header, records, None);
        bams.push(bam);
    }
    tool("samtools", &["faidx", fasta.to_str().unwrap()]);
    Cohort {
        dir,
        fasta,
        bams,
        sites,
    }
}

impl Cohort {
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `bcftools mpileup -a AD,DP | bcftools call -m EXTRA` over `bams` into `name`, or
    /// `None` without bcftools outside CI.
    pub(crate) fn bcftools(&self, bams: &[&Path], extra: &[&str], name: &str) -> Option<PathBuf> {
        let bcf = self.path(&format!("{name}.pileup.bcf"));
        let mut args = vec!["mpileup", "-a", "AD,DP", "-f", self.fasta.to_str().unwrap()];
        args.extend(["-Ob", "-o", bcf.to_str().unwrap()]);
        args.extend(bams.iter().map(|b| b.to_str().unwrap()));
        tool("bcftools", &args)?;
        let out = self.path(name);
        let mut args = vec!["call", "-m"];
        args.extend_from_slice(extra);
        args.extend(["-Oz", "-o", out.to_str().unwrap(), bcf.to_str().unwrap()]);
        tool("bcftools", &args)?;
        Some(out)
    }

    /// `freebayes -f REF BAMS` into `name`.
    pub(crate) fn freebayes(&self, bams: &[&Path], name: &str) -> Option<PathBuf> {
        let out = self.path(name);
        let mut args = vec![
            "-f",
            self.fasta.to_str().unwrap(),
            "-v",
            out.to_str().unwrap(),
        ];
        args.extend(bams.iter().map(|b| b.to_str().unwrap()));
        tool("freebayes", &args)?;
        Some(out)
    }

    pub(crate) fn all_bams(&self) -> Vec<&Path> {
        self.bams.iter().map(PathBuf::as_path).collect()
    }

    /// Sample `s`'s planted variants as a one-sample truth VCF (bgzipped, indexed) and a BED
    /// over where the sample has reads.
    pub(crate) fn truth(&self, s: usize) -> (PathBuf, PathBuf) {
        let mut text = format!(
            "##fileformat=VCFv4.2\n##contig=<ID={CONTIG},length=4000>\n\
             ##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n\
             #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{}\n",
            SAMPLES[s]
        );
        for site in &self.sites {
            let (a, b) = site.gts[s];
            if a + b == 0 {
                continue;
            }
            let alts: Vec<String> = (1..site.alleles.len()).map(|i| site.allele(i)).collect();
            text.push_str(&format!(
                "{CONTIG}\t{}\t.\t{}\t{}\t50\tPASS\t.\tGT\t{}/{}\n",
                site.pos0 + 1,
                site.allele(0),
                alts.join(","),
                a.min(b),
                a.max(b)
            ));
        }
        let vcf = self.path(&format!("truth_{s}.vcf.gz"));
        let plain = self.path(&format!("truth_{s}.vcf"));
        std::fs::write(&plain, text).unwrap();
        tool("bgzip", &["-f", "-k", plain.to_str().unwrap()]);
        tool("tabix", &["-f", "-p", "vcf", vcf.to_str().unwrap()]);
        // Where the sample has reads: CAL's stop at CAL_COVERED.
        let bed = self.path(&format!("covered_{s}.bed"));
        let end = if s == 2 { CAL_COVERED } else { 3_900 };
        std::fs::write(&bed, format!("{CONTIG}\t0\t{end}\n")).unwrap();
        (vcf, bed)
    }
}

/// A PGS Catalog scoring file as authors submit it (format 2.0, no harmonized columns,
/// positions on GRCh37, chromosome `11` against the VCF's `chr11`), rows `(rsID, position
/// (1-based), effect, other, weight)`; `final_newline` false leaves the last row unended.
pub(crate) fn author_scoring_file(path: &Path, id: &str, rows: &[Row], final_newline: bool) {
    let mut text = format!(
        "###PGS CATALOG SCORING FILE - see https://www.pgscatalog.org/downloads/#dl_ftp_scoring for additional information\n\
         #format_version=2.0\n##POLYGENIC SCORE (PGS) INFORMATION\n#pgs_id={id}\n#pgs_name=corpus\n\
         #trait_reported=test trait\n#trait_mapped=test trait\n#trait_efo=EFO_0000001\n\
         #genome_build=GRCh37\n#variants_number={}\n#weight_type=beta\n##SOURCE INFORMATION\n\
         #pgp_id=PGP000001\n#citation=corpus test\n\
         rsID\tchr_name\tchr_position\teffect_allele\tother_allele\teffect_weight\n",
        rows.len()
    );
    for (rs, pos, e, o, w) in rows {
        text.push_str(&format!("{rs}\t11\t{pos}\t{e}\t{o}\t{w}\n"));
    }
    if !final_newline {
        text.pop();
    }
    std::fs::write(path, text).unwrap();
}

pub(crate) fn complement(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'A' => 'T',
            'T' => 'A',
            'C' => 'G',
            'G' => 'C',
            o => o,
        })
        .collect()
}

/// A scoring row: rsID, 1-based position, effect and other allele, weight.
pub(crate) type Row = (String, u64, String, String, f64);

/// The scoring rows over the cohort: every site but the MNP, in varied orientations (effect
/// ALT, effect REF, strand-flipped), plus one row where no sample varies (no VCF record).
pub(crate) fn cohort_rows(c: &Cohort) -> Vec<Row> {
    let w = [0.5, -1.25, 0.75, 2.0, 0.3, -0.4, 1.1];
    let mut rows = Vec::new();
    for (i, site) in c.sites.iter().take(7).enumerate() {
        let (r, a) = (site.allele(0), site.allele(1));
        let (e, o) = match i {
            1 => (r, a),                           // refalt
            6 => (complement(&a), complement(&r)), // altref_flip
            _ => (a, r),                           // altref
        };
        rows.push((format!("rs{}", 100 + i), site.pos0 as u64 + 1, e, o, w[i]));
    }
    // Effect = REF where no sample varies: 2 copies in every sample, if the site is stated.
    let base = read_fasta(&c.fasta)[0].1[3_800];
    let other = if base == b'G' { "T" } else { "G" };
    rows.push((
        "rs199".into(),
        3_801,
        (base as char).to_string(),
        other.into(),
        9.0,
    ));
    rows
}

/// `score prs` on `vcf` through the binary; the match log and the scores by sample.
pub(crate) fn score(
    c: &Cohort,
    vcf: &Path,
    pgs: &Path,
    out: &str,
    extra: &[&str],
) -> (std::process::Output, PathBuf) {
    let prefix = c.path(out);
    let mut args = vec![
        "score",
        "prs",
        "--vcf",
        vcf.to_str().unwrap(),
        "--pgs",
        pgs.to_str().unwrap(),
    ];
    args.extend(["--output", prefix.to_str().unwrap()]);
    args.extend_from_slice(extra);
    (run(&args), prefix)
}

/// SUM by sample from `PREFIX.prs.tsv` (`None` for NA).
pub(crate) fn sums(prefix: &Path) -> HashMap<String, Option<f64>> {
    read_tsv(&PathBuf::from(format!("{}.prs.tsv", prefix.display())))
        .into_iter()
        .map(|r| (r["sample"].clone(), r["SUM"].parse().ok()))
        .collect()
}

/// Our scores as [`prs::ScoreResult`]s, for [`compare_with_plink2`].
pub(crate) fn results(prefix: &Path, id: &str) -> prs::ScoreResult {
    let rows = read_tsv(&PathBuf::from(format!("{}.prs.tsv", prefix.display())));
    let samples = rows
        .iter()
        .filter(|r| r["score_id"] == id)
        .map(|r| prs::SampleScore {
            sample: r["sample"].clone(),
            sum: r["SUM"].parse().unwrap_or(0.0),
            denom: r["DENOM"].parse().unwrap_or(0.0),
        })
        .collect();
    prs::ScoreResult {
        id: id.into(),
        build: String::new(),
        matched: 0,
        total: 0,
        pass: true,
        samples,
    }
}

/// Each sample's SUM from the planted genotypes, scoring the rows whose match type is
/// `matched` in the log (so the hand sum and plink2's see the same rows).
pub(crate) fn planted_sums(c: &Cohort, rows: &[Row], log: &Path) -> Vec<f64> {
    let matched: Vec<String> = read_tsv(log)
        .into_iter()
        .filter(|r| r["match_status"] == "matched")
        .map(|r| r["rsID"].clone())
        .collect();
    (0..3)
        .map(|s| {
            let mut sum = 0.0;
            for (rs, pos, e, _, w) in rows.iter().filter(|r| matched.contains(&r.0)) {
                let Some(site) = c.sites.iter().find(|x| x.pos0 as u64 + 1 == *pos) else {
                    // No planted variant: every sample is hom-ref there.
                    let base = read_fasta(&c.fasta)[0].1[*pos as usize - 1];
                    sum += if e.as_bytes() == [base] { 2.0 * w } else { 0.0 };
                    continue;
                };
                if s == 2 && site.pos0 as u64 >= CAL_COVERED {
                    continue; // missing genotype: contributes nothing
                }
                // rs101 counts REF, every other row ALT 1 (see cohort_rows).
                let effect = if rs == "rs101" { 0 } else { 1 };
                let (a, b) = site.gts[s];
                sum += w * [a, b].iter().filter(|&&k| k == effect).count() as f64;
            }
            sum
        })
        .collect()
}

/// A test's files are kept for a look with `CORPUS_KEEP=DIR` (copied when the test ends).
impl Drop for Cohort {
    fn drop(&mut self) {
        if let Ok(d) = std::env::var("CORPUS_KEEP") {
            let _ = std::process::Command::new("cp")
                .arg("-r")
                .arg(self.dir.path())
                .arg(d)
                .status();
        }
    }
}

// Three samples called together by bcftools (`mpileup | call -mv`): a multi-allelic record,
// `./.` where CAL has no reads. `score prs` with an author-reported GRCh37 file (`11` against
// `chr11`, no final newline) gives each sample plink2's SUM and DENOM over the same matched
// rows, and the planted genotypes' sum; `report --sample` shows that sample's row.
#[test]
pub(crate) fn bcftools_multi_sample_vcf_scores_each_sample_as_plink2() {
    let c = cohort();
    let Some(vcf) = c.bcftools(&c.all_bams(), &["-v"], "bcftools.vcf.gz") else {
        return;
    };
    let body = vcf_body(&vcf);
    let field = |l: &String, i: usize| l.split('\t').nth(i).unwrap().to_string();
    assert!(body.iter().any(|l| field(l, 4).contains(',')), "{body:#?}");
    assert!(
        body.iter().any(|l| field(l, 11).starts_with("./.")),
        "{body:#?}"
    );
    let rows = cohort_rows(&c);
    let pgs = c.path("PGS900001.txt");
    author_scoring_file(&pgs, "PGS900001", &rows, false);
    let (o, prefix) = score(&c, &vcf, &pgs, "bcf", &[]);
    assert_ok(&o);
    let log = PathBuf::from(format!("{}.prs_matches.tsv.gz", prefix.display()));
    let fate: HashMap<String, (String, String)> = read_tsv(&log)
        .into_iter()
        .map(|r| {
            (
                r["rsID"].clone(),
                (r["match_status"].clone(), r["match_type"].clone()),
            )
        })
        .collect();
    let m = |s: &str, t: &str| (s.to_string(), t.to_string());
    assert_eq!(fate["rs100"], m("matched", "altref"));
    assert_eq!(fate["rs101"], m("matched", "refalt"));
    assert_eq!(fate["rs102"], m("matched", "altref"));
    assert_eq!(fate["rs103"], m("excluded", "altref"));
    assert_eq!(fate["rs104"], m("matched", "altref"));
    assert_eq!(fate["rs106"], m("matched", "altref_flip"));
    assert_eq!(fate["rs199"].0, "unmatched");
    let ours = sums(&prefix);
    let planted = planted_sums(&c, &rows, &log);
    for (s, name) in SAMPLES.iter().enumerate() {
        let got = ours[*name].unwrap();
        assert!(
            (got - planted[s]).abs() < 1e-9,
            "{name}: {got} vs planted {}",
            planted[s]
        );
    }
    let Some(p) = plink2_sums(&vcf, &log, "PGS900001", c.dir.path(), false) else {
        return;
    };
    let max = compare_with_plink2(&results(&prefix, "PGS900001"), &p);
    eprintln!("bcftools multi-sample: SUM {ours:?}, plink2 {p:?}, max diff {max:e}");
    for (sample, want) in [(None, "ANN"), (Some("BEN"), "BEN"), (Some("CAL"), "CAL")] {
        let out = c.path(&format!("report_{want}"));
        let prs_tsv = format!("{}.prs.tsv", prefix.display());
        let mut args = vec!["report", "--vcf", vcf.to_str().unwrap(), "--prs", &prs_tsv];
        args.extend(["-o", out.to_str().unwrap()]);
        if let Some(s) = sample {
            args.extend(["--sample", s]);
        }
        let o = run(&args);
        assert_ok(&o);
        let j: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{}.report.json", out.display())).unwrap(),
        )
        .unwrap();
        assert_eq!(j["sample"], want);
        let cols = j["prs"]["columns"].as_array().unwrap();
        let at = cols.iter().position(|c| c == "SUM").unwrap();
        let row = &j["prs"]["rows"].as_array().unwrap()[0];
        let shown: f64 = row[at].as_str().unwrap().parse().unwrap();
        assert_eq!(shown, ours[want].unwrap(), "{want}");
        assert!(
            (shown - p[want].0).abs() <= p[want].1,
            "{want}: {shown} vs plink2 {:?}",
            p[want]
        );
    }
}

/// Run varstream and expect a one-line refusal (exit 2) containing every one of `words`.
pub(crate) fn refused(args: &[&str], words: &[&str]) {
    let o = run(args);
    let err = String::from_utf8_lossy(&o.stderr).trim().to_string();
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    for w in words {
        assert!(err.contains(w), "{w:?} not in: {err}");
    }
}

/// `report` on `vcf` for `sample`: the report JSON's `stats`.
pub(crate) fn report_stats(c: &Cohort, vcf: &Path, sample: &str, out: &str) -> serde_json::Value {
    let prefix = c.path(out);
    let o = run(&[
        "report",
        "--vcf",
        vcf.to_str().unwrap(),
        "--sample",
        sample,
        "-o",
        prefix.to_str().unwrap(),
    ]);
    assert_ok(&o);
    let j: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{}.report.json", prefix.display())).unwrap(),
    )
    .unwrap();
    j["stats"].clone()
}

/// `varstream eval` of `vcf` against sample `s`'s planted variants, with `--sample NAMES`
/// when given.
pub(crate) fn eval_run(
    c: &Cohort,
    vcf: &Path,
    s: usize,
    names: Option<&str>,
) -> std::process::Output {
    let (truth, bed) = c.truth(s);
    let mut args = vec![
        "eval",
        "--truth",
        truth.to_str().unwrap(),
        "--query",
        vcf.to_str().unwrap(),
        "--regions",
        bed.to_str().unwrap(),
        "--ref",
        c.fasta.to_str().unwrap(),
    ];
    args.extend(names.iter().flat_map(|n| ["--sample", n]));
    run(&args)
}

/// `eval` of `vcf`'s sample `s` against that sample's planted variants: the table's ALL row.
pub(crate) fn eval_all(c: &Cohort, vcf: &Path, s: usize) -> String {
    let o = eval_run(c, vcf, s, Some(SAMPLES[s]));
    assert_ok(&o);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    text.lines()
        .find(|l| l.starts_with("ALL"))
        .unwrap_or_else(|| panic!("{text}"))
        .to_string()
}

// freebayes on the three BAMs: multi-allelic records, the MNP as one record, AO/RO instead
// of AD, `.` for CAL where she has no reads. `eval` of ANN finds her planted variants; each
// sample's SUM equals plink2's and the planted genotypes' over the matched rows; `report`
// reads it.
#[test]
pub(crate) fn freebayes_vcf_is_evaluated_and_scored_as_plink2() {
    let c = cohort();
    let Some(vcf) = c.freebayes(&c.all_bams(), "freebayes.vcf") else {
        return;
    };
    let body = vcf_body_plain(&vcf);
    assert!(
        body.iter()
            .any(|l| l.contains("TYPE=mnp") || l.contains("TYPE=complex")),
        "{body:#?}"
    );
    // freebayes orders the sample columns its own way (CAL came first): eval compares the
    // sample --sample names, and refuses to guess among several.
    let o = eval_run(&c, &vcf, 0, None);
    assert_fails(&o, &[INPUT], &["3 samples", "choose one with --sample"]);
    let all = eval_all(&c, &vcf, 0);
    assert!(
        all.contains("1.0000"),
        "freebayes, eval of {}: {all}",
        SAMPLES[0]
    );
    // rtg vcfeval's TRUTH,QUERY form; a name a file lacks is refused, naming it.
    let eval_as = |names: &str| eval_run(&c, &vcf, 0, Some(names));
    let pair = eval_as(&format!("{0},{0}", SAMPLES[0]));
    assert_ok(&pair);
    assert_eq!(
        String::from_utf8_lossy(&pair.stdout)
            .lines()
            .find(|l| l.starts_with("ALL")),
        Some(all.as_str())
    );
    let o = eval_as(&format!("{},ZED", SAMPLES[0]));
    assert_fails(&o, &[INPUT], &["no sample ZED", SAMPLES[1]]);
    let rows = cohort_rows(&c);
    let pgs = c.path("PGS900004.txt");
    author_scoring_file(&pgs, "PGS900004", &rows, true);
    let (o, prefix) = score(&c, &vcf, &pgs, "fb", &["--min-overlap", "0.5"]);
    assert_ok(&o);
    let log = PathBuf::from(format!("{}.prs_matches.tsv.gz", prefix.display()));
    let ours = sums(&prefix);
    let planted = planted_sums(&c, &rows, &log);
    for (s, name) in SAMPLES.iter().enumerate() {
        let got = ours[*name].unwrap();
        assert!(
            (got - planted[s]).abs() < 1e-9,
            "{name}: {got} vs planted {}",
            planted[s]
        );
    }
    let stats = report_stats(&c, &vcf, "BEN", "fb_report");
    assert!(stats["calls"].as_u64().unwrap() >= 5, "{stats}");
    let Some(p) = plink2_sums(&vcf, &log, "PGS900004", c.dir.path(), false) else {
        return;
    };
    let max = compare_with_plink2(&results(&prefix, "PGS900004"), &p);
    eprintln!("freebayes: SUM {ours:?}, plink2 {p:?}, max diff {max:e}");
}

/// The body of a plain-text VCF.
pub(crate) fn vcf_body_plain(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(String::from)
        .collect()
}

// A PGS Catalog file with rsIDs only (no positions), against a VCF without IDs: refused in
// one line saying to download the harmonized file, not scored 0.
#[test]
pub(crate) fn rsid_only_scoring_file_is_refused_in_one_line() {
    let d = tempfile::tempdir().unwrap();
    let pgs = d.path().join("PGS900005.txt");
    std::fs::write(&pgs, "#format_version=2.0\n#pgs_id=PGS900005\n#genome_build=NR\nrsID\teffect_allele\tother_allele\teffect_weight\nrs100\tC\tT\t0.5\n").unwrap();
    let vcf = d.path().join("v.vcf");
    std::fs::write(&vcf, "##fileformat=VCFv4.2\n##contig=<ID=chr11>\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"GT\">\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\nchr11\t501\t.\tT\tC\t.\t.\t.\tGT\t0/1\n").unwrap();
    let out = d.path().join("o");
    refused(
        &[
            "score",
            "prs",
            "--vcf",
            vcf.to_str().unwrap(),
            "--pgs",
            pgs.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ],
        &["PGS900005.txt", "no chromosome positions", "harmonized"],
    );
}
