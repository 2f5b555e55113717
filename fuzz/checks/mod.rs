//! Fuzz target bodies shared by the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`, through
//! `#[path]`) and by `tests/fuzz_corpus.rs`, which replays the committed corpora through the
//! same checks without libFuzzer. Nothing here needs the `arbitrary` crate; the one target
//! that does (`lock_session`) keeps its input type in `lock_session.rs`.
//!
//! Every check panics (an assertion) when a property is violated and returns quietly
//! otherwise: that is how libFuzzer and `cargo test` both see a failure.
#![allow(dead_code)]

use std::sync::OnceLock;

use chacha20::ChaCha20Rng;
use doorkey::Error;
use doorkey::config::{ConfigUpdate, TimeAnchor};
use doorkey::credential::{Chain, CredentialId, Link, LockId, Rights, UnverifiedChain};
use doorkey::crypto::{SecretKey, Signed, Signer, hash};
use doorkey::lock::{
    Enrolment, Flash, FlashStorage, Lock, LockState, MAX_STATE_BYTES, MemoryStorage, Outcome,
    Region, STATE_VERSION, STORAGE_HEADER_LEN, Storage,
};
use doorkey::phone::{Credential, PhoneSession, inspect_challenge};
use doorkey::receipt::{Head, Parsed, Receipt, RunVerifier};
use doorkey::session::{Challenge, Command, Reply, verify_challenge};
use doorkey::time::{Seconds, Tick, UnixTime};
use doorkey::wire::VERSION;
use rand_core::SeedableRng;

// ---------------------------------------------------------------------------------------------
// Fixtures: the same world as tests/common (owner 1, lock 2, company 3, courier 4).
// ---------------------------------------------------------------------------------------------

/// 2026-06-01T12:00:00Z.
pub const T0: UnixTime = UnixTime::from_secs(1_780_315_200);
/// A day.
pub const DAY: Seconds = Seconds::from_days(1);
/// Uses the courier's link allows in total.
pub const COURIER_USES: u16 = 3;
/// How long the courier's link is valid from `T0`.
pub const COURIER_LIFETIME: Seconds = Seconds::from_mins(10);

/// Wire kinds (docs/PROTOCOL.md), spelled out so the checks do not depend on `Kind` casts.
pub const KIND_CHALLENGE: u8 = 0x10;
/// Open message kind.
pub const KIND_OPEN: u8 = 0x11;
/// Reply message kind.
pub const KIND_REPLY: u8 = 0x13;
/// Time anchor kind.
pub const KIND_TIME: u8 = 0x20;
/// Configuration update kind.
pub const KIND_CONFIG: u8 = 0x21;
/// Receipt kind.
pub const KIND_RECEIPT: u8 = 0x30;
/// Receipt-chain head kind.
pub const KIND_HEAD: u8 = 0x31;
/// Output buffer for anything the lock writes (a reply may carry a receipt bundle).
pub const OUT_LEN: usize = 4096;

/// RAM storage the lock targets use.
pub type Mem = MemoryStorage<4096>;

/// The deterministic key with seed `[seed; 32]`.
pub fn key(seed: u8) -> SecretKey {
    SecretKey::from_seed(&[seed; 32])
}

/// A deterministic CSPRNG.
pub fn rng(seed: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([seed; 32])
}

/// The owner key (seed 1), derived once: the targets sign anchors and updates with it on
/// every input, and deriving a key is a scalar multiplication.
pub fn owner() -> &'static SecretKey {
    static OWNER: OnceLock<SecretKey> = OnceLock::new();
    OWNER.get_or_init(|| key(1))
}

/// The lock's identity key (seed 2).
pub fn lock_key() -> SecretKey {
    key(2)
}

/// The courier's device key (seed 4), which the courier chain ends at.
pub fn courier() -> SecretKey {
    key(4)
}

/// The genuine lock's id (computed once: deriving the key is a scalar multiplication).
pub fn lock_id() -> LockId {
    static ID: OnceLock<LockId> = OnceLock::new();
    *ID.get_or_init(|| LockId::of(&lock_key().public_key()))
}

/// Owner -> company (unlock, lock, delegate; 30 days from T0 - 1 day) -> courier (unlock and
/// lock, `COURIER_USES` uses, `COURIER_LIFETIME` seconds from T0). Built once.
pub fn courier_chain() -> &'static [u8] {
    static CHAIN: OnceLock<Vec<u8>> = OnceLock::new();
    CHAIN.get_or_init(|| {
        let mut ids = rng(9);
        let company = key(3);
        let company_link = Link::builder(
            company.public_key(),
            Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE),
        )
        .locks(&[lock_id()])
        .valid_from(T0 - DAY)
        .valid_for(Seconds::from_days(30))
        .depth(1)
        .build(&mut ids)
        .expect("a valid company link");
        let courier_link =
            Link::builder(courier().public_key(), Rights::UNLOCK.union(Rights::LOCK))
                .valid_from(T0)
                .valid_for(COURIER_LIFETIME)
                .uses(COURIER_USES)
                .purpose([7; 32])
                .build(&mut ids)
                .expect("a valid courier link");
        Chain::root(owner(), &company_link)
            .and_then(|c| c.extend(&company, &courier_link))
            .expect("the fixture chain issues")
            .as_bytes()
            .to_vec()
    })
}

/// The id of the courier's (use-limited) link.
pub fn courier_link_id() -> CredentialId {
    UnverifiedChain::decode(courier_chain())
        .expect("fixture chain decodes")
        .leaf()
        .id
}

/// The courier's credential on its phone.
pub fn courier_credential() -> Credential<'static, SecretKey> {
    Credential::new(courier_chain(), courier()).expect("the chain ends at the courier")
}

/// A freshly installed lock trusting the owner, in RAM.
pub fn install() -> Lock<Mem> {
    Lock::install(lock_key(), owner().public_key(), Mem::new()).expect("install")
}

/// Maps a fuzz byte to a command that needs no signed payload.
pub fn simple_command(cmd: u8) -> Command<'static> {
    match cmd % 5 {
        0 => Command::Unlock,
        1 => Command::Lock,
        2 => Command::Close,
        3 => Command::Hello,
        _ => Command::Receipts {
            after: u64::from(cmd / 5),
        },
    }
}

/// A reply that outlives its buffer (a receipt bundle is dropped: only its presence is kept).
pub fn owned(reply: Reply<'_>) -> Reply<'static> {
    match reply {
        Reply::Receipts(_) => Reply::Receipts(&[]),
        Reply::Unlocked => Reply::Unlocked,
        Reply::Locked => Reply::Locked,
        Reply::Closed => Reply::Closed,
        Reply::TimeSet(t) => Reply::TimeSet(t),
        Reply::ConfigApplied(v) => Reply::ConfigApplied(v),
        Reply::Ready => Reply::Ready,
        Reply::Denied(r) => Reply::Denied(r),
        Reply::Acked(seq) => Reply::Acked(seq),
        Reply::NeedChain => Reply::NeedChain,
        other => panic!("a reply the checks do not know: {other:?}"),
    }
}

/// The owner's audit secret, for locks that were given its public key.
pub fn audit() -> doorkey::receipt::AuditSecret {
    doorkey::receipt::AuditSecret::from_bytes([11; 32])
}

/// A genuine sealed bundle opens with the audit secret and what is inside (signed head, then
/// receipts oldest first) verifies: every part is signed by the genuine lock, the receipts
/// follow one another, and the last is the head.
pub fn check_bundle(sealed: &[u8]) {
    let lock = lock_key().public_key();
    let mut buf = sealed.to_vec();
    let (_, bundle) = doorkey::receipt::open(&LockId::of(&lock), &audit(), &mut buf)
        .expect("a genuine bundle opens with the audit key");
    let (head, mut rest) = Parsed::<Head>::take(bundle).expect("a bundle starts with a head");
    head.verify(&lock).expect("the head is signed by the lock");
    let head_bytes = &bundle[..bundle.len() - rest.len()];
    let mut run = RunVerifier::anywhere(lock);
    let mut count = 0;
    while !rest.is_empty() {
        let (receipt, tail) = Parsed::<Receipt>::take(rest).expect("a receipt follows");
        let one = &rest[..rest.len() - tail.len()];
        run.push(one).expect("bundled receipts form a chain");
        assert!(
            receipt.body.seq <= head.body.seq,
            "a receipt after the head"
        );
        rest = tail;
        count += 1;
    }
    if count > 0 {
        run.finish(head_bytes)
            .expect("the receipts end at the head");
    }
}

/// A genuine time anchor for `nonce`, signed by the owner, stating `utc`.
pub fn anchor_bytes(nonce: [u8; 16], utc: UnixTime) -> Vec<u8> {
    let owner = owner();
    let mut out = [0u8; 256];
    let n = TimeAnchor {
        lock: lock_id(),
        nonce,
        time: utc,
        signer: owner.public_key(),
    }
    .sign(owner, &mut out)
    .expect("anchor signs");
    out[..n].to_vec()
}

/// What one genuine anonymous time-anchor visit produced.
pub struct AnchorVisit {
    /// The open message the phone sent (carrying the anchor).
    pub open: Vec<u8>,
    /// The lock's answer to it.
    pub outcome: Result<Outcome, Error>,
    /// The reply as the phone read it, when the lock answered.
    pub reply: Option<Reply<'static>>,
}

/// Sets the lock's clock to `utc` at `tick` through a genuine, owner-signed anchor carried by
/// an anonymous phone session (as tests/common::set_time does).
pub fn set_time<S: Storage>(
    lock: &mut Lock<S>,
    tick: Tick,
    utc: UnixTime,
    rng: &mut ChaCha20Rng,
) -> AnchorVisit {
    let mut challenge = [0u8; 256];
    let n = lock
        .challenge(tick, rng, &mut challenge)
        .expect("challenge");
    let info = inspect_challenge(&challenge[..n], &lock.id()).expect("own challenge verifies");
    let anchor = anchor_bytes(info.nonce, utc);
    let mut open = [0u8; 512];
    let (mut phone, m) = PhoneSession::open_anonymous(
        &challenge[..n],
        &lock.id(),
        Command::Time(&anchor),
        rng,
        &mut open,
    )
    .expect("anonymous open");
    let sent = open[..m].to_vec();
    let mut input = sent.clone();
    let mut out = [0u8; OUT_LEN];
    let outcome = lock.handle(tick, &mut input, &mut out);
    let reply = outcome.as_ref().ok().map(|o| {
        owned(
            phone
                .read_reply(&mut out[..o.reply])
                .expect("the phone accepts the lock's genuine reply"),
        )
    });
    AnchorVisit {
        open: sent,
        outcome,
        reply,
    }
}

/// A byte reader for the hand-rolled input formats below: reading past the end yields
/// nothing, so every byte string is a valid input.
pub struct Reader<'a>(pub &'a [u8]);

impl<'a> Reader<'a> {
    /// The next byte, if any.
    pub fn byte(&mut self) -> Option<u8> {
        let (first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*first)
    }

    /// A little-endian `u16` (missing bytes read as zero).
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte().unwrap_or(0), self.byte().unwrap_or(0)])
    }

    /// A chunk prefixed by a one-byte length (truncated at the end of the input).
    pub fn chunk(&mut self) -> &'a [u8] {
        let len = usize::from(self.byte().unwrap_or(0)).min(self.0.len());
        let (chunk, rest) = self.0.split_at(len);
        self.0 = rest;
        chunk
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.0)
    }
}

/// Flips bit `bit` (modulo the length) of `bytes`; empty input stays empty.
pub fn flip_bit(bytes: &[u8], bit: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if !out.is_empty() {
        let bit = bit % (out.len() * 8);
        out[bit / 8] ^= 1 << (bit % 8);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// chain_decode
// ---------------------------------------------------------------------------------------------

/// Any bytes: decoding a chain never panics, and whatever decodes re-encodes to the same bytes.
pub fn chain_decode(data: &[u8]) {
    let Ok(chain) = UnverifiedChain::decode(data) else {
        return;
    };
    // Header (version, kind, 4-byte owner hint, count), then each body and its signature.
    let mut re = data[..7].to_vec();
    let mut at = 7;
    for link in chain.links() {
        let body = postcard::to_allocvec(&link).expect("a decoded link encodes");
        re.extend_from_slice(&body);
        at += body.len();
        re.extend_from_slice(&data[at..at + 64]);
        at += 64;
    }
    assert_eq!(re, data, "decode -> encode is not the identity");
}

// ---------------------------------------------------------------------------------------------
// chain_verify
// ---------------------------------------------------------------------------------------------

/// Any bytes and any time against a lock with an enrolled owner: verification never panics,
/// and what it accepts is rooted in that owner and stops verifying after any bit flip.
///
/// Input: 8 bytes little-endian time word (even: trusted time `word >> 1`; odd: untrusted),
/// then the chain.
pub fn chain_verify(data: &[u8]) {
    let Some((time, chain)) = data.split_first_chunk::<8>() else {
        return;
    };
    // The owner of the committed corpus (tests/vectors), so the fuzzer starts from valid chains.
    let owner = owner();
    let mut lock = Enrolment::new(lock_key().public_key());
    lock.enrol_owner(owner.public_key()).expect("valid owner");
    let now = u64::from_le_bytes(*time);
    let now = if now & 1 == 0 {
        Some(UnixTime::from_secs(now >> 1))
    } else {
        None
    };
    if let Ok(grant) = lock.verify_chain(chain, now, &()) {
        assert_eq!(grant.owner, owner.public_key());
        let bit = usize::from(time[0]) * 8;
        let flipped = flip_bit(chain, bit);
        assert!(
            lock.verify_chain(&flipped, now, &()).is_err(),
            "bit {} flip accepted",
            bit % (chain.len() * 8)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// p256_der
// ---------------------------------------------------------------------------------------------

/// The order n of the P-256 group, big-endian.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// n - s, big-endian.
fn p256_negate(s: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(P256_N[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        out[i] = (d + 256 * borrow) as u8;
    }
    out
}

/// The minimal DER of `SEQUENCE { INTEGER r, INTEGER s }` (X.690), written independently of
/// the decoder under test.
fn p256_der_of(r: &[u8], s: &[u8]) -> Vec<u8> {
    let int = |v: &[u8]| {
        let mut v: Vec<u8> = v.iter().copied().skip_while(|b| *b == 0).collect();
        if v.is_empty() || v[0] & 0x80 != 0 {
            v.insert(0, 0);
        }
        [vec![0x02, v.len() as u8], v].concat()
    };
    let body = [int(r), int(s)].concat();
    [vec![0x30, body.len() as u8], body].concat()
}

/// Any bytes as a keystore's DER signature: conversion never panics; what it accepts is the
/// minimal DER of the returned r and s, or of r and n - s (a high S it made low), and the
/// returned s is never above n / 2.
pub fn p256_der(data: &[u8]) {
    let Ok(sig) = doorkey::crypto::p256_signature_from_der(data) else {
        return;
    };
    let (r, s) = sig.0.split_at(32);
    let high = p256_negate(s);
    assert!(s <= &high[..], "a high S returned");
    assert!(
        data == p256_der_of(r, s) || data == p256_der_of(r, &high),
        "accepted DER that is not minimal"
    );
}

// ---------------------------------------------------------------------------------------------
// admin_decode
// ---------------------------------------------------------------------------------------------

/// Any bytes into every administrative / session decoder (`ConfigUpdate`, `TimeAnchor`,
/// `Challenge`, receipts and heads, `LockState`): none panics, and whatever decodes re-encodes
/// to exactly the input (`header || postcard(body) || signature` for signed messages,
/// `LockState::encode` for the persisted state).
pub fn admin_decode(data: &[u8]) {
    if let Ok(s) = ConfigUpdate::decode(data) {
        signed_identity(data, KIND_CONFIG, &s, "ConfigUpdate");
    }
    if let Ok(s) = TimeAnchor::decode(data) {
        signed_identity(data, KIND_TIME, &s, "TimeAnchor");
    }
    if let Ok(s) = Challenge::decode(data) {
        signed_identity(data, KIND_CHALLENGE, &s, "Challenge");
    }
    if let Ok((p, rest)) = Parsed::<Receipt>::take(data) {
        parsed_identity(
            data,
            KIND_RECEIPT,
            &p.body,
            p.signed,
            &p.signature.0,
            rest,
            "Receipt",
        );
    }
    if let Ok((p, rest)) = Parsed::<Head>::take(data) {
        parsed_identity(
            data,
            KIND_HEAD,
            &p.body,
            p.signed,
            &p.signature.0,
            rest,
            "Head",
        );
    }
    if let Ok(state) = LockState::decode(data) {
        // A state that decodes must also be persistable: the lock encodes into this buffer.
        let mut buf = [0u8; MAX_STATE_BYTES];
        let n = state
            .encode(&mut buf)
            .expect("a decoded LockState encodes into MAX_STATE_BYTES");
        // An image of the current version round-trips byte for byte; an older one (or a
        // version-0 image whose lock key happens to start with the magic) is migrated.
        let current = [b"DKST".as_slice(), &[STATE_VERSION]].concat();
        if data.starts_with(&current) && !state.enrolment.public_key().0.starts_with(&current) {
            assert_eq!(
                &buf[..n],
                data,
                "LockState decode -> encode is not the identity"
            );
        }
        assert_eq!(
            LockState::decode(&buf[..n]).as_ref(),
            Ok(&state),
            "LockState re-decode differs"
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn parsed_identity<T: serde::Serialize>(
    data: &[u8],
    kind: u8,
    body: &T,
    signed: &[u8],
    signature: &[u8; 64],
    rest: &[u8],
    what: &str,
) {
    let mut re = vec![VERSION, kind];
    re.extend_from_slice(&postcard::to_allocvec(body).expect("a decoded body encodes"));
    assert_eq!(signed, &re[..], "{what}: signed part is not header || body");
    re.extend_from_slice(signature);
    re.extend_from_slice(rest);
    assert_eq!(re, data, "{what}: decode -> encode is not the identity");
}

fn signed_identity<T: serde::Serialize>(data: &[u8], kind: u8, s: &Signed<'_, T>, what: &str) {
    let mut re = vec![VERSION, kind];
    re.extend_from_slice(&postcard::to_allocvec(&s.body).expect("a decoded body encodes"));
    assert_eq!(
        s.signed,
        &re[..],
        "{what}: signed part is not header || body"
    );
    re.extend_from_slice(&s.signature.0);
    assert_eq!(re, data, "{what}: decode -> encode is not the identity");
}

// ---------------------------------------------------------------------------------------------
// storage_recover
// ---------------------------------------------------------------------------------------------

/// Two equal in-memory flash regions. Writes must target erased bytes inside the region
/// (the [`Flash`] contract [`FlashStorage`] promises to keep); reads past the end fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemFlash {
    /// Region A then region B.
    pub regions: [Vec<u8>; 2],
}

fn index(region: Region) -> usize {
    match region {
        Region::A => 0,
        Region::B => 1,
    }
}

impl Flash for MemFlash {
    fn region_size(&self) -> usize {
        self.regions[0].len()
    }

    fn read(&mut self, region: Region, offset: usize, buf: &mut [u8]) -> Result<(), Error> {
        let end = offset.checked_add(buf.len()).ok_or(Error::Storage)?;
        let src = self.regions[index(region)]
            .get(offset..end)
            .ok_or(Error::Storage)?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn erase(&mut self, region: Region) -> Result<(), Error> {
        self.regions[index(region)].fill(0xFF);
        Ok(())
    }

    fn write(&mut self, region: Region, offset: usize, data: &[u8]) -> Result<(), Error> {
        let size = self.region_size();
        let dst = offset
            .checked_add(data.len())
            .and_then(|end| self.regions[index(region)].get_mut(offset..end))
            .unwrap_or_else(|| {
                panic!(
                    "FlashStorage wrote {}..+{} past region {region:?} of {size} bytes",
                    offset,
                    data.len()
                )
            });
        assert!(
            dst.iter().all(|b| *b == 0xFF),
            "FlashStorage wrote {region:?} {offset}..+{} over unerased bytes",
            data.len()
        );
        dst.copy_from_slice(data);
        Ok(())
    }
}

const STORE_LABEL: &[u8] = b"doorkey/v1/store\0";

/// A valid record as the module documentation of `doorkey::lock::storage` defines it, parsed
/// independently of the implementation: `(seq, data)`.
pub fn reference_record(region: &[u8]) -> Option<(u64, &[u8])> {
    let header = region.get(..STORAGE_HEADER_LEN)?;
    if header[..4] != *b"DKS1" {
        return None;
    }
    let seq = u64::from_le_bytes(header[4..12].try_into().ok()?);
    let len = usize::try_from(u32::from_le_bytes(header[12..16].try_into().ok()?)).ok()?;
    let data = region.get(STORAGE_HEADER_LEN..STORAGE_HEADER_LEN.checked_add(len)?)?;
    let check: [u8; 16] = hash(&[STORE_LABEL, &header[..16], data]);
    (check == header[16..32]).then_some((seq, data))
}

/// A region of `size` bytes holding one record with `seq` and `data`, encoded as the format
/// documentation says (for seeds and tests); `size` must fit the record.
pub fn make_record(size: usize, seq: u64, data: &[u8]) -> Vec<u8> {
    let mut region = Vec::with_capacity(size);
    region.extend_from_slice(b"DKS1");
    region.extend_from_slice(&seq.to_le_bytes());
    region.extend_from_slice(&u32::try_from(data.len()).expect("short").to_le_bytes());
    let check: [u8; 16] = hash(&[STORE_LABEL, &region[..16], data]);
    region.extend_from_slice(&check);
    region.extend_from_slice(data);
    assert!(region.len() <= size, "record does not fit");
    region.resize(size, 0xFF);
    region
}

/// The fuzz input `storage_input` turns into these regions (each `4 * size_byte` bytes).
pub fn storage_seed(size_byte: u8, sel: u8, a: &[u8], b: &[u8]) -> Vec<u8> {
    let size = usize::from(size_byte) * 4;
    let mut input = vec![size_byte, sel];
    for region in [a, b] {
        let mut r = region.to_vec();
        r.resize(size, 0xFF);
        input.extend_from_slice(&r);
    }
    input
}

/// The committed state per the documentation: the valid record with the higher `seq`, region
/// A on a tie. `(region, seq, data)`.
pub fn reference_newest(flash: &MemFlash) -> Option<(Region, u64, &[u8])> {
    let a = reference_record(&flash.regions[0]).map(|(s, d)| (Region::A, s, d));
    let b = reference_record(&flash.regions[1]).map(|(s, d)| (Region::B, s, d));
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.1 > a.1 { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// Offset of the superseded mark of the newest valid record: the byte right after its data,
/// if the region has it.
pub fn reference_mark(flash: &MemFlash) -> Option<(Region, usize)> {
    let (region, _, data) = reference_newest(flash)?;
    let at = STORAGE_HEADER_LEN + data.len();
    (at < flash.region_size()).then_some((region, at))
}

/// Whether the documentation says a load of `flash` reports a rollback: the newest valid
/// record's superseded mark is not erased.
pub fn reference_rolled_back(flash: &MemFlash) -> bool {
    reference_mark(flash).is_some_and(|(region, at)| flash.regions[index(region)][at] != 0xFF)
}

/// Whether both regions' headers are erased: the documentation's blank store.
pub fn reference_blank(flash: &MemFlash) -> bool {
    flash
        .regions
        .iter()
        .all(|r| r[..STORAGE_HEADER_LEN].iter().all(|b| *b == 0xFF))
}

/// Builds the two regions from fuzz input: `[size/4][commit selector][A bytes][B bytes]`,
/// each region `4 * size` bytes, missing bytes erased (`0xFF`).
pub fn storage_input(data: &[u8]) -> (MemFlash, u8) {
    let mut r = Reader(data);
    let size = usize::from(r.byte().unwrap_or(0)) * 4;
    let sel = r.byte().unwrap_or(0);
    let rest = r.rest();
    let mut regions = [vec![0xFF; size], vec![0xFF; size]];
    for (i, b) in rest.iter().take(2 * size).enumerate() {
        regions[i / size.max(1)][i % size.max(1)] = *b;
    }
    (MemFlash { regions }, sel)
}

/// Arbitrary bytes as both regions of a [`FlashStorage`]: `load` never panics and returns
/// exactly the record the format documentation says is committed (`None` for a blank store,
/// `Storage` for a corrupt one), never anything invented, and reports a rollback exactly when
/// the documentation does; commits afterwards land where the documentation says and load back
/// exactly, from the same instance and after a "reboot".
pub fn storage_recover(data: &[u8]) {
    let (flash, sel) = storage_input(data);
    let size = flash.region_size();
    let mut storage = FlashStorage::new(flash.clone());
    let mut buf = vec![0u8; size];

    if size < STORAGE_HEADER_LEN {
        assert_eq!(
            storage.load(&mut buf),
            Err(Error::Misuse),
            "tiny region load"
        );
        assert_eq!(
            storage.commit(&[]),
            Err(Error::Misuse),
            "tiny region commit"
        );
        assert_eq!(
            storage.flash(),
            &flash,
            "a refused commit touched the flash"
        );
        return;
    }
    let capacity = size - STORAGE_HEADER_LEN;

    // Load into a small buffer first (when asked to): too small is an error, not a truncation.
    let expected = reference_newest(&flash).map(|(_, _, d)| d.to_vec());
    let blank = reference_blank(&flash);
    if sel & 0x40 != 0 {
        let mut small = [0u8; 8];
        let mut fresh = FlashStorage::new(flash.clone());
        match (fresh.load(&mut small), &expected) {
            (Ok(None), None) if blank => {}
            (Err(Error::Storage), None) if !blank => {}
            (Ok(Some(n)), Some(e)) => assert_eq!(&small[..n], &e[..], "small-buffer load"),
            (Err(Error::BufferTooSmall), Some(e)) => assert!(e.len() > small.len()),
            (got, e) => panic!("small-buffer load gave {got:?}, documented record {e:?}"),
        }
    }

    let loaded = storage.load(&mut buf);
    match (&loaded, &expected) {
        (Ok(None), None) if blank => {}
        (Err(Error::Storage), None) if !blank => {}
        (Ok(Some(n)), Some(e)) => {
            assert_eq!(&buf[..*n], &e[..], "loaded the wrong record");
            assert_eq!(
                storage.rolled_back(),
                reference_rolled_back(&flash),
                "rollback not reported as documented"
            );
        }
        (got, e) => panic!("load gave {got:?}, documented record {e:?} (blank: {blank})"),
    }
    assert_eq!(storage.flash(), &flash, "load changed the flash");

    // Commit through the instance that loaded, or through a fresh one that must scan.
    let mut storage = if sel & 0x80 != 0 {
        FlashStorage::new(flash)
    } else {
        storage
    };
    let first: Vec<u8> = (0..(usize::from(sel & 0x3F) * 16).min(capacity + 1))
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(sel))
        .collect();
    let second = b"doorkey committed state".as_slice();
    let second = &second[..second.len().min(capacity)];
    for state in [&first[..], second] {
        storage = check_commit(storage, state, capacity);
    }
}

fn check_commit(
    mut storage: FlashStorage<MemFlash>,
    state: &[u8],
    capacity: usize,
) -> FlashStorage<MemFlash> {
    let before = storage.flash().clone();
    let newest = reference_newest(&before).map(|(r, s, _)| (r, s));
    let mark = reference_mark(&before);
    let result = storage.commit(state);
    if state.len() > capacity {
        assert_eq!(result, Err(Error::Oversize), "oversize commit");
        assert_eq!(
            storage.flash(),
            &before,
            "a refused commit touched the flash"
        );
        return storage;
    }
    if let Some((_, u64::MAX)) = newest {
        assert_eq!(result, Err(Error::Storage), "commit after seq u64::MAX");
        assert_eq!(
            storage.flash(),
            &before,
            "a refused commit touched the flash"
        );
        return storage;
    }
    assert_eq!(result, Ok(()), "commit of {} bytes", state.len());
    let (target, seq) = match newest {
        Some((Region::A, s)) => (Region::B, s + 1),
        Some((Region::B, s)) => (Region::A, s + 1),
        None => (Region::A, 0),
    };
    let after = storage.flash().clone();
    if let Some((kept, _)) = newest {
        // Only the previous record's superseded mark is written, and only if erased.
        let mut expected = before.regions[index(kept)].clone();
        if let Some((_, at)) = mark
            && expected[at] == 0xFF
        {
            expected[at] = 0;
        }
        assert_eq!(
            after.regions[index(kept)],
            expected,
            "the commit touched the previous record beyond its mark"
        );
    }
    assert_eq!(
        reference_record(&after.regions[index(target)]),
        Some((seq, state)),
        "the new record is not where and what the format says"
    );
    assert_eq!(
        reference_newest(&after).map(|(r, s, d)| (r, s, d.to_vec())),
        Some((target, seq, state.to_vec())),
        "the new record is not the newest"
    );
    let mut buf = vec![0u8; capacity];
    let n = storage.load(&mut buf).expect("load after commit");
    assert_eq!(n.map(|n| &buf[..n]), Some(state), "load after commit");
    let mut rebooted = FlashStorage::new(after);
    let n = rebooted.load(&mut buf).expect("load after reboot");
    assert_eq!(n.map(|n| &buf[..n]), Some(state), "load after reboot");
    assert!(
        !rebooted.rolled_back(),
        "a fresh commit reads as rolled back"
    );
    storage
}

// ---------------------------------------------------------------------------------------------
// phone_session
// ---------------------------------------------------------------------------------------------

/// Whether `bytes` is a challenge signed by the genuine lock (checked independently of the
/// phone code: decode, carried key is the lock's, signature verifies).
pub fn is_genuine_challenge(bytes: &[u8]) -> bool {
    Challenge::decode(bytes)
        .is_ok_and(|c| c.body.lock_key == lock_key().public_key() && verify_challenge(&c).is_ok())
}

/// A CSPRNG seeded from the whole input, so each input has its own session keys. With fixed
/// seeds every input derives the same keys, and libFuzzer's comparison tracing carries a reply
/// the lock sealed in one input into another, where it opens although that input's lock never
/// sent it (`fuzz/corpus/phone_session/regression-reply-sealed-in-another-input`).
pub fn input_rng(data: &[u8], stream: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed(hash(&[b"doorkey/fuzz/input-rng\0", &[stream], data]))
}

/// The tick the phone_session lock lives at (inside the courier's validity once anchored).
const PHONE_TICK: Tick = Tick::from_secs(100);
/// The tick the phone_session lock's clock is anchored at, 50 seconds before `PHONE_TICK`.
const ANCHOR_TICK: Tick = Tick::from_secs(50);

/// The phone with a valid courier credential against arbitrary bytes.
///
/// Input: `[len][challenge bytes]`, then operations, each an op byte (`% 5`) and operands:
/// - 0 `[cmd]`: the phone sends the next command; the genuine lock's reply (if any) is kept;
/// - 1 `[i]`: deliver the `i`-th (mod count) genuine reply the lock produced;
/// - 2 `[len][bytes]`: deliver fuzz bytes as a reply;
/// - 3 `[i][bit u16]`: deliver genuine reply `i` with one bit flipped;
/// - 4 `[i][len][bytes]`: deliver genuine reply `i`'s clear header followed by fuzz bytes;
/// - 5: the phone resends its open's command with the whole chain (`retry`, spec 22.2).
///
/// The genuine lock has held the courier's company link since an earlier visit and hands out a
/// challenge it prepared (spec 22): the phone's open carries the leaf alone. For half the
/// inputs an owner's update drops the held link between challenge and open, so the lock
/// answers `NeedChain`.
///
/// Properties: opening on the fuzz challenge never panics, and succeeds (and writes output)
/// exactly when the challenge is validly signed by the lock the credential names; `read_reply`
/// never panics and returns `Ok` exactly for genuine replies not yet superseded (counter at
/// least the next expected one).
pub fn phone_session(data: &[u8]) {
    let mut r = Reader(data);
    let credential = courier_credential();
    let mut phone_rng = input_rng(data, 21);

    // Part 1: the fuzz bytes as a challenge.
    let challenge = r.chunk();
    let genuine = is_genuine_challenge(challenge);
    assert_eq!(
        inspect_challenge(challenge, &lock_id()).is_ok(),
        genuine,
        "inspect_challenge disagrees on {challenge:02x?}"
    );
    let anonymous = |out: &mut [u8], rng: &mut ChaCha20Rng| {
        PhoneSession::open_anonymous(challenge, &lock_id(), Command::Hello, rng, out)
            .map(|(_, n)| n)
    };
    let credentialed = |out: &mut [u8], rng: &mut ChaCha20Rng| {
        PhoneSession::open(challenge, &credential, Command::Unlock, rng, out).map(|(_, n)| n)
    };
    for (what, open) in [
        (
            "open",
            &credentialed as &dyn Fn(&mut [u8], &mut ChaCha20Rng) -> _,
        ),
        ("open_anonymous", &anonymous),
    ] {
        let mut out = [0xA5u8; 2048];
        match open(&mut out, &mut phone_rng) {
            Ok(n) => {
                assert!(genuine, "{what} answered a challenge the lock did not sign");
                assert!(
                    n > 2 && out[..2] == [VERSION, KIND_OPEN],
                    "{what} wrote no open"
                );
            }
            Err(e) => {
                assert!(!genuine, "{what} refused a genuine challenge: {e:?}");
                assert!(
                    out.iter().all(|b| *b == 0xA5),
                    "{what} wrote output for a refused challenge ({e:?})"
                );
            }
        }
    }

    // Part 2: a genuine lock and phone, with fuzz bytes interleaved among the replies.
    let mut lock = install();
    let mut lock_rng = input_rng(data, 22);
    let visit = set_time(
        &mut lock,
        ANCHOR_TICK,
        T0 - Seconds::from_secs(50),
        &mut lock_rng,
    );
    assert_eq!(
        visit.reply,
        Some(Reply::TimeSet(T0 - Seconds::from_secs(50))),
        "anchor refused"
    );

    let mut ch = [0u8; 256];
    let mut open = [0u8; 2048];
    let mut out = [0u8; OUT_LEN];
    // An earlier visit: the lock now holds the company's link.
    let n = lock
        .challenge(PHONE_TICK, &mut lock_rng, &mut ch)
        .expect("challenge");
    let (_, m) = PhoneSession::open(
        &ch[..n],
        &credential,
        Command::Hello,
        &mut phone_rng,
        &mut open,
    )
    .expect("the phone answers its lock");
    lock.handle(PHONE_TICK, &mut open[..m], &mut out)
        .expect("the lock accepts a genuine open");
    lock.prepare_challenge(PHONE_TICK, &mut lock_rng)
        .expect("prepare");
    let n = lock
        .challenge(PHONE_TICK, &mut lock_rng, &mut ch)
        .expect("challenge");
    if hash::<1>(&[b"doorkey/fuzz/drop-held-links\0", data])[0].is_multiple_of(2) {
        drop_held_links(&mut lock, &mut lock_rng);
    }
    let (mut phone, m) = PhoneSession::open(
        &ch[..n],
        &credential,
        Command::Hello,
        &mut phone_rng,
        &mut open,
    )
    .expect("the phone answers its lock");
    let mut produced: Vec<Vec<u8>> = Vec::new();
    let outcome = lock
        .handle(PHONE_TICK, &mut open[..m], &mut out)
        .expect("the lock accepts a genuine open");
    produced.push(out[..outcome.reply].to_vec());
    let mut next_reply: u32 = 0;

    let mut deliver = |phone: &mut PhoneSession, bytes: &[u8], produced: &[Vec<u8>]| {
        let genuine_counter = produced
            .iter()
            .find(|p| p.as_slice() == bytes)
            .map(|p| u32::from_le_bytes(p[2..6].try_into().expect("4 bytes")));
        let expect_ok = genuine_counter.is_some_and(|c| c >= next_reply);
        let mut input = bytes.to_vec();
        let result = phone.read_reply(&mut input);
        if let Ok(Reply::Receipts(bundle)) = &result {
            check_bundle(bundle);
        }
        let result = result.map(owned);
        assert_eq!(
            result.is_ok(),
            expect_ok,
            "read_reply({bytes:02x?}) = {result:?}; genuine counter {genuine_counter:?}, \
             next expected {next_reply}"
        );
        if let Some(c) = genuine_counter.filter(|_| expect_ok) {
            next_reply = c + 1;
        }
    };

    let mut ops = 0;
    while let Some(op) = r.byte() {
        ops += 1;
        if ops > 64 {
            break;
        }
        match op % 6 {
            5 => {
                let mut msg = [0u8; 2400];
                let Ok(len) = phone.retry(&credential, Command::Hello, &mut msg) else {
                    continue;
                };
                if let Ok(o) = lock.handle(PHONE_TICK, &mut msg[..len], &mut out) {
                    produced.push(out[..o.reply].to_vec());
                }
            }
            0 => {
                let command = simple_command(r.byte().unwrap_or(0));
                let mut msg = [0u8; 128];
                let Ok(len) = phone.command(command, &mut msg) else {
                    continue;
                };
                if let Ok(o) = lock.handle(PHONE_TICK, &mut msg[..len], &mut out) {
                    produced.push(out[..o.reply].to_vec());
                }
            }
            1 => {
                let i = usize::from(r.byte().unwrap_or(0)) % produced.len();
                let bytes = produced[i].clone();
                deliver(&mut phone, &bytes, &produced);
            }
            2 => {
                let bytes = r.chunk();
                deliver(&mut phone, bytes, &produced);
            }
            3 => {
                let i = usize::from(r.byte().unwrap_or(0)) % produced.len();
                let bytes = flip_bit(&produced[i], usize::from(r.u16()));
                deliver(&mut phone, &bytes, &produced);
            }
            _ => {
                let i = usize::from(r.byte().unwrap_or(0)) % produced.len();
                let mut bytes = produced[i][..6].to_vec();
                bytes.extend_from_slice(r.chunk());
                deliver(&mut phone, &bytes, &produced);
            }
        }
    }
}

/// An owner's update (an unrelated revocation) carried by an anonymous phone: the lock drops
/// the links it holds (spec 15.2).
fn drop_held_links(lock: &mut Lock<Mem>, rng: &mut ChaCha20Rng) {
    let mut update = [0u8; 256];
    let u = ConfigUpdate {
        lock: lock_id(),
        version: 1,
        signer: owner().public_key(),
        change: doorkey::config::Change::RevokeId {
            id: CredentialId([0xee; 16]),
            until: None,
        },
    }
    .sign(owner(), &mut update)
    .expect("update signs");
    let mut ch = [0u8; 256];
    let n = lock.challenge(PHONE_TICK, rng, &mut ch).expect("challenge");
    let mut open = [0u8; 512];
    let (_, m) = PhoneSession::open_anonymous(
        &ch[..n],
        &lock_id(),
        Command::Config(&update[..u]),
        rng,
        &mut open,
    )
    .expect("anonymous open");
    let mut out = [0u8; OUT_LEN];
    let o = lock
        .handle(PHONE_TICK, &mut open[..m], &mut out)
        .expect("the lock takes a genuine update");
    assert_eq!(o.denied, None, "a genuine update was refused");
}

/// Receipts and heads from arbitrary bytes: single verification, run verification and
/// decoding never panic; whatever parses re-encodes to the bytes it was parsed from, and
/// nothing verifies under the lock key unless the lock signed it.
pub fn receipt_decode(data: &[u8]) {
    use doorkey::receipt::{Head, Parsed, Receipt, RunVerifier, verify_one};
    let key = lock_key().public_key();
    let id = lock_id();
    if let Ok((p, rest)) = Parsed::<Receipt>::take(data) {
        let used = &data[..data.len() - rest.len()];
        let mut re = [0u8; 512];
        let n = p
            .body
            .sign(&id, &lock_key(), &mut re)
            .expect("a parsed receipt re-encodes");
        // The body re-encodes identically; the signature is the lock's own.
        assert_eq!(&re[..n - 64], p.signed);
        if p.verify(&key).is_ok() {
            assert_eq!(
                &re[..n],
                used,
                "a verified receipt is exactly what the lock signs"
            );
        }
    }
    if let Ok((p, _)) = Parsed::<Head>::take(data) {
        let mut re = [0u8; 512];
        let n = p
            .body
            .sign(&id, &lock_key(), &mut re)
            .expect("a parsed head re-encodes");
        assert_eq!(&re[..n - 64], p.signed);
    }
    let _ = verify_one(data, &key);
    let mut run = RunVerifier::anywhere(key);
    let _ = run.push(data);
    let _ = run.finish(data);
}

/// A receipt log fed arbitrary bundles (each behind a 2-byte little-endian length): it never panics,
/// stores only receipts the lock signed, and its audit is sorted and free of duplicates.
pub fn receipt_log(data: &[u8]) {
    use doorkey::receipt::verify_one;
    use doorkey::server::ReceiptLog;
    let key = lock_key().public_key();
    let mut log = ReceiptLog::new(key).expect("valid lock key");
    let mut rest = data;
    while let Some((len, tail)) = rest.split_first_chunk::<2>() {
        let (bundle, tail) = tail.split_at(usize::from(u16::from_le_bytes(*len)).min(tail.len()));
        log.ingest(bundle).expect("the memory store never fails");
        rest = tail;
    }
    for stored in log.receipts().expect("the memory store never fails") {
        assert_eq!(
            verify_one(&stored.bytes, &key).expect("stored receipts verify"),
            stored.receipt
        );
    }
    let audit = log.audit().expect("the memory store never fails");
    assert!(
        audit.windows(2).all(|w| w[0] < w[1]),
        "audit sorted and unique: {audit:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// wire_differential: the crate's strict postcard reader and writer against postcard itself.
// ---------------------------------------------------------------------------------------------

/// The first byte picks a wire type; the rest is decoded as that type by both the crate's
/// reader (`wire::take`) and postcard. The crate must accept exactly the canonical encodings
/// postcard accepts, decode them to the same value, and write postcard's bytes back.
pub fn wire_differential(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    match which % 10 {
        0 => differential::<Link>(body),
        1 => differential::<Receipt>(body),
        2 => differential::<Head>(body),
        3 => differential::<Command<'_>>(body),
        4 => differential::<Reply<'_>>(body),
        5 => differential::<Challenge>(body),
        6 => differential::<ConfigUpdate>(body),
        7 => differential::<TimeAnchor>(body),
        8 => differential::<doorkey::time::Schedule>(body),
        _ => differential::<(u64, i64, u16, i32, Option<u32>, bool, u8)>(body),
    }
}

fn differential<'a, T>(data: &'a [u8])
where
    T: serde::Deserialize<'a> + serde::Serialize + PartialEq + std::fmt::Debug,
{
    let ours = doorkey::wire::take::<T>(data);
    let reference = postcard::take_from_bytes::<T>(data);
    match (ours, reference) {
        (Ok((value, rest)), Ok((expected, postcard_rest))) => {
            assert_eq!(value, expected, "the two readers disagree on the value");
            assert_eq!(
                rest.len(),
                postcard_rest.len(),
                "the two readers disagree on the length"
            );
            let used = &data[..data.len() - rest.len()];
            assert_eq!(
                postcard::to_allocvec(&value).expect("encodes"),
                used,
                "accepted a non-canonical encoding"
            );
            let mut out = vec![0u8; used.len()];
            let n = doorkey::wire::put(&value, &mut out).expect("the crate's writer encodes");
            assert_eq!(&out[..n], used, "the crate's writer differs from postcard");
        }
        (Ok((value, _)), Err(e)) => panic!("accepted {value:?}, which postcard refuses ({e:?})"),
        (Err(e), Ok((value, postcard_rest))) => {
            let used = &data[..data.len() - postcard_rest.len()];
            assert_ne!(
                postcard::to_allocvec(&value).expect("encodes"),
                used,
                "refused ({e:?}) the canonical encoding of {value:?}"
            );
        }
        (Err(_), Err(_)) => {}
    }
}
