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
    BULK_ROWS, BatchCounts, BatchInput, Committed, NewSourceRecord, RECORD_FIELDS, References,
    Split, Written, person_id_of, split_fresh,
};
use crate::persons::PersonDisplay;
use crate::{Result, StoreError, now_millis};

/// Writes the batch on a blocking thread, reporting rows written to `on_progress` meanwhile.
pub(super) async fn commit_batch(
    path: PathBuf,
    batch_id: i64,
    list_id: i64,
    input: BatchInput,
    counts: BatchCounts,
    on_progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<(Committed, BatchInput)> {
    let done = Arc::new(AtomicU64::new(0));
    let counter = done.clone();
    let mut task = tokio::task::spawn_blocking(move || {
        let outcome = write(&path, batch_id, list_id, &input, counts, &counter);
        (outcome, input)
    });
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            joined = &mut task => {
                on_progress(done.load(Ordering::Relaxed));
                let (outcome, input) = match joined {
                    Ok(v) => v,
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(_) => return Err(StoreError::Invalid("import-interrupted")),
                };
                return outcome.map(|c| (c, input));
            }
            _ = tick.tick() => on_progress(done.load(Ordering::Relaxed)),
        }
    }
}

/// Binds a record's [`RECORD_FIELDS`] from parameter `first` on.
fn bind_record(
    st: &mut Statement<'_>,
    first: usize,
    r: &NewSourceRecord,
    batch_id: i64,
) -> rusqlite::Result<()> {
    let texts_before_year = [
        &r.national_code,
        &r.national_code_raw,
        &r.honorific,
        &r.first_name,
        &r.last_name,
        &r.father_name,
        &r.first_key,
        &r.last_key,
        &r.father_key,
        &r.birth_date,
    ];
    let mut at = first;
    for v in texts_before_year {
        st.raw_bind_parameter(at, v.as_deref())?;
        at += 1;
    }
    st.raw_bind_parameter(at, r.birth_year_jalali)?;
    at += 1;
    let texts_after_year = [
        &r.gender,
        &r.phone,
        &r.province_code,
        &r.county_code,
        &r.province_raw,
        &r.county_raw,
        &r.address,
        &r.zone,
    ];
    for v in texts_after_year {
        st.raw_bind_parameter(at, v.as_deref())?;
        at += 1;
    }
    st.raw_bind_parameter(at, r.extra.as_str())?;
    st.raw_bind_parameter(at + 1, batch_id)?;
    st.raw_bind_parameter(at + 2, r.row_number)?;
    st.raw_bind_parameter(at + 3, r.support_since.as_deref())?;
    debug_assert_eq!(at + 3 - first + 1, RECORD_FIELDS.len());
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
    let indexes: Vec<(String, String)> = conn
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 \
             AND sql IS NOT NULL ORDER BY name",
        )?
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?
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
    let mut st = conn.prepare(
        "INSERT INTO persons (id, created_at, updated_at, national_code, first_name, last_name, \
         father_name, birth_date, gender, phone, province_code, county_code) \
         VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for (k, p) in persons.iter().enumerate() {
        st.raw_bind_parameter(1, first_id + k as i64)?;
        st.raw_bind_parameter(2, now)?;
        let values = [
            &p.national_code,
            &p.first_name,
            &p.last_name,
            &p.father_name,
            &p.birth_date,
            &p.gender,
            &p.phone,
            &p.province_code,
            &p.county_code,
        ];
        for (j, v) in values.into_iter().enumerate() {
            st.raw_bind_parameter(3 + j, v.as_deref())?;
        }
        st.raw_execute()?;
    }
    Ok(())
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
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // A page cache that holds the indexes the batch grows, or SQLite spills dirty pages to the
    // WAL again and again within the one transaction; helper threads for the index sorts;
    // references checked per distinct value ([`check_references`]), not per row.
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF; PRAGMA synchronous = NORMAL; \
         PRAGMA cache_size = -524288; PRAGMA temp_store = MEMORY; PRAGMA threads = 4;",
    )?;
    let started = std::time::Instant::now();
    let mut laps: Vec<(&str, f64)> = Vec::new();
    let mut lap = |name| laps.push((name, started.elapsed().as_secs_f64()));
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let existing: HashMap<String, i64> = tx
        .prepare("SELECT source_id, id FROM source_records WHERE list_id = ?1")?
        .query_map([list_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let Split { updates, fresh } = split_fresh(records, &existing, links)?;
    check_references(&tx, list_id, batch_id, records, links)?;
    let first_record_id: i64 = tx.query_row(
        "SELECT COALESCE(MAX(id), 0) + 1 FROM source_records",
        [],
        |r| r.get(0),
    )?;
    let first_person_id: i64 =
        tx.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM persons", [], |r| {
            r.get(0)
        })?;
    let now = now_millis();

    let new_persons = links.map(|l| l.new_persons.as_slice()).unwrap_or(&[]);
    let rebuild_persons =
        new_persons.len() >= BULK_ROWS && first_person_id - 1 <= new_persons.len() as i64;
    let person_indexes = if rebuild_persons {
        drop_indexes(&tx, "persons")?
    } else {
        Vec::new()
    };
    insert_persons(&tx, first_person_id, new_persons, now)?;
    for sql in &person_indexes {
        tx.execute(sql, [])?;
    }
    lap("persons");

    let mut written = Written::default();
    let mut record_ids = vec![0i64; records.len()];
    // Records the list already has keep their id and their person.
    if !updates.is_empty() {
        let assignments: Vec<String> = RECORD_FIELDS
            .iter()
            .enumerate()
            .map(|(i, f)| format!("{f} = ?{}", i + 3))
            .collect();
        let mut st = tx.prepare(&format!(
            "UPDATE source_records SET imported_at = ?2, {} WHERE id = ?1",
            assignments.join(", ")
        ))?;
        for &(id, i) in &updates {
            st.raw_bind_parameter(1, id)?;
            st.raw_bind_parameter(2, now)?;
            bind_record(&mut st, 3, &records[i], batch_id)?;
            st.raw_execute()?;
            record_ids[i] = id;
            written.updated += 1;
            done.fetch_add(1, Ordering::Relaxed);
        }
    }

    let rebuild = fresh.len() >= BULK_ROWS && first_record_id - 1 <= fresh.len() as i64;
    let record_indexes = if rebuild {
        drop_indexes(&tx, "source_records")?
    } else {
        Vec::new()
    };
    {
        let mut st = tx.prepare(&format!(
            "INSERT INTO source_records (id, list_id, source_id, imported_at, person_id, {}) \
             VALUES ({})",
            RECORD_FIELDS.join(", "),
            numbered(1, RECORD_FIELDS.len() + 5)
        ))?;
        st.raw_bind_parameter(2, list_id)?;
        st.raw_bind_parameter(4, now)?;
        for (k, &i) in fresh.iter().enumerate() {
            let r = &records[i];
            let id = first_record_id + k as i64;
            st.raw_bind_parameter(1, id)?;
            st.raw_bind_parameter(3, r.source_id.as_str())?;
            st.raw_bind_parameter(5, person_id_of(links, i, first_person_id))?;
            bind_record(&mut st, 6, r, batch_id)?;
            st.raw_execute()?;
            record_ids[i] = id;
            written.inserted += 1;
            if k % 1024 == 1023 {
                done.fetch_add(1024, Ordering::Relaxed);
            }
        }
        done.store(
            (written.inserted + written.updated) as u64,
            Ordering::Relaxed,
        );
    }
    lap("records");
    for sql in &record_indexes {
        tx.execute(sql, [])?;
    }
    lap("indexes");
    {
        let mut st = tx.prepare(
            "INSERT INTO import_problems (batch_id, row_number, severity, code, detail) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        st.raw_bind_parameter(1, batch_id)?;
        for p in &input.problems {
            st.raw_bind_parameter(2, p.row_number)?;
            st.raw_bind_parameter(3, p.severity.as_str())?;
            st.raw_bind_parameter(4, p.code.as_str())?;
            st.raw_bind_parameter(5, p.detail.as_str())?;
            st.raw_execute()?;
        }
    }
    tx.execute(
        "UPDATE import_batches SET status = 'committed', rows_in = ?2, rows_accepted = ?3, \
         rows_with_warnings = ?4, rows_rejected = ?5, rows_inserted = ?6, rows_updated = ?7, \
         finished_at = ?8 WHERE id = ?1",
        rusqlite::params![
            batch_id,
            counts.rows_in,
            counts.rows_accepted,
            counts.rows_with_warnings,
            counts.rows_rejected,
            written.inserted,
            written.updated,
            now_millis()
        ],
    )?;
    lap("problems");
    tx.commit()?;
    lap("commit");
    tracing::debug!("sqlite batch write: {laps:?}");
    Ok(Committed {
        written,
        record_ids,
        first_person_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_parameters() {
        assert_eq!(numbered(3, 3), "?3, ?4, ?5");
    }
}
