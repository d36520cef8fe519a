//! Support an organisation records itself (issue 12.4): one piece of support to one person, by
//! the person page or the write API, written to the support ledger with the organisation
//! (`source = 'recorded'`), so the served-twice report and "need reduced by what others gave"
//! count it with deliveries and imported lists. A client's `Idempotency-Key` records once per
//! organisation (a unique index). Also what a partner organisation reads around it: the
//! allocations of its own campaigns (to deliver), who holds a national code, and its persons
//! served twice.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

use hamdeli_domain::PlaceFilter;

use crate::distribution::{AllocationRow, DoubleService};
use crate::{AnyConnection, Result, Store, StoreError, Tx, now_millis};

/// The ledger's `source` of support an organisation recorded itself.
pub const RECORDED: &str = "recorded";

/// One piece of support to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSupport {
    pub person_id: i64,
    pub organisation_id: i64,
    /// A need-type code.
    pub need_type: String,
    /// Rials for money, a count for goods and services.
    pub amount: i64,
    /// The day it was given, ISO (`2026-11-22`).
    pub given_on: String,
    /// Its instant (noon in Iran) and Jalali year-month (`1405-09`).
    pub at: i64,
    pub period: String,
    pub programme_id: Option<i64>,
    pub note: Option<String>,
    pub recorded_by: Option<i64>,
    pub recorded_by_api_key: Option<i64>,
    pub idempotency_key: Option<String>,
}

/// A recorded piece of support as stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Recorded {
    pub id: i64,
    pub person_id: i64,
    pub organisation_id: i64,
    /// The need-type code.
    pub kind: String,
    pub amount: i64,
    /// ISO date.
    pub date: String,
    /// Jalali year-month.
    pub period: String,
    pub programme_id: Option<i64>,
    pub note: Option<String>,
    /// UTC milliseconds.
    pub recorded_at: i64,
}

impl Recorded {
    /// Whether a new request asks for the same thing (an idempotent retry).
    pub fn same_as(&self, n: &NewSupport) -> bool {
        self.person_id == n.person_id
            && self.organisation_id == n.organisation_id
            && self.kind == n.need_type
            && self.amount == n.amount
            && self.date == n.given_on
            && self.programme_id == n.programme_id
            && self.note == n.note
    }
}

const RECORDED_COLUMNS: &str = "s.id, s.person_id, s.organisation_id, s.need_type, s.amount, \
     COALESCE(s.given_on, ''), s.period, s.programme_id, s.note, COALESCE(s.recorded_at, s.at)";

fn recorded_from_row(r: &sqlx::any::AnyRow) -> Recorded {
    Recorded {
        id: r.get(0),
        person_id: r.get(1),
        organisation_id: r.get(2),
        kind: r.get(3),
        amount: r.get(4),
        date: r.get(5),
        period: r.get(6),
        programme_id: r.get(7),
        note: r.get(8),
        recorded_at: r.get(9),
    }
}

/// The support an organisation recorded under this idempotency key, if any.
pub async fn by_idempotency_key(
    conn: &mut AnyConnection,
    organisation: i64,
    key: &str,
) -> Result<Option<Recorded>> {
    let sql = format!(
        "SELECT {RECORDED_COLUMNS} FROM support_ledger s \
         WHERE s.organisation_id = $1 AND s.idempotency_key = $2"
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(organisation)
        .bind(key.to_owned())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(recorded_from_row))
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<Recorded>> {
    let sql = format!("SELECT {RECORDED_COLUMNS} FROM support_ledger s WHERE s.id = $1");
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(recorded_from_row))
}

/// A unique violation, on either engine (the idempotency key taken by a concurrent request).
fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.is_unique_violation()
                || matches!(d.code().as_deref(), Some("23505" | "2067" | "1555"))
                || d.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}

/// Writes one piece of support in the caller's transaction; returns it. A key another request
/// took first is `Conflict("support-idempotency-race")`: the caller rolls back and reads that
/// request's result.
pub async fn insert(tx: &mut Tx, n: &NewSupport) -> Result<Recorded> {
    if n.amount <= 0 {
        return Err(StoreError::Invalid("need-amount-positive"));
    }
    let now = now_millis();
    let row = sqlx::query(
        "INSERT INTO support_ledger (person_id, organisation_id, need_type, amount, period, at, \
         source, programme_id, given_on, note, recorded_by, recorded_by_api_key, recorded_at, \
         idempotency_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         RETURNING id",
    )
    .bind(n.person_id)
    .bind(n.organisation_id)
    .bind(n.need_type.clone())
    .bind(n.amount)
    .bind(n.period.clone())
    .bind(n.at)
    .bind(RECORDED)
    .bind(n.programme_id)
    .bind(n.given_on.clone())
    .bind(n.note.clone())
    .bind(n.recorded_by)
    .bind(n.recorded_by_api_key)
    .bind(now)
    .bind(n.idempotency_key.clone())
    .fetch_one(&mut **tx)
    .await;
    let id: i64 = match row {
        Ok(r) => r.get(0),
        Err(e) if n.idempotency_key.is_some() && is_unique_violation(&e) => {
            return Err(StoreError::Conflict("support-idempotency-race"));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Recorded {
        id,
        person_id: n.person_id,
        organisation_id: n.organisation_id,
        kind: n.need_type.clone(),
        amount: n.amount,
        date: n.given_on.clone(),
        period: n.period.clone(),
        programme_id: n.programme_id,
        note: n.note.clone(),
        recorded_at: now,
    })
}

/// One line of an organisation's recorded support, ready to list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SupportRow {
    pub id: i64,
    pub person_id: i64,
    /// The name as the reader may see it (a partner: from its own record of the person).
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub organisation_id: i64,
    pub organisation_fa: String,
    pub organisation_en: String,
    /// The need-type code.
    pub kind: String,
    pub amount: i64,
    pub date: String,
    pub period: String,
    pub programme_id: Option<i64>,
    pub programme_fa: Option<String>,
    pub programme_en: Option<String>,
    pub note: Option<String>,
    /// A user's display name, or `api-key:<prefix>`.
    pub recorded_by: Option<String>,
    pub recorded_at: i64,
}

/// Recorded support in the filter: an organisation's own (names from its own records of the
/// person), the offices' place (the person's place), or all; newest first, before the id
/// `before` when given.
pub async fn list(
    store: &Store,
    filter: &PlaceFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<SupportRow>> {
    let own_name = |field: &str| {
        format!(
            "(SELECT MIN(so.{field}) FROM source_records so JOIN source_lists lo ON lo.id = so.list_id \
             WHERE so.person_id = s.person_id AND lo.organisation_id = s.organisation_id)"
        )
    };
    let (names, clause, text, int): (String, String, Option<String>, Option<i64>) = match filter {
        PlaceFilter::Organisation(org) => (
            format!("{}, {}", own_name("first_name"), own_name("last_name")),
            "s.organisation_id = $2".into(),
            None,
            Some(*org),
        ),
        PlaceFilter::All => (
            "p.first_name, p.last_name".into(),
            "1 = 1".into(),
            None,
            None,
        ),
        PlaceFilter::Province(p) => (
            "p.first_name, p.last_name".into(),
            "p.province_code = $2".into(),
            Some(p.clone()),
            None,
        ),
        PlaceFilter::County(c) => (
            "p.first_name, p.last_name".into(),
            "p.county_code = $2".into(),
            Some(c.clone()),
            None,
        ),
        PlaceFilter::Nothing => return Ok(vec![]),
    };
    let sql = format!(
        "SELECT s.id, s.person_id, {names}, s.organisation_id, o.name_fa, o.name_en, s.need_type, \
         s.amount, COALESCE(s.given_on, ''), s.period, s.programme_id, g.name_fa, g.name_en, s.note, \
         COALESCE(u.display_name, CASE WHEN k.prefix IS NULL THEN NULL ELSE 'api-key:' || k.prefix END), \
         COALESCE(s.recorded_at, s.at) \
         FROM support_ledger s JOIN persons p ON p.id = s.person_id \
         JOIN organisations o ON o.id = s.organisation_id \
         LEFT JOIN programmes g ON g.id = s.programme_id \
         LEFT JOIN users u ON u.id = s.recorded_by \
         LEFT JOIN api_keys k ON k.id = s.recorded_by_api_key \
         WHERE s.source = '{RECORDED}' AND s.id < $1 AND {clause} ORDER BY s.id DESC LIMIT {}",
        limit.clamp(1, 1000)
    );
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(before.unwrap_or(i64::MAX));
    if let Some(t) = text {
        q = q.bind(t);
    }
    if let Some(o) = int {
        q = q.bind(o);
    }
    Ok(q.fetch_all(store.pool())
        .await?
        .iter()
        .map(|r| SupportRow {
            id: r.get(0),
            person_id: r.get(1),
            first_name: r.get(2),
            last_name: r.get(3),
            organisation_id: r.get(4),
            organisation_fa: r.get(5),
            organisation_en: r.get(6),
            kind: r.get(7),
            amount: r.get(8),
            date: r.get(9),
            period: r.get(10),
            programme_id: r.get(11),
            programme_fa: r.get(12),
            programme_en: r.get(13),
            note: r.get(14),
            recorded_by: r.get(15),
            recorded_at: r.get(16),
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Who holds a national code

/// The persons (survivors of merges) a record with this national code is linked to.
pub async fn persons_with_code(store: &Store, code: &str) -> Result<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT DISTINCT COALESCE(p.merged_into, p.id) FROM source_records r \
         JOIN persons p ON p.id = r.person_id WHERE r.national_code = $1",
    )
    .bind(code.to_owned())
    .fetch_all(store.pool())
    .await?;
    let mut out: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Which of these persons carries this national code itself (not a household member's row
/// carrying the head's code).
pub async fn carrying_code(store: &Store, persons: &[i64], code: &str) -> Result<Vec<i64>> {
    let mut out = vec![];
    for &p in persons {
        let row = sqlx::query("SELECT national_code FROM persons WHERE id = $1")
            .bind(p)
            .fetch_optional(store.pool())
            .await?;
        if row.and_then(|r| r.get::<Option<String>, _>(0)).as_deref() == Some(code) {
            out.push(p);
        }
    }
    Ok(out)
}

/// An organisation holding a record of a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Holder {
    pub id: i64,
    pub name_fa: String,
    pub name_en: String,
    pub kind: String,
}

/// The organisations holding a record of any of these persons, by name (a merge moves the
/// records to the survivor: its own records are all of them).
pub async fn holders(store: &Store, persons: &[i64]) -> Result<Vec<Holder>> {
    let mut found: BTreeMap<i64, Holder> = BTreeMap::new();
    for &p in persons {
        let rows = sqlx::query(
            "SELECT DISTINCT o.id, o.name_fa, o.name_en, o.kind FROM source_records r \
             JOIN source_lists l ON l.id = r.list_id JOIN organisations o ON o.id = l.organisation_id \
             WHERE r.person_id = $1",
        )
        .bind(p)
        .fetch_all(store.pool())
        .await?;
        for r in &rows {
            let h = Holder {
                id: r.get(0),
                name_fa: r.get(1),
                name_en: r.get(2),
                kind: r.get(3),
            };
            found.insert(h.id, h);
        }
    }
    let mut out: Vec<Holder> = found.into_values().collect();
    out.sort_by(|a, b| a.name_fa.cmp(&b.name_fa));
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// A partner's deliveries: the allocations of the campaigns its organisation owns

/// The organisation owning the campaign of an allocation (`Some(None)`: an office's campaign),
/// or `None` when there is no such allocation.
pub async fn allocation_owner(store: &Store, allocation: i64) -> Result<Option<Option<i64>>> {
    let row = sqlx::query(
        "SELECT c.organisation_id FROM allocations a JOIN allocation_batches b ON b.id = a.batch_id \
         JOIN campaigns c ON c.id = b.campaign_id WHERE a.id = $1",
    )
    .bind(allocation)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|r| r.get(0)))
}

/// The allocations of the organisation's campaigns with a status, oldest first; names from the
/// organisation's own records of the person.
pub async fn allocations_of_organisation(
    store: &Store,
    organisation: i64,
    status: &str,
    limit: i64,
) -> Result<Vec<AllocationRow>> {
    allocations_of_organisation_after(store, organisation, status, None, limit).await
}

/// One page of [`allocations_of_organisation`]: those after allocation `after` (keyset).
pub async fn allocations_of_organisation_after(
    store: &Store,
    organisation: i64,
    status: &str,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<AllocationRow>> {
    let own = |field: &str| {
        format!(
            "(SELECT MIN(so.{field}) FROM source_records so JOIN source_lists lo ON lo.id = so.list_id \
             WHERE so.person_id = a.person_id AND lo.organisation_id = c.organisation_id)"
        )
    };
    let sql = format!(
        "SELECT a.id, a.batch_id, b.campaign_id, c.title, a.need_id, a.person_id, {}, {}, \
         a.need_type, a.units, b.resource, a.county_code, a.status, a.delivered_at, a.note \
         FROM allocations a JOIN allocation_batches b ON b.id = a.batch_id \
         JOIN campaigns c ON c.id = b.campaign_id \
         WHERE a.status = $1 AND c.organisation_id = $2 AND a.id > $3 ORDER BY a.id LIMIT {}",
        own("first_name"),
        own("last_name"),
        limit.clamp(1, 10_000)
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(status.to_owned())
        .bind(organisation)
        .bind(after.unwrap_or(0))
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(|r| AllocationRow {
            id: r.get(0),
            batch_id: r.get(1),
            campaign_id: r.get(2),
            campaign_title: r.get(3),
            need_id: r.get(4),
            person_id: r.get(5),
            first_name: r.get(6),
            last_name: r.get(7),
            need_type: r.get(8),
            units: r.get(9),
            resource: r.get(10),
            county_code: r.get(11),
            status: r.get(12),
            delivered_at: r.get(13),
            note: r.get(14),
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Served twice, as a partner sees it

/// Persons the organisation holds a record of, served for one need type by it or others and by
/// more than one organisation in the period: names from its own records, the providers by name
/// only (no amounts or dates of other organisations).
pub async fn double_service_of_organisation(
    store: &Store,
    organisation: i64,
    period: &str,
) -> Result<Vec<DoubleService>> {
    let rows = sqlx::query(
        "SELECT COALESCE(p.merged_into, p.id), s.need_type, s.organisation_id, o.name_fa \
         FROM support_ledger s JOIN persons p ON p.id = s.person_id \
         LEFT JOIN organisations o ON o.id = s.organisation_id \
         WHERE s.period LIKE $1 AND EXISTS (SELECT 1 FROM source_records so \
           JOIN source_lists lo ON lo.id = so.list_id \
           WHERE so.person_id = COALESCE(p.merged_into, p.id) AND lo.organisation_id = $2) \
         ORDER BY 1, 2",
    )
    .bind(format!("{}%", period.trim()))
    .bind(organisation)
    .fetch_all(store.pool())
    .await?;
    type Key = (i64, String);
    let mut groups: BTreeMap<Key, (DoubleService, Vec<i64>)> = BTreeMap::new();
    for r in &rows {
        let key: Key = (r.get(0), r.get(1));
        let org: Option<i64> = r.get(2);
        let (g, seen) = groups.entry(key.clone()).or_insert_with(|| {
            (
                DoubleService {
                    person_id: key.0,
                    first_name: None,
                    last_name: None,
                    county_code: None,
                    need_type: key.1.clone(),
                    providers: vec![],
                    entries: 0,
                },
                vec![],
            )
        });
        g.entries += 1;
        let id = org.unwrap_or(0);
        if !seen.contains(&id) {
            seen.push(id);
            g.providers.push(r.get(3));
        }
    }
    let mut out: Vec<DoubleService> = groups
        .into_values()
        .filter(|(g, _)| g.providers.len() >= 2)
        .map(|(g, _)| g)
        .collect();
    // Names and county as the organisation's own records say them.
    type Seen = (Option<String>, Option<String>, Option<String>);
    let mut names: HashMap<i64, Seen> = HashMap::new();
    for g in &mut out {
        let (f, l, c) = match names.get(&g.person_id) {
            Some(seen) => seen.clone(),
            None => {
                let row = sqlx::query(
                    "SELECT MIN(so.first_name), MIN(so.last_name), MIN(so.county_code) \
                     FROM source_records so JOIN source_lists lo ON lo.id = so.list_id \
                     WHERE so.person_id = $1 AND lo.organisation_id = $2",
                )
                .bind(g.person_id)
                .bind(organisation)
                .fetch_one(store.pool())
                .await?;
                let seen: Seen = (row.get(0), row.get(1), row.get(2));
                names.insert(g.person_id, seen.clone());
                seen
            }
        };
        g.first_name = f;
        g.last_name = l;
        g.county_code = c;
    }
    Ok(out)
}
