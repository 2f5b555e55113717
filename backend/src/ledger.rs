//! The receipt ledger: the core's [`ReceiptLog`] over database tables. An upload's
//! signatures are checked before the database is touched; it is then filed inside one
//! transaction that first takes the lock's row, so uploads for one lock run one after another
//! (never forking the stored chain), and a phone is acknowledged only after the commit.

use doorkey::credential::LockId;
use doorkey::crypto::PublicKey;
use doorkey::receipt::{Ack, AuditSecret, Event, Head, Parsed, Receipt};
use doorkey::server::{
    Alert, Evidence, Finding, LogStore, MemoryLog, ReceiptLog, Stored, StoredHead, Visit, timeline,
};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, AnyPool, Row, Transaction};
use tokio::runtime::Handle;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::api::ApiError;
use crate::db::{Db, Dialect};

/// A finding as stored: its kind and up to two numbers.
fn finding_columns(f: &Finding) -> (&'static str, u64, u64) {
    match *f {
        Finding::Malformed { index } => ("malformed", index as u64, 0),
        Finding::BadSignature { index } => ("bad_signature", index as u64, 0),
        Finding::Fork { seq } => ("fork", seq, 0),
        Finding::Duplicate { seq } => ("duplicate", seq, 0),
        Finding::Reordered { seq } => ("reordered", seq, 0),
        Finding::Gap { from, to } => ("gap", from, to),
        Finding::BrokenLink { seq } => ("broken_link", seq, 0),
        Finding::Truncated { signed, held } => ("truncated", signed, held),
        Finding::Unopened { index } => ("unopened", index as u64, 0),
        // A kind this backend does not know yet is kept under a name that says so.
        _ => ("other", 0, 0),
    }
}

fn finding_from(kind: &str, a: u64, b: u64) -> Option<Finding> {
    let index = usize::try_from(a).ok()?;
    Some(match kind {
        "malformed" => Finding::Malformed { index },
        "bad_signature" => Finding::BadSignature { index },
        "fork" => Finding::Fork { seq: a },
        "duplicate" => Finding::Duplicate { seq: a },
        "reordered" => Finding::Reordered { seq: a },
        "gap" => Finding::Gap { from: a, to: b },
        "broken_link" => Finding::BrokenLink { seq: a },
        "truncated" => Finding::Truncated { signed: a, held: b },
        "unopened" => Finding::Unopened { index },
        _ => return None,
    })
}

/// Database integers are `BIGINT`: sequence numbers past `i64::MAX` are refused, not wrapped.
fn int(v: u64) -> doorkey::Result<i64> {
    i64::try_from(v).map_err(|_| doorkey::Error::Oversize)
}

fn uint(row: &AnyRow, col: &str) -> Result<u64, sqlx::Error> {
    let v: i64 = row.try_get(col)?;
    u64::try_from(v).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn array<const N: usize>(row: &AnyRow, col: &str) -> Result<[u8; N], sqlx::Error> {
    let v: Vec<u8> = row.try_get(col)?;
    v.try_into()
        .map_err(|_| sqlx::Error::Decode(format!("{col}: not {N} bytes").into()))
}

/// Receipts (or heads) read and written so far in one upload, by sequence number, and the
/// windows of sequence numbers already read from the database.
struct Window<T> {
    rows: BTreeMap<u64, T>,
    read: BTreeSet<u64>,
    pending: Vec<(i64, [u8; 32], Vec<u8>)>,
}

impl<T> Default for Window<T> {
    fn default() -> Self {
        Window {
            rows: BTreeMap::new(),
            read: BTreeSet::new(),
            pending: Vec::new(),
        }
    }
}

/// Sequence numbers read from the database at once: a bundle's receipts cost one query,
/// not one each.
const WINDOW: u64 = 1024;
/// Rows per SQLite `INSERT`: a 1024-receipt bundle's receipts are one statement (four
/// parameters a row, under SQLite's limit of 32,766).
const ROWS_PER_INSERT: usize = 1025;

/// How many uploads one lock may make in a minute.
#[derive(Clone, Copy, Debug)]
pub struct Rate {
    /// The minute (UNIX seconds / 60) this upload counts in.
    pub window: i64,
    /// Uploads allowed per lock in one minute.
    pub per_minute: i64,
}

/// The core's [`LogStore`] on one lock's rows. The core checks an upload's signatures
/// before it reads or writes anything, so the transaction begins at the first call (taking
/// the lock's row and counting the upload against the rate), and the signatures of one
/// upload are checked while others hold the database. Inside the transaction nothing it
/// reads can change under it. The trait is synchronous: each call blocks on its query,
/// which is why ingestion runs on a blocking thread. Reads come a window at a time and
/// writes are sent in batches before the commit. A failure is kept here (the core sees
/// [`doorkey::Error::Storage`]) so the caller answers with what went wrong.
struct DbLog {
    pool: AnyPool,
    dialect: Dialect,
    rate: Rate,
    sqlite_writer: Arc<Mutex<()>>,
    /// Declared before `turn`, so a transaction given up is dropped (rolled back) first.
    tx: RefCell<Option<Transaction<'static, Any>>>,
    /// On SQLite, this upload's turn to write, held until the commit.
    turn: RefCell<Option<OwnedMutexGuard<()>>>,
    lock: Vec<u8>,
    rt: Handle,
    failure: RefCell<Option<ApiError>>,
    stored: Cell<usize>,
    config_version: Cell<u64>,
    receipts: RefCell<Window<Stored>>,
    heads: RefCell<Window<StoredHead>>,
}

impl DbLog {
    /// Makes sure the window holding `seq` has been read, receipts and heads both.
    fn read_window(&self, seq: u64) -> doorkey::Result<()> {
        let start = seq - seq % WINDOW;
        if self.receipts.borrow().read.contains(&start) {
            return Ok(());
        }
        let (from, to) = (int(start)?, int(start.saturating_add(WINDOW))?);
        let (receipts, heads) = self.run(async |c, lock| {
            let r = sqlx::query(
                "SELECT hash, bytes FROM receipts WHERE lock_id = $1 AND seq >= $2 AND seq < $3",
            )
            .bind(lock.clone())
            .bind(from)
            .bind(to)
            .fetch_all(&mut *c)
            .await?;
            let h = sqlx::query(
                "SELECT bytes FROM heads WHERE lock_id = $1 AND seq >= $2 AND seq < $3",
            )
            .bind(lock)
            .bind(from)
            .bind(to)
            .fetch_all(&mut *c)
            .await?;
            let r: Result<Vec<_>, _> = r.iter().map(stored_from).collect();
            let h: Result<Vec<_>, _> = h.iter().map(head_from).collect();
            Ok((r?, h?))
        })?;
        let mut held = self.receipts.borrow_mut();
        held.read.insert(start);
        for r in receipts {
            held.rows.entry(r.receipt.seq).or_insert(r);
        }
        let mut held = self.heads.borrow_mut();
        for h in heads {
            held.rows.entry(h.head.seq).or_insert(h);
        }
        Ok(())
    }

    /// Writes the receipts and heads filed so far: on SQLite (in process) in multi-row
    /// `INSERT`s; on PostgreSQL in one statement a table, its rows sent as a few lists and
    /// blobs (one round trip, six parameters to bind and plan instead of four a row).
    fn flush(&self) -> doorkey::Result<()> {
        for (table, pending) in [
            (
                "receipts",
                std::mem::take(&mut self.receipts.borrow_mut().pending),
            ),
            (
                "heads",
                std::mem::take(&mut self.heads.borrow_mut().pending),
            ),
        ] {
            if pending.is_empty() {
                continue;
            }
            match self.dialect {
                Dialect::Sqlite => {
                    for chunk in pending.chunks(ROWS_PER_INSERT) {
                        // Anonymous parameters: SQLite looks a numbered one up by name in a
                        // list, which makes binding a long statement quadratic.
                        let sql = format!(
                            "INSERT INTO {table} (lock_id, seq, hash, bytes) VALUES {}",
                            vec!["(?, ?, ?, ?)"; chunk.len()].join(", ")
                        );
                        self.run(async |c, lock| {
                            let mut q = sqlx::query(&sql);
                            for (seq, hash, bytes) in chunk {
                                q = q
                                    .bind(lock.clone())
                                    .bind(*seq)
                                    .bind(hash.to_vec())
                                    .bind(bytes.clone());
                            }
                            q.execute(c).await.map(drop)
                        })?;
                    }
                }
                Dialect::Postgres => {
                    // The rows as lists: sequence numbers and each row's offset and length
                    // in text, the hashes and the rows' bytes each as one blob.
                    let (mut seqs, mut starts, mut lens) = (vec![], vec![], vec![]);
                    let (mut hashes, mut blob) = (Vec::new(), Vec::new());
                    for (seq, hash, bytes) in &pending {
                        seqs.push(seq.to_string());
                        starts.push((blob.len() + 1).to_string());
                        lens.push(bytes.len().to_string());
                        hashes.extend_from_slice(hash);
                        blob.extend_from_slice(bytes);
                    }
                    let sql = format!(
                        "INSERT INTO {table} (lock_id, seq, hash, bytes) \
                         SELECT $1, s, substring($3 FROM 32 * i::INT - 31 FOR 32), \
                         substring($4 FROM o FOR n) FROM UNNEST(\
                         string_to_array($2, ',')::BIGINT[], string_to_array($5, ',')::INT[], \
                         string_to_array($6, ',')::INT[]) WITH ORDINALITY AS t(s, o, n, i)"
                    );
                    self.run(async |c, lock| {
                        sqlx::query(&sql)
                            .bind(lock)
                            .bind(seqs.join(","))
                            .bind(hashes)
                            .bind(blob)
                            .bind(starts.join(","))
                            .bind(lens.join(","))
                            .execute(c)
                            .await
                            .map(drop)
                    })?;
                }
            }
        }
        Ok(())
    }

    fn run<T>(
        &self,
        f: impl AsyncFnOnce(&mut AnyConnection, Vec<u8>) -> Result<T, sqlx::Error>,
    ) -> doorkey::Result<T> {
        let mut slot = self.tx.borrow_mut();
        if slot.is_none() {
            *slot = Some(self.rt.block_on(self.begin()).map_err(|e| self.fail(e))?);
        }
        let Some(tx) = slot.as_mut() else {
            return Err(doorkey::Error::Storage);
        };
        self.rt
            .block_on(f(tx, self.lock.clone()))
            .map_err(|e| self.fail(e.into()))
    }

    fn fail(&self, e: ApiError) -> doorkey::Error {
        *self.failure.borrow_mut() = Some(e);
        doorkey::Error::Storage
    }

    /// Begins the transaction: its first statement takes the lock's row (uploads for one
    /// lock are filed one after another) and counts the upload; one over the rate is refused,
    /// and counted.
    async fn begin(&self) -> Result<Transaction<'static, Any>, ApiError> {
        if self.dialect == Dialect::Sqlite {
            *self.turn.borrow_mut() = Some(self.sqlite_writer.clone().lock_owned().await);
        }
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "UPDATE locks SET rate_count = CASE WHEN rate_window = $2 THEN rate_count + 1 ELSE 1 END, \
             rate_window = $2 WHERE lock_id = $1 RETURNING rate_count",
        )
        .bind(self.lock.clone())
        .bind(self.rate.window)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(ApiError::no_such_lock)?;
        if row.try_get::<i64, _>("rate_count")? > self.rate.per_minute {
            tx.commit().await?;
            return Err(ApiError::rate_limited());
        }
        Ok(tx)
    }
}

fn stored_from(row: &AnyRow) -> Result<Stored, sqlx::Error> {
    let bytes: Vec<u8> = row.try_get("bytes")?;
    let receipt = Parsed::<Receipt>::take(&bytes)
        .map_err(|e| sqlx::Error::Decode(format!("stored receipt: {e}").into()))?
        .0
        .body;
    let hash = array(row, "hash")?;
    Ok(Stored {
        bytes,
        receipt,
        hash,
    })
}

fn head_from(row: &AnyRow) -> Result<StoredHead, sqlx::Error> {
    let bytes: Vec<u8> = row.try_get("bytes")?;
    let head: Head = Parsed::<Head>::take(&bytes)
        .map_err(|e| sqlx::Error::Decode(format!("stored head: {e}").into()))?
        .0
        .body;
    Ok(StoredHead { bytes, head })
}

fn evidence_from(row: &AnyRow) -> Result<Option<Evidence>, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let finding = finding_from(&kind, uint(row, "a")?, uint(row, "b")?);
    let bytes: Vec<u8> = row.try_get("evidence")?;
    Ok(finding.map(|finding| Evidence { finding, bytes }))
}

fn ack_from(row: &AnyRow) -> Result<Ack, sqlx::Error> {
    Ok(Ack {
        first: uint(row, "first")?,
        seq: uint(row, "seq")?,
        hash: array(row, "hash")?,
        token: array(row, "token")?,
    })
}

const RECEIPTS: &str = "SELECT hash, bytes FROM receipts WHERE lock_id = $1 ORDER BY seq";
const HEADS: &str = "SELECT bytes FROM heads WHERE lock_id = $1 ORDER BY seq";
const FINDINGS: &str = "SELECT kind, a, b, evidence FROM findings WHERE lock_id = $1";
const ACK: &str = "SELECT first, seq, hash, token FROM acks WHERE lock_id = $1";

/// Implemented on a shared reference (the state sits in cells), so the store outlives the
/// [`ReceiptLog`] that borrows it and its transaction can then be committed.
impl LogStore for &DbLog {
    fn get(&self, seq: u64) -> doorkey::Result<Option<Stored>> {
        self.read_window(seq)?;
        Ok(self.receipts.borrow().rows.get(&seq).cloned())
    }
    fn put(&mut self, stored: Stored) -> doorkey::Result<()> {
        let seq = int(stored.receipt.seq)?;
        if let Event::ConfigChanged(v) | Event::ClockReset(v) | Event::FactoryReset(v) =
            stored.receipt.event
        {
            self.config_version.set(self.config_version.get().max(v));
        }
        self.stored.set(self.stored.get() + 1);
        let mut held = self.receipts.borrow_mut();
        held.pending.push((seq, stored.hash, stored.bytes.clone()));
        held.rows.insert(stored.receipt.seq, stored);
        Ok(())
    }
    fn all(&self) -> doorkey::Result<Vec<Stored>> {
        self.flush()?;
        self.run(async |c, lock| {
            let rows = sqlx::query(RECEIPTS).bind(lock).fetch_all(c).await?;
            rows.iter().map(stored_from).collect()
        })
    }
    fn head_at(&self, seq: u64) -> doorkey::Result<Option<StoredHead>> {
        self.read_window(seq)?;
        Ok(self.heads.borrow().rows.get(&seq).cloned())
    }
    fn put_head(&mut self, head: StoredHead) -> doorkey::Result<()> {
        let seq = int(head.head.seq)?;
        let mut held = self.heads.borrow_mut();
        held.pending.push((seq, head.head.hash, head.bytes.clone()));
        held.rows.insert(head.head.seq, head);
        Ok(())
    }
    fn heads(&self) -> doorkey::Result<Vec<StoredHead>> {
        self.flush()?;
        self.run(async |c, lock| {
            let rows = sqlx::query(HEADS).bind(lock).fetch_all(c).await?;
            rows.iter().map(head_from).collect()
        })
    }
    fn record(&mut self, evidence: Evidence) -> doorkey::Result<()> {
        let (kind, a, b) = finding_columns(&evidence.finding);
        let (a, b) = (int(a)?, int(b)?);
        self.run(async |c, lock| {
            sqlx::query(
                "INSERT INTO findings (lock_id, kind, a, b, evidence) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(lock)
            .bind(kind)
            .bind(a)
            .bind(b)
            .bind(evidence.bytes)
            .execute(c)
            .await
            .map(drop)
        })
    }
    fn findings(&self) -> doorkey::Result<Vec<Evidence>> {
        self.run(async |c, lock| {
            let rows = sqlx::query(FINDINGS).bind(lock).fetch_all(c).await?;
            let all: Result<Vec<_>, _> = rows.iter().map(evidence_from).collect();
            Ok(all?.into_iter().flatten().collect())
        })
    }
    fn ack(&self) -> doorkey::Result<Option<Ack>> {
        self.run(async |c, lock| {
            let row = sqlx::query(ACK).bind(lock).fetch_optional(c).await?;
            row.as_ref().map(ack_from).transpose()
        })
    }
    fn set_ack(&mut self, ack: Ack) -> doorkey::Result<()> {
        let (first, seq) = (int(ack.first)?, int(ack.seq)?);
        self.run(async |c, lock| {
            sqlx::query(
                "INSERT INTO acks (lock_id, first, seq, hash, token) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (lock_id) DO UPDATE SET first = excluded.first, seq = excluded.seq, \
                 hash = excluded.hash, token = excluded.token WHERE acks.seq < excluded.seq",
            )
            .bind(lock)
            .bind(first)
            .bind(seq)
            .bind(ack.hash.to_vec())
            .bind(ack.token.to_vec())
            .execute(c)
            .await
            .map(drop)
        })
    }
}

/// What an upload did: receipts newly stored, what was found, and the acknowledgement the
/// lock will accept (carried back by any phone), if the log holds one.
#[derive(Debug)]
pub struct Ingested {
    /// Receipts this upload added (0 for a repeat).
    pub stored: usize,
    /// Anomalies in this upload (also kept as findings).
    pub findings: Vec<Finding>,
    /// The newest acknowledgement for the lock.
    pub ack: Option<Ack>,
}

/// The lock's row as the ledger needs it.
pub struct LockKeys {
    /// The lock's public key (its receipts' signer).
    pub lock_key: PublicKey,
    /// The owner's audit secret the bundles are sealed to.
    pub audit: AuditSecret,
}

/// What arrives: the sealed bundles a lock hands phones (what the API accepts), or a plain
/// bundle of signed receipts and heads (the ingest benchmark's 1024-receipt bundles, which no
/// lock's backlog holds at once).
#[derive(Debug)]
pub enum Upload {
    /// Sealed to the owner's audit key, opened with the lock's audit secret.
    Sealed(Vec<u8>),
    /// Receipts and heads as signed, no seal and no acknowledgement.
    Plain(Vec<u8>),
}

/// Verifies one upload for `lock`, files it in one transaction that holds the lock's row
/// (counted against `rate`), then commits. Runs on a blocking thread: the core's log is
/// synchronous.
pub async fn ingest(
    db: &Db,
    lock: LockId,
    keys: LockKeys,
    upload: Upload,
    rate: Rate,
) -> Result<Ingested, ApiError> {
    let rt = Handle::current();
    let (pool, dialect, sqlite_writer) = (db.pool.clone(), db.dialect, db.sqlite_writer.clone());
    let job = tokio::task::spawn_blocking(move || -> Result<Ingested, ApiError> {
        let store = DbLog {
            pool,
            dialect,
            rate,
            sqlite_writer,
            turn: RefCell::new(None),
            tx: RefCell::new(None),
            lock: lock.0.to_vec(),
            rt: rt.clone(),
            failure: RefCell::new(None),
            stored: Cell::new(0),
            config_version: Cell::new(0),
            receipts: RefCell::default(),
            heads: RefCell::default(),
        };
        let (result, ack) = {
            let mut log = ReceiptLog::with_store(keys.lock_key, &store)?;
            let result = match &upload {
                Upload::Sealed(bytes) => log.ingest_sealed(&keys.audit, bytes),
                Upload::Plain(bytes) => log.ingest(bytes),
            };
            let ack = result.as_ref().ok().map(|_| log.ack());
            (result, ack)
        };
        let flushed = store.flush();
        if let Some(e) = store.failure.into_inner() {
            return Err(e);
        }
        flushed?;
        let findings = result?;
        let ack = ack.transpose()?.flatten();
        // An upload that touched nothing (it was empty) has nothing to commit.
        let Some(mut tx) = store.tx.into_inner() else {
            return Ok(Ingested {
                stored: store.stored.get(),
                findings,
                ack,
            });
        };
        rt.block_on(async {
            // Only an upload with a configuration receipt can raise the applied version.
            let version = int(store.config_version.get())?;
            if version > 0 {
                sqlx::query(
                    "UPDATE locks SET config_version = $2 WHERE lock_id = $1 AND config_version < $2",
                )
                .bind(lock.0.to_vec())
                .bind(version)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, ApiError>(())
        })?;
        Ok(Ingested {
            stored: store.stored.get(),
            findings,
            ack,
        })
    });
    job.await
        .map_err(|e| ApiError::internal(format!("ingest task: {e}")))?
}

/// The newest acknowledgement the log holds for `lock`, for any phone to carry to it.
pub async fn latest_ack(conn: &mut AnyConnection, lock: LockId) -> Result<Option<Ack>, ApiError> {
    let row = sqlx::query(ACK)
        .bind(lock.0.to_vec())
        .fetch_optional(conn)
        .await?;
    Ok(row.as_ref().map(ack_from).transpose()?)
}

/// The owner's timeline for `lock`: its stored log read into memory and turned into visits
/// and alerts by the core.
pub async fn view(
    conn: &mut AnyConnection,
    lock: LockId,
    lock_key: PublicKey,
) -> Result<(Vec<Visit>, Vec<Alert>), ApiError> {
    let id = lock.0.to_vec();
    let mut mem = MemoryLog::default();
    for row in sqlx::query(RECEIPTS)
        .bind(id.clone())
        .fetch_all(&mut *conn)
        .await?
    {
        mem.put(stored_from(&row)?)?;
    }
    for row in sqlx::query(HEADS)
        .bind(id.clone())
        .fetch_all(&mut *conn)
        .await?
    {
        mem.put_head(head_from(&row)?)?;
    }
    for row in sqlx::query(FINDINGS)
        .bind(id.clone())
        .fetch_all(&mut *conn)
        .await?
    {
        if let Some(e) = evidence_from(&row)? {
            mem.record(e)?;
        }
    }
    if let Some(row) = sqlx::query(ACK).bind(id).fetch_optional(&mut *conn).await? {
        mem.set_ack(ack_from(&row)?)?;
    }
    Ok(timeline(&ReceiptLog::with_store(lock_key, mem)?)?)
}
