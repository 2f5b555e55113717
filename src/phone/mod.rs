//! The phone role: the holder's app. It keeps credentials bound to its device key, which
//! stays behind the [`Signer`] trait so it can live in a keystore or secure element.
//!
//! A visit: [`inspect_challenge`] the lock's challenge (and fetch a time anchor for its nonce
//! if the lock's clock is untrusted), [`PhoneSession::open`] with the first command, then
//! [`PhoneSession::read_reply`] and further [`PhoneSession::command`]s, such as the relock.

#[cfg(feature = "alloc")]
mod outbox;
mod session;

#[cfg(feature = "alloc")]
pub use outbox::Outbox;
pub use session::{ChallengeInfo, PhoneSession, inspect_challenge};

use crate::credential::{Link, LockId, UnverifiedChain};
use crate::crypto::{PublicKey, Signer};
use crate::error::{Error, Result};

/// A credential chain as the holder keeps it, checked to end at the holder's own key.
pub struct Credential<'a, S: Signer> {
    chain: &'a [u8],
    device: S,
    leaf: Link,
}

/// Shows the device's public key and the holder's link; the signer itself never.
impl<S: Signer> core::fmt::Debug for Credential<'_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Credential")
            .field("device_key", &self.device.public_key())
            .field("leaf", &self.leaf)
            .finish_non_exhaustive()
    }
}

impl<'a, S: Signer> Credential<'a, S> {
    /// Pairs received chain bytes with the device key, refusing a chain issued to another key.
    pub fn new(chain: &'a [u8], device: S) -> Result<Self> {
        let leaf = UnverifiedChain::decode(chain)?.leaf();
        if !leaf.subject.ct_eq(&device.public_key()) {
            return Err(Error::Misuse);
        }
        Ok(Credential {
            chain,
            device,
            leaf,
        })
    }

    /// The chain bytes to present to a lock.
    pub fn chain(&self) -> &'a [u8] {
        self.chain
    }

    /// The holder's own link (validity, rights, uses).
    pub fn leaf(&self) -> &Link {
        &self.leaf
    }

    /// The signer holding the device key.
    pub fn signer(&self) -> &S {
        &self.device
    }

    /// The device key this credential is bound to.
    pub fn device_key(&self) -> PublicKey {
        self.device.public_key()
    }

    /// Whether this credential names `lock` (as the root scope says; the lock decides).
    pub fn names_lock(&self, lock: &LockId) -> bool {
        UnverifiedChain::decode(self.chain).is_ok_and(|c| c.locks().as_slice().contains(lock))
    }
}
