//! Any bytes and any time against a lock with an enrolled owner: verification never panics,
//! and what it accepts is rooted in that owner and stops verifying after any bit flip.
//! The body is `checks::chain_verify`, shared with tests/fuzz_corpus.rs.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::chain_verify(data));
