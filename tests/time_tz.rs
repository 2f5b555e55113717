//! `TzRule` against the real tz database (chrono-tz): for each zone, the POSIX footer the tz
//! database publishes for it must give the same local wall-clock time as the full zone data,
//! around every transition and at thousands of other instants, for years under current law.

use chrono::{DateTime, Datelike, NaiveDateTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use doorkey::time::{LocalTime, TzRule, UnixTime, days_from_civil};

/// (zone, its POSIX TZ footer, expected number of offset changes per year).
const ZONES: &[(Tz, &str, usize)] = &[
    (chrono_tz::Europe::Berlin, "CET-1CEST,M3.5.0,M10.5.0/3", 2),
    (chrono_tz::America::New_York, "EST5EDT,M3.2.0,M11.1.0", 2),
    (
        chrono_tz::Australia::Sydney,
        "AEST-10AEDT,M10.1.0,M4.1.0/3",
        2,
    ),
    (
        chrono_tz::Pacific::Auckland,
        "NZST-12NZDT,M9.5.0,M4.1.0/3",
        2,
    ),
    (
        chrono_tz::Australia::Lord_Howe,
        "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
        2,
    ),
    (chrono_tz::America::Sao_Paulo, "<-03>3", 0),
    (chrono_tz::Asia::Kolkata, "IST-5:30", 0),
];

fn unix(y: i32, m: u8, d: u8, hh: u64, mm: u64, ss: u64) -> u64 {
    let days = days_from_civil(y, m, d).expect("valid date");
    u64::try_from(days).expect("after 1970") * 86_400 + hh * 3600 + mm * 60 + ss
}

fn chrono_offset(zone: Tz, t: u64) -> i32 {
    utc(t).with_timezone(&zone).offset().fix().local_minus_utc()
}

fn utc(t: u64) -> DateTime<Utc> {
    DateTime::from_timestamp(i64::try_from(t).expect("in range"), 0).expect("in range")
}

/// Our local time as (y, m, d, hh, mm, ss).
fn ours(rule: &TzRule, t: u64) -> (i32, u32, u32, u32, u32, u32) {
    let local = rule.local(UnixTime::from_secs(t));
    let LocalTime { second_of_day, .. } = local;
    let (y, m, d) = local.date();
    (
        y,
        u32::from(m),
        u32::from(d),
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
    )
}

/// The tz database's local time as (y, m, d, hh, mm, ss).
fn theirs(zone: Tz, t: u64) -> (i32, u32, u32, u32, u32, u32) {
    let local: NaiveDateTime = utc(t).with_timezone(&zone).naive_local();
    (
        local.year(),
        local.month(),
        local.day(),
        local.hour(),
        local.minute(),
        local.second(),
    )
}

fn assert_same(zone: Tz, rule: &TzRule, t: u64) {
    assert_eq!(
        ours(rule, t),
        theirs(zone, t),
        "{} at {} ({t})",
        zone.name(),
        utc(t)
    );
}

/// Instants at which the zone's offset changes during `year`, found from the tz database
/// alone (hourly scan, then bisection to the second) so the test does not trust our rule.
fn transitions(zone: Tz, year: i32) -> Vec<u64> {
    let (from, to) = (unix(year, 1, 1, 0, 0, 0), unix(year + 1, 1, 1, 0, 0, 0));
    let mut found = Vec::new();
    let mut t = from;
    while t < to {
        let next = t + 3600;
        if chrono_offset(zone, t) != chrono_offset(zone, next) {
            // Invariant: offset(lo) differs from offset(hi); find the first second of the new one.
            let (mut lo, mut hi) = (t, next);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if chrono_offset(zone, mid) == chrono_offset(zone, lo) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            found.push(hi);
        }
        t = next;
    }
    found
}

#[test]
fn footers_parse() {
    for (zone, footer, _) in ZONES {
        let rule = TzRule::parse(footer).unwrap_or_else(|e| panic!("{}: {e}", zone.name()));
        assert_eq!(rule.validate(), Ok(()));
        assert_eq!(rule.dst.is_none(), footer.find(',').is_none());
    }
}

#[test]
fn around_every_transition_2024_to_2030() {
    for &(zone, footer, per_year) in ZONES {
        let rule = TzRule::parse(footer).expect("footer parses");
        for year in 2024..=2030 {
            let changes = transitions(zone, year);
            assert_eq!(
                changes.len(),
                per_year,
                "{} {year}: {changes:?}",
                zone.name()
            );
            for change in changes {
                // Every 15 minutes from 3 hours before to 3 hours after...
                for step in 0..=24 {
                    assert_same(zone, &rule, change - 3 * 3600 + step * 900);
                }
                // ...and every second right around the change itself.
                for t in change - 5..=change + 5 {
                    assert_same(zone, &rule, t);
                    assert_eq!(
                        rule.offset_at(UnixTime::from_secs(t)),
                        chrono_offset(zone, t),
                        "{}",
                        zone.name()
                    );
                }
            }
        }
    }
}

#[test]
fn pseudo_random_instants_2024_to_2035() {
    let (from, to) = (unix(2024, 1, 1, 0, 0, 0), unix(2035, 1, 1, 0, 0, 0));
    for &(zone, footer, _) in ZONES {
        let rule = TzRule::parse(footer).expect("footer parses");
        // Knuth's MMIX LCG, fixed seed: the same instants on every run.
        let mut state: u64 = 0x5EED_D00B_CAFE_F00D;
        for _ in 0..4000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let t = from + (state >> 11) % (to - from);
            assert_same(zone, &rule, t);
        }
    }
}

#[test]
fn every_hour_of_a_year_in_each_zone() {
    // Complements the sampled tests: no day of 2027 is off, whatever the hemisphere.
    for &(zone, footer, _) in ZONES {
        let rule = TzRule::parse(footer).expect("footer parses");
        let mut t = unix(2027, 1, 1, 0, 0, 0) - 14 * 3600;
        while t < unix(2028, 1, 1, 0, 0, 0) + 14 * 3600 {
            assert_same(zone, &rule, t);
            t += 3600;
        }
    }
}

#[test]
fn berlin_spring_forward_skips_half_past_two() {
    let berlin = TzRule::parse("CET-1CEST,M3.5.0,M10.5.0/3").expect("parses");
    let zone = chrono_tz::Europe::Berlin;
    let before = unix(2025, 3, 30, 0, 59, 59);
    let after = unix(2025, 3, 30, 1, 0, 0);
    assert_eq!(ours(&berlin, before), (2025, 3, 30, 1, 59, 59));
    assert_eq!(ours(&berlin, after), (2025, 3, 30, 3, 0, 0));
    assert_same(zone, &berlin, before);
    assert_same(zone, &berlin, after);
    // No instant of that day reads anything from 02:00:00 to 02:59:59.
    let mut t = unix(2025, 3, 29, 12, 0, 0);
    while t < unix(2025, 3, 31, 0, 0, 0) {
        let local = ours(&berlin, t);
        assert!(!(local.2 == 30 && local.3 == 2), "{local:?} at {t}");
        t += 60;
    }
    // chrono-tz agrees that 02:30 does not exist.
    assert!(
        zone.with_ymd_and_hms(2025, 3, 30, 2, 30, 0)
            .single()
            .is_none()
    );
}

#[test]
fn berlin_fall_back_repeats_half_past_two() {
    let berlin = TzRule::parse("CET-1CEST,M3.5.0,M10.5.0/3").expect("parses");
    let zone = chrono_tz::Europe::Berlin;
    let first = unix(2025, 10, 26, 0, 30, 0);
    let second = unix(2025, 10, 26, 1, 30, 0);
    assert_eq!(ours(&berlin, first), (2025, 10, 26, 2, 30, 0));
    assert_eq!(ours(&berlin, second), (2025, 10, 26, 2, 30, 0));
    assert_eq!(berlin.offset_at(UnixTime::from_secs(first)), 2 * 3600);
    assert_eq!(berlin.offset_at(UnixTime::from_secs(second)), 3600);
    assert_same(zone, &berlin, first);
    assert_same(zone, &berlin, second);
    assert_eq!(
        berlin.local(UnixTime::from_secs(first)),
        berlin.local(UnixTime::from_secs(second))
    );
    // Exactly two instants (to the minute) read 02:30 that day.
    let mut count = 0;
    let mut t = unix(2025, 10, 25, 12, 0, 0);
    while t < unix(2025, 10, 27, 0, 0, 0) {
        if ours(&berlin, t) == (2025, 10, 26, 2, 30, 0) {
            count += 1;
        }
        t += 60;
    }
    assert_eq!(count, 2);
    assert!(
        zone.with_ymd_and_hms(2025, 10, 26, 2, 30, 0)
            .earliest()
            .zip(zone.with_ymd_and_hms(2025, 10, 26, 2, 30, 0).latest())
            .is_some_and(|(a, b)| a != b)
    );
}
