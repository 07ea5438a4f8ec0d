//! Fixtures for integration tests: a small random reference, a diploid genome with known
//! variants, and reads of it written as SAM text and converted to BAM/CRAM with htslib.
#![allow(dead_code)]

pub mod commands;
pub mod judge;
pub mod shard_genome;
pub mod special_fixtures;
pub use commands::*;
pub use judge::*;
pub use special_fixtures::*;
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rust_htslib::bam::{self, Read as _};

/// A variant put into the simulated genome (1-based VCF POS and alleles, copies 1 or 2).
#[derive(Debug, Clone)]
pub struct Planted {
    pub pos: u64,
    pub ref_allele: String,
    pub alt: String,
    pub copies: u8,
}

/// Files of one fixture.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub fasta: PathBuf,
    pub bam: PathBuf,
    pub planted: Vec<Planted>,
}

/// An SNV at 0-based `p` of `reference` (ALT G, or T where the base is G) with `copies`
/// copies: the variant to apply, and its [`Planted`] record.
pub fn planted_snv(reference: &[u8], p: usize, copies: u8) -> ((u64, Vec<u8>, Vec<u8>), Planted) {
    let alt = if reference[p] == b'G' { b'T' } else { b'G' };
    (
        (p as u64, vec![reference[p]], vec![alt]),
        Planted {
            pos: p as u64 + 1,
            ref_allele: (reference[p] as char).to_string(),
            alt: (alt as char).to_string(),
            copies,
        },
    )
}

/// `$VARSTREAM_DATA`, or `../shared/data` beside the repository.
pub fn shared_data() -> PathBuf {
    std::env::var_os("VARSTREAM_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
}

/// `n` random bases (ACGT).
pub fn random_seq(rng: &mut impl Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| b"ACGT"[rng.random_range(0..4)]).collect()
}

/// One haplotype: each element is (reference position or None for inserted bases, base).
pub type Hap = Vec<(Option<u64>, u8)>;

/// The haplotype that `variants` (0-based POS, REF, ALT; sorted, non-overlapping) make of
/// `reference`.
pub fn apply(reference: &[u8], variants: &[(u64, &[u8], &[u8])]) -> Hap {
    // variants: (0-based pos, REF, ALT), sorted, non-overlapping
    let mut hap = Vec::new();
    let mut p = 0u64;
    for &(pos, r, a) in variants {
        while p < pos {
            hap.push((Some(p), reference[p as usize]));
            p += 1;
        }
        // shared anchor base, then ALT's extra bases as insertions or REF's as deletion
        let common = r.len().min(a.len());
        for (k, &b) in a.iter().enumerate().take(common) {
            hap.push((Some(pos + k as u64), b));
        }
        for &b in &a[common..] {
            hap.push((None, b));
        }
        p = pos + r.len() as u64;
    }
    while (p as usize) < reference.len() {
        hap.push((Some(p), reference[p as usize]));
        p += 1;
    }
    hap
}

/// SAM line for read `hap[i..i + len]`.
pub fn sam_line(
    name: &str,
    contig: &str,
    hap: &Hap,
    i: usize,
    len: usize,
    reverse: bool,
    with_quals: bool,
) -> Option<(u64, String)> {
    let slice = &hap[i..i + len];
    let first = slice.iter().position(|e| e.0.is_some())?;
    let last = slice.iter().rposition(|e| e.0.is_some())?;
    let mut cigar: Vec<(char, usize)> = Vec::new();
    let mut push = |op: char, n: usize| {
        if let Some(l) = cigar.last_mut() {
            if l.0 == op {
                l.1 += n;
                return;
            }
        }
        cigar.push((op, n));
    };
    if first > 0 {
        push('S', first);
    }
    let mut prev: Option<u64> = None;
    for e in &slice[first..=last] {
        match e.0 {
            None => push('I', 1),
            Some(r) => {
                if let Some(pr) = prev {
                    if r > pr + 1 {
                        push('D', (r - pr - 1) as usize);
                    }
                }
                push('M', 1);
                prev = Some(r);
            }
        }
    }
    if last + 1 < len {
        push('S', len - last - 1);
    }
    let pos = slice[first].0.unwrap();
    let cig: String = cigar.iter().map(|(o, n)| format!("{n}{o}")).collect();
    let seq: String = slice.iter().map(|e| e.1 as char).collect();
    let qual = if with_quals {
        "I".repeat(len)
    } else {
        "*".into()
    };
    let flag = if reverse { 16 } else { 0 };
    Some((
        pos,
        format!(
            "{name}\t{flag}\t{contig}\t{}\t60\t{cig}\t*\t0\t0\t{seq}\t{qual}",
            pos + 1
        ),
    ))
}

/// Write `records` (SAM text lines) under `header` as a sorted, indexed BAM (or CRAM when
/// `cram_ref` is given).
pub fn write_alignments(
    path: &Path,
    header: &str,
    mut records: Vec<(u64, String)>,
    cram_ref: Option<&Path>,
) {
    records.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let view = bam::HeaderView::from_bytes(header.as_bytes());
    let hdr = bam::Header::from_template(&view);
    let format = if cram_ref.is_some() {
        bam::Format::Cram
    } else {
        bam::Format::Bam
    };
    {
        let mut w = bam::Writer::from_path(path, &hdr, format).unwrap();
        if let Some(r) = cram_ref {
            w.set_reference(r).unwrap();
        }
        for (_, line) in &records {
            let rec = bam::Record::from_sam(&view, line.as_bytes()).unwrap();
            w.write(&rec).unwrap();
        }
    }
    bam::index::build(path, None, bam::index::Type::Bai, 1).unwrap();
}

/// SAM header for the fixture contigs.
pub fn sam_header(contigs: &[(&str, usize)], sample: &str) -> String {
    let mut h = String::from("@HD\tVN:1.6\tSO:coordinate\n");
    for (n, l) in contigs {
        h.push_str(&format!("@SQ\tSN:{n}\tLN:{l}\n"));
    }
    h.push_str(&format!("@RG\tID:rg1\tSM:{sample}\n"));
    h
}

/// A 3 kb contig `chrT` (plus a 600 bp `chrU` with no reads) and about 40x of perfect 100 bp
/// reads on both strands from a diploid genome with a het SNV, a hom 3 bp deletion and a het
/// 2 bp insertion.
pub fn build(with_quals: bool) -> Fixture {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let reference = random_seq(&mut rng, 3000);
    let other = random_seq(&mut rng, 600);
    let (dir, fasta) = temp_fasta(&[("chrT test", &reference), ("chrU", &other)]);

    let r = |p: usize, n: usize| reference[p..p + n].to_vec();
    let snv_alt = if reference[1000] == b'A' { b'C' } else { b'A' };
    let ins_anchor = reference[2000];
    // Deletion REF: anchor + 3 deleted bases; keep it left-normalised by construction:
    // choose the anchor so that base before the deleted run differs from its last base.
    let mut del_at = 1500;
    while reference[del_at] == reference[del_at + 3] {
        del_at += 1;
    }
    let del_ref = r(del_at, 4);
    // Left-normalised insertion: its last inserted base differs from the anchor.
    let ins_seq = [b"GT", b"CA", b"TG", b"AC"]
        .into_iter()
        .find(|x| x[1] != ins_anchor)
        .unwrap();
    let ins_alt = vec![ins_anchor, ins_seq[0], ins_seq[1]];
    let v_snv = (1000u64, r(1000, 1), vec![snv_alt]);
    let v_del = (del_at as u64, del_ref.clone(), vec![del_ref[0]]);
    let v_ins = (2000u64, vec![ins_anchor], ins_alt.clone());
    let hap1 = apply(
        &reference,
        &[(v_del.0, &v_del.1, &v_del.2), (v_ins.0, &v_ins.1, &v_ins.2)],
    );
    let hap2 = apply(
        &reference,
        &[(v_snv.0, &v_snv.1, &v_snv.2), (v_del.0, &v_del.1, &v_del.2)],
    );
    let planted = vec![
        Planted {
            pos: 1001,
            ref_allele: String::from_utf8(v_snv.1.clone()).unwrap(),
            alt: String::from_utf8(v_snv.2.clone()).unwrap(),
            copies: 1,
        },
        Planted {
            pos: del_at as u64 + 1,
            ref_allele: String::from_utf8(del_ref.clone()).unwrap(),
            alt: (del_ref[0] as char).to_string(),
            copies: 2,
        },
        Planted {
            pos: 2001,
            ref_allele: (ins_anchor as char).to_string(),
            alt: String::from_utf8(ins_alt).unwrap(),
            copies: 1,
        },
    ];
    let mut records = Vec::new();
    for (h, hap) in [&hap1, &hap2].into_iter().enumerate() {
        let mut i = 0;
        let mut n = 0;
        while i + 100 <= hap.len() {
            let name = format!("h{h}r{n}");
            if let Some(rec) = sam_line(&name, "chrT", hap, i, 100, n % 2 == 1, with_quals) {
                records.push(rec);
            }
            i += 5;
            n += 1;
        }
    }
    fixture(
        dir,
        fasta,
        &[("chrT", 3000), ("chrU", 600)],
        records,
        planted,
    )
}

/// The same reads as CRAM (decoded against the fixture reference).
pub fn to_cram(fx: &Fixture) -> PathBuf {
    let cram = fx.dir.path().join("reads.cram");
    let mut reader = bam::Reader::from_path(&fx.bam).unwrap();
    let header = String::from_utf8(reader.header().as_bytes().to_vec()).unwrap();
    let view = reader.header().clone();
    let mut records = Vec::new();
    for r in reader.records() {
        let r = r.unwrap();
        records.push((r.pos() as u64, r));
    }
    let hdr = bam::Header::from_template(&view);
    {
        // The header is written before the reference is set, so htslib embeds the reference
        // in the CRAM, as this fixture wants, and warns four times that it does so. Those
        // warnings are expected here and read as failures in test output: errors only.
        let _quiet = HtsLogLevel::set(rust_htslib::htslib::htsLogLevel_HTS_LOG_ERROR);
        let mut w = bam::Writer::from_path(&cram, &hdr, bam::Format::Cram).unwrap();
        w.set_reference(&fx.fasta).unwrap();
        for (_, r) in &records {
            w.write(r).unwrap();
        }
    }
    let _ = header;
    bam::index::build(&cram, None, bam::index::Type::Bai, 1).unwrap();
    cram
}

/// htslib's log level (process-wide) until dropped, then the previous one again.
pub struct HtsLogLevel(rust_htslib::htslib::htsLogLevel);

impl HtsLogLevel {
    pub fn set(level: rust_htslib::htslib::htsLogLevel) -> Self {
        // SAFETY: plain reads and writes of htslib's global log level.
        unsafe {
            let old = rust_htslib::htslib::hts_get_log_level();
            rust_htslib::htslib::hts_set_log_level(level);
            HtsLogLevel(old)
        }
    }
}

impl Drop for HtsLogLevel {
    fn drop(&mut self) {
        // SAFETY: as in `set`.
        unsafe { rust_htslib::htslib::hts_set_log_level(self.0) }
    }
}

/// Is this a CI run (`CI=true`)? There, tests must not skip for want of ONNX Runtime or mounts.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The one skip rule: a test that cannot run here for a reason of the machine (a tool or
/// library missing, real data absent) says so and returns, outside CI; under `CI=true`,
/// where everything is installed, it fails instead.
pub fn skip(reason: &str) {
    assert!(!ci(), "this test may not skip when CI=true: {reason}");
    eprintln!("SKIP: {reason}");
}

/// [`have_ort`], but a missing ONNX Runtime fails the test when `CI=true` instead of skipping.
pub fn require_ort() -> bool {
    if have_ort() {
        return true;
    }
    assert!(
        !ci(),
        "ONNX Runtime is required when CI=true (run `make setup`)"
    );
    false
}

/// The contigs of a FASTA file: (name up to the first space, sequence).
pub fn read_fasta(path: &Path) -> Vec<(String, Vec<u8>)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix('>') {
            let name = h.split_whitespace().next().unwrap_or("").to_string();
            out.push((name, Vec::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.extend_from_slice(line.trim_end().as_bytes());
        }
    }
    out
}

/// 100 bp reads of `hap` starting every `step` bases, alternating strands, named
/// `{prefix}r{n}`, each SAM line ending with `tags` (e.g. `"\tRG:Z:rg1"`, or empty).
pub fn tiled_reads(
    contig: &str,
    hap: &Hap,
    step: usize,
    prefix: &str,
    tags: &str,
) -> Vec<(u64, String)> {
    let mut records = Vec::new();
    let mut i = 0;
    let mut n = 0;
    while i + 100 <= hap.len() {
        let name = format!("{prefix}r{n}");
        if let Some((pos, line)) = sam_line(&name, contig, hap, i, 100, n % 2 == 1, true) {
            records.push((pos, format!("{line}{tags}")));
        }
        i += step;
        n += 1;
    }
    records
}

/// The records of a BAM as SAM text lines (no tags) with their 0-based positions.
pub fn sam_records(path: &Path) -> Vec<(u64, String)> {
    let mut reader = bam::Reader::from_path(path).unwrap();
    let names: Vec<String> = reader
        .header()
        .target_names()
        .iter()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let seq = String::from_utf8(r.seq().as_bytes()).unwrap();
            let seq = if seq.is_empty() { "*".to_string() } else { seq };
            let q: String = if r.qual().first().is_none_or(|&q| q == 255) {
                "*".into()
            } else {
                r.qual().iter().map(|q| (q + 33) as char).collect()
            };
            let contig = if r.tid() < 0 {
                "*".to_string()
            } else {
                names[r.tid() as usize].clone()
            };
            (
                r.pos().max(0) as u64,
                format!(
                    "{}\t{}\t{contig}\t{}\t{}\t{}\t*\t0\t0\t{seq}\t{q}",
                    String::from_utf8_lossy(r.qname()),
                    r.flags(),
                    r.pos() + 1,
                    r.mapq(),
                    r.cigar()
                ),
            )
        })
        .collect()
}

/// A long contig `chrL` of `len` bases with a het SNV about every `every` bases and about 40x
/// of perfect 100 bp reads: enough work for a run to be interrupted, and a VCF of many
/// records (tens of kB for 100 kb at one SNV per 50 bp).
pub fn build_long(len: usize, every: usize) -> Fixture {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
    let reference = random_seq(&mut rng, len);
    let (dir, fasta) = temp_fasta(&[("chrL", &reference)]);
    let mut variants: Vec<(u64, Vec<u8>, Vec<u8>)> = Vec::new();
    let mut planted = Vec::new();
    let mut pos = every / 2;
    while pos + every / 2 < len {
        let (v, p) = planted_snv(&reference, pos + rng.random_range(0..every / 4), 1);
        variants.push(v);
        planted.push(p);
        pos += every;
    }
    let v: Vec<(u64, &[u8], &[u8])> = variants
        .iter()
        .map(|(p, r, a)| (*p, &r[..], &a[..]))
        .collect();
    let hap1 = apply(&reference, &v);
    let hap2 = apply(&reference, &[]);
    let mut records = tiled_reads("chrL", &hap1, 5, "h0", "");
    records.extend(tiled_reads("chrL", &hap2, 5, "h1", ""));
    fixture(dir, fasta, &[("chrL", len)], records, planted)
}

/// [`build`]'s reference and reads as sample `ALICE` (read group `rgA`), plus a second sample
/// `BOB` (read group `rgB`, about 40x) in the same BAM (`two_samples.bam`, which is
/// `fx.bam`) carrying only a homozygous SNV at 0-based 2500 that ALICE lacks. `fx.planted`
/// holds ALICE's variants; BOB's SNV is returned beside it.
pub fn build_two_samples() -> (Fixture, Planted) {
    let mut fx = build(true);
    let reference = read_fasta(&fx.fasta).remove(0).1;
    let p = 2500usize;
    let alt = if reference[p] == b'C' { b'A' } else { b'C' };
    let bob = Planted {
        pos: p as u64 + 1,
        ref_allele: (reference[p] as char).to_string(),
        alt: (alt as char).to_string(),
        copies: 2,
    };
    let hap = apply(&reference, &[(p as u64, &[reference[p]], &[alt])]);
    let mut records: Vec<(u64, String)> = sam_records(&fx.bam)
        .into_iter()
        .map(|(pos, line)| (pos, format!("a{line}\tRG:Z:rgA")))
        .collect();
    records.extend(tiled_reads("chrT", &hap, 5, "b0", "\tRG:Z:rgB"));
    records.extend(tiled_reads("chrT", &hap, 5, "b1", "\tRG:Z:rgB"));
    let header = "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chrT\tLN:3000\n@SQ\tSN:chrU\tLN:600\n\
                  @RG\tID:rgA\tSM:ALICE\n@RG\tID:rgB\tSM:BOB\n";
    let bam = fx.dir.path().join("two_samples.bam");
    write_alignments(&bam, header, records, None);
    fx.bam = bam;
    (fx, bob)
}

/// The fixture's reads as `reads_ext.cram`, encoded against the fixture reference as an
/// external reference: its `@SQ` lines carry `UR` and `M5`, and no sequence is embedded, so
/// decoding needs the reference. ([`to_cram`] sets the reference only after the header is
/// written, so htslib embeds the reference in that CRAM instead.)
pub fn to_cram_with_external_reference(fx: &Fixture) -> PathBuf {
    rust_htslib::faidx::Reader::from_path(&fx.fasta).unwrap(); // the .fai htslib needs
    let cram = fx.dir.path().join("reads_ext.cram");
    let mut reader = bam::Reader::from_path(&fx.bam).unwrap();
    let text = String::from_utf8(reader.header().as_bytes().to_vec()).unwrap();
    // With UR, htslib loads the reference while writing the header and adds M5 tags.
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("@SQ") {
                format!("{l}\tUR:{}\n", fx.fasta.display())
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let view = bam::HeaderView::from_bytes(text.as_bytes());
    let hdr = bam::Header::from_template(&view);
    {
        let mut w = bam::Writer::from_path(&cram, &hdr, bam::Format::Cram).unwrap();
        w.set_reference(&fx.fasta).unwrap();
        for r in reader.records() {
            w.write(&r.unwrap()).unwrap();
        }
    }
    bam::index::build(&cram, None, bam::index::Type::Bai, 1).unwrap();
    let written = bam::Reader::from_path(&cram).unwrap();
    let header = String::from_utf8_lossy(written.header().as_bytes()).into_owned();
    assert!(
        header
            .lines()
            .filter(|l| l.starts_with("@SQ"))
            .all(|l| l.contains("\tM5:")),
        "the CRAM should reference its reference by M5:\n{header}"
    );
    cram
}

/// A FASTA of `contigs` (header line without `>`, sequence; 60 bases a line) in a new
/// temporary directory.
pub fn temp_fasta(contigs: &[(&str, &[u8])]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let fasta = dir.path().join("ref.fa");
    write_fasta(&fasta, contigs);
    (dir, fasta)
}

/// Write a FASTA of `contigs` (header line without `>`, sequence; 60 bases a line).
pub fn write_fasta(fasta: &Path, contigs: &[(&str, &[u8])]) {
    let mut text = String::new();
    for (name, seq) in contigs {
        text.push_str(&format!(">{name}\n"));
        for c in seq.chunks(60) {
            text.push_str(&String::from_utf8_lossy(c));
            text.push('\n');
        }
    }
    std::fs::write(fasta, text).unwrap();
}

/// `(POS, REF, ALT, GT)` of the PASS records of a VCF body.
pub fn pass_calls(body: &[String]) -> Vec<(u64, String, String, String)> {
    body.iter()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f[6] == "PASS")
        .map(|f| {
            (
                f[1].parse().unwrap(),
                f[3].to_string(),
                f[4].to_string(),
                f[9].split(':').next().unwrap().to_string(),
            )
        })
        .collect()
}

/// The planted variants found as PASS calls with their genotype, as `(found, planted)`.
pub fn planted_found(fx: &Fixture, body: &[String]) -> (usize, usize) {
    let calls = pass_calls(body);
    let found = fx
        .planted
        .iter()
        .filter(|p| {
            let gt = if p.copies == 2 { "1/1" } else { "0/1" };
            calls
                .iter()
                .any(|c| c.0 == p.pos && c.1 == p.ref_allele && c.2 == p.alt && c.3 == gt)
        })
        .count();
    (found, fx.planted.len())
}
