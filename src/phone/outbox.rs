use alloc::vec::Vec;

use crate::error::Result;
use crate::receipt::{Head, Parsed, Receipt, is_receipt};

/// Receipt bundles a phone has fetched from a lock and not yet uploaded. It remembers the
/// newest sequence number it holds, so the next fetch asks only for what is new.
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outbox {
    pending: Vec<u8>,
    after: u64,
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Outbox {
        Outbox::default()
    }

    /// The `after` to put in the next [`crate::session::Command::Receipts`].
    pub fn after(&self) -> u64 {
        self.after
    }

    /// Keeps a bundle from a [`crate::session::Reply::Receipts`], refusing one that does not
    /// parse (the server verifies signatures; the phone only checks the framing).
    pub fn add(&mut self, bundle: &[u8]) -> Result<()> {
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

    /// Everything collected since the last upload, in the order fetched; empties the outbox.
    pub fn take_upload(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.pending)
    }
}
