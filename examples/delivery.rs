//! In-home delivery, end to end: the owner enrols a lock and delegates to a delivery company;
//! a courier scans a package and the company's server mints a one-off grant for that courier's
//! phone and that order; the lock verifies the courier's credential offline. Then the
//! attempts that must fail, each refused with its reason.
//!
//! Run with `cargo run --example delivery`. Keys come from a fixed seed so the output is
//! reproducible; everything else is the real protocol.

use chacha20::ChaCha20Rng;
use doorkey::credential::{Chain, CredentialId, Link, Rights, Scope};
use doorkey::crypto::{SecretKey, Signer};
use doorkey::lock::Enrolment;
use doorkey::server::{Delivery, Issuer};
use doorkey::time::TzRule;
use doorkey::wire::Bounded;
use rand_core::SeedableRng;

const DAY: u64 = 86_400;
/// Monday 2026-06-01 12:00:00 UTC (14:00 in Berlin).
const NOW: u64 = 1_780_315_200;

fn main() -> Result<(), doorkey::Error> {
    let mut rng = ChaCha20Rng::from_seed([42; 32]);

    println!("== Installation");
    let owner = SecretKey::generate(&mut rng);
    let mut lock = Enrolment::new(SecretKey::generate(&mut rng).public_key());
    lock.enrol_owner(owner.public_key())?;
    lock.set_time_zone(TzRule::parse("CET-1CEST,M3.5.0,M10.5.0/3")?)?;
    println!(
        "lock {:02x?}.. enrolled to owner {:?}",
        &lock.id().0[..4],
        owner.public_key()
    );

    println!("\n== The owner delegates to a delivery company (30 days, one level of delegation)");
    let company_key = SecretKey::generate(&mut rng);
    let delegation = Link {
        subject: company_key.public_key(),
        scope: Scope::Locks(Bounded::from_slice(&[lock.id()]).ok_or(doorkey::Error::Misuse)?),
        rights: Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE),
        not_before: NOW - DAY,
        lifetime: Some(30 * DAY),
        schedule: None,
        uses: None,
        depth: 1,
        id: CredentialId::random(&mut rng),
        epoch: 0,
        purpose: None,
    };
    let company_chain = Chain::root(&owner, &delegation)?;
    println!("delegation chain: {} bytes", company_chain.as_bytes().len());
    let company = Issuer::new(company_key, company_chain)?;

    println!("\n== A courier scans the package; the server mints a one-off grant");
    let courier = SecretKey::generate(&mut rng);
    let order = Delivery {
        order_id: b"order-2026-0601-0042",
        lock: lock.id(),
        slot_start: NOW - 1800,
        slot_end: NOW + 1800,
    };
    let grant_chain =
        company.mint_delivery(&order, courier.public_key(), NOW, 10 * 60, &mut rng)?;
    let leaf = grant_chain.leaf()?;
    println!(
        "courier grant: {} bytes, one use, valid {} s, bound to the order",
        grant_chain.as_bytes().len(),
        leaf.lifetime.unwrap_or(0)
    );
    let late = Delivery {
        slot_start: NOW + 7200,
        slot_end: NOW + 9000,
        ..order
    };
    println!(
        "minting outside the booked slot: {}",
        outcome(
            company
                .mint_delivery(&late, courier.public_key(), NOW, 600, &mut rng)
                .map(|_| ())
        )
    );

    println!("\n== At the door: the lock verifies the chain offline");
    let grant = lock.verify_chain(grant_chain.as_bytes(), Some(NOW + 30), &())?;
    println!(
        "accepted: holder {:?}, rights {:?}, {} use-limited link(s)",
        grant.holder,
        grant.rights,
        grant.limits.len()
    );

    println!("\n== Attempts that must fail");
    let mut wider = leaf;
    wider.lifetime = Some(60 * DAY);
    println!(
        "company mints a widened grant (60 days):  {}",
        outcome(company.delegate(&wider).map(|_| ()))
    );
    println!(
        "the same grant after it expired:          {}",
        outcome(
            lock.verify_chain(grant_chain.as_bytes(), Some(NOW + 11 * 60), &())
                .map(|_| ())
        )
    );
    let mut tampered = grant_chain.as_bytes().to_vec();
    let last = tampered.len() - 70;
    tampered[last] ^= 1;
    println!(
        "grant with one bit changed:               {}",
        outcome(
            lock.verify_chain(&tampered, Some(NOW + 30), &())
                .map(|_| ())
        )
    );
    println!(
        "grant while the lock's clock is untrusted: {}",
        outcome(
            lock.verify_chain(grant_chain.as_bytes(), None, &())
                .map(|_| ())
        )
    );
    Ok(())
}

fn outcome(r: Result<(), doorkey::Error>) -> String {
    match r {
        Ok(()) => "ACCEPTED (unexpected)".into(),
        Err(e) => format!("refused: {e}"),
    }
}
