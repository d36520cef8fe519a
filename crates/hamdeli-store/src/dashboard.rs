//! Live counts for the home dashboard, inside the principal's scope.

use serde::Serialize;
use sqlx::Row;

use hamdeli_domain::PlaceFilter;

use crate::{Result, Store, geo, organisations, users};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub provinces: i64,
    pub counties: i64,
    pub population_1395: i64,
    pub organisations: i64,
    pub users: i64,
    pub active_sessions: i64,
}

pub async fn counts(store: &Store, filter: &PlaceFilter) -> Result<Counts> {
    let provinces = geo::provinces(store, filter).await?;
    let mut counties = 0;
    for p in &provinces {
        counties = i64::saturating_add(
            counties,
            geo::counties_of(store, &p.code, filter).await?.len() as i64,
        );
    }
    let active_sessions: i64 = match filter {
        PlaceFilter::All => sqlx::query("SELECT COUNT(*) FROM sessions WHERE expires_at > $1")
            .bind(crate::now_millis())
            .fetch_one(store.pool())
            .await?
            .get(0),
        _ => 0,
    };
    Ok(Counts {
        population_1395: match filter {
            PlaceFilter::All | PlaceFilter::Province(_) => {
                // Saturating: a figure on the dashboard, never a panic on overflow.
                provinces
                    .iter()
                    .fold(0i64, |sum, p| sum.saturating_add(p.population_1395))
            }
            _ => 0,
        },
        provinces: provinces.len() as i64,
        counties,
        organisations: organisations::list(store, filter).await?.len() as i64,
        users: users::count(store, filter).await?,
        active_sessions,
    })
}
