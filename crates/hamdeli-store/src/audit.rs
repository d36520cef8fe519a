//! The append-only audit log: every write and every read of a person's record, with who, when,
//! what, scope and client address. Entries are written on the caller's connection so that they
//! commit or roll back with the action itself.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use hamdeli_domain::Principal;

use crate::{AnyConnection, Result, Store, now_millis};

/// What was done to what: `action` is a dotted verb (`user.create`, `person.read`), the target
/// a kind and an id. `detail` is a short JSON object with no secrets in it.
pub struct Event<'a> {
    pub action: &'a str,
    pub target_kind: &'a str,
    pub target_id: String,
    pub detail: serde_json::Value,
}

/// Who acted and from where.
pub struct Actor<'a> {
    pub principal: Option<&'a Principal>,
    pub client_addr: &'a str,
}

pub async fn record(conn: &mut AnyConnection, actor: &Actor<'_>, event: Event<'_>) -> Result<()> {
    let (user_id, key_id, name, scope) = match actor.principal {
        Some(p) => (p.user_id, p.api_key_id, p.name.clone(), p.scope.label()),
        None => (None, None, "anonymous".to_owned(), "none".to_owned()),
    };
    sqlx::query(
        "INSERT INTO audit_log (at, actor_user_id, actor_api_key_id, actor, action, target_kind, \
         target_id, scope, client_addr, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(now_millis())
    .bind(user_id)
    .bind(key_id)
    .bind(name)
    .bind(event.action.to_owned())
    .bind(event.target_kind.to_owned())
    .bind(event.target_id)
    .bind(scope)
    .bind(actor.client_addr.to_owned())
    .bind(event.detail.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub scope: String,
    pub client_addr: String,
    pub detail: String,
}

fn entry_from_row(r: &AnyRow) -> Entry {
    Entry {
        id: r.get("id"),
        at: r.get("at"),
        actor: r.get("actor"),
        action: r.get("action"),
        target_kind: r.get("target_kind"),
        target_id: r.get("target_id"),
        scope: r.get("scope"),
        client_addr: r.get("client_addr"),
        detail: r.get("detail"),
    }
}

/// Filters of the audit page; empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub from_millis: Option<i64>,
    pub to_millis: Option<i64>,
    pub limit: i64,
    pub before_id: Option<i64>,
}

/// Newest first, at most `filter.limit` (capped at 500) entries.
pub async fn list(store: &Store, filter: &Filter) -> Result<Vec<Entry>> {
    let mut clauses = vec!["1 = 1".to_owned()];
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    if filter.actor.is_some() {
        clauses.push(format!("actor = {}", next()));
    }
    if filter.action.is_some() {
        clauses.push(format!("action = {}", next()));
    }
    if filter.target_kind.is_some() {
        clauses.push(format!("target_kind = {}", next()));
    }
    if filter.target_id.is_some() {
        clauses.push(format!("target_id = {}", next()));
    }
    if filter.from_millis.is_some() {
        clauses.push(format!("at >= {}", next()));
    }
    if filter.to_millis.is_some() {
        clauses.push(format!("at < {}", next()));
    }
    if filter.before_id.is_some() {
        clauses.push(format!("id < {}", next()));
    }
    let limit = filter.limit.clamp(1, 500);
    let sql = format!(
        "SELECT id, at, actor, action, target_kind, target_id, scope, client_addr, detail \
         FROM audit_log WHERE {} ORDER BY id DESC LIMIT {limit}",
        clauses.join(" AND ")
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for s in [
        &filter.actor,
        &filter.action,
        &filter.target_kind,
        &filter.target_id,
    ]
    .into_iter()
    .flatten()
    {
        q = q.bind(s.clone());
    }
    for v in [filter.from_millis, filter.to_millis, filter.before_id]
        .into_iter()
        .flatten()
    {
        q = q.bind(v);
    }
    let rows = q.fetch_all(store.pool()).await?;
    Ok(rows.iter().map(entry_from_row).collect())
}

/// The distinct actions recorded so far, for the filter's pick list.
pub async fn actions(store: &Store) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT DISTINCT action FROM audit_log ORDER BY action")
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

pub async fn count_since(store: &Store, since_millis: i64) -> Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) FROM audit_log WHERE at >= $1")
        .bind(since_millis)
        .fetch_one(store.pool())
        .await?
        .get(0))
}
