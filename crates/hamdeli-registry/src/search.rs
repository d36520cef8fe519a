//! What a person typed into the registry search box, read as a national code, a mobile number or
//! a name — in any digit script, with Arabic or Persian letters.

use hamdeli_store::persons::SearchKey;
use hamdeli_text::{NationalCode, fold_digits, name_key, parse_mobile, split_person_name};

/// The search the text asks for; None when it is empty or too vague to run.
pub fn parse_query(text: &str) -> Option<SearchKey> {
    let folded = fold_digits(text.trim());
    let compact: String = folded
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '/' | '+' | '(' | ')'))
        .collect();
    if compact.is_empty() {
        return None;
    }
    if compact.chars().all(|c| c.is_ascii_digit()) {
        if let Ok(m) = parse_mobile(&folded) {
            return Some(SearchKey::Phone(m.as_str().to_owned()));
        }
        if let Ok(p) = NationalCode::parse(&compact) {
            return Some(SearchKey::NationalCode(p.code.to_string()));
        }
        // Digits that are neither: still a national code search (it will find nothing
        // rather than a random name).
        return Some(SearchKey::NationalCode(compact));
    }
    let parts = split_person_name(&folded);
    let (first, last) = (name_key(&parts.first), name_key(&parts.last));
    match (first.is_empty(), last.is_empty()) {
        (true, true) => None,
        // One word: a last name.
        (false, true) => Some(SearchKey::Name {
            last_key: first,
            first_key: None,
        }),
        (true, false) => Some(SearchKey::Name {
            last_key: last,
            first_key: None,
        }),
        (false, false) => Some(SearchKey::Name {
            last_key: last,
            first_key: Some(first),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_national_code_in_any_digit_script() {
        let code = NationalCode::generate(12345).to_string();
        let persian = hamdeli_text::to_persian_digits(&code);
        assert_eq!(
            parse_query(&persian),
            Some(SearchKey::NationalCode(code.clone()))
        );
        let arabic: String = code
            .chars()
            .map(|c| char::from_u32(0x0660 + c.to_digit(10).unwrap()).unwrap())
            .collect();
        assert_eq!(parse_query(&arabic), Some(SearchKey::NationalCode(code)));
    }

    #[test]
    fn a_mobile_number_with_or_without_the_country_code() {
        let want = Some(SearchKey::Phone("09121234567".into()));
        assert_eq!(parse_query("۰۹۱۲ ۱۲۳ ۴۵۶۷"), want);
        assert_eq!(parse_query("+989121234567"), want);
    }

    #[test]
    fn names_fold_arabic_letters_and_split_first_from_last() {
        assert_eq!(
            parse_query("علي كريمي"),
            Some(SearchKey::Name {
                last_key: name_key("کریمی"),
                first_key: Some(name_key("علی")),
            })
        );
        assert_eq!(
            parse_query("  کریمی "),
            Some(SearchKey::Name {
                last_key: name_key("کریمی"),
                first_key: None
            })
        );
        assert_eq!(parse_query("   "), None);
    }
}
