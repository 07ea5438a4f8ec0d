//! `varstream eval`: compare a VCF with a truth VCF by exact alleles after trimming and
//! left-alignment, inside a BED of confident regions — a quick, dependency-free check in the
//! spirit of `../shared/tools/eval_vcf.sh` (which also decomposes complex alleles with vcflib).
use std::collections::HashMap;
use std::path::Path;

use crate::errors::BadInput;
use anyhow::Result;
use rust_htslib::bcf::Read as _;

use crate::alleles::{sample_alleles, AlleleKey};
use crate::reference::{RefCursor, Reference};
use crate::regions::{read_bed, Interval};

/// Counts for one variant class.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Alleles in both.
    pub tp: usize,
    /// Truth alleles missing from the query.
    pub fn_: usize,
    /// Query alleles missing from the truth.
    pub fp: usize,
    /// True positives whose genotype class (het / hom-alt) agrees; a haploid call is hom-alt.
    pub gt_ok: usize,
}

impl Counts {
    /// Allele-level F1.
    pub fn f1(&self) -> f64 {
        let d = 2 * self.tp + self.fp + self.fn_;
        if d == 0 {
            0.0
        } else {
            2.0 * self.tp as f64 / d as f64
        }
    }
    /// F1 counting a wrong genotype as one false positive and one false negative.
    pub fn f1_gt(&self) -> f64 {
        let bad = self.tp - self.gt_ok;
        let d = 2 * self.gt_ok + self.fp + self.fn_ + 2 * bad;
        if d == 0 {
            0.0
        } else {
            2.0 * self.gt_ok as f64 / d as f64
        }
    }
}

/// SNV, INDEL and all.
#[derive(Debug, Default, Clone, Copy)]
pub struct Comparison {
    /// Single-base substitutions.
    pub snv: Counts,
    /// Everything else.
    pub indel: Counts,
}

impl Comparison {
    /// Both classes together.
    pub fn all(&self) -> Counts {
        Counts {
            tp: self.snv.tp + self.indel.tp,
            fn_: self.snv.fn_ + self.indel.fn_,
            fp: self.snv.fp + self.indel.fp,
            gt_ok: self.snv.gt_ok + self.indel.gt_ok,
        }
    }

    /// A table like eval_vcf.sh prints.
    pub fn table(&self) -> String {
        let mut s = format!(
            "{:<6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>8} {:>8}\n",
            "TYPE", "TRUTH", "QUERY", "TP", "FN", "FP", "F1", "F1_GT"
        );
        for (name, c) in [
            ("SNV", self.snv),
            ("INDEL", self.indel),
            ("ALL", self.all()),
        ] {
            s.push_str(&format!(
                "{:<6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>8.4} {:>8.4}\n",
                name,
                c.tp + c.fn_,
                c.tp + c.fp,
                c.tp,
                c.fn_,
                c.fp,
                c.f1(),
                c.f1_gt()
            ));
        }
        s
    }
}

/// One allele's copies in the chosen sample, and that sample's ploidy at the record.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Copies {
    /// Copies of the allele.
    pub copies: u8,
    /// Alleles in the genotype, missing ones included (2 for `0/1` and `./1`, 1 for `1`).
    pub ploidy: u8,
}

impl Copies {
    /// Every called copy is this allele: `1/1`, and a haploid `1` (a hemizygous call is
    /// compared with a truth that writes it `1/1` as the same genotype class).
    pub fn is_hom(&self) -> bool {
        self.copies >= self.ploidy
    }
}

/// Non-reference alleles (FILTER PASS or missing) of sample `sample` (by name; the only one
/// when `None`) with their copy numbers.
pub fn load_calls(
    path: &Path,
    reference: &Reference,
    within: &[Interval],
    sample: Option<&str>,
) -> Result<HashMap<AlleleKey, Copies>> {
    let mut reader = crate::input::open_vcf(path)?;
    let header = reader.header().clone();
    check_region_contigs(&header, path, within)?;
    let samples = crate::vcf_genotypes::header_samples(&reader);
    let column = crate::vcf_genotypes::sample_column(&samples, sample, path, "--sample", false)?;
    let pass = header.name_to_id(b"PASS").ok();
    let mut out = HashMap::new();
    let mut cursor = RefCursor::new(reference);
    for (n, rec) in (1u64..).zip(reader.records()) {
        let rec = rec.map_err(|e| anyhow::anyhow!("bad record in {}: {e}", path.display()))?;
        let Some(rid) = rec.rid() else { continue };
        // The record's header: htslib adds undeclared contigs to the reader's header.
        let contig = crate::vcf_genotypes::chrom_name(rec.header(), rid, path, n)?;
        crate::vcf_genotypes::check_numeric_format(&rec, &[b"GT"], path, n)?;
        let pos = rec.pos() as u64;
        if !within
            .iter()
            .any(|iv| iv.contig == contig && iv.start <= pos && pos < iv.end)
        {
            continue;
        }
        let filters: Vec<_> = rec.filters().collect();
        if !(filters.is_empty() || filters.iter().all(|f| Some(*f) == pass)) {
            continue;
        }
        cursor.load_around(&contig, pos, 1_000)?;
        let ref_at = |p: u64| cursor.base(p);
        let alleles = sample_alleles(&rec, &contig, &ref_at, path, column)?;
        if alleles.is_empty() {
            continue;
        }
        // sample_alleles has read the GT, so it is there. Missing alleles count towards the
        // ploidy: `./1` is not a hom-alt call.
        let ploidy = rec.genotypes().map_or(2, |g| g.get(column).len() as u8);
        for (key, copies) in alleles {
            let e: &mut Copies = out.entry(key).or_default();
            e.copies = e.copies.saturating_add(copies);
            e.ploidy = e.ploidy.max(ploidy);
        }
    }
    Ok(out)
}

/// Regions on a contig that the VCF names otherwise (`20` against `chr20`) would match
/// nothing and score zeros: an error naming both names.
pub fn check_region_contigs(
    header: &rust_htslib::bcf::header::HeaderView,
    path: &Path,
    within: &[Interval],
) -> Result<()> {
    let names = crate::vcf_genotypes::header_contigs(header);
    for iv in within {
        if names.contains(&iv.contig) {
            continue;
        }
        if let Some(m) = crate::regions::renamed(&iv.contig, &names) {
            crate::bail_input!(
                "{}: the regions name contig {}, which this VCF calls {m}: name contigs one \
                 way in both",
                path.display(),
                iv.contig
            );
        }
    }
    Ok(())
}

/// The samples to compare: (truth's, query's), each the file's only sample when `None`.
pub type SamplePair<'a> = (Option<&'a str>, Option<&'a str>);

/// Compare `query` with `truth` over `bed`, sample `samples.0` of the truth with `samples.1`
/// of the query.
pub fn evaluate(
    truth: &Path,
    query: &Path,
    bed: &Path,
    reference: &Reference,
    samples: SamplePair,
) -> Result<Comparison> {
    let within = read_bed(bed).bad_input()?;
    let t = load_calls(truth, reference, &within, samples.0).bad_input()?;
    let q = load_calls(query, reference, &within, samples.1).bad_input()?;
    let mut rep = Comparison::default();
    let class = |k: &AlleleKey| k.2.len() == 1 && k.3.len() == 1;
    for (k, tc) in &t {
        let c = if class(k) {
            &mut rep.snv
        } else {
            &mut rep.indel
        };
        match q.get(k) {
            Some(qc) => {
                c.tp += 1;
                if tc.is_hom() == qc.is_hom() {
                    c.gt_ok += 1;
                }
            }
            None => c.fn_ += 1,
        }
    }
    for k in q.keys().filter(|k| !t.contains_key(*k)) {
        if class(k) {
            rep.snv.fp += 1
        } else {
            rep.indel.fp += 1
        }
    }
    Ok(rep)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A haploid `1` (a hemizygous call) against a truth that writes it `1/1` is the same
    /// genotype class; a haploid `1` against a truth het is not.
    #[test]
    fn test_haploid_call_matches_hom_alt_truth() {
        let dir = tempfile::tempdir().unwrap();
        let fa = dir.path().join("ref.fa");
        std::fs::write(&fa, ">chrX\nTACGTACGTACGTACGTACG\n").unwrap();
        let reference = Reference::open(&fa).unwrap();
        let vcf = |name: &str, gts: [&str; 5]| {
            let p = dir.path().join(name);
            std::fs::write(
                &p,
                format!(
                    "##fileformat=VCFv4.2\n##contig=<ID=chrX,length=20>\n\
                     ##FORMAT=<ID=GT,Number=1,Type=String,Description=\"GT\">\n\
                     #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts\n\
                     chrX\t3\t.\tC\tT\t.\tPASS\t.\tGT\t{}\n\
                     chrX\t5\t.\tT\tA\t.\tPASS\t.\tGT\t{}\n\
                     chrX\t8\t.\tG\tC\t.\tPASS\t.\tGT\t{}\n\
                     chrX\t10\t.\tA\tG\t.\tPASS\t.\tGT\t{}\n\
                     chrX\t12\t.\tG\tA\t.\tPASS\t.\tGT\t{}\n",
                    gts[0], gts[1], gts[2], gts[3], gts[4]
                ),
            )
            .unwrap();
            p
        };
        let truth = vcf("truth.vcf", ["1/1", "1/1", "0/1", "0/1", "1/1"]);
        let query = vcf("query.vcf", ["1", "1", "0/1", "1", "./1"]);
        let bed = dir.path().join("all.bed");
        std::fs::write(&bed, "chrX\t0\t20\n").unwrap();
        let rep = evaluate(&truth, &query, &bed, &reference, (None, None)).unwrap();
        assert_eq!(rep.snv.tp, 5);
        // Counting copies alone would give 2: the haploid 1s against 1/1 wrong, against 0/1 right.
        assert_eq!(
            rep.snv.gt_ok, 3,
            "haploid 1 = 1/1 twice, 0/1 = 0/1; haploid 1 != 0/1; ./1 != 1/1"
        );
    }

    #[test]
    fn test_f1_gt_counts_wrong_genotype_twice() {
        let c = Counts {
            tp: 10,
            fn_: 0,
            fp: 0,
            gt_ok: 9,
        };
        assert!((c.f1() - 1.0).abs() < 1e-12);
        // 9 good; 1 wrong genotype = 1 FP + 1 FN: 18 / (18 + 2) = 0.9
        assert!((c.f1_gt() - 0.9).abs() < 1e-12);
    }
}
