#![no_main]
//! Fuzz target `pgs_file`: see `harness::pgs_file` in fuzz/harness.rs.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::pgs_file(data));
