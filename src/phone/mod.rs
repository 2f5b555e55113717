//! The phone role: the holder's app. It keeps credentials bound to its device key, which
//! stays behind the [`HolderSigner`] trait so it can live in a keystore or secure element
//! (an Ed25519 [`Signer`](crate::crypto::Signer), or a P-256 key in the Secure Enclave or
//! StrongBox).
//!
//! A visit: [`inspect_challenge`] the lock's challenge (and fetch a time anchor for its nonce
//! if the lock's clock is untrusted), [`PhoneSession::open`] with the first command, then
//! [`PhoneSession::read_reply`] and further [`PhoneSession::command`]s, such as the relock.
//!
//! # Example
//!
//! A visit to the door with a credential the phone received from its issuer. The lock's side
//! (here a [`crate::lock::Lock`] in the same process) is the radio in a real app.
//!
//! ```
//! use doorkey::phone::{Credential, PhoneSession, inspect_challenge};
//! use doorkey::session::{Command, Reply};
//! # use chacha20::ChaCha20Rng;
//! # use doorkey::credential::{Chain, Link, Rights};
//! # use doorkey::crypto::{SecretKey, Signer};
//! # use doorkey::lock::{Lock, MemoryStorage};
//! # use doorkey::time::Tick;
//! # use rand_core::SeedableRng;
//! # fn main() -> doorkey::Result<()> {
//! # let mut rng = ChaCha20Rng::from_seed([7; 32]);
//! # let owner = SecretKey::from_seed(&[1; 32]);
//! # let identity = SecretKey::from_seed(&[2; 32]);
//! # let mut lock = Lock::install(identity, owner.public_key(), MemoryStorage::<4096>::new())?;
//! # let device_key = SecretKey::from_seed(&[4; 32]);
//! # let link = Link::builder(device_key.public_key(), Rights::UNLOCK.union(Rights::LOCK))
//! #     .locks(&[lock.id()])
//! #     .build(&mut rng)?;
//! # let chain = Chain::root(&owner, &link)?;
//! # let chain_bytes = chain.as_bytes();
//!
//! // The chain bytes from the issuer, bound to this phone's device key (any `Signer`,
//! // such as a keystore or secure-element handle).
//! let credential = Credential::new(chain_bytes, device_key)?;
//! assert!(credential.names_lock(&lock.id()));
//!
//! // The lock's challenge arrives; checking it sends nothing.
//! let mut challenge = [0u8; 256];
//! let n = lock.challenge(Tick::from_secs(10), &mut rng, &mut challenge)?;
//! let info = inspect_challenge(&challenge[..n], &lock.id())?;
//! assert!(!info.clock_trusted); // a permanent credential needs no trusted clock
//!
//! // Open the session asking to unlock; send `out[..m]` to the lock.
//! let mut out = [0u8; 1024];
//! let (mut session, m) =
//!     PhoneSession::open(&challenge[..n], &credential, Command::Unlock, &mut rng, &mut out)?;
//! # let mut reply = [0u8; 256];
//! # let r = lock.handle(Tick::from_secs(10), &mut out[..m], &mut reply)?.reply;
//! // The lock's answer comes back in `reply[..r]`, decrypted in place.
//! assert_eq!(session.read_reply(&mut reply[..r])?, Reply::Unlocked);
//!
//! // Relock in the same session, then close it.
//! let k = session.command(Command::Lock, &mut out)?;
//! # let r = lock.handle(Tick::from_secs(50), &mut out[..k], &mut reply)?.reply;
//! assert_eq!(session.read_reply(&mut reply[..r])?, Reply::Locked);
//! let k = session.command(Command::Close, &mut out)?;
//! # let r = lock.handle(Tick::from_secs(51), &mut out[..k], &mut reply)?.reply;
//! assert_eq!(session.read_reply(&mut reply[..r])?, Reply::Closed);
//! # Ok(())
//! # }
//! ```

#[cfg(feature = "alloc")]
mod outbox;
mod session;

#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub use outbox::Outbox;
pub use session::{ChallengeInfo, PhoneSession, inspect_challenge};

use crate::credential::{Link, LockId, UnverifiedChain};
use crate::crypto::{HolderSigner, SubjectKey};
use crate::error::{Error, Result};

/// A credential chain as the holder keeps it, checked to end at the holder's own key.
pub struct Credential<'a, S: HolderSigner> {
    chain: &'a [u8],
    device: S,
    leaf: Link,
}

/// Shows the device's public key and the holder's link; the signer itself never.
impl<S: HolderSigner> core::fmt::Debug for Credential<'_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Credential")
            .field("device_key", &self.device.holder_key())
            .field("leaf", &self.leaf)
            .finish_non_exhaustive()
    }
}

impl<'a, S: HolderSigner> Credential<'a, S> {
    /// Pairs received chain bytes with the device key, refusing a chain issued to another key.
    ///
    /// ```
    /// use doorkey::Error;
    /// # use chacha20::ChaCha20Rng;
    /// # use doorkey::credential::{Chain, Link, Rights};
    /// # use doorkey::crypto::{SecretKey, Signer};
    /// # use doorkey::lock::{Lock, MemoryStorage};
    /// # use doorkey::phone::Credential;
    /// # use rand_core::SeedableRng;
    /// # fn main() -> doorkey::Result<()> {
    /// # let mut rng = ChaCha20Rng::from_seed([7; 32]);
    /// # let owner = SecretKey::from_seed(&[1; 32]);
    /// # let identity = SecretKey::from_seed(&[2; 32]);
    /// # let mut lock = Lock::install(identity, owner.public_key(), MemoryStorage::<4096>::new())?;
    /// # let device_key = SecretKey::from_seed(&[4; 32]);
    /// # let link = Link::builder(device_key.public_key(), Rights::UNLOCK.union(Rights::LOCK))
    /// #     .locks(&[lock.id()])
    /// #     .build(&mut rng)?;
    /// # let chain = Chain::root(&owner, &link)?;
    /// # let chain_bytes = chain.as_bytes();
    /// let credential = Credential::new(chain_bytes, device_key)?;
    /// assert_eq!(credential.leaf().rights, Rights::UNLOCK.union(Rights::LOCK));
    ///
    /// // The same chain under another phone's key is refused before it ever reaches a lock.
    /// let other_phone = SecretKey::from_seed(&[5; 32]);
    /// assert!(matches!(Credential::new(chain_bytes, other_phone), Err(Error::Misuse)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(chain: &'a [u8], device: S) -> Result<Self> {
        let leaf = UnverifiedChain::decode(chain)?.leaf();
        if !leaf.subject.ct_eq(&device.holder_key()) {
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
    pub fn device_key(&self) -> SubjectKey {
        self.device.holder_key()
    }

    /// Whether this credential names `lock` (as the root scope says; the lock decides).
    pub fn names_lock(&self, lock: &LockId) -> bool {
        UnverifiedChain::decode(self.chain).is_ok_and(|c| c.locks().as_slice().contains(lock))
    }
}
