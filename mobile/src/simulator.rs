//! A real doorkey lock in memory, for testing an app without hardware.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chacha20::ChaCha20Rng;
use doorkey::config::{Change, ConfigUpdate, TimeAnchor};
use doorkey::credential::{Chain, Link, Rights};
use doorkey::crypto::{SecretKey, Signer};
use doorkey::lock::{Action, DoorEvent, Lock, MAX_BUNDLE_BYTES, MemoryStorage};
use doorkey::receipt::AuditSecret;
use doorkey::server::{Delivery, Issuer, ReceiptLog};
use doorkey::session::{self, MAX_CHALLENGE_BYTES, MAX_MESSAGE_BYTES};
use doorkey::time::{Seconds, Tick, UnixTime};
use rand_core::SeedableRng;

use crate::error::{DoorkeyError, Result};
use crate::phone::Ack;
use crate::signer::{KeyAlgorithm, holder_key};

/// The virtual clock starts here: 2026-06-01 12:00:00 UTC, at the lock's tick 1000.
const START: UnixTime = UnixTime::from_secs(1_780_315_200);
const START_TICK: u64 = 1000;

/// A test tool: a real doorkey lock (the same Rust code firmware runs) with in-memory storage
/// on a virtual clock, its owner, the owner's server and a delivery company the owner
/// delegated to, all in this process. Its keys come from the seed and live in memory, so it
/// proves nothing about a deployment's key handling; what it exercises is the app's side of
/// the protocol against the lock's real decisions.
///
/// Like a freshly installed lock, its clock is untrusted until the app carries a
/// [`LockSimulator::time_anchor`]; its receipts are sealed to the owner's audit key, which
/// [`LockSimulator::upload`] opens as the owner's server would.
#[derive(uniffi::Object)]
pub struct LockSimulator {
    sim: Mutex<Sim>,
}

struct Sim {
    rng: ChaCha20Rng,
    owner: SecretKey,
    audit: AuditSecret,
    company: Issuer<SecretKey>,
    lock: Box<Lock<MemoryStorage<4096>>>,
    server: ReceiptLog,
    tick: Tick,
    bolt_open: bool,
}

impl std::fmt::Debug for LockSimulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sim = self.sim();
        f.debug_struct("LockSimulator")
            .field("lock", &sim.lock)
            .field("tick", &sim.tick)
            .field("bolt_open", &sim.bolt_open)
            .finish_non_exhaustive()
    }
}

/// What the lock did with a message.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct LockResponse {
    /// The reply to give the phone (empty if the lock had nothing to say).
    pub reply: Vec<u8>,
    /// What the lock drove the bolt to do.
    pub action: LockAction,
    /// Why a request was refused, in the detail the lock logs; the phone only learns the
    /// coarse `DenyReason`.
    pub denied: Option<DoorkeyError>,
}

/// What the lock drives the bolt to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum LockAction {
    /// Nothing.
    None,
    /// Open.
    Unlock,
    /// Close.
    Lock,
}

/// What the owner's server made of an upload.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct UploadReport {
    /// Problems found (a gap, fork, bad signature, unopenable bundle): 0 for a genuine upload.
    pub findings: u32,
    /// The events of every receipt the server now holds, oldest first, by the core's names
    /// (`Unlocked`, `DoorOpened`, ...): for tests and display.
    pub events: Vec<String>,
    /// The server's acknowledgement, for the phone's `Outbox::set_ack`.
    pub ack: Option<Ack>,
}

impl LockSimulator {
    fn sim(&self) -> MutexGuard<'_, Sim> {
        self.sim.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Sim {
    fn now(&self) -> UnixTime {
        START + Seconds::from_secs(self.tick.as_secs() - START_TICK)
    }

    fn challenge(&mut self) -> Result<Vec<u8>> {
        let mut out = vec![0u8; MAX_CHALLENGE_BYTES];
        let n = self.lock.challenge(self.tick, &mut self.rng, &mut out)?;
        out.truncate(n);
        Ok(out)
    }

    fn handle(&mut self, message: &mut [u8]) -> Result<LockResponse> {
        let mut reply = vec![0u8; MAX_BUNDLE_BYTES + MAX_MESSAGE_BYTES];
        let outcome = self.lock.handle(self.tick, message, &mut reply)?;
        reply.truncate(outcome.reply);
        let action = match outcome.action {
            Action::Unlock => LockAction::Unlock,
            Action::Lock => LockAction::Lock,
            _ => LockAction::None,
        };
        match action {
            LockAction::Unlock => self.bolt_open = true,
            LockAction::Lock => self.bolt_open = false,
            LockAction::None => {}
        }
        Ok(LockResponse {
            reply,
            action,
            denied: outcome.denied.map(DoorkeyError::from),
        })
    }

    /// The owner configures the lock from its own phone (here, in-process).
    fn configure(&mut self, version: u64, change: Change) -> Result<()> {
        let lock = self.lock.id();
        let mut update = [0u8; 512];
        let u = ConfigUpdate {
            lock,
            version,
            signer: self.owner.public_key(),
            change,
        }
        .sign(&self.owner, &mut update)?;
        let challenge = self.challenge()?;
        let mut open = [0u8; MAX_MESSAGE_BYTES];
        let (mut phone, m) = doorkey::phone::PhoneSession::open_anonymous(
            &challenge,
            &lock,
            session::Command::Config(&update[..u]),
            &mut self.rng,
            &mut open,
        )?;
        let mut response = self.handle(&mut open[..m])?;
        match phone.read_reply(&mut response.reply)? {
            session::Reply::ConfigApplied(v) if v == version => Ok(()),
            _ => Err(DoorkeyError::Misuse),
        }
    }
}

#[uniffi::export]
impl LockSimulator {
    /// A lock installed for a fresh owner, with its audit key set, and a delivery company the
    /// owner delegated unlock and relock to for 30 days; every key drawn from `seed` (32
    /// bytes). The virtual clock reads 2026-06-01 12:00:00 UTC; the lock's own clock is
    /// untrusted.
    #[uniffi::constructor]
    pub fn new(seed: Vec<u8>) -> Result<Arc<LockSimulator>> {
        let seed: [u8; 32] = seed.try_into().map_err(|_| DoorkeyError::Misuse)?;
        let mut rng = ChaCha20Rng::from_seed(seed);
        let owner = SecretKey::generate(&mut rng);
        let lock = Box::new(
            Lock::install(
                SecretKey::generate(&mut rng),
                owner.public_key(),
                MemoryStorage::new(),
            )
            .map_err(|e| DoorkeyError::from(e.error()))?,
        );
        let company_key = SecretKey::generate(&mut rng);
        let delegation = Link::builder(
            company_key.public_key(),
            Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE),
        )
        .locks(&[lock.id()])
        .valid_from(START - Seconds::from_days(1))
        .valid_for(Seconds::from_days(30))
        .depth(1)
        .build(&mut rng)?;
        let company = Issuer::new(company_key, Chain::root(&owner, &delegation)?)?;
        let audit = AuditSecret::generate(&mut rng);
        let server = ReceiptLog::new(lock.public_key())?;
        let mut sim = Sim {
            rng,
            owner,
            company,
            lock,
            server,
            tick: Tick::from_secs(START_TICK),
            bolt_open: false,
            audit,
        };
        let audit_key = sim.audit.public_key();
        sim.configure(1, Change::SetAuditKey(audit_key))?;
        Ok(Arc::new(LockSimulator {
            sim: Mutex::new(sim),
        }))
    }

    /// The lock's id (16 bytes), as credentials name it.
    pub fn lock_id(&self) -> Vec<u8> {
        self.sim().lock.id().0.to_vec()
    }

    /// The virtual clock's time, Unix seconds.
    pub fn now(&self) -> u64 {
        self.sim().now().as_secs()
    }

    /// Moves the virtual clock (and the lock's tick) forward.
    pub fn advance(&self, seconds: u64) {
        let mut sim = self.sim();
        sim.tick = sim.tick + Seconds::from_secs(seconds);
    }

    /// The delivery company's server mints a grant for the device key `device_key`: this lock,
    /// unlock and relock, one use, `valid_for_seconds` from now, bound to `order_id`, for a
    /// delivery slot from 30 minutes ago to 30 minutes ahead. Returns the chain to import.
    pub fn issue_delivery_grant(
        &self,
        algorithm: KeyAlgorithm,
        device_key: Vec<u8>,
        order_id: Vec<u8>,
        valid_for_seconds: u64,
    ) -> Result<Vec<u8>> {
        let device = holder_key(algorithm, &device_key)?;
        let mut sim = self.sim();
        let now = sim.now();
        let order = Delivery {
            order_id: &order_id,
            lock: sim.lock.id(),
            slot_start: now - Seconds::from_mins(30),
            slot_end: now + Seconds::from_mins(30),
        };
        let sim = &mut *sim;
        let grant = sim.company.mint_delivery(
            &order,
            device,
            now,
            Seconds::from_secs(valid_for_seconds),
            &mut sim.rng,
        )?;
        Ok(grant.as_bytes().to_vec())
    }

    /// The owner's time anchor for the challenge nonce `nonce` (16 bytes), at the virtual
    /// clock's time: what the app fetches from the owner's server when a challenge says the
    /// lock's clock is untrusted.
    pub fn time_anchor(&self, nonce: Vec<u8>) -> Result<Vec<u8>> {
        let nonce = nonce.try_into().map_err(|_| DoorkeyError::Misuse)?;
        let sim = self.sim();
        let mut anchor = vec![0u8; 512];
        let n = TimeAnchor {
            lock: sim.lock.id(),
            nonce,
            time: sim.now(),
            signer: sim.owner.public_key(),
        }
        .sign(&sim.owner, &mut anchor)?;
        anchor.truncate(n);
        Ok(anchor)
    }

    /// The lock's next challenge, as it would advertise on connection.
    pub fn challenge(&self) -> Result<Vec<u8>> {
        self.sim().challenge()
    }

    /// Gives the lock a message from the phone and returns what it did. Messages the lock
    /// refuses to answer at all (a replayed open, a forged command) are errors.
    pub fn handle(&self, message: Vec<u8>) -> Result<LockResponse> {
        let mut message = message;
        self.sim().handle(&mut message)
    }

    /// The door sensor reports the door opened (a receipt).
    pub fn door_opened(&self) -> Result<()> {
        let mut sim = self.sim();
        let tick = sim.tick;
        Ok(sim.lock.door_event(tick, DoorEvent::Opened)?)
    }

    /// The door sensor reports the door closed (a receipt).
    pub fn door_closed(&self) -> Result<()> {
        let mut sim = self.sim();
        let tick = sim.tick;
        Ok(sim.lock.door_event(tick, DoorEvent::Closed)?)
    }

    /// Whether the bolt is open: the last action the lock took was an unlock.
    pub fn bolt_open(&self) -> bool {
        self.sim().bolt_open
    }

    /// The owner's server receives an upload (an `Upload`'s `bundles`), opens it with
    /// the audit key and verifies it against the lock's public key.
    pub fn upload(&self, bundles: Vec<u8>) -> Result<UploadReport> {
        let sim = &mut *self.sim();
        let findings = sim.server.ingest_sealed(&sim.audit, &bundles)?;
        let events = sim
            .server
            .receipts()?
            .iter()
            .map(|r| format!("{:?}", r.receipt.event))
            .collect();
        Ok(UploadReport {
            findings: u32::try_from(findings.len()).map_err(|_| DoorkeyError::Oversize)?,
            events,
            ack: sim.server.ack()?.map(Ack::from),
        })
    }
}
