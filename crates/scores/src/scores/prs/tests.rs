//! Unit tests of [`super`].
use super::*;
use crate::scores::pgs_file::{EffectType, ScoreRow};
use crate::scores::vcf_genotypes::GenotypedSite;

fn site(alleles: &[&str]) -> GenotypedSite {
    GenotypedSite {
        chrom: "1".into(),
        pos: 100,
        id: ".".into(),
        alleles: alleles.iter().map(|s| s.to_string()).collect(),
        gts: vec![Some(vcf_genotypes::Call::diploid(0, 1))],
        end: 100,
    }
}

fn row(e: &str, o: Option<&str>) -> ScoreRow {
    ScoreRow {
        line: 1,
        rsid: String::new(),
        chrom: "1".into(),
        pos: Some(100),
        effect_allele: e.into(),
        other_allele: o.map(String::from),
        weight: 1.0,
        effect_type: EffectType::Additive,
    }
}

#[test]
fn match_types_in_priority_order() {
    let s = [site(&["A", "G"])];
    let t = |e, o| match_row(&row(e, o), &s).match_type;
    assert_eq!(t("A", Some("G")), Some(MatchType::RefAlt));
    assert_eq!(t("G", Some("A")), Some(MatchType::AltRef));
    assert_eq!(t("T", Some("C")), Some(MatchType::RefAltFlip));
    assert_eq!(t("C", Some("T")), Some(MatchType::AltRefFlip));
    assert_eq!(t("A", None), Some(MatchType::NoOaRef));
    assert_eq!(t("G", None), Some(MatchType::NoOaAlt));
    assert_eq!(t("T", None), Some(MatchType::NoOaRefFlip));
    assert_eq!(t("A", Some("C")), None);
    // A palindromic site: refalt beats the altref_flip reading of the same alleles.
    let p = [site(&["A", "T"])];
    let m = match_row(&row("A", Some("T")), &p);
    assert_eq!(m.match_type, Some(MatchType::RefAlt));
    assert!(m.ambiguous);
    assert_eq!(m.effect_index, 0);
}

#[test]
fn reference_only_sites_are_hom_ref() {
    let s = [site(&["A"]), site(&["A", "<*>"])];
    for s in s.chunks(1) {
        let t = |e, o| {
            let m = match_row(&row(e, o), s);
            (m.match_type, m.effect_index, m.target_variant)
        };
        let v = "1:100:A:.".to_string();
        assert_eq!(t("A", Some("G")), (Some(MatchType::RefOnly), 0, v.clone()));
        assert_eq!(
            t("G", Some("A")),
            (Some(MatchType::RefOnlyOther), NOT_LISTED, v.clone())
        );
        assert_eq!(
            t("T", Some("C")),
            (Some(MatchType::RefOnlyFlip), 0, v.clone())
        );
        assert_eq!(
            t("C", Some("T")),
            (Some(MatchType::RefOnlyOtherFlip), NOT_LISTED, v)
        );
        assert_eq!(t("G", Some("C")).0, None);
    }
    // A 0/1 genotype never names the unlisted effect allele.
    assert_eq!(allele_count(s[0].gts[0], NOT_LISTED), Some(0.0));
}

#[test]
fn equal_best_matches_are_duplicates() {
    let s = [site(&["A", "G"]), site(&["A", "G"])];
    assert!(match_row(&row("G", Some("A")), &s).duplicate_best_match);
    // ...but REF matches on two ALTs of one record count the same copies.
    let m = [site(&["A", "G", "T"])];
    assert!(!match_row(&row("A", None), &m).duplicate_best_match);
}

#[test]
fn normal_cdf_is_accurate() {
    assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
    assert!((normal_cdf(1.959964) - 0.975).abs() < 1e-6);
    assert!((normal_cdf(-1.0) - 0.158655).abs() < 1e-6);
}

#[test]
fn quantile_placement_interpolates() {
    let d = Distribution {
        population: "X".into(),
        mean_sd: Some((0.0, 2.0)),
        quantiles: vec![(0.0, -1.0), (50.0, 0.0), (100.0, 1.0)],
    };
    let (z, p) = d.place(0.5);
    assert_eq!(z, 0.25);
    assert_eq!(p, 75.0);
    assert_eq!(d.place(5.0).1, 100.0);
}
