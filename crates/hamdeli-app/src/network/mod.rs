//! Capability network: its use cases (authorise, transaction, store, audit, commit).
//!
//! The databank of capable women ([`women`]), volunteer specialists and the licence sweep
//! ([`volunteers`]), social emergency centres and their cases ([`cases`]), NGOs' licences,
//! lifecycle and training ([`ngos`]), and the reports ([`reports`]).

use hamdeli_domain::network::policy::NetworkAction;
use hamdeli_domain::{Action, Place, Principal};

use crate::Error;
use crate::policy_doc::{UseCase, own_place};

pub mod cases;
pub mod ngos;
pub mod reports;
pub mod volunteers;
pub mod women;

pub use ngos::{partner_access_allowed, require_good_standing};

/// Today in Iran (ISO), the day licences are judged by.
pub fn today() -> String {
    hamdeli_domain::network::dates::today_iran(hamdeli_store::now_millis())
}

pub(crate) fn allow(p: &Principal, a: NetworkAction<'_>) -> Result<(), Error> {
    p.authorize(Action::Network(a))?;
    Ok(())
}

pub(crate) fn allows(p: &Principal, a: NetworkAction<'_>) -> bool {
    p.allows(&Action::Network(a))
}

/// The province a principal's rows are limited to (`None`: the whole country).
pub(crate) fn scope_province(p: &Principal) -> Option<String> {
    p.scope.province().map(str::to_owned)
}

/// A text field trimmed and checked for length and control characters (new lines allowed
/// when `multiline`).
pub(crate) fn text(
    s: &str,
    max: usize,
    required: bool,
    multiline: bool,
    code: &'static str,
) -> Result<String, Error> {
    let t = s.trim().replace("\r\n", "\n");
    if (required && t.is_empty())
        || t.chars().count() > max
        || t.chars()
            .any(|c| c.is_control() && !(multiline && c == '\n'))
    {
        return Err(Error::Invalid(code));
    }
    Ok(t)
}

/// A date typed in a form (Jalali or ISO, any digits) or stored (ISO), as ISO.
pub(crate) fn iso_date(s: &str, code: &'static str) -> Result<String, Error> {
    let ascii: String = s
        .trim()
        .chars()
        .map(|c| match c {
            '\u{06F0}'..='\u{06F9}' => char::from_u32(c as u32 - 0x06F0 + 0x30).unwrap_or(c),
            '\u{0660}'..='\u{0669}' => char::from_u32(c as u32 - 0x0660 + 0x30).unwrap_or(c),
            _ => c,
        })
        .collect();
    if hamdeli_domain::network::dates::parse_iso(&ascii).is_some() {
        return Ok(ascii);
    }
    // Jalali y/m/d (years below 1700).
    let parts: Vec<&str> = ascii.split(['/', '-', '.']).collect();
    if let [y, m, d] = parts.as_slice()
        && let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i64>(), m.parse::<i64>(), d.parse::<i64>())
        && (1300..1700).contains(&y)
        && let Some(days) = jalali_days(y, m, d)
    {
        return Ok(hamdeli_domain::network::dates::iso(days));
    }
    Err(Error::Invalid(code))
}

/// Days since 1970-01-01 of a Jalali date (the 33-year arithmetic rule, exact for 1300–1500).
fn jalali_days(y: i64, m: i64, d: i64) -> Option<i64> {
    if !(1..=12).contains(&m) || d < 1 || d > if m <= 6 { 31 } else { 30 } {
        return None;
    }
    let leap = |y: i64| ((y - 474).rem_euclid(2820) + 474 + 38) * 682 % 2816 < 682;
    if m == 12 && d == 30 && !leap(y) {
        return None;
    }
    // 1 Farvardin 1 AP = 622-03-22 (Julian day 1948320.5).
    let epbase = y - 474;
    let epyear = 474 + epbase.rem_euclid(2820);
    let mdays = if m <= 7 {
        (m - 1) * 31
    } else {
        (m - 1) * 30 + 6
    };
    let jd = d
        + mdays
        + (epyear * 682 - 110) / 2816
        + (epyear - 1) * 365
        + epbase.div_euclid(2820) * 1_029_983
        + 1_948_320;
    // Julian day number 2440588 is 1970-01-01.
    Some(jd - 2_440_588)
}

/// The rows of `docs/access.md` for capability network.
pub(crate) const DOC_USE_CASES: &[UseCase] = &[
    UseCase {
        name: "network: the capability's home and notices, search capable women (her consent decides), volunteers, NGOs, reports",
        inside: |p| allows(p, NetworkAction::ViewHome),
        outside: |_| false,
    },
    UseCase {
        name: "network: enter or edit a capable woman's profile in a county, record her consent",
        inside: |p| allows(p, NetworkAction::ManageWoman(&own_place(p))),
        outside: |p| allows(p, NetworkAction::ManageWoman(&Place::county("07", "0701"))),
    },
    UseCase {
        name: "network: download the databank of capable women (XLSX)",
        inside: |p| allows(p, NetworkAction::ExportWomen),
        outside: |_| false,
    },
    UseCase {
        name: "network: check a volunteer of the province (verify, reject, suspend)",
        inside: |p| allows(p, NetworkAction::CheckVolunteer(&own_place(p))),
        outside: |p| allows(p, NetworkAction::CheckVolunteer(&Place::province("07"))),
    },
    UseCase {
        name: "network: a volunteer's own profile, her assigned cases (accept, decline, log sessions)",
        inside: |p| allows(p, NetworkAction::VolunteerSelf),
        outside: |_| false,
    },
    UseCase {
        name: "network: register a social emergency centre in a county",
        inside: |p| allows(p, NetworkAction::ManageCentre(&own_place(p))),
        outside: |p| allows(p, NetworkAction::ManageCentre(&Place::county("07", "0701"))),
    },
    UseCase {
        name: "network: see a place's centres and cases without personal details",
        inside: |p| allows(p, NetworkAction::ViewCases(&own_place(p))),
        outside: |p| allows(p, NetworkAction::ViewCases(&Place::county("07", "0701"))),
    },
    UseCase {
        name: "network: a centre's staff (county experts of its county): open cases, proposals, assign, close, read personal details (audited)",
        inside: |p| allows(p, NetworkAction::CentreStaff(&own_place(p))),
        outside: |p| allows(p, NetworkAction::CentreStaff(&Place::county("07", "0701"))),
    },
    UseCase {
        name: "network: an NGO's licence, lifecycle step and training",
        inside: |p| {
            allows(
                p,
                NetworkAction::ManageNgo(p.scope.province().or(Some("23"))),
            )
        },
        outside: |p| allows(p, NetworkAction::ManageNgo(Some("07"))),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_dates_in_jalali_or_iso() {
        assert_eq!(iso_date("2027-03-21", "x").unwrap(), "2027-03-21");
        assert_eq!(iso_date("1406/1/1", "x").unwrap(), "2027-03-21");
        assert_eq!(iso_date("۱۴۰۵/۰۹/۱۶", "x").unwrap(), "2026-12-07");
        assert!(iso_date("1405/13/1", "x").is_err());
        assert!(iso_date("tomorrow", "x").is_err());
    }

    #[test]
    fn text_fields_are_bounded() {
        assert_eq!(text("  a ", 5, true, false, "x").unwrap(), "a");
        assert!(text("", 5, true, false, "x").is_err());
        assert!(text("abcdef", 5, false, false, "x").is_err());
        assert!(text("a\nb", 5, false, false, "x").is_err());
        assert_eq!(text("a\r\nb", 5, false, true, "x").unwrap(), "a\nb");
    }
}
