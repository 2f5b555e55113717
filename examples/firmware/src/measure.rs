//! The measuring run: each lock step and each primitive timed in instructions and its peak
//! stack measured, every lock answer checked byte for byte against the host's.
//!
//! Time: with `-icount shift=0` QEMU's virtual clock advances exactly 1 ns per instruction.
//! SysTick (the DWT cycle counter is not emulated) runs from the 25 MHz system clock of the
//! MPS2 board, so one tick is 40 instructions: every figure has a resolution of 40
//! instructions. The calibration loop at start-up checks that factor. Wraps of the 24-bit
//! counter are counted by the SysTick exception.
//!
//! Stack: before each step the free stack (from `_stack_end`, the top of .bss, to just below
//! the current stack pointer) is painted with a pattern; after it, the lowest overwritten word
//! gives the step's peak depth below the caller, and its absolute depth below `_stack_start`.

use crate::vectors as v;
use crate::workload::{self, Bufs, Mem};
use chacha20::ChaCha20Rng;
use core::sync::atomic::{AtomicU32, Ordering};
use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::exception;
use cortex_m_semihosting::hprintln;
use doorkey::lock::{Action, Lock};
use doorkey::time::Tick;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use rand_core::SeedableRng;
use x25519_dalek::{EphemeralSecret, PublicKey as XPublic};

/// Instructions per SysTick tick: 25 MHz system clock, 1 ns per instruction.
const INSNS_PER_TICK: u64 = 40;
const RELOAD: u32 = 0x00FF_FFFF;
const PAINT: u32 = 0xC5AC_CE55;

static WRAPS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    WRAPS.fetch_add(1, Ordering::Relaxed);
}

fn start_timer() {
    // SAFETY: the only owner of SysTick in this program.
    let mut syst = unsafe { cortex_m::Peripherals::steal() }.SYST;
    syst.disable_counter();
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(RELOAD);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

/// SysTick ticks since `start_timer`, wraps included.
#[inline(always)]
fn ticks() -> u64 {
    loop {
        let w = WRAPS.load(Ordering::SeqCst);
        let cur = SYST::get_current();
        if WRAPS.load(Ordering::SeqCst) == w {
            return (u64::from(w) << 24) + u64::from(RELOAD - cur);
        }
    }
}

unsafe extern "C" {
    static mut _stack_end: u32;
    static _stack_start: u32;
}

fn stack_end() -> usize {
    (&raw const _stack_end) as usize
}

fn stack_start() -> usize {
    (&raw const _stack_start) as usize
}

/// Paints the free stack below the caller.
#[inline(never)]
fn paint() {
    let sp = cortex_m::register::msp::read() as usize;
    let mut p = stack_end();
    while p < sp - 64 {
        // SAFETY: between the top of .bss and below the live stack: unused memory.
        unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
}

/// Lowest address whose paint was overwritten.
#[inline(never)]
fn lowest_touched() -> usize {
    let mut p = stack_end();
    // SAFETY: reads of the painted region.
    while unsafe { core::ptr::read_volatile(p as *const u32) } == PAINT {
        p += 4;
    }
    p
}

#[inline(never)]
fn call<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[derive(Clone, Copy, Default)]
struct Meas {
    insns: u64,
    /// Peak depth below the measuring frame.
    stack: usize,
    /// Peak depth below the top of the stack.
    absolute: usize,
}

impl core::ops::Add for Meas {
    type Output = Meas;
    fn add(self, o: Meas) -> Meas {
        Meas {
            insns: self.insns + o.insns,
            stack: self.stack.max(o.stack),
            absolute: self.absolute.max(o.absolute),
        }
    }
}

#[inline(never)]
fn measure<R>(f: impl FnOnce() -> R) -> (R, Meas) {
    paint();
    let sp = cortex_m::register::msp::read() as usize;
    let t0 = ticks();
    let r = call(f);
    let t1 = ticks();
    let low = lowest_touched();
    let m = Meas {
        insns: t1.saturating_sub(t0) * INSNS_PER_TICK,
        stack: sp.saturating_sub(low),
        absolute: stack_start() - low,
    };
    (r, m)
}

fn row(name: &str, m: Meas) {
    hprintln!(
        "{:<34} {:>12} {:>9} {:>9}",
        name,
        m.insns,
        m.stack,
        m.absolute
    );
}

/// `a / b` as `x.xxx`.
fn ratio(name: &str, a: Meas, b: Meas) {
    let milli = a.insns * 1000 / b.insns.max(1);
    hprintln!(
        "ratio {:<40} {}.{:03}  ({} / {})",
        name,
        milli / 1000,
        milli % 1000,
        a.insns,
        b.insns
    );
}

fn check(what: &str, ok: bool, failures: &mut u32) {
    if !ok {
        hprintln!("FAIL: {}", what);
        *failures += 1;
    }
}

#[allow(clippy::too_many_arguments)]
fn step(
    lock: &mut Lock<Mem>,
    bufs: &mut Bufs,
    tick: Tick,
    msg: &[u8],
    action: Action,
    expected: &[u8],
    name: &str,
    failures: &mut u32,
) -> Meas {
    let n = workload::load(bufs, msg);
    let (r, m) = measure(|| workload::handle(lock, bufs, tick, n));
    match r {
        Some((a, len)) => {
            check(name, a == action, failures);
            check(name, &bufs.out[..len] == expected, failures);
        }
        None => check(name, false, failures),
    }
    m
}

/// The calibration loop: `2 * n` instructions (`subs` and `bne` per iteration).
#[inline(never)]
fn spin(n: u32) {
    // SAFETY: a register-only loop.
    unsafe {
        core::arch::asm!(
            "2:",
            "subs {0}, {0}, #1",
            "bne 2b",
            inout(reg) n => _,
            options(nomem, nostack),
        );
    }
}

pub fn run() -> bool {
    start_timer();
    let mut failures = 0u32;
    hprintln!("doorkey lock role: thumbv7em-none-eabihf, QEMU mps2-an386 -icount shift=0, no heap");
    let (_, cal) = measure(|| spin(1_000_000));
    hprintln!(
        "timer: SysTick, 25 MHz core clock = {} instructions/tick; calibration: 2000000-instruction loop measured {} (resolution {} instructions)",
        INSNS_PER_TICK,
        cal.insns,
        INSNS_PER_TICK
    );
    hprintln!(
        "sizes: Lock<FlashStorage<RamFlash>> {} B (static), phone messages {} B, state {} B, bundle {} B ({} signatures)",
        core::mem::size_of::<Lock<Mem>>(),
        v::PHONE_BYTES,
        v::STATE_BYTES,
        v::BUNDLE_BYTES,
        v::RECEIPTS_SIGNED
    );
    hprintln!(
        "type sizes (B): LockState {}, Link {}, UnverifiedChain {}, Grant {}, Receipt {}",
        core::mem::size_of::<doorkey::lock::LockState>(),
        core::mem::size_of::<doorkey::credential::Link>(),
        core::mem::size_of::<doorkey::credential::UnverifiedChain<'static>>(),
        core::mem::size_of::<doorkey::credential::Grant>(),
        core::mem::size_of::<doorkey::receipt::Receipt>()
    );
    hprintln!();
    hprintln!(
        "{:<34} {:>12} {:>9} {:>9}",
        "step",
        "instructions",
        "stack B",
        "abs B"
    );

    // ---- the lock role ----
    let (bufs, slot, rebooted) = workload::statics();
    let mut rng = workload::lock_rng();
    check("flash erased", workload::erase_flash(), &mut failures);
    let (lock, install) = measure(|| workload::install(slot));
    let Some(lock) = lock else {
        hprintln!("FAIL: install");
        return false;
    };
    row("lock.install", install);

    let (r, challenge_anchor) =
        measure(|| workload::challenge(lock, v::TICK_ANCHOR, &mut rng, &mut bufs.challenge));
    check(
        "challenge (anchor) matches host",
        r.map(|n| &bufs.challenge[..n]) == Some(v::CHALLENGE_ANCHOR),
        &mut failures,
    );
    row("lock.challenge (anchor)", challenge_anchor);
    let anchor_open = step(
        lock,
        bufs,
        v::TICK_ANCHOR,
        v::ANCHOR_OPEN,
        Action::None,
        v::ANCHOR_REPLY,
        "open: time anchor",
        &mut failures,
    );
    row("lock.handle open: time anchor", anchor_open);
    let audit = step(
        lock,
        bufs,
        v::TICK_ANCHOR,
        v::AUDIT_CMD,
        Action::None,
        v::AUDIT_REPLY,
        "command: set the audit key",
        &mut failures,
    );
    row("lock.handle command: set the audit key", audit);

    let (r, challenge) =
        measure(|| workload::challenge(lock, v::TICK_OPEN, &mut rng, &mut bufs.challenge));
    check(
        "challenge (unlock) matches host",
        r.map(|n| &bufs.challenge[..n]) == Some(v::CHALLENGE_UNLOCK),
        &mut failures,
    );
    row("lock.challenge", challenge);
    let open = step(
        lock,
        bufs,
        v::TICK_OPEN,
        v::UNLOCK_OPEN,
        Action::Unlock,
        v::UNLOCK_REPLY,
        "open: 2-link chain -> Unlock",
        &mut failures,
    );
    row("lock.handle open: chain -> Unlock", open);
    let relock = step(
        lock,
        bufs,
        v::TICK_RELOCK,
        v::RELOCK_CMD,
        Action::Lock,
        v::RELOCK_REPLY,
        "relock -> Lock",
        &mut failures,
    );
    row("lock.handle command: relock", relock);
    let receipts = step(
        lock,
        bufs,
        v::TICK_RECEIPTS,
        v::RECEIPTS_CMD,
        Action::None,
        v::RECEIPTS_REPLY,
        "receipts fetch",
        &mut failures,
    );
    row("lock.handle command: receipts", receipts);

    // The fast path: a first visit answering a prepared challenge, then a repeat visit.
    let mut fast = [(Meas::default(), Meas::default(), Meas::default()); 2];
    for (i, (prepared, visit, expected, msg, reply, name)) in [
        (
            v::TICK_PREPARE_FIRST,
            v::TICK_FIRST,
            v::CHALLENGE_FIRST,
            v::FIRST_OPEN,
            v::FIRST_REPLY,
            "first visit",
        ),
        (
            v::TICK_PREPARE_REPEAT,
            v::TICK_REPEAT,
            v::CHALLENGE_REPEAT,
            v::REPEAT_OPEN,
            v::REPEAT_REPLY,
            "repeat visit",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let (r, prepare) = measure(|| workload::prepare(lock, prepared, &mut rng));
        check(name, r.is_some(), &mut failures);
        let (r, hand_out) =
            measure(|| workload::challenge(lock, visit, &mut rng, &mut bufs.challenge));
        check(
            "prepared challenge matches host",
            r.map(|n| &bufs.challenge[..n]) == Some(expected),
            &mut failures,
        );
        let open = step(
            lock,
            bufs,
            visit,
            msg,
            Action::Unlock,
            reply,
            name,
            &mut failures,
        );
        fast[i] = (prepare, hand_out, open);
    }
    let [
        (prepare_first, handout_first, open_first),
        (prepare_repeat, handout_repeat, open_repeat),
    ] = fast;
    row("lock.prepare_challenge (idle)", prepare_first);
    row("lock.challenge (prepared: hand-out)", handout_first);
    row("lock.handle open: new company, chain", open_first);
    row("lock.prepare_challenge (idle, 2nd)", prepare_repeat);
    row("lock.challenge (prepared, 2nd)", handout_repeat);
    row("lock.handle open: held link, leaf", open_repeat);
    let (r, boot) = measure(|| workload::boot(rebooted));
    check(
        "reboot restores the state",
        r.is_some_and(|l| {
            l.state().receipts.seq == lock.state().receipts.seq + 1
                && l.state().uses == lock.state().uses
                && l.state().enrolment == lock.state().enrolment
        }),
        &mut failures,
    );
    row("lock.boot (reboot from storage)", boot);

    // ---- the primitives alone, on the same inputs ----
    hprintln!();
    let key = SigningKey::from_bytes(&v::LOCK_KEY_SEED);
    let (_, sign_challenge) = measure(|| key.sign(v::CHALLENGE_SIGN_MSG));
    row("ed25519 sign (challenge msg)", sign_challenge);
    let mut sign_receipts = Meas::default();
    for msg in v::RECEIPT_SIGN_MSG.iter() {
        let (_, m) = measure(|| key.sign(msg));
        sign_receipts = sign_receipts + m;
    }
    row("ed25519 sign x bundle", sign_receipts);

    let mut prng = ChaCha20Rng::from_seed([7; 32]);
    let peer = XPublic::from(&EphemeralSecret::random_from_rng(&mut prng));
    let (secret, keygen) = measure(|| {
        let s = EphemeralSecret::random_from_rng(&mut prng);
        let p = XPublic::from(&s);
        (s, p)
    });
    row("x25519 keygen", keygen);
    let (shared, agree) = measure(|| secret.0.diffie_hellman(&peer));
    core::hint::black_box((shared.as_bytes(), secret.1));
    row("x25519 agreement", agree);

    let mut verify = [Meas::default(); 4];
    for (i, m) in verify.iter_mut().enumerate() {
        let (ok, meas) = measure(|| {
            let sig: [u8; 64] = v::VERIFY_SIG[i].try_into().unwrap_or([0; 64]);
            let pk: [u8; 32] = v::VERIFY_KEY[i].try_into().unwrap_or([0; 32]);
            VerifyingKey::from_bytes(&pk)
                .and_then(|k| k.verify_strict(v::VERIFY_MSG[i], &Signature::from_bytes(&sig)))
                .is_ok()
        });
        check("floor signature verifies", ok, &mut failures);
        *m = meas;
    }
    let verify3 = verify[0] + verify[1] + verify[2];
    row("ed25519 verify_strict (root link)", verify[0]);
    row("ed25519 verify_strict (leaf link)", verify[1]);
    row("ed25519 verify_strict (holder)", verify[2]);
    row("ed25519 verify_strict x3", verify3);
    row("ed25519 verify_strict (anchor)", verify[3]);
    // A holder signature through doorkey's own check, by an Ed25519 and by a P-256 key.
    #[cfg(feature = "p256")]
    {
        use doorkey::crypto::{P256PublicKey, PublicKey, Signature as Sig, SubjectKey};
        let holder = |key: SubjectKey, sig: &[u8]| {
            let sig = Sig(sig.try_into().unwrap_or([0; 64]));
            measure(|| key.verify(b"", &[v::VERIFY_MSG[2]], &sig).is_ok())
        };
        let ed = SubjectKey::Ed25519(PublicKey(v::VERIFY_KEY[2].try_into().unwrap_or([0; 32])));
        let (ok, ed) = holder(ed, v::VERIFY_SIG[2]);
        check("Ed25519 holder signature verifies", ok, &mut failures);
        let p = SubjectKey::P256(P256PublicKey(v::P256_KEY.try_into().unwrap_or([0; 33])));
        let (ok, p) = holder(p, v::P256_SIG);
        check("P-256 holder signature verifies", ok, &mut failures);
        row("holder verify, Ed25519 (doorkey)", ed);
        row("holder verify, P-256 ECDSA SHA-256 (doorkey)", p);
        ratio("P-256 / Ed25519 holder verify", p, ed);
    }

    // ---- ratios ----
    hprintln!();
    let first_contact = challenge + open;
    let floor_open = verify3 + agree;
    let floor_first = floor_open + sign_challenge + keygen;
    ratio(
        "challenge / (sign + x25519 keygen)",
        challenge,
        sign_challenge + keygen,
    );
    ratio("open->unlock / (3 verify_strict)", open, verify3);
    ratio(
        "open->unlock / (3 verify_strict + x25519 agree)",
        open,
        floor_open,
    );
    ratio(
        "first contact (challenge + open) / floor",
        first_contact,
        floor_first,
    );
    ratio(
        "anchor open / (verify_strict + x25519 agree)",
        anchor_open,
        verify[3] + agree,
    );
    ratio("receipts fetch / (sign x bundle)", receipts, sign_receipts);
    ratio("relock / one verify_strict", relock, verify[0]);
    let first_prepared = handout_first + open_first;
    let repeat = handout_repeat + open_repeat;
    let floor_repeat = verify[1] + verify[2] + agree;
    ratio(
        "first visit, prepared (hand-out + open) / first contact",
        first_prepared,
        first_contact,
    );
    ratio(
        "  its floor (3 verify + agree) / first contact",
        floor_open,
        first_contact,
    );
    ratio(
        "  first visit, prepared / its floor",
        first_prepared,
        floor_open,
    );
    ratio(
        "repeat visit, prepared + held link / first contact",
        repeat,
        first_contact,
    );
    ratio(
        "  its floor (2 verify + agree) / first contact",
        floor_repeat,
        first_contact,
    );
    ratio("  repeat visit / its floor", repeat, floor_repeat);

    let lock_steps = install
        + boot
        + challenge_anchor
        + anchor_open
        + audit
        + challenge
        + open
        + relock
        + receipts
        + prepare_first
        + handout_first
        + open_first
        + prepare_repeat
        + handout_repeat
        + open_repeat;
    let prims = sign_challenge + sign_receipts + keygen + agree + verify3 + verify[3];
    hprintln!();
    hprintln!(
        "peak stack, lock steps: {} B below the caller ({} B from the stack top, incl. harness frames); primitives alone: {} B",
        lock_steps.stack,
        lock_steps.absolute,
        prims.stack
    );
    hprintln!(
        "peak stack, sessions only (no install, no boot): {} B",
        (challenge_anchor + anchor_open + audit + challenge + open + relock + receipts).stack
    );
    if failures == 0 {
        hprintln!("RESULT ok: every lock answer matches the host byte for byte");
    } else {
        hprintln!("RESULT FAILED: {} checks", failures);
    }
    failures == 0
}
