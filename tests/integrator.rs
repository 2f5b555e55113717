//! What an integrator relies on: one device key behind several credentials, storage handed
//! back when a lock cannot be set up, no decrypted credential left in the lock's input
//! buffer, receipt bundles kept apart per lock, and any secure byte source as the generator.

mod common;

use std::sync::Arc;

use common::*;
use doorkey::crypto::Signer;
use doorkey::lock::{DoorEvent, Enrolment, Lock, MemoryStorage};
use doorkey::phone::{Credential, Outbox, PhoneSession};
use doorkey::server::ReceiptLog;
use doorkey::session::{Command, Reply};
use doorkey::{Error, FillBytes};

/// A lock whose clock reads T0 at tick 100.
fn timed_lock(w: &mut World) -> Lock<Mem> {
    let mut lock = install(w);
    set_time(&mut lock, tick(50), T0 - secs(50), &key(1), &mut w.rng);
    lock
}

#[test]
fn one_borrowed_device_key_backs_two_credentials() {
    let mut w = World::new();
    let mut lock = timed_lock(&mut w);
    let device = key(4);
    let (a, b) = (w.courier_chain(), w.courier_chain());
    let first = Credential::new(a.as_bytes(), &device).unwrap();
    let second = Credential::new(b.as_bytes(), &device).unwrap();
    for (at, credential) in [(tick(100), &first), (tick(101), &second)] {
        let (_, _, outcome, reply) = visit(&mut lock, at, credential, Command::Unlock, &mut w.rng);
        assert_eq!((outcome.denied, reply), (None, Reply::Unlocked));
    }
    assert_eq!(first.device_key(), device.public_key());
}

#[test]
fn a_shared_or_boxed_device_key_signs_as_the_key_itself() {
    let device = Arc::new(key(4));
    let boxed: Box<dyn Signer> = Box::new(key(4));
    let message = b"the same message";
    let signature = device.sign(message).unwrap();
    assert_eq!(Arc::clone(&device).sign(message).unwrap(), signature);
    assert_eq!(boxed.sign(message).unwrap(), signature);
    assert_eq!(boxed.public_key(), device.public_key());
}

#[test]
fn a_failed_install_returns_the_storage() {
    let w = World::new();
    let lock = install(&w);
    let storage = lock.into_storage();
    let committed = storage.clone();
    let refused = Lock::install(key(2), w.owner.public_key(), storage).unwrap_err();
    assert_eq!(refused.error(), Error::AlreadyProvisioned);
    let storage = refused.into_storage();
    assert_eq!(storage, committed);
    // The storage still boots the lock it belongs to.
    assert!(Lock::boot(key(2), storage).is_ok());
}

#[test]
fn a_failed_boot_returns_the_blank_storage_to_install_on() {
    let w = World::new();
    let refused = Lock::boot(key(2), MemoryStorage::<4096>::new()).unwrap_err();
    assert_eq!(refused.error(), Error::NotProvisioned);
    let lock = Lock::install(key(2), w.owner.public_key(), refused.into_storage()).unwrap();
    assert_eq!(lock.id(), w.lock_id());
}

/// Whether `needle` occurs anywhere in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn handle_leaves_no_decrypted_credential_in_the_input() {
    let mut w = World::new();
    let mut lock = timed_lock(&mut w);
    let chain = w.courier_chain();
    let credential = Credential::new(chain.as_bytes(), key(4)).unwrap();
    for refused in [false, true] {
        let mut challenge = [0u8; 256];
        let n = lock
            .challenge(tick(100), &mut w.rng, &mut challenge)
            .unwrap();
        let mut open = [0u8; 2048];
        let (_, m) = PhoneSession::open(
            &challenge[..n],
            &credential,
            Command::Unlock,
            &mut w.rng,
            &mut open,
        )
        .unwrap();
        let mut input = open[..m].to_vec();
        if refused {
            // Authenticated and decrypted, then refused: the chain was already used up.
            let mut out = [0u8; 4096];
            let outcome = lock.handle(tick(100), &mut input, &mut out).unwrap();
            assert_eq!(outcome.denied, Some(Error::UsedUp));
        } else {
            let mut out = [0u8; 4096];
            let outcome = lock.handle(tick(100), &mut input, &mut out).unwrap();
            assert_eq!(outcome.denied, None);
        }
        assert!(!contains(&input, chain.as_bytes()));
        assert!(input.iter().all(|&b| b == 0));
    }
}

#[test]
fn a_closure_over_a_byte_source_drives_the_lock_and_phone() {
    let mut w = World::new();
    let mut lock = timed_lock(&mut w);
    let chain = w.courier_chain();
    let credential = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let mut source = rng(3);
    let mut trng = FillBytes(|buf: &mut [u8]| rand_core::Rng::fill_bytes(&mut source, buf));
    let mut challenge = [0u8; 256];
    let n = lock
        .challenge(tick(100), &mut trng, &mut challenge)
        .unwrap();
    let mut open = [0u8; 2048];
    let (mut session, m) = PhoneSession::open(
        &challenge[..n],
        &credential,
        Command::Unlock,
        &mut trng,
        &mut open,
    )
    .unwrap();
    let (outcome, reply) = exchange(&mut lock, tick(100), &mut session, &open[..m]);
    assert_eq!((outcome.denied, reply), (None, Reply::Unlocked));
}

#[test]
fn the_outbox_keeps_each_locks_bundles_apart() {
    let mut w = World::new();
    let mut a = timed_lock(&mut w);
    enable_audit(&mut a, tick(55), 1, &mut w.rng);
    let a_chain = w.company_chain();
    // A second lock of the same owner, with one receipt more than the first.
    w.lock = Enrolment::new(key(5).public_key());
    w.lock.enrol_owner(w.owner.public_key()).unwrap();
    let mut b = Lock::install(key(5), w.owner.public_key(), Mem::new()).unwrap();
    set_time(&mut b, tick(50), T0 - secs(50), &key(1), &mut w.rng);
    enable_audit(&mut b, tick(55), 1, &mut w.rng);
    b.door_event(tick(60), DoorEvent::Opened).unwrap();
    let b_chain = w.company_chain();
    assert_ne!(a.state().receipts.seq, b.state().receipts.seq);

    let mut outbox = Outbox::new();
    for (lock, chain) in [(&mut a, &a_chain), (&mut b, &b_chain)] {
        let credential = Credential::new(chain.as_bytes(), key(3)).unwrap();
        let after = outbox.after(&lock.id());
        let reply = visit(
            lock,
            tick(100),
            &credential,
            Command::Receipts { after },
            &mut w.rng,
        )
        .3;
        let Reply::Receipts(sealed) = reply else {
            panic!("expected receipts, got {reply:?}");
        };
        outbox.add(&lock.id(), sealed).unwrap();
    }
    let upload = outbox.take_upload();
    assert_eq!(upload.len(), 2);
    for (id, bundles) in &upload {
        let lock = if *id == a.id() { &a } else { &b };
        assert_eq!(*id, lock.id());
        let mut log = ReceiptLog::new(lock.public_key()).unwrap();
        assert_eq!(log.ingest_sealed(&audit(), bundles).unwrap(), []);
        let held = log.receipts().unwrap().len() as u64;
        assert_eq!(held, lock.state().receipts.seq);
        // Each lock's acknowledgement goes back to that lock only.
        outbox.set_ack(id, log.ack().unwrap().unwrap());
    }
    assert!(outbox.take_upload().is_empty());
    for lock in [&a, &b] {
        assert_eq!(outbox.after(&lock.id()), lock.state().receipts.seq);
    }
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn debug_output_never_shows_a_secret() {
    let mut w = World::new();
    let mut lock = timed_lock(&mut w);
    let chain = w.courier_chain();
    let device = key(4);
    let credential = Credential::new(chain.as_bytes(), &device).unwrap();
    let (session, _, _, _) = visit(
        &mut lock,
        tick(100),
        &credential,
        Command::Hello,
        &mut w.rng,
    );
    let issuer = doorkey::server::Issuer::new(key(3), w.company_chain()).unwrap();
    let shown = [
        format!("{lock:?}"),
        format!("{credential:?}"),
        format!("{session:?}"),
        format!("{issuer:?}"),
        format!("{device:?}"),
    ];
    for (seed, shown) in [2u8, 4, 4, 3, 4].into_iter().zip(&shown) {
        let secret = key(seed).to_seed();
        assert!(!shown.contains(&hex(&secret[..])), "{shown}");
        assert!(!shown.contains(&format!("{:?}", &secret[..4])), "{shown}");
    }
}
