//! The one result code of the C ABI: the core's `Error` mapped one to one, plus the few
//! failures only a C caller can cause.

use doorkey::Error;

/// What a call did: `DOORKEY_RESULT_OK` (0) on success, else why it failed.
///
/// Codes 1 to 199 are the core library's errors, one to one and in the order they were added
/// (new ones are appended); codes from 200 are failures only a C caller can cause. Values never change
/// between releases. `doorkey_result_name` gives each code's name.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum doorkey_result {
    /// Success.
    Ok = 0,
    /// Input ended before the message did.
    Truncated = 1,
    /// Trailing bytes after the message.
    TrailingBytes = 2,
    /// Unsupported protocol version.
    UnsupportedVersion = 3,
    /// Unexpected message kind.
    UnexpectedKind = 4,
    /// A field exceeds its size limit.
    Oversize = 5,
    /// Malformed message.
    Malformed = 6,
    /// The caller's output buffer is too small.
    BufferTooSmall = 7,
    /// Weak, non-canonical or torsioned public key.
    WeakKey = 8,
    /// Cryptographic verification failed (deliberately says nothing more).
    Crypto = 9,
    /// Credential not rooted in an enrolled owner key.
    UnknownOwner = 10,
    /// Credential chain length out of range.
    ChainLength = 11,
    /// Credential does not name this lock.
    WrongLock = 12,
    /// A link grants more than its parent.
    Widened = 13,
    /// Not permitted: a missing right, a refused presence check, or an author who may not send this.
    NotPermitted = 14,
    /// Credential not yet valid.
    NotYetValid = 15,
    /// Credential expired.
    Expired = 16,
    /// Outside the credential's schedule.
    OutsideSchedule = 17,
    /// Credential revoked.
    Revoked = 18,
    /// Credential has no uses left.
    UsedUp = 19,
    /// The lock's clock is not trusted: time-bounded grants fail closed until a time anchor arrives.
    ClockUntrusted = 20,
    /// Outside the booked delivery slot.
    OutsideSlot = 21,
    /// Schedule meets a daylight-saving gap or overlap.
    AmbiguousLocalTime = 22,
    /// Replayed, expired or out-of-order message.
    Replay = 23,
    /// Message not expected in this state.
    UnexpectedMessage = 24,
    /// Lock storage full: the lock fails closed rather than forget.
    StorageFull = 25,
    /// Persistent storage failed to read or write; a lock that reports it is stopped until `doorkey_lock_boot` succeeds.
    Storage = 26,
    /// Update older than, or the same as, the applied one.
    Stale = 27,
    /// Receipt chain broken.
    ChainBroken = 28,
    /// Storage holds no state: the one case for `doorkey_lock_provision`.
    NotProvisioned = 29,
    /// Storage already holds a lock's state.
    AlreadyProvisioned = 30,
    /// The lock booted from an older state and refuses use-limited or expiring grants until an owner confirms its state.
    RolledBack = 31,
    /// The API was used incorrectly by the calling code (never caused by peer bytes).
    Misuse = 32,
    /// Key algorithm not supported by this build: a P-256 holder key at a lock built without the `p256` feature.
    UnsupportedAlgorithm = 33,
    /// A pointer argument that must not be NULL was NULL.
    NullArgument = 200,
    /// An argument is out of range: memory too small or misaligned, an unknown enum value, overlapping buffers, a missing callback or a flash region too small.
    InvalidArgument = 201,
    /// The library panicked (a bug); the call had no effect the caller can rely on, and the lock or phone it was given refuses every further call until it is deinitialized.
    Panic = 202,
    /// An error this version of the library does not name (a newer core).
    Other = 203,
}

impl From<Error> for doorkey_result {
    fn from(e: Error) -> doorkey_result {
        match e {
            Error::Truncated => doorkey_result::Truncated,
            Error::TrailingBytes => doorkey_result::TrailingBytes,
            Error::UnsupportedVersion => doorkey_result::UnsupportedVersion,
            Error::UnexpectedKind => doorkey_result::UnexpectedKind,
            Error::Oversize => doorkey_result::Oversize,
            Error::Malformed => doorkey_result::Malformed,
            Error::BufferTooSmall => doorkey_result::BufferTooSmall,
            Error::WeakKey => doorkey_result::WeakKey,
            Error::Crypto => doorkey_result::Crypto,
            Error::UnknownOwner => doorkey_result::UnknownOwner,
            Error::ChainLength => doorkey_result::ChainLength,
            Error::WrongLock => doorkey_result::WrongLock,
            Error::Widened => doorkey_result::Widened,
            Error::NotPermitted => doorkey_result::NotPermitted,
            Error::NotYetValid => doorkey_result::NotYetValid,
            Error::Expired => doorkey_result::Expired,
            Error::OutsideSchedule => doorkey_result::OutsideSchedule,
            Error::Revoked => doorkey_result::Revoked,
            Error::UsedUp => doorkey_result::UsedUp,
            Error::ClockUntrusted => doorkey_result::ClockUntrusted,
            Error::OutsideSlot => doorkey_result::OutsideSlot,
            Error::AmbiguousLocalTime => doorkey_result::AmbiguousLocalTime,
            Error::Replay => doorkey_result::Replay,
            Error::UnexpectedMessage => doorkey_result::UnexpectedMessage,
            Error::StorageFull => doorkey_result::StorageFull,
            Error::Storage => doorkey_result::Storage,
            Error::Stale => doorkey_result::Stale,
            Error::ChainBroken => doorkey_result::ChainBroken,
            Error::NotProvisioned => doorkey_result::NotProvisioned,
            Error::AlreadyProvisioned => doorkey_result::AlreadyProvisioned,
            Error::RolledBack => doorkey_result::RolledBack,
            Error::Misuse => doorkey_result::Misuse,
            Error::UnsupportedAlgorithm => doorkey_result::UnsupportedAlgorithm,
            // `Error` is non-exhaustive: a variant this crate does not know yet.
            _ => doorkey_result::Other,
        }
    }
}

impl doorkey_result {
    /// Every code, in order (for the name lookup and the tests).
    pub(crate) const ALL: [doorkey_result; 38] = [
        doorkey_result::Ok,
        doorkey_result::Truncated,
        doorkey_result::TrailingBytes,
        doorkey_result::UnsupportedVersion,
        doorkey_result::UnexpectedKind,
        doorkey_result::Oversize,
        doorkey_result::Malformed,
        doorkey_result::BufferTooSmall,
        doorkey_result::WeakKey,
        doorkey_result::Crypto,
        doorkey_result::UnknownOwner,
        doorkey_result::ChainLength,
        doorkey_result::WrongLock,
        doorkey_result::Widened,
        doorkey_result::NotPermitted,
        doorkey_result::NotYetValid,
        doorkey_result::Expired,
        doorkey_result::OutsideSchedule,
        doorkey_result::Revoked,
        doorkey_result::UsedUp,
        doorkey_result::ClockUntrusted,
        doorkey_result::OutsideSlot,
        doorkey_result::AmbiguousLocalTime,
        doorkey_result::Replay,
        doorkey_result::UnexpectedMessage,
        doorkey_result::StorageFull,
        doorkey_result::Storage,
        doorkey_result::Stale,
        doorkey_result::ChainBroken,
        doorkey_result::NotProvisioned,
        doorkey_result::AlreadyProvisioned,
        doorkey_result::RolledBack,
        doorkey_result::Misuse,
        doorkey_result::UnsupportedAlgorithm,
        doorkey_result::NullArgument,
        doorkey_result::InvalidArgument,
        doorkey_result::Panic,
        doorkey_result::Other,
    ];

    /// The code's C name, NUL-terminated.
    const fn name(self) -> &'static core::ffi::CStr {
        match self {
            doorkey_result::Ok => c"DOORKEY_RESULT_OK",
            doorkey_result::Truncated => c"DOORKEY_RESULT_TRUNCATED",
            doorkey_result::TrailingBytes => c"DOORKEY_RESULT_TRAILING_BYTES",
            doorkey_result::UnsupportedVersion => c"DOORKEY_RESULT_UNSUPPORTED_VERSION",
            doorkey_result::UnexpectedKind => c"DOORKEY_RESULT_UNEXPECTED_KIND",
            doorkey_result::Oversize => c"DOORKEY_RESULT_OVERSIZE",
            doorkey_result::Malformed => c"DOORKEY_RESULT_MALFORMED",
            doorkey_result::BufferTooSmall => c"DOORKEY_RESULT_BUFFER_TOO_SMALL",
            doorkey_result::WeakKey => c"DOORKEY_RESULT_WEAK_KEY",
            doorkey_result::Crypto => c"DOORKEY_RESULT_CRYPTO",
            doorkey_result::UnknownOwner => c"DOORKEY_RESULT_UNKNOWN_OWNER",
            doorkey_result::ChainLength => c"DOORKEY_RESULT_CHAIN_LENGTH",
            doorkey_result::WrongLock => c"DOORKEY_RESULT_WRONG_LOCK",
            doorkey_result::Widened => c"DOORKEY_RESULT_WIDENED",
            doorkey_result::NotPermitted => c"DOORKEY_RESULT_NOT_PERMITTED",
            doorkey_result::NotYetValid => c"DOORKEY_RESULT_NOT_YET_VALID",
            doorkey_result::Expired => c"DOORKEY_RESULT_EXPIRED",
            doorkey_result::OutsideSchedule => c"DOORKEY_RESULT_OUTSIDE_SCHEDULE",
            doorkey_result::Revoked => c"DOORKEY_RESULT_REVOKED",
            doorkey_result::UsedUp => c"DOORKEY_RESULT_USED_UP",
            doorkey_result::ClockUntrusted => c"DOORKEY_RESULT_CLOCK_UNTRUSTED",
            doorkey_result::OutsideSlot => c"DOORKEY_RESULT_OUTSIDE_SLOT",
            doorkey_result::AmbiguousLocalTime => c"DOORKEY_RESULT_AMBIGUOUS_LOCAL_TIME",
            doorkey_result::Replay => c"DOORKEY_RESULT_REPLAY",
            doorkey_result::UnexpectedMessage => c"DOORKEY_RESULT_UNEXPECTED_MESSAGE",
            doorkey_result::StorageFull => c"DOORKEY_RESULT_STORAGE_FULL",
            doorkey_result::Storage => c"DOORKEY_RESULT_STORAGE",
            doorkey_result::Stale => c"DOORKEY_RESULT_STALE",
            doorkey_result::ChainBroken => c"DOORKEY_RESULT_CHAIN_BROKEN",
            doorkey_result::NotProvisioned => c"DOORKEY_RESULT_NOT_PROVISIONED",
            doorkey_result::AlreadyProvisioned => c"DOORKEY_RESULT_ALREADY_PROVISIONED",
            doorkey_result::RolledBack => c"DOORKEY_RESULT_ROLLED_BACK",
            doorkey_result::Misuse => c"DOORKEY_RESULT_MISUSE",
            doorkey_result::UnsupportedAlgorithm => c"DOORKEY_RESULT_UNSUPPORTED_ALGORITHM",
            doorkey_result::NullArgument => c"DOORKEY_RESULT_NULL_ARGUMENT",
            doorkey_result::InvalidArgument => c"DOORKEY_RESULT_INVALID_ARGUMENT",
            doorkey_result::Panic => c"DOORKEY_RESULT_PANIC",
            doorkey_result::Other => c"DOORKEY_RESULT_OTHER",
        }
    }
}

/// The name of a result code as a NUL-terminated string with static lifetime (for example
/// `"DOORKEY_RESULT_USED_UP"`), or `"DOORKEY_RESULT_UNKNOWN"` for a value that is no code.
/// Takes any integer, so a corrupted value cannot cause undefined behaviour. Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn doorkey_result_name(result: u32) -> *const core::ffi::c_char {
    doorkey_result::ALL
        .iter()
        .find(|r| **r as u32 == result)
        .map_or(c"DOORKEY_RESULT_UNKNOWN", |r| r.name())
        .as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ffi::CStr;

    /// The core's errors map one to one onto codes 1 to 33, in the order they were added.
    #[test]
    fn errors_map_one_to_one_in_order() {
        let errors = [
            Error::Truncated,
            Error::TrailingBytes,
            Error::UnsupportedVersion,
            Error::UnexpectedKind,
            Error::Oversize,
            Error::Malformed,
            Error::BufferTooSmall,
            Error::WeakKey,
            Error::Crypto,
            Error::UnknownOwner,
            Error::ChainLength,
            Error::WrongLock,
            Error::Widened,
            Error::NotPermitted,
            Error::NotYetValid,
            Error::Expired,
            Error::OutsideSchedule,
            Error::Revoked,
            Error::UsedUp,
            Error::ClockUntrusted,
            Error::OutsideSlot,
            Error::AmbiguousLocalTime,
            Error::Replay,
            Error::UnexpectedMessage,
            Error::StorageFull,
            Error::Storage,
            Error::Stale,
            Error::ChainBroken,
            Error::NotProvisioned,
            Error::AlreadyProvisioned,
            Error::RolledBack,
            Error::Misuse,
            Error::UnsupportedAlgorithm,
        ];
        for (i, e) in errors.into_iter().enumerate() {
            assert_eq!(doorkey_result::from(e) as usize, i + 1, "{e:?}");
        }
    }

    /// Every code has its own name, spelled as the header spells the constant.
    #[test]
    fn every_code_is_named() {
        let name = |r: doorkey_result| {
            // SAFETY: `doorkey_result_name` returns a static NUL-terminated string.
            unsafe { CStr::from_ptr(doorkey_result_name(r as u32)) }
                .to_str()
                .unwrap()
        };
        for r in doorkey_result::ALL {
            let words: String = format!("{r:?}")
                .chars()
                .flat_map(|c| {
                    let sep = c.is_uppercase().then_some('_');
                    sep.into_iter().chain(c.to_uppercase())
                })
                .collect();
            assert_eq!(name(r), format!("DOORKEY_RESULT{words}"));
        }
        assert_eq!(name(doorkey_result::UsedUp), "DOORKEY_RESULT_USED_UP");
        // SAFETY: as above.
        let unknown = unsafe { CStr::from_ptr(doorkey_result_name(7777)) };
        assert_eq!(unknown.to_str().unwrap(), "DOORKEY_RESULT_UNKNOWN");
    }
}
