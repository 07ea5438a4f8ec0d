#![no_main]
//! Fuzz target `regions`: see `harness::regions` in fuzz/harness.rs.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::regions(data));
