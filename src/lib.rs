//! varstream: a streaming germline small-variant caller.
//!
//! The pipeline stages are modules named after what they do, in order:
//! [`regions`] → [`reads`] → [`realign`] → [`candidates`] → [`tensors`] → [`inference`] →
//! [`genotypes`] → [`vcf`]. [`shard_stages`] runs them over one shard without threads, and
//! [`pipeline`] is the only module that owns threads and channels. [`scores`] computes
//! per-sample downstream scores from any VCF, and [`report`] summarises a sample's calls and
//! scores. [`cluster_shards`] cuts the callable genome into BED files of balanced work, for
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
//! print!("{}", shard_stages::genotype_shard(&examples.sites, &probs, &Default::default())?);
//! # Ok(())
//! # }
//! ```
/// `0.1.0 (abc1234, 2026-11-29)`: the package version, the git commit it was built from
/// (`-dirty` with uncommitted changes) and that commit's date; set by build.rs. Shown by
/// `--version` and written into VCF headers (`##source`) and reports.
pub const VERSION: &str = env!("VARSTREAM_VERSION");

pub mod call_command;
pub mod candidates;
pub mod cli;
pub mod cluster_shards;
pub mod contig_names;
pub mod errors;
pub mod eval;
pub mod genotypes;
pub mod gvcf;
pub mod inference;
pub mod input;
pub mod make_examples;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod platform;
pub mod ploidy;
pub mod reads;
pub mod realign;
pub mod ref_confidence;
pub mod reference;
pub mod regions;
pub mod report;
pub mod run_stats;
pub mod scores;
pub mod shard_stages;
pub mod tensors;
pub mod vcf;
pub mod vcf_genotypes;
