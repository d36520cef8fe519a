//! The need index's indicators, weights and their history, and imported indicator values.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::Row;

use hamdeli_domain::reports::index::Direction;

use crate::{AnyConnection, Result, Store, StoreError, now_millis};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Indicator {
    pub code: String,
    pub name_fa: String,
    pub name_en: String,
    /// `own` (Hamdeli's figures) or `imported`.
    pub source: String,
    #[schema(value_type = String)]
    pub direction: Direction,
    pub weight: i64,
}

pub async fn indicators(store: &Store) -> Result<Vec<Indicator>> {
    let rows = sqlx::query(
        "SELECT code, name_fa, name_en, source, direction, weight FROM index_indicators \
         ORDER BY sort, code",
    )
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Indicator {
            code: r.get(0),
            name_fa: r.get(1),
            name_en: r.get(2),
            source: r.get(3),
            direction: Direction::parse(&r.get::<String, _>(4)).unwrap_or(Direction::HigherIsWorse),
            weight: r.get(5),
        })
        .collect())
}

/// Sets the weights (code → points, each a known indicator) and records the change.
pub async fn set_weights(
    conn: &mut AnyConnection,
    weights: &BTreeMap<String, i64>,
    note: Option<&str>,
    by: Option<i64>,
    by_name: &str,
) -> Result<()> {
    for (code, w) in weights {
        let done = sqlx::query("UPDATE index_indicators SET weight = $1 WHERE code = $2")
            .bind(*w)
            .bind(code)
            .execute(&mut *conn)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Invalid("reports-index-unknown-indicator"));
        }
    }
    sqlx::query(
        "INSERT INTO index_weight_history (weights, note, changed_by, changed_by_name, \
         changed_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(serde_json::to_string(weights).map_err(|e| StoreError::ReferenceData(e.to_string()))?)
    .bind(note)
    .bind(by)
    .bind(by_name)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WeightChange {
    pub weights: BTreeMap<String, i64>,
    pub note: Option<String>,
    pub changed_by_name: String,
    pub changed_at: i64,
}

pub async fn history(store: &Store, limit: i64) -> Result<Vec<WeightChange>> {
    let rows = sqlx::query(
        "SELECT weights, note, changed_by_name, changed_at FROM index_weight_history \
         ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| WeightChange {
            weights: serde_json::from_str(&r.get::<String, _>(0)).unwrap_or_default(),
            note: r.get(1),
            changed_by_name: r.get(2),
            changed_at: r.get(3),
        })
        .collect())
}

/// Stores imported values of an indicator (province → value × 1000), replacing earlier ones.
pub async fn import_values(
    conn: &mut AnyConnection,
    indicator: &str,
    period: &str,
    values: &BTreeMap<String, i64>,
    by: Option<i64>,
) -> Result<()> {
    let now = now_millis();
    for (province, v) in values {
        sqlx::query(
            "INSERT INTO index_imported_values (indicator, province_code, value_milli, period, \
             imported_by, imported_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (indicator, province_code) DO UPDATE SET value_milli = excluded.value_milli, \
             period = excluded.period, imported_by = excluded.imported_by, \
             imported_at = excluded.imported_at",
        )
        .bind(indicator)
        .bind(province)
        .bind(*v)
        .bind(period)
        .bind(by)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Imported values: indicator → province → value (as a decimal).
pub async fn imported(store: &Store) -> Result<BTreeMap<String, BTreeMap<String, f64>>> {
    let rows =
        sqlx::query("SELECT indicator, province_code, value_milli FROM index_imported_values")
            .fetch_all(store.pool())
            .await?;
    let mut out: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for r in rows {
        out.entry(r.get(0))
            .or_default()
            .insert(r.get(1), r.get::<i64, _>(2) as f64 / 1000.0);
    }
    Ok(out)
}
