//! The UniFFI binding generator at the version this crate's scaffolding was built with, so
//! `generate.sh` never meets a mismatch: `cargo run -p doorkey-mobile --features cli --bin
//! uniffi-bindgen -- generate --library <cdylib> --language kotlin --out-dir <dir>`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
