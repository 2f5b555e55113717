//! A strict postcard reader. It accepts exactly the bytes postcard writes and nothing else:
//! shortest-form varints within the type's range, booleans and option tags of 0 or 1. One
//! value therefore has one encoding, decode -> encode is the identity, and nothing needs to be
//! re-encoded to check it.

use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::Failure as DeError;
use crate::error::Error;

type Result<T> = core::result::Result<T, DeError>;

fn malformed<T>() -> Result<T> {
    Err(DeError(Error::Malformed))
}

/// Reads postcard values off the front of a byte slice.
pub(crate) struct Reader<'de> {
    input: &'de [u8],
}

impl<'de> Reader<'de> {
    pub(crate) fn new(input: &'de [u8]) -> Self {
        Reader { input }
    }

    /// What has not been read yet.
    pub(crate) fn rest(&self) -> &'de [u8] {
        self.input
    }

    fn byte(&mut self) -> Result<u8> {
        let (&b, rest) = self.input.split_first().ok_or(DeError(Error::Truncated))?;
        self.input = rest;
        Ok(b)
    }

    fn bytes(&mut self, n: usize) -> Result<&'de [u8]> {
        let (head, rest) = self
            .input
            .split_at_checked(n)
            .ok_or(DeError(Error::Truncated))?;
        self.input = rest;
        Ok(head)
    }

    /// An unsigned LEB128 varint of at most `max`, refusing any but the shortest form, and
    /// refusing as soon as it runs past the longest encoding of a value that large (three
    /// bytes for a `u16`, five for a `u32`, ten for a `u64`).
    fn varint(&mut self, max: u64) -> Result<u64> {
        let bits = u64::BITS - max.leading_zeros();
        let mut value = 0u64;
        for shift in (0..bits.max(1)).step_by(7) {
            let b = self.byte()?;
            let part = u64::from(b & 0x7F);
            // The tenth byte holds only the top bit of a u64.
            if shift == 63 && part > 1 {
                return malformed();
            }
            value |= part << shift;
            if b & 0x80 == 0 {
                // A final zero byte after others is an overlong encoding.
                if (b == 0 && shift > 0) || value > max {
                    return malformed();
                }
                return Ok(value);
            }
        }
        malformed()
    }

    /// A zigzag-encoded signed varint within `[-max-1, max]`.
    fn zigzag(&mut self, max: u64) -> Result<i64> {
        let u = self.varint(max.saturating_mul(2).saturating_add(1))?;
        // (u >> 1) < 2^63, so the cast is lossless.
        let magnitude = (u >> 1) as i64;
        Ok(if u & 1 == 0 { magnitude } else { !magnitude })
    }

    fn length(&mut self) -> Result<usize> {
        let n = self.varint(u64::from(u32::MAX))?;
        usize::try_from(n).or_else(|_| malformed())
    }
}

/// A sequence of exactly `left` elements.
struct Elements<'r, 'de> {
    reader: &'r mut Reader<'de>,
    left: usize,
}

impl<'de> de::SeqAccess<'de> for Elements<'_, 'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.reader).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

impl<'de> de::EnumAccess<'de> for &mut Reader<'de> {
    type Error = DeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self)> {
        let index = u32::try_from(self.varint(u64::from(u32::MAX))?).or_else(|_| malformed())?;
        let value = seed.deserialize(index.into_deserializer())?;
        Ok((value, self))
    }
}

impl<'de> de::VariantAccess<'de> for &mut Reader<'de> {
    type Error = DeError;

    fn unit_variant(self) -> Result<()> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_tuple(self, len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_tuple(self, fields.len(), visitor)
    }
}

/// Postcard is not self-describing: anything that needs the data to say its own type is
/// refused, as are the types the protocol never uses (floats, chars, maps, 128-bit integers).
macro_rules! refuse {
    ($($method:ident),*) => {
        $(fn $method<V: Visitor<'de>>(self, _: V) -> Result<V::Value> {
            malformed()
        })*
    };
}

impl<'de> de::Deserializer<'de> for &mut Reader<'de> {
    type Error = DeError;

    refuse!(
        deserialize_any,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_i128,
        deserialize_u128,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any
    );

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.byte()? {
            0 => visitor.visit_bool(false),
            1 => visitor.visit_bool(true),
            _ => malformed(),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_i8(i8::from_le_bytes([self.byte()?]))
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let v = self.zigzag(i16::MAX as u64)?;
        visitor.visit_i16(i16::try_from(v).or_else(|_| malformed())?)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let v = self.zigzag(i32::MAX as u64)?;
        visitor.visit_i32(i32::try_from(v).or_else(|_| malformed())?)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_i64(self.zigzag(i64::MAX as u64)?)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_u8(self.byte()?)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let v = self.varint(u64::from(u16::MAX))?;
        visitor.visit_u16(u16::try_from(v).or_else(|_| malformed())?)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let v = self.varint(u64::from(u32::MAX))?;
        visitor.visit_u32(u32::try_from(v).or_else(|_| malformed())?)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_u64(self.varint(u64::MAX)?)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let n = self.length()?;
        let s = core::str::from_utf8(self.bytes(n)?).or_else(|_| malformed())?;
        visitor.visit_borrowed_str(s)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let n = self.length()?;
        visitor.visit_borrowed_bytes(self.bytes(n)?)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.byte()? {
            0 => visitor.visit_none(),
            1 => visitor.visit_some(self),
            _ => malformed(),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let left = self.length()?;
        visitor.visit_seq(Elements { reader: self, left })
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        visitor.visit_seq(Elements {
            reader: self,
            left: len,
        })
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        if name == super::array::BYTES {
            return visitor.visit_borrowed_bytes(self.bytes(len)?);
        }
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_tuple(fields.len(), visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_enum(self)
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}
