//! Delegated credentials: chains of signed links from an owner key the lock trusts down to a
//! holder's device key, each link narrowing its parent.
//!
//! The lock-side flow is a typestate: [`UnverifiedChain::decode`] parses bytes with no heap and
//! no cryptography, then [`UnverifiedChain::verify`] checks everything and yields a [`Grant`]
//! the lock can act on. Issuance ([`Chain`], behind `alloc`) runs the same narrowing rules, so
//! a server cannot mint what a lock would refuse.
//!
//! # Example
//!
//! An owner delegates to a company, the company narrows the delegation for a courier, and a
//! lock verifies the result with nothing but its own state:
//!
//! ```
//! use doorkey::Error;
//! use doorkey::credential::{Chain, Link, LockId, Rights};
//! use doorkey::crypto::{SecretKey, Signer};
//! use doorkey::credential::{UnverifiedChain, Verifier};
//! use doorkey::time::{Seconds, TzRule, UnixTime};
//! # use chacha20::ChaCha20Rng;
//! # use rand_core::SeedableRng;
//! # fn main() -> doorkey::Result<()> {
//! # let mut rng = ChaCha20Rng::from_seed([7; 32]);
//! const T0: UnixTime = UnixTime::from_secs(1_780_315_200); // 2026-06-01 12:00:00 UTC, a Monday
//! let owner = SecretKey::from_seed(&[1; 32]);
//! let company = SecretKey::from_seed(&[3; 32]);
//! let courier = SecretKey::from_seed(&[4; 32]);
//! let lock = LockId::of(&SecretKey::from_seed(&[2; 32]).public_key());
//!
//! // The owner's root link: this lock, unlock and relock, 30 days, one further level.
//! let root = Link::builder(company.public_key(), Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE))
//!     .locks(&[lock])
//!     .valid_from(T0 - Seconds::from_days(1))
//!     .valid_for(Seconds::from_days(30))
//!     .depth(1)
//!     .build(&mut rng)?;
//! let delegation = Chain::root(&owner, &root)?;
//!
//! // The company narrows it for a courier: one use, ten minutes, no further delegation.
//! let leaf = Link::builder(courier.public_key(), Rights::UNLOCK.union(Rights::LOCK))
//!     .valid_from(T0)
//!     .valid_for(Seconds::from_secs(600))
//!     .uses(1)
//!     .build(&mut rng)?;
//! let grant = delegation.extend(&company, &leaf)?;
//!
//! // What the lock does with the bytes the courier's phone presents.
//! let chain = UnverifiedChain::decode(grant.as_bytes())?;
//! let verifier = Verifier {
//!     lock,
//!     owners: &[owner.public_key()],
//!     epoch: 0,
//!     revocations: &(),
//!     now: Some(T0 + Seconds::from_mins(1)),
//!     tz: TzRule::UTC,
//! };
//! let granted = chain.verify(&verifier)?;
//! assert_eq!(granted.holder, courier.public_key());
//! assert_eq!(granted.id, leaf.id);
//!
//! // Ten minutes later the same chain is refused, as it is under another owner's key.
//! let later = Verifier { now: Some(T0 + Seconds::from_mins(10)), ..verifier };
//! assert!(matches!(chain.verify(&later), Err(Error::Expired)));
//! let stranger = SecretKey::from_seed(&[9; 32]).public_key();
//! let elsewhere = Verifier { owners: &[stranger], ..verifier };
//! assert!(matches!(chain.verify(&elsewhere), Err(Error::UnknownOwner)));
//! # Ok(())
//! # }
//! ```

mod chain;
#[cfg(feature = "alloc")]
mod issue;
mod link;

pub(crate) use chain::ShortChain;
pub use chain::{ChainRef, Grant, Revocations, UnverifiedChain, UseLimit, Verifier};
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use issue::Chain;
pub use link::{CredentialId, Link, LockId, Rights, Scope};

/// Most links in one chain (owner -> company -> depot -> courier).
pub const MAX_CHAIN_LEN: usize = 4;
/// Most locks one link may name.
pub const MAX_LOCKS: usize = 4;
/// Largest encoded chain accepted; anything longer is refused before parsing.
pub const MAX_CHAIN_BYTES: usize = 2048;
