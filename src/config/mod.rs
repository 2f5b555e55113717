//! Owner-signed messages a lock accepts from any phone: versioned configuration updates and
//! time anchors bound to a fresh lock challenge.

use crate::credential::{CredentialId, LockId};
use crate::crypto::{PublicKey, Signed, Signer, encode_signed, labels};
use crate::error::Result;
use crate::time::TzRule;
use crate::wire::{Kind, UnixTime};
use serde::{Deserialize, Serialize};

/// Largest encoded configuration update or time anchor.
pub const MAX_ADMIN_BYTES: usize = 256;

/// One change to a lock's configuration. Variant order is the wire tag: append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Refuse every link to or from this delegate or holder key.
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
    /// Seal receipt bundles to this X25519 audit key (the owner's server holds its secret,
    /// [`crate::receipt::AuditSecret`]); until one is set the lock hands out no receipts.
    SetAuditKey(#[serde(with = "crate::wire::array")] [u8; 32]),
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
    pub fn sign<S: Signer + ?Sized>(&self, signer: &S, out: &mut [u8]) -> Result<usize> {
        encode_signed(out, Kind::TimeAnchor, self, labels::TIME, signer)
    }

    /// Decodes an anchor; the signature is checked by the lock.
    pub fn decode(bytes: &[u8]) -> Result<Signed<'_, TimeAnchor>> {
        Signed::decode(bytes, Kind::TimeAnchor, MAX_ADMIN_BYTES)
    }
}
