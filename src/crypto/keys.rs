use crate::Rng;
use crate::error::{Error, Result};
use core::fmt;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// An Ed25519 public key as 32 plain bytes.
///
/// Constructing one does no validation, because decoding must stay cheap; every place a key
/// is enrolled or vouched for calls [`PublicKey::validate`], and every signature check is strict.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PublicKey(#[serde(with = "crate::wire::array")] pub [u8; 32]);

impl PublicKey {
    /// Refuses keys that are not canonical encodings, have small order (weak), or carry a
    /// torsion component. Run wherever a key is enrolled or becomes a trust anchor.
    pub fn validate(&self) -> Result<()> {
        let key = VerifyingKey::from_bytes(&self.0).map_err(|_| Error::WeakKey)?;
        let point = key.to_edwards();
        if key.is_weak() || !point.is_torsion_free() || point.compress().to_bytes() != self.0 {
            return Err(Error::WeakKey);
        }
        Ok(())
    }

    /// Strict Ed25519 verification of `sig` over exactly `msg`.
    pub fn verify_strict(&self, msg: &[u8], sig: &Signature) -> Result<()> {
        #[cfg(fuzzing)]
        if super::fuzzing::active() {
            return super::fuzzing::verify(self, msg, sig);
        }
        super::ed25519::verify(&self.0, msg, &[], &sig.0)
    }

    /// Strict verification of each signature over its message (labels included), all at
    /// once: one batch check, and one by one only if the batch fails.
    #[cfg(feature = "alloc")]
    pub fn verify_each(&self, msgs: &[&[u8]], sigs: &[Signature]) -> alloc::vec::Vec<bool> {
        #[cfg(fuzzing)]
        if super::fuzzing::active() {
            return msgs
                .iter()
                .zip(sigs)
                .map(|(m, s)| self.verify_strict(m, s).is_ok())
                .collect();
        }
        let Ok(key) = VerifyingKey::from_bytes(&self.0) else {
            return alloc::vec![false; msgs.len()];
        };
        let sigs: alloc::vec::Vec<_> = sigs
            .iter()
            .map(|s| ed25519_dalek::Signature::from_bytes(&s.0))
            .collect();
        let keys = alloc::vec![key; msgs.len()];
        if ed25519_dalek::verify_batch(msgs, &sigs, &keys).is_ok() {
            return alloc::vec![true; msgs.len()];
        }
        msgs.iter()
            .zip(&sigs)
            .map(|(m, s)| self.verify_strict(m, &Signature(s.to_bytes())).is_ok())
            .collect()
    }

    /// Constant-time equality, for comparisons that gate trust.
    pub fn ct_eq(&self, other: &PublicKey) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey(")?;
        for b in self.0.get(..8).unwrap_or(&[]) {
            write!(f, "{b:02x}")?;
        }
        write!(f, "..)")
    }
}

/// An Ed25519 signature as 64 plain bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signature(..)")
    }
}

/// Something that signs with an Ed25519 key: an in-memory [`SecretKey`], or a phone keystore
/// or secure element that never exports the key.
///
/// A reference to a signer is one too (and, with `alloc`, a `Box` or `Arc` of one), so one
/// device key backs several credentials:
///
/// ```
/// use doorkey::crypto::{SecretKey, Signer};
///
/// fn holder<S: Signer>(device: S) -> S {
///     device
/// }
/// let device = SecretKey::from_seed(&[4; 32]);
/// let (first, second) = (holder(&device), holder(&device));
/// assert_eq!(first.sign(b"m")?, second.sign(b"m")?);
/// # Ok::<(), doorkey::Error>(())
/// ```
pub trait Signer {
    /// The public half of the signing key.
    fn public_key(&self) -> PublicKey;
    /// Signs exactly `message`. Errors are reported as [`Error::Crypto`].
    fn sign(&self, message: &[u8]) -> Result<Signature>;
}

/// A borrowed signer signs too, so one device key can back several credentials.
impl<T: Signer + ?Sized> Signer for &T {
    fn public_key(&self) -> PublicKey {
        (**self).public_key()
    }

    fn sign(&self, message: &[u8]) -> Result<Signature> {
        (**self).sign(message)
    }
}

#[cfg(feature = "alloc")]
impl<T: Signer + ?Sized> Signer for alloc::boxed::Box<T> {
    fn public_key(&self) -> PublicKey {
        (**self).public_key()
    }

    fn sign(&self, message: &[u8]) -> Result<Signature> {
        (**self).sign(message)
    }
}

/// A shared signer, e.g. one keystore handle behind every credential of the phone.
#[cfg(feature = "alloc")]
impl<T: Signer + ?Sized> Signer for alloc::sync::Arc<T> {
    fn public_key(&self) -> PublicKey {
        (**self).public_key()
    }

    fn sign(&self, message: &[u8]) -> Result<Signature> {
        (**self).sign(message)
    }
}

/// An Ed25519 secret key held in memory: zeroized on drop, never printed, compared in
/// constant time.
pub struct SecretKey {
    /// The RFC 8032 secret key, wiped on drop.
    seed: Zeroizing<[u8; 32]>,
    public: PublicKey,
}

impl ZeroizeOnDrop for SecretKey {}

impl SecretKey {
    /// Draws a fresh key from `rng`.
    pub fn generate<R: Rng + ?Sized>(rng: &mut R) -> SecretKey {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let key = SecretKey::from_seed(&seed);
        seed.zeroize();
        key
    }

    /// Rebuilds a key from its 32-byte seed (RFC 8032 secret key).
    pub fn from_seed(seed: &[u8; 32]) -> SecretKey {
        SecretKey {
            seed: Zeroizing::new(*seed),
            public: PublicKey(super::ed25519::public_key(seed)),
        }
    }

    /// The 32-byte seed, for sealing into storage; wiped when the caller drops it.
    pub fn to_seed(&self) -> Zeroizing<[u8; 32]> {
        self.seed.clone()
    }
}

impl Signer for SecretKey {
    fn public_key(&self) -> PublicKey {
        self.public
    }

    fn sign(&self, message: &[u8]) -> Result<Signature> {
        #[cfg(fuzzing)]
        if super::fuzzing::active() {
            return Ok(super::fuzzing::sign(&self.public, message));
        }
        super::ed25519::sign(&self.seed, &self.public.0, message).map(Signature)
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        self.seed.ct_eq(&*other.seed).into()
    }
}

impl Eq for SecretKey {}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({:?}, secret redacted)", self.public)
    }
}
