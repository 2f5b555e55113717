//! The crate's one error type.
//!
//! Every fallible operation returns [`Error`]. Variants say what went wrong without
//! leaking secrets: all cryptographic failures collapse into [`Error::Crypto`], and what a
//! remote peer is told is the coarser [`crate::session::ReasonCode`], never this enum.
//! [`Error::Misuse`] is reserved for mistakes in the calling code; no byte sequence from a
//! peer can produce it.

use core::fmt;

/// What went wrong.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    // -- decoding --------------------------------------------------------------------------
    /// The input ended before the message did.
    Truncated,
    /// Bytes remained after a complete message.
    TrailingBytes,
    /// The message carries a protocol version this build does not speak.
    UnsupportedVersion,
    /// The message kind byte is unknown or not the one expected here.
    UnexpectedKind,
    /// A message or field is longer than its limit (lists over their limit are `Malformed`).
    Oversize,
    /// The bytes are not a well-formed message (bad tag, bad varint, invalid value).
    Malformed,
    /// The caller's output buffer is too small for the encoded message.
    BufferTooSmall,

    // -- keys and cryptography -------------------------------------------------------------
    /// A public key is weak (small order), non-canonical or has a torsion component.
    WeakKey,
    /// A signature, MAC or key agreement failed. Deliberately says nothing more.
    Crypto,
    /// A key's algorithm is not verified by this build: a P-256 holder key at a lock built
    /// without the `p256` feature.
    UnsupportedAlgorithm,

    // -- credentials -----------------------------------------------------------------------
    /// The chain's root is not signed by an owner key enrolled in this lock.
    UnknownOwner,
    /// The chain has no links or more than [`crate::credential::MAX_CHAIN_LEN`].
    ChainLength,
    /// A link does not name this lock.
    WrongLock,
    /// A link grants more than its parent (rights, window, schedule, uses, depth, scope,
    /// purpose or epoch), or its parent may not delegate.
    Widened,
    /// The request is not allowed to whoever made it: the credential lacks the right for the
    /// command, the presence check said no, or a signed message's author may not send it.
    NotPermitted,
    /// The current time is before a link's validity window.
    NotYetValid,
    /// The current time is after a link's validity window.
    Expired,
    /// The current local time is outside a link's recurring schedule.
    OutsideSchedule,
    /// A link's credential id or key is revoked, or its epoch is older than the lock's.
    Revoked,
    /// A use-limited grant has no uses left.
    UsedUp,
    /// The lock's clock is not trusted, so time-bounded grants fail closed.
    ClockUntrusted,
    /// Just-in-time issuance was asked outside the delivery's booked slot.
    OutsideSlot,
    /// A schedule window to be signed meets a daylight-saving gap (it would not open that
    /// day) or overlap (it would stay open longer) of the lock's time-zone rule.
    AmbiguousLocalTime,

    // -- sessions and state ----------------------------------------------------------------
    /// A challenge, nonce or counter was already used, expired or is out of order.
    Replay,
    /// A message arrived that the state machine does not accept in its current state.
    UnexpectedMessage,
    /// Bounded lock storage is full; the lock fails closed rather than forget.
    StorageFull,
    /// Persistent storage failed to read or write.
    Storage,
    /// An update is older than, or the same as, what the lock already applied.
    Stale,
    /// Receipts do not follow one another: a gap, reordering, fork or truncation.
    ChainBroken,
    /// Storage holds no state: the lock was never provisioned (not an unreadable or corrupt
    /// store, which is [`Error::Storage`]).
    NotProvisioned,
    /// Storage already holds a lock's state; provisioning would overwrite it (only an
    /// owner-signed factory reset may).
    AlreadyProvisioned,
    /// The lock booted from a state older than one it had committed, and refuses grants with
    /// a use limit or an expiry until an owner confirms its state.
    RolledBack,

    // -- caller mistakes -------------------------------------------------------------------
    /// The API was used incorrectly by the calling code (never caused by peer input).
    Misuse,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Error::Truncated => "input ended before the message did",
            Error::TrailingBytes => "trailing bytes after the message",
            Error::UnsupportedVersion => "unsupported protocol version",
            Error::UnexpectedKind => "unexpected message kind",
            Error::Oversize => "a field exceeds its size limit",
            Error::Malformed => "malformed message",
            Error::BufferTooSmall => "output buffer too small",
            Error::WeakKey => "weak, non-canonical or torsioned public key",
            Error::Crypto => "cryptographic verification failed",
            Error::UnsupportedAlgorithm => "key algorithm not supported by this build",
            Error::UnknownOwner => "credential not rooted in an enrolled owner key",
            Error::ChainLength => "credential chain length out of range",
            Error::WrongLock => "credential does not name this lock",
            Error::Widened => "a link grants more than its parent",
            Error::NotPermitted => "not permitted",
            Error::NotYetValid => "credential not yet valid",
            Error::Expired => "credential expired",
            Error::OutsideSchedule => "outside the credential's schedule",
            Error::Revoked => "credential revoked",
            Error::UsedUp => "credential has no uses left",
            Error::ClockUntrusted => "lock clock not trusted",
            Error::OutsideSlot => "outside the booked delivery slot",
            Error::AmbiguousLocalTime => "schedule meets a daylight-saving gap or overlap",
            Error::Replay => "replayed, expired or out-of-order message",
            Error::UnexpectedMessage => "message not expected in this state",
            Error::StorageFull => "lock storage full",
            Error::Storage => "persistent storage failure",
            Error::Stale => "update older than the applied one",
            Error::ChainBroken => "receipt chain broken",
            Error::NotProvisioned => "lock not provisioned",
            Error::AlreadyProvisioned => "lock already provisioned",
            Error::RolledBack => "lock state rolled back; awaiting owner confirmation",
            Error::Misuse => "API misuse",
        };
        f.write_str(text)
    }
}

impl core::error::Error for Error {}

/// Shorthand used throughout the crate.
pub type Result<T> = core::result::Result<T, Error>;
