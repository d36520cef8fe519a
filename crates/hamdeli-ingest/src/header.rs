//! Which column is which: canonical English names or the Persian headers offices use (the alias
//! table [`ALIASES`]), matched on a header key so Arabic/Persian letter variants, ZWNJ, spacing
//! and punctuation differences agree. Also where the header is in a real office sheet
//! ([`locate_header`]): below title rows and blank rows, on one row or two (a merged group cell
//! over its sub-headers).

use std::collections::HashMap;
use std::sync::LazyLock;

use hamdeli_text::name_key;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    SourceId,
    NationalCode,
    FirstName,
    LastName,
    FullName,
    FatherName,
    BirthDate,
    Gender,
    Phone,
    Province,
    County,
    Address,
    /// The relation to the head of household («نسبت با سرپرست»): kept as an attribute, and part
    /// of a row's identity when the list has no id column.
    Relation,
    /// A row counter («ردیف»): never an identity, not stored.
    RowNumber,
    /// The household a row belongs to («شماره خانوار», «کد خانوار»): rows of one household
    /// share it.
    HouseholdId,
    /// How many people the household has («بعد خانوار», «تعداد اعضا»).
    HouseholdSize,
    /// How many of them the head supports («تعداد افراد تحت تکفل»).
    Dependants,
    /// Urban or rural («شهری/روستایی», «منطقه»).
    Zone,
    /// Why a woman heads the household («علت سرپرستی»).
    FemaleHeadReason,
    /// Monthly income in rials («درآمد ماهانه»).
    MonthlyIncome,
    /// Monthly income in tomans (the header says «تومان»).
    MonthlyIncomeTomans,
    /// The household's income decile, 1 (poorest) … 10 («دهک»).
    IncomeDecile,
    /// A disability in the household («معلولیت»): yes/no or what it is.
    Disability,
    /// A chronic or special illness in the household («بیماری خاص»).
    ChronicIllness,
    /// A member lost to COVID-19 («فوت بر اثر کرونا»).
    BereavedByCovid,
    /// The programme a piece of support came from («طرح», «برنامه»).
    Programme,
    /// The kind of support («نوع کمک»): a need type.
    SupportKind,
    /// The amount of a piece of support in rials («مبلغ»).
    Amount,
    /// The amount in tomans (the header says «تومان»).
    AmountTomans,
    /// When the support was received («تاریخ دریافت»).
    SupportDate,
}

/// Whose value a column holds: the row's own person, or the head of the household on a list of
/// household members («کد ملی سرپرست خانوار»). A person's own column wins over the head's when
/// both are in a file.
pub type Rank = u8;
const OWN: Rank = 0;
const HEAD: Rank = 1;

/// Every header recognised, with the field it names. Matched by [`header_key`]: letter variants
/// (ي/ی, ك/ک), ZWNJ, spaces, hyphens, brackets and case do not matter.
pub const ALIASES: &[(Field, Rank, &str)] = &[
    (Field::SourceId, OWN, "source_id"),
    (Field::SourceId, OWN, "id"),
    (Field::SourceId, OWN, "شناسه"),
    (Field::SourceId, OWN, "شناسه یکتا"),
    (Field::SourceId, OWN, "شناسه پرونده"),
    (Field::SourceId, OWN, "کد پرونده"),
    (Field::SourceId, OWN, "شماره پرونده"),
    (Field::SourceId, OWN, "کد"),
    (Field::RowNumber, OWN, "ردیف"),
    (Field::RowNumber, OWN, "شماره ردیف"),
    (Field::RowNumber, OWN, "row"),
    (Field::RowNumber, OWN, "row_number"),
    (Field::RowNumber, OWN, "no"),
    (Field::RowNumber, OWN, "no."),
    (Field::RowNumber, OWN, "#"),
    (Field::RowNumber, OWN, "sr"),
    (Field::NationalCode, OWN, "national_code"),
    (Field::NationalCode, OWN, "national id"),
    (Field::NationalCode, OWN, "کد ملی"),
    (Field::NationalCode, OWN, "کدملی"),
    (Field::NationalCode, OWN, "شماره ملی"),
    (Field::NationalCode, OWN, "کد ملی مددجو"),
    (Field::NationalCode, OWN, "کد ملی متقاضی"),
    (Field::NationalCode, HEAD, "کد ملی سرپرست"),
    (Field::NationalCode, HEAD, "کد ملی سرپرست خانوار"),
    (Field::NationalCode, HEAD, "شماره ملی سرپرست"),
    (Field::FirstName, OWN, "first_name"),
    (Field::FirstName, OWN, "first name"),
    (Field::FirstName, OWN, "نام"),
    (Field::FirstName, OWN, "نام کوچک"),
    (Field::FirstName, OWN, "نام مددجو"),
    (Field::FirstName, HEAD, "نام سرپرست"),
    (Field::FirstName, HEAD, "نام سرپرست خانوار"),
    (Field::LastName, OWN, "last_name"),
    (Field::LastName, OWN, "last name"),
    (Field::LastName, OWN, "surname"),
    (Field::LastName, OWN, "نام خانوادگی"),
    (Field::LastName, OWN, "فامیلی"),
    (Field::LastName, OWN, "نام فامیل"),
    (Field::LastName, HEAD, "نام خانوادگی سرپرست"),
    (Field::LastName, HEAD, "نام خانوادگی سرپرست خانوار"),
    (Field::FullName, OWN, "full_name"),
    (Field::FullName, OWN, "full name"),
    (Field::FullName, OWN, "نام و نام خانوادگی"),
    (Field::FullName, OWN, "نام کامل"),
    (Field::FullName, OWN, "نام و نام خانوادگی مددجو"),
    (Field::FullName, OWN, "نام و فامیل"),
    (Field::FullName, OWN, "نام و فامیلی"),
    (Field::FullName, OWN, "اسم و فامیل"),
    (Field::FullName, OWN, "نام و نام خانوادگی متقاضی"),
    (Field::FullName, OWN, "نام و نام خانوادگی فرد"),
    (Field::FullName, OWN, "نام و نام خانوادگی عضو"),
    (Field::FullName, OWN, "نام خانوادگی و نام"),
    (Field::FullName, OWN, "نام خانوادگی، نام"),
    (Field::FullName, OWN, "نام خانوادگی - نام"),
    (Field::FullName, OWN, "fullname"),
    (Field::FullName, OWN, "name and surname"),
    (Field::FullName, HEAD, "نام و نام خانوادگی سرپرست"),
    (Field::FullName, HEAD, "نام و نام خانوادگی سرپرست خانوار"),
    (Field::FatherName, OWN, "father_name"),
    (Field::FatherName, OWN, "نام پدر"),
    (Field::BirthDate, OWN, "birth_date"),
    (Field::BirthDate, OWN, "date of birth"),
    (Field::BirthDate, OWN, "تاریخ تولد"),
    (Field::BirthDate, OWN, "تاریخ تولد (شمسی)"),
    (Field::BirthDate, OWN, "تاریخ تولد شمسی"),
    (Field::BirthDate, OWN, "تاریخ تولد (میلادی)"),
    (Field::BirthDate, HEAD, "تاریخ تولد سرپرست"),
    (Field::Gender, OWN, "gender"),
    (Field::Gender, OWN, "جنسیت"),
    (Field::Gender, OWN, "جنس"),
    (Field::Phone, OWN, "phone"),
    (Field::Phone, OWN, "mobile"),
    (Field::Phone, OWN, "تلفن همراه"),
    (Field::Phone, OWN, "موبایل"),
    (Field::Phone, OWN, "شماره موبایل"),
    (Field::Phone, OWN, "شماره همراه"),
    (Field::Phone, OWN, "شماره تلفن همراه"),
    (Field::Phone, OWN, "همراه"),
    (Field::Phone, OWN, "تلفن"),
    (Field::Phone, OWN, "شماره تماس"),
    (Field::Phone, OWN, "تلفن تماس"),
    (Field::Phone, HEAD, "شماره موبایل سرپرست"),
    (Field::Phone, HEAD, "تلفن همراه سرپرست"),
    (Field::Province, OWN, "province"),
    (Field::Province, OWN, "استان"),
    (Field::Province, OWN, "استان محل سکونت"),
    (Field::County, OWN, "county"),
    (Field::County, OWN, "شهرستان"),
    (Field::County, OWN, "شهر"),
    (Field::County, OWN, "شهرستان محل سکونت"),
    (Field::Address, OWN, "address"),
    (Field::Address, OWN, "نشانی"),
    (Field::Address, OWN, "آدرس"),
    (Field::Address, OWN, "نشانی محل سکونت"),
    (Field::Address, OWN, "آدرس محل سکونت"),
    (Field::Relation, OWN, "relation"),
    (Field::Relation, OWN, "relation_to_head"),
    (Field::Relation, OWN, "نسبت"),
    (Field::Relation, OWN, "نسبت با سرپرست"),
    (Field::Relation, OWN, "نسبت با سرپرست خانوار"),
    (Field::Relation, OWN, "نسبت خانوادگی"),
    (Field::Relation, OWN, "نسبت فرد با سرپرست"),
    (Field::Relation, OWN, "نسبت با سرپرست خانواده"),
    (Field::Relation, OWN, "نسبت خانوادگی با سرپرست"),
    (
        Field::Relation,
        OWN,
        "نسبت با سرپرست خانوار (خود، همسر، فرزند)",
    ),
    (Field::Relation, OWN, "نوع نسبت"),
    (Field::Relation, OWN, "سمت در خانوار"),
    (Field::Relation, OWN, "سمت در خانواده"),
    (Field::Relation, OWN, "relationship"),
    (Field::Relation, OWN, "relation to head"),
    (Field::Relation, OWN, "relationship to head"),
    (Field::HouseholdId, OWN, "household_id"),
    (Field::HouseholdId, OWN, "household"),
    (Field::HouseholdId, OWN, "شماره خانوار"),
    (Field::HouseholdId, OWN, "کد خانوار"),
    (Field::HouseholdId, OWN, "شناسه خانوار"),
    (Field::HouseholdId, OWN, "شماره پرونده خانوار"),
    (Field::HouseholdSize, OWN, "household_size"),
    (Field::HouseholdSize, OWN, "بعد خانوار"),
    (Field::HouseholdSize, OWN, "تعداد اعضا"),
    (Field::HouseholdSize, OWN, "تعداد اعضای خانوار"),
    (Field::HouseholdSize, OWN, "تعداد افراد خانوار"),
    (Field::Dependants, OWN, "dependants"),
    (Field::Dependants, OWN, "تعداد افراد تحت تکفل"),
    (Field::Dependants, OWN, "افراد تحت تکفل"),
    (Field::Dependants, OWN, "تعداد تحت تکفل"),
    (Field::Zone, OWN, "zone"),
    (Field::Zone, OWN, "urban_rural"),
    (Field::Zone, OWN, "شهری/روستایی"),
    (Field::Zone, OWN, "شهری یا روستایی"),
    (Field::Zone, OWN, "منطقه"),
    (Field::Zone, OWN, "محل سکونت (شهری/روستایی)"),
    (Field::Zone, OWN, "نوع منطقه"),
    (Field::FemaleHeadReason, OWN, "female_head_reason"),
    (Field::FemaleHeadReason, OWN, "علت سرپرستی"),
    (Field::FemaleHeadReason, OWN, "علت سرپرستی خانوار"),
    (Field::FemaleHeadReason, OWN, "دلیل سرپرستی"),
    (Field::FemaleHeadReason, OWN, "نوع سرپرستی"),
    (Field::MonthlyIncome, OWN, "monthly_income"),
    (Field::MonthlyIncome, OWN, "income"),
    (Field::MonthlyIncome, OWN, "درآمد ماهانه"),
    (Field::MonthlyIncome, OWN, "درآمد ماهیانه"),
    (Field::MonthlyIncome, OWN, "درآمد ماهانه (ریال)"),
    (Field::MonthlyIncome, OWN, "درآمد"),
    (Field::MonthlyIncomeTomans, OWN, "monthly_income_tomans"),
    (Field::MonthlyIncomeTomans, OWN, "درآمد ماهانه (تومان)"),
    (Field::MonthlyIncomeTomans, OWN, "درآمد ماهانه به تومان"),
    (Field::IncomeDecile, OWN, "income_decile"),
    (Field::IncomeDecile, OWN, "decile"),
    (Field::IncomeDecile, OWN, "دهک"),
    (Field::IncomeDecile, OWN, "دهک درآمدی"),
    (Field::IncomeDecile, OWN, "دهک درآمد"),
    (Field::Disability, OWN, "disability"),
    (Field::Disability, OWN, "معلولیت"),
    (Field::Disability, OWN, "نوع معلولیت"),
    (Field::Disability, OWN, "دارای معلولیت"),
    (Field::ChronicIllness, OWN, "chronic_illness"),
    (Field::ChronicIllness, OWN, "بیماری خاص"),
    (Field::ChronicIllness, OWN, "بیماری مزمن"),
    (Field::ChronicIllness, OWN, "بیماری خاص یا مزمن"),
    (Field::BereavedByCovid, OWN, "bereaved_by_covid"),
    (Field::BereavedByCovid, OWN, "فوت بر اثر کرونا"),
    (Field::BereavedByCovid, OWN, "فوتی کرونا"),
    (Field::BereavedByCovid, OWN, "فوت عضو خانوار بر اثر کرونا"),
    (Field::Programme, OWN, "programme"),
    (Field::Programme, OWN, "program"),
    (Field::Programme, OWN, "طرح"),
    (Field::Programme, OWN, "برنامه"),
    (Field::Programme, OWN, "نام طرح"),
    (Field::Programme, OWN, "طرح حمایتی"),
    (Field::SupportKind, OWN, "support_kind"),
    (Field::SupportKind, OWN, "kind"),
    (Field::SupportKind, OWN, "نوع کمک"),
    (Field::SupportKind, OWN, "نوع حمایت"),
    (Field::SupportKind, OWN, "نوع خدمت"),
    (Field::Amount, OWN, "amount"),
    (Field::Amount, OWN, "amount_rials"),
    (Field::Amount, OWN, "مبلغ"),
    (Field::Amount, OWN, "مبلغ (ریال)"),
    (Field::Amount, OWN, "مبلغ به ریال"),
    (Field::Amount, OWN, "مبلغ کمک"),
    (Field::Amount, OWN, "مبلغ پرداختی"),
    (Field::AmountTomans, OWN, "amount_tomans"),
    (Field::AmountTomans, OWN, "مبلغ (تومان)"),
    (Field::AmountTomans, OWN, "مبلغ به تومان"),
    (Field::AmountTomans, OWN, "مبلغ کمک (تومان)"),
    (Field::SupportDate, OWN, "support_date"),
    (Field::SupportDate, OWN, "date_received"),
    (Field::SupportDate, OWN, "تاریخ دریافت"),
    (Field::SupportDate, OWN, "تاریخ پرداخت"),
    (Field::SupportDate, OWN, "تاریخ کمک"),
    (Field::SupportDate, OWN, "تاریخ تحویل"),
];

/// A header as it is matched: letters folded as names are ([`name_key`]: Arabic yeh/kaf, ZWNJ,
/// spaces and hyphens), ASCII lower-cased, brackets, colons, dots, stars and underscores
/// dropped. A header of punctuation only («#») is kept as written.
pub fn header_key(header: &str) -> String {
    let trimmed = header.trim().trim_start_matches('\u{feff}').trim();
    let letters: String = trimmed
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '\u{200C}' {
                c.to_ascii_lowercase()
            } else {
                ' '
            }
        })
        .collect();
    let key = name_key(&letters);
    if key.is_empty() {
        trimmed.to_owned()
    } else {
        key
    }
}

/// An amount or income header the table does not spell out: «مبلغ …» or «درآمد …» in tomans
/// when it says «تومان» (else in rials when it says «ریال»).
fn money_header(key: &str) -> Option<Field> {
    static WORDS: LazyLock<[String; 6]> =
        LazyLock::new(|| ["مبلغ", "درآمد", "تومان", "ریال", "amount", "income"].map(header_key));
    let [amount, income, toman, rial, amount_en, income_en] = &*WORDS;
    let tomans = key.contains(toman.as_str()) || key.contains("toman");
    let rials = key.contains(rial.as_str()) || key.contains("rial");
    if key.contains(amount.as_str()) || key.contains(amount_en.as_str()) {
        return if tomans {
            Some(Field::AmountTomans)
        } else if rials {
            Some(Field::Amount)
        } else {
            None
        };
    }
    if key.contains(income.as_str()) || key.contains(income_en.as_str()) {
        return if tomans {
            Some(Field::MonthlyIncomeTomans)
        } else if rials {
            Some(Field::MonthlyIncome)
        } else {
            None
        };
    }
    None
}

static ALIAS_KEYS: LazyLock<HashMap<String, (Field, Rank)>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for &(field, rank, alias) in ALIASES {
        map.entry(header_key(alias)).or_insert((field, rank));
    }
    map
});

impl Field {
    pub const ALL: [Field; 30] = [
        Field::SourceId,
        Field::NationalCode,
        Field::FirstName,
        Field::LastName,
        Field::FullName,
        Field::FatherName,
        Field::BirthDate,
        Field::Gender,
        Field::Phone,
        Field::Province,
        Field::County,
        Field::Address,
        Field::Relation,
        Field::RowNumber,
        Field::HouseholdId,
        Field::HouseholdSize,
        Field::Dependants,
        Field::Zone,
        Field::FemaleHeadReason,
        Field::MonthlyIncome,
        Field::MonthlyIncomeTomans,
        Field::IncomeDecile,
        Field::Disability,
        Field::ChronicIllness,
        Field::BereavedByCovid,
        Field::Programme,
        Field::SupportKind,
        Field::Amount,
        Field::AmountTomans,
        Field::SupportDate,
    ];

    pub fn canonical(self) -> &'static str {
        match self {
            Field::SourceId => "source_id",
            Field::NationalCode => "national_code",
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::FullName => "full_name",
            Field::FatherName => "father_name",
            Field::BirthDate => "birth_date",
            Field::Gender => "gender",
            Field::Phone => "phone",
            Field::Province => "province",
            Field::County => "county",
            Field::Address => "address",
            Field::Relation => "relation",
            Field::RowNumber => "row_number",
            Field::HouseholdId => "household_id",
            Field::HouseholdSize => "household_size",
            Field::Dependants => "dependants",
            Field::Zone => "zone",
            Field::FemaleHeadReason => "female_head_reason",
            Field::MonthlyIncome => "monthly_income",
            Field::MonthlyIncomeTomans => "monthly_income_tomans",
            Field::IncomeDecile => "income_decile",
            Field::Disability => "disability",
            Field::ChronicIllness => "chronic_illness",
            Field::BereavedByCovid => "bereaved_by_covid",
            Field::Programme => "programme",
            Field::SupportKind => "support_kind",
            Field::Amount => "amount",
            Field::AmountTomans => "amount_tomans",
            Field::SupportDate => "support_date",
        }
    }

    /// Whether the field is a household or support fact (kept typed beside the person's own
    /// fields, and as an attribute as written).
    pub fn is_fact(self) -> bool {
        (self as usize) >= (Field::HouseholdId as usize)
    }

    /// The field a header names, if any.
    pub fn recognise(header: &str) -> Option<Field> {
        Field::recognise_ranked(header).map(|(f, _)| f)
    }

    /// The field a header names and whose value it is (the person's own or the head's).
    pub fn recognise_ranked(header: &str) -> Option<(Field, Rank)> {
        let key = header_key(header);
        if key.is_empty() {
            return None;
        }
        ALIAS_KEYS
            .get(&key)
            .copied()
            .or_else(|| money_header(&key).map(|f| (f, OWN)))
    }
}

/// What a file column holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Column {
    Field(Field),
    /// Kept as an extra attribute under its header.
    Extra(String),
    /// A repeated header for a field already mapped: kept as an extra attribute too.
    Duplicate(String),
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ColumnMapping {
    /// The column headers as shown: a sub-header under a merged group reads «group / name».
    pub headers: Vec<String>,
    pub columns: Vec<Column>,
    /// Each column's header keys (its name and its group's), to tell a repeated header row.
    #[serde(skip)]
    keys: Vec<Vec<String>>,
    /// Columns holding the head of household's value rather than the row's own.
    #[serde(skip)]
    head: Vec<bool>,
    /// The first column holding the head of household's national code, mapped or not.
    #[serde(skip)]
    head_code: Option<usize>,
}

impl ColumnMapping {
    pub fn from_headers(headers: Vec<String>) -> ColumnMapping {
        let cells: Vec<(Option<String>, String)> = headers.into_iter().map(|h| (None, h)).collect();
        ColumnMapping::from_grouped(cells)
    }

    /// A mapping from (group, name) per column. Each field goes to the column naming it best (a
    /// person's own column before the head's, then the first); other columns naming it are
    /// duplicates, kept as attributes.
    fn from_grouped(cells: Vec<(Option<String>, String)>) -> ColumnMapping {
        let recognised: Vec<Option<(Field, Rank)>> = cells
            .iter()
            .map(|(group, name)| {
                Field::recognise_ranked(name).or_else(|| {
                    group
                        .as_ref()
                        .and_then(|g| Field::recognise_ranked(&format!("{g} {name}")))
                })
            })
            .collect();
        let mut best: HashMap<Field, (Rank, usize)> = HashMap::new();
        for (i, r) in recognised.iter().enumerate() {
            if let Some((f, rank)) = *r {
                let entry = best.entry(f).or_insert((rank, i));
                if rank < entry.0 {
                    *entry = (rank, i);
                }
            }
        }
        let mut headers = Vec::with_capacity(cells.len());
        let mut columns = Vec::with_capacity(cells.len());
        let mut keys = Vec::with_capacity(cells.len());
        let mut head = Vec::with_capacity(cells.len());
        let mut head_code = None;
        for (i, ((group, name), r)) in cells.into_iter().zip(recognised).enumerate() {
            let name = name.trim().to_owned();
            let label = match &group {
                Some(g) => format!("{} / {name}", g.trim()),
                None => name.clone(),
            };
            let attribute = if label.is_empty() {
                format!("column_{}", i + 1)
            } else {
                label.clone()
            };
            head.push(matches!(r, Some((_, rank)) if rank == HEAD));
            if head_code.is_none() && r == Some((Field::NationalCode, HEAD)) {
                head_code = Some(i);
            }
            columns.push(match r {
                Some((f, _)) if best.get(&f).map(|b| b.1) == Some(i) => Column::Field(f),
                Some(_) => Column::Duplicate(attribute),
                None => Column::Extra(attribute),
            });
            let mut k = vec![header_key(&name)];
            if let Some(g) = &group {
                k.push(header_key(g));
            }
            k.retain(|k| !k.is_empty());
            keys.push(k);
            headers.push(label);
        }
        ColumnMapping {
            headers,
            columns,
            keys,
            head,
            head_code,
        }
    }

    /// The column holding the head of household's national code («کد ملی سرپرست خانوار»),
    /// whether it is the list's code column or a duplicate beside the person's own.
    pub fn head_code_column(&self) -> Option<usize> {
        self.head_code
    }

    /// Whether column `i` holds the head of household's value («کد ملی سرپرست خانوار»).
    pub fn is_head_column(&self, i: usize) -> bool {
        self.head.get(i).copied().unwrap_or(false)
    }

    pub fn position(&self, field: Field) -> Option<usize> {
        self.columns.iter().position(|c| *c == Column::Field(field))
    }

    pub fn has(&self, field: Field) -> bool {
        self.position(field).is_some()
    }

    /// Fields recognised, the row counter not counted.
    pub fn known_fields(&self) -> usize {
        self.columns
            .iter()
            .filter(|c| matches!(c, Column::Field(f) if *f != Field::RowNumber))
            .count()
    }

    /// Whether a row repeats the header (a printed export repeats it on every page): at least
    /// two of its cells, or all of one or two, are their own column's header.
    pub fn is_header_row(&self, cells: &[String]) -> bool {
        let mut same = 0;
        let mut filled = 0;
        for (i, cell) in cells.iter().enumerate() {
            let key = header_key(cell);
            if cell.trim().is_empty() || key.is_empty() {
                continue;
            }
            filled += 1;
            if self.keys.get(i).is_some_and(|k| k.contains(&key)) {
                same += 1;
            }
        }
        same >= 2 || (same >= 1 && same == filled)
    }
}

/// Rows of a sheet's top searched for its header.
pub const HEADER_SCAN_ROWS: usize = 30;

/// Where the header is among the first rows of a sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderLayout {
    /// Index (in the rows given) of the header's first row.
    pub start: usize,
    /// 1, or 2 for a merged group row over a sub-header row.
    pub depth: usize,
    pub mapping: ColumnMapping,
}

fn blank(row: &[String]) -> bool {
    row.iter().all(|c| c.trim().is_empty())
}

/// Distinct fields a row of headers names (the row counter not counted).
fn score(names: &[(Option<String>, String)]) -> usize {
    let m = ColumnMapping::from_grouped(names.to_vec());
    m.known_fields()
}

fn single(row: &[String]) -> Vec<(Option<String>, String)> {
    row.iter().map(|c| (None, c.trim().to_owned())).collect()
}

/// A long run of digits (a national code, a phone number, an id) is data, not a header.
fn looks_like_data(row: &[String]) -> bool {
    row.iter().any(|c| {
        let mut run = 0;
        let mut longest = 0;
        for ch in c.chars() {
            if hamdeli_text::digit_value(ch).is_some() {
                run += 1;
                longest = longest.max(run);
            } else {
                run = 0;
            }
        }
        longest >= 6
    })
}

/// A merged group row over a sub-header row, as one row of (group, name) per column: a
/// sub-header names its column and the merged cell above it (or, for a merged cell, the nearest
/// filled cell to its left over a run of sub-headers) is its group; a column with no
/// sub-header is named by the upper cell (merged down).
fn flatten(upper: &[String], lower: &[String]) -> Vec<(Option<String>, String)> {
    let width = upper.len().max(lower.len());
    let cell = |row: &[String], i: usize| -> String {
        row.get(i).map(|c| c.trim().to_owned()).unwrap_or_default()
    };
    (0..width)
        .map(|i| {
            let (up, low) = (cell(upper, i), cell(lower, i));
            if low.is_empty() {
                return (None, up);
            }
            if !up.is_empty() {
                return (Some(up), low);
            }
            let mut j = i;
            while j > 0 {
                j -= 1;
                if cell(lower, j).is_empty() {
                    break;
                }
                let above = cell(upper, j);
                if !above.is_empty() {
                    return (Some(above), low);
                }
            }
            (None, low)
        })
        .collect()
}

/// Finds the header among a sheet's first rows: the row (or merged row pair) naming the most
/// known fields; title rows, merged titles and blank rows above it are passed over. A pair is
/// taken only when it names more fields than either of its rows alone and its lower row does
/// not look like data. `None` when no row names a known field.
pub fn locate_header(rows: &[Vec<String>]) -> Option<HeaderLayout> {
    let mut best: Option<(usize, usize, usize)> = None; // (score, start, depth)
    let better = |s: usize, start: usize, depth: usize, best: &Option<(usize, usize, usize)>| {
        match best {
            None => s > 0,
            // Higher score wins; at a tie the single row (then the earlier) stays.
            Some((bs, bstart, bdepth)) => {
                s > *bs || (s == *bs && (depth, start) < (*bdepth, *bstart))
            }
        }
    };
    let scan = rows.len().min(HEADER_SCAN_ROWS);
    let singles: Vec<usize> = rows[..scan]
        .iter()
        .map(|r| if blank(r) { 0 } else { score(&single(r)) })
        .collect();
    for i in 0..scan {
        if blank(&rows[i]) {
            continue;
        }
        if better(singles[i], i, 1, &best) {
            best = Some((singles[i], i, 1));
        }
        if i + 1 < rows.len() && !blank(&rows[i + 1]) && !looks_like_data(&rows[i + 1]) {
            let lower_single = if i + 1 < scan {
                singles[i + 1]
            } else {
                score(&single(&rows[i + 1]))
            };
            let s = score(&flatten(&rows[i], &rows[i + 1]));
            if s > singles[i] && s > lower_single && better(s, i, 2, &best) {
                best = Some((s, i, 2));
            }
        }
    }
    let (_, start, depth) = best?;
    let cells = if depth == 2 {
        flatten(&rows[start], &rows[start + 1])
    } else {
        single(&rows[start])
    };
    Some(HeaderLayout {
        start,
        depth,
        mapping: ColumnMapping::from_grouped(cells),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn every_alias_is_recognised_as_its_field() {
        for &(field, rank, alias) in ALIASES {
            assert_eq!(
                Field::recognise_ranked(alias),
                Some((field, rank)),
                "{alias}"
            );
            // Padded, with a BOM, upper-cased: the same.
            assert_eq!(
                Field::recognise(&format!("\u{feff} {} ", alias.to_uppercase())),
                Some(field),
                "{alias}"
            );
        }
    }

    #[test]
    fn letter_variants_zwnj_spacing_and_brackets_agree() {
        let cases = [
            (" National_Code ", Field::NationalCode),
            ("کد ملي", Field::NationalCode),
            ("كدملي", Field::NationalCode),
            ("کد‌ملی", Field::NationalCode),
            ("کد ملی سرپرست خانوار", Field::NationalCode),
            ("کدملی سرپرست‌خانوار", Field::NationalCode),
            ("كد ملي سرپرست خانوار:", Field::NationalCode),
            ("نام‌خانوادگی", Field::LastName),
            ("نام خانوادگي سرپرست", Field::LastName),
            ("نام و نام خانوادگی", Field::FullName),
            ("نام ونام‌خانوادگی", Field::FullName),
            ("نام", Field::FirstName),
            ("نام سرپرست", Field::FirstName),
            ("تاریخ تولد (شمسی)", Field::BirthDate),
            ("تاريخ تولد(شمسي)", Field::BirthDate),
            ("شماره موبایل", Field::Phone),
            ("شماره همراه", Field::Phone),
            ("تلفن همراه", Field::Phone),
            ("نسبت با سرپرست", Field::Relation),
            ("نسبت با سرپرست خانوار", Field::Relation),
            ("نسبت‌ با سرپرست‌خانوار:", Field::Relation),
            ("سمت در خانوار", Field::Relation),
            ("نسبت", Field::Relation),
            ("Relation", Field::Relation),
            ("نام خانوادگی، نام", Field::FullName),
            ("نام خانوادگی و نام", Field::FullName),
            ("نام و نام‌ خانوادگی", Field::FullName),
            ("نام و فامیل", Field::FullName),
            ("ردیف", Field::RowNumber),
            ("رديف", Field::RowNumber),
            ("No.", Field::RowNumber),
            ("#", Field::RowNumber),
            ("Row", Field::RowNumber),
            ("\u{feff}source_id", Field::SourceId),
            ("شناسه", Field::SourceId),
        ];
        for (header, field) in cases {
            assert_eq!(Field::recognise(header), Some(field), "{header}");
        }
        assert_eq!(Field::recognise("تعداد فرزندان"), None);
        assert_eq!(Field::recognise("فهرست مددجویان شهرستان ری"), None);
        assert_eq!(Field::recognise(""), None);
    }

    #[test]
    fn household_and_support_headers_name_their_fields() {
        let cases = [
            ("شهری/روستایی", Field::Zone),
            ("شهری / روستایی", Field::Zone),
            ("منطقه", Field::Zone),
            ("شهری یا روستایی", Field::Zone),
            ("zone", Field::Zone),
            ("شماره خانوار", Field::HouseholdId),
            ("کد خانوار", Field::HouseholdId),
            ("household_id", Field::HouseholdId),
            ("بعد خانوار", Field::HouseholdSize),
            ("تعداد اعضا", Field::HouseholdSize),
            ("تعداد افراد تحت تکفل", Field::Dependants),
            ("نسبت", Field::Relation),
            ("نسبت با سرپرست", Field::Relation),
            ("نسبت با سرپرست خانوار", Field::Relation),
            ("نسبت‌ با سرپرست‌خانوار:", Field::Relation),
            ("سمت در خانوار", Field::Relation),
            ("نسبت", Field::Relation),
            ("Relation", Field::Relation),
            ("نام خانوادگی، نام", Field::FullName),
            ("نام خانوادگی و نام", Field::FullName),
            ("نام و نام‌ خانوادگی", Field::FullName),
            ("نام و فامیل", Field::FullName),
            ("علت سرپرستی", Field::FemaleHeadReason),
            ("درآمد ماهانه", Field::MonthlyIncome),
            ("درآمد ماهانه (تومان)", Field::MonthlyIncomeTomans),
            ("دهک", Field::IncomeDecile),
            ("معلولیت", Field::Disability),
            ("بیماری خاص", Field::ChronicIllness),
            ("فوت بر اثر کرونا", Field::BereavedByCovid),
            ("طرح", Field::Programme),
            ("برنامه", Field::Programme),
            ("نوع کمک", Field::SupportKind),
            ("مبلغ", Field::Amount),
            ("مبلغ (ریال)", Field::Amount),
            ("مبلغ (تومان)", Field::AmountTomans),
            ("تاریخ دریافت", Field::SupportDate),
            // Headers the table does not spell out: the unit decides.
            ("مبلغ دریافتی (تومان)", Field::AmountTomans),
            ("مبلغ دریافتی به ریال", Field::Amount),
            ("درآمد خانوار (تومان)", Field::MonthlyIncomeTomans),
            ("میانگین درآمد (ریال)", Field::MonthlyIncome),
        ];
        for (header, field) in cases {
            assert_eq!(Field::recognise(header), Some(field), "{header}");
        }
        // An amount without its unit is no known column beyond the table's «مبلغ».
        assert_eq!(Field::recognise("مبلغ دریافتی"), None);
        for f in Field::ALL {
            assert_eq!(f.is_fact(), (f as usize) >= Field::HouseholdId as usize);
        }
        assert!(!Field::Relation.is_fact());
    }

    #[test]
    fn mapping_keeps_other_columns_as_extras() {
        let m =
            ColumnMapping::from_headers(row(&["نام", "کد ملی", "تعداد فرزندان", "name", "نام"]));
        assert_eq!(m.columns[0], Column::Field(Field::FirstName));
        assert_eq!(m.columns[2], Column::Extra("تعداد فرزندان".into()));
        assert_eq!(m.columns[4], Column::Duplicate("نام".into()));
        assert_eq!(m.position(Field::NationalCode), Some(1));
    }

    #[test]
    fn a_persons_own_code_beats_the_heads() {
        let m = ColumnMapping::from_headers(row(&[
            "کد ملی سرپرست خانوار",
            "نام",
            "کد ملی",
            "نسبت با سرپرست",
        ]));
        assert_eq!(m.position(Field::NationalCode), Some(2));
        assert_eq!(
            m.columns[0],
            Column::Duplicate("کد ملی سرپرست خانوار".into())
        );
        // Alone, the head's code is the list's code.
        let m = ColumnMapping::from_headers(row(&["کد ملی سرپرست خانوار", "نام سرپرست"]));
        assert_eq!(m.position(Field::NationalCode), Some(0));
        assert_eq!(m.position(Field::FirstName), Some(1));
    }

    #[test]
    fn title_rows_and_blank_rows_above_the_header_are_passed_over() {
        let rows = vec![
            row(&["فهرست زنان سرپرست خانوار شهرستان ری", "", ""]),
            row(&["", "", ""]),
            row(&["تاریخ: ۱۴۰۳/۰۱/۱۵"]),
            row(&["ردیف", "کد ملی", "نام", "نام خانوادگی"]),
            row(&["1", "0010350829", "زهرا", "احمدی"]),
        ];
        let l = locate_header(&rows).unwrap();
        assert_eq!((l.start, l.depth), (3, 1));
        assert_eq!(l.mapping.position(Field::RowNumber), Some(0));
        assert!(!l.mapping.has(Field::SourceId), "a row counter is no id");
    }

    #[test]
    fn a_two_level_header_is_flattened() {
        let rows = vec![
            row(&["فهرست مددجویان", "", "", "", "", "", ""]),
            row(&[
                "ردیف",
                "نام و نام خانوادگی",
                "",
                "کد ملی",
                "محل سکونت",
                "",
                "تلفن همراه",
            ]),
            row(&["", "نام", "نام خانوادگی", "", "استان", "شهرستان", ""]),
            row(&[
                "1",
                "زهرا",
                "احمدی",
                "0010350829",
                "تهران",
                "ری",
                "09121234567",
            ]),
        ];
        let l = locate_header(&rows).unwrap();
        assert_eq!((l.start, l.depth), (1, 2));
        let m = &l.mapping;
        assert_eq!(m.position(Field::FirstName), Some(1));
        assert_eq!(m.position(Field::LastName), Some(2));
        assert_eq!(m.position(Field::NationalCode), Some(3));
        assert_eq!(m.position(Field::Province), Some(4));
        assert_eq!(m.position(Field::County), Some(5));
        assert_eq!(m.position(Field::Phone), Some(6));
        assert_eq!(m.headers[5], "محل سکونت / شهرستان");
        assert!(m.is_header_row(&rows[2]), "the sub-header row repeated");
        assert!(!m.is_header_row(&rows[3]));
    }

    #[test]
    fn a_header_followed_by_data_is_one_row() {
        let rows = vec![
            row(&["کد ملی", "نام", "شهر"]),
            row(&["0010350829", "زهرا", "تهران"]),
        ];
        let l = locate_header(&rows).unwrap();
        assert_eq!((l.start, l.depth), (0, 1));
        assert_eq!(locate_header(&[row(&["a", "b"])]), None);
    }

    proptest! {
        #[test]
        fn header_detection_never_panics(
            rows in prop::collection::vec(prop::collection::vec(
                prop_oneof![".{0,12}", prop::sample::select(ALIASES.iter().map(|a| a.2.to_owned()).collect::<Vec<_>>())],
                0..8), 0..40)
        ) {
            if let Some(l) = locate_header(&rows) {
                prop_assert!(l.start + l.depth <= rows.len());
                prop_assert_eq!(l.mapping.headers.len(), l.mapping.columns.len());
            }
            for r in &rows {
                let _ = header_key(&r.concat());
            }
        }
    }
}
