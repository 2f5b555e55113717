use crate::Rng;
use crate::crypto::{PublicKey, hash, labels};
use crate::error::{Error, Result};
use crate::time::{Schedule, TzRule};
use crate::wire::{Bounded, UnixTime};
use serde::{Deserialize, Serialize};

use super::MAX_LOCKS;

/// A lock's identity on the wire: the first 16 bytes of SHA-512 over a label and the lock's
/// public key, so a credential names its lock compactly and the phone can check the lock key.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct LockId(#[serde(with = "crate::wire::array")] pub [u8; 16]);

impl LockId {
    /// The id of the lock whose public key is `key`.
    pub fn of(key: &PublicKey) -> LockId {
        LockId(hash(&[labels::LOCK_ID, &key.0]))
    }
}

/// A random 128-bit credential id: what revocation and use counting refer to.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct CredentialId(#[serde(with = "crate::wire::array")] pub [u8; 16]);

impl CredentialId {
    /// A fresh id from `rng`.
    pub fn random<R: Rng + ?Sized>(rng: &mut R) -> CredentialId {
        let mut id = [0u8; 16];
        rng.fill_bytes(&mut id);
        CredentialId(id)
    }
}

/// What a link allows, as bit flags. Unknown bits are refused when decoding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Rights(u8);

impl Rights {
    /// Open the door.
    pub const UNLOCK: Rights = Rights(0x01);
    /// Lock the door.
    pub const LOCK: Rights = Rights(0x02);
    /// Issue narrower links to others.
    pub const DELEGATE: Rights = Rights(0x04);
    const KNOWN: u8 = 0x07;

    /// Rights from raw bits, or `None` if unknown bits are set.
    pub const fn from_bits(bits: u8) -> Option<Rights> {
        if bits & !Self::KNOWN == 0 {
            Some(Rights(bits))
        } else {
            None
        }
    }

    /// The raw bits.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Both sets of rights together.
    pub const fn union(self, other: Rights) -> Rights {
        Rights(self.0 | other.0)
    }

    /// Whether every right in `other` is also in `self`.
    pub const fn contains(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }
}

/// Which locks a link covers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Scope {
    /// The same locks as the parent link (not allowed on a root link).
    #[default]
    Inherit,
    /// These locks, each of which the parent must also cover.
    Locks(Bounded<LockId, MAX_LOCKS>),
}

/// The signed content of one credential link. On the wire a link is the postcard encoding of
/// this struct followed by the issuer's 64-byte signature.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The key this link grants to: a delegate's issuing key, or the holder's device key.
    pub subject: PublicKey,
    /// Which locks.
    pub scope: Scope,
    /// What the subject may do.
    pub rights: Rights,
    /// Start of validity (inclusive), seconds since 1970 UTC. 0 with no lifetime = permanent.
    pub not_before: UnixTime,
    /// Seconds of validity after `not_before` (end exclusive); `None` never expires.
    pub lifetime: Option<u64>,
    /// Recurring weekly windows in the lock's local time, if restricted.
    pub schedule: Option<Schedule>,
    /// Total openings the lock allows under this link, if limited.
    pub uses: Option<u16>,
    /// How many further links may follow this one.
    pub depth: u8,
    /// Random id, for revocation and use counting.
    pub id: CredentialId,
    /// The owner's revocation epoch at issuance; links older than the lock's epoch are refused.
    pub epoch: u32,
    /// Optional binding to a purpose, such as a hash of an order or package id.
    #[serde(with = "crate::wire::array::option")]
    pub purpose: Option<[u8; 32]>,
}

impl Link {
    /// The first daylight-saving change of the lock's rule `tz`, within this link's validity,
    /// whose skipped or repeated local times its schedule permits (see
    /// [`Schedule::dst_conflict`]); `None` without a schedule or a conflict. An issuer asks
    /// this before signing: such a window never opens that day, or opens for longer.
    pub fn dst_conflict(&self, tz: &crate::time::TzRule) -> Option<crate::time::OffsetChange> {
        self.schedule?
            .dst_conflict(tz, self.not_before, self.not_after())
    }

    /// End of validity (exclusive), if any. Out of line: every chain walk asks for it.
    #[inline(never)]
    pub fn not_after(&self) -> Option<UnixTime> {
        self.lifetime.map(|l| self.not_before.saturating_add(l))
    }

    /// Whether the lock needs a trusted clock to evaluate this link.
    pub fn is_time_bounded(&self) -> bool {
        self.not_before != 0 || self.lifetime.is_some() || self.schedule.is_some()
    }

    /// Checks values that the encoding alone cannot rule out.
    pub fn validate(&self) -> Result<()> {
        let rights_ok = Rights::from_bits(self.rights.0).is_some() && self.rights.0 != 0;
        let scope_ok = match &self.scope {
            Scope::Inherit => true,
            Scope::Locks(list) => {
                let l = list.as_slice();
                !l.is_empty()
                    && l.iter()
                        .enumerate()
                        .all(|(i, a)| !l.iter().skip(i + 1).any(|b| a == b))
            }
        };
        if !rights_ok || !scope_ok || self.lifetime == Some(0) || self.uses == Some(0) {
            return Err(Error::Malformed);
        }
        if let Some(s) = &self.schedule {
            s.validate()?;
        }
        Ok(())
    }

    /// Checks that this link grants nothing its parent does not, given the locks the parent
    /// effectively covers, and narrows `locks` to the ones this link effectively covers.
    pub fn check_within(
        &self,
        parent: &Link,
        locks: &mut Bounded<LockId, MAX_LOCKS>,
    ) -> Result<()> {
        let may_delegate = parent.rights.contains(Rights::DELEGATE) && parent.depth > 0;
        let window_ok = self.not_before >= parent.not_before
            && match (parent.not_after(), self.not_after()) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(p), Some(c)) => c <= p,
            };
        let schedule_ok = match (&parent.schedule, &self.schedule) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(p), Some(c)) => c.is_within(p),
        };
        let uses_ok = match (parent.uses, self.uses) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(p), Some(c)) => c <= p,
        };
        let purpose_ok = parent.purpose.is_none() || parent.purpose == self.purpose;
        if let Scope::Locks(list) = &self.scope
            && !list.as_slice().iter().all(|l| locks.as_slice().contains(l))
        {
            return Err(Error::Widened);
        }
        if may_delegate
            && self.depth < parent.depth
            && parent.rights.contains(self.rights)
            && window_ok
            && schedule_ok
            && uses_ok
            && purpose_ok
            && self.epoch == parent.epoch
        {
            if let Scope::Locks(list) = &self.scope {
                *locks = *list;
            }
            Ok(())
        } else {
            Err(Error::Widened)
        }
    }

    /// Checks the validity window and schedule at `now` (UTC) in the lock's time zone.
    pub fn check_time(&self, now: UnixTime, tz: &TzRule) -> Result<()> {
        if now < self.not_before {
            return Err(Error::NotYetValid);
        }
        if self.not_after().is_some_and(|end| now >= end) {
            return Err(Error::Expired);
        }
        match &self.schedule {
            Some(s) if !s.permits(tz.local(now)) => Err(Error::OutsideSchedule),
            _ => Ok(()),
        }
    }
}
