#![no_main]
//! Fuzz target `model_sidecar`: see `harness::model_sidecar` in fuzz/harness.rs.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::model_sidecar(data));
