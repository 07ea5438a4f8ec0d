//! Unit tests of [`super`].
use super::*;
use crate::reads::test_read as read;

#[test]
fn test_median_depth_of_blocks_matches_median_depth() {
    let reads: Vec<AlignedRead> = (0..40u64)
        .map(|i| read(i * 7 % 90, &"ACGT-ACGTT".repeat(3), vec![], false))
        .collect();
    let blocks: Vec<Vec<(u64, u64)>> = reads
        .iter()
        .map(|r| {
            let mut b: Vec<(u64, u64)> = Vec::new();
            for (k, &c) in r.bases.iter().enumerate() {
                let p = r.start + k as u64;
                if c <= crate::reads::DEL {
                    match b.last_mut() {
                        Some(x) if x.1 == p => x.1 = p + 1,
                        _ => b.push((p, p + 1)),
                    }
                }
            }
            b
        })
        .collect();
    for (from, to) in [(0, 200), (10, 50), (95, 130), (300, 400)] {
        assert_eq!(
            median_depth_of_blocks(&blocks, from, to),
            median_depth(&reads, from, to),
            "{from}..{to}"
        );
    }
}

#[test]
fn test_median_depth_counts_covered_positions_in_range() {
    // Depth 1 over 10..20, 2 over 20..30, nothing elsewhere.
    let reads = vec![
        read(10, "AAAAAAAAAAAAAAAAAAAA", vec![], false),
        read(20, "AAAAAAAAAA", vec![], true),
    ];
    assert_eq!(median_depth(&reads, 0, 100), 2);
    assert_eq!(median_depth(&reads, 0, 18), 1);
    assert_eq!(median_depth(&reads, 40, 100), 0);
}

#[test]
fn test_find_snv_and_deletion_share_anchor() {
    // ref ACGTACGT; 3 reads carry G>T at pos 2, 2 reads delete pos 3 (anchor 2), 3 are ref.
    let refseq = b"ACGTACGT".to_vec();
    let mut reads = Vec::new();
    for _ in 0..3 {
        reads.push(read(0, "ACTTACGT", vec![], false));
    }
    for _ in 0..2 {
        reads.push(read(
            0,
            "ACG-ACGT",
            vec![Indel::Del { anchor: 2, len: 1 }],
            true,
        ));
    }
    for _ in 0..3 {
        reads.push(read(0, "ACGTACGT", vec![], true));
    }
    let p = Pileup::build(0, refseq, &reads, 10);
    assert_eq!(p.depth[3], 8);
    assert_eq!(p.counts[3][1][5], 2);
    let sites = find_sites("c", &p, &reads, 0, 8, &CandidateParams::default());
    assert_eq!(sites.len(), 1);
    let s = &sites[0];
    assert_eq!(s.pos, 2);
    assert_eq!(s.ref_allele, b"GT");
    assert_eq!(s.alts, vec![AltKind::Snv(b'T'), AltKind::Del(1)]);
    assert_eq!(s.alt_alleles, vec![b"TT".to_vec(), b"G".to_vec()]);
    assert_eq!(s.allele_depths, vec![3, 3, 2]);
}

#[test]
fn test_low_fraction_snv_is_not_a_candidate() {
    let refseq = b"AAAAAAAAAA".to_vec();
    let mut reads: Vec<_> = (0..20)
        .map(|_| read(0, "AAAAAAAAAA", vec![], false))
        .collect();
    reads.push(read(0, "AAAAACAAAA", vec![], false));
    reads.push(read(0, "AAAAACAAAA", vec![], false));
    let p = Pileup::build(0, refseq, &reads, 10);
    // 2 of 22 = 0.09 < 0.12
    assert!(find_sites("c", &p, &reads, 0, 10, &CandidateParams::default()).is_empty());
}

#[test]
fn test_one_read_snv_at_5x_needs_min_count_1() {
    // 1 of 5 reads (0.2, above the 0.12 fraction) carries A>C at pos 5: the read count
    // alone decides (issue 13: the misses at 6x that never became candidates).
    let refseq = b"AAAAAAAAAA".to_vec();
    let mut reads: Vec<_> = (0..4)
        .map(|i| read(0, "AAAAAAAAAA", vec![], i % 2 == 0))
        .collect();
    reads.push(read(0, "AAAAACAAAA", vec![], false));
    let p = Pileup::build(0, refseq, &reads, 10);
    let two = CandidateParams::default();
    assert_eq!(two.min_count, 2);
    assert!(find_sites("c", &p, &reads, 0, 10, &two).is_empty());
    let one = CandidateParams {
        min_count: 1,
        ..CandidateParams::default()
    };
    let sites = find_sites("c", &p, &reads, 0, 10, &one);
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0].pos, 5);
    assert_eq!(sites[0].alts, vec![AltKind::Snv(b'C')]);
    assert_eq!(sites[0].allele_depths, vec![4, 1]);
}

#[test]
fn test_check_min_alt_reads() {
    assert_eq!(check_min_alt_reads(1).unwrap(), 1);
    assert_eq!(check_min_alt_reads(2).unwrap(), 2);
    assert!(check_min_alt_reads(0).is_err());
    assert!(check_min_alt_reads(MAX_MIN_ALT_READS + 1).is_err());
}

#[test]
fn test_clipped_read_is_assigned_to_deletion_haplotype() {
    // ref: 30 bp; a 3 bp deletion after pos 14. One read shows it in its CIGAR; another
    // was aligned without the gap, with mismatches after the deletion point.
    let refseq = b"ACGTTGCAAGCTTAGCATCGGATCCTAGCA".to_vec();
    let alt: Vec<u8> = [&refseq[..15], &refseq[18..]].concat();
    let mut with_gap = String::from_utf8(refseq[..15].to_vec()).unwrap();
    with_gap.push_str("---");
    with_gap.push_str(std::str::from_utf8(&refseq[18..]).unwrap());
    let gapped = read(0, &with_gap, vec![Indel::Del { anchor: 14, len: 3 }], false);
    let gapped2 = gapped.clone();
    // Mis-aligned: alt haplotype bases laid over the reference ungapped (27 bases).
    let misaligned = read(0, std::str::from_utf8(&alt).unwrap(), vec![], true);
    let reference = read(0, std::str::from_utf8(&refseq).unwrap(), vec![], true);
    let reads = vec![gapped, gapped2, misaligned, reference];
    let p = Pileup::build(0, refseq, &reads, 10);
    let sites = find_sites("c", &p, &reads, 0, 30, &CandidateParams::default());
    let site = sites
        .iter()
        .find(|s| s.alts.contains(&AltKind::Del(3)))
        .expect("deletion candidate");
    let assigned = assign_reads(site, &p, &reads, 10);
    let k = site
        .alts
        .iter()
        .position(|a| *a == AltKind::Del(3))
        .unwrap();
    assert_eq!(assigned[2], Some(ReadAllele::Alt(k)));
    assert_eq!(assigned[3], Some(ReadAllele::Ref));
}

#[test]
fn test_insertion_alleles() {
    let refseq = b"ACGTACGT".to_vec();
    let reads: Vec<_> = (0..4)
        .map(|_| {
            read(
                0,
                "ACGTACGT",
                vec![Indel::Ins {
                    anchor: 4,
                    seq: b"GG".to_vec(),
                }],
                false,
            )
        })
        .collect();
    let p = Pileup::build(0, refseq, &reads, 10);
    let sites = find_sites("c", &p, &reads, 0, 8, &CandidateParams::default());
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0].ref_allele, b"A");
    assert_eq!(sites[0].alt_alleles, vec![b"AGG".to_vec()]);
    assert_eq!(sites[0].allele_depths, vec![0, 4]);
}

// One --min-baseq rule for REF, SNV and indel evidence: with every base under it, a het
// insertion and deletion give neither allele support (no AD 0,2 hom-ALT look), and the
// pileup counts neither.
#[test]
fn test_indels_under_min_baseq_count_like_bases_under_it() {
    let refseq = b"ACGTACGTACGT".to_vec();
    let low = |mut r: AlignedRead| {
        for q in &mut r.quals {
            *q = (*q).min(5);
        }
        r
    };
    let ins = || Indel::Ins {
        anchor: 4,
        seq: b"GG".to_vec(),
    };
    let del = || Indel::Del { anchor: 7, len: 1 };
    let mut reads = Vec::new();
    for k in 0..4 {
        reads.push(low(read(0, "ACGTACGTACGT", vec![], k % 2 == 0)));
        reads.push(low(read(0, "ACGTACGTACGT", vec![ins()], k % 2 == 0)));
        reads.push(low(read(0, "ACGTACGT-CGT", vec![del()], k % 2 == 0)));
    }
    let p = Pileup::build(0, refseq.clone(), &reads, 10);
    assert_eq!(p.counts[4], [[0; 6]; 2], "insertion anchor under min-baseq");
    assert_eq!(
        p.counts[8], [[0; 6]; 2],
        "deleted base of a low-quality anchor"
    );
    for (pos, alts) in [
        (4, vec![AltKind::Ins(b"GG".to_vec())]),
        (7, vec![AltKind::Del(1)]),
    ] {
        for r in &reads {
            let ref_base = refseq[pos as usize];
            assert_eq!(read_allele(r, pos, pos + 1, ref_base, &alts, 10), None);
        }
    }
    // At quality 30 the same reads count: 4 REF and 4 insertion reads at 4.
    let good: Vec<AlignedRead> = reads
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.quals
                .iter_mut()
                .for_each(|q| *q = if *q > 0 { 30 } else { 0 });
            r
        })
        .collect();
    let p = Pileup::build(0, refseq, &good, 10);
    assert_eq!(p.counts[4][0][4] + p.counts[4][1][4], 4);
    assert_eq!(p.counts[8][0][5] + p.counts[8][1][5], 4);
}
