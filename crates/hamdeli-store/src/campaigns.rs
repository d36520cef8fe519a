//! Campaigns (پویش), donors, pledges and donations (capability C). A pledge becomes a donation
//! when an office records its receipt; the donation adds to the campaign's pool and gets a
//! receipt code, and the transparency log gets an entry (amounts and codes, never names).

use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

use hamdeli_domain::CampaignOwner;
use hamdeli_domain::needs::receipt_code;

use crate::{AnyConnection, Result, Store, StoreError, ledger, now_millis};

/// The pool resource of money; goods pools are named by their need type.
pub const MONEY: &str = "money";

/// The most one pledge of money may be: 100 billion rials (10 billion tomans). With the caps on a
/// donor's open pledges below, no sum of pledges a page shows comes near an integer's limit.
pub const MAX_PLEDGE_RIALS: i64 = 100_000_000_000;

/// The most one pledge of goods may be, in units.
pub const MAX_PLEDGE_UNITS: i64 = 1_000_000;

/// How many pledges a donor may have open (pledged, not yet received) on one campaign.
pub const MAX_OPEN_PLEDGES: i64 = 10;

/// How much a donor's open pledges on one campaign may add up to, as a multiple of one
/// pledge's cap ([`max_pledge`]): 500 billion rials of money, 5 million units of goods.
pub const MAX_OPEN_PLEDGE_MULTIPLE: i64 = 5;

/// The cap of one pledge (and of one receipt) of `resource`.
pub fn max_pledge(resource: &str) -> i64 {
    if resource == MONEY {
        MAX_PLEDGE_RIALS
    } else {
        MAX_PLEDGE_UNITS
    }
}

/// `a + b` for amounts of money or goods, refused with a message id instead of overflowing.
pub fn add_amounts(a: i64, b: i64) -> Result<i64> {
    a.checked_add(b)
        .ok_or(StoreError::Invalid("money-sum-too-large"))
}

#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub title: String,
    pub description: String,
    pub organisation_id: Option<i64>,
    pub province_code: Option<String>,
    pub county_code: Option<String>,
    pub goal_rials: i64,
    pub starts_on: String,
    pub ends_on: String,
    /// (need type, goal in units for goods; 0 for none).
    pub need_types: Vec<(String, i64)>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Campaign {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub organisation_id: Option<i64>,
    pub organisation_fa: Option<String>,
    pub province_code: Option<String>,
    pub county_code: Option<String>,
    pub goal_rials: i64,
    pub starts_on: String,
    pub ends_on: String,
    pub status: String,
    pub created_at: i64,
    /// When it was last edited (none: never).
    pub updated_at: Option<i64>,
    /// When it was closed (none: open, or closed before closing was recorded).
    pub closed_at: Option<i64>,
}

impl Campaign {
    pub fn owner(&self) -> CampaignOwner {
        CampaignOwner {
            province: self.province_code.clone(),
            organisation: self.organisation_id,
        }
    }
}

/// A need type a campaign serves, with its goods goal and what came in and went out.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CampaignPool {
    pub resource: String,
    pub goal: i64,
    pub pledged: i64,
    pub received: i64,
    pub allocated: i64,
}

/// What a campaign's form may hold, checked the same way on creation and on edit.
fn check_fields(
    title: &str,
    need_types: &[(String, i64)],
    goal_rials: i64,
    starts_on: &str,
    ends_on: &str,
) -> Result<()> {
    if title.trim().is_empty() {
        return Err(StoreError::Invalid("campaign-title-required"));
    }
    if need_types.is_empty() {
        return Err(StoreError::Invalid("campaign-types-required"));
    }
    if goal_rials < 0 || need_types.iter().any(|(_, g)| *g < 0) {
        return Err(StoreError::Invalid("campaign-goal-negative"));
    }
    if ends_on < starts_on {
        return Err(StoreError::Invalid("campaign-dates-order"));
    }
    Ok(())
}

/// Adds a need type to a campaign: its goal and, for goods, a pool of its own (money types
/// share the campaign's money).
async fn add_need_type(conn: &mut AnyConnection, campaign: i64, t: &str, goal: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO campaign_need_types (campaign_id, need_type, goal_units) VALUES ($1, $2, $3)",
    )
    .bind(campaign)
    .bind(t.to_owned())
    .bind(goal)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO campaign_pools (campaign_id, resource) \
         SELECT $1, code FROM need_types WHERE code = $2 AND unit = 'unit'",
    )
    .bind(campaign)
    .bind(t.to_owned())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn create(conn: &mut AnyConnection, c: &NewCampaign, by: Option<i64>) -> Result<i64> {
    check_fields(
        &c.title,
        &c.need_types,
        c.goal_rials,
        &c.starts_on,
        &c.ends_on,
    )?;
    let id: i64 = sqlx::query(
        "INSERT INTO campaigns (title, description, organisation_id, province_code, county_code, \
         goal_rials, starts_on, ends_on, status, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $10) RETURNING id",
    )
    .bind(c.title.trim().to_owned())
    .bind(c.description.trim().to_owned())
    .bind(c.organisation_id)
    .bind(c.province_code.clone())
    .bind(c.county_code.clone())
    .bind(c.goal_rials)
    .bind(c.starts_on.clone())
    .bind(c.ends_on.clone())
    .bind(by)
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await?
    .get(0);
    sqlx::query("INSERT INTO campaign_pools (campaign_id, resource) VALUES ($1, $2)")
        .bind(id)
        .bind(MONEY)
        .execute(&mut *conn)
        .await?;
    for (t, goal) in &c.need_types {
        add_need_type(conn, id, t, *goal).await?;
    }
    ledger::append(
        conn,
        "campaign.created",
        &serde_json::json!({
            "campaign": id,
            "title": c.title.trim(),
            "province": c.province_code,
            "county": c.county_code,
            "goal_rials": c.goal_rials,
            "need_types": c.need_types.iter().map(|(t, g)| serde_json::json!({"type": t, "goal_units": g})).collect::<Vec<_>>(),
        }),
    )
    .await?;
    Ok(id)
}

const CAMPAIGN_COLUMNS: &str = "c.id, c.title, c.description, c.organisation_id, o.name_fa, \
     c.province_code, c.county_code, c.goal_rials, c.starts_on, c.ends_on, c.status, c.created_at, \
     c.updated_at, c.closed_at";

fn campaign_from_row(r: &sqlx::any::AnyRow) -> Campaign {
    Campaign {
        id: r.get(0),
        title: r.get(1),
        description: r.get(2),
        organisation_id: r.get(3),
        organisation_fa: r.get(4),
        province_code: r.get(5),
        county_code: r.get(6),
        goal_rials: r.get(7),
        starts_on: r.get(8),
        ends_on: r.get(9),
        status: r.get(10),
        created_at: r.get(11),
        updated_at: r.get(12),
        closed_at: r.get(13),
    }
}

pub async fn list(store: &Store) -> Result<Vec<Campaign>> {
    let sql = format!(
        "SELECT {CAMPAIGN_COLUMNS} FROM campaigns c LEFT JOIN organisations o ON o.id = c.organisation_id \
         ORDER BY CASE c.status WHEN 'active' THEN 0 ELSE 1 END, c.id DESC"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(campaign_from_row).collect())
}

pub async fn get(store: &Store, id: i64) -> Result<Option<Campaign>> {
    let sql = format!(
        "SELECT {CAMPAIGN_COLUMNS} FROM campaigns c LEFT JOIN organisations o ON o.id = c.organisation_id \
         WHERE c.id = $1"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.as_ref().map(campaign_from_row))
}

/// What the owner may change of a campaign: its words, eligible county (inside its province),
/// goals, dates and need types. The province and the owner stay.
#[derive(Debug, Clone)]
pub struct CampaignEdit {
    pub title: String,
    pub description: String,
    pub county_code: Option<String>,
    pub goal_rials: i64,
    pub starts_on: String,
    pub ends_on: String,
    /// (need type, goal in units for goods; 0 for none).
    pub need_types: Vec<(String, i64)>,
}

/// Edits an active campaign in the caller's transaction. A need type may be dropped only while
/// nothing was pledged, received or allocated for it; the transparency log gets the new terms.
pub async fn update(conn: &mut AnyConnection, id: i64, e: &CampaignEdit) -> Result<()> {
    check_fields(
        &e.title,
        &e.need_types,
        e.goal_rials,
        &e.starts_on,
        &e.ends_on,
    )?;
    let now = now_millis();
    let changed = sqlx::query(
        "UPDATE campaigns SET title = $1, description = $2, county_code = $3, goal_rials = $4, \
         starts_on = $5, ends_on = $6, updated_at = $7 WHERE id = $8 AND status = 'active'",
    )
    .bind(e.title.trim().to_owned())
    .bind(e.description.trim().to_owned())
    .bind(e.county_code.clone())
    .bind(e.goal_rials)
    .bind(e.starts_on.clone())
    .bind(e.ends_on.clone())
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed == 0 {
        let exists = sqlx::query("SELECT COUNT(*) FROM campaigns WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?
            .get::<i64, _>(0);
        return Err(if exists == 0 {
            StoreError::NotFound
        } else {
            StoreError::Conflict("campaign-closed-edit")
        });
    }
    let current: Vec<String> =
        sqlx::query("SELECT need_type FROM campaign_need_types WHERE campaign_id = $1")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
    for t in current
        .iter()
        .filter(|t| !e.need_types.iter().any(|(n, _)| n == *t))
    {
        let used = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM pledges WHERE campaign_id = $1 AND resource = $2 \
               AND status <> 'cancelled') \
             + (SELECT COUNT(*) FROM campaign_pools WHERE campaign_id = $1 AND resource = $2 \
               AND (received <> 0 OR allocated <> 0)) \
             + (SELECT COUNT(*) FROM allocations a JOIN allocation_batches b ON b.id = a.batch_id \
               WHERE b.campaign_id = $1 AND a.need_type = $2)",
        )
        .bind(id)
        .bind(t.clone())
        .fetch_one(&mut *conn)
        .await?
        .get::<i64, _>(0);
        if used > 0 {
            return Err(StoreError::Conflict("campaign-type-in-use"));
        }
        sqlx::query("DELETE FROM campaign_need_types WHERE campaign_id = $1 AND need_type = $2")
            .bind(id)
            .bind(t.clone())
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM campaign_pools WHERE campaign_id = $1 AND resource = $2")
            .bind(id)
            .bind(t.clone())
            .execute(&mut *conn)
            .await?;
    }
    for (t, goal) in &e.need_types {
        if current.contains(t) {
            sqlx::query(
                "UPDATE campaign_need_types SET goal_units = $1 WHERE campaign_id = $2 AND need_type = $3",
            )
            .bind(*goal)
            .bind(id)
            .bind(t.clone())
            .execute(&mut *conn)
            .await?;
        } else {
            add_need_type(conn, id, t, *goal).await?;
        }
    }
    ledger::append(
        conn,
        "campaign.updated",
        &serde_json::json!({
            "campaign": id,
            "title": e.title.trim(),
            "county": e.county_code,
            "goal_rials": e.goal_rials,
            "starts_on": e.starts_on,
            "ends_on": e.ends_on,
            "need_types": e.need_types.iter().map(|(t, g)| serde_json::json!({"type": t, "goal_units": g})).collect::<Vec<_>>(),
        }),
    )
    .await?;
    Ok(())
}

/// Closes an active campaign in the caller's transaction: no pledge is taken after (the
/// pledge's own transaction checks the status under a lock), and the transparency log says so.
pub async fn close(conn: &mut AnyConnection, id: i64, by: Option<i64>) -> Result<()> {
    let now = now_millis();
    let changed = sqlx::query(
        "UPDATE campaigns SET status = 'closed', closed_at = $1, closed_by = $2 \
         WHERE id = $3 AND status = 'active'",
    )
    .bind(now)
    .bind(by)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(StoreError::Conflict("campaign-already-closed"));
    }
    ledger::append(
        conn,
        "campaign.closed",
        &serde_json::json!({ "campaign": id }),
    )
    .await?;
    Ok(())
}

/// Today's date in Iran (UTC+03:30, no daylight saving since 2022) as an ISO date: the day a
/// campaign's inclusive `ends_on` is compared with (the same rule as `hamdeli_locale::clock`).
pub fn iran_today_iso(unix_millis: i64) -> String {
    const IRAN_OFFSET_MILLIS: i64 = (3 * 3600 + 30 * 60) * 1000;
    let days = (unix_millis + IRAN_OFFSET_MILLIS).div_euclid(86_400_000);
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

pub async fn set_status(conn: &mut AnyConnection, id: i64, status: &str) -> Result<()> {
    if status != "active" && status != "closed" {
        return Err(StoreError::Invalid("campaign-status-invalid"));
    }
    sqlx::query("UPDATE campaigns SET status = $1 WHERE id = $2")
        .bind(status)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The pools of a campaign: money first, then its need types in order. What was pledged is a
/// sum that saturates at the largest integer instead of failing (see [`crate::saturating_sum`]).
pub async fn pools(store: &Store, campaign: i64) -> Result<Vec<CampaignPool>> {
    let sql = format!(
        "SELECT cp.resource, COALESCE(ct.goal_units, 0), \
         (SELECT {pledged} FROM pledges pl WHERE pl.campaign_id = cp.campaign_id \
            AND pl.resource = cp.resource AND pl.status <> 'cancelled'), \
         cp.received, cp.allocated \
         FROM campaign_pools cp \
         LEFT JOIN campaign_need_types ct ON ct.campaign_id = cp.campaign_id AND ct.need_type = cp.resource \
         LEFT JOIN need_types t ON t.code = cp.resource \
         WHERE cp.campaign_id = $1 ORDER BY CASE cp.resource WHEN 'money' THEN -1 ELSE COALESCE(t.sort, 0) END",
        pledged = crate::saturating_sum(store.engine(), "pl.amount"),
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(campaign)
        .fetch_all(store.pool())
        .await?;
    Ok(rows
        .iter()
        .map(|r| CampaignPool {
            resource: r.get(0),
            goal: r.get(1),
            pledged: r.get(2),
            received: r.get(3),
            allocated: r.get(4),
        })
        .collect())
}

/// The need types a campaign serves.
pub async fn need_types_of(store: &Store, campaign: i64) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT ct.need_type FROM campaign_need_types ct JOIN need_types t ON t.code = ct.need_type \
         WHERE ct.campaign_id = $1 ORDER BY t.sort",
    )
    .bind(campaign)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

// ---------------------------------------------------------------------------------------------
// Donors

#[derive(Debug, Clone, Serialize)]
pub struct Donor {
    pub id: i64,
    pub user_id: i64,
    pub mobile: String,
}

/// Makes a donor of a new user account (created by the caller in the same transaction).
pub async fn register_donor(conn: &mut AnyConnection, user_id: i64, mobile: &str) -> Result<i64> {
    let done = sqlx::query(
        "INSERT INTO donors (user_id, mobile, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(user_id)
    .bind(mobile.to_owned())
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await;
    match done {
        Ok(r) => Ok(r.get(0)),
        Err(e) => {
            let e = StoreError::from(e);
            if e.is_unique_violation() {
                Err(StoreError::Conflict("donor-mobile-taken"))
            } else {
                Err(e)
            }
        }
    }
}

/// Whether a mobile number already has an account or a donor profile.
pub async fn mobile_registered(store: &Store, mobile: &str) -> Result<bool> {
    let n: i64 = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM donors WHERE mobile = $1) \
         + (SELECT COUNT(*) FROM users WHERE username = $1)",
    )
    .bind(mobile.to_owned())
    .fetch_one(store.pool())
    .await?
    .get(0);
    Ok(n > 0)
}

/// How long a sign-up code is valid.
pub const SIGNUP_CODE_MILLIS: i64 = 10 * 60 * 1000;

/// How many codes may be typed for one sign-up code before it is dead.
pub const SIGNUP_CODE_TRIES: i64 = 5;

/// The stored form of a sign-up code: HMAC-SHA-256 under the server's key of the mobile and the
/// code, in hex. A code has only a million values, so a plain hash would give it away to
/// whoever reads the table; without the key it gives nothing.
pub fn signup_code_hash(key: &[u8], mobile: &str, code: &str) -> String {
    hex::encode(hmac_sha256(
        key,
        &[mobile.as_bytes(), b":", code.as_bytes()],
    ))
}

/// HMAC-SHA-256 (RFC 2104) of the concatenated parts.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| k.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let mut inner = Sha256::new().chain_update(pad(0x36));
    for p in parts {
        inner.update(p);
    }
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner.finalize())
        .finalize()
        .into()
}

/// A fresh six-digit code from the thread's cryptographic generator (seeded by the OS).
pub fn new_signup_code() -> String {
    format!(
        "{:06}",
        rand::Rng::random_range(&mut rand::rng(), 0..1_000_000u32)
    )
}

/// Keeps a new sign-up code for a mobile, valid [`SIGNUP_CODE_MILLIS`] from `now`; it replaces
/// an earlier code of the number (and its count of tries).
pub async fn put_signup_code(
    store: &Store,
    mobile: &str,
    display_name: &str,
    code_hash: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO donor_signup_codes (mobile, display_name, code_hash, expires_at, tries, created_at) \
         VALUES ($1, $2, $3, $4, 0, $5) \
         ON CONFLICT (mobile) DO UPDATE SET display_name = excluded.display_name, \
           code_hash = excluded.code_hash, expires_at = excluded.expires_at, tries = 0, \
           created_at = excluded.created_at",
    )
    .bind(mobile.to_owned())
    .bind(display_name.to_owned())
    .bind(code_hash.to_owned())
    .bind(now + SIGNUP_CODE_MILLIS)
    .bind(now)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// What a typed sign-up code came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignupCode {
    /// The right code, in time: the pending sign-up is gone, here is its name.
    Right { display_name: String },
    /// A wrong code; this many tries are left.
    Wrong { tries_left: i64 },
    /// The code's ten minutes are over.
    Expired,
    /// Five wrong codes were typed already: refused unchecked.
    TooManyTries,
    /// No code was sent to this number (or it was used).
    Missing,
}

/// Counts one try of a sign-up code in the caller's transaction (the counting update holds
/// the row, so parallel tries are counted one by one) and says what it came to; the right code
/// removes the pending sign-up. The caller commits whatever the outcome, so wrong tries stay
/// counted.
pub async fn try_signup_code(
    conn: &mut AnyConnection,
    mobile: &str,
    code_hash: &str,
    now: i64,
) -> Result<SignupCode> {
    let row = sqlx::query(
        "UPDATE donor_signup_codes SET tries = tries + 1 WHERE mobile = $1 AND tries < $2 \
         RETURNING code_hash, display_name, expires_at, tries",
    )
    .bind(mobile.to_owned())
    .bind(SIGNUP_CODE_TRIES)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        let exists = sqlx::query("SELECT COUNT(*) FROM donor_signup_codes WHERE mobile = $1")
            .bind(mobile.to_owned())
            .fetch_one(&mut *conn)
            .await?
            .get::<i64, _>(0);
        return Ok(if exists > 0 {
            SignupCode::TooManyTries
        } else {
            SignupCode::Missing
        });
    };
    let (stored, display_name, expires_at, tries): (String, String, i64, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    if expires_at <= now {
        return Ok(SignupCode::Expired);
    }
    if stored != code_hash {
        return Ok(SignupCode::Wrong {
            tries_left: SIGNUP_CODE_TRIES - tries,
        });
    }
    sqlx::query("DELETE FROM donor_signup_codes WHERE mobile = $1")
        .bind(mobile.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(SignupCode::Right { display_name })
}

/// Forgets sign-up codes whose time is long over.
pub async fn purge_signup_codes(store: &Store, now: i64) -> Result<()> {
    sqlx::query("DELETE FROM donor_signup_codes WHERE expires_at <= $1")
        .bind(now - 24 * 60 * 60 * 1000)
        .execute(store.pool())
        .await?;
    Ok(())
}

pub async fn donor_of_user(store: &Store, user_id: i64) -> Result<Option<Donor>> {
    let row = sqlx::query("SELECT id, user_id, mobile FROM donors WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.map(|r| Donor {
        id: r.get(0),
        user_id: r.get(1),
        mobile: r.get(2),
    }))
}

// ---------------------------------------------------------------------------------------------
// Pledges and donations

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Pledge {
    pub id: i64,
    pub campaign_id: i64,
    pub campaign_title: String,
    pub donor_id: i64,
    pub donor_mobile: String,
    pub resource: String,
    pub amount: i64,
    pub status: String,
    pub created_at: i64,
    pub received_amount: Option<i64>,
    pub bank_reference: Option<String>,
    pub receipt_code: Option<String>,
    pub received_at: Option<i64>,
    pub ledger_seq: Option<i64>,
}

const PLEDGE_COLUMNS: &str = "pl.id, pl.campaign_id, c.title, pl.donor_id, d.mobile, pl.resource, \
     pl.amount, pl.status, pl.created_at, pl.received_amount, pl.bank_reference, pl.receipt_code, \
     pl.received_at, pl.ledger_seq";
const PLEDGE_FROM: &str =
    "FROM pledges pl JOIN campaigns c ON c.id = pl.campaign_id JOIN donors d ON d.id = pl.donor_id";

fn pledge_from_row(r: &sqlx::any::AnyRow) -> Pledge {
    Pledge {
        id: r.get(0),
        campaign_id: r.get(1),
        campaign_title: r.get(2),
        donor_id: r.get(3),
        donor_mobile: r.get(4),
        resource: r.get(5),
        amount: r.get(6),
        status: r.get(7),
        created_at: r.get(8),
        received_amount: r.get(9),
        bank_reference: r.get(10),
        receipt_code: r.get(11),
        received_at: r.get(12),
        ledger_seq: r.get(13),
    }
}

/// A donor's pledge to an active campaign, of money or of goods of a type the campaign serves.
/// One pledge is at most [`max_pledge`]; a donor has at most [`MAX_OPEN_PLEDGES`] open pledges
/// on a campaign, adding up to at most [`MAX_OPEN_PLEDGE_MULTIPLE`] × [`max_pledge`] — checked
/// in the caller's transaction with the donor's row locked, so parallel pledges of one donor
/// cannot both pass. A pledge is a promise: it enters the public transparency log only when it
/// is received (a donation with a receipt, see [`receive`]).
pub async fn pledge(
    conn: &mut AnyConnection,
    campaign: i64,
    donor: i64,
    resource: &str,
    amount: i64,
) -> Result<i64> {
    if amount <= 0 {
        return Err(StoreError::Invalid("pledge-amount-positive"));
    }
    let cap = max_pledge(resource);
    if amount > cap {
        return Err(StoreError::Invalid(if resource == MONEY {
            "pledge-too-large"
        } else {
            "pledge-too-large-units"
        }));
    }
    // The campaign's row is held (shared) until commit on PostgreSQL, so a closing that
    // commits first is seen and one that comes later waits for this pledge; SQLite's write
    // transaction holds the database already.
    let lock = if conn.backend_name() == "PostgreSQL" {
        " FOR SHARE OF c"
    } else {
        ""
    };
    let open = sqlx::query(AssertSqlSafe(format!(
        "SELECT c.status, c.ends_on FROM campaigns c JOIN campaign_pools cp ON cp.campaign_id = c.id \
         WHERE c.id = $1 AND cp.resource = $2{lock}"
    )))
    .bind(campaign)
    .bind(resource.to_owned())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(open) = open else {
        return Err(StoreError::Invalid("pledge-campaign-closed"));
    };
    let (status, ends_on): (String, String) = (open.get(0), open.get(1));
    if status != "active" {
        return Err(StoreError::Invalid("pledge-campaign-closed"));
    }
    if ends_on < iran_today_iso(now_millis()) {
        return Err(StoreError::Invalid("pledge-campaign-ended"));
    }
    // The donor's row locked until commit (a row lock on PostgreSQL; SQLite's write
    // transaction holds the database already): one donor's pledges are checked one at a time.
    let donor_found = sqlx::query("UPDATE donors SET id = id WHERE id = $1")
        .bind(donor)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if donor_found == 0 {
        return Err(StoreError::NotFound);
    }
    // Bounded by the caps: at most MAX_OPEN_PLEDGES × max_pledge, far inside an integer.
    let open = sqlx::query(
        "SELECT COUNT(*), CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM pledges \
         WHERE campaign_id = $1 AND donor_id = $2 AND status = 'pledged'",
    )
    .bind(campaign)
    .bind(donor)
    .fetch_one(&mut *conn)
    .await?;
    let (open_count, open_sum): (i64, i64) = (open.get(0), open.get(1));
    if open_count >= MAX_OPEN_PLEDGES {
        return Err(StoreError::Invalid("pledge-open-too-many"));
    }
    if add_amounts(open_sum, amount)? > cap * MAX_OPEN_PLEDGE_MULTIPLE {
        return Err(StoreError::Invalid("pledge-open-too-much"));
    }
    let id: i64 = sqlx::query(
        "INSERT INTO pledges (campaign_id, donor_id, resource, amount, status, created_at) \
         VALUES ($1, $2, $3, $4, 'pledged', $5) RETURNING id",
    )
    .bind(campaign)
    .bind(donor)
    .bind(resource.to_owned())
    .bind(amount)
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await?
    .get(0);
    Ok(id)
}

/// An office records the receipt of a pledge (bank reference for money, a note for goods): the
/// pledge becomes a donation with a receipt code, the pool grows, the log gets an entry. A
/// pledge is received once; a second attempt changes nothing.
pub async fn receive(
    conn: &mut AnyConnection,
    pledge_id: i64,
    received_amount: i64,
    bank_reference: &str,
    by: Option<i64>,
) -> Result<String> {
    if received_amount <= 0 {
        return Err(StoreError::Invalid("pledge-amount-positive"));
    }
    if bank_reference.trim().is_empty() {
        return Err(StoreError::Invalid("receipt-reference-required"));
    }
    let row = sqlx::query("SELECT campaign_id, resource FROM pledges WHERE id = $1")
        .bind(pledge_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let campaign: i64 = row.get(0);
    let resource: String = row.get(1);
    if received_amount > max_pledge(&resource) {
        return Err(StoreError::Invalid(if resource == MONEY {
            "pledge-too-large"
        } else {
            "pledge-too-large-units"
        }));
    }
    let code = receipt_code(rand::random::<u64>());
    let now = now_millis();
    let changed = sqlx::query(
        "UPDATE pledges SET status = 'received', received_amount = $1, bank_reference = $2, \
         receipt_code = $3, received_by = $4, received_at = $5 WHERE id = $6 AND status = 'pledged'",
    )
    .bind(received_amount)
    .bind(bank_reference.trim().to_owned())
    .bind(code.clone())
    .bind(by)
    .bind(now)
    .bind(pledge_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(StoreError::Conflict("pledge-already-received"));
    }
    // Checked addition in SQL: the pool grows only while it stays inside an integer.
    let grown = sqlx::query(
        "UPDATE campaign_pools SET received = received + $1 \
         WHERE campaign_id = $2 AND resource = $3 AND received <= $4 - $1",
    )
    .bind(received_amount)
    .bind(campaign)
    .bind(resource.clone())
    .bind(i64::MAX)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if grown == 0 {
        return Err(StoreError::Invalid("money-sum-too-large"));
    }
    let entry = ledger::append(
        conn,
        "donation",
        &serde_json::json!({
            "campaign": campaign,
            "pledge": pledge_id,
            "resource": resource,
            "amount": received_amount,
            "receipt": code,
        }),
    )
    .await?;
    sqlx::query("UPDATE pledges SET ledger_seq = $1 WHERE id = $2")
        .bind(entry.seq)
        .bind(pledge_id)
        .execute(&mut *conn)
        .await?;
    Ok(code)
}

/// Who cancels a pledge: the donor who made it, or the office running its campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Canceller {
    Donor(i64),
    Campaign(i64),
}

/// Cancels a pledge not yet received (a received one is a donation and stays). Refused when
/// the pledge is not the donor's (or not the campaign's), or no longer open.
pub async fn cancel_pledge(
    conn: &mut AnyConnection,
    pledge_id: i64,
    who: Canceller,
    by: Option<i64>,
) -> Result<()> {
    let (column, owner) = match who {
        Canceller::Donor(d) => ("donor_id", d),
        Canceller::Campaign(c) => ("campaign_id", c),
    };
    let n = sqlx::query(AssertSqlSafe(format!(
        "UPDATE pledges SET status = 'cancelled', cancelled_at = $1, cancelled_by = $2 \
         WHERE id = $3 AND {column} = $4 AND status = 'pledged'"
    )))
    .bind(now_millis())
    .bind(by)
    .bind(pledge_id)
    .bind(owner)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(StoreError::Conflict("pledge-not-cancellable"));
    }
    Ok(())
}

pub async fn pledges_of_campaign(store: &Store, campaign: i64) -> Result<Vec<Pledge>> {
    let sql = format!(
        "SELECT {PLEDGE_COLUMNS} {PLEDGE_FROM} WHERE pl.campaign_id = $1 ORDER BY pl.id DESC"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(campaign)
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(pledge_from_row).collect())
}

pub async fn pledges_of_donor(store: &Store, donor: i64) -> Result<Vec<Pledge>> {
    let sql =
        format!("SELECT {PLEDGE_COLUMNS} {PLEDGE_FROM} WHERE pl.donor_id = $1 ORDER BY pl.id DESC");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(donor)
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(pledge_from_row).collect())
}

pub async fn pledge_by_id(store: &Store, id: i64) -> Result<Option<Pledge>> {
    let sql = format!("SELECT {PLEDGE_COLUMNS} {PLEDGE_FROM} WHERE pl.id = $1");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    Ok(row.as_ref().map(pledge_from_row))
}

pub async fn by_receipt(store: &Store, code: &str) -> Result<Option<Pledge>> {
    let sql = format!("SELECT {PLEDGE_COLUMNS} {PLEDGE_FROM} WHERE pl.receipt_code = $1");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(code.to_owned())
        .fetch_optional(store.pool())
        .await?;
    Ok(row.as_ref().map(pledge_from_row))
}

/// Where a campaign's allocations of one resource went, by province, zone and need type —
/// counts of allocations and units, never persons.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Destination {
    pub province_code: Option<String>,
    pub zone: Option<String>,
    pub need_type: String,
    pub allocations: i64,
    pub units: i64,
    pub delivered: i64,
}

pub async fn destinations(
    store: &Store,
    campaign: i64,
    resource: Option<&str>,
) -> Result<Vec<Destination>> {
    // From `destination_summary` (migration 0033: a few rows per province, zone and need type,
    // kept by triggers on `allocations`), never a scan of the campaign's allocations. '' is the
    // summary's "none".
    let sql = "SELECT NULLIF(s.province_code, ''), NULLIF(s.zone, ''), s.need_type, \
         CAST(SUM(s.allocations) AS BIGINT), CAST(SUM(s.units) AS BIGINT), \
         CAST(SUM(s.delivered) AS BIGINT) FROM destination_summary s \
         WHERE s.campaign_id = $1 AND ($2 = '' OR s.resource = $2) \
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3";
    let rows = sqlx::query(sql)
        .bind(campaign)
        .bind(resource.unwrap_or("").to_owned())
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(destination_from_row).collect())
}

fn destination_from_row(r: &sqlx::any::AnyRow) -> Destination {
    Destination {
        province_code: r.get(0),
        zone: r.get(1),
        need_type: r.get(2),
        allocations: r.get(3),
        units: r.get(4),
        delivered: r.get(5),
    }
}

/// [`destinations`] counted from every allocation of the campaign, as before the summary (the
/// tests compare the two).
pub async fn destinations_recomputed(
    store: &Store,
    campaign: i64,
    resource: Option<&str>,
) -> Result<Vec<Destination>> {
    // Sums are NUMERIC on PostgreSQL, which the Any driver cannot read: always BIGINT.
    let big = |e: &str| format!("CAST({e} AS BIGINT)");
    let sql = format!(
        "SELECT a.province_code, a.zone, a.need_type, COUNT(*), {units}, {delivered} \
         FROM allocations a JOIN allocation_batches b ON b.id = a.batch_id \
         WHERE b.campaign_id = $1 AND ($2 = '' OR b.resource = $2) \
         GROUP BY a.province_code, a.zone, a.need_type ORDER BY 1, 2, 3",
        units = big("SUM(a.units)"),
        delivered = big("SUM(CASE WHEN a.status = 'delivered' THEN 1 ELSE 0 END)"),
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(campaign)
        .bind(resource.unwrap_or("").to_owned())
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(destination_from_row).collect())
}

/// `destination_summary` (migration 0033) recomputed from every allocation, in its columns'
/// order.
pub const DESTINATION_SUMMARY_RECOMPUTED: &str = "SELECT b.campaign_id, b.resource, \
     COALESCE(a.province_code, ''), COALESCE(a.zone, ''), a.need_type, CAST(COUNT(*) AS BIGINT), \
     CAST(COALESCE(SUM(a.units), 0) AS BIGINT), \
     CAST(COALESCE(SUM(CASE WHEN a.status = 'delivered' THEN 1 ELSE 0 END), 0) AS BIGINT) \
     FROM allocations a JOIN allocation_batches b ON b.id = a.batch_id GROUP BY 1, 2, 3, 4, 5";

/// Recomputes `destination_summary` from the allocations (`hamdeli admin rebuild-summaries`).
pub async fn rebuild_destination_summary(tx: &mut crate::Tx) -> Result<()> {
    sqlx::query("DELETE FROM destination_summary")
        .execute(&mut **tx)
        .await?;
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO destination_summary (campaign_id, resource, province_code, zone, need_type, \
         allocations, units, delivered) {DESTINATION_SUMMARY_RECOMPUTED}"
    )))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2 of RFC 4231.
        assert_eq!(
            hex::encode(hmac_sha256(
                b"Jefe",
                &[b"what do ya want ", b"for nothing?"]
            )),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_ne!(
            signup_code_hash(b"k", "09120000000", "123456"),
            signup_code_hash(b"k", "09120000001", "123456")
        );
    }

    #[test]
    fn iran_today_turns_at_iran_midnight() {
        // 2026-03-20T20:29:59Z is 23:59:59 in Tehran; a second later the day turns.
        assert_eq!(iran_today_iso(1_774_038_599_000), "2026-03-20");
        assert_eq!(iran_today_iso(1_774_038_600_000), "2026-03-21");
        assert_eq!(iran_today_iso(0), "1970-01-01");
    }
}
