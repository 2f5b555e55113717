//! The server role: the owner's cloud or a service company's backend. Delegation,
//! just-in-time issuance, the receipt log and the owner's timeline. Needs the `alloc` feature.
//!
//! # Example
//!
//! A delivery company holding the owner's delegation mints a one-use grant when a courier
//! scans a package, and only inside the booked slot:
//!
//! ```
//! use doorkey::server::{Delivery, Issuer, purpose_of};
//! # use chacha20::ChaCha20Rng;
//! # use doorkey::Error;
//! # use doorkey::credential::{Chain, Link, LockId, Rights};
//! # use doorkey::crypto::{SecretKey, Signer};
//! # use doorkey::time::{Seconds, UnixTime};
//! # use rand_core::SeedableRng;
//! # fn main() -> doorkey::Result<()> {
//! # let mut rng = ChaCha20Rng::from_seed([7; 32]);
//! const NOON: UnixTime = UnixTime::from_secs(1_780_315_200); // 2026-06-01 12:00:00 UTC
//! # let owner = SecretKey::from_seed(&[1; 32]);
//! # let lock = LockId::of(&SecretKey::from_seed(&[2; 32]).public_key());
//! # let company_key = SecretKey::from_seed(&[3; 32]);
//! # let root = Link::builder(company_key.public_key(), Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE))
//! #     .locks(&[lock])
//! #     .valid_from(NOON - Seconds::from_days(1))
//! #     .valid_for(Seconds::from_days(30))
//! #     .depth(1)
//! #     .build(&mut rng)?;
//! # let delegation = Chain::root(&owner, &root)?;
//! let company = Issuer::new(company_key, delegation)?;
//! let courier = SecretKey::from_seed(&[4; 32]).public_key(); // the courier's device key
//! let order = Delivery {
//!     order_id: b"order-2026-0601-0042",
//!     lock,
//!     slot_start: NOON - Seconds::from_mins(30),
//!     slot_end: NOON + Seconds::from_mins(30),
//! };
//! // The courier scans the package at 12:05; the grant is valid for ten minutes.
//! let ten_minutes = Seconds::from_mins(10);
//! let grant = company.mint_delivery(&order, courier, NOON + Seconds::from_mins(5), ten_minutes, &mut rng)?;
//! let leaf = grant.leaf()?;
//! assert_eq!(leaf.subject, courier);
//! assert_eq!(leaf.uses, Some(1));
//! assert_eq!(leaf.purpose, Some(purpose_of(order.order_id)));
//! assert_eq!(leaf.not_after(), Some(NOON + Seconds::from_mins(15)));
//!
//! // Two hours early, nothing is minted.
//! let early = company.mint_delivery(&order, courier, NOON - Seconds::from_hours(2), ten_minutes, &mut rng);
//! assert_eq!(early, Err(Error::OutsideSlot));
//! # Ok(())
//! # }
//! ```
//!
//! The receipts a lock signed come back through phones; [`ReceiptLog`] verifies and files
//! them and [`timeline`] turns them into the owner's visits and alerts.

mod log;
mod timeline;

pub use log::{
    Evidence, Finding, LogStore, MAX_UPLOAD_BYTES, MemoryLog, ReceiptLog, Stored, StoredHead,
};
pub use timeline::{Alert, Visit, timeline};

use crate::Rng;
use crate::credential::{Chain, Link, LockId, Rights};
use crate::crypto::{Signer, SubjectKey, hash, labels};
use crate::error::{Error, Result};
use crate::time::TzRule;
use crate::time::{Seconds, UnixTime};

/// Seconds a freshly minted grant starts before the server's `now`, so a lock whose clock
/// runs slightly behind still accepts it.
pub const CLOCK_SKEW_ALLOWANCE: Seconds = Seconds::from_secs(60);

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
    /// The lock's time-zone rule, when the issuer knows it: schedules are checked against it.
    tz: Option<TzRule>,
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
    ///
    /// ```
    /// use doorkey::server::Issuer;
    /// # use chacha20::ChaCha20Rng;
    /// # use doorkey::Error;
    /// # use doorkey::credential::{Chain, Link, LockId, Rights};
    /// # use doorkey::crypto::{SecretKey, Signer};
    /// # use doorkey::time::{Seconds, UnixTime};
    /// # use rand_core::SeedableRng;
    /// # fn main() -> doorkey::Result<()> {
    /// # let mut rng = ChaCha20Rng::from_seed([7; 32]);
    /// const NOON: UnixTime = UnixTime::from_secs(1_780_315_200); // 2026-06-01 12:00:00 UTC
    /// # let owner = SecretKey::from_seed(&[1; 32]);
    /// # let lock = LockId::of(&SecretKey::from_seed(&[2; 32]).public_key());
    /// # let company_key = SecretKey::from_seed(&[3; 32]);
    /// # let root = Link::builder(company_key.public_key(), Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE))
    /// #     .locks(&[lock])
    /// #     .valid_from(NOON - Seconds::from_days(1))
    /// #     .valid_for(Seconds::from_days(30))
    /// #     .depth(1)
    /// #     .build(&mut rng)?;
    /// # let delegation = Chain::root(&owner, &root)?;
    /// // The delegation names the company's key: only that key can issue under it.
    /// let other = SecretKey::from_seed(&[8; 32]);
    /// assert!(matches!(Issuer::new(other, delegation.clone()), Err(Error::Misuse)));
    /// let company = Issuer::new(company_key, delegation)?;
    /// assert_eq!(company.chain().leaf()?.id, root.id);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(signer: S, chain: Chain) -> Result<Issuer<S>> {
        if !chain.leaf()?.subject.ct_eq(&signer.public_key().into()) {
            return Err(Error::Misuse);
        }
        Ok(Issuer {
            signer,
            chain,
            tz: None,
        })
    }

    /// Tells the issuer the lock's time-zone rule (the one its owner configured,
    /// `Change::SetTimeZone`): from then on it refuses to sign a schedule that meets a
    /// daylight-saving gap or overlap of that rule within the link's validity
    /// ([`Error::AmbiguousLocalTime`]; [`Link::dst_conflict`] says which change).
    pub fn with_time_zone(self, tz: TzRule) -> Issuer<S> {
        Issuer {
            tz: Some(tz),
            ..self
        }
    }

    /// The delegation this issuer holds.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// Delegates `link` further (to a depot, a walker's device...). Refused if it widens, or,
    /// when the issuer knows the lock's rule, if its schedule meets a daylight-saving change.
    pub fn delegate(&self, link: &Link) -> Result<Chain> {
        if let Some(tz) = &self.tz
            && link.dst_conflict(tz).is_some()
        {
            return Err(Error::AmbiguousLocalTime);
        }
        self.chain.extend(&self.signer, link)
    }

    /// Just-in-time issuance: for a courier who scanned `delivery`'s package at `now`, mints a
    /// one-off grant (unlock and relock, one use, no further delegation) for the courier's
    /// `device` key, bound to the order, valid for `valid_for` seconds and never past the
    /// slot. Refused with [`Error::OutsideSlot`] unless `now` is inside the booked slot
    /// ([`Error::Misuse`] for a zero `valid_for`).
    ///
    /// ```
    /// use doorkey::server::{Delivery, Issuer, purpose_of};
    /// # use chacha20::ChaCha20Rng;
    /// # use doorkey::Error;
    /// # use doorkey::credential::{Chain, Link, LockId, Rights};
    /// # use doorkey::crypto::{SecretKey, Signer};
    /// # use doorkey::time::{Seconds, UnixTime};
    /// # use rand_core::SeedableRng;
    /// # fn main() -> doorkey::Result<()> {
    /// # let mut rng = ChaCha20Rng::from_seed([7; 32]);
    /// const NOON: UnixTime = UnixTime::from_secs(1_780_315_200); // 2026-06-01 12:00:00 UTC
    /// # let owner = SecretKey::from_seed(&[1; 32]);
    /// # let lock = LockId::of(&SecretKey::from_seed(&[2; 32]).public_key());
    /// # let company_key = SecretKey::from_seed(&[3; 32]);
    /// # let root = Link::builder(company_key.public_key(), Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE))
    /// #     .locks(&[lock])
    /// #     .valid_from(NOON - Seconds::from_days(1))
    /// #     .valid_for(Seconds::from_days(30))
    /// #     .depth(1)
    /// #     .build(&mut rng)?;
    /// # let delegation = Chain::root(&owner, &root)?;
    /// let company = Issuer::new(company_key, delegation)?;
    /// let courier = SecretKey::from_seed(&[4; 32]).public_key(); // the courier's device key
    /// let order = Delivery {
    ///     order_id: b"order-2026-0601-0042",
    ///     lock,
    ///     slot_start: NOON - Seconds::from_mins(30),
    ///     slot_end: NOON + Seconds::from_mins(30),
    /// };
    /// // The courier scans the package at 12:05; the grant is valid for ten minutes.
    /// let ten_minutes = Seconds::from_mins(10);
    /// let grant = company.mint_delivery(&order, courier, NOON + Seconds::from_mins(5), ten_minutes, &mut rng)?;
    /// let leaf = grant.leaf()?;
    /// assert_eq!(leaf.subject, courier);
    /// assert_eq!(leaf.uses, Some(1));
    /// assert_eq!(leaf.purpose, Some(purpose_of(order.order_id)));
    /// assert_eq!(leaf.not_after(), Some(NOON + Seconds::from_mins(15)));
    ///
    /// // Never past the end of the slot, however long `valid_for` asks.
    /// let late = company.mint_delivery(&order, courier, NOON + Seconds::from_secs(1700), ten_minutes, &mut rng)?;
    /// assert_eq!(late.leaf()?.not_after(), Some(order.slot_end));
    /// # Ok(())
    /// # }
    /// ```
    pub fn mint_delivery<R: Rng + ?Sized>(
        &self,
        delivery: &Delivery<'_>,
        device: impl Into<SubjectKey>,
        now: UnixTime,
        valid_for: Seconds,
        rng: &mut R,
    ) -> Result<Chain> {
        if valid_for.is_zero() {
            return Err(Error::Misuse);
        }
        if now < delivery.slot_start || now >= delivery.slot_end {
            return Err(Error::OutsideSlot);
        }
        let parent = self.chain.leaf()?;
        let start = (now - CLOCK_SKEW_ALLOWANCE).max(parent.not_before);
        let mut end = (now + valid_for).min(delivery.slot_end);
        if let Some(parent_end) = parent.not_after() {
            end = end.min(parent_end);
        }
        if end <= start {
            return Err(Error::Expired);
        }
        let mut link = Link::builder(device, Rights::UNLOCK.union(Rights::LOCK))
            .valid_from(start)
            .valid_until(end)
            .uses(1)
            .epoch(parent.epoch)
            .purpose(purpose_of(delivery.order_id));
        // Name the lock explicitly only when the parent covers more than this one.
        if self.chain.decode()?.locks().as_slice() != [delivery.lock] {
            link = link.locks(&[delivery.lock]);
        }
        if let Some(schedule) = parent.schedule {
            link = link.schedule(schedule);
        }
        let link = link.build(rng)?;
        self.delegate(&link)
    }
}
