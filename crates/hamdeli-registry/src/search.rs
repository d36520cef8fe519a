//! What a person typed into the registry search box, read as a national code, a mobile number
//! and/or a name — in any digit script, with Arabic or Persian letters.
//!
//! Digits (with the separators people type inside numbers) make one number: a mobile number
//! when it reads as one, else a national code (digits that are neither still search as a code,
//! finding nothing rather than a random name). The other words are a name: honorifics dropped,
//! each word as its name key and phonetic key. The store matches one word as a first or a last
//! name, and several words as "first last", "last first" and as one compound name, so «برات
//! علی», «براتعلی» and «برات‌علی» all find the same people.

use hamdeli_link::{LinkOptions, RawRecord, RecordSet, link};
use hamdeli_store::Store;
use hamdeli_store::persons::{self, NameWord, Phonetic, SearchQuery, SourceRecordView};
use hamdeli_text::{
    NationalCode, fold_digits, name_key, parse_mobile, phonetic_key, split_person_name,
};

fn is_number_part(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '-' | '/' | '+' | '(' | ')')
}

/// The search the text asks for (page 1, no filters); None when it is empty.
pub fn parse_query(text: &str) -> Option<SearchQuery> {
    let folded = fold_digits(text.trim());
    let mut digits = String::new();
    let mut number_text = String::new();
    let mut name_text = String::new();
    for token in folded.split_whitespace() {
        if token.chars().any(|c| c.is_ascii_digit()) && token.chars().all(is_number_part) {
            digits.extend(token.chars().filter(char::is_ascii_digit));
            number_text.push_str(token);
            number_text.push(' ');
        } else {
            name_text.push_str(token);
            name_text.push(' ');
        }
    }
    let mut query = SearchQuery {
        page: 1,
        ..SearchQuery::default()
    };
    if !digits.is_empty() {
        if let Ok(m) = parse_mobile(number_text.trim()) {
            query.phone = Some(m.as_str().to_owned());
        } else if let Ok(p) = NationalCode::parse(&digits) {
            query.national_code = Some(p.code.to_string());
        } else {
            query.national_code = Some(digits);
        }
    }
    let parts = split_person_name(name_text.trim());
    query.words = parts
        .first
        .split_whitespace()
        .chain(parts.last.split_whitespace())
        .map(|w| NameWord {
            key: name_key(w),
            phonetic: phonetic_key(w),
        })
        .filter(|w| !w.key.is_empty())
        .collect();
    if !query.words.is_empty() {
        query.phonetic = Some(Phonetic(phonetic_key));
    }
    (!query.is_empty()).then_some(query)
}

/// Records of the registry the comparison of two picked persons estimates its weights from.
const EVIDENCE_SAMPLE: i64 = 2_000;

/// The linkage comparison of two persons a user picked to merge, in the review queue's
/// evidence format (`[field, level, strength, centibits]` per field): the most probable pair of
/// one record of each, compared by `hamdeli-link` with weights estimated from their records and
/// a sample of the registry. None when linkage would not compare any of their records (nothing
/// in common to block on).
pub async fn merge_evidence(
    store: &Store,
    a: &[SourceRecordView],
    b: &[SourceRecordView],
) -> anyhow::Result<Option<String>> {
    let sample = persons::sample_link_rows(store, EVIDENCE_SAMPLE).await?;
    fn raw(r: &SourceRecordView) -> RawRecord<'_> {
        RawRecord {
            national_code: r.national_code.as_deref(),
            first_name: r.first_name.as_deref(),
            last_name: r.last_name.as_deref(),
            full_name: None,
            father_name: r.father_name.as_deref(),
            birth_date: r.birth_date.as_deref(),
            gender: r.gender.as_deref(),
            phone: r.phone.as_deref(),
            province: r.province_code.as_deref(),
            county: r.county_code.as_deref(),
        }
    }
    let mut set = RecordSet::new();
    for r in a {
        set.push_raw(0, &raw(r));
    }
    for r in b {
        set.push_raw(1, &raw(r));
    }
    let picked: std::collections::HashSet<i64> = a.iter().chain(b).map(|r| r.id).collect();
    for r in sample.iter().filter(|r| !picked.contains(&r.id)) {
        set.push_raw(
            2,
            &RawRecord {
                national_code: r.national_code.as_deref(),
                first_name: r.first_name.as_deref(),
                last_name: r.last_name.as_deref(),
                full_name: None,
                father_name: r.father_name.as_deref(),
                birth_date: r.birth_date.as_deref(),
                gender: r.gender.as_deref(),
                phone: r.phone.as_deref(),
                province: r.province_code.as_deref(),
                county: r.county_code.as_deref(),
            },
        );
    }
    let (na, nb) = (a.len() as u32, b.len() as u32);
    let options = LinkOptions {
        keep_pairs_above: 0.0,
        u_samples: 200_000,
        ..LinkOptions::default()
    };
    let result = tokio::task::spawn_blocking(move || {
        let result = link(&set, &options, &|_, _, _| {});
        (set, result)
    })
    .await?;
    let (set, result) = result;
    let across = |p: &&hamdeli_link::ScoredPair| p.a < na && p.b >= na && p.b < na + nb;
    let best = result
        .pairs
        .iter()
        .filter(across)
        .max_by(|x, y| x.weight.total_cmp(&y.weight));
    Ok(best.map(|pair| {
        let items: Vec<serde_json::Value> = result
            .model
            .explain(&set, pair)
            .into_iter()
            .map(|w| {
                serde_json::json!([
                    w.field.code(),
                    w.code,
                    w.strength.code(),
                    (w.bits * 100.0).round() as i64
                ])
            })
            .collect();
        serde_json::Value::Array(items).to_string()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(q: &SearchQuery) -> Vec<String> {
        q.words.iter().map(|w| w.key.clone()).collect()
    }

    #[test]
    fn a_national_code_in_any_digit_script() {
        let code = NationalCode::generate(12345).to_string();
        let persian = hamdeli_text::to_persian_digits(&code);
        let q = parse_query(&persian).unwrap();
        assert_eq!(q.national_code.as_deref(), Some(code.as_str()));
        assert!(q.words.is_empty() && q.phone.is_none());
        assert_eq!(q.kind(), "national_code");
        let arabic: String = code
            .chars()
            .map(|c| char::from_u32(0x0660 + c.to_digit(10).unwrap()).unwrap())
            .collect();
        assert_eq!(
            parse_query(&arabic).unwrap().national_code.as_deref(),
            Some(code.as_str())
        );
        // A code that lost its leading zeros in Excel.
        let short = code.trim_start_matches('0');
        if short.len() >= 8 {
            assert_eq!(
                parse_query(short).unwrap().national_code.as_deref(),
                Some(code.as_str())
            );
        }
    }

    #[test]
    fn digits_that_are_no_code_still_search_as_one() {
        let q = parse_query("12345").unwrap();
        assert_eq!(q.national_code.as_deref(), Some("12345"));
        assert!(q.words.is_empty());
    }

    #[test]
    fn a_mobile_number_with_or_without_the_country_code() {
        for text in ["۰۹۱۲ ۱۲۳ ۴۵۶۷", "+989121234567", "0912-123-4567"] {
            let q = parse_query(text).unwrap();
            assert_eq!(q.phone.as_deref(), Some("09121234567"), "{text}");
            assert!(q.national_code.is_none() && q.words.is_empty());
            assert_eq!(q.kind(), "phone");
        }
    }

    #[test]
    fn one_word_is_one_name_key() {
        let q = parse_query("  کریمی ").unwrap();
        assert_eq!(keys(&q), vec![name_key("کریمی")]);
        assert_eq!(q.words[0].phonetic, phonetic_key("کریمی"));
        assert!(q.phonetic.is_some());
        assert_eq!(q.kind(), "name");
        assert_eq!(q.page, 1);
        assert!(q.filters.is_empty());
    }

    #[test]
    fn names_fold_arabic_letters_and_keep_the_typed_order() {
        let q = parse_query("علي كريمي").unwrap();
        assert_eq!(keys(&q), vec![name_key("علی"), name_key("کریمی")]);
        let q = parse_query("کریمی علی").unwrap();
        assert_eq!(keys(&q), vec![name_key("کریمی"), name_key("علی")]);
    }

    #[test]
    fn honorifics_are_dropped_and_compound_names_keep_their_words() {
        let q = parse_query("حاج سید محمد علی موسوی").unwrap();
        assert_eq!(
            keys(&q),
            vec![name_key("محمد"), name_key("علی"), name_key("موسوی")]
        );
        // Written apart, together or with a ZWNJ: the store joins the words' keys.
        let apart = parse_query("برات علی").unwrap();
        let together = parse_query("براتعلی").unwrap();
        let zwnj = parse_query("برات\u{200C}علی").unwrap();
        assert_eq!(
            keys(&apart).concat(),
            keys(&together).concat(),
            "one key joined"
        );
        assert_eq!(keys(&together), keys(&zwnj));
        assert_eq!(apart.words[1].phonetic, phonetic_key("علی"));
    }

    #[test]
    fn a_code_and_a_name_together() {
        let code = NationalCode::generate(777).to_string();
        let q = parse_query(&format!("{code} زهرا احمدی")).unwrap();
        assert_eq!(q.national_code.as_deref(), Some(code.as_str()));
        assert_eq!(keys(&q), vec![name_key("زهرا"), name_key("احمدی")]);
        assert_eq!(q.kind(), "mixed");
    }

    #[test]
    fn nothing_to_search() {
        assert!(parse_query("   ").is_none());
        assert!(parse_query("").is_none());
    }
}
