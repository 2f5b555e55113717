//! The phone role as an app uses it, through the generated bindings: UniFFI's Python backend
//! loads the cdylib this build produced, and `delivery.py` plays a whole delivery with a
//! device signer written in Python against the Rust lock of `LockSimulator`.
//!
//! Needs `python3` (standard library only); without it the test fails, unless
//! `DOORKEY_SKIP_PYTHON=1` says to skip it.

use std::env::consts::{DLL_PREFIX, DLL_SUFFIX};
use std::path::{Path, PathBuf};
use std::process::Command;

use uniffi::{GenerateOptions, TargetLanguage, generate};

/// The cdylib cargo built for this test run: beside the test in `<target>/<profile>/deps`
/// (cargo copies it up to `<target>/<profile>` only when it builds the package itself, so the
/// copy there may be stale).
fn cdylib() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let deps = exe
        .parent()
        .expect("the test runs from <target>/<profile>/deps");
    deps.join(format!("{DLL_PREFIX}doorkey_mobile{DLL_SUFFIX}"))
}

#[test]
fn python_app_plays_a_delivery() {
    if Command::new("python3").arg("--version").output().is_err() {
        if std::env::var("DOORKEY_SKIP_PYTHON").as_deref() == Ok("1") {
            eprintln!("python3 not found: skipped (DOORKEY_SKIP_PYTHON=1)");
            return;
        }
        panic!("python3 not found: install it, or set DOORKEY_SKIP_PYTHON=1 to skip this test");
    }
    let library = cdylib();
    assert!(library.exists(), "no cdylib at {}", library.display());

    let out = tempfile::tempdir().expect("a temporary directory");
    let out_dir = camino::Utf8PathBuf::from_path_buf(out.path().to_path_buf())
        .expect("a UTF-8 temporary path");
    generate(GenerateOptions {
        languages: vec![TargetLanguage::Python],
        source: camino::Utf8PathBuf::from_path_buf(library.clone()).expect("a UTF-8 path"),
        out_dir: out_dir.clone(),
        config_override: None,
        format: false,
        crate_filter: None,
        metadata_no_deps: true,
    })
    .expect("Python bindings generated from the cdylib");
    // The generated module loads the library from its own directory.
    std::fs::copy(
        &library,
        out.path().join(library.file_name().expect("a file name")),
    )
    .expect("the cdylib copied beside the bindings");

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/delivery.py");
    let run = Command::new("python3")
        .arg(&script)
        .env("PYTHONPATH", out.path())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs");
    print!("{}", String::from_utf8_lossy(&run.stdout));
    eprint!("{}", String::from_utf8_lossy(&run.stderr));
    assert!(run.status.success(), "delivery.py failed: {}", run.status);
}
