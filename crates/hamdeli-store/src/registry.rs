//! The registry's storage: organisations' lists, import batches with their per-row problems,
//! and source records upserted by `(list, source_id)` so a re-imported list updates instead of
//! duplicating. A batch's records and problems are written in one transaction: an import that
//! is killed leaves no partial batch, only a batch row marked failed.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::{AnyConnection, Engine, Result, Store, StoreError, now_millis};

mod copy;
pub mod facts;
mod sqlite_bulk;

pub const LIST_KINDS: [&str; 3] = ["support", "survey", "reference"];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SourceList {
    pub id: i64,
    pub organisation_id: i64,
    pub name: String,
    pub list_kind: String,
    pub province_code: Option<String>,
    pub county_code: Option<String>,
    pub created_at: i64,
}

pub struct NewList {
    pub organisation_id: i64,
    pub name: String,
    pub list_kind: String,
    pub province_code: Option<String>,
    pub county_code: Option<String>,
    pub created_by: Option<i64>,
}

fn list_from_row(r: &AnyRow) -> SourceList {
    SourceList {
        id: r.get("id"),
        organisation_id: r.get("organisation_id"),
        name: r.get("name"),
        list_kind: r.get("list_kind"),
        province_code: r.get("province_code"),
        county_code: r.get("county_code"),
        created_at: r.get("created_at"),
    }
}

const LIST_COLUMNS: &str = "SELECT id, organisation_id, name, list_kind, province_code, county_code, created_at FROM source_lists";

/// The organisation's list of this name, created when it does not exist yet.
pub async fn ensure_list(conn: &mut AnyConnection, new: NewList) -> Result<SourceList> {
    let name = new.name.trim().to_owned();
    if name.is_empty() {
        return Err(StoreError::Invalid("list-name-required"));
    }
    if !LIST_KINDS.contains(&new.list_kind.as_str()) {
        return Err(StoreError::Invalid("list-kind-invalid"));
    }
    let existing = sqlx::query(AssertSqlSafe(format!(
        "{LIST_COLUMNS} WHERE organisation_id = $1 AND name = $2"
    )))
    .bind(new.organisation_id)
    .bind(name.clone())
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = existing {
        return Ok(list_from_row(&row));
    }
    let row = sqlx::query(
        "INSERT INTO source_lists (organisation_id, name, list_kind, province_code, county_code, \
         created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         RETURNING id, organisation_id, name, list_kind, province_code, county_code, created_at",
    )
    .bind(new.organisation_id)
    .bind(name)
    .bind(new.list_kind)
    .bind(new.province_code)
    .bind(new.county_code)
    .bind(new.created_by)
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await?;
    Ok(list_from_row(&row))
}

pub async fn lists_of(store: &Store, organisation_id: i64) -> Result<Vec<SourceList>> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "{LIST_COLUMNS} WHERE organisation_id = $1 ORDER BY id"
    )))
    .bind(organisation_id)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(list_from_row).collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    Running,
    Committed,
    Failed,
}

impl BatchStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Running => "running",
            BatchStatus::Committed => "committed",
            BatchStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> BatchStatus {
        match s {
            "committed" => BatchStatus::Committed,
            "running" => BatchStatus::Running,
            _ => BatchStatus::Failed,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Batch {
    pub id: i64,
    pub list_id: i64,
    pub file_name: String,
    pub file_format: String,
    pub status: BatchStatus,
    pub rows_in: i64,
    pub rows_accepted: i64,
    pub rows_with_warnings: i64,
    pub rows_rejected: i64,
    pub rows_inserted: i64,
    pub rows_updated: i64,
    pub persons_created: i64,
    pub records_joined: i64,
    pub reviews_opened: i64,
    pub error: Option<String>,
    pub started_at: i64,
    /// When the import's job ended: after the commit, its linking, review items and coverage
    /// summaries (or when it failed). Null while the job runs, also once the batch is committed
    /// (a client polls it to know the import is over).
    pub finished_at: Option<i64>,
}

fn batch_from_row(r: &AnyRow) -> Batch {
    Batch {
        id: r.get("id"),
        list_id: r.get("list_id"),
        file_name: r.get("file_name"),
        file_format: r.get("file_format"),
        status: BatchStatus::parse(&r.get::<String, _>("status")),
        rows_in: r.get("rows_in"),
        rows_accepted: r.get("rows_accepted"),
        rows_with_warnings: r.get("rows_with_warnings"),
        rows_rejected: r.get("rows_rejected"),
        rows_inserted: r.get("rows_inserted"),
        rows_updated: r.get("rows_updated"),
        persons_created: r.get("persons_created"),
        records_joined: r.get("records_joined"),
        reviews_opened: r.get("reviews_opened"),
        error: r.get("error"),
        started_at: r.get("started_at"),
        finished_at: r.get("finished_at"),
    }
}

/// This process's boot id: random, made once per process start. A running batch records the
/// boot that writes it, so a sweep can tell the batches of a process that is gone from those of
/// one that is alive (several servers and command-line imports may share one database).
pub fn boot_id() -> &'static str {
    static BOOT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BOOT.get_or_init(|| crate::tokens::random_token()[..16].to_owned())
}

/// How often a process says its running batches are alive.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(30);

/// A running batch whose owner has not said it is alive for this long is interrupted.
pub const STALE_AFTER: Duration = Duration::from_secs(180);

/// Who an import acts for, kept on the batch when the batch's own transactions write its audit
/// entries (`import.commit` with the commit, `import.failed` with the failure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchActor {
    pub user_id: Option<i64>,
    pub api_key_id: Option<i64>,
    /// The name the audit log shows (`cli:<os user>` for the command line).
    pub actor: String,
    pub scope: String,
    pub client_addr: String,
}

impl BatchActor {
    /// The command line's system principal: `cli:<os user>`, acting for the whole country
    /// (whoever runs it holds the database).
    pub fn command_line(os_user: &str) -> BatchActor {
        let user = if os_user.trim().is_empty() {
            "unknown"
        } else {
            os_user.trim()
        };
        BatchActor {
            user_id: None,
            api_key_id: None,
            actor: format!("cli:{user}"),
            scope: "country".into(),
            client_addr: "cli".into(),
        }
    }

    /// The actor of a principal acting from `client_addr`.
    pub fn of_principal(p: &hamdeli_domain::Principal, client_addr: &str) -> BatchActor {
        BatchActor {
            user_id: p.user_id,
            api_key_id: p.api_key_id,
            actor: p.name.clone(),
            scope: p.scope.label(),
            client_addr: client_addr.to_owned(),
        }
    }
}

/// The one INSERT of an audit entry the batch writers share (SQLite reads `$N` as numbered
/// parameters too, so rusqlite, the `Any` driver and PostgreSQL take the same text).
pub(crate) const AUDIT_INSERT: &str = "INSERT INTO audit_log (at, actor_user_id, \
     actor_api_key_id, actor, action, target_kind, target_id, scope, client_addr, detail) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// A batch's audit entry, as bound to [`AUDIT_INSERT`].
pub(crate) struct BatchAuditEntry {
    pub at: i64,
    pub actor: BatchActor,
    pub action: &'static str,
    pub batch_id: i64,
    pub detail: String,
}

impl BatchAuditEntry {
    /// The entry for a batch whose stored actor is `stored` (none when the batch has none: the
    /// web import writes its own).
    pub(crate) fn of(
        stored: Option<&str>,
        action: &'static str,
        batch_id: i64,
        detail: serde_json::Value,
    ) -> Option<BatchAuditEntry> {
        let actor: BatchActor = serde_json::from_str(stored?).ok()?;
        Some(BatchAuditEntry {
            at: now_millis(),
            actor,
            action,
            batch_id,
            detail: detail.to_string(),
        })
    }

    pub(crate) async fn write_any(self, conn: &mut AnyConnection) -> Result<()> {
        sqlx::query(AUDIT_INSERT)
            .bind(self.at)
            .bind(self.actor.user_id)
            .bind(self.actor.api_key_id)
            .bind(self.actor.actor)
            .bind(self.action)
            .bind("import_batch")
            .bind(self.batch_id.to_string())
            .bind(self.actor.scope)
            .bind(self.actor.client_addr)
            .bind(self.detail)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }
}

/// The detail of a committed batch's `import.commit` entry (the web import's keys).
pub(crate) fn commit_detail(
    organisation: i64,
    list_id: i64,
    counts: BatchCounts,
    written: Written,
) -> serde_json::Value {
    serde_json::json!({
        "organisation": organisation, "list": list_id, "rows_in": counts.rows_in,
        "accepted": counts.rows_accepted, "rejected": counts.rows_rejected,
        "inserted": written.inserted, "updated": written.updated,
    })
}

/// Opens a batch (committed at once, so progress pages can show it while the import runs),
/// owned by this process (its boot id and a fresh heartbeat) and acting for the store's batch
/// actor, if it has one.
pub async fn begin_batch(
    store: &Store,
    list_id: i64,
    file_name: &str,
    file_format: &str,
    created_by: Option<i64>,
) -> Result<i64> {
    let actor = store
        .batch_actor()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|_| StoreError::Invalid("import-actor-invalid"))?;
    let now = now_millis();
    let row = sqlx::query(
        "INSERT INTO import_batches (list_id, file_name, file_format, status, created_by, \
         started_at, owner_boot, heartbeat_at, audit_actor) \
         VALUES ($1, $2, $3, 'running', $4, $5, $6, $5, $7) RETURNING id",
    )
    .bind(list_id)
    .bind(file_name.to_owned())
    .bind(file_format.to_owned())
    .bind(created_by)
    .bind(now)
    .bind(boot_id())
    .bind(actor)
    .fetch_one(store.pool())
    .await?;
    store.ensure_heartbeat();
    Ok(row.get(0))
}

/// Keeps the heartbeat of this process's running batches fresh until the pool closes. A beat
/// that cannot be written (SQLite's write lock held by a long bulk write) is tried again at the
/// next one; [`STALE_AFTER`] is several beats.
pub(crate) async fn heartbeat(pool: sqlx::AnyPool) {
    let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
    tick.tick().await;
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        // A committed batch whose job has not ended (its linking and summaries) beats too.
        let beat = sqlx::query(
            "UPDATE import_batches SET heartbeat_at = $1 WHERE owner_boot = $2 \
             AND (status = 'running' OR (status = 'committed' AND finished_at IS NULL))",
        )
        .bind(now_millis())
        .bind(boot_id())
        .execute(&pool)
        .await;
        match beat {
            Ok(_) => {}
            Err(sqlx::Error::PoolClosed) => return,
            Err(e) => tracing::warn!(error = %e, "import heartbeat not written"),
        }
    }
}

pub async fn batch(store: &Store, id: i64) -> Result<Option<Batch>> {
    let row = sqlx::query("SELECT * FROM import_batches WHERE id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.as_ref().map(batch_from_row))
}

/// Every batch still running, whoever owns it, marked failed as "interrupted" (their data never
/// committed): only for a database no other process writes to (tests, a one-laptop office
/// after a crash). Servers and imports call [`fail_interrupted_batches`].
pub async fn fail_abandoned_batches(store: &Store) -> Result<u64> {
    fail_running(store, None).await
}

/// Batches left running by a process that is gone — another boot than this process's, whose
/// heartbeat is older than `stale_after` — marked failed as "interrupted", with their
/// `import.failed` audit entry when the batch writes its own. A batch another live process is
/// writing keeps running (its heartbeat is fresh). At start-up of `serve` and `import`, and
/// every [`HEARTBEAT_EVERY`] while a server runs.
pub async fn fail_interrupted_batches(store: &Store, stale_after: Duration) -> Result<u64> {
    let cutoff = now_millis() - stale_after.as_millis() as i64;
    fail_running(store, Some(cutoff)).await
}

async fn fail_running(store: &Store, cutoff: Option<i64>) -> Result<u64> {
    let mut tx = store.begin().await?;
    let rows = sqlx::query(
        "UPDATE import_batches SET status = 'failed', error = 'interrupted', finished_at = $1 \
         WHERE status = 'running' AND ($2 = 0 OR ((owner_boot IS NULL OR owner_boot <> $3) \
         AND COALESCE(heartbeat_at, started_at) < $4)) \
         RETURNING id, audit_actor, (SELECT organisation_id FROM source_lists l WHERE l.id = list_id), list_id",
    )
    .bind(now_millis())
    .bind(i64::from(cutoff.is_some()))
    .bind(boot_id())
    .bind(cutoff.unwrap_or(0))
    .fetch_all(&mut *tx)
    .await?;
    for r in &rows {
        let detail = serde_json::json!({
            "organisation": r.get::<Option<i64>, _>(2), "list": r.get::<i64, _>(3),
            "error": "interrupted",
        });
        let stored: Option<String> = r.get(1);
        if let Some(entry) =
            BatchAuditEntry::of(stored.as_deref(), "import.failed", r.get(0), detail)
        {
            entry.write_any(&mut tx).await?;
        }
    }
    // A committed batch whose job's last steps (linking, summaries) its gone process never
    // ended: over, as of its last beat (the next relink or report does what was left).
    sqlx::query(
        "UPDATE import_batches SET finished_at = COALESCE(heartbeat_at, started_at) \
         WHERE status = 'committed' AND finished_at IS NULL AND ($1 = 0 OR ((owner_boot IS NULL \
         OR owner_boot <> $2) AND COALESCE(heartbeat_at, started_at) < $3))",
    )
    .bind(i64::from(cutoff.is_some()))
    .bind(boot_id())
    .bind(cutoff.unwrap_or(0))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if !rows.is_empty() {
        tracing::warn!(
            batches = rows.len(),
            "import batches of a stopped process marked interrupted"
        );
    }
    Ok(rows.len() as u64)
}

/// The end of a committed batch's import job, after its last step (linking, review items,
/// coverage summaries): `finished_at` is set now, once. A job that failed has it already.
pub async fn end_batch_job(store: &Store, batch_id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE import_batches SET finished_at = $2 WHERE id = $1 AND finished_at IS NULL \
         AND status = 'committed'",
    )
    .bind(batch_id)
    .bind(now_millis())
    .execute(store.pool())
    .await?;
    Ok(())
}

/// One accepted row, typed and normalised by the ingest layer.
#[derive(Debug, Clone, Default)]
pub struct NewSourceRecord {
    pub source_id: String,
    pub row_number: i64,
    pub national_code: Option<String>,
    pub national_code_raw: Option<String>,
    pub honorific: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub father_name: Option<String>,
    pub first_key: Option<String>,
    pub last_key: Option<String>,
    pub father_key: Option<String>,
    pub birth_date: Option<String>,
    pub birth_year_jalali: Option<i64>,
    pub gender: Option<String>,
    pub phone: Option<String>,
    pub province_code: Option<String>,
    pub county_code: Option<String>,
    pub province_raw: Option<String>,
    pub county_raw: Option<String>,
    pub address: Option<String>,
    pub zone: Option<String>,
    /// Other columns of the file, as a JSON object.
    pub extra: String,
    /// When the organisation's support began, as the list states it (ISO date).
    pub support_since: Option<String>,
    /// The household and support facts the row states ([`facts::RecordFacts`] as JSON).
    pub facts: Option<String>,
}

/// What the per-row report says about one row.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    pub row_number: i64,
    /// `warning` (the row was accepted) or `rejected`.
    pub severity: String,
    pub code: String,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BatchCounts {
    pub rows_in: i64,
    pub rows_accepted: i64,
    pub rows_with_warnings: i64,
    pub rows_rejected: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Written {
    pub inserted: i64,
    pub updated: i64,
}

const RECORD_FIELDS: [&str; 24] = [
    "national_code",
    "national_code_raw",
    "honorific",
    "first_name",
    "last_name",
    "father_name",
    "first_key",
    "last_key",
    "father_key",
    "birth_date",
    "birth_year_jalali",
    "gender",
    "phone",
    "province_code",
    "county_code",
    "province_raw",
    "county_raw",
    "address",
    "zone",
    "extra",
    "batch_id",
    "row_number",
    "support_since",
    "facts",
];

/// One column value as the bulk writers write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
}

impl NewSourceRecord {
    /// The record's values in [`RECORD_FIELDS`] order (the one place that order is spelled
    /// out for values; both bulk writers use it).
    pub(crate) fn values(&self, batch_id: i64) -> [Value<'_>; RECORD_FIELDS.len()] {
        use Value::{Int, Text};
        [
            Text(self.national_code.as_deref()),
            Text(self.national_code_raw.as_deref()),
            Text(self.honorific.as_deref()),
            Text(self.first_name.as_deref()),
            Text(self.last_name.as_deref()),
            Text(self.father_name.as_deref()),
            Text(self.first_key.as_deref()),
            Text(self.last_key.as_deref()),
            Text(self.father_key.as_deref()),
            Text(self.birth_date.as_deref()),
            Int(self.birth_year_jalali),
            Text(self.gender.as_deref()),
            Text(self.phone.as_deref()),
            Text(self.province_code.as_deref()),
            Text(self.county_code.as_deref()),
            Text(self.province_raw.as_deref()),
            Text(self.county_raw.as_deref()),
            Text(self.address.as_deref()),
            Text(self.zone.as_deref()),
            Text(Some(&self.extra)),
            Int(Some(batch_id)),
            Int(Some(self.row_number)),
            Text(self.support_since.as_deref()),
            Text(self.facts.as_deref()),
        ]
    }
}

/// Columns of `persons` the bulk writers fill after id and times, in [`PersonDisplay::values`]
/// order.
pub(crate) const PERSON_FIELDS: &str = "national_code, first_name, last_name, father_name, \
     birth_date, gender, phone, province_code, county_code";

/// The person a record of a batch belongs to, decided before the write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonRef {
    /// Linked later (or already has one: a record the list had is updated in place).
    Unlinked,
    Existing(i64),
    /// The batch's `new_persons[k]`.
    New(u32),
}

/// Linkage decided in memory before a batch is written: each new record goes in with its
/// person, and the persons the batch makes go in with it (no second pass that rewrites every
/// record of a bulk load).
#[derive(Debug, Clone, Default)]
pub struct BatchLinks {
    /// One per record of the batch, in the same order.
    pub person_of: Vec<PersonRef>,
    pub new_persons: Vec<crate::persons::PersonDisplay>,
}

/// What writing a batch did, with the ids it handed out.
#[derive(Debug, Clone, Default)]
pub struct Committed {
    pub written: Written,
    /// The id of every record of the batch, in the batch's order.
    pub record_ids: Vec<i64>,
    /// The id of the batch's `new_persons[0]` (the others follow in order).
    pub first_person_id: i64,
}

/// New records from which a batch rebuilds the indexes of `source_records` instead of
/// growing them row by row (when the table holds no more rows than the batch adds).
pub(crate) const BULK_ROWS: usize = 50_000;

/// A batch's records split by what the write does with them.
pub(crate) struct Split {
    /// Records the list already has, updated in place: (their id, index in the batch).
    pub updates: Vec<(i64, usize)>,
    /// New records (indexes in the batch).
    pub fresh: Vec<usize>,
}

/// Splits a batch into updates and new records. A record planned as new that the list has
/// meanwhile is a conflict: another import of the same list won the race, and linkage must
/// be decided again.
pub(crate) fn split_fresh(
    records: &[NewSourceRecord],
    existing: &HashMap<String, i64>,
    links: Option<&BatchLinks>,
) -> Result<Split> {
    if let Some(l) = links
        && l.person_of.len() != records.len()
    {
        return Err(StoreError::Invalid("import-links-inconsistent"));
    }
    let mut updates = Vec::new();
    let mut fresh = Vec::new();
    for (i, r) in records.iter().enumerate() {
        match existing.get(&r.source_id) {
            Some(id) => {
                if links.is_some_and(|l| l.person_of[i] != PersonRef::Unlinked) {
                    return Err(StoreError::Conflict("import-list-changed"));
                }
                updates.push((*id, i));
            }
            None => fresh.push(i),
        }
    }
    Ok(Split { updates, fresh })
}

/// The distinct values a batch refers to in other tables, so a bulk writer can check each once
/// instead of a foreign-key check per row.
#[derive(Debug, Default)]
pub(crate) struct References {
    pub provinces: Vec<String>,
    pub counties: Vec<String>,
    /// Existing persons records join.
    pub persons: Vec<i64>,
}

impl References {
    pub(crate) fn of(records: &[NewSourceRecord], links: Option<&BatchLinks>) -> References {
        use std::collections::BTreeSet;
        let mut provinces: BTreeSet<&str> = BTreeSet::new();
        let mut counties: BTreeSet<&str> = BTreeSet::new();
        for r in records {
            provinces.extend(r.province_code.as_deref());
            counties.extend(r.county_code.as_deref());
        }
        let mut persons: BTreeSet<i64> = BTreeSet::new();
        if let Some(l) = links {
            for p in &l.new_persons {
                provinces.extend(p.province_code.as_deref());
                counties.extend(p.county_code.as_deref());
            }
            persons.extend(l.person_of.iter().filter_map(|p| match p {
                PersonRef::Existing(id) => Some(*id),
                _ => None,
            }));
        }
        References {
            provinces: provinces.into_iter().map(str::to_owned).collect(),
            counties: counties.into_iter().map(str::to_owned).collect(),
            persons: persons.into_iter().collect(),
        }
    }
}

/// The person id a new record is written with.
pub(crate) fn person_id_of(
    links: Option<&BatchLinks>,
    index: usize,
    first_person_id: i64,
) -> Option<i64> {
    match links.map(|l| l.person_of[index]) {
        Some(PersonRef::Existing(p)) => Some(p),
        Some(PersonRef::New(k)) => Some(first_person_id + i64::from(k)),
        _ => None,
    }
}

/// Writes a batch's accepted records and its problems in one transaction and marks it
/// committed. A record whose `source_id` the list already has is updated in place (keeping
/// its person); a new one is inserted.
pub async fn commit_batch(
    store: &Store,
    batch_id: i64,
    list_id: i64,
    records: &[NewSourceRecord],
    problems: &[Problem],
    counts: BatchCounts,
    on_progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<Written> {
    let input = BatchInput {
        records: records.to_vec(),
        problems: problems.to_vec(),
        links: None,
    };
    let (committed, _) =
        commit_linked_batch(store, batch_id, list_id, input, counts, on_progress).await?;
    // No job follows this commit (no linking, no summaries): it is the whole job.
    end_batch_job(store, batch_id).await?;
    Ok(committed.written)
}

/// A piece of a batch written while the file is still being read.
#[derive(Debug)]
pub enum BatchChunk {
    Rows {
        records: Vec<NewSourceRecord>,
        problems: Vec<Problem>,
    },
    /// The whole file's counts: the batch commits on this, and only if they add up.
    End(BatchCounts),
}

/// Writes a batch as its chunks arrive (bulk loads whose records are linked later): the write
/// overlaps the reading, and no more than a few chunks are held in memory. One transaction,
/// committed on [`BatchChunk::End`]; if the sender goes away first nothing is written. New
/// records are inserted, records the list already has are updated in place.
pub async fn commit_streamed_batch(
    store: &Store,
    batch_id: i64,
    list_id: i64,
    chunks: tokio::sync::mpsc::Receiver<BatchChunk>,
    on_progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<Written> {
    match store.engine() {
        Engine::Postgres => {
            copy::commit_stream(store, batch_id, list_id, chunks, on_progress).await
        }
        Engine::Sqlite => {
            sqlite_bulk::commit_stream(store.sqlite_path()?, batch_id, list_id, chunks, on_progress)
                .await
        }
    }
}

/// Creates persons and points records at them (`PersonRef::New(k)` is `persons[k]`), in one
/// transaction, with the bulk writers: linking the records of a bulk load afterwards. The id
/// of the first new person.
pub async fn assign_persons(
    store: &Store,
    persons: Vec<crate::persons::PersonDisplay>,
    assign: Vec<(i64, PersonRef)>,
) -> Result<i64> {
    match store.engine() {
        Engine::Postgres => copy::assign_persons(store, &persons, &assign).await,
        Engine::Sqlite => sqlite_bulk::assign_persons(store.sqlite_path()?, persons, assign).await,
    }
}

/// What a batch writes: its records, its per-row problems and, when linkage was decided
/// before the write, the persons of its new records. Handed back after the write.
#[derive(Debug, Default)]
pub struct BatchInput {
    pub records: Vec<NewSourceRecord>,
    pub problems: Vec<Problem>,
    pub links: Option<BatchLinks>,
}

/// [`commit_batch`] with the batch's persons: new records are written with their person and
/// the new persons in the same transaction. The input comes back with the outcome. The batch's
/// `finished_at` waits for the end of its job ([`end_batch_job`]).
pub async fn commit_linked_batch(
    store: &Store,
    batch_id: i64,
    list_id: i64,
    input: BatchInput,
    counts: BatchCounts,
    on_progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<(Committed, BatchInput)> {
    if counts.rows_in != counts.rows_accepted + counts.rows_rejected {
        return Err(StoreError::Invalid("import-counts-inconsistent"));
    }
    if store.engine() == Engine::Postgres {
        let committed =
            copy::commit_batch(store, batch_id, list_id, &input, counts, on_progress).await?;
        return Ok((committed, input));
    }
    sqlite_bulk::commit_batch(
        store.sqlite_path()?,
        batch_id,
        list_id,
        input,
        counts,
        on_progress,
    )
    .await
}

/// What linking the batch into the registry did.
pub async fn record_link_result(
    store: &Store,
    batch_id: i64,
    persons_created: i64,
    records_joined: i64,
    reviews_opened: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE import_batches SET persons_created = $2, records_joined = $3, reviews_opened = $4 \
         WHERE id = $1",
    )
    .bind(batch_id)
    .bind(persons_created)
    .bind(records_joined)
    .bind(reviews_opened)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Marks a batch failed with the reason (its records were never written), with its
/// `import.failed` audit entry in the same transaction when the batch writes its own. Only a
/// running batch: a committed one stays committed (and its audit entry says so).
pub async fn fail_batch(store: &Store, batch_id: i64, error: &str) -> Result<()> {
    let mut tx = store.begin().await?;
    let row = sqlx::query(
        "UPDATE import_batches SET status = 'failed', error = $2, finished_at = $3 \
         WHERE id = $1 AND status = 'running' \
         RETURNING audit_actor, (SELECT organisation_id FROM source_lists l WHERE l.id = list_id), list_id",
    )
    .bind(batch_id)
    .bind(error.to_owned())
    .bind(now_millis())
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(r) = row {
        let stored: Option<String> = r.get(0);
        let detail = serde_json::json!({
            "organisation": r.get::<Option<i64>, _>(1), "list": r.get::<i64, _>(2), "error": error,
        });
        if let Some(entry) =
            BatchAuditEntry::of(stored.as_deref(), "import.failed", batch_id, detail)
        {
            entry.write_any(&mut tx).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

pub async fn problems_of(store: &Store, batch_id: i64, limit: i64) -> Result<Vec<Problem>> {
    let rows = sqlx::query(
        "SELECT row_number, severity, code, detail FROM import_problems WHERE batch_id = $1 \
         ORDER BY row_number, id LIMIT $2",
    )
    .bind(batch_id)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Problem {
            row_number: r.get(0),
            severity: r.get(1),
            code: r.get(2),
            detail: r.get(3),
        })
        .collect())
}

/// The `source_id`s the list already has (a re-import updates those records in place).
pub async fn source_ids_of(
    store: &Store,
    list_id: i64,
) -> Result<std::collections::HashSet<String>> {
    let rows = sqlx::query("SELECT source_id FROM source_records WHERE list_id = $1")
        .bind(list_id)
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub async fn record_count(store: &Store, list_id: i64) -> Result<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM source_records WHERE list_id = $1")
            .bind(list_id)
            .fetch_one(store.pool())
            .await?
            .get(0),
    )
}

/// A batch with its list and organisation, for the imports page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchRow {
    pub batch: Batch,
    pub list_name: String,
    pub organisation_id: i64,
}

/// The newest batches of the organisations given (all when `None`).
pub async fn recent_batches(
    store: &Store,
    organisation: Option<i64>,
    limit: i64,
) -> Result<Vec<BatchRow>> {
    let sql = "SELECT b.*, l.name AS list_name, l.organisation_id AS org FROM import_batches b \
               JOIN source_lists l ON l.id = b.list_id \
               WHERE ($1 = 0 OR l.organisation_id = $1) ORDER BY b.id DESC LIMIT $2";
    let rows = sqlx::query(sql)
        .bind(organisation.unwrap_or(0))
        .bind(limit)
        .fetch_all(store.pool())
        .await?;
    Ok(rows
        .iter()
        .map(|r| BatchRow {
            batch: batch_from_row(r),
            list_name: r.get("list_name"),
            organisation_id: r.get("org"),
        })
        .collect())
}

/// A batch with the organisation it belongs to (for the access check).
pub async fn batch_with_org(store: &Store, id: i64) -> Result<Option<BatchRow>> {
    let row = sqlx::query(
        "SELECT b.*, l.name AS list_name, l.organisation_id AS org FROM import_batches b \
         JOIN source_lists l ON l.id = b.list_id WHERE b.id = $1",
    )
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|r| BatchRow {
        batch: batch_from_row(&r),
        list_name: r.get("list_name"),
        organisation_id: r.get("org"),
    }))
}

/// Batches whose household and support facts are still to be applied: those with records
/// not yet linked, and the committed, finished ones whose facts were never applied (they
/// failed, or the process stopped before them).
pub async fn batches_needing_facts(store: &Store) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT batch_id FROM source_records WHERE person_id IS NULL \
         UNION SELECT id FROM import_batches WHERE status = 'committed' \
         AND finished_at IS NOT NULL AND facts_applied_at IS NULL ORDER BY 1",
    )
    .fetch_all(store.pool())
    .await?)
}

/// How many problems of this severity each of the batches has.
pub async fn problem_counts(
    store: &Store,
    batches: &[i64],
    severity: &str,
) -> Result<std::collections::HashMap<i64, i64>> {
    if batches.is_empty() {
        return Ok(Default::default());
    }
    let ids: Vec<String> = batches.iter().map(i64::to_string).collect();
    // The ids are integers: no user text in the statement.
    let sql = format!(
        "SELECT batch_id, COUNT(*) FROM import_problems WHERE severity = $1 AND batch_id IN ({}) \
         GROUP BY batch_id",
        ids.join(",")
    );
    let rows: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(severity)
        .fetch_all(store.pool())
        .await?;
    Ok(rows.into_iter().collect())
}

/// The place a batch's lists may be read by: a province or a county.
#[derive(Debug, Clone, Copy)]
pub enum SurveyPlace<'a> {
    Province(&'a str),
    County(&'a str),
}

/// The newest imported batches (not hand entries) that are county surveys of the place or
/// were uploaded by the user, newest first.
pub async fn survey_batch_ids(
    store: &Store,
    place: SurveyPlace<'_>,
    survey_kind: &str,
    uploaded_by: i64,
    limit: i64,
) -> Result<Vec<i64>> {
    let (column, code) = match place {
        SurveyPlace::Province(code) => ("province_code", code),
        SurveyPlace::County(code) => ("county_code", code),
    };
    // `column` is one of two names above: no user text in the statement.
    let sql = format!(
        "SELECT b.id FROM import_batches b JOIN source_lists l ON l.id = b.list_id \
         WHERE b.file_format <> $1 AND ((l.list_kind = $2 AND l.county_code IS NOT NULL \
         AND l.{column} = $3) OR b.created_by = $4) ORDER BY b.id DESC LIMIT $5"
    );
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(crate::entry::MANUAL_FORMAT)
        .bind(survey_kind)
        .bind(code)
        .bind(uploaded_by)
        .bind(limit)
        .fetch_all(store.pool())
        .await?)
}

/// Who uploaded a batch and the kind and place of its list (for the access check).
#[derive(Debug, Clone)]
pub struct BatchOrigin {
    pub created_by: Option<i64>,
    pub list_kind: String,
    pub province_code: Option<String>,
    pub county_code: Option<String>,
}

pub async fn batch_origin(store: &Store, batch: i64) -> Result<Option<BatchOrigin>> {
    let Some(r) = sqlx::query(
        "SELECT b.created_by, l.list_kind, l.province_code, l.county_code \
         FROM import_batches b JOIN source_lists l ON l.id = b.list_id WHERE b.id = $1",
    )
    .bind(batch)
    .fetch_optional(store.pool())
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(BatchOrigin {
        created_by: r.try_get(0)?,
        list_kind: r.try_get(1)?,
        province_code: r.try_get(2)?,
        county_code: r.try_get(3)?,
    }))
}

/// The organisation's support programme of this name, created when it does not exist yet.
pub async fn ensure_programme(
    conn: &mut AnyConnection,
    organisation_id: i64,
    name_fa: &str,
    name_en: &str,
    support_kind: &str,
) -> Result<i64> {
    if let Some(row) =
        sqlx::query("SELECT id FROM programmes WHERE organisation_id = $1 AND name_fa = $2")
            .bind(organisation_id)
            .bind(name_fa.to_owned())
            .fetch_optional(&mut *conn)
            .await?
    {
        return Ok(row.get(0));
    }
    Ok(sqlx::query(
        "INSERT INTO programmes (organisation_id, name_fa, name_en, support_kind, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(organisation_id)
    .bind(name_fa.to_owned())
    .bind(name_en.to_owned())
    .bind(support_kind.to_owned())
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await?
    .get(0))
}

/// Files a list under a programme of its organisation.
pub async fn set_list_programme(
    conn: &mut AnyConnection,
    list_id: i64,
    programme_id: i64,
) -> Result<()> {
    sqlx::query("UPDATE source_lists SET programme_id = $2 WHERE id = $1")
        .bind(list_id)
        .bind(programme_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
