//! The receipt outbox: sealed bundles fetched from locks, kept per lock until uploaded.

use std::sync::{Mutex, MutexGuard, PoisonError};

use doorkey::receipt::take_sealed;

use crate::error::Result;
use crate::phone::{Ack, Reply, lock};

/// Sealed receipt bundles the phone fetched from its locks and has not uploaded yet, and the
/// owner's acknowledgements it carries back, per lock. The phone cannot read the bundles (they
/// are sealed to the owner's audit key); it checks their framing and uploads them as they are.
/// In memory only: an app that must survive a restart stores [`Outbox::pending`] and adds
/// each upload back with [`Outbox::add`].
#[derive(Debug, Default, uniffi::Object)]
pub struct Outbox {
    inner: Mutex<doorkey::phone::Outbox>,
}

/// What to upload for one lock.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Upload {
    /// The lock (16 bytes).
    pub lock_id: Vec<u8>,
    /// Its sealed bundles back to back, in the order fetched: the body of one upload.
    pub bundles: Vec<u8>,
}

impl Outbox {
    /// The outbox; the core never panics while holding it, so a poisoned lock's is whole.
    fn inner(&self) -> MutexGuard<'_, doorkey::phone::Outbox> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[uniffi::export]
impl Outbox {
    /// An empty outbox.
    #[uniffi::constructor]
    pub fn new() -> Outbox {
        Outbox::default()
    }

    /// Keeps the bundle of a [`Reply::Receipts`] from `lock_id`; returns whether `reply` was
    /// one (any other reply is left alone).
    pub fn collect(&self, lock_id: Vec<u8>, reply: Reply) -> Result<bool> {
        match reply {
            Reply::Receipts { bundle } => self.add(lock_id, bundle).map(|()| true),
            _ => Ok(false),
        }
    }

    /// Keeps one or more sealed bundles from `lock_id`, back to back (a bundle, or an
    /// [`Upload`]'s `bundles` put back). Refuses bytes that are not whole bundles, keeping
    /// none of them.
    pub fn add(&self, lock_id: Vec<u8>, bundles: Vec<u8>) -> Result<()> {
        let lock = lock(&lock_id)?;
        let mut each = Vec::new();
        let mut rest = bundles.as_slice();
        while !rest.is_empty() {
            let (bundle, tail) = take_sealed(rest)?;
            each.push(bundle);
            rest = tail;
        }
        let mut outbox = self.inner();
        for bundle in each {
            outbox.add(&lock, bundle)?;
        }
        Ok(())
    }

    /// The `after` for the next `Command::Receipts` to `lock_id`: the newest receipt
    /// the owner's server acknowledged (0 before any acknowledgement).
    pub fn after(&self, lock_id: Vec<u8>) -> Result<u64> {
        Ok(self.inner().after(&lock(&lock_id)?))
    }

    /// What is waiting to be uploaded, per lock, without removing it.
    pub fn pending(&self) -> Vec<Upload> {
        uploads(self.inner().clone().take_upload())
    }

    /// What is waiting to be uploaded, per lock; empties the outbox (acknowledgements stay).
    pub fn take_uploads(&self) -> Vec<Upload> {
        uploads(self.inner().take_upload())
    }

    /// Keeps the owner server's acknowledgement for `lock_id`, to carry on the next visit.
    pub fn set_ack(&self, lock_id: Vec<u8>, ack: Ack) -> Result<()> {
        let (lock, ack) = (lock(&lock_id)?, ack.core()?);
        self.inner().set_ack(&lock, ack);
        Ok(())
    }

    /// The acknowledgement to deliver to `lock_id` with `Command::Ack`, if any.
    pub fn ack(&self, lock_id: Vec<u8>) -> Result<Option<Ack>> {
        Ok(self.inner().ack(&lock(&lock_id)?).map(Ack::from))
    }
}

fn uploads(taken: Vec<(doorkey::credential::LockId, Vec<u8>)>) -> Vec<Upload> {
    taken
        .into_iter()
        .map(|(lock, bundles)| Upload {
            lock_id: lock.0.to_vec(),
            bundles,
        })
        .collect()
}
