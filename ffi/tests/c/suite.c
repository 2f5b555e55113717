/*
 * The C test suite of doorkey's C ABI: the delivery story driven from C against the Rust phone
 * and server (the `testkit` helpers), power loss at every flash write through the callbacks,
 * and every error path of the API. Built with gcc under AddressSanitizer and
 * UndefinedBehaviorSanitizer and run by `ffi/tests/c_suite.rs` (`cargo test --workspace`).
 *
 * With DOORKEY_TRANSCRIPT set to a path, the delivery story records every lock call, its
 * inputs (random bytes included) and its answers there; the Rust test replays the record into
 * a Rust lock and checks that every answer is byte-identical.
 */
#define DOORKEY_TESTKIT 1
#include "doorkey.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ checks */

static int checks;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        checks++;                                                                          \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);       \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

#define EXPECT(call, code)                                                                 \
    do {                                                                                   \
        checks++;                                                                          \
        doorkey_result got_ = (call);                                                      \
        if (got_ != (code)) {                                                              \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s\n", __FILE__, __LINE__,    \
                    #call, doorkey_result_name(got_), doorkey_result_name(code));          \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

#define OK(call) EXPECT(call, DOORKEY_RESULT_OK)

static int all_zero(const uint8_t *buf, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != 0) {
            return 0;
        }
    }
    return 1;
}

/* ------------------------------------------------------------------ platform */

#define REGION DOORKEY_FLASH_REGION_MIN

/* Flash in RAM. `budget` counts the erases and writes left before the power is cut (-1: no
 * cut); the operation that meets the cut does half its work (a torn write or a partial erase),
 * and every flash operation fails until the power comes back. */
struct flash {
    uint8_t region[2][REGION];
    long budget;
    int cut;
    long operations;
};

static int flash_read(void *context, doorkey_region region, size_t offset, uint8_t *buf,
                      size_t len) {
    struct flash *f = context;
    if (f->cut || region > 1 || offset > REGION || len > REGION - offset) {
        return -1;
    }
    memcpy(buf, f->region[region] + offset, len);
    return 0;
}

/* Whether the power holds for one more erase or write; on the cut, `done` is how much of
 * `len` gets done. */
static int power_holds(struct flash *f, size_t len, size_t *done) {
    f->operations++;
    if (f->cut) {
        *done = 0;
        return 0;
    }
    if (f->budget == 0) {
        f->cut = 1;
        *done = len / 2;
        return 0;
    }
    if (f->budget > 0) {
        f->budget--;
    }
    *done = len;
    return 1;
}

static int flash_erase(void *context, doorkey_region region) {
    struct flash *f = context;
    size_t done;
    if (region > 1) {
        return -1;
    }
    int ok = power_holds(f, REGION, &done);
    memset(f->region[region], 0xFF, done);
    return ok ? 0 : -1;
}

static int flash_write(void *context, doorkey_region region, size_t offset, const uint8_t *data,
                       size_t len) {
    struct flash *f = context;
    size_t done;
    if (region > 1 || offset > REGION || len > REGION - offset) {
        return -1;
    }
    int ok = power_holds(f, len, &done);
    memcpy(f->region[region] + offset, data, done);
    return ok ? 0 : -1;
}

static void flash_blank(struct flash *f) {
    memset(f->region, 0xFF, sizeof f->region);
    f->budget = -1;
    f->cut = 0;
    f->operations = 0;
}

/* A deterministic generator (splitmix64), so the Rust replay can be fed the same bytes; the
 * lock's also keeps what it handed out since the last `take`, for the transcript. */
struct rng {
    uint64_t state;
    uint8_t drawn[256];
    size_t n_drawn;
};

static void random_fill(void *context, uint8_t *buf, size_t len) {
    struct rng *r = context;
    for (size_t i = 0; i < len; i++) {
        r->state += 0x9E3779B97F4A7C15ull;
        uint64_t z = r->state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        buf[i] = (uint8_t)(z ^ (z >> 31));
        if (r->n_drawn < sizeof r->drawn) {
            r->drawn[r->n_drawn++] = buf[i];
        }
    }
}

struct presence {
    int calls;
    bool answer;
    doorkey_grant last;
};

static bool confirm_presence(void *context, const doorkey_grant *grant) {
    struct presence *p = context;
    p->calls++;
    p->last = *grant;
    return p->answer;
}

struct log {
    int lines;
    doorkey_result last;
};

static void log_line(void *context, const char *message, doorkey_result detail) {
    struct log *l = context;
    CHECK(message != NULL && strlen(message) > 0);
    l->lines++;
    l->last = detail;
}

/* ------------------------------------------------------------------ fixture */

static const uint8_t LOCK_SEED[32] = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
                                      2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2};
static uint8_t OWNER_SEED[32], COMPANY_SEED[32], COURIER_SEED[32], AUDIT_SEED[32];
static const uint64_t NOON = 1780315200; /* 2026-06-01 12:00:00 UTC */

/* Everything one lock needs: memory, flash, callbacks and a transcript of its calls. */
struct rig {
    void *memory;
    doorkey_lock *lock;
    struct flash flash;
    struct rng lock_rng, phone_rng;
    struct presence presence;
    struct log log;
    doorkey_platform platform;
    uint8_t owner[32], lock_key[32], lock_id[16];
    FILE *transcript;
};

static void hex(FILE *out, const uint8_t *bytes, size_t len) {
    fputc(' ', out);
    if (len == 0) {
        fputc('-', out);
    }
    for (size_t i = 0; i < len; i++) {
        fprintf(out, "%02x", bytes[i]);
    }
}

static void record(struct rig *r, const char *format, ...) {
    if (r->transcript == NULL) {
        return;
    }
    va_list args;
    va_start(args, format);
    vfprintf(r->transcript, format, args);
    va_end(args);
}

static void rig_setup(struct rig *r, FILE *transcript) {
    memset(r, 0, sizeof *r);
    r->memory = aligned_alloc(doorkey_lock_align(),
                              (doorkey_lock_size() + doorkey_lock_align() - 1) /
                                  doorkey_lock_align() * doorkey_lock_align());
    CHECK(r->memory != NULL);
    flash_blank(&r->flash);
    r->lock_rng.state = 7;
    r->phone_rng.state = 1234;
    r->presence.answer = true;
    r->platform = (doorkey_platform){
        .flash_context = &r->flash,
        .flash_region_size = REGION,
        .flash_read = flash_read,
        .flash_erase = flash_erase,
        .flash_write = flash_write,
        .random_context = &r->lock_rng,
        .random = random_fill,
        .presence_context = &r->presence,
        .confirm_presence = confirm_presence,
        .log_context = &r->log,
        .log = log_line,
    };
    OK(doorkey_test_public_key(OWNER_SEED, r->owner));
    OK(doorkey_test_public_key(LOCK_SEED, r->lock_key));
    OK(doorkey_test_lock_id(r->lock_key, r->lock_id));
    r->transcript = transcript;
}

static void rig_teardown(struct rig *r) {
    doorkey_lock_deinit(r->lock);
    free(r->memory);
    r->lock = NULL;
}

/* Power-on: a new lock in the same memory over the same flash, started from it. */
static doorkey_result rig_power_on(struct rig *r) {
    doorkey_lock_deinit(r->lock);
    r->lock = NULL;
    OK(doorkey_lock_init(r->memory, doorkey_lock_size(), LOCK_SEED, &r->platform, &r->lock));
    CHECK(r->lock == r->memory);
    record(r, "init");
    if (r->transcript) {
        hex(r->transcript, LOCK_SEED, 32);
    }
    record(r, "\n");
    doorkey_result result = doorkey_lock_boot(r->lock);
    record(r, "boot %u\n", result);
    return result;
}

static void rig_install(struct rig *r) {
    EXPECT(rig_power_on(r), DOORKEY_RESULT_NOT_PROVISIONED);
    doorkey_result result = doorkey_lock_provision(r->lock, r->owner);
    record(r, "provision");
    if (r->transcript) {
        hex(r->transcript, r->owner, 32);
    }
    record(r, " %u\n", result);
    OK(result);
}

/* The lock's calls, recorded. */
static doorkey_result lock_challenge(struct rig *r, uint64_t tick, uint8_t *out, size_t *len) {
    r->lock_rng.n_drawn = 0;
    doorkey_result result = doorkey_lock_challenge(r->lock, tick, out, len);
    record(r, "challenge %llu", (unsigned long long)tick);
    if (r->transcript) {
        hex(r->transcript, r->lock_rng.drawn, r->lock_rng.n_drawn);
        fprintf(r->transcript, " %u", result);
        hex(r->transcript, out, *len);
    }
    record(r, "\n");
    return result;
}

static doorkey_result lock_handle(struct rig *r, uint64_t tick, uint8_t *message, size_t len,
                                  uint8_t *reply, size_t *reply_len, doorkey_outcome *outcome) {
    record(r, "handle %llu", (unsigned long long)tick);
    if (r->transcript) {
        hex(r->transcript, message, len);
    }
    doorkey_result result = doorkey_lock_handle(r->lock, tick, message, len, reply, reply_len,
                                                outcome);
    CHECK(all_zero(message, len)); /* the holder's bytes never stay behind */
    record(r, " %u %u %u %u", result, outcome->action, outcome->denied, outcome->unrecorded);
    if (r->transcript) {
        hex(r->transcript, reply, *reply_len);
    }
    record(r, "\n");
    return result;
}

static doorkey_result lock_door(struct rig *r, uint64_t tick, uint32_t event) {
    doorkey_result result = doorkey_lock_door_event(r->lock, tick, event);
    record(r, "door %llu %u %u\n", (unsigned long long)tick, event, result);
    return result;
}

/* A phone exchange with the lock: the phone's message goes through `lock_handle` and the
 * reply back to the phone. */
struct visit {
    struct rig *rig;
    void *memory;
    doorkey_phone *phone;
    uint8_t message[DOORKEY_MAX_MESSAGE_LEN], reply[DOORKEY_MAX_MESSAGE_LEN];
    size_t message_len, reply_len;
    doorkey_outcome outcome;
    doorkey_reply answer;
};

static void visit_start(struct visit *v, struct rig *r) {
    memset(v, 0, sizeof *v);
    v->rig = r;
    v->memory = aligned_alloc(doorkey_phone_align(),
                              (doorkey_phone_size() + doorkey_phone_align() - 1) /
                                  doorkey_phone_align() * doorkey_phone_align());
    CHECK(v->memory != NULL);
}

static void visit_end(struct visit *v) {
    doorkey_phone_deinit(v->phone);
    free(v->memory);
}

/* The lock handles what the phone wrote; the phone reads the answer. */
static void visit_exchange(struct visit *v, uint64_t tick) {
    v->reply_len = sizeof v->reply;
    OK(lock_handle(v->rig, tick, v->message, v->message_len, v->reply, &v->reply_len,
                   &v->outcome));
    OK(doorkey_phone_reply(v->phone, v->reply, v->reply_len, &v->answer));
}

static doorkey_command command(uint32_t kind, const uint8_t *data, size_t len) {
    return (doorkey_command){.kind = kind, .after = 0, .data = data, .data_len = len};
}

/* Opens a session: with the courier's credential `chain`, or anonymously when it is NULL. */
static void visit_open(struct visit *v, uint64_t tick, const uint8_t *chain, size_t chain_len,
                       doorkey_command cmd) {
    uint8_t challenge[DOORKEY_MAX_CHALLENGE_LEN];
    size_t challenge_len = sizeof challenge;
    OK(lock_challenge(v->rig, tick, challenge, &challenge_len));
    v->message_len = sizeof v->message;
    if (chain) {
        OK(doorkey_phone_open(v->memory, doorkey_phone_size(), challenge, challenge_len, chain,
                              chain_len, COURIER_SEED, &cmd, random_fill, &v->rig->phone_rng,
                              v->message, &v->message_len, &v->phone));
    } else {
        OK(doorkey_phone_open_anonymous(v->memory, doorkey_phone_size(), challenge,
                                        challenge_len, v->rig->lock_id, &cmd, random_fill,
                                        &v->rig->phone_rng, v->message, &v->message_len,
                                        &v->phone));
    }
    CHECK(v->phone == v->memory);
}

static void visit_command(struct visit *v, doorkey_command cmd) {
    v->message_len = sizeof v->message;
    OK(doorkey_phone_command(v->phone, &cmd, v->message, &v->message_len));
}

/* A time anchor for the challenge the lock is about to issue is signed in the phone's open:
 * the anchor needs the challenge's nonce, so this opens the session itself. */
static void visit_open_with_anchor(struct visit *v, uint64_t tick, uint64_t time,
                                   const uint8_t *chain, size_t chain_len) {
    uint8_t challenge[DOORKEY_MAX_CHALLENGE_LEN], anchor[2048];
    size_t challenge_len = sizeof challenge, anchor_len = sizeof anchor;
    OK(lock_challenge(v->rig, tick, challenge, &challenge_len));
    OK(doorkey_test_time_anchor(OWNER_SEED, challenge, challenge_len, time, anchor,
                                &anchor_len));
    doorkey_command cmd = command(DOORKEY_COMMAND_KIND_TIME, anchor, anchor_len);
    v->message_len = sizeof v->message;
    if (chain) {
        OK(doorkey_phone_open(v->memory, doorkey_phone_size(), challenge, challenge_len, chain,
                              chain_len, COURIER_SEED, &cmd, random_fill, &v->rig->phone_rng,
                              v->message, &v->message_len, &v->phone));
    } else {
        OK(doorkey_phone_open_anonymous(v->memory, doorkey_phone_size(), challenge,
                                        challenge_len, v->rig->lock_id, &cmd, random_fill,
                                        &v->rig->phone_rng, v->message, &v->message_len,
                                        &v->phone));
    }
}

/* The owner's phone sets the clock to NOON and the audit key (configuration version 1). */
static void anchor_and_audit(struct rig *r, uint64_t tick) {
    struct visit v;
    visit_start(&v, r);
    visit_open_with_anchor(&v, tick, NOON, NULL, 0);
    visit_exchange(&v, tick);
    CHECK(v.answer.kind == DOORKEY_REPLY_KIND_TIME_SET && v.answer.value == NOON);
    uint8_t update[2048];
    size_t update_len = sizeof update;
    OK(doorkey_test_audit_key_update(OWNER_SEED, r->lock_id, 1, AUDIT_SEED, update,
                                     &update_len));
    visit_command(&v, command(DOORKEY_COMMAND_KIND_CONFIG, update, update_len));
    visit_exchange(&v, tick);
    CHECK(v.answer.kind == DOORKEY_REPLY_KIND_CONFIG_APPLIED && v.answer.value == 1);
    visit_end(&v);
}

static size_t mint_grant(struct rig *r, uint8_t *chain, size_t capacity, const char *order) {
    uint8_t courier[32];
    OK(doorkey_test_public_key(COURIER_SEED, courier));
    size_t len = capacity;
    OK(doorkey_test_delivery_grant(OWNER_SEED, COMPANY_SEED, courier, r->lock_id,
                                   (const uint8_t *)order, strlen(order), NOON + 60, 600,
                                   random_fill, &r->phone_rng, chain, &len));
    return len;
}

/* Fetches the receipts after `after` into the owner's log; returns the bundle's findings. */
static size_t fetch_receipts(struct visit *v, uint64_t tick, doorkey_test_log *log) {
    doorkey_command cmd = command(DOORKEY_COMMAND_KIND_RECEIPTS, NULL, 0);
    visit_command(v, cmd);
    visit_exchange(v, tick);
    CHECK(v->answer.kind == DOORKEY_REPLY_KIND_RECEIPTS);
    CHECK(v->answer.data_offset + v->answer.data_len <= v->reply_len);
    size_t findings = 99;
    OK(doorkey_test_log_ingest(log, v->reply + v->answer.data_offset, v->answer.data_len,
                               &findings));
    return findings;
}

/* ------------------------------------------------------------------ tests */

enum { EV_INSTALLED = 0, EV_BOOT = 1, EV_UNLOCKED = 2, EV_RELOCKED = 3, EV_DENIED = 4,
       EV_CONFIG = 5, EV_TIME = 6, EV_OPENED = 7, EV_CLOSED = 8 };

static void test_versions(void) {
    CHECK(doorkey_abi_version() == DOORKEY_ABI_VERSION);
    CHECK(strcmp(doorkey_result_name(DOORKEY_RESULT_OK), "DOORKEY_RESULT_OK") == 0);
    CHECK(strcmp(doorkey_result_name(DOORKEY_RESULT_USED_UP), "DOORKEY_RESULT_USED_UP") == 0);
    CHECK(strcmp(doorkey_result_name(DOORKEY_RESULT_NULL_ARGUMENT),
                 "DOORKEY_RESULT_NULL_ARGUMENT") == 0);
    CHECK(strcmp(doorkey_result_name(9999), "DOORKEY_RESULT_UNKNOWN") == 0);
    CHECK(doorkey_lock_size() > 0 && doorkey_lock_align() > 0);
    CHECK((doorkey_lock_align() & (doorkey_lock_align() - 1)) == 0);
}

/* Install, anchor, a delegated one-off unlock, relock, receipts, the replay refused, the
 * second use refused, door events, reboot. */
static void test_delivery(FILE *transcript) {
    struct rig r;
    rig_setup(&r, transcript);
    rig_install(&r);
    doorkey_state status;
    OK(doorkey_lock_state(r.lock, &status));
    CHECK(status.owners == 1 && status.receipt_seq == 1 && !status.audit_key_set);
    CHECK(memcmp(status.public_key, r.lock_key, 32) == 0);
    CHECK(memcmp(status.id, r.lock_id, 16) == 0);
    uint64_t now = 1;
    EXPECT(doorkey_lock_trusted_now(r.lock, 100, &now), DOORKEY_RESULT_CLOCK_UNTRUSTED);
    CHECK(now == 0);

    anchor_and_audit(&r, 100);
    OK(doorkey_lock_trusted_now(r.lock, 130, &now));
    CHECK(now == NOON + 30);

    /* The company mints the courier's one-use grant; the courier opens the door. */
    uint8_t chain[2048];
    size_t chain_len = mint_grant(&r, chain, sizeof chain, "order-2026-0601-0042");
    struct visit v;
    visit_start(&v, &r);
    visit_open(&v, 160, chain, chain_len, command(DOORKEY_COMMAND_KIND_UNLOCK, NULL, 0));
    uint8_t captured[DOORKEY_MAX_MESSAGE_LEN];
    size_t captured_len = v.message_len;
    memcpy(captured, v.message, captured_len);
    visit_exchange(&v, 160);
    CHECK(v.outcome.action == DOORKEY_ACTION_UNLOCK);
    CHECK(v.outcome.denied == DOORKEY_RESULT_OK && v.outcome.unrecorded == DOORKEY_RESULT_OK);
    CHECK(v.answer.kind == DOORKEY_REPLY_KIND_UNLOCKED);
    CHECK(r.presence.calls == 1);
    uint8_t courier[32];
    OK(doorkey_test_public_key(COURIER_SEED, courier));
    CHECK(r.presence.last.holder_algorithm == 0);
    CHECK(memcmp(r.presence.last.holder, courier, 32) == 0);
    CHECK(r.presence.last.has_expiry && r.presence.last.expires <= NOON + 60 + 600);
    CHECK(r.presence.last.has_purpose && (r.presence.last.rights & 1));

    /* The captured open, replayed by an eavesdropper: no session, no reply. */
    uint8_t reply[DOORKEY_MAX_MESSAGE_LEN];
    size_t reply_len = sizeof reply;
    doorkey_outcome outcome;
    EXPECT(lock_handle(&r, 161, captured, captured_len, reply, &reply_len, &outcome),
           DOORKEY_RESULT_REPLAY);
    CHECK(outcome.action == DOORKEY_ACTION_NONE && reply_len == 0);

    /* The relock travels in the same session. */
    visit_command(&v, command(DOORKEY_COMMAND_KIND_LOCK, NULL, 0));
    visit_exchange(&v, 205);
    CHECK(v.outcome.action == DOORKEY_ACTION_LOCK && v.answer.kind == DOORKEY_REPLY_KIND_LOCKED);

    /* The receipts reach the owner's server, which verifies them and acknowledges. */
    doorkey_test_log *log = NULL;
    OK(doorkey_test_log_new(r.lock_key, AUDIT_SEED, &log));
    CHECK(fetch_receipts(&v, 206, log) == 0);
    uint32_t events[16];
    size_t count = 16;
    OK(doorkey_test_log_events(log, events, &count));
    uint32_t expected[] = {EV_INSTALLED, EV_TIME, EV_CONFIG, EV_UNLOCKED, EV_RELOCKED};
    CHECK(count == 5 && memcmp(events, expected, sizeof expected) == 0);
    uint8_t ack[2048];
    size_t ack_len = sizeof ack;
    OK(doorkey_test_log_ack(log, ack, &ack_len));
    visit_command(&v, command(DOORKEY_COMMAND_KIND_ACK, ack, ack_len));
    visit_exchange(&v, 207);
    CHECK(v.answer.kind == DOORKEY_REPLY_KIND_ACKED && v.answer.value == 5);
    OK(doorkey_lock_state(r.lock, &status));
    CHECK(status.backlog == 0 && status.receipt_seq == 5 && status.audit_key_set);
    visit_end(&v);

    /* The same grant again, in a new session: used up. The firmware's log hears why. */
    visit_start(&v, &r);
    visit_open(&v, 230, chain, chain_len, command(DOORKEY_COMMAND_KIND_UNLOCK, NULL, 0));
    visit_exchange(&v, 230);
    CHECK(v.outcome.action == DOORKEY_ACTION_NONE);
    CHECK(v.outcome.denied == DOORKEY_RESULT_USED_UP);
    CHECK(v.answer.kind == DOORKEY_REPLY_KIND_DENIED && v.answer.reason == DOORKEY_REASON_USED_UP);
    CHECK(r.log.lines == 1 && r.log.last == DOORKEY_RESULT_USED_UP);
    visit_end(&v);

    /* Door sensors. */
    OK(lock_door(&r, 240, DOORKEY_DOOR_EVENT_OPENED));
    OK(lock_door(&r, 250, DOORKEY_DOOR_EVENT_CLOSED));
    EXPECT(lock_door(&r, 251, 7), DOORKEY_RESULT_INVALID_ARGUMENT);

    /* Reboot: the chain continues, the clock is untrusted again, the grant stays used. */
    OK(rig_power_on(&r));
    OK(doorkey_lock_state(r.lock, &status));
    CHECK(status.receipt_seq == 9 && status.high_water >= NOON && !status.recovery);
    EXPECT(doorkey_lock_trusted_now(r.lock, 5, &now), DOORKEY_RESULT_CLOCK_UNTRUSTED);
    visit_start(&v, &r);
    visit_open_with_anchor(&v, 10, NOON + 300, chain, chain_len);
    visit_exchange(&v, 10);
    CHECK(v.answer.kind == DOORKEY_REPLY_KIND_TIME_SET);
    visit_command(&v, command(DOORKEY_COMMAND_KIND_UNLOCK, NULL, 0));
    visit_exchange(&v, 11);
    CHECK(v.outcome.denied == DOORKEY_RESULT_USED_UP && v.outcome.action == DOORKEY_ACTION_NONE);
    CHECK(fetch_receipts(&v, 12, log) == 0);
    count = 16;
    OK(doorkey_test_log_events(log, events, &count));
    uint32_t after[] = {EV_INSTALLED, EV_TIME, EV_CONFIG, EV_UNLOCKED, EV_RELOCKED, EV_DENIED,
                        EV_OPENED, EV_CLOSED, EV_BOOT, EV_TIME, EV_DENIED};
    CHECK(count == 11 && memcmp(events, after, sizeof after) == 0);
    visit_end(&v);
    doorkey_test_log_free(log);
    rig_teardown(&r);
}

/* One attempt to open with `chain` after a reboot (anchor and unlock in one session); returns
 * whether the lock unlocked. */
static int reboot_and_unlock(struct rig *r, const uint8_t *chain, size_t chain_len) {
    OK(rig_power_on(r)); /* never a corrupt store, whatever the cut left */
    struct visit v;
    visit_start(&v, r);
    visit_open_with_anchor(&v, 10, NOON + 120, chain, chain_len);
    visit_exchange(&v, 10);
    CHECK(v.answer.kind == DOORKEY_REPLY_KIND_TIME_SET);
    visit_command(&v, command(DOORKEY_COMMAND_KIND_UNLOCK, NULL, 0));
    visit_exchange(&v, 11);
    int unlocked = v.outcome.action == DOORKEY_ACTION_UNLOCK;
    CHECK(unlocked ? v.answer.kind == DOORKEY_REPLY_KIND_UNLOCKED
                   : v.outcome.denied == DOORKEY_RESULT_USED_UP);
    visit_end(&v);
    return unlocked;
}

/* A power cut at every erase and write of the unlock's commit, and of the relock's: after the
 * reboot the store is never corrupt, a one-use grant never opens twice, and the receipt chain
 * the owner's server verifies has no gap or fork. */
static void test_power_loss(void) {
    int cuts = 0;
    for (long budget = 0;; budget++) {
        struct rig r;
        rig_setup(&r, NULL);
        rig_install(&r);
        anchor_and_audit(&r, 100);
        uint8_t chain[2048];
        size_t chain_len = mint_grant(&r, chain, sizeof chain, "order-power-loss");

        struct visit v;
        visit_start(&v, &r);
        visit_open(&v, 160, chain, chain_len, command(DOORKEY_COMMAND_KIND_UNLOCK, NULL, 0));
        r.flash.budget = budget;
        size_t reply_len = sizeof v.reply;
        doorkey_result result = doorkey_lock_handle(r.lock, 160, v.message, v.message_len,
                                                    v.reply, &reply_len, &v.outcome);
        int unlocked = result == DOORKEY_RESULT_OK && v.outcome.action == DOORKEY_ACTION_UNLOCK;
        int relocked = 0;
        if (unlocked && !r.flash.cut) {
            /* The unlock landed: cut the relock's commit instead. The bolt still closes. */
            OK(doorkey_phone_reply(v.phone, v.reply, reply_len, &v.answer));
            visit_command(&v, command(DOORKEY_COMMAND_KIND_LOCK, NULL, 0));
            reply_len = sizeof v.reply;
            OK(doorkey_lock_handle(r.lock, 170, v.message, v.message_len, v.reply, &reply_len,
                                   &v.outcome));
            CHECK(v.outcome.action == DOORKEY_ACTION_LOCK);
            relocked = 1;
        }
        visit_end(&v);
        int cut = r.flash.cut;
        if (!unlocked) {
            CHECK(cut && v.outcome.action == DOORKEY_ACTION_NONE);
        }
        if (cut && relocked) {
            CHECK(v.outcome.unrecorded == DOORKEY_RESULT_STORAGE);
        }
        r.flash.cut = 0;
        r.flash.budget = -1;
        int again = reboot_and_unlock(&r, chain, chain_len);
        CHECK(!(unlocked && again)); /* one use, across the power cut */

        doorkey_test_log *log = NULL;
        OK(doorkey_test_log_new(r.lock_key, AUDIT_SEED, &log));
        visit_start(&v, &r);
        visit_open(&v, 20, chain, chain_len, command(DOORKEY_COMMAND_KIND_HELLO, NULL, 0));
        visit_exchange(&v, 20);
        CHECK(fetch_receipts(&v, 21, log) == 0);
        visit_end(&v);
        doorkey_test_log_free(log);
        rig_teardown(&r);
        if (!cut) {
            break; /* the budget outlasted both commits: every cut point was tried */
        }
        cuts++;
    }
    CHECK(cuts >= 4);
    printf("power loss: %d cut points\n", cuts);
}

/* Every argument check and wrong-state refusal. */
static void test_errors(void) {
    struct rig r;
    rig_setup(&r, NULL);
    doorkey_lock *lock = (doorkey_lock *)0x1;
    size_t size = doorkey_lock_size();

    /* init: NULL, small or misaligned memory, missing callbacks, small regions */
    EXPECT(doorkey_lock_init(NULL, size, LOCK_SEED, &r.platform, &lock),
           DOORKEY_RESULT_NULL_ARGUMENT);
    CHECK(lock == NULL);
    EXPECT(doorkey_lock_init(r.memory, size, NULL, &r.platform, &lock),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_lock_init(r.memory, size, LOCK_SEED, NULL, &lock),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_lock_init(r.memory, size, LOCK_SEED, &r.platform, NULL),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_lock_init(r.memory, size - 1, LOCK_SEED, &r.platform, &lock),
           DOORKEY_RESULT_INVALID_ARGUMENT);
    if (doorkey_lock_align() > 1) {
        void *big = aligned_alloc(doorkey_lock_align(), size + doorkey_lock_align());
        EXPECT(doorkey_lock_init((uint8_t *)big + 1, size, LOCK_SEED, &r.platform, &lock),
               DOORKEY_RESULT_INVALID_ARGUMENT);
        free(big);
    }
    doorkey_platform bad = r.platform;
    bad.flash_write = NULL;
    EXPECT(doorkey_lock_init(r.memory, size, LOCK_SEED, &bad, &lock),
           DOORKEY_RESULT_INVALID_ARGUMENT);
    bad = r.platform;
    bad.random = NULL;
    EXPECT(doorkey_lock_init(r.memory, size, LOCK_SEED, &bad, &lock),
           DOORKEY_RESULT_INVALID_ARGUMENT);
    bad = r.platform;
    bad.flash_region_size = DOORKEY_FLASH_REGION_MIN - 1;
    EXPECT(doorkey_lock_init(r.memory, size, LOCK_SEED, &bad, &lock),
           DOORKEY_RESULT_INVALID_ARGUMENT);
    CHECK(lock == NULL);

    /* A lock that has not started refuses everything. */
    bad = r.platform;
    bad.confirm_presence = NULL;
    bad.log = NULL;
    OK(doorkey_lock_init(r.memory, size, LOCK_SEED, &bad, &r.lock));
    uint8_t buf[DOORKEY_MAX_MESSAGE_LEN], msg[64] = {1, 2, 3};
    size_t len = sizeof buf;
    EXPECT(doorkey_lock_challenge(r.lock, 0, buf, &len), DOORKEY_RESULT_STORAGE);
    CHECK(len == 0 && all_zero(buf, sizeof buf));
    EXPECT(doorkey_lock_prepare_challenge(r.lock, 0), DOORKEY_RESULT_STORAGE);
    doorkey_outcome outcome;
    len = sizeof buf;
    EXPECT(doorkey_lock_handle(r.lock, 0, msg, sizeof msg, buf, &len, &outcome),
           DOORKEY_RESULT_STORAGE);
    EXPECT(doorkey_lock_door_event(r.lock, 0, DOORKEY_DOOR_EVENT_OPENED), DOORKEY_RESULT_STORAGE);

    /* NULL on every lock call. */
    uint64_t now;
    doorkey_state status;
    EXPECT(doorkey_lock_boot(NULL), DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_lock_provision(NULL, r.owner), DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_lock_provision(r.lock, NULL), DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_lock_challenge(NULL, 0, buf, &len), DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_lock_challenge(r.lock, 0, NULL, &len), DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_lock_challenge(r.lock, 0, buf, NULL), DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_lock_prepare_challenge(NULL, 0), DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_lock_handle(NULL, 0, msg, 3, buf, &len, &outcome),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_lock_handle(r.lock, 0, NULL, 3, buf, &len, &outcome),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_lock_handle(r.lock, 0, msg, 3, NULL, &len, &outcome),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_lock_handle(r.lock, 0, msg, 3, buf, NULL, &outcome),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_lock_handle(r.lock, 0, msg, 3, buf, &len, NULL),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_lock_door_event(NULL, 0, 0), DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_lock_trusted_now(NULL, 0, &now), DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_lock_trusted_now(r.lock, 0, NULL), DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_lock_state(NULL, &status), DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_lock_state(r.lock, NULL), DOORKEY_RESULT_NULL_ARGUMENT);
    doorkey_lock_deinit(NULL);

    /* Provisioning: a weak owner key, then twice. */
    uint8_t weak[32] = {0};
    EXPECT(doorkey_lock_provision(r.lock, weak), DOORKEY_RESULT_WEAK_KEY);
    OK(doorkey_lock_provision(r.lock, r.owner));
    EXPECT(doorkey_lock_provision(r.lock, r.owner), DOORKEY_RESULT_ALREADY_PROVISIONED);
    len = sizeof buf;
    EXPECT(doorkey_lock_challenge(r.lock, 0, buf, &len), DOORKEY_RESULT_STORAGE);
    OK(doorkey_lock_boot(r.lock)); /* a refused provisioning stops the lock until it boots */

    /* Short buffers: refused up front, nothing left behind. */
    memset(buf, 0xAA, sizeof buf);
    len = DOORKEY_MAX_CHALLENGE_LEN - 1;
    EXPECT(doorkey_lock_challenge(r.lock, 0, buf, &len), DOORKEY_RESULT_BUFFER_TOO_SMALL);
    CHECK(len == 0 && all_zero(buf, DOORKEY_MAX_CHALLENGE_LEN - 1) &&
          buf[DOORKEY_MAX_CHALLENGE_LEN - 1] == 0xAA);
    uint8_t challenge[DOORKEY_MAX_CHALLENGE_LEN];
    size_t challenge_len = sizeof challenge;
    OK(doorkey_lock_challenge(r.lock, 0, challenge, &challenge_len));
    CHECK(challenge_len > 0 && challenge_len <= DOORKEY_MAX_CHALLENGE_LEN);

    /* A challenge prepared while idle goes out at the connection without new randomness. */
    OK(doorkey_lock_prepare_challenge(r.lock, 0));
    r.lock_rng.n_drawn = 0;
    challenge_len = sizeof challenge;
    OK(doorkey_lock_challenge(r.lock, 1, challenge, &challenge_len));
    CHECK(r.lock_rng.n_drawn == 0 && challenge_len > 0);
    challenge_len = sizeof challenge;
    OK(doorkey_lock_challenge(r.lock, 1, challenge, &challenge_len));
    CHECK(r.lock_rng.n_drawn > 0); /* prepared once, handed out once */
    len = DOORKEY_MAX_MESSAGE_LEN - 1;
    EXPECT(doorkey_lock_handle(r.lock, 0, msg, 3, buf, &len, &outcome),
           DOORKEY_RESULT_BUFFER_TOO_SMALL);
    CHECK(outcome.action == DOORKEY_ACTION_NONE);

    /* Messages: garbage, overlapping buffers, a command with no session. */
    len = sizeof buf;
    EXPECT(doorkey_lock_handle(r.lock, 0, msg, 0, buf, &len, &outcome), DOORKEY_RESULT_TRUNCATED);
    len = sizeof buf;
    EXPECT(doorkey_lock_handle(r.lock, 0, buf, 10, buf, &len, &outcome),
           DOORKEY_RESULT_INVALID_ARGUMENT);

    /* The phone: NULLs, bad commands, a short output, a challenge from another lock. */
    struct visit v;
    visit_start(&v, &r);
    doorkey_phone *phone = NULL;
    doorkey_command hello = command(DOORKEY_COMMAND_KIND_HELLO, NULL, 0);
    doorkey_command bogus = command(42, NULL, 0);
    doorkey_command no_data = command(DOORKEY_COMMAND_KIND_TIME, NULL, 5);
    uint8_t chain[8] = {0};
    len = sizeof buf;
    EXPECT(doorkey_phone_open_anonymous(v.memory, doorkey_phone_size(), challenge,
                                        challenge_len, r.lock_id, &bogus, random_fill,
                                        &r.phone_rng, buf, &len, &phone),
           DOORKEY_RESULT_INVALID_ARGUMENT);
    EXPECT(doorkey_phone_open_anonymous(v.memory, doorkey_phone_size(), challenge,
                                        challenge_len, r.lock_id, &no_data, random_fill,
                                        &r.phone_rng, buf, &len, &phone),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_phone_open_anonymous(v.memory, doorkey_phone_size(), challenge,
                                        challenge_len, r.lock_id, &hello, NULL, NULL, buf, &len,
                                        &phone),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_phone_open_anonymous(v.memory, doorkey_phone_size() - 1, challenge,
                                        challenge_len, r.lock_id, &hello, random_fill,
                                        &r.phone_rng, buf, &len, &phone),
           DOORKEY_RESULT_INVALID_ARGUMENT);
    EXPECT(doorkey_phone_open_anonymous(v.memory, doorkey_phone_size(), challenge,
                                        challenge_len, NULL, &hello, random_fill, &r.phone_rng,
                                        buf, &len, &phone),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_phone_open_anonymous(v.memory, doorkey_phone_size(), NULL, challenge_len,
                                        r.lock_id, &hello, random_fill, &r.phone_rng, buf, &len,
                                        &phone),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_phone_open_anonymous(v.memory, doorkey_phone_size(), challenge,
                                        challenge_len, r.lock_id, NULL, random_fill,
                                        &r.phone_rng, buf, &len, &phone),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_phone_open_anonymous(NULL, doorkey_phone_size(), challenge, challenge_len,
                                        r.lock_id, &hello, random_fill, &r.phone_rng, buf, &len,
                                        &phone),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_phone_open_anonymous((uint8_t *)v.memory + 1, doorkey_phone_size(), challenge,
                                        challenge_len, r.lock_id, &hello, random_fill,
                                        &r.phone_rng, buf, &len, &phone),
           DOORKEY_RESULT_INVALID_ARGUMENT);
    EXPECT(doorkey_phone_open_anonymous(v.memory, doorkey_phone_size(), challenge,
                                        challenge_len, r.lock_id, &hello, random_fill,
                                        &r.phone_rng, NULL, &len, &phone),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_phone_open_anonymous(v.memory, doorkey_phone_size(), challenge,
                                        challenge_len, r.lock_id, &hello, random_fill,
                                        &r.phone_rng, buf, NULL, &phone),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_phone_open_anonymous(v.memory, doorkey_phone_size(), challenge,
                                        challenge_len, r.lock_id, &hello, random_fill,
                                        &r.phone_rng, buf, &len, NULL),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_phone_open(v.memory, doorkey_phone_size(), challenge, challenge_len, chain,
                              sizeof chain, NULL, &hello, random_fill, &r.phone_rng, buf, &len,
                              &phone),
           DOORKEY_RESULT_NULL_ARGUMENT);
    uint8_t other_id[16] = {9};
    EXPECT(doorkey_phone_open_anonymous(v.memory, doorkey_phone_size(), challenge,
                                        challenge_len, other_id, &hello, random_fill,
                                        &r.phone_rng, buf, &len, &phone),
           DOORKEY_RESULT_WRONG_LOCK);
    len = 100;
    EXPECT(doorkey_phone_open_anonymous(v.memory, doorkey_phone_size(), challenge,
                                        challenge_len, r.lock_id, &hello, random_fill,
                                        &r.phone_rng, buf, &len, &phone),
           DOORKEY_RESULT_BUFFER_TOO_SMALL);
    CHECK(phone == NULL && len == 0);
    len = sizeof buf;
    EXPECT(doorkey_phone_open(v.memory, doorkey_phone_size(), challenge, challenge_len, chain,
                              sizeof chain, COURIER_SEED, &hello, random_fill, &r.phone_rng,
                              buf, &len, &phone),
           DOORKEY_RESULT_UNSUPPORTED_VERSION);
    EXPECT(doorkey_phone_open(v.memory, doorkey_phone_size(), challenge, challenge_len, NULL, 0,
                              COURIER_SEED, &hello, random_fill, &r.phone_rng, buf, &len,
                              &phone),
           DOORKEY_RESULT_NULL_ARGUMENT);
    v.message_len = sizeof v.message;
    OK(doorkey_phone_open_anonymous(v.memory, doorkey_phone_size(), challenge, challenge_len,
                                    r.lock_id, &hello, random_fill, &r.phone_rng, v.message,
                                    &v.message_len, &v.phone));
    EXPECT(doorkey_phone_command(NULL, &hello, buf, &len), DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_phone_command(v.phone, NULL, buf, &len), DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_phone_command(v.phone, &bogus, buf, &len), DOORKEY_RESULT_INVALID_ARGUMENT);
    len = DOORKEY_MAX_MESSAGE_LEN - 1;
    EXPECT(doorkey_phone_command(v.phone, &hello, buf, &len), DOORKEY_RESULT_BUFFER_TOO_SMALL);
    CHECK(len == 0);
    len = sizeof buf;
    EXPECT(doorkey_phone_command(v.phone, &hello, NULL, &len), DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_phone_command(v.phone, &hello, buf, NULL), DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_phone_retry(NULL, chain, sizeof chain, COURIER_SEED, &hello, buf, &len),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_phone_retry(v.phone, NULL, 0, COURIER_SEED, &hello, buf, &len),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_phone_retry(v.phone, chain, sizeof chain, NULL, &hello, buf, &len),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_phone_retry(v.phone, chain, sizeof chain, COURIER_SEED, NULL, buf, &len),
           DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_phone_retry(v.phone, chain, sizeof chain, COURIER_SEED, &hello, NULL, &len),
           DOORKEY_RESULT_NULL_ARGUMENT);
    len = DOORKEY_MAX_MESSAGE_LEN - 1;
    EXPECT(doorkey_phone_retry(v.phone, chain, sizeof chain, COURIER_SEED, &hello, buf, &len),
           DOORKEY_RESULT_BUFFER_TOO_SMALL);
    CHECK(len == 0);
    len = sizeof buf;
    doorkey_phone_deinit(NULL);
    doorkey_reply answer;
    EXPECT(doorkey_phone_reply(NULL, buf, 10, &answer), DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_phone_reply(v.phone, NULL, 10, &answer), DOORKEY_RESULT_NULL_ARGUMENT);
    EXPECT(doorkey_phone_reply(v.phone, buf, 10, NULL), DOORKEY_RESULT_NULL_ARGUMENT);

    /* The lock answers the anonymous hello; a command before any session is refused. */
    len = sizeof buf;
    OK(doorkey_lock_handle(r.lock, 1, v.message, v.message_len, buf, &len, &outcome));
    OK(doorkey_phone_reply(v.phone, buf, len, &answer));
    CHECK(answer.kind == DOORKEY_REPLY_KIND_READY);
    v.message_len = sizeof v.message;
    OK(doorkey_phone_command(v.phone, &hello, v.message, &v.message_len));
    OK(rig_power_on(&r));
    len = sizeof buf;
    EXPECT(doorkey_lock_handle(r.lock, 2, v.message, v.message_len, buf, &len, &outcome),
           DOORKEY_RESULT_UNEXPECTED_MESSAGE);
    /* A reply that is no reply. */
    memset(buf, 0x55, 64);
    EXPECT(doorkey_phone_reply(v.phone, buf, 64, &answer), DOORKEY_RESULT_UNSUPPORTED_VERSION);
    visit_end(&v);

    /* The presence check says no: nothing opens, the firmware's log hears why. */
    r.platform.confirm_presence = confirm_presence;
    r.platform.log = log_line;
    r.presence.answer = false;
    OK(rig_power_on(&r));
    {
        struct visit w;
        uint8_t grant[2048];
        visit_start(&w, &r);
        visit_open_with_anchor(&w, 10, NOON + 60, NULL, 0);
        visit_exchange(&w, 10);
        size_t grant_len = mint_grant(&r, grant, sizeof grant, "order-presence");
        visit_end(&w);
        visit_start(&w, &r);
        visit_open(&w, 20, grant, grant_len, command(DOORKEY_COMMAND_KIND_UNLOCK, NULL, 0));
        visit_exchange(&w, 20);
        CHECK(w.outcome.action == DOORKEY_ACTION_NONE);
        CHECK(w.outcome.denied == DOORKEY_RESULT_NOT_PERMITTED);
        CHECK(r.presence.calls == 1 && r.log.last == DOORKEY_RESULT_NOT_PERMITTED);
        visit_end(&w);
    }

    /* Another identity's flash, and a corrupt one. */
    doorkey_lock_deinit(r.lock);
    uint8_t stranger[32] = {9, 9, 9};
    OK(doorkey_lock_init(r.memory, size, stranger, &r.platform, &r.lock));
    EXPECT(doorkey_lock_boot(r.lock), DOORKEY_RESULT_MISUSE);
    memset(r.flash.region, 0, sizeof r.flash.region);
    EXPECT(doorkey_lock_boot(r.lock), DOORKEY_RESULT_STORAGE);
    EXPECT(doorkey_lock_provision(r.lock, r.owner), DOORKEY_RESULT_STORAGE);

    /* install: init and provision in one, nothing left on failure. */
    doorkey_lock_deinit(r.lock);
    r.lock = NULL;
    EXPECT(doorkey_lock_install(r.memory, size, LOCK_SEED, &r.platform, r.owner, &lock),
           DOORKEY_RESULT_STORAGE);
    CHECK(lock == NULL);
    flash_blank(&r.flash);
    OK(doorkey_lock_install(r.memory, size, LOCK_SEED, &r.platform, r.owner, &r.lock));
    OK(doorkey_lock_state(r.lock, &status));
    CHECK(status.receipt_seq == 1);
    rig_teardown(&r);
}

int main(void) {
    memset(OWNER_SEED, 1, 32);
    memset(COMPANY_SEED, 3, 32);
    memset(COURIER_SEED, 4, 32);
    memset(AUDIT_SEED, 5, 32);
    const char *path = getenv("DOORKEY_TRANSCRIPT");
    FILE *transcript = path ? fopen(path, "w") : NULL;
    CHECK(path == NULL || transcript != NULL);
    test_versions();
    test_delivery(transcript);
    if (transcript) {
        fclose(transcript);
    }
    test_power_loss();
    test_errors();
    printf("doorkey C suite: %d checks passed\n", checks);
    return 0;
}
