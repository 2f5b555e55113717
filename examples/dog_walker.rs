//! A dog walker booked through a pet-care company: a recurring weekday grant in the lock's
//! local time, right on both sides of a daylight-saving change.
//!
//! The owner sets the lock's time zone (`CET-1CEST,M3.5.0,M10.5.0/3`) by a signed
//! configuration update and delegates Monday to Friday 12:00-13:00 for a year to a pet-care
//! company, which delegates the same window to its walker's phone with no use limit. The
//! walker comes by, each time with a full handshake: inside the window on Friday 27 March 2026
//! (CET, UTC+1) and on Monday and Tuesday after clocks went forward on the 29th (CEST, UTC+2);
//! outside it on Friday at 13:05, on Saturday, and on Monday at 13:30 CEST (12:30 in winter
//! time, so a lock that ignored the change would open). Every decision is the lock's own, from
//! its trusted clock and its signed rule. After each opening the walker's phone carries the
//! lock's receipts to the server, and the owner's timeline is built from that verified chain.
//!
//! Run with `cargo run --example dog_walker`. Keys come from a fixed seed; the lock's tick is
//! seconds since installation, and owner-signed time anchors set its trusted clock.

use chacha20::ChaCha20Rng;
use doorkey::Result;
use doorkey::config::{Change, ConfigUpdate, TimeAnchor};
use doorkey::credential::{Chain, Link, Rights};
use doorkey::crypto::{SecretKey, Signer};
use doorkey::lock::{DoorEvent, Lock, MemoryStorage};
use doorkey::phone::{Credential, PhoneSession, inspect_challenge};
use doorkey::receipt::AuditSecret;
use doorkey::server::{Alert, Issuer, ReceiptLog, timeline};
use doorkey::session::{Command, Reply};
use doorkey::time::{Schedule, Seconds, Tick, TzRule, UnixTime, WeeklyWindow};
use rand_core::SeedableRng;

/// Thursday 2026-03-26 09:00Z: the lock is installed; its tick counts seconds from here.
const INSTALLED: UnixTime = UnixTime::from_secs(1_774_515_600);

/// The lock's tick at `utc`.
fn tick(utc: UnixTime) -> Tick {
    utc.since(INSTALLED).map_or(Tick::BOOT, |s| Tick::BOOT + s)
}

/// The lock, its owner's key, the server's log of its receipts, and one random source.
struct Home {
    lock: Lock<MemoryStorage<4096>>,
    owner: SecretKey,
    /// The owner's audit secret: the lock seals receipt bundles to its public key.
    audit: AuditSecret,
    log: ReceiptLog,
    tz: TzRule,
    rng: ChaCha20Rng,
}

fn main() -> Result<()> {
    let mut rng = ChaCha20Rng::from_seed([7; 32]);
    let (owner, lock_key) = (SecretKey::generate(&mut rng), SecretKey::generate(&mut rng));
    let tz = TzRule::parse("CET-1CEST,M3.5.0,M10.5.0/3")?;
    let mut home = Home {
        log: ReceiptLog::new(lock_key.public_key())?,
        lock: Lock::install(lock_key, owner.public_key(), MemoryStorage::new())?,
        owner,
        audit: AuditSecret::generate(&mut rng),
        tz,
        rng,
    };
    println!("Thu 09:00Z lock installed; owner's phone brings a time anchor and the time zone:");
    println!(
        "  {}",
        home.admin(INSTALLED + Seconds::from_secs(60), None)?
    );
    let zone = Some(Change::SetTimeZone(tz));
    println!(
        "  {}",
        home.admin(INSTALLED + Seconds::from_secs(90), zone)?
    );
    let audit = Some(Change::SetAuditKey(home.audit.public_key()));
    println!(
        "  the audit key receipts are sealed to: {}",
        home.admin(INSTALLED + Seconds::from_secs(100), audit)?
    );

    let noon = WeeklyWindow::new(WeeklyWindow::WEEKDAYS, 12 * 60, 60)?;
    let company = SecretKey::generate(&mut home.rng);
    let weekdays = Schedule::new(&[noon], &[])?;
    let march_first = UnixTime::from_secs(1_772_323_200); // 2026-03-01 00:00Z
    let year = Seconds::from_days(365);
    let to_company = Link::builder(
        company.public_key(),
        Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE),
    )
    .locks(&[home.lock.id()])
    .valid_from(march_first)
    .valid_for(year)
    .schedule(weekdays)
    .depth(1)
    .build(&mut home.rng)?;
    let company = Issuer::new(company, Chain::root(&home.owner, &to_company)?)?;
    let walker = SecretKey::generate(&mut home.rng);
    let to_walker = Link::builder(walker.public_key(), Rights::UNLOCK.union(Rights::LOCK))
        .valid_from(march_first)
        .valid_for(year)
        .schedule(weekdays)
        .build(&mut home.rng)?;
    let grant = company.delegate(&to_walker)?;
    let walker = Credential::new(grant.as_bytes(), walker)?;
    println!("owner -> pet-care company -> walker's phone: Mon-Fri 12:00-13:00 local for a year");

    let mut refused = 0;
    // Fri 12:30 CET, Fri 13:05 CET, Sat 12:30 CET.
    for utc in [1_774_611_000, 1_774_613_100, 1_774_697_400].map(UnixTime::from_secs) {
        refused += home.walk(&walker, utc)?;
    }
    let reply = home.admin(UnixTime::from_secs(1_774_854_000), None)?;
    println!("Mon 2026-03-30 09:00 CEST the owner's phone passes by with an anchor: {reply}");
    // Mon 12:30 CEST, Mon 13:30 CEST (it would be 12:30 in winter time), Tue 12:30 CEST.
    for utc in [1_774_866_600, 1_774_870_200, 1_774_953_000].map(UnixTime::from_secs) {
        refused += home.walk(&walker, utc)?;
    }

    println!("\nThe owner's timeline, from the verified receipt chain:");
    let (visits, alerts) = timeline(&home.log)?;
    let all = home.log.receipts()?;
    for v in visits {
        let first = all.iter().find(|s| s.receipt.session == Some(v.session));
        let at = first
            .and_then(|s| s.receipt.time)
            .map_or("?".into(), |t| home.local(t));
        let who = match v.who {
            Some(w) if w.holder == walker.device_key().key_id() => "walker's phone",
            Some(_) => "another device",
            None => "no verified holder",
        };
        let relocked = v
            .relocked_after()
            .map(|s| format!("relocked after {} s", s.as_secs()));
        let denied = v.denied.first().map(|r| format!("refused, {r:?}"));
        println!("  {at}: {who}, {}", relocked.or(denied).unwrap_or_default());
    }
    let mut denials = 0;
    for alert in alerts {
        denials += usize::from(matches!(alert, Alert::Denied { .. }));
        println!("  alert: {alert:?}");
    }
    let audit = home.log.audit()?;
    println!("  {} receipts, audit findings {audit:?}", all.len());
    // The lock folds a refusal with no verified holder into an identical one just before it,
    // so nobody without a credential can flush its backlog; an out-of-window refusal has none.
    println!("  the walker was refused {refused} times; the chain holds {denials} refusals");
    Ok(())
}

impl Home {
    /// The owner's phone carries a time anchor (`change: None`) or a configuration update.
    fn admin(&mut self, utc: UnixTime, change: Option<Change>) -> Result<String> {
        let (mut ch, mut signed, mut open, mut out) = ([0; 256], [0; 256], [0; 512], [0; 256]);
        let n = self.lock.challenge(tick(utc), &mut self.rng, &mut ch)?;
        let (lock, signer) = (self.lock.id(), self.owner.public_key());
        let command = match change {
            None => {
                let nonce = inspect_challenge(&ch[..n], &lock)?.nonce;
                let anchor = TimeAnchor {
                    lock,
                    nonce,
                    time: utc,
                    signer,
                };
                let k = anchor.sign(&self.owner, &mut signed)?;
                Command::Time(&signed[..k])
            }
            Some(change) => {
                let version = self.lock.state().enrolment.config_version() + 1;
                let update = ConfigUpdate {
                    lock,
                    version,
                    signer,
                    change,
                };
                let k = update.sign(&self.owner, &mut signed)?;
                Command::Config(&signed[..k])
            }
        };
        let (mut s, m) =
            PhoneSession::open_anonymous(&ch[..n], &lock, command, &mut self.rng, &mut open)?;
        let reply = self.deliver(utc, &mut s, &mut open[..m], &mut out)?;
        Ok(format!("{reply:?}"))
    }

    /// The walker asks to unlock at `utc`; if the lock opens, the door opens and closes, the
    /// phone relocks in the same session and carries the new receipts away. 1 if refused.
    fn walk<S: Signer>(&mut self, walker: &Credential<'_, S>, utc: UnixTime) -> Result<usize> {
        let (tick, mut ch, mut msg, mut out) = (tick(utc), [0; 256], [0; 1024], [0; 4096]);
        let n = self.lock.challenge(tick, &mut self.rng, &mut ch)?;
        let (mut s, m) =
            PhoneSession::open(&ch[..n], walker, Command::Unlock, &mut self.rng, &mut msg)?;
        let reply = self.deliver(utc, &mut s, &mut msg[..m], &mut out)?;
        let z = format!(
            "{:02}:{:02}Z",
            utc.as_secs() % 86_400 / 3600,
            utc.as_secs() % 3600 / 60
        );
        println!("{} ({z}) walker asks to unlock: {reply:?}", self.local(utc));
        if reply != Reply::Unlocked {
            return Ok(1);
        }
        self.lock
            .door_event(tick + Seconds::from_secs(5), DoorEvent::Opened)?;
        self.lock
            .door_event(tick + Seconds::from_secs(40), DoorEvent::Closed)?;
        let k = s.command(Command::Lock, &mut msg)?;
        let reply = self.deliver(
            utc + Seconds::from_secs(50),
            &mut s,
            &mut msg[..k],
            &mut out,
        )?;
        println!("  door opened and closed; relock in the same session after 50 s: {reply:?}");
        // The phone hands the lock the server's acknowledgement (the lock then forgets what
        // the server holds) and carries the new, sealed receipts away.
        if let Some(ack) = self.log.ack()? {
            let k = s.command(Command::Ack(ack), &mut msg)?;
            self.deliver(
                utc + Seconds::from_secs(51),
                &mut s,
                &mut msg[..k],
                &mut out,
            )?;
        }
        let after = self.newest()?;
        let k = s.command(Command::Receipts { after }, &mut msg)?;
        self.deliver(
            utc + Seconds::from_secs(52),
            &mut s,
            &mut msg[..k],
            &mut out,
        )?;
        Ok(0)
    }

    /// Hands a message to the lock and its reply to the phone; a receipt bundle goes to the log.
    fn deliver<'o>(
        &mut self,
        utc: UnixTime,
        s: &mut PhoneSession,
        msg: &mut [u8],
        out: &'o mut [u8],
    ) -> Result<Reply<'o>> {
        let outcome = self.lock.handle(tick(utc), msg, out)?;
        let reply = s.read_reply(&mut out[..outcome.reply])?;
        if let Reply::Receipts(sealed) = reply {
            let found = self.log.ingest_sealed(&self.audit, sealed)?;
            assert!(found.is_empty(), "log findings: {found:?}");
            println!("  phone -> server: receipts up to {}", self.newest()?);
        }
        Ok(reply)
    }

    /// Newest receipt the server holds: a phone asks the lock only for what follows.
    fn newest(&self) -> Result<u64> {
        Ok(self.log.receipts()?.last().map_or(0, |s| s.receipt.seq))
    }

    /// `utc` on the lock's local wall clock, e.g. `Fri 2026-03-27 12:30 CET`.
    fn local(&self, utc: UnixTime) -> String {
        let t = self.tz.local(utc);
        let ((y, m, d), sec) = (t.date(), t.second_of_day);
        let day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][usize::from(t.weekday() % 7)];
        let zone = ["CET", "CEST"][usize::from(self.tz.is_dst_at(utc))];
        let (h, min) = (sec / 3600, sec / 60 % 60);
        format!("{day} {y}-{m:02}-{d:02} {h:02}:{min:02} {zone}")
    }
}
