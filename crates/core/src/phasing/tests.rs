use super::*;
use crate::candidates::{AltKind, Site};
use crate::genotypes::Call;

/// A PASS call at 0-based `pos`: an SNV (or a 1 bp deletion) with genotype `gt`, its reads
/// given as (read, carries the second allele).
fn call(pos: u64, gt: (usize, usize), snv: bool, reads: &[(u64, bool)]) -> CallRecord {
    let (alt, alt_allele, ref_allele) = if snv {
        (AltKind::Snv(b'C'), b"C".to_vec(), b"A".to_vec())
    } else {
        (AltKind::Del(1), b"A".to_vec(), b"AT".to_vec())
    };
    CallRecord {
        site: Site {
            contig: "c".into(),
            pos,
            ref_allele,
            alts: vec![alt],
            alt_alleles: vec![alt_allele],
            depth: reads.len() as u32,
            allele_depths: vec![0, 0],
            informative_end: pos + 1,
        },
        call: Call {
            gt,
            ploidy: 2,
            gq: 50,
            qual: 50.0,
            pl: vec![50, 0, 50],
        },
        filter: Filter::Pass,
        non_ref: None,
        het_reads: reads
            .iter()
            .map(|&(read, second)| HetRead {
                read,
                second,
                reach: pos + 10_000,
            })
            .collect(),
        phase: None,
    }
}

/// Reads 0-9 come from haplotype 1, 10-19 from haplotype 2; the ALT is on haplotype `alt_on`
/// of each site. Every read covers every site.
fn two_haplotypes(pos: u64, alt_on: u8, snv: bool) -> CallRecord {
    let reads: Vec<(u64, bool)> = (0..20u64).map(|r| (r, (r < 10) == (alt_on == 1))).collect();
    call(pos, (0, 1), snv, &reads)
}

fn phase_all(batches: Vec<Vec<CallRecord>>) -> (Vec<CallRecord>, PhasingStats) {
    phase_with(Phaser::default(), batches)
}

fn phase_with(mut p: Phaser<()>, batches: Vec<Vec<CallRecord>>) -> (Vec<CallRecord>, PhasingStats) {
    let mut out = Vec::new();
    for b in batches {
        let done_to = b.last().map_or(0, |r| r.site.pos + 1);
        for (_, recs) in p.push("c", done_to, (), b) {
            out.extend(recs);
        }
    }
    let (rest, stats) = p.finish();
    out.extend(rest.into_iter().flat_map(|(_, r)| r));
    (out, stats)
}

#[test]
fn test_sites_on_both_haplotypes_are_phased_as_they_lie() {
    let alt_on = [1u8, 2, 2, 1, 2];
    let recs: Vec<CallRecord> = alt_on
        .iter()
        .enumerate()
        .map(|(i, &h)| two_haplotypes(100 + 50 * i as u64, h, true))
        .collect();
    let (out, stats) = phase_all(vec![recs]);
    let phases: Vec<Phase> = out.iter().map(|r| r.phase.expect("phased")).collect();
    // One block named after its first site (1-based), the first site written as is.
    assert!(phases.iter().all(|p| p.set == 101));
    let swapped: Vec<bool> = phases.iter().map(|p| p.swapped).collect();
    // The first site is written as called (`0|1`: its ALT, on haplotype 1 of the truth, is
    // written second); every later site is swapped exactly when its ALT lies on the other
    // haplotype.
    let truth: Vec<bool> = alt_on.iter().map(|&h| h != alt_on[0]).collect();
    assert_eq!(swapped, truth);
    assert_eq!(
        (
            stats.total.het_calls,
            stats.total.phased,
            stats.total.blocks
        ),
        (5, 5, 1)
    );
    assert_eq!(stats.total.block_n50, 201);
}

#[test]
fn test_a_site_no_read_links_starts_a_block_and_a_lone_site_is_not_phased() {
    // Sites 1-2 share reads 0-3; site 3 has only new reads and nothing after it; sites 4-5
    // share reads 10-13.
    let a = [(0, false), (1, false), (2, true), (3, true)];
    let b = [(10, false), (11, true), (12, false), (13, true)];
    let recs = vec![
        call(100, (0, 1), true, &a),
        call(200, (0, 1), true, &a),
        call(300, (0, 1), true, &[(7, false), (8, true)]),
        call(20_000, (0, 1), true, &b),
        call(20_100, (0, 1), true, &b),
    ];
    let (out, stats) = phase_all(vec![recs]);
    let sets: Vec<Option<u64>> = out.iter().map(|r| r.phase.map(|p| p.set)).collect();
    assert_eq!(
        sets,
        vec![Some(101), Some(101), None, Some(20_001), Some(20_001)]
    );
    assert_eq!((stats.total.phased, stats.total.blocks), (4, 2));
}

#[test]
fn test_a_site_whose_reads_disagree_is_left_unphased_and_the_block_goes_on() {
    let mut recs: Vec<CallRecord> = (0..3)
        .map(|i| two_haplotypes(100 + 10 * i, 1, true))
        .collect();
    // Half the reads of each haplotype carry the ALT: a false heterozygote.
    let noisy: Vec<(u64, bool)> = (0..20u64).map(|r| (r, r % 2 == 0)).collect();
    recs.push(call(140, (0, 1), true, &noisy));
    recs.push(two_haplotypes(150, 2, true));
    let recs_again = recs.clone();
    let (out, stats) = phase_all(vec![recs]);
    assert_eq!(out[3].phase, None);
    // At GQ 50 the model's odds (10^5) outweigh a 10:10 split (likelihood ratio 10^4.4),
    // with long reads too.
    assert_eq!(out[3].filter, Filter::Pass);
    let (long, _) = phase_with(Phaser::new(false), vec![recs_again]);
    assert_eq!(long[3].filter, Filter::Pass);
    assert_eq!(
        out[4].phase,
        Some(Phase {
            set: 101,
            swapped: true
        })
    );
    assert_eq!((stats.total.het_calls, stats.total.conflicts), (5, 0));
}

#[test]
fn test_a_split_site_the_model_doubts_is_filtered_phase_conflict_and_the_block_goes_on() {
    let mut recs: Vec<CallRecord> = (0..3)
        .map(|i| two_haplotypes(100 + 10 * i, 1, true))
        .collect();
    let noisy: Vec<(u64, bool)> = (0..20u64).map(|r| (r, r % 2 == 0)).collect();
    let mut doubted = call(140, (0, 1), true, &noisy);
    doubted.call.gq = 10;
    recs.push(doubted);
    recs.push(two_haplotypes(150, 2, true));
    // With short reads the call is only left unphased.
    let (out, stats) = phase_all(vec![recs.clone()]);
    assert_eq!((out[3].filter, out[3].phase), (Filter::Pass, None));
    assert_eq!(stats.total.conflicts, 0);
    let (out, stats) = phase_with(Phaser::new(false), vec![recs]);
    assert_eq!(out[3].filter, Filter::PhaseConflict);
    assert_eq!(out[3].phase, None);
    assert_eq!(
        out[4].phase,
        Some(Phase {
            set: 101,
            swapped: true
        })
    );
    // Filtered calls are not PASS heterozygotes: counted apart.
    assert_eq!(
        (
            stats.total.het_calls,
            stats.total.phased,
            stats.total.conflicts
        ),
        (4, 4, 1)
    );
    let mut text = String::new();
    out[3].write_vcf(&mut text);
    assert_eq!(text.split('\t').nth(6), Some("PhaseConflict"), "{text}");
}

#[test]
fn test_a_conflict_weighs_the_split_against_the_model_confidence() {
    // (reads linking, on the minority side, SNV, GQ) -> filtered
    let cases = [
        ((20, 10, true, 50), false),
        ((20, 10, true, 40), true),
        ((12, 6, false, 5), true),
        ((10, 5, false, 6), true),
        ((14, 6, true, 7), true),
        // Unanimous reads never conflict, however doubtful the call.
        ((7, 0, false, 2), false),
        ((1, 0, false, 0), false),
        // A lopsided split is what read errors give a true heterozygote.
        ((20, 2, true, 10), false),
        ((20, 4, false, 5), false),
        ((5, 1, true, 2), false),
    ];
    for ((n, m, snv, gq), want) in cases {
        assert_eq!(
            conflict(n, m, snv, gq),
            want,
            "n {n} m {m} snv {snv} gq {gq}"
        );
    }
}

#[test]
fn test_with_long_reads_indels_join_blocks_but_do_not_start_them() {
    let recs = vec![
        two_haplotypes(90, 2, false),
        two_haplotypes(100, 1, true),
        two_haplotypes(110, 2, false),
        two_haplotypes(120, 2, true),
    ];
    let (out, _) = phase_with(Phaser::new(false), vec![recs.clone()]);
    assert_eq!(out[0].phase, None, "an indel started a block");
    let p: Vec<Option<Phase>> = out[1..].iter().map(|r| r.phase).collect();
    let ph = |set, swapped| Some(Phase { set, swapped });
    assert_eq!(p, vec![ph(101, false), ph(101, true), ph(101, true)]);
    // With short reads the indel starts the block.
    let (out, _) = phase_all(vec![recs]);
    let p: Vec<Option<Phase>> = out.iter().map(|r| r.phase).collect();
    assert_eq!(
        p,
        vec![ph(91, false), ph(91, true), ph(91, false), ph(91, false)]
    );
}

#[test]
fn test_the_phase_does_not_depend_on_how_the_calls_are_batched() {
    let mut recs = Vec::new();
    for i in 0..40u64 {
        // Reads of 8 sites' span, on haplotype (read % 2); ALT on a pseudo-random haplotype.
        let alt_on_1 = (i * 7 + 3) % 5 < 2;
        let reads: Vec<(u64, bool)> = (0..12u64)
            .map(|k| {
                let read = i / 8 * 100 + k + if i % 8 >= 4 { 50 } else { 0 };
                (read, (k % 2 == 0) == alt_on_1)
            })
            .collect();
        recs.push(call(1_000 * i, (0, 1), i % 3 != 0, &reads));
    }
    let (whole, stats) = phase_all(vec![recs.clone()]);
    for size in [1, 3, 7] {
        let batches: Vec<Vec<CallRecord>> = recs.chunks(size).map(|c| c.to_vec()).collect();
        let (split, s) = phase_all(batches);
        let a: Vec<_> = whole.iter().map(|r| (r.site.pos, r.phase)).collect();
        let b: Vec<_> = split.iter().map(|r| (r.site.pos, r.phase)).collect();
        assert_eq!(a, b, "batches of {size}");
        assert_eq!(s, stats);
    }
}

#[test]
fn test_a_batch_waits_for_its_lone_site_and_the_merge_window_and_comes_back_in_order() {
    let mut p = Phaser::default();
    let w = MERGE_WINDOW;
    // Batch 0: one site whose reads reach to 10,100; batch 1: nothing; batch 2: a linked site.
    let lone = call(100, (0, 1), true, &[(1, false), (2, true)]);
    assert!(p.push("c", 1_000, 0, vec![lone]).is_empty());
    assert!(p.push("c", 2_000, 1, vec![]).is_empty());
    let linked = call(3_000, (0, 1), true, &[(1, false), (2, true)]);
    assert!(p.push("c", 4_000, 2, vec![linked]).is_empty());
    // Held until the calls MERGE_WINDOW past them are phased.
    let got = p.push("c", 4_000 + w, 3, vec![]);
    let order: Vec<i32> = got.iter().map(|(t, _)| *t).collect();
    assert_eq!(order, vec![0, 1, 2]);
    assert!(got[0].1[0].phase.is_some() && got[2].1[0].phase.is_some());
    // A lone site is released unphased once its reads end (and the window has passed).
    let lone = call(4_000 + w, (0, 1), true, &[(5, false), (6, true)]);
    assert!(p.push("c", 5_000 + w, 4, vec![lone]).is_empty());
    let got = p.push("c", 20_000 + 2 * w, 5, vec![]);
    let order: Vec<i32> = got.iter().map(|(t, _)| *t).collect();
    assert_eq!(order, vec![3, 4]);
    assert_eq!(got[1].1[0].phase, None);
    // The rest at the end.
    let (rest, stats) = p.finish();
    assert_eq!(rest.iter().map(|(t, _)| *t).collect::<Vec<_>>(), vec![5]);
    assert_eq!((stats.total.het_calls, stats.total.phased), (3, 2));
}

#[test]
fn test_a_site_linking_two_blocks_joins_them() {
    // Block A: sites at 100 and 200 (reads 0-3); block B: sites at 1,000 and 1,100 (reads
    // 10-13, on the other orientation); the site at 1,200 has reads of both.
    let a = [(0, false), (1, false), (2, true), (3, true)];
    let b = [(10, true), (11, true), (12, false), (13, false)];
    let both = [(0, false), (2, true), (10, false), (12, true)];
    let recs = vec![
        call(100, (0, 1), true, &a),
        call(200, (0, 1), true, &a),
        call(1_000, (0, 1), true, &b),
        call(1_100, (0, 1), true, &b),
        call(1_200, (0, 1), true, &both),
    ];
    let (out, stats) = phase_all(vec![recs]);
    let ph: Vec<Phase> = out.iter().map(|r| r.phase.expect("phased")).collect();
    assert!(ph.iter().all(|p| p.set == 101), "{ph:?}");
    // Reads 0 and 10 carry the first allele at 1,200: read 10 is on haplotype 1, so block
    // B's sites, where it carried the second allele, are turned.
    let swapped: Vec<bool> = ph.iter().map(|p| p.swapped).collect();
    assert_eq!(swapped, vec![false, false, true, true, false]);
    assert_eq!((stats.total.blocks, stats.total.block_n50), (1, 1_101));
}

#[test]
fn test_het_reads_keep_the_called_alleles_and_one_vote_per_read() {
    let r = |read, allele| SiteRead {
        read,
        allele,
        reach: 5,
    };
    // Genotype 1/2: REF reads are left out; mates 7 agree, mates 8 disagree.
    let reads = [
        r(1, 0),
        r(2, 1),
        r(3, 2),
        r(7, 2),
        r(7, 2),
        r(8, 1),
        r(8, 2),
    ];
    let got = het_reads(&reads, (1, 2));
    let h = |read, second| HetRead {
        read,
        second,
        reach: 5,
    };
    assert_eq!(got, vec![h(2, false), h(3, true), h(7, true)]);
}

#[test]
fn test_n50() {
    assert_eq!(n50(&mut [10, 20, 30, 40]), 30);
    assert_eq!(n50(&mut [100, 1, 1]), 100);
    assert_eq!(n50(&mut []), 0);
}
