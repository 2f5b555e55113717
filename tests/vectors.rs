//! The golden vectors in `tests/vectors/` hold for this build: keys derive from their seeds
//! and every case gives its recorded outcome.

use doorkey::crypto::{PublicKey, SecretKey, Signer};
use doorkey::lock::Enrolment;
use doorkey::time::TzRule;
use serde_json::Value;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn arr32(s: &str) -> [u8; 32] {
    unhex(s).try_into().unwrap()
}

fn load(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn credential_vectors_hold() {
    let v = load("credential.json");
    let owner = SecretKey::from_seed(&arr32(v["owner_seed"].as_str().unwrap()));
    assert_eq!(
        owner.public_key(),
        PublicKey(arr32(v["owner_public"].as_str().unwrap()))
    );
    let lock_key = SecretKey::from_seed(&arr32(v["lock_seed"].as_str().unwrap()));
    let mut lock = Enrolment::new(lock_key.public_key());
    assert_eq!(
        lock.public_key().0,
        arr32(v["lock_public"].as_str().unwrap())
    );
    assert_eq!(lock.id().0.to_vec(), unhex(v["lock_id"].as_str().unwrap()));
    lock.enrol_owner(owner.public_key()).unwrap();
    lock.set_time_zone(TzRule::parse(v["time_zone"].as_str().unwrap()).unwrap())
        .unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    let (mut ok, mut refused) = (0, 0);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let chain = unhex(case["chain"].as_str().unwrap());
        let now = case["now"].as_u64();
        let expect = &case["expect"];
        match lock.verify_chain(&chain, now, &()) {
            Ok(grant) => {
                assert_eq!(expect["result"], "ok", "{name}");
                let rights = u64::from(grant.rights.bits());
                assert_eq!(expect["rights"].as_u64().unwrap(), rights, "{name}");
                assert_eq!(
                    expect["holder"].as_str().unwrap(),
                    hex(&grant.holder.0),
                    "{name}"
                );
                assert_eq!(
                    expect["owner"].as_str().unwrap(),
                    hex(&grant.owner.0),
                    "{name}"
                );
                ok += 1;
            }
            Err(e) => {
                assert_eq!(
                    expect["result"].as_str().unwrap(),
                    format!("{e:?}"),
                    "{name}"
                );
                refused += 1;
            }
        }
    }
    assert!(
        ok >= 4 && refused >= 8,
        "vectors cover both outcomes: {ok} ok, {refused} refused"
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
