//! The owner page: server-rendered HTML with each lock's visits, alerts and findings in plain
//! words. A browser reaches it through a link the owner's app asks for with a signed request
//! (the link holds a random token, valid for an hour; the server keeps only its hash).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use doorkey::credential::LockId;
use doorkey::crypto::{PublicKey, hash};
use serde_json::{Value, json};
use sqlx::Row;

use crate::api::{ApiError, AppState, now};
use crate::words;

/// How long a page link works (seconds).
pub const PAGE_LINK_SECS: u64 = 3600;

fn token_hash(token: &[u8]) -> Vec<u8> {
    hash::<32>(&[b"doorkey-backend/v1/page-token\0", token]).to_vec()
}

/// The owner asks for a link to their page.
pub async fn page_link(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let owner = crate::api::signer(&state, &method, &uri, &headers, &body).await?;
    let mut token = [0u8; 32];
    getrandom::fill(&mut token).map_err(|e| ApiError::internal(format!("randomness: {e}")))?;
    let expires = now() + PAGE_LINK_SECS;
    sqlx::query("INSERT INTO page_tokens (token, owner_key, expires) VALUES ($1, $2, $3)")
        .bind(token_hash(&token))
        .bind(owner.0.to_vec())
        .bind(i64::try_from(expires).unwrap_or(i64::MAX))
        .execute(&state.db.pool)
        .await?;
    Ok(Json(
        json!({ "path": format!("/owner/{}", hex::encode(token)), "expires": expires }),
    ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page itself.
pub async fn owner_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let Ok(token) = hex::decode(&token) else {
        return Ok((StatusCode::NOT_FOUND, Html("<p>Unknown link.</p>")).into_response());
    };
    let row = sqlx::query("SELECT owner_key, expires FROM page_tokens WHERE token = $1")
        .bind(token_hash(&token))
        .fetch_optional(&state.db.pool)
        .await?;
    let owner = match row {
        Some(r) if u64::try_from(r.try_get::<i64, _>("expires")?).unwrap_or(0) > now() => {
            let key: Vec<u8> = r.try_get("owner_key")?;
            PublicKey(
                key.try_into()
                    .map_err(|_| ApiError::internal("stored owner key"))?,
            )
        }
        _ => {
            return Ok((
                StatusCode::NOT_FOUND,
                Html("<p>This link is unknown or has expired: ask the app for a new one.</p>"),
            )
                .into_response());
        }
    };
    let locks =
        sqlx::query("SELECT lock_id, lock_key, name FROM locks WHERE owner_key = $1 ORDER BY name")
            .bind(owner.0.to_vec())
            .fetch_all(&state.db.pool)
            .await?;
    let mut html = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Your locks</title></head><body><h1>Your locks</h1>",
    );
    for l in &locks {
        let id: Vec<u8> = l.try_get("lock_id")?;
        let key: Vec<u8> = l.try_get("lock_key")?;
        let name: String = l.try_get("name")?;
        let lock = LockId(
            id.try_into()
                .map_err(|_| ApiError::internal("stored lock id"))?,
        );
        let key = PublicKey(
            key.try_into()
                .map_err(|_| ApiError::internal("stored lock key"))?,
        );
        let story = words::story(&state, lock, key).await?;
        html.push_str(&format!(
            "<section><h2>{}</h2><h3>Visits</h3><ul class=\"visits\">",
            escape(&name)
        ));
        if story.visits.is_empty() {
            html.push_str("<li>No visits yet.</li>");
        }
        for v in &story.visits {
            html.push_str(&format!("<li>{}</li>", escape(&v.summary)));
        }
        html.push_str("</ul><h3>Alerts</h3><ul class=\"alerts\">");
        if story.alerts.is_empty() {
            html.push_str("<li>No alerts.</li>");
        }
        for a in &story.alerts {
            html.push_str(&format!("<li>{}</li>", escape(a)));
        }
        html.push_str("</ul></section>");
    }
    html.push_str("</body></html>");
    Ok(Html(html).into_response())
}
