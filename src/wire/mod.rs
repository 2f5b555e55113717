//! The wire format shared by every role.
//!
//! Every top-level message is `[version: u8][kind: u8][body]`: the version and kind sit outside
//! the postcard body so that an unknown version or kind is refused before any parsing. Bodies
//! are postcard; keys, ids and signatures are plain byte arrays so that no dependency's serde
//! choices leak into the format. Signatures are appended raw after the body they cover and are
//! checked over the exact bytes received. `docs/PROTOCOL.md` is the normative description.

pub mod array;
mod bounded;

pub use bounded::Bounded;

use crate::error::{Error, Result};
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
/// Postcard accepts overlong varints, so one value has many encodings; this refuses every
/// encoding but the one postcard itself writes, making decode -> encode the identity.
pub fn take<'a, T: Deserialize<'a> + Serialize>(bytes: &'a [u8]) -> Result<(T, &'a [u8])> {
    let (value, rest) = postcard::take_from_bytes::<T>(bytes).map_err(map_postcard)?;
    check_canonical(&value, bytes, rest)?;
    Ok((value, rest))
}

/// A value decoded into storage it already occupies rather than returned: the lock's state is
/// kilobytes, and a small stack must never hold two copies of it.
pub trait DecodeInPlace: Serialize {
    /// Overwrites `self` with the value `deserializer` yields. On error `self` holds a mix of
    /// old and new fields and must not be used.
    fn decode_in_place<'de, D: Deserializer<'de>>(
        &mut self,
        deserializer: D,
    ) -> core::result::Result<(), D::Error>;
}

/// [`take_all`] into existing storage (see [`DecodeInPlace`]), with the same canonical and
/// trailing-byte checks.
pub fn take_all_into<T: DecodeInPlace>(bytes: &[u8], into: &mut T) -> Result<()> {
    let mut de = postcard::Deserializer::from_bytes(bytes);
    into.decode_in_place(&mut de).map_err(map_postcard)?;
    let rest = de.finalize().map_err(map_postcard)?;
    if !rest.is_empty() {
        return Err(Error::TrailingBytes);
    }
    check_canonical(into, bytes, rest)
}

/// A seed that decodes into `&mut T` (see [`DecodeInPlace`]), for a field of a larger value.
pub struct InPlace<'a, T>(pub &'a mut T);

impl<'de, T: DecodeInPlace> DeserializeSeed<'de> for InPlace<'_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> core::result::Result<(), D::Error> {
        self.0.decode_in_place(d)
    }
}

/// Refuses `bytes` unless the value decoded from them (which left `rest`) re-encodes to
/// exactly the bytes consumed.
fn check_canonical<T: Serialize + ?Sized>(value: &T, bytes: &[u8], rest: &[u8]) -> Result<()> {
    let used = bytes.len() - rest.len();
    match encode(value, Dest::Compare(bytes)) {
        Ok(n) if n == used => Ok(()),
        _ => Err(Error::Malformed),
    }
}

/// Where [`Out`] sends bytes.
enum Dest<'a> {
    /// Into a buffer.
    Write(&'a mut [u8]),
    /// Nowhere: each byte must equal the next expected one, so canonicality is checked
    /// without a buffer.
    Compare(&'a [u8]),
}

/// The one postcard output every encoding goes through, so each type's serializer is
/// compiled once (flash on a lock is tight).
struct Out<'a> {
    dest: Dest<'a>,
    at: usize,
}

impl postcard::ser_flavors::Flavor for Out<'_> {
    type Output = usize;

    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        let ok = match &mut self.dest {
            Dest::Write(buf) => buf.get_mut(self.at).map(|b| *b = byte).is_some(),
            Dest::Compare(expected) => expected.get(self.at) == Some(&byte),
        };
        if ok {
            self.at += 1;
            Ok(())
        } else {
            Err(postcard::Error::SerializeBufferFull)
        }
    }

    fn finalize(self) -> postcard::Result<usize> {
        Ok(self.at)
    }
}

fn encode<T: Serialize + ?Sized>(value: &T, dest: Dest<'_>) -> postcard::Result<usize> {
    postcard::serialize_with_flavor(value, Out { dest, at: 0 })
}

/// Decodes exactly one postcard value: trailing bytes are an error.
pub fn take_all<'a, T: Deserialize<'a> + Serialize>(bytes: &'a [u8]) -> Result<T> {
    let (value, rest) = take(bytes)?;
    if rest.is_empty() {
        Ok(value)
    } else {
        Err(Error::TrailingBytes)
    }
}

/// Encodes `value` into the front of `out`, returning the number of bytes written.
pub fn put<T: Serialize>(value: &T, out: &mut [u8]) -> Result<usize> {
    encode(value, Dest::Write(out)).map_err(map_postcard)
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

fn map_postcard(e: postcard::Error) -> Error {
    match e {
        postcard::Error::DeserializeUnexpectedEnd => Error::Truncated,
        postcard::Error::SerializeBufferFull => Error::BufferTooSmall,
        _ => Error::Malformed,
    }
}

/// A seconds-since-1970 UTC instant as carried on the wire (a postcard varint).
pub type UnixTime = u64;
