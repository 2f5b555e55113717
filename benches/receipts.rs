//! Server-side receipt-chain verification against its cryptographic floor, in the same run.
//!
//! The input is one bundle as a lock sends it: a signed head, then 1024 hash-chained receipts
//! signed by the lock key (visits of unlock, door opened, door closed, relock, with a refusal
//! now and then).
//!
//! - `receipts/log_ingest_1024`: a fresh `ReceiptLog` ingests the bundle (parse, batch
//!   signature check, chain hashes, filing) and audits the whole log (gaps, links, head).
//! - `receipts/floor_verify_batch_1024`: `ed25519_dalek::verify_batch` alone on exactly the
//!   same 1025 messages, signatures and keys, prepared outside the timed loop.
//!
//! Target (QUALITY.md): ingest + audit within 1.2x of the floor.

#[path = "../tests/common/mod.rs"]
mod common;

use chacha20::ChaCha20Rng;
use common::{T0, key, secs};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use doorkey::credential::{CredentialId, LockId};
use doorkey::crypto::{MAX_SIGNED, Signer, labels};
use doorkey::receipt::{Event, Head, Parsed, Receipt, SESSION_ID_LEN, Who, is_receipt};
use doorkey::server::ReceiptLog;
use doorkey::session::ReasonCode;
use doorkey::time::Seconds;
use rand_core::{Rng, SeedableRng};
use std::hint::black_box;

const RECEIPTS: usize = 1024;

/// A head and `RECEIPTS` chained receipts, signed by lock key(2), as one bundle.
fn bundle() -> Vec<u8> {
    let lock_sk = key(2);
    let lock = LockId::of(&lock_sk.public_key());
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    let holders = [
        key(4).public_key(),
        key(5).public_key(),
        key(6).public_key(),
    ];
    let mut receipts = Vec::with_capacity(RECEIPTS);
    let mut visit = 0usize;
    let mut time = T0;
    while receipts.len() < RECEIPTS {
        let mut session = [0u8; SESSION_ID_LEN];
        rng.fill_bytes(&mut session);
        let who = Some(Who {
            id: CredentialId::random(&mut rng),
            holder: holders[visit % holders.len()],
        });
        let events: &[(Event, Option<Who>, Seconds)] = if visit % 5 == 4 {
            &[(Event::Denied(ReasonCode::NotNow), who, Seconds::ZERO)]
        } else {
            &[
                (Event::Unlocked, who, Seconds::ZERO),
                (Event::DoorOpened, None, secs(4)),
                (Event::DoorClosed, None, secs(40)),
                (Event::Relocked, who, secs(3)),
            ]
        };
        for &(event, who, after) in events {
            time = time + after;
            receipts.push((event, who, time, session));
        }
        time = time + Seconds::from_hours(1);
        visit += 1;
    }
    receipts.truncate(RECEIPTS);

    let mut body = Vec::new();
    let mut prev = [0u8; 32];
    let mut buf = [0u8; 256];
    for (i, &(event, who, time, session)) in receipts.iter().enumerate() {
        let receipt = Receipt {
            seq: i as u64 + 1,
            prev,
            time: Some(time),
            event,
            who,
            session: Some(session),
        };
        let n = receipt.sign(&lock, &lock_sk, &mut buf).expect("sign");
        body.extend_from_slice(&buf[..n]);
        prev = receipt.hash(&lock).expect("hash");
    }
    let head = Head {
        seq: RECEIPTS as u64,
        hash: prev,
        time: Some(time),
    };
    let n = head.sign(&lock, &lock_sk, &mut buf).expect("sign head");
    let mut bundle = buf[..n].to_vec();
    bundle.extend_from_slice(&body);
    bundle
}

/// The exact (message, signature) pairs the lock signed, in bundle order.
fn signed_items(bundle: &[u8], lock: &LockId) -> Vec<(Vec<u8>, [u8; 64])> {
    let mut out = Vec::new();
    let mut rest = bundle;
    let mut msg = [0u8; MAX_SIGNED];
    while !rest.is_empty() {
        if is_receipt(rest) {
            let (p, r) = Parsed::<Receipt>::take(rest).expect("receipt");
            let n = p.message(lock, &mut msg).expect("message");
            out.push((msg[..n].to_vec(), p.signature.0));
            rest = r;
        } else {
            let (p, r) = Parsed::<Head>::take(rest).expect("head");
            let m = [labels::HEAD, &lock.0[..], p.signed].concat();
            out.push((m, p.signature.0));
            rest = r;
        }
    }
    out
}

fn receipts(c: &mut Criterion) {
    let lock_pk = key(2).public_key();
    let lock = LockId::of(&lock_pk);
    let bundle = bundle();

    // Once, untimed: the bundle is complete and clean.
    let mut log = ReceiptLog::new(lock_pk).expect("log");
    assert_eq!(log.ingest(&bundle).unwrap(), []);
    assert_eq!(log.audit().unwrap(), []);
    assert_eq!(log.receipts().unwrap().len(), RECEIPTS);

    let items = signed_items(&bundle, &lock);
    assert_eq!(items.len(), RECEIPTS + 1);
    let messages: Vec<&[u8]> = items.iter().map(|(m, _)| m.as_slice()).collect();
    let signatures: Vec<ed25519_dalek::Signature> = items
        .iter()
        .map(|(_, s)| ed25519_dalek::Signature::from_bytes(s))
        .collect();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&lock_pk.0).expect("key");
    let keys = vec![vk; items.len()];
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).expect("floor verifies");

    let mut g = c.benchmark_group("receipts");
    g.bench_function("log_ingest_1024", |b| {
        b.iter_batched(
            || ReceiptLog::new(lock_pk).expect("log"),
            |mut log| {
                let found = log.ingest(black_box(&bundle)).unwrap();
                let audit = log.audit().unwrap();
                // The log is returned, so dropping it is not timed.
                (log, found, audit)
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("floor_verify_batch_1024", |b| {
        b.iter(|| {
            ed25519_dalek::verify_batch(black_box(&messages), black_box(&signatures), &keys)
                .expect("verify")
        })
    });
    g.finish();
}

criterion_group!(benches, receipts);
criterion_main!(benches);
