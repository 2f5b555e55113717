//! In-home delivery, end to end, with real keys and real messages.
//!
//! The owner installs a lock and delegates to a delivery company; a courier scans a package
//! and the company's server mints a one-off grant for that courier's phone and that order; the
//! phone answers the lock's challenge, unlocks, and relocks in the same session. Then the
//! attacks, each refused with its reason.
//!
//! Run with `cargo run --example delivery`; with `-- --p256` the couriers' device keys are P-256
//! keys, as a phone's Secure Enclave or StrongBox holds them. Keys come from a fixed seed so the
//! output is reproducible; time is a virtual clock (the lock's tick, in seconds since boot).

use chacha20::ChaCha20Rng;
use doorkey::Error;
use doorkey::config::{Change, ConfigUpdate, TimeAnchor};
use doorkey::credential::{Chain, Link, Rights};
use doorkey::crypto::{HolderSigner, P256DeviceKey, SecretKey, Signer};
use doorkey::lock::{Action, DoorEvent, Lock, MemoryStorage};
use doorkey::phone::{Credential, PhoneSession, inspect_challenge};
use doorkey::receipt::AuditSecret;
use doorkey::server::{Delivery, Issuer};
use doorkey::server::{ReceiptLog, timeline};
use doorkey::session::{Command, Reply};
use doorkey::time::{Seconds, Tick, UnixTime};
use rand_core::SeedableRng;

type Storage = MemoryStorage<4096>;

/// Monday 2026-06-01 12:00:00 UTC: the lock's clock reads this at tick 1000.
const NOON: UnixTime = UnixTime::from_secs(1_780_315_200);

fn main() -> Result<(), Error> {
    let p256 = std::env::args().any(|a| a == "--p256");
    let mut rng = ChaCha20Rng::from_seed([42; 32]);
    let mut reply_buf = [0u8; 4096];

    println!("== Installation");
    let owner = SecretKey::generate(&mut rng);
    let lock_key = SecretKey::generate(&mut rng);
    let mut lock = Lock::install(lock_key, owner.public_key(), Storage::new())?;
    println!(
        "lock {} enrolled to the owner's key; its clock is untrusted until a time anchor arrives",
        short(&lock.id().0)
    );

    // The owner's app carries a time anchor bound to a fresh challenge.
    let mut ch = [0u8; 256];
    let n = lock.challenge(Tick::from_secs(990), &mut rng, &mut ch)?;
    let info = inspect_challenge(&ch[..n], &lock.id())?;
    let mut anchor = [0u8; 256];
    let a = TimeAnchor {
        lock: lock.id(),
        nonce: info.nonce,
        time: NOON - Seconds::from_secs(10),
        signer: owner.public_key(),
    }
    .sign(&owner, &mut anchor)?;
    let mut open = [0u8; 1024];
    let (mut s, m) = PhoneSession::open_anonymous(
        &ch[..n],
        &lock.id(),
        Command::Time(&anchor[..a]),
        &mut rng,
        &mut open,
    )?;
    let (_, reply) = deliver(
        &mut lock,
        Tick::from_secs(990),
        &mut s,
        &mut open[..m],
        &mut reply_buf,
    )?;
    println!("owner's phone delivers a signed time anchor: {reply:?}");

    // Receipts show who comes and when: the lock seals them to an audit key whose secret only
    // the owner's server holds, so the phones that carry them cannot read them.
    let audit = AuditSecret::generate(&mut rng);
    let mut update = [0u8; 256];
    let u = ConfigUpdate {
        lock: lock.id(),
        version: 1,
        signer: owner.public_key(),
        change: Change::SetAuditKey(audit.public_key()),
    }
    .sign(&owner, &mut update)?;
    let n = lock.challenge(Tick::from_secs(995), &mut rng, &mut ch)?;
    let (mut s, m) = PhoneSession::open_anonymous(
        &ch[..n],
        &lock.id(),
        Command::Config(&update[..u]),
        &mut rng,
        &mut open,
    )?;
    let (_, reply) = deliver(
        &mut lock,
        Tick::from_secs(995),
        &mut s,
        &mut open[..m],
        &mut reply_buf,
    )?;
    println!("owner's phone sets the audit key receipts are sealed to: {reply:?}");

    println!("\n== The owner delegates to a delivery company (30 days, one level of delegation)");
    let company_key = SecretKey::generate(&mut rng);
    let delegation = Link::builder(
        company_key.public_key(),
        Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE),
    )
    .locks(&[lock.id()])
    .valid_from(NOON - Seconds::from_days(1))
    .valid_for(Seconds::from_days(30))
    .depth(1)
    .build(&mut rng)?;
    let company = Issuer::new(company_key, Chain::root(&owner, &delegation)?)?;
    println!(
        "delegation chain: {} bytes",
        company.chain().as_bytes().len()
    );

    println!("\n== 12:00 The courier scans the package; the server mints a one-off grant");
    let courier = DeviceKey::generate(p256, &mut rng);
    println!("the courier's device key: {}", courier.kind());
    let order = Delivery {
        order_id: b"order-2026-0601-0042",
        lock: lock.id(),
        slot_start: NOON - Seconds::from_mins(30),
        slot_end: NOON + Seconds::from_mins(30),
    };
    let grant = company.mint_delivery(
        &order,
        courier.holder_key(),
        NOON,
        Seconds::from_mins(10),
        &mut rng,
    )?;
    println!(
        "grant for the courier's phone: {} bytes, one use, 10 minutes, bound to the order",
        grant.as_bytes().len()
    );
    let late = Delivery {
        slot_start: NOON + Seconds::from_hours(2),
        slot_end: NOON + Seconds::from_mins(150),
        ..order
    };
    println!(
        "minting for a delivery not due now: {}",
        refused(
            company
                .mint_delivery(
                    &late,
                    courier.holder_key(),
                    NOON,
                    Seconds::from_mins(10),
                    &mut rng
                )
                .map(|_| ())
        )
    );
    let credential = Credential::new(grant.as_bytes(), courier)?;

    println!("\n== 12:01 At the door");
    let t = Tick::from_secs(1060);
    let n = lock.challenge(t, &mut rng, &mut ch)?;
    println!("lock -> phone  challenge, {n} bytes, signed by the lock");
    let (mut session, m) =
        PhoneSession::open(&ch[..n], &credential, Command::Unlock, &mut rng, &mut open)?;
    let captured_open = open[..m].to_vec();
    println!(
        "phone -> lock  unlock request, {m} bytes (credential and holder signature, encrypted)"
    );
    let (action, reply) = deliver(&mut lock, t, &mut session, &mut open[..m], &mut reply_buf)?;
    println!("lock: {action:?}; reply {reply:?}; use recorded before the bolt moved");
    lock.door_event(t + Seconds::from_secs(4), DoorEvent::Opened)?;
    println!("door sensor: opened at +4 s; the package goes in");
    lock.door_event(t + Seconds::from_secs(38), DoorEvent::Closed)?;
    println!("door sensor: closed at +38 s");
    let mut msg = [0u8; 64];
    let k = session.command(Command::Lock, &mut msg)?;
    let (action, reply) = deliver(
        &mut lock,
        t + Seconds::from_secs(45),
        &mut session,
        &mut msg[..k],
        &mut reply_buf,
    )?;
    println!(
        "phone -> lock  relock, {k} bytes, in the same session (no signature): {action:?}; reply {reply:?}"
    );
    let k = session.command(Command::Receipts { after: 0 }, &mut msg)?;
    let bundle = match deliver(
        &mut lock,
        t + Seconds::from_secs(46),
        &mut session,
        &mut msg[..k],
        &mut reply_buf,
    )?
    .1
    {
        Reply::Receipts(bundle) => bundle.to_vec(),
        other => return Err(unexpected(other)),
    };
    println!(
        "phone <- lock  receipt bundle, {} bytes, sealed to the owner's audit key: the courier \
         cannot read who else came",
        bundle.len()
    );
    let k = session.command(Command::Close, &mut msg)?;
    deliver(
        &mut lock,
        t + Seconds::from_secs(47),
        &mut session,
        &mut msg[..k],
        &mut reply_buf,
    )?;

    println!("\n== The phone uploads the receipts; the server verifies them in a batch");
    let mut log = ReceiptLog::new(lock.public_key())?;
    let findings = log.ingest_sealed(&audit, &bundle)?;
    println!(
        "opened with the audit key; {} receipts verified, findings: {:?}",
        log.receipts()?.len(),
        log.audit()?
    );
    assert!(findings.is_empty());
    // The server acknowledges what it holds; any phone carries the ack to the lock, which
    // then forgets those receipts (only the lock's own token, from inside the sealed bundle,
    // is accepted).
    let ack = log.ack()?.ok_or(Error::ChainBroken)?;
    let n = lock.challenge(t + Seconds::from_secs(50), &mut rng, &mut ch)?;
    let (mut s, m) =
        PhoneSession::open_anonymous(&ch[..n], &lock.id(), Command::Ack(ack), &mut rng, &mut open)?;
    let (_, reply) = deliver(
        &mut lock,
        t + Seconds::from_secs(50),
        &mut s,
        &mut open[..m],
        &mut reply_buf,
    )?;
    println!(
        "server acknowledges receipts {}..={}; a phone carries the ack: {reply:?}; backlog left: {}",
        ack.first,
        ack.seq,
        lock.state().backlog.len()
    );
    println!("\n== The owner's timeline");
    let (visits, alerts) = timeline(&log)?;
    for v in &visits {
        let device = v.who.map(|w| short(&w.holder.0)).unwrap_or_default();
        // The server matches the receipt's credential id against what it issued.
        let issued = if v.who.map(|w| w.id) == Some(grant.leaf()?.id) {
            "the company's grant for order-2026-0601-0042"
        } else {
            "an unknown grant"
        };
        println!(
            "visit by device {device} under {issued}: unlocked {}, door opened {}, closed {}, relocked {}",
            clock(v.unlocked),
            clock(v.opened),
            clock(v.closed),
            clock(v.relocked)
        );
        if let Some(after) = v.relocked_after() {
            println!("=> delivered, relocked after {} s", after.as_secs());
        }
    }
    println!("alerts: {alerts:?}");

    println!("\n== Attacks, each refused");
    let mut out = [0u8; 256];
    println!(
        "replay the captured unlock request:       {}",
        refused(
            lock.handle(
                t + Seconds::from_secs(60),
                &mut captured_open.clone(),
                &mut out
            )
            .map(|_| ())
        )
    );
    let n = lock.challenge(t + Seconds::from_secs(70), &mut rng, &mut ch)?;
    let (mut again, m) =
        PhoneSession::open(&ch[..n], &credential, Command::Unlock, &mut rng, &mut open)?;
    println!(
        "second use of the one-off grant:          {}",
        denied(deliver(
            &mut lock,
            t + Seconds::from_secs(70),
            &mut again,
            &mut open[..m],
            &mut reply_buf
        )?)
    );
    // A thief copies the grant to another phone and presents it under the courier's public
    // key, but can only sign with its own device key.
    let thief = Thief {
        claims: credential.device_key(),
        key: SecretKey::generate(&mut rng),
    };
    let stolen = Credential::new(grant.as_bytes(), thief)?;
    let n = lock.challenge(t + Seconds::from_secs(80), &mut rng, &mut ch)?;
    let (mut s, m) = PhoneSession::open(&ch[..n], &stolen, Command::Unlock, &mut rng, &mut open)?;
    println!(
        "the grant copied to another phone:        {}",
        denied(deliver(
            &mut lock,
            t + Seconds::from_secs(80),
            &mut s,
            &mut open[..m],
            &mut reply_buf
        )?)
    );
    let n = lock.challenge(Tick::from_secs(1700), &mut rng, &mut ch)?;
    let (mut s, m) =
        PhoneSession::open(&ch[..n], &credential, Command::Unlock, &mut rng, &mut open)?;
    println!(
        "the grant after its 10 minutes:           {}",
        denied(deliver(
            &mut lock,
            Tick::from_secs(1700),
            &mut s,
            &mut open[..m],
            &mut reply_buf
        )?)
    );
    let n = lock.challenge(Tick::from_secs(1710), &mut rng, &mut ch)?;
    let info = inspect_challenge(&ch[..n], &lock.id())?;
    let a = TimeAnchor {
        lock: lock.id(),
        nonce: info.nonce,
        time: NOON - Seconds::from_hours(1),
        signer: owner.public_key(),
    }
    .sign(&owner, &mut anchor)?;
    let (mut s, m) = PhoneSession::open_anonymous(
        &ch[..n],
        &lock.id(),
        Command::Time(&anchor[..a]),
        &mut rng,
        &mut open,
    )?;
    println!(
        "roll the clock back an hour (signed!):    {}",
        denied(deliver(
            &mut lock,
            Tick::from_secs(1710),
            &mut s,
            &mut open[..m],
            &mut reply_buf
        )?)
    );
    // The phone cannot pick the unlock receipt out of the sealed bundle; it can only alter
    // or withhold the bundle as a whole.
    let mut altered = bundle.clone();
    if let Some(byte) = altered.get_mut(60) {
        *byte ^= 1;
    }
    let mut log = ReceiptLog::new(lock.public_key())?;
    println!(
        "the sealed bundle altered by the phone:   reported: {:?}",
        log.ingest_sealed(&audit, &altered)?
    );

    println!("\n== 12:20 A second delivery by the same company: the fast path");
    // While idle the lock signs its next challenge, so a connecting phone gets it at once.
    lock.prepare_challenge(Tick::from_secs(2180), &mut rng)?;
    let courier = DeviceKey::generate(p256, &mut rng);
    let order = Delivery {
        order_id: b"order-2026-0601-0057",
        slot_start: NOON,
        slot_end: NOON + Seconds::from_hours(1),
        ..order
    };
    let grant = company.mint_delivery(
        &order,
        courier.holder_key(),
        NOON + Seconds::from_mins(19),
        Seconds::from_mins(10),
        &mut rng,
    )?;
    let credential = Credential::new(grant.as_bytes(), courier)?;
    let t = Tick::from_secs(2200);
    let n = lock.challenge(t, &mut rng, &mut ch)?;
    let info = inspect_challenge(&ch[..n], &lock.id())?;
    println!(
        "lock -> phone  challenge prepared while idle, {n} bytes: it says the lock holds {} \
         verified link(s), among them the owner's link to this company",
        info.cached.len()
    );
    let (mut session, m) =
        PhoneSession::open(&ch[..n], &credential, Command::Unlock, &mut rng, &mut open)?;
    println!(
        "phone -> lock  unlock request, {m} bytes: the company's link named by an 8-byte \
         reference, the courier's leaf, the holder signature (first visit: {} bytes)",
        captured_open.len()
    );
    let (action, reply) = deliver(&mut lock, t, &mut session, &mut open[..m], &mut reply_buf)?;
    println!(
        "lock: {action:?}; reply {reply:?}; only the leaf's and the holder's signatures checked, \
         every rule of the whole chain applied"
    );
    let k = session.command(Command::Lock, &mut msg)?;
    let (action, _) = deliver(
        &mut lock,
        t + Seconds::from_secs(40),
        &mut session,
        &mut msg[..k],
        &mut reply_buf,
    )?;
    println!("phone -> lock  relock, {k} bytes: {action:?}");
    Ok(())
}

/// A courier's device key: Ed25519, or P-256 (`--p256`) as secure phone hardware holds it.
enum DeviceKey {
    Ed25519(SecretKey),
    P256(P256DeviceKey),
}

impl DeviceKey {
    fn generate(p256: bool, rng: &mut ChaCha20Rng) -> DeviceKey {
        if p256 {
            DeviceKey::P256(P256DeviceKey::generate(rng))
        } else {
            DeviceKey::Ed25519(SecretKey::generate(rng))
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            DeviceKey::Ed25519(_) => "Ed25519",
            DeviceKey::P256(_) => "P-256 (ECDSA, low S)",
        }
    }
}

impl HolderSigner for DeviceKey {
    fn holder_key(&self) -> doorkey::crypto::SubjectKey {
        match self {
            DeviceKey::Ed25519(k) => k.holder_key(),
            DeviceKey::P256(k) => k.holder_key(),
        }
    }

    fn sign_holder(&self, message: &[u8]) -> Result<doorkey::crypto::Signature, Error> {
        match self {
            DeviceKey::Ed25519(k) => k.sign_holder(message),
            DeviceKey::P256(k) => k.sign_holder(message),
        }
    }
}

/// A device that claims someone else's public key.
struct Thief {
    claims: doorkey::crypto::SubjectKey,
    key: SecretKey,
}

impl HolderSigner for Thief {
    fn holder_key(&self) -> doorkey::crypto::SubjectKey {
        self.claims
    }
    fn sign_holder(&self, message: &[u8]) -> Result<doorkey::crypto::Signature, Error> {
        self.key.sign(message)
    }
}

/// Hands a phone message to the lock, and the lock's reply back to the phone.
fn deliver<'o>(
    lock: &mut Lock<Storage>,
    tick: Tick,
    session: &mut PhoneSession,
    msg: &mut [u8],
    out: &'o mut [u8],
) -> Result<(Action, Reply<'o>), Error> {
    let outcome = lock.handle(tick, msg, out)?;
    Ok((
        outcome.action,
        session.read_reply(&mut out[..outcome.reply])?,
    ))
}

fn denied((action, reply): (Action, Reply)) -> String {
    match (action, reply) {
        (Action::None, Reply::Denied(reason)) => format!("refused by the lock: {reason:?}"),
        other => format!("ACCEPTED (unexpected): {other:?}"),
    }
}

fn refused(r: Result<(), Error>) -> String {
    match r {
        Ok(()) => "ACCEPTED (unexpected)".into(),
        Err(e) => format!("refused: {e}"),
    }
}

fn unexpected(reply: Reply<'_>) -> Error {
    eprintln!("unexpected reply {reply:?}");
    Error::UnexpectedMessage
}

/// UTC wall-clock time of a receipt, or a dash if the lock's clock was untrusted.
fn clock(t: Option<UnixTime>) -> String {
    t.map_or("-".into(), |t| {
        let t = t.as_secs();
        format!("{:02}:{:02}:{:02}Z", t / 3600 % 24, t / 60 % 60, t % 60)
    })
}

fn short(bytes: &[u8]) -> String {
    bytes.iter().take(4).map(|b| format!("{b:02x}")).collect()
}
