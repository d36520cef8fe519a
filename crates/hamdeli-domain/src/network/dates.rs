//! ISO dates for licences: today in Iran, days between two dates, a date plus days.

/// Iran Standard Time, UTC+03:30.
const IRAN_OFFSET_MILLIS: i64 = (3 * 3600 + 30 * 60) * 1000;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// The day count of an ISO date `YYYY-MM-DD`; `None` when it is not one.
pub fn parse_iso(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s.get(0..4)?.parse().ok()?;
    let m: i64 = s.get(5..7)?.parse().ok()?;
    let d: i64 = s.get(8..10)?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    // 2026-02-30 is not a date: it would come back as March.
    (civil_from_days(days) == (y, m, d)).then_some(days)
}

/// An ISO date of a day count.
pub fn iso(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Today in Iran as an ISO date.
pub fn today_iran(unix_millis: i64) -> String {
    iso((unix_millis + IRAN_OFFSET_MILLIS).div_euclid(86_400_000))
}

/// `date` plus `days` (ISO); `None` when `date` is not a date.
pub fn plus_days(date: &str, days: i64) -> Option<String> {
    parse_iso(date).map(|d| iso(d + days))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_round_trip_and_refuse_impossible_days() {
        assert_eq!(parse_iso("1970-01-01"), Some(0));
        assert_eq!(iso(parse_iso("2026-12-07").unwrap()), "2026-12-07");
        assert_eq!(parse_iso("2026-02-30"), None);
        assert_eq!(parse_iso("2026-2-3"), None);
        assert_eq!(plus_days("2026-12-31", 1).as_deref(), Some("2027-01-01"));
        assert_eq!(plus_days("2024-02-28", 1).as_deref(), Some("2024-02-29"));
    }

    #[test]
    fn today_in_iran_turns_at_half_past_eight_pm_utc() {
        // 2026-12-07 20:29 UTC is 23:59 in Tehran; 20:31 UTC is the next day there.
        let base = parse_iso("2026-12-07").unwrap() * 86_400_000;
        assert_eq!(today_iran(base + (20 * 60 + 29) * 60_000), "2026-12-07");
        assert_eq!(today_iran(base + (20 * 60 + 31) * 60_000), "2026-12-08");
    }
}
