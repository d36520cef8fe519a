//! Synthetic loans for `hamdeli loans bench`: N disbursed loans of one province, 12 monthly
//! instalments each, written set-based (a generated series of loans, the instalments by a join
//! with twelve numbers and the calendar table). The amounts follow the schedule's rules in SQL
//! integer arithmetic (fee ⌊P·F·13/2400⌋, instalment ⌊(P+fee)/12⌋, remainders on the last).

use sqlx::{AssertSqlSafe, Row};

use crate::{Engine, Result, Store, now_millis};

/// The start every bench loan has: 1405/01/15 (month index 1405·12 + 0).
pub const START: &str = "1405/01/15";
const START_MONTH: i64 = 1405 * 12;
const DAY: i64 = 15;
/// 4 % a year in ten-thousandths of a percent.
const FEE_UNITS: i64 = 40_000;

/// Writes `n` bench loans into `province` (spread over `counties`) under product `product`;
/// returns the loans written. Only for an empty bench database.
pub async fn seed(
    store: &Store,
    product: i64,
    province: &str,
    counties: &[String],
    n: i64,
) -> Result<i64> {
    let mut tx = store.begin().await?;
    super::ensure_calendar(&mut tx, store.engine()).await?;
    let now = now_millis();
    let k = counties.len().max(1) as i64;
    // The county of loan i is counties[i % k], chosen by a CASE over the series.
    let mut county_case = String::from("CASE");
    for (j, c) in counties.iter().enumerate() {
        county_case.push_str(&format!(
            " WHEN i % {k} = {j} THEN '{}'",
            c.replace('\'', "")
        ));
    }
    county_case.push_str(" END");
    let amount = "(10000000 + (i % 1000) * 10000)";
    let fee = format!("(({amount}) * {FEE_UNITS} * 13 / 24000000)");
    let select = format!(
        "SELECT 'BENCH-' || CAST(i AS TEXT), {product}, 'person', '{province}', {county_case}, 1, {amount}, \
         12, 0, {FEE_UNITS}, {fee}, 'bench', '', 'disbursed', '{START}', 0, 0, {now}, {now}, {now}",
        province = province.replace('\'', "")
    );
    let columns = "loan_no, product_id, applicant_kind, province_code, county_code, female_head, \
        amount, months, grace_months, fee_units, fee_total, purpose, documents, status, start_jalali, \
        paid_total, deferred_months, applied_at, decided_at, disbursed_at";
    let sql = match store.engine() {
        Engine::Sqlite => format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) \
             INSERT INTO loans ({columns}) {select} FROM s"
        ),
        Engine::Postgres => {
            format!(
                "INSERT INTO loans ({columns}) {select} FROM generate_series(CAST(1 AS BIGINT), CAST({n} AS BIGINT)) AS s(i)"
            )
        }
    };
    let written = sqlx::query(AssertSqlSafe(sql))
        .execute(&mut *tx)
        .await?
        .rows_affected() as i64;
    let numbers = (1..=12)
        .map(|k| format!("SELECT {k} AS k"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let sql = format!(
        "INSERT INTO loan_instalments (loan_id, n, due_month, anchor_day, due_on, principal, fee, total, paid) \
         SELECT l.id, x.k, {START_MONTH} + x.k, {DAY}, c.due_on, \
           (CASE WHEN x.k = 12 THEN l.amount + l.fee_total - 11 * ((l.amount + l.fee_total) / 12) \
                 ELSE (l.amount + l.fee_total) / 12 END) \
           - (CASE WHEN x.k = 12 THEN l.fee_total - 11 * (l.fee_total / 12) ELSE l.fee_total / 12 END), \
           CASE WHEN x.k = 12 THEN l.fee_total - 11 * (l.fee_total / 12) ELSE l.fee_total / 12 END, \
           CASE WHEN x.k = 12 THEN l.amount + l.fee_total - 11 * ((l.amount + l.fee_total) / 12) \
                ELSE (l.amount + l.fee_total) / 12 END, 0 \
         FROM loans l CROSS JOIN ({numbers}) x \
         JOIN loan_calendar c ON c.month_index = {START_MONTH} + x.k AND c.day = {DAY} \
         WHERE l.product_id = $1"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(product)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if store.engine() == Engine::Postgres {
        sqlx::query("ANALYZE loans").execute(store.pool()).await?;
        sqlx::query("ANALYZE loan_instalments")
            .execute(store.pool())
            .await?;
    } else {
        sqlx::query("ANALYZE").execute(store.pool()).await?;
    }
    Ok(written)
}

/// Instalments of the bench loans whose due date moved from the plain schedule (a check).
pub async fn moved_instalments(store: &Store, product: i64) -> Result<i64> {
    let r = sqlx::query(
        "SELECT COUNT(*) FROM loan_instalments i JOIN loans l ON l.id = i.loan_id \
         WHERE l.product_id = $1 AND i.due_month <> $2 + i.n",
    )
    .bind(product)
    .bind(START_MONTH)
    .fetch_one(store.pool())
    .await?;
    Ok(r.get(0))
}
