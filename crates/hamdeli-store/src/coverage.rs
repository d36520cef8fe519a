//! Coverage: which organisations' programmes reach which persons, and who is reached by none.
//! A person is covered by an organisation when one of its records is on a `support` list of
//! that organisation; female heads of household are those on a `survey` list or heading a
//! household flagged female-headed.

use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

use hamdeli_domain::PlaceFilter;

use crate::{Result, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Province,
    County,
    Zone,
}

impl GroupBy {
    pub fn parse(s: &str) -> Option<GroupBy> {
        match s {
            "province" => Some(GroupBy::Province),
            "county" => Some(GroupBy::County),
            "zone" => Some(GroupBy::Zone),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Province => "province",
            GroupBy::County => "county",
            GroupBy::Zone => "zone",
        }
    }

    fn column(self) -> &'static str {
        match self {
            GroupBy::Province => "COALESCE(province_code, '')",
            GroupBy::County => "COALESCE(county_code, '')",
            GroupBy::Zone => "zone",
        }
    }
}

/// One row of the report: a province, county or zone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CoverageRow {
    /// Province or county code, or `urban` / `rural` / `unknown`; empty when unknown.
    pub key: String,
    pub persons: i64,
    pub covered_by_none: i64,
    pub covered_by_one: i64,
    pub covered_by_two: i64,
    pub covered_by_three_or_more: i64,
    /// Persons on two or more programmes of the same kind of support.
    pub same_kind_twice: i64,
    pub female_heads: i64,
    pub female_heads_uncovered: i64,
}

impl CoverageRow {
    pub fn add(&mut self, o: &CoverageRow) {
        self.persons += o.persons;
        self.covered_by_none += o.covered_by_none;
        self.covered_by_one += o.covered_by_one;
        self.covered_by_two += o.covered_by_two;
        self.covered_by_three_or_more += o.covered_by_three_or_more;
        self.same_kind_twice += o.same_kind_twice;
        self.female_heads += o.female_heads;
        self.female_heads_uncovered += o.female_heads_uncovered;
    }
}

fn scope(filter: &PlaceFilter) -> (String, Option<String>, Option<i64>) {
    match filter {
        PlaceFilter::All => ("1 = 1".into(), None, None),
        PlaceFilter::Province(c) => ("p.province_code = $1".into(), Some(c.clone()), None),
        PlaceFilter::County(c) => ("p.county_code = $1".into(), Some(c.clone()), None),
        PlaceFilter::Organisation(o) => (
            "EXISTS (SELECT 1 FROM source_records so JOIN source_lists lo ON lo.id = so.list_id \
             WHERE so.person_id = p.id AND lo.organisation_id = $1)"
                .into(),
            None,
            Some(*o),
        ),
        PlaceFilter::Nothing => ("1 = 0".into(), None, None),
    }
}

/// Per person: place, zone, covering organisations, same-kind double coverage, female head.
fn per_person_sql(scope: &str, extra: &str) -> String {
    format!(
        "SELECT p.id AS id, p.province_code AS province_code, p.county_code AS county_code, \
         COALESCE(h.zone, p.zone, 'unknown') AS zone, \
         (SELECT COUNT(DISTINCT l.organisation_id) FROM source_records r \
            JOIN source_lists l ON l.id = r.list_id \
            WHERE r.person_id = p.id AND l.list_kind = 'support') AS orgs, \
         CASE WHEN EXISTS (SELECT 1 FROM source_records r JOIN source_lists l ON l.id = r.list_id \
            JOIN programmes g ON g.id = l.programme_id WHERE r.person_id = p.id \
            AND l.list_kind = 'support' GROUP BY g.support_kind \
            HAVING COUNT(DISTINCT l.id) >= 2) THEN 1 ELSE 0 END AS same_kind, \
         CASE WHEN EXISTS (SELECT 1 FROM source_records r JOIN source_lists l ON l.id = r.list_id \
            WHERE r.person_id = p.id AND l.list_kind = 'survey') \
            OR EXISTS (SELECT 1 FROM households fh WHERE fh.head_person_id = p.id \
            AND fh.female_head = 1) THEN 1 ELSE 0 END AS female_head \
         FROM persons p LEFT JOIN household_members m ON m.person_id = p.id \
         LEFT JOIN households h ON h.id = m.household_id \
         WHERE p.merged_into IS NULL AND {scope} {extra}"
    )
}

/// The report computed from the source tables, person by person, as it was before the summary
/// tables (issue 17): the yardstick the tests compare [`report`] with. Seconds at 100,000
/// people; never on a page.
pub async fn report_from_scratch(
    store: &Store,
    filter: &PlaceFilter,
    group_by: GroupBy,
    within_province: Option<&str>,
) -> Result<Vec<CoverageRow>> {
    let (scope, text, int) = scope(filter);
    let param = if text.is_some() || int.is_some() {
        2
    } else {
        1
    };
    let extra = match within_province {
        Some(_) => format!("AND p.province_code = ${param}"),
        None => String::new(),
    };
    let key = group_by.column();
    let sum = |cond: &str| format!("CAST(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END) AS BIGINT)");
    let sql = format!(
        "SELECT {key} AS k, COUNT(*), {}, {}, {}, {}, {}, {}, {} FROM ({}) cov \
         GROUP BY {key} ORDER BY {key}",
        sum("orgs = 0"),
        sum("orgs = 1"),
        sum("orgs = 2"),
        sum("orgs >= 3"),
        sum("same_kind = 1"),
        sum("female_head = 1"),
        sum("female_head = 1 AND orgs = 0"),
        per_person_sql(&scope, &extra),
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    if let Some(t) = text {
        q = q.bind(t);
    }
    if let Some(o) = int {
        q = q.bind(o);
    }
    if let Some(p) = within_province {
        q = q.bind(p.to_owned());
    }
    let rows = q.fetch_all(store.pool()).await?;
    Ok(rows.iter().map(row_of).collect())
}

fn row_of(r: &sqlx::any::AnyRow) -> CoverageRow {
    CoverageRow {
        key: r.get(0),
        persons: r.get(1),
        covered_by_none: r.get(2),
        covered_by_one: r.get(3),
        covered_by_two: r.get(4),
        covered_by_three_or_more: r.get(5),
        same_kind_twice: r.get(6),
        female_heads: r.get(7),
        female_heads_uncovered: r.get(8),
    }
}

/// The report grouped by province, county or zone, inside the scope (and inside one province
/// when `within_province` is given): read from the summary tables (`hamdeli_store::scale`),
/// after folding in the places written since the last read.
pub async fn report(
    store: &Store,
    filter: &PlaceFilter,
    group_by: GroupBy,
    within_province: Option<&str>,
) -> Result<Vec<CoverageRow>> {
    crate::scale::refresh(store).await?;
    let key = match group_by {
        GroupBy::Province => "province_code",
        GroupBy::County => "county_code",
        GroupBy::Zone => "zone",
    };
    let mut binds: Vec<String> = Vec::new();
    let mut org: Option<i64> = None;
    let mut conds: Vec<String> = Vec::new();
    match filter {
        PlaceFilter::All => {}
        PlaceFilter::Province(c) => {
            binds.push(c.clone());
            conds.push(format!("province_code = ${}", binds.len()));
        }
        PlaceFilter::County(c) => {
            binds.push(c.clone());
            conds.push(format!("county_code = ${}", binds.len()));
        }
        PlaceFilter::Organisation(o) => org = Some(*o),
        PlaceFilter::Nothing => return Ok(Vec::new()),
    }
    if let Some(p) = within_province {
        binds.push(p.to_owned());
        conds.push(format!("province_code = ${}", binds.len()));
    }
    let sql = match org {
        None => {
            let sum = |c: &str| format!("CAST(SUM({c}) AS BIGINT)");
            let wh = if conds.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", conds.join(" AND "))
            };
            format!(
                "SELECT {key}, {}, {}, {}, {}, {}, {}, {}, {} FROM coverage_summary {wh} \
                 GROUP BY {key} ORDER BY {key}",
                sum("persons"),
                sum("covered_by_none"),
                sum("covered_by_one"),
                sum("covered_by_two"),
                sum("covered_by_three_or_more"),
                sum("same_kind_twice"),
                sum("female_heads"),
                sum("female_heads_uncovered"),
            )
        }
        Some(_) => {
            // A partner: its own persons' facts, found by its records.
            let sum =
                |cond: &str| format!("CAST(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END) AS BIGINT)");
            conds.push(format!(
                "person_id IN (SELECT r.person_id FROM source_records r \
                 JOIN source_lists l ON l.id = r.list_id WHERE l.organisation_id = ${})",
                binds.len() + 1
            ));
            format!(
                "SELECT {key}, COUNT(*), {}, {}, {}, {}, {}, {}, {} FROM coverage_persons \
                 WHERE {} GROUP BY {key} ORDER BY {key}",
                sum("orgs = 0"),
                sum("orgs = 1"),
                sum("orgs = 2"),
                sum("orgs >= 3"),
                sum("same_kind = 1"),
                sum("female_head = 1"),
                sum("female_head = 1 AND orgs = 0"),
                conds.join(" AND "),
            )
        }
    };
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for b in binds {
        q = q.bind(b);
    }
    if let Some(o) = org {
        q = q.bind(o);
    }
    let rows = q.fetch_all(store.pool()).await?;
    Ok(rows.iter().map(row_of).collect())
}

/// A female head of household whom no organisation covers: who to reach out to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutreachRow {
    pub person_id: i64,
    pub national_code: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub zone: String,
    pub female_head_reason: Option<String>,
    pub dependants: Option<i64>,
}

/// The household a person heads (the first one), per row of a page. Scalar subqueries, not a
/// join: for a download's 5,000 rows PostgreSQL hashed every household of the country (130 ms
/// at 1M people). `MIN(hh.id + 0)`: a plain `MIN(hh.id)` lets PostgreSQL walk the households'
/// primary key in order and filter on the head, a scan of every household per row.
const HOUSEHOLD_HEADED: &str =
    "(SELECT MIN(hh.id + 0) FROM households hh WHERE hh.head_person_id = c.person_id)";

/// The county's female heads of household covered by no organisation, in name order, one page
/// of at most `limit` rows after the person `after` (keyset: the next page starts after the
/// last row's person, whose names the query reads itself, so no name travels in a URL).
pub async fn outreach(
    store: &Store,
    filter: &PlaceFilter,
    county: &str,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<OutreachRow>> {
    crate::scale::refresh(store).await?;
    let Some(query) = outreach_query(filter, after.is_some()) else {
        return Ok(Vec::new());
    };
    let mut q = sqlx::query(AssertSqlSafe(query.sql)).bind(county.to_owned());
    if let Some(t) = query.text {
        q = q.bind(t);
    }
    if let Some(o) = query.int {
        q = q.bind(o);
    }
    if let Some(a) = after {
        q = q.bind(a);
    }
    let rows = q.bind(limit).fetch_all(store.pool()).await?;
    Ok(rows
        .iter()
        .map(|r| OutreachRow {
            person_id: r.get(0),
            national_code: r.get(1),
            first_name: r.get(2),
            last_name: r.get(3),
            phone: r.get(4),
            address: r.get(5),
            zone: r.get(6),
            female_head_reason: r.get(7),
            dependants: r.get(8),
        })
        .collect())
}

/// One outreach page's statement and the scope's value to bind after the county (`$1`);
/// then come the last row's person when `paged`, then the limit. `None` for a scope that
/// sees nothing.
pub struct OutreachQuery {
    pub sql: String,
    pub text: Option<String>,
    pub int: Option<i64>,
}

/// The outreach page's statement (the plan test reads it).
pub fn outreach_query(filter: &PlaceFilter, paged: bool) -> Option<OutreachQuery> {
    let mut conds = vec![
        "c.county_code = $1".to_owned(),
        "c.female_head = 1".into(),
        "c.orgs = 0".into(),
    ];
    let mut text: Option<String> = None;
    let mut int: Option<i64> = None;
    match filter {
        PlaceFilter::All => {}
        PlaceFilter::Province(c) => {
            conds.push("c.province_code = $2".into());
            text = Some(c.clone());
        }
        PlaceFilter::County(c) => {
            conds.push("c.county_code = $2".into());
            text = Some(c.clone());
        }
        PlaceFilter::Organisation(o) => {
            conds.push(
                "EXISTS (SELECT 1 FROM source_records so JOIN source_lists lo ON lo.id = so.list_id \
                 WHERE so.person_id = c.person_id AND lo.organisation_id = $2)"
                    .into(),
            );
            int = Some(*o);
        }
        PlaceFilter::Nothing => return None,
    }
    let mut next = if text.is_some() || int.is_some() {
        3
    } else {
        2
    };
    if paged {
        // The last row's names as the summary holds them (a refresh may have dropped the
        // person from the list since; then their names come from the registry).
        conds.push(format!(
            "(c.last_name, c.first_name, c.person_id) > \
             (SELECT COALESCE(a.last_name, ''), COALESCE(a.first_name, ''), a.id \
              FROM persons a WHERE a.id = ${next})"
        ));
        next += 1;
    }
    // The page's persons first (a range read of the outreach index, whose order is the
    // page's: county, uncovered female heads, names), then their details for those rows only.
    let sql = format!(
        "SELECT c.person_id, p.national_code, p.first_name, p.last_name, p.phone, \
         (SELECT r.address FROM source_records r WHERE r.person_id = c.person_id \
            AND r.address IS NOT NULL ORDER BY r.id DESC LIMIT 1), \
         c.zone, \
         (SELECT h.female_head_reason FROM households h WHERE h.id = {HOUSEHOLD_HEADED}), \
         (SELECT h.dependants FROM households h WHERE h.id = {HOUSEHOLD_HEADED}) \
         FROM (SELECT c.person_id AS person_id, c.zone AS zone, c.last_name AS last_name, \
            c.first_name AS first_name FROM coverage_persons c WHERE {} \
            ORDER BY c.last_name, c.first_name, c.person_id LIMIT ${next}) c \
         JOIN persons p ON p.id = c.person_id \
         ORDER BY c.last_name, c.first_name, c.person_id",
        conds.join(" AND ")
    );
    Some(OutreachQuery { sql, text, int })
}

/// The old outreach query, person by person from the source tables (the tests' yardstick).
pub async fn outreach_from_scratch(
    store: &Store,
    filter: &PlaceFilter,
    county: &str,
    limit: i64,
) -> Result<Vec<i64>> {
    let (scope, text, int) = scope(filter);
    let param = if text.is_some() || int.is_some() {
        2
    } else {
        1
    };
    let sql = format!(
        "SELECT cov.id FROM ({}) cov JOIN persons p ON p.id = cov.id \
         WHERE cov.female_head = 1 AND cov.orgs = 0 \
         ORDER BY COALESCE(p.last_name, ''), COALESCE(p.first_name, ''), p.id LIMIT ${}",
        per_person_sql(&scope, &format!("AND p.county_code = ${param}")),
        param + 1
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    if let Some(t) = text {
        q = q.bind(t);
    }
    if let Some(o) = int {
        q = q.bind(o);
    }
    let rows = q
        .bind(county.to_owned())
        .bind(limit)
        .fetch_all(store.pool())
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
