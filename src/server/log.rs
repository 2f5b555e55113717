//! The server's receipt log for one lock: ingests bundles in any order and any number of
//! times, verifies signatures in batches, and reports every anomaly as a finding instead of
//! dropping it.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use crate::credential::LockId;
use crate::crypto::{self, PublicKey};
use crate::error::{Error, Result};
use crate::receipt::{Ack, AuditSecret, Head, Parsed, Receipt, is_receipt, open, take_sealed};

/// Something wrong with what a lock's receipts say, or with how they arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
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
    /// The sealed bundle at `index` of an upload does not open with the audit key (altered,
    /// sealed for another lock or to another key); it was skipped.
    Unopened {
        /// Position of the sealed bundle in its upload.
        index: usize,
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

/// A verified head as the log keeps it: one per sequence number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredHead {
    /// The head exactly as the lock signed it (evidence).
    pub bytes: Vec<u8>,
    /// Its decoded content.
    pub head: Head,
}

/// A finding as the log keeps it, with the lock-signed item that proves it (a receipt or head
/// that conflicts with what the log holds; empty when the finding is not about signed bytes).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Evidence {
    /// What was found.
    pub finding: Finding,
    /// The conflicting item as the lock signed it, or nothing.
    pub bytes: Vec<u8>,
}

/// Largest upload one [`ReceiptLog::ingest`] reads: what one call can make the log hold is
/// bounded by it.
pub const MAX_UPLOAD_BYTES: usize = 1 << 20;

/// Where a receipt log keeps receipts, heads and findings: a database in production, memory in
/// tests. Every method can fail, as a database can; the log passes the error on.
pub trait LogStore {
    /// The receipt with sequence number `seq`, if held.
    fn get(&self, seq: u64) -> Result<Option<Stored>>;
    /// Stores a verified receipt (its sequence number is not held yet).
    fn put(&mut self, stored: Stored) -> Result<()>;
    /// Every held receipt, in sequence order.
    fn all(&self) -> Result<Vec<Stored>>;
    /// The head with sequence number `seq`, if held.
    fn head_at(&self, seq: u64) -> Result<Option<StoredHead>>;
    /// Stores a verified head (its sequence number is not held yet).
    fn put_head(&mut self, head: StoredHead) -> Result<()>;
    /// Every held head, in sequence order.
    fn heads(&self) -> Result<Vec<StoredHead>>;
    /// Keeps a finding for good; recording the same evidence twice keeps one.
    fn record(&mut self, evidence: Evidence) -> Result<()>;
    /// Every finding recorded, in order.
    fn findings(&self) -> Result<Vec<Evidence>>;
    /// The acknowledgement to send the lock: the one with the highest `seq` stored.
    fn ack(&self) -> Result<Option<Ack>>;
    /// Stores an acknowledgement the log may send (keeping only the one with the highest
    /// `seq` is enough).
    fn set_ack(&mut self, ack: Ack) -> Result<()>;
}

/// An in-memory [`LogStore`].
#[derive(Clone, Debug, Default)]
pub struct MemoryLog {
    receipts: BTreeMap<u64, Stored>,
    heads: BTreeMap<u64, StoredHead>,
    findings: BTreeSet<Evidence>,
    ack: Option<Ack>,
}

impl LogStore for MemoryLog {
    fn get(&self, seq: u64) -> Result<Option<Stored>> {
        Ok(self.receipts.get(&seq).cloned())
    }
    fn put(&mut self, stored: Stored) -> Result<()> {
        self.receipts.insert(stored.receipt.seq, stored);
        Ok(())
    }
    fn all(&self) -> Result<Vec<Stored>> {
        Ok(self.receipts.values().cloned().collect())
    }
    fn head_at(&self, seq: u64) -> Result<Option<StoredHead>> {
        Ok(self.heads.get(&seq).cloned())
    }
    fn put_head(&mut self, head: StoredHead) -> Result<()> {
        self.heads.insert(head.head.seq, head);
        Ok(())
    }
    fn heads(&self) -> Result<Vec<StoredHead>> {
        Ok(self.heads.values().cloned().collect())
    }
    fn record(&mut self, evidence: Evidence) -> Result<()> {
        self.findings.insert(evidence);
        Ok(())
    }
    fn findings(&self) -> Result<Vec<Evidence>> {
        Ok(self.findings.iter().cloned().collect())
    }
    fn ack(&self) -> Result<Option<Ack>> {
        Ok(self.ack)
    }
    fn set_ack(&mut self, ack: Ack) -> Result<()> {
        if self.ack.is_none_or(|old| ack.seq > old.seq) {
            self.ack = Some(ack);
        }
        Ok(())
    }
}

/// One lock's verified receipt log.
pub struct ReceiptLog<L: LogStore = MemoryLog> {
    lock_key: PublicKey,
    lock: LockId,
    store: L,
}

/// Shows which lock the log is for; the store (which holds the findings) need not be `Debug`.
impl<L: LogStore> core::fmt::Debug for ReceiptLog<L> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReceiptLog")
            .field("lock", &self.lock)
            .finish_non_exhaustive()
    }
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
    /// The item as the lock signed it, signature included.
    fn bytes(&self) -> Vec<u8> {
        self.signed()
            .iter()
            .chain(&self.signature())
            .copied()
            .collect()
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
        })
    }

    /// The underlying store.
    pub fn store(&self) -> &L {
        &self.store
    }

    /// Verifies and files an upload (heads and receipts, as phones upload them; at most
    /// [`MAX_UPLOAD_BYTES`], else [`Error::Oversize`] and nothing is read). Returns what this
    /// upload revealed, which the store also keeps; gaps and broken links across the whole
    /// log come from [`ReceiptLog::audit`]. Duplicates are accepted silently. Errors only when
    /// the store fails.
    ///
    /// ```
    /// use doorkey::receipt::{self, Event};
    /// use doorkey::server::{Finding, ReceiptLog, timeline};
    /// # use chacha20::ChaCha20Rng;
    /// # use doorkey::config::{Change, ConfigUpdate};
    /// # use doorkey::receipt::AuditSecret;
    /// # use doorkey::credential::{Chain, Link, Rights};
    /// # use doorkey::crypto::{SecretKey, Signer};
    /// # use doorkey::lock::{Lock, MemoryStorage};
    /// # use doorkey::phone::{Credential, PhoneSession};
    /// # use doorkey::session::{Command, Reply};
    /// # use doorkey::time::Tick;
    /// # use rand_core::SeedableRng;
    /// # fn main() -> doorkey::Result<()> {
    /// # let mut rng = ChaCha20Rng::from_seed([7; 32]);
    /// # let owner = SecretKey::from_seed(&[1; 32]);
    /// # let identity = SecretKey::from_seed(&[2; 32]);
    /// # let mut lock = Lock::install(identity, owner.public_key(), MemoryStorage::<4096>::new())?;
    /// # let audit = AuditSecret::from_bytes([11; 32]);
    /// # let change = Change::SetAuditKey(audit.public_key());
    /// # let mut update = [0u8; 256];
    /// # let u = ConfigUpdate { lock: lock.id(), version: 1, signer: owner.public_key(), change }
    /// #     .sign(&owner, &mut update)?;
    /// # let (mut challenge, mut msg, mut reply) = ([0u8; 256], [0u8; 1024], [0u8; 4096]);
    /// # let n = lock.challenge(Tick::from_secs(5), &mut rng, &mut challenge)?;
    /// # let config = Command::Config(&update[..u]);
    /// # let (_, m) =
    /// #     PhoneSession::open_anonymous(&challenge[..n], &lock.id(), config, &mut rng, &mut msg)?;
    /// # lock.handle(Tick::from_secs(5), &mut msg[..m], &mut reply)?;
    /// # let device_key = SecretKey::from_seed(&[4; 32]);
    /// # let link = Link::builder(device_key.public_key(), Rights::UNLOCK.union(Rights::LOCK))
    /// #     .locks(&[lock.id()])
    /// #     .build(&mut rng)?;
    /// # let chain = Chain::root(&owner, &link)?;
    /// # let credential = Credential::new(chain.as_bytes(), device_key)?;
    /// # let n = lock.challenge(Tick::from_secs(10), &mut rng, &mut challenge)?;
    /// # let (mut phone, m) =
    /// #     PhoneSession::open(&challenge[..n], &credential, Command::Unlock, &mut rng, &mut msg)?;
    /// # let r = lock.handle(Tick::from_secs(10), &mut msg[..m], &mut reply)?.reply;
    /// # phone.read_reply(&mut reply[..r])?;
    /// # let k = phone.command(Command::Lock, &mut msg)?;
    /// # let r = lock.handle(Tick::from_secs(20), &mut msg[..k], &mut reply)?.reply;
    /// # phone.read_reply(&mut reply[..r])?;
    /// # let k = phone.command(Command::Receipts { after: 0 }, &mut msg)?;
    /// # let r = lock.handle(Tick::from_secs(21), &mut msg[..k], &mut reply)?.reply;
    /// # let Reply::Receipts(sealed) = phone.read_reply(&mut reply[..r])? else {
    /// #     return Err(doorkey::Error::UnexpectedMessage);
    /// # };
    /// // A phone uploads `sealed`; the server opens it with the audit secret (as
    /// // `ingest_sealed` does) into the lock's signed head and the receipts it fetched.
    /// let mut sealed = sealed.to_vec();
    /// let (_ack, bundle) = receipt::open(&lock.id(), &audit, &mut sealed)?;
    /// let mut log = ReceiptLog::new(lock.public_key())?;
    /// assert_eq!(log.ingest(bundle)?, []);
    /// assert_eq!(log.ingest(bundle)?, []); // uploading twice is harmless
    /// let events: Vec<Event> = log.receipts()?.iter().map(|r| r.receipt.event).collect();
    /// assert_eq!(
    ///     events,
    ///     [Event::Installed, Event::ConfigChanged(1), Event::Unlocked, Event::Relocked]
    /// );
    /// assert_eq!(log.audit()?, []);
    ///
    /// let (visits, alerts) = timeline(&log)?;
    /// assert_eq!(visits.len(), 1);
    /// assert_eq!(visits[0].who.map(|w| w.holder), Some(credential.device_key().key_id()));
    /// assert_eq!(alerts, []);
    ///
    /// // A bundle altered on the way is reported, not filed.
    /// let mut altered = bundle.to_vec();
    /// let last = altered.len() - 1;
    /// altered[last] ^= 1;
    /// let mut fresh = ReceiptLog::new(lock.public_key())?;
    /// let found = fresh.ingest(&altered)?;
    /// assert!(matches!(found[..], [Finding::BadSignature { .. }]));
    /// # Ok(())
    /// # }
    /// ```
    pub fn ingest(&mut self, bundle: &[u8]) -> Result<Vec<Finding>> {
        if bundle.len() > MAX_UPLOAD_BYTES {
            return Err(Error::Oversize);
        }
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
                    found.push(Evidence {
                        finding: Finding::Malformed { index: items.len() },
                        bytes: Vec::new(),
                    });
                    break;
                }
            }
        }
        let valid = self.verify_all(&items);
        let mut last_seq = 0;
        for (index, (item, ok)) in items.iter().zip(valid).enumerate() {
            let mut find = |finding| {
                found.push(Evidence {
                    finding,
                    bytes: match finding {
                        Finding::Fork { .. } => item.bytes(),
                        _ => Vec::new(),
                    },
                })
            };
            if !ok {
                find(Finding::BadSignature { index });
                continue;
            }
            match item {
                Item::Head(h) => {
                    let seq = h.body.seq;
                    let receipt = self.store.get(seq)?;
                    let held = self.store.head_at(seq)?;
                    // A head the lock signed that disagrees with a receipt or head the log
                    // holds is signed proof of two histories: kept as evidence.
                    if receipt.is_some_and(|r| r.hash != h.body.hash)
                        || held.as_ref().is_some_and(|o| o.head.hash != h.body.hash)
                    {
                        find(Finding::Fork { seq });
                    }
                    if held.is_none() {
                        self.store.put_head(StoredHead {
                            bytes: item.bytes(),
                            head: h.body,
                        })?;
                    }
                }
                Item::Receipt(p) => {
                    let seq = p.body.seq;
                    if seq < last_seq {
                        find(Finding::Reordered { seq });
                    } else if seq == last_seq {
                        find(Finding::Duplicate { seq });
                    }
                    last_seq = last_seq.max(seq);
                    let hash = p.hash(&self.lock);
                    if self
                        .store
                        .head_at(seq)?
                        .is_some_and(|h| h.head.hash != hash)
                    {
                        find(Finding::Fork { seq });
                    }
                    match self.store.get(seq)? {
                        Some(held) if held.hash == hash => {}
                        Some(_) => find(Finding::Fork { seq }),
                        None => self.store.put(Stored {
                            bytes: item.bytes(),
                            receipt: p.body,
                            hash,
                        })?,
                    }
                }
            }
        }
        let findings = found.iter().map(|e| e.finding).collect();
        for evidence in found {
            self.store.record(evidence)?;
        }
        Ok(findings)
    }

    /// Opens and files an upload of sealed bundles, as phones carry them (at most
    /// [`MAX_UPLOAD_BYTES`]), with the owner's audit secret. Each bundle that opens is
    /// ingested as by [`ReceiptLog::ingest`]; one that does not gives
    /// [`Finding::Unopened`], and bad framing [`Finding::Malformed`] (the rest of the upload
    /// is unread). A bundle whose items all verify, and after which the log holds every
    /// receipt its ack token covers, linked and ending at its head, leaves an acknowledgement
    /// for [`ReceiptLog::ack`]. Errors only when the store fails.
    pub fn ingest_sealed(&mut self, audit: &AuditSecret, upload: &[u8]) -> Result<Vec<Finding>> {
        if upload.len() > MAX_UPLOAD_BYTES {
            return Err(Error::Oversize);
        }
        let mut found = Vec::new();
        let mut rest = upload;
        let mut index = 0;
        while !rest.is_empty() {
            let Ok((one, tail)) = take_sealed(rest) else {
                found.push(Finding::Malformed { index });
                break;
            };
            let mut buf = one.to_vec();
            match open(&self.lock, audit, &mut buf) {
                Ok((ack, bundle)) => {
                    let inner = self.ingest(bundle)?;
                    if inner.is_empty() {
                        self.acknowledge(ack, bundle)?;
                    }
                    found.extend(inner);
                }
                Err(_) => found.push(Finding::Unopened { index }),
            }
            rest = tail;
            index += 1;
        }
        for &finding in &found {
            if matches!(
                finding,
                Finding::Malformed { .. } | Finding::Unopened { .. }
            ) {
                self.store.record(Evidence {
                    finding,
                    bytes: Vec::new(),
                })?;
            }
        }
        Ok(found)
    }

    /// Keeps the ack a verified bundle carries, once its token verifies, it names the bundle's
    /// head, and the log holds every receipt it covers, each linked to the one before.
    fn acknowledge(&mut self, ack: Ack, bundle: &[u8]) -> Result<()> {
        let Ok((head, _)) = Parsed::<Head>::take(bundle) else {
            return Ok(());
        };
        if ack.verify(&self.lock_key).is_err()
            || (ack.seq, ack.hash) != (head.body.seq, head.body.hash)
        {
            return Ok(());
        }
        let mut link = None;
        for seq in ack.first..=ack.seq {
            match self.store.get(seq)? {
                Some(s) if link.is_none_or(|h| s.receipt.prev == h) => link = Some(s.hash),
                _ => return Ok(()),
            }
        }
        if link.is_some_and(|h| h != ack.hash) {
            return Ok(());
        }
        self.store.set_ack(ack)
    }

    /// The newest acknowledgement for a phone to carry to the lock
    /// ([`crate::session::Command::Ack`]), if any.
    pub fn ack(&self) -> Result<Option<Ack>> {
        self.store.ack()
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

    /// Every finding so far, plus what the whole log shows now: gaps, broken links, heads
    /// that disagree with held receipts, and truncation against the newest signed head.
    /// Sorted, without duplicates.
    pub fn audit(&self) -> Result<Vec<Finding>> {
        let mut out: Vec<Finding> = self.store.findings()?.iter().map(|e| e.finding).collect();
        let all = self.store.all()?;
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
        let heads = self.store.heads()?;
        for h in &heads {
            if self
                .store
                .get(h.head.seq)?
                .is_some_and(|s| s.hash != h.head.hash)
            {
                out.push(Finding::Fork { seq: h.head.seq });
            }
        }
        if let Some(head) = heads.last().map(|h| h.head) {
            if head.seq > held {
                out.push(Finding::Truncated {
                    signed: head.seq,
                    held,
                });
            } else if self.store.get(head.seq)?.is_none() {
                out.push(Finding::Fork { seq: head.seq });
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Every finding recorded at ingestion, with the signed evidence of each fork.
    pub fn evidence(&self) -> Result<Vec<Evidence>> {
        self.store.findings()
    }

    /// Receipts in sequence order.
    pub fn receipts(&self) -> Result<Vec<Stored>> {
        self.store.all()
    }
}
