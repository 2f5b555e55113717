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
//!   server's receipt log reports for each.
//! - `negative.json`: messages a conforming implementation must refuse, each with its spec
//!   section and the exact error.

#[path = "../tests/common/mod.rs"]
mod common;

use chacha20::ChaCha20Rng;
use common::*;
use doorkey::config::TimeAnchor;
use doorkey::credential::{Chain, LockId, Rights, Scope};
use doorkey::crypto::{Signer, labels};
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

fn expect(lock: &Enrolment, chain: &[u8], now: Option<UnixTime>) -> Value {
    match lock.verify_chain(chain, now, &()) {
        Ok(g) => {
            json!({"result": "ok", "holder": hex(&g.holder.0), "owner": hex(&g.owner.0), "rights": g.rights.bits()})
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
    depot_link.subject = depot.public_key();
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
        .map(|(name, chain, now)| json!({"name": name, "chain": hex(chain), "now": now, "expect": expect(&w.lock, chain, now)}))
        .collect();
    json!({
        "description": "doorkey credential chains (docs/PROTOCOL.md). Keys are RFC 8032 seeds of 32 repeated bytes. A lock with `lock_seed`, owner `owner_public` enrolled, epoch 0, time zone `time_zone_rule` (the encoded `TzRule`; `time_zone` is the same rule as a POSIX TZ string), verifying `chain` at UTC second `now` (null: clock untrusted) must give `expect.result`: ok, or the error named.",
        "owner_seed": hex(&[1; 32]),
        "owner_public": hex(&owner.0),
        "lock_seed": hex(&[2; 32]),
        "lock_public": hex(&w.lock.public_key().0),
        "lock_id": hex(&w.lock_id().0),
        "company_public": hex(&w.company.public_key().0),
        "courier_public": hex(&w.courier.public_key().0),
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
    /// reads it.
    fn exchange(
        &mut self,
        lock: &mut Lock<Mem>,
        phone: &mut PhoneSession,
        keys: &Derived,
        tick: Tick,
        message: &[u8],
        command: &Command<'_>,
    ) -> String {
        let mut input = message.to_vec();
        let mut out = [0u8; 512];
        let outcome = lock
            .handle(tick, &mut input, &mut out)
            .expect("the lock answers");
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
            "message": variant(&if message[1] == 0x11 { Kind::Open } else { Kind::Command }),
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
        reply
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
    assert_eq!(reply, format!("TimeSet({})", ANCHOR_TIME.as_secs()));
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
        replies.push(rec.exchange(&mut lock, &mut phone, &keys, *tick, msg, command));
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

    json!({
        "description": "The receipt bundle (docs/PROTOCOL.md sections 18 and 19) a courier fetches after a delivery: `sealed` as the courier carries it, sealed to `audit_public` (18.8); opened with `audit_secret` it is the encoded `ack`, then `bundle`: a signed head, then every receipt the lock holds, oldest first. Keys are RFC 8032 seeds of 32 repeated bytes. Every receipt's `hash` is its chain hash and the `prev` of the next; every item verifies under `lock_public`; each `broken` bundle, ingested into an empty receipt log for `lock_public`, gives the findings `ingest` at ingestion and `audit` after it.",
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
    })
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
    small_order_link.subject = doorkey::crypto::PublicKey(identity);
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
    // The root body starts at 7: subject (32 bytes), the scope's variant index at 39, its count
    // at 40 and lock id at 41..57, rights at 57, then not_before (a varint) and the lifetime's
    // option tag. Decoding refuses these before any signature is looked at.
    const SCOPE: usize = 39;
    const RIGHTS: usize = 57;
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
    ];
    let mut cases: Vec<Value> = cases
        .into_iter()
        .map(|(name, section, chain, error)| {
            let got = expect(&w.lock, &chain, Some(now));
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

fn main() {
    let check = std::env::args().any(|a| a == "--check");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let files = [
        ("credential.json", credential_vectors()),
        ("session.json", session_vectors()),
        ("receipts.json", receipt_vectors()),
        ("negative.json", negative_vectors()),
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
