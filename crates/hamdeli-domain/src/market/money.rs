//! Price arithmetic of the market: integer rials, every step checked; an overflow is an error,
//! never a wrapped number.

/// Commission rates are in basis points (1/100 of a percent): 500 = 5 %.
pub const MAX_COMMISSION_BPS: i64 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount out of range")]
    Overflow,
    #[error("negative amount")]
    Negative,
}

/// `price × quantity`, both non-negative.
pub fn line_total(price_rials: i64, quantity: i64) -> Result<i64, MoneyError> {
    if price_rials < 0 || quantity < 0 {
        return Err(MoneyError::Negative);
    }
    price_rials
        .checked_mul(quantity)
        .ok_or(MoneyError::Overflow)
}

/// The sum of line totals.
pub fn sum<I: IntoIterator<Item = i64>>(amounts: I) -> Result<i64, MoneyError> {
    amounts.into_iter().try_fold(0i64, |acc, a| {
        if a < 0 {
            return Err(MoneyError::Negative);
        }
        acc.checked_add(a).ok_or(MoneyError::Overflow)
    })
}

/// The platform's commission on `total` at `bps` basis points, rounded down (the producer keeps
/// the odd rial).
pub fn commission(total: i64, bps: i64) -> Result<i64, MoneyError> {
    if total < 0 || bps < 0 {
        return Err(MoneyError::Negative);
    }
    if bps > MAX_COMMISSION_BPS {
        return Err(MoneyError::Overflow);
    }
    // i128 so that total × bps never overflows before the division.
    let c = i128::from(total) * i128::from(bps) / 10_000;
    i64::try_from(c).map_err(|_| MoneyError::Overflow)
}

/// How a sub-order's money splits: what the producer is owed and the platform's commission.
/// The two always add up to the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    pub total: i64,
    pub commission: i64,
    pub producer: i64,
}

pub fn split(total: i64, bps: i64) -> Result<Split, MoneyError> {
    let commission = commission(total, bps)?;
    let producer = total.checked_sub(commission).ok_or(MoneyError::Overflow)?;
    Ok(Split {
        total,
        commission,
        producer,
    })
}

/// Tomans typed by a person (any digit script, thousands separators) as rials.
pub fn parse_tomans(input: &str) -> Option<i64> {
    let mut n: i64 = 0;
    let mut any = false;
    for c in input.trim().chars() {
        let d = match c {
            '0'..='9' => c as u32 - '0' as u32,
            '\u{06F0}'..='\u{06F9}' => c as u32 - 0x06F0,
            '\u{0660}'..='\u{0669}' => c as u32 - 0x0660,
            ',' | '،' | '٬' | ' ' | '\u{200C}' => continue,
            _ => return None,
        };
        any = true;
        n = n.checked_mul(10)?.checked_add(i64::from(d))?;
    }
    if !any {
        return None;
    }
    n.checked_mul(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_are_checked() {
        assert_eq!(line_total(25_000, 3), Ok(75_000));
        assert_eq!(line_total(i64::MAX, 2), Err(MoneyError::Overflow));
        assert_eq!(line_total(-1, 2), Err(MoneyError::Negative));
        assert_eq!(sum([1, 2, 3]), Ok(6));
        assert_eq!(sum([i64::MAX, 1]), Err(MoneyError::Overflow));
    }

    #[test]
    fn commission_rounds_down_and_the_split_adds_up() {
        assert_eq!(commission(10_001, 500), Ok(500));
        let s = split(123_457, 750).unwrap();
        assert_eq!(s.commission + s.producer, s.total);
        assert_eq!(s.commission, 9_259);
        assert_eq!(split(i64::MAX, 5_000).unwrap().commission, i64::MAX / 2);
        assert_eq!(commission(100, 5_001), Err(MoneyError::Overflow));
        assert_eq!(split(0, 0).unwrap().producer, 0);
    }

    #[test]
    fn tomans_in_any_digits() {
        assert_eq!(parse_tomans("۱۲٬۵۰۰"), Some(125_000));
        assert_eq!(parse_tomans("12,500"), Some(125_000));
        assert_eq!(parse_tomans("abc"), None);
        assert_eq!(parse_tomans(""), None);
        assert_eq!(parse_tomans("99999999999999999999"), None);
    }
}
