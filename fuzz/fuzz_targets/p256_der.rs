//! Any bytes as a phone keystore's DER ECDSA signature: `p256_signature_from_der` never
//! panics, and accepts only minimal DER, returning low S. The body is `checks::p256_der`,
//! shared with tests/fuzz_corpus.rs.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::p256_der(data));
