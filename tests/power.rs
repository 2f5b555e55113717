//! Power loss at every flash write of a realistic day at the door: after each reboot no use
//! count has gone back, nothing accepted before is accepted again, and the receipt chain
//! continues without a fork.

mod common;
#[path = "common/flash.rs"]
mod flash;

use common::*;
use doorkey::config::Change;
use doorkey::credential::Chain;
use doorkey::crypto::Signer;
use doorkey::lock::{Action, DoorEvent, FlashStorage, Lock};
use doorkey::phone::{Credential, PhoneSession};
use doorkey::receipt::{Parsed, Receipt, RunVerifier};
use doorkey::session::{Command, ReasonCode, Reply};
use doorkey::time::{Tick, UnixTime};
use flash::SimFlash;
use std::collections::BTreeMap;

type FlashLock = Lock<FlashStorage<SimFlash>>;

/// What the run observed before the power went out.
#[derive(Default)]
struct Observed {
    /// Unlock actions the firmware was told to perform, per grant.
    unlocks: BTreeMap<&'static str, u16>,
    /// Receipt hashes by sequence number, as the lock's state held them after each
    /// operation that returned success.
    heads: BTreeMap<u64, [u8; 32]>,
}

fn note_head(lock: &FlashLock, seen: &mut Observed) {
    let head = lock.state().receipts;
    seen.heads.insert(head.seq, head.hash);
}

/// Tries `command` as the holder of `cred`; records an unlock if the lock ordered one.
fn attempt(
    lock: &mut FlashLock,
    w: &mut World,
    tick: Tick,
    cred: &Credential<'_, impl Signer>,
    name: &'static str,
    seen: &mut Observed,
) {
    let mut ch = [0u8; 256];
    let Ok(n) = lock.challenge(tick, &mut w.rng, &mut ch) else {
        return;
    };
    let mut open = [0u8; 2048];
    let (_, m) =
        PhoneSession::open(&ch[..n], cred, Command::Unlock, &mut w.rng, &mut open).unwrap();
    let mut out = [0u8; 4096];
    if let Ok(o) = lock.handle(tick, &mut open[..m], &mut out) {
        if o.action == Action::Unlock {
            *seen.unlocks.entry(name).or_default() += 1;
        }
        if o.denied.is_none() {
            note_head(lock, seen);
        }
    }
}

fn configure(
    lock: &mut FlashLock,
    w: &mut World,
    tick: Tick,
    version: u64,
    change: Change,
    seen: &mut Observed,
) {
    let update = owner_update(lock.id(), version, change);
    let mut ch = [0u8; 256];
    let Ok(c) = lock.challenge(tick, &mut w.rng, &mut ch) else {
        return;
    };
    let mut open = [0u8; 512];
    let (_, m) = PhoneSession::open_anonymous(
        &ch[..c],
        &lock.id(),
        Command::Config(&update),
        &mut w.rng,
        &mut open,
    )
    .unwrap();
    let mut out = [0u8; 4096];
    if lock
        .handle(tick, &mut open[..m], &mut out)
        .is_ok_and(|o| o.denied.is_none())
    {
        note_head(lock, seen);
    }
}

struct Grants {
    one_off: Chain,
    three_uses: Chain,
}

fn grants(w: &mut World) -> Grants {
    let company = w.company_chain();
    let one_off = w.courier_link();
    let mut three = w.courier_link();
    three.uses = Some(3);
    Grants {
        one_off: company.extend(&w.company, &one_off).unwrap(),
        three_uses: company.extend(&w.company, &three).unwrap(),
    }
}

/// The day: time set, one-off delivery with door events and relock, three visits on a
/// three-use grant, a revocation, a door left open.
fn day(lock: &mut FlashLock, w: &mut World, g: &Grants, seen: &mut Observed) {
    if set_time_ok(lock, w, tick(50), T0 - secs(50)) {
        note_head(lock, seen);
    }
    let one = Credential::new(g.one_off.as_bytes(), key(4)).unwrap();
    let three = Credential::new(g.three_uses.as_bytes(), key(4)).unwrap();
    attempt(lock, w, tick(130), &one, "one-off", seen);
    if lock.door_event(tick(131), DoorEvent::Opened).is_ok() {
        note_head(lock, seen);
    }
    if lock.door_event(tick(140), DoorEvent::Closed).is_ok() {
        note_head(lock, seen);
    }
    attempt(lock, w, tick(150), &one, "one-off", seen);
    for t in [160, 170, 180, 190] {
        attempt(lock, w, tick(t), &three, "three", seen);
    }
    configure(
        lock,
        w,
        tick(200),
        1,
        Change::RevokeKey(key(77).public_key()),
        seen,
    );
    if lock.door_event(tick(210), DoorEvent::LeftOpen).is_ok() {
        note_head(lock, seen);
    }
}

fn set_time_ok(lock: &mut FlashLock, w: &mut World, tick: Tick, utc: UnixTime) -> bool {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        set_time(lock, tick, utc, &key(1), &mut w.rng)
    }))
    .is_ok_and(|r| matches!(r, Reply::TimeSet(_)))
}

fn uses_of(lock: &FlashLock, chain: &Chain) -> u16 {
    let id = chain.leaf().unwrap().id;
    lock.state()
        .uses
        .as_slice()
        .iter()
        .find(|e| e.id == id)
        .map_or(0, |e| e.used)
}

#[test]
fn a_power_cut_at_any_flash_operation_loses_nothing_accepted() {
    // Count the operations of an uninterrupted day.
    let total = {
        let mut w = World::new();
        let g = grants(&mut w);
        let flash = SimFlash::new(8192, 1);
        let mut lock = Lock::install(
            key(2),
            key(1).public_key(),
            FlashStorage::new(flash.clone()),
        )
        .unwrap();
        let before = flash.ops();
        day(&mut lock, &mut w, &g, &mut Observed::default());
        flash.ops() - before
    };
    assert!(
        total >= 30,
        "a day should commit many times: {total} operations"
    );

    let mut outcomes = [0usize; 2];
    for seed in 1..=3u64 {
        for cut in 0..total {
            let mut w = World::new();
            let g = grants(&mut w);
            let flash = SimFlash::new(8192, seed * 1000 + cut as u64);
            let mut lock = Lock::install(
                key(2),
                key(1).public_key(),
                FlashStorage::new(flash.clone()),
            )
            .unwrap();
            flash.cut_after(cut);
            let mut seen = Observed::default();
            day(&mut lock, &mut w, &g, &mut seen);
            drop(lock);

            flash.reboot();
            let mut lock = Lock::boot(key(2), FlashStorage::new(flash.clone()))
                .unwrap_or_else(|e| panic!("cut {cut}: boot failed: {e:?}"));
            // No use count went back.
            assert!(
                uses_of(&lock, &g.one_off) >= seen.unlocks.get("one-off").copied().unwrap_or(0),
                "cut {cut}"
            );
            assert!(
                uses_of(&lock, &g.three_uses) >= seen.unlocks.get("three").copied().unwrap_or(0),
                "cut {cut}"
            );
            outcomes[usize::from(seen.unlocks.values().sum::<u16>() == 4)] += 1;

            // Nothing accepted before is accepted again.
            assert_eq!(
                set_time(&mut lock, tick(300), T0 + secs(300), &key(1), &mut w.rng),
                Reply::TimeSet(T0 + secs(300))
            );
            let one = Credential::new(g.one_off.as_bytes(), key(4)).unwrap();
            let (_, _, o, r) = visit(&mut lock, tick(301), &one, Command::Unlock, &mut w.rng);
            if seen.unlocks.contains_key("one-off") {
                assert_eq!(
                    (o.action, r),
                    (Action::None, Reply::Denied(ReasonCode::UsedUp)),
                    "cut {cut}"
                );
            }
            let three = Credential::new(g.three_uses.as_bytes(), key(4)).unwrap();
            let mut opened = seen.unlocks.get("three").copied().unwrap_or(0);
            for t in 302..306 {
                if visit(&mut lock, tick(t), &three, Command::Unlock, &mut w.rng)
                    .2
                    .action
                    == Action::Unlock
                {
                    opened += 1;
                }
            }
            assert!(
                opened <= 3,
                "cut {cut}: the three-use grant opened {opened} times"
            );

            // The receipt chain continues without a fork: every receipt the lock now holds
            // agrees with what it held before the cut for that sequence number.
            enable_audit(&mut lock, tick(306), 2, &mut w.rng);
            let bundle = fetch_receipts(&mut lock, tick(306), &three, &mut w.rng);
            let (head, mut rest) = Parsed::<doorkey::receipt::Head>::take(&bundle).unwrap();
            let head_bytes = &bundle[..bundle.len() - rest.len()];
            let mut run = RunVerifier::anywhere(lock.public_key());
            while !rest.is_empty() {
                let (r, tail) = Parsed::<Receipt>::take(rest).unwrap();
                let bytes = &rest[..rest.len() - tail.len()];
                run.push(bytes)
                    .unwrap_or_else(|e| panic!("cut {cut}: chain broken at {}: {e:?}", r.body.seq));
                if let Some(before) = seen.heads.get(&r.body.seq) {
                    assert_eq!(
                        *before,
                        r.hash(&lock.id()),
                        "cut {cut}: fork at {}",
                        r.body.seq
                    );
                }
                rest = tail;
            }
            run.finish(head_bytes).unwrap();
            assert!(head.body.seq > 0);
        }
    }
    // Both sides of the cut happened: runs that lost their last unlocks and runs that kept them.
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}
