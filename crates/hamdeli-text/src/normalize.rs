//! Persian text normalisation for matching keys (DESIGN.md §4 "Persian text").
//!
//! What the user typed is stored as typed; these functions make the keys that records are matched on.

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc, is_nfkc_quick};

/// Zero-width non-joiner (نیم‌فاصله).
pub const ZWNJ: char = '\u{200C}';

/// Persian yeh (ی, U+06CC), the target of Arabic yeh and alef maksura.
const FA_YEH: char = '\u{06CC}';
/// Persian kaf (ک, U+06A9), the target of Arabic kaf.
const FA_KAF: char = '\u{06A9}';
/// Heh (ه, U+0647), the target of teh marbuta and heh with yeh above.
const HEH: char = '\u{0647}';
/// Alef (ا, U+0627), the target of the hamza- and madda-carrying alefs.
const ALEF: char = '\u{0627}';
/// Waw (و, U+0648), the target of waw with hamza above.
const WAW: char = '\u{0648}';

/// What the normaliser does with one character (after NFKC).
enum Class {
    /// Removed: diacritics, tatweel, bidi and other invisible format characters, controls.
    Drop,
    /// Any whitespace: runs collapse into one ASCII space.
    Space,
    /// Zero-width non-joiner: kept inside a word, once; dropped next to spaces and at the ends.
    Zwnj,
    /// Kept, after letter and digit folding.
    Keep(char),
}

/// Mapping of the Arabic block (U+0600–U+06FF): `'\0'` for removed characters, else the character
/// it folds to; built from [`arabic_block_class`] at compile time.
static ARABIC_BLOCK: [char; 256] = {
    let mut table = ['\0'; 256];
    let mut i = 0;
    while i < 256 {
        let c = match char::from_u32(0x0600 + i as u32) {
            Some(c) => c,
            None => '\0',
        };
        table[i] = match arabic_block_class(c) {
            Some(k) => k,
            None => '\0',
        };
        i += 1;
    }
    table
};

/// The folding of a character of the Arabic block, `None` if it is removed.
const fn arabic_block_class(c: char) -> Option<char> {
    Some(match c {
        // Arabic harakat, tanwin, shadda, sukun, combining hamza/madda and friends; superscript alef.
        '\u{064B}'..='\u{065F}' | '\u{0670}' => return None,
        // Quranic annotation marks.
        '\u{06D6}'..='\u{06DC}' | '\u{06DF}'..='\u{06E4}' | '\u{06E7}'..='\u{06E8}' => return None,
        '\u{06EA}'..='\u{06ED}' => return None,
        // Tatweel (kashida); Arabic letter mark; Arabic format characters (number sign etc.).
        '\u{0640}' | '\u{061C}' | '\u{0600}'..='\u{0605}' | '\u{06DD}' => return None,
        // Arabic yeh, alef maksura, yeh with hamza above → Persian yeh.
        '\u{064A}' | '\u{0649}' | '\u{0626}' => FA_YEH,
        // Arabic kaf, swash kaf → Persian kaf.
        '\u{0643}' | '\u{06AA}' => FA_KAF,
        // Teh marbuta, heh with yeh above (ۀ), heh goal (+ hamza), ae → heh.
        '\u{0629}' | '\u{06C0}' | '\u{06C1}' | '\u{06C2}' | '\u{06D5}' => HEH,
        // Alef with hamza above / below, alef with madda, alef wasla, wavy hamza alefs → alef.
        '\u{0623}' | '\u{0625}' | '\u{0622}' | '\u{0671}' | '\u{0672}' | '\u{0673}' => ALEF,
        // Waw with hamza above → waw.
        '\u{0624}' => WAW,
        // Arabic-Indic and Persian digits → ASCII.
        '\u{0660}'..='\u{0669}' => (b'0' + (c as u32 - 0x0660) as u8) as char,
        '\u{06F0}'..='\u{06F9}' => (b'0' + (c as u32 - 0x06F0) as u8) as char,
        c => c,
    })
}

#[inline]
fn classify(c: char) -> Class {
    let u = c as u32;
    if u < 0x80 {
        return if c.is_ascii_whitespace() || u == 0x0B {
            Class::Space
        } else if c.is_ascii_control() {
            Class::Drop
        } else {
            Class::Keep(c.to_ascii_lowercase())
        };
    }
    if (0x0600..0x0700).contains(&u) {
        return match ARABIC_BLOCK[(u - 0x0600) as usize] {
            '\0' => Class::Drop,
            k => Class::Keep(k),
        };
    }
    classify_slow(c)
}

/// Characters outside ASCII and the Arabic block.
fn classify_slow(c: char) -> Class {
    match c {
        // Bidi marks, embeddings, overrides and isolates.
        '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => Class::Drop,
        // Zero-width space, zero-width joiner, word joiner, BOM / ZWNBSP, soft hyphen.
        '\u{200B}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' => Class::Drop,
        ZWNJ => Class::Zwnj,
        c if c.is_whitespace() => Class::Space,
        c if c.is_control() => Class::Drop,
        c => Class::Keep(c),
    }
}

/// Characters that are NFKC-stable, caseless (or ASCII) and compose with nothing that is also in
/// this set: the common alphabet of Persian data. A string made only of these needs no NFKC, and
/// neither does what [`normalize_text`] makes of it (marks in the set are removed anyway, so their
/// canonical order does not matter).
#[inline]
pub(crate) const fn is_simple(c: char) -> bool {
    c.is_ascii()
        || matches!(
            c,
            '\u{0621}'..='\u{063A}'
                | '\u{0640}'..='\u{0652}'
                | '\u{0660}'..='\u{0669}'
                | '\u{06F0}'..='\u{06F9}'
                | '\u{067E}'
                | '\u{0686}'
                | '\u{0698}'
                | '\u{06A9}'
                | '\u{06AF}'
                | '\u{06C0}'
                | '\u{06CC}'
                | '\u{200C}'
                | '\u{200E}'
                | '\u{200F}'
        )
}

/// Output of one pass: whitespace collapsing and ZWNJ handling around the kept characters.
struct Builder<'a> {
    out: &'a mut String,
    pending_space: bool,
    pending_zwnj: bool,
}

impl<'a> Builder<'a> {
    fn new(out: &'a mut String, capacity: usize) -> Self {
        out.clear();
        out.reserve(capacity);
        Builder {
            out,
            pending_space: false,
            pending_zwnj: false,
        }
    }

    #[inline(always)]
    fn push(&mut self, c: char) {
        match classify(c) {
            Class::Drop => {}
            Class::Space => {
                self.pending_space = true;
                self.pending_zwnj = false;
            }
            Class::Zwnj => {
                if !self.pending_space {
                    self.pending_zwnj = true;
                }
            }
            Class::Keep(k) => {
                if !self.out.is_empty() {
                    if self.pending_space {
                        self.out.push(' ');
                    } else if self.pending_zwnj {
                        self.out.push(ZWNJ);
                    }
                }
                self.pending_space = false;
                self.pending_zwnj = false;
                if is_simple(k) {
                    self.out.push(k);
                } else {
                    self.out.extend(k.to_lowercase());
                }
            }
        }
    }
}

/// Which characters of the Arabic block are [simple](is_simple).
static ARABIC_BLOCK_SIMPLE: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = matches!(
            0x0600 + i as u32,
            0x0621..=0x063A
                | 0x0640..=0x0652
                | 0x0660..=0x0669
                | 0x06F0..=0x06F9
                | 0x067E
                | 0x0686
                | 0x0698
                | 0x06A9
                | 0x06AF
                | 0x06C0
                | 0x06CC
        );
        i += 1;
    }
    table
};

/// The pass for input made only of [simple](is_simple) characters, on bytes (no NFKC needed; the
/// same result as [`pass`]); `false`, with `out` unspecified, as soon as another character is met.
/// With `name_key`, whitespace, ZWNJ and hyphens are removed instead of collapsed (see [`name_key`]).
fn pass_simple(s: &str, out: &mut String, name_key: bool) -> bool {
    let b = s.as_bytes();
    let mut buf = String::with_capacity(b.len());
    let mut pending_space = false;
    let mut pending_zwnj = false;
    let separate = |buf: &mut String, pending_space: &mut bool, pending_zwnj: &mut bool| {
        if !buf.is_empty() {
            if *pending_space {
                buf.push(' ');
            } else if *pending_zwnj {
                buf.push(ZWNJ);
            }
        }
        *pending_space = false;
        *pending_zwnj = false;
    };
    let mut i = 0;
    // `s` is valid UTF-8, so the continuation bytes indexed below exist.
    while i < b.len() {
        let x = b[i];
        if x < 0x80 {
            i += 1;
            if name_key && (x.is_ascii_whitespace() || x == 0x0B || x == b'-') {
                // Removed.
            } else if x.is_ascii_whitespace() || x == 0x0B {
                pending_space = true;
                pending_zwnj = false;
            } else if !x.is_ascii_control() {
                separate(&mut buf, &mut pending_space, &mut pending_zwnj);
                buf.push(char::from(x.to_ascii_lowercase()));
            }
        } else if x & 0xFC == 0xD8 {
            // U+0600–U+06FF.
            let idx = (usize::from(x & 0x03) << 6) | usize::from(b[i + 1] & 0x3F);
            i += 2;
            if !ARABIC_BLOCK_SIMPLE[idx] {
                return false;
            }
            let k = ARABIC_BLOCK[idx];
            if k != '\0' {
                separate(&mut buf, &mut pending_space, &mut pending_zwnj);
                buf.push(k);
            }
        } else if x == 0xE2 && b[i + 1] == 0x80 && matches!(b[i + 2], 0x8C | 0x8E | 0x8F) {
            // ZWNJ (kept as a pending joiner), LRM, RLM (removed).
            if b[i + 2] == 0x8C && !pending_space && !name_key {
                pending_zwnj = true;
            }
            i += 3;
        } else {
            return false;
        }
    }
    *out = buf;
    true
}

/// One pass: NFKC, then the character classes above, whitespace collapsing and lowercasing.
fn pass(s: &str, out: &mut String) {
    let mut b = Builder::new(out, s.len());
    if is_nfkc_quick(s.chars()) == IsNormalized::Yes {
        for c in s.chars() {
            b.push(c);
        }
    } else {
        for c in s.nfkc() {
            b.push(c);
        }
    }
}

/// [`normalize_text`], and whether the result is all [simple](is_simple) characters.
fn normalize_inner(s: &str) -> (String, bool) {
    let mut out = String::new();
    if pass_simple(s, &mut out, false) {
        // Simple in, simple (and so NFKC-stable) out.
        return (out, true);
    }
    pass(s, &mut out);
    // Removing characters can bring together characters that NFKC composes (e.g. a base letter and
    // a combining mark that a removed mark had blocked); run again until stable, which is at once
    // for practically every real input.
    let mut rounds = 0;
    while rounds < 8 && !is_nfkc(&out) {
        let prev = std::mem::take(&mut out);
        pass(&prev, &mut out);
        rounds += 1;
    }
    let simple = out.chars().all(is_simple);
    (out, simple)
}

/// The normalised form of a text, for matching keys (not for display or storage).
///
/// NFKC (folds Arabic presentation forms); Arabic yeh / alef maksura → ی; Arabic kaf → ک; teh marbuta
/// and ۀ → ه; hamza- and madda-carrying letters → their base letter (أ إ آ ٱ → ا, ؤ → و, ئ → ی);
/// diacritics (U+064B–U+065F, U+0670), tatweel, bidi marks and other invisible characters removed;
/// Persian and Arabic-Indic digits → ASCII; whitespace runs → one space, trimmed; ZWNJ kept once
/// inside a word and dropped next to a space; lowercase. Idempotent.
///
/// ```
/// use hamdeli_text::normalize_text;
/// assert_eq!(normalize_text("  علي   أكبر "), "علی اکبر");
/// assert_eq!(normalize_text("ﻣﺤﻤﺪ"), "محمد"); // presentation forms
/// ```
pub fn normalize_text(s: &str) -> String {
    normalize_inner(s).0
}

/// True for the hyphen-like characters that [`name_key`] removes (after NFKC).
#[inline]
fn is_hyphen(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}' | '\u{2212}'
    )
}

/// The matching key of a name: [`normalize_text`], then ZWNJ, spaces and hyphens removed, so that
/// "عبدالله", "عبد الله" and "عبد‌الله" get one key.
///
/// ```
/// use hamdeli_text::name_key;
/// assert_eq!(name_key("عبد الله"), name_key("عبد\u{200C}الله"));
/// assert_eq!(name_key("عبد الله"), name_key("عبدالله"));
/// ```
pub fn name_key(s: &str) -> String {
    name_key_inner(s).0
}

/// [`name_key`], and whether the result is all [simple](is_simple) characters.
pub(crate) fn name_key_inner(s: &str) -> (String, bool) {
    let mut fast = String::new();
    if pass_simple(s, &mut fast, true) {
        return (fast, true);
    }
    let strip = |s: &str| {
        let (mut k, simple) = normalize_inner(s);
        k.retain(|c| c != ' ' && c != ZWNJ && !is_hyphen(c));
        (k, simple)
    };
    let (mut k, mut simple) = strip(s);
    // Removing a space can let NFKC compose across it (a letter and a mark that followed the space);
    // normalise again until stable so the key is idempotent.
    let mut rounds = 0;
    while !simple && rounds < 8 && !is_nfkc(&k) {
        (k, simple) = strip(&k);
        rounds += 1;
    }
    (k, simple)
}

/// Honorifics that are split off a name, in normalised form.
const HONORIFICS: [&str; 5] = ["سید", "سیده", "حاج", "حاجیه", "میر"];

/// Byte spans of the whitespace-separated tokens of `s` whose normalised form is not empty,
/// each with that normalised form.
fn tokens(s: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let flush = |from: usize, to: usize, out: &mut Vec<(usize, usize, String)>| {
        let key = normalize_text(&s[from..to]);
        if !key.is_empty() {
            out.push((from, to, key));
        }
    };
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if let Some(from) = start.take() {
                flush(from, i, &mut out);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(from) = start {
        flush(from, s.len(), &mut out);
    }
    out
}

/// Trims whitespace and the invisible characters that [`normalize_text`] drops from both ends.
fn trim_name(s: &str) -> &str {
    s.trim_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '\u{200B}'..='\u{200F}'
                    | '\u{202A}'..='\u{202E}'
                    | '\u{2060}'
                    | '\u{2066}'..='\u{2069}'
                    | '\u{061C}'
                    | '\u{FEFF}'
            )
    })
}

/// Splits leading honorifics (سید، سیده، حاج، حاجیه، میر, in any spelling that normalises to one of
/// them) off a name. An honorific is split only when it is a separate leading word followed by at
/// least one more word: "میرزا", "سیدی" or "میرحسین" are names and stay whole. Several leading
/// honorifics ("حاج سید …") are all split.
///
/// Returns the honorific(s) in normalised form, joined by a space, and the rest of the name as
/// typed (trimmed).
///
/// ```
/// use hamdeli_text::split_honorific;
/// assert_eq!(split_honorific("سید علی موسوی"), (Some("سید".into()), "علی موسوی".into()));
/// assert_eq!(split_honorific("میرزا محمد"), (None, "میرزا محمد".into()));
/// ```
pub fn split_honorific(s: &str) -> (Option<String>, String) {
    let toks = tokens(s);
    let mut honorifics: Vec<&str> = Vec::new();
    let mut rest_from = None;
    for (i, (from, _, key)) in toks.iter().enumerate() {
        let is_last = i + 1 == toks.len();
        match HONORIFICS.iter().find(|h| **h == key.as_str()) {
            Some(h) if !is_last => honorifics.push(h),
            _ => {
                rest_from = Some(*from);
                break;
            }
        }
    }
    match (honorifics.is_empty(), rest_from) {
        (false, Some(from)) => (Some(honorifics.join(" ")), trim_name(&s[from..]).to_owned()),
        _ => (None, trim_name(s).to_owned()),
    }
}

/// First words that form a compound first name with the next word when written with a space,
/// with the second words they combine with (`None`: with any word).
const COMPOUND_FIRST: &[(&str, Option<&[&str]>)] = &[
    (
        "محمد",
        Some(&[
            "علی",
            "رضا",
            "حسین",
            "حسن",
            "مهدی",
            "جواد",
            "باقر",
            "صادق",
            "تقی",
            "کاظم",
            "امین",
            "هادی",
            "اسماعیل",
            "ابراهیم",
            "رحیم",
            "کریم",
            "سعید",
            "جعفر",
            "هاشم",
            "یوسف",
            "طاها",
            "پارسا",
            "امیر",
            "صالح",
            "ناصر",
            "قاسم",
            "حامد",
            "مسعود",
            "عرفان",
            "اسماعیل",
            "نبی",
        ]),
    ),
    (
        "علی",
        Some(&[
            "اکبر", "اصغر", "رضا", "محمد", "حسین", "قلی", "مراد", "اشرف", "نقی", "حسن",
        ]),
    ),
    (
        "امیر",
        Some(&[
            "حسین",
            "علی",
            "محمد",
            "رضا",
            "حسام",
            "عباس",
            "مهدی",
            "هوشنگ",
        ]),
    ),
    ("حسین", Some(&["علی", "قلی"])),
    ("غلام", None),
    ("عبد", None),
    ("ابو", None),
    ("ام", None),
    ("فاطمه", Some(&["زهرا"])),
];

/// Second words that make a compound (mostly female) first name after any first word.
const COMPOUND_SECOND_ANY: [&str; 4] = ["سادات", "السادات", "بیگم", "خانم"];

/// Single words that are the second half of a surname written with a space ("حسن زاده").
const SURNAME_SUFFIXES: [&str; 9] = [
    "زاده",
    "پور",
    "نژاد",
    "نیا",
    "فر",
    "زادگان",
    "وند",
    "لو",
    "کیا",
];

fn is_compound(first: &str, second: &str) -> bool {
    if COMPOUND_SECOND_ANY.contains(&second) {
        return true;
    }
    COMPOUND_FIRST.iter().any(|(f, seconds)| {
        *f == first
            && match seconds {
                None => true,
                Some(list) => list.contains(&second),
            }
    })
}

/// Splits a Persian full name into (first name, last name), both as typed.
///
/// Heuristic: the first word is the first name and the rest the last name, except that a common
/// compound first name written with a space ("محمد علی", "علی اکبر", "فاطمه زهرا", "عبد الله",
/// "… سادات") stays together when at least one more word follows that is not just a surname suffix
/// ("محمد حسن زاده" is محمد + حسن زاده). A single word is a first name with an empty last name.
/// Honorifics are not removed: use [`split_person_name`] for that.
///
/// ```
/// use hamdeli_text::split_full_name;
/// assert_eq!(split_full_name("علی رضایی"), ("علی".into(), "رضایی".into()));
/// assert_eq!(split_full_name("محمد علی رضایی"), ("محمد علی".into(), "رضایی".into()));
/// assert_eq!(split_full_name("محمد حسن زاده"), ("محمد".into(), "حسن زاده".into()));
/// ```
pub fn split_full_name(s: &str) -> (String, String) {
    let toks = tokens(s);
    match toks.len() {
        0 => (String::new(), String::new()),
        1 => (
            trim_name(&s[toks[0].0..toks[0].1]).to_owned(),
            String::new(),
        ),
        n => {
            let mut first_end = 0;
            if n >= 3 && is_compound(&toks[0].2, &toks[1].2) {
                let rest_is_suffix = n == 3 && SURNAME_SUFFIXES.contains(&toks[2].2.as_str());
                if !rest_is_suffix {
                    first_end = 1;
                }
            }
            let first = trim_name(&s[toks[0].0..toks[first_end].1]).to_owned();
            let last = trim_name(&s[toks[first_end + 1].0..]).to_owned();
            (first, last)
        }
    }
}

/// A person's name split into its parts, each as typed (the honorific normalised).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameParts {
    /// Leading honorific(s), normalised ("سید", "حاج سید"), if any.
    pub honorific: Option<String>,
    /// First name.
    pub first: String,
    /// Last name (may be empty).
    pub last: String,
}

/// [`split_honorific`] then [`split_full_name`] on the rest.
///
/// ```
/// use hamdeli_text::split_person_name;
/// let p = split_person_name("حاج سید محمد علی موسوی");
/// assert_eq!(p.honorific.as_deref(), Some("حاج سید"));
/// assert_eq!((p.first.as_str(), p.last.as_str()), ("محمد علی", "موسوی"));
/// ```
pub fn split_person_name(s: &str) -> NameParts {
    let (honorific, rest) = split_honorific(s);
    let (first, last) = split_full_name(&rest);
    NameParts {
        honorific,
        first,
        last,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_letters_fold_to_persian() {
        assert_eq!(normalize_text("علي"), "علی");
        assert_eq!(normalize_text("موسى"), "موسی");
        assert_eq!(normalize_text("كريم"), "کریم");
        assert_eq!(normalize_text("فاطمة"), "فاطمه");
        assert_eq!(normalize_text("خانۀ"), "خانه");
    }

    #[test]
    fn hamza_forms_fold() {
        assert_eq!(normalize_text("أحمد"), "احمد");
        assert_eq!(normalize_text("إبراهيم"), "ابراهیم");
        assert_eq!(normalize_text("آرش"), "ارش");
        assert_eq!(normalize_text("ٱلله"), "الله");
        assert_eq!(normalize_text("مؤمن"), "مومن");
        assert_eq!(normalize_text("مسئول"), "مسیول");
        // Decomposed alef + combining hamza above composes under NFKC, then folds.
        assert_eq!(normalize_text("\u{0627}\u{0654}حمد"), "احمد");
    }

    #[test]
    fn diacritics_tatweel_bidi_removed() {
        assert_eq!(normalize_text("مُحَمَّد"), "محمد");
        assert_eq!(normalize_text("محـــمد"), "محمد");
        assert_eq!(normalize_text("\u{200F}علی\u{200E}"), "علی");
        assert_eq!(
            normalize_text("\u{202B}علی\u{202C} \u{2067}رضا\u{2069}"),
            "علی رضا"
        );
        assert_eq!(normalize_text("رحمٰن"), "رحمن");
        assert_eq!(normalize_text("\u{FEFF}name"), "name");
    }

    #[test]
    fn presentation_forms_fold() {
        // "محمد" in Arabic presentation forms B, as found in real exports.
        assert_eq!(normalize_text("\u{FEE3}\u{FEA4}\u{FEE4}\u{FEAA}"), "محمد");
        // lam-alef ligature
        assert_eq!(normalize_text("\u{FEFB}"), "لا");
        // Arabic yeh final form
        assert_eq!(normalize_text("عل\u{FEF2}"), "علی");
    }

    #[test]
    fn digits_whitespace_case() {
        assert_eq!(normalize_text("  کوچه  ۱۲\t\n پلاک ٣ "), "کوچه 12 پلاک 3");
        assert_eq!(normalize_text("Ali  REZAEI"), "ali rezaei");
        assert_eq!(normalize_text("\u{00A0}a\u{2003}b\u{202F}"), "a b");
        assert_eq!(normalize_text(""), "");
        assert_eq!(normalize_text(" \u{200E} "), "");
    }

    #[test]
    fn zwnj_handling() {
        assert_eq!(normalize_text("علی\u{200C}اکبر"), "علی\u{200C}اکبر");
        assert_eq!(normalize_text("علی\u{200C}\u{200C}اکبر"), "علی\u{200C}اکبر");
        assert_eq!(normalize_text("علی\u{200C} اکبر"), "علی اکبر");
        assert_eq!(normalize_text("علی \u{200C}اکبر"), "علی اکبر");
        assert_eq!(normalize_text("\u{200C}علی\u{200C}"), "علی");
    }

    #[test]
    fn idempotent_on_tricky_input() {
        for s in [
            "a\u{0653}\u{0301}",
            "\u{0627}\u{0640}\u{0653}",
            "\u{0627}\u{200E}\u{0654}",
            "ﷺ ﷲ",
            "İstanbul",
        ] {
            let once = normalize_text(s);
            assert_eq!(normalize_text(&once), once, "{s:?}");
        }
    }

    fn slow(s: &str) -> String {
        let mut out = String::new();
        pass(s, &mut out);
        out
    }

    fn slow_key(s: &str) -> String {
        let mut k = slow(s);
        k.retain(|c| c != ' ' && c != ZWNJ && !is_hyphen(c));
        k
    }

    #[test]
    fn fast_path_matches_slow_path() {
        for s in [
            "  علي   أكبر ",
            "مُحَمَّد\u{200C}\u{200C}رضا\u{200F} ۱۲٣ ABC\t\u{200E}",
            "\u{200C} x\u{200C}",
            "ۀ ة ك ى ـ",
        ] {
            let mut fast = String::new();
            assert!(pass_simple(s, &mut fast, false), "{s:?}");
            assert_eq!(fast, slow(s), "{s:?}");
            assert!(pass_simple(s, &mut fast, true), "{s:?}");
            assert_eq!(fast, slow_key(s), "{s:?}");
        }
        let mut out = String::new();
        assert!(!pass_simple("\u{FEE3}", &mut out, false));
        assert!(!pass_simple("a\u{0653}", &mut out, true));
    }

    proptest::proptest! {
        #[test]
        fn fast_path_agrees(s in "[\u{0600}-\u{06FF}\u{200C}-\u{200F} a-zA-Z0-9\t\n\u{0001}-]{0,30}") {
            let mut fast = String::new();
            if pass_simple(&s, &mut fast, false) {
                proptest::prop_assert_eq!(&fast, &slow(&s));
            }
            if pass_simple(&s, &mut fast, true) {
                proptest::prop_assert_eq!(fast, slow_key(&s));
            }
        }
    }

    #[test]
    fn name_key_equalities() {
        let k = name_key("عبدالله");
        assert_eq!(name_key("عبد الله"), k);
        assert_eq!(name_key("عبد\u{200C}الله"), k);
        assert_eq!(name_key("عبد-الله"), k);
        assert_eq!(name_key("عبدُاللّه"), k);
        assert_eq!(name_key("عبد‌الله "), k);
        assert_eq!(name_key("علی اکبر"), name_key("علي‌أكبر"));
        assert_ne!(name_key("مریم"), name_key("مرضیه"));
    }

    #[test]
    fn honorifics_split() {
        assert_eq!(
            split_honorific("سید علی موسوی"),
            (Some("سید".into()), "علی موسوی".into())
        );
        assert_eq!(
            split_honorific("سيدة فاطمه"),
            (Some("سیده".into()), "فاطمه".into())
        );
        assert_eq!(
            split_honorific("  حاجیه  خانم احمدی"),
            (Some("حاجیه".into()), "خانم احمدی".into())
        );
        assert_eq!(
            split_honorific("حاج سید حسن"),
            (Some("حاج سید".into()), "حسن".into())
        );
        assert_eq!(
            split_honorific("میر حسین"),
            (Some("میر".into()), "حسین".into())
        );
        assert_eq!(
            split_honorific("سیّد مهدی"),
            (Some("سید".into()), "مهدی".into())
        );
    }

    #[test]
    fn honorifics_not_split() {
        assert_eq!(split_honorific("میرزا محمد"), (None, "میرزا محمد".into()));
        assert_eq!(
            split_honorific("میرحسین موسوی"),
            (None, "میرحسین موسوی".into())
        );
        assert_eq!(split_honorific("سیدی"), (None, "سیدی".into()));
        assert_eq!(split_honorific("سیدی رضایی"), (None, "سیدی رضایی".into()));
        assert_eq!(split_honorific("سید"), (None, "سید".into()));
        assert_eq!(split_honorific("علی سید"), (None, "علی سید".into()));
        assert_eq!(split_honorific(""), (None, "".into()));
        assert_eq!(
            split_honorific("سید\u{200C}علی"),
            (None, "سید\u{200C}علی".into())
        );
    }

    #[test]
    fn full_name_split() {
        assert_eq!(split_full_name("علی رضایی"), ("علی".into(), "رضایی".into()));
        assert_eq!(
            split_full_name("زهرا  سادات  حسینی "),
            ("زهرا  سادات".into(), "حسینی".into())
        );
        assert_eq!(
            split_full_name("محمد علی رضایی"),
            ("محمد علی".into(), "رضایی".into())
        );
        assert_eq!(
            split_full_name("علی اکبر هاشمی رفسنجانی"),
            ("علی اکبر".into(), "هاشمی رفسنجانی".into())
        );
        assert_eq!(
            split_full_name("علی‌اکبر هاشمی رفسنجانی"),
            ("علی‌اکبر".into(), "هاشمی رفسنجانی".into())
        );
        assert_eq!(
            split_full_name("عبد الله نوری"),
            ("عبد الله".into(), "نوری".into())
        );
        assert_eq!(split_full_name("محمد علی"), ("محمد".into(), "علی".into()));
        assert_eq!(
            split_full_name("محمد حسن زاده"),
            ("محمد".into(), "حسن زاده".into())
        );
        assert_eq!(
            split_full_name("محمد علی حسن زاده"),
            ("محمد علی".into(), "حسن زاده".into())
        );
        assert_eq!(
            split_full_name("مريم احمدی نژاد"),
            ("مريم".into(), "احمدی نژاد".into())
        );
        assert_eq!(split_full_name("مریم"), ("مریم".into(), "".into()));
        assert_eq!(split_full_name("  "), ("".into(), "".into()));
    }

    #[test]
    fn person_name() {
        let p = split_person_name("سیده فاطمه زهرا حسینی");
        assert_eq!(
            p,
            NameParts {
                honorific: Some("سیده".into()),
                first: "فاطمه زهرا".into(),
                last: "حسینی".into()
            }
        );
    }
}
