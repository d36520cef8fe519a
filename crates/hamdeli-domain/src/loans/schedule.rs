//! The repayment schedule of a qard al-hasan loan, by the exact rules of issue 14 (an
//! independent check recomputes them):
//!
//! - total fee = ⌊P × F × (n + 1) / 2400⌋ rials, for principal P rials, fee F percent a year and
//!   n monthly instalments. F may have decimals (`2.5`): it is kept as an integer number of
//!   ten-thousandths of a percent ([`FeeRate`]) and the division is done once, on integers
//!   (i128), never on floats;
//! - each instalment = ⌊(P + fee) / n⌋, the remainder on the last; its fee part ⌊fee / n⌋, the
//!   remainder on the last; the rest is principal;
//! - instalment k (1 … n) is due in the Jalali month start + grace + k on the start's day of the
//!   month, or on that month's last day when the month is shorter (months 1–6 have 31 days, 7–11
//!   30, Esfand 29 or 30 in a leap year — `hamdeli_text`'s calendar);
//! - a deferral of instalments k … n by m months moves each of them m months later by the same
//!   day rule, adds no fee and changes no amount.
//!
//! **Interpretation of the day rule under deferrals.** The anchor is always the *original start
//! day* of the loan, never a date that was already clamped: an instalment's due date is computed
//! afresh as (start month + grace + k + every deferral that covers k) on the start's day, clamped
//! to that month's length. So a loan started on 1405/01/31 whose instalment fell on 1405/07/30
//! (Mehr has 30 days) and is deferred by 3 months is due on 1405/10/30 (Dey has 30 days), and one
//! deferred into Farvardin is due on the 31st again, not the 30th. Deferrals add up: two deferrals
//! covering instalment k by m₁ and m₂ months move it m₁ + m₂ months.

use hamdeli_text::{JalaliDate, fold_digits, jalali_month_days};

/// The largest principal a loan may have, in rials (one thousand billion tomans): the sums stay
/// far inside `i64`.
pub const MAX_PRINCIPAL: i64 = 10_000_000_000_000;
/// The most monthly instalments a loan may have.
pub const MAX_MONTHS: u32 = 240;
/// The longest grace (months before the first instalment's month).
pub const MAX_GRACE: u32 = 60;
/// The longest single deferral, in months.
pub const MAX_DEFER: u32 = 60;
/// A fee rate is kept in ten-thousandths of a percent (four decimals).
pub const FEE_SCALE: i64 = 10_000;
/// The highest fee rate accepted: 100 % a year.
pub const MAX_FEE: i64 = 100 * FEE_SCALE;

/// Why a schedule cannot be made. `code()` is a catalog message id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("principal must be a whole number of rials from {min} to {max}")]
    Principal { min: i64, max: i64 },
    #[error("months must be a whole number from 1 to {MAX_MONTHS}")]
    Months,
    #[error("fee percent must be a number from 0 to 100 with at most 4 decimals (e.g. 4 or 2.5)")]
    Fee,
    #[error("grace months must be a whole number from 0 to {MAX_GRACE}")]
    Grace,
    #[error("start must be a Jalali date YYYY/MM/DD between 1300 and 1500")]
    Start,
    #[error("defer-from must be an instalment number from 1 to the number of months")]
    DeferFrom,
    #[error("defer-months must be a whole number from 1 to {MAX_DEFER}")]
    DeferMonths,
    #[error("a due date falls outside the calendar")]
    OutOfCalendar,
}

impl ScheduleError {
    /// Catalog message id.
    pub fn code(&self) -> &'static str {
        match self {
            ScheduleError::Principal { .. } => "loans-error-principal",
            ScheduleError::Months => "loans-error-months",
            ScheduleError::Fee => "loans-error-fee",
            ScheduleError::Grace => "loans-error-grace",
            ScheduleError::Start => "loans-error-start",
            ScheduleError::DeferFrom => "loans-error-defer-from",
            ScheduleError::DeferMonths => "loans-error-defer-months",
            ScheduleError::OutOfCalendar => "loans-error-calendar",
        }
    }
}

/// A fee rate in percent a year, exactly: `units / FEE_SCALE` percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeeRate(i64);

impl FeeRate {
    /// From ten-thousandths of a percent (`25_000` is 2.5 %).
    pub fn from_units(units: i64) -> Result<FeeRate, ScheduleError> {
        if (0..=MAX_FEE).contains(&units) {
            Ok(FeeRate(units))
        } else {
            Err(ScheduleError::Fee)
        }
    }

    /// Ten-thousandths of a percent.
    pub fn units(self) -> i64 {
        self.0
    }

    /// Parses `4`, `2.5`, `۲٫۵`, `0.25` (ASCII, Persian or Arabic digits; `.` or `٫` as the
    /// decimal point; at most four decimals; 0 – 100).
    pub fn parse(s: &str) -> Result<FeeRate, ScheduleError> {
        let s = fold_digits(s.trim()).replace('٫', ".");
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, f),
            None => (s.as_str(), ""),
        };
        if int.is_empty() && frac.is_empty()
            || int.len() > 3
            || frac.len() > 4
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || (s.contains('.') && frac.is_empty())
        {
            return Err(ScheduleError::Fee);
        }
        let int: i64 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| ScheduleError::Fee)?
        };
        let mut frac_units: i64 = 0;
        for (i, b) in frac.bytes().enumerate() {
            frac_units += i64::from(b - b'0') * 10_i64.pow(3 - i as u32);
        }
        FeeRate::from_units(int * FEE_SCALE + frac_units)
    }
}

impl std::fmt::Display for FeeRate {
    /// `4`, `2.5`, `0.125` (no trailing zeros).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let int = self.0 / FEE_SCALE;
        let frac = self.0 % FEE_SCALE;
        if frac == 0 {
            write!(f, "{int}")
        } else {
            let digits = format!("{frac:04}");
            write!(f, "{int}.{}", digits.trim_end_matches('0'))
        }
    }
}

/// Total fee = ⌊P × F × (n + 1) / 2400⌋ for a fee rate F in percent a year (exact).
pub fn total_fee(principal: i64, fee: FeeRate, months: u32) -> i64 {
    let num = i128::from(principal) * i128::from(fee.0) * (i128::from(months) + 1);
    let den = 2400_i128 * i128::from(FEE_SCALE);
    // Non-negative operands: integer division is the floor. Bounded by the limits on P, F, n.
    i64::try_from(num / den).unwrap_or(i64::MAX)
}

/// One instalment's amounts (rials).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amounts {
    pub principal: i64,
    pub fee: i64,
    pub total: i64,
}

/// A deferral of instalments `from` … n by `months` months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deferral {
    pub from: u32,
    pub months: u32,
}

/// What a loan's schedule is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    pub principal: i64,
    pub months: u32,
    pub fee: FeeRate,
    /// The start (contract or disbursement) date; its day of the month is the anchor.
    pub start: JalaliDate,
    pub grace_months: u32,
}

/// One row of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instalment {
    /// 1 … n.
    pub n: u32,
    pub due: JalaliDate,
    /// Months after the start's month (grace + k + deferrals): the month index of the due date
    /// is `month_index(start) + offset`.
    pub offset: u32,
    pub principal: i64,
    pub fee: i64,
    pub total: i64,
    /// What is still owed after this instalment is paid.
    pub balance: i64,
}

impl Terms {
    /// Checks the limits of every field.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        if !(1..=MAX_MONTHS).contains(&self.months) {
            return Err(ScheduleError::Months);
        }
        let min = i64::from(self.months);
        if self.principal < min || self.principal > MAX_PRINCIPAL {
            return Err(ScheduleError::Principal {
                min,
                max: MAX_PRINCIPAL,
            });
        }
        if self.grace_months > MAX_GRACE {
            return Err(ScheduleError::Grace);
        }
        if !(1300..=1500).contains(&self.start.year()) {
            return Err(ScheduleError::Start);
        }
        Ok(())
    }

    pub fn total_fee(&self) -> i64 {
        total_fee(self.principal, self.fee, self.months)
    }
}

/// The amounts of each instalment, in order (no dates): the fast path for bulk work.
pub fn amounts(principal: i64, fee: FeeRate, months: u32) -> Result<Vec<Amounts>, ScheduleError> {
    if !(1..=MAX_MONTHS).contains(&months) {
        return Err(ScheduleError::Months);
    }
    if principal < i64::from(months) || principal > MAX_PRINCIPAL {
        return Err(ScheduleError::Principal {
            min: i64::from(months),
            max: MAX_PRINCIPAL,
        });
    }
    let fee_total = total_fee(principal, fee, months);
    let n = i64::from(months);
    let whole = principal + fee_total;
    let each = whole / n;
    let fee_each = fee_total / n;
    let mut out = Vec::with_capacity(months as usize);
    for k in 1..=n {
        let (total, fee_part) = if k == n {
            (whole - each * (n - 1), fee_total - fee_each * (n - 1))
        } else {
            (each, fee_each)
        };
        out.push(Amounts {
            principal: total - fee_part,
            fee: fee_part,
            total,
        });
    }
    Ok(out)
}

/// The Jalali month index (months since year 0) of a date.
pub fn month_index(d: JalaliDate) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month()) - 1
}

/// The date in month `index` on `day`, or that month's last day when it is shorter.
pub fn clamped_date(index: i64, day: u8) -> Result<JalaliDate, ScheduleError> {
    let year = i32::try_from(index.div_euclid(12)).map_err(|_| ScheduleError::OutOfCalendar)?;
    let month = (index.rem_euclid(12) + 1) as u8;
    let last = jalali_month_days(year, month).ok_or(ScheduleError::OutOfCalendar)?;
    JalaliDate::new(year, month, day.min(last)).map_err(|_| ScheduleError::OutOfCalendar)
}

/// The due date `offset` months after the start's month, on the start's day (clamped).
pub fn due_date(start: JalaliDate, offset: u32) -> Result<JalaliDate, ScheduleError> {
    clamped_date(month_index(start) + i64::from(offset), start.day())
}

/// Checks a deferral against a loan of `months` instalments.
pub fn validate_deferral(d: &Deferral, months: u32) -> Result<(), ScheduleError> {
    if d.from < 1 || d.from > months {
        return Err(ScheduleError::DeferFrom);
    }
    if !(1..=MAX_DEFER).contains(&d.months) {
        return Err(ScheduleError::DeferMonths);
    }
    Ok(())
}

/// The extra months instalment `k` is moved by the deferrals (they add up).
pub fn deferred_months(deferrals: &[Deferral], k: u32) -> u32 {
    deferrals
        .iter()
        .filter(|d| d.from <= k)
        .map(|d| d.months)
        .sum()
}

/// The whole schedule of a loan, with its deferrals applied.
pub fn schedule(terms: &Terms, deferrals: &[Deferral]) -> Result<Vec<Instalment>, ScheduleError> {
    terms.validate()?;
    for d in deferrals {
        validate_deferral(d, terms.months)?;
    }
    let amounts = amounts(terms.principal, terms.fee, terms.months)?;
    let mut balance = terms.principal + terms.total_fee();
    let mut out = Vec::with_capacity(amounts.len());
    for (i, a) in amounts.into_iter().enumerate() {
        let k = i as u32 + 1;
        let offset = terms.grace_months + k + deferred_months(deferrals, k);
        balance -= a.total;
        out.push(Instalment {
            n: k,
            due: due_date(terms.start, offset)?,
            offset,
            principal: a.principal,
            fee: a.fee,
            total: a.total,
            balance,
        });
    }
    Ok(out)
}

/// Parses a whole number of rials (or months): ASCII, Persian or Arabic digits, with optional
/// thousands separators (`,` `٬` `_`). `None` for anything else.
pub fn parse_whole(s: &str) -> Option<i64> {
    let s: String = fold_digits(s.trim())
        .chars()
        .filter(|c| !matches!(c, ',' | '٬' | '_' | '،'))
        .collect();
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses a Jalali date `YYYY/MM/DD` (also `-` as separator, any digit style).
pub fn parse_jalali(s: &str) -> Option<JalaliDate> {
    let s = fold_digits(s.trim());
    let parts: Vec<&str> = s.split(['/', '-']).collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    if y.len() != 4 || m.is_empty() || m.len() > 2 || d.is_empty() || d.len() > 2 {
        return None;
    }
    let y: i32 = y.parse().ok()?;
    let m: u8 = m.parse().ok()?;
    let d: u8 = d.parse().ok()?;
    JalaliDate::new(y, m, d).ok()
}

/// `YYYY/MM/DD` in ASCII digits.
pub fn jalali_text(d: JalaliDate) -> String {
    format!("{:04}/{:02}/{:02}", d.year(), d.month(), d.day())
}

/// The schedule as CSV (the `hamdeli loans schedule` output): header
/// `n,due_jalali,due_gregorian,principal_rials,fee_rials,total_rials,balance_rials`.
pub fn to_csv(rows: &[Instalment]) -> String {
    let mut out = String::from(
        "n,due_jalali,due_gregorian,principal_rials,fee_rials,total_rials,balance_rials\n",
    );
    for r in rows {
        let g = r.due.to_iso();
        out.push_str(&format!(
            "{},{},{:04}-{:02}-{:02},{},{},{},{}\n",
            r.n,
            jalali_text(r.due),
            g.year(),
            g.month(),
            g.day(),
            r.principal,
            r.fee,
            r.total,
            r.balance
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn j(y: i32, m: u8, d: u8) -> JalaliDate {
        JalaliDate::new(y, m, d).expect("test date")
    }

    fn terms(p: i64, n: u32, f: &str, start: JalaliDate, grace: u32) -> Terms {
        Terms {
            principal: p,
            months: n,
            fee: FeeRate::parse(f).expect("test fee"),
            start,
            grace_months: grace,
        }
    }

    #[test]
    fn calendar_leap_years_are_the_official_ones() {
        assert!(hamdeli_text::is_jalali_leap_year(1403));
        assert!(!hamdeli_text::is_jalali_leap_year(1404));
        assert!(!hamdeli_text::is_jalali_leap_year(1405));
        assert!(hamdeli_text::is_jalali_leap_year(1408));
        assert_eq!(jalali_month_days(1403, 12), Some(30));
        assert_eq!(jalali_month_days(1404, 12), Some(29));
        assert_eq!(jalali_month_days(1405, 6), Some(31));
        assert_eq!(jalali_month_days(1405, 7), Some(30));
    }

    #[test]
    fn fee_rates_parse_exactly() {
        assert_eq!(FeeRate::parse("4").map(FeeRate::units), Ok(40_000));
        assert_eq!(FeeRate::parse("2.5").map(FeeRate::units), Ok(25_000));
        assert_eq!(FeeRate::parse("۲٫۵").map(FeeRate::units), Ok(25_000));
        assert_eq!(FeeRate::parse("0.0001").map(FeeRate::units), Ok(1));
        assert_eq!(FeeRate::parse(".5").map(FeeRate::units), Ok(5_000));
        assert_eq!(FeeRate::parse("100").map(FeeRate::units), Ok(1_000_000));
        for bad in [
            "", ".", "4.", "-1", "100.01", "1e2", "2.55555", "abc", "1.2.3", "1000",
        ] {
            assert_eq!(FeeRate::parse(bad), Err(ScheduleError::Fee), "{bad}");
        }
        assert_eq!(
            FeeRate::parse("2.5").map(|f| f.to_string()).as_deref(),
            Ok("2.5")
        );
        assert_eq!(
            FeeRate::parse("4.000").map(|f| f.to_string()).as_deref(),
            Ok("4")
        );
    }

    #[test]
    fn total_fee_by_the_bank_formula() {
        // 100,000,000 × 4 × 13 / 2400 = 2,166,666.67 → 2,166,666
        assert_eq!(
            total_fee(100_000_000, FeeRate::parse("4").expect("fee"), 12),
            2_166_666
        );
        // 50,000,000 × 2.5 × 37 / 2400 = 1,927,083.33 → 1,927,083
        assert_eq!(
            total_fee(50_000_000, FeeRate::parse("2.5").expect("fee"), 36),
            1_927_083
        );
        // A fee rate with decimals that a float would get wrong: 3 × 0.3 × 2 / 2400 exactly.
        // 2400 × 0.3 × 10 / 2400 = 3 exactly (0.3 has no exact binary float).
        assert_eq!(total_fee(2400, FeeRate::parse("0.3").expect("fee"), 9), 3);
        // 7,999,999 × 1.15 × 25 / 2400 = 95,833.32… → 95,833
        assert_eq!(
            total_fee(7_999_999, FeeRate::parse("1.15").expect("fee"), 24),
            95_833
        );
        assert_eq!(total_fee(1_000, FeeRate::parse("0").expect("fee"), 12), 0);
    }

    #[test]
    fn hand_computed_schedule_of_twelve_months() {
        // P = 100,000,000, F = 4, n = 12: fee 2,166,666; P + fee = 102,166,666;
        // instalment 8,513,888 (× 11 = 93,652,768), last 8,513,898;
        // fee part 180,555 (× 11 = 1,986,105), last 180,561.
        let rows = schedule(&terms(100_000_000, 12, "4", j(1405, 1, 31), 0), &[]).expect("ok");
        assert_eq!(rows.len(), 12);
        assert_eq!(
            (rows[0].total, rows[0].fee, rows[0].principal),
            (8_513_888, 180_555, 8_333_333)
        );
        assert_eq!(
            (rows[11].total, rows[11].fee, rows[11].principal),
            (8_513_898, 180_561, 8_333_337)
        );
        assert_eq!(rows[0].balance, 102_166_666 - 8_513_888);
        assert_eq!(rows[11].balance, 0);
        // Start 1405/01/31: months 2…6 on the 31st, 7…11 on the 30th, Esfand 1405 (not leap) 29,
        // Farvardin 1406 the 31st again.
        let due: Vec<String> = rows.iter().map(|r| jalali_text(r.due)).collect();
        assert_eq!(
            due,
            [
                "1405/02/31",
                "1405/03/31",
                "1405/04/31",
                "1405/05/31",
                "1405/06/31",
                "1405/07/30",
                "1405/08/30",
                "1405/09/30",
                "1405/10/30",
                "1405/11/30",
                "1405/12/29",
                "1406/01/31"
            ]
        );
    }

    #[test]
    fn grace_moves_the_first_month_and_leap_esfand_has_thirty() {
        // Start 1407/06/30 with 5 months' grace: first due in month 6 + 5 + 1 = 12 (Esfand 1407):
        // 1407 is not leap, so 1407/12/29; then 1408/01/30 …; Esfand 1408 (leap) is the 30th.
        assert!(!hamdeli_text::is_jalali_leap_year(1407));
        let rows = schedule(&terms(12_000_000, 13, "2.5", j(1407, 6, 30), 5), &[]).expect("ok");
        assert_eq!(jalali_text(rows[0].due), "1407/12/29");
        assert_eq!(jalali_text(rows[1].due), "1408/01/30");
        assert_eq!(jalali_text(rows[12].due), "1408/12/30");
        // 1408/01/01 is 2029-03-20 (1407/01/01 was 2028-03-20, after 29 February): 1408/01/30 is 2029-04-18.
        let g = rows[1].due.to_iso();
        assert_eq!((g.year(), g.month(), g.day()), (2029, 4, 18));
    }

    #[test]
    fn deferral_moves_later_instalments_by_the_original_day() {
        let t = terms(10_000_000, 6, "4", j(1405, 1, 31), 0);
        let plain = schedule(&t, &[]).expect("ok");
        let d = schedule(&t, &[Deferral { from: 4, months: 3 }]).expect("ok");
        // Amounts unchanged, no fee added.
        for (a, b) in plain.iter().zip(&d) {
            assert_eq!(
                (a.principal, a.fee, a.total, a.balance),
                (b.principal, b.fee, b.total, b.balance)
            );
        }
        let due: Vec<String> = d.iter().map(|r| jalali_text(r.due)).collect();
        // 1…3 unchanged (Ordibehesht … Tir on the 31st); 4…6 from Mordad/Shahrivar/Mehr to
        // Aban/Azar/Dey on the 30th (those months are short).
        assert_eq!(
            due,
            [
                "1405/02/31",
                "1405/03/31",
                "1405/04/31",
                "1405/08/30",
                "1405/09/30",
                "1405/10/30"
            ]
        );
        // A clamped date deferred into a long month goes back to the 31st (anchor = start day).
        let t31 = terms(10_000_000, 3, "4", j(1405, 6, 31), 0);
        let moved = schedule(&t31, &[Deferral { from: 1, months: 6 }]).expect("ok");
        // Plain: 1405/07/30; deferred 6 months: 1406/01/31.
        assert_eq!(jalali_text(moved[0].due), "1406/01/31");
        // Two deferrals add up.
        let twice = schedule(
            &t31,
            &[
                Deferral { from: 2, months: 1 },
                Deferral { from: 3, months: 2 },
            ],
        )
        .expect("ok");
        let due: Vec<String> = twice.iter().map(|r| jalali_text(r.due)).collect();
        assert_eq!(due, ["1405/07/30", "1405/09/30", "1405/12/29"]);
    }

    #[test]
    fn csv_has_the_issue_header() {
        let rows = schedule(&terms(1_000_000, 2, "4", j(1405, 1, 1), 0), &[]).expect("ok");
        let csv = to_csv(&rows);
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("n,due_jalali,due_gregorian,principal_rials,fee_rials,total_rials,balance_rials")
        );
        // fee = ⌊1,000,000 × 4 × 3 / 2400⌋ = 5,000; each 502,500; fee part 2,500.
        assert_eq!(
            lines.next(),
            Some("1,1405/02/01,2026-04-21,500000,2500,502500,502500")
        );
        assert_eq!(
            lines.next(),
            Some("2,1405/03/01,2026-05-22,500000,2500,502500,0")
        );
    }

    #[test]
    fn bad_terms_are_refused() {
        let s = j(1405, 1, 1);
        assert!(matches!(
            schedule(&terms(0, 12, "4", s, 0), &[]),
            Err(ScheduleError::Principal { .. })
        ));
        assert_eq!(
            schedule(&terms(1_000, 0, "4", s, 0), &[]),
            Err(ScheduleError::Months)
        );
        assert_eq!(
            schedule(&terms(1_000, 241, "4", s, 0), &[]),
            Err(ScheduleError::Months)
        );
        assert_eq!(
            schedule(&terms(1_000, 12, "4", s, 61), &[]),
            Err(ScheduleError::Grace)
        );
        assert_eq!(
            schedule(
                &terms(1_000, 12, "4", s, 0),
                &[Deferral {
                    from: 13,
                    months: 1
                }]
            ),
            Err(ScheduleError::DeferFrom)
        );
        assert_eq!(
            schedule(
                &terms(1_000, 12, "4", s, 0),
                &[Deferral { from: 1, months: 0 }]
            ),
            Err(ScheduleError::DeferMonths)
        );
    }

    #[test]
    fn parses_persian_input() {
        assert_eq!(parse_whole("۱۰۰٬۰۰۰٬۰۰۰"), Some(100_000_000));
        assert_eq!(parse_whole("12a"), None);
        assert_eq!(parse_whole("-5"), None);
        assert_eq!(parse_jalali("۱۴۰۵/۰۱/۳۱"), Some(j(1405, 1, 31)));
        assert_eq!(parse_jalali("1405/12/30"), None); // 1405 is not leap
        assert_eq!(parse_jalali("1403/12/30"), Some(j(1403, 12, 30)));
        assert_eq!(parse_jalali("14050131"), None);
    }

    /// An independent recomputation of the rules, written plainly (no shared helper).
    fn reference(p: i64, f_units: i64, n: i64) -> (i64, Vec<(i64, i64)>) {
        let fee = ((p as i128 * f_units as i128 * (n as i128 + 1)) / (2400 * 10_000)) as i64;
        let mut v = vec![];
        for k in 1..=n {
            let t = if k < n {
                (p + fee) / n
            } else {
                p + fee - (n - 1) * ((p + fee) / n)
            };
            let fp = if k < n {
                fee / n
            } else {
                fee - (n - 1) * (fee / n)
            };
            v.push((t, fp));
        }
        (fee, v)
    }

    proptest! {
        #[test]
        fn sums_balances_and_dates(
            p in 1_000_i64..=MAX_PRINCIPAL,
            f in 0_i64..=MAX_FEE,
            n in 1_u32..=MAX_MONTHS,
            grace in 0_u32..=MAX_GRACE,
            y in 1395_i32..=1420,
            m in 1_u8..=12,
            d in 1_u8..=31,
            defer in proptest::option::of((1_u32..=MAX_MONTHS, 1_u32..=MAX_DEFER)),
        ) {
            let Some(last) = jalali_month_days(y, m) else { return Ok(()); };
            let start = j(y, m, d.min(last));
            let t = Terms { principal: p, months: n, fee: FeeRate::from_units(f).expect("fee"), start, grace_months: grace };
            let deferrals: Vec<Deferral> = defer
                .map(|(from, months)| Deferral { from: from.min(n), months })
                .into_iter()
                .collect();
            let rows = schedule(&t, &deferrals).expect("valid terms");
            let (fee, parts) = reference(p, f, i64::from(n));
            prop_assert_eq!(rows.len(), n as usize);
            prop_assert_eq!(rows.iter().map(|r| r.total).sum::<i64>(), p + fee);
            prop_assert_eq!(rows.iter().map(|r| r.fee).sum::<i64>(), fee);
            prop_assert_eq!(rows.iter().map(|r| r.principal).sum::<i64>(), p);
            prop_assert_eq!(rows.last().map(|r| r.balance), Some(0));
            let mut prev_balance = p + fee;
            let mut prev_due: Option<JalaliDate> = None;
            for (r, (t, fp)) in rows.iter().zip(parts) {
                prop_assert_eq!(r.total, t);
                prop_assert_eq!(r.fee, fp);
                prop_assert!(r.principal >= 0);
                prop_assert!(r.balance < prev_balance);
                prev_balance = r.balance;
                // Due on the start's day, or the month's last day when shorter.
                let len = jalali_month_days(r.due.year(), r.due.month()).expect("month");
                prop_assert_eq!(r.due.day(), start.day().min(len));
                if let Some(prev) = prev_due {
                    prop_assert!(r.due.to_iso().to_days() > prev.to_iso().to_days());
                }
                prev_due = Some(r.due);
                let moved = deferrals.iter().filter(|x| x.from <= r.n).map(|x| x.months).sum::<u32>();
                prop_assert_eq!(month_index(r.due), month_index(start) + i64::from(grace + r.n + moved));
            }
        }
    }
}
