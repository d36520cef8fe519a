//! PostgreSQL's way of writing a batch: `COPY … FROM STDIN` on a connection of its own, in
//! one transaction like the portable path. New records stream straight into `source_records`;
//! records the list already has stream into a temporary table and update in one statement.
//! A killed import rolls the whole transaction back: no partial batch.

use std::collections::HashMap;

use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Connection, Row};

use super::{
    BatchChunk, BatchCounts, BatchInput, Committed, NewSourceRecord, PERSON_FIELDS, PersonRef,
    Problem, RECORD_FIELDS, References, Split, Value, Written, person_id_of, split_fresh,
};
use crate::persons::PersonDisplay;
use crate::{Result, Store, now_millis};

/// Bytes of COPY text per message to the server.
const SEND_BYTES: usize = 1 << 20;

/// A text value in COPY's text format (`\N` for NULL; backslash, tab, newline, CR escaped).
fn put_text(buf: &mut String, v: Option<&str>) {
    let Some(s) = v else {
        buf.push_str("\\N");
        return;
    };
    if !s
        .bytes()
        .any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
    {
        buf.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\\' => buf.push_str("\\\\"),
            '\t' => buf.push_str("\\t"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            c => buf.push(c),
        }
    }
}

fn put_int(buf: &mut String, v: Option<i64>) {
    use std::fmt::Write;
    match v {
        Some(n) => {
            let _ = write!(buf, "{n}");
        }
        None => buf.push_str("\\N"),
    }
}

/// The record's columns in [`RECORD_FIELDS`] order, tab-separated, ending the line.
fn put_record(buf: &mut String, r: &NewSourceRecord, batch_id: i64) {
    for (i, v) in r.values(batch_id).into_iter().enumerate() {
        if i > 0 {
            buf.push('\t');
        }
        match v {
            Value::Text(t) => put_text(buf, t),
            Value::Int(n) => put_int(buf, n),
        }
    }
    buf.push('\n');
}

/// Streams `items` through a `COPY … FROM STDIN` statement, one line each; the rows written.
async fn copy_in<T>(
    conn: &mut PgConnection,
    statement: &str,
    items: &[T],
    mut line: impl FnMut(&mut String, &T),
    mut progress: impl FnMut(usize),
) -> Result<u64> {
    let mut copy = conn.copy_in_raw(statement).await?;
    let mut buf = String::with_capacity(SEND_BYTES + 64 * 1024);
    for (i, item) in items.iter().enumerate() {
        line(&mut buf, item);
        if buf.len() >= SEND_BYTES {
            copy.send(buf.as_bytes()).await?;
            buf.clear();
            progress(i + 1);
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_bytes()).await?;
    }
    Ok(copy.finish().await?)
}

/// Refuses a batch that refers to a list, batch, place or person that does not exist: checked
/// once per distinct value, because the bulk path puts the foreign keys back without scanning
/// a million rows to validate them (`NOT VALID`; they hold for every later write).
async fn check_references(
    conn: &mut PgConnection,
    list_id: i64,
    batch_id: i64,
    refs: &References,
) -> Result<()> {
    let found: (i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM source_lists WHERE id = $1), \
         (SELECT COUNT(*) FROM import_batches WHERE id = $2), \
         (SELECT COUNT(*) FROM provinces WHERE code = ANY($3)), \
         (SELECT COUNT(*) FROM counties WHERE code = ANY($4)), \
         (SELECT COUNT(*) FROM persons WHERE id = ANY($5))",
    )
    .bind(list_id)
    .bind(batch_id)
    .bind(&refs.provinces)
    .bind(&refs.counties)
    .bind(&refs.persons)
    .fetch_one(&mut *conn)
    .await?;
    let wanted = (
        1,
        1,
        refs.provinces.len() as i64,
        refs.counties.len() as i64,
        refs.persons.len() as i64,
    );
    if found == wanted {
        Ok(())
    } else {
        Err(crate::StoreError::Invalid("import-unknown-reference"))
    }
}

/// Drops the table's foreign keys and the indexes that back no constraint, returning the
/// statements that make them again (the keys `NOT VALID`: see [`check_references`]).
async fn drop_indexes_and_keys(conn: &mut PgConnection, table: &str) -> Result<Vec<String>> {
    let foreign_keys: Vec<(String, String)> = sqlx::query(
        "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE conrelid = $1::regclass AND contype = 'f' ORDER BY conname",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    // Indexes that back no constraint (the primary key and UNIQUE stay).
    let indexes: Vec<(String, String)> = sqlx::query(
        "SELECT c.relname::text, pg_get_indexdef(i.indexrelid) FROM pg_index i \
         JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE i.indrelid = $1::regclass \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) \
         ORDER BY c.relname",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    let mut rebuilds = Vec::new();
    for (name, def) in &foreign_keys {
        sqlx::query(AssertSqlSafe(format!(
            "ALTER TABLE {table} DROP CONSTRAINT \"{name}\""
        )))
        .execute(&mut *conn)
        .await?;
        // A key an earlier bulk load put back already reads "… NOT VALID".
        let def = def.trim_end_matches(" NOT VALID");
        rebuilds.push(format!(
            "ALTER TABLE {table} ADD CONSTRAINT \"{name}\" {def} NOT VALID"
        ));
    }
    for (name, def) in indexes {
        sqlx::query(AssertSqlSafe(format!("DROP INDEX \"{name}\"")))
            .execute(&mut *conn)
            .await?;
        rebuilds.push(def);
    }
    Ok(rebuilds)
}

fn put_person(buf: &mut String, id: i64, now: i64, p: &PersonDisplay) {
    put_int(buf, Some(id));
    buf.push('\t');
    put_int(buf, Some(now));
    buf.push('\t');
    put_int(buf, Some(now));
    for v in p.values() {
        buf.push('\t');
        put_text(buf, v);
    }
    buf.push('\n');
}

pub(super) async fn commit_batch(
    store: &Store,
    batch_id: i64,
    list_id: i64,
    input: &BatchInput,
    counts: BatchCounts,
    on_progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<Committed> {
    let records = &input.records;
    let links = input.links.as_ref();
    let started = std::time::Instant::now();
    let mut laps: Vec<(&str, f64)> = Vec::new();
    let mut lap = |name| laps.push((name, started.elapsed().as_secs_f64()));
    let mut conn = store.pg_connection().await?;
    let mut tx = conn.begin().await?;
    // Ids are handed out here (so records go in with their person in one COPY): no other
    // writer may take ids meanwhile. Readers go on.
    sqlx::query("LOCK TABLE source_records, persons IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let existing = list_records(&mut tx, list_id).await?;
    let Split { updates, fresh } = split_fresh(records, &existing, links)?;
    check_references(&mut tx, list_id, batch_id, &References::of(records, links)).await?;
    let first_record_id: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 FROM source_records")
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    let first_person_id: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 FROM persons")
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    let now = now_millis();
    let new_persons = links.map(|l| l.new_persons.as_slice()).unwrap_or(&[]);
    copy_persons(&mut tx, first_person_id, now, new_persons).await?;
    lap("persons");
    let mut record_ids = vec![0i64; records.len()];
    let updates: Vec<(i64, &NewSourceRecord)> = updates
        .iter()
        .map(|&(id, i)| {
            record_ids[i] = id;
            (id, &records[i])
        })
        .collect();
    let fresh: Vec<(i64, usize)> = fresh
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let id = first_record_id + k as i64;
            record_ids[i] = id;
            (id, i)
        })
        .collect();
    let mut written = Written {
        updated: update_existing(&mut tx, list_id, batch_id, now, &updates, on_progress).await?,
        ..Default::default()
    };
    let updated = written.updated as u64;
    // A bulk load into a table no larger than itself: take off the secondary indexes and the
    // foreign keys, stream the rows, then build and check them again in bulk (PostgreSQL's
    // "populating a database" advice: per-row index inserts and foreign-key triggers cost
    // several times the COPY itself). Inside the transaction: a killed import restores them
    // with everything else. The table is locked against readers until the batch commits.
    let rebuild = fresh.len() >= super::BULK_ROWS && first_record_id - 1 <= fresh.len() as i64;
    let rebuilds = if rebuild {
        drop_for_bulk(&mut tx).await?
    } else {
        Vec::new()
    };
    written.inserted = copy_in(
        &mut tx,
        &copy_records_into("source_records"),
        &fresh,
        |buf, &(id, i)| {
            let person = person_id_of(links, i, first_person_id);
            put_new_record(buf, id, list_id, now, person, &records[i], batch_id);
        },
        |n| on_progress(updated + n as u64),
    )
    .await? as i64;
    if written.inserted > 0 {
        follow_record_ids(&mut tx).await?;
    }
    on_progress((written.updated + written.inserted) as u64);
    lap("records");
    for sql in rebuilds {
        sqlx::query(AssertSqlSafe(sql.clone()))
            .execute(&mut *tx)
            .await?;
        lap(if sql.starts_with("ALTER") {
            "key"
        } else {
            "index"
        });
    }
    mark_committed(&mut tx, batch_id, &input.problems, counts, written).await?;
    lap("problems");
    tx.commit().await?;
    lap("commit");
    // Committed: a failure to say goodbye must not report the batch as failed.
    if rebuild || new_persons.len() >= super::BULK_ROWS {
        analyze_after_bulk(&mut conn).await;
    }
    lap("analyze");
    tracing::debug!("postgres batch write: {laps:?}");
    let _ = conn.close().await;
    Ok(Committed {
        written,
        record_ids,
        first_person_id,
    })
}

/// The list's records: `source_id` to id.
async fn list_records(conn: &mut PgConnection, list_id: i64) -> Result<HashMap<String, i64>> {
    Ok(
        sqlx::query("SELECT source_id, id FROM source_records WHERE list_id = $1")
            .bind(list_id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
            .collect(),
    )
}

/// `COPY` of records with their ids and persons into `table` (lines by [`put_new_record`]).
fn copy_records_into(table: &str) -> String {
    format!(
        "COPY {table} (id, list_id, source_id, imported_at, person_id, {}) FROM STDIN",
        RECORD_FIELDS.join(", ")
    )
}

fn put_new_record(
    buf: &mut String,
    id: i64,
    list_id: i64,
    now: i64,
    person: Option<i64>,
    r: &NewSourceRecord,
    batch_id: i64,
) {
    put_int(buf, Some(id));
    buf.push('\t');
    put_int(buf, Some(list_id));
    buf.push('\t');
    put_text(buf, Some(&r.source_id));
    buf.push('\t');
    put_int(buf, Some(now));
    buf.push('\t');
    put_int(buf, person);
    buf.push('\t');
    put_record(buf, r, batch_id);
}

/// The id sequence of `source_records` past the ids a batch handed out itself.
async fn follow_record_ids(conn: &mut PgConnection) -> Result<()> {
    sqlx::query(
        "SELECT setval(pg_get_serial_sequence('source_records', 'id'), \
         (SELECT MAX(id) FROM source_records))",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records the list already has keep their id (and person): staged, then one UPDATE. The
/// rows updated.
async fn update_existing(
    conn: &mut PgConnection,
    list_id: i64,
    batch_id: i64,
    now: i64,
    updates: &[(i64, &NewSourceRecord)],
    on_progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<i64> {
    if updates.is_empty() {
        return Ok(0);
    }
    // With the defaults: a column the COPY does not carry (`code_borrowed`) is NOT NULL.
    sqlx::query(
        "CREATE TEMPORARY TABLE import_stage (LIKE source_records INCLUDING DEFAULTS) \
         ON COMMIT DROP",
    )
    .execute(&mut *conn)
    .await?;
    // The staged person is never read: the UPDATE below leaves each record's person alone.
    copy_in(
        &mut *conn,
        &copy_records_into("import_stage"),
        updates,
        |buf, (id, r)| put_new_record(buf, *id, list_id, now, None, r, batch_id),
        |n| on_progress(n as u64),
    )
    .await?;
    let assignments: Vec<String> = RECORD_FIELDS
        .iter()
        .map(|f| format!("{f} = st.{f}"))
        .collect();
    let done = sqlx::query(AssertSqlSafe(format!(
        "UPDATE source_records s SET imported_at = st.imported_at, {} \
         FROM import_stage st WHERE s.id = st.id",
        assignments.join(", ")
    )))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() as i64)
}

/// Takes the secondary indexes and foreign keys of `source_records` off for a bulk load; the
/// statements that put them back.
async fn drop_for_bulk(conn: &mut PgConnection) -> Result<Vec<String>> {
    sqlx::query("SET LOCAL maintenance_work_mem = '256MB'")
        .execute(&mut *conn)
        .await?;
    drop_indexes_and_keys(conn, "source_records").await
}

/// Writes the per-row problems and marks the batch committed (the caller commits).
async fn mark_committed(
    conn: &mut PgConnection,
    batch_id: i64,
    problems: &[Problem],
    counts: BatchCounts,
    written: Written,
) -> Result<()> {
    if counts.rows_accepted != written.inserted + written.updated {
        return Err(crate::StoreError::Invalid("import-counts-inconsistent"));
    }
    copy_in(
        &mut *conn,
        "COPY import_problems (batch_id, row_number, severity, code, detail) FROM STDIN",
        problems,
        |buf, p| {
            put_int(buf, Some(batch_id));
            buf.push('\t');
            put_int(buf, Some(p.row_number));
            buf.push('\t');
            put_text(buf, Some(&p.severity));
            buf.push('\t');
            put_text(buf, Some(&p.code));
            buf.push('\t');
            put_text(buf, Some(&p.detail));
            buf.push('\n');
        },
        |_| {},
    )
    .await?;
    // Only a running batch commits: one a sweep marked interrupted meanwhile (its owner looked
    // gone) stays failed, and its records roll back with this transaction.
    let marked = sqlx::query(
        "UPDATE import_batches SET status = 'committed', rows_in = $2, rows_accepted = $3, \
         rows_with_warnings = $4, rows_rejected = $5, rows_inserted = $6, rows_updated = $7 \
         WHERE id = $1 AND status = 'running'",
    )
    .bind(batch_id)
    .bind(counts.rows_in)
    .bind(counts.rows_accepted)
    .bind(counts.rows_with_warnings)
    .bind(counts.rows_rejected)
    .bind(written.inserted)
    .bind(written.updated)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if marked != 1 {
        return Err(crate::StoreError::Conflict("import-batch-not-running"));
    }
    // The batch's `import.commit` audit entry, in its transaction, when it writes its own.
    let row = sqlx::query(
        "SELECT b.audit_actor, l.organisation_id, b.list_id FROM import_batches b \
         JOIN source_lists l ON l.id = b.list_id WHERE b.id = $1",
    )
    .bind(batch_id)
    .fetch_one(&mut *conn)
    .await?;
    let stored: Option<String> = row.get(0);
    let detail = super::commit_detail(row.get(1), row.get(2), counts, written);
    if let Some(e) =
        super::BatchAuditEntry::of(stored.as_deref(), "import.commit", batch_id, detail)
    {
        sqlx::query(super::AUDIT_INSERT)
            .bind(e.at)
            .bind(e.actor.user_id)
            .bind(e.actor.api_key_id)
            .bind(e.actor.actor)
            .bind(e.action)
            .bind("import_batch")
            .bind(e.batch_id.to_string())
            .bind(e.actor.scope)
            .bind(e.actor.client_addr)
            .bind(e.detail)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Statistics for a bulk load's new rows, so the planner does not plan searches for an empty
/// table (after commit; best effort).
async fn analyze_after_bulk(conn: &mut PgConnection) {
    if let Err(e) = sqlx::query("ANALYZE source_records, persons")
        .execute(&mut *conn)
        .await
    {
        tracing::warn!("analyze after a bulk import failed: {e}");
    }
}

/// New persons with the ids from `first_id` on (a bulk load into a small table rebuilds the
/// table's indexes and keys after), and the id sequence past them.
async fn copy_persons(
    conn: &mut PgConnection,
    first_id: i64,
    now: i64,
    persons: &[PersonDisplay],
) -> Result<()> {
    if persons.is_empty() {
        return Ok(());
    }
    let rebuild = persons.len() >= super::BULK_ROWS && first_id - 1 <= persons.len() as i64;
    let rebuilds = if rebuild {
        sqlx::query("SET LOCAL maintenance_work_mem = '256MB'")
            .execute(&mut *conn)
            .await?;
        drop_indexes_and_keys(conn, "persons").await?
    } else {
        Vec::new()
    };
    let numbered: Vec<(i64, &PersonDisplay)> = persons
        .iter()
        .enumerate()
        .map(|(k, p)| (first_id + k as i64, p))
        .collect();
    copy_in(
        &mut *conn,
        &format!("COPY persons (id, created_at, updated_at, {PERSON_FIELDS}) FROM STDIN"),
        &numbered,
        |buf, (id, p)| put_person(buf, *id, now, p),
        |_| {},
    )
    .await?;
    for sql in rebuilds {
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await?;
    }
    sqlx::query(
        "SELECT setval(pg_get_serial_sequence('persons', 'id'), (SELECT MAX(id) FROM persons))",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Creates persons and points records at them (new or existing persons), in one transaction:
/// linking records a bulk load left without a person (`hamdeli relink`). Assignments are
/// staged with COPY and applied by one `UPDATE … FROM`; many of them take the secondary
/// indexes and keys of `source_records` off meanwhile (every updated row would otherwise get
/// a new entry in each). The id of the first new person.
pub(crate) async fn assign_persons(
    store: &Store,
    persons: &[PersonDisplay],
    assign: &[(i64, PersonRef)],
) -> Result<i64> {
    let mut conn = store.pg_connection().await?;
    let mut tx = conn.begin().await?;
    sqlx::query("LOCK TABLE source_records, persons IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let first_person_id: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 FROM persons")
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    copy_persons(&mut tx, first_person_id, now_millis(), persons).await?;
    let pairs: Vec<(i64, i64)> = assign
        .iter()
        .filter_map(|&(record, person)| match person {
            PersonRef::New(k) => Some((record, first_person_id + i64::from(k))),
            PersonRef::Existing(p) => Some((record, p)),
            PersonRef::Unlinked => None,
        })
        .collect();
    let existing: Vec<i64> = assign
        .iter()
        .filter_map(|(_, p)| match p {
            PersonRef::Existing(p) => Some(*p),
            _ => None,
        })
        .collect::<std::collections::BTreeSet<i64>>()
        .into_iter()
        .collect();
    let found: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM persons WHERE id = ANY($1)")
        .bind(&existing)
        .fetch_one(&mut *tx)
        .await?;
    if found != existing.len() as i64 {
        return Err(crate::StoreError::Invalid("import-unknown-reference"));
    }
    sqlx::query("CREATE TEMPORARY TABLE relink_assign (k BIGINT, v BIGINT) ON COMMIT DROP")
        .execute(&mut *tx)
        .await?;
    copy_in(
        &mut tx,
        "COPY relink_assign (k, v) FROM STDIN",
        &pairs,
        |buf, (k, v)| {
            put_int(buf, Some(*k));
            buf.push('\t');
            put_int(buf, Some(*v));
            buf.push('\n');
        },
        |_| {},
    )
    .await?;
    let rebuilds = if pairs.len() >= super::BULK_ROWS {
        drop_for_bulk(&mut tx).await?
    } else {
        Vec::new()
    };
    sqlx::query(
        "UPDATE source_records s SET person_id = a.v FROM relink_assign a WHERE s.id = a.k",
    )
    .execute(&mut *tx)
    .await?;
    for sql in rebuilds {
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    let _ = conn.close().await;
    Ok(first_person_id)
}

/// Streams a batch into `source_records` as its chunks arrive, in one transaction: new records
/// go through one `COPY` that stays open while the file is read; records the list already has
/// are staged and updated after it. References are checked once per distinct value at the end.
pub(super) async fn commit_stream(
    store: &Store,
    batch_id: i64,
    list_id: i64,
    mut chunks: tokio::sync::mpsc::Receiver<BatchChunk>,
    on_progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<Written> {
    let mut conn = store.pg_connection().await?;
    let mut tx = conn.begin().await?;
    sqlx::query("LOCK TABLE source_records IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let mut existing = list_records(&mut tx, list_id).await?;
    let mut next_id: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) + 1 FROM source_records")
        .fetch_one(&mut *tx)
        .await?
        .get(0);
    // How many rows are coming is not known yet: rebuilding the indexes of a small table is
    // cheap whatever the batch, so a small table gets the bulk path.
    let rebuild = next_id - 1 <= super::BULK_ROWS as i64;
    let rebuilds = if rebuild {
        drop_for_bulk(&mut tx).await?
    } else {
        Vec::new()
    };
    let now = now_millis();
    let mut written = Written::default();
    let mut updates: Vec<(i64, NewSourceRecord)> = Vec::new();
    let mut problems: Vec<Problem> = Vec::new();
    let mut all_records_refs = References::default();
    let mut copy = tx.copy_in_raw(&copy_records_into("source_records")).await?;
    let mut buf = String::with_capacity(SEND_BYTES + 64 * 1024);
    let counts = loop {
        match chunks.recv().await {
            Some(BatchChunk::Rows {
                records,
                problems: more,
            }) => {
                let refs = References::of(&records, None);
                all_records_refs.provinces.extend(refs.provinces);
                all_records_refs.counties.extend(refs.counties);
                for r in records {
                    if let Some(&id) = existing.get(&r.source_id) {
                        updates.push((id, r));
                        continue;
                    }
                    put_new_record(&mut buf, next_id, list_id, now, None, &r, batch_id);
                    existing.insert(r.source_id, next_id);
                    next_id += 1;
                    written.inserted += 1;
                    if buf.len() >= SEND_BYTES {
                        copy.send(buf.as_bytes()).await?;
                        buf.clear();
                        on_progress(written.inserted as u64);
                    }
                }
                problems.extend(more);
            }
            Some(BatchChunk::End(counts)) => break counts,
            None => {
                // Dropping the transaction rolls it back; the COPY is abandoned with it.
                let _ = copy.abort("import interrupted").await;
                return Err(crate::StoreError::Invalid("import-interrupted"));
            }
        }
    };
    if !buf.is_empty() {
        copy.send(buf.as_bytes()).await?;
    }
    copy.finish().await?;
    let copied = std::time::Instant::now();
    on_progress(written.inserted as u64);
    if written.inserted > 0 {
        follow_record_ids(&mut tx).await?;
    }
    let updates: Vec<(i64, &NewSourceRecord)> = updates.iter().map(|(id, r)| (*id, r)).collect();
    let inserted = written.inserted as u64;
    written.updated = update_existing(&mut tx, list_id, batch_id, now, &updates, &|n| {
        on_progress(inserted + n)
    })
    .await?;
    all_records_refs.provinces.sort_unstable();
    all_records_refs.provinces.dedup();
    all_records_refs.counties.sort_unstable();
    all_records_refs.counties.dedup();
    check_references(&mut tx, list_id, batch_id, &all_records_refs).await?;
    let checked = copied.elapsed();
    for sql in rebuilds {
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *tx).await?;
    }
    let rebuilt = copied.elapsed();
    mark_committed(&mut tx, batch_id, &problems, counts, written).await?;
    tx.commit().await?;
    let committed = copied.elapsed();
    if rebuild {
        analyze_after_bulk(&mut conn).await;
    }
    tracing::debug!(
        update_and_check_s = checked.as_secs_f64(),
        rebuild_s = (rebuilt - checked).as_secs_f64(),
        commit_s = (committed - rebuilt).as_secs_f64(),
        analyze_s = (copied.elapsed() - committed).as_secs_f64(),
        "postgres streamed batch after its copy"
    );
    let _ = conn.close().await;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_it_must() {
        let mut b = String::new();
        put_text(&mut b, Some("a\tb\\c\nd\re"));
        put_text(&mut b, None);
        put_text(&mut b, Some("مریم"));
        assert_eq!(b, "a\\tb\\\\c\\nd\\re\\Nمریم");
    }

    #[test]
    fn a_record_line_has_every_column() {
        let mut b = String::new();
        put_record(&mut b, &NewSourceRecord::default(), 7);
        assert!(b.ends_with('\n'));
        assert_eq!(
            b.trim_end_matches('\n').split('\t').count(),
            RECORD_FIELDS.len()
        );
    }
}
