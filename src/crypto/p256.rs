//! P-256 ECDSA holder keys (PROTOCOL 3.8, 12.5): the keys a phone's Secure Enclave or
//! StrongBox holds. Only a chain's last link may name one, and only holder signatures are
//! made with it; every issuing signature stays Ed25519.
//!
//! The key type and its encoding exist in every build, so any build decodes and forwards
//! such chains; verifying, validating and signing need the `p256` feature.

use core::fmt;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[cfg(feature = "p256")]
use super::Signature;
#[cfg(feature = "p256")]
use crate::error::{Error, Result};
#[cfg(feature = "p256")]
use p256::ecdsa::{self, signature::hazmat::PrehashVerifier};
#[cfg(feature = "p256")]
use p256::elliptic_curve::scalar::IsHigh;
#[cfg(feature = "p256")]
use sha2::{Digest, Sha256};

/// A P-256 public key as its 33-byte SEC1 compressed point (`0x02` or `0x03`, then x).
///
/// Decoding checks only the prefix byte; whether x is on the curve is checked where the key
/// is vouched for ([`super::SubjectKey::validate`]) and where a signature is verified.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct P256PublicKey(pub [u8; 33]);

impl P256PublicKey {
    /// The key from its SEC1 encoding, compressed (33 bytes) or uncompressed (65 bytes), as
    /// a platform keystore exports it; refused with [`Error::WeakKey`] unless it is a point
    /// on the curve other than the identity. Kept in compressed form.
    #[cfg(feature = "p256")]
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<P256PublicKey> {
        let key = ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(|_| Error::WeakKey)?;
        let point = key.to_sec1_point(true);
        let compressed = point.as_bytes().try_into().map_err(|_| Error::WeakKey)?;
        Ok(P256PublicKey(compressed))
    }

    /// The point, refused with [`Error::WeakKey`] if x is not on the curve.
    #[cfg(feature = "p256")]
    fn point(&self) -> Result<ecdsa::VerifyingKey> {
        ecdsa::VerifyingKey::from_sec1_bytes(&self.0).map_err(|_| Error::WeakKey)
    }

    /// Refuses a key that is not a valid compressed point ([`Error::WeakKey`]).
    #[cfg(feature = "p256")]
    pub(crate) fn validate(&self) -> Result<()> {
        self.point().map(|_| ())
    }

    /// Verifies a holder signature by this key: ECDSA P-256 with SHA-256 over
    /// `label || parts...`, `sig` being r || s big-endian, refused unless 0 < r < n and
    /// 0 < s <= n/2 (low S).
    #[cfg(feature = "p256")]
    pub(crate) fn verify(&self, label: &[u8], parts: &[&[u8]], sig: &Signature) -> Result<()> {
        let key = self.point()?;
        let sig = ecdsa::Signature::from_slice(&sig.0).map_err(|_| Error::Crypto)?;
        if bool::from(sig.s().is_high()) {
            return Err(Error::Crypto);
        }
        let mut h = Sha256::new();
        h.update(label);
        for p in parts {
            h.update(p);
        }
        key.verify_prehash(&h.finalize(), &sig)
            .map_err(|_| Error::Crypto)
    }
}

impl Serialize for P256PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        crate::wire::array::serialize(&self.0, s)
    }
}

/// Refuses a first byte other than `0x02` or `0x03`: no other prefix is a compressed point.
impl<'de> Deserialize<'de> for P256PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        let bytes: [u8; 33] = crate::wire::array::deserialize(d)?;
        match bytes[0] {
            0x02 | 0x03 => Ok(P256PublicKey(bytes)),
            _ => Err(serde::de::Error::custom("not a compressed P-256 point")),
        }
    }
}

impl fmt::Debug for P256PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        super::keys::debug_key(f, "P256PublicKey", self.0.get(..9))
    }
}

/// Converts an ECDSA P-256 signature in ASN.1 DER, as the iPhone's `SecKeyCreateSignature`
/// and Android's `Signature` ("SHA256withECDSA") return it, into the wire's 64-byte r || s,
/// with s replaced by n - s if it is above n/2 (a lock accepts only low S).
///
/// Strict DER only: `SEQUENCE { INTEGER r, INTEGER s }` with short-form lengths, each integer
/// minimal (no needless leading zero), positive and below the group order n, nothing after the
/// sequence; anything else is [`Error::Malformed`]. Needs no heap.
#[cfg(feature = "p256")]
pub fn p256_signature_from_der(der: &[u8]) -> Result<Signature> {
    let body = der_element(der, 0x30)
        .and_then(|(body, rest)| rest.is_empty().then_some(body))
        .ok_or(Error::Malformed)?;
    let (r, rest) = der_integer(body).ok_or(Error::Malformed)?;
    let (s, rest) = der_integer(rest).ok_or(Error::Malformed)?;
    if !rest.is_empty() {
        return Err(Error::Malformed);
    }
    let sig = ecdsa::Signature::from_scalars(r, s).map_err(|_| Error::Malformed)?;
    Ok(Signature(sig.normalize_s().to_bytes().into()))
}

/// Splits one DER element with tag `tag` and a short-form length off `bytes`: its contents
/// and what follows.
#[cfg(feature = "p256")]
fn der_element(bytes: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&[t, len], rest) = bytes.split_first_chunk::<2>()?;
    if t != tag || len >= 0x80 {
        return None;
    }
    rest.split_at_checked(usize::from(len))
}

/// One minimally encoded, positive DER INTEGER of at most 32 bytes of value, left-padded to
/// 32 bytes, and what follows it.
#[cfg(feature = "p256")]
fn der_integer(bytes: &[u8]) -> Option<([u8; 32], &[u8])> {
    let (value, rest) = der_element(bytes, 0x02)?;
    let digits = match value {
        // Negative, or empty.
        [first, ..] if first & 0x80 != 0 => return None,
        [] => return None,
        // A leading zero only where the next byte's top bit would make the integer negative
        // (a lone zero is the value 0, which the range check refuses).
        [0, next, ..] if next & 0x80 == 0 => return None,
        [0, digits @ ..] => digits,
        digits => digits,
    };
    let mut out = [0u8; 32];
    let at = out.len().checked_sub(digits.len())?;
    out.get_mut(at..)?.copy_from_slice(digits);
    Some((out, rest))
}

/// A P-256 device key held in memory: the software holder key for tests, demos and servers
/// (a phone keeps its key in the Secure Enclave or StrongBox instead). Signs with RFC 6979
/// deterministic nonces and always gives low S. Zeroized on drop, never printed.
#[cfg(feature = "p256")]
pub struct P256DeviceKey {
    key: ecdsa::SigningKey,
    public: P256PublicKey,
}

#[cfg(feature = "p256")]
impl zeroize::ZeroizeOnDrop for P256DeviceKey {}

#[cfg(feature = "p256")]
impl P256DeviceKey {
    /// Draws a fresh key from `rng`.
    pub fn generate<R: crate::Rng + ?Sized>(rng: &mut R) -> P256DeviceKey {
        loop {
            let mut secret = zeroize::Zeroizing::new([0u8; 32]);
            rng.fill_bytes(secret.as_mut_slice());
            // A draw of 0 or at least n (about 2^-32 of them) is drawn again.
            if let Ok(key) = P256DeviceKey::from_bytes(&secret) {
                return key;
            }
        }
    }

    /// Rebuilds a key from its 32-byte big-endian secret scalar; [`Error::Misuse`] unless it
    /// is in 1..n.
    pub fn from_bytes(secret: &[u8; 32]) -> Result<P256DeviceKey> {
        let key = ecdsa::SigningKey::from_slice(secret).map_err(|_| Error::Misuse)?;
        let point = key.verifying_key().to_sec1_point(true);
        let public = P256PublicKey(point.as_bytes().try_into().map_err(|_| Error::Misuse)?);
        Ok(P256DeviceKey { key, public })
    }

    /// The public half.
    pub fn public_key(&self) -> P256PublicKey {
        self.public
    }
}

#[cfg(feature = "p256")]
impl super::HolderSigner for P256DeviceKey {
    fn holder_key(&self) -> super::SubjectKey {
        super::SubjectKey::P256(self.public)
    }

    fn sign_holder(&self, message: &[u8]) -> Result<Signature> {
        #[cfg(fuzzing)]
        if super::fuzzing::active() {
            return Ok(super::fuzzing::sign(&self.public.0, message));
        }
        use p256::ecdsa::signature::hazmat::PrehashSigner;
        let sig: ecdsa::Signature = self
            .key
            .sign_prehash(&Sha256::digest(message))
            .map_err(|_| Error::Crypto)?;
        Ok(Signature(sig.normalize_s().to_bytes().into()))
    }
}

/// A borrowed key signs too, so one device key backs several credentials.
#[cfg(feature = "p256")]
impl super::HolderSigner for &P256DeviceKey {
    fn holder_key(&self) -> super::SubjectKey {
        (**self).holder_key()
    }

    fn sign_holder(&self, message: &[u8]) -> Result<Signature> {
        (**self).sign_holder(message)
    }
}

#[cfg(feature = "p256")]
impl fmt::Debug for P256DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P256DeviceKey({:?}, secret redacted)", self.public)
    }
}
