//! doorkey-backend: the service company's server for doorkey locks. It enrols locks and
//! their owners, keeps owners' delegations to companies, books delivery slots, mints the
//! courier's one-off grant inside its slot, files the receipts phones carry back (verified in
//! batches by the core's `ReceiptLog`, durable before they are acknowledged) and shows the
//! owner what happened. SQLite by default (a file), PostgreSQL with a `postgres://` URL.
//!
//! The server holds no state between requests: several instances can share one PostgreSQL.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod auth;
pub mod client;
pub mod db;
pub mod demo;
pub mod ledger;
mod page;
mod words;

pub use api::{AppState, Limits, ROUTES, router};
pub use db::Db;

/// Serves the API over `db` on `listener` until the process ends.
pub async fn serve(
    db: Db,
    listener: tokio::net::TcpListener,
    limits: Limits,
) -> std::io::Result<()> {
    axum::serve(listener, router(AppState { db, limits })).await
}
