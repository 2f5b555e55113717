//! Ed25519 signing and strict verification (RFC 8032) on curve25519-dalek's group, with the
//! scalar arithmetic modulo the group order done here in a few small loops.
//!
//! Why not `ed25519_dalek::SigningKey::sign` and `VerifyingKey::verify_strict`: their scalar
//! code is four fully unrolled 29-bit Montgomery multiplications, about 12 KB of a lock's flash.
//! Reducing a 512-bit hash modulo the group order needs only the schoolbook loop below
//! (TweetNaCl's `modL`), and a lock's signatures and verifications spend all but a few
//! thousandths of their time in the curve arithmetic, which stays curve25519-dalek's. Scalars
//! reach the curve through `Scalar::from_bits` (curve25519-dalek's `legacy_compatibility`),
//! which takes bytes as they are: every value given to it here is below the group order, either
//! reduced by [`reduce`] or checked by [`is_canonical`], and is used only for point
//! multiplication, the use that function is documented for.
//!
//! Semantics are ed25519-dalek's, byte for byte: signatures are identical to
//! `SigningKey::sign`, and `verify` accepts exactly what `VerifyingKey::verify_strict` accepts
//! (canonical S, no small-order A or R, R compared as a point). Tests hold both to it.

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::{Scalar, clamp_integer};
use sha2::{Digest, Sha512};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, Result};

/// The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian bytes.
const L: [i64; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// Reduces the 512-bit little-endian number held as 64 signed byte-sized limbs (each limb may
/// exceed a byte) modulo L, into canonical bytes. Branch-free and with data-independent memory
/// access, so it may see secrets: every step is a multiply, an add or an arithmetic shift.
fn mod_l(x: &mut [i64; 64]) -> [u8; 32] {
    // Fold each limb above 2^256 back in: 2^(8i) = 2^(8(i-32)) * 2^256, and 2^256 = -16 * (L -
    // 2^252) mod L, whose 20 nonzero low bytes are L[0..20].
    for i in (32..64).rev() {
        let mut carry = 0;
        for j in i - 32..i - 12 {
            x[j] += carry - 16 * x[i] * L[j - (i - 32)];
            carry = (x[j] + 128) >> 8;
            x[j] -= carry << 8;
        }
        x[i - 12] += carry;
        x[i] = 0;
    }
    // Now below about 2^257: subtract L times the bits from 2^252 up, then once more L times
    // the sign of what is left, which brings the value into 0..L.
    let mut carry = 0;
    for j in 0..32 {
        x[j] += carry - (x[31] >> 4) * L[j];
        carry = x[j] >> 8;
        x[j] &= 255;
    }
    for j in 0..32 {
        x[j] -= carry * L[j];
    }
    let mut out = [0u8; 32];
    for i in 0..32 {
        x[i + 1] += x[i] >> 8;
        // In 0..=255 by the mask.
        out[i] = (x[i] & 255) as u8;
    }
    x.zeroize();
    out
}

/// `wide` (a SHA-512 output, little-endian) modulo L.
pub(crate) fn reduce(wide: &[u8; 64]) -> [u8; 32] {
    let mut x = [0i64; 64];
    for (l, b) in x.iter_mut().zip(wide) {
        *l = i64::from(*b);
    }
    mod_l(&mut x)
}

/// `(a * b + c) mod L` for any 256-bit `a` and `b` and `c` below 2^256.
fn mul_add(a: &[u8; 32], b: &[u8; 32], c: &[u8; 32]) -> [u8; 32] {
    let mut x = [0i64; 64];
    for (l, v) in x.iter_mut().zip(c) {
        *l = i64::from(*v);
    }
    for (i, ai) in a.iter().enumerate() {
        for (j, bj) in b.iter().enumerate() {
            x[i + j] += i64::from(*ai) * i64::from(*bj);
        }
    }
    mod_l(&mut x)
}

/// SHA-512 of the concatenation of `head` then `tail`.
fn sha512(head: &[&[u8]], tail: &[&[u8]]) -> Zeroizing<[u8; 64]> {
    let mut h = Sha512::new();
    for p in head.iter().chain(tail) {
        h.update(p);
    }
    Zeroizing::new(h.finalize().into())
}

/// Whether the little-endian `s` is below L: a canonical scalar. Variable time: it only ever
/// sees a signature's public S.
fn is_canonical(s: &[u8; 32]) -> bool {
    for (b, l) in s.iter().zip(L).rev() {
        // L's bytes are below 256.
        let l = l as u8;
        if *b != l {
            return *b < l;
        }
    }
    false
}

/// The scalar of `s`, which the caller has reduced or checked to be below L.
fn scalar(s: [u8; 32]) -> Scalar {
    Scalar::from_bits(s)
}

/// The public key of the secret `seed`: its clamped SHA-512 half times the base point.
pub(crate) fn public_key(seed: &[u8; 32]) -> [u8; 32] {
    let expanded = sha512(&[seed], &[]);
    let mut lower = Zeroizing::new([0u8; 32]);
    lower.copy_from_slice(&expanded[..32]);
    EdwardsPoint::mul_base_clamped(*lower).compress().to_bytes()
}

/// RFC 8032 signature by the key whose 32-byte secret is `seed` and public key `public`,
/// over `message`.
pub(crate) fn sign(seed: &[u8; 32], public: &[u8; 32], message: &[u8]) -> Result<[u8; 64]> {
    let expanded = sha512(&[seed], &[]);
    let mut a = Zeroizing::new([0u8; 32]);
    a.copy_from_slice(&expanded[..32]);
    *a = clamp_integer(*a);
    let r = Zeroizing::new(reduce(&sha512(&[&expanded[32..], message], &[])));
    let big_r = (ED25519_BASEPOINT_POINT * scalar(*r)).compress().to_bytes();
    let k = reduce(&sha512(&[&big_r, public, message], &[]));
    let s = mul_add(&k, &a, &r);
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&big_r);
    sig[32..].copy_from_slice(&s);
    Ok(sig)
}

/// Strict verification of `sig` by `public` over `label || parts...`: refuses a
/// non-canonical S, an A or R that does not decode or has small order, and checks
/// `[S]B = R + [k]A` with R compared as a point, exactly as ed25519-dalek's `verify_strict`.
pub(crate) fn verify(
    public: &[u8; 32],
    label: &[u8],
    parts: &[&[u8]],
    sig: &[u8; 64],
) -> Result<()> {
    let (r_bytes, s_bytes) = sig.split_at(32);
    let s_bytes: [u8; 32] = s_bytes.try_into().map_err(|_| Error::Crypto)?;
    if !is_canonical(&s_bytes) {
        return Err(Error::Crypto);
    }
    let s = scalar(s_bytes);
    let a = decode_point(public)?;
    let r = decode_point(r_bytes)?;
    if a.is_small_order() || r.is_small_order() {
        return Err(Error::Crypto);
    }
    let k = scalar(reduce(&sha512(&[r_bytes, public, label], parts)));
    let expected = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &-a, &s);
    if expected == r {
        Ok(())
    } else {
        Err(Error::Crypto)
    }
}

/// The point a 32-byte encoding names, as curve25519-dalek decodes it.
fn decode_point(bytes: &[u8]) -> Result<EdwardsPoint> {
    CompressedEdwardsY::from_slice(bytes)
        .map_err(|_| Error::Crypto)?
        .decompress()
        .ok_or(Error::Crypto)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
    use proptest::prelude::*;

    fn dalek_reduce(wide: &[u8; 64]) -> [u8; 32] {
        Scalar::from_bytes_mod_order_wide(wide).to_bytes()
    }

    #[test]
    fn reduction_matches_at_the_edges() {
        let mut l = [0u8; 64];
        for (o, v) in l.iter_mut().zip(L) {
            *o = v as u8;
        }
        let mut l_minus_1 = l;
        l_minus_1[0] -= 1;
        let mut l_plus_1 = l;
        l_plus_1[0] += 1;
        let mut two_l = [0u8; 64];
        let mut carry = 0u16;
        for (o, v) in two_l.iter_mut().zip(l) {
            let t = 2 * u16::from(v) + carry;
            *o = t as u8;
            carry = t >> 8;
        }
        for wide in [[0u8; 64], [0xff; 64], l, l_minus_1, l_plus_1, two_l] {
            assert_eq!(reduce(&wide), dalek_reduce(&wide), "{wide:02x?}");
        }
        assert_eq!(reduce(&l), [0; 32]);
        assert_eq!(reduce(&l_plus_1)[0], 1);
    }

    #[test]
    fn canonical_means_below_the_group_order() {
        let mut l = [0u8; 32];
        for (o, v) in l.iter_mut().zip(L) {
            *o = v as u8;
        }
        let mut below = l;
        below[0] -= 1;
        let mut high = [0u8; 32];
        high[31] = 0x10;
        for (s, want) in [
            ([0; 32], true),
            (below, true),
            (l, false),
            ([0xff; 32], false),
        ] {
            assert_eq!(is_canonical(&s), want, "{s:02x?}");
            assert_eq!(bool::from(Scalar::from_canonical_bytes(s).is_some()), want);
        }
        // Equal top bytes decide on the first lower byte that differs.
        let mut above = l;
        above[5] += 1;
        assert!(!is_canonical(&above));
        assert!(is_canonical(&high), "2^252 is below L");
    }

    #[test]
    fn public_keys_are_ed25519_daleks() {
        for seed in [[0u8; 32], [1; 32], [0xff; 32], [0x5a; 32]] {
            let theirs = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
            assert_eq!(public_key(&seed), theirs);
        }
    }

    #[test]
    fn signatures_are_ed25519_daleks_and_verify_as_its_strict_check_does() {
        for seed in 0..=255u8 {
            let key = SigningKey::from_bytes(&[seed; 32]);
            let public = key.verifying_key().to_bytes();
            let message = [seed; 37];
            let ours = sign(&[seed; 32], &public, &message).unwrap();
            assert_eq!(ours, key.sign(&message).to_bytes(), "seed {seed}");
            assert_eq!(
                verify(&public, &message[..5], &[&message[5..]], &ours),
                Ok(())
            );
        }
    }

    #[test]
    fn a_signature_over_other_bytes_or_by_another_key_is_refused() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let public = key.verifying_key().to_bytes();
        let sig = sign(&[1; 32], &public, b"open").unwrap();
        assert_eq!(verify(&public, b"opem", &[], &sig), Err(Error::Crypto));
        let other = SigningKey::from_bytes(&[2; 32]).verifying_key().to_bytes();
        assert_eq!(verify(&other, b"open", &[], &sig), Err(Error::Crypto));
        for i in [0, 31, 32, 63] {
            let mut bad = sig;
            bad[i] ^= 1;
            assert_eq!(
                verify(&public, b"op", &[b"en"], &bad),
                Err(Error::Crypto),
                "byte {i}"
            );
        }
    }

    /// The identity point's encoding: small order, and a valid point.
    const IDENTITY: [u8; 32] = {
        let mut b = [0u8; 32];
        b[0] = 1;
        b
    };

    #[test]
    fn a_small_order_key_is_refused_even_when_the_equation_holds() {
        // A = identity: [k]A vanishes, so any R = [s]B satisfies [s]B = R + [k]A.
        let s = Scalar::from_bytes_mod_order([9; 32]);
        let r = (ED25519_BASEPOINT_POINT * s).compress().to_bytes();
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&r);
        sig[32..].copy_from_slice(s.as_bytes());
        let lax = -decode_point(&IDENTITY).unwrap();
        let k = scalar(reduce(&sha512(&[&r, &IDENTITY, b"m"], &[])));
        let holds = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &lax, &s);
        assert_eq!(
            holds.compress().to_bytes(),
            r,
            "the equation alone accepts it"
        );
        assert_eq!(verify(&IDENTITY, b"m", &[], &sig), Err(Error::Crypto));
    }

    #[test]
    fn a_small_order_r_is_refused_even_when_the_key_holder_makes_the_equation_hold() {
        // R = identity and S = k * a: [S]B = [k]A = R + [k]A, a signature only the key's
        // holder can make, and one strict verification refuses.
        let seed = [3; 32];
        let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
        let expanded = sha512(&[&seed], &[]);
        let mut a = [0u8; 32];
        a.copy_from_slice(&expanded[..32]);
        let a = clamp_integer(a);
        let k = reduce(&sha512(&[&IDENTITY, &public, b"m"], &[]));
        let s = mul_add(&k, &a, &[0; 32]);
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(&IDENTITY);
        sig[32..].copy_from_slice(&s);
        let big_a = decode_point(&public).unwrap();
        let holds =
            EdwardsPoint::vartime_double_scalar_mul_basepoint(&scalar(k), &-big_a, &scalar(s));
        assert_eq!(
            holds.compress().to_bytes(),
            IDENTITY,
            "the equation alone accepts it"
        );
        assert_eq!(verify(&public, b"m", &[], &sig), Err(Error::Crypto));
    }

    proptest! {
        #[test]
        fn reduction_matches_curve25519_dalek(wide in proptest::array::uniform32(any::<u8>())
            .prop_flat_map(|lo| proptest::array::uniform32(any::<u8>()).prop_map(move |hi| {
                let mut w = [0u8; 64];
                w[..32].copy_from_slice(&lo);
                w[32..].copy_from_slice(&hi);
                w
            }))) {
            prop_assert_eq!(reduce(&wide), dalek_reduce(&wide));
        }

        #[test]
        fn mul_add_matches_curve25519_dalek(
            a in proptest::array::uniform32(any::<u8>()),
            b in proptest::array::uniform32(any::<u8>()),
            c in proptest::array::uniform32(any::<u8>()),
        ) {
            let want = Scalar::from_bytes_mod_order(a) * Scalar::from_bytes_mod_order(b)
                + Scalar::from_bytes_mod_order(c);
            prop_assert_eq!(mul_add(&a, &b, &c), want.to_bytes());
        }

        #[test]
        fn signing_and_strict_verification_match_ed25519_dalek(
            seed in proptest::array::uniform32(any::<u8>()),
            message in proptest::collection::vec(any::<u8>(), 0..300),
            flip in any::<(u8, u8)>(),
        ) {
            let key = SigningKey::from_bytes(&seed);
            let public = key.verifying_key().to_bytes();
            let ours = sign(&seed, &public, &message).unwrap();
            prop_assert_eq!(ours, key.sign(&message).to_bytes());
            // A flipped bit anywhere in the signature: the same verdict as verify_strict.
            let mut sig = ours;
            sig[usize::from(flip.0 % 64)] ^= 1 << (flip.1 % 8);
            let theirs = VerifyingKey::from_bytes(&public)
                .unwrap()
                .verify_strict(&message, &ed25519_dalek::Signature::from_bytes(&sig))
                .is_ok();
            prop_assert_eq!(verify(&public, &message, &[], &sig).is_ok(), theirs);
        }
    }
}
