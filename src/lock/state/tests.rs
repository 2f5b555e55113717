//! The state's tables and encoding, driven through the mutators the lock alone calls:
//! worst-case size, in-place decoding, use counting and what each table forgets when.

use std::boxed::Box;
use std::vec::Vec;

use super::*;
use crate::config::{Change, ConfigUpdate, Forget};
use crate::credential::{CredentialId, UseLimit};
use crate::crypto::{SecretKey, Signer};
use crate::receipt::{Event, Receipt, Who};
use crate::session::MAX_CHALLENGE_LIFETIME;
use crate::time::tz::{MAX_OFFSET, MAX_TRANSITION_TIME};
use crate::time::{DstRule, Transition, TzRule};

const T0: UnixTime = UnixTime::from_secs(1_780_315_200);

fn s(n: u64) -> Seconds {
    Seconds::from_secs(n)
}

fn key(seed: u8) -> SecretKey {
    SecretKey::from_seed(&[seed; 32])
}

/// Every table full and every field at its longest valid encoding.
fn widest_state() -> LockState {
    let owner = key(1);
    let mut state = LockState::new(key(2).public_key(), owner.public_key()).unwrap();
    let lock = state.enrolment.id();
    let mut version = 0;
    let mut apply = |state: &mut LockState, change: Change, v: u64| {
        version = v;
        let update = ConfigUpdate {
            lock,
            version,
            signer: owner.public_key(),
            change,
        };
        state.apply(&update, None).unwrap();
    };
    for i in 1..MAX_OWNERS as u8 {
        apply(
            &mut state,
            Change::AddOwner(key(10 + i).public_key()),
            i.into(),
        );
    }
    for i in 0..MAX_TIME_KEYS as u8 {
        apply(
            &mut state,
            Change::AddTimeKey(key(20 + i).public_key()),
            10 + u64::from(i),
        );
    }
    let at = Transition {
        month: 12,
        week: 5,
        weekday: 6,
        time: -MAX_TRANSITION_TIME,
    };
    let tz = TzRule {
        std_offset: -MAX_OFFSET,
        dst: Some(DstRule {
            offset: -MAX_OFFSET,
            start: at,
            end: at,
        }),
    };
    apply(&mut state, Change::SetTimeZone(tz), 20);
    apply(&mut state, Change::SetEpoch(u32::MAX), 21);
    let audit = crate::receipt::AuditSecret::from_bytes([11; 32]).public_key();
    apply(&mut state, Change::SetAuditKey(audit), 22);
    apply(
        &mut state,
        Change::SetChallengeLifetime(MAX_CHALLENGE_LIFETIME),
        u64::MAX,
    );
    for i in 0..MAX_REVOKED_IDS as u8 {
        let entry = RevokedId {
            id: CredentialId([i; 16]),
            until: Some(UnixTime::from_secs(u64::MAX)),
        };
        state.revoked_ids.push(entry).unwrap();
    }
    for i in 0..MAX_REVOKED_KEYS as u8 {
        let entry = RevokedKey {
            key: key(40 + i).public_key(),
            until: Some(UnixTime::from_secs(u64::MAX)),
        };
        state.revoked_keys.push(entry).unwrap();
    }
    for i in 0..MAX_USE_ENTRIES as u8 {
        let entry = UseEntry {
            id: CredentialId([i; 16]),
            used: u16::MAX,
            expires: Some(UnixTime::from_secs(u64::MAX)),
            epoch: u32::MAX,
        };
        state.uses.push(entry).unwrap();
    }
    state.high_water = UnixTime::from_secs(u64::MAX);
    state.receipts = ChainHead {
        seq: u64::MAX,
        hash: [0xAB; 32],
    };
    state.backlog.clear();
    for i in 0..MAX_BACKLOG as u8 {
        let receipt = Receipt {
            seq: u64::MAX - u64::from(i),
            prev: [i; 32],
            time: Some(UnixTime::from_secs(u64::MAX)),
            event: Event::ConfigChanged(u64::MAX),
            who: Some(Who {
                id: CredentialId([i; 16]),
                holder: key(60 + i).public_key(),
            }),
            session: Some([i; 16]),
        };
        state.backlog.push(receipt).unwrap();
    }
    state.recovery = true;
    state
}

#[test]
fn the_widest_state_fits_max_state_bytes() {
    let state = widest_state();
    let mut buf = [0u8; MAX_STATE_BYTES];
    let len = state.encode(&mut buf).unwrap();
    // Counted from PROTOCOL.md's encoding (varints: u64 at most 10 bytes, u32 5, u16 3;
    // offsets within ±MAX_OFFSET and transition times zigzag to 3 bytes):
    //   magic and version 4 + 1                                                =   5
    //   enrolment     32 key + (1 + 4*32) owners + (1 + 2*32) time keys + 5 epoch
    //                 + (3 + 1 + 3 + 2*(3 + 3)) tz + 1 lifetime + 10 version
    //                 + (1 + 32) audit key                                     = 294
    //   revoked ids   1 + 16*(16 + 1 + 10)                                     = 433
    //   revoked keys  1 + 8*(32 + 1 + 10)                                      = 345
    //   uses          1 + 32*(16 + 3 + 1 + 10 + 5)                             = 1121
    //   high water 10, chain head 10 + 32                                      =  52
    //   backlog       1 + 8*(10 + 32 + 11 + 11 + (1 + 16 + 32) + 17)           = 1041
    //   recovery flag                                                          =    1
    assert_eq!(len, 5 + 294 + 433 + 345 + 1121 + 52 + 1041 + 1);
    assert!(len <= MAX_STATE_BYTES);
    let decoded = LockState::decode(&buf[..len]).unwrap();
    assert_eq!(decoded, state);
}

#[test]
fn decoding_in_place_leaves_nothing_of_the_old_state() {
    let wide = widest_state();
    let small = LockState::new(key(2).public_key(), key(1).public_key()).unwrap();
    let mut buf = [0u8; MAX_STATE_BYTES];
    let len = small.encode(&mut buf).unwrap();
    let mut target = wide.clone();
    target.decode_from(&buf[..len]).unwrap();
    assert_eq!(target, small);
    // And what it encodes is the small state's bytes, not a tail of the wide one.
    let mut again = [0u8; MAX_STATE_BYTES];
    let n = target.encode(&mut again).unwrap();
    assert_eq!(&again[..n], &buf[..len]);
}

#[test]
fn a_truncated_or_extended_state_is_refused_in_place() {
    let state = widest_state();
    let mut buf = [0u8; MAX_STATE_BYTES + 1];
    let len = state.encode(&mut buf).unwrap();
    let mut target = widest_state();
    for cut in [0, 1, len / 2, len - 1] {
        assert!(target.decode_from(&buf[..cut]).is_err(), "cut at {cut}");
    }
    assert_eq!(
        target.decode_from(&buf[..len + 1]),
        Err(Error::TrailingBytes)
    );
}

#[test]
fn limits_sharing_an_id_count_one_use_against_the_smallest() {
    let mut state = LockState::new(key(2).public_key(), key(1).public_key()).unwrap();
    let id = CredentialId([7; 16]);
    let limit = |uses| UseLimit {
        id,
        uses,
        expires: Some(T0),
        epoch: 0,
    };
    // A delegate reused its parent's id with a smaller limit.
    let limits = [limit(5), limit(2)];
    state.consume(&limits, None).unwrap();
    state.consume(&limits, None).unwrap();
    assert_eq!(state.consume(&limits, None), Err(Error::UsedUp));
    assert_eq!(state.uses.as_slice().len(), 1);
    assert_eq!(state.uses.as_slice()[0].used, 2);
    // At the top of the range the shared counter stops at the limit instead of wrapping.
    let mut state = LockState::new(key(2).public_key(), key(1).public_key()).unwrap();
    let entry = UseEntry {
        id,
        used: u16::MAX - 1,
        expires: None,
        epoch: 0,
    };
    state.uses.push(entry).unwrap();
    let limits = [limit(u16::MAX), limit(u16::MAX)];
    state.consume(&limits, None).unwrap();
    assert_eq!(state.uses.as_slice()[0].used, u16::MAX);
    assert_eq!(state.consume(&limits, None), Err(Error::UsedUp));
    assert_eq!(state.uses.as_slice()[0].used, u16::MAX);
}

/// Applies owner-signed changes to a state with increasing versions.
type Apply = dyn FnMut(&mut LockState, Change, Option<UnixTime>) -> Result<()>;

/// A fresh state trusting key(1), and a function that applies owner-signed changes to it
/// with increasing versions at trusted time `now`.
fn owned_state() -> (LockState, Box<Apply>) {
    let state = LockState::new(key(2).public_key(), key(1).public_key()).unwrap();
    let lock = state.enrolment.id();
    let mut version = 0;
    let apply = move |state: &mut LockState, change: Change, now: Option<UnixTime>| {
        version += 1;
        let update = ConfigUpdate {
            lock,
            version,
            signer: key(1).public_key(),
            change,
        };
        state.apply(&update, now)
    };
    (state, Box::new(apply))
}

fn limit(id: u8, uses: u16, expires: Option<UnixTime>, epoch: u32) -> UseLimit {
    UseLimit {
        id: CredentialId([id; 16]),
        uses,
        expires,
        epoch,
    }
}

fn entry(state: &LockState, id: u8) -> Option<UseEntry> {
    state
        .uses
        .as_slice()
        .iter()
        .find(|e| e.id == CredentialId([id; 16]))
        .copied()
}

/// Fills the use table with one-use entries for ids 100.. that expire at `expires`.
fn fill(state: &mut LockState, expires: Option<UnixTime>, epoch: u32, now: Option<UnixTime>) {
    for i in 0..(MAX_USE_ENTRIES - state.uses.len()) as u8 {
        state
            .consume(&[limit(100 + i, 1, expires, epoch)], now)
            .unwrap();
    }
}

#[test]
fn a_use_entry_lives_as_long_as_the_latest_link_naming_its_id() {
    let (mut state, _) = owned_state();
    // A short-lived link names id 7 first, then a permanent link reusing it.
    state
        .consume(&[limit(7, 5, Some(T0 + s(60)), 0)], Some(T0))
        .unwrap();
    state
        .consume(&[limit(7, 5, None, 0)], Some(T0 + s(1)))
        .unwrap();
    assert_eq!(entry(&state, 7).unwrap().expires, None);
    // A later short-lived link never shortens it again.
    state
        .consume(&[limit(7, 5, Some(T0 + s(90)), 0)], Some(T0 + s(2)))
        .unwrap();
    assert_eq!(entry(&state, 7).unwrap().expires, None);
    // Long after the short links expired, a full table keeps the count: new ids are refused
    // rather than the count being forgotten.
    fill(&mut state, Some(T0 + s(10_000)), 0, Some(T0 + s(3)));
    let later = Some(T0 + s(1000));
    assert_eq!(
        state.consume(&[limit(200, 1, None, 0)], later),
        Err(Error::StorageFull)
    );
    assert_eq!(entry(&state, 7).unwrap().used, 3);
    // Between two expiring links the later expiry wins, whichever comes first.
    let (mut state, _) = owned_state();
    state
        .consume(&[limit(8, 5, Some(T0 + s(500)), 0)], Some(T0))
        .unwrap();
    state
        .consume(&[limit(8, 5, Some(T0 + s(100)), 0)], Some(T0))
        .unwrap();
    assert_eq!(entry(&state, 8).unwrap().expires, Some(T0 + s(500)));
}

#[test]
fn expired_use_entries_are_forgotten_exactly_when_their_links_stop_verifying() {
    let (mut state, _) = owned_state();
    let end = T0 + s(600);
    state
        .consume(&[limit(7, 1, Some(end), 0)], Some(T0))
        .unwrap();
    fill(&mut state, None, 0, Some(T0));
    // One second before the end the link still verifies: its count stays, a new id waits.
    assert_eq!(
        state.consume(&[limit(200, 1, None, 0)], Some(end - s(1))),
        Err(Error::StorageFull)
    );
    assert_eq!(entry(&state, 7).unwrap().used, 1);
    // At the end it no longer verifies (end exclusive): its entry makes room.
    state.consume(&[limit(200, 1, None, 0)], Some(end)).unwrap();
    assert_eq!(entry(&state, 7), None);
    assert_eq!(state.uses.len(), MAX_USE_ENTRIES);
}

#[test]
fn an_untrusted_clock_forgets_only_what_the_high_water_mark_has_passed() {
    let (mut state, _) = owned_state();
    state
        .consume(&[limit(7, 1, Some(T0 + s(600)), 0)], Some(T0))
        .unwrap();
    state
        .consume(&[limit(8, 1, Some(T0 + s(900)), 0)], Some(T0))
        .unwrap();
    fill(&mut state, None, 0, Some(T0));
    state.high_water = T0 + s(600);
    state.consume(&[limit(200, 1, None, 0)], None).unwrap();
    assert_eq!(entry(&state, 7), None);
    assert_eq!(entry(&state, 8).unwrap().used, 1);
    assert_eq!(
        state.consume(&[limit(201, 1, None, 0)], None),
        Err(Error::StorageFull)
    );
}

#[test]
fn an_epoch_bump_frees_the_counts_of_the_links_it_retires() {
    let (mut state, mut apply) = owned_state();
    // Old guests and a delegate's one-use links to itself: 32 permanent counts at epoch 0.
    fill(&mut state, None, 0, None);
    state.consume(&[limit(1, 1, None, 2)], None).unwrap_err();
    // A count made under a link of a later epoch survives a bump to that epoch.
    state.uses.retain(|e| e.id != CredentialId([100; 16]));
    state.consume(&[limit(1, 3, None, 2)], None).unwrap();
    assert_eq!(
        state.consume(&[limit(2, 1, None, 2)], None),
        Err(Error::StorageFull)
    );
    apply(&mut state, Change::SetEpoch(2), None).unwrap();
    state.consume(&[limit(2, 1, None, 2)], None).unwrap();
    assert_eq!(state.uses.len(), 2);
    assert_eq!(entry(&state, 1).unwrap().used, 1);
    // A link of epoch 2 that shares an id with one of epoch 3 keeps the entry until the
    // lock passes the highest of them.
    state.consume(&[limit(1, 3, None, 3)], None).unwrap();
    apply(&mut state, Change::SetEpoch(3), None).unwrap();
    assert_eq!(entry(&state, 1).unwrap().used, 2);
    apply(&mut state, Change::SetEpoch(4), None).unwrap();
    assert_eq!(entry(&state, 1), None);
}

#[test]
fn revoked_keys_expire_and_the_owner_can_clear_every_table() {
    let (mut state, mut apply) = owned_state();
    let k = |i: u8| key(40 + i).public_key();
    for i in 0..MAX_REVOKED_KEYS as u8 {
        let until = (i > 0).then_some(T0 + s(100 * u64::from(i)));
        apply(
            &mut state,
            Change::RevokeKeyUntil { key: k(i), until },
            Some(T0),
        )
        .unwrap();
    }
    assert_eq!(
        apply(&mut state, Change::RevokeKey(k(20)), Some(T0 + s(100 - 1))),
        Err(Error::StorageFull)
    );
    // At its `until`, k(1)'s last link has expired: its slot is reused.
    apply(&mut state, Change::RevokeKey(k(20)), Some(T0 + s(100))).unwrap();
    assert!(!state.revoked_keys.as_slice().iter().any(|r| r.key == k(1)));
    // Revoking again never shortens: `RevokeKey` makes k(2) permanent.
    apply(&mut state, Change::RevokeKey(k(2)), Some(T0 + s(100))).unwrap();
    apply(
        &mut state,
        Change::RevokeKeyUntil {
            key: k(2),
            until: Some(T0 + s(150)),
        },
        Some(T0 + s(100)),
    )
    .unwrap();
    apply(&mut state, Change::SetEpoch(1), Some(T0 + s(100_000))).unwrap();
    let left: Vec<_> = state
        .revoked_keys
        .as_slice()
        .iter()
        .map(|r| r.key)
        .collect();
    assert_eq!(left, [k(0), k(2), k(20)]);
    // A revoked key that is also an enrolled owner is kept past its `until`.
    apply(&mut state, Change::AddOwner(k(30)), Some(T0 + s(100_000))).unwrap();
    let until = Some(T0 + s(100_001));
    apply(
        &mut state,
        Change::RevokeKeyUntil { key: k(30), until },
        None,
    )
    .unwrap();
    apply(&mut state, Change::SetEpoch(2), Some(T0 + s(200_000))).unwrap();
    assert!(state.revoked_keys.as_slice().iter().any(|r| r.key == k(30)));
    // The owner clears what never expires, one entry at a time.
    apply(&mut state, Change::Forget(Forget::RevokedKey(k(0))), None).unwrap();
    let left: Vec<_> = state
        .revoked_keys
        .as_slice()
        .iter()
        .map(|r| r.key)
        .collect();
    assert_eq!(left, [k(2), k(20), k(30)]);
    let (id, other) = (CredentialId([9; 16]), CredentialId([8; 16]));
    for id in [id, other] {
        apply(&mut state, Change::RevokeId { id, until: None }, None).unwrap();
    }
    apply(&mut state, Change::Forget(Forget::RevokedId(id)), None).unwrap();
    let left: Vec<_> = state.revoked_ids.as_slice().iter().map(|r| r.id).collect();
    assert_eq!(left, [other]);
    for id in [9, 8] {
        state.consume(&[limit(id, 1, None, 2)], None).unwrap();
        assert_eq!(
            state.consume(&[limit(id, 1, None, 2)], None),
            Err(Error::UsedUp)
        );
    }
    apply(&mut state, Change::Forget(Forget::Uses(id)), None).unwrap();
    state.consume(&[limit(9, 1, None, 2)], None).unwrap();
    assert_eq!(
        state.consume(&[limit(8, 1, None, 2)], None),
        Err(Error::UsedUp)
    );
}

#[test]
fn revoking_an_id_again_only_lengthens_its_entry() {
    let (mut state, mut apply) = owned_state();
    let id = CredentialId([9; 16]);
    let revoke = |until| Change::RevokeId { id, until };
    apply(&mut state, revoke(Some(T0 + s(500))), Some(T0)).unwrap();
    apply(&mut state, revoke(Some(T0 + s(100))), Some(T0)).unwrap();
    assert_eq!(state.revoked_ids.as_slice()[0].until, Some(T0 + s(500)));
    apply(&mut state, revoke(None), Some(T0)).unwrap();
    apply(&mut state, revoke(Some(T0 + s(100))), Some(T0)).unwrap();
    apply(&mut state, Change::SetEpoch(1), Some(T0 + s(1000))).unwrap();
    assert_eq!(
        state.revoked_ids.as_slice(),
        [RevokedId { id, until: None }]
    );
}

#[test]
fn a_refused_count_counts_nothing_and_each_id_keeps_its_own_expiry() {
    let (mut state, _) = owned_state();
    state
        .consume(&[limit(7, 5, Some(T0 + s(100)), 0)], Some(T0))
        .unwrap();
    fill(&mut state, None, 0, Some(T0));
    // A grant naming the counted id and a new one: no room for the new one, so neither counts.
    let limits = [
        limit(7, 5, Some(T0 + s(100)), 0),
        limit(8, 5, Some(T0 + s(50)), 0),
    ];
    assert_eq!(state.consume(&limits, Some(T0)), Err(Error::StorageFull));
    assert_eq!(entry(&state, 7).unwrap().used, 1);
    // With one slot left, the same grant fits: only the new id needs room.
    state.uses.retain(|e| e.id != CredentialId([100; 16]));
    state.consume(&limits, Some(T0)).unwrap();
    assert_eq!(state.uses.len(), MAX_USE_ENTRIES);
    assert_eq!(entry(&state, 7).unwrap().used, 2);
    // Two ids in one grant: each entry takes its own link's expiry and epoch.
    let (mut state, _) = owned_state();
    let limits = [
        limit(7, 5, Some(T0 + s(100)), 3),
        limit(8, 5, Some(T0 + s(50)), 3),
    ];
    state.consume(&limits, Some(T0)).unwrap();
    assert_eq!(entry(&state, 7).unwrap().expires, Some(T0 + s(100)));
    assert_eq!(entry(&state, 8).unwrap().expires, Some(T0 + s(50)));
    state
        .consume(&[limit(8, 5, Some(T0 + s(50)), 1)], Some(T0))
        .unwrap();
    assert_eq!(entry(&state, 8).unwrap().epoch, 3);
    assert_eq!(entry(&state, 8).unwrap().used, 2);
    assert_eq!(entry(&state, 7).unwrap().used, 1);
}

#[test]
fn an_update_must_name_this_lock_and_be_signed_by_an_owner() {
    let (mut state, _) = owned_state();
    let update = |lock, signer: u8| ConfigUpdate {
        lock,
        version: 1,
        signer: key(signer).public_key(),
        change: Change::SetEpoch(1),
    };
    let here = state.enrolment.id();
    let elsewhere = crate::credential::LockId([9; 16]);
    assert_eq!(
        state.apply(&update(elsewhere, 1), None),
        Err(Error::NotPermitted)
    );
    assert_eq!(
        state.apply(&update(here, 3), None),
        Err(Error::NotPermitted)
    );
    state.apply(&update(here, 1), None).unwrap();
    assert_eq!(state.enrolment.config_version(), 1);
}

#[test]
fn the_epoch_may_be_set_to_its_current_value_but_never_lowered() {
    let (mut state, mut apply) = owned_state();
    apply(&mut state, Change::SetEpoch(2), None).unwrap();
    apply(&mut state, Change::SetEpoch(2), None).unwrap();
    assert_eq!(
        apply(&mut state, Change::SetEpoch(1), None),
        Err(Error::Stale)
    );
    assert_eq!(state.enrolment.config_version(), 2);
}
