//! doorkey's phone role for Kotlin and Swift apps, through UniFFI.
//!
//! The holder's app imports a credential bound to its device key, checks a lock's challenge,
//! opens a session, sends commands and reads typed replies, and carries the lock's sealed
//! receipt bundles to its server. The device key stays in the platform keystore: Rust only
//! ever sees the [`DeviceSigner`] the app implements, which signs on request.
//!
//! [`LockSimulator`] runs a real doorkey lock in memory on a virtual clock, with its owner and
//! a delivery company, so an app can be tested end to end without hardware. It is a test tool:
//! its keys come from a seed and live in process memory.
//!
//! Generated bindings: `mobile/generate.sh` (Kotlin and Swift, checked in under
//! `mobile/bindings/`); `tests/python.rs` drives the Python ones.

mod error;
mod outbox;
mod phone;
mod signer;
mod simulator;

pub use error::{DoorkeyError, SignerError};
pub use outbox::{Outbox, Upload};
pub use phone::{
    Ack, ChallengeInfo, Command, Credential, CredentialInfo, DenyReason, OpenedSession,
    PhoneSession, Reply, Rights, delivery_purpose, inspect_challenge, open_anonymous_session,
    open_session,
};
pub use signer::{DeviceSigner, KeyAlgorithm};
pub use simulator::{LockAction, LockResponse, LockSimulator, UploadReport};

uniffi::setup_scaffolding!();
