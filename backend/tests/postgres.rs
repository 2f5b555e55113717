//! The same cases on PostgreSQL: against `DATABASE_URL` when it names a `postgres://`
//! server, else against a server this test starts in a temporary directory from the
//! system's PostgreSQL binaries (`common/cluster.rs`). Without either it says so loudly and
//! skips, unless `DOORKEY_REQUIRE_POSTGRES=1` (set by `.ci/run`), when it fails.

mod common;

use common::Server;
use common::cluster::Cluster;
use doorkey_backend::api::Limits;

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
        None => match Cluster::start(false) {
            Ok(c) => {
                let url = c.url();
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
