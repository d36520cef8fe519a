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

/// Deletes ended sessions (and sign-in counts nobody needs any more).
pub async fn purge_expired(store: &Store) -> Result<u64> {
    purge_attempts(store, now_millis()).await?;
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
        .bind(now_millis())
        .bind(now_millis() - IDLE_MILLIS)
        .execute(store.pool())
        .await?;
    Ok(done.rows_affected())
}

// ---------------------------------------------------------------------------------------------
// Sign-in attempts.
//
// The counts live in the database, not in a mutex of one process: two servers on one
// PostgreSQL database (or a restart) must see the same count, and each attempt is decided and
// recorded by ONE statement (`INSERT … ON CONFLICT … DO UPDATE … WHERE … RETURNING`), so there
// is no gap between "may it try?" and "it tried" for a parallel burst to slip through. The
// attempt is recorded before its password is checked and counts as a failure until a success
// clears it. Both engines evaluate the upsert's WHERE against the row as it is at the moment of
// the write (SQLite: one writer at a time; PostgreSQL: the conflicting row is locked and
// re-read), and return no row when the WHERE refuses: that is the refusal. Requests take their
// `now` before they queue for the write, so a later statement may carry an earlier `now` by a
// few milliseconds: the first failures are admitted by their count alone, never by the clock.

/// Attempts on one username that are checked at once; after these, each further attempt waits.
pub const ACCOUNT_FREE_FAILURES: i64 = 5;
/// The wait after the fifth failure in a row; it doubles with every further failure…
pub const ACCOUNT_FIRST_DELAY_MILLIS: i64 = 60_000;
/// …up to this.
pub const ACCOUNT_MAX_DELAY_MILLIS: i64 = 15 * 60_000;
/// Failures older than this (since the last checked attempt) are forgotten.
pub const ACCOUNT_FORGET_MILLIS: i64 = 24 * 60 * 60_000;

/// How long the next attempt must wait after the `failures`-th failure in a row.
pub fn account_delay_millis(failures: i64) -> i64 {
    if failures < ACCOUNT_FREE_FAILURES {
        return 0;
    }
    let doublings = (failures - ACCOUNT_FREE_FAILURES).min(32) as u32;
    ACCOUNT_FIRST_DELAY_MILLIS
        .saturating_mul(1i64 << doublings)
        .min(ACCOUNT_MAX_DELAY_MILLIS)
}

/// [`account_delay_millis`] as an SQL expression of the failure count `n` (constants only).
fn delay_sql(n: &str) -> String {
    let mut sql = format!("CASE WHEN {n} < {ACCOUNT_FREE_FAILURES} THEN 0");
    let mut failures = ACCOUNT_FREE_FAILURES;
    while account_delay_millis(failures) < ACCOUNT_MAX_DELAY_MILLIS {
        sql.push_str(&format!(
            " WHEN {n} = {failures} THEN {}",
            account_delay_millis(failures)
        ));
        failures += 1;
    }
    sql.push_str(&format!(" ELSE {ACCOUNT_MAX_DELAY_MILLIS} END"));
    sql
}

static RESERVE_ACCOUNT_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let fresh = "login_accounts.last_attempt_at <= $3";
    format!(
        "INSERT INTO login_accounts (subject, failures, wait_until, last_attempt_at) \
         VALUES ($1, 1, $2 + {first}, $2) \
         ON CONFLICT (subject) DO UPDATE SET \
           failures = CASE WHEN {fresh} THEN 1 ELSE login_accounts.failures + 1 END, \
           wait_until = $2 + CASE WHEN {fresh} THEN {first} ELSE {next} END, \
           last_attempt_at = $2 \
         WHERE login_accounts.failures < {ACCOUNT_FREE_FAILURES} OR login_accounts.wait_until <= $2 \
         RETURNING failures",
        first = delay_sql("1"),
        next = delay_sql("(login_accounts.failures + 1)"),
    )
});

/// The key an attempted username is counted under: the normalised username, known or not (an
/// unknown name is throttled exactly like a known one), or a hash of what was typed when it
/// cannot be a username at all (no real username contains `#`).
pub fn account_subject(typed: &str) -> String {
    match users::normalize_username(typed) {
        Ok(u) => u,
        Err(_) => {
            let folded = typed.trim().to_lowercase();
            format!("#{}", &sha256_hex(&folded)[..32])
        }
    }
}

/// What the account's count says about an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountGate {
    /// Recorded as a failure-until-proven-otherwise: check the password now.
    Check { failures: i64 },
    /// Refused without a check: the account waits until this instant.
    Wait { until: i64 },
}

/// Records an attempt on `subject` (see [`account_subject`]) from `client` before its password
/// is checked, or refuses it while the account waits.
pub async fn reserve_account_attempt(
    store: &Store,
    subject: &str,
    client: &str,
    now: i64,
) -> Result<AccountGate> {
    let row = sqlx::query(sqlx::AssertSqlSafe(RESERVE_ACCOUNT_SQL.as_str()))
        .bind(subject.to_owned())
        .bind(now)
        .bind(now - ACCOUNT_FORGET_MILLIS)
        .fetch_optional(store.pool())
        .await?;
    if let Some(row) = row {
        // The same failure by address (a second statement: if it were lost, a success from this
        // address would forget less, never more).
        sqlx::query(
            "INSERT INTO login_failures (subject, client_addr, failures, last_attempt_at) \
             VALUES ($1, $2, 1, $3) \
             ON CONFLICT (subject, client_addr) DO UPDATE SET \
               failures = CASE WHEN login_failures.last_attempt_at <= $4 THEN 1 \
                          ELSE login_failures.failures + 1 END, \
               last_attempt_at = $3",
        )
        .bind(subject.to_owned())
        .bind(client.to_owned())
        .bind(now)
        .bind(now - ACCOUNT_FORGET_MILLIS)
        .execute(store.pool())
        .await?;
        return Ok(AccountGate::Check {
            failures: row.get(0),
        });
    }
    let until: Option<i64> =
        sqlx::query_scalar("SELECT wait_until FROM login_accounts WHERE subject = $1")
            .bind(subject.to_owned())
            .fetch_optional(store.pool())
            .await?;
    Ok(AccountGate::Wait {
        until: until.unwrap_or(now).max(now),
    })
}

/// A right password from `client`: the failures that came from `client` (this attempt's
/// included) are forgotten; failures from other addresses — an attacker's — still count, and
/// the account keeps waiting for them if it was.
pub async fn forget_failures_from(store: &Store, subject: &str, client: &str) -> Result<()> {
    let mut tx = store.begin().await?;
    let own: Option<i64> = sqlx::query_scalar(
        "DELETE FROM login_failures WHERE subject = $1 AND client_addr = $2 RETURNING failures",
    )
    .bind(subject.to_owned())
    .bind(client.to_owned())
    .fetch_optional(&mut *tx)
    .await?;
    let left: Option<i64> = sqlx::query_scalar(
        "UPDATE login_accounts SET failures = CASE WHEN failures > $2 THEN failures - $2 ELSE 0 END \
         WHERE subject = $1 RETURNING failures",
    )
    .bind(subject.to_owned())
    .bind(own.unwrap_or(0))
    .fetch_optional(&mut *tx)
    .await?;
    if left == Some(0) {
        sqlx::query("DELETE FROM login_accounts WHERE subject = $1")
            .bind(subject.to_owned())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Forgets every failure of a username (an admin set a new password).
pub(crate) async fn forget_all_failures(conn: &mut AnyConnection, username: &str) -> Result<()> {
    for sql in [
        "DELETE FROM login_accounts WHERE subject = $1",
        "DELETE FROM login_failures WHERE subject = $1",
    ] {
        sqlx::query(sql)
            .bind(username.to_owned())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// One attempt counted in a fixed window (see [`reserve_window`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSlot {
    pub subject: String,
    pub hits: i64,
    pub window_start: i64,
}

/// Counts an attempt in `subject`'s fixed window of `window_millis`, or refuses it (`None`) when
/// the window already holds `max` attempts. Decided and recorded in one statement.
pub async fn reserve_window(
    store: &Store,
    subject: &str,
    max: i64,
    window_millis: i64,
    now: i64,
) -> Result<Option<WindowSlot>> {
    let row = sqlx::query(
        "INSERT INTO rate_windows (subject, hits, window_start) VALUES ($1, 1, $2) \
         ON CONFLICT (subject) DO UPDATE SET \
           hits = CASE WHEN rate_windows.window_start <= $3 THEN 1 ELSE rate_windows.hits + 1 END, \
           window_start = CASE WHEN rate_windows.window_start <= $3 THEN $2 \
                          ELSE rate_windows.window_start END \
         WHERE rate_windows.window_start <= $3 OR rate_windows.hits < $4 \
         RETURNING hits, window_start",
    )
    .bind(subject.to_owned())
    .bind(now)
    .bind(now - window_millis)
    .bind(max)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|r| WindowSlot {
        subject: subject.to_owned(),
        hits: r.get(0),
        window_start: r.get(1),
    }))
}

/// Gives a counted attempt back (a successful sign-in does not count against its address).
/// Only this attempt's own unit, and only while its window lasts.
pub async fn refund_window(store: &Store, slot: &WindowSlot) -> Result<()> {
    sqlx::query(
        "UPDATE rate_windows SET hits = hits - 1 \
         WHERE subject = $1 AND window_start = $2 AND hits > 0",
    )
    .bind(slot.subject.clone())
    .bind(slot.window_start)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Forgets sign-in counts nobody needs any more (called with [`purge_expired`]).
async fn purge_attempts(store: &Store, now: i64) -> Result<()> {
    sqlx::query("DELETE FROM login_accounts WHERE last_attempt_at <= $1 AND wait_until <= $2")
        .bind(now - ACCOUNT_FORGET_MILLIS)
        .bind(now)
        .execute(store.pool())
        .await?;
    sqlx::query("DELETE FROM login_failures WHERE last_attempt_at <= $1")
        .bind(now - ACCOUNT_FORGET_MILLIS)
        .execute(store.pool())
        .await?;
    // No window is longer than a day.
    sqlx::query("DELETE FROM rate_windows WHERE window_start <= $1")
        .bind(now - 24 * 60 * 60_000)
        .execute(store.pool())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_the_fifth_failure_and_is_capped() {
        let waits: Vec<i64> = (1..=11).map(account_delay_millis).collect();
        assert_eq!(
            waits,
            [
                0, 0, 0, 0, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000
            ]
        );
        assert_eq!(account_delay_millis(i64::MAX), ACCOUNT_MAX_DELAY_MILLIS);
        let sql = delay_sql("n");
        assert!(
            sql.starts_with("CASE WHEN n < 5 THEN 0 WHEN n = 5 THEN 60000"),
            "{sql}"
        );
        assert!(
            sql.ends_with("WHEN n = 8 THEN 480000 ELSE 900000 END"),
            "{sql}"
        );
    }

    #[test]
    fn subjects_fold_usernames_and_hash_what_cannot_be_one() {
        assert_eq!(account_subject(" Admin "), "admin");
        assert_eq!(account_subject("۰۹۱۲۱۲۳۴۵۶۷"), "09121234567");
        let odd = account_subject("a b");
        assert!(odd.starts_with('#') && odd.len() == 33, "{odd}");
        assert_eq!(odd, account_subject("A B"));
    }
}
