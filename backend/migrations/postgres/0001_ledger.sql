-- doorkey-backend schema, PostgreSQL. Every table that grows with use is keyed by lock first
-- (its primary-key index keeps one lock's receipts together, in sequence order; the
-- receipts, heads and findings tables can be hash-partitioned by lock_id as they grow).
CREATE TABLE locks (
    lock_id BYTEA PRIMARY KEY,
    lock_key BYTEA NOT NULL,
    owner_key BYTEA NOT NULL,
    audit_secret BYTEA NOT NULL,
    name TEXT NOT NULL,
    config_version BIGINT NOT NULL DEFAULT 0,
    rate_window BIGINT NOT NULL DEFAULT 0,
    rate_count BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX locks_by_owner ON locks (owner_key);

CREATE TABLE companies (
    company_key BYTEA PRIMARY KEY,
    name TEXT NOT NULL,
    issuing_seed BYTEA NOT NULL,
    issuing_key BYTEA NOT NULL
);

CREATE TABLE delegations (
    lock_id BYTEA NOT NULL,
    company_key BYTEA NOT NULL,
    chain BYTEA NOT NULL,
    PRIMARY KEY (lock_id, company_key)
);

CREATE TABLE orders (
    company_key BYTEA NOT NULL,
    order_id TEXT NOT NULL,
    lock_id BYTEA NOT NULL,
    courier_key BYTEA NOT NULL,
    slot_start BIGINT NOT NULL,
    slot_end BIGINT NOT NULL,
    PRIMARY KEY (company_key, order_id)
);

CREATE TABLE grants (
    credential_id BYTEA PRIMARY KEY,
    company_key BYTEA NOT NULL,
    order_id TEXT NOT NULL,
    chain BYTEA NOT NULL,
    minted_at BIGINT NOT NULL
);

CREATE TABLE receipts (
    lock_id BYTEA NOT NULL,
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (lock_id, seq)
);

CREATE TABLE heads (
    lock_id BYTEA NOT NULL,
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (lock_id, seq)
);

CREATE TABLE findings (
    lock_id BYTEA NOT NULL,
    kind TEXT NOT NULL,
    a BIGINT NOT NULL,
    b BIGINT NOT NULL,
    evidence BYTEA NOT NULL,
    PRIMARY KEY (lock_id, kind, a, b, evidence)
);

CREATE TABLE acks (
    lock_id BYTEA PRIMARY KEY,
    first BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    token BYTEA NOT NULL
);

CREATE TABLE updates (
    lock_id BYTEA NOT NULL,
    version BIGINT NOT NULL,
    message BYTEA NOT NULL,
    PRIMARY KEY (lock_id, version)
);

CREATE TABLE seen_requests (
    signature BYTEA PRIMARY KEY,
    at BIGINT NOT NULL
);
CREATE INDEX seen_requests_by_time ON seen_requests (at);

-- Links to the owner page: a browser shows it without holding the owner's key.
CREATE TABLE page_tokens (
    token BYTEA PRIMARY KEY,
    owner_key BYTEA NOT NULL,
    expires BIGINT NOT NULL
);
