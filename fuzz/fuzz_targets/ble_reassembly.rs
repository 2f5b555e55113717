//! Fragments for the BLE reassembler: genuine, cut, flipped, repeated, reordered or arbitrary,
//! with time passing. No panic, and only what a genuine sender could have sent completes. The
//! body is in `checks/ble_reassembly.rs`, shared with tests/fuzz_corpus.rs.
#![no_main]

#[path = "../checks/ble_reassembly.rs"]
mod ble_reassembly;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ble_reassembly::ble_reassembly(data));
