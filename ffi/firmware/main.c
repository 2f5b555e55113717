/*
 * The doorkey lock role from C on a Cortex-M4 with no heap, under QEMU (mps2-an386): the C
 * counterpart of examples/firmware. A minimal startup, the static library and doorkey.h.
 *
 * Replays the phone messages examples/firmware's generator recorded on the host (a time anchor
 * with the owner's audit key, a first-contact unlock carrying a two-link chain, a relock in the
 * session, a receipt fetch, then a reboot), with the platform's random callback replaying the
 * generator's random stream, and checks every lock answer byte for byte. Each step is timed in
 * instructions (SysTick under -icount shift=0: 40 instructions a tick) and its peak stack
 * measured by painting. Exits through semihosting, status 0 only if every check passed.
 *
 * Variants (compile-time): default = the measuring report; LOCKONLY = the workload alone, no
 * printing (the flash figure); BASELINE = startup, random stream and exit only, no doorkey.
 */
#include <stddef.h>
#include <stdint.h>

#include "vectors.h"
#ifndef BASELINE
#include "doorkey.h"
#endif

/* ------------------------------------------------------------------ startup */

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _stack_top;
int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void SysTick_Handler(void);

__attribute__((section(".vectors"), used)) static void *const vectors[16] = {
    &_stack_top,     Reset_Handler,   Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, 0,
    0,               0,               0,               Default_Handler,
    Default_Handler, 0,               Default_Handler, SysTick_Handler,
};

static int semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* Ends the run: QEMU exits 0 for an application exit, 1 otherwise. */
static void __attribute__((noreturn)) finish(int ok) {
    semihost(0x18, (const void *)(ok ? 0x20026 : 0x20023));
    for (;;) {
    }
}

void Default_Handler(void) { finish(0); }

void Reset_Handler(void) {
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) {
        *dst++ = *src++;
    }
    for (dst = &_sbss; dst < &_ebss; dst++) {
        *dst = 0;
    }
    /* The hard-float library uses the FPU: enable CP10 and CP11. */
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
    __asm__ volatile("dsb\n isb");
    finish(main() == 0);
}

/* ------------------------------------------------------------------ platform */

/* The platform's random number generator, replaying the host generator's stream (a TRNG on a
 * real lock). The baseline links it too: it is not the lock role's. */
static size_t drawn;

static void random_fill(void *context, uint8_t *buf, size_t len) {
    (void)context;
    for (size_t i = 0; i < len; i++) {
        buf[i] = drawn < sizeof LOCK_RNG_STREAM ? LOCK_RNG_STREAM[drawn] : 0;
        drawn++;
    }
}

#ifdef BASELINE
void SysTick_Handler(void) {}

int main(void) {
    uint8_t bytes[48];
    random_fill(NULL, bytes, sizeof bytes);
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < sizeof bytes; i++) {
        sink |= bytes[i];
    }
    return sink != 0 ? 0 : 1;
}
#else

/* The lock's flash, simulated in RAM; it outlives the lock, so a reboot finds what the lock
 * committed. */
#define REGION DOORKEY_FLASH_REGION_MIN
static uint8_t flash[2][REGION];

static int flash_read(void *context, doorkey_region region, size_t offset, uint8_t *buf,
                      size_t len) {
    (void)context;
    if (region > 1 || offset > REGION || len > REGION - offset) {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        buf[i] = flash[region][offset + i];
    }
    return 0;
}

static int flash_erase(void *context, doorkey_region region) {
    (void)context;
    if (region > 1) {
        return -1;
    }
    for (size_t i = 0; i < REGION; i++) {
        flash[region][i] = 0xFF;
    }
    return 0;
}

static int flash_write(void *context, doorkey_region region, size_t offset, const uint8_t *data,
                       size_t len) {
    (void)context;
    if (region > 1 || offset > REGION || len > REGION - offset) {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        flash[region][offset + i] = data[i];
    }
    return 0;
}

static const doorkey_platform platform = {
    .flash_region_size = REGION,
    .flash_read = flash_read,
    .flash_erase = flash_erase,
    .flash_write = flash_write,
    .random = random_fill,
};

/* The lock and the message buffers live in statics: the stack holds only what the lock role
 * itself puts there. */
static uint8_t lock_memory[10240] __attribute__((aligned(8)));
static uint8_t input[DOORKEY_MAX_MESSAGE_LEN], reply[DOORKEY_MAX_MESSAGE_LEN];
static uint8_t challenge[DOORKEY_MAX_CHALLENGE_LEN];
static doorkey_lock *lock;

/* The expected answer of a step: its bytes and length. The lock-only image checks lengths
 * only, as the Rust lock-only firmware does, so no expected bytes count in its flash. */
#ifdef LOCKONLY
#define EXPECTED(name) NULL, sizeof name
#else
#define EXPECTED(name) name, sizeof name
#endif

/* Whether `a` holds `b` (NULL: no bytes to compare). */
static int same(const uint8_t *a, const uint8_t *b, size_t len) {
    for (size_t i = 0; b != NULL && i < len; i++) {
        if (a[i] != b[i]) {
            return 0;
        }
    }
    return 1;
}

/* ------------------------------------------------------------------ lock entry points */

/* Each kept out of line under its own name, as in the Rust firmware. */

/* Power-on: the lock in its memory, started from flash; only blank flash is provisioned. */
static __attribute__((noinline)) int power_on(void) {
    if (doorkey_lock_init(lock_memory, sizeof lock_memory, LOCK_KEY_SEED, &platform, &lock) !=
        DOORKEY_RESULT_OK) {
        return 0;
    }
    doorkey_result r = doorkey_lock_boot(lock);
    if (r == DOORKEY_RESULT_NOT_PROVISIONED) {
        r = doorkey_lock_provision(lock, OWNER_PUBLIC);
    }
    return r == DOORKEY_RESULT_OK;
}

static __attribute__((noinline)) int step_challenge(uint64_t tick, const uint8_t *expected,
                                                    size_t expected_len) {
    size_t n = sizeof challenge;
    return doorkey_lock_challenge(lock, tick, challenge, &n) == DOORKEY_RESULT_OK &&
           n == expected_len && same(challenge, expected, n);
}

static __attribute__((noinline)) int step_handle(uint64_t tick, const uint8_t *msg,
                                                 size_t msg_len, doorkey_action action,
                                                 const uint8_t *expected, size_t expected_len) {
    for (size_t i = 0; i < msg_len; i++) {
        input[i] = msg[i];
    }
    size_t n = sizeof reply;
    doorkey_outcome outcome;
    return doorkey_lock_handle(lock, tick, input, msg_len, reply, &n, &outcome) ==
               DOORKEY_RESULT_OK &&
           outcome.action == action && outcome.denied == DOORKEY_RESULT_OK && n == expected_len &&
           same(reply, expected, n);
}

static void erase_all(void) {
    flash_erase(NULL, DOORKEY_REGION_A);
    flash_erase(NULL, DOORKEY_REGION_B);
}

#ifdef LOCKONLY
void SysTick_Handler(void) {}

int main(void) {
    erase_all();
    int ok = doorkey_abi_version() == DOORKEY_ABI_VERSION && power_on() &&
             step_challenge(TICK_ANCHOR, EXPECTED(CHALLENGE_ANCHOR)) &&
             step_handle(TICK_ANCHOR, ANCHOR_OPEN, sizeof ANCHOR_OPEN, DOORKEY_ACTION_NONE,
                         EXPECTED(ANCHOR_REPLY)) &&
             step_handle(TICK_ANCHOR, AUDIT_CMD, sizeof AUDIT_CMD, DOORKEY_ACTION_NONE,
                         EXPECTED(AUDIT_REPLY)) &&
             step_challenge(TICK_OPEN, EXPECTED(CHALLENGE_UNLOCK)) &&
             step_handle(TICK_OPEN, UNLOCK_OPEN, sizeof UNLOCK_OPEN, DOORKEY_ACTION_UNLOCK,
                         EXPECTED(UNLOCK_REPLY)) &&
             step_handle(TICK_RELOCK, RELOCK_CMD, sizeof RELOCK_CMD, DOORKEY_ACTION_LOCK,
                         EXPECTED(RELOCK_REPLY)) &&
             step_handle(TICK_RECEIPTS, RECEIPTS_CMD, sizeof RECEIPTS_CMD, DOORKEY_ACTION_NONE,
                         EXPECTED(RECEIPTS_REPLY));
    doorkey_lock_deinit(lock);
    return ok && power_on() ? 0 : 1;
}
#else

/* ------------------------------------------------------------------ measurement */

#define INSNS_PER_TICK 40u
#define RELOAD 0x00FFFFFFu
#define PAINT 0xC5ACCE55u
#define SYST ((volatile uint32_t *)0xE000E010)

static volatile uint32_t wraps;
static int failures;

void SysTick_Handler(void) { wraps++; }

static void start_timer(void) {
    SYST[0] = 0;      /* CSR: off */
    SYST[1] = RELOAD; /* RVR */
    SYST[2] = 0;      /* CVR */
    SYST[0] = 7;      /* processor clock, interrupt, enable */
}

static uint64_t ticks(void) {
    for (;;) {
        uint32_t w = wraps, cur = SYST[2];
        if (wraps == w) {
            return ((uint64_t)w << 24) + (RELOAD - cur);
        }
    }
}

static uintptr_t sp(void) {
    uintptr_t v;
    __asm__ volatile("mov %0, sp" : "=r"(v));
    return v;
}

static __attribute__((noinline)) void paint(void) {
    for (uintptr_t p = (uintptr_t)&_ebss; p < sp() - 64; p += 4) {
        *(volatile uint32_t *)p = PAINT;
    }
}

static __attribute__((noinline)) uintptr_t lowest_touched(void) {
    uintptr_t p = (uintptr_t)&_ebss;
    while (*(volatile uint32_t *)p == PAINT) {
        p += 4;
    }
    return p;
}

static void print(const char *s) { semihost(0x04, s); }

static void print_u(uint64_t v, int width) {
    char buf[24];
    int i = 23;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v && i > 0);
    while (23 - i < width && i > 0) {
        buf[--i] = ' ';
    }
    print(buf + i);
}

struct meas {
    uint64_t insns;
    uintptr_t stack, absolute;
};

static struct meas total;

/* Reports one measured step; a failed check is counted. */
static void row(const char *name, int ok, uint64_t t0, uint64_t t1, uintptr_t base) {
    uintptr_t low = lowest_touched();
    struct meas m = {(t1 - t0) * INSNS_PER_TICK, base - low, (uintptr_t)&_stack_top - low};
    total.insns += m.insns;
    total.stack = m.stack > total.stack ? m.stack : total.stack;
    total.absolute = m.absolute > total.absolute ? m.absolute : total.absolute;
    print("lock ");
    print(name);
    print(": insns ");
    print_u(m.insns, 10);
    print("  stack ");
    print_u(m.stack, 6);
    print(" B  (absolute ");
    print_u(m.absolute, 6);
    print(" B)");
    print(ok ? "\n" : "  FAIL\n");
    failures += !ok;
}

#define MEASURE(name, expr)                                                                  \
    do {                                                                                     \
        paint();                                                                             \
        uintptr_t base_ = sp();                                                              \
        uint64_t t0_ = ticks();                                                              \
        int ok_ = (expr);                                                                    \
        uint64_t t1_ = ticks();                                                              \
        row(name, ok_, t0_, t1_, base_);                                                     \
    } while (0)

int main(void) {
    start_timer();
    print("doorkey lock role from C: thumbv7em-none-eabihf, QEMU mps2-an386 -icount shift=0, "
          "no heap\n");
    print("lock memory ");
    print_u(doorkey_lock_size(), 0);
    print(" B (align ");
    print_u(doorkey_lock_align(), 0);
    print("), flash regions 2 x ");
    print_u(REGION, 0);
    print(" B, phone messages ");
    print_u(PHONE_BYTES, 0);
    print(" B\n");
    if (doorkey_abi_version() != DOORKEY_ABI_VERSION || doorkey_lock_size() > sizeof lock_memory ||
        doorkey_lock_align() > 8) {
        print("FAIL: ABI version or lock memory\n");
        return 1;
    }
    erase_all();
    MEASURE("install (init, boot, provision)", power_on());
    MEASURE("challenge (anchor session)",
            step_challenge(TICK_ANCHOR, EXPECTED(CHALLENGE_ANCHOR)));
    MEASURE("time anchor (open, owner sig)",
            step_handle(TICK_ANCHOR, ANCHOR_OPEN, sizeof ANCHOR_OPEN, DOORKEY_ACTION_NONE,
                        EXPECTED(ANCHOR_REPLY)));
    MEASURE("audit key (config in session)",
            step_handle(TICK_ANCHOR, AUDIT_CMD, sizeof AUDIT_CMD, DOORKEY_ACTION_NONE,
                        EXPECTED(AUDIT_REPLY)));
    struct meas before = total;
    MEASURE("challenge (unlock session)",
            step_challenge(TICK_OPEN, EXPECTED(CHALLENGE_UNLOCK)));
    MEASURE("first-contact unlock (open)",
            step_handle(TICK_OPEN, UNLOCK_OPEN, sizeof UNLOCK_OPEN, DOORKEY_ACTION_UNLOCK,
                        EXPECTED(UNLOCK_REPLY)));
    uint64_t first_contact = total.insns - before.insns;
    MEASURE("relock (in session)",
            step_handle(TICK_RELOCK, RELOCK_CMD, sizeof RELOCK_CMD, DOORKEY_ACTION_LOCK,
                        EXPECTED(RELOCK_REPLY)));
    MEASURE("receipts (sealed bundle)",
            step_handle(TICK_RECEIPTS, RECEIPTS_CMD, sizeof RECEIPTS_CMD, DOORKEY_ACTION_NONE,
                        EXPECTED(RECEIPTS_REPLY)));
    doorkey_lock_deinit(lock);
    MEASURE("boot (init, boot from flash)", power_on());
    print("first contact (challenge + open + decision + commit): insns ");
    print_u(first_contact, 0);
    print("\npeak stack, any lock step: ");
    print_u(total.stack, 0);
    print(" B below the caller, ");
    print_u(total.absolute, 0);
    print(" B below the top\n");
    if (failures == 0) {
        print("RESULT ok: every lock answer matches the host byte for byte\n");
        return 0;
    }
    print("RESULT FAILED\n");
    return 1;
}
#endif
#endif
