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
//! weekly schedules). The crate is sans-IO: it never reads a clock, opens a socket or owns a
//! random number generator; `now` and `rng` are always parameters.
//!
//! The normative wire format is `docs/PROTOCOL.md`.
#![no_std]
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
pub mod server;
pub mod session;
pub mod time;
pub mod wire;

pub use error::{Error, Result};
pub use rng::{FillBytes, Rng};
