//! `varstream eval`: compare a VCF with a truth VCF by exact alleles after trimming and
//! left-alignment, inside a BED of confident regions — a quick, dependency-free check in the
//! spirit of `../shared/tools/eval_vcf.sh` (which also decomposes complex alleles with vcflib).
use std::collections::HashMap;
use std::path::Path;

use crate::errors::BadInput;
use anyhow::Result;
use rust_htslib::bcf::Read as _;

use crate::make_examples::{sample_alleles, AlleleKey};
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
    /// True positives whose genotype class (het / hom-alt) agrees.
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

/// Non-reference alleles (FILTER PASS or missing) of the first sample with their copy numbers.
pub fn load_calls(
    path: &Path,
    reference: &Reference,
    within: &[Interval],
) -> Result<HashMap<AlleleKey, u8>> {
    let mut reader = crate::input::open_vcf(path)?;
    let header = reader.header().clone();
    let pass = header.name_to_id(b"PASS").ok();
    let mut out = HashMap::new();
    let mut cursor = RefCursor::new(reference);
    for (n, rec) in (1u64..).zip(reader.records()) {
        let rec = rec.map_err(|e| anyhow::anyhow!("bad record in {}: {e}", path.display()))?;
        let Some(rid) = rec.rid() else { continue };
        // The record's header: htslib adds undeclared contigs to the reader's header.
        let contig = crate::scores::vcf_genotypes::chrom_name(rec.header(), rid, path, n)?;
        crate::scores::vcf_genotypes::check_numeric_format(&rec, &[b"GT"], path, n)?;
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
        for (key, copies) in sample_alleles(&rec, &contig, &ref_at, path)? {
            *out.entry(key).or_default() += copies;
        }
    }
    Ok(out)
}

/// Compare `query` with `truth` over `bed` (optionally also within `region`).
pub fn evaluate(
    truth: &Path,
    query: &Path,
    bed: &Path,
    reference: &Reference,
) -> Result<Comparison> {
    let within = read_bed(bed).bad_input()?;
    let t = load_calls(truth, reference, &within).bad_input()?;
    let q = load_calls(query, reference, &within).bad_input()?;
    let mut rep = Comparison::default();
    let class = |k: &AlleleKey| k.2.len() == 1 && k.3.len() == 1;
    for (k, &tc) in &t {
        let c = if class(k) {
            &mut rep.snv
        } else {
            &mut rep.indel
        };
        match q.get(k) {
            Some(&qc) => {
                c.tp += 1;
                if (tc >= 2) == (qc >= 2) {
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
