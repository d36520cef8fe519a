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
pub mod geo;
pub mod ledger;
pub mod migrations;
pub mod needs;
pub mod organisations;
pub mod passwords;
pub mod persons;
pub mod registry;
pub mod schema;
pub mod sessions;
pub mod settings;
pub mod tokens;
pub mod users;

pub use sqlx::{Any, AnyConnection, Row, Transaction};

pub type Tx = Transaction<'static, Any>;

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
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                             PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL; \
                             PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
            }
            Engine::Postgres => AnyPoolOptions::new().max_connections(16),
        };
        let pool = pool_options
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        Ok(Store {
            pool,
            engine,
            url: url.into(),
            read_audit: Default::default(),
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

    pub async fn begin(&self) -> Result<Tx> {
        Ok(self.pool.begin().await?)
    }

    /// A cheap round trip, for `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Now, as Unix milliseconds (UTC): the only form instants are stored in.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `0`/`1` flag columns, stored as integers on both engines.
pub(crate) fn flag(b: bool) -> i64 {
    i64::from(b)
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
