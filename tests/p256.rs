//! P-256 holder keys (PROTOCOL 3.8, 5.3, 12.5): sessions end to end, the low-S policy, the
//! leaf-only rule, issuance refusals, and Wycheproof's ECDSA P-256 cases through the lock's
//! verification path.
#![cfg(feature = "p256")]

mod common;

use common::*;
use doorkey::Error;
use doorkey::credential::{Chain, Link, Rights, UnverifiedChain};
use doorkey::crypto::{
    HolderSigner, P256DeviceKey, P256PublicKey, Signature, Signer, SubjectKey,
    p256_signature_from_der,
};
use doorkey::lock::{Action, Lock};
use doorkey::phone::Credential;
use doorkey::session::Command;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use proptest::prelude::*;
use sha2::{Digest, Sha256};

/// The order n of the P-256 group, big-endian.
const N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];
/// floor(n / 2): an s above it is high.
const HALF_N: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
];

fn device(seed: u8) -> P256DeviceKey {
    P256DeviceKey::from_bytes(&[seed; 32]).unwrap()
}

/// n - s, big-endian (s in 1..n).
fn negate(s: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(N[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        out[i] = (d + 256 * borrow) as u8;
    }
    out
}

fn is_high(s: &[u8]) -> bool {
    s > &HALF_N[..]
}

/// A holder signer that names one key and signs with another, or flips S to n - S.
struct Forged<'a> {
    claims: SubjectKey,
    key: &'a P256DeviceKey,
    high_s: bool,
}

impl HolderSigner for Forged<'_> {
    fn holder_key(&self) -> SubjectKey {
        self.claims
    }

    fn sign_holder(&self, message: &[u8]) -> doorkey::Result<Signature> {
        let mut sig = self.key.sign_holder(message)?;
        if self.high_s {
            let s = negate(&sig.0[32..]);
            sig.0[32..].copy_from_slice(&s);
        }
        Ok(sig)
    }
}

/// A permanent owner -> company link (delegating one level) and the chain of it.
fn company_chain(w: &mut World) -> Chain {
    let link = Link::builder(
        w.company.public_key(),
        Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE),
    )
    .locks(&[w.lock_id()])
    .depth(1)
    .build(&mut w.rng)
    .unwrap();
    Chain::root(&w.owner, &link).unwrap()
}

/// The company's permanent unlock-and-lock grant to `holder`.
fn grant(w: &mut World, holder: impl Into<SubjectKey>) -> Chain {
    let root = company_chain(w);
    let leaf = Link::builder(holder, Rights::UNLOCK.union(Rights::LOCK))
        .build(&mut w.rng)
        .unwrap();
    root.extend(&w.company, &leaf).unwrap()
}

/// What the lock did with one open by `signer` presenting `chain`.
fn open_with(
    lock: &mut Lock<Mem>,
    w: &mut World,
    at: u64,
    chain: &[u8],
    signer: impl HolderSigner,
) -> (Action, Option<Error>, usize) {
    let credential = Credential::new(chain, signer).unwrap();
    let (_, open, outcome, _) = visit(lock, tick(at), &credential, Command::Unlock, &mut w.rng);
    (outcome.action, outcome.denied, open.len())
}

#[test]
fn a_p256_holder_opens_and_the_fast_path_carries_its_leaf() {
    let mut w = World::new();
    let mut lock = install(&w);
    let phone = device(40);
    let chain = grant(&mut w, phone.public_key());
    let decoded = UnverifiedChain::decode(chain.as_bytes()).unwrap();
    assert_eq!(decoded.leaf().subject, SubjectKey::P256(phone.public_key()));

    let (action, denied, full) = open_with(&mut lock, &mut w, 1, chain.as_bytes(), &phone);
    assert_eq!((action, denied), (Action::Unlock, None));
    // The second visit sends the leaf alone against the company link the lock now holds.
    let (action, denied, short) = open_with(&mut lock, &mut w, 2, chain.as_bytes(), &phone);
    assert_eq!((action, denied), (Action::Unlock, None));
    assert!(short < full, "short form {short} bytes, full {full}");
}

#[test]
fn a_one_link_chain_to_a_p256_holder_opens() {
    let mut w = World::new();
    let mut lock = install(&w);
    let phone = device(41);
    let link = Link::builder(phone.public_key(), Rights::UNLOCK)
        .locks(&[w.lock_id()])
        .build(&mut w.rng)
        .unwrap();
    let chain = Chain::root(&w.owner, &link).unwrap();
    let (action, denied, _) = open_with(&mut lock, &mut w, 1, chain.as_bytes(), &phone);
    assert_eq!((action, denied), (Action::Unlock, None));
}

#[test]
fn a_high_s_holder_signature_is_refused_though_ecdsa_accepts_it() {
    let mut w = World::new();
    let mut lock = install(&w);
    let phone = device(42);
    let chain = grant(&mut w, phone.public_key());
    let high = Forged {
        claims: phone.holder_key(),
        key: &phone,
        high_s: true,
    };
    // The malleated signature is valid ECDSA: the refusal is the low-S policy alone.
    let sig = high.sign_holder(b"message").unwrap();
    assert!(is_high(&sig.0[32..]));
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&phone.public_key().0).unwrap();
    let plain = p256::ecdsa::Signature::from_slice(&sig.0).unwrap();
    key.verify_prehash(&Sha256::digest(b"message"), &plain)
        .unwrap();

    let (action, denied, _) = open_with(&mut lock, &mut w, 1, chain.as_bytes(), high);
    assert_eq!((action, denied), (Action::None, Some(Error::Crypto)));
    // The same signer without the flip opens: the control.
    let low = Forged {
        claims: phone.holder_key(),
        key: &phone,
        high_s: false,
    };
    let (action, denied, _) = open_with(&mut lock, &mut w, 2, chain.as_bytes(), low);
    assert_eq!((action, denied), (Action::Unlock, None));
}

#[test]
fn a_p256_grant_signed_by_another_key_is_refused() {
    let mut w = World::new();
    let mut lock = install(&w);
    let phone = device(43);
    let thief = device(44);
    let chain = grant(&mut w, phone.public_key());
    let copied = Forged {
        claims: phone.holder_key(),
        key: &thief,
        high_s: false,
    };
    let (action, denied, _) = open_with(&mut lock, &mut w, 1, chain.as_bytes(), copied);
    assert_eq!((action, denied), (Action::None, Some(Error::Crypto)));
    // An Ed25519 key's signature under a P-256 leaf fails too.
    let (action, denied, _) = open_with(
        &mut lock,
        &mut w,
        2,
        chain.as_bytes(),
        EdClaiming(phone.holder_key()),
    );
    assert_eq!((action, denied), (Action::None, Some(Error::Crypto)));
}

/// An Ed25519 key's signature offered for a P-256 holder.
struct EdClaiming(SubjectKey);

impl HolderSigner for EdClaiming {
    fn holder_key(&self) -> SubjectKey {
        self.0
    }

    fn sign_holder(&self, message: &[u8]) -> doorkey::Result<Signature> {
        key(45).sign(message)
    }
}

/// A compressed point whose x is not on the curve, found with the `p256` crate as the oracle.
fn off_curve() -> P256PublicKey {
    (0u8..=255)
        .map(|i| {
            let mut b = [i; 33];
            b[0] = 0x02;
            b
        })
        .find(|b| p256::ecdsa::VerifyingKey::from_sec1_bytes(b).is_err())
        .map(P256PublicKey)
        .unwrap()
}

#[test]
fn a_leaf_naming_a_point_off_the_curve_is_refused_as_a_weak_key() {
    let mut w = World::new();
    let bad = off_curve();
    let built = Link::builder(bad, Rights::UNLOCK)
        .locks(&[w.lock_id()])
        .build(&mut w.rng);
    assert_eq!(built.err(), Some(Error::WeakKey));
    let mut link = Link::builder(device(46).public_key(), Rights::UNLOCK)
        .locks(&[w.lock_id()])
        .build(&mut w.rng)
        .unwrap();
    link.subject = bad.into();
    assert_eq!(Chain::root(&w.owner, &link).err(), Some(Error::WeakKey));

    // Signed by hand, the chain reaches a lock, which refuses it at the holder signature.
    let raw = raw_chain(&w.owner.public_key(), &[(&w.owner, link)]);
    let mut lock = install(&w);
    let phone = device(46);
    let claims = Forged {
        claims: bad.into(),
        key: &phone,
        high_s: false,
    };
    let (action, denied, _) = open_with(&mut lock, &mut w, 1, &raw, claims);
    assert_eq!((action, denied), (Action::None, Some(Error::WeakKey)));
}

#[test]
fn a_p256_subject_may_not_delegate() {
    let mut w = World::new();
    let phone = device(47);
    // The builder refuses a P-256 subject with a depth, as the lock would.
    let delegating = Link::builder(phone.public_key(), Rights::UNLOCK.union(Rights::DELEGATE))
        .locks(&[w.lock_id()])
        .depth(1)
        .build(&mut w.rng);
    assert_eq!(delegating.err(), Some(Error::Misuse));

    let owner = w.owner.public_key();
    let root = Link::builder(
        w.company.public_key(),
        Rights::UNLOCK.union(Rights::DELEGATE),
    )
    .locks(&[w.lock_id()])
    .depth(1)
    .build(&mut w.rng)
    .unwrap();
    let leaf = Link::builder(key(48).public_key(), Rights::UNLOCK)
        .build(&mut w.rng)
        .unwrap();
    // A P-256 subject with a depth: refused when decoding, wherever it sits.
    let mut deep = root;
    deep.subject = phone.public_key().into();
    let raw = raw_chain(&owner, &[(&w.owner, deep)]);
    assert_eq!(UnverifiedChain::decode(&raw).err(), Some(Error::Malformed));
    // A P-256 subject of depth 0 on a link that is not the last: refused when decoding too
    // (the lock's first step, 7.2), before any signature: no child's could be checked
    // against it.
    let mut middle = root;
    middle.subject = phone.public_key().into();
    middle.depth = 0;
    let raw = raw_chain(&owner, &[(&w.owner, middle), (&w.company, leaf)]);
    assert_eq!(UnverifiedChain::decode(&raw).err(), Some(Error::Malformed));
    // A chain cannot be extended under a P-256 leaf either.
    let chain = grant(&mut w, phone.public_key());
    assert_eq!(chain.extend(&key(48), &leaf).err(), Some(Error::Misuse));
}

#[test]
fn a_subject_encodes_as_its_tag_and_key() {
    let mut w = World::new();
    let phone = device(49);
    let ed = Link::builder(w.courier.public_key(), Rights::UNLOCK)
        .locks(&[w.lock_id()])
        .build(&mut w.rng)
        .unwrap();
    let mut p = ed;
    p.subject = phone.public_key().into();
    let ed_bytes = postcard::to_allocvec(&ed).unwrap();
    let p_bytes = postcard::to_allocvec(&p).unwrap();
    assert_eq!(ed_bytes[0], 0);
    assert_eq!(ed_bytes[1..33], w.courier.public_key().0);
    assert_eq!(p_bytes[0], 1);
    assert_eq!(p_bytes[1..34], phone.public_key().0);
    assert_eq!(p_bytes[34..], ed_bytes[33..]);
    // Any prefix but 02 or 03 is refused when decoding.
    for prefix in [0x00, 0x04, 0x05] {
        let mut bad = p_bytes.clone();
        bad[1] = prefix;
        assert_eq!(
            doorkey::wire::take_all::<Link>(&bad).err(),
            Some(Error::Malformed),
            "prefix {prefix:02x}"
        );
    }
    assert_eq!(doorkey::wire::take_all::<Link>(&p_bytes).unwrap(), p);
}

#[test]
fn a_key_from_sec1_is_kept_compressed() {
    let phone = device(50);
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&phone.public_key().0).unwrap();
    let uncompressed = key.to_sec1_point(false);
    assert_eq!(uncompressed.as_bytes().len(), 65);
    assert_eq!(
        P256PublicKey::from_sec1_bytes(uncompressed.as_bytes()),
        Ok(phone.public_key())
    );
    assert_eq!(
        P256PublicKey::from_sec1_bytes(&phone.public_key().0),
        Ok(phone.public_key())
    );
    assert_eq!(
        P256PublicKey::from_sec1_bytes(&off_curve().0),
        Err(Error::WeakKey)
    );
    assert_eq!(P256PublicKey::from_sec1_bytes(&[0]), Err(Error::WeakKey));
    assert_eq!(
        P256PublicKey::from_sec1_bytes(&[0x02; 32]),
        Err(Error::WeakKey)
    );
    assert_eq!(
        format!("{:?}", device(51)),
        format!(
            "P256DeviceKey({:?}, secret redacted)",
            device(51).public_key()
        )
    );
    assert_eq!(
        P256DeviceKey::from_bytes(&[0; 32]).err(),
        Some(Error::Misuse)
    );
    assert_eq!(P256DeviceKey::from_bytes(&N).err(), Some(Error::Misuse));
}

/// Minimal DER of an ECDSA signature, written from X.690 independently of the decoder.
fn der(r: &[u8], s: &[u8]) -> Vec<u8> {
    let int = |v: &[u8]| {
        let mut v: Vec<u8> = v.iter().copied().skip_while(|b| *b == 0).collect();
        if v.is_empty() || v[0] & 0x80 != 0 {
            v.insert(0, 0);
        }
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    };
    let body = [int(r), int(s)].concat();
    [vec![0x30, body.len() as u8], body].concat()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A software key's signatures are low S, verify, and fail under any changed byte.
    #[test]
    fn software_signatures_verify_and_are_low_s(
        seed in 1u8..=254,
        msg in proptest::collection::vec(any::<u8>(), 0..64),
        flip in 0usize..64,
    ) {
        let phone = device(seed);
        let sig = phone.sign_holder(&msg).unwrap();
        prop_assert!(!is_high(&sig.0[32..]));
        let key = phone.holder_key();
        prop_assert_eq!(key.verify(b"", &[&msg], &sig), Ok(()));
        let mut bad = sig;
        bad.0[flip] ^= 1;
        prop_assert_eq!(key.verify(b"", &[&msg], &bad), Err(Error::Crypto));
    }

    /// A keystore's DER signature, with either S, converts to the wire's low-S signature.
    #[test]
    fn der_signatures_convert_to_low_s(
        seed in 1u8..=254,
        msg in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let phone = device(seed);
        let sig = phone.sign_holder(&msg).unwrap();
        let (r, s) = sig.0.split_at(32);
        prop_assert_eq!(p256_signature_from_der(&der(r, s)), Ok(sig));
        prop_assert_eq!(p256_signature_from_der(&der(r, &negate(s))), Ok(sig));
    }
}

#[test]
fn der_parsing_is_strict() {
    let phone = device(52);
    let sig = phone.sign_holder(b"m").unwrap();
    let (r, s) = sig.0.split_at(32);
    let good = der(r, s);
    assert_eq!(p256_signature_from_der(&good), Ok(sig));
    let int = |bytes: &[u8]| [&[0x02, bytes.len() as u8][..], bytes].concat();
    let seq = |body: &[u8]| [&[0x30, body.len() as u8][..], body].concat();
    let one = int(&[1]);
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("trailing byte", [&good[..], &[0]].concat()),
        ("truncated", good[..good.len() - 1].to_vec()),
        ("set tag", [&[0x31], &good[1..]].concat()),
        (
            "long-form length",
            [&[0x30, 0x81, good[1]], &good[2..]].concat(),
        ),
        ("zero r", seq(&[int(&[0]), one.clone()].concat())),
        ("zero s", seq(&[one.clone(), int(&[0])].concat())),
        ("empty integer", seq(&[int(&[]), one.clone()].concat())),
        ("negative r", seq(&[int(&[0x80]), one.clone()].concat())),
        ("padded r", seq(&[int(&[0, 1]), one.clone()].concat())),
        (
            "r = n",
            seq(&[int(&[&[0][..], &N].concat()), one.clone()].concat()),
        ),
        (
            "s = n",
            seq(&[one.clone(), int(&[&[0][..], &N].concat())].concat()),
        ),
        ("33-byte r", seq(&[int(&[1; 33]), one.clone()].concat())),
        ("one integer", seq(&one)),
        (
            "three integers",
            seq(&[one.clone(), one.clone(), one.clone()].concat()),
        ),
        (
            "octet string r",
            seq(&[vec![0x04, 1, 1], one.clone()].concat()),
        ),
    ];
    // A length past the end of the sequence.
    let mut long = good.clone();
    long[1] += 1;
    cases.push(("length past the end", long));
    for (name, bytes) in cases {
        assert_eq!(
            p256_signature_from_der(&bytes),
            Err(Error::Malformed),
            "{name}"
        );
    }
    // The smallest values are fine (and r = s = 1 is low S).
    let small = p256_signature_from_der(&seq(&[one.clone(), one.clone()].concat())).unwrap();
    let mut expected = [0u8; 64];
    expected[31] = 1;
    expected[63] = 1;
    assert_eq!(small.0, expected);
}

#[derive(Debug, Default)]
struct Counts {
    valid_accepted: usize,
    valid_high_s_refused: usize,
    invalid_refused: usize,
    acceptable_refused: usize,
}

/// Every case of Wycheproof's ECDSA P-256 SHA-256 P1363 set through the lock's holder
/// verification (`SubjectKey::verify` with an empty label, so the signed bytes are the
/// message): valid cases pass exactly when S is low, the rest are always refused.
#[test]
fn wycheproof_ecdsa_p256_sha256_p1363_through_the_holder_check() {
    use wycheproof::TestResult;
    use wycheproof::ecdsa::{TestName, TestSet};
    let set = TestSet::load(TestName::EcdsaSecp256r1Sha256P1363).unwrap();
    let mut c = Counts::default();
    let mut total = 0;
    for group in &set.test_groups {
        let key = P256PublicKey::from_sec1_bytes(&group.key.key).map(SubjectKey::P256);
        for t in &group.tests {
            total += 1;
            let id = t.tc_id;
            let verdict = match (&key, <[u8; 64]>::try_from(t.sig.as_slice())) {
                (Ok(key), Ok(sig)) => key.verify(b"", &[&t.msg], &Signature(sig)),
                (Err(e), _) => Err(*e),
                (_, Err(_)) => Err(Error::Crypto),
            };
            match t.result {
                TestResult::Valid if is_high(&t.sig[32..]) => {
                    assert_eq!(verdict, Err(Error::Crypto), "tc {id}: high S");
                    c.valid_high_s_refused += 1;
                }
                TestResult::Valid => {
                    assert_eq!(verdict, Ok(()), "tc {id}: {}", t.comment);
                    c.valid_accepted += 1;
                }
                TestResult::Invalid => {
                    assert!(verdict.is_err(), "tc {id}: {}", t.comment);
                    c.invalid_refused += 1;
                }
                TestResult::Acceptable => {
                    assert!(verdict.is_err(), "tc {id}: {}", t.comment);
                    c.acceptable_refused += 1;
                }
            }
        }
    }
    println!("wycheproof ecdsa p256 sha256 p1363 ({total} cases): {c:?}");
    assert_eq!(total, set.number_of_tests);
    assert_eq!(
        c.valid_accepted + c.valid_high_s_refused + c.invalid_refused + c.acceptable_refused,
        total
    );
    // Both policies are exercised: low-S valid signatures pass, high-S ones are refused.
    assert!(
        c.valid_accepted > 100 && c.valid_high_s_refused > 50,
        "{c:?}"
    );
}
