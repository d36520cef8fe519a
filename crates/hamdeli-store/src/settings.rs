//! Small key–value facts about this installation (e.g. that it holds synthetic demo data).

use sqlx::Row;

use crate::{Result, Store};

pub const DEMO_DATA: &str = "demo_data";

pub async fn get(store: &Store, key: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| r.get::<String, _>(0)))
}

pub async fn set(store: &Store, key: &str, value: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Whether this installation holds the synthetic demo data set.
pub async fn is_demo(store: &Store) -> Result<bool> {
    Ok(get(store, DEMO_DATA).await?.as_deref() == Some("1"))
}
