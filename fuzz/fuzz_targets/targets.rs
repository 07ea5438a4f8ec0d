#![no_main]
//! Fuzz target `targets`: see `harness::targets` in fuzz/harness.rs.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::targets(data));
