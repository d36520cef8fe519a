//! An NGO's lifecycle and licence: applied → verified → active → suspended or expired. Only an
//! active NGO whose licence has not expired receives campaign funds or partner access.

/// Where an NGO stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NgoState {
    /// Registered with its licence; the provincial office has not checked it yet.
    Applied,
    /// The office checked its licence and documents.
    Verified,
    /// Working: receives campaign funds and partner access.
    Active,
    /// Stopped by the office.
    Suspended,
    /// Its licence ran out (the daily sweep).
    Expired,
}

impl NgoState {
    pub const ALL: [NgoState; 5] = [
        NgoState::Applied,
        NgoState::Verified,
        NgoState::Active,
        NgoState::Suspended,
        NgoState::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NgoState::Applied => "applied",
            NgoState::Verified => "verified",
            NgoState::Active => "active",
            NgoState::Suspended => "suspended",
            NgoState::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<NgoState> {
        NgoState::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The states an office may move it to from here (the sweep alone expires it).
    pub fn next_by_office(self) -> &'static [NgoState] {
        match self {
            NgoState::Applied => &[NgoState::Verified],
            NgoState::Verified => &[NgoState::Active],
            NgoState::Active => &[NgoState::Suspended],
            NgoState::Suspended | NgoState::Expired => &[NgoState::Active],
        }
    }
}

/// Why a lifecycle step is refused (each a catalog message id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NgoError {
    /// Not a step of the lifecycle from the current state.
    NotAllowed,
    /// Activation needs a licence that has not expired.
    LicenceInvalid,
}

impl NgoError {
    pub fn code(self) -> &'static str {
        match self {
            NgoError::NotAllowed => "network-ngo-step-not-allowed",
            NgoError::LicenceInvalid => "network-licence-expired",
        }
    }
}

/// Checks an office's step `from → to`; activating needs a valid licence.
pub fn step(from: NgoState, to: NgoState, licence_valid: bool) -> Result<NgoState, NgoError> {
    if !from.next_by_office().contains(&to) {
        return Err(NgoError::NotAllowed);
    }
    if to == NgoState::Active && !licence_valid {
        return Err(NgoError::LicenceInvalid);
    }
    Ok(to)
}

/// Whether a licence expiring on `expires_on` (ISO) is valid on `today` (ISO): valid through
/// its last day. A date that does not parse is never valid.
pub fn licence_valid(expires_on: &str, today: &str) -> bool {
    match (
        super::dates::parse_iso(expires_on),
        super::dates::parse_iso(today),
    ) {
        (Some(e), Some(t)) => e >= t,
        _ => false,
    }
}

/// Days left on a licence (negative once expired); `None` when a date does not parse.
pub fn licence_days_left(expires_on: &str, today: &str) -> Option<i64> {
    Some(super::dates::parse_iso(expires_on)? - super::dates::parse_iso(today)?)
}

/// How many days before expiry a licence counts as expiring soon.
pub const EXPIRING_SOON_DAYS: i64 = 30;

/// Whether the NGO may receive campaign funds and partner access now.
pub fn in_good_standing(state: NgoState, expires_on: &str, today: &str) -> bool {
    state == NgoState::Active && licence_valid(expires_on, today)
}

/// What the daily sweep does to an NGO: an active one whose licence ran out expires.
pub fn sweep(state: NgoState, expires_on: &str, today: &str) -> Option<NgoState> {
    (state == NgoState::Active && !licence_valid(expires_on, today)).then_some(NgoState::Expired)
}

#[cfg(test)]
mod tests {
    use super::*;
    use NgoState::*;

    #[test]
    fn the_lifecycle_goes_forward_only_along_its_steps() {
        assert_eq!(step(Applied, Verified, false), Ok(Verified));
        assert_eq!(step(Verified, Active, true), Ok(Active));
        assert_eq!(step(Active, Suspended, true), Ok(Suspended));
        assert_eq!(step(Suspended, Active, true), Ok(Active));
        assert_eq!(step(Expired, Active, true), Ok(Active));
        assert_eq!(step(Applied, Active, true), Err(NgoError::NotAllowed));
        assert_eq!(step(Active, Expired, true), Err(NgoError::NotAllowed));
        assert_eq!(step(Verified, Suspended, true), Err(NgoError::NotAllowed));
        assert_eq!(step(Verified, Active, false), Err(NgoError::LicenceInvalid));
        assert_eq!(step(Expired, Active, false), Err(NgoError::LicenceInvalid));
        for s in NgoState::ALL {
            assert_eq!(NgoState::parse(s.as_str()), Some(s));
            assert!(!s.next_by_office().contains(&Expired));
        }
    }

    #[test]
    fn a_licence_is_valid_through_its_last_day() {
        assert!(licence_valid("2026-12-07", "2026-12-07"));
        assert!(!licence_valid("2026-12-06", "2026-12-07"));
        assert!(!licence_valid("not a date", "2026-12-07"));
        assert_eq!(licence_days_left("2026-12-17", "2026-12-07"), Some(10));
        assert_eq!(licence_days_left("2026-12-01", "2026-12-07"), Some(-6));
    }

    #[test]
    fn only_an_active_ngo_with_a_valid_licence_is_in_good_standing() {
        assert!(in_good_standing(Active, "2027-01-01", "2026-12-07"));
        assert!(!in_good_standing(Active, "2026-01-01", "2026-12-07"));
        for s in [Applied, Verified, Suspended, Expired] {
            assert!(!in_good_standing(s, "2027-01-01", "2026-12-07"));
        }
        assert_eq!(sweep(Active, "2026-12-06", "2026-12-07"), Some(Expired));
        assert_eq!(sweep(Active, "2026-12-07", "2026-12-07"), None);
        assert_eq!(sweep(Suspended, "2020-01-01", "2026-12-07"), None);
    }
}
