//! Property tests: no input makes anything panic; normalisation invariants; national code round trips.
#![allow(clippy::unwrap_used)] // a test or benchmark program: a failed step should stop it loudly

use hamdeli_text::*;
use proptest::prelude::*;

/// Strings biased towards what real Persian data contains: Arabic-script letters and marks,
/// presentation forms, digits of three scripts, ZWNJ, bidi marks, separators.
fn persianish() -> impl Strategy<Value = String> {
    let chars = prop_oneof![
        4 => proptest::char::range('\u{0600}', '\u{06FF}'),
        1 => proptest::char::range('\u{FB50}', '\u{FDFF}'),
        1 => proptest::char::range('\u{FE70}', '\u{FEFF}'),
        2 => proptest::char::range('0', '9'),
        1 => prop::sample::select(vec![
            ' ', '\u{200C}', '\u{200D}', '\u{200E}', '\u{200F}', '\u{202B}', '\u{202C}',
            '\u{2067}', '\u{2069}', '\u{00A0}', '/', '-', '.', '+', ':', 'T', '\t', '\u{0654}',
            '\u{0653}', '\u{0301}', '\u{0640}', 'a', 'Z', 'İ',
        ]),
    ];
    proptest::collection::vec(chars, 0..40).prop_map(|v| v.into_iter().collect())
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), persianish(), "[0-9۰-۹٠-٩/ .+-]{0,20}"]
}

fn exercise_everything(s: &str) {
    let _ = fold_digits(s);
    let _ = to_persian_digits(s);
    let _ = normalize_text(s);
    let _ = name_key(s);
    let _ = split_honorific(s);
    let _ = split_full_name(s);
    let _ = split_person_name(s);
    let _ = phonetic_key(s);
    let _ = NationalCode::parse(s);
    let _ = NationalCode::parse_strict(s);
    let _ = NationalCode::is_valid(s);
    let _ = parse_mobile(s);
    let _ = parse_postal_code(s);
    if let Ok(d) = parse_date(s) {
        let _ = (
            d.iso(),
            d.jalali(),
            d.jalali_year(),
            d.gregorian_year(),
            d.calendar(),
        );
    }
    let _ = s.parse::<IsoDate>();
}

/// A Persian word of letters only (no spaces, ZWNJ or hyphens).
fn word() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop::sample::select(
            "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیيكةأإآؤئ"
                .chars()
                .collect::<Vec<_>>(),
        ),
        1..8,
    )
    .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn nothing_panics(s in any_text()) {
        exercise_everything(&s);
    }

    #[test]
    fn nothing_panics_on_date_shapes(
        a in 0u32..100_000, b in 0u32..100, c in 0u32..100,
        sep in prop::sample::select(vec!["/", "-", ".", " ", "", "٫"]),
    ) {
        exercise_everything(&format!("{a}{sep}{b}{sep}{c}"));
        exercise_everything(&to_persian_digits(&format!("{a}{sep}{b}{sep}{c}")));
        exercise_everything(&format!("{a}"));
    }

    #[test]
    fn excel_serial_never_panics(x in any::<f64>()) {
        let _ = from_excel_serial(x);
    }

    #[test]
    fn conversions_never_panic(y in any::<i32>(), m in any::<u8>(), d in any::<u8>()) {
        let _ = to_jalali(y, m, d);
        let _ = from_jalali(y, m, d);
        let _ = is_jalali_leap_year(y);
        let _ = jalali_month_days(y, m);
    }

    #[test]
    fn jalali_round_trip(y in 1200i32..1500, m in 1u8..=12, d in 1u8..=31) {
        if let Ok((gy, gm, gd)) = from_jalali(y, m, d) {
            prop_assert_eq!(to_jalali(gy, gm, gd), Ok((y, m, d)));
            let text = to_persian_digits(&format!("{y}/{m}/{d}"));
            let parsed = parse_date(&text).unwrap();
            prop_assert_eq!(parsed.iso().unwrap().to_string(), format!("{gy:04}-{gm:02}-{gd:02}"));
        }
    }

    #[test]
    fn normalize_is_idempotent(s in any_text()) {
        let once = normalize_text(&s);
        prop_assert_eq!(normalize_text(&once), once.clone());
        let key = name_key(&s);
        prop_assert_eq!(name_key(&key), key);
        let p = phonetic_key(&s);
        prop_assert_eq!(phonetic_key(&p), p);
    }

    #[test]
    fn name_key_ignores_zwnj_space_hyphen(words in proptest::collection::vec(word(), 1..4)) {
        let joined = words.concat();
        let k = name_key(&joined);
        prop_assert_eq!(name_key(&words.join(" ")), k.clone());
        prop_assert_eq!(name_key(&words.join("\u{200C}")), k.clone());
        prop_assert_eq!(name_key(&words.join("-")), k.clone());
        prop_assert_eq!(name_key(&format!(" {} ", words.join("  "))), k.clone());
        prop_assert_eq!(phonetic_key(&words.join(" ")), phonetic_key(&joined));
    }

    #[test]
    fn generated_codes_parse(n in any::<u64>()) {
        let code = NationalCode::generate(n);
        let s = code.as_str().to_owned();
        let p = NationalCode::parse(&s).unwrap();
        prop_assert_eq!(p.code, code);
        prop_assert_eq!(p.repair, None);
        // Persian and Arabic-Indic renderings parse to the same code, and fold back.
        let fa = to_persian_digits(&s);
        prop_assert_eq!(fold_digits(&fa), s.clone());
        prop_assert_eq!(NationalCode::parse(&fa).unwrap().code, code);
        let dashed = format!("{}-{}-{}", &fa[..6], &fa[6..18], &fa[18..]);
        prop_assert_eq!(NationalCode::parse(&dashed).unwrap().code, code);
        // Leading zeros dropped (as by a spreadsheet) are repaired.
        let trimmed = s.trim_start_matches('0');
        if (8..10).contains(&trimmed.len()) {
            let p = NationalCode::parse(trimmed).unwrap();
            prop_assert_eq!(p.code, code);
            let padded = matches!(p.repair, Some(Repair::Padded { .. }));
            prop_assert!(padded);
        }
    }

    #[test]
    fn mobiles_round_trip(rest in 0u64..1_000_000_000, prefix in prop::sample::select(vec!["0", "", "98", "+98", "0098", "+98 0"])) {
        let national = format!("9{rest:09}");
        let m = parse_mobile(&format!("{prefix}{national}")).unwrap();
        prop_assert_eq!(m.as_str(), format!("0{national}"));
        let fa = to_persian_digits(&format!("{prefix}{national}"));
        prop_assert_eq!(parse_mobile(&fa).unwrap(), m);
    }
}
