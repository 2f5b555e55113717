//! Signed requests: owners, companies and couriers sign each request with their doorkey
//! Ed25519 key, over the method, the path, a timestamp and the body's hash. The server
//! accepts a signature once, within [`REPLAY_WINDOW_SECS`] of its clock.

use doorkey::crypto::{self, PublicKey, Signature, Signer};

/// Domain-separation label of a request signature.
pub const LABEL: &[u8] = b"doorkey-backend/v1/request\0";
/// How far a request's timestamp may be from the server's clock, either way (seconds).
pub const REPLAY_WINDOW_SECS: u64 = 300;

/// Header carrying the signer's public key (hex).
pub const KEY: &str = "doorkey-key";
/// Header carrying the request time (decimal UNIX seconds).
pub const TIME: &str = "doorkey-time";
/// Header carrying the signature (hex).
pub const SIGNATURE: &str = "doorkey-signature";

/// The path and body enter the signature as hashes, so any request fits the signer's buffer.
fn parts(path: &str, time: u64, body: &[u8]) -> ([u8; 32], [u8; 8], [u8; 32]) {
    (
        crypto::hash(&[path.as_bytes()]),
        time.to_be_bytes(),
        crypto::hash(&[body]),
    )
}

/// The three request headers for `method path` with `body` at `time`, signed by `signer`.
pub fn sign<S: Signer + ?Sized>(
    signer: &S,
    method: &str,
    path: &str,
    time: u64,
    body: &[u8],
) -> doorkey::Result<[(&'static str, String); 3]> {
    let (path_hash, time_bytes, body_hash) = parts(path, time, body);
    let sig = crypto::sign(
        signer,
        LABEL,
        &[method.as_bytes(), &path_hash, &time_bytes, &body_hash],
    )?;
    Ok([
        (KEY, hex::encode(signer.public_key().0)),
        (TIME, time.to_string()),
        (SIGNATURE, hex::encode(sig.0)),
    ])
}

/// Checks a request's signature; returns the signer and the signature (the caller refuses
/// a signature it has seen before). `now` is the server's clock.
pub fn verify(
    method: &str,
    path: &str,
    headers: &axum::http::HeaderMap,
    body: &[u8],
    now: u64,
) -> Result<(PublicKey, [u8; 64], u64), &'static str> {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or("missing or unreadable doorkey-key, doorkey-time or doorkey-signature header")
    };
    let key: [u8; 32] = hex32(header(KEY)?).ok_or("doorkey-key is not 32 bytes of hex")?;
    let time: u64 = header(TIME)?
        .parse()
        .map_err(|_| "doorkey-time is not a number")?;
    let sig: [u8; 64] = hex::decode(header(SIGNATURE)?)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or("doorkey-signature is not 64 bytes of hex")?;
    if time.abs_diff(now) > REPLAY_WINDOW_SECS {
        return Err("request time outside the replay window");
    }
    let key = PublicKey(key);
    let (path_hash, time_bytes, body_hash) = parts(path, time, body);
    crypto::verify(
        &key,
        LABEL,
        &[method.as_bytes(), &path_hash, &time_bytes, &body_hash],
        &Signature(sig),
    )
    .map_err(|_| "bad request signature")?;
    Ok((key, sig, time))
}

/// 32 bytes from hex, or `None`.
pub fn hex32(s: &str) -> Option<[u8; 32]> {
    hex::decode(s).ok()?.try_into().ok()
}
