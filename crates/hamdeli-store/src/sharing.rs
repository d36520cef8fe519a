//! Data-sharing rules between organisations: what a partner may read of another
//! organisation's records of a person they both hold. No rule is "match only".

use serde::Serialize;
use sqlx::Row;

use crate::{AnyConnection, Result, Store, StoreError, now_millis};

/// How much one organisation shares with another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// The other organisation learns that a match exists and with whom, nothing more.
    Match,
    /// The other organisation reads the records in full.
    Full,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Match => "match",
            Level::Full => "full",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "match" => Some(Level::Match),
            "full" => Some(Level::Full),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub from_organisation_id: i64,
    pub to_organisation_id: i64,
    pub level: Level,
    pub set_at: i64,
}

/// The organisations that share their records in full with `to`.
pub async fn sharing_in_full_with(store: &Store, to: i64) -> Result<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT from_organisation_id FROM data_sharing WHERE to_organisation_id = $1 AND level = 'full' \
         ORDER BY from_organisation_id",
    )
    .bind(to)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Every rule one organisation has set or receives, newest first.
pub async fn rules_of(store: &Store, organisation: i64) -> Result<Vec<Rule>> {
    let rows = sqlx::query(
        "SELECT from_organisation_id, to_organisation_id, level, set_at FROM data_sharing \
         WHERE from_organisation_id = $1 OR to_organisation_id = $1 ORDER BY set_at DESC",
    )
    .bind(organisation)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Rule {
            from_organisation_id: r.get(0),
            to_organisation_id: r.get(1),
            level: Level::parse(&r.get::<String, _>(2)).unwrap_or(Level::Match),
            set_at: r.get(3),
        })
        .collect())
}

/// Sets the rule from one organisation to another ("match" removes it: the default).
pub async fn set(
    conn: &mut AnyConnection,
    from: i64,
    to: i64,
    level: Level,
    by: Option<i64>,
) -> Result<()> {
    if from == to {
        return Err(StoreError::Invalid("sharing-same-organisation"));
    }
    sqlx::query(
        "DELETE FROM data_sharing WHERE from_organisation_id = $1 AND to_organisation_id = $2",
    )
    .bind(from)
    .bind(to)
    .execute(&mut *conn)
    .await?;
    if level == Level::Full {
        sqlx::query(
            "INSERT INTO data_sharing (from_organisation_id, to_organisation_id, level, set_by, set_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(from)
        .bind(to)
        .bind(level.as_str())
        .bind(by)
        .bind(now_millis())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
