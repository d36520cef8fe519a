//! Reporting periods: Jalali months, seasons (three months each) and years, written `1404-07`,
//! `1404-S2` and `1404`, and the day a period's report is due.

use serde::{Deserialize, Serialize};

/// How often a data set is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodType {
    Month,
    Season,
    Year,
}

impl PeriodType {
    pub const ALL: [PeriodType; 3] = [PeriodType::Month, PeriodType::Season, PeriodType::Year];

    pub fn as_str(self) -> &'static str {
        match self {
            PeriodType::Month => "month",
            PeriodType::Season => "season",
            PeriodType::Year => "year",
        }
    }

    pub fn parse(s: &str) -> Option<PeriodType> {
        PeriodType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One reporting period of the Jalali calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    /// Year and month 1..=12.
    Month(i32, u8),
    /// Year and season 1..=4 (months 1–3, 4–6, 7–9, 10–12).
    Season(i32, u8),
    Year(i32),
}

/// The years a period may name (the Jalali years Hamdeli's data can fall in).
const YEARS: std::ops::RangeInclusive<i32> = 1300..=1500;

impl Period {
    pub fn kind(&self) -> PeriodType {
        match self {
            Period::Month(..) => PeriodType::Month,
            Period::Season(..) => PeriodType::Season,
            Period::Year(_) => PeriodType::Year,
        }
    }

    pub fn year(&self) -> i32 {
        match *self {
            Period::Month(y, _) | Period::Season(y, _) | Period::Year(y) => y,
        }
    }

    /// `1404-07`, `1404-S2`, `1404`, in ASCII digits.
    pub fn code(&self) -> String {
        match *self {
            Period::Month(y, m) => format!("{y}-{m:02}"),
            Period::Season(y, s) => format!("{y}-S{s}"),
            Period::Year(y) => format!("{y}"),
        }
    }

    /// Reads a period code in any digit style; `None` when it is not one.
    pub fn parse(s: &str) -> Option<Period> {
        let s = hamdeli_text::digits::fold_digits(s.trim());
        let (y, rest) = match s.split_once('-') {
            Some((y, rest)) => (y, Some(rest)),
            None => (s.as_str(), None),
        };
        if y.len() != 4 {
            return None;
        }
        let year: i32 = y.parse().ok().filter(|y| YEARS.contains(y))?;
        match rest {
            None => Some(Period::Year(year)),
            Some(r) => {
                if let Some(season) = r.strip_prefix(['S', 's']) {
                    let q: u8 = season.parse().ok().filter(|q| (1..=4).contains(q))?;
                    Some(Period::Season(year, q))
                } else {
                    if r.is_empty() || r.len() > 2 {
                        return None;
                    }
                    let m: u8 = r.parse().ok().filter(|m| (1..=12).contains(m))?;
                    Some(Period::Month(year, m))
                }
            }
        }
    }

    /// The period of this type that holds the Jalali month `year-month`.
    pub fn containing(kind: PeriodType, year: i32, month: u8) -> Period {
        match kind {
            PeriodType::Month => Period::Month(year, month),
            PeriodType::Season => Period::Season(year, month.saturating_sub(1) / 3 + 1),
            PeriodType::Year => Period::Year(year),
        }
    }

    /// The Jalali months (year, month) the period covers.
    pub fn months(&self) -> Vec<(i32, u8)> {
        match *self {
            Period::Month(y, m) => vec![(y, m)],
            Period::Season(y, s) => (1..=3).map(|i| (y, (s - 1) * 3 + i)).collect(),
            Period::Year(y) => (1..=12).map(|m| (y, m)).collect(),
        }
    }

    /// The month codes (`1404-07`) the period covers: what the support ledger's `period` holds.
    pub fn month_codes(&self) -> Vec<String> {
        self.months()
            .into_iter()
            .map(|(y, m)| format!("{y}-{m:02}"))
            .collect()
    }

    pub fn previous(&self) -> Period {
        match *self {
            Period::Month(y, 1) => Period::Month(y - 1, 12),
            Period::Month(y, m) => Period::Month(y, m - 1),
            Period::Season(y, 1) => Period::Season(y - 1, 4),
            Period::Season(y, s) => Period::Season(y, s - 1),
            Period::Year(y) => Period::Year(y - 1),
        }
    }

    pub fn next(&self) -> Period {
        match *self {
            Period::Month(y, 12) => Period::Month(y + 1, 1),
            Period::Month(y, m) => Period::Month(y, m + 1),
            Period::Season(y, 4) => Period::Season(y + 1, 1),
            Period::Season(y, s) => Period::Season(y, s + 1),
            Period::Year(y) => Period::Year(y + 1),
        }
    }

    /// This period and the `n - 1` before it, oldest first.
    pub fn last_n(&self, n: usize) -> Vec<Period> {
        let mut out = Vec::with_capacity(n);
        let mut p = *self;
        for _ in 0..n {
            out.push(p);
            p = p.previous();
        }
        out.reverse();
        out
    }

    /// The Jalali date the report of this period is due: day `due_day` of the month after the
    /// period's last month (clamped to that month's length, 1..=31).
    pub fn due_date(&self, due_day: u8) -> (i32, u8, u8) {
        let (y, m) = *self.months().last().unwrap_or(&(self.year(), 12));
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let days = hamdeli_text::date::jalali_month_days(ny, nm).unwrap_or(29);
        (ny, nm, due_day.clamp(1, days))
    }

    /// The due date as an ISO date `YYYY-MM-DD` (Gregorian), for comparing with today.
    pub fn due_iso(&self, due_day: u8) -> Option<String> {
        let (y, m, d) = self.due_date(due_day);
        hamdeli_text::date::from_jalali(y, m, d)
            .ok()
            .map(|(gy, gm, gd)| format!("{gy:04}-{gm:02}-{gd:02}"))
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_in_any_digits() {
        for code in ["1404-07", "1404-S2", "1404", "1403-12", "1403-S4"] {
            assert_eq!(Period::parse(code).unwrap().code(), code);
        }
        assert_eq!(Period::parse("۱۴۰۴-۰۷"), Some(Period::Month(1404, 7)));
        assert_eq!(Period::parse("1404-7"), Some(Period::Month(1404, 7)));
        for bad in [
            "", "1404-13", "1404-00", "1404-S5", "14-01", "abcd", "1404-", "9999",
        ] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn seasons_hold_three_months_and_periods_step() {
        assert_eq!(
            Period::containing(PeriodType::Season, 1404, 7),
            Period::Season(1404, 3)
        );
        assert_eq!(
            Period::Season(1404, 3).month_codes(),
            ["1404-07", "1404-08", "1404-09"]
        );
        assert_eq!(Period::Month(1404, 1).previous(), Period::Month(1403, 12));
        assert_eq!(Period::Season(1403, 4).next(), Period::Season(1404, 1));
        assert_eq!(
            Period::Month(1404, 2).last_n(3),
            [
                Period::Month(1403, 12),
                Period::Month(1404, 1),
                Period::Month(1404, 2)
            ]
        );
    }

    #[test]
    fn due_date_is_in_the_following_month() {
        assert_eq!(Period::Month(1404, 7).due_date(10), (1404, 8, 10));
        assert_eq!(Period::Month(1403, 12).due_date(10), (1404, 1, 10));
        // Esfand of a common year has 29 days.
        assert_eq!(Period::Month(1404, 11).due_date(31), (1404, 12, 29));
        assert_eq!(Period::Season(1404, 1).due_date(15), (1404, 4, 15));
        assert_eq!(Period::Year(1403).due_date(0), (1404, 1, 1));
        // 1 Farvardin 1404 is 21 March 2025.
        assert_eq!(Period::Year(1403).due_iso(1).as_deref(), Some("2025-03-21"));
    }
}
