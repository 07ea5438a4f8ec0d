#![no_main]
//! Fuzz target `vcf_genotypes`: see `harness::vcf_genotypes` in fuzz/harness.rs.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::vcf_genotypes(data));
