//! The session's symmetric layer: X25519 agreement, the HKDF key schedule over the transcript,
//! and ChaCha20-Poly1305 with counter nonces, one key per direction.

use super::labels;
use crate::Rng;
use crate::error::{Error, Result};
use crate::rng::RandCore;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce, Tag};
use x25519_dalek::{EphemeralSecret, PublicKey as XPublic, StaticSecret};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Bytes the AEAD tag adds to every sealed payload.
pub const TAG_LEN: usize = 16;

/// One side's ephemeral X25519 secret for one session, used once by [`agree`].
pub struct Ephemeral {
    secret: EphemeralSecret,
    /// The fuzzing stand-in's public key (see [`super::fuzzing`]).
    #[cfg(fuzzing)]
    stand_in: Option<[u8; 32]>,
}

impl Ephemeral {
    /// Draws a fresh secret (32 bytes of `rng`) and returns it with its public key.
    pub fn generate<R: Rng + ?Sized>(rng: &mut R) -> (Ephemeral, [u8; 32]) {
        let secret = EphemeralSecret::random_from_rng(&mut RandCore(&mut *rng));
        #[cfg(fuzzing)]
        if super::fuzzing::active() {
            let mut public = [0u8; 32];
            rng.fill_bytes(&mut public);
            let stand_in = Some(public);
            return (Ephemeral { secret, stand_in }, public);
        }
        let public = XPublic::from(&secret).to_bytes();
        (secret.into(), public)
    }
}

impl core::fmt::Debug for Ephemeral {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Ephemeral(redacted)")
    }
}

impl From<EphemeralSecret> for Ephemeral {
    fn from(secret: EphemeralSecret) -> Ephemeral {
        Ephemeral {
            secret,
            #[cfg(fuzzing)]
            stand_in: None,
        }
    }
}

/// X25519 with our ephemeral secret (consumed) and the peer's ephemeral public key. Refuses
/// non-contributory results (a low-order peer key), which would make the key predictable.
pub fn agree(ours: impl Into<Ephemeral>, theirs: &[u8; 32]) -> Result<SharedKey> {
    let ours = ours.into();
    #[cfg(fuzzing)]
    if let Some(public) = ours.stand_in {
        return Ok(SharedKey(super::fuzzing::agree(&public, theirs)));
    }
    contributory(ours.secret.diffie_hellman(&XPublic::from(*theirs)))
}

/// X25519 with a secret that is used more than once (the owner's audit key) or derived (the
/// lock's per-bundle key); refuses non-contributory results like [`agree`].
pub fn agree_static(ours: &StaticSecret, theirs: &[u8; 32]) -> Result<SharedKey> {
    contributory(ours.diffie_hellman(&XPublic::from(*theirs)))
}

/// Refuses a non-contributory X25519 result (a low-order peer key makes it predictable).
fn contributory(shared: x25519_dalek::SharedSecret) -> Result<SharedKey> {
    if !shared.was_contributory() {
        return Err(Error::Crypto);
    }
    Ok(SharedKey(shared.to_bytes()))
}

/// The raw X25519 output, wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SharedKey([u8; 32]);

/// One direction's AEAD key, wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct ChannelKey([u8; 32]);

impl core::fmt::Debug for SharedKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SharedKey(redacted)")
    }
}

impl core::fmt::Debug for ChannelKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ChannelKey(redacted)")
    }
}

/// Both directions' keys for one session.
#[derive(Debug)]
pub struct SessionKeys {
    /// Seals what the phone sends.
    pub phone_to_lock: ChannelKey,
    /// Seals what the lock sends.
    pub lock_to_phone: ChannelKey,
}

impl SessionKeys {
    /// HKDF-SHA512 with the session label as salt, the X25519 output as input key material
    /// and the transcript hash as info; 64 bytes split phone-to-lock then lock-to-phone.
    pub fn derive(shared: SharedKey, transcript: &[u8; 32]) -> SessionKeys {
        let mut okm = [0u8; 64];
        hkdf(&shared, labels::SESSION, transcript, &mut okm);
        let (a, b) = okm.split_at(32);
        let mut p2l = [0u8; 32];
        let mut l2p = [0u8; 32];
        p2l.copy_from_slice(a);
        l2p.copy_from_slice(b);
        okm.zeroize();
        SessionKeys {
            phone_to_lock: ChannelKey(p2l),
            lock_to_phone: ChannelKey(l2p),
        }
    }
}

impl ChannelKey {
    /// One key from HKDF-SHA512 with `salt`, the X25519 output as input key material and
    /// `info`: a key used for one message only.
    pub fn derive(shared: SharedKey, salt: &[u8], info: &[u8]) -> ChannelKey {
        let mut key = [0u8; 32];
        hkdf(&shared, salt, info, &mut key);
        ChannelKey(key)
    }
}

/// HKDF-SHA512 (RFC 5869) into `okm`, at most one 64-byte block here. Built on the crate's
/// one SHA-512 body rather than a second, generic HMAC copy, which keeps the lock's flash
/// down. The PRK and every keyed block are wiped.
fn hkdf(shared: &SharedKey, salt: &[u8], info: &[u8], okm: &mut [u8]) {
    let mut prk = hmac(salt, &shared.0, &[]);
    let mut block = hmac(&prk, info, &[1]);
    for (o, b) in okm.iter_mut().zip(block.iter()) {
        *o = *b;
    }
    prk.zeroize();
    block.zeroize();
}

/// HMAC-SHA512 of `a || b` under `key`.
fn hmac(key: &[u8], a: &[u8], b: &[u8]) -> [u8; 64] {
    const BLOCK: usize = 128;
    let mut hashed = [0u8; 64];
    let key = if key.len() > BLOCK {
        hashed = super::sha512(&[key]);
        &hashed[..]
    } else {
        key
    };
    let mut pad = [0x36u8; BLOCK];
    for (p, k) in pad.iter_mut().zip(key) {
        *p ^= *k;
    }
    let mut inner = super::sha512(&[&pad, a, b]);
    for p in pad.iter_mut() {
        *p ^= 0x36 ^ 0x5c;
    }
    let out = super::sha512(&[&pad, &inner]);
    pad.zeroize();
    inner.zeroize();
    hashed.zeroize();
    out
}

fn nonce(counter: u32) -> Nonce {
    let mut n = [0u8; 12];
    n[..4].copy_from_slice(&counter.to_le_bytes());
    Nonce::from(n)
}

impl ChannelKey {
    /// Encrypts `buf[..len]` in place and appends the tag; returns the sealed length.
    pub fn seal(&self, counter: u32, aad: &[u8], buf: &mut [u8], len: usize) -> Result<usize> {
        let end = len.checked_add(TAG_LEN).ok_or(Error::BufferTooSmall)?;
        let (msg, tail) = buf
            .get_mut(..end)
            .ok_or(Error::BufferTooSmall)?
            .split_at_mut(len);
        let cipher = ChaCha20Poly1305::new(&self.0.into());
        let tag = cipher
            .encrypt_inout_detached(&nonce(counter), aad, msg.into())
            .map_err(|_| Error::Crypto)?;
        tail.copy_from_slice(&tag);
        Ok(end)
    }

    /// Authenticates and decrypts `buf` (ciphertext then tag) in place; returns the plaintext.
    pub fn open<'b>(&self, counter: u32, aad: &[u8], buf: &'b mut [u8]) -> Result<&'b [u8]> {
        let len = buf.len().checked_sub(TAG_LEN).ok_or(Error::Truncated)?;
        let (msg, tag) = buf.split_at_mut(len);
        let tag = Tag::try_from(&*tag).map_err(|_| Error::Crypto)?;
        let cipher = ChaCha20Poly1305::new(&self.0.into());
        cipher
            .decrypt_inout_detached(&nonce(counter), aad, (&mut *msg).into(), &tag)
            .map_err(|_| Error::Crypto)?;
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The crate's HKDF matches the reference one for salts below, at and above HMAC's
    /// 128-byte block (a longer key is hashed first) and for both output lengths used.
    #[test]
    fn hkdf_matches_the_reference() {
        let shared = SharedKey([7; 32]);
        let long = [0xa5u8; 200];
        for salt in [
            labels::SESSION,
            labels::SEAL,
            &long[..128],
            &long[..129],
            &long[..],
        ] {
            for info in [&b""[..], b"transcript", &long[..80]] {
                for len in [32, 64] {
                    let mut ours = [0u8; 64];
                    hkdf(&shared, salt, info, &mut ours[..len]);
                    let mut reference = [0u8; 64];
                    hkdf::Hkdf::<sha2::Sha512>::new(Some(salt), &shared.0)
                        .expand(info, &mut reference[..len])
                        .expect("one block");
                    assert_eq!(
                        ours,
                        reference,
                        "salt {} info {} len {len}",
                        salt.len(),
                        info.len()
                    );
                }
            }
        }
    }
}
