//! Keys, signatures, hashing and the domain-separation labels every signature uses.
//!
//! Ed25519 is the identity and signature scheme for every role (owner, lock, issuer, holder
//! device); X25519 is used only for ephemeral session keys; SHA-512 is the one hash (Ed25519
//! needs it anyway, so a lock links a single hash implementation).

mod keys;
pub mod labels;

pub use keys::{PublicKey, SecretKey, Signature, Signer};

use crate::error::{Error, Result};
use sha2::{Digest, Sha512};

/// SHA-512 over the concatenation of `parts`, truncated to `N` bytes (`N` <= 64).
pub fn hash<const N: usize>(parts: &[&[u8]]) -> [u8; N] {
    let mut h = Sha512::new();
    for p in parts {
        h.update(p);
    }
    let full = h.finalize();
    let mut out = [0u8; N];
    for (o, i) in out.iter_mut().zip(full.iter()) {
        *o = *i;
    }
    out
}

/// Largest message this crate ever signs (label plus body), so signing and verifying need
/// only a stack buffer.
pub const MAX_SIGNED: usize = 1024;

/// Writes `label || parts...` into `buf` and returns the filled prefix: the exact bytes
/// a signature covers.
pub fn signed_message<'b>(
    buf: &'b mut [u8; MAX_SIGNED],
    label: &[u8],
    parts: &[&[u8]],
) -> Result<&'b [u8]> {
    let mut at = crate::wire::put_bytes(buf, 0, label)?;
    for p in parts {
        at = crate::wire::put_bytes(buf, at, p).map_err(|_| Error::Oversize)?;
    }
    buf.get(..at).ok_or(Error::Oversize)
}

/// Verifies `sig` by `key` over `label || parts...` with strict Ed25519 rules (no weak keys,
/// no small-order R, canonical S).
pub fn verify(key: &PublicKey, label: &[u8], parts: &[&[u8]], sig: &Signature) -> Result<()> {
    let mut buf = [0u8; MAX_SIGNED];
    let msg = signed_message(&mut buf, label, parts)?;
    key.verify_strict(msg, sig)
}

/// Signs `label || parts...` with `signer`.
pub fn sign<S: Signer + ?Sized>(signer: &S, label: &[u8], parts: &[&[u8]]) -> Result<Signature> {
    let mut buf = [0u8; MAX_SIGNED];
    let msg = signed_message(&mut buf, label, parts)?;
    signer.sign(msg)
}
