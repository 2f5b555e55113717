//! The API on SQLite: the delivery story, who may see what, signed requests, the slot rule,
//! uploads (idempotent, any order, bounded, rate-limited, concurrent) and database failures.

mod common;

use common::{Server, World, key, stored_receipts};
use doorkey::crypto::Signer;
use doorkey::server::MAX_UPLOAD_BYTES;
use doorkey_backend::api::{Limits, now};
use doorkey_backend::auth;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_delivery_story_reaches_the_owner_timeline() {
    let s = Server::sqlite(Limits::default()).await;
    common::delivery_story(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_company_sees_only_its_own_orders() {
    let s = Server::sqlite(Limits::default()).await;
    let w = World::new(&s).await;
    assert_eq!(w.book(&s, "order-1", now(), now() + 600).await.status, 200);
    let other = key();
    assert_eq!(
        s.post("/v1/companies", json!({ "name": "Rival" }), &other)
            .await
            .status,
        200
    );
    let theirs = s.get("/v1/orders/order-1", Some(&other)).await;
    assert_eq!(theirs.status, 404);
    assert_eq!(
        s.get("/v1/orders", Some(&other)).await.json(),
        json!({ "orders": [] })
    );
    let mine = s.get("/v1/orders/order-1", Some(&w.company)).await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.json()["lock"], w.lock);
    assert_eq!(
        s.get("/v1/orders", Some(&w.company)).await.json()["orders"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Booking for a lock whose owner never delegated to it is refused.
    let body = json!({
        "order_id": "order-2", "lock": w.lock, "courier": hex::encode(w.courier.public_key().0),
        "slot_start": now(), "slot_end": now() + 600,
    });
    assert_eq!(s.post("/v1/orders", body, &other).await.status, 403);
    // Nor can it mint a grant under the first company's order.
    let path = format!(
        "/v1/companies/{}/orders/order-1/grant",
        hex::encode(other.public_key().0)
    );
    assert_eq!(s.post(&path, json!({}), &w.courier).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_sees_only_their_own_locks() {
    let s = Server::sqlite(Limits::default()).await;
    let w = World::new(&s).await;
    let stranger = key();
    let timeline = s
        .get(&format!("/v1/locks/{}/timeline", w.lock), Some(&stranger))
        .await;
    assert_eq!(timeline.status, 404);
    assert_eq!(
        s.get("/v1/locks", Some(&stranger)).await.json(),
        json!({ "locks": [] })
    );
    let mine = s.get("/v1/locks", Some(&w.owner)).await.json();
    assert_eq!(mine["locks"][0]["lock"], w.lock);
    // Nor may a stranger claim the lock, or queue an update for it.
    let claim = json!({
        "lock_key": hex::encode(w.door.lock.public_key().0),
        "audit_secret": hex::encode([0u8; 32]),
        "name": "mine now",
    });
    assert_eq!(s.post("/v1/locks", claim, &stranger).await.status, 409);
    let queued = s
        .post(
            &format!("/v1/locks/{}/updates", w.lock),
            json!({ "update": "00" }),
            &stranger,
        )
        .await;
    assert_eq!(queued.status, 404);
    assert_eq!(w.timeline(&s).await["visits"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_altered_stale_and_unsigned_requests_are_refused() {
    let s = Server::sqlite(Limits::default()).await;
    let owner = key();
    let path = "/v1/locks";
    let send = |headers: Vec<(&'static str, String)>| {
        let addr = s.client.addr;
        async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut req = format!(
                "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n"
            );
            for (k, v) in headers {
                req.push_str(&format!("{k}: {v}\r\n"));
            }
            req.push_str("\r\n");
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            stream.write_all(req.as_bytes()).await.unwrap();
            let mut out = String::new();
            stream.read_to_string(&mut out).await.unwrap();
            out
        }
    };
    let signed = auth::sign(&owner, "GET", path, now(), b"")
        .unwrap()
        .to_vec();
    assert!(send(signed.clone()).await.starts_with("HTTP/1.1 200"));
    let replay = send(signed.clone()).await;
    assert!(
        replay.starts_with("HTTP/1.1 401") && replay.contains("request replayed"),
        "{replay}"
    );
    let stale = auth::sign(
        &owner,
        "GET",
        path,
        now() - auth::REPLAY_WINDOW_SECS - 5,
        b"",
    )
    .unwrap();
    let stale = send(stale.to_vec()).await;
    assert!(stale.contains("outside the replay window"), "{stale}");
    // Signed for another path.
    let moved = auth::sign(&owner, "GET", "/v1/orders", now(), b"").unwrap();
    assert!(send(moved.to_vec()).await.contains("bad request signature"));
    // Signed for a body that was not sent.
    let body = auth::sign(&owner, "GET", path, now(), b"{}").unwrap();
    assert!(send(body.to_vec()).await.contains("bad request signature"));
    assert!(send(Vec::new()).await.starts_with("HTTP/1.1 401"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_is_minted_only_inside_the_slot_for_the_booked_courier() {
    let s = Server::sqlite(Limits::default()).await;
    let w = World::new(&s).await;
    let t = now();
    assert_eq!(w.book(&s, "early", t + 3600, t + 7200).await.status, 200);
    assert_eq!(w.book(&s, "late", t - 7200, t - 3600).await.status, 200);
    assert_eq!(w.book(&s, "now", t - 60, t + 1800).await.status, 200);
    assert_eq!(
        w.book(&s, "now", t - 60, t + 1801).await.status,
        409,
        "booked once"
    );
    let grant = |order: &str| format!("/v1/companies/{}/orders/{order}/grant", w.company_hex);
    for order in ["early", "late"] {
        let refused = s.post(&grant(order), json!({}), &w.courier).await;
        assert_eq!(refused.status, 403, "{order}");
        assert!(
            refused.json()["error"]
                .as_str()
                .unwrap()
                .starts_with("outside the order's delivery slot")
        );
    }
    let someone = key();
    let wrong = s.post(&grant("now"), json!({}), &someone).await;
    assert_eq!(wrong.status, 403);
    assert_eq!(
        wrong.json()["error"],
        "the order is booked for another courier's device"
    );
    let minted = s
        .post(&grant("now"), json!({ "valid_for": 600 }), &w.courier)
        .await;
    assert_eq!(minted.status, 200, "{:?}", minted.json());
    let chain = doorkey::credential::Chain::from_bytes(
        &hex::decode(minted.json()["grant"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let leaf = chain.leaf().unwrap();
    assert_eq!(leaf.subject, w.courier.public_key());
    assert_eq!(leaf.uses, Some(1));
    assert_eq!(leaf.purpose, Some(doorkey::server::purpose_of(b"now")));
    assert_eq!(
        minted.json()["not_after"],
        leaf.not_after().unwrap().as_secs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_idempotent_and_accepted_in_any_order() {
    let s = Server::sqlite(Limits::default()).await;
    let mut w = World::new(&s).await;
    w.open_and_relock();
    let early = w.bundle();
    w.open_and_relock();
    let late = w.bundle();
    let first = s.upload(&w.lock, &late).await.json();
    assert_eq!(first["findings"], json!([]));
    let all = first["stored"].as_u64().unwrap();
    assert!(all >= 7, "{first}");
    assert_eq!(first["ack"]["seq"].as_u64(), Some(all));
    for bundle in [&early, &late, &early] {
        let again = s.upload(&w.lock, bundle).await.json();
        assert_eq!(again["stored"], 0);
        assert_eq!(again["findings"], json!([]));
    }
    assert_eq!(stored_receipts(&s, &w.lock).await as u64, all);
    let ack = s
        .get(&format!("/v1/locks/{}/ack", w.lock), None)
        .await
        .json();
    assert_eq!(ack["ack"]["seq"].as_u64(), Some(all));
    let timeline = w.timeline(&s).await;
    assert_eq!(timeline["visits"].as_array().unwrap().len(), 2);
    assert_eq!(timeline["alerts"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_uploads_are_refused_and_garbage_is_a_finding() {
    let s = Server::sqlite(Limits::default()).await;
    let w = World::new(&s).await;
    let too_big = vec![0u8; MAX_UPLOAD_BYTES + 1];
    assert_eq!(s.upload(&w.lock, &too_big).await.status, 413);
    let garbage = s.upload(&w.lock, b"not a sealed bundle").await;
    assert_eq!(garbage.status, 200);
    assert_eq!(garbage.json()["stored"], 0);
    assert_eq!(
        garbage.json()["findings"][0]["finding"],
        "item 0 of an upload could not be read"
    );
    let unknown = s.upload(&hex::encode([7u8; 16]), b"x").await;
    assert_eq!(unknown.status, 404);
    let timeline = w.timeline(&s).await;
    assert_eq!(
        timeline["alerts"],
        json!(["item 0 of an upload could not be read"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_rate_limited_per_lock() {
    let s = Server::sqlite(Limits {
        uploads_per_minute: 2,
    })
    .await;
    let mut a = World::new(&s).await;
    let b = World::new(&s).await;
    a.open_and_relock();
    let bundle = a.bundle();
    // Two per minute: a third inside the same minute is refused (unless the minute turned
    // between them, when the count starts again).
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(s.upload(&a.lock, &bundle).await.status);
    }
    assert!(
        statuses == [200, 200, 429] || statuses.contains(&200) && now() % 60 < 2,
        "{statuses:?}"
    );
    assert_eq!(
        s.upload(&b.lock, b"x").await.status,
        200,
        "another lock is not limited"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_uploads_never_fork_the_stored_chain() {
    let s = Server::sqlite(Limits {
        uploads_per_minute: 1000,
    })
    .await;
    common::parallel_uploads(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_failure_is_an_http_error_not_a_panic() {
    let s = Server::sqlite(Limits::default()).await;
    common::database_failure_is_an_http_error(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_not_signed_by_the_owner_is_not_queued() {
    let s = Server::sqlite(Limits::default()).await;
    let mut w = World::new(&s).await;
    let stranger = key();
    let mut buf = [0u8; 256];
    let forged = doorkey::config::ConfigUpdate {
        lock: w.door.lock.id(),
        version: 5,
        signer: stranger.public_key(),
        change: doorkey::config::Change::RevokeKey(w.courier.public_key()),
    };
    let n = forged.sign(&stranger, &mut buf).unwrap();
    let path = format!("/v1/locks/{}/updates", w.lock);
    let refused = s
        .post(&path, json!({ "update": hex::encode(&buf[..n]) }), &w.owner)
        .await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.json()["error"],
        "the update is not signed by the lock's owner"
    );
    // Version 1 (the audit key) is applied once the lock's receipts say so.
    w.open_and_relock();
    let bundle = w.bundle();
    assert_eq!(s.upload(&w.lock, &bundle).await.status, 200);
    let old = doorkey::config::ConfigUpdate {
        version: 1,
        signer: w.owner.public_key(),
        ..forged
    };
    let n = old.sign(&w.owner, &mut buf).unwrap();
    let stale = s
        .post(&path, json!({ "update": hex::encode(&buf[..n]) }), &w.owner)
        .await;
    assert_eq!(stale.status, 409, "{:?}", stale.json());
    assert_eq!(s.get(&path, None).await.json(), json!({ "updates": [] }));
}
