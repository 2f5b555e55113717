//! A lock's storage over its life: provisioning only on a blank store, booting that tells a
//! blank store from a broken one, recovery after a lost commit, and the owner-signed factory
//! reset.

mod common;
#[path = "common/flash.rs"]
mod flash;

use common::*;
use doorkey::Error;
use doorkey::config::Change;
use doorkey::credential::{Chain, CredentialId, Link, Rights};
use doorkey::crypto::Signer;
use doorkey::lock::{Action, FlashStorage, Lock, Region};
use doorkey::phone::Credential;
use doorkey::receipt::Event;
use doorkey::session::{Command, ReasonCode, Reply};
use doorkey::time::{Seconds, Tick};
use flash::{SimFlash, idx};

type FlashLock = Lock<FlashStorage<SimFlash>>;

fn installed(flash: &SimFlash) -> FlashLock {
    Lock::install(
        key(2),
        key(1).public_key(),
        FlashStorage::new(flash.clone()),
    )
    .unwrap()
}

fn boot_error(flash: &SimFlash) -> Error {
    match Lock::boot(key(2), FlashStorage::new(flash.clone())) {
        Ok(_) => panic!("booted"),
        Err(e) => e.error(),
    }
}

/// Flips one data byte of the newest valid record (the one with the higher sequence number).
fn decay_newest(flash: &SimFlash) {
    let seq = |r: Region| u64::from_le_bytes(flash.region(r)[4..12].try_into().unwrap());
    let newest = if seq(Region::B) > seq(Region::A) && flash.region(Region::B)[..4] == *b"DKS1" {
        Region::B
    } else {
        Region::A
    };
    flash.0.borrow_mut().regions[idx(newest)][40] ^= 0x01;
}

/// Owner -> holder key(6): unlock, no lifetime, no use limit, no schedule.
fn permanent_chain(w: &mut World) -> Chain {
    owner_grant(w, None, None, 6)
}

/// The owner's grant to key(6) with this lifetime (from T0 - 1 day) and use limit.
fn owner_grant(w: &mut World, lifetime: Option<Seconds>, uses: Option<u16>, id: u8) -> Chain {
    let mut link = Link::builder(key(6).public_key(), Rights::UNLOCK)
        .locks(&[w.lock_id()])
        .id(CredentialId([id; 16]));
    if let Some(lifetime) = lifetime {
        link = link.valid_from(T0 - DAY).valid_for(lifetime);
    }
    if let Some(uses) = uses {
        link = link.uses(uses);
    }
    Chain::root(&w.owner, &link.build(&mut w.rng).unwrap()).unwrap()
}

fn unlock(
    lock: &mut FlashLock,
    tick: Tick,
    chain: &Chain,
    holder: u8,
    w: &mut World,
) -> (Action, Option<Error>, Reply<'static>) {
    let cred = Credential::new(chain.as_bytes(), key(holder)).unwrap();
    let (_, _, o, r) = visit(lock, tick, &cred, Command::Unlock, &mut w.rng);
    (o.action, o.denied, r)
}

/// Installs a lock on `flash`, sets its clock, spends the one-use `chain` (holder key(4)),
/// and lets the record of that unlock decay.
fn spend_then_decay(flash: &SimFlash, chain: &Chain, w: &mut World) {
    let mut lock = installed(flash);
    assert_eq!(
        set_time(&mut lock, tick(10), T0 + secs(10), &key(1), &mut w.rng),
        Reply::TimeSet(T0 + secs(10))
    );
    assert_eq!(unlock(&mut lock, tick(11), chain, 4, w).0, Action::Unlock);
    drop(lock);
    decay_newest(flash);
}

fn config(
    lock: &mut FlashLock,
    tick: Tick,
    version: u64,
    change: Change,
    w: &mut World,
) -> Reply<'static> {
    let update = owner_update(lock.id(), version, change);
    anonymous(lock, tick, Command::Config(&update), &mut w.rng).2
}

#[test]
fn a_lost_newest_record_boots_into_recovery_until_the_owner_confirms() {
    let mut w = World::new();
    let one_use = w.courier_chain();
    let permanent = permanent_chain(&mut w);
    let flash = SimFlash::new(4096, 1);
    // The record of a one-use unlock decays: the lock falls back to the record before it,
    // where the one-use grant is unused, and says so.
    spend_then_decay(&flash, &one_use, &mut w);
    let mut lock = Lock::boot(key(2), FlashStorage::new(flash.clone())).unwrap();
    assert!(
        lock.state().uses.as_slice().is_empty(),
        "the older record is in force"
    );
    assert!(lock.state().recovery);
    let last = *lock.state().backlog.as_slice().last().unwrap();
    assert_eq!(
        (last.event, last.seq),
        (Event::RolledBack, lock.state().receipts.seq)
    );

    // In recovery the one-use grant is refused for that reason; a permanent grant opens.
    assert_eq!(
        set_time(&mut lock, tick(20), T0 + secs(20), &key(1), &mut w.rng),
        Reply::TimeSet(T0 + secs(20))
    );
    assert_eq!(
        unlock(&mut lock, tick(21), &one_use, 4, &mut w),
        (
            Action::None,
            Some(Error::RolledBack),
            Reply::Denied(ReasonCode::Unavailable)
        )
    );
    assert_eq!(
        unlock(&mut lock, tick(22), &permanent, 6, &mut w).0,
        Action::Unlock
    );
    // Either dependence alone is enough: a use limit without an expiry, an expiry without a
    // use limit.
    let limited = owner_grant(&mut w, None, Some(5), 7);
    let expiring = owner_grant(&mut w, Some(Seconds::from_days(30)), None, 8);
    for grant in [&limited, &expiring] {
        assert_eq!(
            unlock(&mut lock, tick(23), grant, 6, &mut w).1,
            Some(Error::RolledBack)
        );
    }

    // Recovery survives a reboot (it is in the state, not only in the storage's evidence).
    drop(lock);
    let mut lock = Lock::boot(key(2), FlashStorage::new(flash.clone())).unwrap();
    assert!(lock.state().recovery);
    assert_eq!(
        lock.state().backlog.as_slice().last().unwrap().event,
        Event::Boot
    );
    assert_eq!(
        set_time(&mut lock, tick(30), T0 + secs(30), &key(1), &mut w.rng),
        Reply::TimeSet(T0 + secs(30))
    );
    assert_eq!(
        unlock(&mut lock, tick(31), &one_use, 4, &mut w).1,
        Some(Error::RolledBack)
    );

    // Only an owner-signed confirmation ends it.
    assert_eq!(
        config(&mut lock, tick(32), 1, Change::ConfirmState, &mut w),
        Reply::ConfigApplied(1)
    );
    assert!(!lock.state().recovery);
    let fresh = w.courier_chain();
    assert_eq!(
        unlock(&mut lock, tick(33), &fresh, 4, &mut w).0,
        Action::Unlock
    );
    for grant in [&limited, &expiring] {
        assert_eq!(
            unlock(&mut lock, tick(34), grant, 6, &mut w).0,
            Action::Unlock
        );
    }
}

#[test]
fn boot_tells_a_blank_store_from_a_broken_one() {
    let flash = SimFlash::new(4096, 1);
    assert_eq!(boot_error(&flash), Error::NotProvisioned);
    drop(installed(&flash));
    let lock = Lock::boot(key(2), FlashStorage::new(flash.clone())).unwrap();
    drop(lock);

    // Both records decay: the store is broken, not blank, and installing over it is refused.
    for region in [Region::A, Region::B] {
        flash.0.borrow_mut().regions[idx(region)][40] ^= 0x01;
    }
    let before = [flash.region(Region::A), flash.region(Region::B)];
    assert_eq!(boot_error(&flash), Error::Storage);
    let mut lock = Lock::new(key(2), FlashStorage::new(flash.clone()));
    assert_eq!(lock.provision(key(1).public_key()), Err(Error::Storage));
    assert_eq!(
        [flash.region(Region::A), flash.region(Region::B)],
        before,
        "untouched"
    );
}

#[test]
fn provisioning_refuses_a_store_that_holds_a_state() {
    let flash = SimFlash::new(4096, 1);
    let mut w = World::new();
    let mut lock = installed(&flash);
    assert_eq!(
        set_time(&mut lock, tick(10), T0, &key(1), &mut w.rng),
        Reply::TimeSet(T0)
    );
    let state = lock.state().clone();
    drop(lock);
    let before = [flash.region(Region::A), flash.region(Region::B)];

    // The firmware pattern `boot().or_else(install)` after a transient boot failure, or a
    // second factory install with another owner: both refused, nothing written.
    for owner in [key(1), key(7)] {
        let mut lock = Lock::new(key(2), FlashStorage::new(flash.clone()));
        assert_eq!(
            lock.provision(owner.public_key()),
            Err(Error::AlreadyProvisioned)
        );
        assert!(
            Lock::install(key(2), owner.public_key(), FlashStorage::new(flash.clone())).is_err()
        );
    }
    assert_eq!([flash.region(Region::A), flash.region(Region::B)], before);
    let lock = Lock::boot(key(2), FlashStorage::new(flash.clone())).unwrap();
    assert_eq!(
        lock.state().receipts.seq,
        state.receipts.seq + 1,
        "only the boot receipt added"
    );
    assert_eq!(lock.state().high_water, state.high_water);
}

#[test]
fn a_factory_reset_takes_an_owner_order_and_keeps_the_chain() {
    let mut w = World::new();
    let one_use = w.courier_chain();
    let flash = SimFlash::new(4096, 1);
    let mut lock = installed(&flash);
    assert_eq!(
        set_time(&mut lock, tick(10), T0 + secs(10), &key(1), &mut w.rng),
        Reply::TimeSet(T0 + secs(10))
    );
    assert_eq!(
        config(
            &mut lock,
            tick(11),
            1,
            Change::RevokeId {
                id: CredentialId([3; 16]),
                until: None
            },
            &mut w
        ),
        Reply::ConfigApplied(1)
    );
    assert_eq!(
        unlock(&mut lock, tick(12), &one_use, 4, &mut w).0,
        Action::Unlock
    );

    // An order signed by someone who is not an owner is refused.
    let stranger = key(8);
    let mut buf = [0u8; 256];
    let n = doorkey::config::ConfigUpdate {
        lock: lock.id(),
        version: 2,
        signer: stranger.public_key(),
        change: Change::FactoryReset(stranger.public_key()),
    }
    .sign(&stranger, &mut buf)
    .unwrap();
    let (_, o, _) = anonymous(&mut lock, tick(13), Command::Config(&buf[..n]), &mut w.rng);
    assert_eq!(o.denied, Some(Error::NotPermitted));

    let before = lock.state().clone();
    let new_owner = key(7);
    assert_eq!(
        config(
            &mut lock,
            tick(14),
            2,
            Change::FactoryReset(new_owner.public_key()),
            &mut w
        ),
        Reply::ConfigApplied(2)
    );
    let s = lock.state();
    assert_eq!(s.enrolment.owners(), &[new_owner.public_key()]);
    assert!(s.revoked_ids.as_slice().is_empty() && s.uses.as_slice().is_empty());
    assert_eq!(s.enrolment.config_version(), 2);
    assert!(
        s.high_water >= before.high_water,
        "the clock mark never goes back"
    );
    // The receipt chain goes on, and its next receipt says what happened.
    let last = s.backlog.as_slice().last().unwrap();
    assert_eq!(
        (last.seq, last.event),
        (before.receipts.seq + 1, Event::FactoryReset(2))
    );
    assert_eq!(last.prev, before.receipts.hash);

    // The old owner's grants no longer open; the old owner's orders are refused.
    assert_eq!(
        unlock(&mut lock, tick(15), &one_use, 4, &mut w).1,
        Some(Error::UnknownOwner)
    );
    let order = owner_update(lock.id(), 3, Change::ConfirmState);
    let (_, o, _) = anonymous(&mut lock, tick(16), Command::Config(&order), &mut w.rng);
    assert_eq!(o.denied, Some(Error::NotPermitted));
}

#[test]
fn a_power_cut_while_recording_the_rollback_does_not_lose_it() {
    // The boot after the loss commits the RolledBack receipt: erase, data, header (the
    // surviving record is marked already, so there is no mark to write).
    for cut in 0..3 {
        let mut w = World::new();
        let one_use = w.courier_chain();
        let flash = SimFlash::new(4096, 10 + cut as u64);
        spend_then_decay(&flash, &one_use, &mut w);
        flash.cut_after(cut);
        assert!(Lock::boot(key(2), FlashStorage::new(flash.clone())).is_err());
        flash.reboot();

        let lock = Lock::boot(key(2), FlashStorage::new(flash.clone())).unwrap();
        assert!(lock.state().recovery, "cut {cut}: recovery lost");
        let events: Vec<_> = lock
            .state()
            .backlog
            .as_slice()
            .iter()
            .map(|r| r.event)
            .collect();
        assert!(events.contains(&Event::RolledBack), "cut {cut}: {events:?}");
    }
}
