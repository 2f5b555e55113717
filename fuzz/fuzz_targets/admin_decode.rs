//! Any bytes into `ConfigUpdate::decode`, `TimeAnchor::decode`, `Challenge::decode` and
//! `LockState::decode`: none panics, and whatever decodes re-encodes to exactly the input.
//! The body is `checks::admin_decode`, shared with tests/fuzz_corpus.rs.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::admin_decode(data));
