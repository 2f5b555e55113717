use super::P256PublicKey;
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
            return super::fuzzing::verify(&self.0, msg, sig);
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
        debug_key(f, "PublicKey", self.0.get(..8))
    }
}

/// Writes `name(` and `shown`, the first bytes of a key, in hex, then `..)`: enough to tell
/// keys apart in logs without a screenful of hex.
pub(super) fn debug_key(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    shown: Option<&[u8]>,
) -> fmt::Result {
    write!(f, "{name}(")?;
    for b in shown.unwrap_or(&[]) {
        write!(f, "{b:02x}")?;
    }
    write!(f, "..)")
}

/// The key a credential link grants to (its `subject`): an Ed25519 key, which may issue
/// further links or hold the credential, or a P-256 key, which may only hold it (a phone's
/// Secure Enclave or StrongBox key, named by a chain's last link).
///
/// On the wire a postcard enum (PROTOCOL 5.1): tag 0 then the 32-byte Ed25519 key, or tag 1
/// then the 33-byte compressed P-256 point. Variant order is the wire tag: append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SubjectKey {
    /// An Ed25519 key.
    Ed25519(PublicKey),
    /// A P-256 ECDSA key, allowed only as a holder's device key.
    P256(P256PublicKey),
}

impl SubjectKey {
    /// The Ed25519 key, if it is one: only such a subject may sign a further link.
    pub fn ed25519(&self) -> Option<PublicKey> {
        match self {
            SubjectKey::Ed25519(k) => Some(*k),
            SubjectKey::P256(_) => None,
        }
    }

    /// The key's 32-byte id, what receipts name as the holder and what key revocation
    /// matches (PROTOCOL 5.2): an Ed25519 key itself; for a P-256 key the first 32 bytes of
    /// SHA-512 over its label and the compressed point. Only an Ed25519 id is a key.
    pub fn key_id(&self) -> PublicKey {
        match self {
            SubjectKey::Ed25519(k) => *k,
            SubjectKey::P256(k) => PublicKey(super::hash(&[super::labels::P256_KEY_ID, &k.0])),
        }
    }

    /// The key's bytes without the algorithm tag (32 for Ed25519, 33 for P-256).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            SubjectKey::Ed25519(k) => &k.0,
            SubjectKey::P256(k) => &k.0,
        }
    }

    /// Refuses a key a lock would not accept: for Ed25519 as [`PublicKey::validate`], for
    /// P-256 a point not on the curve ([`Error::WeakKey`]); [`Error::UnsupportedAlgorithm`]
    /// for P-256 in a build without the `p256` feature.
    pub fn validate(&self) -> Result<()> {
        match self {
            SubjectKey::Ed25519(k) => k.validate(),
            #[cfg(feature = "p256")]
            SubjectKey::P256(k) => k.validate(),
            #[cfg(not(feature = "p256"))]
            SubjectKey::P256(_) => Err(Error::UnsupportedAlgorithm),
        }
    }

    /// Verifies a holder signature by this key over `label || parts...` (PROTOCOL 12.5):
    /// strict Ed25519, or ECDSA P-256 with SHA-256 and low S. A P-256 key in a build without
    /// the `p256` feature is refused with [`Error::UnsupportedAlgorithm`].
    pub fn verify(&self, label: &[u8], parts: &[&[u8]], sig: &Signature) -> Result<()> {
        match self {
            SubjectKey::Ed25519(k) => super::verify(k, label, parts, sig),
            SubjectKey::P256(k) => {
                #[cfg(fuzzing)]
                if super::fuzzing::active() {
                    let mut buf = [0u8; super::MAX_SIGNED];
                    let msg = super::signed_message(&mut buf, label, parts)?;
                    return super::fuzzing::verify(&k.0, msg, sig);
                }
                #[cfg(feature = "p256")]
                return k.verify(label, parts, sig);
                #[cfg(not(feature = "p256"))]
                {
                    let _ = (k, label, parts, sig);
                    Err(Error::UnsupportedAlgorithm)
                }
            }
        }
    }

    /// Constant-time equality, for comparisons that gate trust.
    pub fn ct_eq(&self, other: &SubjectKey) -> bool {
        match (self, other) {
            (SubjectKey::Ed25519(a), SubjectKey::Ed25519(b)) => a.ct_eq(b),
            (SubjectKey::P256(a), SubjectKey::P256(b)) => a.0.ct_eq(&b.0).into(),
            _ => false,
        }
    }
}

/// An Ed25519 key stands for itself wherever a subject is expected.
impl From<PublicKey> for SubjectKey {
    fn from(key: PublicKey) -> SubjectKey {
        SubjectKey::Ed25519(key)
    }
}

impl From<P256PublicKey> for SubjectKey {
    fn from(key: P256PublicKey) -> SubjectKey {
        SubjectKey::P256(key)
    }
}

/// What a decoded link's placeholder holds before it is filled.
impl Default for SubjectKey {
    fn default() -> SubjectKey {
        SubjectKey::Ed25519(PublicKey::default())
    }
}

/// A subject equals an Ed25519 key when it is that key.
impl PartialEq<PublicKey> for SubjectKey {
    fn eq(&self, other: &PublicKey) -> bool {
        *self == SubjectKey::Ed25519(*other)
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

/// Something that signs as a credential's holder (PROTOCOL 12.5): with an Ed25519 key (every
/// [`Signer`] is one) or a P-256 key, such as a phone keystore's or a
/// [`P256DeviceKey`](super::P256DeviceKey).
///
/// A P-256 signer returns r || s, 32 bytes each, big-endian, with low S: a keystore's DER
/// signature goes through [`p256_signature_from_der`](super::p256_signature_from_der).
pub trait HolderSigner {
    /// The device key a credential's last link must name.
    fn holder_key(&self) -> SubjectKey;
    /// Signs exactly `message` (for P-256: ECDSA over its SHA-256). Errors are reported as
    /// [`Error::Crypto`].
    fn sign_holder(&self, message: &[u8]) -> Result<Signature>;
}

/// Every Ed25519 signer holds credentials unchanged.
impl<T: Signer + ?Sized> HolderSigner for T {
    fn holder_key(&self) -> SubjectKey {
        SubjectKey::Ed25519(self.public_key())
    }

    fn sign_holder(&self, message: &[u8]) -> Result<Signature> {
        self.sign(message)
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
            return Ok(super::fuzzing::sign(&self.public.0, message));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ed25519_signer_holds_as_its_own_key() {
        let key = SecretKey::from_seed(&[4; 32]);
        let other = SecretKey::from_seed(&[5; 32]).public_key();
        let subject = key.holder_key();
        assert_eq!(subject, SubjectKey::Ed25519(key.public_key()));
        assert_eq!(key.sign_holder(b"m"), key.sign(b"m"));
        // A subject equals an Ed25519 key only when it is that key.
        assert!(subject == key.public_key());
        assert!(subject != other);
        assert!(SubjectKey::P256(P256PublicKey([2; 33])) != PublicKey([2; 32]));
        assert!(subject.ct_eq(&key.public_key().into()));
        assert!(!subject.ct_eq(&other.into()));
        assert!(!subject.ct_eq(&SubjectKey::P256(P256PublicKey([2; 33]))));
    }

    #[test]
    fn public_keys_debug_as_a_short_hex_prefix() {
        use alloc::format;
        assert_eq!(
            format!("{:?}", PublicKey([0xab; 32])),
            "PublicKey(abababababababab..)"
        );
        let mut point = [0x5c; 33];
        point[0] = 0x03;
        assert_eq!(
            format!("{:?}", P256PublicKey(point)),
            "P256PublicKey(035c5c5c5c5c5c5c5c..)"
        );
    }

    #[test]
    fn a_key_id_is_the_ed25519_key_or_a_p256_digest() {
        let ed = PublicKey([7; 32]);
        assert_eq!(SubjectKey::Ed25519(ed).key_id(), ed);
        let point = P256PublicKey([3; 33]);
        let id = SubjectKey::P256(point).key_id();
        assert_eq!(
            id.0,
            crate::crypto::hash::<32>(&[b"doorkey/v1/p256-key-id\0", &point.0])
        );
        assert_ne!(id, SubjectKey::P256(P256PublicKey([2; 33])).key_id());
        assert_eq!(SubjectKey::P256(point).as_bytes(), &point.0[..]);
        assert_eq!(SubjectKey::Ed25519(ed).as_bytes(), &ed.0[..]);
    }
}
