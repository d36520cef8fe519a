//! Iranian national code (کد ملی): 10 digits, the last a check digit (DESIGN.md §4).

use std::fmt;
use std::str::FromStr;

use crate::digits::digit_value;

/// A valid national code: exactly 10 ASCII digits with a correct check digit, not all identical.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NationalCode([u8; 10]);

/// Why a string is not a national code. [`code`](Self::code) gives a stable key for translation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NationalCodeError {
    /// Nothing but spaces and separators.
    #[error("national code is empty")]
    Empty,
    /// A character that is neither a digit (any script) nor a space or dash.
    #[error("national code contains a non-digit character {0:?}")]
    NonDigit(char),
    /// Not 10 digits (nor 8–9, which are zero-padded).
    #[error("national code has {0} digits, expected 10")]
    WrongLength(usize),
    /// All ten digits identical (e.g. 1111111111), which passes the check digit but is never issued.
    #[error("national code has all digits identical")]
    AllSameDigits,
    /// The check digit does not match.
    #[error("national code check digit is {found}, expected {expected}")]
    BadCheckDigit {
        /// Check digit computed from the first nine digits.
        expected: u8,
        /// Last digit as given.
        found: u8,
    },
}

impl NationalCodeError {
    /// Stable message key, e.g. `"national_code.bad_check_digit"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "national_code.empty",
            Self::NonDigit(_) => "national_code.non_digit",
            Self::WrongLength(_) => "national_code.wrong_length",
            Self::AllSameDigits => "national_code.all_same_digits",
            Self::BadCheckDigit { .. } => "national_code.bad_check_digit",
        }
    }
}

/// A repair made while parsing; the value is accepted with a warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repair {
    /// 8 or 9 digits were left-padded with zeros (spreadsheets drop leading zeros).
    Padded {
        /// Number of digits given.
        digits_given: u8,
    },
}

impl Repair {
    /// Stable message key: `"national_code.padded"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Padded { .. } => "national_code.padded",
        }
    }
}

/// A parsed national code and the repair made to it, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The valid code.
    pub code: NationalCode,
    /// `Some` when the input was repaired (accept with a warning).
    pub repair: Option<Repair>,
}

/// The check digit for the first nine digits (each 0–9).
///
/// `s = Σ_{i=0..8} d_i·(10−i) mod 11`; the check digit is `s` when `s < 2`, else `11 − s`.
pub fn check_digit_for(first9: &[u8; 9]) -> u8 {
    let s: u32 = first9
        .iter()
        .enumerate()
        .map(|(i, &d)| u32::from(d) * (10 - i as u32))
        .sum::<u32>()
        % 11;
    if s < 2 { s as u8 } else { (11 - s) as u8 }
}

/// True for the separators accepted (and ignored) inside a national code, mobile or postal code.
pub(crate) fn is_id_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '\u{2010}'..='\u{2015}'
                | '\u{2212}'
                | '\u{FE63}'
                | '\u{FF0D}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'
                | '\u{2066}'..='\u{2069}'
                | '\u{061C}'
                | '\u{FEFF}'
        )
}

/// Digit values of `s` with separators dropped, or the first offending character.
/// Stops collecting past `cap` digits (the length is still counted).
pub(crate) fn collect_digits(s: &str, cap: usize) -> Result<(Vec<u8>, usize), char> {
    let mut digits = Vec::with_capacity(cap);
    let mut count = 0usize;
    for c in s.chars() {
        if let Some(v) = digit_value(c) {
            if digits.len() < cap {
                digits.push(v);
            }
            count += 1;
        } else if !is_id_separator(c) {
            return Err(c);
        }
    }
    Ok((digits, count))
}

impl NationalCode {
    /// Parses a national code: digits in any script, spaces and dashes ignored; 8–9 digits are
    /// left-padded with zeros and reported as [`Repair::Padded`].
    ///
    /// ```
    /// use hamdeli_text::{NationalCode, Repair};
    /// let p = NationalCode::parse("۰۰۱۳۵۴۲۴۱۹").unwrap();
    /// assert_eq!(p.code.as_str(), "0013542419");
    /// assert_eq!(p.repair, None);
    /// let p = NationalCode::parse("13542419").unwrap();
    /// assert_eq!(p.code.as_str(), "0013542419");
    /// assert_eq!(p.repair, Some(Repair::Padded { digits_given: 8 }));
    /// ```
    pub fn parse(s: &str) -> Result<Parsed, NationalCodeError> {
        let (digits, count) = collect_digits(s, 10).map_err(NationalCodeError::NonDigit)?;
        let (code, repair) = match count {
            0 => return Err(NationalCodeError::Empty),
            10 => {
                let mut d = [0u8; 10];
                d.copy_from_slice(&digits);
                (d, None)
            }
            8 | 9 => {
                let mut d = [0u8; 10];
                d[10 - count..].copy_from_slice(&digits);
                (
                    d,
                    Some(Repair::Padded {
                        digits_given: count as u8,
                    }),
                )
            }
            n => return Err(NationalCodeError::WrongLength(n)),
        };
        let code = Self::from_digits(code)?;
        Ok(Parsed { code, repair })
    }

    /// Parses strictly: exactly 10 digits (any script, separators ignored), no padding.
    pub fn parse_strict(s: &str) -> Result<NationalCode, NationalCodeError> {
        let (digits, count) = collect_digits(s, 10).map_err(NationalCodeError::NonDigit)?;
        match count {
            0 => Err(NationalCodeError::Empty),
            10 => {
                let mut d = [0u8; 10];
                d.copy_from_slice(&digits);
                Self::from_digits(d)
            }
            n => Err(NationalCodeError::WrongLength(n)),
        }
    }

    /// Validates ten digit values (each 0–9; larger values are rejected as a bad check digit).
    pub fn from_digits(d: [u8; 10]) -> Result<NationalCode, NationalCodeError> {
        if d.iter().all(|&x| x == d[0]) {
            return Err(NationalCodeError::AllSameDigits);
        }
        let mut first9 = [0u8; 9];
        first9.copy_from_slice(&d[..9]);
        if first9.iter().any(|&x| x > 9) || d[9] > 9 {
            return Err(NationalCodeError::BadCheckDigit {
                expected: 0,
                found: d[9],
            });
        }
        let expected = check_digit_for(&first9);
        if d[9] != expected {
            return Err(NationalCodeError::BadCheckDigit {
                expected,
                found: d[9],
            });
        }
        Ok(NationalCode(d.map(|x| b'0' + x)))
    }

    /// True if [`parse`](Self::parse) accepts `s` (padding of 8–9 digits included).
    pub fn is_valid(s: &str) -> bool {
        Self::parse(s).is_ok()
    }

    /// The valid code with these first nine digits (each 0–9), or `None` if that code would have
    /// all digits identical or a digit is out of range.
    pub fn from_first_nine(first9: [u8; 9]) -> Option<NationalCode> {
        if first9.iter().any(|&x| x > 9) {
            return None;
        }
        let mut d = [0u8; 10];
        d[..9].copy_from_slice(&first9);
        d[9] = check_digit_for(&first9);
        Self::from_digits(d).ok()
    }

    /// A valid code made deterministically from `n` (for tests and demo data): the first nine
    /// digits are `n mod 10⁹`, zero-padded, plus the check digit; the rare all-identical result is
    /// skipped to the next number. Distinct `n` below 10⁹ give distinct codes, except that those
    /// few skipped numbers map onto their successors.
    pub fn generate(n: u64) -> NationalCode {
        let mut n = n % 1_000_000_000;
        loop {
            let mut first9 = [0u8; 9];
            let mut m = n;
            for slot in first9.iter_mut().rev() {
                *slot = (m % 10) as u8;
                m /= 10;
            }
            if let Some(code) = Self::from_first_nine(first9) {
                return code;
            }
            n = (n + 1) % 1_000_000_000;
        }
    }

    /// The code as 10 ASCII digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The digit values (0–9).
    pub fn digits(&self) -> [u8; 10] {
        self.0.map(|b| b - b'0')
    }
}

impl fmt::Display for NationalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for NationalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NationalCode({})", self.as_str())
    }
}

impl AsRef<str> for NationalCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl FromStr for NationalCode {
    type Err = NationalCodeError;
    /// Same as [`NationalCode::parse`], dropping the repair note.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).map(|p| p.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_digit_rule() {
        // 001354241-9: s = 0·10+0·9+1·8+3·7+5·6+4·5+2·4+4·3+1·2 = 101; 101 mod 11 = 2 → 9.
        assert_eq!(check_digit_for(&[0, 0, 1, 3, 5, 4, 2, 4, 1]), 9);
        assert!(NationalCode::is_valid("0013542419"));
        assert!(!NationalCode::is_valid("0013542418"));
        // s < 2 cases: check digit equals s.
        for n in 0..2000u64 {
            let c = NationalCode::generate(n * 7919);
            let d = c.digits();
            let s: u32 = (0..9)
                .map(|i| u32::from(d[i]) * (10 - i as u32))
                .sum::<u32>()
                % 11;
            let want = if s < 2 { s } else { 11 - s };
            assert_eq!(u32::from(d[9]), want);
        }
    }

    #[test]
    fn accepts_scripts_and_separators() {
        let want = "0013542419";
        for s in [
            "0013542419",
            "۰۰۱۳۵۴۲۴۱۹",
            "٠٠١٣٥٤٢٤١٩",
            "001-354241-9",
            " 001 354 2419 ",
            "\u{200F}۰۰۱-۳۵۴۲۴۱-۹",
            "00۱3٥42419",
        ] {
            let p = NationalCode::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert_eq!(p.code.as_str(), want, "{s:?}");
            assert_eq!(p.repair, None);
        }
    }

    #[test]
    fn pads_eight_and_nine_digits() {
        let p = NationalCode::parse("13542419").unwrap();
        assert_eq!(p.code.as_str(), "0013542419");
        assert_eq!(p.repair, Some(Repair::Padded { digits_given: 8 }));
        assert_eq!(p.repair.unwrap().code(), "national_code.padded");
        let p = NationalCode::parse("013542419").unwrap();
        assert_eq!(p.code.as_str(), "0013542419");
        assert_eq!(p.repair, Some(Repair::Padded { digits_given: 9 }));
        assert!(NationalCode::parse_strict("13542419").is_err());
    }

    #[test]
    fn errors() {
        use NationalCodeError::*;
        assert_eq!(NationalCode::parse(""), Err(Empty));
        assert_eq!(NationalCode::parse(" - "), Err(Empty));
        assert_eq!(NationalCode::parse("1234567"), Err(WrongLength(7)));
        assert_eq!(NationalCode::parse("12345678901"), Err(WrongLength(11)));
        assert_eq!(NationalCode::parse("00135424x9"), Err(NonDigit('x')));
        assert_eq!(NationalCode::parse("1111111111"), Err(AllSameDigits));
        assert_eq!(NationalCode::parse("0000000000"), Err(AllSameDigits));
        assert_eq!(NationalCode::parse("00000000"), Err(AllSameDigits));
        assert_eq!(
            NationalCode::parse("0013542418"),
            Err(BadCheckDigit {
                expected: 9,
                found: 8
            })
        );
        assert_eq!(
            NationalCode::parse("0013542418").unwrap_err().code(),
            "national_code.bad_check_digit"
        );
        assert_eq!(
            NationalCode::parse("x").unwrap_err().code(),
            "national_code.non_digit"
        );
    }

    #[test]
    fn generator() {
        let mut seen = std::collections::HashSet::new();
        for n in 0..5000u64 {
            let c = NationalCode::generate(n.wrapping_mul(2_654_435_761));
            assert!(NationalCode::is_valid(c.as_str()), "{c}");
            assert_eq!(NationalCode::parse(c.as_str()).unwrap().code, c);
            seen.insert(c);
        }
        assert!(seen.len() > 4990);
        // 000000000 would give 0000000000: skipped.
        assert_eq!(NationalCode::generate(0).as_str(), "0000000019");
        assert_eq!(NationalCode::from_first_nine([0; 9]), None);
        assert_eq!(
            "0013542419".parse::<NationalCode>().unwrap().to_string(),
            "0013542419"
        );
    }
}
