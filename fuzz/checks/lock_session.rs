//! The `lock_session` target body: a genuine lock (clock set by a genuine time anchor) driven
//! by a sequence of operations mixing a genuine courier phone with raw, replayed and
//! bit-flipped messages and reboots. Needs the `arbitrary` crate, so it is fuzz-only; the
//! crate root that includes it must also include `checks` (`fuzz/checks/mod.rs`).
#![allow(dead_code)]

use arbitrary::Arbitrary;
use doorkey::config::{Change, ConfigUpdate};
use doorkey::credential::CredentialId;
use doorkey::crypto::Signer;
use doorkey::lock::{Action, Lock, LockState, MAX_STATE_BYTES, Outcome, Storage};
use doorkey::phone::{PhoneSession, inspect_challenge};
use doorkey::session::{Command, Reply};
use doorkey::time::{Seconds, Tick, UnixTime};

use crate::checks::{
    COURIER_LIFETIME, COURIER_USES, Mem, OUT_LEN, T0, anchor_bytes, check_bundle,
    courier_credential, courier_link_id, flip_bit, install, lock_id, lock_key, owner, rng,
    set_time, simple_command,
};
use doorkey::receipt::Event;

/// One step of a session-level fuzz run.
#[derive(Arbitrary, Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Time passes by `tick_delta` seconds, then the lock issues a challenge, which the next
    /// `GenuineOpen` answers (possibly too late, or after it was evicted).
    Challenge { tick_delta: u8 },
    /// The courier's phone opens a session (answering the last unanswered challenge, or a
    /// fresh one) asking for `cmd`.
    GenuineOpen { cmd: u8 },
    /// The courier's phone sends `cmd` in its current session.
    GenuineCommand { cmd: u8 },
    /// Raw bytes straight to `Lock::handle`.
    Raw(Vec<u8>),
    /// A recorded phone message sent again.
    Replay(u8),
    /// A recorded phone message sent again with one bit flipped.
    FlipBit { msg: u8, bit: u16 },
    /// Power cycle: `Lock::boot` over the same storage; ticks restart at 0, UTC goes on.
    Reboot,
    /// Time passes.
    AdvanceTime(u16),
    /// A genuine anonymous time-anchor visit at the current UTC.
    Anchor,
    /// The lock prepares its next challenge while idle (spec 22.1); the next `Challenge` or
    /// `GenuineOpen` gets it if it still holds.
    Prepare,
}

/// Set `LOCK_SESSION_TRACE=1` to print each operation and what the lock made of it (for
/// reading a crash reproducer).
fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("LOCK_SESSION_TRACE").is_some())
}

/// Most operations run per input (each genuine exchange costs several signatures).
pub const MAX_OPS: usize = 48;
/// Most phone messages remembered for replay.
pub const MAX_RECORDED: usize = 64;

/// Commands a genuine open or command may carry: `simple_command` (including a receipt
/// request), a time anchor for this session's nonce, or a challenge-lifetime configuration
/// update.
enum Wanted {
    Simple(Command<'static>),
    Time,
    Config(u16),
}

fn wanted(cmd: u8) -> Wanted {
    match cmd % 7 {
        5 => Wanted::Time,
        6 => Wanted::Config(u16::from(cmd / 7) % 62),
        _ => Wanted::Simple(simple_command(cmd / 7 * 5 + cmd % 7)),
    }
}

struct Run {
    lock: Option<Lock<Mem>>,
    tick: Tick,
    utc: UnixTime,
    lock_rng: chacha20::ChaCha20Rng,
    phone_rng: chacha20::ChaCha20Rng,
    phone: Option<PhoneSession>,
    /// The last unanswered challenge and the real time it was issued at.
    unanswered: Option<(Vec<u8>, UnixTime)>,
    /// The real time the open session's challenge was issued at: what a genuine time anchor
    /// for its nonce states (PROTOCOL.md 14.2 A6).
    session_utc: UnixTime,
    /// The time the last anchor sent stated.
    sent_time: UnixTime,
    recorded: Vec<Vec<u8>>,
    unlocks: u32,
    config_version: u64,
    courier_id: CredentialId,
    /// Highest use count seen per credential id: persisted counts never go down.
    seen_uses: Vec<(CredentialId, u16)>,
    /// Receipt sequence number last seen: never goes back.
    receipt_seq: u64,
    /// Clock high-water mark last seen: never goes back (PROTOCOL.md 14.3).
    high_water: UnixTime,
}

impl Run {
    fn lock(&mut self) -> &mut Lock<Mem> {
        self.lock.as_mut().expect("a lock is running")
    }

    /// Time passes by `d` seconds, on the lock's timer and in the real world alike.
    fn advance(&mut self, d: u16) {
        let d = Seconds::from_secs(u64::from(d));
        self.tick = self.tick + d;
        self.utc = self.utc + d;
    }

    fn record(&mut self, msg: &[u8]) {
        if self.recorded.len() < MAX_RECORDED {
            self.recorded.push(msg.to_vec());
        }
    }

    /// A genuine anchor for the challenge with `nonce`, issued at real time `issued`.
    fn anchor_for(&mut self, nonce: [u8; 16], issued: UnixTime) -> Vec<u8> {
        self.sent_time = issued;
        anchor_bytes(nonce, issued)
    }

    fn config_bytes(&mut self, secs: u16) -> Vec<u8> {
        self.config_version += 1;
        let owner = owner();
        let mut out = [0u8; 256];
        let n = ConfigUpdate {
            lock: lock_id(),
            version: self.config_version,
            signer: owner.public_key(),
            change: Change::SetChallengeLifetime(secs),
        }
        .sign(owner, &mut out)
        .expect("config signs");
        out[..n].to_vec()
    }

    /// Sends a message that must not actuate anything (replayed, flipped).
    fn send_inert(&mut self, mut msg: Vec<u8>, what: &str) {
        let tick = self.tick;
        let mut out = [0u8; OUT_LEN];
        let outcome = self.lock().handle(tick, &mut msg, &mut out);
        if trace() {
            eprintln!("    {what}: {outcome:?}");
        }
        if let Ok(o) = outcome {
            assert_eq!(o.action, Action::None, "{what} message actuated: {o:?}");
        }
    }

    /// Accounts for an outcome of any message.
    fn account(&mut self, outcome: &Result<Outcome, doorkey::Error>) {
        if trace() {
            eprintln!(
                "    tick {} utc T0{:+}: {outcome:?}",
                self.tick.as_secs(),
                self.utc.as_secs() as i64 - T0.as_secs() as i64
            );
        }
        let Ok(o) = outcome else { return };
        if o.action == Action::Unlock {
            self.unlocks += 1;
            assert!(
                self.unlocks <= u32::from(COURIER_USES),
                "unlock #{} under a {COURIER_USES}-use credential",
                self.unlocks
            );
            assert!(
                (T0..T0 + COURIER_LIFETIME).contains(&self.utc),
                "unlocked at {} outside the credential's validity",
                self.utc
            );
        }
    }

    fn genuine_open(&mut self, cmd: u8) {
        let tick = self.tick;
        let (challenge, issued_utc) = match self.unanswered.take() {
            Some(c) => c,
            None => {
                let mut ch = [0u8; 256];
                let lock = self.lock.as_mut().expect("a lock is running");
                let n = lock
                    .challenge(tick, &mut self.lock_rng, &mut ch)
                    .expect("challenge");
                (ch[..n].to_vec(), self.utc)
            }
        };
        let nonce = inspect_challenge(&challenge, &lock_id())
            .expect("the lock's challenge verifies")
            .nonce;
        let credential = courier_credential();
        let payload = match wanted(cmd) {
            Wanted::Simple(_) => Vec::new(),
            Wanted::Time => self.anchor_for(nonce, issued_utc),
            Wanted::Config(secs) => self.config_bytes(secs),
        };
        let command = match wanted(cmd) {
            Wanted::Simple(c) => c,
            Wanted::Time => Command::Time(&payload),
            Wanted::Config(_) => Command::Config(&payload),
        };
        let mut open = [0u8; OUT_LEN];
        let (phone, m) = PhoneSession::open(
            &challenge,
            &credential,
            command,
            &mut self.phone_rng,
            &mut open,
        )
        .expect("the phone answers its lock's challenge");
        self.phone = Some(phone);
        self.session_utc = issued_utc;
        self.exchange(open[..m].to_vec(), command);
    }

    fn genuine_command(&mut self, cmd: u8) {
        let Some(phone) = self.phone.as_mut() else {
            return;
        };
        let nonce = phone.info().nonce;
        let payload = match wanted(cmd) {
            Wanted::Simple(_) => Vec::new(),
            Wanted::Time => self.anchor_for(nonce, self.session_utc),
            Wanted::Config(secs) => self.config_bytes(secs),
        };
        let command = match wanted(cmd) {
            Wanted::Simple(c) => c,
            Wanted::Time => Command::Time(&payload),
            Wanted::Config(_) => Command::Config(&payload),
        };
        let mut msg = [0u8; 512];
        let phone = self.phone.as_mut().expect("checked above");
        let Ok(n) = phone.command(command, &mut msg) else {
            return;
        };
        self.exchange(msg[..n].to_vec(), command);
    }

    /// Delivers a genuine phone message; a genuine reply must be accepted by the phone and
    /// agree with the action.
    fn exchange(&mut self, msg: Vec<u8>, command: Command<'_>) {
        self.record(&msg);
        let tick = self.tick;
        let mut input = msg;
        let mut out = [0u8; OUT_LEN];
        let outcome = self.lock().handle(tick, &mut input, &mut out);
        self.account(&outcome);
        let Ok(o) = outcome else { return };
        let phone = self.phone.as_mut().expect("a genuine message has a phone");
        let reply = phone
            .read_reply(&mut out[..o.reply])
            .expect("the phone accepts the lock's genuine reply");
        if reply == Reply::NeedChain {
            // The short form named links the lock dropped since its challenge (spec 22.2):
            // the phone resends the command with the whole chain, in the same session.
            assert_eq!(o.action, Action::None, "NeedChain actuated: {o:?}");
            if trace() {
                eprintln!("    phone read NeedChain: retry with the whole chain");
            }
            let mut msg = [0u8; OUT_LEN];
            let n = phone
                .retry(&courier_credential(), command, &mut msg)
                .expect("retry");
            return self.exchange(msg[..n].to_vec(), command);
        }
        if trace() {
            match reply {
                Reply::Receipts(b) => eprintln!("    phone read Receipts({} bytes)", b.len()),
                r => eprintln!("    phone read {r:?}"),
            }
        }
        let expected_action = match reply {
            Reply::Unlocked => Action::Unlock,
            Reply::Locked => Action::Lock,
            _ => Action::None,
        };
        assert_eq!(
            o.action, expected_action,
            "{command:?} -> {reply:?} vs {o:?}"
        );
        match reply {
            Reply::TimeSet(t) => assert_eq!(t, self.sent_time, "the lock set a time nobody sent"),
            Reply::Receipts(bundle) => check_bundle(bundle),
            _ => {}
        }
    }

    fn anchor(&mut self) {
        let tick = self.tick;
        let utc = self.utc;
        let lock = self.lock.as_mut().expect("a lock is running");
        let visit = set_time(lock, tick, utc, &mut self.lock_rng);
        self.record(&visit.open);
        self.account(&visit.outcome);
        if let Some(reply) = visit.reply {
            assert_eq!(
                reply,
                Reply::TimeSet(utc),
                "a genuine current anchor was refused"
            );
        }
    }

    fn reboot(&mut self) {
        let before = self.lock().state().clone();
        let storage = self.lock.take().expect("a lock is running").into_storage();
        let lock = Lock::boot(lock_key(), storage).expect("boot over committed state");
        // Booting adds exactly one receipt and changes nothing else.
        let after = lock.state();
        assert_eq!(
            after.enrolment, before.enrolment,
            "enrolment changed across a reboot"
        );
        assert_eq!(
            after.revoked_ids, before.revoked_ids,
            "revocations changed on reboot"
        );
        assert_eq!(
            after.revoked_keys, before.revoked_keys,
            "revocations changed on reboot"
        );
        assert_eq!(
            after.uses, before.uses,
            "use counts changed across a reboot"
        );
        assert_eq!(
            after.high_water, before.high_water,
            "clock mark changed on reboot"
        );
        assert_eq!(after.receipts.seq, before.receipts.seq + 1, "boot receipt");
        let last = after.backlog.as_slice().last().expect("the boot receipt");
        assert_eq!((last.seq, last.event), (after.receipts.seq, Event::Boot));
        self.lock = Some(lock);
        self.tick = Tick::BOOT;
        // The phone's session died with the lock's RAM; it keeps its object (whose further
        // commands the lock must refuse).
    }

    /// After every operation: memory never runs ahead of storage, use counts only grow and
    /// equal the unlocks performed.
    fn check_state(&mut self) {
        let lock = self.lock.as_ref().expect("a lock is running");
        let mut storage = lock.storage().clone();
        let mut buf = [0u8; MAX_STATE_BYTES];
        let n = storage
            .load(&mut buf)
            .expect("storage loads")
            .expect("something is committed");
        let persisted = LockState::decode(&buf[..n]).expect("committed state decodes");
        assert_eq!(&persisted, lock.state(), "memory differs from storage");
        // Once the lock has committed a time at which the courier's link no longer verifies,
        // its count may be forgotten (16.2, reclaiming).
        let forgettable = persisted.high_water >= T0 + COURIER_LIFETIME;
        for (id, used) in &self.seen_uses {
            let now = persisted
                .uses
                .as_slice()
                .iter()
                .find(|e| e.id == *id)
                .map_or(0, |e| e.used);
            assert!(
                now >= *used || (forgettable && now == 0),
                "use count of {id:?} went from {used} to {now}"
            );
        }
        for e in persisted.uses.as_slice() {
            match self.seen_uses.iter_mut().find(|(id, _)| *id == e.id) {
                Some((_, used)) => *used = e.used,
                None => self.seen_uses.push((e.id, e.used)),
            }
            assert_eq!(e.id, self.courier_id, "a use entry for an unknown link");
        }
        assert!(
            persisted.receipts.seq >= self.receipt_seq,
            "the receipt chain went back"
        );
        self.receipt_seq = persisted.receipts.seq;
        // 14.3: the mark is never lowered, the trusted clock never reads below it, and with
        // only genuine anchors (signed at the real time) nothing runs ahead of real time.
        assert!(
            persisted.high_water >= self.high_water,
            "high-water mark went from {} to {}",
            self.high_water,
            persisted.high_water
        );
        self.high_water = persisted.high_water;
        assert!(
            self.high_water <= self.utc,
            "high-water mark ahead of real time"
        );
        if let Some(now) = lock.trusted_now(self.tick) {
            assert!(
                now >= self.high_water,
                "trusted time below the high-water mark"
            );
            assert!(
                now <= self.utc,
                "trusted time {now} ahead of real time {}",
                self.utc
            );
        }
        let counted = persisted
            .uses
            .as_slice()
            .iter()
            .find(|e| e.id == self.courier_id)
            .map_or(0, |e| u32::from(e.used));
        assert!(
            counted == self.unlocks || (forgettable && counted == 0),
            "persisted uses {counted} differ from unlocks performed {}",
            self.unlocks
        );
    }
}

/// Runs `ops` against a genuine lock whose clock reads `T0` at tick 100 (anchored at tick 50).
pub fn lock_session(ops: &[Op]) {
    let mut lock_rng = rng(31);
    let mut lock = install();
    let anchored = T0 - Seconds::from_secs(50);
    let visit = set_time(&mut lock, Tick::from_secs(50), anchored, &mut lock_rng);
    assert_eq!(
        visit.reply,
        Some(Reply::TimeSet(anchored)),
        "anchor refused"
    );
    let mut run = Run {
        lock: Some(lock),
        tick: Tick::from_secs(100),
        utc: T0,
        lock_rng,
        phone_rng: rng(32),
        phone: None,
        unanswered: None,
        session_utc: T0,
        sent_time: anchored,
        recorded: vec![visit.open],
        unlocks: 0,
        config_version: 0,
        courier_id: courier_link_id(),
        seen_uses: Vec::new(),
        receipt_seq: 0,
        high_water: UnixTime::EPOCH,
    };
    for op in ops.iter().take(MAX_OPS) {
        if trace() {
            eprintln!("{op:?}");
        }
        match op {
            Op::Challenge { tick_delta } => {
                run.advance(u16::from(*tick_delta));
                let tick = run.tick;
                let mut ch = [0u8; 256];
                let lock = run.lock.as_mut().expect("a lock is running");
                let n = lock
                    .challenge(tick, &mut run.lock_rng, &mut ch)
                    .expect("challenge");
                run.unanswered = Some((ch[..n].to_vec(), run.utc));
            }
            Op::GenuineOpen { cmd } => run.genuine_open(*cmd),
            Op::GenuineCommand { cmd } => run.genuine_command(*cmd),
            Op::Raw(bytes) => {
                let tick = run.tick;
                let mut input = bytes.clone();
                let mut out = [0u8; OUT_LEN];
                let outcome = run.lock().handle(tick, &mut input, &mut out);
                run.account(&outcome);
            }
            Op::Replay(i) => {
                let msg = run.recorded[usize::from(*i) % run.recorded.len()].clone();
                run.send_inert(msg, "replayed");
            }
            Op::FlipBit { msg, bit } => {
                let msg = &run.recorded[usize::from(*msg) % run.recorded.len()];
                let flipped = flip_bit(msg, usize::from(*bit));
                run.send_inert(flipped, "bit-flipped");
            }
            Op::Reboot => run.reboot(),
            Op::AdvanceTime(d) => run.advance(*d),
            Op::Anchor => run.anchor(),
            Op::Prepare => {
                let tick = run.tick;
                let lock = run.lock.as_mut().expect("a lock is running");
                lock.prepare_challenge(tick, &mut run.lock_rng)
                    .expect("prepare");
            }
        }
        run.check_state();
    }
}

// ---------------------------------------------------------------------------------------------
// Seed encoding: the bytes `arbitrary` decodes into a given `Vec<Op>` (for the seed corpus).
// ---------------------------------------------------------------------------------------------

const VARIANTS: u64 = 10;

fn tag(variant: u64) -> [u8; 4] {
    // derive(Arbitrary) picks variant `(u32 * VARIANTS) >> 32`.
    let x = (variant << 32).div_ceil(VARIANTS);
    u32::try_from(x).expect("fits").to_le_bytes()
}

/// Encodes `ops` as the input `Vec<Op>::arbitrary_take_rest` decodes back to `ops`.
pub fn encode_ops(ops: &[Op]) -> Vec<u8> {
    let mut out = Vec::new();
    for op in ops {
        out.push(1); // keep going
        match op {
            Op::Challenge { tick_delta } => {
                out.extend(tag(0));
                out.push(*tick_delta);
            }
            Op::GenuineOpen { cmd } => {
                out.extend(tag(1));
                out.push(*cmd);
            }
            Op::GenuineCommand { cmd } => {
                out.extend(tag(2));
                out.push(*cmd);
            }
            Op::Raw(bytes) => {
                out.extend(tag(3));
                for b in bytes {
                    out.extend([1, *b]);
                }
                out.push(0);
            }
            Op::Replay(i) => {
                out.extend(tag(4));
                out.push(*i);
            }
            Op::FlipBit { msg, bit } => {
                out.extend(tag(5));
                out.push(*msg);
                out.extend(bit.to_le_bytes());
            }
            Op::Reboot => out.extend(tag(6)),
            Op::AdvanceTime(d) => {
                out.extend(tag(7));
                out.extend(d.to_le_bytes());
            }
            Op::Anchor => out.extend(tag(8)),
            Op::Prepare => out.extend(tag(9)),
        }
    }
    out.push(0);
    out
}
