//! The bad-input matrix (docs/errors.md), one test per row, written against the error
//! policy rather than against what the code happens to do:
//!
//! - exit 0 on success; 2 when the input or command line is wrong (retrying will not help);
//!   1 on any other failure (I/O such as a full disk, a library failure); 130 on SIGINT and
//!   143 on SIGTERM; never 101 (a panic) or death by another signal, never "panicked";
//! - on failure the last stderr line starts with `varstream: error:` and names the offending
//!   file (its file name at least) and, where it applies, the line, record or locus;
//! - on any failure nothing is left at the output path and no temporary
//!   (`.{file name}.tmp{pid}...`) in the output folder; inputs are never modified.
//!
//! Every run uses `-q`. Outputs go to a fresh folder so "nothing left" means an empty folder.
//! Tests that need ONNX Runtime skip without it (and fail when `CI=true`); so do the tests
//! that need to mount a tmpfs (root).
//!
//! Over 600 lines on purpose: it is the bad-input matrix of docs/errors.md, one test per
//! row, kept in one file so that the table and its tests can be read side by side.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use rand::{Rng, SeedableRng};
use rust_htslib::bam;

// ------------------------------------------------------------------------------------------
// Running varstream and judging the result.

/// `varstream -q ARGS` with extra environment variables.
fn vs_env(args: &[&str], env: &[(&str, &OsStr)]) -> Output {
    let mut cmd = bin();
    cmd.arg("-q").args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("cannot start varstream")
}

/// `varstream -q ARGS`.
fn vs(args: &[&str]) -> Output {
    vs_env(args, &[])
}

fn s(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp")
}

/// No temporary (`.NAME.tmpPID...`) is left in `dir`.
#[track_caller]
fn assert_no_temporaries(dir: &Path) {
    let tmp: Vec<String> = entries(dir)
        .into_iter()
        .filter(|n| is_temporary(n))
        .collect();
    assert!(
        tmp.is_empty(),
        "temporaries left in {}: {tmp:?}",
        dir.display()
    );
}

/// The files directly in a folder and their bytes, to show that a run modified no input.
struct Snapshot(PathBuf, BTreeMap<String, Vec<u8>>);

impl Snapshot {
    fn of(dir: &Path) -> Self {
        let mut files = BTreeMap::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                let name = e.file_name().to_string_lossy().into_owned();
                files.insert(name, std::fs::read(e.path()).unwrap());
            }
        }
        Snapshot(dir.to_path_buf(), files)
    }

    #[track_caller]
    fn assert_unchanged(&self) {
        for (name, bytes) in &self.1 {
            let now = std::fs::read(self.0.join(name));
            assert!(
                now.as_ref().is_ok_and(|b| b == bytes),
                "input {name} was {} by the run",
                if now.is_ok() { "modified" } else { "removed" }
            );
        }
    }
}

/// `varstream -q call --ref REF --reads READS --output OUT EXTRA` with extra environment,
/// checking that no file in the fixture folder was modified or removed by the run.
fn call_env(
    fx: &Fixture,
    reference: &Path,
    reads: &Path,
    output: &Path,
    extra: &[&str],
    env: &[(&str, &OsStr)],
) -> Output {
    let before = Snapshot::of(fx.dir.path());
    let mut args = vec![
        "call",
        "--ref",
        s(reference),
        "--reads",
        s(reads),
        "--output",
        s(output),
    ];
    args.extend_from_slice(extra);
    let out = vs_env(&args, env);
    before.assert_unchanged();
    out
}

/// [`call_env`] with the fixture's reference and no extra environment.
fn call(fx: &Fixture, reads: &Path, output: &Path, extra: &[&str]) -> Output {
    call_env(fx, &fx.fasta, reads, output, extra, &[])
}

/// A tmpfs mounted for one test, unmounted when dropped (also when the test fails). Declare
/// it after the fixture whose folder holds the mount point, so it is dropped first.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mount a tmpfs with `opts` at `dir` (created). `None`, after saying why, when this
    /// process cannot mount (not root, no CAP_SYS_ADMIN); that fails the test when CI=true.
    fn mount(dir: &Path, opts: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let res = Command::new("mount")
            .args(["-t", "tmpfs", "-o", opts, "tmpfs"])
            .arg(dir)
            .output();
        match res {
            Ok(o) if o.status.success() => Some(Tmpfs(dir.to_path_buf())),
            Ok(o) => {
                skip(&format!(
                    "cannot mount a tmpfs ({opts}) at {}: {}",
                    dir.display(),
                    String::from_utf8_lossy(&o.stderr).trim()
                ));
                None
            }
            Err(e) => {
                skip(&format!("cannot run mount: {e}"));
                None
            }
        }
    }

    /// Make the mounted folder read-only.
    fn remount_read_only(&self) {
        let o = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "cannot remount {} read-only: {}",
            self.0.display(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Bytes that are neither a BAM, an ONNX model nor an SQLite database.
fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random::<u8>()).collect()
}

fn vcf_text(path: &Path) -> String {
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s
}

/// (POS, GT) of the PASS records of a VCF body.
fn pass_records(body: &[String]) -> Vec<(u64, String)> {
    body.iter()
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f[6] == "PASS")
        .map(|f| {
            (
                f[1].parse().unwrap(),
                f[9].split(':').next().unwrap().into(),
            )
        })
        .collect()
}

/// The fixture's reference and reads header contigs.
const CONTIGS: [(&str, usize); 2] = [("chrT", 3000), ("chrU", 600)];

fn bai(bam: &Path) -> PathBuf {
    PathBuf::from(format!("{}.bai", bam.display()))
}

/// Copy `fx.bam` to `name` with the original's index beside it (written after, so newer).
fn copy_with_index(fx: &Fixture, name: &str, bytes: &[u8]) -> PathBuf {
    let p = fx.dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    std::fs::copy(bai(&fx.bam), bai(&p)).unwrap();
    p
}

// ------------------------------------------------------------------------------------------
// Reads

// A --reads path that does not exist.
#[test]
fn reads_missing_file() {
    let fx = build(true);
    let out = out_dir(fx.dir.path(), "out");
    let missing = fx.dir.path().join("absent.bam");
    let o = call(&fx, &missing, &out.join("calls.vcf.gz"), &[]);
    assert_fails(&o, &[INPUT], &["absent.bam"]);
    assert_empty(&out);
}

// A text file given as the reads.
#[test]
fn reads_not_a_bam() {
    let fx = build(true);
    let out = out_dir(fx.dir.path(), "out");
    let text = fx.dir.path().join("notes.txt");
    std::fs::write(&text, "these are notes, not alignments\nsecond line\n").unwrap();
    let o = call(&fx, &text, &out.join("calls.vcf.gz"), &[]);
    assert_fails(&o, &[INPUT], &["notes.txt"]);
    assert_empty(&out);
}

// A BAM without its index: the message says how to make one.
#[test]
fn reads_without_index() {
    let fx = build(true);
    std::fs::remove_file(bai(&fx.bam)).unwrap();
    let out = out_dir(fx.dir.path(), "out");
    let o = call(&fx, &fx.bam, &out.join("calls.vcf.gz"), &[]);
    assert_fails(&o, &[INPUT], &["reads.bam", "samtools index"]);
    assert_empty(&out);
}

// An index made from another BAM (another read set, another header), newer than the BAM.
#[test]
fn reads_stale_index_from_another_bam() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let other = build_uneven_depth();
    let stale = fx.dir.path().join("stale.bam");
    std::fs::copy(&fx.bam, &stale).unwrap();
    std::fs::copy(bai(&other.bam), bai(&stale)).unwrap();
    let out = out_dir(fx.dir.path(), "out");
    let o = call(&fx, &stale, &out.join("calls.vcf.gz"), &[]);
    // The policy allows 2 or another clear error here; never success, a panic or a crash.
    assert_fails(&o, &[INPUT, OTHER], &["stale.bam"]);
    assert_empty(&out);
}

// An index older than its BAM: the BAM was rewritten with other reads after indexing.
#[test]
fn reads_stale_index_older_than_bam() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let other = build_uneven_depth();
    let changed = fx.dir.path().join("changed.bam");
    let header = sam_header(&CONTIGS, "FIXTURE");
    write_alignments(&changed, &header, sam_records(&other.bam), None);
    std::fs::copy(bai(&fx.bam), bai(&changed)).unwrap();
    let bam_time = std::fs::metadata(&changed).unwrap().modified().unwrap();
    std::fs::File::options()
        .write(true)
        .open(bai(&changed))
        .unwrap()
        .set_modified(bam_time - Duration::from_secs(3600))
        .unwrap();
    let out = out_dir(fx.dir.path(), "out");
    let o = call(&fx, &changed, &out.join("calls.vcf.gz"), &[]);
    let last = assert_fails(&o, &[INPUT], &["changed.bam"]);
    assert!(last.contains("older than"), "{last}");
    assert_empty(&out);
}

// A BAM cut in the middle (its index is the full file's).
#[test]
fn reads_truncated_bam() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let bytes = std::fs::read(&fx.bam).unwrap();
    let cut = copy_with_index(&fx, "cut.bam", &bytes[..bytes.len() / 2]);
    let out = out_dir(fx.dir.path(), "out");
    let o = call(&fx, &cut, &out.join("calls.vcf.gz"), &[]);
    assert_fails(&o, &[INPUT], &["cut.bam"]);
    assert_empty(&out);
}

// A BAM with bytes overwritten in the middle (a corrupt BGZF block).
#[test]
fn reads_corrupt_block() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let mut bytes = std::fs::read(&fx.bam).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b = 0x5a;
    }
    let bad = copy_with_index(&fx, "corrupt.bam", &bytes);
    let out = out_dir(fx.dir.path(), "out");
    let o = call(&fx, &bad, &out.join("calls.vcf.gz"), &[]);
    assert_fails(&o, &[INPUT], &["corrupt.bam"]);
    assert_empty(&out);
}

// A CRAM written against one reference, called with --ref of another sequence (same contig
// names and lengths, so only the bases differ).
#[test]
fn cram_against_another_reference() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let cram = to_cram_with_external_reference(&fx);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(99);
    let t = random_seq(&mut rng, 3000);
    let u = random_seq(&mut rng, 600);
    let other = fx.dir.path().join("other_ref.fa");
    write_fasta(&other, &[("chrT", &t), ("chrU", &u)]);
    let out = out_dir(fx.dir.path(), "out");
    let o = call_env(&fx, &other, &cram, &out.join("calls.vcf.gz"), &[], &[]);
    let last = assert_fails(&o, &[INPUT], &[]);
    assert_names_any(&last, &["reads_ext.cram", "other_ref.fa"]);
    assert_empty(&out);
}

// Mapped records stored without a sequence (SEQ `*`) are skipped: the VCF is the one the
// same BAM without them gives.
#[test]
fn reads_mapped_record_without_sequence() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let header = sam_header(&CONTIGS, "FIXTURE");
    let records = sam_records(&fx.bam);
    let plain = fx.dir.path().join("plain.bam");
    write_alignments(&plain, &header, records.clone(), None);
    let mut with_star = records;
    for k in 0..12u64 {
        // over the planted SNV at 1001, both strands, some without qualities too
        let pos = 940 + 5 * k;
        with_star.push((
            pos,
            format!(
                "noseq{k}\t{}\tchrT\t{}\t60\t100M\t*\t0\t0\t*\t*",
                if k % 2 == 1 { 16 } else { 0 },
                pos + 1
            ),
        ));
    }
    let star = fx.dir.path().join("seq_star.bam");
    write_alignments(&star, &header, with_star, None);
    let out = out_dir(fx.dir.path(), "out");
    let o1 = call(&fx, &plain, &out.join("plain.vcf.gz"), &[]);
    let o2 = call(&fx, &star, &out.join("star.vcf.gz"), &[]);
    assert_ok(&o1);
    assert_ok(&o2);
    assert!(out.join("star.vcf.gz.tbi").exists());
    assert_eq!(
        vcf_body(&out.join("star.vcf.gz")),
        vcf_body(&out.join("plain.vcf.gz")),
        "reads without a sequence must not count as evidence"
    );
}

/// A mapped read named `badread1` at 0-based 1200 with 90 reference bases and a CIGAR of
/// `cigar_len`M.
fn cigar_record(reference: &[u8], cigar_len: u32) -> bam::Record {
    use bam::record::{Cigar, CigarString};
    let seq = &reference[1200..1290];
    let mut r = bam::Record::new();
    r.set(
        b"badread1",
        Some(&CigarString(vec![Cigar::Match(cigar_len)])),
        seq,
        &[30u8; 90],
    );
    r.set_tid(0);
    r.set_pos(1200);
    r.set_mapq(60);
    r.set_flags(0);
    r.set_mtid(-1);
    r.set_mpos(-1);
    r.set_insert_size(0);
    r
}

/// Write `records` (sorted here) as an uncompressed BAM, so that records of equal size give
/// byte-for-byte the same layout and one file's index serves the other.
fn write_uncompressed(path: &Path, header: &str, mut records: Vec<bam::Record>) {
    records.sort_by_key(|r| r.pos());
    let view = bam::HeaderView::from_bytes(header.as_bytes());
    let hdr = bam::Header::from_template(&view);
    let mut w = bam::Writer::from_path(path, &hdr, bam::Format::Bam).unwrap();
    w.set_compression_level(bam::CompressionLevel::Uncompressed)
        .unwrap();
    for r in &records {
        w.write(r).unwrap();
    }
}

// A record whose CIGAR covers 100 query bases but whose SEQ has 90 (htslib would refuse to
// index it, so the index comes from a twin BAM of identical layout whose record says 90M).
#[test]
fn reads_cigar_and_sequence_lengths_differ() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let reference = read_fasta(&fx.fasta).remove(0).1;
    let header = sam_header(&CONTIGS, "FIXTURE");
    let view = bam::HeaderView::from_bytes(header.as_bytes());
    let records = |cigar_len: u32| -> Vec<bam::Record> {
        let mut v: Vec<bam::Record> = sam_records(&fx.bam)
            .iter()
            .map(|(_, l)| bam::Record::from_sam(&view, l.as_bytes()).unwrap())
            .collect();
        v.push(cigar_record(&reference, cigar_len));
        v
    };
    let twin = fx.dir.path().join("twin.bam");
    write_uncompressed(&twin, &header, records(90));
    bam::index::build(&twin, None, bam::index::Type::Bai, 1).unwrap();
    let bad = fx.dir.path().join("bad_cigar.bam");
    write_uncompressed(&bad, &header, records(100));
    assert_eq!(
        std::fs::metadata(&twin).unwrap().len(),
        std::fs::metadata(&bad).unwrap().len()
    );
    std::fs::copy(bai(&twin), bai(&bad)).unwrap();
    let out = out_dir(fx.dir.path(), "out");
    let o = call(&fx, &bad, &out.join("calls.vcf.gz"), &[]);
    // htslib refuses the record while decoding it, before its name can be read, so the
    // error names the file and locates it by the read before it.
    let last = assert_fails(&o, &[INPUT], &["bad_cigar.bam", "corrupt record"]);
    assert!(last.contains("after read"), "{last}");
    assert_empty(&out);
}

// CIGARs with zero-length operations (`0M`, `0I`, `0D`, `0S`, `0H`) are legal and harmless.
#[test]
fn reads_zero_length_cigar_operations() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let cigars = [
        "0M100M", "50M0I50M", "50M0D50M", "0S100M0S", "0H100M", "100M0I",
    ];
    let mut changed = 0;
    let records: Vec<(u64, String)> = sam_records(&fx.bam)
        .into_iter()
        .map(|(pos, line)| {
            let mut f: Vec<String> = line.split('\t').map(String::from).collect();
            if (400..800).contains(&pos) && f[5] == "100M" && changed < 2 * cigars.len() {
                f[5] = cigars[changed % cigars.len()].to_string();
                changed += 1;
            }
            (pos, f.join("\t"))
        })
        .collect();
    assert_eq!(changed, 2 * cigars.len());
    let zero = fx.dir.path().join("zero_ops.bam");
    write_alignments(&zero, &sam_header(&CONTIGS, "FIXTURE"), records, None);
    let out = out_dir(fx.dir.path(), "out");
    let vcf = out.join("calls.vcf.gz");
    let o = call(&fx, &zero, &vcf, &[]);
    assert_ok(&o);
    assert!(out.join("calls.vcf.gz.tbi").exists());
    let got: Vec<u64> = pass_records(&vcf_body(&vcf)).iter().map(|r| r.0).collect();
    let want: Vec<u64> = fx.planted.iter().map(|p| p.pos).collect();
    assert_eq!(got, want);
}

// ------------------------------------------------------------------------------------------
// Multi-sample BAMs

// Two read groups with different SM and no --sample: which sample to call is ambiguous.
#[test]
fn multi_sample_bam_without_sample() {
    let (fx, _) = build_two_samples();
    let out = out_dir(fx.dir.path(), "out");
    let o = call(&fx, &fx.bam, &out.join("calls.vcf.gz"), &[]);
    assert_fails(&o, &[INPUT], &["two_samples.bam", "ALICE", "BOB"]);
    assert_empty(&out);
}

// --sample NAME calls only that sample's reads and writes NAME as the sample column.
#[test]
fn multi_sample_bam_with_sample() {
    if !require_ort() {
        return;
    }
    let (fx, bob) = build_two_samples();
    let out = out_dir(fx.dir.path(), "out");
    let alice_vcf = out.join("alice.vcf.gz");
    let o = call(&fx, &fx.bam, &alice_vcf, &["--sample", "ALICE"]);
    assert_ok(&o);
    assert!(vcf_text(&alice_vcf).contains("\tFORMAT\tALICE\n"));
    let alice = pass_records(&vcf_body(&alice_vcf));
    let want: Vec<u64> = fx.planted.iter().map(|p| p.pos).collect();
    assert_eq!(
        alice.iter().map(|r| r.0).collect::<Vec<_>>(),
        want,
        "ALICE's calls; BOB's SNV at {} must not be among them",
        bob.pos
    );
    // The other way round, so the fixture is known to hold BOB's variant.
    let bob_vcf = out.join("bob.vcf.gz");
    let o = call(&fx, &fx.bam, &bob_vcf, &["--sample", "BOB"]);
    assert_ok(&o);
    assert!(vcf_text(&bob_vcf).contains("\tFORMAT\tBOB\n"));
    assert_eq!(
        pass_records(&vcf_body(&bob_vcf)),
        vec![(bob.pos, "1/1".to_string())]
    );
}

// --sample naming no sample of the BAM.
#[test]
fn multi_sample_bam_unknown_sample() {
    let (fx, _) = build_two_samples();
    let out = out_dir(fx.dir.path(), "out");
    let o = call(
        &fx,
        &fx.bam,
        &out.join("calls.vcf.gz"),
        &["--sample", "CAROL"],
    );
    assert_fails(&o, &[INPUT], &["two_samples.bam", "CAROL"]);
    assert_empty(&out);
}

// ------------------------------------------------------------------------------------------
// Reference

// A reference without .fai in a folder where none can be written.
#[test]
fn reference_missing_fai_in_read_only_folder() {
    let fx = build(true);
    let ro = fx.dir.path().join("ro_ref");
    let Some(mount) = Tmpfs::mount(&ro, "size=1m") else {
        return;
    };
    std::fs::copy(&fx.fasta, ro.join("ref.fa")).unwrap();
    mount.remount_read_only();
    let out = out_dir(fx.dir.path(), "out");
    let o = call_env(
        &fx,
        &ro.join("ref.fa"),
        &fx.bam,
        &out.join("calls.vcf.gz"),
        &[],
        &[],
    );
    assert_fails(&o, &[INPUT], &["ref.fa", "samtools faidx"]);
    assert_empty(&out);
    assert_eq!(entries(&ro), vec!["ref.fa".to_string()]);
}

// `chrT` in the reads, `T` in the reference: the message suggests the other naming.
#[test]
fn reference_contigs_renamed() {
    let fx = build(true);
    let renamed = fx.dir.path().join("ref_nochr.fa");
    let contigs = read_fasta(&fx.fasta);
    let stripped: Vec<(String, Vec<u8>)> = contigs
        .into_iter()
        .map(|(n, seq)| (n.trim_start_matches("chr").to_string(), seq))
        .collect();
    let refs: Vec<(&str, &[u8])> = stripped.iter().map(|(n, q)| (n.as_str(), &q[..])).collect();
    write_fasta(&renamed, &refs);
    let out = out_dir(fx.dir.path(), "out");
    let o = call_env(&fx, &renamed, &fx.bam, &out.join("calls.vcf.gz"), &[], &[]);
    let last = assert_fails(&o, &[INPUT], &["did you mean", "samtools reheader"]);
    assert_names_any(&last, &["ref_nochr.fa", "reads.bam"]);
    assert_empty(&out);
}

// A contig whose length differs between reads and reference (another assembly).
#[test]
fn reference_contig_length_mismatch() {
    let fx = build(true);
    let bam = fx.dir.path().join("wrong_length.bam");
    write_alignments(
        &bam,
        &sam_header(&[("chrT", 3001), ("chrU", 600)], "S"),
        vec![],
        None,
    );
    let out = out_dir(fx.dir.path(), "out");
    let o = call(&fx, &bam, &out.join("calls.vcf.gz"), &[]);
    let last = assert_fails(&o, &[INPUT], &["chrT", "3001", "3000"]);
    assert_names_any(&last, &["wrong_length.bam", "ref.fa"]);
    assert_empty(&out);
}

// IUPAC ambiguity codes (and lower case) in the reference are no reason to fail; what is
// written is still a valid VCF (REF and ALT of A, C, G, T, N only).
#[test]
fn reference_with_iupac_codes() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let mut contigs = read_fasta(&fx.fasta);
    let t = &mut contigs[0].1;
    for (k, c) in b"RYSWKMBDHVN".iter().enumerate() {
        t[300 + 7 * k] = *c;
    }
    for (k, c) in b"rynNNNN".iter().enumerate() {
        t[2600 + k] = *c;
    }
    let iupac = fx.dir.path().join("iupac.fa");
    let refs: Vec<(&str, &[u8])> = contigs.iter().map(|(n, q)| (n.as_str(), &q[..])).collect();
    write_fasta(&iupac, &refs);
    let out = out_dir(fx.dir.path(), "out");
    let vcf = out.join("calls.vcf.gz");
    let o = call_env(&fx, &iupac, &fx.bam, &vcf, &[], &[]);
    assert_ok(&o);
    let body = vcf_body(&vcf);
    for l in &body {
        let f: Vec<&str> = l.split('\t').collect();
        for allele in std::iter::once(f[3]).chain(f[4].split(',')) {
            assert!(
                allele.bytes().all(|b| b"ACGTNacgtn".contains(&b)),
                "VCF alleles must be A, C, G, T or N: {l}"
            );
        }
    }
    let got: Vec<u64> = pass_records(&body).iter().map(|r| r.0).collect();
    for p in &fx.planted {
        assert!(got.contains(&p.pos), "planted {p:?} not called: {got:?}");
    }
}

// ------------------------------------------------------------------------------------------
// Regions

#[test]
fn region_malformed() {
    let fx = build(true);
    let out = out_dir(fx.dir.path(), "out");
    for region in ["chrT:abc", "chrT:10-5"] {
        let o = call(
            &fx,
            &fx.bam,
            &out.join("calls.vcf.gz"),
            &["--region", region],
        );
        assert_fails(&o, &[INPUT], &[region]);
        assert_empty(&out);
    }
}

#[test]
fn region_unknown_contig() {
    let fx = build(true);
    let out = out_dir(fx.dir.path(), "out");
    let o = call(
        &fx,
        &fx.bam,
        &out.join("calls.vcf.gz"),
        &["--region", "chrZ:1-10"],
    );
    assert_fails(&o, &[INPUT], &["chrZ"]);
    assert_empty(&out);
}

// A region that starts past the end of its contig (chrT is 3,000 bp). One that only
// overhangs the end (`chrT:2900-3100`) may be clamped, as samtools does; it is not tested.
#[test]
fn region_past_contig_end() {
    let fx = build(true);
    let out = out_dir(fx.dir.path(), "out");
    for region in ["chrT:3001-3010", "chrT:5000-6000"] {
        let o = call(
            &fx,
            &fx.bam,
            &out.join("calls.vcf.gz"),
            &["--region", region],
        );
        assert_fails(&o, &[INPUT], &["chrT"]);
        assert_empty(&out);
    }
}

// An empty BED leaves nothing to call.
#[test]
fn regions_empty_bed() {
    let fx = build(true);
    let bed = fx.dir.path().join("empty.bed");
    std::fs::write(&bed, "").unwrap();
    let out = out_dir(fx.dir.path(), "out");
    let o = call(
        &fx,
        &fx.bam,
        &out.join("calls.vcf.gz"),
        &["--regions", s(&bed)],
    );
    assert_fails(&o, &[INPUT], &["empty.bed"]);
    assert_empty(&out);
}

// A BED on a contig the reference has but the reads lack: zero callable bases.
#[test]
fn regions_bed_on_contigs_the_reads_lack() {
    let fx = build(true);
    let mut contigs = read_fasta(&fx.fasta);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    contigs.push(("chrV".into(), random_seq(&mut rng, 500)));
    let reference = fx.dir.path().join("ref_plus.fa");
    let refs: Vec<(&str, &[u8])> = contigs.iter().map(|(n, q)| (n.as_str(), &q[..])).collect();
    write_fasta(&reference, &refs);
    let bed = fx.dir.path().join("v.bed");
    std::fs::write(&bed, "chrV\t0\t100\n").unwrap();
    let out = out_dir(fx.dir.path(), "out");
    let o = call_env(
        &fx,
        &reference,
        &fx.bam,
        &out.join("calls.vcf.gz"),
        &["--regions", s(&bed)],
        &[],
    );
    assert_fails(&o, &[INPUT], &["v.bed"]);
    assert_empty(&out);
}

// ------------------------------------------------------------------------------------------
// Model

fn shipped_model() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models/varstream-v4")
}

#[test]
fn model_missing() {
    let fx = build(true);
    let out = out_dir(fx.dir.path(), "out");
    let m = fx.dir.path().join("absent_model.onnx");
    let o = call(&fx, &fx.bam, &out.join("calls.vcf.gz"), &["--model", s(&m)]);
    assert_fails(&o, &[INPUT], &["absent_model.onnx"]);
    assert_empty(&out);
}

// Random bytes as the model, with a copy of a valid sidecar beside them.
#[test]
fn model_corrupt() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let m = fx.dir.path().join("garbage.onnx");
    std::fs::write(&m, random_bytes(300_000, 1)).unwrap();
    std::fs::copy(
        shipped_model().with_extension("json"),
        fx.dir.path().join("garbage.json"),
    )
    .unwrap();
    let out = out_dir(fx.dir.path(), "out");
    let o = call(&fx, &fx.bam, &out.join("calls.vcf.gz"), &["--model", s(&m)]);
    assert_fails(&o, &[INPUT], &["garbage.onnx"]);
    assert_empty(&out);
}

// A valid ONNX graph of another model (the effects test model) with varstream-v4's sidecar:
// its inputs and outputs are not the genotyping model's.
#[test]
fn model_wrong_graph() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let m = fx.dir.path().join("other_graph.onnx");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scores/effects_test_model.onnx"),
        &m,
    )
    .unwrap();
    std::fs::copy(
        shipped_model().with_extension("json"),
        fx.dir.path().join("other_graph.json"),
    )
    .unwrap();
    let out = out_dir(fx.dir.path(), "out");
    let o = call(&fx, &fx.bam, &out.join("calls.vcf.gz"), &["--model", s(&m)]);
    let last = assert_fails(&o, &[INPUT], &["other_graph.onnx"]);
    assert_names_any(&last, &["input", "output"]);
    assert_empty(&out);
}

// ORT_DYLIB_PATH naming a shared library that is not ONNX Runtime.
#[test]
fn model_wrong_runtime_library() {
    let Some(libz) = [
        "/lib/x86_64-linux-gnu/libz.so.1",
        "/usr/lib/x86_64-linux-gnu/libz.so.1",
        "/lib/aarch64-linux-gnu/libz.so.1",
        "/usr/lib/aarch64-linux-gnu/libz.so.1",
        "/usr/lib64/libz.so.1",
        "/lib64/libz.so.1",
        "/usr/lib/libz.so.1",
    ]
    .iter()
    .map(Path::new)
    .find(|p| p.exists()) else {
        skip("no libz.so.1 found to stand in for a wrong library");
        return;
    };
    let fx = build(true);
    let out = out_dir(fx.dir.path(), "out");
    let o = call_env(
        &fx,
        &fx.fasta,
        &fx.bam,
        &out.join("calls.vcf.gz"),
        &[],
        &[("ORT_DYLIB_PATH", libz.as_os_str())],
    );
    assert_fails(&o, &[INPUT, OTHER], &["libz.so.1"]);
    assert_empty(&out);
}

// ------------------------------------------------------------------------------------------
// Scores

/// A small plain VCF with no build information, and its folder.
fn scores_vcf(dir: &Path) -> PathBuf {
    let vcf = dir.join("sample.vcf");
    std::fs::write(
        &vcf,
        vcf_head(&[("1", 0)], &[], &["GT"], &["S1"])
            + "1\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n\
         1\t200\t.\tC\tT\t50\tPASS\t.\tGT\t1/1\n\
         1\t300\t.\tT\tC\t50\tPASS\t.\tGT\t0/1\n",
    )
    .unwrap();
    vcf
}

/// A PGS scoring file whose 5th line is `row5` (lines 1-3 are header, line 4 a good row).
fn pgs_with_line5(path: &Path, row5: &str) {
    std::fs::write(
        path,
        format!(
            "#pgs_id=PGS_BAD\n#genome_build=GRCh38\n\
             chr_name\tchr_position\teffect_allele\tother_allele\teffect_weight\n\
             1\t100\tG\tA\t0.5\n{row5}\n1\t300\tC\tT\t0.25\n"
        ),
    )
    .unwrap();
}

fn score_prs(vcf: &Path, pgs: &Path, prefix: &Path) -> Output {
    vs(&[
        "score",
        "prs",
        "--vcf",
        s(vcf),
        "--pgs",
        s(pgs),
        "--output",
        s(prefix),
    ])
}

#[test]
fn pgs_malformed_line() {
    let d = tempfile::tempdir().unwrap();
    let vcf = scores_vcf(d.path());
    let out = out_dir(d.path(), "out");
    for (name, row) in [
        ("short_row.txt", "1\t200\tT"),
        ("bad_position.txt", "1\t2x0\tT\tC\t1.0"),
    ] {
        let pgs = d.path().join(name);
        pgs_with_line5(&pgs, row);
        let o = score_prs(&vcf, &pgs, &out.join("p"));
        let last = assert_fails(&o, &[INPUT], &[]);
        assert_names_line(&last, name, 5);
        assert_empty(&out);
    }
}

#[test]
fn pgs_non_finite_weight() {
    let d = tempfile::tempdir().unwrap();
    let vcf = scores_vcf(d.path());
    let out = out_dir(d.path(), "out");
    for (k, w) in ["nan", "NaN", "inf", "-inf", "Infinity"].iter().enumerate() {
        let name = format!("weight{k}.txt");
        let pgs = d.path().join(&name);
        pgs_with_line5(&pgs, &format!("1\t200\tT\tC\t{w}"));
        let o = score_prs(&vcf, &pgs, &out.join("p"));
        let last = assert_fails(&o, &[INPUT], &[]);
        assert_names_line(&last, &name, 5);
        assert_empty(&out);
    }
}

// A GRCh37 scoring file against a VCF that is GRCh38 by every sign its header gives
// (reference name, contig length, assembly tag).
#[test]
fn pgs_wrong_genome_build() {
    let d = tempfile::tempdir().unwrap();
    let vcf = d.path().join("grch38.vcf");
    std::fs::write(
        &vcf,
        "##fileformat=VCFv4.2\n##reference=file:///data/GRCh38_full_analysis_set.fa\n\
         ##contig=<ID=chr1,length=248956422,assembly=GRCh38>\n\
         ##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n\
         #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n\
         chr1\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n\
         chr1\t200\t.\tC\tT\t50\tPASS\t.\tGT\t1/1\n",
    )
    .unwrap();
    let pgs = d.path().join("grch37_score.txt");
    std::fs::write(
        &pgs,
        "#pgs_id=PGS_37\n#genome_build=GRCh37\n\
         chr_name\tchr_position\teffect_allele\tother_allele\teffect_weight\n\
         1\t100\tG\tA\t0.5\n1\t200\tT\tC\t0.25\n",
    )
    .unwrap();
    let out = out_dir(d.path(), "out");
    let o = score_prs(&vcf, &pgs, &out.join("p"));
    assert_fails(&o, &[INPUT], &["grch37_score.txt", "GRCh37"]);
    assert_empty(&out);
}

// Random bytes as a PredictDB database.
#[test]
fn predictdb_unreadable() {
    let d = tempfile::tempdir().unwrap();
    let vcf = scores_vcf(d.path());
    let db = d.path().join("weights.db");
    std::fs::write(&db, random_bytes(16384, 2)).unwrap();
    let out = out_dir(d.path(), "out");
    let o = vs(&[
        "score",
        "expression",
        "--vcf",
        s(&vcf),
        "--weights",
        s(&db),
        "--output",
        s(&out.join("e")),
    ]);
    assert_fails(&o, &[INPUT], &["weights.db"]);
    assert_empty(&out);
}

// ------------------------------------------------------------------------------------------
// Risk models (`score risk`)

/// The demonstration cohort's score tables (`score prs` and `score expression` on
/// tests/data/risk/demo_cohort.vcf) at `DIR/feat/cohort.*`, a copy of its covariates at
/// `DIR/feat/cov.tsv`, and a copy of the demonstration model (and its sub-model) in
/// `DIR/model/`. Returns (features prefix, covariates, model).
fn risk_inputs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let feat = out_dir(dir, "feat");
    let prefix = feat.join("cohort");
    let vcf = root.join("tests/data/risk/demo_cohort.vcf");
    let pgs = root.join("tests/data/scores/PGS000001_hmPOS_GRCh37.txt.gz");
    assert_ok(&score_prs(&vcf, &pgs, &prefix));
    let db = root.join("models/demo-risk-v1.eqtl.db");
    assert_ok(&vs(&[
        "score",
        "expression",
        "--vcf",
        s(&vcf),
        "--weights",
        s(&db),
        "--output",
        s(&prefix),
    ]));
    let cov = feat.join("cov.tsv");
    std::fs::copy(
        root.join("tests/data/risk/demo_cohort.covariates.tsv"),
        &cov,
    )
    .unwrap();
    let models = out_dir(dir, "model");
    for f in [
        "demo-risk-v1.onnx",
        "demo-risk-v1.json",
        "demo-risk-v1-no-prs.onnx",
    ] {
        std::fs::copy(root.join("models").join(f), models.join(f)).unwrap();
    }
    (prefix, cov, models.join("demo-risk-v1.onnx"))
}

fn score_risk(model: &Path, features: &Path, covariates: &Path, out: &Path) -> Output {
    vs(&[
        "score",
        "risk",
        "--model",
        s(model),
        "--features",
        s(features),
        "--covariates",
        s(covariates),
        "--output",
        s(&out.join("r")),
    ])
}

/// Replace `from` by `to` in a text file (which must contain it).
fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

// The demonstration model refuses to run without age (its sidecar says `refuse`).
#[test]
fn risk_feature_missing_and_refused() {
    let d = tempfile::tempdir().unwrap();
    let (prefix, cov, model) = risk_inputs(d.path());
    let out = out_dir(d.path(), "out");
    // The inputs are good as they are (this needs ONNX Runtime).
    if require_ort() {
        assert_ok(&score_risk(&model, &prefix, &cov, &out));
        std::fs::remove_file(out.join("r.risk.tsv")).unwrap();
    }
    let line3 = std::fs::read_to_string(&cov)
        .unwrap()
        .lines()
        .nth(2)
        .unwrap()
        .to_string();
    let sample = line3.split('\t').next().unwrap().to_string();
    edit(
        &cov,
        &line3,
        &format!("{sample}\tNA\t{}", line3.split('\t').nth(2).unwrap()),
    );
    let o = score_risk(&model, &prefix, &cov, &out);
    assert_fails(
        &o,
        &[INPUT],
        &[&format!("sample {sample}"), "age", "refuses", "cov.tsv"],
    );
    assert_empty(&out);
    // No --covariates at all: the same refusal, saying the flag was not given.
    let o = vs(&[
        "score",
        "risk",
        "--model",
        s(&model),
        "--features",
        s(&prefix),
        "--output",
        s(&out.join("r")),
    ]);
    assert_fails(&o, &[INPUT], &["age", "--covariates"]);
    assert_empty(&out);
}

// A sex the model has no code for.
#[test]
fn risk_covariate_unknown_category() {
    let d = tempfile::tempdir().unwrap();
    let (prefix, cov, model) = risk_inputs(d.path());
    let out = out_dir(d.path(), "out");
    let text = std::fs::read_to_string(&cov).unwrap();
    let line4 = text.lines().nth(3).unwrap();
    let fields: Vec<&str> = line4.split('\t').collect();
    edit(&cov, line4, &format!("{}\t{}\tU", fields[0], fields[1]));
    let o = score_risk(&model, &prefix, &cov, &out);
    let last = assert_fails(&o, &[INPUT], &["\"U\"", "levels"]);
    assert_names_line(&last, "cov.tsv", 4);
    assert_empty(&out);
}

// A feature value that is not a number.
#[test]
fn risk_feature_table_not_a_number() {
    let d = tempfile::tempdir().unwrap();
    let (prefix, cov, model) = risk_inputs(d.path());
    let out = out_dir(d.path(), "out");
    let table = prefix.with_extension("expression.tsv");
    let line2 = std::fs::read_to_string(&table)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let mut f: Vec<&str> = line2.split('\t').collect();
    f[4] = "1.2.3";
    edit(&table, &line2, &f.join("\t"));
    let o = score_risk(&model, &prefix, &cov, &out);
    let last = assert_fails(&o, &[INPUT], &["1.2.3"]);
    assert_names_line(&last, "cohort.expression.tsv", 2);
    assert_empty(&out);
}

// The model wants the PRS as a Z score, but `score prs` ran without a reference
// distribution, so the table has no Z column: a wrong feature, not a missing value.
#[test]
fn risk_feature_column_absent() {
    let d = tempfile::tempdir().unwrap();
    let (prefix, cov, model) = risk_inputs(d.path());
    let out = out_dir(d.path(), "out");
    edit(
        &model.with_extension("json"),
        "\"value\": \"SUM\"",
        "\"value\": \"Z\"",
    );
    let o = score_risk(&model, &prefix, &cov, &out);
    assert_fails(
        &o,
        &[INPUT],
        &[
            "cohort.prs.tsv",
            "no Z column",
            "prs_PGS000001",
            "--reference-distribution",
        ],
    );
    assert_empty(&out);
}

// No score table at the features prefix at all.
#[test]
fn risk_no_feature_tables() {
    let d = tempfile::tempdir().unwrap();
    let (_, cov, model) = risk_inputs(d.path());
    let out = out_dir(d.path(), "out");
    let o = score_risk(&model, &d.path().join("nothing"), &cov, &out);
    assert_fails(&o, &[INPUT], &["no samples", "nothing.prs.tsv"]);
    assert_empty(&out);
}

// Sidecar faults: not JSON, an unknown key, a feature without its id.
#[test]
fn risk_sidecar_malformed() {
    let d = tempfile::tempdir().unwrap();
    let (prefix, cov, model) = risk_inputs(d.path());
    let out = out_dir(d.path(), "out");
    let side = model.with_extension("json");
    let good = std::fs::read_to_string(&side).unwrap();
    for (what, text) in [
        ("truncated", good[..good.len() / 2].to_string()),
        ("typo", good.replacen("\"center\"", "\"centre\"", 1)),
        (
            "no score id",
            good.replacen("\"score_id\": \"PGS000001\",", "", 1),
        ),
    ] {
        std::fs::write(&side, text).unwrap();
        let o = score_risk(&model, &prefix, &cov, &out);
        eprintln!("{what}:");
        assert_fails(&o, &[INPUT], &["demo-risk-v1.json"]);
        assert_empty(&out);
    }
}

// The sidecar's checksum is another model's: the sidecar does not describe this file.
#[test]
fn risk_sidecar_for_another_model() {
    let d = tempfile::tempdir().unwrap();
    let (prefix, cov, model) = risk_inputs(d.path());
    let out = out_dir(d.path(), "out");
    std::fs::copy(model.with_file_name("demo-risk-v1-no-prs.onnx"), &model).unwrap();
    let o = score_risk(&model, &prefix, &cov, &out);
    assert_fails(&o, &[INPUT], &["demo-risk-v1.onnx", "SHA-256"]);
    assert_empty(&out);
}

// A sidecar that matches the file's checksum but lists more features than the graph takes.
#[test]
fn risk_sidecar_does_not_fit_the_graph() {
    if !require_ort() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let (prefix, cov, model) = risk_inputs(d.path());
    let out = out_dir(d.path(), "out");
    let side: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.with_extension("json")).unwrap())
            .unwrap();
    let sub_sha = side["submodels"][0]["sha256"].as_str().unwrap().to_string();
    let main_sha = side["sha256"].as_str().unwrap().to_string();
    std::fs::copy(model.with_file_name("demo-risk-v1-no-prs.onnx"), &model).unwrap();
    edit(&model.with_extension("json"), &main_sha, &sub_sha);
    let o = score_risk(&model, &prefix, &cov, &out);
    let last = assert_fails(&o, &[INPUT], &["demo-risk-v1.onnx"]);
    assert_names_any(&last, &["input", "7"]);
    assert_empty(&out);
}

// ------------------------------------------------------------------------------------------
// Report inputs

/// `report --vcf` on the small scores VCF with `extra` flags, into `out/r`.
fn report_with(dir: &Path, out: &Path, extra: &[&str]) -> Output {
    let vcf = scores_vcf(dir);
    let prefix = out.join("r");
    let mut args = vec!["report", "--vcf", s(&vcf), "-o", s(&prefix)];
    args.extend_from_slice(extra);
    vs(&args)
}

// A stats file that is not JSON, of another version, or with a sex call outside XX/XY/ambiguous.
#[test]
fn report_stats_file_malformed() {
    let d = tempfile::tempdir().unwrap();
    let out = out_dir(d.path(), "out");
    let stats = d.path().join("run.stats.json");
    for text in [
        "{\"stats_version\": 1, ",
        "{\"stats_version\": 9}",
        "{\"stats_version\": 1, \"sample\": 3}",
    ] {
        std::fs::write(&stats, text).unwrap();
        let o = report_with(d.path(), &out, &["--stats", s(&stats)]);
        assert_fails(&o, &[INPUT], &["run.stats.json"]);
        assert_empty(&out);
    }
}

#[test]
fn report_panel_bed_malformed() {
    let d = tempfile::tempdir().unwrap();
    let out = out_dir(d.path(), "out");
    let bed = d.path().join("genes.bed");
    std::fs::write(&bed, "1\t10\t500\tGENE1\n1\tx\t20\tGENE2\n").unwrap();
    let o = report_with(d.path(), &out, &["--panel", s(&bed)]);
    let last = assert_fails(&o, &[INPUT], &[]);
    assert_names_line(&last, "genes.bed", 2);
    assert_empty(&out);
}

#[test]
fn report_annotation_vcf_malformed() {
    let d = tempfile::tempdir().unwrap();
    let out = out_dir(d.path(), "out");
    let bed = d.path().join("genes.bed");
    std::fs::write(&bed, "1\t10\t500\tGENE1\n").unwrap();
    let ann = d.path().join("clinvar.vcf");
    std::fs::write(
        &ann,
        "##fileformat=VCFv4.1\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n\
         1\t100\t1\tA\tG\t.\t.\tCLNSIG=Benign\n1\tone\t2\tC\tT\t.\t.\tCLNSIG=Benign\n",
    )
    .unwrap();
    let o = report_with(
        d.path(),
        &out,
        &["--panel", s(&bed), "--annotations", s(&ann)],
    );
    let last = assert_fails(&o, &[INPUT], &[]);
    assert_names_line(&last, "clinvar.vcf", 4);
    assert_empty(&out);
}

// ------------------------------------------------------------------------------------------
// VCF inputs cut at any byte

/// A VCF of 6,000 records on `chr1` (its reference, a BED over it and a scoring file on some
/// of its records), bgzipped with the header in a block of its own, and plain.
struct VcfFixture {
    dir: tempfile::TempDir,
    fasta: PathBuf,
    bed: PathBuf,
    pgs: PathBuf,
    /// The whole text.
    text: String,
    /// The bgzipped bytes.
    gz: Vec<u8>,
    /// (offset, size) of each BGZF block, the EOF block last.
    blocks: Vec<(usize, usize)>,
}

fn vcf_fixture() -> VcfFixture {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
    let len = 200_000;
    let seq = random_seq(&mut rng, len);
    let fasta = dir.path().join("ref.fa");
    write_fasta(&fasta, &[("chr1", &seq)]);
    let bed = dir.path().join("all.bed");
    std::fs::write(&bed, format!("chr1\t0\t{len}\n")).unwrap();
    let header = vcf_head(&[("chr1", len as u64)], &["DP"], &["GT", "DP"], &["S1"]);
    let mut body = String::new();
    let mut pgs = "#pgs_id=PGS_CUT\n\
                   chr_name\tchr_position\teffect_allele\tother_allele\teffect_weight\n"
        .to_string();
    for i in 0..6000usize {
        let pos = 30 * i + 17; // 1-based
        let r = seq[pos - 1];
        let a = if r == b'A' { b'C' } else { b'A' };
        let gt = if i % 3 == 0 { "1/1" } else { "0/1" };
        let dp = 20 + i % 17;
        body.push_str(&format!(
            "chr1\t{pos}\t.\t{}\t{}\t{}\tPASS\tDP={dp}\tGT:DP\t{gt}:{dp}\n",
            r as char,
            a as char,
            40 + i % 50
        ));
        if i % 10 == 0 {
            pgs.push_str(&format!("1\t{pos}\t{}\t{}\t0.1\n", a as char, r as char));
        }
    }
    let pgs_path = dir.path().join("PGS_CUT.txt");
    std::fs::write(&pgs_path, pgs).unwrap();
    let gz_path = dir.path().join("whole.vcf.gz");
    {
        let mut w = rust_htslib::bgzf::Writer::from_path(&gz_path).unwrap();
        w.write_all(header.as_bytes()).unwrap();
        w.flush().unwrap(); // the header ends its block
        w.write_all(body.as_bytes()).unwrap();
    }
    let gz = std::fs::read(&gz_path).unwrap();
    let mut blocks = Vec::new();
    let mut at = 0;
    while at < gz.len() {
        assert_eq!(&gz[at..at + 4], &[0x1f, 0x8b, 8, 4], "BGZF block at {at}");
        let size = u16::from_le_bytes([gz[at + 16], gz[at + 17]]) as usize + 1;
        blocks.push((at, size));
        at += size;
    }
    assert_eq!(blocks.last().unwrap().1, 28, "the EOF block ends the file");
    assert!(
        blocks.len() >= 5,
        "header, 3+ record blocks and EOF: {blocks:?}"
    );
    VcfFixture {
        dir,
        fasta,
        bed,
        pgs: pgs_path,
        text: header + &body,
        gz,
        blocks,
    }
}

impl VcfFixture {
    /// The whole bgzipped VCF.
    fn whole(&self) -> PathBuf {
        self.dir.path().join("whole.vcf.gz")
    }

    /// Copies of the bgzipped VCF cut at: the middle of the header block, of the first
    /// record block and of a block mid-file, a block boundary mid-file (whole blocks, no EOF
    /// block), and just before the EOF block. (what, file)
    fn gz_cuts(&self) -> Vec<(String, PathBuf)> {
        let b = &self.blocks;
        let n = b.len();
        let mid = b[(n - 1) / 2];
        let cuts = [
            ("in the header", b[0].0 + b[0].1 / 2),
            ("in the first record block", b[1].0 + b[1].1 / 2),
            ("mid-file", mid.0 + mid.1 / 2),
            ("at a block boundary", b[n - 2].0),
            ("just before the EOF block", b[n - 1].0),
        ];
        cuts.iter()
            .enumerate()
            .map(|(k, (what, at))| {
                let p = self.dir.path().join(format!("cut{k}.vcf.gz"));
                std::fs::write(&p, &self.gz[..*at]).unwrap();
                (format!("{what} (byte {at} of {})", self.gz.len()), p)
            })
            .collect()
    }

    /// Copies of the plain VCF cut mid-line: inside a record's POS mid-file, and inside the
    /// last field of a record (its DP digits, so the cut line still parses). (what, file)
    fn plain_cuts(&self) -> Vec<(String, PathBuf)> {
        let t = &self.text;
        let mid_line = t[t.len() / 2..].find('\n').unwrap() + t.len() / 2 + 1;
        let next_end = t[mid_line..].find('\n').unwrap() + mid_line;
        let cuts = [
            ("inside POS of a record mid-file", mid_line + 7),
            ("inside the last field of a record", next_end - 1),
        ];
        cuts.iter()
            .enumerate()
            .map(|(k, (what, at))| {
                let p = self.dir.path().join(format!("cut{k}.vcf"));
                std::fs::write(&p, &t.as_bytes()[..*at]).unwrap();
                (format!("{what} (byte {at}: ...{:?})", &t[at - 12..*at]), p)
            })
            .collect()
    }

    fn out(&self, name: &str) -> PathBuf {
        out_dir(self.dir.path(), name)
    }
}

/// The cut VCF must fail with status 2 naming it, and leave nothing in `out`.
#[track_caller]
fn assert_cut_refused(o: &Output, what: &str, file: &Path, out: &Path) {
    let name = file.file_name().unwrap().to_str().unwrap();
    let err = stderr_text(o);
    let status = shell_status(o.status);
    assert!(
        status == INPUT && !err.contains("panicked"),
        "VCF cut {what}: status {status}, want {INPUT}; stderr:\n{err}"
    );
    let last = last_line(&err);
    assert!(
        last.starts_with("varstream: error:") && last.contains(name),
        "VCF cut {what}: the last stderr line must be `varstream: error: ...` naming {name}:\n{err}"
    );
    assert_empty(out);
}

fn report_on(vcf: &Path, out: &Path) -> Output {
    vs(&["report", "--vcf", s(vcf), "-o", s(&out.join("r"))])
}

fn eval_on(fx: &VcfFixture, truth: &Path, query: &Path) -> Output {
    vs(&[
        "eval",
        "--truth",
        s(truth),
        "--query",
        s(query),
        "--regions",
        s(&fx.bed),
        "--ref",
        s(&fx.fasta),
    ])
}

#[test]
fn report_on_cut_bgzipped_vcf() {
    let fx = vcf_fixture();
    let out = fx.out("out");
    assert_ok(&report_on(&fx.whole(), &out));
    let out = fx.out("out_cut");
    for (what, cut) in fx.gz_cuts() {
        assert_cut_refused(&report_on(&cut, &out), &what, &cut, &out);
    }
}

#[test]
fn score_prs_on_cut_bgzipped_vcf() {
    let fx = vcf_fixture();
    let out = fx.out("out");
    assert_ok(&score_prs(&fx.whole(), &fx.pgs, &out.join("p")));
    let out = fx.out("out_cut");
    for (what, cut) in fx.gz_cuts() {
        assert_cut_refused(&score_prs(&cut, &fx.pgs, &out.join("p")), &what, &cut, &out);
    }
}

// eval with a BED naming the contig otherwise (`1` against the VCFs' `chr1`) scored zeros:
// an error naming both names.
#[test]
fn eval_regions_named_otherwise_are_refused() {
    let fx = vcf_fixture();
    let bed = fx.dir.path().join("other_names.bed");
    std::fs::write(&bed, "1\t0\t1000\n").unwrap();
    let o = vs(&[
        "eval",
        "--truth",
        s(&fx.whole()),
        "--query",
        s(&fx.whole()),
        "--regions",
        s(&bed),
        "--ref",
        s(&fx.fasta),
    ]);
    assert_fails(&o, &[INPUT], &["contig 1", "chr1"]);
}

#[test]
fn eval_on_cut_bgzipped_vcf() {
    let fx = vcf_fixture();
    assert_ok(&eval_on(&fx, &fx.whole(), &fx.whole()));
    let out = fx.out("out_cut"); // eval writes no files; this stays empty
    for (what, cut) in fx.gz_cuts() {
        assert_cut_refused(&eval_on(&fx, &fx.whole(), &cut), &what, &cut, &out);
        assert_cut_refused(&eval_on(&fx, &cut, &fx.whole()), &what, &cut, &out);
    }
}

// A plain-text VCF cut mid-line, for each command that reads VCFs.
#[test]
fn plain_vcf_cut_mid_line() {
    let fx = vcf_fixture();
    let out = fx.out("out");
    for (what, cut) in fx.plain_cuts() {
        assert_cut_refused(&report_on(&cut, &out), &what, &cut, &out);
        assert_cut_refused(&score_prs(&cut, &fx.pgs, &out.join("p")), &what, &cut, &out);
        assert_cut_refused(&eval_on(&fx, &fx.whole(), &cut), &what, &cut, &out);
        assert_cut_refused(&eval_on(&fx, &cut, &fx.whole()), &what, &cut, &out);
    }
}

// ------------------------------------------------------------------------------------------
// Output

// The output folder does not exist: refused before any work, here before ONNX Runtime is
// even looked for (ORT_DYLIB_PATH names nothing), and the folder is not created.
#[test]
fn output_missing_folder() {
    let fx = build(true);
    let missing = fx.dir.path().join("missing-folder");
    let no_lib = fx.dir.path().join("no-such-libonnxruntime.so");
    let o = call_env(
        &fx,
        &fx.fasta,
        &fx.bam,
        &missing.join("calls.vcf.gz"),
        &[],
        &[("ORT_DYLIB_PATH", no_lib.as_os_str())],
    );
    assert_fails(&o, &[INPUT], &["missing-folder"]);
    assert!(
        !missing.exists(),
        "the missing output folder must not be created"
    );
}

// A read-only output folder (a read-only tmpfs: root ignores permission bits).
#[test]
fn output_read_only_folder() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let ro = fx.dir.path().join("ro_out");
    let Some(_mount) = Tmpfs::mount(&ro, "ro,size=1m") else {
        return;
    };
    let o = call(&fx, &fx.bam, &ro.join("calls.vcf.gz"), &[]);
    let last = assert_fails(&o, &[INPUT], &[]);
    assert_names_any(&last, &["ro_out", "calls.vcf.gz"]);
    assert_empty(&ro);
}

// The disk fills up while the VCF is written: an I/O failure (1), and the folder is left empty.
#[test]
fn output_disk_full() {
    if !require_ort() {
        return;
    }
    let fx = build_long(100_000, 50);
    let small = fx.dir.path().join("small");
    let Some(_mount) = Tmpfs::mount(&small, "size=4k") else {
        return;
    };
    let o = call(&fx, &fx.bam, &small.join("calls.vcf.gz"), &[]);
    // The VCF or the stats file beside it, whichever the disk runs out on.
    assert_fails(&o, &[OTHER], &["calls."]);
    assert_empty(&small);
}

// --output naming an input (the BAM, its index, the reference, its index) is refused, and
// the input is byte-identical afterwards (`call` checks every file of the fixture folder).
#[test]
fn output_equal_to_an_input() {
    if !require_ort() {
        return;
    }
    let fx = build(true);
    rust_htslib::faidx::Reader::from_path(&fx.fasta).unwrap(); // writes ref.fa.fai
    let fai = PathBuf::from(format!("{}.fai", fx.fasta.display()));
    assert!(fai.exists());
    for target in [fx.bam.clone(), bai(&fx.bam), fx.fasta.clone(), fai] {
        let o = call(&fx, &fx.bam, &target, &[]);
        let name = target.file_name().unwrap().to_str().unwrap();
        assert_fails(&o, &[INPUT], &[name]);
        assert_no_temporaries(fx.dir.path());
    }
}

// --gvcf naming the VCF, its index or an input is refused before any work, and nothing is
// written; the inputs are untouched (`call` checks).
#[test]
fn gvcf_equal_to_the_vcf_or_an_input() {
    let fx = build(true);
    let out = out_dir(fx.dir.path(), "out");
    let vcf = out.join("calls.vcf.gz");
    let tbi = out.join("calls.vcf.gz.tbi");
    for target in [vcf.clone(), tbi, fx.bam.clone(), fx.fasta.clone()] {
        let o = call(&fx, &fx.bam, &vcf, &["--gvcf", s(&target)]);
        let name = target.file_name().unwrap().to_str().unwrap();
        assert_fails(&o, &[INPUT], &[name]);
        assert_empty(&out);
        assert_no_temporaries(fx.dir.path());
    }
}

// A --gvcf-gq-bands value that is not increasing GQ bounds from 1 to 100 (or a preset name):
// exit 2 quoting it, before any work. Without --gvcf the flag is a usage error (2) too.
#[test]
fn gvcf_gq_bands_malformed() {
    let fx = build(true);
    let out = out_dir(fx.dir.path(), "out");
    let vcf = out.join("calls.vcf.gz");
    let gvcf = out.join("calls.g.vcf.gz");
    for bad in ["0", "101", "20,10", "20,20", "abc", "10,,20", ""] {
        let o = call(
            &fx,
            &fx.bam,
            &vcf,
            &["--gvcf", s(&gvcf), "--gvcf-gq-bands", bad],
        );
        let last = assert_fails(&o, &[INPUT], &["--gvcf-gq-bands"]);
        assert!(last.contains(&format!("'{bad}'")), "{last}");
        assert_empty(&out);
    }
    let o = call(&fx, &fx.bam, &vcf, &["--gvcf-gq-bands", "20,60"]);
    assert_eq!(shell_status(o.status), INPUT);
    assert!(stderr_text(&o).contains("--gvcf"), "{}", stderr_text(&o));
    assert_empty(&out);
}

// --min-alt-reads below 1 (or not a number) is a command-line error, on call and on
// make-examples; a sidecar whose calling.min_alt_reads is not a whole number >= 1 is refused
// naming the sidecar. All before any work.
#[test]
fn min_alt_reads_invalid() {
    let fx = build(true);
    let out = out_dir(fx.dir.path(), "out");
    let vcf = out.join("calls.vcf.gz");
    let o = call(&fx, &fx.bam, &vcf, &["--min-alt-reads", "0"]);
    let last = assert_fails(&o, &[INPUT], &["--min-alt-reads", "'0'"]);
    assert!(
        last.contains("at least 1") || last.contains("1 to"),
        "{last}"
    );
    assert_empty(&out);
    for bad in ["-1", "abc", "1.5"] {
        let arg = format!("--min-alt-reads={bad}");
        let o = call(&fx, &fx.bam, &vcf, &[arg.as_str()]);
        assert_eq!(shell_status(o.status), INPUT, "{bad}: {}", stderr_text(&o));
        assert!(stderr_text(&o).contains("--min-alt-reads"), "{bad}");
        assert!(!stderr_text(&o).contains("panicked"));
        assert_empty(&out);
    }
    let bed = fx.dir.path().join("all.bed");
    std::fs::write(&bed, "chrT\t0\t3000\n").unwrap();
    let truth = fx.dir.path().join("truth.vcf.gz");
    let ex = out.join("examples");
    let o = vs(&[
        "make-examples",
        "--ref",
        s(&fx.fasta),
        "--reads",
        s(&fx.bam),
        "--truth",
        s(&truth),
        "--confident",
        s(&bed),
        "--output",
        s(&ex),
        "--min-alt-reads",
        "0",
    ]);
    assert_fails(&o, &[INPUT], &["--min-alt-reads"]);
    assert_empty(&out);
    let mut side: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(shipped_model().with_extension("json")).unwrap(),
    )
    .unwrap();
    let m = fx.dir.path().join("onealt_bad.onnx");
    std::fs::copy(shipped_model().with_extension("onnx"), &m).unwrap();
    for bad in [
        serde_json::json!(0),
        serde_json::json!(-2),
        serde_json::json!(1.5),
        serde_json::json!("one"),
    ] {
        side["calling"]["min_alt_reads"] = bad.clone();
        std::fs::write(m.with_extension("json"), side.to_string()).unwrap();
        let o = call(&fx, &fx.bam, &vcf, &["--model", s(&m)]);
        assert_fails(&o, &[INPUT], &["onealt_bad.json", "calling.min_alt_reads"]);
        assert_empty(&out);
    }
}

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
    fn signal(signum: i32, handler: usize) -> usize;
}
const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

/// Start a long call, send `sig` once its temporary VCF is in the output folder, and check
/// the status the shell would report (`want`) and that nothing is left.
fn interrupt_mid_run(sig: i32, want: i32) {
    use std::os::unix::process::CommandExt;
    if !require_ort() {
        return;
    }
    let fx = build_long(150_000, 50);
    let out = out_dir(fx.dir.path(), "out");
    let vcf = out.join("calls.vcf.gz");
    let before = Snapshot::of(fx.dir.path());
    let mut cmd = bin();
    cmd.args(["-q", "call", "--ref", s(&fx.fasta), "--reads", s(&fx.bam)])
        .args(["--output", s(&vcf), "--threads", "1", "--batch-size", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // A test run in the background may inherit SIGINT ignored; the child gets the defaults.
    unsafe {
        cmd.pre_exec(|| {
            signal(SIGINT, 0);
            signal(SIGTERM, 0);
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("cannot start varstream");
    let started = Instant::now();
    loop {
        if entries(&out).iter().any(|n| is_temporary(n)) {
            break;
        }
        if let Some(st) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!(
                "the run ended (status {}) before its temporary VCF appeared in {}: {:?}\n{err}",
                shell_status(st),
                out.display(),
                entries(&out)
            );
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("no temporary VCF in {} after 120 s", out.display());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(unsafe { kill(child.id() as i32, sig) }, 0);
    let o = child.wait_with_output().unwrap();
    let err = stderr_text(&o);
    assert!(!err.contains("panicked"), "varstream panicked:\n{err}");
    assert_eq!(
        shell_status(o.status),
        want,
        "status after signal {sig} (the signal arrived {:.2} s into the run); stderr:\n{err}",
        started.elapsed().as_secs_f64()
    );
    assert_empty(&out);
    before.assert_unchanged();
}

#[test]
fn sigterm_mid_run() {
    interrupt_mid_run(SIGTERM, 143);
}

#[test]
fn sigint_mid_run() {
    interrupt_mid_run(SIGINT, 130);
}

// ------------------------------------------------------------------------------------------
// Output policy: outputs are regular files written under a temporary name and renamed into
// place. An existing output that is a FIFO, a device or a symbolic link would be replaced by
// the rename, so it is refused and left as it was; `-` is refused; a name that promises
// another format than a bgzipped VCF is refused.

#[test]
fn outputs_that_are_not_regular_files_are_refused_and_left_alone() {
    let fx = build(true);
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("calls.vcf.gz");
    let st = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(st.success());
    let target = d.path().join("elsewhere.vcf.gz");
    std::fs::write(&target, b"keep").unwrap();
    let link = d.path().join("link.vcf.gz");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for (out, needle) in [
        (fifo.as_path(), "a FIFO"),
        (Path::new("/dev/null"), "a device"),
        (link.as_path(), "a symbolic link"),
    ] {
        let o = call(&fx, &fx.bam, out, &[]);
        assert_fails(&o, &[INPUT], &[needle, "regular file"]);
    }
    use std::os::unix::fs::FileTypeExt as _;
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read(&target).unwrap(), b"keep");
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
    // The report's outputs are checked the same way.
    let prefix = d.path().join("r");
    let mqc = d.path().join("r.report.json");
    std::os::unix::fs::symlink(&target, &mqc).unwrap();
    let vcf = d.path().join("v.vcf");
    std::fs::write(
        &vcf,
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n",
    )
    .unwrap();
    let o = vs(&["report", "--vcf", s(&vcf), "-o", s(&prefix)]);
    assert_fails(&o, &[INPUT], &["r.report.json", "symbolic link"]);
}

#[test]
fn outputs_named_for_another_format_or_stdout_are_refused() {
    let fx = build(true);
    let d = tempfile::tempdir().unwrap();
    for name in ["calls.vcf", "calls.bcf", "calls", "-"] {
        let out = if name == "-" {
            PathBuf::from("-")
        } else {
            d.path().join(name)
        };
        let o = call(&fx, &fx.bam, &out, &[]);
        let needle = if name == "-" {
            "standard output"
        } else {
            ".vcf.gz"
        };
        assert_fails(&o, &[INPUT], &[needle]);
        assert!(!Path::new("-").exists());
    }
    let out = d.path().join("calls.vcf.gz");
    let g = d.path().join("calls.g.vcf");
    let o = call(&fx, &fx.bam, &out, &["--gvcf", s(&g)]);
    assert_fails(&o, &[INPUT], &["--gvcf", ".vcf.gz"]);
    assert_empty(d.path());
}

// Numbers and names that would be clamped or let through are refused where they are parsed
// (clap's usage error, exit 2, naming the flag).
#[test]
fn values_out_of_range_are_refused() {
    let fx = build(true);
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("v.vcf.gz");
    for (flag, value) in [
        ("--min-qual", "nan"),
        ("--min-qual", "inf"),
        ("--min-qual", "-1"),
        ("--min-snv-fraction", "nan"),
        ("--min-snv-fraction", "1.5"),
        ("--min-indel-fraction", "-0.1"),
        ("--max-depth", "0"),
        ("--shard-size", "0"),
        ("--threads", "0"),
        ("--batch-size", "0"),
        ("--sample", "A\tB"),
        ("--sample", "A\n##INFO=<ID=X>"),
        ("--sample", ""),
    ] {
        let arg = format!("{flag}={value}");
        let o = call(&fx, &fx.bam, &out, &[&arg]);
        assert_eq!(shell_status(o.status), INPUT, "{flag} {value:?}");
        let err = stderr_text(&o);
        assert!(
            err.contains(flag) && !err.contains("panicked"),
            "{flag} {value:?}: {err}"
        );
    }
    assert_empty(d.path());
}

// A .fai older than its FASTA (the FASTA edited since) points at other bases: refused, naming
// the index and the command that remakes it.
#[test]
fn reference_index_older_than_its_fasta_is_refused() {
    let fx = build(true);
    let d = tempfile::tempdir().unwrap();
    let fa = d.path().join("ref.fa");
    std::fs::copy(&fx.fasta, &fa).unwrap();
    let fai = d.path().join("ref.fa.fai");
    rust_htslib::faidx::Reader::from_path(&fa).unwrap(); // writes ref.fa.fai
    assert!(fai.is_file());
    let old = std::time::SystemTime::now() - Duration::from_secs(600);
    std::fs::File::options()
        .write(true)
        .open(&fai)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let out = out_dir(d.path(), "out");
    let o = call_env(&fx, &fa, &fx.bam, &out.join("c.vcf.gz"), &[], &[]);
    assert_fails(&o, &[INPUT], &["ref.fa.fai", "older", "samtools faidx"]);
    assert_empty(&out);
}

// Reads aligned to another sequence than the reference: a same-length reference of other
// bases disagrees with the reads at most of their bases, refused with that share (it gave
// thousands of false calls, exit 0). An @SQ M5 that differs from the reference's MD5 is a
// warning naming both (a masked copy of the assembly differs too, harmlessly).
#[test]
fn reference_of_another_sequence_is_refused() {
    use md5::Digest as _;
    if !require_ort() {
        return;
    }
    let fx = build(true);
    let d = tempfile::tempdir().unwrap();
    let contigs = read_fasta(&fx.fasta);
    let md5_of = |seq: &[u8]| -> String {
        md5::Md5::digest(seq.to_ascii_uppercase())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let header = |chr_t_md5: &str| {
        let mut h = String::from("@HD\tVN:1.6\tSO:coordinate\n");
        for (name, seq) in &contigs {
            let m5 = if name == "chrT" {
                chr_t_md5.to_string()
            } else {
                md5_of(seq)
            };
            h.push_str(&format!("@SQ\tSN:{name}\tLN:{}\tM5:{m5}\n", seq.len()));
        }
        h.push_str("@RG\tID:rg1\tSM:FIXTURE\n");
        h
    };
    let records = sam_records(&fx.bam);
    let chr_t = &contigs.iter().find(|c| c.0 == "chrT").unwrap().1;
    // An M5 of another sequence over the right reference: a warning, and the calls as ever.
    let other_m5 = d.path().join("other_m5.bam");
    let mut edited = chr_t.clone();
    edited[1500] = if edited[1500] == b'A' { b'C' } else { b'A' };
    write_alignments(&other_m5, &header(&md5_of(&edited)), records.clone(), None);
    let out = out_dir(d.path(), "out");
    let o = call(&fx, &other_m5, &out.join("m5.vcf.gz"), &[]);
    assert_ok(&o);
    let err = stderr_text(&o);
    assert!(err.contains("contig chrT") && err.contains("M5"), "{err}");
    let plain = call(&fx, &fx.bam, &out.join("plain.vcf.gz"), &[]);
    assert_ok(&plain);
    assert_eq!(
        vcf_body(&out.join("m5.vcf.gz")),
        vcf_body(&out.join("plain.vcf.gz"))
    );
    // A same-length reference of other bases: refused, nothing written.
    let wrong_dir = out_dir(d.path(), "wrong_ref");
    let wrong_fa = wrong_dir.join("other.fa");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(99);
    let others: Vec<(String, Vec<u8>)> = contigs
        .iter()
        .map(|(n, seq)| (n.clone(), random_seq(&mut rng, seq.len())))
        .collect();
    let refs: Vec<(&str, &[u8])> = others.iter().map(|(n, s)| (n.as_str(), &s[..])).collect();
    write_fasta(&wrong_fa, &refs);
    let out2 = out_dir(d.path(), "out2");
    let o = call_env(&fx, &wrong_fa, &fx.bam, &out2.join("w.vcf.gz"), &[], &[]);
    assert_fails(
        &o,
        &[INPUT],
        &["disagrees with reference", "other.fa", "aligned to another"],
    );
    assert_empty(&out2);
}
