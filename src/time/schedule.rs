//! Recurring weekly access windows in the lock's local wall-clock time.
//!
//! A [`Schedule`] is evaluated on [`LocalTime`], never on UTC, so "Monday to Friday,
//! 12:00 to 13:00" stays 12:00 to 13:00 on the door across daylight-saving changes: the
//! lock's [`TzRule`] does the conversion.
//!
//! Occurrences belong to the date they *start* on. An exception date cancels the occurrences
//! starting that day; the tail of an occurrence that started the evening before and runs past
//! midnight is not cancelled (a cleaner's night shift ending at 02:00 on a holiday still ends
//! at 02:00). This matches how people read "no access on the 25th" for a window that starts
//! on the 24th, and keeps [`Schedule::permits`] a function of two dates.

use super::civil::{Days, weekday};
use super::tz::{LocalTime, OffsetChange, TzRule};
use super::{Seconds, UnixTime};
use crate::error::{Error, Result};
use crate::wire::Bounded;
use serde::{Deserialize, Serialize};

/// Most windows a schedule may carry.
pub const MAX_WINDOWS: usize = 8;
/// Most exception dates a schedule may carry.
pub const MAX_EXCEPTIONS: usize = 8;
/// Minutes in a day.
pub const MINUTES_PER_DAY: u16 = 1440;

/// One weekly window: on each day in `days`, from `start` (minute of the local day) for
/// `length` minutes.
///
/// A window may cross midnight (`start + length > 1440`) and then continues into the next day;
/// at most 1440 minutes long, so it never reaches a third day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WeeklyWindow {
    /// Days the window starts on: bit 0 = Monday ..= bit 6 = Sunday; bit 7 must be clear and
    /// at least one day must be set.
    pub days: u8,
    /// First minute of the window, minutes after local midnight, below 1440.
    pub start: u16,
    /// Length in minutes, 1..=1440.
    pub length: u16,
}

impl WeeklyWindow {
    /// Monday's bit in [`WeeklyWindow::days`].
    pub const MONDAY: u8 = 1 << 0;
    /// Tuesday's bit.
    pub const TUESDAY: u8 = 1 << 1;
    /// Wednesday's bit.
    pub const WEDNESDAY: u8 = 1 << 2;
    /// Thursday's bit.
    pub const THURSDAY: u8 = 1 << 3;
    /// Friday's bit.
    pub const FRIDAY: u8 = 1 << 4;
    /// Saturday's bit.
    pub const SATURDAY: u8 = 1 << 5;
    /// Sunday's bit.
    pub const SUNDAY: u8 = 1 << 6;
    /// Monday to Friday.
    pub const WEEKDAYS: u8 = 0b0001_1111;
    /// Saturday and Sunday.
    pub const WEEKEND: u8 = 0b0110_0000;
    /// Every day of the week.
    pub const EVERY_DAY: u8 = 0b0111_1111;

    /// A validated window.
    pub fn new(days: u8, start: u16, length: u16) -> Result<WeeklyWindow> {
        let window = WeeklyWindow {
            days,
            start,
            length,
        };
        window.validate()?;
        Ok(window)
    }

    /// Checks the ranges documented on the fields.
    pub fn validate(&self) -> Result<()> {
        let ok = self.days != 0
            && self.days & 0x80 == 0
            && self.start < MINUTES_PER_DAY
            && (1..=MINUTES_PER_DAY).contains(&self.length);
        if ok { Ok(()) } else { Err(Error::Malformed) }
    }

    /// Whether the window starts on ISO weekday `wd` (0 = Monday).
    fn starts_on(&self, wd: u8) -> bool {
        self.days
            .checked_shr(u32::from(wd))
            .is_some_and(|d| d & 1 == 1)
    }

    /// Minute (of the start day) at which the window ends, exclusive; up to 2879.
    fn end(&self) -> u32 {
        u32::from(self.start) + u32::from(self.length)
    }
}

/// Recurring weekly access in the lock's local time, with exception dates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Schedule {
    /// The weekly windows; access is allowed inside any of them.
    pub windows: Bounded<WeeklyWindow, MAX_WINDOWS>,
    /// Local dates (days since 1970-01-01) on which no occurrence starts, strictly ascending.
    pub exceptions: Bounded<Days, MAX_EXCEPTIONS>,
}

/// Minute-of-day intervals `[from, to)` permitted on one date: each window contributes at most
/// its occurrence starting that day and the tail of the one starting the day before.
#[derive(Clone, Copy)]
struct DayIntervals {
    len: usize,
    items: [(u16, u16); 2 * MAX_WINDOWS],
}

impl DayIntervals {
    fn as_slice(&self) -> &[(u16, u16)] {
        self.items.get(..self.len).unwrap_or(&[])
    }

    fn push(&mut self, from: u32, to: u32) {
        let to = to.min(u32::from(MINUTES_PER_DAY));
        if from >= to {
            return;
        }
        // Both bounded by 1440 here.
        let (Ok(from), Ok(to)) = (u16::try_from(from), u16::try_from(to)) else {
            return;
        };
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = (from, to);
            self.len += 1;
        }
    }

    fn contains(&self, minute: u16) -> bool {
        self.as_slice()
            .iter()
            .any(|&(from, to)| from <= minute && minute < to)
    }

    /// Whether every interval of `self` lies inside the union of `other`'s.
    fn covered_by(&self, other: &DayIntervals) -> bool {
        self.as_slice().iter().all(|&(from, to)| {
            // Walk from `from`, each step jumping to the furthest end of an interval of
            // `other` that contains the cursor; the cursor strictly increases, so this ends.
            let mut cursor = from;
            while cursor < to {
                let reach = other
                    .as_slice()
                    .iter()
                    .filter(|&&(a, b)| a <= cursor && cursor < b)
                    .map(|&(_, b)| b)
                    .max();
                match reach {
                    Some(b) => cursor = b,
                    None => return false,
                }
            }
            true
        })
    }
}

impl Schedule {
    /// A validated schedule.
    ///
    /// ```
    /// use doorkey::Error;
    /// use doorkey::time::{Schedule, WeeklyWindow, days_from_civil};
    ///
    /// # fn main() -> doorkey::Result<()> {
    /// // A cleaner's night shift: Saturdays 22:00 to 02:00, crossing midnight.
    /// let night = WeeklyWindow::new(WeeklyWindow::SATURDAY, 22 * 60, 4 * 60)?;
    /// let christmas = days_from_civil(2026, 12, 25).ok_or(Error::Misuse)?;
    /// let boxing_day = days_from_civil(2026, 12, 26).ok_or(Error::Misuse)?;
    /// let cleaner = Schedule::new(&[night], &[christmas, boxing_day])?;
    /// assert!(cleaner.is_within(&Schedule::new(&[night], &[])?)); // narrower: fewer dates
    ///
    /// // Exception dates must be strictly ascending: one encoding per schedule.
    /// let unsorted = Schedule::new(&[night], &[boxing_day, christmas]);
    /// assert!(matches!(unsorted, Err(Error::Malformed)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(windows: &[WeeklyWindow], exceptions: &[Days]) -> Result<Schedule> {
        let schedule = Schedule {
            windows: Bounded::from_slice(windows).ok_or(Error::Oversize)?,
            exceptions: Bounded::from_slice(exceptions).ok_or(Error::Oversize)?,
        };
        schedule.validate()?;
        Ok(schedule)
    }

    /// Checks that every window is in range, that there is at least one window, and that the
    /// exception dates are strictly ascending (one canonical encoding, no duplicates).
    pub fn validate(&self) -> Result<()> {
        if self.windows.is_empty() {
            return Err(Error::Malformed);
        }
        for window in self.windows.as_slice() {
            window.validate()?;
        }
        let ascending = self
            .exceptions
            .as_slice()
            .windows(2)
            .all(|pair| matches!(pair, [a, b] if a < b));
        if ascending {
            Ok(())
        } else {
            Err(Error::Malformed)
        }
    }

    /// Whether local time `t` falls inside an occurrence of a window whose starting date is
    /// not an exception date.
    ///
    /// Resolution is the minute: a window from 12:00 for 60 minutes permits 12:00:00 through
    /// 12:59:59. Fails closed: an invalid schedule (see [`Schedule::validate`]) permits nothing.
    pub fn permits(&self, t: LocalTime) -> bool {
        if self.validate().is_err() {
            return false;
        }
        // Normalise a hand-built reading whose second_of_day overflows the day.
        let Some(date) = t.days.checked_add(i64::from(t.second_of_day / 86_400)) else {
            return false;
        };
        let minute = u16::try_from(t.second_of_day % 86_400 / 60).unwrap_or(u16::MAX);
        self.intervals_on(date)
            .is_some_and(|day| day.contains(minute))
    }

    /// The first change of `tz`'s offset in `[from, until)` whose skipped or repeated local
    /// times this schedule permits at some minute: a window there never opens that day (a
    /// gap) or stays open for longer in real time (an overlap). With no `until`, changes are
    /// checked to two years past `from` and past the last exception date, after which the
    /// pattern repeats (transitions fall on fixed weekdays, and the schedule depends only on
    /// the weekday and the exception dates). Issuers ask this before signing.
    pub fn dst_conflict(
        &self,
        tz: &TzRule,
        from: UnixTime,
        until: Option<UnixTime>,
    ) -> Option<OffsetChange> {
        const HORIZON: Seconds = Seconds::from_days(2 * 366 + 7);
        let last_exception = self
            .exceptions
            .as_slice()
            .last()
            .and_then(|d| u64::try_from(*d).ok())
            .map_or(UnixTime::EPOCH, |d| UnixTime::EPOCH + Seconds::from_days(d));
        let until = until.unwrap_or(from.max(last_exception) + HORIZON);
        let mut t = from - Seconds::from_secs(1);
        while let Some(change) = tz.next_change(t).filter(|c| c.at < until) {
            let minutes = (change.first.days * 1440 + i64::from(change.first.second_of_day / 60))
                ..(change.end.days * 1440 + i64::from(change.end.second_of_day.div_ceil(60)));
            if minutes.clone().any(|m| {
                self.permits(LocalTime {
                    days: m.div_euclid(1440),
                    second_of_day: u32::try_from(m.rem_euclid(1440) * 60).unwrap_or(0),
                })
            }) {
                return Some(change);
            }
            t = change.at;
        }
        None
    }

    /// True if every local time this schedule permits is also permitted by `parent`.
    ///
    /// The check is exact for [`Schedule::permits`], not an approximation: both schedules
    /// must be valid, and then whether a time is permitted depends only on its date's weekday
    /// and on whether that date and the day before are exception dates. So the check compares
    /// the permitted minutes of
    /// - one generic date per weekday with no exception on it or the day before (such dates
    ///   exist for every weekday, since exceptions are finitely many), and
    /// - every concrete date that is, or follows, an exception date of either schedule,
    ///
    /// which covers every date there is. In particular a child need not copy a parent's
    /// exception date on which no parent occurrence starts, while a child window running past
    /// midnight into a date the parent only covers with an occurrence starting on an
    /// exception date is refused. Cost: at most 39 dates of at most 16 intervals each.
    pub fn is_within(&self, parent: &Schedule) -> bool {
        if self.validate().is_err() || parent.validate().is_err() {
            return false;
        }
        let generic = (0..7u8).all(|wd| {
            self.intervals(wd, true, true)
                .covered_by(&parent.intervals(wd, true, true))
        });
        if !generic {
            return false;
        }
        let exceptions = self
            .exceptions
            .as_slice()
            .iter()
            .chain(parent.exceptions.as_slice());
        exceptions
            .flat_map(|&e| [Some(e), e.checked_add(1)])
            .flatten()
            .all(
                |date| match (self.intervals_on(date), parent.intervals_on(date)) {
                    (Some(child), Some(parent)) => child.covered_by(&parent),
                    // The date before does not exist: permits() refuses this date for both.
                    _ => true,
                },
            )
    }

    /// The permitted minutes on local date `date`, or `None` if the day before it cannot be
    /// represented (such a date permits nothing).
    fn intervals_on(&self, date: Days) -> Option<DayIntervals> {
        let before = date.checked_sub(1)?;
        let exceptions = self.exceptions.as_slice();
        Some(self.intervals(
            weekday(date),
            !exceptions.contains(&date),
            !exceptions.contains(&before),
        ))
    }

    /// The permitted minutes on a date of ISO weekday `wd`, given whether occurrences may
    /// start that day (`today`) and whether they may have started the day before
    /// (`yesterday`).
    fn intervals(&self, wd: u8, today: bool, yesterday: bool) -> DayIntervals {
        let mut day = DayIntervals {
            len: 0,
            items: [(0, 0); 2 * MAX_WINDOWS],
        };
        let previous = (wd + 6) % 7;
        let full_day = u32::from(MINUTES_PER_DAY);
        for window in self.windows.as_slice() {
            if today && window.starts_on(wd) {
                day.push(u32::from(window.start), window.end());
            }
            if yesterday && window.starts_on(previous) && window.end() > full_day {
                day.push(0, window.end() - full_day);
            }
        }
        day
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use crate::time::civil::days_from_civil;
    use crate::time::tz::TzRule;
    use proptest::prelude::*;
    use std::vec::Vec;

    const MON: u8 = WeeklyWindow::MONDAY;
    const FRI: u8 = WeeklyWindow::FRIDAY;
    const SUN: u8 = WeeklyWindow::SUNDAY;

    fn window(days: u8, start: u16, length: u16) -> WeeklyWindow {
        WeeklyWindow::new(days, start, length).unwrap()
    }

    fn schedule(windows: &[WeeklyWindow], exceptions: &[Days]) -> Schedule {
        Schedule::new(windows, exceptions).unwrap()
    }

    /// 2025-06-02 was a Monday.
    fn monday() -> Days {
        let d = days_from_civil(2025, 6, 2).unwrap();
        assert_eq!(weekday(d), 0);
        d
    }

    fn at(days: Days, minute: u32) -> LocalTime {
        // Minutes may run past midnight; normalise here.
        LocalTime {
            days: days + i64::from(minute / 1440),
            second_of_day: minute % 1440 * 60,
        }
    }

    #[test]
    fn boundaries_of_a_window() {
        let s = schedule(&[window(MON, 9 * 60, 90)], &[]);
        let mon = monday();
        let (start, end) = (9 * 60, 9 * 60 + 90);
        assert!(!s.permits(at(mon, start - 1)));
        assert!(s.permits(at(mon, start)));
        assert!(s.permits(at(mon, end - 1)));
        assert!(!s.permits(at(mon, end)));
        // Seconds: the last second of the last minute is in, the next one out.
        let last = LocalTime {
            days: mon,
            second_of_day: end * 60 - 1,
        };
        assert!(s.permits(last));
        assert!(!s.permits(LocalTime {
            second_of_day: end * 60,
            ..last
        }));
        // Other days, same minute: refused.
        for d in 1..7 {
            assert!(!s.permits(at(mon + d, start)), "day {d}");
        }
        // Next week: allowed again.
        assert!(s.permits(at(mon + 7, start)));
        assert!(s.permits(at(mon - 7, end - 1)));
    }

    #[test]
    fn every_boundary_of_several_windows() {
        let windows = [
            window(WeeklyWindow::WEEKDAYS, 0, 1),
            window(WeeklyWindow::WEEKEND, 1439, 1),
            window(WeeklyWindow::TUESDAY | WeeklyWindow::THURSDAY, 600, 1440),
            window(WeeklyWindow::SATURDAY, 300, 5),
        ];
        let mon = monday();
        for w in windows {
            let s = schedule(&[w], &[]);
            for d in 0..7u8 {
                if !w.starts_on(d) {
                    continue;
                }
                let date = mon + i64::from(d);
                let (start, end) = (u32::from(w.start), w.end());
                let minute = |m: u32| at(date, m);
                if start > 0 && !w.starts_on((d + 6) % 7) {
                    assert!(!s.permits(minute(start - 1)), "{w:?} day {d}");
                }
                assert!(s.permits(minute(start)), "{w:?} day {d}");
                assert!(s.permits(minute(end - 1)), "{w:?} day {d}");
                if !(w.length == 1440 && w.starts_on((d + 1) % 7)) {
                    assert!(!s.permits(minute(end)), "{w:?} day {d}");
                }
            }
        }
    }

    #[test]
    fn window_crossing_midnight() {
        // Friday 22:00 for 4 hours: until Saturday 01:59 inclusive.
        let s = schedule(&[window(FRI, 22 * 60, 240)], &[]);
        let fri = monday() + 4;
        let sat = fri + 1;
        assert!(!s.permits(at(fri, 22 * 60 - 1)));
        assert!(s.permits(at(fri, 22 * 60)));
        assert!(s.permits(at(fri, 1439)));
        assert!(s.permits(at(sat, 0)));
        assert!(s.permits(at(sat, 119)));
        assert!(!s.permits(at(sat, 120)));
        // Thursday night and Saturday night: nothing.
        assert!(!s.permits(at(fri, 30)));
        assert!(!s.permits(at(sat, 22 * 60 + 30)));
    }

    #[test]
    fn sunday_night_wraps_into_monday() {
        let s = schedule(&[window(SUN, 23 * 60, 120)], &[]);
        let mon = monday();
        let sun = mon - 1;
        assert!(s.permits(at(sun, 23 * 60)));
        assert!(s.permits(at(mon, 59)));
        assert!(!s.permits(at(mon, 60)));
        assert!(!s.permits(at(sun, 59)), "Saturday's night is not Sunday's");
        // And the next Sunday into the next Monday.
        assert!(s.permits(at(mon + 7, 0)));
    }

    #[test]
    fn full_day_window_every_day_is_always_open() {
        let s = schedule(&[window(WeeklyWindow::EVERY_DAY, 600, 1440)], &[]);
        for m in (0..7 * 1440).step_by(7) {
            assert!(s.permits(at(monday(), m)));
        }
    }

    #[test]
    fn exception_cancels_the_occurrence_starting_that_day() {
        let fri = monday() + 4;
        let sat = fri + 1;
        let s = schedule(
            &[
                window(FRI, 22 * 60, 240),
                window(WeeklyWindow::SATURDAY, 600, 60),
            ],
            &[fri],
        );
        assert!(!s.permits(at(fri, 22 * 60)));
        assert!(
            !s.permits(at(sat, 30)),
            "the tail belongs to Friday's occurrence"
        );
        assert!(
            s.permits(at(sat, 630)),
            "Saturday's own window is not affected"
        );
        assert!(
            s.permits(at(fri + 7, 22 * 60)),
            "next Friday is not an exception"
        );

        // An exception on Saturday does not cut Friday's occurrence short.
        let s = schedule(&[window(FRI, 22 * 60, 240)], &[sat]);
        assert!(s.permits(at(fri, 23 * 60)));
        assert!(s.permits(at(sat, 119)));
    }

    #[test]
    fn validate_rejects_bad_ranges() {
        let ok = window(MON, 0, 1);
        assert!(WeeklyWindow::new(0, 0, 1).is_err(), "no days");
        assert!(WeeklyWindow::new(0x80, 0, 1).is_err(), "bit 7");
        assert!(WeeklyWindow::new(0xff, 0, 1).is_err(), "bit 7");
        assert!(WeeklyWindow::new(MON, 1440, 1).is_err(), "start");
        assert!(WeeklyWindow::new(MON, u16::MAX, 1).is_err(), "start");
        assert!(WeeklyWindow::new(MON, 0, 0).is_err(), "length 0");
        assert!(WeeklyWindow::new(MON, 0, 1441).is_err(), "length");
        assert!(WeeklyWindow::new(MON, 1439, 1440).is_ok());
        assert!(WeeklyWindow::new(0x7f, 0, 1).is_ok());

        assert_eq!(Schedule::new(&[], &[]), Err(Error::Malformed), "no window");
        assert_eq!(Schedule::default().validate(), Err(Error::Malformed));
        assert!(Schedule::new(&[ok], &[]).is_ok());
        assert!(Schedule::new(&[ok], &[-5, 0, 7]).is_ok());
        assert_eq!(Schedule::new(&[ok], &[3, 3]), Err(Error::Malformed));
        assert_eq!(Schedule::new(&[ok], &[4, 3]), Err(Error::Malformed));
        assert_eq!(Schedule::new(&[ok], &[1, 5, 2]), Err(Error::Malformed));
        assert_eq!(Schedule::new(&[ok; 9], &[]), Err(Error::Oversize));
        assert_eq!(Schedule::new(&[ok], &[0; 9]), Err(Error::Oversize));

        // An invalid schedule, however it was built, permits nothing.
        let mut bad = schedule(&[window(WeeklyWindow::EVERY_DAY, 0, 1440)], &[]);
        assert!(bad.permits(at(monday(), 0)));
        bad.exceptions = Bounded::from_slice(&[10, 1]).unwrap();
        assert!(!bad.permits(at(monday(), 0)));
        let bad = Schedule {
            windows: Bounded::from_slice(&[WeeklyWindow {
                days: 0xff,
                start: u16::MAX,
                length: u16::MAX,
            }])
            .unwrap(),
            exceptions: Bounded::new(),
        };
        assert!(!bad.permits(at(monday(), 0)));
        assert!(!bad.is_within(&bad));
    }

    #[test]
    fn extreme_local_times_do_not_panic() {
        let s = schedule(
            &[window(WeeklyWindow::EVERY_DAY, 0, 1440)],
            &[i64::MIN, i64::MAX],
        );
        for days in [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX - 1, i64::MAX] {
            for second_of_day in [0, 86_399, 86_400, u32::MAX] {
                let _ = s.permits(LocalTime {
                    days,
                    second_of_day,
                });
            }
        }
        assert!(s.is_within(&s));
    }

    #[test]
    fn wire_round_trip() {
        let s = schedule(
            &[
                window(WeeklyWindow::WEEKDAYS, 720, 60),
                window(SUN, 1380, 120),
            ],
            &[20_000, 20_100],
        );
        let mut buf = [0u8; 64];
        let n = crate::wire::put(&s, &mut buf).unwrap();
        // Two length bytes, windows of at most 5 bytes, dates of 3 bytes (zigzag varints).
        assert!(n <= 1 + 2 * 5 + 1 + 2 * 3, "{n} bytes");
        let back: Schedule = crate::wire::take_all(&buf[..n]).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn is_within_examples() {
        let mon = monday();
        let parent = schedule(&[window(WeeklyWindow::WEEKDAYS, 8 * 60, 10 * 60)], &[mon]);
        // Narrower hours on fewer days, same exception: within.
        let child = schedule(&[window(MON | FRI, 9 * 60, 60)], &[mon]);
        assert!(child.is_within(&parent));
        assert!(parent.is_within(&parent));
        assert!(!parent.is_within(&child));
        // Missing the parent's exception on a day the child's window occurs: not within.
        let child = schedule(&[window(MON | FRI, 9 * 60, 60)], &[]);
        assert!(!child.is_within(&parent));
        // Missing a parent exception on which the child has no occurrence anyway: within.
        let child = schedule(&[window(FRI, 9 * 60, 60)], &[]);
        assert!(child.is_within(&parent));
        // One minute too early, or too late: not within.
        assert!(!schedule(&[window(MON, 8 * 60 - 1, 60)], &[mon]).is_within(&parent));
        assert!(!schedule(&[window(MON, 17 * 60, 61)], &[mon]).is_within(&parent));
        assert!(schedule(&[window(MON, 17 * 60, 60)], &[mon]).is_within(&parent));
        // Saturday: not within.
        assert!(!schedule(&[window(WeeklyWindow::SATURDAY, 600, 1)], &[]).is_within(&parent));

        // Two adjacent parent windows cover a child spanning both.
        let parent = schedule(&[window(MON, 600, 60), window(MON, 660, 60)], &[]);
        assert!(schedule(&[window(MON, 630, 60)], &[]).is_within(&parent));
        assert!(!schedule(&[window(MON, 630, 91)], &[]).is_within(&parent));
    }

    #[test]
    fn is_within_across_midnight_and_exceptions() {
        let mon = monday();
        let fri = mon + 4;
        let sat = fri + 1;
        // Parent: Friday 22:00 to Saturday 02:00, except on one Friday.
        let parent = schedule(&[window(FRI, 22 * 60, 240)], &[fri]);
        // A child occurrence starting on Saturday, covered only by the parent's Friday
        // occurrence: on the Saturday after the excepted Friday the parent is closed, so the
        // child must except that Saturday too.
        let child = schedule(&[window(WeeklyWindow::SATURDAY, 0, 60)], &[fri]);
        assert!(child.permits(at(sat, 30)) && !parent.permits(at(sat, 30)));
        assert!(!child.is_within(&parent));
        let child = schedule(&[window(WeeklyWindow::SATURDAY, 0, 60)], &[sat]);
        assert!(child.is_within(&parent));
        let child = schedule(&[window(WeeklyWindow::SATURDAY, 0, 60)], &[fri, sat]);
        assert!(child.is_within(&parent));
        // The same shape split into Friday evening plus Saturday morning.
        let child = schedule(
            &[
                window(FRI, 22 * 60, 120),
                window(WeeklyWindow::SATURDAY, 0, 120),
            ],
            &[fri, sat],
        );
        assert!(child.is_within(&parent));

        // Sunday 23:00 + 2h wraps past the week's end into Monday.
        let parent = schedule(&[window(SUN, 23 * 60, 120)], &[]);
        assert!(schedule(&[window(MON, 0, 60)], &[]).is_within(&parent));
        assert!(!schedule(&[window(MON, 0, 61)], &[]).is_within(&parent));
        assert!(schedule(&[window(SUN, 23 * 60 + 30, 90)], &[]).is_within(&parent));
    }

    #[test]
    fn dog_walker_across_dst_changes() {
        // Monday to Friday, 12:00 to 13:00, Europe/Berlin.
        let berlin = TzRule::parse("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        let walks = schedule(&[window(WeeklyWindow::WEEKDAYS, 12 * 60, 60)], &[]);
        let utc = |days: Days, hh: u64, mm: u64| {
            UnixTime::from_secs(u64::try_from(days).unwrap() * 86_400 + hh * 3600 + mm * 60)
        };
        let hour = Seconds::from_hours(1);
        // (Monday, in summer time). The changes are on Sundays 2025-03-30 and 2025-10-26.
        for (m, d, summer) in [
            (3, 24, false),
            (3, 31, true),
            (10, 20, true),
            (10, 27, false),
        ] {
            let monday = days_from_civil(2025, m, d).unwrap();
            assert_eq!(weekday(monday), 0);
            // 12:30 local is 11:30Z in winter (UTC+1) and 10:30Z in summer (UTC+2).
            let lunch_utc = if summer { 10 } else { 11 };
            for day in monday..monday + 5 {
                let in_walk = utc(day, lunch_utc, 30);
                let local = berlin.local(in_walk);
                assert_eq!((local.days, local.minute_of_day()), (day, 12 * 60 + 30));
                assert!(
                    walks.permits(local),
                    "2025-{m}-{d} + {} at 12:30",
                    day - monday
                );
                // An hour either side in UTC is outside the walk.
                assert!(!walks.permits(berlin.local(in_walk - hour)));
                assert!(!walks.permits(berlin.local(in_walk + hour)));
                // The other season's UTC time is an hour off.
                let other = if summer {
                    in_walk + hour
                } else {
                    in_walk - hour
                };
                assert!(!walks.permits(berlin.local(other)));
            }
            // Weekend: closed.
            assert!(!walks.permits(berlin.local(utc(monday + 5, lunch_utc, 30))));
        }
    }

    // -- properties -----------------------------------------------------------------------

    /// Exception dates are drawn from a fortnight near this day so they interact.
    const BASE: Days = 20_000;

    fn arb_window() -> impl Strategy<Value = WeeklyWindow> {
        // Coarse start and length grids make coverage between schedules likely, fine ones
        // exercise off-by-one minutes; mix both.
        let start = prop_oneof![(0u16..24).prop_map(|h| h * 60), 0u16..1440];
        let length = prop_oneof![(1u16..=24).prop_map(|h| h * 60), 1u16..=1440];
        (1u8..=0x7f, start, length).prop_map(|(days, start, length)| WeeklyWindow {
            days,
            start,
            length,
        })
    }

    fn arb_exceptions() -> impl Strategy<Value = Vec<Days>> {
        proptest::collection::btree_set(BASE..BASE + 14, 0..=4)
            .prop_map(|set| set.into_iter().collect())
    }

    fn arb_schedule() -> impl Strategy<Value = Schedule> {
        (
            proptest::collection::vec(arb_window(), 1..=4),
            arb_exceptions(),
        )
            .prop_map(|(w, e)| schedule(&w, &e))
    }

    /// A child derived from `parent` by narrowing: a subset of days, shrunk windows, and
    /// random exceptions plus, usually, all of the parent's. With `shift`, a window's start
    /// may move past midnight, so its occurrences start a day later than the parent's (which
    /// is not a narrowing next to a parent exception date).
    fn arb_narrowed(parent: Schedule, shift: bool) -> impl Strategy<Value = Schedule> {
        let windows = parent.windows.as_slice().to_vec();
        let n = windows.len();
        (
            proptest::collection::vec((any::<u8>(), 0u16..1440, 0u16..1440), n),
            proptest::collection::vec(any::<bool>(), n),
            arb_exceptions(),
            any::<bool>(),
        )
            .prop_map(move |(cuts, keep, extra, keep_all)| {
                let mut child = Vec::new();
                for ((w, (mask, cut_front, cut_back)), keep) in windows.iter().zip(cuts).zip(keep) {
                    let days = w.days & (mask | 1u8.wrapping_shl(w.days.trailing_zeros()));
                    let room = if shift {
                        w.length
                    } else {
                        w.length.min(1440 - w.start)
                    };
                    let front = cut_front % room;
                    let back = cut_back % (w.length - front);
                    let start = w.start + front;
                    let nw = WeeklyWindow {
                        days,
                        start: start % 1440,
                        length: w.length - front - back,
                    };
                    // Moving the start past midnight moves the days forward too.
                    let nw = if start >= 1440 {
                        WeeklyWindow {
                            days: (nw.days << 1 | nw.days >> 6) & 0x7f,
                            ..nw
                        }
                    } else {
                        nw
                    };
                    if keep || child.is_empty() {
                        child.push(nw);
                    }
                }
                let mut exceptions: Vec<Days> = extra;
                if keep_all {
                    exceptions.extend_from_slice(parent.exceptions.as_slice());
                }
                exceptions.sort_unstable();
                exceptions.dedup();
                exceptions.truncate(MAX_EXCEPTIONS);
                schedule(&child, &exceptions)
            })
    }

    /// Brute force over every minute of dates around the exceptions, far enough either side
    /// to include a full week free of exceptions.
    fn brute_force_within(child: &Schedule, parent: &Schedule) -> bool {
        (BASE - 9..BASE + 14 + 9).all(|date| {
            (0..1440).all(|m| !child.permits(at(date, m)) || parent.permits(at(date, m)))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn schedule_is_within_itself(s in arb_schedule()) {
            prop_assert!(s.is_within(&s));
        }

        #[test]
        fn narrowed_children_are_within_and_sound(
            (parent, child) in arb_schedule().prop_flat_map(|p| (Just(p), arb_narrowed(p, false))),
            times in proptest::collection::vec((BASE - 3..BASE + 17, 0u32..86_400), 200),
        ) {
            let within = child.is_within(&parent);
            // Narrowing keeps the child inside when it kept all of the parent's exceptions.
            let kept = parent.exceptions.as_slice().iter().all(|e| child.exceptions.as_slice().contains(e));
            if kept {
                prop_assert!(within, "{child:?} not within {parent:?}");
            }
            if within {
                for (days, second_of_day) in times {
                    let t = LocalTime { days, second_of_day };
                    prop_assert!(!child.permits(t) || parent.permits(t), "{t:?}");
                }
            }
        }

        #[test]
        fn is_within_is_exact(
            child in arb_schedule(),
            parent in arb_schedule(),
        ) {
            prop_assert_eq!(child.is_within(&parent), brute_force_within(&child, &parent));
        }

        #[test]
        fn is_within_is_exact_for_narrowed(
            (parent, child) in arb_schedule().prop_flat_map(|p| (Just(p), arb_narrowed(p, true))),
        ) {
            prop_assert_eq!(child.is_within(&parent), brute_force_within(&child, &parent));
        }

        #[test]
        fn widened_child_is_not_within(parent in arb_schedule(), extra in arb_window()) {
            // Add a window; if it opens a minute the parent keeps closed on an ordinary week
            // far from any exception, the child must be refused.
            let mut windows = parent.windows.as_slice().to_vec();
            windows.push(extra);
            let child = schedule(&windows, parent.exceptions.as_slice());
            let opened = (BASE + 30..BASE + 37).any(|date| {
                (0..1440).any(|m| child.permits(at(date, m)) && !parent.permits(at(date, m)))
            });
            if opened {
                prop_assert!(!child.is_within(&parent));
            } else {
                prop_assert_eq!(child.is_within(&parent), brute_force_within(&child, &parent));
            }
            prop_assert!(parent.is_within(&child));
        }

        #[test]
        fn permits_never_panics(s in any::<(u8, u16, u16, i64, i64)>(), days: i64, second_of_day: u32) {
            let (d, start, length, e1, e2) = s;
            let bad = Schedule {
                windows: Bounded::from_slice(&[WeeklyWindow { days: d, start, length }]).unwrap(),
                exceptions: Bounded::from_slice(&[e1, e2]).unwrap(),
            };
            let _ = bad.permits(LocalTime { days, second_of_day });
            let _ = bad.is_within(&bad);
        }
    }
}
