//! Synthetic rows for the benchmark commands (`hamdeli bench …`): many persons with verified
//! needs, written fast with multi-row inserts. Never used by the application itself.

use sqlx::{AssertSqlSafe, Row};

use crate::{Result, Store, now_millis};

const CHUNK: usize = 1000;

/// Adds `n` persons in `county` (of `province`), each with one verified need of `need_type`
/// for 1–5 units. Returns the total units needed.
pub async fn verified_needs(
    store: &Store,
    province: &str,
    county: &str,
    need_type: &str,
    n: usize,
) -> Result<i64> {
    let now = now_millis();
    let mut tx = store.begin().await?;
    let first: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 FROM persons")
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    let mut total = 0;
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let persons: Vec<String> = (start..end)
            .map(|i| {
                format!(
                    "({}, '{province}', '{county}', '{}', 'بنچ', 'آزمون', {now}, {now})",
                    first + i as i64,
                    if i % 3 == 0 { "rural" } else { "urban" }
                )
            })
            .collect();
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO persons (id, province_code, county_code, zone, first_name, last_name, \
             created_at, updated_at) VALUES {}",
            persons.join(",")
        )))
        .execute(&mut *tx)
        .await?;
        let needs: Vec<String> = (start..end)
            .map(|i| {
                let amount = 1 + (i as i64 * 7919) % 5;
                total += amount;
                format!(
                    "({}, '{need_type}', {amount}, 0, 'normal', 'verified', '{province}', '{county}', \
                     '{}', {now}, {now}, {now})",
                    first + i as i64,
                    if i % 3 == 0 { "rural" } else { "urban" }
                )
            })
            .collect();
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO needs (person_id, need_type, amount, allocated, urgency, status, \
             province_code, county_code, zone, created_at, verified_at, updated_at) VALUES {}",
            needs.join(",")
        )))
        .execute(&mut *tx)
        .await?;
    }
    if store.engine() == crate::Engine::Postgres {
        sqlx::query(
            "SELECT setval(pg_get_serial_sequence('persons', 'id'), (SELECT MAX(id) FROM persons))",
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(total)
}
