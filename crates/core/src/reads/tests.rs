//! The read stage's unit tests.
use super::*;
use rust_htslib::bam;

fn read(start: u64, seq: &str, indels: Vec<Indel>) -> AlignedRead {
    test_read(start, seq, indels, false)
}

/// 2,000 reads of 100 bp starting uniformly over 1,000 bp (about 200x), in alignment
/// order, named `read{i}`.
fn uniform(n: usize, span: u64) -> Vec<(u64, AlignedRead)> {
    let mut reads: Vec<_> = (0..n)
        .map(|i| {
            (
                name_hash(format!("read{i}").as_bytes()),
                read((i as u64 * 7919) % span, &"A".repeat(100), vec![]),
            )
        })
        .collect();
    reads.sort_by_key(|(_, r)| r.start);
    reads
}

fn max_coverage(reads: &[AlignedRead]) -> usize {
    let end = reads.iter().map(AlignedRead::end).max().unwrap_or(0) as usize;
    let mut cov = vec![0usize; end + 1];
    for r in reads {
        for c in &mut cov[r.start as usize..r.end() as usize] {
            *c += 1;
        }
    }
    cov.into_iter().max().unwrap_or(0)
}

#[test]
fn test_depth_cap_holds_depth_near_the_cap_and_is_deterministic() {
    let reads = uniform(20_000, 1_000); // about 2,000x
    let a = downsample(reads.clone(), 250);
    let b = downsample(reads.clone(), 250);
    let starts = |v: &[AlignedRead]| v.iter().map(|r| r.start).collect::<Vec<_>>();
    assert_eq!(starts(&a), starts(&b));
    // Past the first read length, where coverage has built up, depth stays near the cap.
    let steady: Vec<AlignedRead> = a.iter().filter(|r| r.start >= 100).cloned().collect();
    let peak = max_coverage(&steady);
    assert!((200..=330).contains(&peak), "peak depth {peak}");
    // Not first-come: reads starting late survive as well as early ones.
    assert!(a.iter().any(|r| r.start >= 900) && a.iter().any(|r| r.start < 100));
    // Shallow data is untouched.
    assert_eq!(downsample(uniform(100, 1_000), 250).len(), 100);
}

#[test]
fn test_depth_cap_on_a_pile_up_at_one_position() {
    // 30,000 reads starting at one base: the cap keeps about max_depth of them.
    let reads: Vec<_> = (0..30_000)
        .map(|i| {
            (
                name_hash(format!("p{i}").as_bytes()),
                read(500, &"C".repeat(150), vec![]),
            )
        })
        .collect();
    let kept = downsample(reads, 250).len();
    assert!((200..=300).contains(&kept), "kept {kept}");
}

#[test]
fn test_depth_cap_ignores_the_order_of_reads_at_one_position_and_where_reading_began() {
    let reads = uniform(5_000, 1_000);
    let names = |v: Vec<AlignedRead>| v.iter().map(|r| (r.start, r.seq.len())).collect::<Vec<_>>();
    let base = downsample(reads.clone(), 100);
    // Reverse the order within each start position: same reads kept.
    let mut shuffled = reads.clone();
    shuffled.sort_by_key(|(h, r)| (r.start, std::cmp::Reverse(*h)));
    let mut a = names(base.clone());
    let mut b = names(downsample(shuffled, 100));
    a.sort();
    b.sort();
    assert_eq!(a, b);
    // Starting the stream later (as a later shard's fetch does), but with every read over
    // the positions it asks about, decides those reads the same way.
    let late: Vec<_> = reads
        .iter()
        .filter(|(_, r)| r.end() > 600)
        .cloned()
        .collect();
    let keep_late = |v: &[AlignedRead]| {
        v.iter()
            .filter(|r| r.start >= 600)
            .map(|r| r.start)
            .collect::<Vec<_>>()
    };
    assert_eq!(keep_late(&base), keep_late(&downsample(late, 100)));
}

#[test]
fn test_left_align_deletion_in_repeat() {
    // ref: G A A A T, read deletes the third A (pos 3): G A A - T
    let refseq = b"GAAAT";
    let mut r = read(0, "GAA-T", vec![Indel::Del { anchor: 2, len: 1 }]);
    left_align(&mut r, refseq, 0);
    assert_eq!(r.indels, vec![Indel::Del { anchor: 0, len: 1 }]);
    assert_eq!(r.bases, vec![2, DEL, 0, 0, 3]);
}

#[test]
fn test_left_align_insertion_in_repeat() {
    // ref: G C A C A T ; read inserts "CA" after pos 4 (A) -> shifts left to after pos 0.
    let refseq = b"GCACAT";
    let mut r = read(
        0,
        "GCACAT",
        vec![Indel::Ins {
            anchor: 4,
            seq: b"CA".to_vec(),
        }],
    );
    left_align(&mut r, refseq, 0);
    assert_eq!(
        r.indels,
        vec![Indel::Ins {
            anchor: 0,
            seq: b"CA".to_vec()
        }]
    );
}

#[test]
fn test_read_without_sequence_is_skipped() {
    let header = bam::HeaderView::from_bytes(b"@SQ\tSN:c\tLN:100\n");
    let rec = |line: &str| bam::Record::from_sam(&header, line.as_bytes()).unwrap();
    assert_eq!(
        from_record(&rec("r\t0\tc\t5\t60\t4M\t*\t0\t0\t*\t*"))
            .unwrap()
            .err(),
        Some(Unusable::NoSequence)
    );
    // Zero-length indels are no indels (left_align expects every insertion to hold bases).
    let mut r = from_record(&rec("r\t0\tc\t5\t60\t2M0I0D2M\t*\t0\t0\tACGT\t*"))
        .unwrap()
        .unwrap();
    assert!(r.indels.is_empty());
    left_align(&mut r, b"ACGTACGTACGT", 0);
    // `B` (code 9) parses, but rust-htslib's cigar() cannot represent it: corrupt input.
    let e = from_record(&rec("r\t0\tc\t5\t60\t2M1B2M\t*\t0\t0\tACGT\t*")).unwrap_err();
    assert!(crate::errors::is_input(&e), "{e:#}");
    let r = from_record(&rec("r\t0\tc\t5\t60\t2M1I1M\t*\t0\t0\tACGT\t*"))
        .unwrap()
        .unwrap();
    assert_eq!((r.start, r.bases.len(), r.seq.len()), (4, 3, 4));
}

#[test]
fn test_record_cut_in_its_fixed_part_is_an_error() {
    use std::io::Read as _;
    let dir = tempfile::tempdir().unwrap();
    let header = bam::HeaderView::from_bytes(b"@SQ\tSN:c\tLN:100\n");
    let gz = dir.path().join("r.bam");
    {
        let hdr = bam::Header::from_template(&header);
        let mut w = bam::Writer::from_path(&gz, &hdr, bam::Format::Bam).unwrap();
        let line = "r\t0\tc\t5\t60\t4M\t*\t0\t0\tACGT\t*";
        w.write(&bam::Record::from_sam(&header, line.as_bytes()).unwrap())
            .unwrap();
    }
    // The same BAM uncompressed, then a record whose 32-byte fixed part is cut at 16.
    let mut raw = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&gz).unwrap())
        .read_to_end(&mut raw)
        .unwrap();
    raw.extend_from_slice(&60i32.to_le_bytes());
    raw.extend_from_slice(&[0; 16]);
    let cut = dir.path().join("cut.bam");
    std::fs::write(&cut, raw).unwrap();
    let mut reader = bam::Reader::from_path(&cut).unwrap();
    let mut rec = bam::Record::new();
    assert!(read_record(&mut reader, &mut rec).unwrap());
    assert_eq!(rec.qname(), b"r");
    let e = read_record(&mut reader, &mut rec).unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");
}

/// A record from SAM text on a 100 kb contig `c`.
fn sam_rec(line: &str) -> bam::Record {
    let header = bam::HeaderView::from_bytes(b"@SQ\tSN:c\tLN:100000\n");
    bam::Record::from_sam(&header, line.as_bytes()).unwrap()
}

#[test]
fn test_a_slice_holds_the_same_bases_indels_and_sequence_as_the_whole_read() {
    // 10S 300M 2I 200M 5D 400M 1I 90M 7S from position 1,000 (0-based 999): reference span
    // 999..1994, query 1,010 bases.
    let cigar = "10S300M2I200M5D400M1I90M7S";
    let n = 10 + 300 + 2 + 200 + 400 + 1 + 90 + 7;
    let seq: String = (0..n)
        .map(|i| ['A', 'C', 'G', 'T'][(i * 7 + i / 3) % 4])
        .collect();
    let qual: String = (0..n).map(|i| (b'!' + (i % 40) as u8) as char).collect();
    let rec = sam_rec(&format!(
        "r\t0\tc\t1000\t60\t{cigar}\t*\t0\t0\t{seq}\t{qual}"
    ));
    let whole = from_record(&rec).unwrap().unwrap();
    assert_eq!((whole.start, whole.end(), whole.seq.len()), (999, 1994, n));
    assert_eq!(
        (whole.clip_left, whole.clip_right, whole.long),
        (10, 7, true)
    );
    for (lo, hi) in [
        (0, u64::MAX),
        (1200, 1600),
        (1299, 1300),
        (1500, 1900),
        (990, 1505),
    ] {
        let part = from_record_in(&rec, lo, hi, None).unwrap().unwrap();
        assert!(part.start >= lo.max(whole.start) && part.end() <= hi.min(whole.end()));
        // Every reference position of the slice reads as in the whole read: code, quality,
        // and the sequence base its query index points at.
        for pos in part.start..part.end() {
            let (k, j) = ((pos - part.start) as usize, (pos - whole.start) as usize);
            assert_eq!(part.base_at(pos), whole.base_at(pos), "{lo}-{hi} at {pos}");
            match (part.qidx[k], whole.qidx[j]) {
                (u32::MAX, u32::MAX) => {}
                (a, b) => assert_eq!(part.seq[a as usize], whole.seq[b as usize]),
            }
        }
        // Indels: those whose anchor and next base lie inside the slice, unchanged.
        let inside: Vec<Indel> = whole
            .indels
            .iter()
            .filter(|e| {
                let last = match e {
                    Indel::Del { anchor, len } => anchor + *len as u64 + 1,
                    Indel::Ins { anchor, .. } => anchor + 1,
                };
                e.anchor() >= part.start && last < part.end()
            })
            .cloned()
            .collect();
        assert_eq!(part.indels, inside, "{lo}-{hi}");
        // A cut side keeps no clip; an uncut one keeps what lies inside [lo, hi).
        let cut_left = lo > whole.start;
        assert_eq!(
            part.clip_left,
            if cut_left {
                0
            } else {
                10u32.min((999 - lo.min(999)) as u32)
            }
        );
        assert_eq!(part.clip_right, if hi < whole.end() { 0 } else { 7 });
    }
    // The slice over 1,299..1,300 is one base; over an interval holding only the deletion,
    // nothing.
    assert_eq!(
        from_record_in(&rec, 1299, 1300, None)
            .unwrap()
            .unwrap()
            .bases
            .len(),
        1
    );
    let del_at = 999 + 300 + 200; // first deleted position
    assert_eq!(
        from_record_in(&rec, del_at, del_at + 5, None)
            .unwrap()
            .err(),
        Some(Unusable::NoAlignedBase)
    );
}

// Random CIGARs (every operation, clips at both ends, zero-length and adjacent
// operations) cut at random windows: never a panic, and every position of a slice reads
// as in the whole read, with the same sequence base behind it.
#[test]
fn test_random_records_sliced_at_random_windows_agree_with_the_whole_read() {
    let (mut cut_left, mut cut_right) = (0, 0);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    for _ in 0..2_000 {
        let mut cigar = String::new();
        let mut qlen = 0u64;
        if rnd(3) == 0 {
            let n = rnd(50) + 1;
            cigar.push_str(&format!("{n}S"));
            qlen += n;
        }
        let n_ops = rnd(12) + 1;
        for k in 0..n_ops {
            let op = if k == 0 || k + 1 == n_ops { 0 } else { rnd(6) };
            let n = rnd(if op == 0 { 300 } else { 20 }) + 1;
            let c = match op {
                0 => ['M', '=', 'X'][rnd(3) as usize],
                1 => 'I',
                2 | 3 => 'D',
                4 => 'N',
                _ => 'M',
            };
            if matches!(c, 'M' | '=' | 'X' | 'I') {
                qlen += n;
            }
            cigar.push_str(&format!("{n}{c}"));
        }
        if rnd(3) == 0 {
            let n = rnd(50) + 1;
            cigar.push_str(&format!("{n}S"));
            qlen += n;
        }
        let seq: String = (0..qlen)
            .map(|_| ['A', 'C', 'G', 'T', 'N', '='][rnd(6) as usize])
            .collect();
        let pos = 1000 + rnd(2000);
        let rec = sam_rec(&format!("r\t0\tc\t{pos}\t60\t{cigar}\t*\t0\t0\t{seq}\t*"));
        let Ok(Ok(whole)) = from_record(&rec) else {
            continue;
        };
        for _ in 0..4 {
            let lo = pos.saturating_sub(300) + rnd(whole.bases.len() as u64 + 600);
            let hi = lo + rnd(1500) + 1;
            let part = match from_record_in(&rec, lo, hi, None).unwrap() {
                Ok(p) => p,
                Err(_) => continue,
            };
            assert!(
                part.start >= whole.start && part.end() <= whole.end(),
                "{cigar} {lo}-{hi}"
            );
            assert_eq!(part.long, whole.long);
            cut_left += (part.start > whole.start) as u32;
            cut_right += (part.end() < whole.end()) as u32;
            for p in part.start..part.end() {
                let (k, j) = ((p - part.start) as usize, (p - whole.start) as usize);
                assert_eq!(
                    part.base_at(p),
                    whole.base_at(p),
                    "{cigar} {lo}-{hi} at {p}"
                );
                match (part.qidx[k], whole.qidx[j]) {
                    (u32::MAX, u32::MAX) => {}
                    (a, b) => assert_eq!(part.seq[a as usize], whole.seq[b as usize]),
                }
            }
            for e in &part.indels {
                assert!(whole.indels.contains(e), "{cigar} {lo}-{hi}: {e:?}");
                assert!(e.anchor() >= part.start && e.anchor() < part.end());
            }
            // The slice's realignment inputs stay consistent: clips lie within the
            // sequence, and every query index points into it.
            assert!((part.clip_left + part.clip_right) as usize <= part.seq.len());
            assert!(part
                .qidx
                .iter()
                .all(|&q| q == u32::MAX || (q as usize) < part.seq.len()));
        }
    }
    assert!(
        cut_left > 500 && cut_right > 500,
        "cuts: {cut_left} left, {cut_right} right"
    );
}

#[test]
fn test_reads_longer_than_the_slice_pad_are_long_and_short_ones_are_never_cut() {
    let rec = |cigar: &str, n: usize| {
        sam_rec(&format!(
            "r\t0\tc\t5001\t60\t{cigar}\t*\t0\t0\t{}\t*",
            "A".repeat(n)
        ))
    };
    // Footprint (span plus clips) 1,000: not long. 1,001: long.
    assert!(!from_record(&rec("990M10S", 1000)).unwrap().unwrap().long);
    assert!(from_record(&rec("990M11S", 1001)).unwrap().unwrap().long);
    assert!(from_record(&rec("30000M", 30000)).unwrap().unwrap().long);
    // A short read overlapping a fetch [start, end) lies within SLICE_PAD of it whole.
    let r = rec("20S960M20S", 1000);
    for start in [5000u64, 5500, 5959] {
        let (lo, hi) = (start - SLICE_PAD, start + 10 + SLICE_PAD);
        let part = from_record_in(&r, lo, hi, None).unwrap().unwrap();
        let whole = from_record(&r).unwrap().unwrap();
        assert_eq!(
            (part.start, part.bases, part.seq),
            (whole.start, whole.bases, whole.seq)
        );
    }
}

#[test]
fn test_left_align_stops_at_mismatch() {
    let refseq = b"GATAT";
    let mut r = read(0, "GAT-T", vec![Indel::Del { anchor: 2, len: 1 }]);
    left_align(&mut r, refseq, 0);
    // Deleting the A at pos 3: shift while read base at anchor == ref[anchor + len]:
    // anchor 2 is T, ref[3] is A -> stays.
    assert_eq!(r.indels, vec![Indel::Del { anchor: 2, len: 1 }]);
}
