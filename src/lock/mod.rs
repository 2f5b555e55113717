//! The lock role: firmware on a microcontroller. Everything here builds with no features and
//! no heap.
//!
//! [`Lock`] is a sans-IO state machine. Firmware calls [`Lock::challenge`] when a phone
//! connects and [`Lock::handle`] with each message that arrives, passing its monotonic
//! [`Tick`] (seconds since boot, never the time of day: the lock trusts
//! only signed time) and a random number generator. It sends back the bytes the lock wrote
//! and performs the returned [`Action`]. Anything the lock must remember is committed through
//! [`Storage`] before an action is returned, so a power cut can never make it forget a use.
//!
//! Firmware starts the lock at every power-on with [`Lock::start`] and installs it with
//! [`Lock::provision`] only when that fails with [`Error::NotProvisioned`] (see [`Lock::boot`]).
//!
//! Relay attacks at the radio layer are out of scope (they need distance bounding hardware);
//! [`Presence`] is where a proximity or user-intent check (UWB ranging, a touch on the lock)
//! plugs in: it is asked before any unlock is counted or performed.
//!
//! # Example
//!
//! Firmware starts the lock at every power-up, answers a connecting phone with a challenge,
//! hands the lock each message and actuates what it returns:
//!
//! ```
//! use doorkey::Error;
//! use doorkey::crypto::SecretKey;
//! use doorkey::lock::{Action, Lock, MemoryStorage};
//! # use chacha20::ChaCha20Rng;
//! # use doorkey::credential::{Chain, Link, Rights};
//! # use doorkey::crypto::Signer;
//! # use doorkey::phone::{Credential, PhoneSession};
//! # use doorkey::session::Command;
//! # use doorkey::time::Tick;
//! # use rand_core::SeedableRng;
//! # fn main() -> doorkey::Result<()> {
//! # let mut rng = ChaCha20Rng::from_seed([7; 32]);
//! # let owner = SecretKey::from_seed(&[1; 32]);
//! # let identity = SecretKey::from_seed(&[2; 32]);
//!
//! // Power-up: start from storage, and install only on a blank store.
//! let mut lock = Lock::new(identity, MemoryStorage::<4096>::new());
//! match lock.start() {
//!     Ok(()) => {}
//!     Err(Error::NotProvisioned) => lock.provision(owner.public_key())?,
//!     Err(e) => return Err(e), // unreadable or corrupt: stop for service, never reinstall
//! }
//! # let holder = SecretKey::from_seed(&[4; 32]);
//! # let link = Link::builder(holder.public_key(), Rights::UNLOCK.union(Rights::LOCK))
//! #     .locks(&[lock.id()])
//! #     .build(&mut rng)?;
//! # let chain = Chain::root(&owner, &link)?;
//! # let credential = Credential::new(chain.as_bytes(), holder)?;
//!
//! // A phone connects: send it a fresh challenge.
//! let tick = Tick::from_secs(5); // seconds since boot, from the firmware's monotonic timer
//! let mut challenge = [0u8; 256];
//! let n = lock.challenge(tick, &mut rng, &mut challenge)?;
//! # let mut buf = [0u8; 1024];
//! # let (_, m) =
//! #     PhoneSession::open(&challenge[..n], &credential, Command::Unlock, &mut rng, &mut buf)?;
//! # let message = &mut buf[..m];
//!
//! // The phone's answer arrives: the lock decides, commits, and says what to actuate.
//! let mut reply = [0u8; 256];
//! let outcome = lock.handle(tick, message, &mut reply)?;
//! match outcome.action {
//!     Action::Unlock => { /* drive the bolt open: the use is already committed */ }
//!     Action::Lock => { /* drive the bolt closed */ }
//!     _ => { /* nothing to actuate; `outcome.denied` says why, for the firmware's log */ }
//! }
//! // Then send `reply[..outcome.reply]` back to the phone.
//! assert_eq!(outcome.action, Action::Unlock);
//! # Ok(())
//! # }
//! ```

mod cache;
mod state;
mod storage;

pub use cache::{DEFAULT_CACHED_LINKS, MAX_CACHED_BYTES};
pub use state::*;
pub use storage::*;

use crate::Rng;
use crate::config::{Change, ConfigUpdate, TimeAnchor};
use crate::credential::{
    ChainRef, Grant, LockId, MAX_CHAIN_BYTES, MAX_CHAIN_LEN, Revocations, Rights, ShortChain,
    UnverifiedChain, UseLimit,
};
use crate::crypto::channel::{Ephemeral, SessionKeys, agree};
use crate::crypto::{self, PublicKey, SecretKey, Signer, SubjectKey, encode_signed, labels};
use crate::error::{Error, Result};
use crate::receipt::{Ack, Event, Head, SEALED_PREFIX, SESSION_ID_LEN, Who, seal};
use crate::session::{
    Challenge, Command, MAX_ADVERTISED, MAX_CHALLENGE_BYTES, NONCE_LEN, OPEN_CLEAR_LEN, Proof,
    ReasonCode, Reply, SESSION_LIFETIME, challenge_digest, split_sealed, transcript,
    write_sealed_header,
};
use crate::time::{Seconds, Tick, UnixTime};
use crate::wire::{self, Bounded, Kind};
use cache::LinkCache;
use subtle::ConstantTimeEq;
use x25519_dalek::StaticSecret;
use zeroize::{Zeroize, Zeroizing};

/// Challenges outstanding at once; a new one evicts the oldest.
pub const MAX_PENDING: usize = 4;
/// Largest sealed receipt bundle (an ack token, a head and a full backlog) a reply carries.
pub const MAX_BUNDLE_BYTES: usize = crate::receipt::MAX_SEALED_BYTES;
/// Seconds an anchor from an enrolled time key (not an owner key) may set the clock ahead of
/// the lock's high-water mark: a time server's fault can then move the clock at most a week
/// per anchor, while a lock that has recorded no timed event for up to a week still takes its
/// time server's anchors.
pub const MAX_TIME_KEY_LEAP: Seconds = Seconds::from_days(7);

/// What the firmware must do after a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// Nothing to actuate.
    None,
    /// Drive the bolt open. The decision is already persisted.
    Unlock,
    /// Drive the bolt closed.
    Lock,
}

/// Why [`Lock::install`] or [`Lock::boot`] failed, with the caller's storage handed back
/// (e.g. a blank store that failed to boot, to install on). Converts into the [`Error`] alone
/// with `?`.
///
/// ```
/// use doorkey::Error;
/// use doorkey::crypto::{SecretKey, Signer};
/// use doorkey::lock::{Lock, MemoryStorage};
///
/// let owner = SecretKey::from_seed(&[1; 32]);
/// let identity = || SecretKey::from_seed(&[2; 32]);
/// // At power-on: boot, and install only on a blank store, which comes back with the error.
/// let lock = match Lock::boot(identity(), MemoryStorage::<4096>::new()) {
///     Ok(lock) => lock,
///     Err(e) if e.error() == Error::NotProvisioned => {
///         Lock::install(identity(), owner.public_key(), e.into_storage())?
///     }
///     Err(e) => return Err(e.into()),
/// };
/// assert_eq!(lock.public_key(), identity().public_key());
/// # Ok::<(), Error>(())
/// ```
pub struct SetupError<S> {
    error: Error,
    storage: S,
}

impl<S> SetupError<S> {
    /// What went wrong.
    pub fn error(&self) -> Error {
        self.error
    }

    /// The storage the lock was given, as the failed setup left it.
    pub fn into_storage(self) -> S {
        self.storage
    }
}

impl<S> From<SetupError<S>> for Error {
    fn from(e: SetupError<S>) -> Error {
        e.error
    }
}

/// Shows the error only: storage may hold kilobytes, and need not be `Debug`.
impl<S> core::fmt::Debug for SetupError<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SetupError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<S> core::fmt::Display for SetupError<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(&self.error, f)
    }
}

impl<S> core::error::Error for SetupError<S> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// The result of handling one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outcome {
    /// Bytes of reply written to the output buffer (send them to the phone).
    pub reply: usize,
    /// What to actuate.
    pub action: Action,
    /// Why a request was refused, in full detail, for the firmware's own log; the phone only
    /// learns the coarse [`ReasonCode`].
    pub denied: Option<Error>,
    /// Why a relock the lock performed has no receipt yet (its commit failed), for the
    /// firmware's log: the lock keeps the receipt in memory and records it, with the relock's
    /// time, in its next successful commit.
    pub unrecorded: Option<Error>,
}

/// A proximity or user-intent check the lock consults before unlocking.
pub trait Presence {
    /// Whether the holder is really at the door and means to open it.
    fn confirm(&mut self, grant: &Grant) -> bool;
}

/// No presence check: the credential alone decides.
impl Presence for () {
    fn confirm(&mut self, _: &Grant) -> bool {
        true
    }
}

struct Pending {
    nonce: [u8; NONCE_LEN],
    secret: Ephemeral,
    digest: [u8; 32],
    issued: Tick,
}

/// A challenge signed ahead of a phone's connection, held in RAM only (a reboot voids it).
struct Prepared {
    /// Its pending entry; the issue tick is set when it is handed out.
    pending: Pending,
    /// What it advertises: handed out only while the lock's state still matches.
    clock_trusted: bool,
    cached: Bounded<ChainRef, MAX_ADVERTISED>,
    len: usize,
    message: [u8; MAX_CHALLENGE_BYTES],
}

struct Session {
    keys: SessionKeys,
    nonce: [u8; NONCE_LEN],
    /// First bytes of the transcript hash: names the session in receipts.
    id: [u8; SESSION_ID_LEN],
    /// The transcript hash, which a retried proof's holder signature covers.
    th: [u8; 32],
    /// The open named links the lock does not hold: one [`Command::Retry`] may follow.
    retry: bool,
    /// Whether this session already delivered its time anchor (one per challenge nonce).
    anchored: bool,
    /// Tick at which the session's challenge was issued: the moment its anchor describes.
    issued: Tick,
    /// A holder whose genuine chain was refused, for the denial receipt.
    claimed: Option<Who>,
    grant: Option<Grant>,
    /// Length of the grant's chain, held in [`Lock`]'s chain buffer.
    chain: usize,
    received: u32,
    sent: u32,
    opened: Tick,
}

/// A lock: its identity, its persisted state and its sessions, and up to `N` verified runs
/// of delegation links kept in RAM for repeat visitors (PROTOCOL 22.2; `N = 0` keeps none).
pub struct Lock<S: Storage, const N: usize = DEFAULT_CACHED_LINKS> {
    identity: SecretKey,
    state: LockState,
    storage: S,
    pending: [Option<Pending>; MAX_PENDING],
    prepared: Option<Prepared>,
    session: Option<Session>,
    /// The chain of the session's grant as verified at the open: every command that moves
    /// the bolt checks its rules again, against the state of that moment. Kept out of the
    /// session so the session never carries it across the stack.
    chain: [u8; MAX_CHAIN_BYTES],
    /// UTC time of the last accepted anchor and the tick its challenge was issued at; `None`
    /// until one arrives after boot, and after an owner resets the clock.
    anchor: Option<(Tick, UnixTime)>,
    /// Memory may not match what storage holds (not started yet, or a commit and the reload
    /// after it failed): the lock refuses everything until it (re)starts from storage.
    failed: bool,
    /// A relock performed whose receipt could not be committed: recorded first by the next
    /// commit that succeeds.
    unrecorded: Option<Unrecorded>,
    links: LinkCache<N>,
}

/// A relock waiting for its receipt.
#[derive(Clone, Copy)]
struct Unrecorded {
    time: Option<UnixTime>,
    who: Option<Who>,
    session: [u8; SESSION_ID_LEN],
    error: Error,
}

/// Shows the lock's identity and whether it runs; never its secret key, sessions or storage.
impl<S: Storage, const N: usize> core::fmt::Debug for Lock<S, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Lock")
            .field("key", &self.identity.public_key())
            .field("running", &!self.failed)
            .field("session", &self.session.is_some())
            .finish_non_exhaustive()
    }
}

impl<S: Storage> Lock<S> {
    /// A lock that has not started: it refuses everything with [`Error::Storage`] until
    /// [`Lock::provision`] or [`Lock::start`] succeeds. Building it touches no storage, so
    /// firmware can create it where it will live (a static) and start it there, never moving
    /// its kilobytes of state across the stack. It keeps [`DEFAULT_CACHED_LINKS`] runs of
    /// verified links; [`Lock::with_link_cache`] chooses another number.
    pub fn new(identity: SecretKey, storage: S) -> Lock<S> {
        Lock::with_link_cache(identity, storage)
    }

    /// Factory installation: [`Lock::new`] then [`Lock::provision`]; refuses storage that
    /// is not blank, handing it back in the [`SetupError`].
    ///
    /// ```
    /// use doorkey::crypto::{SecretKey, Signer};
    /// use doorkey::lock::{Lock, MemoryStorage};
    /// use doorkey::time::Tick;
    ///
    /// # fn main() -> doorkey::Result<()> {
    /// let owner = SecretKey::from_seed(&[1; 32]);
    /// let identity = SecretKey::from_seed(&[2; 32]); // generated once, kept in the lock
    /// let lock = Lock::install(identity, owner.public_key(), MemoryStorage::<4096>::new())?;
    /// assert_eq!(lock.state().enrolment.owners(), [owner.public_key()]);
    /// assert_eq!(lock.trusted_now(Tick::from_secs(0)), None); // untrusted until a time anchor arrives
    /// # Ok(())
    /// # }
    /// ```
    pub fn install(
        identity: SecretKey,
        owner: PublicKey,
        storage: S,
    ) -> core::result::Result<Lock<S>, SetupError<S>> {
        let mut lock = Lock::new(identity, storage);
        match lock.provision(owner) {
            Ok(()) => Ok(lock),
            Err(error) => Err(SetupError {
                error,
                storage: lock.into_storage(),
            }),
        }
    }

    /// Starts after a reboot: [`Lock::new`] then [`Lock::start`].
    ///
    /// Firmware boots with [`Lock::new`] and [`Lock::start`] in place, and installs only when
    /// `start` fails with [`Error::NotProvisioned`] (a blank store). Any other error (an
    /// unreadable or corrupt store, [`Error::Storage`]) must stop the lock for service, never
    /// lead to [`Lock::provision`]: reinstalling would reset use counts, revocations, the
    /// clock and the receipt chain. `provision` refuses anything but a blank store anyway.
    /// On failure the storage comes back in the [`SetupError`].
    ///
    /// ```
    /// use doorkey::Error;
    /// use doorkey::crypto::SecretKey;
    /// use doorkey::lock::{Lock, MemoryStorage};
    /// # use doorkey::crypto::Signer;
    ///
    /// # fn main() -> doorkey::Result<()> {
    /// # let owner = SecretKey::from_seed(&[1; 32]).public_key();
    /// let identity = || SecretKey::from_seed(&[2; 32]); // from the device's secure storage
    /// let installed = Lock::install(identity(), owner, MemoryStorage::<4096>::new())?;
    /// let storage = installed.into_storage(); // power off, power on
    ///
    /// let lock = Lock::boot(identity(), storage)?;
    /// assert_eq!(lock.state().enrolment.owners(), [owner]);
    /// // A blank store is the one case for installing.
    /// let blank = Lock::boot(identity(), MemoryStorage::<4096>::new());
    /// assert!(matches!(blank.map_err(|e| e.error()), Err(Error::NotProvisioned)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn boot(identity: SecretKey, storage: S) -> core::result::Result<Lock<S>, SetupError<S>> {
        let mut lock = Lock::new(identity, storage);
        match lock.start() {
            Ok(()) => Ok(lock),
            Err(error) => Err(SetupError {
                error,
                storage: lock.into_storage(),
            }),
        }
    }
}

impl<S: Storage, const N: usize> Lock<S, N> {
    /// [`Lock::new`] keeping up to `N` runs of verified delegation links (0: none), e.g.
    /// `Lock::<_, 8>::with_link_cache(identity, storage)`. Each takes about
    /// [`MAX_CACHED_BYTES`] of RAM.
    pub fn with_link_cache(identity: SecretKey, storage: S) -> Lock<S, N> {
        Lock {
            state: LockState::blank(identity.public_key()),
            identity,
            storage,
            pending: [const { None }; MAX_PENDING],
            prepared: None,
            session: None,
            chain: [0; MAX_CHAIN_BYTES],
            anchor: None,
            failed: true,
            unrecorded: None,
            links: LinkCache::new(),
        }
    }
    /// Factory installation in place: a fresh state trusting `owner` is committed to blank
    /// storage with an installed receipt.
    ///
    /// Refuses with [`Error::AlreadyProvisioned`] when storage holds a state (only an
    /// owner-signed [`crate::config::Change::FactoryReset`] resets a lock), and passes on
    /// [`Error::Storage`] when storage is unreadable or corrupt (a service tool erases it).
    pub fn provision(&mut self, owner: PublicKey) -> Result<()> {
        self.forget_sessions();
        self.unrecorded = None;
        match load(&mut self.storage, &mut self.state) {
            Err(Error::NotProvisioned) => {}
            Ok(()) => return Err(Error::AlreadyProvisioned),
            Err(e) => return Err(e),
        }
        self.state.clear(self.identity.public_key());
        self.state.enrolment.enrol_owner(owner)?;
        self.state.record(None, Event::Installed, None, None)?;
        persist(&mut self.storage, &self.state)?;
        self.failed = false;
        Ok(())
    }

    /// Starts from the committed state, in place, and records a boot receipt; also the way
    /// back after a failed commit stopped the lock. The clock is untrusted until a time anchor
    /// arrives, and nothing from before the restart can be answered. On error the lock stays
    /// stopped.
    ///
    /// Fails with [`Error::NotProvisioned`] on blank storage (the one case for
    /// [`Lock::provision`]), [`Error::Storage`] when storage is unreadable or holds no valid
    /// state, and [`Error::Misuse`] when the state belongs to another identity. When storage
    /// reports that it lost its newest commit ([`Storage::rolled_back`]), the lock starts in
    /// recovery with a `RolledBack` receipt instead of `Boot`: it refuses grants with a use
    /// limit or an expiry ([`Error::RolledBack`]) until an owner sends
    /// [`crate::config::Change::ConfirmState`].
    pub fn start(&mut self) -> Result<()> {
        self.forget_sessions();
        load(&mut self.storage, &mut self.state)?;
        if !self
            .state
            .enrolment
            .public_key()
            .ct_eq(&self.identity.public_key())
        {
            return Err(Error::Misuse);
        }
        let rolled_back = self.storage.rolled_back();
        self.failed = false;
        let event = if rolled_back {
            Event::RolledBack
        } else {
            Event::Boot
        };
        let result = self.update(|state| {
            state.recovery |= rolled_back;
            state.record(None, event, None, None)
        });
        self.failed = result.is_err();
        result
    }

    /// Drops every challenge (prepared ones too), session, time anchor and held link, and
    /// stops the lock until it has (re)started.
    fn forget_sessions(&mut self) {
        self.failed = true;
        self.pending = [const { None }; MAX_PENDING];
        self.prepared = None;
        self.links.clear();
        self.session = None;
        self.anchor = None;
    }

    /// This lock's id.
    pub fn id(&self) -> LockId {
        self.state.enrolment.id()
    }

    /// This lock's identity key.
    pub fn public_key(&self) -> PublicKey {
        self.identity.public_key()
    }

    /// The persisted state as it stands.
    pub fn state(&self) -> &LockState {
        &self.state
    }

    /// The storage backend (for inspection and tests).
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Gives the storage back, e.g. to simulate a reboot.
    pub fn into_storage(self) -> S {
        self.storage
    }

    /// Trusted UTC time at `tick`, or `None` while the clock is untrusted. Never earlier than
    /// the persisted high-water mark. Out of line: every path of a message asks for it, and
    /// 64-bit arithmetic is bulky on a 32-bit microcontroller.
    #[inline(never)]
    pub fn trusted_now(&self, tick: Tick) -> Option<UnixTime> {
        let (at, utc) = self.anchor?;
        let elapsed = tick.since(at)?;
        Some((utc + elapsed).max(self.state.high_water))
    }

    /// Writes a signed challenge into `out` (call when a phone connects): the one
    /// [`Lock::prepare_challenge`] made, if any and it still advertises the lock's state,
    /// otherwise a fresh one. Either way it is answerable once, for the challenge lifetime
    /// counted from `tick`.
    ///
    /// ```
    /// use doorkey::phone::inspect_challenge;
    /// # use chacha20::ChaCha20Rng;
    /// # use doorkey::crypto::{SecretKey, Signer};
    /// # use doorkey::lock::{Lock, MemoryStorage};
    /// # use doorkey::time::Tick;
    /// # use rand_core::SeedableRng;
    /// # fn main() -> doorkey::Result<()> {
    /// # let mut rng = ChaCha20Rng::from_seed([7; 32]);
    /// # let owner = SecretKey::from_seed(&[1; 32]).public_key();
    /// # let identity = SecretKey::from_seed(&[2; 32]);
    /// # let mut lock = Lock::install(identity, owner, MemoryStorage::<4096>::new())?;
    /// let mut challenge = [0u8; 256];
    /// let n = lock.challenge(Tick::from_secs(30), &mut rng, &mut challenge)?;
    ///
    /// // The phone checks the lock's signature before it sends anything identifying.
    /// let info = inspect_challenge(&challenge[..n], &lock.id())?;
    /// assert!(!info.clock_trusted); // no time anchor since boot: the phone brings one
    /// # Ok(())
    /// # }
    /// ```
    pub fn challenge<R: Rng + ?Sized>(
        &mut self,
        tick: Tick,
        rng: &mut R,
        out: &mut [u8],
    ) -> Result<usize> {
        if self.failed {
            return Err(Error::Storage);
        }
        let clock_trusted = self.trusted_now(tick).is_some();
        let cached = self.links.advertised();
        let (len, mut pending) = match self.prepared.take() {
            Some(p) if p.clock_trusted == clock_trusted && p.cached == cached => {
                let message = p.message.get(..p.len).ok_or(Error::BufferTooSmall)?;
                wire::put_bytes(out, 0, message)?;
                (p.len, p.pending)
            }
            _ => self.sign_challenge(clock_trusted, cached, rng, out)?,
        };
        pending.issued = tick;
        *pending_slot(&mut self.pending) = Some(pending);
        Ok(len)
    }

    /// Signs the next challenge ahead of time (call while idle), so that
    /// [`Lock::challenge`] only copies it out when a phone connects: the key generation and
    /// the signature leave the time from connection to decision. Kept in RAM only, replacing
    /// any prepared before; [`Lock::challenge`] signs afresh instead if the clock's trust or
    /// the links the lock holds have changed since.
    ///
    /// ```
    /// # use chacha20::ChaCha20Rng;
    /// # use doorkey::crypto::{SecretKey, Signer};
    /// # use doorkey::lock::{Lock, MemoryStorage};
    /// # use doorkey::time::Tick;
    /// # use rand_core::SeedableRng;
    /// # fn main() -> doorkey::Result<()> {
    /// # let mut rng = ChaCha20Rng::from_seed([7; 32]);
    /// # let owner = SecretKey::from_seed(&[1; 32]).public_key();
    /// # let mut lock = Lock::install(SecretKey::from_seed(&[2; 32]), owner, MemoryStorage::<4096>::new())?;
    /// lock.prepare_challenge(Tick::from_secs(10), &mut rng)?; // idle: sign ahead
    /// let mut challenge = [0u8; 256];
    /// // A phone connects a minute later: the prepared challenge goes out, its lifetime
    /// // starting now.
    /// let n = lock.challenge(Tick::from_secs(70), &mut rng, &mut challenge)?;
    /// # assert!(n > 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn prepare_challenge<R: Rng + ?Sized>(&mut self, tick: Tick, rng: &mut R) -> Result<()> {
        if self.failed {
            return Err(Error::Storage);
        }
        self.prepared = None;
        let clock_trusted = self.trusted_now(tick).is_some();
        let cached = self.links.advertised();
        let mut message = [0u8; MAX_CHALLENGE_BYTES];
        let (len, pending) = self.sign_challenge(clock_trusted, cached, rng, &mut message)?;
        self.prepared = Some(Prepared {
            pending,
            clock_trusted,
            cached,
            len,
            message,
        });
        Ok(())
    }

    /// Draws a nonce and an ephemeral key and writes the signed challenge into `out`; the
    /// pending entry's issue tick is the caller's to set.
    fn sign_challenge<R: Rng + ?Sized>(
        &self,
        clock_trusted: bool,
        cached: Bounded<ChainRef, MAX_ADVERTISED>,
        rng: &mut R,
        out: &mut [u8],
    ) -> Result<(usize, Pending)> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let (secret, ephemeral) = Ephemeral::generate(rng);
        let body = Challenge {
            lock_key: self.identity.public_key(),
            nonce,
            ephemeral,
            clock_trusted,
            cached,
        };
        let len = encode_signed(
            out,
            Kind::Challenge,
            &body,
            labels::CHALLENGE,
            &self.identity,
        )?;
        let digest = challenge_digest(out.get(..len).ok_or(Error::BufferTooSmall)?);
        let pending = Pending {
            nonce,
            secret,
            digest,
            issued: Tick::BOOT,
        };
        Ok((len, pending))
    }

    /// Handles one message from a phone, decrypting `input` in place and writing any reply
    /// into `out`. Messages that cannot be authenticated (unknown or expired challenge,
    /// replayed counter, failed AEAD) return an error and no reply.
    ///
    /// Whatever the outcome, `input` is all zeros on return: the holder's decrypted chain and
    /// command never stay in the caller's buffer.
    /// ```
    /// use doorkey::Error;
    /// use doorkey::lock::Action;
    /// use doorkey::session::{Command, ReasonCode, Reply};
    /// # use chacha20::ChaCha20Rng;
    /// # use doorkey::credential::{Chain, Link, Rights};
    /// # use doorkey::crypto::{SecretKey, Signer};
    /// # use doorkey::lock::{Lock, MemoryStorage};
    /// # use doorkey::phone::{Credential, PhoneSession};
    /// # use doorkey::time::Tick;
    /// # use rand_core::SeedableRng;
    /// # fn main() -> doorkey::Result<()> {
    /// # let mut rng = ChaCha20Rng::from_seed([7; 32]);
    /// # let owner = SecretKey::from_seed(&[1; 32]);
    /// # let identity = SecretKey::from_seed(&[2; 32]);
    /// # let mut lock = Lock::install(identity, owner.public_key(), MemoryStorage::<4096>::new())?;
    /// # let holder = SecretKey::from_seed(&[4; 32]);
    /// # let link = Link::builder(holder.public_key(), Rights::UNLOCK)
    /// #     .locks(&[lock.id()])
    /// #     .build(&mut rng)?;
    /// # let chain = Chain::root(&owner, &link)?;
    /// # let credential = Credential::new(chain.as_bytes(), holder)?;
    /// # let mut challenge = [0u8; 256];
    /// # let n = lock.challenge(Tick::from_secs(40), &mut rng, &mut challenge)?;
    /// # let mut open = [0u8; 1024];
    /// # let (mut phone, m) =
    /// #     PhoneSession::open(&challenge[..n], &credential, Command::Unlock, &mut rng, &mut open)?;
    /// // `open` holds the phone's unlock request, as received over the radio.
    /// let captured = open[..m].to_vec();
    /// let mut reply = [0u8; 256];
    /// let outcome = lock.handle(Tick::from_secs(40), &mut open[..m], &mut reply)?;
    /// assert_eq!(outcome.action, Action::Unlock);
    ///
    /// // The same bytes again, replayed by an eavesdropper: no session, no reply.
    /// let replay = lock.handle(Tick::from_secs(41), &mut captured.clone(), &mut reply);
    /// assert!(matches!(replay, Err(Error::Replay)));
    ///
    /// // A refusal inside the session: the phone hears a coarse reason, the firmware the
    /// // precise error. This holder's credential has no right to lock.
    /// # phone.read_reply(&mut reply[..outcome.reply])?;
    /// let mut msg = [0u8; 64];
    /// let k = phone.command(Command::Lock, &mut msg)?;
    /// let outcome = lock.handle(Tick::from_secs(42), &mut msg[..k], &mut reply)?;
    /// assert_eq!(outcome.action, Action::None);
    /// assert_eq!(outcome.denied, Some(Error::NotPermitted));
    /// let answer = phone.read_reply(&mut reply[..outcome.reply])?;
    /// assert_eq!(answer, Reply::Denied(ReasonCode::NotAuthorized));
    /// # Ok(())
    /// # }
    /// ```
    pub fn handle(&mut self, tick: Tick, input: &mut [u8], out: &mut [u8]) -> Result<Outcome> {
        self.handle_with(tick, input, out, &mut ())
    }

    /// [`Lock::handle`] with a proximity or user-intent check consulted before any unlock.
    /// Zeroes `input` before returning, as [`Lock::handle`] does.
    pub fn handle_with<P: Presence + ?Sized>(
        &mut self,
        tick: Tick,
        input: &mut [u8],
        out: &mut [u8],
        presence: &mut P,
    ) -> Result<Outcome> {
        let result = self.dispatch(tick, input, out, presence);
        input.zeroize();
        result
    }

    fn dispatch<P: Presence + ?Sized>(
        &mut self,
        tick: Tick,
        input: &mut [u8],
        out: &mut [u8],
        presence: &mut P,
    ) -> Result<Outcome> {
        if self.failed {
            return Err(Error::Storage);
        }
        // An open, or a retry of one in its session, is served from this one call site, so its
        // processing shares one stack frame with the message handling.
        let (mut session, plain) = match input.get(1).copied() {
            Some(k) if k == Kind::Open as u8 => self.handle_open(tick, input)?,
            Some(k) if k == Kind::Command as u8 => {
                match self.handle_command(tick, input, out, presence)? {
                    Step::Done(outcome) => return Ok(outcome),
                    Step::Retry(plain) => (self.session.take().ok_or(Error::Misuse)?, plain),
                }
            }
            Some(_) => {
                return Err(wire::split_header(input, Kind::Open)
                    .err()
                    .unwrap_or(Error::UnexpectedKind));
            }
            None => return Err(Error::Truncated),
        };
        let (result, close) = self.serve(tick, &mut session, plain, presence);
        self.finish(session, tick, result, out, close)
    }

    /// Authenticates an open and starts its session; returns the session and the plaintext
    /// to serve.
    fn handle_open<'a>(&mut self, tick: Tick, input: &'a mut [u8]) -> Result<(Session, &'a [u8])> {
        if input.len() > crate::session::MAX_MESSAGE_BYTES {
            return Err(Error::Oversize);
        }
        let body = wire::split_header(input, Kind::Open)?;
        let (nonce, rest) = wire::take_array::<NONCE_LEN>(body)?;
        let (ephemeral, _) = wire::take_array::<32>(rest)?;
        let pending = self.take_pending(&nonce, tick)?;
        let (clear, sealed) = input
            .split_at_mut_checked(OPEN_CLEAR_LEN)
            .ok_or(Error::Truncated)?;
        let th = transcript(&pending.digest, clear);
        let keys = SessionKeys::derive(agree(pending.secret, &ephemeral)?, &th);
        let plain = keys.phone_to_lock.open(0, clear, sealed)?;

        // From here the peer holds the session keys: answer under encryption. A new session
        // replaces any earlier one.
        self.session = None;
        let mut id = [0u8; SESSION_ID_LEN];
        for (i, t) in id.iter_mut().zip(&th) {
            *i = *t;
        }
        let session = Session {
            keys,
            nonce,
            id,
            th,
            retry: false,
            anchored: false,
            issued: pending.issued,
            claimed: None,
            grant: None,
            chain: 0,
            received: 0,
            sent: 0,
            opened: tick,
        };
        Ok((session, plain))
    }

    /// Runs an open's plaintext, a command and an optional proof: from the open itself, or
    /// from the [`Command::Retry`] that follows [`Reply::NeedChain`]. Returns the answer and
    /// whether it ends the session (a refused proof does), for [`Lock::finish`]; the session
    /// stays with the caller, so it is never copied into this frame.
    fn serve<P: Presence + ?Sized>(
        &mut self,
        tick: Tick,
        session: &mut Session,
        plain: &[u8],
        presence: &mut P,
    ) -> (Result<(Answer, Action)>, bool) {
        let parsed = wire::take::<Command<'_>>(plain).and_then(|(command, rest)| {
            let command_bytes = plain
                .get(..plain.len() - rest.len())
                .ok_or(Error::Truncated)?;
            let proof: Option<Proof<'_>> = wire::take_all(rest)?;
            Ok((command, command_bytes, proof))
        });
        let (command, command_bytes, proof) = match parsed {
            Ok(p) => p,
            Err(e) => return (Err(e), true),
        };
        // The whole chain goes into the chain buffer first, rebuilt from held links if it
        // names them; if it names links the lock no longer holds, nothing runs: the phone
        // retries with the whole chain in this session.
        let mut held = None;
        if let Some(proof) = &proof {
            match self.hold_chain(proof.chain) {
                Ok(Some((len, verified))) => (session.chain, held) = (len, verified),
                Ok(None) => {
                    session.retry = true;
                    return (Ok((Answer::Reply(Reply::NeedChain), Action::None)), false);
                }
                Err(e) => return (Err(e), true),
            }
        }
        // Self-authenticating commands go first, so a phone can bring the time anchor its
        // time-bounded credential needs in the same message.
        let early = self.administer(tick, session, command);
        if let Some(proof) = proof {
            match self.verify_proof(tick, session, command_bytes, held, &proof) {
                Ok(grant) => {
                    if held.is_none() {
                        self.keep_links(session, &grant.owner);
                    }
                    session.grant = Some(grant);
                }
                Err((e, who)) => {
                    session.claimed = who;
                    return (Err(e), true);
                }
            }
        }
        let result = match early {
            Some(r) => r,
            None => self.execute(tick, session, command, presence),
        };
        (result, false)
    }

    /// Puts the whole chain of a proof into the chain buffer: copied, or rebuilt from the
    /// held links a short form names and the links it carries. Returns its length and, for
    /// a rebuilt chain, the owner and how many leading links were held; `None` when the lock
    /// does not hold the links named. Out of line, off the frame that verifies the proof.
    #[allow(clippy::type_complexity)]
    #[inline(never)]
    fn hold_chain(&mut self, chain: &[u8]) -> Result<Option<(usize, Option<(PublicKey, usize)>)>> {
        match ShortChain::decode(chain) {
            None => {
                wire::put_bytes(&mut self.chain, 0, chain).map_err(|_| Error::Oversize)?;
                Ok(Some((chain.len(), None)))
            }
            Some(short) => {
                let short = short?;
                let rebuilt = self.links.rebuild(
                    &short.reference,
                    short.count,
                    short.links,
                    &mut self.chain,
                )?;
                Ok(rebuilt.map(|(len, owner, links)| (len, Some((owner, links)))))
            }
        }
    }

    /// After a whole chain verified: keeps its links before the leaf. Out of line: its decoded
    /// chain never sits in the frame that verifies.
    #[inline(never)]
    fn keep_links(&mut self, session: &Session, owner: &PublicKey) {
        let chain = self.chain.get(..session.chain).unwrap_or_default();
        if let Ok(decoded) = UnverifiedChain::decode(chain)
            && let Some((links, _)) = decoded.prefix()
        {
            self.links.insert(*owner, decoded.len() - 1, links);
        }
    }

    fn handle_command<'a, P: Presence + ?Sized>(
        &mut self,
        tick: Tick,
        input: &'a mut [u8],
        out: &mut [u8],
        presence: &mut P,
    ) -> Result<Step<'a>> {
        let (counter, aad, sealed) = split_sealed(input, Kind::Command)?;
        let mut session = self.session.take().ok_or(Error::UnexpectedMessage)?;
        if tick
            .since(session.opened)
            .is_none_or(|age| age > SESSION_LIFETIME)
        {
            return Err(Error::Replay);
        }
        if counter <= session.received {
            self.session = Some(session);
            return Err(Error::Replay);
        }
        let plain = match session.keys.phone_to_lock.open(counter, &aad, sealed) {
            Ok(p) => p,
            Err(e) => {
                self.session = Some(session);
                return Err(e);
            }
        };
        session.received = counter;
        let plain: &'a [u8] = plain;
        let result = match wire::take_all::<Command<'_>>(plain) {
            Ok(Command::Retry(open)) if session.retry => {
                session.retry = false;
                self.session = Some(session);
                return Ok(Step::Retry(open));
            }
            Ok(command) => match self.administer(tick, &mut session, command) {
                Some(r) => r,
                None => self.execute(tick, &session, command, presence),
            },
            Err(e) => Err(e),
        };
        self.finish(session, tick, result, out, false)
            .map(Step::Done)
    }

    /// Time anchors and configuration updates: signed by their authors, so any session may
    /// carry them. `None` for every other command.
    fn administer(
        &mut self,
        tick: Tick,
        session: &mut Session,
        command: Command<'_>,
    ) -> Option<Result<(Answer, Action)>> {
        let reply = match command {
            Command::Time(anchor) => self.accept_anchor(session, anchor),
            Command::Config(update) => self.accept_config(tick, session, update),
            Command::Ack(ack) => self.accept_ack(&ack),
            _ => return None,
        };
        Some(reply.map(|r| (Answer::Reply(r), Action::None)))
    }

    /// Runs a credential-bound command in an open session.
    fn execute<P: Presence + ?Sized>(
        &mut self,
        tick: Tick,
        session: &Session,
        command: Command<'_>,
        presence: &mut P,
    ) -> Result<(Answer, Action)> {
        let now = self.trusted_now(tick);
        let who = session.who();
        let reply = |r| Ok((Answer::Reply(r), Action::None));
        match command {
            Command::Hello => reply(Reply::Ready),
            Command::Close => reply(Reply::Closed),
            // Audit data reveals who comes and when: only a verified holder may carry it.
            Command::Receipts { after } => {
                session.grant.as_ref().ok_or(Error::NotPermitted)?;
                // Bundles are sealed to the owner's audit key: until one is set, none leaves.
                self.state
                    .enrolment
                    .audit_key()
                    .ok_or(Error::NotPermitted)?;
                Ok((Answer::Receipts(after), Action::None))
            }
            Command::Unlock => {
                let limits = self.admit(session, now, presence)?;
                self.update(|state| {
                    state.consume(limits.as_slice(), now)?;
                    state.record(now, Event::Unlocked, who, Some(session.id))
                })?;
                Ok((Answer::Reply(Reply::Unlocked), Action::Unlock))
            }
            Command::Lock => {
                session
                    .grant
                    .as_ref()
                    .ok_or(Error::NotPermitted)?
                    .require(Rights::LOCK)?;
                // Locking is the safe state: it happens even if its receipt cannot be stored,
                // which the outcome then says; the receipt waits for the next commit. Relocks
                // failing in a row keep the first: nothing unlocked in between, since an
                // unlock's own commit would have recorded it.
                let id = Some(session.id);
                if let Err(error) = self.update(|state| state.record(now, Event::Relocked, who, id))
                {
                    self.unrecorded.get_or_insert(Unrecorded {
                        time: now,
                        who,
                        session: session.id,
                        error,
                    });
                }
                Ok((Answer::Reply(Reply::Locked), Action::Lock))
            }
            Command::Time(_) | Command::Config(_) | Command::Ack(_) | Command::Retry(_) => {
                Err(Error::UnexpectedMessage)
            }
        }
    }

    /// Decides whether the session's grant may unlock at trusted time `now`: it needs the
    /// unlock right, passes the open's checks once more against the state of this moment (a
    /// schedule window may have closed, a revocation been applied since), and the holder's
    /// presence. Returns the use limits to count. Out of line, so the grant it checks is off
    /// the stack before the commit.
    #[inline(never)]
    fn admit<P: Presence + ?Sized>(
        &self,
        session: &Session,
        now: Option<UnixTime>,
        presence: &mut P,
    ) -> Result<Bounded<UseLimit, MAX_CHAIN_LEN>> {
        let grant = session.grant.as_ref().ok_or(Error::NotPermitted)?;
        grant.require(Rights::UNLOCK)?;
        let chain = self.chain.get(..session.chain).unwrap_or_default();
        let grant = self
            .state
            .recheck_chain(chain, &grant.owner, MAX_CHAIN_LEN, now)?;
        // Old use counts, revocations or clock may be in force: only grants that depend on
        // none of them until an owner confirms the state.
        if self.state.recovery && (grant.expires.is_some() || !grant.limits.is_empty()) {
            return Err(Error::RolledBack);
        }
        if !presence.confirm(&grant) {
            return Err(Error::NotPermitted);
        }
        Ok(grant.limits)
    }

    /// Reports a door event from the firmware's sensors; it becomes a receipt.
    pub fn door_event(&mut self, tick: Tick, event: DoorEvent) -> Result<()> {
        let now = self.trusted_now(tick);
        let session = self.session.as_ref().map(|s| s.id);
        let event = match event {
            DoorEvent::Opened => Event::DoorOpened,
            DoorEvent::Closed => Event::DoorClosed,
            DoorEvent::LeftOpen => Event::DoorLeftOpen,
        };
        self.update(|state| state.record(now, event, None, session))
    }

    /// Verifies the holder's chain and signature. A refused but genuine chain whose holder
    /// signed this transcript is still attributed, so the denial receipt names who was
    /// turned away.
    /// The chain is the session's, in the chain buffer; `held` names the owner and the
    /// leading links verified before, for a chain rebuilt from held links.
    fn verify_proof(
        &self,
        tick: Tick,
        session: &Session,
        command: &[u8],
        held: Option<(PublicKey, usize)>,
        proof: &Proof<'_>,
    ) -> core::result::Result<Grant, (Error, Option<Who>)> {
        let chain = self.chain.get(..session.chain).unwrap_or_default();
        let now = self.trusted_now(tick);
        let th = &session.th;
        let checked = match held {
            None => self.state.verify_chain(chain, now),
            Some((owner, links)) => self.state.recheck_chain(chain, &owner, links, now),
        };
        match checked {
            Ok(grant) => match holder_signed(&grant.holder, th, command, proof) {
                Ok(()) => Ok(grant),
                Err(e) => Err((e, None)),
            },
            Err(e) if signed_by_owner(e) => Err((e, attribute(th, command, chain, proof))),
            Err(e) => Err((e, None)),
        }
    }

    fn accept_anchor(&mut self, session: &mut Session, bytes: &[u8]) -> Result<Reply<'static>> {
        // An anchor is bound to the session's nonce: replayed later in the same session it
        // would wind the clock back to its time.
        if session.anchored {
            return Err(Error::Replay);
        }
        let anchor = TimeAnchor::decode(bytes)?;
        let a = anchor.body;
        if a.lock != self.id()
            || !bool::from(a.nonce.ct_eq(&session.nonce))
            || !self.state.enrolment.is_time_authority(&a.signer)
        {
            return Err(Error::NotPermitted);
        }
        anchor.verify(&a.signer, labels::TIME)?;
        if self.state.key_revoked(&a.signer) {
            return Err(Error::Revoked);
        }
        if a.time < self.state.high_water {
            return Err(Error::Stale);
        }
        if !self.state.enrolment.is_owner(&a.signer)
            && a.time > self.state.high_water + MAX_TIME_KEY_LEAP
        {
            return Err(Error::NotPermitted);
        }
        self.update(|state| state.record(Some(a.time), Event::TimeSet, None, Some(session.id)))?;
        // The anchor was signed for the challenge's nonce, so it tells the time at the
        // challenge's issue: counting from the delivery tick would set the clock back by the
        // delivery's delay.
        self.anchor = Some((session.issued, a.time));
        session.anchored = true;
        Ok(Reply::TimeSet(a.time))
    }

    fn accept_config(
        &mut self,
        tick: Tick,
        session: &Session,
        bytes: &[u8],
    ) -> Result<Reply<'static>> {
        let update = ConfigUpdate::decode(bytes)?;
        if !self.state.enrolment.is_owner(&update.body.signer) {
            return Err(Error::NotPermitted);
        }
        update.verify(&update.body.signer, labels::CONFIG)?;
        let now = self.trusted_now(tick);
        let version = update.body.version;
        // A reset's receipt has no time: the clock it would read is the one being abandoned.
        let (time, event) = match update.body.change {
            Change::ResetClock(_) => (None, Event::ClockReset(version)),
            Change::FactoryReset(_) => (now, Event::FactoryReset(version)),
            _ => (now, Event::ConfigChanged(version)),
        };
        self.update(|state| {
            state.apply(&update.body, now)?;
            state.record(time, event, None, Some(session.id))
        })?;
        if let Event::ClockReset(_) = event {
            self.anchor = None;
        }
        // Held links were verified under the configuration this update replaced.
        self.links.clear();
        Ok(Reply::ConfigApplied(version))
    }

    /// Drops the backlog receipts the owner's server acknowledged holding. The token is the
    /// lock's own signature from a sealed bundle, so only the audit key's holder can have it;
    /// one that does not match this lock's chain (another history) is refused.
    fn accept_ack(&mut self, ack: &Ack) -> Result<Reply<'static>> {
        ack.verify(&self.identity.public_key())?;
        let id = self.id();
        let head = self.state.receipts;
        let held = self
            .state
            .backlog
            .as_slice()
            .iter()
            .find(|r| r.seq == ack.seq);
        if ack.seq > head.seq
            || (ack.seq == head.seq && head.hash != ack.hash)
            || held
                .map(|r| r.hash(&id))
                .transpose()?
                .is_some_and(|h| h != ack.hash)
        {
            return Err(Error::ChainBroken);
        }
        let acked = |seq: u64| seq >= ack.first && seq <= ack.seq;
        if self.state.backlog.as_slice().iter().any(|r| acked(r.seq)) {
            self.update(|state| {
                state.backlog.retain(|r| !acked(r.seq));
                Ok(())
            })?;
        }
        Ok(Reply::Acked(ack.seq))
    }

    /// Changes the state and commits it; on any failure the committed state is reloaded, so
    /// memory never runs ahead of storage. A relock still waiting for its receipt is recorded
    /// first, in the same commit.
    /// The change alone is generic; the shared steps around it stay out of line.
    fn update(&mut self, change: impl FnOnce(&mut LockState) -> Result<()>) -> Result<()> {
        let result = self.begin_update().and_then(|()| change(&mut self.state));
        self.commit(result)
    }

    #[inline(never)]
    fn begin_update(&mut self) -> Result<()> {
        if self.failed {
            return Err(Error::Storage);
        }
        self.unrecorded.map_or(Ok(()), |u| {
            self.state
                .record(u.time, Event::Relocked, u.who, Some(u.session))
        })
    }

    #[inline(never)]
    fn commit(&mut self, changed: Result<()>) -> Result<()> {
        let result = changed.and_then(|()| persist(&mut self.storage, &self.state));
        match result {
            Ok(()) => self.unrecorded = None,
            Err(_) if load(&mut self.storage, &mut self.state).is_err() => self.failed = true,
            Err(_) => {}
        }
        result
    }

    fn take_pending(&mut self, nonce: &[u8; NONCE_LEN], tick: Tick) -> Result<Pending> {
        let lifetime = self.state.enrolment.challenge_lifetime();
        let slot = self
            .pending
            .iter_mut()
            .find(|p| p.as_ref().is_some_and(|p| bool::from(p.nonce.ct_eq(nonce))))
            .ok_or(Error::Replay)?;
        let pending = slot.take().ok_or(Error::Replay)?;
        match tick.since(pending.issued) {
            Some(age) if age <= lifetime => Ok(pending),
            _ => Err(Error::Replay),
        }
    }

    /// Records a denial, seals the answer and keeps the session open unless it was closed
    /// (or `close` asks for it: a failed proof ends the session).
    fn finish(
        &mut self,
        mut session: Session,
        tick: Tick,
        result: Result<(Answer, Action)>,
        out: &mut [u8],
        close: bool,
    ) -> Result<Outcome> {
        let (answer, action, denied) = match result {
            Ok((answer, action)) => (answer, action, None),
            Err(e) => {
                let reason = ReasonCode::from_error(e);
                let now = self.trusted_now(tick);
                let who = session.who();
                // Repeated anonymous denials collapse into one receipt, so nobody without a
                // credential can flush the backlog before its receipts are carried away.
                let repeat =
                    who.is_none()
                        && self.state.backlog.as_slice().last().is_some_and(|r| {
                            r.who.is_none() && matches!(r.event, Event::Denied(_))
                        });
                if !repeat {
                    // Best effort: a lock that cannot record still answers, and has not actuated.
                    let _ = self.update(|state| {
                        state.record(now, Event::Denied(reason), who, Some(session.id))
                    });
                }
                (Answer::Reply(Reply::Denied(reason)), Action::None, Some(e))
            }
        };
        let counter = session.sent;
        let at = write_sealed_header(out, Kind::Reply, counter)?;
        let body = out.get_mut(at..).ok_or(Error::BufferTooSmall)?;
        let (n, closed) = match answer {
            Answer::Reply(reply) => (wire::put(&reply, body)?, close || reply == Reply::Closed),
            Answer::Receipts(after) => {
                let mut bundle = [0u8; MAX_BUNDLE_BYTES];
                let len = self.bundle(tick, after, &session.id, counter, &mut bundle)?;
                let reply = Reply::Receipts(bundle.get(..len).ok_or(Error::BufferTooSmall)?);
                (wire::put(&reply, body)?, close)
            }
        };
        let (aad, rest) = out.split_at_mut_checked(at).ok_or(Error::BufferTooSmall)?;
        let sealed = session.keys.lock_to_phone.seal(counter, aad, rest, n)?;
        // A counter never wraps (a nonce would repeat under the session key): the reply that
        // uses the last one ends the session.
        if let Some(next) = counter.checked_add(1)
            && !closed
        {
            session.sent = next;
            self.session = Some(session);
        }
        Ok(Outcome {
            reply: at + sealed,
            action,
            denied,
            unrecorded: self.unrecorded.map(|u| u.error),
        })
    }

    /// Seals to the owner's audit key an [`Ack`], a signed head and every backlog receipt
    /// after `after` (oldest first) into `out`. The one-use ephemeral key is derived, as
    /// Ed25519 derives its nonces, from the lock's secret seed, the session id and the reply
    /// counter: never the same twice, unpredictable without the lock's secret, and no random
    /// number generator needed while handling a message.
    fn bundle(
        &self,
        tick: Tick,
        after: u64,
        session: &[u8; SESSION_ID_LEN],
        counter: u32,
        out: &mut [u8],
    ) -> Result<usize> {
        let audit = self
            .state
            .enrolment
            .audit_key()
            .ok_or(Error::NotPermitted)?;
        let id = self.id();
        let chain = self.state.receipts;
        let backlog = self.state.backlog.as_slice();
        let first = backlog
            .first()
            .map_or(chain.seq.saturating_add(1), |r| r.seq);
        let plain = out.get_mut(SEALED_PREFIX..).ok_or(Error::BufferTooSmall)?;
        let ack = Ack {
            first,
            seq: chain.seq,
            hash: chain.hash,
            token: Ack::token(&id, first, chain.seq, &chain.hash, &self.identity)?.0,
        };
        let mut at = wire::put(&ack, plain)?;
        let head = Head {
            seq: chain.seq,
            hash: chain.hash,
            time: self.trusted_now(tick),
        };
        at += head.sign(
            &id,
            &self.identity,
            plain.get_mut(at..).ok_or(Error::BufferTooSmall)?,
        )?;
        for receipt in backlog.iter().filter(|r| r.seq > after) {
            at += receipt.sign(
                &id,
                &self.identity,
                plain.get_mut(at..).ok_or(Error::BufferTooSmall)?,
            )?;
        }
        let ephemeral = Zeroizing::new(crypto::hash::<32>(&[
            labels::SEAL_EPHEMERAL,
            self.identity.to_seed().as_slice(),
            session,
            &counter.to_le_bytes(),
        ]));
        seal(&id, &audit, &StaticSecret::from(*ephemeral), out, at)
    }
}

/// Checks the holder's signature over the transcript hash and the first command.
fn holder_signed(key: &SubjectKey, th: &[u8; 32], command: &[u8], proof: &Proof<'_>) -> Result<()> {
    let sig = crypto::Signature(proof.signature);
    key.verify(labels::HOLDER, &[th, command], &sig)
}

/// Who presented a chain the owner signed but the lock refused: its holder, if the holder
/// really signed this transcript (so a thief holding only the chain is not named). Out of
/// line: only denials need it.
#[inline(never)]
fn attribute(th: &[u8; 32], command: &[u8], chain: &[u8], proof: &Proof<'_>) -> Option<Who> {
    let leaf = UnverifiedChain::decode(chain).ok()?.leaf();
    holder_signed(&leaf.subject, th, command, proof).ok()?;
    Some(Who {
        id: leaf.id,
        holder: leaf.subject.key_id(),
    })
}

/// Whether a chain verification error can only concern a chain its owner signed (see
/// [`crate::credential::UnverifiedChain::verify`]).
fn signed_by_owner(e: Error) -> bool {
    !matches!(
        e,
        Error::Crypto
            | Error::UnknownOwner
            | Error::ChainLength
            | Error::Truncated
            | Error::TrailingBytes
            | Error::UnsupportedVersion
            | Error::UnexpectedKind
            | Error::Oversize
            | Error::Malformed
    )
}

/// Where a command leads: answered, or a retried open to serve in the open session.
enum Step<'a> {
    Done(Outcome),
    Retry(&'a [u8]),
}

/// What the lock answers before sealing: a plain reply, or a receipt bundle built into the
/// reply only when it is sealed.
enum Answer {
    Reply(Reply<'static>),
    Receipts(u64),
}

impl Session {
    /// Out of line: every receipt of a session asks for it.
    #[inline(never)]
    fn who(&self) -> Option<Who> {
        let verified = self.grant.as_ref().map(|g| Who {
            id: g.id,
            holder: g.holder.key_id(),
        });
        verified.or(self.claimed)
    }
}

/// Door sensor readings the firmware reports with [`Lock::door_event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DoorEvent {
    /// The door opened.
    Opened,
    /// The door closed.
    Closed,
    /// The door has stayed open longer than the firmware allows.
    LeftOpen,
}

// Kept out of line so their state-sized buffers never share a stack frame.
#[inline(never)]
fn load<S: Storage>(storage: &mut S, state: &mut LockState) -> Result<()> {
    let mut buf = [0u8; MAX_STATE_BYTES];
    let len = storage.load(&mut buf)?.ok_or(Error::NotProvisioned)?;
    state
        .decode_from(buf.get(..len).ok_or(Error::Storage)?)
        .map_err(|_| Error::Storage)
}

#[inline(never)]
fn persist<S: Storage>(storage: &mut S, state: &LockState) -> Result<()> {
    let mut buf = [0u8; MAX_STATE_BYTES];
    let len = state.encode(&mut buf)?;
    storage.commit(buf.get(..len).ok_or(Error::Storage)?)
}

/// A free pending slot, or else the oldest one, which is evicted. Total: there is always one.
fn pending_slot(pending: &mut [Option<Pending>; MAX_PENDING]) -> &mut Option<Pending> {
    let age = |p: &Option<Pending>| {
        p.as_ref()
            .map_or(0, |p| p.issued.as_secs().saturating_add(1))
    };
    let [first, rest @ ..] = pending;
    rest.iter_mut().fold(
        first,
        |oldest, p| if age(p) < age(oldest) { p } else { oldest },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phone::PhoneSession;
    use rand_core::SeedableRng;

    /// The reply sent under the last counter value ends the session; the counter never wraps
    /// back to a nonce already used under the session key.
    #[test]
    fn reply_counter_never_wraps() {
        let mut rng = chacha20::ChaCha20Rng::from_seed([5; 32]);
        let owner = SecretKey::from_seed(&[1; 32]).public_key();
        let storage = MemoryStorage::<4096>::new();
        let mut lock = Lock::install(SecretKey::from_seed(&[2; 32]), owner, storage).unwrap();
        let mut challenge = [0u8; 256];
        let n = lock
            .challenge(Tick::BOOT, &mut rng, &mut challenge)
            .unwrap();
        let mut msg = [0u8; 512];
        let (mut phone, m) = PhoneSession::open_anonymous(
            &challenge[..n],
            &lock.id(),
            Command::Hello,
            &mut rng,
            &mut msg,
        )
        .unwrap();
        let mut out = [0u8; 512];
        lock.handle(Tick::from_secs(0), &mut msg[..m], &mut out)
            .unwrap();
        lock.session.as_mut().unwrap().sent = u32::MAX;

        let m = phone.command(Command::Hello, &mut msg).unwrap();
        let outcome = lock
            .handle(Tick::from_secs(1), &mut msg[..m], &mut out)
            .unwrap();
        assert_eq!(out[2..6], u32::MAX.to_le_bytes());
        assert!(outcome.reply > 0 && lock.session.is_none());
        let m = phone.command(Command::Hello, &mut msg).unwrap();
        assert_eq!(
            lock.handle(Tick::from_secs(2), &mut msg[..m], &mut out),
            Err(Error::UnexpectedMessage)
        );
    }
}
