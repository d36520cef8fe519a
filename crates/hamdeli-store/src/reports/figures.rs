//! Figures of Hamdeli's own data per province, county and Jalali month, never typed again:
//! people in the registry, female heads of household and those covered by nobody, needs, aid
//! delivered. Each is one grouped query; a refresh writes them all to `report_figures` in one
//! transaction so the dashboard reads a few indexed rows.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

use crate::{Result, Store, now_millis, values_placeholders};

/// The period of a figure that is a count as of the refresh (not of a month).
pub const NOW: &str = "now";

/// A Jalali month and its bounds in Unix ms (start inclusive, end exclusive).
#[derive(Debug, Clone)]
pub struct MonthBounds {
    pub code: String,
    pub start: i64,
    pub end: i64,
}

/// (indicator, period, province, county) → value.
type Figures = BTreeMap<(String, String, String, String), i64>;

fn month_case(months: &[MonthBounds], column: &str) -> String {
    let mut s = String::from("CASE");
    for m in months {
        s.push_str(&format!(
            " WHEN {column} >= {} AND {column} < {} THEN '{}'",
            m.start,
            m.end,
            m.code.replace('\'', "")
        ));
    }
    s.push_str(" END");
    s
}

async fn grouped(store: &Store, sql: &str, binds: &[String]) -> Result<Vec<sqlx::any::AnyRow>> {
    let mut q = sqlx::query(AssertSqlSafe(sql.to_owned()));
    for b in binds {
        q = q.bind(b.clone());
    }
    Ok(q.fetch_all(store.pool()).await?)
}

/// Computes every figure from the live tables and replaces the stored ones. Returns how many
/// rows were written.
pub async fn refresh(store: &Store, months: &[MonthBounds]) -> Result<usize> {
    let mut f: Figures = BTreeMap::new();
    let put = |f: &mut Figures, ind: &str, period: &str, p: String, c: String, v: i64| {
        *f.entry((ind.to_owned(), period.to_owned(), p, c))
            .or_insert(0) += v;
    };
    // People in the registry, now and added per month.
    for r in grouped(
        store,
        "SELECT province_code, COALESCE(county_code, ''), COUNT(*) FROM persons \
         WHERE merged_into IS NULL AND province_code IS NOT NULL \
         GROUP BY province_code, COALESCE(county_code, '')",
        &[],
    )
    .await?
    {
        put(&mut f, "persons", NOW, r.get(0), r.get(1), r.get(2));
    }
    if !months.is_empty() {
        let case = month_case(months, "created_at");
        let sql = format!(
            "SELECT province_code, county_code, m, COUNT(*) FROM (SELECT province_code, \
             COALESCE(county_code, '') AS county_code, {case} AS m FROM persons \
             WHERE merged_into IS NULL AND province_code IS NOT NULL AND created_at >= {} \
             AND created_at < {}) x WHERE m IS NOT NULL GROUP BY province_code, county_code, m",
            months[0].start,
            months[months.len() - 1].end
        );
        for r in grouped(store, &sql, &[]).await? {
            let m: String = r.get(2);
            put(&mut f, "persons_new", &m, r.get(0), r.get(1), r.get(3));
        }
    }
    // Female heads of household (a survey list, or heading a household flagged female-headed)
    // and those on no organisation's support list.
    for r in grouped(
        store,
        "SELECT p.province_code, COALESCE(p.county_code, ''), COUNT(*), \
         CAST(SUM(CASE WHEN c.person_id IS NULL THEN 1 ELSE 0 END) AS BIGINT) \
         FROM (SELECT head_person_id AS pid FROM households \
               WHERE female_head = 1 AND head_person_id IS NOT NULL \
               UNION SELECT r.person_id FROM source_records r \
               JOIN source_lists l ON l.id = r.list_id \
               WHERE l.list_kind = 'survey' AND r.person_id IS NOT NULL) fh \
         JOIN persons p ON p.id = fh.pid \
         LEFT JOIN (SELECT DISTINCT r.person_id FROM source_records r \
               JOIN source_lists l ON l.id = r.list_id \
               WHERE l.list_kind = 'support' AND r.person_id IS NOT NULL) c \
           ON c.person_id = fh.pid \
         WHERE p.merged_into IS NULL AND p.province_code IS NOT NULL \
         GROUP BY p.province_code, COALESCE(p.county_code, '')",
        &[],
    )
    .await?
    {
        let (p, c): (String, String) = (r.get(0), r.get(1));
        put(&mut f, "female_heads", NOW, p.clone(), c.clone(), r.get(2));
        put(&mut f, "female_heads_uncovered", NOW, p, c, r.get(3));
    }
    // Needs not yet met, by type, now; needs recorded per month.
    for r in grouped(
        store,
        "SELECT province_code, COALESCE(county_code, ''), need_type, COUNT(*) FROM needs \
         WHERE status IN ('open', 'verified', 'partly_met') AND province_code IS NOT NULL \
         GROUP BY province_code, COALESCE(county_code, ''), need_type",
        &[],
    )
    .await?
    {
        let (p, c, t): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        let n: i64 = r.get(3);
        put(&mut f, "needs_open", NOW, p.clone(), c.clone(), n);
        put(&mut f, &format!("needs_open.{t}"), NOW, p, c, n);
    }
    if !months.is_empty() {
        let case = month_case(months, "created_at");
        let sql = format!(
            "SELECT province_code, county_code, m, COUNT(*) FROM (SELECT province_code, \
             COALESCE(county_code, '') AS county_code, {case} AS m FROM needs \
             WHERE province_code IS NOT NULL AND created_at >= {} AND created_at < {}) x \
             WHERE m IS NOT NULL GROUP BY province_code, county_code, m",
            months[0].start,
            months[months.len() - 1].end
        );
        for r in grouped(store, &sql, &[]).await? {
            let m: String = r.get(2);
            put(&mut f, "needs_new", &m, r.get(0), r.get(1), r.get(3));
        }
        // Aid delivered per month: pieces of support, persons helped, rials given.
        let codes: Vec<String> = months.iter().map(|m| m.code.clone()).collect();
        let placeholders: Vec<String> = (1..=codes.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT p.province_code, COALESCE(p.county_code, ''), s.period, COUNT(*), \
             COUNT(DISTINCT s.person_id), \
             {} FROM support_ledger s JOIN persons p ON p.id = s.person_id \
             LEFT JOIN need_types t ON t.code = s.need_type \
             WHERE s.period IN ({}) AND p.province_code IS NOT NULL \
             GROUP BY p.province_code, COALESCE(p.county_code, ''), s.period",
            crate::saturating_sum(
                store.engine(),
                "CASE WHEN t.unit = 'rial' THEN s.amount ELSE 0 END"
            ),
            placeholders.join(", ")
        );
        for r in grouped(store, &sql, &codes).await? {
            let (p, c, m): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            put(&mut f, "aid_deliveries", &m, p.clone(), c.clone(), r.get(3));
            put(&mut f, "aid_persons", &m, p.clone(), c.clone(), r.get(4));
            put(&mut f, "aid_rials", &m, p, c, r.get(5));
        }
    }
    // Other capabilities' tables (migrations 0019–0021): market sales, loans disbursed and
    // deferred, volunteers' hours, per month of the place they belong to.
    if !months.is_empty() {
        let (lo, hi) = (months[0].start, months[months.len() - 1].end);
        let monthly = |case_col: &str, from: &str, place: &str, values: &str, filter: &str| {
            format!(
                "SELECT pc, cc, m, {values} FROM (SELECT {place}, {} AS m \
                 FROM {from} WHERE {case_col} >= {lo} AND {case_col} < {hi} AND {filter}) q \
                 WHERE m IS NOT NULL GROUP BY pc, cc, m",
                month_case(months, case_col)
            )
        };
        // Orders not cancelled or returned, by the month they were placed (rials).
        let sql = monthly(
            "o.created_at",
            "market_orders o JOIN market_producers x ON x.id = o.producer_id",
            "x.province_code AS pc, x.county_code AS cc, o.total_rials AS amount",
            &format!(
                "COUNT(*), {}",
                crate::saturating_sum(store.engine(), "amount")
            ),
            "o.status NOT IN ('cancelled', 'returned')",
        );
        for r in grouped(store, &sql, &[]).await? {
            let (p, c, m): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            put(&mut f, "market_orders", &m, p.clone(), c.clone(), r.get(3));
            put(&mut f, "market_sales_rials", &m, p, c, r.get(4));
        }
        // Loans disbursed (count and rials) by the month of disbursement.
        let sql = monthly(
            "x.disbursed_at",
            "loans x",
            "x.province_code AS pc, x.county_code AS cc, x.amount AS amount",
            &format!(
                "COUNT(*), {}",
                crate::saturating_sum(store.engine(), "amount")
            ),
            "x.disbursed_at IS NOT NULL",
        );
        for r in grouped(store, &sql, &[]).await? {
            let (p, c, m): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            put(
                &mut f,
                "loans_disbursed",
                &m,
                p.clone(),
                c.clone(),
                r.get(3),
            );
            put(&mut f, "loans_disbursed_rials", &m, p, c, r.get(4));
        }
        // Deferrals approved, by the month of the decision.
        let sql = monthly(
            "d.decided_at",
            "loan_deferrals d JOIN loans x ON x.id = d.loan_id",
            "x.province_code AS pc, x.county_code AS cc, d.months AS amount",
            "COUNT(*)",
            "d.status = 'approved'",
        );
        for r in grouped(store, &sql, &[]).await? {
            let (p, c, m): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            put(&mut f, "loans_deferred", &m, p, c, r.get(3));
        }
        // Volunteers' counselling hours, by the month the session was recorded, at the centre.
        let sql = monthly(
            "s.created_at",
            "network_case_sessions s JOIN network_cases k ON k.id = s.case_id \
             JOIN network_centres x ON x.id = k.centre_id",
            "x.province_code AS pc, x.county_code AS cc, s.minutes AS amount",
            &crate::saturating_sum(store.engine(), "amount"),
            "1 = 1",
        );
        for r in grouped(store, &sql, &[]).await? {
            let (p, c, m): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            let minutes: i64 = r.get(3);
            put(&mut f, "volunteer_hours", &m, p, c, (minutes + 30) / 60);
        }
    }
    // Province totals: the sum of the province's counties (a person is in one county).
    let totals: Vec<_> = f
        .iter()
        .map(|((i, m, p, _), v)| ((i.clone(), m.clone(), p.clone(), String::new()), *v))
        .collect();
    let mut all: Figures = f
        .into_iter()
        .filter(|((_, _, _, c), _)| !c.is_empty())
        .collect();
    for (k, v) in totals {
        let e = all.entry(k).or_insert(0);
        *e = e.saturating_add(v);
    }
    let now = now_millis();
    let rows: Vec<_> = all.into_iter().collect();
    let mut tx = store.begin().await?;
    sqlx::query("DELETE FROM report_figures")
        .execute(&mut *tx)
        .await?;
    for chunk in rows.chunks(500) {
        let sql = format!(
            "INSERT INTO report_figures (indicator, period, province_code, county_code, value, \
             computed_at) VALUES {}",
            values_placeholders(store.engine(), chunk.len(), 6)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for ((i, m, p, c), v) in chunk {
            q = q
                .bind(i.clone())
                .bind(m.clone())
                .bind(p.clone())
                .bind(c.clone())
                .bind(*v)
                .bind(now);
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// When the figures were last computed (`None`: never).
pub async fn computed_at(store: &Store) -> Result<Option<i64>> {
    // A refresh writes every row with the same instant: any row tells it.
    Ok(
        sqlx::query("SELECT computed_at FROM report_figures LIMIT 1")
            .fetch_optional(store.pool())
            .await?
            .map(|r| r.get(0)),
    )
}

/// An indicator's values for a period: per province (`province` None) or per county of one
/// province.
pub async fn values(
    store: &Store,
    indicator: &str,
    period: &str,
    province: Option<&str>,
) -> Result<BTreeMap<String, i64>> {
    let rows = match province {
        None => {
            sqlx::query(
                "SELECT province_code, value FROM report_figures WHERE indicator = $1 \
                 AND period = $2 AND county_code = ''",
            )
            .bind(indicator)
            .bind(period)
            .fetch_all(store.pool())
            .await?
        }
        Some(p) => {
            sqlx::query(
                "SELECT county_code, value FROM report_figures WHERE indicator = $1 \
                 AND period = $2 AND province_code = $3 AND county_code <> ''",
            )
            .bind(indicator)
            .bind(period)
            .bind(p)
            .fetch_all(store.pool())
            .await?
        }
    };
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// One place's value of an indicator (a province's total when `county` is empty).
pub async fn value(
    store: &Store,
    indicator: &str,
    period: &str,
    province: &str,
    county: &str,
) -> Result<i64> {
    Ok(sqlx::query(
        "SELECT value FROM report_figures WHERE indicator = $1 AND period = $2 \
         AND province_code = $3 AND county_code = $4",
    )
    .bind(indicator)
    .bind(period)
    .bind(province)
    .bind(county)
    .fetch_optional(store.pool())
    .await?
    .map(|r| r.get(0))
    .unwrap_or(0))
}

/// An indicator per period for the country, a province or a county.
pub async fn series(
    store: &Store,
    indicator: &str,
    periods: &[String],
    province: Option<&str>,
    county: Option<&str>,
) -> Result<BTreeMap<String, i64>> {
    if periods.is_empty() {
        return Ok(BTreeMap::new());
    }
    let placeholders: Vec<String> = (0..periods.len()).map(|i| format!("${}", i + 2)).collect();
    let mut sql = format!(
        "SELECT period, {} FROM report_figures WHERE indicator = $1 AND period IN ({})",
        crate::saturating_sum(store.engine(), "value"),
        placeholders.join(", ")
    );
    let mut n = periods.len() + 1;
    match (province, county) {
        (Some(_), Some(_)) => {
            sql.push_str(&format!(
                " AND province_code = ${} AND county_code = ${}",
                n + 1,
                n + 2
            ));
            n += 2;
        }
        (Some(_), None) => {
            sql.push_str(&format!(
                " AND province_code = ${} AND county_code = ''",
                n + 1
            ));
            n += 1;
        }
        _ => sql.push_str(" AND county_code = ''"),
    }
    let _ = n;
    sql.push_str(" GROUP BY period");
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(indicator);
    for p in periods {
        q = q.bind(p.clone());
    }
    for v in [province, county.filter(|_| province.is_some())]
        .into_iter()
        .flatten()
    {
        q = q.bind(v.to_owned());
    }
    let rows = q.fetch_all(store.pool()).await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// The figure indicators present (for pick lists), e.g. `needs_open.food`.
pub async fn indicators(store: &Store) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT DISTINCT indicator FROM report_figures ORDER BY indicator")
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FigureRow {
    pub indicator: String,
    pub period: String,
    pub province_code: String,
    pub county_code: String,
    pub value: i64,
}
