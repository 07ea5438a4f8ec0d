//! varstream-io: the layer that touches files. Opening inputs whole (`input`, `reference`,
//! `vcf_genotypes`), writing outputs under temporary names and renaming them into place
//! (`output`), the exit-status policy (`errors`) and the contig-name rule (`contig_names`).
//! It imports no other varstream crate.
/// `0.1.0 (abc1234, 2026-11-29)`: the package version, the git commit it was built from
/// (`-dirty` with uncommitted changes) and that commit's date; set by build.rs. Shown by
/// `--version` and written into VCF headers (`##source`) and reports.
pub const VERSION: &str = env!("VARSTREAM_VERSION");

/// The git commit the build recorded (empty without one), for the report's provenance.
pub const GIT_COMMIT: &str = env!("VARSTREAM_GIT_COMMIT");

pub mod contig_names;
pub mod errors;
pub mod input;
pub mod output;
pub mod reference;
pub mod vcf_genotypes;
