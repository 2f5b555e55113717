//! A phone with a valid credential fed arbitrary bytes as a challenge and as replies
//! interleaved with a genuine lock's: opening writes nothing unless the lock really signed the
//! challenge, and `read_reply` accepts exactly the genuine, not yet superseded replies.
//! The body is `checks::phone_session`, shared with tests/fuzz_corpus.rs.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::phone_session(data));
