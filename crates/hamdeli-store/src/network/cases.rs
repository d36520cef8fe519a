//! Social emergency centres, their cases, the assignment to a volunteer and its answer, the
//! sessions she logs and the case's close. Each step is a guarded UPDATE on the state it
//! expects, and the volunteer's load moves in the same transaction.

use sqlx::Row;
use sqlx::any::AnyRow;

use hamdeli_domain::network::matching::MAX_LOAD;

use crate::{AnyConnection, Result, Store, StoreError, flag, now_millis};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Centre {
    pub id: i64,
    pub name: String,
    pub province_code: String,
    pub county_code: String,
    pub is_demo: bool,
    pub open_cases: i64,
}

pub async fn insert_centre(
    conn: &mut AnyConnection,
    name: &str,
    province: &str,
    county: &str,
    is_demo: bool,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO network_centres (name, province_code, county_code, is_demo, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(name.to_owned())
    .bind(province.to_owned())
    .bind(county.to_owned())
    .bind(flag(is_demo))
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| {
        let e = StoreError::from(e);
        if e.is_unique_violation() {
            StoreError::Conflict("network-centre-name-taken")
        } else {
            e
        }
    })?;
    Ok(row.get(0))
}

const CENTRE_SELECT: &str = "SELECT n.id, n.name, n.province_code, n.county_code, n.is_demo, \
     (SELECT COUNT(*) FROM network_cases k WHERE k.centre_id = n.id AND k.state <> 'closed') \
     AS open_cases FROM network_centres n";

fn centre_from_row(r: &AnyRow) -> Centre {
    Centre {
        id: r.get("id"),
        name: r.get("name"),
        province_code: r.get("province_code"),
        county_code: r.get("county_code"),
        is_demo: r.get::<i64, _>("is_demo") != 0,
        open_cases: r.get("open_cases"),
    }
}

/// Centres of a province and county (either may be absent: all).
pub async fn centres(
    store: &Store,
    province: Option<&str>,
    county: Option<&str>,
) -> Result<Vec<Centre>> {
    let sql = format!(
        "{CENTRE_SELECT} WHERE ($1 = '' OR n.province_code = $1) AND ($2 = '' OR n.county_code = $2) \
         ORDER BY n.province_code, n.county_code, n.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(province.unwrap_or("").to_owned())
        .bind(county.unwrap_or("").to_owned())
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(centre_from_row).collect())
}

pub async fn centre(store: &Store, id: i64) -> Result<Option<Centre>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{CENTRE_SELECT} WHERE n.id = $1"
    )))
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.as_ref().map(centre_from_row))
}

pub async fn centre_by_name(store: &Store, name: &str) -> Result<Option<i64>> {
    let row = sqlx::query("SELECT id FROM network_centres WHERE name = $1")
        .bind(name.to_owned())
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// A case; `personal` holds its personal details only when the use case read them for someone
/// allowed (the store returns them; the app decides).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Case {
    pub id: i64,
    pub centre_id: i64,
    pub province_code: String,
    pub county_code: String,
    pub specialty: String,
    pub language: String,
    pub gender_preference: Option<String>,
    pub urgency: String,
    pub state: String,
    pub volunteer_id: Option<i64>,
    pub volunteer_name: Option<String>,
    pub assigned_at: Option<i64>,
    pub accepted_at: Option<i64>,
    pub outcome: Option<String>,
    pub closed_at: Option<i64>,
    pub created_at: i64,
    pub minutes: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Personal {
    pub client_name: String,
    pub client_phone: String,
    pub details: String,
}

const CASE_SELECT: &str = "SELECT k.id, k.centre_id, n.province_code, n.county_code, k.specialty, \
     k.language, k.gender_preference, k.urgency, k.state, k.volunteer_id, v.name AS volunteer_name, \
     k.assigned_at, k.accepted_at, k.outcome, k.closed_at, k.created_at, \
     (SELECT CAST(COALESCE(SUM(s.minutes), 0) AS BIGINT) FROM network_case_sessions s WHERE s.case_id = k.id) \
     AS minutes FROM network_cases k JOIN network_centres n ON n.id = k.centre_id \
     LEFT JOIN network_volunteers v ON v.id = k.volunteer_id";

fn case_from_row(r: &AnyRow) -> Case {
    Case {
        id: r.get("id"),
        centre_id: r.get("centre_id"),
        province_code: r.get("province_code"),
        county_code: r.get("county_code"),
        specialty: r.get("specialty"),
        language: r.get("language"),
        gender_preference: r.get("gender_preference"),
        urgency: r.get("urgency"),
        state: r.get("state"),
        volunteer_id: r.get("volunteer_id"),
        volunteer_name: r.get("volunteer_name"),
        assigned_at: r.get("assigned_at"),
        accepted_at: r.get("accepted_at"),
        outcome: r.get("outcome"),
        closed_at: r.get("closed_at"),
        created_at: r.get("created_at"),
        minutes: r.get("minutes"),
    }
}

pub struct NewCase {
    pub centre_id: i64,
    pub specialty: String,
    pub language: String,
    pub gender_preference: Option<String>,
    pub urgency: String,
    pub client_name: String,
    pub client_phone: String,
    pub details: String,
    pub created_by: Option<i64>,
    pub is_demo: bool,
}

pub async fn insert_case(conn: &mut AnyConnection, c: &NewCase) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO network_cases (centre_id, specialty, language, gender_preference, urgency, \
         client_name, client_phone, details, state, created_by, is_demo, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10, $11) RETURNING id",
    )
    .bind(c.centre_id)
    .bind(c.specialty.clone())
    .bind(c.language.clone())
    .bind(c.gender_preference.clone())
    .bind(c.urgency.clone())
    .bind(c.client_name.clone())
    .bind(c.client_phone.clone())
    .bind(c.details.clone())
    .bind(c.created_by)
    .bind(flag(c.is_demo))
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.get(0))
}

pub async fn case(store: &Store, id: i64) -> Result<Option<Case>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{CASE_SELECT} WHERE k.id = $1"
    )))
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.as_ref().map(case_from_row))
}

pub async fn personal(store: &Store, id: i64) -> Result<Option<Personal>> {
    let row =
        sqlx::query("SELECT client_name, client_phone, details FROM network_cases WHERE id = $1")
            .bind(id)
            .fetch_optional(store.pool())
            .await?;
    Ok(row.map(|r| Personal {
        client_name: r.get(0),
        client_phone: r.get(1),
        details: r.get(2),
    }))
}

/// Cases of a centre, open ones first, most urgent first.
pub async fn of_centre(store: &Store, centre: i64) -> Result<Vec<Case>> {
    let sql = format!(
        "{CASE_SELECT} WHERE k.centre_id = $1 ORDER BY CASE WHEN k.state = 'closed' THEN 1 ELSE 0 END, \
         CASE k.urgency WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, \
         k.id DESC LIMIT 500"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(centre)
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(case_from_row).collect())
}

/// Cases assigned to a volunteer (any state but open).
pub async fn of_volunteer(store: &Store, volunteer: i64) -> Result<Vec<Case>> {
    let sql = format!(
        "{CASE_SELECT} WHERE k.volunteer_id = $1 ORDER BY CASE WHEN k.state = 'closed' THEN 1 ELSE 0 END, k.id DESC LIMIT 500"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(volunteer)
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(case_from_row).collect())
}

/// Open cases (for the benchmark): (id, specialty, county).
pub async fn open_cases(store: &Store, limit: i64) -> Result<Vec<(i64, String, String)>> {
    let sql = format!(
        "SELECT k.id, k.specialty, n.county_code FROM network_cases k JOIN network_centres n \
         ON n.id = k.centre_id WHERE k.state = 'open' ORDER BY k.id LIMIT {}",
        limit.clamp(1, 100_000)
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(store.pool())
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// The centre assigns an open case to a verified volunteer under her load limit.
pub async fn assign(conn: &mut AnyConnection, case_id: i64, volunteer: i64) -> Result<()> {
    let now = now_millis();
    let loaded = sqlx::query(
        "UPDATE network_volunteers SET open_cases = open_cases + 1 WHERE id = $1 \
         AND status = 'verified' AND open_cases < $2",
    )
    .bind(volunteer)
    .bind(MAX_LOAD)
    .execute(&mut *conn)
    .await?;
    if loaded.rows_affected() == 0 {
        return Err(StoreError::Conflict("network-volunteer-unavailable"));
    }
    let done = sqlx::query(
        "UPDATE network_cases SET state = 'assigned', volunteer_id = $2, assigned_at = $3 \
         WHERE id = $1 AND state = 'open'",
    )
    .bind(case_id)
    .bind(volunteer)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("network-case-not-open"));
    }
    Ok(())
}

/// The volunteer accepts or declines a case assigned to her; declining reopens it and she is
/// not proposed for it again.
pub async fn respond(
    conn: &mut AnyConnection,
    case_id: i64,
    volunteer: i64,
    accept: bool,
) -> Result<()> {
    let now = now_millis();
    if accept {
        let done = sqlx::query(
            "UPDATE network_cases SET state = 'accepted', accepted_at = $3 WHERE id = $1 \
             AND volunteer_id = $2 AND state = 'assigned'",
        )
        .bind(case_id)
        .bind(volunteer)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict("network-case-not-assigned"));
        }
        return Ok(());
    }
    let done = sqlx::query(
        "UPDATE network_cases SET state = 'open', volunteer_id = NULL, assigned_at = NULL \
         WHERE id = $1 AND volunteer_id = $2 AND state = 'assigned'",
    )
    .bind(case_id)
    .bind(volunteer)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("network-case-not-assigned"));
    }
    unload(conn, volunteer).await?;
    sqlx::query(
        "INSERT INTO network_case_declines (case_id, volunteer_id, at) VALUES ($1, $2, $3)",
    )
    .bind(case_id)
    .bind(volunteer)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        let e = StoreError::from(e);
        if e.is_unique_violation() {
            StoreError::Conflict("network-case-not-assigned")
        } else {
            e
        }
    })?;
    Ok(())
}

async fn unload(conn: &mut AnyConnection, volunteer: i64) -> Result<()> {
    sqlx::query(
        "UPDATE network_volunteers SET open_cases = open_cases - 1 WHERE id = $1 AND open_cases > 0",
    )
    .bind(volunteer)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A session the volunteer held on an accepted case.
pub async fn log_session(
    conn: &mut AnyConnection,
    case_id: i64,
    volunteer: i64,
    held_on: &str,
    minutes: i64,
    note: &str,
) -> Result<i64> {
    let ok = sqlx::query(
        "SELECT COUNT(*) FROM network_cases WHERE id = $1 AND volunteer_id = $2 AND state = 'accepted'",
    )
    .bind(case_id)
    .bind(volunteer)
    .fetch_one(&mut *conn)
    .await?;
    if ok.get::<i64, _>(0) == 0 {
        return Err(StoreError::Conflict("network-case-not-accepted"));
    }
    let row = sqlx::query(
        "INSERT INTO network_case_sessions (case_id, volunteer_id, held_on, minutes, note, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(case_id)
    .bind(volunteer)
    .bind(held_on.to_owned())
    .bind(minutes)
    .bind(note.to_owned())
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.get(0))
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Session {
    pub id: i64,
    pub held_on: String,
    pub minutes: i64,
    pub note: String,
}

pub async fn sessions(store: &Store, case_id: i64) -> Result<Vec<Session>> {
    let rows = sqlx::query(
        "SELECT id, held_on, minutes, note FROM network_case_sessions WHERE case_id = $1 \
         ORDER BY held_on, id",
    )
    .bind(case_id)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Session {
            id: r.get(0),
            held_on: r.get(1),
            minutes: r.get(2),
            note: r.get(3),
        })
        .collect())
}

/// Closes a case with its outcome from the state it had; an assigned or accepted case frees
/// its volunteer's load.
pub async fn close(conn: &mut AnyConnection, case_id: i64, outcome: &str) -> Result<()> {
    let row = sqlx::query("SELECT state, volunteer_id FROM network_cases WHERE id = $1")
        .bind(case_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let state: String = row.get(0);
    let volunteer: Option<i64> = row.get(1);
    if state == "closed" {
        return Err(StoreError::Conflict("network-case-closed"));
    }
    let done = sqlx::query(
        "UPDATE network_cases SET state = 'closed', outcome = $3, closed_at = $4 \
         WHERE id = $1 AND state = $2",
    )
    .bind(case_id)
    .bind(state.clone())
    .bind(outcome.to_owned())
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("network-case-closed"));
    }
    if let Some(v) = volunteer.filter(|_| state == "assigned" || state == "accepted") {
        unload(conn, v).await?;
    }
    Ok(())
}
