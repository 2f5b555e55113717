//! Keys, signatures, hashing and the domain-separation labels every signature uses.
//!
//! Ed25519 is the identity and signature scheme for every role (owner, lock, issuer, holder
//! device); a holder's device key may instead be P-256 ECDSA (with the `p256` feature, which
//! brings SHA-256 for it alone); X25519 is used only for ephemeral session keys; SHA-512 is
//! the one hash of everything else.

pub mod channel;
mod ed25519;
#[cfg(fuzzing)]
pub mod fuzzing;
mod keys;
pub mod labels;
mod p256;

pub use keys::{HolderSigner, PublicKey, SecretKey, Signature, Signer, SubjectKey};
pub use p256::P256PublicKey;
#[cfg(feature = "p256")]
#[cfg_attr(docsrs, doc(cfg(feature = "p256")))]
pub use p256::{P256DeviceKey, p256_signature_from_der};

use crate::error::{Error, Result};
use sha2::{Digest, Sha512};

/// SHA-512 over the concatenation of `parts`, truncated to `N` bytes (`N` <= 64).
pub fn hash<const N: usize>(parts: &[&[u8]]) -> [u8; N] {
    let full = sha512(parts);
    let mut out = [0u8; N];
    for (o, i) in out.iter_mut().zip(full.iter()) {
        *o = *i;
    }
    out
}

/// The one SHA-512 body every truncation shares (compiled once, not per length).
#[inline(never)]
fn sha512(parts: &[&[u8]]) -> [u8; 64] {
    let mut h = Sha512::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// Largest message this crate ever signs (label plus body), so signing and verifying need
/// only a stack buffer.
pub const MAX_SIGNED: usize = 512;

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
    #[cfg(fuzzing)]
    if fuzzing::active() {
        let mut buf = [0u8; MAX_SIGNED];
        return key.verify_strict(signed_message(&mut buf, label, parts)?, sig);
    }
    ed25519::verify(&key.0, label, parts, &sig.0)
}

/// Signs `label || parts...` as a credential's holder (Ed25519 or P-256).
pub fn sign_holder<S: HolderSigner + ?Sized>(
    signer: &S,
    label: &[u8],
    parts: &[&[u8]],
) -> Result<Signature> {
    let mut buf = [0u8; MAX_SIGNED];
    let msg = signed_message(&mut buf, label, parts)?;
    signer.sign_holder(msg)
}

/// Signs `label || parts...` with `signer` (an Ed25519 signer is a holder signer too).
pub fn sign<S: Signer + ?Sized>(signer: &S, label: &[u8], parts: &[&[u8]]) -> Result<Signature> {
    sign_holder(signer, label, parts)
}

/// A decoded signed message `[version][kind][body][signature]`: the body, the exact bytes the
/// signature covers (header and body as received) and the signature. Nothing is verified yet.
#[derive(Debug)]
pub struct Signed<'a, T> {
    /// The decoded body.
    pub body: T,
    /// Header and body exactly as received.
    pub signed: &'a [u8],
    /// The trailing signature.
    pub signature: Signature,
}

impl<'a, T: serde::Deserialize<'a> + serde::Serialize> Signed<'a, T> {
    /// Decodes a signed message of `kind`, refusing more than `max` bytes or trailing bytes.
    pub fn decode(bytes: &'a [u8], kind: crate::wire::Kind, max: usize) -> Result<Signed<'a, T>> {
        if bytes.len() > max {
            return Err(Error::Oversize);
        }
        let body_bytes = crate::wire::split_header(bytes, kind)?;
        let (body, rest) = crate::wire::take::<T>(body_bytes)?;
        let signed = bytes
            .get(..bytes.len() - rest.len())
            .ok_or(Error::Truncated)?;
        let (sig, rest) = crate::wire::take_array::<64>(rest)?;
        if !rest.is_empty() {
            return Err(Error::TrailingBytes);
        }
        Ok(Signed {
            body,
            signed,
            signature: Signature(sig),
        })
    }

    /// Verifies the signature by `key` under `label` over the bytes as received.
    pub fn verify(&self, key: &PublicKey, label: &[u8]) -> Result<()> {
        verify(key, label, &[self.signed], &self.signature)
    }
}

/// Encodes `[version][kind][body]` into `out`, signs it under `label` and appends the
/// signature; returns the total length.
pub fn encode_signed<T: serde::Serialize, S: Signer + ?Sized>(
    out: &mut [u8],
    kind: crate::wire::Kind,
    body: &T,
    label: &[u8],
    signer: &S,
) -> Result<usize> {
    let at = crate::wire::write_header(out, kind)?;
    let n = crate::wire::put(body, out.get_mut(at..).ok_or(Error::BufferTooSmall)?)?;
    let end = at + n;
    let sig = sign(
        signer,
        label,
        &[out.get(..end).ok_or(Error::BufferTooSmall)?],
    )?;
    crate::wire::put_bytes(out, end, &sig.0)
}
