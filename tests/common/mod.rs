//! Shared fixtures: deterministic keys, a lock, an owner, a delivery company and a courier,
//! plus an independent encoder that builds chains straight from docs/PROTOCOL.md so tests can
//! sign links the issuance API would refuse.
#![allow(dead_code)]

use chacha20::ChaCha20Rng;
use doorkey::credential::{Chain, Link, LockId, Rights};
use doorkey::crypto::{PublicKey, SecretKey, Signer, hash, labels, sign};
use doorkey::lock::Enrolment;
use doorkey::time::{Seconds, Tick, UnixTime};
use doorkey::wire::VERSION;
use rand_core::SeedableRng;

/// 2026-06-01T12:00:00Z, a Monday.
pub const T0: UnixTime = UnixTime::from_secs(1_780_315_200);
pub const DAY: Seconds = Seconds::from_days(1);

/// `n` seconds.
pub const fn secs(n: u64) -> Seconds {
    Seconds::from_secs(n)
}

/// `n` seconds after the lock booted.
pub const fn tick(n: u64) -> Tick {
    Tick::from_secs(n)
}

pub fn rng(seed: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([seed; 32])
}

pub fn key(seed: u8) -> SecretKey {
    SecretKey::from_seed(&[seed; 32])
}

pub struct World {
    pub owner: SecretKey,
    pub lock: Enrolment,
    pub company: SecretKey,
    pub courier: SecretKey,
    pub rng: ChaCha20Rng,
}

impl World {
    pub fn new() -> World {
        let owner = key(1);
        let mut lock = Enrolment::new(key(2).public_key());
        lock.enrol_owner(owner.public_key()).unwrap();
        World {
            owner,
            lock,
            company: key(3),
            courier: key(4),
            rng: rng(9),
        }
    }

    pub fn lock_id(&self) -> LockId {
        self.lock.id()
    }

    /// Owner -> company: unlock, lock, delegate one level, 30 days from T0 - 1 day.
    pub fn company_link(&mut self) -> Link {
        Link::builder(
            self.company.public_key(),
            Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE),
        )
        .locks(&[self.lock_id()])
        .valid_from(T0 - DAY)
        .valid_for(Seconds::from_days(30))
        .depth(1)
        .build(&mut self.rng)
        .unwrap()
    }

    /// Company -> courier: one use, 10 minutes from T0.
    pub fn courier_link(&mut self) -> Link {
        Link::builder(
            self.courier.public_key(),
            Rights::UNLOCK.union(Rights::LOCK),
        )
        .valid_from(T0)
        .valid_for(Seconds::from_mins(10))
        .uses(1)
        .purpose([7; 32])
        .build(&mut self.rng)
        .unwrap()
    }

    pub fn company_chain(&mut self) -> Chain {
        let link = self.company_link();
        Chain::root(&self.owner, &link).unwrap()
    }

    pub fn courier_chain(&mut self) -> Chain {
        let company = self.company_chain();
        let link = self.courier_link();
        company.extend(&self.company, &link).unwrap()
    }
}

/// Encodes a chain exactly as docs/PROTOCOL.md describes, signing whatever it is given.
pub fn raw_chain(owner: &PublicKey, links: &[(&dyn Signer, Link)]) -> Vec<u8> {
    let mut out = vec![VERSION, 0x01];
    out.extend_from_slice(&owner.0[..4]);
    out.push(links.len() as u8);
    let mut anchor = owner.0;
    for (signer, link) in links {
        let body = postcard::to_allocvec(link).unwrap();
        let sig = sign(*signer, labels::LINK, &[&[VERSION], &anchor, &body]).unwrap();
        let mut whole = body.clone();
        whole.extend_from_slice(&sig.0);
        anchor = hash(&[labels::PARENT, &whole]);
        out.extend_from_slice(&whole);
    }
    out
}

use doorkey::config::TimeAnchor;
use doorkey::lock::{Lock, MemoryStorage, Outcome, Storage};
use doorkey::phone::{Credential, PhoneSession, inspect_challenge};
use doorkey::receipt::{Ack, AuditSecret};
use doorkey::session::{Command, Reply};

pub type Mem = MemoryStorage<4096>;

/// A lock installed for `World`'s owner, identity key(2), in RAM storage.
pub fn install(w: &World) -> Lock<Mem> {
    Lock::install(key(2), w.owner.public_key(), Mem::new()).unwrap()
}

/// One round trip: the phone's message to the lock and the lock's answer back.
pub fn exchange<S: Storage>(
    lock: &mut Lock<S>,
    tick: Tick,
    session: &mut PhoneSession,
    msg: &[u8],
) -> (Outcome, Reply<'static>) {
    let mut input = msg.to_vec();
    let mut out = [0u8; 4096];
    let outcome = lock.handle(tick, &mut input, &mut out).unwrap();
    let reply = session.read_reply(&mut out[..outcome.reply]).unwrap();
    (outcome, owned(reply))
}

/// Opens a session as `credential`'s holder with `command`; returns the session, the open
/// message as sent, and the lock's outcome and reply.
pub fn visit<S: Storage, K: doorkey::crypto::HolderSigner>(
    lock: &mut Lock<S>,
    tick: Tick,
    credential: &Credential<'_, K>,
    command: Command<'_>,
    rng: &mut ChaCha20Rng,
) -> (PhoneSession, Vec<u8>, Outcome, Reply<'static>) {
    let mut challenge = [0u8; 256];
    let n = lock.challenge(tick, rng, &mut challenge).unwrap();
    let mut open = [0u8; 2048];
    let (mut session, m) =
        PhoneSession::open(&challenge[..n], credential, command, rng, &mut open).unwrap();
    let (outcome, reply) = exchange(lock, tick, &mut session, &open[..m]);
    (session, open[..m].to_vec(), outcome, reply)
}

/// Sets the lock's clock: `utc` at `tick`, through an anchor signed by `signer` and carried
/// by an anonymous phone.
pub fn set_time<S: Storage>(
    lock: &mut Lock<S>,
    tick: Tick,
    utc: UnixTime,
    signer: &SecretKey,
    rng: &mut ChaCha20Rng,
) -> Reply<'static> {
    let mut challenge = [0u8; 256];
    let n = lock.challenge(tick, rng, &mut challenge).unwrap();
    let info = inspect_challenge(&challenge[..n], &lock.id()).unwrap();
    let mut anchor = [0u8; 256];
    let a = TimeAnchor {
        lock: lock.id(),
        nonce: info.nonce,
        time: utc,
        signer: signer.public_key(),
    }
    .sign(signer, &mut anchor)
    .unwrap();
    let mut open = [0u8; 512];
    let (mut session, m) = PhoneSession::open_anonymous(
        &challenge[..n],
        &lock.id(),
        Command::Time(&anchor[..a]),
        rng,
        &mut open,
    )
    .unwrap();
    exchange(lock, tick, &mut session, &open[..m]).1
}

/// A reply that outlives the buffer it was decrypted in (a receipt bundle is copied and
/// leaked: fine for a test).
pub fn owned(reply: Reply<'_>) -> Reply<'static> {
    match reply {
        Reply::Receipts(bundle) => Reply::Receipts(Vec::leak(bundle.to_vec())),
        Reply::Unlocked => Reply::Unlocked,
        Reply::Locked => Reply::Locked,
        Reply::Closed => Reply::Closed,
        Reply::TimeSet(t) => Reply::TimeSet(t),
        Reply::ConfigApplied(v) => Reply::ConfigApplied(v),
        Reply::Ready => Reply::Ready,
        Reply::Denied(r) => Reply::Denied(r),
        Reply::Acked(seq) => Reply::Acked(seq),
        other => panic!("a reply the tests do not know: {other:?}"),
    }
}

/// The owner's audit secret: receipt bundles are sealed to its public key.
pub fn audit() -> AuditSecret {
    AuditSecret::from_bytes([11; 32])
}

/// Sets `audit()` as the lock's audit key, by an owner update of `version` carried by an
/// anonymous phone.
pub fn enable_audit<S: Storage>(
    lock: &mut Lock<S>,
    tick: Tick,
    version: u64,
    rng: &mut ChaCha20Rng,
) {
    let update = owner_update(
        lock.id(),
        version,
        doorkey::config::Change::SetAuditKey(audit().public_key()),
    );
    let reply = anonymous(lock, tick, Command::Config(&update), rng).2;
    assert_eq!(reply, Reply::ConfigApplied(version));
}

/// Opens a sealed bundle from `lock` with `audit()`: its ack and the bundle inside.
pub fn unseal(lock: &LockId, sealed: &[u8]) -> (Ack, Vec<u8>) {
    let mut buf = sealed.to_vec();
    let (ack, bundle) = doorkey::receipt::open(lock, &audit(), &mut buf).unwrap();
    (ack, bundle.to_vec())
}

/// Fetches every receipt the lock still holds, as the holder of `credential`, and opens the
/// sealed bundle with `audit()`.
pub fn fetch_receipts<S: Storage, K: Signer>(
    lock: &mut Lock<S>,
    tick: Tick,
    credential: &Credential<'_, K>,
    rng: &mut ChaCha20Rng,
) -> Vec<u8> {
    match visit(lock, tick, credential, Command::Receipts { after: 0 }, rng).3 {
        Reply::Receipts(sealed) => unseal(&lock.id(), sealed).1,
        other => panic!("expected receipts, got {other:?}"),
    }
}

/// A configuration update for `lock`, signed by the owner (key 1).
pub fn owner_update(lock: LockId, version: u64, change: doorkey::config::Change) -> Vec<u8> {
    let owner = key(1);
    let mut buf = [0u8; 256];
    let update = doorkey::config::ConfigUpdate {
        lock,
        version,
        signer: owner.public_key(),
        change,
    };
    let n = update.sign(&owner, &mut buf).unwrap();
    buf[..n].to_vec()
}

/// Opens a session with no credential asking for `command`; returns the session and the
/// lock's outcome and reply.
pub fn anonymous<S: Storage>(
    lock: &mut Lock<S>,
    tick: Tick,
    command: Command<'_>,
    rng: &mut ChaCha20Rng,
) -> (PhoneSession, Outcome, Reply<'static>) {
    let mut challenge = [0u8; 256];
    let n = lock.challenge(tick, rng, &mut challenge).unwrap();
    let mut open = [0u8; 512];
    let (mut session, m) =
        PhoneSession::open_anonymous(&challenge[..n], &lock.id(), command, rng, &mut open).unwrap();
    let (outcome, reply) = exchange(lock, tick, &mut session, &open[..m]);
    (session, outcome, reply)
}
