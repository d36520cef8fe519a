//! The capability's report tables: counts and sums only, grouped by place and kind.

use sqlx::Row;

use crate::{Result, Store};

/// One cell of a report: two keys and a figure.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Cell {
    pub a: String,
    pub b: String,
    pub n: i64,
}

async fn cells(store: &Store, sql: &str, province: Option<&str>) -> Result<Vec<Cell>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(province.unwrap_or("").to_owned())
        .fetch_all(store.pool())
        .await?;
    Ok(rows
        .iter()
        .map(|r| Cell {
            a: r.get(0),
            b: r.get(1),
            n: r.get(2),
        })
        .collect())
}

/// Verified volunteers by (province, specialty).
pub async fn volunteers(store: &Store, province: Option<&str>) -> Result<Vec<Cell>> {
    cells(
        store,
        "SELECT province_code, specialty, COUNT(*) FROM network_volunteers \
         WHERE status = 'verified' AND ($1 = '' OR province_code = $1) \
         GROUP BY province_code, specialty ORDER BY province_code, specialty",
        province,
    )
    .await
}

/// Minutes given by (province, specialty) of the volunteers.
pub async fn minutes(store: &Store, province: Option<&str>) -> Result<Vec<Cell>> {
    cells(
        store,
        "SELECT v.province_code, v.specialty, CAST(COALESCE(SUM(s.minutes), 0) AS BIGINT) \
         FROM network_case_sessions s JOIN network_volunteers v ON v.id = s.volunteer_id \
         WHERE ($1 = '' OR v.province_code = $1) GROUP BY v.province_code, v.specialty \
         ORDER BY v.province_code, v.specialty",
        province,
    )
    .await
}

/// Cases by (province, outcome or state while open).
pub async fn cases(store: &Store, province: Option<&str>) -> Result<Vec<Cell>> {
    cells(
        store,
        "SELECT n.province_code, COALESCE(k.outcome, k.state), COUNT(*) FROM network_cases k \
         JOIN network_centres n ON n.id = k.centre_id WHERE ($1 = '' OR n.province_code = $1) \
         GROUP BY n.province_code, COALESCE(k.outcome, k.state) ORDER BY 1, 2",
        province,
    )
    .await
}

/// Capable women (consent not withdrawn) by (province, field).
pub async fn women(store: &Store, province: Option<&str>) -> Result<Vec<Cell>> {
    cells(
        store,
        "SELECT province_code, field, COUNT(*) FROM network_women WHERE consent <> 'withdrawn' \
         AND ($1 = '' OR province_code = $1) GROUP BY province_code, field ORDER BY 1, 2",
        province,
    )
    .await
}

/// Public cards by field (the directory's summary).
pub async fn public_fields(store: &Store) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT field, COUNT(*) FROM network_women WHERE consent = 'public' GROUP BY field \
         ORDER BY field",
    )
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Counts for an office's home: (women, volunteers pending, volunteers verified, open cases,
/// NGOs active) in a province (all with `None`).
pub async fn home_counts(store: &Store, province: Option<&str>) -> Result<[i64; 5]> {
    let p = province.unwrap_or("").to_owned();
    let row = sqlx::query(
        "SELECT \
         (SELECT COUNT(*) FROM network_women WHERE consent <> 'withdrawn' AND ($1 = '' OR province_code = $1)), \
         (SELECT COUNT(*) FROM network_volunteers WHERE status = 'pending' AND ($1 = '' OR province_code = $1)), \
         (SELECT COUNT(*) FROM network_volunteers WHERE status = 'verified' AND ($1 = '' OR province_code = $1)), \
         (SELECT COUNT(*) FROM network_cases k JOIN network_centres n ON n.id = k.centre_id \
          WHERE k.state <> 'closed' AND ($1 = '' OR n.province_code = $1)), \
         (SELECT COUNT(*) FROM network_ngos WHERE state = 'active' AND ($1 = '' OR province_code = $1))",
    )
    .bind(p)
    .fetch_one(store.pool())
    .await?;
    Ok([row.get(0), row.get(1), row.get(2), row.get(3), row.get(4)])
}
