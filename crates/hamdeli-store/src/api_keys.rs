//! API keys for partner organisations' systems: scoped like users, stored hashed, revocable.
//! A key reads `hmd_<prefix>_<secret>`; the prefix finds the row, the hash proves the secret.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use hamdeli_domain::{PlaceFilter, Principal, Role, Scope};

use crate::tokens::{random_token, sha256_hex};
use crate::users::{scope_columns, scope_from_row};
use crate::{AnyConnection, Result, Store, StoreError, now_millis};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: i64,
    pub prefix: String,
    pub name: String,
    #[schema(value_type = String)]
    pub role: Role,
    #[schema(value_type = Object)]
    pub scope: Scope,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl ApiKey {
    pub fn principal(&self) -> Principal {
        Principal {
            user_id: None,
            api_key_id: Some(self.id),
            name: format!("api-key:{}", self.prefix),
            role: self.role,
            scope: self.scope.clone(),
        }
    }
}

fn key_from_row(r: &AnyRow) -> Option<ApiKey> {
    let role = Role::parse(&r.get::<String, _>("role"))?;
    Some(ApiKey {
        id: r.get("id"),
        prefix: r.get("prefix"),
        name: r.get("name"),
        role,
        scope: scope_from_row(role, r),
        created_at: r.get("created_at"),
        last_used_at: r.get("last_used_at"),
        revoked_at: r.get("revoked_at"),
    })
}

const COLUMNS: &str = "SELECT id, prefix, name, role, scope_province, scope_county, \
    scope_organisation, created_at, last_used_at, revoked_at FROM api_keys";

/// Issues a key for an organisation; returns its id and the one-time secret to show.
pub async fn issue(
    conn: &mut AnyConnection,
    organisation: i64,
    name: &str,
    created_by: Option<i64>,
) -> Result<(i64, String)> {
    let name = name.trim();
    if name.is_empty() {
        return Err(StoreError::Invalid("api-key-name-required"));
    }
    let prefix = random_token()[..12].to_owned();
    let secret = random_token();
    let (province, county, org) = scope_columns(&Scope::Organisation { organisation });
    let row = sqlx::query(
        "INSERT INTO api_keys (prefix, key_hash, name, role, scope_province, scope_county, \
         scope_organisation, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         RETURNING id",
    )
    .bind(prefix.clone())
    .bind(sha256_hex(&secret))
    .bind(name.to_owned())
    .bind(Role::PartnerOrg.as_str())
    .bind(province)
    .bind(county)
    .bind(org)
    .bind(created_by)
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| {
        let e = StoreError::from(e);
        if e.to_string().contains("FOREIGN KEY") || e.to_string().contains("foreign key") {
            StoreError::Invalid("scope-unknown-organisation")
        } else {
            e
        }
    })?;
    Ok((row.get(0), format!("hmd_{prefix}_{secret}")))
}

/// The live key a presented secret belongs to.
pub async fn authenticate(store: &Store, presented: &str) -> Result<Option<ApiKey>> {
    let Some(rest) = presented.strip_prefix("hmd_") else {
        return Ok(None);
    };
    let Some((prefix, secret)) = rest.split_once('_') else {
        return Ok(None);
    };
    let row = sqlx::query(
        "SELECT id, prefix, name, role, scope_province, scope_county, scope_organisation, \
         created_at, last_used_at, revoked_at, key_hash FROM api_keys \
         WHERE prefix = $1 AND revoked_at IS NULL",
    )
    .bind(prefix.to_owned())
    .fetch_optional(store.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let stored: String = row.get("key_hash");
    if !constant_time_eq(stored.as_bytes(), sha256_hex(secret).as_bytes()) {
        return Ok(None);
    }
    let key = key_from_row(&row);
    if let Some(k) = &key {
        sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE id = $1")
            .bind(k.id)
            .bind(now_millis())
            .execute(store.pool())
            .await?;
    }
    Ok(key)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn list(store: &Store, filter: &PlaceFilter) -> Result<Vec<ApiKey>> {
    let rows = match filter {
        PlaceFilter::All => {
            sqlx::query(sqlx::AssertSqlSafe(format!("{COLUMNS} ORDER BY id DESC")))
                .fetch_all(store.pool())
                .await?
        }
        PlaceFilter::Organisation(o) => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{COLUMNS} WHERE scope_organisation = $1 ORDER BY id DESC"
            )))
            .bind(*o)
            .fetch_all(store.pool())
            .await?
        }
        _ => vec![],
    };
    Ok(rows.iter().filter_map(key_from_row).collect())
}

pub async fn by_id(store: &Store, id: i64) -> Result<Option<ApiKey>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{COLUMNS} WHERE id = $1")))
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.as_ref().and_then(key_from_row))
}

pub async fn revoke(conn: &mut AnyConnection, id: i64) -> Result<()> {
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now_millis())
            .execute(&mut *conn)
            .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
