//! varstream-report: the per-sample HTML/JSON report and its MultiQC section. It imports
//! varstream-io, varstream-core and varstream-scores, and re-exports them.
pub use varstream_scores::*;

pub mod report;
