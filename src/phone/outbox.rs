use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::credential::LockId;
use crate::error::Result;
use crate::receipt::{Ack, take_sealed};

/// Sealed receipt bundles a phone has fetched from its locks and not yet uploaded, and the
/// owner's acknowledgements it carries back, kept apart per lock: each lock's receipts form
/// their own chain, opened and verified against that lock. The phone cannot read the bundles
/// (they are sealed to the owner's audit key, so it never sees other holders' visits); it
/// checks their framing and hands them to the server as they are.
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outbox {
    locks: BTreeMap<LockId, Bundles>,
}

/// What the outbox holds for one lock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Bundles {
    pending: Vec<u8>,
    ack: Option<Ack>,
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Outbox {
        Outbox::default()
    }

    /// The `after` to put in the next [`crate::session::Command::Receipts`] sent to `lock`:
    /// the newest receipt the server acknowledged holding (0 before any acknowledgement).
    pub fn after(&self, lock: &LockId) -> u64 {
        self.ack(lock).map_or(0, |a| a.seq)
    }

    /// Keeps a sealed bundle from `lock`'s [`crate::session::Reply::Receipts`], refusing one
    /// whose framing is wrong (only the server can open and verify it).
    pub fn add(&mut self, lock: &LockId, sealed: &[u8]) -> Result<()> {
        let (_, rest) = take_sealed(sealed)?;
        if !rest.is_empty() {
            return Err(crate::Error::TrailingBytes);
        }
        let bundles = self.locks.entry(*lock).or_default();
        bundles.pending.extend_from_slice(sealed);
        Ok(())
    }

    /// Everything collected since the last upload, per lock (in lock id order), each lock's
    /// bundles in the order fetched; empties the outbox but keeps each lock's acknowledgement.
    pub fn take_upload(&mut self) -> Vec<(LockId, Vec<u8>)> {
        self.locks
            .iter_mut()
            .filter(|(_, b)| !b.pending.is_empty())
            .map(|(lock, b)| (*lock, core::mem::take(&mut b.pending)))
            .collect()
    }

    /// Keeps the server's acknowledgement for `lock` (`server::ReceiptLog::ack`) for the next
    /// visit to it.
    pub fn set_ack(&mut self, lock: &LockId, ack: Ack) {
        self.locks.entry(*lock).or_default().ack = Some(ack);
    }

    /// The acknowledgement to deliver to `lock` with [`crate::session::Command::Ack`], if any.
    pub fn ack(&self, lock: &LockId) -> Option<Ack> {
        self.locks.get(lock).and_then(|b| b.ack)
    }
}
