//! The owner's view: a verified receipt log turned into visits and alerts.

use alloc::vec::Vec;

use super::log::{Finding, LogStore, ReceiptLog};
use crate::error::Result;
use crate::receipt::{Event, SESSION_ID_LEN, Who};
use crate::session::ReasonCode;
use crate::time::{Seconds, UnixTime};

/// One session at the door, as the lock recorded it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Visit {
    /// The session id the receipts share.
    pub session: [u8; SESSION_ID_LEN],
    /// The credential and device, once the holder proved its key.
    pub who: Option<Who>,
    /// When the lock unlocked.
    pub unlocked: Option<UnixTime>,
    /// When the door opened.
    pub opened: Option<UnixTime>,
    /// When the door closed.
    pub closed: Option<UnixTime>,
    /// When the lock relocked.
    pub relocked: Option<UnixTime>,
    /// Refusals in this session.
    pub denied: Vec<ReasonCode>,
    /// Whether the session's last bolt event was an unlock: the holder left the door
    /// unlocked, however often it relocked before.
    pub left_unlocked: bool,
}

impl Visit {
    /// Time from unlock to relock, when both times are known.
    pub fn relocked_after(&self) -> Option<Seconds> {
        self.relocked?.since(self.unlocked?)
    }
}

/// Something the owner should look at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Alert {
    /// A visit unlocked the door and never relocked it.
    LeftUnlocked {
        /// The visit's session.
        session: [u8; SESSION_ID_LEN],
    },
    /// The lock reported the door left open (receipt `seq`).
    LeftOpen {
        /// The receipt.
        seq: u64,
    },
    /// A request was refused (receipt `seq`).
    Denied {
        /// The receipt.
        seq: u64,
        /// Why.
        reason: ReasonCode,
    },
    /// The log itself shows a problem: missing, reordered, forked or truncated receipts.
    Log(Finding),
}

/// Groups the log's receipts into visits by session and lists the alerts. Errors only when
/// the log's store fails.
pub fn timeline<L: LogStore>(log: &ReceiptLog<L>) -> Result<(Vec<Visit>, Vec<Alert>)> {
    let mut visits: Vec<Visit> = Vec::new();
    let mut alerts: Vec<Alert> = log.audit()?.into_iter().map(Alert::Log).collect();
    for stored in log.receipts()? {
        let r = &stored.receipt;
        match r.event {
            Event::Denied(reason) => alerts.push(Alert::Denied { seq: r.seq, reason }),
            Event::DoorLeftOpen => alerts.push(Alert::LeftOpen { seq: r.seq }),
            _ => {}
        }
        let Some(session) = r.session else { continue };
        let index = match visits.iter().position(|v| v.session == session) {
            Some(i) => i,
            None => {
                visits.push(Visit {
                    session,
                    ..Visit::default()
                });
                visits.len() - 1
            }
        };
        let Some(visit) = visits.get_mut(index) else {
            continue;
        };
        if visit.who.is_none() {
            visit.who = r.who;
        }
        match r.event {
            Event::Unlocked => {
                visit.unlocked = visit.unlocked.or(r.time);
                visit.left_unlocked = true;
            }
            Event::DoorOpened => visit.opened = visit.opened.or(r.time),
            Event::DoorClosed => visit.closed = r.time,
            Event::Relocked => {
                visit.relocked = r.time;
                visit.left_unlocked = false;
            }
            Event::Denied(reason) => visit.denied.push(reason),
            _ => {}
        }
    }
    // Visits that only carried time or configuration have nothing to show the owner.
    visits.retain(|v| v.who.is_some() || !v.denied.is_empty());
    for v in &visits {
        if v.left_unlocked {
            alerts.push(Alert::LeftUnlocked { session: v.session });
        }
    }
    Ok((visits, alerts))
}
