//! The transparency log's storage: appends are serialised on the one-row `ledger_head` (an
//! UPDATE takes the write lock first on SQLite and a row lock on PostgreSQL), so two
//! concurrent appends can never fork the chain.
//!
//! Allocations and deliveries are not appended one by one: they are queued in `ledger_events`
//! in their own transaction, and [`close_due`] appends each closed day's aggregates
//! ([`hamdeli_domain::ledger::aggregate`]: no cell under five, small counts rolled up or held).
//! It runs inside every allocation commit and delivery, before the public page and feed are
//! read, and from `hamdeli ledger publish`; a day is closed once, and held events are counted
//! again at every later close until they can be published. See `docs/transparency.md`.

use std::collections::BTreeSet;

use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use hamdeli_domain::ledger::{self, Broken, Entry, Event};

use crate::{AnyConnection, Result, Store, now_millis};

fn entry_from_row(r: &AnyRow) -> Entry {
    Entry {
        seq: r.get("seq"),
        at: r.get("at"),
        kind: r.get("kind"),
        payload: r.get("payload"),
        prev_hash: r.get("prev_hash"),
        hash: r.get("hash"),
    }
}

/// Appends an entry inside the caller's transaction (so it commits with the action it
/// reports). `payload` must hold no personal data: areas, need types, amounts, counts, codes.
pub async fn append(
    conn: &mut AnyConnection,
    kind: &str,
    payload: &serde_json::Value,
) -> Result<Entry> {
    append_at(conn, kind, payload, now_millis()).await
}

/// [`append`] with the entry's time given (a day's aggregates carry the instant the day closed).
async fn append_at(
    conn: &mut AnyConnection,
    kind: &str,
    payload: &serde_json::Value,
    at: i64,
) -> Result<Entry> {
    let head = sqlx::query("UPDATE ledger_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    let seq: i64 = head.get(0);
    let prev_hash: String = head.get(1);
    // serde_json's maps keep keys sorted: the text is canonical.
    let payload = payload.to_string();
    let hash = ledger::entry_hash(&prev_hash, seq, at, kind, &payload);
    sqlx::query(
        "INSERT INTO transparency_log (seq, at, kind, payload, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(seq)
    .bind(at)
    .bind(kind.to_owned())
    .bind(payload.clone())
    .bind(prev_hash.clone())
    .bind(hash.clone())
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE ledger_head SET hash = $1 WHERE id = 1")
        .bind(hash.clone())
        .execute(&mut *conn)
        .await?;
    Ok(Entry {
        seq,
        at,
        kind: kind.to_owned(),
        payload,
        prev_hash,
        hash,
    })
}

/// The newest entries first, `limit` of them, older than `before` when given.
pub async fn recent(store: &Store, before: Option<i64>, limit: i64) -> Result<Vec<Entry>> {
    let rows = sqlx::query(
        "SELECT seq, at, kind, payload, prev_hash, hash FROM transparency_log \
         WHERE seq < $1 ORDER BY seq DESC LIMIT $2",
    )
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit.clamp(1, 1000))
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(entry_from_row).collect())
}

/// The oldest entries first, `limit` of them, after sequence number `after` (the feed's cursor).
pub async fn after(store: &Store, after: i64, limit: i64) -> Result<Vec<Entry>> {
    let rows = sqlx::query(
        "SELECT seq, at, kind, payload, prev_hash, hash FROM transparency_log \
         WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit.clamp(1, 1000))
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(entry_from_row).collect())
}

/// The head as published: how many entries, and the hash of the last.
pub async fn head(store: &Store) -> Result<(i64, String)> {
    let row = sqlx::query("SELECT seq, hash FROM ledger_head WHERE id = 1")
        .fetch_one(store.pool())
        .await?;
    Ok((row.get(0), row.get(1)))
}

/// Whether an entry of the log has this hash (a head kept earlier).
pub async fn contains(store: &Store, hash: &str) -> Result<bool> {
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM transparency_log WHERE hash = $1")
        .bind(hash.to_owned())
        .fetch_one(store.pool())
        .await?
        .get(0);
    Ok(n > 0)
}

/// Recomputes the whole chain from the stored entries, page by page.
pub async fn verify(store: &Store) -> Result<Result<(i64, String), Broken>> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let rows = sqlx::query(
            "SELECT seq, at, kind, payload, prev_hash, hash FROM transparency_log \
             WHERE seq > $1 ORDER BY seq LIMIT 10000",
        )
        .bind(after)
        .fetch_all(store.pool())
        .await?;
        if rows.is_empty() {
            break;
        }
        all.extend(rows.iter().map(entry_from_row));
        after = all.last().map(|e| e.seq).unwrap_or(after);
    }
    let verdict = ledger::verify(all);
    // The published head must be the chain's end too (a truncated tail is tampering).
    if let Ok((n, hash)) = &verdict {
        let (head_seq, head_hash) = head(store).await?;
        if head_seq != *n || head_hash != *hash {
            return Ok(Err(Broken::Gap {
                expected: n + 1,
                found: head_seq,
            }));
        }
    }
    Ok(verdict)
}

// ---------------------------------------------------------------------------------------------
// Allocations and deliveries: queued, then published as daily aggregates

const EVENT_COLUMNS: &str =
    "kind, status, campaign_id, province_code, county_code, need_type, units, day";

/// Queues every allocation of a committed batch for its day's aggregate (caller's transaction).
pub async fn queue_allocation_batch(conn: &mut AnyConnection, batch: i64, at: i64) -> Result<()> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO ledger_events ({EVENT_COLUMNS}) \
         SELECT 'allocation', 'allocated', b.campaign_id, a.province_code, a.county_code, \
         a.need_type, a.units, $2 FROM allocations a JOIN allocation_batches b ON b.id = a.batch_id \
         WHERE a.batch_id = $1"
    )))
    .bind(batch)
    .bind(ledger::day_of(at))
    .execute(&mut *conn)
    .await?;
    close_due(conn, at).await?;
    Ok(())
}

/// Queues an allocation's delivery (its status already `delivered` or `failed`) for its day's
/// aggregate, in the delivery's transaction.
pub async fn queue_delivery(conn: &mut AnyConnection, allocation: i64, at: i64) -> Result<()> {
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO ledger_events ({EVENT_COLUMNS}) \
         SELECT 'delivery', a.status, b.campaign_id, a.province_code, a.county_code, \
         a.need_type, a.units, $2 FROM allocations a JOIN allocation_batches b ON b.id = a.batch_id \
         WHERE a.id = $1"
    )))
    .bind(allocation)
    .bind(ledger::day_of(at))
    .execute(&mut *conn)
    .await?;
    close_due(conn, at).await?;
    Ok(())
}

async fn closed_through(conn: &mut AnyConnection) -> Result<Option<i64>> {
    Ok(
        sqlx::query("SELECT closed_through FROM ledger_head WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?
            .get(0),
    )
}

/// Appends the aggregates of every day before `now`'s that is not closed yet, in the caller's
/// transaction; returns the entries appended. Cheap when there is nothing to close (one read).
///
/// An event's day is closed at the first close after it: day `d` normally, the next open day
/// when its transaction committed after `d` was closed. Each day, every event not yet published
/// whose close day has come is counted again (held ones included), so a small count waits until
/// more events of its area, need type and status join it.
pub async fn close_due(conn: &mut AnyConnection, now: i64) -> Result<Vec<Entry>> {
    let yesterday = ledger::day_of(now) - 1;
    if closed_through(conn).await?.is_some_and(|d| d >= yesterday) {
        return Ok(Vec::new());
    }
    // The chain's lock first, then read again: one close at a time, each day once.
    sqlx::query("UPDATE ledger_head SET closed_through = closed_through WHERE id = 1")
        .execute(&mut *conn)
        .await?;
    let closed = closed_through(conn).await?;
    if closed.is_some_and(|d| d >= yesterday) {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT id, kind, status, campaign_id, province_code, county_code, need_type, units, day \
         FROM ledger_events WHERE published_seq IS NULL AND day <= $1 ORDER BY id",
    )
    .bind(yesterday)
    .fetch_all(&mut *conn)
    .await?;
    let first_open = closed.map_or(i64::MIN, |d| d + 1);
    let mut pending: Vec<(i64, Event)> = rows
        .iter()
        .map(|r| {
            let day: i64 = r.get(8);
            (
                day.max(first_open),
                Event {
                    id: r.get(0),
                    kind: r.get(1),
                    status: r.get(2),
                    campaign: r.get(3),
                    province: r.get(4),
                    county: r.get(5),
                    need_type: r.get(6),
                    units: r.get(7),
                },
            )
        })
        .collect();
    let days: BTreeSet<i64> = pending.iter().map(|(d, _)| *d).collect();
    let mut appended = Vec::new();
    for day in days {
        let pool: Vec<Event> = pending
            .iter()
            .filter(|(d, _)| *d <= day)
            .map(|(_, e)| e.clone())
            .collect();
        let mut published = BTreeSet::new();
        for agg in ledger::aggregate(&pool) {
            let payload = serde_json::json!({
                "campaign": agg.campaign,
                "day": ledger::iso_day(day),
                "cells": agg.cells,
            });
            let entry = append_at(conn, &agg.kind, &payload, ledger::day_close(day)).await?;
            for chunk in agg.events.chunks(1000) {
                let ids: Vec<String> = chunk.iter().map(i64::to_string).collect();
                sqlx::query(AssertSqlSafe(format!(
                    "UPDATE ledger_events SET published_seq = {} WHERE id IN ({})",
                    entry.seq,
                    ids.join(",")
                )))
                .execute(&mut *conn)
                .await?;
            }
            published.extend(agg.events);
            appended.push(entry);
        }
        pending.retain(|(_, e)| !published.contains(&e.id));
    }
    sqlx::query("UPDATE ledger_head SET closed_through = $1 WHERE id = 1")
        .bind(yesterday)
        .execute(&mut *conn)
        .await?;
    Ok(appended)
}

/// [`close_due`] in a transaction of its own (the public page and feed, `hamdeli ledger
/// publish`); nothing is written when every day before `now`'s is closed already.
pub async fn publish_closed_days(store: &Store, now: i64) -> Result<Vec<Entry>> {
    let closed: Option<i64> = sqlx::query("SELECT closed_through FROM ledger_head WHERE id = 1")
        .fetch_one(store.pool())
        .await?
        .get(0);
    if closed.is_some_and(|d| d >= ledger::day_of(now) - 1) {
        return Ok(Vec::new());
    }
    let mut tx = store.begin().await?;
    let appended = close_due(&mut tx, now).await?;
    tx.commit().await?;
    Ok(appended)
}

/// Events waiting to be published (staff only: `hamdeli ledger publish` prints it; never on a
/// public page, where a count under five could point at someone): (today's, held).
pub async fn waiting(store: &Store, now: i64) -> Result<(i64, i64)> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(CASE WHEN day >= $1 THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN day < $1 THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM ledger_events WHERE published_seq IS NULL",
    )
    .bind(ledger::day_of(now))
    .fetch_one(store.pool())
    .await?;
    Ok((row.get(0), row.get(1)))
}
