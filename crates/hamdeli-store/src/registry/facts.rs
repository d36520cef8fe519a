//! Household and support facts from the organisations' own lists (issue 12). A list of
//! household members (one row per member, a household id column — or the head's code on
//! every row) builds households: the head, the members with their relation, the female-head
//! flag and reason, dependants, disability, income, zone and address; a row that states
//! household facts without a household id is a household of its own. A support list's rows
//! become entries of the support ledger with their programme, kind, amount and date.
//! Re-importing a list updates its households (found by list and household id) and its
//! entries (found by source record) instead of adding more.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Row};

use crate::{AnyConnection, Engine, Result, Store, id_list, now_millis};

/// What a row states about its household and its support, as stored in
/// `source_records.facts` (JSON; absent fields are unknown).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecordFacts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub household_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_code: Option<String>,
    /// `head`, `spouse`, `child`, `parent`, `other`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub household_size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dependants: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub female_head_reason: Option<String>,
    /// Rials a month.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_income: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub income_decile: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disability: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chronic_illness: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bereaved_by_covid: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub programme: Option<String>,
    /// A need type code, or `cash`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support_kind: Option<String>,
    /// Rials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// ISO date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub support_date: Option<String>,
}

impl RecordFacts {
    /// The JSON stored with the record; `None` when the row states nothing.
    pub fn to_json(&self) -> Option<String> {
        if *self == RecordFacts::default() {
            return None;
        }
        serde_json::to_string(self).ok()
    }

    fn from_json(s: Option<&str>) -> RecordFacts {
        s.and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }

    fn has_household_facts(&self) -> bool {
        self.household_size.is_some()
            || self.dependants.is_some()
            || self.female_head_reason.is_some()
            || self.monthly_income.is_some()
            || self.income_decile.is_some()
            || self.disability.is_some()
            || self.chronic_illness.is_some()
            || self.bereaved_by_covid.is_some()
    }
}

/// What applying a batch's facts did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FactsApplied {
    /// Households written (new or updated).
    pub households: i64,
    pub households_new: i64,
    pub members: i64,
    /// Persons whose urban/rural zone the list changed.
    pub zones: i64,
    /// Support ledger entries written for the batch's support rows.
    pub support_entries: i64,
}

/// One record as the builder reads it.
#[derive(Debug, Clone)]
struct Rec {
    id: i64,
    person: Option<i64>,
    source_id: String,
    row_number: i64,
    national_code: Option<String>,
    gender: Option<String>,
    birth_date: Option<String>,
    birth_year_jalali: Option<i64>,
    province_code: Option<String>,
    county_code: Option<String>,
    address: Option<String>,
    zone: Option<String>,
    facts: RecordFacts,
    imported_at: i64,
}

/// A household as the list describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BuiltHousehold {
    pub reference: String,
    pub head: Option<i64>,
    /// (person, relation), each person once, the head first.
    pub members: Vec<(i64, String)>,
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
    pub monthly_income: Option<i64>,
}

/// The household a record belongs to in its list: its household id, else the head's code
/// beside a relation, else the row alone when it states household facts.
fn household_key(r: &Rec) -> Option<String> {
    if let Some(id) = r.facts.household_id.as_deref().filter(|s| !s.is_empty()) {
        return Some(id.to_owned());
    }
    if let Some(code) = &r.facts.head_code {
        return Some(code.clone());
    }
    if r.facts.has_household_facts() {
        return Some(r.source_id.clone());
    }
    None
}

/// The Gregorian year and an ISO date `years` before today (for "60 or older").
fn iso_years_ago(now_millis: i64, years: i32) -> (i32, String) {
    let days = now_millis.div_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    (y, format!("{:04}-{m:02}-{d:02}", y - years))
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

/// Days since 1970-01-01 of an ISO date.
fn days_from_iso(iso: &str) -> Option<i64> {
    let mut parts = iso.splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.get(..2)?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Noon in Iran (UTC+03:30) of an ISO date, as Unix milliseconds: the instant a piece of
/// support dated that day is filed at.
pub fn noon_in_iran(iso: &str) -> Option<i64> {
    days_from_iso(iso).map(|d| d * 86_400_000 + 8 * 3_600_000 + 30 * 60_000)
}

/// Builds the households of the records given (all of one list), keyed by their reference.
fn build(records: &[&Rec], now: i64) -> BTreeMap<String, BuiltHousehold> {
    let (year, elderly_cutoff) = iso_years_ago(now, 60);
    // Jalali year of today, near enough for "born 60 or more years ago".
    let jalali_cutoff = i64::from(year) - 621 - 60;
    let mut groups: BTreeMap<String, Vec<&Rec>> = BTreeMap::new();
    for r in records {
        if let Some(k) = household_key(r) {
            groups.entry(k).or_default().push(*r);
        }
    }
    let mut out = BTreeMap::new();
    for (reference, mut rows) in groups {
        rows.sort_by_key(|r| (r.row_number, r.id));
        let relation = |r: &Rec| r.facts.relation.clone();
        // The head: the row saying so, else the row whose code is the household's (its id
        // or the head's code column), else the only row, else the first row of a list that
        // says no relation at all.
        let head_row = rows
            .iter()
            .find(|r| relation(r).as_deref() == Some("head"))
            .or_else(|| {
                rows.iter().find(|r| {
                    r.national_code.is_some()
                        && (r.national_code == r.facts.head_code
                            || r.national_code == r.facts.household_id)
                })
            })
            .or_else(|| (rows.len() == 1).then(|| &rows[0]))
            .or_else(|| rows.iter().all(|r| relation(r).is_none()).then(|| &rows[0]))
            .copied();
        let head = head_row.and_then(|r| r.person);
        let mut seen = HashSet::new();
        let mut members: Vec<(i64, String)> = Vec::new();
        if let Some(h) = head {
            seen.insert(h);
            members.push((h, "head".to_owned()));
        }
        for r in &rows {
            let Some(p) = r.person else { continue };
            if seen.insert(p) {
                let rel = match relation(r) {
                    Some(rel) if rel != "head" => rel,
                    _ => "other".to_owned(),
                };
                members.push((p, rel));
            }
        }
        // A fact: the head's row first, then the other rows in order.
        let ordered: Vec<&Rec> = head_row
            .into_iter()
            .chain(
                rows.iter()
                    .copied()
                    .filter(|r| Some(r.id) != head_row.map(|h| h.id)),
            )
            .collect();
        fn first<'a, T: Clone + 'a>(
            rows: &[&'a Rec],
            f: impl Fn(&'a Rec) -> Option<T>,
        ) -> Option<T> {
            rows.iter().find_map(|r| f(r))
        }
        let any = |f: &dyn Fn(&RecordFacts) -> Option<bool>| {
            rows.iter().any(|r| f(&r.facts) == Some(true))
        };
        let reason = first(&ordered, |r| r.facts.female_head_reason.clone());
        let head_female = head_row.and_then(|r| r.gender.as_deref()) == Some("female");
        let size_dependants = first(&ordered, |r| r.facts.household_size).map(|s| s - 1);
        let counted = members.len() as i64 - 1;
        let dependants = first(&ordered, |r| r.facts.dependants)
            .or(size_dependants)
            .unwrap_or(counted)
            .max(0);
        let elderly = rows
            .iter()
            .any(|r| match (&r.birth_date, r.birth_year_jalali) {
                (Some(b), _) => b.as_str() <= elderly_cutoff.as_str(),
                (None, Some(jy)) => jy <= jalali_cutoff,
                _ => false,
            });
        out.insert(
            reference.clone(),
            BuiltHousehold {
                reference,
                head,
                members,
                province_code: first(&ordered, |r| r.province_code.clone()),
                county_code: first(&ordered, |r| r.county_code.clone()),
                zone: first(&ordered, |r| r.zone.clone()),
                address: first(&ordered, |r| r.address.clone()),
                female_head: head_female || reason.is_some(),
                female_head_reason: reason,
                dependants,
                disability: any(&|f| f.disability),
                chronic_illness: any(&|f| f.chronic_illness),
                elderly,
                bereaved_by_covid: any(&|f| f.bereaved_by_covid),
                income_decile: first(&ordered, |r| r.facts.income_decile),
                monthly_income: first(&ordered, |r| r.facts.monthly_income),
            },
        );
    }
    out
}

const CHUNK: usize = 500;

/// Records read at once while applying a list's facts: whole households are read and written
/// this many records at a time, so a national roster (ten million rows) is applied in bounded
/// memory.
pub const FACTS_CHUNK_RECORDS: usize = 100_000;

/// Applies the household and support facts of a committed batch, in one transaction:
/// households of the list that the batch's rows belong to are written (new, or updated when
/// the list had them), with their members (a person belongs to one household: the latest
/// list that names them wins) and the members' urban/rural zone; each row of a support list
/// with a kind of support that is a need type becomes (or updates) its support ledger entry,
/// with its programme (created for the organisation when the row names a new one), amount and
/// date. `period_of` turns an instant into its Jalali year-month (`1405-09`).
pub async fn apply_batch(
    store: &Store,
    batch_id: i64,
    period_of: &(dyn Fn(i64) -> String + Sync),
) -> Result<FactsApplied> {
    apply_batch_in_chunks(store, batch_id, period_of, FACTS_CHUNK_RECORDS).await
}

/// [`apply_batch`], reading at most about `chunk_records` full records at a time (a household
/// is never split, so a chunk can hold more). The result does not depend on the chunk size.
pub async fn apply_batch_in_chunks(
    store: &Store,
    batch_id: i64,
    period_of: &(dyn Fn(i64) -> String + Sync),
    chunk_records: usize,
) -> Result<FactsApplied> {
    let mut tx = store.begin().await?;
    let out = apply_batch_in(
        &mut tx,
        store.engine(),
        batch_id,
        period_of,
        chunk_records.max(1),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// A zone as the facts step keeps it per person (one byte, not a string, for ten million).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Zone {
    Urban,
    Rural,
    Other,
}

impl Zone {
    fn of(s: &str) -> Zone {
        match s {
            "urban" => Zone::Urban,
            "rural" => Zone::Rural,
            _ => Zone::Other,
        }
    }
}

/// What the first pass keeps of a list's records: the household each keyed record belongs
/// to, the zone each person of the batch has on their row, and the batch's record ids.
#[derive(Default)]
struct ListOutline {
    /// (household reference, record id, the record is the batch's), for keyed records.
    keyed: Vec<(Box<str>, i64, bool)>,
    /// The zone of each person the batch names, from the first of their rows.
    zone_of: HashMap<i64, Zone>,
    /// The batch's records, in row order (a support list's entries come from them).
    batch_records: Vec<i64>,
}

/// The columns of a full record, as [`Rec`] reads them.
const REC_COLUMNS: &str = "r.id, COALESCE(p.merged_into, r.person_id), r.source_id, \
     r.row_number, r.national_code, r.gender, r.birth_date, r.birth_year_jalali, \
     r.province_code, r.county_code, r.address, r.zone, r.facts, r.imported_at";

fn rec_of(r: &sqlx::any::AnyRow) -> Rec {
    Rec {
        id: r.get(0),
        person: r.get(1),
        source_id: r.get(2),
        row_number: r.get(3),
        national_code: r.get(4),
        gender: r.get(5),
        birth_date: r.get(6),
        birth_year_jalali: r.get(7),
        province_code: r.get(8),
        county_code: r.get(9),
        address: r.get(10),
        zone: r.get(11),
        facts: RecordFacts::from_json(r.get::<Option<String>, _>(12).as_deref()),
        imported_at: r.get(13),
    }
}

/// The first pass: streams the list's records, keeping only their outline.
async fn outline_list(
    conn: &mut AnyConnection,
    list_id: i64,
    batch_id: i64,
    support_list: bool,
) -> Result<ListOutline> {
    use futures_util::TryStreamExt;
    let sql = format!(
        "SELECT r.id, COALESCE(p.merged_into, r.person_id), r.source_id, r.zone, r.facts, \
         r.batch_id FROM source_records r LEFT JOIN persons p ON p.id = r.person_id \
         WHERE r.list_id = $1 AND ({}) ORDER BY r.row_number, r.id",
        if support_list {
            "1 = 1"
        } else {
            "r.facts IS NOT NULL OR r.zone IS NOT NULL"
        }
    );
    let mut out = ListOutline::default();
    let mut rows = sqlx::query(AssertSqlSafe(sql))
        .bind(list_id)
        .fetch(&mut *conn);
    while let Some(r) = rows.try_next().await? {
        let id: i64 = r.get(0);
        let person: Option<i64> = r.get(1);
        let zone: Option<String> = r.get(3);
        let in_batch = r.get::<i64, _>(5) == batch_id;
        // Only what `household_key` reads.
        let key = household_key(&Rec {
            id,
            person,
            source_id: r.get(2),
            row_number: 0,
            national_code: None,
            gender: None,
            birth_date: None,
            birth_year_jalali: None,
            province_code: None,
            county_code: None,
            address: None,
            zone: None,
            facts: RecordFacts::from_json(r.get::<Option<String>, _>(4).as_deref()),
            imported_at: 0,
        });
        if let Some(key) = key {
            out.keyed.push((key.into_boxed_str(), id, in_batch));
        }
        if in_batch {
            out.batch_records.push(id);
            if let (Some(p), Some(z)) = (person, zone.as_deref()) {
                out.zone_of.entry(p).or_insert(Zone::of(z));
            }
        }
    }
    Ok(out)
}

/// The full records with these ids (at most a chunk).
async fn records_by_id(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<Rec>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        // Integers from the store: no user text in the statement.
        let sql = format!(
            "SELECT {REC_COLUMNS} FROM source_records r LEFT JOIN persons p \
             ON p.id = r.person_id WHERE r.id IN ({})",
            id_list(chunk)
        );
        out.extend(
            sqlx::query(AssertSqlSafe(sql))
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(rec_of),
        );
    }
    Ok(out)
}

/// The touched households' record ids, in household reference order, cut into chunks of
/// whole households of about `chunk_records` records each. A household is touched when one
/// of its records is the batch's.
fn household_chunks(mut keyed: Vec<(Box<str>, i64, bool)>, chunk_records: usize) -> Vec<Vec<i64>> {
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut chunks = Vec::new();
    let mut current: Vec<i64> = Vec::new();
    let mut start = 0;
    while start < keyed.len() {
        let end = start
            + keyed[start..]
                .iter()
                .take_while(|k| k.0 == keyed[start].0)
                .count();
        let group = &keyed[start..end];
        if group.iter().any(|k| k.2) {
            current.extend(group.iter().map(|k| k.1));
            if current.len() >= chunk_records {
                chunks.push(std::mem::take(&mut current));
            }
        }
        start = end;
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

async fn apply_batch_in(
    conn: &mut AnyConnection,
    engine: Engine,
    batch_id: i64,
    period_of: &(dyn Fn(i64) -> String + Sync),
    chunk_records: usize,
) -> Result<FactsApplied> {
    let mut out = FactsApplied::default();
    let Some(list) = sqlx::query(
        "SELECT l.id, l.organisation_id, l.list_kind, l.programme_id, g.support_kind \
         FROM import_batches b JOIN source_lists l ON l.id = b.list_id \
         LEFT JOIN programmes g ON g.id = l.programme_id WHERE b.id = $1",
    )
    .bind(batch_id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(out);
    };
    let list_id: i64 = list.get(0);
    let organisation: i64 = list.get(1);
    let support_list = list.get::<String, _>(2) == "support";
    let list_programme: Option<i64> = list.get(3);
    let list_kind: Option<String> = list.get(4);
    let ListOutline {
        keyed,
        mut zone_of,
        batch_records,
    } = outline_list(conn, list_id, batch_id, support_list).await?;
    let now = now_millis();
    // Households the batch's rows belong to, built from every row of the list naming them,
    // a chunk of whole households at a time, in reference order (the order decides which
    // household a person named twice belongs to, and whose zone they take).
    let mut placed: HashSet<i64> = HashSet::new();
    let mut members_placed: Vec<i64> = Vec::new();
    for (done, ids) in household_chunks(keyed, chunk_records)
        .into_iter()
        .enumerate()
    {
        if engine == Engine::Postgres && done > 0 && done.is_power_of_two() {
            // The planner's statistics follow the households this transaction is writing, so
            // the look-ups below stay index look-ups as the tables grow (no autovacuum sees
            // them before the commit).
            for table in ["households", "household_members"] {
                sqlx::query(AssertSqlSafe(format!("ANALYZE {table}")))
                    .execute(&mut *conn)
                    .await?;
            }
        }
        let records = records_by_id(conn, &ids).await?;
        let refs: Vec<&Rec> = records.iter().collect();
        let households = build(&refs, now);
        write_households(
            conn,
            engine,
            list_id,
            &households,
            now,
            &mut placed,
            &mut members_placed,
            &mut out,
        )
        .await?;
        // The household's zone for its members, over the one on their row.
        for h in households.values() {
            if let Some(z) = &h.zone {
                for (p, _) in &h.members {
                    zone_of.insert(*p, Zone::of(z));
                }
            }
        }
    }
    clear_heads_who_left(conn, engine, &members_placed, now).await?;
    for (zone, word) in [(Zone::Urban, "urban"), (Zone::Rural, "rural")] {
        let mut persons: Vec<i64> = zone_of
            .iter()
            .filter(|(_, z)| **z == zone)
            .map(|(p, _)| *p)
            .collect();
        // In id order, so each statement writes neighbouring pages (at 10M people, 7.6M
        // persons in random order took over ten minutes on PostgreSQL). Only the persons whose
        // zone changes are written: most already have their household's zone from their own
        // row, and rewriting a row costs PostgreSQL a new row version and its index entries.
        persons.sort_unstable();
        for chunk in persons.chunks(CHUNK) {
            // Integers from the store and a fixed word: no user text in the statement.
            let sql = format!(
                "UPDATE persons SET zone = '{word}' WHERE id IN ({}) \
                 AND (zone IS NULL OR zone <> '{word}')",
                id_list(chunk)
            );
            out.zones += sqlx::query(AssertSqlSafe(sql))
                .execute(&mut *conn)
                .await?
                .rows_affected() as i64;
        }
    }
    if support_list {
        for ids in batch_records.chunks(chunk_records) {
            let mut records = records_by_id(conn, ids).await?;
            records.sort_by_key(|r| (r.row_number, r.id));
            let refs: Vec<&Rec> = records.iter().collect();
            out.support_entries += write_support(
                conn,
                engine,
                organisation,
                list_programme,
                list_kind.as_deref(),
                &refs,
                period_of,
            )
            .await?;
        }
    }
    sqlx::query("UPDATE import_batches SET facts_applied_at = $1 WHERE id = $2")
        .bind(now)
        .bind(batch_id)
        .execute(&mut *conn)
        .await?;
    Ok(out)
}

const HOUSEHOLD_COLUMNS: &str = "head_person_id, province_code, county_code, zone, address, \
     female_head, female_head_reason, dependants, disability, chronic_illness, elderly, \
     bereaved_by_covid, income_decile, monthly_income, updated_at";

/// The ids of the list's households with these references.
async fn household_ids(
    conn: &mut AnyConnection,
    engine: Engine,
    list_id: i64,
    references: &[&str],
) -> Result<HashMap<String, i64>> {
    let mut out = HashMap::with_capacity(references.len());
    for chunk in references.chunks(CHUNK) {
        let marks = match engine {
            Engine::Postgres => (0..chunk.len())
                .map(|i| format!("${}", i + 2))
                .collect::<Vec<_>>()
                .join(","),
            Engine::Sqlite => vec!["?"; chunk.len()].join(","),
        };
        let first = match engine {
            Engine::Postgres => "$1",
            Engine::Sqlite => "?",
        };
        let sql = format!(
            "SELECT source_reference, id FROM households WHERE source_list_id = {first} \
             AND source_reference IN ({marks})"
        );
        // Planned for each chunk: a plan cached while the list's households were few would
        // scan them all once they are millions (PostgreSQL: one second a look-up at 10M).
        let mut q = sqlx::query(AssertSqlSafe(sql))
            .persistent(false)
            .bind(list_id);
        for r in chunk {
            q = q.bind((*r).to_owned());
        }
        out.extend(
            q.fetch_all(&mut *conn)
                .await?
                .iter()
                .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1))),
        );
    }
    Ok(out)
}

/// Writes a chunk of a list's households and their members. `placed` holds the persons
/// earlier chunks placed (each person joins the first household of the list naming them);
/// the persons this chunk places are added to it and to `members_placed`.
#[allow(clippy::too_many_arguments)]
async fn write_households(
    conn: &mut AnyConnection,
    engine: Engine,
    list_id: i64,
    households: &BTreeMap<String, BuiltHousehold>,
    now: i64,
    placed: &mut HashSet<i64>,
    members_placed: &mut Vec<i64>,
    out: &mut FactsApplied,
) -> Result<()> {
    if households.is_empty() {
        return Ok(());
    }
    let references: Vec<&str> = households.keys().map(String::as_str).collect();
    let existing = household_ids(conn, engine, list_id, &references).await?;
    macro_rules! bind_household {
        ($q:expr, $h:expr) => {
            $q.bind($h.head)
                .bind($h.province_code.clone())
                .bind($h.county_code.clone())
                .bind($h.zone.clone())
                .bind($h.address.clone())
                .bind(crate::flag($h.female_head))
                .bind($h.female_head_reason.clone())
                .bind($h.dependants)
                .bind(crate::flag($h.disability))
                .bind(crate::flag($h.chronic_illness))
                .bind(crate::flag($h.elderly))
                .bind(crate::flag($h.bereaved_by_covid))
                .bind($h.income_decile)
                .bind($h.monthly_income)
                .bind(now)
        };
    }
    let assignments: Vec<String> = HOUSEHOLD_COLUMNS
        .split(", ")
        .enumerate()
        .map(|(i, c)| format!("{c} = ${}", i + 2))
        .collect();
    let update = format!(
        "UPDATE households SET {} WHERE id = $1",
        assignments.join(", ")
    );
    let mut fresh: Vec<&BuiltHousehold> = Vec::new();
    for h in households.values() {
        match existing.get(&h.reference) {
            Some(id) => {
                let q = sqlx::query(AssertSqlSafe(update.clone())).bind(*id);
                bind_household!(q, h).execute(&mut *conn).await?;
            }
            None => fresh.push(h),
        }
    }
    for chunk in fresh.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO households ({HOUSEHOLD_COLUMNS}, source_list_id, source_reference, \
             created_at) VALUES {}",
            crate::values_placeholders(engine, chunk.len(), 18)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for h in chunk {
            q = bind_household!(q, h)
                .bind(list_id)
                .bind(h.reference.clone())
                .bind(now);
        }
        q.execute(&mut *conn).await?;
    }
    out.households += households.len() as i64;
    out.households_new += fresh.len() as i64;
    let ids = household_ids(conn, engine, list_id, &references).await?;
    // Each person once: the first household of the list naming them.
    let mut members: Vec<(i64, i64, &str)> = Vec::new();
    let mut household_ids: Vec<i64> = Vec::new();
    for h in households.values() {
        let Some(&id) = ids.get(&h.reference) else {
            continue;
        };
        household_ids.push(id);
        for (p, rel) in &h.members {
            if placed.insert(*p) {
                members.push((*p, id, rel.as_str()));
            }
        }
    }
    for chunk in household_ids.chunks(CHUNK) {
        let sql = format!(
            "DELETE FROM household_members WHERE household_id IN ({})",
            id_list(chunk)
        );
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await?;
    }
    let persons: Vec<i64> = members.iter().map(|m| m.0).collect();
    for chunk in persons.chunks(CHUNK) {
        let sql = format!(
            "DELETE FROM household_members WHERE person_id IN ({})",
            id_list(chunk)
        );
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await?;
    }
    for chunk in members.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO household_members (person_id, household_id, relation) VALUES {}",
            crate::values_placeholders(engine, chunk.len(), 3)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (p, h, rel) in chunk {
            q = q.bind(*p).bind(*h).bind((*rel).to_owned());
        }
        q.execute(&mut *conn).await?;
    }
    members_placed.extend_from_slice(&persons);
    out.members += members.len() as i64;
    Ok(())
}

/// A head the list moved into another household no longer heads the one they left.
async fn clear_heads_who_left(
    conn: &mut AnyConnection,
    engine: Engine,
    persons: &[i64],
    now: i64,
) -> Result<()> {
    if persons.len() > HEADS_ONE_STATEMENT {
        return clear_heads_who_left_at_once(conn, engine, persons, now).await;
    }
    for chunk in persons.chunks(CHUNK) {
        let sql = format!(
            "UPDATE households SET head_person_id = NULL, updated_at = {now} \
             WHERE head_person_id IN ({}) AND NOT EXISTS (SELECT 1 FROM household_members m \
             WHERE m.person_id = households.head_person_id AND m.household_id = households.id)",
            id_list(chunk)
        );
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await?;
    }
    Ok(())
}

/// From this many members on, the heads who left are found in one statement.
const HEADS_ONE_STATEMENT: usize = 4 * CHUNK;

/// [`clear_heads_who_left`] for a big list: the persons go into a temporary table and one
/// statement clears the heads among them who no longer live in the household they head.
/// Chunk by chunk, PostgreSQL (whose statistics had not seen the rows the batch just wrote)
/// scanned every household and member for each 500 persons: 2,000 scans of a million rows for
/// a million-person household roster, most of the demo's build time.
async fn clear_heads_who_left_at_once(
    conn: &mut AnyConnection,
    engine: Engine,
    persons: &[i64],
    now: i64,
) -> Result<()> {
    sqlx::query("CREATE TEMPORARY TABLE facts_members (id BIGINT PRIMARY KEY NOT NULL)")
        .execute(&mut *conn)
        .await?;
    let mut sorted = persons.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    for chunk in sorted.chunks(4 * CHUNK) {
        // Integers from the store: no user text in the statement.
        let values: Vec<String> = chunk.iter().map(|p| format!("({p})")).collect();
        let sql = format!("INSERT INTO facts_members (id) VALUES {}", values.join(","));
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await?;
    }
    if engine == Engine::Postgres {
        // Statistics for the batch's rows, so the statement below joins rather than loops.
        for table in ["facts_members", "households", "household_members"] {
            sqlx::query(AssertSqlSafe(format!("ANALYZE {table}")))
                .execute(&mut *conn)
                .await?;
        }
    }
    let sql = format!(
        "UPDATE households SET head_person_id = NULL, updated_at = {now} \
         WHERE head_person_id IN (SELECT id FROM facts_members) AND NOT EXISTS \
         (SELECT 1 FROM household_members m WHERE m.person_id = households.head_person_id \
         AND m.household_id = households.id)"
    );
    sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await?;
    sqlx::query("DROP TABLE facts_members")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The need type a kind of support answers: a need type code as it is, a programme's older
/// support kind through `hamdeli-domain`; `cash` and kinds without a need type: none.
fn need_type_of(kind: &str) -> Option<String> {
    if hamdeli_domain::needs::DEFAULT_NEED_TYPES
        .iter()
        .any(|t| t.0 == kind)
    {
        return Some(kind.to_owned());
    }
    hamdeli_domain::needs::need_type_of_support_kind(kind).map(str::to_owned)
}

/// A support ledger entry: (source record, person, need type, amount, period, at, programme).
type Entry = (i64, i64, String, i64, String, i64, Option<i64>);

async fn write_support(
    conn: &mut AnyConnection,
    engine: Engine,
    organisation: i64,
    list_programme: Option<i64>,
    list_kind: Option<&str>,
    records: &[&Rec],
    period_of: &(dyn Fn(i64) -> String + Sync),
) -> Result<i64> {
    // Need types the office added are need types too.
    let active: HashSet<String> = sqlx::query("SELECT code FROM need_types")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut programmes: HashMap<String, (i64, String)> = HashMap::new();
    let mut entries: Vec<Entry> = Vec::new();
    for r in records {
        let Some(person) = r.person else { continue };
        let mut programme = list_programme;
        let mut programme_kind = list_kind.map(str::to_owned);
        if let Some(name) = r.facts.programme.as_deref().map(str::trim)
            && !name.is_empty()
        {
            let (id, kind) = match programmes.get(name) {
                Some(p) => p.clone(),
                None => {
                    let row = sqlx::query(
                        "SELECT id, support_kind FROM programmes \
                         WHERE organisation_id = $1 AND name_fa = $2",
                    )
                    .bind(organisation)
                    .bind(name.to_owned())
                    .fetch_optional(&mut *conn)
                    .await?;
                    let p = match row {
                        Some(row) => (row.get(0), row.get(1)),
                        None => {
                            let kind = r
                                .facts
                                .support_kind
                                .clone()
                                .or_else(|| list_kind.map(str::to_owned))
                                .unwrap_or_else(|| "other".to_owned());
                            let id = super::ensure_programme(
                                &mut *conn,
                                organisation,
                                name,
                                name,
                                &kind,
                            )
                            .await?;
                            (id, kind)
                        }
                    };
                    programmes.insert(name.to_owned(), p.clone());
                    p
                }
            };
            programme = Some(id);
            programme_kind = Some(kind);
        }
        let kind = r
            .facts
            .support_kind
            .clone()
            .or(programme_kind)
            .and_then(|k| {
                if active.contains(&k) {
                    Some(k)
                } else {
                    need_type_of(&k)
                }
            });
        let Some(need_type) = kind else { continue };
        let at = r
            .facts
            .support_date
            .as_deref()
            .and_then(noon_in_iran)
            .unwrap_or(r.imported_at);
        entries.push((
            r.id,
            person,
            need_type,
            r.facts.amount.unwrap_or(0),
            period_of(at),
            at,
            programme,
        ));
    }
    let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
    for chunk in ids.chunks(CHUNK) {
        let sql = format!(
            "DELETE FROM support_ledger WHERE allocation_id IS NULL AND source_record_id IN ({})",
            id_list(chunk)
        );
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await?;
    }
    for chunk in entries.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO support_ledger (source_record_id, person_id, organisation_id, need_type, \
             amount, period, at, source, programme_id) VALUES {}",
            crate::values_placeholders(engine, chunk.len(), 9)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (rec, person, need_type, amount, period, at, programme) in chunk {
            q = q
                .bind(*rec)
                .bind(*person)
                .bind(organisation)
                .bind(need_type.clone())
                .bind(*amount)
                .bind(period.clone())
                .bind(*at)
                .bind("import")
                .bind(*programme);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(entries.len() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: i64, person: i64, code: &str, facts: RecordFacts) -> Rec {
        Rec {
            id,
            person: Some(person),
            source_id: format!("s{id}"),
            row_number: id,
            national_code: Some(code.to_owned()),
            gender: None,
            birth_date: Some("1990-01-01".into()),
            birth_year_jalali: None,
            province_code: Some("23".into()),
            county_code: None,
            address: None,
            zone: None,
            facts,
            imported_at: 0,
        }
    }

    #[test]
    fn a_household_list_builds_heads_members_and_facts() {
        let hh = |rel: &str| RecordFacts {
            household_id: Some("1001".into()),
            relation: Some(rel.into()),
            ..Default::default()
        };
        let mut head = rec(
            1,
            10,
            "0010350829",
            RecordFacts {
                female_head_reason: Some("widowed".into()),
                income_decile: Some(2),
                ..hh("head")
            },
        );
        head.gender = Some("female".into());
        head.zone = Some("rural".into());
        let mut grandma = rec(3, 12, "0084575948", hh("parent"));
        grandma.birth_date = Some("1940-05-01".into());
        let child = rec(
            2,
            11,
            "0000000000",
            RecordFacts {
                disability: Some(true),
                ..hh("child")
            },
        );
        // A row alone with household facts is a household of its own, its person the head.
        let alone = rec(
            4,
            13,
            "1111111111",
            RecordFacts {
                household_size: Some(3),
                ..Default::default()
            },
        );
        let now = noon_in_iran("2026-11-06").unwrap();
        let built = build(&[&child, &head, &grandma, &alone], now);
        let h = &built["1001"];
        assert_eq!(h.head, Some(10));
        assert_eq!(
            h.members,
            vec![
                (10, "head".to_owned()),
                (11, "child".to_owned()),
                (12, "parent".to_owned())
            ]
        );
        assert!(h.female_head);
        assert_eq!(h.female_head_reason.as_deref(), Some("widowed"));
        assert_eq!(h.dependants, 2);
        assert!(h.disability && h.elderly && !h.chronic_illness);
        assert_eq!(h.income_decile, Some(2));
        assert_eq!(h.zone.as_deref(), Some("rural"));
        let a = &built["s4"];
        assert_eq!((a.head, a.dependants, a.female_head), (Some(13), 2, false));
    }

    #[test]
    fn the_head_is_the_row_whose_code_is_the_households() {
        let f = |rel: Option<&str>| RecordFacts {
            head_code: Some("0010350829".into()),
            relation: rel.map(str::to_owned),
            ..Default::default()
        };
        let (a, b) = (
            rec(1, 20, "0084575948", f(Some("spouse"))),
            rec(2, 21, "0010350829", f(None)),
        );
        let built = build(&[&a, &b], 0);
        let h = &built["0010350829"];
        assert_eq!(h.head, Some(21));
        assert_eq!(h.members[1], (20, "spouse".to_owned()));
    }

    #[test]
    fn dates_and_facts_round_trip() {
        assert_eq!(days_from_iso("1970-01-01"), Some(0));
        assert_eq!(days_from_iso("2026-11-06"), Some(20_763));
        assert_eq!(civil_from_days(20_763), (2026, 11, 6));
        assert_eq!(days_from_iso("2026-13-01"), None);
        assert_eq!(noon_in_iran("1970-01-01"), Some(30_600_000));
        let f = RecordFacts {
            support_kind: Some("food".into()),
            amount: Some(5_000_000),
            ..Default::default()
        };
        let json = f.to_json().unwrap();
        assert_eq!(json, r#"{"support_kind":"food","amount":5000000}"#);
        assert_eq!(RecordFacts::from_json(Some(&json)), f);
        assert_eq!(RecordFacts::default().to_json(), None);
        assert_eq!(
            RecordFacts::from_json(Some("not json")),
            RecordFacts::default()
        );
    }
}
