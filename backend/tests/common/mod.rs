//! The backend under test: a server on a fresh database (a SQLite file in a temporary
//! directory, or a PostgreSQL database), the parties' keys, and the cases every database runs.
#![allow(dead_code)] // each test binary uses its own part of the kit

pub mod cluster;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use doorkey::credential::{Chain, Link, Rights};
use doorkey::crypto::{SecretKey, Signer};
use doorkey::phone::Credential;
use doorkey::receipt::AuditSecret;
use doorkey::session::Command;
use doorkey::time::{Seconds, UnixTime};
use doorkey_backend::api::{AppState, Limits, now, router};
use doorkey_backend::client::{Answer, Client};
use doorkey_backend::db::Db;
use doorkey_backend::demo::Door;
use rand_core::SeedableRng;
use serde_json::{Value, json};

/// A fresh temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "doorkey-backend-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A server under test: in this process (with its state, for the database's view), or a
/// child process reached only over HTTP.
pub struct Server {
    pub client: Client,
    state: Option<AppState>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: Option<TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl Server {
    pub async fn on(url: &str, limits: Limits, dir: Option<TempDir>) -> Server {
        let db = Db::open(url).await.expect("open the database");
        let state = AppState { db, limits };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let app = router(state.clone());
        let task = tokio::spawn(async move { axum::serve(listener, app).await });
        Server {
            client: Client { addr },
            state: Some(state),
            task: Some(task),
            _dir: dir,
        }
    }

    /// A server in another process, at `addr`.
    pub fn remote(addr: SocketAddr) -> Server {
        Server {
            client: Client { addr },
            state: None,
            task: None,
            _dir: None,
        }
    }

    pub fn pool(&self) -> &sqlx::AnyPool {
        &self.state.as_ref().expect("an in-process server").db.pool
    }

    pub async fn sqlite(limits: Limits) -> Server {
        let dir = TempDir::new("sqlite");
        let url = format!("sqlite://{}", dir.0.join("test.db").display());
        Server::on(&url, limits, Some(dir)).await
    }

    pub async fn post(&self, path: &str, body: Value, who: &SecretKey) -> Answer {
        self.client
            .json("POST", path, &body, Some(who))
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, who: Option<&SecretKey>) -> Answer {
        let who = who.map(|k| k as &(dyn Signer + Sync));
        self.client.send("GET", path, b"", who).await.unwrap()
    }

    pub async fn upload(&self, lock: &str, bundle: &[u8]) -> Answer {
        let path = format!("/v1/locks/{lock}/receipts");
        self.client.send("POST", &path, bundle, None).await.unwrap()
    }
}

pub fn key() -> SecretKey {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).unwrap();
    SecretKey::from_seed(&seed)
}

pub fn rng() -> chacha20::ChaCha20Rng {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).unwrap();
    chacha20::ChaCha20Rng::from_seed(seed)
}

/// An owner with an enrolled lock on a door, a company it delegated to, and a courier.
pub struct World {
    pub owner: SecretKey,
    pub company: SecretKey,
    pub courier: SecretKey,
    pub door: Door,
    pub lock: String,
    pub company_hex: String,
    /// The owner's own phone credential (a root link): it may fetch receipts.
    pub phone_chain: Vec<u8>,
    pub phone_key: SecretKey,
}

impl World {
    pub async fn new(s: &Server) -> World {
        let owner = key();
        let company = key();
        let courier = key();
        let mut audit = [0u8; 32];
        getrandom::fill(&mut audit).unwrap();
        let door = Door::new(&owner, &AuditSecret::from_bytes(audit)).unwrap();
        let lock = hex::encode(door.lock.id().0);
        let enrolled = s
            .post(
                "/v1/locks",
                json!({
                    "lock_key": hex::encode(door.lock.public_key().0),
                    "audit_secret": hex::encode(audit),
                    "name": "Front door",
                }),
                &owner,
            )
            .await;
        assert_eq!(enrolled.status, 200, "{:?}", enrolled.json());
        let registered = s
            .post("/v1/companies", json!({ "name": "Parcel Co" }), &company)
            .await;
        assert_eq!(registered.status, 200);
        let issuing = hex::decode(registered.json()["issuing_key"].as_str().unwrap()).unwrap();
        let issuing = doorkey::crypto::PublicKey(issuing.try_into().unwrap());
        let mut rng = rng();
        let link = Link::builder(
            issuing,
            Rights::UNLOCK.union(Rights::LOCK).union(Rights::DELEGATE),
        )
        .locks(&[door.lock.id()])
        .valid_from(UnixTime::from_secs(now()) - Seconds::from_days(1))
        .valid_for(Seconds::from_days(30))
        .depth(1)
        .build(&mut rng)
        .unwrap();
        let chain = Chain::root(&owner, &link).unwrap();
        let company_hex = hex::encode(company.public_key().0);
        let body = json!({ "chain": hex::encode(chain.as_bytes()) });
        let put = s
            .client
            .json(
                "PUT",
                &format!("/v1/locks/{lock}/delegations/{company_hex}"),
                &body,
                Some(&owner),
            )
            .await
            .unwrap();
        assert_eq!(put.status, 200, "{:?}", put.json());
        let phone_key = key();
        let phone_link = Link::builder(phone_key.public_key(), Rights::UNLOCK.union(Rights::LOCK))
            .locks(&[door.lock.id()])
            .build(&mut rng)
            .unwrap();
        let phone_chain = Chain::root(&owner, &phone_link)
            .unwrap()
            .as_bytes()
            .to_vec();
        World {
            owner,
            company,
            courier,
            door,
            lock,
            company_hex,
            phone_chain,
            phone_key,
        }
    }

    /// Books `order` for the courier with a slot from `start` to `end` (UNIX seconds).
    pub async fn book(&self, s: &Server, order: &str, start: u64, end: u64) -> Answer {
        let body = json!({
            "order_id": order,
            "lock": self.lock,
            "courier": hex::encode(self.courier.public_key().0),
            "slot_start": start,
            "slot_end": end,
        });
        s.post("/v1/orders", body, &self.company).await
    }

    /// The owner's phone opens and relocks the door once.
    pub fn open_and_relock(&mut self) {
        let credential = Credential::new(&self.phone_chain, &self.phone_key).unwrap();
        let (opened, mut session) = self.door.visit(Some(&credential), Command::Unlock).unwrap();
        assert_eq!(opened.reply, "Unlocked");
        let mut msg = [0u8; 64];
        let k = session.command(Command::Lock, &mut msg).unwrap();
        let t = self.door.tick();
        let locked = self.door.exchange(t, &mut session, &mut msg[..k]).unwrap();
        assert_eq!(locked.reply, "Locked");
    }

    /// The sealed bundle of every receipt the lock holds, fetched by the owner's phone.
    pub fn bundle(&mut self) -> Vec<u8> {
        let credential = Credential::new(&self.phone_chain, &self.phone_key).unwrap();
        let (fetched, _) = self
            .door
            .visit(Some(&credential), Command::Receipts { after: 0 })
            .unwrap();
        fetched.bundle.expect("a receipt bundle")
    }

    /// Carries the acknowledgement in an upload's answer to the lock (which then forgets
    /// those receipts); returns its sequence number.
    pub fn carry_ack(&mut self, answer: &Value) -> u64 {
        let a = &answer["ack"];
        let ack = doorkey::receipt::Ack {
            first: a["first"].as_u64().unwrap(),
            seq: a["seq"].as_u64().unwrap(),
            hash: hex::decode(a["hash"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap(),
            token: hex::decode(a["token"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap(),
        };
        let (acked, _) = self.door.visit(None, Command::Ack(ack)).unwrap();
        assert_eq!(acked.reply, format!("Acked({})", ack.seq));
        ack.seq
    }

    pub async fn timeline(&self, s: &Server) -> Value {
        let answer = s
            .get(
                &format!("/v1/locks/{}/timeline", self.lock),
                Some(&self.owner),
            )
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.json());
        answer.json()
    }
}

/// The count of receipts the database holds for `lock`.
pub async fn stored_receipts(s: &Server, lock: &str) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) AS n FROM receipts WHERE lock_id = $1")
        .bind(hex::decode(lock).unwrap())
        .fetch_one(s.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

// ---- cases every database runs ----------------------------------------------------------

/// The demo's delivery story: the visit and the used-up retry reach the owner's timeline.
pub async fn delivery_story(s: &Server) -> doorkey_backend::demo::Ending {
    let ending = doorkey_backend::demo::story(s.client, &mut |line| println!("{line}"))
        .await
        .expect("the story runs");
    let visits = ending.timeline["visits"].as_array().unwrap();
    let first = visits[0]["summary"].as_str().unwrap();
    assert!(
        first.starts_with("delivered by Parcel Co for order order-0042, unlocked at "),
        "{first}"
    );
    assert!(
        first.contains("door opened 4 s later, door open for 34 s, relocked after 45 s"),
        "{first}"
    );
    assert_eq!(visits[0]["relocked_after"], 45);
    assert_eq!(visits[0]["order"], "order-0042");
    let alerts = ending.timeline["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(
        alerts[0]
            .as_str()
            .unwrap()
            .starts_with("an attempt was refused: the credential was already used up")
    );
    ending
}

/// Uploads of overlapping bundles, sent at once, are filed one after another: every one is
/// answered 200, each receipt is stored once, and the log shows no fork.
pub async fn parallel_uploads(s: &Server) {
    let mut w = World::new(s).await;
    let mut bundles = Vec::new();
    for _ in 0..4 {
        w.open_and_relock();
        bundles.push(w.bundle());
    }
    let lock = w.lock.clone();
    let mut tasks = Vec::new();
    for round in 0..4 {
        for b in &bundles {
            let (s_client, lock, b) = (s.client, lock.clone(), b.clone());
            tasks.push(tokio::spawn(async move {
                let _ = round;
                s_client
                    .send("POST", &format!("/v1/locks/{lock}/receipts"), &b, None)
                    .await
                    .unwrap()
            }));
        }
    }
    let mut stored = 0;
    for t in tasks {
        let answer = t.await.unwrap();
        assert_eq!(answer.status, 200, "{:?}", answer.json());
        assert_eq!(answer.json()["findings"], json!([]));
        stored += answer.json()["stored"].as_u64().unwrap();
    }
    let held = stored_receipts(s, &lock).await;
    // Installed, time set, audit key set, then unlock + relock per visit (+ nothing else).
    assert_eq!(held as u64, stored, "each receipt stored exactly once");
    assert!(held >= 3 + 2 * 4, "held {held}");
    let timeline = w.timeline(s).await;
    assert_eq!(timeline["alerts"], json!([]), "no fork, gap or broken link");
    assert_eq!(timeline["visits"].as_array().unwrap().len(), 4);
}

/// A database that fails under a request answers 5xx with a sentence; the server lives on.
pub async fn database_failure_is_an_http_error(s: &Server) {
    let mut w = World::new(s).await;
    w.open_and_relock();
    let bundle = w.bundle();
    sqlx::raw_sql("DROP TABLE receipts")
        .execute(s.pool())
        .await
        .unwrap();
    let answer = s.upload(&w.lock, &bundle).await;
    assert_eq!(answer.status, 500, "{:?}", answer.json());
    assert_eq!(answer.json()["error"], "database error");
    let timeline = s
        .get(&format!("/v1/locks/{}/timeline", w.lock), Some(&w.owner))
        .await;
    assert_eq!(timeline.status, 500);
    assert_eq!(
        s.get("/v1/health", None).await.status,
        200,
        "the server still answers"
    );
}
