//! The province need index: each chosen indicator normalised min-max across the provinces to
//! 0..1 with 1 the most severe (the direction says whether a higher value is worse), weighted
//! by points the national office sets, and summed to a score of 0..100 with its breakdown.
//! A province without a value for an indicator is scored on the others (their weights rescaled).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// A higher value means a greater need (unmet need per head, case rate, unemployment).
    HigherIsWorse,
    /// A higher value means a smaller need (e.g. a coverage share).
    HigherIsBetter,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::HigherIsWorse => "higher_is_worse",
            Direction::HigherIsBetter => "higher_is_better",
        }
    }
    pub fn parse(s: &str) -> Option<Direction> {
        match s {
            "higher_is_worse" => Some(Direction::HigherIsWorse),
            "higher_is_better" => Some(Direction::HigherIsBetter),
            _ => None,
        }
    }
}

/// The largest weight of one indicator, in points.
pub const MAX_WEIGHT: i64 = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorSpec {
    pub code: String,
    pub direction: Direction,
    /// Points, 0..=[`MAX_WEIGHT`]; 0 leaves the indicator out.
    pub weight: i64,
}

/// One indicator's part in a province's score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Part {
    pub indicator: String,
    pub raw: Option<f64>,
    /// 0..1, 1 the most severe; `None` without a value.
    pub normalised: Option<f64>,
    pub weight: i64,
    /// Points of the score (0..100 in all) this indicator gives.
    pub points: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProvinceScore {
    pub province: String,
    /// 0..100; `None` when no weighted indicator has a value for it.
    pub score: Option<f64>,
    /// 1 the most severe; provinces without a score come last, unranked (0).
    pub rank: usize,
    pub parts: Vec<Part>,
}

/// Min-max normalisation of one indicator across provinces: 0..1, 1 the most severe. All equal
/// values (no spread) give 0 to every province: the indicator tells them apart in nothing.
pub fn normalise(values: &BTreeMap<String, f64>, direction: Direction) -> BTreeMap<String, f64> {
    let finite = values.values().copied().filter(|v| v.is_finite());
    let (min, max) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    values
        .iter()
        .filter(|(_, v)| v.is_finite())
        .map(|(k, &v)| {
            let n = if max > min {
                (v - min) / (max - min)
            } else {
                0.0
            };
            let n = match direction {
                Direction::HigherIsWorse => n,
                Direction::HigherIsBetter => 1.0 - n,
            };
            (k.clone(), if max > min { n } else { 0.0 })
        })
        .collect()
}

/// Scores and ranks `provinces` on `specs`, with `data[indicator][province]` the raw values.
pub fn rank(
    specs: &[IndicatorSpec],
    data: &BTreeMap<String, BTreeMap<String, f64>>,
    provinces: &[String],
) -> Vec<ProvinceScore> {
    let empty = BTreeMap::new();
    let normalised: Vec<BTreeMap<String, f64>> = specs
        .iter()
        .map(|s| normalise(data.get(&s.code).unwrap_or(&empty), s.direction))
        .collect();
    let mut out: Vec<ProvinceScore> = provinces
        .iter()
        .map(|p| {
            let weight_present: i64 = specs
                .iter()
                .zip(&normalised)
                .filter(|(s, n)| s.weight > 0 && n.contains_key(p))
                .map(|(s, _)| s.weight.clamp(0, MAX_WEIGHT))
                .sum();
            let parts: Vec<Part> = specs
                .iter()
                .zip(&normalised)
                .map(|(s, n)| {
                    let norm = n.get(p).copied();
                    let w = s.weight.clamp(0, MAX_WEIGHT);
                    let points = match norm {
                        Some(x) if weight_present > 0 => {
                            100.0 * x * w as f64 / weight_present as f64
                        }
                        _ => 0.0,
                    };
                    Part {
                        indicator: s.code.clone(),
                        raw: data.get(&s.code).and_then(|d| d.get(p)).copied(),
                        normalised: norm,
                        weight: w,
                        points,
                    }
                })
                .collect();
            ProvinceScore {
                province: p.clone(),
                score: (weight_present > 0).then(|| parts.iter().map(|x| x.points).sum()),
                rank: 0,
                parts,
            }
        })
        .collect();
    out.sort_by(|a, b| match (a.score, b.score) {
        (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| a.province.cmp(&b.province)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.province.cmp(&b.province),
    });
    for (i, s) in out.iter_mut().enumerate() {
        if s.score.is_some() {
            s.rank = i + 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(rows: &[(&str, &[(&str, f64)])]) -> BTreeMap<String, BTreeMap<String, f64>> {
        rows.iter()
            .map(|(i, vs)| {
                (
                    i.to_string(),
                    vs.iter().map(|(p, v)| (p.to_string(), *v)).collect(),
                )
            })
            .collect()
    }

    fn spec(code: &str, direction: Direction, weight: i64) -> IndicatorSpec {
        IndicatorSpec {
            code: code.into(),
            direction,
            weight,
        }
    }

    #[test]
    fn min_max_runs_from_least_to_most_severe() {
        let v: BTreeMap<String, f64> =
            [("a".into(), 10.0), ("b".into(), 20.0), ("c".into(), 30.0)].into();
        let n = normalise(&v, Direction::HigherIsWorse);
        assert_eq!((n["a"], n["b"], n["c"]), (0.0, 0.5, 1.0));
        let n = normalise(&v, Direction::HigherIsBetter);
        assert_eq!((n["a"], n["c"]), (1.0, 0.0));
        let flat: BTreeMap<String, f64> = [("a".into(), 3.0), ("b".into(), 3.0)].into();
        assert_eq!(normalise(&flat, Direction::HigherIsWorse)["a"], 0.0);
    }

    #[test]
    fn weights_decide_the_ranking_and_the_breakdown_adds_up() {
        let d = data(&[
            ("uncovered", &[("x", 0.9), ("y", 0.1), ("z", 0.5)]),
            ("unemployment", &[("x", 5.0), ("y", 15.0), ("z", 10.0)]),
        ]);
        let provinces: Vec<String> = ["x", "y", "z"].map(String::from).to_vec();
        let s = rank(
            &[
                spec("uncovered", Direction::HigherIsWorse, 60),
                spec("unemployment", Direction::HigherIsWorse, 40),
            ],
            &d,
            &provinces,
        );
        assert_eq!(s[0].province, "x");
        assert_eq!(s[0].rank, 1);
        assert!((s[0].score.unwrap() - 60.0).abs() < 1e-9);
        for p in &s {
            let sum: f64 = p.parts.iter().map(|x| x.points).sum();
            assert!((sum - p.score.unwrap()).abs() < 1e-9);
        }
        // What if unemployment weighs more: y leads.
        let s = rank(
            &[
                spec("uncovered", Direction::HigherIsWorse, 20),
                spec("unemployment", Direction::HigherIsWorse, 80),
            ],
            &d,
            &provinces,
        );
        assert_eq!(s[0].province, "y");
    }

    #[test]
    fn a_missing_value_rescales_the_other_weights() {
        let d = data(&[
            ("a", &[("x", 1.0), ("y", 0.0)]),
            ("b", &[("x", 0.0), ("y", 1.0), ("z", 1.0)]),
        ]);
        let provinces: Vec<String> = ["x", "y", "z", "w"].map(String::from).to_vec();
        let s = rank(
            &[
                spec("a", Direction::HigherIsWorse, 50),
                spec("b", Direction::HigherIsWorse, 50),
            ],
            &d,
            &provinces,
        );
        let z = s.iter().find(|p| p.province == "z").unwrap();
        assert_eq!(z.score, Some(100.0));
        assert_eq!(z.parts[0].normalised, None);
        let w = s.iter().find(|p| p.province == "w").unwrap();
        assert_eq!((w.score, w.rank), (None, 0));
        assert_eq!(s.last().unwrap().province, "w");
    }
}
