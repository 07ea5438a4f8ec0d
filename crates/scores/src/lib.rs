//! varstream-scores: per-sample scores from any VCF (polygenic scores, predicted expression,
//! sequence-model variant effects, the risk model). It imports varstream-io and
//! varstream-core, and re-exports them.
pub use varstream_core::*;

pub mod scores;
