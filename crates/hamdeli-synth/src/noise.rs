//! The ways real lists get a person's data wrong, each a small pure function of a random draw.

use hamdeli_text::from_jalali;

use crate::JDate;
use crate::rng::Rng;

pub(crate) const ZWNJ: char = '\u{200C}';

/// Per-row probabilities of each kind of noise in one list.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Noise {
    /// Arabic yeh and kaf (ي ك) instead of Persian (ی ک) in the row's text.
    pub arabic_letters: f64,
    /// Persian digits (۰–۹) in the row's numbers.
    pub persian_digits: f64,
    /// Arabic-Indic digits (٠–٩) in the row's numbers.
    pub arabic_digits: f64,
    /// A compound name written with a space, a ZWNJ or joined differently.
    pub compound: f64,
    /// An honorific before the first name (سید، سیده، حاج، حاجیه، خانم).
    pub honorific: f64,
    /// One letter wrong in the first or last name.
    pub typo: f64,
    /// First and last names swapped.
    pub swap_names: f64,
    pub missing_code: f64,
    /// One digit wrong or two swapped (never a valid code).
    pub code_typo: f64,
    /// A code starting with 0 written as a number (leading zeros lost).
    pub lost_zeros: f64,
    /// Another date format than the list's usual one.
    pub date_format: f64,
    /// Day and month swapped.
    pub day_month_swap: f64,
    /// Birth year only.
    pub year_only: f64,
    pub missing_birth: f64,
    pub missing_father: f64,
    pub missing_phone: f64,
    /// The household's landline in the mobile column.
    pub landline: f64,
    /// A mobile number in another shape (`912…`, `+98…`, spaces).
    pub phone_format: f64,
    pub missing_address: f64,
    /// The same person listed again (another source id, fresh noise).
    pub duplicate: f64,
    /// Unusable rows (no names, garbage code) per row of the list.
    pub invalid: f64,
}

impl Noise {
    pub fn scaled(mut self, k: f64) -> Noise {
        for rate in [
            &mut self.arabic_letters,
            &mut self.persian_digits,
            &mut self.arabic_digits,
            &mut self.compound,
            &mut self.honorific,
            &mut self.typo,
            &mut self.swap_names,
            &mut self.missing_code,
            &mut self.code_typo,
            &mut self.lost_zeros,
            &mut self.date_format,
            &mut self.day_month_swap,
            &mut self.year_only,
            &mut self.missing_birth,
            &mut self.missing_father,
            &mut self.missing_phone,
            &mut self.landline,
            &mut self.phone_format,
            &mut self.missing_address,
            &mut self.duplicate,
            &mut self.invalid,
        ] {
            *rate = (*rate * k).clamp(0.0, 1.0);
        }
        self
    }
}

/// How a list writes birth dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateStyle {
    /// `1360/05/12`
    SlashPadded,
    /// `1360/5/12`
    SlashPlain,
    /// `1360-05-12`
    Dash,
    /// `13600512`
    Compact,
    /// `12/05/1360`
    DayFirst,
    /// `1981-08-03`
    Gregorian,
}

const DATE_STYLES: [DateStyle; 6] = [
    DateStyle::SlashPadded,
    DateStyle::SlashPlain,
    DateStyle::Dash,
    DateStyle::Compact,
    DateStyle::DayFirst,
    DateStyle::Gregorian,
];

/// Which digits a row's numbers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Digits {
    Ascii,
    Persian,
    ArabicIndic,
}

pub(crate) fn with_digits(s: &str, digits: Digits) -> String {
    let zero = match digits {
        Digits::Ascii => return s.to_owned(),
        Digits::Persian => 0x06F0,
        Digits::ArabicIndic => 0x0660,
    };
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(zero + (c as u32 - '0' as u32)).unwrap_or(c),
            c => c,
        })
        .collect()
}

/// Arabic yeh and kaf for the Persian ones.
pub(crate) fn arabic_letters(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ی' => 'ي',
            'ک' => 'ك',
            c => c,
        })
        .collect()
}

/// First-name parts that form compounds ("محمد رضا", "عبد الله").
const FIRST_PREFIXES: [&str; 6] = ["محمد", "امیر", "علی", "غلام", "عبد", "ابو"];
/// Surname parts written joined, with ZWNJ or with a space.
const SURNAME_SUFFIXES: [&str; 5] = ["زاده", "پور", "نژاد", "نیا", "فر"];

fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Where a name can be split into two written parts, if anywhere: (stem, rest).
fn compound_parts(name: &str, surname: bool) -> Option<(&str, &str)> {
    if let Some(i) = name.find(ZWNJ) {
        return Some((&name[..i], &name[i + ZWNJ.len_utf8()..]));
    }
    if surname {
        if let Some(rest) = name.strip_prefix("پور")
            && char_len(rest) >= 3
        {
            return Some(("پور", rest));
        }
        for suffix in SURNAME_SUFFIXES {
            if let Some(stem) = name.strip_suffix(suffix)
                && char_len(stem) >= 2
            {
                return Some((stem, &name[stem.len()..]));
            }
        }
    } else {
        for prefix in FIRST_PREFIXES {
            if let Some(rest) = name.strip_prefix(prefix)
                && char_len(rest) >= 2
            {
                return Some((prefix, rest));
            }
        }
        if let Some(stem) = name.strip_suffix("الله")
            && char_len(stem) >= 2
        {
            return Some((stem, &name[stem.len()..]));
        }
    }
    None
}

/// The name with its compound written another way (space, ZWNJ or joined), if it has one.
pub(crate) fn vary_compound(rng: &mut Rng, name: &str, surname: bool) -> String {
    let Some((a, b)) = compound_parts(name, surname) else {
        return name.to_owned();
    };
    let had_zwnj = name.contains(ZWNJ);
    let sep = match rng.below(3) {
        0 => " ",
        1 if had_zwnj => "",
        1 => "\u{200C}",
        _ => " ",
    };
    format!("{a}{sep}{b}")
}

/// A compound first name written another way: apart with a space or ZWNJ («برات علی»), or
/// joined, including the endings «علی»، «الله»، «سادات»، «بیگم»، «خانم» that
/// [`vary_compound`] leaves alone.
pub(crate) fn vary_compound_first(rng: &mut Rng, name: &str) -> String {
    let joined: String = name.chars().filter(|&c| c != ZWNJ && c != ' ').collect();
    let mut split = None;
    for ending in [
        "علی",
        "الله",
        "سادات",
        "بیگم",
        "خانم",
        "زهرا",
        "البنین",
        "قلی",
        "یار",
    ] {
        if let Some(stem) = joined.strip_suffix(ending)
            && char_len(stem) >= 2
        {
            split = Some((stem.to_owned(), ending));
            break;
        }
    }
    let Some((a, b)) = split else {
        return vary_compound(rng, name, false);
    };
    match rng.below(3) {
        0 => format!("{a} {b}"),
        1 => format!("{a}{ZWNJ}{b}"),
        _ => joined,
    }
}

/// Letters often confused in writing or hearing.
const CONFUSABLE: [&[char]; 7] = [
    &['س', 'ص', 'ث'],
    &['ز', 'ذ', 'ض', 'ظ'],
    &['ت', 'ط'],
    &['ه', 'ح'],
    &['ق', 'غ'],
    &['ا', 'آ'],
    &['ی', 'ئ'],
];

/// One letter wrong: a confusable letter, a letter dropped, doubled, or two swapped.
pub(crate) fn typo(rng: &mut Rng, name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let letters: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i].is_alphabetic())
        .collect();
    if letters.len() < 3 {
        return name.to_owned();
    }
    for _ in 0..6 {
        let mut out = chars.clone();
        let i = *rng.pick(&letters);
        match rng.below(4) {
            0 => {
                let Some(group) = CONFUSABLE.iter().find(|g| g.contains(&chars[i])) else {
                    continue;
                };
                let c = *rng.pick(group);
                out[i] = c;
            }
            1 if i > 0 => {
                out.remove(i);
            }
            2 => out.insert(i, chars[i]),
            3 if i + 1 < chars.len() && chars[i + 1].is_alphabetic() => out.swap(i, i + 1),
            _ => continue,
        }
        let s: String = out.into_iter().collect();
        if s != name {
            return s;
        }
    }
    // Fall back to dropping the last letter.
    chars[..chars.len() - 1].iter().collect()
}

fn code_is_valid(digits: &[u8]) -> bool {
    if digits.len() != 10 || digits.iter().all(|&d| d == digits[0]) {
        return false;
    }
    let mut first9 = [0u8; 9];
    first9.copy_from_slice(&digits[..9]);
    hamdeli_text::check_digit_for(&first9) == digits[9]
}

/// The code with one digit wrong or two neighbours swapped, never a valid code.
pub(crate) fn code_typo(rng: &mut Rng, code: &str) -> String {
    let digits: Vec<u8> = code.bytes().map(|b| b - b'0').collect();
    loop {
        let mut d = digits.clone();
        let i = rng.below(10);
        if rng.chance(0.7) {
            d[i] = (d[i] + 1 + rng.below(9) as u8) % 10;
        } else {
            let j = if i == 9 { 8 } else { i + 1 };
            d.swap(i, j);
        }
        if d != digits && !code_is_valid(&d) {
            return d.into_iter().map(|x| char::from(b'0' + x)).collect();
        }
    }
}

/// Garbage in a national-code cell of an unusable row.
pub(crate) fn garbage_code(rng: &mut Rng) -> String {
    (*rng.pick(&["نامشخص", "12345", "؟", "-", "ندارد", "0", "بدون کد", "98-"])).to_owned()
}

/// A date in a style, with ASCII digits.
pub(crate) fn date_text(date: JDate, style: DateStyle) -> String {
    let JDate { year, month, day } = date;
    match style {
        DateStyle::SlashPadded => format!("{year:04}/{month:02}/{day:02}"),
        DateStyle::SlashPlain => format!("{year}/{month}/{day}"),
        DateStyle::Dash => format!("{year:04}-{month:02}-{day:02}"),
        DateStyle::Compact => format!("{year:04}{month:02}{day:02}"),
        DateStyle::DayFirst => format!("{day:02}/{month:02}/{year:04}"),
        DateStyle::Gregorian => match from_jalali(year, month, day) {
            Ok((y, m, d)) => format!("{y:04}-{m:02}-{d:02}"),
            Err(_) => format!("{year:04}/{month:02}/{day:02}"),
        },
    }
}

/// A birth date as a list would write it: usually the list's style, sometimes another, with
/// day and month swapped or the year alone; empty when missing.
pub(crate) fn birth_text(rng: &mut Rng, noise: &Noise, date: JDate, usual: DateStyle) -> String {
    if rng.chance(noise.missing_birth) {
        return String::new();
    }
    if rng.chance(noise.year_only) {
        return date.year.to_string();
    }
    let mut style = usual;
    if rng.chance(noise.date_format) {
        style = *rng.pick(&DATE_STYLES);
    }
    let mut d = date;
    if d.day != d.month && rng.chance(noise.day_month_swap) {
        // Only swaps that still read as a date (day ≤ 12) are common: clerks notice the others.
        if d.day <= 12 || rng.chance(0.2) {
            (d.month, d.day) = (d.day, d.month);
            if style == DateStyle::Gregorian {
                style = DateStyle::SlashPadded;
            }
        }
    }
    date_text(d, style)
}

/// A mobile number in one of the shapes lists hold.
pub(crate) fn phone_text(rng: &mut Rng, noise: &Noise, mobile: &str) -> String {
    if !rng.chance(noise.phone_format) {
        return mobile.to_owned();
    }
    let national = &mobile[1..];
    match rng.below(5) {
        0 => national.to_owned(),
        1 => format!("+98{national}"),
        2 => format!("98{national}"),
        3 => format!("{} {} {}", &mobile[..4], &mobile[4..7], &mobile[7..]),
        _ => format!("{}-{}", &mobile[..4], &mobile[4..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compounds_vary_without_losing_letters() {
        let mut rng = Rng::new(1, "t");
        for (name, surname) in [
            ("محمدرضا", false),
            ("عبدالله", false),
            ("نصرالله", false),
            ("فاطمه\u{200C}زهرا", false),
            ("حسن\u{200C}زاده", true),
            ("علیزاده", true),
            ("پورمحمدی", true),
        ] {
            for _ in 0..10 {
                let v = vary_compound(&mut rng, name, surname);
                assert_eq!(hamdeli_text::name_key(&v), hamdeli_text::name_key(name));
            }
        }
        assert_eq!(compound_parts("امید", false), None);
        assert_eq!(compound_parts("محمود", false), None);
        assert_eq!(compound_parts("علی", false), None);
        assert_eq!(compound_parts("امیری", true), None);
    }

    #[test]
    fn code_typos_are_never_valid() {
        let mut rng = Rng::new(2, "t");
        let code = hamdeli_text::NationalCode::generate(13_542_419);
        for _ in 0..500 {
            let t = code_typo(&mut rng, code.as_str());
            assert_ne!(t, code.as_str());
            assert!(!hamdeli_text::NationalCode::is_valid(&t), "{t}");
        }
    }

    #[test]
    fn typos_change_one_thing() {
        let mut rng = Rng::new(3, "t");
        for _ in 0..200 {
            let t = typo(&mut rng, "ابراهیمی");
            assert_ne!(t, "ابراهیمی");
            let diff = t.chars().count() as i64 - 8;
            assert!(diff.abs() <= 1, "{t}");
        }
    }

    #[test]
    fn dates_in_every_style_parse_to_the_same_day() {
        let d = JDate {
            year: 1360,
            month: 5,
            day: 12,
        };
        let iso = hamdeli_text::parse_date("1360/05/12").unwrap().iso();
        for style in DATE_STYLES {
            for digits in [Digits::Ascii, Digits::Persian, Digits::ArabicIndic] {
                let s = with_digits(&date_text(d, style), digits);
                assert_eq!(hamdeli_text::parse_date(&s).unwrap().iso(), iso, "{s}");
            }
        }
        assert_eq!(date_text(d, DateStyle::Compact), "13600512");
        assert_eq!(
            with_digits(&date_text(d, DateStyle::Dash), Digits::Persian),
            "۱۳۶۰-۰۵-۱۲"
        );
    }
}
