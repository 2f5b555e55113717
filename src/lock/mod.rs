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
use crate::credential::{Grant, LockId, Rights};
use crate::crypto::channel::{SessionKeys, agree};
use crate::crypto::{self, PublicKey, SecretKey, Signer, encode_signed, labels};
use crate::error::{Error, Result};
use crate::session::{
    Challenge, Command, NONCE_LEN, OPEN_CLEAR_LEN, Proof, ReasonCode, Reply, SESSION_LIFETIME,
    challenge_digest, split_sealed, transcript, write_sealed_header,
};
use crate::wire::{self, Kind, UnixTime};
use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use x25519_dalek::{EphemeralSecret, PublicKey as XPublic};

/// Challenges outstanding at once; a new one evicts the oldest.
pub const MAX_PENDING: usize = 4;

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
    secret: EphemeralSecret,
    digest: [u8; 32],
    issued: u64,
}

struct Session {
    keys: SessionKeys,
    nonce: [u8; NONCE_LEN],
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
}

impl<S: Storage> Lock<S> {
    /// Factory installation: a fresh state trusting `owner`, committed to `storage`.
    pub fn install(identity: SecretKey, owner: PublicKey, mut storage: S) -> Result<Lock<S>> {
        let state = LockState::new(identity.public_key(), owner)?;
        persist(&mut storage, &state)?;
        Ok(Lock::with_state(identity, state, storage))
    }

    /// Starts after a reboot from the committed state. The clock is untrusted until a time
    /// anchor arrives, and nothing from before the reboot can be answered.
    pub fn boot(identity: SecretKey, mut storage: S) -> Result<Lock<S>> {
        let mut buf = [0u8; MAX_STATE_BYTES];
        let len = storage.load(&mut buf)?.ok_or(Error::Storage)?;
        let state =
            LockState::decode(buf.get(..len).ok_or(Error::Storage)?).map_err(|_| Error::Storage)?;
        if !state.enrolment.public_key().ct_eq(&identity.public_key()) {
            return Err(Error::Misuse);
        }
        Ok(Lock::with_state(identity, state, storage))
    }

    fn with_state(identity: SecretKey, state: LockState, storage: S) -> Lock<S> {
        Lock {
            identity,
            state,
            storage,
            pending: [const { None }; MAX_PENDING],
            session: None,
            anchor: None,
        }
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
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let secret = EphemeralSecret::random_from_rng(rng);
        let body = Challenge {
            lock_key: self.identity.public_key(),
            nonce,
            ephemeral: XPublic::from(&secret).to_bytes(),
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

        // From here the peer holds the session keys: answer under encryption.
        let mut session = Session {
            keys,
            nonce,
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
            Err(e) => return self.reply_and_close(session, Err(e), out),
        };
        self.session = None;
        // Self-authenticating commands go first, so a phone can bring the time anchor its
        // time-bounded credential needs in the same message.
        let early = match command {
            Command::Time(anchor) => Some(self.accept_anchor(tick, &session.nonce, anchor)),
            Command::Config(update) => Some(self.accept_config(tick, update)),
            _ => None,
        };
        if let Some(proof) = proof {
            match self.verify_proof(tick, &th, command_bytes, &proof) {
                Ok(grant) => session.grant = Some(grant),
                Err(e) => return self.reply_and_close(session, Err(e), out),
            }
        }
        let result = match early {
            Some(r) => r.map(|reply| (reply, Action::None)),
            None => self.execute(tick, &mut session, command, presence),
        };
        self.finish(session, result, out)
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
        let result = wire::take_all::<Command<'_>>(plain).and_then(|command| match command {
            Command::Time(anchor) => self
                .accept_anchor(tick, &session.nonce, anchor)
                .map(|r| (r, Action::None)),
            Command::Config(update) => self.accept_config(tick, update).map(|r| (r, Action::None)),
            other => self.execute(tick, &mut session, other, presence),
        });
        self.finish(session, result, out)
    }

    /// Runs a credential-bound command in an open session.
    fn execute<P: Presence + ?Sized>(
        &mut self,
        tick: u64,
        session: &mut Session,
        command: Command<'_>,
        presence: &mut P,
    ) -> Result<(Reply, Action)> {
        match command {
            Command::Hello => Ok((Reply::Ready, Action::None)),
            Command::Close => Ok((Reply::Closed, Action::None)),
            Command::Unlock => {
                let grant = session.grant.as_ref().ok_or(Error::NotPermitted)?;
                grant.require(Rights::UNLOCK)?;
                let now = self.trusted_now(tick);
                if grant.expires.is_some() {
                    let now = now.ok_or(Error::ClockUntrusted)?;
                    if grant.expires.is_some_and(|end| now >= end) {
                        return Err(Error::Expired);
                    }
                }
                if !presence.confirm(grant) {
                    return Err(Error::NotPermitted);
                }
                let limits = grant.limits;
                self.update(|state| {
                    if !limits.is_empty() {
                        state.consume(limits.as_slice(), now.ok_or(Error::ClockUntrusted)?)?;
                    }
                    if let Some(now) = now {
                        state.high_water = state.high_water.max(now);
                    }
                    Ok(())
                })?;
                Ok((Reply::Unlocked, Action::Unlock))
            }
            Command::Lock => {
                session
                    .grant
                    .as_ref()
                    .ok_or(Error::NotPermitted)?
                    .require(Rights::LOCK)?;
                Ok((Reply::Locked, Action::Lock))
            }
            Command::Time(_) | Command::Config(_) => Err(Error::UnexpectedMessage),
        }
    }

    fn verify_proof(
        &self,
        tick: u64,
        th: &[u8; 32],
        command: &[u8],
        proof: &Proof<'_>,
    ) -> Result<Grant> {
        let grant = self
            .state
            .verify_chain(proof.chain, self.trusted_now(tick))?;
        crypto::verify(
            &grant.holder,
            labels::HOLDER,
            &[th, command],
            &crypto::Signature(proof.signature),
        )?;
        Ok(grant)
    }

    fn accept_anchor(&mut self, tick: u64, nonce: &[u8; NONCE_LEN], bytes: &[u8]) -> Result<Reply> {
        let anchor = TimeAnchor::decode(bytes)?;
        let a = anchor.body;
        if a.lock != self.id()
            || !bool::from(a.nonce.ct_eq(nonce))
            || !self.state.enrolment.is_time_authority(&a.signer)
        {
            return Err(Error::NotPermitted);
        }
        anchor.verify(&a.signer, labels::TIME)?;
        if a.time < self.state.high_water {
            return Err(Error::Stale);
        }
        self.update(|state| {
            state.high_water = a.time;
            Ok(())
        })?;
        self.anchor = Some((tick, a.time));
        Ok(Reply::TimeSet(a.time))
    }

    fn accept_config(&mut self, tick: u64, bytes: &[u8]) -> Result<Reply> {
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
        self.update(|state| state.apply(&update.body, now))?;
        Ok(Reply::ConfigApplied(update.body.version))
    }

    /// Changes the state and commits it; on any failure the committed state is reloaded, so
    /// memory never runs ahead of storage.
    fn update(&mut self, change: impl FnOnce(&mut LockState) -> Result<()>) -> Result<()> {
        let result = change(&mut self.state).and_then(|()| persist(&mut self.storage, &self.state));
        if result.is_err() {
            let mut buf = [0u8; MAX_STATE_BYTES];
            if let Ok(Some(len)) = self.storage.load(&mut buf)
                && let Some(Ok(state)) = buf.get(..len).map(LockState::decode)
            {
                self.state = state;
            }
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

    fn reply_and_close(
        &mut self,
        session: Session,
        result: Result<(Reply, Action)>,
        out: &mut [u8],
    ) -> Result<Outcome> {
        let outcome = self.finish(session, result, out)?;
        self.session = None;
        Ok(outcome)
    }

    /// Seals the reply (or the denial) and keeps the session open unless it was closed.
    fn finish(
        &mut self,
        mut session: Session,
        result: Result<(Reply, Action)>,
        out: &mut [u8],
    ) -> Result<Outcome> {
        let (reply, action, denied) = match result {
            Ok((reply, action)) => (reply, action, None),
            Err(e) => (
                Reply::Denied(ReasonCode::from_error(e)),
                Action::None,
                Some(e),
            ),
        };
        let counter = session.sent;
        let at = write_sealed_header(out, Kind::Reply, counter)?;
        let n = wire::put(&reply, out.get_mut(at..).ok_or(Error::BufferTooSmall)?)?;
        let (aad, rest) = out.split_at_mut_checked(at).ok_or(Error::BufferTooSmall)?;
        let sealed = session.keys.lock_to_phone.seal(counter, aad, rest, n)?;
        session.sent = counter.wrapping_add(1);
        if reply != Reply::Closed {
            self.session = Some(session);
        }
        Ok(Outcome {
            reply: at + sealed,
            action,
            denied,
        })
    }
}

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
