//! Digit scripts: Persian (۰–۹, U+06F0…), Arabic-Indic (٠–٩, U+0660…) and ASCII.
//!
//! Input may use any of them, even mixed; storage is ASCII; the Persian UI shows Persian digits.

/// The value (0–9) of an ASCII, Persian or Arabic-Indic digit, `None` for anything else.
#[inline]
pub fn digit_value(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '\u{06F0}'..='\u{06F9}' => Some((c as u32 - 0x06F0) as u8),
        '\u{0660}'..='\u{0669}' => Some((c as u32 - 0x0660) as u8),
        _ => None,
    }
}

/// The ASCII digit for a Persian or Arabic-Indic digit; every other character unchanged.
#[inline]
pub fn fold_digit(c: char) -> char {
    match digit_value(c) {
        Some(v) => (b'0' + v) as char,
        None => c,
    }
}

/// Replaces Persian and Arabic-Indic digits by ASCII digits; every other character is kept.
///
/// ```
/// assert_eq!(hamdeli_text::fold_digits("۱۳۶۰/٠٥/12"), "1360/05/12");
/// ```
pub fn fold_digits(s: &str) -> String {
    if s.is_ascii() {
        return s.to_owned();
    }
    s.chars().map(fold_digit).collect()
}

/// Replaces ASCII and Arabic-Indic digits by Persian digits (for display in the Persian UI).
///
/// ```
/// assert_eq!(hamdeli_text::to_persian_digits("1360/05/12"), "۱۳۶۰/۰۵/۱۲");
/// ```
pub fn to_persian_digits(s: &str) -> String {
    s.chars()
        .map(|c| match digit_value(c) {
            Some(v) => char::from_u32(0x06F0 + u32::from(v)).unwrap_or(c),
            None => c,
        })
        .collect()
}

/// True if `c` is a digit in any of the three accepted scripts.
#[inline]
pub fn is_any_digit(c: char) -> bool {
    digit_value(c).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_all_scripts() {
        assert_eq!(fold_digits("۰۱۲۳۴۵۶۷۸۹"), "0123456789");
        assert_eq!(fold_digits("٠١٢٣٤٥٦٧٨٩"), "0123456789");
        assert_eq!(fold_digits("0123456789"), "0123456789");
        assert_eq!(fold_digits("کد ۱۲a٣"), "کد 12a3");
        assert_eq!(fold_digits(""), "");
    }

    #[test]
    fn to_persian() {
        assert_eq!(to_persian_digits("0123456789"), "۰۱۲۳۴۵۶۷۸۹");
        assert_eq!(to_persian_digits("٠١٢"), "۰۱۲");
        assert_eq!(to_persian_digits("تومان 1,250"), "تومان ۱,۲۵۰");
    }

    #[test]
    fn round_trip() {
        let s = "09121234567";
        assert_eq!(fold_digits(&to_persian_digits(s)), s);
    }

    #[test]
    fn values() {
        assert_eq!(digit_value('۷'), Some(7));
        assert_eq!(digit_value('٧'), Some(7));
        assert_eq!(digit_value('7'), Some(7));
        assert_eq!(digit_value('a'), None);
        assert!(!is_any_digit('٫'));
    }
}
