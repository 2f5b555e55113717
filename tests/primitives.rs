//! Primitive test vectors (Wycheproof, RFC 8032, RFC 7748, RFC 8439) run through doorkey's own
//! code paths: `PublicKey::verify_strict` and `SecretKey`/`Signer` for Ed25519,
//! `channel::agree` -> `SessionKeys::derive` -> `ChannelKey` for X25519, the same AEAD calls and
//! nonce layout as `ChannelKey` for ChaCha20-Poly1305, and `PublicKey::validate` (enrolment) for
//! every encoding of a small-order Edwards point.
//!
//! Where the crate's API cannot take a vector's inputs directly this file says so and shows the
//! link instead: `agree` only takes an `EphemeralSecret` (fed fixed bytes through a one-shot
//! "RNG", see [`FixedSecret`]), and a `ChannelKey` can only come out of the key schedule, so
//! the fixed-key AEAD vectors run through the same `chacha20poly1305` calls the channel makes and
//! a separate test proves `ChannelKey` is exactly that AEAD with `counter LE || 8 zero bytes`.

use chacha20::ChaCha20Rng;
use chacha20poly1305::aead::{AeadInOut, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce, Tag};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use doorkey::Error;
use doorkey::crypto::channel::{ChannelKey, SessionKeys, TAG_LEN, agree};
use doorkey::crypto::{PublicKey, SecretKey, Signature, Signer, hash, labels};
use doorkey::lock::Enrolment;
use rand_core::SeedableRng;
use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use wycheproof::TestResult;
use x25519_dalek::{EphemeralSecret, PublicKey as XPublic};

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn arr<const N: usize>(s: &str) -> [u8; N] {
    unhex(s).try_into().expect("hex of the wrong length")
}

// ---------------------------------------------------------------------------------------------
// Ed25519
// ---------------------------------------------------------------------------------------------

#[derive(Default, Debug)]
struct EdCounts {
    valid_accepted: usize,
    invalid_refused: usize,
    /// Invalid cases whose signature is not 64 bytes: `Signature` is `[u8; 64]`, so the crate
    /// cannot even be handed them (the wire decoders take exactly 64 bytes).
    invalid_wrong_sig_len: usize,
    /// Invalid cases whose key is not 32 bytes (`PublicKey` is `[u8; 32]`).
    invalid_wrong_key_len: usize,
    acceptable_refused: usize,
}

#[test]
fn wycheproof_ed25519_through_verify_strict() {
    use wycheproof::eddsa::{TestName, TestSet};
    let set = TestSet::load(TestName::Ed25519).unwrap();
    let mut by_result = BTreeMap::<&str, usize>::new();
    let mut c = EdCounts::default();
    for group in &set.test_groups {
        let key = <[u8; 32]>::try_from(group.key.pk.as_slice()).map(PublicKey);
        for t in &group.tests {
            *by_result.entry(result_name(t.result)).or_default() += 1;
            let id = t.tc_id;
            let Ok(key) = key else {
                // Not expressible: the crate has no way to hold a key of this length.
                assert_eq!(t.result, TestResult::Invalid, "tc {id}: wrong-length key");
                c.invalid_wrong_key_len += 1;
                continue;
            };
            let Ok(sig) = <[u8; 64]>::try_from(t.sig.as_slice()) else {
                assert_eq!(
                    t.result,
                    TestResult::Invalid,
                    "tc {id}: {}-byte signature marked {:?}",
                    t.sig.len(),
                    t.result
                );
                c.invalid_wrong_sig_len += 1;
                continue;
            };
            let got = key.verify_strict(&t.msg, &Signature(sig));
            match t.result {
                TestResult::Valid => {
                    assert_eq!(got, Ok(()), "tc {id} ({}) must verify", t.comment);
                    c.valid_accepted += 1;
                }
                TestResult::Invalid => {
                    assert_eq!(got, Err(Error::Crypto), "tc {id} ({}) must fail", t.comment);
                    c.invalid_refused += 1;
                }
                TestResult::Acceptable => {
                    // Wycheproof uses "acceptable" for EdDSA edge cases a lenient verifier may
                    // take (small-order R or A, non-canonical encodings). doorkey verifies every
                    // protocol signature strictly (`verify_strict`: no weak keys, no small-order
                    // R, canonical S), so it must refuse them: a signature that some verifiers
                    // accept and others refuse would let a lock and a server disagree.
                    assert_eq!(
                        got,
                        Err(Error::Crypto),
                        "tc {id} ({}) acceptable",
                        t.comment
                    );
                    c.acceptable_refused += 1;
                }
            }
        }
    }
    println!(
        "wycheproof ed25519 ({} cases, generator {:?}): {c:?}; by expected result {by_result:?}",
        set.number_of_tests, set.generator_version
    );
    let count = |r: &str| by_result.get(r).copied().unwrap_or(0);
    assert_eq!(c.valid_accepted, count("valid"));
    assert_eq!(
        c.invalid_refused + c.invalid_wrong_sig_len + c.invalid_wrong_key_len,
        count("invalid")
    );
    assert_eq!(c.acceptable_refused, count("acceptable"));
    assert_eq!(
        c.valid_accepted
            + c.invalid_refused
            + c.invalid_wrong_sig_len
            + c.invalid_wrong_key_len
            + c.acceptable_refused,
        set.number_of_tests
    );
    // Pin the set this was reviewed against (wycheproof 0.7): a data update that changes the
    // mix must be looked at, not silently absorbed.
    assert_eq!(set.number_of_tests, 151);
    assert_eq!(
        (c.valid_accepted, c.invalid_refused, c.invalid_wrong_sig_len),
        (88, 51, 12)
    );
    assert_eq!(c.invalid_wrong_key_len + c.acceptable_refused, 0);
}

fn result_name(r: TestResult) -> &'static str {
    match r {
        TestResult::Valid => "valid",
        TestResult::Invalid => "invalid",
        TestResult::Acceptable => "acceptable",
    }
}

/// RFC 8032 section 7.1: TEST 1, 2, 3 and TEST SHA(abc) as (seed, public key, message,
/// signature).
const RFC8032: [(&str, &str, &str, &str); 4] = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
    (
        "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
        "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
    ),
];

#[test]
fn rfc8032_ed25519_vectors_through_secret_key_and_verify_strict() {
    for (i, (seed, public, msg, sig)) in RFC8032.iter().enumerate() {
        let key = SecretKey::from_seed(&arr(seed));
        let public = PublicKey(arr(public));
        let msg = unhex(msg);
        let sig = Signature(arr(sig));
        assert_eq!(key.public_key(), public, "vector {i}: public key");
        assert_eq!(key.sign(&msg).unwrap(), sig, "vector {i}: signature");
        assert_eq!(public.verify_strict(&msg, &sig), Ok(()), "vector {i}");
        assert_eq!(public.validate(), Ok(()), "vector {i}: enrolable key");
        assert_eq!(*key.to_seed(), arr::<32>(seed));
        // Any single-bit change in the message or the signature is refused.
        let mut other = msg.clone();
        other.push(0);
        assert_eq!(public.verify_strict(&other, &sig), Err(Error::Crypto));
        for bit in 0..512 {
            let mut bad = sig;
            bad.0[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(public.verify_strict(&msg, &bad), Err(Error::Crypto));
        }
    }
    // The SHA(abc) vector's message is SHA-512("abc"): the crate's own hash agrees.
    assert_eq!(hex(&hash::<64>(&[b"abc"])), RFC8032[3].2);
}

// ---------------------------------------------------------------------------------------------
// Key enrolment: every encoding of a small-order point
// ---------------------------------------------------------------------------------------------

/// The prime order of the Ed25519 base point, little-endian.
const L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// The eight points of the torsion subgroup, derived rather than copied: `[L]P` is the torsion
/// component of any point `P`; the first one of order 8 generates the subgroup.
fn torsion_subgroup() -> Vec<EdwardsPoint> {
    let mut l_minus_1 = L;
    l_minus_1[0] -= 1;
    let l_minus_1 = Option::<Scalar>::from(Scalar::from_canonical_bytes(l_minus_1)).unwrap();
    let generator = (3u8..=255)
        .filter_map(|y| {
            let mut enc = [0u8; 32];
            enc[0] = y;
            CompressedEdwardsY(enc).decompress()
        })
        .map(|p| p * l_minus_1 + p)
        .find(|t| {
            let t2 = t + t;
            !(t2 + t2).is_identity()
        })
        .expect("some small y gives a point with an order-8 component");
    let mut points = vec![EdwardsPoint::default()];
    for _ in 1..8 {
        points.push(points.last().unwrap() + generator);
    }
    assert!(generator.mul_by_cofactor().is_identity());
    points
}

/// Every 32-byte string that decodes to a small-order point. An encoding is `y` (255 bits,
/// little-endian) plus the sign bit of `x`, so the non-canonical encodings are exactly: `y >= p`
/// (`y` in `p ..= 2^255 - 1`, either sign), and the sign bit set on a point with `x = 0`
/// (`y = 1` or `y = p - 1`). The canonical ones are the compressions of the torsion subgroup.
fn small_order_encodings() -> BTreeSet<[u8; 32]> {
    let decodes_small = |enc: &[u8; 32]| {
        CompressedEdwardsY(*enc)
            .decompress()
            .is_some_and(|p| p.is_small_order())
    };
    let mut all = BTreeSet::new();
    for t in torsion_subgroup() {
        assert!(t.is_small_order());
        let canonical = t.compress().to_bytes();
        all.insert(canonical);
        let mut flipped = canonical;
        flipped[31] ^= 0x80;
        if decodes_small(&flipped) {
            all.insert(flipped);
        }
    }
    // p = 2^255 - 19 is ed ff .. ff 7f; p + k for k = 0..=18 stays below 2^255.
    for k in 0u8..=18 {
        let mut y = [0xffu8; 32];
        y[0] = 0xed + k;
        y[31] = 0x7f;
        for sign in [0u8, 0x80] {
            let mut enc = y;
            enc[31] |= sign;
            if decodes_small(&enc) {
                all.insert(enc);
            }
        }
    }
    all
}

#[test]
fn enrolment_refuses_every_encoding_of_every_small_order_point() {
    let encodings = small_order_encodings();
    let mut non_canonical = Vec::new();
    for enc in &encodings {
        let point = CompressedEdwardsY(*enc).decompress().unwrap();
        let canonical = point.compress().to_bytes() == *enc;
        if !canonical {
            non_canonical.push(hex(enc));
        }
        assert_eq!(
            PublicKey(*enc).validate(),
            Err(Error::WeakKey),
            "{}",
            hex(enc)
        );
        let mut lock = Enrolment::new(SecretKey::from_seed(&[2; 32]).public_key());
        assert_eq!(lock.enrol_owner(PublicKey(*enc)), Err(Error::WeakKey));
        assert!(lock.owners().is_empty());
        println!(
            "small-order {} {}",
            hex(enc),
            if canonical {
                "canonical"
            } else {
                "NON-canonical"
            }
        );
    }
    // What the derivation finds (pinned so a reviewer can compare with the "Taming the many
    // EdDSAs" list): the 8 canonical encodings plus 6 non-canonical ones.
    assert_eq!(encodings.len(), 14);
    non_canonical.sort();
    assert_eq!(
        non_canonical,
        [
            // y = 1 (identity) with the sign bit set.
            "0100000000000000000000000000000000000000000000000000000000000080",
            // y = p - 1 (order 2) with the sign bit set.
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            // y = p (y = 0, order 4), both signs.
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            // y = p + 1 (identity), both signs.
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// X25519
// ---------------------------------------------------------------------------------------------

/// A one-shot "RNG" that hands out a fixed 32-byte X25519 private key, so that
/// `EphemeralSecret::random_from_rng` yields exactly that key and the Wycheproof/RFC vectors go
/// through `channel::agree` itself. Test-only: it panics on any draw other than the single
/// 32-byte `fill_bytes` that `EphemeralSecret` makes (so a change there is caught, not masked).
struct FixedSecret(Option<[u8; 32]>);

impl rand_core::TryRng for FixedSecret {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        unreachable!("EphemeralSecret draws its key with fill_bytes")
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        unreachable!("EphemeralSecret draws its key with fill_bytes")
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        let key = self.0.take().expect("a fixed secret is drawn once");
        dst.copy_from_slice(&key);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for FixedSecret {}

fn fixed_secret(key: [u8; 32]) -> EphemeralSecret {
    let mut rng = FixedSecret(Some(key));
    let secret = EphemeralSecret::random_from_rng(&mut rng);
    assert!(rng.0.is_none(), "the fixed key was not drawn");
    secret
}

/// The session key schedule re-implemented from docs (HKDF-SHA512, salt = session label,
/// IKM = X25519 output, info = transcript hash; phone-to-lock then lock-to-phone).
fn expected_keys(shared: &[u8; 32], transcript: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    let hk = hkdf::Hkdf::<sha2::Sha512>::new(Some(labels::SESSION), shared);
    let mut okm = [0u8; 64];
    hk.expand(transcript, &mut okm).unwrap();
    (okm[..32].try_into().unwrap(), okm[32..].try_into().unwrap())
}

/// The crate's nonce layout: `counter` little-endian, then eight zero bytes.
fn channel_nonce(counter: u32) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[..4].copy_from_slice(&counter.to_le_bytes());
    n
}

/// Does `key` seal exactly like raw ChaCha20-Poly1305 under `raw` with the crate's nonce layout?
/// Checked at a few counters, including both ends of the range.
fn is_channel_key(key: &ChannelKey, raw: &[u8; 32]) -> bool {
    [0u32, 1, 0x0102_0304, u32::MAX].iter().all(|&counter| {
        let msg = b"doorkey probe: open the front door";
        let aad = b"probe aad";
        let mut buf = [0u8; 64];
        buf[..msg.len()].copy_from_slice(msg);
        let n = key.seal(counter, aad, &mut buf, msg.len()).unwrap();
        let (ct, tag) = aead_seal(raw, &channel_nonce(counter), aad, msg);
        buf[..n] == [ct.as_slice(), tag.as_slice()].concat()
    })
}

#[derive(Default, Debug)]
struct XCounts {
    valid_agreed: usize,
    acceptable_agreed: usize,
    acceptable_refused_zero: usize,
    valid_refused_zero: usize,
}

#[test]
fn wycheproof_x25519_through_agree() {
    use wycheproof::xdh::{TestFlag, TestName, TestSet};
    let set = TestSet::load(TestName::X25519).unwrap();
    let transcript = [0x5a; 32];
    let mut c = XCounts::default();
    let mut low_order = BTreeSet::<[u8; 32]>::new();
    for group in &set.test_groups {
        for t in &group.tests {
            let id = t.tc_id;
            // Every X25519 case in the set has 32-byte keys; nothing to skip.
            let private: [u8; 32] = t.private_key.as_slice().try_into().unwrap();
            let public: [u8; 32] = t.public_key.as_slice().try_into().unwrap();
            let shared: [u8; 32] = t.shared_secret.as_slice().try_into().unwrap();
            assert_ne!(
                t.result,
                TestResult::Invalid,
                "tc {id}: no invalid X25519 cases"
            );
            // The bare function agrees with the vector...
            assert_eq!(x25519_dalek::x25519(private, public), shared, "tc {id}");
            // ...and so does the crate's agreement: it refuses exactly the all-zero outputs.
            let zero = shared == [0; 32];
            assert_eq!(
                zero,
                t.flags.contains(&TestFlag::ZeroSharedSecret),
                "tc {id}"
            );
            match agree(fixed_secret(private), &public) {
                Err(e) => {
                    assert_eq!(e, Error::Crypto, "tc {id}");
                    assert!(zero, "tc {id}: refused a contributory result");
                    low_order.insert(public);
                    match t.result {
                        TestResult::Valid => c.valid_refused_zero += 1,
                        _ => c.acceptable_refused_zero += 1,
                    }
                }
                Ok(key) => {
                    assert!(!zero, "tc {id}: accepted an all-zero shared secret");
                    let keys = SessionKeys::derive(key, &transcript);
                    let (p2l, l2p) = expected_keys(&shared, &transcript);
                    assert!(is_channel_key(&keys.phone_to_lock, &p2l), "tc {id}");
                    assert!(is_channel_key(&keys.lock_to_phone, &l2p), "tc {id}");
                    match t.result {
                        TestResult::Valid => c.valid_agreed += 1,
                        _ => c.acceptable_agreed += 1,
                    }
                }
            }
        }
    }
    println!(
        "wycheproof x25519 ({} cases): {c:?}; {} distinct low-order public keys",
        set.number_of_tests,
        low_order.len()
    );
    assert_eq!(
        c.valid_agreed + c.acceptable_agreed + c.acceptable_refused_zero + c.valid_refused_zero,
        set.number_of_tests
    );
    // Pinned against wycheproof 0.7: 264 valid, 254 acceptable (twist points, non-canonical
    // u, low-order u), of which the all-zero ones are refused.
    assert_eq!(set.number_of_tests, 518);
    assert_eq!(c.valid_agreed, 264);
    assert_eq!(c.valid_refused_zero, 0);
    assert_eq!((c.acceptable_agreed, c.acceptable_refused_zero), (223, 31));
    assert_eq!(low_order.len(), 14);

    // The low-order public keys are refused whatever our (random, ephemeral) secret is.
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    for public in &low_order {
        for _ in 0..8 {
            let secret = EphemeralSecret::random_from_rng(&mut rng);
            assert!(
                matches!(agree(secret, public), Err(Error::Crypto)),
                "{}",
                hex(public)
            );
        }
    }
}

#[test]
fn rfc7748_section_5_2_vectors() {
    let vectors = [
        (
            "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
            "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
        ),
        (
            "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
            "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957",
        ),
    ];
    let transcript = [0x11; 32];
    for (k, u, out) in vectors {
        let (k, u, out) = (arr(k), arr(u), arr(out));
        assert_eq!(x25519_dalek::x25519(k, u), out);
        // The same through the crate's agreement and key schedule.
        let keys = SessionKeys::derive(agree(fixed_secret(k), &u).unwrap(), &transcript);
        let (p2l, l2p) = expected_keys(&out, &transcript);
        assert!(is_channel_key(&keys.phone_to_lock, &p2l));
        assert!(is_channel_key(&keys.lock_to_phone, &l2p));
    }
    // The iterated test: k = u = 9, then (k, u) <- (x25519(k, u), k).
    let (mut k, mut u) = (
        x25519_dalek::X25519_BASEPOINT_BYTES,
        x25519_dalek::X25519_BASEPOINT_BYTES,
    );
    let mut step = || {
        let r = x25519_dalek::x25519(k, u);
        u = k;
        k = r;
        k
    };
    assert_eq!(
        hex(&step()),
        "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"
    );
    let mut last = [0; 32];
    for _ in 1..1000 {
        last = step();
    }
    assert_eq!(
        hex(&last),
        "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"
    );
}

#[test]
#[ignore = "1,000,000 X25519 operations; run with --ignored"]
fn rfc7748_section_5_2_million_iterations() {
    let (mut k, mut u) = (
        x25519_dalek::X25519_BASEPOINT_BYTES,
        x25519_dalek::X25519_BASEPOINT_BYTES,
    );
    for _ in 0..1_000_000 {
        let r = x25519_dalek::x25519(k, u);
        u = k;
        k = r;
    }
    assert_eq!(
        hex(&k),
        "7c3911e0ab2586fd864497297e575e6f3bc601c0883c30df5f4dd2d24f665424"
    );
}

#[test]
fn rfc7748_section_6_1_alice_and_bob_through_agree() {
    let alice_secret = arr("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    let alice_public = arr("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    let bob_secret = arr("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    let bob_public = arr("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    let shared: [u8; 32] = arr("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");

    // Public keys as the phone and lock compute theirs (`XPublic::from(&EphemeralSecret)`).
    assert_eq!(
        XPublic::from(&fixed_secret(alice_secret)).to_bytes(),
        alice_public
    );
    assert_eq!(
        XPublic::from(&fixed_secret(bob_secret)).to_bytes(),
        bob_public
    );
    assert_eq!(x25519_dalek::x25519(alice_secret, bob_public), shared);
    assert_eq!(x25519_dalek::x25519(bob_secret, alice_public), shared);

    let transcript = [0x22; 32];
    let alice = SessionKeys::derive(
        agree(fixed_secret(alice_secret), &bob_public).unwrap(),
        &transcript,
    );
    let bob = SessionKeys::derive(
        agree(fixed_secret(bob_secret), &alice_public).unwrap(),
        &transcript,
    );
    let (p2l, l2p) = expected_keys(&shared, &transcript);
    for keys in [&alice, &bob] {
        assert!(is_channel_key(&keys.phone_to_lock, &p2l));
        assert!(is_channel_key(&keys.lock_to_phone, &l2p));
    }
    // And the two ends interoperate through seal/open.
    let mut buf = [0u8; 32];
    buf[..5].copy_from_slice(b"hello");
    let n = alice.phone_to_lock.seal(3, b"aad", &mut buf, 5).unwrap();
    assert_eq!(
        bob.phone_to_lock.open(3, b"aad", &mut buf[..n]).unwrap(),
        b"hello"
    );
}

// ---------------------------------------------------------------------------------------------
// ChaCha20-Poly1305
// ---------------------------------------------------------------------------------------------

/// Seals with the exact calls `ChannelKey::seal` makes (detached, in place).
fn aead_seal(key: &[u8; 32], nonce: &[u8; 12], aad: &[u8], pt: &[u8]) -> (Vec<u8>, [u8; 16]) {
    let cipher = ChaCha20Poly1305::new(&(*key).into());
    let mut buf = pt.to_vec();
    let tag = cipher
        .encrypt_inout_detached(&Nonce::from(*nonce), aad, buf.as_mut_slice().into())
        .unwrap();
    (buf, tag.into())
}

/// Opens with the exact calls `ChannelKey::open` makes; `None` where it returns `Error::Crypto`.
fn aead_open(
    key: &[u8; 32],
    nonce: &[u8; 12],
    aad: &[u8],
    ct: &[u8],
    tag: &[u8],
) -> Option<Vec<u8>> {
    let tag = Tag::try_from(tag).ok()?;
    let cipher = ChaCha20Poly1305::new(&(*key).into());
    let mut buf = ct.to_vec();
    cipher
        .decrypt_inout_detached(&Nonce::from(*nonce), aad, buf.as_mut_slice().into(), &tag)
        .ok()?;
    Some(buf)
}

#[derive(Default, Debug)]
struct AeadCounts {
    valid_sealed_and_opened: usize,
    invalid_refused: usize,
    /// Invalid cases with a nonce other than 12 bytes: the crate's nonce is a fixed 12-byte
    /// array built from a counter, so it cannot express them.
    invalid_wrong_nonce_len: usize,
}

#[test]
fn wycheproof_chacha20poly1305_through_the_channel_aead_calls() {
    use wycheproof::aead::{TestName, TestSet};
    let set = TestSet::load(TestName::ChaCha20Poly1305).unwrap();
    let mut c = AeadCounts::default();
    for group in &set.test_groups {
        assert_eq!((group.key_size, group.tag_size), (256, 128));
        for t in &group.tests {
            let id = t.tc_id;
            let key: [u8; 32] = t.key.as_slice().try_into().unwrap();
            let Ok(nonce) = <[u8; 12]>::try_from(t.nonce.as_slice()) else {
                assert_eq!(t.result, TestResult::Invalid, "tc {id}");
                c.invalid_wrong_nonce_len += 1;
                continue;
            };
            let opened = aead_open(&key, &nonce, &t.aad, &t.ct, &t.tag);
            match t.result {
                TestResult::Valid => {
                    let (ct, tag) = aead_seal(&key, &nonce, &t.aad, &t.pt);
                    assert_eq!(
                        (ct.as_slice(), tag.as_slice()),
                        (&t.ct[..], &t.tag[..]),
                        "tc {id}"
                    );
                    assert_eq!(opened.as_deref(), Some(&t.pt[..]), "tc {id}");
                    c.valid_sealed_and_opened += 1;
                }
                TestResult::Invalid => {
                    assert_eq!(opened, None, "tc {id} ({})", t.comment);
                    c.invalid_refused += 1;
                }
                TestResult::Acceptable => panic!("tc {id}: no acceptable AEAD cases expected"),
            }
        }
    }
    println!(
        "wycheproof chacha20-poly1305 ({} cases): {c:?}",
        set.number_of_tests
    );
    assert_eq!(
        c.valid_sealed_and_opened + c.invalid_refused + c.invalid_wrong_nonce_len,
        set.number_of_tests
    );
    assert_eq!(set.number_of_tests, 325);
    assert_eq!(
        (
            c.valid_sealed_and_opened,
            c.invalid_refused,
            c.invalid_wrong_nonce_len
        ),
        (256, 60, 9)
    );
}

#[test]
fn rfc8439_section_2_8_2_aead_vector() {
    let key: [u8; 32] = arr("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    let nonce: [u8; 12] = arr("070000004041424344454647");
    let aad = unhex("50515253c0c1c2c3c4c5c6c7");
    let pt = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for \
               the future, sunscreen would be it.";
    let ct = unhex(
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da\
         92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585\
         808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116",
    );
    let tag: [u8; 16] = arr("1ae10b594f09e26a7e902ecbd0600691");
    assert_eq!(aead_seal(&key, &nonce, &aad, pt), (ct.clone(), tag));
    assert_eq!(
        aead_open(&key, &nonce, &aad, &ct, &tag).as_deref(),
        Some(&pt[..])
    );
    let mut bad = tag;
    bad[15] ^= 0x80;
    assert_eq!(aead_open(&key, &nonce, &aad, &ct, &bad), None);
}

#[test]
fn channel_key_is_the_aead_with_counter_nonces_and_refuses_any_bit_flip() {
    // Known shared secret (RFC 7748 section 6.1) so the expected keys can be computed.
    let alice = arr("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    let bob_public = arr("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    let shared = arr("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    let transcript = [0x33; 32];
    let keys = SessionKeys::derive(
        agree(fixed_secret(alice), &bob_public).unwrap(),
        &transcript,
    );
    let (p2l, l2p) = expected_keys(&shared, &transcript);
    // The comparison is not vacuous: the other direction's key does not pass for this one.
    assert!(is_channel_key(&keys.phone_to_lock, &p2l));
    assert!(!is_channel_key(&keys.phone_to_lock, &l2p));
    assert!(!is_channel_key(&keys.lock_to_phone, &p2l));

    let aad = b"doorkey/v1 header";
    for (counter, len) in [
        (0u32, 0usize),
        (1, 1),
        (7, 63),
        (0x8000_0000, 64),
        (u32::MAX, 200),
    ] {
        let msg: Vec<u8> = (0..len).map(|i| (i * 7 + 1) as u8).collect();
        let mut buf = vec![0u8; len + TAG_LEN];
        buf[..len].copy_from_slice(&msg);
        let n = keys
            .phone_to_lock
            .seal(counter, aad, &mut buf, len)
            .unwrap();
        assert_eq!(n, len + TAG_LEN);
        // Same bytes as the raw AEAD under the derived key with `counter LE || 0^8`.
        let (ct, tag) = aead_seal(&p2l, &channel_nonce(counter), aad, &msg);
        assert_eq!(buf, [ct.as_slice(), tag.as_slice()].concat());

        let mut copy = buf.clone();
        assert_eq!(
            keys.phone_to_lock.open(counter, aad, &mut copy).unwrap(),
            &msg[..]
        );
        // Any bit flip in ciphertext or tag is refused.
        for bit in 0..buf.len() * 8 {
            let mut bad = buf.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(
                keys.phone_to_lock.open(counter, aad, &mut bad),
                Err(Error::Crypto),
                "counter {counter} len {len} bit {bit}"
            );
        }
        // Any bit flip in the associated data is refused.
        for bit in 0..aad.len() * 8 {
            let mut bad_aad = *aad;
            bad_aad[bit / 8] ^= 1 << (bit % 8);
            let mut copy = buf.clone();
            assert_eq!(
                keys.phone_to_lock.open(counter, &bad_aad, &mut copy),
                Err(Error::Crypto)
            );
        }
        // Another counter, the other direction's key, or a truncation is refused.
        let mut copy = buf.clone();
        assert_eq!(
            keys.phone_to_lock
                .open(counter.wrapping_add(1), aad, &mut copy),
            Err(Error::Crypto)
        );
        let mut copy = buf.clone();
        assert_eq!(
            keys.lock_to_phone.open(counter, aad, &mut copy),
            Err(Error::Crypto)
        );
        let mut copy = buf.clone();
        assert_eq!(
            keys.phone_to_lock.open(counter, aad, &mut copy[..n - 1]),
            if n > TAG_LEN {
                Err(Error::Crypto)
            } else {
                Err(Error::Truncated)
            }
        );
    }
    // A buffer too small for the tag is refused without writing past it.
    let mut small = [0u8; 10];
    assert_eq!(
        keys.phone_to_lock.seal(0, aad, &mut small, 0),
        Err(Error::BufferTooSmall)
    );
}
