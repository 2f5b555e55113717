//! The golden vectors in `tests/vectors/` hold for this build: keys derive from their seeds
//! and every case gives its recorded outcome.

use doorkey::crypto::{PublicKey, SecretKey, Signer};
use doorkey::lock::Enrolment;
use doorkey::time::{Tick, TzRule, UnixTime};
use serde_json::Value;

#[path = "common/flash.rs"]
mod flash;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn arr32(s: &str) -> [u8; 32] {
    unhex(s).try_into().unwrap()
}

fn load(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The lock a vector file describes: its owner and lock keys from their seeds (checked against
/// the public values given), the owner enrolled, and the encoded time-zone rule installed as a
/// `SetTimeZone` update would.
fn vector_lock(v: &Value) -> Enrolment {
    let owner = SecretKey::from_seed(&arr32(v["owner_seed"].as_str().unwrap()));
    assert_eq!(
        owner.public_key(),
        PublicKey(arr32(v["owner_public"].as_str().unwrap()))
    );
    let lock_key = SecretKey::from_seed(&arr32(v["lock_seed"].as_str().unwrap()));
    let mut lock = Enrolment::new(lock_key.public_key());
    assert_eq!(lock.id().0.to_vec(), unhex(v["lock_id"].as_str().unwrap()));
    lock.enrol_owner(owner.public_key()).unwrap();
    let tz: TzRule =
        doorkey::wire::take_all(&unhex(v["time_zone_rule"].as_str().unwrap())).unwrap();
    lock.set_time_zone(tz).unwrap();
    lock
}

#[test]
fn credential_vectors_hold() {
    let v = load("credential.json");
    let lock = vector_lock(&v);
    assert_eq!(
        lock.public_key().0,
        arr32(v["lock_public"].as_str().unwrap())
    );
    // The POSIX string beside the encoded rule is the same rule.
    let tz = TzRule::parse(v["time_zone"].as_str().unwrap()).unwrap();
    assert_eq!(lock.time_zone(), tz);
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    let (mut ok, mut refused) = (0, 0);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let chain = unhex(case["chain"].as_str().unwrap());
        let now = case["now"].as_u64().map(UnixTime::from_secs);
        let expect = &case["expect"];
        match lock.verify_chain(&chain, now, &()) {
            Ok(grant) => {
                assert_eq!(expect["result"], "ok", "{name}");
                let rights = u64::from(grant.rights.bits());
                assert_eq!(expect["rights"].as_u64().unwrap(), rights, "{name}");
                assert_eq!(
                    expect["holder"].as_str().unwrap(),
                    hex(grant.holder.as_bytes()),
                    "{name}"
                );
                assert_eq!(
                    expect["owner"].as_str().unwrap(),
                    hex(&grant.owner.0),
                    "{name}"
                );
                ok += 1;
            }
            Err(e) => {
                assert_eq!(
                    expect["result"].as_str().unwrap(),
                    format!("{e:?}"),
                    "{name}"
                );
                refused += 1;
            }
        }
    }
    assert!(
        ok >= 4 && refused >= 8,
        "vectors cover both outcomes: {ok} ok, {refused} refused"
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn bytes(v: &Value) -> Vec<u8> {
    unhex(v.as_str().unwrap())
}

/// The recorded session replayed into a fresh lock driven by the recorded random numbers:
/// the lock regenerates every challenge, answers every phone message with the recorded
/// outcome and exactly the recorded reply bytes, and refuses every phone message a second
/// time, right away, at the end, and after a reboot.
#[test]
fn session_vectors_replay() {
    use doorkey::lock::{Lock, MemoryStorage};
    use doorkey::session::DEFAULT_CHALLENGE_LIFETIME;
    use rand_core::SeedableRng;

    let v = load("session.json");
    let lock_key = SecretKey::from_seed(&arr32(v["lock_seed"].as_str().unwrap()));
    let owner = SecretKey::from_seed(&arr32(v["owner_seed"].as_str().unwrap()));
    assert_eq!(
        lock_key.public_key().0,
        arr32(v["lock_public"].as_str().unwrap())
    );
    assert_eq!(
        owner.public_key().0,
        arr32(v["owner_public"].as_str().unwrap())
    );
    let courier = SecretKey::from_seed(&arr32(v["courier_seed"].as_str().unwrap()));
    assert_eq!(
        courier.public_key().0,
        arr32(v["courier_public"].as_str().unwrap())
    );
    assert_eq!(
        v["challenge_lifetime"].as_u64(),
        Some(u64::from(DEFAULT_CHALLENGE_LIFETIME))
    );

    let mut lock = Lock::install(
        SecretKey::from_seed(&lock_key.to_seed()),
        owner.public_key(),
        MemoryStorage::<4096>::new(),
    )
    .unwrap();
    assert_eq!(lock.id().0.to_vec(), bytes(&v["lock_id"]));
    let mut rng = chacha20::ChaCha20Rng::from_seed(arr32(v["lock_rng_seed"].as_str().unwrap()));
    let mut out = [0u8; 2048];
    let mut sent = Vec::new();
    let (mut challenges, mut answered) = (0, 0);
    for session in v["sessions"].as_array().unwrap() {
        let messages = session["messages"].as_array().unwrap();
        let mut i = 0;
        while i < messages.len() {
            let m = &messages[i];
            let at = m["tick"].as_u64().unwrap();
            let tick = Tick::from_secs(at);
            let recorded = bytes(&m["bytes"]);
            match (m["from"].as_str().unwrap(), m["message"].as_str().unwrap()) {
                ("lock", "Challenge") => {
                    let n = lock.challenge(tick, &mut rng, &mut out).unwrap();
                    assert_eq!(hex(&out[..n]), hex(&recorded), "challenge at tick {at}");
                    challenges += 1;
                    i += 1;
                }
                ("phone", kind) => {
                    let expect = &m["expect"];
                    let outcome = lock.handle(tick, &mut recorded.clone(), &mut out).unwrap();
                    assert_eq!(
                        format!("{:?}", outcome.action),
                        expect["action"].as_str().unwrap(),
                        "{kind} at tick {at}"
                    );
                    assert_eq!(
                        outcome.denied.map(|e| format!("{e:?}")),
                        expect["denied"].as_str().map(str::to_string)
                    );
                    let reply = &messages[i + 1];
                    assert_eq!(
                        (reply["from"].as_str(), reply["message"].as_str()),
                        (Some("lock"), Some("Reply"))
                    );
                    assert_eq!(
                        hex(&out[..outcome.reply]),
                        reply["bytes"].as_str().unwrap(),
                        "reply to the {kind} at tick {at}"
                    );
                    let name = reply["reply"].as_str().unwrap();
                    assert!(name.starts_with(expect["reply"].as_str().unwrap()));
                    // The same bytes a second time, right away: refused, and no reply.
                    assert!(
                        lock.handle(tick, &mut recorded.clone(), &mut out).is_err(),
                        "{kind} at tick {at} accepted twice"
                    );
                    sent.push((tick, recorded));
                    answered += 1;
                    i += 2;
                }
                other => panic!("unexpected message {other:?}"),
            }
        }
    }
    assert_eq!((challenges, answered), (2, 4));
    // After the whole exchange, and after a reboot, every phone message is refused.
    for (tick, msg) in &sent {
        assert!(lock.handle(*tick, &mut msg.clone(), &mut out).is_err());
    }
    let mut lock = Lock::boot(lock_key, lock.into_storage()).unwrap();
    for (tick, msg) in &sent {
        assert!(lock.handle(*tick, &mut msg.clone(), &mut out).is_err());
    }
}

/// The plaintext of a recorded sealed message (12.4), opened with ChaCha20-Poly1305 directly:
/// an open with `p2l`, counter 0 and its 50 clear bytes as AAD; a command with `p2l`, a reply
/// with `l2p`, each with the counter and AAD of its 6-byte header.
fn open_sealed(p2l: &[u8], l2p: &[u8], m: &Value) -> Vec<u8> {
    use chacha20poly1305::aead::{AeadInOut, KeyInit};
    use chacha20poly1305::{ChaCha20Poly1305, Nonce, Tag};
    let msg = bytes(&m["bytes"]);
    let counter = || u32::from_le_bytes(msg[2..6].try_into().unwrap());
    let (key, counter, clear) = match m["message"].as_str().unwrap() {
        "Open" => (p2l, 0, 50),
        "Command" => (p2l, counter(), 6),
        "Reply" => (l2p, counter(), 6),
        other => panic!("{other}"),
    };
    let mut nonce = [0u8; 12];
    nonce[..4].copy_from_slice(&counter.to_le_bytes());
    let (aad, sealed) = msg.split_at(clear);
    let (ciphertext, tag) = sealed.split_at(sealed.len() - 16);
    let mut buf = ciphertext.to_vec();
    let key: [u8; 32] = key.try_into().unwrap();
    ChaCha20Poly1305::new(&key.into())
        .decrypt_inout_detached(
            &Nonce::from(nonce),
            aad,
            buf.as_mut_slice().into(),
            &Tag::try_from(tag).unwrap(),
        )
        .unwrap();
    buf
}

fn sha512_32(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha512::new();
    for p in parts {
        h.update(p);
    }
    h.finalize()[..32].try_into().unwrap()
}

/// Checks a session's recorded key schedule (12.1 to 12.3) from the primitives alone: the
/// ephemeral keys in the challenge and the open follow from the recorded secrets, the
/// challenge is the lock's, and the shared secret, digest, transcript hash and both keys are
/// as recorded. Returns the two keys, phone-to-lock first.
fn check_derivation(challenge: &[u8], open: &[u8], d: &Value) -> [u8; 64] {
    use curve25519_dalek::montgomery::MontgomeryPoint;
    let label = |s: &str| [s.as_bytes(), &[0]].concat();
    let lock_secret = arr32(d["lock_ephemeral_secret"].as_str().unwrap());
    let phone_secret = arr32(d["phone_ephemeral_secret"].as_str().unwrap());
    // Challenge: header, lock key, nonce, ephemeral key, clock flag, the count of held-link
    // references and the references (22.2), signature.
    let signed = 84 + 8 * usize::from(challenge[83]);
    assert_eq!(challenge.len(), signed + 64);
    assert_eq!(
        challenge[50..82],
        MontgomeryPoint::mul_base_clamped(lock_secret).to_bytes()
    );
    assert_eq!(
        open[18..50],
        MontgomeryPoint::mul_base_clamped(phone_secret).to_bytes()
    );
    assert_eq!(open[2..18], challenge[34..50], "the open names the nonce");
    let lock_key = PublicKey(challenge[2..34].try_into().unwrap());
    lock_key
        .verify_strict(
            &[&label("doorkey/v1/challenge")[..], &challenge[..signed]].concat(),
            &doorkey::crypto::Signature(challenge[signed..].try_into().unwrap()),
        )
        .unwrap();
    let shared = MontgomeryPoint(challenge[50..82].try_into().unwrap())
        .mul_clamped(phone_secret)
        .to_bytes();
    assert_eq!(hex(&shared), d["shared_secret"].as_str().unwrap());
    let digest = sha512_32(&[&label("doorkey/v1/challenge-digest"), challenge]);
    assert_eq!(hex(&digest), d["challenge_digest"].as_str().unwrap());
    let th = sha512_32(&[&label("doorkey/v1/transcript"), &digest, &open[..50]]);
    assert_eq!(hex(&th), d["transcript_hash"].as_str().unwrap());
    let mut okm = [0u8; 64];
    hkdf::Hkdf::<sha2::Sha512>::new(Some(&label("doorkey/v1/session")), &shared)
        .expand(&th, &mut okm)
        .unwrap();
    assert_eq!(hex(&okm[..32]), d["key_phone_to_lock"].as_str().unwrap());
    assert_eq!(hex(&okm[32..]), d["key_lock_to_phone"].as_str().unwrap());
    okm
}

/// The recorded keys follow from the recorded ephemeral secrets by the key schedule of
/// docs/PROTOCOL.md, computed here from the primitives alone, and open every sealed message
/// to its recorded plaintext.
#[test]
fn session_vectors_follow_the_key_schedule() {
    let v = load("session.json");
    let label = |s: &str| [s.as_bytes(), &[0]].concat();
    for session in v["sessions"].as_array().unwrap() {
        let messages = session["messages"].as_array().unwrap();
        assert_eq!(messages[1]["message"], "Open");
        let okm = check_derivation(
            &bytes(&messages[0]["bytes"]),
            &bytes(&messages[1]["bytes"]),
            &session["derived"],
        );
        for m in &messages[1..] {
            let plain = open_sealed(&okm[..32], &okm[32..], m);
            assert_eq!(hex(&plain), m["plaintext"].as_str().unwrap());
        }
    }
    // The courier's holder signature covers the label, the transcript hash and the command.
    let visit = &v["sessions"][1];
    let th = unhex(visit["derived"]["transcript_hash"].as_str().unwrap());
    let plain = bytes(&visit["messages"][1]["plaintext"]);
    let signed = bytes(&visit["holder_signed_message"]);
    assert_eq!(
        signed,
        [&label("doorkey/v1/holder")[..], &th, &plain[..1]].concat()
    );
    PublicKey(arr32(v["courier_public"].as_str().unwrap()))
        .verify_strict(
            &signed,
            &doorkey::crypto::Signature(plain[plain.len() - 64..].try_into().unwrap()),
        )
        .unwrap();
    // The proof carries the recorded chain, after the command byte, the option tag and the
    // chain's varint length.
    let chain = bytes(&v["chain"]);
    assert_eq!(plain[1..4], [0x01, 0xbb, 0x02]);
    assert_eq!(plain[4..4 + chain.len()], chain[..]);
}

/// Reads a receipt or head field by field as docs/PROTOCOL.md 18.2 and 18.5 lay it out,
/// independently of the crate's decoder.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.bytes[self.at];
        self.at += 1;
        b
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let out = self.bytes[self.at..self.at + N].try_into().unwrap();
        self.at += N;
        out
    }

    /// A canonical unsigned varint of at most 10 bytes (a `u64`).
    fn varint(&mut self) -> u64 {
        let mut value = 0u64;
        for i in 0..10 {
            let b = self.byte();
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                assert!(i == 0 || b != 0, "overlong varint");
                return value;
            }
        }
        panic!("varint too long")
    }

    fn option(&mut self) -> bool {
        match self.byte() {
            0 => false,
            1 => true,
            t => panic!("option tag {t}"),
        }
    }
}

const EVENTS: [&str; 10] = [
    "Installed",
    "Boot",
    "Unlocked",
    "Relocked",
    "Denied",
    "ConfigChanged",
    "TimeSet",
    "DoorOpened",
    "DoorClosed",
    "DoorLeftOpen",
];
const REASONS: [&str; 7] = [
    "NotAuthorized",
    "NotNow",
    "UsedUp",
    "NeedTime",
    "Refused",
    "Unavailable",
    "BadRequest",
];

/// A receipt decoded by hand from the front of `bytes`: the same JSON the generator writes
/// (without bytes and hash), and the length of header and body (what the hash and signature
/// cover; the 64-byte signature follows).
fn decode_receipt(bytes: &[u8]) -> (Value, usize) {
    let mut r = Reader { bytes, at: 0 };
    assert_eq!([r.byte(), r.byte()], [0x01, 0x30], "receipt header");
    let fields = r.receipt_body();
    (fields, r.at)
}

impl Reader<'_> {
    /// The body of a receipt (18.2), as the generator writes it.
    fn receipt_body(&mut self) -> Value {
        let seq = self.varint();
        let prev = self.array::<32>();
        let time = self.option().then(|| self.varint());
        let index = self.varint() as usize;
        let event = match EVENTS[index] {
            "Denied" => format!("Denied({})", REASONS[self.byte() as usize]),
            "ConfigChanged" => format!("ConfigChanged({})", self.varint()),
            name => name.to_string(),
        };
        let who = self.option().then(|| {
            let id = self.array::<16>();
            let holder = self.array::<32>();
            serde_json::json!({"id": hex(&id), "holder": hex(&holder)})
        });
        let session = self.option().then(|| hex(&self.array::<16>()));
        serde_json::json!({
            "seq": seq, "prev": hex(&prev), "time": time, "event": event, "who": who,
            "session": session,
        })
    }

    /// A list (1.2): its count, then each element.
    fn list(&mut self, mut element: impl FnMut(&mut Self) -> Value) -> Value {
        let n = self.varint();
        Value::from((0..n).map(|_| element(self)).collect::<Vec<_>>())
    }

    /// A zigzag varint (1.2), for the signed fields of a time-zone rule.
    fn zigzag(&mut self) -> i64 {
        let v = self.varint();
        (v >> 1) as i64 ^ -((v & 1) as i64)
    }
}

/// A head decoded by hand: sequence number, hash, time, and the signed length.
fn decode_head(bytes: &[u8]) -> (u64, [u8; 32], Option<u64>, usize) {
    let mut r = Reader { bytes, at: 0 };
    assert_eq!([r.byte(), r.byte()], [0x01, 0x31], "head header");
    let seq = r.varint();
    let hash = r.array::<32>();
    let time = r.option().then(|| r.varint());
    (seq, hash, time, r.at)
}

/// The length of the bundle item at the front of `bytes`, by its kind.
fn item_len(bytes: &[u8]) -> usize {
    64 + match bytes[1] {
        0x30 => decode_receipt(bytes).1,
        _ => decode_head(bytes).3,
    }
}

fn finding_json(f: &doorkey::server::Finding) -> Value {
    use doorkey::server::Finding::*;
    use serde_json::json;
    match *f {
        Malformed { index } => json!({"finding": "Malformed", "index": index}),
        BadSignature { index } => json!({"finding": "BadSignature", "index": index}),
        Fork { seq } => json!({"finding": "Fork", "seq": seq}),
        Duplicate { seq } => json!({"finding": "Duplicate", "seq": seq}),
        Reordered { seq } => json!({"finding": "Reordered", "seq": seq}),
        Gap { from, to } => json!({"finding": "Gap", "from": from, "to": to}),
        BrokenLink { seq } => json!({"finding": "BrokenLink", "seq": seq}),
        Truncated { signed, held } => {
            json!({"finding": "Truncated", "signed": signed, "held": held})
        }
        Unopened { index } => json!({"finding": "Unopened", "index": index}),
        other => panic!("a finding the vectors do not record: {other:?}"),
    }
}

/// Every receipt of the recorded bundle decodes field by field as the spec lays it out,
/// carries the chain hash recorded for it and links to its predecessor's, and is signed by
/// the lock: all computed here with SHA-512 and Ed25519 directly. The head vouches for the
/// last receipt. Each broken bundle gives the recorded findings in the server's log, and a
/// run verifier refuses it.
#[test]
fn receipt_vectors_follow_the_spec() {
    use doorkey::receipt::{RunVerifier, verify_one};
    use doorkey::server::ReceiptLog;
    use ed25519_dalek::{Signature, VerifyingKey};

    let v = load("receipts.json");
    let label = |s: &str| [s.as_bytes(), &[0]].concat();
    let lock_public = arr32(v["lock_public"].as_str().unwrap());
    assert_eq!(
        SecretKey::from_seed(&arr32(v["lock_seed"].as_str().unwrap()))
            .public_key()
            .0,
        lock_public
    );
    let full = {
        use sha2::Digest;
        let mut h = sha2::Sha512::new();
        h.update(label("doorkey/v1/lock-id"));
        h.update(lock_public);
        h.finalize()
    };
    let lock_id = &full[..16];
    assert_eq!(hex(lock_id), v["lock_id"].as_str().unwrap());
    let key = VerifyingKey::from_bytes(&lock_public).unwrap();
    let check = |label: &[u8], signed: &[u8], signature: &[u8]| {
        let message = [label, lock_id, signed].concat();
        key.verify_strict(&message, &Signature::from_slice(signature).unwrap())
            .unwrap();
    };

    // The sealed bundle opens as 18.8 says, computed here with X25519, HKDF-SHA512 and
    // ChaCha20-Poly1305 directly: the plaintext is the ack, then the bundle.
    {
        use chacha20poly1305::aead::{AeadInOut, KeyInit};
        let sealed = unhex(v["sealed"].as_str().unwrap());
        let audit_secret = arr32(v["audit_secret"].as_str().unwrap());
        let audit_public = x25519_dalek::x25519(audit_secret, x25519_dalek::X25519_BASEPOINT_BYTES);
        assert_eq!(hex(&audit_public), v["audit_public"].as_str().unwrap());
        assert_eq!(sealed[..2], [0x01, 0x32]);
        let ephemeral: [u8; 32] = sealed[2..34].try_into().unwrap();
        let (len, at) = match sealed[34] {
            b if b < 0x80 => (usize::from(b), 35),
            b => (usize::from(b & 0x7f) | usize::from(sealed[35]) << 7, 36),
        };
        assert_eq!(sealed.len(), at + len);
        let shared = x25519_dalek::x25519(audit_secret, ephemeral);
        let hk = hkdf::Hkdf::<sha2::Sha512>::new(Some(&label("doorkey/v1/seal")), &shared);
        let mut aead_key = [0u8; 32];
        hk.expand(
            &[lock_id, &ephemeral[..], &audit_public[..]].concat(),
            &mut aead_key,
        )
        .unwrap();
        let aad = [lock_id, &sealed[..34]].concat();
        let (ciphertext, tag) = sealed[at..].split_at(len - 16);
        let mut plain = ciphertext.to_vec();
        chacha20poly1305::ChaCha20Poly1305::new(&aead_key.into())
            .decrypt_inout_detached(
                &[0u8; 12].into(),
                &aad,
                plain.as_mut_slice().into(),
                &chacha20poly1305::Tag::try_from(tag).unwrap(),
            )
            .unwrap();
        let ack = &v["ack"];
        let token = unhex(ack["token"].as_str().unwrap());
        let hash = unhex(ack["hash"].as_str().unwrap());
        let (first, seq) = (ack["first"].as_u64().unwrap(), ack["seq"].as_u64().unwrap());
        assert!(first < 0x80 && seq < 0x80, "one-byte varints");
        let encoded_ack = [&[first as u8, seq as u8][..], &hash, &token].concat();
        assert_eq!(
            plain,
            [&encoded_ack[..], &unhex(v["bundle"].as_str().unwrap())].concat()
        );
        // The token is the lock's signature over lock id, first and seq (8 bytes each, little
        // endian) and the hash.
        let body = [
            lock_id,
            &first.to_le_bytes()[..],
            &seq.to_le_bytes()[..],
            &hash,
        ]
        .concat();
        key.verify_strict(
            &[&label("doorkey/v1/ack")[..], &body].concat(),
            &Signature::from_slice(&token).unwrap(),
        )
        .unwrap();
    }

    // The bundle is the head, then the receipts, oldest first, with nothing in between.
    let bundle = bytes(&v["bundle"]);
    let head = bytes(&v["head"]["bytes"]);
    let receipts = v["receipts"].as_array().unwrap();
    let mut concat = head.clone();
    for r in receipts {
        concat.extend_from_slice(&bytes(&r["bytes"]));
    }
    assert_eq!(concat, bundle);

    let mut prev = [0u8; 32];
    let mut seq = 0;
    for r in receipts {
        let item = bytes(&r["bytes"]);
        let (fields, signed) = decode_receipt(&item);
        assert_eq!(item.len(), signed + 64, "a receipt ends with its signature");
        for field in ["seq", "prev", "time", "event", "who", "session"] {
            assert_eq!(fields[field], r[field], "{field} of {r}");
        }
        seq += 1;
        assert_eq!(r["seq"].as_u64(), Some(seq));
        assert_eq!(
            r["prev"].as_str().unwrap(),
            hex(&prev),
            "receipt {seq} links back"
        );
        let hash = sha512_32(&[&label("doorkey/v1/receipt-hash"), lock_id, &item[..signed]]);
        assert_eq!(
            hex(&hash),
            r["hash"].as_str().unwrap(),
            "hash of receipt {seq}"
        );
        check(
            &label("doorkey/v1/receipt"),
            &item[..signed],
            &item[signed..],
        );
        // The same receipt under the head label, or the hash label, does not verify.
        let message = [&label("doorkey/v1/head")[..], lock_id, &item[..signed]].concat();
        assert!(
            key.verify_strict(&message, &Signature::from_slice(&item[signed..]).unwrap())
                .is_err()
        );
        // The crate's single-receipt verifier agrees.
        let decoded = verify_one(&item, &PublicKey(lock_public)).unwrap();
        assert_eq!(
            (decoded.seq, decoded.time),
            (seq, r["time"].as_u64().map(UnixTime::from_secs))
        );
        prev = hash;
    }
    let (head_seq, head_hash, head_time, signed) = decode_head(&head);
    assert_eq!(head.len(), signed + 64);
    check(&label("doorkey/v1/head"), &head[..signed], &head[signed..]);
    assert_eq!(
        (head_seq, head_hash),
        (seq, prev),
        "the head vouches for the last receipt"
    );
    assert_eq!(head_seq, v["head"]["seq"].as_u64().unwrap());
    assert_eq!(hex(&head_hash), v["head"]["hash"].as_str().unwrap());
    assert_eq!(head_time, v["head"]["time"].as_u64());
    assert!(receipts.len() >= 5);

    let lock_key = PublicKey(lock_public);
    let mut log = ReceiptLog::new(lock_key).unwrap();
    assert_eq!(log.ingest(&bundle).unwrap(), []);
    assert_eq!(log.audit().unwrap(), []);
    let broken = v["broken"].as_array().unwrap();
    let mut kinds = Vec::new();
    for case in broken {
        let name = case["name"].as_str().unwrap();
        let bundle = bytes(&case["bundle"]);
        let mut log = ReceiptLog::new(lock_key).unwrap();
        let ingest: Vec<Value> = log
            .ingest(&bundle)
            .unwrap()
            .iter()
            .map(finding_json)
            .collect();
        assert_eq!(Value::from(ingest), case["ingest"], "{name}: ingest");
        let audit: Vec<Value> = log.audit().unwrap().iter().map(finding_json).collect();
        assert_eq!(Value::from(audit), case["audit"], "{name}: audit");
        kinds.extend(
            case["audit"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["finding"].as_str().unwrap().to_string()),
        );
        // A run verifier from the start of the chain refuses every broken bundle.
        let mut rest = &bundle[..];
        let head_len = item_len(rest);
        let (head, tail) = rest.split_at(head_len);
        rest = tail;
        let mut run = RunVerifier::from_start(lock_key);
        let mut refused = false;
        while !rest.is_empty() && !refused {
            let (item, tail) = rest.split_at(item_len(rest));
            refused = run.push(item).is_err();
            rest = tail;
        }
        assert!(refused || run.finish(head).is_err(), "{name}: run verifier");
    }
    kinds.sort();
    kinds.dedup();
    assert_eq!(
        kinds,
        ["BadSignature", "Duplicate", "Gap", "Reordered", "Truncated"]
    );
}

/// The verdict the crate gives a `negative.json` case against its expected error: `Err` with
/// both when they differ.
fn negative_verdict(lock: &Enrolment, case: &Value) -> Result<(), String> {
    use doorkey::config::{ConfigUpdate, TimeAnchor};
    use doorkey::crypto::labels;
    let bytes = unhex(case["bytes"].as_str().unwrap());
    // Each message as its receiver takes it: a chain verified by the lock, a challenge
    // inspected by a phone, an anchor or update checked against its signer, a receipt against
    // the lock's key, a key enrolled as an owner.
    let result = match case["message"].as_str().unwrap() {
        "chain" => lock
            .verify_chain(&bytes, case["now"].as_u64().map(UnixTime::from_secs), &())
            .map(|_| ()),
        "challenge" => doorkey::phone::inspect_challenge(&bytes, &lock.id()).map(|_| ()),
        "anchor" => TimeAnchor::decode(&bytes).and_then(|a| a.verify(&a.body.signer, labels::TIME)),
        "update" => {
            ConfigUpdate::decode(&bytes).and_then(|u| u.verify(&u.body.signer, labels::CONFIG))
        }
        "receipt" => doorkey::receipt::verify_one(&bytes, &lock.public_key()).map(|_| ()),
        "owner_key" => lock
            .clone()
            .enrol_owner(PublicKey(bytes.as_slice().try_into().unwrap())),
        other => panic!("unknown message {other}"),
    };
    let got = match result {
        Ok(()) => "ok".to_string(),
        Err(e) => format!("{e:?}"),
    };
    match case["expect"].as_str() {
        Some(expected) if expected == got => Ok(()),
        expected => Err(format!("expected {expected:?}, got {got}")),
    }
}

/// Every negative vector is refused with exactly the error it names; the check is not vacuous:
/// with the verdict flipped to acceptance, or to another error, it fails.
#[test]
fn negative_vectors_are_refused_with_the_error_named() {
    let v = load("negative.json");
    let lock = vector_lock(&v);
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        assert!(!case["section"].as_str().unwrap().is_empty(), "{name}");
        assert_eq!(negative_verdict(&lock, case), Ok(()), "{name}");
        for flipped in ["ok", "Truncated"] {
            let mut wrong = case.clone();
            wrong["expect"] = Value::from(flipped);
            assert!(
                negative_verdict(&lock, &wrong).is_err(),
                "{name} as {flipped}"
            );
        }
    }
}

/// The small-order case is the forgery a permissive verifier lets through: its child link's
/// signature (R = identity, S = 0 under the identity key) passes ed25519-dalek's non-strict
/// `verify` over exactly the message 6.2 defines, and only strict verification refuses it.
#[test]
fn the_small_order_vector_passes_a_permissive_verifier() {
    use doorkey::credential::Link;
    use doorkey::crypto::labels;
    use ed25519_dalek::{Signature, VerifyingKey};
    let v = load("negative.json");
    let case = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().contains("small-order subject"))
        .unwrap();
    let chain = unhex(case["bytes"].as_str().unwrap());
    let (root, rest) = doorkey::wire::take::<Link>(&chain[7..]).unwrap();
    let parent = &chain[7..chain.len() - rest.len() + 64];
    let (_, after) = doorkey::wire::take::<Link>(&rest[64..]).unwrap();
    let child = &rest[64..rest.len() - after.len()];
    let signature: [u8; 64] = after.try_into().unwrap();
    let anchor: [u8; 32] = sha512_32(&[labels::PARENT, parent]);
    let message = [labels::LINK, &[1], &anchor, child].concat();
    let subject = VerifyingKey::from_bytes(&root.subject.ed25519().unwrap().0).unwrap();
    let signature = Signature::from_bytes(&signature);
    assert!(subject.verify_strict(&message, &signature).is_err());
    ed25519_dalek::Verifier::verify(&subject, &message, &signature)
        .expect("a permissive verifier accepts the forgery");
}

/// The revocations a `verdicts.json` case lists.
struct Listed {
    ids: Vec<doorkey::credential::CredentialId>,
    keys: Vec<PublicKey>,
}

impl doorkey::credential::Revocations for Listed {
    fn id_revoked(&self, id: &doorkey::credential::CredentialId) -> bool {
        self.ids.contains(id)
    }

    fn key_revoked(&self, key: &PublicKey) -> bool {
        self.keys.contains(key)
    }
}

/// The lock a `verdicts.json` case configures, verifying its chain at its instant, against the
/// case's expectation: `Err` with both when they differ.
fn verdict(lock_key: PublicKey, case: &Value) -> Result<(), String> {
    let config = &case["lock"];
    let mut lock = Enrolment::new(lock_key);
    for owner in config["owners"].as_array().unwrap() {
        lock.enrol_owner(PublicKey(arr32(owner.as_str().unwrap())))
            .unwrap();
    }
    lock.set_epoch(config["epoch"].as_u64().unwrap().try_into().unwrap())
        .unwrap();
    let tz: TzRule = doorkey::wire::take_all(&bytes(&config["time_zone_rule"])).unwrap();
    lock.set_time_zone(tz).unwrap();
    let list = |field: &str| -> Vec<Vec<u8>> {
        config[field]
            .as_array()
            .unwrap()
            .iter()
            .map(bytes)
            .collect()
    };
    let revoked = Listed {
        ids: list("revoked_ids")
            .into_iter()
            .map(|b| doorkey::credential::CredentialId(b.try_into().unwrap()))
            .collect(),
        keys: list("revoked_keys")
            .into_iter()
            .map(|b| PublicKey(b.try_into().unwrap()))
            .collect(),
    };
    let got = match lock.verify_chain(
        &bytes(&case["chain"]),
        case["now"].as_u64().map(UnixTime::from_secs),
        &revoked,
    ) {
        Ok(g) => {
            serde_json::json!({"result": "ok", "holder": hex(g.holder.as_bytes()), "owner": hex(&g.owner.0), "rights": g.rights.bits()})
        }
        Err(e) => serde_json::json!({"result": format!("{e:?}")}),
    };
    if got == case["expect"] {
        Ok(())
    } else {
        Err(format!("expected {}, got {got}", case["expect"]))
    }
}

/// Every verdict vector gives its recorded result, each narrowing rule of 7.4 is refused at
/// least once, and the check is not vacuous: a flipped verdict, or an accepted chain credited
/// to another owner, fails it.
#[test]
fn verdict_vectors_hold() {
    let v = load("verdicts.json");
    let lock_key = SecretKey::from_seed(&arr32(v["lock_seed"].as_str().unwrap())).public_key();
    assert_eq!(lock_key.0, arr32(v["lock_public"].as_str().unwrap()));
    assert_eq!(
        hex(&doorkey::credential::LockId::of(&lock_key).0),
        v["lock_id"]
    );
    for k in v["keys"].as_object().unwrap().values() {
        let secret = SecretKey::from_seed(&arr32(k["seed"].as_str().unwrap()));
        assert_eq!(hex(&secret.public_key().0), k["public"]);
    }
    let cases = v["cases"].as_array().unwrap();
    let mut refused = std::collections::BTreeSet::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        assert!(!case["section"].as_str().unwrap().is_empty(), "{name}");
        assert_eq!(verdict(lock_key, case), Ok(()), "{name}");
        let mut wrong = case.clone();
        if case["expect"]["result"] == "ok" {
            wrong["expect"] = serde_json::json!({"result": "Revoked"});
            assert!(verdict(lock_key, &wrong).is_err(), "{name} as refused");
            let mut other_owner = case.clone();
            other_owner["expect"]["owner"] = case["expect"]["holder"].clone();
            assert!(verdict(lock_key, &other_owner).is_err(), "{name}: owner");
        } else {
            wrong["expect"] = serde_json::json!({"result": "ok"});
            assert!(verdict(lock_key, &wrong).is_err(), "{name} as ok");
            if let Some(rule) = name.strip_prefix('W') {
                refused.insert(rule[..1].to_string());
            }
        }
    }
    let every: Vec<String> = (1..=9).map(|i| i.to_string()).collect();
    assert_eq!(refused.into_iter().collect::<Vec<_>>(), every);
}

/// Replays one `behaviour.json` scenario into a fresh lock driven by the recorded lock stream:
/// `Err` at the first challenge, outcome or reply that differs from the recording.
fn replay_scenario(v: &Value, scenario: &Value) -> Result<(), String> {
    use doorkey::lock::{DoorEvent, Lock, MemoryStorage};
    use rand_core::SeedableRng;
    let lock_key = SecretKey::from_seed(&arr32(v["lock_seed"].as_str().unwrap()));
    let owner = PublicKey(arr32(v["owner_public"].as_str().unwrap()));
    let mut lock = Lock::install(lock_key, owner, MemoryStorage::<4096>::new()).unwrap();
    let mut rng = chacha20::ChaCha20Rng::from_seed(arr32(v["lock_rng_seed"].as_str().unwrap()));
    let messages = scenario["messages"].as_array().unwrap();
    let mut out = [0u8; 2400];
    let mut i = 0;
    while i < messages.len() {
        let m = &messages[i];
        let tick = Tick::from_secs(m["tick"].as_u64().unwrap());
        let at = format!("message {i} at tick {}", tick.as_secs());
        match (m["from"].as_str().unwrap(), m["message"].as_str().unwrap()) {
            ("lock", "Challenge") => {
                let n = lock.challenge(tick, &mut rng, &mut out).unwrap();
                if hex(&out[..n]) != m["bytes"] {
                    return Err(format!("{at}: another challenge"));
                }
            }
            ("firmware", "Prepare") => {
                lock.prepare_challenge(tick, &mut rng)
                    .map_err(|e| format!("{at}: {e:?}"))?;
            }
            ("firmware", "DoorEvent") => {
                let event = match m["event"].as_str().unwrap() {
                    "Opened" => DoorEvent::Opened,
                    "Closed" => DoorEvent::Closed,
                    other => panic!("door event {other}"),
                };
                lock.door_event(tick, event)
                    .map_err(|e| format!("{at}: {e:?}"))?;
            }
            ("phone", _) => {
                let expect = &m["expect"];
                let outcome = match lock.handle(tick, &mut bytes(&m["bytes"]), &mut out) {
                    Err(e) if expect["error"] == format!("{e:?}") => {
                        i += 1;
                        continue;
                    }
                    Err(e) => return Err(format!("{at}: refused with {e:?}, expected {expect}")),
                    Ok(outcome) => outcome,
                };
                let got = (
                    format!("{:?}", outcome.action),
                    outcome.denied.map(|e| format!("{e:?}")),
                );
                let want = (
                    expect["action"].as_str().unwrap_or_default().to_string(),
                    expect["denied"].as_str().map(str::to_string),
                );
                if got != want {
                    return Err(format!("{at}: {got:?}, expected {want:?}"));
                }
                let reply = &messages[i + 1];
                assert_eq!(reply["message"], "Reply");
                assert!(
                    reply["reply"]
                        .as_str()
                        .unwrap()
                        .starts_with(expect["reply"].as_str().unwrap())
                );
                if hex(&out[..outcome.reply]) != reply["bytes"] {
                    return Err(format!("{at}: another reply"));
                }
                i += 1;
            }
            other => panic!("unexpected message {other:?}"),
        }
        i += 1;
    }
    Ok(())
}

/// Every recorded scenario replays into a fresh lock exactly: the same challenges, outcomes
/// and reply bytes; every sealed message opens under its session's recorded keys to its
/// recorded plaintext; the receipts listed are those of the last sealed bundle, opened with
/// the audit secret and decoded by hand. The replay is not vacuous: any one phone message's
/// expected outcome flipped makes it fail.
#[test]
fn behaviour_vectors_replay() {
    let v = load("behaviour.json");
    for (seed, public) in [
        ("lock_seed", "lock_public"),
        ("owner_seed", "owner_public"),
        ("courier_seed", "courier_public"),
    ] {
        let key = SecretKey::from_seed(&arr32(v[seed].as_str().unwrap()));
        assert_eq!(hex(&key.public_key().0), v[public]);
    }
    let lock_id = doorkey::credential::LockId(bytes(&v["lock_id"]).try_into().unwrap());
    let audit =
        doorkey::receipt::AuditSecret::from_bytes(arr32(v["audit_secret"].as_str().unwrap()));
    assert_eq!(hex(&audit.public_key()), v["audit_public"]);
    let scenarios = v["scenarios"].as_array().unwrap();
    // Between them the scenarios hold a denial of every reason code (11.6).
    let mut reasons: Vec<&str> = scenarios
        .iter()
        .flat_map(|s| s["messages"].as_array().unwrap())
        .filter_map(|m| m["reply"].as_str()?.strip_prefix("Denied("))
        .map(|r| r.trim_end_matches(')'))
        .collect();
    reasons.sort();
    reasons.dedup();
    let mut every = REASONS.to_vec();
    every.sort();
    assert_eq!(reasons, every);
    for scenario in scenarios {
        let name = scenario["name"].as_str().unwrap();
        assert!(!scenario["section"].as_str().unwrap().is_empty(), "{name}");
        assert_eq!(replay_scenario(&v, scenario), Ok(()), "{name}");
        let sessions = scenario["sessions"].as_array().unwrap();
        let messages = scenario["messages"].as_array().unwrap();
        // Each session's keys follow from its secrets: its open is the first message of the
        // session, answering the challenge whose nonce it names.
        for (index, derived) in sessions.iter().enumerate() {
            let open = messages
                .iter()
                .find(|m| m["session"] == index && m["message"] == "Open")
                .map(|m| bytes(&m["bytes"]))
                .unwrap();
            let challenge = messages
                .iter()
                .filter(|m| m["message"] == "Challenge")
                .map(|m| bytes(&m["bytes"]))
                .find(|b| b[34..50] == open[2..18])
                .unwrap();
            check_derivation(&challenge, &open, derived);
        }
        let mut last_bundle = None;
        for m in messages.iter().filter(|m| m["plaintext"].is_string()) {
            let keys = &sessions[m["session"].as_u64().unwrap() as usize];
            let plain = open_sealed(
                &bytes(&keys["key_phone_to_lock"]),
                &bytes(&keys["key_lock_to_phone"]),
                m,
            );
            assert_eq!(hex(&plain), m["plaintext"], "{name}");
            if m["reply"]
                .as_str()
                .is_some_and(|r| r.starts_with("Receipts"))
            {
                last_bundle = Some(plain);
            }
        }
        if let Some(expected) = scenario.get("receipts") {
            // Reply::Receipts: variant 07, the sealed bundle as a byte string.
            let plain = last_bundle.expect("a sealed bundle");
            let (sealed, _) = doorkey::wire::take::<&[u8]>(&plain[1..]).unwrap();
            let mut sealed = sealed.to_vec();
            let (_, bundle) = doorkey::receipt::open(&lock_id, &audit, &mut sealed).unwrap();
            let mut rest = &bundle[item_len(bundle)..];
            let mut got = Vec::new();
            while !rest.is_empty() {
                let (r, signed) = decode_receipt(rest);
                got.push(serde_json::json!({"seq": r["seq"], "time": r["time"], "event": r["event"], "holder": r["who"].get("holder")}));
                rest = &rest[signed + 64..];
            }
            assert_eq!(&Value::from(got), expected, "{name}: receipts");
        }
        // Each phone message's expected outcome flipped: the replay notices.
        for (i, m) in messages.iter().enumerate() {
            if m["from"] != "phone" {
                continue;
            }
            let mut wrong = scenario.clone();
            let expect = &mut wrong["messages"][i]["expect"];
            if expect["error"].is_string() {
                expect["error"] = Value::from(if expect["error"] == "Replay" {
                    "Crypto"
                } else {
                    "Replay"
                });
            } else if expect["denied"].is_null() {
                expect["denied"] = Value::from("Crypto");
            } else {
                expect["denied"] = Value::Null;
            }
            assert!(
                replay_scenario(&v, &wrong).is_err(),
                "{name}: message {i} flipped"
            );
        }
    }
}

/// The findings of one upload order of a `receipts.json` `uploads` case, ingested into an empty
/// log, against the recorded ones: `Err` with both when they differ.
fn upload_verdict(lock_key: PublicKey, bundles: &[Vec<u8>], order: &Value) -> Result<(), String> {
    let mut log = doorkey::server::ReceiptLog::new(lock_key).unwrap();
    let ingest: Vec<Vec<Value>> = order["order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let bundle = &bundles[i.as_u64().unwrap() as usize];
            log.ingest(bundle)
                .unwrap()
                .iter()
                .map(finding_json)
                .collect()
        })
        .collect();
    let audit: Vec<Value> = log.audit().unwrap().iter().map(finding_json).collect();
    let got = serde_json::json!({"order": order["order"], "ingest": ingest, "audit": audit});
    if &got == order {
        Ok(())
    } else {
        Err(format!("expected {order}, got {got}"))
    }
}

/// Bundles uploaded to one receipt log in every recorded order give exactly the recorded
/// findings, `Fork`, `BrokenLink` and `Malformed` among them; the findings do not depend on
/// the order, but for the `BrokenLink` a held fork brings beside it; a flipped verdict fails.
#[test]
fn receipt_uploads_give_the_same_findings_in_any_order() {
    let v = load("receipts.json");
    let lock_key = PublicKey(arr32(v["lock_public"].as_str().unwrap()));
    let mut kinds = std::collections::BTreeSet::new();
    for case in v["uploads"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        assert!(!case["section"].as_str().unwrap().is_empty(), "{name}");
        let bundles: Vec<Vec<u8>> = case["bundles"]
            .as_array()
            .unwrap()
            .iter()
            .map(bytes)
            .collect();
        let mut verdicts = std::collections::BTreeSet::new();
        for order in case["orders"].as_array().unwrap() {
            assert_eq!(upload_verdict(lock_key, &bundles, order), Ok(()), "{name}");
            let audit = order["audit"].as_array().unwrap();
            kinds.extend(
                audit
                    .iter()
                    .map(|f| f["finding"].as_str().unwrap().to_string()),
            );
            let mut wrong = order.clone();
            wrong["audit"] = Value::from(audit[..audit.len().saturating_sub(1)].to_vec());
            if audit.is_empty() {
                wrong["audit"] = serde_json::json!([{"finding": "Gap", "from": 1, "to": 1}]);
            }
            assert!(
                upload_verdict(lock_key, &bundles, &wrong).is_err(),
                "{name}: flipped"
            );
            // Orders that upload every bundle agree on everything but a fork's broken link.
            if order["order"].as_array().unwrap().len() == bundles.len() {
                verdicts.insert(
                    audit
                        .iter()
                        .filter(|f| f["finding"] != "BrokenLink")
                        .map(Value::to_string)
                        .collect::<Vec<_>>(),
                );
            }
        }
        assert_eq!(verdicts.len(), 1, "{name}: the order changes the findings");
    }
    for kind in ["Fork", "BrokenLink", "Malformed", "Truncated"] {
        assert!(kinds.contains(kind), "no {kind}");
    }
}

/// A state image (16.1, layout version 1) decoded by hand, as `storage.json` gives its meaning.
fn decode_state(bytes: &[u8]) -> Value {
    use serde_json::json;
    let mut r = Reader { bytes, at: 0 };
    assert_eq!(r.array::<4>(), *b"DKST");
    let version = r.byte();
    let key = hex(&r.array::<32>());
    let owners = r.list(|r| json!(hex(&r.array::<32>())));
    let time_keys = r.list(|r| json!(hex(&r.array::<32>())));
    let epoch = r.varint();
    let tz_start = r.at;
    r.zigzag();
    if r.option() {
        r.zigzag();
        for _ in 0..2 {
            r.array::<3>();
            r.zigzag();
        }
    }
    let tz = hex(&bytes[tz_start..r.at]);
    let challenge_lifetime = r.varint();
    let config_version = r.varint();
    let audit_key = r.option().then(|| hex(&r.array::<32>()));
    let revoked_ids =
        r.list(|r| json!({"id": hex(&r.array::<16>()), "until": r.option().then(|| r.varint())}));
    let revoked_keys =
        r.list(|r| json!({"key": hex(&r.array::<32>()), "until": r.option().then(|| r.varint())}));
    let uses = r.list(|r| {
        json!({"id": hex(&r.array::<16>()), "used": r.varint(), "expires": r.option().then(|| r.varint()), "epoch": r.varint()})
    });
    let high_water = r.varint();
    let receipts = json!({"seq": r.varint(), "hash": hex(&r.array::<32>())});
    let backlog = r.list(Reader::receipt_body);
    let recovery = match r.byte() {
        0 => false,
        1 => true,
        b => panic!("bool {b}"),
    };
    assert_eq!(r.at, bytes.len(), "trailing bytes");
    json!({
        "version": version, "key": key, "owners": owners, "time_keys": time_keys, "epoch": epoch,
        "time_zone_rule": tz, "challenge_lifetime": challenge_lifetime,
        "config_version": config_version, "audit_key": audit_key, "revoked_ids": revoked_ids,
        "revoked_keys": revoked_keys, "uses": uses, "high_water": high_water,
        "receipts": receipts, "backlog": backlog, "recovery": recovery,
    })
}

/// The storage vectors hold: each state image decodes by hand to its recorded meaning, and the
/// crate loads it and writes it back byte for byte; each flash record carries the check of
/// 16.5, computed here with SHA-512, and the two regions they make load as the newest state;
/// each pair of regions loads as recorded. A flipped expectation fails.
#[test]
fn storage_vectors_hold() {
    use doorkey::lock::{FlashStorage, LockState, Storage};
    use sha2::Digest;

    let v = load("storage.json");
    let lock_key = SecretKey::from_seed(&arr32(v["lock_seed"].as_str().unwrap())).public_key();
    assert_eq!(hex(&lock_key.0), v["lock_public"]);
    let states = v["states"].as_array().unwrap();
    for state in states {
        let name = state["name"].as_str().unwrap();
        let image = bytes(&state["bytes"]);
        assert_eq!(decode_state(&image), state["decoded"], "{name}");
        assert_eq!(state["decoded"]["key"], v["lock_public"], "{name}");
        let mut wrong = state["decoded"].clone();
        wrong["recovery"] = Value::from(true);
        assert_ne!(decode_state(&image), wrong, "{name}: flipped");
        let decoded = LockState::decode(&image).unwrap();
        let mut out = vec![0u8; doorkey::lock::MAX_STATE_BYTES];
        let n = decoded.encode(&mut out).unwrap();
        assert_eq!(out[..n], image[..], "{name}: written back");
    }

    let size = v["region_size"].as_u64().unwrap() as usize;
    let mut regions = Vec::new();
    for (record, state) in v["records"].as_array().unwrap().iter().zip(states) {
        assert_eq!(record["data"], state["bytes"]);
        let data = bytes(&record["data"]);
        let mut header = bytes(&record["magic"]);
        assert_eq!(header, b"DKS1");
        header.extend_from_slice(&record["seq"].as_u64().unwrap().to_le_bytes());
        header.extend_from_slice(&(data.len() as u32).to_le_bytes());
        assert_eq!(record["len"].as_u64(), Some(data.len() as u64));
        let check = sha2::Sha512::new()
            .chain_update(b"doorkey/v1/store\0")
            .chain_update(&header)
            .chain_update(&data)
            .finalize();
        assert_eq!(hex(&check[..16]), record["check"]);
        let mut region = [&header[..], &check[..16], &data, &bytes(&record["mark"])].concat();
        region.resize(size, 0xff);
        regions.push(region);
    }
    // The first record is marked: a newer one was committed after it.
    assert_eq!(v["records"][0]["mark"], "00");
    let mut store = FlashStorage::new(flash::SimFlash::with_contents(
        regions[0].clone(),
        regions[1].clone(),
    ));
    let mut buf = vec![0u8; size];
    let n = store.load(&mut buf).unwrap().unwrap();
    assert_eq!(hex(&buf[..n]), states[1]["bytes"]);
    assert!(!store.rolled_back());

    let loaded = |case: &Value| {
        let mut store = FlashStorage::new(flash::SimFlash::with_contents(
            bytes(&case["region_a"]),
            bytes(&case["region_b"]),
        ));
        let mut buf = [0u8; 64];
        match store.load(&mut buf) {
            Ok(Some(n)) => {
                serde_json::json!({"result": "state", "data": hex(&buf[..n]), "rolled_back": store.rolled_back()})
            }
            Ok(None) => serde_json::json!({"result": "blank"}),
            Err(e) => serde_json::json!({"result": format!("{e:?}")}),
        }
    };
    let loads = v["loads"].as_array().unwrap();
    for case in loads {
        let name = case["name"].as_str().unwrap();
        assert_eq!(loaded(case), case["expect"], "{name}");
        let mut wrong = case["expect"].clone();
        wrong["result"] = Value::from(if wrong["result"] == "blank" {
            "Storage"
        } else {
            "blank"
        });
        assert_ne!(loaded(case), wrong, "{name}: flipped");
    }
    let results: std::collections::BTreeSet<String> = loads
        .iter()
        .map(|c| format!("{}{}", c["expect"]["result"], c["expect"]["rolled_back"]))
        .collect();
    assert_eq!(
        results.len(),
        4,
        "a state, a rollback, blank and corrupt: {results:?}"
    );
}

/// The small-order holder scenario is the forgery a permissive verifier lets through: its
/// holder signature (R = identity, S = 0 under the identity key) passes ed25519-dalek's
/// non-strict `verify` over exactly the message 12.5 defines, and only strict verification
/// refuses it.
#[test]
fn the_small_order_holder_signature_passes_a_permissive_verifier() {
    use ed25519_dalek::{Signature, VerifyingKey};
    let v = load("behaviour.json");
    let scenario = v["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"].as_str().unwrap().contains("small order"))
        .unwrap();
    let open = &scenario["messages"][1];
    assert_eq!(open["message"], "Open");
    assert_eq!(open["expect"]["denied"], "Crypto");
    // The plaintext: the command (Unlock, one byte), then the proof: option tag, the chain as
    // a byte string, the 64-byte holder signature.
    let plain = bytes(&open["plaintext"]);
    let (chain, _) = doorkey::wire::take::<&[u8]>(&plain[2..]).unwrap();
    let (root, _) = doorkey::wire::take::<doorkey::credential::Link>(&chain[7..]).unwrap();
    let signature = Signature::from_slice(&plain[plain.len() - 64..]).unwrap();
    let th = bytes(&scenario["sessions"][0]["transcript_hash"]);
    let message = [&b"doorkey/v1/holder\0"[..], &th, &plain[..1]].concat();
    let holder = VerifyingKey::from_bytes(&root.subject.ed25519().unwrap().0).unwrap();
    assert!(holder.verify_strict(&message, &signature).is_err());
    ed25519_dalek::Verifier::verify(&holder, &message, &signature)
        .expect("a permissive verifier accepts the forgery");
}

/// The P-256 holder scenarios of 9.5 (3.8, 12.5), decoded by hand: the genuine signature and
/// its high-S twin both pass ECDSA P-256 with SHA-256 as the `p256` crate checks it, and the
/// lock accepts only the low-S one; a leaf point off the curve is `WeakKey`.
#[test]
#[cfg(feature = "p256")]
fn the_p256_holder_scenarios_follow_the_spec() {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    use p256::ecdsa::{Signature, VerifyingKey};
    use sha2::{Digest, Sha256};
    // floor(n / 2) of the P-256 group.
    let half_n = unhex("7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8");
    let v = load("behaviour.json");
    let secret = bytes(&v["p256_courier_secret"]);
    let public = bytes(&v["p256_courier_public"]);
    let key = p256::ecdsa::SigningKey::from_slice(&secret).unwrap();
    assert_eq!(
        key.verifying_key().to_sec1_point(true).as_bytes(),
        &public[..]
    );
    let scenario = |name: &str| {
        v["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"].as_str().unwrap().starts_with(name))
            .unwrap()
    };
    for (name, denied, high) in [
        ("P-256 holder signature genuine", None, false),
        (
            "P-256 holder signature with S replaced",
            Some("Crypto"),
            true,
        ),
    ] {
        let scenario = scenario(name);
        let open = &scenario["messages"][1];
        assert_eq!(open["message"], "Open");
        assert_eq!(open["expect"]["denied"].as_str(), denied, "{name}");
        let plain = bytes(&open["plaintext"]);
        let (chain, _) = doorkey::wire::take::<&[u8]>(&plain[2..]).unwrap();
        // The one link's subject: tag 01, then the 33-byte compressed point.
        assert_eq!(chain[7], 1, "{name}");
        assert_eq!(chain[8..41], public[..], "{name}");
        let signature = &plain[plain.len() - 64..];
        assert_eq!(signature[32..] > half_n[..], high, "{name}");
        let th = bytes(&scenario["sessions"][0]["transcript_hash"]);
        let message = [&b"doorkey/v1/holder\0"[..], &th, &plain[..1]].concat();
        VerifyingKey::from_sec1_bytes(&public)
            .unwrap()
            .verify_prehash(
                &Sha256::digest(&message),
                &Signature::from_slice(signature).unwrap(),
            )
            .expect("valid ECDSA either way");
    }
    let off_curve = scenario("P-256 holder key whose x is not on the curve");
    assert_eq!(off_curve["messages"][1]["expect"]["denied"], "WeakKey");
}
