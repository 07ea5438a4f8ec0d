//! Fixtures built for one behaviour each: clipped insertions, uneven depth, a repeat across a
//! shard edge, and long reads with HiFi- or ONT-like errors.
use std::path::PathBuf;

use rand::{Rng, SeedableRng};

use super::*;

/// Sorted, indexed `reads.bam` of `records` on `contigs`, and the fixture around it.
pub fn fixture(
    dir: tempfile::TempDir,
    fasta: PathBuf,
    contigs: &[(&str, usize)],
    records: Vec<(u64, String)>,
    planted: Vec<Planted>,
) -> Fixture {
    let header = sam_header(contigs, "FIXTURE");
    let bam = dir.path().join("reads.bam");
    write_alignments(&bam, &header, records, None);
    Fixture {
        dir,
        fasta,
        bam,
        planted,
    }
}

/// SAM line for read `hap[i..i + len]` as an aligner that never opens a long gap writes it:
/// only the longer reference flank around the read's inserted bases is aligned, the rest is
/// soft-clipped. Reads without inserted bases are written as by [`sam_line`].
fn clipping_sam_line(name: &str, contig: &str, hap: &Hap, i: usize, len: usize) -> (u64, String) {
    let slice = &hap[i..i + len];
    let (Some(first_ins), Some(last_ins)) = (
        slice.iter().position(|e| e.0.is_none()),
        slice.iter().rposition(|e| e.0.is_none()),
    ) else {
        return sam_line(name, contig, hap, i, len, i % 2 == 1, true).unwrap();
    };
    let (pos, cigar) = if first_ins >= len - last_ins - 1 {
        (
            slice[0].0.unwrap(),
            format!("{first_ins}M{}S", len - first_ins),
        )
    } else {
        let aligned = len - last_ins - 1;
        (
            slice[last_ins + 1].0.unwrap(),
            format!("{}S{aligned}M", len - aligned),
        )
    };
    let seq: String = slice.iter().map(|e| e.1 as char).collect();
    let flag = if i % 2 == 1 { 16 } else { 0 };
    let line = format!(
        "{name}\t{flag}\t{contig}\t{}\t60\t{cigar}\t*\t0\t0\t{seq}\t{}",
        pos + 1,
        "I".repeat(len)
    );
    (pos, line)
}

/// A 3 kb contig `chrT` and about 40x of 100 bp reads from a genome with one heterozygous
/// 30 bp insertion after 0-based position 1500, which every read crossing it has soft-clipped
/// instead of gapped (as aligners do with insertions near read ends). Only local realignment
/// can show it to candidate finding.
pub fn build_clipped_insertion() -> Fixture {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let reference = random_seq(&mut rng, 3000);
    let anchor = 1500u64;
    // Left-normalised: the last inserted base differs from the anchor base.
    let ins = loop {
        let s = random_seq(&mut rng, 30);
        if s[29] != reference[anchor as usize] {
            break s;
        }
    };
    let (dir, fasta) = temp_fasta(&[("chrT", &reference)]);
    let ref_allele = vec![reference[anchor as usize]];
    let alt: Vec<u8> = [&ref_allele[..], &ins[..]].concat();
    let hap1 = apply(&reference, &[(anchor, &ref_allele, &alt)]);
    let hap2 = apply(&reference, &[]);
    let mut records = Vec::new();
    for (h, hap) in [&hap1, &hap2].into_iter().enumerate() {
        let mut i = 0;
        while i + 100 <= hap.len() {
            records.push(clipping_sam_line(&format!("h{h}r{i}"), "chrT", hap, i, 100));
            i += 5;
        }
    }
    let planted = vec![Planted {
        pos: anchor + 1,
        ref_allele: String::from_utf8(ref_allele).unwrap(),
        alt: String::from_utf8(alt).unwrap(),
        copies: 1,
    }];
    fixture(dir, fasta, &[("chrT", 3000)], records, planted)
}

/// A 3 kb contig `chrT` whose left half has about 40x of 100 bp reads and right half about
/// 100x, with a het SNV in each half. A shard inside one half sees a depth unlike the whole
/// contig's, so the tensors' depth-ratio feature shows whether calls depend on sharding.
pub fn build_uneven_depth() -> Fixture {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let reference = random_seq(&mut rng, 3000);
    let (dir, fasta) = temp_fasta(&[("chrT", &reference)]);
    let mut planted = Vec::new();
    let mut variants: Vec<(u64, Vec<u8>, Vec<u8>)> = Vec::new();
    for pos in [800usize, 2300] {
        let alt = if reference[pos] == b'G' { b'T' } else { b'G' };
        variants.push((pos as u64, vec![reference[pos]], vec![alt]));
        planted.push(Planted {
            pos: pos as u64 + 1,
            ref_allele: (reference[pos] as char).to_string(),
            alt: (alt as char).to_string(),
            copies: 1,
        });
    }
    let v: Vec<(u64, &[u8], &[u8])> = variants
        .iter()
        .map(|(p, r, a)| (*p, &r[..], &a[..]))
        .collect();
    let haps = [apply(&reference, &v), apply(&reference, &[])];
    let records = reads_along(&haps, "chrT", |i| if i < 1500 { 5 } else { 2 });
    fixture(dir, fasta, &[("chrT", 3000)], records, planted)
}

/// A 6 kb contig `chrT` with a 60 bp (AC)n repeat over 0-based 2970..3030, so it crosses the
/// shard edge at 3000 for every shard size that divides 3000 (300, 1000, and a region split
/// there), and about 40x of 100 bp reads from a genome with a heterozygous 4 bp deletion
/// (two units) in the repeat and a het SNV on each side of it. The deletion's reads form a
/// realignment window over the whole repeat, across the edge. (Reads must span a repeat to
/// tell its alleles apart, so the repeat is shorter than they are.)
pub fn build_str_across_edge() -> Fixture {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(23);
    let mut reference = random_seq(&mut rng, 6000);
    for k in 0..60 {
        reference[2970 + k] = if k % 2 == 0 { b'A' } else { b'C' };
    }
    // Flanks that do not extend the repeat.
    reference[2969] = b'G';
    reference[3030] = b'T';
    let (dir, fasta) = temp_fasta(&[("chrT", &reference)]);
    let snv = |pos: usize| {
        let alt = if reference[pos] == b'G' { b'T' } else { b'G' };
        (pos as u64, vec![reference[pos]], vec![alt])
    };
    // Deletion of "ACAC" after the anchor 2969 (G), left-normalised.
    let del = (
        2969u64,
        reference[2969..2974].to_vec(),
        vec![reference[2969]],
    );
    let variants = [snv(2900), del, snv(3120)];
    let v: Vec<(u64, &[u8], &[u8])> = variants
        .iter()
        .map(|(p, r, a)| (*p, &r[..], &a[..]))
        .collect();
    let haps = [apply(&reference, &v), apply(&reference, &[])];
    let records = reads_along(&haps, "chrT", |_| 5);
    let planted = variants
        .iter()
        .map(|(p, r, a)| Planted {
            pos: p + 1,
            ref_allele: String::from_utf8(r.clone()).unwrap(),
            alt: String::from_utf8(a.clone()).unwrap(),
            copies: 1,
        })
        .collect();
    fixture(dir, fasta, &[("chrT", 6000)], records, planted)
}

/// Perfect 100 bp reads along each haplotype, alternating strands, the next one starting
/// `step(i)` bases after a read at `i`.
fn reads_along(haps: &[Hap], contig: &str, step: impl Fn(usize) -> usize) -> Vec<(u64, String)> {
    let mut records = Vec::new();
    for (h, hap) in haps.iter().enumerate() {
        let mut i = 0;
        while i + 100 <= hap.len() {
            let name = format!("h{h}r{i}");
            records.extend(sam_line(&name, contig, hap, i, 100, i % 2 == 1, true));
            i += step(i);
        }
    }
    records
}

/// The read errors of a long-read fixture ([`build_long_reads`]).
#[derive(Debug, Clone, Copy)]
pub enum LongReadErrors {
    /// PacBio HiFi-like: about 1 error in 1,000 bases, substitutions and 1 bp indels alike.
    Hifi,
    /// ONT-like: about 1 % substitutions, and homopolymers of 3 or more read one base short
    /// or long in about 15 % of reads over them (ONT's dominant error).
    Ont,
}

/// A 150 kb contig `chrL` with a het or hom SNV about every 1.5 kb and a het 2 bp deletion
/// every 10 kb, and about 20x of reads `len.0..=len.1` bases long from both haplotypes (read
/// starts uniform over each haplotype), with
/// `errors`; every fifth read carries a 50-400 bp soft clip of random bases at one end, as
/// aligners leave adapters and chimeric ends.
pub fn build_long_reads(errors: LongReadErrors, len: (usize, usize), seed: u64) -> Fixture {
    const CONTIG: usize = 150_000;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let reference = random_seq(&mut rng, CONTIG);
    let (dir, fasta) = temp_fasta(&[("chrL", &reference)]);
    let mut hap_vars: [Vec<(u64, Vec<u8>, Vec<u8>)>; 2] = [Vec::new(), Vec::new()];
    let mut planted = Vec::new();
    let mut pos = 2_000usize;
    while pos + 2_000 < CONTIG {
        let p = pos + rng.random_range(0..500);
        let (at, r, a, copies) = if (p / 1_500) % 7 == 3 {
            // A 2 bp deletion whose anchor differs from the base after it (left-normalised).
            let mut q = p;
            while reference[q] == reference[q + 2] || reference[q + 1] == reference[q + 3] {
                q += 1;
            }
            (q, reference[q..q + 3].to_vec(), vec![reference[q]], 1u8)
        } else {
            let alt = b"ACGT"[(b"ACGT".iter().position(|&b| b == reference[p]).unwrap() + 1) % 4];
            (
                p,
                vec![reference[p]],
                vec![alt],
                if p % 3 == 0 { 2 } else { 1 },
            )
        };
        planted.push(Planted {
            pos: at as u64 + 1,
            ref_allele: String::from_utf8(r.clone()).unwrap(),
            alt: String::from_utf8(a.clone()).unwrap(),
            copies,
        });
        hap_vars[0].push((at as u64, r.clone(), a.clone()));
        if copies == 2 {
            hap_vars[1].push((at as u64, r, a));
        }
        pos += 1_500;
    }
    let haps: Vec<Hap> = hap_vars
        .iter()
        .map(|v| {
            let v: Vec<(u64, &[u8], &[u8])> =
                v.iter().map(|(p, r, a)| (*p, &r[..], &a[..])).collect();
            apply(&reference, &v)
        })
        .collect();
    let mean_len = (len.0 + len.1) / 2;
    let per_hap = (10 * CONTIG).div_ceil(mean_len);
    let mut records = Vec::new();
    for (h, hap) in haps.iter().enumerate() {
        for n in 0..per_hap {
            let l = rng.random_range(len.0..=len.1).min(hap.len());
            let i = rng.random_range(0..=hap.len() - l);
            let mut read: Hap = Vec::with_capacity(l + l / 50);
            let mut k = i;
            while k < i + l {
                let (p, b) = hap[k];
                match errors {
                    LongReadErrors::Hifi => match rng.random_range(0..3000) {
                        0 => read.push((p, b"ACGT"[(b as usize + 1) % 4])),
                        1 => {}
                        2 => {
                            read.push((p, b));
                            read.push((None, b"ACGT"[rng.random_range(0..4)]));
                        }
                        _ => read.push((p, b)),
                    },
                    LongReadErrors::Ont => {
                        // The run of this base starting here, read one short or long.
                        let run = hap[k..i + l].iter().take_while(|e| e.1 == b).count();
                        if run >= 3
                            && (k == i || hap[k - 1].1 != b)
                            && rng.random_range(0..100) < 15
                        {
                            let keep = if rng.random_range(0..2) == 0 {
                                run - 1
                            } else {
                                run
                            };
                            read.extend_from_slice(&hap[k..k + keep]);
                            if keep == run {
                                read.push((None, b));
                            }
                            k += run;
                            continue;
                        }
                        if rng.random_range(0..100) == 0 {
                            read.push((p, b"ACGT"[(b as usize + 2) % 4]));
                        } else {
                            read.push((p, b));
                        }
                    }
                }
                k += 1;
            }
            if n % 5 == 0 {
                let clip: Hap = (0..rng.random_range(50..400))
                    .map(|_| (None, b"ACGT"[rng.random_range(0..4)]))
                    .collect();
                if n % 10 == 0 {
                    read.splice(0..0, clip);
                } else {
                    read.extend(clip);
                }
            }
            let name = format!("h{h}long{n}");
            if let Some(rec) = sam_line(&name, "chrL", &read, 0, read.len(), n % 2 == 1, true) {
                records.push(rec);
            }
        }
    }
    // The read group as the platform's tools write it, for `--platform auto`.
    let rg = match errors {
        LongReadErrors::Hifi => "@RG\tID:rg1\tSM:FIXTURE\tPL:PACBIO\tDS:READTYPE=CCS\n",
        LongReadErrors::Ont => {
            "@RG\tID:rg1\tSM:FIXTURE\tPL:ONT\tDS:basecall_model=dna_r10.4.1_e8.2_400bps_hac@v5.0.0\n"
        }
    };
    let header =
        sam_header(&[("chrL", CONTIG)], "FIXTURE").replace("@RG\tID:rg1\tSM:FIXTURE\n", rg);
    let bam = dir.path().join("reads.bam");
    write_alignments(&bam, &header, records, None);
    Fixture {
        dir,
        fasta,
        bam,
        planted,
    }
}
