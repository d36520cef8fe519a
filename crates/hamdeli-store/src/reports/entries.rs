//! Reports: their values, state changes with events, the accepted-values rollup, completeness
//! and timeliness, and reminders.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

use hamdeli_domain::reports::dataset::{Value, Values};
use hamdeli_domain::reports::state::ReportStatus;

use crate::{AnyConnection, Result, Store, StoreError, now_millis};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub id: i64,
    pub dataset_id: i64,
    pub version: i64,
    pub province_code: String,
    /// Empty for a province's own report.
    pub county_code: String,
    pub period: String,
    #[schema(value_type = String)]
    pub status: ReportStatus,
    /// ISO date it is due.
    pub due_on: String,
    pub submitted_at: Option<i64>,
    pub approved_at: Option<i64>,
    pub accepted_at: Option<i64>,
    pub comment: Option<String>,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, dataset_id, version, province_code, county_code, period, status, \
     due_on, submitted_at, approved_at, accepted_at, comment, updated_at";

fn from_row(r: &sqlx::any::AnyRow) -> Report {
    Report {
        id: r.get(0),
        dataset_id: r.get(1),
        version: r.get(2),
        province_code: r.get(3),
        county_code: r.get(4),
        period: r.get(5),
        status: ReportStatus::parse(&r.get::<String, _>(6)).unwrap_or(ReportStatus::Draft),
        due_on: r.get(7),
        submitted_at: r.get(8),
        approved_at: r.get(9),
        accepted_at: r.get(10),
        comment: r.get(11),
        updated_at: r.get(12),
    }
}

pub async fn by_id(store: &Store, id: i64) -> Result<Option<Report>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM reports WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    Ok(row.as_ref().map(from_row))
}

/// The report of a data set, place and period, read inside a transaction.
pub async fn find(
    conn: &mut AnyConnection,
    dataset: i64,
    province: &str,
    county: &str,
    period: &str,
) -> Result<Option<Report>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM reports WHERE dataset_id = $1 AND province_code = $2 \
         AND county_code = $3 AND period = $4"
    )))
    .bind(dataset)
    .bind(province)
    .bind(county)
    .bind(period)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.as_ref().map(from_row))
}

pub async fn values(store: &Store, report: i64) -> Result<Values> {
    let mut conn = store.pool().acquire().await?;
    values_in(&mut conn, report).await
}

pub async fn values_in(conn: &mut AnyConnection, report: i64) -> Result<Values> {
    let rows = sqlx::query(
        "SELECT element, part, num_value, text_value FROM report_values WHERE report_id = $1",
    )
    .bind(report)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            let key = (r.get::<String, _>(0), r.get::<String, _>(1));
            let v = match (r.get::<Option<i64>, _>(2), r.get::<Option<String>, _>(3)) {
                (Some(n), _) => Value::Number(n),
                (None, Some(t)) => Value::Text(t),
                (None, None) => return None,
            };
            Some((key, v))
        })
        .collect())
}

/// Where a new report is filed and what it is filled against.
pub struct NewReport<'a> {
    pub dataset: i64,
    pub version: i64,
    pub province: &'a str,
    pub county: &'a str,
    pub period: &'a str,
    pub due_on: &'a str,
}

/// Creates the report (as a draft) if it is not there; returns it.
pub async fn ensure(conn: &mut AnyConnection, new: &NewReport<'_>) -> Result<Report> {
    let now = now_millis();
    sqlx::query(
        "INSERT INTO reports (dataset_id, version, province_code, county_code, period, status, \
         due_on, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7, $7) \
         ON CONFLICT (dataset_id, province_code, county_code, period) DO NOTHING",
    )
    .bind(new.dataset)
    .bind(new.version)
    .bind(new.province)
    .bind(new.county)
    .bind(new.period)
    .bind(new.due_on)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    find(conn, new.dataset, new.province, new.county, new.period)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Replaces a report's values (and its definition version) while it is editable: the status is
/// checked in the same statement, so a report accepted meanwhile is never changed.
pub async fn replace_values(
    conn: &mut AnyConnection,
    report: i64,
    version: i64,
    values: &Values,
) -> Result<()> {
    let done = sqlx::query(
        "UPDATE reports SET version = $1, updated_at = $2 WHERE id = $3 \
         AND status IN ('draft', 'returned')",
    )
    .bind(version)
    .bind(now_millis())
    .bind(report)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("reports-state-locked"));
    }
    sqlx::query("DELETE FROM report_values WHERE report_id = $1")
        .bind(report)
        .execute(&mut *conn)
        .await?;
    for ((element, part), v) in values {
        let (n, t) = match v {
            Value::Number(n) => (Some(*n), None),
            Value::Text(t) => (None, Some(t.as_str())),
        };
        sqlx::query(
            "INSERT INTO report_values (report_id, element, part, num_value, text_value) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(report)
        .bind(element)
        .bind(part)
        .bind(n)
        .bind(t)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Moves a report from `from` to `to` if it is still in `from` (a concurrent decision makes
/// this a conflict), stamping who and when for submit, approve and accept.
pub async fn set_status(
    conn: &mut AnyConnection,
    report: i64,
    from: ReportStatus,
    to: ReportStatus,
    by: Option<i64>,
    comment: Option<&str>,
    at: Option<i64>,
) -> Result<()> {
    let now = at.unwrap_or_else(now_millis);
    let stamp = match to {
        ReportStatus::Submitted => Some(
            "submitted_at = COALESCE(submitted_at, $6), submitted_by = COALESCE(submitted_by, $7)",
        ),
        ReportStatus::Approved => Some("approved_at = $6, approved_by = $7"),
        ReportStatus::Accepted => Some("accepted_at = $6, accepted_by = $7"),
        // Returned (or back to a draft): the approval and the acceptance no longer hold.
        _ => None,
    };
    let sql = format!(
        "UPDATE reports SET status = $1, updated_at = $2, comment = COALESCE($3, comment), {} \
         WHERE id = $4 AND status = $5",
        stamp.unwrap_or(
            "approved_at = NULL, approved_by = NULL, accepted_at = NULL, accepted_by = NULL"
        )
    );
    let mut q = sqlx::query(AssertSqlSafe(sql))
        .bind(to.as_str())
        .bind(now)
        .bind(comment)
        .bind(report)
        .bind(from.as_str());
    if stamp.is_some() {
        q = q.bind(now).bind(by);
    }
    let done = q.execute(&mut *conn).await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict("reports-state-changed"));
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReportEvent {
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub comment: Option<String>,
    pub actor_name: String,
    pub at: i64,
}

#[allow(clippy::too_many_arguments)]
pub async fn add_event(
    conn: &mut AnyConnection,
    report: i64,
    action: &str,
    from: Option<ReportStatus>,
    to: ReportStatus,
    comment: Option<&str>,
    by: Option<i64>,
    by_name: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO report_events (report_id, action, from_status, to_status, comment, \
         actor_user_id, actor_name, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(report)
    .bind(action)
    .bind(from.map(|s| s.as_str()))
    .bind(to.as_str())
    .bind(comment)
    .bind(by)
    .bind(by_name)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn events(store: &Store, report: i64) -> Result<Vec<ReportEvent>> {
    let rows = sqlx::query(
        "SELECT action, from_status, to_status, comment, actor_name, at FROM report_events \
         WHERE report_id = $1 ORDER BY id",
    )
    .bind(report)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| ReportEvent {
            action: r.get(0),
            from_status: r.get(1),
            to_status: r.get(2),
            comment: r.get(3),
            actor_name: r.get(4),
            at: r.get(5),
        })
        .collect())
}

/// The numeric totals a place reported for earlier periods of the data set (sent reports
/// only), per element: what outlier warnings compare with. `since` is the oldest period code.
pub async fn history(
    store: &Store,
    dataset: i64,
    province: &str,
    county: &str,
    since: &str,
    before: &str,
) -> Result<BTreeMap<String, Vec<i64>>> {
    let rows = sqlx::query(
        "SELECT v.element, v.num_value FROM reports r JOIN report_values v ON v.report_id = r.id \
         WHERE r.dataset_id = $1 AND r.province_code = $2 AND r.county_code = $3 \
         AND r.period >= $4 AND r.period < $5 \
         AND r.status IN ('submitted', 'approved', 'accepted') \
         AND v.part = '' AND v.num_value IS NOT NULL",
    )
    .bind(dataset)
    .bind(province)
    .bind(county)
    .bind(since)
    .bind(before)
    .fetch_all(store.pool())
    .await?;
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in rows {
        out.entry(r.get(0)).or_default().push(r.get(1));
    }
    Ok(out)
}

/// Adds (`sign` 1) or takes back (`sign` -1) an accepted report's numeric totals in the rollup.
pub async fn rollup(conn: &mut AnyConnection, report: &Report, sign: i64) -> Result<()> {
    let totals: Vec<(String, i64)> = values_in(conn, report.id)
        .await?
        .into_iter()
        .filter(|((_, part), _)| part.is_empty())
        .filter_map(|((e, _), v)| v.number().map(|n| (e, n)))
        .collect();
    for (element, n) in totals {
        sqlx::query(
            "INSERT INTO report_rollup (dataset_id, element, period, province_code, value, \
             reports) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (dataset_id, element, period, province_code) DO UPDATE SET \
             value = report_rollup.value + excluded.value, \
             reports = report_rollup.reports + excluded.reports",
        )
        .bind(report.dataset_id)
        .bind(element)
        .bind(&report.period)
        .bind(&report.province_code)
        .bind(n.saturating_mul(sign))
        .bind(sign)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Which reports to list.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub dataset: Option<i64>,
    pub period: Option<String>,
    pub province: Option<String>,
    pub county: Option<String>,
    pub status: Option<String>,
}

pub async fn list(store: &Store, f: &ReportFilter, limit: i64) -> Result<Vec<Report>> {
    let mut sql = format!("SELECT {COLUMNS} FROM reports WHERE 1 = 1");
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    if f.dataset.is_some() {
        sql.push_str(&format!(" AND dataset_id = ${}", next()));
    }
    for (v, col) in [
        (&f.period, "period"),
        (&f.province, "province_code"),
        (&f.county, "county_code"),
        (&f.status, "status"),
    ] {
        if v.is_some() {
            sql.push_str(&format!(" AND {col} = ${}", next()));
        }
    }
    sql.push_str(&format!(
        " ORDER BY period DESC, province_code, county_code LIMIT ${}",
        next()
    ));
    let mut q = sqlx::query(AssertSqlSafe(sql));
    if let Some(d) = f.dataset {
        q = q.bind(d);
    }
    for v in [&f.period, &f.province, &f.county, &f.status]
        .into_iter()
        .flatten()
    {
        q = q.bind(v.clone());
    }
    let rows = q.bind(limit).fetch_all(store.pool()).await?;
    Ok(rows.iter().map(from_row).collect())
}

/// One page of reports by key, newest first (`id` descending): those before `before` (an id of
/// the previous page's last row), at most `limit`. No sort of every report: the primary key
/// walks down to the page.
pub async fn page(
    store: &Store,
    f: &ReportFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Report>> {
    let mut sql = format!("SELECT {COLUMNS} FROM reports WHERE 1 = 1");
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    if f.dataset.is_some() {
        sql.push_str(&format!(" AND dataset_id = ${}", next()));
    }
    for (v, col) in [
        (&f.period, "period"),
        (&f.province, "province_code"),
        (&f.county, "county_code"),
        (&f.status, "status"),
    ] {
        if v.is_some() {
            sql.push_str(&format!(" AND {col} = ${}", next()));
        }
    }
    if before.is_some() {
        sql.push_str(&format!(" AND id < ${}", next()));
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", next()));
    let mut q = sqlx::query(AssertSqlSafe(sql));
    if let Some(d) = f.dataset {
        q = q.bind(d);
    }
    for v in [&f.period, &f.province, &f.county, &f.status]
        .into_iter()
        .flatten()
    {
        q = q.bind(v.clone());
    }
    if let Some(b) = before {
        q = q.bind(b);
    }
    let rows = q.bind(limit).fetch_all(store.pool()).await?;
    Ok(rows.iter().map(from_row).collect())
}

/// Reports of a data set and period per province and status, with how many were sent on time.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Completeness {
    pub province_code: String,
    pub period: String,
    /// Reports expected (the reporting places).
    pub expected: i64,
    /// Sent: submitted, approved or accepted.
    pub sent: i64,
    /// Sent by the end of the due day.
    pub on_time: i64,
    pub accepted: i64,
    pub returned: i64,
    pub draft: i64,
}

/// Counts per province (and period) of the data set's reports in `periods`; `due` gives each
/// period's deadline (Unix ms). Expected counts are the caller's to fill.
pub async fn completeness(
    store: &Store,
    dataset: i64,
    periods: &[String],
    due: &BTreeMap<String, i64>,
    province: Option<&str>,
) -> Result<Vec<Completeness>> {
    if periods.is_empty() {
        return Ok(vec![]);
    }
    let mut sql = String::from(
        "SELECT province_code, period, status, COUNT(*), \
         CAST(SUM(CASE WHEN submitted_at IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS sent_at_all, \
         MIN(submitted_at) FROM reports WHERE dataset_id = $1",
    );
    let placeholders: Vec<String> = (0..periods.len()).map(|i| format!("${}", i + 2)).collect();
    sql.push_str(&format!(" AND period IN ({})", placeholders.join(", ")));
    if province.is_some() {
        sql.push_str(&format!(" AND province_code = ${}", periods.len() + 2));
    }
    // On-time counts need each report's submission: grouped by the deadline in one pass.
    sql.push_str(" GROUP BY province_code, period, status");
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(dataset);
    for p in periods {
        q = q.bind(p.clone());
    }
    if let Some(p) = province {
        q = q.bind(p.to_owned());
    }
    let rows = q.fetch_all(store.pool()).await?;
    let mut out: BTreeMap<(String, String), Completeness> = BTreeMap::new();
    for r in &rows {
        let key = (r.get::<String, _>(0), r.get::<String, _>(1));
        let status = ReportStatus::parse(&r.get::<String, _>(2));
        let n: i64 = r.get(3);
        let c = out.entry(key.clone()).or_insert_with(|| Completeness {
            province_code: key.0.clone(),
            period: key.1.clone(),
            ..Default::default()
        });
        match status {
            Some(s) if s.sent() => c.sent += n,
            Some(ReportStatus::Returned) => c.returned += n,
            _ => c.draft += n,
        }
        if status == Some(ReportStatus::Accepted) {
            c.accepted += n;
        }
    }
    // On time: one grouped count per period with its own deadline.
    for p in periods {
        let Some(deadline) = due.get(p) else { continue };
        let mut sql = String::from(
            "SELECT province_code, COUNT(*) FROM reports WHERE dataset_id = $1 AND period = $2 \
             AND submitted_at IS NOT NULL AND submitted_at <= $3",
        );
        if province.is_some() {
            sql.push_str(" AND province_code = $4");
        }
        sql.push_str(" GROUP BY province_code");
        let mut q = sqlx::query(AssertSqlSafe(sql))
            .bind(dataset)
            .bind(p.clone())
            .bind(*deadline);
        if let Some(pr) = province {
            q = q.bind(pr.to_owned());
        }
        for r in q.fetch_all(store.pool()).await? {
            let key = (r.get::<String, _>(0), p.clone());
            if let Some(c) = out.get_mut(&key) {
                c.on_time += r.get::<i64, _>(1);
            }
        }
    }
    Ok(out.into_values().collect())
}

/// The places (province, county) of a data set and period whose report was sent.
pub async fn sent_places(
    store: &Store,
    dataset: i64,
    period: &str,
) -> Result<std::collections::BTreeSet<(String, String)>> {
    let rows = sqlx::query(
        "SELECT province_code, county_code FROM reports WHERE dataset_id = $1 AND period = $2 \
         AND status IN ('submitted', 'approved', 'accepted')",
    )
    .bind(dataset)
    .bind(period)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reminder {
    pub dataset_id: i64,
    pub period: String,
    pub province_code: String,
    pub county_code: String,
    pub sent_at: i64,
}

pub async fn add_reminder(
    conn: &mut AnyConnection,
    dataset: i64,
    period: &str,
    province: &str,
    county: &str,
    by: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO report_reminders (dataset_id, period, province_code, county_code, sent_by, \
         sent_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(dataset)
    .bind(period)
    .bind(province)
    .bind(county)
    .bind(by)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The reminders of a province (or of one county of it) whose report is still not sent,
/// newest first.
pub async fn open_reminders(
    store: &Store,
    province: Option<&str>,
    county: Option<&str>,
    limit: i64,
) -> Result<Vec<Reminder>> {
    let mut sql = String::from(
        "SELECT m.dataset_id, m.period, m.province_code, m.county_code, MAX(m.sent_at) \
         FROM report_reminders m WHERE NOT EXISTS (SELECT 1 FROM reports r \
         WHERE r.dataset_id = m.dataset_id AND r.province_code = m.province_code \
         AND r.county_code = m.county_code AND r.period = m.period \
         AND r.status IN ('submitted', 'approved', 'accepted'))",
    );
    let mut n = 0;
    if province.is_some() {
        n += 1;
        sql.push_str(&format!(" AND m.province_code = ${n}"));
    }
    if county.is_some() {
        n += 1;
        sql.push_str(&format!(" AND m.county_code = ${n}"));
    }
    sql.push_str(&format!(
        " GROUP BY m.dataset_id, m.period, m.province_code, m.county_code \
         ORDER BY MAX(m.sent_at) DESC LIMIT ${}",
        n + 1
    ));
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for v in [province, county].into_iter().flatten() {
        q = q.bind(v.to_owned());
    }
    let rows = q.bind(limit).fetch_all(store.pool()).await?;
    Ok(rows
        .iter()
        .map(|r| Reminder {
            dataset_id: r.get(0),
            period: r.get(1),
            province_code: r.get(2),
            county_code: r.get(3),
            sent_at: r.get(4),
        })
        .collect())
}

/// Accepted totals of an element per province for a period (from the rollup).
pub async fn rollup_by_province(
    store: &Store,
    dataset: i64,
    element: &str,
    period: &str,
) -> Result<BTreeMap<String, i64>> {
    let rows = sqlx::query(
        "SELECT province_code, value FROM report_rollup WHERE dataset_id = $1 AND element = $2 \
         AND period = $3",
    )
    .bind(dataset)
    .bind(element)
    .bind(period)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Accepted totals of an element per period (all provinces, or one), from the rollup.
pub async fn rollup_series(
    store: &Store,
    dataset: i64,
    element: &str,
    periods: &[String],
    province: Option<&str>,
) -> Result<BTreeMap<String, i64>> {
    if periods.is_empty() {
        return Ok(BTreeMap::new());
    }
    let placeholders: Vec<String> = (0..periods.len()).map(|i| format!("${}", i + 3)).collect();
    let mut sql = format!(
        "SELECT period, {} FROM report_rollup WHERE dataset_id = $1 AND element = $2 \
         AND period IN ({})",
        crate::saturating_sum(store.engine(), "value"),
        placeholders.join(", ")
    );
    if province.is_some() {
        sql.push_str(&format!(" AND province_code = ${}", periods.len() + 3));
    }
    sql.push_str(" GROUP BY period");
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(dataset).bind(element);
    for p in periods {
        q = q.bind(p.clone());
    }
    if let Some(p) = province {
        q = q.bind(p.to_owned());
    }
    let rows = q.fetch_all(store.pool()).await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The accepted values of an element per county of a province for a period (county-level data
/// sets), read through the reports' unique index.
pub async fn county_values(
    store: &Store,
    dataset: i64,
    element: &str,
    period: &str,
    province: &str,
) -> Result<BTreeMap<String, i64>> {
    let rows = sqlx::query(
        "SELECT r.county_code, v.num_value FROM reports r JOIN report_values v \
         ON v.report_id = r.id AND v.element = $2 AND v.part = '' \
         WHERE r.dataset_id = $1 AND r.province_code = $3 AND r.period = $4 \
         AND r.status = 'accepted' AND v.num_value IS NOT NULL",
    )
    .bind(dataset)
    .bind(element)
    .bind(province)
    .bind(period)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// One row of the data-exchange file: data element, period, org unit, value.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExchangeRow {
    pub data_element: String,
    pub part: String,
    pub period: String,
    /// The province code, or the county code for a county's report.
    pub org_unit: String,
    pub value: String,
    pub status: String,
}

/// The values of a data set (one period or all, one province or all) for the exchange file.
pub async fn exchange(
    store: &Store,
    dataset: i64,
    period: Option<&str>,
    province: Option<&str>,
    accepted_only: bool,
    limit: i64,
) -> Result<Vec<ExchangeRow>> {
    let mut sql = String::from(
        "SELECT v.element, v.part, r.period, r.province_code, r.county_code, v.num_value, \
         v.text_value, r.status FROM reports r JOIN report_values v ON v.report_id = r.id \
         WHERE r.dataset_id = $1",
    );
    let mut n = 1;
    if period.is_some() {
        n += 1;
        sql.push_str(&format!(" AND r.period = ${n}"));
    }
    if province.is_some() {
        n += 1;
        sql.push_str(&format!(" AND r.province_code = ${n}"));
    }
    if accepted_only {
        sql.push_str(" AND r.status = 'accepted'");
    }
    sql.push_str(&format!(
        " ORDER BY r.period, r.province_code, r.county_code, v.element, v.part LIMIT ${}",
        n + 1
    ));
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(dataset);
    for v in [period, province].into_iter().flatten() {
        q = q.bind(v.to_owned());
    }
    let rows = q.bind(limit).fetch_all(store.pool()).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let county: String = r.get(4);
            ExchangeRow {
                data_element: r.get(0),
                part: r.get(1),
                period: r.get(2),
                org_unit: if county.is_empty() { r.get(3) } else { county },
                value: match (r.get::<Option<i64>, _>(5), r.get::<Option<String>, _>(6)) {
                    (Some(n), _) => n.to_string(),
                    (None, t) => t.unwrap_or_default(),
                },
                status: r.get(7),
            }
        })
        .collect())
}

/// Sent, accepted and returned counts of several data sets at once, each for its own period:
/// `(dataset, period)`. One grouped statement read from the `reports_period` index alone (no
/// table row: on-time counts, which need each report's submission, are the data set page's).
pub async fn status_summary(
    store: &Store,
    items: &[(i64, String)],
    province: Option<&str>,
) -> Result<BTreeMap<i64, Completeness>> {
    if items.is_empty() {
        return Ok(BTreeMap::new());
    }
    let cond: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(i, (d, _))| format!("(dataset_id = {d} AND period = ${})", i + 1))
        .collect();
    // A province's: its rows are few; read them (province_code is not in the index).
    let mut sql = format!(
        "SELECT dataset_id, status, COUNT(*), 0 FROM reports WHERE ({})",
        cond.join(" OR ")
    );
    if province.is_some() {
        sql.push_str(&format!(" AND province_code = ${}", items.len() + 1));
    }
    sql.push_str(" GROUP BY dataset_id, status");
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for (_, p) in items {
        q = q.bind(p.clone());
    }
    if let Some(p) = province {
        q = q.bind(p.to_owned());
    }
    let mut out: BTreeMap<i64, Completeness> = BTreeMap::new();
    for r in q.fetch_all(store.pool()).await? {
        let c = out.entry(r.get(0)).or_default();
        let n: i64 = r.get(2);
        match ReportStatus::parse(&r.get::<String, _>(1)) {
            Some(s) if s.sent() => {
                c.sent += n;
                if s == ReportStatus::Accepted {
                    c.accepted += n;
                }
            }
            Some(ReportStatus::Returned) => c.returned += n,
            _ => c.draft += n,
        }
        c.on_time += r.get::<i64, _>(3);
    }
    Ok(out)
}
