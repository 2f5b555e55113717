//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/`) through the same checks
//! the cargo-fuzz targets run, without libFuzzer: the checks live in `fuzz/checks/mod.rs`,
//! shared with `fuzz/fuzz_targets/*.rs`. `lock_session` decodes its input into operations with
//! the `arbitrary` crate exactly as cargo-fuzz does; its body is in
//! `fuzz/checks/lock_session.rs`. Here every target runs the real cryptography.

#[path = "../fuzz/checks/mod.rs"]
mod checks;
#[path = "../fuzz/checks/lock_session.rs"]
mod lock_session;

use std::path::Path;

/// Runs `check` on every file of `fuzz/corpus/<target>/` and returns how many it replayed.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    for path in &files {
        let bytes = std::fs::read(path).expect("read corpus file");
        let result = std::panic::catch_unwind(|| check(&bytes));
        if let Err(panic) = result {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(non-string panic)");
            panic!("{target}: {} fails: {message}", path.display());
        }
    }
    println!("{target}: replayed {} corpus files", files.len());
    assert!(!files.is_empty(), "{target}: empty corpus");
    files.len()
}

#[test]
fn chain_decode_corpus_round_trips() {
    replay("chain_decode", checks::chain_decode);
}

#[test]
fn chain_verify_corpus_never_accepts_a_forgery() {
    replay("chain_verify", checks::chain_verify);
}

#[test]
fn p256_der_corpus_accepts_only_minimal_der() {
    replay("p256_der", checks::p256_der);
}

#[test]
fn admin_decode_corpus_round_trips() {
    replay("admin_decode", checks::admin_decode);
}

#[test]
fn storage_recover_corpus_recovers_exactly() {
    replay("storage_recover", checks::storage_recover);
}

#[test]
fn phone_session_corpus_accepts_only_genuine_messages() {
    replay("phone_session", checks::phone_session);
}

#[test]
fn receipt_decode_corpus_round_trips() {
    replay("receipt_decode", checks::receipt_decode);
}

#[test]
fn wire_differential_corpus_agrees_with_postcard() {
    replay("wire_differential", checks::wire_differential);
}

#[test]
fn receipt_log_corpus_holds() {
    replay("receipt_log", checks::receipt_log);
}

#[path = "../fuzz/checks/ble_reassembly.rs"]
mod ble_reassembly;

#[test]
fn ble_reassembly_corpus_completes_only_genuine_cuts() {
    replay("ble_reassembly", ble_reassembly::ble_reassembly);
}

/// What `fuzz_target!(|ops: Vec<Op>| ...)` does with an input: too short for the type, or not
/// decodable into operations, and the input is skipped; otherwise the operations run.
fn lock_session_input(bytes: &[u8]) {
    use arbitrary::{Arbitrary, Unstructured};
    if bytes.len() < <Vec<lock_session::Op> as Arbitrary>::size_hint(0).0 {
        return;
    }
    if let Ok(ops) = Vec::<lock_session::Op>::arbitrary_take_rest(Unstructured::new(bytes)) {
        lock_session::lock_session(&ops);
    }
}

#[test]
fn lock_session_corpus_keeps_the_session_properties() {
    replay("lock_session", lock_session_input);
}
