//! Lock and phone driven against each other over a virtual clock: unlock, relock, and every
//! replayed, reordered, duplicated, forged or out-of-policy message refused.

mod common;

use common::*;
use doorkey::Error;
use doorkey::config::{Change, ConfigUpdate, TimeAnchor};
use doorkey::credential::{Chain, CredentialId, Rights};
use doorkey::crypto::{Signer, labels, sign};
use doorkey::lock::{Action, DoorEvent, Lock, Storage};
use doorkey::phone::{Credential, PhoneSession, inspect_challenge};
use doorkey::session::{Command, DEFAULT_CHALLENGE_LIFETIME, ReasonCode, Reply};
use doorkey::time::{Seconds, Tick, UnixTime};

/// A lock whose clock reads T0 at tick 100 (anchored at tick 50), and the courier's one-off
/// chain.
fn setup() -> (World, Lock<Mem>, Chain) {
    let mut w = World::new();
    let mut lock = install(&w);
    let owner = key(1);
    assert_eq!(
        set_time(&mut lock, tick(50), T0 - secs(50), &owner, &mut w.rng),
        Reply::TimeSet(T0 - secs(50))
    );
    let chain = w.courier_chain();
    (w, lock, chain)
}

fn tick_at(utc: UnixTime) -> Tick {
    tick(utc.as_secs() + 100 - T0.as_secs())
}

#[test]
fn courier_unlocks_relocks_and_closes_in_one_session() {
    let (mut w, mut lock, chain) = setup();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let t = tick_at(T0 + secs(30));
    let (mut s, _, outcome, reply) = visit(&mut lock, t, &cred, Command::Unlock, &mut w.rng);
    assert_eq!(
        (outcome.action, reply, outcome.denied),
        (Action::Unlock, Reply::Unlocked, None)
    );
    let mut msg = [0u8; 64];
    let n = s.command(Command::Lock, &mut msg).unwrap();
    let (outcome, reply) = exchange(&mut lock, t + secs(40), &mut s, &msg[..n]);
    assert_eq!((outcome.action, reply), (Action::Lock, Reply::Locked));
    let n = s.command(Command::Close, &mut msg).unwrap();
    assert_eq!(
        exchange(&mut lock, t + secs(41), &mut s, &msg[..n]).1,
        Reply::Closed
    );
    // The session is gone: even a well-formed next command is refused.
    let n = s.command(Command::Lock, &mut msg).unwrap();
    let mut out = [0u8; 128];
    assert_eq!(
        lock.handle(t + secs(42), &mut msg[..n], &mut out),
        Err(Error::UnexpectedMessage)
    );
}

#[test]
fn a_one_off_grant_opens_once() {
    let (mut w, mut lock, chain) = setup();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let t = tick_at(T0 + secs(30));
    assert_eq!(
        visit(&mut lock, t, &cred, Command::Unlock, &mut w.rng).3,
        Reply::Unlocked
    );
    let (_, _, outcome, reply) = visit(&mut lock, t + secs(5), &cred, Command::Unlock, &mut w.rng);
    assert_eq!(reply, Reply::Denied(ReasonCode::UsedUp));
    assert_eq!(
        (outcome.action, outcome.denied),
        (Action::None, Some(Error::UsedUp))
    );
    // Unlock again inside the same session counts as a second use too.
    let mut w2 = World::new();
    let mut lock2 = install(&w2);
    set_time(&mut lock2, tick(100), T0, &key(1), &mut w2.rng);
    let chain2 = w2.courier_chain();
    let cred2 = Credential::new(chain2.as_bytes(), key(4)).unwrap();
    let (mut s, _, _, reply) = visit(&mut lock2, t, &cred2, Command::Unlock, &mut w2.rng);
    assert_eq!(reply, Reply::Unlocked);
    let mut msg = [0u8; 64];
    let n = s.command(Command::Unlock, &mut msg).unwrap();
    assert_eq!(
        exchange(&mut lock2, t + secs(1), &mut s, &msg[..n]).1,
        Reply::Denied(ReasonCode::UsedUp)
    );
}

#[test]
fn an_n_use_grant_opens_n_times() {
    let (mut w, mut lock, _) = setup();
    let company = w.company_chain();
    let mut link = w.courier_link();
    link.uses = Some(3);
    let chain = company.extend(&w.company, &link).unwrap();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let t = tick_at(T0 + secs(30));
    for i in 0..3 {
        assert_eq!(
            visit(&mut lock, t + secs(i), &cred, Command::Unlock, &mut w.rng).3,
            Reply::Unlocked,
            "use {i}"
        );
    }
    assert_eq!(
        visit(&mut lock, t + secs(3), &cred, Command::Unlock, &mut w.rng).3,
        Reply::Denied(ReasonCode::UsedUp)
    );
}

#[test]
fn a_recorded_open_or_command_is_refused_when_replayed() {
    let (mut w, mut lock, chain) = setup();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let t = tick_at(T0 + secs(30));
    let (mut s, open, _, _) = visit(&mut lock, t, &cred, Command::Hello, &mut w.rng);
    let mut out = [0u8; 512];
    assert_eq!(
        lock.handle(t + secs(1), &mut open.clone(), &mut out),
        Err(Error::Replay)
    );

    let mut lock_cmd = [0u8; 64];
    let n = s.command(Command::Lock, &mut lock_cmd).unwrap();
    let recorded = lock_cmd[..n].to_vec();
    assert_eq!(
        exchange(&mut lock, t + secs(2), &mut s, &recorded).0.action,
        Action::Lock
    );
    // Duplicate.
    assert_eq!(
        lock.handle(t + secs(3), &mut recorded.clone(), &mut out),
        Err(Error::Replay)
    );
    // Reordered: counter 3 delivered, then counter 2.
    let mut c2 = [0u8; 64];
    let n2 = s.command(Command::Unlock, &mut c2).unwrap();
    let mut c3 = [0u8; 64];
    let n3 = s.command(Command::Lock, &mut c3).unwrap();
    assert_eq!(
        exchange(&mut lock, t + secs(4), &mut s, &c3[..n3]).1,
        Reply::Locked
    );
    assert_eq!(
        lock.handle(t + secs(5), &mut c2[..n2], &mut out),
        Err(Error::Replay)
    );
    // After a reboot nothing from before is answerable.
    let storage = lock.into_storage();
    let mut lock = Lock::boot(key(2), storage).unwrap();
    assert_eq!(
        lock.handle(t + secs(6), &mut open.clone(), &mut out),
        Err(Error::Replay)
    );
    assert_eq!(
        lock.handle(t + secs(6), &mut recorded.clone(), &mut out),
        Err(Error::UnexpectedMessage)
    );
}

#[test]
fn challenges_expire_and_only_the_latest_few_are_outstanding() {
    let (mut w, mut lock, chain) = setup();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let t = tick_at(T0 + secs(30));
    let life = secs(u64::from(DEFAULT_CHALLENGE_LIFETIME));
    let mut out = [0u8; 512];
    for (delay, accepted) in [(life, true), (life + secs(1), false)] {
        let mut ch = [0u8; 256];
        let n = lock.challenge(t, &mut w.rng, &mut ch).unwrap();
        let mut open = [0u8; 2048];
        let (_, m) =
            PhoneSession::open(&ch[..n], &cred, Command::Hello, &mut w.rng, &mut open).unwrap();
        let r = lock.handle(t + delay, &mut open[..m], &mut out);
        assert_eq!(r.is_ok(), accepted, "answered after {delay:?}: {r:?}");
        if !accepted {
            assert_eq!(r, Err(Error::Replay));
        }
    }
    // Five challenges: the oldest is evicted, the other four still answer.
    let mut opens = Vec::new();
    for i in 0..5 {
        let mut ch = [0u8; 256];
        let n = lock.challenge(t + secs(i), &mut w.rng, &mut ch).unwrap();
        let mut open = [0u8; 2048];
        let (_, m) =
            PhoneSession::open(&ch[..n], &cred, Command::Hello, &mut w.rng, &mut open).unwrap();
        opens.push(open[..m].to_vec());
    }
    assert_eq!(
        lock.handle(t + secs(5), &mut opens[0], &mut out),
        Err(Error::Replay)
    );
    for open in &mut opens[1..] {
        assert!(lock.handle(t + secs(5), open, &mut out).is_ok());
    }
}

#[test]
fn every_bit_flip_of_an_open_or_command_is_refused() {
    let (mut w, mut lock, chain) = setup();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let t = tick_at(T0 + secs(30));
    let mut out = [0u8; 512];
    let mut open = [0u8; 2048];
    let mut bits = 0;
    let mut bit = 0;
    loop {
        // A fresh challenge for every flip, so each one meets a lock that would accept the
        // genuine message.
        let mut ch = [0u8; 256];
        let n = lock.challenge(t, &mut w.rng, &mut ch).unwrap();
        let (_, m) =
            PhoneSession::open(&ch[..n], &cred, Command::Unlock, &mut w.rng, &mut open).unwrap();
        bits = bits.max(m * 8);
        if bit >= bits {
            break;
        }
        open[bit / 8] ^= 1 << (bit % 8);
        let r = lock.handle(t, &mut open[..m], &mut out);
        assert!(
            !matches!(r, Ok(o) if o.action != Action::None),
            "bit {bit}: {r:?}"
        );
        bit += 1;
    }
    // The one-off grant is still unused: no flipped open consumed it.
    assert_eq!(
        visit(&mut lock, t, &cred, Command::Unlock, &mut w.rng).3,
        Reply::Unlocked
    );

    let (mut s, _, _, _) = visit(&mut lock, t, &cred, Command::Hello, &mut w.rng);
    let mut msg = [0u8; 64];
    let n = s.command(Command::Lock, &mut msg).unwrap();
    for bit in 0..n * 8 {
        let mut bad = msg[..n].to_vec();
        bad[bit / 8] ^= 1 << (bit % 8);
        assert!(
            lock.handle(t + secs(1), &mut bad, &mut out).is_err(),
            "command bit {bit}"
        );
    }
    assert_eq!(
        exchange(&mut lock, t + secs(1), &mut s, &msg[..n]).1,
        Reply::Locked
    );
}

#[test]
fn a_chain_copied_to_another_phone_does_not_open() {
    let (mut w, mut lock, chain) = setup();
    let thief = key(77);
    assert_eq!(
        Credential::new(chain.as_bytes(), key(77)).err(),
        Some(Error::Misuse)
    );
    // Build the thief's open by hand: the genuine chain, signed with the thief's own key.
    let t = tick_at(T0 + secs(30));
    let mut ch = [0u8; 256];
    let n = lock.challenge(t, &mut w.rng, &mut ch).unwrap();
    // A credential for the thief's key over the same lock, only to get the session set up,
    // then swap in the stolen chain: the lock must refuse because the chain's holder key is
    // not the key that signed the transcript.
    let _ = &thief;
    let stolen = StolenCredential {
        chain: chain.as_bytes().to_vec(),
        key: key(77),
    };
    let mut open = [0u8; 2048];
    let m = stolen.open(&ch[..n], &mut w.rng, &mut open);
    let mut out = [0u8; 512];
    let outcome = lock.handle(t, &mut open[..m], &mut out).unwrap();
    assert_eq!(
        (outcome.action, outcome.denied),
        (Action::None, Some(Error::Crypto))
    );
}

/// Encodes an open exactly as docs/PROTOCOL.md describes, with any key signing.
struct StolenCredential {
    chain: Vec<u8>,
    key: doorkey::crypto::SecretKey,
}

impl StolenCredential {
    fn open(&self, challenge: &[u8], rng: &mut chacha20::ChaCha20Rng, out: &mut [u8]) -> usize {
        use doorkey::crypto::channel::{SessionKeys, agree};
        use doorkey::session::{Challenge, Proof, challenge_digest, transcript};
        let c = Challenge::decode(challenge).unwrap();
        let secret = x25519_dalek::EphemeralSecret::random_from_rng(rng);
        let mine = x25519_dalek::PublicKey::from(&secret).to_bytes();
        out[0] = 1;
        out[1] = 0x11;
        out[2..18].copy_from_slice(&c.body.nonce);
        out[18..50].copy_from_slice(&mine);
        let th = transcript(&challenge_digest(challenge), &out[..50]);
        let keys = SessionKeys::derive(agree(secret, &c.body.ephemeral).unwrap(), &th);
        let command = postcard::to_allocvec(&Command::Unlock).unwrap();
        let sig = sign(&self.key, labels::HOLDER, &[&th, &command]).unwrap();
        let proof = postcard::to_allocvec(&Some(Proof {
            chain: &self.chain,
            signature: sig.0,
        }))
        .unwrap();
        let mut payload = command;
        payload.extend_from_slice(&proof);
        let len = payload.len();
        let (clear, rest) = out.split_at_mut(50);
        rest[..len].copy_from_slice(&payload);
        50 + keys.phone_to_lock.seal(0, clear, rest, len).unwrap()
    }
}

#[test]
fn a_fake_lock_learns_nothing_identifying() {
    let (mut w, mut lock, chain) = setup();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    // A fake lock with its own key: the phone refuses before writing anything.
    let mut fake = Lock::install(key(99), key(1).public_key(), Mem::new()).unwrap();
    let mut ch = [0u8; 256];
    let n = fake.challenge(tick(0), &mut w.rng, &mut ch).unwrap();
    let mut open = [0u8; 2048];
    assert_eq!(
        PhoneSession::open(&ch[..n], &cred, Command::Unlock, &mut w.rng, &mut open).err(),
        Some(Error::WrongLock)
    );
    assert!(open.iter().all(|&b| b == 0), "nothing was written");
    // A fake lock replaying a genuine challenge gets an open, but it is sealed to the real
    // lock's ephemeral key: neither the chain nor the holder's key appears in it.
    let n = lock.challenge(tick_at(T0), &mut w.rng, &mut ch).unwrap();
    // The signature over a challenge with a substituted key fails.
    let mut forged = ch[..n].to_vec();
    forged[40] ^= 1;
    assert!(PhoneSession::open(&forged, &cred, Command::Unlock, &mut w.rng, &mut open).is_err());
    let (_, m) =
        PhoneSession::open(&ch[..n], &cred, Command::Unlock, &mut w.rng, &mut open).unwrap();
    let sent = &open[..m];
    let holder = key(4).public_key().0;
    assert!(!sent.windows(32).any(|win| win == holder));
    assert!(
        !sent
            .windows(16)
            .any(|win| chain.as_bytes().windows(16).any(|c| c == win))
    );
}

#[test]
fn after_a_reboot_time_bounded_grants_wait_for_a_fresh_anchor() {
    let (mut w, lock, chain) = setup();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let mut lock = Lock::boot(key(2), lock.into_storage()).unwrap();
    assert_eq!(lock.trusted_now(tick(5)), None);
    let mut ch = [0u8; 256];
    let n = lock.challenge(tick(5), &mut w.rng, &mut ch).unwrap();
    assert!(
        !inspect_challenge(&ch[..n], &lock.id())
            .unwrap()
            .clock_trusted
    );
    let (_, _, outcome, reply) = visit(&mut lock, tick(5), &cred, Command::Unlock, &mut w.rng);
    assert_eq!(
        (reply, outcome.denied),
        (
            Reply::Denied(ReasonCode::NeedTime),
            Some(Error::ClockUntrusted)
        )
    );
    // An anchor older than the high-water mark is refused: the clock never goes back.
    assert_eq!(
        set_time(&mut lock, tick(6), T0 - secs(51), &key(1), &mut w.rng),
        Reply::Denied(ReasonCode::Refused)
    );
    // Only owners (and enrolled time keys) may set the time.
    assert_eq!(
        set_time(&mut lock, tick(6), T0 + secs(20), &key(5), &mut w.rng),
        Reply::Denied(ReasonCode::NotAuthorized)
    );
    assert_eq!(
        set_time(&mut lock, tick(7), T0 + secs(20), &key(1), &mut w.rng),
        Reply::TimeSet(T0 + secs(20))
    );
    assert_eq!(lock.trusted_now(tick(17)), Some(T0 + secs(30)));
    assert_eq!(
        visit(&mut lock, tick(17), &cred, Command::Unlock, &mut w.rng).3,
        Reply::Unlocked
    );
}

#[test]
fn an_anchor_for_another_challenge_or_lock_is_refused() {
    let (mut w, mut lock, _) = setup();
    let owner = key(1);
    let mut ch = [0u8; 256];
    let n = lock.challenge(tick(200), &mut w.rng, &mut ch).unwrap();
    let other_nonce = inspect_challenge(&ch[..n], &lock.id()).unwrap().nonce;
    let n = lock.challenge(tick(200), &mut w.rng, &mut ch).unwrap();
    let info = inspect_challenge(&ch[..n], &lock.id()).unwrap();
    for (nonce, lock_id) in [
        (other_nonce, lock.id()),
        (info.nonce, doorkey::credential::LockId([1; 16])),
    ] {
        let mut a = [0u8; 256];
        let k = TimeAnchor {
            lock: lock_id,
            nonce,
            time: T0 + secs(500),
            signer: owner.public_key(),
        }
        .sign(&owner, &mut a)
        .unwrap();
        let mut open = [0u8; 512];
        let (mut s, m) = PhoneSession::open_anonymous(
            &ch[..n],
            &lock.id(),
            Command::Hello,
            &mut w.rng,
            &mut open,
        )
        .unwrap();
        exchange(&mut lock, tick(200), &mut s, &open[..m]);
        let mut msg = [0u8; 512];
        let len = s.command(Command::Time(&a[..k]), &mut msg).unwrap();
        assert_eq!(
            exchange(&mut lock, tick(201), &mut s, &msg[..len]).1,
            Reply::Denied(ReasonCode::NotAuthorized)
        );
        let n2 = lock.challenge(tick(200), &mut w.rng, &mut ch).unwrap();
        assert_eq!(n2, n);
    }
}

fn config(
    lock: &mut Lock<Mem>,
    w: &mut World,
    tick: Tick,
    version: u64,
    change: Change,
) -> Reply<'static> {
    let update = owner_update(lock.id(), version, change);
    anonymous(lock, tick, Command::Config(&update), &mut w.rng).2
}

#[test]
fn owner_signed_updates_apply_once_and_in_order() {
    let (mut w, mut lock, chain) = setup();
    let t = tick_at(T0 + secs(30));
    let leaf = chain.leaf().unwrap();
    assert_eq!(
        config(
            &mut lock,
            &mut w,
            t,
            1,
            Change::RevokeId {
                id: leaf.id,
                until: Some(T0 + secs(600))
            }
        ),
        Reply::ConfigApplied(1)
    );
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    assert_eq!(
        visit(&mut lock, t, &cred, Command::Unlock, &mut w.rng).3,
        Reply::Denied(ReasonCode::NotAuthorized)
    );
    // Replayed and older updates are refused.
    assert_eq!(
        config(&mut lock, &mut w, t, 1, Change::SetEpoch(5)),
        Reply::Denied(ReasonCode::Refused)
    );
    assert_eq!(
        config(&mut lock, &mut w, t, 2, Change::SetEpoch(1)),
        Reply::ConfigApplied(2)
    );
    assert_eq!(lock.state().enrolment.config_version(), 2);
    // The epoch bump revokes everything issued before it.
    let fresh = w.courier_chain();
    let cred = Credential::new(fresh.as_bytes(), key(4)).unwrap();
    let (_, _, o, r) = visit(&mut lock, t, &cred, Command::Unlock, &mut w.rng);
    assert_eq!(
        (r, o.denied),
        (
            Reply::Denied(ReasonCode::NotAuthorized),
            Some(Error::Revoked)
        )
    );
    // Revoking a delegate key cuts off everything it issued.
    assert_eq!(
        config(
            &mut lock,
            &mut w,
            t,
            3,
            Change::RevokeKey(key(3).public_key())
        ),
        Reply::ConfigApplied(3)
    );
    assert!(
        lock.state()
            .revoked_keys
            .as_slice()
            .iter()
            .any(|r| r.key == key(3).public_key() && r.until.is_none())
    );
    // A new owner, a time key, a challenge lifetime, a time zone.
    assert_eq!(
        config(
            &mut lock,
            &mut w,
            t,
            4,
            Change::AddOwner(key(8).public_key())
        ),
        Reply::ConfigApplied(4)
    );
    assert_eq!(lock.state().enrolment.owners().len(), 2);
    assert_eq!(
        config(
            &mut lock,
            &mut w,
            t,
            5,
            Change::RemoveOwner(key(8).public_key())
        ),
        Reply::ConfigApplied(5)
    );
    assert_eq!(
        config(
            &mut lock,
            &mut w,
            t,
            6,
            Change::RemoveOwner(key(1).public_key())
        ),
        Reply::Denied(ReasonCode::NotAuthorized)
    );
    assert_eq!(
        config(
            &mut lock,
            &mut w,
            t,
            6,
            Change::AddTimeKey(key(9).public_key())
        ),
        Reply::ConfigApplied(6)
    );
    assert_eq!(
        set_time(&mut lock, t + secs(1), T0 + secs(40), &key(9), &mut w.rng),
        Reply::TimeSet(T0 + secs(40))
    );
    assert_eq!(
        config(&mut lock, &mut w, t, 7, Change::SetChallengeLifetime(0)),
        Reply::Denied(ReasonCode::BadRequest)
    );
    assert_eq!(
        config(&mut lock, &mut w, t, 7, Change::SetChallengeLifetime(30)),
        Reply::ConfigApplied(7)
    );
    assert_eq!(lock.state().enrolment.challenge_lifetime(), secs(30));
    let tz = doorkey::time::TzRule::parse("EST5EDT,M3.2.0,M11.1.0").unwrap();
    assert_eq!(
        config(&mut lock, &mut w, t, 8, Change::SetTimeZone(tz)),
        Reply::ConfigApplied(8)
    );
    assert_eq!(lock.state().enrolment.time_zone(), tz);
    // Everything survives a reboot, and the reboot itself is on the record.
    let state = lock.state().clone();
    let lock = Lock::boot(key(2), lock.into_storage()).unwrap();
    let after = lock.state();
    assert_eq!(after.enrolment, state.enrolment);
    assert_eq!(
        (after.revoked_ids, after.revoked_keys, after.uses),
        (state.revoked_ids, state.revoked_keys, state.uses)
    );
    assert_eq!(after.high_water, state.high_water);
    assert_eq!(after.receipts.seq, state.receipts.seq + 1);
    assert_eq!(
        after.backlog.as_slice().last().unwrap().event,
        doorkey::receipt::Event::Boot
    );
}

#[test]
fn an_update_signed_by_a_non_owner_is_refused() {
    let (mut w, mut lock, _) = setup();
    let intruder = key(3);
    let mut buf = [0u8; 256];
    let n = ConfigUpdate {
        lock: lock.id(),
        version: 1,
        signer: intruder.public_key(),
        change: Change::AddOwner(intruder.public_key()),
    }
    .sign(&intruder, &mut buf)
    .unwrap();
    assert_eq!(
        anonymous(&mut lock, tick(200), Command::Config(&buf[..n]), &mut w.rng).2,
        Reply::Denied(ReasonCode::NotAuthorized)
    );
    // Claiming to be the owner without the owner's key fails the signature.
    let n = ConfigUpdate {
        lock: lock.id(),
        version: 1,
        signer: key(1).public_key(),
        change: Change::AddOwner(intruder.public_key()),
    }
    .sign(&intruder, &mut buf)
    .unwrap();
    let (_, o, r) = anonymous(&mut lock, tick(200), Command::Config(&buf[..n]), &mut w.rng);
    assert_eq!(
        (r, o.denied),
        (
            Reply::Denied(ReasonCode::NotAuthorized),
            Some(Error::Crypto)
        )
    );
    assert_eq!(lock.state().enrolment.owners().len(), 1);
}

#[test]
fn policy_denials_at_and_beyond_each_boundary() {
    let (mut w, mut lock, chain) = setup();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let cases = [(T0 - secs(1), Some(Error::NotYetValid))];
    for (utc, denied) in cases {
        let (_, _, o, r) = visit(&mut lock, tick_at(utc), &cred, Command::Unlock, &mut w.rng);
        assert_eq!(
            (r, o.denied),
            (Reply::Denied(ReasonCode::NotNow), denied),
            "at {utc}"
        );
    }
    // Without the unlock right.
    let company = w.company_chain();
    let mut link = w.courier_link();
    link.rights = Rights::LOCK;
    let lock_only = company.extend(&w.company, &link).unwrap();
    let cred = Credential::new(lock_only.as_bytes(), key(4)).unwrap();
    let (mut s, _, o, r) = visit(
        &mut lock,
        tick_at(T0 + secs(10)),
        &cred,
        Command::Unlock,
        &mut w.rng,
    );
    assert_eq!(
        (r, o.denied),
        (
            Reply::Denied(ReasonCode::NotAuthorized),
            Some(Error::NotPermitted)
        )
    );
    let mut msg = [0u8; 64];
    let n = s.command(Command::Lock, &mut msg).unwrap();
    assert_eq!(
        exchange(&mut lock, tick_at(T0 + secs(11)), &mut s, &msg[..n]).1,
        Reply::Locked
    );
    // Without any credential, nothing but self-authenticating messages.
    let (_, o, r) = anonymous(
        &mut lock,
        tick_at(T0 + secs(12)),
        Command::Unlock,
        &mut w.rng,
    );
    assert_eq!(
        (r, o.action),
        (Reply::Denied(ReasonCode::NotAuthorized), Action::None)
    );
    // Expiry last: a refusal at T0 + 600 is committed with its time, and the lock's clock
    // never reads earlier than that again.
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let (_, _, o, r) = visit(
        &mut lock,
        tick_at(T0 + secs(600)),
        &cred,
        Command::Unlock,
        &mut w.rng,
    );
    assert_eq!(
        (r, o.denied),
        (Reply::Denied(ReasonCode::NotNow), Some(Error::Expired))
    );
}

#[test]
fn the_lock_fails_closed_when_it_cannot_record_a_use() {
    let (mut w, mut lock, _) = setup();
    let company = w.company_chain();
    let t = tick_at(T0 + secs(30));
    // Fill the use table with one-off grants, then one more is refused: storage full.
    for i in 0..doorkey::lock::MAX_USE_ENTRIES {
        let link = w.courier_link();
        let chain = company.extend(&w.company, &link).unwrap();
        let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
        assert_eq!(
            visit(&mut lock, t, &cred, Command::Unlock, &mut w.rng).3,
            Reply::Unlocked,
            "grant {i}"
        );
    }
    let link = w.courier_link();
    let chain = company.extend(&w.company, &link).unwrap();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let (_, _, o, r) = visit(&mut lock, t, &cred, Command::Unlock, &mut w.rng);
    assert_eq!(
        (r, o.action, o.denied),
        (
            Reply::Denied(ReasonCode::Unavailable),
            Action::None,
            Some(Error::StorageFull)
        )
    );
    // Once those grants have expired their entries can go, and a new grant fits.
    let mut link = w.courier_link();
    link.not_before = T0 + secs(700);
    let later = company.extend(&w.company, &link).unwrap();
    let cred = Credential::new(later.as_bytes(), key(4)).unwrap();
    assert_eq!(
        visit(
            &mut lock,
            tick_at(T0 + secs(701)),
            &cred,
            Command::Unlock,
            &mut w.rng
        )
        .3,
        Reply::Unlocked
    );
    assert_eq!(lock.state().uses.len(), 1);
}

/// Storage that accepts `commits` more commits, then refuses every one; its loads fail too
/// from then on unless `reload`.
struct Faulty {
    store: Mem,
    commits: usize,
    reload: bool,
}

impl Faulty {
    fn new(store: Mem, commits: usize, reload: bool) -> Faulty {
        Faulty {
            store,
            commits,
            reload,
        }
    }
}

impl Storage for Faulty {
    fn load(&mut self, buf: &mut [u8]) -> Result<Option<usize>, Error> {
        if self.commits == 0 && !self.reload {
            return Err(Error::Storage);
        }
        self.store.load(buf)
    }
    fn commit(&mut self, state: &[u8]) -> Result<(), Error> {
        if self.commits == 0 {
            return Err(Error::Storage);
        }
        self.commits -= 1;
        self.store.commit(state)
    }
    fn rolled_back(&self) -> bool {
        self.store.rolled_back()
    }
}

#[test]
fn the_lock_persists_before_it_actuates() {
    let (mut w, lock, chain) = setup();
    let mut lock = Lock::boot(key(2), Faulty::new(lock.into_storage(), 1, true)).unwrap();
    // Set time by hand-carried anchor is itself a commit: it fails, so the clock stays untrusted.
    assert_eq!(
        set_time(&mut lock, tick(1), T0 + secs(5), &key(1), &mut w.rng),
        Reply::Denied(ReasonCode::Unavailable)
    );
    assert_eq!(lock.trusted_now(tick(1)), None);
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let (_, _, o, _) = visit(&mut lock, tick(2), &cred, Command::Unlock, &mut w.rng);
    assert_eq!(o.action, Action::None);
}

#[test]
fn garbage_and_foreign_versions_are_refused_without_reply() {
    let (_, mut lock, _) = setup();
    let mut out = [0u8; 256];
    for input in [
        &[][..],
        &[1][..],
        &[2, 0x11, 0, 0][..],
        &[1, 0x7f][..],
        &[1, 0x10, 1, 2][..],
        &[1, 0x11, 1, 2, 3][..],
        &[1, 0x12, 0, 0, 0, 1, 9][..],
    ] {
        let mut buf = input.to_vec();
        let r = lock.handle(tick(200), &mut buf, &mut out);
        assert!(r.is_err(), "{input:?}: {r:?}");
    }
    let mut v2 = vec![2u8, 0x11];
    v2.extend_from_slice(&[0; 80]);
    assert_eq!(
        lock.handle(tick(200), &mut v2, &mut out),
        Err(Error::UnsupportedVersion)
    );
}

#[test]
fn an_anchor_replayed_in_its_own_session_cannot_wind_the_clock_back() {
    let (mut w, mut lock, _) = setup();
    let owner = key(1);
    let mut ch = [0u8; 256];
    let n = lock.challenge(tick(200), &mut w.rng, &mut ch).unwrap();
    let info = inspect_challenge(&ch[..n], &lock.id()).unwrap();
    let mut a = [0u8; 256];
    let k = TimeAnchor {
        lock: lock.id(),
        nonce: info.nonce,
        time: T0 + secs(100),
        signer: owner.public_key(),
    }
    .sign(&owner, &mut a)
    .unwrap();
    let mut open = [0u8; 512];
    let (mut s, m) = PhoneSession::open_anonymous(
        &ch[..n],
        &lock.id(),
        Command::Time(&a[..k]),
        &mut w.rng,
        &mut open,
    )
    .unwrap();
    assert_eq!(
        exchange(&mut lock, tick(200), &mut s, &open[..m]).1,
        Reply::TimeSet(T0 + secs(100))
    );
    let mut msg = [0u8; 512];
    let len = s.command(Command::Time(&a[..k]), &mut msg).unwrap();
    let (o, r) = exchange(&mut lock, tick(300), &mut s, &msg[..len]);
    assert_eq!(
        (r, o.denied),
        (
            Reply::Denied(ReasonCode::NotAuthorized),
            Some(Error::Replay)
        )
    );
    assert_eq!(lock.trusted_now(tick(300)), Some(T0 + secs(200)));
}

#[test]
fn a_relock_happens_even_when_its_receipt_cannot_be_stored() {
    let (mut w, lock, chain) = setup();
    let mut lock = Lock::boot(key(2), Faulty::new(lock.into_storage(), 3, true)).unwrap();
    // Commits left after boot: the anchor and the unlock; then storage fails.
    assert_eq!(
        set_time(&mut lock, tick(10), T0, &key(1), &mut w.rng),
        Reply::TimeSet(T0)
    );
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let (mut s, _, o, _) = visit(&mut lock, tick(20), &cred, Command::Unlock, &mut w.rng);
    assert_eq!(o.action, Action::Unlock);
    let mut msg = [0u8; 64];
    let n = s.command(Command::Lock, &mut msg).unwrap();
    let (o, r) = exchange(&mut lock, tick(30), &mut s, &msg[..n]);
    assert_eq!((o.action, r), (Action::Lock, Reply::Locked));
}

#[test]
fn a_permanent_use_limited_grant_works_without_a_trusted_clock() {
    let mut w = World::new();
    let mut lock = install(&w);
    let mut link = w.company_link();
    link.not_before = UnixTime::EPOCH;
    link.lifetime = None;
    link.depth = 0;
    link.uses = Some(2);
    link.subject = key(4).public_key().into();
    let chain = Chain::root(&w.owner, &link).unwrap();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    assert_eq!(lock.trusted_now(tick(1)), None);
    assert_eq!(
        visit(&mut lock, tick(1), &cred, Command::Unlock, &mut w.rng).3,
        Reply::Unlocked
    );
    assert_eq!(
        visit(&mut lock, tick(2), &cred, Command::Unlock, &mut w.rng).3,
        Reply::Unlocked
    );
    assert_eq!(
        visit(&mut lock, tick(3), &cred, Command::Unlock, &mut w.rng).3,
        Reply::Denied(ReasonCode::UsedUp)
    );
}

#[test]
fn a_lock_that_cannot_reload_its_committed_state_stops_until_reboot() {
    let (mut w, lock, chain) = setup();
    let mut lock = Lock::boot(key(2), Faulty::new(lock.into_storage(), 2, false)).unwrap();
    assert_eq!(
        set_time(&mut lock, tick(10), T0, &key(1), &mut w.rng),
        Reply::TimeSet(T0)
    );
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let (_, _, o, r) = visit(&mut lock, tick(20), &cred, Command::Unlock, &mut w.rng);
    assert_eq!(
        (o.action, r),
        (Action::None, Reply::Denied(ReasonCode::Unavailable))
    );
    let mut ch = [0u8; 256];
    assert_eq!(
        lock.challenge(tick(21), &mut w.rng, &mut ch),
        Err(Error::Storage)
    );
    assert_eq!(
        lock.door_event(tick(22), DoorEvent::Opened),
        Err(Error::Storage)
    );
}

/// In an open session, sends `command` at `tick` and returns the reply and the detailed
/// refusal.
fn in_session(
    lock: &mut Lock<Mem>,
    tick: Tick,
    s: &mut PhoneSession,
    command: Command<'_>,
) -> (Reply<'static>, Option<Error>) {
    let mut msg = [0u8; 512];
    let n = s.command(command, &mut msg).unwrap();
    let (o, r) = exchange(lock, tick, s, &msg[..n]);
    (r, o.denied)
}

/// A root link from the owner (key 1) straight to the holder (key 4) for `w`'s lock.
fn direct_link(w: &mut World) -> doorkey::credential::Link {
    let mut link = w.company_link();
    link.subject = key(4).public_key().into();
    link.depth = 0;
    link.rights = Rights::UNLOCK.union(Rights::LOCK);
    link
}

#[test]
fn a_schedule_window_that_closes_during_a_session_stops_its_unlocks() {
    use doorkey::time::{Schedule, WeeklyWindow};
    let (mut w, mut lock, _) = setup();
    // Mondays 12:00 to 13:00 UTC, no lifetime: T0 is a Monday, 12:00.
    let mut link = direct_link(&mut w);
    link.not_before = UnixTime::EPOCH;
    link.lifetime = None;
    link.schedule = Some(
        Schedule::new(
            &[WeeklyWindow::new(WeeklyWindow::MONDAY, 720, 60).unwrap()],
            &[],
        )
        .unwrap(),
    );
    let chain = Chain::root(&key(1), &link).unwrap();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let opened = tick_at(T0 + secs(3590));
    let (mut s, _, _, reply) = visit(&mut lock, opened, &cred, Command::Hello, &mut w.rng);
    assert_eq!(reply, Reply::Ready);
    assert_eq!(
        in_session(&mut lock, opened + secs(5), &mut s, Command::Unlock),
        (Reply::Unlocked, None)
    );
    // 13:01:40, 110 seconds into the session: the window has closed.
    assert_eq!(
        in_session(&mut lock, tick_at(T0 + secs(3700)), &mut s, Command::Unlock),
        (
            Reply::Denied(ReasonCode::NotNow),
            Some(Error::OutsideSchedule)
        )
    );
}

#[test]
fn a_revocation_applied_during_a_session_stops_its_unlocks() {
    let (mut w, mut lock, _) = setup();
    let company = w.company_chain();
    let mut link = w.courier_link();
    link.uses = None;
    let chain = company.extend(&w.company, &link).unwrap();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let t = tick_at(T0 + secs(30));
    let changes = [
        // Unrelated revocations leave the session's grant alone.
        (
            Change::RevokeId {
                id: CredentialId([9; 16]),
                until: None,
            },
            None,
        ),
        (Change::RevokeKey(key(9).public_key()), None),
        (
            Change::RevokeId {
                id: link.id,
                until: None,
            },
            Some(Error::Revoked),
        ),
        (Change::RevokeKey(key(3).public_key()), Some(Error::Revoked)),
        (Change::SetEpoch(1), Some(Error::Revoked)),
    ];
    for (version, (change, denied)) in (1..).zip(changes) {
        let mut lock = Lock::boot(key(2), lock.storage().clone()).unwrap();
        set_time(
            &mut lock,
            tick_at(T0 + secs(29)),
            T0 + secs(29),
            &key(1),
            &mut w.rng,
        );
        let (mut s, _, _, reply) = visit(&mut lock, t, &cred, Command::Hello, &mut w.rng);
        assert_eq!(reply, Reply::Ready);
        let update = owner_update(lock.id(), version, change);
        assert_eq!(
            in_session(&mut lock, t + secs(1), &mut s, Command::Config(&update)),
            (Reply::ConfigApplied(version), None)
        );
        let expected = match denied {
            None => Reply::Unlocked,
            Some(_) => Reply::Denied(ReasonCode::NotAuthorized),
        };
        assert_eq!(
            in_session(&mut lock, t + secs(2), &mut s, Command::Unlock),
            (expected, denied),
            "{change:?}"
        );
    }
    // An owner removed during the session no longer vouches for the chains it signed.
    let owner2 = key(8);
    let mut link = direct_link(&mut w);
    link.subject = key(4).public_key().into();
    let chain = Chain::root(&owner2, &link).unwrap();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let add = owner_update(lock.id(), 1, Change::AddOwner(owner2.public_key()));
    assert_eq!(
        anonymous(&mut lock, t, Command::Config(&add), &mut w.rng).2,
        Reply::ConfigApplied(1)
    );
    let (mut s, _, _, reply) = visit(&mut lock, t, &cred, Command::Hello, &mut w.rng);
    assert_eq!(reply, Reply::Ready);
    assert_eq!(
        in_session(&mut lock, t + secs(1), &mut s, Command::Unlock),
        (Reply::Unlocked, None)
    );
    let remove = owner_update(lock.id(), 2, Change::RemoveOwner(owner2.public_key()));
    assert_eq!(
        in_session(&mut lock, t + secs(2), &mut s, Command::Config(&remove)),
        (Reply::ConfigApplied(2), None)
    );
    assert_eq!(
        in_session(&mut lock, t + secs(3), &mut s, Command::Unlock),
        (
            Reply::Denied(ReasonCode::NotAuthorized),
            Some(Error::UnknownOwner)
        )
    );
}

/// A configuration update for `lock` signed by `signer`.
fn update_by(
    signer: &doorkey::crypto::SecretKey,
    lock: doorkey::credential::LockId,
    version: u64,
    change: Change,
) -> Vec<u8> {
    let mut buf = [0u8; 256];
    let update = ConfigUpdate {
        lock,
        version,
        signer: signer.public_key(),
        change,
    };
    let n = update.sign(signer, &mut buf).unwrap();
    buf[..n].to_vec()
}

/// Applies `update` through an anonymous session; returns the reply and the detailed refusal.
fn apply(
    lock: &mut Lock<Mem>,
    w: &mut World,
    tick: Tick,
    update: &[u8],
) -> (Reply<'static>, Option<Error>) {
    let (_, o, r) = anonymous(lock, tick, Command::Config(update), &mut w.rng);
    (r, o.denied)
}

#[test]
fn a_revoked_co_owner_key_is_refused_wherever_it_signs() {
    let (mut w, mut lock, chain) = setup();
    let t = tick_at(T0 + secs(30));
    let (k1, k2, k6) = (key(1), key(8), key(6));
    let id = lock.id();
    for (version, change) in [
        (1, Change::AddOwner(k2.public_key())),
        (2, Change::AddTimeKey(k6.public_key())),
    ] {
        assert_eq!(
            apply(&mut lock, &mut w, t, &update_by(&k1, id, version, change)),
            (Reply::ConfigApplied(version), None)
        );
    }
    let mut link = direct_link(&mut w);
    link.uses = None;
    let rooted_at_k2 = Chain::root(&k2, &link).unwrap();
    let cred2 = Credential::new(rooted_at_k2.as_bytes(), key(4)).unwrap();
    // Before the revocation, k2 roots chains and signs anchors and updates.
    assert_eq!(
        visit(&mut lock, t, &cred2, Command::Unlock, &mut w.rng).3,
        Reply::Unlocked
    );
    assert_eq!(
        set_time(&mut lock, t, T0 + secs(30), &k2, &mut w.rng),
        Reply::TimeSet(T0 + secs(30))
    );
    assert_eq!(
        set_time(&mut lock, t, T0 + secs(30), &k6, &mut w.rng),
        Reply::TimeSet(T0 + secs(30))
    );
    assert_eq!(
        apply(
            &mut lock,
            &mut w,
            t,
            &update_by(&k2, id, 3, Change::RevokeKey(key(9).public_key()))
        ),
        (Reply::ConfigApplied(3), None)
    );
    for (version, k) in [(4, &k2), (5, &k6)] {
        assert_eq!(
            apply(
                &mut lock,
                &mut w,
                t,
                &update_by(&k1, id, version, Change::RevokeKey(k.public_key()))
            ),
            (Reply::ConfigApplied(version), None)
        );
    }
    // A chain rooted at the revoked owner key.
    let (_, _, o, r) = visit(&mut lock, t, &cred2, Command::Unlock, &mut w.rng);
    assert_eq!(
        (r, o.denied),
        (
            Reply::Denied(ReasonCode::NotAuthorized),
            Some(Error::Revoked)
        )
    );
    // Its configuration updates: it cannot lock the real owner out.
    assert_eq!(
        apply(
            &mut lock,
            &mut w,
            t,
            &update_by(&k2, id, 6, Change::RemoveOwner(k1.public_key()))
        ),
        (
            Reply::Denied(ReasonCode::NotAuthorized),
            Some(Error::Revoked)
        )
    );
    assert!(lock.state().enrolment.owners().contains(&k1.public_key()));
    // Its anchors, and those of a revoked time key.
    for k in [&k2, &k6] {
        let mut ch = [0u8; 256];
        let n = lock.challenge(t + secs(1), &mut w.rng, &mut ch).unwrap();
        let nonce = inspect_challenge(&ch[..n], &lock.id()).unwrap().nonce;
        let mut a = [0u8; 256];
        let len = TimeAnchor {
            lock: lock.id(),
            nonce,
            time: T0 + secs(40),
            signer: k.public_key(),
        }
        .sign(k, &mut a)
        .unwrap();
        let mut open = [0u8; 512];
        let (mut s, m) = PhoneSession::open_anonymous(
            &ch[..n],
            &lock.id(),
            Command::Time(&a[..len]),
            &mut w.rng,
            &mut open,
        )
        .unwrap();
        let (o, r) = exchange(&mut lock, t + secs(1), &mut s, &open[..m]);
        assert_eq!(
            (r, o.denied),
            (
                Reply::Denied(ReasonCode::NotAuthorized),
                Some(Error::Revoked)
            )
        );
    }
    // The unrevoked owner still roots chains, signs anchors and updates.
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    assert_eq!(
        visit(&mut lock, t + secs(2), &cred, Command::Unlock, &mut w.rng).3,
        Reply::Unlocked
    );
    assert_eq!(
        set_time(&mut lock, t + secs(2), T0 + secs(40), &k1, &mut w.rng),
        Reply::TimeSet(T0 + secs(40))
    );
    // It may not revoke or remove itself while it is the only unrevoked owner left.
    for change in [
        Change::RevokeKey(k1.public_key()),
        Change::RemoveOwner(k1.public_key()),
    ] {
        assert_eq!(
            apply(
                &mut lock,
                &mut w,
                t + secs(2),
                &update_by(&k1, id, 6, change)
            ),
            (
                Reply::Denied(ReasonCode::NotAuthorized),
                Some(Error::NotPermitted)
            ),
            "{change:?}"
        );
    }
    // Removing the revoked co-owner is fine.
    assert_eq!(
        apply(
            &mut lock,
            &mut w,
            t + secs(2),
            &update_by(&k1, id, 6, Change::RemoveOwner(k2.public_key()))
        ),
        (Reply::ConfigApplied(6), None)
    );
    assert_eq!(lock.state().enrolment.owners(), &[k1.public_key()]);
}

#[test]
fn a_revoked_holder_or_delegate_key_is_refused_and_others_still_pass() {
    let (mut w, lock, _) = setup();
    let company = w.company_chain();
    let mut link = w.courier_link();
    link.uses = None;
    let chain = company.extend(&w.company, &link).unwrap();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let t = tick_at(T0 + secs(30));
    for (version, k, denied) in [
        (1, key(9), None),
        (2, key(4), Some(Error::Revoked)),
        (3, key(3), Some(Error::Revoked)),
    ] {
        let mut lock = Lock::boot(key(2), lock.storage().clone()).unwrap();
        set_time(&mut lock, t, T0 + secs(30), &key(1), &mut w.rng);
        let update = owner_update(lock.id(), version, Change::RevokeKey(k.public_key()));
        assert_eq!(
            apply(&mut lock, &mut w, t, &update),
            (Reply::ConfigApplied(version), None)
        );
        let (_, _, o, _) = visit(&mut lock, t, &cred, Command::Unlock, &mut w.rng);
        assert_eq!(o.denied, denied, "revoked {version}");
    }
}

/// Sends an anchor signed by `signer` for the session's challenge `ch`, `delay` seconds after
/// the challenge was issued at `tick`, in a command of an anonymous session opened at `tick`.
fn late_anchor(
    lock: &mut Lock<Mem>,
    w: &mut World,
    tick: Tick,
    delay: Seconds,
    time: UnixTime,
    signer: &doorkey::crypto::SecretKey,
) -> (Reply<'static>, Option<Error>) {
    let mut ch = [0u8; 256];
    let n = lock.challenge(tick, &mut w.rng, &mut ch).unwrap();
    let nonce = inspect_challenge(&ch[..n], &lock.id()).unwrap().nonce;
    let mut a = [0u8; 256];
    let len = TimeAnchor {
        lock: lock.id(),
        nonce,
        time,
        signer: signer.public_key(),
    }
    .sign(signer, &mut a)
    .unwrap();
    let mut open = [0u8; 512];
    let (mut s, m) =
        PhoneSession::open_anonymous(&ch[..n], &lock.id(), Command::Hello, &mut w.rng, &mut open)
            .unwrap();
    assert_eq!(exchange(lock, tick, &mut s, &open[..m]).1, Reply::Ready);
    in_session(lock, tick + delay, &mut s, Command::Time(&a[..len]))
}

#[test]
fn an_anchor_delivered_late_in_its_session_sets_the_time_of_its_challenge() {
    let (mut w, mut lock, _) = setup();
    // A grant that expires at T0 + 200.
    let mut link = direct_link(&mut w);
    link.not_before = T0;
    link.lifetime = Some(secs(200));
    let chain = Chain::root(&key(1), &link).unwrap();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    // The challenge goes out at T0 + 150; the anchor for it arrives 119 seconds later.
    let issued = tick_at(T0 + secs(150));
    assert_eq!(
        late_anchor(
            &mut lock,
            &mut w,
            issued,
            secs(119),
            T0 + secs(150),
            &key(1)
        ),
        (Reply::TimeSet(T0 + secs(150)), None)
    );
    assert_eq!(lock.trusted_now(issued + secs(119)), Some(T0 + secs(269)));
    let (_, _, o, r) = visit(
        &mut lock,
        issued + secs(120),
        &cred,
        Command::Unlock,
        &mut w.rng,
    );
    assert_eq!(
        (r, o.denied),
        (Reply::Denied(ReasonCode::NotNow), Some(Error::Expired))
    );
}

#[test]
fn a_time_key_may_move_the_clock_a_week_ahead_and_an_owner_further() {
    use doorkey::lock::MAX_TIME_KEY_LEAP;
    let (mut w, lock, _) = setup();
    let t = tick_at(T0 + secs(30));
    let time_key = key(6);
    let update = owner_update(lock.id(), 1, Change::AddTimeKey(time_key.public_key()));
    let mut lock = lock;
    assert_eq!(
        apply(&mut lock, &mut w, t, &update),
        (Reply::ConfigApplied(1), None)
    );
    let storage = lock.storage().clone();
    // Measured from the high-water mark (T0 + 30, the update's receipt), with a trusted clock.
    assert_eq!(lock.state().high_water, T0 + secs(30));
    let limit = T0 + secs(30) + MAX_TIME_KEY_LEAP;
    assert_eq!(
        late_anchor(
            &mut lock,
            &mut w,
            t,
            Seconds::ZERO,
            limit + secs(1),
            &time_key
        ),
        (
            Reply::Denied(ReasonCode::NotAuthorized),
            Some(Error::NotPermitted)
        )
    );
    assert_eq!(
        late_anchor(&mut lock, &mut w, t, Seconds::ZERO, limit, &time_key),
        (Reply::TimeSet(limit), None)
    );
    // And after a reboot, with an untrusted clock.
    let mut lock = Lock::boot(key(2), storage).unwrap();
    let mark = T0 + secs(30);
    assert_eq!(
        late_anchor(
            &mut lock,
            &mut w,
            tick(5),
            Seconds::ZERO,
            mark + MAX_TIME_KEY_LEAP + secs(1),
            &time_key
        ),
        (
            Reply::Denied(ReasonCode::NotAuthorized),
            Some(Error::NotPermitted)
        )
    );
    assert_eq!(
        late_anchor(
            &mut lock,
            &mut w,
            tick(5),
            Seconds::ZERO,
            mark + MAX_TIME_KEY_LEAP,
            &time_key
        ),
        (Reply::TimeSet(mark + MAX_TIME_KEY_LEAP), None)
    );
    // An owner is not bounded.
    let far = T0 + Seconds::from_days(400);
    assert_eq!(
        late_anchor(&mut lock, &mut w, tick(6), Seconds::ZERO, far, &key(1)),
        (Reply::TimeSet(far), None)
    );
}

#[test]
fn an_owner_resets_a_clock_sent_into_the_future_without_losing_state() {
    use doorkey::receipt::Event;
    let (mut w, mut lock, chain) = setup();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let t = tick_at(T0 + secs(30));
    let revoke = owner_update(
        lock.id(),
        1,
        Change::RevokeId {
            id: CredentialId([5; 16]),
            until: None,
        },
    );
    assert_eq!(
        apply(&mut lock, &mut w, t, &revoke),
        (Reply::ConfigApplied(1), None)
    );
    // An owner's phone with a clock ten years ahead.
    let future = T0 + Seconds::from_days(3650);
    assert_eq!(
        set_time(&mut lock, t, future, &key(1), &mut w.rng),
        Reply::TimeSet(future)
    );
    let (_, _, o, _) = visit(&mut lock, t, &cred, Command::Unlock, &mut w.rng);
    assert_eq!(o.denied, Some(Error::Expired));
    // The true time is refused: below the high-water mark.
    assert_eq!(
        late_anchor(
            &mut lock,
            &mut w,
            t + secs(1),
            Seconds::ZERO,
            T0 + secs(31),
            &key(1)
        ),
        (Reply::Denied(ReasonCode::Refused), Some(Error::Stale))
    );
    let reset = owner_update(lock.id(), 2, Change::ResetClock(T0));
    assert_eq!(
        apply(&mut lock, &mut w, t + secs(2), &reset),
        (Reply::ConfigApplied(2), None)
    );
    let state = lock.state();
    assert_eq!(state.high_water, T0);
    assert_eq!(lock.trusted_now(t + secs(2)), None);
    let receipt = state.backlog.as_slice().last().unwrap();
    assert_eq!((receipt.event, receipt.time), (Event::ClockReset(2), None));
    // Nothing else was lost: the revocation and the configuration version stand.
    assert_eq!(state.revoked_ids.len(), 1);
    assert_eq!(state.enrolment.config_version(), 2);
    // Until the next anchor the clock is untrusted; then the grant works again.
    let (_, _, o, _) = visit(&mut lock, t + secs(3), &cred, Command::Unlock, &mut w.rng);
    assert_eq!(o.denied, Some(Error::ClockUntrusted));
    assert_eq!(
        set_time(&mut lock, t + secs(4), T0 + secs(34), &key(1), &mut w.rng),
        Reply::TimeSet(T0 + secs(34))
    );
    assert_eq!(
        visit(&mut lock, t + secs(4), &cred, Command::Unlock, &mut w.rng).3,
        Reply::Unlocked
    );
    // Only an owner may reset the clock.
    let mut buf = [0u8; 256];
    let n = ConfigUpdate {
        lock: lock.id(),
        version: 3,
        signer: key(6).public_key(),
        change: Change::ResetClock(UnixTime::EPOCH),
    }
    .sign(&key(6), &mut buf)
    .unwrap();
    assert_eq!(
        apply(&mut lock, &mut w, t + secs(5), &buf[..n]),
        (
            Reply::Denied(ReasonCode::NotAuthorized),
            Some(Error::NotPermitted)
        )
    );
}

/// A presence check that answers as told and remembers the holders it was asked about.
struct Touch {
    present: bool,
    asked: Vec<doorkey::crypto::SubjectKey>,
}

impl doorkey::lock::Presence for Touch {
    fn confirm(&mut self, grant: &doorkey::credential::Grant) -> bool {
        self.asked.push(grant.holder);
        self.present
    }
}

#[test]
fn an_unlock_waits_for_presence_and_counts_no_use_without_it() {
    let (mut w, mut lock, chain) = setup();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let t = tick_at(T0 + secs(30));
    let (mut s, _, _, reply) = visit(&mut lock, t, &cred, Command::Hello, &mut w.rng);
    assert_eq!(reply, Reply::Ready);
    for present in [false, true] {
        let mut touch = Touch {
            present,
            asked: Vec::new(),
        };
        let mut msg = [0u8; 64];
        let n = s.command(Command::Unlock, &mut msg).unwrap();
        let mut out = [0u8; 512];
        let o = lock
            .handle_with(t + secs(1), &mut msg[..n], &mut out, &mut touch)
            .unwrap();
        let reply = s.read_reply(&mut out[..o.reply]).unwrap();
        assert_eq!(touch.asked, [key(4).public_key()]);
        if present {
            // The one-off grant's only use was not spent by the refusal.
            assert_eq!(
                (reply, o.action, o.denied),
                (Reply::Unlocked, Action::Unlock, None)
            );
        } else {
            assert_eq!(
                (reply, o.action, o.denied),
                (
                    Reply::Denied(ReasonCode::NotAuthorized),
                    Action::None,
                    Some(Error::NotPermitted)
                )
            );
        }
    }
}

/// A session answers commands for exactly `SESSION_LIFETIME` seconds after its open, and a
/// command past that is refused as a replay, whatever it asks.
#[test]
fn a_session_answers_commands_for_exactly_its_lifetime() {
    use doorkey::session::SESSION_LIFETIME;
    let mut w = World::new();
    let mut lock = install(&w);
    set_time(&mut lock, tick(50), T0 - secs(50), &key(1), &mut w.rng);
    let chain = w.company_chain();
    let cred = Credential::new(chain.as_bytes(), key(3)).unwrap();
    let mut msg = [0u8; 256];
    let (mut s, _, _, _) = visit(&mut lock, tick(100), &cred, Command::Hello, &mut w.rng);
    let k = s.command(Command::Hello, &mut msg).unwrap();
    let (_, reply) = exchange(&mut lock, tick(100) + SESSION_LIFETIME, &mut s, &msg[..k]);
    assert_eq!(reply, Reply::Ready);

    let (mut s, _, _, _) = visit(&mut lock, tick(300), &cred, Command::Hello, &mut w.rng);
    let k = s.command(Command::Hello, &mut msg).unwrap();
    let mut out = [0u8; 256];
    let late = lock.handle(
        tick(300) + SESSION_LIFETIME + secs(1),
        &mut msg[..k].to_vec(),
        &mut out,
    );
    assert_eq!(late.map(|o| o.reply), Err(Error::Replay));
}
