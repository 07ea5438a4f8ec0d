//! Issue 23's corpus, gVCFs: bcftools `call --gvcf` (written here by the tool) and a gVCF as
//! GATK HaplotypeCaller `-ERC GVCF` writes it (written by hand per GATK's documentation;
//! GATK is not packaged for Debian). Scores refuse reference blocks in one line; once
//! `bcftools convert --gvcf2vcf` has expanded them, hom-ref sites count, and SUM equals
//! plink2's and the planted genotypes'. `report` and `eval` read gVCFs as they are.
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::common::*;
use crate::corpus::*;
use crate::other_tools::tool;
use crate::scores::{plink2_sums, read_tsv};

/// Each sample's SUM from plink2 on `vcf` over the rows our log matched, or `None` without
/// plink2 (SUM only: plink2 skips a row whose effect allele a hom-ref record lacks, where we
/// count the site in DENOM).
fn plink2_sum_only(
    c: &Cohort,
    vcf: &Path,
    log: &Path,
    id: &str,
) -> Option<HashMap<String, (f64, f64)>> {
    let p = plink2_sums(vcf, log, id, c.dir.path(), false)?;
    Some(p.into_iter().map(|(k, v)| (k, (v.0, v.1))).collect())
}

/// ANN's calls as bcftools and HaplotypeCaller write them: one record per planted variant,
/// the MNP as two SNVs.
fn ann_calls(c: &Cohort) -> u64 {
    let records = |s: &Site| match s.alleles.as_slice() {
        [r, a] if r.len() == a.len() => r.len() as u64,
        _ => 1,
    };
    c.sites
        .iter()
        .filter(|s| s.gts[0] != (0, 0))
        .map(records)
        .sum()
}

// `bcftools call -m --gvcf 0` (one sample): reference blocks with ALT `.` and END. Scores
// refuse the blocks in one line naming the expanding command; after `bcftools convert
// --gvcf2vcf`, every hom-ref site counts (the insertion ANN lacks scores 0 copies, not
// missing) and SUM equals plink2's on the expanded file and the planted genotypes'. `report`
// and `eval` read the gVCF itself.
#[test]
fn bcftools_gvcf_is_refused_for_scores_and_scored_once_expanded() {
    let c = cohort();
    let ann = [c.bams[0].as_path()];
    let Some(gvcf) = c.bcftools(&ann, &["--gvcf", "0"], "ann.g.vcf.gz") else {
        return;
    };
    let rows = cohort_rows(&c);
    let pgs = c.path("PGS900002.txt");
    author_scoring_file(&pgs, "PGS900002", &rows, true);
    let g = gvcf.to_str().unwrap();
    let out = c.path("g");
    let o = out.to_str().unwrap();
    refused(
        &[
            "score",
            "prs",
            "--vcf",
            g,
            "--pgs",
            pgs.to_str().unwrap(),
            "--output",
            o,
        ],
        &[
            "ann.g.vcf.gz",
            "chr11:1",
            "gVCF reference block",
            "bcftools convert --gvcf2vcf",
        ],
    );
    let stats = report_stats(&c, &gvcf, "ANN", "g_report");
    assert_eq!(stats["calls"], ann_calls(&c), "{stats}");
    assert!(
        eval_all(&c, &gvcf, 0).contains("1.0000"),
        "{}",
        eval_all(&c, &gvcf, 0)
    );
    let expanded = c.path("ann.expanded.vcf.gz");
    tool(
        "bcftools",
        &[
            "convert",
            "--gvcf2vcf",
            "--fasta-ref",
            c.fasta.to_str().unwrap(),
            "-Oz",
            "-o",
            expanded.to_str().unwrap(),
            g,
        ],
    );
    let (o, prefix) = score(&c, &expanded, &pgs, "expanded", &[]);
    assert_ok(&o);
    let log = PathBuf::from(format!("{}.prs_matches.tsv.gz", prefix.display()));
    let fate: HashMap<String, String> = read_tsv(&log)
        .into_iter()
        .map(|r| (r["rsID"].clone(), r["match_type"].clone()))
        .collect();
    assert_eq!(fate["rs104"], "ref_only_other", "{fate:?}");
    assert_eq!(fate["rs199"], "ref_only", "{fate:?}");
    let ours = sums(&prefix)["ANN"].unwrap();
    let planted = planted_sums(&c, &rows, &log)[0];
    assert!((ours - planted).abs() < 1e-9, "{ours} vs planted {planted}");
    let Some(p) = plink2_sum_only(&c, &expanded, &log, "PGS900002") else {
        return;
    };
    assert!(
        (ours - p["ANN"].0).abs() <= p["ANN"].1,
        "{ours} vs plink2 {:?}",
        p["ANN"]
    );
    eprintln!(
        "bcftools gVCF expanded: ANN SUM {ours}, plink2 {:?}, planted {planted}",
        p["ANN"]
    );
}

/// ANN's calls as GATK HaplotypeCaller `-ERC GVCF` writes them, by hand per GATK's gVCF
/// documentation (its header lines, `<NON_REF>` reference blocks with END and MIN_DP, each
/// variant `REF ALT,<NON_REF>` with PL over all alleles and SB; MNPs as SNVs, its default).
fn gatk_gvcf(c: &Cohort) -> PathBuf {
    let reference = &read_fasta(&c.fasta)[0].1;
    let mut text = String::from(
        "##fileformat=VCFv4.2\n\
         ##ALT=<ID=NON_REF,Description=\"Represents any possible alternative allele not already represented at this location by REF and ALT\">\n\
         ##FILTER=<ID=LowQual,Description=\"Low quality\">\n\
         ##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"Allelic depths for the ref and alt alleles in the order listed\">\n\
         ##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"Approximate read depth (reads with MQ=255 or with bad mates are filtered)\">\n\
         ##FORMAT=<ID=GQ,Number=1,Type=Integer,Description=\"Genotype Quality\">\n\
         ##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n\
         ##FORMAT=<ID=MIN_DP,Number=1,Type=Integer,Description=\"Minimum DP observed within the GVCF block\">\n\
         ##FORMAT=<ID=PL,Number=G,Type=Integer,Description=\"Normalized, Phred-scaled likelihoods for genotypes as defined in the VCF specification\">\n\
         ##FORMAT=<ID=SB,Number=4,Type=Integer,Description=\"Per-sample component statistics which comprise the Fisher's Exact Test to detect strand bias.\">\n\
         ##GATKCommandLine=<ID=HaplotypeCaller,CommandLine=\"HaplotypeCaller --emit-ref-confidence GVCF --output ANN.g.vcf.gz --input ANN.bam --reference ref.fa\",Version=\"4.2.6.1\",Date=\"June 1, 2022 10:00:00 AM UTC\">\n\
         ##GVCFBlock0-20=minGQ=0(inclusive),maxGQ=20(exclusive)\n\
         ##GVCFBlock20-99=minGQ=20(inclusive),maxGQ=99(exclusive)\n\
         ##INFO=<ID=DP,Number=1,Type=Integer,Description=\"Approximate read depth; some reads may have been filtered\">\n\
         ##INFO=<ID=END,Number=1,Type=Integer,Description=\"Stop position of the interval\">\n\
         ##INFO=<ID=ExcessHet,Number=1,Type=Float,Description=\"Phred-scaled p-value for exact test of excess heterozygosity\">\n\
         ##INFO=<ID=MLEAC,Number=A,Type=Integer,Description=\"Maximum likelihood expectation (MLE) for the allele counts (not necessarily the same as the AC), for each ALT allele, in the same order as listed\">\n\
         ##INFO=<ID=MLEAF,Number=A,Type=Float,Description=\"Maximum likelihood expectation (MLE) for the allele frequency (not necessarily the same as the AF), for each ALT allele, in the same order as listed\">\n\
         ##INFO=<ID=RAW_MQandDP,Number=2,Type=Integer,Description=\"Raw data (sum of squared MQ and total depth) for improved RMS Mapping Quality calculation. Incompatible with deprecated RAW_MQ formulation.\">\n\
         ##contig=<ID=chr11,length=4000>\n\
         ##source=HaplotypeCaller\n\
         #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tANN\n",
    );
    let mut next = 1usize; // first position not yet written (1-based)
    let block = |text: &mut String, from: usize, to: usize| {
        if from <= to {
            text.push_str(&format!(
                "chr11\t{from}\t.\t{}\t<NON_REF>\t.\t.\tEND={to}\tGT:DP:GQ:MIN_DP:PL\t0/0:40:99:38:0,105,1575\n",
                reference[from - 1] as char
            ));
        }
    };
    for site in c.sites.iter().filter(|s| s.gts[0] != (0, 0)) {
        let (a, b) = site.gts[0];
        let alt = site.allele(a.max(b));
        let gt = if a == b { "1/1" } else { "0/1" };
        let (pl, ad) = if a == b {
            ("1300,120,0,1300,120,1300", "0,40,0")
        } else {
            ("626,0,626,686,686,1312", "20,20,0")
        };
        let mut records = vec![(site.pos0 + 1, site.allele(0), alt.clone())];
        if site.alleles[0].len() == alt.len() && alt.len() > 1 {
            records = (0..alt.len())
                .map(|k| {
                    (
                        site.pos0 + 1 + k,
                        (site.allele(0).as_bytes()[k] as char).to_string(),
                        (alt.as_bytes()[k] as char).to_string(),
                    )
                })
                .collect();
        }
        for (pos, r, x) in records {
            block(&mut text, next, pos - 1);
            text.push_str(&format!(
                "chr11\t{pos}\t.\t{r}\t{x},<NON_REF>\t618.64\t.\tDP=40;ExcessHet=3.0103;MLEAC={m},0;MLEAF={f},0.00;RAW_MQandDP=144000,40\tGT:AD:DP:GQ:PL:SB\t{gt}:{ad}:40:99:{pl}:10,10,10,10\n",
                m = if a == b { 2 } else { 1 },
                f = if a == b { "1.00" } else { "0.500" },
            ));
            next = pos + r.len();
        }
    }
    block(&mut text, next, 4_000);
    let path = c.path("ANN.g.vcf");
    std::fs::write(&path, text).unwrap();
    path
}

// A GATK-style gVCF: scores refuse its `<NON_REF>` blocks in one line; `report` counts ANN's
// calls with none multi-allelic (every record lists `<NON_REF>`); `eval` finds every planted
// variant; expanded by `bcftools convert --gvcf2vcf`, it scores as bcftools' gVCF does.
#[test]
fn gatk_gvcf_with_non_ref_is_read_or_refused() {
    let c = cohort();
    let gvcf = gatk_gvcf(&c);
    let rows = cohort_rows(&c);
    let pgs = c.path("PGS900003.txt");
    author_scoring_file(&pgs, "PGS900003", &rows, true);
    let (g, p, o) = (gvcf.to_str().unwrap(), pgs.to_str().unwrap(), c.path("x"));
    refused(
        &[
            "score",
            "prs",
            "--vcf",
            g,
            "--pgs",
            p,
            "--output",
            o.to_str().unwrap(),
        ],
        &[
            "ANN.g.vcf: at chr11:1:",
            "gVCF reference block to 500 (ALT <NON_REF>)",
            "--gvcf2vcf",
        ],
    );
    let stats = report_stats(&c, &gvcf, "ANN", "gatk_report");
    assert_eq!(stats["calls"], ann_calls(&c), "{stats}");
    assert_eq!(stats["multiallelic"], 0, "{stats}");
    let all = eval_all(&c, &gvcf, 0);
    assert!(all.contains("1.0000"), "{all}");
    let expanded = c.path("ANN.expanded.vcf.gz");
    let Some(_) = tool(
        "bcftools",
        &[
            "convert",
            "--gvcf2vcf",
            "--fasta-ref",
            c.fasta.to_str().unwrap(),
            "-Oz",
            "-o",
            expanded.to_str().unwrap(),
            g,
        ],
    ) else {
        return;
    };
    let (o, prefix) = score(&c, &expanded, &pgs, "gatk_expanded", &[]);
    assert_ok(&o);
    let log = PathBuf::from(format!("{}.prs_matches.tsv.gz", prefix.display()));
    let ours = sums(&prefix)["ANN"].unwrap();
    let planted = planted_sums(&c, &rows, &log)[0];
    assert!((ours - planted).abs() < 1e-9, "{ours} vs planted {planted}");
    // plink2 reads `<NON_REF>` as an allele (every variant record tri-allelic): it is given
    // the file without unused ALTs (`bcftools view -a`), as the same genotypes.
    let trimmed = c.path("ANN.trimmed.vcf.gz");
    tool(
        "bcftools",
        &[
            "view",
            "-a",
            "-Oz",
            "-o",
            trimmed.to_str().unwrap(),
            expanded.to_str().unwrap(),
        ],
    );
    let Some(p) = plink2_sum_only(&c, &trimmed, &log, "PGS900003") else {
        return;
    };
    assert!(
        (ours - p["ANN"].0).abs() <= p["ANN"].1,
        "{ours} vs plink2 {:?}",
        p["ANN"]
    );
}
