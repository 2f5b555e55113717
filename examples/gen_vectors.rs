//! Regenerates the golden test vectors in `tests/vectors/` from fixed seeds.
//!
//! `cargo run --example gen_vectors` rewrites the files; `-- --check` only compares and fails
//! if they are stale. `tests/vectors.rs` checks every case against the crate.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use doorkey::credential::{Chain, Rights, Scope};
use doorkey::crypto::Signer;
use doorkey::lock::Enrolment;
use doorkey::time::{Schedule, TzRule, WeeklyWindow};
use doorkey::wire::Bounded;
use serde_json::{Value, json};

const TZ: &str = "CET-1CEST,M3.5.0,M10.5.0/3";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn expect(lock: &Enrolment, chain: &[u8], now: Option<u64>) -> Value {
    match lock.verify_chain(chain, now, &()) {
        Ok(g) => {
            json!({"result": "ok", "holder": hex(&g.holder.0), "owner": hex(&g.owner.0), "rights": g.rights.bits()})
        }
        Err(e) => json!({"result": format!("{e:?}")}),
    }
}

fn credential_vectors() -> Value {
    let mut w = World::new();
    w.lock
        .set_time_zone(TzRule::parse(TZ).expect("tz"))
        .expect("tz");
    let owner = w.owner.public_key();
    let company_link = w.company_link();
    let company = Chain::root(&w.owner, &company_link).expect("root");
    let courier_link = w.courier_link();
    let courier = company.extend(&w.company, &courier_link).expect("extend");

    let depot = key(5);
    let mut depot_link = company_link;
    depot_link.subject = depot.public_key();
    depot_link.scope = Scope::Inherit;
    depot_link.depth = 0;
    depot_link.id.0 = [0xd0; 16];
    let mut deep_company_link = company_link;
    deep_company_link.depth = 2;
    deep_company_link.id.0 = [0xc0; 16];
    let deep = Chain::root(&w.owner, &deep_company_link).expect("root");
    let mut depot_link2 = depot_link;
    depot_link2.depth = 1;
    let three = deep
        .extend(&w.company, &depot_link2)
        .and_then(|c| c.extend(&depot, &w.courier_link()))
        .expect("three links");

    let mut walker = company_link;
    walker.rights = Rights::UNLOCK.union(Rights::LOCK);
    walker.depth = 0;
    walker.schedule = Some(Schedule {
        windows: Bounded::from_slice(&[WeeklyWindow {
            days: 0b0001_1111,
            start: 12 * 60,
            length: 60,
        }])
        .expect("w"),
        exceptions: Bounded::new(),
    });
    let scheduled = Chain::root(&w.owner, &walker).expect("scheduled");

    let mut widened = courier_link;
    widened.lifetime = Some(40 * DAY);
    let widened = raw_chain(&owner, &[(&w.owner, company_link), (&w.company, widened)]);
    let stranger = key(66);
    let foreign = raw_chain(&stranger.public_key(), &[(&stranger, company_link)]);
    let mut flipped = courier.as_bytes().to_vec();
    let n = flipped.len();
    flipped[n - 1] ^= 0x01;
    let mut v2 = courier.as_bytes().to_vec();
    v2[0] = 2;
    let mut trailing = courier.as_bytes().to_vec();
    trailing.push(0);
    let truncated = &courier.as_bytes()[..courier.as_bytes().len() - 1];

    // 2026-06-01 is a Monday; 12:00 CEST = 10:00Z.
    let noon = T0 - 2 * 3600;
    let cases: Vec<(&str, &[u8], Option<u64>)> = vec![
        ("one link, owner to company", company.as_bytes(), Some(T0)),
        (
            "two links, one-off courier grant",
            courier.as_bytes(),
            Some(T0 + 1),
        ),
        (
            "three links, owner to company to depot to courier",
            three.as_bytes(),
            Some(T0 + 1),
        ),
        (
            "courier grant at its last second",
            courier.as_bytes(),
            Some(T0 + 599),
        ),
        ("courier grant expired", courier.as_bytes(), Some(T0 + 600)),
        (
            "courier grant not yet valid",
            courier.as_bytes(),
            Some(T0 - 1),
        ),
        (
            "courier grant, lock clock untrusted",
            courier.as_bytes(),
            None,
        ),
        (
            "weekday-noon schedule, inside",
            scheduled.as_bytes(),
            Some(noon + 1800),
        ),
        (
            "weekday-noon schedule, one second after",
            scheduled.as_bytes(),
            Some(noon + 3600),
        ),
        ("child widens its parent's window", &widened, Some(T0 + 1)),
        (
            "root signed by an owner the lock does not know",
            &foreign,
            Some(T0),
        ),
        ("last signature bit flipped", &flipped, Some(T0 + 1)),
        ("unknown version", &v2, Some(T0 + 1)),
        ("trailing byte", &trailing, Some(T0 + 1)),
        ("truncated by one byte", truncated, Some(T0 + 1)),
    ];
    let cases: Vec<Value> = cases
        .into_iter()
        .map(|(name, chain, now)| json!({"name": name, "chain": hex(chain), "now": now, "expect": expect(&w.lock, chain, now)}))
        .collect();
    json!({
        "description": "doorkey credential chains (docs/PROTOCOL.md). Keys are RFC 8032 seeds of 32 repeated bytes. A lock with `lock_seed`, owner `owner_public` enrolled, epoch 0, time zone `time_zone`, verifying `chain` at UTC second `now` (null: clock untrusted) must give `expect.result`: ok, or the error named.",
        "owner_seed": hex(&[1; 32]),
        "owner_public": hex(&owner.0),
        "lock_seed": hex(&[2; 32]),
        "lock_public": hex(&w.lock.public_key().0),
        "lock_id": hex(&w.lock_id().0),
        "company_public": hex(&w.company.public_key().0),
        "courier_public": hex(&w.courier.public_key().0),
        "time_zone": TZ,
        "cases": cases,
    })
}

fn main() {
    let check = std::env::args().any(|a| a == "--check");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let files = [("credential.json", credential_vectors())];
    let mut stale = false;
    for (name, value) in files {
        let text = serde_json::to_string_pretty(&value).expect("json") + "\n";
        let path = dir.join(name);
        if check {
            if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                eprintln!("stale: {}", path.display());
                stale = true;
            }
        } else {
            std::fs::write(&path, text).expect("write vectors");
            println!("wrote {}", path.display());
        }
    }
    if stale {
        eprintln!("run `cargo run --example gen_vectors` and commit the result");
        std::process::exit(1);
    }
}
