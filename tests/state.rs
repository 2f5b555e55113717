//! The lock's persisted state: its worst-case size, in-place decoding, and a lock that is built
//! first and started in place.

mod common;

use common::{T0, key};
use doorkey::Error;
use doorkey::config::{Change, ConfigUpdate};
use doorkey::credential::{CredentialId, UseLimit};
use doorkey::crypto::Signer;
use doorkey::lock::{
    ChainHead, Lock, LockState, MAX_BACKLOG, MAX_OWNERS, MAX_REVOKED_IDS, MAX_REVOKED_KEYS,
    MAX_STATE_BYTES, MAX_TIME_KEYS, MAX_USE_ENTRIES, MemoryStorage, RevokedId, UseEntry,
};
use doorkey::receipt::{Event, Receipt, Who};
use doorkey::session::MAX_CHALLENGE_LIFETIME;
use doorkey::time::tz::{MAX_OFFSET, MAX_TRANSITION_TIME};
use doorkey::time::{DstRule, Transition, TzRule};

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
    let audit = doorkey::receipt::AuditSecret::from_bytes([11; 32]).public_key();
    apply(&mut state, Change::SetAuditKey(audit), 22);
    apply(
        &mut state,
        Change::SetChallengeLifetime(MAX_CHALLENGE_LIFETIME),
        u64::MAX,
    );
    for i in 0..MAX_REVOKED_IDS as u8 {
        let entry = RevokedId {
            id: CredentialId([i; 16]),
            until: Some(u64::MAX),
        };
        state.revoked_ids.push(entry).unwrap();
    }
    for i in 0..MAX_REVOKED_KEYS as u8 {
        state.revoked_keys.push(key(40 + i).public_key()).unwrap();
    }
    for i in 0..MAX_USE_ENTRIES as u8 {
        let entry = UseEntry {
            id: CredentialId([i; 16]),
            used: u16::MAX,
            expires: Some(u64::MAX),
        };
        state.uses.push(entry).unwrap();
    }
    state.high_water = u64::MAX;
    state.receipts = ChainHead {
        seq: u64::MAX,
        hash: [0xAB; 32],
    };
    state.backlog.clear();
    for i in 0..MAX_BACKLOG as u8 {
        let receipt = Receipt {
            seq: u64::MAX - u64::from(i),
            prev: [i; 32],
            time: Some(u64::MAX),
            event: Event::ConfigChanged(u64::MAX),
            who: Some(Who {
                id: CredentialId([i; 16]),
                holder: key(60 + i).public_key(),
            }),
            session: Some([i; 16]),
        };
        state.backlog.push(receipt).unwrap();
    }
    state
}

#[test]
fn the_widest_state_fits_max_state_bytes() {
    let state = widest_state();
    let mut buf = [0u8; MAX_STATE_BYTES];
    let len = state.encode(&mut buf).unwrap();
    // Counted from PROTOCOL.md's encoding (varints: u64 at most 10 bytes, u32 5, u16 3;
    // offsets within ±MAX_OFFSET and transition times zigzag to 3 bytes):
    //   enrolment     32 key + (1 + 4*32) owners + (1 + 2*32) time keys + 5 epoch
    //                 + (3 + 1 + 3 + 2*(3 + 3)) tz + 1 lifetime + 10 version
    //                 + (1 + 32) audit key                                     = 294
    //   revoked ids   1 + 16*(16 + 1 + 10)                                     = 433
    //   revoked keys  1 + 8*32                                                 = 257
    //   uses          1 + 32*(16 + 3 + 1 + 10)                                 = 961
    //   high water 10, chain head 10 + 32                                      =  52
    //   backlog       1 + 8*(10 + 32 + 11 + 11 + (1 + 16 + 32) + 17)           = 1041
    assert_eq!(len, 294 + 433 + 257 + 961 + 52 + 1041);
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
    };
    state.uses.push(entry).unwrap();
    let limits = [limit(u16::MAX), limit(u16::MAX)];
    state.consume(&limits, None).unwrap();
    assert_eq!(state.uses.as_slice()[0].used, u16::MAX);
    assert_eq!(state.consume(&limits, None), Err(Error::UsedUp));
    assert_eq!(state.uses.as_slice()[0].used, u16::MAX);
}

#[test]
fn a_new_lock_refuses_everything_until_started() {
    let mut lock = Lock::new(key(2), MemoryStorage::<MAX_STATE_BYTES>::new());
    let mut out = [0u8; 256];
    let mut rng = common::rng(1);
    assert_eq!(lock.challenge(0, &mut rng, &mut out), Err(Error::Storage));
    assert_eq!(
        lock.handle(0, &mut [1, 0x11], &mut out),
        Err(Error::Storage)
    );
    // Nothing committed yet: it cannot start.
    assert_eq!(lock.start(), Err(Error::Storage));
    assert_eq!(lock.challenge(0, &mut rng, &mut out), Err(Error::Storage));
    lock.provision(key(1).public_key()).unwrap();
    assert!(lock.challenge(0, &mut rng, &mut out).is_ok());
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
    assert_eq!(lock.trusted_now(T0), None);
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
        other.challenge(0, &mut common::rng(1), &mut out),
        Err(Error::Storage)
    );
}
