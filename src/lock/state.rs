//! What a lock must remember across reboots, and the bounded tables inside it.

use crate::config::{Change, ConfigUpdate, Forget};
use crate::credential::{
    CredentialId, Grant, LockId, Revocations, UnverifiedChain, UseLimit, Verifier,
};
use crate::crypto::PublicKey;
use crate::error::{Error, Result};
use crate::receipt::{Event, Receipt, SESSION_ID_LEN, Who};
use crate::session::{DEFAULT_CHALLENGE_LIFETIME, MAX_CHALLENGE_LIFETIME};
use crate::time::TzRule;
use crate::time::{Seconds, UnixTime};
use crate::wire::{self, Bounded, InPlace, SeedInto};
use core::fmt;
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
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
/// The widest valid state encodes to 3,292 bytes (every table full, every varint at its
/// longest; `tests/state.rs` builds it).
pub const MAX_STATE_BYTES: usize = 3328;
/// Layout version of the state this build writes; [`LockState::decode_from`] also reads
/// every earlier one, so a lock keeps its state across a firmware update.
pub const STATE_VERSION: u8 = 1;
/// First bytes of a versioned state image; an image without them is version 0 (written
/// before the state had a version).
const STATE_MAGIC: [u8; 4] = *b"DKST";
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

    /// Whether `key` is an enrolled owner key. Out of line: every signed update and anchor
    /// asks for it.
    #[inline(never)]
    pub fn is_owner(&self, key: &PublicKey) -> bool {
        listed(self.owners.as_slice(), key)
    }

    /// Keys whose time anchors the lock accepts: owners and enrolled time keys.
    pub fn is_time_authority(&self, key: &PublicKey) -> bool {
        self.is_owner(key) || listed(self.time_keys.as_slice(), key)
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

    /// How long a challenge stays answerable.
    pub fn challenge_lifetime(&self) -> Seconds {
        Seconds::from_secs(u64::from(self.challenge_lifetime))
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
        self.check_chain(chain, None, now, revocations)
    }

    /// Decodes `chain` and verifies it in full; or, given the `owner` whose signature an
    /// earlier verification found on its root and how many leading links that verification
    /// covered, verifies only the signatures after them (none when it covered them all) and
    /// checks every rule, with [`Error::UnknownOwner`] once `owner` is no longer enrolled.
    /// One body for all, so the lock carries one copy of the decoding and the verifier.
    pub(crate) fn check_chain<R: Revocations + ?Sized>(
        &self,
        chain: &[u8],
        verified: Option<(&PublicKey, usize)>,
        now: Option<UnixTime>,
        revocations: &R,
    ) -> Result<Grant> {
        let chain = UnverifiedChain::decode(chain)?;
        let v = Verifier {
            lock: self.id(),
            owners: self.owners.as_slice(),
            epoch: self.epoch,
            revocations,
            now,
            tz: self.tz,
        };
        match verified {
            None => chain.verify(&v),
            Some((owner, links)) if self.is_owner(owner) => chain.verify_after(&v, *owner, links),
            Some(_) => Err(Error::UnknownOwner),
        }
    }
}

/// Whether `key` is in `list` (compared in constant time). Out of line: every trust decision
/// shares this one loop.
#[inline(never)]
fn listed(list: &[PublicKey], key: &PublicKey) -> bool {
    list.iter().any(|k| k.ct_eq(key))
}

fn add_key<const N: usize>(list: &mut Bounded<PublicKey, N>, key: PublicKey) -> Result<()> {
    key.validate()?;
    if listed(list.as_slice(), &key) {
        return Ok(());
    }
    list.push(key).map_err(|_| Error::StorageFull)
}

fn remove_key<const N: usize>(list: &mut Bounded<PublicKey, N>, key: &PublicKey) {
    list.retain(|k| !k.ct_eq(key));
}

/// A revoked credential id and when it could be forgotten.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct RevokedId {
    /// The revoked id.
    pub id: CredentialId,
    /// After this the credential has expired anyway; `None` keeps the entry for good.
    pub until: Option<UnixTime>,
}

/// A revoked delegate or holder key and when it could be forgotten.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct RevokedKey {
    /// The revoked key.
    pub key: PublicKey,
    /// After this every link to or from the key has expired anyway; `None` keeps the entry
    /// for good.
    pub until: Option<UnixTime>,
}

/// Uses consumed under the use-limited links that share one credential id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct UseEntry {
    /// The limited links' id.
    pub id: CredentialId,
    /// Uses consumed so far.
    pub used: u16,
    /// The latest expiry of any link counted under the id, after which the entry may be
    /// dropped; `None` (a permanent link was counted) keeps it for good.
    pub expires: Option<UnixTime>,
    /// The highest epoch of any link counted under the id: once the lock's epoch is above
    /// it, every such link is refused and the entry may be dropped.
    pub epoch: u32,
}

/// An [`Enrolment`] as state `version` stored it: version 0 had no audit key. One decoder for
/// every version.
#[derive(Clone, Copy)]
struct EnrolmentIn(u8);

/// The audit key field, decoded as [`Enrolment`] encodes it.
#[derive(Deserialize)]
#[serde(transparent)]
struct AuditKey(#[serde(with = "crate::wire::array::option")] Option<[u8; 32]>);

impl<'de> DeserializeSeed<'de> for EnrolmentIn {
    type Value = Enrolment;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> core::result::Result<Enrolment, D::Error> {
        d.deserialize_tuple(if self.0 == 0 { 7 } else { 8 }, self)
    }
}

impl<'de> Visitor<'de> for EnrolmentIn {
    type Value = Enrolment;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an enrolment")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> core::result::Result<Enrolment, A::Error> {
        let missing = || de::Error::invalid_length(0, &self);
        Ok(Enrolment {
            key: seq.next_element()?.ok_or_else(missing)?,
            owners: seq.next_element()?.ok_or_else(missing)?,
            time_keys: seq.next_element()?.ok_or_else(missing)?,
            epoch: seq.next_element()?.ok_or_else(missing)?,
            tz: seq.next_element()?.ok_or_else(missing)?,
            challenge_lifetime: seq.next_element()?.ok_or_else(missing)?,
            config_version: seq.next_element()?.ok_or_else(missing)?,
            audit_key: match self.0 {
                0 => None,
                _ => seq.next_element::<AuditKey>()?.ok_or_else(missing)?.0,
            },
        })
    }
}

/// The later of two expiries, `None` (never) being the latest.
fn later(a: Option<UnixTime>, b: Option<UnixTime>) -> Option<UnixTime> {
    a.zip(b).map(|(a, b)| a.max(b))
}

/// Head of the lock's receipt chain: the last sequence number and receipt hash.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct ChainHead {
    /// Sequence number of the last receipt (0: none yet).
    pub seq: u64,
    /// Hash of the last receipt (all zero before the first).
    #[serde(with = "crate::wire::array")]
    pub hash: [u8; 32],
}

/// Everything a lock persists, written through [`super::Storage`] before any actuation.
///
/// Stored as `"DKST"`, the [`STATE_VERSION`] byte, then a postcard tuple of its fields
/// in declaration order; decoded in place ([`LockState::decode_from`]) so that loading it never
/// needs a second copy on the stack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LockState {
    /// Trust anchors and settings.
    pub enrolment: Enrolment,
    /// Revoked credential ids.
    pub revoked_ids: Bounded<RevokedId, MAX_REVOKED_IDS>,
    /// Revoked delegate and holder keys.
    pub revoked_keys: Bounded<RevokedKey, MAX_REVOKED_KEYS>,
    /// Use counts of use-limited links.
    pub uses: Bounded<UseEntry, MAX_USE_ENTRIES>,
    /// Highest trusted time the lock has known: its clock never moves back past it, unless an
    /// owner resets it ([`Change::ResetClock`]).
    pub high_water: UnixTime,
    /// The receipt chain's head.
    pub receipts: ChainHead,
    /// Receipts not yet known to be carried away, oldest first (signed when sent).
    pub backlog: Bounded<Receipt, MAX_BACKLOG>,
    /// The lock booted from a state older than one it had committed: grants with a use limit
    /// or an expiry are refused until an owner confirms ([`Change::ConfirmState`]).
    /// Added in state version 1.
    pub recovery: bool,
}

/// [`LockState`] being decoded from the layout of state `version`: each field that a later
/// version added or changed is read according to `version` and migrated to the current
/// form, so a layout change adds one step here.
struct Layout<'a> {
    state: &'a mut LockState,
    version: u8,
}

impl wire::DecodeInPlace for Layout<'_> {
    fn decode_in_place<'de, D: Deserializer<'de>>(
        &mut self,
        d: D,
    ) -> core::result::Result<(), D::Error> {
        struct Fields<'a, 'b>(&'a mut Layout<'b>);

        impl<'de> Visitor<'de> for Fields<'_, '_> {
            type Value = ();

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a lock state")
            }

            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> core::result::Result<(), A::Error> {
                let missing = || de::Error::invalid_length(0, &"every field of its version");
                let version = self.0.version;
                let s = &mut *self.0.state;
                s.enrolment = seq
                    .next_element_seed(EnrolmentIn(version))?
                    .ok_or_else(missing)?;
                seq.next_element_seed(InPlace(&mut s.revoked_ids))?
                    .ok_or_else(missing)?;
                seq.next_element_seed(SeedInto::new(&mut s.revoked_keys, RevokedKeyIn(version)))?
                    .ok_or_else(missing)?;
                seq.next_element_seed(SeedInto::new(&mut s.uses, UseEntryIn(version)))?
                    .ok_or_else(missing)?;
                s.high_water = seq.next_element()?.ok_or_else(missing)?;
                s.receipts = seq.next_element()?.ok_or_else(missing)?;
                seq.next_element_seed(InPlace(&mut s.backlog))?
                    .ok_or_else(missing)?;
                // Version 1 added the recovery flag; version 0 never recorded a rollback.
                s.recovery = match version {
                    0 => false,
                    _ => seq.next_element()?.ok_or_else(missing)?,
                };
                Ok(())
            }
        }

        let fields = if self.version == 0 { 7 } else { 8 };
        d.deserialize_tuple(fields, Fields(self))
    }
}

/// A [`RevokedKey`] as state `version` stored it: version 0 kept a bare key, revoked for good.
/// One element decoder for every version, so each table has one list decoder.
#[derive(Clone, Copy)]
struct RevokedKeyIn(u8);

impl<'de> DeserializeSeed<'de> for RevokedKeyIn {
    type Value = RevokedKey;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> core::result::Result<RevokedKey, D::Error> {
        d.deserialize_tuple(if self.0 == 0 { 1 } else { 2 }, self)
    }
}

impl<'de> Visitor<'de> for RevokedKeyIn {
    type Value = RevokedKey;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a revoked key")
    }

    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> core::result::Result<RevokedKey, A::Error> {
        let missing = || de::Error::invalid_length(0, &self);
        let key = seq.next_element()?.ok_or_else(missing)?;
        let until = match self.0 {
            0 => None,
            _ => seq.next_element()?.ok_or_else(missing)?,
        };
        Ok(RevokedKey { key, until })
    }
}

/// A [`UseEntry`] as state `version` stored it. Version 0 had no epoch, and a link it counted
/// may carry an epoch above the lock's (issued before its `SetEpoch` arrived), so the entry
/// takes the highest epoch: no bump releases it, only its expiry or an owner's `Forget`, as
/// version 0 would have kept it.
#[derive(Clone, Copy)]
struct UseEntryIn(u8);

impl<'de> DeserializeSeed<'de> for UseEntryIn {
    type Value = UseEntry;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> core::result::Result<UseEntry, D::Error> {
        d.deserialize_tuple(if self.0 == 0 { 3 } else { 4 }, self)
    }
}

impl<'de> Visitor<'de> for UseEntryIn {
    type Value = UseEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a use entry")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> core::result::Result<UseEntry, A::Error> {
        let missing = || de::Error::invalid_length(0, &self);
        let id = seq.next_element()?.ok_or_else(missing)?;
        let used = seq.next_element()?.ok_or_else(missing)?;
        let expires = seq.next_element()?.ok_or_else(missing)?;
        let epoch = match self.0 {
            0 => u32::MAX,
            _ => seq.next_element()?.ok_or_else(missing)?,
        };
        Ok(UseEntry {
            id,
            used,
            expires,
            epoch,
        })
    }
}

impl Revocations for LockState {
    fn id_revoked(&self, id: &CredentialId) -> bool {
        self.revoked_ids.as_slice().iter().any(|r| r.id == *id)
    }

    // Out of line: asked by every chain walk and every signed update.
    #[inline(never)]
    fn key_revoked(&self, key: &PublicKey) -> bool {
        self.revoked_keys
            .as_slice()
            .iter()
            .any(|r| r.key.ct_eq(key))
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
            high_water: UnixTime::EPOCH,
            receipts: ChainHead::default(),
            backlog: Bounded::new(),
            recovery: false,
        }
    }

    /// Appends a receipt for `event` to the chain and the backlog (dropping the oldest
    /// backlog entry when full). Committed with the rest of the state by the caller.
    pub(crate) fn record(
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
    pub(crate) fn clear(&mut self, lock_key: PublicKey) {
        self.enrolment = Enrolment::new(lock_key);
        self.revoked_ids.clear();
        self.revoked_keys.clear();
        self.uses.clear();
        self.high_water = UnixTime::EPOCH;
        self.receipts = ChainHead::default();
        self.backlog.clear();
        self.recovery = false;
    }

    /// Encodes the state for storage, in the layout of [`STATE_VERSION`].
    pub fn encode(&self, out: &mut [u8]) -> Result<usize> {
        let (magic, rest) = out
            .split_first_chunk_mut::<4>()
            .ok_or(Error::BufferTooSmall)?;
        *magic = STATE_MAGIC;
        let (version, body) = rest.split_first_mut().ok_or(Error::BufferTooSmall)?;
        *version = STATE_VERSION;
        Ok(STATE_MAGIC.len() + 1 + wire::put(self, body)?)
    }

    /// Decodes stored state.
    pub fn decode(bytes: &[u8]) -> Result<LockState> {
        let mut state = LockState::blank(PublicKey([0; 32]));
        state.decode_from(bytes)?;
        Ok(state)
    }

    /// Overwrites this state with the stored state in `bytes`, in place, migrating it from
    /// any earlier layout version. On error the state is a mix of old and new fields and must
    /// be discarded.
    pub fn decode_from(&mut self, bytes: &[u8]) -> Result<()> {
        let versioned = match bytes.split_first_chunk::<4>() {
            Some((magic, rest)) if *magic == STATE_MAGIC => rest.split_first(),
            _ => None,
        };
        let Some((&version, body)) = versioned else {
            return self.decode_layout(0, bytes);
        };
        let result = match version {
            1..=STATE_VERSION => self.decode_layout(version, body),
            _ => Err(Error::UnsupportedVersion),
        };
        // A version-0 image starts with the lock's public key, which may start with the magic
        // (one lock in 2^32): read it as version 0 if it is not a versioned image.
        result.or_else(|e| self.decode_layout(0, bytes).map_err(|_| e))
    }

    fn decode_layout(&mut self, version: u8, body: &[u8]) -> Result<()> {
        wire::take_all_into(
            body,
            &mut Layout {
                state: self,
                version,
            },
        )
    }

    /// Verifies a chain against this state's trust anchors and revocations.
    pub fn verify_chain(&self, chain: &[u8], now: Option<UnixTime>) -> Result<Grant> {
        self.enrolment.verify_chain(chain, now, self)
    }

    /// Checks, against this state, a chain whose first `verified` links were verified
    /// earlier as signed by `owner` and its delegates: the signatures after them (none once
    /// the whole chain was), then every rule, as [`LockState::verify_chain`] does.
    pub(crate) fn recheck_chain(
        &self,
        chain: &[u8],
        owner: &PublicKey,
        verified: usize,
        now: Option<UnixTime>,
    ) -> Result<Grant> {
        self.enrolment
            .check_chain(chain, Some((owner, verified)), now, self)
    }

    /// Forgets every entry that can no longer matter at trusted time `now` (the high-water
    /// mark while the clock is untrusted; the clock never reads earlier): use counts and
    /// revocations whose links have all expired, and use counts whose links an epoch bump has
    /// made unusable. A revoked key that is an enrolled owner or time key is kept.
    pub(crate) fn reclaim(&mut self, now: Option<UnixTime>) {
        let now = now.unwrap_or(self.high_water);
        let live = |end: Option<UnixTime>| end.is_none_or(|end| end > now);
        let e = &self.enrolment;
        self.uses.retain(|u| u.epoch >= e.epoch && live(u.expires));
        self.revoked_ids.retain(|r| live(r.until));
        let enrolled = |k: &PublicKey| {
            e.owners
                .as_slice()
                .iter()
                .chain(e.time_keys.as_slice())
                .any(|o| o.ct_eq(k))
        };
        self.revoked_keys
            .retain(|r| live(r.until) || enrolled(&r.key));
    }

    /// Counts one use against every limited link of a grant, refusing if any is spent.
    /// Limits naming the same id (a delegate may reuse an id) share one counter, held below
    /// the smallest of their limits; its entry lives as long as the latest of them and is
    /// never shortened by a later one. Entries that can no longer matter are forgotten first
    /// ([`LockState::reclaim`]); if there is still no room, the lock fails closed with
    /// [`Error::StorageFull`], counting nothing.
    pub(crate) fn consume(&mut self, limits: &[UseLimit], now: Option<UnixTime>) -> Result<()> {
        self.reclaim(now);
        let entry = |id: &CredentialId| self.uses.as_slice().iter().find(|e| e.id == *id);
        for limit in limits {
            if entry(&limit.id).map_or(0, |e| e.used) >= limit.uses {
                return Err(Error::UsedUp);
            }
        }
        let first = |i: usize, l: &UseLimit| !limits.iter().take(i).any(|p| p.id == l.id);
        let missing = limits
            .iter()
            .enumerate()
            .filter(|&(i, l)| first(i, l) && entry(&l.id).is_none())
            .count();
        if self.uses.len() + missing > MAX_USE_ENTRIES {
            return Err(Error::StorageFull);
        }
        for (i, limit) in limits.iter().enumerate() {
            if !first(i, limit) {
                continue;
            }
            // Every limit naming the id: the entry outlives the latest of them.
            let (expires, epoch) = limits
                .iter()
                .filter(|l| l.id == limit.id)
                .fold((limit.expires, limit.epoch), |(x, e), l| {
                    (later(x, l.expires), e.max(l.epoch))
                });
            if let Some(e) = self.uses.iter_mut().find(|e| e.id == limit.id) {
                // Below `limit.uses` (checked above), so this cannot overflow.
                e.used = e.used.checked_add(1).ok_or(Error::UsedUp)?;
                e.expires = later(e.expires, expires);
                e.epoch = e.epoch.max(epoch);
                continue;
            }
            let entry = UseEntry {
                id: limit.id,
                used: 1,
                expires,
                epoch,
            };
            self.uses.push(entry).map_err(|_| Error::StorageFull)?;
        }
        Ok(())
    }

    /// Applies a configuration update whose signature the caller has checked against
    /// `update.signer`. Refuses an update that is not newer, not for this lock, not signed by
    /// an enrolled owner, or signed by a revoked key; and a change that would leave no
    /// enrolled owner key unrevoked, so the lock always has an owner who can administer it.
    pub(crate) fn apply(&mut self, update: &ConfigUpdate, now: Option<UnixTime>) -> Result<()> {
        let revoked = |k: &PublicKey| self.key_revoked(k);
        let e = &self.enrolment;
        if update.lock != e.id() || !e.is_owner(&update.signer) {
            return Err(Error::NotPermitted);
        }
        if revoked(&update.signer) {
            return Err(Error::Revoked);
        }
        if update.version <= e.config_version {
            return Err(Error::Stale);
        }
        if let Change::RemoveOwner(gone)
        | Change::RevokeKey(gone)
        | Change::RevokeKeyUntil { key: gone, .. } = update.change
            && !e
                .owners
                .as_slice()
                .iter()
                .any(|o| !o.ct_eq(&gone) && !revoked(o))
        {
            return Err(Error::NotPermitted);
        }
        self.reclaim(now);
        let e = &mut self.enrolment;
        match update.change {
            Change::AddOwner(k) => add_key(&mut e.owners, k)?,
            Change::RemoveOwner(k) => remove_key(&mut e.owners, &k),
            Change::RevokeId { id, until } => self.revoke_id(id, until)?,
            Change::RevokeKey(key) => self.revoke_key(key, None)?,
            Change::SetEpoch(epoch) => {
                e.set_epoch(epoch)?;
                self.reclaim(now);
            }
            Change::SetTimeZone(tz) => e.set_time_zone(tz)?,
            Change::SetChallengeLifetime(secs) => {
                if secs == 0 || secs > MAX_CHALLENGE_LIFETIME {
                    return Err(Error::Malformed);
                }
                e.challenge_lifetime = secs;
            }
            Change::AddTimeKey(k) => add_key(&mut e.time_keys, k)?,
            Change::RemoveTimeKey(k) => remove_key(&mut e.time_keys, &k),
            Change::ConfirmState => self.recovery = false,
            Change::FactoryReset(owner) => {
                owner.validate()?;
                e.owners.clear();
                add_key(&mut e.owners, owner)?;
                e.time_keys.clear();
                e.tz = TzRule::UTC;
                e.challenge_lifetime = DEFAULT_CHALLENGE_LIFETIME;
                self.revoked_ids.clear();
                self.revoked_keys.clear();
                self.uses.clear();
                self.recovery = false;
            }
            Change::ResetClock(t) => self.high_water = t,
            Change::RevokeKeyUntil { key, until } => self.revoke_key(key, until)?,
            Change::Forget(Forget::Uses(id)) => self.uses.retain(|u| u.id != id),
            Change::Forget(Forget::RevokedId(id)) => self.revoked_ids.retain(|r| r.id != id),
            Change::Forget(Forget::RevokedKey(k)) => self.revoked_keys.retain(|r| !r.key.ct_eq(&k)),
            Change::SetAuditKey(k) => e.set_audit_key(k)?,
        }
        self.enrolment.config_version = update.version;
        Ok(())
    }

    /// Adds `id` to the revoked ids until `until`, or raises the `until` of its entry.
    fn revoke_id(&mut self, id: CredentialId, until: Option<UnixTime>) -> Result<()> {
        if let Some(r) = self.revoked_ids.iter_mut().find(|r| r.id == id) {
            r.until = later(r.until, until);
            return Ok(());
        }
        let entry = RevokedId { id, until };
        self.revoked_ids.push(entry).map_err(|_| Error::StorageFull)
    }

    /// Adds `key` to the revoked keys until `until`, or raises the `until` of its entry.
    fn revoke_key(&mut self, key: PublicKey, until: Option<UnixTime>) -> Result<()> {
        if let Some(r) = self.revoked_keys.iter_mut().find(|r| r.key.ct_eq(&key)) {
            r.until = later(r.until, until);
            return Ok(());
        }
        let entry = RevokedKey { key, until };
        self.revoked_keys
            .push(entry)
            .map_err(|_| Error::StorageFull)
    }
}

#[cfg(test)]
mod tests;
