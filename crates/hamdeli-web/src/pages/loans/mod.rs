//! Capability loans: its pages (each handler's doc line names its route).

use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
