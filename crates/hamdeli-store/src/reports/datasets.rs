//! Data sets and their versioned definitions.

use serde::Serialize;
use sqlx::Row;

use hamdeli_domain::reports::dataset::Definition;
use hamdeli_domain::reports::period::PeriodType;

use crate::{AnyConnection, Result, Store, StoreError, now_millis};

/// Who reports a data set: each province, or each county.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Province,
    County,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::County => "county",
        }
    }
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "province" => Some(Level::Province),
            "county" => Some(Level::County),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DataSet {
    pub id: i64,
    pub code: String,
    pub name_fa: String,
    pub name_en: String,
    pub period_type: PeriodType,
    pub level: Level,
    pub due_day: i64,
    /// The reporting provinces; empty: every province.
    pub provinces: Vec<String>,
    pub version: i64,
    pub active: bool,
    pub definition: Definition,
    pub updated_at: i64,
}

impl DataSet {
    /// Whether this province reports the data set.
    pub fn reports_in(&self, province: &str) -> bool {
        self.provinces.is_empty() || self.provinces.iter().any(|p| p == province)
    }
}

/// What the national office gives to define a data set or a new version of it.
#[derive(Debug, Clone)]
pub struct NewDataSet {
    pub code: String,
    pub name_fa: String,
    pub name_en: String,
    pub period_type: PeriodType,
    pub level: Level,
    pub due_day: i64,
    pub provinces: Vec<String>,
    pub active: bool,
    pub definition: Definition,
}

const COLUMNS: &str = "d.id, d.code, d.name_fa, d.name_en, d.period_type, d.level, d.due_day, \
     d.provinces, d.version, d.active, v.definition, d.updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<DataSet> {
    let definition: String = r.get(10);
    let provinces: String = r.get(7);
    Ok(DataSet {
        id: r.get(0),
        code: r.get(1),
        name_fa: r.get(2),
        name_en: r.get(3),
        period_type: PeriodType::parse(&r.get::<String, _>(4)).unwrap_or(PeriodType::Month),
        level: Level::parse(&r.get::<String, _>(5)).unwrap_or(Level::Province),
        due_day: r.get(6),
        provinces: provinces
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        version: r.get(8),
        active: r.get::<i64, _>(9) != 0,
        definition: serde_json::from_str(&definition)
            .map_err(|e| StoreError::ReferenceData(format!("data set definition: {e}")))?,
        updated_at: r.get(11),
    })
}

pub async fn list(store: &Store) -> Result<Vec<DataSet>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM report_datasets d JOIN report_dataset_versions v \
         ON v.dataset_id = d.id AND v.version = d.version ORDER BY d.active DESC, d.code"
    )))
    .fetch_all(store.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn by_id(store: &Store, id: i64) -> Result<Option<DataSet>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM report_datasets d JOIN report_dataset_versions v \
         ON v.dataset_id = d.id AND v.version = d.version WHERE d.id = $1"
    )))
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn by_code(store: &Store, code: &str) -> Result<Option<DataSet>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM report_datasets d JOIN report_dataset_versions v \
         ON v.dataset_id = d.id AND v.version = d.version WHERE d.code = $1"
    )))
    .bind(code)
    .fetch_optional(store.pool())
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The definition of one version (a report keeps the version it was filled against).
pub async fn definition(store: &Store, id: i64, version: i64) -> Result<Option<Definition>> {
    let row = sqlx::query(
        "SELECT definition FROM report_dataset_versions WHERE dataset_id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| {
        serde_json::from_str(&r.get::<String, _>(0))
            .map_err(|e| StoreError::ReferenceData(format!("data set definition: {e}")))
    })
    .transpose()
}

fn definition_json(def: &Definition) -> Result<String> {
    serde_json::to_string(def).map_err(|e| StoreError::ReferenceData(e.to_string()))
}

/// Creates a data set at version 1; a taken code is a conflict.
pub async fn create(conn: &mut AnyConnection, new: &NewDataSet, by: Option<i64>) -> Result<i64> {
    let now = now_millis();
    let id: i64 = sqlx::query(
        "INSERT INTO report_datasets (code, name_fa, name_en, period_type, level, due_day, \
         provinces, version, active, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $10, $10) \
         ON CONFLICT (code) DO NOTHING RETURNING id",
    )
    .bind(&new.code)
    .bind(&new.name_fa)
    .bind(&new.name_en)
    .bind(new.period_type.as_str())
    .bind(new.level.as_str())
    .bind(new.due_day)
    .bind(new.provinces.join(","))
    .bind(crate::flag(new.active))
    .bind(by)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::Conflict("reports-dataset-code-taken"))?
    .get(0);
    sqlx::query(
        "INSERT INTO report_dataset_versions (dataset_id, version, definition, created_by, \
         created_at) VALUES ($1, 1, $2, $3, $4)",
    )
    .bind(id)
    .bind(definition_json(&new.definition)?)
    .bind(by)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// Changes a data set; a changed definition becomes a new version (earlier reports keep
/// theirs). Returns the current version.
pub async fn update(
    conn: &mut AnyConnection,
    id: i64,
    new: &NewDataSet,
    by: Option<i64>,
) -> Result<i64> {
    let row = sqlx::query(
        "SELECT d.version, v.definition FROM report_datasets d JOIN report_dataset_versions v \
         ON v.dataset_id = d.id AND v.version = d.version WHERE d.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let mut version: i64 = row.get(0);
    let old: String = row.get(1);
    let json = definition_json(&new.definition)?;
    let now = now_millis();
    let old_def: Option<Definition> = serde_json::from_str(&old).ok();
    if old_def.as_ref() != Some(&new.definition) {
        version += 1;
        sqlx::query(
            "INSERT INTO report_dataset_versions (dataset_id, version, definition, created_by, \
             created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(version)
        .bind(json)
        .bind(by)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "UPDATE report_datasets SET name_fa = $1, name_en = $2, period_type = $3, level = $4, \
         due_day = $5, provinces = $6, version = $7, active = $8, updated_at = $9 WHERE id = $10",
    )
    .bind(&new.name_fa)
    .bind(&new.name_en)
    .bind(new.period_type.as_str())
    .bind(new.level.as_str())
    .bind(new.due_day)
    .bind(new.provinces.join(","))
    .bind(version)
    .bind(crate::flag(new.active))
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(version)
}
