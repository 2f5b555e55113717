//! The three kinds of time the protocol handles, as distinct types so that one cannot be
//! passed where another is meant: a lock's monotonic [`Tick`], a trusted [`UnixTime`] and a
//! duration in [`Seconds`].
//!
//! Arithmetic saturates at the ends of the range instead of wrapping or panicking, as the
//! lock's own checks do: a value decoded from the wire can be anywhere in `u64`.

use core::fmt;
use core::ops::{Add, Sub};

use serde::{Deserialize, Serialize};

use super::civil::{Days, civil_from_days};

/// 9999-12-31, the last day a four-digit ISO 8601 year can write.
const LAST_ISO_DAY: u64 = 2_932_896;

/// A length of time in whole seconds: a link's lifetime, a grant's validity, an allowance.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Seconds(u64);

impl Seconds {
    /// No time at all.
    pub const ZERO: Seconds = Seconds(0);

    /// `secs` seconds.
    pub const fn from_secs(secs: u64) -> Seconds {
        Seconds(secs)
    }

    /// `mins` minutes (saturating).
    pub const fn from_mins(mins: u64) -> Seconds {
        Seconds(mins.saturating_mul(60))
    }

    /// `hours` hours (saturating).
    pub const fn from_hours(hours: u64) -> Seconds {
        Seconds(hours.saturating_mul(3600))
    }

    /// `days` days of 86,400 seconds (saturating): UTC days, not local calendar days.
    pub const fn from_days(days: u64) -> Seconds {
        Seconds(days.saturating_mul(86_400))
    }

    /// The number of seconds.
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// Whether this is no time at all.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl Add for Seconds {
    type Output = Seconds;
    /// Saturating.
    fn add(self, rhs: Seconds) -> Seconds {
        Seconds(self.0.saturating_add(rhs.0))
    }
}

impl From<Seconds> for core::time::Duration {
    fn from(s: Seconds) -> core::time::Duration {
        core::time::Duration::from_secs(s.0)
    }
}

/// A trusted instant: whole seconds since 1970-01-01 00:00:00 UTC, leap seconds not counted.
///
/// Only time the lock can trust has this type: a server's clock, a signed time anchor, or
/// [`Lock::trusted_now`](crate::lock::Lock::trusted_now). A lock's own real-time clock is not
/// trusted and has no way into the API as a `UnixTime` except through
/// [`UnixTime::from_secs`], whose call site says what it trusts.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixTime(u64);

impl UnixTime {
    /// 1970-01-01 00:00:00 UTC. On a link, a start of validity at the epoch with no lifetime
    /// and no schedule means the link needs no clock.
    pub const EPOCH: UnixTime = UnixTime(0);

    /// The instant `secs` seconds after 1970-01-01 00:00:00 UTC.
    pub const fn from_secs(secs: u64) -> UnixTime {
        UnixTime(secs)
    }

    /// Seconds since 1970-01-01 00:00:00 UTC.
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// `self + d`, or `None` past the end of the range.
    pub const fn checked_add(self, d: Seconds) -> Option<UnixTime> {
        match self.0.checked_add(d.0) {
            Some(t) => Some(UnixTime(t)),
            None => None,
        }
    }

    /// The time from `earlier` to `self`, or `None` if `earlier` is later.
    pub const fn since(self, earlier: UnixTime) -> Option<Seconds> {
        match self.0.checked_sub(earlier.0) {
            Some(d) => Some(Seconds(d)),
            None => None,
        }
    }
}

impl Add<Seconds> for UnixTime {
    type Output = UnixTime;
    /// Saturating at the end of the range.
    fn add(self, d: Seconds) -> UnixTime {
        UnixTime(self.0.saturating_add(d.0))
    }
}

impl Sub<Seconds> for UnixTime {
    type Output = UnixTime;
    /// Saturating at the epoch.
    fn sub(self, d: Seconds) -> UnixTime {
        UnixTime(self.0.saturating_sub(d.0))
    }
}

/// As [`Display`](fmt::Display): the instant is what a log reader wants, not the count.
impl fmt::Debug for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// ISO 8601 in UTC, `2026-06-01T12:00:00Z`: what an owner's timeline shows.
impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0 / 86_400;
        let secs = self.0 % 86_400;
        // Past year 9999 ISO 8601 needs an expanded form; the raw count is still truthful.
        if days > LAST_ISO_DAY {
            return write!(f, "@{}", self.0);
        }
        let (y, m, d) = civil_from_days(days as Days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

/// A lock's monotonic clock: whole seconds since it booted, from the firmware's timer.
///
/// Ticks order events within one boot and measure a challenge's or session's age; they say
/// nothing about the time of day. A lock maps them to [`UnixTime`] only through a signed time
/// anchor ([`Lock::trusted_now`](crate::lock::Lock::trusted_now)), and every tick-based
/// promise (a pending challenge, an open session, the anchor) ends with the boot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tick(u64);

impl Tick {
    /// The moment of boot.
    pub const BOOT: Tick = Tick(0);

    /// `secs` seconds after boot.
    pub const fn from_secs(secs: u64) -> Tick {
        Tick(secs)
    }

    /// Seconds since boot.
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// The time from `earlier` to `self`, or `None` if `earlier` is later (a tick from
    /// before a reboot, or a misbehaving timer).
    pub const fn since(self, earlier: Tick) -> Option<Seconds> {
        match self.0.checked_sub(earlier.0) {
            Some(d) => Some(Seconds(d)),
            None => None,
        }
    }
}

impl Add<Seconds> for Tick {
    type Output = Tick;
    /// Saturating at the end of the range.
    fn add(self, d: Seconds) -> Tick {
        Tick(self.0.saturating_add(d.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate alloc;
    use alloc::string::ToString;

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        let end = UnixTime::from_secs(u64::MAX);
        assert_eq!(end + Seconds::from_secs(1), end);
        assert_eq!(end.checked_add(Seconds::from_secs(1)), None);
        assert_eq!(UnixTime::EPOCH - Seconds::from_secs(1), UnixTime::EPOCH);
        assert_eq!(
            Tick::from_secs(u64::MAX) + Seconds::from_secs(5),
            Tick::from_secs(u64::MAX)
        );
        assert_eq!(Seconds::from_days(u64::MAX), Seconds::from_secs(u64::MAX));
        assert_eq!(
            Seconds::from_secs(u64::MAX) + Seconds::from_secs(1),
            Seconds::from_secs(u64::MAX)
        );
    }

    #[test]
    fn since_is_none_backwards() {
        let t = UnixTime::from_secs(100);
        assert_eq!(
            t.since(UnixTime::from_secs(40)),
            Some(Seconds::from_secs(60))
        );
        assert_eq!(UnixTime::from_secs(40).since(t), None);
        assert_eq!(Tick::from_secs(9).since(Tick::from_secs(10)), None);
        assert_eq!(
            Tick::from_secs(10).since(Tick::from_secs(9)),
            Some(Seconds::from_secs(1))
        );
    }

    #[test]
    fn units_convert() {
        assert_eq!(Seconds::from_mins(2).as_secs(), 120);
        assert_eq!(Seconds::from_hours(2).as_secs(), 7200);
        assert_eq!(Seconds::from_days(2).as_secs(), 172_800);
        assert_eq!(
            core::time::Duration::from(Seconds::from_secs(7)),
            core::time::Duration::from_secs(7)
        );
    }

    #[test]
    fn debug_shows_the_instant() {
        let t = UnixTime::from_secs(1_780_315_200);
        assert_eq!(
            alloc::format!("{:?}", Some(t)),
            "Some(2026-06-01T12:00:00Z)"
        );
    }

    #[test]
    fn displays_as_utc_iso_8601() {
        assert_eq!(
            UnixTime::from_secs(1_780_315_200).to_string(),
            "2026-06-01T12:00:00Z"
        );
        assert_eq!(
            UnixTime::from_secs(951_825_599).to_string(),
            "2000-02-29T11:59:59Z"
        );
        assert_eq!(UnixTime::EPOCH.to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(
            UnixTime::from_secs(253_402_300_799).to_string(),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(
            UnixTime::from_secs(253_402_300_800).to_string(),
            "@253402300800"
        );
    }
}
