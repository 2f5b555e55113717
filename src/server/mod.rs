//! The server role: the owner's cloud or a service company's backend. Delegation,
//! just-in-time issuance, the receipt log and the owner's timeline. Needs the `alloc` feature.

mod log;
mod timeline;

pub use log::{Finding, LogStore, MemoryLog, ReceiptLog, Stored};
pub use timeline::{Alert, Visit, timeline};

use crate::Rng;
use crate::credential::{Chain, CredentialId, Link, LockId, Rights, Scope};
use crate::crypto::{PublicKey, Signer, hash, labels};
use crate::error::{Error, Result};
use crate::wire::{Bounded, UnixTime};

/// Seconds a freshly minted grant starts before the server's `now`, so a lock whose clock
/// runs slightly behind still accepts it.
pub const CLOCK_SKEW_ALLOWANCE: u64 = 60;

/// The purpose binding for an order or package id: SHA-512/256-truncated under a label, so a
/// receipt can later be matched to the order without revealing it.
pub fn purpose_of(order_id: &[u8]) -> [u8; 32] {
    hash(&[labels::PURPOSE, order_id])
}

/// A delivery the service has scheduled: the only thing a courier's grant is minted for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery<'a> {
    /// The order or package id the courier scanned.
    pub order_id: &'a [u8],
    /// The lock at the delivery address.
    pub lock: LockId,
    /// Start of the booked delivery slot (UTC seconds).
    pub slot_start: UnixTime,
    /// End of the booked slot (exclusive).
    pub slot_end: UnixTime,
}

/// A delegate (company, depot) that holds a chain ending at its own key and issues further.
pub struct Issuer<S: Signer> {
    signer: S,
    chain: Chain,
}

/// Shows the issuing key and its chain; the signer itself never.
impl<S: Signer> core::fmt::Debug for Issuer<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Issuer")
            .field("key", &self.signer.public_key())
            .field("chain", &self.chain)
            .finish()
    }
}

impl<S: Signer> Issuer<S> {
    /// Pairs a received delegation with the issuing key it was granted to.
    pub fn new(signer: S, chain: Chain) -> Result<Issuer<S>> {
        if !chain.leaf()?.subject.ct_eq(&signer.public_key()) {
            return Err(Error::Misuse);
        }
        Ok(Issuer { signer, chain })
    }

    /// The delegation this issuer holds.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// Delegates `link` further (to a depot, a walker's device...). Refused if it widens.
    pub fn delegate(&self, link: &Link) -> Result<Chain> {
        self.chain.extend(&self.signer, link)
    }

    /// Just-in-time issuance: for a courier who scanned `delivery`'s package at `now`, mints a
    /// one-off grant (unlock and relock, one use, no further delegation) for the courier's
    /// `device` key, bound to the order, valid for `valid_for` seconds and never past the
    /// slot. Refused unless `now` is inside the booked slot.
    pub fn mint_delivery<R: Rng + ?Sized>(
        &self,
        delivery: &Delivery<'_>,
        device: PublicKey,
        now: UnixTime,
        valid_for: u64,
        rng: &mut R,
    ) -> Result<Chain> {
        if now < delivery.slot_start || now >= delivery.slot_end || valid_for == 0 {
            return Err(Error::NotPermitted);
        }
        let parent = self.chain.leaf()?;
        let start = now
            .saturating_sub(CLOCK_SKEW_ALLOWANCE)
            .max(parent.not_before);
        let mut end = now.saturating_add(valid_for).min(delivery.slot_end);
        if let Some(parent_end) = parent.not_after() {
            end = end.min(parent_end);
        }
        if end <= start {
            return Err(Error::Expired);
        }
        // Name the lock explicitly only when the parent covers more than this one.
        let scope = if self.chain.decode()?.locks().as_slice() == [delivery.lock] {
            Scope::Inherit
        } else {
            Scope::Locks(Bounded::from_slice(&[delivery.lock]).ok_or(Error::Misuse)?)
        };
        let link = Link {
            subject: device,
            scope,
            rights: Rights::UNLOCK.union(Rights::LOCK),
            not_before: start,
            lifetime: Some(end - start),
            schedule: parent.schedule,
            uses: Some(1),
            depth: 0,
            id: CredentialId::random(rng),
            epoch: parent.epoch,
            purpose: Some(purpose_of(delivery.order_id)),
        };
        self.delegate(&link)
    }
}
