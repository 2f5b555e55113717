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
//!
//! # Example
//!
//! ```
//! use doorkey::time::{Days, Schedule, TzRule, UnixTime, WeeklyWindow, days_from_civil};
//! # fn main() -> doorkey::Result<()> {
//! # let date = |y, m, d| days_from_civil(y, m, d).ok_or(doorkey::Error::Misuse);
//! # let utc = |day: Days, h: u64, m: u64| UnixTime::from_secs(day as u64 * 86_400 + h * 3600 + m * 60);
//! // The owner configures the lock's zone with the TZ string the tz database publishes.
//! let berlin = TzRule::parse("CET-1CEST,M3.5.0,M10.5.0/3")?;
//!
//! // A dog walker: Monday to Friday, 12:00 to 13:00 local time, not on Easter Monday.
//! let noon_hour = WeeklyWindow::new(WeeklyWindow::WEEKDAYS, 12 * 60, 60)?;
//! let walker = Schedule::new(&[noon_hour], &[date(2026, 4, 6)?])?;
//!
//! // 11:30 UTC is 12:30 in Berlin in winter, 13:30 after the clocks go forward on 29 March.
//! let (winter, summer) = (date(2026, 3, 23)?, date(2026, 3, 30)?); // both Mondays
//! assert!(walker.permits(berlin.local(utc(winter, 11, 30))));
//! assert!(!walker.permits(berlin.local(utc(summer, 11, 30))));
//! assert!(walker.permits(berlin.local(utc(summer, 10, 30)))); // 12:30 summer time
//! assert!(!walker.permits(berlin.local(utc(date(2026, 4, 6)?, 10, 30)))); // the holiday
//! # Ok(())
//! # }
//! ```

pub mod civil;
mod instant;
pub mod schedule;
pub mod tz;

pub use civil::{Days, civil_from_days, days_from_civil, weekday};
pub use instant::{Seconds, Tick, UnixTime};
pub use schedule::{MAX_EXCEPTIONS, MAX_WINDOWS, MINUTES_PER_DAY, Schedule, WeeklyWindow};
pub use tz::{DstRule, LocalTime, OffsetChange, Shift, Transition, TzRule};
