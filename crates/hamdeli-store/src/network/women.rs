//! Capable women's profiles and the history of their consent.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{AnyConnection, Result, Store, StoreError, flag, now_millis};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Woman {
    pub id: i64,
    pub name: String,
    pub mobile: Option<String>,
    pub field: String,
    pub education: String,
    pub achievements: String,
    pub skills: String,
    pub languages: Vec<String>,
    pub province_code: String,
    pub county_code: String,
    pub contact: String,
    pub consent: String,
    pub self_service: bool,
    pub is_demo: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What is written of a profile (checked by the use case).
#[derive(Debug, Clone)]
pub struct WomanFields {
    pub name: String,
    pub name_key: String,
    pub mobile: Option<String>,
    pub field: String,
    pub education: String,
    pub achievements: String,
    pub skills: String,
    pub skills_key: String,
    /// Stored form `,fa,az,`.
    pub languages: String,
    pub province_code: String,
    pub county_code: String,
    pub contact: String,
}

const SELECT: &str = "SELECT id, name, mobile, field, education, achievements, skills, languages, \
     province_code, county_code, contact, consent, self_service, is_demo, created_at, updated_at \
     FROM network_women";

fn from_row(r: &AnyRow) -> Woman {
    Woman {
        id: r.get("id"),
        name: r.get("name"),
        mobile: r.get("mobile"),
        field: r.get("field"),
        education: r.get("education"),
        achievements: r.get("achievements"),
        skills: r.get("skills"),
        languages: hamdeli_domain::network::vocab::parse_list(&r.get::<String, _>("languages")),
        province_code: r.get("province_code"),
        county_code: r.get("county_code"),
        contact: r.get("contact"),
        consent: r.get("consent"),
        self_service: r.get::<i64, _>("self_service") != 0,
        is_demo: r.get::<i64, _>("is_demo") != 0,
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

fn mobile_taken(e: sqlx::Error) -> StoreError {
    let e = StoreError::from(e);
    if e.is_unique_violation() {
        StoreError::Conflict("network-mobile-taken")
    } else {
        e
    }
}

/// Writes a new profile with its first consent (and that consent's history line).
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    conn: &mut AnyConnection,
    f: &WomanFields,
    consent: &str,
    source: &str,
    actor: &str,
    self_service: bool,
    entered_by: Option<i64>,
    is_demo: bool,
) -> Result<i64> {
    let now = now_millis();
    let row = sqlx::query(
        "INSERT INTO network_women (name, name_key, mobile, field, education, achievements, \
         skills, skills_key, languages, province_code, county_code, contact, consent, \
         self_service, entered_by, is_demo, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, \
         $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) RETURNING id",
    )
    .bind(f.name.clone())
    .bind(f.name_key.clone())
    .bind(f.mobile.clone())
    .bind(f.field.clone())
    .bind(f.education.clone())
    .bind(f.achievements.clone())
    .bind(f.skills.clone())
    .bind(f.skills_key.clone())
    .bind(f.languages.clone())
    .bind(f.province_code.clone())
    .bind(f.county_code.clone())
    .bind(f.contact.clone())
    .bind(consent.to_owned())
    .bind(flag(self_service))
    .bind(entered_by)
    .bind(flag(is_demo))
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(mobile_taken)?;
    let id: i64 = row.get(0);
    history_line(conn, id, consent, source, actor, now).await?;
    Ok(id)
}

async fn history_line(
    conn: &mut AnyConnection,
    id: i64,
    consent: &str,
    source: &str,
    actor: &str,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO network_consent_history (woman_id, consent, source, actor, at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(consent.to_owned())
    .bind(source.to_owned())
    .bind(actor.to_owned())
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn update(conn: &mut AnyConnection, id: i64, f: &WomanFields) -> Result<()> {
    let done = sqlx::query(
        "UPDATE network_women SET name = $2, name_key = $3, mobile = $4, field = $5, \
         education = $6, achievements = $7, skills = $8, skills_key = $9, languages = $10, \
         province_code = $11, county_code = $12, contact = $13, updated_at = $14 WHERE id = $1",
    )
    .bind(id)
    .bind(f.name.clone())
    .bind(f.name_key.clone())
    .bind(f.mobile.clone())
    .bind(f.field.clone())
    .bind(f.education.clone())
    .bind(f.achievements.clone())
    .bind(f.skills.clone())
    .bind(f.skills_key.clone())
    .bind(f.languages.clone())
    .bind(f.province_code.clone())
    .bind(f.county_code.clone())
    .bind(f.contact.clone())
    .bind(now_millis())
    .execute(&mut *conn)
    .await
    .map_err(mobile_taken)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Changes the consent, guarded on the level it had (a concurrent change is a conflict), and
/// keeps the change in the history.
pub async fn set_consent(
    conn: &mut AnyConnection,
    id: i64,
    from: &str,
    to: &str,
    source: &str,
    actor: &str,
) -> Result<()> {
    let now = now_millis();
    let done = sqlx::query(
        "UPDATE network_women SET consent = $3, updated_at = $4 WHERE id = $1 AND consent = $2",
    )
    .bind(id)
    .bind(from.to_owned())
    .bind(to.to_owned())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("network-consent-changed"));
    }
    history_line(conn, id, to, source, actor, now).await
}

pub async fn by_id(store: &Store, id: i64) -> Result<Option<Woman>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = $1")))
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn by_mobile(store: &Store, mobile: &str) -> Result<Option<Woman>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE mobile = $1")))
        .bind(mobile.to_owned())
        .fetch_optional(store.pool())
        .await?;
    Ok(row.as_ref().map(from_row))
}

/// Whether a profile of this name and county is there (the demo's idempotence).
pub async fn exists_named(store: &Store, name: &str, county: &str) -> Result<bool> {
    let row =
        sqlx::query("SELECT COUNT(*) FROM network_women WHERE name = $1 AND county_code = $2")
            .bind(name.to_owned())
            .bind(county.to_owned())
            .fetch_one(store.pool())
            .await?;
    Ok(row.get::<i64, _>(0) > 0)
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ConsentChange {
    pub consent: String,
    pub source: String,
    pub actor: String,
    pub at: i64,
}

pub async fn history(store: &Store, id: i64) -> Result<Vec<ConsentChange>> {
    let rows = sqlx::query(
        "SELECT consent, source, actor, at FROM network_consent_history WHERE woman_id = $1 \
         ORDER BY at, id",
    )
    .bind(id)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| ConsentChange {
            consent: r.get("consent"),
            source: r.get("source"),
            actor: r.get("actor"),
            at: r.get("at"),
        })
        .collect())
}

/// A search of the databank.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub field: Option<String>,
    /// A normalised skill key (a part of one matches).
    pub skill: Option<String>,
    pub province: Option<String>,
    /// The province whose "this office only" profiles the searcher may read (`None`: none).
    pub office_province: Option<String>,
    /// Only public cards (the directory).
    pub public_only: bool,
    pub limit: i64,
    pub offset: i64,
}

/// Profiles the query's consent rule lets through, newest first, and how many there are.
pub async fn search(store: &Store, q: &Query) -> Result<(Vec<Woman>, i64)> {
    let mut conditions: Vec<String> = Vec::new();
    let mut binds: Vec<String> = Vec::new();
    let next = |binds: &mut Vec<String>, v: String| {
        binds.push(v);
        format!("${}", binds.len())
    };
    if q.public_only {
        conditions.push("consent = 'public'".into());
    } else if let Some(p) = &q.office_province {
        let n = next(&mut binds, p.clone());
        conditions.push(format!(
            "(consent IN ('all_offices', 'public') OR (consent = 'office' AND province_code = {n}))"
        ));
    } else {
        conditions.push("consent IN ('all_offices', 'public')".into());
    }
    if let Some(f) = &q.field {
        let n = next(&mut binds, f.clone());
        conditions.push(format!("field = {n}"));
    }
    if let Some(p) = &q.province {
        let n = next(&mut binds, p.clone());
        conditions.push(format!("province_code = {n}"));
    }
    if let Some(s) = &q.skill {
        let n = next(&mut binds, format!("%{}%", super::like_escape(s)));
        conditions.push(format!("skills_key LIKE {n} ESCAPE '\\'"));
    }
    let filter = conditions.join(" AND ");
    let count_sql = format!("SELECT COUNT(*) FROM network_women WHERE {filter}");
    let mut count = sqlx::query(sqlx::AssertSqlSafe(count_sql));
    for b in &binds {
        count = count.bind(b.clone());
    }
    let total: i64 = count.fetch_one(store.pool()).await?.get(0);
    let sql = format!(
        "{SELECT} WHERE {filter} ORDER BY updated_at DESC, id DESC LIMIT {} OFFSET {}",
        q.limit.clamp(1, 10_000),
        q.offset.max(0)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in &binds {
        query = query.bind(b.clone());
    }
    let rows = query.fetch_all(store.pool()).await?;
    Ok((rows.iter().map(from_row).collect(), total))
}
