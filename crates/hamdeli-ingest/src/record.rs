//! From a row's cells to a typed, normalised record, or a rejection with its reason. Values are
//! kept as typed (trimmed) beside their matching keys; what is repaired or doubtful becomes a
//! warning on an accepted row, never a silent change.

use hamdeli_text::{
    NationalCode, ParsedDate, fold_digits, name_key, parse_date, parse_mobile, split_honorific,
};

use crate::facts::{self, RowFacts};
use crate::header::{Column, ColumnMapping, Field, header_key};
use crate::source::RawRow;

/// A row mapped to the canonical fields, as typed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InputRecord {
    pub row: u64,
    fields: [Option<String>; Field::ALL.len()],
    pub extra: Vec<(String, String)>,
    /// The head of household's national code from a head's column («کد ملی سرپرست خانوار»),
    /// as written.
    pub head_code: Option<String>,
}

impl InputRecord {
    pub fn get(&self, f: Field) -> Option<&str> {
        self.fields[f as usize].as_deref()
    }

    pub fn set(&mut self, f: Field, value: &str) {
        let v = value.trim();
        self.fields[f as usize] = if v.is_empty() {
            None
        } else {
            Some(v.to_owned())
        };
    }

    /// As [`set`](Self::set), keeping the cell's own string when it needs no trimming (most
    /// cells): no copy per cell when a row is mapped.
    fn set_owned(&mut self, f: Field, value: String) {
        let v = value.trim();
        self.fields[f as usize] = if v.is_empty() {
            None
        } else if v.len() == value.len() {
            Some(value)
        } else {
            Some(v.to_owned())
        };
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Female,
    Male,
}

impl Gender {
    pub fn parse(s: &str) -> Option<Gender> {
        let k = name_key(&fold_digits(s)).to_lowercase();
        match k.as_str() {
            "زن" | "خانم" | "مونث" | "f" | "female" | "2" | "woman" => {
                Some(Gender::Female)
            }
            "مرد" | "اقا" | "آقا" | "مذکر" | "m" | "male" | "1" | "man" => {
                Some(Gender::Male)
            }
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Female => "female",
            Gender::Male => "male",
        }
    }
}

/// An accepted row, typed and normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct CleanRecord {
    pub row: u64,
    pub source_id: String,
    /// Whether `source_id` was made from the row (national code, names, relation) because the
    /// file has no id column.
    pub id_derived: bool,
    /// A valid national code (10 ASCII digits).
    pub national_code: Option<String>,
    /// The digits of a code that did not validate, kept for matching one-digit-off typos.
    pub national_code_raw: Option<String>,
    pub honorific: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub father_name: Option<String>,
    pub first_key: Option<String>,
    pub last_key: Option<String>,
    pub father_key: Option<String>,
    pub birth: Option<ParsedDate>,
    pub gender: Option<Gender>,
    /// A mobile number as `09…`.
    pub phone: Option<String>,
    pub province: Option<String>,
    pub county: Option<String>,
    pub address: Option<String>,
    pub extra: Vec<(String, String)>,
    /// Household and support facts the row states.
    pub facts: RowFacts,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    pub field: Field,
    /// A stable dotted code, e.g. `national_code.padded`, `birth_date.unreadable`.
    pub code: &'static str,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reject {
    pub row: u64,
    pub code: &'static str,
    pub detail: String,
}

/// Maps a row's cells to fields; splits a full name when first and last names are absent.
pub fn map_row(mapping: &ColumnMapping, raw: RawRow) -> Result<InputRecord, Reject> {
    let cells = raw.cells.map_err(|e| Reject {
        row: raw.row,
        code: "row.unreadable",
        detail: e,
    })?;
    let mut rec = InputRecord {
        row: raw.row,
        ..Default::default()
    };
    let mut head_values = Vec::new();
    let head_code_column = mapping.head_code_column();
    for (i, cell) in cells.into_iter().enumerate() {
        if head_code_column == Some(i) && !cell.trim().is_empty() {
            rec.head_code = Some(cell.trim().to_owned());
        }
        match mapping.columns.get(i) {
            // A row counter is not kept.
            Some(Column::Field(Field::RowNumber)) => {}
            // Household and support facts: typed by `validate`, and kept as written.
            Some(Column::Field(f)) if f.is_fact() => {
                if !cell.trim().is_empty() {
                    rec.extra
                        .push((mapping.headers[i].clone(), cell.trim().to_owned()));
                }
                rec.set_owned(*f, cell);
            }
            Some(Column::Field(Field::Relation)) => {
                if !cell.trim().is_empty() {
                    rec.extra
                        .push((mapping.headers[i].clone(), cell.trim().to_owned()));
                }
                rec.set_owned(Field::Relation, cell);
            }
            Some(Column::Field(f)) => {
                if mapping.is_head_column(i) {
                    head_values.push((*f, i));
                }
                rec.set_owned(*f, cell)
            }
            Some(Column::Extra(name) | Column::Duplicate(name)) if !cell.trim().is_empty() => {
                rec.extra.push((name.clone(), cell.trim().to_owned()));
            }
            Some(_) => {}
            None if !cell.trim().is_empty() => rec
                .extra
                .push((format!("column_{}", i + 1), cell.trim().to_owned())),
            None => {}
        }
    }
    // On a list of household members the head's code, name or phone on a member's row is not
    // the member's own: it is kept as an attribute under its header.
    if rec
        .get(Field::Relation)
        .is_some_and(|r| !is_head_relation(r))
    {
        for (f, i) in head_values {
            if let Some(v) = rec.fields[f as usize].take() {
                rec.extra.push((mapping.headers[i].clone(), v));
            }
        }
    }
    if rec.get(Field::FirstName).is_none()
        && rec.get(Field::LastName).is_none()
        && let Some(full) = rec.get(Field::FullName).map(str::to_owned)
    {
        // Either order («نام خانوادگی، نام» with a comma), honorifics in front, compound first
        // names apart or together: read as the linkage engine reads them.
        let parts = hamdeli_link::parse_full_name(&full);
        let honorific: String = parts.honorifics.iter().map(|h| format!("{h} ")).collect();
        rec.set(Field::FirstName, &format!("{honorific}{}", parts.first));
        rec.set(Field::LastName, &parts.last);
    }
    Ok(rec)
}

/// A relation to the head that is the head («سرپرست», «خود»).
fn is_head_relation(relation: &str) -> bool {
    if facts::parse_relation(relation) == Some("head")
        || hamdeli_link::Relation::parse(relation) == Some(hamdeli_link::Relation::Head)
    {
        return true;
    }
    let k = header_key(relation);
    [
        "سرپرست",
        "سرپرستخانوار",
        "خود",
        "خودش",
        "خودسرپرست",
        "head",
        "self",
    ]
    .iter()
    .any(|h| *h == k)
}

/// Cells a totals row carries («جمع», «جمع کل:», «مجموع», Total).
fn is_totals_marker(cell: &str) -> bool {
    let k = header_key(cell);
    [
        "جمع",
        "جمعکل",
        "جمعنهایی",
        "مجموع",
        "مجموعکل",
        "total",
        "sum",
        "grandtotal",
    ]
    .iter()
    .any(|t| *t == k)
}

/// Cells a footer starts with (who prepared and signed the list).
fn is_footer_marker(cell: &str) -> bool {
    let k = header_key(cell);
    [
        "تهیهکننده",
        "تنظیمکننده",
        "تاییدکننده",
        "تأییدکننده",
        "امضا",
        "مهروامضا",
        "محلامضا",
    ]
    .iter()
    .any(|t| k.starts_with(&header_key(t)))
}

/// Why a row is passed over rather than read as a person, if it is: a repeated header row, a
/// totals row («جمع», «جمع کل», «مجموع»), a footer (who prepared or signed the list) or a row of
/// formulas, each with no identity of its own (no national code, no name but the marker).
pub fn skip_reason(mapping: &ColumnMapping, raw: &RawRow) -> Option<Reject> {
    let cells = raw.cells.as_ref().ok()?;
    let skip = |code: &'static str, detail: &str| {
        Some(Reject {
            row: raw.row,
            code,
            detail: detail.to_owned(),
        })
    };
    if mapping.is_header_row(cells) {
        return skip("row.header_repeated", "");
    }
    let cell = |f: Field| {
        mapping
            .position(f)
            .and_then(|i| cells.get(i))
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
    };
    let code_digits = cell(Field::NationalCode)
        .map(|c| fold_digits(c).chars().filter(char::is_ascii_digit).count())
        .unwrap_or(0);
    let named = [Field::FirstName, Field::LastName, Field::FullName]
        .into_iter()
        .filter_map(cell)
        .any(|n| !is_totals_marker(n) && !is_footer_marker(n));
    if code_digits >= 8 || named {
        return None;
    }
    if let Some(marker) = cells.iter().find(|c| is_totals_marker(c)) {
        return skip("row.totals", marker.trim());
    }
    if let Some(marker) = cells.iter().find(|c| is_footer_marker(c)) {
        return skip("row.footer", marker.trim());
    }
    if raw.formula {
        return skip("row.formula", "");
    }
    None
}

fn key(s: &Option<String>) -> Option<String> {
    s.as_deref().map(name_key).filter(|k| !k.is_empty())
}

/// Types and checks a mapped row. A row is rejected only when it has no usable identity:
/// neither a national code that reads as one nor a first or last name.
pub fn validate(rec: InputRecord) -> Result<(CleanRecord, Vec<Warning>), Reject> {
    let mut warnings = Vec::new();
    let mut warn = |field: Field, code: &'static str, value: &str| {
        warnings.push(Warning {
            field,
            code,
            value: value.to_owned(),
        });
    };
    let (mut national_code, mut national_code_raw) = (None, None);
    if let Some(raw) = rec.get(Field::NationalCode) {
        match NationalCode::parse(raw) {
            Ok(parsed) => {
                if let Some(repair) = parsed.repair {
                    warn(Field::NationalCode, repair.code(), raw);
                }
                national_code = Some(parsed.code.as_str().to_owned());
            }
            Err(e) => {
                warn(Field::NationalCode, e.code(), raw);
                let digits: String = fold_digits(raw)
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect();
                if digits.len() >= 8 {
                    national_code_raw = Some(digits);
                }
            }
        }
    }
    let (honorific, first_name) = match rec.get(Field::FirstName) {
        Some(first) => {
            let (h, rest) = split_honorific(first);
            // Titles that are not part of a name either: «خانم»، «آقای»، «مرحوم»، «کربلایی» …
            let (more, rest) = hamdeli_link::strip_honorifics(&rest);
            let rest = rest.trim().to_owned();
            let h = match (h, more.is_empty()) {
                (h, true) => h,
                (None, false) => Some(more.join(" ")),
                (Some(h), false) => Some(format!("{h} {}", more.join(" "))),
            };
            (h, Some(rest).filter(|s| !s.is_empty()))
        }
        None => (None, None),
    };
    let last_name = rec.get(Field::LastName).map(str::to_owned);
    let father_name = rec.get(Field::FatherName).map(str::to_owned);
    let (first_key, last_key, father_key) = (key(&first_name), key(&last_name), key(&father_name));
    if national_code.is_none()
        && national_code_raw.is_none()
        && first_key.is_none()
        && last_key.is_none()
    {
        return Err(Reject {
            row: rec.row,
            code: "identity.missing",
            detail: String::new(),
        });
    }
    let birth = rec
        .get(Field::BirthDate)
        .and_then(|raw| match parse_date(raw) {
            Ok(d) => Some(d),
            Err(e) => {
                warn(Field::BirthDate, e.code(), raw);
                None
            }
        });
    let gender = rec.get(Field::Gender).and_then(|raw| {
        let g = Gender::parse(raw);
        if g.is_none() {
            warn(Field::Gender, "gender.unknown", raw);
        }
        g
    });
    let phone = rec
        .get(Field::Phone)
        .and_then(|raw| match parse_mobile(raw) {
            Ok(m) => Some(m.as_str().to_owned()),
            Err(e) => {
                warn(Field::Phone, e.code(), raw);
                None
            }
        });
    let facts = row_facts(&rec, &mut warn);
    let (source_id, id_derived) = match rec.get(Field::SourceId) {
        Some(id) => (id.to_owned(), false),
        None => (
            derived_id(
                rec.row,
                national_code.as_deref().or(national_code_raw.as_deref()),
                [&first_key, &last_key],
                &father_key,
                rec.get(Field::Relation),
                birth.and_then(|b| b.iso()).map(|d| d.to_string()),
            ),
            true,
        ),
    };
    Ok((
        CleanRecord {
            row: rec.row,
            source_id,
            id_derived,
            national_code,
            national_code_raw,
            honorific,
            first_name,
            last_name,
            father_name,
            first_key,
            last_key,
            father_key,
            birth,
            gender,
            phone,
            province: rec.get(Field::Province).map(str::to_owned),
            county: rec.get(Field::County).map(str::to_owned),
            address: rec.get(Field::Address).map(str::to_owned),
            extra: rec.extra,
            facts,
        },
        warnings,
    ))
}

/// Types a row's household and support facts; a value that does not read is a warning with
/// the value as written (the row is still accepted).
fn row_facts(rec: &InputRecord, warn: &mut impl FnMut(Field, &'static str, &str)) -> RowFacts {
    let mut typed = |field: Field, code: &'static str, parse: &dyn Fn(&str) -> Option<()>| {
        if let Some(raw) = rec.get(field)
            && parse(raw).is_none()
        {
            warn(field, code, raw);
        }
    };
    let mut f = RowFacts {
        household_id: rec
            .get(Field::HouseholdId)
            .map(|s| fold_digits(s).trim().to_owned()),
        head_code: rec
            .head_code
            .as_deref()
            .and_then(|c| NationalCode::parse(c).ok())
            .map(|c| c.code.as_str().to_owned()),
        ..RowFacts::default()
    };
    if let Some(raw) = rec.get(Field::Relation) {
        f.relation = facts::parse_relation(raw);
    }
    typed(Field::Relation, "relation.unknown", &|s| {
        facts::parse_relation(s).map(|_| ())
    });
    f.household_size = rec.get(Field::HouseholdSize).and_then(facts::parse_count);
    typed(Field::HouseholdSize, "household_size.unreadable", &|s| {
        facts::parse_count(s).map(|_| ())
    });
    f.dependants = rec.get(Field::Dependants).and_then(facts::parse_count);
    typed(Field::Dependants, "dependants.unreadable", &|s| {
        facts::parse_count(s).map(|_| ())
    });
    f.zone = rec.get(Field::Zone).and_then(facts::parse_zone);
    typed(Field::Zone, "zone.unknown", &|s| {
        facts::parse_zone(s).map(|_| ())
    });
    f.female_head_reason = rec
        .get(Field::FemaleHeadReason)
        .and_then(facts::parse_female_head_reason);
    typed(
        Field::FemaleHeadReason,
        "female_head_reason.unknown",
        &|s| facts::parse_female_head_reason(s).map(|_| ()),
    );
    f.monthly_income = rec
        .get(Field::MonthlyIncome)
        .and_then(|s| facts::parse_amount(s, false))
        .or_else(|| {
            rec.get(Field::MonthlyIncomeTomans)
                .and_then(|s| facts::parse_amount(s, true))
        });
    typed(Field::MonthlyIncome, "income.unreadable", &|s| {
        facts::parse_amount(s, false).map(|_| ())
    });
    typed(Field::MonthlyIncomeTomans, "income.unreadable", &|s| {
        facts::parse_amount(s, true).map(|_| ())
    });
    f.income_decile = rec.get(Field::IncomeDecile).and_then(facts::parse_decile);
    typed(Field::IncomeDecile, "income_decile.out_of_range", &|s| {
        facts::parse_decile(s).map(|_| ())
    });
    f.disability = rec.get(Field::Disability).and_then(facts::parse_flag);
    f.chronic_illness = rec.get(Field::ChronicIllness).and_then(facts::parse_flag);
    f.bereaved_by_covid = rec.get(Field::BereavedByCovid).and_then(facts::parse_flag);
    f.programme = rec.get(Field::Programme).map(str::to_owned);
    f.support_kind = rec
        .get(Field::SupportKind)
        .and_then(facts::parse_support_kind);
    typed(Field::SupportKind, "support_kind.unknown", &|s| {
        facts::parse_support_kind(s).map(|_| ())
    });
    f.amount = rec
        .get(Field::Amount)
        .and_then(|s| facts::parse_amount(s, false))
        .or_else(|| {
            rec.get(Field::AmountTomans)
                .and_then(|s| facts::parse_amount(s, true))
        });
    typed(Field::Amount, "amount.unreadable", &|s| {
        facts::parse_amount(s, false).map(|_| ())
    });
    typed(Field::AmountTomans, "amount.unreadable", &|s| {
        facts::parse_amount(s, true).map(|_| ())
    });
    f.support_date = rec
        .get(Field::SupportDate)
        .and_then(facts::parse_support_date);
    typed(Field::SupportDate, "support_date.unreadable", &|s| {
        facts::parse_support_date(s).map(|_| ())
    });
    f
}

/// A row's id when the file has none: its national code with its names (and its relation to
/// the head when the list says it: one code on several rows of a household is not one
/// person), else its names, father's name and birth date; a re-import finds the row again by
/// it. Only a row with neither falls back to its row number.
fn derived_id(
    row: u64,
    code: Option<&str>,
    names: [&Option<String>; 2],
    father: &Option<String>,
    relation: Option<&str>,
    birth: Option<String>,
) -> String {
    let part = |s: &Option<String>| s.clone().unwrap_or_default();
    let (first, last) = (part(names[0]), part(names[1]));
    let relation = relation.map(header_key).unwrap_or_default();
    match code {
        Some(code) if relation.is_empty() => format!("nc:{code}:{first}:{last}"),
        Some(code) => format!("nc:{code}:{first}:{last}:{relation}"),
        None if !first.is_empty() || !last.is_empty() => format!(
            "nm:{first}:{last}:{}:{}:{relation}",
            part(father),
            birth.unwrap_or_default()
        ),
        None => format!("row-{row}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(headers: &[&str]) -> ColumnMapping {
        ColumnMapping::from_headers(headers.iter().map(|h| h.to_string()).collect())
    }

    fn row(n: u64, cells: &[&str]) -> RawRow {
        RawRow {
            row: n,
            cells: Ok(cells.iter().map(|c| c.to_string()).collect()),
            formula: false,
        }
    }

    #[test]
    fn a_clean_row_is_typed_and_normalised() {
        let m = mapping(&[
            "کد ملی",
            "نام",
            "نام خانوادگی",
            "تاریخ تولد",
            "تلفن همراه",
            "جنسیت",
            "تعداد فرزندان",
        ]);
        let rec = map_row(
            &m,
            row(
                2,
                &[
                    "۰۰۱۰۳۵۰۸۲۹",
                    "سیده زهرا",
                    "احمدي",
                    "۱۳۶۰/۵/۱۲",
                    "+989121234567",
                    "زن",
                    "3",
                ],
            ),
        )
        .unwrap();
        let (c, w) = validate(rec).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(c.national_code.as_deref(), Some("0010350829"));
        assert_eq!(c.honorific.as_deref(), Some("سیده"));
        assert_eq!(c.first_name.as_deref(), Some("زهرا"));
        assert_eq!(c.last_key, Some(name_key("احمدی")), "Arabic yeh folds");
        assert_eq!(
            c.birth
                .and_then(|b| b.iso())
                .map(|d| d.to_string())
                .as_deref(),
            Some("1981-08-03")
        );
        assert_eq!(c.phone.as_deref(), Some("09121234567"));
        assert_eq!(c.gender, Some(Gender::Female));
        assert_eq!(c.extra, vec![("تعداد فرزندان".to_owned(), "3".to_owned())]);
        assert_eq!(
            c.source_id,
            format!("nc:0010350829:{}:{}", name_key("زهرا"), name_key("احمدی")),
            "no source_id column: the code and names stand in"
        );
        assert!(c.id_derived);
    }

    #[test]
    fn repairs_and_doubts_are_warnings() {
        let m = mapping(&[
            "source_id",
            "national_code",
            "first_name",
            "birth_date",
            "phone",
        ]);
        let (c, w) =
            validate(map_row(&m, row(3, &["a1", "10350829", "مریم", "someday", "123"])).unwrap())
                .unwrap();
        assert_eq!(c.national_code.as_deref(), Some("0010350829"));
        let codes: Vec<&str> = w.iter().map(|w| w.code).collect();
        assert_eq!(codes.len(), 3, "{codes:?}");
        assert_eq!(codes[0], "national_code.padded");
        let (c, w) =
            validate(map_row(&m, row(4, &["a2", "0010350828", "مریم", "", ""])).unwrap()).unwrap();
        assert_eq!(c.national_code, None);
        assert_eq!(c.national_code_raw.as_deref(), Some("0010350828"));
        assert_eq!(w[0].code, "national_code.bad_check_digit");
    }

    #[test]
    fn household_and_support_facts_are_typed_and_kept_as_written() {
        let m = mapping(&[
            "شماره خانوار",
            "کد ملی سرپرست خانوار",
            "کد ملی",
            "نام",
            "نسبت با سرپرست",
            "شهری/روستایی",
            "علت سرپرستی",
            "بعد خانوار",
            "دهک",
            "معلولیت",
            "طرح",
            "نوع کمک",
            "مبلغ (تومان)",
            "تاریخ دریافت",
        ]);
        let (c, w) = validate(
            map_row(
                &m,
                row(
                    2,
                    &[
                        "۱۰۰۱",
                        "0010350829",
                        "0084575948",
                        "سارا",
                        "فرزند",
                        "روستایی",
                        "فوت همسر",
                        "۴",
                        "۲",
                        "ندارد",
                        "طرح اکرام",
                        "سبد غذایی",
                        "۵۰۰٬۰۰۰",
                        "۱۴۰۵/۰۸/۱۵",
                    ],
                ),
            )
            .unwrap(),
        )
        .unwrap();
        assert!(w.is_empty(), "{w:?}");
        let f = &c.facts;
        assert_eq!(f.household_id.as_deref(), Some("1001"));
        assert_eq!(f.head_code.as_deref(), Some("0010350829"));
        assert_eq!(c.national_code.as_deref(), Some("0084575948"));
        assert_eq!(f.relation, Some("child"));
        assert_eq!(f.zone, Some("rural"));
        assert_eq!(f.female_head_reason, Some("widowed"));
        assert_eq!(f.household_size, Some(4));
        assert_eq!(f.income_decile, Some(2));
        assert_eq!(f.disability, Some(false));
        assert_eq!(f.programme.as_deref(), Some("طرح اکرام"));
        assert_eq!(f.support_kind, Some("food"));
        assert_eq!(f.amount, Some(5_000_000), "tomans ×10");
        assert_eq!(f.support_date.as_deref(), Some("2026-11-06"));
        assert!(
            c.extra
                .iter()
                .any(|(k, v)| k == "شهری/روستایی" && v == "روستایی"),
            "kept as written: {:?}",
            c.extra
        );
        // What does not read is a warning, the row stays.
        let (c, w) = validate(
            map_row(
                &m,
                row(
                    3,
                    &[
                        "1002",
                        "",
                        "0084575948",
                        "سارا",
                        "؟",
                        "کوهستان",
                        "?",
                        "x",
                        "12",
                        "",
                        "",
                        "چیزی",
                        "زیاد",
                        "دیروز",
                    ],
                ),
            )
            .unwrap(),
        )
        .unwrap();
        let codes: Vec<&str> = w.iter().map(|w| w.code).collect();
        for code in [
            "relation.unknown",
            "zone.unknown",
            "female_head_reason.unknown",
            "household_size.unreadable",
            "income_decile.out_of_range",
            "support_kind.unknown",
            "amount.unreadable",
            "support_date.unreadable",
        ] {
            assert!(codes.contains(&code), "{code} in {codes:?}");
        }
        assert_eq!(c.facts.zone, None);
        assert_eq!(c.facts.household_id.as_deref(), Some("1002"));
    }

    #[test]
    fn full_names_are_split_and_rows_without_identity_rejected() {
        let m = mapping(&["نام و نام خانوادگی", "نشانی"]);
        let (c, _) = validate(map_row(&m, row(2, &["فاطمه کریمی", "تهران"])).unwrap()).unwrap();
        assert_eq!(
            (c.first_name.as_deref(), c.last_name.as_deref()),
            (Some("فاطمه"), Some("کریمی"))
        );
        let r = validate(map_row(&m, row(3, &["", "تهران"])).unwrap()).unwrap_err();
        assert_eq!((r.row, r.code), (3, "identity.missing"));
        let broken = map_row(
            &m,
            RawRow {
                row: 4,
                cells: Err("unequal lengths".into()),
                formula: false,
            },
        )
        .unwrap_err();
        assert_eq!(broken.code, "row.unreadable");
    }

    /// Charity sheets: «نام و نام خانوادگی» in either order, «نام خانوادگی، نام» with a comma,
    /// honorifics in front, compound first names apart or together.
    #[test]
    fn full_names_in_the_shapes_charity_sheets_write() {
        let m = mapping(&["نام و نام خانوادگی"]);
        let split = |full: &str| {
            let (c, _) = validate(map_row(&m, row(2, &[full])).unwrap()).unwrap();
            (
                c.honorific,
                c.first_key.unwrap_or_default(),
                c.last_key.unwrap_or_default(),
            )
        };
        let k = hamdeli_text::name_key;
        let cases: &[(&str, Option<&str>, &str, &str)] = &[
            ("برات علی رضایی", None, "براتعلی", "رضایی"),
            ("براتعلی رضایی", None, "براتعلی", "رضایی"),
            ("رضایی، برات علی", None, "براتعلی", "رضایی"),
            ("رضايي،براتعلي", None, "براتعلی", "رضایی"),
            ("سید محمد جواد موسوی", Some("سید"), "محمدجواد", "موسوی"),
            ("سیده فاطمه زهرا حسینی", Some("سیده"), "فاطمهزهرا", "حسینی"),
            (
                "حاجیه خانم معصومه کریمی",
                Some("حاجیه خانم"),
                "معصومه",
                "کریمی",
            ),
            ("خانم مریم نوری", Some("خانم"), "مریم", "نوری"),
            ("آقای حسن رستمی", Some("اقای"), "حسن", "رستمی"),
            ("مرحوم قربانعلی جعفری", Some("مرحوم"), "قربانعلی", "جعفری"),
            ("کربلایی غلام رضا صالحی", Some("کربلایی"), "غلامرضا", "صالحی"),
            ("موسوی، سید علی", Some("سید"), "علی", "موسوی"),
            ("محمد حسن زاده", None, "محمد", "حسنزاده"),
            ("ولی الله کریمی", None, "ولیالله", "کریمی"),
        ];
        for &(full, hon, first, last) in cases {
            assert_eq!(
                split(full),
                (hon.map(str::to_owned), k(first), k(last)),
                "{full}"
            );
        }
    }

    /// A first-name column with a title in front: the title is not the name.
    #[test]
    fn titles_before_first_names_are_not_names() {
        let m = mapping(&["نام", "نام خانوادگی"]);
        for (first, hon, key) in [
            ("خانم غزاله", "خانم", "غزاله"),
            ("سیده زهرا", "سیده", "زهرا"),
            ("حاج آقا رضا", "حاج اقا", "رضا"),
        ] {
            let (c, _) = validate(map_row(&m, row(2, &[first, "توکلی"])).unwrap()).unwrap();
            assert_eq!(c.honorific.as_deref(), Some(hon), "{first}");
            assert_eq!(c.first_key.as_deref(), Some(key), "{first}");
        }
    }

    /// Dependants listed under the head's code: the relation column is read in its shapes and
    /// a member's row keeps its own cells.
    #[test]
    fn relation_columns_in_their_shapes() {
        for header in [
            "نسبت",
            "نسبت با سرپرست",
            "نسبت با سرپرست خانوار",
            "سمت در خانوار",
            "نسبت خانوادگی",
            "relation",
            "Relationship",
        ] {
            let m = mapping(&["کد ملی", "نام", header]);
            assert_eq!(m.position(Field::Relation), Some(2), "{header}");
            let rec = map_row(&m, row(2, &["0010350829", "علی", "فرزند"])).unwrap();
            assert_eq!(rec.get(Field::Relation), Some("فرزند"));
            assert_eq!(rec.get(Field::NationalCode), Some("0010350829"));
        }
        for head in ["سرپرست", "خود", "سرپرست خانوار", "head"] {
            assert!(is_head_relation(head), "{head}");
        }
        for member in ["فرزند", "همسر", "دختر", "پسر", "مادر"] {
            assert!(!is_head_relation(member), "{member}");
        }
    }
}
