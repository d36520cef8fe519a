//! Capability network: its rules (pure: no web, no database). The databank of capable women and
//! their consent, volunteer specialists and their licences, the matching of volunteers to the
//! cases of social emergency centres, and the lifecycle of NGOs.

pub mod consent;
pub mod dates;
pub mod matching;
pub mod ngo;
pub mod policy;
pub mod vocab;

pub use consent::Consent;
pub use matching::{Candidate, CaseNeed, Proposal, Reason};
pub use ngo::NgoState;
