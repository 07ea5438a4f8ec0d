#![no_main]
//! Fuzz target `eval_calls`: see `harness::eval_calls` in fuzz/harness.rs.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::eval_calls(data));
