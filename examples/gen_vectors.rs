//! Regenerates the golden test vectors in `tests/vectors/` from fixed seeds.
//!
//! `cargo run --example gen_vectors` rewrites the files; `-- --check` only compares and fails
//! if they are stale. `tests/vectors.rs` checks every case against the crate.
//!
//! - `credential.json`: credential chains and the result a lock gives for each.
//! - `session.json`: a recorded time-anchor session and courier visit, every message in
//!   order, with the key schedule derived from the primitives docs/PROTOCOL.md names.
//! - `receipts.json`: the receipt bundle a courier fetches after a delivery, every receipt
//!   decoded with its chain hash, and broken copies of the bundle with the findings the
//!   server's receipt log reports for each, and uploads of several bundles in several orders.
//! - `negative.json`: messages a conforming implementation must refuse, each with its spec
//!   section and the exact error.
//! - `verdicts.json`: genuinely signed chains, each with the lock configuration it is verified
//!   under and the verdict: narrowing, revocation, owner hints, schedules and time zones.
//! - `behaviour.json`: recorded scenarios, each with a fresh lock, as `session.json` records
//!   its sessions: holder signatures a lock refuses, denials, receipts, the clock, lifetimes.
//! - `storage.json`: state images (16.1) with their meaning, the flash records (16.5) that hold
//!   them, and what a load makes of two regions.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/flash.rs"]
mod flash;

use chacha20::ChaCha20Rng;
use common::*;
use doorkey::config::{Change, Forget, TimeAnchor};
use doorkey::credential::{Chain, CredentialId, Link, LockId, Revocations, Rights, Scope};
use doorkey::crypto::{
    HolderSigner, P256DeviceKey, P256PublicKey, PublicKey, SecretKey, Signer, SubjectKey, labels,
};
use doorkey::lock::{DoorEvent, Enrolment, Lock};
use doorkey::phone::{Credential, PhoneSession, inspect_challenge};
use doorkey::receipt::{Head, Parsed, Receipt};
use doorkey::server::{Finding, ReceiptLog};
use doorkey::session::{Command, DEFAULT_CHALLENGE_LIFETIME, NONCE_LEN, OPEN_CLEAR_LEN, Reply};
use doorkey::time::{Schedule, Seconds, Tick, TzRule, UnixTime, WeeklyWindow};
use doorkey::wire::{Bounded, Kind};
use serde_json::{Value, json};

const TZ: &str = "CET-1CEST,M3.5.0,M10.5.0/3";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn expect(
    lock: &Enrolment,
    chain: &[u8],
    now: Option<UnixTime>,
    revoked: &dyn Revocations,
) -> Value {
    match lock.verify_chain(chain, now, revoked) {
        Ok(g) => {
            json!({"result": "ok", "holder": hex(g.holder.as_bytes()), "owner": hex(&g.owner.0), "rights": g.rights.bits()})
        }
        Err(e) => json!({"result": format!("{e:?}")}),
    }
}

fn credential_vectors() -> Value {
    let mut w = World::new();
    let tz = TzRule::parse(TZ).expect("tz");
    w.lock.set_time_zone(tz).expect("tz");
    let mut tz_bytes = [0u8; 64];
    let tz_len = doorkey::wire::put(&tz, &mut tz_bytes).expect("tz encodes");
    let owner = w.owner.public_key();
    let company_link = w.company_link();
    let company = Chain::root(&w.owner, &company_link).expect("root");
    let courier_link = w.courier_link();
    let courier = company.extend(&w.company, &courier_link).expect("extend");

    let depot = key(5);
    let mut depot_link = company_link;
    depot_link.subject = depot.public_key().into();
    depot_link.scope = Scope::Inherit;
    depot_link.depth = 0;
    depot_link.id.0 = [0xd0; 16];
    let mut deep_company_link = company_link;
    deep_company_link.depth = 2;
    deep_company_link.id.0 = [0xc0; 16];
    let deep = Chain::root(&w.owner, &deep_company_link).expect("root");
    let mut depot_link2 = depot_link;
    depot_link2.depth = 1;
    let three = deep
        .extend(&w.company, &depot_link2)
        .and_then(|c| c.extend(&depot, &w.courier_link()))
        .expect("three links");

    let mut walker = company_link;
    walker.rights = Rights::UNLOCK.union(Rights::LOCK);
    walker.depth = 0;
    walker.schedule = Some(Schedule {
        windows: Bounded::from_slice(&[WeeklyWindow {
            days: 0b0001_1111,
            start: 12 * 60,
            length: 60,
        }])
        .expect("w"),
        exceptions: Bounded::new(),
    });
    let scheduled = Chain::root(&w.owner, &walker).expect("scheduled");

    let mut widened = courier_link;
    widened.lifetime = Some(Seconds::from_days(40));
    let widened = raw_chain(&owner, &[(&w.owner, company_link), (&w.company, widened)]);
    let stranger = key(66);
    let foreign = raw_chain(&stranger.public_key(), &[(&stranger, company_link)]);
    let mut flipped = courier.as_bytes().to_vec();
    let n = flipped.len();
    flipped[n - 1] ^= 0x01;
    let mut v2 = courier.as_bytes().to_vec();
    v2[0] = 2;
    let mut trailing = courier.as_bytes().to_vec();
    trailing.push(0);
    let truncated = &courier.as_bytes()[..courier.as_bytes().len() - 1];
    let mut p256_link = courier_link;
    p256_link.subject = p256_courier().holder_key();
    let p256 = company.extend(&w.company, &p256_link).expect("P-256 leaf");

    // 2026-06-01 is a Monday; 12:00 CEST = 10:00Z.
    let noon = T0 - Seconds::from_hours(2);
    let cases: Vec<(&str, &[u8], Option<UnixTime>)> = vec![
        ("one link, owner to company", company.as_bytes(), Some(T0)),
        (
            "two links, one-off courier grant",
            courier.as_bytes(),
            Some(T0 + secs(1)),
        ),
        (
            "two links, one-off grant to a P-256 courier key",
            p256.as_bytes(),
            Some(T0 + secs(1)),
        ),
        (
            "three links, owner to company to depot to courier",
            three.as_bytes(),
            Some(T0 + secs(1)),
        ),
        (
            "courier grant at its last second",
            courier.as_bytes(),
            Some(T0 + secs(599)),
        ),
        (
            "courier grant expired",
            courier.as_bytes(),
            Some(T0 + secs(600)),
        ),
        (
            "courier grant not yet valid",
            courier.as_bytes(),
            Some(T0 - secs(1)),
        ),
        (
            "courier grant, lock clock untrusted",
            courier.as_bytes(),
            None,
        ),
        (
            "weekday-noon schedule, inside",
            scheduled.as_bytes(),
            Some(noon + secs(1800)),
        ),
        (
            "weekday-noon schedule, one second after",
            scheduled.as_bytes(),
            Some(noon + Seconds::from_hours(1)),
        ),
        (
            "child widens its parent's window",
            &widened,
            Some(T0 + secs(1)),
        ),
        (
            "root signed by an owner the lock does not know",
            &foreign,
            Some(T0),
        ),
        ("last signature bit flipped", &flipped, Some(T0 + secs(1))),
        ("unknown version", &v2, Some(T0 + secs(1))),
        ("trailing byte", &trailing, Some(T0 + secs(1))),
        ("truncated by one byte", truncated, Some(T0 + secs(1))),
    ];
    let cases: Vec<Value> = cases
        .into_iter()
        .map(|(name, chain, now)| json!({"name": name, "chain": hex(chain), "now": now, "expect": expect(&w.lock, chain, now, &())}))
        .collect();
    json!({
        "description": "doorkey credential chains (docs/PROTOCOL.md). Keys are RFC 8032 seeds of 32 repeated bytes; the P-256 courier key (3.8) is the big-endian scalar `p256_courier_secret`, `p256_courier_public` its compressed point. A lock with `lock_seed`, owner `owner_public` enrolled, epoch 0, time zone `time_zone_rule` (the encoded `TzRule`; `time_zone` is the same rule as a POSIX TZ string), verifying `chain` at UTC second `now` (null: clock untrusted) must give `expect.result`: ok, or the error named.",
        "owner_seed": hex(&[1; 32]),
        "owner_public": hex(&owner.0),
        "lock_seed": hex(&[2; 32]),
        "lock_public": hex(&w.lock.public_key().0),
        "lock_id": hex(&w.lock_id().0),
        "company_public": hex(&w.company.public_key().0),
        "courier_public": hex(&w.courier.public_key().0),
        "p256_courier_secret": hex(&P256_COURIER),
        "p256_courier_public": hex(&p256_courier().public_key().0),
        "time_zone": TZ,
        "time_zone_rule": hex(&tz_bytes[..tz_len]),
        "cases": cases,
    })
}

/// Seed of the lock's random number generator in `session.json` (32 repeated bytes).
const LOCK_RNG_SEED: u8 = 0x0b;
/// Seed of the phone's random number generator in `session.json`.
const PHONE_RNG_SEED: u8 = 0x0c;
/// Tick of the anonymous session's challenge, and what the anchor it carries says.
const ANCHOR_TICK: Tick = Tick::from_secs(100);
const ANCHOR_TIME: UnixTime = UnixTime::from_secs(1_780_315_210);
/// Tick of the courier's challenge.
const VISIT_TICK: Tick = Tick::from_secs(130);

/// The enum variant's name without its fields: `TimeSet(1780315210)` -> `TimeSet`.
fn variant<T: std::fmt::Debug>(value: &T) -> String {
    let text = format!("{value:?}");
    let end = text.find(['(', ' ', '{']).unwrap_or(text.len());
    text[..end].to_string()
}

/// A reply as the vectors spell it: its `Debug` form, with a time as a plain UTC second.
fn reply_text(reply: &Reply<'_>) -> String {
    match reply {
        Reply::TimeSet(t) => format!("TimeSet({})", t.as_secs()),
        other => format!("{other:?}"),
    }
}

fn sha512_32(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha512::new();
    for p in parts {
        h.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(&h.finalize()[..32]);
    out
}

/// 32 bytes the next `EphemeralSecret::random_from_rng(rng)` will take, after `skip` bytes,
/// read from a second generator set to the same stream position.
fn peek(seed: u8, at: &ChaCha20Rng, skip: usize) -> [u8; 32] {
    use rand_core::Rng;
    let mut probe = rng(seed);
    probe.set_word_pos(at.get_word_pos());
    let mut skipped = vec![0u8; skip];
    probe.fill_bytes(&mut skipped);
    let mut out = [0u8; 32];
    probe.fill_bytes(&mut out);
    out
}

/// The key schedule of docs/PROTOCOL.md, from the primitives: X25519 on both sides, the
/// challenge digest, the transcript hash, HKDF-SHA512 split phone-to-lock then lock-to-phone.
struct Derived {
    lock_secret: [u8; 32],
    phone_secret: [u8; 32],
    shared: [u8; 32],
    digest: [u8; 32],
    transcript: [u8; 32],
    p2l: [u8; 32],
    l2p: [u8; 32],
}

impl Derived {
    fn new(
        challenge: &[u8],
        open: &[u8],
        lock_secret: [u8; 32],
        phone_secret: [u8; 32],
    ) -> Derived {
        use curve25519_dalek::montgomery::MontgomeryPoint;
        let lock_public = MontgomeryPoint::mul_base_clamped(lock_secret).to_bytes();
        let phone_public = MontgomeryPoint::mul_base_clamped(phone_secret).to_bytes();
        assert_eq!(challenge[50..82], lock_public, "lock ephemeral key");
        assert_eq!(open[18..50], phone_public, "phone ephemeral key");
        let shared = MontgomeryPoint(lock_public)
            .mul_clamped(phone_secret)
            .to_bytes();
        assert_eq!(
            shared,
            MontgomeryPoint(phone_public)
                .mul_clamped(lock_secret)
                .to_bytes()
        );
        let digest = sha512_32(&[labels::CHALLENGE_DIGEST, challenge]);
        let transcript = sha512_32(&[labels::TRANSCRIPT, &digest, &open[..OPEN_CLEAR_LEN]]);
        assert_eq!(digest, doorkey::session::challenge_digest(challenge));
        assert_eq!(
            transcript,
            doorkey::session::transcript(&digest, &open[..OPEN_CLEAR_LEN])
        );
        let mut okm = [0u8; 64];
        hkdf::Hkdf::<sha2::Sha512>::new(Some(labels::SESSION), &shared)
            .expand(&transcript, &mut okm)
            .expect("hkdf");
        let mut p2l = [0u8; 32];
        let mut l2p = [0u8; 32];
        p2l.copy_from_slice(&okm[..32]);
        l2p.copy_from_slice(&okm[32..]);
        Derived {
            lock_secret,
            phone_secret,
            shared,
            digest,
            transcript,
            p2l,
            l2p,
        }
    }

    /// Decrypts a sealed message: an open (counter 0, AAD the 50 clear bytes) or a command or
    /// reply (counter and AAD from its 6-byte header).
    fn plaintext(&self, message: &[u8]) -> Vec<u8> {
        use chacha20poly1305::aead::{AeadInOut, KeyInit};
        use chacha20poly1305::{ChaCha20Poly1305, Nonce, Tag};
        let (key, counter, clear) = match message[1] {
            0x11 => (&self.p2l, 0, OPEN_CLEAR_LEN),
            0x12 => (
                &self.p2l,
                u32::from_le_bytes(message[2..6].try_into().expect("counter")),
                6,
            ),
            _ => (
                &self.l2p,
                u32::from_le_bytes(message[2..6].try_into().expect("counter")),
                6,
            ),
        };
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&counter.to_le_bytes());
        let (aad, sealed) = message.split_at(clear);
        let (ciphertext, tag) = sealed.split_at(sealed.len() - 16);
        let mut buf = ciphertext.to_vec();
        ChaCha20Poly1305::new(&(*key).into())
            .decrypt_inout_detached(
                &Nonce::from(nonce),
                aad,
                buf.as_mut_slice().into(),
                &Tag::try_from(tag).expect("tag"),
            )
            .expect("the derived key opens the message");
        buf
    }

    fn json(&self) -> Value {
        json!({
            "lock_ephemeral_secret": hex(&self.lock_secret),
            "phone_ephemeral_secret": hex(&self.phone_secret),
            "shared_secret": hex(&self.shared),
            "challenge_digest": hex(&self.digest),
            "transcript_hash": hex(&self.transcript),
            "key_phone_to_lock": hex(&self.p2l),
            "key_lock_to_phone": hex(&self.l2p),
        })
    }
}

/// Records one session: the lock's and the phone's messages in order, with ticks.
struct Recorder {
    messages: Vec<Value>,
}

impl Recorder {
    fn challenge(&mut self, tick: Tick, bytes: &[u8]) {
        self.messages.push(
            json!({"from": "lock", "message": "Challenge", "tick": tick.as_secs(), "bytes": hex(bytes)}),
        );
    }

    /// Hands a phone message to the lock, records both, and returns the reply as the phone
    /// reads it; or, if the lock refuses the message without a reply, records the error and
    /// returns `None`.
    fn exchange(
        &mut self,
        lock: &mut Lock<Mem>,
        phone: &mut PhoneSession,
        keys: &Derived,
        tick: Tick,
        message: &[u8],
        command: &Command<'_>,
    ) -> Option<String> {
        let mut input = message.to_vec();
        let mut out = [0u8; 2400];
        let kind = variant(&if message[1] == 0x11 {
            Kind::Open
        } else {
            Kind::Command
        });
        let outcome = match lock.handle(tick, &mut input, &mut out) {
            Ok(outcome) => outcome,
            Err(e) => {
                self.messages.push(json!({
                    "from": "phone",
                    "message": kind,
                    "tick": tick.as_secs(),
                    "bytes": hex(message),
                    "command": variant(command),
                    "expect": {"error": format!("{e:?}")},
                }));
                return None;
            }
        };
        let reply_bytes = out[..outcome.reply].to_vec();
        let reply = phone
            .read_reply(&mut out[..outcome.reply])
            .map(|r| reply_text(&r))
            .expect("the phone reads the reply");
        let name = reply
            .split(['(', ' ', '{'])
            .next()
            .unwrap_or_default()
            .to_string();
        self.messages.push(json!({
            "from": "phone",
            "message": kind,
            "tick": tick.as_secs(),
            "bytes": hex(message),
            "plaintext": hex(&keys.plaintext(message)),
            "command": variant(command),
            "expect": {
                "action": format!("{:?}", outcome.action),
                "reply": name,
                "denied": outcome.denied.map(|e| format!("{e:?}")),
            },
        }));
        self.messages.push(json!({
            "from": "lock",
            "message": "Reply",
            "tick": tick.as_secs(),
            "bytes": hex(&reply_bytes),
            "plaintext": hex(&keys.plaintext(&reply_bytes)),
            "reply": reply,
        }));
        Some(reply)
    }
}

fn session_vectors() -> Value {
    let mut w = World::new();
    let chain = w.courier_chain();
    let owner = key(1);
    let mut lock = install(&w);
    let lock_id = lock.id();
    let mut lock_rng = rng(LOCK_RNG_SEED);
    let mut phone_rng = rng(PHONE_RNG_SEED);

    // Session 1: a phone without a credential carries an owner-signed time anchor, bound to
    // the nonce of the challenge it answers.
    let mut rec = Recorder {
        messages: Vec::new(),
    };
    let mut challenge = [0u8; 256];
    let lock_secret = peek(LOCK_RNG_SEED, &lock_rng, NONCE_LEN);
    let c = lock
        .challenge(ANCHOR_TICK, &mut lock_rng, &mut challenge)
        .expect("challenge");
    let challenge = &challenge[..c];
    rec.challenge(ANCHOR_TICK, challenge);
    let info = inspect_challenge(challenge, &lock_id).expect("genuine challenge");
    assert!(!info.clock_trusted);
    let mut anchor = [0u8; 256];
    let a = TimeAnchor {
        lock: lock_id,
        nonce: info.nonce,
        time: ANCHOR_TIME,
        signer: owner.public_key(),
    }
    .sign(&owner, &mut anchor)
    .expect("anchor");
    let anchor = &anchor[..a];
    let phone_secret = peek(PHONE_RNG_SEED, &phone_rng, 0);
    let mut open = [0u8; 2048];
    let command = Command::Time(anchor);
    let (mut phone, m) =
        PhoneSession::open_anonymous(challenge, &lock_id, command, &mut phone_rng, &mut open)
            .expect("open");
    let open = &open[..m];
    let keys = Derived::new(challenge, open, lock_secret, phone_secret);
    let reply = rec.exchange(
        &mut lock,
        &mut phone,
        &keys,
        ANCHOR_TICK + secs(1),
        open,
        &command,
    );
    assert_eq!(reply, Some(format!("TimeSet({})", ANCHOR_TIME.as_secs())));
    let anonymous = json!({
        "name": "anonymous session delivering a time anchor",
        "derived": keys.json(),
        "messages": rec.messages,
    });

    // Session 2: the courier's visit: unlock with the two-link chain, relock, close.
    let mut rec = Recorder {
        messages: Vec::new(),
    };
    let mut challenge = [0u8; 256];
    let lock_secret = peek(LOCK_RNG_SEED, &lock_rng, NONCE_LEN);
    let c = lock
        .challenge(VISIT_TICK, &mut lock_rng, &mut challenge)
        .expect("challenge");
    let challenge = &challenge[..c];
    rec.challenge(VISIT_TICK, challenge);
    assert!(
        inspect_challenge(challenge, &lock_id)
            .expect("genuine")
            .clock_trusted
    );
    let courier = Credential::new(chain.as_bytes(), key(4)).expect("credential");
    let phone_secret = peek(PHONE_RNG_SEED, &phone_rng, 0);
    let mut open = [0u8; 2048];
    let (mut phone, m) = PhoneSession::open(
        challenge,
        &courier,
        Command::Unlock,
        &mut phone_rng,
        &mut open,
    )
    .expect("open");
    let open = &open[..m];
    let keys = Derived::new(challenge, open, lock_secret, phone_secret);
    // The open's plaintext is the command (Unlock, one byte) and the proof, whose last 64
    // bytes are the holder's signature over the label, the transcript hash and the command.
    let plain = keys.plaintext(open);
    let holder_message = [labels::HOLDER, &keys.transcript, &plain[..1]].concat();
    let holder_signature =
        doorkey::crypto::Signature(plain[plain.len() - 64..].try_into().expect("sig"));
    key(4)
        .public_key()
        .verify_strict(&holder_message, &holder_signature)
        .expect("holder signature");
    let mut steps = vec![(VISIT_TICK + secs(1), open.to_vec(), Command::Unlock)];
    for (tick, command) in [
        (VISIT_TICK + secs(40), Command::Lock),
        (VISIT_TICK + secs(41), Command::Close),
    ] {
        let mut msg = [0u8; 64];
        let n = phone.command(command, &mut msg).expect("command");
        steps.push((tick, msg[..n].to_vec(), command));
    }
    let mut replies = Vec::new();
    for (tick, msg, command) in &steps {
        replies.push(
            rec.exchange(&mut lock, &mut phone, &keys, *tick, msg, command)
                .expect("the lock answers"),
        );
    }
    assert_eq!(replies, ["Unlocked", "Locked", "Closed"]);
    let visit = json!({
        "name": "courier visit: unlock with a two-link one-off grant, relock, close",
        "derived": keys.json(),
        "holder_signed_message": hex(&holder_message),
        "messages": rec.messages,
    });

    json!({
        "description": "A recorded lock/phone exchange (docs/PROTOCOL.md 9.1, sections 11 to 14): an anonymous phone delivers a time anchor, then the courier unlocks with a two-link one-off grant, relocks and closes. Keys are RFC 8032 seeds of 32 repeated bytes. A lock installed with `lock_seed` and `owner_public` as its only owner, drawing its random numbers as `rng` says from `lock_rng_seed`, regenerates every Challenge byte for byte at its tick, answers every phone message at its tick with `expect` and exactly the bytes of the Reply that follows, and refuses every phone message a second time. `derived` is each session's key schedule, computed from the recorded ephemeral secrets.",
        "rng": "ChaCha20Rng::from_seed (Rust chacha20 0.10, the rand_chacha stream): the ChaCha20 keystream of RFC 8439 with the seed as key, an all-zero nonce and the block counter from 0, in order. Per challenge the lock draws 16 nonce bytes, then 32 bytes of X25519 secret; per open the phone draws 32 bytes of X25519 secret.",
        "lock_seed": hex(&[2; 32]),
        "lock_public": hex(&lock.public_key().0),
        "lock_id": hex(&lock_id.0),
        "owner_seed": hex(&[1; 32]),
        "owner_public": hex(&owner.public_key().0),
        "courier_seed": hex(&[4; 32]),
        "courier_public": hex(&w.courier.public_key().0),
        "lock_rng_seed": hex(&[LOCK_RNG_SEED; 32]),
        "phone_rng_seed": hex(&[PHONE_RNG_SEED; 32]),
        "challenge_lifetime": DEFAULT_CHALLENGE_LIFETIME,
        "time_anchor": hex(anchor),
        "chain": hex(chain.as_bytes()),
        "sessions": [anonymous, visit],
    })
}

/// Seed of the random number generator the lock and the phones share in `receipts.json`.
const RECEIPT_RNG_SEED: u8 = 0x0d;

/// A finding as `receipts.json` writes it: its name and its fields.
fn finding(f: &Finding) -> Value {
    match *f {
        Finding::Malformed { index } => json!({"finding": "Malformed", "index": index}),
        Finding::BadSignature { index } => json!({"finding": "BadSignature", "index": index}),
        Finding::Fork { seq } => json!({"finding": "Fork", "seq": seq}),
        Finding::Duplicate { seq } => json!({"finding": "Duplicate", "seq": seq}),
        Finding::Reordered { seq } => json!({"finding": "Reordered", "seq": seq}),
        Finding::Gap { from, to } => json!({"finding": "Gap", "from": from, "to": to}),
        Finding::BrokenLink { seq } => json!({"finding": "BrokenLink", "seq": seq}),
        Finding::Truncated { signed, held } => {
            json!({"finding": "Truncated", "signed": signed, "held": held})
        }
        Finding::Unopened { index } => json!({"finding": "Unopened", "index": index}),
        other => panic!("a finding receipts.json has no form for: {other:?}"),
    }
}

/// Splits a bundle into its items (the head first, then the receipts), each as its bytes.
fn bundle_items(bundle: &[u8]) -> Vec<Vec<u8>> {
    let (_, mut rest) = Parsed::<Head>::take(bundle).expect("the bundle starts with a head");
    let mut items = vec![bundle[..bundle.len() - rest.len()].to_vec()];
    while !rest.is_empty() {
        let (_, tail) = Parsed::<Receipt>::take(rest).expect("a receipt");
        items.push(rest[..rest.len() - tail.len()].to_vec());
        rest = tail;
    }
    items
}

fn receipt_vectors() -> Value {
    let mut w = World::new();
    // The chain of docs/PROTOCOL.md 6.3: drawn first, so its ids are the ones printed there.
    let chain = w.courier_chain();
    let owner = key(1);
    let mut lock = install(&w);
    let lock_id = lock.id();
    let lock_key = lock.public_key();
    let mut rng = rng(RECEIPT_RNG_SEED);
    let courier = Credential::new(chain.as_bytes(), key(4)).expect("credential");

    // The delivery: the clock is set, the courier unlocks, the door opens and closes, the
    // courier relocks in the same session, and fetches the receipts in a new one.
    let (anchor_tick, unlock_tick, opened_tick, closed_tick, relock_tick, audit_tick, fetch_tick) =
        (100, 130, 135, 165, 170, 175, 180);
    let steps = json!([
        {"tick": 0, "step": "installed (lock_seed, owner_public as its only owner)"},
        {"tick": anchor_tick, "step": format!("an anonymous phone delivers an owner-signed time anchor for {}", (T0 + secs(10)).as_secs())},
        {"tick": unlock_tick, "step": "the courier opens a session with Unlock and the chain"},
        {"tick": opened_tick, "step": "the firmware reports the door opened"},
        {"tick": closed_tick, "step": "the firmware reports the door closed"},
        {"tick": relock_tick, "step": "the courier sends Lock in the same session"},
        {"tick": audit_tick, "step": "an anonymous phone delivers the owner's configuration update 1, SetAuditKey(audit_public)"},
        {"tick": fetch_tick, "step": "the courier opens a new session with Receipts { after: 0 }"},
    ]);
    assert_eq!(
        set_time(
            &mut lock,
            tick(anchor_tick),
            T0 + secs(10),
            &owner,
            &mut rng
        ),
        Reply::TimeSet(T0 + secs(10))
    );
    let (mut phone, _, _, reply) = visit(
        &mut lock,
        tick(unlock_tick),
        &courier,
        Command::Unlock,
        &mut rng,
    );
    assert_eq!(reply, Reply::Unlocked);
    lock.door_event(tick(opened_tick), DoorEvent::Opened)
        .expect("door opened");
    lock.door_event(tick(closed_tick), DoorEvent::Closed)
        .expect("door closed");
    let mut msg = [0u8; 64];
    let n = phone.command(Command::Lock, &mut msg).expect("command");
    assert_eq!(
        exchange(&mut lock, tick(relock_tick), &mut phone, &msg[..n]).1,
        Reply::Locked
    );
    enable_audit(&mut lock, tick(audit_tick), 1, &mut rng);
    let sealed = match visit(
        &mut lock,
        tick(fetch_tick),
        &courier,
        Command::Receipts { after: 0 },
        &mut rng,
    )
    .3
    {
        Reply::Receipts(sealed) => sealed.to_vec(),
        other => panic!("expected receipts, got {other:?}"),
    };
    let (ack, bundle) = unseal(&lock_id, &sealed);
    ack.verify(&lock_key).expect("the ack token is the lock's");

    let items = bundle_items(&bundle);
    let (head, _) = Parsed::<Head>::take(&items[0]).expect("head");
    let head = json!({
        "bytes": hex(&items[0]),
        "seq": head.body.seq,
        "hash": hex(&head.body.hash),
        "time": head.body.time,
    });
    let receipts: Vec<Value> = items[1..]
        .iter()
        .map(|bytes| {
            let (p, _) = Parsed::<Receipt>::take(bytes).expect("receipt");
            p.verify(&lock_key).expect("signed by the lock");
            let r = p.body;
            json!({
                "bytes": hex(bytes),
                "seq": r.seq,
                "prev": hex(&r.prev),
                "time": r.time,
                "event": format!("{:?}", r.event),
                "who": r.who.map(|w| json!({"id": hex(&w.id.0), "holder": hex(&w.holder.0)})),
                "session": r.session.map(|s| hex(&s)),
                "hash": hex(&p.hash(&lock_id)),
            })
        })
        .collect();
    let mut log = ReceiptLog::new(lock_key).expect("log");
    assert!(log.ingest(&bundle).unwrap().is_empty() && log.audit().unwrap().is_empty());

    // Broken copies: items[0] is the head, items[k] the receipt with sequence number k.
    let last = items.len() - 1;
    let mut removed = items.clone();
    removed.remove(3);
    let mut swapped = items.clone();
    swapped.swap(3, 4);
    let mut duplicated = items.clone();
    duplicated.insert(4, items[4].clone());
    let mut flipped = items.clone();
    let at = flipped[4].len() - 64;
    flipped[4][at] ^= 0x01;
    let mut dropped = items.clone();
    dropped.remove(last);
    let broken: Vec<Value> = [
        ("receipt 3 removed", removed),
        ("receipts 3 and 4 swapped", swapped),
        ("receipt 4 sent twice in a row", duplicated),
        (
            "receipt 4 with the low bit of its signature's first byte flipped",
            flipped,
        ),
        ("the last receipt dropped", dropped),
    ]
    .into_iter()
    .map(|(name, items)| {
        let bundle = items.concat();
        let mut log = ReceiptLog::new(lock_key).expect("log");
        let ingest: Vec<Value> = log.ingest(&bundle).unwrap().iter().map(finding).collect();
        let audit: Vec<Value> = log.audit().unwrap().iter().map(finding).collect();
        json!({"name": name, "bundle": hex(&bundle), "ingest": ingest, "audit": audit})
    })
    .collect();

    let uploads = upload_vectors(&items, &lock_id);

    json!({
        "description": "The receipt bundle (docs/PROTOCOL.md sections 18 and 19) a courier fetches after a delivery: `sealed` as the courier carries it, sealed to `audit_public` (18.8); opened with `audit_secret` it is the encoded `ack`, then `bundle`: a signed head, then every receipt the lock holds, oldest first. Keys are RFC 8032 seeds of 32 repeated bytes. Every receipt's `hash` is its chain hash and the `prev` of the next; every item verifies under `lock_public`; each `broken` bundle, ingested into an empty receipt log for `lock_public`, gives the findings `ingest` at ingestion and `audit` after it; each `uploads` case ingests its `bundles` into one empty log in each `order`, one call per bundle, with the findings `ingest` of each call and `audit` after them.",
        "lock_seed": hex(&[2; 32]),
        "lock_public": hex(&lock_key.0),
        "lock_id": hex(&lock_id.0),
        "owner_public": hex(&owner.public_key().0),
        "courier_public": hex(&w.courier.public_key().0),
        "courier_credential_id": hex(&chain.leaf().expect("leaf").id.0),
        "rng_seed": hex(&[RECEIPT_RNG_SEED; 32]),
        "steps": steps,
        "after": 0,
        "audit_secret": hex(&[11; 32]),
        "audit_public": hex(&audit().public_key()),
        "sealed": hex(&sealed),
        "ack": json!({"first": ack.first, "seq": ack.seq, "hash": hex(&ack.hash), "token": hex(&ack.token)}),
        "bundle": hex(&bundle),
        "head": head,
        "receipts": receipts,
        "broken": broken,
        "uploads": uploads,
    })
}

/// Several bundles uploaded to one receipt log, in every order (19.3): `items` are the head
/// and receipts 1 to 7 of the delivery. Each case's findings are written here from the spec;
/// generation fails if the crate disagrees, or if the audit depends on the order.
fn upload_vectors(items: &[Vec<u8>], lock_id: &LockId) -> Value {
    let lock = key(2);
    let lock_key = lock.public_key();
    let receipt = |k: usize| Parsed::<Receipt>::take(&items[k]).expect("receipt").0.body;
    let resign = |r: Receipt| {
        let mut out = [0u8; 256];
        let n = r.sign(lock_id, &lock, &mut out).expect("receipt");
        out[..n].to_vec()
    };
    // The bundle a fetch after receipt 3 would have given: a head for 3, receipts 1 to 3.
    let mut head3 = [0u8; 256];
    let n = Head {
        seq: 3,
        hash: receipt(3).hash(lock_id).expect("hash"),
        time: receipt(3).time,
    }
    .sign(lock_id, &lock, &mut head3)
    .expect("head");
    let early = [&head3[..n], &items[1], &items[2], &items[3]].concat();
    let late = [&items[..1], &items[4..]].concat().concat();
    let whole = items.concat();
    // Receipt 4 signed by the lock key with another event: a fork.
    let fork = resign(Receipt {
        event: doorkey::receipt::Event::DoorClosed,
        ..receipt(4)
    });
    // Receipt 4 signed by the lock key with a `prev` of zeros: the links into and out of it
    // break.
    let unlinked = {
        let mut b = items.to_vec();
        b[4] = resign(Receipt {
            prev: [0; 32],
            ..receipt(4)
        });
        b.concat()
    };
    // Receipt 3 with an event tag no variant has (byte 41: after header, seq, prev and time).
    let malformed = {
        let mut b = items.to_vec();
        assert_eq!(b[3][35], 1, "receipt 3 has a time of 5 bytes");
        b[3][41] = 0x7f;
        b.concat()
    };
    // Per order: the bundles' indices, the findings of each call, the audit.
    type Expected<'a> = (&'a [usize], Vec<Vec<Value>>, Vec<Value>);
    type Case<'a> = (&'a str, &'a str, Vec<Vec<u8>>, Vec<Expected<'a>>);
    let cases: Vec<Case<'_>> = vec![
        (
            "two fetches: receipts 1 to 3 with a head for 3, then 4 to 7 with a head for 7",
            "18.8, 19.3",
            vec![early, late.clone()],
            vec![
                (&[0, 1], vec![vec![], vec![]], vec![]),
                (&[1, 0], vec![vec![], vec![]], vec![]),
            ],
        ),
        (
            "the bundle and a lock-signed receipt 4 with another event",
            "19.3 I3, 20.4",
            // Of two forked receipts the log keeps the first it ingests: ingested first, the
            // fork is held and receipt 5 does not link to it (L1).
            vec![whole.clone(), fork],
            vec![
                (
                    &[0, 1],
                    vec![vec![], vec![json!({"finding": "Fork", "seq": 4})]],
                    vec![json!({"finding": "Fork", "seq": 4})],
                ),
                (
                    &[1, 0],
                    vec![vec![], vec![json!({"finding": "Fork", "seq": 4})]],
                    vec![
                        json!({"finding": "Fork", "seq": 4}),
                        json!({"finding": "BrokenLink", "seq": 5}),
                    ],
                ),
            ],
        ),
        (
            "receipt 4 signed by the lock with a prev of zeros",
            "18.4, 19.3",
            vec![unlinked],
            vec![(
                &[0],
                vec![vec![]],
                vec![
                    json!({"finding": "BrokenLink", "seq": 4}),
                    json!({"finding": "BrokenLink", "seq": 5}),
                ],
            )],
        ),
        (
            "receipt 3 with an unknown event tag, and the genuine bundle",
            "19.3 I1",
            vec![malformed, whole],
            vec![
                (
                    &[0],
                    vec![vec![json!({"finding": "Malformed", "index": 3})]],
                    vec![
                        json!({"finding": "Malformed", "index": 3}),
                        json!({"finding": "Truncated", "signed": 7, "held": 2}),
                    ],
                ),
                (
                    &[0, 1],
                    vec![vec![json!({"finding": "Malformed", "index": 3})], vec![]],
                    vec![json!({"finding": "Malformed", "index": 3})],
                ),
                (
                    &[1, 0],
                    vec![vec![], vec![json!({"finding": "Malformed", "index": 3})]],
                    vec![json!({"finding": "Malformed", "index": 3})],
                ),
            ],
        ),
    ];
    let cases: Vec<Value> = cases
        .into_iter()
        .map(|(name, section, bundles, orders)| {
            let orders: Vec<Value> = orders
                .into_iter()
                .map(|(order, ingest, audit)| {
                    let mut log = ReceiptLog::new(lock_key).expect("log");
                    let got: Vec<Vec<Value>> = order
                        .iter()
                        .map(|&i| log.ingest(&bundles[i]).expect("ingest").iter().map(finding).collect())
                        .collect();
                    assert_eq!(got, ingest, "{name} {order:?}: ingest");
                    let got: Vec<Value> = log.audit().expect("audit").iter().map(finding).collect();
                    assert_eq!(got, audit, "{name} {order:?}: audit");
                    json!({"order": order, "ingest": ingest, "audit": audit})
                })
                .collect();
            json!({"name": name, "section": section, "bundles": bundles.iter().map(|b| hex(b)).collect::<Vec<_>>(), "orders": orders})
        })
        .collect();
    json!(cases)
}

/// Signs every message with the same 64 bytes: forged signatures for `negative.json`.
struct Fixed(doorkey::crypto::PublicKey, [u8; 64]);

impl Signer for Fixed {
    fn public_key(&self) -> doorkey::crypto::PublicKey {
        self.0
    }

    fn sign(&self, _: &[u8]) -> doorkey::Result<doorkey::crypto::Signature> {
        Ok(doorkey::crypto::Signature(self.1))
    }
}

/// `s + L` (L the order of the Ed25519 base point), little-endian: the same scalar, not
/// reduced, so a strict verifier refuses it (RFC 8032 5.1.7).
fn add_order(s: &[u8]) -> [u8; 32] {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(s[i]) + u16::from(L[i]) + carry;
        out[i] = sum as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "s + L fits 256 bits");
    out
}

/// `message` with the `S` half of its trailing signature replaced by `S + L`.
fn with_s_plus_l(message: &[u8]) -> Vec<u8> {
    let mut out = message.to_vec();
    let at = out.len() - 32;
    let s = add_order(&out[at..]);
    out[at..].copy_from_slice(&s);
    out
}

/// The verdict for a non-chain case of `negative.json`, as the spec's receiver gives it.
fn negative_verdict(message: &str, bytes: &[u8], lock: &Enrolment) -> String {
    let result = match message {
        "challenge" => inspect_challenge(bytes, &lock.id()).map(|_| ()),
        "anchor" => TimeAnchor::decode(bytes).and_then(|a| a.verify(&a.body.signer, labels::TIME)),
        "update" => doorkey::config::ConfigUpdate::decode(bytes)
            .and_then(|u| u.verify(&u.body.signer, labels::CONFIG)),
        "receipt" => doorkey::receipt::verify_one(bytes, &lock.public_key()).map(|_| ()),
        "owner_key" => {
            let key = doorkey::crypto::PublicKey(bytes.try_into().expect("32 bytes"));
            lock.clone().enrol_owner(key)
        }
        other => panic!("unknown message {other}"),
    };
    match result {
        Ok(()) => "ok".to_string(),
        Err(e) => format!("{e:?}"),
    }
}

/// Chains a conforming lock MUST refuse, each with the section it exercises and the error it
/// MUST report. The expected errors are written here from the spec; generation fails if the
/// crate disagrees.
fn negative_vectors() -> Value {
    let mut w = World::new();
    let tz = TzRule::parse(TZ).expect("tz");
    w.lock.set_time_zone(tz).expect("tz");
    let owner = w.owner.public_key();
    let courier = w.courier_chain().as_bytes().to_vec();
    let now = T0 + secs(1);

    // The identity point (y = 1), of order 1; and y = p + 1, a non-canonical encoding of it.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut identity_noncanonical = [0xffu8; 32];
    identity_noncanonical[0] = 0xee;
    identity_noncanonical[31] = 0x7f;

    // A delegate whose key is the identity point, and a child "signed" by it with R = identity
    // and S = 0: [S]B = R + [k]A holds for every k, so a non-strict verifier accepts it.
    let mut small_order_link = w.company_link();
    small_order_link.subject = doorkey::crypto::PublicKey(identity).into();
    let mut zero_sig = [0u8; 64];
    zero_sig[..32].copy_from_slice(&identity);
    let courier_link = w.courier_link();
    let small_order = raw_chain(
        &owner,
        &[
            (&w.owner as &dyn Signer, small_order_link),
            (
                &Fixed(doorkey::crypto::PublicKey(identity), zero_sig),
                courier_link,
            ),
        ],
    );
    let sig_at = courier.len() - 64;
    let mut s_plus_l = courier.clone();
    let s = add_order(&courier[sig_at + 32..]);
    s_plus_l[sig_at + 32..].copy_from_slice(&s);
    let mut noncanonical_r = courier.clone();
    noncanonical_r[sig_at..sig_at + 32].copy_from_slice(&identity_noncanonical);
    let mut count_zero = courier[..7].to_vec();
    count_zero[6] = 0;
    let mut count_five = courier.clone();
    count_five[6] = 5;
    let mut root_inherit_link = w.company_link();
    root_inherit_link.scope = Scope::Inherit;
    let root_inherit = raw_chain(&owner, &[(&w.owner as &dyn Signer, root_inherit_link)]);
    let mut oversize = courier.clone();
    oversize.resize(2049, 0);
    let mut wrong_kind = courier.clone();
    wrong_kind[1] = 0x10;
    // A company link for another lock: a genuine chain that does not cover this one.
    let mut elsewhere_link = w.company_link();
    elsewhere_link.scope = Scope::Locks(Bounded::from_slice(&[LockId([0xee; 16])]).expect("one"));
    let elsewhere = Chain::root(&w.owner, &elsewhere_link).expect("root");
    // The courier's genuine link moved under another genuine company link for this lock: the
    // anchor (6.2) binds it to the parent it was issued under.
    let company_root = w.company_chain();
    let courier_leaf = &courier[company_root.as_bytes().len()..];
    let other_company = w.company_chain();
    let mut spliced = other_company.as_bytes().to_vec();
    spliced[6] = 2;
    spliced.extend_from_slice(courier_leaf);
    let mut version_two = courier.clone();
    version_two[0] = 2;
    let trailing = [&courier[..], &[0]].concat();
    // The root body starts at 7: subject (its tag 0 at 7, then 32 bytes), the scope's variant
    // index at 40, its count at 41 and lock id at 42..58, rights at 58, then not_before (a
    // varint) and the lifetime's option tag. Decoding refuses these before any signature is
    // looked at.
    const SCOPE: usize = 40;
    const RIGHTS: usize = 58;
    let mut unknown_scope = courier.clone();
    unknown_scope[SCOPE] = 2;
    let overlong_index = [&courier[..SCOPE], &[0x81, 0x00], &courier[SCOPE + 1..]].concat();
    let mut rights_zero = courier.clone();
    rights_zero[RIGHTS] = 0;
    let mut duplicate_ids = courier.clone();
    duplicate_ids[SCOPE + 1] = 2;
    let duplicate_ids = [
        &duplicate_ids[..RIGHTS],
        &courier[SCOPE + 2..RIGHTS],
        &duplicate_ids[RIGHTS..],
    ]
    .concat();
    let mut not_before = [0u8; 10];
    let tag = RIGHTS + 1 + doorkey::wire::put(&(T0 - DAY), &mut not_before).expect("varint");

    // P-256 subjects (3.8): only on the last link, only with depth 0, only a compressed point.
    let p256: SubjectKey = p256_courier().holder_key();
    let (company_link, ed_leaf) = (w.company_link(), w.courier_link());
    let mut p256_company = company_link;
    p256_company.subject = p256;
    let p256_delegates = raw_chain(&owner, &[(&w.owner as &dyn Signer, p256_company)]);
    p256_company.depth = 0;
    let p256_not_last = raw_chain(
        &owner,
        &[
            (&w.owner as &dyn Signer, p256_company),
            (&w.company, ed_leaf),
        ],
    );
    let mut p256_leaf = ed_leaf;
    p256_leaf.subject = p256;
    let p256_chain = raw_chain(
        &owner,
        &[
            (&w.owner as &dyn Signer, company_link),
            (&w.company, p256_leaf),
        ],
    );
    // The leaf's subject: tag 01 at its start, then the point's prefix byte.
    let leaf_at =
        p256_chain.len() - 64 - doorkey::wire::put(&p256_leaf, &mut [0u8; 400]).expect("leaf");
    assert_eq!(p256_chain[leaf_at], 1);
    let mut uncompressed_prefix = p256_chain.clone();
    uncompressed_prefix[leaf_at + 1] = 0x04;
    let mut subject_tag_two = p256_chain.clone();
    subject_tag_two[leaf_at] = 2;
    let mut bad_option = courier.clone();
    assert_eq!(bad_option[tag], 1, "the root link has a lifetime");
    bad_option[tag] = 2;

    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        (
            "child signed with R = identity and S = 0 under a small-order subject",
            "3.3, 3.4, 7.3 V3",
            small_order,
            "Crypto",
        ),
        ("leaf signature with S + L", "3.3", s_plus_l, "Crypto"),
        (
            "leaf signature with a non-canonical R (y = p + 1)",
            "3.3",
            noncanonical_r,
            "Crypto",
        ),
        ("chain count 0", "6.1, 7.2", count_zero, "ChainLength"),
        ("chain count 5", "6.1, 7.2", count_five, "ChainLength"),
        ("root scope Inherit", "7.3 V1", root_inherit, "Malformed"),
        ("2049 bytes", "1.4, 7.2 D1", oversize, "Oversize"),
        ("challenge kind", "2, 7.2 D2", wrong_kind, "UnexpectedKind"),
        (
            "genuine chain for another lock",
            "7.3 V5",
            elsewhere.as_bytes().to_vec(),
            "WrongLock",
        ),
        (
            "courier link spliced under another company link",
            "6.2, 7.3 V3",
            spliced,
            "Crypto",
        ),
        ("version 2", "2, 7.2 D2", version_two, "UnsupportedVersion"),
        ("trailing byte", "1.3, 6.1", trailing, "TrailingBytes"),
        (
            "root scope variant 2",
            "1.2, 5.2",
            unknown_scope,
            "Malformed",
        ),
        (
            "root scope variant index overlong (81 00)",
            "1.3",
            overlong_index,
            "Malformed",
        ),
        ("root rights 0", "5.3", rights_zero, "Malformed"),
        (
            "root lock id listed twice",
            "5.3",
            duplicate_ids,
            "Malformed",
        ),
        (
            "root lifetime option tag 02",
            "1.2",
            bad_option,
            "Malformed",
        ),
        (
            "P-256 subject with depth 1 (a P-256 key may not delegate)",
            "3.8, 5.3",
            p256_delegates,
            "Malformed",
        ),
        (
            "P-256 subject on a link that is not the last",
            "3.8, 7.2 D5.4",
            p256_not_last,
            "Malformed",
        ),
        (
            "P-256 leaf subject with prefix 04 (not a compressed point)",
            "3.8",
            uncompressed_prefix,
            "Malformed",
        ),
        (
            "leaf subject tag 02",
            "3.8, 1.2",
            subject_tag_two,
            "Malformed",
        ),
    ];
    let mut cases: Vec<Value> = cases
        .into_iter()
        .map(|(name, section, chain, error)| {
            let got = expect(&w.lock, &chain, Some(now), &());
            assert_eq!(got["result"], error, "{name}: the crate disagrees with the spec");
            json!({"name": name, "section": section, "message": "chain", "bytes": hex(&chain), "now": now, "expect": error})
        })
        .collect();

    // Strict verification in the other signed messages: each is genuine but for S + L.
    let mut lock = install(&w);
    let mut challenge = [0u8; 256];
    let n = lock
        .challenge(tick(100), &mut rng(RECEIPT_RNG_SEED), &mut challenge)
        .expect("challenge");
    let challenge = &challenge[..n];
    let nonce = inspect_challenge(challenge, &lock.id())
        .expect("genuine")
        .nonce;
    let mut anchor = [0u8; 256];
    let a = TimeAnchor {
        lock: lock.id(),
        nonce,
        time: T0,
        signer: owner,
    }
    .sign(&w.owner, &mut anchor)
    .expect("anchor");
    let update = owner_update(lock.id(), 1, doorkey::config::Change::SetEpoch(1));
    let installed = lock.state().backlog.as_slice()[0];
    let mut receipt = [0u8; 256];
    let r = installed
        .sign(&lock.id(), &key(2), &mut receipt)
        .expect("receipt");
    // A torsioned key: the courier's key plus a point of order 8.
    let courier_point = curve25519_dalek::edwards::CompressedEdwardsY(w.courier.public_key().0)
        .decompress()
        .expect("a point");
    let eight = curve25519_dalek::edwards::CompressedEdwardsY([
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ])
    .decompress()
    .expect("a point of order 8");
    let torsioned = (courier_point + eight).compress().to_bytes();
    let others: Vec<(&str, &str, &str, Vec<u8>, &str)> = vec![
        (
            "challenge signature with S + L",
            "3.3, 11.2, 13.8",
            "challenge",
            with_s_plus_l(challenge),
            "Crypto",
        ),
        (
            "time anchor signature with S + L",
            "3.3, 14.1",
            "anchor",
            with_s_plus_l(&anchor[..a]),
            "Crypto",
        ),
        (
            "configuration update signature with S + L",
            "3.3, 15.1",
            "update",
            with_s_plus_l(&update),
            "Crypto",
        ),
        (
            "receipt signature with S + L",
            "3.3, 18.5",
            "receipt",
            with_s_plus_l(&receipt[..r]),
            "Crypto",
        ),
        (
            "owner key with a torsion component",
            "3.4",
            "owner_key",
            torsioned.to_vec(),
            "WeakKey",
        ),
        (
            "owner key of small order (the identity)",
            "3.4",
            "owner_key",
            identity.to_vec(),
            "WeakKey",
        ),
    ];
    for (name, section, message, bytes, error) in others {
        let got = negative_verdict(message, &bytes, &w.lock);
        assert_eq!(got, error, "{name}: the crate disagrees with the spec");
        cases.push(json!({"name": name, "section": section, "message": message, "bytes": hex(&bytes), "expect": error}));
    }
    json!({
        "description": "Messages a conforming implementation MUST refuse, each with the spec section it exercises and the error name (docs/PROTOCOL.md 1.6) it MUST report. The lock is that of credential.json: `lock_seed`, owner `owner_public` enrolled, epoch 0, time zone `time_zone_rule`; a `chain` case is verified at UTC second `now`.",
        "owner_seed": hex(&[1; 32]),
        "owner_public": hex(&owner.0),
        "lock_seed": hex(&[2; 32]),
        "lock_id": hex(&w.lock_id().0),
        "time_zone_rule": hex(&{
            let mut b = [0u8; 64];
            let n = doorkey::wire::put(&tz, &mut b).expect("tz encodes");
            b[..n].to_vec()
        }),
        "cases": cases,
    })
}

/// The revocations a `verdicts.json` lock holds.
#[derive(Clone, Default)]
struct Revoked {
    ids: Vec<CredentialId>,
    keys: Vec<PublicKey>,
}

impl Revocations for Revoked {
    fn id_revoked(&self, id: &CredentialId) -> bool {
        self.ids.contains(id)
    }

    fn key_revoked(&self, key: &PublicKey) -> bool {
        self.keys.contains(key)
    }
}

/// A link with every field given: the one place the generator's verdict vectors build a
/// `Link`.
#[allow(clippy::too_many_arguments)]
fn link(
    subject: impl Into<SubjectKey>,
    scope: Scope,
    rights: Rights,
    not_before: u64,
    lifetime: Option<u64>,
    schedule: Option<Schedule>,
    uses: Option<u16>,
    depth: u8,
    id: u8,
    epoch: u32,
    purpose: Option<[u8; 32]>,
) -> Link {
    // A valid base with the given id, every field then overwritten: the builder validates,
    // and the narrowing vectors need links the builder would never pair.
    let mut l = Link::builder(key(1).public_key(), Rights::UNLOCK)
        .id(CredentialId([id; 16]))
        .build(&mut doorkey::FillBytes(|_: &mut [u8]| {}))
        .expect("a valid base link");
    l.subject = subject.into();
    l.scope = scope;
    l.rights = rights;
    set_window(&mut l, not_before, lifetime);
    l.schedule = schedule;
    l.uses = uses;
    l.depth = depth;
    l.epoch = epoch;
    l.purpose = purpose;
    l
}

/// Sets a link's validity: from `not_before`, for `lifetime` seconds (none: no end). With
/// [`link`], the one place the verdict vectors write a link's time fields.
fn set_window(link: &mut Link, not_before: u64, lifetime: Option<u64>) {
    link.not_before = UnixTime::from_secs(not_before);
    link.lifetime = lifetime.map(Seconds::from_secs);
}

/// The UTC second of the local wall-clock time `h:m:s` on `y-mo-d` in a zone `offset` seconds
/// east of UTC; and back, the local time a rule gives an instant, as `YYYY-MM-DDTHH:MM:SS`.
/// The one place the new vectors do calendar arithmetic.
fn utc(y: i32, mo: u8, d: u8, (h, m, s): (u64, u64, u64), offset: i64) -> u64 {
    let days = doorkey::time::days_from_civil(y, mo, d).expect("a date");
    let local = days * 86_400 + (h * 3600 + m * 60 + s) as i64;
    u64::try_from(local - offset).expect("after 1970")
}

fn local_text(tz: &TzRule, t: u64) -> String {
    let lt = tz.local(UnixTime::from_secs(t));
    let (y, mo, d) = doorkey::time::civil_from_days(lt.days);
    let s = lt.second_of_day;
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Seeds of two owner keys whose first four bytes (the owner hint, 6.1) coincide: the `u64`
/// little-endian, then 24 zero bytes, found by a birthday search over counters.
/// The verdict vectors' instants and lengths in plain seconds, as their JSON writes them.
const T0_S: u64 = T0.as_secs();
const DAY_S: u64 = DAY.as_secs();

const SHARED_HINT_SEEDS: [u64; 2] = [12_977, 96_155];

fn seed_of(n: u64) -> [u8; 32] {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&n.to_le_bytes());
    seed
}

/// One verdict case: the lock's configuration, a chain and an instant.
#[derive(Clone)]
struct Verdict {
    name: String,
    section: &'static str,
    owners: Vec<PublicKey>,
    epoch: u32,
    revoked: Revoked,
    tz: TzRule,
    chain: Vec<u8>,
    now: Option<u64>,
    expect: &'static str,
}

impl Verdict {
    /// The case as `verdicts.json` writes it; generation fails if the crate's result is not
    /// the one written from the spec.
    fn json(&self, lock_key: PublicKey) -> Value {
        let mut lock = Enrolment::new(lock_key);
        for owner in &self.owners {
            lock.enrol_owner(*owner).expect("a valid owner");
        }
        lock.set_epoch(self.epoch).expect("epoch");
        lock.set_time_zone(self.tz).expect("tz");
        let now = self.now.map(UnixTime::from_secs);
        let got = expect(&lock, &self.chain, now, &self.revoked);
        assert_eq!(
            got["result"], self.expect,
            "{}: the crate disagrees with the spec",
            self.name
        );
        let mut tz = [0u8; 64];
        let n = doorkey::wire::put(&self.tz, &mut tz).expect("tz encodes");
        json!({
            "name": self.name,
            "section": self.section,
            "lock": {
                "owners": self.owners.iter().map(|k| hex(&k.0)).collect::<Vec<_>>(),
                "epoch": self.epoch,
                "revoked_ids": self.revoked.ids.iter().map(|i| hex(&i.0)).collect::<Vec<_>>(),
                "revoked_keys": self.revoked.keys.iter().map(|k| hex(&k.0)).collect::<Vec<_>>(),
                "time_zone_rule": hex(&tz[..n]),
            },
            "chain": hex(&self.chain),
            "now": self.now,
            "local": self.now.map(|t| local_text(&self.tz, t)),
            "expect": got,
        })
    }
}

/// Verdicts of a lock on chains that decode and are genuinely signed: each narrowing rule of
/// 7.4, revocation by epoch, id and key, owners sharing a hint, and schedules at the edges of
/// exception dates, midnight, daylight-saving changes and a southern-hemisphere rule.
fn verdict_vectors() -> Value {
    let (owner, lock_key, company, courier) = (key(1), key(2), key(3), key(4));
    let lock_id = LockId::of(&lock_key.public_key());
    let berlin = TzRule::parse(TZ).expect("tz");
    let sydney = TzRule::parse("AEST-10AEDT,M10.1.0,M4.1.0/3").expect("tz");
    let this = || Scope::Locks(Bounded::from_slice(&[lock_id]).expect("one"));
    let other = LockId([0xee; 16]);
    let both = || Scope::Locks(Bounded::from_slice(&[lock_id, other]).expect("two"));
    let two_rights = Rights::UNLOCK.union(Rights::LOCK);
    let all_rights = two_rights.union(Rights::DELEGATE);
    let window = |days, start, length| WeeklyWindow::new(days, start, length).expect("window");
    let schedule = |windows: &[WeeklyWindow], exceptions: &[i64]| {
        Some(Schedule::new(windows, exceptions).expect("schedule"))
    };
    let day = |y, m, d| doorkey::time::days_from_civil(y, m, d).expect("date");
    // Monday to Friday, 08:00 for ten hours; T0 + 1 s is Monday 14:00:01 CEST.
    let office = schedule(&[window(0x1f, 8 * 60, 600)], &[]);
    let now = T0_S + 1;

    // The company's link and the courier's below it, as `credential.json` has them but with
    // fixed ids; each narrowing case changes one field.
    let company_link = || {
        link(
            company.public_key(),
            this(),
            all_rights,
            T0_S - DAY_S,
            Some(30 * DAY_S),
            None,
            None,
            1,
            0xc1,
            0,
            None,
        )
    };
    let courier_link = || {
        link(
            courier.public_key(),
            Scope::Inherit,
            two_rights,
            T0_S,
            Some(600),
            None,
            None,
            0,
            0xc2,
            0,
            None,
        )
    };
    let two = |parent: Link, child: Link| {
        raw_chain(
            &owner.public_key(),
            &[(&owner as &dyn Signer, parent), (&company, child)],
        )
    };
    let base = Verdict {
        name: String::new(),
        section: "",
        owners: vec![owner.public_key()],
        epoch: 0,
        revoked: Revoked::default(),
        tz: berlin,
        chain: two(company_link(), courier_link()),
        now: Some(now),
        expect: "ok",
    };
    let case = |name: &str, section, chain, expect| Verdict {
        name: name.to_string(),
        section,
        chain,
        expect,
        ..base.clone()
    };
    let parent_end = T0_S - DAY_S + 30 * DAY_S;
    let mut cases = Vec::new();

    // 7.4: one case per W rule, each refused, and the boundary each rule allows.
    let narrowing: Vec<(&str, &str, Link, Link, &str)> = vec![
        (
            "company and courier links, nothing widened",
            "7.3, 7.4",
            company_link(),
            courier_link(),
            "ok",
        ),
        {
            let mut c = courier_link();
            c.scope = Scope::Locks(Bounded::from_slice(&[other]).expect("one"));
            (
                "W1: child lists only a lock its parent does not cover",
                "7.4 W1",
                company_link(),
                c,
                "Widened",
            )
        },
        {
            let mut c = courier_link();
            c.scope = both();
            (
                "W1: child lists this lock and one its parent does not cover",
                "7.4 W1",
                company_link(),
                c,
                "Widened",
            )
        },
        {
            let mut c = courier_link();
            c.scope = this();
            (
                "W1: child lists exactly its parent's lock",
                "7.4 W1",
                company_link(),
                c,
                "ok",
            )
        },
        {
            let mut p = company_link();
            p.scope = both();
            let mut c = courier_link();
            c.scope = this();
            (
                "W1: child narrows its parent's two locks to this one",
                "7.4 W1, V5",
                p,
                c,
                "ok",
            )
        },
        {
            let mut p = company_link();
            p.rights = two_rights;
            (
                "W2: parent without DELEGATE",
                "7.4 W2",
                p,
                courier_link(),
                "Widened",
            )
        },
        {
            let mut p = company_link();
            p.depth = 0;
            (
                "W2: parent with depth 0",
                "7.4 W2",
                p,
                courier_link(),
                "Widened",
            )
        },
        {
            let mut c = courier_link();
            c.depth = 1;
            (
                "W3: child depth equal to its parent's",
                "7.4 W3",
                company_link(),
                c,
                "Widened",
            )
        },
        {
            let mut p = company_link();
            p.rights = Rights::UNLOCK.union(Rights::DELEGATE);
            (
                "W4: child holds LOCK, which its parent lacks",
                "7.4 W4",
                p,
                courier_link(),
                "Widened",
            )
        },
        {
            let mut c = courier_link();
            c.rights = Rights::UNLOCK;
            (
                "W4: child with fewer rights",
                "7.4 W4",
                company_link(),
                c,
                "ok",
            )
        },
        {
            let mut c = courier_link();
            set_window(&mut c, T0_S - DAY_S - 1, Some(DAY_S + 600));
            (
                "W5: child starts one second before its parent",
                "7.4 W5",
                company_link(),
                c,
                "Widened",
            )
        },
        {
            let mut c = courier_link();
            set_window(&mut c, T0_S, None);
            (
                "W5: child without an end under a parent with one",
                "7.4 W5",
                company_link(),
                c,
                "Widened",
            )
        },
        {
            let mut c = courier_link();
            set_window(&mut c, T0_S, Some(parent_end - T0_S + 1));
            (
                "W5: child ends one second after its parent",
                "7.4 W5",
                company_link(),
                c,
                "Widened",
            )
        },
        {
            let mut c = courier_link();
            set_window(&mut c, T0_S - DAY_S, Some(30 * DAY_S));
            (
                "W5: child with exactly its parent's window",
                "7.4 W5",
                company_link(),
                c,
                "ok",
            )
        },
        {
            let mut p = company_link();
            p.schedule = office;
            (
                "W6: child without a schedule under a scheduled parent",
                "7.4 W6",
                p,
                courier_link(),
                "Widened",
            )
        },
        {
            let mut p = company_link();
            p.schedule = office;
            let mut c = courier_link();
            c.schedule = schedule(&[window(0x1f, 17 * 60, 120)], &[]);
            (
                "W6: child window running an hour past its parent's",
                "7.4 W6, 4.4.2",
                p,
                c,
                "Widened",
            )
        },
        {
            let mut p = company_link();
            p.schedule = office;
            let mut c = courier_link();
            c.schedule = schedule(&[window(0x3f, 12 * 60, 180)], &[]);
            (
                "W6: child window on a Saturday its parent does not cover",
                "7.4 W6, 4.4.2",
                p,
                c,
                "Widened",
            )
        },
        {
            let mut p = company_link();
            p.schedule = office;
            let mut c = courier_link();
            c.schedule = schedule(&[window(0x01, 12 * 60, 180)], &[]);
            (
                "W6: child window inside its parent's",
                "7.4 W6, 4.4.2",
                p,
                c,
                "ok",
            )
        },
        {
            let mut p = company_link();
            p.uses = Some(5);
            (
                "W7: child without a use limit under a limited parent",
                "7.4 W7",
                p,
                courier_link(),
                "Widened",
            )
        },
        {
            let mut p = company_link();
            p.uses = Some(5);
            let mut c = courier_link();
            c.uses = Some(6);
            (
                "W7: child with more uses than its parent",
                "7.4 W7",
                p,
                c,
                "Widened",
            )
        },
        {
            let mut p = company_link();
            p.uses = Some(5);
            let mut c = courier_link();
            c.uses = Some(5);
            (
                "W7: child with as many uses as its parent",
                "7.4 W7",
                p,
                c,
                "ok",
            )
        },
        {
            let mut p = company_link();
            p.purpose = Some([7; 32]);
            (
                "W8: child without its parent's purpose",
                "7.4 W8",
                p,
                courier_link(),
                "Widened",
            )
        },
        {
            let mut p = company_link();
            p.purpose = Some([7; 32]);
            let mut c = courier_link();
            c.purpose = Some([8; 32]);
            ("W8: child with another purpose", "7.4 W8", p, c, "Widened")
        },
        {
            let mut p = company_link();
            p.purpose = Some([7; 32]);
            let mut c = courier_link();
            c.purpose = Some([7; 32]);
            ("W8: child with its parent's purpose", "7.4 W8", p, c, "ok")
        },
        {
            let mut c = courier_link();
            c.purpose = Some([7; 32]);
            (
                "W8: child adds a purpose",
                "7.4 W8",
                company_link(),
                c,
                "ok",
            )
        },
        {
            let mut c = courier_link();
            c.epoch = 1;
            (
                "W9: child epoch above its parent's",
                "7.4 W9",
                company_link(),
                c,
                "Widened",
            )
        },
    ];
    for (name, section, parent, child, expect) in narrowing {
        cases.push(case(name, section, two(parent, child), expect));
    }

    // 7.3 V5a and V6a: revocation by epoch, by id and by key.
    let epoch_links = |epoch| {
        let mut p = company_link();
        p.epoch = epoch;
        let mut c = courier_link();
        c.epoch = epoch;
        two(p, c)
    };
    cases.push(Verdict {
        epoch: 1,
        ..case(
            "lock epoch 1, chain epoch 0",
            "7.3 V6a",
            base.chain.clone(),
            "Revoked",
        )
    });
    cases.push(Verdict {
        epoch: 1,
        ..case(
            "lock epoch 1, chain epoch 1",
            "7.3 V6a",
            epoch_links(1),
            "ok",
        )
    });
    cases.push(case(
        "lock epoch 0, chain epoch 2",
        "7.3 V6a",
        epoch_links(2),
        "ok",
    ));
    let revoked = |name: &str, ids: Vec<u8>, keys: Vec<PublicKey>, expect: &'static str| Verdict {
        revoked: Revoked {
            ids: ids.into_iter().map(|i| CredentialId([i; 16])).collect(),
            keys,
        },
        ..case(name, "7.3 V5a, V6a", base.chain.clone(), expect)
    };
    cases.push(revoked(
        "the courier's link id revoked",
        vec![0xc2],
        vec![],
        "Revoked",
    ));
    cases.push(revoked(
        "the company's link id revoked",
        vec![0xc1],
        vec![],
        "Revoked",
    ));
    cases.push(revoked("an unrelated id revoked", vec![0xc3], vec![], "ok"));
    cases.push(revoked(
        "the courier's key revoked",
        vec![],
        vec![courier.public_key()],
        "Revoked",
    ));
    cases.push(revoked(
        "the company's key revoked",
        vec![],
        vec![company.public_key()],
        "Revoked",
    ));
    cases.push(revoked(
        "the owner's key revoked",
        vec![],
        vec![owner.public_key()],
        "Revoked",
    ));
    cases.push(revoked(
        "an unrelated key revoked",
        vec![],
        vec![key(5).public_key()],
        "ok",
    ));

    // 7.3 V2: two enrolled owners whose keys share the 4-byte hint.
    let [a, b] = SHARED_HINT_SEEDS.map(|n| doorkey::crypto::SecretKey::from_seed(&seed_of(n)));
    assert_eq!(
        a.public_key().0[..4],
        b.public_key().0[..4],
        "the hints coincide"
    );
    let c = key(6);
    assert_ne!(a.public_key().0[..4], c.public_key().0[..4]);
    let rooted = |root: &doorkey::crypto::SecretKey| {
        raw_chain(
            &root.public_key(),
            &[
                (root as &dyn Signer, company_link()),
                (&company, courier_link()),
            ],
        )
    };
    let hinted = |name: &str,
                  owners: Vec<PublicKey>,
                  root: &doorkey::crypto::SecretKey,
                  expect: &'static str| Verdict {
        owners,
        ..case(name, "6.1, 7.3 V2", rooted(root), expect)
    };
    cases.push(hinted(
        "owners A and B share a hint; chain rooted in B",
        vec![a.public_key(), b.public_key()],
        &b,
        "ok",
    ));
    cases.push(hinted(
        "owners A and B share a hint; chain rooted in A",
        vec![a.public_key(), b.public_key()],
        &a,
        "ok",
    ));
    cases.push(hinted(
        "only owner A enrolled; chain rooted in B, which shares A's hint",
        vec![a.public_key()],
        &b,
        "Crypto",
    ));
    cases.push(hinted(
        "only owner C enrolled; chain rooted in A",
        vec![c.public_key()],
        &a,
        "UnknownOwner",
    ));

    // 4.3 to 4.4 and 7.3 V6b4: one link, owner to courier, no end, a schedule.
    let scheduled = |sched: Option<Schedule>| {
        raw_chain(
            &owner.public_key(),
            &[(
                &owner as &dyn Signer,
                link(
                    courier.public_key(),
                    this(),
                    two_rights,
                    utc(2026, 1, 1, (0, 0, 0), 0),
                    None,
                    sched,
                    None,
                    0,
                    0xa1,
                    0,
                    None,
                ),
            )],
        )
    };
    let at = |name: &str, section, sched: &Option<Schedule>, tz, now, expect| Verdict {
        tz,
        now: Some(now),
        ..case(name, section, scheduled(*sched), expect)
    };
    let (cest, cet, aest, aedt) = (7200, 3600, 36_000, 39_600);
    let noon_daily = schedule(&[window(0x7f, 12 * 60, 60)], &[day(2026, 6, 1)]);
    cases.push(at(
        "daily noon hour, 12:30 on its exception date",
        "4.4, 4.4.1",
        &noon_daily,
        berlin,
        utc(2026, 6, 1, (12, 30, 0), cest),
        "OutsideSchedule",
    ));
    cases.push(at(
        "daily noon hour, 12:30 the day after its exception date",
        "4.4, 4.4.1",
        &noon_daily,
        berlin,
        utc(2026, 6, 2, (12, 30, 0), cest),
        "ok",
    ));
    cases.push(at(
        "daily noon hour, 11:59:59 the day after its exception date",
        "4.4.1",
        &noon_daily,
        berlin,
        utc(2026, 6, 2, (11, 59, 59), cest),
        "OutsideSchedule",
    ));
    // Friday 22:00 for four hours, into Saturday 02:00.
    let friday_night = schedule(&[window(0x10, 22 * 60, 240)], &[]);
    let sat_exception = schedule(&[window(0x10, 22 * 60, 240)], &[day(2026, 6, 6)]);
    let fri_exception = schedule(&[window(0x10, 22 * 60, 240)], &[day(2026, 6, 5)]);
    cases.push(at(
        "Friday 22:00 for 4 h, Friday 21:59:59",
        "4.4.1",
        &friday_night,
        berlin,
        utc(2026, 6, 5, (21, 59, 59), cest),
        "OutsideSchedule",
    ));
    cases.push(at(
        "Friday 22:00 for 4 h, Friday 23:30",
        "4.4.1",
        &friday_night,
        berlin,
        utc(2026, 6, 5, (23, 30, 0), cest),
        "ok",
    ));
    cases.push(at(
        "Friday 22:00 for 4 h, Saturday 01:59:59",
        "4.4.1",
        &friday_night,
        berlin,
        utc(2026, 6, 6, (1, 59, 59), cest),
        "ok",
    ));
    cases.push(at(
        "Friday 22:00 for 4 h, Saturday 02:00",
        "4.4.1",
        &friday_night,
        berlin,
        utc(2026, 6, 6, (2, 0, 0), cest),
        "OutsideSchedule",
    ));
    cases.push(at(
        "Friday 22:00 for 4 h, Saturday an exception date, Saturday 01:00 (the tail stays)",
        "4.4.1",
        &sat_exception,
        berlin,
        utc(2026, 6, 6, (1, 0, 0), cest),
        "ok",
    ));
    cases.push(at(
        "Friday 22:00 for 4 h, Friday an exception date, Saturday 01:00",
        "4.4.1",
        &fri_exception,
        berlin,
        utc(2026, 6, 6, (1, 0, 0), cest),
        "OutsideSchedule",
    ));
    // Berlin: 2026-03-29 02:00 CET becomes 03:00 CEST; 2026-10-25 03:00 CEST becomes 02:00 CET.
    let small_hours = schedule(&[window(0x7f, 60, 120)], &[]);
    let two_am = schedule(&[window(0x7f, 120, 60)], &[]);
    cases.push(at(
        "daily 01:00 for 2 h, Berlin, the second before DST starts (01:59:59 CET)",
        "4.3.1, 4.4.1",
        &small_hours,
        berlin,
        utc(2026, 3, 29, (1, 59, 59), cet),
        "ok",
    ));
    cases.push(at(
        "daily 01:00 for 2 h, Berlin, the second DST starts (03:00 CEST)",
        "4.3.1, 4.4.1",
        &small_hours,
        berlin,
        utc(2026, 3, 29, (3, 0, 0), cest),
        "OutsideSchedule",
    ));
    cases.push(at(
        "daily 02:00 for 1 h, Berlin, 02:30 CEST before DST ends",
        "4.3.1, 4.4.1",
        &two_am,
        berlin,
        utc(2026, 10, 25, (2, 30, 0), cest),
        "ok",
    ));
    cases.push(at(
        "daily 02:00 for 1 h, Berlin, 02:30 CET after DST ends (the repeated hour)",
        "4.3.1, 4.4.1",
        &two_am,
        berlin,
        utc(2026, 10, 25, (2, 30, 0), cet),
        "ok",
    ));
    cases.push(at(
        "daily 02:00 for 1 h, Berlin, 03:00 CET after DST ends",
        "4.3.1, 4.4.1",
        &two_am,
        berlin,
        utc(2026, 10, 25, (3, 0, 0), cet),
        "OutsideSchedule",
    ));
    cases.push(at(
        "daily 02:00 for 1 h, Berlin, 01:59:59 CEST before DST ends",
        "4.3.1, 4.4.1",
        &two_am,
        berlin,
        utc(2026, 10, 25, (1, 59, 59), cest),
        "OutsideSchedule",
    ));
    // Sydney: DST from the first Sunday of October to the first Sunday of April, across the
    // new year; 2026-10-04 02:00 AEST becomes 03:00 AEDT, 2027-04-04 03:00 AEDT becomes 02:00 AEST.
    let noon = schedule(&[window(0x7f, 12 * 60, 60)], &[]);
    cases.push(at(
        "daily noon hour, Sydney, 12:30 AEDT in January",
        "4.3.1 (southern), 4.4.1",
        &noon,
        sydney,
        utc(2027, 1, 15, (12, 30, 0), aedt),
        "ok",
    ));
    cases.push(at(
        "daily noon hour, Sydney, 13:30 AEDT in January (12:30 in standard time)",
        "4.3.1 (southern), 4.4.1",
        &noon,
        sydney,
        utc(2027, 1, 15, (13, 30, 0), aedt),
        "OutsideSchedule",
    ));
    cases.push(at(
        "daily noon hour, Sydney, 12:30 AEST in July",
        "4.3.1 (southern), 4.4.1",
        &noon,
        sydney,
        utc(2026, 7, 15, (12, 30, 0), aest),
        "ok",
    ));
    cases.push(at(
        "daily 01:00 for 2 h, Sydney, the second before DST starts (01:59:59 AEST)",
        "4.3.1 (southern), 4.4.1",
        &small_hours,
        sydney,
        utc(2026, 10, 4, (1, 59, 59), aest),
        "ok",
    ));
    cases.push(at(
        "daily 01:00 for 2 h, Sydney, the second DST starts (03:00 AEDT)",
        "4.3.1 (southern), 4.4.1",
        &small_hours,
        sydney,
        utc(2026, 10, 4, (3, 0, 0), aedt),
        "OutsideSchedule",
    ));
    cases.push(at(
        "daily 02:00 for 1 h, Sydney, 02:30 AEDT before DST ends",
        "4.3.1 (southern), 4.4.1",
        &two_am,
        sydney,
        utc(2027, 4, 4, (2, 30, 0), aedt),
        "ok",
    ));
    cases.push(at(
        "daily 02:00 for 1 h, Sydney, 02:30 AEST after DST ends (the repeated hour)",
        "4.3.1 (southern), 4.4.1",
        &two_am,
        sydney,
        utc(2027, 4, 4, (2, 30, 0), aest),
        "ok",
    ));

    // 4.4.2 inside chains: schedule narrowing around exception dates.
    let weekdays_saturday_off = schedule(&[window(0x1f, 12 * 60, 60)], &[day(2026, 6, 6)]);
    let weekdays = schedule(&[window(0x1f, 12 * 60, 60)], &[]);
    let weekdays_friday_off = schedule(&[window(0x1f, 12 * 60, 60)], &[day(2026, 6, 5)]);
    let nested = |parent: &Option<Schedule>, child: &Option<Schedule>| {
        let mut p = company_link();
        p.schedule = *parent;
        let mut c = courier_link();
        set_window(&mut c, utc(2026, 6, 1, (12, 0, 0), cest), Some(7 * DAY_S));
        c.schedule = *child;
        two(p, c)
    };
    let monday_noon = utc(2026, 6, 1, (12, 30, 0), cest);
    let friday_late = utc(2026, 6, 5, (23, 30, 0), cest);
    let fri_night = |exceptions: &[i64]| schedule(&[window(0x10, 22 * 60, 240)], exceptions);
    let fri_late = |exceptions: &[i64]| schedule(&[window(0x10, 23 * 60, 120)], exceptions);
    let (fri, sat) = (day(2026, 6, 5), day(2026, 6, 6));
    for (name, parent, child, now, expect) in [
        (
            "child omits its parent's exception on a Saturday the parent never covers",
            weekdays_saturday_off,
            weekdays,
            monday_noon,
            "ok",
        ),
        (
            "child omits its parent's exception on a Friday the parent covers",
            weekdays_friday_off,
            weekdays,
            monday_noon,
            "Widened",
        ),
        (
            "child copies its parent's Friday exception",
            weekdays_friday_off,
            weekdays_friday_off,
            monday_noon,
            "ok",
        ),
        (
            "child adds an exception of its own",
            weekdays,
            weekdays_friday_off,
            monday_noon,
            "ok",
        ),
        (
            "Friday-night parent with a Saturday exception keeps its tail: a child crossing into Saturday is within",
            fri_night(&[sat]),
            fri_late(&[]),
            friday_late,
            "ok",
        ),
        (
            "Friday-night parent with a Friday exception: a child excepting only the Saturday is not within",
            fri_night(&[fri]),
            fri_late(&[sat]),
            friday_late,
            "Widened",
        ),
    ] {
        cases.push(Verdict {
            now: Some(now),
            ..case(name, "4.4.2, 7.4 W6", nested(&parent, &child), expect)
        });
    }

    let keys = json!({
        "owner": {"seed": hex(&[1; 32]), "public": hex(&owner.public_key().0)},
        "company": {"seed": hex(&[3; 32]), "public": hex(&company.public_key().0)},
        "courier": {"seed": hex(&[4; 32]), "public": hex(&courier.public_key().0)},
        "unrelated": {"seed": hex(&[5; 32]), "public": hex(&key(5).public_key().0)},
        "owner_a": {"seed": hex(&seed_of(SHARED_HINT_SEEDS[0])), "public": hex(&a.public_key().0)},
        "owner_b": {"seed": hex(&seed_of(SHARED_HINT_SEEDS[1])), "public": hex(&b.public_key().0)},
        "owner_c": {"seed": hex(&[6; 32]), "public": hex(&c.public_key().0)},
    });
    let cases: Vec<Value> = cases
        .iter()
        .map(|c| c.json(lock_key.public_key()))
        .collect();
    json!({
        "description": "Verdicts of a lock (docs/PROTOCOL.md 4.3, 4.4, 7.3, 7.4) on chains that decode and are genuinely signed. For each case, a lock with `lock_seed`, the owner keys `lock.owners` enrolled in that order, epoch `lock.epoch`, the credential ids `lock.revoked_ids` and keys `lock.revoked_keys` revoked and the time-zone rule `lock.time_zone_rule` (encoded, 4.3), verifying `chain` at trusted UTC second `now`, must give `expect.result`: ok with `expect.holder`, `expect.owner` and `expect.rights`, or the error named. `local` is the wall-clock time the rule gives `now` (informative).",
        "lock_seed": hex(&[2; 32]),
        "lock_public": hex(&lock_key.public_key().0),
        "lock_id": hex(&lock_id.0),
        "keys": keys,
        "cases": cases,
    })
}

/// A challenge as the lock issued it, with the X25519 secret it drew for it.
struct Issued {
    bytes: Vec<u8>,
    secret: [u8; 32],
}

/// One scenario of `behaviour.json`: a lock installed as in `session.json`, drawing from the
/// lock stream of `session.json` while its phones draw from the phone stream, and every message
/// recorded as `session.json` records it, with the index of its session's key schedule.
struct Script {
    lock: Lock<Mem>,
    lock_rng: ChaCha20Rng,
    phone_rng: ChaCha20Rng,
    rec: Recorder,
    sessions: Vec<Value>,
    keys: Option<Derived>,
    /// The ephemeral secret of the challenge the lock holds prepared, if any.
    prepared: Option<[u8; 32]>,
}

impl Script {
    fn new() -> Script {
        Script {
            lock: install(&World::new()),
            lock_rng: rng(LOCK_RNG_SEED),
            phone_rng: rng(PHONE_RNG_SEED),
            rec: Recorder {
                messages: Vec::new(),
            },
            sessions: Vec::new(),
            keys: None,
            prepared: None,
        }
    }

    /// The firmware has the lock prepare its next challenge at `tick` (22.1).
    fn prepare(&mut self, tick: u64) {
        self.prepared = Some(peek(LOCK_RNG_SEED, &self.lock_rng, NONCE_LEN));
        self.lock
            .prepare_challenge(Tick::from_secs(tick), &mut self.lock_rng)
            .expect("prepare");
        self.rec
            .messages
            .push(json!({"from": "firmware", "message": "Prepare", "tick": tick}));
    }

    /// The challenge the lock hands out at `tick`: the prepared one, where the scenario
    /// prepared one that still holds.
    fn challenge(&mut self, tick: u64) -> Issued {
        let secret = self
            .prepared
            .take()
            .unwrap_or_else(|| peek(LOCK_RNG_SEED, &self.lock_rng, NONCE_LEN));
        let mut out = [0u8; 256];
        let n = self
            .lock
            .challenge(Tick::from_secs(tick), &mut self.lock_rng, &mut out)
            .expect("challenge");
        self.rec.challenge(Tick::from_secs(tick), &out[..n]);
        Issued {
            bytes: out[..n].to_vec(),
            secret,
        }
    }

    /// Answers `challenge` at `tick` with `command`, with the proof of `credential` if given;
    /// returns the phone's session and the reply it read (`None`: refused without reply).
    fn open<K: HolderSigner>(
        &mut self,
        tick: u64,
        challenge: &Issued,
        command: Command<'_>,
        credential: Option<&Credential<'_, K>>,
    ) -> (PhoneSession, Option<String>) {
        let phone_secret = peek(PHONE_RNG_SEED, &self.phone_rng, 0);
        let mut out = [0u8; 2400];
        let lock_id = self.lock.id();
        let (mut phone, m) = match credential {
            Some(c) => {
                PhoneSession::open(&challenge.bytes, c, command, &mut self.phone_rng, &mut out)
            }
            None => PhoneSession::open_anonymous(
                &challenge.bytes,
                &lock_id,
                command,
                &mut self.phone_rng,
                &mut out,
            ),
        }
        .expect("open");
        let keys = Derived::new(&challenge.bytes, &out[..m], challenge.secret, phone_secret);
        self.sessions.push(keys.json());
        self.keys = Some(keys);
        let reply = self.send(tick, &mut phone, &out[..m], &command);
        (phone, reply)
    }

    /// An anonymous open at `tick` answering a challenge issued at the same tick.
    fn anonymous(&mut self, tick: u64, command: Command<'_>) -> (PhoneSession, Option<String>) {
        let challenge = self.challenge(tick);
        self.open::<SecretKey>(tick, &challenge, command, None)
    }

    /// A holder's open at `tick` answering a challenge issued at the same tick.
    fn visit<K: HolderSigner>(
        &mut self,
        tick: u64,
        credential: &Credential<'_, K>,
        command: Command<'_>,
    ) -> (PhoneSession, Option<String>) {
        let challenge = self.challenge(tick);
        self.open(tick, &challenge, command, Some(credential))
    }

    fn command(
        &mut self,
        tick: u64,
        phone: &mut PhoneSession,
        command: Command<'_>,
    ) -> Option<String> {
        let mut msg = [0u8; 512];
        let n = phone.command(command, &mut msg).expect("command");
        self.send(tick, phone, &msg[..n], &command)
    }

    /// The phone's answer to `NeedChain`: `command` again with `credential`'s whole chain.
    fn retry<K: HolderSigner>(
        &mut self,
        tick: u64,
        phone: &mut PhoneSession,
        credential: &Credential<'_, K>,
        command: Command<'_>,
    ) -> Option<String> {
        let mut msg = [0u8; 2400];
        let n = phone.retry(credential, command, &mut msg).expect("retry");
        self.send(tick, phone, &msg[..n], &Command::Retry(&[]))
    }

    fn send(
        &mut self,
        tick: u64,
        phone: &mut PhoneSession,
        msg: &[u8],
        command: &Command<'_>,
    ) -> Option<String> {
        let from = self.rec.messages.len();
        let keys = self.keys.as_ref().expect("a session");
        let reply = self.rec.exchange(
            &mut self.lock,
            phone,
            keys,
            Tick::from_secs(tick),
            msg,
            command,
        );
        let session = self.sessions.len() - 1;
        for m in &mut self.rec.messages[from..] {
            m["session"] = json!(session);
        }
        reply
    }

    fn door(&mut self, tick: u64, event: DoorEvent) {
        self.lock
            .door_event(Tick::from_secs(tick), event)
            .expect("door event");
        self.rec.messages.push(json!({"from": "firmware", "message": "DoorEvent", "tick": tick, "event": format!("{event:?}")}));
    }

    /// An owner-signed anchor for `utc`, carried at `tick` by an anonymous phone.
    fn set_clock(&mut self, tick: u64, utc: u64) {
        let challenge = self.challenge(tick);
        let anchor = self.anchor(&challenge, utc, &key(1));
        let reply = self
            .open::<SecretKey>(tick, &challenge, Command::Time(&anchor), None)
            .1;
        assert_eq!(reply, Some(format!("TimeSet({utc})")));
    }

    /// A time anchor for `challenge`'s nonce saying `utc`, signed by `signer`.
    fn anchor(&self, challenge: &Issued, utc: u64, signer: &SecretKey) -> Vec<u8> {
        let nonce = inspect_challenge(&challenge.bytes, &self.lock.id())
            .expect("genuine")
            .nonce;
        let mut out = [0u8; 256];
        let n = TimeAnchor {
            lock: self.lock.id(),
            nonce,
            time: UnixTime::from_secs(utc),
            signer: signer.public_key(),
        }
        .sign(signer, &mut out)
        .expect("anchor");
        out[..n].to_vec()
    }

    /// A configuration update for this lock, signed by `signer`.
    fn update(&self, signer: &SecretKey, version: u64, change: Change) -> Vec<u8> {
        let mut out = [0u8; 256];
        let n = doorkey::config::ConfigUpdate {
            lock: self.lock.id(),
            version,
            signer: signer.public_key(),
            change,
        }
        .sign(signer, &mut out)
        .expect("update");
        out[..n].to_vec()
    }

    /// `command` carried at `tick` by an anonymous phone, the open noted with `case`: what it
    /// exercises. Returns the reply.
    fn carry(&mut self, tick: u64, case: &str, command: Command<'_>) -> Option<String> {
        let reply = self.anonymous(tick, command).1;
        self.note(case);
        reply
    }

    /// Notes on the last phone message what it exercises; a refusal's detailed error, written
    /// in `case` from the spec, must be the one the lock reported.
    fn note(&mut self, case: &str) {
        let m = self
            .rec
            .messages
            .iter_mut()
            .rev()
            .find(|m| m["from"] == "phone")
            .expect("a phone message");
        let expect = &m["expect"];
        if let Some(error) = expect["denied"].as_str().or(expect["error"].as_str()) {
            assert!(case.contains(error), "{case}: the lock reported {error}");
        }
        m["case"] = json!(case);
    }

    /// The scenario as `behaviour.json` writes it; `receipts` lists the receipts of the last
    /// sealed bundle the lock sent, if any.
    fn json(self, name: &str, section: &str) -> Value {
        let lock_id = self.lock.id();
        let receipts = self
            .rec
            .messages
            .iter()
            .rev()
            .find(|m| m["reply"].as_str().is_some_and(|r| r.starts_with("Receipts")))
            .map(|m| {
                let plain = unhex(m["plaintext"].as_str().expect("plaintext"));
                // Reply::Receipts: variant 07, the sealed bundle's varint length, the bundle.
                let (sealed, _) = doorkey::wire::take::<&[u8]>(&plain[1..]).expect("sealed");
                let bundle = unseal(&lock_id, sealed).1;
                bundle_items(&bundle)[1..]
                    .iter()
                    .map(|bytes| {
                        let r = Parsed::<Receipt>::take(bytes).expect("receipt").0.body;
                        json!({"seq": r.seq, "time": r.time, "event": format!("{:?}", r.event), "holder": r.who.map(|w| hex(&w.holder.0))})
                    })
                    .collect::<Vec<_>>()
            });
        let mut out = json!({
            "name": name,
            "section": section,
            "sessions": self.sessions,
            "messages": self.rec.messages,
        });
        if let Some(receipts) = receipts {
            out["receipts"] = json!(receipts);
        }
        out
    }
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// The P-256 courier's secret scalar (big-endian), for the P-256 vectors.
const P256_COURIER: [u8; 32] = [0x44; 32];

/// x = 1 with prefix 02: 1 - 3 + b is not a square mod p, so no point has it.
const P256_OFF_CURVE: [u8; 33] = {
    let mut b = [0u8; 33];
    b[0] = 0x02;
    b[32] = 1;
    b
};

fn p256_courier() -> P256DeviceKey {
    P256DeviceKey::from_bytes(&P256_COURIER).expect("a scalar below n")
}

/// The order n of the P-256 group, big-endian.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// A P-256 holder that claims `claims` and signs with `key`, optionally with S made n - S.
struct AlteredP256<'a> {
    key: &'a P256DeviceKey,
    claims: P256PublicKey,
    high_s: bool,
}

impl HolderSigner for AlteredP256<'_> {
    fn holder_key(&self) -> SubjectKey {
        self.claims.into()
    }

    fn sign_holder(&self, message: &[u8]) -> doorkey::Result<doorkey::crypto::Signature> {
        let mut sig = self.key.sign_holder(message)?;
        if self.high_s {
            let mut borrow = 0i16;
            for i in (0..32).rev() {
                let d = i16::from(P256_N[i]) - i16::from(sig.0[32 + i]) - borrow;
                borrow = i16::from(d < 0);
                sig.0[32 + i] = (d + 256 * borrow) as u8;
            }
        }
        Ok(sig)
    }
}

/// The holder's device key with each signature altered after signing.
struct Altered(SecretKey, fn(&mut [u8; 64]));

impl Signer for Altered {
    fn public_key(&self) -> PublicKey {
        self.0.public_key()
    }

    fn sign(&self, message: &[u8]) -> doorkey::Result<doorkey::crypto::Signature> {
        let mut signature = self.0.sign(message)?.0;
        (self.1)(&mut signature);
        Ok(doorkey::crypto::Signature(signature))
    }
}

/// The identity point (y = 1), of order 1, and y = p + 1, a non-canonical encoding of it.
const IDENTITY: [u8; 32] = {
    let mut b = [0u8; 32];
    b[0] = 1;
    b
};
const IDENTITY_NONCANONICAL: [u8; 32] = {
    let mut b = [0xffu8; 32];
    b[0] = 0xee;
    b[31] = 0x7f;
    b
};

/// Recorded sessions for the behaviour of 12.5 and 13: holder signatures a lock must refuse,
/// every reason a lock denies with, denial receipts, use limits, the clock, lifetimes and the
/// sealed receipts reply.
fn behaviour_vectors() -> Value {
    let owner = key(1);
    let lock_id = install(&World::new()).id();
    let this = || Scope::Locks(Bounded::from_slice(&[lock_id]).expect("one"));
    let two_rights = Rights::UNLOCK.union(Rights::LOCK);
    // A permanent grant from the owner straight to a holder key: no clock needed.
    let permanent = |holder: SubjectKey, id: u8| {
        raw_chain(
            &owner.public_key(),
            &[(
                &owner as &dyn Signer,
                link(
                    holder,
                    this(),
                    two_rights,
                    0,
                    None,
                    None,
                    None,
                    0,
                    id,
                    0,
                    None,
                ),
            )],
        )
    };
    let courier_chain = permanent(key(4).public_key().into(), 0xb1);
    let identity_chain = permanent(PublicKey(IDENTITY).into(), 0xb2);
    let p256_courier = p256_courier();
    let p256_chain = permanent(p256_courier.holder_key(), 0xb3);
    let off_curve_chain = permanent(P256PublicKey(P256_OFF_CURVE).into(), 0xb4);
    let mut zero_sig = [0u8; 64];
    zero_sig[..32].copy_from_slice(&IDENTITY);
    let mut scenarios = Vec::new();

    // 3.3 and 12.5: the holder signature in the open, checked strictly.
    let holder = |signer: &dyn Fn(&mut Script) -> Option<String>, name: &str, expect: &str| {
        let mut s = Script::new();
        let reply = signer(&mut s);
        assert_eq!(reply.as_deref(), Some(expect), "{name}");
        s.json(name, "3.3, 12.5, 13.4 O9")
    };
    scenarios.push(holder(
        &|s| {
            s.visit(
                100,
                &Credential::new(&courier_chain, key(4)).expect("c"),
                Command::Unlock,
            )
            .1
        },
        "holder signature genuine (the control for the three below)",
        "Unlocked",
    ));
    scenarios.push(holder(
        &|s| {
            let forger = Fixed(PublicKey(IDENTITY), zero_sig);
            s.visit(
                100,
                &Credential::new(&identity_chain, forger).expect("c"),
                Command::Unlock,
            )
            .1
        },
        "holder signature R = identity, S = 0 by a holder key of small order (the identity)",
        "Denied(NotAuthorized)",
    ));
    scenarios.push(holder(
        &|s| {
            let altered = Altered(key(4), |sig| {
                let s = add_order(&sig[32..]);
                sig[32..].copy_from_slice(&s);
            });
            s.visit(
                100,
                &Credential::new(&courier_chain, altered).expect("c"),
                Command::Unlock,
            )
            .1
        },
        "holder signature with S + L",
        "Denied(NotAuthorized)",
    ));
    scenarios.push(holder(
        &|s| {
            let altered = Altered(key(4), |sig| {
                sig[..32].copy_from_slice(&IDENTITY_NONCANONICAL)
            });
            s.visit(
                100,
                &Credential::new(&courier_chain, altered).expect("c"),
                Command::Unlock,
            )
            .1
        },
        "holder signature with a non-canonical R (y = p + 1)",
        "Denied(NotAuthorized)",
    ));

    // 3.8 and 12.5: a P-256 holder's signature, ECDSA with low S, over the same bytes.
    let p256_holder = |signer: &dyn Fn(&mut Script) -> Option<String>, name: &str, expect: &str| {
        let mut s = Script::new();
        let reply = signer(&mut s);
        assert_eq!(reply.as_deref(), Some(expect), "{name}");
        s.json(name, "3.8, 12.5, 13.4 O9")
    };
    scenarios.push(p256_holder(
        &|s| {
            s.visit(
                100,
                &Credential::new(&p256_chain, &p256_courier).expect("c"),
                Command::Unlock,
            )
            .1
        },
        "P-256 holder signature genuine (the control for the two below)",
        "Unlocked",
    ));
    scenarios.push(p256_holder(
        &|s| {
            let high = AlteredP256 {
                key: &p256_courier,
                claims: p256_courier.public_key(),
                high_s: true,
            };
            s.visit(
                100,
                &Credential::new(&p256_chain, high).expect("c"),
                Command::Unlock,
            )
            .1
        },
        "P-256 holder signature with S replaced by n - S (valid ECDSA, high S)",
        "Denied(NotAuthorized)",
    ));
    scenarios.push(p256_holder(
        &|s| {
            let claims = AlteredP256 {
                key: &p256_courier,
                claims: P256PublicKey(P256_OFF_CURVE),
                high_s: false,
            };
            s.visit(
                100,
                &Credential::new(&off_curve_chain, claims).expect("c"),
                Command::Unlock,
            )
            .1
        },
        "P-256 holder key whose x is not on the curve",
        "Denied(NotAuthorized)",
    ));

    scenarios.push(update_scenario());
    scenarios.push(anchor_scenario());
    scenarios.push(denial_scenario(&courier_chain));
    scenarios.push(time_in_the_open_scenario());
    scenarios.push(lifetime_scenario());
    scenarios.push(fast_path_scenario());

    json!({
        "description": "Recorded sessions (docs/PROTOCOL.md 9.5), each with a fresh lock: installed with `lock_seed` and `owner_public` as its only owner, drawing its random numbers from `lock_rng_seed` while every phone draws from `phone_rng_seed` (as in session.json, 9.1). Replayed in order, the lock regenerates every Challenge byte for byte, answers every phone message with `expect` and exactly the bytes of the Reply that follows, or refuses it without a reply with `expect.error`; firmware DoorEvents are handed to the lock at their tick, and at a firmware Prepare the lock prepares its next challenge (22.1), drawing from its stream then. `sessions[i]` is the key schedule of the messages with `session` i; `receipts`, where present, are the receipts of the last sealed bundle.",
        "lock_seed": hex(&[2; 32]),
        "lock_public": hex(&key(2).public_key().0),
        "lock_id": hex(&lock_id.0),
        "owner_seed": hex(&[1; 32]),
        "owner_public": hex(&owner.public_key().0),
        "courier_seed": hex(&[4; 32]),
        "courier_public": hex(&key(4).public_key().0),
        "p256_courier_secret": hex(&P256_COURIER),
        "p256_courier_public": hex(&p256_courier.public_key().0),
        "lock_rng_seed": hex(&[LOCK_RNG_SEED; 32]),
        "phone_rng_seed": hex(&[PHONE_RNG_SEED; 32]),
        "audit_secret": hex(&[11; 32]),
        "audit_public": hex(&audit().public_key()),
        "scenarios": scenarios,
    })
}

/// 15.1 and 15.2: an update of every change kind applied, and one of each refused, with its
/// effect shown where a later message can show it.
fn update_scenario() -> Value {
    let mut s = Script::new();
    let owner = key(1);
    let (a, b, c, d) = (key(7), key(8), key(9), key(10));
    let identity = PublicKey(IDENTITY);
    let mut tick = 100;
    let mut expect = |s: &mut Script, case: &str, bytes: Vec<u8>, reply: &str| {
        tick += 1;
        let got = s.carry(tick, case, Command::Config(&bytes));
        assert_eq!(got.as_deref(), Some(reply), "{case}");
    };
    let mut v = 0;
    let mut out_of_range = TzRule::parse(TZ).expect("tz");
    out_of_range.std_offset = 90_001;
    let id = CredentialId([0xb1; 16]);
    let updates: Vec<(&str, &SecretKey, bool, Change, &str)> = vec![
        (
            "AddOwner: a second owner",
            &owner,
            true,
            Change::AddOwner(a.public_key()),
            "ConfigApplied",
        ),
        (
            "AddOwner: the identity point (WeakKey)",
            &owner,
            false,
            Change::AddOwner(identity),
            "Denied(NotAuthorized)",
        ),
        (
            "AddOwner: a third owner",
            &owner,
            true,
            Change::AddOwner(b.public_key()),
            "ConfigApplied",
        ),
        (
            "AddOwner: a fourth owner",
            &owner,
            true,
            Change::AddOwner(c.public_key()),
            "ConfigApplied",
        ),
        (
            "AddOwner: a fifth owner (StorageFull)",
            &owner,
            false,
            Change::AddOwner(d.public_key()),
            "Denied(Unavailable)",
        ),
        (
            "RemoveOwner: the fourth owner",
            &owner,
            true,
            Change::RemoveOwner(c.public_key()),
            "ConfigApplied",
        ),
        (
            "RevokeKey: the second owner's key",
            &owner,
            true,
            Change::RevokeKey(a.public_key()),
            "ConfigApplied",
        ),
        (
            "RevokeKeyUntil: the third owner's key, until T0",
            &owner,
            true,
            Change::RevokeKeyUntil {
                key: b.public_key(),
                until: Some(UnixTime::from_secs(T0_S)),
            },
            "ConfigApplied",
        ),
        (
            "RemoveOwner: the last unrevoked owner (NotPermitted)",
            &owner,
            false,
            Change::RemoveOwner(owner.public_key()),
            "Denied(NotAuthorized)",
        ),
        (
            "RevokeKey: the last unrevoked owner (NotPermitted)",
            &owner,
            false,
            Change::RevokeKey(owner.public_key()),
            "Denied(NotAuthorized)",
        ),
        (
            "RevokeKeyUntil: the last unrevoked owner (NotPermitted)",
            &owner,
            false,
            Change::RevokeKeyUntil {
                key: owner.public_key(),
                until: None,
            },
            "Denied(NotAuthorized)",
        ),
        (
            "RevokeId: a credential id, until T0",
            &owner,
            true,
            Change::RevokeId {
                id,
                until: Some(UnixTime::from_secs(T0_S)),
            },
            "ConfigApplied",
        ),
        (
            "RevokeId: signed by a key that is no owner (K2, NotPermitted)",
            &d,
            false,
            Change::RevokeId { id, until: None },
            "Denied(NotAuthorized)",
        ),
        (
            "SetEpoch: 3",
            &owner,
            true,
            Change::SetEpoch(3),
            "ConfigApplied",
        ),
        (
            "SetEpoch: 2, below the current epoch (Stale)",
            &owner,
            false,
            Change::SetEpoch(2),
            "Denied(Refused)",
        ),
        (
            "SetTimeZone: Berlin",
            &owner,
            true,
            Change::SetTimeZone(TzRule::parse(TZ).expect("tz")),
            "ConfigApplied",
        ),
        (
            "SetTimeZone: standard offset 90001 (Malformed)",
            &owner,
            false,
            Change::SetTimeZone(out_of_range),
            "Denied(BadRequest)",
        ),
        (
            "SetChallengeLifetime: 60",
            &owner,
            true,
            Change::SetChallengeLifetime(60),
            "ConfigApplied",
        ),
        (
            "SetChallengeLifetime: 0 (Malformed)",
            &owner,
            false,
            Change::SetChallengeLifetime(0),
            "Denied(BadRequest)",
        ),
        (
            "SetChallengeLifetime: 61 (Malformed)",
            &owner,
            false,
            Change::SetChallengeLifetime(61),
            "Denied(BadRequest)",
        ),
        (
            "AddTimeKey: a time server",
            &owner,
            true,
            Change::AddTimeKey(c.public_key()),
            "ConfigApplied",
        ),
        (
            "AddTimeKey: the identity point (WeakKey)",
            &owner,
            false,
            Change::AddTimeKey(identity),
            "Denied(NotAuthorized)",
        ),
        (
            "AddTimeKey: a second time server",
            &owner,
            true,
            Change::AddTimeKey(d.public_key()),
            "ConfigApplied",
        ),
        (
            "AddTimeKey: a third time server (StorageFull)",
            &owner,
            false,
            Change::AddTimeKey(key(11).public_key()),
            "Denied(Unavailable)",
        ),
        (
            "RemoveTimeKey: the second time server",
            &owner,
            true,
            Change::RemoveTimeKey(d.public_key()),
            "ConfigApplied",
        ),
        (
            "RemoveTimeKey: signed by the revoked second owner (K4a, Revoked)",
            &a,
            false,
            Change::RemoveTimeKey(c.public_key()),
            "Denied(NotAuthorized)",
        ),
        (
            "ConfirmState: no recovery, no effect",
            &owner,
            true,
            Change::ConfirmState,
            "ConfigApplied",
        ),
        (
            "Forget: the use count of an id",
            &owner,
            true,
            Change::Forget(Forget::Uses(id)),
            "ConfigApplied",
        ),
        (
            "Forget: the revocation of an id",
            &owner,
            true,
            Change::Forget(Forget::RevokedId(id)),
            "ConfigApplied",
        ),
        (
            "Forget: the revocation of a key",
            &owner,
            true,
            Change::Forget(Forget::RevokedKey(b.public_key())),
            "ConfigApplied",
        ),
        (
            "SetAuditKey: the audit key",
            &owner,
            true,
            Change::SetAuditKey(audit().public_key()),
            "ConfigApplied",
        ),
        (
            "SetAuditKey: all zero, of small order (WeakKey)",
            &owner,
            false,
            Change::SetAuditKey([0; 32]),
            "Denied(NotAuthorized)",
        ),
        (
            "ResetClock: to T0",
            &owner,
            true,
            Change::ResetClock(UnixTime::from_secs(T0_S)),
            "ConfigApplied",
        ),
        (
            "FactoryReset: the identity point (WeakKey)",
            &owner,
            false,
            Change::FactoryReset(identity),
            "Denied(NotAuthorized)",
        ),
        (
            "FactoryReset: back to the first owner alone",
            &owner,
            true,
            Change::FactoryReset(owner.public_key()),
            "ConfigApplied",
        ),
    ];
    for (case, signer, applies, change, reply) in updates {
        let version = v + 1;
        if applies {
            v = version;
        }
        let bytes = s.update(signer, version, change);
        let reply = if applies {
            format!("ConfigApplied({version})")
        } else {
            reply.to_string()
        };
        expect(&mut s, case, bytes, &reply);
    }
    // The refusals every change kind shares (15.2 K3 to K5), each on a kind with no refusal of
    // its own.
    let stale = s.update(&owner, v, Change::ConfirmState);
    expect(
        &mut s,
        "ConfirmState: the version of the last update applied (K5, Stale)",
        stale,
        "Denied(Refused)",
    );
    let mut forged = s.update(&owner, v + 1, Change::Forget(Forget::Uses(id)));
    forged = with_s_plus_l(&forged);
    expect(
        &mut s,
        "Forget: signature with S + L (K3, Crypto)",
        forged,
        "Denied(NotAuthorized)",
    );
    let mut elsewhere = [0u8; 256];
    let n = doorkey::config::ConfigUpdate {
        lock: LockId([0xee; 16]),
        version: v + 1,
        signer: owner.public_key(),
        change: Change::ResetClock(UnixTime::from_secs(T0_S)),
    }
    .sign(&owner, &mut elsewhere)
    .expect("update");
    expect(
        &mut s,
        "ResetClock: for another lock (K4, NotPermitted)",
        elsewhere[..n].to_vec(),
        "Denied(NotAuthorized)",
    );
    // After the factory reset the second owner is gone.
    let gone = s.update(&a, v + 1, Change::SetEpoch(4));
    expect(
        &mut s,
        "SetEpoch: signed by the second owner after the factory reset (K2, NotPermitted)",
        gone,
        "Denied(NotAuthorized)",
    );
    s.json(
        "configuration updates: every change kind applied and refused",
        "15.1, 15.2",
    )
}

/// 14.2: anchors from an owner, an enrolled time key and a key that is neither.
fn anchor_scenario() -> Value {
    let mut s = Script::new();
    let (owner, server, stranger) = (key(1), key(9), key(10));
    s.set_clock(100, T0_S);
    let add = s.update(&owner, 1, Change::AddTimeKey(server.public_key()));
    assert_eq!(
        s.carry(101, "AddTimeKey: the time server", Command::Config(&add))
            .as_deref(),
        Some("ConfigApplied(1)")
    );
    let mut tick = 110;
    // Each anchor's time from the high-water mark the lock holds when it is signed (every
    // receipt with a time raises the mark, 14.3).
    type FromMark = fn(u64) -> u64;
    let anchors: [(&str, &SecretKey, FromMark, &str); 5] = [
        (
            "anchor by the enrolled time key",
            &server,
            |hw| hw + 20,
            "TimeSet",
        ),
        (
            "anchor by a key neither owner nor time key (A2, NotPermitted)",
            &stranger,
            |hw| hw + 30,
            "Denied(NotAuthorized)",
        ),
        (
            "anchor by the time key more than 7 days past the high-water mark (A4a, NotPermitted)",
            &server,
            |hw| hw + 7 * DAY_S + 1,
            "Denied(NotAuthorized)",
        ),
        (
            "anchor by the time key exactly 7 days past the high-water mark",
            &server,
            |hw| hw + 7 * DAY_S,
            "TimeSet",
        ),
        (
            "anchor by the owner one second below the high-water mark (A4, Stale)",
            &owner,
            |hw| hw - 1,
            "Denied(Refused)",
        ),
    ];
    for (case, signer, time, reply) in anchors {
        tick += 10;
        let challenge = s.challenge(tick);
        let time = time(s.lock.state().high_water.as_secs());
        let anchor = s.anchor(&challenge, time, signer);
        let got = s
            .open::<SecretKey>(tick, &challenge, Command::Time(&anchor), None)
            .1;
        s.note(case);
        let want = if reply == "TimeSet" {
            format!("TimeSet({time})")
        } else {
            reply.to_string()
        };
        assert_eq!(got, Some(want), "{case}");
    }
    // A0: a session accepts one anchor; a second, genuine one in a later command is refused.
    tick += 10;
    let challenge = s.challenge(tick);
    let hw = s.lock.state().high_water.as_secs();
    let first = s.anchor(&challenge, hw + 100, &owner);
    let (mut phone, got) = s.open::<SecretKey>(tick, &challenge, Command::Time(&first), None);
    assert_eq!(got, Some(format!("TimeSet({})", hw + 100)));
    let second = s.anchor(&challenge, hw + 101, &owner);
    let got = s.command(tick + 1, &mut phone, Command::Time(&second));
    s.note("a second anchor in the same session (A0, Replay)");
    assert_eq!(got.as_deref(), Some("Denied(NotAuthorized)"));
    s.json(
        "time anchors: an owner's, an enrolled time key's, and refused ones",
        "14.2",
    )
}

/// 13.7 and 18.6: denials of several reasons, the receipts they leave, anonymous denials in a
/// row collapsing into one, and the sealed bundle that shows it.
fn denial_scenario(permanent_chain: &[u8]) -> Value {
    let mut s = Script::new();
    let courier_chain = World::new().courier_chain();
    let courier = Credential::new(courier_chain.as_bytes(), key(4)).expect("credential");
    let fetcher = Credential::new(permanent_chain, key(4)).expect("credential");
    s.set_clock(100, T0_S);
    let audit_key = s.update(&key(1), 1, Change::SetAuditKey(audit().public_key()));
    let reply = s.carry(101, "SetAuditKey", Command::Config(&audit_key));
    assert_eq!(reply.as_deref(), Some("ConfigApplied(1)"));
    // (tick, what it exercises, whether the courier opens it, command, reply)
    let steps: Vec<(u64, &str, bool, Command<'_>, &str)> = vec![
        (
            102,
            "an anonymous Time with only an anchor's 2-byte header (Truncated): a Denied(BadRequest) receipt",
            false,
            Command::Time(&[0x01, 0x20]),
            "Denied(BadRequest)",
        ),
        (
            103,
            "the audit-key update again (Stale): collapsed into the anonymous denial before",
            false,
            Command::Config(&audit_key),
            "Denied(Refused)",
        ),
        (
            104,
            "an anonymous Unlock (NotPermitted): collapsed too",
            false,
            Command::Unlock,
            "Denied(NotAuthorized)",
        ),
        (
            110,
            "the courier's one-use grant",
            true,
            Command::Unlock,
            "Unlocked",
        ),
        (
            120,
            "the courier's grant again (UsedUp): a Denied(UsedUp) receipt naming the courier",
            true,
            Command::Unlock,
            "Denied(UsedUp)",
        ),
        (
            121,
            "an anonymous Unlock (NotPermitted): a new receipt, since the newest names the courier",
            false,
            Command::Unlock,
            "Denied(NotAuthorized)",
        ),
        (
            122,
            "an anonymous Unlock (NotPermitted): collapsed",
            false,
            Command::Unlock,
            "Denied(NotAuthorized)",
        ),
        (
            800,
            "the courier's grant after its end (Expired): a Denied(NotNow) receipt naming the courier",
            true,
            Command::Unlock,
            "Denied(NotNow)",
        ),
    ];
    for (tick, case, by_courier, command, want) in steps {
        let reply = if by_courier {
            s.visit(tick, &courier, command).1
        } else {
            s.anonymous(tick, command).1
        };
        s.note(case);
        assert_eq!(reply.as_deref(), Some(want), "{case}");
    }
    let reply = s.visit(810, &fetcher, Command::Receipts { after: 0 }).1;
    s.note("Receipts after 0, by a permanent grant's holder");
    assert!(reply.is_some_and(|r| r.starts_with("Receipts")));
    s.json(
        "denials and their receipts: anonymous denials in a row collapse, a named one does not",
        "11.6, 13.7, 16.2, 18.6, 18.8",
    )
}

/// 13.4 O8 and O9: a time-bounded grant refused while the clock is untrusted, then brought with
/// the anchor it needs in one open; the session's later commands, the door, and its end.
fn time_in_the_open_scenario() -> Value {
    let mut s = Script::new();
    let chain = World::new().courier_chain();
    let courier = Credential::new(chain.as_bytes(), key(4)).expect("credential");
    let reply = s.visit(100, &courier, Command::Unlock).1;
    s.note("the courier's time-bounded grant, clock untrusted (ClockUntrusted)");
    assert_eq!(reply.as_deref(), Some("Denied(NeedTime)"));
    let challenge = s.challenge(110);
    let anchor = s.anchor(&challenge, T0_S + 10, &key(1));
    let (mut phone, reply) = s.open(111, &challenge, Command::Time(&anchor), Some(&courier));
    s.note("an owner's anchor and the courier's proof in one open");
    assert_eq!(reply, Some(format!("TimeSet({})", T0_S + 10)));
    let reply = s.command(112, &mut phone, Command::Unlock);
    assert_eq!(reply.as_deref(), Some("Unlocked"));
    s.door(115, DoorEvent::Opened);
    s.door(140, DoorEvent::Closed);
    for (tick, command, want) in [
        (141, Command::Lock, "Locked"),
        (142, Command::Unlock, "Denied(UsedUp)"),
        (143, Command::Close, "Closed"),
    ] {
        assert_eq!(s.command(tick, &mut phone, command).as_deref(), Some(want));
    }
    let reply = s.command(144, &mut phone, Command::Hello);
    s.note("a command after Close (UnexpectedMessage, no reply)");
    assert_eq!(reply, None);
    s.json(
        "NeedTime, then an anchor and a proof in one open, unlock, door, relock, close",
        "13.4 O8 to O10, 13.6, 13.7, 14.2",
    )
}

/// 13.4 O3 and 13.5 C3: a challenge answered at the last tick of its lifetime and one tick
/// later, a session's command at the last tick of its lifetime and one tick later.
fn lifetime_scenario() -> Value {
    let mut s = Script::new();
    let challenge = s.challenge(100);
    let reply = s.open::<SecretKey>(105, &challenge, Command::Hello, None).1;
    s.note("challenge of tick 100 answered at 105, its last tick (lifetime 5)");
    assert_eq!(reply.as_deref(), Some("Ready"));
    let challenge = s.challenge(110);
    let reply = s.open::<SecretKey>(116, &challenge, Command::Hello, None).1;
    s.note("challenge of tick 110 answered at 116 (Replay, no reply)");
    assert_eq!(reply, None);
    let (mut phone, reply) = s.anonymous(200, Command::Hello);
    assert_eq!(reply.as_deref(), Some("Ready"));
    let reply = s.command(320, &mut phone, Command::Hello);
    s.note("command 120 ticks after the open, the session's last tick");
    assert_eq!(reply.as_deref(), Some("Ready"));
    let reply = s.command(321, &mut phone, Command::Hello);
    s.note("command 121 ticks after the open (Replay, no reply; the session ends)");
    assert_eq!(reply, None);
    let reply = s.command(321, &mut phone, Command::Hello);
    s.note("the next command (UnexpectedMessage, no reply)");
    assert_eq!(reply, None);
    s.json(
        "lifetimes: a challenge's and a session's last tick, and the tick after",
        "13.4 O3, 13.5 C3",
    )
}

/// 22.1 and 22.2: a first visit answering a prepared challenge, a repeat visit by another
/// courier of the same company with the leaf alone, and a short form naming links an update
/// dropped since the challenge: `NeedChain`, then the retry with the whole chain in the same
/// session.
fn fast_path_scenario() -> Value {
    let mut s = Script::new();
    let mut w = World::new();
    let company = w.company_chain();
    let chains: Vec<Chain> = (0..3)
        .map(|_| {
            let leaf = w.courier_link();
            company.extend(&w.company, &leaf).expect("chain")
        })
        .collect();
    let couriers: Vec<_> = chains
        .iter()
        .map(|c| Credential::new(c.as_bytes(), key(4)).expect("credential"))
        .collect();
    s.set_clock(100, T0_S + 20);
    s.prepare(101);
    let reply = s.visit(130, &couriers[0], Command::Unlock).1;
    s.note("first visit answering the challenge prepared at tick 101, the chain whole; the lock now holds the company's link");
    assert_eq!(reply.as_deref(), Some("Unlocked"));
    s.prepare(140);
    let reply = s.visit(170, &couriers[1], Command::Unlock).1;
    s.note("repeat visit: the prepared challenge advertises the company's link, and the leaf alone goes, in short form");
    assert_eq!(reply.as_deref(), Some("Unlocked"));
    let challenge = s.challenge(200);
    let update = s.update(
        &key(1),
        1,
        Change::RevokeId {
            id: CredentialId([0xee; 16]),
            until: None,
        },
    );
    let reply = s.carry(
        201,
        "an update, which drops the held links",
        Command::Config(&update),
    );
    assert_eq!(reply.as_deref(), Some("ConfigApplied(1)"));
    let (mut phone, reply) = s.open(202, &challenge, Command::Unlock, Some(&couriers[2]));
    s.note("short form naming links no longer held: NeedChain, nothing done, the session kept");
    assert_eq!(reply.as_deref(), Some("NeedChain"));
    let reply = s.retry(203, &mut phone, &couriers[2], Command::Unlock);
    s.note("Retry in the same session: the open's command again with the chain whole");
    assert_eq!(reply.as_deref(), Some("Unlocked"));
    s.json(
        "fast path: a prepared challenge, a repeat visit with the company's link held, a miss answered NeedChain and retried in the session",
        "22.1, 22.2, 13.4 O7a, 13.5 C7",
    )
}

/// A state image (16.1) and its meaning, field by field. `epoch` and `time_keys`, which the
/// crate keeps private, are given by the caller from what it configured.
fn state_json(
    name: &str,
    state: &doorkey::lock::LockState,
    epoch: u32,
    time_keys: &[PublicKey],
) -> Value {
    let mut image = [0u8; doorkey::lock::MAX_STATE_BYTES];
    let n = state.encode(&mut image).expect("state encodes");
    let e = &state.enrolment;
    let mut tz = [0u8; 64];
    let tz_len = doorkey::wire::put(&e.time_zone(), &mut tz).expect("tz");
    let keys = |k: &[PublicKey]| k.iter().map(|k| hex(&k.0)).collect::<Vec<_>>();
    json!({
        "name": name,
        "section": "16.1",
        "bytes": hex(&image[..n]),
        "decoded": {
            "version": 1,
            "key": hex(&e.public_key().0),
            "owners": keys(e.owners()),
            "time_keys": keys(time_keys),
            "epoch": epoch,
            "time_zone_rule": hex(&tz[..tz_len]),
            "challenge_lifetime": e.challenge_lifetime(),
            "config_version": e.config_version(),
            "audit_key": e.audit_key().map(|k| hex(&k)),
            "revoked_ids": state.revoked_ids.as_slice().iter().map(|r| json!({"id": hex(&r.id.0), "until": r.until})).collect::<Vec<_>>(),
            "revoked_keys": state.revoked_keys.as_slice().iter().map(|r| json!({"key": hex(&r.key.0), "until": r.until})).collect::<Vec<_>>(),
            "uses": state.uses.as_slice().iter().map(|u| json!({"id": hex(&u.id.0), "used": u.used, "expires": u.expires, "epoch": u.epoch})).collect::<Vec<_>>(),
            "high_water": state.high_water,
            "receipts": {"seq": state.receipts.seq, "hash": hex(&state.receipts.hash)},
            "backlog": state.backlog.as_slice().iter().map(|r| json!({
                "seq": r.seq,
                "prev": hex(&r.prev),
                "time": r.time,
                "event": format!("{:?}", r.event),
                "who": r.who.map(|w| json!({"id": hex(&w.id.0), "holder": hex(&w.holder.0)})),
                "session": r.session.map(|s| hex(&s)),
            })).collect::<Vec<_>>(),
            "recovery": state.recovery,
        },
    })
}

/// The record at the front of `region` (16.5): header fields, data and mark.
fn record_json(region: &str, bytes: &[u8]) -> Value {
    let len = u32::from_le_bytes(bytes[12..16].try_into().expect("len")) as usize;
    json!({
        "region": region,
        "magic": hex(&bytes[..4]),
        "seq": u64::from_le_bytes(bytes[4..12].try_into().expect("seq")),
        "len": len,
        "check": hex(&bytes[16..32]),
        "data": hex(&bytes[32..32 + len]),
        "mark": bytes.get(32 + len).map(|m| hex(&[*m])),
    })
}

/// Persisted-state images of a factory-fresh and a used lock (16.1), the flash records a
/// `FlashStorage` writes for them (16.5), and what loading two hand-made regions gives.
fn storage_vectors() -> Value {
    use doorkey::lock::{FlashStorage, Region, Storage};
    let w = World::new();
    let owner = key(1);
    let mut lock = install(&w);
    let factory = state_json("factory state after installation", lock.state(), 0, &[]);

    // A lock in use: clock set, every table with an entry, a use counted, the backlog full.
    let mut rng = rng(RECEIPT_RNG_SEED);
    assert_eq!(
        set_time(&mut lock, tick(10), T0, &owner, &mut rng),
        Reply::TimeSet(T0)
    );
    enable_audit(&mut lock, tick(20), 1, &mut rng);
    let id = CredentialId([9; 16]);
    for (version, change) in [
        (2, Change::SetTimeZone(TzRule::parse(TZ).expect("tz"))),
        (3, Change::AddTimeKey(key(9).public_key())),
        (
            4,
            Change::RevokeId {
                id,
                until: Some(T0 + DAY),
            },
        ),
        (
            5,
            Change::RevokeKeyUntil {
                key: key(5).public_key(),
                until: Some(T0 + DAY),
            },
        ),
        (6, Change::SetChallengeLifetime(10)),
        (7, Change::AddOwner(key(7).public_key())),
    ] {
        let update = owner_update(lock.id(), version, change);
        let reply = anonymous(
            &mut lock,
            tick(20 + version),
            Command::Config(&update),
            &mut rng,
        )
        .2;
        assert_eq!(reply, Reply::ConfigApplied(version));
    }
    let chain = World::new().courier_chain();
    let courier = Credential::new(chain.as_bytes(), key(4)).expect("credential");
    assert_eq!(
        visit(&mut lock, tick(40), &courier, Command::Unlock, &mut rng).3,
        Reply::Unlocked
    );
    assert_eq!(lock.state().enrolment.config_version(), 7);
    assert_eq!(lock.state().receipts.seq, 10);
    let used = state_json(
        "a lock in use: audit key, Berlin rule, a time key, a revoked id and key, lifetime 10, a second owner, one use counted, 10 receipts (the backlog holds the last 8)",
        lock.state(),
        0,
        &[key(9).public_key()],
    );

    // Both images committed to a flash of two 4096-byte regions, in this order.
    let images: Vec<Vec<u8>> = [&factory, &used]
        .iter()
        .map(|s| unhex(s["bytes"].as_str().expect("bytes")))
        .collect();
    let sim = flash::SimFlash::new(4096, 1);
    let mut store = FlashStorage::new(sim.clone());
    for image in &images {
        store.commit(image).expect("commit");
    }
    let records = vec![
        record_json("A", &sim.region(Region::A)),
        record_json("B", &sim.region(Region::B)),
    ];

    // Loads of two 64-byte regions, made by committing and then altering.
    let commits = |data: &[&[u8]]| {
        let sim = flash::SimFlash::new(64, 1);
        let mut store = FlashStorage::new(sim.clone());
        for d in data {
            store.commit(d).expect("commit");
        }
        (sim.region(Region::A), sim.region(Region::B))
    };
    let erased = vec![0xffu8; 64];
    let (one, _) = commits(&[&[1, 2, 3]]);
    let (first, second) = commits(&[&[1, 2, 3], &[4, 5, 6, 7]]);
    let (other_zero, _) = commits(&[&[9, 9]]);
    let mut unmarked = first.clone();
    unmarked[35] = 0xff;
    let mut torn = second.clone();
    torn[33] ^= 0x01;
    let mut garbage = erased.clone();
    garbage[..4].copy_from_slice(b"DKS1");
    let loads: Vec<(&str, Vec<u8>, Vec<u8>, Value)> = vec![
        (
            "record 0 in A, B erased",
            one.clone(),
            erased.clone(),
            json!({"result": "state", "data": "010203", "rolled_back": false}),
        ),
        (
            "record 0 in A (marked 00), record 1 in B",
            first.clone(),
            second.clone(),
            json!({"result": "state", "data": "04050607", "rolled_back": false}),
        ),
        (
            "record 0 in A (unmarked), record 1 in B with a data byte flipped: a commit cut short",
            unmarked,
            torn.clone(),
            json!({"result": "state", "data": "010203", "rolled_back": false}),
        ),
        (
            "record 0 in A (marked 00), record 1 in B with a data byte flipped: a rollback",
            first.clone(),
            torn,
            json!({"result": "state", "data": "010203", "rolled_back": true}),
        ),
        (
            "record 0 in A, another record 0 in B: A wins a tie",
            one,
            other_zero,
            json!({"result": "state", "data": "010203", "rolled_back": false}),
        ),
        (
            "both regions erased: blank",
            erased.clone(),
            erased.clone(),
            json!({"result": "blank"}),
        ),
        (
            "a header that is not erased and not valid in A, B erased: corrupt",
            garbage,
            erased,
            json!({"result": "Storage"}),
        ),
    ];
    let loads: Vec<Value> = loads
        .into_iter()
        .map(|(name, a, b, expect)| {
            let mut store = FlashStorage::new(flash::SimFlash::with_contents(a.clone(), b.clone()));
            let mut buf = [0u8; 64];
            let got = match store.load(&mut buf) {
                Ok(Some(n)) => json!({"result": "state", "data": hex(&buf[..n]), "rolled_back": store.rolled_back()}),
                Ok(None) => json!({"result": "blank"}),
                Err(e) => json!({"result": format!("{e:?}")}),
            };
            assert_eq!(got, expect, "{name}: the crate disagrees with the spec");
            json!({"name": name, "section": "16.5", "region_a": hex(&a), "region_b": hex(&b), "expect": expect})
        })
        .collect();

    json!({
        "description": "Storage of a lock (docs/PROTOCOL.md 16.1, 16.5) for firmware that reads or writes the reference's storage. `states` are state images with their meaning field by field; `records` the two records a flash of two 4096-byte regions holds after `states` were committed in order (the rest of each region is ff); each `loads` case is two 64-byte regions and what loading them gives: the state and whether it is a rollback, blank, or the error named.",
        "lock_seed": hex(&[2; 32]),
        "lock_public": hex(&key(2).public_key().0),
        "owner_public": hex(&owner.public_key().0),
        "states": [factory, used],
        "region_size": 4096,
        "records": records,
        "loads": loads,
    })
}

fn main() {
    let check = std::env::args().any(|a| a == "--check");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let files = [
        ("credential.json", credential_vectors()),
        ("session.json", session_vectors()),
        ("receipts.json", receipt_vectors()),
        ("negative.json", negative_vectors()),
        ("verdicts.json", verdict_vectors()),
        ("behaviour.json", behaviour_vectors()),
        ("storage.json", storage_vectors()),
    ];
    let mut stale = false;
    for (name, value) in files {
        let text = serde_json::to_string_pretty(&value).expect("json") + "\n";
        let path = dir.join(name);
        if check {
            if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                eprintln!("stale: {}", path.display());
                stale = true;
            }
        } else {
            std::fs::write(&path, text).expect("write vectors");
            println!("wrote {}", path.display());
        }
    }
    if stale {
        eprintln!("run `cargo run --example gen_vectors` and commit the result");
        std::process::exit(1);
    }
}
