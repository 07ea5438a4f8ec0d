use super::*;
use crate::candidates::{AltKind, Site};
use crate::genotypes::Call;

/// A PASS diploid call at 0-based `pos` of REF `r` and ALT `a` with genotype `gt` and PL.
fn rec(pos: u64, r: &str, a: &str, gt: (usize, usize), pl: [u32; 3]) -> CallRecord {
    let kind = match (r.len(), a.len()) {
        (1, 1) => AltKind::Snv(a.as_bytes()[0]),
        (x, 1) => AltKind::Del(x as u32 - 1),
        _ => AltKind::Ins(a.as_bytes()[1..].to_vec()),
    };
    let gq = gq_of(
        &posteriors_from_pl(&pl),
        crate::genotypes::genotype_index(gt.0, gt.1),
    );
    CallRecord {
        site: Site {
            contig: "c".into(),
            pos,
            ref_allele: r.as_bytes().to_vec(),
            alts: vec![kind],
            alt_alleles: vec![a.as_bytes().to_vec()],
            depth: 20,
            allele_depths: vec![10, 10],
            informative_end: pos + r.len() as u64,
        },
        call: Call {
            gt,
            ploidy: 2,
            gq,
            qual: 30.0,
            pl: pl.to_vec(),
        },
        filter: Filter::Pass,
        non_ref: None,
        het_reads: Vec::new(),
        phase: None,
    }
}

#[test]
fn test_an_allele_spans_the_bases_it_changes_and_not_its_anchor() {
    assert_eq!(allele_span(10, b"A", b"C"), (20, 20));
    // Deletion of bases 11-13.
    assert_eq!(allele_span(10, b"ATTG", b"A"), (22, 26));
    // Insertion between bases 10 and 11.
    assert_eq!(allele_span(10, b"A", b"AGG"), (21, 21));
    // An SNV written with a longer REF (a multi-allelic site's): base 10 only.
    assert_eq!(allele_span(10, b"AT", b"GT"), (20, 20));
    // An MNP.
    assert_eq!(allele_span(10, b"ACG", b"TCA"), (20, 24));
    // A deletion in a repeat left-aligned against its REF: bases 11-18.
    assert_eq!(
        allele_span(157_926, b"ATATATGTG", b"A"),
        (2 * 157_927, 2 * 157_934)
    );
}

/// The real HiFi case (chr20:157,927 and 157,929): a heterozygous 8 bp deletion overlapping a
/// homozygous one, three ALT alleles over six bases.
fn three_deletions() -> Vec<CallRecord> {
    vec![
        rec(157_926, "ATATATGTG", "A", (0, 1), [4, 0, 26]),
        rec(157_928, "ATATGTGTG", "A", (1, 1), [9, 7, 0]),
    ]
}

#[test]
fn test_an_incompatible_group_takes_the_most_probable_combination_that_fits() {
    let recs = three_deletions();
    let refs: Vec<&CallRecord> = recs.iter().collect();
    // 0/1 + 0/1 costs PL 7, 0/0 + 1/1 costs 4, 0/1 + 1/1 (as called) does not fit.
    assert_eq!(resolve(&refs), Some(vec![(0, 0), (1, 1)]));
}

#[test]
fn test_compatible_groups_and_calls_that_do_not_overlap_are_left_alone() {
    let hets = [
        rec(100, "ATTT", "A", (0, 1), [30, 0, 30]),
        rec(101, "TT", "T", (0, 1), [30, 0, 30]),
    ];
    assert_eq!(resolve(&hets.iter().collect::<Vec<_>>()), None);
    // An SNV on a deletion's anchor base does not overlap it.
    let anchor = [
        rec(100, "A", "G", (1, 1), [60, 30, 0]),
        rec(100, "AT", "A", (1, 1), [60, 30, 0]),
    ];
    assert_eq!(resolve(&anchor.iter().collect::<Vec<_>>()), None);
    // A homozygous SNV inside a homozygous deletion does.
    let inside = [
        rec(100, "ATT", "A", (1, 1), [60, 30, 0]),
        rec(101, "T", "G", (1, 1), [50, 3, 0]),
    ];
    assert_eq!(
        resolve(&inside.iter().collect::<Vec<_>>()),
        Some(vec![(0, 1), (0, 1)]),
        "1/1 + 0/0 costs PL 50, 0/1 + 0/1 costs 33"
    );
}

/// Push `batches` (each ending where the next begins) and collect what comes back.
fn run(batches: Vec<(u64, Vec<CallRecord>)>) -> (Vec<(u64, Vec<CallRecord>)>, u64) {
    let mut r = OverlapResolver::new(0.0);
    let mut out = Vec::new();
    for (end, recs) in batches {
        out.extend(r.push("c", end, end, recs));
    }
    let (rest, n) = r.finish();
    out.extend(rest);
    (out, n)
}

#[test]
fn test_a_group_across_batches_is_resolved_as_in_one_and_batches_come_back_in_order() {
    let mut recs = three_deletions();
    recs.insert(0, rec(150_000, "C", "T", (0, 1), [40, 0, 40]));
    recs.push(rec(160_000, "G", "A", (0, 1), [40, 0, 40]));
    let (one, n1) = run(vec![(200_000, recs.clone())]);
    // Cut between the two deletions: the first batch must wait for the second.
    let mut r = OverlapResolver::new(0.0);
    let first = r.push("c", 157_928, 157_928, recs[..2].to_vec());
    assert!(
        first.is_empty(),
        "a batch came back with its group still open"
    );
    let mut split = r.push("c", 200_000, 200_000, recs[2..].to_vec());
    let (rest, n2) = r.finish();
    split.extend(rest);
    let gts = |b: &[(u64, Vec<CallRecord>)]| -> Vec<(usize, usize)> {
        b.iter()
            .flat_map(|(_, r)| r.iter().map(|r| r.call.gt))
            .collect()
    };
    assert_eq!(gts(&one), vec![(0, 1), (0, 0), (1, 1), (0, 1)]);
    assert_eq!(gts(&split), gts(&one));
    assert_eq!(
        split.iter().map(|b| b.0).collect::<Vec<_>>(),
        vec![157_928, 200_000]
    );
    assert_eq!((n1, n2), (1, 1));
}

#[test]
fn test_a_changed_call_gets_the_gq_and_filter_of_its_new_genotype() {
    let (out, _) = run(vec![(200_000, three_deletions())]);
    let recs = &out[0].1;
    assert_eq!(recs[0].call.gt, (0, 0));
    assert_eq!(recs[0].filter, Filter::RefCall);
    // P(0/0) = 10^-0.4 / (10^-0.4 + 1 + 10^-2.6) = 0.28: GQ 1.
    assert_eq!(recs[0].call.gq, 1);
    assert_eq!(recs[0].call.pl, vec![4, 0, 26], "PL unchanged");
    // The homozygous call keeps its genotype and GQ.
    assert_eq!((recs[1].call.gt, recs[1].filter), ((1, 1), Filter::Pass));
}

#[test]
fn a_haploid_region_fits_one_alt_allele_over_a_base() {
    // Haploid calls (chrX of a male): PL one value per allele, GT (a, a).
    let haploid = |pos, r: &str, a: &str, pl: [u32; 2]| {
        let mut x = rec(pos, r, a, (1, 1), [0, 0, 0]);
        x.call.ploidy = 1;
        x.call.pl = pl.to_vec();
        x
    };
    let two = [
        haploid(100, "ATT", "A", [40, 0]),
        haploid(101, "T", "G", [12, 0]),
    ];
    // Both ALTs on the one copy do not fit; dropping the SNV costs 12, the deletion 40.
    assert_eq!(
        resolve(&two.iter().collect::<Vec<_>>()),
        Some(vec![(1, 1), (0, 0)])
    );
    let apart = [
        haploid(100, "A", "G", [40, 0]),
        haploid(101, "T", "G", [12, 0]),
    ];
    assert_eq!(resolve(&apart.iter().collect::<Vec<_>>()), None);
}

/// Random calls (SNVs, deletions, insertions, some overlapping) with random genotypes and PL,
/// pushed whole and cut into random batches: the same records come back in the same order
/// whatever the cuts, and no group of at most [`MAX_GROUP`] PASS calls puts more than two ALT
/// alleles over a base.
#[test]
fn any_batching_gives_the_same_compatible_calls() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut resolved = 0;
    for _round in 0..200 {
        let mut recs = Vec::new();
        let mut pos = 10u64;
        for _ in 0..rng.random_range(2..12) {
            pos += rng.random_range(0..6);
            let gt = [(0, 1), (1, 1), (0, 0)][rng.random_range(0..3)];
            let pl = [
                rng.random_range(0..60),
                rng.random_range(0..60),
                rng.random_range(0..60),
            ];
            // The called genotype is the best (PL 0), as the caller writes it.
            let mut pl = pl;
            pl[crate::genotypes::genotype_index(gt.0, gt.1)] = 0;
            let r = match rng.random_range(0..3) {
                0 => rec(pos, "A", "C", gt, pl),
                1 => {
                    let n = rng.random_range(2..6);
                    rec(pos, &"A".repeat(n), "A", gt, pl)
                }
                _ => rec(pos, "A", "AT", gt, pl),
            };
            let mut r = r;
            if gt == (0, 0) {
                r.filter = Filter::RefCall;
            }
            recs.push(r);
        }
        let end = pos + 100;
        let (whole, n) = run(vec![(end, recs.clone())]);
        resolved += n;
        let whole: Vec<CallRecord> = whole.into_iter().flat_map(|(_, r)| r).collect();
        // Cut at random positions (each batch ends where the next begins).
        let mut cuts: Vec<u64> = (0..rng.random_range(1..5))
            .map(|_| rng.random_range(10..end))
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        cuts.push(end);
        let mut batches = Vec::new();
        let mut rest = recs.as_slice();
        for &c in &cuts {
            let k = rest.partition_point(|r| r.site.pos < c);
            batches.push((c, rest[..k].to_vec()));
            rest = &rest[k..];
        }
        let (cut, _) = run(batches);
        let cut: Vec<CallRecord> = cut.into_iter().flat_map(|(_, r)| r).collect();
        let key = |v: &[CallRecord]| -> Vec<(u64, (usize, usize), Filter, u32)> {
            v.iter()
                .map(|r| (r.site.pos, r.call.gt, r.filter, r.call.gq))
                .collect()
        };
        assert_eq!(key(&whole), key(&cut), "cuts {cuts:?}");
        assert_eq!(whole.len(), recs.len());
        // Compatible: groups of overlapping PASS calls, as the resolver forms them.
        let mut group: Vec<&CallRecord> = Vec::new();
        let mut reach = 0;
        let check = |g: &[&CallRecord]| {
            if g.len() <= MAX_GROUP {
                assert_eq!(
                    resolve(g),
                    None,
                    "{:?}",
                    key(&g.iter().map(|r| (*r).clone()).collect::<Vec<_>>())
                );
            }
        };
        for r in whole.iter().filter(|r| takes_part(r)) {
            let (s, e) = record_span(r);
            if !group.is_empty() && s > reach {
                check(&group);
                group.clear();
            }
            reach = if group.is_empty() { e } else { reach.max(e) };
            group.push(r);
        }
        check(&group);
    }
    // The rounds must have held incompatible groups for this to test anything.
    assert!(resolved >= 50, "{resolved} groups resolved in 200 rounds");
}
