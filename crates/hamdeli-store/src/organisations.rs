//! Organisations that keep lists and give aid: relief committee, welfare organisation,
//! charities, NGOs, and the women and family affairs offices themselves.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use hamdeli_domain::PlaceFilter;

use crate::{AnyConnection, Result, Store, StoreError, flag, now_millis};

pub const KINDS: [&str; 5] = ["relief_committee", "welfare", "charity", "ngo", "office"];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Organisation {
    pub id: i64,
    pub name_fa: String,
    pub name_en: String,
    pub kind: String,
    pub province_code: Option<String>,
    pub is_demo: bool,
}

fn org_from_row(r: &AnyRow) -> Organisation {
    Organisation {
        id: r.get("id"),
        name_fa: r.get("name_fa"),
        name_en: r.get("name_en"),
        kind: r.get("kind"),
        province_code: r.get("province_code"),
        is_demo: r.get::<i64, _>("is_demo") != 0,
    }
}

const SELECT: &str = "SELECT id, name_fa, name_en, kind, province_code, is_demo FROM organisations";

/// Organisations a principal may see: all for country, province and county staff (they work
/// with every organisation active in their area); a partner only its own.
pub async fn list(store: &Store, filter: &PlaceFilter) -> Result<Vec<Organisation>> {
    let rows = match filter {
        PlaceFilter::Organisation(o) => {
            sqlx::query("SELECT id, name_fa, name_en, kind, province_code, is_demo FROM organisations WHERE id = $1")
                .bind(*o)
                .fetch_all(store.pool())
                .await?
        }
        PlaceFilter::Nothing => vec![],
        _ => sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY id")))
            .fetch_all(store.pool())
            .await?,
    };
    Ok(rows.iter().map(org_from_row).collect())
}

pub async fn by_id(store: &Store, id: i64) -> Result<Option<Organisation>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = $1")))
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.as_ref().map(org_from_row))
}

pub struct NewOrganisation {
    pub name_fa: String,
    pub name_en: String,
    pub kind: String,
    pub province_code: Option<String>,
    pub is_demo: bool,
}

pub async fn create(conn: &mut AnyConnection, new: NewOrganisation) -> Result<i64> {
    if new.name_fa.trim().is_empty() {
        return Err(StoreError::Invalid("organisation-name-required"));
    }
    if !KINDS.contains(&new.kind.as_str()) {
        return Err(StoreError::Invalid("organisation-kind-invalid"));
    }
    let row = sqlx::query(
        "INSERT INTO organisations (name_fa, name_en, kind, province_code, is_demo, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(new.name_fa.trim().to_owned())
    .bind(new.name_en.trim().to_owned())
    .bind(new.kind)
    .bind(new.province_code)
    .bind(flag(new.is_demo))
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| {
        let e = StoreError::from(e);
        if e.is_unique_violation() {
            StoreError::Conflict("organisation-name-taken")
        } else {
            e
        }
    })?;
    Ok(row.get(0))
}

pub async fn id_by_name(store: &Store, name_fa: &str) -> Result<Option<i64>> {
    let row = sqlx::query("SELECT id FROM organisations WHERE name_fa = $1")
        .bind(name_fa.to_owned())
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| r.get(0)))
}
