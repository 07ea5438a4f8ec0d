//! How a scoring file's rows are matched to a VCF's sites: allele orientation, strand flips,\nambiguous and multi-allelic sites, the match types written to the matches table.
use crate::scores::chrom_key;
use crate::scores::pgs_file::{ScoreRow, ScoringFile};
use crate::scores::vcf_genotypes::{GenotypedSite, VcfSites};
use std::collections::{HashMap, HashSet};

/// pgsc_calc's match types, declared in priority order (derive(Ord) ranks them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchType {
    /// effect = REF, other = ALT.
    RefAlt,
    /// effect = ALT, other = REF.
    AltRef,
    /// Same after complementing both scoring alleles.
    RefAltFlip,
    /// Same after complementing both scoring alleles.
    AltRefFlip,
    /// No other allele; effect = REF.
    NoOaRef,
    /// No other allele; effect = ALT.
    NoOaAlt,
    /// No other allele; complement(effect) = REF.
    NoOaRefFlip,
    /// No other allele; complement(effect) = ALT.
    NoOaAltFlip,
    /// A record stating the reference allele only (ALT `.`, as `bcftools convert --gvcf2vcf`
    /// writes hom-ref sites): effect = REF, so a `0/0` sample carries two effect copies.
    /// Beyond pgsc_calc, which needs the other allele as ALT and so never scores these sites.
    RefOnly,
    /// The same with other = REF: a `0/0` sample carries no effect copy.
    RefOnlyOther,
    /// [`MatchType::RefOnly`] after complementing the scoring alleles.
    RefOnlyFlip,
    /// [`MatchType::RefOnlyOther`] after complementing the scoring alleles.
    RefOnlyOtherFlip,
}

/// The effect allele index of a row whose effect allele is not in its reference-only record:
/// no genotype names it, so every called sample has 0 copies.
pub(super) const NOT_LISTED: usize = usize::MAX;

impl MatchType {
    /// pgsc_calc's spelling.
    pub fn name(self) -> &'static str {
        match self {
            MatchType::RefAlt => "refalt",
            MatchType::AltRef => "altref",
            MatchType::RefAltFlip => "refalt_flip",
            MatchType::AltRefFlip => "altref_flip",
            MatchType::NoOaRef => "no_oa_ref",
            MatchType::NoOaAlt => "no_oa_alt",
            MatchType::NoOaRefFlip => "no_oa_ref_flip",
            MatchType::NoOaAltFlip => "no_oa_alt_flip",
            MatchType::RefOnly => "ref_only",
            MatchType::RefOnlyOther => "ref_only_other",
            MatchType::RefOnlyFlip => "ref_only_flip",
            MatchType::RefOnlyOtherFlip => "ref_only_other_flip",
        }
    }

    pub(super) fn flipped(self) -> bool {
        matches!(
            self,
            MatchType::RefAltFlip
                | MatchType::AltRefFlip
                | MatchType::NoOaRefFlip
                | MatchType::NoOaAltFlip
                | MatchType::RefOnlyFlip
                | MatchType::RefOnlyOtherFlip
        )
    }

    fn effect_is_ref(self) -> bool {
        matches!(
            self,
            MatchType::RefAlt
                | MatchType::RefAltFlip
                | MatchType::NoOaRef
                | MatchType::NoOaRefFlip
                | MatchType::RefOnly
                | MatchType::RefOnlyFlip
        )
    }
}

/// Whether a row ends up in the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Scored.
    Matched,
    /// A candidate matched but a filter removed it.
    Excluded,
    /// No VCF record matched.
    Unmatched,
}

/// The fate of one scoring-file row.
#[derive(Debug, Clone)]
pub struct RowMatch {
    /// Matched, excluded or unmatched.
    pub status: Status,
    /// Best match type, when any candidate matched.
    pub match_type: Option<MatchType>,
    /// Index of the matched record within its locus, and the ALT index used.
    pub(super) site: Option<(usize, usize)>,
    /// Allele index (0 = REF) whose copies are counted.
    pub(super) effect_index: usize,
    /// `chrom:pos:ref:alt` of the matched record.
    pub target_variant: String,
    /// Effect allele as spelled in the VCF (complemented for flips).
    pub target_effect_allele: String,
    /// Target REF/ALT are complementary SNP alleles.
    pub ambiguous: bool,
    /// Target record has more than one ALT.
    pub multiallelic: bool,
    /// More than one candidate shares the best match type.
    pub duplicate_best_match: bool,
    /// Another row of the same score matched the same target allele.
    pub duplicate_id: bool,
    /// Why the row is not scored (empty when matched).
    pub reason: String,
}

fn complement(s: &str) -> String {
    // Per base, not reversed: pgsc_calc flips alleles this way.
    s.chars()
        .map(|c| match c {
            'A' => 'T',
            'T' => 'A',
            'C' => 'G',
            'G' => 'C',
            o => o,
        })
        .collect()
}

fn is_ambiguous(r: &str, a: &str) -> bool {
    r.len() == 1 && a.len() == 1 && complement(r) == a
}

fn usable_allele(a: &str) -> bool {
    !a.is_empty()
        && a.bytes()
            .all(|b| matches!(b, b'A' | b'C' | b'G' | b'T' | b'N'))
}

/// Best match of one row against the records at its locus (filters applied later).
pub(super) fn match_row(row: &ScoreRow, sites: &[GenotypedSite]) -> RowMatch {
    let mut m = RowMatch {
        status: Status::Unmatched,
        match_type: None,
        site: None,
        effect_index: 0,
        target_variant: String::new(),
        target_effect_allele: String::new(),
        ambiguous: false,
        multiallelic: false,
        duplicate_best_match: false,
        duplicate_id: false,
        reason: String::new(),
    };
    if row.pos.is_none() {
        m.reason = "no position in scoring file".into();
        return m;
    }
    if sites.is_empty() {
        m.reason = "no VCF record at this position".into();
        return m;
    }
    let e = &row.effect_allele;
    let ef = complement(e);
    let mut cands: Vec<(MatchType, usize, usize)> = Vec::new();
    for (si, site) in sites.iter().enumerate() {
        let r = &site.alleles[0];
        if site.is_reference_only() {
            // A hom-ref site: the scoring alleles are checked against REF only (ALT index 0).
            let o = row.other_allele.as_deref();
            let of = o.map(complement);
            let t = if e == r {
                Some(MatchType::RefOnly)
            } else if o == Some(r.as_str()) {
                Some(MatchType::RefOnlyOther)
            } else if &ef == r {
                Some(MatchType::RefOnlyFlip)
            } else if of.as_ref() == Some(r) {
                Some(MatchType::RefOnlyOtherFlip)
            } else {
                None
            };
            cands.extend(t.map(|t| (t, si, 0)));
            continue;
        }
        for ai in 1..site.alleles.len() {
            let a = &site.alleles[ai];
            if !usable_allele(a) {
                continue;
            }
            let t = match &row.other_allele {
                Some(o) => {
                    let of = complement(o);
                    if e == r && o == a {
                        Some(MatchType::RefAlt)
                    } else if e == a && o == r {
                        Some(MatchType::AltRef)
                    } else if &ef == r && &of == a {
                        Some(MatchType::RefAltFlip)
                    } else if &ef == a && &of == r {
                        Some(MatchType::AltRefFlip)
                    } else {
                        None
                    }
                }
                None if e == r => Some(MatchType::NoOaRef),
                None if e == a => Some(MatchType::NoOaAlt),
                None if &ef == r => Some(MatchType::NoOaRefFlip),
                None if &ef == a => Some(MatchType::NoOaAltFlip),
                None => None,
            };
            if let Some(t) = t {
                cands.push((t, si, ai));
            }
        }
    }
    let Some(best) = cands.iter().map(|c| c.0).min() else {
        m.reason = "alleles do not match any VCF record at this position".into();
        return m;
    };
    // Two ALTs of one record matching on REF count the same allele copies: one candidate.
    let mut seen = HashSet::new();
    let bests: Vec<(usize, usize)> = cands
        .iter()
        .filter(|c| c.0 == best)
        .filter(|c| seen.insert((c.1, if best.effect_is_ref() { 0 } else { c.2 })))
        .map(|c| (c.1, c.2))
        .collect();
    let (si, ai) = bests[0];
    let site = &sites[si];
    m.match_type = Some(best);
    m.site = Some((si, ai));
    if ai == 0 {
        // Reference-only record: strand is judged from the scoring alleles themselves.
        m.effect_index = if best.effect_is_ref() { 0 } else { NOT_LISTED };
        m.target_variant = format!("{}:{}:{}:.", site.chrom, site.pos, site.alleles[0]);
        m.target_effect_allele = if best.flipped() {
            ef.clone()
        } else {
            e.clone()
        };
        m.ambiguous = row
            .other_allele
            .as_deref()
            .is_some_and(|o| is_ambiguous(e, o));
    } else {
        m.effect_index = if best.effect_is_ref() { 0 } else { ai };
        m.target_variant = site.variant_id(ai);
        m.target_effect_allele = site.alleles[m.effect_index].clone();
        m.ambiguous = is_ambiguous(&site.alleles[0], &site.alleles[ai]);
    }
    m.multiallelic = site.is_multiallelic();
    m.duplicate_best_match = bests.len() > 1;
    m.status = Status::Matched;
    m
}

/// Match every row of a scoring file and apply pgsc_calc's default filters.
pub fn match_score(
    file: &ScoringFile,
    vcf: &VcfSites,
    keep_ambiguous: bool,
    keep_multiallelic: bool,
) -> Vec<RowMatch> {
    let empty: Vec<GenotypedSite> = Vec::new();
    let mut out: Vec<RowMatch> = file
        .rows
        .iter()
        .map(|row| {
            let sites = row
                .pos
                .and_then(|p| vcf.by_locus.get(&(chrom_key(&row.chrom), p)))
                .unwrap_or(&empty);
            let mut m = match_row(row, sites);
            if m.status == Status::Matched {
                let why = if m.duplicate_best_match {
                    "duplicate_best_match: several VCF records match equally well"
                } else if m.ambiguous && !keep_ambiguous {
                    "ambiguous: palindromic A/T or C/G SNP (strand cannot be resolved)"
                } else if m.multiallelic && !keep_multiallelic {
                    "multiallelic: VCF record has more than one ALT"
                } else {
                    ""
                };
                if !why.is_empty() {
                    m.status = Status::Excluded;
                    m.reason = why.into();
                }
            }
            m
        })
        .collect();
    // Rows that would count the same target allele twice are all dropped (pgsc_calc's
    // duplicate_ID rule), since no single row can be said to be the right one.
    let mut by_target: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (i, m) in out.iter().enumerate() {
        if m.status == Status::Matched {
            by_target
                .entry((m.target_variant.clone(), m.target_effect_allele.clone()))
                .or_default()
                .push(i);
        }
    }
    for idx in by_target.values().filter(|v| v.len() > 1) {
        let lines: Vec<String> = idx.iter().map(|&i| file.rows[i].line.to_string()).collect();
        for &i in idx {
            out[i].status = Status::Excluded;
            out[i].duplicate_id = true;
            out[i].reason = format!(
                "duplicate_ID: lines {} match the same VCF allele",
                lines.join(",")
            );
        }
    }
    out
}
