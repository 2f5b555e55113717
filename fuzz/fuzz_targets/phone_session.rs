//! A phone with a valid credential fed arbitrary bytes as a challenge and as replies
//! interleaved with a genuine lock's: opening writes nothing unless the lock really signed the
//! challenge, and `read_reply` accepts exactly the genuine, not yet superseded replies.
//! The body is `checks::phone_session`, shared with tests/fuzz_corpus.rs.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

// The properties are relative to the lock's own signatures, so the cheap stand-in keeps them
// all while running sessions far faster (src/crypto/fuzzing.rs).
fuzz_target!(
    init: doorkey::crypto::fuzzing::use_cheap_crypto(),
    |data: &[u8]| checks::phone_session(data));
