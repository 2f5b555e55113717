//! # doorkey
//!
//! Delegated, revocable, offline-verifiable access to a smart lock.
//!
//! One `no_std` crate for three roles that share one wire format:
//! - [`lock`]: firmware on a microcontroller. No heap; verifies credentials offline.
//! - [`phone`]: the holder's app, holding a credential bound to its device key.
//! - [`server`]: the owner's or service company's backend: delegation and just-in-time
//!   issuance (needs the `alloc` feature).
//!
//! Shared layers: [`wire`] (framing and codecs), [`crypto`] (keys, signatures, labels),
//! [`credential`] (signed attenuating links and chains), [`time`] (time-zone rules and
//! weekly schedules), [`config`] (owner-signed updates and time anchors), [`receipt`] (the
//! lock's signed audit trail), [`session`] (the lock/phone messages) and [`transport`] (how
//! they travel over BLE). The crate is sans-IO: it never reads a clock, opens a socket or owns
//! a random number generator; `now`, `tick` and `rng` are always parameters.
//!
//! The normative wire format is `docs/PROTOCOL.md`.
//!
//! # Features
//!
//! | feature | default | adds |
//! |---|---|---|
//! | (none) | | everything the lock and phone need: decoding, verification, sessions, time zones, schedules, storage |
//! | `alloc` | yes (via `std`) | owned chains and issuance ([`credential::Chain`]), the [`server`] module, the phone's receipt [`phone::Outbox`] |
//! | `std` | yes | `alloc`; [`Error`] is a `std::error::Error` through `core::error::Error` |
//!
//! # Walkthrough: an in-home delivery
//!
//! The owner installs a lock and delegates to a delivery company; when a courier scans the
//! package, the company mints a one-use grant for the courier's phone and that order; the
//! phone opens a session with the lock, which decides on its own, offline; the receipts the
//! lock signed reach the owner's server, which verifies them. Every party here runs in one
//! process; in the field each one only exchanges the bytes shown.
//!
//! ```
//! use chacha20::ChaCha20Rng;
//! use doorkey::config::{Change, ConfigUpdate, TimeAnchor};
//! use doorkey::credential::{Chain, Link, Rights};
//! use doorkey::crypto::{SecretKey, Signer};
//! use doorkey::lock::{Action, Lock, MemoryStorage};
//! use doorkey::phone::{Credential, PhoneSession, inspect_challenge};
//! use doorkey::receipt::{AuditSecret, Event};
//! use doorkey::server::{Delivery, Issuer, ReceiptLog};
//! use doorkey::session::{Command, Reply};
//! use doorkey::time::{Seconds, Tick, UnixTime};
//! use rand_core::SeedableRng;
//!
//! # fn main() -> Result<(), doorkey::Error> {
//! // A seeded generator keeps this example reproducible; real code passes a CSPRNG.
//! let mut rng = ChaCha20Rng::from_seed([7; 32]);
//! const NOON: UnixTime = UnixTime::from_secs(1_780_315_200); // 2026-06-01 12:00:00 UTC
//!
//! // 1. Installation: the lock trusts the owner's key. Its clock is untrusted until an
//! //    owner-signed time anchor, bound to a fresh challenge, arrives through any phone.
//! let owner = SecretKey::from_seed(&[1; 32]);
//! let lock_identity = SecretKey::from_seed(&[2; 32]);
//! let mut lock = Lock::install(lock_identity, owner.public_key(), MemoryStorage::<4096>::new())?;
//! let (mut challenge, mut msg, mut reply) = ([0u8; 256], [0u8; 1024], [0u8; 4096]);
//! let tick = Tick::from_secs(100); // the lock's monotonic clock: seconds since boot
//! let n = lock.challenge(tick, &mut rng, &mut challenge)?;
//! let nonce = inspect_challenge(&challenge[..n], &lock.id())?.nonce;
//! let mut anchor = [0u8; 256];
//! let a = TimeAnchor { lock: lock.id(), nonce, time: NOON, signer: owner.public_key() }
//!     .sign(&owner, &mut anchor)?;
//! let time = Command::Time(&anchor[..a]);
//! let (mut owners_phone, m) =
//!     PhoneSession::open_anonymous(&challenge[..n], &lock.id(), time, &mut rng, &mut msg)?;
//! let out = lock.handle(tick, &mut msg[..m], &mut reply)?;
//! assert_eq!(owners_phone.read_reply(&mut reply[..out.reply])?, Reply::TimeSet(NOON));
//!
//! // In the same session the owner sets the audit key: receipts leave the lock sealed to it,
//! // so the phones that carry them cannot read other people's visits.
//! let audit = AuditSecret::generate(&mut rng); // its secret stays on the owner's server
//! let set_audit_key = ConfigUpdate {
//!     lock: lock.id(),
//!     version: 1,
//!     signer: owner.public_key(),
//!     change: Change::SetAuditKey(audit.public_key()),
//! };
//! let mut update = [0u8; 256];
//! let u = set_audit_key.sign(&owner, &mut update)?;
//! let k = owners_phone.command(Command::Config(&update[..u]), &mut msg)?;
//! let out = lock.handle(tick, &mut msg[..k], &mut reply)?;
//! assert_eq!(owners_phone.read_reply(&mut reply[..out.reply])?, Reply::ConfigApplied(1));
//!
//! // 2. The owner delegates to a delivery company: this lock, unlock and relock, 30 days,
//! //    one further level of delegation.
//! let company_key = SecretKey::from_seed(&[3; 32]);
//! let rights = Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE);
//! let delegation = Link::builder(company_key.public_key(), rights)
//!     .locks(&[lock.id()])
//!     .valid_from(NOON - Seconds::from_days(1))
//!     .valid_for(Seconds::from_days(30))
//!     .depth(1)
//!     .build(&mut rng)?;
//! let company = Issuer::new(company_key, Chain::root(&owner, &delegation)?)?;
//!
//! // 3. Just in time: the courier scans the package and the company mints a grant for the
//! //    courier's device key, one use, ten minutes, bound to the order.
//! let courier = SecretKey::from_seed(&[4; 32]);
//! let order = Delivery {
//!     order_id: b"order-2026-0601-0042",
//!     lock: lock.id(),
//!     slot_start: NOON - Seconds::from_mins(30),
//!     slot_end: NOON + Seconds::from_mins(30),
//! };
//! let (scanned, ten_minutes) = (NOON + Seconds::from_mins(1), Seconds::from_mins(10));
//! let grant = company.mint_delivery(&order, courier.public_key(), scanned, ten_minutes, &mut rng)?;
//!
//! // 4. At the door: the lock challenges, the phone checks the lock's signature and opens a
//! //    session asking to unlock, and the lock decides, committing the use before the bolt
//! //    moves.
//! let credential = Credential::new(grant.as_bytes(), courier)?;
//! let tick = tick + Seconds::from_secs(60);
//! let n = lock.challenge(tick, &mut rng, &mut challenge)?;
//! let (mut phone, m) =
//!     PhoneSession::open(&challenge[..n], &credential, Command::Unlock, &mut rng, &mut msg)?;
//! let out = lock.handle(tick, &mut msg[..m], &mut reply)?;
//! assert_eq!(out.action, Action::Unlock); // the firmware drives the bolt open
//! assert_eq!(phone.read_reply(&mut reply[..out.reply])?, Reply::Unlocked);
//!
//! // The relock travels in the same session: symmetric cryptography only.
//! let k = phone.command(Command::Lock, &mut msg)?;
//! let out = lock.handle(tick + Seconds::from_secs(45), &mut msg[..k], &mut reply)?;
//! assert_eq!(out.action, Action::Lock);
//! assert_eq!(phone.read_reply(&mut reply[..out.reply])?, Reply::Locked);
//!
//! // 5. The phone collects the lock's receipts, sealed to the audit key, and uploads them; the
//! //    owner's server opens them and verifies signatures and hash chain against the lock's
//! //    public key.
//! let k = phone.command(Command::Receipts { after: 0 }, &mut msg)?;
//! let out = lock.handle(tick + Seconds::from_secs(46), &mut msg[..k], &mut reply)?;
//! let Reply::Receipts(bundle) = phone.read_reply(&mut reply[..out.reply])? else {
//!     return Err(doorkey::Error::UnexpectedMessage);
//! };
//! let mut log = ReceiptLog::new(lock.public_key())?;
//! assert!(log.ingest_sealed(&audit, bundle)?.is_empty(), "no gap, fork or bad signature");
//! let receipts = log.receipts()?;
//! let events: Vec<Event> = receipts.iter().map(|r| r.receipt.event).collect();
//! assert_eq!(
//!     events,
//!     [Event::Installed, Event::TimeSet, Event::ConfigChanged(1), Event::Unlocked, Event::Relocked]
//! );
//! let who = receipts[3].receipt.who.ok_or(doorkey::Error::Misuse)?;
//! assert_eq!(who.id, grant.leaf()?.id); // the server knows which grant it issued
//! # Ok(())
//! # }
//! ```
//!
//! A second unlock with the same grant is refused (`Reply::Denied(ReasonCode::UsedUp)`), as is
//! the grant after its ten minutes, on another phone, or replayed from a captured message;
//! `examples/delivery.rs` plays each of these.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod config;
pub mod credential;
pub mod crypto;
pub mod error;
pub mod lock;
pub mod phone;
pub mod receipt;
mod rng;
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub mod server;
pub mod session;
pub mod time;
pub mod transport;
pub mod wire;

pub use error::{Error, Result};
pub use rng::{FillBytes, Rng};

/// The README's walkthrough, compiled and run with the other doc tests so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeWalkthrough;
