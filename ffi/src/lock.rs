//! The lock role: a `doorkey_lock` in caller memory over the platform's callbacks.

use crate::platform::{Platform, PlatformLog, PlatformPresence, PlatformRandom, doorkey_platform};
use crate::result::doorkey_result;
use crate::{Status, array, buffer, guard, object, output, overlap, to_tick};
use core::ffi::c_void;
use doorkey::crypto::{PublicKey, SecretKey};
use doorkey::lock::{Action, DoorEvent, FlashStorage, Lock};
use doorkey::session::{MAX_CHALLENGE_BYTES, MAX_MESSAGE_BYTES};

/// Room a challenge needs: the capacity `doorkey_lock_challenge` requires.
pub const DOORKEY_MAX_CHALLENGE_LEN: usize = 180;
const _: () = assert!(DOORKEY_MAX_CHALLENGE_LEN == MAX_CHALLENGE_BYTES);

/// Largest message between lock and phone: the capacity `doorkey_lock_handle` requires for
/// its reply (a receipt bundle fills most of it), and the most a phone message can be.
pub const DOORKEY_MAX_MESSAGE_LEN: usize = 2400;
const _: () = assert!(DOORKEY_MAX_MESSAGE_LEN == MAX_MESSAGE_BYTES);

/// A lock: its identity, its state, its sessions and the platform's callbacks. Opaque: it
/// lives in caller memory of `doorkey_lock_size()` bytes aligned to `doorkey_lock_align()`.
#[derive(Debug)]
pub struct doorkey_lock {
    lock: Lock<FlashStorage<crate::platform::PlatformFlash>>,
    random: PlatformRandom,
    presence: PlatformPresence,
    log: PlatformLog,
    /// A call panicked (host builds): the lock's memory may be inconsistent.
    poisoned: bool,
}

/// What the firmware must do after a message.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum doorkey_action {
    /// Nothing to actuate.
    None = 0,
    /// Drive the bolt open: the decision is already committed to flash.
    Unlock = 1,
    /// Drive the bolt closed.
    Lock = 2,
}

/// Door sensor readings for `doorkey_lock_door_event`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum doorkey_door_event {
    /// The door opened.
    Opened = 0,
    /// The door closed.
    Closed = 1,
    /// The door has stayed open longer than the firmware allows.
    LeftOpen = 2,
}

/// The result of handling one message, besides the reply bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct doorkey_outcome {
    /// What to actuate.
    pub action: doorkey_action,
    /// Why a request was refused, in full detail, for the firmware's log (the phone only
    /// learns a coarse reason); `DOORKEY_RESULT_OK` when nothing was refused.
    pub denied: doorkey_result,
    /// Why a relock the lock performed has no receipt yet (its commit failed); the lock
    /// records it with its next successful commit. `DOORKEY_RESULT_OK` otherwise.
    pub unrecorded: doorkey_result,
}

/// The lock's persisted state as it stands.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct doorkey_state {
    /// The lock's id: what credentials name.
    pub id: [u8; 16],
    /// The lock's identity public key (Ed25519): what verifies its challenges and receipts.
    pub public_key: [u8; 32],
    /// Owner keys enrolled.
    pub owners: u32,
    /// Version of the last configuration update applied (0: none).
    pub config_version: u64,
    /// Highest trusted time the lock has known, UTC seconds since 1970 (0: none).
    pub high_water: u64,
    /// Sequence number of the last receipt.
    pub receipt_seq: u64,
    /// Hash of the last receipt.
    pub receipt_hash: [u8; 32],
    /// Receipts held until an acknowledgement from the owner's server lets the lock drop them.
    pub backlog: u32,
    /// Whether the lock booted from a rolled-back state and refuses use-limited or expiring
    /// grants until an owner confirms it.
    pub recovery: bool,
    /// Whether an audit key is set: without one no receipt bundle leaves the lock.
    pub audit_key_set: bool,
}

/// Bytes of memory a lock needs.
#[unsafe(no_mangle)]
pub extern "C" fn doorkey_lock_size() -> usize {
    core::mem::size_of::<doorkey_lock>()
}

/// Alignment, in bytes, of the memory a lock needs.
#[unsafe(no_mangle)]
pub extern "C" fn doorkey_lock_align() -> usize {
    core::mem::align_of::<doorkey_lock>()
}

/// Runs `call` on a lock; a lock a call panicked in refuses every later call.
///
/// # Safety
/// `lock` is NULL or was initialized by `doorkey_lock_init` and not deinitialized, and no
/// other call uses it meanwhile.
unsafe fn with_lock(
    lock: *mut doorkey_lock,
    call: impl FnOnce(&mut doorkey_lock) -> Status,
) -> doorkey_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let lock = unsafe { object(lock) }?;
        if lock.poisoned {
            return Err(doorkey_result::Panic);
        }
        lock.poisoned = true;
        let status = call(lock);
        lock.poisoned = false;
        status
    })
}

/// Creates a lock in `memory` that has not started: it refuses everything until
/// `doorkey_lock_boot` or `doorkey_lock_provision` succeeds. Touches no flash.
///
/// - `memory`: at least `doorkey_lock_size()` bytes aligned to `doorkey_lock_align()`, used
///   by the lock until `doorkey_lock_deinit` (a static buffer on firmware).
/// - `identity_seed`: the lock's 32-byte secret identity seed, generated once and kept in
///   the device's secure storage; the lock keeps a copy, and wipes it on deinit.
/// - `platform`: the callbacks, copied; `flash_read`, `flash_erase`, `flash_write` and
///   `random` are required and the regions must hold `DOORKEY_FLASH_REGION_MIN` bytes.
/// - `lock_out`: receives the lock (the same address as `memory`) on success, NULL otherwise.
///
/// Fails with `DOORKEY_RESULT_INVALID_ARGUMENT` for memory too small or misaligned, a missing
/// callback or small regions.
///
/// # Safety
/// `memory` points to `memory_len` writable bytes holding no live lock; `identity_seed` to 32
/// readable bytes; `platform` to a `doorkey_platform`; `lock_out` to a writable pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_lock_init(
    memory: *mut c_void,
    memory_len: usize,
    identity_seed: *const u8,
    platform: *const doorkey_platform,
    lock_out: *mut *mut doorkey_lock,
) -> doorkey_result {
    guard(|| {
        // SAFETY: the caller's contract for `lock_out`.
        let lock_out = unsafe { object(lock_out) }?;
        *lock_out = core::ptr::null_mut();
        // SAFETY: the caller's contract for `platform`; it is only read.
        let platform = Platform::new(unsafe { object(platform.cast_mut()) }?)?;
        // SAFETY: the caller's contract for `identity_seed`.
        let seed = Zeroed(unsafe { array::<32>(identity_seed) }?);
        let slot = crate::slot::<doorkey_lock>(memory, memory_len)?;
        // SAFETY: `slot` is writable memory for a `doorkey_lock` holding no live object (the
        // caller's contract for `memory`); each field is written once, the big one in place.
        unsafe {
            (&raw mut (*slot).lock).write(Lock::new(
                SecretKey::from_seed(&seed.0),
                FlashStorage::new(platform.flash),
            ));
            (&raw mut (*slot).random).write(platform.random);
            (&raw mut (*slot).presence).write(platform.presence);
            (&raw mut (*slot).log).write(platform.log);
            (&raw mut (*slot).poisoned).write(false);
        }
        *lock_out = slot;
        Ok(())
    })
}

/// A secret seed copied from the caller, wiped when dropped.
struct Zeroed([u8; 32]);

impl Drop for Zeroed {
    fn drop(&mut self) {
        // Volatile writes: the wipe of a value about to die is not optimized away.
        for byte in self.0.iter_mut() {
            // SAFETY: `byte` is a valid, aligned, exclusive reference.
            unsafe { core::ptr::write_volatile(byte, 0) };
        }
    }
}

/// Starts the lock from what its flash holds and records a boot receipt: at every power-on,
/// and to restart a lock a failed commit stopped. The clock is untrusted until a time anchor
/// arrives.
///
/// Fails with `DOORKEY_RESULT_NOT_PROVISIONED` on blank flash, the one case for
/// `doorkey_lock_provision`; with `DOORKEY_RESULT_STORAGE` when the flash is unreadable or
/// corrupt, which must stop the lock for service, never lead to provisioning (that would
/// reset use counts, revocations and the receipt chain); `DOORKEY_RESULT_MISUSE` when the
/// flash holds another identity's state. A lock that booted from a rolled-back state starts
/// in recovery (see `doorkey_lock_state`). On error the lock stays stopped.
///
/// # Safety
/// `lock` is NULL or an initialized lock no other call uses meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_lock_boot(lock: *mut doorkey_lock) -> doorkey_result {
    // SAFETY: the caller's contract.
    unsafe { with_lock(lock, |l| Ok(l.lock.start()?)) }
}

/// Factory installation in place: commits a fresh state trusting the 32-byte Ed25519 `owner`
/// key to blank flash, with an installed receipt.
///
/// Fails with `DOORKEY_RESULT_ALREADY_PROVISIONED` when the flash holds a state (only an
/// owner-signed factory reset resets a lock), `DOORKEY_RESULT_STORAGE` when it is unreadable
/// or corrupt, `DOORKEY_RESULT_WEAK_KEY` for a weak or non-canonical owner key. Whatever
/// the outcome, it first drops every challenge and session: after a failure the lock is
/// stopped until `doorkey_lock_boot` succeeds.
///
/// # Safety
/// `lock` is NULL or an initialized lock no other call uses meanwhile; `owner` is NULL or
/// points to 32 readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_lock_provision(
    lock: *mut doorkey_lock,
    owner: *const u8,
) -> doorkey_result {
    let call = |l: &mut doorkey_lock| {
        // SAFETY: the caller's contract for `owner`.
        let owner = PublicKey(unsafe { array::<32>(owner) }?);
        Ok(l.lock.provision(owner)?)
    };
    // SAFETY: the caller's contract for `lock`.
    unsafe { with_lock(lock, call) }
}

/// `doorkey_lock_init` then `doorkey_lock_provision`: a factory installation on blank flash.
/// On failure the memory holds no lock and `*lock_out` is NULL.
///
/// # Safety
/// As for `doorkey_lock_init`, and `owner` points to 32 readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_lock_install(
    memory: *mut c_void,
    memory_len: usize,
    identity_seed: *const u8,
    platform: *const doorkey_platform,
    owner: *const u8,
    lock_out: *mut *mut doorkey_lock,
) -> doorkey_result {
    // SAFETY: the caller's contract, as `doorkey_lock_init` states it.
    let made = unsafe { doorkey_lock_init(memory, memory_len, identity_seed, platform, lock_out) };
    if made != doorkey_result::Ok {
        return made;
    }
    // SAFETY: `lock_out` was written with the new lock, which nothing else uses.
    let lock = unsafe { *lock_out };
    // SAFETY: `lock` was just initialized; `owner` by the caller's contract.
    let provisioned = unsafe { doorkey_lock_provision(lock, owner) };
    if provisioned != doorkey_result::Ok {
        // SAFETY: `lock` was initialized above and is not used again.
        unsafe {
            doorkey_lock_deinit(lock);
            *lock_out = core::ptr::null_mut();
        }
    }
    provisioned
}

/// Ends a lock: wipes its secret identity and drops its sessions; the memory may then be
/// reused. The flash keeps the committed state. NULL does nothing.
///
/// # Safety
/// `lock` is NULL or an initialized lock that is not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_lock_deinit(lock: *mut doorkey_lock) {
    // SAFETY: the caller's contract.
    unsafe { crate::unplace(lock) }
}

/// Writes a fresh signed challenge into `out` when a phone connects. `*out_len` holds the
/// capacity, at least `DOORKEY_MAX_CHALLENGE_LEN`, and receives the challenge's length.
/// `tick` is the firmware's monotonic clock, seconds since boot. Calls `random`. At most four
/// challenges are outstanding; a new one evicts the oldest.
///
/// Fails with `DOORKEY_RESULT_STORAGE` while the lock is stopped (not booted, or a commit
/// failed), `DOORKEY_RESULT_BUFFER_TOO_SMALL` for a short buffer.
///
/// # Safety
/// `lock` is NULL or an initialized lock no other call uses meanwhile; `out_len` is NULL or
/// points to a writable `size_t`; `out` is NULL or points to `*out_len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_lock_challenge(
    lock: *mut doorkey_lock,
    tick: u64,
    out: *mut u8,
    out_len: *mut usize,
) -> doorkey_result {
    let call = |l: &mut doorkey_lock| {
        // SAFETY: the caller's contract for `out` and `out_len`.
        let out = unsafe { output(out, out_len, DOORKEY_MAX_CHALLENGE_LEN) }?;
        out.fill(|buf| Ok(l.lock.challenge(to_tick(tick), &mut l.random, buf)?))
    };
    // SAFETY: the caller's contract for `lock`.
    unsafe { with_lock(lock, call) }
}

/// Signs the lock's next challenge ahead of time, while it is idle (spec 22.1), so that
/// `doorkey_lock_challenge` hands it out when a phone connects without the signature and key
/// generation. Its lifetime starts at the hand-out; it is kept in RAM only (a reboot voids
/// it) and signed afresh at the hand-out if the lock's clock trust or held links changed.
/// Calls `random`.
///
/// Fails with `DOORKEY_RESULT_STORAGE` while the lock is stopped.
///
/// # Safety
/// `lock` is NULL or an initialized lock no other call uses meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_lock_prepare_challenge(
    lock: *mut doorkey_lock,
    tick: u64,
) -> doorkey_result {
    let call = |l: &mut doorkey_lock| Ok(l.lock.prepare_challenge(to_tick(tick), &mut l.random)?);
    // SAFETY: the caller's contract for `lock`.
    unsafe { with_lock(lock, call) }
}

/// Handles one message from a phone: decides, commits to flash, and writes the reply to
/// send back into `reply` (`*reply_len`: capacity, at least `DOORKEY_MAX_MESSAGE_LEN`, then
/// the reply's length) and what to actuate into `*outcome`.
///
/// `message` is decrypted in place and is all zeros on return, whatever the outcome: the
/// holder's credential never stays in the caller's buffer. It must not overlap `reply`.
/// A receipt bundle the phone asked for travels in the reply.
///
/// Returns `DOORKEY_RESULT_OK` whenever there is a reply to send, including a refusal (then
/// `outcome->denied` says why). Fails, with no reply, for messages that cannot be
/// authenticated (`DOORKEY_RESULT_REPLAY` for an unknown, expired or replayed challenge or
/// counter, `DOORKEY_RESULT_CRYPTO`, decoding errors), `DOORKEY_RESULT_UNEXPECTED_MESSAGE`
/// without a session, `DOORKEY_RESULT_STORAGE` while the lock is stopped. On failure
/// `outcome->action` is `DOORKEY_ACTION_NONE`.
///
/// # Safety
/// `lock` is NULL or an initialized lock no other call uses meanwhile; `message` is NULL or
/// points to `message_len` writable bytes; `reply_len` is NULL or points to a writable
/// `size_t`; `reply` is NULL or points to `*reply_len` writable bytes; `outcome` is NULL or
/// points to a writable `doorkey_outcome`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_lock_handle(
    lock: *mut doorkey_lock,
    tick: u64,
    message: *mut u8,
    message_len: usize,
    reply: *mut u8,
    reply_len: *mut usize,
    outcome: *mut doorkey_outcome,
) -> doorkey_result {
    let call = |l: &mut doorkey_lock| {
        // SAFETY: the caller's contract for `outcome`.
        let outcome = unsafe { object(outcome) }?;
        *outcome = doorkey_outcome {
            action: doorkey_action::None,
            denied: doorkey_result::Ok,
            unrecorded: doorkey_result::Ok,
        };
        // SAFETY: the caller's contract for `message`.
        let message = unsafe { buffer(message, message_len) }?;
        // SAFETY: the caller's contract for `reply` and `reply_len`.
        let reply = unsafe { output(reply, reply_len, DOORKEY_MAX_MESSAGE_LEN) }?;
        if overlap(message, reply.buf) {
            return Err(doorkey_result::InvalidArgument);
        }
        reply.fill(|buf| {
            let done = l
                .lock
                .handle_with(to_tick(tick), message, buf, &mut l.presence)?;
            let code = |e: Option<doorkey::Error>| e.map_or(doorkey_result::Ok, Into::into);
            *outcome = doorkey_outcome {
                action: match done.action {
                    Action::Unlock => doorkey_action::Unlock,
                    Action::Lock => doorkey_action::Lock,
                    // `Action` is non-exhaustive: anything else actuates nothing.
                    _ => doorkey_action::None,
                },
                denied: code(done.denied),
                unrecorded: code(done.unrecorded),
            };
            if outcome.denied != doorkey_result::Ok {
                l.log.line(c"handle: request denied", outcome.denied);
            }
            if outcome.unrecorded != doorkey_result::Ok {
                l.log
                    .line(c"handle: relock not yet recorded", outcome.unrecorded);
            }
            Ok(done.reply)
        })
    };
    // SAFETY: the caller's contract for `lock`.
    unsafe { with_lock(lock, call) }
}

/// Reports a door sensor reading (a `doorkey_door_event` value); it becomes a receipt,
/// committed to flash. Fails with `DOORKEY_RESULT_INVALID_ARGUMENT` for an unknown event,
/// `DOORKEY_RESULT_STORAGE` while the lock is stopped or when the commit fails.
///
/// # Safety
/// `lock` is NULL or an initialized lock no other call uses meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_lock_door_event(
    lock: *mut doorkey_lock,
    tick: u64,
    event: u32,
) -> doorkey_result {
    let event = match event {
        e if e == doorkey_door_event::Opened as u32 => DoorEvent::Opened,
        e if e == doorkey_door_event::Closed as u32 => DoorEvent::Closed,
        e if e == doorkey_door_event::LeftOpen as u32 => DoorEvent::LeftOpen,
        _ => return doorkey_result::InvalidArgument,
    };
    // SAFETY: the caller's contract.
    unsafe { with_lock(lock, |l| Ok(l.lock.door_event(to_tick(tick), event)?)) }
}

/// Writes into `*time_out` the lock's trusted UTC time at `tick`, in seconds since 1970,
/// never earlier than its persisted high-water mark. Fails with
/// `DOORKEY_RESULT_CLOCK_UNTRUSTED` (and writes 0) while no time anchor arrived since boot.
///
/// # Safety
/// `lock` is NULL or an initialized lock no other call uses meanwhile; `time_out` is NULL or
/// points to a writable `uint64_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_lock_trusted_now(
    lock: *mut doorkey_lock,
    tick: u64,
    time_out: *mut u64,
) -> doorkey_result {
    let call = |l: &mut doorkey_lock| {
        // SAFETY: the caller's contract for `time_out`.
        let time_out = unsafe { object(time_out) }?;
        let now = l.lock.trusted_now(to_tick(tick));
        *time_out = now.map_or(0, crate::unix_seconds);
        now.map(|_| ()).ok_or(doorkey_result::ClockUntrusted)
    };
    // SAFETY: the caller's contract for `lock`.
    unsafe { with_lock(lock, call) }
}

/// Writes the lock's persisted state as it stands into `*state_out`.
///
/// # Safety
/// `lock` is NULL or an initialized lock no other call uses meanwhile; `state_out` is NULL or
/// points to a writable `doorkey_state`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_lock_state(
    lock: *mut doorkey_lock,
    state_out: *mut doorkey_state,
) -> doorkey_result {
    let call = |l: &mut doorkey_lock| {
        // SAFETY: the caller's contract for `state_out`.
        let state_out = unsafe { object(state_out) }?;
        let state = l.lock.state();
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        *state_out = doorkey_state {
            id: l.lock.id().0,
            public_key: l.lock.public_key().0,
            owners: count(state.enrolment.owners().len()),
            config_version: state.enrolment.config_version(),
            high_water: crate::unix_seconds(state.high_water),
            receipt_seq: state.receipts.seq,
            receipt_hash: state.receipts.hash,
            backlog: count(state.backlog.as_slice().len()),
            recovery: state.recovery,
            audit_key_set: state.enrolment.audit_key().is_some(),
        };
        Ok(())
    };
    // SAFETY: the caller's contract for `lock`.
    unsafe { with_lock(lock, call) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::doorkey_region;
    use core::ffi::c_int;

    unsafe extern "C" fn read(
        _: *mut c_void,
        _: doorkey_region,
        _: usize,
        buf: *mut u8,
        len: usize,
    ) -> c_int {
        // SAFETY: the lock passes `len` writable bytes.
        unsafe { core::ptr::write_bytes(buf, 0xFF, len) };
        0
    }
    unsafe extern "C" fn erase(_: *mut c_void, _: doorkey_region) -> c_int {
        0
    }
    unsafe extern "C" fn write(
        _: *mut c_void,
        _: doorkey_region,
        _: usize,
        _: *const u8,
        _: usize,
    ) -> c_int {
        0
    }
    unsafe extern "C" fn random(_: *mut c_void, buf: *mut u8, len: usize) {
        // SAFETY: the lock passes `len` writable bytes.
        unsafe { core::ptr::write_bytes(buf, 7, len) };
    }

    /// A panic inside a call comes back as `DOORKEY_RESULT_PANIC`, and the lock it happened in
    /// refuses every later call rather than run on memory the panic may have left half-written.
    #[test]
    fn a_panic_poisons_the_lock() {
        let platform = doorkey_platform {
            flash_context: core::ptr::null_mut(),
            flash_region_size: crate::DOORKEY_FLASH_REGION_MIN,
            flash_read: Some(read),
            flash_erase: Some(erase),
            flash_write: Some(write),
            random_context: core::ptr::null_mut(),
            random: Some(random),
            presence_context: core::ptr::null_mut(),
            confirm_presence: None,
            log_context: core::ptr::null_mut(),
            log: None,
        };
        let mut memory = std::boxed::Box::new(core::mem::MaybeUninit::<doorkey_lock>::uninit());
        let mut lock = core::ptr::null_mut();
        // SAFETY: memory for one lock, a 32-byte seed, a platform and an out-pointer.
        let made = unsafe {
            doorkey_lock_init(
                memory.as_mut_ptr().cast(),
                doorkey_lock_size(),
                [2u8; 32].as_ptr(),
                &platform,
                &mut lock,
            )
        };
        assert_eq!(made, doorkey_result::Ok);
        // SAFETY: `lock` was initialized above and no other call uses it.
        let booted = unsafe { doorkey_lock_boot(lock) };
        assert_eq!(booted, doorkey_result::NotProvisioned);
        // SAFETY: as above.
        let panicked = unsafe { with_lock(lock, |_| panic!("a bug")) };
        assert_eq!(panicked, doorkey_result::Panic);
        // SAFETY: as above.
        let after = unsafe { doorkey_lock_boot(lock) };
        assert_eq!(after, doorkey_result::Panic);
        // SAFETY: as above; not used again.
        unsafe { doorkey_lock_deinit(lock) };
    }
}
