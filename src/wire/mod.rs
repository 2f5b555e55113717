//! The wire format shared by every role.
//!
//! Every top-level message is `[version: u8][kind: u8][body]`: the version and kind sit outside
//! the postcard body so that an unknown version or kind is refused before any parsing. Bodies
//! are postcard; keys, ids and signatures are plain byte arrays so that no dependency's serde
//! choices leak into the format. Signatures are appended raw after the body they cover and are
//! checked over the exact bytes received. `docs/PROTOCOL.md` is the normative description.

pub mod array;
mod bounded;
mod de;
mod ser;

pub use bounded::Bounded;
pub(crate) use bounded::SeedInto;

use crate::error::{Error, Result};
use core::fmt;
use serde::de::DeserializeSeed;
use serde::{Deserialize, Deserializer, Serialize};

/// The protocol version this build speaks, and the only one it accepts.
pub const VERSION: u8 = 1;

/// Message kinds: the byte after the version. Values are fixed forever; new kinds append.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
#[non_exhaustive]
pub enum Kind {
    /// A credential chain (`credential::Chain`).
    Chain = 0x01,
    /// Lock to phone: the signed challenge that starts a session.
    Challenge = 0x10,
    /// Phone to lock: answers a challenge and opens the session.
    Open = 0x11,
    /// Phone to lock: a command inside an open session.
    Command = 0x12,
    /// Lock to phone: the answer to an open or a command.
    Reply = 0x13,
    /// A signed time anchor for one lock and one challenge.
    TimeAnchor = 0x20,
    /// A signed, versioned configuration update for one lock.
    Config = 0x21,
    /// A lock-signed audit receipt.
    Receipt = 0x30,
    /// A lock-signed receipt-chain head.
    Head = 0x31,
    /// A receipt bundle sealed to the owner's audit key.
    Sealed = 0x32,
    /// A credential chain in short form: a reference to links the lock holds verified, then
    /// the remaining links.
    ChainRef = 0x02,
}

impl Kind {
    fn from_byte(b: u8) -> Result<Kind> {
        Ok(match b {
            0x01 => Kind::Chain,
            0x10 => Kind::Challenge,
            0x11 => Kind::Open,
            0x12 => Kind::Command,
            0x13 => Kind::Reply,
            0x20 => Kind::TimeAnchor,
            0x21 => Kind::Config,
            0x30 => Kind::Receipt,
            0x31 => Kind::Head,
            0x32 => Kind::Sealed,
            0x02 => Kind::ChainRef,
            _ => return Err(Error::UnexpectedKind),
        })
    }
}

/// Checks the two-byte header and returns the body that follows it.
pub fn split_header(bytes: &[u8], expected: Kind) -> Result<&[u8]> {
    let [version, kind, body @ ..] = bytes else {
        return Err(Error::Truncated);
    };
    if *version != VERSION {
        return Err(Error::UnsupportedVersion);
    }
    if Kind::from_byte(*kind)? != expected {
        return Err(Error::UnexpectedKind);
    }
    Ok(body)
}

/// Writes the two-byte header into `out` and returns the number of bytes written.
pub fn write_header(out: &mut [u8], kind: Kind) -> Result<usize> {
    let [v, k, ..] = out else {
        return Err(Error::BufferTooSmall);
    };
    *v = VERSION;
    *k = kind as u8;
    Ok(2)
}

/// Decodes one postcard value from the front of `bytes`, returning it and the rest.
///
/// The reader is strict (`src/wire/de.rs`): postcard itself accepts overlong varints, so one
/// value would have many encodings; this accepts only the one postcard writes, making
/// decode -> encode the identity.
pub fn take<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<(T, &'a [u8])> {
    let mut reader = de::Reader::new(bytes);
    let value = T::deserialize(&mut reader).map_err(|e| e.0)?;
    Ok((value, reader.rest()))
}

/// A value decoded into storage it already occupies rather than returned: the lock's state is
/// kilobytes, and a small stack must never hold two copies of it.
pub(crate) trait DecodeInPlace {
    /// Overwrites `self` with the value `deserializer` yields. On error `self` holds a mix of
    /// old and new fields and must not be used.
    fn decode_in_place<'de, D: Deserializer<'de>>(
        &mut self,
        deserializer: D,
    ) -> core::result::Result<(), D::Error>;
}

/// [`take_all`] into existing storage (see [`DecodeInPlace`]).
pub(crate) fn take_all_into<T: DecodeInPlace>(bytes: &[u8], into: &mut T) -> Result<()> {
    let mut reader = de::Reader::new(bytes);
    into.decode_in_place(&mut reader).map_err(|e| e.0)?;
    nothing_after(reader.rest())
}

/// A seed that decodes into `&mut T` (see [`DecodeInPlace`]), for a field of a larger value.
pub(crate) struct InPlace<'a, T>(pub(crate) &'a mut T);

impl<'de, T: DecodeInPlace> DeserializeSeed<'de> for InPlace<'_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> core::result::Result<(), D::Error> {
        self.0.decode_in_place(d)
    }
}

/// Decodes exactly one postcard value: trailing bytes are an error.
pub fn take_all<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T> {
    let (value, rest) = take(bytes)?;
    nothing_after(rest)?;
    Ok(value)
}

fn nothing_after(rest: &[u8]) -> Result<()> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(Error::TrailingBytes)
    }
}

/// Encodes `value` into the front of `out`, returning the number of bytes written.
pub fn put<T: Serialize + ?Sized>(value: &T, out: &mut [u8]) -> Result<usize> {
    let mut writer = ser::Writer::new(out);
    value.serialize(&mut writer).map_err(|e| e.0)?;
    Ok(writer.written())
}

/// An encoding or decoding failure as serde carries it; unwrapped to [`Error`] by [`take`],
/// [`take_all_into`] and [`put`].
#[derive(Debug)]
pub(crate) struct Failure(pub(crate) Error);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl core::error::Error for Failure {}

impl serde::de::Error for Failure {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Failure(Error::Malformed)
    }
}

impl serde::ser::Error for Failure {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Failure(Error::Malformed)
    }
}

/// Splits a fixed-size array off the front of `bytes`.
pub fn take_array<const N: usize>(bytes: &[u8]) -> Result<([u8; N], &[u8])> {
    let (head, rest) = bytes.split_first_chunk::<N>().ok_or(Error::Truncated)?;
    Ok((*head, rest))
}

/// Copies `bytes` into `out` at `at`, returning the new end.
pub fn put_bytes(out: &mut [u8], at: usize, bytes: &[u8]) -> Result<usize> {
    let end = at.checked_add(bytes.len()).ok_or(Error::BufferTooSmall)?;
    out.get_mut(at..end)
        .ok_or(Error::BufferTooSmall)?
        .copy_from_slice(bytes);
    Ok(end)
}
