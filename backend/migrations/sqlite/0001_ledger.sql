-- doorkey-backend schema, SQLite. Every table that grows with use is keyed by lock first
-- (WITHOUT ROWID: rows are stored in key order, so one lock's receipts sit together, in
-- sequence order).
CREATE TABLE locks (
    lock_id BLOB PRIMARY KEY,
    lock_key BLOB NOT NULL,
    owner_key BLOB NOT NULL,
    audit_secret BLOB NOT NULL,
    name TEXT NOT NULL,
    config_version INTEGER NOT NULL DEFAULT 0,
    rate_window INTEGER NOT NULL DEFAULT 0,
    rate_count INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX locks_by_owner ON locks (owner_key);

CREATE TABLE companies (
    company_key BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    issuing_seed BLOB NOT NULL,
    issuing_key BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE delegations (
    lock_id BLOB NOT NULL,
    company_key BLOB NOT NULL,
    chain BLOB NOT NULL,
    PRIMARY KEY (lock_id, company_key)
) WITHOUT ROWID;

CREATE TABLE orders (
    company_key BLOB NOT NULL,
    order_id TEXT NOT NULL,
    lock_id BLOB NOT NULL,
    courier_key BLOB NOT NULL,
    slot_start INTEGER NOT NULL,
    slot_end INTEGER NOT NULL,
    PRIMARY KEY (company_key, order_id)
) WITHOUT ROWID;

CREATE TABLE grants (
    credential_id BLOB PRIMARY KEY,
    company_key BLOB NOT NULL,
    order_id TEXT NOT NULL,
    chain BLOB NOT NULL,
    minted_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE receipts (
    lock_id BLOB NOT NULL,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (lock_id, seq)
) WITHOUT ROWID;

CREATE TABLE heads (
    lock_id BLOB NOT NULL,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (lock_id, seq)
) WITHOUT ROWID;

CREATE TABLE findings (
    lock_id BLOB NOT NULL,
    kind TEXT NOT NULL,
    a INTEGER NOT NULL,
    b INTEGER NOT NULL,
    evidence BLOB NOT NULL,
    PRIMARY KEY (lock_id, kind, a, b, evidence)
) WITHOUT ROWID;

CREATE TABLE acks (
    lock_id BLOB PRIMARY KEY,
    first INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    token BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE updates (
    lock_id BLOB NOT NULL,
    version INTEGER NOT NULL,
    message BLOB NOT NULL,
    PRIMARY KEY (lock_id, version)
) WITHOUT ROWID;

CREATE TABLE seen_requests (
    signature BLOB PRIMARY KEY,
    at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX seen_requests_by_time ON seen_requests (at);

-- Links to the owner page: a browser shows it without holding the owner's key.
CREATE TABLE page_tokens (
    token BLOB PRIMARY KEY,
    owner_key BLOB NOT NULL,
    expires INTEGER NOT NULL
) WITHOUT ROWID;
