use alloc::vec::Vec;

use crate::crypto::{self, Signer, labels};
use crate::error::{Error, Result};
use crate::wire::{self, Kind, VERSION};

use super::chain::{HINT_LEN, UnverifiedChain, parent_anchor};
use super::link::{Link, Scope};
use super::{MAX_CHAIN_BYTES, MAX_CHAIN_LEN};

/// An encoded credential chain, owned: what an issuer holds and hands to the next delegate or
/// to the holder's phone. Built only through [`Chain::root`] and [`Chain::extend`], which
/// refuse anything a lock would refuse structurally.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Chain {
    bytes: Vec<u8>,
}

impl Chain {
    /// An owner's first link: `owner` signs `link`, which must name its locks explicitly.
    /// The subject key is validated (canonical, not weak, torsion-free).
    pub fn root<S: Signer + ?Sized>(owner: &S, link: &Link) -> Result<Chain> {
        if !matches!(link.scope, Scope::Locks(_)) {
            return Err(Error::Misuse);
        }
        link.validate().map_err(|_| Error::Misuse)?;
        link.subject.validate()?;
        let owner_key = owner.public_key();
        let mut bytes = Vec::with_capacity(160);
        bytes.extend_from_slice(&[VERSION, Kind::Chain as u8]);
        bytes.extend_from_slice(owner_key.0.get(..HINT_LEN).ok_or(Error::Misuse)?);
        bytes.push(1);
        append_link(&mut bytes, owner, &owner_key.0, link)?;
        Ok(Chain { bytes })
    }

    /// Delegates further: `issuer` (the current last link's subject) signs `link`, which must
    /// narrow the last link exactly as a lock will check.
    pub fn extend<S: Signer + ?Sized>(&self, issuer: &S, link: &Link) -> Result<Chain> {
        link.validate().map_err(|_| Error::Misuse)?;
        link.subject.validate()?;
        let parsed = UnverifiedChain::decode(&self.bytes)?;
        if parsed.len() >= MAX_CHAIN_LEN {
            return Err(Error::ChainLength);
        }
        let (parent, mut locks) = parsed.narrowed(|_| ())?;
        if !issuer.public_key().ct_eq(&parent.link.subject) {
            return Err(Error::Misuse);
        }
        link.check_within(&parent.link, &mut locks)?;

        let mut bytes = self.bytes.clone();
        let count_at = 2 + HINT_LEN;
        let count = bytes.get_mut(count_at).ok_or(Error::Malformed)?;
        *count += 1;
        append_link(&mut bytes, issuer, &parent_anchor(parent.whole), link)?;
        if bytes.len() > MAX_CHAIN_BYTES {
            return Err(Error::Oversize);
        }
        Ok(Chain { bytes })
    }

    /// Wraps received bytes after checking they decode as a chain (signatures are the
    /// lock's business).
    pub fn from_bytes(bytes: &[u8]) -> Result<Chain> {
        UnverifiedChain::decode(bytes)?;
        Ok(Chain {
            bytes: bytes.to_vec(),
        })
    }

    /// The encoded chain.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Decodes the chain for inspection or verification.
    pub fn decode(&self) -> Result<UnverifiedChain<'_>> {
        UnverifiedChain::decode(&self.bytes)
    }

    /// The last link (the holder's, once issuance is complete).
    pub fn leaf(&self) -> Result<Link> {
        Ok(self.decode()?.leaf())
    }
}

/// Appends `link`'s body and its signature over `label || version || anchor || body`.
fn append_link<S: Signer + ?Sized>(
    out: &mut Vec<u8>,
    signer: &S,
    anchor: &[u8; 32],
    link: &Link,
) -> Result<()> {
    let mut body = [0u8; crypto::MAX_SIGNED];
    let n = wire::put(link, &mut body)?;
    let body = body.get(..n).ok_or(Error::Oversize)?;
    let sig = crypto::sign(signer, labels::LINK, &[&[VERSION], anchor, body])?;
    out.extend_from_slice(body);
    out.extend_from_slice(&sig.0);
    Ok(())
}
