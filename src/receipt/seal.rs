//! Receipt bundles sealed to the owner's audit key, and the acknowledgement that lets a lock
//! forget receipts the owner's server holds.
//!
//! A holder carries bundles between lock and server but must not read other holders' visits
//! in them: the lock seals each bundle to the X25519 audit key the owner configured, with a
//! fresh ephemeral key, HKDF-SHA512 and ChaCha20-Poly1305. Inside are an [`Ack`] carrying the
//! lock's signature over the range of receipts the bundle lets the server acknowledge, then the
//! lock-signed items as before, so the server verifies them after opening.

use crate::credential::LockId;
use crate::crypto::channel::{ChannelKey, TAG_LEN, agree_static};
use crate::crypto::{self, PublicKey, Signature, Signer, labels};
use crate::error::{Error, Result};
use crate::wire::{self, Kind, VERSION};
use core::fmt;
use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use x25519_dalek::{PublicKey as XPublic, StaticSecret};

/// Largest sealed bundle (header, ephemeral key, length, ciphertext and tag).
pub const MAX_SEALED_BYTES: usize = 2048;
/// Bytes before the ciphertext: header, ephemeral key and the length, always a two-byte varint
/// (an ack and a head alone make the sealed part longer than 127 bytes, and it is at most
/// [`MAX_SEALED_BYTES`], below 16384).
pub const SEALED_PREFIX: usize = 2 + 32 + 2;

/// An owner's acknowledgement, carried to the lock by any phone: the server holds every
/// receipt from `first` to `seq`, the last with chain hash `hash`, so the lock may drop them.
/// `token` is the lock's own signature over those three, which only a bundle opened with the
/// audit key reveals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Oldest receipt the lock held when it sealed the bundle.
    pub first: u64,
    /// The bundle head's sequence number.
    pub seq: u64,
    /// The bundle head's chain hash.
    #[serde(with = "crate::wire::array")]
    pub hash: [u8; 32],
    /// The lock's signature under [`labels::ACK`].
    #[serde(with = "crate::wire::array")]
    pub token: [u8; 64],
}

impl Ack {
    /// The lock's token for the range `first..=seq` ending at `hash`.
    pub fn token<S: Signer + ?Sized>(
        lock: &LockId,
        first: u64,
        seq: u64,
        hash: &[u8; 32],
        signer: &S,
    ) -> Result<Signature> {
        crypto::sign(signer, labels::ACK, &[&ack_body(lock, first, seq, hash)])
    }

    /// Checks the token against the lock's key.
    pub fn verify(&self, lock_key: &PublicKey) -> Result<()> {
        let body = ack_body(&LockId::of(lock_key), self.first, self.seq, &self.hash);
        crypto::verify(lock_key, labels::ACK, &[&body], &Signature(self.token))
    }
}

/// What a token signs: lock id, `first` and `seq` as 8 bytes little-endian, and the hash.
fn ack_body(lock: &LockId, first: u64, seq: u64, hash: &[u8; 32]) -> [u8; 64] {
    let (first, seq) = (first.to_le_bytes(), seq.to_le_bytes());
    let mut body = [0u8; 64];
    fill(
        &mut body,
        lock.0.iter().chain(&first).chain(&seq).chain(hash),
    );
    body
}

/// The owner's audit secret: the X25519 key receipt bundles are sealed to. Held by whoever
/// reads the lock's receipts (the owner's server); it cannot sign anything. Wiped on drop,
/// never printed.
pub struct AuditSecret(StaticSecret);

impl AuditSecret {
    /// Draws a fresh audit key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> AuditSecret {
        AuditSecret(StaticSecret::random_from_rng(rng))
    }

    /// Rebuilds an audit key from its 32 secret bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> AuditSecret {
        AuditSecret(StaticSecret::from(bytes))
    }

    /// The public key the owner sets on its locks (`Change::SetAuditKey`).
    pub fn public_key(&self) -> [u8; 32] {
        XPublic::from(&self.0).to_bytes()
    }
}

impl fmt::Debug for AuditSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditSecret(redacted)")
    }
}

/// Refuses an audit public key of small order, to which nothing could be sealed securely.
pub fn validate_audit_key(key: &[u8; 32]) -> Result<()> {
    agree_static(&StaticSecret::from([1; 32]), key)
        .map(drop)
        .map_err(|_| Error::WeakKey)
}

/// The AEAD key of a sealed bundle and its associated data (lock id, header, ephemeral key).
/// `secret` is the lock's ephemeral (sealing) or the audit secret (opening), `peer` the other
/// side's public key.
fn bundle_key(
    lock: &LockId,
    secret: &StaticSecret,
    peer: &[u8; 32],
    audit: &[u8; 32],
    ephemeral_public: &[u8; 32],
) -> Result<(ChannelKey, [u8; 50])> {
    let shared = agree_static(secret, peer)?;
    let mut info = [0u8; 80];
    fill(
        &mut info,
        lock.0.iter().chain(ephemeral_public).chain(audit),
    );
    let key = ChannelKey::derive(shared, labels::SEAL, &info);
    let mut aad = [0u8; 50];
    let header = [VERSION, Kind::Sealed as u8];
    fill(
        &mut aad,
        lock.0.iter().chain(&header).chain(ephemeral_public),
    );
    Ok((key, aad))
}

fn fill<'a>(out: &mut [u8], parts: impl Iterator<Item = &'a u8>) {
    for (b, p) in out.iter_mut().zip(parts) {
        *b = *p;
    }
}

/// Seals the plaintext at `buf[SEALED_PREFIX..][..len]` to `audit` with the one-use
/// `ephemeral` secret in place, and writes the clear prefix before it; returns the length.
pub(crate) fn seal(
    lock: &LockId,
    audit: &[u8; 32],
    ephemeral: &StaticSecret,
    buf: &mut [u8],
    len: usize,
) -> Result<usize> {
    let ephemeral_public = XPublic::from(ephemeral).to_bytes();
    let (key, aad) = bundle_key(lock, ephemeral, audit, audit, &ephemeral_public)?;
    let body = buf.get_mut(SEALED_PREFIX..).ok_or(Error::BufferTooSmall)?;
    let sealed = key.seal(0, &aad, body, len)?;
    let end = SEALED_PREFIX + sealed;
    if !(128..16_384).contains(&sealed) || end > MAX_SEALED_BYTES {
        return Err(Error::Oversize);
    }
    let at = wire::write_header(buf, Kind::Sealed)?;
    let at = wire::put_bytes(buf, at, &ephemeral_public)?;
    // The canonical two-byte varint of `sealed` (1.2): low seven bits with the continuation
    // bit, then the rest (below 128 by the range check).
    let length = [(sealed & 0x7f) as u8 | 0x80, (sealed >> 7) as u8];
    wire::put_bytes(buf, at, &length)?;
    Ok(end)
}

/// Splits one sealed bundle off the front of `bytes` (checking its framing only), returning it
/// and what follows.
pub fn take_sealed(bytes: &[u8]) -> Result<(&[u8], &[u8])> {
    let body = wire::split_header(bytes, Kind::Sealed)?;
    let (_, rest) = wire::take_array::<32>(body)?;
    let (sealed, rest): (&[u8], _) = wire::take(rest)?;
    if sealed.len() < TAG_LEN {
        return Err(Error::Truncated);
    }
    let end = bytes.len() - rest.len();
    if end > MAX_SEALED_BYTES {
        return Err(Error::Oversize);
    }
    Ok(bytes.split_at(end))
}

/// Opens one sealed bundle for `lock` with the audit secret, decrypting in place; returns the
/// ack it carries (not yet verified) and the bundle (a head, then receipts). Trailing bytes are
/// refused; any tampering or a wrong key is [`Error::Crypto`].
pub fn open<'b>(
    lock: &LockId,
    audit: &AuditSecret,
    bytes: &'b mut [u8],
) -> Result<(Ack, &'b [u8])> {
    let (one, rest) = take_sealed(bytes)?;
    if !rest.is_empty() {
        return Err(Error::TrailingBytes);
    }
    let (ephemeral_public, after) = wire::take_array::<32>(wire::split_header(one, Kind::Sealed)?)?;
    let (sealed, _): (&[u8], _) = wire::take(after)?;
    let start = bytes.len() - sealed.len();
    let (key, aad) = bundle_key(
        lock,
        &audit.0,
        &ephemeral_public,
        &audit.public_key(),
        &ephemeral_public,
    )?;
    let plain = key.open(0, &aad, bytes.get_mut(start..).ok_or(Error::Truncated)?)?;
    wire::take::<Ack>(plain)
}
