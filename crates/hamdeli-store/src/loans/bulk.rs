//! The statements of a bulk deferral commit, per engine, in the caller's transaction (the
//! decision row is already written: `bulk`). Both write the same rows: one approved deferral per
//! loan, every instalment from the loan's first one due in the period re-dated through the
//! calendar table, the loans' deferred months.
//!
//! On PostgreSQL (issue 14: 219 s for 1,000,000 loans and 5,000,000 instalments) the targets
//! are computed once into a temporary table (no WAL) that is analysed, so every later statement
//! is a hash join over sequential scans instead of a million index probes; the loans are
//! updated first (the lock order of a repayment: loan row, then its instalments, so a repayment
//! running meanwhile waits for the commit and then pays the new schedule, and the two never
//! deadlock); the instalments are moved by one `UPDATE … FROM … RETURNING` whose rows give the
//! count and amount (no separate counting join). With the fill factors of migration 0024 the
//! row updates are HOT (no index entries). See docs/benchmarks/loans.md.

use sqlx::{AssertSqlSafe, Row};

use super::{BulkSelection, bind_sel, sum};
use crate::{Result, StoreError, Tx};

/// (loans deferred, instalments moved, their open amount).
pub(super) type Moved = (i64, i64, i64);

/// PostgreSQL: temporary target table, loans, deferrals, instalments.
pub(super) async fn move_postgres(
    tx: &mut Tx,
    sel: &BulkSelection,
    bulk: i64,
    reason: &str,
    now: i64,
    by: Option<i64>,
) -> Result<Moved> {
    // The grouping of a million loans in memory rather than in 16 spilled batches; for this
    // transaction only.
    sqlx::query("SET LOCAL work_mem = '64MB'")
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "CREATE TEMPORARY TABLE loan_bulk_targets (loan_id BIGINT NOT NULL, from_n BIGINT NOT NULL, \
         months BIGINT NOT NULL) ON COMMIT DROP",
    )
    .execute(&mut **tx)
    .await?;
    let sql = format!(
        "INSERT INTO loan_bulk_targets (loan_id, from_n, months) SELECT t.loan_id, t.from_n, t.months FROM ({}) t",
        sel.targets_sql()
    );
    let loans = bind_sel(sqlx::query(AssertSqlSafe(sql)), sel)
        .execute(&mut **tx)
        .await?
        .rows_affected() as i64;
    sqlx::query("ANALYZE loan_bulk_targets")
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE loans AS l SET deferred_months = l.deferred_months + $1 \
         FROM loan_bulk_targets t WHERE l.id = t.loan_id",
    )
    .bind(sel.months)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO loan_deferrals (loan_id, bulk_id, from_n, months, status, reason, requested_at, \
         decided_at, decided_by) SELECT t.loan_id, $1, t.from_n, $2, 'approved', $3, $4, $4, $5 \
         FROM loan_bulk_targets t ORDER BY t.loan_id",
    )
    .bind(bulk)
    .bind(sel.months)
    .bind(reason.to_owned())
    .bind(now)
    .bind(by)
    .execute(&mut **tx)
    .await?;
    let sql = format!(
        "WITH moved AS (UPDATE loan_instalments AS i SET due_month = i.due_month + $1, due_on = c.due_on \
         FROM loan_bulk_targets t, loan_calendar c \
         WHERE i.loan_id = t.loan_id AND i.n >= t.from_n \
         AND c.month_index = i.due_month + $1 AND c.day = i.anchor_day \
         RETURNING i.total - i.paid AS open) \
         SELECT COUNT(*), {} FROM moved",
        sum("open")
    );
    let r = sqlx::query(AssertSqlSafe(sql))
        .bind(sel.months)
        .fetch_one(&mut **tx)
        .await?;
    let (instalments, amount): (i64, i64) = (r.get(0), r.get(1));
    // A loan's instalments are 1 … months: instalments from_n … months must all have moved.
    let expected: i64 = sqlx::query(AssertSqlSafe(format!(
        "SELECT {} FROM loan_bulk_targets",
        sum("months - from_n + 1")
    )))
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    if instalments != expected {
        // A due month beyond the calendar table: refuse rather than leave a loan half moved.
        return Err(StoreError::Invalid("loans-error-calendar"));
    }
    Ok((loans, instalments, amount))
}

/// SQLite (one writer: nothing runs meanwhile): the deferrals from the grouped SELECT, then the
/// instalments and loans through them.
pub(super) async fn move_sqlite(
    tx: &mut Tx,
    sel: &BulkSelection,
    bulk: i64,
    reason: &str,
    now: i64,
    by: Option<i64>,
) -> Result<Moved> {
    let sql = format!(
        "INSERT INTO loan_deferrals (loan_id, bulk_id, from_n, months, status, reason, requested_at, \
         decided_at, decided_by) SELECT t.loan_id, $6, t.from_n, $7, 'approved', $8, $9, $9, $10 FROM ({}) t",
        sel.targets_sql()
    );
    let loans = bind_sel(sqlx::query(AssertSqlSafe(sql)), sel)
        .bind(bulk)
        .bind(sel.months)
        .bind(reason.to_owned())
        .bind(now)
        .bind(by)
        .execute(&mut **tx)
        .await?
        .rows_affected() as i64;
    let sql = format!(
        "SELECT COUNT(*), {} FROM loan_deferrals d JOIN loan_instalments i ON i.loan_id = d.loan_id \
         AND i.n >= d.from_n WHERE d.bulk_id = $1",
        sum("i.total - i.paid")
    );
    let r = sqlx::query(AssertSqlSafe(sql))
        .bind(bulk)
        .fetch_one(&mut **tx)
        .await?;
    let (instalments, amount): (i64, i64) = (r.get(0), r.get(1));
    let moved = sqlx::query(
        "UPDATE loan_instalments AS i SET due_month = i.due_month + $1, due_on = c.due_on \
         FROM loan_deferrals d, loan_calendar c \
         WHERE d.bulk_id = $2 AND i.loan_id = d.loan_id AND i.n >= d.from_n \
         AND c.month_index = i.due_month + $1 AND c.day = i.anchor_day",
    )
    .bind(sel.months)
    .bind(bulk)
    .execute(&mut **tx)
    .await?
    .rows_affected() as i64;
    if moved != instalments {
        // A due month beyond the calendar table: refuse rather than leave a loan half moved.
        return Err(StoreError::Invalid("loans-error-calendar"));
    }
    sqlx::query(
        "UPDATE loans SET deferred_months = deferred_months + $1 \
         WHERE id IN (SELECT loan_id FROM loan_deferrals WHERE bulk_id = $2)",
    )
    .bind(sel.months)
    .bind(bulk)
    .execute(&mut **tx)
    .await?;
    Ok((loans, instalments, amount))
}
