//! Any bytes: decoding never panics, and whatever decodes re-encodes to the same bytes.
//! The body is `checks::chain_decode`, shared with tests/fuzz_corpus.rs.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::chain_decode(data));
