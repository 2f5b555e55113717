use alloc::vec::Vec;

use crate::error::Result;
use crate::receipt::{Ack, take_sealed};

/// Sealed receipt bundles a phone has fetched from a lock and not yet uploaded, and the
/// owner's acknowledgement it carries back. The phone cannot read the bundles (they are sealed
/// to the owner's audit key, so it never sees other holders' visits); it checks their framing
/// and hands them to the server as they are.
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outbox {
    pending: Vec<u8>,
    ack: Option<Ack>,
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Outbox {
        Outbox::default()
    }

    /// The `after` to put in the next [`crate::session::Command::Receipts`]: the newest
    /// receipt the server acknowledged holding (0 before any acknowledgement).
    pub fn after(&self) -> u64 {
        self.ack.map_or(0, |a| a.seq)
    }

    /// Keeps a sealed bundle from a [`crate::session::Reply::Receipts`], refusing one whose
    /// framing is wrong (only the server can open and verify it).
    pub fn add(&mut self, sealed: &[u8]) -> Result<()> {
        let (_, rest) = take_sealed(sealed)?;
        if !rest.is_empty() {
            return Err(crate::Error::TrailingBytes);
        }
        self.pending.extend_from_slice(sealed);
        Ok(())
    }

    /// Everything collected since the last upload, in the order fetched; empties the outbox.
    pub fn take_upload(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.pending)
    }

    /// Keeps the server's acknowledgement (`server::ReceiptLog::ack`) for the next visit.
    pub fn set_ack(&mut self, ack: Ack) {
        self.ack = Some(ack);
    }

    /// The acknowledgement to deliver with [`crate::session::Command::Ack`], if any.
    pub fn ack(&self) -> Option<Ack> {
        self.ack
    }
}
