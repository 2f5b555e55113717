//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/`) through the same checks
//! the cargo-fuzz targets run, without libFuzzer: the checks live in `fuzz/checks/mod.rs`,
//! shared with `fuzz/fuzz_targets/*.rs`. Targets whose input format needs the `arbitrary`
//! crate (`lock_session`) are fuzz-only and not replayed here.

#[path = "../fuzz/checks/mod.rs"]
mod checks;

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
