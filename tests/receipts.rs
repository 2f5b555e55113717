//! Receipts: every event the lock records reaches the server's log, verifies, and any
//! removal, reordering, duplication, alteration, fork or truncation is reported.

mod common;

use common::*;
use doorkey::Error;
use doorkey::config::Change;
use doorkey::credential::Chain;
use doorkey::crypto::Signer;
use doorkey::lock::{Action, DoorEvent, Lock, MAX_BACKLOG, Storage};
use doorkey::phone::{Credential, PhoneSession};
use doorkey::receipt::{Ack, AuditSecret, Event, Head, Parsed, Receipt, RunVerifier, verify_one};
use doorkey::server::{
    Alert, Evidence, Finding, LogStore, MAX_UPLOAD_BYTES, MemoryLog, ReceiptLog, Stored,
    StoredHead, timeline,
};
use doorkey::session::{Command, ReasonCode, Reply};
use doorkey::time::{Seconds, Tick, UnixTime};

/// A lock that has seen a delivery: installed, audit key set, time set, unlocked, door opened
/// and closed, relocked. Returns the lock, the phone's session (still open) and the courier's
/// chain.
fn delivered() -> (World, Lock<Mem>, PhoneSession, Chain) {
    let mut w = World::new();
    let mut lock = install(&w);
    enable_audit(&mut lock, tick(40), 1, &mut w.rng);
    set_time(&mut lock, tick(50), T0 - secs(50), &key(1), &mut w.rng);
    let chain = w.courier_chain();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let (mut s, _, _, reply) = visit(&mut lock, tick(130), &cred, Command::Unlock, &mut w.rng);
    assert_eq!(reply, Reply::Unlocked);
    lock.door_event(tick(135), DoorEvent::Opened).unwrap();
    lock.door_event(tick(170), DoorEvent::Closed).unwrap();
    let mut msg = [0u8; 64];
    let n = s.command(Command::Lock, &mut msg).unwrap();
    assert_eq!(
        exchange(&mut lock, tick(175), &mut s, &msg[..n]).1,
        Reply::Locked
    );
    (w, lock, s, chain)
}

/// Fetches a sealed bundle in session `s`, as the phone carries it.
fn fetch_sealed(lock: &mut Lock<Mem>, s: &mut PhoneSession, tick: Tick, after: u64) -> Vec<u8> {
    let mut msg = [0u8; 64];
    let n = s.command(Command::Receipts { after }, &mut msg).unwrap();
    match exchange(lock, tick, s, &msg[..n]).1 {
        Reply::Receipts(sealed) => sealed.to_vec(),
        other => panic!("expected receipts, got {other:?}"),
    }
}

/// Fetches a bundle in session `s` and opens it as the owner's server does.
fn fetch(lock: &mut Lock<Mem>, s: &mut PhoneSession, tick: Tick, after: u64) -> Vec<u8> {
    let sealed = fetch_sealed(lock, s, tick, after);
    unseal(&lock.id(), &sealed).1
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
    let bundle = fetch(&mut lock, &mut s, tick(180), 0);
    let (head, receipts) = split(&bundle);
    let events: Vec<Event> = receipts
        .iter()
        .map(|r| verify_one(r, &lock.public_key()).unwrap().event)
        .collect();
    assert_eq!(
        events,
        [
            Event::Installed,
            Event::ConfigChanged(1),
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
    assert_eq!(log.ingest(&bundle).unwrap(), []);
    assert_eq!(log.audit().unwrap(), []);
    let (visits, alerts) = timeline(&log).unwrap();
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
        (
            Some(T0 + secs(30)),
            Some(T0 + secs(35)),
            Some(T0 + secs(70)),
            Some(T0 + secs(75))
        )
    );
    assert_eq!(v.relocked_after(), Some(secs(45)));
}

#[test]
fn an_alarm_panel_accepts_one_receipt_and_refuses_any_change() {
    let (_, mut lock, mut s, _) = delivered();
    let (_, receipts) = split(&fetch(&mut lock, &mut s, tick(180), 0));
    let unlocked = &receipts[3];
    let r = verify_one(unlocked, &lock.public_key()).unwrap();
    assert_eq!((r.event, r.time), (Event::Unlocked, Some(T0 + secs(30))));
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
    let (head, receipts) = split(&fetch(&mut lock, &mut s, tick(180), 0));
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
        log.ingest(&bundle).unwrap();
        log.audit().unwrap()
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
    let first = fetch(&mut lock, &mut s, tick(180), 0);
    lock.door_event(tick(200), DoorEvent::Opened).unwrap();
    lock.door_event(tick(230), DoorEvent::LeftOpen).unwrap();
    let second = fetch(&mut lock, &mut s, tick(240), 7);
    let (_, later) = split(&second);
    assert_eq!(later.len(), 2);
    let mut log = ReceiptLog::new(lock.public_key()).unwrap();
    assert_eq!(log.ingest(&second).unwrap(), []);
    // Until the first bundle arrives the log knows what is missing.
    assert!(
        log.audit()
            .unwrap()
            .contains(&Finding::Gap { from: 1, to: 7 })
    );
    assert_eq!(log.ingest(&first).unwrap(), []);
    assert_eq!(log.ingest(&second).unwrap(), []);
    assert_eq!(log.audit().unwrap(), []);
    assert_eq!(log.receipts().unwrap().len(), 9);
    let (_, alerts) = timeline(&log).unwrap();
    assert_eq!(alerts, [Alert::LeftOpen { seq: 9 }]);
}

/// A delivered lock's log, and a second receipt with the lock's key for the same sequence
/// number as the log's fourth: a fork. Returns the log, the real receipt and the fork's bytes.
fn log_and_fork() -> (ReceiptLog<MemoryLog>, Receipt, Vec<u8>) {
    let (_, mut lock, mut s, _) = delivered();
    let bundle = fetch(&mut lock, &mut s, tick(180), 0);
    let mut log = ReceiptLog::new(lock.public_key()).unwrap();
    log.ingest(&bundle).unwrap();
    let real = log.receipts().unwrap()[3].receipt;
    let forged = Receipt {
        event: Event::DoorClosed,
        ..real
    };
    let mut out = [0u8; 256];
    let n = forged.sign(&lock.id(), &key(2), &mut out).unwrap();
    (log, real, out[..n].to_vec())
}

#[test]
fn a_fork_signed_by_the_lock_key_is_reported() {
    let (mut log, real, fork) = log_and_fork();
    assert_eq!(
        log.ingest(&fork).unwrap(),
        [Finding::Fork { seq: real.seq }]
    );
    assert!(
        log.audit()
            .unwrap()
            .contains(&Finding::Fork { seq: real.seq })
    );
}

#[test]
fn denials_and_unrelocked_visits_raise_alerts() {
    let (mut w, mut lock, chain) = {
        let mut w = World::new();
        let mut lock = install(&w);
        enable_audit(&mut lock, tick(40), 1, &mut w.rng);
        set_time(&mut lock, tick(50), T0 - secs(50), &key(1), &mut w.rng);
        let chain = w.courier_chain();
        (w, lock, chain)
    };
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let (mut s, _, _, reply) = visit(&mut lock, tick(130), &cred, Command::Unlock, &mut w.rng);
    assert_eq!(reply, Reply::Unlocked);
    let (_, _, _, reply) = visit(&mut lock, tick(140), &cred, Command::Unlock, &mut w.rng);
    assert_eq!(reply, Reply::Denied(ReasonCode::UsedUp));
    // The first session was replaced by the second; fetch through a fresh one.
    let (mut s2, _, _, _) = visit(&mut lock, tick(150), &cred, Command::Hello, &mut w.rng);
    let _ = &mut s;
    let bundle = fetch(&mut lock, &mut s2, tick(151), 0);
    let mut log = ReceiptLog::new(lock.public_key()).unwrap();
    assert_eq!(log.ingest(&bundle).unwrap(), []);
    let (visits, alerts) = timeline(&log).unwrap();
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
        lock.door_event(tick(200 + i), DoorEvent::Opened).unwrap();
    }
    let bundle = fetch(&mut lock, &mut s, tick(230), 0);
    let (_, receipts) = split(&bundle);
    assert_eq!(receipts.len(), MAX_BACKLOG);
    let mut log = ReceiptLog::new(lock.public_key()).unwrap();
    assert_eq!(log.ingest(&bundle).unwrap(), []);
    let first_kept = 7 + MAX_BACKLOG as u64 + 3 - MAX_BACKLOG as u64 + 1;
    assert_eq!(
        log.audit().unwrap(),
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
        set_time(&mut lock, tick(1), T0 + secs(100), &key(1), &mut w.rng),
        Reply::TimeSet(T0 + secs(100))
    );
    let bundle = fetch_receipts(&mut lock, tick(2), &cred, &mut w.rng);
    let (head, receipts) = split(&bundle);
    // Nine receipts were recorded; the backlog holds the newest eight.
    let mut run = RunVerifier::anywhere(lock.public_key());
    let last = receipts
        .iter()
        .map(|r| run.push(r).unwrap())
        .last()
        .unwrap();
    run.finish(&head).unwrap();
    assert_eq!(
        (last.event, last.time),
        (Event::TimeSet, Some(T0 + secs(100)))
    );
    let boot = split(&bundle)
        .1
        .iter()
        .map(|r| verify_one(r, &lock.public_key()).unwrap())
        .find(|r| r.event == Event::Boot);
    assert_eq!(boot.map(|r| r.time), Some(None));
}

#[test]
fn the_phone_outbox_carries_sealed_bundles_up_and_the_ack_back() {
    let (mut w, mut lock, mut s, _) = delivered();
    let mut outbox = doorkey::phone::Outbox::new();
    let id = lock.id();
    assert_eq!((outbox.after(&id), outbox.ack(&id)), (0, None));
    let first = fetch_sealed(&mut lock, &mut s, tick(180), outbox.after(&id));
    outbox.add(&id, &first).unwrap();
    lock.door_event(tick(185), DoorEvent::Opened).unwrap();
    let second = fetch_sealed(&mut lock, &mut s, tick(186), outbox.after(&id));
    outbox.add(&id, &second).unwrap();
    assert_eq!(
        outbox.add(&id, &second[..second.len() - 1]),
        Err(Error::Truncated)
    );
    let upload = outbox.take_upload();
    assert_eq!(upload.len(), 1);
    assert_eq!(upload[0].0, id);
    let upload = &upload[0].1;
    assert!(outbox.take_upload().is_empty());

    let mut log = ReceiptLog::new(lock.public_key()).unwrap();
    assert_eq!(log.ingest_sealed(&audit(), upload).unwrap(), []);
    assert_eq!(log.audit().unwrap(), []);
    assert_eq!(log.receipts().unwrap().len(), 8);
    let ack = log.ack().unwrap().unwrap();
    assert_eq!((ack.first, ack.seq), (1, 8));
    outbox.set_ack(&id, ack);
    assert_eq!(outbox.after(&id), 8);

    // The next visit carries the ack: the lock forgets what the server holds.
    let (_, _, _, reply) = {
        let chain = w.company_chain();
        let cred = Credential::new(chain.as_bytes(), key(3)).unwrap();
        visit(&mut lock, tick(190), &cred, Command::Ack(ack), &mut w.rng)
    };
    assert_eq!(reply, Reply::Acked(8));
    assert!(lock.state().backlog.is_empty());
}

#[test]
fn receipts_are_for_verified_holders_and_anonymous_noise_cannot_flush_them() {
    let (mut w, mut lock, _, _) = delivered();
    let before = lock.state().receipts.seq;
    // Twenty anonymous sessions asking to unlock: one receipt records them, not twenty.
    for t in 0..20 {
        assert_eq!(
            anonymous(&mut lock, tick(190 + t), Command::Unlock, &mut w.rng).2,
            Reply::Denied(ReasonCode::NotAuthorized)
        );
    }
    assert_eq!(lock.state().receipts.seq, before + 1);
    // An anonymous session cannot read the audit trail.
    assert_eq!(
        anonymous(
            &mut lock,
            tick(220),
            Command::Receipts { after: 0 },
            &mut w.rng
        )
        .2,
        Reply::Denied(ReasonCode::NotAuthorized)
    );
}

#[test]
fn a_holder_refused_outside_their_window_is_named_in_the_denial() {
    let (mut w, mut lock, _, _) = delivered();
    let company = w.company_chain();
    let mut link = w.courier_link();
    link.not_before = T0 + Seconds::from_hours(1);
    let later = company.extend(&w.company, &link).unwrap();
    let cred = Credential::new(later.as_bytes(), key(4)).unwrap();
    let (_, _, o, r) = visit(&mut lock, tick(190), &cred, Command::Unlock, &mut w.rng);
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
    let (_, _, o, _) = visit(&mut lock, tick(191), &thief, Command::Unlock, &mut w.rng);
    assert_eq!(o.denied, Some(Error::NotYetValid));
    let last = *lock.state().backlog.as_slice().last().unwrap();
    assert_eq!(last.who, None);
    // A forger's chain (a link its signer could not issue) is never attributed, even though
    // the forger holds the leaf's key and signs the transcript: no owner issued that leaf.
    let mut forged = w.courier_link();
    forged.subject = key(66).public_key().into();
    let company_link = w.company_link();
    let links: [(&dyn Signer, _); 2] = [(&w.owner, company_link), (&key(66), forged)];
    let chain = raw_chain(&w.owner.public_key(), &links);
    let forger = Credential::new(&chain, key(66)).unwrap();
    let (_, _, o, _) = visit(&mut lock, tick(192), &forger, Command::Unlock, &mut w.rng);
    assert_eq!(o.denied, Some(Error::Crypto));
    let named = |r: &doorkey::receipt::Receipt| r.who.map(|w| w.holder);
    assert!(
        lock.state()
            .backlog
            .as_slice()
            .iter()
            .all(|r| named(r) != Some(key(66).public_key()))
    );
}

/// A head the lock signed that disagrees with a receipt the log holds is signed proof of two
/// histories: a finding with the head as evidence, even when it is older than the newest head.
#[test]
fn a_lock_signed_head_that_conflicts_with_the_log_is_a_fork_with_evidence() {
    let (_, mut lock, mut s, _) = delivered();
    let bundle = fetch(&mut lock, &mut s, tick(180), 0);
    let mut log = ReceiptLog::new(lock.public_key()).unwrap();
    assert_eq!(log.ingest(&bundle).unwrap(), []);
    let forged = Head {
        seq: 4,
        hash: [0xee; 32],
        time: None,
    };
    let mut out = [0u8; 256];
    let n = forged.sign(&lock.id(), &key(2), &mut out).unwrap();
    assert_eq!(log.ingest(&out[..n]).unwrap(), [Finding::Fork { seq: 4 }]);
    assert_eq!(log.audit().unwrap(), [Finding::Fork { seq: 4 }]);
    let evidence = log.evidence().unwrap();
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0].bytes, out[..n]);
}

/// Findings live in the store, not in the log object: a log rebuilt over the same store (a
/// restarted server instance) still reports them.
#[test]
fn findings_persist_through_the_store() {
    let (mut log, real, fork) = log_and_fork();
    log.ingest(&fork).unwrap();
    let again = ReceiptLog::with_store(key(2).public_key(), log.store().clone()).unwrap();
    assert_eq!(again.audit().unwrap(), [Finding::Fork { seq: real.seq }]);
    assert_eq!(again.evidence().unwrap()[0].bytes, fork);
}

/// A store that fails once `fail` is set: the log passes the failure on.
#[derive(Default)]
struct Flaky {
    inner: MemoryLog,
    fail: bool,
}

impl LogStore for Flaky {
    fn get(&self, seq: u64) -> Result<Option<Stored>, Error> {
        self.inner.get(seq)
    }
    fn put(&mut self, stored: Stored) -> Result<(), Error> {
        if self.fail {
            return Err(Error::Storage);
        }
        self.inner.put(stored)
    }
    fn all(&self) -> Result<Vec<Stored>, Error> {
        self.inner.all()
    }
    fn head_at(&self, seq: u64) -> Result<Option<StoredHead>, Error> {
        self.inner.head_at(seq)
    }
    fn put_head(&mut self, head: StoredHead) -> Result<(), Error> {
        self.inner.put_head(head)
    }
    fn heads(&self) -> Result<Vec<StoredHead>, Error> {
        self.inner.heads()
    }
    fn record(&mut self, evidence: Evidence) -> Result<(), Error> {
        self.inner.record(evidence)
    }
    fn findings(&self) -> Result<Vec<Evidence>, Error> {
        if self.fail {
            return Err(Error::Storage);
        }
        self.inner.findings()
    }
    fn ack(&self) -> Result<Option<Ack>, Error> {
        self.inner.ack()
    }
    fn set_ack(&mut self, ack: Ack) -> Result<(), Error> {
        self.inner.set_ack(ack)
    }
}

#[test]
fn a_failing_store_fails_ingest_and_audit_and_an_oversize_upload_is_refused() {
    let (_, mut lock, mut s, _) = delivered();
    let bundle = fetch(&mut lock, &mut s, tick(180), 0);
    let store = Flaky {
        fail: true,
        ..Flaky::default()
    };
    let mut log = ReceiptLog::with_store(lock.public_key(), store).unwrap();
    assert_eq!(log.ingest(&bundle), Err(Error::Storage));
    assert_eq!(log.audit(), Err(Error::Storage));
    assert_eq!(timeline(&log).err(), Some(Error::Storage));

    let mut log = ReceiptLog::new(lock.public_key()).unwrap();
    let huge = vec![0u8; MAX_UPLOAD_BYTES + 1];
    assert_eq!(log.ingest(&huge), Err(Error::Oversize));
    assert_eq!(log.audit().unwrap(), []);
}

/// A holder who unlocks, relocks, unlocks again and leaves left the door unlocked: the
/// visit's last bolt event counts, not whether it ever relocked.
#[test]
fn unlock_relock_unlock_and_leave_raises_left_unlocked() {
    let mut w = World::new();
    let mut lock = install(&w);
    enable_audit(&mut lock, tick(40), 1, &mut w.rng);
    set_time(&mut lock, tick(50), T0 - secs(50), &key(1), &mut w.rng);
    let chain = w.company_chain();
    let cred = Credential::new(chain.as_bytes(), key(3)).unwrap();
    let (mut s, _, _, reply) = visit(&mut lock, tick(130), &cred, Command::Unlock, &mut w.rng);
    assert_eq!(reply, Reply::Unlocked);
    let mut msg = [0u8; 64];
    for (at, command, expect) in [
        (tick(140), Command::Lock, Reply::Locked),
        (tick(150), Command::Unlock, Reply::Unlocked),
    ] {
        let n = s.command(command, &mut msg).unwrap();
        assert_eq!(exchange(&mut lock, at, &mut s, &msg[..n]).1, expect);
    }
    let bundle = fetch(&mut lock, &mut s, tick(160), 0);
    let mut log = ReceiptLog::new(lock.public_key()).unwrap();
    assert_eq!(log.ingest(&bundle).unwrap(), []);
    let (visits, alerts) = timeline(&log).unwrap();
    assert_eq!(visits.len(), 1);
    assert!(visits[0].relocked.is_some());
    assert_eq!(
        alerts,
        [Alert::LeftUnlocked {
            session: visits[0].session
        }]
    );
}

/// A courier carries the bundle but cannot read it: nothing of another holder's visit (their
/// device key, credential id or session) appears in the sealed bytes, and only the owner's
/// audit secret opens it.
#[test]
fn a_holder_carrying_a_bundle_cannot_read_other_visits() {
    let (mut w, mut lock, _, chain) = delivered();
    let courier_id = chain.leaf().unwrap().id;
    let walker_chain = w.company_chain();
    let walker = Credential::new(walker_chain.as_bytes(), key(3)).unwrap();
    let (mut s, _, _, reply) = visit(&mut lock, tick(190), &walker, Command::Hello, &mut w.rng);
    assert_eq!(reply, Reply::Ready);
    let sealed = fetch_sealed(&mut lock, &mut s, tick(191), 0);
    let contains = |needle: &[u8]| sealed.windows(needle.len()).any(|win| win == needle);
    assert!(!contains(&key(4).public_key().0));
    assert!(!contains(&courier_id.0));
    assert!(Parsed::<Head>::take(&sealed).is_err());

    let mut wrong = sealed.clone();
    assert_eq!(
        doorkey::receipt::open(&lock.id(), &AuditSecret::from_bytes([12; 32]), &mut wrong).err(),
        Some(Error::Crypto)
    );
    let (_, bundle) = unseal(&lock.id(), &sealed);
    let (head, receipts) = split(&bundle);
    let mut run = RunVerifier::from_start(lock.public_key());
    let who: Vec<_> = receipts
        .iter()
        .filter_map(|r| run.push(r).unwrap().who)
        .collect();
    run.finish(&head).unwrap();
    assert!(who.iter().any(|w| w.id == courier_id));
}

/// Until the owner sets an audit key nothing could be sealed, so no receipt leaves the lock;
/// a small-order audit key is refused.
#[test]
fn without_an_audit_key_no_receipts_leave_the_lock() {
    let mut w = World::new();
    let mut lock = install(&w);
    set_time(&mut lock, tick(50), T0 - secs(50), &key(1), &mut w.rng);
    let chain = w.company_chain();
    let cred = Credential::new(chain.as_bytes(), key(3)).unwrap();
    let (_, _, outcome, reply) = visit(
        &mut lock,
        tick(60),
        &cred,
        Command::Receipts { after: 0 },
        &mut w.rng,
    );
    assert_eq!(reply, Reply::Denied(ReasonCode::NotAuthorized));
    assert_eq!(outcome.denied, Some(Error::NotPermitted));

    let weak = owner_update(lock.id(), 1, Change::SetAuditKey([0; 32]));
    let (_, outcome, reply) = anonymous(&mut lock, tick(70), Command::Config(&weak), &mut w.rng);
    assert_eq!(reply, Reply::Denied(ReasonCode::NotAuthorized));
    assert_eq!(outcome.denied, Some(Error::WeakKey));
}

/// An ack is the lock's own token from inside a sealed bundle: a holder cannot make one, and
/// one altered in any field is refused without dropping anything.
#[test]
fn only_a_genuine_ack_trims_the_backlog() {
    let (_, mut lock, mut s, _) = delivered();
    let sealed = fetch_sealed(&mut lock, &mut s, tick(180), 0);
    let mut log = ReceiptLog::new(lock.public_key()).unwrap();
    log.ingest_sealed(&audit(), &sealed).unwrap();
    let ack = log.ack().unwrap().unwrap();
    assert_eq!((ack.first, ack.seq), (1, 7));
    let mut token = ack.token;
    token[5] ^= 1;
    let forged = [
        Ack { token, ..ack },
        Ack { seq: 6, ..ack },
        Ack { first: 2, ..ack },
        Ack {
            hash: [0; 32],
            ..ack
        },
    ];
    for bad in forged {
        let mut msg = [0u8; 256];
        let n = s.command(Command::Ack(bad), &mut msg).unwrap();
        let (outcome, reply) = exchange(&mut lock, tick(181), &mut s, &msg[..n]);
        assert_eq!(reply, Reply::Denied(ReasonCode::NotAuthorized), "{bad:?}");
        assert_eq!(outcome.denied, Some(Error::Crypto), "{bad:?}");
    }
    assert_eq!(lock.state().backlog.len(), 8);
    let mut msg = [0u8; 256];
    let n = s.command(Command::Ack(ack), &mut msg).unwrap();
    assert_eq!(
        exchange(&mut lock, tick(182), &mut s, &msg[..n]).1,
        Reply::Acked(7)
    );
    // What is left: the denials recorded after the bundle was sealed, and only they.
    let left = lock.state().backlog.as_slice();
    assert!(!left.is_empty() && left.iter().all(|r| r.seq > 7));
}

/// Storage whose commits fail while the shared switch is on.
struct Switchable {
    inner: Mem,
    failing: std::rc::Rc<std::cell::Cell<bool>>,
}

impl Storage for Switchable {
    fn load(&mut self, buf: &mut [u8]) -> Result<Option<usize>, Error> {
        self.inner.load(buf)
    }
    fn rolled_back(&self) -> bool {
        self.inner.rolled_back()
    }
    fn commit(&mut self, state: &[u8]) -> Result<(), Error> {
        if self.failing.get() {
            return Err(Error::Storage);
        }
        self.inner.commit(state)
    }
}

/// A lock on storage whose commits fail while the returned switch is on, its clock set to
/// `T0 - 50` at tick 50.
fn switchable_lock(w: &mut World) -> (Lock<Switchable>, std::rc::Rc<std::cell::Cell<bool>>) {
    let failing = std::rc::Rc::new(std::cell::Cell::new(false));
    let storage = Switchable {
        inner: Mem::new(),
        failing: failing.clone(),
    };
    let mut lock = Lock::install(key(2), key(1).public_key(), storage).unwrap();
    set_time(&mut lock, tick(50), T0 - secs(50), &key(1), &mut w.rng);
    (lock, failing)
}

/// A relock whose receipt cannot be committed still locks (the safe state), tells the
/// firmware, and its receipt, with the relock's own time, comes first in the next commit that
/// succeeds.
#[test]
fn a_relock_whose_receipt_cannot_be_committed_is_reported_and_recorded_later() {
    let mut w = World::new();
    let (mut lock, failing) = switchable_lock(&mut w);
    let chain = w.company_chain();
    let cred = Credential::new(chain.as_bytes(), key(3)).unwrap();
    let (mut s, _, outcome, reply) = visit(&mut lock, tick(60), &cred, Command::Unlock, &mut w.rng);
    assert_eq!((reply, outcome.unrecorded), (Reply::Unlocked, None));

    failing.set(true);
    let mut msg = [0u8; 64];
    let n = s.command(Command::Lock, &mut msg).unwrap();
    let (outcome, reply) = exchange(&mut lock, tick(70), &mut s, &msg[..n]);
    assert_eq!((reply, outcome.action), (Reply::Locked, Action::Lock));
    assert_eq!(outcome.unrecorded, Some(Error::Storage));
    let seq = lock.state().receipts.seq;

    failing.set(false);
    lock.door_event(tick(80), DoorEvent::Closed).unwrap();
    let backlog = lock.state().backlog.as_slice();
    let [.., relocked, closed] = backlog else {
        panic!("{backlog:?}")
    };
    assert_eq!(
        (relocked.seq, relocked.event, relocked.time),
        (seq + 1, Event::Relocked, Some(T0 - secs(50) + secs(20)))
    );
    assert_eq!(relocked.who.map(|w| w.holder), Some(key(3).public_key()));
    assert_eq!((closed.seq, closed.event), (seq + 2, Event::DoorClosed));
    let n = s.command(Command::Hello, &mut msg).unwrap();
    assert_eq!(
        exchange(&mut lock, tick(90), &mut s, &msg[..n])
            .0
            .unrecorded,
        None
    );
}

/// Two relocks failing in a row keep the first one pending (with its time), and one receipt
/// records it when storage works again.
#[test]
fn relocks_failing_in_a_row_keep_the_first_pending() {
    let mut w = World::new();
    let (mut lock, failing) = switchable_lock(&mut w);
    let chain = w.company_chain();
    let cred = Credential::new(chain.as_bytes(), key(3)).unwrap();
    let (mut s, _, _, _) = visit(&mut lock, tick(60), &cred, Command::Hello, &mut w.rng);
    failing.set(true);
    let mut msg = [0u8; 64];
    for at in [tick(70), tick(75)] {
        let n = s.command(Command::Lock, &mut msg).unwrap();
        let (outcome, reply) = exchange(&mut lock, at, &mut s, &msg[..n]);
        assert_eq!(
            (reply, outcome.unrecorded),
            (Reply::Locked, Some(Error::Storage))
        );
    }
    let seq = lock.state().receipts.seq;
    failing.set(false);
    lock.door_event(tick(80), DoorEvent::Closed).unwrap();
    let events: Vec<_> = lock.state().backlog.as_slice()[..]
        .iter()
        .filter(|r| r.seq > seq)
        .map(|r| (r.event, r.time))
        .collect();
    assert_eq!(
        events,
        [
            (Event::Relocked, Some(T0 - secs(50) + secs(20))),
            (Event::DoorClosed, Some(T0 - secs(50) + secs(30)))
        ]
    );
}

/// A genuine ack from another history of the same lock key (a lock restored from older
/// storage, or a clone) names a receipt this lock holds with another hash: refused, nothing
/// dropped.
#[test]
fn an_ack_from_another_history_is_refused() {
    let mut w = World::new();
    let chain = w.company_chain();
    let cred = Credential::new(chain.as_bytes(), key(3)).unwrap();
    let mut history = |time: UnixTime| {
        let mut lock = install(&w);
        enable_audit(&mut lock, tick(40), 1, &mut w.rng);
        set_time(&mut lock, tick(50), time, &key(1), &mut w.rng);
        lock
    };
    let mut ours = history(T0 - secs(50));
    let mut other = history(T0 - secs(40));
    let (mut s, _, _, _) = visit(&mut other, tick(60), &cred, Command::Hello, &mut w.rng);
    let sealed = fetch_sealed(&mut other, &mut s, tick(61), 0);
    let mut log = ReceiptLog::new(other.public_key()).unwrap();
    log.ingest_sealed(&audit(), &sealed).unwrap();
    let ack = log.ack().unwrap().unwrap();
    assert_eq!((ack.seq, ours.state().receipts.seq), (3, 3));

    let (_, outcome, reply) = anonymous(&mut ours, tick(70), Command::Ack(ack), &mut w.rng);
    assert_eq!(reply, Reply::Denied(ReasonCode::NotAuthorized));
    assert_eq!(outcome.denied, Some(Error::ChainBroken));
    assert!(ours.state().backlog.as_slice().iter().any(|r| r.seq == 3));
    // Once ours has gone past it, the ack still names a receipt ours holds differently.
    assert!(ours.state().receipts.seq > 3);
    let (_, outcome, _) = anonymous(&mut ours, tick(71), Command::Ack(ack), &mut w.rng);
    assert_eq!(outcome.denied, Some(Error::ChainBroken));
    assert!(ours.state().backlog.as_slice().iter().any(|r| r.seq == 3));
    // An ack past ours's head comes from another history too.
    for at in (62..66).map(tick) {
        other.door_event(at, DoorEvent::Opened).unwrap();
    }
    let sealed = fetch_sealed(&mut other, &mut s, tick(66), 3);
    log.ingest_sealed(&audit(), &sealed).unwrap();
    let ahead = log.ack().unwrap().unwrap();
    assert!(ahead.seq > ours.state().receipts.seq);
    let (_, outcome, _) = anonymous(&mut ours, tick(72), Command::Ack(ahead), &mut w.rng);
    assert_eq!(outcome.denied, Some(Error::ChainBroken));
    assert!(ours.state().backlog.as_slice().iter().any(|r| r.seq == 3));
    let (_, _, reply) = anonymous(&mut other, tick(70), Command::Ack(ahead), &mut w.rng);
    assert_eq!(reply, Reply::Acked(ahead.seq));
}
