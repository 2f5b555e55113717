//! The server's receipt log for one lock: ingests bundles in any order and any number of
//! times, verifies signatures in batches, and reports every anomaly as a finding instead of
//! dropping it.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::credential::LockId;
use crate::crypto::{self, PublicKey};
use crate::error::Result;
use crate::receipt::{Head, Parsed, Receipt, is_receipt};

/// Something wrong with what a lock's receipts say, or with how they arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Finding {
    /// The bundle item at `index` is not a well-formed receipt or head; the rest of that
    /// bundle could not be read.
    Malformed {
        /// Position of the item in its bundle.
        index: usize,
    },
    /// The bundle item at `index` does not carry the lock's valid signature.
    BadSignature {
        /// Position of the item in its bundle.
        index: usize,
    },
    /// Two different validly signed receipts share sequence number `seq`.
    Fork {
        /// The duplicated sequence number.
        seq: u64,
    },
    /// A bundle carried receipt `seq` twice.
    Duplicate {
        /// The repeated receipt.
        seq: u64,
    },
    /// A bundle delivered receipt `seq` after a later one.
    Reordered {
        /// The receipt that came out of order.
        seq: u64,
    },
    /// Receipts `from..=to` are missing from the log.
    Gap {
        /// First missing sequence number.
        from: u64,
        /// Last missing sequence number.
        to: u64,
    },
    /// Receipt `seq` does not link to the hash of receipt `seq - 1`.
    BrokenLink {
        /// The receipt whose link is wrong.
        seq: u64,
    },
    /// The lock signed a head at `signed`, but the log's receipts stop at `held`.
    Truncated {
        /// Newest sequence number the lock vouched for.
        signed: u64,
        /// Newest sequence number the log holds.
        held: u64,
    },
}

/// A verified receipt as the log keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// The receipt exactly as the lock signed it (evidence).
    pub bytes: Vec<u8>,
    /// Its decoded content.
    pub receipt: Receipt,
    /// Its chain hash.
    pub hash: [u8; 32],
}

/// Where a receipt log keeps its receipts: a database in production, memory in tests.
pub trait LogStore {
    /// The receipt with sequence number `seq`, if held.
    fn get(&self, seq: u64) -> Option<&Stored>;
    /// Stores a verified receipt.
    fn put(&mut self, stored: Stored);
    /// Every held receipt, in sequence order.
    fn all(&self) -> Vec<&Stored>;
    /// The newest signed head seen.
    fn head(&self) -> Option<Head>;
    /// Records a newer signed head.
    fn set_head(&mut self, head: Head);
}

/// An in-memory [`LogStore`].
#[derive(Clone, Debug, Default)]
pub struct MemoryLog {
    receipts: BTreeMap<u64, Stored>,
    head: Option<Head>,
}

impl LogStore for MemoryLog {
    fn get(&self, seq: u64) -> Option<&Stored> {
        self.receipts.get(&seq)
    }
    fn put(&mut self, stored: Stored) {
        self.receipts.insert(stored.receipt.seq, stored);
    }
    fn all(&self) -> Vec<&Stored> {
        self.receipts.values().collect()
    }
    fn head(&self) -> Option<Head> {
        self.head
    }
    fn set_head(&mut self, head: Head) {
        self.head = Some(head);
    }
}

/// One lock's verified receipt log.
pub struct ReceiptLog<L: LogStore = MemoryLog> {
    lock_key: PublicKey,
    lock: LockId,
    store: L,
    findings: Vec<Finding>,
}

enum Item<'a> {
    Receipt(Parsed<'a, Receipt>),
    Head(Parsed<'a, Head>),
}

impl<'a> Item<'a> {
    fn signed(&self) -> &'a [u8] {
        match self {
            Item::Receipt(p) => p.signed,
            Item::Head(p) => p.signed,
        }
    }
    fn signature(&self) -> [u8; 64] {
        match self {
            Item::Receipt(p) => p.signature.0,
            Item::Head(p) => p.signature.0,
        }
    }
    fn label(&self) -> &'static [u8] {
        match self {
            Item::Receipt(_) => crypto::labels::RECEIPT,
            Item::Head(_) => crypto::labels::HEAD,
        }
    }
}

impl ReceiptLog<MemoryLog> {
    /// An empty in-memory log for the lock with identity key `lock_key`.
    pub fn new(lock_key: PublicKey) -> Result<ReceiptLog<MemoryLog>> {
        ReceiptLog::with_store(lock_key, MemoryLog::default())
    }
}

impl<L: LogStore> ReceiptLog<L> {
    /// A log over `store` for the lock `lock_key` (validated: batch verification assumes a
    /// torsion-free key).
    pub fn with_store(lock_key: PublicKey, store: L) -> Result<ReceiptLog<L>> {
        lock_key.validate()?;
        Ok(ReceiptLog {
            lock: LockId::of(&lock_key),
            lock_key,
            store,
            findings: Vec::new(),
        })
    }

    /// The underlying store.
    pub fn store(&self) -> &L {
        &self.store
    }

    /// Verifies and files a bundle (heads and receipts, as phones upload them). Returns what
    /// this bundle revealed; gaps and broken links across the whole log come from
    /// [`ReceiptLog::audit`]. Duplicates are accepted silently.
    pub fn ingest(&mut self, bundle: &[u8]) -> Vec<Finding> {
        let mut found = Vec::new();
        let mut items = Vec::new();
        let mut rest = bundle;
        while !rest.is_empty() {
            let parsed = if is_receipt(rest) {
                Parsed::<Receipt>::take(rest).map(|(p, r)| (Item::Receipt(p), r))
            } else {
                Parsed::<Head>::take(rest).map(|(p, r)| (Item::Head(p), r))
            };
            match parsed {
                Ok((item, r)) => {
                    items.push(item);
                    rest = r;
                }
                Err(_) => {
                    found.push(Finding::Malformed { index: items.len() });
                    break;
                }
            }
        }
        let valid = self.verify_all(&items);
        let mut last_seq = 0;
        for (index, (item, ok)) in items.iter().zip(valid).enumerate() {
            if !ok {
                found.push(Finding::BadSignature { index });
                continue;
            }
            match item {
                Item::Head(h) => {
                    if self.store.head().is_none_or(|old| h.body.seq > old.seq) {
                        self.store.set_head(h.body);
                    }
                }
                Item::Receipt(p) => {
                    let seq = p.body.seq;
                    if seq < last_seq {
                        found.push(Finding::Reordered { seq });
                    } else if seq == last_seq {
                        found.push(Finding::Duplicate { seq });
                    }
                    last_seq = last_seq.max(seq);
                    let hash = p.hash(&self.lock);
                    match self.store.get(seq) {
                        Some(held) if held.hash == hash => {}
                        Some(_) => found.push(Finding::Fork { seq }),
                        None => self.store.put(Stored {
                            bytes: p.signed.iter().chain(&p.signature.0).copied().collect(),
                            receipt: p.body,
                            hash,
                        }),
                    }
                }
            }
        }
        self.findings.extend_from_slice(&found);
        found
    }

    /// Batch-verifies every item's signature; on a batch failure, finds the bad ones one by
    /// one.
    fn verify_all(&self, items: &[Item<'_>]) -> Vec<bool> {
        let messages: Vec<Vec<u8>> = items
            .iter()
            .map(|i| [i.label(), &self.lock.0[..], i.signed()].concat())
            .collect();
        let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        let sigs: Vec<crypto::Signature> = items
            .iter()
            .map(|i| crypto::Signature(i.signature()))
            .collect();
        self.lock_key.verify_each(&refs, &sigs)
    }

    /// Every finding so far, plus what the whole log shows now: gaps, broken links and
    /// truncation against the newest signed head. Sorted, without duplicates.
    pub fn audit(&self) -> Vec<Finding> {
        let mut out = self.findings.clone();
        let all = self.store.all();
        let mut expected = 1u64;
        let mut prev_hash = [0u8; 32];
        for s in &all {
            let seq = s.receipt.seq;
            if seq > expected {
                out.push(Finding::Gap {
                    from: expected,
                    to: seq - 1,
                });
            } else if s.receipt.prev != prev_hash {
                out.push(Finding::BrokenLink { seq });
            }
            expected = seq.saturating_add(1);
            prev_hash = s.hash;
        }
        let held = expected - 1;
        if let Some(head) = self.store.head() {
            if head.seq > held {
                out.push(Finding::Truncated {
                    signed: head.seq,
                    held,
                });
            } else if self.store.get(head.seq).is_none_or(|s| s.hash != head.hash) {
                out.push(Finding::Fork { seq: head.seq });
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Receipts in sequence order.
    pub fn receipts(&self) -> Vec<&Stored> {
        self.store.all()
    }
}
