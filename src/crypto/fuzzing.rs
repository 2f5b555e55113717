//! Fuzzing only (compiled under `cfg(fuzzing)`, which cargo-fuzz sets; never in a release or
//! test build): a cheap, deterministic stand-in for the public-key cryptography that lets the
//! state-machine fuzz targets run many more sessions a second, as rustls does with its fuzzing
//! provider.
//!
//! Off until a fuzz target calls [`use_cheap_crypto`], so the decoding and verification
//! targets built from the same fuzz crate keep the real cryptography. Once on, for the rest of
//! the process: a "signature" by a key is SHA-512 of a label, that public key and the message,
//! and verification recomputes it; an ephemeral X25519 public key is 32 random bytes and the
//! shared secret is a hash of both public keys. Key validation, key derivation from seeds,
//! the key schedule and the AEAD stay real.

use super::Signature;
use crate::error::{Error, Result};
use core::sync::atomic::{AtomicBool, Ordering};
use subtle::ConstantTimeEq;

/// Domain separation of the stand-in signatures.
const LABEL: &[u8] = b"doorkey/fuzz/signature\0";

static CHEAP: AtomicBool = AtomicBool::new(false);

/// Replaces Ed25519 and X25519 with the stand-in for the rest of the process.
pub fn use_cheap_crypto() {
    CHEAP.store(true, Ordering::Relaxed);
}

/// Whether [`use_cheap_crypto`] was called.
pub(crate) fn active() -> bool {
    CHEAP.load(Ordering::Relaxed)
}

/// The stand-in signature of `msg` by the key whose public half is `key`.
pub(crate) fn sign(key: &[u8], msg: &[u8]) -> Signature {
    Signature(super::hash(&[LABEL, key, msg]))
}

/// Checks a stand-in signature (`Crypto` if it is not the one [`sign`] gives).
pub(crate) fn verify(key: &[u8], msg: &[u8], sig: &Signature) -> Result<()> {
    if bool::from(sign(key, msg).0.ct_eq(&sig.0)) {
        Ok(())
    } else {
        Err(Error::Crypto)
    }
}

/// The stand-in shared secret of two ephemeral public keys, the same from either side.
pub(crate) fn agree(ours: &[u8; 32], theirs: &[u8; 32]) -> [u8; 32] {
    let (low, high) = if ours <= theirs {
        (ours, theirs)
    } else {
        (theirs, ours)
    };
    super::hash(&[b"doorkey/fuzz/agree\0", low, high])
}
