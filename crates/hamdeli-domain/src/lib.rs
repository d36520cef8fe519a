//! The vocabulary every other crate shares: roles, scopes, the principal acting, and the
//! one access policy all queries and pages go through. No web or database dependency.

pub mod ledger;
pub mod loans;
pub mod market;
pub mod needs;
pub mod network;
pub mod policy;
pub mod posting;
pub mod reports;
pub mod role;

pub use policy::{Action, CampaignOwner, Denied, PlaceFilter, Principal};
pub use role::{Role, Scope, ScopeError};

/// A place in the country: a province, optionally narrowed to one of its counties.
/// Codes are the project's own (see `data/geography`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Place {
    pub province: String,
    pub county: Option<String>,
}

impl Place {
    pub fn province(code: impl Into<String>) -> Self {
        Place {
            province: code.into(),
            county: None,
        }
    }
    pub fn county(province: impl Into<String>, county: impl Into<String>) -> Self {
        Place {
            province: province.into(),
            county: Some(county.into()),
        }
    }
}
