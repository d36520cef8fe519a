//! SQLite's way of writing a batch: prepared statements through rusqlite on a connection of
//! its own, one row per step, in one `BEGIN IMMEDIATE` transaction. sqlx's `Any` driver boxes
//! and copies every value several times over and builds a statement per chunk; for a million
//! rows of 27 columns that was most of an import's time. The same SQLite library underneath
//! (libsqlite3-sys is shared with sqlx), the same file, WAL mode: readers on the pool go on
//! reading the last committed state meanwhile. A killed import rolls the whole transaction
//! back: no partial batch.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::{Connection, Statement, TransactionBehavior};

use super::{
    AUDIT_INSERT, BULK_ROWS, BatchAuditEntry, BatchChunk, BatchCounts, BatchInput, BatchLinks,
    Committed, NewSourceRecord, PERSON_FIELDS, PersonRef, Problem, RECORD_FIELDS, References,
    Split, Value, Written, commit_detail, person_id_of, split_fresh,
};
use crate::persons::PersonDisplay;
use crate::{Result, StoreError, now_millis};

/// Runs a writer on a blocking thread, reporting the rows it has written to `on_progress`
/// meanwhile.
async fn on_blocking_thread<T: Send + 'static>(
    work: impl FnOnce(&AtomicU64) -> T + Send + 'static,
    on_progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<T> {
    let done = Arc::new(AtomicU64::new(0));
    let counter = done.clone();
    let mut task = tokio::task::spawn_blocking(move || work(&counter));
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            joined = &mut task => {
                on_progress(done.load(Ordering::Relaxed));
                return match joined {
                    Ok(v) => Ok(v),
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(_) => Err(StoreError::Invalid("import-interrupted")),
                };
            }
            _ = tick.tick() => on_progress(done.load(Ordering::Relaxed)),
        }
    }
}

/// Writes the batch (records, persons, problems) in one transaction.
pub(super) async fn commit_batch(
    path: PathBuf,
    batch_id: i64,
    list_id: i64,
    input: BatchInput,
    counts: BatchCounts,
    on_progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<(Committed, BatchInput)> {
    let (outcome, input) = on_blocking_thread(
        move |done| {
            let outcome = write(&path, batch_id, list_id, &input, counts, done);
            (outcome, input)
        },
        on_progress,
    )
    .await?;
    outcome.map(|c| (c, input))
}

/// Creates persons and points records at them (new or existing persons), in one transaction:
/// linking records a bulk load left without a person (`hamdeli relink`). The id of the first
/// new person.
pub(crate) async fn assign_persons(
    path: PathBuf,
    persons: Vec<PersonDisplay>,
    assign: Vec<(i64, PersonRef)>,
) -> Result<i64> {
    on_blocking_thread(
        move |_| write_assignments(&path, &persons, &assign),
        &|_| {},
    )
    .await?
}

fn write_assignments(
    path: &Path,
    persons: &[PersonDisplay],
    assign: &[(i64, PersonRef)],
) -> Result<i64> {
    let mut conn = open(path)?;
    // Every record's person checked as it is set (a lookup by primary key, cheap next to the
    // update itself).
    conn.execute_batch("PRAGMA foreign_keys = ON;")?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let first_person_id: i64 =
        tx.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM persons", [], |r| {
            r.get(0)
        })?;
    let now = now_millis();
    let person_indexes =
        if persons.len() >= BULK_ROWS && first_person_id - 1 <= persons.len() as i64 {
            drop_indexes(&tx, "persons")?
        } else {
            Vec::new()
        };
    insert_persons(&tx, first_person_id, persons, now)?;
    for sql in &person_indexes {
        tx.execute(sql, [])?;
    }
    // Only the indexes that hold the person change; many moves rebuild them by sorting.
    let record_indexes = if assign.len() >= BULK_ROWS {
        drop_indexes_on(&tx, "source_records", "person_id")?
    } else {
        Vec::new()
    };
    {
        let mut st = tx.prepare("UPDATE source_records SET person_id = ?2 WHERE id = ?1")?;
        for &(record, person) in assign {
            let person = match person {
                PersonRef::New(k) => first_person_id + i64::from(k),
                PersonRef::Existing(p) => p,
                PersonRef::Unlinked => continue,
            };
            st.raw_bind_parameter(1, record)?;
            st.raw_bind_parameter(2, person)?;
            st.raw_execute()?;
        }
    }
    for sql in &record_indexes {
        tx.execute(sql, [])?;
    }
    tx.commit()?;
    Ok(first_person_id)
}

/// Writes a batch as its chunks arrive, in one transaction.
pub(super) async fn commit_stream(
    path: PathBuf,
    batch_id: i64,
    list_id: i64,
    mut chunks: tokio::sync::mpsc::Receiver<BatchChunk>,
    on_progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<Written> {
    on_blocking_thread(
        move |done| write_stream(&path, batch_id, list_id, &mut chunks, done),
        on_progress,
    )
    .await?
}

/// Binds a record's [`RECORD_FIELDS`] from parameter `first` on.
fn bind_record(
    st: &mut Statement<'_>,
    first: usize,
    r: &NewSourceRecord,
    batch_id: i64,
) -> rusqlite::Result<()> {
    for (k, v) in r.values(batch_id).into_iter().enumerate() {
        match v {
            Value::Text(t) => st.raw_bind_parameter(first + k, t)?,
            Value::Int(n) => st.raw_bind_parameter(first + k, n)?,
        }
    }
    Ok(())
}

/// `?a, ?a+1, …` for `n` parameters.
fn numbered(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Drops the table's secondary indexes and returns the statements that make them again: a
/// bulk load sorts once per index instead of a million random B-tree inserts. Inside the
/// transaction, so a failed batch leaves them as they were.
fn drop_indexes(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    drop_indexes_on(conn, table, "")
}

/// [`drop_indexes`] for the indexes whose definition mentions `column` (all when empty).
fn drop_indexes_on(conn: &Connection, table: &str, column: &str) -> rusqlite::Result<Vec<String>> {
    let indexes: Vec<(String, String)> = conn
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 \
             AND sql IS NOT NULL AND instr(sql, ?2) > 0 ORDER BY name",
        )?
        .query_map([table, column], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (name, _) in &indexes {
        conn.execute(&format!("DROP INDEX \"{name}\""), [])?;
    }
    Ok(indexes.into_iter().map(|(_, sql)| sql).collect())
}

/// The references a batch writes, checked once per distinct value instead of once per row:
/// the bulk connection runs without per-row foreign-key checks (they were half the cost of
/// writing a row), so this is what stands between a batch and a dangling reference.
fn check_references(
    conn: &Connection,
    list_id: i64,
    batch_id: i64,
    records: &[NewSourceRecord],
    links: Option<&super::BatchLinks>,
) -> Result<()> {
    let refs = References::of(records, links);
    let all_exist = |sql: &str, keys: Vec<&dyn rusqlite::ToSql>| -> rusqlite::Result<bool> {
        let mut st = conn.prepare(sql)?;
        for key in keys {
            if !st.exists([key])? {
                return Ok(false);
            }
        }
        Ok(true)
    };
    let all_there = all_exist("SELECT 1 FROM source_lists WHERE id = ?1", vec![&list_id])?
        && all_exist(
            "SELECT 1 FROM import_batches WHERE id = ?1",
            vec![&batch_id],
        )?
        && all_exist(
            "SELECT 1 FROM provinces WHERE code = ?1",
            refs.provinces
                .iter()
                .map(|c| c as &dyn rusqlite::ToSql)
                .collect(),
        )?
        && all_exist(
            "SELECT 1 FROM counties WHERE code = ?1",
            refs.counties
                .iter()
                .map(|c| c as &dyn rusqlite::ToSql)
                .collect(),
        )?
        && all_exist(
            "SELECT 1 FROM persons WHERE id = ?1",
            refs.persons
                .iter()
                .map(|p| p as &dyn rusqlite::ToSql)
                .collect(),
        )?;
    if all_there {
        Ok(())
    } else {
        Err(StoreError::Invalid("import-unknown-reference"))
    }
}

fn insert_persons(
    conn: &Connection,
    first_id: i64,
    persons: &[PersonDisplay],
    now: i64,
) -> rusqlite::Result<()> {
    let mut st = conn.prepare(&format!(
        "INSERT INTO persons (id, created_at, updated_at, {PERSON_FIELDS}) \
             VALUES (?1, ?2, ?2, {})",
        numbered(3, 9)
    ))?;
    for (k, p) in persons.iter().enumerate() {
        st.raw_bind_parameter(1, first_id + k as i64)?;
        st.raw_bind_parameter(2, now)?;
        for (j, v) in p.values().into_iter().enumerate() {
            st.raw_bind_parameter(3 + j, v)?;
        }
        st.raw_execute()?;
    }
    Ok(())
}

/// Opens the bulk connection: a page cache that holds the indexes the batch grows (or SQLite
/// spills dirty pages to the WAL again and again within the one transaction), helper threads
/// for the index sorts, and references checked per distinct value ([`check_references`])
/// instead of a foreign-key check per row.
fn open(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(crate::SQLITE_BUSY_TIMEOUT)?;
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF; PRAGMA synchronous = NORMAL; \
         PRAGMA cache_size = -524288; PRAGMA temp_store = MEMORY; PRAGMA threads = 4;",
    )?;
    Ok(conn)
}

/// One batch's transaction on the bulk connection.
struct BatchWriter<'c> {
    tx: rusqlite::Transaction<'c>,
    list_id: i64,
    batch_id: i64,
    now: i64,
    /// The list's records before the batch: `source_id` to id.
    existing: HashMap<String, i64>,
    next_record_id: i64,
    /// Rows in `source_records` before the batch (ids are handed out densely).
    rows_before: i64,
    written: Written,
    /// Secondary indexes taken off for a bulk load, to build again before commit.
    dropped_indexes: Vec<String>,
    done: &'c AtomicU64,
}

impl<'c> BatchWriter<'c> {
    fn begin(
        conn: &'c mut Connection,
        list_id: i64,
        batch_id: i64,
        done: &'c AtomicU64,
    ) -> Result<BatchWriter<'c>> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing: HashMap<String, i64> = tx
            .prepare("SELECT source_id, id FROM source_records WHERE list_id = ?1")?
            .query_map([list_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let next_record_id: i64 = tx.query_row(
            "SELECT COALESCE(MAX(id), 0) + 1 FROM source_records",
            [],
            |r| r.get(0),
        )?;
        Ok(BatchWriter {
            tx,
            list_id,
            batch_id,
            now: now_millis(),
            existing,
            rows_before: next_record_id - 1,
            next_record_id,
            written: Written::default(),
            dropped_indexes: Vec::new(),
            done,
        })
    }

    /// Inserts the batch's new persons; the id of the first.
    fn persons(&self, new_persons: &[PersonDisplay]) -> Result<i64> {
        let first_person_id: i64 =
            self.tx
                .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM persons", [], |r| {
                    r.get(0)
                })?;
        let rebuild =
            new_persons.len() >= BULK_ROWS && first_person_id - 1 <= new_persons.len() as i64;
        let indexes = if rebuild {
            drop_indexes(&self.tx, "persons")?
        } else {
            Vec::new()
        };
        insert_persons(&self.tx, first_person_id, new_persons, self.now)?;
        for sql in &indexes {
            self.tx.execute(sql, [])?;
        }
        Ok(first_person_id)
    }

    /// Takes the secondary indexes of `source_records` off until [`BatchWriter::commit`]: a
    /// bulk load sorts once per index instead of a million random B-tree inserts.
    fn drop_record_indexes(&mut self) -> Result<()> {
        if self.dropped_indexes.is_empty() {
            self.dropped_indexes = drop_indexes(&self.tx, "source_records")?;
        }
        Ok(())
    }

    /// Writes records: those the list already has are updated in place (keeping id and
    /// person), new ones are inserted with their person. Fills `record_ids` (batch order).
    fn records(
        &mut self,
        records: &[NewSourceRecord],
        links: Option<&BatchLinks>,
        first_person_id: i64,
        record_ids: &mut [i64],
    ) -> Result<()> {
        let Split { updates, fresh } = split_fresh(records, &self.existing, links)?;
        check_references(&self.tx, self.list_id, self.batch_id, records, links)?;
        if !updates.is_empty() {
            let assignments: Vec<String> = RECORD_FIELDS
                .iter()
                .enumerate()
                .map(|(i, f)| format!("{f} = ?{}", i + 3))
                .collect();
            let mut st = self.tx.prepare(&format!(
                "UPDATE source_records SET imported_at = ?2, {} WHERE id = ?1",
                assignments.join(", ")
            ))?;
            for &(id, i) in &updates {
                st.raw_bind_parameter(1, id)?;
                st.raw_bind_parameter(2, self.now)?;
                bind_record(&mut st, 3, &records[i], self.batch_id)?;
                st.raw_execute()?;
                record_ids[i] = id;
                self.written.updated += 1;
            }
        }
        let mut st = self.tx.prepare(&format!(
            "INSERT INTO source_records (id, list_id, source_id, imported_at, person_id, {}) \
             VALUES ({})",
            RECORD_FIELDS.join(", "),
            numbered(1, RECORD_FIELDS.len() + 5)
        ))?;
        st.raw_bind_parameter(2, self.list_id)?;
        st.raw_bind_parameter(4, self.now)?;
        for (k, &i) in fresh.iter().enumerate() {
            let r = &records[i];
            let id = self.next_record_id;
            st.raw_bind_parameter(1, id)?;
            st.raw_bind_parameter(3, r.source_id.as_str())?;
            st.raw_bind_parameter(5, person_id_of(links, i, first_person_id))?;
            bind_record(&mut st, 6, r, self.batch_id)?;
            st.raw_execute()?;
            // A later chunk repeating this source_id is an update (the reader refuses
            // duplicates within a file; this keeps the writer right without it).
            self.existing.insert(r.source_id.clone(), id);
            record_ids[i] = id;
            self.next_record_id += 1;
            self.written.inserted += 1;
            if k % 1024 == 1023 {
                self.done.store(
                    (self.written.inserted + self.written.updated) as u64,
                    Ordering::Relaxed,
                );
            }
        }
        self.done.store(
            (self.written.inserted + self.written.updated) as u64,
            Ordering::Relaxed,
        );
        Ok(())
    }

    /// Builds the indexes again, writes the per-row problems, marks the batch committed and
    /// commits.
    fn commit(self, problems: &[Problem], counts: BatchCounts) -> Result<Written> {
        let started = std::time::Instant::now();
        for sql in &self.dropped_indexes {
            self.tx.execute(sql, [])?;
        }
        let indexed = started.elapsed();
        {
            let mut st = self.tx.prepare(
                "INSERT INTO import_problems (batch_id, row_number, severity, code, detail) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            st.raw_bind_parameter(1, self.batch_id)?;
            for p in problems {
                st.raw_bind_parameter(2, p.row_number)?;
                st.raw_bind_parameter(3, p.severity.as_str())?;
                st.raw_bind_parameter(4, p.code.as_str())?;
                st.raw_bind_parameter(5, p.detail.as_str())?;
                st.raw_execute()?;
            }
        }
        let written = self.written;
        if counts.rows_accepted != written.inserted + written.updated {
            return Err(StoreError::Invalid("import-counts-inconsistent"));
        }
        // Only a running batch commits: one a sweep marked interrupted meanwhile (its owner
        // looked gone) stays failed, and its records roll back with this transaction.
        let marked = self.tx.execute(
            "UPDATE import_batches SET status = 'committed', rows_in = ?2, rows_accepted = ?3, \
             rows_with_warnings = ?4, rows_rejected = ?5, rows_inserted = ?6, rows_updated = ?7 \
             WHERE id = ?1 AND status = 'running'",
            rusqlite::params![
                self.batch_id,
                counts.rows_in,
                counts.rows_accepted,
                counts.rows_with_warnings,
                counts.rows_rejected,
                written.inserted,
                written.updated
            ],
        )?;
        if marked != 1 {
            return Err(StoreError::Conflict("import-batch-not-running"));
        }
        self.audit_commit(counts, written)?;
        self.tx.commit()?;
        tracing::debug!(
            index_s = indexed.as_secs_f64(),
            commit_s = (started.elapsed() - indexed).as_secs_f64(),
            "sqlite batch committed"
        );
        Ok(written)
    }
}

impl BatchWriter<'_> {
    /// The batch's `import.commit` audit entry, in its transaction, when it writes its own.
    fn audit_commit(&self, counts: BatchCounts, written: Written) -> Result<()> {
        let (stored, organisation): (Option<String>, i64) = self.tx.query_row(
            "SELECT b.audit_actor, l.organisation_id FROM import_batches b \
             JOIN source_lists l ON l.id = b.list_id WHERE b.id = ?1",
            [self.batch_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let detail = commit_detail(organisation, self.list_id, counts, written);
        if let Some(e) =
            BatchAuditEntry::of(stored.as_deref(), "import.commit", self.batch_id, detail)
        {
            self.tx.execute(
                AUDIT_INSERT,
                rusqlite::params![
                    e.at,
                    e.actor.user_id,
                    e.actor.api_key_id,
                    e.actor.actor,
                    e.action,
                    "import_batch",
                    e.batch_id.to_string(),
                    e.actor.scope,
                    e.actor.client_addr,
                    e.detail
                ],
            )?;
        }
        Ok(())
    }
}

fn write(
    path: &Path,
    batch_id: i64,
    list_id: i64,
    input: &BatchInput,
    counts: BatchCounts,
    done: &AtomicU64,
) -> Result<Committed> {
    let records = &input.records;
    let links = input.links.as_ref();
    let mut conn = open(path)?;
    let mut w = BatchWriter::begin(&mut conn, list_id, batch_id, done)?;
    let first_person_id = w.persons(links.map(|l| l.new_persons.as_slice()).unwrap_or(&[]))?;
    let fresh = records
        .iter()
        .filter(|r| !w.existing.contains_key(&r.source_id))
        .count() as i64;
    if fresh >= BULK_ROWS as i64 && w.rows_before <= fresh {
        w.drop_record_indexes()?;
    }
    let mut record_ids = vec![0i64; records.len()];
    w.records(records, links, first_person_id, &mut record_ids)?;
    let written = w.commit(&input.problems, counts)?;
    Ok(Committed {
        written,
        record_ids,
        first_person_id,
    })
}

/// Writes a batch as its chunks arrive (the file is still being read), in one transaction that
/// commits on [`BatchChunk::End`]; a closed channel without it rolls everything back.
fn write_stream(
    path: &Path,
    batch_id: i64,
    list_id: i64,
    chunks: &mut tokio::sync::mpsc::Receiver<BatchChunk>,
    done: &AtomicU64,
) -> Result<Written> {
    let mut conn = open(path)?;
    let mut w = BatchWriter::begin(&mut conn, list_id, batch_id, done)?;
    // How many rows are coming is not known yet: rebuilding the indexes of a small table is
    // cheap whatever the batch, so a small table gets the bulk path.
    if w.rows_before <= BULK_ROWS as i64 {
        w.drop_record_indexes()?;
    }
    let mut problems = Vec::new();
    loop {
        match chunks.blocking_recv() {
            Some(BatchChunk::Rows {
                records,
                problems: more,
            }) => {
                let mut ids = vec![0i64; records.len()];
                w.records(&records, None, 0, &mut ids)?;
                problems.extend(more);
            }
            Some(BatchChunk::End(counts)) => return w.commit(&problems, counts),
            None => return Err(StoreError::Invalid("import-interrupted")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_parameters() {
        assert_eq!(numbered(3, 3), "?3, ?4, ?5");
    }
}
