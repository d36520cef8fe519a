//! The life of one report (a data set, a reporting place, a period): draft → submitted →
//! provincially approved → nationally accepted, or returned with a comment; an accepted report
//! is locked and only the national office reopens it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Draft,
    Submitted,
    Approved,
    Accepted,
    Returned,
}

impl ReportStatus {
    pub const ALL: [ReportStatus; 5] = [
        ReportStatus::Draft,
        ReportStatus::Submitted,
        ReportStatus::Approved,
        ReportStatus::Accepted,
        ReportStatus::Returned,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Draft => "draft",
            ReportStatus::Submitted => "submitted",
            ReportStatus::Approved => "approved",
            ReportStatus::Accepted => "accepted",
            ReportStatus::Returned => "returned",
        }
    }
    pub fn parse(s: &str) -> Option<ReportStatus> {
        ReportStatus::ALL.into_iter().find(|r| r.as_str() == s)
    }
    /// The reporter may still change the values.
    pub fn editable(self) -> bool {
        matches!(self, ReportStatus::Draft | ReportStatus::Returned)
    }
    /// Sent on time counts from the first submission; these have been sent.
    pub fn sent(self) -> bool {
        matches!(
            self,
            ReportStatus::Submitted | ReportStatus::Approved | ReportStatus::Accepted
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// Save the values (a new report starts as a draft).
    Save,
    Submit,
    /// The provincial office approves a submitted report.
    Approve,
    /// The national office accepts an approved report: it is locked.
    Accept,
    /// Sent back to the reporter with a comment (by the province before its approval, by the
    /// national office before its acceptance).
    Return,
    /// The national office opens an accepted report again (with a comment): it goes back to
    /// the reporter as returned.
    Reopen,
}

impl Transition {
    pub const ALL: [Transition; 6] = [
        Transition::Save,
        Transition::Submit,
        Transition::Approve,
        Transition::Accept,
        Transition::Return,
        Transition::Reopen,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Save => "save",
            Transition::Submit => "submit",
            Transition::Approve => "approve",
            Transition::Accept => "accept",
            Transition::Return => "return",
            Transition::Reopen => "reopen",
        }
    }
    pub fn parse(s: &str) -> Option<Transition> {
        Transition::ALL.into_iter().find(|t| t.as_str() == s)
    }
    /// Return and reopen must say why.
    pub fn needs_comment(self) -> bool {
        matches!(self, Transition::Return | Transition::Reopen)
    }
}

/// Where a transition leads from `status` (`None`: a report not yet saved), or the catalog
/// message id of why it cannot.
pub fn next(status: Option<ReportStatus>, t: Transition) -> Result<ReportStatus, &'static str> {
    use ReportStatus as S;
    use Transition as T;
    match (status, t) {
        (None | Some(S::Draft), T::Save) => Ok(S::Draft),
        (Some(S::Returned), T::Save) => Ok(S::Returned),
        (None | Some(S::Draft | S::Returned), T::Submit) => Ok(S::Submitted),
        (Some(S::Submitted), T::Approve) => Ok(S::Approved),
        (Some(S::Approved), T::Accept) => Ok(S::Accepted),
        (Some(S::Submitted | S::Approved), T::Return) => Ok(S::Returned),
        (Some(S::Accepted), T::Reopen) => Ok(S::Returned),
        (Some(S::Accepted), _) => Err("reports-state-locked"),
        _ => Err("reports-state-not-now"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReportStatus as S;
    use Transition as T;

    #[test]
    fn the_happy_path_ends_locked() {
        let s = next(None, T::Save).unwrap();
        let s = next(Some(s), T::Submit).unwrap();
        let s = next(Some(s), T::Approve).unwrap();
        let s = next(Some(s), T::Accept).unwrap();
        assert_eq!(s, S::Accepted);
        for t in [T::Save, T::Submit, T::Approve, T::Return, T::Accept] {
            assert_eq!(
                next(Some(S::Accepted), t),
                Err("reports-state-locked"),
                "{t:?}"
            );
        }
        assert_eq!(next(Some(S::Accepted), T::Reopen), Ok(S::Returned));
    }

    #[test]
    fn returned_reports_go_back_to_the_reporter() {
        assert_eq!(next(Some(S::Submitted), T::Return), Ok(S::Returned));
        assert_eq!(next(Some(S::Approved), T::Return), Ok(S::Returned));
        assert_eq!(next(Some(S::Returned), T::Save), Ok(S::Returned));
        assert_eq!(next(Some(S::Returned), T::Submit), Ok(S::Submitted));
        assert_eq!(
            next(Some(S::Draft), T::Approve),
            Err("reports-state-not-now")
        );
        assert_eq!(
            next(Some(S::Submitted), T::Accept),
            Err("reports-state-not-now")
        );
        assert_eq!(
            next(Some(S::Submitted), T::Save),
            Err("reports-state-not-now")
        );
        assert!(T::Return.needs_comment() && T::Reopen.needs_comment());
        assert!(!S::Submitted.editable() && S::Returned.editable());
    }
}
