#![no_main]
//! Fuzz target `bam_record`: see `harness::bam_record` in fuzz/harness.rs.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::bam_record(data));
