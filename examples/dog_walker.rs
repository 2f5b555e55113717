//! A dog walker booked through a pet-care company: a recurring weekday grant in the lock's
//! local time, right on both sides of a daylight-saving change.
//!
//! The owner sets the lock's time zone (Central Europe, `CET-1CEST,M3.5.0,M10.5.0/3`) by a
//! signed configuration update and delegates Monday to Friday 12:00-13:00 for a year to a
//! pet-care company; the company delegates the same window to its walker's phone, with no use
//! limit. The walker then comes by, each time with a full handshake: inside the window on
//! Friday 27 March 2026 (CET, UTC+1) and on Monday 30 March (CEST, UTC+2: clocks went forward
//! on the 29th), outside it three times. Every decision is the lock's own, from its clock and
//! its signed time-zone rule. The walker's phone carries the lock's receipts to the server;
//! the owner's timeline at the end is built from that verified chain.
//!
//! Run with `cargo run --example dog_walker`. Keys come from a fixed seed; the lock's tick is
//! seconds since installation, and owner-signed time anchors set its trusted clock.

use chacha20::ChaCha20Rng;
use doorkey::Error;
use doorkey::config::{Change, ConfigUpdate, TimeAnchor};
use doorkey::credential::{Chain, CredentialId, Link, Rights, Scope};
use doorkey::crypto::{SecretKey, Signer};
use doorkey::lock::{DoorEvent, Lock, MemoryStorage};
use doorkey::phone::{Credential, PhoneSession, inspect_challenge};
use doorkey::server::{Alert, Issuer, ReceiptLog, timeline};
use doorkey::session::{Command, Reply};
use doorkey::time::{Schedule, TzRule, WeeklyWindow};
use doorkey::wire::Bounded;
use rand_core::SeedableRng;

/// Thursday 2026-03-26 09:00Z: the lock is installed; its tick counts seconds from here.
const INSTALLED: u64 = 1_774_515_600;
const DAY: u64 = 86_400;

/// The lock, the owner's key, the server's receipt log and the randomness they all draw on.
struct Home {
    lock: Lock<MemoryStorage<4096>>,
    owner: SecretKey,
    log: ReceiptLog,
    tz: TzRule,
    rng: ChaCha20Rng,
}

fn main() -> Result<(), Error> {
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    let owner = SecretKey::generate(&mut rng);
    let lock_key = SecretKey::generate(&mut rng);
    let log = ReceiptLog::new(lock_key.public_key())?;
    let lock = Lock::install(lock_key, owner.public_key(), MemoryStorage::new())?;
    let tz = TzRule::parse("CET-1CEST,M3.5.0,M10.5.0/3")?;
    let mut home = Home {
        lock,
        owner,
        log,
        tz,
        rng,
    };

    println!("== Thursday: installation; the owner's phone sets the clock and the time zone");
    println!("time anchor: {:?}", home.admin(INSTALLED + 60, None)?);
    let update = Change::SetTimeZone(tz);
    println!(
        "time zone CET/CEST: {:?}",
        home.admin(INSTALLED + 90, Some(update))?
    );

    let weekdays_noon = Schedule::new(&[WeeklyWindow::new(WeeklyWindow::WEEKDAYS, 720, 60)?], &[])?;
    let start = 1_772_323_200; // 2026-03-01 00:00Z
    let company = SecretKey::generate(&mut home.rng);
    let to_company = Link {
        subject: company.public_key(),
        scope: Scope::Locks(Bounded::from_slice(&[home.lock.id()]).ok_or(Error::Misuse)?),
        rights: Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE),
        not_before: start,
        lifetime: Some(365 * DAY),
        schedule: Some(weekdays_noon),
        uses: None,
        depth: 1,
        id: CredentialId::random(&mut home.rng),
        epoch: 0,
        purpose: None,
    };
    let company = Issuer::new(company, Chain::root(&home.owner, &to_company)?)?;
    let walker = SecretKey::generate(&mut home.rng);
    let walker_key = walker.public_key();
    let to_walker = Link {
        subject: walker_key,
        scope: Scope::Inherit,
        rights: Rights::UNLOCK.union(Rights::LOCK),
        depth: 0,
        id: CredentialId::random(&mut home.rng),
        ..to_company
    };
    let grant = company.delegate(&to_walker)?;
    let walker = Credential::new(grant.as_bytes(), walker)?;
    println!(
        "owner -> pet-care company -> walker's phone: Mon-Fri 12:00-13:00 local, a year, no use limit ({} bytes)",
        grant.as_bytes().len()
    );

    println!("\n== Visits (local time at the door, then UTC)");
    for utc in [1_774_611_000, 1_774_613_100, 1_774_697_400] {
        home.walk(&walker, utc)?; // Fri 12:30 CET, Fri 13:05 CET, Sat 12:30 CET
    }
    println!(
        "Monday morning, the owner's phone passes by: {:?}",
        home.admin(1_774_857_600, None)?
    );
    for utc in [1_774_866_600, 1_774_870_200] {
        home.walk(&walker, utc)?; // Mon 12:30 CEST, Mon 13:30 CEST (12:30 in winter time)
    }

    println!("\n== The owner's timeline, from the verified receipt chain");
    let mut ch = [0u8; 256];
    let n = home
        .lock
        .challenge(tick(1_774_886_400), &mut home.rng, &mut ch)?;
    let after = home.log.receipts().last().map_or(0, |s| s.receipt.seq);
    let mut open = [0u8; 512];
    let (mut s, m) = PhoneSession::open_anonymous(
        &ch[..n],
        &home.lock.id(),
        Command::Receipts { after },
        &mut home.rng,
        &mut open,
    )?;
    home.deliver(tick(1_774_886_400), &mut s, &mut open[..m])?;
    for s in home.log.receipts() {
        println!(
            "DBG {:?} {:?} {:?} {:?}",
            s.receipt.seq,
            s.receipt.event,
            s.receipt.time,
            s.receipt.session.map(|x| short(&x))
        );
    }
    println!("DBG audit {:?}", home.log.audit());
    let (visits, alerts) = timeline(&home.log);
    for v in &visits {
        let who = match v.who {
            Some(w) if w.holder == walker_key => {
                format!("walker's phone, credential {}", short(&w.id.0))
            }
            Some(w) => format!("device {}", short(&w.holder.0)),
            None => "no credential accepted".into(),
        };
        let at = |t: Option<u64>| t.map_or("-".into(), |t| home.local(t));
        println!(
            "visit {}: {who}; unlocked {}, relocked {} ({} s later); refused {:?}",
            short(&v.session),
            at(v.unlocked),
            at(v.relocked),
            v.relocked_after().unwrap_or(0),
            v.denied
        );
    }
    for a in &alerts {
        match a {
            Alert::Denied { seq, reason } => {
                let time = home
                    .log
                    .receipts()
                    .iter()
                    .find(|s| s.receipt.seq == *seq)
                    .and_then(|s| s.receipt.time);
                println!(
                    "alert: receipt {seq}, {}: refused, {reason:?}",
                    time.map_or("untimed".into(), |t| home.local(t))
                );
            }
            other => println!("alert: {other:?}"),
        }
    }
    println!(
        "log: {} receipts, chain complete: {}",
        home.log.receipts().len(),
        home.log.audit().is_empty()
    );
    Ok(())
}

impl Home {
    /// An owner-signed time anchor (`change: None`) or configuration update, carried by the
    /// owner's phone at `utc`.
    fn admin(&mut self, utc: u64, change: Option<Change>) -> Result<Reply<'static>, Error> {
        let (mut ch, mut signed, mut open) = ([0u8; 256], [0u8; 256], [0u8; 512]);
        let n = self.lock.challenge(tick(utc), &mut self.rng, &mut ch)?;
        let (lock, signer) = (self.lock.id(), self.owner.public_key());
        let k = match change {
            None => {
                let nonce = inspect_challenge(&ch[..n], &lock)?.nonce;
                TimeAnchor {
                    lock,
                    nonce,
                    time: utc,
                    signer,
                }
                .sign(&self.owner, &mut signed)?
            }
            Some(change) => {
                let version = self.lock.state().enrolment.config_version() + 1;
                ConfigUpdate {
                    lock,
                    version,
                    signer,
                    change,
                }
                .sign(&self.owner, &mut signed)?
            }
        };
        let command = match change {
            None => Command::Time(&signed[..k]),
            Some(_) => Command::Config(&signed[..k]),
        };
        let (mut s, m) =
            PhoneSession::open_anonymous(&ch[..n], &lock, command, &mut self.rng, &mut open)?;
        self.deliver(tick(utc), &mut s, &mut open[..m])
    }

    /// The walker arrives at `utc`: a handshake asking to unlock; if the lock opens, the door
    /// opens and closes, the phone relocks in the same session and carries the receipts away.
    fn walk<S: Signer>(&mut self, walker: &Credential<'_, S>, utc: u64) -> Result<(), Error> {
        let (mut ch, mut open) = ([0u8; 256], [0u8; 2048]);
        let n = self.lock.challenge(tick(utc), &mut self.rng, &mut ch)?;
        let (mut s, m) =
            PhoneSession::open(&ch[..n], walker, Command::Unlock, &mut self.rng, &mut open)?;
        let reply = self.deliver(tick(utc), &mut s, &mut open[..m])?;
        println!(
            "{} ({}) walker asks to unlock: lock replies {reply:?}",
            self.local(utc),
            utc_hm(utc)
        );
        if reply != Reply::Unlocked {
            return Ok(());
        }
        self.lock.door_event(tick(utc + 5), DoorEvent::Opened)?;
        self.lock.door_event(tick(utc + 40), DoorEvent::Closed)?;
        let held = self.log.receipts().len();
        for (dt, command) in [
            (50, Command::Lock),
            (
                52,
                Command::Receipts {
                    after: self.log.receipts().last().map_or(0, |s| s.receipt.seq),
                },
            ),
        ] {
            let k = s.command(command, &mut open)?;
            let reply = self.deliver(tick(utc + dt), &mut s, &mut open[..k])?;
            if reply == Reply::Locked {
                println!(
                    "{} door opened and closed; relocked in the same session: {reply:?}",
                    self.local(utc + 50)
                );
            }
        }
        println!(
            "   the phone carries {} new receipts to the server",
            self.log.receipts().len() - held
        );
        Ok(())
    }

    /// Hands a message to the lock and its reply to the phone; receipt bundles go to the log.
    fn deliver(
        &mut self,
        tick: u64,
        s: &mut PhoneSession,
        msg: &mut [u8],
    ) -> Result<Reply<'static>, Error> {
        let mut out = [0u8; 4096];
        let outcome = self.lock.handle(tick, msg, &mut out)?;
        Ok(match s.read_reply(&mut out[..outcome.reply])? {
            Reply::Receipts(bundle) => {
                let found = self.log.ingest(bundle);
                assert!(found.is_empty(), "log findings: {found:?}");
                Reply::Receipts(&[]) // consumed: filed in the log
            }
            Reply::Unlocked => Reply::Unlocked,
            Reply::Locked => Reply::Locked,
            Reply::Closed => Reply::Closed,
            Reply::TimeSet(t) => Reply::TimeSet(t),
            Reply::ConfigApplied(v) => Reply::ConfigApplied(v),
            Reply::Ready => Reply::Ready,
            Reply::Denied(r) => Reply::Denied(r),
        })
    }

    /// `utc` as the lock's local wall clock reads it, e.g. `Fri 2026-03-27 12:30 CET`.
    fn local(&self, utc: u64) -> String {
        let t = self.tz.local(utc);
        let (y, m, d) = t.date();
        let day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][usize::from(t.weekday() % 7)];
        let zone = if self.tz.is_dst_at(utc) {
            "CEST"
        } else {
            "CET"
        };
        let (h, min) = (t.second_of_day / 3600, t.second_of_day / 60 % 60);
        format!("{day} {y}-{m:02}-{d:02} {h:02}:{min:02} {zone}")
    }
}

fn tick(utc: u64) -> u64 {
    utc - INSTALLED
}

fn utc_hm(utc: u64) -> String {
    format!("{:02}:{:02}Z", utc % DAY / 3600, utc % 3600 / 60)
}

fn short(bytes: &[u8]) -> String {
    bytes.iter().take(4).map(|b| format!("{b:02x}")).collect()
}
