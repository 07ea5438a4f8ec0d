//! Unit tests of [`super`].
use super::*;

fn pos(gq: u8, dp: u16) -> RefPosition {
    RefPosition {
        base: b'A',
        ploidy: 2,
        gq,
        dp,
        pl: [0, gq as u16, 3 * gq as u16],
    }
}

#[test]
fn test_bands_parse_and_place() {
    let b = GqBands::parse("20,60").unwrap();
    assert_eq!(
        (b.band(0), b.band(19), b.band(20), b.band(99)),
        (0, 0, 1, 2)
    );
    let g = GqBands::parse("gatk").unwrap();
    assert_eq!(g.bounds.len(), 64);
    assert_eq!(
        (g.band(0), g.band(1), g.band(59), g.band(65), g.band(99)),
        (0, 1, 59, 60, 64)
    );
    let d = GqBands::parse("deepvariant").unwrap();
    assert_eq!((d.band(4), d.band(5), d.band(99)), (0, 1, 19));
    for bad in ["", "0", "101", "20,10", "20,20", "x", "10,,20", "-5"] {
        let e = GqBands::parse(bad).unwrap_err();
        assert!(crate::errors::is_input(&e), "{bad}: {e:#}");
    }
}

#[test]
fn test_gq_and_pl() {
    // 20 clean reads: R/R ahead of R/N by 20 × log10(2).
    let l = [0.0, -20.0 * 2f64.log10(), -80.0];
    let (gq, pl) = gq_and_pl(&l);
    assert_eq!(gq, 60);
    assert_eq!(pl, [0, 60, 800]);
    // No reads: nothing is known.
    assert_eq!(gq_and_pl(&[0.0, 0.0, 0.0]).0, 2);
    assert_eq!(gq_and_pl(&[0.0, 0.0]).0, 3);
    // At and around the shortcut to the cap.
    assert_eq!(gq_and_pl(&[0.0, -10.31, -40.0]).0, 99);
    assert_eq!(gq_and_pl(&[0.0, -9.9, -40.0]).0, 99);
    assert_eq!(gq_and_pl(&[0.0, -9.5, -40.0]).0, 95);
}

#[test]
fn test_blocks_skip_variant_spans_and_continue_across_shards() {
    let mut w = BlockWriter::new(GqBands::parse("20,60").unwrap());
    let mut out = String::new();
    let rec = GvcfRecord {
        pos: 3,
        end: 7,
        line: "c\t4\t.\tACGT\tA,<*>\n".into(),
    };
    let first: Vec<_> = (0..5).map(|_| pos(70, 30)).collect();
    w.shard("c", 0, &first, std::slice::from_ref(&rec), &mut out);
    // Next shard: 5, 6 are inside the deletion; 7.. continue; 9 drops a band.
    let second = vec![
        pos(70, 30),
        pos(70, 30),
        pos(70, 31),
        pos(80, 33),
        pos(30, 9),
    ];
    w.shard("c", 5, &second, &[] as &[GvcfRecord], &mut out);
    w.close(&mut out);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0]
        .starts_with("c\t1\t.\tA\t<*>\t.\t.\tEND=3\tGT:GQ:DP:MIN_DP:PL\t0/0:70:30:30:0,70,210"));
    assert!(lines[1].starts_with("c\t4\t"));
    assert_eq!(
        lines[2],
        "c\t8\t.\tA\t<*>\t.\t.\tEND=9\tGT:GQ:DP:MIN_DP:PL\t0/0:70:32:31:0,70,210"
    );
    assert_eq!(
        lines[3],
        "c\t10\t.\tA\t<*>\t.\t.\tEND=10\tGT:GQ:DP:MIN_DP:PL\t0/0:30:9:9:0,30,90"
    );
}

#[test]
fn test_ploidy_changes_cut_blocks_and_haploid_blocks_have_one_allele() {
    struct HaploidFrom(u64);
    impl PloidyOf for HaploidFrom {
        fn ploidy(&self, _: &str, pos: u64) -> u8 {
            if pos >= self.0 {
                1
            } else {
                2
            }
        }
    }
    let ev = RefEvidence {
        from: 100,
        likelihoods: vec![[0.0, -6.0, -30.0]; 6],
        depth: vec![20; 6],
        bases: b"ACGTNR".to_vec(),
    };
    let positions = ref_positions("c", &ev, &HaploidFrom(103));
    assert_eq!(positions[2].ploidy, 2);
    assert_eq!(positions[3].ploidy, 1);
    assert_eq!(positions[2].pl, [0, 60, 300]);
    assert_eq!(positions[3].pl, [0, 300, 0]);
    assert_eq!(positions[5].base, b'N');
    let mut w = BlockWriter::new(GqBands::parse("20").unwrap());
    let mut out = String::new();
    w.shard("c", 100, &positions, &[] as &[GvcfRecord], &mut out);
    w.close(&mut out);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].ends_with("\t0/0:60:20:20:0,60,300"),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with("c\t104\t.\tT\t<*>\t.\t.\tEND=106\t"));
    assert!(lines[1].ends_with("\t0:99:20:20:0,300"), "{}", lines[1]);
}

#[test]
fn test_non_ref_allele_pl_appends_genotypes_with_star() {
    // 0/1 over REF and one ALT, 30 reads split 15/15, none other.
    let call = Call {
        gt: (0, 1),
        ploidy: 2,
        gq: 40,
        qual: 50.0,
        pl: vec![50, 0, 60],
    };
    let nr = non_ref_allele(&call, &[15, 15], 0);
    assert_eq!(nr.depth, 0);
    assert_eq!(nr.pl.len(), 3, "0/<*>, 1/<*>, <*>/<*>");
    // 0/<*> and 1/<*> from their best listed genotype (0/1) plus 30 reads' evidence.
    assert_eq!(nr.pl[0], nr.pl[1]);
    assert!(nr.pl[0] > 80, "{nr:?}");
    assert!(nr.pl[2] > nr.pl[0]);
    // Haploid: PL has one entry per allele.
    let hap = Call {
        gt: (1, 1),
        ploidy: 1,
        gq: 40,
        qual: 50.0,
        pl: vec![60, 0],
    };
    assert_eq!(non_ref_allele(&hap, &[0, 20], 0).pl.len(), 1);
    // Many reads of an unlisted allele make <*> genotypes cheap.
    let nr = non_ref_allele(&call, &[10, 10], 10);
    assert_eq!(nr.pl[0], 0);
}

#[test]
fn test_header_adds_gvcf_fields_before_the_column_line() {
    let h = header(
        "##fileformat=VCFv4.2\n#CHROM\tPOS\n",
        &GqBands::parse("20,60").unwrap(),
    );
    let lines: Vec<&str> = h.lines().collect();
    assert_eq!(lines[0], "##fileformat=VCFv4.2");
    assert!(lines[1].starts_with("##ALT=<ID=*"));
    assert!(h.contains("##INFO=<ID=END"));
    assert!(h.contains("##FORMAT=<ID=MIN_DP"));
    assert_eq!(*lines.last().unwrap(), "#CHROM\tPOS");
}
