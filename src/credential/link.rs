use crate::Rng;
use crate::crypto::{PublicKey, SubjectKey, hash, labels};
use crate::error::{Error, Result};
use crate::time::{Schedule, TzRule};
use crate::time::{Seconds, UnixTime};
use crate::wire::Bounded;
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
///
/// Built with [`Link::builder`], which validates what it builds; the fields are public to
/// read. (A test can still change a field of a built link to forge one a lock must refuse.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Link {
    /// The key this link grants to: a delegate's issuing key (Ed25519), or the holder's
    /// device key (Ed25519 or P-256; a P-256 subject may not delegate, so it ends a chain).
    pub subject: SubjectKey,
    /// Which locks.
    pub scope: Scope,
    /// What the subject may do.
    pub rights: Rights,
    /// Start of validity (inclusive). [`UnixTime::EPOCH`] with no lifetime = permanent.
    pub not_before: UnixTime,
    /// Validity after `not_before` (end exclusive); `None` never expires.
    pub lifetime: Option<Seconds>,
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
    /// Starts a link granting `rights` to `subject` (a delegate's issuing key or a holder's
    /// device key): by default for the parent's locks, permanent, unscheduled, unlimited, not
    /// further delegable, at epoch 0, bound to no purpose.
    ///
    /// ```
    /// use doorkey::Error;
    /// use doorkey::credential::{Link, LockId, Rights};
    /// use doorkey::crypto::{SecretKey, Signer};
    /// use doorkey::time::{Seconds, UnixTime};
    /// # use chacha20::ChaCha20Rng;
    /// # use rand_core::SeedableRng;
    /// # fn main() -> doorkey::Result<()> {
    /// # let mut rng = ChaCha20Rng::from_seed([7; 32]);
    /// let company = SecretKey::from_seed(&[3; 32]).public_key();
    /// let lock = LockId::of(&SecretKey::from_seed(&[2; 32]).public_key());
    /// let start = UnixTime::from_secs(1_780_315_200); // 2026-06-01 12:00:00 UTC
    ///
    /// let root = Link::builder(company, Rights::UNLOCK.union(Rights::DELEGATE))
    ///     .locks(&[lock])
    ///     .valid_from(start)
    ///     .valid_for(Seconds::from_days(30))
    ///     .depth(1)
    ///     .build(&mut rng)?;
    /// assert_eq!(root.not_after(), Some(start + Seconds::from_days(30)));
    ///
    /// // What a lock would refuse is refused here: an end before the start, no rights.
    /// let backwards = Link::builder(company, Rights::UNLOCK)
    ///     .valid_from(start)
    ///     .valid_until(start - Seconds::from_secs(1))
    ///     .build(&mut rng);
    /// assert_eq!(backwards, Err(Error::Misuse));
    /// let nothing = Link::builder(company, Rights::from_bits(0).ok_or(Error::Misuse)?);
    /// assert_eq!(nothing.build(&mut rng), Err(Error::Misuse));
    /// # Ok(())
    /// # }
    /// ```
    pub fn builder(subject: impl Into<SubjectKey>, rights: Rights) -> LinkBuilder {
        LinkBuilder {
            link: Link::unchecked(subject.into(), rights),
            id: None,
            until: None,
            too_many_locks: false,
        }
    }

    /// The builder's defaults, unvalidated: what a decoded chain's links replace.
    pub(super) const fn unchecked(subject: SubjectKey, rights: Rights) -> Link {
        Link {
            subject,
            scope: Scope::Inherit,
            rights,
            not_before: UnixTime::EPOCH,
            lifetime: None,
            schedule: None,
            uses: None,
            depth: 0,
            id: CredentialId([0; 16]),
            epoch: 0,
            purpose: None,
        }
    }

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
        self.lifetime.map(|l| self.not_before + l)
    }

    /// Whether the lock needs a trusted clock to evaluate this link.
    pub fn is_time_bounded(&self) -> bool {
        self.not_before != UnixTime::EPOCH || self.lifetime.is_some() || self.schedule.is_some()
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
        // Only an Ed25519 subject may sign a further link (PROTOCOL 5.3).
        let depth_ok = self.depth == 0 || matches!(self.subject, SubjectKey::Ed25519(_));
        if !rights_ok
            || !scope_ok
            || !depth_ok
            || self.lifetime == Some(Seconds::ZERO)
            || self.uses == Some(0)
        {
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

/// Builds a [`Link`] that a lock could accept: see [`Link::builder`]. Every setter can be
/// called in any order; [`LinkBuilder::build`] checks the whole.
#[derive(Clone, Copy, Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct LinkBuilder {
    link: Link,
    id: Option<CredentialId>,
    until: Option<UnixTime>,
    too_many_locks: bool,
}

impl LinkBuilder {
    /// Names the locks explicitly (required on an owner's root link; at most
    /// [`MAX_LOCKS`](super::MAX_LOCKS), no duplicates). Without it the link covers its
    /// parent's locks.
    pub fn locks(mut self, locks: &[LockId]) -> LinkBuilder {
        match Bounded::from_slice(locks) {
            Some(list) => self.link.scope = Scope::Locks(list),
            None => self.link.scope = Scope::Inherit,
        }
        self.too_many_locks = self.link.scope == Scope::Inherit;
        self
    }

    /// Valid from `start` (inclusive). Default: the epoch, that is, from any time.
    pub fn valid_from(mut self, start: UnixTime) -> LinkBuilder {
        self.link.not_before = start;
        self
    }

    /// Valid for `lifetime` after the start (end exclusive). Replaces [`Self::valid_until`].
    pub fn valid_for(mut self, lifetime: Seconds) -> LinkBuilder {
        self.link.lifetime = Some(lifetime);
        self.until = None;
        self
    }

    /// Valid until `end` (exclusive), which must be after the start. Replaces
    /// [`Self::valid_for`].
    pub fn valid_until(mut self, end: UnixTime) -> LinkBuilder {
        self.until = Some(end);
        self.link.lifetime = None;
        self
    }

    /// Only within these weekly windows of the lock's local time.
    pub fn schedule(mut self, schedule: Schedule) -> LinkBuilder {
        self.link.schedule = Some(schedule);
        self
    }

    /// At most `uses` openings in all (at least 1).
    pub fn uses(mut self, uses: u16) -> LinkBuilder {
        self.link.uses = Some(uses);
        self
    }

    /// How many further links may follow (0, the default, for a holder's leaf). A subject
    /// that delegates also needs [`Rights::DELEGATE`].
    pub fn depth(mut self, depth: u8) -> LinkBuilder {
        self.link.depth = depth;
        self
    }

    /// The owner's revocation epoch this link is issued under (default 0); a link's epoch
    /// must equal its parent's.
    pub fn epoch(mut self, epoch: u32) -> LinkBuilder {
        self.link.epoch = epoch;
        self
    }

    /// Binds the link to a purpose, such as [`purpose_of`](crate::server::purpose_of) an
    /// order id.
    pub fn purpose(mut self, purpose: [u8; 32]) -> LinkBuilder {
        self.link.purpose = Some(purpose);
        self
    }

    /// Uses `id` instead of a random one: for reproducible test vectors, or an id the
    /// issuer has already recorded.
    pub fn id(mut self, id: CredentialId) -> LinkBuilder {
        self.id = Some(id);
        self
    }

    /// The link, with a fresh random id from `rng` unless [`Self::id`] gave one. Refused
    /// with [`Error::Misuse`] if a lock would refuse the link on its own: no or unknown
    /// rights, a zero lifetime or use count, an end not after the start, too many or
    /// duplicate locks, an invalid schedule, a depth above 0 for a P-256 subject; with
    /// [`Error::WeakKey`] for a subject key a lock would refuse (and
    /// [`Error::UnsupportedAlgorithm`] for a P-256 one without the `p256` feature).
    pub fn build<R: Rng + ?Sized>(self, rng: &mut R) -> Result<Link> {
        let mut link = self.link;
        if let Some(end) = self.until {
            link.lifetime = Some(end.since(link.not_before).ok_or(Error::Misuse)?);
        }
        if self.too_many_locks {
            return Err(Error::Misuse);
        }
        link.validate().map_err(|_| Error::Misuse)?;
        link.subject.validate()?;
        link.id = match self.id {
            Some(id) => id,
            None => CredentialId::random(rng),
        };
        Ok(link)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{SecretKey, Signer};
    use crate::time::WeeklyWindow;
    use chacha20::ChaCha20Rng;
    use rand_core::SeedableRng;

    const T0: UnixTime = UnixTime::from_secs(1_780_315_200);

    fn subject() -> PublicKey {
        SecretKey::from_seed(&[4; 32]).public_key()
    }

    fn lock(i: u8) -> LockId {
        LockId([i; 16])
    }

    #[test]
    fn the_builder_defaults_are_a_permanent_unscheduled_leaf_for_the_parents_locks() {
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let link = Link::builder(subject(), Rights::UNLOCK)
            .build(&mut rng)
            .unwrap();
        assert_eq!(link.subject, subject());
        assert_eq!(link.rights, Rights::UNLOCK);
        assert_eq!(link.scope, Scope::Inherit);
        assert_eq!((link.not_before, link.lifetime), (UnixTime::EPOCH, None));
        assert!(!link.is_time_bounded());
        assert_eq!((link.schedule, link.uses, link.purpose), (None, None, None));
        assert_eq!((link.depth, link.epoch), (0, 0));
        // The id is drawn from the generator, as `CredentialId::random` would draw it.
        let mut same = ChaCha20Rng::from_seed([1; 32]);
        assert_eq!(link.id, CredentialId::random(&mut same));
        let again = Link::builder(subject(), Rights::UNLOCK)
            .build(&mut rng)
            .unwrap();
        assert_ne!(again.id, link.id);
    }

    #[test]
    fn every_setter_lands_in_its_field() {
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let window = WeeklyWindow::new(WeeklyWindow::WEEKDAYS, 9 * 60, 60).unwrap();
        let schedule = Schedule::new(&[window], &[]).unwrap();
        let id = CredentialId([9; 16]);
        let link = Link::builder(subject(), Rights::UNLOCK.union(Rights::DELEGATE))
            .locks(&[lock(1), lock(2)])
            .valid_from(T0)
            .valid_for(Seconds::from_hours(1))
            .schedule(schedule)
            .uses(3)
            .depth(2)
            .epoch(7)
            .purpose([5; 32])
            .id(id)
            .build(&mut rng)
            .unwrap();
        let Scope::Locks(locks) = link.scope else {
            panic!("explicit scope expected");
        };
        assert_eq!(locks.as_slice(), [lock(1), lock(2)]);
        assert_eq!(link.not_before, T0);
        assert_eq!(link.not_after(), Some(T0 + Seconds::from_hours(1)));
        assert_eq!(link.schedule, Some(schedule));
        assert_eq!((link.uses, link.depth, link.epoch), (Some(3), 2, 7));
        assert_eq!((link.purpose, link.id), (Some([5; 32]), id));
    }

    #[test]
    fn an_end_instead_of_a_lifetime_gives_the_same_link_and_the_last_call_wins() {
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let base = Link::builder(subject(), Rights::UNLOCK)
            .valid_from(T0)
            .id(CredentialId([1; 16]));
        let by_end = base.valid_until(T0 + Seconds::from_mins(10));
        let by_length = base.valid_for(Seconds::from_mins(10));
        assert_eq!(by_end.build(&mut rng), by_length.build(&mut rng));
        let overridden = by_end
            .valid_for(Seconds::from_mins(5))
            .build(&mut rng)
            .unwrap();
        assert_eq!(overridden.lifetime, Some(Seconds::from_mins(5)));
        let overridden = by_length.valid_until(T0 + Seconds::from_mins(5));
        assert_eq!(
            overridden.build(&mut rng).unwrap().lifetime,
            Some(Seconds::from_mins(5))
        );
    }

    #[test]
    fn the_builder_refuses_what_a_lock_would_refuse() {
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        let ok = || Link::builder(subject(), Rights::UNLOCK).valid_from(T0);
        assert!(ok().build(&mut rng).is_ok());
        let refused = [
            ("end at the start", ok().valid_until(T0)),
            (
                "end before the start",
                ok().valid_until(T0 - Seconds::from_secs(1)),
            ),
            ("zero lifetime", ok().valid_for(Seconds::ZERO)),
            ("zero uses", ok().uses(0)),
            ("no rights", Link::builder(subject(), Rights::default())),
            ("duplicate locks", ok().locks(&[lock(1), lock(1)])),
            ("no locks", ok().locks(&[])),
            (
                "too many locks",
                ok().locks(&[lock(1), lock(2), lock(3), lock(4), lock(5)]),
            ),
        ];
        for (what, builder) in refused {
            assert_eq!(builder.build(&mut rng), Err(Error::Misuse), "{what}");
        }
        // As with every setter, the last call wins.
        let later = ok()
            .locks(&[lock(1), lock(2), lock(3), lock(4), lock(5)])
            .locks(&[lock(1)]);
        assert!(later.build(&mut rng).is_ok());
        // Four locks is the limit, not over it.
        let four = ok().locks(&[lock(1), lock(2), lock(3), lock(4)]);
        assert!(four.build(&mut rng).is_ok());
        // A small-order subject key is refused as such.
        let weak = PublicKey([0; 32]);
        let built = Link::builder(weak, Rights::UNLOCK).build(&mut rng);
        assert_eq!(built, Err(Error::WeakKey));
    }
}
