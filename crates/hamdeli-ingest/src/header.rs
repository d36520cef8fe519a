//! Which column is which: canonical English names or the Persian headers offices use, matched
//! on the normalised key so Arabic/Persian letter variants and ZWNJ/space differences agree.

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
}

impl Field {
    pub const ALL: [Field; 12] = [
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
        }
    }

    /// Persian headers seen in offices' exports.
    fn persian(self) -> &'static [&'static str] {
        match self {
            Field::SourceId => &["شناسه", "ردیف", "کد پرونده", "شماره پرونده", "کد"],
            Field::NationalCode => &["کد ملی", "شماره ملی", "کدملی"],
            Field::FirstName => &["نام"],
            Field::LastName => &["نام خانوادگی", "فامیلی", "نام فامیل"],
            Field::FullName => &["نام و نام خانوادگی", "نام کامل"],
            Field::FatherName => &["نام پدر"],
            Field::BirthDate => &["تاریخ تولد"],
            Field::Gender => &["جنسیت", "جنس"],
            Field::Phone => &[
                "تلفن همراه",
                "موبایل",
                "شماره همراه",
                "تلفن",
                "شماره تماس",
                "همراه",
            ],
            Field::Province => &["استان"],
            Field::County => &["شهرستان", "شهر"],
            Field::Address => &["نشانی", "آدرس"],
        }
    }

    /// The field a header names, if any.
    pub fn recognise(header: &str) -> Option<Field> {
        let trimmed = header.trim().trim_start_matches('\u{feff}');
        let lower = trimmed.to_ascii_lowercase();
        if let Some(f) = Field::ALL.into_iter().find(|f| f.canonical() == lower) {
            return Some(f);
        }
        let key = name_key(trimmed);
        Field::ALL
            .into_iter()
            .find(|f| f.persian().iter().any(|p| name_key(p) == key))
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
    pub headers: Vec<String>,
    pub columns: Vec<Column>,
}

impl ColumnMapping {
    pub fn from_headers(headers: Vec<String>) -> ColumnMapping {
        let mut seen = Vec::new();
        let columns = headers
            .iter()
            .map(|h| match Field::recognise(h) {
                Some(f) if !seen.contains(&f) => {
                    seen.push(f);
                    Column::Field(f)
                }
                Some(_) => Column::Duplicate(h.trim().to_owned()),
                None => Column::Extra(h.trim().to_owned()),
            })
            .collect();
        ColumnMapping { headers, columns }
    }

    pub fn position(&self, field: Field) -> Option<usize> {
        self.columns.iter().position(|c| *c == Column::Field(field))
    }

    pub fn has(&self, field: Field) -> bool {
        self.position(field).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_canonical_and_persian_headers() {
        assert_eq!(
            Field::recognise(" National_Code "),
            Some(Field::NationalCode)
        );
        assert_eq!(
            Field::recognise("کد ملي"),
            Some(Field::NationalCode),
            "Arabic yeh"
        );
        assert_eq!(Field::recognise("کدملی"), Some(Field::NationalCode));
        assert_eq!(
            Field::recognise("نام‌خانوادگی"),
            Some(Field::LastName),
            "ZWNJ"
        );
        assert_eq!(
            Field::recognise("نام و نام خانوادگی"),
            Some(Field::FullName)
        );
        assert_eq!(Field::recognise("نام"), Some(Field::FirstName));
        assert_eq!(Field::recognise("تلفن همراه"), Some(Field::Phone));
        assert_eq!(Field::recognise("\u{feff}source_id"), Some(Field::SourceId));
        assert_eq!(Field::recognise("تعداد فرزندان"), None);
    }

    #[test]
    fn mapping_keeps_other_columns_as_extras() {
        let m = ColumnMapping::from_headers(vec![
            "نام".into(),
            "کد ملی".into(),
            "تعداد فرزندان".into(),
            "name".into(),
            "نام".into(),
        ]);
        assert_eq!(m.columns[0], Column::Field(Field::FirstName));
        assert_eq!(m.columns[2], Column::Extra("تعداد فرزندان".into()));
        assert_eq!(m.columns[4], Column::Duplicate("نام".into()));
        assert_eq!(m.position(Field::NationalCode), Some(1));
    }
}
