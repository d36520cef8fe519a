//! The append-only audit log: every write and every read of a person's record, with who, when,
//! what, scope and client address. Entries are written on the caller's connection so that they
//! commit or roll back with the action itself.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, AssertSqlSafe, Row};
use tokio::sync::{mpsc, oneshot};

use hamdeli_domain::Principal;

use crate::{AnyConnection, Engine, Result, Store, StoreError, now_millis, values_placeholders};

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

/// One audit row as bound to the INSERT, in the column order of `COLUMNS`.
#[derive(Clone)]
struct NewEntry {
    at: i64,
    user_id: Option<i64>,
    key_id: Option<i64>,
    actor: String,
    action: String,
    target_kind: String,
    target_id: String,
    scope: String,
    client_addr: String,
    detail: String,
}

const COLUMNS: &str = "at, actor_user_id, actor_api_key_id, actor, action, target_kind, target_id, scope, client_addr, detail";
const COLUMN_COUNT: usize = 10;

impl NewEntry {
    fn new(actor: &Actor<'_>, event: Event<'_>) -> NewEntry {
        let (user_id, key_id, name, scope) = match actor.principal {
            Some(p) => (p.user_id, p.api_key_id, p.name.clone(), p.scope.label()),
            None => (None, None, "anonymous".to_owned(), "none".to_owned()),
        };
        NewEntry {
            at: now_millis(),
            user_id,
            key_id,
            actor: name,
            action: event.action.to_owned(),
            target_kind: event.target_kind.to_owned(),
            target_id: event.target_id,
            scope,
            client_addr: actor.client_addr.to_owned(),
            detail: event.detail.to_string(),
        }
    }

    fn bind<'q>(
        self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        q.bind(self.at)
            .bind(self.user_id)
            .bind(self.key_id)
            .bind(self.actor)
            .bind(self.action)
            .bind(self.target_kind)
            .bind(self.target_id)
            .bind(self.scope)
            .bind(self.client_addr)
            .bind(self.detail)
    }
}

/// Writes the entry on the caller's connection: inside the caller's transaction it commits or
/// rolls back with the action.
pub async fn record(conn: &mut AnyConnection, actor: &Actor<'_>, event: Event<'_>) -> Result<()> {
    let sql = format!(
        "INSERT INTO audit_log ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    );
    NewEntry::new(actor, event)
        .bind(sqlx::query(AssertSqlSafe(sql)))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Records an event that is not part of a write (a search, a person's page read) and returns
/// once its entry is committed. Entries of requests arriving together share one transaction
/// (group commit): under load a registry search costs a fraction of a commit instead of one
/// commit each, and on SQLite the writers queue here instead of sleeping in SQLite's busy
/// handler, whose back-off (1, 2, 5, 10 … ms) was the tail of search latency.
pub async fn record_read(store: &Store, actor: &Actor<'_>, event: Event<'_>) -> Result<()> {
    let (done, committed) = oneshot::channel();
    store
        .read_audit
        .sender(store)
        .send(Pending {
            entry: NewEntry::new(actor, event),
            done,
        })
        .map_err(|_| StoreError::AuditUnavailable)?;
    match committed.await {
        Ok(true) => Ok(()),
        _ => Err(StoreError::AuditUnavailable),
    }
}

struct Pending {
    entry: NewEntry,
    /// `true` once the entry is committed, `false` when its transaction failed.
    done: oneshot::Sender<bool>,
}

/// The queue of read events and its writer task, started on first use.
#[derive(Default)]
pub(crate) struct ReadAppender {
    sender: std::sync::OnceLock<mpsc::UnboundedSender<Pending>>,
}

/// At most this many entries in one transaction (10 bound values each).
const MAX_GROUP: usize = 256;

impl ReadAppender {
    fn sender(&self, store: &Store) -> &mpsc::UnboundedSender<Pending> {
        self.sender.get_or_init(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            tokio::spawn(append_reads(store.pool().clone(), store.engine(), receiver));
            sender
        })
    }
}

/// Writes whatever entries are waiting, in one transaction each time, until every sender is
/// gone (the store dropped).
async fn append_reads(pool: AnyPool, engine: Engine, mut queue: mpsc::UnboundedReceiver<Pending>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while queue.recv_many(&mut group, MAX_GROUP).await > 0 {
        let (entries, done): (Vec<NewEntry>, Vec<oneshot::Sender<bool>>) =
            group.drain(..).map(|p| (p.entry, p.done)).unzip();
        if entries.len() > 1 {
            let copies: Vec<NewEntry> = entries.to_vec();
            match write_group(&pool, engine, copies).await {
                Ok(()) => {
                    for d in done {
                        let _ = d.send(true);
                    }
                    continue;
                }
                // One entry must not sink the others: try each alone.
                Err(e) => {
                    tracing::warn!(error = %e, entries = entries.len(), "audit group refused")
                }
            }
        }
        for (entry, d) in entries.into_iter().zip(done) {
            let committed = match write_group(&pool, engine, vec![entry]).await {
                Ok(()) => true,
                Err(e) => {
                    tracing::error!(error = %e, "audit entry of a read not written");
                    false
                }
            };
            let _ = d.send(committed);
        }
    }
}

async fn write_group(pool: &AnyPool, engine: Engine, entries: Vec<NewEntry>) -> Result<()> {
    let sql = format!(
        "INSERT INTO audit_log ({COLUMNS}) VALUES {}",
        values_placeholders(engine, entries.len(), COLUMN_COUNT)
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for e in entries {
        q = e.bind(q);
    }
    // One statement is one transaction on both engines.
    q.execute(pool).await?;
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
