//! Delegated credentials: chains of signed links from an owner key the lock trusts down to a
//! holder's device key, each link narrowing its parent.
//!
//! The lock-side flow is a typestate: [`UnverifiedChain::decode`] parses bytes with no heap and
//! no cryptography, then [`UnverifiedChain::verify`] checks everything and yields a [`Grant`]
//! the lock can act on. Issuance ([`Chain`], behind `alloc`) runs the same narrowing rules, so
//! a server cannot mint what a lock would refuse.

mod chain;
#[cfg(feature = "alloc")]
mod issue;
mod link;

pub use chain::{Grant, Revocations, UnverifiedChain, UseLimit, Verifier};
#[cfg(feature = "alloc")]
pub use issue::Chain;
pub use link::{CredentialId, Link, LockId, Rights, Scope};

/// Most links in one chain (owner -> company -> depot -> courier).
pub const MAX_CHAIN_LEN: usize = 4;
/// Most locks one link may name.
pub const MAX_LOCKS: usize = 4;
/// Largest encoded chain accepted; anything longer is refused before parsing.
pub const MAX_CHAIN_BYTES: usize = 2048;
