//! The platform's callbacks: flash, randomness, presence and logging, each with its own
//! `void *context`, and their adapters to the core's traits.

use crate::result::doorkey_result;
use core::ffi::{c_char, c_int, c_void};
use doorkey::credential::Grant;
use doorkey::crypto::SubjectKey;
use doorkey::lock::{Flash, MAX_STATE_BYTES, Presence, Region, STORAGE_HEADER_LEN};

/// Smallest flash region the lock accepts: one record (a 32-byte header and the largest
/// state) and its one-byte superseded mark. Each of the two regions must be at least this big.
pub const DOORKEY_FLASH_REGION_MIN: usize = 3361;
const _: () = assert!(DOORKEY_FLASH_REGION_MIN == STORAGE_HEADER_LEN + MAX_STATE_BYTES + 1);

/// One of the two equal flash regions the lock alternates between.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum doorkey_region {
    /// The first region: the first record ever committed goes here.
    A = 0,
    /// The second region.
    B = 1,
}

impl From<Region> for doorkey_region {
    fn from(r: Region) -> doorkey_region {
        match r {
            Region::A => doorkey_region::A,
            Region::B => doorkey_region::B,
        }
    }
}

/// Reads `len` bytes of `region` from `offset` into `buf`. Returns 0 on success, anything
/// else on failure (a range past the end of the region is a failure).
pub type doorkey_flash_read_fn = Option<
    unsafe extern "C" fn(
        context: *mut c_void,
        region: doorkey_region,
        offset: usize,
        buf: *mut u8,
        len: usize,
    ) -> c_int,
>;

/// Erases all of `region` to `0xFF`. Returns 0 on success, anything else on failure. A power
/// cut during the erase may leave the region partly erased: the lock is built for that.
pub type doorkey_flash_erase_fn =
    Option<unsafe extern "C" fn(context: *mut c_void, region: doorkey_region) -> c_int>;

/// Writes `len` bytes from `data` into `region` at `offset`, a range the lock erased before.
/// Returns 0 on success, anything else on failure. A power cut may leave any prefix written
/// (a torn write): the lock is built for that. The lock only writes erased bytes, so NOR flash
/// that can only clear bits works as it is.
pub type doorkey_flash_write_fn = Option<
    unsafe extern "C" fn(
        context: *mut c_void,
        region: doorkey_region,
        offset: usize,
        data: *const u8,
        len: usize,
    ) -> c_int,
>;

/// Fills `len` bytes at `buf` from a cryptographically secure source (the hardware TRNG).
/// It cannot fail: a generator that can fail retries or halts inside.
pub type doorkey_random_fn =
    Option<unsafe extern "C" fn(context: *mut c_void, buf: *mut u8, len: usize)>;

/// Asks whether the holder of `grant` is really at the door and means to open it (UWB
/// ranging, a touch on the lock...). Called before any unlock is counted or performed;
/// `false` refuses it (`DOORKEY_RESULT_NOT_PERMITTED`). `grant` lives for the call only.
pub type doorkey_presence_fn =
    Option<unsafe extern "C" fn(context: *mut c_void, grant: *const doorkey_grant) -> bool>;

/// Receives a line for the firmware's log: `message` is a NUL-terminated static string and
/// `detail` the precise reason (for example "handle: request denied" and
/// `DOORKEY_RESULT_EXPIRED`, which the phone only learns as a coarse reason).
pub type doorkey_log_fn = Option<
    unsafe extern "C" fn(context: *mut c_void, message: *const c_char, detail: doorkey_result),
>;

/// What the platform gives the lock. Copied by `doorkey_lock_init`: it need not outlive the
/// call, but each context must outlive the lock. Callbacks must not call doorkey functions on
/// the same lock.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct doorkey_platform {
    /// Passed to the three flash callbacks.
    pub flash_context: *mut c_void,
    /// Bytes in each of the two flash regions, at least `DOORKEY_FLASH_REGION_MIN`.
    pub flash_region_size: usize,
    /// Required.
    pub flash_read: doorkey_flash_read_fn,
    /// Required.
    pub flash_erase: doorkey_flash_erase_fn,
    /// Required.
    pub flash_write: doorkey_flash_write_fn,
    /// Passed to `random`.
    pub random_context: *mut c_void,
    /// Required.
    pub random: doorkey_random_fn,
    /// Passed to `confirm_presence`.
    pub presence_context: *mut c_void,
    /// Optional: NULL lets the credential alone decide.
    pub confirm_presence: doorkey_presence_fn,
    /// Passed to `log`.
    pub log_context: *mut c_void,
    /// Optional: NULL logs nothing.
    pub log: doorkey_log_fn,
}

/// The grant a presence check is asked about.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct doorkey_grant {
    /// The owner key the credential chain is rooted in.
    pub owner: [u8; 32],
    /// The algorithm of the holder's device key: 0 Ed25519, 1 P-256.
    pub holder_algorithm: u8,
    /// The holder's device key: 32 bytes for Ed25519 (then a zero byte), the 33-byte
    /// compressed point for P-256.
    pub holder: [u8; 33],
    /// The credential id of the chain's last link.
    pub id: [u8; 16],
    /// Rights of the last link: bit 0 unlock, bit 1 lock, bit 2 delegate.
    pub rights: u8,
    /// Whether `expires` holds an expiry.
    pub has_expiry: bool,
    /// Earliest expiry across the chain, UTC seconds since 1970.
    pub expires: u64,
    /// Whether `purpose` holds a purpose binding.
    pub has_purpose: bool,
    /// The last link's purpose binding (for a delivery, a hash of the order id).
    pub purpose: [u8; 32],
}

/// The platform's callbacks, checked: the required ones are present.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Platform {
    pub(crate) flash: PlatformFlash,
    pub(crate) random: PlatformRandom,
    pub(crate) presence: PlatformPresence,
    pub(crate) log: PlatformLog,
}

impl Platform {
    /// Checks `p`: every required callback present, regions big enough.
    pub(crate) fn new(p: &doorkey_platform) -> Result<Platform, doorkey_result> {
        let (Some(read), Some(erase), Some(write), Some(random)) =
            (p.flash_read, p.flash_erase, p.flash_write, p.random)
        else {
            return Err(doorkey_result::InvalidArgument);
        };
        if p.flash_region_size < DOORKEY_FLASH_REGION_MIN {
            return Err(doorkey_result::InvalidArgument);
        }
        Ok(Platform {
            flash: PlatformFlash {
                context: p.flash_context,
                region_size: p.flash_region_size,
                read,
                erase,
                write,
            },
            random: PlatformRandom {
                context: p.random_context,
                fill: random,
            },
            presence: PlatformPresence {
                context: p.presence_context,
                confirm: p.confirm_presence,
            },
            log: PlatformLog {
                context: p.log_context,
                log: p.log,
            },
        })
    }
}

type ReadFn = unsafe extern "C" fn(*mut c_void, doorkey_region, usize, *mut u8, usize) -> c_int;
type EraseFn = unsafe extern "C" fn(*mut c_void, doorkey_region) -> c_int;
type WriteFn = unsafe extern "C" fn(*mut c_void, doorkey_region, usize, *const u8, usize) -> c_int;

/// The platform's flash as the core's [`Flash`]: `FlashStorage` over it keeps its power-loss
/// guarantees, since the callbacks only move bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlatformFlash {
    context: *mut c_void,
    region_size: usize,
    read: ReadFn,
    erase: EraseFn,
    write: WriteFn,
}

/// A callback's status as the core's storage result.
fn flash_status(code: c_int) -> doorkey::Result<()> {
    if code == 0 {
        Ok(())
    } else {
        Err(doorkey::Error::Storage)
    }
}

impl Flash for PlatformFlash {
    fn region_size(&self) -> usize {
        self.region_size
    }

    fn read(&mut self, region: Region, offset: usize, buf: &mut [u8]) -> doorkey::Result<()> {
        // SAFETY: `buf` is `buf.len()` writable bytes for the duration of the call; the
        // callback and its context are the platform's, valid for the lock's life by the
        // contract of `doorkey_lock_init`.
        flash_status(unsafe {
            (self.read)(
                self.context,
                region.into(),
                offset,
                buf.as_mut_ptr(),
                buf.len(),
            )
        })
    }

    fn erase(&mut self, region: Region) -> doorkey::Result<()> {
        // SAFETY: the callback and its context are valid for the lock's life (contract of
        // `doorkey_lock_init`).
        flash_status(unsafe { (self.erase)(self.context, region.into()) })
    }

    fn write(&mut self, region: Region, offset: usize, data: &[u8]) -> doorkey::Result<()> {
        // SAFETY: `data` is `data.len()` readable bytes for the duration of the call; the
        // callback and its context are valid for the lock's life.
        flash_status(unsafe {
            (self.write)(
                self.context,
                region.into(),
                offset,
                data.as_ptr(),
                data.len(),
            )
        })
    }
}

/// The platform's generator as the core's [`doorkey::Rng`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlatformRandom {
    context: *mut c_void,
    fill: unsafe extern "C" fn(*mut c_void, *mut u8, usize),
}

impl PlatformRandom {
    /// A generator from a callback and its context (`NullArgument` without a callback).
    pub(crate) fn new(
        fill: doorkey_random_fn,
        context: *mut c_void,
    ) -> Result<PlatformRandom, doorkey_result> {
        let fill = fill.ok_or(doorkey_result::NullArgument)?;
        Ok(PlatformRandom { context, fill })
    }
}

impl doorkey::Rng for PlatformRandom {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        // SAFETY: `dest` is `dest.len()` writable bytes for the duration of the call; the
        // callback and its context are the caller's, valid as long as this value is used.
        unsafe { (self.fill)(self.context, dest.as_mut_ptr(), dest.len()) }
    }
}

/// The platform's presence check as the core's [`Presence`]; none confirms every grant.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlatformPresence {
    context: *mut c_void,
    confirm: doorkey_presence_fn,
}

/// The holder key's bytes, zero-padded to the widest algorithm's.
fn holder_bytes(key: &SubjectKey) -> [u8; 33] {
    let mut out = [0; 33];
    for (o, b) in out.iter_mut().zip(key.as_bytes()) {
        *o = *b;
    }
    out
}

impl Presence for PlatformPresence {
    fn confirm(&mut self, grant: &Grant) -> bool {
        let Some(confirm) = self.confirm else {
            return true;
        };
        let info = doorkey_grant {
            owner: grant.owner.0,
            holder_algorithm: match grant.holder {
                SubjectKey::Ed25519(_) => 0,
                SubjectKey::P256(_) => 1,
            },
            holder: holder_bytes(&grant.holder),
            id: grant.id.0,
            rights: grant.rights.bits(),
            has_expiry: grant.expires.is_some(),
            expires: grant.expires.map_or(0, crate::unix_seconds),
            has_purpose: grant.purpose.is_some(),
            purpose: grant.purpose.unwrap_or([0; 32]),
        };
        // SAFETY: `info` lives for the call; the callback and its context are valid for the
        // lock's life (contract of `doorkey_lock_init`).
        unsafe { confirm(self.context, &info) }
    }
}

/// The platform's optional log sink.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlatformLog {
    context: *mut c_void,
    log: doorkey_log_fn,
}

impl PlatformLog {
    /// Sends `message` and `detail` to the sink, if there is one.
    pub(crate) fn line(&self, message: &'static core::ffi::CStr, detail: doorkey_result) {
        if let Some(log) = self.log {
            // SAFETY: `message` is NUL-terminated and static; the callback and its context
            // are valid for the lock's life (contract of `doorkey_lock_init`).
            unsafe { log(self.context, message.as_ptr(), detail) }
        }
    }
}
