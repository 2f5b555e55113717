//! Domain-separation labels. Every signature and derivation is over `label || data`; labels
//! are NUL-terminated so none is a prefix of another, and carry the protocol version.

/// A credential link, signed by its issuer.
pub const LINK: &[u8] = b"doorkey/v1/link\0";
/// Derivation of a lock id from the lock's public key.
pub const LOCK_ID: &[u8] = b"doorkey/v1/lock-id\0";
/// Digest of a parent link, bound into its child's signature.
pub const PARENT: &[u8] = b"doorkey/v1/parent\0";
/// Purpose binding of an order or package id.
pub const PURPOSE: &[u8] = b"doorkey/v1/purpose\0";
/// The lock's signature over its challenge.
pub const CHALLENGE: &[u8] = b"doorkey/v1/challenge\0";
/// Digest of a whole challenge message, kept by the lock for the transcript.
pub const CHALLENGE_DIGEST: &[u8] = b"doorkey/v1/challenge-digest\0";
/// The session transcript hash.
pub const TRANSCRIPT: &[u8] = b"doorkey/v1/transcript\0";
/// HKDF salt of the session key schedule.
pub const SESSION: &[u8] = b"doorkey/v1/session\0";
/// The holder's signature over the transcript hash and first command.
pub const HOLDER: &[u8] = b"doorkey/v1/holder\0";
/// A time anchor, signed by an owner or an enrolled time key.
pub const TIME: &[u8] = b"doorkey/v1/time\0";
/// A configuration update, signed by an owner.
pub const CONFIG: &[u8] = b"doorkey/v1/config\0";
/// A receipt, signed by the lock (over its lock id and the receipt as sent).
pub const RECEIPT: &[u8] = b"doorkey/v1/receipt\0";
/// The chain hash of a receipt.
pub const RECEIPT_HASH: &[u8] = b"doorkey/v1/receipt-hash\0";
/// A receipt-chain head, signed by the lock.
pub const HEAD: &[u8] = b"doorkey/v1/head\0";
/// Checksum of a power-fail-safe storage record.
pub const STORE: &[u8] = b"doorkey/v1/store\0";
/// HKDF salt of the key that seals a receipt bundle to the owner's audit key.
pub const SEAL: &[u8] = b"doorkey/v1/seal\0";
/// Derivation of the lock's one-bundle ephemeral X25519 secret from its secret seed, the
/// session id and the reply counter.
pub const SEAL_EPHEMERAL: &[u8] = b"doorkey/v1/seal-ephemeral\0";
/// The lock's signature over a bundle's acknowledgeable range, returned to it as an ack.
pub const ACK: &[u8] = b"doorkey/v1/ack\0";
/// The reference naming the verified links a lock keeps: a hash of their bytes.
pub const CHAIN_REF: &[u8] = b"doorkey/v1/chain-ref\0";
/// The 32-byte id of a P-256 holder key: what receipts name and key revocation matches.
pub const P256_KEY_ID: &[u8] = b"doorkey/v1/p256-key-id\0";
