//! The random-number source every role takes as a parameter.

use core::convert::Infallible;
use core::fmt;

/// A cryptographically secure random-number source. doorkey only ever asks one to fill a
/// buffer, so firmware can hand over its hardware generator whatever `rand_core` version its
/// HAL is built on: implement this trait, or wrap a closure in [`FillBytes`].
///
/// Every `rand_core` 0.10 [`rand_core::CryptoRng`] is one already.
///
/// ```
/// use doorkey::{FillBytes, Rng};
///
/// // A HAL's TRNG, seen through a closure (here a fixed pattern, for the example only).
/// let mut trng = FillBytes(|buf: &mut [u8]| buf.fill(7));
/// let mut nonce = [0u8; 4];
/// trng.fill_bytes(&mut nonce);
/// assert_eq!(nonce, [7; 4]);
/// ```
pub trait Rng {
    /// Fills `dest` with random bytes. Must not fail: a generator that can fail halts or
    /// retries inside.
    fn fill_bytes(&mut self, dest: &mut [u8]);
}

impl<R: rand_core::CryptoRng + ?Sized> Rng for R {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand_core::Rng::fill_bytes(self, dest);
    }
}

/// A closure `FnMut(&mut [u8])` that fills buffers from a secure source, as an [`Rng`].
#[derive(Clone, Copy)]
pub struct FillBytes<F>(pub F);

impl<F: FnMut(&mut [u8])> Rng for FillBytes<F> {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        (self.0)(dest);
    }
}

impl<F> fmt::Debug for FillBytes<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FillBytes(..)")
    }
}

/// Lends an [`Rng`] to code that takes a `rand_core` generator (the X25519 ephemeral secret),
/// so ephemeral keys stay `EphemeralSecret`s: used once, never exported.
pub(crate) struct RandCore<'a, R: ?Sized>(pub(crate) &'a mut R);

impl<R: Rng + ?Sized> rand_core::TryRng for RandCore<'_, R> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.0.fill_bytes(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.0.fill_bytes(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Infallible> {
        self.0.fill_bytes(dest);
        Ok(())
    }
}

impl<R: Rng + ?Sized> rand_core::TryCryptoRng for RandCore<'_, R> {}
