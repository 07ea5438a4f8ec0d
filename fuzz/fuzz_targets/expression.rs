#![no_main]
//! Fuzz target `expression`: see `harness::expression` in fuzz/harness.rs.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::expression(data));
