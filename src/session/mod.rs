//! The lock/phone session protocol, shared by both roles: message layouts, the transcript, and
//! what the phone may ask and the lock may answer.
//!
//! ```text
//! lock  -> phone  Challenge  [1][0x10] body{lock key, nonce, lock ephemeral, clock trusted} sig_lock
//! phone -> lock   Open       [1][0x11] nonce ephemeral_phone  AEAD_p2l#0( Command || Option<Proof> )
//! lock  -> phone  Reply      [1][0x13] counter                AEAD_l2p#n( Reply )
//! phone -> lock   Command    [1][0x12] counter                AEAD_p2l#n( Command )
//! ```
//! The lock speaks first and signs; the phone sends nothing identifying until that signature
//! checks out against the lock its credential names, and then only under encryption.

use crate::credential::{ChainRef, LockId};
use crate::crypto::{self, PublicKey, Signed, labels};
use crate::error::{Error, Result};
use crate::time::{Seconds, UnixTime};
use crate::wire::{self, Bounded, Kind};
use serde::{Deserialize, Serialize};

/// Bytes of a challenge nonce (128 bits).
pub const NONCE_LEN: usize = 16;
/// Default seconds a challenge stays answerable.
pub const DEFAULT_CHALLENGE_LIFETIME: u16 = 5;
/// Longest challenge lifetime a configuration may set.
pub const MAX_CHALLENGE_LIFETIME: u16 = 60;
/// Seconds a session stays open after the open message that started it.
pub const SESSION_LIFETIME: Seconds = Seconds::from_secs(120);
/// Most references to held links a challenge advertises (PROTOCOL 22.2).
pub const MAX_ADVERTISED: usize = 4;
/// Largest encoded challenge: one advertising [`MAX_ADVERTISED`] references.
pub const MAX_CHALLENGE_BYTES: usize = 180;
/// Largest session message (an open carrying the largest chain).
pub const MAX_MESSAGE_BYTES: usize = 2400;
/// Clear bytes at the front of an open: header, nonce, phone ephemeral key.
pub const OPEN_CLEAR_LEN: usize = 2 + NONCE_LEN + 32;
/// Clear bytes at the front of a command or reply: header and 4-byte counter.
pub const SEALED_HEADER_LEN: usize = 6;

/// The signed part of a lock's challenge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// The lock's identity key: the phone checks its id is one its credential names.
    pub lock_key: PublicKey,
    /// Fresh random nonce: accepted at most once, within the challenge lifetime.
    #[serde(with = "wire::array")]
    pub nonce: [u8; NONCE_LEN],
    /// The lock's ephemeral X25519 key for this session.
    #[serde(with = "wire::array")]
    pub ephemeral: [u8; 32],
    /// Whether the lock trusts its clock; if not, the phone should bring a time anchor.
    pub clock_trusted: bool,
    /// References to the verified links the lock holds, most recently used first: a chain
    /// whose links before its leaf are named here may be sent in short form.
    pub cached: Bounded<ChainRef, MAX_ADVERTISED>,
}

impl Challenge {
    /// Decodes a challenge message (the signature is checked by [`verify_challenge`]).
    pub fn decode(bytes: &[u8]) -> Result<Signed<'_, Challenge>> {
        Signed::decode(bytes, Kind::Challenge, MAX_CHALLENGE_BYTES)
    }

    /// The id of the lock that issued this challenge.
    pub fn lock_id(&self) -> LockId {
        LockId::of(&self.lock_key)
    }
}

/// Checks a decoded challenge's signature against the key it carries.
pub fn verify_challenge(c: &Signed<'_, Challenge>) -> Result<()> {
    c.verify(&c.body.lock_key, labels::CHALLENGE)
}

/// What the phone asks for. Variant order is the wire tag: append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Command<'a> {
    /// Open the door (needs a credential with the unlock right).
    Unlock,
    /// Lock the door (needs a credential with the lock right).
    Lock,
    /// End the session.
    Close,
    /// Deliver a time anchor bound to this session's challenge.
    Time(#[serde(borrow)] &'a [u8]),
    /// Deliver a signed configuration update.
    Config(#[serde(borrow)] &'a [u8]),
    /// Open a session without asking for anything yet.
    Hello,
    /// Send the receipts after this sequence number that the lock still holds, with a
    /// signed head.
    Receipts {
        /// The last sequence number the phone (or its server) already has.
        after: u64,
    },
    /// Deliver the owner's acknowledgement of receipts its server holds, so the lock drops
    /// them from its backlog.
    Ack(crate::receipt::Ack),
    /// After [`Reply::NeedChain`]: the open's plaintext again (a command and a proof), its
    /// proof now carrying the whole chain and its holder signature over this session's
    /// transcript and that command.
    Retry(#[serde(borrow)] &'a [u8]),
}

/// The holder's proof: its credential chain and its device signature over the transcript hash
/// and the first command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof<'a> {
    /// The encoded credential chain.
    #[serde(borrow)]
    pub chain: &'a [u8],
    /// Signature by the chain's holder key.
    #[serde(with = "wire::array")]
    pub signature: [u8; 64],
}

/// Why the lock said no, as much as a peer is told. Variant order is the wire tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ReasonCode {
    /// The credential does not allow this, here, for this holder (any chain or signature fault).
    NotAuthorized,
    /// Outside the credential's validity window or schedule.
    NotNow,
    /// The grant's uses are spent.
    UsedUp,
    /// The lock's clock is untrusted: bring a time anchor.
    NeedTime,
    /// A configuration update or time anchor was refused.
    Refused,
    /// The lock cannot record the decision (storage full or failing), so it fails closed.
    Unavailable,
    /// The request was not understood.
    BadRequest,
}

impl ReasonCode {
    /// The coarse reason a peer is given for a detailed error.
    pub fn from_error(e: Error) -> ReasonCode {
        match e {
            Error::NotYetValid | Error::Expired | Error::OutsideSchedule => ReasonCode::NotNow,
            Error::UsedUp => ReasonCode::UsedUp,
            Error::ClockUntrusted => ReasonCode::NeedTime,
            Error::Stale => ReasonCode::Refused,
            Error::StorageFull | Error::Storage | Error::RolledBack => ReasonCode::Unavailable,
            Error::Truncated
            | Error::TrailingBytes
            | Error::UnsupportedVersion
            | Error::UnexpectedKind
            | Error::Oversize
            | Error::Malformed
            | Error::UnexpectedMessage => ReasonCode::BadRequest,
            _ => ReasonCode::NotAuthorized,
        }
    }
}

/// The lock's answer. Variant order is the wire tag: append only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Reply<'a> {
    /// The lock has persisted the decision and is unlocking.
    Unlocked,
    /// The lock is locking.
    Locked,
    /// The session is closed.
    Closed,
    /// The lock set its trusted clock to this UTC time.
    TimeSet(UnixTime),
    /// The lock applied configuration up to this version.
    ConfigApplied(u64),
    /// The session is open; nothing was asked.
    Ready,
    /// Refused, with the coarse reason.
    Denied(ReasonCode),
    /// A receipt bundle sealed to the owner's audit key (inside: an ack token, the lock's
    /// signed head, then the receipts asked for, oldest first).
    Receipts(#[serde(borrow)] &'a [u8]),
    /// The lock dropped every backlog receipt up to this sequence number.
    Acked(u64),
    /// The lock no longer holds the links the open's short-form chain names, and did nothing:
    /// send the open's command again with the whole chain, as [`Command::Retry`].
    NeedChain,
}

/// The transcript hash both sides bind the session to: the challenge message exactly as sent
/// (through its digest) and the open's clear prefix.
pub fn transcript(challenge_digest: &[u8; 32], open_clear: &[u8]) -> [u8; 32] {
    crypto::hash(&[labels::TRANSCRIPT, challenge_digest, open_clear])
}

/// Digest of a whole challenge message, kept by the lock instead of the message itself.
pub fn challenge_digest(challenge: &[u8]) -> [u8; 32] {
    crypto::hash(&[labels::CHALLENGE_DIGEST, challenge])
}

/// Writes the clear header of a command or reply.
pub(crate) fn write_sealed_header(out: &mut [u8], kind: Kind, counter: u32) -> Result<usize> {
    let at = wire::write_header(out, kind)?;
    wire::put_bytes(out, at, &counter.to_le_bytes())
}

/// Splits a command or reply into its counter, clear header (the AAD) and sealed part.
pub(crate) fn split_sealed(
    bytes: &mut [u8],
    kind: Kind,
) -> Result<(u32, [u8; SEALED_HEADER_LEN], &mut [u8])> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(Error::Oversize);
    }
    let body = wire::split_header(bytes, kind)?;
    let (counter, _) = wire::take_array::<4>(body)?;
    let (head, sealed) = bytes
        .split_at_mut_checked(SEALED_HEADER_LEN)
        .ok_or(Error::Truncated)?;
    let mut aad = [0u8; SEALED_HEADER_LEN];
    aad.copy_from_slice(head);
    Ok((u32::from_le_bytes(counter), aad, sealed))
}
