//! A lock updated to this version keeps the state an earlier version wrote: the images in
//! `tests/fixtures/` (see its README for how they were made) load, migrated field by field.

mod common;
#[path = "common/flash.rs"]
mod flash;

use common::*;
use doorkey::Error;
use doorkey::credential::CredentialId;
use doorkey::crypto::Signer;
use doorkey::lock::{
    FlashStorage, Lock, LockState, MAX_STATE_BYTES, RevokedId, STATE_VERSION, UseEntry,
};
use doorkey::phone::Credential;
use doorkey::receipt::{Event, Who};
use doorkey::session::{Command, ReasonCode, ReasonCode::UsedUp, Reply};
use doorkey::time::TzRule;
use flash::SimFlash;

const STATE_V0: &[u8] = include_bytes!("fixtures/state-v0.bin");
const FLASH_V0: &[u8] = include_bytes!("fixtures/flash-v0.bin");
const REGION: usize = 4096;

/// Checks a state holding what the fixture sequence recorded, whose backlog ends with the
/// fixture's receipts `from..=8`.
fn check_fixture_contents(s: &LockState, from: u64) {
    let courier = World::new().courier_chain().leaf().unwrap();
    let owner = key(1).public_key();
    let e = &s.enrolment;
    assert_eq!(e.public_key(), key(2).public_key());
    assert_eq!(e.owners(), &[owner]);
    assert!(e.is_time_authority(&key(5).public_key()));
    assert!(!e.is_time_authority(&key(6).public_key()));
    assert_eq!(e.time_zone(), TzRule::UTC);
    assert_eq!(e.challenge_lifetime(), secs(5));
    assert_eq!(e.config_version(), 2);
    assert_eq!(
        s.revoked_ids.as_slice(),
        &[RevokedId {
            id: CredentialId([9; 16]),
            until: Some(T0 + DAY),
        }]
    );
    assert!(s.revoked_keys.as_slice().is_empty());
    assert_eq!(
        s.uses.as_slice(),
        &[UseEntry {
            id: courier.id,
            used: 1,
            expires: Some(courier.not_before + courier.lifetime.unwrap()),
            // Version 0 kept no epoch: no bump may release the entry, only its expiry.
            epoch: u32::MAX,
        }]
    );
    // Anchored to T0 at tick 10; the denial at tick 60 was the last event.
    assert_eq!(s.high_water, T0 + secs(50));
    assert!(!s.recovery, "version 0 never recorded a rollback");

    let who = Some(Who {
        id: courier.id,
        holder: key(4).public_key(),
    });
    let expected = [
        (Event::Installed, None, None),
        (Event::TimeSet, Some(T0), None),
        (Event::ConfigChanged(1), Some(T0 + secs(10)), None),
        (Event::ConfigChanged(2), Some(T0 + secs(10)), None),
        (Event::Unlocked, Some(T0 + secs(20)), who),
        (Event::DoorOpened, Some(T0 + secs(30)), None),
        (Event::DoorClosed, Some(T0 + secs(40)), None),
        (Event::Denied(UsedUp), Some(T0 + secs(50)), who),
    ];
    let lock = e.id();
    let tail: Vec<_> = s.backlog.as_slice().iter().filter(|r| r.seq <= 8).collect();
    assert_eq!(tail.len() as u64, 9 - from);
    let mut prev = None;
    for (r, (event, time, who)) in tail.iter().zip(&expected[from as usize - 1..]) {
        assert_eq!(
            (r.event, r.time, r.who),
            (*event, *time, *who),
            "receipt {}",
            r.seq
        );
        if let Some(p) = prev {
            assert_eq!(r.prev, p, "receipt {} links to the one before", r.seq);
        }
        prev = Some(r.hash(&lock).unwrap());
    }
    let head = s.backlog.as_slice().last().unwrap();
    assert_eq!(s.receipts.seq, head.seq);
    assert_eq!(s.receipts.hash, head.hash(&lock).unwrap());
}

#[test]
fn a_version_0_state_image_migrates_field_by_field() {
    let state = LockState::decode(STATE_V0).unwrap();
    check_fixture_contents(&state, 1);
    assert_eq!(state.receipts.seq, 8);

    // Written back in the current layout, which reads back the same.
    let mut buf = [0u8; MAX_STATE_BYTES];
    let n = state.encode(&mut buf).unwrap();
    assert_eq!(&buf[..5], &[b'D', b'K', b'S', b'T', STATE_VERSION]);
    assert_eq!(LockState::decode(&buf[..n]), Ok(state));
}

#[test]
fn a_state_from_a_later_version_is_refused() {
    let state = LockState::decode(STATE_V0).unwrap();
    let mut buf = [0u8; MAX_STATE_BYTES];
    let n = state.encode(&mut buf).unwrap();
    buf[4] = STATE_VERSION + 1;
    assert_eq!(LockState::decode(&buf[..n]), Err(Error::UnsupportedVersion));
}

#[test]
fn a_lock_updated_from_version_0_boots_from_its_flash() {
    let (a, b) = FLASH_V0.split_at(REGION);
    let flash = SimFlash::with_contents(a.to_vec(), b.to_vec());
    let mut lock = Lock::boot(key(2), FlashStorage::new(flash.clone())).unwrap();
    // The backlog holds 8: the boot receipt pushed out the first.
    check_fixture_contents(lock.state(), 2);
    let last = lock.state().backlog.as_slice().last().unwrap();
    assert_eq!((last.seq, last.event), (9, Event::Boot));

    // The boot committed the state in the current layout, next to the old record.
    let newest = flash.region(doorkey::lock::Region::A);
    assert_eq!(u64::from_le_bytes(newest[4..12].try_into().unwrap()), 8);
    assert_eq!(&newest[32..37], &[b'D', b'K', b'S', b'T', STATE_VERSION]);

    // And the migrated use count holds: the courier's one use is spent.
    let mut w = World::new();
    let chain = w.courier_chain();
    assert_eq!(
        set_time(&mut lock, tick(10), T0 + secs(100), &key(1), &mut w.rng),
        Reply::TimeSet(T0 + secs(100))
    );
    let courier = Credential::new(chain.as_bytes(), key(4)).unwrap();
    let (_, _, o, r) = visit(&mut lock, tick(11), &courier, Command::Unlock, &mut w.rng);
    assert_eq!(
        (o.denied, r),
        (Some(Error::UsedUp), Reply::Denied(ReasonCode::UsedUp))
    );
}

/// The version-0 layout as spec 16.1 describes it: the fields before `recovery`, as a postcard
/// tuple, with no magic and no version, no audit key, revoked keys bare and use entries without
/// an epoch.
fn v0_image(s: &LockState) -> Vec<u8> {
    let keys: Vec<_> = s.revoked_keys.as_slice().iter().map(|r| r.key).collect();
    let uses: Vec<_> = s
        .uses
        .as_slice()
        .iter()
        .map(|u| (u.id, u.used, u.expires))
        .collect();
    // The enrolment without its last field, the audit key (none: a single 0 byte).
    let mut enrolment = postcard::to_allocvec(&s.enrolment).unwrap();
    assert_eq!(
        enrolment.pop(),
        Some(0),
        "a version-0 state has no audit key"
    );
    let mut image = enrolment;
    image.extend(
        postcard::to_allocvec(&(
            &s.revoked_ids,
            &keys,
            &uses,
            s.high_water,
            s.receipts,
            &s.backlog,
        ))
        .unwrap(),
    );
    image
}

#[test]
fn the_fixture_is_the_documented_version_0_layout() {
    let state = LockState::decode(STATE_V0).unwrap();
    assert_eq!(v0_image(&state), STATE_V0);
}

#[test]
fn a_version_0_image_whose_key_starts_like_a_versioned_one_still_loads() {
    // One lock key in 2^32 starts with the magic; with the version byte too, the image looks
    // versioned but is not.
    let mut lock_key = [0x42u8; 32];
    lock_key[..5].copy_from_slice(&[b'D', b'K', b'S', b'T', STATE_VERSION]);
    let lock_key = doorkey::crypto::PublicKey(lock_key);
    let mut state = LockState::new(lock_key, key(1).public_key()).unwrap();
    state.high_water = T0;
    let image = v0_image(&state);
    assert_eq!(&image[..5], &lock_key.0[..5]);
    assert_eq!(LockState::decode(&image), Ok(state));
}
