//! The postcard writer: the encoding [`super::de`] reads, written straight into a caller's
//! buffer. Varints and raw bytes go through two out-of-line helpers, so each serialized
//! field costs a call rather than an inlined encoder (lock flash is tight).

use serde::Serialize;
use serde::ser::{self, Impossible};

use super::Failure;
use crate::error::Error;

type Result<T> = core::result::Result<T, Failure>;

/// Writes postcard into the front of a buffer.
pub(crate) struct Writer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(out: &'a mut [u8]) -> Self {
        Writer { out, at: 0 }
    }

    /// Bytes written so far.
    pub(crate) fn written(&self) -> usize {
        self.at
    }

    /// One byte: inline, as byte arrays are written a byte at a time.
    #[inline]
    fn byte(&mut self, b: u8) -> Result<()> {
        let slot = self
            .out
            .get_mut(self.at)
            .ok_or(Failure(Error::BufferTooSmall))?;
        *slot = b;
        self.at += 1;
        Ok(())
    }

    #[inline(never)]
    fn raw(&mut self, bytes: &[u8]) -> Result<()> {
        let end = self.at + bytes.len();
        self.out
            .get_mut(self.at..end)
            .ok_or(Failure(Error::BufferTooSmall))?
            .copy_from_slice(bytes);
        self.at = end;
        Ok(())
    }

    /// Unsigned LEB128, shortest form.
    #[inline(never)]
    fn varint(&mut self, mut v: u64) -> Result<()> {
        let mut buf = [0u8; 10];
        let mut n = 0;
        for slot in buf.iter_mut() {
            n += 1;
            // Low seven bits; the cast keeps exactly them.
            let low = (v & 0x7F) as u8;
            v >>= 7;
            if v == 0 {
                *slot = low;
                break;
            }
            *slot = low | 0x80;
        }
        self.raw(buf.get(..n).unwrap_or(&buf))
    }

    fn zigzag(&mut self, v: i64) -> Result<()> {
        // Zigzag maps small magnitudes of either sign to small varints; the casts reinterpret.
        self.varint(((v << 1) ^ (v >> 63)) as u64)
    }

    fn length(&mut self, len: usize) -> Result<()> {
        self.varint(u64::try_from(len).map_err(|_| Failure(Error::Oversize))?)
    }
}

fn unsupported<T>() -> Result<T> {
    Err(Failure(Error::Malformed))
}

impl ser::Serializer for &mut Writer<'_> {
    type Ok = ();
    type Error = Failure;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Impossible<(), Failure>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.byte(u8::from(v))
    }

    fn serialize_i8(self, v: i8) -> Result<()> {
        self.byte(v.to_le_bytes()[0])
    }

    fn serialize_i16(self, v: i16) -> Result<()> {
        self.zigzag(v.into())
    }

    fn serialize_i32(self, v: i32) -> Result<()> {
        self.zigzag(v.into())
    }

    fn serialize_i64(self, v: i64) -> Result<()> {
        self.zigzag(v)
    }

    fn serialize_u8(self, v: u8) -> Result<()> {
        self.byte(v)
    }

    fn serialize_u16(self, v: u16) -> Result<()> {
        self.varint(v.into())
    }

    fn serialize_u32(self, v: u32) -> Result<()> {
        self.varint(v.into())
    }

    fn serialize_u64(self, v: u64) -> Result<()> {
        self.varint(v)
    }

    // The protocol has no floats, chars or 128-bit integers.
    fn serialize_f32(self, _: f32) -> Result<()> {
        unsupported()
    }

    fn serialize_f64(self, _: f64) -> Result<()> {
        unsupported()
    }

    fn serialize_char(self, _: char) -> Result<()> {
        unsupported()
    }

    fn serialize_str(self, v: &str) -> Result<()> {
        self.serialize_bytes(v.as_bytes())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        self.length(v.len())?;
        self.raw(v)
    }

    fn serialize_none(self) -> Result<()> {
        self.byte(0)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        self.byte(1)?;
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<()> {
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<()> {
        Ok(())
    }

    fn serialize_unit_variant(self, _: &'static str, index: u32, _: &'static str) -> Result<()> {
        self.varint(index.into())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        value: &T,
    ) -> Result<()> {
        self.varint(index.into())?;
        value.serialize(self)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self> {
        // Postcard writes the length first, so it must be known.
        self.length(len.ok_or(Failure(Error::Malformed))?)?;
        Ok(self)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self> {
        Ok(self)
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self> {
        Ok(self)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self> {
        self.varint(index.into())?;
        Ok(self)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        unsupported()
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self> {
        Ok(self)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self> {
        self.varint(index.into())?;
        Ok(self)
    }

    fn collect_str<T: core::fmt::Display + ?Sized>(self, _: &T) -> Result<()> {
        unsupported()
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}

/// Sequences, tuples and structs are their elements in order, with nothing around them.
macro_rules! elements {
    ($($trait:ident :: $method:ident ( $($key:ty)? )),*) => {
        $(impl ser::$trait for &mut Writer<'_> {
            type Ok = ();
            type Error = Failure;

            fn $method<T: Serialize + ?Sized>(&mut self, $(_: $key,)? value: &T) -> Result<()> {
                value.serialize(&mut **self)
            }

            fn end(self) -> Result<()> {
                Ok(())
            }
        })*
    };
}

elements!(
    SerializeSeq::serialize_element(),
    SerializeTuple::serialize_element(),
    SerializeTupleStruct::serialize_field(),
    SerializeTupleVariant::serialize_field(),
    SerializeStruct::serialize_field(&'static str),
    SerializeStructVariant::serialize_field(&'static str)
);
