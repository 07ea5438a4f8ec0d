//! Variants a clinician can look at: the sample's PASS calls inside a gene or panel BED,
//! annotated from a user-given VCF (e.g. ClinVar) by exact allele after normalisation.
//!
//! Both sides are split into one ALT per row, trimmed to minimal alleles and, when a reference
//! is given, left-aligned ([`crate::alleles::normalize`], the rule `eval` uses), and
//! compared on chromosome (`chr1` = `1`), position, REF and ALT. Without a reference only the
//! trimming is done, so an indel written at another place in a repeat is not matched.
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::alleles::normalize;
use crate::reference::{RefCursor, Reference};
use crate::scores::chrom_key;

/// INFO fields shown by default: ClinVar's significance, condition, review status and gene.
pub const DEFAULT_FIELDS: &str = "CLNSIG,CLNDN,CLNREVSTAT,GENEINFO";
/// Annotation records this far outside every panel interval are not normalised: left-alignment
/// moves an indel at most through the repeat it sits in.
const PANEL_PAD: u64 = 200;

/// One named panel interval.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelRegion {
    /// Contig as written in the BED.
    pub contig: String,
    /// 0-based start.
    pub start: u64,
    /// 0-based exclusive end.
    pub end: u64,
    /// BED name column (a gene), or `contig:start-end`.
    pub name: String,
}

/// Read a BED of panel regions (name in column 4 when present).
pub fn read_panel(path: &Path) -> Result<Vec<PanelRegion>> {
    let mut out = Vec::new();
    let reader = crate::input::open_text(path, "panel BED")?;
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.trim().is_empty()
            || line.starts_with('#')
            || line.starts_with("track")
            || line.starts_with("browser")
        {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let num = |k: usize| -> Result<u64> {
            f.get(k)
                .and_then(|v| v.trim().parse().ok())
                .with_context(|| {
                    format!("{}:{}: malformed BED line {line:?}", path.display(), i + 1)
                })
        };
        let (start, end) = (num(1)?, num(2)?);
        if end < start {
            bail!("{}:{}: BED end before start", path.display(), i + 1);
        }
        let name = f
            .get(3)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(String::from)
            .unwrap_or_else(|| format!("{}:{}-{end}", f[0], start + 1));
        out.push(PanelRegion {
            contig: f[0].trim().to_string(),
            start,
            end,
            name,
        });
    }
    if out.is_empty() {
        bail!("{}: no regions in the panel BED", path.display());
    }
    Ok(out)
}

/// Panel regions by chromosome key, for lookups.
pub struct Panel {
    by_chrom: HashMap<String, Vec<PanelRegion>>,
}

impl Panel {
    /// Index regions.
    pub fn new(regions: Vec<PanelRegion>) -> Self {
        let mut by_chrom: HashMap<String, Vec<PanelRegion>> = HashMap::new();
        for r in regions {
            by_chrom.entry(chrom_key(&r.contig)).or_default().push(r);
        }
        Self { by_chrom }
    }

    /// Names of the regions overlapping 0-based `[start, end)` (joined with `,`), if any.
    pub fn names_overlapping(&self, contig: &str, start: u64, end: u64) -> Option<String> {
        let mut names: Vec<&str> = self
            .by_chrom
            .get(&chrom_key(contig))?
            .iter()
            .filter(|r| r.start < end && start < r.end)
            .map(|r| r.name.as_str())
            .collect();
        names.dedup();
        (!names.is_empty()).then(|| names.join(","))
    }

    /// The panel's contigs, as contig-name keys (`chrom_key`), sorted.
    pub fn contigs(&self) -> Vec<String> {
        let mut v: Vec<String> = self.by_chrom.keys().cloned().collect();
        v.sort();
        v
    }

    /// Regions in the panel.
    pub fn regions(&self) -> usize {
        self.by_chrom.values().map(Vec::len).sum()
    }

    /// Bases in the panel (overlapping regions counted once each).
    pub fn bp(&self) -> u64 {
        self.by_chrom
            .values()
            .flatten()
            .map(|r| r.end - r.start)
            .sum()
    }

    fn near(&self, contig: &str, pos: u64) -> bool {
        self.by_chrom.get(&chrom_key(contig)).is_some_and(|v| {
            v.iter()
                .any(|r| r.start.saturating_sub(PANEL_PAD) <= pos && pos < r.end + PANEL_PAD)
        })
    }
}

/// A called ALT allele inside the panel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Panel region name(s).
    pub region: String,
    /// Chromosome as in the VCF.
    pub chrom: String,
    /// 1-based position as in the VCF.
    pub pos: u64,
    /// REF as in the VCF.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The called ALT.
    pub alt: String,
    /// Genotype (`0/1`, `1/1`, `1/2`, ...; phased as written, `1|0`).
    pub genotype: String,
    /// Phase set of a phased genotype (`PS`; 0 where the VCF gives none: the chromosome).
    pub phase_set: Option<u64>,
    /// With a phased genotype, the copy (1 or 2, as GT is written) that carries this ALT,
    /// where only one does.
    pub haplotype: Option<u8>,
    /// Copies of this ALT.
    pub copies: u8,
    /// FORMAT/GQ.
    pub gq: Option<f64>,
    /// FORMAT/DP.
    pub dp: Option<f64>,
    /// Allele fraction of this ALT.
    pub vaf: Option<f64>,
    /// Matching annotation records (ID and the chosen INFO fields), in file order.
    pub annotations: Vec<Annotation>,
}

/// One matching record of the annotation VCF.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Annotation {
    /// The record's ID column (`.` when none).
    pub id: String,
    /// Chosen INFO fields present on the record (`_` in ClinVar values shown as spaces).
    pub info: BTreeMap<String, String>,
}

/// The section as the report carries it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Findings {
    /// The panel BED.
    pub panel: String,
    /// Its regions and bases.
    pub panel_regions: u64,
    /// Bases in the panel's regions (overlaps counted once per region).
    pub panel_bp: u64,
    /// The annotation VCF, when given.
    pub annotations: Option<String>,
    /// INFO fields taken from it.
    pub annotation_fields: Vec<String>,
    /// How alleles were matched.
    pub normalisation: String,
    /// Per region and phase set with at least two ALTs on one copy each: which copy carries
    /// which (compound heterozygosity is "in trans").
    pub phase_groups: Vec<PhaseGroup>,
    /// PASS calls (ALT alleles) in the panel.
    pub calls: Vec<Finding>,
    /// How many of them matched an annotation record.
    pub annotated: u64,
}

/// ALTs of one panel region phased with each other (same contig and phase set), each on one
/// copy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseGroup {
    /// Panel region name(s).
    pub region: String,
    /// Chromosome as in the VCF.
    pub chrom: String,
    /// The phase set (`PS`; 0: the chromosome).
    pub phase_set: u64,
    /// The ALTs on copy 1 (the first allele of the GTs), as `POS REF>ALT`.
    pub copy_1: Vec<String>,
    /// The ALTs on copy 2.
    pub copy_2: Vec<String>,
    /// `in trans` when both copies carry one (a compound heterozygote, if both are
    /// damaging), `in cis` when one copy carries them all.
    pub relation: String,
}

/// [`PhaseGroup`]s of the findings: groups of at least two single-copy ALTs, in the order
/// their first ALT was found.
pub fn phase_groups(calls: &[Finding]) -> Vec<PhaseGroup> {
    let mut groups: Vec<PhaseGroup> = Vec::new();
    for c in calls {
        let (Some(set), Some(copy)) = (c.phase_set, c.haplotype) else {
            continue;
        };
        let label = format!("{} {}>{}", c.pos, c.reference, c.alt);
        let at = groups
            .iter()
            .position(|g| g.region == c.region && g.chrom == c.chrom && g.phase_set == set);
        let g = match at {
            Some(i) => &mut groups[i],
            None => {
                groups.push(PhaseGroup {
                    region: c.region.clone(),
                    chrom: c.chrom.clone(),
                    phase_set: set,
                    copy_1: Vec::new(),
                    copy_2: Vec::new(),
                    relation: String::new(),
                });
                groups.last_mut().expect("just pushed")
            }
        };
        if copy == 1 {
            g.copy_1.push(label);
        } else {
            g.copy_2.push(label);
        }
    }
    groups.retain(|g| g.copy_1.len() + g.copy_2.len() >= 2);
    for g in &mut groups {
        g.relation = if g.copy_1.is_empty() || g.copy_2.is_empty() {
            "in cis"
        } else {
            "in trans"
        }
        .into();
    }
    groups
}

/// Normalised allele key of one ALT.
fn key(
    contig: &str,
    pos0: u64,
    r: &str,
    a: &str,
    reference: Option<(&Reference, &HashMap<String, String>)>,
    cursor: &mut Option<RefCursor<'_>>,
) -> Result<(String, u64, Vec<u8>, Vec<u8>)> {
    let ck = chrom_key(contig);
    if let (Some((_, names)), Some(c)) = (reference, cursor.as_mut()) {
        if let Some(name) = names.get(&ck) {
            c.load_around(name, pos0, 1_000)?;
            let c = &*c;
            return Ok(normalize(&ck, pos0, r.as_bytes(), a.as_bytes(), &|p| {
                c.base(p)
            }));
        }
    }
    Ok(normalize(&ck, pos0, r.as_bytes(), a.as_bytes(), &|_| b'N'))
}

/// Annotate `calls` from the VCF text at `path` (plain or gzipped), normalising against
/// `reference` when given. Returns how many calls matched.
pub fn annotate(
    calls: &mut [Finding],
    path: &Path,
    fields: &[String],
    panel: &Panel,
    reference: Option<&Reference>,
) -> Result<u64> {
    let names: HashMap<String, String> = reference
        .map(|r| {
            r.contigs()
                .iter()
                .map(|e| (chrom_key(&e.name), e.name.clone()))
                .collect()
        })
        .unwrap_or_default();
    let mut cursor = reference.map(RefCursor::new);
    let refs = reference.map(|r| (r, &names));
    let mut wanted: HashMap<(String, u64, Vec<u8>, Vec<u8>), Vec<usize>> = HashMap::new();
    for (i, c) in calls.iter().enumerate() {
        let k = key(&c.chrom, c.pos - 1, &c.reference, &c.alt, refs, &mut cursor)?;
        wanted.entry(k).or_default().push(i);
    }
    crate::input::check_vcf_complete(path)?;
    let reader = crate::input::open_text(path, "annotation VCF")?;
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.splitn(9, '\t').collect();
        if f.len() < 8 {
            bail!(
                "{}: line {}: a VCF record has at least 8 columns, this one {}",
                path.display(),
                n + 1,
                f.len()
            );
        }
        let pos: u64 = match f[1].parse() {
            Ok(p) if p > 0 => p,
            _ => bail!(
                "{}: line {}: POS {:?} is not a position",
                path.display(),
                n + 1,
                f[1]
            ),
        };
        if !panel.near(f[0], pos - 1) {
            continue;
        }
        for alt in f[4].split(',') {
            if alt.is_empty() || alt == "." || alt == "*" || alt.starts_with('<') {
                continue;
            }
            if !f[3]
                .bytes()
                .chain(alt.bytes())
                .all(|b| b.is_ascii_alphabetic())
            {
                continue;
            }
            let k = key(f[0], pos - 1, f[3], alt, refs, &mut cursor)?;
            let Some(hits) = wanted.get(&k) else { continue };
            let info: BTreeMap<String, String> = f[7]
                .split(';')
                .filter_map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    fields
                        .iter()
                        .any(|w| w == k)
                        .then(|| (k.to_string(), v.replace('_', " ")))
                })
                .collect();
            for &i in hits {
                calls[i].annotations.push(Annotation {
                    id: f[2].to_string(),
                    info: info.clone(),
                });
            }
        }
    }
    Ok(calls.iter().filter(|c| !c.annotations.is_empty()).count() as u64)
}

/// The INFO ids an annotation VCF's header declares (`##INFO=<ID=...`), in header order.
pub fn declared_info(path: &Path) -> Result<Vec<String>> {
    let reader = crate::input::open_text(path, "annotation VCF")?;
    let mut ids = Vec::new();
    for line in reader.lines() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if !line.starts_with("##") {
            break;
        }
        if let Some(rest) = line.strip_prefix("##INFO=<ID=") {
            ids.push(rest.split([',', '>']).next().unwrap_or("").to_string());
        }
    }
    Ok(ids)
}

/// Where the section's inputs are.
#[derive(Debug, Clone, Default)]
pub struct FindingsInputs {
    /// Panel BED.
    pub panel: PathBuf,
    /// Annotation VCF.
    pub annotations: Option<PathBuf>,
    /// INFO fields to show.
    pub fields: Vec<String>,
    /// Reference for left-alignment.
    pub reference: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(chrom: &str, pos: u64, r: &str, a: &str) -> Finding {
        Finding {
            region: "G".into(),
            chrom: chrom.into(),
            pos,
            reference: r.into(),
            alt: a.into(),
            genotype: "0/1".into(),
            phase_set: None,
            haplotype: None,
            copies: 1,
            gq: None,
            dp: None,
            vaf: None,
            annotations: Vec::new(),
        }
    }

    #[test]
    fn phase_groups_say_which_copy_carries_which_alt() {
        let f = |region: &str, pos, set: Option<u64>, copy: Option<u8>| Finding {
            region: region.into(),
            phase_set: set,
            haplotype: copy,
            ..finding("chr1", pos, "A", "G")
        };
        let calls = vec![
            f("G", 10, Some(10), Some(1)),
            f("G", 20, Some(10), Some(2)),
            f("G", 30, Some(10), None),    // homozygous: both copies
            f("G", 40, None, None),        // unphased
            f("G", 50, Some(45), Some(1)), // alone in its phase set
            f("H", 60, Some(10), Some(2)),
            f("H", 70, Some(10), Some(2)),
        ];
        let g = phase_groups(&calls);
        assert_eq!(g.len(), 2, "{g:?}");
        assert_eq!(
            (g[0].region.as_str(), g[0].phase_set, g[0].relation.as_str()),
            ("G", 10, "in trans")
        );
        assert_eq!(g[0].copy_1, vec!["10 A>G"]);
        assert_eq!(g[0].copy_2, vec!["20 A>G"]);
        assert_eq!(
            (g[1].region.as_str(), g[1].relation.as_str()),
            ("H", "in cis")
        );
        assert!(g[1].copy_1.is_empty() && g[1].copy_2.len() == 2);
    }

    #[test]
    fn annotations_match_by_normalised_allele() {
        let d = tempfile::tempdir().unwrap();
        // Reference chr1: 9 G, C at 0-based 9, the A run at 10..13, G at 14, then T.
        let fa = d.path().join("r.fa");
        std::fs::write(&fa, ">chr1\nGGGGGGGGGCAAAAGTTTTTTTTTTTTTTTTTTTT\n").unwrap();
        let reference = Reference::open(&fa).unwrap();
        let vcf = d.path().join("clinvar.vcf");
        // ClinVar-style: contig "1", the deletion left-aligned at the C anchor (POS 10), a
        // padded SNV (GT>GA at POS 15 is T>A at 16) and another allele at 16.
        std::fs::write(
            &vcf,
            "##fileformat=VCFv4.1\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n\
             1\t10\t111\tCA\tC\t.\t.\tCLNSIG=Pathogenic;CLNDN=Some_disease;OTHER=x\n\
             1\t15\t222\tGT\tGA\t.\t.\tCLNSIG=Benign\n\
             1\t16\t333\tT\tC\t.\t.\tCLNSIG=Uncertain_significance\n",
        )
        .unwrap();
        let panel = Panel::new(vec![PanelRegion {
            contig: "chr1".into(),
            start: 0,
            end: 30,
            name: "G".into(),
        }]);
        let fields: Vec<String> = ["CLNSIG", "CLNDN"].map(String::from).to_vec();
        // The call writes the deletion at the end of the run; the SNV minimal.
        let mut calls = vec![
            finding("chr1", 13, "AA", "A"),
            finding("chr1", 16, "T", "A"),
        ];
        let n = annotate(&mut calls, &vcf, &fields, &panel, Some(&reference)).unwrap();
        assert_eq!(n, 2);
        assert_eq!(calls[0].annotations[0].id, "111");
        assert_eq!(calls[0].annotations[0].info["CLNDN"], "Some disease");
        assert!(!calls[0].annotations[0].info.contains_key("OTHER"));
        assert_eq!(calls[1].annotations[0].id, "222");
        assert_eq!(calls[1].annotations.len(), 1);
        // Without the reference the deletion is not left-aligned, so it is not matched.
        let mut calls = vec![
            finding("chr1", 13, "AA", "A"),
            finding("chr1", 16, "T", "A"),
        ];
        assert_eq!(
            annotate(&mut calls, &vcf, &fields, &panel, None).unwrap(),
            1
        );
        assert!(calls[0].annotations.is_empty());
    }

    #[test]
    fn panel_names_and_bed_errors() {
        let d = tempfile::tempdir().unwrap();
        let bed = d.path().join("p.bed");
        std::fs::write(&bed, "track x\nchr1\t10\t20\tBRCA1\nchr1\t15\t30\n").unwrap();
        let p = Panel::new(read_panel(&bed).unwrap());
        assert_eq!(
            p.names_overlapping("1", 16, 17).as_deref(),
            Some("BRCA1,chr1:16-30")
        );
        assert_eq!(p.names_overlapping("chr1", 9, 10), None);
        assert_eq!(p.names_overlapping("chr1", 5, 11).as_deref(), Some("BRCA1"));
        assert_eq!((p.regions(), p.bp()), (2, 25));
        std::fs::write(&bed, "chr1\t20\t10\tX\n").unwrap();
        assert!(format!("{:#}", read_panel(&bed).unwrap_err()).contains("p.bed:1"));
    }
}
