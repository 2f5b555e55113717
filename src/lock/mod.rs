//! The lock role: firmware on a microcontroller. Everything here builds with no features and
//! no heap.

use crate::credential::{Grant, LockId, Revocations, UnverifiedChain, Verifier};
use crate::crypto::{PublicKey, SecretKey, Signer};
use crate::error::{Error, Result};
use crate::time::TzRule;
use crate::wire::{Bounded, UnixTime};

/// Most owner keys one lock can have enrolled.
pub const MAX_OWNERS: usize = 4;

/// A lock's identity and the owners it trusts: the trust anchors every credential is
/// checked against.
pub struct Enrolment {
    key: SecretKey,
    id: LockId,
    owners: Bounded<PublicKey, MAX_OWNERS>,
    epoch: u32,
    tz: TzRule,
}

impl Enrolment {
    /// A lock with identity `key` and no owners yet.
    pub fn new(key: SecretKey) -> Enrolment {
        let id = LockId::of(&key.public_key());
        Enrolment {
            key,
            id,
            owners: Bounded::new(),
            epoch: 0,
            tz: TzRule::UTC,
        }
    }

    /// This lock's id, as credentials name it.
    pub fn id(&self) -> LockId {
        self.id
    }

    /// This lock's public key.
    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    /// Enrols an owner key, refusing weak, non-canonical or torsioned keys and a full list.
    /// Enrolling a key twice is a no-op.
    pub fn enrol_owner(&mut self, owner: PublicKey) -> Result<()> {
        owner.validate()?;
        if self.owners.as_slice().iter().any(|o| o.ct_eq(&owner)) {
            return Ok(());
        }
        self.owners.push(owner).map_err(|_| Error::StorageFull)
    }

    /// The enrolled owner keys.
    pub fn owners(&self) -> &[PublicKey] {
        self.owners.as_slice()
    }

    /// Sets the time-zone rule schedules are evaluated in.
    pub fn set_time_zone(&mut self, tz: TzRule) -> Result<()> {
        tz.validate()?;
        self.tz = tz;
        Ok(())
    }

    /// Raises the revocation epoch: every link issued with a lower epoch is refused.
    pub fn set_epoch(&mut self, epoch: u32) -> Result<()> {
        if epoch < self.epoch {
            return Err(Error::Stale);
        }
        self.epoch = epoch;
        Ok(())
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
            lock: self.id,
            owners: self.owners.as_slice(),
            epoch: self.epoch,
            revocations,
            now,
            tz: self.tz,
        })
    }
}
