use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::credential::LockId;
use crate::error::Result;
use crate::receipt::{Head, Parsed, Receipt, is_receipt};

/// Receipt bundles a phone has fetched from its locks and not yet uploaded, kept apart per
/// lock: each lock's receipts form their own chain, verified against that lock's key. For each
/// lock it remembers the newest sequence number it holds, so the next fetch asks only for what
/// is new.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outbox {
    locks: BTreeMap<LockId, Bundles>,
}

/// What the outbox holds for one lock.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Bundles {
    pending: Vec<u8>,
    after: u64,
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Outbox {
        Outbox::default()
    }

    /// The `after` to put in the next [`crate::session::Command::Receipts`] sent to `lock`.
    pub fn after(&self, lock: &LockId) -> u64 {
        self.locks.get(lock).map_or(0, |b| b.after)
    }

    /// Keeps a bundle from `lock`'s [`crate::session::Reply::Receipts`], refusing one that
    /// does not parse (the server verifies signatures; the phone only checks the framing).
    pub fn add(&mut self, lock: &LockId, bundle: &[u8]) -> Result<()> {
        self.locks.entry(*lock).or_default().add(bundle)
    }

    /// Everything collected since the last upload, per lock (in lock id order), each lock's
    /// bundles in the order fetched; empties the outbox but remembers where each lock's
    /// receipts end.
    pub fn take_upload(&mut self) -> Vec<(LockId, Vec<u8>)> {
        self.locks
            .iter_mut()
            .filter(|(_, b)| !b.pending.is_empty())
            .map(|(lock, b)| (*lock, core::mem::take(&mut b.pending)))
            .collect()
    }
}

impl Bundles {
    /// Parses the whole bundle before keeping any of it.
    fn add(&mut self, bundle: &[u8]) -> Result<()> {
        let mut rest = bundle;
        let mut newest = self.after;
        while !rest.is_empty() {
            rest = if is_receipt(rest) {
                let (r, tail) = Parsed::<Receipt>::take(rest)?;
                newest = newest.max(r.body.seq);
                tail
            } else {
                Parsed::<Head>::take(rest)?.1
            };
        }
        self.pending.extend_from_slice(bundle);
        self.after = newest;
        Ok(())
    }
}
