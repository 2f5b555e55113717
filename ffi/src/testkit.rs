//! Test-only helpers (feature `testkit`): what the owner's and the service company's servers
//! do in the delivery story, so a C test can drive a lock against the real Rust phone and
//! server. Never part of a lock's build; the header declares them only when
//! `DOORKEY_TESTKIT` is defined.

use crate::platform::{PlatformRandom, doorkey_random_fn};
use crate::result::doorkey_result;
use crate::{Status, array, guard, input, object, output};
use core::ffi::c_void;
use doorkey::config::{Change, ConfigUpdate, TimeAnchor};
use doorkey::credential::{Chain, Link, LockId, Rights};
use doorkey::crypto::{PublicKey, SecretKey, Signer};
use doorkey::receipt::AuditSecret;
use doorkey::server::{Delivery, Issuer, ReceiptLog};
use doorkey::session::Challenge;
use doorkey::time::{Seconds, UnixTime};

/// Room a signed time anchor, configuration update, acknowledgement or credential chain
/// needs: the capacity the helpers below require.
pub const DOORKEY_TEST_MAX_SIGNED_LEN: usize = 2048;

/// A receipt log of the owner's server for one lock (test only).
#[derive(Debug)]
pub struct doorkey_test_log {
    log: ReceiptLog,
    audit: AuditSecret,
}

/// Writes the 32-byte public key of the secret `seed` into `out`.
///
/// # Safety
/// `seed` is NULL or points to 32 readable bytes, `out` to 32 writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_test_public_key(seed: *const u8, out: *mut u8) -> doorkey_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let (seed, out) = unsafe { (array::<32>(seed)?, object(out.cast::<[u8; 32]>())?) };
        *out = SecretKey::from_seed(&seed).public_key().0;
        Ok(())
    })
}

/// Writes the 16-byte id of the lock with the 32-byte `public_key` into `out`.
///
/// # Safety
/// `public_key` is NULL or points to 32 readable bytes, `out` to 16 writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_test_lock_id(
    public_key: *const u8,
    out: *mut u8,
) -> doorkey_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let (key, out) = unsafe { (array::<32>(public_key)?, object(out.cast::<[u8; 16]>())?) };
        *out = LockId::of(&PublicKey(key)).0;
        Ok(())
    })
}

/// Signs, with the owner key of secret `owner_seed`, a time anchor saying `time` for the lock
/// and nonce of `challenge` (whose signature is checked first) into `out`.
///
/// # Safety
/// Pointers are NULL or point to the bytes their lengths (32 for the seed) say; `out_len` to
/// a writable `size_t` holding `out`'s capacity.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_test_time_anchor(
    owner_seed: *const u8,
    challenge: *const u8,
    challenge_len: usize,
    time: u64,
    out: *mut u8,
    out_len: *mut usize,
) -> doorkey_result {
    guard(|| {
        // SAFETY: the caller's contract for the inputs.
        let (seed, challenge) =
            unsafe { (array::<32>(owner_seed)?, input(challenge, challenge_len)?) };
        let owner = SecretKey::from_seed(&seed);
        let lock = Challenge::decode(challenge)?.body.lock_id();
        let info = doorkey::phone::inspect_challenge(challenge, &lock)?;
        let anchor = TimeAnchor {
            lock,
            nonce: info.nonce,
            time: UnixTime::from_secs(time),
            signer: owner.public_key(),
        };
        // SAFETY: the caller's contract for `out` and `out_len`.
        let out = unsafe { output(out, out_len, DOORKEY_TEST_MAX_SIGNED_LEN) }?;
        out.fill(|buf| Ok(anchor.sign(&owner, buf)?))
    })
}

/// Signs, with the owner key of secret `owner_seed`, configuration update `version` for the
/// lock `lock_id` (16 bytes) that sets the audit key of secret `audit_seed`, into `out`.
///
/// # Safety
/// As for `doorkey_test_time_anchor`; `lock_id` points to 16 bytes, `audit_seed` to 32.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_test_audit_key_update(
    owner_seed: *const u8,
    lock_id: *const u8,
    version: u64,
    audit_seed: *const u8,
    out: *mut u8,
    out_len: *mut usize,
) -> doorkey_result {
    guard(|| {
        // SAFETY: the caller's contract for the inputs.
        let (seed, lock, audit) = unsafe {
            (
                array::<32>(owner_seed)?,
                array::<16>(lock_id)?,
                array::<32>(audit_seed)?,
            )
        };
        let owner = SecretKey::from_seed(&seed);
        let update = ConfigUpdate {
            lock: LockId(lock),
            version,
            signer: owner.public_key(),
            change: Change::SetAuditKey(AuditSecret::from_bytes(audit).public_key()),
        };
        // SAFETY: the caller's contract for `out` and `out_len`.
        let out = unsafe { output(out, out_len, DOORKEY_TEST_MAX_SIGNED_LEN) }?;
        out.fill(|buf| Ok(update.sign(&owner, buf)?))
    })
}

/// The delivery story's credential: the owner (secret `owner_seed`) delegates the lock
/// `lock_id` to the company (secret `company_seed`) for 30 days from a day before `now`
/// (unlock, lock, one further level), and the company mints for the courier's device key
/// `courier` (32 bytes) a one-use grant of `valid_for` seconds for the order `order_id`,
/// booked in the half hour around `now`. The chain goes into `out`.
///
/// # Safety
/// As for `doorkey_test_time_anchor`; `random` fills the credential ids.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_test_delivery_grant(
    owner_seed: *const u8,
    company_seed: *const u8,
    courier: *const u8,
    lock_id: *const u8,
    order_id: *const u8,
    order_id_len: usize,
    now: u64,
    valid_for: u64,
    random: doorkey_random_fn,
    random_context: *mut c_void,
    out: *mut u8,
    out_len: *mut usize,
) -> doorkey_result {
    guard(|| {
        // SAFETY: the caller's contract for the inputs.
        let (owner, company, courier, lock, order_id) = unsafe {
            (
                array::<32>(owner_seed)?,
                array::<32>(company_seed)?,
                array::<32>(courier)?,
                array::<16>(lock_id)?,
                input(order_id, order_id_len)?,
            )
        };
        let mut rng = PlatformRandom::new(random, random_context)?;
        let (owner, company) = (SecretKey::from_seed(&owner), SecretKey::from_seed(&company));
        let lock = LockId(lock);
        let now = UnixTime::from_secs(now);
        let delegation = link(company.public_key(), lock, now, &mut rng)?;
        let issuer = Issuer::new(company, Chain::root(&owner, &delegation)?)?;
        let order = Delivery {
            order_id,
            lock,
            slot_start: now - Seconds::from_mins(30),
            slot_end: now + Seconds::from_mins(30),
        };
        let valid_for = Seconds::from_secs(valid_for);
        let grant = issuer.mint_delivery(&order, PublicKey(courier), now, valid_for, &mut rng)?;
        // SAFETY: the caller's contract for `out` and `out_len`.
        let out = unsafe { output(out, out_len, DOORKEY_TEST_MAX_SIGNED_LEN) }?;
        out.fill(|buf| {
            let bytes = grant.as_bytes();
            let dst = buf
                .get_mut(..bytes.len())
                .ok_or(doorkey_result::BufferTooSmall)?;
            dst.copy_from_slice(bytes);
            Ok(bytes.len())
        })
    })
}

/// The owner's delegation to the company: the one place a `Link` is built.
fn link(
    company: PublicKey,
    lock: LockId,
    now: UnixTime,
    rng: &mut PlatformRandom,
) -> doorkey::Result<Link> {
    Link::builder(
        company,
        Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE),
    )
    .locks(&[lock])
    .valid_from(now - Seconds::from_days(1))
    .valid_for(Seconds::from_days(30))
    .depth(1)
    .build(rng)
}

/// Creates, in `*log_out`, the owner server's receipt log for the lock with the 32-byte
/// `lock_public_key`, opening bundles with the audit key of secret `audit_seed`. Free it with
/// `doorkey_test_log_free`.
///
/// # Safety
/// Pointers are NULL or point to what they say; `log_out` to a writable pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_test_log_new(
    lock_public_key: *const u8,
    audit_seed: *const u8,
    log_out: *mut *mut doorkey_test_log,
) -> doorkey_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let (key, audit, log_out) = unsafe {
            (
                array::<32>(lock_public_key)?,
                array::<32>(audit_seed)?,
                object(log_out)?,
            )
        };
        *log_out = Box::into_raw(Box::new(doorkey_test_log {
            log: ReceiptLog::new(PublicKey(key))?,
            audit: AuditSecret::from_bytes(audit),
        }));
        Ok(())
    })
}

/// Runs `call` on a log.
///
/// # Safety
/// `log` is NULL or from `doorkey_test_log_new` and not freed.
unsafe fn with_log(
    log: *mut doorkey_test_log,
    call: impl FnOnce(&mut doorkey_test_log) -> Status,
) -> doorkey_result {
    guard(|| {
        // SAFETY: the caller's contract.
        call(unsafe { object(log) }?)
    })
}

/// Opens and ingests a sealed receipt bundle the lock sent; `*findings` receives how many
/// gaps, forks, duplicates, bad signatures or truncations the log found.
///
/// # Safety
/// `log` is NULL or a live log; `bundle` points to `bundle_len` bytes; `findings` to a
/// writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_test_log_ingest(
    log: *mut doorkey_test_log,
    bundle: *const u8,
    bundle_len: usize,
    findings: *mut usize,
) -> doorkey_result {
    let call = |l: &mut doorkey_test_log| {
        // SAFETY: the caller's contract.
        let (bundle, findings) = unsafe { (input(bundle, bundle_len)?, object(findings)?) };
        *findings = l.log.ingest_sealed(&l.audit, bundle)?.len();
        Ok(())
    };
    // SAFETY: the caller's contract for `log`.
    unsafe { with_log(log, call) }
}

/// Writes the events of the receipts held, in order, as their wire tags (0 installed, 1 boot,
/// 2 unlocked, 3 relocked, 4 denied, 5 configuration changed, 6 time set, 7 door opened, 8
/// door closed, 9 door left open, 10 rolled back, ...), into `events` (`*count`: capacity,
/// then the number written).
///
/// # Safety
/// `log` is NULL or a live log; `count` points to a writable `size_t`, `events` to `*count`
/// writable `uint32_t`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_test_log_events(
    log: *mut doorkey_test_log,
    events: *mut u32,
    count: *mut usize,
) -> doorkey_result {
    let call = |l: &mut doorkey_test_log| {
        // SAFETY: the caller's contract for `count`.
        let count = unsafe { object(count) }?;
        if events.is_null() {
            return Err(doorkey_result::NullArgument);
        }
        // SAFETY: `events` is non-NULL and points to `*count` writable `u32`s (contract).
        let events = unsafe { core::slice::from_raw_parts_mut(events, *count) };
        let receipts = l.log.receipts()?;
        let out = events
            .get_mut(..receipts.len())
            .ok_or(doorkey_result::BufferTooSmall)?;
        for (tag, stored) in out.iter_mut().zip(&receipts) {
            let mut buf = [0u8; 16];
            doorkey::wire::put(&stored.receipt.event, &mut buf)?;
            *tag = u32::from(buf[0]);
        }
        *count = receipts.len();
        Ok(())
    };
    // SAFETY: the caller's contract for `log`.
    unsafe { with_log(log, call) }
}

/// Writes the owner's acknowledgement of every receipt the log holds (its wire encoding, for
/// a `DOORKEY_COMMAND_KIND_ACK` command) into `out`. Fails with
/// `DOORKEY_RESULT_UNEXPECTED_MESSAGE` while the log holds nothing to acknowledge.
///
/// # Safety
/// `log` is NULL or a live log; `out_len` points to a writable `size_t` holding `out`'s
/// capacity.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_test_log_ack(
    log: *mut doorkey_test_log,
    out: *mut u8,
    out_len: *mut usize,
) -> doorkey_result {
    let call = |l: &mut doorkey_test_log| {
        let ack = l.log.ack()?.ok_or(doorkey_result::UnexpectedMessage)?;
        // SAFETY: the caller's contract for `out` and `out_len`.
        let out = unsafe { output(out, out_len, DOORKEY_TEST_MAX_SIGNED_LEN) }?;
        out.fill(|buf| Ok(doorkey::wire::put(&ack, buf)?))
    };
    // SAFETY: the caller's contract for `log`.
    unsafe { with_log(log, call) }
}

/// Frees a log; NULL does nothing.
///
/// # Safety
/// `log` is NULL or from `doorkey_test_log_new`, not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_test_log_free(log: *mut doorkey_test_log) {
    if !log.is_null() {
        // SAFETY: a pointer `Box::into_raw` made, freed once (contract).
        drop(unsafe { Box::from_raw(log) });
    }
}
