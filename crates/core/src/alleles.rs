//! Alleles compared across files, in one form: trimmed of shared bases and left-aligned
//! against the reference ([`normalize`]), so that `eval`, `make-examples`' labels and the
//! report's annotations match a variant however each file wrote it.
use std::path::Path;

use anyhow::Result;
use rust_htslib::bcf;

/// A variant allele in minimal, left-aligned form (0-based position of REF's first base).
pub type AlleleKey = (String, u64, Vec<u8>, Vec<u8>);

/// Trim shared suffix and prefix (keeping one base each), then shift an indel left while the
/// reference allows. `ref_at(pos)` gives the reference base at a 0-based position.
pub fn normalize(
    contig: &str,
    mut pos: u64,
    r: &[u8],
    a: &[u8],
    ref_at: &dyn Fn(u64) -> u8,
) -> AlleleKey {
    let (mut r, mut a) = (r.to_ascii_uppercase(), a.to_ascii_uppercase());
    while r.len() > 1 && a.len() > 1 && r.last() == a.last() {
        r.pop();
        a.pop();
    }
    while r.len() > 1 && a.len() > 1 && r[0] == a[0] {
        r.remove(0);
        a.remove(0);
        pos += 1;
    }
    // Pure indel: one side is the anchor base alone.
    if r.len() != a.len() && (r.len() == 1 || a.len() == 1) && r[0] == a[0] {
        loop {
            let long = if r.len() > a.len() { &mut r } else { &mut a };
            if pos == 0 || *long.last().unwrap() != long[0] {
                break;
            }
            let prev = ref_at(pos - 1);
            if prev == b'N' {
                break;
            }
            long.pop();
            long.insert(0, prev);
            let short = if r.len() > a.len() { &mut a } else { &mut r };
            short[0] = prev;
            pos -= 1;
        }
    }
    (contig.to_string(), pos, r, a)
}

/// Non-reference alleles of sample column `sample` in one VCF record with their copy numbers, in
/// minimal left-aligned form. Same-length multi-base alleles (MNPs) are split into SNVs;
/// symbolic and `*` alleles are skipped.
pub fn sample_alleles(
    rec: &bcf::Record,
    contig: &str,
    ref_at: &dyn Fn(u64) -> u8,
    path: &Path,
    sample: usize,
) -> Result<Vec<(AlleleKey, u8)>> {
    let pos = rec.pos() as u64;
    let gt = rec
        .genotypes()
        .map_err(|e| anyhow::anyhow!("{}:{}: no GT: {e}", path.display(), pos + 1))?;
    let alleles: Vec<Vec<u8>> = rec.alleles().iter().map(|a| a.to_vec()).collect();
    let mut copies = vec![0u8; alleles.len()];
    for g in gt.get(sample).iter() {
        if let Some(c) = g.index().and_then(|i| copies.get_mut(i as usize)) {
            *c += 1;
        }
    }
    let r = &alleles[0];
    let mut out = Vec::new();
    for (i, a) in alleles.iter().enumerate().skip(1) {
        if copies[i] == 0 || a.starts_with(b"<") || a == b"*" {
            continue;
        }
        if r.len() == a.len() && r.len() > 1 {
            for (k, (x, y)) in r.iter().zip(a).enumerate().filter(|(_, (x, y))| x != y) {
                out.push((
                    normalize(contig, pos + k as u64, &[*x], &[*y], ref_at),
                    copies[i],
                ));
            }
        } else {
            out.push((normalize(contig, pos, r, a, ref_at), copies[i]));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_alleles_counts_haploid_calls_as_one_copy() {
        use rust_htslib::bcf::Read;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.vcf");
        std::fs::write(
            &p,
            "##fileformat=VCFv4.2\n##contig=<ID=chrX>\n\
             ##FORMAT=<ID=GT,Number=1,Type=String,Description=\"GT\">\n\
             #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ts\n\
             chrX\t2\t.\tA\tG\t.\t.\t.\tGT\t1\n\
             chrX\t3\t.\tC\tT\t.\t.\t.\tGT\t1/1\n\
             chrX\t4\t.\tG\tA\t.\t.\t.\tGT\t0|1\n",
        )
        .unwrap();
        let seq = b"TACGT";
        let ref_at = |q: u64| seq[q as usize];
        let mut reader = rust_htslib::bcf::Reader::from_path(&p).unwrap();
        let copies: Vec<u8> = reader
            .records()
            .flat_map(|r| sample_alleles(&r.unwrap(), "chrX", &ref_at, &p, 0).unwrap())
            .map(|(_, c)| c)
            .collect();
        assert_eq!(copies, [1, 2, 1]);
    }

    #[test]
    fn test_normalize_left_aligns_deletion() {
        // ref (0-based): 0 G, 1 A, 2 A, 3 A, 4 T. "AA>A" at pos 2 is the deletion of one A.
        let seq = b"GAAAT";
        let ref_at = |p: u64| seq[p as usize];
        assert_eq!(
            normalize("c", 2, b"AA", b"A", &ref_at),
            ("c".into(), 0, b"GA".to_vec(), b"G".to_vec())
        );
        // Trimming: GAT>GCT is the SNV A>C at pos 1.
        assert_eq!(
            normalize("c", 0, b"GAT", b"GCT", &ref_at),
            ("c".into(), 1, b"A".to_vec(), b"C".to_vec())
        );
        // Padded multi-allelic ALT: REF GT, ALT G (deletion of T at pos 1 relative to anchor 0).
        let seq2 = b"CGTA";
        let ref_at2 = |p: u64| seq2[p as usize];
        assert_eq!(
            normalize("c", 1, b"GT", b"TT", &ref_at2),
            ("c".into(), 1, b"G".to_vec(), b"T".to_vec())
        );
    }

    #[test]
    fn test_normalize_insertion_in_repeat() {
        let seq = b"TCACAG";
        let ref_at = |p: u64| seq[p as usize];
        // insertion of CA after pos 4 (A) is the same as after pos 0 (T)
        assert_eq!(
            normalize("c", 4, b"A", b"ACA", &ref_at),
            ("c".into(), 0, b"T".to_vec(), b"TCA".to_vec())
        );
    }
}
