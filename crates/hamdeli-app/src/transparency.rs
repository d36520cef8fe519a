//! The public transparency log: no principal, it is public. Days closed since the last read
//! get their aggregates appended first (a failure there is logged and the log read as it is).

use hamdeli_domain::ledger::Entry;
use hamdeli_store::{Store, ledger};

use crate::Result;

/// Where a page of the log starts.
#[derive(Debug, Clone, Copy)]
pub enum Start {
    /// Entries after this sequence number, oldest first.
    After(i64),
    /// Entries older than this sequence number (or the newest), newest first.
    Before(Option<i64>),
}

/// A page of the log and its head.
pub struct LogPage {
    /// How many entries the log holds.
    pub head_count: i64,
    /// The hash of the last entry.
    pub head_hash: String,
    pub entries: Vec<Entry>,
}

/// Publishes the closed days, then reads the head and at most `limit` entries from `start`.
pub async fn read(store: &Store, start: Start, limit: i64) -> Result<LogPage> {
    if let Err(e) = ledger::publish_closed_days(store, hamdeli_store::now_millis()).await {
        tracing::warn!(error = %e, "closing the transparency log's days failed; reading it as is");
    }
    let (head_count, head_hash) = ledger::head(store).await?;
    let entries = match start {
        Start::After(after) => ledger::after(store, after, limit).await?,
        Start::Before(before) => ledger::recent(store, before, limit).await?,
    };
    Ok(LogPage {
        head_count,
        head_hash,
        entries,
    })
}
