//! Dates as found in organisations' lists: Jalali (solar hijri) in any digit script and separator,
//! Gregorian ISO, compact `YYYYMMDD`, year only, and Excel serial numbers (1900 date system).
//!
//! Jalali ↔ Gregorian conversion uses `icu_calendar`'s Persian calendar (the 33-year rule with
//! ICU's correction table, matching the official astronomical calendar over 1178–3000 AP).

use std::fmt;
use std::str::FromStr;

use icu_calendar::Date;
use icu_calendar::cal::{Iso, Persian};

use crate::normalize::normalize_text;

/// Jalali years accepted by [`parse_date`].
pub const JALALI_YEARS: std::ops::RangeInclusive<i32> = 1200..=1499;
/// Gregorian years accepted by [`parse_date`].
pub const GREGORIAN_YEARS: std::ops::RangeInclusive<i32> = 1800..=2199;
/// Years accepted by the conversion functions (icu_calendar's constructor range).
const CONVERSION_YEARS: std::ops::RangeInclusive<i32> = -9999..=9999;

/// Why a string or number is not a date. [`code`](Self::code) gives a stable key for translation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Nothing but spaces.
    #[error("date is empty")]
    Empty,
    /// Not a recognised date shape.
    #[error("unrecognised date format")]
    InvalidFormat,
    /// A year that is neither Jalali (1200–1499) nor Gregorian (1800–2199), or outside the
    /// conversion range.
    #[error("year {0} is out of range")]
    YearOutOfRange(i32),
    /// Month not in 1–12.
    #[error("month {0} is out of range")]
    InvalidMonth(u32),
    /// Day not in the month (e.g. 1401/12/30: 1401 is not a leap year).
    #[error("day {0} is not in the month")]
    InvalidDay(u32),
    /// A month name of one calendar with a year of the other.
    #[error("month name and year belong to different calendars")]
    CalendarMismatch,
    /// An Excel serial that is not a date (not finite, below 1, 60 = the nonexistent 1900-02-29,
    /// or past 9999-12-31).
    #[error("not a valid Excel serial date")]
    InvalidExcelSerial,
}

impl DateError {
    /// Stable message key, e.g. `"date.invalid_day"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "date.empty",
            Self::InvalidFormat => "date.invalid_format",
            Self::YearOutOfRange(_) => "date.year_out_of_range",
            Self::InvalidMonth(_) => "date.invalid_month",
            Self::InvalidDay(_) => "date.invalid_day",
            Self::CalendarMismatch => "date.calendar_mismatch",
            Self::InvalidExcelSerial => "date.invalid_excel_serial",
        }
    }
}

/// The calendar (or encoding) a date was given in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceCalendar {
    /// Solar hijri (هجری شمسی).
    Jalali,
    /// Gregorian (ISO).
    Gregorian,
    /// An Excel serial day number (1900 date system); Gregorian underneath.
    ExcelSerial,
}

/// A valid proleptic Gregorian date. Displays as `YYYY-MM-DD`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoDate {
    year: i32,
    month: u8,
    day: u8,
}

/// A valid Jalali date. Displays as `YYYY/MM/DD` (ASCII digits).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JalaliDate {
    year: i32,
    month: u8,
    day: u8,
}

/// The result of [`parse_date`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParsedDate {
    /// A full date, stored as Gregorian, with the calendar it was given in.
    Day {
        /// The date (Gregorian).
        date: IsoDate,
        /// How it was written.
        calendar: SourceCalendar,
    },
    /// Only a year was given, in the year numbering of `calendar` (Jalali or Gregorian).
    Year {
        /// The year as given (e.g. 1360 Jalali, 1981 Gregorian).
        year: i32,
        /// Jalali or Gregorian.
        calendar: SourceCalendar,
    },
}

fn is_gregorian_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn gregorian_month_days(y: i32, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_gregorian_leap(y) => 29,
        _ => 28,
    }
}

/// True if `year` is a Jalali leap year (Esfand has 30 days), per icu_calendar.
pub fn is_jalali_leap_year(year: i32) -> bool {
    jalali_month_days(year, 12) == Some(30)
}

/// Days in a Jalali month (31 for months 1–6, 30 for 7–11, 29 or 30 for Esfand), `None` for a
/// month outside 1–12 or a year outside the conversion range.
pub fn jalali_month_days(year: i32, month: u8) -> Option<u8> {
    if !CONVERSION_YEARS.contains(&year) || !(1..=12).contains(&month) {
        return None;
    }
    Date::try_new_persian(year, month, 1)
        .ok()
        .map(|d| d.days_in_month())
}

impl IsoDate {
    /// A validated Gregorian date (years −9999…9999).
    pub fn new(year: i32, month: u8, day: u8) -> Result<IsoDate, DateError> {
        if !CONVERSION_YEARS.contains(&year) {
            return Err(DateError::YearOutOfRange(year));
        }
        if !(1..=12).contains(&month) {
            return Err(DateError::InvalidMonth(month.into()));
        }
        if day == 0 || day > gregorian_month_days(year, month) {
            return Err(DateError::InvalidDay(day.into()));
        }
        Ok(IsoDate { year, month, day })
    }

    /// Year.
    pub fn year(&self) -> i32 {
        self.year
    }
    /// Month, 1–12.
    pub fn month(&self) -> u8 {
        self.month
    }
    /// Day of month, 1–31.
    pub fn day(&self) -> u8 {
        self.day
    }

    /// The same day in the Jalali calendar.
    pub fn to_jalali(&self) -> JalaliDate {
        let (year, month, day) = iso_to_jalali_unchecked(*self);
        JalaliDate { year, month, day }
    }

    /// Days since 1970-01-01 (negative before).
    pub fn to_days(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day)
    }

    /// The date `days` days after 1970-01-01, if within years −9999…9999.
    pub fn from_days(days: i64) -> Option<IsoDate> {
        let (year, month, day) = civil_from_days(days)?;
        IsoDate::new(year, month, day).ok()
    }
}

impl JalaliDate {
    /// A validated Jalali date (month lengths and leap years per icu_calendar).
    pub fn new(year: i32, month: u8, day: u8) -> Result<JalaliDate, DateError> {
        if !CONVERSION_YEARS.contains(&year) {
            return Err(DateError::YearOutOfRange(year));
        }
        if !(1..=12).contains(&month) {
            return Err(DateError::InvalidMonth(month.into()));
        }
        match jalali_month_days(year, month) {
            Some(max) if day >= 1 && day <= max => Ok(JalaliDate { year, month, day }),
            _ => Err(DateError::InvalidDay(day.into())),
        }
    }

    /// Year (AP).
    pub fn year(&self) -> i32 {
        self.year
    }
    /// Month, 1 (فروردین) – 12 (اسفند).
    pub fn month(&self) -> u8 {
        self.month
    }
    /// Day of month, 1–31.
    pub fn day(&self) -> u8 {
        self.day
    }

    /// The same day in the Gregorian calendar.
    pub fn to_iso(&self) -> IsoDate {
        match Date::try_new_persian(self.year, self.month, self.day) {
            Ok(p) => {
                let iso = p.to_calendar(Iso);
                IsoDate {
                    year: iso.year().extended_year(),
                    month: iso.month().ordinal,
                    day: iso.day_of_month().0,
                }
            }
            // Unreachable for a validated date; keep a harmless value rather than panic.
            Err(_) => IsoDate {
                year: self.year + 621,
                month: 1,
                day: 1,
            },
        }
    }
}

fn iso_to_jalali_unchecked(d: IsoDate) -> (i32, u8, u8) {
    match Date::try_new_iso(d.year, d.month, d.day) {
        Ok(iso) => {
            let p = iso.to_calendar(Persian::new());
            (
                p.year().extended_year(),
                p.month().ordinal,
                p.day_of_month().0,
            )
        }
        // Unreachable for a validated date; keep a harmless value rather than panic.
        Err(_) => (d.year - 621, 1, 1),
    }
}

/// Gregorian → Jalali. Rejects an invalid Gregorian date.
///
/// ```
/// assert_eq!(hamdeli_text::to_jalali(1981, 8, 3), Ok((1360, 5, 12)));
/// ```
pub fn to_jalali(year: i32, month: u8, day: u8) -> Result<(i32, u8, u8), DateError> {
    let j = IsoDate::new(year, month, day)?.to_jalali();
    Ok((j.year, j.month, j.day))
}

/// Jalali → Gregorian. Rejects an invalid Jalali date (e.g. 1401/12/30).
///
/// ```
/// assert_eq!(hamdeli_text::from_jalali(1399, 1, 1), Ok((2020, 3, 20)));
/// ```
pub fn from_jalali(year: i32, month: u8, day: u8) -> Result<(i32, u8, u8), DateError> {
    let g = JalaliDate::new(year, month, day)?.to_iso();
    Ok((g.year, g.month, g.day))
}

/// Days from 1970-01-01 (H. Hinnant's algorithm, proleptic Gregorian).
fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]; `None` if the year does not fit an `i32`.
fn civil_from_days(z: i64) -> Option<(i32, u8, u8)> {
    let z = z.checked_add(719_468)?;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe.checked_add(era.checked_mul(400)?)? + i64::from(m <= 2);
    Some((i32::try_from(y).ok()?, m, d))
}

/// Largest Excel serial (9999-12-31).
const EXCEL_MAX_SERIAL: f64 = 2_958_465.0;

/// The date of an Excel serial number in the 1900 date system (the fraction, a time of day, is
/// dropped). Serial 1 is 1900-01-01; serial 60 is Excel's nonexistent 1900-02-29 and is rejected;
/// from 61 on, serial n is 1899-12-30 + n days.
///
/// ```
/// use hamdeli_text::from_excel_serial;
/// assert_eq!(from_excel_serial(29801.0).unwrap().to_string(), "1981-08-03");
/// ```
pub fn from_excel_serial(serial: f64) -> Result<IsoDate, DateError> {
    if !serial.is_finite() || !(1.0..EXCEL_MAX_SERIAL + 1.0).contains(&serial) {
        return Err(DateError::InvalidExcelSerial);
    }
    let n = serial.floor() as i64;
    // 1899-12-31 is day -25568 from 1970-01-01; 1899-12-30 is -25569.
    let days = match n {
        60 => return Err(DateError::InvalidExcelSerial),
        1..=59 => -25_568 + n,
        _ => -25_569 + n,
    };
    IsoDate::from_days(days).ok_or(DateError::InvalidExcelSerial)
}

/// Jalali month names, normalised (آبان → ابان, آذر → اذر by `normalize_text`).
const JALALI_MONTHS: [&[&str]; 12] = [
    &["فروردین"],
    &["اردیبهشت"],
    &["خرداد"],
    &["تیر"],
    &["مرداد", "امرداد"],
    &["شهریور"],
    &["مهر"],
    &["ابان"],
    &["اذر"],
    &["دی"],
    &["بهمن"],
    &["اسفند"],
];

/// English Gregorian month names and abbreviations.
const GREGORIAN_MONTHS: [&[&str]; 12] = [
    &["january", "jan"],
    &["february", "feb"],
    &["march", "mar"],
    &["april", "apr"],
    &["may"],
    &["june", "jun"],
    &["july", "jul"],
    &["august", "aug"],
    &["september", "sep", "sept"],
    &["october", "oct"],
    &["november", "nov"],
    &["december", "dec"],
];

fn month_by_name(word: &str) -> Option<(u8, SourceCalendar)> {
    let find = |table: &[&[&str]; 12]| {
        table
            .iter()
            .position(|names| names.contains(&word))
            .map(|i| i as u8 + 1)
    };
    find(&JALALI_MONTHS)
        .map(|m| (m, SourceCalendar::Jalali))
        .or_else(|| find(&GREGORIAN_MONTHS).map(|m| (m, SourceCalendar::Gregorian)))
}

#[derive(Debug)]
enum Token<'a> {
    /// Digits, with their count.
    Num(u32, usize),
    Word(&'a str),
}

fn is_date_separator(c: char) -> bool {
    matches!(
        c,
        '/' | '-'
            | '.'
            | ' '
            | ','
            | '\\'
            | '_'
            | '\u{066B}'
            | '\u{066C}'
            | '\u{060C}'
            | '\u{200C}'
    ) || matches!(c, '\u{2010}'..='\u{2015}' | '\u{2212}')
}

fn tokenize(s: &str) -> Result<Vec<Token<'_>>, DateError> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_ascii_digit() {
            let mut end = i + 1;
            while let Some(&(j, c2)) = chars.peek() {
                if !c2.is_ascii_digit() {
                    break;
                }
                end = j + 1;
                chars.next();
            }
            let digits = &s[i..end];
            if digits.len() > 9 {
                return Err(DateError::InvalidFormat);
            }
            let v = digits
                .parse::<u32>()
                .map_err(|_| DateError::InvalidFormat)?;
            out.push(Token::Num(v, digits.len()));
        } else if c.is_alphabetic() {
            let mut end = i + c.len_utf8();
            while let Some(&(j, c2)) = chars.peek() {
                if !c2.is_alphabetic() {
                    break;
                }
                end = j + c2.len_utf8();
                chars.next();
            }
            out.push(Token::Word(&s[i..end]));
        } else if !is_date_separator(c) {
            return Err(DateError::InvalidFormat);
        }
        if out.len() > 3 {
            return Err(DateError::InvalidFormat);
        }
    }
    Ok(out)
}

/// The calendar of a four-digit year: 1200–1499 Jalali, 1800–2199 Gregorian.
fn calendar_of_year(year: i32) -> Result<SourceCalendar, DateError> {
    if JALALI_YEARS.contains(&year) {
        Ok(SourceCalendar::Jalali)
    } else if GREGORIAN_YEARS.contains(&year) {
        Ok(SourceCalendar::Gregorian)
    } else {
        Err(DateError::YearOutOfRange(year))
    }
}

fn make_day(
    year: u32,
    month: u32,
    day: u32,
    named: Option<SourceCalendar>,
) -> Result<ParsedDate, DateError> {
    let year_i = i32::try_from(year).map_err(|_| DateError::InvalidFormat)?;
    let calendar = calendar_of_year(year_i)?;
    if named.is_some_and(|n| n != calendar) {
        return Err(DateError::CalendarMismatch);
    }
    let month = u8::try_from(month)
        .ok()
        .filter(|m| (1..=12).contains(m))
        .ok_or(DateError::InvalidMonth(month))?;
    let day_u8 = u8::try_from(day).map_err(|_| DateError::InvalidDay(day))?;
    let date = match calendar {
        SourceCalendar::Jalali => JalaliDate::new(year_i, month, day_u8)?.to_iso(),
        _ => IsoDate::new(year_i, month, day_u8)?,
    };
    Ok(ParsedDate::Day { date, calendar })
}

/// Removes a trailing time of day: `…T10:30`, `… 10:30:00`, `… 00:00:00.000`.
fn strip_time(s: &str) -> &str {
    match s.find(':') {
        Some(colon) => {
            let head = &s[..colon];
            match head.rfind([' ', 't']) {
                Some(cut) => s[..cut].trim_end(),
                None => s,
            }
        }
        None => s,
    }
}

/// An Excel serial written as text: five digits, optionally with a decimal fraction.
fn excel_serial_text(s: &str) -> Option<f64> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let int_ok = int.len() == 5 && int.bytes().all(|b| b.is_ascii_digit());
    let frac_ok = frac
        .is_none_or(|f| !f.is_empty() && f.len() <= 12 && f.bytes().all(|b| b.is_ascii_digit()));
    if int_ok && frac_ok {
        s.parse().ok()
    } else {
        None
    }
}

/// Parses a date as found in lists.
///
/// Accepted: Jalali or Gregorian year–month–day in any digit script with any of `/ - . space , _ \`
/// between the parts (`1360/5/12`, `۱۳۶۰-۰۵-۱۲`, `1981-08-03`); compact `YYYYMMDD` (`13600512`);
/// day–month–year with the year last (`12/5/1360`; with a Gregorian year, month–day–year only
/// when the middle part cannot be a month, e.g. `8/23/1981`); month names (`۱۲ مرداد ۱۳۶۰`,
/// `3 Aug 1981`); a year alone (`1360`, `1981`); a trailing time of day is ignored (`1981-08-03T00:00:00`);
/// a five-digit number is an Excel serial (`29801`, `29801.5`). A four-digit year 1200–1499 is
/// Jalali, 1800–2199 Gregorian; anything else is an error. Two-digit years are rejected.
///
/// ```
/// use hamdeli_text::{parse_date, ParsedDate, SourceCalendar};
/// let d = parse_date("۱۳۶۰/۵/۱۲").unwrap();
/// assert_eq!(d.iso().unwrap().to_string(), "1981-08-03");
/// assert_eq!(d.calendar(), SourceCalendar::Jalali);
/// assert_eq!(parse_date("1360").unwrap(), ParsedDate::Year { year: 1360, calendar: SourceCalendar::Jalali });
/// ```
pub fn parse_date(s: &str) -> Result<ParsedDate, DateError> {
    let norm = normalize_text(s);
    let t = strip_time(norm.trim());
    if t.is_empty() {
        return Err(DateError::Empty);
    }
    if let Some(serial) = excel_serial_text(&t.replace('\u{066B}', ".")) {
        return from_excel_serial(serial).map(|date| ParsedDate::Day {
            date,
            calendar: SourceCalendar::ExcelSerial,
        });
    }
    let tokens = tokenize(t)?;
    use Token::{Num, Word};
    match tokens.as_slice() {
        [] => Err(DateError::Empty),
        [Num(y, 4)] => {
            let year = *y as i32;
            let calendar = calendar_of_year(year)?;
            Ok(ParsedDate::Year { year, calendar })
        }
        [Num(v, 8)] => make_day(v / 10_000, v / 100 % 100, v % 100, None),
        [Num(y, 4), Num(m, 1..=2), Num(d, 1..=2)] => make_day(*y, *m, *d, None),
        [Num(d, 1..=2), Num(m, 1..=2), Num(y, 4)] => {
            let year = *y as i32;
            // Year last: day–month–year, unless Gregorian and only month–day–year makes sense.
            if calendar_of_year(year) == Ok(SourceCalendar::Gregorian) && *m > 12 && *d <= 12 {
                make_day(*y, *d, *m, None)
            } else {
                make_day(*y, *m, *d, None)
            }
        }
        [Num(d, 1..=2), Word(w), Num(y, 4)]
        | [Num(y, 4), Word(w), Num(d, 1..=2)]
        | [Word(w), Num(d, 1..=2), Num(y, 4)] => {
            let (m, cal) = month_by_name(w).ok_or(DateError::InvalidFormat)?;
            make_day(*y, m.into(), *d, Some(cal))
        }
        _ => Err(DateError::InvalidFormat),
    }
}

impl ParsedDate {
    /// The Gregorian date, for a full date.
    pub fn iso(&self) -> Option<IsoDate> {
        match self {
            Self::Day { date, .. } => Some(*date),
            Self::Year { .. } => None,
        }
    }

    /// The Jalali date, for a full date.
    pub fn jalali(&self) -> Option<JalaliDate> {
        self.iso().map(|d| d.to_jalali())
    }

    /// How the date was written.
    pub fn calendar(&self) -> SourceCalendar {
        match self {
            Self::Day { calendar, .. } | Self::Year { calendar, .. } => *calendar,
        }
    }

    /// The Jalali year: of the date, or the year itself if given as a Jalali year. `None` for a
    /// Gregorian year alone (it spans two Jalali years).
    pub fn jalali_year(&self) -> Option<i32> {
        match self {
            Self::Day { date, .. } => Some(date.to_jalali().year),
            Self::Year {
                year,
                calendar: SourceCalendar::Jalali,
            } => Some(*year),
            Self::Year { .. } => None,
        }
    }

    /// The Gregorian year: of the date, or the year itself if given as a Gregorian year. `None`
    /// for a Jalali year alone (it spans two Gregorian years).
    pub fn gregorian_year(&self) -> Option<i32> {
        match self {
            Self::Day { date, .. } => Some(date.year),
            Self::Year {
                year,
                calendar: SourceCalendar::Gregorian | SourceCalendar::ExcelSerial,
            } => Some(*year),
            Self::Year { .. } => None,
        }
    }
}

impl fmt::Display for IsoDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for IsoDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IsoDate({self})")
    }
}

impl fmt::Display for JalaliDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}/{:02}/{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for JalaliDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JalaliDate({self})")
    }
}

impl FromStr for IsoDate {
    type Err = DateError;
    /// Strict `YYYY-MM-DD` (ASCII), as stored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        let ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !ok {
            return Err(DateError::InvalidFormat);
        }
        let num =
            |r: std::ops::Range<usize>| s[r].parse::<u32>().map_err(|_| DateError::InvalidFormat);
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        IsoDate::new(y as i32, m as u8, d as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> (String, SourceCalendar) {
        match parse_date(s) {
            Ok(ParsedDate::Day { date, calendar }) => (date.to_string(), calendar),
            other => panic!("{s:?}: {other:?}"),
        }
    }

    #[test]
    fn known_pairs() {
        assert_eq!(from_jalali(1399, 1, 1), Ok((2020, 3, 20)));
        assert_eq!(from_jalali(1360, 5, 12), Ok((1981, 8, 3)));
        assert_eq!(from_jalali(1403, 12, 30), Ok((2025, 3, 20)));
        assert_eq!(from_jalali(1404, 1, 1), Ok((2025, 3, 21)));
        assert_eq!(from_jalali(1357, 11, 22), Ok((1979, 2, 11)));
        assert_eq!(from_jalali(1300, 1, 1), Ok((1921, 3, 21)));
        assert_eq!(to_jalali(2020, 3, 20), Ok((1399, 1, 1)));
        assert_eq!(to_jalali(1981, 8, 3), Ok((1360, 5, 12)));
        assert_eq!(to_jalali(2025, 3, 20), Ok((1403, 12, 30)));
        assert_eq!(to_jalali(2024, 3, 19), Ok((1402, 12, 29)));
        assert_eq!(to_jalali(2024, 3, 20), Ok((1403, 1, 1)));
    }

    #[test]
    fn leap_years() {
        // 1399 and 1403 are leap; 1400, 1401, 1402, 1404 are not (per the official calendar).
        assert!(is_jalali_leap_year(1399));
        assert!(is_jalali_leap_year(1403));
        assert!(!is_jalali_leap_year(1400));
        assert!(!is_jalali_leap_year(1401));
        assert!(!is_jalali_leap_year(1402));
        assert!(!is_jalali_leap_year(1404));
        assert!(is_jalali_leap_year(1408));
        assert_eq!(from_jalali(1401, 12, 30), Err(DateError::InvalidDay(30)));
        assert_eq!(from_jalali(1399, 13, 1), Err(DateError::InvalidMonth(13)));
        assert_eq!(from_jalali(1399, 7, 31), Err(DateError::InvalidDay(31)));
        assert_eq!(from_jalali(1399, 6, 31), Ok((2020, 9, 21)));
        assert_eq!(jalali_month_days(1399, 0), None);
        assert_eq!(to_jalali(2021, 2, 29), Err(DateError::InvalidDay(29)));
    }

    #[test]
    fn round_trip_every_day_of_a_range() {
        let start = IsoDate::new(1900, 1, 1).unwrap().to_days();
        let end = IsoDate::new(2100, 12, 31).unwrap().to_days();
        let mut prev: Option<JalaliDate> = None;
        for n in start..=end {
            let g = IsoDate::from_days(n).unwrap();
            assert_eq!(g.to_days(), n);
            let j = g.to_jalali();
            assert_eq!(j.to_iso(), g);
            if let Some(p) = prev {
                assert!(j > p, "{p} then {j}");
            }
            prev = Some(j);
        }
    }

    #[test]
    fn jalali_formats() {
        for s in [
            "1360/5/12",
            "1360/05/12",
            "۱۳۶۰-۰۵-۱۲",
            "١٣٦٠/٠٥/١٢",
            "13600512",
            "۱۳۶۰۰۵۱۲",
            "1360.05.12",
            "1360 5 12",
            " 1360/05/12 ",
            "\u{200F}۱۳۶۰/۰۵/۱۲",
            "12/5/1360",
            "۱۲ مرداد ۱۳۶۰",
            "12 امرداد 1360",
            "1360/05/12 00:00",
        ] {
            assert_eq!(
                day(s),
                ("1981-08-03".into(), SourceCalendar::Jalali),
                "{s:?}"
            );
        }
        assert_eq!(day("۱ آبان ۱۳۹۹").0, "2020-10-22");
        assert_eq!(day("1403/12/30").0, "2025-03-20");
    }

    #[test]
    fn gregorian_formats() {
        for s in [
            "1981-08-03",
            "1981/8/3",
            "19810803",
            "1981-08-03T00:00:00",
            "1981-08-03 00:00:00",
            "1981-08-03T00:00:00Z",
            "3/8/1981",
            "03.08.1981",
            "8/23/1981",
            "3 Aug 1981",
            "August 3, 1981",
            "۱۹۸۱-۰۸-۰۳",
        ] {
            let (d, c) = day(s);
            let want = if s == "8/23/1981" {
                "1981-08-23"
            } else {
                "1981-08-03"
            };
            assert_eq!((d.as_str(), c), (want, SourceCalendar::Gregorian), "{s:?}");
        }
    }

    #[test]
    fn year_only() {
        assert_eq!(
            parse_date("۱۳۶۰"),
            Ok(ParsedDate::Year {
                year: 1360,
                calendar: SourceCalendar::Jalali
            })
        );
        let y = parse_date("1981").unwrap();
        assert_eq!(
            y,
            ParsedDate::Year {
                year: 1981,
                calendar: SourceCalendar::Gregorian
            }
        );
        assert_eq!(y.gregorian_year(), Some(1981));
        assert_eq!(y.jalali_year(), None);
        assert_eq!(y.iso(), None);
        assert_eq!(parse_date("1360").unwrap().jalali_year(), Some(1360));
    }

    #[test]
    fn excel_serials() {
        assert_eq!(from_excel_serial(1.0).unwrap().to_string(), "1900-01-01");
        assert_eq!(from_excel_serial(59.0).unwrap().to_string(), "1900-02-28");
        assert_eq!(from_excel_serial(60.0), Err(DateError::InvalidExcelSerial));
        assert_eq!(from_excel_serial(61.0).unwrap().to_string(), "1900-03-01");
        assert_eq!(
            from_excel_serial(29801.0).unwrap().to_string(),
            "1981-08-03"
        );
        assert_eq!(
            from_excel_serial(43910.75).unwrap().to_string(),
            "2020-03-20"
        );
        assert_eq!(
            from_excel_serial(45736.0).unwrap().to_string(),
            "2025-03-20"
        );
        assert_eq!(
            from_excel_serial(2_958_465.0).unwrap().to_string(),
            "9999-12-31"
        );
        for bad in [0.0, -1.0, 0.5, f64::NAN, f64::INFINITY, 2_958_466.0, 1e300] {
            assert_eq!(
                from_excel_serial(bad),
                Err(DateError::InvalidExcelSerial),
                "{bad}"
            );
        }
        assert_eq!(
            day("29801"),
            ("1981-08-03".into(), SourceCalendar::ExcelSerial)
        );
        assert_eq!(day("۲۹۸۰۱٫۵").0, "1981-08-03");
        assert_eq!(day("29801.5").0, "1981-08-03");
    }

    #[test]
    fn errors() {
        use DateError::*;
        assert_eq!(parse_date(""), Err(Empty));
        assert_eq!(parse_date(" \u{200E} "), Err(Empty));
        assert_eq!(parse_date("1399/13/01"), Err(InvalidMonth(13)));
        assert_eq!(parse_date("1401/12/30"), Err(InvalidDay(30)));
        assert_eq!(parse_date("1399/00/10"), Err(InvalidMonth(0)));
        assert_eq!(parse_date("1399/01/00"), Err(InvalidDay(0)));
        assert_eq!(parse_date("1981-02-29"), Err(InvalidDay(29)));
        assert_eq!(parse_date("1650/01/01"), Err(YearOutOfRange(1650)));
        assert_eq!(parse_date("0000"), Err(YearOutOfRange(0)));
        assert_eq!(parse_date("60/5/12"), Err(InvalidFormat));
        assert_eq!(parse_date("1360/5"), Err(InvalidFormat));
        assert_eq!(parse_date("hello"), Err(InvalidFormat));
        assert_eq!(parse_date("1360/5/12/1"), Err(InvalidFormat));
        assert_eq!(parse_date("12 Aug 1360"), Err(CalendarMismatch));
        assert_eq!(parse_date("12 مرداد 1981"), Err(CalendarMismatch));
        assert_eq!(parse_date("12 foo 1360"), Err(InvalidFormat));
        assert_eq!(parse_date("99999999999999999999"), Err(InvalidFormat));
        assert_eq!(parse_date("1360/5/12#"), Err(InvalidFormat));
        assert_eq!(
            parse_date("1360/05/12").map(|d| d.calendar()),
            Ok(SourceCalendar::Jalali)
        );
        assert_eq!(parse_date("x").unwrap_err().code(), "date.invalid_format");
    }

    #[test]
    fn iso_from_str() {
        assert_eq!(
            "2020-03-20".parse::<IsoDate>().unwrap().to_string(),
            "2020-03-20"
        );
        assert!("2020-3-20".parse::<IsoDate>().is_err());
        assert!("2021-02-29".parse::<IsoDate>().is_err());
        assert!("۲۰۲۰-۰۳-۲۰".parse::<IsoDate>().is_err());
    }
}
