//! The crate's postcard reader and writer against the reference implementation: the writer
//! writes postcard's bytes, the reader decodes everything postcard writes and accepts no
//! other encoding of any value.

use doorkey::Error;
use doorkey::wire::{Bounded, put, take, take_all};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

/// A value exercising every encoding the protocol uses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Sample<'a> {
    flag: bool,
    byte: u8,
    small: i8,
    short: u16,
    word: u32,
    long: u64,
    signed: i32,
    wide: i64,
    maybe: Option<u16>,
    list: Bounded<u32, 4>,
    #[serde(borrow)]
    bytes: &'a [u8],
    choice: Choice,
    array: [u8; 3],
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
enum Choice {
    Unit,
    Newtype(u64),
    Tuple(u8, i16),
    Struct { a: bool },
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).unwrap()
}

fn choice() -> impl Strategy<Value = Choice> {
    prop_oneof![
        Just(Choice::Unit),
        any::<u64>().prop_map(Choice::Newtype),
        (any::<u8>(), any::<i16>()).prop_map(|(a, b)| Choice::Tuple(a, b)),
        any::<bool>().prop_map(|a| Choice::Struct { a }),
    ]
}

proptest! {
    #[test]
    fn decodes_whatever_postcard_writes(
        flag: bool, byte: u8, small: i8, short: u16, word: u32, long: u64, signed: i32,
        wide: i64, maybe: Option<u16>, list in proptest::collection::vec(any::<u32>(), 0..=4),
        bytes in proptest::collection::vec(any::<u8>(), 0..200), choice in choice(),
        array: [u8; 3],
    ) {
        let sample = Sample {
            flag, byte, small, short, word, long, signed, wide, maybe,
            list: Bounded::from_slice(&list).unwrap(),
            bytes: &bytes,
            choice,
            array,
        };
        let encoded = encode(&sample);
        prop_assert_eq!(take_all::<Sample<'_>>(&encoded), Ok(sample.clone()));
        // The crate's own writer produces postcard's bytes exactly, and reports a short buffer.
        let mut out = [0u8; 512];
        let n = put(&sample, &mut out).unwrap();
        prop_assert_eq!(&out[..n], &encoded[..]);
        prop_assert_eq!(put(&sample, &mut out[..n - 1]), Err(Error::BufferTooSmall));
    }

    /// Canonical by construction: any bytes the reader accepts are exactly what postcard
    /// writes for the value read.
    #[test]
    fn accepts_only_the_canonical_encoding(data in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok((value, rest)) = take::<Sample<'_>>(&data) {
            let used = data.len() - rest.len();
            prop_assert_eq!(encode(&value), data[..used].to_vec());
        }
        if let Ok((value, rest)) = take::<(u64, i64, u16, i32)>(&data) {
            let used = data.len() - rest.len();
            prop_assert_eq!(encode(&value), data[..used].to_vec());
        }
        if let Ok((value, rest)) = take::<Option<u64>>(&data) {
            let used = data.len() - rest.len();
            prop_assert_eq!(encode(&value), data[..used].to_vec());
        }
    }
}

#[test]
fn overlong_varints_are_refused_at_every_width() {
    // Zero and one written with a redundant continuation byte.
    for bytes in [&[0x80, 0x00][..], &[0x81, 0x00], &[0xFF, 0x80, 0x00]] {
        assert_eq!(take_all::<u16>(bytes), Err(Error::Malformed), "{bytes:?}");
        assert_eq!(take_all::<u32>(bytes), Err(Error::Malformed), "{bytes:?}");
        assert_eq!(take_all::<u64>(bytes), Err(Error::Malformed), "{bytes:?}");
        assert_eq!(take_all::<i32>(bytes), Err(Error::Malformed), "{bytes:?}");
    }
}

#[test]
fn varints_past_their_type_are_refused() {
    assert_eq!(take_all::<u16>(&encode(&65_536u32)), Err(Error::Malformed));
    assert_eq!(take_all::<u16>(&encode(&65_535u32)), Ok(u16::MAX));
    assert_eq!(
        take_all::<u32>(&encode(&(1u64 << 32))),
        Err(Error::Malformed)
    );
    assert_eq!(
        take_all::<i32>(&encode(&(i64::from(i32::MAX) + 1))),
        Err(Error::Malformed)
    );
    assert_eq!(take_all::<i32>(&encode(&i64::from(i32::MIN))), Ok(i32::MIN));
    // u64::MAX is ten bytes, the last 0x01; a larger tenth byte overflows.
    let mut max = encode(&u64::MAX);
    assert_eq!(max.len(), 10);
    assert_eq!(take_all::<u64>(&max), Ok(u64::MAX));
    *max.last_mut().unwrap() = 0x02;
    assert_eq!(take_all::<u64>(&max), Err(Error::Malformed));
    // Eleven bytes never end a varint.
    let eleven = [0xFF; 11];
    assert_eq!(take_all::<u64>(&eleven), Err(Error::Malformed));
}

#[test]
fn a_varint_is_refused_once_it_runs_past_its_longest_form() {
    // Still continuing after 3 bytes (u16) or 5 (u32): malformed there, whatever follows.
    assert_eq!(take::<u16>(&[0x80, 0x80, 0x80]), Err(Error::Malformed));
    assert_eq!(take::<u32>(&[0x80; 5]), Err(Error::Malformed));
    assert_eq!(take::<i32>(&[0xFF; 5]), Err(Error::Malformed));
    // Cut off within its longest form: truncated.
    assert_eq!(take::<u16>(&[0x80, 0x80]), Err(Error::Truncated));
    assert_eq!(take::<u32>(&[0x80; 4]), Err(Error::Truncated));
    assert_eq!(take::<u64>(&[0x80; 9]), Err(Error::Truncated));
}

#[test]
fn tags_other_than_zero_or_one_are_refused() {
    assert_eq!(take_all::<bool>(&[2]), Err(Error::Malformed));
    assert_eq!(take_all::<Option<u8>>(&[2, 0]), Err(Error::Malformed));
    assert_eq!(take_all::<Choice>(&[4]), Err(Error::Malformed));
}

#[test]
fn truncation_and_trailing_bytes_are_reported_as_such() {
    let encoded = encode(&(7u64, [1u8; 3]));
    for cut in 0..encoded.len() {
        assert_eq!(
            take_all::<(u64, [u8; 3])>(&encoded[..cut]),
            Err(Error::Truncated),
            "cut at {cut}"
        );
    }
    let mut longer = encoded.clone();
    longer.push(0);
    assert_eq!(
        take_all::<(u64, [u8; 3])>(&longer),
        Err(Error::TrailingBytes)
    );
}

#[test]
fn lists_longer_than_their_bound_are_refused() {
    let five = encode(&[1u32, 2, 3, 4, 5].as_slice());
    assert_eq!(take_all::<Bounded<u32, 4>>(&five), Err(Error::Malformed));
    // A declared length beyond the data is truncation.
    assert_eq!(take_all::<Bounded<u32, 4>>(&[3, 1]), Err(Error::Truncated));
}

/// Byte-string lengths and list counts are `u32` varints (docs/PROTOCOL.md 1.2): an
/// unterminated one is `Malformed` at its fifth byte, one cut off before that `Truncated`.
#[test]
fn lengths_and_counts_are_u32_varints() {
    let unterminated = [0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
    assert_eq!(take::<&[u8]>(&unterminated), Err(Error::Malformed));
    assert_eq!(
        take::<Bounded<u32, 4>>(&unterminated),
        Err(Error::Malformed)
    );
    assert_eq!(
        take::<&[u8]>(&[0xFF, 0xFF, 0xFF, 0xFF, 0x10]),
        Err(Error::Malformed)
    );
    assert_eq!(
        take::<&[u8]>(&[0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
        Err(Error::Truncated)
    );
    assert_eq!(take::<&[u8]>(&[0x80, 0x80, 0x80]), Err(Error::Truncated));
    assert_eq!(
        take::<Bounded<u32, 4>>(&[0x80, 0x80, 0x80]),
        Err(Error::Truncated)
    );
}
