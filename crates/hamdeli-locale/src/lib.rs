//! The user's language at the edges: Fluent catalogs for every string, and the Persian
//! (Jalali) calendar and digits through ICU4X. Persian is the default; English is the second.

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use icu_calendar::Date;
use icu_calendar::cal::Persian;
use icu_decimal::DecimalFormatter;
use icu_decimal::input::Decimal;
use icu_locale_core::locale;

pub mod clock;

pub use clock::{CivilDate, civil_from_unix_millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    #[default]
    Fa,
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::Fa, Locale::En];

    pub fn parse(tag: &str) -> Option<Locale> {
        match tag.trim().to_ascii_lowercase().get(..2) {
            Some("fa") => Some(Locale::Fa),
            Some("en") => Some(Locale::En),
            _ => None,
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Locale::Fa => "fa",
            Locale::En => "en",
        }
    }

    /// Text direction for the `dir` attribute.
    pub fn dir(self) -> &'static str {
        match self {
            Locale::Fa => "rtl",
            Locale::En => "ltr",
        }
    }

    pub fn other(self) -> Locale {
        match self {
            Locale::Fa => Locale::En,
            Locale::En => Locale::Fa,
        }
    }

    /// Picks the first supported language of an `Accept-Language` header.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        header
            .split(',')
            .filter_map(|part| Locale::parse(part.split(';').next()?))
            .next()
    }
}

struct Catalogs {
    fa: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

/// Each catalog is the shared file plus one file per capability (`locales/<lang>/<capability>.ftl`),
/// so that capabilities add their messages without touching one another's.
const FA_FTL: &[&str] = &[
    include_str!("../locales/fa.ftl"),
    include_str!("../locales/fa/market.ftl"),
    include_str!("../locales/fa/loans.ftl"),
    include_str!("../locales/fa/network.ftl"),
    include_str!("../locales/fa/reports.ftl"),
    include_str!("../locales/fa/scale.ftl"),
];
const EN_FTL: &[&str] = &[
    include_str!("../locales/en.ftl"),
    include_str!("../locales/en/market.ftl"),
    include_str!("../locales/en/loans.ftl"),
    include_str!("../locales/en/network.ftl"),
    include_str!("../locales/en/reports.ftl"),
    include_str!("../locales/en/scale.ftl"),
];

fn bundle(locale: Locale, sources: &[&str]) -> FluentBundle<FluentResource> {
    let lang = match locale {
        Locale::Fa => unic_langid::langid!("fa"),
        Locale::En => unic_langid::langid!("en"),
    };
    let mut bundle = FluentBundle::new_concurrent(vec![lang]);
    // Pages wrap values in <bdi> themselves; isolation marks would leak into attributes and CSV.
    bundle.set_use_isolating(false);
    for source in sources {
        let resource =
            FluentResource::try_new((*source).to_owned()).unwrap_or_else(|(_, errors)| {
                panic!("{} catalog does not parse: {errors:?}", locale.tag())
            });
        bundle
            .add_resource(resource)
            .unwrap_or_else(|errors| panic!("{} catalog has duplicates: {errors:?}", locale.tag()));
    }
    bundle
}

static CATALOGS: LazyLock<Catalogs> = LazyLock::new(|| Catalogs {
    fa: bundle(Locale::Fa, FA_FTL),
    en: bundle(Locale::En, EN_FTL),
});

fn catalog(locale: Locale) -> &'static FluentBundle<FluentResource> {
    match locale {
        Locale::Fa => &CATALOGS.fa,
        Locale::En => &CATALOGS.en,
    }
}

/// The message `id` in `locale`; a missing id shows itself so it is noticed, never panics.
pub fn t(locale: Locale, id: &str) -> String {
    t_args(locale, id, &[])
}

/// The message `id` with named arguments. Numbers given as strings of ASCII digits are shown
/// with the locale's digits.
pub fn t_args(locale: Locale, id: &str, args: &[(&str, String)]) -> String {
    let bundle = catalog(locale);
    let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
        return id.to_owned();
    };
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        fluent_args.set(*name, FluentValue::from(localize_digits(locale, value)));
    }
    let mut errors = vec![];
    bundle
        .format_pattern(pattern, Some(&fluent_args), &mut errors)
        .into_owned()
}

/// Whether both catalogs define `id` (used by tests and by the page layer's self-check).
pub fn has_message(locale: Locale, id: &str) -> bool {
    catalog(locale).has_message(id)
}

/// Every message id defined in a catalog source, in order.
pub fn message_ids(locale: Locale) -> Vec<String> {
    let source = match locale {
        Locale::Fa => FA_FTL,
        Locale::En => EN_FTL,
    };
    source
        .iter()
        .flat_map(|s| s.lines())
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
        .filter_map(|l| l.split_once('=').map(|(id, _)| id.trim().to_owned()))
        .collect()
}

static FA_DECIMAL: LazyLock<DecimalFormatter> = LazyLock::new(|| {
    DecimalFormatter::try_new(locale!("fa").into(), Default::default())
        .expect("compiled data has Persian")
});
static EN_DECIMAL: LazyLock<DecimalFormatter> = LazyLock::new(|| {
    DecimalFormatter::try_new(locale!("en").into(), Default::default())
        .expect("compiled data has English")
});

/// The Jalali year and month of an instant in Iran (`1405-09`): the period the support ledger
/// and the reports group by.
pub fn jalali_year_month(unix_millis: i64) -> String {
    match jalali(clock::iran_today(unix_millis)) {
        Some((y, m, _)) => format!("{y}-{m:02}"),
        None => String::new(),
    }
}

/// A whole number with the locale's digits and grouping: `۱۲٬۳۴۵` or `12,345`.
pub fn format_int(locale: Locale, n: i64) -> String {
    let formatter = match locale {
        Locale::Fa => &*FA_DECIMAL,
        Locale::En => &*EN_DECIMAL,
    };
    formatter.format_to_string(&Decimal::from(n))
}

/// Rials shown as tomans (÷10), grouped, in the locale's digits.
pub fn format_tomans(locale: Locale, rials: i64) -> String {
    format_int(locale, rials / 10)
}

/// ASCII digits turned into Persian ones in Persian; unchanged in English.
pub fn localize_digits(locale: Locale, s: &str) -> String {
    match locale {
        Locale::En => s.to_owned(),
        Locale::Fa => s
            .chars()
            .map(|c| match c {
                '0'..='9' => char::from_u32(0x06F0 + (c as u32 - '0' as u32)).unwrap_or(c),
                _ => c,
            })
            .collect(),
    }
}

/// A Jalali date as (year, month, day) for a Gregorian civil date.
pub fn jalali(date: CivilDate) -> Option<(i32, u8, u8)> {
    let iso = Date::try_new_iso(date.year, date.month, date.day).ok()?;
    let persian = iso.to_calendar(Persian::new());
    Some((
        persian.year().extended_year(),
        persian.month().ordinal,
        persian.day_of_month().0,
    ))
}

/// The Gregorian date of a Jalali one, if it exists.
pub fn from_jalali(year: i32, month: u8, day: u8) -> Option<CivilDate> {
    let persian = Date::try_new_persian(year, month, day).ok()?;
    let iso = persian.to_calendar(icu_calendar::Iso);
    Some(CivilDate {
        year: iso.year().extended_year(),
        month: iso.month().ordinal,
        day: iso.day_of_month().0,
    })
}

/// A date typed into a form: Jalali (`1405/9/1`, `۱۴۰۵-۰۹-۰۱`) or Gregorian ISO (`2026-11-22`),
/// in any digit script. Years below 1700 are read as Jalali.
pub fn parse_form_date(input: &str) -> Option<CivilDate> {
    let ascii: String = input
        .trim()
        .chars()
        .map(|c| match c {
            '\u{06F0}'..='\u{06F9}' => char::from_u32(c as u32 - 0x06F0 + 0x30).unwrap_or(c),
            '\u{0660}'..='\u{0669}' => char::from_u32(c as u32 - 0x0660 + 0x30).unwrap_or(c),
            _ => c,
        })
        .collect();
    let parts: Vec<&str> = ascii.split(['/', '-', '.']).collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let (y, m, d): (i32, u8, u8) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if y < 1700 {
        from_jalali(y, m, d)
    } else {
        Date::try_new_iso(y, m, d).ok()?;
        Some(CivilDate {
            year: y,
            month: m,
            day: d,
        })
    }
}

/// A date as people read it: `۱ آذر ۱۴۰۵` in Persian (Jalali), `22 November 2026` in English.
pub fn format_date(locale: Locale, date: CivilDate) -> String {
    match locale {
        Locale::Fa => match jalali(date) {
            Some((y, m, d)) => localize_digits(
                locale,
                &format!("{d} {} {y}", t(locale, &format!("month-jalali-{m}"))),
            ),
            None => localize_digits(locale, &date.iso()),
        },
        Locale::En => {
            format!(
                "{} {} {}",
                date.day,
                t(locale, &format!("month-gregorian-{}", date.month)),
                date.year
            )
        }
    }
}

/// A short numeric date: `۱۴۰۵/۰۹/۰۱` in Persian, `2026-11-22` in English.
pub fn format_date_short(locale: Locale, date: CivilDate) -> String {
    match (locale, jalali(date)) {
        (Locale::Fa, Some((y, m, d))) => localize_digits(locale, &format!("{y:04}/{m:02}/{d:02}")),
        _ => localize_digits(locale, &date.iso()),
    }
}

/// An instant (Unix milliseconds, UTC) in Iran's local time, date and minutes.
pub fn format_instant(locale: Locale, unix_millis: i64) -> String {
    let local = clock::iran_local(unix_millis);
    let date = format_date_short(locale, local.date);
    localize_digits(
        locale,
        &format!("{date} {:02}:{:02}", local.hour, local.minute),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogs_define_the_same_messages() {
        let fa = message_ids(Locale::Fa);
        let en = message_ids(Locale::En);
        assert!(fa.len() > 50, "catalog looks truncated: {}", fa.len());
        for id in &fa {
            assert!(has_message(Locale::En, id), "en lacks {id}");
        }
        for id in &en {
            assert!(has_message(Locale::Fa, id), "fa lacks {id}");
        }
    }

    #[test]
    fn persian_digits_and_grouping() {
        assert_eq!(format_int(Locale::Fa, 1234567), "۱٬۲۳۴٬۵۶۷");
        assert_eq!(format_int(Locale::En, 1234567), "1,234,567");
        assert_eq!(format_tomans(Locale::En, 10_000_005), "1,000,000");
        assert_eq!(localize_digits(Locale::Fa, "1405/09/01"), "۱۴۰۵/۰۹/۰۱");
    }

    #[test]
    fn jalali_dates() {
        let nowruz_1399 = CivilDate {
            year: 2020,
            month: 3,
            day: 20,
        };
        assert_eq!(jalali(nowruz_1399), Some((1399, 1, 1)));
        let today = CivilDate {
            year: 2026,
            month: 11,
            day: 22,
        };
        assert_eq!(jalali(today), Some((1405, 9, 1)));
        assert_eq!(format_date(Locale::Fa, today), "۱ آذر ۱۴۰۵");
        assert_eq!(format_date(Locale::En, today), "22 November 2026");
        assert_eq!(format_date_short(Locale::Fa, today), "۱۴۰۵/۰۹/۰۱");
    }

    #[test]
    fn form_dates_in_either_calendar() {
        let today = CivilDate {
            year: 2026,
            month: 11,
            day: 22,
        };
        assert_eq!(parse_form_date("1405/9/1"), Some(today));
        assert_eq!(parse_form_date("۱۴۰۵-۰۹-۰۱"), Some(today));
        assert_eq!(parse_form_date("2026-11-22"), Some(today));
        assert_eq!(parse_form_date("1405/13/1"), None);
        assert_eq!(parse_form_date("2026-02-30"), None);
        assert_eq!(parse_form_date("yesterday"), None);
        assert_eq!(parse_form_date(""), None);
    }

    #[test]
    fn instants_show_in_iran_time() {
        // 2026-11-22T21:00:00Z is 00:30 on the 23rd in Tehran.
        let millis = 1_795_381_200_000;
        assert_eq!(format_instant(Locale::En, millis), "2026-11-23 00:30");
        assert_eq!(format_instant(Locale::Fa, millis), "۱۴۰۵/۰۹/۰۲ ۰۰:۳۰");
    }

    #[test]
    fn messages_take_arguments_and_missing_ids_show_themselves() {
        assert_eq!(t(Locale::Fa, "no-such-message"), "no-such-message");
        let s = t_args(Locale::Fa, "login-locked", &[("minutes", "15".into())]);
        assert!(s.contains("۱۵"), "{s}");
    }

    #[test]
    fn accept_language() {
        assert_eq!(
            Locale::from_accept_language("en-US,en;q=0.9"),
            Some(Locale::En)
        );
        assert_eq!(
            Locale::from_accept_language("de, fa;q=0.5"),
            Some(Locale::Fa)
        );
        assert_eq!(Locale::from_accept_language("de"), None);
    }
}
