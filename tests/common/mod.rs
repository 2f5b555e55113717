//! Shared fixtures: deterministic keys, a lock, an owner, a delivery company and a courier,
//! plus an independent encoder that builds chains straight from docs/PROTOCOL.md so tests can
//! sign links the issuance API would refuse.
#![allow(dead_code)]

use chacha20::ChaCha20Rng;
use doorkey::credential::{Chain, CredentialId, Link, LockId, Rights, Scope};
use doorkey::crypto::{PublicKey, SecretKey, Signer, hash, labels, sign};
use doorkey::lock::Enrolment;
use doorkey::wire::{Bounded, UnixTime, VERSION};
use rand_core::SeedableRng;

/// 2026-06-01T12:00:00Z, a Monday.
pub const T0: UnixTime = 1_780_315_200;
pub const DAY: u64 = 86_400;

pub fn rng(seed: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([seed; 32])
}

pub fn key(seed: u8) -> SecretKey {
    SecretKey::from_seed(&[seed; 32])
}

pub struct World {
    pub owner: SecretKey,
    pub lock: Enrolment,
    pub company: SecretKey,
    pub courier: SecretKey,
    pub rng: ChaCha20Rng,
}

impl World {
    pub fn new() -> World {
        let owner = key(1);
        let mut lock = Enrolment::new(key(2));
        lock.enrol_owner(owner.public_key()).unwrap();
        World {
            owner,
            lock,
            company: key(3),
            courier: key(4),
            rng: rng(9),
        }
    }

    pub fn lock_id(&self) -> LockId {
        self.lock.id()
    }

    /// Owner -> company: unlock, lock, delegate one level, 30 days from T0 - 1 day.
    pub fn company_link(&mut self) -> Link {
        Link {
            subject: self.company.public_key(),
            scope: Scope::Locks(Bounded::from_slice(&[self.lock_id()]).unwrap()),
            rights: Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE),
            not_before: T0 - DAY,
            lifetime: Some(30 * DAY),
            schedule: None,
            uses: None,
            depth: 1,
            id: CredentialId::random(&mut self.rng),
            epoch: 0,
            purpose: None,
        }
    }

    /// Company -> courier: one use, 10 minutes from T0.
    pub fn courier_link(&mut self) -> Link {
        Link {
            subject: self.courier.public_key(),
            scope: Scope::Inherit,
            rights: Rights::UNLOCK.union(Rights::LOCK),
            not_before: T0,
            lifetime: Some(600),
            schedule: None,
            uses: Some(1),
            depth: 0,
            id: CredentialId::random(&mut self.rng),
            epoch: 0,
            purpose: Some([7; 32]),
        }
    }

    pub fn company_chain(&mut self) -> Chain {
        let link = self.company_link();
        Chain::root(&self.owner, &link).unwrap()
    }

    pub fn courier_chain(&mut self) -> Chain {
        let company = self.company_chain();
        let link = self.courier_link();
        company.extend(&self.company, &link).unwrap()
    }
}

/// Encodes a chain exactly as docs/PROTOCOL.md describes, signing whatever it is given.
pub fn raw_chain(owner: &PublicKey, links: &[(&dyn Signer, Link)]) -> Vec<u8> {
    let mut out = vec![VERSION, 0x01];
    out.extend_from_slice(&owner.0[..4]);
    out.push(links.len() as u8);
    let mut anchor = owner.0;
    for (signer, link) in links {
        let body = postcard::to_allocvec(link).unwrap();
        let sig = sign(*signer, labels::LINK, &[&[VERSION], &anchor, &body]).unwrap();
        let mut whole = body.clone();
        whole.extend_from_slice(&sig.0);
        anchor = hash(&[labels::PARENT, &whole]);
        out.extend_from_slice(&whole);
    }
    out
}
