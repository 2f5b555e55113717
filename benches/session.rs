//! Lock-side session work against its cryptographic floor, measured in the same run.
//!
//! - `session/first_contact_unlock`: everything the lock does for one unlock with a two-link
//!   credential: sign a challenge with a fresh X25519 key, then take the open (X25519, key
//!   schedule, AEAD, chain decode and verification, holder signature, policy, state commit,
//!   sealed reply). The phone's work between the two is not timed.
//! - `session/floor_first_contact`: the primitives that cannot be avoided, alone: one Ed25519
//!   signature, one X25519 key generation and one agreement, three strict Ed25519
//!   verifications (two links, one holder signature) including key parsing.
//! - `session/relock_in_session`: the lock handling a relock in the open session (AEAD only).

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use doorkey::phone::{Credential, PhoneSession};
use doorkey::session::Command;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn session(c: &mut Criterion) {
    let mut w = World::new();
    let mut lock = install(&w);
    set_time(&mut lock, tick(0), T0, &key(1), &mut w.rng);
    let company = w.company_chain();
    let mut link = w.courier_link();
    link.uses = None; // every iteration unlocks; the state is still committed each time
    let chain = company.extend(&w.company, &link).expect("chain");
    let cred = Credential::new(chain.as_bytes(), key(4)).expect("credential");
    let at = tick(10);

    let mut g = c.benchmark_group("session");
    g.bench_function("first_contact_unlock", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let (mut ch, mut open, mut out) = ([0u8; 256], [0u8; 1024], [0u8; 256]);
            for _ in 0..iters {
                let start = Instant::now();
                let n = lock.challenge(at, &mut w.rng, &mut ch).expect("challenge");
                total += start.elapsed();
                let (_, m) =
                    PhoneSession::open(&ch[..n], &cred, Command::Unlock, &mut w.rng, &mut open)
                        .expect("open");
                let start = Instant::now();
                let o = lock
                    .handle(at, black_box(&mut open[..m]), &mut out)
                    .expect("handle");
                total += start.elapsed();
                assert_eq!(o.action, doorkey::lock::Action::Unlock);
            }
            total
        })
    });

    // The floor's inputs: the same keys and message sizes as the real exchange.
    let lock_sk = SigningKey::from_bytes(&[2; 32]);
    let challenge_msg = [0x5a; 120];
    let verifications: Vec<(VerifyingKey, Vec<u8>, ed25519_dalek::Signature)> =
        [(1u8, 160usize), (3, 170), (4, 60)]
            .into_iter()
            .map(|(seed, len)| {
                let sk = SigningKey::from_bytes(&[seed; 32]);
                let msg = vec![seed; len];
                let sig = sk.sign(&msg);
                (sk.verifying_key(), msg, sig)
            })
            .collect();
    let peer =
        x25519_dalek::PublicKey::from(&x25519_dalek::EphemeralSecret::random_from_rng(&mut w.rng));
    g.bench_function("floor_first_contact", |b| {
        b.iter(|| {
            black_box(lock_sk.sign(black_box(&challenge_msg)));
            let secret = x25519_dalek::EphemeralSecret::random_from_rng(&mut w.rng);
            black_box(x25519_dalek::PublicKey::from(&secret));
            black_box(secret.diffie_hellman(black_box(&peer)).was_contributory());
            for (vk, msg, sig) in &verifications {
                let vk = VerifyingKey::from_bytes(black_box(vk.as_bytes())).expect("key");
                vk.verify_strict(black_box(msg), sig).expect("verify");
            }
        })
    });

    let (mut s, _, _, _) = visit(&mut lock, at, &cred, Command::Hello, &mut w.rng);
    g.bench_function("relock_in_session", |b| {
        let mut out = [0u8; 64];
        b.iter_batched(
            || {
                let mut msg = [0u8; 64];
                let n = s.command(Command::Lock, &mut msg).expect("command");
                (msg, n)
            },
            |(mut msg, n)| lock.handle(at, &mut msg[..n], &mut out).expect("relock"),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, session);
criterion_main!(benches);
