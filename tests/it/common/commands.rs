//! Running the binary the way every test module does, and reading the VCFs it writes.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::*;

/// The caller binary built by cargo for these tests.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_varstream"))
}

/// Run the binary, returning its output.
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("cannot start varstream")
}

/// `varstream call --ref FASTA --reads READS --output OUT EXTRA...`, returning the run's output
/// (the one command helper the test modules share; each adapts it to its fixture).
pub fn call_with(fasta: &Path, reads: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "call",
        "--ref",
        fasta.to_str().unwrap(),
        "--reads",
        reads.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// [`call_with`] on a fixture's reference, writing `OUT` in the fixture's folder: the output
/// and the VCF's path.
pub fn call_fixture(fx: &Fixture, reads: &Path, out: &str, extra: &[&str]) -> (Output, PathBuf) {
    let vcf = fx.dir.path().join(out);
    (call_with(&fx.fasta, reads, &vcf, extra), vcf)
}

/// Is ONNX Runtime (and so calling) available? Tests that call print why they skip.
pub fn have_ort() -> bool {
    match varstream::inference::locate_onnxruntime() {
        Ok(_) => true,
        Err(e) => {
            eprintln!("SKIP: {e:#} (run `make setup`)");
            false
        }
    }
}

/// The lines of a bgzipped VCF.
fn vcf_lines(path: &Path) -> Vec<String> {
    use std::io::Read;
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    s.lines().map(str::to_string).collect()
}

/// A VCF header as tests need it: `##fileformat=VCFv4.2`, a `##contig` per `(name, length)`
/// (length 0: none given), a `##FORMAT` line per field of `format` (GT, GQ, DP, AD, VAF, PL),
/// `##INFO` for `info` (DP), and the header row with `samples` (no FORMAT column when there
/// are none).
pub fn vcf_head(
    contigs: &[(&str, u64)],
    info: &[&str],
    format: &[&str],
    samples: &[&str],
) -> String {
    let mut h = String::from("##fileformat=VCFv4.2\n");
    for (name, len) in contigs {
        match len {
            0 => h.push_str(&format!("##contig=<ID={name}>\n")),
            n => h.push_str(&format!("##contig=<ID={name},length={n}>\n")),
        }
    }
    let line = |kind: &str, id: &str| -> String {
        let (number, ty, what) = match id {
            "GT" => ("1", "String", "Genotype"),
            "GQ" => ("1", "Integer", "Genotype quality"),
            "DP" => ("1", "Integer", "Depth"),
            "AD" => ("R", "Integer", "Allele depths"),
            "VAF" => ("A", "Float", "ALT fraction"),
            "PL" => ("G", "Integer", "Phred-scaled genotype likelihoods"),
            other => panic!("vcf_head: no definition for {other}"),
        };
        format!("##{kind}=<ID={id},Number={number},Type={ty},Description=\"{what}\">\n")
    };
    info.iter().for_each(|id| h.push_str(&line("INFO", id)));
    format.iter().for_each(|id| h.push_str(&line("FORMAT", id)));
    h.push_str("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO");
    if !samples.is_empty() {
        h.push_str("\tFORMAT\t");
        h.push_str(&samples.join("\t"));
    }
    h.push('\n');
    h
}

/// Body of a bgzipped VCF (lines not starting with '#').
pub fn vcf_body(path: &Path) -> Vec<String> {
    vcf_lines(path)
        .into_iter()
        .filter(|l| !l.starts_with('#'))
        .collect()
}

/// Header lines of a bgzipped VCF (those starting with '#').
pub fn vcf_header(path: &Path) -> Vec<String> {
    vcf_lines(path)
        .into_iter()
        .filter(|l| l.starts_with('#'))
        .collect()
}
