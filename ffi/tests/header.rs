//! The committed header is what cbindgen generates from this crate today: a change to the C
//! ABI that forgets to regenerate `include/doorkey.h` fails here. Regenerate with
//! `cbindgen --config ffi/cbindgen.toml --crate doorkey-ffi --output ffi/include/doorkey.h ffi`
//! from the repository root.

use std::path::Path;

#[test]
fn header_is_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let committed = std::fs::read(dir.join("include/doorkey.h")).expect("include/doorkey.h");
    assert!(
        generated == committed,
        "include/doorkey.h is stale: regenerate it with cbindgen (see ffi/cbindgen.toml)"
    );
}

/// Every version of the ABI the header declares is the one the library reports.
#[test]
fn header_version_is_the_library_version() {
    let header = include_str!("../include/doorkey.h");
    let line = format!(
        "#define DOORKEY_ABI_VERSION {}",
        doorkey_ffi::doorkey_abi_version()
    );
    assert!(header.contains(&line), "{line} missing from the header");
}
