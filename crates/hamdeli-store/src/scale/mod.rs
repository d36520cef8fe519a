//! Aggregates that scale: summary tables kept in the writes' transactions, and their rebuild.
//!
//! The coverage report (who is covered by how many organisations, who by none) used to run
//! four correlated subqueries for every person on every request: 4.6 s at 100,000 people, no
//! answer at a million. Now:
//!
//! - `coverage_persons` holds each unmerged person's coverage facts (place, zone, covering
//!   organisations, same kind of support twice, female head of household);
//! - `coverage_summary` holds their counts per province, county and zone (a few thousand rows);
//! - triggers on `source_records`, `persons`, `household_members`, `households`, `source_lists`
//!   and `programmes` (migration 0023) mark the places whose facts a write changed in
//!   `scale_dirty`, inside the writing transaction: an import, a merge or split, a hand entry
//!   or a household change marks its places when it commits, and never otherwise;
//! - [`refresh`] recomputes the marked places (every place when there are many, or when a
//!   list's kind or programme changed) before a report reads the tables; [`rebuild`] recomputes
//!   everything (`hamdeli admin rebuild-summaries`).

use std::collections::BTreeSet;

use sqlx::{AssertSqlSafe, Row};

use crate::{Engine, Result, Store, Tx};

/// More dirty places than this and a refresh recomputes everything (set-based, one pass)
/// rather than place by place (index lookups per person).
const PLACES_ONE_BY_ONE: usize = 40;

/// One advisory lock key for refreshes on PostgreSQL (two refreshes never interleave).
const PG_REFRESH_LOCK: i64 = 17_023;

/// What a refresh did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refreshed {
    /// Places recomputed one by one.
    pub places: usize,
    /// Whether everything was recomputed.
    pub everything: bool,
}

/// Per person, with index lookups: for a few places.
const PERSON_FACTS_BY_LOOKUP: &str = "SELECT p.id, COALESCE(p.province_code, ''), \
     COALESCE(p.county_code, ''), COALESCE(h.zone, p.zone, 'unknown'), \
     (SELECT COUNT(DISTINCT l.organisation_id) FROM source_records r \
        JOIN source_lists l ON l.id = r.list_id \
        WHERE r.person_id = p.id AND l.list_kind = 'support'), \
     CASE WHEN EXISTS (SELECT 1 FROM source_records r JOIN source_lists l ON l.id = r.list_id \
        JOIN programmes g ON g.id = l.programme_id WHERE r.person_id = p.id \
        AND l.list_kind = 'support' GROUP BY g.support_kind \
        HAVING COUNT(DISTINCT l.id) >= 2) THEN 1 ELSE 0 END, \
     CASE WHEN EXISTS (SELECT 1 FROM source_records r JOIN source_lists l ON l.id = r.list_id \
        WHERE r.person_id = p.id AND l.list_kind = 'survey') \
        OR EXISTS (SELECT 1 FROM households fh WHERE fh.head_person_id = p.id \
        AND fh.female_head = 1) THEN 1 ELSE 0 END, \
     (SELECT COUNT(*) FROM source_records rc WHERE rc.person_id = p.id), \
     COALESCE(p.last_name, ''), COALESCE(p.first_name, '') \
     FROM persons p LEFT JOIN household_members m ON m.person_id = p.id \
     LEFT JOIN households h ON h.id = m.household_id \
     WHERE p.merged_into IS NULL";

/// Per person, set-based (each source table read once, grouped, then joined): for everything.
const PERSON_FACTS_SET_BASED: &str = "SELECT p.id, COALESCE(p.province_code, ''), \
     COALESCE(p.county_code, ''), COALESCE(h.zone, p.zone, 'unknown'), \
     COALESCE(sup.orgs, 0), CASE WHEN kinds.pid IS NULL THEN 0 ELSE 1 END, \
     CASE WHEN fh.pid IS NULL THEN 0 ELSE 1 END, COALESCE(rc.records, 0), \
     COALESCE(p.last_name, ''), COALESCE(p.first_name, '') \
     FROM persons p LEFT JOIN household_members m ON m.person_id = p.id \
     LEFT JOIN households h ON h.id = m.household_id \
     LEFT JOIN (SELECT r.person_id AS pid, COUNT(DISTINCT l.organisation_id) AS orgs \
        FROM source_records r JOIN source_lists l ON l.id = r.list_id \
        WHERE l.list_kind = 'support' AND r.person_id IS NOT NULL GROUP BY r.person_id) sup \
        ON sup.pid = p.id \
     LEFT JOIN (SELECT DISTINCT k.pid FROM (SELECT r.person_id AS pid \
        FROM source_records r JOIN source_lists l ON l.id = r.list_id \
        JOIN programmes g ON g.id = l.programme_id \
        WHERE l.list_kind = 'support' AND r.person_id IS NOT NULL \
        GROUP BY r.person_id, g.support_kind HAVING COUNT(DISTINCT l.id) >= 2) k) kinds \
        ON kinds.pid = p.id \
     LEFT JOIN (SELECT r.person_id AS pid FROM source_records r \
        JOIN source_lists l ON l.id = r.list_id \
        WHERE l.list_kind = 'survey' AND r.person_id IS NOT NULL \
        UNION SELECT head_person_id FROM households \
        WHERE female_head = 1 AND head_person_id IS NOT NULL) fh ON fh.pid = p.id \
     LEFT JOIN (SELECT person_id AS pid, COUNT(*) AS records FROM source_records \
        WHERE person_id IS NOT NULL GROUP BY person_id) rc ON rc.pid = p.id \
     WHERE p.merged_into IS NULL";

const INSERT_PERSONS: &str = "INSERT INTO coverage_persons (person_id, province_code, \
     county_code, zone, orgs, same_kind, female_head, records, last_name, first_name) ";

const INSERT_SUMMARY: &str = "INSERT INTO coverage_summary (province_code, county_code, zone, \
     persons, covered_by_none, covered_by_one, covered_by_two, covered_by_three_or_more, \
     same_kind_twice, female_heads, female_heads_uncovered, records) \
     SELECT province_code, county_code, zone, COUNT(*), \
     SUM(CASE WHEN orgs = 0 THEN 1 ELSE 0 END), SUM(CASE WHEN orgs = 1 THEN 1 ELSE 0 END), \
     SUM(CASE WHEN orgs = 2 THEN 1 ELSE 0 END), SUM(CASE WHEN orgs >= 3 THEN 1 ELSE 0 END), \
     SUM(same_kind), SUM(female_head), \
     SUM(CASE WHEN female_head = 1 AND orgs = 0 THEN 1 ELSE 0 END), SUM(records) \
     FROM coverage_persons";

/// Whether any place is marked (a cheap read; no lock).
pub async fn is_dirty(store: &Store) -> Result<bool> {
    let row = sqlx::query("SELECT COUNT(*) FROM (SELECT 1 FROM scale_dirty LIMIT 1) d")
        .fetch_one(store.pool())
        .await?;
    Ok(row.get::<i64, _>(0) > 0)
}

async fn lock(tx: &mut Tx, engine: Engine) -> Result<()> {
    if engine == Engine::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PG_REFRESH_LOCK)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Recomputes the places marked since the last refresh, in one transaction. A no-op (one
/// cheap read) when nothing is marked.
pub async fn refresh(store: &Store) -> Result<Refreshed> {
    if !is_dirty(store).await? {
        return Ok(Refreshed::default());
    }
    let mut tx = store.begin().await?;
    lock(&mut tx, store.engine()).await?;
    // Only the marks committed so far: a writer still in flight keeps its own for next time.
    let rows = sqlx::query("DELETE FROM scale_dirty RETURNING province_code, county_code")
        .fetch_all(&mut *tx)
        .await?;
    let places: BTreeSet<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let everything =
        places.len() > PLACES_ONE_BY_ONE || places.iter().any(|(p, c)| p == "*" || c == "*");
    let done = if everything {
        rebuild_in(&mut tx).await?;
        Refreshed {
            places: 0,
            everything: true,
        }
    } else {
        for (province, county) in &places {
            recompute_place(&mut tx, province, county).await?;
        }
        Refreshed {
            places: places.len(),
            everything: false,
        }
    };
    tx.commit().await?;
    Ok(done)
}

/// Recomputes every summary from scratch (`hamdeli admin rebuild-summaries`).
pub async fn rebuild(store: &Store) -> Result<()> {
    let mut tx = store.begin().await?;
    lock(&mut tx, store.engine()).await?;
    sqlx::query("DELETE FROM scale_dirty")
        .execute(&mut *tx)
        .await?;
    rebuild_in(&mut tx).await?;
    rebuild_needs_in(&mut tx).await?;
    crate::distribution::rebuild_allocation_summary(&mut tx).await?;
    crate::campaigns::rebuild_destination_summary(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The national need tables' group of a need `n` in the grouping `k.kind` (migration 0027).
/// `province_open` (migration 0029) is the province, over the needs that are not closed.
const NEED_GROUP: &str = "CASE WHEN k.kind IN ('province', 'province_open') \
     THEN COALESCE(n.province_code, '') WHEN k.kind = 'county' THEN COALESCE(n.county_code, '') \
     WHEN k.kind = 'zone' THEN COALESCE(n.zone, 'unknown') ELSE n.need_type END";
/// The needs of a grouping `k` (a closed need is not in `province_open`).
const NEED_IN_KIND: &str = "(k.kind <> 'province_open' OR n.status <> 'closed')";

/// The need summary recomputed from every need (what the triggers of migration 0027 keep).
pub fn need_summary_recomputed() -> String {
    format!(
        "SELECT k.kind, {NEED_GROUP}, n.need_type, COUNT(*), COUNT(DISTINCT n.person_id), \
         CAST(COALESCE(SUM(n.amount), 0) AS BIGINT), CAST(COALESCE(SUM(n.allocated), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN n.status IN ('open', 'verified', 'partly_met') \
         THEN n.amount - n.allocated ELSE 0 END), 0) AS BIGINT) \
         FROM needs n CROSS JOIN need_summary_kinds k WHERE {NEED_IN_KIND} GROUP BY 1, 2, 3"
    )
}

/// Recomputes the need summary and its persons from the needs.
async fn rebuild_needs_in(tx: &mut Tx) -> Result<()> {
    sqlx::query("DELETE FROM need_summary_persons")
        .execute(&mut **tx)
        .await?;
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO need_summary_persons (grp_kind, grp, need_type, person_id, needs) \
         SELECT k.kind, {NEED_GROUP}, n.need_type, n.person_id, COUNT(*) \
         FROM needs n CROSS JOIN need_summary_kinds k WHERE {NEED_IN_KIND} GROUP BY 1, 2, 3, 4"
    )))
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM need_summary")
        .execute(&mut **tx)
        .await?;
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO need_summary (grp_kind, grp, need_type, needs, persons, amount, allocated, \
         outstanding) {}",
        need_summary_recomputed()
    )))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn rebuild_in(tx: &mut Tx) -> Result<()> {
    sqlx::query("DELETE FROM coverage_persons")
        .execute(&mut **tx)
        .await?;
    sqlx::query(AssertSqlSafe(format!(
        "{INSERT_PERSONS}{PERSON_FACTS_SET_BASED}"
    )))
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM coverage_summary")
        .execute(&mut **tx)
        .await?;
    sqlx::query(AssertSqlSafe(format!(
        "{INSERT_SUMMARY} GROUP BY province_code, county_code, zone"
    )))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The persons of a place (`''` stands for an unknown province or county) and the values to
/// bind, in order.
fn place_condition(province: &str, county: &str) -> (String, Vec<String>) {
    let mut binds = Vec::new();
    let mut part = |column: &str, value: &str| {
        if value.is_empty() {
            format!("p.{column} IS NULL")
        } else {
            binds.push(value.to_owned());
            format!("p.{column} = ${}", binds.len())
        }
    };
    let province = part("province_code", province);
    let county = part("county_code", county);
    (format!("{province} AND {county}"), binds)
}

async fn execute_with(tx: &mut Tx, sql: String, binds: &[String]) -> Result<()> {
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for b in binds {
        q = q.bind(b.clone());
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

async fn recompute_place(tx: &mut Tx, province: &str, county: &str) -> Result<()> {
    let (cond, binds) = place_condition(province, county);
    let both = [province.to_owned(), county.to_owned()];
    execute_with(
        tx,
        "DELETE FROM coverage_persons WHERE province_code = $1 AND county_code = $2".into(),
        &both,
    )
    .await?;
    // A person who moved here from a place not marked (the triggers mark both, so this is a
    // safety net) would collide with their old row: take it away first.
    execute_with(
        tx,
        format!(
            "DELETE FROM coverage_persons WHERE person_id IN \
             (SELECT p.id FROM persons p WHERE {cond})"
        ),
        &binds,
    )
    .await?;
    execute_with(
        tx,
        format!("{INSERT_PERSONS}{PERSON_FACTS_BY_LOOKUP} AND {cond}"),
        &binds,
    )
    .await?;
    execute_with(
        tx,
        "DELETE FROM coverage_summary WHERE province_code = $1 AND county_code = $2".into(),
        &both,
    )
    .await?;
    execute_with(
        tx,
        format!(
            "{INSERT_SUMMARY} WHERE province_code = $1 AND county_code = $2 \
             GROUP BY province_code, county_code, zone"
        ),
        &both,
    )
    .await?;
    Ok(())
}

/// The set-based statement that fills `coverage_persons` from scratch (the plan test reads it).
pub fn person_facts_set_based() -> &'static str {
    PERSON_FACTS_SET_BASED
}

/// The per-place statement (the plan test reads it).
pub fn person_facts_of_place() -> String {
    format!(
        "{PERSON_FACTS_BY_LOOKUP} AND {}",
        place_condition("23", "2301").0
    )
}
