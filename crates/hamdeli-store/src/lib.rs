//! Storage: one interface over embedded SQLite and PostgreSQL.
//!
//! Every query goes through sqlx's `Any` driver with plain SQL and `$N` placeholders, which
//! both engines read; where the dialects differ the code branches on [`Engine`]. Each engine
//! has its own migrations folder; `schema::logical_schema` lets a test prove they agree.

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::ConnectOptions;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub mod api_keys;
pub mod audit;
pub mod backup;
pub mod bench;
pub mod campaigns;
pub mod coverage;
pub mod dashboard;
pub mod distribution;
pub mod entry;
pub mod geo;
pub mod ledger;
pub mod loans;
pub mod market;
pub mod migrations;
pub mod needs;
pub mod network;
pub mod organisations;
pub mod passwords;
pub mod persons;
pub mod registry;
pub mod reports;
pub mod scale;
pub mod schema;
pub mod sessions;
pub mod settings;
pub mod sharing;
pub mod support;
pub mod tokens;
pub mod users;

pub use sqlx::{Any, AnyConnection, Row, Transaction};

pub type Tx = Transaction<'static, Any>;

/// How long a SQLite writer waits for the write lock before it fails with "database is locked":
/// the pool's connections and the bulk writer's alike. Long enough for a bulk import of a large
/// list (which holds the lock for its one transaction) to finish while pledges wait.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn of_url(url: &str) -> Option<Engine> {
        if url.starts_with("sqlite:") {
            Some(Engine::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Engine::Postgres)
        } else {
            None
        }
    }

    /// The engine a connection speaks (for statements written per engine inside a transaction).
    pub fn of_connection(conn: &AnyConnection) -> Engine {
        if conn.backend_name() == "PostgreSQL" {
            Engine::Postgres
        } else {
            Engine::Sqlite
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    /// From the SQLite bulk writer (rusqlite on a connection of its own).
    #[error(transparent)]
    Bulk(#[from] rusqlite::Error),
    #[error("not found")]
    NotFound,
    /// A uniqueness rule the user can fix (the code is a catalog message id).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// Input the store refuses (the code is a catalog message id).
    #[error("invalid: {0}")]
    Invalid(&'static str),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (use sqlite:… or postgres://…): {0}")]
    UnsupportedUrl(String),
    #[error("reference data: {0}")]
    ReferenceData(String),
    #[error("password hashing: {0}")]
    Hashing(String),
    /// The audit entry of a read could not be committed (the read is refused with it).
    #[error("audit log unavailable")]
    AuditUnavailable,
}

impl StoreError {
    /// True when a UNIQUE constraint refused the write.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Db(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The storage handle the rest of the system holds; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
    /// The URL it was opened with (may hold a password: never printed), for the engine-native
    /// connections bulk loads use (PostgreSQL `COPY`, which the `Any` driver cannot do).
    url: std::sync::Arc<str>,
    /// Audit entries of reads, written in groups (see `audit::record_read`).
    read_audit: std::sync::Arc<audit::ReadAppender>,
    /// Who the import batches this handle begins act for, when their own transactions write
    /// their audit entries (the command line's system principal; see [`Store::acting_as`]).
    batch_actor: Option<std::sync::Arc<registry::BatchActor>>,
    /// The task that keeps this process's running batches' heartbeat fresh (started with the
    /// first batch).
    heartbeat: std::sync::Arc<std::sync::OnceLock<()>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("pool", &self.pool)
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `url` and runs the engine's migrations.
    pub async fn open(url: &str) -> Result<Store> {
        let store = Store::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens the database without migrating (for `hamdeli migrate --check` and tests).
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let engine = Engine::of_url(url).ok_or_else(|| StoreError::UnsupportedUrl(url.into()))?;
        let url = match engine {
            // mode=rwc creates the file on first run.
            Engine::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        // Bulk statements are long by design: log a slow one briefly, never its whole text.
        let options = AnyConnectOptions::from_str(&url)?
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Debug, Duration::from_secs(5));
        let pool_options = match engine {
            Engine::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _meta| {
                        // The page cache (cache_size, KiB when negative) is 64 MiB: a registry
                        // of a million persons searches from memory instead of re-reading index
                        // pages.
                        Box::pin(async move {
                            let pragmas = format!(
                                "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                                 PRAGMA busy_timeout = {}; PRAGMA synchronous = NORMAL; \
                                 PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
                                SQLITE_BUSY_TIMEOUT.as_millis()
                            );
                            conn.execute(sqlx::AssertSqlSafe(pragmas)).await?;
                            Ok(())
                        })
                    })
            }
            // JIT compilation costs 100-200 ms whenever a plan's estimated cost crosses its
            // threshold, which a page's query with correlated lookups does; pages never gain it back.
            Engine::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute("SET jit = off").await?;
                            Ok(())
                        })
                    })
            }
        };
        // A request waiting for one of SQLite's connections waits as long as one waiting for its
        // write lock (the connections may all be queued on it).
        let acquire_timeout = match engine {
            Engine::Sqlite => SQLITE_BUSY_TIMEOUT,
            Engine::Postgres => Duration::from_secs(30),
        };
        let pool = pool_options
            .acquire_timeout(acquire_timeout)
            .connect_with(options)
            .await?;
        Ok(Store {
            pool,
            engine,
            url: url.into(),
            read_audit: Default::default(),
            batch_actor: None,
            heartbeat: Default::default(),
        })
    }

    pub async fn migrate(&self) -> Result<()> {
        migrations::run(self).await?;
        geo::load_reference_data(self).await?;
        needs::ensure_defaults(self).await?;
        Ok(())
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// This handle, with the import batches it begins acting for `actor`: their commit and
    /// their failure write the audit entry in the batch's own transaction (the command line,
    /// which has no signed-in user, acts as a named system principal).
    pub fn acting_as(mut self, actor: registry::BatchActor) -> Store {
        self.batch_actor = Some(std::sync::Arc::new(actor));
        self
    }

    pub(crate) fn batch_actor(&self) -> Option<&registry::BatchActor> {
        self.batch_actor.as_deref()
    }

    /// Starts the heartbeat of this process's running batches once.
    pub(crate) fn ensure_heartbeat(&self) {
        self.heartbeat.get_or_init(|| {
            tokio::spawn(registry::heartbeat(self.pool.clone()));
        });
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A new PostgreSQL connection of its own (not from the pool), for `COPY`; the caller
    /// runs its transaction on it. Only on PostgreSQL.
    pub async fn pg_connection(&self) -> Result<sqlx::PgConnection> {
        use sqlx::Connection;
        if self.engine != Engine::Postgres {
            return Err(StoreError::Invalid("engine-not-postgres"));
        }
        let options = sqlx::postgres::PgConnectOptions::from_str(&self.url)?
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Debug, Duration::from_secs(5));
        Ok(sqlx::PgConnection::connect_with(&options).await?)
    }

    /// The SQLite database file (for the bulk writer's connection of its own).
    pub(crate) fn sqlite_path(&self) -> Result<std::path::PathBuf> {
        if self.engine != Engine::Sqlite {
            return Err(StoreError::Invalid("engine-not-sqlite"));
        }
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(&self.url)?;
        Ok(options.get_filename().to_path_buf())
    }

    /// A write transaction. On SQLite it begins `IMMEDIATE`: it takes the database's write lock
    /// at once, waiting for it up to [`SQLITE_BUSY_TIMEOUT`], so concurrent writers queue. A
    /// deferred transaction reads first and upgrades to a writer on its first write; when
    /// another writer committed meanwhile SQLite cannot upgrade it and fails at once with
    /// "database is locked" (SQLITE_BUSY, no busy handler), which under load was every other
    /// import and one pledge in five. On PostgreSQL an ordinary `BEGIN`.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => self.pool.begin().await?,
        })
    }

    /// A cheap round trip, for `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Gathers the planner's statistics of every table after a bulk load (PostgreSQL's
    /// `ANALYZE`; SQLite plans from its indexes and is left as it is).
    pub async fn refresh_planner_statistics(&self) -> Result<()> {
        if self.engine == Engine::Postgres {
            sqlx::query("ANALYZE").execute(&self.pool).await?;
        }
        Ok(())
    }
}

/// Now, as Unix milliseconds (UTC): the only form instants are stored in.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `SUM(expr)` of integers as a BIGINT that never fails: 0 for no rows, the largest integer when
/// the true sum is larger. PostgreSQL sums BIGINTs as NUMERIC (exact) and clamps it; SQLite's
/// SUM fails with "integer overflow", so it adds with TOTAL (exact below 2^53, about 9·10^15 —
/// beyond any sum the caps on pledges allow) and CAST clamps. For pages and API answers that
/// must show a figure rather than fail because someone pledged absurd amounts.
pub(crate) fn saturating_sum(engine: Engine, expr: &str) -> String {
    match engine {
        Engine::Postgres => {
            format!("CAST(LEAST(COALESCE(SUM({expr}), 0), 9223372036854775807) AS BIGINT)")
        }
        Engine::Sqlite => format!("CAST(TOTAL({expr}) AS INTEGER)"),
    }
}

/// `0`/`1` flag columns, stored as integers on both engines.
pub(crate) fn flag(b: bool) -> i64 {
    i64::from(b)
}

/// `1,2,3`: integer ids written into an `IN (…)` list. Integers only, so no user text reaches
/// the statement; callers chunk the ids (a few hundred a statement).
pub(crate) fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// `(…), (…), …`: placeholders for `rows` rows of `cols` values in a multi-row statement.
///
/// SQLite gets anonymous `?` placeholders: sqlx binds a numbered `$N` by asking SQLite for each
/// parameter's name, a linear walk, so a statement with thousands of `$N` parameters costs
/// quadratic time (a 1000-row INSERT of 26 columns took seconds). PostgreSQL needs `$N`.
pub(crate) fn values_placeholders(engine: Engine, rows: usize, cols: usize) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(rows * cols * 7);
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            match engine {
                Engine::Sqlite => out.push('?'),
                Engine::Postgres => {
                    let _ = write!(out, "${}", r * cols + c + 1);
                }
            }
        }
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_placeholders_per_engine() {
        assert_eq!(
            values_placeholders(Engine::Postgres, 2, 2),
            "($1, $2), ($3, $4)"
        );
        assert_eq!(
            values_placeholders(Engine::Sqlite, 2, 3),
            "(?, ?, ?), (?, ?, ?)"
        );
    }
}
