//! Arbitrary bytes as both regions of a `FlashStorage`: `load` never panics and returns only
//! the record the format documentation says is committed; commits afterwards work and load
//! back exactly. The body is `checks::storage_recover`, shared with tests/fuzz_corpus.rs.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::storage_recover(data));
