//! Stage: report. One sample's calls (and any scores written beside them) summarised as JSON,
//! a self-contained HTML page and a MultiQC custom-content table.
//!
//! The numbers are the ones sequencing cores already read in `bcftools stats` and DeepVariant's
//! visual report: counts by FILTER and variant type, Ti/Tv, het/hom, indel lengths, and QUAL,
//! GQ, DP and VAF distributions. Counting rules, so they can be checked against those tools:
//! - A call is a record whose FILTER is PASS (or `.`) and whose sample genotype carries an ALT.
//! - Variant types count the ALT alleles in the genotype (a 1/2 call counts two alleles), each
//!   classified after trimming the bases it shares with REF.
//! - Het/hom: 0/1 is het, 1/1 hom-alt, 1/2 het-alt (two different ALTs).
//!
//! Version 2 adds what a sequencing core and a clinic read first: what was called and how well
//! it was covered (from the `PREFIX.stats.json` that `call` writes), the sample's sex when
//! known (else its X/Y depth), the scores with their reference population and the risk with
//! its calibration caveat, PASS calls inside a gene panel annotated from a VCF such as ClinVar
//! ([`findings`]), and provenance. The JSON follows `docs/report.schema.json`
//! ([`REPORT_VERSION`]).
//!
//! The JSON carries no timestamp, so the same inputs give byte-identical JSON; the HTML shows
//! the date it was written (`SOURCE_DATE_EPOCH` fixes it).
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::errors::BadInput;
use anyhow::{bail, Context, Result};
use rust_htslib::bcf::{self, record::Numeric, Read};
use serde::Serialize;

use crate::vcf_genotypes;

pub mod findings;
mod html;

use crate::run_stats::{RunStats, SexEvidence};
use findings::{Finding, Findings, FindingsInputs, Panel};

/// Version of the report JSON's layout (`docs/report.schema.json`).
pub const REPORT_VERSION: u32 = 2;

/// What the report is built from.
#[derive(Debug, Clone, Default)]
pub struct ReportInputs {
    /// The VCF (plain, bgzipped or BCF).
    pub vcf: PathBuf,
    /// Sample column to report; default the first.
    pub sample: Option<String>,
    /// `varstream call`'s `PREFIX.stats.json`, if any.
    pub stats: Option<PathBuf>,
    /// `varstream score prs` output (`PREFIX.prs.tsv`), if any.
    pub prs: Option<PathBuf>,
    /// `varstream score expression` output (`PREFIX.expression.tsv`), if any.
    pub expression: Option<PathBuf>,
    /// `varstream score effects` per-sample output (`PREFIX.effects_samples.tsv`), if any.
    pub effects: Option<PathBuf>,
    /// `varstream score risk` output (`PREFIX.risk.tsv`), if any.
    pub risk: Option<PathBuf>,
    /// Gene panel and annotation VCF for the variants section, if any.
    pub findings: Option<FindingsInputs>,
    /// The command line that asked for the report.
    pub command_line: String,
}

/// Counts in fixed bins: bin i holds values in `[edges[i], edges[i + 1])`, the last bin
/// everything from its edge up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Histogram {
    /// Lower edge of each bin.
    pub edges: Vec<f64>,
    /// Values in each bin.
    pub counts: Vec<u64>,
}

impl Histogram {
    fn new(edges: &[f64]) -> Self {
        Self {
            edges: edges.to_vec(),
            counts: vec![0; edges.len()],
        }
    }

    fn add(&mut self, x: f64) {
        if x.is_nan() {
            return;
        }
        let i = self.edges.iter().rposition(|&e| x >= e).unwrap_or(0);
        self.counts[i] += 1;
    }
}

/// Called ALT alleles by kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TypeCounts {
    /// Single-base substitutions.
    pub snv: u64,
    /// Multi-base substitutions of equal length.
    pub mnp: u64,
    /// Insertions (REF is a prefix of ALT after trimming).
    pub insertion: u64,
    /// Deletions.
    pub deletion: u64,
    /// Anything else (length change plus substitution, symbolic alleles).
    pub complex: u64,
}

/// Genotype classes of the calls.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Zygosity {
    /// 0/1.
    pub het: u64,
    /// 1/1.
    pub hom_alt: u64,
    /// 1/2: two different ALTs.
    pub het_alt: u64,
    /// Haploid ALT calls (`1`): male chrX/chrY outside the PARs, chrM. Not in the het/hom ratio.
    pub hemizygous: u64,
}

/// Everything the report says about the calls.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallStats {
    /// Records in the file.
    pub records: u64,
    /// Records per FILTER value (`PASS` includes `.`); a record with several filters counts
    /// under each.
    pub filters: BTreeMap<String, u64>,
    /// PASS records whose genotype carries an ALT.
    pub calls: u64,
    /// Of those, records with more than one ALT listed (gVCF's `<*>`/`<NON_REF>` not counted).
    pub multiallelic: u64,
    /// Called ALT alleles by kind.
    pub types: TypeCounts,
    /// Genotype classes.
    pub zygosity: Zygosity,
    /// het / hom-alt (het-alt calls count as het), `None` without hom-alt calls.
    pub het_hom_ratio: Option<f64>,
    /// SNV transitions (A<->G, C<->T).
    pub transitions: u64,
    /// SNV transversions.
    pub transversions: u64,
    /// transitions / transversions, `None` without transversions.
    pub ti_tv: Option<f64>,
    /// Called indel alleles by length change (ALT minus REF bases); ±21 holds everything
    /// longer than 20.
    pub indel_lengths: Vec<(i64, u64)>,
    /// QUAL of calls.
    pub qual: Histogram,
    /// FORMAT/GQ of calls.
    pub gq: Histogram,
    /// FORMAT/DP of calls.
    pub dp: Histogram,
    /// Allele fraction of each called ALT: FORMAT/VAF, else AD / sum(AD).
    pub vaf: Histogram,
    /// Calls per contig, in file order.
    pub per_contig: Vec<(String, u64)>,
}

/// Where the VCF and the report came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Provenance {
    /// varstream version that wrote the report.
    pub version: String,
    /// Source commit of that varstream, when the build recorded it.
    pub commit: Option<String>,
    /// The command line that wrote the report.
    pub report_command: String,
    /// `##source` of the VCF (the caller).
    pub source: Option<String>,
    /// `##varstream_command`: the command line that called the VCF.
    pub command: Option<String>,
    /// `##varstream_model`, as written.
    pub model: Option<String>,
    /// The genotyping model's name (from `##varstream_model`).
    pub model_name: Option<String>,
    /// Its file's SHA-256.
    pub model_sha256: Option<String>,
    /// `##reference`.
    pub reference: Option<String>,
}

/// What was called and how deep, from the stats file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSection {
    /// The stats file.
    pub file: String,
    /// Its contents.
    pub stats: RunStats,
}

/// The sample's sex: reported by sex inference or the user, else X/Y depth, else not assessed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SexSection {
    /// `reported` (the stats file's `sex`), `depth_only` (X/Y depth, no call) or
    /// `not_assessed`.
    pub status: String,
    /// The call and its evidence, when reported.
    pub call: Option<SexEvidence>,
    /// Mean depth over called chrX bases.
    pub x_mean_depth: Option<f64>,
    /// Mean depth over called chrY bases.
    pub y_mean_depth: Option<f64>,
    /// Mean depth over called autosomal bases.
    pub autosomal_mean_depth: Option<f64>,
    /// chrX over autosomal depth.
    pub x_depth_ratio: Option<f64>,
    /// chrY over autosomal depth.
    pub y_depth_ratio: Option<f64>,
    /// Why, in words.
    pub note: String,
}

/// A TSV written by a scorer, kept as text: the report shows the scorer's own numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// The file it came from.
    pub file: String,
    /// Header columns.
    pub columns: Vec<String>,
    /// Rows for the reported sample.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// The value of column `name` in `row` (a row of this table), if the column exists.
    pub fn cell(&self, name: &str, row: &[String]) -> Option<String> {
        let i = self.columns.iter().position(|c| c == name)?;
        row.get(i).cloned()
    }
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// [`REPORT_VERSION`].
    pub report_version: u32,
    /// Tool that wrote the report.
    pub generated_by: String,
    /// Sample reported.
    pub sample: String,
    /// The VCF.
    pub vcf: String,
    /// Versions, commands, models.
    pub provenance: Provenance,
    /// Regions, depth and reads of the run, when its stats file was given.
    pub run: Option<RunSection>,
    /// The sample's sex.
    pub sex: SexSection,
    /// Call statistics.
    pub stats: CallStats,
    /// PASS calls in the gene panel, annotated, when a panel was given.
    pub findings: Option<Findings>,
    /// Polygenic scores, if given.
    pub prs: Option<Table>,
    /// Risk from a risk model, if given.
    pub risk: Option<Table>,
    /// Predicted expression, if given.
    pub expression: Option<Table>,
    /// Variant effects per sample, if given.
    pub effects: Option<Table>,
}

/// Kind of one ALT allele against REF, after trimming shared suffix then prefix bases.
pub fn classify(reference: &[u8], alt: &[u8]) -> AlleleKind {
    if alt.first() == Some(&b'<') || alt.contains(&b'[') || alt.contains(&b']') || alt == b"*" {
        return AlleleKind::Complex;
    }
    let (mut r, mut a) = (reference, alt);
    while r.len() > 1 && a.len() > 1 && r.last() == a.last() {
        r = &r[..r.len() - 1];
        a = &a[..a.len() - 1];
    }
    while r.len() > 1 && a.len() > 1 && r[0] == a[0] {
        r = &r[1..];
        a = &a[1..];
    }
    match (r.len(), a.len()) {
        (1, 1) => AlleleKind::Snv(r[0].to_ascii_uppercase(), a[0].to_ascii_uppercase()),
        (x, y) if x == y => AlleleKind::Mnp,
        (1, y) if a[0] == r[0] => AlleleKind::Insertion(y as i64 - 1),
        (x, 1) if a[0] == r[0] => AlleleKind::Deletion(x as i64 - 1),
        _ => AlleleKind::Complex,
    }
}

/// See [`classify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlleleKind {
    /// REF base, ALT base.
    Snv(u8, u8),
    /// Equal-length substitution of several bases.
    Mnp,
    /// Inserted bases.
    Insertion(i64),
    /// Deleted bases.
    Deletion(i64),
    /// Anything else.
    Complex,
}

fn is_transition(r: u8, a: u8) -> bool {
    matches!(
        (r, a),
        (b'A', b'G') | (b'G', b'A') | (b'C', b'T') | (b'T', b'C')
    )
}

/// Accumulates [`CallStats`] one record at a time.
struct Collector {
    stats: CallStats,
    indel: BTreeMap<i64, u64>,
}

/// One record reduced to what the statistics need.
struct Rec<'a> {
    contig: &'a str,
    alleles: Vec<&'a [u8]>,
    filters: Vec<String>,
    qual: f64,
    gt: vcf_genotypes::Gt,
    gq: Option<f64>,
    dp: Option<f64>,
    /// Allele fraction per ALT (index 0 = first ALT).
    vaf: Vec<Option<f64>>,
}

impl Collector {
    fn new() -> Self {
        let vaf_edges: Vec<f64> = (0..20).map(|i| i as f64 * 0.05).collect();
        Self {
            stats: CallStats {
                records: 0,
                filters: BTreeMap::new(),
                calls: 0,
                multiallelic: 0,
                types: TypeCounts::default(),
                zygosity: Zygosity::default(),
                het_hom_ratio: None,
                transitions: 0,
                transversions: 0,
                ti_tv: None,
                indel_lengths: Vec::new(),
                qual: Histogram::new(&[0., 10., 20., 30., 40., 50., 60., 80., 100.]),
                gq: Histogram::new(&[0., 10., 20., 30., 40., 50., 60., 70., 80., 90., 99.]),
                dp: Histogram::new(&[0., 10., 20., 30., 40., 50., 60., 80., 100., 150., 200.]),
                vaf: Histogram::new(&vaf_edges),
                per_contig: Vec::new(),
            },
            indel: BTreeMap::new(),
        }
    }

    fn add(&mut self, r: &Rec) {
        let s = &mut self.stats;
        s.records += 1;
        for f in &r.filters {
            *s.filters.entry(f.clone()).or_default() += 1;
        }
        let Some(gt) = r.gt else { return };
        if !r.filters.iter().any(|f| f == "PASS") || gt.alleles().iter().all(|&a| a == 0) {
            return;
        }
        s.calls += 1;
        // gVCF variant records list `<NON_REF>` or `<*>` beside their ALT: not a second ALT.
        let alts = r.alleles[1..]
            .iter()
            .filter(|a| !vcf_genotypes::is_non_ref_placeholder(a))
            .count();
        if alts > 1 {
            s.multiallelic += 1;
        }
        match *gt.alleles() {
            [_] => s.zygosity.hemizygous += 1,
            [a, b] if a.min(b) == 0 => s.zygosity.het += 1,
            [a, b] if a == b => s.zygosity.hom_alt += 1,
            _ => s.zygosity.het_alt += 1,
        }
        match s.per_contig.last_mut() {
            Some((c, n)) if c == r.contig => *n += 1,
            _ => s.per_contig.push((r.contig.to_string(), 1)),
        }
        s.qual.add(r.qual);
        if let Some(gq) = r.gq {
            s.gq.add(gq);
        }
        if let Some(dp) = r.dp {
            s.dp.add(dp);
        }
        let mut called: Vec<u16> = gt.alleles().iter().copied().filter(|&a| a > 0).collect();
        called.dedup();
        for a in called {
            let Some(alt) = r.alleles.get(a as usize) else {
                continue;
            };
            if let Some(Some(v)) = r.vaf.get(a as usize - 1) {
                s.vaf.add(*v);
            }
            match classify(r.alleles[0], alt) {
                AlleleKind::Snv(x, y) => {
                    s.types.snv += 1;
                    if is_transition(x, y) {
                        s.transitions += 1;
                    } else {
                        s.transversions += 1;
                    }
                }
                AlleleKind::Mnp => s.types.mnp += 1,
                AlleleKind::Insertion(n) => {
                    s.types.insertion += 1;
                    *self.indel.entry(n.min(21)).or_default() += 1;
                }
                AlleleKind::Deletion(n) => {
                    s.types.deletion += 1;
                    *self.indel.entry(-n.min(21)).or_default() += 1;
                }
                AlleleKind::Complex => s.types.complex += 1,
            }
        }
    }

    fn finish(mut self) -> CallStats {
        let s = &mut self.stats;
        s.indel_lengths = self.indel.into_iter().collect();
        let het = s.zygosity.het + s.zygosity.het_alt;
        s.het_hom_ratio = (s.zygosity.hom_alt > 0).then(|| het as f64 / s.zygosity.hom_alt as f64);
        s.ti_tv = (s.transversions > 0).then(|| s.transitions as f64 / s.transversions as f64);
        self.stats
    }
}

/// Read the VCF and any score tables into a [`Report`].
pub fn build(inputs: &ReportInputs) -> Result<Report> {
    let path = &inputs.vcf;
    let mut reader = vcf_genotypes::open(path)?;
    let header = reader.header().clone();
    let samples = vcf_genotypes::header_samples(&reader);
    let sample_index = match &inputs.sample {
        Some(name) => samples.iter().position(|s| s == name).with_context(|| {
            format!(
                "{}: no sample {name} (it has: {})",
                path.display(),
                samples.join(", ")
            )
        })?,
        None if samples.is_empty() => bail!("{}: no sample columns", path.display()),
        None => 0,
    };
    if !header_is_utf8(&header) {
        bail!("{}: the VCF header is not UTF-8", path.display());
    }
    let mut provenance = provenance(&header);
    provenance.report_command = inputs.command_line.clone();
    // Read the small inputs first: a wrong panel or stats file fails before the VCF is read.
    let run = match &inputs.stats {
        Some(p) => Some(RunSection {
            file: p.display().to_string(),
            stats: crate::run_stats::read(p).bad_input()?,
        }),
        None => None,
    };
    let panel = match &inputs.findings {
        Some(f) => Some(Panel::new(findings::read_panel(&f.panel).bad_input()?)),
        None => None,
    };
    let mut found: Vec<Finding> = Vec::new();
    // Contigs (by the contig-name rule) that hold a record: a panel on none of them lists
    // nothing, which is said rather than shown as an empty table.
    let mut record_contigs: std::collections::BTreeSet<String> = Default::default();
    let mut col = Collector::new();
    let mut rec = reader.empty_record();
    let mut n = 0u64;
    while let Some(r) = reader.read(&mut rec) {
        n += 1;
        r.with_context(|| format!("{}: cannot parse record {n}", path.display()))?;
        let contig = match rec.rid() {
            // The record's header, not `header`: htslib adds contigs and FILTERs the header
            // does not declare to the reader's header as it meets them.
            Some(rid) => vcf_genotypes::chrom_name(rec.header(), rid, path, n)?,
            None => bail!("{}: record {n} has no chromosome", path.display()),
        };
        vcf_genotypes::check_numeric_format(&rec, &[b"GT", b"GQ", b"DP", b"AD", b"VAF"], path, n)?;
        if panel.is_some() && !record_contigs.contains(&contig) {
            record_contigs.insert(contig.clone());
        }
        let locus = || format!("{}: at {contig}:{}", path.display(), rec.pos() + 1);
        let alleles = rec.alleles();
        let mut filters: Vec<String> = rec
            .filters()
            .map(|id| String::from_utf8_lossy(&rec.header().id_to_name(id)).into_owned())
            .collect();
        if filters.is_empty() {
            filters.push("PASS".into());
        }
        let qual = rec.qual();
        let gt = vcf_genotypes::genotypes(&rec, samples.len())[sample_index];
        let int_field = |tag: &[u8]| -> Option<Vec<i32>> {
            let v = rec.format(tag).integer().ok()?;
            Some(v.get(sample_index)?.to_vec())
        };
        let gq = int_field(b"GQ")
            .and_then(|v| v.first().copied())
            .filter(|x| !x.is_missing())
            .map(f64::from);
        let dp = int_field(b"DP")
            .and_then(|v| v.first().copied())
            .filter(|x| !x.is_missing())
            .map(f64::from);
        let n_alt = alleles.len().saturating_sub(1);
        let vaf = match rec.format(b"VAF").float() {
            Ok(v) => {
                let v = v.get(sample_index).map(|x| x.to_vec()).unwrap_or_default();
                (0..n_alt)
                    .map(|i| {
                        v.get(i)
                            .filter(|x| !x.is_missing() && !x.is_nan())
                            .map(|&x| x as f64)
                    })
                    .collect()
            }
            Err(_) => match int_field(b"AD") {
                Some(ad) if ad.len() == alleles.len() => {
                    let total: i64 = ad
                        .iter()
                        .filter(|x| !x.is_missing())
                        .map(|&x| x as i64)
                        .sum();
                    (0..n_alt)
                        .map(|i| {
                            (total > 0 && !ad[i + 1].is_missing())
                                .then(|| ad[i + 1] as f64 / total as f64)
                        })
                        .collect()
                }
                _ => vec![None; n_alt],
            },
        };
        let r = Rec {
            contig: &contig,
            alleles,
            filters,
            qual: if qual.is_missing() {
                f64::NAN
            } else {
                qual as f64
            },
            gt,
            gq,
            dp,
            vaf,
        };
        if r.gt
            .is_some_and(|g| g.alleles().iter().any(|&a| a as usize >= r.alleles.len()))
        {
            bail!(
                "{}: genotype names an allele the record does not list",
                locus()
            );
        }
        col.add(&r);
        if let Some(panel) = &panel {
            panel_calls(panel, &r, rec.pos() as u64, &mut found);
        }
    }
    let sample = samples[sample_index].clone();
    if let Some(run) = run.as_ref().filter(|r| r.stats.sample != sample) {
        log::warn!(
            "{} is for sample {}, the report for {sample}",
            run.file,
            run.stats.sample
        );
    }
    if let (Some(f), Some(panel)) = (&inputs.findings, &panel) {
        let keys: std::collections::BTreeSet<String> = record_contigs
            .iter()
            .map(|c| crate::contig_names::chrom_key(c))
            .collect();
        let panel_contigs = panel.contigs();
        if n > 0 && !panel_contigs.iter().any(|c| keys.contains(c)) {
            log::warn!(
                "panel BED {}: none of its {} region(s) lies on a contig with a record in {} \
                 (panel contigs {}; VCF contigs {}): no variant can be listed; is the panel for \
                 another build or region?",
                f.panel.display(),
                panel.regions(),
                path.display(),
                panel_contigs
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                record_contigs
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let findings = match (&inputs.findings, &panel) {
        (Some(f), Some(panel)) => Some(findings_section(f, panel, found)?),
        _ => None,
    };
    let table = |p: &Option<PathBuf>| -> Result<Option<Table>> {
        p.as_deref()
            .map(|p| read_table(p, &sample).bad_input())
            .transpose()
    };
    Ok(Report {
        report_version: REPORT_VERSION,
        generated_by: format!("varstream {}", crate::VERSION),
        vcf: path.display().to_string(),
        sex: sex_section(run.as_ref()),
        run,
        provenance,
        stats: col.finish(),
        findings,
        prs: table(&inputs.prs)?,
        risk: table(&inputs.risk)?,
        expression: table(&inputs.expression)?,
        effects: table(&inputs.effects)?,
        sample,
    })
}

/// The varstream version the report names.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The source commit, when the build recorded one (varstream-io's build script).
pub fn commit() -> Option<&'static str> {
    Some(crate::GIT_COMMIT).filter(|c| !c.is_empty())
}

/// The record's called ALT alleles that lie in the panel (its REF span overlaps a region).
fn panel_calls(panel: &Panel, r: &Rec, pos0: u64, out: &mut Vec<Finding>) {
    let Some(gt) = r.gt else { return };
    if gt.alleles().iter().all(|&a| a == 0) || !r.filters.iter().any(|f| f == "PASS") {
        return;
    }
    let end = pos0 + r.alleles[0].len().max(1) as u64;
    let Some(region) = panel.names_overlapping(r.contig, pos0, end) else {
        return;
    };
    let mut called: Vec<u16> = gt.alleles().iter().copied().filter(|&a| a > 0).collect();
    called.dedup();
    for a in called {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        out.push(Finding {
            region: region.clone(),
            chrom: r.contig.to_string(),
            pos: pos0 + 1,
            reference: text(r.alleles[0]),
            alt: text(r.alleles[a as usize]),
            genotype: match *gt.alleles() {
                [a] => a.to_string(),
                [a, b] => format!("{}/{}", a.min(b), a.max(b)),
                _ => String::new(),
            },
            copies: gt.count(a as usize) as u8,
            gq: r.gq,
            dp: r.dp,
            // FORMAT floats are f32: four decimals, not f32 noise.
            vaf: r
                .vaf
                .get(a as usize - 1)
                .copied()
                .flatten()
                .map(|v| (v * 1e4).round() / 1e4),
            annotations: Vec::new(),
        });
    }
}

fn findings_section(
    f: &FindingsInputs,
    panel: &Panel,
    mut calls: Vec<Finding>,
) -> Result<Findings> {
    let reference = match &f.reference {
        Some(p) => Some(crate::reference::Reference::open(p).bad_input()?),
        None => None,
    };
    let annotated = match &f.annotations {
        Some(p) => {
            findings::annotate(&mut calls, p, &f.fields, panel, reference.as_ref()).bad_input()?
        }
        None => 0,
    };
    Ok(Findings {
        panel: f.panel.display().to_string(),
        panel_regions: panel.regions() as u64,
        panel_bp: panel.bp(),
        annotations: f.annotations.as_ref().map(|p| p.display().to_string()),
        annotation_fields: if f.annotations.is_some() {
            f.fields.clone()
        } else {
            Vec::new()
        },
        normalisation: if reference.is_some() {
            "split into one ALT per row, trimmed and left-aligned against the reference".into()
        } else {
            "split into one ALT per row and trimmed (no reference given, so indels are not \
             left-aligned)"
                .into()
        },
        calls,
        annotated,
    })
}

fn sex_section(run: Option<&RunSection>) -> SexSection {
    let mut s = SexSection {
        status: "not_assessed".into(),
        call: None,
        x_mean_depth: None,
        y_mean_depth: None,
        autosomal_mean_depth: None,
        x_depth_ratio: None,
        y_depth_ratio: None,
        note: String::new(),
    };
    let Some(run) = run else {
        s.note =
            "not assessed: no stats file (PREFIX.stats.json from varstream call) was given".into();
        return s;
    };
    let stats = &run.stats;
    let mut auto = crate::run_stats::Coverage::default();
    for c in &stats.per_contig {
        let k = crate::scores::chrom_key(&c.contig);
        if k == "X" {
            s.x_mean_depth = Some(c.mean_depth);
        } else if k == "Y" {
            s.y_mean_depth = Some(c.mean_depth);
        } else if crate::contig_names::is_autosome(&c.contig) {
            auto.add(&c.coverage);
        }
    }
    if auto.bp > 0 {
        let a = auto.mean();
        s.autosomal_mean_depth = Some((a * 1e4).round() / 1e4);
        let ratio = |x: Option<f64>| x.filter(|_| a > 0.0).map(|x| ((x / a) * 1e4).round() / 1e4);
        s.x_depth_ratio = ratio(s.x_mean_depth);
        s.y_depth_ratio = ratio(s.y_mean_depth);
    }
    if let Some(ev) = &stats.sex {
        s.status = "reported".into();
        s.call = Some(ev.clone());
        s.note = format!("{} ({})", ev.call, ev.source);
    } else if s.x_mean_depth.is_some() || s.y_mean_depth.is_some() {
        s.status = "depth_only".into();
        s.note = "sex not inferred; X and Y depth shown. Against autosomal depth, XY samples \
                  show about half on chrX and some on chrY, XX samples about the same on chrX \
                  and next to none on chrY (chrY maps poorly, so its ratio stays low)"
            .into();
    } else {
        s.note = "not assessed: the called regions include neither chrX nor chrY".into();
    }
    s
}

/// Whether the header's text is UTF-8, as rust-htslib's `header_records` (which unwraps every
/// key and value as UTF-8) needs.
fn header_is_utf8(header: &bcf::header::HeaderView) -> bool {
    use rust_htslib::htslib;
    let mut text = htslib::kstring_t {
        l: 0,
        m: 0,
        s: std::ptr::null_mut(),
    };
    // SAFETY: htslib formats the header into a buffer it allocates; we read `l` bytes of it
    // and free it once.
    unsafe {
        let ok = htslib::bcf_hdr_format(header.as_ptr(), 0, &mut text) >= 0
            && (text.s.is_null()
                || std::str::from_utf8(std::slice::from_raw_parts(text.s as *const u8, text.l))
                    .is_ok());
        if !text.s.is_null() {
            htslib::free(text.s as *mut std::ffi::c_void);
        }
        ok
    }
}

fn provenance(header: &bcf::header::HeaderView) -> Provenance {
    let mut p = Provenance {
        version: version().to_string(),
        commit: commit().map(String::from),
        ..Default::default()
    };
    for r in header.header_records() {
        let (key, value) = match r {
            bcf::header::HeaderRecord::Generic { key, value } => (key, value),
            // `##varstream_model=<Name=..,SHA256=..>` parses as a structured line.
            bcf::header::HeaderRecord::Structured { key, values } => {
                let v: Vec<String> = values.iter().map(|(k, v)| format!("{k}={v}")).collect();
                (key, v.join(", "))
            }
            _ => continue,
        };
        let slot = match key.as_str() {
            "source" => &mut p.source,
            "varstream_command" => &mut p.command,
            "varstream_model" => &mut p.model,
            "reference" => &mut p.reference,
            _ => continue,
        };
        slot.get_or_insert(value);
    }
    // `Name=varstream-v3, SHA256=0245...`
    if let Some(m) = &p.model {
        for part in m.split(", ") {
            match part.split_once('=') {
                Some(("Name", v)) => p.model_name = Some(v.to_string()),
                Some(("SHA256", v)) => p.model_sha256 = Some(v.to_string()),
                _ => {}
            }
        }
    }
    p
}

/// A scorer's TSV, keeping the header and the rows whose `sample` column is `sample` (all
/// rows when there is no such column).
pub fn read_table(path: &Path, sample: &str) -> Result<Table> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let columns: Vec<String> = lines
        .next()
        .with_context(|| format!("{}: empty table", path.display()))?
        .split('\t')
        .map(str::to_string)
        .collect();
    let sample_col = columns.iter().position(|c| c == "sample");
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let row: Vec<String> = line.split('\t').map(str::to_string).collect();
        if row.len() != columns.len() {
            bail!(
                "{}: line {} has {} columns, the header {}",
                path.display(),
                i + 2,
                row.len(),
                columns.len()
            );
        }
        if sample_col.is_none_or(|c| row[c] == sample) {
            rows.push(row);
        }
    }
    Ok(Table {
        file: path.display().to_string(),
        columns,
        rows,
    })
}

/// MultiQC custom content: one general-statistics-style table row for the sample.
pub fn multiqc(report: &Report) -> serde_json::Value {
    let s = &report.stats;
    let mut row = serde_json::Map::new();
    row.insert("PASS calls".into(), s.calls.into());
    row.insert("SNVs".into(), s.types.snv.into());
    row.insert(
        "Indels".into(),
        (s.types.insertion + s.types.deletion).into(),
    );
    if let Some(x) = s.ti_tv {
        row.insert("Ti/Tv".into(), round3(x).into());
    }
    if let Some(x) = s.het_hom_ratio {
        row.insert("Het/Hom".into(), round3(x).into());
    }
    if let Some(run) = &report.run {
        let c = &run.stats.coverage;
        row.insert("Mean depth".into(), round3(c.mean()).into());
        if let Some(f) = c.fraction_at_least(20) {
            row.insert("% bases >= 20x".into(), round3(100.0 * f).into());
        }
    }
    let mut data = serde_json::Map::new();
    data.insert(report.sample.clone(), row.into());
    serde_json::json!({
        "id": "varstream_calls",
        "section_name": "varstream calls",
        "description": "PASS calls per sample, from varstream report",
        "plot_type": "table",
        "data": data,
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Files a report writes for `prefix`.
pub fn output_paths(prefix: &Path) -> [PathBuf; 3] {
    [".report.json", ".report.html", ".report_mqc.json"].map(|s| crate::output::prefixed(prefix, s))
}

/// Write `PREFIX.report.json`, `PREFIX.report.html` and `PREFIX.report_mqc.json`, each under a
/// temporary name first.
pub fn write(report: &Report, prefix: &Path) -> Result<[PathBuf; 3]> {
    let paths = output_paths(prefix);
    let json = serde_json::to_string_pretty(report)? + "\n";
    let mqc = serde_json::to_string_pretty(&multiqc(report))? + "\n";
    let page = html::render(report);
    for (path, text) in paths.iter().zip([json, page, mqc]) {
        crate::output::write_file(path, text.as_bytes())?;
    }
    Ok(paths)
}

/// Build and write the report; returns the paths written.
pub fn run(inputs: &ReportInputs, prefix: &Path) -> Result<[PathBuf; 3]> {
    let mut read = vec![inputs.vcf.clone()];
    for p in [
        &inputs.stats,
        &inputs.prs,
        &inputs.expression,
        &inputs.effects,
        &inputs.risk,
    ] {
        read.extend(p.iter().cloned());
    }
    if let Some(f) = &inputs.findings {
        read.push(f.panel.clone());
        read.extend(f.annotations.iter().cloned());
        read.extend(f.reference.iter().cloned());
    }
    crate::output::check_outputs(&output_paths(prefix), &read)?;
    let report = build(inputs).bad_input()?;
    let paths = write(&report, prefix)?;
    log::info!(
        "report for {}: {} PASS calls ({} SNV, {} indel alleles) -> {}",
        report.sample,
        report.stats.calls,
        report.stats.types.snv,
        report.stats.types.insertion + report.stats.types.deletion,
        paths[1].display()
    );
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_trims_shared_bases() {
        assert_eq!(classify(b"A", b"G"), AlleleKind::Snv(b'A', b'G'));
        // Multi-allelic records pad every ALT to the longest REF.
        assert_eq!(classify(b"GTT", b"CTT"), AlleleKind::Snv(b'G', b'C'));
        assert_eq!(classify(b"GTT", b"G"), AlleleKind::Deletion(2));
        assert_eq!(classify(b"GTT", b"GTTTT"), AlleleKind::Insertion(2));
        assert_eq!(classify(b"AC", b"GT"), AlleleKind::Mnp);
        assert_eq!(classify(b"AC", b"T"), AlleleKind::Complex);
        assert_eq!(classify(b"A", b"<DEL>"), AlleleKind::Complex);
    }

    #[test]
    fn undeclared_filters_and_contigs_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let vcf = dir.path().join("u.vcf");
        std::fs::write(
            &vcf,
            "##fileformat=VCFv4.2\n##contig=<ID=c1>\n\
             ##FORMAT=<ID=GT,Number=1,Type=String,Description=\"GT\">\n\
             #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n\
             c1\t5\t.\tA\tC\t9\tq10\t.\tGT\t0/1\n\
             c2\t7\t.\tA\tG\t9\tPASS\t.\tGT\t1/1\n",
        )
        .unwrap();
        let r = build(&ReportInputs {
            vcf,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(r.stats.filters["q10"], 1);
        assert_eq!(r.stats.per_contig, vec![("c2".to_string(), 1)]);
    }

    #[test]
    fn non_utf8_header_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let vcf = dir.path().join("h.vcf");
        std::fs::write(
            &vcf,
            b"##fileformat=VCFv4.2\n##source=caf\xe9\n##contig=<ID=c1>\n\
              #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n",
        )
        .unwrap();
        let e = build(&ReportInputs {
            vcf,
            ..Default::default()
        })
        .unwrap_err();
        assert!(
            format!("{e:#}").contains("h.vcf: the VCF header is not UTF-8"),
            "{e:#}"
        );
    }

    #[test]
    fn histogram_bins_by_lower_edge() {
        let mut h = Histogram::new(&[0.0, 10.0, 20.0]);
        for x in [0.0, 9.99, 10.0, 25.0, 1e9, f64::NAN] {
            h.add(x);
        }
        assert_eq!(h.counts, vec![2, 1, 2]);
    }

    #[test]
    fn collector_counts_alleles_zygosity_and_titv() {
        let mut c = Collector::new();
        let rec = |alleles: Vec<&'static [u8]>, filter: &str, gt: vcf_genotypes::Gt| Rec {
            contig: "c",
            vaf: vec![Some(0.5); alleles.len() - 1],
            alleles,
            filters: vec![filter.to_string()],
            qual: 30.0,
            gt,
            gq: Some(20.0),
            dp: Some(30.0),
        };
        let d = |a, b| Some(vcf_genotypes::Call::diploid(a, b));
        let h = |a| Some(vcf_genotypes::Call::haploid(a));
        c.add(&rec(vec![b"A", b"G"], "PASS", d(0, 1))); // transition, het
        c.add(&rec(vec![b"A", b"C"], "PASS", d(1, 1))); // transversion, hom
        c.add(&rec(vec![b"GTT", b"G", b"GT"], "PASS", d(1, 2))); // two deletions, het-alt
        c.add(&rec(vec![b"C", b"CA"], "RefCall", d(0, 0))); // not a call
        c.add(&rec(vec![b"C", b"T"], "LowQual", d(0, 1))); // not PASS
        c.add(&rec(vec![b"C", b"T"], "PASS", None)); // no genotype
        c.add(&rec(vec![b"A", b"T"], "PASS", h(1))); // haploid ALT, transversion
        c.add(&rec(vec![b"A", b"T"], "PASS", h(0))); // haploid REF: not a call
        let s = c.finish();
        assert_eq!(s.records, 8);
        assert_eq!(s.filters["PASS"], 6);
        assert_eq!(s.calls, 4);
        assert_eq!(s.multiallelic, 1);
        assert_eq!((s.types.snv, s.types.deletion), (3, 2));
        assert_eq!((s.transitions, s.transversions, s.ti_tv), (1, 2, Some(0.5)));
        assert_eq!(
            s.zygosity,
            Zygosity {
                het: 1,
                hom_alt: 1,
                het_alt: 1,
                hemizygous: 1
            }
        );
        assert_eq!(s.het_hom_ratio, Some(2.0));
        assert_eq!(s.indel_lengths, vec![(-2, 1), (-1, 1)]);
        assert_eq!(s.vaf.counts[10], 5, "one VAF per called ALT allele");
        assert_eq!(s.per_contig, vec![("c".to_string(), 4)]);
    }
}
