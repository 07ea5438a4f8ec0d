//! `varstream make-examples`: the calling path's own examples, labelled from a truth VCF and
//! written as `.npy` shards that PyTorch and NumPy read directly.
//!
//! A label is the number of copies (0, 1, 2) of the candidate ALT allele in the truth genotype
//! (for a pair example of a multi-allelic site, of either ALT of the pair),
//! matched after both sides are trimmed to minimal, left-aligned alleles.
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::errors::BadInput;
use anyhow::{bail, Context, Result};
use rust_htslib::bcf::Read as _;

use crate::alleles::{normalize, sample_alleles, AlleleKey};
use crate::pipeline::run_ordered;
use crate::preamble::{open_reads, Preamble, ReadsUsed, SampleChoice};
use crate::reference::{RefCursor, Reference};
use crate::regions::{self, Interval};
use crate::shard_stages::{prepare_shard, ShardParams};
use crate::tensors::{self, EXAMPLE_LEN, N_CHANNELS, WINDOW};

/// Examples per `.npy` shard.
pub const EXAMPLES_PER_SHARD: usize = 50_000;

/// Truth alleles with their copy numbers, plus regions where labels cannot be trusted.
#[derive(Debug, Default)]
pub struct Truth {
    /// Copies of each truth allele in the sample.
    pub alleles: HashMap<AlleleKey, u8>,
    /// Complex truth records that do not decompose into our candidate alleles.
    pub unlabelable: Vec<Interval>,
}

/// Read the truth sample's non-reference genotypes from a truth VCF over `intervals`: its
/// only sample (a truth of several samples is refused, as labels from the wrong one would
/// look right).
pub fn load_truth(path: &Path, reference: &Reference, intervals: &[Interval]) -> Result<Truth> {
    let mut reader = crate::input::open_indexed_vcf(path)?;
    let samples = crate::vcf_genotypes::header_samples(&reader);
    let column = crate::vcf_genotypes::sample_column(
        &samples,
        None,
        path,
        "bcftools view -s NAME (make-examples reads a single-sample truth)",
        false,
    )?;
    let mut truth = Truth::default();
    let mut cursor = RefCursor::new(reference);
    for iv in intervals {
        // A truth without the contig would label every example there hom-ref.
        let Ok(rid) = reader.header().name2rid(iv.contig.as_bytes()) else {
            let names = crate::vcf_genotypes::header_contigs(reader.header());
            let hint = crate::regions::renamed(&iv.contig, &names)
                .map(|m| format!(" (it names {m}: name contigs one way in both)"))
                .unwrap_or_default();
            crate::bail_input!(
                "truth VCF {} has no contig {}{hint}: every example there would be labelled \
                 hom-ref",
                path.display(),
                iv.contig
            );
        };
        reader
            .fetch(rid, iv.start, Some(iv.end))
            .map_err(|e| anyhow::anyhow!("cannot fetch {iv} from {}: {e}", path.display()))?;
        for rec in reader.records() {
            let rec = rec.map_err(|e| anyhow::anyhow!("bad record in {}: {e}", path.display()))?;
            let pos = rec.pos() as u64;
            let ref_len = rec.alleles()[0].len() as u64;
            cursor.load_around(&iv.contig, pos, 2_000)?;
            let ref_at = |p: u64| cursor.base(p);
            for (key, copies) in sample_alleles(&rec, &iv.contig, &ref_at, path, column)? {
                if key.2.len() > 1 && key.3.len() > 1 {
                    // Complex: no single candidate allele can match it; keep labels away.
                    truth.unlabelable.push(Interval {
                        contig: iv.contig.clone(),
                        start: pos.saturating_sub(5),
                        end: pos + ref_len + 5,
                    });
                } else {
                    *truth.alleles.entry(key).or_default() += copies;
                }
            }
        }
    }
    Ok(truth)
}

/// Write a little-endian `.npy` (format 1.0) of `shape` with dtype `descr` (e.g. `<f4`) under
/// a temporary name: commit the returned path when the run is complete.
pub fn write_npy(
    path: &Path,
    descr: &str,
    shape: &[usize],
    data: &[u8],
) -> Result<crate::output::TempPath> {
    let shape_txt = match shape.len() {
        1 => format!("({},)", shape[0]),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut head =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_txt}, }}");
    // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64.
    let total = 10 + head.len() + 1;
    head.push_str(&" ".repeat((64 - total % 64) % 64));
    head.push('\n');
    let mut f = crate::output::OutputFile::create(path)?;
    let ctx = || format!("cannot write {}", path.display());
    f.write_all(b"\x93NUMPY\x01\x00").with_context(ctx)?;
    f.write_all(&(head.len() as u16).to_le_bytes())
        .with_context(ctx)?;
    f.write_all(head.as_bytes()).with_context(ctx)?;
    f.write_all(data).with_context(ctx)?;
    f.finish()
}

/// Settings for make-examples.
#[derive(Debug, Clone)]
pub struct ExamplesConfig {
    /// Reference FASTA.
    pub reference: PathBuf,
    /// BAM or CRAM.
    pub reads: PathBuf,
    /// Truth VCF (bgzipped, indexed).
    pub truth: PathBuf,
    /// Regions where the truth is complete.
    pub confident: PathBuf,
    /// Output folder.
    pub output: PathBuf,
    /// Optional extra `--region` restrictions.
    pub regions: Vec<String>,
    /// Source name written in the metadata.
    pub name: String,
    /// Worker threads.
    pub threads: usize,
    /// Per-shard settings (the same as calling uses). With `keep_reads`, each example's read
    /// rows are written too (`shard-NNNNN.r.npy`, `i8` = value x [`crate::read_tensors::GRID`]).
    pub shard: ShardParams,
    /// The sample whose reads to use, as `call --sample` chooses it: a file of several
    /// samples needs it (they were pooled into one sample's examples).
    pub sample: Option<String>,
}

/// Counts of what was written.
#[derive(Debug, Default, Clone)]
pub struct ExamplesSummary {
    /// Examples per label 0, 1, 2.
    pub per_label: [usize; 3],
    /// Candidates skipped near complex truth records.
    pub skipped: usize,
    /// Truth alleles in the regions that no candidate matched.
    pub truth_missed: usize,
}

struct ShardWriter {
    dir: PathBuf,
    name: String,
    index: usize,
    x: Vec<f32>,
    y: Vec<i64>,
    /// Read rows, quantized, when the shards keep their reads (empty otherwise).
    r: Vec<u8>,
    meta: String,
    /// Files written under temporary names: they appear together when the run succeeds.
    written: Vec<crate::output::TempPath>,
}

impl ShardWriter {
    fn flush(&mut self) -> Result<()> {
        if self.y.is_empty() {
            return Ok(());
        }
        let stem = self.dir.join(format!("shard-{:05}", self.index));
        let n = self.y.len();
        let xb: Vec<u8> = self.x.iter().flat_map(|v| v.to_le_bytes()).collect();
        let yb: Vec<u8> = self.y.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.written.push(write_npy(
            &stem.with_extension("x.npy"),
            "<f4",
            &[n, WINDOW, N_CHANNELS],
            &xb,
        )?);
        self.written
            .push(write_npy(&stem.with_extension("y.npy"), "<i8", &[n], &yb)?);
        if !self.r.is_empty() {
            use crate::read_tensors::{MAX_ROWS, N_READ_CHANNELS};
            self.written.push(write_npy(
                &stem.with_extension("r.npy"),
                "|i1",
                &[n, MAX_ROWS, WINDOW, N_READ_CHANNELS],
                &self.r,
            )?);
        }
        self.written.push(crate::output::write_file_uncommitted(
            &stem.with_extension("meta.tsv"),
            format!("source\tchrom\tpos\tref\talt\tlabel\tdepth\n{}", self.meta).as_bytes(),
        )?);
        log::info!("{}: wrote {} examples to {}", self.name, n, stem.display());
        self.index += 1;
        self.x.clear();
        self.y.clear();
        self.r.clear();
        self.meta.clear();
        Ok(())
    }
}

/// An output folder holding an earlier run's examples is refused: a run writing fewer shards
/// would leave the earlier ones beside its own, and a trainer reading the folder would mix them.
fn refuse_earlier_examples(dir: &Path) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list output folder {}", dir.display()))?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name == "examples.json" || name.starts_with("shard-") {
            crate::bail_input!(
                "output folder {} already holds examples ({name}): remove them or use an \
                 empty folder",
                dir.display()
            );
        }
    }
    Ok(())
}

/// Run make-examples.
pub fn run(cfg: &ExamplesConfig) -> Result<ExamplesSummary> {
    std::fs::create_dir_all(&cfg.output)
        .with_context(|| format!("cannot create {}", cfg.output.display()))?;
    refuse_earlier_examples(&cfg.output)?;
    // The same inputs, sample choice and checks as `call`.
    let samples = SampleChoice::One(cfg.sample.as_deref());
    let Preamble {
        reference,
        reads: probe,
        sample,
        intervals,
        ..
    } = Preamble::open(
        &cfg.reference,
        &cfg.reads,
        samples,
        &cfg.regions,
        Some(&cfg.confident),
    )?;
    drop(probe);
    if intervals.is_empty() {
        bail!(
            "no confident regions left on contigs shared by {} and the reference",
            cfg.reads.display()
        );
    }
    let truth = load_truth(&cfg.truth, &reference, &intervals).bad_input()?;
    log::info!(
        "{}: {} truth alleles in {} confident intervals",
        cfg.name,
        truth.alleles.len(),
        intervals.len()
    );
    let shards = regions::shard(&intervals, regions::DEFAULT_SHARD_BP);
    let mut out = ShardWriter {
        dir: cfg.output.clone(),
        name: cfg.name.clone(),
        index: 0,
        x: Vec::new(),
        y: Vec::new(),
        r: Vec::new(),
        meta: String::new(),
        written: Vec::new(),
    };
    let mut summary = ExamplesSummary::default();
    let mut matched: std::collections::HashSet<AlleleKey> = Default::default();
    let mut cursor = RefCursor::new(&reference);
    let mut used = ReadsUsed::new(&intervals);
    run_ordered(
        &shards,
        cfg.threads,
        || open_reads(&cfg.reads, &cfg.reference, samples).map(|(source, _)| source),
        |source, shard| {
            prepare_shard(shard, source, &reference, &cfg.shard)
                .with_context(|| format!("at {}", shard.interval))
        },
        |shard, ex| {
            used.add(
                &shard.interval.contig,
                &ex.coverage,
                &ex.reads,
                &ex.ref_agreement,
            );
            let mut k = 0;
            let mut rows = vec![0f32; crate::read_tensors::ROWS_LEN];
            for (site_index, site) in ex.sites.iter().enumerate() {
                cursor.load_around(&site.contig, site.pos, 1_000)?;
                let ref_at = |p: u64| cursor.base(p);
                let blocked = truth.unlabelable.iter().any(|iv| {
                    iv.contig == site.contig
                        && iv.start <= site.pos + site.ref_allele.len() as u64
                        && site.pos < iv.end
                });
                let sets = tensors::allele_sets(site.alts.len());
                if blocked {
                    summary.skipped += sets.len();
                    k += sets.len();
                    continue;
                }
                // Copies of each alt in the truth genotype; a set's label sums its alts'.
                let copies: Vec<u8> = site
                    .alt_alleles
                    .iter()
                    .map(|alt| {
                        let key = normalize(&site.contig, site.pos, &site.ref_allele, alt, &ref_at);
                        let c = truth.alleles.get(&key).copied().unwrap_or(0).min(2);
                        if c > 0 {
                            matched.insert(key);
                        }
                        c
                    })
                    .collect();
                for (i, set) in sets.iter().enumerate() {
                    let x = &ex.tensors[(k + i) * EXAMPLE_LEN..(k + i + 1) * EXAMPLE_LEN];
                    let label = set.iter().map(|&a| copies[a]).sum::<u8>().min(2);
                    summary.per_label[label as usize] += 1;
                    out.x.extend_from_slice(x);
                    out.y.push(label as i64);
                    if cfg.shard.keep_reads {
                        ex.rows(site_index, set, &mut rows);
                        out.r.extend(crate::read_tensors::quantize(&rows));
                    }
                    let alt: Vec<String> = set
                        .iter()
                        .map(|&a| String::from_utf8_lossy(&site.alt_alleles[a]).into_owned())
                        .collect();
                    out.meta.push_str(&format!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                        cfg.name,
                        site.contig,
                        site.pos + 1,
                        String::from_utf8_lossy(&site.ref_allele),
                        alt.join("|"),
                        label,
                        site.depth
                    ));
                }
                k += sets.len();
                if out.y.len() >= EXAMPLES_PER_SHARD {
                    out.flush()?;
                }
            }
            Ok(())
        },
    )?;
    used.finish(
        &sample,
        &cfg.shard.filter,
        &cfg.reads,
        &cfg.reference,
        "no examples written",
    )?;
    out.flush()?;
    summary.truth_missed = truth
        .alleles
        .keys()
        .filter(|k| !matched.contains(*k))
        .count();
    let mut spec = tensors::spec_json();
    if cfg.shard.keep_reads {
        spec["read_tensors"] = crate::read_tensors::spec_json();
    }
    spec["labels"] = serde_json::json!(["hom_ref", "het", "hom_alt"]);
    spec["sources"] = serde_json::json!([{
        "name": cfg.name,
        "bam": cfg.reads.display().to_string(),
        "reference": cfg.reference.display().to_string(),
        "truth": cfg.truth.display().to_string(),
        "regions": cfg.confident.display().to_string(),
        "extra_regions": cfg.regions,
        "intervals": intervals.iter().take(1000).map(|iv| iv.to_string()).collect::<Vec<_>>(),
        "interval_bp": intervals.iter().map(|iv| iv.end - iv.start).sum::<u64>(),
        "examples_per_label": summary.per_label,
        "truth_alleles": truth.alleles.len(),
        "truth_alleles_without_candidate": summary.truth_missed,
    }]);
    out.written.push(crate::output::write_file_uncommitted(
        &cfg.output.join("examples.json"),
        serde_json::to_string_pretty(&spec)?.as_bytes(),
    )?);
    crate::output::commit_all(out.written)?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One genotype rule for every VCF reader (scores use `vcf_genotypes::Call`): a haploid
    /// `1` is one copy, `1/1` two, `0/1` one.
    #[test]
    fn test_write_npy_header_is_aligned() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.npy");
        write_npy(&p, "<i8", &[3], &[0u8; 24])
            .unwrap()
            .commit()
            .unwrap();
        let b = std::fs::read(&p).unwrap();
        assert_eq!(&b[..6], b"\x93NUMPY");
        let hl = u16::from_le_bytes([b[8], b[9]]) as usize;
        assert_eq!((10 + hl) % 64, 0);
        assert_eq!(b.len(), 10 + hl + 24);
        assert!(String::from_utf8_lossy(&b[10..10 + hl]).contains("'shape': (3,)"));
    }
}
