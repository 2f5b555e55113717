//! A lock built without the `p256` feature (PROTOCOL 12.5): it still decodes a chain to a
//! P-256 holder, but refuses the holder's signature as an algorithm it does not verify.
#![cfg(not(feature = "p256"))]

mod common;

use common::*;
use doorkey::Error;
use doorkey::credential::{Link, Rights, UnverifiedChain};
use doorkey::crypto::{HolderSigner, P256PublicKey, Signature, Signer, SubjectKey};
use doorkey::lock::Action;
use doorkey::phone::Credential;
use doorkey::session::Command;

/// A phone whose keystore holds a P-256 key (its signature is never looked at).
struct Keystore(SubjectKey);

impl HolderSigner for Keystore {
    fn holder_key(&self) -> SubjectKey {
        self.0
    }

    fn sign_holder(&self, _: &[u8]) -> doorkey::Result<Signature> {
        Ok(Signature([1; 64]))
    }
}

#[test]
fn a_lock_without_p256_refuses_a_p256_holder() {
    let mut w = World::new();
    let holder: SubjectKey = P256PublicKey([2; 33]).into();
    let built = Link::builder(holder, Rights::UNLOCK)
        .locks(&[w.lock_id()])
        .build(&mut w.rng);
    assert_eq!(built.err(), Some(Error::UnsupportedAlgorithm));

    let mut link = Link::builder(key(40).public_key(), Rights::UNLOCK)
        .locks(&[w.lock_id()])
        .build(&mut w.rng)
        .unwrap();
    link.subject = holder;
    let raw = raw_chain(&w.owner.public_key(), &[(&w.owner, link)]);
    assert_eq!(
        UnverifiedChain::decode(&raw).unwrap().leaf().subject,
        holder
    );

    let mut lock = install(&w);
    let credential = Credential::new(&raw, Keystore(holder)).unwrap();
    let (_, _, outcome, _) = visit(&mut lock, tick(1), &credential, Command::Unlock, &mut w.rng);
    assert_eq!(
        (outcome.action, outcome.denied),
        (Action::None, Some(Error::UnsupportedAlgorithm))
    );
}
