//! The doorkey lock role on a Cortex-M4 with no heap, under QEMU (mps2-an386).
//!
//! Replays phone messages precomputed on the host by `build.rs` (which ran the same lock code
//! with the same RNG seed): a time anchor, a first-contact unlock carrying a two-link chain, a
//! relock in the session and a receipt fetch; then the fast path (spec 22): a first visit of
//! another company answering a challenge prepared while idle, and a repeat visit of the first
//! company, whose link the lock holds, with the leaf alone. Every lock answer must match the host's byte for
//! byte. Each step is timed in instructions (SysTick under `-icount shift=0`) and its peak stack
//! measured by painting, beside the raw primitives on the same inputs. Exits through
//! semihosting with status 0 only if every check passed.
//!
//! Features: default = full measurement report; `lockonly` = the lock workload alone, no
//! printing (flash figure); `baseline` = runtime only (what the lock role is measured against).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;

#[allow(dead_code)]
mod vectors {
    include!(concat!(env!("OUT_DIR"), "/vectors.rs"));
}

/// The platform's random number generator (a hardware TRNG on a real lock), seeded as on the
/// host so every answer can be compared. The baseline links it too: it is not the lock role's.
pub fn lock_rng() -> chacha20::ChaCha20Rng {
    use rand_core::SeedableRng;
    chacha20::ChaCha20Rng::from_seed(vectors::LOCK_RNG_SEED)
}

#[cfg(not(feature = "baseline"))]
mod workload {
    pub use super::lock_rng;
    use super::vectors as v;
    use chacha20::ChaCha20Rng;
    use core::mem::MaybeUninit;
    use doorkey::Result;
    use doorkey::crypto::{PublicKey, SecretKey};
    use doorkey::lock::{
        Action, Flash, FlashStorage, Lock, MAX_STATE_BYTES, Region, STORAGE_HEADER_LEN,
    };
    use doorkey::session::MAX_MESSAGE_BYTES;
    use doorkey::time::Tick;

    /// Bytes in each of the two flash regions: one record of the largest state.
    const REGION: usize = STORAGE_HEADER_LEN + MAX_STATE_BYTES;

    /// The lock's flash, simulated in RAM; it outlives the lock, so a reboot finds what the
    /// lock committed, as it would on real flash.
    static mut FLASH: [[u8; REGION]; 2] = [[0; REGION]; 2];

    /// A handle to [`FLASH`]. Only one lock uses it at a time (the rebooted lock replaces
    /// the first, which is never called again).
    pub struct RamFlash;

    impl RamFlash {
        fn region(&mut self, region: Region) -> &mut [u8; REGION] {
            // SAFETY: single-threaded, and only the one live lock's handle calls this.
            #[allow(clippy::deref_addrof)]
            let flash = unsafe { &mut *(&raw mut FLASH) };
            match region {
                Region::A => &mut flash[0],
                Region::B => &mut flash[1],
            }
        }

        fn range(&mut self, region: Region, at: usize, len: usize) -> Result<&mut [u8]> {
            let end = at.checked_add(len).ok_or(doorkey::Error::Storage)?;
            self.region(region)
                .get_mut(at..end)
                .ok_or(doorkey::Error::Storage)
        }
    }

    impl Flash for RamFlash {
        fn region_size(&self) -> usize {
            REGION
        }

        fn read(&mut self, region: Region, offset: usize, buf: &mut [u8]) -> Result<()> {
            buf.copy_from_slice(self.range(region, offset, buf.len())?);
            Ok(())
        }

        fn erase(&mut self, region: Region) -> Result<()> {
            self.region(region).fill(0xFF);
            Ok(())
        }

        fn write(&mut self, region: Region, offset: usize, data: &[u8]) -> Result<()> {
            self.range(region, offset, data.len())?
                .copy_from_slice(data);
            Ok(())
        }
    }

    pub type Mem = FlashStorage<RamFlash>;

    /// Message buffers and the lock live in statics, so the stack holds only what the lock
    /// role itself puts there.
    pub struct Bufs {
        pub input: [u8; MAX_MESSAGE_BYTES],
        pub out: [u8; MAX_MESSAGE_BYTES],
        pub challenge: [u8; 256],
    }

    static mut BUFS: Bufs = Bufs {
        input: [0; MAX_MESSAGE_BYTES],
        out: [0; MAX_MESSAGE_BYTES],
        challenge: [0; 256],
    };
    static mut LOCK: MaybeUninit<Lock<Mem>> = MaybeUninit::uninit();
    static mut REBOOTED: MaybeUninit<Lock<Mem>> = MaybeUninit::uninit();

    /// The statics, taken once: buffers, the lock, and the slot of the lock after a reboot.
    #[allow(clippy::type_complexity)]
    pub fn statics() -> (
        &'static mut Bufs,
        &'static mut MaybeUninit<Lock<Mem>>,
        &'static mut MaybeUninit<Lock<Mem>>,
    ) {
        // SAFETY: called once from `main`, single-threaded; no other reference exists.
        #[allow(clippy::deref_addrof)]
        unsafe {
            (
                &mut *(&raw mut BUFS),
                &mut *(&raw mut LOCK),
                &mut *(&raw mut REBOOTED),
            )
        }
    }

    /// Factory state of the flash: both regions erased, as a new part ships (the RAM standing
    /// in for it starts zeroed, which a lock reads as a corrupt store, not a blank one).
    pub fn erase_flash() -> bool {
        let mut flash = RamFlash;
        flash.erase(Region::A).is_ok() && flash.erase(Region::B).is_ok()
    }

    // The lock's entry points, each kept out of line under its own name so the stack report
    // (benches/mcu.sh) can root its static call-graph analysis at them.

    /// Power-on, as a lock does at every boot: [`Lock::new`] in its slot, then [`Lock::start`]
    /// from what is committed; only a blank store (`NotProvisioned`) is provisioned with the
    /// owner. Any other error stops the lock for service.
    fn power_on(slot: &'static mut MaybeUninit<Lock<Mem>>) -> Option<&'static mut Lock<Mem>> {
        let identity = SecretKey::from_seed(&v::LOCK_KEY_SEED);
        let lock = slot.write(Lock::new(identity, Mem::new(RamFlash)));
        match lock.start() {
            Ok(()) => {}
            Err(doorkey::Error::NotProvisioned) => {
                lock.provision(PublicKey(v::OWNER_PUBLIC)).ok()?
            }
            Err(_) => return None,
        }
        Some(lock)
    }

    /// First power-on over erased flash: the lock provisions itself.
    #[inline(never)]
    pub fn install(slot: &'static mut MaybeUninit<Lock<Mem>>) -> Option<&'static mut Lock<Mem>> {
        power_on(slot)
    }

    /// Reboot: a new lock over the same flash, starting from what is committed there.
    #[inline(never)]
    pub fn boot(slot: &'static mut MaybeUninit<Lock<Mem>>) -> Option<&'static mut Lock<Mem>> {
        power_on(slot)
    }

    #[inline(never)]
    pub fn challenge(
        lock: &mut Lock<Mem>,
        tick: Tick,
        rng: &mut ChaCha20Rng,
        out: &mut [u8],
    ) -> Option<usize> {
        lock.challenge(tick, rng, out).ok()
    }

    /// The lock signs its next challenge while idle.
    #[inline(never)]
    pub fn prepare(lock: &mut Lock<Mem>, tick: Tick, rng: &mut ChaCha20Rng) -> Option<()> {
        lock.prepare_challenge(tick, rng).ok()
    }

    /// One lock message: copied into the receive buffer (outside any timing), then handled.
    pub fn load(bufs: &mut Bufs, msg: &[u8]) -> usize {
        bufs.input[..msg.len()].copy_from_slice(msg);
        msg.len()
    }

    #[inline(never)]
    pub fn handle(
        lock: &mut Lock<Mem>,
        bufs: &mut Bufs,
        tick: Tick,
        n: usize,
    ) -> Option<(Action, usize)> {
        let outcome = lock
            .handle(tick, &mut bufs.input[..n], &mut bufs.out)
            .ok()?;
        if outcome.denied.is_some() {
            return None;
        }
        Some((outcome.action, outcome.reply))
    }

    /// The whole workload with no measurement: true if every action is the expected one and
    /// every answer has the expected length.
    #[cfg(feature = "lockonly")]
    pub fn run() -> bool {
        let (bufs, slot, rebooted) = statics();
        let mut rng = lock_rng();
        if !erase_flash() {
            return false;
        }
        let Some(lock) = install(slot) else {
            return false;
        };
        let ok = |r: Option<(Action, usize)>, action: Action, reply: &[u8]| {
            r == Some((action, reply.len()))
        };
        let Some(c) = challenge(lock, v::TICK_ANCHOR, &mut rng, &mut bufs.challenge) else {
            return false;
        };
        if c != v::CHALLENGE_ANCHOR.len() {
            return false;
        }
        let n = load(bufs, v::ANCHOR_OPEN);
        if !ok(
            handle(lock, bufs, v::TICK_ANCHOR, n),
            Action::None,
            v::ANCHOR_REPLY,
        ) {
            return false;
        }
        let n = load(bufs, v::AUDIT_CMD);
        if !ok(
            handle(lock, bufs, v::TICK_ANCHOR, n),
            Action::None,
            v::AUDIT_REPLY,
        ) {
            return false;
        }
        let Some(c) = challenge(lock, v::TICK_OPEN, &mut rng, &mut bufs.challenge) else {
            return false;
        };
        if c != v::CHALLENGE_UNLOCK.len() {
            return false;
        }
        let n = load(bufs, v::UNLOCK_OPEN);
        if !ok(
            handle(lock, bufs, v::TICK_OPEN, n),
            Action::Unlock,
            v::UNLOCK_REPLY,
        ) {
            return false;
        }
        let n = load(bufs, v::RELOCK_CMD);
        if !ok(
            handle(lock, bufs, v::TICK_RELOCK, n),
            Action::Lock,
            v::RELOCK_REPLY,
        ) {
            return false;
        }
        let n = load(bufs, v::RECEIPTS_CMD);
        if !ok(
            handle(lock, bufs, v::TICK_RECEIPTS, n),
            Action::None,
            v::RECEIPTS_REPLY,
        ) {
            return false;
        }
        for (prepared, visit, expected, open, reply) in [
            (
                v::TICK_PREPARE_FIRST,
                v::TICK_FIRST,
                v::CHALLENGE_FIRST,
                v::FIRST_OPEN,
                v::FIRST_REPLY,
            ),
            (
                v::TICK_PREPARE_REPEAT,
                v::TICK_REPEAT,
                v::CHALLENGE_REPEAT,
                v::REPEAT_OPEN,
                v::REPEAT_REPLY,
            ),
        ] {
            if prepare(lock, prepared, &mut rng).is_none()
                || challenge(lock, visit, &mut rng, &mut bufs.challenge) != Some(expected.len())
            {
                return false;
            }
            let n = load(bufs, open);
            if !ok(handle(lock, bufs, visit, n), Action::Unlock, reply) {
                return false;
            }
        }
        boot(rebooted).is_some()
    }
}

#[cfg(not(any(feature = "lockonly", feature = "baseline")))]
mod measure;

#[entry]
fn main() -> ! {
    #[cfg(feature = "baseline")]
    let ok = {
        use rand_core::Rng;
        let mut bytes = [0u8; 48];
        lock_rng().fill_bytes(&mut bytes);
        core::hint::black_box(bytes) != [0; 48]
    };
    #[cfg(feature = "lockonly")]
    let ok = workload::run();
    #[cfg(not(any(feature = "lockonly", feature = "baseline")))]
    let ok = measure::run();
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    #[allow(clippy::empty_loop)]
    loop {}
}

#[cfg(any(feature = "lockonly", feature = "baseline"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}

#[cfg(not(any(feature = "lockonly", feature = "baseline")))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    cortex_m_semihosting::hprintln!("PANIC: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}
