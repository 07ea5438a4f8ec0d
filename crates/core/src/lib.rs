//! varstream-core: the calling pipeline. The stages are modules named after what they do, in
//! order: `regions` → `reads` → `realign` → `candidates` → `tensors` → `inference` →
//! `genotypes` → `vcf` (and `ref_confidence` → `gvcf`); `shard_stages` runs them over one
//! shard without threads, and `pipeline` is the only module with threads and channels.
//! `call_command`, `make_examples`, `eval` and `scatter_beds` are the runs built on them.
//! It imports only varstream-io, whose modules it re-exports so that one `crate::` path
//! names each module in every crate above.
pub use varstream_io::*;

pub mod alleles;
pub mod call_command;
pub mod candidates;
pub mod eval;
pub mod genotypes;
pub mod gvcf;
pub mod inference;
pub mod make_examples;
pub mod model;
pub mod overlapping_calls;
pub mod phasing;
pub mod pipeline;
pub mod platform;
pub mod ploidy;
pub mod preamble;
pub mod read_tensors;
pub mod reads;
pub mod realign;
pub mod ref_confidence;
pub mod regions;
pub mod run_stats;
pub mod scatter_beds;
pub mod shard_stages;
pub mod tensors;
pub mod vcf;
