//! Key enrolment refuses weak (small-order), non-canonical and torsioned public keys; secret
//! keys never print.

mod common;

use curve25519_dalek::edwards::CompressedEdwardsY;
use doorkey::Error;
use doorkey::credential::Chain;
use doorkey::crypto::{PublicKey, SecretKey, Signature, Signer, hash};
use doorkey::lock::Enrolment;

fn hex32(s: &str) -> [u8; 32] {
    let v: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    v.try_into().unwrap()
}

/// The eight small-order points (their canonical encodings, as in the "Taming the many EdDSAs"
/// edge-case vectors), plus non-canonical encodings of small-order points.
const WEAK: [&str; 11] = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    // y = p + 1 (non-canonical identity) and y = p (non-canonical y = 0), both signs.
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
];

#[test]
fn enrolment_refuses_small_order_and_non_canonical_keys() {
    for hex in WEAK {
        let mut lock = Enrolment::new(common::key(2).public_key());
        assert_eq!(
            lock.enrol_owner(PublicKey(hex32(hex))),
            Err(Error::WeakKey),
            "{hex}"
        );
        assert!(lock.owners().is_empty());
    }
}

#[test]
fn enrolment_refuses_a_key_with_a_torsion_component() {
    let good = common::key(1).public_key();
    let a = CompressedEdwardsY(good.0).decompress().unwrap();
    let t = CompressedEdwardsY(hex32(WEAK[4])).decompress().unwrap();
    let torsioned = PublicKey((a + t).compress().to_bytes());
    assert_eq!(PublicKey(good.0).validate(), Ok(()));
    assert_eq!(torsioned.validate(), Err(Error::WeakKey));
    let mut lock = Enrolment::new(common::key(2).public_key());
    assert_eq!(lock.enrol_owner(torsioned), Err(Error::WeakKey));
}

#[test]
fn enrolment_refuses_bytes_that_are_not_a_point() {
    // y = 2 is not the y-coordinate of any curve point.
    let mut bytes = [0u8; 32];
    bytes[0] = 2;
    assert!(CompressedEdwardsY(bytes).decompress().is_none());
    assert_eq!(PublicKey(bytes).validate(), Err(Error::WeakKey));
}

#[test]
fn owners_are_deduplicated_and_bounded() {
    let mut lock = Enrolment::new(common::key(2).public_key());
    for seed in 10..14 {
        lock.enrol_owner(common::key(seed).public_key()).unwrap();
        lock.enrol_owner(common::key(seed).public_key()).unwrap();
    }
    assert_eq!(lock.owners().len(), 4);
    assert_eq!(
        lock.enrol_owner(common::key(14).public_key()),
        Err(Error::StorageFull)
    );
}

#[test]
fn secret_keys_are_redacted_and_compare_by_value() {
    let k = SecretKey::from_seed(&[0x5a; 32]);
    let shown = format!("{k:?}");
    assert!(
        !shown.contains("5a5a") && !shown.contains("90, 90"),
        "{shown}"
    );
    assert!(shown.contains("redacted"));
    assert_eq!(k, SecretKey::from_seed(&[0x5a; 32]));
    assert_ne!(k, SecretKey::from_seed(&[0x5b; 32]));
    assert_eq!(*k.to_seed(), [0x5a; 32]);
}

#[test]
fn signatures_are_strict_and_bound_to_the_message() {
    let k = common::key(7);
    let sig = k.sign(b"message").unwrap();
    assert_eq!(k.public_key().verify_strict(b"message", &sig), Ok(()));
    assert_eq!(
        k.public_key().verify_strict(b"messagf", &sig),
        Err(Error::Crypto)
    );
    // S + L (non-canonical scalar) is refused.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut malleated = sig;
    let mut carry = 0u16;
    for (byte, l) in malleated.0[32..].iter_mut().zip(L) {
        let s = *byte as u16 + l as u16 + carry;
        *byte = s as u8;
        carry = s >> 8;
    }
    assert_eq!(
        k.public_key().verify_strict(b"message", &malleated),
        Err(Error::Crypto)
    );
}

/// Everything that holds key material wipes it on drop: the AEAD cipher (chacha20poly1305's
/// `zeroize` feature), the SHA-512 states HKDF's HMAC keeps keyed with the PRK, and the seed a
/// caller exports. These bounds do not compile when a wipe is missing.
#[test]
fn key_material_wipes_itself_on_drop() {
    fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>(_: &T) {}
    use chacha20poly1305::KeyInit;
    wiped_on_drop(&chacha20poly1305::ChaCha20Poly1305::new(&[7u8; 32].into()));
    wiped_on_drop(&<sha2::Sha512 as sha2::Digest>::new());
    let seed: zeroize::Zeroizing<[u8; 32]> = SecretKey::from_seed(&[0x5a; 32]).to_seed();
    wiped_on_drop(&seed);
}

/// Signs with the fuzzing stand-in of `src/crypto/fuzzing.rs` (SHA-512 of its label, the
/// public key and the message), written out here from its definition.
struct CheapSigner(PublicKey);

impl Signer for CheapSigner {
    fn public_key(&self) -> PublicKey {
        self.0
    }

    fn sign(&self, message: &[u8]) -> doorkey::Result<Signature> {
        Ok(Signature(hash(&[
            b"doorkey/fuzz/signature\0",
            &self.0.0,
            message,
        ])))
    }
}

/// The cheap signature stand-in exists only in fuzz builds (`cfg(fuzzing)`): here signing is
/// Ed25519 and a stand-in signature, alone or inside a chain, is refused.
#[test]
fn the_fuzzing_signature_stand_in_is_absent() {
    let owner = common::key(1);
    let cheap = CheapSigner(owner.public_key());
    let message = b"doorkey";
    let forged = cheap.sign(message).unwrap();
    assert_ne!(owner.sign(message).unwrap(), forged);
    assert_eq!(
        owner.public_key().verify_strict(message, &forged),
        Err(Error::Crypto)
    );
    let mut w = common::World::new();
    let link = w.company_link();
    let genuine = Chain::root(&owner, &link).unwrap();
    let stand_in = Chain::root(&cheap, &link).unwrap();
    assert!(
        w.lock
            .verify_chain(genuine.as_bytes(), Some(common::T0), &())
            .is_ok()
    );
    assert_eq!(
        w.lock
            .verify_chain(stand_in.as_bytes(), Some(common::T0), &())
            .map(|_| ()),
        Err(Error::Crypto)
    );
}
