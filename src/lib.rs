//! varstream: a streaming germline small-variant caller. This package is the command line
//! (`cli`: the flags; `settings`: the flags resolved once into each run's typed settings;
//! `commands`: the stages' entry points run in order) and the binary; the work is in the crates
//! below it, by layer: varstream-io, varstream-core, varstream-scores, varstream-report
//! (docs/architecture.md). Their modules are re-exported here, so `varstream::reads` and the
//! like name them as before.
//!
//! The pipeline stages are modules named after what they do, in order:
//! [`regions`] → [`reads`] → [`realign`] → [`candidates`] → [`tensors`] → [`inference`] →
//! [`genotypes`] → [`vcf`]. [`shard_stages`] runs them over one shard without threads, and
//! [`pipeline`] is the only module that owns threads and channels. [`scores`] computes
//! per-sample downstream scores from any VCF, and [`report`] summarises a sample's calls and
//! scores. [`scatter_beds`] cuts the callable genome into BED files of balanced work, for
//! calling on several machines and concatenating the VCFs.
//!
//! # Brief overview
//!
//! One shard, stage by stage, with the shipped model:
//!
//! ```no_run
//! use std::path::Path;
//! use varstream::{shard_stages, inference, regions, reads::ReadSource, reference::Reference};
//!
//! # fn main() -> anyhow::Result<()> {
//! let fasta = Path::new("ref.fa");
//! let reference = Reference::open(fasta)?;
//! let mut bam = ReadSource::open(Path::new("sample.bam"), fasta)?;
//! let shard = regions::Shard {
//!     index: 0,
//!     interval: regions::Interval { contig: "chr20".into(), start: 10_000_000, end: 10_025_000 },
//! };
//! let examples = shard_stages::prepare_shard(&shard, &mut bam, &reference, &Default::default())?;
//! let mut model = inference::OnnxModel::load(Path::new("models/varstream-v3.onnx"), inference::Device::Cpu, 1)?;
//! let shape = [examples.len(), varstream::tensors::WINDOW, varstream::tensors::N_CHANNELS];
//! let (_, flat) = model.run(&examples.tensors, &shape)?;
//! let probs: Vec<[f32; 3]> = flat.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
//! let records = shard_stages::genotype_records(&examples.sites, None, None, &probs, &Default::default())?;
//! let mut text = String::new();
//! records.iter().for_each(|r| r.write_vcf(&mut text));
//! print!("{text}");
//! # Ok(())
//! # }
//! ```
pub use varstream_report::*;

pub mod cli;
pub mod commands;
pub mod settings;
