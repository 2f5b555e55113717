//! Receipt ingest into the database against its cryptographic floor, in one run: bundles of
//! a signed head and 1024 hash-chained receipts, each for a fresh lock, filed through the
//! ledger (one transaction: the lock's row, batch verification by the core's `ReceiptLog`,
//! the receipts written, the commit) and, on exactly the same 1025 signatures,
//! `ed25519_dalek::verify_batch` alone.
//!
//! `cargo run --release -p doorkey-backend --example ingest -- [DATABASE_URL]` (a temporary
//! SQLite file when no URL is given).

use std::time::{Duration, Instant};

use doorkey::credential::{CredentialId, LockId};
use doorkey::crypto::{MAX_SIGNED, SecretKey, Signer, labels};
use doorkey::receipt::{AuditSecret, Event, Head, Parsed, Receipt, Who, is_receipt};
use doorkey::time::{Seconds, UnixTime};
use doorkey_backend::db::Db;
use doorkey_backend::ledger::{LockKeys, Upload, ingest};
use rand_core::SeedableRng;

const RECEIPTS: u64 = 1024;
const ROUNDS: usize = 12;

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

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("doorkey-ingest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("ingest.db").display()));
    let db = Db::open(&url).await.expect("open the database");
    // Fresh lock keys each run, so a PostgreSQL database can be used again.
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("randomness");
    let mut rng = chacha20::ChaCha20Rng::from_seed(seed);
    let (mut ingest_time, mut floor_time) = (Duration::ZERO, Duration::ZERO);
    for round in 0..ROUNDS {
        let lock_sk = SecretKey::generate(&mut rng);
        let lock = LockId::of(&lock_sk.public_key());
        let bundle = bundle(&lock_sk, &mut rng);
        sqlx::query("INSERT INTO locks (lock_id, lock_key, owner_key, audit_secret, name) VALUES ($1, $2, $3, $4, $5)")
            .bind(lock.0.to_vec())
            .bind(lock_sk.public_key().0.to_vec())
            .bind(vec![0u8; 32])
            .bind(vec![0u8; 32])
            .bind(format!("bench {round}"))
            .execute(&db.pool)
            .await
            .expect("lock row");

        let (messages, signatures) = signed(&bundle, &lock);
        let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&lock_sk.public_key().0).expect("key");
        let keys = vec![vk; refs.len()];
        let t = Instant::now();
        ed25519_dalek::verify_batch(&refs, &signatures, &keys).expect("floor verifies");
        let floor = t.elapsed();

        let t = Instant::now();
        let mut tx = db.pool.begin().await.expect("begin");
        sqlx::query("UPDATE locks SET rate_count = rate_count + 1 WHERE lock_id = $1")
            .bind(lock.0.to_vec())
            .execute(&mut *tx)
            .await
            .expect("lock row");
        let keys = LockKeys {
            lock_key: lock_sk.public_key(),
            audit: AuditSecret::from_bytes([0; 32]),
        };
        let done = ingest(tx, lock, keys, Upload::Plain(bundle))
            .await
            .expect("ingest");
        let filed = t.elapsed();
        assert_eq!(done.stored, RECEIPTS as usize);
        assert!(done.findings.is_empty(), "{:?}", done.findings);
        // The first round warms the caches and the pool; it is not counted.
        if round > 0 {
            ingest_time += filed;
            floor_time += floor;
        }
    }
    let n = (ROUNDS - 1) as f64 * RECEIPTS as f64;
    let engine = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "{engine}: ingest {:.0} receipts/s, verify_batch alone {:.0} receipts/s, ratio {:.2}x ({} bundles of {RECEIPTS})",
        n / ingest_time.as_secs_f64(),
        n / floor_time.as_secs_f64(),
        ingest_time.as_secs_f64() / floor_time.as_secs_f64(),
        ROUNDS - 1
    );
    let _ = std::fs::remove_dir_all(&dir);
}
