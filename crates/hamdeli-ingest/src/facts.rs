//! Household and support facts a list states beside a person (issue 12): the household a row
//! belongs to and the row's relation to its head, the urban/rural zone, why a woman heads the
//! household, income or income decile, disability; on a support list the programme, the kind
//! of support (a need type), the amount and the date. Each value parser reads the words
//! offices write (Persian or English, any digit script) and says `None` for what it cannot
//! read; the caller makes that a warning, never a rejection.

use std::collections::HashMap;
use std::sync::LazyLock;

use hamdeli_text::{fold_digits, parse_date};

use crate::header::header_key;

/// The facts of one row, typed. Every field is `None` when the list does not say it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RowFacts {
    /// The household's id as the list writes it (digits folded to ASCII).
    pub household_id: Option<String>,
    /// The head's national code from a «کد ملی سرپرست» column (valid codes only).
    pub head_code: Option<String>,
    /// `head`, `spouse`, `child`, `parent` or `other`.
    pub relation: Option<&'static str>,
    pub household_size: Option<i64>,
    pub dependants: Option<i64>,
    /// `urban` or `rural`.
    pub zone: Option<&'static str>,
    /// `widowed`, `divorced`, `spouse_absent`, `spouse_incapacitated` or `never_married`.
    pub female_head_reason: Option<&'static str>,
    /// Rials a month.
    pub monthly_income: Option<i64>,
    /// 1 (poorest tenth) … 10.
    pub income_decile: Option<i64>,
    pub disability: Option<bool>,
    pub chronic_illness: Option<bool>,
    pub bereaved_by_covid: Option<bool>,
    /// The programme's name as written.
    pub programme: Option<String>,
    /// A need type code (`food`, `rent_housing`, …) or `cash` (money not tied to a need).
    pub support_kind: Option<&'static str>,
    /// Rials.
    pub amount: Option<i64>,
    /// ISO date (`YYYY-MM-DD`).
    pub support_date: Option<String>,
}

impl RowFacts {
    /// Whether the row states anything about its household (beyond its id and relation).
    pub fn has_household_facts(&self) -> bool {
        self.household_size.is_some()
            || self.dependants.is_some()
            || self.female_head_reason.is_some()
            || self.monthly_income.is_some()
            || self.income_decile.is_some()
            || self.disability.is_some()
            || self.chronic_illness.is_some()
            || self.bereaved_by_covid.is_some()
    }

    pub fn is_empty(&self) -> bool {
        *self == RowFacts::default()
    }
}

/// A word table: every spelling (matched on its header key: letter variants, ZWNJ, spaces
/// and case do not matter) to its code.
fn table(entries: &[(&'static str, &[&str])]) -> HashMap<String, &'static str> {
    let mut map = HashMap::new();
    for (code, words) in entries {
        map.insert(header_key(code), *code);
        for w in *words {
            map.insert(header_key(w), *code);
        }
    }
    map
}

fn look_up(map: &HashMap<String, &'static str>, s: &str) -> Option<&'static str> {
    let k = header_key(&fold_digits(s));
    if k.is_empty() {
        return None;
    }
    map.get(&k).copied()
}

static ZONES: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    table(&[
        ("urban", &["شهری", "شهر", "شهرى", "city", "town", "u"]),
        (
            "rural",
            &[
                "روستایی",
                "روستائی",
                "روستا",
                "عشایری",
                "عشایر",
                "village",
                "r",
            ],
        ),
    ])
});

/// `urban` or `rural` from «شهری», «روستایی», «روستا», urban, rural, …
pub fn parse_zone(s: &str) -> Option<&'static str> {
    look_up(&ZONES, s)
}

static RELATIONS: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    table(&[
        (
            "head",
            &[
                "سرپرست",
                "سرپرست خانوار",
                "خود",
                "خودش",
                "خود سرپرست",
                "خود فرد",
                "self",
            ],
        ),
        (
            "spouse",
            &[
                "همسر",
                "زن",
                "شوهر",
                "زوج",
                "زوجه",
                "همسر سرپرست",
                "wife",
                "husband",
            ],
        ),
        (
            "child",
            &[
                "فرزند",
                "پسر",
                "دختر",
                "فرزند پسر",
                "فرزند دختر",
                "son",
                "daughter",
            ],
        ),
        (
            "parent",
            &[
                "پدر",
                "مادر",
                "والدین",
                "والد",
                "پدر یا مادر",
                "father",
                "mother",
            ],
        ),
        (
            "other",
            &[
                "سایر",
                "نوه",
                "عروس",
                "داماد",
                "خواهر",
                "برادر",
                "پدربزرگ",
                "مادربزرگ",
                "سایر بستگان",
            ],
        ),
    ])
});

/// The relation to the head of household: `head` («سرپرست», «خود», self), `spouse`, `child`,
/// `parent` or `other`.
pub fn parse_relation(s: &str) -> Option<&'static str> {
    look_up(&RELATIONS, s)
}

static REASONS: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    table(&[
        (
            "widowed",
            &[
                "همسر فوت شده",
                "فوت همسر",
                "همسر متوفی",
                "بیوه",
                "فوت",
                "widow",
            ],
        ),
        (
            "divorced",
            &["مطلقه", "طلاق", "طلاق گرفته", "جدا شده", "متارکه"],
        ),
        (
            "spouse_absent",
            &[
                "همسر غایب",
                "غیبت همسر",
                "همسر زندانی",
                "زندانی",
                "همسر مفقود",
                "مفقود الاثر",
                "ترک خانواده",
                "همسر معتاد",
                "همسر مهاجر",
                "spouse absent",
            ],
        ),
        (
            "spouse_incapacitated",
            &[
                "همسر از کار افتاده",
                "ازکارافتادگی همسر",
                "همسر معلول",
                "معلولیت همسر",
                "همسر بیمار",
                "spouse disabled",
                "spouse incapacitated",
            ],
        ),
        (
            "never_married",
            &[
                "هرگز ازدواج نکرده",
                "ازدواج نکرده",
                "مجرد",
                "دختر خودسرپرست",
                "single",
                "never married",
            ],
        ),
    ])
});

/// Why a woman heads her household: `widowed`, `divorced`, `spouse_absent`,
/// `spouse_incapacitated` or `never_married`.
pub fn parse_female_head_reason(s: &str) -> Option<&'static str> {
    look_up(&REASONS, s)
}

static KINDS: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    table(&[
        (
            "food",
            &[
                "سبد غذایی",
                "بسته غذایی",
                "غذا",
                "غذایی",
                "ارزاق",
                "اقلام غذایی",
                "بسته معیشتی",
                "سبد معیشتی",
                "کمک معیشتی",
            ],
        ),
        (
            "rent_housing",
            &[
                "اجاره",
                "اجاره بها",
                "کمک اجاره",
                "ودیعه",
                "ودیعه مسکن",
                "مسکن",
                "اجاره و مسکن",
                "rent",
                "housing",
            ],
        ),
        (
            "medical",
            &[
                "درمان",
                "درمانی",
                "دارو",
                "درمان و دارو",
                "هزینه درمان",
                "پزشکی",
                "medicine",
            ],
        ),
        (
            "livelihood_equipment",
            &[
                "تجهیزات معیشتی",
                "لوازم معیشتی",
                "تجهیزات",
                "جهیزیه",
                "لوازم خانگی",
                "equipment",
            ],
        ),
        (
            "education",
            &[
                "تحصیل",
                "تحصیلی",
                "کمک تحصیلی",
                "لوازم التحریر",
                "شهریه",
                "بسته تحصیلی",
            ],
        ),
        (
            "counselling",
            &[
                "مشاوره",
                "مشاوره و حمایت روانی",
                "حمایت روانی",
                "روانشناسی",
                "counseling",
            ],
        ),
        (
            "employment",
            &[
                "اشتغال",
                "اشتغال و آموزش مهارت",
                "آموزش مهارت",
                "وام اشتغال",
                "کارآفرینی",
            ],
        ),
        (
            "debt_relief",
            &["رفع بدهی", "بدهی", "پرداخت بدهی", "آزادی زندانی", "debt"],
        ),
        (
            "hygiene",
            &[
                "بسته بهداشتی",
                "اقلام بهداشتی",
                "بهداشتی",
                "اقلام بهداشتی و محافظتی",
                "ماسک",
                "ماسک و ضدعفونی",
            ],
        ),
        (
            "cash",
            &[
                "نقدی",
                "کمک نقدی",
                "وجه نقد",
                "مستمری",
                "یارانه",
                "کمک هزینه",
                "pension",
            ],
        ),
    ])
});

/// The kind of a piece of support: a need type code of `hamdeli-domain` (`food`,
/// `rent_housing`, `medical`, `livelihood_equipment`, `education`, `counselling`,
/// `employment`, `debt_relief`, `hygiene`) from its code or Persian words, or `cash` for money
/// not tied to a need («نقدی», «مستمری»).
pub fn parse_support_kind(s: &str) -> Option<&'static str> {
    look_up(&KINDS, s)
}

/// Every kind [`parse_support_kind`] gives.
pub const SUPPORT_KINDS: [&str; 10] = [
    "food",
    "rent_housing",
    "medical",
    "livelihood_equipment",
    "education",
    "counselling",
    "employment",
    "debt_relief",
    "hygiene",
    "cash",
];

static YES_NO: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    table(&[
        (
            "yes",
            &[
                "بله", "بلی", "آری", "دارد", "هست", "true", "y", "1", "✓", "✔", "*", "x",
            ],
        ),
        (
            "no",
            &[
                "خیر",
                "نه",
                "ندارد",
                "نیست",
                "false",
                "n",
                "0",
                "-",
                "—",
                "ندارند",
            ],
        ),
    ])
});

/// A yes/no cell: «بله», «دارد», yes, 1, ✓ … or «خیر», «ندارد», no, 0, -; any other text
/// (what the disability or illness is, «جسمی-حرکتی») says yes.
pub fn parse_flag(s: &str) -> Option<bool> {
    if s.trim().is_empty() {
        return None;
    }
    match look_up(&YES_NO, s) {
        Some("no") => Some(false),
        _ => Some(true),
    }
}

/// A whole number as offices write it: any digit script, thousands separators («,», «٬»,
/// «،», spaces), a trailing `.0` from a spreadsheet number. `None` for anything else.
pub fn parse_whole(s: &str) -> Option<i64> {
    let folded = fold_digits(s);
    let mut digits = String::new();
    let mut rest = folded.trim();
    if let Some((int, frac)) = rest.rsplit_once('.')
        && !frac.is_empty()
        && frac.chars().all(|c| c == '0')
    {
        rest = int;
    }
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ',' | '٬' | '،' | ' ' | '\u{200C}' | '\u{202F}' | '\u{00A0}' | '\'' => {}
            _ => return None,
        }
    }
    if digits.is_empty() {
        return None;
    }
    digits.parse().ok()
}

/// An amount of money in rials. `tomans` when the column's header says «تومان»; a cell
/// that says «تومان» or «ریال» itself decides for itself. Negative or unreadable: `None`.
pub fn parse_amount(s: &str, tomans: bool) -> Option<i64> {
    let k = s.trim();
    let (number, tomans) = if let Some(n) = strip_unit(k, &["تومان", "toman", "tomans"]) {
        (n, true)
    } else if let Some(n) = strip_unit(k, &["ریال", "rial", "rials", "IRR"]) {
        (n, false)
    } else {
        (k, tomans)
    };
    let v = parse_whole(number)?;
    if tomans { v.checked_mul(10) } else { Some(v) }
}

fn strip_unit<'a>(s: &'a str, units: &[&str]) -> Option<&'a str> {
    units.iter().find_map(|u| {
        s.strip_suffix(u)
            .or_else(|| s.strip_suffix(&u.to_uppercase()))
            .map(str::trim)
    })
}

/// An income decile 1 … 10 («دهک ۳», «3»).
pub fn parse_decile(s: &str) -> Option<i64> {
    let folded = fold_digits(s);
    let k = folded.trim();
    let k = k.strip_prefix("دهک").unwrap_or(k).trim();
    parse_whole(k).filter(|d| (1..=10).contains(d))
}

/// A count of people (household size, dependants): 0 … 40.
pub fn parse_count(s: &str) -> Option<i64> {
    let folded = fold_digits(s);
    let k = folded.trim();
    let k = k
        .strip_suffix("نفر")
        .map(str::trim)
        .unwrap_or(k)
        .trim_end_matches(['.', ' ']);
    parse_whole(k).filter(|n| (0..=40).contains(n))
}

/// The date of a piece of support as an ISO date: Jalali or Gregorian, any digit script, an
/// Excel serial; a year alone is not a date.
pub fn parse_support_date(s: &str) -> Option<String> {
    parse_date(s).ok()?.iso().map(|d| d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_words() {
        for w in ["شهری", "شهري", "شهر", "urban", "Urban", " URBAN "] {
            assert_eq!(parse_zone(w), Some("urban"), "{w}");
        }
        for w in ["روستایی", "روستائی", "روستا", "روستايي", "rural", "عشایری"]
        {
            assert_eq!(parse_zone(w), Some("rural"), "{w}");
        }
        assert_eq!(parse_zone("منطقه ۵"), None);
        assert_eq!(parse_zone(""), None);
    }

    #[test]
    fn relation_words() {
        let cases = [
            ("سرپرست", "head"),
            ("سرپرست خانوار", "head"),
            ("خود", "head"),
            ("self", "head"),
            ("head", "head"),
            ("همسر", "spouse"),
            ("زوجه", "spouse"),
            ("spouse", "spouse"),
            ("فرزند", "child"),
            ("دختر", "child"),
            ("پسر", "child"),
            ("child", "child"),
            ("مادر", "parent"),
            ("والدین", "parent"),
            ("parent", "parent"),
            ("نوه", "other"),
            ("سایر", "other"),
            ("other", "other"),
        ];
        for (w, code) in cases {
            assert_eq!(parse_relation(w), Some(code), "{w}");
        }
        assert_eq!(parse_relation("همسايه دوم"), None);
    }

    #[test]
    fn female_head_reason_words() {
        let cases = [
            ("همسر فوت‌شده", "widowed"),
            ("فوت همسر", "widowed"),
            ("بیوه", "widowed"),
            ("widowed", "widowed"),
            ("مطلقه", "divorced"),
            ("طلاق", "divorced"),
            ("divorced", "divorced"),
            ("همسر غایب", "spouse_absent"),
            ("همسر زندانی", "spouse_absent"),
            ("spouse_absent", "spouse_absent"),
            ("همسر از کار افتاده", "spouse_incapacitated"),
            ("همسر معلول", "spouse_incapacitated"),
            ("spouse disabled", "spouse_incapacitated"),
            ("spouse_incapacitated", "spouse_incapacitated"),
            ("هرگز ازدواج نکرده", "never_married"),
            ("never_married", "never_married"),
        ];
        for (w, code) in cases {
            assert_eq!(parse_female_head_reason(w), Some(code), "{w}");
        }
        assert_eq!(parse_female_head_reason("نامشخص"), None);
    }

    #[test]
    fn support_kind_words_are_need_type_codes() {
        let cases = [
            ("سبد غذایی", "food"),
            ("بسته غذایی", "food"),
            ("food", "food"),
            ("اجاره", "rent_housing"),
            ("کمک اجاره", "rent_housing"),
            ("rent", "rent_housing"),
            ("rent_housing", "rent_housing"),
            ("درمان و دارو", "medical"),
            ("medical", "medical"),
            ("جهیزیه", "livelihood_equipment"),
            ("لوازم التحریر", "education"),
            ("مشاوره", "counselling"),
            ("اشتغال", "employment"),
            ("رفع بدهی", "debt_relief"),
            ("بسته بهداشتی", "hygiene"),
            ("hygiene", "hygiene"),
            ("نقدی", "cash"),
            ("کمک نقدی", "cash"),
            ("cash", "cash"),
            ("مستمری", "cash"),
        ];
        for (w, code) in cases {
            assert_eq!(parse_support_kind(w), Some(code), "{w}");
        }
        assert_eq!(parse_support_kind("چیز دیگر"), None);
        for code in SUPPORT_KINDS {
            assert_eq!(parse_support_kind(code), Some(code));
        }
    }

    #[test]
    fn amounts_in_rials_and_tomans() {
        assert_eq!(parse_amount("۵۰۰٬۰۰۰", false), Some(500_000));
        assert_eq!(parse_amount("5,000,000", false), Some(5_000_000));
        assert_eq!(parse_amount("١٢٠٠٠٠", false), Some(120_000));
        assert_eq!(parse_amount("1500000.0", false), Some(1_500_000));
        // The header says tomans: ×10.
        assert_eq!(parse_amount("۵۰۰٬۰۰۰", true), Some(5_000_000));
        // The cell says its unit.
        assert_eq!(parse_amount("۲۰۰ هزار", true), None);
        assert_eq!(parse_amount("300000 تومان", false), Some(3_000_000));
        assert_eq!(parse_amount("300000 ریال", true), Some(300_000));
        assert_eq!(parse_amount("-5", false), None);
        assert_eq!(parse_amount("12.5", false), None);
        assert_eq!(parse_amount("", false), None);
        assert_eq!(parse_amount("922337203685477581", true), None, "overflow");
    }

    #[test]
    fn deciles_and_counts() {
        assert_eq!(parse_decile("۳"), Some(3));
        assert_eq!(parse_decile("دهک ۲"), Some(2));
        assert_eq!(parse_decile("10"), Some(10));
        assert_eq!(parse_decile("11"), None);
        assert_eq!(parse_decile("0"), None);
        assert_eq!(parse_count("۴"), Some(4));
        assert_eq!(parse_count("5 نفر"), Some(5));
        assert_eq!(parse_count("many"), None);
    }

    #[test]
    fn flags() {
        for w in ["بله", "دارد", "yes", "1", "✓", "جسمی-حرکتی", "true"] {
            assert_eq!(parse_flag(w), Some(true), "{w}");
        }
        for w in ["خیر", "ندارد", "no", "0", "-", "false"] {
            assert_eq!(parse_flag(w), Some(false), "{w}");
        }
        assert_eq!(parse_flag("  "), None);
    }

    #[test]
    fn support_dates_in_any_digit_script() {
        assert_eq!(
            parse_support_date("۱۴۰۵/۰۸/۱۵").as_deref(),
            Some("2026-11-06")
        );
        assert_eq!(
            parse_support_date("١٤٠٥/٨/١٥").as_deref(),
            Some("2026-11-06")
        );
        assert_eq!(
            parse_support_date("1405-08-15").as_deref(),
            Some("2026-11-06")
        );
        assert_eq!(
            parse_support_date("2026-11-06").as_deref(),
            Some("2026-11-06")
        );
        assert_eq!(parse_support_date("1405"), None, "a year is not a date");
        assert_eq!(parse_support_date("دیروز"), None);
    }
}
