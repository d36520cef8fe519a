//! Matching volunteers to a case: every candidate is scored on the case's needs and the score
//! comes with its reasons (specialty, valid licence, county or remote, language, gender,
//! availability, current load), so the centre sees why one is proposed before another.
//!
//! The store narrows candidates with SQL (specialty, verified, the case's county or remote);
//! this scores what it returns.

use super::ngo::licence_valid;

/// Most open cases a volunteer carries at once; at this load she is not proposed.
pub const MAX_LOAD: i64 = 5;

/// What a case asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseNeed {
    pub specialty: String,
    pub county: String,
    pub language: String,
    /// `f`, `m`, or `None` for no preference.
    pub gender_preference: Option<String>,
}

/// A volunteer as matching sees her.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub volunteer_id: i64,
    pub specialty: String,
    pub licence_expires_on: String,
    /// She works in the case's county.
    pub in_county: bool,
    /// She works remotely (by phone or video).
    pub remote: bool,
    pub languages: Vec<String>,
    pub gender: String,
    /// Hours a week she offers.
    pub weekly_hours: i64,
    /// Cases assigned to her and not closed.
    pub open_cases: i64,
}

/// One line of a score: a catalog message id (`network-reason-<code>`) and its points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: &'static str,
    pub points: i64,
}

/// A proposed volunteer with her score and its reasons, best first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub volunteer_id: i64,
    pub score: i64,
    pub reasons: Vec<Reason>,
}

/// Scores one candidate; `None` when she cannot take the case (another specialty, no valid
/// licence, neither in the county nor remote, no hours, full load).
pub fn score(need: &CaseNeed, c: &Candidate, today: &str) -> Option<Proposal> {
    if c.specialty != need.specialty
        || !licence_valid(&c.licence_expires_on, today)
        || !(c.in_county || c.remote)
        || c.weekly_hours <= 0
        || c.open_cases >= MAX_LOAD
    {
        return None;
    }
    let mut reasons = vec![
        Reason {
            code: "specialty",
            points: 40,
        },
        Reason {
            code: "licence",
            points: 20,
        },
    ];
    reasons.push(if c.in_county {
        Reason {
            code: "county",
            points: 20,
        }
    } else {
        Reason {
            code: "remote",
            points: 10,
        }
    });
    reasons.push(if c.languages.contains(&need.language) {
        Reason {
            code: "language",
            points: 15,
        }
    } else {
        Reason {
            code: "language-missing",
            points: 0,
        }
    });
    match need.gender_preference.as_deref() {
        Some(g) if g == c.gender => reasons.push(Reason {
            code: "gender",
            points: 10,
        }),
        Some(_) => reasons.push(Reason {
            code: "gender-mismatch",
            points: -30,
        }),
        None => {}
    }
    reasons.push(Reason {
        code: "availability",
        points: c.weekly_hours.min(10),
    });
    if c.open_cases > 0 {
        reasons.push(Reason {
            code: "load",
            points: -5 * c.open_cases,
        });
    }
    Some(Proposal {
        volunteer_id: c.volunteer_id,
        score: reasons.iter().map(|r| r.points).sum(),
        reasons,
    })
}

/// The best `limit` candidates, best first; ties go to the lighter load, then the lower id.
pub fn propose(
    need: &CaseNeed,
    candidates: &[Candidate],
    today: &str,
    limit: usize,
) -> Vec<Proposal> {
    let mut scored: Vec<(Proposal, i64)> = candidates
        .iter()
        .filter_map(|c| score(need, c, today).map(|p| (p, c.open_cases)))
        .collect();
    scored.sort_by(|(a, la), (b, lb)| {
        b.score
            .cmp(&a.score)
            .then(la.cmp(lb))
            .then(a.volunteer_id.cmp(&b.volunteer_id))
    });
    scored.truncate(limit);
    scored.into_iter().map(|(p, _)| p).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need() -> CaseNeed {
        CaseNeed {
            specialty: "psychologist".into(),
            county: "2301".into(),
            language: "az".into(),
            gender_preference: Some("f".into()),
        }
    }

    fn cand(id: i64) -> Candidate {
        Candidate {
            volunteer_id: id,
            specialty: "psychologist".into(),
            licence_expires_on: "2027-06-01".into(),
            in_county: true,
            remote: false,
            languages: vec!["fa".into(), "az".into()],
            gender: "f".into(),
            weekly_hours: 8,
            open_cases: 0,
        }
    }

    const TODAY: &str = "2026-12-07";

    #[test]
    fn a_full_match_scores_every_reason() {
        let p = score(&need(), &cand(1), TODAY).unwrap();
        let codes: Vec<_> = p.reasons.iter().map(|r| r.code).collect();
        assert_eq!(
            codes,
            [
                "specialty",
                "licence",
                "county",
                "language",
                "gender",
                "availability"
            ]
        );
        assert_eq!(p.score, 40 + 20 + 20 + 15 + 10 + 8);
    }

    #[test]
    fn who_cannot_take_the_case_is_not_proposed() {
        let mut other = cand(1);
        other.specialty = "counsellor".into();
        let mut expired = cand(2);
        expired.licence_expires_on = "2026-12-06".into();
        let mut elsewhere = cand(3);
        elsewhere.in_county = false;
        let mut busy = cand(4);
        busy.open_cases = MAX_LOAD;
        let mut no_hours = cand(5);
        no_hours.weekly_hours = 0;
        for c in [other, expired, elsewhere, busy, no_hours] {
            assert_eq!(score(&need(), &c, TODAY), None, "{c:?}");
        }
    }

    #[test]
    fn ranking_prefers_county_language_gender_hours_and_light_load() {
        let best = cand(10);
        let mut remote = cand(11);
        remote.in_county = false;
        remote.remote = true;
        let mut no_azeri = cand(12);
        no_azeri.languages = vec!["fa".into()];
        let mut man = cand(13);
        man.gender = "m".into();
        let mut loaded = cand(14);
        loaded.open_cases = 2;
        let mut twin = cand(9);
        twin.open_cases = 1;
        let list = vec![man.clone(), loaded, no_azeri, remote, best, twin];
        let ranked: Vec<i64> = propose(&need(), &list, TODAY, 10)
            .iter()
            .map(|p| p.volunteer_id)
            .collect();
        assert_eq!(ranked, [10, 9, 11, 14, 12, 13]);
        assert_eq!(propose(&need(), &list, TODAY, 2).len(), 2);
        let p = score(&need(), &man, TODAY).unwrap();
        assert!(
            p.reasons
                .iter()
                .any(|r| r.code == "gender-mismatch" && r.points < 0)
        );
        let mut no_pref = need();
        no_pref.gender_preference = None;
        let p = score(&no_pref, &man, TODAY).unwrap();
        assert!(!p.reasons.iter().any(|r| r.code.starts_with("gender")));
    }

    #[test]
    fn equal_scores_go_to_the_lighter_load_then_the_lower_id() {
        let a = cand(7);
        let b = cand(3);
        let ranked: Vec<i64> = propose(&need(), &[a, b], TODAY, 5)
            .iter()
            .map(|p| p.volunteer_id)
            .collect();
        assert_eq!(ranked, [3, 7]);
    }
}
