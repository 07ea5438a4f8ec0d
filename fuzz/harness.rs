//! Fuzz harness bodies: one function per parser varstream owns, taking the raw input bytes.
//!
//! Shared by the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`, nightly, sanitizer) and by
//! `tests/it/fuzz_corpus.rs`, which replays every committed corpus file through the same
//! functions on the stable toolchain. A harness returns normally whatever the input: parsers
//! must answer bad input with an error, never a panic, abort or crash.
//!
//! Parsers that take a path get the bytes in a scratch file under `/dev/shm` (else the
//! system temp dir), one folder per process and thread. Where a target has several modes, the
//! first input byte chooses the mode and the rest is the payload.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rust_htslib::bam;

/// Every target: (name, harness). The fuzz targets and the corpus folders use these names.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("regions", regions),
    ("pgs_file", pgs_file),
    ("prs_reference", prs_reference),
    ("expression", expression),
    ("model_sidecar", model_sidecar),
    ("effects_sidecar", effects_sidecar),
    ("targets", targets),
    ("vcf_genotypes", vcf_genotypes),
    ("report", report),
    ("eval_calls", eval_calls),
    ("bam_record", bam_record),
];

static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SCRATCH: PathBuf = {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!(
            "varstream-fuzz-{}-{}",
            std::process::id(),
            NEXT_THREAD.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("cannot create fuzz scratch folder");
        dir
    };
    /// The reference `eval_calls` normalises against, built once per thread.
    static EVAL_REF: varstream::reference::Reference = {
        let fa = scratch("eval_ref.fa");
        let mut text = String::new();
        for (name, seq) in ref_contigs() {
            text.push_str(&format!(">{name}\n"));
            for line in seq.chunks(60) {
                text.push_str(std::str::from_utf8(line).unwrap());
                text.push('\n');
            }
        }
        std::fs::write(&fa, text).expect("cannot write the fuzz reference");
        varstream::reference::Reference::open(&fa).expect("cannot open the fuzz reference")
    };
}

/// A file named `name` in this thread's scratch folder.
pub fn scratch(name: &str) -> PathBuf {
    SCRATCH.with(|d| d.join(name))
}

/// Remove this thread's scratch folder (the corpus test calls this when done).
pub fn remove_scratch() {
    SCRATCH.with(|d| {
        let _ = std::fs::remove_dir_all(d);
    });
}

fn write_scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let p = scratch(name);
    std::fs::write(&p, bytes).expect("cannot write fuzz scratch file");
    p
}

fn quiet_htslib() {
    // htslib reports every malformed line on stderr; that only slows fuzzing down.
    unsafe { rust_htslib::htslib::hts_set_log_level(rust_htslib::htslib::htsLogLevel_HTS_LOG_OFF) };
}

/// First byte (mode) and the rest.
fn split_mode(data: &[u8]) -> (u8, &[u8]) {
    match data.split_first() {
        Some((m, rest)) => (*m, rest),
        None => (0, data),
    }
}

/// A fixed pseudo-random sequence.
fn random_seq(seed: u64, n: usize) -> Vec<u8> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            b"ACGT"[(s >> 62) as usize]
        })
        .collect()
}

/// Contigs of the fixed reference: the names the test fixtures use, with repeats at the
/// start so indels have somewhere to shift.
fn ref_contigs() -> Vec<(&'static str, Vec<u8>)> {
    let mut t = b"ACACACACAAAAAAAAGTGTGTTTTTCAGCAGCAG".to_vec();
    t.extend(random_seq(7, 3000 - t.len()));
    vec![
        ("chrT", t),
        ("chrU", random_seq(8, 600)),
        ("chr1", random_seq(1, 1000)),
        ("1", random_seq(1, 1000)),
        ("2", random_seq(2, 1000)),
        ("11", random_seq(11, 1000)),
        ("chr20", random_seq(20, 1000)),
    ]
}

/// gzip (one member), as `gzip` writes it.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// BGZF, as `bgzip` writes it: blocks of up to 64 KiB of input, then the EOF block.
pub fn bgzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in data.chunks(0xff00) {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(chunk).unwrap();
        let cdata = e.finish().unwrap();
        let bsize = (18 + cdata.len() + 8 - 1) as u16;
        out.extend_from_slice(&[31, 139, 8, 4, 0, 0, 0, 0, 0, 255, 6, 0, b'B', b'C', 2, 0]);
        out.extend_from_slice(&bsize.to_le_bytes());
        out.extend_from_slice(&cdata);
        let mut crc = flate2::Crc::new();
        crc.update(chunk);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&(chunk.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(&BGZF_EOF);
    out
}

/// The empty block that ends every BGZF file.
pub const BGZF_EOF: [u8; 28] = [
    31, 139, 8, 4, 0, 0, 0, 0, 0, 255, 6, 0, 66, 67, 2, 0, 27, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// Contigs the region resolver may call.
fn callable() -> Vec<(String, u64)> {
    vec![
        ("chrT".into(), 3000),
        ("chrU".into(), 600),
        ("1".into(), 1000),
    ]
}

/// `regions::parse_region` and `regions::read_bed`, then what `call` does with them
/// (`resolve` against fixed contigs and `shard`).
/// Mode 0: region strings, one a line; 1: BED text; 2: the bytes as `.bed.gz`.
pub fn regions(data: &[u8]) {
    use varstream::regions;
    let (mode, rest) = split_mode(data);
    let callable = callable();
    match mode % 3 {
        0 => {
            let text = String::from_utf8_lossy(rest);
            let lines: Vec<String> = text.lines().take(16).map(str::to_string).collect();
            for l in &lines {
                let _ = regions::parse_region(l);
            }
            if let Ok(iv) = regions::resolve(&lines, None, &callable) {
                let _ = regions::shard(&iv, 97);
            }
        }
        m => {
            let bed = if m == 1 {
                write_scratch("r.bed", rest)
            } else {
                write_scratch("r.bed.gz", rest)
            };
            if let Ok(ivs) = regions::read_bed(&bed) {
                let order: Vec<String> = callable.iter().map(|c| c.0.clone()).collect();
                let _ = regions::merge(ivs, &order);
            }
            if let Ok(iv) = regions::resolve(&["chrT:5-2500".to_string()], Some(&bed), &callable) {
                let _ = regions::shard(&iv, 97);
            }
        }
    }
}

/// `scores::pgs_file::ScoringFile::read` (plain or gzip, sniffed from the bytes).
pub fn pgs_file(data: &[u8]) {
    let p = write_scratch("PGS_fuzz.txt", data);
    let _ = varstream::scores::pgs_file::ScoringFile::read(&p);
}

/// `scores::prs::ReferenceDistributions::read`.
pub fn prs_reference(data: &[u8]) {
    let p = write_scratch("reference.tsv", data);
    let _ = varstream::scores::prs::ReferenceDistributions::read(&p);
}

/// `scores::expression::Model::read` and `parse_var_id`.
/// Mode 0: the bytes are the SQLite file. Mode 1: a PredictDB made from text: the first line
/// names the `extra` columns (comma-separated), each further line is a tab-separated row of
/// `weights` (or of `extra` when it starts with `extra\t`); fields that parse as integers or
/// floats are stored as such, `NULL` as NULL. Mode 2: the text as one varID.
pub fn expression(data: &[u8]) {
    use varstream::scores::expression::{parse_var_id, Model};
    let (mode, rest) = split_mode(data);
    let db = scratch("Fuzz_Tissue.db");
    match mode % 3 {
        0 => {
            std::fs::write(&db, rest).unwrap();
        }
        1 => {
            let _ = std::fs::remove_file(&db);
            if make_db(&db, &String::from_utf8_lossy(rest)).is_err() {
                return;
            }
        }
        _ => {
            let _ = parse_var_id(&String::from_utf8_lossy(rest));
            return;
        }
    }
    if let Ok(m) = Model::read(&db) {
        for w in &m.weights {
            let _ = parse_var_id(&w.var_id);
        }
    }
}

fn make_db(path: &Path, text: &str) -> rusqlite::Result<()> {
    use rusqlite::types::Value;
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let value = |s: &str| -> Value {
        if s == "NULL" {
            Value::Null
        } else if let Ok(i) = s.parse::<i64>() {
            Value::Integer(i)
        } else if let Ok(f) = s.parse::<f64>() {
            Value::Real(f)
        } else {
            Value::Text(s.to_string())
        }
    };
    let db = rusqlite::Connection::open(path)?;
    let mut lines = text.lines();
    let extra_cols: Vec<String> = lines
        .next()
        .unwrap_or("")
        .split(',')
        .filter(|c| !c.is_empty())
        .take(8)
        .map(str::to_string)
        .collect();
    db.execute_batch("CREATE TABLE weights (gene, rsid, varID, ref_allele, eff_allele, weight);")?;
    if !extra_cols.is_empty() {
        let cols: Vec<String> = extra_cols.iter().map(|c| quote(c)).collect();
        db.execute_batch(&format!("CREATE TABLE extra ({});", cols.join(", ")))?;
    }
    for line in lines.take(64) {
        let (table, n, fields) = match line.strip_prefix("extra\t") {
            Some(r) if !extra_cols.is_empty() => ("extra", extra_cols.len(), r),
            Some(_) => continue,
            None => ("weights", 6, line),
        };
        let mut vals: Vec<Value> = fields.split('\t').take(n).map(value).collect();
        vals.resize(n, Value::Null);
        let marks = vec!["?"; n].join(", ");
        db.execute(
            &format!("INSERT INTO {table} VALUES ({marks})"),
            rusqlite::params_from_iter(vals),
        )?;
    }
    Ok(())
}

/// `model::load_info` (sidecar JSON beside a fixed ONNX file) and `model::check_tensor_spec`.
pub fn model_sidecar(data: &[u8]) {
    let onnx = scratch("fuzz_model.onnx");
    if !onnx.exists() {
        std::fs::write(&onnx, b"not really onnx").unwrap();
    }
    write_scratch("fuzz_model.json", data);
    let _ = varstream::model::load_info(&onnx);
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = varstream::model::check_tensor_spec(&v);
        let _ = varstream::model::check_tensor_spec(&v["tensor"]);
    }
}

/// `scores::effects::Sidecar::read`, then encoding a window with it.
pub fn effects_sidecar(data: &[u8]) {
    let p = write_scratch("effects_sidecar.json", data);
    if let Ok(sc) = varstream::scores::effects::Sidecar::read(&p) {
        let mut out = Vec::new();
        sc.encode(b"ACGTNacgtn", &mut out);
    }
}

/// `scores::targets::read_targets`, then indexing the targets as `score effects` does.
/// The mode picks the file name, which picks the format: BED, GTF, GFF3, gzipped BED or GTF
/// (gzip is sniffed from the bytes).
pub fn targets(data: &[u8]) {
    use varstream::scores::targets::{read_targets, TargetIndex};
    let (mode, rest) = split_mode(data);
    let name = ["t.bed", "t.gtf", "t.gff3", "t.bed.gz", "t.gtf.gz"][mode as usize % 5];
    let p = write_scratch(name, rest);
    if let Ok(t) = read_targets(&p) {
        let idx = TargetIndex::new(&t);
        for pos in [0, 99, 1_000_000] {
            let _ = idx.covering(&t, &t[0].chrom, pos, 1000);
        }
    }
}

/// A VCF file for the VCF targets. Mode 0: the bytes as they are (plain, gzip, bgzip or BCF);
/// 1: the bytes bgzipped; 2: the bytes bgzipped, then cut at a point chosen by the last
/// payload byte (a truncated download or an interrupted write).
fn vcf_input(mode: u8, rest: &[u8], name: &str) -> PathBuf {
    let bytes = match mode % 3 {
        0 => rest.to_vec(),
        1 => bgzip(rest),
        _ => {
            let (cut, text) = rest.split_last().map(|(c, t)| (*c, t)).unwrap_or((0, rest));
            let mut b = bgzip(text);
            b.truncate(b.len() * cut as usize / 256);
            b
        }
    };
    write_scratch(name, &bytes)
}

/// `scores::vcf_genotypes::for_each_site` (the reader of `score prs|expression|effects`).
pub fn vcf_genotypes(data: &[u8]) {
    quiet_htslib();
    let (mode, rest) = split_mode(data);
    let p = vcf_input(mode, rest, "g.vcf.gz");
    let _ = varstream::scores::vcf_genotypes::for_each_site(&p, |site| {
        for a in 1..site.alleles.len() {
            let _ = site.variant_id(a);
            for g in &site.gts {
                let _ = varstream::scores::vcf_genotypes::allele_count(*g, a);
            }
        }
        Ok(())
    });
}

/// `report::build` on a VCF, then writing the JSON, HTML and MultiQC files; mode 3 (of 4)
/// reads the bytes as a score table with `report::read_table` instead.
pub fn report(data: &[u8]) {
    quiet_htslib();
    let (mode, rest) = split_mode(data);
    if mode % 4 == 3 {
        let p = write_scratch("s.prs.tsv", rest);
        let _ = varstream::report::read_table(&p, "S1");
        return;
    }
    let vcf = vcf_input(mode % 4, rest, "r.vcf.gz");
    let inputs = varstream::report::ReportInputs {
        vcf,
        ..Default::default()
    };
    if let Ok(r) = varstream::report::build(&inputs) {
        let _ = varstream::report::write(&r, &scratch("report"));
    }
}

/// `eval::load_calls` against a fixed reference, over the whole of every contig.
pub fn eval_calls(data: &[u8]) {
    quiet_htslib();
    let (mode, rest) = split_mode(data);
    let p = vcf_input(mode, rest, "e.vcf.gz");
    let within: Vec<varstream::regions::Interval> = ref_contigs()
        .into_iter()
        .map(|(c, s)| varstream::regions::Interval {
            contig: c.to_string(),
            start: 0,
            end: s.len() as u64,
        })
        .collect();
    EVAL_REF.with(|r| {
        let _ = varstream::eval::load_calls(&p, r, &within, None);
    });
}

const SAM_HEADER: &str = "@HD\tVN:1.6\tSO:coordinate\n@SQ\tSN:chrT\tLN:3000\n@SQ\tSN:chrU\tLN:600\n@RG\tID:rg1\tSM:FUZZ\n";

/// A record parsed from one SAM line by htslib's `sam_parse1`, as `Record::from_sam` does,
/// but with the string length htslib expects. rust-htslib's `from_sam` counts the closing
/// NUL in the length, which lets htslib's SEQ/QUAL length check read one byte past the
/// buffer (ASan: heap-buffer-overflow in sam_parse1), and unwraps the line as UTF-8 when
/// parsing fails. varstream itself never parses SAM text this way (tests/common builds its
/// fixtures with `from_sam` from well-formed lines).
fn sam_record(view: &bam::HeaderView, line: &[u8]) -> Option<bam::Record> {
    use rust_htslib::htslib;
    let mut text = line.to_vec();
    text.push(0);
    let mut ks = htslib::kstring_t {
        l: text.len() - 1,
        m: text.len(),
        s: text.as_mut_ptr() as *mut std::os::raw::c_char,
    };
    let mut rec = bam::Record::new();
    // SAFETY: `ks` is a NUL-terminated buffer of `m` bytes holding `l` bytes of text; htslib
    // parses it into `rec` against the header.
    let ok = unsafe {
        htslib::sam_parse1(
            &mut ks,
            view.inner_ptr() as *mut htslib::bam_hdr_t,
            rec.inner_mut(),
        )
    } == 0;
    ok.then_some(rec)
}

/// At most this many records are taken from one input.
const MAX_RECORDS: usize = 256;

/// BAM records through the read stage: `reads::from_record`, then `reads::left_align`
/// against the fixed reference. Mode 0: SAM text lines against a fixed header (htslib's
/// `sam_parse1`, see [`sam_record`]); 1: the bytes are the records of an uncompressed BAM
/// file with that header (what htslib's BAM decoder accepts), read as `ReadSource::fetch`
/// reads them.
pub fn bam_record(data: &[u8]) {
    quiet_htslib();
    let (mode, rest) = split_mode(data);
    let contigs = ref_contigs();
    let through_read_stage = |rec: &bam::Record| {
        if let Ok(Ok(mut read)) = varstream::reads::from_record(rec) {
            let seq = match rec.tid() {
                1 => &contigs[1].1,
                _ => &contigs[0].1,
            };
            varstream::reads::left_align(&mut read, seq, 0);
        }
    };
    if mode % 2 == 0 {
        let view = bam::HeaderView::from_bytes(SAM_HEADER.as_bytes());
        for line in rest.split(|&b| b == b'\n').take(MAX_RECORDS) {
            if let Some(rec) = sam_record(&view, line) {
                through_read_stage(&rec);
            }
        }
    } else {
        let mut b = b"BAM\x01".to_vec();
        b.extend_from_slice(&(SAM_HEADER.len() as i32).to_le_bytes());
        b.extend_from_slice(SAM_HEADER.as_bytes());
        b.extend_from_slice(&2i32.to_le_bytes());
        for (name, len) in [("chrT", 3000i32), ("chrU", 600)] {
            b.extend_from_slice(&(name.len() as i32 + 1).to_le_bytes());
            b.extend_from_slice(name.as_bytes());
            b.push(0);
            b.extend_from_slice(&len.to_le_bytes());
        }
        b.extend_from_slice(rest);
        let p = write_scratch("reads.bam", &b);
        let Ok(mut reader) = bam::Reader::from_path(&p) else {
            return;
        };
        let mut rec = bam::Record::new();
        for _ in 0..MAX_RECORDS {
            // As ReadSource::fetch reads them.
            match varstream::reads::read_record(&mut reader, &mut rec) {
                Ok(true) => through_read_stage(&rec),
                _ => break,
            }
        }
    }
}
