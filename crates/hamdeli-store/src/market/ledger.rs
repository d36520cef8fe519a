//! The market's double-entry ledger: every journal entry is a [`Posting`] of the domain (its
//! lines add up to zero: debits positive, credits negative, checked where it is built), written
//! in the transaction of the step that moves the money.
//!
//! Accounts ([`Account`]): `platform_cash` (what the platform holds of buyers' money),
//! `producer_payable` (what it owes a producer; one per producer), `commission_income`.

use serde::Serialize;
use sqlx::Row;

pub use hamdeli_domain::market::ledger::{
    Account, COMMISSION_INCOME, PLATFORM_CASH, PRODUCER_PAYABLE,
};
use hamdeli_domain::posting::Posting;

use crate::{AnyConnection, Result, Store, now_millis};

/// References of a journal entry.
#[derive(Debug, Clone, Default)]
pub struct Refs<'a> {
    pub purchase_id: Option<i64>,
    pub order_id: Option<i64>,
    pub producer_id: Option<i64>,
    pub reference: Option<&'a str>,
}

/// Writes a posting as one journal entry with its lines (lines of zero are not written), in the
/// caller's transaction. Balanced by construction: a [`Posting`] is only made balanced.
pub async fn post(
    conn: &mut AnyConnection,
    kind: &str,
    refs: &Refs<'_>,
    posting: &Posting<Account>,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO market_journal (kind, purchase_id, order_id, producer_id, reference, at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(kind.to_owned())
    .bind(refs.purchase_id)
    .bind(refs.order_id)
    .bind(refs.producer_id)
    .bind(refs.reference.map(str::to_owned))
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await?;
    let id: i64 = row.get(0);
    for p in posting.lines().iter().filter(|p| p.amount != 0) {
        sqlx::query(
            "INSERT INTO market_postings (journal_id, account, producer_id, amount_rials) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(p.account.code())
        .bind(p.account.producer_id())
        .bind(p.amount)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

/// What the platform owes a producer now (credits minus debits on her payable account).
pub async fn producer_balance(conn: &mut AnyConnection, producer_id: i64) -> Result<i64> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(amount_rials), 0) AS BIGINT) FROM market_postings \
         WHERE account = $1 AND producer_id = $2",
    )
    .bind(PRODUCER_PAYABLE)
    .bind(producer_id)
    .fetch_one(&mut *conn)
    .await?;
    // Payable is a liability: its balance is the negated sum.
    Ok(-row.get::<i64, _>(0))
}

/// The balance of an account over all producers.
pub async fn account_balance(store: &Store, account: &str) -> Result<i64> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(amount_rials), 0) AS BIGINT) FROM market_postings WHERE account = $1",
    )
    .bind(account.to_owned())
    .fetch_one(store.pool())
    .await?;
    Ok(row.get(0))
}

/// The sum of every posting (zero in a sound ledger).
pub async fn trial_balance(store: &Store) -> Result<i64> {
    let row =
        sqlx::query("SELECT CAST(COALESCE(SUM(amount_rials), 0) AS BIGINT) FROM market_postings")
            .fetch_one(store.pool())
            .await?;
    Ok(row.get(0))
}

/// A line of a producer's statement.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub kind: String,
    pub reference: Option<String>,
    pub at: i64,
    /// Positive: owed to her; negative: paid out or taken back.
    pub amount: i64,
}

pub async fn statement(store: &Store, producer_id: i64, limit: i64) -> Result<Vec<Line>> {
    Ok(sqlx::query(
        "SELECT j.kind, j.reference, j.at, -p.amount_rials FROM market_postings p \
         JOIN market_journal j ON j.id = p.journal_id \
         WHERE p.account = $1 AND p.producer_id = $2 ORDER BY p.id DESC LIMIT $3",
    )
    .bind(PRODUCER_PAYABLE)
    .bind(producer_id)
    .bind(limit)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|r| Line {
        kind: r.get(0),
        reference: r.get(1),
        at: r.get(2),
        amount: r.get(3),
    })
    .collect())
}

/// Producers the platform owes money to: (producer id, shop name, balance).
pub async fn payables(store: &Store) -> Result<Vec<(i64, String, i64)>> {
    Ok(sqlx::query(
        "SELECT p.producer_id, s.shop_name, CAST(-SUM(p.amount_rials) AS BIGINT) FROM market_postings p \
         JOIN market_producers s ON s.id = p.producer_id WHERE p.account = $1 \
         GROUP BY p.producer_id, s.shop_name HAVING SUM(p.amount_rials) < 0 ORDER BY p.producer_id",
    )
    .bind(PRODUCER_PAYABLE)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect())
}
