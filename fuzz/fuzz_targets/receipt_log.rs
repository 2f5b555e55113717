//! Arbitrary bundles into the server receipt log: no panic, only lock-signed receipts stored.
//! The body is `checks::receipt_log`, shared with tests/fuzz_corpus.rs.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

// The properties are relative to the lock's own signatures, so the cheap stand-in keeps them
// all while running sessions far faster (src/crypto/fuzzing.rs).
fuzz_target!(
    init: doorkey::crypto::fuzzing::use_cheap_crypto(),
    |data: &[u8]| checks::receipt_log(data));
