//! Compact POSIX-TZ-style time-zone rules and local wall-clock time.
//!
//! A lock has no tz database. The owner configures it with the POSIX TZ string that the tz
//! database itself emits as the footer of every compiled zone (for example
//! `CET-1CEST,M3.5.0,M10.5.0/3` for Europe/Berlin); [`TzRule::parse`] turns it into a
//! [`TzRule`] of a few bytes, and [`TzRule::local`] turns a UTC instant into the wall-clock
//! reading that schedules are written in. The rule describes the zone's *current* law only, so
//! it is right from the last change of law onwards, which is all a lock deciding "now" needs.

use super::UnixTime;
use super::civil::{Days, civil_from_days, civil_from_days_i64, days_in_month, weekday};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Seconds in a day.
const DAY: i64 = 86_400;
/// Largest UTC offset accepted: 25 hours, beyond any zone that has ever existed (POSIX allows
/// offsets up to 24:59:59).
pub const MAX_OFFSET: i32 = 25 * 3600;
/// Largest magnitude of a transition time: 167:59:59, the POSIX and RFC 8536 limit (a rule such
/// as `M3.5.0/-1` or `M10.5.0/25` names a moment a day away from the nominal date).
pub const MAX_TRANSITION_TIME: i32 = 167 * 3600 + 59 * 60 + 59;
/// Longest TZ string [`TzRule::parse`] reads; the longest footer in the tz database is about 40.
pub const MAX_TZ_STRING: usize = 64;
/// Instants after this (about year 2.28 billion) are treated as this instant when choosing the
/// offset, which keeps all rule arithmetic far inside `i64`.
const MAX_RULE_INSTANT: u64 = 1 << 56;

/// A compact POSIX-TZ-style rule: a standard offset plus an optional daylight-saving rule.
///
/// Offsets are seconds *east* of UTC (the opposite of the sign written in a TZ string).
/// Values decoded from the wire must be checked with [`TzRule::validate`]; an invalid rule is
/// never a panic, but its daylight-saving part is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct TzRule {
    /// Standard-time offset, seconds east of UTC.
    pub std_offset: i32,
    /// Daylight-saving time, if the zone observes it.
    pub dst: Option<DstRule>,
}

/// When daylight-saving time applies, and its offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct DstRule {
    /// Daylight-saving offset, seconds east of UTC.
    pub offset: i32,
    /// Daylight-saving time begins; `start.time` is read in *standard* local time.
    pub start: Transition,
    /// Daylight-saving time ends; `end.time` is read in *daylight-saving* local time.
    pub end: Transition,
}

/// A yearly transition in POSIX `Mm.w.d/time` form: "the `week`-th `weekday` of `month`, at
/// `time` local".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct Transition {
    /// Month, 1..=12.
    pub month: u8,
    /// Week of the month, 1..=5; 1 is the first such weekday of the month, 5 always the last.
    pub week: u8,
    /// Day of the week, 0 = Sunday ..= 6 = Saturday (POSIX convention, unlike
    /// [`LocalTime::weekday`]).
    pub weekday: u8,
    /// Seconds after local midnight of that day, -167h..=167h (POSIX default: 02:00).
    pub time: i32,
}

impl Transition {
    /// Checks the ranges documented on the fields.
    pub fn validate(&self) -> Result<()> {
        let ok = (1..=12).contains(&self.month)
            && (1..=5).contains(&self.week)
            && self.weekday <= 6
            && (-MAX_TRANSITION_TIME..=MAX_TRANSITION_TIME).contains(&self.time);
        if ok { Ok(()) } else { Err(Error::Malformed) }
    }

    /// The UTC instant of this transition in `year`, for a zone whose offset before the
    /// transition is `offset_before` (seconds east). Requires a validated transition and a year
    /// well inside `i64` day arithmetic (`|year| < 2^40`).
    fn instant(&self, year: i64, offset_before: i32) -> i64 {
        let first = super::civil::days_from_civil_unchecked(year, self.month, 1);
        // POSIX counts weekdays from Sunday; `weekday` counts from Monday.
        let first_weekday = i64::from((weekday(first) + 1) % 7);
        let mut day = first
            + (i64::from(self.weekday) - first_weekday).rem_euclid(7)
            + 7 * (i64::from(self.week) - 1);
        // Week 5 means "last": step back if the fifth such weekday falls in the next month.
        if day >= first + i64::from(days_in_month(year, self.month)) {
            day -= 7;
        }
        day * DAY + i64::from(self.time) - i64::from(offset_before)
    }
}

impl DstRule {
    /// Checks the offset and both transitions.
    pub fn validate(&self) -> Result<()> {
        check_offset(self.offset)?;
        self.start.validate()?;
        self.end.validate()
    }
}

fn check_offset(offset: i32) -> Result<()> {
    if (-MAX_OFFSET..=MAX_OFFSET).contains(&offset) {
        Ok(())
    } else {
        Err(Error::Malformed)
    }
}

impl TzRule {
    /// Coordinated Universal Time: offset zero, no daylight saving.
    pub const UTC: TzRule = TzRule {
        std_offset: 0,
        dst: None,
    };

    /// A zone with a fixed offset (seconds east of UTC) and no daylight saving.
    ///
    /// Fails with [`Error::Malformed`] if `|offset_seconds_east|` exceeds [`MAX_OFFSET`].
    pub fn fixed(offset_seconds_east: i32) -> Result<TzRule> {
        check_offset(offset_seconds_east)?;
        Ok(TzRule {
            std_offset: offset_seconds_east,
            dst: None,
        })
    }

    /// Parses a POSIX TZ string such as `CET-1CEST,M3.5.0,M10.5.0/3`,
    /// `EST5EDT,M3.2.0,M11.1.0`, `<+1030>-10:30<+11>-11,M10.1.0,M4.1.0`, `UTC0`, `JST-9` or
    /// `<-03>3`.
    ///
    /// Grammar: `std offset [dst [offset] ,Mm.w.d[/time],Mm.w.d[/time]]`.
    /// - Names are 3 or more ASCII letters, or `<...>` around 3 or more ASCII letters, digits,
    ///   `+` and `-`. They are checked and discarded: the lock needs only offsets.
    /// - Offsets are `[+|-]hh[:mm[:ss]]` with `hh` up to 24, and count *west* of UTC ("CET-1"
    ///   is UTC+1). The daylight-saving offset defaults to one hour east of standard time.
    /// - Only the `Mm.w.d` date form is accepted, which is what the tz database emits for
    ///   every current zone; the `Jn` and `n` forms are refused. A daylight-saving name
    ///   without a rule is refused too, rather than guessing the implementation-defined default.
    /// - Transition times are `[+|-]hh[:mm[:ss]]` with `hh` up to 167 (default `02:00`).
    ///
    /// Errors: [`Error::Oversize`] if `s` is longer than [`MAX_TZ_STRING`] bytes,
    /// [`Error::Malformed`] for anything else that does not match the grammar exactly.
    ///
    /// ```
    /// use doorkey::Error;
    /// use doorkey::time::{TzRule, UnixTime};
    ///
    /// # fn main() -> doorkey::Result<()> {
    /// let new_york = TzRule::parse("EST5EDT,M3.2.0,M11.1.0")?;
    /// let july = UnixTime::from_secs(1_783_080_000); // 2026-07-03 12:00:00 UTC
    /// assert_eq!(new_york.offset_at(july), -4 * 3600);
    /// assert_eq!(new_york.local(july).minute_of_day(), 8 * 60); // 08:00 EDT
    /// assert_eq!(TzRule::parse("JST-9")?, TzRule::fixed(9 * 3600)?);
    ///
    /// // A zone name is not a rule: the lock has no tz database to look it up in.
    /// assert!(matches!(TzRule::parse("America/New_York"), Err(Error::Malformed)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn parse(s: &str) -> Result<TzRule> {
        if s.len() > MAX_TZ_STRING {
            return Err(Error::Oversize);
        }
        let mut p = Parser {
            bytes: s.as_bytes(),
            pos: 0,
        };
        p.name()?;
        let std_offset = p.offset(24)?;
        if p.at_end() {
            return TzRule::fixed(std_offset);
        }
        p.name()?;
        let offset = match p.peek() {
            Some(b'+' | b'-' | b'0'..=b'9') => p.offset(24)?,
            _ => std_offset.saturating_add(3600),
        };
        p.require(b',')?;
        let start = p.transition()?;
        p.require(b',')?;
        let end = p.transition()?;
        if !p.at_end() {
            return Err(Error::Malformed);
        }
        let rule = TzRule {
            std_offset,
            dst: Some(DstRule { offset, start, end }),
        };
        rule.validate()?;
        Ok(rule)
    }

    /// Checks every range: offsets within [`MAX_OFFSET`], transition months, weeks, weekdays
    /// and times. Call it on any rule decoded from the wire before trusting it.
    pub fn validate(&self) -> Result<()> {
        check_offset(self.std_offset)?;
        match &self.dst {
            Some(dst) => dst.validate(),
            None => Ok(()),
        }
    }

    /// Whether daylight-saving time is in force at `t`.
    ///
    /// DST starts at `start.time` standard time and ends at `end.time` daylight-saving time.
    /// If the start falls before the end in a calendar year, DST runs between them in that
    /// year (northern hemisphere); if after, it runs from the start to the next year's end
    /// (southern hemisphere); if they coincide, never (as glibc does). Seasons starting in the
    /// year before or after `t`'s are also checked, so rules with large transition times
    /// that cross a year boundary stay right.
    pub fn is_dst_at(&self, t: UnixTime) -> bool {
        let Some(dst) = self.dst else {
            return false;
        };
        if self.validate().is_err() {
            return false;
        }
        // In range by the clamp; the fallback is unreachable.
        let t = i64::try_from(t.as_secs().min(MAX_RULE_INSTANT)).unwrap_or(0);
        let local_days = (t + i64::from(self.std_offset)).div_euclid(DAY);
        let (year, _, _) = civil_from_days_i64(local_days);
        (year - 1..=year + 1).any(|y| {
            let start = dst.start.instant(y, self.std_offset);
            let end = dst.end.instant(y, dst.offset);
            if start < end {
                start <= t && t < end
            } else if start > end {
                start <= t && t < dst.end.instant(y + 1, dst.offset)
            } else {
                false
            }
        })
    }

    /// Offset in force at instant `t`, in seconds east of UTC.
    pub fn offset_at(&self, t: UnixTime) -> i32 {
        match self.dst {
            Some(dst) if self.is_dst_at(t) => dst.offset,
            _ => self.std_offset,
        }
    }

    /// Local wall-clock time at `t`.
    ///
    /// A function of UTC, so the hour skipped when DST starts is never produced and the hour
    /// repeated when it ends is produced twice, by two different instants.
    pub fn local(&self, t: UnixTime) -> LocalTime {
        LocalTime::from_unix(t, self.offset_at(t))
    }
}

/// What a change of UTC offset does to the local clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shift {
    /// The clock jumps forward: the local times in between never happen, so a window there
    /// does not open that day.
    Gap,
    /// The clock goes back: the local times in between happen twice, so a window there stays
    /// open for longer in real time.
    Overlap,
}

/// One change of a rule's UTC offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OffsetChange {
    /// The UTC instant of the change.
    pub at: UnixTime,
    /// Whether local times are skipped or repeated.
    pub shift: Shift,
    /// The skipped or repeated local times: from `first` (inclusive) to `end` (exclusive).
    pub first: LocalTime,
    /// See `first`.
    pub end: LocalTime,
}

impl TzRule {
    /// The first change of offset strictly after `t`, if the rule has one (a valid rule with
    /// daylight saving changes twice a year).
    pub fn next_change(&self, t: UnixTime) -> Option<OffsetChange> {
        let dst = self.dst?;
        self.validate().ok()?;
        let t = t.as_secs().min(MAX_RULE_INSTANT);
        let year = civil_from_days_i64(i64::try_from(t).ok()?.div_euclid(DAY)).0;
        // Both transitions of the years around `t`; the earliest real change after it wins.
        (year - 1..=year + 2)
            .flat_map(|y| {
                [
                    dst.start.instant(y, self.std_offset),
                    dst.end.instant(y, dst.offset),
                ]
            })
            .filter_map(|at| u64::try_from(at).ok())
            .filter(|&at| {
                at > t
                    && self.offset_at(UnixTime::from_secs(at - 1))
                        != self.offset_at(UnixTime::from_secs(at))
            })
            .min()
            .map(|at| {
                let (before, at) = (UnixTime::from_secs(at - 1), UnixTime::from_secs(at));
                let (before, after) = (self.offset_at(before), self.offset_at(at));
                let (lo, hi, shift) = if after > before {
                    (before, after, Shift::Gap)
                } else {
                    (after, before, Shift::Overlap)
                };
                OffsetChange {
                    at,
                    shift,
                    first: LocalTime::from_unix(at, lo),
                    end: LocalTime::from_unix(at, hi),
                }
            })
    }
}

/// A local wall-clock reading: a date and the second within it.
///
/// Ordered by date, then time of day. Times built with [`TzRule::local`],
/// [`LocalTime::from_unix`] or [`LocalTime::from_civil`] have `second_of_day < 86400`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime {
    /// Local date, days since 1970-01-01.
    pub days: Days,
    /// Seconds since local midnight, 0..86400.
    pub second_of_day: u32,
}

impl LocalTime {
    /// The wall-clock time at `t` in a zone `offset` seconds east of UTC.
    pub fn from_unix(t: UnixTime, offset: i32) -> LocalTime {
        // u64::MAX / 86400 fits in i64, and an i32 offset moves it by at most 24856 days.
        let t = t.as_secs();
        let days = i64::try_from(t / DAY as u64).unwrap_or(i64::MAX);
        let seconds = i64::try_from(t % DAY as u64).unwrap_or(0) + i64::from(offset);
        LocalTime {
            days: days.saturating_add(seconds.div_euclid(DAY)),
            // rem_euclid is in 0..86400.
            second_of_day: u32::try_from(seconds.rem_euclid(DAY)).unwrap_or(0),
        }
    }

    /// The local time `y-m-d hh:mm:ss`, or `None` if the date or time is invalid.
    pub fn from_civil(y: i32, m: u8, d: u8, hh: u8, mm: u8, ss: u8) -> Option<LocalTime> {
        if hh > 23 || mm > 59 || ss > 59 {
            return None;
        }
        Some(LocalTime {
            days: super::civil::days_from_civil(y, m, d)?,
            second_of_day: u32::from(hh) * 3600 + u32::from(mm) * 60 + u32::from(ss),
        })
    }

    /// ISO weekday: 0 = Monday ..= 6 = Sunday.
    pub fn weekday(&self) -> u8 {
        weekday(self.days)
    }

    /// Minutes since local midnight (0..1440 for a well-formed reading).
    pub fn minute_of_day(&self) -> u16 {
        u16::try_from(self.second_of_day / 60).unwrap_or(u16::MAX)
    }

    /// Calendar date `(year, month, day)`.
    pub fn date(&self) -> (i32, u8, u8) {
        civil_from_days(self.days)
    }
}

/// A cursor over a TZ string. Every method either consumes what it recognises or fails.
struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn require(&mut self, b: u8) -> Result<()> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(Error::Malformed)
        }
    }

    /// Consumes bytes while `f` holds and returns how many.
    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// A zone abbreviation, unquoted (`CET`) or quoted (`<+1030>`).
    fn name(&mut self) -> Result<()> {
        let len = if self.eat(b'<') {
            let len = self.take_while(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-');
            self.require(b'>')?;
            len
        } else {
            self.take_while(|b| b.is_ascii_alphabetic())
        };
        if len >= 3 {
            Ok(())
        } else {
            Err(Error::Malformed)
        }
    }

    /// An unsigned decimal of 1..=`max_digits` digits (at most 3, so no overflow).
    fn number(&mut self, max_digits: usize) -> Result<u32> {
        let mut value = 0u32;
        let mut digits = 0;
        while digits < max_digits {
            match self.peek() {
                Some(b @ b'0'..=b'9') => {
                    value = value * 10 + u32::from(b - b'0');
                    digits += 1;
                    self.pos += 1;
                }
                _ => break,
            }
        }
        if digits == 0 {
            Err(Error::Malformed)
        } else {
            Ok(value)
        }
    }

    /// Exactly two digits, at most 59 (minutes or seconds).
    fn sexagesimal(&mut self) -> Result<i32> {
        let start = self.pos;
        let value = self.number(2)?;
        if self.pos - start != 2 || value > 59 {
            return Err(Error::Malformed);
        }
        Ok(value as i32)
    }

    /// `[+|-]hh[:mm[:ss]]` with `hh <= max_hours`, as signed seconds.
    fn duration(&mut self, max_hours: u32) -> Result<i32> {
        let negative = if self.eat(b'-') {
            true
        } else {
            self.eat(b'+');
            false
        };
        let hours = self.number(if max_hours >= 100 { 3 } else { 2 })?;
        if hours > max_hours {
            return Err(Error::Malformed);
        }
        // hours <= 167, so this stays far inside i32.
        let mut seconds = hours as i32 * 3600;
        if self.eat(b':') {
            seconds += self.sexagesimal()? * 60;
            if self.eat(b':') {
                seconds += self.sexagesimal()?;
            }
        }
        Ok(if negative { -seconds } else { seconds })
    }

    /// A UTC offset as written in a TZ string (west positive), returned east positive.
    fn offset(&mut self, max_hours: u32) -> Result<i32> {
        Ok(-self.duration(max_hours)?)
    }

    /// `Mm.w.d[/time]`.
    fn transition(&mut self) -> Result<Transition> {
        // `Jn` and `n` forms fail here.
        self.require(b'M')?;
        let month = self.number(2)?;
        self.require(b'.')?;
        let week = self.number(1)?;
        self.require(b'.')?;
        let weekday = self.number(1)?;
        let time = if self.eat(b'/') {
            self.duration(167)?
        } else {
            2 * 3600
        };
        let transition = Transition {
            month: u8::try_from(month).map_err(|_| Error::Malformed)?,
            week: u8::try_from(week).map_err(|_| Error::Malformed)?,
            weekday: u8::try_from(weekday).map_err(|_| Error::Malformed)?,
            time,
        };
        transition.validate()?;
        Ok(transition)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use crate::time::Seconds;
    use crate::time::civil::days_from_civil;
    use proptest::prelude::*;
    use std::string::String;

    const H: i32 = 3600;

    fn tr(month: u8, week: u8, weekday: u8, time: i32) -> Transition {
        Transition {
            month,
            week,
            weekday,
            time,
        }
    }

    fn utc(y: i32, m: u8, d: u8, hh: u64, mm: u64, ss: u64) -> UnixTime {
        let days = days_from_civil(y, m, d).unwrap();
        UnixTime::from_secs(u64::try_from(days).unwrap() * 86_400 + hh * 3600 + mm * 60 + ss)
    }

    fn wall(rule: &TzRule, t: UnixTime) -> ((i32, u8, u8), (u32, u32, u32)) {
        let l = rule.local(t);
        let s = l.second_of_day;
        (l.date(), (s / 3600, s / 60 % 60, s % 60))
    }

    #[test]
    fn parses_examples() {
        // Expected values worked out from the POSIX grammar: the written offset is west of
        // UTC, DST defaults to std + 1h, transition times default to 02:00.
        let cases: &[(&str, TzRule)] = &[
            (
                "CET-1CEST,M3.5.0,M10.5.0/3",
                TzRule {
                    std_offset: H,
                    dst: Some(DstRule {
                        offset: 2 * H,
                        start: tr(3, 5, 0, 2 * H),
                        end: tr(10, 5, 0, 3 * H),
                    }),
                },
            ),
            (
                "EST5EDT,M3.2.0,M11.1.0",
                TzRule {
                    std_offset: -5 * H,
                    dst: Some(DstRule {
                        offset: -4 * H,
                        start: tr(3, 2, 0, 2 * H),
                        end: tr(11, 1, 0, 2 * H),
                    }),
                },
            ),
            (
                "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
                TzRule {
                    std_offset: 10 * H + 1800,
                    dst: Some(DstRule {
                        offset: 11 * H,
                        start: tr(10, 1, 0, 2 * H),
                        end: tr(4, 1, 0, 2 * H),
                    }),
                },
            ),
            (
                "AEST-10AEDT,M10.1.0,M4.1.0/3",
                TzRule {
                    std_offset: 10 * H,
                    dst: Some(DstRule {
                        offset: 11 * H,
                        start: tr(10, 1, 0, 2 * H),
                        end: tr(4, 1, 0, 3 * H),
                    }),
                },
            ),
            (
                "NZST-12NZDT,M9.5.0,M4.1.0/3",
                TzRule {
                    std_offset: 12 * H,
                    dst: Some(DstRule {
                        offset: 13 * H,
                        start: tr(9, 5, 0, 2 * H),
                        end: tr(4, 1, 0, 3 * H),
                    }),
                },
            ),
            ("UTC0", TzRule::UTC),
            (
                "JST-9",
                TzRule {
                    std_offset: 9 * H,
                    dst: None,
                },
            ),
            (
                "<-03>3",
                TzRule {
                    std_offset: -3 * H,
                    dst: None,
                },
            ),
            (
                "IST-5:30",
                TzRule {
                    std_offset: 5 * H + 1800,
                    dst: None,
                },
            ),
            // Less common but valid forms: explicit '+', seconds, negative and >24h times.
            (
                "ABC+3:15:07DEF+2:00:01,M12.5.6/-1:30,M1.1.1/167",
                TzRule {
                    std_offset: -(3 * H + 15 * 60 + 7),
                    dst: Some(DstRule {
                        offset: -(2 * H + 1),
                        start: tr(12, 5, 6, -(H + 1800)),
                        end: tr(1, 1, 1, 167 * H),
                    }),
                },
            ),
            // America/Godthab-style footer: std and dst with an explicit DST offset.
            (
                "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
                TzRule {
                    std_offset: -2 * H,
                    dst: Some(DstRule {
                        offset: -H,
                        start: tr(3, 5, 0, -H),
                        end: tr(10, 5, 0, 0),
                    }),
                },
            ),
        ];
        for (s, expected) in cases {
            assert_eq!(TzRule::parse(s), Ok(*expected), "{s}");
            assert_eq!(expected.validate(), Ok(()), "{s}");
        }
    }

    #[test]
    fn rejects_malformed() {
        let bad = [
            "",
            "CET",
            "CET-",
            "CET-1CEST",
            "CET-1CEST,M3.5.0",
            "CET-1CEST,M3.5.0,",
            "CET-1CEST,M13.1.0,M10.5.0",
            "CET-1CEST,M0.1.0,M10.5.0",
            "CET-1CEST,M3.0.0,M10.5.0",
            "CET-1CEST,M3.6.0,M10.5.0",
            "CET-1CEST,M3.5.7,M10.5.0",
            "CET-1CEST,J60,M10.5.0",
            "CET-1CEST,60,M10.5.0",
            "CET-1CEST,M3.5.0,J300",
            "CET-1CEST,M3.5.0,M10.5.0/168",
            "CET-1CEST,M3.5.0,M10.5.0/3:60",
            "CET-1CEST,M3.5.0,M10.5.0/3:5",
            "CET-1CEST,M3.5.0,M10.5.0x",
            "CET-1CEST,M3.5.0,M10.5.0,",
            "CET-1 ",
            "CET-1x",
            "UTC0junk",
            "CE-1",
            "C3T-1",
            "<+1>-1",
            "<+10-10",
            "<+1 0>-10",
            "CET25",
            "CET-1:60",
            "CET-1:00:60",
            "CET-001",
            "-1",
            "CET-1CEST-25,M3.5.0,M10.5.0",
            "CET-1CE,M3.5.0,M10.5.0",
            "CET-1CEST,,M3.5.0,M10.5.0",
            "CET-1CEST,M3.5,M10.5.0",
            "CET-1CEST,M3..5.0,M10.5.0",
            "CET−1", // a Unicode minus sign
        ];
        for s in bad {
            assert_eq!(TzRule::parse(s), Err(Error::Malformed), "{s:?}");
        }
        let long = "<AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA>0";
        assert_eq!(long.len(), 65);
        assert_eq!(TzRule::parse(long), Err(Error::Oversize));
        assert_eq!(TzRule::parse(&long[1..]), Err(Error::Malformed));
        let ok64 = "<AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA>0";
        assert_eq!(ok64.len(), 64);
        assert_eq!(TzRule::parse(ok64), Ok(TzRule::UTC));
    }

    #[test]
    fn fixed_and_validate() {
        assert_eq!(TzRule::fixed(0), Ok(TzRule::UTC));
        assert_eq!(
            TzRule::fixed(MAX_OFFSET).map(|r| r.std_offset),
            Ok(MAX_OFFSET)
        );
        assert_eq!(
            TzRule::fixed(-MAX_OFFSET).map(|r| r.std_offset),
            Ok(-MAX_OFFSET)
        );
        assert_eq!(TzRule::fixed(MAX_OFFSET + 1), Err(Error::Malformed));
        assert_eq!(TzRule::fixed(i32::MIN), Err(Error::Malformed));
        let good = TzRule::parse("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        let mut dst = good.dst.unwrap();
        for broken in [
            DstRule {
                offset: MAX_OFFSET + 1,
                ..dst
            },
            DstRule {
                start: tr(0, 1, 0, 0),
                ..dst
            },
            DstRule {
                end: tr(10, 6, 0, 0),
                ..dst
            },
            DstRule {
                end: tr(10, 5, 7, 0),
                ..dst
            },
            DstRule {
                start: tr(3, 5, 0, MAX_TRANSITION_TIME + 1),
                ..dst
            },
        ] {
            let rule = TzRule {
                dst: Some(broken),
                ..good
            };
            assert_eq!(rule.validate(), Err(Error::Malformed));
            // An invalid rule is never a panic; its DST part is ignored.
            assert_eq!(rule.offset_at(utc(2025, 7, 1, 0, 0, 0)), H);
        }
        dst.start.time = -MAX_TRANSITION_TIME;
        assert!(
            TzRule {
                dst: Some(dst),
                ..good
            }
            .validate()
            .is_ok()
        );
    }

    #[test]
    fn wire_encoding_is_small_and_round_trips() {
        let rule = TzRule::parse("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        let mut buf = [0u8; 32];
        let n = crate::wire::put(&rule, &mut buf).unwrap();
        assert!(n <= 16, "{n} bytes");
        let back: TzRule = crate::wire::take_all(&buf[..n]).unwrap();
        assert_eq!(back, rule);
        let n = crate::wire::put(&TzRule::UTC, &mut buf).unwrap();
        assert_eq!(&buf[..n], &[0, 0]);
    }

    #[test]
    fn berlin_transitions() {
        let berlin = TzRule::parse("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        // Spring forward on Sunday 2025-03-30 at 01:00Z: 02:00 CET becomes 03:00 CEST.
        assert_eq!(
            wall(&berlin, utc(2025, 3, 30, 0, 59, 59)),
            ((2025, 3, 30), (1, 59, 59))
        );
        assert_eq!(
            wall(&berlin, utc(2025, 3, 30, 1, 0, 0)),
            ((2025, 3, 30), (3, 0, 0))
        );
        // Fall back on Sunday 2025-10-26 at 01:00Z: 03:00 CEST becomes 02:00 CET.
        assert_eq!(
            wall(&berlin, utc(2025, 10, 26, 0, 30, 0)),
            ((2025, 10, 26), (2, 30, 0))
        );
        assert_eq!(
            wall(&berlin, utc(2025, 10, 26, 0, 59, 59)),
            ((2025, 10, 26), (2, 59, 59))
        );
        assert_eq!(
            wall(&berlin, utc(2025, 10, 26, 1, 0, 0)),
            ((2025, 10, 26), (2, 0, 0))
        );
        assert_eq!(
            wall(&berlin, utc(2025, 10, 26, 1, 30, 0)),
            ((2025, 10, 26), (2, 30, 0))
        );
        assert_eq!(berlin.offset_at(utc(2025, 1, 15, 12, 0, 0)), H);
        assert_eq!(berlin.offset_at(utc(2025, 7, 15, 12, 0, 0)), 2 * H);
        // New Year's Eve in winter, just either side of midnight local.
        assert_eq!(
            wall(&berlin, utc(2025, 12, 31, 22, 59, 59)),
            ((2025, 12, 31), (23, 59, 59))
        );
        assert_eq!(
            wall(&berlin, utc(2025, 12, 31, 23, 0, 0)),
            ((2026, 1, 1), (0, 0, 0))
        );
    }

    #[test]
    fn southern_hemisphere_spans_new_year() {
        let sydney = TzRule::parse("AEST-10AEDT,M10.1.0,M4.1.0/3").unwrap();
        // DST starts Sunday 2025-10-05 at 02:00 AEST = 2025-10-04T16:00Z.
        assert_eq!(sydney.offset_at(utc(2025, 10, 4, 15, 59, 59)), 10 * H);
        assert_eq!(sydney.offset_at(utc(2025, 10, 4, 16, 0, 0)), 11 * H);
        // Still DST across the new year, in the middle of the southern summer.
        assert_eq!(sydney.offset_at(utc(2025, 12, 31, 13, 0, 0)), 11 * H);
        assert_eq!(
            wall(&sydney, utc(2025, 12, 31, 13, 0, 0)),
            ((2026, 1, 1), (0, 0, 0))
        );
        assert_eq!(sydney.offset_at(utc(2026, 1, 20, 0, 0, 0)), 11 * H);
        // DST ends Sunday 2026-04-05 at 03:00 AEDT = 2026-04-04T16:00Z.
        assert_eq!(sydney.offset_at(utc(2026, 4, 4, 15, 59, 59)), 11 * H);
        assert_eq!(sydney.offset_at(utc(2026, 4, 4, 16, 0, 0)), 10 * H);
        assert_eq!(sydney.offset_at(utc(2026, 7, 1, 0, 0, 0)), 10 * H);

        // Lord Howe shifts by half an hour: ends 2026-04-05 02:00 +11 = 2026-04-04T15:00Z.
        let lord_howe = TzRule::parse("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0").unwrap();
        assert_eq!(lord_howe.offset_at(utc(2026, 4, 4, 14, 59, 59)), 11 * H);
        assert_eq!(
            lord_howe.offset_at(utc(2026, 4, 4, 15, 0, 0)),
            10 * H + 1800
        );
        assert_eq!(
            wall(&lord_howe, utc(2026, 4, 4, 15, 0, 0)),
            ((2026, 4, 5), (1, 30, 0))
        );
    }

    #[test]
    fn transition_crossing_new_year() {
        // Start on the last Saturday of December at 25:00 (Sunday 01:00 of the next day, in
        // some years already January) and end on the first Monday of January at -1:00
        // (Sunday 23:00 before it).
        let rule = TzRule::parse("AAA0BBB,M12.5.6/25,M1.1.1/-1").unwrap();
        // 2025: last Saturday of December is the 27th; DST from 2025-12-28T01:00Z
        // until the first Monday of 2026 (the 5th) at -1:00 DST = 2026-01-04T22:00Z.
        assert_eq!(rule.offset_at(utc(2025, 12, 28, 0, 59, 59)), 0);
        assert_eq!(rule.offset_at(utc(2025, 12, 28, 1, 0, 0)), H);
        assert_eq!(rule.offset_at(utc(2026, 1, 4, 21, 59, 59)), H);
        assert_eq!(rule.offset_at(utc(2026, 1, 4, 22, 0, 0)), 0);
        // Most of the year is standard time.
        assert_eq!(rule.offset_at(utc(2026, 6, 1, 0, 0, 0)), 0);
    }

    #[test]
    fn fifth_week_means_last() {
        let start = TzRule::parse("CET-1CEST,M3.5.0,M10.5.0/3")
            .unwrap()
            .dst
            .unwrap()
            .start;
        // Last Sunday of March: in 2026 March has five Sundays (1st..29th); in 2023 four
        // (5th..26th); in 2029 four, and a fifth would be 1 April, exactly one month on.
        for (year, day) in [(2026, 29), (2023, 26), (2029, 25)] {
            let days = days_from_civil(year, 3, day).unwrap();
            assert_eq!(weekday(days), 6);
            assert_eq!(start.instant(i64::from(year), H), days * 86_400 + 3600);
        }
        // The 2nd Sunday of March 2025 is the 9th (the 1st is the 2nd), 02:00 EST = 07:00Z.
        let second = tr(3, 2, 0, 2 * H);
        let days = days_from_civil(2025, 3, 9).unwrap();
        assert_eq!(second.instant(2025, -5 * H), days * 86_400 + 7 * 3600);
        // The 1st Saturday of a month that starts on a Saturday is the 1st (November 2025).
        let first = tr(11, 1, 6, 0);
        let days = days_from_civil(2025, 11, 1).unwrap();
        assert_eq!(first.instant(2025, 0), days * 86_400);
        // The 1st Sunday of a month that starts on a Monday is the 7th (September 2025).
        let first = tr(9, 1, 0, 0);
        let days = days_from_civil(2025, 9, 7).unwrap();
        assert_eq!(first.instant(2025, 0), days * 86_400);
    }

    #[test]
    fn start_equal_to_end_means_no_dst() {
        // Starts at 02:00 standard = 02:00Z and ends at 03:00 DST = 02:00Z: an empty season,
        // not a year-long one (glibc reads it the same way).
        let rule = TzRule::parse("AAA0BBB,M3.5.0/2,M3.5.0/3").unwrap();
        for month in 1..=12 {
            assert_eq!(rule.offset_at(utc(2025, month, 28, 2, 0, 0)), 0);
        }
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        let rules = [
            TzRule::parse("CET-1CEST,M3.5.0,M10.5.0/3").unwrap(),
            TzRule::parse("AEST-10AEDT,M10.1.0,M4.1.0/3").unwrap(),
            TzRule::fixed(-MAX_OFFSET).unwrap(),
            TzRule::fixed(MAX_OFFSET).unwrap(),
            TzRule {
                std_offset: i32::MIN,
                dst: None,
            },
            TzRule {
                std_offset: i32::MAX,
                dst: Some(DstRule {
                    offset: i32::MIN,
                    start: tr(255, 255, 255, i32::MIN),
                    end: tr(0, 0, 0, i32::MAX),
                }),
            },
        ];
        for rule in rules {
            for t in [
                0,
                1,
                86_399,
                MAX_RULE_INSTANT,
                MAX_RULE_INSTANT + 1,
                u64::MAX,
            ] {
                let l = rule.local(UnixTime::from_secs(t));
                assert!(l.second_of_day < 86_400);
                let _ = (l.date(), l.weekday(), l.minute_of_day());
            }
        }
        assert_eq!(TzRule::fixed(-H).unwrap().local(UnixTime::EPOCH).days, -1);
    }

    #[test]
    fn local_time_helpers() {
        let l = LocalTime::from_civil(2025, 3, 30, 23, 59, 30).unwrap();
        assert_eq!(l.date(), (2025, 3, 30));
        assert_eq!(l.weekday(), 6);
        assert_eq!(l.minute_of_day(), 1439);
        assert!(LocalTime::from_civil(2025, 3, 30, 24, 0, 0).is_none());
        assert!(LocalTime::from_civil(2025, 2, 29, 0, 0, 0).is_none());
        assert!(l < LocalTime::from_civil(2025, 3, 31, 0, 0, 0).unwrap());
        let odd = LocalTime {
            days: 0,
            second_of_day: u32::MAX,
        };
        assert_eq!(odd.minute_of_day(), u16::MAX);
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = TzRule::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = TzRule::parse(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn parse_never_panics_on_tz_alphabet(s in "[A-Z<>+\\-0-9:,./JM]{0,70}") {
            if let Ok(rule) = TzRule::parse(&s) {
                prop_assert_eq!(rule.validate(), Ok(()));
            }
        }

        #[test]
        fn structured_rules_parse_back(
            std_h in 0u32..=24, std_m in 0u32..60, std_neg: bool,
            m1 in 1u8..=12, w1 in 1u8..=5, d1 in 0u8..=6, t1 in -167i32..=167,
            m2 in 1u8..=12, w2 in 1u8..=5, d2 in 0u8..=6, t2 in -167i32..=167,
        ) {
            let sign = if std_neg { "-" } else { "+" };
            let s = std::format!(
                "<STD>{sign}{std_h}:{std_m:02}DST,M{m1}.{w1}.{d1}/{t1},M{m2}.{w2}.{d2}/{t2}"
            );
            let std_offset = (std_h * 3600 + std_m * 60) as i32 * if std_neg { 1 } else { -1 };
            let expected = TzRule {
                std_offset,
                dst: Some(DstRule {
                    offset: std_offset + 3600,
                    start: tr(m1, w1, d1, t1 * 3600),
                    end: tr(m2, w2, d2, t2 * 3600),
                }),
            };
            let parsed = TzRule::parse(&s);
            if expected.validate().is_ok() {
                prop_assert_eq!(parsed, Ok(expected));
            } else {
                prop_assert_eq!(parsed, Err(Error::Malformed));
            }
        }

        #[test]
        fn any_rule_any_instant_is_total(
            std_offset in any::<i32>(), offset in any::<i32>(),
            m1: u8, w1: u8, d1: u8, t1: i32, m2: u8, w2: u8, d2: u8, t2: i32,
            t: u64,
        ) {
            let rule = TzRule {
                std_offset,
                dst: Some(DstRule { offset, start: tr(m1, w1, d1, t1), end: tr(m2, w2, d2, t2) }),
            };
            let t = UnixTime::from_secs(t);
            let l = rule.local(t);
            prop_assert!(l.second_of_day < 86_400);
            let o = rule.offset_at(t);
            prop_assert!(o == std_offset || o == offset);
        }

        #[test]
        fn local_is_monotone_within_a_fixed_offset(t in 0u64..4_000_000_000, dt in 0u64..86_400) {
            let rule = TzRule::fixed(-7 * H).unwrap();
            let t = UnixTime::from_secs(t);
            prop_assert!(rule.local(t) <= rule.local(t + Seconds::from_secs(dt)));
        }
    }
}
