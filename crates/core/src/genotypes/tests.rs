//! Unit tests of [`super`].
use super::*;

/// Posteriors from single-alt probabilities only.
fn genotype_posteriors(per_alt: &[[f32; 3]]) -> Vec<f64> {
    let sets: Vec<Vec<usize>> = (0..per_alt.len()).map(|a| vec![a]).collect();
    posteriors_from_sets(per_alt.len(), &sets, per_alt)
}

#[test]
fn test_genotype_index_matches_vcf_spec() {
    // VCF 4.2 §1.6.2: 0/0, 0/1, 1/1, 0/2, 1/2, 2/2
    assert_eq!(
        genotypes(3),
        vec![(0, 0), (0, 1), (1, 1), (0, 2), (1, 2), (2, 2)]
    );
    assert_eq!(genotype_index(1, 2), 4);
    assert_eq!(genotype_index(2, 1), 4);
    assert_eq!(genotype_index(0, 0), 0);
}

#[test]
fn test_biallelic_posteriors_are_model_probabilities() {
    let post = genotype_posteriors(&[[0.1, 0.7, 0.2]]);
    assert!((post[0] - 0.1).abs() < 1e-6);
    assert!((post[1] - 0.7).abs() < 1e-6);
    assert!((post[2] - 0.2).abs() < 1e-6);
    let c = call(&post);
    assert_eq!(c.gt, (0, 1));
    // GQ = -10 log10(0.3) = 5.23 -> 5; QUAL = -10 log10(0.1) = 10
    assert_eq!(c.gq, 5);
    assert!((c.qual - 10.0).abs() < 1e-6);
    // PL: -10log10(.1)=10, -10log10(.7)=1.549, -10log10(.2)=6.99 -> minus 1.549 -> 8, 0, 5
    assert_eq!(c.pl, vec![8, 0, 5]);
    assert_eq!(filter(&c, 1.0), Filter::Pass);
    assert_eq!(filter(&c, 20.0), Filter::LowQual);
}

#[test]
fn test_multiallelic_het_het() {
    // Each alt looks heterozygous: 1/2 is the product 0.8 * 0.8.
    let post = genotype_posteriors(&[[0.1, 0.8, 0.1], [0.1, 0.8, 0.1]]);
    // unnormalised: 0/0 .01, 0/1 .08, 1/1 .01, 0/2 .08, 1/2 .64, 2/2 .01 ; total .83
    assert!((post[4] - 0.64 / 0.83).abs() < 1e-6);
    assert_eq!(call(&post).gt, (1, 2));
}

#[test]
fn test_pair_expert_rules_out_ref() {
    // Alone, alt 1 looks het and alt 2 mostly absent: 0/1 (.9 * .6) beats 1/2 (.9 * .35).
    let singles = [[0.05, 0.9, 0.05], [0.6, 0.35, 0.05]];
    assert_eq!(call(&genotype_posteriors(&singles)).gt, (0, 1));
    // The pair's example sees no REF reads: 2 copies of "alt 1 or 2" is likely.
    let sets = vec![vec![0], vec![1], vec![0, 1]];
    let probs = [singles[0], singles[1], [0.01, 0.09, 0.9]];
    let post = posteriors_from_sets(2, &sets, &probs);
    // 0/1: .9 * .6 * .09 = .0486; 1/2: .9 * .35 * .9 = .2835
    assert_eq!(call(&post).gt, (1, 2));
    assert!(post[4] > 5.0 * post[1]);
}

#[test]
fn haploid_calls_take_the_homozygous_evidence() {
    // All reads ALT: the diploid model says two copies; haploid GT 1.
    let c = call_site(
        1,
        &[vec![0]],
        &[[0.001, 0.009, 0.99]],
        1,
        SiteCalibration::NONE,
    );
    assert_eq!((c.gt, c.ploidy, c.gt_text()), ((1, 1), 1, "1".to_string()));
    // P(1) = .99 / (.99 + .001): GQ 30, QUAL 30.
    assert_eq!((c.gq, c.qual.round()), (30, 30.0));
    assert_eq!(c.pl, vec![30, 0]);
    assert_eq!(filter(&c, 1.0), Filter::Pass);
    // All reads REF.
    let c = call_site(
        1,
        &[vec![0]],
        &[[0.99, 0.009, 0.001]],
        1,
        SiteCalibration::NONE,
    );
    assert_eq!(
        (c.gt_text(), filter(&c, 1.0)),
        ("0".to_string(), Filter::RefCall)
    );
    // Half the reads ALT (a het in a haploid region): neither hypothesis is strong.
    let c = call_site(
        1,
        &[vec![0]],
        &[[0.02, 0.96, 0.02]],
        1,
        SiteCalibration::NONE,
    );
    assert_eq!(c.gq, 3);
    // Two ALTs: one value per allele; the pair's answer counts too.
    let sets = vec![vec![0], vec![1], vec![0, 1]];
    let probs = [[0.9, 0.05, 0.05], [0.01, 0.04, 0.95], [0.01, 0.04, 0.95]];
    let c = call_site(2, &sets, &probs, 1, SiteCalibration::NONE);
    assert_eq!((c.gt_text(), c.pl.len()), ("2".to_string(), 3));
    // Diploid sites are unchanged.
    let d = call_site(1, &[vec![0]], &[[0.1, 0.7, 0.2]], 2, SiteCalibration::NONE);
    assert_eq!((d.gt_text(), d.ploidy), ("0/1".to_string(), 2));
}

#[test]
fn calibration_sharpens_without_changing_the_call() {
    let raw = call_site(
        1,
        &[vec![0]],
        &[[0.001, 0.02, 0.979]],
        2,
        SiteCalibration::NONE,
    );
    let cal = call_site(
        1,
        &[vec![0]],
        &[[0.001, 0.02, 0.979]],
        2,
        SiteCalibration::power(2.0),
    );
    assert_eq!(raw.gt, cal.gt);
    assert!(cal.gq > raw.gq && cal.qual > raw.qual, "{raw:?} {cal:?}");
    // Power 2 doubles every Phred gap to the best genotype.
    assert_eq!(cal.pl, raw.pl.iter().map(|p| p * 2).collect::<Vec<_>>());
    let c = Calibration::from_sidecar(&serde_json::json!({
        "snv_bands": [{"max_dp": 10, "power": 1.5}, {"max_dp": null, "power": 2.0}],
        "indel_bands": [{"max_dp": null, "power": 0.9}]}))
    .unwrap();
    assert_eq!(
        (
            c.powers(3, false),
            c.powers(10, false),
            c.powers(500, false)
        ),
        ([1.5; 3], [2.0; 3], [2.0; 3])
    );
    assert_eq!(c.powers(3, true), [0.9; 3]);
    assert_eq!(Calibration::default().powers(30, false), [1.0; 3]);
    assert!(Calibration::from_sidecar(
        &serde_json::json!({"snv_bands": [{"max_dp": 10, "power": -1}]})
    )
    .is_err());
    assert!(Calibration::from_sidecar(&serde_json::json!({"snv_bands": [
        {"max_dp": 10, "power": 1, "class_powers": {"ref": 1, "het": 1}}]}))
    .is_err());
}

#[test]
fn a_class_power_scales_only_calls_of_its_class() {
    let c = Calibration::from_sidecar(&serde_json::json!({"snv_bands": [
        {"max_dp": null, "power": 1.0, "class_powers": {"ref": 1.0, "het": 1.0, "hom": 2.0}}]}))
    .unwrap();
    assert_eq!(c.powers(30, false), [1.0, 1.0, 2.0]);
    let hom = [[0.0001, 0.0009, 0.999]];
    let raw = call_site(1, &[vec![0]], &hom, 2, SiteCalibration::NONE);
    let cal = call_site(1, &[vec![0]], &hom, 2, c.for_site(30, false, false));
    assert_eq!((raw.gt, cal.gt), ((1, 1), (1, 1)));
    // Every Phred gap to the best genotype doubles (PL are rounded, so within 1).
    for (c, r) in cal.pl.iter().zip(&raw.pl) {
        assert!(c.abs_diff(2 * r) <= 1, "{raw:?} {cal:?}");
    }
    assert!(cal.gq + 1 >= 2 * raw.gq, "{raw:?} {cal:?}");
    // A het call at the same site kind and depth is untouched.
    let het = [[0.0005, 0.999, 0.0005]];
    assert_eq!(
        call_site(1, &[vec![0]], &het, 2, c.for_site(30, false, false)),
        call_site(1, &[vec![0]], &het, 2, SiteCalibration::NONE)
    );
}

#[test]
fn ceilings_lower_confident_calls_of_their_class_only() {
    let c = Calibration::from_sidecar(&serde_json::json!({
        "snv_bands": [{"max_dp": null, "power": 1.0}],
        "ceilings": {"snv": {
            "ref": [],
            "het": [{"min_gq": 0, "ceiling": null}, {"min_gq": 30, "ceiling": 25.0}],
            "hom": [{"min_gq": 0, "ceiling": 18.0}]}}}))
    .unwrap();
    // A het at GQ 40 comes down to 25; its genotype, and the ratio of the others, stay.
    let probs = [[0.00005, 0.9999, 0.00005]];
    let raw = call_site(1, &[vec![0]], &probs, 2, SiteCalibration::NONE);
    let cal = call_site(1, &[vec![0]], &probs, 2, c.for_site(30, false, false));
    assert_eq!((raw.gt, raw.gq), ((0, 1), 40));
    assert_eq!((cal.gt, cal.gq), ((0, 1), 25));
    assert_eq!(cal.pl[0], cal.pl[2]);
    // A het below the bin that has a ceiling is untouched.
    let low = [[0.01, 0.98, 0.01]];
    assert_eq!(
        call_site(1, &[vec![0]], &low, 2, c.for_site(30, false, false)),
        call_site(1, &[vec![0]], &low, 2, SiteCalibration::NONE)
    );
    // Hom-alt calls have their own ceiling; a ceiling above the GQ changes nothing.
    let hom = [[0.0001, 0.0009, 0.999]];
    assert_eq!(
        call_site(1, &[vec![0]], &hom, 2, c.for_site(30, false, false)).gq,
        18
    );
    let hom_low = [[0.05, 0.05, 0.9]];
    assert_eq!(
        call_site(1, &[vec![0]], &hom_low, 2, c.for_site(30, false, false)).gq,
        10
    );
    // QUAL follows: P(0/0) grows with the other genotypes' mass.
    assert!(call_site(1, &[vec![0]], &hom, 2, c.for_site(30, false, false)).qual < 40.0);
    // Indel sites have no ceilings here, and no block at all means none.
    assert_eq!(
        call_site(1, &[vec![0]], &hom, 2, c.for_site(30, true, false)).gq,
        30
    );
    assert_eq!(
        Calibration::default().for_site(30, false, false).ceilings[2].len(),
        0
    );
    // Bad blocks are errors, not silently ignored.
    for bad in [
        serde_json::json!({"ceilings": {"snv": {"ref": [], "het": []}}}),
        serde_json::json!({"ceilings": {"snv": {"ref": [], "het": [], "hom": [{"min_gq": 0, "ceiling": 1.0}]}}}),
        serde_json::json!({"ceilings": {"snv": {"ref": [], "het": [], "hom": [{"min_gq": 10, "ceiling": null}, {"min_gq": 0, "ceiling": null}]}}}),
    ] {
        assert!(Calibration::from_sidecar(&bad).is_err(), "{bad}");
    }
}

#[test]
fn test_hom_ref_is_refcall_and_gq_capped() {
    let c = call(&genotype_posteriors(&[[0.999_999_9, 1e-8, 1e-8]]));
    assert_eq!(c.gt, (0, 0));
    assert!(c.gq <= MAX_GQ);
    assert_eq!(filter(&c, 1.0), Filter::RefCall);
}

#[test]
fn unexplained_reads_count_what_the_record_will_list() {
    // DP 21, REF 0, the SNV 15: 6 reads of an allele no candidate holds.
    assert!(unexplained_reads(21, &[0, 15], (1, 1)));
    // Every read REF or ALT.
    assert!(!unexplained_reads(21, &[1, 20], (1, 1)));
    // Up to a tenth of DP (and at least 1) is noise.
    assert!(!unexplained_reads(30, &[0, 27], (1, 1)));
    assert!(!unexplained_reads(5, &[0, 4], (1, 1)));
    // A dropped candidate's reads are unexplained by a call that does not list it...
    assert!(unexplained_reads(20, &[0, 12, 8], (1, 1)));
    // ...but a 0/0 record lists every candidate.
    assert!(!unexplained_reads(20, &[12, 4, 4], (0, 0)));
}

#[test]
fn calls_leaving_reads_unexplained_take_their_own_ceilings() {
    let c = Calibration::from_sidecar(&serde_json::json!({
        "snv_bands": [{"max_dp": null, "power": 1.0}],
        "ceilings": {
            "snv": {"ref": [], "het": [], "hom": []},
            "snv_unexplained": {"ref": [], "het": [], "hom": [{"min_gq": 0, "ceiling": 12.0}]}}}))
    .unwrap();
    assert!(c.splits_unexplained());
    let hom = [[0.0001, 0.0009, 0.999]];
    assert_eq!(
        call_site(1, &[vec![0]], &hom, 2, c.for_site(30, false, false)).gq,
        30
    );
    assert_eq!(
        call_site(1, &[vec![0]], &hom, 2, c.for_site(30, false, true)).gq,
        12
    );
    // Indel sites have no such ceilings here: the usual ones (none) apply.
    assert_eq!(
        call_site(1, &[vec![0]], &hom, 2, c.for_site(30, true, true)).gq,
        30
    );
    assert!(!Calibration::default().splits_unexplained());
}
