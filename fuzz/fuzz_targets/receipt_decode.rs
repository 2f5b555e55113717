//! Any bytes as a receipt or head: decoding and verification never panic, and decode -> encode
//! is the identity. The body is `checks::receipt_decode`, shared with tests/fuzz_corpus.rs.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::receipt_decode(data));
