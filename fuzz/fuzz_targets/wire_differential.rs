//! Differential fuzzing of the crate's strict postcard reader and writer against postcard: the
//! same values from the same bytes, and nothing but canonical encodings. The body is
//! `checks::wire_differential`, shared with tests/fuzz_corpus.rs.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::wire_differential(data));
