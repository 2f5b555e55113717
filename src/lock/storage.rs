//! Lock state that survives power loss.
//!
//! The lock keeps everything that must outlive a reboot (use counts, revocations,
//! configuration version, clock high-water mark, receipt-chain head) as one opaque byte string
//! that it replaces atomically through [`Storage`], and it commits before it actuates: after a
//! power cut at any instant, nothing accepted before is accepted again.
//!
//! [`FlashStorage`] keeps it on a [`Flash`] device with two equal regions (flash, EEPROM or
//! battery-backed RAM), alternating between them so that the last committed record is never
//! touched while the next one is written, and reports a lost newest commit as a rollback.
//! [`MemoryStorage`] is for tests and host simulations only.
//!
//! # Flash record format, version 1
//!
//! Each region holds at most one record, at offset 0: a [`STORAGE_HEADER_LEN`] (32) byte header,
//! then the data. Integers are little-endian.
//!
//! | offset | size  | field                                                                  |
//! |--------|-------|------------------------------------------------------------------------|
//! | 0      | 4     | magic `"DKS1"` (`44 4B 53 31`)                                           |
//! | 4      | 8     | `seq`: sequence number, `u64`                                          |
//! | 12     | 4     | `len`: data length in bytes, `u32`                                     |
//! | 16     | 16    | `check`: first 16 bytes of SHA-512(`"doorkey/v1/store\0"` ‖ magic ‖ `seq` ‖ `len` ‖ data) |
//! | 32     | `len` | data: the committed state                                              |
//! | 32+`len` | 1   | superseded mark, if the region has room: `0xFF`, then `0x00` once a newer record is committed |
//!
//! The label `"doorkey/v1/store\0"` is 17 bytes, the last one NUL; `magic ‖ seq ‖ len` are the
//! header's first 16 bytes exactly as stored.
//!
//! A record is **valid** when its magic matches, `32 + len` is at most the region size, and
//! `check` matches the data as read back. The checksum detects torn writes, interrupted erases
//! and decay; it is not a MAC (rewriting the flash is a physical attack, out of scope).
//!
//! **Load**: of the valid records in regions A and B, the one with the higher `seq` is the
//! committed state (region A on a tie, which only hand-crafted contents can produce). If its
//! mark exists and is not `0xFF`, a newer record was committed after it and is lost: the load
//! reports a rollback. With no valid record, the store is blank (nothing was ever committed)
//! only when both 32-byte headers are all `0xFF`; anything else is a corrupt store and an
//! error.
//!
//! **Commit**: the target is the region *not* holding the newest valid record (A when there is
//! none); the new `seq` is the newest `seq` + 1 (0 for the first record). A newest `seq` of
//! `u64::MAX` refuses every further commit rather than wrap. The target is erased, the data
//! written at offset 32, the header written at offset 0 *last*, and the record read back and
//! compared. Until the header is completely written the target fails validation, and the
//! previous record in the other region is never touched, so a power cut at any instant leaves
//! either the previous state or the new one. Once the new record is read back, the previous
//! record's mark is written (best effort): a marked newest valid record means a newer one was
//! committed and lost, while a commit cut short leaves no mark, so it is not a rollback.

use crate::error::{Error, Result};
use sha2::{Digest, Sha512};

/// Where a lock keeps the state that must survive a reboot: one opaque byte string,
/// replaced atomically.
///
/// A lock trusts its storage to be atomic ([`Storage::commit`]), to tell a blank store from a
/// broken one ([`Storage::load`]), and never to hand back an older state as if it were the
/// newest ([`Storage::rolled_back`]); `docs/PROTOCOL.md` 16.6 states these requirements.
pub trait Storage {
    /// Reads the last committed state into `buf`, returning its length, or `None` only if
    /// nothing was ever committed (a blank store).
    ///
    /// Fails with [`Error::Storage`] when the store cannot be read or holds something that is
    /// not a valid state: never `None` for a store that was written to. Fails with
    /// [`Error::BufferTooSmall`] when the state does not fit in `buf`. Bytes of `buf` past the
    /// returned length are unspecified.
    fn load(&mut self, buf: &mut [u8]) -> Result<Option<usize>>;

    /// Whether the state the last successful [`Storage::load`] returned is older than one
    /// this store had committed (the newest commit was lost to corruption or decay). The lock
    /// then goes into recovery rather than silently act on old use counts and revocations.
    fn rolled_back(&self) -> bool;

    /// Atomically replaces the committed state: after a power cut at any instant during this
    /// call, `load` returns either the previous state or `state`, never anything else.
    ///
    /// An `Err` means the new state may or may not have been committed; the caller must not
    /// act as if it had been.
    fn commit(&mut self, state: &[u8]) -> Result<()>;
}

/// Storage in ordinary RAM holding up to `N` bytes, for tests and host simulations only.
///
/// It is not power-fail safe (a reset during [`Storage::commit`] can leave a torn state) and
/// has no checksum, so it never detects a rollback: a lock must not use it. For
/// battery-backed RAM, implement [`Flash`] over two halves of it and use [`FlashStorage`].
#[derive(Clone)]
pub struct MemoryStorage<const N: usize> {
    bytes: [u8; N],
    len: Option<usize>,
}

impl<const N: usize> MemoryStorage<N> {
    /// Empty storage: `load` returns `None` until the first commit.
    pub const fn new() -> Self {
        MemoryStorage {
            bytes: [0; N],
            len: None,
        }
    }
}

/// Equal when they hold the same committed state.
impl<const N: usize> PartialEq for MemoryStorage<N> {
    fn eq(&self, other: &Self) -> bool {
        fn held<const N: usize>(m: &MemoryStorage<N>) -> Option<&[u8]> {
            m.len.and_then(|len| m.bytes.get(..len))
        }
        held(self) == held(other)
    }
}

impl<const N: usize> Eq for MemoryStorage<N> {}

impl<const N: usize> core::fmt::Debug for MemoryStorage<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MemoryStorage")
            .field("capacity", &N)
            .field("len", &self.len)
            .finish()
    }
}

impl<const N: usize> Default for MemoryStorage<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Storage for MemoryStorage<N> {
    fn load(&mut self, buf: &mut [u8]) -> Result<Option<usize>> {
        let Some(len) = self.len else {
            return Ok(None);
        };
        let src = self.bytes.get(..len).ok_or(Error::Storage)?;
        let dst = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        dst.copy_from_slice(src);
        Ok(Some(len))
    }

    /// Fails with [`Error::Oversize`] when `state` is longer than `N` bytes.
    fn commit(&mut self, state: &[u8]) -> Result<()> {
        let dst = self.bytes.get_mut(..state.len()).ok_or(Error::Oversize)?;
        dst.copy_from_slice(state);
        self.len = Some(state.len());
        Ok(())
    }

    /// Always `false`: RAM keeps what was last copied in.
    fn rolled_back(&self) -> bool {
        false
    }
}

/// The flash-like device a lock has: two equal regions that are erased (to `0xFF`) as a whole
/// and written in place.
///
/// A power cut during [`Flash::write`] may leave any prefix of the new bytes written and the
/// rest of the written range in any state (torn write); a cut during [`Flash::erase`] may leave
/// the region partly erased. [`FlashStorage`] only writes erased bytes, so NOR-style devices that
/// can only clear bits work as they are.
pub trait Flash {
    /// Bytes in each of the two regions.
    fn region_size(&self) -> usize;

    /// Reads `buf.len()` bytes of `region` starting at `offset`. A range past the end of the
    /// region is an error.
    fn read(&mut self, region: Region, offset: usize, buf: &mut [u8]) -> Result<()>;

    /// Erases all of `region` to `0xFF`.
    fn erase(&mut self, region: Region) -> Result<()>;

    /// Writes `data` into `region` at `offset`; the range has been erased beforehand.
    fn write(&mut self, region: Region, offset: usize, data: &[u8]) -> Result<()>;
}

/// One of the two regions of a [`Flash`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Region {
    /// The first region; the first record ever committed goes here.
    A,
    /// The second region.
    B,
}

impl Region {
    /// The region a commit writes to when this one holds the newest record.
    const fn other(self) -> Region {
        match self {
            Region::A => Region::B,
            Region::B => Region::A,
        }
    }
}

/// Size of a flash record header: a region of `region_size` bytes holds at most
/// `region_size - STORAGE_HEADER_LEN` bytes of state.
pub const STORAGE_HEADER_LEN: usize = 32;

const MAGIC: [u8; 4] = *b"DKS1";
/// Domain separation of the record checksum from every other SHA-512 in the protocol.
const LABEL: &[u8] = crate::crypto::labels::STORE;
/// `magic || seq || len`: the part of the header the checksum covers.
const PREFIX_LEN: usize = 16;
const CHECK_LEN: usize = 16;
/// Stack buffer for streaming record data through the hash and the read-back check.
const CHUNK: usize = 64;

/// A record header whose magic and length are plausible; its checksum is not yet verified.
#[derive(Clone, Copy)]
struct Header {
    seq: u64,
    len: usize,
    prefix: [u8; PREFIX_LEN],
    check: [u8; CHECK_LEN],
}

impl Header {
    fn new(seq: u64, len: u32, data: &[u8]) -> Header {
        let mut prefix = [0u8; PREFIX_LEN];
        let fields: [&[u8]; 3] = [&MAGIC, &seq.to_le_bytes(), &len.to_le_bytes()];
        for (out, byte) in prefix.iter_mut().zip(fields.iter().flat_map(|f| f.iter())) {
            *out = *byte;
        }
        Header {
            seq,
            // Lossless: `len` came from a `usize`.
            len: data.len(),
            prefix,
            check: checksum(&prefix, data),
        }
    }

    /// Parses `raw`, refusing a wrong magic or a length that cannot fit in the region.
    fn parse(raw: &[u8; STORAGE_HEADER_LEN], capacity: usize) -> Option<Header> {
        let (prefix, check) = raw.split_first_chunk::<PREFIX_LEN>()?;
        let (magic, fields) = prefix.split_first_chunk::<4>()?;
        let (seq, len) = fields.split_first_chunk::<8>()?;
        let len = usize::try_from(u32::from_le_bytes(len.try_into().ok()?)).ok()?;
        if *magic != MAGIC || len > capacity {
            return None;
        }
        Some(Header {
            seq: u64::from_le_bytes(*seq),
            len,
            prefix: *prefix,
            check: check.try_into().ok()?,
        })
    }

    fn to_bytes(self) -> [u8; STORAGE_HEADER_LEN] {
        let mut raw = [0u8; STORAGE_HEADER_LEN];
        for (out, byte) in raw
            .iter_mut()
            .zip(self.prefix.iter().chain(self.check.iter()))
        {
            *out = *byte;
        }
        raw
    }
}

fn checksum(prefix: &[u8; PREFIX_LEN], data: &[u8]) -> [u8; CHECK_LEN] {
    crate::crypto::hash::<CHECK_LEN>(&[LABEL, prefix, data])
}

/// Both regions' plausible headers, highest sequence first.
type Candidates = [Option<(Region, Header)>; 2];

/// What this instance knows about the newest valid record, so that a commit need not re-read
/// both regions.
#[derive(Clone, Copy)]
enum Newest {
    /// Not read yet, or a failed commit may have changed the flash.
    Unknown,
    /// Neither region holds a valid record.
    None,
    /// The newest valid record is in this region, with this sequence number and mark.
    At(Region, u64, Mark),
}

/// The superseded mark of a valid record: the byte right after its data.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// The record fills its region: there is no room for a mark.
    NoRoom,
    /// Erased: no newer record has been completed since this one.
    Clear(usize),
    /// Written (or not erased): a newer record was completed after this one.
    Set,
}

/// Power-fail-safe [`Storage`] over a [`Flash`]: alternates between the two regions, each
/// holding one record with a sequence number and a checksum; the newest valid record wins.
///
/// Each region holds one record: a [`STORAGE_HEADER_LEN`]-byte header (magic `"DKS1"`, `u64`
/// sequence number, `u32` length, 16-byte SHA-512 checksum) then the data, header written last;
/// `docs/PROTOCOL.md` specifies the format. Data is streamed through a small stack buffer, so no
/// region-sized buffer is needed beyond the caller's own.
pub struct FlashStorage<F: Flash> {
    flash: F,
    newest: Newest,
    rolled_back: bool,
}

/// Shows whether a rollback was detected; never the flash contents.
impl<F: Flash> core::fmt::Debug for FlashStorage<F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FlashStorage")
            .field("rolled_back", &self.rolled_back)
            .finish_non_exhaustive()
    }
}

impl<F: Flash> FlashStorage<F> {
    /// Storage over `flash`, which may hold records from before a reboot, or anything at all.
    pub fn new(flash: F) -> Self {
        FlashStorage {
            flash,
            newest: Newest::Unknown,
            rolled_back: false,
        }
    }

    /// Gives the flash device back.
    pub fn into_inner(self) -> F {
        self.flash
    }

    /// The flash device, for inspection.
    pub fn flash(&self) -> &F {
        &self.flash
    }

    /// Largest state a region can hold.
    fn capacity(&self) -> Result<usize> {
        // Regions smaller than a header are a configuration mistake, not an empty store:
        // reporting "nothing committed" would let a lock forget its use counts.
        self.flash
            .region_size()
            .checked_sub(STORAGE_HEADER_LEN)
            .ok_or(Error::Misuse)
    }

    fn read(&mut self, region: Region, offset: usize, buf: &mut [u8]) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        self.flash.read(region, offset, buf)
    }

    /// The region's plausible header, if any, and whether its header bytes are all erased.
    fn header(&mut self, region: Region) -> Result<(Option<Header>, bool)> {
        let capacity = self.capacity()?;
        let mut raw = [0u8; STORAGE_HEADER_LEN];
        self.flash.read(region, 0, &mut raw)?;
        Ok((
            Header::parse(&raw, capacity),
            raw.iter().all(|b| *b == 0xFF),
        ))
    }

    /// Both regions' plausible headers, highest sequence first (A first on a tie), and
    /// whether both headers are erased.
    fn candidates(&mut self) -> Result<(Candidates, bool)> {
        let (a, a_erased) = self.header(Region::A)?;
        let (b, b_erased) = self.header(Region::B)?;
        let a = a.map(|h| (Region::A, h));
        let b = b.map(|h| (Region::B, h));
        let ordered = match (a, b) {
            (Some((_, ha)), Some((_, hb))) if hb.seq > ha.seq => [b, a],
            _ => [a, b],
        };
        Ok((ordered, a_erased && b_erased))
    }

    /// Verifies the checksum of the record in `region` by streaming its data from flash.
    fn verify_on_flash(&mut self, region: Region, header: &Header) -> Result<bool> {
        let mut sha = Sha512::new();
        sha.update(LABEL);
        sha.update(header.prefix);
        let mut chunk = [0u8; CHUNK];
        let mut offset = STORAGE_HEADER_LEN;
        let mut left = header.len;
        while left > 0 {
            let part = chunk.get_mut(..left.min(CHUNK)).ok_or(Error::Misuse)?;
            self.flash.read(region, offset, part)?;
            sha.update(&*part);
            offset = offset.checked_add(part.len()).ok_or(Error::Storage)?;
            left = left.saturating_sub(part.len());
        }
        let digest = sha.finalize();
        let mut check = [0u8; CHECK_LEN];
        for (out, byte) in check.iter_mut().zip(digest.iter()) {
            *out = *byte;
        }
        Ok(check == header.check)
    }

    /// Finds the newest valid record without a caller buffer (commit before any load).
    fn scan(&mut self) -> Result<Newest> {
        for (region, header) in self.candidates()?.0.into_iter().flatten() {
            if self.verify_on_flash(region, &header)? {
                return Ok(Newest::At(region, header.seq, self.mark(region, &header)?));
            }
        }
        Ok(Newest::None)
    }

    /// Reads the superseded mark of the valid record in `region`.
    fn mark(&mut self, region: Region, header: &Header) -> Result<Mark> {
        let at = STORAGE_HEADER_LEN.saturating_add(header.len);
        if at >= self.flash.region_size() {
            return Ok(Mark::NoRoom);
        }
        let mut byte = [0u8; 1];
        self.flash.read(region, at, &mut byte)?;
        Ok(if byte == [0xFF] {
            Mark::Clear(at)
        } else {
            Mark::Set
        })
    }

    /// Reads the record just written to `region` back and compares it with what was meant,
    /// so that a write the device silently dropped is not mistaken for a commit.
    fn read_back(&mut self, region: Region, header: &Header, state: &[u8]) -> Result<()> {
        let mut raw = [0u8; STORAGE_HEADER_LEN];
        self.flash.read(region, 0, &mut raw)?;
        if raw != header.to_bytes() {
            return Err(Error::Storage);
        }
        let mut chunk = [0u8; CHUNK];
        let mut offset = STORAGE_HEADER_LEN;
        for expected in state.chunks(CHUNK) {
            let part = chunk.get_mut(..expected.len()).ok_or(Error::Misuse)?;
            self.flash.read(region, offset, part)?;
            if part != expected {
                return Err(Error::Storage);
            }
            offset = offset.checked_add(expected.len()).ok_or(Error::Storage)?;
        }
        Ok(())
    }
}

impl<F: Flash> Storage for FlashStorage<F> {
    /// Returns the newest valid record, noting a rollback when that record carries the
    /// superseded mark (a newer record was completed after it and is gone). Fails with
    /// [`Error::Storage`] when no record is valid but a header is not erased, with
    /// [`Error::Misuse`] when a region is smaller than [`STORAGE_HEADER_LEN`], and passes on
    /// any flash read error rather than fall back to an older record.
    fn load(&mut self, buf: &mut [u8]) -> Result<Option<usize>> {
        self.rolled_back = false;
        let (candidates, blank) = self.candidates()?;
        for (region, header) in candidates.into_iter().flatten() {
            // Verify the very bytes handed back, so a flash that changes between two reads
            // cannot slip unverified state through.
            let valid = match buf.get_mut(..header.len) {
                Some(dst) => {
                    self.read(region, STORAGE_HEADER_LEN, dst)?;
                    checksum(&header.prefix, dst) == header.check
                }
                None => self.verify_on_flash(region, &header)?,
            };
            if !valid {
                continue;
            }
            let mark = self.mark(region, &header)?;
            self.newest = Newest::At(region, header.seq, mark);
            if header.len > buf.len() {
                return Err(Error::BufferTooSmall);
            }
            self.rolled_back = mark == Mark::Set;
            return Ok(Some(header.len));
        }
        self.newest = Newest::None;
        if blank { Ok(None) } else { Err(Error::Storage) }
    }

    fn rolled_back(&self) -> bool {
        self.rolled_back
    }

    /// Fails with [`Error::Oversize`] when `state` does not fit in a region after the header,
    /// [`Error::Misuse`] when a region is smaller than a header, and [`Error::Storage`] on a
    /// flash error, a failed read-back, or when the newest sequence number is `u64::MAX`.
    fn commit(&mut self, state: &[u8]) -> Result<()> {
        if state.len() > self.capacity()? {
            return Err(Error::Oversize);
        }
        let len = u32::try_from(state.len()).map_err(|_| Error::Oversize)?;
        let newest = match self.newest {
            Newest::Unknown => self.scan()?,
            known => known,
        };
        self.newest = newest;
        let (target, seq, previous) = match newest {
            Newest::At(region, seq, mark) => (
                region.other(),
                seq.checked_add(1).ok_or(Error::Storage)?,
                Some((region, mark)),
            ),
            Newest::None | Newest::Unknown => (Region::A, 0, None),
        };
        let header = Header::new(seq, len, state);
        // If any step below fails, the target may hold anything, even a complete record:
        // forget what we knew so that the next commit reads the headers again.
        self.newest = Newest::Unknown;
        self.flash.erase(target)?;
        if !state.is_empty() {
            self.flash.write(target, STORAGE_HEADER_LEN, state)?;
        }
        // The header goes last: until it is complete, the record fails validation.
        self.flash.write(target, 0, &header.to_bytes())?;
        self.read_back(target, &header, state)?;
        // The new record is committed. Mark the previous one superseded, so that if the new
        // one is ever lost, a load knows it fell back (best effort: the commit stands).
        if let Some((region, Mark::Clear(at))) = previous {
            let _ = self.flash.write(region, at, &[0]);
        }
        let mark = self.mark(target, &header)?;
        self.newest = Newest::At(target, seq, mark);
        Ok(())
    }
}
