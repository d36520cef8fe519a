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
    /// False once deactivated: its records stay, it imports nothing more and is given no new
    /// users or API keys.
    pub active: bool,
    /// When it was last edited, activated or deactivated (UTC milliseconds).
    pub updated_at: Option<i64>,
}

fn org_from_row(r: &AnyRow) -> Organisation {
    Organisation {
        id: r.get("id"),
        name_fa: r.get("name_fa"),
        name_en: r.get("name_en"),
        kind: r.get("kind"),
        province_code: r.get("province_code"),
        is_demo: r.get::<i64, _>("is_demo") != 0,
        active: r.get::<i64, _>("active") != 0,
        updated_at: r.get("updated_at"),
    }
}

const SELECT: &str = "SELECT id, name_fa, name_en, kind, province_code, is_demo, active, updated_at \
                      FROM organisations";

/// Organisations a principal may see: all for country, province and county staff (they work
/// with every organisation active in their area); a partner only its own.
pub async fn list(store: &Store, filter: &PlaceFilter) -> Result<Vec<Organisation>> {
    let rows = match filter {
        PlaceFilter::Organisation(o) => {
            sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = $1")))
                .bind(*o)
                .fetch_all(store.pool())
                .await?
        }
        PlaceFilter::Nothing => vec![],
        _ => {
            sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} ORDER BY id")))
                .fetch_all(store.pool())
                .await?
        }
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

/// The editable fields of an organisation.
pub struct OrganisationFields {
    pub name_fa: String,
    pub name_en: String,
    pub kind: String,
    pub province_code: Option<String>,
}

fn name_taken(e: sqlx::Error, code: &'static str) -> StoreError {
    let e = StoreError::from(e);
    if e.is_unique_violation() {
        StoreError::Conflict(code)
    } else {
        e
    }
}

/// Changes an organisation's names, kind and province.
pub async fn update(conn: &mut AnyConnection, id: i64, f: OrganisationFields) -> Result<()> {
    if f.name_fa.trim().is_empty() {
        return Err(StoreError::Invalid("organisation-name-required"));
    }
    if !KINDS.contains(&f.kind.as_str()) {
        return Err(StoreError::Invalid("organisation-kind-invalid"));
    }
    let done = sqlx::query(
        "UPDATE organisations SET name_fa = $2, name_en = $3, kind = $4, province_code = $5, \
         updated_at = $6 WHERE id = $1",
    )
    .bind(id)
    .bind(f.name_fa.trim().to_owned())
    .bind(f.name_en.trim().to_owned())
    .bind(f.kind)
    .bind(f.province_code)
    .bind(now_millis())
    .execute(&mut *conn)
    .await
    .map_err(|e| name_taken(e, "organisation-name-taken"))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deactivates (or reactivates) an organisation; nothing of it is removed.
pub async fn set_active(conn: &mut AnyConnection, id: i64, active: bool) -> Result<()> {
    let done = sqlx::query("UPDATE organisations SET active = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(flag(active))
        .bind(now_millis())
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// True when the organisation exists and is active.
pub async fn is_active(store: &Store, id: i64) -> Result<bool> {
    let row = sqlx::query("SELECT active FROM organisations WHERE id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.is_some_and(|r| r.get::<i64, _>(0) != 0))
}

/// A support programme of an organisation: one kind of support, coded like the need types
/// (`food`, `rent_housing`, `medical` …); its lists are filed under it (`source_lists.programme_id`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Programme {
    pub id: i64,
    pub organisation_id: i64,
    pub name_fa: String,
    pub name_en: String,
    pub support_kind: String,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: Option<i64>,
    /// How many of the organisation's lists are filed under it.
    pub lists: i64,
}

const PROGRAMME_SELECT: &str = "SELECT g.id, g.organisation_id, g.name_fa, g.name_en, \
     g.support_kind, g.active, g.created_at, g.updated_at, \
     (SELECT COUNT(*) FROM source_lists l WHERE l.programme_id = g.id) AS lists FROM programmes g";

fn programme_from_row(r: &AnyRow) -> Programme {
    Programme {
        id: r.get("id"),
        organisation_id: r.get("organisation_id"),
        name_fa: r.get("name_fa"),
        name_en: r.get("name_en"),
        support_kind: r.get("support_kind"),
        active: r.get::<i64, _>("active") != 0,
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
        lists: r.get("lists"),
    }
}

/// An organisation's programmes, active ones first.
pub async fn programmes_of(store: &Store, organisation: i64) -> Result<Vec<Programme>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{PROGRAMME_SELECT} WHERE g.organisation_id = $1 ORDER BY g.active DESC, g.id"
    )))
    .bind(organisation)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(programme_from_row).collect())
}

pub async fn programme_by_id(store: &Store, id: i64) -> Result<Option<Programme>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{PROGRAMME_SELECT} WHERE g.id = $1"
    )))
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.as_ref().map(programme_from_row))
}

/// The editable fields of a programme.
pub struct ProgrammeFields {
    pub name_fa: String,
    pub name_en: String,
    pub support_kind: String,
}

pub async fn create_programme(
    conn: &mut AnyConnection,
    organisation: i64,
    f: ProgrammeFields,
) -> Result<i64> {
    if f.name_fa.trim().is_empty() {
        return Err(StoreError::Invalid("programme-name-required"));
    }
    let row = sqlx::query(
        "INSERT INTO programmes (organisation_id, name_fa, name_en, support_kind, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(organisation)
    .bind(f.name_fa.trim().to_owned())
    .bind(f.name_en.trim().to_owned())
    .bind(f.support_kind)
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| name_taken(e, "programme-name-taken"))?;
    Ok(row.get(0))
}

pub async fn update_programme(conn: &mut AnyConnection, id: i64, f: ProgrammeFields) -> Result<()> {
    if f.name_fa.trim().is_empty() {
        return Err(StoreError::Invalid("programme-name-required"));
    }
    let done = sqlx::query(
        "UPDATE programmes SET name_fa = $2, name_en = $3, support_kind = $4, updated_at = $5 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(f.name_fa.trim().to_owned())
    .bind(f.name_en.trim().to_owned())
    .bind(f.support_kind)
    .bind(now_millis())
    .execute(&mut *conn)
    .await
    .map_err(|e| name_taken(e, "programme-name-taken"))?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn set_programme_active(conn: &mut AnyConnection, id: i64, active: bool) -> Result<()> {
    let done = sqlx::query("UPDATE programmes SET active = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(flag(active))
        .bind(now_millis())
        .execute(&mut *conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
