#![no_main]
//! Fuzz target `prs_reference`: see `harness::prs_reference` in fuzz/harness.rs.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::prs_reference(data));
