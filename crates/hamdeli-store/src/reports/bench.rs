//! Bulk loading of accepted reports for the benchmark (`hamdeli bench reports`): set-based
//! INSERT … SELECT in one transaction, then the rollup built once as accepting keeps it.

use sqlx::{AssertSqlSafe, Row};

use crate::{Result, Store};

/// Seconds each step of the load took, from its start.
#[derive(Debug, Clone, Copy)]
pub struct LoadTimes {
    pub reports_s: f64,
    pub values_s: f64,
    pub total_s: f64,
}

/// (reports, values, rollup rows).
pub async fn counts(store: &Store) -> Result<(i64, i64, i64)> {
    let r = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM reports), (SELECT COUNT(*) FROM report_values), \
         (SELECT COUNT(*) FROM report_rollup)",
    )
    .fetch_one(store.pool())
    .await?;
    Ok((r.get(0), r.get(1), r.get(2)))
}

/// Every county reports every period of each data set (accepted), `elements` numeric values
/// (`e01`…) each; one county in seven two days late. `periods`: (code, due ISO date, deadline).
pub async fn load(
    store: &Store,
    datasets: &[i64],
    periods: &[(String, String, i64)],
    elements: usize,
) -> Result<LoadTimes> {
    let started = std::time::Instant::now();
    let mut tx = store.begin().await?;
    sqlx::query(
        "CREATE TEMP TABLE bench_periods (period TEXT NOT NULL, due_on TEXT NOT NULL, \
         deadline BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    for (code, due, deadline) in periods {
        sqlx::query("INSERT INTO bench_periods (period, due_on, deadline) VALUES ($1, $2, $3)")
            .bind(code)
            .bind(due)
            .bind(*deadline)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("CREATE TEMP TABLE bench_elements (code TEXT NOT NULL, n BIGINT NOT NULL)")
        .execute(&mut *tx)
        .await?;
    for i in 1..=elements {
        sqlx::query("INSERT INTO bench_elements (code, n) VALUES ($1, $2)")
            .bind(format!("e{i:02}"))
            .bind(i as i64)
            .execute(&mut *tx)
            .await?;
    }
    let ids = datasets
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO reports (dataset_id, version, province_code, county_code, period, status, \
         due_on, submitted_at, approved_at, accepted_at, created_at, updated_at) \
         SELECT d.id, 1, c.province_code, c.code, p.period, 'accepted', p.due_on, \
         CASE WHEN CAST(c.code AS BIGINT) % 7 = 0 THEN p.deadline + 172800000 \
              ELSE p.deadline - 86400000 END, p.deadline, p.deadline, p.deadline, p.deadline \
         FROM report_datasets d CROSS JOIN counties c CROSS JOIN bench_periods p \
         WHERE d.id IN ({ids}) ORDER BY d.id, c.province_code, c.code, p.period"
    )))
    .execute(&mut *tx)
    .await?;
    let reports_s = started.elapsed().as_secs_f64();
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO report_values (report_id, element, part, num_value, text_value) \
         SELECT r.id, e.code, '', (r.id * 31 + e.n * 17) % 997 + 1, NULL \
         FROM reports r CROSS JOIN bench_elements e WHERE r.dataset_id IN ({ids}) \
         ORDER BY r.id, e.code"
    )))
    .execute(&mut *tx)
    .await?;
    let values_s = started.elapsed().as_secs_f64();
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO report_rollup (dataset_id, element, period, province_code, value, reports) \
         SELECT r.dataset_id, v.element, r.period, r.province_code, SUM(v.num_value), COUNT(*) \
         FROM reports r JOIN report_values v ON v.report_id = r.id AND v.part = '' \
         WHERE r.status = 'accepted' AND r.dataset_id IN ({ids}) \
         GROUP BY r.dataset_id, v.element, r.period, r.province_code"
    )))
    .execute(&mut *tx)
    .await?;
    sqlx::query("DROP TABLE bench_periods")
        .execute(&mut *tx)
        .await?;
    sqlx::query("DROP TABLE bench_elements")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(store.pool()).await?;
    Ok(LoadTimes {
        reports_s,
        values_s,
        total_s: started.elapsed().as_secs_f64(),
    })
}
