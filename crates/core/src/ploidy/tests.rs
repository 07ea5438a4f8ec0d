//! Unit tests of [`super`].
use super::*;

fn iv(c: &str, s: u64, e: u64) -> Interval {
    Interval {
        contig: c.into(),
        start: s,
        end: e,
    }
}

#[test]
fn human_rules_make_x_haploid_outside_pars_in_xy_and_drop_y_in_xx() {
    let contigs = vec![
        ("chr1".to_string(), 1000),
        ("chrX".to_string(), 156_040_895),
        ("chrY".to_string(), 57_227_415),
        ("chrM".to_string(), 16_569),
    ];
    let hap = vec!["chrX".to_string(), "chrY".to_string()];
    let (rules, unknown) = human_rules(&contigs, &hap, false, &ParSource::Builtin);
    assert!(unknown.is_empty());
    let xy = PloidyMap::new(&rules, Some(Sex::XY));
    assert_eq!(xy.at("chr1", 5), 2);
    assert_eq!(xy.at("chrX", 10_000), 2, "PAR1 starts at 10,001 (1-based)");
    assert_eq!(xy.at("chrX", 9_999), 1);
    assert_eq!(xy.at("chrX", 2_781_478), 2);
    assert_eq!(xy.at("chrX", 2_781_479), 1);
    assert_eq!(xy.at("chrX", 100_000_000), 1);
    assert_eq!(xy.at("chrY", 20_000_000), 1);
    assert_eq!(xy.at("chrM", 100), 1);
    let xx = PloidyMap::new(&rules, Some(Sex::XX));
    assert_eq!(xx.at("chrX", 100_000_000), 2);
    assert_eq!(xx.at("chrY", 20_000_000), 0);
    assert_eq!(xx.at("chrM", 100), 1);
    let unknown = PloidyMap::new(&rules, None);
    assert_eq!(unknown.at("chrY", 20_000_000), 2);
    assert_eq!(unknown.at("chrM", 100), 1);
    assert_eq!(
        xy.segments(&iv("chrX", 0, 3_000_000)),
        vec![
            (0, 10_000, 1),
            (10_000, 2_781_479, 2),
            (2_781_479, 3_000_000, 1)
        ]
    );
    assert_eq!(
        xx.drop_absent(&[iv("chr1", 0, 1000), iv("chrY", 0, 100)]),
        vec![iv("chr1", 0, 1000)]
    );
    let unknown_len = vec![("chrX".to_string(), 1000)];
    assert_eq!(
        human_rules(&unknown_len, &hap, false, &ParSource::Builtin).1,
        ["chrX"]
    );
    assert!(human_rules(&unknown_len, &hap, false, &ParSource::None)
        .1
        .is_empty());
}

#[test]
fn ploidy_file_in_bcftools_format() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ploidy.txt");
    std::fs::write(
        &p,
        "# comment\nX 1 60000 M 1\nX 2699521 154931043 M 1\nY 1 59373566 M 1\n\
         Y 1 59373566 F 0\nMT 1 16569 * 1\n* * * * 2\nchrZ * * * 1\n",
    )
    .unwrap();
    let rules = read_ploidy_file(&p).unwrap();
    let m = PloidyMap::new(&rules, Some(Sex::XY));
    assert_eq!(m.at("X", 0), 1);
    assert_eq!(m.at("X", 60_000), 2);
    assert_eq!(m.at("Y", 5), 1);
    assert_eq!(m.at("MT", 5), 1);
    assert_eq!(m.at("chrZ", 5), 1, "a named contig overrides the * default");
    assert_eq!(m.at("1", 5), 2);
    assert_eq!(PloidyMap::new(&rules, Some(Sex::XX)).at("Y", 5), 0);
    for bad in [
        "X 1 10 M 3\n",
        "X 1 10 Q 1\n",
        "X 10 1 M 1\n",
        "X 0 10 M 1\n",
        "X 1 M 1\n",
    ] {
        std::fs::write(&p, bad).unwrap();
        let e = read_ploidy_file(&p).unwrap_err();
        assert!(crate::errors::is_input(&e), "{bad:?}: {e:#}");
        assert!(format!("{e:#}").contains("line 1"), "{e:#}");
    }
}
