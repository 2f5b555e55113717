//! Lock-side session work against its cryptographic floor, measured in the same run.
//!
//! - `session/first_contact_unlock`: everything the lock does for one unlock with a two-link
//!   credential: sign a challenge with a fresh X25519 key, then take the open (X25519, key
//!   schedule, AEAD, chain decode and verification, holder signature, policy, state commit,
//!   sealed reply). The phone's work between the two is not timed.
//! - `session/floor_first_contact`: the primitives that cannot be avoided, alone: one Ed25519
//!   signature, one X25519 key generation and one agreement, three strict Ed25519
//!   verifications (two links, one holder signature) including key parsing.
//!   Every iteration's company link is new to the lock, as at a first contact.
//! - `session/relock_in_session`: the lock handling a relock in the open session (AEAD only).
//! - `session/repeat_visit_unlock`: a repeat visit from connection to decision (spec 22): the
//!   lock hands out a challenge prepared while idle (the preparation is not timed), then takes
//!   an open whose chain names the company's link the lock holds and carries the leaf alone.
//! - `session/floor_repeat_visit`: what that visit cannot avoid: one X25519 agreement, two
//!   strict Ed25519 verifications (the leaf, the holder signature) including key parsing, and
//!   the AEAD of the open and of the reply.

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
    // Chains through 64 other company links, each new to the lock when its turn comes.
    let firsts: Vec<Vec<u8>> = (0..64)
        .map(|_| {
            let company = w.company_chain();
            company
                .extend(&w.company, &link)
                .expect("chain")
                .as_bytes()
                .to_vec()
        })
        .collect();
    let first_creds: Vec<_> = firsts
        .iter()
        .map(|c| Credential::new(c, key(4)).expect("credential"))
        .collect();

    let mut g = c.benchmark_group("session");
    let mut turn = 0;
    g.bench_function("first_contact_unlock", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let (mut ch, mut open, mut out) = ([0u8; 256], [0u8; 1024], [0u8; 256]);
            for _ in 0..iters {
                turn = (turn + 1) % first_creds.len();
                let cred = &first_creds[turn];
                let start = Instant::now();
                let n = lock.challenge(at, &mut w.rng, &mut ch).expect("challenge");
                total += start.elapsed();
                let (_, m) =
                    PhoneSession::open(&ch[..n], cred, Command::Unlock, &mut w.rng, &mut open)
                        .expect("open");
                assert!(m > 400, "the chain goes whole");
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

    // The lock now holds the company's link of `cred`.
    let (mut s, _, _, _) = visit(&mut lock, at, &cred, Command::Hello, &mut w.rng);
    g.bench_function("repeat_visit_unlock", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let (mut ch, mut open, mut out) = ([0u8; 256], [0u8; 1024], [0u8; 256]);
            for _ in 0..iters {
                lock.prepare_challenge(at, &mut w.rng).expect("prepare");
                let start = Instant::now();
                let n = lock.challenge(at, &mut w.rng, &mut ch).expect("challenge");
                total += start.elapsed();
                let (_, m) =
                    PhoneSession::open(&ch[..n], &cred, Command::Unlock, &mut w.rng, &mut open)
                        .expect("open");
                assert!(m < 350, "the leaf alone");
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

    let key_bytes = [7u8; 32];
    let aead =
        <chacha20poly1305::ChaCha20Poly1305 as chacha20poly1305::KeyInit>::new(&key_bytes.into());
    let nonce = chacha20poly1305::Nonce::default();
    g.bench_function("floor_repeat_visit", |b| {
        use chacha20poly1305::aead::AeadInOut;
        b.iter_batched(
            || {
                // The phone's side, untimed: its sealed open.
                let mut open = [0x5au8; 255];
                let tag = aead
                    .encrypt_inout_detached(&nonce, &[0; 50], (&mut open[..]).into())
                    .expect("seal");
                let secret = x25519_dalek::EphemeralSecret::random_from_rng(&mut w.rng);
                (secret, open, tag, [0u8; 1])
            },
            |(secret, mut open, tag, mut reply)| {
                black_box(secret.diffie_hellman(black_box(&peer)).was_contributory());
                aead.decrypt_inout_detached(&nonce, &[0; 50], (&mut open[..]).into(), &tag)
                    .expect("open");
                for (vk, msg, sig) in &verifications[1..] {
                    let vk = VerifyingKey::from_bytes(black_box(vk.as_bytes())).expect("key");
                    vk.verify_strict(black_box(msg), sig).expect("verify");
                }
                black_box(
                    aead.encrypt_inout_detached(&nonce, &[0; 6], (&mut reply[..]).into())
                        .expect("seal"),
                );
            },
            BatchSize::SmallInput,
        )
    });

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
