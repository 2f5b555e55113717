//! The holder's side: credentials, challenges, sessions, commands and replies.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chacha20::ChaCha20Rng;
use doorkey::credential::{LockId, UnverifiedChain};
use doorkey::session::{self, MAX_MESSAGE_BYTES, ReasonCode};
use doorkey::time::UnixTime;
use rand_core::SeedableRng;

use crate::error::{DoorkeyError, Result};
use crate::signer::{DeviceKey, DeviceSigner, KeyAlgorithm, Signing};

/// A credential the holder's app keeps: the chain bytes from its issuer, bound to the device
/// key. Importing checks the chain's form and that its leaf names this device key; whether
/// the chain's signatures hold and what it allows now, only a lock decides.
#[derive(uniffi::Object)]
pub struct Credential {
    chain: Vec<u8>,
    key: DeviceKey,
    info: CredentialInfo,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

#[uniffi::export]
impl Credential {
    /// Imports `chain` (as the issuer sent it) for the device key behind `signer`; a chain
    /// issued to another key is refused with [`DoorkeyError::Misuse`].
    #[uniffi::constructor]
    pub fn new(chain: Vec<u8>, signer: Arc<dyn DeviceSigner>) -> Result<Arc<Credential>> {
        let key = DeviceKey::new(signer)?;
        doorkey::phone::Credential::new(&chain, key.signing())?;
        let info = describe(&chain, &key)?;
        Ok(Arc::new(Credential { chain, key, info }))
    }

    /// What the credential grants, to whom and when.
    pub fn info(&self) -> CredentialInfo {
        self.info.clone()
    }

    /// The chain bytes, for the app to store and import again later.
    pub fn chain(&self) -> Vec<u8> {
        self.chain.clone()
    }

    /// Whether the credential names the lock `lock_id` (16 bytes).
    pub fn names_lock(&self, lock_id: Vec<u8>) -> bool {
        self.info.locks.contains(&lock_id)
    }
}

impl Credential {
    /// The core's view of this credential, signing through the app's signer.
    fn core(&self) -> Result<doorkey::phone::Credential<'_, Signing<'_>>> {
        Ok(doorkey::phone::Credential::new(
            &self.chain,
            self.key.signing(),
        )?)
    }
}

/// What a credential says, as its holder may read it.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct CredentialInfo {
    /// The holder link's id (16 bytes): what revocation and the owner's receipts name.
    pub credential_id: Vec<u8>,
    /// The locks the chain names (16-byte lock ids).
    pub locks: Vec<Vec<u8>>,
    /// What the holder may do.
    pub rights: Rights,
    /// Start of validity, Unix seconds (0: since ever).
    pub valid_from: u64,
    /// End of validity (exclusive), Unix seconds; `None` never expires.
    pub valid_until: Option<u64>,
    /// Whether a weekly schedule restricts when it opens (in the lock's local time).
    pub scheduled: bool,
    /// Openings allowed, if limited.
    pub uses: Option<u16>,
    /// The purpose it is bound to (32 bytes), such as [`delivery_purpose`] of an order.
    pub purpose: Option<Vec<u8>>,
    /// Whether some link of the chain is time-bounded, so the lock needs a trusted clock:
    /// carry a time anchor if the challenge says its clock is not trusted.
    pub needs_trusted_clock: bool,
    /// Links in the chain, the owner's first.
    pub chain_length: u8,
    /// The device key the credential is bound to.
    pub device_key: Vec<u8>,
    /// That key's algorithm.
    pub algorithm: KeyAlgorithm,
}

/// Rights a credential grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Rights {
    /// Open the door.
    pub unlock: bool,
    /// Lock the door.
    pub lock: bool,
    /// Issue narrower credentials to others.
    pub delegate: bool,
}

fn describe(chain: &[u8], key: &DeviceKey) -> Result<CredentialInfo> {
    use doorkey::credential::Rights as R;
    let decoded = UnverifiedChain::decode(chain)?;
    let leaf = decoded.leaf();
    Ok(CredentialInfo {
        credential_id: leaf.id.0.to_vec(),
        locks: decoded
            .locks()
            .as_slice()
            .iter()
            .map(|l| l.0.to_vec())
            .collect(),
        rights: Rights {
            unlock: leaf.rights.contains(R::UNLOCK),
            lock: leaf.rights.contains(R::LOCK),
            delegate: leaf.rights.contains(R::DELEGATE),
        },
        valid_from: leaf.not_before.as_secs(),
        valid_until: leaf.not_after().map(UnixTime::as_secs),
        scheduled: leaf.schedule.is_some(),
        uses: leaf.uses,
        purpose: leaf.purpose.map(|p| p.to_vec()),
        needs_trusted_clock: decoded.links().any(|l| l.is_time_bounded()),
        chain_length: u8::try_from(decoded.len()).map_err(|_| DoorkeyError::ChainLength)?,
        device_key: key.public_bytes(),
        algorithm: key.algorithm(),
    })
}

/// The purpose a delivery grant for `order_id` is bound to, to compare with
/// [`CredentialInfo::purpose`].
#[uniffi::export]
pub fn delivery_purpose(order_id: Vec<u8>) -> Vec<u8> {
    doorkey::server::purpose_of(&order_id).to_vec()
}

/// What a lock's challenge says, once its signature checks out.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ChallengeInfo {
    /// The lock that signed it (16 bytes).
    pub lock_id: Vec<u8>,
    /// The nonce a time anchor for this visit must be bound to (16 bytes).
    pub nonce: Vec<u8>,
    /// Whether the lock trusts its clock; if not, fetch a time anchor for `nonce` first.
    pub clock_trusted: bool,
    /// References (8 bytes each) to verified links the lock holds: a credential whose links
    /// before its leaf are among them is sent in short form.
    pub cached_links: Vec<Vec<u8>>,
}

impl From<doorkey::phone::ChallengeInfo> for ChallengeInfo {
    fn from(c: doorkey::phone::ChallengeInfo) -> ChallengeInfo {
        ChallengeInfo {
            lock_id: c.lock.0.to_vec(),
            nonce: c.nonce.to_vec(),
            clock_trusted: c.clock_trusted,
            cached_links: c.cached.as_slice().iter().map(|r| r.0.to_vec()).collect(),
        }
    }
}

/// Checks that `challenge` is signed by the lock `lock_id` (16 bytes). Sends nothing: call it
/// before anything identifying leaves the phone.
#[uniffi::export]
pub fn inspect_challenge(challenge: Vec<u8>, lock_id: Vec<u8>) -> Result<ChallengeInfo> {
    Ok(doorkey::phone::inspect_challenge(&challenge, &lock(&lock_id)?)?.into())
}

/// A 16-byte lock id from the app; another length is the app's mistake.
pub(crate) fn lock(id: &[u8]) -> Result<LockId> {
    Ok(LockId(id.try_into().map_err(|_| DoorkeyError::Misuse)?))
}

/// What the phone asks the lock.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Command {
    /// Open the door (the credential needs the unlock right).
    Unlock,
    /// Lock the door (the credential needs the lock right).
    Lock,
    /// End the session.
    Close,
    /// Open a session asking for nothing yet.
    Hello,
    /// Deliver a time anchor, signed by the owner or its time server for this visit's nonce.
    Time {
        /// The signed anchor as the server sent it.
        anchor: Vec<u8>,
    },
    /// Deliver a configuration update signed by the owner.
    Config {
        /// The signed update as the server sent it.
        update: Vec<u8>,
    },
    /// Fetch the receipts after sequence number `after` (`Outbox::after`).
    Receipts {
        /// The newest receipt the owner's server acknowledged holding.
        after: u64,
    },
    /// Deliver the owner's acknowledgement, so the lock drops the receipts it covers.
    Ack {
        /// The acknowledgement from the owner's server (`Outbox::ack`).
        ack: Ack,
    },
}

impl Command {
    fn core(&self) -> Result<session::Command<'_>> {
        Ok(match self {
            Command::Unlock => session::Command::Unlock,
            Command::Lock => session::Command::Lock,
            Command::Close => session::Command::Close,
            Command::Hello => session::Command::Hello,
            Command::Time { anchor } => session::Command::Time(anchor),
            Command::Config { update } => session::Command::Config(update),
            Command::Receipts { after } => session::Command::Receipts { after: *after },
            Command::Ack { ack } => session::Command::Ack(ack.core()?),
        })
    }
}

/// The owner's acknowledgement that its server holds a lock's receipts `first..=seq`.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Ack {
    /// Oldest receipt covered.
    pub first: u64,
    /// Newest receipt covered.
    pub seq: u64,
    /// That receipt's chain hash (32 bytes).
    pub hash: Vec<u8>,
    /// The lock's own token for the range (64 bytes).
    pub token: Vec<u8>,
}

impl Ack {
    pub(crate) fn core(&self) -> Result<doorkey::receipt::Ack> {
        Ok(doorkey::receipt::Ack {
            first: self.first,
            seq: self.seq,
            hash: self
                .hash
                .as_slice()
                .try_into()
                .map_err(|_| DoorkeyError::Malformed)?,
            token: self
                .token
                .as_slice()
                .try_into()
                .map_err(|_| DoorkeyError::Malformed)?,
        })
    }
}

impl From<doorkey::receipt::Ack> for Ack {
    fn from(a: doorkey::receipt::Ack) -> Ack {
        Ack {
            first: a.first,
            seq: a.seq,
            hash: a.hash.to_vec(),
            token: a.token.to_vec(),
        }
    }
}

/// The lock's answer.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum Reply {
    /// The lock recorded the decision and is unlocking.
    Unlocked,
    /// The lock is locking.
    Locked,
    /// The session is closed.
    Closed,
    /// The lock set its trusted clock to this time.
    TimeSet {
        /// Unix seconds.
        unix_time: u64,
    },
    /// The lock applied configuration up to this version.
    ConfigApplied {
        /// The version now applied.
        version: u64,
    },
    /// The session is open; nothing was asked.
    Ready,
    /// Refused, with the coarse reason a lock gives.
    Denied {
        /// Why.
        reason: DenyReason,
    },
    /// A receipt bundle sealed to the owner's audit key: keep it in the `Outbox`.
    Receipts {
        /// The sealed bundle, unreadable to the phone.
        bundle: Vec<u8>,
    },
    /// The lock dropped its receipts up to this sequence number.
    Acked {
        /// The newest receipt dropped.
        seq: u64,
    },
    /// The lock no longer holds the links the short-form open named and did nothing: call
    /// [`PhoneSession::retry`].
    NeedChain,
}

/// Why the lock refused, as much as it tells a phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum DenyReason {
    /// The credential does not allow this, here, for this holder.
    NotAuthorized,
    /// Outside the credential's validity window or schedule.
    NotNow,
    /// The grant's uses are spent.
    UsedUp,
    /// The lock's clock is untrusted: bring a time anchor.
    NeedTime,
    /// A configuration update or time anchor was refused.
    Refused,
    /// The lock cannot record the decision, so it fails closed.
    Unavailable,
    /// The request was not understood.
    BadRequest,
}

impl TryFrom<session::Reply<'_>> for Reply {
    type Error = DoorkeyError;

    /// A reply or reason the core added after this binding is [`DoorkeyError::UnexpectedKind`].
    fn try_from(r: session::Reply<'_>) -> Result<Reply> {
        Ok(match r {
            session::Reply::Unlocked => Reply::Unlocked,
            session::Reply::Locked => Reply::Locked,
            session::Reply::Closed => Reply::Closed,
            session::Reply::TimeSet(t) => Reply::TimeSet {
                unix_time: t.as_secs(),
            },
            session::Reply::ConfigApplied(version) => Reply::ConfigApplied { version },
            session::Reply::Ready => Reply::Ready,
            session::Reply::Denied(code) => Reply::Denied {
                reason: match code {
                    ReasonCode::NotAuthorized => DenyReason::NotAuthorized,
                    ReasonCode::NotNow => DenyReason::NotNow,
                    ReasonCode::UsedUp => DenyReason::UsedUp,
                    ReasonCode::NeedTime => DenyReason::NeedTime,
                    ReasonCode::Refused => DenyReason::Refused,
                    ReasonCode::Unavailable => DenyReason::Unavailable,
                    ReasonCode::BadRequest => DenyReason::BadRequest,
                    _ => return Err(DoorkeyError::UnexpectedKind),
                },
            },
            session::Reply::Receipts(bundle) => Reply::Receipts {
                bundle: bundle.to_vec(),
            },
            session::Reply::Acked(seq) => Reply::Acked { seq },
            session::Reply::NeedChain => Reply::NeedChain,
            _ => return Err(DoorkeyError::UnexpectedKind),
        })
    }
}

/// A session just opened, and its open message to send to the lock.
#[derive(Debug, uniffi::Record)]
pub struct OpenedSession {
    /// The session, for the lock's replies and further commands.
    pub session: Arc<PhoneSession>,
    /// The open message: send it to the lock.
    pub message: Vec<u8>,
}

/// Answers the lock's `challenge` as the holder of `credential`, asking for `command`.
/// Nothing is sent unless the challenge is signed by a lock the credential names
/// ([`DoorkeyError::WrongLock`] otherwise). Signs once with the device key.
#[uniffi::export]
pub fn open_session(
    challenge: Vec<u8>,
    credential: Arc<Credential>,
    command: Command,
) -> Result<OpenedSession> {
    let mut rng = system_rng()?;
    let mut message = vec![0u8; MAX_MESSAGE_BYTES];
    let core = credential.core()?;
    let (session, n) = doorkey::phone::PhoneSession::open(
        &challenge,
        &core,
        command.core()?,
        &mut rng,
        &mut message,
    )
    .map_err(|e| core.signer().explain(e))?;
    drop(core);
    message.truncate(n);
    Ok(OpenedSession {
        session: PhoneSession::wrap(session, Some(credential), command),
        message,
    })
}

/// Opens a session with the lock `lock_id` without a credential, to carry a time anchor, a
/// configuration update or an acknowledgement (fetching receipts takes a credential).
#[uniffi::export]
pub fn open_anonymous_session(
    challenge: Vec<u8>,
    lock_id: Vec<u8>,
    command: Command,
) -> Result<OpenedSession> {
    let mut rng = system_rng()?;
    let mut message = vec![0u8; MAX_MESSAGE_BYTES];
    let (session, n) = doorkey::phone::PhoneSession::open_anonymous(
        &challenge,
        &lock(&lock_id)?,
        command.core()?,
        &mut rng,
        &mut message,
    )?;
    message.truncate(n);
    Ok(OpenedSession {
        session: PhoneSession::wrap(session, None, command),
        message,
    })
}

/// A fresh generator for one open's ephemeral key, seeded from the operating system.
fn system_rng() -> Result<ChaCha20Rng> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|_| DoorkeyError::Randomness)?;
    Ok(ChaCha20Rng::from_seed(seed))
}

/// One session with one lock. Its methods may be called from any thread, one at a time.
#[derive(uniffi::Object)]
pub struct PhoneSession {
    state: Mutex<State>,
}

struct State {
    session: doorkey::phone::PhoneSession,
    /// The credential and command the session was opened with, for [`PhoneSession::retry`].
    credential: Option<Arc<Credential>>,
    opened_with: Command,
}

impl std::fmt::Debug for PhoneSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhoneSession")
            .field("session", &self.state().session)
            .finish_non_exhaustive()
    }
}

impl PhoneSession {
    fn wrap(
        session: doorkey::phone::PhoneSession,
        credential: Option<Arc<Credential>>,
        opened_with: Command,
    ) -> Arc<PhoneSession> {
        Arc::new(PhoneSession {
            state: Mutex::new(State {
                session,
                credential,
                opened_with,
            }),
        })
    }

    /// The state; the core never panics while holding it, so a poisoned lock's state is whole.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[uniffi::export]
impl PhoneSession {
    /// The next command of the session, sealed: send it to the lock.
    pub fn command(&self, command: Command) -> Result<Vec<u8>> {
        let mut message = vec![0u8; MAX_MESSAGE_BYTES];
        let n = self
            .state()
            .session
            .command(command.core()?, &mut message)?;
        message.truncate(n);
        Ok(message)
    }

    /// Reads the lock's reply. Replies must come in order: a replayed one is
    /// [`DoorkeyError::Replay`], an altered or forged one [`DoorkeyError::Crypto`].
    pub fn read_reply(&self, reply: Vec<u8>) -> Result<Reply> {
        let mut reply = reply;
        self.state().session.read_reply(&mut reply)?.try_into()
    }

    /// After [`Reply::NeedChain`]: the open's command again with the credential's whole
    /// chain, signed anew with the device key. [`DoorkeyError::Misuse`] in a session opened
    /// without a credential.
    pub fn retry(&self) -> Result<Vec<u8>> {
        let mut state = self.state();
        let credential = state.credential.clone().ok_or(DoorkeyError::Misuse)?;
        let command = state.opened_with.clone();
        let core = credential.core()?;
        let mut message = vec![0u8; MAX_MESSAGE_BYTES];
        let n = state
            .session
            .retry(&core, command.core()?, &mut message)
            .map_err(|e| core.signer().explain(e))?;
        message.truncate(n);
        Ok(message)
    }

    /// The challenge this session answered.
    pub fn info(&self) -> ChallengeInfo {
        self.state().session.info().into()
    }
}
