//! From a row's cells to a typed, normalised record, or a rejection with its reason. Values are
//! kept as typed (trimmed) beside their matching keys; what is repaired or doubtful becomes a
//! warning on an accepted row, never a silent change.

use hamdeli_text::{
    NationalCode, ParsedDate, fold_digits, name_key, parse_date, parse_mobile, split_honorific,
    split_person_name,
};

use crate::header::{Column, ColumnMapping, Field};
use crate::source::RawRow;

/// A row mapped to the canonical fields, as typed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InputRecord {
    pub row: u64,
    fields: [Option<String>; 12],
    pub extra: Vec<(String, String)>,
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
    for (i, cell) in cells.into_iter().enumerate() {
        match mapping.columns.get(i) {
            Some(Column::Field(f)) => rec.set_owned(*f, cell),
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
    if rec.get(Field::FirstName).is_none()
        && rec.get(Field::LastName).is_none()
        && let Some(full) = rec.get(Field::FullName).map(str::to_owned)
    {
        let parts = split_person_name(&full);
        let honorific = parts.honorific.map(|h| format!("{h} ")).unwrap_or_default();
        rec.set(Field::FirstName, &format!("{honorific}{}", parts.first));
        rec.set(Field::LastName, &parts.last);
    }
    Ok(rec)
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
            (h, Some(rest.trim().to_owned()).filter(|s| !s.is_empty()))
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
    let source_id = rec
        .get(Field::SourceId)
        .map(str::to_owned)
        .unwrap_or_else(|| format!("row-{}", rec.row));
    Ok((
        CleanRecord {
            row: rec.row,
            source_id,
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
        },
        warnings,
    ))
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
            c.source_id, "row-2",
            "no source_id column: the row number stands in"
        );
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
            },
        )
        .unwrap_err();
        assert_eq!(broken.code, "row.unreadable");
    }
}
