//! `varstream report` on a hand-written VCF whose statistics are counted by hand below, and
//! checked against `bcftools stats` where bcftools is installed.
mod common;

use std::path::Path;

use common::{assert_ok, run};

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
    let page = |d: &tempfile::TempDir| {
        std::fs::read_to_string(d.path().join("out.report.html"))
            .unwrap()
            .replace(d.path().to_str().unwrap(), "DIR")
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
        eprintln!("SKIP: bcftools not installed (scripts/setup.sh installs it)");
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
