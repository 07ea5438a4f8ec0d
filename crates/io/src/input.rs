//! Reading inputs: the one place that opens VCF/BCF and text (BED, TSV, plain or gzip) files.
//!
//! Before htslib or a parser sees a file, it is checked to be whole by its structure: a
//! bgzipped file must end with the BGZF end-of-file block, and a plain gzip file must
//! decompress to its trailer, whose CRC-32 and length must match. A file cut by an
//! interrupted copy or a full disk is then an error naming the file (exit 2), never a result
//! over part of it. A final newline is not required: many tools end text without one (the PGS
//! Catalog's harmonized files among them), so a plain-text file cut at a line's end cannot be
//! told from a whole one, and each parser refuses a last line that misses columns. A VCF's header
//! is checked to have been read (htslib returns none for a malformed one, which rust-htslib
//! does not check and which would crash later).
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use anyhow::Result;
use rust_htslib::bcf;

use crate::errors::input_error;
use crate::output::BGZF_EOF;

/// How a file is compressed, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    Plain,
    /// BGZF (bgzip, htslib): gzip members with a `BC` extra field, ending in an empty block.
    Bgzf,
    /// Ordinary gzip.
    Gzip,
    /// Binary BCF/BAM inside BGZF is reported as [`Compression::Bgzf`]; this is anything else
    /// that is not text (e.g. zstd, or uncompressed BCF).
    Binary,
}

/// Open `path` for reading, naming it when it is missing or unreadable.
fn open_file(path: &Path, what: &str) -> Result<std::fs::File> {
    if path.is_dir() {
        return Err(input_error(format!(
            "{what} {} is a folder",
            path.display()
        )));
    }
    std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            input_error(format!("{what} {} does not exist", path.display()))
        }
        _ => input_error(format!("cannot open {what} {}: {e}", path.display())),
    })
}

/// Sniff the compression of an open file (its position is reset to the start).
fn sniff(f: &mut std::fs::File) -> std::io::Result<Compression> {
    let mut head = [0u8; 18];
    let n = read_up_to(f, &mut head)?;
    f.seek(SeekFrom::Start(0))?;
    let head = &head[..n];
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        // FLG.FEXTRA with a BC subfield marks BGZF.
        if n >= 16 && head[3] & 4 != 0 && head[12] == b'B' && head[13] == b'C' {
            Compression::Bgzf
        } else {
            Compression::Gzip
        }
    } else if head.iter().any(|&b| b == 0) {
        Compression::Binary
    } else {
        Compression::Plain
    })
}

fn read_up_to(f: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Check that `path` is whole (see the module doc) and say how it is compressed.
pub fn check_complete(path: &Path, what: &str) -> Result<Compression> {
    let mut f = open_file(path, what)?;
    let cut = |why: &str| {
        input_error(format!(
            "{what} {} is truncated or corrupt ({why}); was it copied or written completely?",
            path.display()
        ))
    };
    let io = |e: std::io::Error| input_error(format!("cannot read {what} {}: {e}", path.display()));
    let len = f.metadata().map_err(io)?.len();
    if len == 0 {
        return Err(input_error(format!("{what} {} is empty", path.display())));
    }
    let kind = sniff(&mut f).map_err(io)?;
    match kind {
        Compression::Bgzf => {
            let mut tail = [0u8; 28];
            if len < 28 {
                return Err(cut("shorter than one BGZF block"));
            }
            f.seek(SeekFrom::End(-28)).map_err(io)?;
            f.read_exact(&mut tail).map_err(io)?;
            if tail != BGZF_EOF {
                return Err(cut("no BGZF end-of-file block"));
            }
        }
        Compression::Gzip => {
            // Whole-stream check: plain gzip has no index and is small in practice.
            // flate2 checks each member's CRC-32 and length against its trailer, and a stream
            // cut short ends in an error, not in a short read.
            let mut d = flate2::read::MultiGzDecoder::new(BufReader::new(f));
            std::io::copy(&mut d, &mut std::io::sink()).map_err(|e| cut(&e.to_string()))?;
        }
        Compression::Plain => {}
        Compression::Binary => {}
    }
    Ok(kind)
}

/// Open a whole text file (plain, gzip or bgzip) as lines.
pub fn open_text(path: &Path, what: &str) -> Result<Box<dyn BufRead>> {
    let kind = check_complete(path, what)?;
    let f = open_file(path, what)?;
    Ok(match kind {
        // MultiGzDecoder: bgzip output is many concatenated gzip members.
        Compression::Bgzf | Compression::Gzip => {
            Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(f)))
        }
        Compression::Plain => Box::new(BufReader::new(f)),
        Compression::Binary => {
            return Err(input_error(format!(
                "{what} {} is not a text file (nor gzip-compressed text)",
                path.display()
            )))
        }
    })
}

/// Refuse a VCF reader whose header htslib could not read.
fn check_header(reader: &bcf::Reader, path: &Path) -> Result<()> {
    // SAFETY: only the pointer value is read.
    if unsafe { bcf::Read::header(reader).as_ptr() }.is_null() {
        return Err(input_error(format!(
            "{}: not a VCF/BCF, or its header cannot be read (it needs ##fileformat and #CHROM \
             lines)",
            path.display()
        )));
    }
    Ok(())
}

/// A plain-text VCF must end with a newline. Unlike the other texts read here (scoring files,
/// BED, TSV), a VCF cut inside its last field (a depth `25` cut to `2`) keeps every column and
/// cannot be told from a whole one, and every tool that writes VCF ends its lines; compressed
/// VCFs are judged by their structure instead.
fn check_vcf_final_newline(path: &Path) -> Result<()> {
    let mut f = open_file(path, "VCF")?;
    let io = |e: std::io::Error| input_error(format!("cannot read VCF {}: {e}", path.display()));
    let mut last = [0u8; 1];
    f.seek(SeekFrom::End(-1)).map_err(io)?;
    f.read_exact(&mut last).map_err(io)?;
    if last[0] != b'\n' {
        return Err(input_error(format!(
            "VCF {} does not end with a newline, so its last record may be cut short; if the \
             file is whole, end it with a newline (`echo >> {}`)",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

/// Check that a VCF (plain, gzip or bgzip) is whole: [`check_complete`], and for plain text
/// a final newline.
pub fn check_vcf_complete(path: &Path) -> Result<Compression> {
    let kind = check_complete(path, "VCF")?;
    if kind == Compression::Plain {
        check_vcf_final_newline(path)?;
    }
    Ok(kind)
}

/// Open a whole VCF or BCF (plain, gzip or bgzip; no index needed).
pub fn open_vcf(path: &Path) -> Result<bcf::Reader> {
    check_vcf_complete(path)?;
    let reader = bcf::Reader::from_path(path).map_err(|e| {
        input_error(format!(
            "{}: not a VCF/BCF, or its header cannot be read ({e})",
            path.display()
        ))
    })?;
    check_header(&reader, path)?;
    Ok(reader)
}

/// Open a whole, indexed VCF/BCF for region queries.
pub fn open_indexed_vcf(path: &Path) -> Result<bcf::IndexedReader> {
    check_complete(path, "VCF")?;
    let reader = bcf::IndexedReader::from_path(path).map_err(|e| {
        input_error(format!(
            "cannot open indexed VCF {} (index it with `tabix -p vcf {}`): {e}",
            path.display(),
            path.display()
        ))
    })?;
    // SAFETY: only the pointer value is read.
    if unsafe { bcf::Read::header(&reader).as_ptr() }.is_null() {
        return Err(input_error(format!(
            "{}: not a VCF/BCF, or its header cannot be read",
            path.display()
        )));
    }
    Ok(reader)
}

/// A record-read error from htslib, with the file and the record number.
pub fn record_error(path: &Path, record: u64, e: impl std::fmt::Display) -> anyhow::Error {
    input_error(format!(
        "{}: cannot parse record {record}: {e}",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn bgzip(text: &str) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.gz");
        let mut w = rust_htslib::bgzf::Writer::from_path(&p).unwrap();
        w.write_all(text.as_bytes()).unwrap();
        drop(w);
        std::fs::read(&p).unwrap()
    }

    const VCF: &str = "##fileformat=VCFv4.2\n##contig=<ID=c,length=100>\n\
        #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n\
        c\t5\t.\tA\tC\t10\tPASS\t.\tGT\t0/1\nc\t9\t.\tG\tT\t10\tPASS\t.\tGT\t1/1\n";

    #[test]
    fn test_every_cut_of_a_vcf_is_refused_or_whole() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = bgzip(VCF);
        for cut in 1..bytes.len() {
            let p = dir.path().join("cut.vcf.gz");
            std::fs::write(&p, &bytes[..cut]).unwrap();
            let e = open_vcf(&p).map(|_| ()).unwrap_err();
            assert!(crate::errors::is_input(&e), "cut {cut}: {e:#}");
            assert!(format!("{e:#}").contains("cut.vcf.gz"), "cut {cut}: {e:#}");
        }
        let text = VCF.as_bytes();
        for cut in 1..text.len() {
            let p = dir.path().join("cut.vcf");
            std::fs::write(&p, &text[..cut]).unwrap();
            let r = open_vcf(&p);
            // A cut just after a newline is a shorter, valid-looking file; anything else fails.
            if text[cut - 1] != b'\n' {
                assert!(r.is_err(), "plain cut {cut} accepted");
            }
        }
        let p = dir.path().join("ok.vcf.gz");
        std::fs::write(&p, &bytes).unwrap();
        open_vcf(&p).unwrap();
    }

    #[test]
    fn test_headerless_vcf_is_an_input_error_not_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("h.vcf");
        std::fs::write(&p, "c\t5\t.\tA\tC\t10\tPASS\t.\n").unwrap();
        let e = open_vcf(&p).map(|_| ()).unwrap_err();
        assert!(crate::errors::is_input(&e), "{e:#}");
    }

    #[test]
    fn test_text_checks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.bed");
        // No final newline: whole as far as the file can tell (the BED parser refuses a last
        // line short of columns).
        std::fs::write(&p, "c\t1\t5\nc\t9").unwrap();
        assert!(open_text(&p, "BED").is_ok());
        std::fs::write(&p, "").unwrap();
        assert!(format!("{:#}", open_text(&p, "BED").err().unwrap()).contains("empty"));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"c\t1\t5\n").unwrap();
        let full = gz.finish().unwrap();
        std::fs::write(&p, &full[..full.len() - 4]).unwrap();
        assert!(open_text(&p, "BED").is_err());
        // A complete gzip stream of text without a final newline is whole; one whose CRC-32
        // does not match its data is not.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"c\t1\t5\nc\t7\t9").unwrap();
        let mut no_newline = gz.finish().unwrap();
        std::fs::write(&p, &no_newline).unwrap();
        assert!(open_text(&p, "BED").is_ok());
        let crc_at = no_newline.len() - 8;
        no_newline[crc_at] ^= 0xff;
        std::fs::write(&p, &no_newline).unwrap();
        assert!(open_text(&p, "BED").is_err());
        std::fs::write(&p, &full).unwrap();
        let mut s = String::new();
        open_text(&p, "BED")
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "c\t1\t5\n");
    }
}
