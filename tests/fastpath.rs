//! The fast path (PROTOCOL section 22): a challenge prepared while the lock is idle, and
//! delegation links the lock keeps verified so a repeat visitor need not send them again.

mod common;

use common::*;
use doorkey::Error;
use doorkey::config::Change;
use doorkey::lock::Lock;
use doorkey::phone::{Credential, PhoneSession, inspect_challenge};
use doorkey::session::{Command, Reply};
use doorkey::time::Tick;

/// The challenge `lock` hands out at `tick` with an rng seeded `seed`.
fn challenge(lock: &mut Lock<Mem>, tick: Tick, seed: u8) -> Vec<u8> {
    let mut out = [0u8; 256];
    let n = lock.challenge(tick, &mut rng(seed), &mut out).unwrap();
    out[..n].to_vec()
}

/// What a lock in the same state would sign, fresh, with an rng seeded `seed`: the bytes a
/// challenge prepared with that rng must have.
fn signed_fresh(w: &World, trusted: bool, seed: u8) -> Vec<u8> {
    let mut lock = install(w);
    if trusted {
        set_time(&mut lock, tick(1), T0, &key(1), &mut rng(99));
    }
    challenge(&mut lock, tick(1), seed)
}

/// Answers `challenge` with `command` as the holder of `cred`; the lock's verdict.
fn answer(
    lock: &mut Lock<Mem>,
    tick: Tick,
    challenge: &[u8],
    cred: &Credential<'_, doorkey::crypto::SecretKey>,
    command: Command<'_>,
) -> Result<Reply<'static>, Error> {
    let mut open = [0u8; 2048];
    let (mut s, m) = PhoneSession::open(challenge, cred, command, &mut rng(50), &mut open).unwrap();
    let mut out = [0u8; 4096];
    let outcome = lock.handle(tick, &mut open[..m], &mut out)?;
    Ok(owned(s.read_reply(&mut out[..outcome.reply]).unwrap()))
}

fn trusted_lock(w: &mut World) -> Lock<Mem> {
    let mut lock = install(w);
    set_time(&mut lock, tick(50), T0 - secs(50), &key(1), &mut w.rng);
    lock
}

#[test]
fn a_prepared_challenge_is_handed_out_and_lives_from_then() {
    let mut w = World::new();
    let mut lock = trusted_lock(&mut w);
    let chain = w.courier_chain();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    lock.prepare_challenge(tick(60), &mut rng(20)).unwrap();
    // Handed out 40 s after it was signed, with another rng: the prepared bytes go out.
    let c = challenge(&mut lock, tick(100), 21);
    assert_eq!(c, signed_fresh(&w, true, 20));
    // Its five seconds count from the hand-out, not from the signature.
    assert_eq!(
        answer(&mut lock, tick(105), &c, &cred, Command::Hello),
        Ok(Reply::Ready)
    );
    // Answerable once.
    assert_eq!(
        answer(&mut lock, tick(105), &c, &cred, Command::Hello),
        Err(Error::Replay)
    );
    // Used up by the hand-out: the next challenge is signed afresh.
    assert_eq!(
        challenge(&mut lock, tick(106), 22),
        signed_fresh(&w, true, 22)
    );
}

#[test]
fn a_prepared_challenge_expires_a_lifetime_after_its_hand_out() {
    let mut w = World::new();
    let mut lock = trusted_lock(&mut w);
    let chain = w.courier_chain();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    lock.prepare_challenge(tick(60), &mut rng(20)).unwrap();
    let c = challenge(&mut lock, tick(100), 21);
    assert_eq!(
        answer(&mut lock, tick(106), &c, &cred, Command::Hello),
        Err(Error::Replay)
    );
}

#[test]
fn a_reboot_voids_a_prepared_challenge() {
    let w = World::new();
    let mut lock = install(&w);
    lock.prepare_challenge(tick(1), &mut rng(20)).unwrap();
    let mut lock = Lock::boot(key(2), lock.into_storage()).unwrap();
    assert_eq!(
        challenge(&mut lock, tick(1), 21),
        signed_fresh(&w, false, 21)
    );
}

#[test]
fn a_prepared_challenge_whose_clock_trust_changed_is_signed_afresh() {
    let mut w = World::new();
    let mut lock = trusted_lock(&mut w);
    // An owner resets the clock in a session opened before the challenge was prepared.
    let c = challenge(&mut lock, tick(60), 30);
    lock.prepare_challenge(tick(60), &mut rng(20)).unwrap();
    let reset = owner_update(lock.id(), 1, Change::ResetClock(T0));
    let mut open = [0u8; 512];
    let (mut s, m) = PhoneSession::open_anonymous(
        &c,
        &lock.id(),
        Command::Config(&reset),
        &mut rng(31),
        &mut open,
    )
    .unwrap();
    assert_eq!(
        exchange(&mut lock, tick(61), &mut s, &open[..m]).1,
        Reply::ConfigApplied(1)
    );
    let c = challenge(&mut lock, tick(62), 21);
    assert!(!inspect_challenge(&c, &lock.id()).unwrap().clock_trusted);
    assert_eq!(c, signed_fresh(&w, false, 21));
}
