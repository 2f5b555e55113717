//! Delegated credentials: chains verify offline at the lock, every link only narrows its
//! parent, and every bad input is refused with a clear error.

mod common;

use common::*;
use doorkey::Error;
use doorkey::credential::{
    Chain, CredentialId, Link, LockId, MAX_CHAIN_BYTES, Revocations, Rights, Scope, UnverifiedChain,
};
use doorkey::crypto::{PublicKey, Signer};
use doorkey::time::{Schedule, Seconds, TzRule, UnixTime, WeeklyWindow};
use doorkey::wire::{Bounded, VERSION};

fn verify(w: &World, chain: &[u8], now: UnixTime) -> Result<doorkey::credential::Grant, Error> {
    w.lock.verify_chain(chain, Some(now), &())
}

#[test]
fn courier_chain_verifies_and_names_holder() {
    let mut w = World::new();
    let chain = w.courier_chain();
    let leaf = chain.leaf().unwrap();
    let grant = verify(&w, chain.as_bytes(), T0 + secs(10)).unwrap();
    assert_eq!(grant.holder, w.courier.public_key());
    assert_eq!(grant.owner, w.owner.public_key());
    assert_eq!(grant.id, leaf.id);
    assert_eq!(grant.rights, Rights::UNLOCK.union(Rights::LOCK));
    assert_eq!(grant.limits.len(), 1);
    assert_eq!(grant.limits.as_slice()[0].uses, 1);
    assert_eq!(grant.expires, Some(T0 + secs(600)));
    assert_eq!(grant.purpose, Some([7; 32]));
    assert!(grant.require(Rights::UNLOCK).is_ok());
    assert_eq!(grant.require(Rights::DELEGATE), Err(Error::NotPermitted));
}

#[test]
fn chains_of_one_to_four_links_verify_and_five_are_refused() {
    let mut w = World::new();
    let mut link = w.company_link();
    link.depth = 4;
    let mut chain = Chain::root(&w.owner, &link).unwrap();
    assert!(verify(&w, chain.as_bytes(), T0).is_ok());
    let mut signer = key(3);
    for (i, seed) in [20u8, 21, 22].into_iter().enumerate() {
        let next = key(seed);
        let mut child = link;
        child.subject = next.public_key().into();
        child.scope = Scope::Inherit;
        child.depth = link.depth - 1 - i as u8;
        child.id = CredentialId([seed; 16]);
        chain = chain.extend(&signer, &child).unwrap();
        assert_eq!(
            verify(&w, chain.as_bytes(), T0).unwrap().holder,
            next.public_key()
        );
        signer = next;
    }
    assert_eq!(chain.decode().unwrap().links().count(), 4);
    let mut fifth = link;
    fifth.subject = key(23).public_key().into();
    fifth.scope = Scope::Inherit;
    fifth.depth = 0;
    assert_eq!(chain.extend(&signer, &fifth), Err(Error::ChainLength));
    // A hand-made five-link chain is refused by the decoder.
    let mut bytes = chain.as_bytes().to_vec();
    bytes[6] = 5;
    assert_eq!(
        UnverifiedChain::decode(&bytes).unwrap_err(),
        Error::ChainLength
    );
    bytes[6] = 0;
    assert_eq!(
        UnverifiedChain::decode(&bytes).unwrap_err(),
        Error::ChainLength
    );
}

/// Each way a child can ask for more than its parent, refused by issuance and by the lock.
#[test]
fn widening_links_are_refused_by_issuer_and_by_lock() {
    let other_lock = LockId([0xAB; 16]);
    let mut w = World::new();
    let mut parent = w.company_link();
    parent.rights = Rights::UNLOCK.union(Rights::DELEGATE);
    let company_chain = Chain::root(&w.owner, &parent).unwrap();
    let mut base = w.courier_link();
    base.rights = Rights::UNLOCK;
    assert!(company_chain.extend(&w.company, &base).is_ok());
    type Widen = Box<dyn Fn(&mut Link)>;
    let widen: Vec<(&str, Widen)> = vec![
        (
            "lock right",
            Box::new(|l| l.rights = l.rights.union(Rights::LOCK)),
        ),
        ("depth", Box::new(|l| l.depth = 1)),
        (
            "earlier start",
            Box::new(|l| l.not_before = T0 - Seconds::from_days(2)),
        ),
        (
            "later end",
            Box::new(|l| {
                l.not_before = T0;
                l.lifetime = Some(Seconds::from_days(31));
            }),
        ),
        ("no expiry", Box::new(|l| l.lifetime = None)),
        (
            "other lock",
            Box::new(move |l| l.scope = Scope::Locks(Bounded::from_slice(&[other_lock]).unwrap())),
        ),
        ("epoch", Box::new(|l| l.epoch = 1)),
    ];
    for (name, f) in widen {
        let mut child = base;
        f(&mut child);
        let issued = company_chain.extend(&w.company, &child);
        assert!(
            matches!(issued, Err(Error::Widened)),
            "{name}: issuer allowed {issued:?}"
        );
        let raw = raw_chain(
            &w.owner.public_key(),
            &[(&w.owner, parent), (&w.company, child)],
        );
        assert_eq!(
            verify(&w, &raw, T0 + secs(10)).unwrap_err(),
            Error::Widened,
            "{name}"
        );
    }
}

#[test]
fn parent_limits_on_uses_schedule_and_purpose_bind_children() {
    let mut w = World::new();
    let mut parent = w.company_link();
    parent.uses = Some(10);
    parent.purpose = Some([1; 32]);
    let weekdays = Schedule {
        windows: Bounded::from_slice(&[WeeklyWindow {
            days: 0b0001_1111,
            start: 9 * 60,
            length: 8 * 60,
        }])
        .unwrap(),
        exceptions: Bounded::new(),
    };
    parent.schedule = Some(weekdays);
    let chain = Chain::root(&w.owner, &parent).unwrap();
    let mut ok = w.courier_link();
    ok.uses = Some(10);
    ok.purpose = Some([1; 32]);
    ok.schedule = Some(weekdays);
    assert!(chain.extend(&w.company, &ok).is_ok());

    let mut cases = Vec::new();
    let mut c = ok;
    c.uses = Some(11);
    cases.push(("more uses", c));
    let mut c = ok;
    c.uses = None;
    cases.push(("unlimited uses", c));
    let mut c = ok;
    c.schedule = None;
    cases.push(("no schedule", c));
    let mut c = ok;
    c.schedule = Some(Schedule {
        windows: Bounded::from_slice(&[WeeklyWindow {
            days: 0b0111_1111,
            start: 9 * 60,
            length: 8 * 60,
        }])
        .unwrap(),
        exceptions: Bounded::new(),
    });
    cases.push(("weekend added", c));
    let mut c = ok;
    c.purpose = Some([2; 32]);
    cases.push(("other purpose", c));
    let mut c = ok;
    c.purpose = None;
    cases.push(("purpose dropped", c));
    for (name, child) in cases {
        assert_eq!(
            chain.extend(&w.company, &child).unwrap_err(),
            Error::Widened,
            "{name}"
        );
        let raw = raw_chain(
            &w.owner.public_key(),
            &[(&w.owner, parent), (&w.company, child)],
        );
        assert_eq!(
            verify(&w, &raw, T0 + secs(10)).unwrap_err(),
            Error::Widened,
            "{name}"
        );
    }
}

#[test]
fn a_link_without_delegate_right_cannot_have_children() {
    let mut w = World::new();
    let mut parent = w.company_link();
    parent.rights = Rights::UNLOCK.union(Rights::LOCK);
    let chain = Chain::root(&w.owner, &parent).unwrap();
    let child = w.courier_link();
    assert_eq!(
        chain.extend(&w.company, &child).unwrap_err(),
        Error::Widened
    );
    let raw = raw_chain(
        &w.owner.public_key(),
        &[(&w.owner, parent), (&w.company, child)],
    );
    assert_eq!(verify(&w, &raw, T0 + secs(10)).unwrap_err(), Error::Widened);
}

#[test]
fn validity_window_is_enforced_at_and_just_beyond_each_boundary() {
    let mut w = World::new();
    let chain = w.courier_chain();
    let b = chain.as_bytes();
    assert_eq!(verify(&w, b, T0 - secs(1)).unwrap_err(), Error::NotYetValid);
    assert!(verify(&w, b, T0).is_ok());
    assert!(verify(&w, b, T0 + secs(599)).is_ok());
    assert_eq!(verify(&w, b, T0 + secs(600)).unwrap_err(), Error::Expired);
    // The parent's window binds too: the company link ends 29 days after T0.
    let company = w.company_chain();
    let end = T0 + Seconds::from_days(29);
    assert!(verify(&w, company.as_bytes(), end - secs(1)).is_ok());
    assert_eq!(
        verify(&w, company.as_bytes(), end).unwrap_err(),
        Error::Expired
    );
    assert_eq!(
        verify(&w, company.as_bytes(), T0 - DAY - secs(1)).unwrap_err(),
        Error::NotYetValid
    );
}

#[test]
fn time_bounded_grants_fail_closed_without_a_trusted_clock_but_permanent_ones_work() {
    let mut w = World::new();
    let chain = w.courier_chain();
    assert_eq!(
        w.lock
            .verify_chain(chain.as_bytes(), None, &())
            .unwrap_err(),
        Error::ClockUntrusted
    );
    let mut permanent = w.company_link();
    permanent.not_before = UnixTime::EPOCH;
    permanent.lifetime = None;
    let chain = Chain::root(&w.owner, &permanent).unwrap();
    assert!(w.lock.verify_chain(chain.as_bytes(), None, &()).is_ok());
}

#[test]
fn recurring_schedule_follows_the_locks_local_time_across_dst() {
    let mut w = World::new();
    w.lock
        .set_time_zone(TzRule::parse("CET-1CEST,M3.5.0,M10.5.0/3").unwrap())
        .unwrap();
    let mut walker = w.company_link();
    walker.not_before = UnixTime::from_secs(1_767_225_600); // 2026-01-01T00:00Z
    walker.lifetime = Some(Seconds::from_days(365));
    walker.rights = Rights::UNLOCK.union(Rights::LOCK);
    walker.depth = 0;
    walker.schedule = Some(Schedule {
        // Mon-Fri 12:00-13:00 local.
        windows: Bounded::from_slice(&[WeeklyWindow {
            days: 0b0001_1111,
            start: 12 * 60,
            length: 60,
        }])
        .unwrap(),
        exceptions: Bounded::new(),
    });
    let chain = Chain::root(&w.owner, &walker).unwrap();
    let b = chain.as_bytes();
    // Friday 2026-03-27 (CET, UTC+1): 12:00 local = 11:00Z.
    let fri_winter = UnixTime::from_secs(1_774_609_200); // 2026-03-27T11:00:00Z
    assert_eq!(
        verify(&w, b, fri_winter - secs(1)).unwrap_err(),
        Error::OutsideSchedule
    );
    assert!(verify(&w, b, fri_winter).is_ok());
    assert!(verify(&w, b, fri_winter + secs(3599)).is_ok());
    assert_eq!(
        verify(&w, b, fri_winter + Seconds::from_hours(1)).unwrap_err(),
        Error::OutsideSchedule
    );
    // Monday 2026-03-30 (CEST, UTC+2): 12:00 local = 10:00Z.
    let mon_summer = UnixTime::from_secs(1_774_864_800); // 2026-03-30T10:00:00Z
    assert_eq!(
        verify(&w, b, mon_summer - secs(1)).unwrap_err(),
        Error::OutsideSchedule
    );
    assert!(verify(&w, b, mon_summer).is_ok());
    assert!(verify(&w, b, mon_summer + secs(3599)).is_ok());
    assert_eq!(
        verify(&w, b, mon_summer + Seconds::from_hours(1)).unwrap_err(),
        Error::OutsideSchedule
    );
    // Saturday is outside.
    assert_eq!(
        verify(&w, b, fri_winter + DAY).unwrap_err(),
        Error::OutsideSchedule
    );
}

#[test]
fn wrong_lock_unknown_owner_epoch_and_revocation_are_refused() {
    let mut w = World::new();
    let chain = w.courier_chain();
    let b = chain.as_bytes().to_vec();

    let mut other = doorkey::lock::Enrolment::new(key(50).public_key());
    other.enrol_owner(w.owner.public_key()).unwrap();
    assert_eq!(
        other.verify_chain(&b, Some(T0), &()).unwrap_err(),
        Error::WrongLock
    );

    let mut stranger = doorkey::lock::Enrolment::new(key(2).public_key());
    stranger.enrol_owner(key(51).public_key()).unwrap();
    assert_eq!(
        stranger.verify_chain(&b, Some(T0), &()).unwrap_err(),
        Error::UnknownOwner
    );

    w.lock.set_epoch(1).unwrap();
    assert_eq!(verify(&w, &b, T0).unwrap_err(), Error::Revoked);
    assert_eq!(w.lock.set_epoch(0), Err(Error::Stale));

    let w = World::new();
    struct Ids(CredentialId);
    impl Revocations for Ids {
        fn id_revoked(&self, id: &CredentialId) -> bool {
            *id == self.0
        }
        fn key_revoked(&self, _: &PublicKey) -> bool {
            false
        }
    }
    struct Keys(PublicKey);
    impl Revocations for Keys {
        fn id_revoked(&self, _: &CredentialId) -> bool {
            false
        }
        fn key_revoked(&self, k: &PublicKey) -> bool {
            *k == self.0
        }
    }
    let parsed = UnverifiedChain::decode(&b).unwrap();
    let ids: Vec<CredentialId> = parsed.links().map(|l| l.id).collect();
    for id in ids {
        assert_eq!(
            w.lock.verify_chain(&b, Some(T0), &Ids(id)).unwrap_err(),
            Error::Revoked
        );
    }
    for k in [w.company.public_key(), w.courier.public_key()] {
        assert_eq!(
            w.lock.verify_chain(&b, Some(T0), &Keys(k)).unwrap_err(),
            Error::Revoked
        );
    }
}

/// A courier link issued under a delegation for lock A cannot be moved under the same
/// company's delegation for lock B: each signature binds its parent.
#[test]
fn a_link_cannot_be_spliced_under_another_parent() {
    let mut w = World::new();
    let lock_b = doorkey::lock::Enrolment::new(key(60).public_key());
    let mut for_a = w.company_link();
    for_a.schedule = Some(Schedule {
        windows: Bounded::from_slice(&[WeeklyWindow {
            days: 1,
            start: 0,
            length: 60,
        }])
        .unwrap(),
        exceptions: Bounded::new(),
    });
    let mut for_both = w.company_link();
    for_both.scope = Scope::Locks(Bounded::from_slice(&[w.lock_id(), lock_b.id()]).unwrap());
    let chain_a = Chain::root(&w.owner, &for_a).unwrap();
    let chain_both = Chain::root(&w.owner, &for_both).unwrap();
    let mut courier = w.courier_link();
    courier.schedule = for_a.schedule;
    // Monday 00:00-02:00 UTC, inside the schedule, so only the signature can refuse it.
    courier.not_before = T0 - Seconds::from_hours(12);
    courier.lifetime = Some(Seconds::from_hours(2));
    let issued = chain_a.extend(&w.company, &courier).unwrap();
    // Take the courier's link bytes and graft them onto the other root.
    let leaf_len = issued.as_bytes().len() - chain_a.as_bytes().len();
    let leaf_bytes = &issued.as_bytes()[issued.as_bytes().len() - leaf_len..];
    let mut grafted = chain_both.as_bytes().to_vec();
    grafted[6] = 2;
    grafted.extend_from_slice(leaf_bytes);
    assert!(UnverifiedChain::decode(&grafted).is_ok());
    let inside = T0 - Seconds::from_hours(12) + secs(1800);
    assert!(verify(&w, issued.as_bytes(), inside).is_ok());
    assert_eq!(verify(&w, &grafted, inside).unwrap_err(), Error::Crypto);
}

#[test]
fn every_single_bit_flip_is_refused() {
    let mut w = World::new();
    let chain = w.courier_chain();
    let good = chain.as_bytes();
    assert!(verify(&w, good, T0 + secs(1)).is_ok());
    for i in 0..good.len() * 8 {
        let mut bad = good.to_vec();
        bad[i / 8] ^= 1 << (i % 8);
        assert!(
            verify(&w, &bad, T0 + secs(1)).is_err(),
            "bit {i} flipped was accepted"
        );
    }
}

#[test]
fn truncated_trailing_oversize_and_foreign_version_input_is_refused() {
    let mut w = World::new();
    let chain = w.courier_chain();
    let good = chain.as_bytes();
    for n in 0..good.len() {
        let err = UnverifiedChain::decode(&good[..n]).unwrap_err();
        assert!(
            matches!(err, Error::Truncated | Error::Malformed),
            "prefix {n}: {err:?}"
        );
    }
    let mut trailing = good.to_vec();
    trailing.push(0);
    assert_eq!(
        UnverifiedChain::decode(&trailing).unwrap_err(),
        Error::TrailingBytes
    );
    let mut v2 = good.to_vec();
    v2[0] = VERSION + 1;
    assert_eq!(
        UnverifiedChain::decode(&v2).unwrap_err(),
        Error::UnsupportedVersion
    );
    let mut kind = good.to_vec();
    kind[1] = 0x7f;
    assert_eq!(
        UnverifiedChain::decode(&kind).unwrap_err(),
        Error::UnexpectedKind
    );
    let huge = vec![0u8; MAX_CHAIN_BYTES + 1];
    assert_eq!(UnverifiedChain::decode(&huge).unwrap_err(), Error::Oversize);
}

#[test]
fn out_of_range_values_are_refused_by_the_decoder() {
    let mut w = World::new();
    let owner = w.owner.public_key();
    let base = w.company_link();
    let mut cases: Vec<(&str, Link)> = Vec::new();
    let mut l = base;
    l.rights = Rights::from_bits(0).unwrap();
    cases.push(("no rights", l));
    let mut l = base;
    l.lifetime = Some(Seconds::ZERO);
    cases.push(("zero lifetime", l));
    let mut l = base;
    l.uses = Some(0);
    cases.push(("zero uses", l));
    let mut l = base;
    l.scope = Scope::Locks(Bounded::new());
    cases.push(("empty scope", l));
    let mut l = base;
    l.scope = Scope::Locks(Bounded::from_slice(&[w.lock_id(), w.lock_id()]).unwrap());
    cases.push(("duplicate lock", l));
    for (name, link) in cases {
        let raw = raw_chain(&owner, &[(&w.owner, link)]);
        assert_eq!(
            UnverifiedChain::decode(&raw).unwrap_err(),
            Error::Malformed,
            "{name}"
        );
    }
    // Unknown rights bits: patch the rights byte of an encoded link (after the subject, tag 0
    // and 32 bytes, and the scope: tag 1, count 1, one 16-byte id).
    let raw = raw_chain(&owner, &[(&w.owner, base)]);
    let rights_at = 7 + 1 + 32 + 2 + 16;
    assert_eq!(raw[rights_at], base.rights.bits());
    let mut bad = raw.clone();
    bad[rights_at] = 0x80 | base.rights.bits();
    assert_eq!(UnverifiedChain::decode(&bad).unwrap_err(), Error::Malformed);
    // Five locks in one scope: over the limit of four.
    let mut five = raw.clone();
    five[7 + 32 + 1] = 5;
    assert!(UnverifiedChain::decode(&five).is_err());
    // A root that inherits has nothing to inherit from.
    let mut l = base;
    l.scope = Scope::Inherit;
    let raw = raw_chain(&owner, &[(&w.owner, l)]);
    assert_eq!(verify(&w, &raw, T0).unwrap_err(), Error::Malformed);
}

#[test]
fn decode_then_encode_is_the_identity() {
    let mut w = World::new();
    let chain = w.courier_chain();
    let bytes = chain.as_bytes();
    let parsed = UnverifiedChain::decode(bytes).unwrap();
    let links: Vec<Link> = parsed.links().collect();
    let mut re = bytes[..7].to_vec();
    let mut at = 7;
    for link in &links {
        let body = postcard::to_allocvec(link).unwrap();
        re.extend_from_slice(&body);
        at += body.len();
        re.extend_from_slice(&bytes[at..at + 64]);
        at += 64;
    }
    assert_eq!(re, bytes);
}

#[test]
fn issuance_refuses_weak_subjects_and_foreign_signers() {
    let mut w = World::new();
    let mut link = w.company_link();
    link.subject = PublicKey([0; 32]).into();
    assert_eq!(Chain::root(&w.owner, &link).unwrap_err(), Error::WeakKey);
    let chain = w.company_chain();
    let courier = w.courier_link();
    // Only the company's key may extend the company's link.
    assert_eq!(
        chain.extend(&w.courier, &courier).unwrap_err(),
        Error::Misuse
    );
    // A root must name its locks.
    let mut inherit = w.company_link();
    inherit.scope = Scope::Inherit;
    assert_eq!(Chain::root(&w.owner, &inherit).unwrap_err(), Error::Misuse);
}

/// Postcard reads an overlong varint (0x9e 0x00 for 0x1e) as the same number; the decoder
/// accepts only the shortest form, so every accepted chain has exactly one encoding.
#[test]
fn non_canonical_varints_are_refused() {
    let mut w = World::new();
    let chain = w.company_chain();
    let good = chain.as_bytes();
    // The root's `not_before` varint follows the subject (32), scope (2 + 16) and rights (1).
    let at = 7 + 32 + 18 + 1;
    let end = at + good[at..].iter().position(|b| b & 0x80 == 0).unwrap();
    let mut long = good[..end].to_vec();
    long.push(good[end] | 0x80);
    long.push(0);
    long.extend_from_slice(&good[end + 1..]);
    assert_eq!(
        UnverifiedChain::decode(&long).unwrap_err(),
        Error::Malformed
    );
    assert!(UnverifiedChain::decode(good).is_ok());
}

#[test]
fn a_revoked_owner_key_roots_nothing_after_narrowing_and_scope_before_per_link_checks() {
    struct Keys(PublicKey);
    impl Revocations for Keys {
        fn id_revoked(&self, _: &CredentialId) -> bool {
            false
        }
        fn key_revoked(&self, k: &PublicKey) -> bool {
            *k == self.0
        }
    }
    let mut w = World::new();
    let b = w.courier_chain().as_bytes().to_vec();
    let owner = Keys(w.owner.public_key());
    assert!(
        w.lock
            .verify_chain(&b, Some(T0), &Keys(key(60).public_key()))
            .is_ok()
    );
    assert_eq!(
        w.lock.verify_chain(&b, Some(T0), &owner).unwrap_err(),
        Error::Revoked
    );
    // 7.3 V5a comes before the per-link checks: an expired chain of a revoked owner is Revoked.
    assert_eq!(
        w.lock
            .verify_chain(&b, Some(T0 + secs(600)), &Keys(key(60).public_key()))
            .unwrap_err(),
        Error::Expired
    );
    assert_eq!(
        w.lock
            .verify_chain(&b, Some(T0 + secs(600)), &owner)
            .unwrap_err(),
        Error::Revoked
    );
    // And after the scope check: another lock says WrongLock.
    let mut other = doorkey::lock::Enrolment::new(key(50).public_key());
    other.enrol_owner(w.owner.public_key()).unwrap();
    assert_eq!(
        other.verify_chain(&b, Some(T0), &owner).unwrap_err(),
        Error::WrongLock
    );
}

/// Just-in-time issuance outside the booked slot says so, rather than blaming the
/// credential's rights; a zero lifetime is the caller's mistake.
#[test]
fn minting_outside_the_booked_slot_is_refused_as_such() {
    use doorkey::server::{Delivery, Issuer};
    let mut w = World::new();
    let issuer = Issuer::new(common::key(3), w.company_chain()).unwrap();
    let delivery = Delivery {
        order_id: b"order-1",
        lock: w.lock_id(),
        slot_start: T0,
        slot_end: T0 + Seconds::from_hours(1),
    };
    let device = w.courier.public_key();
    for now in [T0 - secs(1), T0 + Seconds::from_hours(1)] {
        let minted = issuer.mint_delivery(&delivery, device, now, secs(600), &mut w.rng);
        assert_eq!(minted, Err(Error::OutsideSlot));
    }
    assert_eq!(
        Error::OutsideSlot.to_string(),
        "outside the booked delivery slot"
    );
    assert_eq!(
        issuer.mint_delivery(&delivery, device, T0, Seconds::ZERO, &mut w.rng),
        Err(Error::Misuse)
    );
    assert!(
        issuer
            .mint_delivery(&delivery, device, T0, secs(600), &mut w.rng)
            .is_ok()
    );
}

/// `NotPermitted` covers more than a credential's rights (a time anchor from a key that is no
/// time authority, a presence check that said no), so its message claims nothing narrower.
#[test]
fn not_permitted_has_a_message_for_every_cause() {
    assert_eq!(Error::NotPermitted.to_string(), "not permitted");
}

/// A weekly window in Europe/Berlin's rule: Sunday 02:00-03:00 local never happens on the last
/// Sunday of March (a gap) and happens twice on the last Sunday of October (an overlap).
/// Issuance that knows the lock's rule says so before signing.
#[test]
fn a_window_meeting_a_dst_gap_or_overlap_is_reported_before_signing() {
    use doorkey::server::Issuer;
    use doorkey::time::{Shift, days_from_civil};
    let tz = TzRule::parse("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
    let day = |m: u8, d: u8| {
        UnixTime::EPOCH + Seconds::from_days(days_from_civil(2026, m, d).unwrap() as u64)
    };
    let sunday_2am = Schedule::new(
        &[WeeklyWindow::new(WeeklyWindow::SUNDAY, 120, 60).unwrap()],
        &[],
    )
    .unwrap();

    // What the window really does on those two days.
    let open_seconds = |date: UnixTime| {
        let day_number = (date.as_secs() / DAY.as_secs()) as i64;
        ((date - Seconds::from_hours(3)).as_secs()..(date + DAY).as_secs())
            .map(UnixTime::from_secs)
            .filter(|&t| sunday_2am.permits(tz.local(t)) && tz.local(t).days == day_number)
            .count()
    };
    assert_eq!(open_seconds(day(3, 29)), 0);
    assert_eq!(open_seconds(day(10, 25)), 2 * 3600);
    assert_eq!(open_seconds(day(3, 22)), 3600);

    let mut w = World::new();
    let mut root = w.company_link();
    root.not_before = day(1, 1);
    root.lifetime = Some(Seconds::from_days(366));
    let issuer = Issuer::new(key(3), Chain::root(&w.owner, &root).unwrap()).unwrap();
    let walker = |from: UnixTime, to: UnixTime, schedule: Schedule| {
        Link::builder(key(4).public_key(), Rights::UNLOCK)
            .valid_from(from)
            .valid_until(to)
            .schedule(schedule)
            .id(CredentialId([9; 16]))
            .build(&mut rng(0))
            .unwrap()
    };
    let march = walker(day(3, 1), day(4, 1), sunday_2am);
    let october = walker(day(10, 1), day(11, 1), sunday_2am);
    let summer = walker(day(4, 1), day(10, 1), sunday_2am);
    let noon = Schedule::new(
        &[WeeklyWindow::new(WeeklyWindow::EVERY_DAY, 720, 60).unwrap()],
        &[],
    )
    .unwrap();
    let all_year = walker(day(1, 1), day(12, 31), noon);

    let gap = march.dst_conflict(&tz).unwrap();
    assert_eq!(
        (gap.shift, gap.at),
        (Shift::Gap, day(3, 29) + Seconds::from_hours(1))
    );
    let overlap = october.dst_conflict(&tz).unwrap();
    assert_eq!(
        (overlap.shift, overlap.at),
        (Shift::Overlap, day(10, 25) + Seconds::from_hours(1))
    );
    assert_eq!(summer.dst_conflict(&tz), None);
    let mut permanent = summer;
    permanent.lifetime = None;
    let next = permanent.dst_conflict(&tz).unwrap();
    assert_eq!(
        (next.shift, next.at),
        (Shift::Overlap, day(10, 25) + Seconds::from_hours(1))
    );
    assert_eq!(all_year.dst_conflict(&tz), None);
    assert_eq!(march.dst_conflict(&TzRule::UTC), None);
    // A window that misses the changed hour by a minute is fine.
    let early = Schedule::new(
        &[WeeklyWindow::new(WeeklyWindow::SUNDAY, 60, 60).unwrap()],
        &[],
    )
    .unwrap();
    assert_eq!(walker(day(3, 1), day(4, 1), early).dst_conflict(&tz), None);

    let knowing = Issuer::new(key(3), issuer.chain().clone())
        .unwrap()
        .with_time_zone(tz);
    assert_eq!(knowing.delegate(&march), Err(Error::AmbiguousLocalTime));
    assert_eq!(knowing.delegate(&october), Err(Error::AmbiguousLocalTime));
    assert!(knowing.delegate(&summer).is_ok());
    assert!(knowing.delegate(&all_year).is_ok());
    assert!(issuer.delegate(&march).is_ok());
}

#[test]
fn a_chain_of_exactly_the_size_limit_is_decoded_and_its_length_reported() {
    // At the limit the size check passes and decoding goes on (to a count of zero here).
    let mut bytes = vec![0u8; MAX_CHAIN_BYTES];
    bytes[..2].copy_from_slice(&[VERSION, 0x01]);
    assert_eq!(
        UnverifiedChain::decode(&bytes).err(),
        Some(Error::ChainLength)
    );
    let mut w = World::new();
    let chain = w.courier_chain();
    let decoded = UnverifiedChain::decode(chain.as_bytes()).unwrap();
    assert_eq!((decoded.len(), decoded.is_empty()), (2, false));
}
