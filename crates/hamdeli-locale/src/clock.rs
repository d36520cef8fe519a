//! Civil dates from Unix time, without a date-time dependency.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CivilDate {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl CivilDate {
    pub fn iso(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    pub date: CivilDate,
    pub hour: u8,
    pub minute: u8,
}

/// Iran Standard Time, UTC+03:30; Iran has kept no daylight saving time since 2022.
pub const IRAN_OFFSET_SECONDS: i64 = 3 * 3600 + 30 * 60;

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> CivilDate {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    CivilDate { year, month, day }
}

/// The UTC date of an instant.
pub fn civil_from_unix_millis(unix_millis: i64) -> CivilDate {
    civil_from_days(unix_millis.div_euclid(86_400_000))
}

pub fn iran_local(unix_millis: i64) -> LocalTime {
    let seconds = unix_millis.div_euclid(1000) + IRAN_OFFSET_SECONDS;
    let of_day = seconds.rem_euclid(86_400);
    LocalTime {
        date: civil_from_days(seconds.div_euclid(86_400)),
        hour: (of_day / 3600) as u8,
        minute: (of_day % 3600 / 60) as u8,
    }
}

/// Today's date in Iran.
pub fn iran_today(unix_millis: i64) -> CivilDate {
    iran_local(unix_millis).date
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_to_civil() {
        assert_eq!(
            civil_from_days(0),
            CivilDate {
                year: 1970,
                month: 1,
                day: 1
            }
        );
        assert_eq!(
            civil_from_days(-1),
            CivilDate {
                year: 1969,
                month: 12,
                day: 31
            }
        );
        assert_eq!(
            civil_from_days(18_321),
            CivilDate {
                year: 2020,
                month: 2,
                day: 29
            }
        );
        assert_eq!(
            civil_from_unix_millis(1_795_381_200_000).iso(),
            "2026-11-22"
        );
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (inverse of [`civil_from_days`]).
pub fn days_from_civil(date: CivilDate) -> i64 {
    let y = i64::from(date.year) - i64::from(date.month <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(date.month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(date.day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The instant a day starts in Iran, as Unix milliseconds.
pub fn iran_midnight_millis(date: CivilDate) -> i64 {
    (days_from_civil(date) * 86_400 - IRAN_OFFSET_SECONDS) * 1000
}

#[cfg(test)]
mod round_trip {
    use super::*;

    #[test]
    fn days_round_trip() {
        for d in [-800_000, -1, 0, 1, 18_321, 20_000, 2_000_000] {
            assert_eq!(days_from_civil(civil_from_days(d)), d);
        }
        let day = CivilDate {
            year: 2026,
            month: 11,
            day: 22,
        };
        assert_eq!(iran_local(iran_midnight_millis(day)).date, day);
        assert_eq!(iran_local(iran_midnight_millis(day)).hour, 0);
    }
}
