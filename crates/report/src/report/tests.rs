//! Unit tests of [`super`].
use super::*;

#[test]
fn classify_trims_shared_bases() {
    assert_eq!(classify(b"A", b"G"), AlleleKind::Snv(b'A', b'G'));
    // Multi-allelic records pad every ALT to the longest REF.
    assert_eq!(classify(b"GTT", b"CTT"), AlleleKind::Snv(b'G', b'C'));
    assert_eq!(classify(b"GTT", b"G"), AlleleKind::Deletion(2));
    assert_eq!(classify(b"GTT", b"GTTTT"), AlleleKind::Insertion(2));
    assert_eq!(classify(b"AC", b"GT"), AlleleKind::Mnp);
    assert_eq!(classify(b"AC", b"T"), AlleleKind::Complex);
    assert_eq!(classify(b"A", b"<DEL>"), AlleleKind::Complex);
}

#[test]
fn undeclared_filters_and_contigs_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let vcf = dir.path().join("u.vcf");
    std::fs::write(
        &vcf,
        "##fileformat=VCFv4.2\n##contig=<ID=c1>\n\
         ##FORMAT=<ID=GT,Number=1,Type=String,Description=\"GT\">\n\
         #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n\
         c1\t5\t.\tA\tC\t9\tq10\t.\tGT\t0/1\n\
         c2\t7\t.\tA\tG\t9\tPASS\t.\tGT\t1/1\n",
    )
    .unwrap();
    let r = build(&ReportInputs {
        vcf,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(r.stats.filters["q10"], 1);
    assert_eq!(r.stats.per_contig, vec![("c2".to_string(), 1)]);
}

#[test]
fn non_utf8_header_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let vcf = dir.path().join("h.vcf");
    std::fs::write(
        &vcf,
        b"##fileformat=VCFv4.2\n##source=caf\xe9\n##contig=<ID=c1>\n\
          #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n",
    )
    .unwrap();
    let e = build(&ReportInputs {
        vcf,
        ..Default::default()
    })
    .unwrap_err();
    assert!(
        format!("{e:#}").contains("h.vcf: the VCF header is not UTF-8"),
        "{e:#}"
    );
}

#[test]
fn histogram_bins_by_lower_edge() {
    let mut h = Histogram::new(&[0.0, 10.0, 20.0]);
    for x in [0.0, 9.99, 10.0, 25.0, 1e9, f64::NAN] {
        h.add(x);
    }
    assert_eq!(h.counts, vec![2, 1, 2]);
}

#[test]
fn collector_counts_alleles_zygosity_and_titv() {
    let mut c = Collector::new();
    let rec = |alleles: Vec<&'static [u8]>, filter: &str, gt: vcf_genotypes::Gt| Rec {
        contig: "c",
        vaf: vec![Some(0.5); alleles.len() - 1],
        alleles,
        filters: vec![filter.to_string()],
        qual: 30.0,
        gt,
        gq: Some(20.0),
        dp: Some(30.0),
        phase: None,
    };
    let d = |a, b| Some(vcf_genotypes::Call::diploid(a, b));
    let h = |a| Some(vcf_genotypes::Call::haploid(a));
    c.add(&rec(vec![b"A", b"G"], "PASS", d(0, 1))); // transition, het
    c.add(&rec(vec![b"A", b"C"], "PASS", d(1, 1))); // transversion, hom
    c.add(&rec(vec![b"GTT", b"G", b"GT"], "PASS", d(1, 2))); // two deletions, het-alt
    c.add(&rec(vec![b"C", b"CA"], "RefCall", d(0, 0))); // not a call
    c.add(&rec(vec![b"C", b"T"], "LowQual", d(0, 1))); // not PASS
    c.add(&rec(vec![b"C", b"T"], "PASS", None)); // no genotype
    c.add(&rec(vec![b"A", b"T"], "PASS", h(1))); // haploid ALT, transversion
    c.add(&rec(vec![b"A", b"T"], "PASS", h(0))); // haploid REF: not a call
    let s = c.finish();
    assert_eq!(s.records, 8);
    assert_eq!(s.filters["PASS"], 6);
    assert_eq!(s.calls, 4);
    assert_eq!(s.multiallelic, 1);
    assert_eq!((s.types.snv, s.types.deletion), (3, 2));
    assert_eq!((s.transitions, s.transversions, s.ti_tv), (1, 2, Some(0.5)));
    assert_eq!(
        s.zygosity,
        Zygosity {
            het: 1,
            hom_alt: 1,
            het_alt: 1,
            hemizygous: 1
        }
    );
    assert_eq!(s.het_hom_ratio, Some(2.0));
    assert_eq!(s.indel_lengths, vec![(-2, 1), (-1, 1)]);
    assert_eq!(s.vaf.counts[10], 5, "one VAF per called ALT allele");
    assert_eq!(s.per_contig, vec![("c".to_string(), 4)]);
}
