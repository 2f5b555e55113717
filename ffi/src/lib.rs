//! # doorkey-ffi
//!
//! The C ABI of doorkey's lock role, for lock firmware written in C, and the phone role's
//! session for testing a lock against. The header is `include/doorkey.h`, generated from this
//! crate by cbindgen; every item in it is documented there.
//!
//! Conventions, the same for every function:
//! - Every fallible call returns a [`doorkey_result`]; `DOORKEY_RESULT_OK` is 0.
//! - Every pointer is checked for NULL (`DOORKEY_RESULT_NULL_ARGUMENT`) and every length
//!   against what the call needs before anything happens.
//! - Output goes to caller buffers given as a pointer and a `size_t *` holding the capacity on
//!   entry and the bytes written on success. Each call requires the capacity of its largest
//!   output up front, so it never fails for room after it changed anything, and never leaves
//!   part of a message behind: on failure the length is 0 and the buffer holds zeros.
//! - Objects live in caller-provided memory of the size and alignment the library reports
//!   (`doorkey_lock_size`, `doorkey_lock_align`): no heap, no global state.
//! - No panic crosses the boundary: host builds (`std` feature) catch it and return
//!   `DOORKEY_RESULT_PANIC`, after which the object refuses every call; firmware builds
//!   (`no_std`) halt in a loop, the lock's safe state, for the watchdog to reset.
//! - Time comes in as `tick`, the firmware's monotonic seconds since boot.
#![cfg_attr(not(feature = "std"), no_std)]
// The C names (`doorkey_lock`, `doorkey_result`...) are the Rust names: cbindgen copies them.
#![allow(non_camel_case_types)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod lock;
mod phone;
mod platform;
mod result;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use lock::*;
pub use phone::*;
pub use platform::*;
pub use result::*;

/// The version of this C ABI, as the header was generated for it. Incremented whenever a
/// function, type or constant of the header changes in a way that breaks code compiled
/// against an older header; compare it with `doorkey_abi_version()` at start-up.
pub const DOORKEY_ABI_VERSION: u32 = 1;

/// The ABI version of the linked library; equal to `DOORKEY_ABI_VERSION` when the header and
/// the library match.
#[unsafe(no_mangle)]
pub extern "C" fn doorkey_abi_version() -> u32 {
    DOORKEY_ABI_VERSION
}

/// The internal form of a call's outcome: `Err` carries the code to return.
type Status = Result<(), doorkey_result>;

/// Runs a call's body and turns its outcome into a code; on host builds a panic becomes
/// `DOORKEY_RESULT_PANIC` instead of unwinding into C.
fn guard(body: impl FnOnce() -> Status) -> doorkey_result {
    #[cfg(feature = "std")]
    let status = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body))
        .unwrap_or(Err(doorkey_result::Panic));
    #[cfg(not(feature = "std"))]
    let status = body();
    status.err().unwrap_or(doorkey_result::Ok)
}

/// The lock's monotonic tick as the core takes it: the one place that converts it.
fn to_tick(seconds: u64) -> doorkey::time::Tick {
    doorkey::time::Tick::from_secs(seconds)
}

/// Trusted UTC time as the C ABI gives it, seconds since 1970: the one place that converts it.
fn unix_seconds(time: doorkey::time::UnixTime) -> u64 {
    time.as_secs()
}

/// A mutable reference from a C pointer: `NullArgument` for NULL, `InvalidArgument` when
/// misaligned.
///
/// # Safety
/// A non-NULL, aligned `ptr` points to a live, initialized `T` that nothing else accesses
/// while the reference lives.
unsafe fn object<'a, T>(ptr: *mut T) -> Result<&'a mut T, doorkey_result> {
    if ptr.is_null() {
        return Err(doorkey_result::NullArgument);
    }
    if !ptr.is_aligned() {
        return Err(doorkey_result::InvalidArgument);
    }
    // SAFETY: non-NULL and aligned here; live and unaliased by the caller's contract.
    Ok(unsafe { &mut *ptr })
}

/// A fixed-size input array from a C pointer (`NullArgument` for NULL).
///
/// # Safety
/// A non-NULL `ptr` points to `N` readable bytes.
unsafe fn array<const N: usize>(ptr: *const u8) -> Result<[u8; N], doorkey_result> {
    if ptr.is_null() {
        return Err(doorkey_result::NullArgument);
    }
    // SAFETY: `ptr` is non-NULL and points to `N` readable bytes (caller's contract); the
    // read copies them, and `[u8; N]` has alignment 1.
    Ok(unsafe { ptr.cast::<[u8; N]>().read() })
}

/// An input byte string from a C pointer and length (`NullArgument` for NULL, even when the
/// length is 0; `InvalidArgument` for a length no object can have).
///
/// # Safety
/// A non-NULL `ptr` points to `len` readable bytes that are not written while the slice lives.
unsafe fn input<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], doorkey_result> {
    if ptr.is_null() {
        return Err(doorkey_result::NullArgument);
    }
    if len > isize::MAX as usize {
        return Err(doorkey_result::InvalidArgument);
    }
    // SAFETY: non-NULL, `len` readable bytes not written meanwhile (caller's contract), and
    // `len` fits in `isize`.
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// A writable byte buffer from a C pointer and length.
///
/// # Safety
/// A non-NULL `ptr` points to `len` writable bytes that nothing else accesses while the slice
/// lives.
unsafe fn buffer<'a>(ptr: *mut u8, len: usize) -> Result<&'a mut [u8], doorkey_result> {
    if ptr.is_null() {
        return Err(doorkey_result::NullArgument);
    }
    if len > isize::MAX as usize {
        return Err(doorkey_result::InvalidArgument);
    }
    // SAFETY: non-NULL, `len` writable bytes accessed by nothing else (caller's contract),
    // and `len` fits in `isize`.
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr, len) })
}

/// A caller's output buffer: `ptr` and the capacity in `*len`, which must be at least `needed`
/// (so no call fails for room once it has changed anything). Too small a buffer is zeroed and
/// its length set to 0, as after any failure.
///
/// # Safety
/// `len`, if non-NULL, points to a writable `size_t`; `ptr`, if non-NULL, to `*len` writable
/// bytes; nothing else accesses either meanwhile.
unsafe fn output<'a>(
    ptr: *mut u8,
    len: *mut usize,
    needed: usize,
) -> Result<Output<'a>, doorkey_result> {
    // SAFETY: the caller's contract for `len`.
    let len = unsafe { object(len) }?;
    // SAFETY: the caller's contract for `ptr`, with the capacity `*len`.
    let buf = unsafe { buffer(ptr, *len) }?;
    if buf.len() < needed {
        buf.fill(0);
        *len = 0;
        return Err(doorkey_result::BufferTooSmall);
    }
    Ok(Output { buf, len })
}

/// A checked output buffer and its length out-parameter.
struct Output<'a> {
    buf: &'a mut [u8],
    len: &'a mut usize,
}

impl Output<'_> {
    /// Lets `write` fill the buffer: on success the length it returns is reported; on failure
    /// the buffer is zeroed and the length set to 0, so no partial message remains.
    fn fill(self, write: impl FnOnce(&mut [u8]) -> Result<usize, doorkey_result>) -> Status {
        match write(self.buf) {
            Ok(n) => {
                *self.len = n;
                Ok(())
            }
            Err(e) => {
                self.buf.fill(0);
                *self.len = 0;
                Err(e)
            }
        }
    }
}

/// Whether two byte ranges share memory.
fn overlap(a: &[u8], b: &[u8]) -> bool {
    let (a, b) = (a.as_ptr_range(), b.as_ptr_range());
    a.start < b.end && b.start < a.end
}

/// Caller memory for a `T`: at least `size_of::<T>()` bytes, aligned for `T`
/// (`NullArgument` for NULL, `InvalidArgument` otherwise). Nothing is written yet: the caller
/// writes the object in place, so nothing object-sized crosses the stack twice.
fn slot<T>(memory: *mut core::ffi::c_void, len: usize) -> Result<*mut T, doorkey_result> {
    let ptr = memory.cast::<T>();
    if ptr.is_null() {
        return Err(doorkey_result::NullArgument);
    }
    if !ptr.is_aligned() || len < core::mem::size_of::<T>() {
        return Err(doorkey_result::InvalidArgument);
    }
    Ok(ptr)
}

/// Drops an object written to a [`slot`]; NULL does nothing.
///
/// # Safety
/// A non-NULL `ptr` holds an object written to a [`slot`] and is not used again.
unsafe fn unplace<T>(ptr: *mut T) {
    if !ptr.is_null() && ptr.is_aligned() {
        // SAFETY: a live `T` in its slot, never used again (caller's contract).
        unsafe { core::ptr::drop_in_place(ptr) };
    }
}

/// Firmware builds halt on a panic: the lock stays as it was (the bolt does not move) until
/// the watchdog resets the device. The core never panics on any input; this is a last resort.
#[cfg(all(not(feature = "std"), not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
