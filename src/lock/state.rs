//! What a lock must remember across reboots, and the bounded tables inside it.

use crate::config::{Change, ConfigUpdate};
use crate::credential::{
    CredentialId, Grant, LockId, Revocations, UnverifiedChain, UseLimit, Verifier,
};
use crate::crypto::PublicKey;
use crate::error::{Error, Result};
use crate::receipt::{Event, Receipt, SESSION_ID_LEN, Who};
use crate::session::{DEFAULT_CHALLENGE_LIFETIME, MAX_CHALLENGE_LIFETIME};
use crate::time::TzRule;
use crate::wire::{self, Bounded, InPlace, UnixTime};
use core::fmt;
use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// Most owner keys one lock can have enrolled.
pub const MAX_OWNERS: usize = 4;
/// Most extra time-anchor keys.
pub const MAX_TIME_KEYS: usize = 2;
/// Most revoked credential ids remembered at once.
pub const MAX_REVOKED_IDS: usize = 16;
/// Most revoked keys remembered at once.
pub const MAX_REVOKED_KEYS: usize = 8;
/// Most use-limited credentials tracked at once.
pub const MAX_USE_ENTRIES: usize = 32;
/// Upper bound on the encoded state, for the buffer the lock serializes it into.
/// The widest valid state encodes to 3,038 bytes (every table full, every varint at its
/// longest; `tests/state.rs` builds it).
pub const MAX_STATE_BYTES: usize = 3072;
/// Receipts the lock keeps until a phone carries them away; older ones are dropped (and show
/// as a gap to the verifier).
pub const MAX_BACKLOG: usize = 8;

/// The trust anchors and settings a lock verifies credentials against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    key: PublicKey,
    owners: Bounded<PublicKey, MAX_OWNERS>,
    time_keys: Bounded<PublicKey, MAX_TIME_KEYS>,
    epoch: u32,
    tz: TzRule,
    challenge_lifetime: u16,
    config_version: u64,
    #[serde(with = "crate::wire::array::option")]
    audit_key: Option<[u8; 32]>,
}

impl Enrolment {
    /// A fresh enrolment for the lock whose identity key is `lock_key`: no owners, UTC,
    /// epoch 0, default challenge lifetime.
    pub fn new(lock_key: PublicKey) -> Enrolment {
        Enrolment {
            key: lock_key,
            owners: Bounded::new(),
            time_keys: Bounded::new(),
            epoch: 0,
            tz: TzRule::UTC,
            challenge_lifetime: DEFAULT_CHALLENGE_LIFETIME,
            config_version: 0,
            audit_key: None,
        }
    }

    /// This lock's id, as credentials name it.
    pub fn id(&self) -> LockId {
        LockId::of(&self.key)
    }

    /// This lock's public key.
    pub fn public_key(&self) -> PublicKey {
        self.key
    }

    /// Enrols an owner key, refusing weak, non-canonical or torsioned keys and a full list.
    /// Enrolling a key twice is a no-op.
    pub fn enrol_owner(&mut self, owner: PublicKey) -> Result<()> {
        add_key(&mut self.owners, owner)
    }

    /// The enrolled owner keys.
    pub fn owners(&self) -> &[PublicKey] {
        self.owners.as_slice()
    }

    /// Keys whose time anchors the lock accepts: owners and enrolled time keys.
    pub fn is_time_authority(&self, key: &PublicKey) -> bool {
        self.owners
            .as_slice()
            .iter()
            .chain(self.time_keys.as_slice())
            .any(|k| k.ct_eq(key))
    }

    /// Sets the time-zone rule schedules are evaluated in.
    pub fn set_time_zone(&mut self, tz: TzRule) -> Result<()> {
        tz.validate()?;
        self.tz = tz;
        Ok(())
    }

    /// The time-zone rule in force.
    pub fn time_zone(&self) -> TzRule {
        self.tz
    }

    /// Raises the revocation epoch: every link issued with a lower epoch is refused.
    pub fn set_epoch(&mut self, epoch: u32) -> Result<()> {
        if epoch < self.epoch {
            return Err(Error::Stale);
        }
        self.epoch = epoch;
        Ok(())
    }

    /// Seconds a challenge stays answerable.
    pub fn challenge_lifetime(&self) -> u16 {
        self.challenge_lifetime
    }

    /// The X25519 key receipt bundles are sealed to, once the owner has set one.
    pub fn audit_key(&self) -> Option<[u8; 32]> {
        self.audit_key
    }

    /// Sets the audit key, refusing one of small order ([`Error::WeakKey`]).
    pub fn set_audit_key(&mut self, key: [u8; 32]) -> Result<()> {
        crate::receipt::validate_audit_key(&key)?;
        self.audit_key = Some(key);
        Ok(())
    }

    /// Version of the last configuration update applied (0: none).
    pub fn config_version(&self) -> u64 {
        self.config_version
    }

    /// Decodes and verifies a credential chain at trusted time `now` (`None` while the clock
    /// is untrusted).
    pub fn verify_chain<R: Revocations + ?Sized>(
        &self,
        chain: &[u8],
        now: Option<UnixTime>,
        revocations: &R,
    ) -> Result<Grant> {
        UnverifiedChain::decode(chain)?.verify(&Verifier {
            lock: self.id(),
            owners: self.owners.as_slice(),
            epoch: self.epoch,
            revocations,
            now,
            tz: self.tz,
        })
    }
}

fn add_key<const N: usize>(list: &mut Bounded<PublicKey, N>, key: PublicKey) -> Result<()> {
    key.validate()?;
    if list.as_slice().iter().any(|k| k.ct_eq(&key)) {
        return Ok(());
    }
    list.push(key).map_err(|_| Error::StorageFull)
}

fn remove_key<const N: usize>(list: &mut Bounded<PublicKey, N>, key: &PublicKey) {
    list.retain(|k| !k.ct_eq(key));
}

/// A revoked credential id and when it could be forgotten.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedId {
    /// The revoked id.
    pub id: CredentialId,
    /// After this the credential has expired anyway; `None` keeps the entry for good.
    pub until: Option<UnixTime>,
}

/// Uses consumed under one use-limited link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UseEntry {
    /// The limited link's id.
    pub id: CredentialId,
    /// Uses consumed so far.
    pub used: u16,
    /// When the link expires and the entry may be dropped; `None` keeps it for good.
    pub expires: Option<UnixTime>,
}

/// Head of the lock's receipt chain: the last sequence number and receipt hash.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// Sequence number of the last receipt (0: none yet).
    pub seq: u64,
    /// Hash of the last receipt (all zero before the first).
    #[serde(with = "crate::wire::array")]
    pub hash: [u8; 32],
}

/// Everything a lock persists, written through [`super::Storage`] before any actuation.
///
/// Encoded as a postcard tuple of its fields in declaration order; decoded in place
/// ([`wire::DecodeInPlace`]) so that loading it never needs a second copy on the stack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LockState {
    /// Trust anchors and settings.
    pub enrolment: Enrolment,
    /// Revoked credential ids.
    pub revoked_ids: Bounded<RevokedId, MAX_REVOKED_IDS>,
    /// Revoked delegate and holder keys.
    pub revoked_keys: Bounded<PublicKey, MAX_REVOKED_KEYS>,
    /// Use counts of use-limited links.
    pub uses: Bounded<UseEntry, MAX_USE_ENTRIES>,
    /// Highest trusted time the lock has known: its clock never moves back past it.
    pub high_water: UnixTime,
    /// The receipt chain's head.
    pub receipts: ChainHead,
    /// Receipts not yet known to be carried away, oldest first (signed when sent).
    pub backlog: Bounded<Receipt, MAX_BACKLOG>,
}

impl wire::DecodeInPlace for LockState {
    fn decode_in_place<'de, D: Deserializer<'de>>(
        &mut self,
        d: D,
    ) -> core::result::Result<(), D::Error> {
        struct Fields<'a>(&'a mut LockState);

        impl<'de> Visitor<'de> for Fields<'_> {
            type Value = ();

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a lock state")
            }

            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> core::result::Result<(), A::Error> {
                let missing = || de::Error::invalid_length(0, &"7 fields");
                let s = self.0;
                s.enrolment = seq.next_element()?.ok_or_else(missing)?;
                seq.next_element_seed(InPlace(&mut s.revoked_ids))?
                    .ok_or_else(missing)?;
                seq.next_element_seed(InPlace(&mut s.revoked_keys))?
                    .ok_or_else(missing)?;
                seq.next_element_seed(InPlace(&mut s.uses))?
                    .ok_or_else(missing)?;
                s.high_water = seq.next_element()?.ok_or_else(missing)?;
                s.receipts = seq.next_element()?.ok_or_else(missing)?;
                seq.next_element_seed(InPlace(&mut s.backlog))?
                    .ok_or_else(missing)
            }
        }

        d.deserialize_tuple(7, Fields(self))
    }
}

impl Revocations for LockState {
    fn id_revoked(&self, id: &CredentialId) -> bool {
        self.revoked_ids.as_slice().iter().any(|r| r.id == *id)
    }

    fn key_revoked(&self, key: &PublicKey) -> bool {
        self.revoked_keys.as_slice().iter().any(|k| k.ct_eq(key))
    }
}

impl LockState {
    /// A factory-fresh state for a lock with identity `lock_key`, trusting `owner`.
    pub fn new(lock_key: PublicKey, owner: PublicKey) -> Result<LockState> {
        let mut state = LockState::blank(lock_key);
        state.enrolment.enrol_owner(owner)?;
        Ok(state)
    }

    /// A state with no owner, nothing recorded and empty tables: what a lock holds before it
    /// is installed or has loaded its committed state. Always inlined, so a lock built in
    /// place builds its state in place too.
    #[inline(always)]
    pub fn blank(lock_key: PublicKey) -> LockState {
        LockState {
            enrolment: Enrolment::new(lock_key),
            revoked_ids: Bounded::new(),
            revoked_keys: Bounded::new(),
            uses: Bounded::new(),
            high_water: 0,
            receipts: ChainHead::default(),
            backlog: Bounded::new(),
        }
    }

    /// Appends a receipt for `event` to the chain and the backlog (dropping the oldest
    /// backlog entry when full). Committed with the rest of the state by the caller.
    pub fn record(
        &mut self,
        time: Option<UnixTime>,
        event: Event,
        who: Option<Who>,
        session: Option<[u8; SESSION_ID_LEN]>,
    ) -> Result<()> {
        let seq = self.receipts.seq.checked_add(1).ok_or(Error::StorageFull)?;
        // Every committed event carries the time it was decided at; the clock may never be
        // set back before it (that time also decided which entries could be forgotten).
        if let Some(t) = time {
            self.high_water = self.high_water.max(t);
        }
        let receipt = Receipt {
            seq,
            prev: self.receipts.hash,
            time,
            event,
            who,
            session,
        };
        let hash = receipt.hash(&self.enrolment.id())?;
        if self.backlog.len() == MAX_BACKLOG {
            let mut first = true;
            self.backlog.retain(|_| !core::mem::take(&mut first));
        }
        self.backlog.push(receipt).map_err(|_| Error::StorageFull)?;
        self.receipts = ChainHead { seq, hash };
        Ok(())
    }

    /// Returns this state to [`LockState::blank`] in place, without a second state on the
    /// stack.
    pub fn clear(&mut self, lock_key: PublicKey) {
        self.enrolment = Enrolment::new(lock_key);
        self.revoked_ids.clear();
        self.revoked_keys.clear();
        self.uses.clear();
        self.high_water = 0;
        self.receipts = ChainHead::default();
        self.backlog.clear();
    }

    /// Encodes the state for storage.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize> {
        wire::put(self, out)
    }

    /// Decodes stored state.
    pub fn decode(bytes: &[u8]) -> Result<LockState> {
        let mut state = LockState::blank(PublicKey([0; 32]));
        state.decode_from(bytes)?;
        Ok(state)
    }

    /// Overwrites this state with the stored state in `bytes`, in place. On error the state
    /// is a mix of old and new fields and must be discarded.
    pub fn decode_from(&mut self, bytes: &[u8]) -> Result<()> {
        wire::take_all_into(bytes, self)
    }

    /// Verifies a chain against this state's trust anchors and revocations.
    pub fn verify_chain(&self, chain: &[u8], now: Option<UnixTime>) -> Result<Grant> {
        self.enrolment.verify_chain(chain, now, self)
    }

    /// Counts one use against every limited link of a grant, refusing if any is spent.
    /// Limits naming the same id (a delegate may reuse its parent's id) count once, against
    /// the smallest of their limits. Entries whose link has expired by trusted time `now` are
    /// dropped to make room (none while the clock is untrusted); if there is still none, the
    /// lock fails closed with [`Error::StorageFull`].
    pub fn consume(&mut self, limits: &[UseLimit], now: Option<UnixTime>) -> Result<()> {
        for limit in limits {
            let used = self
                .uses
                .as_slice()
                .iter()
                .find(|e| e.id == limit.id)
                .map_or(0, |e| e.used);
            if used >= limit.uses {
                return Err(Error::UsedUp);
            }
        }
        // Each id once, at its first (outermost) limit: by narrowing, its expiry is the latest.
        let first = |i: usize, l: &UseLimit| !limits.iter().take(i).any(|p| p.id == l.id);
        let missing = limits
            .iter()
            .enumerate()
            .filter(|&(i, l)| first(i, l) && !self.uses.as_slice().iter().any(|e| e.id == l.id))
            .count();
        if self.uses.len() + missing > MAX_USE_ENTRIES {
            self.uses.retain(|e| match (e.expires, now) {
                (Some(end), Some(now)) => end > now,
                _ => true,
            });
            if self.uses.len() + missing > MAX_USE_ENTRIES {
                return Err(Error::StorageFull);
            }
        }
        for (i, limit) in limits.iter().enumerate() {
            if !first(i, limit) {
                continue;
            }
            if let Some(e) = self.uses.iter_mut().find(|e| e.id == limit.id) {
                // Below `limit.uses` (checked above), so this cannot overflow.
                e.used = e.used.checked_add(1).ok_or(Error::UsedUp)?;
                continue;
            }
            let entry = UseEntry {
                id: limit.id,
                used: 1,
                expires: limit.expires,
            };
            self.uses.push(entry).map_err(|_| Error::StorageFull)?;
        }
        Ok(())
    }

    /// Applies a configuration update whose signature the caller has checked against
    /// `update.signer`. Refuses an update that is not newer, not for this lock, or not signed
    /// by an enrolled owner.
    pub fn apply(&mut self, update: &ConfigUpdate, now: Option<UnixTime>) -> Result<()> {
        let e = &mut self.enrolment;
        if update.lock != e.id() || !e.owners.as_slice().iter().any(|o| o.ct_eq(&update.signer)) {
            return Err(Error::NotPermitted);
        }
        if update.version <= e.config_version {
            return Err(Error::Stale);
        }
        match update.change {
            Change::AddOwner(k) => add_key(&mut e.owners, k)?,
            Change::RemoveOwner(k) => {
                if e.owners.len() == 1 && e.owners.as_slice().iter().any(|o| o.ct_eq(&k)) {
                    return Err(Error::NotPermitted);
                }
                remove_key(&mut e.owners, &k);
            }
            Change::RevokeId { id, until } => {
                if !self.revoked_ids.as_slice().iter().any(|r| r.id == id) {
                    if self.revoked_ids.len() == MAX_REVOKED_IDS {
                        let now = now.unwrap_or(self.high_water);
                        self.revoked_ids
                            .retain(|r| r.until.is_none_or(|end| end > now));
                    }
                    self.revoked_ids
                        .push(RevokedId { id, until })
                        .map_err(|_| Error::StorageFull)?;
                }
            }
            Change::RevokeKey(k) => {
                if !self.revoked_keys.as_slice().iter().any(|r| r.ct_eq(&k)) {
                    self.revoked_keys.push(k).map_err(|_| Error::StorageFull)?;
                }
            }
            Change::SetEpoch(epoch) => e.set_epoch(epoch)?,
            Change::SetTimeZone(tz) => e.set_time_zone(tz)?,
            Change::SetChallengeLifetime(secs) => {
                if secs == 0 || secs > MAX_CHALLENGE_LIFETIME {
                    return Err(Error::Malformed);
                }
                e.challenge_lifetime = secs;
            }
            Change::AddTimeKey(k) => add_key(&mut e.time_keys, k)?,
            Change::RemoveTimeKey(k) => remove_key(&mut e.time_keys, &k),
            Change::SetAuditKey(k) => e.set_audit_key(k)?,
        }
        e.config_version = update.version;
        Ok(())
    }
}
