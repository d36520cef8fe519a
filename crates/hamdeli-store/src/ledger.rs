//! The transparency log's storage: appends are serialised on the one-row `ledger_head` (an
//! UPDATE takes the write lock first on SQLite and a row lock on PostgreSQL), so two
//! concurrent appends can never fork the chain.

use sqlx::Row;
use sqlx::any::AnyRow;

use hamdeli_domain::ledger::{self, Broken, Entry};

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
    let head = sqlx::query("UPDATE ledger_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    let seq: i64 = head.get(0);
    let prev_hash: String = head.get(1);
    // serde_json's maps keep keys sorted: the text is canonical.
    let payload = payload.to_string();
    let at = now_millis();
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

/// The head as published: how many entries, and the hash of the last.
pub async fn head(store: &Store) -> Result<(i64, String)> {
    let row = sqlx::query("SELECT seq, hash FROM ledger_head WHERE id = 1")
        .fetch_one(store.pool())
        .await?;
    Ok((row.get(0), row.get(1)))
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
