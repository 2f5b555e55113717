//! Serde for byte arrays of any length as exactly `N` raw bytes (postcard tuple encoding).
//! serde's own impls stop at 32 elements (signatures are 64) and read element by element;
//! these hand the crate's reader the whole array at once.

use core::fmt;
use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeTuple;
use serde::{Deserializer, Serialize, Serializer};

/// The tuple-struct name under which an array asks to be read: the crate's reader answers
/// with the next `N` bytes in one piece; any other deserializer sees an ordinary tuple.
pub(crate) const BYTES: &str = "doorkey::bytes";

/// Writes `bytes` as an `N`-tuple of `u8`.
pub fn serialize<S: Serializer, const N: usize>(bytes: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
    let mut t = s.serialize_tuple(N)?;
    for b in bytes {
        t.serialize_element(b)?;
    }
    t.end()
}

/// Reads an `N`-tuple of `u8`.
pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
    d.deserialize_tuple_struct(BYTES, N, ArrayVisitor::<N>)
}

struct ArrayVisitor<const N: usize>;

impl<'de, const N: usize> Visitor<'de> for ArrayVisitor<N> {
    type Value = [u8; N];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{N} bytes")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<[u8; N], E> {
        v.try_into()
            .map_err(|_| de::Error::invalid_length(v.len(), &self))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<[u8; N], A::Error> {
        let mut out = [0u8; N];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = seq
                .next_element()?
                .ok_or_else(|| de::Error::invalid_length(i, &self))?;
        }
        Ok(out)
    }
}

/// The same for an optional array (`None` or `Some` and `N` bytes).
pub mod option {
    use super::*;

    /// Writes `None`, or `Some` and the array's `N` bytes.
    pub fn serialize<S: Serializer, const N: usize>(
        bytes: &Option<[u8; N]>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        struct Bytes<'a, const N: usize>(&'a [u8; N]);

        impl<const N: usize> Serialize for Bytes<'_, N> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                super::serialize(self.0, s)
            }
        }

        match bytes {
            Some(b) => s.serialize_some(&Bytes(b)),
            None => s.serialize_none(),
        }
    }

    /// Reads `None`, or `Some` and `N` bytes.
    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<Option<[u8; N]>, D::Error> {
        struct OptionVisitor<const N: usize>;

        impl<'de, const N: usize> Visitor<'de> for OptionVisitor<N> {
            type Value = Option<[u8; N]>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "nothing or {N} bytes")
            }

            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                super::deserialize(d).map(Some)
            }
        }

        d.deserialize_option(OptionVisitor::<N>)
    }
}
