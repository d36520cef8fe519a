//! Accounts: who may sign in, with which role and scope.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use hamdeli_domain::{PlaceFilter, Principal, Role, Scope};

use crate::passwords::{self, check_strength};
use crate::{AnyConnection, Result, Store, StoreError, flag, now_millis};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[schema(value_type = String)]
    pub role: Role,
    #[schema(value_type = Object)]
    pub scope: Scope,
    pub locale: String,
    pub active: bool,
    pub is_demo: bool,
    /// While failed sign-ins make the account wait (see `sessions::reserve_account_attempt`):
    /// until when. There is no lock; the wait is at most a quarter of an hour.
    pub locked_until: Option<i64>,
    pub created_at: i64,
}

impl User {
    pub fn principal(&self) -> Principal {
        Principal {
            user_id: Some(self.id),
            api_key_id: None,
            name: self.username.clone(),
            role: self.role,
            scope: self.scope.clone(),
        }
    }
}

/// What an admin form or the CLI gives to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub role: Role,
    pub scope: Scope,
    pub locale: String,
    pub is_demo: bool,
}

const COLUMNS: &str = "id, username, display_name, role, scope_province, scope_county, \
    scope_organisation, locale, active, is_demo, \
    (SELECT a.wait_until FROM login_accounts a WHERE a.subject = users.username) AS locked_until, \
    created_at";

/// Rebuilds a scope from its columns; a row whose role or scope no longer parses is treated
/// as having no access at all rather than failing the page.
pub(crate) fn scope_from_row(role: Role, r: &AnyRow) -> Scope {
    let province: Option<String> = r.get("scope_province");
    let county: Option<String> = r.get("scope_county");
    let org: Option<i64> = r.get("scope_organisation");
    Scope::for_role(role, province.as_deref(), county.as_deref(), org).unwrap_or(Scope::Own)
}

pub(crate) fn scope_columns(scope: &Scope) -> (Option<String>, Option<String>, Option<i64>) {
    (
        scope.province().map(String::from),
        scope.county().map(String::from),
        scope.organisation(),
    )
}

fn user_from_row(r: &AnyRow) -> Option<User> {
    let role = Role::parse(&r.get::<String, _>("role"))?;
    Some(User {
        id: r.get("id"),
        username: r.get("username"),
        display_name: r.get("display_name"),
        role,
        scope: scope_from_row(role, r),
        locale: r.get("locale"),
        active: r.get::<i64, _>("active") != 0,
        is_demo: r.get::<i64, _>("is_demo") != 0,
        locked_until: r
            .get::<Option<i64>, _>("locked_until")
            .filter(|until| *until > now_millis()),
        created_at: r.get("created_at"),
    })
}

/// Usernames are ASCII, case-insensitive, 3–64 characters of letters, digits, `.`, `_`, `-`.
pub fn normalize_username(raw: &str) -> Result<String, &'static str> {
    // Donors sign in with their mobile number, typed in any digit script.
    let u: String = raw
        .trim()
        .chars()
        .map(|c| match c {
            '۰'..='۹' => char::from_digit(c as u32 - '۰' as u32, 10).unwrap_or(c),
            '٠'..='٩' => char::from_digit(c as u32 - '٠' as u32, 10).unwrap_or(c),
            c => c.to_ascii_lowercase(),
        })
        .collect();
    if u.len() < 3 || u.len() > 64 {
        return Err("username-invalid");
    }
    if !u
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err("username-invalid");
    }
    Ok(u)
}

/// Checks that the scope's places and organisation exist and fit together.
async fn check_scope(conn: &mut AnyConnection, scope: &Scope) -> Result<()> {
    if let Some(p) = scope.province() {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM provinces WHERE code = $1")
            .bind(p)
            .fetch_one(&mut *conn)
            .await?
            .get(0);
        if n == 0 {
            return Err(StoreError::Invalid("scope-unknown-province"));
        }
    }
    if let (Some(p), Some(c)) = (scope.province(), scope.county()) {
        let n: i64 =
            sqlx::query("SELECT COUNT(*) FROM counties WHERE code = $1 AND province_code = $2")
                .bind(c)
                .bind(p)
                .fetch_one(&mut *conn)
                .await?
                .get(0);
        if n == 0 {
            return Err(StoreError::Invalid("scope-unknown-county"));
        }
    }
    if let Some(o) = scope.organisation() {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM organisations WHERE id = $1")
            .bind(o)
            .fetch_one(&mut *conn)
            .await?
            .get(0);
        if n == 0 {
            return Err(StoreError::Invalid("scope-unknown-organisation"));
        }
    }
    Ok(())
}

/// Creates a user inside the caller's transaction (so the audit entry commits with it).
pub async fn create(conn: &mut AnyConnection, new: NewUser) -> Result<i64> {
    let username = normalize_username(&new.username).map_err(StoreError::Invalid)?;
    check_strength(&new.password).map_err(StoreError::Invalid)?;
    if new.display_name.trim().is_empty() {
        return Err(StoreError::Invalid("display-name-required"));
    }
    check_scope(conn, &new.scope).await?;
    let hash = passwords::hash_password_blocking(new.password).await?;
    let (province, county, org) = scope_columns(&new.scope);
    let now = now_millis();
    let result = sqlx::query(
        "INSERT INTO users (username, display_name, password_hash, role, scope_province, \
         scope_county, scope_organisation, locale, is_demo, password_changed_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
    )
    .bind(username)
    .bind(new.display_name.trim().to_owned())
    .bind(hash)
    .bind(new.role.as_str())
    .bind(province)
    .bind(county)
    .bind(org)
    .bind(new.locale)
    .bind(flag(new.is_demo))
    .bind(now)
    .fetch_one(&mut *conn)
    .await;
    match result {
        Ok(row) => Ok(row.get(0)),
        Err(e) => {
            let e = StoreError::from(e);
            if e.is_unique_violation() {
                Err(StoreError::Conflict("username-taken"))
            } else {
                Err(e)
            }
        }
    }
}

pub async fn by_id(store: &Store, id: i64) -> Result<Option<User>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM users WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.as_ref().and_then(user_from_row))
}

/// What the login check needs: the user and the stored hash.
pub struct LoginCandidate {
    pub user: User,
    pub password_hash: String,
}

pub async fn for_login(store: &Store, username: &str) -> Result<Option<LoginCandidate>> {
    let Ok(username) = normalize_username(username) else {
        return Ok(None);
    };
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS}, password_hash FROM users WHERE username = $1"
    )))
    .bind(username)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.and_then(|r| {
        Some(LoginCandidate {
            user: user_from_row(&r)?,
            password_hash: r.get("password_hash"),
        })
    }))
}

/// The users a principal with this filter may manage, newest first.
pub async fn list(store: &Store, filter: &PlaceFilter) -> Result<Vec<User>> {
    let select = |clause: &str| {
        AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM users WHERE {clause} ORDER BY id DESC"
        ))
    };
    let pool = store.pool();
    let rows = match filter {
        PlaceFilter::All => sqlx::query(select("1 = 1")).fetch_all(pool).await?,
        PlaceFilter::Province(p) => {
            sqlx::query(select("scope_province = $1"))
                .bind(p)
                .fetch_all(pool)
                .await?
        }
        PlaceFilter::County(c) => {
            sqlx::query(select("scope_county = $1"))
                .bind(c)
                .fetch_all(pool)
                .await?
        }
        PlaceFilter::Organisation(o) => {
            sqlx::query(select("scope_organisation = $1"))
                .bind(*o)
                .fetch_all(pool)
                .await?
        }
        PlaceFilter::Nothing => return Ok(vec![]),
    };
    Ok(rows.iter().filter_map(user_from_row).collect())
}

pub async fn count(store: &Store, filter: &PlaceFilter) -> Result<i64> {
    Ok(list(store, filter).await?.len() as i64)
}

pub async fn update_role_and_scope(
    conn: &mut AnyConnection,
    id: i64,
    role: Role,
    scope: &Scope,
) -> Result<()> {
    check_scope(conn, scope).await?;
    let (province, county, org) = scope_columns(scope);
    let done = sqlx::query(
        "UPDATE users SET role = $2, scope_province = $3, scope_county = $4,          scope_organisation = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(role.as_str())
    .bind(province)
    .bind(county)
    .bind(org)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    // A changed scope must take effect now, not at the next sign-in.
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Sets a new password, forgets failed sign-ins (no wait) and signs the user out everywhere.
pub async fn set_password(conn: &mut AnyConnection, id: i64, password: String) -> Result<()> {
    check_strength(&password).map_err(StoreError::Invalid)?;
    let hash = passwords::hash_password_blocking(password).await?;
    let done = sqlx::query(
        "UPDATE users SET password_hash = $2, password_changed_at = $3, failed_logins = 0,          locked_until = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(hash)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    let username: Option<String> = sqlx::query_scalar("SELECT username FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(username) = username {
        crate::sessions::forget_all_failures(conn, &username).await?;
    }
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn set_active(conn: &mut AnyConnection, id: i64, active: bool) -> Result<()> {
    sqlx::query("UPDATE users SET active = $2 WHERE id = $1")
        .bind(id)
        .bind(flag(active))
        .execute(&mut *conn)
        .await?;
    if !active {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn set_locale(store: &Store, id: i64, locale: &str) -> Result<()> {
    sqlx::query("UPDATE users SET locale = $2 WHERE id = $1")
        .bind(id)
        .bind(locale)
        .execute(store.pool())
        .await?;
    Ok(())
}

pub async fn id_by_username(store: &Store, username: &str) -> Result<Option<i64>> {
    let Ok(username) = normalize_username(username) else {
        return Ok(None);
    };
    let row = sqlx::query("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| r.get(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(
            normalize_username("  Admin.Tehran "),
            Ok("admin.tehran".into())
        );
        assert_eq!(normalize_username("ab"), Err("username-invalid"));
        assert_eq!(normalize_username("علی"), Err("username-invalid"));
        assert_eq!(normalize_username("a b c"), Err("username-invalid"));
    }
}
