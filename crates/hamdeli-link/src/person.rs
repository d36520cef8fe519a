//! What lists write about a person besides the usual fields: the relation to the head of the
//! household («نسبت با سرپرست»: سرپرست، همسر، فرزند، …) and full names in one column («نام و نام
//! خانوادگی», in either order, «نام خانوادگی، نام» with a comma, honorifics in front, compound
//! first names written apart or together).

use hamdeli_text::normalize_text;

/// The relation of a listed person to the head of their household.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Relation {
    /// The head of household herself («سرپرست», «خود»).
    Head = 1,
    Spouse = 2,
    Child = 3,
    Parent = 4,
    Sibling = 5,
    Grandchild = 6,
    /// Any other relative or dependant (عروس، داماد، نوه …).
    Other = 7,
}

impl Relation {
    /// Stable code: `"head"`, `"spouse"`, `"child"`, `"parent"`, `"sibling"`, `"grandchild"`,
    /// `"other"`.
    pub fn code(self) -> &'static str {
        match self {
            Relation::Head => "head",
            Relation::Spouse => "spouse",
            Relation::Child => "child",
            Relation::Parent => "parent",
            Relation::Sibling => "sibling",
            Relation::Grandchild => "grandchild",
            Relation::Other => "other",
        }
    }

    /// The relation of a number `Relation as u8` (0 and unknown numbers: `None`).
    pub fn from_u8(v: u8) -> Option<Relation> {
        Some(match v {
            1 => Relation::Head,
            2 => Relation::Spouse,
            3 => Relation::Child,
            4 => Relation::Parent,
            5 => Relation::Sibling,
            6 => Relation::Grandchild,
            7 => Relation::Other,
            _ => return None,
        })
    }

    /// The relation a cell states, in the words lists use: «سرپرست»، «سرپرست خانوار»، «خود»،
    /// «همسر»، «زن»، «شوهر»، «فرزند»، «پسر»، «دختر»، «فرزند پسر»، «پدر»، «مادر»، «خواهر»، «برادر»،
    /// «نوه»، «عروس» … (Arabic letters, ZWNJ, digits of a child's rank such as «فرزند ۲» or «فرزند
    /// اول», and English words too). `None` for an empty or unknown cell.
    pub fn parse(raw: &str) -> Option<Relation> {
        let norm = normalize_text(raw);
        // Words only: «فرزند ۲»، «فرزند-اول»، «(همسر)».
        let words: Vec<&str> = norm
            .split(|c: char| !c.is_alphabetic() && c != '\u{200C}')
            .map(|w| w.trim_matches('\u{200C}'))
            .filter(|w| !w.is_empty())
            .collect();
        let first = *words.first()?;
        let joined: String = words.concat();
        let rel = |w: &str| -> Option<Relation> {
            Some(match w {
                "سرپرست"
                | "سرپرستخانوار"
                | "سرپرستخانواده"
                | "خود"
                | "خودش"
                | "خودسرپرست"
                | "خودفرد"
                | "متقاضی"
                | "مددجو"
                | "head"
                | "self"
                | "householder" => Relation::Head,
                "همسر"
                | "زن"
                | "شوهر"
                | "زوج"
                | "زوجه"
                | "عیال"
                | "همسرسرپرست"
                | "spouse"
                | "wife"
                | "husband" => Relation::Spouse,
                "فرزند" | "پسر" | "دختر" | "فرزندپسر" | "فرزنددختر" | "فرزندان" | "فرزندذکور"
                | "child" | "son" | "daughter" => Relation::Child,
                "پدر"
                | "مادر"
                | "والد"
                | "والدین"
                | "پدرسرپرست"
                | "مادرسرپرست"
                | "parent"
                | "father"
                | "mother" => Relation::Parent,
                "برادر" | "خواهر" | "sibling" | "brother" | "sister" => Relation::Sibling,
                "نوه" | "نوهپسری" | "نوهدختری" | "grandchild" | "grandson" | "granddaughter" => {
                    Relation::Grandchild
                }
                "عروس"
                | "داماد"
                | "پدربزرگ"
                | "مادربزرگ"
                | "پدرشوهر"
                | "مادرشوهر"
                | "پدرزن"
                | "مادرزن"
                | "سایر"
                | "سایربستگان"
                | "بستگان"
                | "عمو"
                | "عمه"
                | "خاله"
                | "دایی"
                | "other"
                | "relative" => Relation::Other,
                _ => return None,
            })
        };
        let lower = joined.to_lowercase();
        rel(&lower)
            .or_else(|| rel(&first.to_lowercase()))
            // «فرزند اول»، «فرزند سوم»، «دختر بزرگ»: the first word says it.
            .or_else(|| {
                if lower.starts_with("فرزند") {
                    Some(Relation::Child)
                } else if lower.starts_with("همسر") {
                    Some(Relation::Spouse)
                } else if lower.starts_with("سرپرست") {
                    Some(Relation::Head)
                } else {
                    None
                }
            })
    }

    /// Whether two relations to one head can be the same person's (the same relation, or one
    /// list writes «خود» where the other writes «سرپرست»).
    pub fn compatible(a: Relation, b: Relation) -> bool {
        a == b
    }
}

/// Honorifics and titles written before a name, in normalised form (longest first where one
/// is the start of another). Dropped from first names and full names; «سید/سیده» are not part
/// of the name in any list.
const HONORIFICS: &[&str] = &[
    "سیده",
    "سید",
    "حاجیه",
    "حاجی",
    "حاج",
    "خانم",
    "اقای",
    "اقا",
    "جناب",
    "سرکار",
    "مرحومه",
    "مرحوم",
    "شادروان",
    "دکتر",
    "مهندس",
    "کربلایی",
    "کربلای",
    "مشهدی",
    "بانو",
    "استاد",
];

/// Leading honorifics split off a name: the honorifics (normalised) and the rest as typed. A
/// word is an honorific only when another word follows it («سید» alone is a name).
pub fn strip_honorifics(s: &str) -> (Vec<&'static str>, &str) {
    let mut rest = s.trim();
    let mut out = Vec::new();
    loop {
        let Some(end) = rest.find(char::is_whitespace) else {
            return (out, rest);
        };
        let word = normalize_text(&rest[..end]);
        let word = word.trim_end_matches(['.', ':']);
        match HONORIFICS.iter().find(|h| **h == word) {
            Some(h) if !rest[end..].trim().is_empty() => {
                out.push(*h);
                rest = rest[end..].trim_start();
            }
            _ => return (out, rest),
        }
    }
}

/// Second words that make a compound first name with the word before them («برات علی»، «ولی
/// الله»، «فاطمه زهرا»، «ام البنین»، «محمد جواد»), normalised.
const COMPOUND_SECOND: &[&str] = &[
    "علی",
    "الله",
    "اله",
    "الدین",
    "رضا",
    "حسین",
    "حسن",
    "محمد",
    "جواد",
    "مهدی",
    "باقر",
    "صادق",
    "تقی",
    "کاظم",
    "امین",
    "هادی",
    "قلی",
    "اکبر",
    "اصغر",
    "زهرا",
    "سادات",
    "السادات",
    "بیگم",
    "خانم",
    "النساء",
    "البنین",
    "الملوک",
    "ملوک",
    "اشرف",
    "نقی",
    "مراد",
    "صالح",
    "امیر",
    "عباس",
    "یار",
];

/// First words that always begin a compound («غلام رضا»، «عبد الله»، «ابو الفضل»).
const COMPOUND_FIRST: &[&str] = &["غلام", "عبد", "ابو", "ام", "ملک", "نور", "شاه", "میر"];

/// Single words that are the second half of a surname written with a space («حسن زاده»).
const SURNAME_SUFFIXES: &[&str] = &[
    "زاده",
    "پور",
    "نژاد",
    "نیا",
    "فر",
    "زادگان",
    "وند",
    "لو",
    "کیا",
    "مند",
    "ی",
    "دوست",
    "اصل",
];

/// A full name split into its parts, each as typed (without the honorifics).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FullName {
    pub honorifics: Vec<&'static str>,
    pub first: String,
    pub last: String,
    /// The column wrote the surname first (a comma said so: «رضایی، برات علی»).
    pub last_first: bool,
}

/// Splits a full-name cell: «سیده فاطمه زهرا رضایی» → (فاطمه زهرا, رضایی); «رضایی، برات علی» →
/// (برات علی, رضایی); «برات علی رضایی» → (برات علی, رضایی); «محمد حسن زاده» → (محمد, حسن زاده);
/// honorifics off on either side of a comma. Without a comma the first name is taken to come
/// first (the way «نام و نام خانوادگی» reads); the engine also compares the whole name both
/// ways round, so a list that writes the surname first still links.
pub fn parse_full_name(raw: &str) -> FullName {
    let commas: &[char] = &['،', ',', '؛', ';', '/'];
    if let Some(at) = raw.find(commas) {
        let (before, after) = (&raw[..at], &raw[at..]);
        let after = after.trim_start_matches(commas);
        let (mut hon, last) = strip_honorifics(before);
        let (hon2, first) = strip_honorifics(after);
        hon.extend(hon2);
        if !first.trim().is_empty() && !last.trim().is_empty() {
            return FullName {
                honorifics: hon,
                first: first.trim().to_owned(),
                last: last.trim().to_owned(),
                last_first: true,
            };
        }
    }
    let (mut honorifics, rest) = strip_honorifics(raw);
    let mut words: Vec<&str> = rest.split_whitespace().collect();
    // Titles inside the name too: a list that writes the surname first keeps the title in
    // front of the first name («رحیمی خانم یلدا»، «طالبی سیده طوبی»).
    let mut norm: Vec<String> = words.iter().map(|w| normalize_text(w)).collect();
    let mut i = 1;
    while i < words.len() {
        let hon = HONORIFICS.iter().find(|h| **h == norm[i]);
        match hon {
            Some(h) if words.len() > 2 && i + 1 < words.len() => {
                honorifics.push(h);
                words.remove(i);
                norm.remove(i);
            }
            _ => i += 1,
        }
    }
    let (first_len, _) = match words.len() {
        0 => (0, 0),
        1 => (1, 0),
        2 => (1, 1),
        n => {
            let compound = COMPOUND_SECOND.contains(&norm[1].as_str())
                || COMPOUND_FIRST.contains(&norm[0].as_str());
            let rest_is_suffix = n == 3 && SURNAME_SUFFIXES.contains(&norm[2].as_str());
            if compound && !rest_is_suffix {
                (2, n - 2)
            } else {
                (1, n - 1)
            }
        }
    };
    FullName {
        honorifics,
        first: words[..first_len].join(" "),
        last: words[first_len..].join(" "),
        last_first: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hamdeli_text::name_key;

    #[test]
    fn relations_in_the_words_lists_use() {
        let cases = [
            ("سرپرست", Relation::Head),
            ("سرپرست خانوار", Relation::Head),
            ("سرپرست‌خانوار", Relation::Head),
            ("خود", Relation::Head),
            ("خودش", Relation::Head),
            ("خود سرپرست", Relation::Head),
            ("head", Relation::Head),
            ("Self", Relation::Head),
            ("همسر", Relation::Spouse),
            ("همسر سرپرست", Relation::Spouse),
            ("زن", Relation::Spouse),
            ("شوهر", Relation::Spouse),
            ("زوجه", Relation::Spouse),
            ("spouse", Relation::Spouse),
            ("فرزند", Relation::Child),
            ("فرزند ۲", Relation::Child),
            ("فرزند 3", Relation::Child),
            ("فرزند اول", Relation::Child),
            ("فرزند-دوم", Relation::Child),
            ("پسر", Relation::Child),
            ("دختر", Relation::Child),
            ("فرزند پسر", Relation::Child),
            ("فرزند دختر", Relation::Child),
            ("child", Relation::Child),
            ("Daughter", Relation::Child),
            ("پدر", Relation::Parent),
            ("مادر", Relation::Parent),
            ("مادر سرپرست", Relation::Parent),
            ("برادر", Relation::Sibling),
            ("خواهر", Relation::Sibling),
            ("نوه", Relation::Grandchild),
            ("عروس", Relation::Other),
            ("داماد", Relation::Other),
            ("سایر", Relation::Other),
            ("سایر بستگان", Relation::Other),
            // Arabic letters and stray marks.
            ("فرزند ", Relation::Child),
            ("(همسر)", Relation::Spouse),
            ("سرپرست خانواده", Relation::Head),
        ];
        for (raw, want) in cases {
            assert_eq!(Relation::parse(raw), Some(want), "{raw}");
        }
        for raw in ["", " ", "-", "۱۲", "همسایه", "نامعلوم"] {
            assert_eq!(Relation::parse(raw), None, "{raw}");
        }
        assert_eq!(Relation::parse("خوده"), None);
        for r in [Relation::Head, Relation::Child, Relation::Other] {
            assert_eq!(Relation::from_u8(r as u8), Some(r));
        }
    }

    fn split(raw: &str) -> (String, String) {
        let f = parse_full_name(raw);
        (name_key(&f.first), name_key(&f.last))
    }

    fn keys(first: &str, last: &str) -> (String, String) {
        (name_key(first), name_key(last))
    }

    #[test]
    fn full_names_in_either_order_with_honorifics_and_compounds() {
        let cases = [
            ("علی رضایی", ("علی", "رضایی")),
            ("  علي   رضايي ", ("علی", "رضایی")),
            ("برات علی رضایی", ("براتعلی", "رضایی")),
            ("براتعلی رضایی", ("براتعلی", "رضایی")),
            ("محمد جواد احمدی", ("محمدجواد", "احمدی")),
            ("محمدجواد احمدی", ("محمدجواد", "احمدی")),
            ("محمد‌جواد احمدی", ("محمدجواد", "احمدی")),
            ("فاطمه زهرا موسوی", ("فاطمهزهرا", "موسوی")),
            ("فاطمه سادات حسینی", ("فاطمهسادات", "حسینی")),
            ("ولی الله کریمی", ("ولیالله", "کریمی")),
            ("غلام رضا صالحی", ("غلامرضا", "صالحی")),
            ("ام البنین یوسفی", ("امالبنین", "یوسفی")),
            ("محمد حسن زاده", ("محمد", "حسنزاده")),
            ("علی اکبر نژاد", ("علی", "اکبرنژاد")),
            ("زهرا عبد الهی", ("زهرا", "عبدالهی")),
            ("سید علی موسوی", ("علی", "موسوی")),
            ("سيده زهرا حسيني", ("زهرا", "حسینی")),
            ("حاج سید محمد علی موسوی", ("محمدعلی", "موسوی")),
            ("حاجیه خانم فاطمه کریمی", ("فاطمه", "کریمی")),
            ("خانم مریم نوری", ("مریم", "نوری")),
            ("آقای حسن رستمی", ("حسن", "رستمی")),
            ("مرحوم قربان علی جعفری", ("قربانعلی", "جعفری")),
            ("کربلایی عباس قاسمی", ("عباس", "قاسمی")),
            ("مشهدی رحیم بیگی", ("رحیم", "بیگی")),
            ("دکتر نرگس امینی", ("نرگس", "امینی")),
            // The surname first, with a comma (any comma).
            ("رضایی، برات علی", ("براتعلی", "رضایی")),
            ("رضایی , براتعلی", ("براتعلی", "رضایی")),
            ("حسینی،سیده زهرا", ("زهرا", "حسینی")),
            ("سید موسوی، علی", ("علی", "موسوی")),
            ("عبدالله زاده، محمد جواد", ("محمدجواد", "عبداللهزاده")),
            ("کریمی؛ فاطمه", ("فاطمه", "کریمی")),
            // The surname first without a comma, a title before the first name.
            ("رحیمی خانم یلدا", ("رحیمی", "یلدا")),
            ("طالبی سیده طوبی", ("طالبی", "طوبی")),
            ("کاشانی حاجیه خانم رقیه", ("کاشانی", "رقیه")),
            // One word: a first name; nothing: nothing.
            ("مریم", ("مریم", "")),
            ("", ("", "")),
            // A lone honorific-looking word is a name.
            ("سید", ("سید", "")),
        ];
        for (raw, (first, last)) in cases {
            assert_eq!(split(raw), keys(first, last), "{raw}");
        }
        assert!(parse_full_name("رضایی، علی").last_first);
        assert!(!parse_full_name("علی رضایی").last_first);
        assert_eq!(
            parse_full_name("حاج سید محمد موسوی").honorifics,
            vec!["حاج", "سید"]
        );
    }

    #[test]
    fn honorifics_only_before_another_word() {
        assert_eq!(strip_honorifics("سید علی"), (vec!["سید"], "علی"));
        assert_eq!(strip_honorifics("سیدعلی"), (vec![], "سیدعلی"));
        assert_eq!(strip_honorifics("سید"), (vec![], "سید"));
        assert_eq!(strip_honorifics("خانم"), (vec![], "خانم"));
        assert_eq!(strip_honorifics("آقای رضا"), (vec!["اقای"], "رضا"));
        assert_eq!(strip_honorifics("حاجيه فاطمه"), (vec!["حاجیه"], "فاطمه"));
        assert_eq!(strip_honorifics("میرزا محمد"), (vec![], "میرزا محمد"));
    }
}
