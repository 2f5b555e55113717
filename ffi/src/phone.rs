//! The phone role's session, for lock makers who test their firmware against a phone: open,
//! command, reply. A `doorkey_phone` lives in caller memory, as a lock does.

use crate::lock::DOORKEY_MAX_MESSAGE_LEN;
use crate::platform::{PlatformRandom, doorkey_random_fn};
use crate::result::doorkey_result;
use crate::{Status, array, buffer, guard, input, object, output};
use core::ffi::c_void;
use doorkey::credential::LockId;
use doorkey::crypto::SecretKey;
use doorkey::phone::{Credential, PhoneSession};
use doorkey::session::{Command, ReasonCode, Reply};

/// A phone's session with one lock. Opaque: it lives in caller memory of
/// `doorkey_phone_size()` bytes aligned to `doorkey_phone_align()`.
#[derive(Debug)]
pub struct doorkey_phone {
    session: PhoneSession,
    /// A call panicked (host builds): the session may be inconsistent.
    poisoned: bool,
}

/// What a phone asks the lock for. The values are the wire tags.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum doorkey_command_kind {
    /// Open the door (needs the unlock right).
    Unlock = 0,
    /// Lock the door (needs the lock right).
    Lock = 1,
    /// End the session.
    Close = 2,
    /// Deliver the signed time anchor in `data`, bound to this session's challenge.
    Time = 3,
    /// Deliver the signed configuration update in `data`.
    Config = 4,
    /// Open the session without asking for anything.
    Hello = 5,
    /// Fetch the receipts after sequence number `after`, sealed to the owner's audit key.
    Receipts = 6,
    /// Deliver the owner's acknowledgement in `data` (its wire encoding), so the lock drops the
    /// receipts it covers.
    Ack = 7,
}

/// A command for the lock.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct doorkey_command {
    /// A `doorkey_command_kind` value.
    pub kind: u32,
    /// For `DOORKEY_COMMAND_KIND_RECEIPTS`: the last sequence number already held.
    pub after: u64,
    /// For `TIME`, `CONFIG` and `ACK`: the signed bytes; ignored (may be NULL) otherwise.
    pub data: *const u8,
    /// Bytes at `data`.
    pub data_len: usize,
}

/// What the lock answered.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum doorkey_reply_kind {
    /// The lock committed the unlock and is opening.
    Unlocked = 0,
    /// The lock is locking.
    Locked = 1,
    /// The session is closed.
    Closed = 2,
    /// The lock set its trusted clock to `value` (UTC seconds since 1970).
    TimeSet = 3,
    /// The lock applied configuration up to version `value`.
    ConfigApplied = 4,
    /// The session is open; nothing was asked.
    Ready = 5,
    /// Refused, for the coarse `reason` (a `doorkey_reason` value).
    Denied = 6,
    /// A receipt bundle sealed to the owner's audit key, at `data_offset` in the reply
    /// buffer, `data_len` bytes: upload it to the owner's server.
    Receipts = 7,
    /// The lock dropped every backlog receipt up to sequence number `value`.
    Acked = 8,
    /// The lock no longer holds the links the open named by reference (spec 22.2): send
    /// `doorkey_phone_retry` in this session.
    NeedChain = 9,
    /// A reply this version of the library does not name.
    Other = 255,
}

/// Why the lock said no, as much as a phone is told.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum doorkey_reason {
    /// The credential does not allow this, here, for this holder.
    NotAuthorized = 0,
    /// Outside the credential's validity window or schedule.
    NotNow = 1,
    /// The grant's uses are spent.
    UsedUp = 2,
    /// The lock's clock is untrusted: bring a time anchor.
    NeedTime = 3,
    /// A configuration update or time anchor was refused.
    Refused = 4,
    /// The lock cannot record the decision, so it fails closed.
    Unavailable = 5,
    /// The request was not understood.
    BadRequest = 6,
    /// A reason this version of the library does not name.
    Other = 255,
}

/// A lock's reply, read by `doorkey_phone_reply`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct doorkey_reply {
    /// What the lock answered.
    pub kind: doorkey_reply_kind,
    /// For `DENIED`: the reason; otherwise 0.
    pub reason: doorkey_reason,
    /// For `TIME_SET`, `CONFIG_APPLIED` and `ACKED`: the number; otherwise 0.
    pub value: u64,
    /// For `RECEIPTS`: where the bundle starts in the reply buffer; otherwise 0.
    pub data_offset: usize,
    /// For `RECEIPTS`: the bundle's length; otherwise 0.
    pub data_len: usize,
}

/// Bytes of memory a phone session needs.
#[unsafe(no_mangle)]
pub extern "C" fn doorkey_phone_size() -> usize {
    core::mem::size_of::<doorkey_phone>()
}

/// Alignment, in bytes, of the memory a phone session needs.
#[unsafe(no_mangle)]
pub extern "C" fn doorkey_phone_align() -> usize {
    core::mem::align_of::<doorkey_phone>()
}

/// The core's command for a C one.
///
/// # Safety
/// `command.data`, when the kind carries data, points to `command.data_len` readable bytes
/// that live as long as the returned command.
unsafe fn command<'a>(command: &doorkey_command) -> Result<Command<'a>, doorkey_result> {
    // SAFETY: the caller's contract for the data.
    let data = || unsafe { input(command.data, command.data_len) };
    Ok(match command.kind {
        k if k == doorkey_command_kind::Unlock as u32 => Command::Unlock,
        k if k == doorkey_command_kind::Lock as u32 => Command::Lock,
        k if k == doorkey_command_kind::Close as u32 => Command::Close,
        k if k == doorkey_command_kind::Time as u32 => Command::Time(data()?),
        k if k == doorkey_command_kind::Config as u32 => Command::Config(data()?),
        k if k == doorkey_command_kind::Hello as u32 => Command::Hello,
        k if k == doorkey_command_kind::Receipts as u32 => Command::Receipts {
            after: command.after,
        },
        k if k == doorkey_command_kind::Ack as u32 => {
            Command::Ack(doorkey::wire::take_all(data()?)?)
        }
        _ => return Err(doorkey_result::InvalidArgument),
    })
}

/// Opens a session with the lock that sent `challenge`, as the holder of the credential
/// `chain` whose device key has the 32-byte secret `device_seed`, asking for `command`; the
/// open message to send goes into `out` (`*out_len`: capacity, at least
/// `DOORKEY_MAX_MESSAGE_LEN`, then its length). The phone checks the lock's signature and that
/// the credential names this lock (`DOORKEY_RESULT_WRONG_LOCK`) before it writes anything.
/// `random` fills the ephemeral key. The session goes into `memory` and `*phone_out`.
///
/// # Safety
/// `memory` points to `memory_len` writable bytes holding no live session; `challenge` to
/// `challenge_len` and `chain` to `chain_len` readable bytes; `device_seed` to 32 readable
/// bytes; `command` to a `doorkey_command`; `out_len` to a writable `size_t` and `out` to
/// `*out_len` writable bytes; `phone_out` to a writable pointer. Any of them may be NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_phone_open(
    memory: *mut c_void,
    memory_len: usize,
    challenge: *const u8,
    challenge_len: usize,
    chain: *const u8,
    chain_len: usize,
    device_seed: *const u8,
    command: *const doorkey_command,
    random: doorkey_random_fn,
    random_context: *mut c_void,
    out: *mut u8,
    out_len: *mut usize,
    phone_out: *mut *mut doorkey_phone,
) -> doorkey_result {
    guard(|| {
        // SAFETY: the caller's contract for `chain` and `device_seed`.
        let (chain, seed) = unsafe { (input(chain, chain_len)?, array::<32>(device_seed)?) };
        let device = SecretKey::from_seed(&seed);
        let credential = Credential::new(chain, device)?;
        // SAFETY: the caller's contract for the other arguments.
        unsafe {
            open(
                memory,
                memory_len,
                challenge,
                challenge_len,
                command,
                random,
                random_context,
                out,
                out_len,
                phone_out,
                |c, cmd, rng, buf| PhoneSession::open(c, &credential, cmd, rng, buf),
            )
        }
    })
}

/// Opens a session without a credential with the lock whose 16-byte id is `lock_id`, to
/// carry a time anchor or configuration update; otherwise as `doorkey_phone_open`.
///
/// # Safety
/// As for `doorkey_phone_open`; `lock_id` points to 16 readable bytes or is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_phone_open_anonymous(
    memory: *mut c_void,
    memory_len: usize,
    challenge: *const u8,
    challenge_len: usize,
    lock_id: *const u8,
    command: *const doorkey_command,
    random: doorkey_random_fn,
    random_context: *mut c_void,
    out: *mut u8,
    out_len: *mut usize,
    phone_out: *mut *mut doorkey_phone,
) -> doorkey_result {
    guard(|| {
        // SAFETY: the caller's contract for `lock_id`.
        let lock = LockId(unsafe { array::<16>(lock_id) }?);
        // SAFETY: the caller's contract for the other arguments.
        unsafe {
            open(
                memory,
                memory_len,
                challenge,
                challenge_len,
                command,
                random,
                random_context,
                out,
                out_len,
                phone_out,
                |c, cmd, rng, buf| PhoneSession::open_anonymous(c, &lock, cmd, rng, buf),
            )
        }
    })
}

/// The shared steps of the two opens: checks, the open itself, placing the session.
///
/// # Safety
/// The contract of `doorkey_phone_open` for these arguments.
#[allow(clippy::too_many_arguments)]
unsafe fn open(
    memory: *mut c_void,
    memory_len: usize,
    challenge: *const u8,
    challenge_len: usize,
    command: *const doorkey_command,
    random: doorkey_random_fn,
    random_context: *mut c_void,
    out: *mut u8,
    out_len: *mut usize,
    phone_out: *mut *mut doorkey_phone,
    start: impl FnOnce(
        &[u8],
        Command<'_>,
        &mut PlatformRandom,
        &mut [u8],
    ) -> doorkey::Result<(PhoneSession, usize)>,
) -> Status {
    // SAFETY: the caller's contract for `phone_out`.
    let phone_out = unsafe { object(phone_out) }?;
    *phone_out = core::ptr::null_mut();
    // SAFETY: the caller's contract for `challenge` and `command`.
    let (challenge, command) = unsafe {
        (
            input(challenge, challenge_len)?,
            self::command(object(command.cast_mut())?)?,
        )
    };
    let mut rng = PlatformRandom::new(random, random_context)?;
    let slot = crate::slot::<doorkey_phone>(memory, memory_len)?;
    // SAFETY: the caller's contract for `out` and `out_len`.
    let out = unsafe { output(out, out_len, DOORKEY_MAX_MESSAGE_LEN) }?;
    let mut session = None;
    out.fill(|buf| {
        let (s, n) = start(challenge, command, &mut rng, buf)?;
        session = Some(s);
        Ok(n)
    })?;
    let session = session.ok_or(doorkey_result::Misuse)?;
    // SAFETY: `slot` is writable memory for a `doorkey_phone` holding no live object (the
    // caller's contract for `memory`).
    unsafe {
        slot.write(doorkey_phone {
            session,
            poisoned: false,
        })
    };
    *phone_out = slot;
    Ok(())
}

/// Runs `call` on a session; a session a call panicked in refuses every later call.
///
/// # Safety
/// `phone` is NULL or a session from `doorkey_phone_open` not yet deinitialized, which no
/// other call uses meanwhile.
unsafe fn with_phone(
    phone: *mut doorkey_phone,
    call: impl FnOnce(&mut PhoneSession) -> Status,
) -> doorkey_result {
    guard(|| {
        // SAFETY: the caller's contract.
        let phone = unsafe { object(phone) }?;
        if phone.poisoned {
            return Err(doorkey_result::Panic);
        }
        phone.poisoned = true;
        let status = call(&mut phone.session);
        phone.poisoned = false;
        status
    })
}

/// Writes the next command of the session into `out` (`*out_len`: capacity, at least
/// `DOORKEY_MAX_MESSAGE_LEN`, then its length).
///
/// # Safety
/// `phone` is NULL or a live session no other call uses meanwhile; `command` is NULL or
/// points to a `doorkey_command`; `out_len` is NULL or points to a writable `size_t`; `out`
/// is NULL or points to `*out_len` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_phone_command(
    phone: *mut doorkey_phone,
    command: *const doorkey_command,
    out: *mut u8,
    out_len: *mut usize,
) -> doorkey_result {
    let call = |session: &mut PhoneSession| {
        // SAFETY: the caller's contract for `command`.
        let command = unsafe { self::command(object(command.cast_mut())?)? };
        // SAFETY: the caller's contract for `out` and `out_len`.
        let out = unsafe { output(out, out_len, DOORKEY_MAX_MESSAGE_LEN) }?;
        out.fill(|buf| Ok(session.command(command, buf)?))
    };
    // SAFETY: the caller's contract for `phone`.
    unsafe { with_phone(phone, call) }
}

/// Answers a `NeedChain` reply: the open's `command` again with the whole credential `chain`
/// (device key secret `device_seed`, as given to `doorkey_phone_open`), written into `out`
/// (`*out_len`: capacity, at least `DOORKEY_MAX_MESSAGE_LEN`, then its length).
///
/// # Safety
/// As for `doorkey_phone_command`; `chain` points to `chain_len` readable bytes and
/// `device_seed` to 32, or either is NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_phone_retry(
    phone: *mut doorkey_phone,
    chain: *const u8,
    chain_len: usize,
    device_seed: *const u8,
    command: *const doorkey_command,
    out: *mut u8,
    out_len: *mut usize,
) -> doorkey_result {
    let call = |session: &mut PhoneSession| {
        // SAFETY: the caller's contract for the inputs.
        let (chain, seed, command) = unsafe {
            (
                input(chain, chain_len)?,
                array::<32>(device_seed)?,
                self::command(object(command.cast_mut())?)?,
            )
        };
        // SAFETY: the caller's contract for `out` and `out_len`.
        let out = unsafe { output(out, out_len, DOORKEY_MAX_MESSAGE_LEN) }?;
        let credential = Credential::new(chain, SecretKey::from_seed(&seed))?;
        out.fill(|buf| Ok(session.retry(&credential, command, buf)?))
    };
    // SAFETY: the caller's contract for `phone`.
    unsafe { with_phone(phone, call) }
}

/// Reads the lock's reply, decrypting `reply` in place, into `*reply_out`. A receipt bundle
/// stays in `reply`, at the offset and length `*reply_out` gives.
///
/// # Safety
/// `phone` is NULL or a live session no other call uses meanwhile; `reply` is NULL or points
/// to `reply_len` writable bytes; `reply_out` is NULL or points to a writable `doorkey_reply`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_phone_reply(
    phone: *mut doorkey_phone,
    reply: *mut u8,
    reply_len: usize,
    reply_out: *mut doorkey_reply,
) -> doorkey_result {
    let call = |session: &mut PhoneSession| {
        // SAFETY: the caller's contract for `reply_out`.
        let reply_out = unsafe { object(reply_out) }?;
        // SAFETY: the caller's contract for `reply`.
        let reply = unsafe { buffer(reply, reply_len) }?;
        let start = reply.as_ptr() as usize;
        let mut out = doorkey_reply {
            kind: doorkey_reply_kind::Other,
            reason: doorkey_reason::NotAuthorized,
            value: 0,
            data_offset: 0,
            data_len: 0,
        };
        *reply_out = out;
        match session.read_reply(reply)? {
            Reply::Unlocked => out.kind = doorkey_reply_kind::Unlocked,
            Reply::Locked => out.kind = doorkey_reply_kind::Locked,
            Reply::Closed => out.kind = doorkey_reply_kind::Closed,
            Reply::Ready => out.kind = doorkey_reply_kind::Ready,
            Reply::TimeSet(t) => {
                out.kind = doorkey_reply_kind::TimeSet;
                out.value = crate::unix_seconds(t);
            }
            Reply::ConfigApplied(v) => {
                out.kind = doorkey_reply_kind::ConfigApplied;
                out.value = v;
            }
            Reply::Acked(seq) => {
                out.kind = doorkey_reply_kind::Acked;
                out.value = seq;
            }
            Reply::Denied(reason) => {
                out.kind = doorkey_reply_kind::Denied;
                out.reason = self::reason(reason);
            }
            Reply::NeedChain => out.kind = doorkey_reply_kind::NeedChain,
            Reply::Receipts(bundle) => {
                out.kind = doorkey_reply_kind::Receipts;
                out.data_offset = (bundle.as_ptr() as usize).wrapping_sub(start);
                out.data_len = bundle.len();
            }
            // `Reply` is non-exhaustive: a reply this version does not name stays `Other`.
            _ => {}
        }
        *reply_out = out;
        Ok(())
    };
    // SAFETY: the caller's contract for `phone`.
    unsafe { with_phone(phone, call) }
}

/// The C value of a coarse reason.
fn reason(r: ReasonCode) -> doorkey_reason {
    match r {
        ReasonCode::NotAuthorized => doorkey_reason::NotAuthorized,
        ReasonCode::NotNow => doorkey_reason::NotNow,
        ReasonCode::UsedUp => doorkey_reason::UsedUp,
        ReasonCode::NeedTime => doorkey_reason::NeedTime,
        ReasonCode::Refused => doorkey_reason::Refused,
        ReasonCode::Unavailable => doorkey_reason::Unavailable,
        ReasonCode::BadRequest => doorkey_reason::BadRequest,
        _ => doorkey_reason::Other,
    }
}

/// Ends a session and wipes its keys; the memory may then be reused. NULL does nothing.
///
/// # Safety
/// `phone` is NULL or a live session that is not used again.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn doorkey_phone_deinit(phone: *mut doorkey_phone) {
    // SAFETY: the caller's contract.
    unsafe { crate::unplace(phone) }
}
