//! Many locks' receipts ingested through the HTTP API, as phones upload them: the real
//! server (the production router and database code, on a loopback TCP port), `N` locks
//! enrolled by their owners through `POST /v1/locks`, each lock's receipts made by the core's
//! `Lock` (the owner's phone unlocks and relocks it, and fetches the sealed receipt bundle
//! before its backlog would overflow), then every bundle uploaded by `C` concurrent
//! keep-alive HTTP clients. It reports receipts and requests per second and the request
//! latency, then checks that the database holds every lock's chain, whole and unforked.
//!
//! ```text
//! cargo run --release -p doorkey-backend --example simulate -- \
//!     [--locks N] [--receipts M] [--concurrency C] [--database URL]... [--postgres]
//! ```
//!
//! Defaults: 10,000 locks, 100 receipts each (rounded up to whole visits), 32 clients, a
//! temporary SQLite file unless `--database` names databases (`sqlite://path` or
//! `postgres://...`; repeat it to run on several). `--postgres` adds a throwaway PostgreSQL
//! server (fsync on) started from the system's binaries. The receipts are made once, before
//! any clock starts, and uploaded to each database in turn; only enrolment and uploads are
//! timed.

#[path = "../tests/common/cluster.rs"]
mod cluster;

use std::sync::Arc;
use std::time::{Duration, Instant};

use doorkey::credential::{Chain, Link, LockId, Rights};
use doorkey::crypto::{PublicKey, SecretKey, Signer};
use doorkey::lock::MAX_BACKLOG;
use doorkey::phone::{Credential, PhoneSession};
use doorkey::receipt::{AuditSecret, Parsed, Receipt};
use doorkey::session::Command;
use doorkey_backend::api::{AppState, Limits, now, router};
use doorkey_backend::auth;
use doorkey_backend::db::Db;
use doorkey_backend::demo::{Door, Fail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rand_core::SeedableRng;
use sqlx::Row;

/// One lock as the simulation made it: its keys, its owner, the sealed bundles its owner's
/// phone fetched (in order) and the head of its chain when the visits ended.
struct Made {
    lock: LockId,
    lock_key: PublicKey,
    owner: SecretKey,
    audit: [u8; 32],
    bundles: Vec<Vec<u8>>,
    /// Receipts in each bundle.
    counts: Vec<u64>,
    head_seq: u64,
    head_hash: [u8; 32],
}

struct Options {
    locks: usize,
    receipts: u64,
    concurrency: usize,
    databases: Vec<String>,
    postgres: bool,
}

const USAGE: &str =
    "usage: simulate [--locks N] [--receipts M] [--concurrency C] [--database URL]... [--postgres]";

fn options() -> Result<Options, Fail> {
    let mut o = Options {
        locks: 10_000,
        receipts: 100,
        concurrency: 32,
        databases: Vec::new(),
        postgres: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--postgres" {
            o.postgres = true;
            continue;
        }
        let value = args.next().ok_or(USAGE)?;
        match flag.as_str() {
            "--locks" => o.locks = value.parse()?,
            "--receipts" => o.receipts = value.parse()?,
            "--concurrency" => o.concurrency = value.parse()?,
            "--database" => o.databases.push(value),
            _ => return Err(USAGE.into()),
        }
    }
    if o.locks == 0 || o.concurrency == 0 {
        return Err(USAGE.into());
    }
    Ok(o)
}

/// A lock installed for a fresh owner, visited by the owner's phone until its chain holds at
/// least `receipts` receipts. In each visit's session the phone unlocks and relocks the door
/// as often as the lock's backlog has room for (two receipts each time), then fetches the
/// sealed bundle of the receipts after the last one it fetched.
fn make_lock(receipts: u64, rng: &mut chacha20::ChaCha20Rng) -> Result<Made, Fail> {
    let owner = SecretKey::generate(rng);
    let mut audit_bytes = [0u8; 32];
    rand_core::Rng::fill_bytes(rng, &mut audit_bytes);
    let audit = AuditSecret::from_bytes(audit_bytes);
    let mut door = Door::new(&owner, &audit)?;
    let lock = door.lock.id();
    let phone = SecretKey::generate(rng);
    let link = Link::builder(phone.public_key(), Rights::UNLOCK.union(Rights::LOCK))
        .locks(&[lock])
        .build(rng)?;
    let chain = Chain::root(&owner, &link)?;
    let credential = Credential::new(chain.as_bytes(), &phone)?;
    let (mut bundles, mut counts, mut after) = (Vec::new(), Vec::new(), 0);
    let mut msg = [0u8; 64];
    let mut send = |door: &mut Door, session: &mut PhoneSession, command| -> Result<_, Fail> {
        let k = session.command(command, &mut msg)?;
        let tick = door.tick();
        door.exchange(tick, session, &mut msg[..k])
    };
    while bundles.is_empty() || door.lock.state().receipts.seq < receipts {
        let (opened, mut session) = door.visit(Some(&credential), Command::Unlock)?;
        if opened.reply != "Unlocked" {
            return Err(format!("the lock answered {}", opened.reply).into());
        }
        send(&mut door, &mut session, Command::Lock)?;
        // More unlocks and relocks in the same session while the backlog has room for them.
        loop {
            let seq = door.lock.state().receipts.seq;
            if seq >= receipts || seq - after + 2 > MAX_BACKLOG as u64 {
                break;
            }
            let again = send(&mut door, &mut session, Command::Unlock)?;
            if again.reply != "Unlocked" {
                return Err(format!("the lock answered {}", again.reply).into());
            }
            send(&mut door, &mut session, Command::Lock)?;
        }
        let seq = door.lock.state().receipts.seq;
        let fetched = send(&mut door, &mut session, Command::Receipts { after })?;
        bundles.push(fetched.bundle.ok_or("no receipt bundle")?);
        counts.push(seq - after);
        after = seq;
    }
    let head = door.lock.state().receipts;
    Ok(Made {
        lock,
        lock_key: door.lock.public_key(),
        owner,
        audit: audit_bytes,
        bundles,
        counts,
        head_seq: head.seq,
        head_hash: head.hash,
    })
}

/// Every lock made on all cores at once.
fn make_locks(n: usize, receipts: u64) -> Result<Vec<Made>, Fail> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per = n.div_ceil(threads);
    std::thread::scope(|s| {
        let jobs: Vec<_> = (0..threads)
            .map(|t| {
                let count = per.min(n.saturating_sub(t * per));
                s.spawn(move || -> Result<Vec<Made>, String> {
                    let mut seed = [0u8; 32];
                    getrandom::fill(&mut seed).map_err(|e| e.to_string())?;
                    let mut rng = chacha20::ChaCha20Rng::from_seed(seed);
                    (0..count)
                        .map(|_| make_lock(receipts, &mut rng).map_err(|e| e.to_string()))
                        .collect()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(n);
        for job in jobs {
            all.extend(job.join().map_err(|_| "a maker thread panicked")??);
        }
        Ok(all)
    })
}

/// A keep-alive HTTP/1.1 connection to the server.
async fn connect(addr: std::net::SocketAddr) -> Result<SendRequest<Full<Bytes>>, Fail> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    Ok(sender)
}

/// Sends one request on `conn` (signed by `signer` if given); the status and the body.
async fn send(
    conn: &mut SendRequest<Full<Bytes>>,
    path: &str,
    body: Bytes,
    signer: Option<&SecretKey>,
) -> Result<(u16, Bytes), Fail> {
    let mut request = hyper::Request::post(path).header("host", "doorkey");
    request = request.header(
        "content-type",
        if signer.is_some() {
            "application/json"
        } else {
            "application/octet-stream"
        },
    );
    if let Some(signer) = signer {
        for (name, value) in auth::sign(signer, "POST", path, now(), &body)? {
            request = request.header(name, value);
        }
    }
    conn.ready().await?;
    let answer = conn.send_request(request.body(Full::new(body))?).await?;
    let status = answer.status().as_u16();
    Ok((status, answer.into_body().collect().await?.to_bytes()))
}

/// One request: a path, a body, the lock whose owner signs it (enrolments) and the
/// receipts an upload must store.
struct Job {
    path: String,
    body: Bytes,
    owner: Option<usize>,
    stored: Option<u64>,
}

/// Each client sends its jobs in order on its own keep-alive connection, all clients at
/// once; returns every request's latency. Any answer but 200 (or an upload that stored other
/// than its receipts, or found anything) fails the run.
async fn clients(
    addr: std::net::SocketAddr,
    made: Arc<Vec<Made>>,
    jobs: Vec<Vec<Job>>,
) -> Result<Vec<Duration>, Fail> {
    let mut tasks = Vec::new();
    for list in jobs {
        let made = made.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = connect(addr).await?;
            let mut latencies = Vec::with_capacity(list.len());
            for job in list {
                let signer = job.owner.map(|i| &made[i].owner);
                let t = Instant::now();
                let (status, answer) = send(&mut conn, &job.path, job.body, signer).await?;
                latencies.push(t.elapsed());
                if status != 200 {
                    let why = String::from_utf8_lossy(&answer);
                    return Err(format!("{}: HTTP {status} {why}", job.path).into());
                }
                if let Some(n) = job.stored {
                    let json: serde_json::Value = serde_json::from_slice(&answer)?;
                    if json["stored"] != n || json["findings"] != serde_json::json!([]) {
                        return Err(format!("{}: {n} to store, answered {json}", job.path).into());
                    }
                }
            }
            Ok::<_, Fail>(latencies)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(all)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Every lock's stored chain is its lock's chain: receipts 1 to the lock's head, each
/// linked to the one before, ending at the head's hash; and no finding (fork, gap, broken
/// link, ...) was recorded.
async fn verify(db: &Db, made: &[Made]) -> Result<(), Fail> {
    let findings: i64 = sqlx::query("SELECT COUNT(*) AS n FROM findings")
        .fetch_one(&db.pool)
        .await?
        .try_get("n")?;
    if findings != 0 {
        return Err(format!("{findings} findings recorded").into());
    }
    let mut conn = db.pool.acquire().await?;
    for m in made {
        let rows =
            sqlx::query("SELECT seq, hash, bytes FROM receipts WHERE lock_id = $1 ORDER BY seq")
                .bind(m.lock.0.to_vec())
                .fetch_all(&mut *conn)
                .await?;
        if rows.len() as u64 != m.head_seq {
            return Err(format!(
                "lock {}: {} receipts stored, {} made",
                hex::encode(m.lock.0),
                rows.len(),
                m.head_seq
            )
            .into());
        }
        let mut prev = [0u8; 32];
        for (i, row) in rows.iter().enumerate() {
            let bytes: Vec<u8> = row.try_get("bytes")?;
            let hash: Vec<u8> = row.try_get("hash")?;
            let (parsed, _) = Parsed::<Receipt>::take(&bytes)?;
            let seq: i64 = row.try_get("seq")?;
            if parsed.body.seq != i as u64 + 1
                || seq as u64 != parsed.body.seq
                || parsed.body.prev != prev
                || parsed.hash(&m.lock)[..] != hash[..]
            {
                return Err(format!(
                    "lock {}: the stored chain breaks at {}",
                    hex::encode(m.lock.0),
                    i + 1
                )
                .into());
            }
            prev = parsed.hash(&m.lock);
        }
        if prev != m.head_hash {
            return Err(format!(
                "lock {}: a chain that is not the lock's",
                hex::encode(m.lock.0)
            )
            .into());
        }
    }
    Ok(())
}

/// Enrols the locks and uploads their bundles through a fresh server on `url`, prints the
/// figures and checks what the database holds.
async fn run(url: &str, made: &Arc<Vec<Made>>, c: usize) -> Result<(), Fail> {
    let engine = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let db = Db::open(url).await?;
    // Phones upload far more often here than a lock's rate limit allows one lock in life.
    let limits = Limits {
        uploads_per_minute: i64::MAX,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = router(AppState {
        db: db.clone(),
        limits,
    });
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let mut enrol: Vec<Vec<Job>> = (0..c).map(|_| Vec::new()).collect();
    for (i, m) in made.iter().enumerate() {
        let body = serde_json::json!({
            "lock_key": hex::encode(m.lock_key.0),
            "audit_secret": hex::encode(m.audit),
            "name": "simulated",
        });
        enrol[i % c].push(Job {
            path: "/v1/locks".into(),
            body: body.to_string().into(),
            owner: Some(i),
            stored: None,
        });
    }
    let t = Instant::now();
    clients(addr, made.clone(), enrol).await?;
    println!(
        "enrolled {} locks through POST /v1/locks in {:.1} s",
        made.len(),
        t.elapsed().as_secs_f64()
    );

    // Client c uploads the bundles of the locks with index % C == c, round by round (every
    // one of its locks' first bundle, then every second, ...): the locks' uploads interleave,
    // and each lock's bundles arrive in the order its phone fetched them.
    let receipts: u64 = made.iter().map(|m| m.head_seq).sum();
    let uploads: usize = made.iter().map(|m| m.bundles.len()).sum();
    let rounds = made.iter().map(|m| m.bundles.len()).max().unwrap_or(0);
    let mut jobs: Vec<Vec<Job>> = (0..c).map(|_| Vec::new()).collect();
    for r in 0..rounds {
        for (i, m) in made.iter().enumerate() {
            if let (Some(bundle), Some(&n)) = (m.bundles.get(r), m.counts.get(r)) {
                jobs[i % c].push(Job {
                    path: format!("/v1/locks/{}/receipts", hex::encode(m.lock.0)),
                    body: Bytes::from(bundle.clone()),
                    owner: None,
                    stored: Some(n),
                });
            }
        }
    }
    let t = Instant::now();
    let mut latencies = clients(addr, made.clone(), jobs).await?;
    let wall = t.elapsed().as_secs_f64();
    latencies.sort();
    println!(
        "{engine}: {} locks, {receipts} receipts in {uploads} uploads by {c} clients in {wall:.1} s: \
         {:.0} receipts/s, {:.0} requests/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        made.len(),
        receipts as f64 / wall,
        uploads as f64 / wall,
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        ms(percentile(&latencies, 1.0)),
    );

    verify(&db, made).await?;
    println!(
        "verified: every lock's {} to {} receipts stored, each chain whole and unforked, no findings",
        made.iter().map(|m| m.head_seq).min().unwrap_or(0),
        made.iter().map(|m| m.head_seq).max().unwrap_or(0),
    );
    server.abort();
    db.pool.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Fail> {
    let o = options()?;
    let dir = std::env::temp_dir().join(format!("doorkey-simulate-{}", std::process::id()));
    let cluster = if o.postgres {
        Some(cluster::Cluster::start(true)?)
    } else {
        None
    };
    let mut urls = o.databases.clone();
    if urls.is_empty() {
        std::fs::create_dir_all(&dir)?;
        urls.push(format!("sqlite://{}", dir.join("simulate.db").display()));
    }
    urls.extend(cluster.as_ref().map(cluster::Cluster::url));

    let t = Instant::now();
    let made = Arc::new(make_locks(o.locks, o.receipts)?);
    println!(
        "made {} locks, {} receipts in {} sealed bundles, in {:.1} s (not timed)",
        made.len(),
        made.iter().map(|m| m.head_seq).sum::<u64>(),
        made.iter().map(|m| m.bundles.len()).sum::<usize>(),
        t.elapsed().as_secs_f64()
    );
    let result = async {
        for url in &urls {
            run(url, &made, o.concurrency).await?;
        }
        Ok::<_, Fail>(())
    }
    .await;
    drop(cluster);
    let _ = std::fs::remove_dir_all(&dir);
    result
}
