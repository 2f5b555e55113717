//! Host side of the firmware harness.
//!
//! 1. Link set-up for cortex-m-rt (`memory.x`, `-Tlink.x`), done here rather than in
//!    `.cargo/config.toml` so that `RUSTFLAGS` (the size-optimized build) does not drop it.
//! 2. The generator: runs the SAME lock code (doorkey, built for the host) with the SAME lock
//!    identity, ticks and RNG seed as the firmware (storage changes no answer, so the host keeps
//!    state in `MemoryStorage`), plays the phone against it,
//!    and writes the phone's messages (what the firmware replays) and the lock's answers (what
//!    the firmware must reproduce byte for byte) into `$OUT_DIR`. The phone's randomness comes
//!    from a separate RNG, so the lock's RNG stream is exactly the one the firmware sees.
//!    It also writes the exact messages behind the signatures the lock verifies and makes,
//!    so the firmware can time the raw primitives on the same inputs.

use chacha20::ChaCha20Rng;
use doorkey::config::{Change, ConfigUpdate, TimeAnchor};
use doorkey::credential::{Chain, Link, Rights};
use doorkey::crypto::{SecretKey, Signer, hash, labels};
use doorkey::lock::{Action, Lock, MAX_STATE_BYTES, MemoryStorage};
use doorkey::phone::{Credential, PhoneSession, inspect_challenge};
use doorkey::receipt::{AuditSecret, Head, Parsed, Receipt};
use doorkey::session::{Command, Reply};
use doorkey::time::{Seconds, Tick, UnixTime};
use doorkey::wire::{self, VERSION};
use rand_core::SeedableRng;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

// Shared with the firmware through the generated `vectors.rs`.
const LOCK_KEY_SEED: [u8; 32] = [2; 32];
const OWNER_SEED: [u8; 32] = [1; 32];
const COMPANY_SEED: [u8; 32] = [3; 32];
const COURIER_SEED: [u8; 32] = [4; 32];
/// A second delivery company, new to the lock at the prepared first visit.
const COMPANY_B_SEED: [u8; 32] = [5; 32];
/// The lock's RNG: the firmware seeds its ChaCha20Rng with this too.
const LOCK_RNG_SEED: [u8; 32] = *b"doorkey firmware lock rng seed!!";
/// The phone's RNG and the issuer's (credential ids): host only.
const PHONE_RNG_SEED: [u8; 32] = *b"doorkey firmware phone rng seed!";
const ISSUER_RNG_SEED: [u8; 32] = [9; 32];
/// The owner's audit secret, whose public key the lock seals receipt bundles to.
const AUDIT_SEED: [u8; 32] = [11; 32];
/// 2026-06-01T12:00:00Z, the time the anchor carries.
const T0: UnixTime = UnixTime::from_secs(1_780_315_200);
const TICK_ANCHOR: Tick = Tick::from_secs(1000);
const TICK_OPEN: Tick = Tick::from_secs(1001);
const TICK_RELOCK: Tick = Tick::from_secs(1002);
const TICK_RECEIPTS: Tick = Tick::from_secs(1003);
const TICK_PREPARE_FIRST: Tick = Tick::from_secs(1004);
const TICK_FIRST: Tick = Tick::from_secs(1010);
const TICK_PREPARE_REPEAT: Tick = Tick::from_secs(1011);
const TICK_REPEAT: Tick = Tick::from_secs(1020);

type Mem = MemoryStorage<MAX_STATE_BYTES>;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=memory.x");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    std::fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    generate(&out);
}

struct Out<'a> {
    dir: &'a Path,
    rs: String,
    phone_bytes: usize,
}

impl Out<'_> {
    fn blob(&mut self, name: &str, bytes: &[u8]) {
        let file = format!("{}.bin", name.to_lowercase());
        std::fs::write(self.dir.join(&file), bytes).expect("write blob");
        writeln!(
            self.rs,
            "pub static {name}: &[u8] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{file}\"));"
        )
        .unwrap();
    }
    fn phone(&mut self, name: &str, bytes: &[u8]) {
        self.phone_bytes += bytes.len();
        self.blob(name, bytes);
    }
    fn array(&mut self, name: &str, bytes: &[u8]) {
        writeln!(
            self.rs,
            "pub const {name}: [u8; {}] = {bytes:?};",
            bytes.len()
        )
        .unwrap();
    }
    fn list(&mut self, name: &str, items: &[Vec<u8>]) {
        for (i, item) in items.iter().enumerate() {
            self.blob(&format!("{name}_{i}"), item);
        }
        let names: Vec<String> = (0..items.len()).map(|i| format!("{name}_{i}")).collect();
        writeln!(
            self.rs,
            "pub static {name}: [&[u8]; {}] = [{}];",
            items.len(),
            names.join(", ")
        )
        .unwrap();
    }
}

fn handle(lock: &mut Lock<Mem>, tick: Tick, msg: &[u8]) -> (Action, Vec<u8>) {
    let mut input = msg.to_vec();
    let mut reply = vec![0u8; 4096];
    let outcome = lock
        .handle(tick, &mut input, &mut reply)
        .expect("lock.handle");
    assert!(outcome.denied.is_none(), "denied: {:?}", outcome.denied);
    reply.truncate(outcome.reply);
    (outcome.action, reply)
}

fn generate(dir: &Path) {
    let owner = SecretKey::from_seed(&OWNER_SEED);
    let company = SecretKey::from_seed(&COMPANY_SEED);
    let courier = SecretKey::from_seed(&COURIER_SEED);
    let mut lock_rng = ChaCha20Rng::from_seed(LOCK_RNG_SEED);
    let mut phone_rng = ChaCha20Rng::from_seed(PHONE_RNG_SEED);
    let mut issuer_rng = ChaCha20Rng::from_seed(ISSUER_RNG_SEED);
    let mut lock = Lock::install(
        SecretKey::from_seed(&LOCK_KEY_SEED),
        owner.public_key(),
        Mem::new(),
    )
    .expect("install");
    let id = lock.id();

    // Two-link chain as in tests/common: owner -> company (delegate), company -> courier
    // (one use, 10 minutes from T0).
    let company_link = Link::builder(
        company.public_key(),
        Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE),
    )
    .locks(&[id])
    .valid_from(T0 - Seconds::from_days(1))
    .valid_for(Seconds::from_days(30))
    .depth(1)
    .build(&mut issuer_rng)
    .expect("company link");
    let courier_link = Link::builder(courier.public_key(), Rights::UNLOCK.union(Rights::LOCK))
        .valid_from(T0)
        .valid_for(Seconds::from_mins(10))
        .uses(1)
        .purpose([7; 32])
        .build(&mut issuer_rng)
        .expect("courier link");
    let chain = Chain::root(&owner, &company_link)
        .and_then(|c| c.extend(&company, &courier_link))
        .expect("chain");

    let mut o = Out {
        dir,
        rs: String::new(),
        phone_bytes: 0,
    };
    o.rs.push_str("// Generated by build.rs: do not edit.\n");
    o.array("LOCK_KEY_SEED", &LOCK_KEY_SEED);
    o.array("OWNER_PUBLIC", &owner.public_key().0);
    o.array("LOCK_RNG_SEED", &LOCK_RNG_SEED);
    // The same generator's first bytes, for the C firmware (ffi/firmware), whose platform
    // random callback replays them: the lock draws them in this order.
    let mut stream = [0u8; 256];
    rand_core::Rng::fill_bytes(&mut ChaCha20Rng::from_seed(LOCK_RNG_SEED), &mut stream);
    o.blob("LOCK_RNG_STREAM", &stream);
    for (name, tick) in [
        ("TICK_ANCHOR", TICK_ANCHOR),
        ("TICK_OPEN", TICK_OPEN),
        ("TICK_RELOCK", TICK_RELOCK),
        ("TICK_RECEIPTS", TICK_RECEIPTS),
        ("TICK_PREPARE_FIRST", TICK_PREPARE_FIRST),
        ("TICK_FIRST", TICK_FIRST),
        ("TICK_PREPARE_REPEAT", TICK_PREPARE_REPEAT),
        ("TICK_REPEAT", TICK_REPEAT),
    ] {
        writeln!(
            o.rs,
            "pub const {name}: doorkey::time::Tick = doorkey::time::Tick::from_secs({});",
            tick.as_secs()
        )
        .unwrap();
    }

    // 1. Time anchor, carried by an anonymous session.
    let mut ch = [0u8; 256];
    let n = lock
        .challenge(TICK_ANCHOR, &mut lock_rng, &mut ch)
        .expect("challenge");
    let info = inspect_challenge(&ch[..n], &id).expect("inspect");
    let mut anchor = [0u8; 256];
    let a = TimeAnchor {
        lock: id,
        nonce: info.nonce,
        time: T0,
        signer: owner.public_key(),
    }
    .sign(&owner, &mut anchor)
    .expect("anchor");
    let mut open = [0u8; 2400];
    let (mut s, m) = PhoneSession::open_anonymous(
        &ch[..n],
        &id,
        Command::Time(&anchor[..a]),
        &mut phone_rng,
        &mut open,
    )
    .expect("anchor open");
    let (action, reply) = handle(&mut lock, TICK_ANCHOR, &open[..m]);
    assert_eq!(action, Action::None);
    assert_eq!(
        s.read_reply(&mut reply.clone()).expect("reply"),
        Reply::TimeSet(T0)
    );
    o.blob("CHALLENGE_ANCHOR", &ch[..n]);
    o.phone("ANCHOR_OPEN", &open[..m]);
    o.blob("ANCHOR_REPLY", &reply);
    // 1b. The owner's audit key (receipt bundles are sealed to it), in the same session.
    let mut update = [0u8; 256];
    let u = ConfigUpdate {
        lock: id,
        version: 1,
        signer: owner.public_key(),
        change: Change::SetAuditKey(AuditSecret::from_bytes(AUDIT_SEED).public_key()),
    }
    .sign(&owner, &mut update)
    .expect("update");
    let mut msg = [0u8; 512];
    let k = s
        .command(Command::Config(&update[..u]), &mut msg)
        .expect("config");
    let (action, reply) = handle(&mut lock, TICK_ANCHOR, &msg[..k]);
    assert_eq!(action, Action::None);
    assert_eq!(
        s.read_reply(&mut reply.clone()).expect("reply"),
        Reply::ConfigApplied(1)
    );
    o.phone("AUDIT_CMD", &msg[..k]);
    o.blob("AUDIT_REPLY", &reply);
    // What the lock verifies for the anchor: the owner's signature over the anchor.
    let anchor_signed = &anchor[..a - 64];
    let mut anchor_msg = labels::TIME.to_vec();
    anchor_msg.extend_from_slice(anchor_signed);
    let anchor_verify = (
        owner.public_key().0.to_vec(),
        anchor_msg,
        anchor[a - 64..a].to_vec(),
    );

    // 2. First contact: challenge, then an open carrying the two-link chain and the unlock.
    let n = lock
        .challenge(TICK_OPEN, &mut lock_rng, &mut ch)
        .expect("challenge");
    let challenge_sign_msg = [labels::CHALLENGE, &ch[..n - 64]].concat();
    let credential = Credential::new(chain.as_bytes(), courier).expect("credential");
    let (mut session, m) = PhoneSession::open(
        &ch[..n],
        &credential,
        Command::Unlock,
        &mut phone_rng,
        &mut open,
    )
    .expect("open");
    let (action, reply) = handle(&mut lock, TICK_OPEN, &open[..m]);
    assert_eq!(action, Action::Unlock);
    assert_eq!(
        session.read_reply(&mut reply.clone()).expect("reply"),
        Reply::Unlocked
    );
    o.blob("CHALLENGE_UNLOCK", &ch[..n]);
    o.phone("UNLOCK_OPEN", &open[..m]);
    o.blob("UNLOCK_REPLY", &reply);

    // 3. Relock in the session.
    let mut msg = [0u8; 64];
    let k = session.command(Command::Lock, &mut msg).expect("relock");
    let (action, reply) = handle(&mut lock, TICK_RELOCK, &msg[..k]);
    assert_eq!(action, Action::Lock);
    assert_eq!(
        session.read_reply(&mut reply.clone()).expect("reply"),
        Reply::Locked
    );
    o.phone("RELOCK_CMD", &msg[..k]);
    o.blob("RELOCK_REPLY", &reply);

    // 4. Receipt fetch: the lock signs an ack token, its head and every backlog receipt, and
    // seals them to the audit key.
    let k = session
        .command(Command::Receipts { after: 0 }, &mut msg)
        .expect("receipts");
    let (action, reply) = handle(&mut lock, TICK_RECEIPTS, &msg[..k]);
    assert_eq!(action, Action::None);
    o.phone("RECEIPTS_CMD", &msg[..k]);
    o.blob("RECEIPTS_REPLY", &reply);
    let mut plain = reply.clone();
    let Reply::Receipts(sealed) = session.read_reply(&mut plain).expect("reply") else {
        panic!("expected a receipt bundle")
    };
    let mut opened = sealed.to_vec();
    let (ack, bundle) =
        doorkey::receipt::open(&id, &AuditSecret::from_bytes(AUDIT_SEED), &mut opened)
            .expect("the bundle opens with the audit key");
    // The exact messages the lock signed: the ack token, the head, then each receipt.
    let mut sign_msgs = vec![
        [
            labels::ACK,
            &id.0,
            &ack.first.to_le_bytes(),
            &ack.seq.to_le_bytes(),
            &ack.hash,
        ]
        .concat(),
    ];
    let (head, mut rest) = Parsed::<Head>::take(bundle).expect("head");
    sign_msgs.push([labels::HEAD, &id.0, head.signed].concat());
    while !rest.is_empty() {
        let (r, tail) = Parsed::<Receipt>::take(rest).expect("receipt");
        sign_msgs.push([labels::RECEIPT, &id.0, r.signed].concat());
        rest = tail;
    }
    writeln!(
        o.rs,
        "pub const BUNDLE_BYTES: usize = {};\npub const RECEIPTS_SIGNED: usize = {};",
        bundle.len(),
        sign_msgs.len()
    )
    .unwrap();
    writeln!(
        o.rs,
        "pub const STATE_BYTES: usize = {};",
        lock.state().encode(&mut [0u8; MAX_STATE_BYTES]).unwrap()
    )
    .unwrap();

    // 5. A first visit answering a challenge prepared while idle: a courier of a company new
    // to the lock, the chain whole.
    let company_b = SecretKey::from_seed(&COMPANY_B_SEED);
    let mut root_b = company_link;
    root_b.subject = company_b.public_key().into();
    root_b.id = doorkey::credential::CredentialId([0xb0; 16]);
    let leaf = |id: u8| {
        let mut l = courier_link;
        l.id = doorkey::credential::CredentialId([id; 16]);
        l
    };
    let chain_b = Chain::root(&owner, &root_b)
        .and_then(|c| c.extend(&company_b, &leaf(0xb1)))
        .expect("chain b");
    let repeat = Chain::root(&owner, &company_link)
        .and_then(|c| c.extend(&company, &leaf(0xa2)))
        .expect("repeat chain");
    for (name, prepare, visit, chain) in [
        ("FIRST", TICK_PREPARE_FIRST, TICK_FIRST, &chain_b),
        ("REPEAT", TICK_PREPARE_REPEAT, TICK_REPEAT, &repeat),
    ] {
        lock.prepare_challenge(prepare, &mut lock_rng)
            .expect("prepare");
        let drawn = lock_rng.get_word_pos();
        let n = lock
            .challenge(visit, &mut lock_rng, &mut ch)
            .expect("challenge");
        assert_eq!(
            lock_rng.get_word_pos(),
            drawn,
            "the prepared challenge is handed out"
        );
        let credential = Credential::new(chain.as_bytes(), SecretKey::from_seed(&COURIER_SEED))
            .expect("credential");
        let (mut session, m) = PhoneSession::open(
            &ch[..n],
            &credential,
            Command::Unlock,
            &mut phone_rng,
            &mut open,
        )
        .expect("open");
        // 6. The repeat visit: another courier of the first company, whose link the lock
        // holds since the first contact, sends the leaf alone.
        assert_eq!(
            m < 350,
            name == "REPEAT",
            "short form only for the held link"
        );
        let (action, reply) = handle(&mut lock, visit, &open[..m]);
        assert_eq!(action, Action::Unlock);
        assert_eq!(
            session.read_reply(&mut reply.clone()).expect("reply"),
            Reply::Unlocked
        );
        o.blob(&format!("CHALLENGE_{name}"), &ch[..n]);
        o.phone(&format!("{name}_OPEN"), &open[..m]);
        o.blob(&format!("{name}_REPLY"), &reply);
    }

    // The three strict verifications of first contact, on the exact messages: the root link
    // (owner), the courier's link (company) and the holder's signature (courier) over
    // `HOLDER || transcript hash || command`. The transcript hash is the phone's secret-free
    // but session-specific value; a message of the same length signed by the courier stands
    // in for it (same SHA-512 block count).
    let bytes = chain.as_bytes();
    let body1 = body(&company_link);
    let body2 = body(&courier_link);
    let at1 = 7; // [version][kind][hint 4][count]
    assert_eq!(&bytes[at1..at1 + body1.len()], &body1[..]);
    let sig1 = bytes[at1 + body1.len()..at1 + body1.len() + 64].to_vec();
    let whole1 = &bytes[at1..at1 + body1.len() + 64];
    let at2 = at1 + whole1.len();
    assert_eq!(&bytes[at2..at2 + body2.len()], &body2[..]);
    let sig2 = bytes[at2 + body2.len()..at2 + body2.len() + 64].to_vec();
    let msg1 = [labels::LINK, &[VERSION], &owner.public_key().0, &body1].concat();
    let anchor2: [u8; 32] = hash(&[labels::PARENT, whole1]);
    let msg2 = [labels::LINK, &[VERSION], &anchor2, &body2].concat();
    let courier = SecretKey::from_seed(&COURIER_SEED);
    let msg3 = [labels::HOLDER, &[0x5a; 32], &[0u8]].concat();
    let sig3 = courier.sign(&msg3).unwrap().0.to_vec();
    let verifies = [
        (owner.public_key().0.to_vec(), msg1, sig1),
        (company.public_key().0.to_vec(), msg2, sig2),
        (courier.public_key().0.to_vec(), msg3, sig3),
        anchor_verify,
    ];
    for (pk, m, s) in &verifies {
        let key = doorkey::crypto::PublicKey(pk.as_slice().try_into().unwrap());
        let sig = doorkey::crypto::Signature(s.as_slice().try_into().unwrap());
        key.verify_strict(m, &sig)
            .expect("floor vector must verify");
    }
    o.list(
        "VERIFY_KEY",
        &verifies.iter().map(|v| v.0.clone()).collect::<Vec<_>>(),
    );
    o.list(
        "VERIFY_MSG",
        &verifies.iter().map(|v| v.1.clone()).collect::<Vec<_>>(),
    );
    o.list(
        "VERIFY_SIG",
        &verifies.iter().map(|v| v.2.clone()).collect::<Vec<_>>(),
    );
    // The holder's message signed with a P-256 device key instead (spec 12.5): what a lock
    // built with the `p256` feature verifies for a Secure Enclave or StrongBox holder.
    let p256 = doorkey::crypto::P256DeviceKey::from_bytes(&[0x44; 32]).expect("p256 key");
    let holder_msg = &verifies[2].1;
    let p256_sig = doorkey::crypto::HolderSigner::sign_holder(&p256, holder_msg).expect("sign");
    o.blob("P256_KEY", &p256.public_key().0);
    o.blob("P256_SIG", &p256_sig.0);
    o.blob("CHALLENGE_SIGN_MSG", &challenge_sign_msg);
    o.list("RECEIPT_SIGN_MSG", &sign_msgs);
    writeln!(o.rs, "pub const PHONE_BYTES: usize = {};", o.phone_bytes).unwrap();
    std::fs::write(dir.join("vectors.rs"), &o.rs).expect("write vectors.rs");
}

fn body(link: &Link) -> Vec<u8> {
    let mut buf = [0u8; 512];
    let n = wire::put(link, &mut buf).expect("encode link");
    buf[..n].to_vec()
}
