//! The device key: implemented by the app over its platform keystore, so the key never enters
//! Rust memory, and adapted here to the core's [`doorkey::crypto::Signer`].
//!
//! This file is the one place that knows holder-key algorithms: a P-256 holder key is named
//! but refused ([`DoorkeyError::UnsupportedAlgorithm`]) until the core verifies P-256 holders.
//! Then [`holder_key`] accepts its 65-byte point, [`DeviceKey`] keeps the algorithm, and
//! [`Signing`] turns the keystore's DER signature into the core's holder signature.

use std::cell::Cell;
use std::sync::Arc;

use doorkey::crypto::{PublicKey, Signature, Signer};

use crate::error::{DoorkeyError, Result, SignerError};

/// The algorithm of a device key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum KeyAlgorithm {
    /// Ed25519: a 32-byte public key, 64-byte signatures (RFC 8032).
    Ed25519,
    /// ECDSA on P-256 with SHA-256, as the Secure Enclave and StrongBox hold: the public key in
    /// X9.62 uncompressed form (65 bytes), DER (X9.62) signatures, as both keystores return.
    P256,
}

/// The holder's device key, implemented by the app over its platform keystore.
#[uniffi::export(with_foreign)]
pub trait DeviceSigner: Send + Sync {
    /// The key's algorithm.
    fn algorithm(&self) -> KeyAlgorithm;
    /// The public key, in the encoding [`KeyAlgorithm`] names.
    fn public_key(&self) -> Vec<u8>;
    /// Signs exactly `message` (the keystore hashes it as its algorithm requires).
    fn sign(&self, message: Vec<u8>) -> core::result::Result<Vec<u8>, SignerError>;
}

/// A holder's public key as the core takes it: [`DoorkeyError::InvalidDeviceKey`] for bytes
/// that are not a key of `algorithm`.
pub(crate) fn holder_key(algorithm: KeyAlgorithm, key: Vec<u8>) -> Result<PublicKey> {
    match algorithm {
        KeyAlgorithm::Ed25519 => Ok(PublicKey(
            key.try_into().map_err(|_| DoorkeyError::InvalidDeviceKey)?,
        )),
        KeyAlgorithm::P256 => Err(DoorkeyError::UnsupportedAlgorithm { algorithm }),
    }
}

/// A [`DeviceSigner`] whose algorithm and public key have been checked.
#[derive(Clone)]
pub(crate) struct DeviceKey {
    signer: Arc<dyn DeviceSigner>,
    public: PublicKey,
}

impl DeviceKey {
    /// Reads the signer's algorithm and public key once, refusing what the core cannot use.
    pub(crate) fn new(signer: Arc<dyn DeviceSigner>) -> Result<DeviceKey> {
        let public = holder_key(signer.algorithm(), signer.public_key())?;
        Ok(DeviceKey { signer, public })
    }

    /// The key's algorithm.
    pub(crate) fn algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::Ed25519
    }

    /// The public key as the app's signer gave it.
    pub(crate) fn public_bytes(&self) -> Vec<u8> {
        self.public.0.to_vec()
    }

    /// The key as the core's [`Signer`], for one operation.
    pub(crate) fn signing(&self) -> Signing<'_> {
        Signing {
            key: self,
            failure: Cell::new(None),
        }
    }
}

/// One operation's use of a [`DeviceKey`]. The core reports any signing failure as
/// `Error::Crypto`; this keeps the signer's own failure so [`Signing::explain`] gives the app
/// the real reason.
pub(crate) struct Signing<'k> {
    key: &'k DeviceKey,
    failure: Cell<Option<DoorkeyError>>,
}

impl Signing<'_> {
    /// The error for the app after a core call with this key failed with `e`: the signer's
    /// own failure if signing is what failed.
    pub(crate) fn explain(&self, e: doorkey::Error) -> DoorkeyError {
        self.failure.take().unwrap_or_else(|| e.into())
    }
}

impl Signer for Signing<'_> {
    fn public_key(&self) -> PublicKey {
        self.key.public
    }

    fn sign(&self, message: &[u8]) -> doorkey::Result<Signature> {
        let signed = self
            .key
            .signer
            .sign(message.to_vec())
            .map_err(|error| DoorkeyError::Signer { error })
            .and_then(|s| {
                <[u8; 64]>::try_from(s).map_err(|_| DoorkeyError::InvalidDeviceSignature)
            });
        signed.map(Signature).map_err(|e| {
            self.failure.set(Some(e));
            doorkey::Error::Crypto
        })
    }
}
