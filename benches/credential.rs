//! Lock-side chain verification against its cryptographic floor, measured in the same run.
//!
//! `credential/verify_chain_2`: decode and fully verify an owner -> company -> courier chain.
//! `credential/floor_chain_2`: the two strict Ed25519 verifications alone (key parsing
//! included, since the lock receives keys as bytes), over the very same messages.

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use doorkey::credential::UnverifiedChain;
use doorkey::crypto::{Signer, hash, labels};
use doorkey::wire::VERSION;
use std::hint::black_box;

fn credential(c: &mut Criterion) {
    let mut w = common::World::new();
    let chain = w.courier_chain();
    let bytes = chain.as_bytes().to_vec();
    let now = Some(common::T0 + common::secs(10));
    assert!(w.lock.verify_chain(&bytes, now, &()).is_ok());

    // Rebuild the exact signed messages from the wire bytes (see docs/PROTOCOL.md).
    let parsed = UnverifiedChain::decode(&bytes).expect("decode");
    let mut floor = Vec::new();
    let mut signer = w.owner.public_key().0;
    let mut anchor = signer;
    let mut at = 7;
    for link in parsed.links() {
        let body = postcard::to_allocvec(&link).expect("encode");
        let sig: [u8; 64] = bytes[at + body.len()..at + body.len() + 64]
            .try_into()
            .expect("sig");
        let mut msg = labels::LINK.to_vec();
        msg.push(VERSION);
        msg.extend_from_slice(&anchor);
        msg.extend_from_slice(&body);
        floor.push((signer, msg, ed25519_dalek::Signature::from_bytes(&sig)));
        anchor = hash(&[labels::PARENT, &bytes[at..at + body.len() + 64]]);
        signer = link.subject.ed25519().map_or([0; 32], |k| k.0);
        at += body.len() + 64;
    }

    let mut g = c.benchmark_group("credential");
    g.bench_function("verify_chain_2", |b| {
        b.iter(|| {
            w.lock
                .verify_chain(black_box(&bytes), now, &())
                .expect("verify")
        })
    });
    g.bench_function("floor_chain_2", |b| {
        b.iter(|| {
            for (key, msg, sig) in &floor {
                let vk = ed25519_dalek::VerifyingKey::from_bytes(black_box(key)).expect("key");
                vk.verify_strict(black_box(msg), sig).expect("verify");
            }
        })
    });
    g.finish();
}

criterion_group!(benches, credential);
criterion_main!(benches);
