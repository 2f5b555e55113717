//! Owner-signed messages a lock accepts from any phone: versioned configuration updates and
//! time anchors bound to a fresh lock challenge.
//!
//! Both are signed by the owner and carried by any phone in a session with no credential
//! ([`crate::phone::PhoneSession::open_anonymous`]): the lock checks the signature, so the
//! carrier needs no trust.
//!
//! # Example
//!
//! ```
//! use doorkey::config::{Change, ConfigUpdate, MAX_ADMIN_BYTES};
//! use doorkey::time::{Tick, TzRule};
//! # use chacha20::ChaCha20Rng;
//! # use doorkey::crypto::{SecretKey, Signer};
//! # use doorkey::lock::{Lock, MemoryStorage};
//! # use doorkey::phone::PhoneSession;
//! # use doorkey::session::{Command, Reply};
//! # use rand_core::SeedableRng;
//! # fn main() -> doorkey::Result<()> {
//! # let mut rng = ChaCha20Rng::from_seed([7; 32]);
//! # let owner = SecretKey::from_seed(&[1; 32]);
//! # let identity = SecretKey::from_seed(&[2; 32]);
//! # let mut lock = Lock::install(identity, owner.public_key(), MemoryStorage::<4096>::new())?;
//! // The owner's app signs an update for the next configuration version...
//! let update = ConfigUpdate {
//!     lock: lock.id(),
//!     version: 1,
//!     signer: owner.public_key(),
//!     change: Change::SetTimeZone(TzRule::parse("CET-1CEST,M3.5.0,M10.5.0/3")?),
//! };
//! let mut signed = [0u8; MAX_ADMIN_BYTES];
//! let n = update.sign(&owner, &mut signed)?;
//!
//! // ...and any phone carries it to the lock, in a session with no credential.
//! let mut challenge = [0u8; 256];
//! let c = lock.challenge(Tick::from_secs(20), &mut rng, &mut challenge)?;
//! let mut out = [0u8; 512];
//! let command = Command::Config(&signed[..n]);
//! let (mut session, m) =
//!     PhoneSession::open_anonymous(&challenge[..c], &lock.id(), command, &mut rng, &mut out)?;
//! # let mut reply = [0u8; 256];
//! # let r = lock.handle(Tick::from_secs(20), &mut out[..m], &mut reply)?.reply;
//! assert_eq!(session.read_reply(&mut reply[..r])?, Reply::ConfigApplied(1));
//! # Ok(())
//! # }
//! ```

use crate::credential::{CredentialId, LockId};
use crate::crypto::{PublicKey, Signed, Signer, encode_signed, labels};
use crate::error::Result;
use crate::time::TzRule;
use crate::time::UnixTime;
use crate::wire::Kind;
use serde::{Deserialize, Serialize};

/// Largest encoded configuration update or time anchor.
pub const MAX_ADMIN_BYTES: usize = 256;

/// One change to a lock's configuration. Variant order is the wire tag: append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Change {
    /// Trust another owner key.
    AddOwner(PublicKey),
    /// Stop trusting an owner key (the last owner cannot be removed).
    RemoveOwner(PublicKey),
    /// Refuse one credential id; `until` is when that credential expires anyway, after which
    /// the lock may forget the entry.
    RevokeId {
        /// The revoked link's id.
        id: CredentialId,
        /// Its expiry, if any.
        until: Option<UnixTime>,
    },
    /// Refuse every link to or from this delegate or holder key, for good.
    RevokeKey(PublicKey),
    /// Refuse every link issued with a lower epoch.
    SetEpoch(u32),
    /// The time-zone rule schedules are evaluated in.
    SetTimeZone(TzRule),
    /// Seconds a challenge stays answerable (1..=60).
    SetChallengeLifetime(u16),
    /// Accept time anchors from this key too (a time server the owner runs).
    AddTimeKey(PublicKey),
    /// Stop accepting time anchors from this key.
    RemoveTimeKey(PublicKey),
    /// The owner has checked the lock's state after it reported `RolledBack`: the lock leaves
    /// recovery and accepts grants with a use limit or an expiry again.
    ConfirmState,
    /// Back to factory settings with this key as the only owner: time keys, time zone,
    /// challenge lifetime, revocations, use counts and recovery are reset. The identity, the
    /// receipt chain, the clock's high-water mark, the epoch and the configuration version
    /// are kept, so nothing monotonic goes back.
    FactoryReset(PublicKey),
    /// Set the clock's high-water mark to this time: the way back from an anchor far in the
    /// future, which the mark would otherwise keep for good. The lock's clock is untrusted
    /// until the next anchor.
    ResetClock(UnixTime),
    /// Refuse every link to or from this delegate or holder key; `until` is when every link
    /// naming the key expires anyway, after which the lock may forget the entry.
    RevokeKeyUntil {
        /// The revoked key.
        key: PublicKey,
        /// When its last link expires, if ever.
        until: Option<UnixTime>,
    },
    /// Clear one entry of the lock's bounded tables that the owner knows is no longer needed.
    Forget(Forget),
    /// Seal receipt bundles to this X25519 audit key (the owner's server holds its secret,
    /// [`crate::receipt::AuditSecret`]); until one is set the lock hands out no receipts.
    SetAuditKey(#[serde(with = "crate::wire::array")] [u8; 32]),
}

/// A table entry an owner clears with [`Change::Forget`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Forget {
    /// The use count of this id: links naming it get their whole limit again.
    Uses(CredentialId),
    /// The revocation of this id.
    RevokedId(CredentialId),
    /// The revocation of this key.
    RevokedKey(PublicKey),
}

/// A signed configuration update: applies once, only if newer than the lock's version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigUpdate {
    /// The lock it is for.
    pub lock: LockId,
    /// Strictly increasing per lock; a replayed or older update is refused.
    pub version: u64,
    /// The owner key that signs it.
    pub signer: PublicKey,
    /// What changes.
    pub change: Change,
}

/// A signed statement of the current time for one lock, bound to the nonce of the session's
/// challenge so it cannot be replayed later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeAnchor {
    /// The lock it is for.
    pub lock: LockId,
    /// The nonce of the challenge that opened the session carrying it.
    #[serde(with = "crate::wire::array")]
    pub nonce: [u8; 16],
    /// UTC seconds at signing.
    pub time: UnixTime,
    /// The owner or time key that signs it.
    pub signer: PublicKey,
}

impl ConfigUpdate {
    /// Encodes and signs the update with the owner key `signer` (which must match `self.signer`).
    ///
    /// ```
    /// use doorkey::config::{Change, ConfigUpdate, MAX_ADMIN_BYTES};
    /// use doorkey::time::{Tick, TzRule};
    /// # use chacha20::ChaCha20Rng;
    /// # use doorkey::crypto::{SecretKey, Signer};
    /// # use doorkey::lock::{Lock, MemoryStorage};
    /// # use doorkey::phone::PhoneSession;
    /// # use doorkey::session::{Command, ReasonCode, Reply};
    /// # use rand_core::SeedableRng;
    /// # fn main() -> doorkey::Result<()> {
    /// # let mut rng = ChaCha20Rng::from_seed([7; 32]);
    /// # let owner = SecretKey::from_seed(&[1; 32]);
    /// # let identity = SecretKey::from_seed(&[2; 32]);
    /// # let mut lock = Lock::install(identity, owner.public_key(), MemoryStorage::<4096>::new())?;
    /// // The owner's app signs an update for the next configuration version...
    /// let update = ConfigUpdate {
    ///     lock: lock.id(),
    ///     version: 1,
    ///     signer: owner.public_key(),
    ///     change: Change::SetTimeZone(TzRule::parse("CET-1CEST,M3.5.0,M10.5.0/3")?),
    /// };
    /// let mut signed = [0u8; MAX_ADMIN_BYTES];
    /// let n = update.sign(&owner, &mut signed)?;
    ///
    /// // ...and any phone carries it to the lock, in a session with no credential.
    /// let mut challenge = [0u8; 256];
    /// let c = lock.challenge(Tick::from_secs(20), &mut rng, &mut challenge)?;
    /// let mut out = [0u8; 512];
    /// let command = Command::Config(&signed[..n]);
    /// let (mut session, m) =
    ///     PhoneSession::open_anonymous(&challenge[..c], &lock.id(), command, &mut rng, &mut out)?;
    /// # let mut reply = [0u8; 256];
    /// # let r = lock.handle(Tick::from_secs(20), &mut out[..m], &mut reply)?.reply;
    /// assert_eq!(session.read_reply(&mut reply[..r])?, Reply::ConfigApplied(1));
    ///
    /// // The same signed bytes again are stale: each version applies once.
    /// # let c = lock.challenge(Tick::from_secs(21), &mut rng, &mut challenge)?;
    /// # let (mut session, m) =
    /// #     PhoneSession::open_anonymous(&challenge[..c], &lock.id(), command, &mut rng, &mut out)?;
    /// # let r = lock.handle(Tick::from_secs(21), &mut out[..m], &mut reply)?.reply;
    /// assert_eq!(session.read_reply(&mut reply[..r])?, Reply::Denied(ReasonCode::Refused));
    /// # Ok(())
    /// # }
    /// ```
    pub fn sign<S: Signer + ?Sized>(&self, signer: &S, out: &mut [u8]) -> Result<usize> {
        encode_signed(out, Kind::Config, self, labels::CONFIG, signer)
    }

    /// Decodes an update; the signature is checked by the lock against its owners.
    pub fn decode(bytes: &[u8]) -> Result<Signed<'_, ConfigUpdate>> {
        Signed::decode(bytes, Kind::Config, MAX_ADMIN_BYTES)
    }
}

impl TimeAnchor {
    /// Encodes and signs the anchor with `signer` (which must match `self.signer`).
    ///
    /// ```
    /// use doorkey::config::{MAX_ADMIN_BYTES, TimeAnchor};
    /// # use chacha20::ChaCha20Rng;
    /// # use doorkey::crypto::{SecretKey, Signer};
    /// # use doorkey::lock::{Lock, MemoryStorage};
    /// # use doorkey::phone::{PhoneSession, inspect_challenge};
    /// # use doorkey::session::{Command, Reply};
    /// # use doorkey::time::{Seconds, Tick, UnixTime};
    /// # use rand_core::SeedableRng;
    /// # fn main() -> doorkey::Result<()> {
    /// # let mut rng = ChaCha20Rng::from_seed([7; 32]);
    /// # let owner = SecretKey::from_seed(&[1; 32]);
    /// # let identity = SecretKey::from_seed(&[2; 32]);
    /// # let mut lock = Lock::install(identity, owner.public_key(), MemoryStorage::<4096>::new())?;
    /// // The lock's clock is untrusted after boot; its challenge carries the nonce to bind to.
    /// let mut challenge = [0u8; 256];
    /// let c = lock.challenge(Tick::from_secs(30), &mut rng, &mut challenge)?;
    /// let info = inspect_challenge(&challenge[..c], &lock.id())?;
    /// assert!(!info.clock_trusted);
    ///
    /// // The owner's app (or a time server the owner enrolled) signs the time for that nonce.
    /// let now = UnixTime::from_secs(1_780_315_200); // 2026-06-01 12:00:00 UTC
    /// let anchor = TimeAnchor {
    ///     lock: lock.id(),
    ///     nonce: info.nonce,
    ///     time: now,
    ///     signer: owner.public_key(),
    /// };
    /// let mut signed = [0u8; MAX_ADMIN_BYTES];
    /// let n = anchor.sign(&owner, &mut signed)?;
    ///
    /// let mut out = [0u8; 512];
    /// let command = Command::Time(&signed[..n]);
    /// let (mut session, m) =
    ///     PhoneSession::open_anonymous(&challenge[..c], &lock.id(), command, &mut rng, &mut out)?;
    /// # let mut reply = [0u8; 256];
    /// # let r = lock.handle(Tick::from_secs(30), &mut out[..m], &mut reply)?.reply;
    /// assert_eq!(session.read_reply(&mut reply[..r])?, Reply::TimeSet(now));
    /// assert_eq!(lock.trusted_now(Tick::from_secs(90)), Some(now + Seconds::from_secs(60))); // the tick maps to UTC
    /// # Ok(())
    /// # }
    /// ```
    pub fn sign<S: Signer + ?Sized>(&self, signer: &S, out: &mut [u8]) -> Result<usize> {
        encode_signed(out, Kind::TimeAnchor, self, labels::TIME, signer)
    }

    /// Decodes an anchor; the signature is checked by the lock.
    pub fn decode(bytes: &[u8]) -> Result<Signed<'_, TimeAnchor>> {
        Signed::decode(bytes, Kind::TimeAnchor, MAX_ADMIN_BYTES)
    }
}
