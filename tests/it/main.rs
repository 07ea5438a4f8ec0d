//! varstream's integration tests, as one test binary (one link instead of fourteen): a
//! module per area, sharing the fixtures and helpers in `common`. Run one area with
//! `cargo test --release --test it -- call::`.
mod common;

mod bad_input;
mod call;
mod combined_models;
mod corpus;
mod corpus_gvcf;
mod fuzz_corpus;
mod gvcf;
mod install;
mod make_examples;
mod options_call;
mod options_scores;
mod other_tools;
mod phasing;
mod ploidy;
mod predictdb_gtex;
mod read_tier;
mod real_data;
mod report;
mod risk;
mod scores;
mod shards;
mod workflows;
