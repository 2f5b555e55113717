//! The same cases on PostgreSQL: against `DATABASE_URL` when it names a `postgres://`
//! server, else against a server this test starts in a temporary directory from the
//! system's PostgreSQL binaries (`/usr/lib/postgresql/<version>/bin`; as root, through
//! `runuser -u postgres`, since `initdb` refuses root). Without either it says so loudly and
//! skips, unless `DOORKEY_REQUIRE_POSTGRES=1` (set by `.ci/run`), when it fails.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{Server, TempDir};
use doorkey_backend::api::Limits;

/// A PostgreSQL server this test started; stopped on drop.
struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    as_postgres: bool,
    port: u16,
    _dir: TempDir,
}

impl Cluster {
    fn command(bin: &std::path::Path, tool: &str, as_postgres: bool) -> Command {
        if as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
            c
        } else {
            Command::new(bin.join(tool))
        }
    }

    fn start() -> Result<Cluster, String> {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|_| "no /usr/lib/postgresql".to_owned())?
            .filter_map(|e| Some(e.ok()?.path().join("bin")))
            .filter(|bin| bin.join("initdb").exists())
            .collect();
        versions.sort();
        let bin = versions
            .pop()
            .ok_or("no initdb under /usr/lib/postgresql/*/bin")?;
        let uid = Command::new("id")
            .arg("-u")
            .output()
            .map_err(|e| e.to_string())?;
        let as_postgres = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        let dir = TempDir::new("pg");
        let data = dir.0.join("data");
        if as_postgres {
            let chown = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(&dir.0)
                .status();
            if !chown.is_ok_and(|s| s.success()) {
                return Err(
                    "running as root and cannot hand the directory to user postgres".into(),
                );
            }
        }
        let init = Self::command(&bin, "initdb", as_postgres)
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&data)
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !init.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&init.stderr)
            ));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            dir.0.display()
        );
        let started = Self::command(&bin, "pg_ctl", as_postgres)
            .arg("-D")
            .arg(&data)
            .args(["-o", &options, "-l"])
            .arg(dir.0.join("log"))
            .args(["-w", "start"])
            .output()
            .map_err(|e| format!("pg_ctl: {e}"))?;
        if !started.status.success() {
            let log = std::fs::read_to_string(dir.0.join("log")).unwrap_or_default();
            return Err(format!("pg_ctl start failed: {log}"));
        }
        Ok(Cluster {
            bin,
            data,
            as_postgres,
            port,
            _dir: dir,
        })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Self::command(&self.bin, "pg_ctl", self.as_postgres)
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

/// A fresh database on the server at `url` (whose path names an existing database).
async fn fresh_database(url: &str, name: &str) -> String {
    use sqlx::any::{AnyPoolOptions, install_default_drivers};
    install_default_drivers();
    let admin = AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let base = url.rsplit_once('/').map_or(url, |(b, _)| b);
    format!("{base}/{name}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_on_postgresql() {
    let given = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"));
    let (_cluster, url) = match given {
        Some(url) => (None, url),
        None => match Cluster::start() {
            Ok(c) => {
                let url = format!("postgres://postgres@127.0.0.1:{}/postgres", c.port);
                (Some(c), url)
            }
            Err(why) => {
                let message = format!(
                    "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                     !! SKIPPED: the PostgreSQL tests did NOT run: no DATABASE_URL and\n\
                     !! no PostgreSQL to start here ({why}).\n\
                     !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
                );
                assert!(
                    std::env::var_os("DOORKEY_REQUIRE_POSTGRES").is_none(),
                    "{message}"
                );
                eprintln!("{message}");
                return;
            }
        },
    };
    let tag = std::process::id();
    let s = Server::on(
        &fresh_database(&url, &format!("doorkey_story_{tag}")).await,
        Limits::default(),
        None,
    )
    .await;
    common::delivery_story(&s).await;
    let s = Server::on(
        &fresh_database(&url, &format!("doorkey_parallel_{tag}")).await,
        Limits {
            uploads_per_minute: 1000,
        },
        None,
    )
    .await;
    common::parallel_uploads(&s).await;
    let s = Server::on(
        &fresh_database(&url, &format!("doorkey_failure_{tag}")).await,
        Limits::default(),
        None,
    )
    .await;
    common::database_failure_is_an_http_error(&s).await;
    // Migrations are applied once: opening the database again finds them done.
    let again = fresh_database(&url, &format!("doorkey_reopen_{tag}")).await;
    doorkey_backend::db::Db::open(&again).await.unwrap();
    doorkey_backend::db::Db::open(&again).await.unwrap();
    println!("PostgreSQL tests ran against {url}");
}
