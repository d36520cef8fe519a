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

/// Ids the page benchmark (`hamdeli bench pages`) puts into its routes: `{name}` → value.
/// Each is a row the named role may open in the demo data set (a person of Tehran's first
/// county held by the demo relief committee, the first campaign, an open review, …); a
/// missing one is left out (its routes are skipped).
pub async fn page_placeholders(store: &Store) -> Result<Vec<(&'static str, String)>> {
    let queries: [(&'static str, &str); 8] = [
        (
            "person",
            "SELECT MIN(p.id) FROM persons p JOIN source_records r ON r.person_id = p.id \
             JOIN source_lists l ON l.id = r.list_id \
             WHERE p.county_code = '2301' AND p.merged_into IS NULL AND l.organisation_id = 1",
        ),
        ("campaign", "SELECT MIN(id) FROM campaigns"),
        (
            "review",
            "SELECT MIN(id) FROM link_reviews WHERE status = 'open'",
        ),
        ("batch", "SELECT MAX(id) FROM import_batches"),
        (
            "household",
            "SELECT MIN(id) FROM households WHERE county_code = '2301'",
        ),
        ("organisation", "SELECT MIN(id) FROM organisations"),
        ("user", "SELECT MIN(id) FROM users"),
        (
            "receipt",
            "SELECT MIN(receipt_code) FROM pledges WHERE receipt_code IS NOT NULL",
        ),
    ];
    let mut out = vec![("province", "23".to_owned()), ("county", "2301".to_owned())];
    for (name, sql) in queries {
        // A table or column another capability renamed must not stop the benchmark.
        let Ok(row) = sqlx::query(AssertSqlSafe(sql))
            .fetch_one(store.pool())
            .await
        else {
            continue;
        };
        let value = row
            .try_get::<Option<i64>, _>(0)
            .ok()
            .flatten()
            .map(|v| v.to_string())
            .or_else(|| row.try_get::<Option<String>, _>(0).ok().flatten());
        if let Some(v) = value {
            out.push((name, v));
        }
    }
    Ok(out)
}
