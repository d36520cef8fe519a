//! Capability network: its pages (each handler's doc line names its route).

use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}

/// The menu items of this capability for a signed-in principal: (href, message id). An empty
/// list hides the group.
pub(crate) fn nav_items(
    _principal: &hamdeli_domain::Principal,
) -> Vec<(&'static str, &'static str)> {
    vec![]
}
