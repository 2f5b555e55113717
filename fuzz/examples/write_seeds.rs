//! Writes the seed corpora of the session, admin and storage targets into `fuzz/corpus/`:
//! a few genuine inputs each, built with the same fixtures the targets use. Run from `fuzz/`:
//!
//! ```text
//! cargo +nightly run --example write_seeds
//! ```
//!
//! Every seed is also run through its target's check, so a seed that fails is caught here.

#[path = "../checks/mod.rs"]
mod checks;
#[path = "../checks/lock_session.rs"]
mod lock_session;

use std::fs;
use std::path::{Path, PathBuf};

use arbitrary::{Arbitrary, Unstructured};
use checks::*;
use doorkey::config::{Change, ConfigUpdate, TimeAnchor};
use doorkey::credential::CredentialId;
use doorkey::crypto::Signer;
use doorkey::lock::{Lock, LockState, MAX_STATE_BYTES};
use doorkey::phone::PhoneSession;
use doorkey::receipt::Head;
use doorkey::session::Command;
use doorkey::time::{Seconds, Tick, TzRule};
use lock_session::Op;

fn corpus(target: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    fs::create_dir_all(&dir).expect("corpus dir");
    dir
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    let path = corpus(target).join(format!("seed-{name}"));
    fs::write(&path, bytes).expect("write seed");
    println!("{} ({} bytes)", path.display(), bytes.len());
}

fn lock_session_seeds() {
    use Op::*;
    // `cmd` bytes (see `wanted`): 0 unlock, 1 lock, 2 close, 3 hello, 4 receipts after 0,
    // 5 time anchor, 7k+6 config setting the challenge lifetime to k.
    let seeds: Vec<(&str, Vec<Op>)> = vec![
        (
            "unlock-relock-close",
            vec![
                GenuineOpen { cmd: 0 },
                GenuineCommand { cmd: 1 },
                GenuineCommand { cmd: 2 },
                GenuineCommand { cmd: 1 },
            ],
        ),
        (
            "uses-exhausted-then-replays",
            vec![
                GenuineOpen { cmd: 0 },
                GenuineCommand { cmd: 0 },
                GenuineOpen { cmd: 0 },
                GenuineOpen { cmd: 0 },
                Replay(1),
                Replay(2),
                FlipBit { msg: 3, bit: 400 },
            ],
        ),
        (
            "reboot-needs-anchor",
            vec![
                GenuineOpen { cmd: 0 },
                Reboot,
                GenuineOpen { cmd: 0 },
                Replay(1),
                Anchor,
                GenuineOpen { cmd: 0 },
                GenuineCommand { cmd: 4 },
            ],
        ),
        (
            "anchor-in-open-after-reboot",
            vec![
                Reboot,
                AdvanceTime(5),
                GenuineOpen { cmd: 5 },
                GenuineCommand { cmd: 0 },
                GenuineCommand { cmd: 4 },
            ],
        ),
        (
            "stale-and-evicted-challenges",
            vec![
                Challenge { tick_delta: 10 },
                AdvanceTime(6),
                GenuineOpen { cmd: 0 },
                Challenge { tick_delta: 1 },
                Challenge { tick_delta: 1 },
                GenuineOpen { cmd: 3 },
                GenuineCommand { cmd: 0 },
            ],
        ),
        (
            "config-lifetime",
            vec![
                GenuineOpen { cmd: 3 },
                GenuineCommand { cmd: 7 * 30 + 6 },
                GenuineCommand { cmd: 6 },
                Challenge { tick_delta: 0 },
                AdvanceTime(20),
                GenuineOpen { cmd: 0 },
            ],
        ),
        (
            "session-expires",
            vec![
                GenuineOpen { cmd: 3 },
                AdvanceTime(121),
                GenuineCommand { cmd: 0 },
                Replay(1),
            ],
        ),
        (
            "credential-expires",
            vec![
                AdvanceTime(600),
                GenuineOpen { cmd: 0 },
                GenuineCommand { cmd: 4 },
            ],
        ),
        (
            "raw-and-flips",
            vec![
                GenuineOpen { cmd: 3 },
                Raw(vec![1, 0x12, 1, 0, 0, 0, 0]),
                Raw(vec![1, 0x11, 0, 0, 0]),
                FlipBit { msg: 1, bit: 17 },
                FlipBit { msg: 1, bit: 8 },
                GenuineCommand { cmd: 0 },
                Replay(2),
            ],
        ),
        (
            "prepared-and-held-links",
            vec![
                Prepare,
                GenuineOpen { cmd: 3 },
                GenuineCommand { cmd: 2 },
                Prepare,
                Challenge { tick_delta: 1 },
                GenuineOpen { cmd: 0 },
                Challenge { tick_delta: 1 },
                GenuineCommand { cmd: 6 + 7 * 9 },
                GenuineOpen { cmd: 1 },
                Prepare,
                Reboot,
                Anchor,
                GenuineOpen { cmd: 3 },
            ],
        ),
        (
            "receipts-after-many-events",
            vec![
                GenuineOpen { cmd: 0 },
                GenuineCommand { cmd: 1 },
                GenuineCommand { cmd: 0 },
                GenuineCommand { cmd: 1 },
                GenuineCommand { cmd: 0 },
                GenuineCommand { cmd: 0 },
                Reboot,
                Anchor,
                GenuineOpen { cmd: 4 },
                GenuineCommand { cmd: 7 * 3 + 4 },
            ],
        ),
    ];
    for (name, ops) in seeds {
        let bytes = lock_session::encode_ops(&ops);
        let decoded =
            Vec::<Op>::arbitrary_take_rest(Unstructured::new(&bytes)).expect("the seed decodes");
        assert_eq!(decoded, ops, "seed {name} does not decode to its ops");
        lock_session::lock_session(&ops);
        write("lock_session", name, &bytes);
    }
}

/// A genuine challenge from the lock with identity `seed`.
fn challenge_from(seed: u8) -> Vec<u8> {
    let mut lock = Lock::install(key(seed), owner().public_key(), Mem::new()).expect("install");
    let mut ch = [0u8; 256];
    let n = lock
        .challenge(Tick::from_secs(7), &mut rng(seed), &mut ch)
        .expect("challenge");
    ch[..n].to_vec()
}

fn phone_session_seeds() {
    let genuine = challenge_from(2);
    let other = challenge_from(5);
    let chunk = |b: &[u8]| {
        let mut v = vec![u8::try_from(b.len()).expect("short")];
        v.extend_from_slice(b);
        v
    };
    // Ops: 0 cmd (send), 1 i (deliver), 2 chunk (fuzz), 3 i bit16 (flip), 4 i chunk (splice).
    let ops_in_order: Vec<u8> = vec![1, 0, 0, 3, 1, 1, 0, 0, 1, 2, 0, 1, 1, 3, 0, 2, 1, 4];
    let ops_mixed: Vec<u8> = [
        vec![0, 3, 0, 4, 1, 2, 1, 1, 1, 0],
        vec![2, 10, 1, 0x13, 1, 0, 0, 0, 9, 9, 9, 9],
        vec![3, 1, 0x30, 0],
        vec![4, 2, 3, 0xAA, 0xBB, 0xCC],
        vec![0, 2, 1, 3, 0, 3],
    ]
    .concat();
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        (
            "genuine-challenge",
            [chunk(&genuine), ops_in_order.clone()].concat(),
        ),
        (
            "other-lock-challenge",
            [chunk(&other), ops_mixed.clone()].concat(),
        ),
        (
            "truncated-challenge",
            [chunk(&genuine[..genuine.len() - 1]), ops_mixed.clone()].concat(),
        ),
        (
            "flipped-challenge",
            [chunk(&flip_bit(&genuine, 300)), ops_in_order].concat(),
        ),
        ("empty-challenge", [vec![0], ops_mixed].concat()),
    ];
    for (name, bytes) in seeds {
        phone_session(&bytes);
        write("phone_session", name, &bytes);
    }
}

/// A lock state after real use: an unlock, a relock, a boot, revocations and a time zone.
fn used_state() -> LockState {
    let mut lock = install();
    let mut r = rng(40);
    set_time(
        &mut lock,
        Tick::from_secs(50),
        T0 - Seconds::from_secs(50),
        &mut r,
    );
    let credential = courier_credential();
    let mut ch = [0u8; 256];
    let n = lock
        .challenge(Tick::from_secs(100), &mut r, &mut ch)
        .expect("challenge");
    let mut open = [0u8; OUT_LEN];
    let (mut phone, m) =
        PhoneSession::open(&ch[..n], &credential, Command::Unlock, &mut r, &mut open)
            .expect("open");
    let mut out = [0u8; OUT_LEN];
    lock.handle(Tick::from_secs(100), &mut open[..m], &mut out)
        .expect("unlock");
    let mut msg = [0u8; 64];
    let k = phone.command(Command::Lock, &mut msg).expect("command");
    lock.handle(Tick::from_secs(101), &mut msg[..k], &mut out)
        .expect("relock");
    let storage = lock.into_storage();
    let mut lock = Lock::boot(lock_key(), storage).expect("boot");
    let owner = owner();
    for (version, change) in [
        Change::RevokeId {
            id: CredentialId([9; 16]),
            until: Some(T0 + Seconds::from_secs(1000)),
        },
        Change::RevokeKey(key(8).public_key()),
        Change::SetTimeZone(TzRule::parse("CET-1CEST,M3.5.0,M10.5.0/3").expect("tz")),
        Change::AddTimeKey(key(6).public_key()),
    ]
    .into_iter()
    .enumerate()
    {
        let update = ConfigUpdate {
            lock: lock_id(),
            version: version as u64 + 1,
            signer: owner.public_key(),
            change,
        };
        // Each update travels as an owner's phone would carry it: in an anonymous session.
        let mut signed = [0u8; 256];
        let len = update.sign(owner, &mut signed).expect("sign");
        let at = Tick::from_secs(200 + version as u64);
        let n = lock.challenge(at, &mut r, &mut ch).expect("challenge");
        let config = Command::Config(&signed[..len]);
        let (_, m) = PhoneSession::open_anonymous(&ch[..n], &lock_id(), config, &mut r, &mut open)
            .expect("open");
        lock.handle(at, &mut open[..m], &mut out).expect("applies");
    }
    lock.state().clone()
}

fn admin_decode_seeds() {
    let owner = owner();
    let changes = [
        ("add-owner", Change::AddOwner(key(5).public_key())),
        ("remove-owner", Change::RemoveOwner(key(5).public_key())),
        (
            "revoke-id",
            Change::RevokeId {
                id: CredentialId([3; 16]),
                until: Some(T0 + DAY),
            },
        ),
        ("revoke-key", Change::RevokeKey(key(4).public_key())),
        ("set-epoch", Change::SetEpoch(300)),
        (
            "set-time-zone",
            Change::SetTimeZone(TzRule::parse("CET-1CEST,M3.5.0,M10.5.0/3").expect("tz")),
        ),
        ("set-challenge-lifetime", Change::SetChallengeLifetime(30)),
        ("add-time-key", Change::AddTimeKey(key(6).public_key())),
        (
            "remove-time-key",
            Change::RemoveTimeKey(key(6).public_key()),
        ),
        ("reset-clock", Change::ResetClock(T0)),
    ];
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, (name, change)) in changes.into_iter().enumerate() {
        let mut out = [0u8; 512];
        let n = ConfigUpdate {
            lock: lock_id(),
            version: 1 + 1000 * i as u64,
            signer: owner.public_key(),
            change,
        }
        .sign(owner, &mut out)
        .expect("sign");
        seeds.push((format!("config-{name}"), out[..n].to_vec()));
    }
    let mut out = [0u8; 512];
    let n = TimeAnchor {
        lock: lock_id(),
        nonce: [5; 16],
        time: T0,
        signer: owner.public_key(),
    }
    .sign(owner, &mut out)
    .expect("sign");
    seeds.push(("time-anchor".into(), out[..n].to_vec()));
    seeds.push(("challenge-untrusted-clock".into(), challenge_from(2)));
    let mut lock = install();
    let mut r = rng(41);
    set_time(&mut lock, Tick::from_secs(50), T0, &mut r);
    let mut ch = [0u8; 256];
    let n = lock
        .challenge(Tick::from_secs(60), &mut r, &mut ch)
        .expect("challenge");
    seeds.push(("challenge-trusted-clock".into(), ch[..n].to_vec()));

    let mut buf = [0u8; MAX_STATE_BYTES];
    let fresh = install().state().clone();
    let n = fresh.encode(&mut buf).expect("encode");
    seeds.push(("state-fresh".into(), buf[..n].to_vec()));
    let used = used_state();
    let n = used.encode(&mut buf).expect("encode");
    seeds.push(("state-used".into(), buf[..n].to_vec()));

    let id = lock_id();
    let signer = lock_key();
    for (i, receipt) in used.backlog.as_slice().iter().enumerate().take(3) {
        let n = receipt.sign(&id, &signer, &mut buf).expect("sign receipt");
        seeds.push((format!("receipt-{i}"), buf[..n].to_vec()));
    }
    let n = Head {
        seq: used.receipts.seq,
        hash: used.receipts.hash,
        time: Some(T0),
    }
    .sign(&id, &signer, &mut buf)
    .expect("sign head");
    seeds.push(("head".into(), buf[..n].to_vec()));

    for (name, bytes) in seeds {
        admin_decode(&bytes);
        write("admin_decode", &name, &bytes);
    }
}

fn storage_recover_seeds() {
    let mut state = [0u8; MAX_STATE_BYTES];
    let n = used_state().encode(&mut state).expect("encode");
    let state = &state[..n];
    let small = b"small committed state".as_slice();
    let size_of = |b: u8| usize::from(b) * 4;
    let erased = |b: u8| vec![0xFF; size_of(b)];
    let rec = |b: u8, seq: u64, data: &[u8]| make_record(size_of(b), seq, data);
    let mut torn = rec(64, 8, small);
    torn[40] ^= 0x01;
    let mut oversize_len = rec(64, 9, small);
    oversize_len[12..16].copy_from_slice(&1000u32.to_le_bytes());
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        ("erased", storage_seed(64, 0x05, &erased(64), &erased(64))),
        (
            "one-record-a",
            storage_seed(64, 0x03, &rec(64, 0, small), &erased(64)),
        ),
        (
            "newest-in-b",
            storage_seed(64, 0x82, &rec(64, 6, small), &rec(64, 7, b"newer")),
        ),
        (
            "newest-b-torn",
            storage_seed(64, 0x41, &rec(64, 7, small), &torn),
        ),
        (
            "length-past-region",
            storage_seed(64, 0x02, &oversize_len, &rec(64, 3, small)),
        ),
        (
            "tie",
            storage_seed(64, 0x04, &rec(64, 5, small), &rec(64, 5, b"tie b")),
        ),
        (
            "seq-max",
            storage_seed(64, 0x01, &erased(64), &rec(64, u64::MAX, small)),
        ),
        ("tiny-region", storage_seed(7, 0x00, &[0x44, 0x4B], &[])),
        (
            "lock-state-large-region",
            storage_seed(255, 0x3F, &rec(255, 41, state), &rec(255, 40, small)),
        ),
        ("garbage", storage_seed(16, 0xC7, &[0x5A; 64], &[0x44; 64])),
    ];
    for (name, bytes) in seeds {
        storage_recover(&bytes);
        write("storage_recover", name, &bytes);
    }
}

fn main() {
    if let Some(path) = std::env::args().nth(1) {
        // Replay one lock_session input (e.g. a crash artifact) with LOCK_SESSION_TRACE=1.
        let bytes = fs::read(path).expect("read input");
        let ops = Vec::<Op>::arbitrary_take_rest(Unstructured::new(&bytes)).unwrap_or_default();
        lock_session::lock_session(&ops);
        return;
    }
    lock_session_seeds();
    phone_session_seeds();
    admin_decode_seeds();
    storage_recover_seeds();
}
