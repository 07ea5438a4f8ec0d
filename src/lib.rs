//! varstream: a streaming germline small-variant caller.
//!
//! The pipeline stages are modules named after what they do, in order:
//! [`regions`] → [`reads`] → [`candidates`] → [`tensors`] → [`inference`] →
//! [`genotypes`] → [`vcf`], with [`pipeline`] the only module that owns threads and
//! channels. [`scores`] computes per-sample downstream scores from any VCF.
pub mod call;
pub mod calling;
pub mod candidates;
pub mod cli;
pub mod eval;
pub mod genotypes;
pub mod inference;
pub mod model;
pub mod pipeline;
pub mod reads;
pub mod reference;
pub mod regions;
pub mod scores;
pub mod tensors;
pub mod training;
pub mod vcf;
