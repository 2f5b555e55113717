//! Nothing acknowledged is lost: the server binary is killed with SIGKILL in the middle of a
//! stream of uploads, restarted on the same SQLite file, and still holds every receipt it
//! acknowledged.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Server, TempDir, World};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Starts the server binary on `db`; returns it and its address (read from its first line).
async fn start(db: &str) -> (Child, Server) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_doorkey-backend"))
        .args([
            "serve",
            "--database",
            db,
            "--listen",
            "127.0.0.1:0",
            "--uploads-per-minute",
            "100000",
        ])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the server");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).await.unwrap();
    let addr = line
        .trim()
        .strip_prefix("doorkey-backend listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();
    (child, Server::remote(addr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_receipt_survives_a_kill_during_uploads() {
    let dir = TempDir::new("kill");
    let db = format!("sqlite://{}", dir.0.join("ledger.db").display());
    let (mut child, s) = start(&db).await;
    let mut w = World::new(&s).await;

    // Uploads stream in one after another; the server is killed 1.5 s in, mid-stream.
    let killer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        child.start_kill().unwrap();
        child.wait().await.unwrap()
    });
    let mut acknowledged = 0;
    let mut visits = 0;
    let mut refused = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        w.open_and_relock();
        let bundle = w.bundle();
        match s
            .client
            .send(
                "POST",
                &format!("/v1/locks/{}/receipts", w.lock),
                &bundle,
                None,
            )
            .await
        {
            Ok(answer) if answer.status == 200 => {
                acknowledged = w.carry_ack(&answer.json());
                visits += 1;
            }
            // The connection dropped or was refused: the server is gone.
            _ => {
                refused += 1;
                break;
            }
        }
    }
    let status = killer.await.unwrap();
    assert!(!status.success(), "killed, not exited: {status:?}");
    assert_eq!(refused, 1, "the stream ended when the server died");
    assert!(visits >= 5, "only {visits} uploads before the kill");

    let (_child, s) = start(&db).await;
    let ack = s
        .get(&format!("/v1/locks/{}/ack", w.lock), None)
        .await
        .json();
    let held = ack["ack"]["seq"]
        .as_u64()
        .expect("an acknowledgement after restart");
    assert!(
        held >= acknowledged,
        "acknowledged {acknowledged}, held {held}"
    );
    let timeline = w.timeline(&s).await;
    assert_eq!(timeline["alerts"], json!([]), "no gap or broken link");
    assert!(timeline["visits"].as_array().unwrap().len() >= visits);
    println!(
        "{visits} uploads acknowledged (receipts 1..={acknowledged}) before SIGKILL; all there after restart"
    );
}
