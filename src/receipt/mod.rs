//! Signed audit receipts: the lock's hash-chained, signed record of every security-relevant
//! event, and `no_std` verification of one receipt or a run of them.
//!
//! A receipt's body links to its predecessor by hash and carries a sequence number, so a
//! verifier holding the lock's public key detects a dropped, reordered, altered or forked
//! receipt; a signed [`Head`] tells it where the chain ends, so truncation shows too.
//! Receipts are signed when they leave the lock, not when the event happens: the chain hash
//! covers the unsigned body, so a relock costs no signature, and Ed25519's determinism makes
//! every re-sent copy byte-identical.
//!
//! # Example
//!
//! A verifier with no heap (an alarm panel, a phone) checks a run of receipts against the
//! lock's public key and the head the lock signed:
//!
//! ```
//! use doorkey::Error;
//! use doorkey::receipt::{Event, Head, Receipt, RunVerifier};
//! use doorkey::crypto::{SecretKey, Signer};
//! use doorkey::credential::LockId;
//! use doorkey::time::UnixTime;
//! # fn main() -> doorkey::Result<()> {
//! // What a lock signs as receipts leave it (normally inside `Lock`; here by hand).
//! let lock_key = SecretKey::from_seed(&[2; 32]);
//! let lock = LockId::of(&lock_key.public_key());
//! let installed = Receipt { seq: 1, ..Receipt::default() }; // Event::Installed, clock untrusted
//! let time_set = Receipt {
//!     seq: 2,
//!     prev: installed.hash(&lock)?,
//!     time: Some(UnixTime::from_secs(1_780_315_200)),
//!     event: Event::TimeSet,
//!     ..Receipt::default()
//! };
//! let (mut first, mut second, mut head) = ([0u8; 256], [0u8; 256], [0u8; 256]);
//! let a = installed.sign(&lock, &lock_key, &mut first)?;
//! let b = time_set.sign(&lock, &lock_key, &mut second)?;
//! let tip = Head { seq: 2, hash: time_set.hash(&lock)?, time: time_set.time };
//! let h = tip.sign(&lock, &lock_key, &mut head)?;
//!
//! let mut run = RunVerifier::from_start(lock_key.public_key());
//! assert_eq!(run.push(&first[..a])?.event, Event::Installed);
//! assert_eq!(run.push(&second[..b])?.event, Event::TimeSet);
//! run.finish(&head[..h])?; // nothing was cut off after receipt 2
//!
//! // A run that skips a receipt is refused.
//! let mut gap = RunVerifier::from_start(lock_key.public_key());
//! assert!(matches!(gap.push(&second[..b]), Err(Error::ChainBroken)));
//! # Ok(())
//! # }
//! ```

mod seal;

pub(crate) use seal::seal;
pub use seal::{
    Ack, AuditSecret, MAX_SEALED_BYTES, SEALED_PREFIX, open, take_sealed, validate_audit_key,
};

use crate::credential::{CredentialId, LockId};
use crate::crypto::{self, PublicKey, Signature, Signer, labels};
use crate::error::{Error, Result};
use crate::session::ReasonCode;
use crate::time::UnixTime;
use crate::wire::{self, Kind, VERSION};
use serde::{Deserialize, Serialize};

/// Largest encoded receipt.
pub const MAX_RECEIPT_BYTES: usize = 256;
/// Bytes of a session id (the transcript hash, truncated).
pub const SESSION_ID_LEN: usize = 16;

/// What happened. Variant order is the wire tag: append only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Event {
    /// The lock was installed (the chain's first receipt).
    #[default]
    Installed,
    /// The lock booted; its clock is untrusted until the next time anchor.
    Boot,
    /// The lock unlocked for the holder named in `who`.
    Unlocked,
    /// The lock locked again.
    Relocked,
    /// A request in an authenticated session was refused.
    Denied(ReasonCode),
    /// A configuration update was applied (its version).
    ConfigChanged(u64),
    /// A time anchor set the clock.
    TimeSet,
    /// The firmware reported the door opened.
    DoorOpened,
    /// The firmware reported the door closed.
    DoorClosed,
    /// The firmware reported the door left open too long.
    DoorLeftOpen,
    /// The lock booted from a state older than one it had committed (its storage lost the
    /// newest commit) and is in recovery until an owner confirms its state.
    RolledBack,
    /// An owner-signed factory reset was applied (its configuration version).
    FactoryReset(u64),
    /// The configuration update with this version reset the clock (a `ResetClock` change):
    /// its high-water mark was set to the update's time, and the clock is untrusted until the
    /// next anchor. As wide as `ConfigChanged`, so the widest state does not grow.
    ClockReset(u64),
}

/// Who was behind an event: the credential (last link) and the holder's device key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Who {
    /// The holder link's credential id.
    pub id: CredentialId,
    /// The holder's device key by its id ([`SubjectKey::key_id`](crate::crypto::SubjectKey::key_id)):
    /// an Ed25519 key itself, a digest of a P-256 one.
    pub holder: PublicKey,
}

/// The signed content of one receipt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Receipt {
    /// 1 for the first receipt, then +1 per receipt, never reused.
    pub seq: u64,
    /// Hash of the previous receipt (all zero for the first).
    #[serde(with = "crate::wire::array")]
    pub prev: [u8; 32],
    /// Trusted lock time, or `None` while the lock's clock was untrusted.
    pub time: Option<UnixTime>,
    /// What happened.
    pub event: Event,
    /// The credential and holder involved, if any.
    pub who: Option<Who>,
    /// The session it happened in (first 16 bytes of the transcript hash), if any.
    #[serde(with = "crate::wire::array::option")]
    pub session: Option<[u8; SESSION_ID_LEN]>,
}

/// The lock's signed statement of its chain's end at a moment: a verifier that has every
/// receipt up to `seq` with this `hash` has not been truncated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct Head {
    /// Sequence number of the newest receipt.
    pub seq: u64,
    /// Its hash.
    #[serde(with = "crate::wire::array")]
    pub hash: [u8; 32],
    /// Trusted lock time when the head was signed, if the clock was trusted.
    pub time: Option<UnixTime>,
}

/// Writes `[version][kind][body]` for a receipt or head into `out`; returns the length.
fn encode_body<T: Serialize>(out: &mut [u8], kind: Kind, body: &T) -> Result<usize> {
    let at = wire::write_header(out, kind)?;
    Ok(at + wire::put(body, out.get_mut(at..).ok_or(Error::BufferTooSmall)?)?)
}

impl Receipt {
    /// The chain hash of this receipt for `lock`: over the encoded body, not the signature.
    pub fn hash(&self, lock: &LockId) -> Result<[u8; 32]> {
        let mut buf = [0u8; MAX_RECEIPT_BYTES];
        let n = encode_body(&mut buf, Kind::Receipt, self)?;
        Ok(body_hash(lock, buf.get(..n).ok_or(Error::BufferTooSmall)?))
    }

    /// Encodes and signs the receipt as the lock `signer` (id `lock`) into `out`.
    pub fn sign<S: Signer + ?Sized>(
        &self,
        lock: &LockId,
        signer: &S,
        out: &mut [u8],
    ) -> Result<usize> {
        sign_body(out, Kind::Receipt, self, labels::RECEIPT, lock, signer)
    }
}

impl Head {
    /// Encodes and signs the head as the lock `signer` (id `lock`) into `out`.
    pub fn sign<S: Signer + ?Sized>(
        &self,
        lock: &LockId,
        signer: &S,
        out: &mut [u8],
    ) -> Result<usize> {
        sign_body(out, Kind::Head, self, labels::HEAD, lock, signer)
    }
}

/// Writes `[version][kind][body]` and the lock's signature over `label || lock id || those
/// bytes` (the lock id is signed, not sent).
fn sign_body<T: Serialize, S: Signer + ?Sized>(
    out: &mut [u8],
    kind: Kind,
    body: &T,
    label: &[u8],
    lock: &LockId,
    signer: &S,
) -> Result<usize> {
    let n = encode_body(out, kind, body)?;
    let sig = crypto::sign(
        signer,
        label,
        &[&lock.0, out.get(..n).ok_or(Error::BufferTooSmall)?],
    )?;
    wire::put_bytes(out, n, &sig.0)
}

fn body_hash(lock: &LockId, body: &[u8]) -> [u8; 32] {
    crypto::hash(&[labels::RECEIPT_HASH, &lock.0, body])
}

/// A decoded receipt or head, not yet verified: the body, the exact signed bytes and the
/// signature, plus the receipt's chain hash.
#[derive(Clone, Copy, Debug)]
pub struct Parsed<'a, T> {
    /// The decoded body.
    pub body: T,
    /// Header and body exactly as received: what the signature and hash cover.
    pub signed: &'a [u8],
    /// The signature.
    pub signature: Signature,
}

fn parse<'a, T: Deserialize<'a> + Serialize>(
    bytes: &'a [u8],
    kind: Kind,
) -> Result<(Parsed<'a, T>, &'a [u8])> {
    let body_bytes = wire::split_header(bytes, kind)?;
    let (body, rest) = wire::take::<T>(body_bytes)?;
    let signed_len = bytes.len() - rest.len();
    let signed = bytes.get(..signed_len).ok_or(Error::Truncated)?;
    let (sig, rest) = wire::take_array::<64>(rest)?;
    Ok((
        Parsed {
            body,
            signed,
            signature: Signature(sig),
        },
        rest,
    ))
}

impl<'a> Parsed<'a, Receipt> {
    /// Decodes one receipt from the front of `bytes`, returning it and what follows.
    pub fn take(bytes: &'a [u8]) -> Result<(Parsed<'a, Receipt>, &'a [u8])> {
        parse(bytes, Kind::Receipt)
    }

    /// The receipt's chain hash for `lock`.
    pub fn hash(&self, lock: &LockId) -> [u8; 32] {
        body_hash(lock, self.signed)
    }

    /// Checks the lock's signature.
    pub fn verify(&self, lock_key: &PublicKey) -> Result<()> {
        let id = LockId::of(lock_key);
        crypto::verify(
            lock_key,
            labels::RECEIPT,
            &[&id.0, self.signed],
            &self.signature,
        )
    }

    /// The exact message the signature covers, for batch verification.
    pub fn message(&self, lock: &LockId, out: &mut [u8; crypto::MAX_SIGNED]) -> Result<usize> {
        Ok(crypto::signed_message(out, labels::RECEIPT, &[&lock.0, self.signed])?.len())
    }
}

impl<'a> Parsed<'a, Head> {
    /// Decodes a signed head from the front of `bytes`.
    pub fn take(bytes: &'a [u8]) -> Result<(Parsed<'a, Head>, &'a [u8])> {
        parse(bytes, Kind::Head)
    }

    /// Checks the lock's signature.
    pub fn verify(&self, lock_key: &PublicKey) -> Result<()> {
        let id = LockId::of(lock_key);
        crypto::verify(
            lock_key,
            labels::HEAD,
            &[&id.0, self.signed],
            &self.signature,
        )
    }
}

/// Verifies one receipt on its own: enough for an alarm panel to accept "an authorized entry
/// is under way" from a single receipt and the lock's key. Trailing bytes are refused.
///
/// ```
/// use doorkey::Error;
/// use doorkey::receipt::{Event, Head, Receipt, verify_one};
/// use doorkey::crypto::{SecretKey, Signer};
/// use doorkey::credential::LockId;
/// use doorkey::time::UnixTime;
/// # fn main() -> doorkey::Result<()> {
/// // What a lock signs as receipts leave it (normally inside `Lock`; here by hand).
/// let lock_key = SecretKey::from_seed(&[2; 32]);
/// let lock = LockId::of(&lock_key.public_key());
/// let installed = Receipt { seq: 1, ..Receipt::default() }; // Event::Installed, clock untrusted
/// let time_set = Receipt {
///     seq: 2,
///     prev: installed.hash(&lock)?,
///     time: Some(UnixTime::from_secs(1_780_315_200)),
///     event: Event::TimeSet,
///     ..Receipt::default()
/// };
/// let (mut first, mut second, mut head) = ([0u8; 256], [0u8; 256], [0u8; 256]);
/// let a = installed.sign(&lock, &lock_key, &mut first)?;
/// let b = time_set.sign(&lock, &lock_key, &mut second)?;
/// let tip = Head { seq: 2, hash: time_set.hash(&lock)?, time: time_set.time };
/// let h = tip.sign(&lock, &lock_key, &mut head)?;
///
/// let receipt = verify_one(&second[..b], &lock_key.public_key())?;
/// assert_eq!(receipt, time_set);
///
/// // Signed by another key, or altered: refused, and nothing more is said.
/// let stranger = SecretKey::from_seed(&[9; 32]).public_key();
/// assert!(matches!(verify_one(&second[..b], &stranger), Err(Error::Crypto)));
/// let mut altered = second;
/// altered[b - 1] ^= 1;
/// assert!(matches!(verify_one(&altered[..b], &lock_key.public_key()), Err(Error::Crypto)));
/// # let _ = (a, h, head, first);
/// # Ok(())
/// # }
/// ```
pub fn verify_one(bytes: &[u8], lock_key: &PublicKey) -> Result<Receipt> {
    if bytes.len() > MAX_RECEIPT_BYTES {
        return Err(Error::Oversize);
    }
    let (parsed, rest) = Parsed::<Receipt>::take(bytes)?;
    if !rest.is_empty() {
        return Err(Error::TrailingBytes);
    }
    parsed.verify(lock_key)?;
    Ok(parsed.body)
}

/// Verifies receipts one after another, as a `no_std` verifier with constant memory would:
/// each must be signed by the lock, carry the next sequence number and link to the hash of
/// the one before.
#[derive(Clone, Debug)]
pub struct RunVerifier {
    lock_key: PublicKey,
    lock: LockId,
    last: Option<(u64, [u8; 32])>,
}

impl RunVerifier {
    /// Starts at the beginning of the chain (the next receipt must be sequence 1).
    pub fn from_start(lock_key: PublicKey) -> RunVerifier {
        RunVerifier {
            lock: LockId::of(&lock_key),
            lock_key,
            last: Some((0, [0; 32])),
        }
    }

    /// Starts anywhere: the first receipt is taken as it comes (its predecessor unknown).
    pub fn anywhere(lock_key: PublicKey) -> RunVerifier {
        RunVerifier {
            lock: LockId::of(&lock_key),
            lock_key,
            last: None,
        }
    }

    /// Verifies the next receipt. [`Error::ChainBroken`] if it does not follow the last one.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Receipt> {
        let (parsed, rest) = Parsed::<Receipt>::take(bytes)?;
        if !rest.is_empty() {
            return Err(Error::TrailingBytes);
        }
        parsed.verify(&self.lock_key)?;
        let r = parsed.body;
        if let Some((seq, hash)) = self.last
            && (Some(r.seq) != seq.checked_add(1) || r.prev != hash)
        {
            return Err(Error::ChainBroken);
        }
        self.last = Some((r.seq, parsed.hash(&self.lock)));
        Ok(r)
    }

    /// Checks a signed head against the last receipt pushed: [`Error::ChainBroken`] if the
    /// chain seen so far stops short of (or disagrees with) what the lock signed.
    ///
    /// ```
    /// use doorkey::Error;
    /// use doorkey::receipt::{Event, Head, Receipt, RunVerifier};
    /// use doorkey::crypto::{SecretKey, Signer};
    /// use doorkey::credential::LockId;
    /// use doorkey::time::UnixTime;
    /// # fn main() -> doorkey::Result<()> {
    /// // What a lock signs as receipts leave it (normally inside `Lock`; here by hand).
    /// let lock_key = SecretKey::from_seed(&[2; 32]);
    /// let lock = LockId::of(&lock_key.public_key());
    /// let installed = Receipt { seq: 1, ..Receipt::default() }; // Event::Installed, clock untrusted
    /// let time_set = Receipt {
    ///     seq: 2,
    ///     prev: installed.hash(&lock)?,
    ///     time: Some(UnixTime::from_secs(1_780_315_200)),
    ///     event: Event::TimeSet,
    ///     ..Receipt::default()
    /// };
    /// let (mut first, mut second, mut head) = ([0u8; 256], [0u8; 256], [0u8; 256]);
    /// let a = installed.sign(&lock, &lock_key, &mut first)?;
    /// let b = time_set.sign(&lock, &lock_key, &mut second)?;
    /// let tip = Head { seq: 2, hash: time_set.hash(&lock)?, time: time_set.time };
    /// let h = tip.sign(&lock, &lock_key, &mut head)?;
    ///
    /// // A phone that hands over only the first receipt cannot hide the second: the head says 2.
    /// let mut run = RunVerifier::from_start(lock_key.public_key());
    /// run.push(&first[..a])?;
    /// assert!(matches!(run.finish(&head[..h]), Err(Error::ChainBroken)));
    /// run.push(&second[..b])?;
    /// run.finish(&head[..h])?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn finish(&self, head: &[u8]) -> Result<()> {
        let (parsed, rest) = Parsed::<Head>::take(head)?;
        if !rest.is_empty() {
            return Err(Error::TrailingBytes);
        }
        parsed.verify(&self.lock_key)?;
        match self.last {
            Some((seq, hash)) if seq == parsed.body.seq && hash == parsed.body.hash => Ok(()),
            _ => Err(Error::ChainBroken),
        }
    }
}

/// Whether `bytes` starts with a receipt (rather than a head), by its kind byte.
pub fn is_receipt(bytes: &[u8]) -> bool {
    matches!(bytes, [VERSION, k, ..] if *k == Kind::Receipt as u8)
}
