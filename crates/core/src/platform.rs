//! The sequencing platform of the reads: Illumina, PacBio HiFi, ONT R10.4.1 or ONT R9.4.1.
//! Given with `--platform`, or inferred (`auto`) from what the header says (`@RG PL` and `DS`,
//! the `@PG` aligner and its preset) and from the length of the reads, with the evidence
//! logged and written to the VCF header. Evidence that disagrees, or that cannot tell ONT
//! chemistries apart, is an error asking for `--platform`; read groups of several platforms
//! in one sample are refused (hybrid calling is not supported).
use std::collections::BTreeSet;
use std::fmt;

use crate::errors::input_error;

/// A platform with its own read-error profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Platform {
    /// Illumina short reads.
    Illumina,
    /// PacBio HiFi (CCS) reads.
    Hifi,
    /// Oxford Nanopore R10.4.1 reads.
    #[value(name = "ont-r10")]
    OntR10,
    /// Oxford Nanopore R9.4.1 reads.
    #[value(name = "ont-r9")]
    OntR9,
}

impl Platform {
    /// The name `--platform` and the VCF header use.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Illumina => "illumina",
            Platform::Hifi => "hifi",
            Platform::OntR10 => "ont-r10",
            Platform::OntR9 => "ont-r9",
        }
    }
}

impl Platform {
    /// Fraction of reads an indel needs to become a candidate when `--min-indel-fraction` is
    /// not given: varstream's own for Illumina (its model's training), Clair3's published
    /// `indel_min_af` for the long-read platforms (0.15 ONT, 0.08 HiFi), whose homopolymer-
    /// length errors are common indels in the reads (docs/long-reads.md, written before the
    /// runs that check it).
    pub fn default_min_indel_fraction(self) -> f32 {
        match self {
            Platform::Illumina => crate::candidates::CandidateParams::default().min_indel_fraction,
            Platform::Hifi => 0.08,
            Platform::OntR10 | Platform::OntR9 => 0.15,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `--platform`: a platform, or `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlatformChoice {
    /// Inferred from the header and the read lengths.
    #[default]
    Auto,
    /// As given.
    Given(Platform),
}

/// The platform a run uses and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformCall {
    /// The platform.
    pub platform: Platform,
    /// `user` or `auto`.
    pub source: &'static str,
    /// What the header and reads said, for the log and the VCF header.
    pub evidence: String,
}

impl PlatformCall {
    /// The VCF header line.
    pub fn header_line(&self) -> String {
        format!(
            "##varstream_platform=<ID={},Source={},Evidence=\"{}\">",
            self.platform,
            self.source,
            self.evidence.replace(['"', '\\'], "'")
        )
    }
}

/// A platform family as the header names it, before the chemistry is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Family {
    Illumina,
    PacBio,
    Ont,
}

/// Reads at least this long (median query length) are long reads; Illumina reads are at most
/// 300 bases.
pub const LONG_READ_MEDIAN: u64 = 1_000;

/// What one header says: the family (and the ONT chemistry or PacBio read type, when named)
/// from each read group of the sample (`read_groups`: their IDs; `None` = every read group)
/// and each `@PG` line. Returns a list of (family, detail, evidence text).
fn header_hints(
    header_text: &str,
    read_groups: Option<&[String]>,
) -> Vec<(Family, Option<Platform>, String)> {
    let mut out = Vec::new();
    for line in header_text.lines() {
        let field = |tag: &str| {
            line.split('\t')
                .find_map(|f| f.strip_prefix(tag))
                .map(str::to_string)
        };
        if line.starts_with("@RG\t") {
            let id = field("ID:").unwrap_or_default();
            if read_groups.is_some_and(|ids| !ids.contains(&id)) {
                continue;
            }
            let ds = field("DS:").unwrap_or_default();
            let ds_lower = ds.to_ascii_lowercase();
            let chemistry = ont_chemistry(&ds_lower);
            let pl = field("PL:").unwrap_or_default().to_ascii_uppercase();
            let family = match pl.as_str() {
                "ILLUMINA" => Some(Family::Illumina),
                "PACBIO" => Some(Family::PacBio),
                "ONT" | "NANOPORE" | "OXFORD_NANOPORE" => Some(Family::Ont),
                _ if chemistry.is_some() => Some(Family::Ont),
                _ => None,
            };
            let Some(family) = family else { continue };
            let detail = match family {
                Family::Ont => chemistry,
                Family::PacBio if ds_lower.contains("readtype=ccs") => Some(Platform::Hifi),
                _ => None,
            };
            let mut ev = format!("@RG PL:{pl}");
            if let Some(p) = detail {
                ev.push_str(&format!(" DS:{}", ds_evidence(&ds, p)));
            }
            if family == Family::PacBio && ds_lower.contains("readtype=subread") {
                ev.push_str(" DS:READTYPE=SUBREAD");
            }
            out.push((family, detail, ev));
        } else if line.starts_with("@PG\t") {
            let pn = field("PN:").unwrap_or_default().to_ascii_lowercase();
            let cl = field("CL:").unwrap_or_default().to_ascii_lowercase();
            let hint = match pn.as_str() {
                "bwa" | "bwa-mem2" | "bowtie2" | "dragen" | "isaac" => {
                    Some((Family::Illumina, None))
                }
                "pbmm2" => Some((Family::PacBio, cl.contains("ccs").then_some(Platform::Hifi))),
                "dorado" | "guppy" => Some((Family::Ont, ont_chemistry(&cl))),
                "minimap2" if cl.contains("map-hifi") || cl.contains("map-pb") => Some((
                    Family::PacBio,
                    cl.contains("map-hifi").then_some(Platform::Hifi),
                )),
                "minimap2" if cl.contains("map-ont") || cl.contains("lr:hq") => {
                    Some((Family::Ont, ont_chemistry(&cl)))
                }
                _ => None,
            };
            if let Some((family, detail)) = hint {
                out.push((family, detail, format!("@PG {pn}")));
            }
        }
    }
    out
}

/// The ONT chemistry a basecall model name gives (`dna_r10.4.1_e8.2_400bps_hac@v5.0.0`).
fn ont_chemistry(text_lower: &str) -> Option<Platform> {
    if text_lower.contains("r10.4") || text_lower.contains("r1041") {
        Some(Platform::OntR10)
    } else if text_lower.contains("r9.4") || text_lower.contains("r941") {
        Some(Platform::OntR9)
    } else {
        None
    }
}

/// The part of a `DS` field that named the platform, for the evidence text.
fn ds_evidence(ds: &str, p: Platform) -> String {
    let key = if p == Platform::Hifi {
        "READTYPE="
    } else {
        "basecall_model="
    };
    ds.split([';', ' '])
        .find(|f| f.starts_with(key))
        .unwrap_or(ds)
        .to_string()
}

/// Infer the platform from the header and the median query length of a sample of reads
/// (`None` when no read was sampled). An `Err` is the one-line reason, asking for
/// `--platform`.
pub fn infer(
    header_text: &str,
    read_groups: Option<&[String]>,
    median_read_len: Option<u64>,
) -> Result<PlatformCall, String> {
    let hints = header_hints(header_text, read_groups);
    // Read groups that say the same are counted, not repeated (a run may have dozens); the
    // header's order is kept.
    let mut counted: Vec<(&str, usize)> = Vec::new();
    for h in &hints {
        match counted.iter_mut().find(|(e, _)| *e == h.2) {
            Some((_, n)) => *n += 1,
            None => counted.push((&h.2, 1)),
        }
    }
    let mut evidence: Vec<String> = counted
        .into_iter()
        .map(|(e, n)| {
            if n > 1 {
                format!("{n} x {e}")
            } else {
                e.to_string()
            }
        })
        .collect();
    if let Some(m) = median_read_len {
        evidence.push(format!("median read length {m} bp"));
    }
    let evidence_text = if evidence.is_empty() {
        "none".to_string()
    } else {
        evidence.join("; ")
    };
    let ask = |why: String| {
        format!(
            "{why} (evidence: {evidence_text}): pass --platform illumina, hifi, ont-r10 or ont-r9"
        )
    };
    let families: BTreeSet<Family> = hints.iter().map(|h| h.0).collect();
    let rg_families: BTreeSet<Family> = hints
        .iter()
        .filter(|h| h.2.starts_with("@RG"))
        .map(|h| h.0)
        .collect();
    if rg_families.len() > 1 {
        return Err(format!(
            "the read groups are of several platforms ({evidence_text}): calling reads of \
             several platforms together is not supported; call each platform's reads on \
             their own"
        ));
    }
    if families.len() > 1 {
        return Err(ask("the header names several platforms".into()));
    }
    if evidence.iter().any(|e| e.contains("READTYPE=SUBREAD")) {
        return Err(
            "the reads are PacBio subreads (CLR, @RG DS:READTYPE=SUBREAD), which are not \
             supported: call HiFi (CCS) reads"
                .to_string(),
        );
    }
    let long = median_read_len.map(|m| m >= LONG_READ_MEDIAN);
    let platform = match families.first() {
        None => match long {
            Some(false) => Platform::Illumina,
            Some(true) => {
                return Err(ask(
                    "the reads are long but the header names no platform".into()
                ))
            }
            // No read to look at and no platform named: nothing will be called either way.
            None => Platform::Illumina,
        },
        Some(Family::Illumina) => {
            if long == Some(true) {
                return Err(ask("the header says Illumina but the reads are long".into()));
            }
            Platform::Illumina
        }
        Some(family) => {
            if long == Some(false) {
                return Err(ask(format!(
                    "the header says {} but the reads are short",
                    if *family == Family::PacBio {
                        "PacBio"
                    } else {
                        "ONT"
                    }
                )));
            }
            let details: Vec<Platform> = hints
                .iter()
                .filter_map(|h| h.1)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            match (family, details.as_slice()) {
                (Family::PacBio, _) => Platform::Hifi,
                (Family::Ont, [p]) => *p,
                (Family::Ont, []) => {
                    return Err(ask(
                        "ONT reads, but no basecall model names the chemistry".into()
                    ))
                }
                (_, _) => return Err(ask("the header names several ONT chemistries".into())),
            }
        }
    };
    Ok(PlatformCall {
        platform,
        source: "auto",
        evidence: evidence_text,
    })
}

/// The platform of a run: as given (with a warning when the header or reads say otherwise),
/// or inferred. Errors are bad input naming the reads.
pub fn resolve(
    choice: PlatformChoice,
    header_text: &str,
    read_groups: Option<&[String]>,
    median_read_len: Option<u64>,
    reads_path: &std::path::Path,
) -> anyhow::Result<PlatformCall> {
    let inferred = infer(header_text, read_groups, median_read_len);
    match choice {
        PlatformChoice::Given(p) => {
            let evidence = match &inferred {
                Ok(c) if c.platform != p => {
                    log::warn!(
                        "--platform {p}: used as given, although {} looks like {} ({})",
                        reads_path.display(),
                        c.platform,
                        c.evidence
                    );
                    c.evidence.clone()
                }
                Ok(c) => c.evidence.clone(),
                Err(_) => "given by --platform".to_string(),
            };
            Ok(PlatformCall {
                platform: p,
                source: "user",
                evidence,
            })
        }
        PlatformChoice::Auto => {
            inferred.map_err(|why| input_error(format!("{}: {why}", reads_path.display())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HIFI: &str = "@HD\tVN:1.5\tSO:coordinate\n\
        @RG\tID:fab6f07a\tSM:HG002\tDS:READTYPE=CCS;BINDINGKIT=101-820-500\tPL:PACBIO\tPM:SEQUELII\n\
        @PG\tPN:pbmm2\tID:pbmm2\tVN:1.4.0\tCL:pbmm2 align --preset CCS ref.fa in.bam out.bam\n";
    const ONT: &str = "@HD\tVN:1.6\tSO:coordinate\n\
        @RG\tID:bc89_dna_r10.4.1_e8.2_400bps_hac@v5.0.0\tSM:S\tDS:basecall_model=dna_r10.4.1_e8.2_400bps_hac@v5.0.0 runid=bc89\tPL:ONT\n\
        @PG\tID:aligner\tPN:dorado\tVN:0.9.6\tDS:2.28-r1209\n";
    const ONT_R9: &str = "@RG\tID:r\tSM:S\tPL:ONT\tDS:basecall_model=dna_r9.4.1_450bps_sup\n\
        @PG\tID:minimap2\tPN:minimap2\tVN:2.24\tCL:minimap2 -ax map-ont ref.fa reads.fq\n";
    const BWA: &str = "@RG\tID:NA12878\tSM:NA12878\n@PG\tID:bwa\tPN:bwa\tVN:0.6.1\n";

    #[test]
    fn test_platforms_from_realistic_headers() {
        let p = |h: &str, len| infer(h, None, len).map(|c| c.platform);
        assert_eq!(p(HIFI, Some(15_000)), Ok(Platform::Hifi));
        assert_eq!(p(ONT, Some(30_000)), Ok(Platform::OntR10));
        assert_eq!(p(ONT_R9, Some(20_000)), Ok(Platform::OntR9));
        assert_eq!(p(BWA, Some(101)), Ok(Platform::Illumina));
        // No header evidence: short reads are Illumina.
        assert_eq!(p("@RG\tID:a\tSM:s\n", Some(150)), Ok(Platform::Illumina));
        let c = infer(HIFI, None, Some(15_000)).unwrap();
        assert!(c.evidence.contains("PL:PACBIO") && c.evidence.contains("READTYPE=CCS"));
        assert!(c
            .header_line()
            .starts_with("##varstream_platform=<ID=hifi,Source=auto,"));
    }

    #[test]
    fn test_ambiguous_or_mixed_evidence_asks_for_platform() {
        let e = |h: &str, len| infer(h, None, len).unwrap_err();
        // Long reads, no platform named.
        assert!(e("@RG\tID:a\tSM:s\n", Some(12_000)).contains("--platform"));
        // ONT without a chemistry.
        assert!(e("@RG\tID:a\tSM:s\tPL:ONT\n", Some(12_000)).contains("chemistry"));
        // Illumina header, long reads.
        assert!(e(BWA, Some(15_000)).contains("--platform"));
        // Illumina and PacBio read groups in one sample: refused.
        let mixed = "@RG\tID:i\tSM:s\tPL:ILLUMINA\n@RG\tID:p\tSM:s\tPL:PACBIO\tDS:READTYPE=CCS\n";
        assert!(e(mixed, Some(150)).contains("several platforms"));
        // Only the chosen sample's read groups count.
        let two = "@RG\tID:i\tSM:a\tPL:ILLUMINA\n@RG\tID:p\tSM:b\tPL:PACBIO\n";
        let ids = ["i".to_string()];
        assert_eq!(
            infer(two, Some(&ids), Some(150)).map(|c| c.platform),
            Ok(Platform::Illumina)
        );
        // PacBio subreads.
        assert!(e(
            "@RG\tID:a\tSM:s\tPL:PACBIO\tDS:READTYPE=SUBREAD\n",
            Some(9_000)
        )
        .contains("CLR"));
    }
}
