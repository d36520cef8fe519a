//! Comparison levels: each pair of records gets one level per field, and each level has a stable
//! code (`"national_code.one_digit_off"`, `"first_name.phonetic"`, …) that the review screens
//! translate into plain words.

use crate::record::{Birth, NameId, Names};

/// The compared fields, in the order of [`Evidence::levels`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    NationalCode = 0,
    FirstName = 1,
    LastName = 2,
    FatherName = 3,
    BirthDate = 4,
    Gender = 5,
    Phone = 6,
    Place = 7,
}

pub const FIELDS: usize = 8;
/// The most levels a field has (level 0 is always "missing").
pub const LEVELS: usize = 7;

impl Field {
    pub const ALL: [Field; FIELDS] = [
        Field::NationalCode,
        Field::FirstName,
        Field::LastName,
        Field::FatherName,
        Field::BirthDate,
        Field::Gender,
        Field::Phone,
        Field::Place,
    ];

    /// Stable code: `"national_code"`, `"first_name"`, …
    pub fn code(self) -> &'static str {
        match self {
            Field::NationalCode => "national_code",
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::FatherName => "father_name",
            Field::BirthDate => "birth_date",
            Field::Gender => "gender",
            Field::Phone => "phone",
            Field::Place => "place",
        }
    }

    /// How many levels (including "missing") the field has.
    pub fn levels(self) -> usize {
        match self {
            Field::NationalCode => 7,
            Field::FirstName | Field::LastName => 7,
            Field::FatherName => 6,
            Field::BirthDate => 6,
            Field::Gender | Field::Phone => 3,
            Field::Place => 4,
        }
    }

    /// The stable code of a level of this field, e.g. `"first_name.phonetic"`.
    pub fn level_code(self, level: u8) -> &'static str {
        use Field::*;
        match (self, level) {
            (NationalCode, 0) => "national_code.missing",
            (NationalCode, 1) => "national_code.equal",
            (NationalCode, 2) => "national_code.one_digit_off",
            (NationalCode, 3) => "national_code.transposed",
            (NationalCode, 4) => "national_code.different",
            (NationalCode, 5) => "national_code.both_valid_different",
            (NationalCode, _) => "national_code.household",
            (FirstName, 0) => "first_name.missing",
            (FirstName, 1) => "first_name.exact",
            (FirstName, 2) => "first_name.phonetic",
            (FirstName, 3) => "first_name.edit1",
            (FirstName, 4) => "first_name.edit2",
            (FirstName, 5) => "first_name.swapped",
            (FirstName, _) => "first_name.different",
            (LastName, 0) => "last_name.missing",
            (LastName, 1) => "last_name.exact",
            (LastName, 2) => "last_name.phonetic",
            (LastName, 3) => "last_name.edit1",
            (LastName, 4) => "last_name.edit2",
            (LastName, 5) => "last_name.swapped",
            (LastName, _) => "last_name.different",
            (FatherName, 0) => "father_name.missing",
            (FatherName, 1) => "father_name.exact",
            (FatherName, 2) => "father_name.phonetic",
            (FatherName, 3) => "father_name.edit1",
            (FatherName, 4) => "father_name.edit2",
            (FatherName, _) => "father_name.different",
            (BirthDate, 0) => "birth_date.missing",
            (BirthDate, 1) => "birth_date.exact",
            (BirthDate, 2) => "birth_date.one_part_off",
            (BirthDate, 3) => "birth_date.day_month_swapped",
            (BirthDate, 4) => "birth_date.year_only",
            (BirthDate, _) => "birth_date.different",
            (Gender, 0) => "gender.missing",
            (Gender, 1) => "gender.equal",
            (Gender, _) => "gender.different",
            (Phone, 0) => "phone.missing",
            (Phone, 1) => "phone.equal",
            (Phone, _) => "phone.different",
            (Place, 0) => "place.missing",
            (Place, 1) => "place.same_county",
            (Place, 2) => "place.same_province",
            (Place, _) => "place.different",
        }
    }
}

/// National code levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodeLevel {
    /// One side has no usable code.
    Missing = 0,
    Equal = 1,
    /// One digit differs (at least one side invalid).
    OneDigitOff = 2,
    /// Two adjacent digits swapped (at least one side invalid).
    Transposed = 3,
    /// Differs by more than one typo (at least one side invalid).
    Different = 4,
    /// Both valid and different: two people, whatever else agrees (a veto).
    BothValidDifferent = 5,
    /// Equal, but the rows are two members of one household listed under the head's code: their
    /// relations to the head differ, their first names clearly differ (more than two edits
    /// apart), or — their first names
    /// not agreeing — they are a generation apart (birth years 15 or more) or one's father's
    /// name is the other's first name. The code
    /// says nothing about identity then (it weighs 0); the other fields decide.
    Household = 6,
}

/// Name levels (first, last and father's name; father's name has no `Swapped`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NameLevel {
    Missing = 0,
    /// Same matching key (after Persian normalisation).
    Exact = 1,
    /// Same phonetic key.
    Phonetic = 2,
    /// One edit apart (insertion, deletion, substitution or adjacent transposition; the longer
    /// name has three letters or more).
    Edit1 = 3,
    /// Two edits apart (names of five letters or more).
    Edit2 = 4,
    /// First and last name swapped between the records (each may also carry a typo). Weighed
    /// once, under the first name: the last name's `Swapped` level weighs 0.
    Swapped = 5,
    Different = 6,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BirthLevel {
    Missing = 0,
    Exact = 1,
    /// Year, month or day differs, the other two agree.
    OnePartOff = 2,
    /// Same year, day and month swapped.
    DayMonthSwapped = 3,
    /// Same year; one side knows only the year (or has the 1/1 stand-in).
    YearOnly = 4,
    Different = 5,
}

/// Levels of gender and phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SimpleLevel {
    Missing = 0,
    Equal = 1,
    Different = 2,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PlaceLevel {
    Missing = 0,
    SameCounty = 1,
    /// Same province; the county differs or one side lacks it.
    SameProvince = 2,
    Different = 3,
}

/// The level of each field for one pair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Evidence(pub(crate) [u8; FIELDS]);

impl Evidence {
    /// The level number of each field (0 = missing), in [`Field::ALL`] order.
    pub fn levels(&self) -> [u8; FIELDS] {
        self.0
    }

    pub fn level(&self, f: Field) -> u8 {
        self.0[f as usize]
    }

    /// The stable code of each field's level, in [`Field::ALL`] order.
    pub fn codes(&self) -> [&'static str; FIELDS] {
        Field::ALL.map(|f| f.level_code(self.0[f as usize]))
    }

    pub fn national_code(&self) -> CodeLevel {
        match self.0[0] {
            0 => CodeLevel::Missing,
            1 => CodeLevel::Equal,
            2 => CodeLevel::OneDigitOff,
            3 => CodeLevel::Transposed,
            4 => CodeLevel::Different,
            5 => CodeLevel::BothValidDifferent,
            _ => CodeLevel::Household,
        }
    }

    fn name(l: u8) -> NameLevel {
        match l {
            0 => NameLevel::Missing,
            1 => NameLevel::Exact,
            2 => NameLevel::Phonetic,
            3 => NameLevel::Edit1,
            4 => NameLevel::Edit2,
            5 => NameLevel::Swapped,
            _ => NameLevel::Different,
        }
    }

    pub fn first_name(&self) -> NameLevel {
        Self::name(self.0[1])
    }

    pub fn last_name(&self) -> NameLevel {
        Self::name(self.0[2])
    }

    pub fn father_name(&self) -> NameLevel {
        match self.0[3] {
            5 => NameLevel::Different,
            l => Self::name(l),
        }
    }

    pub fn birth_date(&self) -> BirthLevel {
        match self.0[4] {
            0 => BirthLevel::Missing,
            1 => BirthLevel::Exact,
            2 => BirthLevel::OnePartOff,
            3 => BirthLevel::DayMonthSwapped,
            4 => BirthLevel::YearOnly,
            _ => BirthLevel::Different,
        }
    }

    fn simple(l: u8) -> SimpleLevel {
        match l {
            0 => SimpleLevel::Missing,
            1 => SimpleLevel::Equal,
            _ => SimpleLevel::Different,
        }
    }

    pub fn gender(&self) -> SimpleLevel {
        Self::simple(self.0[5])
    }

    pub fn phone(&self) -> SimpleLevel {
        Self::simple(self.0[6])
    }

    /// The records could be two members of one family: the surname agrees (exactly,
    /// phonetically, one edit apart, or swapped with the first name) and the father's name does
    /// not disagree. Such pairs must also beat the family model.
    pub fn family_context(&self) -> bool {
        let (last, father) = (self.0[2], self.0[3]);
        matches!(last, NAME_EXACT | NAME_PHONETIC | NAME_EDIT1 | NAME_SWAPPED)
            && matches!(father, 0 | NAME_EXACT | NAME_PHONETIC | NAME_EDIT1)
    }

    pub fn place(&self) -> PlaceLevel {
        match self.0[7] {
            0 => PlaceLevel::Missing,
            1 => PlaceLevel::SameCounty,
            2 => PlaceLevel::SameProvince,
            _ => PlaceLevel::Different,
        }
    }
}

// Level numbers used inside the crate.
pub(crate) const CODE_EQUAL: u8 = CodeLevel::Equal as u8;
pub(crate) const CODE_ONE_DIGIT: u8 = CodeLevel::OneDigitOff as u8;
pub(crate) const CODE_TRANSPOSED: u8 = CodeLevel::Transposed as u8;
pub(crate) const CODE_DIFFERENT: u8 = CodeLevel::Different as u8;
pub(crate) const CODE_VETO: u8 = CodeLevel::BothValidDifferent as u8;
pub(crate) const CODE_HOUSEHOLD: u8 = CodeLevel::Household as u8;
pub(crate) const NAME_EXACT: u8 = NameLevel::Exact as u8;
pub(crate) const NAME_PHONETIC: u8 = NameLevel::Phonetic as u8;
pub(crate) const NAME_EDIT1: u8 = NameLevel::Edit1 as u8;
pub(crate) const NAME_EDIT2: u8 = NameLevel::Edit2 as u8;
pub(crate) const NAME_SWAPPED: u8 = NameLevel::Swapped as u8;
pub(crate) const NAME_DIFFERENT: u8 = NameLevel::Different as u8;
pub(crate) const FATHER_DIFFERENT: u8 = 5;
pub(crate) const BIRTH_EXACT: u8 = BirthLevel::Exact as u8;

/// A record reduced to numbers, for fast comparison (built once per link run).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Rec {
    /// Valid code as a number, or `NONE`.
    pub code: u64,
    /// Digits of an invalid code as a number, or `NONE`.
    pub raw: u64,
    pub phone: u64,
    pub first: u32,
    pub last: u32,
    pub father: u32,
    pub first_ph: u32,
    pub last_ph: u32,
    pub father_ph: u32,
    /// `Birth::packed`, 0 if absent.
    pub birth: u32,
    pub province: u32,
    pub county: u32,
    /// 0 absent, 1 female, 2 male.
    pub gender: u8,
    /// `Relation as u8`, 0 if the list does not say.
    pub relation: u8,
    /// The whole name as a set of letters ([`whole_name_key`]), 0 without a name.
    pub whole: u64,
}

/// Letters folded as spellings of one sound (a light phonetic key on single characters); the
/// alef class (ا ع ء) and what is not a letter fold to `None`.
fn fold_letter(c: char) -> Option<char> {
    Some(match c {
        'ث' | 'س' | 'ص' => 'س',
        'ذ' | 'ز' | 'ض' | 'ظ' | 'ژ' => 'ز',
        'ت' | 'ط' => 'ت',
        'ح' | 'ه' => 'ه',
        'ق' | 'غ' => 'ق',
        'ع' | 'ء' | 'ا' | 'آ' | 'أ' | 'إ' => return None,
        'پ' => 'ب',
        'چ' => 'ج',
        'گ' => 'ک',
        c if c.is_alphabetic() => c,
        _ => return None,
    })
}

/// A key of a record's whole name that does not depend on how it was split into first and
/// last name, in which order, or where its spaces were: the hash of its folded letters, sorted
/// («برات علی رضایی»، «براتعلی رضایی» and «رضایی، براتعلی» share it). 0 without a name.
pub(crate) fn whole_name_key(names: &Names, first: NameId, last: NameId) -> u64 {
    if first.0 == 0 && last.0 == 0 {
        return 0;
    }
    let mut letters: Vec<char> = names
        .chars(first)
        .iter()
        .chain(names.chars(last))
        .filter_map(|&c| fold_letter(c))
        .collect();
    if letters.len() < 4 {
        return 0;
    }
    letters.sort_unstable();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for c in letters {
        h ^= u64::from(c);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    crate::record::mix64(h).max(1)
}

/// The whole names of two records agree though their first and last names do not line up:
/// the concatenations (first + last) are at most one edit apart, either way round. Returns 1
/// for an exact agreement, 2 for one edit, 0 otherwise.
fn whole_names_agree(a: &Rec, b: &Rec, names: &Names) -> u8 {
    const CAP: usize = 40;
    let join = |x: u32, y: u32, out: &mut [char; CAP]| -> Option<usize> {
        let (p, q) = (names.chars(NameId(x)), names.chars(NameId(y)));
        let n = p.len() + q.len();
        if n > CAP {
            return None;
        }
        out[..p.len()].copy_from_slice(p);
        out[p.len()..n].copy_from_slice(q);
        Some(n)
    };
    let letters = |r: &Rec| names.letters(NameId(r.first)) | names.letters(NameId(r.last));
    if (letters(a) ^ letters(b)).count_ones() > 4 {
        return 0;
    }
    let (mut x, mut w, mut y, mut z) = (['\0'; CAP], ['\0'; CAP], ['\0'; CAP], ['\0'; CAP]);
    let (Some(nx), Some(nw), Some(ny), Some(nz)) = (
        join(a.first, a.last, &mut x),
        join(a.last, a.first, &mut w),
        join(b.first, b.last, &mut y),
        join(b.last, b.first, &mut z),
    ) else {
        return 0;
    };
    if nx < 6 {
        return 0;
    }
    // Each way round on both sides: the two rows may split the whole name at different places
    // («سکینه | محمدپور» against «محمد | پور سکینه»).
    let d = osa_within(&x[..nx], &y[..ny], 1)
        .min(osa_within(&x[..nx], &z[..nz], 1))
        .min(osa_within(&w[..nw], &y[..ny], 1));
    match d {
        0 => 1,
        1 => 2,
        _ => 0,
    }
}

/// Two rows sharing a code are two members of one household rather than one person: see
/// [`CodeLevel::Household`]. `first` is the first-name level of the pair. Sex is not used:
/// lists get it wrong too often.
fn household_members(a: &Rec, b: &Rec, first: u8, names: &Names) -> bool {
    if a.relation != 0 && b.relation != 0 && a.relation != b.relation {
        return true;
    }
    if first == NAME_DIFFERENT && far_apart(a.first, b.first, names) {
        return true;
    }
    let first_agrees = first == NAME_EXACT || first == NAME_PHONETIC;
    if !first_agrees && generation_apart(a, b) {
        return true;
    }
    // One's father's name is the other's first name: a parent and a child.
    let parent_of = |p: &Rec, c: &Rec| c.father_ph != 0 && c.father_ph == p.first_ph;
    !first_agrees && (parent_of(a, b) || parent_of(b, a))
}

/// Names more than two edits apart: not two typos of one name («فاطمه» / «زهرا», not «محعمد» /
/// «محد»).
fn far_apart(a: u32, b: u32, names: &Names) -> bool {
    if a == 0 || b == 0 {
        return false;
    }
    osa_within(names.chars(NameId(a)), names.chars(NameId(b)), 2) > 2
}

fn generation_apart(a: &Rec, b: &Rec) -> bool {
    a.birth != 0 && b.birth != 0 && (a.birth >> 9).abs_diff(b.birth >> 9) >= GENERATION_YEARS
}

/// Whether `m` carries a code that is not its own: `o` has the same code and is clearly
/// another person (another sex, a generation apart, or another first name, however the names
/// are split), and either `m` names its relation to the head as something else than the head,
/// or `o` says it is the head (and `m` says nothing).
pub(crate) fn borrowed_code(m: &Rec, o: &Rec, names: &Names) -> bool {
    let says = m.relation > 1 || (m.relation == 0 && o.relation == 1);
    says && clearly_another(m, o, names)
}

/// Two rows that cannot be one person whatever their codes say: clearly different first names
/// (however the names are split), or a generation apart without the same first name.
fn clearly_another(m: &Rec, o: &Rec, names: &Names) -> bool {
    let first = compare_name(m.first, m.first_ph, o.first, o.first_ph, names);
    if generation_apart(m, o) && first != NAME_EXACT && first != NAME_PHONETIC {
        return true;
    }
    let swapped = compare_name(m.first, m.first_ph, o.last, o.last_ph, names);
    first == NAME_DIFFERENT
        && far_apart(m.first, o.first, names)
        && swapped == NAME_DIFFERENT
        && (m.whole == 0 || o.whole == 0 || whole_names_agree(m, o, names) == 0)
}

/// Birth years at least this far apart are two generations.
pub(crate) const GENERATION_YEARS: u32 = 15;

pub(crate) const NONE: u64 = u64::MAX;

pub(crate) fn code_number(d: &[u8; 10]) -> u64 {
    d.iter().fold(0u64, |n, &x| n * 10 + u64::from(x))
}

fn code_digits(mut n: u64) -> [u8; 10] {
    let mut d = [0u8; 10];
    for x in d.iter_mut().rev() {
        *x = (n % 10) as u8;
        n /= 10;
    }
    d
}

pub(crate) fn compare_code(a: &Rec, b: &Rec) -> u8 {
    let x = if a.code != NONE { a.code } else { a.raw };
    let y = if b.code != NONE { b.code } else { b.raw };
    if x == NONE || y == NONE {
        return 0;
    }
    if x == y {
        return CODE_EQUAL;
    }
    if a.code != NONE && b.code != NONE {
        return CODE_VETO;
    }
    let (dx, dy) = (code_digits(x), code_digits(y));
    let mut diff = [0usize; 3];
    let mut n = 0;
    for i in 0..10 {
        if dx[i] != dy[i] {
            if n == 3 {
                return CODE_DIFFERENT;
            }
            diff[n] = i;
            n += 1;
        }
    }
    match n {
        1 => CODE_ONE_DIGIT,
        2 if diff[1] == diff[0] + 1 && dx[diff[0]] == dy[diff[1]] && dx[diff[1]] == dy[diff[0]] => {
            CODE_TRANSPOSED
        }
        _ => CODE_DIFFERENT,
    }
}

/// Optimal-string-alignment distance (edits: insert, delete, substitute, swap adjacent), or
/// `max + 1` if it is larger than `max`.
pub(crate) fn osa_within(a: &[char], b: &[char], max: usize) -> usize {
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > max {
        return max + 1;
    }
    if n == 0 || m == 0 {
        return n.max(m).min(max + 1);
    }
    // Three rolling rows of small counts; names are short, so the rows live on the stack.
    const CAP: usize = 32;
    if m >= CAP || max >= 200 {
        return osa_heap(a, b, max);
    }
    let big = (max + 1) as u8;
    let mut r0 = [0u8; CAP];
    let mut r1 = [0u8; CAP];
    let mut r2 = [0u8; CAP];
    for (j, x) in r1.iter_mut().enumerate().take(m + 1) {
        *x = (j as u8).min(big);
    }
    for i in 1..=n {
        r2[0] = (i as u8).min(big);
        let mut row_min = r2[0];
        for j in 1..=m {
            let cost = u8::from(a[i - 1] != b[j - 1]);
            let mut v = (r1[j] + 1).min(r2[j - 1] + 1).min(r1[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(r0[j - 2] + 1);
            }
            let v = v.min(big);
            r2[j] = v;
            row_min = row_min.min(v);
        }
        if row_min >= big {
            return max + 1;
        }
        std::mem::swap(&mut r0, &mut r1);
        std::mem::swap(&mut r1, &mut r2);
    }
    usize::from(r1[m])
}

fn osa_heap(a: &[char], b: &[char], max: usize) -> usize {
    let m = b.len();
    let mut r0 = vec![0usize; m + 1];
    let mut r1: Vec<usize> = (0..=m).collect();
    let mut r2 = vec![0usize; m + 1];
    for i in 1..=a.len() {
        r2[0] = i;
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (r1[j] + 1).min(r2[j - 1] + 1).min(r1[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(r0[j - 2] + 1);
            }
            r2[j] = v;
        }
        std::mem::swap(&mut r0, &mut r1);
        std::mem::swap(&mut r1, &mut r2);
    }
    r1[m].min(max + 1)
}

/// Name level without the swap check.
pub(crate) fn compare_name(a: u32, a_ph: u32, b: u32, b_ph: u32, names: &Names) -> u8 {
    if a == 0 || b == 0 {
        return 0;
    }
    if a == b {
        return NAME_EXACT;
    }
    if a_ph == b_ph && a_ph != 0 {
        return NAME_PHONETIC;
    }
    if (names.letters(NameId(a)) ^ names.letters(NameId(b))).count_ones() > 4 {
        return NAME_DIFFERENT;
    }
    let (x, y) = (names.chars(NameId(a)), names.chars(NameId(b)));
    let shorter = x.len().min(y.len());
    match osa_within(x, y, 2) {
        1 if x.len().max(y.len()) >= 3 => NAME_EDIT1,
        2 if shorter >= 5 => NAME_EDIT2,
        _ => NAME_DIFFERENT,
    }
}

pub(crate) fn compare_birth(a: u32, b: u32) -> u8 {
    if a == 0 || b == 0 {
        return 0;
    }
    let unpack = |p: u32| Birth {
        year: (p >> 9) as u16,
        month: ((p >> 5) & 15) as u8,
        day: (p & 31) as u8,
    };
    let (x, y) = (unpack(a), unpack(b));
    if x.is_year_only() || y.is_year_only() {
        return if x.year == y.year {
            BirthLevel::YearOnly as u8
        } else {
            BirthLevel::Different as u8
        };
    }
    if x == y {
        return BIRTH_EXACT;
    }
    if x.year == y.year && x.month == y.day && x.day == y.month {
        return BirthLevel::DayMonthSwapped as u8;
    }
    let same = u8::from(x.year == y.year) + u8::from(x.month == y.month) + u8::from(x.day == y.day);
    if same == 2 && (x.year == y.year || years_close(x.year, y.year)) {
        BirthLevel::OnePartOff as u8
    } else {
        BirthLevel::Different as u8
    }
}

/// Years a typo apart: one apart, one digit different, or two adjacent digits swapped.
fn years_close(a: u16, b: u16) -> bool {
    if a.abs_diff(b) <= 1 {
        return true;
    }
    let (da, db) = (
        [a / 1000, a / 100 % 10, a / 10 % 10, a % 10],
        [b / 1000, b / 100 % 10, b / 10 % 10, b % 10],
    );
    let diff: Vec<usize> = (0..4).filter(|&i| da[i] != db[i]).collect();
    match diff.as_slice() {
        [_] => true,
        [i, j] => *j == i + 1 && da[*i] == db[*j] && da[*j] == db[*i],
        _ => false,
    }
}

fn simple<T: PartialEq>(a: T, b: T, none: T) -> u8 {
    if a == none || b == none {
        0
    } else if a == b {
        1
    } else {
        2
    }
}

fn compare_place(a: &Rec, b: &Rec) -> u8 {
    if a.county != 0 && a.county == b.county {
        return PlaceLevel::SameCounty as u8;
    }
    if a.province != 0 && a.province == b.province {
        return PlaceLevel::SameProvince as u8;
    }
    let known = |r: &Rec| r.county != 0 || r.province != 0;
    if !known(a) || !known(b) {
        return 0;
    }
    // Different counties but one side has no province: the county decides only if both have it.
    if (a.county == 0 || b.county == 0) && (a.province == 0 || b.province == 0) {
        return 0;
    }
    PlaceLevel::Different as u8
}

/// The evidence of a pair.
pub(crate) fn compare(a: &Rec, b: &Rec, names: &Names) -> Evidence {
    let mut first = compare_name(a.first, a.first_ph, b.first, b.first_ph, names);
    let mut last = compare_name(a.last, a.last_ph, b.last, b.last_ph, names);
    // Swapped: first and last name explain each other better crosswise (typos allowed).
    let direct = first.max(last);
    if direct >= NAME_EDIT1 && first != 0 && last != 0 {
        let cross_first = compare_name(a.first, a.first_ph, b.last, b.last_ph, names);
        if cross_first <= NAME_EDIT1 && cross_first < direct {
            let cross_last = compare_name(a.last, a.last_ph, b.first, b.first_ph, names);
            if cross_last <= NAME_EDIT1 && cross_first.max(cross_last) < direct {
                first = NAME_SWAPPED;
                last = NAME_SWAPPED;
            }
        }
    }
    // Names split differently (a compound first name written apart in one list and together in
    // the other, a full-name column in the other order): the whole names may still agree.
    let poor = |l: u8| l >= NAME_EDIT2 && l != NAME_SWAPPED;
    if (poor(first) || poor(last)) && a.whole != 0 && b.whole != 0 {
        match whole_names_agree(a, b, names) {
            1 => {
                first = NAME_PHONETIC;
                last = NAME_PHONETIC;
            }
            2 => {
                first = NAME_EDIT1;
                last = NAME_PHONETIC;
            }
            _ => {}
        }
    }
    let mut father = compare_name(a.father, a.father_ph, b.father, b.father_ph, names);
    if father == NAME_DIFFERENT {
        father = FATHER_DIFFERENT;
    }
    let mut code = compare_code(a, b);
    if code == CODE_EQUAL && household_members(a, b, first, names) {
        code = CODE_HOUSEHOLD;
    }
    Evidence([
        code,
        first,
        last,
        father,
        compare_birth(a.birth, b.birth),
        simple(a.gender, b.gender, 0),
        simple(a.phone, b.phone, 0),
        compare_place(a, b),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(valid: Option<u64>, raw: Option<u64>) -> Rec {
        Rec {
            code: valid.unwrap_or(NONE),
            raw: raw.unwrap_or(NONE),
            ..Default::default()
        }
    }

    #[test]
    fn code_levels() {
        let v = |n| code(Some(n), None);
        let r = |n| code(None, Some(n));
        assert_eq!(compare_code(&v(10350829), &v(10350829)), CODE_EQUAL);
        assert_eq!(compare_code(&v(10350829), &r(10350828)), CODE_ONE_DIGIT);
        assert_eq!(
            compare_code(&v(1234567891), &r(1234567819)),
            CODE_TRANSPOSED
        );
        assert_eq!(
            compare_code(&v(1234567891), &r(2134567891)),
            CODE_TRANSPOSED
        );
        assert_eq!(compare_code(&v(10350829), &r(10351111)), CODE_DIFFERENT);
        assert_eq!(compare_code(&v(10350829), &v(1595784438)), CODE_VETO);
        assert_eq!(compare_code(&code(None, None), &v(10350829)), 0);
    }

    #[test]
    fn birth_levels() {
        let p = |y: u16, m: u8, d: u8| {
            Birth {
                year: y,
                month: m,
                day: d,
            }
            .packed()
        };
        assert_eq!(compare_birth(p(1360, 5, 12), p(1360, 5, 12)), BIRTH_EXACT);
        assert_eq!(
            compare_birth(p(1360, 5, 12), p(1360, 12, 5)),
            BirthLevel::DayMonthSwapped as u8
        );
        assert_eq!(
            compare_birth(p(1360, 5, 12), p(1361, 5, 12)),
            BirthLevel::OnePartOff as u8
        );
        assert_eq!(
            compare_birth(p(1360, 5, 12), p(1360, 5, 14)),
            BirthLevel::OnePartOff as u8
        );
        assert_eq!(
            compare_birth(p(1360, 0, 0), p(1360, 5, 12)),
            BirthLevel::YearOnly as u8
        );
        assert_eq!(
            compare_birth(p(1360, 1, 1), p(1360, 5, 12)),
            BirthLevel::YearOnly as u8
        );
        assert_eq!(
            compare_birth(p(1360, 5, 12), p(1371, 9, 1)),
            BirthLevel::Different as u8
        );
        assert_eq!(
            compare_birth(p(1367, 5, 12), p(1376, 5, 12)),
            BirthLevel::OnePartOff as u8
        );
        assert_eq!(
            compare_birth(p(1393, 9, 23), p(1347, 9, 23)),
            BirthLevel::Different as u8
        );
        assert_eq!(compare_birth(0, p(1371, 9, 1)), 0);
    }

    #[test]
    fn edit_distance() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(osa_within(&c("زهرا"), &c("زهره"), 2), 1);
        assert_eq!(osa_within(&c("مریم"), &c("مریمم"), 2), 1);
        assert_eq!(osa_within(&c("مریم"), &c("مرمی"), 2), 1);
        assert_eq!(osa_within(&c("مریم"), &c("فاطمه"), 2), 3);
        assert_eq!(osa_within(&c("abcdef"), &c("abdcfe"), 2), 2);
        let long: Vec<char> = "a".repeat(40).chars().collect();
        let mut other = long.clone();
        other[3] = 'b';
        assert_eq!(osa_within(&long, &other, 2), 1);
        assert_eq!(osa_within(&c("abc"), &c(""), 2), 3);
    }

    #[test]
    fn name_levels_and_swap() {
        let mut names = Names::default();
        let mut rec = |first: &str, last: &str| {
            let f = names.intern(&hamdeli_text::name_key(first));
            let l = names.intern(&hamdeli_text::name_key(last));
            (f, l)
        };
        let (zahra, ahmadi) = rec("زهرا", "احمدی");
        let (zahra_ar, ahmadi2) = rec("زهرا", "احمدي");
        let (zohre, _) = rec("زهره", "احمدی");
        let (tahere, _) = rec("طاهره", "احمدی");
        let (tahere2, _) = rec("تاهره", "احمدی");
        assert_eq!(zahra, zahra_ar);
        assert_eq!(ahmadi, ahmadi2);
        let r = |f: crate::record::NameId, l: crate::record::NameId| Rec {
            first: f.0,
            first_ph: names.phonetic(f).0,
            last: l.0,
            last_ph: names.phonetic(l).0,
            code: NONE,
            raw: NONE,
            ..Default::default()
        };
        let e = compare(&r(zahra, ahmadi), &r(zahra, ahmadi), &names);
        assert_eq!(e.first_name(), NameLevel::Exact);
        assert_eq!(
            compare(&r(tahere, ahmadi), &r(tahere2, ahmadi), &names).first_name(),
            NameLevel::Phonetic
        );
        assert_eq!(
            compare(&r(zahra, ahmadi), &r(zohre, ahmadi), &names).first_name(),
            NameLevel::Edit1
        );
        let swapped = compare(&r(zahra, ahmadi), &r(ahmadi, zahra), &names);
        assert_eq!(
            (swapped.first_name(), swapped.last_name()),
            (NameLevel::Swapped, NameLevel::Swapped)
        );
        assert_eq!(swapped.codes()[1], "first_name.swapped");
    }
}
