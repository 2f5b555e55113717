//! Any bytes and any time against a lock with an enrolled owner: verification never panics,
//! and what it accepts is rooted in that owner and stops verifying after any bit flip.
#![no_main]

use doorkey::crypto::{SecretKey, Signer};
use doorkey::lock::Enrolment;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((time, chain)) = data.split_first_chunk::<8>() else {
        return;
    };
    // The owner of the committed corpus (tests/vectors), so the fuzzer starts from valid chains.
    let owner = SecretKey::from_seed(&[1; 32]);
    let mut lock = Enrolment::new(SecretKey::from_seed(&[2; 32]).public_key());
    lock.enrol_owner(owner.public_key()).expect("valid owner");
    let now = u64::from_le_bytes(*time);
    let now = if now & 1 == 0 { Some(now >> 1) } else { None };
    if let Ok(grant) = lock.verify_chain(chain, now, &()) {
        assert_eq!(grant.owner, owner.public_key());
        let mut flipped = chain.to_vec();
        let bit = usize::from(time[0]) * 8 % (flipped.len() * 8);
        flipped[bit / 8] ^= 1 << (bit % 8);
        assert!(
            lock.verify_chain(&flipped, now, &()).is_err(),
            "bit {bit} flip accepted"
        );
    }
});
