//! The fast path (PROTOCOL section 22): a challenge prepared while the lock is idle, and
//! delegation links the lock keeps verified so a repeat visitor need not send them again.

mod common;

use common::*;
use doorkey::Error;
use doorkey::config::Change;
use doorkey::lock::Lock;
use doorkey::phone::{Credential, PhoneSession, inspect_challenge};
use doorkey::session::{Command, Reply};
use doorkey::time::Tick;

/// The challenge `lock` hands out at `tick` with an rng seeded `seed`.
fn challenge(lock: &mut Lock<Mem>, tick: Tick, seed: u8) -> Vec<u8> {
    let mut out = [0u8; 256];
    let n = lock.challenge(tick, &mut rng(seed), &mut out).unwrap();
    out[..n].to_vec()
}

/// What a lock in the same state would sign, fresh, with an rng seeded `seed`: the bytes a
/// challenge prepared with that rng must have.
fn signed_fresh(w: &World, trusted: bool, seed: u8) -> Vec<u8> {
    let mut lock = install(w);
    if trusted {
        set_time(&mut lock, tick(1), T0, &key(1), &mut rng(99));
    }
    challenge(&mut lock, tick(1), seed)
}

/// Answers `challenge` with `command` as the holder of `cred`; the lock's verdict.
fn answer(
    lock: &mut Lock<Mem>,
    tick: Tick,
    challenge: &[u8],
    cred: &Credential<'_, doorkey::crypto::SecretKey>,
    command: Command<'_>,
) -> Result<Reply<'static>, Error> {
    let mut open = [0u8; 2048];
    let (mut s, m) = PhoneSession::open(challenge, cred, command, &mut rng(50), &mut open).unwrap();
    let mut out = [0u8; 4096];
    let outcome = lock.handle(tick, &mut open[..m], &mut out)?;
    Ok(owned(s.read_reply(&mut out[..outcome.reply]).unwrap()))
}

fn trusted_lock(w: &mut World) -> Lock<Mem> {
    let mut lock = install(w);
    set_time(&mut lock, tick(50), T0 - secs(50), &key(1), &mut w.rng);
    lock
}

#[test]
fn a_prepared_challenge_is_handed_out_and_lives_from_then() {
    let mut w = World::new();
    let mut lock = trusted_lock(&mut w);
    let chain = w.courier_chain();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    lock.prepare_challenge(tick(60), &mut rng(20)).unwrap();
    // Handed out 40 s after it was signed, with another rng: the prepared bytes go out.
    let c = challenge(&mut lock, tick(100), 21);
    assert_eq!(c, signed_fresh(&w, true, 20));
    // Its five seconds count from the hand-out, not from the signature.
    assert_eq!(
        answer(&mut lock, tick(105), &c, &cred, Command::Hello),
        Ok(Reply::Ready)
    );
    // Answerable once.
    assert_eq!(
        answer(&mut lock, tick(105), &c, &cred, Command::Hello),
        Err(Error::Replay)
    );
    // Used up by the hand-out: the next challenge is signed afresh, with another nonce.
    let next = challenge(&mut lock, tick(106), 22);
    let nonce = |c: &[u8]| inspect_challenge(c, &lock.id()).unwrap().nonce;
    assert_ne!(nonce(&next), nonce(&c));
}

#[test]
fn a_prepared_challenge_expires_a_lifetime_after_its_hand_out() {
    let mut w = World::new();
    let mut lock = trusted_lock(&mut w);
    let chain = w.courier_chain();
    let cred = Credential::new(chain.as_bytes(), key(4)).unwrap();
    lock.prepare_challenge(tick(60), &mut rng(20)).unwrap();
    let c = challenge(&mut lock, tick(100), 21);
    assert_eq!(
        answer(&mut lock, tick(106), &c, &cred, Command::Hello),
        Err(Error::Replay)
    );
}

#[test]
fn a_reboot_voids_a_prepared_challenge() {
    let w = World::new();
    let mut lock = install(&w);
    lock.prepare_challenge(tick(1), &mut rng(20)).unwrap();
    let mut lock = Lock::boot(key(2), lock.into_storage()).unwrap();
    assert_eq!(
        challenge(&mut lock, tick(1), 21),
        signed_fresh(&w, false, 21)
    );
}

#[test]
fn a_prepared_challenge_whose_clock_trust_changed_is_signed_afresh() {
    let mut w = World::new();
    let mut lock = trusted_lock(&mut w);
    // An owner resets the clock in a session opened before the challenge was prepared.
    let c = challenge(&mut lock, tick(60), 30);
    lock.prepare_challenge(tick(60), &mut rng(20)).unwrap();
    let reset = owner_update(lock.id(), 1, Change::ResetClock(T0));
    let mut open = [0u8; 512];
    let (mut s, m) = PhoneSession::open_anonymous(
        &c,
        &lock.id(),
        Command::Config(&reset),
        &mut rng(31),
        &mut open,
    )
    .unwrap();
    assert_eq!(
        exchange(&mut lock, tick(61), &mut s, &open[..m]).1,
        Reply::ConfigApplied(1)
    );
    let c = challenge(&mut lock, tick(62), 21);
    assert!(!inspect_challenge(&c, &lock.id()).unwrap().clock_trusted);
    assert_eq!(c, signed_fresh(&w, false, 21));
}

// ---- held links (PROTOCOL 22.2) ----

use doorkey::credential::{ChainRef, CredentialId, Link, LockId, Rights, UnverifiedChain};
use doorkey::crypto::{SecretKey, Signer};
use doorkey::lock::{Action, MemoryStorage, Outcome};
use doorkey::session::ReasonCode;
use doorkey::time::{Seconds, UnixTime};
use proptest::prelude::*;

/// A lock keeping `N` runs of links, installed for `World`'s owner.
fn install_n<const N: usize>(w: &World) -> Lock<Mem, N> {
    let mut lock = Lock::<Mem, N>::with_link_cache(key(2), MemoryStorage::new());
    lock.provision(w.owner.public_key()).unwrap();
    lock
}

fn challenge_n<const N: usize>(lock: &mut Lock<Mem, N>, tick: Tick, seed: u8) -> Vec<u8> {
    let mut out = [0u8; 256];
    let n = lock.challenge(tick, &mut rng(seed), &mut out).unwrap();
    out[..n].to_vec()
}

/// What the lock answered, and how the phone got there.
#[derive(Debug)]
struct Visit {
    outcome: Outcome,
    reply: Reply<'static>,
    /// Bytes of the open as sent.
    open: usize,
    /// Whether the lock asked for the whole chain, and the phone resent it.
    retried: bool,
}

/// Answers `challenge` as `cred`'s holder, resending the whole chain if the lock asks.
fn answer_n<const N: usize>(
    lock: &mut Lock<Mem, N>,
    tick: Tick,
    challenge: &[u8],
    cred: &Credential<'_, SecretKey>,
    command: Command<'_>,
) -> Visit {
    let mut open = [0u8; 2048];
    let (mut s, m) = PhoneSession::open(challenge, cred, command, &mut rng(50), &mut open).unwrap();
    let mut out = [0u8; 4096];
    let outcome = lock.handle(tick, &mut open[..m], &mut out).unwrap();
    let reply = owned_or_need(s.read_reply(&mut out[..outcome.reply]).unwrap());
    if reply != Reply::NeedChain {
        return Visit {
            outcome,
            reply,
            open: m,
            retried: false,
        };
    }
    let mut msg = [0u8; 2400];
    let k = s.retry(cred, command, &mut msg).unwrap();
    let outcome = lock.handle(tick, &mut msg[..k], &mut out).unwrap();
    let reply = owned_or_need(s.read_reply(&mut out[..outcome.reply]).unwrap());
    Visit {
        outcome,
        reply,
        open: m,
        retried: true,
    }
}

fn owned_or_need(reply: Reply<'_>) -> Reply<'static> {
    match reply {
        Reply::NeedChain => Reply::NeedChain,
        other => owned(other),
    }
}

/// Sets `lock`'s clock to `utc` at `tick` (an owner's anchor, carried anonymously).
fn anchor_n<const N: usize>(lock: &mut Lock<Mem, N>, tick: Tick, utc: UnixTime) {
    let c = challenge_n(lock, tick, 60);
    let info = inspect_challenge(&c, &lock.id()).unwrap();
    let mut anchor = [0u8; 256];
    let a = doorkey::config::TimeAnchor {
        lock: lock.id(),
        nonce: info.nonce,
        time: utc,
        signer: key(1).public_key(),
    }
    .sign(&key(1), &mut anchor)
    .unwrap();
    assert_eq!(
        admin_n(lock, tick, &c, Command::Time(&anchor[..a])),
        Reply::TimeSet(utc)
    );
}

/// Answers `challenge` anonymously with `command`.
fn admin_n<const N: usize>(
    lock: &mut Lock<Mem, N>,
    tick: Tick,
    challenge: &[u8],
    command: Command<'_>,
) -> Reply<'static> {
    let mut open = [0u8; 512];
    let (mut s, m) =
        PhoneSession::open_anonymous(challenge, &lock.id(), command, &mut rng(61), &mut open)
            .unwrap();
    let mut out = [0u8; 4096];
    let outcome = lock.handle(tick, &mut open[..m], &mut out).unwrap();
    owned(s.read_reply(&mut out[..outcome.reply]).unwrap())
}

/// An owner's configuration update applied through its own session.
fn configure_n<const N: usize>(lock: &mut Lock<Mem, N>, tick: Tick, version: u64, change: Change) {
    let update = owner_update(lock.id(), version, change);
    let c = challenge_n(lock, tick, 62);
    assert_eq!(
        admin_n(lock, tick, &c, Command::Config(&update)),
        Reply::ConfigApplied(version)
    );
}

/// The owner's link to `company` (the World's company link, to that key, with an id of its
/// own): the same bytes every time.
fn root_link(w: &mut World, company: &SecretKey) -> Link {
    let mut root = w.company_link();
    root.subject = company.public_key().into();
    root.id = CredentialId(company.public_key().0[..16].try_into().unwrap());
    root
}

/// Owner -> `company`, then a courier leaf with no use limit, id `leaf_id`.
fn company_chain(w: &mut World, company: &SecretKey, leaf_id: u8) -> Vec<u8> {
    let root = root_link(w, company);
    let leaf = courier_leaf(w, leaf_id);
    raw_chain(&w.owner.public_key(), &[(&w.owner, root), (company, leaf)])
}

fn courier_leaf(w: &mut World, id: u8) -> Link {
    let mut leaf = w.courier_link();
    leaf.uses = None;
    leaf.id = CredentialId([id; 16]);
    leaf
}

fn advertised<const N: usize>(lock: &mut Lock<Mem, N>, tick: Tick) -> Vec<ChainRef> {
    let c = challenge_n(lock, tick, 63);
    inspect_challenge(&c, &lock.id())
        .unwrap()
        .cached
        .as_slice()
        .to_vec()
}

fn reference(chain: &[u8]) -> ChainRef {
    UnverifiedChain::decode(chain).unwrap().prefix().unwrap().1
}

const AT: Tick = tick(200);

/// A lock whose clock reads T0 + 100 s at `AT`.
fn timed<const N: usize>(w: &World) -> Lock<Mem, N> {
    let mut lock = install_n::<N>(w);
    anchor_n(&mut lock, tick(100), T0);
    lock
}

#[test]
fn a_repeat_visitor_sends_only_its_leaf() {
    let mut w = World::new();
    let mut lock = timed::<4>(&w);
    let first = company_chain(&mut w, &key(3), 1);
    let cred = Credential::new(&first, key(4)).unwrap();
    assert_eq!(advertised(&mut lock, AT), []);
    let c = challenge_n(&mut lock, AT, 1);
    let v1 = answer_n(&mut lock, AT, &c, &cred, Command::Unlock);
    assert_eq!(
        (v1.reply, v1.outcome.action),
        (Reply::Unlocked, Action::Unlock)
    );
    // The lock now holds the owner's link to the company, and says so.
    assert_eq!(advertised(&mut lock, AT), [reference(&first)]);
    // Another courier of the company: only its leaf travels, 8 bytes of reference for the
    // company's link.
    let second = company_chain(&mut w, &key(3), 2);
    let cred2 = Credential::new(&second, key(4)).unwrap();
    let c = challenge_n(&mut lock, AT, 2);
    let v2 = answer_n(&mut lock, AT, &c, &cred2, Command::Unlock);
    assert_eq!((v2.reply, v2.retried), (Reply::Unlocked, false));
    let root_len = UnverifiedChain::decode(&second)
        .unwrap()
        .prefix()
        .unwrap()
        .0
        .len();
    assert_eq!(v1.open - v2.open, root_len + 4 + 1 - 8 - 1);
}

#[test]
fn a_miss_is_answered_in_the_same_session_and_the_whole_chain_opens() {
    let mut w = World::new();
    let mut lock = timed::<4>(&w);
    let chain = company_chain(&mut w, &key(3), 1);
    let cred = Credential::new(&chain, key(4)).unwrap();
    let c = challenge_n(&mut lock, AT, 1);
    assert_eq!(
        answer_n(&mut lock, AT, &c, &cred, Command::Hello).reply,
        Reply::Ready
    );
    // Advertised, then forgotten (an unrelated revocation) before the phone answers.
    let c = challenge_n(&mut lock, AT, 2);
    configure_n(
        &mut lock,
        AT,
        1,
        Change::RevokeId {
            id: CredentialId([9; 16]),
            until: None,
        },
    );
    let v = answer_n(&mut lock, AT, &c, &cred, Command::Unlock);
    assert_eq!((v.reply, v.retried), (Reply::Unlocked, true));
    assert_eq!(v.outcome.action, Action::Unlock);
}

#[test]
fn a_retry_is_taken_only_after_need_chain_and_only_once() {
    let mut w = World::new();
    let mut lock = timed::<4>(&w);
    let chain = company_chain(&mut w, &key(3), 1);
    let cred = Credential::new(&chain, key(4)).unwrap();
    let c = challenge_n(&mut lock, AT, 1);
    // Unasked, a retry is refused inside the session.
    let mut open = [0u8; 2048];
    let (mut s, m) = PhoneSession::open(&c, &cred, Command::Hello, &mut rng(5), &mut open).unwrap();
    let mut out = [0u8; 4096];
    let o = lock.handle(AT, &mut open[..m], &mut out).unwrap();
    assert_eq!(s.read_reply(&mut out[..o.reply]).unwrap(), Reply::Ready);
    let mut msg = [0u8; 2400];
    let k = s.retry(&cred, Command::Unlock, &mut msg).unwrap();
    let o = lock.handle(AT, &mut msg[..k], &mut out).unwrap();
    assert_eq!(
        (o.action, o.denied),
        (Action::None, Some(Error::UnexpectedMessage))
    );

    // Asked: one retry is taken; the same bytes again are a replay.
    let c = challenge_n(&mut lock, AT, 2);
    configure_n(
        &mut lock,
        AT,
        1,
        Change::RevokeId {
            id: CredentialId([9; 16]),
            until: None,
        },
    );
    let (mut s, m) = PhoneSession::open(&c, &cred, Command::Hello, &mut rng(6), &mut open).unwrap();
    let o = lock.handle(AT, &mut open[..m], &mut out).unwrap();
    assert_eq!(s.read_reply(&mut out[..o.reply]).unwrap(), Reply::NeedChain);
    assert_eq!(o.action, Action::None);
    let k = s.retry(&cred, Command::Hello, &mut msg).unwrap();
    let captured = msg[..k].to_vec();
    let o = lock.handle(AT, &mut msg[..k], &mut out).unwrap();
    assert_eq!(s.read_reply(&mut out[..o.reply]).unwrap(), Reply::Ready);
    assert_eq!(
        lock.handle(AT, &mut captured.clone(), &mut out),
        Err(Error::Replay)
    );
    // A retry signed for another session's transcript is refused.
    let c = challenge_n(&mut lock, AT, 3);
    configure_n(
        &mut lock,
        AT,
        2,
        Change::RevokeId {
            id: CredentialId([8; 16]),
            until: None,
        },
    );
    let (mut s2, m) =
        PhoneSession::open(&c, &cred, Command::Unlock, &mut rng(7), &mut open).unwrap();
    let o = lock.handle(AT, &mut open[..m], &mut out).unwrap();
    assert_eq!(
        s2.read_reply(&mut out[..o.reply]).unwrap(),
        Reply::NeedChain
    );
    let k = s.retry(&cred, Command::Unlock, &mut msg).unwrap();
    assert_eq!(lock.handle(AT, &mut msg[..k], &mut out), Err(Error::Crypto));
}

#[test]
fn every_configuration_change_and_a_reboot_drop_the_held_links() {
    let changes = [
        Change::RevokeId {
            id: CredentialId([9; 16]),
            until: None,
        },
        Change::RevokeKey(key(30).public_key()),
        Change::SetEpoch(0),
        Change::AddOwner(key(31).public_key()),
        Change::SetChallengeLifetime(9),
        Change::AddTimeKey(key(32).public_key()),
        Change::ConfirmState,
        Change::FactoryReset(key(1).public_key()),
        Change::ResetClock(T0),
    ];
    for change in changes {
        let mut w = World::new();
        let mut lock = timed::<4>(&w);
        let chain = company_chain(&mut w, &key(3), 1);
        let cred = Credential::new(&chain, key(4)).unwrap();
        let c = challenge_n(&mut lock, AT, 1);
        assert_eq!(
            answer_n(&mut lock, AT, &c, &cred, Command::Hello).reply,
            Reply::Ready
        );
        assert_eq!(advertised(&mut lock, AT).len(), 1);
        configure_n(&mut lock, AT, 1, change);
        assert_eq!(advertised(&mut lock, AT), [], "{change:?}");
    }
    let mut w = World::new();
    let mut lock = timed::<4>(&w);
    let chain = company_chain(&mut w, &key(3), 1);
    let cred = Credential::new(&chain, key(4)).unwrap();
    let c = challenge_n(&mut lock, AT, 1);
    answer_n(&mut lock, AT, &c, &cred, Command::Hello);
    let storage = {
        let mut l = lock;
        assert_eq!(advertised(&mut l, AT).len(), 1);
        l.into_storage()
    };
    let mut lock = Lock::<Mem, 4>::with_link_cache(key(2), storage);
    lock.start().unwrap();
    assert_eq!(advertised(&mut lock, AT), []);
}

#[test]
fn the_least_recently_used_run_of_links_is_evicted() {
    let mut w = World::new();
    let mut lock = timed::<2>(&w);
    let chains: Vec<Vec<u8>> = (0..3)
        .map(|i| company_chain(&mut w, &key(40 + i), i))
        .collect();
    let creds: Vec<_> = chains
        .iter()
        .map(|c| Credential::new(c, key(4)).unwrap())
        .collect();
    let refs: Vec<ChainRef> = chains.iter().map(|c| reference(c)).collect();
    let visit = |lock: &mut Lock<Mem, 2>, i: usize, seed: u8| {
        let c = challenge_n(lock, AT, seed);
        answer_n(lock, AT, &c, &creds[i], Command::Hello)
    };
    assert!(!visit(&mut lock, 0, 1).retried);
    assert!(!visit(&mut lock, 1, 2).retried);
    assert_eq!(advertised(&mut lock, AT), [refs[1], refs[0]]);
    // Company 0 comes back (a hit, in short form): company 1 is now the least recent.
    let v = visit(&mut lock, 0, 3);
    assert!(v.open < chains[0].len());
    assert_eq!(advertised(&mut lock, AT), [refs[0], refs[1]]);
    visit(&mut lock, 2, 4);
    assert_eq!(advertised(&mut lock, AT), [refs[2], refs[0]]);
    // A chain sent whole although its company's link is held (its challenge was issued before
    // the lock held it) holds that link once.
    let early = challenge_n(&mut lock, AT, 5);
    visit(&mut lock, 1, 6);
    let v = answer_n(&mut lock, AT, &early, &creds[1], Command::Hello);
    assert!(v.open > chains[1].len());
    assert_eq!(advertised(&mut lock, AT), [refs[1], refs[2]]);
    // A lock keeping none advertises none, and every chain travels whole.
    let mut none = timed::<0>(&w);
    let c = challenge_n(&mut none, AT, 5);
    answer_n(&mut none, AT, &c, &creds[0], Command::Hello);
    assert_eq!(advertised(&mut none, AT), []);
}

#[test]
fn a_reference_to_links_of_another_company_cannot_carry_a_leaf() {
    // Company A's link is held. A chain of A's link and a leaf that company B signed goes
    // in short form (its links before the leaf are A's), and is refused exactly as whole:
    // the leaf's signature is checked against A's link.
    let mut w = World::new();
    let mut lock = timed::<4>(&w);
    let mut whole = timed::<0>(&w);
    let a = company_chain(&mut w, &key(3), 1);
    let cred_a = Credential::new(&a, key(4)).unwrap();
    let c = challenge_n(&mut lock, AT, 1);
    answer_n(&mut lock, AT, &c, &cred_a, Command::Hello);
    let root = root_link(&mut w, &key(3));
    let leaf = courier_leaf(&mut w, 2);
    let forged = raw_chain(&w.owner.public_key(), &[(&w.owner, root), (&key(5), leaf)]);
    assert_eq!(reference(&forged), reference(&a));
    let cred = Credential::new(&forged, key(4)).unwrap();
    let c = challenge_n(&mut lock, AT, 2);
    let v = answer_n(&mut lock, AT, &c, &cred, Command::Unlock);
    assert!(!v.retried && v.open < forged.len());
    assert_eq!(
        (v.outcome.denied, v.reply),
        (
            Some(Error::Crypto),
            Reply::Denied(ReasonCode::NotAuthorized)
        )
    );
    let c = challenge_n(&mut whole, AT, 2);
    let u = answer_n(&mut whole, AT, &c, &cred, Command::Unlock);
    assert_eq!((u.outcome.denied, u.reply), (v.outcome.denied, v.reply));
}

/// One visit to `lock` as the holder of `target` some time after a courier of the same
/// company opened it with `primer`, with `change` applied between the challenge and the
/// answer: the lock's detailed refusal, its reply, and whether the phone resent the chain.
fn verdict<const N: usize>(
    w: &World,
    primer: &[u8],
    target: &[u8],
    later: Seconds,
    change: usize,
    command: Command<'_>,
) -> (Option<Error>, Reply<'static>, bool) {
    let mut lock = timed::<N>(w);
    let cred = Credential::new(primer, key(4)).unwrap();
    let c = challenge_n(&mut lock, AT, 1);
    assert_eq!(
        answer_n(&mut lock, AT, &c, &cred, Command::Hello).reply,
        Reply::Ready
    );
    let at = AT + later;
    let c = challenge_n(&mut lock, at, 2);
    let decoded = UnverifiedChain::decode(target).unwrap();
    let links: Vec<Link> = decoded.links().collect();
    let changes = [
        Change::RevokeKey(key(3).public_key()),
        Change::RevokeId {
            id: links[0].id,
            until: None,
        },
        Change::RevokeId {
            id: links[1].id,
            until: None,
        },
        Change::SetEpoch(1),
        Change::AddOwner(key(8).public_key()),
    ];
    if let Some(ch) = changes.get(change) {
        configure_n(&mut lock, at, 1, *ch);
        if change == 4 {
            configure_n(&mut lock, at, 2, Change::RemoveOwner(key(1).public_key()));
        }
    }
    let cred = Credential::new(target, key(4)).unwrap();
    let v = answer_n(&mut lock, at, &c, &cred, command);
    (v.outcome.denied, v.reply, v.retried)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A chain whose links before the leaf the lock holds gets the verdict the whole chain
    /// gets from a lock holding nothing, whatever the leaf, the time, the revocations or the
    /// owners: held links skip only their signatures.
    #[test]
    fn held_and_whole_chains_get_the_same_verdict(
        rights in 1u8..8,
        starts in 0u64..4,
        lasts in proptest::option::of(1u64..4),
        later in 0u64..40,
        epoch in 0u32..2,
        depth in 0u8..2,
        elsewhere in any::<bool>(),
        forged in any::<bool>(),
        change in 0usize..7,
        lock_command in any::<bool>(),
    ) {
        let mut w = World::new();
        let root = root_link(&mut w, &key(3));
        let primer_leaf = courier_leaf(&mut w, 1);
        let owner = w.owner.public_key();
        let primer = raw_chain(&owner, &[(&w.owner, root), (&key(3), primer_leaf)]);
        let mut leaf = courier_leaf(&mut w, 2);
        leaf.rights = Rights::from_bits(rights).unwrap();
        leaf.not_before = T0 + Seconds::from_days(starts) - DAY;
        leaf.lifetime = lasts.map(|d| Seconds::from_days(d * 7));
        leaf.epoch = epoch;
        leaf.depth = depth;
        if elsewhere {
            leaf.scope = doorkey::credential::Scope::Locks(
                doorkey::wire::Bounded::from_slice(&[w.lock_id(), LockId([5; 16])]).unwrap(),
            );
        }
        let signer = if forged { key(5) } else { key(3) };
        let target = raw_chain(&owner, &[(&w.owner, root), (&signer, leaf)]);
        let later = Seconds::from_days(later);
        let command = if lock_command { Command::Lock } else { Command::Unlock };
        let held = verdict::<4>(&w, &primer, &target, later, change, command);
        let whole = verdict::<0>(&w, &primer, &target, later, change, command);
        prop_assert_eq!((held.0, held.1), (whole.0, whole.1));
        // Held links were used unless a change dropped them after the challenge.
        prop_assert_eq!(held.2, change < 5);
        prop_assert!(!whole.2);
    }
}

#[test]
fn a_prepared_challenge_is_signed_afresh_once_the_held_links_change() {
    let mut w = World::new();
    let mut lock = timed::<4>(&w);
    let chain = company_chain(&mut w, &key(3), 1);
    let cred = Credential::new(&chain, key(4)).unwrap();
    let c = challenge_n(&mut lock, AT, 1);
    lock.prepare_challenge(AT, &mut rng(20)).unwrap();
    answer_n(&mut lock, AT, &c, &cred, Command::Hello);
    let next = challenge_n(&mut lock, AT, 21);
    let info = inspect_challenge(&next, &lock.id()).unwrap();
    assert_eq!(info.cached.as_slice(), [reference(&chain)]);
    // Prepared while they hold: handed out as prepared, whatever rng the hand-out gets.
    lock.prepare_challenge(AT, &mut rng(22)).unwrap();
    let a = challenge_n(&mut lock, AT, 23);
    lock.prepare_challenge(AT, &mut rng(22)).unwrap();
    let b = challenge_n(&mut lock, AT, 24);
    assert_eq!(a, b);
}
