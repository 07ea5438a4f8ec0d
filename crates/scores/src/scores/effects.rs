//! `varstream score effects`: variant effects on a sequence model's predicted tracks.
//!
//! Score = model(alt window) − model(ref window), the ExPecto/Kipoi-veff convention. The
//! window geometry and encoding live in the model's JSON sidecar so that one binary serves
//! any user-supplied model without recompiling.
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::errors::BadInput;
use anyhow::{bail, Context, Result};
use serde::Deserialize;

use super::targets::{read_targets, Target, TargetIndex};
use super::vcf_genotypes::{self, allele_count};
use super::{chrom_key, create_output, fmt_f64, prefixed};
use crate::inference::{Device, OnnxModel};

/// `varstream score effects` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct EffectsArgs {
    /// VCF/BCF of variants to score (GT is used only for the per-sample file).
    #[arg(long)]
    pub vcf: PathBuf,
    /// Reference FASTA (plain with .fai, or bgzipped with .fai and .gzi).
    #[arg(long = "ref")]
    pub reference: PathBuf,
    /// Sequence model in ONNX; its sidecar is MODEL.json unless --sidecar is given.
    #[arg(long)]
    pub model: PathBuf,
    /// The model's JSON sidecar (default: the model path with extension .json).
    #[arg(long)]
    pub sidecar: Option<PathBuf>,
    /// Targets (e.g. TSSs): BED, or GTF/GFF gene lines.
    #[arg(long)]
    pub targets: PathBuf,
    /// Output prefix: writes PREFIX.effects.tsv and PREFIX.effects_samples.tsv.
    #[arg(long)]
    pub output: PathBuf,
    /// Where the model runs.
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    pub device: Device,
    /// ONNX Runtime intra-op threads.
    #[arg(long, default_value_t = 1, value_parser = at_least_one())]
    pub threads: usize,
    /// Windows per model call (default: the sidecar's batch_size).
    #[arg(long, value_parser = at_least_one())]
    pub batch_size: Option<usize>,
}

/// A count of at least 1 (0 is a usage error naming the flag, never clamped).
fn at_least_one() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
}

/// How windows are oriented relative to the target's strand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum StrandMode {
    /// Reverse-complement windows of `-` strand targets (what a TSS model expects).
    #[default]
    Target,
    /// Always the reference's forward strand.
    Forward,
    /// Average of the forward and reverse-complement predictions.
    Both,
}

/// Input tensor layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum Layout {
    /// [batch, length, channels].
    #[default]
    NLC,
    /// [batch, channels, length].
    NCL,
}

/// The model's JSON sidecar.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sidecar {
    /// Free-text model name.
    #[serde(default)]
    pub name: String,
    /// Window length in bases, centred on the target (centre base at index window/2).
    pub window: usize,
    /// One-hot channel order.
    #[serde(default = "default_alphabet")]
    pub alphabet: String,
    /// Value put in every channel for N or any other non-alphabet base (0 or 0.25 usually).
    #[serde(default)]
    pub unknown_value: f32,
    /// Input layout.
    #[serde(default)]
    pub layout: Layout,
    /// Strand handling.
    #[serde(default)]
    pub strand: StrandMode,
    /// Output track names; the model's output must have this many values per window.
    pub tracks: Vec<String>,
    /// Name of the model input (documentation; the first input is used).
    #[serde(default)]
    pub input_name: Option<String>,
    /// Name of the model output (documentation; the first output is used).
    #[serde(default)]
    pub output_name: Option<String>,
    /// Windows per model call.
    #[serde(default = "default_batch")]
    pub batch_size: usize,
}

fn default_alphabet() -> String {
    "ACGT".into()
}

fn default_batch() -> usize {
    64
}

impl Sidecar {
    /// Read and check a sidecar.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read model sidecar {}", path.display()))?;
        let s: Sidecar = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a valid model sidecar", path.display()))?;
        if s.window == 0 || s.tracks.is_empty() || s.alphabet.is_empty() || s.batch_size == 0 {
            bail!(
                "{}: window, tracks, alphabet and batch_size must be non-empty",
                path.display()
            );
        }
        Ok(s)
    }

    /// One-hot encode a window into `out` (appended) in the sidecar's layout.
    pub fn encode(&self, seq: &[u8], out: &mut Vec<f32>) {
        let alpha: Vec<u8> = self
            .alphabet
            .bytes()
            .map(|b| b.to_ascii_uppercase())
            .collect();
        let c = alpha.len();
        let base = out.len();
        out.resize(base + seq.len() * c, 0.0);
        for (i, b) in seq.iter().enumerate() {
            let b = b.to_ascii_uppercase();
            let hot = alpha.iter().position(|x| *x == b);
            for k in 0..c {
                let v = match hot {
                    Some(p) if p == k => 1.0,
                    Some(_) => 0.0,
                    None => self.unknown_value,
                };
                let at = match self.layout {
                    Layout::NLC => i * c + k,
                    Layout::NCL => k * seq.len() + i,
                };
                out[base + at] = v;
            }
        }
    }
}

/// Reverse complement (N and other letters are kept in place).
pub fn revcomp(s: &[u8]) -> Vec<u8> {
    s.iter()
        .rev()
        .map(|b| match b.to_ascii_uppercase() {
            b'A' => b'T',
            b'C' => b'G',
            b'G' => b'C',
            b'T' => b'A',
            o => o,
        })
        .collect()
}

/// Reference sequence access by any spelling of the chromosome name, N-padded past the ends.
pub struct Genome {
    reader: rust_htslib::faidx::Reader,
    names: HashMap<String, String>,
    path: PathBuf,
}

impl Genome {
    /// Open a FASTA (htslib builds a missing .fai for plain files).
    pub fn open(path: &Path) -> Result<Self> {
        if !path.is_file() {
            bail!("reference FASTA {} does not exist", path.display());
        }
        let reader = rust_htslib::faidx::Reader::from_path(path)
            .with_context(|| format!("cannot open reference FASTA {}", path.display()))?;
        let names = reader
            .seq_names()
            .with_context(|| format!("{}: cannot list sequences", path.display()))?
            .into_iter()
            .map(|n| (chrom_key(&n), n))
            .collect();
        Ok(Self {
            reader,
            names,
            path: path.to_path_buf(),
        })
    }

    /// Bases `[start, end)` (0-based, may be negative or past the end: padded with N).
    pub fn fetch(&self, chrom: &str, start: i64, end: i64) -> Result<Vec<u8>> {
        let name = self
            .names
            .get(&chrom_key(chrom))
            .with_context(|| format!("{}: no sequence named {chrom}", self.path.display()))?;
        let len = self.reader.fetch_seq_len(name) as i64;
        let (s, e) = (start.max(0), end.min(len));
        let mut out = vec![b'N'; (s - start).max(0) as usize];
        if e > s {
            let seq = self
                .reader
                .fetch_seq(name, s as usize, (e - 1) as usize)
                .with_context(|| format!("{}: cannot fetch {name}:{s}-{e}", self.path.display()))?;
            out.extend(seq.iter().map(|b| b.to_ascii_uppercase()));
        }
        out.resize((end - start).max(0) as usize, b'N');
        Ok(out)
    }
}

/// Reference and alternate windows for a variant near a target.
///
/// The target stays at the window centre in both: the reference flanking the target's side
/// is kept and the far side is filled from the reference (deletions) or truncated
/// (insertions). A variant that ends before the target shifts the alternate sequence's
/// coordinates, so the window is re-centred on the shifted target.
pub fn windows(
    genome: &Genome,
    t: &Target,
    window: usize,
    pos0: u64,
    r: &str,
    a: &str,
) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
    let w = window as i64;
    let half = w / 2;
    let shift = a.len() as i64 - r.len() as i64;
    let m = shift.abs();
    let start = t.center as i64 - half;
    let ext = genome.fetch(&t.chrom, start - m, start + w + m)?;
    let vs = (pos0 as i64 - (start - m)) as usize;
    if ext.get(vs..vs + r.len()) != Some(r.as_bytes()) {
        return Ok(None);
    }
    let mut alt_ext = ext[..vs].to_vec();
    alt_ext.extend_from_slice(a.as_bytes());
    alt_ext.extend_from_slice(&ext[vs + r.len()..]);
    let ends_before_target = pos0 as i64 + r.len() as i64 <= t.center as i64;
    let b = if ends_before_target { m + shift } else { m } as usize;
    Ok(Some((
        ext[m as usize..(m + w) as usize].to_vec(),
        alt_ext[b..b + window].to_vec(),
    )))
}

/// A window to run through the model.
struct Job {
    seq: Vec<u8>,
    target: usize,
    /// `None` for the target's reference window.
    variant: Option<usize>,
}

/// One scored (variant, target).
#[derive(Debug, Clone)]
pub struct Effect {
    /// Variant chromosome, 1-based position, REF, ALT.
    pub chrom: String,
    /// 1-based position.
    pub pos: u64,
    /// REF allele.
    pub reference: String,
    /// ALT allele.
    pub alt: String,
    /// Index into the targets.
    pub target: usize,
    /// Model outputs for the alternate window.
    pub alt_scores: Vec<f32>,
    /// Per-sample copies of this ALT (None = missing GT).
    pub dosages: Vec<Option<f64>>,
}

fn run_jobs(
    model: &mut OnnxModel,
    sc: &Sidecar,
    jobs: &[Job],
    batch: usize,
    strand_of: impl Fn(usize) -> char,
) -> Result<Vec<Vec<f32>>> {
    let t = sc.tracks.len();
    let c = sc.alphabet.len();
    let mut results = Vec::with_capacity(jobs.len());
    let orient = |j: &Job, rc: bool| if rc { revcomp(&j.seq) } else { j.seq.clone() };
    let passes: &[bool] = match sc.strand {
        StrandMode::Both => &[false, true],
        _ => &[false],
    };
    for chunk in jobs.chunks(batch) {
        let mut acc = vec![vec![0f32; t]; chunk.len()];
        for &rc_pass in passes {
            let mut input = Vec::with_capacity(chunk.len() * sc.window * c);
            for j in chunk {
                let rc = match sc.strand {
                    StrandMode::Target => strand_of(j.target) == '-',
                    StrandMode::Forward => false,
                    StrandMode::Both => rc_pass,
                };
                sc.encode(&orient(j, rc), &mut input);
            }
            let shape = match sc.layout {
                Layout::NLC => [chunk.len(), sc.window, c],
                Layout::NCL => [chunk.len(), c, sc.window],
            };
            let (oshape, out) = model.run(&input, &shape)?;
            if oshape.first() != Some(&chunk.len()) || out.len() != chunk.len() * t {
                bail!(
                    "model {} returned shape {oshape:?} for {} windows; the sidecar lists {t} tracks, so [batch, {t}] was expected",
                    model.path().display(),
                    chunk.len()
                );
            }
            for (i, a) in acc.iter_mut().enumerate() {
                for k in 0..t {
                    a[k] += out[i * t + k] / passes.len() as f32;
                }
            }
        }
        results.extend(acc);
    }
    Ok(results)
}

/// Run `score effects`.
pub fn run(args: &EffectsArgs) -> Result<()> {
    let mut inputs = vec![
        args.vcf.clone(),
        args.reference.clone(),
        args.model.clone(),
        args.targets.clone(),
    ];
    inputs.extend(args.sidecar.iter().cloned());
    crate::output::check_outputs(
        &[
            prefixed(&args.output, ".effects.tsv"),
            prefixed(&args.output, ".effects_samples.tsv"),
        ],
        &inputs,
    )?;
    let sidecar_path = args
        .sidecar
        .clone()
        .unwrap_or_else(|| args.model.with_extension("json"));
    let sc = Sidecar::read(&sidecar_path).bad_input()?;
    let genome = Genome::open(&args.reference).bad_input()?;
    let targets = read_targets(&args.targets).bad_input()?;
    let index = TargetIndex::new(&targets);
    let (mut jobs, mut effects, mut skipped) = (Vec::new(), Vec::new(), 0usize);
    let mut needs_ref = vec![false; targets.len()];
    let samples = vcf_genotypes::for_each_site(&args.vcf, |site| {
        let pos0 = site.pos - 1;
        let hits = index.covering(&targets, &site.chrom, pos0, sc.window as u64);
        for &ti in &hits {
            for (ai, alt) in site.alleles.iter().enumerate().skip(1) {
                if alt.is_empty() || !alt.bytes().all(|b| b"ACGTN".contains(&b)) {
                    continue; // symbolic (<DEL>), spanning deletion (*), missing (.)
                }
                match windows(
                    &genome,
                    &targets[ti],
                    sc.window,
                    pos0,
                    &site.alleles[0],
                    alt,
                )? {
                    None => {
                        skipped += 1;
                        log::warn!(
                            "{}:{} REF {} does not match {}; skipped",
                            site.chrom,
                            site.pos,
                            site.alleles[0],
                            args.reference.display()
                        );
                    }
                    Some((r, a)) => {
                        if !needs_ref[ti] {
                            needs_ref[ti] = true;
                            jobs.push(Job {
                                seq: r,
                                target: ti,
                                variant: None,
                            });
                        }
                        jobs.push(Job {
                            seq: a,
                            target: ti,
                            variant: Some(effects.len()),
                        });
                        effects.push(Effect {
                            chrom: site.chrom.clone(),
                            pos: site.pos,
                            reference: site.alleles[0].clone(),
                            alt: alt.clone(),
                            target: ti,
                            alt_scores: Vec::new(),
                            dosages: site.gts.iter().map(|&g| allele_count(g, ai)).collect(),
                        });
                    }
                }
            }
        }
        Ok(())
    })
    .bad_input()?;
    let batch = args.batch_size.unwrap_or(sc.batch_size);
    log::info!(
        "{} variant-target pairs to score ({skipped} skipped for REF mismatch), {} windows, in \
         batches of up to {batch} on {} thread(s)",
        effects.len(),
        jobs.len(),
        args.threads
    );
    let mut ref_scores: HashMap<usize, Vec<f32>> = HashMap::new();
    if !jobs.is_empty() {
        let mut model = OnnxModel::load(&args.model, args.device, args.threads).bad_input()?;
        let outs = run_jobs(&mut model, &sc, &jobs, batch, |ti| targets[ti].strand)?;
        for (j, o) in jobs.iter().zip(outs) {
            match j.variant {
                None => {
                    ref_scores.insert(j.target, o);
                }
                Some(v) => effects[v].alt_scores = o,
            }
        }
    }
    write_outputs(&args.output, &sc, &targets, &effects, &ref_scores, &samples)
}

fn write_outputs(
    prefix: &Path,
    sc: &Sidecar,
    targets: &[Target],
    effects: &[Effect],
    refs: &HashMap<usize, Vec<f32>>,
    samples: &[String],
) -> Result<()> {
    let path = prefixed(prefix, ".effects.tsv");
    let mut out = create_output(&path)?;
    writeln!(
        out,
        "chrom\tpos\tref\talt\ttarget_id\tstrand\ttrack\tref_score\talt_score\talt_minus_ref"
    )?;
    // (sample, target, track) → (variants, Σ copies × effect)
    let mut per_sample: Vec<HashMap<usize, (usize, Vec<f64>)>> =
        vec![HashMap::new(); samples.len()];
    for e in effects {
        let t = &targets[e.target];
        let r = &refs[&e.target];
        for (k, track) in sc.tracks.iter().enumerate() {
            let d = e.alt_scores[k] as f64 - r[k] as f64;
            writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}\t{}\t{track}\t{}\t{}\t{}",
                e.chrom,
                e.pos,
                e.reference,
                e.alt,
                t.id,
                t.strand,
                fmt_f64(r[k] as f64),
                fmt_f64(e.alt_scores[k] as f64),
                fmt_f64(d)
            )?;
        }
        for (s, dose) in e.dosages.iter().enumerate() {
            let entry = per_sample[s]
                .entry(e.target)
                .or_insert_with(|| (0, vec![0.0; sc.tracks.len()]));
            if let Some(dose) = dose.filter(|d| *d > 0.0) {
                entry.0 += 1;
                for ((acc, alt), rf) in entry.1.iter_mut().zip(&e.alt_scores).zip(r) {
                    *acc += dose * (*alt as f64 - *rf as f64);
                }
            }
        }
    }
    out.commit()?;
    let path = prefixed(prefix, ".effects_samples.tsv");
    let mut out = create_output(&path)?;
    writeln!(
        out,
        "sample\ttarget_id\ttrack\tn_variants_carried\tdosage_weighted_effect"
    )?;
    for (s, sample) in samples.iter().enumerate() {
        let mut keys: Vec<&usize> = per_sample[s].keys().collect();
        keys.sort();
        for ti in keys {
            let (n, sums) = &per_sample[s][ti];
            for (k, track) in sc.tracks.iter().enumerate() {
                writeln!(
                    out,
                    "{sample}\t{}\t{track}\t{n}\t{}",
                    targets[*ti].id,
                    fmt_f64(sums[k])
                )?;
            }
        }
    }
    out.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sc(layout: Layout, unknown: f32) -> Sidecar {
        Sidecar {
            name: String::new(),
            window: 3,
            alphabet: "ACGT".into(),
            unknown_value: unknown,
            layout,
            strand: StrandMode::Target,
            tracks: vec!["t".into()],
            input_name: None,
            output_name: None,
            batch_size: 2,
        }
    }

    #[test]
    fn one_hot_layouts() {
        let mut v = Vec::new();
        sc(Layout::NLC, 0.25).encode(b"AgN", &mut v);
        assert_eq!(v, [1., 0., 0., 0., 0., 0., 1., 0., 0.25, 0.25, 0.25, 0.25]);
        let mut v = Vec::new();
        sc(Layout::NCL, 0.0).encode(b"ACT", &mut v);
        assert_eq!(v, [1., 0., 0., 0., 1., 0., 0., 0., 0., 0., 0., 1.]);
        assert_eq!(revcomp(b"AACGN"), b"NCGTT");
    }

    #[test]
    fn indel_windows_keep_the_target_centred() {
        let d = tempfile::tempdir().unwrap();
        let fa = d.path().join("g.fa");
        std::fs::write(&fa, ">chr1\nACGTACGTACGTACGTACGT\n").unwrap();
        let g = Genome::open(&fa).unwrap();
        let t = Target {
            id: "x".into(),
            chrom: "1".into(),
            center: 10,
            strand: '+',
        };
        // window 6 → [7, 13) = "TACGTA"; index 3 is the centre (pos 10 = 'G')
        let (r, a) = windows(&g, &t, 6, 11, "T", "G").unwrap().unwrap();
        assert_eq!(
            (r.as_slice(), a.as_slice()),
            (&b"TACGTA"[..], &b"TACGGA"[..])
        );
        // insertion after the target: right side truncated
        let (_, a) = windows(&g, &t, 6, 11, "T", "TCC").unwrap().unwrap();
        assert_eq!(a, b"TACGTC");
        // deletion before the target (pos 8 'A','C' → 'A'): left side refilled, centre kept
        let (_, a) = windows(&g, &t, 6, 8, "AC", "A").unwrap().unwrap();
        assert_eq!(a, b"GTAGTA");
        assert_eq!(a[3], b'G');
        // beyond the chromosome start: N-padded
        let t0 = Target {
            center: 1,
            ..t.clone()
        };
        let (r, _) = windows(&g, &t0, 6, 0, "A", "C").unwrap().unwrap();
        assert_eq!(r, b"NNACGT");
        assert!(windows(&g, &t, 6, 11, "C", "T").unwrap().is_none());
    }
}
