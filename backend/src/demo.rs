//! The delivery story over HTTP: an owner enrols a lock and delegates to a company, the
//! company books a slot, the courier's phone fetches its one-off grant and opens an
//! in-process lock (the core's `Lock` on `MemoryStorage`), the phone uploads the receipts,
//! carries the server's acknowledgement and the owner's queued revocation back to the lock,
//! and the owner reads the timeline. `cargo run -p doorkey-backend -- demo` runs it against a
//! server on a temporary SQLite file; the tests run it too.

use chacha20::ChaCha20Rng;
use doorkey::config::{Change, ConfigUpdate, TimeAnchor};
use doorkey::credential::{Chain, Link, Rights};
use doorkey::crypto::{SecretKey, Signer};
use doorkey::lock::{Action, DoorEvent, Lock, MemoryStorage};
use doorkey::phone::{Credential, PhoneSession, inspect_challenge};
use doorkey::receipt::{Ack, AuditSecret};
use doorkey::session::{Command, Reply};
use doorkey::time::{Seconds, Tick, UnixTime};
use rand_core::SeedableRng;
use serde_json::{Value, json};

use crate::api::{self, AppState, Limits};
use crate::client::{Answer, Client};
use crate::db::Db;

/// Any failure of the story.
pub type Fail = Box<dyn std::error::Error + Send + Sync>;

type Storage = MemoryStorage<4096>;

/// An in-process lock on a door (the core's `Lock` on `MemoryStorage`) and the phone that
/// talks to it; ticks count from a boot 1000 s before it was made. The demo, the tests and
/// the benchmarks use it.
#[derive(Debug)]
pub struct Door {
    /// The lock.
    pub lock: Lock<Storage>,
    rng: ChaCha20Rng,
    boot: u64,
}

/// A lock's answer, owned: the action, the reply in words, and a receipt bundle if any.
#[derive(Debug)]
pub struct Answered {
    /// What the lock did.
    pub action: Action,
    /// Its reply, as the phone read it.
    pub reply: String,
    /// A sealed receipt bundle, if the reply carried one.
    pub bundle: Option<Vec<u8>>,
}

impl Door {
    /// Installs a fresh lock for `owner`, sets its clock and the audit key its receipts are
    /// sealed to (configuration version 1).
    pub fn new(owner: &SecretKey, audit: &AuditSecret) -> Result<Door, Fail> {
        let mut rng = os_rng()?;
        let mut door = Door {
            lock: Lock::install(
                SecretKey::generate(&mut rng),
                owner.public_key(),
                Storage::new(),
            )?,
            rng,
            boot: api::now().saturating_sub(1000),
        };
        door.set_clock(owner)?;
        door.configure(owner, 1, Change::SetAuditKey(audit.public_key()))?;
        Ok(door)
    }

    /// The owner's phone delivers a signed configuration update; returns the lock's reply.
    pub fn configure(
        &mut self,
        owner: &SecretKey,
        version: u64,
        change: Change,
    ) -> Result<String, Fail> {
        let mut update = [0u8; 256];
        let u = ConfigUpdate {
            lock: self.lock.id(),
            version,
            signer: owner.public_key(),
            change,
        }
        .sign(owner, &mut update)?;
        Ok(self
            .visit(
                None,
                Command::Config(update.get(..u).ok_or("short update")?),
            )?
            .0
            .reply)
    }

    /// Moves the lock's clock `secs` forward.
    pub fn wait(&mut self, secs: u64) {
        self.boot -= secs;
    }

    /// The lock's tick now.
    pub fn tick(&self) -> Tick {
        Tick::from_secs(api::now().saturating_sub(self.boot))
    }

    /// One message from `session` to the lock at `tick` and the reply read back.
    pub fn exchange(
        &mut self,
        tick: Tick,
        session: &mut PhoneSession,
        msg: &mut [u8],
    ) -> Result<Answered, Fail> {
        let mut out = [0u8; 4096];
        let outcome = self.lock.handle(tick, msg, &mut out)?;
        let reply = session.read_reply(out.get_mut(..outcome.reply).ok_or("short reply")?)?;
        let bundle = match reply {
            Reply::Receipts(b) => Some(b.to_vec()),
            _ => None,
        };
        Ok(Answered {
            action: outcome.action,
            reply: format!("{reply:?}"),
            bundle,
        })
    }

    /// A session that carries one command: under `credential`, or anonymous.
    pub fn visit(
        &mut self,
        credential: Option<&Credential<'_, &SecretKey>>,
        command: Command<'_>,
    ) -> Result<(Answered, PhoneSession), Fail> {
        let tick = self.tick();
        let mut ch = [0u8; 256];
        let n = self.lock.challenge(tick, &mut self.rng, &mut ch)?;
        let ch = ch.get(..n).ok_or("short challenge")?;
        let mut open = [0u8; 1024];
        let (mut session, m) = match credential {
            Some(c) => PhoneSession::open(ch, c, command, &mut self.rng, &mut open)?,
            None => PhoneSession::open_anonymous(
                ch,
                &self.lock.id(),
                command,
                &mut self.rng,
                &mut open,
            )?,
        };
        let answered = self.exchange(tick, &mut session, open.get_mut(..m).ok_or("short open")?)?;
        Ok((answered, session))
    }

    /// The owner's phone sets the lock's clock from a signed anchor bound to its challenge.
    pub fn set_clock(&mut self, owner: &SecretKey) -> Result<String, Fail> {
        let tick = self.tick();
        let mut ch = [0u8; 256];
        let n = self.lock.challenge(tick, &mut self.rng, &mut ch)?;
        let ch = ch.get(..n).ok_or("short challenge")?;
        let info = inspect_challenge(ch, &self.lock.id())?;
        let mut anchor = [0u8; 256];
        let a = TimeAnchor {
            lock: self.lock.id(),
            nonce: info.nonce,
            time: UnixTime::from_secs(api::now()),
            signer: owner.public_key(),
        }
        .sign(owner, &mut anchor)?;
        let mut open = [0u8; 1024];
        let (mut session, m) = PhoneSession::open_anonymous(
            ch,
            &self.lock.id(),
            Command::Time(anchor.get(..a).ok_or("short anchor")?),
            &mut self.rng,
            &mut open,
        )?;
        Ok(self
            .exchange(tick, &mut session, open.get_mut(..m).ok_or("short open")?)?
            .reply)
    }
}

fn os_rng() -> Result<ChaCha20Rng, Fail> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| format!("randomness: {e}"))?;
    Ok(ChaCha20Rng::from_seed(seed))
}

/// The answer's JSON if it is a success, else the failure with the server's words.
fn ok(answer: Answer, what: &str) -> Result<Value, Fail> {
    if answer.status == 200 {
        Ok(answer.json())
    } else {
        Err(format!(
            "{what}: HTTP {} {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        )
        .into())
    }
}

fn field<'a>(v: &'a Value, name: &str) -> Result<&'a str, Fail> {
    v.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("answer without {name}: {v}").into())
}

/// What the story leaves behind for a test to look at.
#[derive(Debug)]
pub struct Ending {
    /// The owner page's path (`/owner/<token>`).
    pub owner_page: String,
    /// The owner's timeline as the API returned it.
    pub timeline: Value,
}

/// Walks the delivery story against the server at `client`, telling each step to `say`.
pub async fn story(client: Client, say: &mut dyn FnMut(String)) -> Result<Ending, Fail> {
    let mut rng = os_rng()?;
    let now = api::now();
    let owner = SecretKey::generate(&mut rng);
    let company = SecretKey::generate(&mut rng);
    let courier = SecretKey::generate(&mut rng);

    say("== Installation: the lock, its owner, its clock and its audit key".into());
    let mut audit_bytes = [0u8; 32];
    getrandom::fill(&mut audit_bytes).map_err(|e| format!("randomness: {e}"))?;
    let audit = AuditSecret::from_bytes(audit_bytes);
    let mut door = Door::new(&owner, &audit)?;
    let lock_hex = hex::encode(door.lock.id().0);
    say("the owner's phone sets the lock's clock (a signed time anchor) and the audit key its receipts are sealed to".into());

    let enrolled = ok(
        client
            .json(
                "POST",
                "/v1/locks",
                &json!({
                    "lock_key": hex::encode(door.lock.public_key().0),
                    "audit_secret": hex::encode(audit_bytes),
                    "name": "Front door",
                }),
                Some(&owner),
            )
            .await?,
        "enrol the lock",
    )?;
    say(format!(
        "POST /v1/locks (signed by the owner): lock {} enrolled",
        field(&enrolled, "lock")?
    ));

    say("\n== The owner delegates to a delivery company".into());
    let registered = ok(
        client
            .json(
                "POST",
                "/v1/companies",
                &json!({ "name": "Parcel Co" }),
                Some(&company),
            )
            .await?,
        "register the company",
    )?;
    let issuing = crate::auth::hex32(field(&registered, "issuing_key")?).ok_or("issuing key")?;
    say(format!(
        "POST /v1/companies (signed by the company): issuing key {}",
        &field(&registered, "issuing_key")?[..8]
    ));
    let link = Link::builder(
        doorkey::crypto::PublicKey(issuing),
        Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE),
    )
    .locks(&[door.lock.id()])
    .valid_from(UnixTime::from_secs(now) - Seconds::from_days(1))
    .valid_for(Seconds::from_days(30))
    .depth(1)
    .build(&mut rng)?;
    let chain = Chain::root(&owner, &link)?;
    let phone_key = SecretKey::generate(&mut rng);
    let phone_link = Link::builder(phone_key.public_key(), Rights::UNLOCK.union(Rights::LOCK))
        .locks(&[door.lock.id()])
        .build(&mut rng)?;
    let phone_chain = Chain::root(&owner, &phone_link)?;
    let owner_phone = Credential::new(phone_chain.as_bytes(), &phone_key)?;
    let company_hex = hex::encode(company.public_key().0);
    ok(
        client
            .json(
                "PUT",
                &format!("/v1/locks/{lock_hex}/delegations/{company_hex}"),
                &json!({ "chain": hex::encode(chain.as_bytes()) }),
                Some(&owner),
            )
            .await?,
        "store the delegation",
    )?;
    say(format!(
        "PUT /v1/locks/{{lock}}/delegations/{{company}}: 30 days, {} bytes",
        chain.as_bytes().len()
    ));

    say("\n== The company books a slot; the courier scans the package".into());
    let order = "order-0042";
    for (id, start, end) in [
        (order, now - 300, now + 1500),
        ("order-0043", now + 86_400, now + 88_200),
    ] {
        ok(
            client
                .json(
                    "POST",
                    "/v1/orders",
                    &json!({
                        "order_id": id,
                        "lock": lock_hex,
                        "courier": hex::encode(courier.public_key().0),
                        "slot_start": start,
                        "slot_end": end,
                    }),
                    Some(&company),
                )
                .await?,
            "book the order",
        )?;
        say(format!(
            "POST /v1/orders: {id} booked for {} to {}",
            UnixTime::from_secs(start),
            UnixTime::from_secs(end)
        ));
    }
    let early = client
        .json(
            "POST",
            &format!("/v1/companies/{company_hex}/orders/order-0043/grant"),
            &json!({}),
            Some(&courier),
        )
        .await?;
    say(format!(
        "grant for tomorrow's order, asked today: HTTP {} {}",
        early.status,
        early.json()["error"]
    ));
    let granted = ok(
        client
            .json(
                "POST",
                &format!("/v1/companies/{company_hex}/orders/{order}/grant"),
                &json!({ "valid_for": 600 }),
                Some(&courier),
            )
            .await?,
        "mint the grant",
    )?;
    let grant = hex::decode(field(&granted, "grant")?)?;
    say(format!(
        "POST .../orders/{order}/grant (signed by the courier's device): {} bytes, one use, 10 minutes",
        grant.len()
    ));
    let credential = Credential::new(&grant, &courier)?;

    say("\n== At the door".into());
    let (unlocked, mut session) = door.visit(Some(&credential), Command::Unlock)?;
    say(format!(
        "courier's phone unlocks: {:?}, {}",
        unlocked.action, unlocked.reply
    ));
    let t = door.tick();
    door.lock
        .door_event(t + Seconds::from_secs(4), DoorEvent::Opened)?;
    door.lock
        .door_event(t + Seconds::from_secs(38), DoorEvent::Closed)?;
    say("door opened 4 s later, closed after 34 s; the package is inside".into());
    let mut msg = [0u8; 64];
    let k = session.command(Command::Lock, &mut msg)?;
    let relocked = door.exchange(
        t + Seconds::from_secs(45),
        &mut session,
        msg.get_mut(..k).ok_or("short")?,
    )?;
    say(format!(
        "relock in the same session at +45 s: {:?}, {}",
        relocked.action, relocked.reply
    ));
    let k = session.command(Command::Receipts { after: 0 }, &mut msg)?;
    let fetched = door.exchange(
        t + Seconds::from_secs(46),
        &mut session,
        msg.get_mut(..k).ok_or("short")?,
    )?;
    let bundle = fetched.bundle.ok_or("the lock sent no receipts")?;
    say(format!(
        "the courier's phone collects the receipt bundle, {} bytes, sealed to the owner's audit key",
        bundle.len()
    ));
    let k = session.command(Command::Close, &mut msg)?;
    door.exchange(
        t + Seconds::from_secs(46),
        &mut session,
        msg.get_mut(..k).ok_or("short")?,
    )?;
    door.wait(60);
    let (again, _) = door.visit(Some(&credential), Command::Unlock)?;
    say(format!(
        "the one-off grant tried again a minute later: {}",
        again.reply
    ));

    say("\n== The phone uploads; the server verifies in a batch, stores, acknowledges".into());
    let path = format!("/v1/locks/{lock_hex}/receipts");
    let first = ok(client.send("POST", &path, &bundle, None).await?, "upload")?;
    say(format!(
        "POST /v1/locks/{{lock}}/receipts (no signature needed): stored {}, findings {}",
        first["stored"], first["findings"]
    ));
    let repeat = ok(
        client.send("POST", &path, &bundle, None).await?,
        "upload again",
    )?;
    say(format!(
        "the same upload again: stored {} (idempotent)",
        repeat["stored"]
    ));
    let ack = &first["ack"];
    let hash = crate::auth::hex32(field(ack, "hash")?).ok_or("ack hash")?;
    let token: [u8; 64] = hex::decode(field(ack, "token")?)?
        .try_into()
        .map_err(|_| "ack token")?;
    let ack = Ack {
        first: ack["first"].as_u64().ok_or("ack first")?,
        seq: ack["seq"].as_u64().ok_or("ack seq")?,
        hash,
        token,
    };
    let (acked, _) = door.visit(None, Command::Ack(ack))?;
    say(format!(
        "a phone carries the ack {}..={} to the lock: {}",
        ack.first, ack.seq, acked.reply
    ));

    say("\n== The owner revokes the courier's device; the next phone delivers it".into());
    let mut update = [0u8; 256];
    let u = ConfigUpdate {
        lock: door.lock.id(),
        version: 2,
        signer: owner.public_key(),
        change: Change::RevokeKey(courier.public_key()),
    }
    .sign(&owner, &mut update)?;
    ok(
        client
            .json(
                "POST",
                &format!("/v1/locks/{lock_hex}/updates"),
                &json!({ "update": hex::encode(update.get(..u).ok_or("short update")?) }),
                Some(&owner),
            )
            .await?,
        "queue the revocation",
    )?;
    let pending = ok(
        client
            .send("GET", &format!("/v1/locks/{lock_hex}/updates"), b"", None)
            .await?,
        "pending updates",
    )?;
    let queued = pending["updates"].as_array().cloned().unwrap_or_default();
    say(format!(
        "GET /v1/locks/{{lock}}/updates: {} queued",
        queued.len()
    ));
    for q in &queued {
        let bytes = hex::decode(field(q, "update")?)?;
        let (applied, _) = door.visit(None, Command::Config(&bytes))?;
        say(format!(
            "the phone delivers version {}: {}",
            q["version"], applied.reply
        ));
    }
    // Only a verified holder may carry receipts: the owner's own phone, under its root link.
    let (fetched, _) = door.visit(Some(&owner_phone), Command::Receipts { after: 0 })?;
    let bundle = fetched.bundle.ok_or("the lock sent no receipts")?;
    let second = ok(client.send("POST", &path, &bundle, None).await?, "upload")?;
    let pending = ok(
        client
            .send("GET", &format!("/v1/locks/{lock_hex}/updates"), b"", None)
            .await?,
        "pending updates",
    )?;
    say(format!(
        "the next upload stores {} receipts; updates still queued: {}",
        second["stored"],
        pending["updates"].as_array().map_or(0, Vec::len)
    ));

    say("\n== The owner's timeline".into());
    let timeline = ok(
        client
            .send(
                "GET",
                &format!("/v1/locks/{lock_hex}/timeline"),
                b"",
                Some(&owner),
            )
            .await?,
        "timeline",
    )?;
    for v in timeline["visits"].as_array().into_iter().flatten() {
        say(format!(
            "visit: {}",
            v["summary"].as_str().unwrap_or_default()
        ));
    }
    for a in timeline["alerts"].as_array().into_iter().flatten() {
        say(format!("alert: {}", a.as_str().unwrap_or_default()));
    }
    let page = ok(
        client
            .send("POST", "/v1/owner-page", b"", Some(&owner))
            .await?,
        "owner page link",
    )?;
    let owner_page = field(&page, "path")?.to_owned();
    say(format!(
        "the owner's page: http://{}{owner_page}",
        client.addr
    ));
    Ok(Ending {
        owner_page,
        timeline,
    })
}

/// Starts a server on a temporary SQLite file and walks the story against it.
pub async fn run() -> Result<(), Fail> {
    let dir = std::env::temp_dir().join(format!("doorkey-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("demo.db");
    let db = Db::open(&format!("sqlite://{}", file.display())).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!(
        "doorkey-backend on http://{addr}, database {}",
        file.display()
    );
    let app = api::router(AppState {
        db,
        limits: Limits::default(),
    });
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let result = story(Client { addr }, &mut |line| println!("{line}")).await;
    server.abort();
    std::fs::remove_dir_all(&dir)?;
    result.map(drop)
}
