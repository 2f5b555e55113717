//! The device key: implemented by the app over its platform keystore, so the key never enters
//! Rust memory, and adapted here to the core's [`doorkey::crypto::HolderSigner`].
//!
//! This file is the one place that knows holder-key algorithms: [`holder_key`] reads the
//! public key the app gives, and [`Signing`] turns the keystore's signature into the core's
//! holder signature (for P-256, DER to r || s with low S).

use std::cell::Cell;
use std::sync::Arc;

use doorkey::crypto::{
    HolderSigner, P256PublicKey, PublicKey, Signature, SubjectKey, p256_signature_from_der,
};

use crate::error::{DoorkeyError, Result, SignerError};

/// The algorithm of a device key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum KeyAlgorithm {
    /// Ed25519: a 32-byte public key, 64-byte signatures (RFC 8032).
    Ed25519,
    /// ECDSA on P-256 with SHA-256, as the Secure Enclave and StrongBox hold: the public key in
    /// X9.62 form (65 bytes uncompressed, as both keystores export it, or 33 compressed), DER
    /// (X9.62) signatures of either S, as both keystores return them.
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
pub(crate) fn holder_key(algorithm: KeyAlgorithm, key: &[u8]) -> Result<SubjectKey> {
    let key = match algorithm {
        KeyAlgorithm::Ed25519 => key
            .try_into()
            .ok()
            .map(|k| SubjectKey::Ed25519(PublicKey(k))),
        KeyAlgorithm::P256 => P256PublicKey::from_sec1_bytes(key)
            .ok()
            .map(SubjectKey::P256),
    };
    key.ok_or(DoorkeyError::InvalidDeviceKey)
}

/// A [`DeviceSigner`] whose algorithm and public key have been checked.
#[derive(Clone)]
pub(crate) struct DeviceKey {
    signer: Arc<dyn DeviceSigner>,
    public: SubjectKey,
    /// The public key as the app's signer gave it (for P-256 possibly uncompressed).
    given: Vec<u8>,
}

impl DeviceKey {
    /// Reads the signer's algorithm and public key once, refusing what the core cannot use.
    pub(crate) fn new(signer: Arc<dyn DeviceSigner>) -> Result<DeviceKey> {
        let given = signer.public_key();
        let public = holder_key(signer.algorithm(), &given)?;
        Ok(DeviceKey {
            signer,
            public,
            given,
        })
    }

    /// The key's algorithm.
    pub(crate) fn algorithm(&self) -> KeyAlgorithm {
        match self.public {
            SubjectKey::Ed25519(_) => KeyAlgorithm::Ed25519,
            SubjectKey::P256(_) => KeyAlgorithm::P256,
        }
    }

    /// The public key as the app's signer gave it.
    pub(crate) fn public_bytes(&self) -> Vec<u8> {
        self.given.clone()
    }

    /// The key as the core's [`HolderSigner`], for one operation.
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

impl HolderSigner for Signing<'_> {
    fn holder_key(&self) -> SubjectKey {
        self.key.public
    }

    fn sign_holder(&self, message: &[u8]) -> doorkey::Result<Signature> {
        let signed = self
            .key
            .signer
            .sign(message.to_vec())
            .map_err(|error| DoorkeyError::Signer { error })
            .and_then(|s| {
                let signature = match self.key.public {
                    SubjectKey::Ed25519(_) => <[u8; 64]>::try_from(s).ok().map(Signature),
                    SubjectKey::P256(_) => p256_signature_from_der(&s).ok(),
                };
                signature.ok_or(DoorkeyError::InvalidDeviceSignature)
            });
        signed.map_err(|e| {
            self.failure.set(Some(e));
            doorkey::Error::Crypto
        })
    }
}
