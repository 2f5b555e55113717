use alloc::vec::Vec;

use crate::crypto::{self, Signer, SubjectKey, labels};
use crate::error::{Error, Result};
use crate::wire::{self, Kind, VERSION};

use super::chain::{HINT_LEN, UnverifiedChain, parent_anchor};
use super::link::{Link, Scope};
use super::{MAX_CHAIN_BYTES, MAX_CHAIN_LEN};

/// An encoded credential chain, owned: what an issuer holds and hands to the next delegate or
/// to the holder's phone. Built only through [`Chain::root`] and [`Chain::extend`], which
/// refuse anything a lock would refuse structurally.
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Chain {
    bytes: Vec<u8>,
}

impl Chain {
    /// An owner's first link: `owner` signs `link`, which must name its locks explicitly.
    /// The subject key is validated (canonical, not weak, torsion-free).
    ///
    /// ```
    /// use doorkey::Error;
    /// use doorkey::credential::{Chain, Link, LockId, Rights, Scope};
    /// use doorkey::crypto::{SecretKey, Signer};
    /// use doorkey::time::{Seconds, UnixTime};
    /// # use chacha20::ChaCha20Rng;
    /// # use rand_core::SeedableRng;
    /// # fn main() -> doorkey::Result<()> {
    /// # let mut rng = ChaCha20Rng::from_seed([7; 32]);
    /// const T0: UnixTime = UnixTime::from_secs(1_780_315_200); // 2026-06-01 12:00:00 UTC, a Monday
    /// let owner = SecretKey::from_seed(&[1; 32]);
    /// let company = SecretKey::from_seed(&[3; 32]);
    /// let courier = SecretKey::from_seed(&[4; 32]);
    /// let lock = LockId::of(&SecretKey::from_seed(&[2; 32]).public_key());
    ///
    /// // The owner's root link: this lock, unlock and relock, 30 days, one further level.
    /// let root = Link::builder(company.public_key(), Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE))
    ///     .locks(&[lock])
    ///     .valid_from(T0 - Seconds::from_days(1))
    ///     .valid_for(Seconds::from_days(30))
    ///     .depth(1)
    ///     .build(&mut rng)?;
    /// let delegation = Chain::root(&owner, &root)?;
    ///
    /// assert_eq!(delegation.leaf()?, root);
    /// // A root link must name its locks: `Inherit` has nothing to inherit from.
    /// let mut unscoped = root;
    /// unscoped.scope = Scope::Inherit;
    /// assert!(matches!(Chain::root(&owner, &unscoped), Err(Error::Misuse)));
    /// # let _ = (courier, T0);
    /// # Ok(())
    /// # }
    /// ```
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
    ///
    /// ```
    /// use doorkey::Error;
    /// use doorkey::credential::{Chain, Link, LockId, Rights};
    /// use doorkey::crypto::{SecretKey, Signer};
    /// use doorkey::time::{Seconds, UnixTime};
    /// # use chacha20::ChaCha20Rng;
    /// # use rand_core::SeedableRng;
    /// # fn main() -> doorkey::Result<()> {
    /// # let mut rng = ChaCha20Rng::from_seed([7; 32]);
    /// const T0: UnixTime = UnixTime::from_secs(1_780_315_200); // 2026-06-01 12:00:00 UTC, a Monday
    /// let owner = SecretKey::from_seed(&[1; 32]);
    /// let company = SecretKey::from_seed(&[3; 32]);
    /// let courier = SecretKey::from_seed(&[4; 32]);
    /// let lock = LockId::of(&SecretKey::from_seed(&[2; 32]).public_key());
    ///
    /// // The owner's root link: this lock, unlock and relock, 30 days, one further level.
    /// let root = Link::builder(company.public_key(), Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE))
    ///     .locks(&[lock])
    ///     .valid_from(T0 - Seconds::from_days(1))
    ///     .valid_for(Seconds::from_days(30))
    ///     .depth(1)
    ///     .build(&mut rng)?;
    /// let delegation = Chain::root(&owner, &root)?;
    ///
    /// // The company narrows it for a courier: one use, ten minutes, no further delegation.
    /// let leaf = Link::builder(courier.public_key(), Rights::UNLOCK.union(Rights::LOCK))
    ///     .valid_from(T0)
    ///     .valid_for(Seconds::from_secs(600))
    ///     .uses(1)
    ///     .build(&mut rng)?;
    /// let grant = delegation.extend(&company, &leaf)?;
    /// assert_eq!(grant.decode()?.len(), 2);
    /// assert_eq!(grant.leaf()?.subject, courier.public_key());
    ///
    /// // A link that widens its parent is refused at issuance, as a lock would refuse it.
    /// let mut wider = leaf;
    /// wider.lifetime = Some(Seconds::from_days(60));
    /// assert!(matches!(delegation.extend(&company, &wider), Err(Error::Widened)));
    /// // So is a second delegation level the owner did not allow.
    /// let mut courier_friend = leaf;
    /// courier_friend.subject = SecretKey::from_seed(&[5; 32]).public_key().into();
    /// assert!(matches!(grant.extend(&courier, &courier_friend), Err(Error::Widened)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn extend<S: Signer + ?Sized>(&self, issuer: &S, link: &Link) -> Result<Chain> {
        link.validate().map_err(|_| Error::Misuse)?;
        link.subject.validate()?;
        let parsed = UnverifiedChain::decode(&self.bytes)?;
        if parsed.len() >= MAX_CHAIN_LEN {
            return Err(Error::ChainLength);
        }
        let (parent, mut locks) = parsed.narrowed(|_| ())?;
        if !SubjectKey::from(issuer.public_key()).ct_eq(&parent.link.subject) {
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
