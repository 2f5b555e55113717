//! The lock role: firmware on a microcontroller. Everything here builds with no features and
//! no heap.
//!
//! [`Lock`] is a sans-IO state machine. Firmware calls [`Lock::challenge`] when a phone
//! connects and [`Lock::handle`] with each message that arrives, passing its monotonic tick
//! (seconds since boot) and a random number generator. It sends back the bytes the lock wrote
//! and performs the returned [`Action`]. Anything the lock must remember is committed through
//! [`Storage`] before an action is returned, so a power cut can never make it forget a use.
//!
//! Relay attacks at the radio layer are out of scope (they need distance bounding hardware);
//! [`Presence`] is where a proximity or user-intent check (UWB ranging, a touch on the lock)
//! plugs in: it is asked before any unlock is counted or performed.

mod state;
mod storage;

pub use state::*;
pub use storage::*;

use crate::config::{ConfigUpdate, TimeAnchor};
use crate::credential::{Grant, LockId, Rights, UnverifiedChain};
use crate::crypto::channel::{Ephemeral, SessionKeys, agree};
use crate::crypto::{self, PublicKey, SecretKey, Signer, encode_signed, labels};
use crate::error::{Error, Result};
use crate::receipt::{Event, Head, SESSION_ID_LEN, Who};
use crate::session::{
    Challenge, Command, NONCE_LEN, OPEN_CLEAR_LEN, Proof, ReasonCode, Reply, SESSION_LIFETIME,
    challenge_digest, split_sealed, transcript, write_sealed_header,
};
use crate::wire::{self, Kind, UnixTime};
use rand_core::CryptoRng;
use subtle::ConstantTimeEq;

/// Challenges outstanding at once; a new one evicts the oldest.
pub const MAX_PENDING: usize = 4;
/// Largest receipt bundle (a head and a full backlog) a reply carries.
pub const MAX_BUNDLE_BYTES: usize = 2048;

/// What the firmware must do after a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing to actuate.
    None,
    /// Drive the bolt open. The decision is already persisted.
    Unlock,
    /// Drive the bolt closed.
    Lock,
}

/// The result of handling one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Bytes of reply written to the output buffer (send them to the phone).
    pub reply: usize,
    /// What to actuate.
    pub action: Action,
    /// Why a request was refused, in full detail, for the firmware's own log; the phone only
    /// learns the coarse [`ReasonCode`].
    pub denied: Option<Error>,
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
    issued: u64,
}

struct Session {
    keys: SessionKeys,
    nonce: [u8; NONCE_LEN],
    /// First bytes of the transcript hash: names the session in receipts.
    id: [u8; SESSION_ID_LEN],
    /// Whether this session already delivered its time anchor (one per challenge nonce).
    anchored: bool,
    /// A holder whose genuine chain was refused, for the denial receipt.
    claimed: Option<Who>,
    grant: Option<Grant>,
    received: u32,
    sent: u32,
    opened: u64,
}

/// A lock: its identity, its persisted state and its sessions.
pub struct Lock<S: Storage> {
    identity: SecretKey,
    state: LockState,
    storage: S,
    pending: [Option<Pending>; MAX_PENDING],
    session: Option<Session>,
    /// Tick and UTC time of the last accepted anchor; `None` until one arrives after boot.
    anchor: Option<(u64, UnixTime)>,
    /// Memory may not match what storage holds (not started yet, or a commit and the reload
    /// after it failed): the lock refuses everything until it (re)starts from storage.
    failed: bool,
}

impl<S: Storage> Lock<S> {
    /// A lock that has not started: it refuses everything with [`Error::Storage`] until
    /// [`Lock::provision`] or [`Lock::start`] succeeds. Building it touches no storage, so
    /// firmware can create it where it will live (a static) and start it there, never moving
    /// its kilobytes of state across the stack.
    pub fn new(identity: SecretKey, storage: S) -> Lock<S> {
        Lock {
            state: LockState::blank(identity.public_key()),
            identity,
            storage,
            pending: [const { None }; MAX_PENDING],
            session: None,
            anchor: None,
            failed: true,
        }
    }

    /// Factory installation: [`Lock::new`] then [`Lock::provision`].
    pub fn install(identity: SecretKey, owner: PublicKey, storage: S) -> Result<Lock<S>> {
        let mut lock = Lock::new(identity, storage);
        lock.provision(owner)?;
        Ok(lock)
    }

    /// Starts after a reboot: [`Lock::new`] then [`Lock::start`].
    pub fn boot(identity: SecretKey, storage: S) -> Result<Lock<S>> {
        let mut lock = Lock::new(identity, storage);
        lock.start()?;
        Ok(lock)
    }

    /// Factory installation in place: a fresh state trusting `owner` replaces whatever
    /// storage held, and is committed with an installed receipt.
    pub fn provision(&mut self, owner: PublicKey) -> Result<()> {
        self.forget_sessions();
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
        self.failed = false;
        let result = self.update(|state| state.record(None, Event::Boot, None, None));
        self.failed = result.is_err();
        result
    }

    /// Drops every challenge, session and time anchor, and stops the lock until it has
    /// (re)started.
    fn forget_sessions(&mut self) {
        self.failed = true;
        self.pending = [const { None }; MAX_PENDING];
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
    /// the persisted high-water mark.
    pub fn trusted_now(&self, tick: u64) -> Option<UnixTime> {
        let (at, utc) = self.anchor?;
        let elapsed = tick.checked_sub(at)?;
        Some(utc.saturating_add(elapsed).max(self.state.high_water))
    }

    /// Writes a fresh signed challenge into `out` (call when a phone connects).
    pub fn challenge<R: CryptoRng + ?Sized>(
        &mut self,
        tick: u64,
        rng: &mut R,
        out: &mut [u8],
    ) -> Result<usize> {
        if self.failed {
            return Err(Error::Storage);
        }
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let (secret, ephemeral) = Ephemeral::generate(rng);
        let body = Challenge {
            lock_key: self.identity.public_key(),
            nonce,
            ephemeral,
            clock_trusted: self.trusted_now(tick).is_some(),
        };
        let len = encode_signed(
            out,
            Kind::Challenge,
            &body,
            labels::CHALLENGE,
            &self.identity,
        )?;
        let digest = challenge_digest(out.get(..len).ok_or(Error::BufferTooSmall)?);
        let slot = pending_slot(&mut self.pending).ok_or(Error::Misuse)?;
        *slot = Some(Pending {
            nonce,
            secret,
            digest,
            issued: tick,
        });
        Ok(len)
    }

    /// Handles one message from a phone, decrypting `input` in place and writing any reply
    /// into `out`. Messages that cannot be authenticated (unknown or expired challenge,
    /// replayed counter, failed AEAD) return an error and no reply.
    pub fn handle(&mut self, tick: u64, input: &mut [u8], out: &mut [u8]) -> Result<Outcome> {
        self.handle_with(tick, input, out, &mut ())
    }

    /// [`Lock::handle`] with a proximity or user-intent check consulted before any unlock.
    pub fn handle_with<P: Presence + ?Sized>(
        &mut self,
        tick: u64,
        input: &mut [u8],
        out: &mut [u8],
        presence: &mut P,
    ) -> Result<Outcome> {
        if self.failed {
            return Err(Error::Storage);
        }
        match input.get(1).copied() {
            Some(k) if k == Kind::Open as u8 => self.handle_open(tick, input, out, presence),
            Some(k) if k == Kind::Command as u8 => self.handle_command(tick, input, out, presence),
            Some(_) => Err(wire::split_header(input, Kind::Open)
                .err()
                .unwrap_or(Error::UnexpectedKind)),
            None => Err(Error::Truncated),
        }
    }

    fn handle_open<P: Presence + ?Sized>(
        &mut self,
        tick: u64,
        input: &mut [u8],
        out: &mut [u8],
        presence: &mut P,
    ) -> Result<Outcome> {
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
        id.copy_from_slice(th.get(..SESSION_ID_LEN).ok_or(Error::Misuse)?);
        let mut session = Session {
            keys,
            nonce,
            id,
            anchored: false,
            claimed: None,
            grant: None,
            received: 0,
            sent: 0,
            opened: tick,
        };
        let parsed = wire::take::<Command<'_>>(plain).and_then(|(command, rest)| {
            let command_bytes = plain
                .get(..plain.len() - rest.len())
                .ok_or(Error::Truncated)?;
            let proof: Option<Proof<'_>> = wire::take_all(rest)?;
            Ok((command, command_bytes, proof))
        });
        let (command, command_bytes, proof) = match parsed {
            Ok(p) => p,
            Err(e) => return self.finish(session, tick, Err(e), out, true),
        };
        // Self-authenticating commands go first, so a phone can bring the time anchor its
        // time-bounded credential needs in the same message.
        let early = self.administer(tick, &mut session, command);
        if let Some(proof) = proof {
            match self.verify_proof(tick, &th, command_bytes, &proof) {
                Ok(grant) => session.grant = Some(grant),
                Err((e, who)) => {
                    session.claimed = who;
                    return self.finish(session, tick, Err(e), out, true);
                }
            }
        }
        let result = match early {
            Some(r) => r,
            None => self.execute(tick, &session, command, presence),
        };
        self.finish(session, tick, result, out, false)
    }

    fn handle_command<P: Presence + ?Sized>(
        &mut self,
        tick: u64,
        input: &mut [u8],
        out: &mut [u8],
        presence: &mut P,
    ) -> Result<Outcome> {
        let (counter, aad, sealed) = split_sealed(input, Kind::Command)?;
        let mut session = self.session.take().ok_or(Error::UnexpectedMessage)?;
        if tick
            .checked_sub(session.opened)
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
        let result = match wire::take_all::<Command<'_>>(plain) {
            Ok(command) => match self.administer(tick, &mut session, command) {
                Some(r) => r,
                None => self.execute(tick, &session, command, presence),
            },
            Err(e) => Err(e),
        };
        self.finish(session, tick, result, out, false)
    }

    /// Time anchors and configuration updates: signed by their authors, so any session may
    /// carry them. `None` for every other command.
    fn administer(
        &mut self,
        tick: u64,
        session: &mut Session,
        command: Command<'_>,
    ) -> Option<Result<(Answer, Action)>> {
        let reply = match command {
            Command::Time(anchor) => self.accept_anchor(tick, session, anchor),
            Command::Config(update) => self.accept_config(tick, session, update),
            _ => return None,
        };
        Some(reply.map(|r| (Answer::Reply(r), Action::None)))
    }

    /// Runs a credential-bound command in an open session.
    fn execute<P: Presence + ?Sized>(
        &mut self,
        tick: u64,
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
                Ok((Answer::Receipts(after), Action::None))
            }
            Command::Unlock => {
                let grant = session.grant.as_ref().ok_or(Error::NotPermitted)?;
                grant.require(Rights::UNLOCK)?;
                if let Some(end) = grant.expires
                    && now.ok_or(Error::ClockUntrusted)? >= end
                {
                    return Err(Error::Expired);
                }
                if !presence.confirm(grant) {
                    return Err(Error::NotPermitted);
                }
                let limits = grant.limits;
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
                // Locking is the safe state: it happens even if its receipt cannot be stored.
                let _ =
                    self.update(|state| state.record(now, Event::Relocked, who, Some(session.id)));
                Ok((Answer::Reply(Reply::Locked), Action::Lock))
            }
            Command::Time(_) | Command::Config(_) => Err(Error::UnexpectedMessage),
        }
    }

    /// Reports a door event from the firmware's sensors; it becomes a receipt.
    pub fn door_event(&mut self, tick: u64, event: DoorEvent) -> Result<()> {
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
    fn verify_proof(
        &self,
        tick: u64,
        th: &[u8; 32],
        command: &[u8],
        proof: &Proof<'_>,
    ) -> core::result::Result<Grant, (Error, Option<Who>)> {
        match self.state.verify_chain(proof.chain, self.trusted_now(tick)) {
            Ok(grant) => match holder_signed(&grant.holder, th, command, proof) {
                Ok(()) => Ok(grant),
                Err(e) => Err((e, None)),
            },
            Err(e) if signed_by_owner(e) => Err((e, attribute(th, command, proof))),
            Err(e) => Err((e, None)),
        }
    }

    fn accept_anchor(
        &mut self,
        tick: u64,
        session: &mut Session,
        bytes: &[u8],
    ) -> Result<Reply<'static>> {
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
        if a.time < self.state.high_water {
            return Err(Error::Stale);
        }
        self.update(|state| state.record(Some(a.time), Event::TimeSet, None, Some(session.id)))?;
        self.anchor = Some((tick, a.time));
        session.anchored = true;
        Ok(Reply::TimeSet(a.time))
    }

    fn accept_config(
        &mut self,
        tick: u64,
        session: &Session,
        bytes: &[u8],
    ) -> Result<Reply<'static>> {
        let update = ConfigUpdate::decode(bytes)?;
        if !self
            .state
            .enrolment
            .owners()
            .iter()
            .any(|o| o.ct_eq(&update.body.signer))
        {
            return Err(Error::NotPermitted);
        }
        update.verify(&update.body.signer, labels::CONFIG)?;
        let now = self.trusted_now(tick);
        let version = update.body.version;
        self.update(|state| {
            state.apply(&update.body, now)?;
            state.record(now, Event::ConfigChanged(version), None, Some(session.id))
        })?;
        Ok(Reply::ConfigApplied(version))
    }

    /// Changes the state and commits it; on any failure the committed state is reloaded, so
    /// memory never runs ahead of storage.
    fn update(&mut self, change: impl FnOnce(&mut LockState) -> Result<()>) -> Result<()> {
        if self.failed {
            return Err(Error::Storage);
        }
        let result = change(&mut self.state).and_then(|()| persist(&mut self.storage, &self.state));
        if result.is_err() && load(&mut self.storage, &mut self.state).is_err() {
            self.failed = true;
        }
        result
    }

    fn take_pending(&mut self, nonce: &[u8; NONCE_LEN], tick: u64) -> Result<Pending> {
        let lifetime = u64::from(self.state.enrolment.challenge_lifetime());
        let slot = self
            .pending
            .iter_mut()
            .find(|p| p.as_ref().is_some_and(|p| bool::from(p.nonce.ct_eq(nonce))))
            .ok_or(Error::Replay)?;
        let pending = slot.take().ok_or(Error::Replay)?;
        match tick.checked_sub(pending.issued) {
            Some(age) if age <= lifetime => Ok(pending),
            _ => Err(Error::Replay),
        }
    }

    /// Records a denial, seals the answer and keeps the session open unless it was closed
    /// (or `close` asks for it: a failed proof ends the session).
    fn finish(
        &mut self,
        mut session: Session,
        tick: u64,
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
                let len = self.bundle(tick, after, &mut bundle)?;
                let reply = Reply::Receipts(bundle.get(..len).ok_or(Error::BufferTooSmall)?);
                (wire::put(&reply, body)?, close)
            }
        };
        let (aad, rest) = out.split_at_mut_checked(at).ok_or(Error::BufferTooSmall)?;
        let sealed = session.keys.lock_to_phone.seal(counter, aad, rest, n)?;
        session.sent = counter.wrapping_add(1);
        if !closed {
            self.session = Some(session);
        }
        Ok(Outcome {
            reply: at + sealed,
            action,
            denied,
        })
    }

    /// Signs a head and every backlog receipt after `after` into `out`, oldest first.
    fn bundle(&self, tick: u64, after: u64, out: &mut [u8]) -> Result<usize> {
        let id = self.id();
        let head = Head {
            seq: self.state.receipts.seq,
            hash: self.state.receipts.hash,
            time: self.trusted_now(tick),
        };
        let mut at = head.sign(&id, &self.identity, out)?;
        for receipt in self
            .state
            .backlog
            .as_slice()
            .iter()
            .filter(|r| r.seq > after)
        {
            at += receipt.sign(
                &id,
                &self.identity,
                out.get_mut(at..).ok_or(Error::BufferTooSmall)?,
            )?;
        }
        Ok(at)
    }
}

/// Checks the holder's signature over the transcript hash and the first command.
fn holder_signed(key: &PublicKey, th: &[u8; 32], command: &[u8], proof: &Proof<'_>) -> Result<()> {
    let sig = crypto::Signature(proof.signature);
    crypto::verify(key, labels::HOLDER, &[th, command], &sig)
}

/// Who presented a chain the owner signed but the lock refused: its holder, if the holder
/// really signed this transcript (so a thief holding only the chain is not named). Out of
/// line: only denials need it.
#[inline(never)]
fn attribute(th: &[u8; 32], command: &[u8], proof: &Proof<'_>) -> Option<Who> {
    let leaf = UnverifiedChain::decode(proof.chain).ok()?.leaf();
    holder_signed(&leaf.subject, th, command, proof).ok()?;
    Some(Who {
        id: leaf.id,
        holder: leaf.subject,
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

/// What the lock answers before sealing: a plain reply, or a receipt bundle built into the
/// reply only when it is sealed.
enum Answer {
    Reply(Reply<'static>),
    Receipts(u64),
}

impl Session {
    fn who(&self) -> Option<Who> {
        let verified = self.grant.as_ref().map(|g| Who {
            id: g.id,
            holder: g.holder,
        });
        verified.or(self.claimed)
    }
}

/// Door sensor readings the firmware reports with [`Lock::door_event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    let len = storage.load(&mut buf)?.ok_or(Error::Storage)?;
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

/// A free pending slot, or else the oldest one, which is evicted.
fn pending_slot(pending: &mut [Option<Pending>; MAX_PENDING]) -> Option<&mut Option<Pending>> {
    pending
        .iter_mut()
        .min_by_key(|p| p.as_ref().map_or(0, |p| p.issued.saturating_add(1)))
}
