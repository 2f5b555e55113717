//! A genuine lock with its clock set by a genuine anchor, driven by a fuzzed sequence of
//! operations: genuine courier opens and commands, raw bytes, replays, bit flips, reboots,
//! time passing. No panic; never more unlocks than the credential's uses, nor outside its
//! validity; replayed or flipped messages never actuate; persisted use counts never go down
//! and always equal the unlocks performed. The body is in `checks/lock_session.rs`.
#![no_main]

#[path = "../checks/mod.rs"]
mod checks;
#[path = "../checks/lock_session.rs"]
mod lock_session;

use libfuzzer_sys::fuzz_target;

// The properties are relative to the lock's own signatures, so the cheap stand-in keeps them
// all while running sessions far faster (src/crypto/fuzzing.rs).
fuzz_target!(
    init: doorkey::crypto::fuzzing::use_cheap_crypto(),
    |ops: Vec<lock_session::Op>| lock_session::lock_session(&ops));
