//! Receipt ingest into the database against its cryptographic floor, in one run: bundles of
//! a signed head and 1024 hash-chained receipts, each for a fresh lock, filed through the
//! ledger (batch verification by the core's `ReceiptLog`, then one transaction: the lock's
//! row, the receipts written, the commit) and, on exactly the same 1025 signatures,
//! `ed25519_dalek::verify_batch` alone. Measured one upload at a time, and with two in
//! flight as the server files concurrent uploads.
//!
//! `cargo run --release -p doorkey-backend --example ingest -- [DATABASE_URL | --postgres]`
//! (a temporary SQLite file when no URL is given; `--postgres` starts a throwaway PostgreSQL
//! server, fsync on, from the system's binaries).

#[path = "../tests/common/cluster.rs"]
mod cluster;

use std::time::{Duration, Instant};

use doorkey::credential::{CredentialId, LockId};
use doorkey::crypto::{MAX_SIGNED, SecretKey, Signer, labels};
use doorkey::receipt::{AuditSecret, Event, Head, Parsed, Receipt, Who, is_receipt};
use doorkey::time::{Seconds, UnixTime};
use doorkey_backend::db::Db;
use doorkey_backend::ledger::{LockKeys, Rate, Upload, ingest};
use rand_core::SeedableRng;

const RECEIPTS: u64 = 1024;
const ROUNDS: usize = 16;

/// A head and 1024 chained receipts (unlock and relock visits), signed by `lock_sk`.
fn bundle(lock_sk: &SecretKey, rng: &mut chacha20::ChaCha20Rng) -> Vec<u8> {
    let lock = LockId::of(&lock_sk.public_key());
    let holder = SecretKey::generate(rng).public_key();
    let mut body = Vec::new();
    let mut prev = [0u8; 32];
    let mut buf = [0u8; 256];
    let mut time = UnixTime::from_secs(1_780_315_200);
    for seq in 1..=RECEIPTS {
        let receipt = Receipt {
            seq,
            prev,
            time: Some(time),
            event: if seq % 2 == 1 {
                Event::Unlocked
            } else {
                Event::Relocked
            },
            who: Some(Who {
                id: CredentialId::random(rng),
                holder,
            }),
            session: Some([(seq / 2) as u8; 16]),
        };
        let n = receipt.sign(&lock, lock_sk, &mut buf).expect("sign");
        body.extend_from_slice(&buf[..n]);
        prev = receipt.hash(&lock).expect("hash");
        time = time + Seconds::from_secs(45);
    }
    let head = Head {
        seq: RECEIPTS,
        hash: prev,
        time: Some(time),
    };
    let n = head.sign(&lock, lock_sk, &mut buf).expect("sign head");
    let mut out = buf[..n].to_vec();
    out.extend_from_slice(&body);
    out
}

/// The exact messages and signatures the lock signed, in bundle order.
fn signed(bundle: &[u8], lock: &LockId) -> (Vec<Vec<u8>>, Vec<ed25519_dalek::Signature>) {
    let (mut messages, mut signatures) = (Vec::new(), Vec::new());
    let mut rest = bundle;
    let mut msg = [0u8; MAX_SIGNED];
    while !rest.is_empty() {
        if is_receipt(rest) {
            let (p, r) = Parsed::<Receipt>::take(rest).expect("receipt");
            let n = p.message(lock, &mut msg).expect("message");
            messages.push(msg[..n].to_vec());
            signatures.push(ed25519_dalek::Signature::from_bytes(&p.signature.0));
            rest = r;
        } else {
            let (p, r) = Parsed::<Head>::take(rest).expect("head");
            messages.push([labels::HEAD, &lock.0[..], p.signed].concat());
            signatures.push(ed25519_dalek::Signature::from_bytes(&p.signature.0));
            rest = r;
        }
    }
    (messages, signatures)
}

/// A lock enrolled for the benchmark, its bundle, and the bundle's signatures as
/// `verify_batch` takes them.
struct Case {
    lock: LockId,
    keys: LockKeys,
    bundle: Vec<u8>,
    messages: Vec<Vec<u8>>,
    signatures: Vec<ed25519_dalek::Signature>,
    key: ed25519_dalek::VerifyingKey,
}

impl Case {
    /// `verify_batch` on the bundle's signatures.
    fn floor(&self) {
        let refs: Vec<&[u8]> = self.messages.iter().map(Vec::as_slice).collect();
        let keys = vec![self.key; refs.len()];
        ed25519_dalek::verify_batch(&refs, &self.signatures, &keys).expect("floor verifies");
    }
}

async fn case(db: &Db, rng: &mut chacha20::ChaCha20Rng, name: &str) -> Case {
    let lock_sk = SecretKey::generate(rng);
    let lock = LockId::of(&lock_sk.public_key());
    let bundle = bundle(&lock_sk, rng);
    sqlx::query("INSERT INTO locks (lock_id, lock_key, owner_key, audit_secret, name) VALUES ($1, $2, $3, $4, $5)")
        .bind(lock.0.to_vec())
        .bind(lock_sk.public_key().0.to_vec())
        .bind(vec![0u8; 32])
        .bind(vec![0u8; 32])
        .bind(name)
        .execute(&db.pool)
        .await
        .expect("lock row");
    let (messages, signatures) = signed(&bundle, &lock);
    let key = ed25519_dalek::VerifyingKey::from_bytes(&lock_sk.public_key().0).expect("key");
    Case {
        lock,
        keys: LockKeys {
            lock_key: lock_sk.public_key(),
            audit: AuditSecret::from_bytes([0; 32]),
        },
        bundle,
        messages,
        signatures,
        key,
    }
}

/// Files one case's bundle through the ledger (the lock's row, the core's batch
/// verification, the receipts written, the commit), as an upload is filed.
async fn file(db: Db, c: Case) {
    let rate = Rate {
        window: 0,
        per_minute: i64::MAX,
    };
    let done = ingest(&db, c.lock, c.keys, Upload::Plain(c.bundle), rate)
        .await
        .expect("ingest");
    assert_eq!(done.stored, RECEIPTS as usize);
    assert!(done.findings.is_empty(), "{:?}", done.findings);
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("doorkey-ingest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let arg = std::env::args().nth(1);
    let cluster = (arg.as_deref() == Some("--postgres"))
        .then(|| cluster::Cluster::start(true).expect("start PostgreSQL"));
    let url = match (&cluster, arg) {
        (Some(c), _) => c.url(),
        (None, Some(url)) => url,
        (None, None) => format!("sqlite://{}", dir.join("ingest.db").display()),
    };
    let db = Db::open(&url).await.expect("open the database");
    // Fresh lock keys each run, so a PostgreSQL database can be used again.
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("randomness");
    let mut rng = chacha20::ChaCha20Rng::from_seed(seed);
    let engine = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let n = ROUNDS as f64 * RECEIPTS as f64;
    let report = |how: &str, ingest: Duration, floor: Duration| {
        println!(
            "{engine}, {how}: ingest {:.0} receipts/s, verify_batch {:.0} receipts/s, \
             ratio {:.2}x ({ROUNDS} bundles of {RECEIPTS})",
            n / ingest.as_secs_f64(),
            n / floor.as_secs_f64(),
            ingest.as_secs_f64() / floor.as_secs_f64(),
        );
    };

    // The first bundle warms the caches and the pool; it is not counted.
    let warm = case(&db, &mut rng, "warm-up").await;
    file(db.clone(), warm).await;

    // One upload at a time: each bundle's own time against its floor, measured just before
    // it. On a shared machine one bundle can be slowed by a neighbour, so the median of the
    // bundles' ratios is shown besides the ratio of the totals.
    let (mut ingest_time, mut floor_time) = (Duration::ZERO, Duration::ZERO);
    let mut ratios = Vec::new();
    for round in 0..ROUNDS {
        let c = case(&db, &mut rng, &format!("one {round}")).await;
        let t = Instant::now();
        c.floor();
        let floor = t.elapsed();
        let t = Instant::now();
        file(db.clone(), c).await;
        let filed = t.elapsed();
        ratios.push(filed.as_secs_f64() / floor.as_secs_f64());
        floor_time += floor;
        ingest_time += filed;
    }
    report(
        "one upload at a time (verify_batch on one core)",
        ingest_time,
        floor_time,
    );
    ratios.sort_by(f64::total_cmp);
    println!(
        "{engine}, one upload at a time: bundle ratios min {:.2}x, median {:.2}x, max {:.2}x",
        ratios[0],
        ratios[ratios.len() / 2],
        ratios[ratios.len() - 1],
    );

    // Two uploads in flight (two phones, two locks), as the server files them: one's
    // signatures are checked while the other is written and committed. Against
    // verify_batch on two threads (both cores), on the same bundles.
    let mut cases = Vec::new();
    for round in 0..ROUNDS {
        cases.push(case(&db, &mut rng, &format!("two {round}")).await);
    }
    let t = Instant::now();
    std::thread::scope(|s| {
        for half in cases.chunks(ROUNDS.div_ceil(2)) {
            s.spawn(move || half.iter().for_each(Case::floor));
        }
    });
    let floor_time = t.elapsed();
    let t = Instant::now();
    let mut flying = tokio::task::JoinSet::new();
    for c in cases {
        if flying.len() == 2 {
            flying.join_next().await.expect("a task").expect("filed");
        }
        flying.spawn(file(db.clone(), c));
    }
    while let Some(done) = flying.join_next().await {
        done.expect("filed");
    }
    report(
        "two uploads in flight (verify_batch on two threads)",
        t.elapsed(),
        floor_time,
    );
    db.pool.close().await;
    drop(cluster);
    let _ = std::fs::remove_dir_all(&dir);
}
