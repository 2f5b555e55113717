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
