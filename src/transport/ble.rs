//! Session messages over BLE GATT (docs/PROTOCOL.md section 21).
//!
//! The lock is the GATT server of one service with two characteristics: the phone writes
//! fragments of its messages to [`INBOX_UUID`] and the lock notifies fragments of its messages
//! on [`OUTBOX_UUID`]. Every fragment is one ATT value of at most `ATT_MTU - 3` bytes:
//!
//! ```text
//! offset  size  field
//! 0       1     counter  u8, the same in every fragment of one message
//! 1       1     index    u8, 0 for the first fragment, then +1
//! 2       2     total    u16 little-endian, the whole message's length, 1..=MAX_BLE_MESSAGE
//! 4       ...   data     at least 1 byte; every fragment but the last as long as the first
//! ```
//!
//! A [`Segmenter`] cuts one message into fragments for a given MTU; a [`Reassembler`] takes
//! fragments as they arrive, each with the caller's monotonic time in milliseconds, and yields
//! the whole message or a precise [`FrameError`]. Both work in caller-provided buffers, with no
//! heap; the lock and the phone use the same two types in both directions.
//!
//! ```
//! use doorkey::transport::ble::{Reassembler, Segmenter};
//!
//! # fn main() -> Result<(), doorkey::Error> {
//! let message = [0x01, 0x13, 7, 7, 7, 7]; // any framed session message
//! let mut sender = Segmenter::new(&message, 0, 23)?;
//! let (mut received, mut fragment) = ([0u8; 64], [0u8; 20]);
//! let mut reassembler = Reassembler::new(&mut received);
//! while let Some(n) = sender.next_into(&mut fragment)? {
//!     let now_ms = 0; // the firmware's or app's monotonic milliseconds
//!     if let Some(whole) = reassembler.push(&fragment[..n], now_ms)? {
//!         assert_eq!(whole, &message[..]);
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Time is a plain `u64` of milliseconds from any monotonic clock the caller keeps (the lock's
//! tick counter in milliseconds, a phone's uptime clock); only differences between the values
//! passed to one reassembler matter.

use crate::error::{Error, Result};
use crate::session::MAX_MESSAGE_BYTES;
use core::fmt;

/// The doorkey GATT service, advertised by the lock.
pub const SERVICE_UUID: u128 = 0x9a25_0001_1c6d_4e11_9f78_ce1d_07ac_5a09;
/// Phone to lock: Write Without Response and Write; each value is one fragment.
pub const INBOX_UUID: u128 = 0x9a25_0002_1c6d_4e11_9f78_ce1d_07ac_5a09;
/// Lock to phone: Notify; each notification is one fragment.
pub const OUTBOX_UUID: u128 = 0x9a25_0003_1c6d_4e11_9f78_ce1d_07ac_5a09;

/// Bytes of the fragment header: counter, index, total length.
pub const HEADER_LEN: usize = 4;
/// The smallest ATT MTU (the Bluetooth default); a fragment then carries 16 bytes of message.
pub const MIN_MTU: u16 = 23;
/// The largest useful ATT MTU: an attribute value is at most 512 bytes, and larger MTUs are
/// used as this one.
pub const MAX_MTU: u16 = 517;
/// Longest message the transport carries: the longest session message (an open with the
/// longest chain, or a reply with a full receipt bundle).
pub const MAX_BLE_MESSAGE: usize = MAX_MESSAGE_BYTES;
/// A partial message is discarded when its next fragment is this late after the one before.
pub const FRAGMENT_TIMEOUT_MS: u64 = 2_000;
/// A partial message is discarded when it is not complete this long after its first fragment.
pub const MESSAGE_TIMEOUT_MS: u64 = 10_000;

/// Why a received fragment was refused. Every refusal discards the partial message and the
/// fragment; the reassembler then waits for a first fragment (index 0).
///
/// These kinds exist only on the link: they never reach the session layer or a peer. `From`
/// maps each onto the nearest decoding [`Error`] for code that propagates with `?`.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameError {
    /// The fragment has no data after its 4-byte header.
    Truncated,
    /// The header's total length is 0.
    Empty,
    /// The header's total length exceeds what this reassembler accepts.
    Oversize,
    /// A fragment other than a first one arrived while no message was in progress.
    Orphan,
    /// The fragment's counter is not the one of the message in progress.
    Interleaved,
    /// The fragment's total length is not the one of the message in progress.
    TotalChanged,
    /// The fragment's index is below the expected one: a duplicate or a replay.
    Repeated,
    /// The fragment's index is above the expected one: a fragment was lost or reordered.
    Missing,
    /// The fragment carries more or fewer data bytes than its index requires (a cut or
    /// overlong fragment), or a first fragment too short for the message to fit 256 fragments.
    BadLength,
    /// The partial message waited longer than [`FRAGMENT_TIMEOUT_MS`] for a fragment, or
    /// longer than [`MESSAGE_TIMEOUT_MS`] in all.
    Timeout,
}

impl From<FrameError> for Error {
    fn from(e: FrameError) -> Error {
        match e {
            FrameError::Truncated | FrameError::Timeout => Error::Truncated,
            FrameError::Oversize => Error::Oversize,
            FrameError::Empty | FrameError::TotalChanged | FrameError::BadLength => {
                Error::Malformed
            }
            FrameError::Orphan
            | FrameError::Interleaved
            | FrameError::Repeated
            | FrameError::Missing => Error::UnexpectedMessage,
        }
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FrameError::Truncated => "BLE fragment without data",
            FrameError::Empty => "BLE message of length 0",
            FrameError::Oversize => "BLE message too long",
            FrameError::Orphan => "BLE fragment without a first fragment",
            FrameError::Interleaved => "BLE fragment of another message",
            FrameError::TotalChanged => "BLE fragment with another total length",
            FrameError::Repeated => "BLE fragment repeated",
            FrameError::Missing => "BLE fragment missing",
            FrameError::BadLength => "BLE fragment of the wrong length",
            FrameError::Timeout => "BLE message timed out",
        })
    }
}

impl core::error::Error for FrameError {}

/// Cuts one message into fragments for one ATT MTU, each written into a caller buffer.
#[derive(Clone, Debug)]
pub struct Segmenter<'a> {
    message: &'a [u8],
    counter: u8,
    /// The message's length, as the header carries it.
    total: u16,
    /// Message bytes per fragment.
    chunk: usize,
    /// Message bytes already cut.
    sent: usize,
    index: u8,
}

impl<'a> Segmenter<'a> {
    /// Prepares `message` for a link of ATT MTU `mtu` (values above [`MAX_MTU`] are used as
    /// it). `counter` is the sender's message counter on this connection: 0 for its first
    /// message, then one more (wrapping) for each message.
    ///
    /// Errors: `Oversize` for a message longer than [`MAX_BLE_MESSAGE`]; `Misuse` for an empty
    /// message or an MTU below [`MIN_MTU`].
    pub fn new(message: &'a [u8], counter: u8, mtu: u16) -> Result<Segmenter<'a>> {
        if message.len() > MAX_BLE_MESSAGE {
            return Err(Error::Oversize);
        }
        let total = u16::try_from(message.len()).map_err(|_| Error::Oversize)?;
        if total == 0 || mtu < MIN_MTU {
            return Err(Error::Misuse);
        }
        let chunk = usize::from(mtu.min(MAX_MTU)) - 3 - HEADER_LEN;
        Ok(Segmenter {
            message,
            counter,
            total,
            chunk,
            sent: 0,
            index: 0,
        })
    }

    /// How many fragments the whole message takes.
    pub fn fragments(&self) -> usize {
        self.message.len().div_ceil(self.chunk)
    }

    /// Writes the next fragment into `out` and returns its length, or `None` once every
    /// fragment was written. A fragment is at most `mtu - 3` bytes; `BufferTooSmall` (and
    /// nothing written) if `out` is shorter than this one.
    pub fn next_into(&mut self, out: &mut [u8]) -> Result<Option<usize>> {
        let Some(rest) = self.message.get(self.sent..).filter(|r| !r.is_empty()) else {
            return Ok(None);
        };
        let data = rest.get(..self.chunk).unwrap_or(rest);
        let len = HEADER_LEN + data.len();
        let (header, body) = out
            .get_mut(..len)
            .and_then(|out| out.split_first_chunk_mut::<HEADER_LEN>())
            .ok_or(Error::BufferTooSmall)?;
        let [lo, hi] = self.total.to_le_bytes();
        *header = [self.counter, self.index, lo, hi];
        body.copy_from_slice(data);
        self.sent += data.len();
        self.index = self.index.wrapping_add(1);
        Ok(Some(len))
    }
}

/// Where a partial message stands.
#[derive(Clone, Copy, Debug)]
struct Partial {
    counter: u8,
    total: usize,
    /// Data bytes of every fragment but the last: the first fragment's.
    chunk: usize,
    received: usize,
    next: usize,
    started_ms: u64,
    last_ms: u64,
}

/// Puts received fragments back together into a caller buffer.
///
/// Accepts messages up to the shorter of the buffer and [`MAX_BLE_MESSAGE`]. One reassembler
/// serves one direction of one connection.
pub struct Reassembler<'b> {
    buf: &'b mut [u8],
    partial: Option<Partial>,
}

/// Shows the state, never the buffer: the session layer decrypts messages in place there.
impl fmt::Debug for Reassembler<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reassembler")
            .field("capacity", &self.buf.len())
            .field("partial", &self.partial)
            .finish()
    }
}

impl<'b> Reassembler<'b> {
    /// A reassembler writing into `buf`, idle.
    pub fn new(buf: &'b mut [u8]) -> Reassembler<'b> {
        Reassembler { buf, partial: None }
    }

    /// Takes one fragment, received at `now_ms` (the caller's monotonic milliseconds; a value
    /// below an earlier one counts as no time passed). Returns the whole message once its last
    /// fragment is in, `None` while more are due, or why the fragment was refused; a refusal
    /// discards the partial message too.
    pub fn push(
        &mut self,
        fragment: &[u8],
        now_ms: u64,
    ) -> core::result::Result<Option<&mut [u8]>, FrameError> {
        match self.accept(fragment, now_ms) {
            Ok(Some(len)) => Ok(self.buf.get_mut(..len)),
            Ok(None) => Ok(None),
            Err(e) => {
                self.partial = None;
                Err(e)
            }
        }
    }

    /// Discards a partial message that has timed out at `now_ms`, reporting `Timeout`; the
    /// caller's timer calls it so a stalled sender is noticed without a further fragment.
    pub fn expire(&mut self, now_ms: u64) -> core::result::Result<(), FrameError> {
        if let Some(p) = self.partial
            && (now_ms.saturating_sub(p.last_ms) >= FRAGMENT_TIMEOUT_MS
                || now_ms.saturating_sub(p.started_ms) >= MESSAGE_TIMEOUT_MS)
        {
            self.partial = None;
            return Err(FrameError::Timeout);
        }
        Ok(())
    }

    /// Whether a message is partly received.
    pub fn in_progress(&self) -> bool {
        self.partial.is_some()
    }

    /// Discards any partial message (the connection ended).
    pub fn reset(&mut self) {
        self.partial = None;
    }

    /// The checks of section 21.4, in its order; `Some(len)` when the message is complete.
    fn accept(
        &mut self,
        fragment: &[u8],
        now_ms: u64,
    ) -> core::result::Result<Option<usize>, FrameError> {
        self.expire(now_ms)?;
        let (&[counter, index, lo, hi], data) = fragment
            .split_first_chunk::<HEADER_LEN>()
            .ok_or(FrameError::Truncated)?;
        if data.is_empty() {
            return Err(FrameError::Truncated);
        }
        let total = usize::from(u16::from_le_bytes([lo, hi]));
        if total == 0 {
            return Err(FrameError::Empty);
        }
        if total > self.buf.len().min(MAX_BLE_MESSAGE) {
            return Err(FrameError::Oversize);
        }
        let index = usize::from(index);
        let mut p = match self.partial {
            None if index != 0 => return Err(FrameError::Orphan),
            None => {
                // Index is a u8: the message must fit 256 fragments of the first one's size.
                if data.len() > total || total.div_ceil(data.len()) > 256 {
                    return Err(FrameError::BadLength);
                }
                Partial {
                    counter,
                    total,
                    chunk: data.len(),
                    received: 0,
                    next: 0,
                    started_ms: now_ms,
                    last_ms: now_ms,
                }
            }
            Some(p) if counter != p.counter => return Err(FrameError::Interleaved),
            Some(p) if total != p.total => return Err(FrameError::TotalChanged),
            Some(p) if index < p.next => return Err(FrameError::Repeated),
            Some(p) if index > p.next => return Err(FrameError::Missing),
            Some(p) => {
                if data.len() != p.chunk.min(p.total - p.received) {
                    return Err(FrameError::BadLength);
                }
                p
            }
        };
        let end = p.received + data.len();
        self.buf
            .get_mut(p.received..end)
            .ok_or(FrameError::Oversize)?
            .copy_from_slice(data);
        p.received = end;
        p.next += 1;
        p.last_ms = now_ms;
        if end == p.total {
            self.partial = None;
            Ok(Some(end))
        } else {
            self.partial = Some(p);
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fragment built by hand from the layout of section 21.3.
    fn frag(counter: u8, index: u8, total: u16, data: &[u8]) -> ([u8; 64], usize) {
        let mut out = [0u8; 64];
        let [lo, hi] = total.to_le_bytes();
        out[..4].copy_from_slice(&[counter, index, lo, hi]);
        out[4..4 + data.len()].copy_from_slice(data);
        (out, 4 + data.len())
    }

    /// The example of spec 21.3.
    #[test]
    fn fragments_follow_the_documented_layout() {
        let message: [u8; 20] = core::array::from_fn(|i| i as u8);
        let mut s = Segmenter::new(&message, 7, MIN_MTU).unwrap();
        assert_eq!(s.fragments(), 2);
        let mut out = [0u8; 20];
        assert_eq!(s.next_into(&mut out).unwrap(), Some(20));
        assert_eq!(out[..4], [7, 0, 20, 0]);
        assert_eq!(out[4..], message[..16]);
        assert_eq!(s.next_into(&mut out).unwrap(), Some(8));
        assert_eq!(out[..8], [7, 1, 20, 0, 16, 17, 18, 19]);
        assert_eq!(s.next_into(&mut out).unwrap(), None);
    }

    #[test]
    fn segmenter_refuses_what_it_cannot_send() {
        let long = [0u8; MAX_BLE_MESSAGE + 1];
        assert_eq!(Segmenter::new(&long, 0, 247).unwrap_err(), Error::Oversize);
        assert_eq!(Segmenter::new(&[], 0, 247).unwrap_err(), Error::Misuse);
        assert_eq!(Segmenter::new(&[1], 0, 22).unwrap_err(), Error::Misuse);
        // Above 517 the MTU is used as 517: 510 bytes of message per fragment.
        let big = [0u8; 1021];
        assert_eq!(Segmenter::new(&big, 0, 1024).unwrap().fragments(), 3);
        // A buffer too small for the next fragment: nothing written, nothing consumed.
        let mut s = Segmenter::new(&[1, 2, 3], 0, 247).unwrap();
        let mut small = [0u8; 6];
        assert_eq!(s.next_into(&mut small).unwrap_err(), Error::BufferTooSmall);
        let mut out = [0u8; 7];
        assert_eq!(s.next_into(&mut out).unwrap(), Some(7));
        assert_eq!(out, [0, 0, 3, 0, 1, 2, 3]);
    }

    #[test]
    fn each_refusal_is_the_documented_one() {
        let mut buf = [0u8; 32];
        let mut r = Reassembler::new(&mut buf);
        let (f, n) = frag(0, 0, 3, &[]);
        assert_eq!(r.push(&f[..n], 0), Err(FrameError::Truncated));
        assert_eq!(r.push(&f[..3], 0), Err(FrameError::Truncated));
        let (f, n) = frag(0, 0, 0, &[1]);
        assert_eq!(r.push(&f[..n], 0), Err(FrameError::Empty));
        // The limit is the buffer (32 bytes here), not only MAX_BLE_MESSAGE.
        let (f, n) = frag(0, 0, 33, &[1]);
        assert_eq!(r.push(&f[..n], 0), Err(FrameError::Oversize));
        let (f, n) = frag(0, 1, 3, &[1]);
        assert_eq!(r.push(&f[..n], 0), Err(FrameError::Orphan));
        let (f, n) = frag(0, 0, 2, &[1, 2, 3]);
        assert_eq!(r.push(&f[..n], 0), Err(FrameError::BadLength));
        assert!(!r.in_progress());

        // A message of 3 fragments of 2 bytes, then one more of 1: each fault in turn.
        let cases: [(&[u8], FrameError); 6] = [
            (&[9, 1, 7, 0, 3, 4], FrameError::Interleaved),
            (&[5, 1, 8, 0, 3, 4], FrameError::TotalChanged),
            (&[5, 0, 7, 0, 1, 2], FrameError::Repeated),
            (&[5, 2, 7, 0, 5, 6], FrameError::Missing),
            (&[5, 1, 7, 0, 3], FrameError::BadLength),
            (&[5, 1, 7, 0, 3, 4, 5], FrameError::BadLength),
        ];
        for (fault, error) in cases {
            assert_eq!(r.push(&[5, 0, 7, 0, 1, 2], 0), Ok(None));
            assert!(r.in_progress());
            assert_eq!(r.push(fault, 0), Err(error));
            assert!(!r.in_progress(), "{error:?} discards the partial message");
        }
        // An overlong last fragment, then the genuine message in full.
        let first = [
            &[5, 0, 7, 0, 1, 2][..],
            &[5, 1, 7, 0, 3, 4],
            &[5, 2, 7, 0, 5, 6],
        ];
        for f in first {
            assert_eq!(r.push(f, 0), Ok(None));
        }
        assert_eq!(r.push(&[5, 3, 7, 0, 7, 8], 0), Err(FrameError::BadLength));
        for f in first {
            assert_eq!(r.push(f, 0), Ok(None));
        }
        let whole = r.push(&[5, 3, 7, 0, 7], 0);
        assert_eq!(whole, Ok(Some(&mut [1, 2, 3, 4, 5, 6, 7][..])));
    }

    #[test]
    fn a_first_fragment_must_let_the_message_fit_256_fragments() {
        let mut buf = [0u8; 600];
        let mut r = Reassembler::new(&mut buf);
        let (f, n) = frag(0, 0, 513, &[1, 2]);
        assert_eq!(r.push(&f[..n], 0), Err(FrameError::BadLength));
        let (f, n) = frag(0, 0, 512, &[1, 2]);
        assert_eq!(r.push(&f[..n], 0), Ok(None));
    }

    #[test]
    fn partial_messages_time_out_at_the_documented_instants() {
        let mut buf = [0u8; 64];
        let mut r = Reassembler::new(&mut buf);
        let step = FRAGMENT_TIMEOUT_MS - 1;
        // One byte per fragment: a fragment every `step` ms keeps the message alive until the
        // whole-message timeout.
        let total = 20u16;
        let mut now = 1_000;
        let (f, n) = frag(1, 0, total, &[0]);
        assert_eq!(r.push(&f[..n], now), Ok(None));
        let mut index = 1u8;
        while now + step < 1_000 + MESSAGE_TIMEOUT_MS {
            now += step;
            let (f, n) = frag(1, index, total, &[index]);
            assert_eq!(r.push(&f[..n], now), Ok(None));
            index += 1;
        }
        assert_eq!(r.expire(1_000 + MESSAGE_TIMEOUT_MS - 1), Ok(()));
        assert_eq!(
            r.expire(1_000 + MESSAGE_TIMEOUT_MS),
            Err(FrameError::Timeout)
        );
        assert!(!r.in_progress());

        // Inter-fragment: one ms short is accepted, the exact timeout is not, and the late
        // fragment is discarded with the message.
        let (f, n) = frag(2, 0, 3, &[1]);
        assert_eq!(r.push(&f[..n], 0), Ok(None));
        let (f, n) = frag(2, 1, 3, &[2]);
        assert_eq!(r.push(&f[..n], FRAGMENT_TIMEOUT_MS - 1), Ok(None));
        let (f, n) = frag(2, 2, 3, &[3]);
        let late = 2 * FRAGMENT_TIMEOUT_MS - 1;
        assert_eq!(r.push(&f[..n], late), Err(FrameError::Timeout));
        assert_eq!(r.push(&f[..n], late), Err(FrameError::Orphan));
        // A clock that goes backwards counts as no time passed.
        let (f, n) = frag(3, 0, 2, &[1]);
        assert_eq!(r.push(&f[..n], 50_000), Ok(None));
        let (f, n) = frag(3, 1, 2, &[2]);
        assert_eq!(r.push(&f[..n], 10), Ok(Some(&mut [1, 2][..])));
    }

    #[test]
    fn debug_shows_the_state_but_not_the_message() {
        let mut buf = [0u8; 16];
        let mut r = Reassembler::new(&mut buf);
        assert!(
            r.push(&[0, 0, 3, 0, 0xab, 0xcd, 0xef], 0)
                .unwrap()
                .is_some()
        );
        let shown = std::format!("{r:?}");
        assert!(shown.contains("capacity: 16"), "{shown}");
        assert!(!shown.contains("171"), "{shown}");
    }

    #[test]
    fn frame_errors_map_to_decoding_errors() {
        assert_eq!(Error::from(FrameError::Timeout), Error::Truncated);
        assert_eq!(Error::from(FrameError::Missing), Error::UnexpectedMessage);
        assert_eq!(Error::from(FrameError::BadLength), Error::Malformed);
        assert_eq!(Error::from(FrameError::Oversize), Error::Oversize);
    }
}
