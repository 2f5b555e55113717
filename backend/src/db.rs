//! The database: one `sqlx::Any` pool over SQLite (a file, the default) or PostgreSQL (a
//! `postgres://` URL), and the migrations applied at start.

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use std::sync::Arc;

use sqlx::{AnyPool, Row};
use tokio::sync::Mutex;

/// Which engine a URL names: the SQL is the same (`$1` placeholders, `ON CONFLICT`,
/// `RETURNING`), only the migrations differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Migrations in order: (version, SQLite text, PostgreSQL text).
const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    include_str!("../migrations/sqlite/0001_ledger.sql"),
    include_str!("../migrations/postgres/0001_ledger.sql"),
)];

/// The shared handle every request uses; the server keeps no other state.
#[derive(Clone, Debug)]
pub struct Db {
    /// The connection pool.
    pub pool: AnyPool,
    /// The engine behind it.
    pub dialect: Dialect,
    /// SQLite lets one transaction write at a time, and one that finds the file locked
    /// sleeps and retries; receipt uploads queue here for their turn instead. (PostgreSQL
    /// locks rows: uploads for different locks are filed at once.)
    pub(crate) sqlite_writer: Arc<Mutex<()>>,
}

impl Db {
    /// Connects to `url` (`sqlite://path` creates the file; `postgres://...`) and applies the
    /// migrations it does not yet have.
    pub async fn open(url: &str) -> Result<Db, sqlx::Error> {
        install_default_drivers();
        let dialect = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            Dialect::Sqlite
        };
        let url = match dialect {
            Dialect::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_owned(),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .connect(&url)
            .await?;
        if dialect == Dialect::Sqlite {
            // Readers (timelines) do not wait for an upload's write, nor it for them.
            sqlx::raw_sql("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let db = Db {
            pool,
            dialect,
            sqlite_writer: Arc::default(),
        };
        db.migrate().await?;
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::raw_sql("CREATE TABLE IF NOT EXISTS doorkey_migrations (version BIGINT PRIMARY KEY)")
            .execute(&mut *tx)
            .await?;
        let done: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) FROM doorkey_migrations")
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        for &(version, sqlite, postgres) in MIGRATIONS.iter().filter(|m| m.0 > done) {
            let sql = match self.dialect {
                Dialect::Sqlite => sqlite,
                Dialect::Postgres => postgres,
            };
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO doorkey_migrations (version) VALUES ($1)")
                .bind(version)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }
}
