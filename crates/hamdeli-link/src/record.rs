//! Records as the engine compares them, and the [`RecordSet`] that builds them from raw strings.
//!
//! Names and places are interned: a record holds small ids, and the set holds each distinct
//! matching key once with its phonetic key and how often it occurs (for term-frequency weights).
//! Ids depend on the order records were added; nothing the engine decides depends on them (it
//! orders by the content of the keys), so the same records in another order link the same way.

use rustc_hash::FxHashMap;

use hamdeli_text::{
    Mobile, NationalCode, ParsedDate, digit_value, name_key, normalize_text, parse_date,
    parse_mobile, phonetic_key,
};

use crate::person::{Relation, parse_full_name, strip_honorifics};

/// An interned name matching key ([`hamdeli_text::name_key`]); `NameId(0)` is "absent".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NameId(pub u32);

/// An interned phonetic key ([`hamdeli_text::phonetic_key`]); `PhoneticId(0)` is "absent".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneticId(pub u32);

/// An interned place key (province or county, [`hamdeli_text::normalize_text`] without spaces);
/// `PlaceId(0)` is "absent".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlaceId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gender {
    Female,
    Male,
}

/// A Jalali birth date; `month` and `day` are 0 when only the year is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Birth {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Birth {
    pub fn year_only(year: u16) -> Birth {
        Birth {
            year,
            month: 0,
            day: 0,
        }
    }

    /// Only the year is known, or the date is 1 Farvardin — the usual stand-in when the day and
    /// month are unknown.
    pub fn is_year_only(&self) -> bool {
        self.month == 0 || (self.month == 1 && self.day == 1)
    }

    pub(crate) fn packed(&self) -> u32 {
        (u32::from(self.year) << 9) | (u32::from(self.month) << 5) | u32::from(self.day)
    }
}

/// One source record as the engine sees it (build it with [`RecordSet::push_raw`] or
/// [`RecordSet::push`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkRecord {
    /// Which list the record came from (the caller's numbering).
    pub source: u16,
    /// A valid national code.
    pub national_code: Option<NationalCode>,
    /// The digits of a code that is not valid (typo'd, or a lost leading zero beyond repair),
    /// left-padded to ten; compared digit by digit with the other record's code.
    pub national_code_digits: Option<[u8; 10]>,
    pub first: NameId,
    pub first_phonetic: PhoneticId,
    pub last: NameId,
    pub last_phonetic: PhoneticId,
    pub father: NameId,
    pub father_phonetic: PhoneticId,
    pub birth: Option<Birth>,
    pub gender: Option<Gender>,
    pub phone: Option<Mobile>,
    pub province: PlaceId,
    pub county: PlaceId,
    /// The relation to the head of household, when the list states it.
    pub relation: Option<Relation>,
}

/// The distinct name keys of a [`RecordSet`].
#[derive(Debug, Clone)]
pub struct Names {
    keys: Vec<Box<str>>,
    chars: Vec<Box<[char]>>,
    /// One bit per letter (hashed): names two edits apart differ in at most four bits.
    letters: Vec<u64>,
    phonetic: Vec<PhoneticId>,
    /// Content hash of each key (orders records independently of insertion order).
    hash: Vec<u64>,
    by_key: FxHashMap<Box<str>, u32>,
    phonetic_keys: Vec<Box<str>>,
    phonetic_hash: Vec<u64>,
    by_phonetic: FxHashMap<Box<str>, u32>,
    /// Occurrences as first, last and father's name.
    counts: Vec<[u32; 3]>,
    totals: [u64; 3],
}

/// Which name of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRole {
    First = 0,
    Last = 1,
    Father = 2,
}

pub(crate) fn hash_str(s: &str) -> u64 {
    // FNV-1a then a finaliser: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix64(h)
}

pub(crate) fn mix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= x >> 33;
    x
}

impl Default for Names {
    fn default() -> Self {
        Names {
            keys: vec!["".into()],
            chars: vec![Box::new([])],
            letters: vec![0],
            phonetic: vec![PhoneticId(0)],
            hash: vec![0],
            by_key: FxHashMap::default(),
            phonetic_keys: vec!["".into()],
            phonetic_hash: vec![0],
            by_phonetic: FxHashMap::default(),
            counts: vec![[0; 3]],
            totals: [0; 3],
        }
    }
}

impl Names {
    /// The id of a name key (already [`name_key`]-normalised), added if new.
    pub fn intern(&mut self, key: &str) -> NameId {
        if key.is_empty() {
            return NameId(0);
        }
        if let Some(&id) = self.by_key.get(key) {
            return NameId(id);
        }
        let id = self.keys.len() as u32;
        let ph = phonetic_key(key);
        let ph_id = if ph.is_empty() {
            0
        } else if let Some(&p) = self.by_phonetic.get(ph.as_str()) {
            p
        } else {
            let p = self.phonetic_keys.len() as u32;
            self.phonetic_hash.push(hash_str(&ph));
            self.phonetic_keys.push(ph.clone().into_boxed_str());
            self.by_phonetic.insert(ph.into_boxed_str(), p);
            p
        };
        self.keys.push(key.into());
        self.chars.push(key.chars().collect());
        self.letters.push(
            key.chars()
                .fold(0u64, |b, c| b | 1 << (mix64(u64::from(c)) % 64)),
        );
        self.phonetic.push(PhoneticId(ph_id));
        self.hash.push(hash_str(key));
        self.by_key.insert(key.into(), id);
        self.counts.push([0; 3]);
        NameId(id)
    }

    pub fn key(&self, id: NameId) -> &str {
        &self.keys[id.0 as usize]
    }

    pub fn phonetic(&self, id: NameId) -> PhoneticId {
        self.phonetic[id.0 as usize]
    }

    pub fn phonetic_key(&self, id: PhoneticId) -> &str {
        &self.phonetic_keys[id.0 as usize]
    }

    /// How many records carry this name in this role.
    pub fn count(&self, id: NameId, role: NameRole) -> u32 {
        self.counts[id.0 as usize][role as usize]
    }

    /// How many records carry any name in this role.
    pub fn total(&self, role: NameRole) -> u64 {
        self.totals[role as usize]
    }

    /// Number of distinct name keys (plus the absent one).
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.len() <= 1
    }

    pub(crate) fn chars(&self, id: NameId) -> &[char] {
        &self.chars[id.0 as usize]
    }

    pub(crate) fn letters(&self, id: NameId) -> u64 {
        self.letters[id.0 as usize]
    }

    pub(crate) fn hash(&self, id: NameId) -> u64 {
        self.hash[id.0 as usize]
    }

    pub(crate) fn phonetic_hash(&self, id: PhoneticId) -> u64 {
        self.phonetic_hash[id.0 as usize]
    }

    fn add_count(&mut self, id: NameId, role: NameRole) {
        if id.0 != 0 {
            self.counts[id.0 as usize][role as usize] += 1;
            self.totals[role as usize] += 1;
        }
    }
}

/// The distinct place keys of a [`RecordSet`].
#[derive(Debug, Clone)]
pub struct Places {
    keys: Vec<Box<str>>,
    hash: Vec<u64>,
    by_key: FxHashMap<Box<str>, u32>,
}

impl Default for Places {
    fn default() -> Self {
        Places {
            keys: vec!["".into()],
            hash: vec![0],
            by_key: FxHashMap::default(),
        }
    }
}

impl Places {
    /// The id of a place key (already normalised), added if new.
    pub fn intern(&mut self, key: &str) -> PlaceId {
        if key.is_empty() {
            return PlaceId(0);
        }
        if let Some(&id) = self.by_key.get(key) {
            return PlaceId(id);
        }
        let id = self.keys.len() as u32;
        self.keys.push(key.into());
        self.hash.push(hash_str(key));
        self.by_key.insert(key.into(), id);
        PlaceId(id)
    }

    pub fn key(&self, id: PlaceId) -> &str {
        &self.keys[id.0 as usize]
    }

    pub(crate) fn hash(&self, id: PlaceId) -> u64 {
        self.hash[id.0 as usize]
    }
}

/// The raw fields of one row, as typed in the list (any digit script, Arabic or Persian letters).
/// `full_name` is split into first and last name when both of those are absent.
#[derive(Clone, Copy, Debug, Default)]
pub struct RawRecord<'a> {
    pub national_code: Option<&'a str>,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub full_name: Option<&'a str>,
    pub father_name: Option<&'a str>,
    pub birth_date: Option<&'a str>,
    pub gender: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub province: Option<&'a str>,
    pub county: Option<&'a str>,
}

/// Caches from raw strings to what they parse to: lists repeat the same spellings, so each
/// distinct raw value is normalised once.
#[derive(Debug, Default)]
struct Caches {
    given: FxHashMap<Box<str>, NameId>,
    last: FxHashMap<Box<str>, NameId>,
    place: FxHashMap<Box<str>, PlaceId>,
}

/// The records to link, with the name and place tables their ids point into.
#[derive(Debug, Default)]
pub struct RecordSet {
    records: Vec<LinkRecord>,
    names: Names,
    places: Places,
    caches: Caches,
}

fn cached<V: Copy>(map: &mut FxHashMap<Box<str>, V>, raw: &str, make: impl FnOnce() -> V) -> V {
    if let Some(v) = map.get(raw) {
        return *v;
    }
    let v = make();
    map.insert(raw.into(), v);
    v
}

/// A value that is there: not empty and not only ASCII white space (anything else is
/// normalised away by the parsers).
fn present(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.bytes().all(|b| b.is_ascii_whitespace()))
}

/// The national code of a raw value: valid (`Ok`), the padded digits of an invalid one (`Err`),
/// or nothing usable.
pub fn parse_code(raw: &str) -> Option<Result<NationalCode, [u8; 10]>> {
    if let Ok(p) = NationalCode::parse(raw) {
        return Some(Ok(p.code));
    }
    let digits: Vec<u8> = raw.chars().filter_map(digit_value).collect();
    if !(8..=10).contains(&digits.len()) || digits.iter().all(|&d| d == digits[0]) {
        return None;
    }
    let mut d = [0u8; 10];
    d[10 - digits.len()..].copy_from_slice(&digits);
    Some(Err(d))
}

/// A Jalali birth date from a raw value: everything [`parse_date`] reads (Gregorian dates are
/// converted), and leniently the Jalali forms it refuses — two-digit years (`65/9/16` is
/// 1365/09/16) and days past the end of the month (`1365/08/31`) — since a typo'd date is still
/// evidence.
pub fn parse_birth(raw: &str) -> Option<Birth> {
    // The common case first: a numeric Jalali date, read without calendar conversion.
    if let Some(b) = lenient_jalali(raw) {
        return Some(b);
    }
    match parse_date(raw) {
        Ok(ParsedDate::Year { .. }) => {
            let d = parse_date(raw).ok()?;
            return d
                .jalali_year()
                .and_then(|y| u16::try_from(y).ok())
                .map(Birth::year_only);
        }
        Ok(d) => {
            let j = d.jalali()?;
            return Some(Birth {
                year: u16::try_from(j.year()).ok()?,
                month: j.month(),
                day: j.day(),
            });
        }
        Err(_) => {}
    }
    lenient_jalali(raw)
}

fn lenient_jalali(raw: &str) -> Option<Birth> {
    // Up to three runs of digits (any script), anything else separates them.
    let mut buf = [(0u32, 0usize); 3];
    let mut count = 0;
    let mut cur: Option<(u32, usize)> = None;
    for c in raw.chars().chain(std::iter::once(' ')) {
        if let Some(v) = digit_value(c) {
            let (n, len) = cur.unwrap_or((0, 0));
            if len >= 8 {
                return None;
            }
            cur = Some((n * 10 + u32::from(v), len + 1));
        } else if let Some(p) = cur.take() {
            if count == 3 {
                return None;
            }
            buf[count] = p;
            count += 1;
        }
    }
    let parts = &buf[..count];
    let year = |y: u32, len: usize| -> Option<u16> {
        match len {
            4 if (1200..1500).contains(&y) => Some(y as u16),
            // Two-digit Jalali years: 00–09 are 1400s, the rest 1300s.
            2 if y < 10 => Some(1400 + y as u16),
            2 => Some(1300 + y as u16),
            _ => None,
        }
    };
    let (y, m, d) = match parts {
        [(v, 8)] => (year(v / 10_000, 4)?, v / 100 % 100, v % 100),
        [(y, 4), (m, 1..=2), (d, 1..=2)] => (year(*y, 4)?, *m, *d),
        [(d, 1..=2), (m, 1..=2), (y, 4)] => (year(*y, 4)?, *m, *d),
        // Two-digit years: year first (the Persian order) unless only the last part can be one.
        [(d, 1..=2), (m, 1..=2), (y, 2)] if *d <= 31 && *y > 31 => (year(*y, 2)?, *m, *d),
        [(y, 2), (m, 1..=2), (d, 1..=2)] => (year(*y, 2)?, *m, *d),
        _ => return None,
    };
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some(Birth {
        year: y,
        month: m as u8,
        day: d as u8,
    })
}

fn parse_gender(raw: &str) -> Option<Gender> {
    let k = normalize_text(raw);
    match k.as_str() {
        "f" | "female" | "woman" | "زن" | "خانم" | "مونث" | "موءنث" | "دختر" | "2" => {
            Some(Gender::Female)
        }
        "m" | "male" | "man" | "مرد" | "اقا" | "آقا" | "مذکر" | "پسر" | "1" => {
            Some(Gender::Male)
        }
        _ => None,
    }
}

/// A place key: normalised, spaces and ZWNJ removed.
pub fn place_key(raw: &str) -> String {
    let mut k = normalize_text(raw);
    k.retain(|c| c != ' ' && c != '\u{200C}');
    k
}

/// The fields of a raw row that need no shared tables (parsed on any thread).
struct ParsedFields {
    code: Option<Result<NationalCode, [u8; 10]>>,
    birth: Option<Birth>,
    gender: Option<Gender>,
    phone: Option<Mobile>,
}

impl ParsedFields {
    fn of(raw: &RawRecord<'_>) -> ParsedFields {
        ParsedFields {
            code: present(raw.national_code).and_then(parse_code),
            birth: present(raw.birth_date).and_then(parse_birth),
            gender: present(raw.gender).and_then(parse_gender),
            phone: present(raw.phone).and_then(|p| parse_mobile(p).ok()),
        }
    }
}

impl RecordSet {
    pub fn new() -> RecordSet {
        RecordSet::default()
    }

    pub fn records(&self) -> &[LinkRecord] {
        &self.records
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn names(&self) -> &Names {
        &self.names
    }

    pub fn places(&self) -> &Places {
        &self.places
    }

    /// The name id of a first or father's name as typed (honorifics dropped: «سید»، «حاج»،
    /// «خانم»، «آقای»، «مرحوم» …).
    pub fn given_name(&mut self, raw: &str) -> NameId {
        let names = &mut self.names;
        cached(&mut self.caches.given, raw, || {
            names.intern(&name_key(strip_honorifics(raw).1))
        })
    }

    /// The name id of a last name as typed (a title in front dropped: a list that swapped the
    /// name columns writes «خانم آرزو» under the surname).
    pub fn last_name(&mut self, raw: &str) -> NameId {
        let names = &mut self.names;
        cached(&mut self.caches.last, raw, || {
            names.intern(&name_key(strip_honorifics(raw).1))
        })
    }

    pub fn place(&mut self, raw: &str) -> PlaceId {
        let places = &mut self.places;
        cached(&mut self.caches.place, raw, || {
            places.intern(&place_key(raw))
        })
    }

    /// Adds a record from raw strings; returns its index.
    pub fn push_raw(&mut self, source: u16, raw: &RawRecord<'_>) -> u32 {
        let fields = ParsedFields::of(raw);
        self.push_parsed(source, raw, fields)
    }

    /// Adds many records from raw strings (codes, dates and phones are parsed in parallel);
    /// returns the index of the first.
    pub fn extend_raw(&mut self, source: u16, rows: &[RawRecord<'_>]) -> u32 {
        use rayon::prelude::*;
        let first = self.records.len() as u32;
        let parsed: Vec<ParsedFields> = rows.par_iter().map(ParsedFields::of).collect();
        self.records.reserve(rows.len());
        for (raw, fields) in rows.iter().zip(parsed) {
            self.push_parsed(source, raw, fields);
        }
        first
    }

    /// [`extend_raw`](Self::extend_raw) with each row's relation to the head of household as
    /// the list writes it (`relations[i]` for `rows[i]`; missing entries are unknown).
    pub fn extend_raw_related(
        &mut self,
        source: u16,
        rows: &[RawRecord<'_>],
        relations: &[Option<&str>],
    ) -> u32 {
        let first = self.extend_raw(source, rows);
        for (i, rel) in relations.iter().enumerate().take(rows.len()) {
            if let Some(r) = rel.and_then(Relation::parse) {
                self.records[first as usize + i].relation = Some(r);
            }
        }
        first
    }

    fn push_parsed(&mut self, source: u16, raw: &RawRecord<'_>, fields: ParsedFields) -> u32 {
        let (mut first, mut last) = (NameId(0), NameId(0));
        if let Some(f) = present(raw.first_name) {
            first = self.given_name(f);
        }
        if let Some(l) = present(raw.last_name) {
            last = self.last_name(l);
        }
        if first.0 == 0
            && last.0 == 0
            && let Some(full) = present(raw.full_name)
        {
            let parts = parse_full_name(full);
            first = self.given_name(&parts.first);
            last = self.last_name(&parts.last);
        }
        let father = present(raw.father_name).map_or(NameId(0), |f| self.given_name(f));
        let (national_code, national_code_digits) = match fields.code {
            Some(Ok(c)) => (Some(c), None),
            Some(Err(d)) => (None, Some(d)),
            None => (None, None),
        };
        let record = LinkRecord {
            source,
            national_code,
            national_code_digits,
            first,
            first_phonetic: PhoneticId(0),
            last,
            last_phonetic: PhoneticId(0),
            father,
            father_phonetic: PhoneticId(0),
            birth: fields.birth,
            gender: fields.gender,
            phone: fields.phone,
            province: present(raw.province).map_or(PlaceId(0), |p| self.place(p)),
            county: present(raw.county).map_or(PlaceId(0), |c| self.place(c)),
            relation: None,
        };
        self.push(record)
    }

    /// Adds a record from raw strings with the relation to the head of household the row
    /// states («نسبت با سرپرست»: سرپرست، همسر، فرزند …); returns its index.
    pub fn push_raw_related(
        &mut self,
        source: u16,
        raw: &RawRecord<'_>,
        relation: Option<&str>,
    ) -> u32 {
        let i = self.push_raw(source, raw);
        self.set_relation(i, relation.and_then(Relation::parse));
        i
    }

    /// Sets the relation to the head of household of a record already added.
    pub fn set_relation(&mut self, record: u32, relation: Option<Relation>) {
        if let Some(r) = self.records.get_mut(record as usize) {
            r.relation = relation;
        }
    }

    /// Adds a record whose ids come from this set ([`given_name`](Self::given_name),
    /// [`Names::intern`], …); the phonetic ids are filled in from the names.
    pub fn push(&mut self, mut record: LinkRecord) -> u32 {
        record.first_phonetic = self.names.phonetic(record.first);
        record.last_phonetic = self.names.phonetic(record.last);
        record.father_phonetic = self.names.phonetic(record.father);
        self.names.add_count(record.first, NameRole::First);
        self.names.add_count(record.last, NameRole::Last);
        self.names.add_count(record.father, NameRole::Father);
        self.records.push(record);
        (self.records.len() - 1) as u32
    }

    /// Frees the raw-string caches (after the last record is added).
    pub fn shrink(&mut self) {
        self.caches = Caches::default();
    }

    pub fn names_mut(&mut self) -> &mut Names {
        &mut self.names
    }

    pub fn places_mut(&mut self) -> &mut Places {
        &mut self.places
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn births() {
        let b = |y, m, d| {
            Some(Birth {
                year: y,
                month: m,
                day: d,
            })
        };
        assert_eq!(parse_birth("1365/09/16"), b(1365, 9, 16));
        assert_eq!(parse_birth("۱۳۶۵-۹-۱۶"), b(1365, 9, 16));
        assert_eq!(parse_birth("13650916"), b(1365, 9, 16));
        assert_eq!(parse_birth("65/9/16"), b(1365, 9, 16));
        assert_eq!(parse_birth("1365/08/31"), b(1365, 8, 31));
        assert_eq!(parse_birth("1986-12-07"), b(1365, 9, 16));
        assert_eq!(parse_birth("1365"), Some(Birth::year_only(1365)));
        assert_eq!(parse_birth("نامعلوم"), None);
        assert!(
            Birth {
                year: 1365,
                month: 1,
                day: 1
            }
            .is_year_only()
        );
    }

    #[test]
    fn codes() {
        assert!(matches!(parse_code("۰۰۱۰۳۵۰۸۲۹"), Some(Ok(_))));
        assert!(matches!(parse_code("10350829"), Some(Ok(_))));
        assert_eq!(
            parse_code("10350828"),
            Some(Err([0, 0, 1, 0, 3, 5, 0, 8, 2, 8]))
        );
        assert_eq!(parse_code("123"), None);
        assert_eq!(parse_code("1111111111"), None);
    }

    #[test]
    fn raw_records_normalise() {
        let mut set = RecordSet::new();
        let a = set.push_raw(
            0,
            &RawRecord {
                national_code: Some("0010350829"),
                first_name: Some("سيده زينب"),
                last_name: Some("عبد الله زاده"),
                phone: Some("+98 912 123 4567"),
                gender: Some("زن"),
                ..Default::default()
            },
        );
        let b = set.push_raw(
            1,
            &RawRecord {
                full_name: Some("زینب عبدالله‌زاده"),
                phone: Some("09121234567"),
                ..Default::default()
            },
        );
        let (x, y) = (&set.records()[a as usize], &set.records()[b as usize]);
        assert_eq!(x.first, y.first);
        assert_eq!(x.last, y.last);
        assert_eq!(x.phone, y.phone);
        assert_eq!(x.gender, Some(Gender::Female));
        assert_eq!(set.names().count(x.first, NameRole::First), 2);
    }
}
