//! Typed errors for the app: each of the core's [`doorkey::Error`] kinds by name, and the
//! failures only a binding has (the device signer and its key, the system's random source).

/// Declares [`DoorkeyError`] with one variant per core error kind (same name, same message)
/// and the conversion from [`doorkey::Error`], so the two lists cannot drift apart.
macro_rules! mirror_core_errors {
    ($($(#[$doc:meta])* $kind:ident,)*) => {
        /// What went wrong, as the core reports it, or in the binding's own layer.
        #[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, uniffi::Error)]
        pub enum DoorkeyError {
            $(
                $(#[$doc])*
                #[error("{}", doorkey::Error::$kind)]
                $kind,
            )*
            /// The app's `DeviceSigner` failed to sign (the operation that needed the
            /// signature sent nothing).
            #[error("the device signer failed: {error}")]
            Signer {
                /// What the signer reported.
                error: SignerError,
            },
            /// The device signer's public key is not a key of its algorithm (wrong length, or not
            /// a point on P-256).
            #[error("the device signer's public key is not a key of its algorithm")]
            InvalidDeviceKey,
            /// The device signer returned a signature that is not one of its algorithm's.
            #[error("the device signer returned a malformed signature")]
            InvalidDeviceSignature,
            /// The operating system's random source failed.
            #[error("the system random source failed")]
            Randomness,
            /// A core error kind newer than this binding (the core's `Error` is
            /// non-exhaustive); `message` is its description.
            #[error("{message}")]
            Unrecognized {
                /// The core's description of the error.
                message: String,
            },
        }

        impl From<doorkey::Error> for DoorkeyError {
            fn from(e: doorkey::Error) -> DoorkeyError {
                match e {
                    $(doorkey::Error::$kind => DoorkeyError::$kind,)*
                    other => DoorkeyError::Unrecognized { message: other.to_string() },
                }
            }
        }
    };
}

mirror_core_errors! {
    /// The input ended before the message did.
    Truncated,
    /// Bytes remained after a complete message.
    TrailingBytes,
    /// The message carries a protocol version this build does not speak.
    UnsupportedVersion,
    /// The message kind byte is unknown or not the one expected here.
    UnexpectedKind,
    /// A message or field is longer than its limit.
    Oversize,
    /// The bytes are not a well-formed message.
    Malformed,
    /// An output buffer is too small for the encoded message.
    BufferTooSmall,
    /// A public key is weak, non-canonical or has a torsion component.
    WeakKey,
    /// A signature, MAC or key agreement failed (a forged or altered message).
    Crypto,
    /// A key's algorithm is not verified by this build: a P-256 holder key at a lock built
    /// without the `p256` feature.
    UnsupportedAlgorithm,
    /// The chain's root is not signed by an owner key the lock trusts.
    UnknownOwner,
    /// The chain has no links or too many.
    ChainLength,
    /// The credential or challenge does not name this lock.
    WrongLock,
    /// A link grants more than its parent.
    Widened,
    /// The request is not allowed to whoever made it.
    NotPermitted,
    /// The current time is before the credential's validity window.
    NotYetValid,
    /// The current time is after the credential's validity window.
    Expired,
    /// The current local time is outside the credential's schedule.
    OutsideSchedule,
    /// The credential is revoked.
    Revoked,
    /// A use-limited grant has no uses left.
    UsedUp,
    /// The lock's clock is not trusted, so time-bounded grants fail closed.
    ClockUntrusted,
    /// Issuance was asked outside the delivery's booked slot.
    OutsideSlot,
    /// A schedule window meets a daylight-saving gap or overlap.
    AmbiguousLocalTime,
    /// A challenge, nonce or counter was already used, expired or is out of order.
    Replay,
    /// A message arrived that the session does not accept in its current state.
    UnexpectedMessage,
    /// The lock's bounded storage is full.
    StorageFull,
    /// Persistent storage failed to read or write.
    Storage,
    /// An update is older than, or the same as, what the lock already applied.
    Stale,
    /// Receipts do not follow one another.
    ChainBroken,
    /// The lock was never provisioned.
    NotProvisioned,
    /// The lock is already provisioned.
    AlreadyProvisioned,
    /// The lock booted from an older state and awaits its owner's confirmation.
    RolledBack,
    /// The API was used incorrectly by the app (never caused by a peer's bytes).
    Misuse,
}

/// What an app's `DeviceSigner` reports when it cannot sign.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum SignerError {
    /// The user declined or dismissed the authentication the key requires.
    #[error("the user cancelled the key's authentication")]
    Cancelled,
    /// The key is gone or no longer usable (deleted, or invalidated by a change of the
    /// device's biometrics): the holder needs a credential for a new key.
    #[error("the device key is unavailable")]
    KeyUnavailable,
    /// Any other keystore failure, with the platform's description for the app's log.
    #[error("the keystore failed: {reason}")]
    Failed {
        /// The platform's description.
        reason: String,
    },
}

/// A callback that threw something other than a [`SignerError`].
impl From<uniffi::UnexpectedUniFFICallbackError> for SignerError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> SignerError {
        SignerError::Failed { reason: e.reason }
    }
}

/// The binding's results.
pub type Result<T> = core::result::Result<T, DoorkeyError>;
