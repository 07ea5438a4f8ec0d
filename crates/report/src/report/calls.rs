#![allow(unused_imports)]
//! Counting one sample's calls: variant classes, zygosity, quality and depth\nhistograms, indel lengths.
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

pub(super) fn is_transition(r: u8, a: u8) -> bool {
    matches!(
        (r, a),
        (b'A', b'G') | (b'G', b'A') | (b'C', b'T') | (b'T', b'C')
    )
}

/// Accumulates [`CallStats`] one record at a time.
pub(super) struct Collector {
    stats: CallStats,
    indel: BTreeMap<i64, u64>,
}

/// One record reduced to what the statistics need.
pub(super) struct Rec<'a> {
    pub(super) contig: &'a str,
    pub(super) alleles: Vec<&'a [u8]>,
    pub(super) filters: Vec<String>,
    pub(super) qual: f64,
    pub(super) gt: vcf_genotypes::Gt,
    pub(super) gq: Option<f64>,
    pub(super) dp: Option<f64>,
    /// Allele fraction per ALT (index 0 = first ALT).
    pub(super) vaf: Vec<Option<f64>>,
    /// A phased genotype: its phase set (`PS`; 0 where the VCF gives none, which the VCF
    /// specification reads as the whole chromosome) and its alleles in the written order.
    pub(super) phase: Option<(u64, [u16; 2])>,
}

impl Collector {
    pub(super) fn new() -> Self {
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

    pub(super) fn add(&mut self, r: &Rec) {
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

    pub(super) fn finish(mut self) -> CallStats {
        let s = &mut self.stats;
        s.indel_lengths = self.indel.into_iter().collect();
        let het = s.zygosity.het + s.zygosity.het_alt;
        s.het_hom_ratio = (s.zygosity.hom_alt > 0).then(|| het as f64 / s.zygosity.hom_alt as f64);
        s.ti_tv = (s.transversions > 0).then(|| s.transitions as f64 / s.transversions as f64);
        self.stats
    }
}
