//! The HTTP API (JSON; receipt uploads are raw bytes). `openapi.yaml` documents every route
//! in [`ROUTES`], and a test holds the two to each other.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use doorkey::config::ConfigUpdate;
use doorkey::credential::{Chain, LockId, Rights, Verifier};
use doorkey::crypto::{PublicKey, SecretKey, Signer, labels};
use doorkey::receipt::AuditSecret;
use doorkey::server::{Delivery, Finding, Issuer, MAX_UPLOAD_BYTES};
use doorkey::time::{Seconds, TzRule, UnixTime};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::auth::{self, hex32};
use crate::db::Db;
use crate::ledger::{self, LockKeys, Rate, Upload};
use crate::page::{owner_page, page_link};
use crate::words;

/// An error answer: a status and a sentence for the caller. Database failures are 5xx.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
    /// A failure of the server itself (500).
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
    fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
    fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, message)
    }
    fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }
    fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, message)
    }
    pub(crate) fn no_such_lock() -> ApiError {
        ApiError::not_found("no such lock")
    }
    pub(crate) fn rate_limited() -> ApiError {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many uploads for this lock this minute",
        )
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        eprintln!("doorkey-backend: database error: {e}");
        let status = match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, "database error")
    }
}

impl From<doorkey::Error> for ApiError {
    fn from(e: doorkey::Error) -> ApiError {
        match e {
            doorkey::Error::Storage => ApiError::internal("storage failure"),
            doorkey::Error::Oversize => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()),
            _ => ApiError::bad(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

type ApiResult = Result<Json<Value>, ApiError>;

/// Limits the server enforces per lock.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Receipt uploads accepted per lock per minute (the rest get 429).
    pub uploads_per_minute: i64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            uploads_per_minute: 120,
        }
    }
}

/// What every request handler shares: the database and the limits. Nothing else lives
/// between requests, so any number of instances can serve one PostgreSQL.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Per-lock limits.
    pub limits: Limits,
}

/// The server's clock, in UNIX seconds.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn int(v: u64) -> Result<i64, ApiError> {
    i64::try_from(v).map_err(|_| ApiError::bad("number out of range"))
}

fn parse_json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad(format!("request body: {e}")))
}

fn key_hex(s: &str, what: &str) -> Result<PublicKey, ApiError> {
    let key =
        PublicKey(hex32(s).ok_or_else(|| ApiError::bad(format!("{what}: not 32 bytes of hex")))?);
    key.validate()
        .map_err(|_| ApiError::bad(format!("{what}: not a valid Ed25519 key")))?;
    Ok(key)
}

fn lock_hex(s: &str) -> Result<LockId, ApiError> {
    hex::decode(s)
        .ok()
        .and_then(|v| v.try_into().ok())
        .map(LockId)
        .ok_or_else(|| ApiError::bad("lock id: not 16 bytes of hex"))
}

fn bytes_hex(s: &str, what: &str) -> Result<Vec<u8>, ApiError> {
    hex::decode(s).map_err(|_| ApiError::bad(format!("{what}: not hex")))
}

fn rng() -> Result<chacha20::ChaCha20Rng, ApiError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| ApiError::internal(format!("randomness: {e}")))?;
    Ok(rand_core::SeedableRng::from_seed(seed))
}

/// The authenticated signer of a request, each signature accepted once.
pub(crate) async fn signer(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<PublicKey, ApiError> {
    let now = now();
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let (key, sig, time) = auth::verify(method.as_str(), path, headers, body, now)
        .map_err(|m| ApiError::new(StatusCode::UNAUTHORIZED, m))?;
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("DELETE FROM seen_requests WHERE at < $1")
        .bind(int(now.saturating_sub(auth::REPLAY_WINDOW_SECS))?)
        .execute(&mut *tx)
        .await?;
    let fresh = sqlx::query(
        "INSERT INTO seen_requests (signature, at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(sig.to_vec())
    .bind(int(time)?)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    tx.commit().await?;
    if !fresh {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "request replayed"));
    }
    Ok(key)
}

macro_rules! api {
    ($($method:ident $path:literal => $handler:ident,)*) => {
        /// Every route the server answers, as (method, path): `openapi.yaml` lists exactly these.
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),*];

        /// The API's router over `state`.
        pub fn router(state: AppState) -> Router {
            Router::new()
                $(.route($path, axum::routing::$method($handler)))*
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
                .with_state(state)
        }
    };
}

api! {
    get "/v1/health" => health,
    post "/v1/companies" => register_company,
    post "/v1/locks" => enrol_lock,
    get "/v1/locks" => list_locks,
    put "/v1/locks/{lock}/delegations/{company}" => store_delegation,
    post "/v1/locks/{lock}/receipts" => upload_receipts,
    get "/v1/locks/{lock}/ack" => latest_ack,
    get "/v1/locks/{lock}/timeline" => lock_timeline,
    post "/v1/locks/{lock}/updates" => queue_update,
    get "/v1/locks/{lock}/updates" => pending_updates,
    post "/v1/orders" => book_order,
    get "/v1/orders" => list_orders,
    get "/v1/orders/{order}" => get_order,
    post "/v1/companies/{company}/orders/{order}/grant" => mint_grant,
    get "/owner/{token}" => owner_page,
    post "/v1/owner-page" => page_link,
}

async fn health(State(state): State<AppState>) -> ApiResult {
    sqlx::query("SELECT 1").execute(&state.db.pool).await?;
    Ok(Json(json!({ "status": "ok" })))
}

#[derive(Deserialize)]
struct CompanyIn {
    name: String,
}

/// A company registers under the key it signs with; the server makes the company's issuing
/// key, which the owners' delegations name (the server mints with it).
async fn register_company(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let company = signer(&state, &method, &uri, &headers, &body).await?;
    let input: CompanyIn = parse_json(&body)?;
    let issuing = SecretKey::generate(&mut rng()?);
    sqlx::query(
        "INSERT INTO companies (company_key, name, issuing_seed, issuing_key) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (company_key) DO UPDATE SET name = excluded.name",
    )
    .bind(company.0.to_vec())
    .bind(input.name)
    .bind(issuing.to_seed().to_vec())
    .bind(issuing.public_key().0.to_vec())
    .execute(&state.db.pool)
    .await?;
    let row = sqlx::query("SELECT issuing_key FROM companies WHERE company_key = $1")
        .bind(company.0.to_vec())
        .fetch_one(&state.db.pool)
        .await?;
    let issuing_key: Vec<u8> = row.try_get("issuing_key")?;
    Ok(Json(json!({
        "company": hex::encode(company.0),
        "issuing_key": hex::encode(issuing_key),
    })))
}

#[derive(Deserialize)]
struct LockIn {
    lock_key: String,
    audit_secret: String,
    name: String,
}

/// The owner enrols a lock: its public key, and the audit secret its receipts are sealed to.
async fn enrol_lock(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let owner = signer(&state, &method, &uri, &headers, &body).await?;
    let input: LockIn = parse_json(&body)?;
    let lock_key = key_hex(&input.lock_key, "lock_key")?;
    let audit = hex32(&input.audit_secret)
        .ok_or_else(|| ApiError::bad("audit_secret: not 32 bytes of hex"))?;
    let lock = LockId::of(&lock_key);
    let done = sqlx::query(
        "INSERT INTO locks (lock_id, lock_key, owner_key, audit_secret, name) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (lock_id) DO UPDATE SET audit_secret = excluded.audit_secret, name = excluded.name \
         WHERE locks.owner_key = excluded.owner_key",
    )
    .bind(lock.0.to_vec())
    .bind(lock_key.0.to_vec())
    .bind(owner.0.to_vec())
    .bind(audit.to_vec())
    .bind(input.name)
    .execute(&state.db.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::conflict("the lock is enrolled to another owner"));
    }
    Ok(Json(json!({ "lock": hex::encode(lock.0) })))
}

async fn list_locks(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let owner = signer(&state, &method, &uri, &headers, &body).await?;
    let rows = sqlx::query("SELECT lock_id, name FROM locks WHERE owner_key = $1 ORDER BY name")
        .bind(owner.0.to_vec())
        .fetch_all(&state.db.pool)
        .await?;
    let locks: Result<Vec<Value>, sqlx::Error> = rows
        .iter()
        .map(|r| {
            Ok(json!({
                "lock": hex::encode(r.try_get::<Vec<u8>, _>("lock_id")?),
                "name": r.try_get::<String, _>("name")?,
            }))
        })
        .collect();
    Ok(Json(json!({ "locks": locks? })))
}

/// A lock's row, refused unless `owner` owns it.
pub(crate) async fn owned_lock(
    state: &AppState,
    lock: LockId,
    owner: &PublicKey,
) -> Result<AnyRow, ApiError> {
    let row = sqlx::query(
        "SELECT lock_key, owner_key, name, config_version FROM locks WHERE lock_id = $1",
    )
    .bind(lock.0.to_vec())
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or_else(|| ApiError::not_found("no such lock"))?;
    let held: Vec<u8> = row.try_get("owner_key")?;
    if held != owner.0 {
        // Another owner's lock is reported as absent, not as forbidden.
        return Err(ApiError::not_found("no such lock"));
    }
    Ok(row)
}

fn key_col(row: &AnyRow, col: &str) -> Result<PublicKey, ApiError> {
    let v: Vec<u8> = row.try_get(col)?;
    v.try_into()
        .map(PublicKey)
        .map_err(|_| ApiError::internal(format!("stored {col} is not a key")))
}

#[derive(Deserialize)]
struct DelegationIn {
    chain: String,
}

/// The owner stores the delegation chain to a company's issuing key, checked here as a lock
/// would: signed by this lock's owner, scoped to this lock, ending at the company's key,
/// allowing further delegation, not expired.
async fn store_delegation(
    State(state): State<AppState>,
    Path((lock, company)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let owner = signer(&state, &method, &uri, &headers, &body).await?;
    let lock = lock_hex(&lock)?;
    let company = key_hex(&company, "company")?;
    owned_lock(&state, lock, &owner).await?;
    let issuing = sqlx::query("SELECT issuing_key FROM companies WHERE company_key = $1")
        .bind(company.0.to_vec())
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(|| ApiError::not_found("no such company"))?;
    let issuing = key_col(&issuing, "issuing_key")?;
    let input: DelegationIn = parse_json(&body)?;
    let chain = Chain::from_bytes(&bytes_hex(&input.chain, "chain")?)?;
    let decoded = chain.decode()?;
    let leaf = decoded.leaf();
    if !leaf.subject.ct_eq(&issuing.into()) {
        return Err(ApiError::bad(
            "the chain does not end at the company's issuing key",
        ));
    }
    let verifier = Verifier {
        lock,
        owners: &[owner],
        epoch: decoded.links().map(|l| l.epoch).min().unwrap_or(0),
        revocations: &(),
        now: Some(UnixTime::from_secs(now())),
        tz: TzRule::UTC,
    };
    match decoded.verify(&verifier) {
        // Not yet valid or outside its schedule now is fine: grants are minted later.
        Ok(_) | Err(doorkey::Error::NotYetValid | doorkey::Error::OutsideSchedule) => {}
        Err(e) => return Err(ApiError::bad(format!("delegation refused: {e}"))),
    }
    if !leaf.rights.contains(Rights::DELEGATE) {
        return Err(ApiError::bad(
            "the delegation does not allow the company to issue grants",
        ));
    }
    sqlx::query(
        "INSERT INTO delegations (lock_id, company_key, chain) VALUES ($1, $2, $3) \
         ON CONFLICT (lock_id, company_key) DO UPDATE SET chain = excluded.chain",
    )
    .bind(lock.0.to_vec())
    .bind(company.0.to_vec())
    .bind(chain.as_bytes().to_vec())
    .execute(&state.db.pool)
    .await?;
    Ok(Json(json!({ "stored": true })))
}

#[derive(Deserialize)]
struct OrderIn {
    order_id: String,
    lock: String,
    courier: String,
    slot_start: u64,
    slot_end: u64,
}

#[derive(Serialize)]
struct OrderOut {
    order_id: String,
    lock: String,
    courier: String,
    slot_start: u64,
    slot_end: u64,
}

fn order_out(row: &AnyRow) -> Result<OrderOut, ApiError> {
    Ok(OrderOut {
        order_id: row.try_get("order_id")?,
        lock: hex::encode(row.try_get::<Vec<u8>, _>("lock_id")?),
        courier: hex::encode(row.try_get::<Vec<u8>, _>("courier_key")?),
        slot_start: u64::try_from(row.try_get::<i64, _>("slot_start")?).unwrap_or(0),
        slot_end: u64::try_from(row.try_get::<i64, _>("slot_end")?).unwrap_or(0),
    })
}

/// A company books a delivery slot for an order, to a lock that delegated to it, for one
/// courier's device.
async fn book_order(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let company = signer(&state, &method, &uri, &headers, &body).await?;
    let input: OrderIn = parse_json(&body)?;
    let lock = lock_hex(&input.lock)?;
    let courier = key_hex(&input.courier, "courier")?;
    if input.order_id.is_empty() || input.order_id.len() > 128 {
        return Err(ApiError::bad("order_id: 1 to 128 bytes"));
    }
    if input.slot_end <= input.slot_start {
        return Err(ApiError::bad("the slot ends before it starts"));
    }
    let delegated =
        sqlx::query("SELECT 1 FROM delegations WHERE lock_id = $1 AND company_key = $2")
            .bind(lock.0.to_vec())
            .bind(company.0.to_vec())
            .fetch_optional(&state.db.pool)
            .await?;
    if delegated.is_none() {
        return Err(ApiError::forbidden(
            "the lock's owner has not delegated to this company",
        ));
    }
    let done = sqlx::query(
        "INSERT INTO orders (company_key, order_id, lock_id, courier_key, slot_start, slot_end) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(company.0.to_vec())
    .bind(input.order_id.clone())
    .bind(lock.0.to_vec())
    .bind(courier.0.to_vec())
    .bind(int(input.slot_start)?)
    .bind(int(input.slot_end)?)
    .execute(&state.db.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::conflict("the company already booked this order"));
    }
    Ok(Json(json!({ "booked": input.order_id })))
}

const ORDER_COLUMNS: &str =
    "SELECT order_id, lock_id, courier_key, slot_start, slot_end FROM orders";

async fn list_orders(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let company = signer(&state, &method, &uri, &headers, &body).await?;
    let rows = sqlx::query(&format!(
        "{ORDER_COLUMNS} WHERE company_key = $1 ORDER BY slot_start"
    ))
    .bind(company.0.to_vec())
    .fetch_all(&state.db.pool)
    .await?;
    let orders: Result<Vec<_>, _> = rows.iter().map(order_out).collect();
    Ok(Json(json!({ "orders": orders? })))
}

async fn get_order(
    State(state): State<AppState>,
    Path(order): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let company = signer(&state, &method, &uri, &headers, &body).await?;
    let row = sqlx::query(&format!(
        "{ORDER_COLUMNS} WHERE company_key = $1 AND order_id = $2"
    ))
    .bind(company.0.to_vec())
    .bind(order)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or_else(|| ApiError::not_found("no such order for this company"))?;
    Ok(Json(
        serde_json::to_value(order_out(&row)?).map_err(|e| ApiError::internal(e.to_string()))?,
    ))
}

#[derive(Deserialize)]
struct GrantIn {
    /// Seconds the grant stays valid (never past the slot); 600 if absent.
    valid_for: Option<u64>,
}

/// The courier's device asks for its one-off grant for a booked order: minted by the
/// company's issuing key under the owner's delegation, only inside the slot.
async fn mint_grant(
    State(state): State<AppState>,
    Path((company, order)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let courier = signer(&state, &method, &uri, &headers, &body).await?;
    let company = key_hex(&company, "company")?;
    let input: GrantIn = if body.is_empty() {
        GrantIn { valid_for: None }
    } else {
        parse_json(&body)?
    };
    let row = sqlx::query(
        "SELECT o.lock_id, o.courier_key, o.slot_start, o.slot_end, c.issuing_seed, d.chain \
         FROM orders o JOIN companies c ON c.company_key = o.company_key \
         JOIN delegations d ON d.company_key = o.company_key AND d.lock_id = o.lock_id \
         WHERE o.company_key = $1 AND o.order_id = $2",
    )
    .bind(company.0.to_vec())
    .bind(order.clone())
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or_else(|| ApiError::not_found("no such order, or its delegation was withdrawn"))?;
    if !key_col(&row, "courier_key")?.ct_eq(&courier) {
        return Err(ApiError::forbidden(
            "the order is booked for another courier's device",
        ));
    }
    let lock = LockId(
        row.try_get::<Vec<u8>, _>("lock_id")?
            .try_into()
            .map_err(|_| ApiError::internal("stored lock id is not 16 bytes"))?,
    );
    let seed: [u8; 32] = row
        .try_get::<Vec<u8>, _>("issuing_seed")?
        .try_into()
        .map_err(|_| ApiError::internal("stored issuing seed is not 32 bytes"))?;
    let chain = Chain::from_bytes(&row.try_get::<Vec<u8>, _>("chain")?)?;
    let slot = |col| -> Result<UnixTime, ApiError> {
        Ok(UnixTime::from_secs(
            u64::try_from(row.try_get::<i64, _>(col)?).unwrap_or(0),
        ))
    };
    let delivery = Delivery {
        order_id: order.as_bytes(),
        lock,
        slot_start: slot("slot_start")?,
        slot_end: slot("slot_end")?,
    };
    let issuer = Issuer::new(SecretKey::from_seed(&seed), chain)?;
    let now = UnixTime::from_secs(now());
    let valid_for = Seconds::from_secs(input.valid_for.unwrap_or(600));
    let grant = match issuer.mint_delivery(&delivery, courier, now, valid_for, &mut rng()?) {
        Ok(g) => g,
        Err(doorkey::Error::OutsideSlot) => {
            return Err(ApiError::forbidden(format!(
                "outside the order's delivery slot ({} to {}); it is now {now}",
                delivery.slot_start, delivery.slot_end
            )));
        }
        Err(doorkey::Error::Expired) => {
            return Err(ApiError::forbidden(
                "the owner's delegation to the company has expired",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let leaf = grant.leaf()?;
    sqlx::query(
        "INSERT INTO grants (credential_id, company_key, order_id, chain, minted_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(leaf.id.0.to_vec())
    .bind(company.0.to_vec())
    .bind(order)
    .bind(grant.as_bytes().to_vec())
    .bind(int(now.as_secs())?)
    .execute(&state.db.pool)
    .await?;
    Ok(Json(json!({
        "grant": hex::encode(grant.as_bytes()),
        "not_before": leaf.not_before.as_secs(),
        "not_after": leaf.not_after().map(|t| t.as_secs()),
    })))
}

fn ack_json(ack: Option<doorkey::receipt::Ack>) -> Value {
    ack.map_or(Value::Null, |a| {
        json!({
            "first": a.first,
            "seq": a.seq,
            "hash": hex::encode(a.hash),
            "token": hex::encode(a.token),
        })
    })
}

fn finding_json(f: &Finding) -> Value {
    json!({ "finding": words::finding(f) })
}

/// Any phone uploads the sealed bundles it carried (no trust in the uploader: receipts are
/// signed by the lock). Bounded by the core's `MAX_UPLOAD_BYTES` and a rate per lock.
async fn upload_receipts(
    State(state): State<AppState>,
    Path(lock): Path<String>,
    body: Bytes,
) -> ApiResult {
    let lock = lock_hex(&lock)?;
    let rate = Rate {
        window: int(now() / 60)?,
        per_minute: state.limits.uploads_per_minute,
    };
    // A plain read: the upload is counted, and the lock's row taken, once its signatures
    // have been checked (`ledger::ingest`). One already over the rate is not checked at all.
    let row = sqlx::query(
        "SELECT rate_window, rate_count, lock_key, audit_secret FROM locks WHERE lock_id = $1",
    )
    .bind(lock.0.to_vec())
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or_else(ApiError::no_such_lock)?;
    if row.try_get::<i64, _>("rate_window")? == rate.window
        && row.try_get::<i64, _>("rate_count")? >= rate.per_minute
    {
        return Err(ApiError::rate_limited());
    }
    let audit: [u8; 32] = row
        .try_get::<Vec<u8>, _>("audit_secret")?
        .try_into()
        .map_err(|_| ApiError::internal("stored audit secret is not 32 bytes"))?;
    let keys = LockKeys {
        lock_key: key_col(&row, "lock_key")?,
        audit: AuditSecret::from_bytes(audit),
    };
    let done = ledger::ingest(&state.db, lock, keys, Upload::Sealed(body.to_vec()), rate).await?;
    Ok(Json(json!({
        "stored": done.stored,
        "findings": done.findings.iter().map(finding_json).collect::<Vec<_>>(),
        "ack": ack_json(done.ack),
    })))
}

/// The newest acknowledgement for a lock, for any phone to carry to it.
async fn latest_ack(State(state): State<AppState>, Path(lock): Path<String>) -> ApiResult {
    let lock = lock_hex(&lock)?;
    let mut conn = state.db.pool.acquire().await?;
    let ack = ledger::latest_ack(&mut conn, lock).await?;
    Ok(Json(json!({ "ack": ack_json(ack) })))
}

/// The owner's timeline of one lock: visits and alerts, in words and in fields.
async fn lock_timeline(
    State(state): State<AppState>,
    Path(lock): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let owner = signer(&state, &method, &uri, &headers, &body).await?;
    let lock = lock_hex(&lock)?;
    let row = owned_lock(&state, lock, &owner).await?;
    let story = words::story(&state, lock, key_col(&row, "lock_key")?).await?;
    Ok(Json(json!({
        "visits": story.visits.iter().map(|v| json!({
            "summary": v.summary,
            "unlocked": v.visit.unlocked.map(|t| t.as_secs()),
            "opened": v.visit.opened.map(|t| t.as_secs()),
            "closed": v.visit.closed.map(|t| t.as_secs()),
            "relocked": v.visit.relocked.map(|t| t.as_secs()),
            "relocked_after": v.visit.relocked_after().map(|s| s.as_secs()),
            "company": v.company,
            "order": v.order,
        })).collect::<Vec<_>>(),
        "alerts": story.alerts,
    })))
}

#[derive(Deserialize)]
struct UpdateIn {
    update: String,
}

/// The owner queues a signed configuration update (a revocation is one) for the next phone
/// that visits the lock.
async fn queue_update(
    State(state): State<AppState>,
    Path(lock): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let owner = signer(&state, &method, &uri, &headers, &body).await?;
    let lock = lock_hex(&lock)?;
    let row = owned_lock(&state, lock, &owner).await?;
    let input: UpdateIn = parse_json(&body)?;
    let bytes = bytes_hex(&input.update, "update")?;
    let signed = ConfigUpdate::decode(&bytes)?;
    if signed.body.lock != lock {
        return Err(ApiError::bad("the update is for another lock"));
    }
    if !signed.body.signer.ct_eq(&owner) {
        return Err(ApiError::bad(
            "the update is not signed by the lock's owner",
        ));
    }
    signed.verify(&owner, labels::CONFIG)?;
    let applied = u64::try_from(row.try_get::<i64, _>("config_version")?).unwrap_or(0);
    if signed.body.version <= applied {
        return Err(ApiError::conflict(format!(
            "the lock already applied version {applied}; an update needs a higher version"
        )));
    }
    let done = sqlx::query(
        "INSERT INTO updates (lock_id, version, message) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(lock.0.to_vec())
    .bind(int(signed.body.version)?)
    .bind(bytes.clone())
    .execute(&state.db.pool)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::conflict(
            "an update with this version is already queued",
        ));
    }
    Ok(Json(json!({ "queued": signed.body.version })))
}

/// Updates a phone should deliver: queued, and newer than any the lock reported applying.
async fn pending_updates(State(state): State<AppState>, Path(lock): Path<String>) -> ApiResult {
    let lock = lock_hex(&lock)?;
    let rows = sqlx::query(
        "SELECT u.version, u.message FROM updates u JOIN locks l ON l.lock_id = u.lock_id \
         WHERE u.lock_id = $1 AND u.version > l.config_version ORDER BY u.version",
    )
    .bind(lock.0.to_vec())
    .fetch_all(&state.db.pool)
    .await?;
    let updates: Result<Vec<Value>, ApiError> = rows
        .iter()
        .map(|r| {
            Ok(json!({
                "version": r.try_get::<i64, _>("version")?,
                "update": hex::encode(r.try_get::<Vec<u8>, _>("message")?),
            }))
        })
        .collect();
    Ok(Json(json!({ "updates": updates? })))
}
