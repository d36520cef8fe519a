//! Sheba (شبا), Iran's IBAN: `IR` and 24 digits, valid when the ISO 13616 mod-97 check gives 1.

/// Why a Sheba number was refused (a catalog message id each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShebaError {
    #[error("market-sheba-format")]
    Format,
    #[error("market-sheba-check")]
    Check,
}

impl ShebaError {
    pub fn code(self) -> &'static str {
        match self {
            ShebaError::Format => "market-sheba-format",
            ShebaError::Check => "market-sheba-check",
        }
    }
}

/// Parses a Sheba number as typed: spaces and dashes ignored, any digit script, `IR` in any
/// case (or left out). Returns the canonical `IR` + 24 ASCII digits.
pub fn parse(input: &str) -> Result<String, ShebaError> {
    let mut digits = String::with_capacity(24);
    let mut letters = String::new();
    for c in input.trim().chars() {
        match c {
            ' ' | '-' | '\u{200C}' => {}
            '0'..='9' => digits.push(c),
            '\u{06F0}'..='\u{06F9}' | '\u{0660}'..='\u{0669}' => {
                let base = if c >= '\u{06F0}' { 0x06F0 } else { 0x0660 };
                digits.push(char::from(b'0' + (c as u32 - base) as u8));
            }
            'I' | 'R' | 'i' | 'r' if digits.is_empty() => letters.push(c.to_ascii_uppercase()),
            _ => return Err(ShebaError::Format),
        }
    }
    if !(letters.is_empty() || letters == "IR") || digits.len() != 24 {
        return Err(ShebaError::Format);
    }
    let canonical = format!("IR{digits}");
    if !mod97_ok(&canonical) {
        return Err(ShebaError::Check);
    }
    Ok(canonical)
}

/// ISO 13616: move the first four characters to the end, letters to numbers (A = 10 … Z = 35),
/// and the number mod 97 must be 1.
fn mod97_ok(iban: &str) -> bool {
    let (head, tail) = iban.split_at(4);
    let mut rem: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let v = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// The check digits (positions 3–4) that make `IR??` + `bban` (22 digits) valid: for tests and
/// demo data.
pub fn with_check_digits(bban: &str) -> Option<String> {
    if bban.len() != 22 || !bban.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    (0..100u32)
        .map(|k| format!("IR{k:02}{bban}"))
        .find(|s| mod97_ok(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_valid_sheba() {
        // A published example Sheba (Bank Melli's sample).
        assert_eq!(
            parse("IR06 2960 0000 0010 0324 2000 01"),
            Ok("IR062960000000100324200001".into())
        );
        assert_eq!(
            parse("ir۰۶۲۹۶۰۰۰۰۰۰۰۱۰۰۳۲۴۲۰۰۰۰۱"),
            Ok("IR062960000000100324200001".into())
        );
        assert_eq!(
            parse("062960000000100324200001"),
            Ok("IR062960000000100324200001".into())
        );
    }

    #[test]
    fn a_changed_digit_or_length_is_refused() {
        assert_eq!(parse("IR062960000000100324200002"), Err(ShebaError::Check));
        assert_eq!(parse("IR06296000000010032420000"), Err(ShebaError::Format));
        assert_eq!(parse("DE062960000000100324200001"), Err(ShebaError::Format));
        assert_eq!(parse("IR06x960000000100324200001"), Err(ShebaError::Format));
        assert_eq!(parse(""), Err(ShebaError::Format));
    }

    #[test]
    fn check_digits_can_be_made() {
        let s = with_check_digits("0170000000123456789012").unwrap();
        assert_eq!(parse(&s), Ok(s.clone()));
    }
}
