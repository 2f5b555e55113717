//! Local wall-clock time on a lock with no tz database, and recurring weekly schedules.
//!
//! Recurring grants say things like "Monday to Friday, 12:00 to 13:00" and must mean the
//! lock's local wall-clock time on both sides of a daylight-saving change. So:
//! - [`civil`]: calendar arithmetic on day numbers (days since 1970-01-01), no tables.
//! - [`tz`]: a [`TzRule`] parsed from the POSIX TZ string the tz database publishes for each
//!   zone (about 15 bytes on the wire, set by the owner's signed configuration), giving the
//!   [`LocalTime`] at any UTC instant.
//! - [`schedule`]: [`Schedule`], weekly windows in local time with exception dates, the
//!   [`Schedule::permits`] decision, and [`Schedule::is_within`], which a lock uses to check
//!   that a delegated link's schedule only narrows its parent's.
//!
//! Everything here is `no_std`, allocation-free and total: no input, decoded or hand-built,
//! makes these functions panic, and values decoded from the wire are checked with the
//! `validate` methods.

pub mod civil;
pub mod schedule;
pub mod tz;

pub use civil::{Days, civil_from_days, days_from_civil, weekday};
pub use schedule::{MAX_EXCEPTIONS, MAX_WINDOWS, MINUTES_PER_DAY, Schedule, WeeklyWindow};
pub use tz::{DstRule, LocalTime, OffsetChange, Shift, Transition, TzRule};
