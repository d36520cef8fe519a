//! One-time codes by text message (a woman's self-service, a volunteer's sign-up) and the short
//! self-service sessions a proven mobile opens.

use sqlx::Row;

use crate::{AnyConnection, Result, Store, now_millis};

/// A code lives ten minutes and allows five tries.
pub const CODE_TTL_MILLIS: i64 = 10 * 60 * 1000;
pub const CODE_TRIES: i64 = 5;
/// A self-service session lives thirty minutes.
pub const SESSION_TTL_MILLIS: i64 = 30 * 60 * 1000;

/// Keeps a new code for (purpose, mobile), replacing a pending one.
pub async fn put(
    store: &Store,
    purpose: &str,
    mobile: &str,
    display_name: &str,
    code_hash: &str,
) -> Result<()> {
    let now = now_millis();
    let mut tx = store.begin().await?;
    sqlx::query(
        "DELETE FROM network_codes WHERE (purpose = $1 AND mobile = $2) OR expires_at <= $3",
    )
    .bind(purpose.to_owned())
    .bind(mobile.to_owned())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO network_codes (purpose, mobile, code_hash, display_name, expires_at, tries, \
         created_at) VALUES ($1, $2, $3, $4, $5, 0, $6)",
    )
    .bind(purpose.to_owned())
    .bind(mobile.to_owned())
    .bind(code_hash.to_owned())
    .bind(display_name.to_owned())
    .bind(now + CODE_TTL_MILLIS)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What a typed code turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tried {
    /// Right: the code is used up; the name given with it.
    Right {
        display_name: String,
    },
    Wrong,
    Expired,
    TooManyTries,
    Missing,
}

/// Counts a try (a guarded UPDATE, so concurrent guesses cannot exceed the tries) and checks
/// the code; the right one is deleted in the same transaction.
pub async fn try_code(
    conn: &mut AnyConnection,
    purpose: &str,
    mobile: &str,
    code_hash: &str,
) -> Result<Tried> {
    let now = now_millis();
    let counted = sqlx::query(
        "UPDATE network_codes SET tries = tries + 1 WHERE purpose = $1 AND mobile = $2 \
         AND tries < $3",
    )
    .bind(purpose.to_owned())
    .bind(mobile.to_owned())
    .bind(CODE_TRIES)
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query(
        "SELECT code_hash, display_name, expires_at FROM network_codes WHERE purpose = $1 \
         AND mobile = $2",
    )
    .bind(purpose.to_owned())
    .bind(mobile.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(Tried::Missing);
    };
    if counted.rows_affected() == 0 {
        return Ok(Tried::TooManyTries);
    }
    if row.get::<i64, _>("expires_at") <= now {
        return Ok(Tried::Expired);
    }
    let stored: String = row.get("code_hash");
    if stored != code_hash {
        return Ok(Tried::Wrong);
    }
    sqlx::query("DELETE FROM network_codes WHERE purpose = $1 AND mobile = $2")
        .bind(purpose.to_owned())
        .bind(mobile.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(Tried::Right {
        display_name: row.get("display_name"),
    })
}

/// Opens a self-service session for a proven mobile (the token is kept hashed).
pub async fn open_session(conn: &mut AnyConnection, token_hash: &str, mobile: &str) -> Result<()> {
    let now = now_millis();
    sqlx::query("DELETE FROM network_self_sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO network_self_sessions (token_hash, mobile, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(token_hash.to_owned())
    .bind(mobile.to_owned())
    .bind(now + SESSION_TTL_MILLIS)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The mobile of a live self-service session.
pub async fn session_mobile(store: &Store, token_hash: &str) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT mobile FROM network_self_sessions WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(token_hash.to_owned())
    .bind(now_millis())
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|r| r.get(0)))
}

pub async fn close_session(store: &Store, token_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM network_self_sessions WHERE token_hash = $1")
        .bind(token_hash.to_owned())
        .execute(store.pool())
        .await?;
    Ok(())
}
