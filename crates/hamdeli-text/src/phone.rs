//! Iranian mobile numbers and postal codes (DESIGN.md §4).

use std::fmt;
use std::str::FromStr;

use crate::national_code::collect_digits;

/// A mobile number stored as `09` followed by nine digits (11 ASCII digits).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mobile([u8; 11]);

/// Why a string is not a mobile number. [`code`](Self::code) gives a stable key for translation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MobileError {
    /// Nothing but spaces and separators.
    #[error("mobile number is empty")]
    Empty,
    /// A character other than a digit, space, dash, parenthesis, or a leading `+`.
    #[error("mobile number contains an invalid character {0:?}")]
    InvalidCharacter(char),
    /// The digits do not form any accepted shape (`09…`, `9…`, `989…`, `+989…`, `00989…`).
    #[error("mobile number has {0} digits, which is not a mobile number length")]
    WrongLength(usize),
    /// Right length but not a mobile number (e.g. a landline `021…`).
    #[error("not a mobile number (must start with 09)")]
    NotMobile,
}

impl MobileError {
    /// Stable message key, e.g. `"mobile.not_mobile"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "mobile.empty",
            Self::InvalidCharacter(_) => "mobile.invalid_character",
            Self::WrongLength(_) => "mobile.wrong_length",
            Self::NotMobile => "mobile.not_mobile",
        }
    }
}

/// Digits of a phone-like string: separators, parentheses and one leading `+` allowed.
/// Returns the digits (up to `cap`), their count and whether a `+` was present.
fn phone_digits(s: &str, cap: usize) -> Result<(Vec<u8>, usize, bool), char> {
    let mut plus = false;
    let mut seen_digit = false;
    let mut cleaned = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '+' | '\u{FF0B}' if !plus && !seen_digit => plus = true,
            '(' | ')' | '.' | '/' => {}
            c => {
                if crate::digits::is_any_digit(c) {
                    seen_digit = true;
                }
                cleaned.push(c);
            }
        }
    }
    let (digits, count) = collect_digits(&cleaned, cap)?;
    Ok((digits, count, plus))
}

/// Parses an Iranian mobile number: `09xxxxxxxxx`, `9xxxxxxxxx`, `989xxxxxxxxx`, `+989xxxxxxxxx`,
/// `00989xxxxxxxxx` (also with a `0` after the country code, as in `+98 (0)912…`), in any digit
/// script, with spaces, dashes, dots and parentheses. Stored as `09…`.
///
/// ```
/// use hamdeli_text::parse_mobile;
/// assert_eq!(parse_mobile("+98 912 123 4567").unwrap().as_str(), "09121234567");
/// assert_eq!(parse_mobile("۰۹۱۲-۱۲۳-۴۵۶۷").unwrap().as_str(), "09121234567");
/// ```
pub fn parse_mobile(s: &str) -> Result<Mobile, MobileError> {
    let (d, count, _plus) = phone_digits(s, 16).map_err(MobileError::InvalidCharacter)?;
    if count == 0 {
        return Err(MobileError::Empty);
    }
    // Strip the prefix down to the ten national digits starting with 9.
    let national: &[u8] = match count {
        10 => &d[..],
        11 if d[0] == 0 => &d[1..],
        12 if d[..2] == [9, 8] => &d[2..],
        13 if d[..3] == [9, 8, 0] => &d[3..],
        14 if d[..4] == [0, 0, 9, 8] => &d[4..],
        15 if d[..5] == [0, 0, 9, 8, 0] => &d[5..],
        11..=15 => return Err(MobileError::NotMobile),
        n => return Err(MobileError::WrongLength(n)),
    };
    if national.len() != 10 || national[0] != 9 {
        return Err(MobileError::NotMobile);
    }
    let mut out = [b'0'; 11];
    for (slot, &v) in out[1..].iter_mut().zip(national) {
        *slot = b'0' + v;
    }
    Ok(Mobile(out))
}

impl Mobile {
    /// The number as `09xxxxxxxxx`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The number in international form, `+989xxxxxxxxx`.
    pub fn international(&self) -> String {
        format!("+98{}", &self.as_str()[1..])
    }
}

impl fmt::Display for Mobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Mobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mobile({})", self.as_str())
    }
}

impl AsRef<str> for Mobile {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl FromStr for Mobile {
    type Err = MobileError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_mobile(s)
    }
}

/// A postal code: 10 ASCII digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PostalCode([u8; 10]);

/// Why a string is not a postal code. [`code`](Self::code) gives a stable key for translation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PostalCodeError {
    /// Nothing but spaces and separators.
    #[error("postal code is empty")]
    Empty,
    /// A character other than a digit, space or dash.
    #[error("postal code contains a non-digit character {0:?}")]
    NonDigit(char),
    /// Not 10 digits.
    #[error("postal code has {0} digits, expected 10")]
    WrongLength(usize),
    /// All ten digits identical (a placeholder such as 0000000000).
    #[error("postal code has all digits identical")]
    AllSameDigits,
}

impl PostalCodeError {
    /// Stable message key, e.g. `"postal_code.wrong_length"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "postal_code.empty",
            Self::NonDigit(_) => "postal_code.non_digit",
            Self::WrongLength(_) => "postal_code.wrong_length",
            Self::AllSameDigits => "postal_code.all_same_digits",
        }
    }
}

/// Parses a postal code: exactly 10 digits in any script, spaces and dashes ignored;
/// all-identical placeholders rejected.
///
/// ```
/// assert_eq!(hamdeli_text::parse_postal_code("۱۴۱۷۶-۱۳۱۵۱").unwrap().as_str(), "1417613151");
/// ```
pub fn parse_postal_code(s: &str) -> Result<PostalCode, PostalCodeError> {
    let (d, count) = collect_digits(s, 10).map_err(PostalCodeError::NonDigit)?;
    match count {
        0 => Err(PostalCodeError::Empty),
        10 if d.iter().all(|&x| x == d[0]) => Err(PostalCodeError::AllSameDigits),
        10 => {
            let mut out = [0u8; 10];
            for (slot, &v) in out.iter_mut().zip(&d) {
                *slot = b'0' + v;
            }
            Ok(PostalCode(out))
        }
        n => Err(PostalCodeError::WrongLength(n)),
    }
}

impl PostalCode {
    /// The code as 10 ASCII digits.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for PostalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for PostalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostalCode({})", self.as_str())
    }
}

impl AsRef<str> for PostalCode {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl FromStr for PostalCode {
    type Err = PostalCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_postal_code(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_shapes() {
        for s in [
            "09121234567",
            "9121234567",
            "989121234567",
            "+989121234567",
            "00989121234567",
            "+98 912 123 4567",
            "+98 (0) 912 123 4567",
            "0098-0912-123-4567",
            "۰۹۱۲۱۲۳۴۵۶۷",
            "٠٩١٢١٢٣٤٥٦٧",
            "۰۹۱۲ ۱۲۳ ۴۵ ۶۷",
            "(0912) 123-4567",
            "\u{200E}+98 912 123 4567\u{200E}",
            "0912.123.4567",
        ] {
            let m = parse_mobile(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
            assert_eq!(m.as_str(), "09121234567", "{s:?}");
        }
        let m = parse_mobile("09351234567").unwrap();
        assert_eq!(m.international(), "+989351234567");
        assert_eq!(m.to_string(), "09351234567");
    }

    #[test]
    fn mobile_errors() {
        use MobileError::*;
        assert_eq!(parse_mobile(""), Err(Empty));
        assert_eq!(parse_mobile("  "), Err(Empty));
        assert_eq!(parse_mobile("02188776655"), Err(NotMobile));
        assert_eq!(parse_mobile("2188776655"), Err(NotMobile));
        assert_eq!(parse_mobile("+982188776655"), Err(NotMobile));
        assert_eq!(parse_mobile("0912123456"), Err(NotMobile));
        assert_eq!(parse_mobile("091212345678"), Err(NotMobile));
        assert_eq!(parse_mobile("912345"), Err(WrongLength(6)));
        assert_eq!(parse_mobile("0912123456789012"), Err(WrongLength(16)));
        assert_eq!(parse_mobile("0912abc4567"), Err(InvalidCharacter('a')));
        assert_eq!(parse_mobile("0912+1234567"), Err(InvalidCharacter('+')));
        assert_eq!(parse_mobile("++989121234567"), Err(InvalidCharacter('+')));
        assert_eq!(
            parse_mobile("x").unwrap_err().code(),
            "mobile.invalid_character"
        );
    }

    #[test]
    fn postal() {
        assert_eq!(
            parse_postal_code("1417613151").unwrap().as_str(),
            "1417613151"
        );
        assert_eq!(
            parse_postal_code("۱۴۱۷۶ ۱۳۱۵۱").unwrap().as_str(),
            "1417613151"
        );
        assert_eq!(
            parse_postal_code("14176-13151").unwrap().to_string(),
            "1417613151"
        );
        assert_eq!(parse_postal_code(""), Err(PostalCodeError::Empty));
        assert_eq!(
            parse_postal_code("141761315"),
            Err(PostalCodeError::WrongLength(9))
        );
        assert_eq!(
            parse_postal_code("14176x3151"),
            Err(PostalCodeError::NonDigit('x'))
        );
        assert_eq!(
            parse_postal_code("0000000000"),
            Err(PostalCodeError::AllSameDigits)
        );
        assert_eq!(
            parse_postal_code("1").unwrap_err().code(),
            "postal_code.wrong_length"
        );
    }
}
