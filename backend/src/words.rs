//! The owner's timeline in plain words: who came for which order, how long the door stood
//! open, when it was relocked, and every alert and finding as a sentence.

use doorkey::credential::LockId;
use doorkey::crypto::PublicKey;
use doorkey::server::{Alert, Finding, Visit};
use doorkey::session::ReasonCode;
use doorkey::time::UnixTime;
use sqlx::Row;

use crate::api::{ApiError, AppState};
use crate::ledger;

/// One visit, with the order and company its grant was minted for, if this server minted it.
#[derive(Debug)]
pub struct VisitWords {
    /// The core's view of the visit.
    pub visit: Visit,
    /// One sentence for the owner.
    pub summary: String,
    /// The company whose grant was used.
    pub company: Option<String>,
    /// The order it was minted for.
    pub order: Option<String>,
}

/// A lock's visits and alerts, described.
#[derive(Debug)]
pub struct Story {
    /// Visits, oldest first.
    pub visits: Vec<VisitWords>,
    /// Alerts and findings, one sentence each.
    pub alerts: Vec<String>,
}

fn short(bytes: &[u8]) -> String {
    hex::encode(bytes.get(..4).unwrap_or(bytes))
}

fn reason(r: ReasonCode) -> &'static str {
    match r {
        ReasonCode::NotAuthorized => "the credential does not open this lock",
        ReasonCode::NotNow => "the credential is not valid at this time",
        ReasonCode::UsedUp => "the credential was already used up",
        ReasonCode::NeedTime => "the lock's clock was not set",
        ReasonCode::Refused => "the request was refused",
        ReasonCode::Unavailable => "the lock could not store the use",
        ReasonCode::BadRequest => "the request was malformed",
        _ => "a reason this server cannot describe",
    }
}

/// A finding of the receipt log as a sentence.
pub fn finding(f: &Finding) -> String {
    match *f {
        Finding::Malformed { index } => format!("item {index} of an upload could not be read"),
        Finding::BadSignature { index } => {
            format!("item {index} of an upload carries a signature the lock did not make")
        }
        Finding::Fork { seq } => {
            format!("the lock signed two different histories at receipt {seq} (a fork)")
        }
        Finding::Duplicate { seq } => format!("receipt {seq} came twice in one upload"),
        Finding::Reordered { seq } => format!("receipt {seq} arrived out of order"),
        Finding::Gap { from, to } => format!("receipts {from} to {to} are missing"),
        Finding::BrokenLink { seq } => {
            format!("receipt {seq} does not follow the receipt stored before it")
        }
        Finding::Truncated { signed, held } => {
            format!("the lock signed receipts up to {signed} but only {held} have arrived")
        }
        Finding::Unopened { index } => {
            format!("bundle {index} of an upload could not be opened with the audit key")
        }
        _ => "an anomaly this server cannot describe".to_owned(),
    }
}

fn alert(a: &Alert) -> String {
    match a {
        Alert::LeftUnlocked { session } => {
            format!("the door was left unlocked after visit {}", short(session))
        }
        Alert::LeftOpen { seq } => format!("the door was left open (receipt {seq})"),
        Alert::Denied { seq, reason: r } => {
            format!("an attempt was refused: {} (receipt {seq})", reason(*r))
        }
        Alert::Log(f) => finding(f),
        _ => "an alert this server cannot describe".to_owned(),
    }
}

fn at(t: Option<UnixTime>) -> String {
    t.map_or_else(|| "at an unknown time".to_owned(), |t| format!("at {t}"))
}

/// The timeline of `lock`, each visit matched to the grant this server minted for it.
pub async fn story(state: &AppState, lock: LockId, lock_key: PublicKey) -> Result<Story, ApiError> {
    let mut conn = state.db.pool.acquire().await?;
    let (visits, alerts) = ledger::view(&mut conn, lock, lock_key).await?;
    let mut out = Vec::with_capacity(visits.len());
    for visit in visits {
        let minted = match visit.who {
            Some(who) => {
                sqlx::query(
                    "SELECT g.order_id, c.name FROM grants g JOIN companies c \
                     ON c.company_key = g.company_key WHERE g.credential_id = $1",
                )
                .bind(who.id.0.to_vec())
                .fetch_optional(&mut *conn)
                .await?
            }
            None => None,
        };
        let (company, order) = match minted {
            Some(row) => (
                Some(row.try_get::<String, _>("name")?),
                Some(row.try_get::<String, _>("order_id")?),
            ),
            None => (None, None),
        };
        let mut summary = match (&company, &order, visit.who) {
            (Some(c), Some(o), _) if visit.unlocked.is_some() => {
                format!("delivered by {c} for order {o}")
            }
            (Some(c), Some(o), _) => format!("attempt with {c}'s grant for order {o}"),
            (_, _, Some(who)) => format!("visit by device {}", short(&who.holder.0)),
            _ => "visit by an unknown device".to_owned(),
        };
        if visit.unlocked.is_some() {
            summary.push_str(&format!(", unlocked {}", at(visit.unlocked)));
        }
        if let Some(open) = visit
            .opened
            .zip(visit.unlocked)
            .and_then(|(o, u)| o.since(u))
        {
            summary.push_str(&format!(", door opened {} s later", open.as_secs()));
        }
        if let Some(shut) = visit.closed.zip(visit.opened).and_then(|(c, o)| c.since(o)) {
            summary.push_str(&format!(", door open for {} s", shut.as_secs()));
        }
        match visit.relocked_after() {
            Some(after) => summary.push_str(&format!(", relocked after {} s", after.as_secs())),
            None if visit.left_unlocked => summary.push_str(", never relocked"),
            None => {}
        }
        for r in &visit.denied {
            summary.push_str(&format!(", refused: {}", reason(*r)));
        }
        out.push(VisitWords {
            visit,
            summary,
            company,
            order,
        });
    }
    Ok(Story {
        visits: out,
        alerts: alerts.iter().map(alert).collect(),
    })
}
