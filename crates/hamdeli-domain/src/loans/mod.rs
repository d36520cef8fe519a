//! Capability loans: its rules (pure: no web, no database).

pub mod journal;
pub mod policy;
pub mod schedule;

/// The states of a loan, in order: applied → approved (or rejected) → disbursed (repaying,
/// late or deferred are views of a disbursed loan) → repaid.
pub const STATUSES: [&str; 5] = ["applied", "approved", "rejected", "disbursed", "repaid"];

/// Who may apply for a product.
pub const APPLICANT_KINDS: [&str; 3] = ["person", "home_business", "cooperative"];

/// Where a product's money comes from.
pub const FUND_SOURCES: [&str; 3] = ["campaign", "bank_line", "fund"];

/// The delinquency bucket of a loan whose oldest unpaid instalment is `days_late` days past
/// due: `1-30`, `31-90`, `90+`; `None` when not late.
pub fn bucket(days_late: i64) -> Option<&'static str> {
    match days_late {
        i64::MIN..=0 => None,
        1..=30 => Some("1-30"),
        31..=90 => Some("31-90"),
        _ => Some("90+"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn buckets() {
        assert_eq!(super::bucket(0), None);
        assert_eq!(super::bucket(1), Some("1-30"));
        assert_eq!(super::bucket(30), Some("1-30"));
        assert_eq!(super::bucket(31), Some("31-90"));
        assert_eq!(super::bucket(90), Some("31-90"));
        assert_eq!(super::bucket(91), Some("90+"));
    }
}
