//! Delegation links a lock has verified, kept in RAM so a repeat visitor may name them by a
//! short reference instead of sending them (PROTOCOL 22.2).

use crate::credential::{ChainRef, MAX_CHAIN_BYTES};
use crate::crypto::PublicKey;
use crate::error::{Error, Result};
use crate::session::MAX_ADVERTISED;
use crate::wire::{self, Bounded, Kind};

/// Entries a lock keeps unless its maker chooses otherwise (`Lock<S, N>`).
pub const DEFAULT_CACHED_LINKS: usize = 4;
/// Largest run of links one entry holds: an owner's root link to a company, or a root and one
/// more delegation. A longer one is not kept.
pub const MAX_CACHED_BYTES: usize = 512;

/// One verified run of links: every link of a chain but its last.
struct Entry {
    reference: ChainRef,
    /// The owner key whose signature verified the first link.
    owner: PublicKey,
    count: u8,
    len: u16,
    links: [u8; MAX_CACHED_BYTES],
}

/// Up to `N` verified runs of links, the most recently used first: the last is evicted.
/// RAM only.
pub(crate) struct LinkCache<const N: usize> {
    entries: [Option<Entry>; N],
}

impl<const N: usize> LinkCache<N> {
    pub(crate) const fn new() -> LinkCache<N> {
        LinkCache {
            entries: [const { None }; N],
        }
    }

    /// Forgets everything (a configuration change, a reboot).
    pub(crate) fn clear(&mut self) {
        self.entries = [const { None }; N];
    }

    /// Moves the entry at `at` (or, past the end, the last one, which is dropped for a new
    /// entry) to the front, shifting the more recently used ones back by one. Out of line:
    /// one copy of the swaps.
    #[inline(never)]
    fn make_recent(&mut self, at: usize) {
        for i in (1..=at.min(N.saturating_sub(1))).rev() {
            self.entries.swap(i, i - 1);
        }
    }

    /// The index of the entry with this reference.
    fn find(&self, reference: &ChainRef) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.as_ref().is_some_and(|e| e.reference == *reference))
    }

    /// Keeps `links` (the first `count` links of a chain whose signatures `owner` and its
    /// delegates made, as verified just now) as the most recently used entry, in place of the
    /// least recently used one if none is free. Runs longer than [`MAX_CACHED_BYTES`] are not
    /// kept.
    pub(crate) fn insert(&mut self, owner: PublicKey, count: usize, links: &[u8]) {
        let (Ok(count), Ok(len)) = (u8::try_from(count), u16::try_from(links.len())) else {
            return;
        };
        let reference = ChainRef::of(links);
        if let Some(at) = self.find(&reference) {
            self.make_recent(at);
            return;
        }
        let mut bytes = [0u8; MAX_CACHED_BYTES];
        let Some(held) = bytes.get_mut(..links.len()) else {
            return;
        };
        held.copy_from_slice(links);
        self.make_recent(N);
        let Some(slot) = self.entries.first_mut() else {
            return;
        };
        *slot = Some(Entry {
            reference,
            owner,
            count,
            len,
            links: bytes,
        });
    }

    /// Rebuilds into `out` the whole chain a short form names: the kept links, then the
    /// received ones. Returns its length, the owner and how many leading links are verified;
    /// `None` if no entry has this reference.
    pub(crate) fn rebuild(
        &mut self,
        reference: &ChainRef,
        count: u8,
        received: &[u8],
        out: &mut [u8; MAX_CHAIN_BYTES],
    ) -> Result<Option<(usize, PublicKey, usize)>> {
        let Some(at) = self.find(reference) else {
            return Ok(None);
        };
        self.make_recent(at);
        let Some(Some(e)) = self.entries.first() else {
            return Ok(None);
        };
        let links = e.links.get(..usize::from(e.len)).ok_or(Error::Malformed)?;
        let total = e.count.checked_add(count).ok_or(Error::ChainLength)?;
        let at = wire::write_header(out, Kind::Chain)?;
        let at = wire::put_bytes(out, at, e.owner.0.get(..4).ok_or(Error::Malformed)?)?;
        let at = wire::put_bytes(out, at, &[total])?;
        let at = wire::put_bytes(out, at, links)?;
        let len = wire::put_bytes(out, at, received).map_err(|_| Error::Oversize)?;
        Ok(Some((len, e.owner, usize::from(e.count))))
    }

    /// The references to advertise in a challenge: the most recently used first.
    pub(crate) fn advertised(&self) -> Bounded<ChainRef, MAX_ADVERTISED> {
        let mut out = Bounded::new();
        for e in self.entries.iter().flatten() {
            if out.push(e.reference).is_err() {
                break;
            }
        }
        out
    }
}
