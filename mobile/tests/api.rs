//! The binding's own layer, in Rust: what the device signer hands back, the outbox's framing,
//! and misuse of a session.

use std::sync::Arc;

use doorkey::crypto::{SecretKey, Signer};
use doorkey_mobile::{
    Command, Credential, DeviceSigner, DoorkeyError, KeyAlgorithm, LockSimulator, Outbox, Reply,
    SignerError, open_anonymous_session, open_session,
};

/// An Ed25519 device key whose public key and signatures can be cut short.
struct Device {
    key: SecretKey,
    key_len: usize,
    signature_len: usize,
}

impl DeviceSigner for Device {
    fn algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::Ed25519
    }

    fn public_key(&self) -> Vec<u8> {
        self.key.public_key().0[..self.key_len].to_vec()
    }

    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, SignerError> {
        let signature = self.key.sign(&message).map_err(|e| SignerError::Failed {
            reason: e.to_string(),
        })?;
        Ok(signature.0[..self.signature_len].to_vec())
    }
}

fn device(key_len: usize, signature_len: usize) -> Arc<Device> {
    Arc::new(Device {
        key: SecretKey::from_seed(&[4; 32]),
        key_len,
        signature_len,
    })
}

fn grant(sim: &LockSimulator) -> Vec<u8> {
    let key = SecretKey::from_seed(&[4; 32]).public_key().0.to_vec();
    sim.issue_delivery_grant(KeyAlgorithm::Ed25519, key, b"order-7".to_vec(), 600)
        .expect("a grant")
}

/// The lock's clock set through a time anchor, as an app does on its first visit.
fn anchored(sim: &LockSimulator) {
    let challenge = sim.challenge().expect("a challenge");
    let nonce = doorkey_mobile::inspect_challenge(challenge.clone(), sim.lock_id())
        .expect("the lock's own challenge")
        .nonce;
    let anchor = sim.time_anchor(nonce).expect("an anchor");
    let opened = open_anonymous_session(challenge, sim.lock_id(), Command::Time { anchor })
        .expect("an open");
    let reply = sim.handle(opened.message).expect("an answer").reply;
    let set = opened.session.read_reply(reply).expect("a reply");
    assert_eq!(
        set,
        Reply::TimeSet {
            unix_time: sim.now()
        }
    );
}

#[test]
fn a_device_key_of_the_wrong_length_is_refused_at_import() {
    let sim = LockSimulator::new(vec![1; 32]).expect("a simulator");
    let imported = Credential::new(grant(&sim), device(31, 64));
    assert_eq!(imported.err(), Some(DoorkeyError::InvalidDeviceKey));
}

#[test]
fn a_short_signature_is_refused_before_anything_is_sent() {
    let sim = LockSimulator::new(vec![1; 32]).expect("a simulator");
    anchored(&sim);
    let credential = Credential::new(grant(&sim), device(32, 63)).expect("the right key");
    let opened = open_session(
        sim.challenge().expect("a challenge"),
        credential,
        Command::Unlock,
    );
    assert_eq!(opened.err(), Some(DoorkeyError::InvalidDeviceSignature));

    // The same grant with whole signatures opens.
    let credential = Credential::new(grant(&sim), device(32, 64)).expect("the right key");
    let opened = open_session(
        sim.challenge().expect("a challenge"),
        credential,
        Command::Unlock,
    )
    .expect("an open");
    let reply = sim.handle(opened.message).expect("an answer").reply;
    assert_eq!(opened.session.read_reply(reply), Ok(Reply::Unlocked));
}

#[test]
fn a_session_without_credential_cannot_retry() {
    let sim = LockSimulator::new(vec![1; 32]).expect("a simulator");
    let opened = open_anonymous_session(
        sim.challenge().expect("a challenge"),
        sim.lock_id(),
        Command::Hello,
    )
    .expect("an open");
    assert_eq!(opened.session.retry(), Err(DoorkeyError::Misuse));
}

#[test]
fn the_outbox_takes_bundles_back_to_back_and_refuses_partial_ones_whole() {
    let sim = LockSimulator::new(vec![1; 32]).expect("a simulator");
    let lock = sim.lock_id();
    anchored(&sim);
    let credential = Credential::new(grant(&sim), device(32, 64)).expect("the right key");
    let mut bundles = Vec::new();
    for _ in 0..2 {
        let challenge = sim.challenge().expect("a challenge");
        let opened = open_session(challenge, credential.clone(), Command::Hello).expect("an open");
        let reply = sim.handle(opened.message).expect("an answer").reply;
        assert_eq!(opened.session.read_reply(reply), Ok(Reply::Ready));
        let fetch = opened.session.command(Command::Receipts { after: 0 });
        let reply = sim
            .handle(fetch.expect("a command"))
            .expect("an answer")
            .reply;
        let Ok(Reply::Receipts { bundle }) = opened.session.read_reply(reply) else {
            panic!("a receipt bundle");
        };
        bundles.push(bundle);
    }
    let outbox = Outbox::new();
    let both = [bundles[0].clone(), bundles[1].clone()].concat();
    let cut = [both.as_slice(), &bundles[0][..10]].concat();
    assert_eq!(outbox.add(lock.clone(), cut), Err(DoorkeyError::Truncated));
    assert!(
        outbox.pending().is_empty(),
        "nothing of a refused add is kept"
    );
    assert_eq!(outbox.add(lock.clone(), both.clone()), Ok(()));
    let pending = outbox.pending();
    assert_eq!(pending.len(), 1);
    assert_eq!((&pending[0].lock_id, &pending[0].bundles), (&lock, &both));
    assert_eq!(
        outbox.add(vec![0; 15], bundles[0].clone()),
        Err(DoorkeyError::Misuse)
    );
}
