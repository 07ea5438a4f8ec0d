//! Stage: VCF. Header, the typed call record and its text, and a bgzipped writer that indexes
//! with tabix and only renames the file into place once it is complete.
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::candidates::Site;
use crate::genotypes::{Call, Filter};
use crate::gvcf::NonRefAllele;
use crate::phasing::{HetRead, Phase};

/// What the header records about the run.
#[derive(Debug, Clone)]
pub struct HeaderInfo {
    /// Sample column name.
    pub sample: String,
    /// Contigs (name, length) in reference order.
    pub contigs: Vec<(String, u64)>,
    /// Reference path.
    pub reference: String,
    /// The command line.
    pub command: String,
    /// Model name.
    pub model_name: String,
    /// SHA-256 of the model file.
    pub model_sha256: String,
    /// QUAL threshold for LowQual.
    pub min_qual: f64,
    /// Further `##` lines (the sex call).
    pub extra_meta: Vec<String>,
    /// Calls may be phased (`call --phase`): declare `PS`.
    pub phased: bool,
}

/// Full VCF header text.
pub fn header(h: &HeaderInfo) -> String {
    let mut s = String::new();
    s.push_str("##fileformat=VCFv4.2\n");
    s.push_str(&format!("##source=varstream {}\n", crate::VERSION));
    s.push_str(&format!("##varstream_command={}\n", h.command));
    s.push_str(&format!(
        "##varstream_model=<Name={},SHA256={}>\n",
        h.model_name, h.model_sha256
    ));
    s.push_str(&format!("##reference=file://{}\n", h.reference));
    for line in &h.extra_meta {
        s.push_str(line);
        s.push('\n');
    }
    s.push_str("##FILTER=<ID=PASS,Description=\"All filters passed\">\n");
    s.push_str(
        "##FILTER=<ID=RefCall,Description=\"Genotyping model thinks this site is reference\">\n",
    );
    s.push_str(&format!(
        "##FILTER=<ID=LowQual,Description=\"Non-reference call with QUAL < {}\">\n",
        h.min_qual
    ));
    if h.phased {
        s.push_str("##FILTER=<ID=PhaseConflict,Description=\"Heterozygous call whose reads are split between the haplotypes of its phase block beyond what read errors explain, given the model's GQ (--phase)\">\n");
    }
    s.push_str("##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n");
    s.push_str("##FORMAT=<ID=GQ,Number=1,Type=Integer,Description=\"Phred-scaled probability that the genotype is wrong, capped at 99\">\n");
    s.push_str("##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"Read depth after filters\">\n");
    s.push_str(
        "##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"Reads supporting each allele\">\n",
    );
    s.push_str("##FORMAT=<ID=VAF,Number=A,Type=Float,Description=\"Fraction of DP supporting each ALT\">\n");
    // Joint genotypers read PL as likelihoods; ours are the model's posteriors, so say so.
    if h.phased {
        s.push_str("##FORMAT=<ID=PS,Number=1,Type=Integer,Description=\"Phase set: 1-based position of the first variant of the read-backed phase block; GT a|b are phased within it\">\n");
    }
    s.push_str("##FORMAT=<ID=PL,Number=G,Type=Integer,Description=\"Phred-scaled genotype posteriors from the model (not likelihoods: they include its prior), calibrated, normalised so the best is 0\">\n");
    for (name, len) in &h.contigs {
        s.push_str(&format!("##contig=<ID={name},length={len}>\n"));
    }
    s.push_str(&format!(
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{}\n",
        h.sample
    ));
    s
}

/// One genotyped site as the stages hand it to the writers: typed fields, turned into text
/// only by [`CallRecord::write_vcf`] and [`CallRecord::write_gvcf`] on the writer's side (as
/// noodles writes a `RecordBuf` field by field), so a stage can read a call without parsing.
#[derive(Debug, Clone)]
pub struct CallRecord {
    /// The site with the ALTs the genotype uses (REF-only calls keep every candidate ALT).
    pub site: Site,
    /// Genotype, GQ, QUAL and PL over the site's alleles.
    pub call: Call,
    /// PASS, RefCall or LowQual.
    pub filter: Filter,
    /// The gVCF's `<*>` allele (its reads and PL), when a gVCF is written.
    pub non_ref: Option<NonRefAllele>,
    /// With `--phase`, for a heterozygous PASS call: its reads' alleles, for the phaser
    /// (which takes them: empty once phased).
    pub het_reads: Vec<HetRead>,
    /// Where the phaser put it: written `a|b` with `PS`.
    pub phase: Option<Phase>,
}

impl CallRecord {
    /// Append the VCF data line, with its newline.
    pub fn write_vcf(&self, out: &mut String) {
        write_line(self, None, out);
    }
}

impl crate::gvcf::GvcfVariant for CallRecord {
    fn pos(&self) -> u64 {
        self.site.pos
    }

    fn end(&self) -> u64 {
        self.site.pos + self.site.ref_allele.len() as u64
    }

    /// The VCF line with the `<*>` allele after the ALTs (its reads in AD and VAF, its
    /// genotypes' PL after the record's own), so the gVCF's variant lines are the VCF's lines
    /// plus that allele.
    fn write_gvcf(&self, out: &mut String) {
        write_line(self, self.non_ref.as_ref(), out);
    }
}

fn write_line(rec: &CallRecord, non_ref: Option<&NonRefAllele>, out: &mut String) {
    use std::fmt::Write as _;
    let (site, call) = (&rec.site, &rec.call);
    let join = |out: &mut String, items: &mut dyn Iterator<Item = String>| {
        for (i, x) in items.enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&x);
        }
    };
    let _ = write!(
        out,
        "{}\t{}\t.\t{}\t",
        site.contig,
        site.pos + 1,
        String::from_utf8_lossy(&site.ref_allele)
    );
    let non_ref_name = non_ref.map(|_| crate::gvcf::NON_REF.to_string());
    join(
        out,
        &mut site
            .alt_alleles
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .chain(non_ref_name),
    );
    let gt = match rec.phase {
        Some(Phase { swapped: false, .. }) => format!("{}|{}", call.gt.0, call.gt.1),
        Some(Phase { swapped: true, .. }) => format!("{}|{}", call.gt.1, call.gt.0),
        None => call.gt_text(),
    };
    let _ = write!(
        out,
        "\t{:.2}\t{}\t.\tGT:GQ:DP:AD:VAF:PL{}\t{}:{}:{}:",
        call.qual,
        rec.filter.as_str(),
        if rec.phase.is_some() { ":PS" } else { "" },
        gt,
        call.gq,
        site.depth
    );
    let depths: Vec<u32> = site
        .allele_depths
        .iter()
        .copied()
        .chain(non_ref.map(|nr| nr.depth))
        .collect();
    join(out, &mut depths.iter().map(u32::to_string));
    out.push(':');
    let dp = site.depth.max(1) as f64;
    join(
        out,
        &mut depths[1..].iter().map(|&c| format!("{:.4}", c as f64 / dp)),
    );
    out.push(':');
    let extra = non_ref.map_or(&[][..], |nr| &nr.pl[..]);
    join(out, &mut call.pl.iter().chain(extra).map(u32::to_string));
    if let Some(p) = rec.phase {
        let _ = write!(out, ":{}", p.set);
    }
    out.push('\n');
}

/// Writes a bgzipped VCF under a temporary name; [`VcfWriter::finish`] indexes it and renames
/// it into place, so a failed or interrupted run never leaves a truncated VCF at the output path.
pub struct VcfWriter {
    inner: Option<rust_htslib::bgzf::Writer>,
    tmp: crate::output::TempPath,
}

impl VcfWriter {
    /// Create `dest`'s temporary sibling and write the header.
    pub fn create(dest: &Path, header_text: &str) -> Result<Self> {
        let tmp = crate::output::TempPath::new(dest, ".vcf.gz")?;
        let mut inner = rust_htslib::bgzf::Writer::from_path(tmp.path())
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", tmp.path().display()))?;
        inner
            .write_all(header_text.as_bytes())
            .with_context(|| format!("cannot write {}", tmp.path().display()))?;
        Ok(Self {
            inner: Some(inner),
            tmp,
        })
    }

    /// Append record text.
    pub fn write(&mut self, text: &str) -> Result<()> {
        let w = self.inner.as_mut().context("bug: write after finish")?;
        w.write_all(text.as_bytes())
            .with_context(|| format!("cannot write {}", self.tmp.path().display()))
    }

    /// Close, check that the file is complete, build the .tbi index and move both into place.
    pub fn finish(self) -> Result<()> {
        crate::output::commit_all(self.close()?)
    }

    /// Close, check that the file is complete and build the .tbi index; the index and the
    /// file, still under their temporary names, are returned to be committed together with
    /// other outputs of the run ([`crate::output::commit_all`]).
    pub fn close(self) -> Result<Vec<crate::output::TempPath>> {
        let VcfWriter { inner, tmp: vcf } = self;
        let mut w = inner.context("bug: finish twice")?;
        let tmp = vcf.path().to_path_buf();
        w.flush()
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        // Dropping closes the stream and writes its EOF block; htslib's close status is not
        // returned by rust-htslib, so check the file's end and sync it instead.
        drop(w);
        check_complete_bgzf(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        let tmp_idx = crate::output::TempPath::new(
            &PathBuf::from(format!("{}.tbi", vcf.dest().display())),
            "",
        )?;
        rust_htslib::bcf::index::build(
            &tmp,
            Some(&tmp_idx.path().to_path_buf()),
            1,
            rust_htslib::bcf::index::Type::Tbx,
        )
        .map_err(|e| anyhow::anyhow!("cannot index {}: {e:?}", tmp.display()))?;
        std::fs::File::open(tmp_idx.path())
            .and_then(|f| f.sync_all())
            .with_context(|| format!("cannot write {}", tmp_idx.path().display()))?;
        Ok(vec![tmp_idx, vcf])
    }
}

/// A BGZF file that was closed properly ends with [`crate::output::BGZF_EOF`]; sync it to disk, so a full
/// disk is an error here rather than a silently short file.
fn check_complete_bgzf(path: &Path) -> Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let mut tail = [0u8; 28];
    if len < 28 {
        anyhow::bail!("file is incomplete ({len} bytes)");
    }
    f.seek(SeekFrom::End(-28))?;
    f.read_exact(&mut tail)?;
    if tail != crate::output::BGZF_EOF {
        anyhow::bail!("file is incomplete (no BGZF end-of-file block; is the disk full?)");
    }
    f.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::candidates::AltKind;
    use crate::gvcf::GvcfVariant as _;

    #[test]
    fn test_record_text() {
        let site = Site {
            contig: "chr1".into(),
            pos: 99,
            ref_allele: b"GT".to_vec(),
            alts: vec![AltKind::Snv(b'T'), AltKind::Del(1)],
            alt_alleles: vec![b"TT".to_vec(), b"G".to_vec()],
            depth: 10,
            allele_depths: vec![4, 3, 3],
            informative_end: 101,
        };
        let call = Call {
            gt: (1, 2),
            ploidy: 2,
            gq: 30,
            qual: 45.678,
            pl: vec![90, 40, 60, 40, 0, 60],
        };
        let phased = |call: &Call, non_ref: Option<NonRefAllele>, gvcf: bool, phase| {
            let r = CallRecord {
                site: site.clone(),
                call: call.clone(),
                filter: Filter::Pass,
                non_ref,
                het_reads: vec![],
                phase,
            };
            let mut out = String::new();
            if gvcf {
                r.write_gvcf(&mut out)
            } else {
                r.write_vcf(&mut out)
            };
            out
        };
        let text = |call: &Call, non_ref, gvcf| phased(call, non_ref, gvcf, None);
        assert_eq!(
            text(&call, None, false),
            "chr1\t100\t.\tGT\tTT,G\t45.68\tPASS\t.\tGT:GQ:DP:AD:VAF:PL\t1/2:30:10:4,3,3:0.3000,0.3000:90,40,60,40,0,60\n"
        );
        let haploid = Call {
            gt: (2, 2),
            ploidy: 1,
            gq: 30,
            qual: 45.678,
            pl: vec![90, 40, 0],
        };
        assert!(text(&haploid, None, false).ends_with("\t2:30:10:4,3,3:0.3000,0.3000:90,40,0\n"));
        // The gVCF's line adds `<*>`: its reads in AD and VAF, its genotypes' PL at the end.
        let nr = NonRefAllele {
            depth: 2,
            pl: vec![70, 80, 90, 99],
        };
        assert_eq!(
            text(&call, Some(nr), true),
            "chr1\t100\t.\tGT\tTT,G,<*>\t45.68\tPASS\t.\tGT:GQ:DP:AD:VAF:PL\t1/2:30:10:4,3,3,2:0.3000,0.3000,0.2000:90,40,60,40,0,60,70,80,90,99\n"
        );
        // Phased: `a|b` (or `b|a` swapped) and PS last, in the VCF and the gVCF alike.
        let ps = |swapped| Some(Phase { set: 57, swapped });
        assert!(phased(&call, None, false, ps(false)).ends_with(
            "\tGT:GQ:DP:AD:VAF:PL:PS\t1|2:30:10:4,3,3:0.3000,0.3000:90,40,60,40,0,60:57\n"
        ));
        let nr = NonRefAllele {
            depth: 2,
            pl: vec![70, 80, 90, 99],
        };
        assert!(phased(&call, Some(nr), true, ps(true))
            .ends_with("\tGT:GQ:DP:AD:VAF:PL:PS\t2|1:30:10:4,3,3,2:0.3000,0.3000,0.2000:90,40,60,40,0,60,70,80,90,99:57\n"));
    }

    #[test]
    fn test_writer_renames_only_when_finished() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("o.vcf.gz");
        let h = HeaderInfo {
            sample: "S".into(),
            contigs: vec![("chr1".into(), 1000)],
            reference: "r.fa".into(),
            command: "varstream call".into(),
            model_name: "m".into(),
            model_sha256: "00".into(),
            min_qual: 1.0,
            extra_meta: vec![],
            phased: false,
        };
        {
            let mut w = VcfWriter::create(&dest, &header(&h)).unwrap();
            w.write("chr1\t5\t.\tA\tC\t10\tPASS\t.\tGT\t0/1\n").unwrap();
            // dropped without finish
        }
        assert!(!dest.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut w = VcfWriter::create(&dest, &header(&h)).unwrap();
        w.write("chr1\t5\t.\tA\tC\t10\tPASS\t.\tGT\t0/1\n").unwrap();
        w.finish().unwrap();
        assert!(dest.exists());
        assert!(dir.path().join("o.vcf.gz.tbi").exists());
    }
}
