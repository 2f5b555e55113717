//! The lock's persisted state: its worst-case size, in-place decoding, and a lock that is built
//! first and started in place.

mod common;

use common::{DAY, T0, key, secs, tick};
use doorkey::Error;
use doorkey::config::Change;
use doorkey::credential::CredentialId;
use doorkey::credential::{Chain, Link, Rights};
use doorkey::crypto::Signer;
use doorkey::lock::{Lock, MAX_STATE_BYTES, MAX_USE_ENTRIES, MemoryStorage};
use doorkey::phone::Credential;
use doorkey::receipt::Event;
use doorkey::session::{Command, Reply};
use doorkey::time::{Seconds, Tick};

#[test]
fn a_new_lock_refuses_everything_until_started() {
    let mut lock = Lock::new(key(2), MemoryStorage::<MAX_STATE_BYTES>::new());
    let mut out = [0u8; 256];
    let mut rng = common::rng(1);
    assert_eq!(
        lock.challenge(tick(0), &mut rng, &mut out),
        Err(Error::Storage)
    );
    assert_eq!(
        lock.handle(tick(0), &mut [1, 0x11], &mut out),
        Err(Error::Storage)
    );
    // Nothing committed yet: it cannot start, and says why.
    assert_eq!(lock.start(), Err(Error::NotProvisioned));
    assert_eq!(
        lock.challenge(tick(0), &mut rng, &mut out),
        Err(Error::Storage)
    );
    lock.provision(key(1).public_key()).unwrap();
    assert!(lock.challenge(tick(0), &mut rng, &mut out).is_ok());
}

#[test]
fn start_in_place_matches_boot() {
    let mut lock = Lock::install(
        key(2),
        key(1).public_key(),
        MemoryStorage::<MAX_STATE_BYTES>::new(),
    )
    .unwrap();
    let booted = Lock::boot(key(2), lock.storage().clone()).unwrap();
    lock.start().unwrap();
    // Both restarted from the same committed state and recorded one boot after it.
    assert_eq!(lock.state(), booted.state());
    assert_eq!(
        lock.state().backlog.as_slice().last().unwrap().event,
        Event::Boot
    );
    assert_eq!(lock.trusted_now(tick(T0.as_secs())), None);
}

#[test]
fn start_refuses_another_locks_storage() {
    let lock = Lock::install(
        key(2),
        key(1).public_key(),
        MemoryStorage::<MAX_STATE_BYTES>::new(),
    )
    .unwrap();
    let mut other = Lock::new(key(3), lock.into_storage());
    assert_eq!(other.start(), Err(Error::Misuse));
    let mut out = [0u8; 256];
    assert_eq!(
        other.challenge(tick(0), &mut common::rng(1), &mut out),
        Err(Error::Storage)
    );
}

/// A link to `subject` for `lock` from T0 - 1 day, lasting `lifetime` seconds.
fn link(
    subject: u8,
    lock: Option<doorkey::credential::LockId>,
    lifetime: Seconds,
    uses: Option<u16>,
    depth: u8,
    id: CredentialId,
) -> Link {
    let rights = if depth > 0 {
        Rights::UNLOCK.union(Rights::DELEGATE)
    } else {
        Rights::UNLOCK
    };
    let mut link = Link::builder(key(subject).public_key(), rights)
        .valid_from(T0 - DAY)
        .valid_for(lifetime)
        .depth(depth)
        .id(id);
    if let Some(lock) = lock {
        link = link.locks(&[lock]);
    }
    if let Some(uses) = uses {
        link = link.uses(uses);
    }
    link.build(&mut common::rng(0)).unwrap()
}

/// Asks the lock to unlock as key(4) holding `chain`; the precise refusal, if any.
fn unlock(lock: &mut Lock<common::Mem>, tick: Tick, chain: &Chain) -> Option<Error> {
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let mut rng = common::rng(tick.as_secs() as u8);
    let (_, _, outcome, reply) = common::visit(lock, tick, &cred, Command::Unlock, &mut rng);
    assert_eq!(outcome.denied.is_none(), reply == Reply::Unlocked);
    outcome.denied
}

#[test]
fn a_sibling_delegation_cannot_launder_an_owners_cap() {
    let w = common::World::new();
    let mut lock = common::install(&w);
    // Tick t reads T0 + t.
    common::set_time(&mut lock, tick(0), T0, &w.owner, &mut common::rng(1));
    let at = |i: u8| CredentialId([i; 16]);
    let capped = at(1);
    // The owner gives delegate key(3) two visits under one delegation, and a sibling one
    // without a cap (for, say, its own staff).
    let d1 = Chain::root(
        &w.owner,
        &link(
            3,
            Some(w.lock_id()),
            Seconds::from_days(30),
            Some(2),
            1,
            capped,
        ),
    )
    .unwrap();
    let d2 = Chain::root(
        &w.owner,
        &link(3, Some(w.lock_id()), Seconds::from_days(30), None, 1, at(2)),
    )
    .unwrap();
    let visits = d1
        .extend(
            &key(3),
            &link(4, None, Seconds::from_days(29), Some(2), 0, at(3)),
        )
        .unwrap();
    // The delegate mints a 60-second link reusing the capped id under the sibling.
    let short = d2
        .extend(&key(3), &link(4, None, DAY + secs(60), Some(1), 0, capped))
        .unwrap();
    let mut opened = 0;
    for (when, chain) in [(tick(10), &short), (tick(20), &visits), (tick(30), &visits)] {
        opened += u32::from(unlock(&mut lock, when, chain).is_none());
    }
    assert_eq!(opened, 2, "the capped id allows two visits in all");
    // After the short link has expired, the delegate fills the table with short one-use
    // links to itself, then needs room for one more once they have expired, hoping the
    // capped id's count is forgotten with them.
    let filler = |i: u8, lifetime| {
        d2.extend(&key(3), &link(4, None, lifetime, Some(1), 0, at(100 + i)))
            .unwrap()
    };
    for i in 0..MAX_USE_ENTRIES as u8 {
        unlock(
            &mut lock,
            tick(100 + u64::from(i)),
            &filler(i, DAY + secs(150)),
        );
    }
    assert_eq!(
        unlock(&mut lock, tick(200), &filler(99, DAY + secs(300))),
        None
    );
    assert_eq!(unlock(&mut lock, tick(210), &visits), Some(Error::UsedUp));
}

#[test]
fn a_revoked_id_or_key_is_refused_as_revoked_and_nothing_else_is() {
    let w = common::World::new();
    let mut lock = common::install(&w);
    let mut rng = common::rng(1);
    common::set_time(&mut lock, tick(0), T0, &w.owner, &mut rng);
    let root = |subject, id| {
        Chain::root(
            &w.owner,
            &link(
                subject,
                Some(w.lock_id()),
                Seconds::from_days(30),
                None,
                1,
                id,
            ),
        )
        .unwrap()
    };
    let company = root(3, CredentialId([1; 16]));
    let other_company = root(5, CredentialId([2; 16]));
    let via = |parent: &Chain, issuer: u8, id: u8| {
        parent
            .extend(
                &key(issuer),
                &link(
                    4,
                    None,
                    Seconds::from_days(2),
                    None,
                    0,
                    CredentialId([id; 16]),
                ),
            )
            .unwrap()
    };
    let (revoked, kept) = (via(&company, 3, 10), via(&company, 3, 11));
    let update = |version, change| common::owner_update(w.lock_id(), version, change);
    let config = |lock: &mut Lock<common::Mem>, tick, bytes: Vec<u8>| {
        let (_, outcome, _) =
            common::anonymous(lock, tick, Command::Config(&bytes), &mut common::rng(2));
        assert_eq!(outcome.denied, None);
    };
    let by_id = Change::RevokeId {
        id: CredentialId([10; 16]),
        until: None,
    };
    config(&mut lock, tick(5), update(1, by_id));
    assert_eq!(unlock(&mut lock, tick(10), &revoked), Some(Error::Revoked));
    assert_eq!(unlock(&mut lock, tick(11), &kept), None);
    // Revoking a delegate's key cuts off its links, and only its links.
    let (cut, spared) = (via(&company, 3, 12), via(&other_company, 5, 13));
    let until = Some(T0 + Seconds::from_days(30));
    let by_key = Change::RevokeKeyUntil {
        key: key(3).public_key(),
        until,
    };
    config(&mut lock, tick(20), update(2, by_key));
    assert_eq!(unlock(&mut lock, tick(30), &cut), Some(Error::Revoked));
    assert_eq!(unlock(&mut lock, tick(31), &spared), None);
    // A holder key revoked for good: key(4) holds every leaf.
    config(
        &mut lock,
        tick(40),
        update(3, Change::RevokeKey(key(4).public_key())),
    );
    assert_eq!(unlock(&mut lock, tick(50), &spared), Some(Error::Revoked));
}
