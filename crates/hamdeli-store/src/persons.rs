//! Persons (clusters of source records), what linkage writes, the review queue, search and the
//! person page's reads. The linkage decisions themselves are made in `hamdeli-registry`.

use std::collections::HashSet;

use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

use hamdeli_domain::PlaceFilter;

use crate::{Engine, Result, Store, StoreError, Tx, now_millis, values_placeholders};

/// A source record as linkage reads it.
#[derive(Debug, Clone, Default)]
pub struct LinkRow {
    pub id: i64,
    pub person_id: Option<i64>,
    pub national_code: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub father_name: Option<String>,
    pub birth_date: Option<String>,
    pub gender: Option<String>,
    pub phone: Option<String>,
    pub province_code: Option<String>,
    pub county_code: Option<String>,
    pub zone: Option<String>,
}

/// Every source record, oldest first.
pub async fn link_rows(store: &Store) -> Result<Vec<LinkRow>> {
    let rows = sqlx::query(
        "SELECT id, person_id, national_code, first_name, last_name, father_name, birth_date, \
         gender, phone, province_code, county_code, zone FROM source_records ORDER BY id",
    )
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| LinkRow {
            id: r.get(0),
            person_id: r.get(1),
            national_code: r.get(2),
            first_name: r.get(3),
            last_name: r.get(4),
            father_name: r.get(5),
            birth_date: r.get(6),
            gender: r.get(7),
            phone: r.get(8),
            province_code: r.get(9),
            county_code: r.get(10),
            zone: r.get(11),
        })
        .collect())
}

/// Pairs of records a reviewer separated, each as (smaller id, larger id).
pub async fn separations(store: &Store) -> Result<HashSet<(i64, i64)>> {
    let rows = sqlx::query("SELECT record_a, record_b FROM link_separations")
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Record pairs already in the review queue, whatever their status.
pub async fn reviewed_pairs(store: &Store) -> Result<HashSet<(i64, i64)>> {
    let rows = sqlx::query("SELECT record_a, record_b FROM link_reviews")
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// A pair for the review queue.
#[derive(Debug, Clone)]
pub struct NewReview {
    pub record_a: i64,
    pub record_b: i64,
    pub probability_bp: i64,
    pub evidence: String,
    pub reason: &'static str,
}

/// What one linkage run decided: new persons (each a list of record ids), records that join an
/// existing person, and pairs for review.
#[derive(Debug, Clone, Default)]
pub struct LinkPlan {
    pub new_persons: Vec<Vec<i64>>,
    /// Display values of each new person (same order); when empty they are read back from the
    /// records after writing.
    pub new_person_display: Vec<PersonDisplay>,
    pub joins: Vec<(i64, i64)>,
    pub reviews: Vec<NewReview>,
    /// Existing persons whose display values to choose again (records joined them otherwise).
    pub refresh: Vec<i64>,
    pub batch_id: Option<i64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LinkApplied {
    pub persons_created: i64,
    pub records_joined: i64,
    pub reviews_opened: i64,
}

/// What a person shows: chosen from its records (see [`PersonDisplay::of`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonDisplay {
    pub national_code: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub father_name: Option<String>,
    pub birth_date: Option<String>,
    pub gender: Option<String>,
    pub phone: Option<String>,
    pub province_code: Option<String>,
    pub county_code: Option<String>,
}

impl PersonDisplay {
    /// The values in `registry::PERSON_FIELDS` order.
    pub(crate) fn values(&self) -> [Option<&str>; 9] {
        [
            self.national_code.as_deref(),
            self.first_name.as_deref(),
            self.last_name.as_deref(),
            self.father_name.as_deref(),
            self.birth_date.as_deref(),
            self.gender.as_deref(),
            self.phone.as_deref(),
            self.province_code.as_deref(),
            self.county_code.as_deref(),
        ]
    }

    /// From a person's records in id order: each value from the oldest record that has it; the
    /// place from the newest record that has a county (or else a province).
    pub fn of<'a>(records: impl IntoIterator<Item = &'a LinkRow> + Clone) -> PersonDisplay {
        let pick = |f: fn(&LinkRow) -> &Option<String>| {
            records
                .clone()
                .into_iter()
                .filter_map(|r| f(r).clone())
                .find(|v| !v.is_empty())
        };
        let rows: Vec<&LinkRow> = records.clone().into_iter().collect();
        let place = rows
            .iter()
            .rev()
            .find(|r| r.county_code.is_some())
            .or_else(|| rows.iter().rev().find(|r| r.province_code.is_some()));
        PersonDisplay {
            national_code: pick(|r| &r.national_code),
            first_name: pick(|r| &r.first_name),
            last_name: pick(|r| &r.last_name),
            father_name: pick(|r| &r.father_name),
            birth_date: pick(|r| &r.birth_date),
            gender: pick(|r| &r.gender),
            phone: pick(|r| &r.phone),
            province_code: place.and_then(|r| r.province_code.clone()),
            county_code: place.and_then(|r| r.county_code.clone()),
        }
    }
}

/// Rows per multi-row statement when writing linkage results.
const CHUNK: usize = 1000;

/// Writes a linkage plan in one transaction and refreshes the display values of every existing
/// person it touched. New persons and record assignments go many rows to a statement, so a
/// million records link in seconds rather than minutes.
pub async fn apply_plan(store: &Store, plan: &LinkPlan) -> Result<LinkApplied> {
    let moves = plan.new_persons.iter().map(Vec::len).sum::<usize>() + plan.joins.len();
    if moves >= crate::registry::BULK_ROWS
        && plan.new_person_display.len() == plan.new_persons.len()
    {
        return apply_plan_in_bulk(store, plan).await;
    }
    let mut tx = store.begin().await?;
    let now = now_millis();
    let mut assign: Vec<(i64, i64)> = Vec::new();
    let mut refresh = Vec::new();
    if !plan.new_persons.is_empty() {
        // Ids are handed out here so that one INSERT can carry many persons.
        let first: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 FROM persons")
            .fetch_one(&mut *tx)
            .await?
            .get(0);
        let with_display = plan.new_person_display.len() == plan.new_persons.len();
        let ids: Vec<i64> = (0..plan.new_persons.len() as i64)
            .map(|i| first + i)
            .collect();
        for (chunk_no, chunk) in ids.chunks(CHUNK).enumerate() {
            let sql = format!(
                "INSERT INTO persons (id, created_at, updated_at, national_code, first_name, \
                 last_name, father_name, birth_date, gender, phone, province_code) VALUES {}",
                values_placeholders(store.engine(), chunk.len(), 11)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (k, id) in chunk.iter().enumerate() {
                let empty = PersonDisplay::default();
                let d = if with_display {
                    &plan.new_person_display[chunk_no * CHUNK + k]
                } else {
                    &empty
                };
                q = q
                    .bind(*id)
                    .bind(now)
                    .bind(now)
                    .bind(d.national_code.clone())
                    .bind(d.first_name.clone())
                    .bind(d.last_name.clone())
                    .bind(d.father_name.clone())
                    .bind(d.birth_date.clone())
                    .bind(d.gender.clone())
                    .bind(d.phone.clone())
                    .bind(d.province_code.clone());
            }
            q.execute(&mut *tx).await?;
        }
        if with_display {
            // The county separately: a second pass keeps the INSERT under the parameter limits.
            let counties: Vec<(i64, String)> = ids
                .iter()
                .zip(&plan.new_person_display)
                .filter_map(|(id, d)| d.county_code.clone().map(|c| (*id, c)))
                .collect();
            set_counties(&mut tx, store.engine(), &counties).await?;
        }
        if store.engine() == crate::Engine::Postgres {
            sqlx::query(
                "SELECT setval(pg_get_serial_sequence('persons', 'id'), \
                 (SELECT MAX(id) FROM persons))",
            )
            .execute(&mut *tx)
            .await?;
        }
        for (records, id) in plan.new_persons.iter().zip(&ids) {
            assign.extend(records.iter().map(|r| (*r, *id)));
            if !with_display {
                refresh.push(*id);
            }
        }
    }
    for (record, person) in &plan.joins {
        assign.push((*record, *person));
        refresh.push(*person);
    }
    assign_records(&mut tx, store.engine(), &assign).await?;
    queue_reviews_and_refresh(&mut tx, plan, refresh, now).await?;
    tx.commit().await?;
    if assign.len() >= crate::registry::BULK_ROWS {
        vacuum_after_bulk_link(store).await;
    }
    Ok(LinkApplied {
        persons_created: plan.new_persons.len() as i64,
        records_joined: plan.joins.len() as i64,
        reviews_opened: plan.reviews.len() as i64,
    })
}

/// A plan that moves many records, through the bulk writers: the persons and every record's
/// person in one transaction (COPY and one joined UPDATE on PostgreSQL, prepared statements on
/// SQLite, the indexes that hold the person rebuilt by sorting), then the review queue and the
/// display values of existing persons that records joined.
async fn apply_plan_in_bulk(store: &Store, plan: &LinkPlan) -> Result<LinkApplied> {
    use crate::registry::PersonRef;
    let mut assign = Vec::with_capacity(plan.joins.len() + plan.new_persons.len());
    for (k, records) in plan.new_persons.iter().enumerate() {
        assign.extend(records.iter().map(|r| (*r, PersonRef::New(k as u32))));
    }
    assign.extend(plan.joins.iter().map(|&(r, p)| (r, PersonRef::Existing(p))));
    crate::registry::assign_persons(store, plan.new_person_display.clone(), assign).await?;
    let mut tx = store.begin().await?;
    let refresh = plan.joins.iter().map(|&(_, p)| p).collect();
    queue_reviews_and_refresh(&mut tx, plan, refresh, now_millis()).await?;
    tx.commit().await?;
    vacuum_after_bulk_link(store).await;
    Ok(LinkApplied {
        persons_created: plan.new_persons.len() as i64,
        records_joined: plan.joins.len() as i64,
        reviews_opened: plan.reviews.len() as i64,
    })
}

/// The plan's pairs into the review queue, and the display values of the persons given (and
/// the plan's own) chosen again.
async fn queue_reviews_and_refresh(
    tx: &mut Tx,
    plan: &LinkPlan,
    mut refresh: Vec<i64>,
    now: i64,
) -> Result<()> {
    for r in &plan.reviews {
        sqlx::query(
            "INSERT INTO link_reviews (record_a, record_b, probability_bp, evidence, reason, \
             status, batch_id, created_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7) \
             ON CONFLICT (record_a, record_b) DO NOTHING",
        )
        .bind(r.record_a)
        .bind(r.record_b)
        .bind(r.probability_bp)
        .bind(r.evidence.clone())
        .bind(r.reason)
        .bind(plan.batch_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    refresh.extend(&plan.refresh);
    refresh.sort_unstable();
    refresh.dedup();
    for p in &refresh {
        refresh_person(tx, *p).await?;
    }
    Ok(())
}

/// Linking a bulk load rewrote every record once (person_id): on PostgreSQL, until a vacuum,
/// index scans wade through the dead row versions and the planner has no statistics for the
/// new rows (registry search went from 6 ms to over a second at 1M records). Autovacuum would
/// get there in its own time; do it now (outside any transaction, best effort).
async fn vacuum_after_bulk_link(store: &Store) {
    if store.engine() != Engine::Postgres {
        return;
    }
    for table in ["source_records", "persons"] {
        let vacuum = sqlx::raw_sql(AssertSqlSafe(format!("VACUUM (ANALYZE) {table}")))
            .execute(store.pool())
            .await;
        if let Err(e) = vacuum {
            tracing::warn!("vacuum of {table} after linking failed: {e}");
        }
    }
}

/// Many (id, value) pairs through a temporary table, then one UPDATE.
async fn update_through_temp(
    tx: &mut Tx,
    engine: Engine,
    pairs_text: Option<&[(i64, String)]>,
    pairs_int: Option<&[(i64, i64)]>,
    update: &str,
) -> Result<()> {
    // One table name per value type: a statement cached for one must never be reused for the
    // other (PostgreSQL fixed the parameter types when it prepared it, and would read a
    // number's bytes as text).
    let (table, value_type) = if pairs_text.is_some() {
        ("link_pairs_text", "TEXT")
    } else {
        ("link_pairs_int", "BIGINT")
    };
    let update = update.replace("link_pairs", table);
    sqlx::query(AssertSqlSafe(format!(
        "CREATE TEMPORARY TABLE {table} (k BIGINT PRIMARY KEY NOT NULL, v {value_type})"
    )))
    .execute(&mut **tx)
    .await?;
    let len = pairs_text
        .map(|p| p.len())
        .or(pairs_int.map(|p| p.len()))
        .unwrap_or(0);
    for start in (0..len).step_by(CHUNK) {
        let end = (start + CHUNK).min(len);
        let sql = format!(
            "INSERT INTO {table} (k, v) VALUES {}",
            values_placeholders(engine, end - start, 2)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        if let Some(p) = pairs_text {
            for (k, v) in &p[start..end] {
                q = q.bind(*k).bind(v.clone());
            }
        }
        if let Some(p) = pairs_int {
            for (k, v) in &p[start..end] {
                q = q.bind(*k).bind(*v);
            }
        }
        q.execute(&mut **tx).await?;
    }
    sqlx::query(AssertSqlSafe(update))
        .execute(&mut **tx)
        .await?;
    sqlx::query(AssertSqlSafe(format!("DROP TABLE {table}")))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn assign_records(tx: &mut Tx, engine: Engine, assign: &[(i64, i64)]) -> Result<()> {
    if assign.is_empty() {
        return Ok(());
    }
    update_through_temp(
        tx,
        engine,
        None,
        Some(assign),
        "UPDATE source_records SET person_id = \
         (SELECT v FROM link_pairs WHERE link_pairs.k = source_records.id) \
         WHERE id IN (SELECT k FROM link_pairs)",
    )
    .await
}

async fn set_counties(tx: &mut Tx, engine: Engine, counties: &[(i64, String)]) -> Result<()> {
    if counties.is_empty() {
        return Ok(());
    }
    update_through_temp(
        tx,
        engine,
        Some(counties),
        None,
        "UPDATE persons SET county_code = \
         (SELECT v FROM link_pairs WHERE link_pairs.k = persons.id) \
         WHERE id IN (SELECT k FROM link_pairs)",
    )
    .await
}

async fn set_person(tx: &mut Tx, record: i64, person: i64) -> Result<()> {
    sqlx::query("UPDATE source_records SET person_id = $1 WHERE id = $2")
        .bind(person)
        .bind(record)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A person's display values come from its records: a valid national code first, then the
/// oldest record; its place is its most recent record's that has one.
pub async fn refresh_person(tx: &mut Tx, person: i64) -> Result<()> {
    let rows = sqlx::query(
        "SELECT national_code, first_name, last_name, father_name, birth_date, gender, phone, \
         province_code, county_code FROM source_records WHERE person_id = $1 ORDER BY id",
    )
    .bind(person)
    .fetch_all(&mut **tx)
    .await?;
    let pick = |col: usize| -> Option<String> {
        rows.iter()
            .filter_map(|r| r.get::<Option<String>, _>(col))
            .find(|v| !v.is_empty())
    };
    let place = rows
        .iter()
        .rev()
        .find(|r| r.get::<Option<String>, _>(8).is_some())
        .or_else(|| {
            rows.iter()
                .rev()
                .find(|r| r.get::<Option<String>, _>(7).is_some())
        });
    let (province, county) = place
        .map(|r| (r.get::<Option<String>, _>(7), r.get::<Option<String>, _>(8)))
        .unwrap_or((None, None));
    sqlx::query(
        "UPDATE persons SET national_code = $2, first_name = $3, last_name = $4, \
         father_name = $5, birth_date = $6, gender = $7, phone = $8, province_code = $9, \
         county_code = $10, updated_at = $11 WHERE id = $1",
    )
    .bind(person)
    .bind(pick(0))
    .bind(pick(1))
    .bind(pick(2))
    .bind(pick(3))
    .bind(pick(4))
    .bind(pick(5))
    .bind(pick(6))
    .bind(province)
    .bind(county)
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// How one person sits in the scope filter, as SQL over the alias `p`.
fn scope_sql(filter: &PlaceFilter, first_param: usize) -> (String, Option<String>, Option<i64>) {
    scope_sql_on("p", filter, first_param)
}

/// How one person sits in the scope filter, as SQL over the persons alias `alias`.
fn scope_sql_on(
    alias: &str,
    filter: &PlaceFilter,
    first_param: usize,
) -> (String, Option<String>, Option<i64>) {
    match filter {
        PlaceFilter::All => ("1 = 1".into(), None, None),
        PlaceFilter::Province(code) => (
            format!("{alias}.province_code = ${first_param}"),
            Some(code.clone()),
            None,
        ),
        PlaceFilter::County(code) => (
            format!("{alias}.county_code = ${first_param}"),
            Some(code.clone()),
            None,
        ),
        PlaceFilter::Organisation(org) => (
            format!(
                "EXISTS (SELECT 1 FROM source_records so JOIN source_lists lo ON lo.id = so.list_id \
                 WHERE so.person_id = {alias}.id AND lo.organisation_id = ${first_param})"
            ),
            None,
            Some(*org),
        ),
        PlaceFilter::Nothing => ("1 = 0".into(), None, None),
    }
}

/// What to look for; built by the caller from what the user typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    NationalCode(String),
    Phone(String),
    /// Normalised name keys (see `hamdeli_text::name_key`): the last name, and the first if
    /// given.
    Name {
        last_key: String,
        first_key: Option<String>,
    },
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonHit {
    pub id: i64,
    pub national_code: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub father_name: Option<String>,
    pub birth_date: Option<String>,
    pub province_code: Option<String>,
    pub county_code: Option<String>,
    pub records: i64,
}

const HIT_COLUMNS: &str = "p.id, p.national_code, p.first_name, p.last_name, p.father_name, \
    p.birth_date, p.province_code, p.county_code, \
    (SELECT COUNT(*) FROM source_records c WHERE c.person_id = p.id)";

fn hit(r: &sqlx::any::AnyRow) -> PersonHit {
    PersonHit {
        id: r.get(0),
        national_code: r.get(1),
        first_name: r.get(2),
        last_name: r.get(3),
        father_name: r.get(4),
        birth_date: r.get(5),
        province_code: r.get(6),
        county_code: r.get(7),
        records: r.get(8),
    }
}

/// Persons with a source record matching the key, inside the scope: ordered by person id, or
/// by first name then person id for a last name alone.
pub async fn search(
    store: &Store,
    filter: &PlaceFilter,
    key: &SearchKey,
    limit: i64,
) -> Result<Vec<PersonHit>> {
    let (matching, binds): (&str, Vec<String>) = match key {
        SearchKey::NationalCode(code) => ("r.national_code = $1", vec![code.clone()]),
        SearchKey::Phone(phone) => ("r.phone = $1", vec![phone.clone()]),
        SearchKey::Name {
            last_key,
            first_key: None,
        } => ("r.last_key = $1", vec![last_key.clone()]),
        SearchKey::Name {
            last_key,
            first_key: Some(first),
        } => (
            "r.last_key = $1 AND r.first_key = $2",
            vec![last_key.clone(), first.clone()],
        ),
    };
    let (scope, scope_text, scope_int) = scope_sql(filter, binds.len() + 1);
    let limit_param = binds.len() + 1 + usize::from(scope_text.is_some() || scope_int.is_some());
    let by_last_name_only = matches!(
        key,
        SearchKey::Name {
            first_key: None,
            ..
        }
    );
    let sql = match store.engine() {
        // A last name alone can match tens of thousands of records: walk its index entries
        // in (first name, person) order and stop at the limit instead of collecting them all
        // to sort by person id. A person with several records comes once: SQLite's DISTINCT
        // filters while walking (CROSS JOIN keeps the records as the outer loop);
        // PostgreSQL's cannot be ordered by a column it does not return, so it fetches double
        // the limit and the first of each person is kept below.
        Engine::Sqlite if by_last_name_only => format!(
            "SELECT DISTINCT {HIT_COLUMNS} FROM source_records r CROSS JOIN persons p \
             ON p.id = r.person_id WHERE {matching} AND p.merged_into IS NULL AND {scope} \
             ORDER BY r.first_key, r.person_id LIMIT ${limit_param}"
        ),
        Engine::Postgres if by_last_name_only => format!(
            "SELECT {HIT_COLUMNS} FROM source_records r JOIN persons p ON p.id = r.person_id \
             WHERE {matching} AND p.merged_into IS NULL AND {scope} \
             ORDER BY r.first_key, r.person_id LIMIT ${limit_param}"
        ),
        Engine::Sqlite => format!(
            "SELECT {HIT_COLUMNS} FROM persons p WHERE p.merged_into IS NULL AND p.id IN \
             (SELECT r.person_id FROM source_records r WHERE {matching} AND r.person_id IS NOT NULL) \
             AND {scope} ORDER BY p.id LIMIT ${limit_param}"
        ),
        // PostgreSQL would merge-join the matches with an ordered walk of all persons, which
        // for a name of a few dozen records scattered over a million persons reads most of the
        // table. Walk the matching person ids in order instead and look each one up (LATERAL
        // with LIMIT keeps it a nested loop that stops at the limit).
        Engine::Postgres => format!(
            "SELECT {HIT_COLUMNS} FROM (SELECT DISTINCT r.person_id AS pid FROM source_records r \
             WHERE {matching} AND r.person_id IS NOT NULL ORDER BY r.person_id) m \
             CROSS JOIN LATERAL (SELECT * FROM persons p WHERE p.id = m.pid \
             AND p.merged_into IS NULL AND {scope} LIMIT 1) p \
             ORDER BY m.pid LIMIT ${limit_param}"
        ),
    };
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for b in binds {
        q = q.bind(b);
    }
    if let Some(s) = scope_text {
        q = q.bind(s);
    }
    if let Some(o) = scope_int {
        q = q.bind(o);
    }
    let fetch = if by_last_name_only && store.engine() == Engine::Postgres {
        limit * 2
    } else {
        limit
    };
    let rows = q.bind(fetch).fetch_all(store.pool()).await?;
    let mut seen = std::collections::HashSet::new();
    let mut hits: Vec<PersonHit> = rows.iter().map(hit).filter(|h| seen.insert(h.id)).collect();
    hits.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(hits)
}

/// Whether the person is inside the scope (and not merged away).
pub async fn in_scope(store: &Store, filter: &PlaceFilter, person: i64) -> Result<bool> {
    let (scope, text, int) = scope_sql(filter, 2);
    let sql = format!("SELECT COUNT(*) FROM persons p WHERE p.id = $1 AND {scope}");
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(person);
    if let Some(s) = text {
        q = q.bind(s);
    }
    if let Some(o) = int {
        q = q.bind(o);
    }
    let n: i64 = q.fetch_one(store.pool()).await?.get(0);
    Ok(n > 0)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Person {
    pub id: i64,
    pub national_code: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub father_name: Option<String>,
    pub birth_date: Option<String>,
    pub gender: Option<String>,
    pub phone: Option<String>,
    pub province_code: Option<String>,
    pub county_code: Option<String>,
    pub zone: Option<String>,
    pub merged_into: Option<i64>,
    pub created_at: i64,
}

pub async fn person(store: &Store, id: i64) -> Result<Option<Person>> {
    let row = sqlx::query(
        "SELECT id, national_code, first_name, last_name, father_name, birth_date, gender, \
         phone, province_code, county_code, zone, merged_into, created_at FROM persons \
         WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|r| Person {
        id: r.get(0),
        national_code: r.get(1),
        first_name: r.get(2),
        last_name: r.get(3),
        father_name: r.get(4),
        birth_date: r.get(5),
        gender: r.get(6),
        phone: r.get(7),
        province_code: r.get(8),
        county_code: r.get(9),
        zone: r.get(10),
        merged_into: r.get(11),
        created_at: r.get(12),
    }))
}

/// One source record with where it came from.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SourceRecordView {
    pub id: i64,
    pub person_id: Option<i64>,
    pub organisation_id: i64,
    pub organisation_fa: String,
    pub organisation_en: String,
    pub list_id: i64,
    pub list_name: String,
    pub list_kind: String,
    pub programme_fa: Option<String>,
    pub programme_en: Option<String>,
    pub support_kind: Option<String>,
    pub batch_id: i64,
    pub row_number: i64,
    pub imported_at: i64,
    pub source_id: String,
    pub national_code: Option<String>,
    pub national_code_raw: Option<String>,
    pub honorific: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub father_name: Option<String>,
    pub birth_date: Option<String>,
    pub gender: Option<String>,
    pub phone: Option<String>,
    pub province_code: Option<String>,
    pub county_code: Option<String>,
    pub address: Option<String>,
    pub support_since: Option<String>,
    /// Set by the application layer when the reader may see only that this record exists
    /// and which organisation holds it (its fields are then emptied).
    pub withheld: bool,
}

const RECORD_VIEW: &str = "SELECT r.id, r.person_id, o.id, o.name_fa, o.name_en, l.id, l.name, \
    l.list_kind, g.name_fa, g.name_en, g.support_kind, r.batch_id, r.row_number, r.imported_at, \
    r.source_id, r.national_code, r.national_code_raw, r.honorific, r.first_name, r.last_name, \
    r.father_name, r.birth_date, r.gender, r.phone, r.province_code, r.county_code, r.address, \
    r.support_since \
    FROM source_records r JOIN source_lists l ON l.id = r.list_id \
    JOIN organisations o ON o.id = l.organisation_id \
    LEFT JOIN programmes g ON g.id = l.programme_id";

fn record_view(r: &sqlx::any::AnyRow) -> SourceRecordView {
    SourceRecordView {
        id: r.get(0),
        person_id: r.get(1),
        organisation_id: r.get(2),
        organisation_fa: r.get(3),
        organisation_en: r.get(4),
        list_id: r.get(5),
        list_name: r.get(6),
        list_kind: r.get(7),
        programme_fa: r.get(8),
        programme_en: r.get(9),
        support_kind: r.get(10),
        batch_id: r.get(11),
        row_number: r.get(12),
        imported_at: r.get(13),
        source_id: r.get(14),
        national_code: r.get(15),
        national_code_raw: r.get(16),
        honorific: r.get(17),
        first_name: r.get(18),
        last_name: r.get(19),
        father_name: r.get(20),
        birth_date: r.get(21),
        gender: r.get(22),
        phone: r.get(23),
        province_code: r.get(24),
        county_code: r.get(25),
        address: r.get(26),
        support_since: r.get(27),
        withheld: false,
    }
}

pub async fn records_of(store: &Store, person: i64) -> Result<Vec<SourceRecordView>> {
    let sql = format!("{RECORD_VIEW} WHERE r.person_id = $1 ORDER BY r.id");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(person)
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(record_view).collect())
}

/// The person a record belongs to now (after merges), if it is linked.
pub async fn person_of(store: &Store, record: i64) -> Result<Option<i64>> {
    let row = sqlx::query(
        "SELECT COALESCE(p.merged_into, p.id) FROM source_records r JOIN persons p ON p.id = r.person_id \
         WHERE r.id = $1",
    )
    .bind(record)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|r| r.get(0)))
}

pub async fn record(store: &Store, id: i64) -> Result<Option<SourceRecordView>> {
    let sql = format!("{RECORD_VIEW} WHERE r.id = $1");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.as_ref().map(record_view))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Household {
    pub id: i64,
    pub reference: Option<String>,
    pub head_person_id: Option<i64>,
    pub province_code: Option<String>,
    pub county_code: Option<String>,
    pub zone: Option<String>,
    pub address: Option<String>,
    pub female_head: bool,
    pub female_head_reason: Option<String>,
    pub dependants: i64,
    pub disability: bool,
    pub chronic_illness: bool,
    pub elderly: bool,
    pub bereaved_by_covid: bool,
    pub income_decile: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub person_id: i64,
    pub relation: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub birth_date: Option<String>,
}

pub async fn household_of(store: &Store, person: i64) -> Result<Option<(Household, Vec<Member>)>> {
    let row = sqlx::query(
        "SELECT h.id, h.reference, h.head_person_id, h.province_code, h.county_code, h.zone, \
         h.address, h.female_head, h.female_head_reason, h.dependants, h.disability, \
         h.chronic_illness, h.elderly, h.bereaved_by_covid, h.income_decile \
         FROM households h JOIN household_members m ON m.household_id = h.id \
         WHERE m.person_id = $1",
    )
    .bind(person)
    .fetch_optional(store.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let household = Household {
        id: r.get(0),
        reference: r.get(1),
        head_person_id: r.get(2),
        province_code: r.get(3),
        county_code: r.get(4),
        zone: r.get(5),
        address: r.get(6),
        female_head: r.get::<i64, _>(7) != 0,
        female_head_reason: r.get(8),
        dependants: r.get(9),
        disability: r.get::<i64, _>(10) != 0,
        chronic_illness: r.get::<i64, _>(11) != 0,
        elderly: r.get::<i64, _>(12) != 0,
        bereaved_by_covid: r.get::<i64, _>(13) != 0,
        income_decile: r.get(14),
    };
    let members = sqlx::query(
        "SELECT m.person_id, m.relation, p.first_name, p.last_name, p.birth_date \
         FROM household_members m JOIN persons p ON p.id = m.person_id \
         WHERE m.household_id = $1 ORDER BY CASE m.relation WHEN 'head' THEN 0 \
         WHEN 'spouse' THEN 1 ELSE 2 END, p.birth_date, m.person_id",
    )
    .bind(household.id)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|r| Member {
        person_id: r.get(0),
        relation: r.get(1),
        first_name: r.get(2),
        last_name: r.get(3),
        birth_date: r.get(4),
    })
    .collect();
    Ok(Some((household, members)))
}

// ---------------------------------------------------------------------------------------------
// The review queue

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Review {
    pub id: i64,
    pub record_a: i64,
    pub record_b: i64,
    pub probability_bp: i64,
    pub evidence: String,
    pub reason: String,
    pub status: String,
    pub created_at: i64,
    pub decided_by: Option<i64>,
    pub decided_at: Option<i64>,
}

const REVIEW_COLUMNS: &str = "v.id, v.record_a, v.record_b, v.probability_bp, v.evidence, \
    v.reason, v.status, v.created_at, v.decided_by, v.decided_at";

fn review(r: &sqlx::any::AnyRow) -> Review {
    Review {
        id: r.get(0),
        record_a: r.get(1),
        record_b: r.get(2),
        probability_bp: r.get(3),
        evidence: r.get(4),
        reason: r.get(5),
        status: r.get(6),
        created_at: r.get(7),
        decided_by: r.get(8),
        decided_at: r.get(9),
    }
}

/// Reviews with the given status whose first record's person is in scope, most probable first.
pub async fn reviews(
    store: &Store,
    filter: &PlaceFilter,
    status: &str,
    limit: i64,
) -> Result<Vec<Review>> {
    let (scope, text, int) = scope_sql(filter, 2);
    let (scope_b, _, _) = scope_sql_on("q", filter, 2);
    let sql = format!(
        "SELECT {REVIEW_COLUMNS} FROM link_reviews v JOIN source_records ra ON ra.id = v.record_a \
         JOIN persons p ON p.id = ra.person_id JOIN source_records rb ON rb.id = v.record_b \
         JOIN persons q ON q.id = rb.person_id WHERE v.status = $1 AND {scope} AND {scope_b} \
         ORDER BY v.probability_bp DESC, v.id LIMIT ${}",
        if text.is_some() || int.is_some() {
            3
        } else {
            2
        }
    );
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(status.to_owned());
    if let Some(s) = text {
        q = q.bind(s);
    }
    if let Some(o) = int {
        q = q.bind(o);
    }
    let rows = q.bind(limit).fetch_all(store.pool()).await?;
    Ok(rows.iter().map(review).collect())
}

pub async fn review_count(store: &Store, filter: &PlaceFilter, status: &str) -> Result<i64> {
    let (scope, text, int) = scope_sql(filter, 2);
    let (scope_b, _, _) = scope_sql_on("q", filter, 2);
    let sql = format!(
        "SELECT COUNT(*) FROM link_reviews v JOIN source_records ra ON ra.id = v.record_a \
         JOIN persons p ON p.id = ra.person_id JOIN source_records rb ON rb.id = v.record_b \
         JOIN persons q ON q.id = rb.person_id WHERE v.status = $1 AND {scope} AND {scope_b}"
    );
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(status.to_owned());
    if let Some(s) = text {
        q = q.bind(s);
    }
    if let Some(o) = int {
        q = q.bind(o);
    }
    Ok(q.fetch_one(store.pool()).await?.get(0))
}

pub async fn review_by_id(store: &Store, id: i64) -> Result<Option<Review>> {
    let sql = format!("SELECT {REVIEW_COLUMNS} FROM link_reviews v WHERE v.id = $1");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.as_ref().map(review))
}

fn ordered(a: i64, b: i64) -> (i64, i64) {
    if a <= b { (a, b) } else { (b, a) }
}

async fn person_of_record(tx: &mut Tx, record: i64) -> Result<i64> {
    let row = sqlx::query("SELECT person_id FROM source_records WHERE id = $1")
        .bind(record)
        .fetch_optional(&mut **tx)
        .await?;
    row.and_then(|r| r.get::<Option<i64>, _>(0))
        .ok_or(StoreError::Invalid("record-without-person"))
}

/// Why a merge may not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeRefusal {
    /// The two persons carry different valid national codes.
    DifferentNationalCodes,
    /// A reviewer separated two of their records before.
    Separated,
    /// The review was already decided.
    Decided,
}

impl MergeRefusal {
    pub fn code(self) -> &'static str {
        match self {
            MergeRefusal::DifferentNationalCodes => "merge-different-national-codes",
            MergeRefusal::Separated => "merge-separated-before",
            MergeRefusal::Decided => "review-already-decided",
        }
    }
}

async fn claim_review(tx: &mut Tx, id: i64, status: &str, by: Option<i64>) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE link_reviews SET status = $2, decided_by = $3, decided_at = $4 \
         WHERE id = $1 AND status = 'open'",
    )
    .bind(id)
    .bind(status.to_owned())
    .bind(by)
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

async fn merge_persons_in(tx: &mut Tx, keep: i64, gone: i64) -> Result<Option<MergeRefusal>> {
    let codes = sqlx::query(
        "SELECT DISTINCT national_code FROM source_records \
         WHERE person_id IN ($1, $2) AND national_code IS NOT NULL",
    )
    .bind(keep)
    .bind(gone)
    .fetch_all(&mut **tx)
    .await?;
    if codes.len() > 1 {
        return Ok(Some(MergeRefusal::DifferentNationalCodes));
    }
    let separated: i64 = sqlx::query(
        "SELECT COUNT(*) FROM link_separations s \
         JOIN source_records a ON a.id = s.record_a JOIN source_records b ON b.id = s.record_b \
         WHERE (a.person_id = $1 AND b.person_id = $2) OR (a.person_id = $2 AND b.person_id = $1)",
    )
    .bind(keep)
    .bind(gone)
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    if separated > 0 {
        return Ok(Some(MergeRefusal::Separated));
    }
    sqlx::query("UPDATE source_records SET person_id = $1 WHERE person_id = $2")
        .bind(keep)
        .bind(gone)
        .execute(&mut **tx)
        .await?;
    // A household membership follows the surviving person unless it already has one.
    let keep_has: i64 = sqlx::query("SELECT COUNT(*) FROM household_members WHERE person_id = $1")
        .bind(keep)
        .fetch_one(&mut **tx)
        .await?
        .get(0);
    if keep_has == 0 {
        sqlx::query("UPDATE household_members SET person_id = $1 WHERE person_id = $2")
            .bind(keep)
            .bind(gone)
            .execute(&mut **tx)
            .await?;
        sqlx::query("UPDATE households SET head_person_id = $1 WHERE head_person_id = $2")
            .bind(keep)
            .bind(gone)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("UPDATE persons SET merged_into = $1, updated_at = $3 WHERE id = $2")
        .bind(keep)
        .bind(gone)
        .bind(now_millis())
        .execute(&mut **tx)
        .await?;
    refresh_person(tx, keep).await?;
    Ok(None)
}

/// The reviewer says the pair is one person: the two persons become one (the older id stays).
/// Returns the surviving person, or why not. The caller audits within `tx`.
pub async fn merge_review(
    tx: &mut Tx,
    review: &Review,
    by: Option<i64>,
) -> Result<std::result::Result<i64, MergeRefusal>> {
    if !claim_review(tx, review.id, "merged", by).await? {
        return Ok(Err(MergeRefusal::Decided));
    }
    let pa = person_of_record(tx, review.record_a).await?;
    let pb = person_of_record(tx, review.record_b).await?;
    if pa == pb {
        return Ok(Ok(pa));
    }
    let (keep, gone) = ordered(pa, pb);
    match merge_persons_in(tx, keep, gone).await? {
        Some(refusal) => Ok(Err(refusal)),
        None => Ok(Ok(keep)),
    }
}

/// The reviewer says the pair is two people: linkage never joins them again.
pub async fn separate_review(tx: &mut Tx, review: &Review, by: Option<i64>) -> Result<bool> {
    if !claim_review(tx, review.id, "separated", by).await? {
        return Ok(false);
    }
    add_separation(tx, review.record_a, review.record_b, by).await?;
    Ok(true)
}

async fn add_separation(tx: &mut Tx, a: i64, b: i64, by: Option<i64>) -> Result<()> {
    let (a, b) = ordered(a, b);
    sqlx::query(
        "INSERT INTO link_separations (record_a, record_b, decided_by, decided_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (record_a, record_b) DO NOTHING",
    )
    .bind(a)
    .bind(b)
    .bind(by)
    .bind(now_millis())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Takes one source record out of its person into a new person of its own, separated from
/// every record it leaves behind. Returns the new person's id, or None when the record was the
/// person's only one.
pub async fn split_record(tx: &mut Tx, record: i64, by: Option<i64>) -> Result<Option<i64>> {
    let person = person_of_record(tx, record).await?;
    let others: Vec<i64> =
        sqlx::query("SELECT id FROM source_records WHERE person_id = $1 AND id <> $2")
            .bind(person)
            .bind(record)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
    if others.is_empty() {
        return Ok(None);
    }
    let now = now_millis();
    let new_id: i64 =
        sqlx::query("INSERT INTO persons (created_at, updated_at) VALUES ($1, $1) RETURNING id")
            .bind(now)
            .fetch_one(&mut **tx)
            .await?
            .get(0);
    set_person(tx, record, new_id).await?;
    for o in others {
        add_separation(tx, record, o, by).await?;
    }
    refresh_person(tx, person).await?;
    refresh_person(tx, new_id).await?;
    Ok(Some(new_id))
}

/// Persons and records in the registry, and open reviews, inside the scope.
#[derive(Debug, Clone, Copy, Default, Serialize, utoipa::ToSchema)]
pub struct RegistryCounts {
    pub persons: i64,
    pub records: i64,
    pub open_reviews: i64,
}

pub async fn counts(store: &Store, filter: &PlaceFilter) -> Result<RegistryCounts> {
    let (scope, text, int) = scope_sql(filter, 1);
    let mut out = RegistryCounts::default();
    for (i, from) in [
        "persons p",
        "source_records r JOIN persons p ON p.id = r.person_id",
    ]
    .into_iter()
    .enumerate()
    {
        let sql = format!("SELECT COUNT(*) FROM {from} WHERE p.merged_into IS NULL AND {scope}");
        let mut q = sqlx::query(AssertSqlSafe(sql));
        if let Some(s) = &text {
            q = q.bind(s.clone());
        }
        if let Some(o) = int {
            q = q.bind(o);
        }
        let n: i64 = q.fetch_one(store.pool()).await?.get(0);
        if i == 0 {
            out.persons = n;
        } else {
            out.records = n;
        }
    }
    out.open_reviews = review_count(store, filter, "open").await?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Households from reference data

/// A household as a reference list gives it; members are found by national code.
#[derive(Debug, Clone, Default)]
pub struct NewHousehold {
    pub reference: String,
    pub province_code: Option<String>,
    pub county_code: Option<String>,
    pub zone: Option<String>,
    pub address: Option<String>,
    pub female_head_reason: Option<String>,
    pub dependants: i64,
    pub disability: bool,
    pub chronic_illness: bool,
    pub elderly: bool,
    pub bereaved_by_covid: bool,
    pub income_decile: Option<i64>,
    /// (national code, relation to the head: head, spouse, child, parent, other)
    pub members: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HouseholdsLoaded {
    pub households: i64,
    pub members: i64,
    /// Members whose national code matches no person in the registry.
    pub members_not_found: i64,
}

/// Writes households (replacing one with the same reference) and links their members to the
/// persons carrying those national codes, in one transaction. A household none of whose
/// members is in the registry is skipped.
pub async fn load_households(store: &Store, list: &[NewHousehold]) -> Result<HouseholdsLoaded> {
    let mut tx = store.begin().await?;
    let by_code: std::collections::HashMap<String, i64> = sqlx::query(
        "SELECT r.national_code, r.person_id FROM source_records r JOIN persons p ON p.id = r.person_id \
         WHERE r.national_code IS NOT NULL AND p.merged_into IS NULL",
    )
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
    .collect();
    let now = now_millis();
    let mut out = HouseholdsLoaded::default();
    for h in list {
        let members: Vec<(i64, &str)> = h
            .members
            .iter()
            .filter_map(|(code, rel)| by_code.get(code).map(|p| (*p, rel.as_str())))
            .collect();
        out.members_not_found += (h.members.len() - members.len()) as i64;
        if members.is_empty() {
            continue;
        }
        let head = members
            .iter()
            .find(|(_, rel)| *rel == "head")
            .map(|(p, _)| *p);
        if let Some(old) = sqlx::query("SELECT id FROM households WHERE reference = $1")
            .bind(h.reference.clone())
            .fetch_optional(&mut *tx)
            .await?
        {
            let old: i64 = old.get(0);
            sqlx::query("DELETE FROM household_members WHERE household_id = $1")
                .bind(old)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE households SET reference = NULL WHERE id = $1")
                .bind(old)
                .execute(&mut *tx)
                .await?;
        }
        let id: i64 = sqlx::query(
            "INSERT INTO households (reference, head_person_id, province_code, county_code, zone, \
             address, female_head, female_head_reason, dependants, disability, chronic_illness, \
             elderly, bereaved_by_covid, income_decile, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) \
             RETURNING id",
        )
        .bind(h.reference.clone())
        .bind(head)
        .bind(h.province_code.clone())
        .bind(h.county_code.clone())
        .bind(h.zone.clone())
        .bind(h.address.clone())
        .bind(crate::flag(h.female_head_reason.is_some()))
        .bind(h.female_head_reason.clone())
        .bind(h.dependants)
        .bind(crate::flag(h.disability))
        .bind(crate::flag(h.chronic_illness))
        .bind(crate::flag(h.elderly))
        .bind(crate::flag(h.bereaved_by_covid))
        .bind(h.income_decile)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        out.households += 1;
        for (person, relation) in members {
            // A person belongs to one household: the latest reference wins.
            sqlx::query("DELETE FROM household_members WHERE person_id = $1")
                .bind(person)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO household_members (person_id, household_id, relation) VALUES ($1, $2, $3)",
            )
            .bind(person)
            .bind(id)
            .bind(relation.to_owned())
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE persons SET zone = $2 WHERE id = $1")
                .bind(person)
                .bind(h.zone.clone())
                .execute(&mut *tx)
                .await?;
            out.members += 1;
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// Source records in the whole registry.
pub async fn record_total(store: &Store) -> Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) FROM source_records")
        .fetch_one(store.pool())
        .await?
        .get(0))
}
