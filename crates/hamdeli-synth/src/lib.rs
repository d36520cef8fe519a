//! A clearly **synthetic**, deterministic population for Hamdeli's demo and tests (issue 3 item 9).
//!
//! [`generate`] makes about [`SynthOptions::people`] people in households spread over Iran's
//! provinces and counties (weighted by the 1395 census population), about a fifth of them
//! female-headed, and the lists that organisations keep about them, with the noise real lists
//! have: the relief committee's pensions, the welfare organisation's female-head and disability
//! programmes (overlapping with relief: double coverage of the same kind), a charity's food
//! parcels (full names only, an XLSX file), the Red Crescent's hygiene packs (support lists say
//! the programme, the kind of support, the amount and the date), a county survey of female heads
//! of household (household id, zone, reason, dependants, decile, disability), several of whom
//! are in no organisation's list, and the household roster: every household, one row per member
//! with the household's id, the relation to the head and the household's facts (the demo's
//! households come from importing it).
//! [`write_files`] writes them as CSV/XLSX with `truth.csv` (which row is which person),
//! `households.csv` (the household reference data) and `population.csv`.
//!
//! The same options (seed included) give the same population and the same bytes. Nothing here
//! is real: names, national codes (valid check digits, random otherwise), phones and addresses
//! are drawn at random; organisation titles and every file say so.

pub mod geo;
mod lists;
pub mod names;
mod noise;
mod population;
mod rng;
mod write;

#[cfg(test)]
mod tests;

use std::fmt;

pub use geo::Geography;
pub use write::{FileManifest, ListManifest, Manifest, ProgrammeManifest, write_files};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthOptions {
    /// Number of people (exact).
    pub people: usize,
    /// Random seed: the same options give the same output.
    pub seed: u64,
    /// Counties whose office surveys its female heads of household: county codes (`2301`) or names
    /// (`تهران`, `Tehran`). Unknown names are ignored.
    pub survey_counties: Vec<String>,
    /// Share of households headed by a woman.
    pub female_head_share: f64,
    /// Share of households in rural zones (capital counties have fewer, the others more).
    pub rural_share: f64,
    /// Multiplier on every noise rate of the lists: 0 gives clean lists (no invalid rows either),
    /// 1 the default mess.
    pub noise: f64,
    /// The household patterns of real relief and charity lists (issue 18), off by default so
    /// the demo and the earlier figures stay as they were:
    ///
    /// - the relief committee writes the head's national code on about half of its households'
    ///   dependants' rows, with the relation to the head in Persian words under «نسبت با
    ///   سرپرست» (سرپرست، خود، همسر، زن، شوهر، فرزند، پسر، دختر، فرزند ۲، پدر، مادر …);
    /// - the welfare organisation lists a disabled child under the head's code, with «نسبت»;
    /// - the charity reaches three times as many households and writes mostly no national code,
    ///   a full name in either order (a fifth surname first, some «نام خانوادگی، نام» with a
    ///   comma), honorifics (سید، سیده، حاج، حاجیه، خانم، آقای، کربلایی، مشهدی), compound first
    ///   names apart or together («برات علی» / «براتعلی»), more typos, father's name and birth
    ///   date often missing;
    /// - rural compound first names («براتعلی»، «قربانعلی»، «ولی‌الله»، «فاطمه‌زهرا»…) are more
    ///   common.
    pub household_patterns: bool,
}

impl Default for SynthOptions {
    fn default() -> SynthOptions {
        SynthOptions {
            people: 100_000,
            seed: 1405,
            // Tehran and Eslamshahr (Tehran province), Isfahan (Isfahan province).
            survey_counties: vec!["2301".into(), "2310".into(), "1002".into()],
            female_head_share: 0.22,
            rural_share: 0.25,
            noise: 1.0,
            household_patterns: false,
        }
    }
}

/// The Jalali date the population is seen at (ages are counted to it): 1 Azar 1399.
pub const REFERENCE_DATE: JDate = JDate {
    year: 1399,
    month: 9,
    day: 1,
};

/// A Jalali (solar hijri) date. Displays as `yyyy/mm/dd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JDate {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl JDate {
    /// Whole years from `self` to [`REFERENCE_DATE`].
    pub fn age(&self) -> i32 {
        let r = REFERENCE_DATE;
        r.year - self.year - i32::from((self.month, self.day) > (r.month, r.day))
    }
}

impl fmt::Display for JDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}/{:02}/{:02}", self.year, self.month, self.day)
    }
}

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $code:literal / $fa:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            /// The stable code written to the files.
            pub fn code(self) -> &'static str {
                match self { $(Self::$v => $code),+ }
            }
            /// The Persian label.
            pub fn label_fa(self) -> &'static str {
                match self { $(Self::$v => $fa),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

code_enum!(
    /// A person's gender.
    Gender {
        Female = "female" / "زن",
        Male = "male" / "مرد",
    }
);

code_enum!(
    /// Relation to the head of household.
    Relation {
        Head = "head" / "سرپرست",
        Spouse = "spouse" / "همسر",
        Child = "child" / "فرزند",
        Parent = "parent" / "والدین",
        Other = "other" / "سایر",
    }
);

code_enum!(
    /// Why a woman heads her household.
    FemaleHeadReason {
        /// Husband died (see [`Household::bereaved_by_covid`]).
        Widowed = "widowed" / "همسر فوت‌شده",
        Divorced = "divorced" / "مطلقه",
        /// Husband away (migrant work, prison, missing).
        SpouseAbsent = "spouse_absent" / "همسر غایب",
        /// Husband at home but disabled or chronically ill.
        SpouseIncapacitated = "spouse_incapacitated" / "همسر از کار افتاده",
        NeverMarried = "never_married" / "هرگز ازدواج نکرده",
    }
);

code_enum!(
    /// Urban or rural zone of an address.
    Zone {
        Urban = "urban" / "شهری",
        Rural = "rural" / "روستایی",
    }
);

code_enum!(
    /// The kind of organisation that keeps a list.
    OrgKind {
        /// کمیته امداد
        Relief = "relief" / "کمیته امداد",
        /// سازمان بهزیستی
        Welfare = "welfare" / "سازمان بهزیستی",
        /// A charity (خیریه).
        Charity = "charity" / "خیریه",
        /// جمعیت هلال احمر
        RedCrescent = "red_crescent" / "جمعیت هلال احمر",
        /// A county office of women and family affairs (for its survey).
        WomenAffairs = "women_affairs" / "دفتر امور زنان و خانواده",
    }
);

code_enum!(
    /// What a list is.
    ListKind {
        /// People an organisation supports in a programme.
        Programme = "programme" / "طرح حمایتی",
        /// People a county office found in a survey (not supported by it).
        Survey = "survey" / "پیمایش",
        /// The reference population: every household, one row per member, with its facts.
        Reference = "reference" / "جمعیت مرجع",
    }
);

code_enum!(
    /// The kind of support a programme gives: the same kind from two organisations is double
    /// coverage.
    SupportKind {
        /// A monthly pension (مستمری).
        Pension = "pension" / "مستمری",
        /// Food parcels.
        Food = "food" / "سبد غذایی",
        /// Hygiene packs.
        Hygiene = "hygiene" / "بسته بهداشتی",
    }
);

/// One person.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    /// Valid, unique 10-digit national code (some start with zeros).
    pub national_code: String,
    pub first_name: String,
    pub last_name: String,
    pub father_name: String,
    pub birth_date: JDate,
    pub gender: Gender,
    /// `09xxxxxxxxx`, for most adults.
    pub mobile: Option<String>,
    /// Index into [`Population::households`].
    pub household: usize,
    pub relation: Relation,
    /// Descends from the Prophet through the father (honorific سید / سیده).
    pub sayyid: bool,
    pub disability: bool,
    pub chronic_illness: bool,
}

impl Person {
    /// Age at [`REFERENCE_DATE`].
    pub fn age(&self) -> i32 {
        self.birth_date.age()
    }
}

/// One household.
#[derive(Debug, Clone, PartialEq)]
pub struct Household {
    /// `H000001`, …
    pub household_ref: String,
    /// Index into [`Geography::provinces`].
    pub province: usize,
    /// Index into [`Geography::counties`].
    pub county: usize,
    pub zone: Zone,
    pub address: String,
    /// Landline with the province's area code.
    pub phone: String,
    /// Indices into [`Population::persons`], the head first.
    pub members: Vec<usize>,
    pub female_head: bool,
    pub reason: Option<FemaleHeadReason>,
    /// Members other than the head who are under 18, 65 or older, or disabled.
    pub dependants: u8,
    /// Some member is disabled.
    pub disability: bool,
    /// Some member has a chronic illness.
    pub chronic_illness: bool,
    /// Some member is 60 or older.
    pub elderly: bool,
    /// 1 (poorest) … 10.
    pub income_decile: u8,
    /// The household lost a member to COVID-19 (for widows: the husband).
    pub bereaved_by_covid: bool,
}

impl Household {
    pub fn head(&self) -> usize {
        self.members[0]
    }
}

/// How a list's header row is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HeaderStyle {
    /// `source_id,national_code,first_name,…`
    Canonical,
    /// `کد پرونده،کد ملی،نام،…`
    Persian,
}

/// A list's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// UTF-8 CSV (with a byte-order mark when `bom`).
    Csv {
        bom: bool,
    },
    Xlsx,
}

impl FileFormat {
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Csv { .. } => "csv",
            FileFormat::Xlsx => "xlsx",
        }
    }
}

/// A programme within a list (the `programme` column).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Programme {
    /// The code in canonical lists, e.g. `relief_pension`.
    pub code: &'static str,
    /// The label in Persian lists.
    pub label_fa: &'static str,
    pub support_kind: SupportKind,
}

/// A list as an organisation would export it.
#[derive(Debug, Clone, PartialEq)]
pub struct List {
    /// File stem, e.g. `relief_committee`.
    pub name: &'static str,
    /// Organisation's (synthetic) title in Persian.
    pub title_fa: &'static str,
    pub organisation: OrgKind,
    pub list_kind: ListKind,
    /// The kind of support of the list's main programme; `None` for a survey.
    pub support_kind: Option<SupportKind>,
    pub programmes: Vec<Programme>,
    pub header_style: HeaderStyle,
    pub format: FileFormat,
    /// Only a full-name column instead of first and last names.
    pub full_name_only: bool,
    /// Extra columns after the standard ones (names as written in the header).
    pub extra_columns: Vec<&'static str>,
    pub rows: Vec<ListRow>,
}

/// One row of a list: the cells as written (noise included) and the truth behind them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListRow {
    pub source_id: String,
    pub national_code: String,
    pub first_name: String,
    pub last_name: String,
    pub full_name: String,
    pub father_name: String,
    pub birth_date: String,
    pub gender: String,
    pub phone: String,
    pub province: String,
    pub county: String,
    pub address: String,
    /// Cells of [`List::extra_columns`].
    pub extra: Vec<String>,
    /// In an XLSX file, write the national code as a number (Excel drops its leading zeros).
    pub code_as_number: bool,
    /// The person the row is about (index into [`Population::persons`]); `None` for an invalid row.
    pub person: Option<usize>,
    /// Deliberately unusable: no names and a garbage national code; an import must reject it.
    pub invalid: bool,
}

/// Everything generated.
#[derive(Debug, Clone)]
pub struct Population {
    pub options: SynthOptions,
    pub geography: Geography,
    pub households: Vec<Household>,
    pub persons: Vec<Person>,
    /// Indices into [`Geography::counties`] of the surveyed counties.
    pub survey_counties: Vec<usize>,
    pub lists: Vec<List>,
}

impl Population {
    pub fn list(&self, name: &str) -> Option<&List> {
        self.lists.iter().find(|l| l.name == name)
    }

    pub fn household_of(&self, person: usize) -> &Household {
        &self.households[self.persons[person].household]
    }
}

/// Generates the population and its lists.
pub fn generate(options: &SynthOptions) -> Population {
    let geography = Geography::load();
    let (households, persons) = population::generate(options, &geography);
    let survey_counties: Vec<usize> = options
        .survey_counties
        .iter()
        .filter_map(|c| geography.find_county(c))
        .collect();
    let mut pop = Population {
        options: options.clone(),
        geography,
        households,
        persons,
        survey_counties,
        lists: Vec::new(),
    };
    pop.lists = lists::generate(&pop);
    pop
}

/// Errors writing the files.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    #[error("{0}: {1}")]
    Csv(String, csv::Error),
    #[error("{0}: {1}")]
    Xlsx(String, rust_xlsxwriter::XlsxError),
    #[error("manifest: {0}")]
    Json(serde_json::Error),
}

pub type Result<T> = std::result::Result<T, SynthError>;
