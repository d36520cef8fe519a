//! Persian text and Iranian identifiers for Hamdeli (DESIGN.md §4 "Domain rules").
//!
//! Pure functions with no web or database dependency:
//!
//! - [`digits`]: Persian / Arabic-Indic / ASCII digit folding and display.
//! - [`normalize`]: matching keys for Persian text and names, honorifics, full-name splitting.
//! - [`national_code`]: the national code (کد ملی) with check digit and zero-padding repair.
//! - [`phone`]: mobile numbers and postal codes.
//! - [`date`]: Jalali / Gregorian / Excel serial dates and Jalali ↔ Gregorian conversion.
//! - [`phonetic`]: a phonetic key for Persian names.
//!
//! No function here panics on any input string; errors carry a stable `code()` key
//! (e.g. `"national_code.bad_check_digit"`) for translation.

pub mod date;
pub mod digits;
pub mod national_code;
pub mod normalize;
pub mod phone;
pub mod phonetic;

pub use date::{
    DateError, IsoDate, JalaliDate, ParsedDate, SourceCalendar, from_excel_serial, from_jalali,
    is_jalali_leap_year, jalali_month_days, parse_date, to_jalali,
};
pub use digits::{digit_value, fold_digits, to_persian_digits};
pub use national_code::{NationalCode, NationalCodeError, Parsed, Repair, check_digit_for};
pub use normalize::{
    NameParts, ZWNJ, name_key, normalize_text, split_full_name, split_honorific, split_person_name,
};
pub use phone::{
    Mobile, MobileError, PostalCode, PostalCodeError, parse_mobile, parse_postal_code,
};
pub use phonetic::phonetic_key;
