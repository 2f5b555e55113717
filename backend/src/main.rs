//! `doorkey-backend serve [--database URL] [--listen ADDR]` runs the server (SQLite file
//! `doorkey.db` by default; `DATABASE_URL` is read too); `doorkey-backend demo` walks the
//! delivery story over HTTP against an in-process lock and phone.

use std::process::ExitCode;

use doorkey_backend::{Db, Limits, demo, serve};

const USAGE: &str = "usage: doorkey-backend serve [--database URL] [--listen ADDR] [--uploads-per-minute N]\n       doorkey-backend demo";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo::run().await.map_err(|e| e.to_string()),
        Some("serve") => run_server(&args[1..]).await,
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("doorkey-backend: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run_server(args: &[String]) -> Result<(), String> {
    let mut database =
        std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://doorkey.db".to_owned());
    let mut listen = "127.0.0.1:8080".to_owned();
    let mut limits = Limits::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(USAGE)?;
        match flag.as_str() {
            "--database" => database = value.clone(),
            "--listen" => listen = value.clone(),
            "--uploads-per-minute" => {
                limits.uploads_per_minute = value.parse().map_err(|_| USAGE)?
            }
            _ => return Err(USAGE.to_owned()),
        }
    }
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| format!("listen on {listen}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let db = Db::open(&database)
        .await
        .map_err(|e| format!("database {database}: {e}"))?;
    // Tests and scripts read this line to find the port: the database is open and migrated.
    println!("doorkey-backend listening on {addr}");
    serve(db, listener, limits).await.map_err(|e| e.to_string())
}
