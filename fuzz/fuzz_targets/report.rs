#![no_main]
//! Fuzz target `report`: see `harness::report` in fuzz/harness.rs.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::report(data));
