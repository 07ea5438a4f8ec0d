#![no_main]
//! Fuzz target `effects_sidecar`: see `harness::effects_sidecar` in fuzz/harness.rs.
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::effects_sidecar(data));
