//! NGOs' licences, lifecycle (with every step kept) and training courses, keyed by the
//! organisation (kind `ngo`).

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{AnyConnection, Result, Store, StoreError, now_millis};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Ngo {
    pub organisation_id: i64,
    pub name_fa: String,
    pub name_en: String,
    /// The organisation's own province (organisations table).
    pub organisation_province: Option<String>,
    pub organisation_active: bool,
    /// `None` until a licence was registered.
    pub licence: Option<Licence>,
    pub trainings: i64,
    pub training_hours: i64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Licence {
    pub state: String,
    pub licence_issuer: String,
    pub licence_number: String,
    pub licence_expires_on: String,
    pub fields: String,
    pub province_code: Option<String>,
    pub county_code: Option<String>,
    pub board: String,
    pub capacity: i64,
    pub updated_at: i64,
}

/// What an office registers of a licence.
#[derive(Debug, Clone)]
pub struct LicenceFields {
    pub licence_issuer: String,
    pub licence_number: String,
    pub licence_expires_on: String,
    pub fields: String,
    pub province_code: Option<String>,
    pub county_code: Option<String>,
    pub board: String,
    pub capacity: i64,
}

const SELECT: &str = "SELECT o.id, o.name_fa, o.name_en, o.province_code AS org_province, o.active, \
     n.state, n.licence_issuer, n.licence_number, n.licence_expires_on, n.fields, n.province_code, \
     n.county_code, n.board, n.capacity, n.updated_at, \
     (SELECT COUNT(*) FROM network_trainings t WHERE t.organisation_id = o.id) AS trainings, \
     (SELECT CAST(COALESCE(SUM(t.hours), 0) AS BIGINT) FROM network_trainings t \
      WHERE t.organisation_id = o.id) AS training_hours \
     FROM organisations o LEFT JOIN network_ngos n ON n.organisation_id = o.id";

fn from_row(r: &AnyRow) -> Ngo {
    let state: Option<String> = r.get("state");
    Ngo {
        organisation_id: r.get("id"),
        name_fa: r.get("name_fa"),
        name_en: r.get("name_en"),
        organisation_province: r.get("org_province"),
        organisation_active: r.get::<i64, _>("active") != 0,
        licence: state.map(|state| Licence {
            state,
            licence_issuer: r.get("licence_issuer"),
            licence_number: r.get("licence_number"),
            licence_expires_on: r.get("licence_expires_on"),
            fields: r.get("fields"),
            province_code: r.get("province_code"),
            county_code: r.get("county_code"),
            board: r.get("board"),
            capacity: r.get("capacity"),
            updated_at: r.get("updated_at"),
        }),
        trainings: r.get("trainings"),
        training_hours: r.get("training_hours"),
    }
}

/// NGOs (organisations of kind `ngo`) of a province (all with `None`), with their licences.
pub async fn list(store: &Store, province: Option<&str>) -> Result<Vec<Ngo>> {
    let sql = format!(
        "{SELECT} WHERE o.kind = 'ngo' AND ($1 = '' OR o.province_code = $1 OR n.province_code = $1) \
         ORDER BY o.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(province.unwrap_or("").to_owned())
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(from_row).collect())
}

/// One NGO; `None` when the organisation does not exist or is not an NGO.
pub async fn get(store: &Store, organisation: i64) -> Result<Option<Ngo>> {
    let sql = format!("{SELECT} WHERE o.kind = 'ngo' AND o.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(organisation)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.as_ref().map(from_row))
}

/// The organisation's kind and, when it is an NGO with a licence, its state and expiry.
pub async fn standing(
    conn: &mut AnyConnection,
    organisation: i64,
) -> Result<Option<(String, Option<(String, String)>)>> {
    let row = sqlx::query(
        "SELECT o.kind, n.state, n.licence_expires_on FROM organisations o \
         LEFT JOIN network_ngos n ON n.organisation_id = o.id WHERE o.id = $1",
    )
    .bind(organisation)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| {
        let kind: String = r.get(0);
        let state: Option<String> = r.get(1);
        let expires: Option<String> = r.get(2);
        (kind, state.zip(expires))
    }))
}

/// Registers the licence (a new NGO record starts `applied`) or changes it.
pub async fn put_licence(
    conn: &mut AnyConnection,
    organisation: i64,
    f: &LicenceFields,
    actor: &str,
) -> Result<bool> {
    let now = now_millis();
    let updated = sqlx::query(
        "UPDATE network_ngos SET licence_issuer = $2, licence_number = $3, \
         licence_expires_on = $4, fields = $5, province_code = $6, county_code = $7, board = $8, \
         capacity = $9, updated_at = $10 WHERE organisation_id = $1",
    )
    .bind(organisation)
    .bind(f.licence_issuer.clone())
    .bind(f.licence_number.clone())
    .bind(f.licence_expires_on.clone())
    .bind(f.fields.clone())
    .bind(f.province_code.clone())
    .bind(f.county_code.clone())
    .bind(f.board.clone())
    .bind(f.capacity)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if updated.rows_affected() > 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO network_ngos (organisation_id, state, licence_issuer, licence_number, \
         licence_expires_on, fields, province_code, county_code, board, capacity, created_at, \
         updated_at) VALUES ($1, 'applied', $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(organisation)
    .bind(f.licence_issuer.clone())
    .bind(f.licence_number.clone())
    .bind(f.licence_expires_on.clone())
    .bind(f.fields.clone())
    .bind(f.province_code.clone())
    .bind(f.county_code.clone())
    .bind(f.board.clone())
    .bind(f.capacity)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    event(conn, organisation, None, "applied", actor, "").await?;
    Ok(true)
}

async fn event(
    conn: &mut AnyConnection,
    organisation: i64,
    from: Option<&str>,
    to: &str,
    actor: &str,
    note: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO network_ngo_events (organisation_id, from_state, to_state, actor, note, at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(organisation)
    .bind(from.map(str::to_owned))
    .bind(to.to_owned())
    .bind(actor.to_owned())
    .bind(note.to_owned())
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A lifecycle step, guarded on the state it leaves, kept as an event.
pub async fn set_state(
    conn: &mut AnyConnection,
    organisation: i64,
    from: &str,
    to: &str,
    actor: &str,
    note: &str,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE network_ngos SET state = $3, updated_at = $4 WHERE organisation_id = $1 \
         AND state = $2",
    )
    .bind(organisation)
    .bind(from.to_owned())
    .bind(to.to_owned())
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("network-ngo-state-changed"));
    }
    event(conn, organisation, Some(from), to, actor, note).await
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Event {
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor: String,
    pub note: String,
    pub at: i64,
}

pub async fn events(store: &Store, organisation: i64) -> Result<Vec<Event>> {
    let rows = sqlx::query(
        "SELECT from_state, to_state, actor, note, at FROM network_ngo_events \
         WHERE organisation_id = $1 ORDER BY at, id",
    )
    .bind(organisation)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Event {
            from_state: r.get(0),
            to_state: r.get(1),
            actor: r.get(2),
            note: r.get(3),
            at: r.get(4),
        })
        .collect())
}

/// Active NGOs whose licence ran out before `today`.
pub async fn expired_active(store: &Store, today: &str) -> Result<Vec<i64>> {
    let rows = sqlx::query(
        "SELECT organisation_id FROM network_ngos WHERE state = 'active' \
         AND licence_expires_on < $1 ORDER BY organisation_id",
    )
    .bind(today.to_owned())
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Training {
    pub id: i64,
    pub title: String,
    pub held_on: String,
    pub hours: i64,
    pub certificate: String,
}

pub async fn add_training(
    conn: &mut AnyConnection,
    organisation: i64,
    title: &str,
    held_on: &str,
    hours: i64,
    certificate: &str,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO network_trainings (organisation_id, title, held_on, hours, certificate, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(organisation)
    .bind(title.to_owned())
    .bind(held_on.to_owned())
    .bind(hours)
    .bind(certificate.to_owned())
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.get(0))
}

pub async fn trainings(store: &Store, organisation: i64) -> Result<Vec<Training>> {
    let rows = sqlx::query(
        "SELECT id, title, held_on, hours, certificate FROM network_trainings \
         WHERE organisation_id = $1 ORDER BY held_on DESC, id DESC",
    )
    .bind(organisation)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Training {
            id: r.get(0),
            title: r.get(1),
            held_on: r.get(2),
            hours: r.get(3),
            certificate: r.get(4),
        })
        .collect())
}
