#![allow(unused_imports)]
//! The report's content as it is written to JSON (`docs/report.schema.json`): each section's\ntypes.
use crate::errors::BadInput;
use crate::run_stats::{RunStats, SexEvidence};
use crate::vcf_genotypes;
use anyhow::{bail, Context, Result};
use findings::{Finding, Findings, FindingsInputs, Panel};
use rust_htslib::bcf::{self, record::Numeric, Read};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;

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
    pub(super) fn new(edges: &[f64]) -> Self {
        Self {
            edges: edges.to_vec(),
            counts: vec![0; edges.len()],
        }
    }

    pub(super) fn add(&mut self, x: f64) {
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
