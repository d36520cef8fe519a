//! A small synthetic population for tests: households (father, mother, children, some twins)
//! in three organisations' lists with Persian-specific noise, and the truth.

use hamdeli_text::NationalCode;

use crate::{RawRecord, RecordSet};

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 1_000_000.0 < p
    }
    /// Roughly Zipf: earlier entries are much more common.
    pub fn zipf<'a>(&mut self, list: &[&'a str]) -> &'a str {
        let a = self.below(list.len());
        let b = self.below(list.len());
        list[a.min(b) * a.min(b) / list.len().max(1)]
    }
}

pub const MALE: &[&str] = &[
    "محمد",
    "علی",
    "حسین",
    "رضا",
    "مهدی",
    "امیر",
    "حسن",
    "عباس",
    "جواد",
    "مجید",
    "سعید",
    "احمد",
    "ابوالفضل",
    "امیرحسین",
    "محمدرضا",
    "یوسف",
    "کیان",
    "آرمین",
    "پرهام",
    "سبحان",
    "عرفان",
    "داود",
    "اسماعیل",
    "مصطفی",
    "کاظم",
    "قاسم",
    "هادی",
    "ناصر",
    "بهروز",
    "فرهاد",
];
pub const FEMALE: &[&str] = &[
    "فاطمه",
    "زهرا",
    "مریم",
    "زینب",
    "سارا",
    "نرگس",
    "معصومه",
    "لیلا",
    "مینا",
    "الهام",
    "سمیه",
    "طاهره",
    "ریحانه",
    "کوثر",
    "هستی",
    "آیدا",
    "نازنین",
    "مهسا",
    "حدیث",
    "اسما",
    "یگانه",
    "شیما",
    "پریسا",
    "منیژه",
    "صدیقه",
    "رقیه",
    "سکینه",
    "کبری",
    "ثریا",
    "نسرین",
];
pub const SURNAMES: &[&str] = &[
    "احمدی",
    "محمدی",
    "حسینی",
    "رضایی",
    "کریمی",
    "موسوی",
    "جعفری",
    "صادقی",
    "رحیمی",
    "کاظمی",
    "نوری",
    "قاسمی",
    "عباسی",
    "هاشمی",
    "یزدانی",
    "مرادی",
    "طاهری",
    "اکبری",
    "حیدری",
    "زمانی",
    "حسن‌زاده",
    "تقی‌پور",
    "کریم‌نژاد",
    "رحیم‌نیا",
    "صادق‌فر",
    "قربانی",
    "ملکی",
    "بهاری",
    "کوهی",
    "مهرآبادی",
    "نیک‌منش",
    "دل‌آرا",
    "شاه‌کرمی",
    "جعفرزاده",
    "باقری",
    "نقوی",
    "یوسفی",
    "فتحی",
];
const COUNTIES: &[&str] = &[
    "تهران",
    "کرج",
    "قم",
    "اراک",
    "ساوه",
    "کاشان",
    "زنجان",
    "قزوین",
];

#[derive(Clone, Debug)]
pub struct Person {
    pub id: usize,
    pub code: String,
    pub first: String,
    pub last: String,
    pub father: String,
    pub birth: (u16, u8, u8),
    pub gender: &'static str,
    pub phone: String,
    pub county: &'static str,
}

#[derive(Clone, Debug, Default)]
pub struct Row {
    pub source: u16,
    pub person: usize,
    pub national_code: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub father_name: Option<String>,
    pub birth_date: Option<String>,
    pub gender: Option<String>,
    pub phone: Option<String>,
    pub county: Option<String>,
}

impl Row {
    pub fn raw(&self) -> RawRecord<'_> {
        RawRecord {
            national_code: self.national_code.as_deref(),
            first_name: self.first_name.as_deref(),
            last_name: self.last_name.as_deref(),
            father_name: self.father_name.as_deref(),
            birth_date: self.birth_date.as_deref(),
            gender: self.gender.as_deref(),
            phone: self.phone.as_deref(),
            county: self.county.as_deref(),
            ..Default::default()
        }
    }
}

pub fn population(people: usize, seed: u64) -> Vec<Person> {
    let mut r = Rng::new(seed);
    let mut out: Vec<Person> = Vec::new();
    let mut code_n = 10_000_000 + seed * 7919;
    let mut new_code = |r: &mut Rng| {
        code_n += 1 + r.below(50) as u64;
        NationalCode::generate(code_n).as_str().to_owned()
    };
    let mut phone_n = 9_120_000_000u64 + seed * 1_000;
    let mut new_phone = |r: &mut Rng| {
        phone_n += 1 + r.below(1000) as u64;
        format!("0{phone_n}")
    };
    while out.len() < people {
        let county = COUNTIES[r.below(COUNTIES.len())];
        let last = r.zipf(SURNAMES);
        let home = new_phone(&mut r);
        let father_first = r.zipf(MALE);
        let fy = 1330 + r.below(40) as u16;
        let add = |p: Person, out: &mut Vec<Person>| {
            let mut p = p;
            p.id = out.len();
            out.push(p);
        };
        let birth = |r: &mut Rng, y: u16| (y, 1 + r.below(12) as u8, 1 + r.below(29) as u8);
        let b = birth(&mut r, fy);
        add(
            Person {
                id: 0,
                code: new_code(&mut r),
                first: father_first.into(),
                last: last.into(),
                father: r.zipf(MALE).into(),
                birth: b,
                gender: "M",
                phone: home.clone(),
                county,
            },
            &mut out,
        );
        let y = fy + r.below(8) as u16;
        let b = birth(&mut r, y);
        add(
            Person {
                id: 0,
                code: new_code(&mut r),
                first: r.zipf(FEMALE).into(),
                last: r.zipf(SURNAMES).into(),
                father: r.zipf(MALE).into(),
                birth: b,
                gender: "F",
                phone: if r.chance(0.4) {
                    home.clone()
                } else {
                    new_phone(&mut r)
                },
                county,
            },
            &mut out,
        );
        for _ in 0..r.below(5) {
            let male = r.chance(0.5);
            let y = fy + 20 + r.below(20) as u16;
            let kid = Person {
                id: 0,
                code: new_code(&mut r),
                first: r.zipf(if male { MALE } else { FEMALE }).into(),
                last: last.into(),
                father: father_first.into(),
                birth: birth(&mut r, y),
                gender: if male { "M" } else { "F" },
                phone: if r.chance(0.5) {
                    home.clone()
                } else {
                    new_phone(&mut r)
                },
                county,
            };
            if r.chance(0.08) {
                // A twin: same birth, father, surname and home; another first name and code.
                let mut twin = kid.clone();
                twin.code = new_code(&mut r);
                while twin.first == kid.first {
                    twin.first = r.zipf(if male { MALE } else { FEMALE }).into();
                }
                add(twin, &mut out);
            }
            add(kid, &mut out);
        }
    }
    out.truncate(people);
    out
}

fn typo(s: &str, r: &mut Rng) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 3 {
        return s.into();
    }
    let i = r.below(chars.len() - 1);
    let mut c = chars.clone();
    match r.below(3) {
        0 => {
            c.remove(i);
        }
        1 => c.swap(i, i + 1),
        _ => c.insert(i, 'ا'),
    }
    c.into_iter().collect()
}

fn arabic(s: &str) -> String {
    s.replace('ی', "ي").replace('ک', "ك")
}

fn persian_digits(s: &str) -> String {
    s.chars()
        .map(|c| {
            c.to_digit(10)
                .map_or(c, |d| char::from_u32(0x06F0 + d).unwrap_or(c))
        })
        .collect()
}

/// Noisy list records of the people: each is in list 0 with p 0.6, list 1 with 0.5, list 2
/// with 0.4, sometimes twice in one list.
pub fn lists(people: &[Person], seed: u64) -> Vec<Row> {
    let mut r = Rng::new(seed ^ 0xABCD);
    let mut rows = Vec::new();
    for (source, p_in) in [(0u16, 0.6), (1, 0.5), (2, 0.4)] {
        for p in people {
            if !r.chance(p_in) {
                continue;
            }
            let copies = if r.chance(0.04) { 2 } else { 1 };
            for _ in 0..copies {
                let mut first = p.first.clone();
                let mut last = p.last.clone();
                if r.chance(0.05) {
                    first = typo(&first, &mut r);
                }
                if r.chance(0.05) {
                    last = typo(&last, &mut r);
                }
                if r.chance(0.02) {
                    std::mem::swap(&mut first, &mut last);
                }
                let ar = source == 1 && r.chance(0.6);
                let enc = |s: String| if ar { arabic(&s) } else { s };
                let mut code = p.code.clone();
                if r.chance(0.03) {
                    let mut d: Vec<char> = code.chars().collect();
                    let i = r.below(9);
                    d.swap(i, i + 1);
                    code = d.into_iter().collect();
                }
                if source == 2 {
                    code = code.trim_start_matches('0').to_owned();
                }
                let (y, m, d) = p.birth;
                let birth = match r.below(20) {
                    0 => format!("{}/{:02}/{:02}", y + 1, m, d),
                    1 => format!("{y}"),
                    _ if source == 1 => persian_digits(&format!("{y}/{m}/{d}")),
                    _ => format!("{y}/{m:02}/{d:02}"),
                };
                rows.push(Row {
                    source,
                    person: p.id,
                    national_code: (!r.chance(0.05)).then_some(code),
                    first_name: Some(enc(first)),
                    last_name: Some(enc(last)),
                    father_name: (!r.chance(0.1)).then(|| enc(p.father.clone())),
                    birth_date: (!r.chance(0.04)).then_some(birth),
                    gender: (!r.chance(0.05)).then(|| p.gender.to_owned()),
                    phone: (!r.chance(0.2)).then(|| p.phone.clone()),
                    county: (!r.chance(0.1)).then(|| enc(p.county.to_owned())),
                });
            }
        }
    }
    rows
}

pub fn record_set(rows: &[Row]) -> RecordSet {
    let mut set = RecordSet::new();
    for row in rows {
        set.push_raw(row.source, &row.raw());
    }
    set
}

/// Pairwise precision and recall of a clustering against the truth.
pub fn pairwise(cluster_of: &[u32], person: &[usize]) -> (f64, f64) {
    use std::collections::HashMap;
    let mut by_cluster: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, c) in cluster_of.iter().enumerate() {
        by_cluster.entry(*c).or_default().push(i);
    }
    let mut by_person: HashMap<usize, usize> = HashMap::new();
    for p in person {
        *by_person.entry(*p).or_default() += 1;
    }
    let true_pairs: usize = by_person.values().map(|n| n * (n - 1) / 2).sum();
    let (mut pred, mut tp) = (0usize, 0usize);
    for members in by_cluster.values() {
        pred += members.len() * (members.len() - 1) / 2;
        let mut counts: HashMap<usize, usize> = HashMap::new();
        for m in members {
            *counts.entry(person[*m]).or_default() += 1;
        }
        tp += counts.values().map(|n| n * (n - 1) / 2).sum::<usize>();
    }
    (
        tp as f64 / pred.max(1) as f64,
        tp as f64 / true_pairs.max(1) as f64,
    )
}
