//! Needs, the household priority score and the rules of distribution (capabilities B and C):
//! the vocabulary and the arithmetic, no storage.

use serde::{Deserialize, Serialize};

/// The need types the national office starts with; it may add, rename or retire types.
/// `(code, Persian name, English name, unit)`; the unit is `rial` for money or `unit` for goods.
pub const DEFAULT_NEED_TYPES: &[(&str, &str, &str, &str)] = &[
    ("food", "سبد غذایی", "Food", "unit"),
    ("rent_housing", "اجاره و مسکن", "Rent and housing", "rial"),
    (
        "medical",
        "درمان و دارو",
        "Medical care and medicine",
        "rial",
    ),
    (
        "livelihood_equipment",
        "تجهیزات معیشتی",
        "Livelihood equipment",
        "unit",
    ),
    ("education", "تحصیل", "Education", "rial"),
    (
        "counselling",
        "مشاوره و حمایت روانی",
        "Counselling and psychosocial support",
        "unit",
    ),
    (
        "employment",
        "اشتغال و آموزش مهارت",
        "Employment and training",
        "unit",
    ),
    ("debt_relief", "رفع بدهی", "Debt relief", "rial"),
    (
        "hygiene",
        "اقلام بهداشتی و محافظتی",
        "Hygiene and protective items",
        "unit",
    ),
];

/// Which need type a support programme of another organisation answers, for the
/// double-service report (support kinds without a need type are not compared).
pub fn need_type_of_support_kind(kind: &str) -> Option<&'static str> {
    match kind {
        "food" => Some("food"),
        "housing" => Some("rent_housing"),
        "medical" => Some("medical"),
        "employment" => Some("employment"),
        "hygiene" => Some("hygiene"),
        _ => None,
    }
}

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($code => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

code_enum!(
    /// How soon a need must be met.
    Urgency { Low = "low", Normal = "normal", High = "high", Critical = "critical" }
);

code_enum!(
    /// A need's life: recorded (open), checked by an expert (verified), then met in part or
    /// in full by allocations, or closed by hand.
    NeedStatus { Open = "open", Verified = "verified", PartlyMet = "partly_met", Met = "met", Closed = "closed" }
);

impl NeedStatus {
    /// Only verified needs, met in part or not at all, take part in an allocation.
    pub fn allocatable(self) -> bool {
        matches!(self, NeedStatus::Verified | NeedStatus::PartlyMet)
    }
}

impl Urgency {
    /// Urgency multiplies the household's priority weight in an allocation.
    pub fn factor(self) -> f64 {
        match self {
            Urgency::Low => 0.75,
            Urgency::Normal => 1.0,
            Urgency::High => 1.5,
            Urgency::Critical => 2.0,
        }
    }
}

code_enum!(
    /// The indicators of the priority score. Each has a weight in points set by the national
    /// office and published.
    Indicator {
        FemaleHead = "female_head",
        Dependants = "dependants",
        Disability = "disability",
        Elderly = "elderly",
        ChronicIllness = "chronic_illness",
        BereavedByCovid = "bereaved_by_covid",
        LowIncome = "low_income",
        Rural = "rural",
        Uncovered = "uncovered",
    }
);

impl Indicator {
    /// The starting weights (points per unit of the indicator's value).
    pub fn default_weight(self) -> i64 {
        match self {
            Indicator::FemaleHead => 30,
            Indicator::Dependants => 5,
            Indicator::Disability => 15,
            Indicator::Elderly => 10,
            Indicator::ChronicIllness => 10,
            Indicator::BereavedByCovid => 20,
            Indicator::LowIncome => 3,
            Indicator::Rural => 10,
            Indicator::Uncovered => 15,
        }
    }
}

/// Dependants count up to this many in the score.
pub const MAX_DEPENDANTS_SCORED: i64 = 6;

/// What the registry knows of a household, as the score reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HouseholdFacts {
    pub female_head: bool,
    pub dependants: i64,
    pub disability: bool,
    pub elderly: bool,
    pub chronic_illness: bool,
    pub bereaved_by_covid: bool,
    /// 1 (poorest tenth) .. 10; unknown counts as nothing.
    pub income_decile: Option<i64>,
    pub rural: bool,
    /// Supported by no organisation's programme.
    pub uncovered: bool,
}

impl HouseholdFacts {
    /// The indicator's value for this household: 0/1 for a flag, dependants (capped), and
    /// `10 − decile` for income (9 for the poorest tenth, 0 for the richest or unknown).
    pub fn value(&self, indicator: Indicator) -> i64 {
        match indicator {
            Indicator::FemaleHead => i64::from(self.female_head),
            Indicator::Dependants => self.dependants.clamp(0, MAX_DEPENDANTS_SCORED),
            Indicator::Disability => i64::from(self.disability),
            Indicator::Elderly => i64::from(self.elderly),
            Indicator::ChronicIllness => i64::from(self.chronic_illness),
            Indicator::BereavedByCovid => i64::from(self.bereaved_by_covid),
            Indicator::LowIncome => self
                .income_decile
                .filter(|d| (1..=10).contains(d))
                .map(|d| 10 - d)
                .unwrap_or(0),
            Indicator::Rural => i64::from(self.rural),
            Indicator::Uncovered => i64::from(self.uncovered),
        }
    }
}

/// The published weights, one per indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Weights(pub Vec<(Indicator, i64)>);

impl Default for Weights {
    fn default() -> Self {
        Weights(
            Indicator::ALL
                .iter()
                .map(|i| (*i, i.default_weight()))
                .collect(),
        )
    }
}

impl Weights {
    pub fn of(&self, indicator: Indicator) -> i64 {
        self.0
            .iter()
            .find(|(i, _)| *i == indicator)
            .map(|(_, w)| *w)
            .unwrap_or(0)
    }
}

/// One line of a score's explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScoreLine {
    pub indicator: Indicator,
    pub value: i64,
    pub weight: i64,
    pub points: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Score {
    pub lines: Vec<ScoreLine>,
    pub total: i64,
}

impl Score {
    /// The allocation weight: one more than the points, so a household with no indicator
    /// still counts (water-fill needs weights above zero).
    pub fn allocation_weight(&self) -> f64 {
        (1 + self.total.max(0)) as f64
    }
}

/// The priority score of a household, indicator by indicator.
pub fn score(facts: &HouseholdFacts, weights: &Weights) -> Score {
    let lines: Vec<ScoreLine> = Indicator::ALL
        .iter()
        .map(|&indicator| {
            let value = facts.value(indicator);
            let weight = weights.of(indicator);
            ScoreLine {
                indicator,
                value,
                weight,
                points: value.saturating_mul(weight),
            }
        })
        .collect();
    let total = lines
        .iter()
        .map(|l| l.points)
        .fold(0i64, i64::saturating_add);
    Score { lines, total }
}

/// Public statistics never show how many people are in a cell smaller than this.
pub const SMALL_CELL: i64 = 5;

/// A count as published: exact from [`SMALL_CELL`] up, otherwise suppressed (zero stays zero,
/// which tells nobody anything about a person).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PublicCount {
    Exact(i64),
    Suppressed,
}

pub fn public_count(n: i64) -> PublicCount {
    if n == 0 || n >= SMALL_CELL {
        PublicCount::Exact(n)
    } else {
        PublicCount::Suppressed
    }
}

/// A receipt code a donor keeps: `HMD-` and eight characters from an alphabet without
/// look-alikes (no 0/O, 1/I/L), from 40 random bits.
pub fn receipt_code(random: u64) -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut n = random;
    let mut s = String::from("HMD-");
    for i in 0..8 {
        if i == 4 {
            s.push('-');
        }
        s.push(ALPHABET[(n % ALPHABET.len() as u64) as usize] as char);
        n /= ALPHABET.len() as u64;
    }
    s
}

/// A receipt code as typed: upper case, Persian digits folded, spaces and dashes tolerated.
pub fn normalize_receipt_code(input: &str) -> String {
    let compact: String = input
        .chars()
        .filter_map(|c| match c {
            '۰'..='۹' => char::from_digit(c as u32 - '۰' as u32, 10),
            '٠'..='٩' => char::from_digit(c as u32 - '٠' as u32, 10),
            c if c.is_ascii_alphanumeric() => Some(c.to_ascii_uppercase()),
            _ => None,
        })
        .collect();
    let body = compact.strip_prefix("HMD").unwrap_or(&compact);
    if body.len() == 8 {
        format!("HMD-{}-{}", &body[..4], &body[4..])
    } else {
        compact
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_adds_each_indicator_times_its_weight() {
        let facts = HouseholdFacts {
            female_head: true,
            dependants: 9,
            income_decile: Some(2),
            rural: true,
            ..Default::default()
        };
        let s = score(&facts, &Weights::default());
        let points = |i: Indicator| s.lines.iter().find(|l| l.indicator == i).unwrap().points;
        assert_eq!(points(Indicator::FemaleHead), 30);
        assert_eq!(points(Indicator::Dependants), 5 * MAX_DEPENDANTS_SCORED);
        assert_eq!(points(Indicator::LowIncome), 3 * 8);
        assert_eq!(points(Indicator::Rural), 10);
        assert_eq!(points(Indicator::Disability), 0);
        assert_eq!(s.total, 30 + 30 + 24 + 10);
        assert_eq!(s.allocation_weight(), 95.0);
    }

    #[test]
    fn weights_change_the_score_and_zero_weights_give_weight_one() {
        let facts = HouseholdFacts {
            female_head: true,
            ..Default::default()
        };
        let zero = Weights(Indicator::ALL.iter().map(|i| (*i, 0)).collect());
        assert_eq!(score(&facts, &zero).total, 0);
        assert_eq!(score(&facts, &zero).allocation_weight(), 1.0);
        let mut w = Weights::default();
        w.0[0].1 = 100;
        assert_eq!(score(&facts, &w).total, 100);
    }

    #[test]
    fn unknown_or_out_of_range_decile_scores_nothing() {
        for d in [None, Some(0), Some(11), Some(10)] {
            let f = HouseholdFacts {
                income_decile: d,
                ..Default::default()
            };
            assert_eq!(f.value(Indicator::LowIncome), 0, "{d:?}");
        }
    }

    #[test]
    fn small_cells_are_suppressed() {
        assert_eq!(public_count(0), PublicCount::Exact(0));
        for n in 1..5 {
            assert_eq!(public_count(n), PublicCount::Suppressed);
        }
        assert_eq!(public_count(5), PublicCount::Exact(5));
    }

    #[test]
    fn receipt_codes_read_back_however_typed() {
        let code = receipt_code(0x0012_3456_789a);
        assert!(code.starts_with("HMD-") && code.len() == 13, "{code}");
        assert_eq!(normalize_receipt_code(&code.to_lowercase()), code);
        assert_eq!(normalize_receipt_code(&code.replace('-', " ")), code);
        assert_ne!(receipt_code(1), receipt_code(2));
    }

    #[test]
    fn codes_round_trip() {
        for s in NeedStatus::ALL {
            assert_eq!(NeedStatus::parse(s.code()), Some(*s));
        }
        for u in Urgency::ALL {
            assert_eq!(Urgency::parse(u.code()), Some(*u));
        }
        for i in Indicator::ALL {
            assert_eq!(Indicator::parse(i.code()), Some(*i));
        }
        assert!(NeedStatus::Verified.allocatable() && !NeedStatus::Open.allocatable());
    }
}
