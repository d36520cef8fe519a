//! Persons (clusters of source records), what linkage writes, the review queue, search and the
//! person page's reads. The linkage decisions themselves are made in `hamdeli-registry`.

use std::collections::{HashMap, HashSet};

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
    /// The relation to the head of household the list states (`head`, `child`, …; the
    /// record's facts), so that linkage reads it for records already in the registry too.
    pub relation: Option<String>,
    /// Linkage took the record's national code as its household head's (`code_borrowed`).
    pub code_borrowed: bool,
}

/// The relation stated in a record's facts (JSON), if any.
fn relation_in_facts(facts: Option<&str>) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Relation {
        relation: Option<String>,
    }
    serde_json::from_str::<Relation>(facts?).ok()?.relation
}

/// Whether some source record is linked to no person yet (an index look-up: a relink with
/// nothing to link does not read ten million records to find out).
pub async fn any_unlinked_record(store: &Store) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT id FROM source_records WHERE person_id IS NULL LIMIT 1",
    )
    .fetch_optional(store.pool())
    .await?
    .is_some())
}

/// How many source records there are.
pub async fn record_count(store: &Store) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM source_records")
        .fetch_one(store.pool())
        .await?)
}

/// Every source record, oldest first.
pub async fn link_rows(store: &Store) -> Result<Vec<LinkRow>> {
    use futures_util::TryStreamExt;
    // The facts only of records that state a relation (most records state none). Streamed: a
    // national registry's records are held once, as link rows, never also as driver rows.
    let mut stream = sqlx::query(
        "SELECT id, person_id, national_code, first_name, last_name, father_name, birth_date, \
         gender, phone, province_code, county_code, zone, \
         CASE WHEN facts LIKE '%\"relation\"%' THEN facts END, code_borrowed \
         FROM source_records ORDER BY id",
    )
    .fetch(store.pool());
    let mut out = Vec::new();
    while let Some(r) = stream.try_next().await? {
        out.push(LinkRow {
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
            relation: relation_in_facts(r.get::<Option<String>, _>(12).as_deref()),
            code_borrowed: r.get::<i64, _>(13) != 0,
        });
    }
    out.shrink_to_fit();
    Ok(out)
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
    /// Records whose `code_borrowed` changes (written before the display values are chosen).
    pub borrowed_codes: Vec<(i64, bool)>,
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
        // Ids are handed out here so that one INSERT can carry many persons. On PostgreSQL no
        // other writer may take ids meanwhile (a hand entry draws from the sequence): the lock
        // makes it wait until the sequence has been moved past these ids. SQLite's write
        // transactions are serialised already (BEGIN IMMEDIATE).
        if store.engine() == crate::Engine::Postgres {
            sqlx::query("LOCK TABLE persons IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
        }
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
    queue_reviews_and_refresh(&mut tx, store.engine(), plan, refresh, now).await?;
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
    queue_reviews_and_refresh(&mut tx, store.engine(), plan, refresh, now_millis()).await?;
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
    engine: Engine,
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
    set_borrowed_codes(tx, engine, &plan.borrowed_codes).await?;
    refresh.extend(&plan.refresh);
    refresh.sort_unstable();
    refresh.dedup();
    if refresh.len() >= REFRESH_SET_BASED {
        return refresh_persons(tx, engine, &refresh, now).await;
    }
    for p in &refresh {
        refresh_person(tx, *p).await?;
    }
    Ok(())
}

/// From this many persons on, [`refresh_persons`] chooses their display values in one
/// statement instead of two statements a person (a list of 300,000 people joining existing
/// persons took minutes row by row on PostgreSQL).
const REFRESH_SET_BASED: usize = 200;

/// A display value of a person chosen as [`refresh_person`] does: the first non-empty value
/// of its records, oldest first.
fn first_value_of_records(column: &str) -> String {
    // A code a record carries as its household head's is never the person's.
    let own = if column == "national_code" {
        " AND r.code_borrowed = 0"
    } else {
        ""
    };
    format!(
        "(SELECT r.{column} FROM source_records r WHERE r.person_id = persons.id \
         AND r.{column} <> ''{own} ORDER BY r.id LIMIT 1)"
    )
}

/// The place of a person as [`refresh_person`] chooses it: its most recent record with a
/// county, else its most recent record with a province (a record with neither: no place).
fn place_of_records(column: &str) -> String {
    format!(
        "(SELECT r.{column} FROM source_records r WHERE r.person_id = persons.id \
         ORDER BY CASE WHEN r.county_code IS NOT NULL THEN 2 \
         WHEN r.province_code IS NOT NULL THEN 1 ELSE 0 END DESC, r.id DESC LIMIT 1)"
    )
}

/// [`refresh_person`] for many persons in one statement (their ids through a temporary table).
pub async fn refresh_persons(tx: &mut Tx, engine: Engine, persons: &[i64], now: i64) -> Result<()> {
    if persons.is_empty() {
        return Ok(());
    }
    let pairs: Vec<(i64, i64)> = persons.iter().map(|&p| (p, 0)).collect();
    let columns = [
        "national_code",
        "first_name",
        "last_name",
        "father_name",
        "birth_date",
        "gender",
        "phone",
    ];
    let mut set: Vec<String> = columns
        .iter()
        .map(|c| format!("{c} = {}", first_value_of_records(c)))
        .collect();
    set.push(format!(
        "province_code = {}",
        place_of_records("province_code")
    ));
    set.push(format!("county_code = {}", place_of_records("county_code")));
    // An integer of ours: no user text in the statement.
    set.push(format!("updated_at = {now}"));
    update_through_temp(
        tx,
        engine,
        None,
        Some(&pairs),
        &format!(
            "UPDATE persons SET {} WHERE id IN (SELECT k FROM link_pairs)",
            set.join(", ")
        ),
    )
    .await
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

/// Marks records whose national code linkage took as their household head's (or no longer).
async fn set_borrowed_codes(tx: &mut Tx, engine: Engine, records: &[(i64, bool)]) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let pairs: Vec<(i64, i64)> = records.iter().map(|&(r, b)| (r, i64::from(b))).collect();
    update_through_temp(
        tx,
        engine,
        None,
        Some(&pairs),
        "UPDATE source_records SET code_borrowed = \
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
/// oldest record; its place is its most recent record's that has one. A code a record carries
/// as its household head's (`code_borrowed`) is never the person's.
pub async fn refresh_person(tx: &mut Tx, person: i64) -> Result<()> {
    let rows = sqlx::query(
        "SELECT CASE WHEN code_borrowed = 0 THEN national_code END, first_name, last_name, \
         father_name, birth_date, gender, phone, province_code, county_code \
         FROM source_records WHERE person_id = $1 ORDER BY id",
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

/// One word of a name search: its name key (`hamdeli_text::name_key`) and phonetic key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameWord {
    pub key: String,
    pub phonetic: String,
}

/// How names fold to phonetic keys (`hamdeli_text::phonetic_key`), given by the caller: the
/// store has no text crate, and fills [`refresh_search_names`] with the same function that made
/// the query's keys.
#[derive(Clone, Copy)]
pub struct Phonetic(pub fn(&str) -> String);

impl std::fmt::Debug for Phonetic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Phonetic")
    }
}

/// Filters a search narrows to (each ANDed with the scope, so none widens it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilters {
    pub county: Option<String>,
    /// `urban` or `rural`: the household's zone, else the person's.
    pub zone: Option<String>,
    /// Only heads of female-headed households.
    pub female_head: bool,
    /// Only persons a support list of this organisation covers.
    pub organisation: Option<i64>,
}

impl SearchFilters {
    pub fn is_empty(&self) -> bool {
        *self == SearchFilters::default()
    }

    /// The names of the filters in use (what an audit entry may say).
    pub fn names(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.county.is_some() {
            out.push("county");
        }
        if self.zone.is_some() {
            out.push("zone");
        }
        if self.female_head {
            out.push("female_head");
        }
        if self.organisation.is_some() {
            out.push("organisation");
        }
        out
    }
}

/// What to look for; built by `hamdeli_registry::search::parse_query` from what the user typed.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// A national code (the digits typed, when they are not a mobile number).
    pub national_code: Option<String>,
    /// A mobile number, `09…`.
    pub phone: Option<String>,
    /// The words of a name, in the order typed.
    pub words: Vec<NameWord>,
    /// Whence phonetic matches; none without it.
    pub phonetic: Option<Phonetic>,
    pub filters: SearchFilters,
    /// From 1.
    pub page: u32,
}

/// Hits per page.
pub const SEARCH_PAGE_SIZE: usize = 50;
/// The last page a search reaches (10,000 hits): past it, narrow the search.
pub const SEARCH_MAX_PAGE: u32 = 200;
/// Words of a name a search reads (the rest are ignored).
const MAX_WORDS: usize = 5;
/// Spellings of one phonetic key a search looks up.
const MAX_VARIANTS: usize = 32;

impl SearchQuery {
    /// What kind of search this is, for the audit log (never the key itself).
    pub fn kind(&self) -> &'static str {
        match (
            self.national_code.is_some(),
            self.phone.is_some(),
            self.words.is_empty(),
        ) {
            (true, _, true) => "national_code",
            (false, true, true) => "phone",
            (false, false, _) => "name",
            _ => "mixed",
        }
    }

    pub fn is_empty(&self) -> bool {
        self.national_code.is_none() && self.phone.is_none() && self.words.is_empty()
    }
}

/// Why a person is a hit, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The national code typed.
    NationalCode,
    /// The mobile number typed.
    Phone,
    /// The name as typed (either order, compound first names apart or together).
    Name,
    /// A name that sounds the same.
    Phonetic,
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
    /// Why it is a hit (hits come best first).
    #[serde(rename = "match")]
    pub matched: MatchKind,
}

/// One page of hits, and whether another follows.
#[derive(Debug, Clone)]
pub struct SearchResults {
    pub hits: Vec<PersonHit>,
    pub page: u32,
    pub has_more: bool,
}

const HIT_COLUMNS: &str = "p.id, p.national_code, p.first_name, p.last_name, p.father_name, \
    p.birth_date, p.province_code, p.county_code, \
    (SELECT COUNT(*) FROM source_records c WHERE c.person_id = p.id)";

fn hit(r: &sqlx::any::AnyRow, matched: MatchKind) -> PersonHit {
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
        matched,
    }
}

/// A bound value of a search statement.
#[derive(Debug, Clone)]
enum Bind {
    Text(String),
    Int(i64),
}

/// SQL text with numbered parameters and their values.
#[derive(Default)]
struct Sql {
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }

    fn text(&mut self, v: &str) {
        self.binds.push(Bind::Text(v.to_owned()));
        self.text.push_str(&format!("${}", self.binds.len()));
    }

    fn int(&mut self, v: i64) {
        self.binds.push(Bind::Int(v));
        self.text.push_str(&format!("${}", self.binds.len()));
    }

    fn in_list(&mut self, column: &str, values: &[String]) {
        self.push(column);
        self.push(" IN (");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.text(v);
        }
        self.push(")");
    }

    /// The scope and the filters over the persons alias `p`.
    fn scope_and_filters(&mut self, scope: &PlaceFilter, filters: &SearchFilters) {
        let (scope_text, text, int) = scope_sql(scope, self.binds.len() + 1);
        self.push(" AND ");
        self.push(&scope_text);
        if let Some(t) = text {
            self.binds.push(Bind::Text(t));
        }
        if let Some(i) = int {
            self.binds.push(Bind::Int(i));
        }
        if let Some(county) = &filters.county {
            self.push(" AND p.county_code = ");
            self.text(county);
        }
        if let Some(zone) = &filters.zone {
            self.push(
                " AND COALESCE((SELECT hz.zone FROM household_members mz \
                 JOIN households hz ON hz.id = mz.household_id WHERE mz.person_id = p.id), \
                 p.zone) = ",
            );
            self.text(zone);
        }
        if filters.female_head {
            self.push(
                " AND EXISTS (SELECT 1 FROM household_members mf JOIN households hf \
                 ON hf.id = mf.household_id WHERE mf.person_id = p.id AND mf.relation = 'head' \
                 AND hf.female_head = 1)",
            );
        }
        if let Some(org) = filters.organisation {
            self.push(
                " AND EXISTS (SELECT 1 FROM source_records sc JOIN source_lists lc \
                 ON lc.id = sc.list_id WHERE sc.person_id = p.id AND lc.list_kind = 'support' \
                 AND lc.organisation_id = ",
            );
            self.int(org);
            self.push(")");
        }
    }

    fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
        let mut q = sqlx::query(AssertSqlSafe(self.text.clone()));
        for b in &self.binds {
            q = match b {
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }
}

/// A condition on a name column: one key, or any of several.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Keys {
    One(String),
    Any(Vec<String>),
}

/// One way a person can match, walked in its own index order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arm {
    Code(String),
    Phone(String),
    /// Records whose first and/or last name keys are as given.
    Names {
        first: Option<Keys>,
        last: Option<Keys>,
        phonetic: bool,
    },
}

impl Arm {
    fn kind(&self) -> MatchKind {
        match self {
            Arm::Code(_) => MatchKind::NationalCode,
            Arm::Phone(_) => MatchKind::Phone,
            Arm::Names {
                phonetic: false, ..
            } => MatchKind::Name,
            Arm::Names { phonetic: true, .. } => MatchKind::Phonetic,
        }
    }

    /// The record condition and the order that its index gives.
    fn condition(&self, sql: &mut Sql) -> &'static str {
        let keys = |sql: &mut Sql, column: &str, keys: &Keys| match keys {
            Keys::One(k) => {
                sql.push(column);
                sql.push(" = ");
                sql.text(k);
            }
            Keys::Any(ks) => sql.in_list(column, ks),
        };
        match self {
            Arm::Code(code) => {
                sql.push("r.national_code = ");
                sql.text(code);
                "r.person_id"
            }
            Arm::Phone(phone) => {
                sql.push("r.phone = ");
                sql.text(phone);
                "r.person_id"
            }
            Arm::Names { first, last, .. } => {
                match (first, last) {
                    (Some(f), Some(l)) => {
                        keys(sql, "r.last_key", l);
                        sql.push(" AND ");
                        keys(sql, "r.first_key", f);
                    }
                    (Some(f), None) => keys(sql, "r.first_key", f),
                    (None, Some(l)) => keys(sql, "r.last_key", l),
                    (None, None) => sql.push("1 = 0"),
                }
                match (first, last) {
                    // One key: its index entries are in (other name, person) order already,
                    // so the walk stops at the limit.
                    (Some(Keys::One(_)), None) => "r.last_key, r.person_id",
                    (None, Some(Keys::One(_))) => "r.first_key, r.person_id",
                    _ => "r.person_id",
                }
            }
        }
    }
}

/// Words read as one name: their keys joined, and the phonetic key of that (not the words'
/// keys joined: a phonetic key keeps an alef only at its start).
fn span(phonetic: Option<Phonetic>, words: &[&NameWord]) -> (String, String) {
    let key: String = words.iter().map(|w| w.key.as_str()).collect();
    let phon = match (words, phonetic) {
        ([one], _) => one.phonetic.clone(),
        (_, Some(f)) => (f.0)(&key),
        (_, None) => words.iter().map(|w| w.phonetic.as_str()).collect(),
    };
    (key, phon)
}

/// The ways a query can match, best first: the code and the phone; the name as typed ("first
/// last", then "last first", then all the words as one first or last name — a compound name
/// written apart); then the same by sound.
fn arms(query: &SearchQuery, variants: &HashMap<String, Vec<String>>) -> Vec<Arm> {
    let mut out = Vec::new();
    if let Some(c) = &query.national_code {
        out.push(Arm::Code(c.clone()));
    }
    if let Some(p) = &query.phone {
        out.push(Arm::Phone(p.clone()));
    }
    let words: Vec<&NameWord> = query.words.iter().take(MAX_WORDS).collect();
    if words.is_empty() {
        return out;
    }
    // (first words, last words) splits: "first last" for each cut, then "last first".
    let joined = |ws: &[&NameWord]| span(query.phonetic, ws);
    let mut pairs: Vec<((String, String), (String, String))> = Vec::new();
    for cut in 1..words.len() {
        pairs.push((joined(&words[..cut]), joined(&words[cut..])));
    }
    for cut in 1..words.len() {
        pairs.push((joined(&words[cut..]), joined(&words[..cut])));
    }
    let whole = joined(&words);
    let mut exact = Vec::new();
    if words.len() == 1 {
        // One word: a last name (as before), then a first name.
        exact.push(Arm::Names {
            first: None,
            last: Some(Keys::One(whole.0.clone())),
            phonetic: false,
        });
        exact.push(Arm::Names {
            first: Some(Keys::One(whole.0.clone())),
            last: None,
            phonetic: false,
        });
    } else {
        for (f, l) in &pairs {
            exact.push(Arm::Names {
                first: Some(Keys::One(f.0.clone())),
                last: Some(Keys::One(l.0.clone())),
                phonetic: false,
            });
        }
        exact.push(Arm::Names {
            first: Some(Keys::One(whole.0.clone())),
            last: None,
            phonetic: false,
        });
        exact.push(Arm::Names {
            first: None,
            last: Some(Keys::One(whole.0.clone())),
            phonetic: false,
        });
    }
    // Other spellings of the same sound (the exact key left out: the exact arms have it).
    let others = |(key, phon): &(String, String)| -> Vec<String> {
        variants
            .get(phon)
            .map(|v| v.iter().filter(|k| *k != key).cloned().collect())
            .unwrap_or_default()
    };
    let all = |(key, phon): &(String, String)| -> Vec<String> {
        let mut v: Vec<String> = variants.get(phon).cloned().unwrap_or_default();
        if !v.contains(key) {
            v.push(key.clone());
        }
        v
    };
    let mut by_sound = Vec::new();
    if query.phonetic.is_some() {
        let single = |first: bool, ks: Vec<String>| {
            (!ks.is_empty()).then(|| Arm::Names {
                first: first.then(|| Keys::Any(ks.clone())),
                last: (!first).then(|| Keys::Any(ks.clone())),
                phonetic: true,
            })
        };
        if words.len() == 1 {
            by_sound.extend(single(false, others(&whole)));
            by_sound.extend(single(true, others(&whole)));
        } else {
            for (f, l) in &pairs {
                // Every (first, last) spelling pair but the exact one: another first name
                // with any last, and the exact first with another last.
                let (of, ol) = (others(f), others(l));
                if !of.is_empty() {
                    by_sound.push(Arm::Names {
                        first: Some(Keys::Any(of)),
                        last: Some(Keys::Any(all(l))),
                        phonetic: true,
                    });
                }
                if !ol.is_empty() {
                    by_sound.push(Arm::Names {
                        first: Some(Keys::One(f.0.clone())),
                        last: Some(Keys::Any(ol)),
                        phonetic: true,
                    });
                }
            }
            by_sound.extend(single(true, others(&whole)));
            by_sound.extend(single(false, others(&whole)));
        }
    }
    for arm in exact.into_iter().chain(by_sound) {
        if !out.contains(&arm) {
            out.push(arm);
        }
    }
    out
}

/// The name keys of each phonetic key asked for (at most [`MAX_VARIANTS`] each).
async fn name_variants(store: &Store, query: &SearchQuery) -> Result<HashMap<String, Vec<String>>> {
    let mut wanted: Vec<String> = Vec::new();
    let words: Vec<&NameWord> = query.words.iter().take(MAX_WORDS).collect();
    for i in 0..words.len() {
        for j in i + 1..=words.len() {
            let (_, phon) = span(query.phonetic, &words[i..j]);
            if !phon.is_empty() && !wanted.contains(&phon) {
                wanted.push(phon);
            }
        }
    }
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    if wanted.is_empty() || query.phonetic.is_none() {
        return Ok(out);
    }
    let mut sql = Sql::default();
    sql.push("SELECT phonetic_key, name_key FROM search_names WHERE ");
    sql.in_list("phonetic_key", &wanted);
    sql.push(" ORDER BY phonetic_key, name_key");
    for row in sql.query().fetch_all(store.pool()).await? {
        let v = out.entry(row.get::<String, _>(0)).or_default();
        if v.len() < MAX_VARIANTS {
            v.push(row.get(1));
        }
    }
    Ok(out)
}

/// Brings `search_names` up to date with the records added since it was last filled (the
/// first search after a bulk import reads the new records' names once). Records updated in
/// place by a re-import keep the spellings known before.
pub async fn refresh_search_names(store: &Store, phonetic: Phonetic) -> Result<()> {
    static FILLING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    // One round trip to see that nothing is new (the usual case).
    let row = sqlx::query(
        "SELECT (SELECT MAX(id) FROM source_records), \
         (SELECT last_record_id FROM search_names_state WHERE id = 1)",
    )
    .fetch_one(store.pool())
    .await?;
    let newest: Option<i64> = row.get(0);
    let known: Option<i64> = row.get(1);
    let Some(newest) = newest else { return Ok(()) };
    if known.unwrap_or(0) >= newest {
        return Ok(());
    }
    let _filling = FILLING.lock().await;
    let from = names_known(store).await?;
    if from >= newest {
        return Ok(());
    }
    let mut keys: HashSet<String> = HashSet::new();
    let step = 250_000;
    let mut start = from;
    while start < newest {
        let end = (start + step).min(newest);
        let rows = sqlx::query(
            "SELECT first_key, last_key FROM source_records WHERE id > $1 AND id <= $2",
        )
        .bind(start)
        .bind(end)
        .fetch_all(store.pool())
        .await?;
        for r in rows {
            for col in 0..2 {
                if let Some(k) = r.get::<Option<String>, _>(col)
                    && !k.is_empty()
                {
                    keys.insert(k);
                }
            }
        }
        start = end;
    }
    let mut keys: Vec<String> = keys.into_iter().collect();
    keys.sort_unstable();
    let mut tx = store.begin().await?;
    for chunk in keys.chunks(CHUNK / 2) {
        let sql = format!(
            "INSERT INTO search_names (name_key, phonetic_key) VALUES {} \
             ON CONFLICT (name_key) DO NOTHING",
            values_placeholders(store.engine(), chunk.len(), 2)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for k in chunk {
            q = q.bind(k.clone()).bind((phonetic.0)(k));
        }
        q.execute(&mut *tx).await?;
    }
    sqlx::query(
        "INSERT INTO search_names_state (id, last_record_id) VALUES (1, $1) \
         ON CONFLICT (id) DO UPDATE SET last_record_id = excluded.last_record_id \
         WHERE search_names_state.last_record_id < excluded.last_record_id",
    )
    .bind(newest)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn names_known(store: &Store) -> Result<i64> {
    Ok(
        sqlx::query("SELECT last_record_id FROM search_names_state WHERE id = 1")
            .fetch_optional(store.pool())
            .await?
            .map(|r| r.get::<i64, _>(0))
            .unwrap_or(0),
    )
}

/// The record statement of one arm inside the scope and filters, in the arm's index order
/// (FROM … WHERE …, without its ORDER BY and LIMIT); returns that order.
fn arm_sql(
    engine: Engine,
    scope: &PlaceFilter,
    filters: &SearchFilters,
    arm: &Arm,
    sql: &mut Sql,
) -> &'static str {
    // SQLite: CROSS JOIN keeps the records (walked in index order) as the outer loop.
    sql.push(match engine {
        Engine::Sqlite => "FROM source_records r CROSS JOIN persons p ON p.id = r.person_id WHERE ",
        Engine::Postgres => "FROM source_records r JOIN persons p ON p.id = r.person_id WHERE ",
    });
    let order = arm.condition(sql);
    sql.push(" AND p.merged_into IS NULL");
    sql.scope_and_filters(scope, filters);
    order
}

/// The first rows a search fetches of one arm (a person with several matching records comes
/// more than once).
fn first_limit(want: usize) -> i64 {
    (want * 2 + 8) as i64
}

/// The persons of one arm inside the scope and filters, in the arm's index order, at most
/// `want` distinct ones.
async fn arm_persons(
    store: &Store,
    scope: &PlaceFilter,
    filters: &SearchFilters,
    arm: &Arm,
    want: usize,
) -> Result<Vec<i64>> {
    let mut sql = Sql::default();
    sql.push("SELECT r.person_id ");
    let order = arm_sql(store.engine(), scope, filters, arm, &mut sql);
    sql.push(&format!(" ORDER BY {order} LIMIT "));
    // Fetch more until enough distinct persons or the end.
    let mut limit = first_limit(want);
    loop {
        let mut q = Sql {
            text: sql.text.clone(),
            binds: sql.binds.clone(),
        };
        q.int(limit);
        let rows = q.query().fetch_all(store.pool()).await?;
        let mut seen = HashSet::new();
        let ids: Vec<i64> = rows
            .iter()
            .map(|r| r.get::<i64, _>(0))
            .filter(|id| seen.insert(*id))
            .take(want)
            .collect();
        if ids.len() >= want || (rows.len() as i64) < limit {
            return Ok(ids);
        }
        limit *= 4;
    }
}

/// Adds the persons of `arms`, best arm first, to `order` until it holds `want`: the first
/// rows of every arm in one statement (each arm walked in its own index order with its own
/// LIMIT, UNION ALL), and an arm alone again only when its first rows held too few distinct
/// persons.
async fn add_arms(
    store: &Store,
    scope: &PlaceFilter,
    filters: &SearchFilters,
    arms: &[Arm],
    want: usize,
    order: &mut Vec<(i64, MatchKind)>,
    seen: &mut HashSet<i64>,
) -> Result<()> {
    if arms.is_empty() || order.len() >= want {
        return Ok(());
    }
    let limit = first_limit(want);
    let mut sql = Sql::default();
    for (i, arm) in arms.iter().enumerate() {
        if i > 0 {
            sql.push(" UNION ALL ");
        }
        sql.push(&format!(
            "SELECT CAST({i} AS BIGINT) AS arm, person_id, o FROM (SELECT r.person_id AS person_id, "
        ));
        let mut inner = Sql {
            text: String::new(),
            binds: std::mem::take(&mut sql.binds),
        };
        let by = arm_sql(store.engine(), scope, filters, arm, &mut inner);
        let first = by.split(", ").next().filter(|c| *c != "r.person_id");
        sql.push(&format!("{} AS o ", first.unwrap_or("''")));
        sql.push(&inner.text);
        sql.binds = inner.binds;
        sql.push(&format!(" ORDER BY {by} LIMIT "));
        sql.int(limit);
        sql.push(") a");
        sql.push(&i.to_string());
    }
    sql.push(" ORDER BY 1, 3, 2");
    let rows = sql.query().fetch_all(store.pool()).await?;
    let mut per_arm: Vec<Vec<i64>> = vec![Vec::new(); arms.len()];
    for r in &rows {
        let arm: i64 = r.get(0);
        per_arm[arm as usize].push(r.get(1));
    }
    for (arm, ids) in arms.iter().zip(per_arm) {
        if order.len() >= want {
            break;
        }
        let fetched = ids.len() as i64;
        let mut distinct = HashSet::new();
        let mut ids: Vec<i64> = ids
            .into_iter()
            .filter(|id| distinct.insert(*id))
            .take(want)
            .collect();
        if ids.len() < want && fetched >= limit {
            // Duplicates filled the first rows: this arm alone, fetching more.
            ids = arm_persons(store, scope, filters, arm, want).await?;
        }
        for id in ids {
            if seen.insert(id) {
                order.push((id, arm.kind()));
            }
        }
    }
    Ok(())
}

/// The first `limit` source records, as linkage reads them: a sample of the registry that the
/// comparison of two persons picked for a merge estimates its weights from.
pub async fn sample_link_rows(store: &Store, limit: i64) -> Result<Vec<LinkRow>> {
    let rows = sqlx::query(
        "SELECT id, person_id, national_code, first_name, last_name, father_name, birth_date, \
         gender, phone, province_code, county_code, zone FROM source_records ORDER BY id LIMIT $1",
    )
    .bind(limit)
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
            ..Default::default()
        })
        .collect())
}

/// Persons matching the query inside the scope and the filters, best first (the national code
/// or phone, then the name as typed, then names that sound the same), one page at a time.
pub async fn search(
    store: &Store,
    scope: &PlaceFilter,
    query: &SearchQuery,
) -> Result<SearchResults> {
    let page = query.page.clamp(1, SEARCH_MAX_PAGE);
    let offset = (page as usize - 1) * SEARCH_PAGE_SIZE;
    let want = offset + SEARCH_PAGE_SIZE + 1;
    // The code, the phone and the name as typed first (one statement); the spellings that
    // sound the same only when those leave the page short.
    let exact = arms(query, &HashMap::new());
    let mut order: Vec<(i64, MatchKind)> = Vec::new();
    let mut seen = HashSet::new();
    add_arms(
        store,
        scope,
        &query.filters,
        &exact,
        want,
        &mut order,
        &mut seen,
    )
    .await?;
    if order.len() < want
        && let (Some(phonetic), false) = (query.phonetic, query.words.is_empty())
    {
        refresh_search_names(store, phonetic).await?;
        let variants = name_variants(store, query).await?;
        let all = arms(query, &variants);
        let by_sound = &all[exact.len()..];
        add_arms(
            store,
            scope,
            &query.filters,
            by_sound,
            want,
            &mut order,
            &mut seen,
        )
        .await?;
    }
    let has_more = order.len() > offset + SEARCH_PAGE_SIZE;
    let page_ids: Vec<(i64, MatchKind)> = order
        .into_iter()
        .skip(offset)
        .take(SEARCH_PAGE_SIZE)
        .collect();
    let mut hits = Vec::with_capacity(page_ids.len());
    if !page_ids.is_empty() {
        let mut sql = Sql::default();
        sql.push(&format!(
            "SELECT {HIT_COLUMNS} FROM persons p WHERE p.id IN ("
        ));
        for (i, (id, _)) in page_ids.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.int(*id);
        }
        sql.push(")");
        let rows = sql.query().fetch_all(store.pool()).await?;
        let by_id: HashMap<i64, &sqlx::any::AnyRow> =
            rows.iter().map(|r| (r.get::<i64, _>(0), r)).collect();
        for (id, kind) in &page_ids {
            if let Some(r) = by_id.get(id) {
                hits.push(hit(r, *kind));
            }
        }
    }
    Ok(SearchResults {
        hits,
        page,
        has_more,
    })
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

/// Several records by id in one statement (a page of reviews shows two records a row: one
/// look-up each was 200 round trips, 46 ms at 1M people on PostgreSQL). Ids not found are absent.
pub async fn records_by_id(store: &Store, ids: &[i64]) -> Result<HashMap<i64, SourceRecordView>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let sql = format!("{RECORD_VIEW} WHERE r.id IN ({})", crate::id_list(chunk));
        for row in sqlx::query(AssertSqlSafe(sql))
            .fetch_all(store.pool())
            .await?
        {
            let view = record_view(&row);
            out.insert(view.id, view);
        }
    }
    Ok(out)
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
        "SELECT h.id, COALESCE(h.reference, h.source_reference), h.head_person_id, h.province_code, \
         h.county_code, h.zone, \
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
    reviews_after(store, filter, status, None, limit).await
}

/// One page of [`reviews`]: those after review `after` in the list's order (likeliest first,
/// then by id), keyset on (probability, id): no OFFSET.
pub async fn reviews_after(
    store: &Store,
    filter: &PlaceFilter,
    status: &str,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<Review>> {
    let (scope, text, int) = scope_sql(filter, 2);
    let (scope_b, _, _) = scope_sql_on("q", filter, 2);
    let mut next = if text.is_some() || int.is_some() {
        3
    } else {
        2
    };
    let keyset = match after {
        Some(_) => {
            let k = next;
            next += 1;
            format!(
                " AND (v.probability_bp < (SELECT w.probability_bp FROM link_reviews w WHERE w.id = ${k}) \
                 OR (v.probability_bp = (SELECT w.probability_bp FROM link_reviews w WHERE w.id = ${k}) \
                 AND v.id > ${k}))"
            )
        }
        None => String::new(),
    };
    let sql = format!(
        "SELECT {REVIEW_COLUMNS} FROM link_reviews v JOIN source_records ra ON ra.id = v.record_a \
         JOIN persons p ON p.id = ra.person_id JOIN source_records rb ON rb.id = v.record_b \
         JOIN persons q ON q.id = rb.person_id WHERE v.status = $1 AND {scope} AND {scope_b}{keyset} \
         ORDER BY v.probability_bp DESC, v.id LIMIT ${next}"
    );
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(status.to_owned());
    if let Some(s) = text {
        q = q.bind(s);
    }
    if let Some(o) = int {
        q = q.bind(o);
    }
    if let Some(a) = after {
        q = q.bind(a);
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

// ---------------------------------------------------------------------------------------------
// Merges of two persons a user picked (not from the review queue), and their undoing

/// A merge of two persons a user picked: what it moved, so it can be undone.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonMerge {
    pub id: i64,
    pub keep_person: i64,
    pub gone_person: i64,
    /// The records that came from `gone_person`.
    pub records: Vec<i64>,
    pub moved_household: bool,
    pub merged_by: Option<i64>,
    pub merged_at: i64,
    pub undone_at: Option<i64>,
}

const MERGE_COLUMNS: &str = "id, keep_person, gone_person, records, moved_household, merged_by, \
    merged_at, undone_at";

fn person_merge(r: &sqlx::any::AnyRow) -> PersonMerge {
    PersonMerge {
        id: r.get(0),
        keep_person: r.get(1),
        gone_person: r.get(2),
        records: serde_json::from_str(&r.get::<String, _>(3)).unwrap_or_default(),
        moved_household: r.get::<i64, _>(4) != 0,
        merged_by: r.get(5),
        merged_at: r.get(6),
        undone_at: r.get(7),
    }
}

async fn household_count(tx: &mut Tx, person: i64) -> Result<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM household_members WHERE person_id = $1")
            .bind(person)
            .fetch_one(&mut **tx)
            .await?
            .get(0),
    )
}

/// Merges two persons into one (the older id stays) and keeps what moved; the caller audits
/// within `tx` and commits only on `Ok(Ok(_))`. Refused like a review's merge: two different
/// national codes, or records a reviewer separated.
pub async fn merge_two_persons(
    tx: &mut Tx,
    a: i64,
    b: i64,
    by: Option<i64>,
) -> Result<std::result::Result<PersonMerge, MergeRefusal>> {
    if a == b {
        return Err(StoreError::Invalid("merge-same-person"));
    }
    for id in [a, b] {
        let row = sqlx::query("SELECT merged_into FROM persons WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        if row.get::<Option<i64>, _>(0).is_some() {
            return Err(StoreError::Conflict("merge-person-merged-away"));
        }
    }
    let (keep, gone) = ordered(a, b);
    let records: Vec<i64> =
        sqlx::query("SELECT id FROM source_records WHERE person_id = $1 ORDER BY id")
            .bind(gone)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
    let moved_household =
        household_count(tx, keep).await? == 0 && household_count(tx, gone).await? > 0;
    if let Some(refusal) = merge_persons_in(tx, keep, gone).await? {
        return Ok(Err(refusal));
    }
    let now = now_millis();
    let id: i64 = sqlx::query(
        "INSERT INTO person_merges (keep_person, gone_person, records, moved_household, \
         merged_by, merged_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(keep)
    .bind(gone)
    .bind(serde_json::Value::from(records.clone()).to_string())
    .bind(crate::flag(moved_household))
    .bind(by)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    Ok(Ok(PersonMerge {
        id,
        keep_person: keep,
        gone_person: gone,
        records,
        moved_household,
        merged_by: by,
        merged_at: now,
        undone_at: None,
    }))
}

pub async fn person_merge_by_id(store: &Store, id: i64) -> Result<Option<PersonMerge>> {
    let sql = format!("SELECT {MERGE_COLUMNS} FROM person_merges WHERE id = $1");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.as_ref().map(person_merge))
}

/// The merges into a person not undone, newest first.
pub async fn merges_into(store: &Store, person: i64) -> Result<Vec<PersonMerge>> {
    let sql = format!(
        "SELECT {MERGE_COLUMNS} FROM person_merges WHERE keep_person = $1 AND undone_at IS NULL \
         ORDER BY id DESC"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(person)
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(person_merge).collect())
}

/// Splits a merge back into the two persons it was: the records that came from the merged
/// person (those still with the survivor) and its household membership go back, and it is a
/// person again. Refused when already undone or when the survivor was merged on since.
pub async fn undo_person_merge(tx: &mut Tx, id: i64, by: Option<i64>) -> Result<PersonMerge> {
    let sql = format!("SELECT {MERGE_COLUMNS} FROM person_merges WHERE id = $1");
    let merge = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .as_ref()
        .map(person_merge)
        .ok_or(StoreError::NotFound)?;
    let claimed = sqlx::query(
        "UPDATE person_merges SET undone_at = $2, undone_by = $3 \
         WHERE id = $1 AND undone_at IS NULL",
    )
    .bind(id)
    .bind(now_millis())
    .bind(by)
    .execute(&mut **tx)
    .await?;
    if claimed.rows_affected() != 1 {
        return Err(StoreError::Conflict("merge-already-undone"));
    }
    let merged_into = |p: i64| sqlx::query("SELECT merged_into FROM persons WHERE id = $1").bind(p);
    let keep_into: Option<i64> = merged_into(merge.keep_person)
        .fetch_one(&mut **tx)
        .await?
        .get(0);
    let gone_into: Option<i64> = merged_into(merge.gone_person)
        .fetch_one(&mut **tx)
        .await?
        .get(0);
    if keep_into.is_some() || gone_into != Some(merge.keep_person) {
        return Err(StoreError::Conflict("merge-undo-merged-since"));
    }
    for chunk in merge.records.chunks(CHUNK / 2) {
        let list = (0..chunk.len())
            .map(|i| format!("${}", i + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE source_records SET person_id = $1 WHERE person_id = $2 AND id IN ({list})"
        );
        let mut q = sqlx::query(AssertSqlSafe(sql))
            .bind(merge.gone_person)
            .bind(merge.keep_person);
        for r in chunk {
            q = q.bind(*r);
        }
        q.execute(&mut **tx).await?;
    }
    if merge.moved_household {
        sqlx::query("UPDATE household_members SET person_id = $1 WHERE person_id = $2")
            .bind(merge.gone_person)
            .bind(merge.keep_person)
            .execute(&mut **tx)
            .await?;
        sqlx::query("UPDATE households SET head_person_id = $1 WHERE head_person_id = $2")
            .bind(merge.gone_person)
            .bind(merge.keep_person)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("UPDATE persons SET merged_into = NULL, updated_at = $2 WHERE id = $1")
        .bind(merge.gone_person)
        .bind(now_millis())
        .execute(&mut **tx)
        .await?;
    refresh_person(tx, merge.keep_person).await?;
    refresh_person(tx, merge.gone_person).await?;
    Ok(merge)
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
    // From the summary tables (hamdeli_store::scale): counting a million persons and their
    // records on every registry page took 49 ms; the summary has a row per place and zone.
    crate::scale::refresh(store).await?;
    let big = |e: &str| format!("CAST(COALESCE(SUM({e}), 0) AS BIGINT)");
    let (sql, text, int) = match filter {
        PlaceFilter::All => (
            format!(
                "SELECT {}, {} FROM coverage_summary",
                big("persons"),
                big("records")
            ),
            None,
            None,
        ),
        PlaceFilter::Province(c) => (
            format!(
                "SELECT {}, {} FROM coverage_summary WHERE province_code = $1",
                big("persons"),
                big("records")
            ),
            Some(c.clone()),
            None,
        ),
        PlaceFilter::County(c) => (
            format!(
                "SELECT {}, {} FROM coverage_summary WHERE county_code = $1",
                big("persons"),
                big("records")
            ),
            Some(c.clone()),
            None,
        ),
        PlaceFilter::Organisation(o) => (
            format!(
                "SELECT COUNT(*), {} FROM coverage_persons WHERE person_id IN \
                 (SELECT r.person_id FROM source_records r JOIN source_lists l ON l.id = r.list_id \
                 WHERE l.organisation_id = $1)",
                big("records")
            ),
            None,
            Some(*o),
        ),
        PlaceFilter::Nothing => (
            "SELECT CAST(0 AS BIGINT), CAST(0 AS BIGINT)".to_owned(),
            None,
            None,
        ),
    };
    let mut q = sqlx::query(AssertSqlSafe(sql));
    if let Some(s) = text {
        q = q.bind(s);
    }
    if let Some(o) = int {
        q = q.bind(o);
    }
    let row = q.fetch_one(store.pool()).await?;
    let mut out = RegistryCounts {
        persons: row.get(0),
        records: row.get(1),
        ..Default::default()
    };
    out.open_reviews = review_count(store, filter, "open").await?;
    Ok(out)
}

/// [`counts`] from the source tables (the tests' yardstick).
pub async fn counts_from_scratch(store: &Store, filter: &PlaceFilter) -> Result<(i64, i64)> {
    let (scope, text, int) = scope_sql(filter, 1);
    let mut out = (0, 0);
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
            out.0 = n;
        } else {
            out.1 = n;
        }
    }
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

/// Households in the registry with a member, and the persons belonging to one.
pub async fn household_totals(store: &Store) -> Result<(i64, i64)> {
    let households: i64 = sqlx::query("SELECT COUNT(DISTINCT household_id) FROM household_members")
        .fetch_one(store.pool())
        .await?
        .get(0);
    let members: i64 = sqlx::query("SELECT COUNT(*) FROM household_members")
        .fetch_one(store.pool())
        .await?
        .get(0);
    Ok((households, members))
}

/// Source records in the whole registry.
pub async fn record_total(store: &Store) -> Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) FROM source_records")
        .fetch_one(store.pool())
        .await?
        .get(0))
}

/// Whether the registry holds the person as the head of a female-headed household.
pub async fn heads_a_female_headed_household(store: &Store, person_id: i64) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM households WHERE head_person_id = $1 AND female_head = 1 LIMIT 1",
    )
    .bind(person_id)
    .fetch_optional(store.pool())
    .await?;
    Ok(found.is_some())
}
