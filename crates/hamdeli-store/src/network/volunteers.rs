//! Volunteer specialists: their profiles and licences, the provincial office's check, the
//! licence sweep and its notices, and the candidates matching narrows with SQL.

use sqlx::Row;
use sqlx::any::AnyRow;

use hamdeli_domain::network::matching::{Candidate, MAX_LOAD};
use hamdeli_domain::network::vocab::parse_list;

use crate::{AnyConnection, Result, Store, StoreError, flag, now_millis};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Volunteer {
    pub id: i64,
    pub user_id: Option<i64>,
    pub name: String,
    pub mobile: String,
    pub gender: String,
    pub specialty: String,
    pub licence_number: String,
    pub licence_issuer: String,
    pub licence_expires_on: String,
    pub languages: Vec<String>,
    pub remote: bool,
    pub province_code: String,
    pub counties: Vec<String>,
    pub weekly_hours: i64,
    pub days: i64,
    pub status: String,
    pub status_note: String,
    pub checked_at: Option<i64>,
    pub open_cases: i64,
    pub is_demo: bool,
    pub created_at: i64,
}

/// What is written of a volunteer (checked by the use case).
#[derive(Debug, Clone)]
pub struct VolunteerFields {
    pub name: String,
    pub mobile: String,
    pub gender: String,
    pub specialty: String,
    pub licence_number: String,
    pub licence_issuer: String,
    pub licence_expires_on: String,
    /// Stored form `,fa,az,`.
    pub languages: String,
    pub remote: bool,
    pub province_code: String,
    pub counties: Vec<String>,
    pub weekly_hours: i64,
    pub days: i64,
}

const SELECT: &str = "SELECT id, user_id, name, mobile, gender, specialty, licence_number, \
     licence_issuer, licence_expires_on, languages, remote, province_code, weekly_hours, days, \
     status, status_note, checked_at, open_cases, is_demo, created_at FROM network_volunteers";

fn from_row(r: &AnyRow) -> Volunteer {
    Volunteer {
        id: r.get("id"),
        user_id: r.get("user_id"),
        name: r.get("name"),
        mobile: r.get("mobile"),
        gender: r.get("gender"),
        specialty: r.get("specialty"),
        licence_number: r.get("licence_number"),
        licence_issuer: r.get("licence_issuer"),
        licence_expires_on: r.get("licence_expires_on"),
        languages: parse_list(&r.get::<String, _>("languages")),
        remote: r.get::<i64, _>("remote") != 0,
        province_code: r.get("province_code"),
        counties: Vec::new(),
        weekly_hours: r.get("weekly_hours"),
        days: r.get("days"),
        status: r.get("status"),
        status_note: r.get("status_note"),
        checked_at: r.get("checked_at"),
        open_cases: r.get("open_cases"),
        is_demo: r.get::<i64, _>("is_demo") != 0,
        created_at: r.get("created_at"),
    }
}

async fn with_counties(store: &Store, mut v: Volunteer) -> Result<Volunteer> {
    let rows = sqlx::query(
        "SELECT county_code FROM network_volunteer_counties WHERE volunteer_id = $1 \
         ORDER BY county_code",
    )
    .bind(v.id)
    .fetch_all(store.pool())
    .await?;
    v.counties = rows.iter().map(|r| r.get(0)).collect();
    Ok(v)
}

async fn write_counties(conn: &mut AnyConnection, id: i64, counties: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM network_volunteer_counties WHERE volunteer_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for c in counties {
        sqlx::query(
            "INSERT INTO network_volunteer_counties (volunteer_id, county_code) VALUES ($1, $2)",
        )
        .bind(id)
        .bind(c.clone())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn insert(
    conn: &mut AnyConnection,
    f: &VolunteerFields,
    user_id: Option<i64>,
    status: &str,
    is_demo: bool,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO network_volunteers (user_id, name, mobile, gender, specialty, \
         licence_number, licence_issuer, licence_expires_on, languages, remote, province_code, \
         weekly_hours, days, status, is_demo, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, \
         $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
    )
    .bind(user_id)
    .bind(f.name.clone())
    .bind(f.mobile.clone())
    .bind(f.gender.clone())
    .bind(f.specialty.clone())
    .bind(f.licence_number.clone())
    .bind(f.licence_issuer.clone())
    .bind(f.licence_expires_on.clone())
    .bind(f.languages.clone())
    .bind(flag(f.remote))
    .bind(f.province_code.clone())
    .bind(f.weekly_hours)
    .bind(f.days)
    .bind(status.to_owned())
    .bind(flag(is_demo))
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| {
        let e = StoreError::from(e);
        if e.is_unique_violation() {
            StoreError::Conflict("network-volunteer-exists")
        } else {
            e
        }
    })?;
    let id: i64 = row.get(0);
    write_counties(conn, id, &f.counties).await?;
    Ok(id)
}

/// Changes a profile; `recheck` sends her back to the office's check (a new licence).
pub async fn update(
    conn: &mut AnyConnection,
    id: i64,
    f: &VolunteerFields,
    recheck: bool,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE network_volunteers SET name = $2, mobile = $3, gender = $4, specialty = $5, \
         licence_number = $6, licence_issuer = $7, licence_expires_on = $8, languages = $9, \
         remote = $10, province_code = $11, weekly_hours = $12, days = $13, \
         status = CASE WHEN $14 = 1 AND status <> 'rejected' THEN 'pending' ELSE status END \
         WHERE id = $1",
    )
    .bind(id)
    .bind(f.name.clone())
    .bind(f.mobile.clone())
    .bind(f.gender.clone())
    .bind(f.specialty.clone())
    .bind(f.licence_number.clone())
    .bind(f.licence_issuer.clone())
    .bind(f.licence_expires_on.clone())
    .bind(f.languages.clone())
    .bind(flag(f.remote))
    .bind(f.province_code.clone())
    .bind(f.weekly_hours)
    .bind(f.days)
    .bind(flag(recheck))
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    write_counties(conn, id, &f.counties).await
}

pub async fn by_id(store: &Store, id: i64) -> Result<Option<Volunteer>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE id = $1")))
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    match row {
        Some(r) => Ok(Some(with_counties(store, from_row(&r)).await?)),
        None => Ok(None),
    }
}

pub async fn by_user(store: &Store, user: i64) -> Result<Option<Volunteer>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE user_id = $1")))
        .bind(user)
        .fetch_optional(store.pool())
        .await?;
    match row {
        Some(r) => Ok(Some(with_counties(store, from_row(&r)).await?)),
        None => Ok(None),
    }
}

/// Volunteers of a province (all with `None`), of one status if given, newest first.
pub async fn list(
    store: &Store,
    province: Option<&str>,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<Volunteer>> {
    let sql = format!(
        "{SELECT} WHERE ($1 = '' OR province_code = $1) AND ($2 = '' OR status = $2) \
         ORDER BY id DESC LIMIT {}",
        limit.clamp(1, 5000)
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(province.unwrap_or("").to_owned())
        .bind(status.unwrap_or("").to_owned())
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// The office's check: moves her from one of `from` to `to`, guarded.
pub async fn set_status(
    conn: &mut AnyConnection,
    id: i64,
    from: &str,
    to: &str,
    note: &str,
    checked_by: Option<i64>,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE network_volunteers SET status = $3, status_note = $4, checked_by = $5, \
         checked_at = $6 WHERE id = $1 AND status = $2",
    )
    .bind(id)
    .bind(from.to_owned())
    .bind(to.to_owned())
    .bind(note.to_owned())
    .bind(checked_by)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("network-volunteer-status-changed"));
    }
    Ok(())
}

/// Verified volunteers whose licence expired before `today`: (id, name, province).
pub async fn expired(store: &Store, today: &str) -> Result<Vec<(i64, String, String)>> {
    let rows = sqlx::query(
        "SELECT id, name, province_code FROM network_volunteers WHERE status = 'verified' \
         AND licence_expires_on < $1 ORDER BY id",
    )
    .bind(today.to_owned())
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// An in-app notice to a province's office.
pub async fn notify(
    conn: &mut AnyConnection,
    province: &str,
    kind: &str,
    subject_kind: &str,
    subject_id: i64,
    subject_name: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO network_notices (province_code, kind, subject_kind, subject_id, \
         subject_name, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(province.to_owned())
    .bind(kind.to_owned())
    .bind(subject_kind.to_owned())
    .bind(subject_id)
    .bind(subject_name.to_owned())
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Notice {
    pub id: i64,
    pub province_code: String,
    pub kind: String,
    pub subject_kind: String,
    pub subject_id: i64,
    pub subject_name: String,
    pub created_at: i64,
    /// When an office marked it read (Unix milliseconds).
    pub read_at: Option<i64>,
}

/// The newest notices of a province (all with `None`).
pub async fn notices(store: &Store, province: Option<&str>, limit: i64) -> Result<Vec<Notice>> {
    let sql = format!(
        "SELECT id, province_code, kind, subject_kind, subject_id, subject_name, created_at, \
         read_at FROM network_notices WHERE ($1 = '' OR province_code = $1) ORDER BY id DESC LIMIT {}",
        limit.clamp(1, 500)
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(province.unwrap_or("").to_owned())
        .fetch_all(store.pool())
        .await?;
    Ok(rows
        .iter()
        .map(|r| Notice {
            id: r.get("id"),
            province_code: r.get("province_code"),
            kind: r.get("kind"),
            subject_kind: r.get("subject_kind"),
            subject_id: r.get("subject_id"),
            subject_name: r.get("subject_name"),
            created_at: r.get("created_at"),
            read_at: r.get("read_at"),
        })
        .collect())
}

/// Marks a notice of the province (any with `None`) read; an already read one keeps its time.
/// False when there is no such notice in the province.
pub async fn mark_notice_read(
    conn: &mut AnyConnection,
    id: i64,
    province: Option<&str>,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE network_notices SET read_at = COALESCE(read_at, $1) \
         WHERE id = $2 AND ($3 = '' OR province_code = $3)",
    )
    .bind(now_millis())
    .bind(id)
    .bind(province.unwrap_or("").to_owned())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n > 0)
}

/// Whether a volunteer profile has this mobile (normalised).
pub async fn mobile_taken(store: &Store, mobile: &str) -> Result<bool> {
    Ok(
        sqlx::query("SELECT id FROM network_volunteers WHERE mobile = $1 LIMIT 1")
            .bind(mobile.to_owned())
            .fetch_optional(store.pool())
            .await?
            .is_some(),
    )
}

/// Gives a new volunteer account the profile an office entered for her mobile (the oldest one
/// without an account); the profile's id, if there was one.
pub async fn claim_by_mobile(
    conn: &mut AnyConnection,
    mobile: &str,
    user: i64,
) -> Result<Option<i64>> {
    let row =
        sqlx::query("SELECT MIN(id) FROM network_volunteers WHERE mobile = $1 AND user_id IS NULL")
            .bind(mobile.to_owned())
            .fetch_one(&mut *conn)
            .await?;
    let Some(id) = row.get::<Option<i64>, _>(0) else {
        return Ok(None);
    };
    let n =
        sqlx::query("UPDATE network_volunteers SET user_id = $1 WHERE id = $2 AND user_id IS NULL")
            .bind(user)
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    Ok((n > 0).then_some(id))
}

/// What matching asks of the store for one case.
#[derive(Debug, Clone)]
pub struct CandidateQuery<'a> {
    pub case_id: i64,
    pub specialty: &'a str,
    pub county: &'a str,
    pub language: &'a str,
    /// `f`, `m`, or `None`.
    pub gender_preference: Option<&'a str>,
    pub today: &'a str,
    /// Of the remote volunteers (not in the county) only the best this many by the same score
    /// matching gives (`None`: all). Every remote volunteer shares the specialty, licence and
    /// remote points, so ranking them in SQL by language, gender, hours and load — with
    /// matching's tie-break (lighter load, lower id) — keeps the top `k` of the union exact
    /// for any `k` up to this.
    pub remote_limit: Option<i64>,
}

const CANDIDATE_COLUMNS: &str = "v.id, v.specialty, v.licence_expires_on, v.remote, v.languages, \
     v.gender, v.weekly_hours, v.open_cases";

/// The common filter: the specialty, verified, a licence valid today, hours offered, under the
/// load limit, not one who declined this case.
const CANDIDATE_FILTER: &str = "v.specialty = $1 AND v.status = 'verified' \
     AND v.licence_expires_on >= $4 AND v.weekly_hours > 0 AND v.open_cases < $5 \
     AND NOT EXISTS (SELECT 1 FROM network_case_declines d \
                     WHERE d.case_id = $3 AND d.volunteer_id = v.id)";

fn candidate_of(r: &AnyRow, in_county: bool) -> Candidate {
    Candidate {
        volunteer_id: r.get(0),
        specialty: r.get(1),
        licence_expires_on: r.get(2),
        remote: r.get::<i64, _>(3) != 0,
        languages: parse_list(&r.get::<String, _>(4)),
        gender: r.get(5),
        weekly_hours: r.get(6),
        open_cases: r.get(7),
        in_county,
    }
}

/// The volunteers who could take a case, narrowed in SQL (two index walks: the county's
/// volunteers, and the remote ones of the specialty ranked in SQL); matching scores them.
pub async fn candidates(store: &Store, q: &CandidateQuery<'_>) -> Result<Vec<Candidate>> {
    let local = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CANDIDATE_COLUMNS} FROM network_volunteer_counties c \
         JOIN network_volunteers v ON v.id = c.volunteer_id \
         WHERE c.county_code = $2 AND {CANDIDATE_FILTER}"
    )))
    .bind(q.specialty.to_owned())
    .bind(q.county.to_owned())
    .bind(q.case_id)
    .bind(q.today.to_owned())
    .bind(MAX_LOAD)
    .fetch_all(store.pool())
    .await?;
    // The remote arm's score beyond the points all of them share (see matching::score).
    let limit = match q.remote_limit {
        Some(k) => format!(
            "ORDER BY (CASE WHEN v.languages LIKE $6 THEN 15 ELSE 0 END \
             + CASE WHEN $7 = '' THEN 0 WHEN v.gender = $7 THEN 10 ELSE -30 END \
             + CASE WHEN v.weekly_hours > 10 THEN 10 ELSE v.weekly_hours END \
             - 5 * v.open_cases) DESC, v.open_cases, v.id LIMIT {}",
            k.clamp(1, 10_000)
        ),
        None => "AND CAST($6 AS TEXT) = CAST($6 AS TEXT) AND CAST($7 AS TEXT) = CAST($7 AS TEXT)"
            .to_owned(),
    };
    let remote = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CANDIDATE_COLUMNS} FROM network_volunteers v \
         WHERE v.remote = 1 AND {CANDIDATE_FILTER} \
         AND NOT EXISTS (SELECT 1 FROM network_volunteer_counties c2 \
                         WHERE c2.volunteer_id = v.id AND c2.county_code = $2) {limit}"
    )))
    .bind(q.specialty.to_owned())
    .bind(q.county.to_owned())
    .bind(q.case_id)
    .bind(q.today.to_owned())
    .bind(MAX_LOAD)
    .bind(format!("%,{},%", super::like_escape(q.language)))
    .bind(q.gender_preference.unwrap_or("").to_owned())
    .fetch_all(store.pool())
    .await?;
    Ok(local
        .iter()
        .map(|r| candidate_of(r, true))
        .chain(remote.iter().map(|r| candidate_of(r, false)))
        .collect())
}

/// Names of volunteers by id (for a proposal list).
pub async fn names(store: &Store, ids: &[i64]) -> Result<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    let sql = format!(
        "SELECT id, name FROM network_volunteers WHERE id IN ({})",
        list.join(",")
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Hours (minutes) a volunteer logged.
pub async fn minutes_logged(store: &Store, id: i64) -> Result<i64> {
    let sql = format!(
        "SELECT {} FROM network_case_sessions WHERE volunteer_id = $1",
        crate::saturating_sum(store.engine(), "minutes")
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(store.pool())
        .await?;
    Ok(row.get(0))
}
