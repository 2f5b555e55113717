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
    /// When it was last used, on the cache's own counter: the least recent is evicted.
    used: u32,
}

/// Up to `N` verified runs of links, least recently used evicted first. RAM only.
pub(crate) struct LinkCache<const N: usize> {
    entries: [Option<Entry>; N],
    clock: u32,
}

impl<const N: usize> LinkCache<N> {
    pub(crate) const fn new() -> LinkCache<N> {
        LinkCache {
            entries: [const { None }; N],
            clock: 0,
        }
    }

    /// Forgets everything (a configuration change, a reboot).
    pub(crate) fn clear(&mut self) {
        self.entries = [const { None }; N];
    }

    fn tick(&mut self) -> u32 {
        self.clock = self.clock.wrapping_add(1);
        self.clock
    }

    /// Keeps `links` (the first `count` links of a chain whose signatures `owner` and its
    /// delegates made, as verified just now) in place of the least recently used entry, or
    /// marks them used if already kept. Runs longer than [`MAX_CACHED_BYTES`] are not kept.
    pub(crate) fn insert(&mut self, owner: PublicKey, count: usize, links: &[u8]) {
        let (Ok(count), Ok(len)) = (u8::try_from(count), u16::try_from(links.len())) else {
            return;
        };
        let mut bytes = [0u8; MAX_CACHED_BYTES];
        let Some(held) = bytes.get_mut(..links.len()) else {
            return;
        };
        held.copy_from_slice(links);
        let reference = ChainRef::of(links);
        let used = self.tick();
        if let Some(e) = self.find(&reference) {
            e.used = used;
            return;
        }
        let age = |e: &Option<Entry>| e.as_ref().map_or(u32::MAX, |e| used.wrapping_sub(e.used));
        if let Some(slot) = self.entries.iter_mut().max_by_key(|e| age(e)) {
            *slot = Some(Entry {
                reference,
                owner,
                count,
                len,
                links: bytes,
                used,
            });
        }
    }

    fn find(&mut self, reference: &ChainRef) -> Option<&mut Entry> {
        self.entries
            .iter_mut()
            .flatten()
            .find(|e| e.reference == *reference)
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
        let used = self.tick();
        let Some(e) = self.find(reference) else {
            return Ok(None);
        };
        e.used = used;
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
        let mut newer: Option<u32> = None;
        for _ in 0..MAX_ADVERTISED {
            let next = self
                .entries
                .iter()
                .flatten()
                .map(|e| (self.age(e), e.reference))
                .filter(|(age, _)| newer.is_none_or(|n| *age > n))
                .min_by_key(|(age, _)| *age);
            let Some((age, reference)) = next else { break };
            newer = Some(age);
            let _ = out.push(reference);
        }
        out
    }

    /// How many uses ago `e` was last used: the most recent is 0.
    fn age(&self, e: &Entry) -> u32 {
        self.clock.wrapping_sub(e.used)
    }
}
