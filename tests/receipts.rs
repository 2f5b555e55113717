//! Receipts: every event the lock records reaches the server's log, verifies, and any
//! removal, reordering, duplication, alteration, fork or truncation is reported.

mod common;

use common::*;
use doorkey::Error;
use doorkey::credential::Chain;
use doorkey::crypto::Signer;
use doorkey::lock::{DoorEvent, Lock, MAX_BACKLOG};
use doorkey::phone::{Credential, PhoneSession};
use doorkey::receipt::{Event, Head, Parsed, Receipt, RunVerifier, verify_one};
use doorkey::server::{Alert, Finding, ReceiptLog, timeline};
use doorkey::session::{Command, ReasonCode, Reply};

/// A lock that has seen a delivery: installed, time set, unlocked, door opened and closed,
/// relocked. Returns the lock, the phone's session (still open) and the courier's chain.
fn delivered() -> (World, Lock<Mem>, PhoneSession, Chain) {
    let mut w = World::new();
    let mut lock = install(&w);
    set_time(&mut lock, 50, T0 - 50, &key(1), &mut w.rng);
    let chain = w.courier_chain();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let (mut s, _, _, reply) = visit(&mut lock, 130, &cred, Command::Unlock, &mut w.rng);
    assert_eq!(reply, Reply::Unlocked);
    lock.door_event(135, DoorEvent::Opened).unwrap();
    lock.door_event(170, DoorEvent::Closed).unwrap();
    let mut msg = [0u8; 64];
    let n = s.command(Command::Lock, &mut msg).unwrap();
    assert_eq!(exchange(&mut lock, 175, &mut s, &msg[..n]).1, Reply::Locked);
    (w, lock, s, chain)
}

fn fetch(lock: &mut Lock<Mem>, s: &mut PhoneSession, tick: u64, after: u64) -> Vec<u8> {
    let mut msg = [0u8; 64];
    let n = s.command(Command::Receipts { after }, &mut msg).unwrap();
    match exchange(lock, tick, s, &msg[..n]).1 {
        Reply::Receipts(bundle) => bundle.to_vec(),
        other => panic!("expected receipts, got {other:?}"),
    }
}

/// Splits a bundle into its head and its receipts, each as bytes.
fn split(bundle: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let (head, mut rest) = Parsed::<Head>::take(bundle).unwrap();
    let head_bytes = bundle[..bundle.len() - rest.len()].to_vec();
    assert_eq!(head_bytes.len(), head.signed.len() + 64);
    let mut receipts = Vec::new();
    while !rest.is_empty() {
        let (_, r) = Parsed::<Receipt>::take(rest).unwrap();
        receipts.push(rest[..rest.len() - r.len()].to_vec());
        rest = r;
    }
    (head_bytes, receipts)
}

#[test]
fn a_delivery_leaves_a_complete_verifiable_trail() {
    let (_, mut lock, mut s, chain) = delivered();
    let bundle = fetch(&mut lock, &mut s, 180, 0);
    let (head, receipts) = split(&bundle);
    let events: Vec<Event> = receipts
        .iter()
        .map(|r| verify_one(r, &lock.public_key()).unwrap().event)
        .collect();
    assert_eq!(
        events,
        [
            Event::Installed,
            Event::TimeSet,
            Event::Unlocked,
            Event::DoorOpened,
            Event::DoorClosed,
            Event::Relocked
        ]
    );
    let mut run = RunVerifier::from_start(lock.public_key());
    for r in &receipts {
        run.push(r).unwrap();
    }
    run.finish(&head).unwrap();

    let mut log = ReceiptLog::new(lock.public_key()).unwrap();
    assert_eq!(log.ingest(&bundle), []);
    assert_eq!(log.audit(), []);
    let (visits, alerts) = timeline(&log);
    assert_eq!(alerts, []);
    assert_eq!(visits.len(), 1);
    let v = &visits[0];
    let leaf = chain.leaf().unwrap();
    assert_eq!(
        v.who.map(|w| (w.id, w.holder)),
        Some((leaf.id, key(4).public_key()))
    );
    assert_eq!(
        (v.unlocked, v.opened, v.closed, v.relocked),
        (Some(T0 + 30), Some(T0 + 35), Some(T0 + 70), Some(T0 + 75))
    );
    assert_eq!(v.relocked_after(), Some(45));
}

#[test]
fn an_alarm_panel_accepts_one_receipt_and_refuses_any_change() {
    let (_, mut lock, mut s, _) = delivered();
    let (_, receipts) = split(&fetch(&mut lock, &mut s, 180, 0));
    let unlocked = &receipts[2];
    let r = verify_one(unlocked, &lock.public_key()).unwrap();
    assert_eq!((r.event, r.time), (Event::Unlocked, Some(T0 + 30)));
    for bit in 0..unlocked.len() * 8 {
        let mut bad = unlocked.clone();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(verify_one(&bad, &lock.public_key()).is_err(), "bit {bit}");
    }
    assert_eq!(
        verify_one(unlocked, &key(9).public_key()),
        Err(Error::Crypto)
    );
    let mut trailing = unlocked.clone();
    trailing.push(0);
    assert_eq!(
        verify_one(&trailing, &lock.public_key()),
        Err(Error::TrailingBytes)
    );
}

#[test]
fn every_removal_reordering_duplication_and_alteration_is_detected() {
    let (_, mut lock, mut s, _) = delivered();
    let (head, receipts) = split(&fetch(&mut lock, &mut s, 180, 0));
    let key = lock.public_key();
    let n = receipts.len();
    let run = |list: &[Vec<u8>]| -> Result<(), Error> {
        let mut v = RunVerifier::from_start(key);
        for r in list {
            v.push(r)?;
        }
        v.finish(&head)
    };
    let ingest = |list: &[Vec<u8>]| -> Vec<Finding> {
        let mut log = ReceiptLog::new(key).unwrap();
        let mut bundle = head.clone();
        for r in list {
            bundle.extend_from_slice(r);
        }
        log.ingest(&bundle);
        log.audit()
    };
    assert_eq!(run(&receipts), Ok(()));
    assert_eq!(ingest(&receipts), []);
    for i in 0..n {
        let mut removed = receipts.clone();
        removed.remove(i);
        assert!(run(&removed).is_err(), "removal of {i}");
        let seq = i as u64 + 1;
        let expect = if i + 1 == n {
            Finding::Truncated {
                signed: n as u64,
                held: n as u64 - 1,
            }
        } else {
            Finding::Gap { from: seq, to: seq }
        };
        assert!(
            ingest(&removed).contains(&expect),
            "removal of {i}: {:?}",
            ingest(&removed)
        );

        let mut duplicated = receipts.clone();
        duplicated.insert(i, receipts[i].clone());
        assert!(run(&duplicated).is_err(), "duplication of {i}");
        assert!(
            ingest(&duplicated).contains(&Finding::Duplicate { seq }),
            "duplication of {i}"
        );

        if i + 1 < n {
            let mut swapped = receipts.clone();
            swapped.swap(i, i + 1);
            assert!(run(&swapped).is_err(), "swap at {i}");
            assert!(
                ingest(&swapped).contains(&Finding::Reordered { seq }),
                "swap at {i}"
            );
        }

        for bit in (0..receipts[i].len() * 8).step_by(7) {
            let mut altered = receipts.clone();
            altered[i][bit / 8] ^= 1 << (bit % 8);
            assert!(run(&altered).is_err(), "receipt {i} bit {bit}");
            let found = ingest(&altered);
            assert!(
                found
                    .iter()
                    .any(|f| matches!(f, Finding::BadSignature { .. } | Finding::Malformed { .. })),
                "receipt {i} bit {bit}: {found:?}"
            );
        }
    }
}

#[test]
fn bundles_ingest_in_any_order_and_duplicated() {
    let (_, mut lock, mut s, _) = delivered();
    let first = fetch(&mut lock, &mut s, 180, 0);
    lock.door_event(200, DoorEvent::Opened).unwrap();
    lock.door_event(230, DoorEvent::LeftOpen).unwrap();
    let second = fetch(&mut lock, &mut s, 240, 6);
    let (_, later) = split(&second);
    assert_eq!(later.len(), 2);
    let mut log = ReceiptLog::new(lock.public_key()).unwrap();
    assert_eq!(log.ingest(&second), []);
    // Until the first bundle arrives the log knows what is missing.
    assert!(log.audit().contains(&Finding::Gap { from: 1, to: 6 }));
    assert_eq!(log.ingest(&first), []);
    assert_eq!(log.ingest(&second), []);
    assert_eq!(log.audit(), []);
    assert_eq!(log.receipts().len(), 8);
    let (_, alerts) = timeline(&log);
    assert_eq!(alerts, [Alert::LeftOpen { seq: 8 }]);
}

#[test]
fn a_fork_signed_by_the_lock_key_is_reported() {
    let (_, mut lock, mut s, _) = delivered();
    let bundle = fetch(&mut lock, &mut s, 180, 0);
    let mut log = ReceiptLog::new(lock.public_key()).unwrap();
    log.ingest(&bundle);
    let real = log.receipts()[3].receipt;
    let forged = Receipt {
        event: Event::DoorClosed,
        ..real
    };
    let mut out = [0u8; 256];
    let n = forged.sign(&lock.id(), &key(2), &mut out).unwrap();
    assert_eq!(log.ingest(&out[..n]), [Finding::Fork { seq: real.seq }]);
    assert!(log.audit().contains(&Finding::Fork { seq: real.seq }));
}

#[test]
fn denials_and_unrelocked_visits_raise_alerts() {
    let (mut w, mut lock, chain) = {
        let mut w = World::new();
        let mut lock = install(&w);
        set_time(&mut lock, 50, T0 - 50, &key(1), &mut w.rng);
        let chain = w.courier_chain();
        (w, lock, chain)
    };
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let (mut s, _, _, reply) = visit(&mut lock, 130, &cred, Command::Unlock, &mut w.rng);
    assert_eq!(reply, Reply::Unlocked);
    let (_, _, _, reply) = visit(&mut lock, 140, &cred, Command::Unlock, &mut w.rng);
    assert_eq!(reply, Reply::Denied(ReasonCode::UsedUp));
    // The first session was replaced by the second; fetch through a fresh one.
    let (mut s2, _, _, _) = visit(&mut lock, 150, &cred, Command::Hello, &mut w.rng);
    let _ = &mut s;
    let bundle = fetch(&mut lock, &mut s2, 151, 0);
    let mut log = ReceiptLog::new(lock.public_key()).unwrap();
    assert_eq!(log.ingest(&bundle), []);
    let (visits, alerts) = timeline(&log);
    assert_eq!(visits.len(), 2);
    assert!(alerts.contains(&Alert::LeftUnlocked {
        session: visits[0].session
    }));
    assert!(alerts.iter().any(|a| matches!(
        a,
        Alert::Denied {
            reason: ReasonCode::UsedUp,
            ..
        }
    )));
}

#[test]
fn an_overflowing_backlog_shows_as_a_gap_not_a_silent_loss() {
    let (_, mut lock, mut s, _) = delivered();
    for i in 0..MAX_BACKLOG as u64 + 3 {
        lock.door_event(200 + i, DoorEvent::Opened).unwrap();
    }
    let bundle = fetch(&mut lock, &mut s, 230, 0);
    let (_, receipts) = split(&bundle);
    assert_eq!(receipts.len(), MAX_BACKLOG);
    let mut log = ReceiptLog::new(lock.public_key()).unwrap();
    assert_eq!(log.ingest(&bundle), []);
    let first_kept = 6 + MAX_BACKLOG as u64 + 3 - MAX_BACKLOG as u64 + 1;
    assert_eq!(
        log.audit(),
        [Finding::Gap {
            from: 1,
            to: first_kept - 1
        }]
    );
}

#[test]
fn the_chain_continues_across_reboots() {
    let (mut w, lock, _, chain) = delivered();
    let mut lock = Lock::boot(key(2), lock.into_storage()).unwrap();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    assert_eq!(
        set_time(&mut lock, 1, T0 + 100, &key(1), &mut w.rng),
        Reply::TimeSet(T0 + 100)
    );
    let bundle = fetch_receipts(&mut lock, 2, &cred, &mut w.rng);
    let (head, receipts) = split(&bundle);
    let mut run = RunVerifier::from_start(lock.public_key());
    let last = receipts
        .iter()
        .map(|r| run.push(r).unwrap())
        .last()
        .unwrap();
    run.finish(&head).unwrap();
    assert_eq!((last.event, last.time), (Event::TimeSet, Some(T0 + 100)));
    let boot = split(&bundle)
        .1
        .iter()
        .map(|r| verify_one(r, &lock.public_key()).unwrap())
        .find(|r| r.event == Event::Boot);
    assert_eq!(boot.map(|r| r.time), Some(None));
}

#[test]
fn the_phone_outbox_fetches_only_what_is_new_and_uploads_everything() {
    let (_, mut lock, mut s, _) = delivered();
    let mut outbox = doorkey::phone::Outbox::new();
    let id = lock.id();
    assert_eq!(outbox.after(&id), 0);
    outbox
        .add(&id, &fetch(&mut lock, &mut s, 180, outbox.after(&id)))
        .unwrap();
    assert_eq!(outbox.after(&id), 6);
    lock.door_event(185, DoorEvent::Opened).unwrap();
    let second = fetch(&mut lock, &mut s, 186, outbox.after(&id));
    assert_eq!(split(&second).1.len(), 1);
    outbox.add(&id, &second).unwrap();
    assert_eq!(outbox.after(&id), 7);
    assert_eq!(
        outbox.add(&id, &second[..second.len() - 1]),
        Err(Error::Truncated)
    );
    let upload = outbox.take_upload();
    assert_eq!(upload.len(), 1);
    assert_eq!(upload[0].0, id);
    let mut log = ReceiptLog::new(lock.public_key()).unwrap();
    assert_eq!(log.ingest(&upload[0].1), []);
    assert_eq!(log.audit(), []);
    assert_eq!(log.receipts().len(), 7);
    assert!(outbox.take_upload().is_empty());
}

#[test]
fn receipts_are_for_verified_holders_and_anonymous_noise_cannot_flush_them() {
    let (mut w, mut lock, _, _) = delivered();
    let before = lock.state().receipts.seq;
    // Twenty anonymous sessions asking to unlock: one receipt records them, not twenty.
    for t in 0..20 {
        assert_eq!(
            anonymous(&mut lock, 190 + t, Command::Unlock, &mut w.rng).2,
            Reply::Denied(ReasonCode::NotAuthorized)
        );
    }
    assert_eq!(lock.state().receipts.seq, before + 1);
    // An anonymous session cannot read the audit trail.
    assert_eq!(
        anonymous(&mut lock, 220, Command::Receipts { after: 0 }, &mut w.rng).2,
        Reply::Denied(ReasonCode::NotAuthorized)
    );
}

#[test]
fn a_holder_refused_outside_their_window_is_named_in_the_denial() {
    let (mut w, mut lock, _, _) = delivered();
    let company = w.company_chain();
    let mut link = w.courier_link();
    link.not_before = T0 + 3600;
    let later = company.extend(&w.company, &link).unwrap();
    let cred = Credential::new(later.as_bytes(), key(4)).unwrap();
    let (_, _, o, r) = visit(&mut lock, 190, &cred, Command::Unlock, &mut w.rng);
    assert_eq!(
        (r, o.denied),
        (Reply::Denied(ReasonCode::NotNow), Some(Error::NotYetValid))
    );
    let last = *lock.state().backlog.as_slice().last().unwrap();
    assert_eq!(last.event, Event::Denied(ReasonCode::NotNow));
    assert_eq!(
        last.who.map(|w| (w.id, w.holder)),
        Some((link.id, key(4).public_key()))
    );
    // A thief presenting the same chain is refused without being able to name the holder.
    let chain = later.as_bytes().to_vec();
    struct Claims(doorkey::crypto::PublicKey, doorkey::crypto::SecretKey);
    impl Signer for Claims {
        fn public_key(&self) -> doorkey::crypto::PublicKey {
            self.0
        }
        fn sign(&self, m: &[u8]) -> Result<doorkey::crypto::Signature, Error> {
            self.1.sign(m)
        }
    }
    let thief = Credential::new(&chain, Claims(key(4).public_key(), key(66))).unwrap();
    let (_, _, o, _) = visit(&mut lock, 191, &thief, Command::Unlock, &mut w.rng);
    assert_eq!(o.denied, Some(Error::NotYetValid));
    let last = *lock.state().backlog.as_slice().last().unwrap();
    assert_eq!(last.who, None);
}
