//! Proleptic Gregorian calendar arithmetic on day numbers.
//!
//! Dates are counted as days since 1970-01-01 so that a schedule's exception dates and a
//! time-zone rule's transition dates are plain integers, cheap to compare and to carry on the
//! wire. The conversions are Howard Hinnant's branch-light algorithms
//! (<https://howardhinnant.github.io/date_algorithms.html>), written with Euclidean division so
//! they hold for negative days too.

/// A local calendar date as days since 1970-01-01 (that day, a Thursday, is 0).
pub type Days = i64;

/// Days in a 400-year Gregorian cycle.
const DAYS_PER_ERA: i64 = 146_097;
/// Days from 0000-03-01 (the start of Hinnant's shifted era) to 1970-01-01.
const EPOCH_SHIFT: i64 = 719_468;

/// First day [`civil_from_days`] can report: `i32::MIN`-01-01.
const MIN_DAYS: i64 = days_from_civil_unchecked(i32::MIN as i64, 1, 1);
/// Last day [`civil_from_days`] can report: `i32::MAX`-12-31.
const MAX_DAYS: i64 = days_from_civil_unchecked(i32::MAX as i64, 12, 31);

/// Whether `y` is a Gregorian leap year.
pub(crate) const fn is_leap_year(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// Number of days in month `m` of year `y`, or 0 if `m` is not a month.
pub(crate) const fn days_in_month(y: i64, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Day number of `y-m-d`, trusting the caller that the date is valid.
///
/// Takes an `i64` year so time-zone code can work past `i32` years without overflow; exact for
/// any `|y| < 2^40` (far beyond any instant a `u64` can name after clamping).
pub(crate) const fn days_from_civil_unchecked(y: i64, m: u8, d: u8) -> i64 {
    // Shift the year to start in March so the leap day is the last day of the year.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400); // [0, 399]
    let mp = if m > 2 { m as i64 - 3 } else { m as i64 + 9 }; // [0, 11], March = 0
    let doy = (153 * mp + 2) / 5 + d as i64 - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * DAYS_PER_ERA + doe - EPOCH_SHIFT
}

/// Civil date of day number `days` with an `i64` year; exact for `|days| < 2^50`.
pub(crate) const fn civil_from_days_i64(days: i64) -> (i64, u8, u8) {
    let z = days + EPOCH_SHIFT;
    let era = z.div_euclid(DAYS_PER_ERA);
    let doe = z.rem_euclid(DAYS_PER_ERA); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m as u8, d as u8)
}

/// Day number of the date `y-m-d`, or `None` if there is no such date (month outside 1..=12,
/// day outside the month, 29 February of a common year).
pub fn days_from_civil(y: i32, m: u8, d: u8) -> Option<Days> {
    if d == 0 || d > days_in_month(y as i64, m) {
        return None;
    }
    Some(days_from_civil_unchecked(y as i64, m, d))
}

/// Civil date `(year, month 1..=12, day 1..=31)` of day number `days`.
///
/// Total: day numbers whose year does not fit an `i32` (more than two billion years away) are
/// clamped to the first or last representable date rather than wrapping.
pub fn civil_from_days(days: Days) -> (i32, u8, u8) {
    let (y, m, d) = civil_from_days_i64(days.clamp(MIN_DAYS, MAX_DAYS));
    // The clamp keeps the year inside i32, so the fallback is unreachable.
    (i32::try_from(y).unwrap_or(i32::MAX), m, d)
}

/// ISO weekday of day number `days`: 0 = Monday ..= 6 = Sunday.
pub fn weekday(days: Days) -> u8 {
    // Day 0 was a Thursday (3). Reduce first so the addition cannot overflow.
    ((days.rem_euclid(7) + 3) % 7) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), Some(0));
        assert_eq!(weekday(0), 3, "1970-01-01 was a Thursday");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(1969, 12, 31), Some(-1));
        assert_eq!(weekday(-1), 2);
        // 2000-03-01: 30 years of which 7 leap (72..96 and 2000's Feb 29) -> 10957 to
        // 2000-01-01, plus 31 + 29 days.
        assert_eq!(days_from_civil(2000, 1, 1), Some(10_957));
        assert_eq!(days_from_civil(2000, 3, 1), Some(10_957 + 31 + 29));
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(weekday(11_017), 2, "2000-03-01 was a Wednesday");
        assert_eq!(days_from_civil(2000, 2, 29), Some(11_016));
        assert_eq!(
            days_from_civil(1900, 2, 29),
            None,
            "1900 was not a leap year"
        );
        assert!(days_from_civil(2024, 2, 29).is_some());
        assert_eq!(days_from_civil(2023, 2, 29), None);
        assert_eq!(days_from_civil(2024, 2, 30), None);
        assert_eq!(days_from_civil(2024, 4, 31), None);
        assert_eq!(days_from_civil(2024, 0, 1), None);
        assert_eq!(days_from_civil(2024, 13, 1), None);
        assert_eq!(days_from_civil(2024, 1, 0), None);
        // 2025-03-30 (a Sunday): 20177 days after 1970-01-01.
        assert_eq!(days_from_civil(2025, 3, 30), Some(20_177));
        assert_eq!(weekday(20_177), 6);
        assert_eq!(days_from_civil(2038, 1, 19), Some(24_855));
    }

    #[test]
    fn extremes_do_not_panic() {
        for d in [i64::MIN, i64::MIN + 1, MIN_DAYS - 1, MAX_DAYS + 1, i64::MAX] {
            let _ = civil_from_days(d);
            assert!(weekday(d) < 7);
        }
        assert_eq!(civil_from_days(i64::MAX), (i32::MAX, 12, 31));
        assert_eq!(civil_from_days(i64::MIN), (i32::MIN, 1, 1));
        assert_eq!(days_from_civil(i32::MAX, 12, 31), Some(MAX_DAYS));
        assert_eq!(days_from_civil(i32::MIN, 1, 1), Some(MIN_DAYS));
        assert_eq!(civil_from_days(MAX_DAYS), (i32::MAX, 12, 31));
        assert_eq!(civil_from_days(MIN_DAYS), (i32::MIN, 1, 1));
    }

    #[test]
    fn consecutive_days_walk_the_calendar() {
        // Every day from 1600 to 2400 follows its predecessor, one weekday later.
        let start = days_from_civil(1600, 1, 1).unwrap();
        let end = days_from_civil(2400, 12, 31).unwrap();
        let (mut y, mut m, mut d) = civil_from_days(start);
        for n in start + 1..=end {
            if d < days_in_month(y as i64, m) {
                d += 1;
            } else if m < 12 {
                m += 1;
                d = 1;
            } else {
                y += 1;
                m = 1;
                d = 1;
            }
            assert_eq!(civil_from_days(n), (y, m, d));
            assert_eq!(days_from_civil(y, m, d), Some(n));
            assert_eq!(weekday(n), (weekday(n - 1) + 1) % 7);
        }
    }

    proptest! {
        #[test]
        fn days_round_trip(days in MIN_DAYS..=MAX_DAYS) {
            let (y, m, d) = civil_from_days(days);
            prop_assert_eq!(days_from_civil(y, m, d), Some(days));
        }

        #[test]
        fn civil_round_trip(y in any::<i32>(), m in 1u8..=12, d in 1u8..=31) {
            match days_from_civil(y, m, d) {
                Some(days) => prop_assert_eq!(civil_from_days(days), (y, m, d)),
                None => prop_assert!(d > days_in_month(y as i64, m)),
            }
        }

        #[test]
        fn weekday_advances_by_one(days in any::<i64>()) {
            prop_assert!(weekday(days) < 7);
            if let Some(next) = days.checked_add(1) {
                prop_assert_eq!(weekday(next), (weekday(days) + 1) % 7);
            }
        }

        #[test]
        fn never_panics(days in any::<i64>(), y in any::<i32>(), m in any::<u8>(), d in any::<u8>()) {
            let _ = civil_from_days(days);
            let _ = days_from_civil(y, m, d);
        }
    }
}
