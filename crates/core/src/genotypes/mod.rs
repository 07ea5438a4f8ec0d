//! Stage: genotypes. Model probabilities per (site, alt) → diploid or haploid genotype
//! posteriors, GT, GQ, QUAL, PL and FILTER, as small pure functions.
//!
//! The model answers, for one alt allele (or a pair of alts taken as one), how many copies of it
//! the sample carries (0, 1 or 2). For a site with alts 1..=n, a genotype j/k (j ≤ k) implies a
//! copy number for each allele set; its unnormalised posterior is the product over sets of the
//! model's probability of that copy number. Genotypes that need three copies are impossible
//! and never formed.

/// Genotype probabilities are floored here so that Phred values stay finite.
pub const MIN_PROB: f64 = 1e-10;
/// Largest GQ written (VCF convention, as in DeepVariant).
pub const MAX_GQ: u32 = 99;

/// Index of diploid genotype j/k (j ≤ k) in VCF order: F(j/k) = k(k+1)/2 + j.
pub fn genotype_index(j: usize, k: usize) -> usize {
    let (j, k) = if j <= k { (j, k) } else { (k, j) };
    k * (k + 1) / 2 + j
}

/// Diploid genotypes over `n_alleles` alleles (REF included) in VCF order.
pub fn genotypes(n_alleles: usize) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    for k in 0..n_alleles {
        for j in 0..=k {
            v.push((j, k));
        }
    }
    v
}

/// Posterior of each genotype over `n_alts` alts from copy-number probabilities of allele
/// sets: `probs[i]` is P(0, 1, 2 copies of any alt in `sets[i]`), alts numbered from 0. Each
/// set is one more expert in the product: a pair of alts with P(2 copies) high favours the
/// genotype made of both.
pub fn posteriors_from_sets(n_alts: usize, sets: &[Vec<usize>], probs: &[[f32; 3]]) -> Vec<f64> {
    let post: Vec<f64> = genotypes(n_alts + 1)
        .into_iter()
        .map(|(j, k)| {
            sets.iter()
                .zip(probs)
                .map(|(set, p)| {
                    let copies = [j, k]
                        .iter()
                        .filter(|&&g| g > 0 && set.contains(&(g - 1)))
                        .count();
                    (p[copies] as f64).max(MIN_PROB)
                })
                .product()
        })
        .collect();
    normalised(post)
}

/// Posterior of each haploid genotype (REF, ALT 1, ..., ALT n) from the same answers.
///
/// The model was trained on diploid genomes, where a haploid allele's reads look like a
/// homozygous one's: every read carries it. So haploid allele `a` takes the diploid model's
/// evidence for `a/a` (two copies of every set holding `a`, none of the others), and the
/// heterozygous answers are dropped: a site whose reads are split half and half gets two
/// weak hypotheses and a low GQ, which is what a haploid region's mis-mapped reads deserve.
pub fn haploid_posteriors_from_sets(
    n_alts: usize,
    sets: &[Vec<usize>],
    probs: &[[f32; 3]],
) -> Vec<f64> {
    let post: Vec<f64> = (0..=n_alts)
        .map(|a| {
            sets.iter()
                .zip(probs)
                .map(|(set, p)| {
                    let copies = if a > 0 && set.contains(&(a - 1)) {
                        2
                    } else {
                        0
                    };
                    (p[copies] as f64).max(MIN_PROB)
                })
                .product()
        })
        .collect();
    normalised(post)
}

/// Probabilities scaled to sum to 1, each floored at [`MIN_PROB`].
fn normalised(mut post: Vec<f64>) -> Vec<f64> {
    let total: f64 = post.iter().sum();
    for p in &mut post {
        *p = (*p / total).max(MIN_PROB);
    }
    post
}

/// The most probable index (ties go to the earlier one), its GQ, and PL normalised so the
/// best is 0.
fn best_gq_pl(posteriors: &[f64]) -> (usize, u32, Vec<u32>) {
    let best = best_index(posteriors);
    let gq = gq_of(posteriors, best);
    let raw: Vec<f64> = posteriors.iter().map(|&p| phred(p)).collect();
    let min = raw.iter().cloned().fold(f64::INFINITY, f64::min);
    (
        best,
        gq,
        raw.iter().map(|&x| (x - min).round() as u32).collect(),
    )
}

/// GQ of genotype `i` under normalised `posteriors`: the Phred probability that it is
/// wrong, rounded, capped at [`MAX_GQ`].
pub fn gq_of(posteriors: &[f64], i: usize) -> u32 {
    phred(1.0 - posteriors[i]).round().min(MAX_GQ as f64) as u32
}

/// Normalised posteriors from PL (Phred, relative to the best).
pub fn posteriors_from_pl(pl: &[u32]) -> Vec<f64> {
    let w: Vec<f64> = pl
        .iter()
        .map(|&p| 10f64.powf(-f64::from(p) / 10.0))
        .collect();
    let total: f64 = w.iter().sum();
    w.iter().map(|x| x / total).collect()
}

/// The most probable index; ties go to the earlier one.
fn best_index(posteriors: &[f64]) -> usize {
    (0..posteriors.len()).fold(0, |b, i| if posteriors[i] > posteriors[b] { i } else { b })
}

/// Phred-scale a probability.
pub fn phred(p: f64) -> f64 {
    -10.0 * p.max(MIN_PROB).log10()
}

/// The called genotype and its qualities.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Alleles of the most likely genotype (j ≤ k); a haploid call `a` is `(a, a)`.
    pub gt: (usize, usize),
    /// 2, or 1 for a haploid call (GT `a`, PL one value per allele).
    pub ploidy: u8,
    /// Phred probability that the genotype is wrong, capped at [`MAX_GQ`].
    pub gq: u32,
    /// Phred probability that the site is homozygous reference.
    pub qual: f64,
    /// Phred-scaled genotype likelihoods, normalised so the best is 0.
    pub pl: Vec<u32>,
}

/// Pick the most likely genotype (ties go to the earlier one in VCF order) and its qualities.
pub fn call(posteriors: &[f64]) -> Call {
    let n_alleles = {
        // n(n+1)/2 = len
        let mut n = 1;
        while n * (n + 1) / 2 < posteriors.len() {
            n += 1;
        }
        n
    };
    let (best, gq, pl) = best_gq_pl(posteriors);
    Call {
        gt: genotypes(n_alleles)[best],
        ploidy: 2,
        gq,
        qual: phred(posteriors[0]),
        pl,
    }
}

/// [`call`] over haploid posteriors (one per allele, REF first).
pub fn call_haploid(posteriors: &[f64]) -> Call {
    let (best, gq, pl) = best_gq_pl(posteriors);
    Call {
        gt: (best, best),
        ploidy: 1,
        gq,
        qual: phred(posteriors[0]),
        pl,
    }
}

/// Genotype one site of `n_alts` alts at `ploidy` (1 or 2) from its allele sets' answers,
/// calibrated by `cal` ([`SiteCalibration::NONE`] leaves the model's posteriors as they are).
pub fn call_site(
    n_alts: usize,
    sets: &[Vec<usize>],
    probs: &[[f32; 3]],
    ploidy: u8,
    cal: SiteCalibration,
) -> Call {
    call_site_by(n_alts, sets, probs, ploidy, |_| cal)
}

/// [`call_site`] with the calibration chosen from the best genotype before calibration
/// (which calibration never changes): `cal_of(best)`.
pub fn call_site_by<'a>(
    n_alts: usize,
    sets: &[Vec<usize>],
    probs: &[[f32; 3]],
    ploidy: u8,
    cal_of: impl FnOnce((usize, usize)) -> SiteCalibration<'a>,
) -> Call {
    if ploidy == 1 {
        let post = haploid_posteriors_from_sets(n_alts, sets, probs);
        let best = best_index(&post);
        call_haploid(&cal_of((best, best)).apply(post, |b| if b == 0 { 0 } else { 2 }))
    } else {
        let gts = genotypes(n_alts + 1);
        let post = posteriors_from_sets(n_alts, sets, probs);
        let cal = cal_of(gts[best_index(&post)]);
        call(&cal.apply(post, |best| match gts[best] {
            (0, 0) => 0,
            (j, k) if j != k => 1,
            _ => 2,
        }))
    }
}

/// Posteriors raised to `power` and renormalised: temperature scaling (power = 1/T) of the
/// genotype distribution, fitted per depth band on held-out simulated reads so that GQ and
/// QUAL mean what they say ([`Calibration`]). The best genotype never changes.
pub fn calibrate(mut post: Vec<f64>, power: f64) -> Vec<f64> {
    if power == 1.0 {
        return post;
    }
    let best = post.iter().cloned().fold(0.0, f64::max);
    // Relative to the best, so that small posteriors do not underflow before normalising.
    for p in &mut post {
        *p = (*p / best).powf(power);
    }
    normalised(post)
}

/// Lower the best genotype's confidence to `ceiling` (a GQ) if it is above it: the other
/// genotypes' posteriors are scaled up together, keeping their ratios, so that their mass is
/// 10^(-ceiling/10). The best genotype stays the best (ceilings are >= 3.01, mass <= 1/2).
pub fn cap_gq(mut post: Vec<f64>, best: usize, ceiling: f64) -> Vec<f64> {
    let target = 10f64.powf(-ceiling / 10.0).min(0.5);
    let other: f64 = post
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != best)
        .map(|(_, p)| p)
        .sum();
    if other >= target || post.len() < 2 {
        return post;
    }
    let spread = target / (post.len() - 1) as f64;
    for (i, p) in post.iter_mut().enumerate() {
        *p = if i == best {
            1.0 - target
        } else if other > 0.0 {
            *p * target / other
        } else {
            spread
        };
    }
    post
}

/// GQ ceilings per class of called genotype: (lowest GQ of the bin, ceiling), ascending.
pub type ClassCeilings = [Vec<(f64, f64)>; 3];

/// How one site's posteriors are calibrated: a power, then the GQ ceilings of its kind of
/// site, each by class of the best genotype (index 0 hom-ref, 1 het, 2 hom-alt or haploid
/// ALT; a power never changes which genotype is best).
#[derive(Debug, Clone, Copy)]
pub struct SiteCalibration<'a> {
    pub powers: [f64; 3],
    pub ceilings: &'a ClassCeilings,
}

static NO_CEILINGS: ClassCeilings = [Vec::new(), Vec::new(), Vec::new()];

impl SiteCalibration<'static> {
    /// The model's posteriors unchanged.
    pub const NONE: Self = Self {
        powers: [1.0; 3],
        ceilings: &NO_CEILINGS,
    };

    /// Temperature scaling only, the same for every class.
    pub fn power(power: f64) -> Self {
        Self {
            powers: [power; 3],
            ceilings: &NO_CEILINGS,
        }
    }
}

impl SiteCalibration<'_> {
    /// Calibrated posteriors; `class_of(best index)` gives the class whose ceilings apply.
    pub fn apply(&self, post: Vec<f64>, class_of: impl Fn(usize) -> usize) -> Vec<f64> {
        let class = class_of(best_index(&post));
        let post = calibrate(post, self.powers[class]);
        let best = best_index(&post);
        let bins = &self.ceilings[class];
        if bins.is_empty() {
            return post;
        }
        let gq = phred(1.0 - post[best]);
        // The last bin whose lower GQ bound the site reaches.
        match bins.iter().rev().find(|(min_gq, _)| gq >= *min_gq) {
            Some(&(_, ceiling)) if gq > ceiling => cap_gq(post, best, ceiling),
            _ => post,
        }
    }
}

/// Calibration by read depth (DP), separately for sites with only SNV candidates and sites
/// with an indel candidate (whose hardest errors, in long repeats, stay confident):
/// - a power per depth band (the first band whose `max_dp` exceeds the site's depth; no bands
///   means power 1), per class of the best genotype (hom-ref, het, hom-alt: a clear hom-alt
///   call can be surer than a het at the same depth; one power for all where the sidecar
///   gives one);
/// - GQ ceilings per class of called genotype and bin of the GQ after the power (no bins: no
///   ceilings), where the held-out error rate says a confident call is wrong more often than
///   its GQ claims.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Calibration {
    /// (depth bound, exclusive; power per class: hom-ref, het, hom-alt), ascending; the last
    /// band's bound may be `u32::MAX`.
    pub snv: Vec<(u32, [f64; 3])>,
    /// The same for sites with an indel candidate.
    pub indel: Vec<(u32, [f64; 3])>,
    /// [hom-ref, het, hom-alt] -> ascending (lowest GQ of the bin, ceiling; infinite: none).
    pub snv_ceilings: ClassCeilings,
    /// The same for sites with an indel candidate.
    pub indel_ceilings: ClassCeilings,
    /// Ceilings for calls whose alleles leave reads unexplained ([`unexplained_reads`]), SNV
    /// sites; `None`: the others' (a sidecar without them).
    pub snv_ceilings_unexplained: Option<ClassCeilings>,
    /// The same for sites with an indel candidate.
    pub indel_ceilings_unexplained: Option<ClassCeilings>,
}

/// Whether a call's alleles leave reads unexplained: DP minus the reads of REF and of the
/// ALTs the record will list (every candidate's for a 0/0 call, which keeps them all) is
/// above max(1, DP / 10). Reads of an allele the model was not asked about (an insertion
/// beside an SNV that was the only candidate) make such a call's genotype unsure whatever
/// the model's confidence in the alleles it saw.
pub fn unexplained_reads(depth: u32, allele_depths: &[u32], gt: (usize, usize)) -> bool {
    let ad = |a: usize| allele_depths.get(a).copied().unwrap_or(0);
    let explained: u32 = match gt {
        (0, 0) => allele_depths.iter().sum(),
        (j, k) => ad(0) + if j > 0 { ad(j) } else { 0 } + if k != j { ad(k) } else { 0 },
    };
    f64::from(depth.saturating_sub(explained)) > (f64::from(depth) / 10.0).max(1.0)
}

impl Calibration {
    /// No band and no ceiling: the model's posteriors are used as they are.
    pub fn is_empty(&self) -> bool {
        self.snv.is_empty()
            && self.indel.is_empty()
            && self.snv_ceilings.iter().all(Vec::is_empty)
            && self.indel_ceilings.iter().all(Vec::is_empty)
            && self.snv_ceilings_unexplained.is_none()
            && self.indel_ceilings_unexplained.is_none()
    }

    /// Whether a site's calibration depends on [`unexplained_reads`].
    pub fn splits_unexplained(&self) -> bool {
        self.snv_ceilings_unexplained.is_some() || self.indel_ceilings_unexplained.is_some()
    }

    /// The powers (hom-ref, het, hom-alt) for a site of this depth and kind.
    pub fn powers(&self, depth: u32, indel: bool) -> [f64; 3] {
        let bands = if indel { &self.indel } else { &self.snv };
        bands
            .iter()
            .find(|(max, _)| depth < *max)
            .or(bands.last())
            .map_or([1.0; 3], |&(_, p)| p)
    }

    /// What applies to a site of this depth and kind, whose call leaves reads unexplained
    /// or not ([`unexplained_reads`]).
    pub fn for_site(&self, depth: u32, indel: bool, unexplained: bool) -> SiteCalibration<'_> {
        let (usual, apart) = if indel {
            (&self.indel_ceilings, &self.indel_ceilings_unexplained)
        } else {
            (&self.snv_ceilings, &self.snv_ceilings_unexplained)
        };
        SiteCalibration {
            powers: self.powers(depth, indel),
            ceilings: match apart {
                Some(c) if unexplained => c,
                _ => usual,
            },
        }
    }

    /// From a sidecar's `calling.calibration` block (`snv_bands`, `indel_bands`, `ceilings`;
    /// absent: none).
    pub fn from_sidecar(v: &serde_json::Value) -> anyhow::Result<Self> {
        Ok(Self {
            snv: bands(&v["snv_bands"])?,
            indel: bands(&v["indel_bands"])?,
            snv_ceilings: ceilings(&v["ceilings"]["snv"])?,
            indel_ceilings: ceilings(&v["ceilings"]["indel"])?,
            snv_ceilings_unexplained: optional_ceilings(&v["ceilings"]["snv_unexplained"])?,
            indel_ceilings_unexplained: optional_ceilings(&v["ceilings"]["indel_unexplained"])?,
        })
    }
}

fn optional_ceilings(v: &serde_json::Value) -> anyhow::Result<Option<ClassCeilings>> {
    if v.is_null() {
        Ok(None)
    } else {
        ceilings(v).map(Some)
    }
}

/// `{"ref": [{"min_gq", "ceiling"}...], "het": ..., "hom": ...}` (ceiling null: none).
fn ceilings(v: &serde_json::Value) -> anyhow::Result<ClassCeilings> {
    let mut out: ClassCeilings = Default::default();
    if v.is_null() {
        return Ok(out);
    }
    for (slot, class) in out.iter_mut().zip(["ref", "het", "hom"]) {
        let Some(bins) = v[class].as_array() else {
            anyhow::bail!("calibration ceilings have no `{class}` list");
        };
        for b in bins {
            let min_gq = b["min_gq"]
                .as_f64()
                .filter(|g| g.is_finite() && *g >= 0.0)
                .ok_or_else(|| {
                    anyhow::anyhow!("calibration ceiling min_gq {} is not a GQ", b["min_gq"])
                })?;
            let ceiling = match &b["ceiling"] {
                serde_json::Value::Null => f64::INFINITY,
                c => c
                    .as_f64()
                    .filter(|c| c.is_finite() && *c >= 3.0)
                    .ok_or_else(|| {
                        anyhow::anyhow!("calibration ceiling {c} is not a GQ of at least 3")
                    })?,
            };
            slot.push((min_gq, ceiling));
        }
        if slot.windows(2).any(|w| w[0].0 >= w[1].0) {
            anyhow::bail!("calibration ceilings for `{class}` are not in ascending min_gq order");
        }
    }
    Ok(out)
}

/// `[{"max_dp", "power", "class_powers": {"ref", "het", "hom"}?}...]`: `power` for every
/// class, unless `class_powers` gives each its own.
fn bands(v: &serde_json::Value) -> anyhow::Result<Vec<(u32, [f64; 3])>> {
    let Some(bands) = v.as_array() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for b in bands {
        let max = match &b["max_dp"] {
            serde_json::Value::Null => u32::MAX,
            m => m
                .as_u64()
                .ok_or_else(|| anyhow::anyhow!("calibration band max_dp {m} is not an integer"))?
                as u32,
        };
        let positive = |v: &serde_json::Value| {
            v.as_f64()
                .filter(|p| p.is_finite() && *p > 0.0)
                .ok_or_else(|| {
                    anyhow::anyhow!("calibration band power {v} is not a positive number")
                })
        };
        let power = positive(&b["power"])?;
        let powers = match &b["class_powers"] {
            serde_json::Value::Null => [power; 3],
            c => [
                positive(&c["ref"])?,
                positive(&c["het"])?,
                positive(&c["hom"])?,
            ],
        };
        out.push((max, powers));
    }
    if out.windows(2).any(|w| w[0].0 >= w[1].0) {
        anyhow::bail!("calibration bands are not in ascending max_dp order");
    }
    Ok(out)
}

impl Call {
    /// The GT field: `j/k`, or `a` for a haploid call.
    pub fn gt_text(&self) -> String {
        if self.ploidy == 1 {
            self.gt.0.to_string()
        } else {
            format!("{}/{}", self.gt.0, self.gt.1)
        }
    }
}

/// FILTER values written by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// A confident non-reference call.
    Pass,
    /// The best genotype is homozygous reference.
    RefCall,
    /// Non-reference, but QUAL is under the threshold.
    LowQual,
    /// Heterozygous, but its reads are split between the haplotypes of the phase block
    /// around it (`--phase`; [`crate::phasing::conflict`]).
    PhaseConflict,
}

impl Filter {
    /// VCF text.
    pub fn as_str(self) -> &'static str {
        match self {
            Filter::Pass => "PASS",
            Filter::RefCall => "RefCall",
            Filter::LowQual => "LowQual",
            Filter::PhaseConflict => "PhaseConflict",
        }
    }
}

/// FILTER for a call, as DeepVariant's postprocessing does: RefCall for 0/0, LowQual below
/// `min_qual`.
pub fn filter(c: &Call, min_qual: f64) -> Filter {
    if c.gt == (0, 0) {
        Filter::RefCall
    } else if c.qual < min_qual {
        Filter::LowQual
    } else {
        Filter::Pass
    }
}

#[cfg(test)]
mod tests;
