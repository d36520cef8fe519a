//! Capability loans: every SQL statement of it, on SQLite and PostgreSQL.
//!
//! Cooperatives, loan products, loans (application → decision → contract → disbursement →
//! repayment), their schedules (`loan_instalments`), deferrals one by one and in bulk, payments,
//! the double-entry journal and the idempotency keys of requests that move money. A bulk
//! deferral is three set-based statements (insert the deferrals from a grouped SELECT, move the
//! instalments with one `UPDATE … FROM` through the `loan_calendar` table, count), whatever the
//! number of loans.

pub mod bench;
mod bulk;

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use hamdeli_domain::loans::journal as entries;
use hamdeli_domain::loans::policy::LoanScope;
use hamdeli_domain::loans::schedule::{self, Instalment};
use hamdeli_domain::posting::Posting;

use crate::{AnyConnection, Engine, Result, Store, StoreError, Tx, now_millis};

/// `CAST(COALESCE(SUM(expr), 0) AS BIGINT)`: PostgreSQL sums BIGINT as NUMERIC.
fn sum(expr: &str) -> String {
    format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)")
}

/// A value for a UNIQUE NOT NULL column until the row's id names it.
fn provisional(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The one bind of a scope condition.
#[derive(Debug, Clone)]
pub(crate) enum ScopeBind {
    Text(String),
    Int(i64),
}

/// The WHERE condition of a loan scope over the loans alias `l`, with exactly one bind at `$n`
/// (so the positions of later binds never depend on the scope).
pub(crate) fn scope_sql(scope: &LoanScope, n: usize) -> (String, ScopeBind) {
    match scope {
        LoanScope::All => (format!("${n} = ''"), ScopeBind::Text(String::new())),
        LoanScope::Province(p) => (
            format!("l.province_code = ${n}"),
            ScopeBind::Text(p.clone()),
        ),
        LoanScope::County(c) => (format!("l.county_code = ${n}"), ScopeBind::Text(c.clone())),
        LoanScope::Organisation(o) => (format!("l.organisation_id = ${n}"), ScopeBind::Int(*o)),
        LoanScope::Applicant(u) => (format!("l.applicant_user_id = ${n}"), ScopeBind::Int(*u)),
        LoanScope::Nothing => (
            format!("${n} = 'none' AND 1 = 0"),
            ScopeBind::Text(String::new()),
        ),
    }
}

macro_rules! bind_scope {
    ($q:expr, $b:expr) => {{
        match $b.clone() {
            ScopeBind::Text(t) => $q.bind(t),
            ScopeBind::Int(i) => $q.bind(i),
        }
    }};
}

// ---------------------------------------------------------------------------------------------
// The calendar table

/// Jalali years the calendar table covers (start dates 1300–1500 are accepted by the schedule;
/// loans live in this window).
pub const CALENDAR_YEARS: std::ops::RangeInclusive<i32> = 1380..=1480;

/// Fills `loan_calendar` once: (month index, start day 1–31) → the clamped due date's day number.
pub async fn ensure_calendar(conn: &mut AnyConnection, engine: Engine) -> Result<()> {
    let expected = (CALENDAR_YEARS.end() - CALENDAR_YEARS.start() + 1) as i64 * 12 * 31;
    let have: i64 = sqlx::query("SELECT COUNT(*) FROM loan_calendar")
        .fetch_one(&mut *conn)
        .await?
        .get(0);
    if have >= expected {
        return Ok(());
    }
    let mut rows: Vec<(i64, i64, i64)> = Vec::with_capacity(expected as usize);
    for y in CALENDAR_YEARS {
        for m in 1..=12_i64 {
            let index = i64::from(y) * 12 + m - 1;
            for d in 1..=31_u8 {
                let date = schedule::clamped_date(index, d)
                    .map_err(|_| StoreError::Invalid("loans-error-calendar"))?;
                rows.push((index, i64::from(d), date.to_iso().to_days()));
            }
        }
    }
    for chunk in rows.chunks(500) {
        let sql = format!(
            "INSERT INTO loan_calendar (month_index, day, due_on) VALUES {} ON CONFLICT DO NOTHING",
            crate::values_placeholders(engine, chunk.len(), 3)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (a, b, c) in chunk {
            q = q.bind(*a).bind(*b).bind(*c);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Idempotency and the journal

/// What claiming an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: this transaction does the work (and [`finish_key`]s it).
    New,
    /// The key was used before: its action, request fingerprint and result.
    Used {
        action: String,
        fingerprint: String,
        result: String,
    },
}

/// Claims `key` inside the transaction. A concurrent request with the same key waits for this
/// transaction (PostgreSQL's unique index; SQLite's write lock) and then finds it used.
pub async fn claim_key(tx: &mut Tx, key: &str, action: &str, fingerprint: &str) -> Result<Claim> {
    let done = sqlx::query(
        "INSERT INTO loan_requests (idempotency_key, action, fingerprint, result, created_at) \
         VALUES ($1, $2, $3, '', $4) ON CONFLICT DO NOTHING",
    )
    .bind(key.to_owned())
    .bind(action.to_owned())
    .bind(fingerprint.to_owned())
    .bind(now_millis())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if done == 1 {
        return Ok(Claim::New);
    }
    let r = sqlx::query(
        "SELECT action, fingerprint, result FROM loan_requests WHERE idempotency_key = $1",
    )
    .bind(key.to_owned())
    .fetch_one(&mut **tx)
    .await?;
    Ok(Claim::Used {
        action: r.get(0),
        fingerprint: r.get(1),
        result: r.get(2),
    })
}

/// Stores the result of a claimed key.
pub async fn finish_key(tx: &mut Tx, key: &str, result: &str) -> Result<()> {
    sqlx::query("UPDATE loan_requests SET result = $1 WHERE idempotency_key = $2")
        .bind(result.to_owned())
        .bind(key.to_owned())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Writes a journal entry of a loan: one row per line of the posting (its debit or its credit),
/// in the caller's transaction. Balanced by construction: a [`Posting`] is only made balanced
/// (see `hamdeli_domain::posting`), and the loans' entries are built in
/// `hamdeli_domain::loans::journal`.
pub async fn journal(tx: &mut Tx, entry: &str, loan: i64, posting: &Posting<String>) -> Result<()> {
    let at = now_millis();
    for l in posting.lines() {
        sqlx::query(
            "INSERT INTO loan_journal (entry, account, loan_id, debit, credit, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(entry.to_owned())
        .bind(l.account.clone())
        .bind(loan)
        .bind(l.debit())
        .bind(l.credit())
        .bind(at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Balance (debits − credits) of each account, over all loans or one.
pub async fn account_balances(store: &Store, loan: Option<i64>) -> Result<Vec<(String, i64)>> {
    let sql = format!(
        "SELECT account, {} FROM loan_journal WHERE ($1 = 0 OR loan_id = $1) GROUP BY account ORDER BY account",
        sum("debit - credit")
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(loan.unwrap_or(0))
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

// ---------------------------------------------------------------------------------------------
// Cooperatives

#[derive(Debug, Clone)]
pub struct NewCooperative {
    pub registration_no: String,
    pub name: String,
    pub field: String,
    pub province: String,
    pub county: String,
    pub organisation_id: Option<i64>,
    pub created_by: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cooperative {
    pub id: i64,
    pub registration_no: String,
    pub name: String,
    pub field: String,
    pub province: String,
    pub county: String,
    pub county_name: String,
    pub status: String,
    pub members: i64,
    pub organisation_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub person_id: i64,
    pub name: String,
    pub board_role: Option<String>,
}

pub async fn insert_cooperative(tx: &mut Tx, c: &NewCooperative) -> Result<i64> {
    let r = sqlx::query(
        "INSERT INTO loan_cooperatives (registration_no, name, field, province_code, county_code, \
         status, organisation_id, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(c.registration_no.clone())
    .bind(c.name.clone())
    .bind(c.field.clone())
    .bind(c.province.clone())
    .bind(c.county.clone())
    .bind(c.organisation_id)
    .bind(c.created_by)
    .bind(now_millis())
    .fetch_optional(&mut **tx)
    .await?;
    match r {
        Some(r) => Ok(r.get(0)),
        None => Err(StoreError::Conflict("loans-coop-duplicate")),
    }
}

pub async fn cooperative_by_registration(store: &Store, reg: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query("SELECT id FROM loan_cooperatives WHERE registration_no = $1")
            .bind(reg.to_owned())
            .fetch_optional(store.pool())
            .await?
            .map(|r| r.get(0)),
    )
}

pub async fn set_cooperative_status(tx: &mut Tx, id: i64, status: &str) -> Result<()> {
    let n = sqlx::query("UPDATE loan_cooperatives SET status = $1 WHERE id = $2")
        .bind(status.to_owned())
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Adds (or updates the board role of) a member.
pub async fn upsert_member(
    tx: &mut Tx,
    coop: i64,
    person: i64,
    board_role: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO loan_cooperative_members (cooperative_id, person_id, board_role, joined_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (cooperative_id, person_id) \
         DO UPDATE SET board_role = excluded.board_role",
    )
    .bind(coop)
    .bind(person)
    .bind(board_role.map(str::to_owned))
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn coop_from_row(r: &AnyRow) -> Cooperative {
    Cooperative {
        id: r.get(0),
        registration_no: r.get(1),
        name: r.get(2),
        field: r.get(3),
        province: r.get(4),
        county: r.get(5),
        county_name: r.get(6),
        status: r.get(7),
        members: r.get(8),
        organisation_id: r.get(9),
    }
}

const COOP_COLUMNS: &str = "l.id, l.registration_no, l.name, l.field, l.province_code, \
     l.county_code, COALESCE(c.name_fa, l.county_code), l.status, \
     (SELECT COUNT(*) FROM loan_cooperative_members m WHERE m.cooperative_id = l.id), \
     l.organisation_id";

/// Cooperatives in the scope (the `l` alias carries the place columns like loans do).
pub async fn cooperatives(store: &Store, scope: &LoanScope) -> Result<Vec<Cooperative>> {
    let scope = match scope {
        LoanScope::Applicant(_) => &LoanScope::Nothing,
        s => s,
    };
    let (w, b) = scope_sql(scope, 1);
    let sql = format!(
        "SELECT {COOP_COLUMNS} FROM loan_cooperatives l LEFT JOIN counties c ON c.code = l.county_code \
         WHERE {w} ORDER BY l.name LIMIT 2000"
    );
    let rows = bind_scope!(sqlx::query(AssertSqlSafe(sql)), b)
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(coop_from_row).collect())
}

pub async fn cooperative(store: &Store, id: i64) -> Result<Option<Cooperative>> {
    let sql = format!(
        "SELECT {COOP_COLUMNS} FROM loan_cooperatives l LEFT JOIN counties c ON c.code = l.county_code \
         WHERE l.id = $1"
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(store.pool())
        .await?
        .map(|r| coop_from_row(&r)))
}

pub async fn members(store: &Store, coop: i64) -> Result<Vec<Member>> {
    let rows = sqlx::query(
        "SELECT m.person_id, COALESCE(p.first_name, '') || ' ' || COALESCE(p.last_name, ''), m.board_role \
         FROM loan_cooperative_members m JOIN persons p ON p.id = m.person_id \
         WHERE m.cooperative_id = $1 ORDER BY m.board_role IS NULL, m.person_id",
    )
    .bind(coop)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Member {
            person_id: r.get(0),
            name: r.get(1),
            board_role: r.get(2),
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Products

#[derive(Debug, Clone, Serialize)]
pub struct Product {
    pub id: i64,
    pub code: String,
    pub name_fa: String,
    pub name_en: String,
    pub fee_units: i64,
    pub max_amount: i64,
    pub term_months: i64,
    pub grace_months: i64,
    pub applicants: String,
    pub female_head_only: bool,
    pub fund_source: String,
    pub fund_name: String,
    pub active: bool,
}

impl Product {
    pub fn allows(&self, kind: &str) -> bool {
        self.applicants.split(',').any(|k| k.trim() == kind)
    }
}

pub async fn insert_product(tx: &mut Tx, p: &Product) -> Result<i64> {
    let r = sqlx::query(
        "INSERT INTO loan_products (code, name_fa, name_en, fee_units, max_amount, term_months, \
         grace_months, applicants, female_head_only, fund_source, fund_name, active, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(p.code.clone())
    .bind(p.name_fa.clone())
    .bind(p.name_en.clone())
    .bind(p.fee_units)
    .bind(p.max_amount)
    .bind(p.term_months)
    .bind(p.grace_months)
    .bind(p.applicants.clone())
    .bind(crate::flag(p.female_head_only))
    .bind(p.fund_source.clone())
    .bind(p.fund_name.clone())
    .bind(now_millis())
    .fetch_optional(&mut **tx)
    .await?;
    match r {
        Some(r) => Ok(r.get(0)),
        None => Err(StoreError::Conflict("loans-product-duplicate")),
    }
}

const PRODUCT_COLUMNS: &str = "id, code, name_fa, name_en, fee_units, max_amount, term_months, \
     grace_months, applicants, female_head_only, fund_source, fund_name, active";

fn product_from_row(r: &AnyRow) -> Product {
    Product {
        id: r.get(0),
        code: r.get(1),
        name_fa: r.get(2),
        name_en: r.get(3),
        fee_units: r.get(4),
        max_amount: r.get(5),
        term_months: r.get(6),
        grace_months: r.get(7),
        applicants: r.get(8),
        female_head_only: r.get::<i64, _>(9) != 0,
        fund_source: r.get(10),
        fund_name: r.get(11),
        active: r.get::<i64, _>(12) != 0,
    }
}

pub async fn products(store: &Store) -> Result<Vec<Product>> {
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM loan_products ORDER BY id");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(product_from_row).collect())
}

pub async fn product(store: &Store, id: i64) -> Result<Option<Product>> {
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM loan_products WHERE id = $1");
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(store.pool())
        .await?
        .map(|r| product_from_row(&r)))
}

pub async fn product_by_code(store: &Store, code: &str) -> Result<Option<Product>> {
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM loan_products WHERE code = $1");
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(code.to_owned())
        .fetch_optional(store.pool())
        .await?
        .map(|r| product_from_row(&r)))
}

// ---------------------------------------------------------------------------------------------
// Registry facts for eligibility

/// What the registry says of a person, for eligibility.
#[derive(Debug, Clone)]
pub struct Applicant {
    pub person_id: i64,
    pub name: String,
    pub province: Option<String>,
    pub county: Option<String>,
    pub female: bool,
    /// Heads a household the registry marks female-headed.
    pub female_head: bool,
}

/// The person (followed to a merge's survivor), if any.
pub async fn applicant(store: &Store, person: i64) -> Result<Option<Applicant>> {
    let mut id = person;
    for _ in 0..4 {
        let r = sqlx::query("SELECT merged_into FROM persons WHERE id = $1")
            .bind(id)
            .fetch_optional(store.pool())
            .await?;
        match r.and_then(|r| r.get::<Option<i64>, _>(0)) {
            Some(next) => id = next,
            None => break,
        }
    }
    let r = sqlx::query(
        "SELECT p.id, COALESCE(p.first_name, '') || ' ' || COALESCE(p.last_name, ''), p.province_code, \
         p.county_code, p.gender, \
         (SELECT COUNT(*) FROM households h WHERE h.female_head = 1 AND (h.head_person_id = p.id \
            OR EXISTS (SELECT 1 FROM household_members hm WHERE hm.household_id = h.id \
                       AND hm.person_id = p.id AND hm.relation = 'head'))) \
         FROM persons p WHERE p.id = $1",
    )
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    Ok(r.map(|r| {
        let gender: Option<String> = r.get(4);
        Applicant {
            person_id: r.get(0),
            name: r.get::<String, _>(1).trim().to_owned(),
            province: r.get(2),
            county: r.get(3),
            female: gender.as_deref() == Some("female"),
            female_head: r.get::<i64, _>(5) > 0,
        }
    }))
}

/// Persons carrying this national code (not merged away).
pub async fn persons_with_code(store: &Store, code: &str) -> Result<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT id FROM persons WHERE national_code = $1 AND merged_into IS NULL ORDER BY id LIMIT 5",
    )
    .bind(code.to_owned())
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The province of a county.
pub async fn province_of_county(store: &Store, county: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query("SELECT province_code FROM counties WHERE code = $1")
            .bind(county.to_owned())
            .fetch_optional(store.pool())
            .await?
            .map(|r| r.get(0)),
    )
}

// ---------------------------------------------------------------------------------------------
// Loans

#[derive(Debug, Clone)]
pub struct NewLoan {
    pub product_id: i64,
    pub applicant_kind: String,
    pub person_id: Option<i64>,
    pub cooperative_id: Option<i64>,
    pub applicant_user_id: Option<i64>,
    pub organisation_id: Option<i64>,
    pub province: String,
    pub county: String,
    pub female_head: bool,
    pub amount: i64,
    pub months: i64,
    pub grace_months: i64,
    pub fee_units: i64,
    pub purpose: String,
    pub documents: String,
    pub created_by: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Loan {
    pub id: i64,
    pub loan_no: String,
    pub product_id: i64,
    pub product_name: String,
    pub fund_source: String,
    pub applicant_kind: String,
    pub person_id: Option<i64>,
    pub cooperative_id: Option<i64>,
    pub applicant_user_id: Option<i64>,
    pub organisation_id: Option<i64>,
    pub borrower: String,
    pub province: String,
    pub county: String,
    pub county_name: String,
    pub female_head: bool,
    pub amount: i64,
    pub months: i64,
    pub grace_months: i64,
    pub fee_units: i64,
    pub fee_total: i64,
    pub purpose: String,
    pub documents: String,
    pub status: String,
    pub contract_no: Option<String>,
    pub start_jalali: Option<String>,
    pub paid_total: i64,
    pub deferred_months: i64,
    pub applied_at: i64,
    /// Days the oldest unpaid instalment is late (0 when none), as of the query's day.
    pub days_late: i64,
}

impl Loan {
    pub fn outstanding(&self) -> i64 {
        if self.status == "disbursed" {
            self.amount + self.fee_total - self.paid_total
        } else {
            0
        }
    }
}

fn loan_columns(today: i64) -> String {
    format!(
        "l.id, l.loan_no, l.product_id, pr.name_fa, pr.fund_source, l.applicant_kind, l.person_id, \
         l.cooperative_id, l.applicant_user_id, l.organisation_id, \
         COALESCE(co.name, TRIM(COALESCE(p.first_name, '') || ' ' || COALESCE(p.last_name, '')), ''), \
         l.province_code, l.county_code, COALESCE(cn.name_fa, l.county_code), l.female_head, l.amount, \
         l.months, l.grace_months, l.fee_units, l.fee_total, l.purpose, l.documents, l.status, \
         l.contract_no, l.start_jalali, l.paid_total, l.deferred_months, l.applied_at, \
         COALESCE((SELECT {today} - MIN(i.due_on) FROM loan_instalments i WHERE i.loan_id = l.id \
            AND i.paid < i.total AND i.due_on < {today}), 0)"
    )
}

const LOAN_FROM: &str = "loans l JOIN loan_products pr ON pr.id = l.product_id \
     LEFT JOIN persons p ON p.id = l.person_id \
     LEFT JOIN loan_cooperatives co ON co.id = l.cooperative_id \
     LEFT JOIN counties cn ON cn.code = l.county_code";

fn loan_from_row(r: &AnyRow) -> Loan {
    Loan {
        id: r.get(0),
        loan_no: r.get(1),
        product_id: r.get(2),
        product_name: r.get(3),
        fund_source: r.get(4),
        applicant_kind: r.get(5),
        person_id: r.get(6),
        cooperative_id: r.get(7),
        applicant_user_id: r.get(8),
        organisation_id: r.get(9),
        borrower: r.get(10),
        province: r.get(11),
        county: r.get(12),
        county_name: r.get(13),
        female_head: r.get::<i64, _>(14) != 0,
        amount: r.get(15),
        months: r.get(16),
        grace_months: r.get(17),
        fee_units: r.get(18),
        fee_total: r.get(19),
        purpose: r.get(20),
        documents: r.get(21),
        status: r.get(22),
        contract_no: r.get(23),
        start_jalali: r.get(24),
        paid_total: r.get(25),
        deferred_months: r.get(26),
        applied_at: r.get(27),
        days_late: r.get(28),
    }
}

/// Today's day number (days since 1970-01-01) in Iran (UTC+03:30).
pub fn today_in_iran() -> i64 {
    (now_millis() + 12_600_000).div_euclid(86_400_000)
}

pub async fn insert_loan(tx: &mut Tx, n: &NewLoan) -> Result<(i64, String)> {
    let r = sqlx::query(
        "INSERT INTO loans (loan_no, product_id, applicant_kind, person_id, cooperative_id, \
         applicant_user_id, organisation_id, province_code, county_code, female_head, amount, \
         months, grace_months, fee_units, purpose, documents, status, applied_at, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'applied', $17, $18) \
         RETURNING id",
    )
    .bind(provisional("loan"))
    .bind(n.product_id)
    .bind(n.applicant_kind.clone())
    .bind(n.person_id)
    .bind(n.cooperative_id)
    .bind(n.applicant_user_id)
    .bind(n.organisation_id)
    .bind(n.province.clone())
    .bind(n.county.clone())
    .bind(crate::flag(n.female_head))
    .bind(n.amount)
    .bind(n.months)
    .bind(n.grace_months)
    .bind(n.fee_units)
    .bind(n.purpose.clone())
    .bind(n.documents.clone())
    .bind(now_millis())
    .bind(n.created_by)
    .fetch_one(&mut **tx)
    .await?;
    let id: i64 = r.get(0);
    let no = format!("QH-{}-{id:07}", n.province);
    sqlx::query("UPDATE loans SET loan_no = $1 WHERE id = $2")
        .bind(no.clone())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok((id, no))
}

pub async fn loan(store: &Store, id: i64) -> Result<Option<Loan>> {
    let sql = format!(
        "SELECT {} FROM {LOAN_FROM} WHERE l.id = $1",
        loan_columns(today_in_iran())
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(store.pool())
        .await?
        .map(|r| loan_from_row(&r)))
}

pub async fn loan_by_no(store: &Store, no: &str) -> Result<Option<i64>> {
    Ok(sqlx::query("SELECT id FROM loans WHERE loan_no = $1")
        .bind(no.to_owned())
        .fetch_optional(store.pool())
        .await?
        .map(|r| r.get(0)))
}

/// A filter on the loans list.
#[derive(Debug, Clone, Default)]
pub struct LoanFilter {
    /// A status, or `late` (disbursed with an unpaid instalment past due), or `deferred`.
    pub status: Option<String>,
    pub county: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

pub async fn loans(store: &Store, scope: &LoanScope, f: &LoanFilter) -> Result<Vec<Loan>> {
    let today = today_in_iran();
    let (w, b) = scope_sql(scope, 1);
    let status = match f.status.as_deref() {
        Some("late") => format!(
            "l.status = 'disbursed' AND EXISTS (SELECT 1 FROM loan_instalments i WHERE i.loan_id = l.id \
             AND i.paid < i.total AND i.due_on < {today})"
        ),
        Some("deferred") => "l.deferred_months > 0".into(),
        Some(s) if hamdeli_domain::loans::STATUSES.contains(&s) => format!("l.status = '{s}'"),
        _ => "1 = 1".into(),
    };
    let county = if f.county.is_some() {
        "l.county_code = $2"
    } else {
        "$2 = ''"
    };
    let sql = format!(
        "SELECT {} FROM {LOAN_FROM} WHERE {w} AND {status} AND {county} ORDER BY l.id DESC LIMIT {} OFFSET {}",
        loan_columns(today),
        f.limit.clamp(1, 1000),
        f.offset.max(0)
    );
    let rows = bind_scope!(sqlx::query(AssertSqlSafe(sql)), b)
        .bind(f.county.clone().unwrap_or_default())
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(loan_from_row).collect())
}

/// Moves a loan from one status to another, or fails when it is not in `from` any more.
pub async fn transition(tx: &mut Tx, id: i64, from: &str, to: &str) -> Result<()> {
    let n =
        sqlx::query("UPDATE loans SET status = $1, decided_at = $2 WHERE id = $3 AND status = $4")
            .bind(to.to_owned())
            .bind(now_millis())
            .bind(id)
            .bind(from.to_owned())
            .execute(&mut **tx)
            .await?
            .rows_affected();
    if n == 0 {
        return Err(StoreError::Conflict("loans-status-changed"));
    }
    Ok(())
}

pub async fn set_contract(tx: &mut Tx, id: i64, contract_no: &str) -> Result<()> {
    let n = sqlx::query(
        "UPDATE loans SET contract_no = $1 WHERE id = $2 AND status = 'approved' AND contract_no IS NULL",
    )
    .bind(contract_no.to_owned())
    .bind(id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::Conflict("loans-status-changed"));
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct Comment {
    pub kind: String,
    pub body: String,
    pub author: String,
    pub at: i64,
}

pub async fn add_comment(
    tx: &mut Tx,
    loan: i64,
    kind: &str,
    body: &str,
    user: Option<i64>,
    author: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO loan_comments (loan_id, kind, body, author_user_id, author_name, at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(loan)
    .bind(kind.to_owned())
    .bind(body.to_owned())
    .bind(user)
    .bind(author.to_owned())
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn comments(store: &Store, loan: i64) -> Result<Vec<Comment>> {
    let rows = sqlx::query(
        "SELECT kind, body, author_name, at FROM loan_comments WHERE loan_id = $1 ORDER BY id",
    )
    .bind(loan)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Comment {
            kind: r.get(0),
            body: r.get(1),
            author: r.get(2),
            at: r.get(3),
        })
        .collect())
}

/// Marks an approved loan disbursed with its start date and fee, and writes its schedule.
#[allow(clippy::too_many_arguments)]
pub async fn disburse(
    tx: &mut Tx,
    engine: Engine,
    id: i64,
    start_jalali: &str,
    fee_total: i64,
    rows: &[Instalment],
    start_month: i64,
    anchor_day: u8,
) -> Result<()> {
    let n = sqlx::query(
        "UPDATE loans SET status = 'disbursed', start_jalali = $1, fee_total = $2, disbursed_at = $3 \
         WHERE id = $4 AND status = 'approved'",
    )
    .bind(start_jalali.to_owned())
    .bind(fee_total)
    .bind(now_millis())
    .bind(id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::Conflict("loans-status-changed"));
    }
    write_schedule(tx, engine, id, rows, start_month, anchor_day).await
}

/// Inserts the instalment rows of a loan.
pub async fn write_schedule(
    tx: &mut Tx,
    engine: Engine,
    loan: i64,
    rows: &[Instalment],
    start_month: i64,
    anchor_day: u8,
) -> Result<()> {
    for chunk in rows.chunks(100) {
        let sql = format!(
            "INSERT INTO loan_instalments (loan_id, n, due_month, anchor_day, due_on, principal, fee, total) VALUES {}",
            crate::values_placeholders(engine, chunk.len(), 8)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            q = q
                .bind(loan)
                .bind(i64::from(r.n))
                .bind(start_month + i64::from(r.offset))
                .bind(i64::from(anchor_day))
                .bind(r.due.to_iso().to_days())
                .bind(r.principal)
                .bind(r.fee)
                .bind(r.total);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// One instalment as stored.
#[derive(Debug, Clone, Serialize)]
pub struct StoredInstalment {
    pub n: i64,
    pub due_month: i64,
    pub due_on: i64,
    pub principal: i64,
    pub fee: i64,
    pub total: i64,
    pub paid: i64,
}

pub async fn instalments(store: &Store, loan: i64) -> Result<Vec<StoredInstalment>> {
    let rows = sqlx::query(
        "SELECT n, due_month, due_on, principal, fee, total, paid FROM loan_instalments \
         WHERE loan_id = $1 ORDER BY n",
    )
    .bind(loan)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| StoredInstalment {
            n: r.get(0),
            due_month: r.get(1),
            due_on: r.get(2),
            principal: r.get(3),
            fee: r.get(4),
            total: r.get(5),
            paid: r.get(6),
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Payments

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Payment {
    pub id: i64,
    pub loan_id: i64,
    pub amount: i64,
    pub paid_on: String,
    pub source: String,
    pub receipt_no: String,
    pub bank_ref: Option<String>,
}

/// Records a payment: adds it to the loan (never beyond what is owed: a guarded UPDATE), spreads
/// it over the unpaid instalments oldest first (an early payment pays the next ones), marks the
/// loan repaid when nothing is owed, writes the journal entry.
#[allow(clippy::too_many_arguments)]
pub async fn record_payment(
    tx: &mut Tx,
    loan: i64,
    amount: i64,
    paid_on: &str,
    source: &str,
    bank_ref: Option<&str>,
    statement: Option<i64>,
    by: Option<i64>,
) -> Result<Payment> {
    if amount <= 0 {
        return Err(StoreError::Invalid("loans-amount-positive"));
    }
    let n = sqlx::query(
        "UPDATE loans SET paid_total = paid_total + $1 WHERE id = $2 AND status = 'disbursed' \
         AND paid_total + $1 <= amount + fee_total",
    )
    .bind(amount)
    .bind(loan)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::Conflict("loans-payment-too-much"));
    }
    let r = sqlx::query(
        "INSERT INTO loan_payments (loan_id, amount, paid_on, source, bank_ref, statement_id, \
         receipt_no, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(loan)
    .bind(amount)
    .bind(paid_on.to_owned())
    .bind(source.to_owned())
    .bind(bank_ref.map(str::to_owned))
    .bind(statement)
    .bind(provisional("receipt"))
    .bind(by)
    .bind(now_millis())
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = r else {
        return Err(StoreError::Conflict("loans-bank-ref-used"));
    };
    let id: i64 = r.get(0);
    let receipt_no = format!("RC-{loan}-{id:07}");
    sqlx::query("UPDATE loan_payments SET receipt_no = $1 WHERE id = $2")
        .bind(receipt_no.clone())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    // Oldest unpaid first.
    let open = sqlx::query(
        "SELECT n, total - paid FROM loan_instalments WHERE loan_id = $1 AND paid < total ORDER BY n",
    )
    .bind(loan)
    .fetch_all(&mut **tx)
    .await?;
    let mut left = amount;
    for row in open {
        if left == 0 {
            break;
        }
        let n: i64 = row.get(0);
        let due: i64 = row.get(1);
        let take = due.min(left);
        sqlx::query("UPDATE loan_instalments SET paid = paid + $1 WHERE loan_id = $2 AND n = $3")
            .bind(take)
            .bind(loan)
            .bind(n)
            .execute(&mut **tx)
            .await?;
        left -= take;
    }
    sqlx::query(
        "UPDATE loans SET status = 'repaid' WHERE id = $1 AND status = 'disbursed' \
         AND paid_total = amount + fee_total",
    )
    .bind(loan)
    .execute(&mut **tx)
    .await?;
    let posting =
        entries::repayment(amount).map_err(|_| StoreError::Invalid("loans-journal-unbalanced"))?;
    journal(tx, &format!("payment:{id}"), loan, &posting).await?;
    Ok(Payment {
        id,
        loan_id: loan,
        amount,
        paid_on: paid_on.to_owned(),
        source: source.to_owned(),
        receipt_no,
        bank_ref: bank_ref.map(str::to_owned),
    })
}

pub async fn payment(conn: &mut AnyConnection, id: i64) -> Result<Option<Payment>> {
    let r = sqlx::query(
        "SELECT id, loan_id, amount, paid_on, source, receipt_no, bank_ref FROM loan_payments WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(r.map(|r| Payment {
        id: r.get(0),
        loan_id: r.get(1),
        amount: r.get(2),
        paid_on: r.get(3),
        source: r.get(4),
        receipt_no: r.get(5),
        bank_ref: r.get(6),
    }))
}

pub async fn payments(store: &Store, loan: i64) -> Result<Vec<Payment>> {
    let rows = sqlx::query(
        "SELECT id, loan_id, amount, paid_on, source, receipt_no, bank_ref FROM loan_payments \
         WHERE loan_id = $1 ORDER BY id",
    )
    .bind(loan)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Payment {
            id: r.get(0),
            loan_id: r.get(1),
            amount: r.get(2),
            paid_on: r.get(3),
            source: r.get(4),
            receipt_no: r.get(5),
            bank_ref: r.get(6),
        })
        .collect())
}

pub async fn insert_statement(
    tx: &mut Tx,
    file_name: &str,
    rows_read: i64,
    by: Option<i64>,
) -> Result<i64> {
    let r = sqlx::query(
        "INSERT INTO loan_statements (file_name, rows_read, rows_matched, uploaded_by, uploaded_at) \
         VALUES ($1, $2, 0, $3, $4) RETURNING id",
    )
    .bind(file_name.to_owned())
    .bind(rows_read)
    .bind(by)
    .bind(now_millis())
    .fetch_one(&mut **tx)
    .await?;
    Ok(r.get(0))
}

pub async fn finish_statement(tx: &mut Tx, id: i64, matched: i64) -> Result<()> {
    sqlx::query("UPDATE loan_statements SET rows_matched = $1 WHERE id = $2")
        .bind(matched)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Whether a bank reference was already booked.
pub async fn bank_ref_used(tx: &mut Tx, bank_ref: &str) -> Result<bool> {
    Ok(
        sqlx::query("SELECT 1 FROM loan_payments WHERE bank_ref = $1")
            .bind(bank_ref.to_owned())
            .fetch_optional(&mut **tx)
            .await?
            .is_some(),
    )
}

/// A loan for statement matching: id, place, status, the next instalment's open amount and the
/// outstanding total.
pub async fn loan_for_match(
    tx: &mut Tx,
    loan_no: &str,
) -> Result<Option<(i64, String, String, String, i64, i64)>> {
    let r = sqlx::query(
        "SELECT l.id, l.province_code, l.county_code, l.status, \
         COALESCE((SELECT i.total - i.paid FROM loan_instalments i WHERE i.loan_id = l.id AND i.paid < i.total ORDER BY i.n LIMIT 1), 0), \
         l.amount + l.fee_total - l.paid_total FROM loans l WHERE l.loan_no = $1",
    )
    .bind(loan_no.to_owned())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(r.map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))))
}

// ---------------------------------------------------------------------------------------------
// Deferrals

#[derive(Debug, Clone, Serialize)]
pub struct DeferralRow {
    pub id: i64,
    pub loan_id: i64,
    pub bulk_id: Option<i64>,
    pub from_n: i64,
    pub months: i64,
    pub status: String,
    pub reason: String,
    pub requested_at: i64,
}

pub async fn request_deferral(
    tx: &mut Tx,
    loan: i64,
    from_n: i64,
    months: i64,
    reason: &str,
) -> Result<i64> {
    let r = sqlx::query(
        "INSERT INTO loan_deferrals (loan_id, from_n, months, status, reason, requested_at) \
         VALUES ($1, $2, $3, 'requested', $4, $5) RETURNING id",
    )
    .bind(loan)
    .bind(from_n)
    .bind(months)
    .bind(reason.to_owned())
    .bind(now_millis())
    .fetch_one(&mut **tx)
    .await?;
    Ok(r.get(0))
}

pub async fn deferrals(store: &Store, loan: i64) -> Result<Vec<DeferralRow>> {
    let rows = sqlx::query(
        "SELECT id, loan_id, bulk_id, from_n, months, status, reason, requested_at FROM loan_deferrals \
         WHERE loan_id = $1 ORDER BY id",
    )
    .bind(loan)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| DeferralRow {
            id: r.get(0),
            loan_id: r.get(1),
            bulk_id: r.get(2),
            from_n: r.get(3),
            months: r.get(4),
            status: r.get(5),
            reason: r.get(6),
            requested_at: r.get(7),
        })
        .collect())
}

/// Decides a requested deferral; when approved, moves the loan's instalments `from_n` … n.
pub async fn decide_deferral(
    tx: &mut Tx,
    engine: Engine,
    deferral: i64,
    approve: bool,
    by: Option<i64>,
) -> Result<DeferralRow> {
    let r = sqlx::query(
        "UPDATE loan_deferrals SET status = $1, decided_at = $2, decided_by = $3 \
         WHERE id = $4 AND status = 'requested' \
         RETURNING id, loan_id, bulk_id, from_n, months, status, reason, requested_at",
    )
    .bind(if approve { "approved" } else { "rejected" })
    .bind(now_millis())
    .bind(by)
    .bind(deferral)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::Conflict("loans-deferral-decided"))?;
    let d = DeferralRow {
        id: r.get(0),
        loan_id: r.get(1),
        bulk_id: r.get(2),
        from_n: r.get(3),
        months: r.get(4),
        status: r.get(5),
        reason: r.get(6),
        requested_at: r.get(7),
    };
    if approve {
        ensure_calendar(tx, engine).await?;
        let moved = sqlx::query(
            "UPDATE loan_instalments SET due_month = due_month + $1, \
             due_on = (SELECT c.due_on FROM loan_calendar c WHERE c.month_index = loan_instalments.due_month + $1 \
                       AND c.day = loan_instalments.anchor_day) \
             WHERE loan_id = $2 AND n >= $3",
        )
        .bind(d.months)
        .bind(d.loan_id)
        .bind(d.from_n)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if moved == 0 {
            return Err(StoreError::Conflict("loans-status-changed"));
        }
        sqlx::query("UPDATE loans SET deferred_months = deferred_months + $1 WHERE id = $2")
            .bind(d.months)
            .bind(d.loan_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(d)
}

/// Which loans a bulk deferral takes: the disbursed loans of an area (optionally only female
/// heads, one product) with an unpaid instalment due in [due_from, due_to]; each is deferred
/// from its first such instalment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkSelection {
    pub province: String,
    pub county: Option<String>,
    pub female_head_only: bool,
    pub product_id: Option<i64>,
    pub due_from: i64,
    pub due_to: i64,
    pub months: i64,
}

impl BulkSelection {
    /// The grouped SELECT of (loan, county, from_n), with its binds starting at `$1`.
    fn targets_sql(&self) -> String {
        format!(
            "SELECT l.id AS loan_id, l.county_code AS county_code, l.months AS months, MIN(i.n) AS from_n \
             FROM loans l JOIN loan_instalments i ON i.loan_id = l.id \
             WHERE l.status = 'disbursed' AND l.province_code = $1 {} {} {} \
             AND i.paid < i.total AND i.due_on >= $2 AND i.due_on <= $3 \
             GROUP BY l.id, l.county_code, l.months",
            if self.county.is_some() {
                "AND l.county_code = $4"
            } else {
                "AND $4 = ''"
            },
            if self.female_head_only {
                "AND l.female_head = 1"
            } else {
                ""
            },
            if self.product_id.is_some() {
                "AND l.product_id = $5"
            } else {
                "AND $5 = 0"
            },
        )
    }
}

/// A county's line of a bulk deferral preview.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewLine {
    pub county: String,
    pub county_name: String,
    pub loans: i64,
    pub instalments: i64,
    pub amount: i64,
}

/// One borrower in a preview's sample: her first moved instalment's date before and after.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewSample {
    pub loan_id: i64,
    pub loan_no: String,
    pub borrower: String,
    pub from_n: i64,
    pub old_due: i64,
    pub new_due: i64,
}

/// What a bulk deferral would do, per county, and a sample of borrowers.
pub async fn bulk_preview(
    store: &Store,
    sel: &BulkSelection,
) -> Result<(Vec<PreviewLine>, Vec<PreviewSample>)> {
    {
        let mut conn = store.pool().acquire().await?;
        ensure_calendar(&mut conn, store.engine()).await?;
    }
    let sql = format!(
        "WITH t AS ({}) SELECT t.county_code, COALESCE(MIN(cn.name_fa), t.county_code), COUNT(DISTINCT t.loan_id), COUNT(*), {} \
         FROM t JOIN loan_instalments i ON i.loan_id = t.loan_id AND i.n >= t.from_n \
         LEFT JOIN counties cn ON cn.code = t.county_code \
         GROUP BY t.county_code ORDER BY t.county_code",
        sel.targets_sql(),
        sum("i.total - i.paid")
    );
    let rows = bind_sel(sqlx::query(AssertSqlSafe(sql)), sel)
        .fetch_all(store.pool())
        .await?;
    let lines = rows
        .iter()
        .map(|r| PreviewLine {
            county: r.get(0),
            county_name: r.get(1),
            loans: r.get(2),
            instalments: r.get(3),
            amount: r.get(4),
        })
        .collect();
    let sql = format!(
        "WITH t AS ({}) SELECT t.loan_id, l.loan_no, \
         COALESCE(co.name, TRIM(COALESCE(p.first_name, '') || ' ' || COALESCE(p.last_name, '')), ''), \
         t.from_n, i.due_on, c.due_on \
         FROM t JOIN loans l ON l.id = t.loan_id \
         JOIN loan_instalments i ON i.loan_id = t.loan_id AND i.n = t.from_n \
         JOIN loan_calendar c ON c.month_index = i.due_month + $6 AND c.day = i.anchor_day \
         LEFT JOIN persons p ON p.id = l.person_id LEFT JOIN loan_cooperatives co ON co.id = l.cooperative_id \
         ORDER BY t.loan_id LIMIT 20",
        sel.targets_sql()
    );
    let rows = bind_sel(sqlx::query(AssertSqlSafe(sql)), sel)
        .bind(sel.months)
        .fetch_all(store.pool())
        .await?;
    let sample = rows
        .iter()
        .map(|r| PreviewSample {
            loan_id: r.get(0),
            loan_no: r.get(1),
            borrower: r.get(2),
            from_n: r.get(3),
            old_due: r.get(4),
            new_due: r.get(5),
        })
        .collect();
    Ok((lines, sample))
}

fn bind_sel<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    sel: &BulkSelection,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    q.bind(sel.province.clone())
        .bind(sel.due_from)
        .bind(sel.due_to)
        .bind(sel.county.clone().unwrap_or_default())
        .bind(sel.product_id.unwrap_or(0))
}

/// What a committed bulk deferral did.
#[derive(Debug, Clone, Serialize)]
pub struct BulkResult {
    pub id: i64,
    pub loans: i64,
    pub instalments: i64,
    pub amount: i64,
}

/// Commits a bulk deferral in the caller's transaction: one row for the decision, one approved
/// deferral per loan (INSERT … SELECT), the instalments moved in one UPDATE … FROM through the
/// calendar table, the loans' deferred months (the statements of each engine: `bulk`).
pub async fn bulk_commit(
    tx: &mut Tx,
    engine: Engine,
    sel: &BulkSelection,
    reason: &str,
    by: Option<i64>,
) -> Result<BulkResult> {
    ensure_calendar(tx, engine).await?;
    let now = now_millis();
    let r = sqlx::query(
        "INSERT INTO loan_bulk_deferrals (province_code, county_code, female_head_only, product_id, \
         due_from, due_to, months, reason, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(sel.province.clone())
    .bind(sel.county.clone())
    .bind(crate::flag(sel.female_head_only))
    .bind(sel.product_id)
    .bind(sel.due_from)
    .bind(sel.due_to)
    .bind(sel.months)
    .bind(reason.to_owned())
    .bind(by)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    let bulk: i64 = r.get(0);
    let (loans, instalments, amount) = match engine {
        Engine::Postgres => bulk::move_postgres(tx, sel, bulk, reason, now, by).await?,
        Engine::Sqlite => bulk::move_sqlite(tx, sel, bulk, reason, now, by).await?,
    };
    sqlx::query(
        "UPDATE loan_bulk_deferrals SET loans = $1, instalments = $2, amount = $3 WHERE id = $4",
    )
    .bind(loans)
    .bind(instalments)
    .bind(amount)
    .bind(bulk)
    .execute(&mut **tx)
    .await?;
    Ok(BulkResult {
        id: bulk,
        loans,
        instalments,
        amount,
    })
}

// ---------------------------------------------------------------------------------------------
// Delinquency and portfolio

/// One late loan on a county's call list.
#[derive(Debug, Clone, Serialize)]
pub struct LateLoan {
    pub loan_id: i64,
    pub loan_no: String,
    pub borrower: String,
    pub phone: Option<String>,
    pub county: String,
    pub county_name: String,
    pub days_late: i64,
    pub overdue: i64,
}

/// Disbursed loans with an unpaid instalment past due, per county, longest late first.
pub async fn late_loans(store: &Store, scope: &LoanScope, limit: i64) -> Result<Vec<LateLoan>> {
    let today = today_in_iran();
    let (w, b) = scope_sql(scope, 1);
    let sql = format!(
        "SELECT l.id, l.loan_no, \
         COALESCE(co.name, TRIM(COALESCE(p.first_name, '') || ' ' || COALESCE(p.last_name, '')), ''), \
         p.phone, l.county_code, COALESCE(MIN(cn.name_fa), l.county_code), {today} - MIN(i.due_on), {} \
         FROM loans l JOIN loan_instalments i ON i.loan_id = l.id \
         LEFT JOIN persons p ON p.id = l.person_id LEFT JOIN loan_cooperatives co ON co.id = l.cooperative_id \
         LEFT JOIN counties cn ON cn.code = l.county_code \
         WHERE {w} AND l.status = 'disbursed' AND i.paid < i.total AND i.due_on < {today} \
         GROUP BY l.id, l.loan_no, co.name, p.first_name, p.last_name, p.phone, l.county_code \
         ORDER BY l.county_code, {today} - MIN(i.due_on) DESC LIMIT {}",
        sum("i.total - i.paid"),
        limit.clamp(1, 50_000)
    );
    let rows = bind_scope!(sqlx::query(AssertSqlSafe(sql)), b)
        .fetch_all(store.pool())
        .await?;
    Ok(rows
        .iter()
        .map(|r| LateLoan {
            loan_id: r.get(0),
            loan_no: r.get(1),
            borrower: r.get(2),
            phone: r.get(3),
            county: r.get(4),
            county_name: r.get(5),
            days_late: r.get(6),
            overdue: r.get(7),
        })
        .collect())
}

/// One line of the portfolio.
#[derive(Debug, Clone, Serialize, Default)]
pub struct PortfolioLine {
    pub key: String,
    pub label: String,
    pub loans: i64,
    pub disbursed: i64,
    pub outstanding: i64,
    pub repaid: i64,
    pub deferred: i64,
    pub at_risk: i64,
}

/// Disbursed, outstanding, repaid, deferred (outstanding of deferred loans) and at risk
/// (outstanding of loans more than 30 days late) by `province`, `product` or `month` (the
/// Jalali month of the start).
pub async fn portfolio(store: &Store, scope: &LoanScope, by: &str) -> Result<Vec<PortfolioLine>> {
    let today = today_in_iran();
    let (key, label, join) = match by {
        "product" => (
            "CAST(l.product_id AS TEXT)",
            "MIN(pr.name_fa)",
            "JOIN loan_products pr ON pr.id = l.product_id",
        ),
        "month" => (
            "SUBSTR(l.start_jalali, 1, 7)",
            "SUBSTR(l.start_jalali, 1, 7)",
            "",
        ),
        _ => (
            "l.province_code",
            "MIN(pv.name_fa)",
            "LEFT JOIN provinces pv ON pv.code = l.province_code",
        ),
    };
    let (w, b) = scope_sql(scope, 1);
    let out = "(l.amount + l.fee_total - l.paid_total)";
    let sql = format!(
        "SELECT {key}, {label}, COUNT(*), {}, {}, {}, {}, {} FROM loans l {join} \
         WHERE {w} AND l.status IN ('disbursed', 'repaid') GROUP BY {key} ORDER BY {key}",
        sum("l.amount"),
        sum(&format!(
            "CASE WHEN l.status = 'disbursed' THEN {out} ELSE 0 END"
        )),
        sum("l.paid_total"),
        sum(&format!(
            "CASE WHEN l.status = 'disbursed' AND l.deferred_months > 0 THEN {out} ELSE 0 END"
        )),
        sum(&format!(
            "CASE WHEN l.status = 'disbursed' AND EXISTS (SELECT 1 FROM loan_instalments i \
             WHERE i.loan_id = l.id AND i.paid < i.total AND i.due_on < {}) THEN {out} ELSE 0 END",
            today - 30
        )),
    );
    let rows = bind_scope!(sqlx::query(AssertSqlSafe(sql)), b)
        .fetch_all(store.pool())
        .await?;
    Ok(rows
        .iter()
        .map(|r| PortfolioLine {
            key: r.get::<Option<String>, _>(0).unwrap_or_default(),
            label: r.get::<Option<String>, _>(1).unwrap_or_default(),
            loans: r.get(2),
            disbursed: r.get(3),
            outstanding: r.get(4),
            repaid: r.get(5),
            deferred: r.get(6),
            at_risk: r.get(7),
        })
        .collect())
}
