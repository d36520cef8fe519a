//! Sign-in sessions, kept in the database so they survive a restart. The cookie holds a random
//! token; the table holds only its hash.

use sqlx::Row;

use crate::tokens::{random_token, sha256_hex};
use crate::users::{self, User};
use crate::{AnyConnection, Result, Store, now_millis};

/// Sessions end after this long without use, and after this long in any case.
pub const IDLE_MILLIS: i64 = 12 * 60 * 60 * 1000;
pub const MAX_AGE_MILLIS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Starts a session and returns the token for the cookie.
pub async fn create(conn: &mut AnyConnection, user_id: i64, client_addr: &str) -> Result<String> {
    let token = random_token();
    let now = now_millis();
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at, client_addr) \
         VALUES ($1, $2, $3, $4, $3, $5)",
    )
    .bind(sha256_hex(&token))
    .bind(user_id)
    .bind(now)
    .bind(now + MAX_AGE_MILLIS)
    .bind(client_addr.to_owned())
    .execute(&mut *conn)
    .await?;
    Ok(token)
}

/// The active user behind a session token, refreshing its last use.
pub async fn user_for_token(store: &Store, token: &str) -> Result<Option<User>> {
    let now = now_millis();
    let hash = sha256_hex(token);
    let row = sqlx::query(
        "SELECT user_id, last_seen_at FROM sessions WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(hash.clone())
    .bind(now)
    .fetch_optional(store.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let user_id: i64 = row.get(0);
    let last_seen: i64 = row.get(1);
    if now - last_seen > IDLE_MILLIS {
        let mut conn = store.pool().acquire().await?;
        delete(&mut conn, token).await?;
        return Ok(None);
    }
    // One write a minute at most per session keeps busy pages off the write lock.
    if now - last_seen > 60_000 {
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
            .bind(hash)
            .bind(now)
            .execute(store.pool())
            .await?;
    }
    Ok(users::by_id(store, user_id).await?.filter(|u| u.active))
}

pub async fn delete(conn: &mut AnyConnection, token: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(sha256_hex(token))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Signs a user out everywhere but the given session (after a password change).
pub async fn delete_others(store: &Store, user_id: i64, keep_token: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(user_id)
        .bind(sha256_hex(keep_token))
        .execute(store.pool())
        .await?;
    Ok(())
}

pub async fn purge_expired(store: &Store) -> Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(now_millis())
        .bind(now_millis() - IDLE_MILLIS)
        .execute(store.pool())
        .await?;
    Ok(done.rows_affected())
}
