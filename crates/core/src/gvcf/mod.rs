//! Stage: gVCF. Every base of the called regions is written once: in a variant record (the
//! VCF's record with the `<*>` allele added) or in a reference block. A block is a run of
//! positions whose GQ falls in one band (`--gvcf-gq-bands`) and whose ploidy is the same;
//! its GQ, MIN_DP and PL are the minimum over its positions, its DP their mean.
//!
//! Workers turn a shard's reference likelihoods ([`crate::ref_confidence`]) into
//! [`RefPosition`]s; [`BlockWriter`] runs on the ordered writer and cuts blocks from them.
//! Blocks never depend on shard edges: positions covered by a variant record (a deletion
//! anchored in the previous shard included) are skipped, and a block left open at a
//! shard's end continues into the next shard when the positions are contiguous, so the
//! gVCF is the same bytes for any `--threads` and `--shard-size`.
use std::fmt::Write as _;

use anyhow::Result;

use crate::genotypes::Call;
use crate::ref_confidence::Likelihoods;

/// The symbolic allele for "any allele not listed": the VCF 4.2 spec's `<*>`, written by
/// bcftools and DeepVariant (GATK writes `<NON_REF>`).
pub const NON_REF: &str = "<*>";
/// GQ is capped here, as for variant records.
pub const MAX_GQ: u8 = 99;
/// Error rate of a read showing an allele that is not listed at a variant record although
/// the genotype has none: alignment noise and the alleles the genotype left out. Used for
/// the PL of genotypes with `<*>` ([`non_ref_allele`]).
pub const NON_REF_READ_ERROR: f64 = 0.01;

/// GATK HaplotypeCaller's default bands: exclusive upper bounds 1, 2, ..., 60, 70, 80, 90, 99.
pub fn gatk_bands() -> Vec<u8> {
    (1..=60).chain([70, 80, 90, 99]).collect()
}

/// DeepVariant's default bands (`--gvcf_gq_binsize 5`): GQ 0-4, 5-9, ..., 95-99.
pub fn deepvariant_bands() -> Vec<u8> {
    (1..=19).map(|k| 5 * k).collect()
}

/// The default `--gvcf-gq-bands`: GQ 0-4 (no evidence: a base without reads has GQ 2), 5-19,
/// 20-59 (20 is the usual "callable" cut) and 60-99. GQ follows depth closely (about 3 a
/// read), so fine bands cut a block wherever a read starts or ends: on the held-out sets at
/// 20x and 35x these write 3.6 and 11 times fewer lines than DeepVariant's or GATK's bands.
/// A block's GQ and PL are its minimum, so coarser bands lose resolution, never confidence.
pub const DEFAULT_BANDS: &str = "5,20,60";

/// GQ bands: a block holds positions whose GQ lies in one band.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GqBands {
    /// Exclusive upper bounds, increasing, in 1..=100 (as GATK's `--gvcf-gq-bands`); GQ at
    /// or above the last bound forms the last band.
    bounds: Vec<u8>,
}

impl GqBands {
    /// `gatk`, `deepvariant`, or comma-separated exclusive upper bounds in increasing order,
    /// each from 1 to 100 (e.g. `20,60`: GQ 0-19, 20-59 and 60-99).
    pub fn parse(spec: &str) -> Result<Self> {
        let bounds = match spec.trim() {
            "gatk" => gatk_bands(),
            "deepvariant" => deepvariant_bands(),
            s => {
                let mut v = Vec::new();
                for part in s.split(',') {
                    let part = part.trim();
                    let b: u8 = match part.parse::<u32>() {
                        Ok(b @ 1..=100) => b as u8,
                        _ => crate::bail_input!(
                            "--gvcf-gq-bands '{spec}': '{part}' is not a GQ bound from 1 to 100 \
                             (give `gatk`, `deepvariant`, or increasing bounds such as 20,60)"
                        ),
                    };
                    if v.last().is_some_and(|&last| b <= last) {
                        crate::bail_input!(
                            "--gvcf-gq-bands '{spec}': bounds must increase ({b} follows {})",
                            v.last().unwrap_or(&0)
                        );
                    }
                    v.push(b);
                }
                v
            }
        };
        Ok(Self { bounds })
    }

    /// The band of `gq` (0 = the lowest).
    pub fn band(&self, gq: u8) -> usize {
        self.bounds.partition_point(|&b| b <= gq)
    }

    /// The bounds as given on the command line, for the header.
    pub fn describe(&self) -> String {
        let v: Vec<String> = self.bounds.iter().map(u8::to_string).collect();
        v.join(",")
    }
}

/// The ploidy of each position (1 or 2): given by the caller's ploidy stage, diploid
/// unless told otherwise. Blocks are cut where it changes.
pub trait PloidyOf: Sync {
    /// Ploidy at 0-based `pos` of `contig`.
    fn ploidy(&self, contig: &str, pos: u64) -> u8;
}

/// Diploid everywhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct Diploid;

/// The sample's ploidy as `call` resolves it (sex, PARs, ploidy file).
impl PloidyOf for crate::ploidy::PloidyMap {
    fn ploidy(&self, contig: &str, pos: u64) -> u8 {
        self.at(contig, pos)
    }
}

impl PloidyOf for Diploid {
    fn ploidy(&self, _: &str, _: u64) -> u8 {
        2
    }
}

/// What a reference block needs of one position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefPosition {
    /// The reference base as the VCF writes it (A, C, G, T or N).
    pub base: u8,
    /// 1 or 2.
    pub ploidy: u8,
    /// Phred probability that the position is not homozygous reference, capped at 99.
    pub gq: u8,
    /// Reads over the position after filters (the VCF's DP).
    pub dp: u16,
    /// PL of 0/0, 0/<*>, <*>/<*> (ploidy 2) or of 0, <*> (ploidy 1; the third is unused).
    pub pl: [u16; 3],
}

/// Per-position evidence of one shard for the gVCF, from [`crate::shard_stages`].
#[derive(Debug, Clone, Default)]
pub struct RefEvidence {
    /// 0-based position of the first entry (the shard's start).
    pub from: u64,
    /// Reference likelihoods per position.
    pub likelihoods: Vec<Likelihoods>,
    /// Depth per position.
    pub depth: Vec<u16>,
    /// Reference base per position (upper case, as fetched).
    pub bases: Vec<u8>,
}

/// GQ and PL from log10 likelihoods of the genotypes with 0, 1, ... copies of `<*>`, with a
/// flat prior: GQ = −10·log10(1 − P(hom-ref)), PL normalised so the best is 0.
fn gq_and_pl(lik: &[f64]) -> (u8, [u16; 3]) {
    let best = lik.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    // Most bases: hom-ref ahead of every other genotype by over 10.3 (log10), so
    // 1 − P(hom-ref) < 1e-10 and GQ is at its cap; skip the powers.
    let gq = if lik[1..].iter().all(|&l| lik[0] - l > 10.3) {
        MAX_GQ
    } else {
        let rel = |l: f64| 10f64.powf(l - best);
        let not_ref: f64 = lik[1..].iter().map(|&l| rel(l)).sum();
        let total = rel(lik[0]) + not_ref;
        (-10.0 * (not_ref / total).max(1e-30).log10())
            .round()
            .clamp(0.0, MAX_GQ as f64) as u8
    };
    let mut pl = [0u16; 3];
    for (p, l) in pl.iter_mut().zip(lik) {
        *p = (-10.0 * (l - best)).round().min(u16::MAX as f64) as u16;
    }
    (gq, pl)
}

/// Turn a shard's evidence into block positions, with each position's ploidy.
pub fn ref_positions(contig: &str, ev: &RefEvidence, ploidy: &dyn PloidyOf) -> Vec<RefPosition> {
    ev.likelihoods
        .iter()
        .zip(&ev.depth)
        .zip(&ev.bases)
        .enumerate()
        .map(|(i, ((l, &dp), &b))| {
            let ploidy = if ploidy.ploidy(contig, ev.from + i as u64) == 1 {
                1
            } else {
                2
            };
            let lik = [l[0] as f64, l[1] as f64, l[2] as f64];
            let (gq, pl) = if ploidy == 1 {
                gq_and_pl(&[lik[0], lik[2]])
            } else {
                gq_and_pl(&lik)
            };
            RefPosition {
                base: match b {
                    b'A' | b'C' | b'G' | b'T' => b,
                    _ => b'N',
                },
                ploidy,
                gq,
                dp,
                pl,
            }
        })
        .collect()
}

/// The `<*>` allele a variant record gets in the gVCF: its reads and the PL of every
/// genotype that includes it, in VCF order after the record's own PL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonRefAllele {
    /// Reads that support neither REF nor a listed ALT (AD of `<*>`).
    pub depth: u32,
    /// PL entries of the genotypes with `<*>`.
    pub pl: Vec<u32>,
}

/// `<*>` for a record with `call` (its PL over the listed alleles, diploid or haploid as
/// the PL's length shows) and allele depths `ad`, where `other` reads support none of the
/// listed alleles. A genotype with m copies of `<*>` (of ploidy P) scores as the best
/// genotype of the listed alleles it could replace, plus how much less likely `other` of
/// the `other + ΣAD` reads are if a fraction m/P of reads carried `<*>` than if only
/// [`NON_REF_READ_ERROR`] did (binomial; never below 0, so the record's own PL stay
/// normalised).
pub fn non_ref_allele(call: &Call, ad: &[u32], other: u32) -> NonRefAllele {
    use crate::genotypes::genotype_index;
    let n = ad.len();
    let reads = ad.iter().sum::<u32>() + other;
    let penalty = |copies: usize, ploidy: usize| -> u32 {
        let e = NON_REF_READ_ERROR;
        let f = copies as f64 / ploidy as f64;
        let f = f * (1.0 - e) + (1.0 - f) * e;
        let (k, rest) = (other as f64, (reads - other) as f64);
        let log_ratio = k * (f / e).log10() + rest * ((1.0 - f) / (1.0 - e)).log10();
        (-10.0 * log_ratio).round().max(0.0) as u32
    };
    let haploid = call.ploidy == 1;
    let pl = if haploid {
        let best = call.pl.iter().copied().min().unwrap_or(0);
        vec![best + penalty(1, 1)]
    } else {
        let mut v: Vec<u32> = (0..n)
            .map(|j| {
                let best = (0..n)
                    .map(|b| call.pl[genotype_index(j, b)])
                    .min()
                    .unwrap_or(0);
                best + penalty(1, 2)
            })
            .collect();
        let best = call.pl.iter().copied().min().unwrap_or(0);
        v.push(best + penalty(2, 2));
        v
    };
    NonRefAllele { depth: other, pl }
}

/// What the block writer needs of a variant record: the reference it covers and its gVCF
/// line. The caller's records are [`crate::vcf::CallRecord`]s; [`GvcfRecord`] is a line
/// already written (tests drive the writer with synthetic ones).
pub trait GvcfVariant {
    /// 0-based POS.
    fn pos(&self) -> u64;
    /// End of its REF (exclusive).
    fn end(&self) -> u64;
    /// Append the gVCF line, with its newline.
    fn write_gvcf(&self, out: &mut String);
}

/// A gVCF variant record given as its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GvcfRecord {
    /// 0-based POS.
    pub pos: u64,
    /// End of its REF (exclusive).
    pub end: u64,
    /// The line, with its newline.
    pub line: String,
}

impl GvcfVariant for GvcfRecord {
    fn pos(&self) -> u64 {
        self.pos
    }
    fn end(&self) -> u64 {
        self.end
    }
    fn write_gvcf(&self, out: &mut String) {
        out.push_str(&self.line)
    }
}

/// An open reference block.
#[derive(Debug, Clone)]
struct Block {
    start: u64,
    end: u64,
    base: u8,
    band: usize,
    ploidy: u8,
    gq: u8,
    min_dp: u16,
    dp_sum: u64,
    pl: [u16; 3],
}

/// Cuts reference blocks on the ordered writer: fed each shard's positions and records in
/// genomic order, it writes records and blocks with every base once.
#[derive(Debug)]
pub struct BlockWriter {
    bands: GqBands,
    contig: String,
    open: Option<Block>,
    /// End (exclusive) of the reference the variant records written so far cover on
    /// `contig`: positions before it belong to a record.
    covered: u64,
}

impl BlockWriter {
    /// A writer cutting blocks at `bands`.
    pub fn new(bands: GqBands) -> Self {
        Self {
            bands,
            contig: String::new(),
            open: None,
            covered: 0,
        }
    }

    /// Append the text for one shard of `contig` whose positions start at `from`, with its
    /// variant records (anchored inside the shard, in position order). The block open at
    /// the end stays open for the next shard.
    pub fn shard(
        &mut self,
        contig: &str,
        from: u64,
        positions: &[RefPosition],
        records: &[impl GvcfVariant],
        out: &mut String,
    ) {
        if contig != self.contig {
            self.close(out);
            self.contig = contig.to_string();
            self.covered = 0;
        }
        let mut next = records.iter().peekable();
        for (i, p) in positions.iter().enumerate() {
            let pos = from + i as u64;
            while let Some(r) = next.next_if(|r| r.pos() <= pos) {
                self.record(r, out);
            }
            if pos < self.covered {
                continue;
            }
            let band = self.bands.band(p.gq);
            match &mut self.open {
                Some(b) if b.end == pos && b.band == band && b.ploidy == p.ploidy => {
                    b.end += 1;
                    b.gq = b.gq.min(p.gq);
                    b.min_dp = b.min_dp.min(p.dp);
                    b.dp_sum += p.dp as u64;
                    for g in 0..3 {
                        b.pl[g] = b.pl[g].min(p.pl[g]);
                    }
                }
                _ => {
                    self.close(out);
                    self.open = Some(Block {
                        start: pos,
                        end: pos + 1,
                        base: p.base,
                        band,
                        ploidy: p.ploidy,
                        gq: p.gq,
                        min_dp: p.dp,
                        dp_sum: p.dp as u64,
                        pl: p.pl,
                    });
                }
            }
        }
        for r in next {
            self.record(r, out);
        }
    }

    fn record(&mut self, r: &impl GvcfVariant, out: &mut String) {
        self.close(out);
        r.write_gvcf(out);
        self.covered = self.covered.max(r.end());
    }

    /// Write the open block, if any.
    pub fn close(&mut self, out: &mut String) {
        let Some(b) = self.open.take() else { return };
        let len = b.end - b.start;
        let (gt, pl) = if b.ploidy == 1 {
            ("0", format!("{},{}", b.pl[0], b.pl[1]))
        } else {
            ("0/0", format!("{},{},{}", b.pl[0], b.pl[1], b.pl[2]))
        };
        let _ = writeln!(
            out,
            "{}\t{}\t.\t{}\t{NON_REF}\t.\t.\tEND={}\tGT:GQ:DP:MIN_DP:PL\t{gt}:{}:{}:{}:{pl}",
            self.contig,
            b.start + 1,
            b.base as char,
            b.end,
            b.gq,
            b.dp_sum / len,
            b.min_dp,
        );
    }
}

/// The gVCF header: the VCF's, plus the symbolic allele, END, MIN_DP and how blocks are cut.
pub fn header(vcf_header: &str, bands: &GqBands) -> String {
    let extra = format!(
        "##ALT=<ID=*,Description=\"Any allele not listed: for reference blocks, any other allele\">\n\
         ##INFO=<ID=END,Number=1,Type=Integer,Description=\"Last position of the reference block\">\n\
         ##FORMAT=<ID=MIN_DP,Number=1,Type=Integer,Description=\"Least DP over the reference block\">\n\
         ##varstream_gvcf=<GQBands=\"{}\",Blocks=\"GQ, MIN_DP and PL are minima over the block, DP its mean\">\n",
        bands.describe()
    );
    match vcf_header.find("\n#CHROM") {
        Some(i) => format!("{}{extra}{}", &vcf_header[..=i], &vcf_header[i + 1..]),
        None => format!("{vcf_header}{extra}"),
    }
}

#[cfg(test)]
mod tests;
