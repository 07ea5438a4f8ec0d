//! Genotypes from any VCF/BCF (plain, gzip or bgzip; no index needed), as allele counts.
//!
//! Only `GT` is read: the scores the field quotes (pgsc_calc via plink2, PrediXcan on called
//! genotypes) count called alleles, so a caller's `DS`/`GP` would make our numbers disagree.
use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use rust_htslib::bcf::{self, record::GenotypeAllele, Read};

use crate::contig_names::chrom_key;

/// One sample's called genotype, or `None` when not called (`./.`, and half-calls such as `./1`).
pub type Gt = Option<Call>;

/// The allele indices (0 = REF) of a called genotype: two for a diploid call, one for a
/// haploid one. A haploid `1` is one copy of ALT 1, the rule make-examples and eval also
/// follow, so a male chrX call adds one copy to a score, not two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    alleles: [u16; 2],
    ploidy: u8,
}

impl Call {
    pub fn diploid(a: u16, b: u16) -> Call {
        Call {
            alleles: [a, b],
            ploidy: 2,
        }
    }

    pub fn haploid(a: u16) -> Call {
        Call {
            alleles: [a, 0],
            ploidy: 1,
        }
    }

    /// The called allele indices, one per chromosome copy.
    pub fn alleles(&self) -> &[u16] {
        &self.alleles[..self.ploidy as usize]
    }

    pub fn is_haploid(&self) -> bool {
        self.ploidy == 1
    }

    /// Copies of allele `allele`.
    pub fn count(&self, allele: usize) -> usize {
        self.alleles()
            .iter()
            .filter(|&&a| a as usize == allele)
            .count()
    }
}

/// A VCF record reduced to what scoring needs.
#[derive(Debug, Clone)]
pub struct GenotypedSite {
    /// Chromosome as spelled in the VCF.
    pub chrom: String,
    /// 1-based position.
    pub pos: u64,
    /// The ID column (`.` when absent).
    pub id: String,
    /// REF then each ALT, upper-cased.
    pub alleles: Vec<String>,
    /// One genotype per sample, in header order.
    pub gts: Vec<Gt>,
    /// 1-based last position the record covers: `INFO/END` for a gVCF reference block, else
    /// the last base of REF.
    pub end: u64,
}

/// gVCF's placeholder for "any allele not listed" (`<*>` from bcftools, `<NON_REF>` from GATK
/// and DeepVariant): not an allele a sample can be said to carry.
pub fn is_non_ref_placeholder(allele: &[u8]) -> bool {
    allele == b"<*>" || allele.eq_ignore_ascii_case(b"<NON_REF>")
}

impl GenotypedSite {
    /// Whether the record lists more than one ALT allele, not counting a gVCF's `<*>` or
    /// `<NON_REF>` (GATK writes every variant `A,<NON_REF>`).
    pub fn is_multiallelic(&self) -> bool {
        self.real_alts() > 1
    }

    /// ALT alleles other than gVCF placeholders.
    pub fn real_alts(&self) -> usize {
        self.alleles
            .iter()
            .skip(1)
            .filter(|a| !is_non_ref_placeholder(a.as_bytes()))
            .count()
    }

    /// A record that states the reference allele only: ALT `.` (bcftools `convert
    /// --gvcf2vcf`, GATK `--include-non-variant-sites`) or only `<*>`/`<NON_REF>` (a gVCF
    /// reference block). A sample's `0/0` there is a hom-ref genotype, not a missing one.
    pub fn is_reference_only(&self) -> bool {
        self.real_alts() == 0
    }

    /// A gVCF reference block over more than its first base (`END` past it): its REF base is
    /// known at the first position only, so per-position alleles need the reference FASTA.
    pub fn is_reference_block(&self) -> bool {
        self.is_reference_only() && self.end > self.pos + self.alleles[0].len() as u64 - 1
    }

    /// Refuse a gVCF reference block where a score needs each site's alleles: one line
    /// naming the block's end and the command that expands it (the caller of [`for_each_site`]
    /// names the file and the block's start).
    pub fn refuse_reference_block(&self, path: &Path) -> Result<()> {
        if self.is_reference_block() {
            crate::bail_input!(
                "gVCF reference block to {} (ALT {}): scores need the reference base of each \
                 position in it; expand the blocks first with `bcftools convert --gvcf2vcf \
                 --fasta-ref REF.fa -Oz -o OUT.vcf.gz {}` and score OUT.vcf.gz",
                self.end,
                self.alleles.get(1).map_or(".", String::as_str),
                path.display()
            );
        }
        Ok(())
    }

    /// `chrom:pos:ref:alt` for ALT number `alt` (1-based allele index).
    pub fn variant_id(&self, allele: usize) -> String {
        format!(
            "{}:{}:{}:{}",
            self.chrom, self.pos, self.alleles[0], self.alleles[allele]
        )
    }
}

/// Copies of allele `allele` in a genotype, `None` when the genotype is missing.
pub fn allele_count(gt: Gt, allele: usize) -> Option<f64> {
    gt.map(|g| g.count(allele) as f64)
}

/// Sample names of a VCF, in header order.
pub fn samples(path: &Path) -> Result<Vec<String>> {
    let reader = open(path)?;
    Ok(header_samples(&reader))
}

/// Open a VCF/BCF, saying which file when it is missing or unreadable.
pub fn open(path: &Path) -> Result<bcf::Reader> {
    crate::input::open_vcf(path)
}

/// Which sample column to read: `wanted` by name, else the only one. A VCF of several
/// samples without `wanted` is read at its first when `first_by_default` (the report, which
/// says so), and refused otherwise: comparing or labelling the wrong sample gives numbers
/// that look right. `flag` is the option that names the sample, for the message.
pub fn sample_column(
    samples: &[String],
    wanted: Option<&str>,
    path: &Path,
    flag: &str,
    first_by_default: bool,
) -> Result<usize> {
    match wanted {
        Some(name) => samples.iter().position(|s| s == name).ok_or_else(|| {
            crate::errors::input_error(format!(
                "{}: no sample {name} (it has: {})",
                path.display(),
                if samples.is_empty() {
                    "no sample columns".to_string()
                } else {
                    samples.join(", ")
                }
            ))
        }),
        None if samples.is_empty() => Err(crate::errors::input_error(format!(
            "{}: no sample columns",
            path.display()
        ))),
        None if samples.len() > 1 && !first_by_default => Err(crate::errors::input_error(format!(
            "{}: {} samples ({}): choose one with {flag}",
            path.display(),
            samples.len(),
            samples.join(", ")
        ))),
        None => Ok(0),
    }
}

/// Sample names of an open reader, in header order.
pub fn header_samples(reader: &impl bcf::Read) -> Vec<String> {
    // Without samples htslib's name array is NULL, which rust-htslib's `samples()` makes
    // into a slice: undefined behaviour (a panic with debug assertions).
    if reader.header().sample_count() == 0 {
        return Vec::new();
    }
    reader
        .header()
        .samples()
        .iter()
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// The contig names a VCF header declares (and those htslib added as it met records).
pub fn header_contigs(header: &bcf::header::HeaderView) -> Vec<String> {
    (0..header.contig_count())
        .filter_map(|rid| header.rid2name(rid).ok())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect()
}

/// The chromosome name of record number `n` of `path`. It must be UTF-8: rust-htslib unwraps
/// it as UTF-8 whenever it describes the record in an error (a panic on e.g. a missing GT).
pub fn chrom_name(
    header: &bcf::header::HeaderView,
    rid: u32,
    path: &Path,
    n: u64,
) -> Result<String> {
    let name = header
        .rid2name(rid)
        .with_context(|| format!("{}: record {n}: unknown chromosome", path.display()))?;
    match std::str::from_utf8(name) {
        Ok(s) => Ok(s.to_string()),
        Err(_) => bail!(
            "{}: record {n}: chromosome name is not UTF-8",
            path.display()
        ),
    }
}

/// Refuse record number `n` of `path` when one of the FORMAT fields `tags` (that the caller
/// reads as numbers) is stored as something else: htslib then ends the whole process
/// (`exit(1)`, "Unexpected type") instead of returning an error. A malformed FORMAT column
/// can do this to GT, and a BCF file to any field.
pub fn check_numeric_format(rec: &bcf::Record, tags: &[&[u8]], path: &Path, n: u64) -> Result<()> {
    use rust_htslib::htslib;
    let r = rec.inner();
    let n_fmt = r.n_fmt() as usize;
    if n_fmt == 0 || r.d.fmt.is_null() {
        return Ok(());
    }
    if r.unpacked & htslib::BCF_UN_FMT as i32 == 0 {
        bail!("{}: record {n}: FORMAT fields not unpacked", path.display());
    }
    // SAFETY: an unpacked record holds `n_fmt` decoded FORMAT fields at `d.fmt`.
    let fmts = unsafe { std::slice::from_raw_parts(r.d.fmt, n_fmt) };
    for tag in tags {
        let Ok(id) = rec.header().name_to_id(tag) else {
            continue;
        };
        let numeric = |t: u32| {
            matches!(
                t,
                htslib::BCF_BT_INT8
                    | htslib::BCF_BT_INT16
                    | htslib::BCF_BT_INT32
                    | htslib::BCF_BT_FLOAT
            )
        };
        if fmts
            .iter()
            .any(|f| f.id == *id as i32 && !f.p.is_null() && !numeric(f.type_ as u32))
        {
            bail!(
                "{}: record {n}: FORMAT/{} is not stored as numbers",
                path.display(),
                String::from_utf8_lossy(tag)
            );
        }
    }
    Ok(())
}

/// Stream every record of `path` to `f` (with the sample names), in file order.
pub fn for_each_site(
    path: &Path,
    mut f: impl FnMut(&GenotypedSite) -> Result<()>,
) -> Result<Vec<String>> {
    let mut reader = open(path)?;
    let samples = header_samples(&reader);
    let n = samples.len();
    let mut rec = reader.empty_record();
    let mut line = 0u64;
    while let Some(r) = reader.read(&mut rec) {
        line += 1;
        r.map_err(|e| crate::input::record_error(path, line, e))?;
        let chrom = match rec.rid() {
            Some(rid) => chrom_name(rec.header(), rid, path, line)?,
            None => bail!("{}: record {line} has no chromosome", path.display()),
        };
        check_numeric_format(&rec, &[b"GT"], path, line)?;
        // POS 0 (a telomere) is -1 in htslib.
        let Ok(pos) = u64::try_from(rec.pos() + 1) else {
            bail!(
                "{}: record {line} has position {}",
                path.display(),
                rec.pos() + 1
            );
        };
        let site = GenotypedSite {
            id: String::from_utf8_lossy(&rec.id()).into_owned(),
            alleles: rec
                .alleles()
                .iter()
                .map(|a| String::from_utf8_lossy(a).to_ascii_uppercase())
                .collect(),
            gts: genotypes(&rec, n),
            // htslib's rlen is INFO/END's span when END is given, else REF's length.
            end: pos + (rec.rlen().max(1) as u64) - 1,
            chrom,
            pos,
        };
        f(&site).with_context(|| format!("{}: at {}:{}", path.display(), site.chrom, site.pos))?;
    }
    Ok(samples)
}

/// Each of the `n` samples' [`Gt`] in `rec`.
pub fn genotypes(rec: &bcf::Record, n: usize) -> Vec<Gt> {
    // A record without GT (sites-only VCF) has every sample uncalled.
    let Ok(gts) = rec.genotypes() else {
        return vec![None; n];
    };
    (0..n)
        .map(|i| {
            let g = gts.get(i);
            let idx: Vec<Option<u32>> = g.iter().map(|a: &GenotypeAllele| a.index()).collect();
            match idx.as_slice() {
                [Some(a)] => Some(Call::haploid(*a as u16)),
                [Some(a), Some(b)] => Some(Call::diploid(*a as u16, *b as u16)),
                _ => None,
            }
        })
        .collect()
}

/// A diploid genotype written phased (`a|b`) for sample `sample`: its alleles in the written
/// order (haplotype 1 first); `None` when unphased, haploid or missing.
pub fn phased_alleles(rec: &bcf::Record, sample: usize) -> Option<[u16; 2]> {
    let gts = rec.genotypes().ok()?;
    let g = gts.get(sample);
    match &g[..] {
        [a, GenotypeAllele::Phased(b)] if *b >= 0 => Some([a.index()? as u16, *b as u16]),
        _ => None,
    }
}

/// `GRCh37` or `GRCh38` when a build name says so (`hg19`, `b37`, `GRCh38.p14`, ...).
pub fn normalize_build(name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    if n.contains("grch38") || n.contains("hg38") || n.contains("b38") {
        Some("GRCh38")
    } else if n.contains("grch37") || n.contains("hg19") || n.contains("b37") || n.contains("hs37")
    {
        Some("GRCh37")
    } else {
        None
    }
}

/// The genome build a VCF's header shows, if it shows one clearly: chromosome 1 or 20's
/// length (which differ between GRCh37 and GRCh38), a contig's `assembly=`, or the
/// `##reference` name. `None` when nothing says, or the signs disagree.
pub fn header_build(path: &Path) -> Result<Option<&'static str>> {
    let reader = open(path)?;
    let mut signs: Vec<&'static str> = Vec::new();
    for rec in reader.header().header_records() {
        match rec {
            bcf::header::HeaderRecord::Contig { values, .. } => {
                let id = values.get("ID").map(String::as_str).unwrap_or("");
                let len = values.get("length").map(String::as_str).unwrap_or("");
                let bare = id.strip_prefix("chr").unwrap_or(id);
                signs.extend(match (bare, len) {
                    ("1", "249250621") | ("20", "63025520") => Some("GRCh37"),
                    ("1", "248956422") | ("20", "64444167") => Some("GRCh38"),
                    _ => None,
                });
                signs.extend(values.get("assembly").and_then(|a| normalize_build(a)));
            }
            bcf::header::HeaderRecord::Generic { key, value } if key == "reference" => {
                signs.extend(normalize_build(&value));
            }
            _ => {}
        }
    }
    signs.dedup();
    Ok(match signs.as_slice() {
        [one] => Some(*one),
        _ => None,
    })
}

/// Records of a VCF at the loci `wanted(chrom_key, pos)` accepts, keyed by (chrom key, pos).
#[derive(Debug, Default)]
pub struct VcfSites {
    /// Sample names, in header order.
    pub samples: Vec<String>,
    /// Records at each wanted locus, in file order.
    pub by_locus: HashMap<(String, u64), Vec<GenotypedSite>>,
}

/// Load the records at wanted loci (everything else is streamed past, not kept). A gVCF's
/// reference blocks are refused ([`GenotypedSite::refuse_reference_block`]).
pub fn load_sites(path: &Path, wanted: impl Fn(&str, u64) -> bool) -> Result<VcfSites> {
    let mut by_locus: HashMap<(String, u64), Vec<GenotypedSite>> = HashMap::new();
    let samples = for_each_site(path, |site| {
        site.refuse_reference_block(path)?;
        let key = chrom_key(&site.chrom);
        if wanted(&key, site.pos) {
            by_locus
                .entry((key, site.pos))
                .or_default()
                .push(site.clone());
        }
        Ok(())
    })?;
    Ok(VcfSites { samples, by_locus })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_genotypes_including_missing_and_haploid() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.vcf");
        std::fs::write(
            &p,
            "##fileformat=VCFv4.2\n##contig=<ID=chr1>\n\
             ##FORMAT=<ID=GT,Number=1,Type=String,Description=\"GT\">\n\
             #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\ta\tb\tc\td\n\
             chr1\t10\trs1\ta\tG,T\t.\t.\t.\tGT\t0/1\t./.\t1\t2|2\n",
        )
        .unwrap();
        let sites = load_sites(&p, |c, pos| c == "1" && pos == 10).unwrap();
        assert_eq!(sites.samples, ["a", "b", "c", "d"]);
        let s = &sites.by_locus[&("1".to_string(), 10)][0];
        assert_eq!(s.alleles, ["A", "G", "T"]);
        assert!(s.is_multiallelic());
        assert_eq!(allele_count(s.gts[0], 1), Some(1.0));
        assert_eq!(allele_count(s.gts[1], 1), None);
        // Haploid `1`: one copy, as make-examples and eval count it.
        assert_eq!(allele_count(s.gts[2], 1), Some(1.0));
        assert_eq!(allele_count(s.gts[2], 0), Some(0.0));
        assert_eq!(allele_count(s.gts[3], 2), Some(2.0));
        assert_eq!(s.variant_id(2), "chr1:10:A:T");
    }

    #[test]
    fn gvcf_blocks_and_placeholders() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g.vcf");
        std::fs::write(
            &p,
            "##fileformat=VCFv4.2\n##contig=<ID=1>\n\
             ##INFO=<ID=END,Number=1,Type=Integer,Description=\"End\">\n\
             ##FORMAT=<ID=GT,Number=1,Type=String,Description=\"GT\">\n\
             #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n\
             1\t1\t.\tA\t<NON_REF>\t.\t.\tEND=9\tGT\t0/0\n\
             1\t10\t.\tC\tT,<NON_REF>\t.\t.\t.\tGT\t0/1\n\
             1\t11\t.\tG\t.\t.\t.\t.\tGT\t0/0\n\
             1\t12\t.\tG\t<*>\t.\t.\tEND=12\tGT\t0/0\n",
        )
        .unwrap();
        let mut seen = Vec::new();
        for_each_site(&p, |s| {
            seen.push((
                s.end,
                s.is_multiallelic(),
                s.is_reference_only(),
                s.is_reference_block(),
            ));
            Ok(())
        })
        .unwrap();
        assert_eq!(
            seen,
            [
                (9, false, true, true),
                (10, false, false, false),
                (11, false, true, false),
                (12, false, true, false)
            ]
        );
        let e = format!("{:#}", load_sites(&p, |_, _| true).unwrap_err());
        assert!(
            e.contains("g.vcf: at 1:1: gVCF reference block to 9") && e.contains("--gvcf2vcf"),
            "{e}"
        );
    }

    #[test]
    fn pos_zero_is_position_zero() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("z.vcf");
        std::fs::write(
            &p,
            "##fileformat=VCFv4.2\n##contig=<ID=1>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n\
             1\t0\t.\tA\tC\t.\t.\t.\n",
        )
        .unwrap();
        let mut pos = Vec::new();
        for_each_site(&p, |s| {
            pos.push(s.pos);
            Ok(())
        })
        .unwrap();
        assert_eq!(pos, [0]);
    }

    #[test]
    fn non_utf8_chromosome_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("u.vcf");
        std::fs::write(
            &p,
            b"##fileformat=VCFv4.2\n##contig=<ID=c\xff>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n\
              c\xff\t5\t.\tA\tC\t.\t.\t.\tDP\t3\n",
        )
        .unwrap();
        let e = format!("{:#}", for_each_site(&p, |_| Ok(())).unwrap_err());
        assert!(
            e.contains("u.vcf: record 1: chromosome name is not UTF-8"),
            "{e}"
        );
    }

    #[test]
    fn gt_not_stored_as_numbers_is_an_error() {
        // An empty FORMAT key before an undeclared GT: htslib stores GT as characters and
        // would exit(1) when asked for its values.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("gt.vcf");
        std::fs::write(
            &p,
            "##fileformat=VCFv4.2\n##contig=<ID=1>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n\
             1\t5\t.\tA\tC\t.\t.\t.\t:GT\t0/1\n",
        )
        .unwrap();
        let e = format!("{:#}", for_each_site(&p, |_| Ok(())).unwrap_err());
        assert!(
            e.contains("gt.vcf: record 1: FORMAT/GT is not stored as numbers"),
            "{e}"
        );
    }

    #[test]
    fn sites_only_vcf_has_no_samples() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.vcf");
        std::fs::write(
            &p,
            "##fileformat=VCFv4.2\n##contig=<ID=1>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n\
             1\t5\t.\tA\tC\t.\t.\t.\n",
        )
        .unwrap();
        let mut n = 0;
        let samples = for_each_site(&p, |s| {
            n += 1;
            assert!(s.gts.is_empty());
            Ok(())
        })
        .unwrap();
        assert!(samples.is_empty());
        assert_eq!(n, 1);
    }

    #[test]
    fn unreadable_headers_and_truncated_bgzip_are_errors() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let err = |name: &str, bytes: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            format!("{:#}", samples(&p).unwrap_err())
        };
        let no_chrom = "##fileformat=VCFv4.2\n##contig=<ID=1>\n1\t5\t.\tA\tC\t.\t.\t.\n";
        assert!(err("h.vcf", no_chrom.as_bytes()).contains("header cannot be read"));
        assert!(err("n.vcf", b"not a vcf\n").contains("header cannot be read"));
        let text =
            "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n";
        let gz = dir.path().join("ok.vcf.gz");
        {
            let mut w = rust_htslib::bgzf::Writer::from_path(&gz).unwrap();
            w.write_all(text.as_bytes()).unwrap();
        }
        let bytes = std::fs::read(&gz).unwrap();
        assert_eq!(samples(&gz).unwrap(), ["S"]);
        let e = err("t.vcf.gz", &bytes[..bytes.len() - 28]);
        assert!(e.contains("t.vcf.gz") && e.contains("truncated"), "{e}");
        let e = err("c.vcf.gz", &bytes[..20]);
        assert!(e.contains("truncated"), "{e}");
    }
}
