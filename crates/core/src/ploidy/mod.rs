//! Ploidy and sex: how many copies of each base the sample carries (0, 1 or 2), from the
//! sample's sex and either the built-in human rules or a bcftools-style ploidy file.
//!
//! Built-in rules: chrM/MT is haploid; in an XY sample the `--haploid-contigs` (default chrX and
//! chrY, or X and Y) are haploid outside the pseudo-autosomal regions (PARs, built in for GRCh37
//! and GRCh38, else `--par BED`); in an XX sample chrY is absent (ploidy 0: not called). When
//! the sex is ambiguous, everything but chrM stays diploid.
//!
//! The sex is inferred from read counts in a fixed sample of windows on the autosomes, chrX and
//! chrY that does not depend on the regions called, so every shard of a scattered run infers
//! the same sex ([`sex`]).
use std::path::Path;

use anyhow::Result;

use crate::bail_input;
use crate::reads::{ReadFilter, ReadSource};
use crate::reference::Reference;
use crate::regions::Interval;

/// A sample's sex chromosomes, as far as calling needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Sex {
    /// Two X chromosomes: chrX diploid, no chrY.
    #[value(name = "XX")]
    XX,
    /// One X and one Y: both haploid outside the PARs.
    #[value(name = "XY")]
    XY,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::XX => "XX",
            Sex::XY => "XY",
        }
    }
}

/// `--sex`: infer it, or take the user's word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SexChoice {
    #[value(name = "auto")]
    Auto,
    #[value(name = "XX")]
    XX,
    #[value(name = "XY")]
    XY,
}

/// The sex calling used, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct SexCall {
    /// `None`: ambiguous or not assessed; calling falls back to diploid.
    pub sex: Option<Sex>,
    /// `"user"` or `"inferred"`.
    pub source: &'static str,
    /// chrX read rate over the autosomal rate (about 1 for XX, 0.5 for XY), when measured.
    pub x_ratio: Option<f64>,
    /// chrY read rate over the autosomal rate (about 0 for XX; for XY lower than 0.5, since
    /// much of chrY is repeats where reads have low MAPQ).
    pub y_ratio: Option<f64>,
    /// Reads counted on the autosomes, chrX and chrY.
    pub reads: [u64; 3],
    /// One line of evidence for the log and the header.
    pub note: String,
}

impl SexCall {
    /// The `##varstream_sex` header line (without the newline).
    pub fn header_line(&self) -> String {
        let ratio = |r: Option<f64>| r.map_or(".".to_string(), |r| format!("{r:.3}"));
        format!(
            "##varstream_sex=<Sex={},Source={},XRatio={},YRatio={},Reads={}/{}/{},Note=\"{}\">",
            self.sex.map_or("unknown", Sex::as_str),
            self.source,
            ratio(self.x_ratio),
            ratio(self.y_ratio),
            self.reads[0],
            self.reads[1],
            self.reads[2],
            self.note.replace('"', "'")
        )
    }
}

/// One ploidy rule: `ploidy` copies over `[start, end)` of `contig` (`None`: every contig) for
/// samples of `sex` (`None`: any sex). Later rules override earlier ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PloidyRule {
    pub contig: Option<String>,
    pub start: u64,
    pub end: u64,
    pub sex: Option<Sex>,
    pub ploidy: u8,
}

pub use crate::contig_names::{is_autosome, is_mito, is_x, is_y};

/// PARs (0-based half-open) of the human chrX and chrY, recognised by their lengths:
/// GRCh38 chrX 156,040,895 bp, PAR1 X:10,001-2,781,479, PAR2 X:155,701,383-156,030,895
/// (chrY 57,227,415 bp: Y:10,001-2,781,479 and Y:56,887,903-57,217,415); GRCh37 chrX
/// 155,270,560 bp, PAR1 X:60,001-2,699,520, PAR2 X:154,931,044-155,260,560 (chrY 59,373,566
/// bp: Y:10,001-2,649,520 and Y:59,034,050-59,363,566). Coordinates are Genome Reference
/// Consortium's, 1-based inclusive. `None` when a contig named X or Y has another length.
pub fn builtin_pars(contig: &str, len: u64) -> Option<Vec<(u64, u64)>> {
    let one_based = |v: &[(u64, u64)]| v.iter().map(|&(s, e)| (s - 1, e)).collect();
    match (is_x(contig), is_y(contig), len) {
        (true, _, 156_040_895) => Some(one_based(&[
            (10_001, 2_781_479),
            (155_701_383, 156_030_895),
        ])),
        (true, _, 155_270_560) => Some(one_based(&[
            (60_001, 2_699_520),
            (154_931_044, 155_260_560),
        ])),
        (_, true, 57_227_415) => Some(one_based(&[(10_001, 2_781_479), (56_887_903, 57_217_415)])),
        (_, true, 59_373_566) => Some(one_based(&[(10_001, 2_649_520), (59_034_050, 59_363_566)])),
        _ => None,
    }
}

/// `--par`: built-in PARs, none, or a BED.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParSource {
    Builtin,
    None,
    Bed(Vec<Interval>),
}

/// PARs of `contig` (length `len`) from `pars`; `None` when built-in ones were asked for and
/// none are known for this contig's length.
pub fn pars_of(pars: &ParSource, contig: &str, len: u64) -> Option<Vec<(u64, u64)>> {
    match pars {
        ParSource::None => Some(Vec::new()),
        ParSource::Bed(ivs) => Some(
            ivs.iter()
                .filter(|iv| iv.contig == contig)
                .map(|iv| (iv.start, iv.end.min(len)))
                .collect(),
        ),
        ParSource::Builtin if is_x(contig) || is_y(contig) => builtin_pars(contig, len),
        ParSource::Builtin => Some(Vec::new()),
    }
}

/// The built-in human rules for `contigs` (name, length): chrM/MT haploid; each of
/// `haploid_contigs` present haploid in XY samples outside its PARs; chrY absent in XX samples.
/// With `explicit` (the user listed the contigs), they are haploid outside their PARs whatever
/// the sex, as DeepVariant's `--haploid_contigs` are. Also the haploid contigs whose PARs are
/// unknown (built-in PARs asked for, and the contig is neither GRCh37's nor GRCh38's): a
/// haploid call there needs `--par`.
pub fn human_rules(
    contigs: &[(String, u64)],
    haploid_contigs: &[String],
    explicit: bool,
    pars: &ParSource,
) -> (Vec<PloidyRule>, Vec<String>) {
    let mut rules = Vec::new();
    let mut unknown_pars = Vec::new();
    for (name, len) in contigs {
        let whole = |sex, ploidy| PloidyRule {
            contig: Some(name.clone()),
            start: 0,
            end: *len,
            sex,
            ploidy,
        };
        if is_mito(name) {
            rules.push(whole(None, 1));
            continue;
        }
        if !haploid_contigs.iter().any(|h| h == name) {
            continue;
        }
        let haploid_in = if explicit { None } else { Some(Sex::XY) };
        rules.push(whole(haploid_in, 1));
        if is_y(name) && !explicit {
            rules.push(whole(Some(Sex::XX), 0));
        }
        let Some(contig_pars) = pars_of(pars, name, *len) else {
            unknown_pars.push(name.clone());
            continue;
        };
        for (s, e) in contig_pars {
            rules.push(PloidyRule {
                contig: Some(name.clone()),
                start: s,
                end: e.min(*len),
                sex: haploid_in,
                ploidy: 2,
            });
        }
    }
    (rules, unknown_pars)
}

/// Read a bcftools-style ploidy file: `CHROM FROM TO SEX PLOIDY` (whitespace separated,
/// 1-based inclusive; `*` as CHROM, FROM or TO means every contig or the contig's ends; SEX is
/// `M`/`XY`, `F`/`XX` or `*`; PLOIDY 0, 1 or 2). Lines starting with `#` are comments.
pub fn read_ploidy_file(path: &Path) -> Result<Vec<PloidyRule>> {
    let text = crate::input::open_text(path, "ploidy file")?;
    let mut rules = Vec::new();
    for (i, line) in std::io::BufRead::lines(text).enumerate() {
        let line =
            line.map_err(|e| crate::errors::input_error(format!("{}: {e}", path.display())))?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || format!("{} line {}", path.display(), i + 1);
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 5 {
            bail_input!(
                "{}: expected 5 columns (CHROM FROM TO SEX PLOIDY), found {}",
                at(),
                f.len()
            );
        }
        let pos = |s: &str, star: u64| -> Result<u64> {
            if s == "*" {
                return Ok(star);
            }
            match s.parse::<u64>() {
                Ok(v) if v >= 1 => Ok(v),
                _ => Err(crate::errors::input_error(format!(
                    "{}: position {s:?} is not a 1-based integer or *",
                    at()
                ))),
            }
        };
        let from = pos(f[1], 1)? - 1;
        let to = pos(f[2], u64::MAX)?;
        if to <= from {
            bail_input!("{}: TO ({}) is before FROM ({})", at(), f[2], f[1]);
        }
        let sex = match f[3] {
            "*" => None,
            "M" | "XY" => Some(Sex::XY),
            "F" | "XX" => Some(Sex::XX),
            other => bail_input!("{}: sex {other:?} is not M, F, XY, XX or *", at()),
        };
        let ploidy = match f[4] {
            "0" => 0,
            "1" => 1,
            "2" => 2,
            other => bail_input!(
                "{}: ploidy {other:?} is not supported (varstream calls ploidy 0, 1 and 2)",
                at()
            ),
        };
        rules.push(PloidyRule {
            contig: (f[0] != "*").then(|| f[0].to_string()),
            start: from,
            end: to,
            sex,
            ploidy,
        });
    }
    Ok(rules)
}

/// The sample's ploidy along the genome: the rules that apply to its sex (with an ambiguous
/// sex, only rules for any sex); rules naming a contig before `*` rules, later rules before
/// earlier ones. Diploid where no rule says otherwise.
#[derive(Debug, Clone, Default)]
pub struct PloidyMap {
    rules: Vec<PloidyRule>,
}

impl PloidyMap {
    pub fn new(rules: &[PloidyRule], sex: Option<Sex>) -> Self {
        let applies = |r: &&PloidyRule| r.sex.is_none() || r.sex == sex;
        // As in bcftools, a `*` contig row is a default: any row naming the contig wins.
        let named = rules.iter().filter(applies).filter(|r| r.contig.is_some());
        let defaults = rules.iter().filter(applies).filter(|r| r.contig.is_none());
        let rules = named.rev().chain(defaults.rev()).cloned().collect();
        Self { rules }
    }

    /// Ploidy of 0-based position `pos` of `contig`.
    pub fn at(&self, contig: &str, pos: u64) -> u8 {
        self.rules
            .iter()
            .find(|r| {
                r.contig.as_deref().is_none_or(|c| c == contig) && r.start <= pos && pos < r.end
            })
            .map_or(2, |r| r.ploidy)
    }

    /// `iv` cut where the ploidy changes: (start, end, ploidy) pieces in order.
    pub fn segments(&self, iv: &Interval) -> Vec<(u64, u64, u8)> {
        let mut cuts: Vec<u64> = vec![iv.start, iv.end];
        for r in self
            .rules
            .iter()
            .filter(|r| r.contig.as_deref().is_none_or(|c| c == iv.contig))
        {
            for p in [r.start, r.end] {
                if iv.start < p && p < iv.end {
                    cuts.push(p);
                }
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        let mut out: Vec<(u64, u64, u8)> = Vec::new();
        for w in cuts.windows(2) {
            let p = self.at(&iv.contig, w[0]);
            match out.last_mut() {
                Some(last) if last.2 == p => last.1 = w[1],
                _ => out.push((w[0], w[1], p)),
            }
        }
        out
    }

    /// `intervals` without the parts of ploidy 0 (nothing is called there).
    pub fn drop_absent(&self, intervals: &[Interval]) -> Vec<Interval> {
        let mut out = Vec::new();
        for iv in intervals {
            for (s, e, p) in self.segments(iv) {
                if p > 0 {
                    match out.last_mut() {
                        Some(Interval { contig, end, .. }) if *contig == iv.contig && *end == s => {
                            *end = e
                        }
                        _ => out.push(Interval {
                            contig: iv.contig.clone(),
                            start: s,
                            end: e,
                        }),
                    }
                }
            }
        }
        out
    }

    /// Whether any rule in the map can give a ploidy other than 2 inside `intervals`.
    pub fn is_diploid_over(&self, intervals: &[Interval]) -> bool {
        intervals
            .iter()
            .all(|iv| self.segments(iv).iter().all(|&(_, _, p)| p == 2))
    }
}

/// `call`'s ploidy settings, as given.
#[derive(Debug, Clone)]
pub struct PloidySettings {
    pub sex: SexChoice,
    /// `None`: the contigs named chrX/chrY (or X/Y) in the reads.
    pub haploid_contigs: Option<Vec<String>>,
    pub par: ParSource,
    /// Replaces the built-in rules.
    pub ploidy_file: Option<std::path::PathBuf>,
}

impl Default for PloidySettings {
    fn default() -> Self {
        Self {
            sex: SexChoice::Auto,
            haploid_contigs: None,
            par: ParSource::Builtin,
            ploidy_file: None,
        }
    }
}

/// The sample's ploidy over `intervals`, with the sex call when the rules needed one.
/// `source` is only read (a fixed sample of windows) when the sex is inferred.
pub fn resolve(
    settings: &PloidySettings,
    contigs: &[(String, u64)],
    intervals: &[Interval],
    reference: &Reference,
    source: &mut ReadSource,
) -> Result<(PloidyMap, Option<SexCall>)> {
    let (rules, unknown_pars) = match &settings.ploidy_file {
        Some(path) => (read_ploidy_file(path)?, Vec::new()),
        None => {
            let names: Vec<&str> = contigs.iter().map(|(n, _)| n.as_str()).collect();
            let haploid: Vec<String> = match &settings.haploid_contigs {
                Some(list) => {
                    for h in list {
                        if !names.contains(&h.as_str()) {
                            let hint = crate::regions::renamed(h, &names)
                                .map(|m| format!(" (did you mean {m}?)"))
                                .unwrap_or_default();
                            bail_input!("--haploid-contigs names {h}, which the reads and reference do not both have{hint}");
                        }
                    }
                    list.clone()
                }
                None => names
                    .iter()
                    .filter(|n| is_x(n) || is_y(n))
                    .map(|n| n.to_string())
                    .collect(),
            };
            human_rules(
                contigs,
                &haploid,
                settings.haploid_contigs.is_some(),
                &settings.par,
            )
        }
    };
    // Contigs the user made haploid whatever the sex, that are the sex chromosomes and called:
    // the sex is still inferred, to warn when it contradicts them.
    let explicit_sex_contigs: Vec<&String> =
        match (&settings.ploidy_file, &settings.haploid_contigs) {
            (None, Some(list)) => list
                .iter()
                .filter(|h| (is_x(h) || is_y(h)) && intervals.iter().any(|iv| iv.contig == **h))
                .collect(),
            _ => Vec::new(),
        };
    // The sex matters only if a rule that depends on it reaches a called interval.
    let needs_sex = rules.iter().any(|r| {
        r.sex.is_some()
            && intervals.iter().any(|iv| {
                r.contig.as_deref().is_none_or(|c| c == iv.contig)
                    && r.start < iv.end
                    && iv.start < r.end
            })
    }) || intervals.iter().any(|iv| unknown_pars.contains(&iv.contig))
        || !explicit_sex_contigs.is_empty();
    warn_unused_settings(settings, intervals, needs_sex);
    let sex_call = if !needs_sex {
        None
    } else {
        Some(match settings.sex {
            SexChoice::XX | SexChoice::XY => SexCall {
                sex: Some(if settings.sex == SexChoice::XX {
                    Sex::XX
                } else {
                    Sex::XY
                }),
                source: "user",
                x_ratio: None,
                y_ratio: None,
                reads: [0; 3],
                note: "given by --sex".into(),
            },
            SexChoice::Auto => {
                let pars: Vec<(String, Vec<(u64, u64)>)> = contigs
                    .iter()
                    .filter(|(n, _)| is_x(n) || is_y(n))
                    .map(|(n, l)| (n.clone(), pars_of(&settings.par, n, *l).unwrap_or_default()))
                    .collect();
                infer_sex(source, reference, contigs, &pars)?
            }
        })
    };
    let sex = sex_call.as_ref().and_then(|c| c.sex);
    if !explicit_sex_contigs.is_empty() && sex != Some(Sex::XY) {
        let names: Vec<&str> = explicit_sex_contigs.iter().map(|s| s.as_str()).collect();
        log::warn!(
            "--haploid-contigs {}: called haploid as given, although the sample's sex is {} \
             ({}); drop the flag for a diploid chrX",
            names.join(","),
            sex.map_or("ambiguous", Sex::as_str),
            sex_call.as_ref().map_or("", |c| c.source)
        );
    }
    let haploid_everywhere = settings.ploidy_file.is_none() && settings.haploid_contigs.is_some();
    if sex == Some(Sex::XY) || haploid_everywhere {
        if let Some(c) = intervals
            .iter()
            .find(|iv| unknown_pars.contains(&iv.contig))
        {
            bail_input!(
                "no built-in pseudo-autosomal regions for {} (GRCh37 and GRCh38 only), so it cannot be called haploid: pass --par BED, or --par none if it has none",
                c.contig
            );
        }
    }
    if let Some(c) = &sex_call {
        let ratio = |r: Option<f64>| r.map_or("n/a".to_string(), |r| format!("{r:.2}"));
        let msg = format!(
            "sex: {} ({}; chrX/autosome depth {}, chrY/autosome {}, reads {}/{}/{})",
            c.sex.map_or("ambiguous", Sex::as_str),
            c.note,
            ratio(c.x_ratio),
            ratio(c.y_ratio),
            c.reads[0],
            c.reads[1],
            c.reads[2]
        );
        if c.sex.is_none() && explicit_sex_contigs.is_empty() {
            log::warn!("{msg}: calling chrX and chrY diploid; pass --sex XX or XY to choose");
        } else {
            log::info!("{msg}");
        }
    }
    Ok((PloidyMap::new(&rules, sex), sex_call))
}

/// Options the user gave that this run cannot use say so, rather than do nothing silently:
/// `--sex` where no called region's ploidy depends on the sex, `--haploid-contigs` naming a
/// contig no region is called on, `--par` where no haploid contig is called.
fn warn_unused_settings(settings: &PloidySettings, intervals: &[Interval], needs_sex: bool) {
    let called = |c: &str| intervals.iter().any(|iv| iv.contig == c);
    if settings.sex != SexChoice::Auto && !needs_sex {
        log::warn!(
            "--sex {}: no called region's ploidy depends on the sex (no haploid contig or \
             chrY is called), so it changes nothing",
            if settings.sex == SexChoice::XX {
                "XX"
            } else {
                "XY"
            }
        );
    }
    if settings.ploidy_file.is_some() {
        return;
    }
    if let Some(list) = &settings.haploid_contigs {
        let idle: Vec<&str> = list
            .iter()
            .map(String::as_str)
            .filter(|c| !called(c))
            .collect();
        if !idle.is_empty() {
            log::warn!(
                "--haploid-contigs {}: no region is called there, so it changes nothing there",
                idle.join(",")
            );
        }
    }
    if !matches!(settings.par, ParSource::Builtin) {
        let haploid_called = match &settings.haploid_contigs {
            Some(list) => list.iter().any(|c| called(c)),
            None => intervals
                .iter()
                .any(|iv| is_x(&iv.contig) || is_y(&iv.contig)),
        };
        if !haploid_called {
            log::warn!("--par: no haploid contig is called, so the PARs change nothing");
        }
    }
}

mod sex;
pub use sex::infer_sex;

#[cfg(test)]
mod tests;
