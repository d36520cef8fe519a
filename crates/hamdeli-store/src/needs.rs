//! Needs (capability B): need types, requests of a person or household with their status, the
//! published priority weights, the facts the score reads, and need tables by place and type.

use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

use hamdeli_domain::PlaceFilter;
use hamdeli_domain::needs::{
    DEFAULT_NEED_TYPES, HouseholdFacts, Indicator, NeedStatus, Urgency, Weights,
};

use crate::{
    AnyConnection, Engine, Result, Store, StoreError, id_list, now_millis, values_placeholders,
};

/// Seeds the need types and the weights the national office starts with (never overwrites).
pub async fn ensure_defaults(store: &Store) -> Result<()> {
    let mut tx = store.begin().await?;
    for (sort, (code, fa, en, unit)) in DEFAULT_NEED_TYPES.iter().enumerate() {
        sqlx::query(
            "INSERT INTO need_types (code, name_fa, name_en, unit, active, sort) \
             VALUES ($1, $2, $3, $4, 1, $5) ON CONFLICT (code) DO NOTHING",
        )
        .bind(*code)
        .bind(*fa)
        .bind(*en)
        .bind(*unit)
        .bind(sort as i64)
        .execute(&mut *tx)
        .await?;
    }
    let now = now_millis();
    for i in Indicator::ALL {
        sqlx::query(
            "INSERT INTO priority_weights (indicator, weight, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (indicator) DO NOTHING",
        )
        .bind(i.code())
        .bind(i.default_weight())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NeedType {
    pub code: String,
    pub name_fa: String,
    pub name_en: String,
    /// `rial` or `unit`.
    pub unit: String,
    pub active: bool,
    pub sort: i64,
}

impl NeedType {
    pub fn is_money(&self) -> bool {
        self.unit == "rial"
    }
}

pub async fn need_types(store: &Store) -> Result<Vec<NeedType>> {
    let rows = sqlx::query(
        "SELECT code, name_fa, name_en, unit, active, sort FROM need_types ORDER BY sort, code",
    )
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| NeedType {
            code: r.get(0),
            name_fa: r.get(1),
            name_en: r.get(2),
            unit: r.get(3),
            active: r.get::<i64, _>(4) != 0,
            sort: r.get(5),
        })
        .collect())
}

/// A need type code: lower-case ASCII letters, digits and `_`, 2–40 long.
pub fn valid_type_code(code: &str) -> bool {
    (2..=40).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Adds a need type or changes one (the code stays; a type in use is retired, not removed).
pub async fn save_need_type(conn: &mut AnyConnection, t: &NeedType) -> Result<()> {
    if !valid_type_code(&t.code) {
        return Err(StoreError::Invalid("need-type-code-invalid"));
    }
    if t.name_fa.trim().is_empty() {
        return Err(StoreError::Invalid("need-type-name-required"));
    }
    if t.unit != "rial" && t.unit != "unit" {
        return Err(StoreError::Invalid("need-type-unit-invalid"));
    }
    sqlx::query(
        "INSERT INTO need_types (code, name_fa, name_en, unit, active, sort) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO UPDATE SET \
         name_fa = excluded.name_fa, name_en = excluded.name_en, unit = excluded.unit, \
         active = excluded.active, sort = excluded.sort",
    )
    .bind(t.code.clone())
    .bind(t.name_fa.trim().to_owned())
    .bind(t.name_en.trim().to_owned())
    .bind(t.unit.clone())
    .bind(crate::flag(t.active))
    .bind(t.sort)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn weights(store: &Store) -> Result<Weights> {
    let rows = sqlx::query("SELECT indicator, weight FROM priority_weights")
        .fetch_all(store.pool())
        .await?;
    let stored: std::collections::HashMap<String, i64> = rows
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
        .collect();
    Ok(Weights(
        Indicator::ALL
            .iter()
            .map(|i| (*i, stored.get(i.code()).copied().unwrap_or(0)))
            .collect(),
    ))
}

/// Weights are whole points from 0 to 1000.
pub async fn set_weight(
    conn: &mut AnyConnection,
    indicator: Indicator,
    weight: i64,
    by: Option<i64>,
) -> Result<()> {
    if !(0..=1000).contains(&weight) {
        return Err(StoreError::Invalid("priority-weight-range"));
    }
    sqlx::query(
        "UPDATE priority_weights SET weight = $1, updated_by = $2, updated_at = $3 WHERE indicator = $4",
    )
    .bind(weight)
    .bind(by)
    .bind(now_millis())
    .bind(indicator.code())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The facts the priority score reads, for the household of `person` (or the person alone).
pub async fn facts_of_person(store: &Store, person: i64) -> Result<HouseholdFacts> {
    let mut conn = store.pool().acquire().await?;
    let facts = facts_by_person(&mut conn, &[person]).await?;
    Ok(facts.into_iter().next().map(|(_, f)| f).unwrap_or_default())
}

/// A household (or a person without one) is uncovered when no member is in any organisation's
/// support list. Two plain correlated NOT EXISTS: both engines use the person and household
/// indexes (an IN-subquery inside one EXISTS made PostgreSQL scan).
// "Covered by nobody" as two scalar lookups with LIMIT 1, not NOT EXISTS: PostgreSQL turned the
// NOT EXISTS into hashed scans of every source record (357 ms for 3,000 candidates at 100k people,
// 33 ms this way with JIT off).
const FACTS_SQL: &str = "SELECT p.id, COALESCE(h.female_head, 0), COALESCE(h.dependants, 0), \
     COALESCE(h.disability, 0), COALESCE(h.elderly, 0), COALESCE(h.chronic_illness, 0), \
     COALESCE(h.bereaved_by_covid, 0), h.income_decile, COALESCE(h.zone, p.zone), \
     CASE WHEN (SELECT 1 FROM source_records r JOIN source_lists l ON l.id = r.list_id \
        WHERE r.person_id = p.id AND l.list_kind = 'support' LIMIT 1) IS NULL \
      AND (SELECT 1 FROM household_members m2 \
        JOIN source_records r2 ON r2.person_id = m2.person_id \
        JOIN source_lists l2 ON l2.id = r2.list_id \
        WHERE m2.household_id = h.id AND l2.list_kind = 'support' LIMIT 1) IS NULL \
     THEN 1 ELSE 0 END \
     FROM persons p LEFT JOIN household_members m ON m.person_id = p.id \
     LEFT JOIN households h ON h.id = m.household_id";

fn facts_from_row(r: &sqlx::any::AnyRow) -> (i64, HouseholdFacts) {
    let flag = |i: usize| r.get::<i64, _>(i) != 0;
    (
        r.get(0),
        HouseholdFacts {
            female_head: flag(1),
            dependants: r.get(2),
            disability: flag(3),
            elderly: flag(4),
            chronic_illness: flag(5),
            bereaved_by_covid: flag(6),
            income_decile: r.get(7),
            rural: r.get::<Option<String>, _>(8).as_deref() == Some("rural"),
            uncovered: flag(9),
        },
    )
}

/// Facts for many persons at once (in chunks), keyed by person id.
pub async fn facts_by_person(
    conn: &mut AnyConnection,
    persons: &[i64],
) -> Result<Vec<(i64, HouseholdFacts)>> {
    let mut out = Vec::with_capacity(persons.len());
    for chunk in persons.chunks(5000) {
        let list = chunk
            .iter()
            .map(|id| id.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let sql = format!("{FACTS_SQL} WHERE p.id IN ({list})");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&mut *conn)
            .await?;
        out.extend(rows.iter().map(facts_from_row));
    }
    Ok(out)
}

/// Households with a head in the registry, female-headed first:
/// `(household, head person, female-headed)`.
pub async fn household_heads(store: &Store, limit: i64) -> Result<Vec<(i64, i64, bool)>> {
    let rows = sqlx::query(
        "SELECT h.id, h.head_person_id, COALESCE(h.female_head, 0) FROM households h \
         WHERE h.head_person_id IS NOT NULL ORDER BY h.female_head DESC, h.id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get::<i64, _>(2) != 0))
        .collect())
}

#[derive(Debug, Clone)]
pub struct NewNeed {
    pub person_id: i64,
    pub need_type: String,
    pub amount: i64,
    pub urgency: Urgency,
    pub note: Option<String>,
}

/// Records a need of a person (and of the household the person belongs to), filed under the
/// household's place. Returns its id.
pub async fn create_need(conn: &mut AnyConnection, n: &NewNeed, by: Option<i64>) -> Result<i64> {
    if n.amount <= 0 {
        return Err(StoreError::Invalid("need-amount-positive"));
    }
    let active: Option<i64> = sqlx::query("SELECT active FROM need_types WHERE code = $1")
        .bind(n.need_type.clone())
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.get(0));
    if active != Some(1) {
        return Err(StoreError::Invalid("need-type-unknown"));
    }
    let place = need_places(conn, &[n.person_id])
        .await?
        .remove(&n.person_id)
        .ok_or(StoreError::NotFound)?;
    let now = now_millis();
    let id: i64 = sqlx::query(
        "INSERT INTO needs (person_id, household_id, need_type, amount, allocated, urgency, status, \
         note, province_code, county_code, zone, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 0, $5, 'open', $6, $7, $8, $9, $10, $11, $11) RETURNING id",
    )
    .bind(n.person_id)
    .bind(place.household)
    .bind(n.need_type.clone())
    .bind(n.amount)
    .bind(n.urgency.code())
    .bind(n.note.clone().filter(|s| !s.trim().is_empty()))
    .bind(place.province)
    .bind(place.county)
    .bind(place.zone)
    .bind(by)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?
    .get(0);
    Ok(id)
}

/// Needs written per statement by [`create_needs`] (14 values each, well under both engines'
/// parameter limits).
const NEEDS_PER_STATEMENT: usize = 500;

/// Records many needs, each as [`create_need`] records one (filed under the household's place),
/// in two statements per 500 needs instead of four per need: the bulk path of a national
/// registry's needs, whose summary triggers then fold a whole batch at once. All or nothing: a
/// non-positive amount, an unknown type or a person not in the registry fails the whole list
/// (the caller's transaction is rolled back). Returns the new ids, ascending.
pub async fn create_needs(
    conn: &mut AnyConnection,
    list: &[NewNeed],
    by: Option<i64>,
) -> Result<Vec<i64>> {
    if list.iter().any(|n| n.amount <= 0) {
        return Err(StoreError::Invalid("need-amount-positive"));
    }
    let active: std::collections::HashSet<String> =
        sqlx::query_scalar("SELECT code FROM need_types WHERE active = 1")
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
    if list.iter().any(|n| !active.contains(&n.need_type)) {
        return Err(StoreError::Invalid("need-type-unknown"));
    }
    let engine = Engine::of_connection(conn);
    let now = now_millis();
    let mut ids = Vec::with_capacity(list.len());
    for chunk in list.chunks(NEEDS_PER_STATEMENT) {
        let persons: Vec<i64> = chunk.iter().map(|n| n.person_id).collect();
        let places = need_places(conn, &persons).await?;
        let sql = format!(
            "INSERT INTO needs (person_id, household_id, need_type, amount, allocated, urgency, \
             status, note, province_code, county_code, zone, created_by, created_at, updated_at) \
             VALUES {} RETURNING id",
            values_placeholders(engine, chunk.len(), 14)
        );
        let mut insert = sqlx::query(AssertSqlSafe(sql));
        for n in chunk {
            let place = places.get(&n.person_id).ok_or(StoreError::NotFound)?;
            insert = insert
                .bind(n.person_id)
                .bind(place.household)
                .bind(n.need_type.clone())
                .bind(n.amount)
                .bind(0_i64)
                .bind(n.urgency.code())
                .bind("open")
                .bind(n.note.clone().filter(|s| !s.trim().is_empty()))
                .bind(place.province.clone())
                .bind(place.county.clone())
                .bind(place.zone.clone())
                .bind(by)
                .bind(now)
                .bind(now);
        }
        for row in insert.fetch_all(&mut *conn).await? {
            ids.push(row.get::<i64, _>(0));
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

/// Where a need of a person is filed: the household it belongs to, else the person's own place.
struct NeedPlace {
    household: Option<i64>,
    province: Option<String>,
    county: Option<String>,
    zone: Option<String>,
}

/// The places of registry persons (not merged away), read in one statement. A person in two
/// households is filed under the first (lowest id).
async fn need_places(
    conn: &mut AnyConnection,
    persons: &[i64],
) -> Result<std::collections::HashMap<i64, NeedPlace>> {
    let sql = format!(
        "SELECT p.id, h.id, COALESCE(h.province_code, p.province_code), \
         COALESCE(h.county_code, p.county_code), COALESCE(h.zone, p.zone) \
         FROM persons p LEFT JOIN household_members m ON m.person_id = p.id \
         LEFT JOIN households h ON h.id = m.household_id \
         WHERE p.merged_into IS NULL AND p.id IN ({}) ORDER BY p.id, h.id",
        id_list(persons)
    );
    let mut places = std::collections::HashMap::with_capacity(persons.len());
    for row in sqlx::query(AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?
    {
        places.entry(row.get::<i64, _>(0)).or_insert(NeedPlace {
            household: row.get(1),
            province: row.get(2),
            county: row.get(3),
            zone: row.get(4),
        });
    }
    Ok(places)
}

/// Verifies open needs at once, as [`set_status`] verifies one. Needs that are no longer open
/// are left as they are. Returns how many were verified.
pub async fn verify_needs(conn: &mut AnyConnection, ids: &[i64], by: Option<i64>) -> Result<u64> {
    let now = now_millis();
    let mut verified = 0;
    for chunk in ids.chunks(NEEDS_PER_STATEMENT) {
        let sql = format!(
            "UPDATE needs SET status = 'verified', verified_by = $1, verified_at = $2, \
             updated_at = $2 WHERE status = 'open' AND id IN ({})",
            id_list(chunk)
        );
        verified += sqlx::query(AssertSqlSafe(sql))
            .bind(by)
            .bind(now)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(verified)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Need {
    pub id: i64,
    pub person_id: i64,
    pub household_id: Option<i64>,
    pub need_type: String,
    pub amount: i64,
    pub allocated: i64,
    pub urgency: String,
    pub status: String,
    pub note: Option<String>,
    pub province_code: Option<String>,
    pub county_code: Option<String>,
    pub zone: Option<String>,
    pub created_at: i64,
    pub verified_by_name: Option<String>,
    pub verified_at: Option<i64>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

const NEED_COLUMNS: &str = "n.id, n.person_id, n.household_id, n.need_type, n.amount, n.allocated, \
     n.urgency, n.status, n.note, n.province_code, n.county_code, n.zone, n.created_at, \
     u.display_name, n.verified_at, p.first_name, p.last_name";
const NEED_FROM: &str = "FROM needs n JOIN persons p ON p.id = n.person_id \
     LEFT JOIN users u ON u.id = n.verified_by";

fn need_from_row(r: &sqlx::any::AnyRow) -> Need {
    Need {
        id: r.get(0),
        person_id: r.get(1),
        household_id: r.get(2),
        need_type: r.get(3),
        amount: r.get(4),
        allocated: r.get(5),
        urgency: r.get(6),
        status: r.get(7),
        note: r.get(8),
        province_code: r.get(9),
        county_code: r.get(10),
        zone: r.get(11),
        created_at: r.get(12),
        verified_by_name: r.get(13),
        verified_at: r.get(14),
        first_name: r.get(15),
        last_name: r.get(16),
    }
}

pub async fn need(store: &Store, id: i64) -> Result<Option<Need>> {
    let sql = format!("SELECT {NEED_COLUMNS} {NEED_FROM} WHERE n.id = $1");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.as_ref().map(need_from_row))
}

/// The needs of a household (or of the person, when not in one), newest first.
pub async fn needs_of(store: &Store, household: Option<i64>, person: i64) -> Result<Vec<Need>> {
    let sql = format!(
        "SELECT {NEED_COLUMNS} {NEED_FROM} WHERE n.person_id = $1 OR n.household_id = $2 \
         ORDER BY n.id DESC"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(person)
        .bind(household.unwrap_or(-1))
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(need_from_row).collect())
}

/// Changes a need's status by hand: verify (who and when is kept), close, or reopen.
pub async fn set_status(
    conn: &mut AnyConnection,
    id: i64,
    status: NeedStatus,
    by: Option<i64>,
) -> Result<()> {
    let now = now_millis();
    let query = match status {
        NeedStatus::Verified => sqlx::query(
            "UPDATE needs SET status = 'verified', verified_by = $1, verified_at = $2, \
             updated_at = $2 WHERE id = $3 AND status = 'open'",
        )
        .bind(by),
        NeedStatus::Closed => sqlx::query(
            "UPDATE needs SET status = 'closed', updated_at = $1 WHERE id = $2 AND status <> 'closed'",
        ),
        NeedStatus::Open => sqlx::query(
            "UPDATE needs SET status = 'open', verified_by = NULL, verified_at = NULL, \
             updated_at = $1 WHERE id = $2 AND status = 'closed' AND allocated = 0",
        ),
        NeedStatus::PartlyMet | NeedStatus::Met => {
            return Err(StoreError::Invalid("need-status-by-allocation"));
        }
    };
    let changed = query
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(StoreError::Conflict("need-status-not-changed"));
    }
    Ok(())
}

/// Filters of the need tables; `None` for all.
#[derive(Debug, Clone, Default)]
pub struct NeedQuery {
    pub province: Option<String>,
    pub county: Option<String>,
    pub zone: Option<String>,
    pub need_type: Option<String>,
    pub status: Option<String>,
}

/// The WHERE clause of a scoped, filtered need query over `needs n`, with its text binds.
fn need_where(filter: &PlaceFilter, q: &NeedQuery) -> (String, Vec<String>, Option<i64>) {
    let mut clauses = vec!["1 = 1".to_owned()];
    let mut binds: Vec<String> = vec![];
    let mut org = None;
    let push = |clauses: &mut Vec<String>, col: &str, v: &str, binds: &mut Vec<String>| {
        binds.push(v.to_owned());
        clauses.push(format!("{col} = ${}", binds.len()));
    };
    match filter {
        PlaceFilter::All => {}
        PlaceFilter::Province(p) => push(&mut clauses, "n.province_code", p, &mut binds),
        PlaceFilter::County(c) => push(&mut clauses, "n.county_code", c, &mut binds),
        PlaceFilter::Organisation(o) => org = Some(*o),
        PlaceFilter::Nothing => clauses.push("1 = 0".into()),
    }
    for (col, v) in [
        ("n.province_code", &q.province),
        ("n.county_code", &q.county),
        ("n.zone", &q.zone),
        ("n.need_type", &q.need_type),
        ("n.status", &q.status),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            push(&mut clauses, col, v, &mut binds);
        }
    }
    if org.is_some() {
        clauses.push(format!(
            "EXISTS (SELECT 1 FROM source_records so JOIN source_lists lo ON lo.id = so.list_id \
             WHERE so.person_id = n.person_id AND lo.organisation_id = ${})",
            binds.len() + 1
        ));
    }
    (clauses.join(" AND "), binds, org)
}

/// Needs in scope matching the filters, most urgent and oldest first.
pub async fn list(
    store: &Store,
    filter: &PlaceFilter,
    q: &NeedQuery,
    limit: i64,
) -> Result<Vec<Need>> {
    list_after(store, filter, q, None, limit).await
}

/// The rank of an urgency in the need list's order (most urgent first).
pub fn urgency_rank(urgency: &str) -> i64 {
    match urgency {
        "critical" => 0,
        "high" => 1,
        "normal" => 2,
        _ => 3,
    }
}

const URGENCY_RANK: &str =
    "CASE n.urgency WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END";

/// One page of [`list`]: the needs after `after` = (urgency rank, need id) in the list's order
/// (keyset: no OFFSET; the next page starts where this one ended).
pub async fn list_after(
    store: &Store,
    filter: &PlaceFilter,
    q: &NeedQuery,
    after: Option<(i64, i64)>,
    limit: i64,
) -> Result<Vec<Need>> {
    let (mut clause, binds, org) = need_where(filter, q);
    let mut next = binds.len() + usize::from(org.is_some()) + 1;
    if after.is_some() {
        clause.push_str(&format!(
            " AND ({URGENCY_RANK} > ${next} OR ({URGENCY_RANK} = ${next} AND n.id > ${}))",
            next + 1
        ));
        next += 2;
    }
    let _ = next;
    // The page of needs first (on the urgency order indexes of migration 0026), then the names
    // of that page's persons: joining every need to its person before the sort read 94,000
    // persons a page at 1M people.
    let sql = format!(
        "SELECT {NEED_COLUMNS} FROM (SELECT * FROM needs n WHERE {clause} \
         ORDER BY {URGENCY_RANK}, n.id LIMIT {}) n JOIN persons p ON p.id = n.person_id \
         LEFT JOIN users u ON u.id = n.verified_by ORDER BY {URGENCY_RANK}, n.id",
        limit.clamp(1, 100_000)
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for b in binds {
        query = query.bind(b);
    }
    if let Some(o) = org {
        query = query.bind(o);
    }
    if let Some((rank, id)) = after {
        query = query.bind(rank).bind(id);
    }
    let rows = query.fetch_all(store.pool()).await?;
    Ok(rows.iter().map(need_from_row).collect())
}

/// How a need table groups its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeedGroup {
    Province,
    County,
    Zone,
    Type,
}

impl NeedGroup {
    pub fn parse(s: &str) -> NeedGroup {
        match s {
            "county" => NeedGroup::County,
            "zone" => NeedGroup::Zone,
            "type" => NeedGroup::Type,
            _ => NeedGroup::Province,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            NeedGroup::Province => "province",
            NeedGroup::County => "county",
            NeedGroup::Zone => "zone",
            NeedGroup::Type => "type",
        }
    }
    fn column(self) -> &'static str {
        match self {
            NeedGroup::Province => "COALESCE(n.province_code, '')",
            NeedGroup::County => "COALESCE(n.county_code, '')",
            NeedGroup::Zone => "COALESCE(n.zone, 'unknown')",
            NeedGroup::Type => "n.need_type",
        }
    }
}

/// One row of a need table: a group (place, zone or type) and a need type.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NeedTableRow {
    pub group: String,
    pub need_type: String,
    pub needs: i64,
    pub persons: i64,
    pub amount: i64,
    pub allocated: i64,
    /// Still needed: amount − allocated over open, verified and partly met needs.
    pub outstanding: i64,
}

pub async fn table(
    store: &Store,
    filter: &PlaceFilter,
    q: &NeedQuery,
    group: NeedGroup,
) -> Result<Vec<NeedTableRow>> {
    let unfiltered = [&q.province, &q.county, &q.zone, &q.need_type, &q.status]
        .iter()
        .all(|v| v.as_deref().is_none_or(str::is_empty));
    let (clause, binds, org) = need_where(filter, q);
    // Sums are NUMERIC on PostgreSQL, which the Any driver cannot read: always BIGINT.
    let big = |e: &str| format!("CAST({e} AS BIGINT)");
    // Unfiltered, the summary the triggers of migration 0027 keep (a few thousand rows, not
    // every need) answers the whole country, and a province's or a county's table by its own
    // place and by type (its cells are place × type). Other groupings within a place read the
    // place's needs.
    let summary = match (filter, group) {
        _ if !unfiltered => None,
        (PlaceFilter::All, _) => Some((group.code(), None, "grp")),
        (PlaceFilter::Province(p), NeedGroup::Province) => Some(("province", Some(p), "grp")),
        (PlaceFilter::Province(p), NeedGroup::Type) => Some(("province", Some(p), "need_type")),
        (PlaceFilter::County(c), NeedGroup::County) => Some(("county", Some(c), "grp")),
        (PlaceFilter::County(c), NeedGroup::Type) => Some(("county", Some(c), "need_type")),
        _ => None,
    };
    let (sql, binds, org) = if let Some((kind, place, label)) = summary {
        let at_place = if place.is_some() { " AND grp = $1" } else { "" };
        let sql = format!(
            "SELECT {label}, need_type, needs, persons, amount, allocated, outstanding \
             FROM need_summary WHERE grp_kind = '{kind}'{at_place} ORDER BY 1, 2"
        );
        (sql, place.into_iter().cloned().collect(), None)
    } else {
        let sql = format!(
            "SELECT {g} AS grp, n.need_type, COUNT(*), COUNT(DISTINCT n.person_id), {amount}, {alloc}, {out} \
         FROM needs n WHERE {clause} GROUP BY {g}, n.need_type ORDER BY 1, 2",
            g = group.column(),
            amount = big("COALESCE(SUM(n.amount), 0)"),
            alloc = big("COALESCE(SUM(n.allocated), 0)"),
            out = big(
                "COALESCE(SUM(CASE WHEN n.status IN ('open', 'verified', 'partly_met') \
             THEN n.amount - n.allocated ELSE 0 END), 0)"
            ),
        );
        (sql, binds, org)
    };
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for b in binds {
        query = query.bind(b);
    }
    if let Some(o) = org {
        query = query.bind(o);
    }
    let rows = query.fetch_all(store.pool()).await?;
    Ok(rows
        .iter()
        .map(|r| NeedTableRow {
            group: r.get(0),
            need_type: r.get(1),
            needs: r.get(2),
            persons: r.get(3),
            amount: r.get(4),
            allocated: r.get(5),
            outstanding: r.get(6),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::valid_type_code;

    #[test]
    fn type_codes_are_plain_ascii() {
        assert!(valid_type_code("food"));
        assert!(valid_type_code("rent_housing2"));
        assert!(!valid_type_code("f"));
        assert!(!valid_type_code("Food"));
        assert!(!valid_type_code("غذا"));
        assert!(!valid_type_code("a-b"));
    }
}
