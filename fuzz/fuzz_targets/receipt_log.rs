//! Arbitrary bundles into the server receipt log: no panic, only lock-signed receipts stored.
//! The body is `checks::receipt_log`, shared with tests/fuzz_corpus.rs.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::receipt_log(data));
