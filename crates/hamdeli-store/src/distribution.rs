//! Fair distribution (capability C): a campaign's pool over the eligible verified needs with the
//! allocation engine, the dry run that explains every line, the commit that writes a batch in
//! one transaction, deliveries, and the support ledger with its double-service report.
//!
//! Concurrency: a commit recomputes its plan inside its transaction and then moves the pool and
//! every need with guarded updates (`allocated + x <= received`, `allocated + x <= amount`); if
//! another commit got there first a guard refuses, the whole batch rolls back and the user is
//! asked to run it again. So two campaigns allocating at once never give a need more than its
//! amount, and one donation is never spent twice.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sqlx::{AssertSqlSafe, Row};

use hamdeli_alloc::{Policy, Quotas, Reason, Request};
use hamdeli_domain::PlaceFilter;
use hamdeli_domain::needs::{HouseholdFacts, NeedStatus, Urgency, Weights, score};

use crate::campaigns::{Campaign, MONEY};
use crate::{AnyConnection, Result, Store, StoreError, Tx, ledger, now_millis};

/// The time window of "already received" and double service: Unix millis, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: i64,
    pub to: i64,
}

/// One need considered by an allocation.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub need_id: i64,
    pub person_id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub need_type: String,
    pub amount: i64,
    pub allocated: i64,
    pub status: String,
    pub urgency: String,
    pub province_code: Option<String>,
    pub county_code: Option<String>,
    pub zone: Option<String>,
    /// What other organisations' support of this need type gave the person in the window.
    pub received_elsewhere: i64,
    /// How many other organisations supported this need type for the person in the window.
    pub other_providers: i64,
    pub facts: HouseholdFacts,
}

/// Why a need took no part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ineligible {
    NotVerified,
    AlreadyMet,
    ReceivedElsewhere,
}

impl Ineligible {
    pub fn code(self) -> &'static str {
        match self {
            Ineligible::NotVerified => "not_verified",
            Ineligible::AlreadyMet => "already_met",
            Ineligible::ReceivedElsewhere => "received_elsewhere",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanLine {
    pub candidate: Candidate,
    pub score: i64,
    pub weight: f64,
    /// The need still open: amount − allocated − received elsewhere (not below 0).
    pub remaining: i64,
    pub ineligible: Option<Ineligible>,
    pub units: i64,
    /// Engine reason code (`level`, `full_need`, …) for eligible lines.
    pub reason: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub campaign_id: i64,
    pub resource: String,
    pub policy: &'static str,
    /// What the pool can still give: received − allocated.
    pub pool: i64,
    pub total: i64,
    pub eligible: i64,
    /// The water-fill level λ (units of need served per unit of weight), when finite.
    pub level: Option<f64>,
    /// Eligible lines whose person another organisation already served for this need type.
    pub double_service_warnings: i64,
    pub lines: Vec<PlanLine>,
    /// The area quotas the plan honours (none by default), with what each area got.
    pub quotas: Vec<QuotaUse>,
}

/// The level of the areas an allocation's quotas are set for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaLevel {
    #[default]
    Province,
    County,
}

/// The most units (of the resource: rials of money, units of goods) one allocation may give
/// the needs of an area: per province or per county, one level at a time. An area without an
/// entry has no quota.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AreaQuotas {
    pub level: AreaLevel,
    pub max_units: BTreeMap<String, i64>,
}

impl AreaQuotas {
    pub fn is_empty(&self) -> bool {
        self.max_units.is_empty()
    }

    /// The area of a candidate at this level.
    fn area_of<'a>(&self, c: &'a Candidate) -> Option<&'a str> {
        match self.level {
            AreaLevel::Province => c.province_code.as_deref(),
            AreaLevel::County => c.county_code.as_deref(),
        }
    }
}

/// An area's quota and what the plan gives its needs.
#[derive(Debug, Clone, Serialize)]
pub struct QuotaUse {
    pub area: String,
    pub max_units: i64,
    pub given: i64,
    /// The quota holds the area below the level the others get.
    pub held: bool,
}

/// The need types a resource serves in a campaign: its money goes to the campaign's types
/// counted in rials; goods of a type go to needs of that type.
async fn resource_types(
    conn: &mut AnyConnection,
    campaign: i64,
    resource: &str,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT ct.need_type, t.unit FROM campaign_need_types ct JOIN need_types t ON t.code = ct.need_type \
         WHERE ct.campaign_id = $1",
    )
    .bind(campaign)
    .fetch_all(&mut *conn)
    .await?;
    let types: Vec<String> = rows
        .iter()
        .filter(|r| {
            let (code, unit): (String, String) = (r.get(0), r.get(1));
            if resource == MONEY {
                unit == "rial"
            } else {
                code == resource && unit == "unit"
            }
        })
        .map(|r| r.get(0))
        .collect();
    if types.is_empty() {
        return Err(StoreError::Invalid("allocation-resource-invalid"));
    }
    Ok(types)
}

/// The needs of the campaign's types and area that are not closed, with what the person
/// received elsewhere in the window and the household's facts.
pub async fn candidates(
    conn: &mut AnyConnection,
    campaign: &Campaign,
    resource: &str,
    window: Window,
) -> Result<Vec<Candidate>> {
    candidates_after(conn, campaign, resource, window, None).await
}

/// Need type codes as an SQL list of string literals.
fn sql_list(types: &[String]) -> String {
    types
        .iter()
        .map(|t| format!("'{}'", t.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(",")
}

/// The campaign's candidate needs as an SQL condition over `needs n`: its resource's types, not
/// closed, its area (`$area`, bound to the area's code or '') and, for a partner organisation's
/// campaign, only persons it holds a record of (`$org`) — it never learns of (nor allocates to)
/// people another organisation listed.
async fn candidate_condition(
    conn: &mut AnyConnection,
    campaign: &Campaign,
    resource: &str,
    area_param: usize,
    org_param: usize,
) -> Result<(String, String)> {
    let types = resource_types(conn, campaign.id, resource).await?;
    let type_list = sql_list(&types);
    let (area, area_bind) = match (&campaign.county_code, &campaign.province_code) {
        (Some(c), _) => (format!("AND n.county_code = ${area_param}"), c.clone()),
        (None, Some(p)) => (format!("AND n.province_code = ${area_param}"), p.clone()),
        _ => (format!("AND (${area_param} = '')"), String::new()),
    };
    let reach = if campaign.organisation_id.is_some() {
        format!(
            "AND EXISTS (SELECT 1 FROM source_records so JOIN source_lists lo ON lo.id = so.list_id \
             WHERE so.person_id = n.person_id AND lo.organisation_id = ${org_param})"
        )
    } else {
        // Bound to -1: referenced so that both engines see every parameter.
        format!("AND (${org_param} < 0)")
    };
    Ok((
        format!("n.need_type IN ({type_list}) AND n.status <> 'closed' {area} {reach}"),
        area_bind,
    ))
}

/// [`candidates`] by key: with `Some((after, limit))` only the `limit` needs after need id
/// `after` (in id order) and their facts — one page of a large campaign's candidates.
async fn candidates_after(
    conn: &mut AnyConnection,
    campaign: &Campaign,
    resource: &str,
    window: Window,
    page: Option<(i64, i64)>,
) -> Result<Vec<Candidate>> {
    let (condition, area_bind) = candidate_condition(conn, campaign, resource, 3, 4).await?;
    let page_sql = match page {
        Some((after, limit)) => format!(
            "AND n.id > {after} ORDER BY n.id LIMIT {}",
            limit.clamp(1, 1000)
        ),
        None => "ORDER BY n.id".to_owned(),
    };
    let sql = format!(
        "SELECT n.id, n.person_id, p.first_name, p.last_name, n.need_type, n.amount, n.allocated, \
         n.status, n.urgency, n.province_code, n.county_code, n.zone, \
         (SELECT CAST(COALESCE(SUM(s.amount), 0) AS BIGINT) FROM support_ledger s WHERE s.person_id = n.person_id \
            AND s.need_type = n.need_type AND s.source <> 'delivery' AND s.at BETWEEN $1 AND $2), \
         (SELECT COUNT(DISTINCT s.organisation_id) FROM support_ledger s WHERE s.person_id = n.person_id \
            AND s.need_type = n.need_type AND s.at BETWEEN $1 AND $2 \
            AND s.organisation_id IS NOT NULL AND ($4 < 0 OR s.organisation_id <> $4)) \
         FROM needs n JOIN persons p ON p.id = n.person_id \
         WHERE {condition} {page_sql}"
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(window.from)
        .bind(window.to)
        .bind(area_bind)
        .bind(campaign.organisation_id.unwrap_or(-1))
        .fetch_all(&mut *conn)
        .await?;
    let mut out: Vec<Candidate> = rows
        .iter()
        .map(|r| Candidate {
            need_id: r.get(0),
            person_id: r.get(1),
            first_name: r.get(2),
            last_name: r.get(3),
            need_type: r.get(4),
            amount: r.get(5),
            allocated: r.get(6),
            status: r.get(7),
            urgency: r.get(8),
            province_code: r.get(9),
            county_code: r.get(10),
            zone: r.get(11),
            received_elsewhere: r.get(12),
            other_providers: r.get(13),
            facts: HouseholdFacts::default(),
        })
        .collect();
    let persons: Vec<i64> = {
        let mut v: Vec<i64> = out.iter().map(|c| c.person_id).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let facts: HashMap<i64, HouseholdFacts> = crate::needs::facts_by_person(conn, &persons)
        .await?
        .into_iter()
        .collect();
    for c in &mut out {
        if let Some(f) = facts.get(&c.person_id) {
            c.facts = f.clone();
        }
    }
    Ok(out)
}

/// A candidate's line before the engine runs: its score, weight, what remains of its need and
/// whether it is eligible (nothing given yet).
fn unplanned_line(c: Candidate, weights: &Weights) -> PlanLine {
    let s = score(&c.facts, weights);
    let urgency = Urgency::parse(&c.urgency).unwrap_or(Urgency::Normal);
    let weight = s.allocation_weight() * urgency.factor();
    let open = (c.amount - c.allocated).max(0);
    let remaining = (open - c.received_elsewhere).max(0);
    let ineligible = match NeedStatus::parse(&c.status) {
        Some(st) if st.allocatable() => {
            if open == 0 {
                Some(Ineligible::AlreadyMet)
            } else if remaining == 0 {
                Some(Ineligible::ReceivedElsewhere)
            } else {
                None
            }
        }
        Some(NeedStatus::Met) => Some(Ineligible::AlreadyMet),
        _ => Some(Ineligible::NotVerified),
    };
    PlanLine {
        candidate: c,
        score: s.total,
        weight,
        remaining,
        ineligible,
        units: 0,
        reason: None,
    }
}

/// The plan: who is eligible, with what weight, and what the engine gives each. Pure.
pub fn plan(
    campaign_id: i64,
    resource: &str,
    candidates: Vec<Candidate>,
    weights: &Weights,
    pool: i64,
    policy: Policy,
) -> Plan {
    plan_with_quotas(
        campaign_id,
        resource,
        candidates,
        weights,
        pool,
        policy,
        &AreaQuotas::default(),
    )
}

/// [`plan`] with area quotas: the needs of an area with a quota get at most its units together
/// (the engine's group quotas).
pub fn plan_with_quotas(
    campaign_id: i64,
    resource: &str,
    candidates: Vec<Candidate>,
    weights: &Weights,
    pool: i64,
    policy: Policy,
    area_quotas: &AreaQuotas,
) -> Plan {
    let mut lines: Vec<PlanLine> = candidates
        .into_iter()
        .map(|c| unplanned_line(c, weights))
        .collect();
    let eligible: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].ineligible.is_none())
        .collect();
    // One engine group per area with a quota, in the quotas' order.
    let areas: Vec<(&String, &i64)> = area_quotas.max_units.iter().collect();
    let quotas = Quotas {
        max_units: areas
            .iter()
            .map(|(_, m)| Some((**m).max(0) as u64))
            .collect(),
    };
    let group_of = |c: &Candidate| -> Option<u32> {
        let area = area_quotas.area_of(c)?;
        areas
            .iter()
            .position(|(a, _)| a.as_str() == area)
            .map(|g| g as u32)
    };
    let requests: Vec<Request> = eligible
        .iter()
        .map(|&i| Request {
            need: lines[i].remaining as u64,
            weight: lines[i].weight,
            group: group_of(&lines[i].candidate),
        })
        .collect();
    let result = hamdeli_alloc::allocate(&requests, pool.max(0) as u64, &quotas, policy);
    let mut quota_use: Vec<QuotaUse> = areas
        .iter()
        .map(|(a, m)| QuotaUse {
            area: (*a).clone(),
            max_units: **m,
            given: 0,
            held: false,
        })
        .collect();
    let mut level = None;
    let mut total = 0;
    if let Ok(a) = result {
        level = a.level.is_finite().then_some(a.level);
        for (k, &i) in eligible.iter().enumerate() {
            lines[i].units = a.units[k] as i64;
            lines[i].reason = Some(a.reasons[k].code());
            total += a.units[k] as i64;
            if let Some(g) = requests[k].group
                && let Some(q) = quota_use.get_mut(g as usize)
            {
                q.given += a.units[k] as i64;
                q.held |= a.reasons[k] == Reason::GroupQuota;
            }
        }
    } else {
        for &i in &eligible {
            lines[i].reason = Some(Reason::PoolExhausted.code());
        }
    }
    let double_service_warnings = eligible
        .iter()
        .filter(|&&i| lines[i].candidate.other_providers > 0)
        .count() as i64;
    Plan {
        campaign_id,
        resource: resource.to_owned(),
        policy: match policy {
            Policy::WaterFill => "water-fill",
            Policy::Priority => "priority",
        },
        pool,
        total,
        eligible: eligible.len() as i64,
        level,
        double_service_warnings,
        lines,
        quotas: quota_use,
    }
}

async fn pool_left(conn: &mut AnyConnection, campaign: i64, resource: &str) -> Result<i64> {
    let row = sqlx::query(
        "SELECT received - allocated FROM campaign_pools WHERE campaign_id = $1 AND resource = $2",
    )
    .bind(campaign)
    .bind(resource.to_owned())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::Invalid("allocation-resource-invalid"))?;
    Ok(row.get(0))
}

/// The dry run: the plan over the database as it is now, nothing written.
pub async fn dry_run(
    store: &Store,
    campaign: &Campaign,
    resource: &str,
    policy: Policy,
    window: Window,
) -> Result<Plan> {
    dry_run_with_quotas(
        store,
        campaign,
        resource,
        policy,
        window,
        &AreaQuotas::default(),
    )
    .await
}

/// [`dry_run`] under area quotas.
pub async fn dry_run_with_quotas(
    store: &Store,
    campaign: &Campaign,
    resource: &str,
    policy: Policy,
    window: Window,
    quotas: &AreaQuotas,
) -> Result<Plan> {
    let mut conn = store.pool().acquire().await?;
    let weights = crate::needs::weights(store).await?;
    let pool = pool_left(&mut conn, campaign.id, resource).await?;
    let cands = candidates(&mut conn, campaign, resource, window).await?;
    Ok(plan_with_quotas(
        campaign.id,
        resource,
        cands,
        &weights,
        pool,
        policy,
        quotas,
    ))
}

// ---------------------------------------------------------------------------------------------
// The overview of a large allocation: counted set-based, candidates paged by key

/// Above this many candidate needs the allocation page does not run the whole plan on a GET
/// (it reads every candidate's household facts: ~15 µs a candidate, 3,000 in ~40 ms): it shows
/// [`overview`] instead, and the commit computes the exact plan in its transaction.
pub const FULL_DRY_RUN_MAX: i64 = 2000;

/// Candidate needs of one province, need type and urgency, eligible or not (before what other
/// organisations gave, which only the plan deducts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CandidateGroup {
    pub province_code: Option<String>,
    pub need_type: String,
    pub urgency: String,
    /// Verified or partly met, with something of its amount left.
    pub eligible: bool,
    pub needs: i64,
    /// Σ amount − allocated (not below 0).
    pub open: i64,
}

/// A campaign's candidates for a resource counted set-based (from `allocation_summary`, or one
/// GROUP BY over its needs), without reading any household's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CandidateCounts {
    pub pool: i64,
    pub candidates: i64,
    pub eligible: i64,
    /// What the eligible needs still lack together (before support received elsewhere).
    pub open: i64,
    /// By province, need type, urgency and eligibility, in that order.
    pub groups: Vec<CandidateGroup>,
    /// The eligible needs per area of the quotas' level (province or county code, in code
    /// order; needs of no known area are left out).
    pub areas: Vec<(String, i64)>,
}

/// The campaign's area over a table with `province_code` and `county_code` columns (`''` for
/// none, as in `allocation_summary`), bound to `$1`.
fn summary_area(campaign: &Campaign) -> (&'static str, String) {
    match (&campaign.county_code, &campaign.province_code) {
        (Some(c), _) => ("s.county_code = $1", c.clone()),
        (None, Some(p)) => ("s.province_code = $1", p.clone()),
        _ => ("$1 = ''", String::new()),
    }
}

/// The counts of a campaign's candidate needs for a resource, with the eligible needs per area
/// at `level`. A campaign of the whole country, a province or a county reads them from
/// `allocation_summary` (migration 0032: a few rows per need type and county, kept by triggers
/// on `needs`) and sums them there, so at most a few hundred rows come back; a partner
/// organisation's campaign, whose candidates are only the persons it holds a record of, counts
/// its needs ([`candidate_counts_recomputed`]).
pub async fn candidate_counts(
    store: &Store,
    campaign: &Campaign,
    resource: &str,
    level: AreaLevel,
) -> Result<CandidateCounts> {
    if campaign.organisation_id.is_some() {
        return candidate_counts_recomputed(store, campaign, resource, level).await;
    }
    let mut conn = store.pool().acquire().await?;
    let pool = pool_left(&mut conn, campaign.id, resource).await?;
    let types = sql_list(&resource_types(&mut conn, campaign.id, resource).await?);
    let (area, area_bind) = summary_area(campaign);
    let groups = sqlx::query(AssertSqlSafe(format!(
        "SELECT NULLIF(s.province_code, ''), s.need_type, s.urgency, CAST(s.eligible AS BIGINT), \
         CAST(SUM(s.needs) AS BIGINT), CAST(SUM(s.open_units) AS BIGINT) FROM allocation_summary s \
         WHERE s.need_type IN ({types}) AND {area} \
         GROUP BY s.province_code, s.need_type, s.urgency, s.eligible HAVING SUM(s.needs) <> 0 \
         ORDER BY s.province_code, s.need_type, s.urgency, s.eligible"
    )))
    .bind(area_bind.clone())
    .fetch_all(&mut *conn)
    .await?;
    let areas = match level {
        AreaLevel::Province => None,
        AreaLevel::County => Some(
            sqlx::query(AssertSqlSafe(format!(
                "SELECT s.county_code, CAST(SUM(s.needs) AS BIGINT) FROM allocation_summary s \
                 WHERE s.need_type IN ({types}) AND {area} AND s.eligible = 1 AND s.county_code <> '' \
                 GROUP BY s.county_code HAVING SUM(s.needs) <> 0 ORDER BY s.county_code"
            )))
            .bind(area_bind)
            .fetch_all(&mut *conn)
            .await?,
        ),
    };
    Ok(counts_of(pool, &groups, areas.as_deref()))
}

/// [`candidate_counts`] counted from the campaign's candidate needs themselves: a GROUP BY over
/// `needs` by province, type, urgency and eligibility, and by county for county quotas (a
/// partner organisation's campaign; the summary's test recomputation).
pub async fn candidate_counts_recomputed(
    store: &Store,
    campaign: &Campaign,
    resource: &str,
    level: AreaLevel,
) -> Result<CandidateCounts> {
    let mut conn = store.pool().acquire().await?;
    let pool = pool_left(&mut conn, campaign.id, resource).await?;
    let (condition, area_bind) = candidate_condition(&mut conn, campaign, resource, 1, 2).await?;
    let eligible = "CASE WHEN n.status IN ('verified', 'partly_met') AND n.amount > n.allocated \
                    THEN 1 ELSE 0 END";
    let org = campaign.organisation_id.unwrap_or(-1);
    let groups = sqlx::query(AssertSqlSafe(format!(
        "SELECT n.province_code, n.need_type, n.urgency, CAST({eligible} AS BIGINT), COUNT(*), \
         CAST(COALESCE(SUM(CASE WHEN n.amount > n.allocated THEN n.amount - n.allocated ELSE 0 END), 0) AS BIGINT) \
         FROM needs n WHERE {condition} \
         GROUP BY n.province_code, n.need_type, n.urgency, {eligible} \
         ORDER BY COALESCE(n.province_code, ''), n.need_type, n.urgency, {eligible}"
    )))
    .bind(area_bind.clone())
    .bind(org)
    .fetch_all(&mut *conn)
    .await?;
    let areas = match level {
        AreaLevel::Province => None,
        AreaLevel::County => Some(
            sqlx::query(AssertSqlSafe(format!(
                "SELECT n.county_code, COUNT(*) FROM needs n \
                 WHERE {condition} AND {eligible} = 1 AND n.county_code IS NOT NULL \
                 GROUP BY n.county_code ORDER BY n.county_code"
            )))
            .bind(area_bind)
            .bind(org)
            .fetch_all(&mut *conn)
            .await?,
        ),
    };
    Ok(counts_of(pool, &groups, areas.as_deref()))
}

/// The counts of a campaign's candidate groups (rows: province or NULL, need type, urgency,
/// eligible, needs, open) and, for county quotas, its counties' eligible needs (rows: county,
/// needs); for province quotas the areas are the groups' provinces.
fn counts_of(
    pool: i64,
    rows: &[sqlx::any::AnyRow],
    county_rows: Option<&[sqlx::any::AnyRow]>,
) -> CandidateCounts {
    let groups: Vec<CandidateGroup> = rows
        .iter()
        .map(|r| CandidateGroup {
            province_code: r.get(0),
            need_type: r.get(1),
            urgency: r.get(2),
            eligible: r.get::<i64, _>(3) != 0,
            needs: r.get(4),
            open: r.get(5),
        })
        .collect();
    let eligible_groups = groups.iter().filter(|g| g.eligible);
    let areas = match county_rows {
        Some(rows) => rows.iter().map(|r| (r.get(0), r.get(1))).collect(),
        None => {
            let mut by: BTreeMap<String, i64> = BTreeMap::new();
            for g in eligible_groups.clone() {
                if let Some(p) = &g.province_code {
                    *by.entry(p.clone()).or_default() += g.needs;
                }
            }
            by.into_iter().collect()
        }
    };
    CandidateCounts {
        pool,
        candidates: groups.iter().map(|g| g.needs).sum(),
        eligible: eligible_groups.clone().map(|g| g.needs).sum(),
        open: eligible_groups.fold(0i64, |acc, g| acc.saturating_add(g.open)),
        groups,
        areas,
    }
}

/// `allocation_summary` (migration 0032) recomputed from every need, in its columns' order.
pub const ALLOCATION_SUMMARY_RECOMPUTED: &str = "SELECT need_type, COALESCE(province_code, ''), \
     COALESCE(county_code, ''), urgency, \
     CAST(CASE WHEN status IN ('verified', 'partly_met') AND amount > allocated THEN 1 ELSE 0 END AS BIGINT), \
     CAST(COUNT(*) AS BIGINT), \
     CAST(COALESCE(SUM(CASE WHEN amount > allocated THEN amount - allocated ELSE 0 END), 0) AS BIGINT) \
     FROM needs WHERE status <> 'closed' GROUP BY 1, 2, 3, 4, 5";

/// Recomputes `allocation_summary` from the needs (`hamdeli admin rebuild-summaries`).
pub async fn rebuild_allocation_summary(tx: &mut Tx) -> Result<()> {
    sqlx::query("DELETE FROM allocation_summary")
        .execute(&mut **tx)
        .await?;
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO allocation_summary (need_type, province_code, county_code, urgency, eligible, \
         needs, open_units) {ALLOCATION_SUMMARY_RECOMPUTED}"
    )))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One page of a campaign's candidates by key (need id order, after need id `after`), each
/// with its score, weight, what remains of its need and whether it is eligible; what the
/// engine gives it is computed by the commit. Reads the facts of this page's households only.
pub async fn candidate_page(
    store: &Store,
    campaign: &Campaign,
    resource: &str,
    window: Window,
    after: i64,
    limit: i64,
) -> Result<Vec<PlanLine>> {
    let mut conn = store.pool().acquire().await?;
    let weights = crate::needs::weights(store).await?;
    let page =
        candidates_after(&mut conn, campaign, resource, window, Some((after, limit))).await?;
    Ok(page
        .into_iter()
        .map(|c| unplanned_line(c, &weights))
        .collect())
}

#[derive(Debug, Clone, Serialize)]
pub struct Committed {
    pub batch_id: i64,
    pub total: i64,
    pub allocations: i64,
}

/// Rows per multi-row INSERT of allocations (14 values each, under both engines' limits).
const INSERT_CHUNK: usize = 2000;

/// Who commits an allocation: the user's id, and the audit log's actor when the commit is
/// audited (a person's action; the demo and benchmarks pass none).
pub struct CommittedBy<'a> {
    pub user: Option<i64>,
    pub audit: Option<&'a crate::audit::Actor<'a>>,
}

impl CommittedBy<'_> {
    /// A commit by a program (the demo, a benchmark), not audited.
    pub fn unaudited(user: Option<i64>) -> Self {
        CommittedBy { user, audit: None }
    }
}

/// Recomputes the plan inside one transaction and writes it: the batch, its allocations, the
/// needs and the pool moved with guarded updates, its allocations queued for the transparency
/// log's daily aggregates, and the audit entry.
pub async fn commit(
    store: &Store,
    campaign: &Campaign,
    resource: &str,
    policy: Policy,
    window: Window,
    by: CommittedBy<'_>,
) -> Result<Committed> {
    commit_with_quotas(
        store,
        campaign,
        resource,
        policy,
        window,
        &AreaQuotas::default(),
        by,
    )
    .await
}

/// [`commit`] under area quotas (the plan is recomputed under the same quotas).
pub async fn commit_with_quotas(
    store: &Store,
    campaign: &Campaign,
    resource: &str,
    policy: Policy,
    window: Window,
    quotas: &AreaQuotas,
    by: CommittedBy<'_>,
) -> Result<Committed> {
    match commit_once(store, campaign, resource, policy, window, quotas, by).await {
        // Another commit held the same rows (a PostgreSQL deadlock or serialisation failure,
        // SQLite busy): nothing was written; the user runs the dry run again.
        Err(StoreError::Db(e)) if lost_a_race(&e) => {
            Err(StoreError::Conflict("allocation-needs-changed"))
        }
        other => other,
    }
}

fn lost_a_race(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            matches!(
                d.code().as_deref(),
                Some("40P01" | "40001" | "5" | "6" | "517")
            ) || d.message().contains("database is locked")
        }
        _ => false,
    }
}

async fn commit_once(
    store: &Store,
    campaign: &Campaign,
    resource: &str,
    policy: Policy,
    window: Window,
    quotas: &AreaQuotas,
    by: CommittedBy<'_>,
) -> Result<Committed> {
    if campaign.status != "active" {
        return Err(StoreError::Invalid("allocation-campaign-closed"));
    }
    let weights = crate::needs::weights(store).await?;
    let mut tx = store.begin().await?;
    // Take the campaign's write lock first (a no-op update), so allocations of one campaign
    // queue up instead of failing each other's guards.
    sqlx::query(
        "UPDATE campaign_pools SET allocated = allocated WHERE campaign_id = $1 AND resource = $2",
    )
    .bind(campaign.id)
    .bind(resource.to_owned())
    .execute(&mut *tx)
    .await?;
    let pool = pool_left(&mut tx, campaign.id, resource).await?;
    let cands = candidates(&mut tx, campaign, resource, window).await?;
    let plan = plan_with_quotas(campaign.id, resource, cands, &weights, pool, policy, quotas);
    let given: Vec<&PlanLine> = plan.lines.iter().filter(|l| l.units > 0).collect();
    if given.is_empty() {
        return Err(StoreError::Invalid("allocation-nothing-to-give"));
    }
    let moved = sqlx::query(
        "UPDATE campaign_pools SET allocated = allocated + $1 \
         WHERE campaign_id = $2 AND resource = $3 AND allocated + $1 <= received",
    )
    .bind(plan.total)
    .bind(campaign.id)
    .bind(resource.to_owned())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved != 1 {
        return Err(StoreError::Conflict("allocation-pool-changed"));
    }
    let now = now_millis();
    let batch_id: i64 = sqlx::query(
        "INSERT INTO allocation_batches (campaign_id, resource, policy, pool, total, requests, \
         created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(campaign.id)
    .bind(resource.to_owned())
    .bind(plan.policy)
    .bind(plan.pool)
    .bind(plan.total)
    .bind(plan.eligible)
    .bind(by.user)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?
    .get(0);
    // Literal values (numbers, codes from our own tables, escaped text): binding 13 values per
    // row made this insert ten times slower than the rest of the commit.
    for chunk in given.chunks(INSERT_CHUNK) {
        let mut sql = String::from(
            "INSERT INTO allocations (batch_id, need_id, person_id, need_type, units, weight_milli, \
             reason, province_code, county_code, zone, status, delivery_code) VALUES ",
        );
        for (i, l) in chunk.iter().enumerate() {
            let c = &l.candidate;
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "({batch_id}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 'pending', '{:06}')",
                c.need_id,
                c.person_id,
                sql_text(Some(&c.need_type)),
                l.units,
                (l.weight * 1000.0).round() as i64,
                sql_text(l.reason),
                sql_text(c.province_code.as_deref()),
                sql_text(c.county_code.as_deref()),
                sql_text(c.zone.as_deref()),
                rand::random::<u32>() % 1_000_000,
            ));
        }
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *tx).await?;
    }
    // UPDATE … FROM (PostgreSQL, and SQLite since 3.33): one join instead of a subquery per row.
    // The guard sits in the WHERE: a need another commit filled meanwhile is not updated, the
    // count comes short, and the whole batch rolls back.
    let updated = sqlx::query(
        "UPDATE needs SET allocated = needs.allocated + a.units, \
         status = CASE WHEN needs.allocated + a.units >= needs.amount THEN 'met' ELSE 'partly_met' END, \
         updated_at = $2 \
         FROM allocations a WHERE a.batch_id = $1 AND a.need_id = needs.id \
         AND needs.status IN ('verified', 'partly_met') AND needs.allocated + a.units <= needs.amount",
    )
    .bind(batch_id)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated != given.len() as u64 {
        return Err(StoreError::Conflict("allocation-needs-changed"));
    }
    // The public log counts the batch in its day's aggregate (no cell under five), never alone.
    ledger::queue_allocation_batch(&mut tx, batch_id, now).await?;
    if let Some(actor) = by.audit {
        crate::audit::record(
            &mut tx,
            actor,
            crate::audit::Event {
                action: "allocation.commit",
                target_kind: "allocation_batch",
                target_id: batch_id.to_string(),
                detail: if quotas.is_empty() {
                    serde_json::json!({ "campaign": campaign.id, "resource": resource,
                        "total": plan.total, "allocations": given.len() })
                } else {
                    serde_json::json!({ "campaign": campaign.id, "resource": resource,
                        "total": plan.total, "allocations": given.len(), "quotas": quotas })
                },
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Committed {
        batch_id,
        total: plan.total,
        allocations: given.len() as i64,
    })
}

/// A text value as an SQL literal (quotes doubled; NULL for none), for both engines.
fn sql_text(v: Option<&str>) -> String {
    match v {
        Some(s) => format!("'{}'", s.replace('\'', "''").replace('\0', "")),
        None => "NULL".to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Deliveries

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AllocationRow {
    pub id: i64,
    pub batch_id: i64,
    pub campaign_id: i64,
    pub campaign_title: String,
    pub need_id: i64,
    pub person_id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub need_type: String,
    pub units: i64,
    pub resource: String,
    pub county_code: Option<String>,
    pub status: String,
    pub delivered_at: Option<i64>,
    pub note: Option<String>,
}

const ALLOCATION_COLUMNS: &str = "a.id, a.batch_id, b.campaign_id, c.title, a.need_id, a.person_id, \
     p.first_name, p.last_name, a.need_type, a.units, b.resource, a.county_code, a.status, \
     a.delivered_at, a.note";
const ALLOCATION_FROM: &str = "FROM allocations a JOIN allocation_batches b ON b.id = a.batch_id \
     JOIN campaigns c ON c.id = b.campaign_id JOIN persons p ON p.id = a.person_id";

fn allocation_from_row(r: &sqlx::any::AnyRow) -> AllocationRow {
    AllocationRow {
        id: r.get(0),
        batch_id: r.get(1),
        campaign_id: r.get(2),
        campaign_title: r.get(3),
        need_id: r.get(4),
        person_id: r.get(5),
        first_name: r.get(6),
        last_name: r.get(7),
        need_type: r.get(8),
        units: r.get(9),
        resource: r.get(10),
        county_code: r.get(11),
        status: r.get(12),
        delivered_at: r.get(13),
        note: r.get(14),
    }
}

fn scope_on(filter: &PlaceFilter, alias: &str, param: usize) -> (String, Option<String>) {
    match filter {
        PlaceFilter::All => ("1 = 1".into(), None),
        PlaceFilter::Province(p) => (format!("{alias}.province_code = ${param}"), Some(p.clone())),
        PlaceFilter::County(c) => (format!("{alias}.county_code = ${param}"), Some(c.clone())),
        PlaceFilter::Organisation(_) | PlaceFilter::Nothing => ("1 = 0".into(), None),
    }
}

/// Allocations in scope with a status (`pending`, `delivered`, `failed`), oldest first.
pub async fn allocations(
    store: &Store,
    filter: &PlaceFilter,
    status: &str,
    limit: i64,
) -> Result<Vec<AllocationRow>> {
    allocations_after(store, filter, status, None, limit).await
}

/// One page of [`allocations`]: those after allocation `after` (keyset on the id, which the
/// `allocations_status` index walks in order).
/// The statement of [`allocations_after`] (binds: status, after, then the scope's value if
/// any): on the indexes of migration 0028 it walks one page in id order, never sorting all.
pub fn allocations_after_sql(filter: &PlaceFilter, limit: i64) -> (String, Option<String>) {
    let (clause, bind) = scope_on(filter, "a", 3);
    let sql = format!(
        "SELECT {ALLOCATION_COLUMNS} {ALLOCATION_FROM} WHERE a.status = $1 AND a.id > $2 \
         AND {clause} ORDER BY a.id LIMIT {}",
        limit.clamp(1, 10_000)
    );
    (sql, bind)
}

pub async fn allocations_after(
    store: &Store,
    filter: &PlaceFilter,
    status: &str,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<AllocationRow>> {
    let (sql, bind) = allocations_after_sql(filter, limit);
    let mut q = sqlx::query(AssertSqlSafe(sql))
        .bind(status.to_owned())
        .bind(after.unwrap_or(0));
    if let Some(b) = bind {
        q = q.bind(b);
    }
    Ok(q.fetch_all(store.pool())
        .await?
        .iter()
        .map(allocation_from_row)
        .collect())
}

pub async fn allocations_of_person(store: &Store, person: i64) -> Result<Vec<AllocationRow>> {
    let sql = format!(
        "SELECT {ALLOCATION_COLUMNS} {ALLOCATION_FROM} WHERE a.person_id = $1 ORDER BY a.id DESC"
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(person)
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(allocation_from_row)
        .collect())
}

/// Whether the principal's scope holds this allocation.
pub async fn allocation_in_scope(store: &Store, filter: &PlaceFilter, id: i64) -> Result<bool> {
    let (clause, bind) = scope_on(filter, "a", 2);
    let sql = format!("SELECT COUNT(*) FROM allocations a WHERE a.id = $1 AND {clause}");
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(id);
    if let Some(b) = bind {
        q = q.bind(b);
    }
    Ok(q.fetch_one(store.pool()).await?.get::<i64, _>(0) > 0)
}

/// What happened at the door.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Delivered; proof is the recipient's code (ASCII digits), or a note when the code
    /// cannot be had.
    Delivered {
        code: Option<String>,
        note: Option<String>,
    },
    /// Not delivered: the units go back to the need and to the campaign's pool.
    Failed { note: String },
}

/// Records a delivery once (a second attempt is a conflict), in the caller's transaction (which
/// also takes its audit entry). A delivery enters the support ledger under `period` (Jalali
/// year-month).
pub async fn record_delivery(
    tx: &mut Tx,
    allocation: i64,
    outcome: &Outcome,
    period: &str,
    by: Option<i64>,
) -> Result<()> {
    let row = sqlx::query(
        "SELECT a.delivery_code, a.person_id, a.need_type, a.units, a.need_id, b.campaign_id, \
         b.resource, c.organisation_id FROM allocations a \
         JOIN allocation_batches b ON b.id = a.batch_id JOIN campaigns c ON c.id = b.campaign_id \
         WHERE a.id = $1",
    )
    .bind(allocation)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(StoreError::NotFound)?;
    let expected: String = row.get(0);
    let person: i64 = row.get(1);
    let need_type: String = row.get(2);
    let units: i64 = row.get(3);
    let need_id: i64 = row.get(4);
    let campaign: i64 = row.get(5);
    let resource: String = row.get(6);
    let organisation: Option<i64> = row.get(7);
    let now = now_millis();
    let (status, note) = match outcome {
        Outcome::Delivered { code, note } => {
            let note = note.clone().filter(|n| !n.trim().is_empty());
            match code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                Some(c) if c != expected => {
                    return Err(StoreError::Invalid("delivery-code-wrong"));
                }
                Some(_) => {}
                None if note.is_none() => {
                    return Err(StoreError::Invalid("delivery-proof-required"));
                }
                None => {}
            }
            ("delivered", note)
        }
        Outcome::Failed { note } => {
            if note.trim().is_empty() {
                return Err(StoreError::Invalid("delivery-failure-note-required"));
            }
            ("failed", Some(note.trim().to_owned()))
        }
    };
    if status == "failed" {
        // A failure gives the units back to the pool: take the campaign's pool lock before the
        // allocation and its need, in a commit's order (pool, allocations with their summary
        // lock of migration 0033, needs with 0030's), so the two cannot wait on each other.
        sqlx::query(
            "UPDATE campaign_pools SET allocated = allocated WHERE campaign_id = $1 AND resource = $2",
        )
        .bind(campaign)
        .bind(resource.clone())
        .execute(&mut **tx)
        .await?;
    }
    let changed = sqlx::query(
        "UPDATE allocations SET status = $1, delivered_by = $2, delivered_at = $3, note = $4 \
         WHERE id = $5 AND status = 'pending'",
    )
    .bind(status)
    .bind(by)
    .bind(now)
    .bind(note)
    .bind(allocation)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(StoreError::Conflict("delivery-already-recorded"));
    }
    if status == "delivered" {
        sqlx::query(
            "INSERT INTO support_ledger (person_id, organisation_id, need_type, amount, period, at, \
             source, allocation_id) VALUES ($1, $2, $3, $4, $5, $6, 'delivery', $7)",
        )
        .bind(person)
        .bind(organisation)
        .bind(need_type.clone())
        .bind(units)
        .bind(period.to_owned())
        .bind(now)
        .bind(allocation)
        .execute(&mut **tx)
        .await?;
    } else {
        sqlx::query(
            "UPDATE needs SET allocated = allocated - $1, \
             status = CASE WHEN allocated - $1 <= 0 THEN 'verified' ELSE 'partly_met' END, \
             updated_at = $2 WHERE id = $3",
        )
        .bind(units)
        .bind(now)
        .bind(need_id)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "UPDATE campaign_pools SET allocated = allocated - $1 WHERE campaign_id = $2 AND resource = $3",
        )
        .bind(units)
        .bind(campaign)
        .bind(resource)
        .execute(&mut **tx)
        .await?;
    }
    // The public log counts it in its day's aggregate (no cell under five), never alone.
    ledger::queue_delivery(tx, allocation, now).await?;
    Ok(())
}

/// The code the recipient gives, for the office to send to her (staff only).
pub async fn delivery_code(store: &Store, allocation: i64) -> Result<Option<String>> {
    Ok(
        sqlx::query("SELECT delivery_code FROM allocations WHERE id = $1")
            .bind(allocation)
            .fetch_optional(store.pool())
            .await?
            .map(|r| r.get(0)),
    )
}

// ---------------------------------------------------------------------------------------------
// The support ledger

/// Brings the support lists of other organisations into the ledger: one entry per source record
/// of a support list whose programme answers a need type (amount unknown: 0), once.
/// `period_of` turns an instant into its Jalali year-month. Returns how many were added.
pub async fn sync_imported_support(store: &Store, period_of: fn(i64) -> String) -> Result<i64> {
    let rows = sqlx::query(
        "SELECT r.id, r.person_id, l.organisation_id, g.support_kind, r.imported_at \
         FROM source_records r JOIN source_lists l ON l.id = r.list_id \
         JOIN programmes g ON g.id = l.programme_id \
         WHERE l.list_kind = 'support' AND r.person_id IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM support_ledger s WHERE s.source_record_id = r.id)",
    )
    .fetch_all(store.pool())
    .await?;
    let items: Vec<(i64, i64, i64, &'static str, i64)> = rows
        .iter()
        .filter_map(|r| {
            let kind: String = r.get(3);
            hamdeli_domain::needs::need_type_of_support_kind(&kind)
                .map(|t| (r.get(0), r.get(1), r.get(2), t, r.get(4)))
        })
        .collect();
    let mut tx = store.begin().await?;
    for chunk in items.chunks(INSERT_CHUNK) {
        // `?` on SQLite: sqlx finds `$N` by a linear search, quadratic in a long statement.
        let sql = format!(
            "INSERT INTO support_ledger (source_record_id, person_id, organisation_id, need_type, \
             amount, period, at, source) VALUES {}",
            crate::values_placeholders(store.engine(), chunk.len(), 8)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (rec, person, org, t, at) in chunk {
            q = q
                .bind(*rec)
                .bind(*person)
                .bind(*org)
                .bind(*t)
                .bind(0i64)
                .bind(period_of(*at))
                .bind(*at)
                .bind("import");
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(items.len() as i64)
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SupportEntry {
    pub need_type: String,
    pub organisation_fa: Option<String>,
    pub amount: i64,
    pub period: String,
    pub source: String,
    pub at: i64,
}

pub async fn support_of_person(store: &Store, person: i64) -> Result<Vec<SupportEntry>> {
    let rows = sqlx::query(
        "SELECT s.need_type, o.name_fa, s.amount, s.period, s.source, s.at FROM support_ledger s \
         LEFT JOIN organisations o ON o.id = s.organisation_id \
         WHERE s.person_id IN (SELECT CAST($1 AS BIGINT) \
         UNION ALL SELECT m.id FROM persons m WHERE m.merged_into = $1) \
         ORDER BY s.at DESC",
    )
    .bind(person)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| SupportEntry {
            need_type: r.get(0),
            organisation_fa: r.get(1),
            amount: r.get(2),
            period: r.get(3),
            source: r.get(4),
            at: r.get(5),
        })
        .collect())
}

/// A person served for one need type by more than one organisation in the period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DoubleService {
    pub person_id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub county_code: Option<String>,
    pub need_type: String,
    /// Organisation names (Persian); an office's own campaign shows as `None`.
    pub providers: Vec<Option<String>>,
    pub entries: i64,
}

/// People served twice for the same need type in a period (`1405` for a year, `1405-09` for a
/// month) across organisations, in scope.
pub async fn double_service(
    store: &Store,
    filter: &PlaceFilter,
    period: &str,
) -> Result<Vec<DoubleService>> {
    let (clause, bind) = scope_on(filter, "p", 2);
    let sql = format!(
        "SELECT COALESCE(p.merged_into, p.id), s.need_type, s.organisation_id, o.name_fa, \
         p.first_name, p.last_name, p.county_code \
         FROM support_ledger s JOIN persons p ON p.id = s.person_id \
         LEFT JOIN organisations o ON o.id = s.organisation_id \
         WHERE s.period LIKE $1 AND {clause} ORDER BY 1, 2"
    );
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(format!("{}%", period.trim()));
    if let Some(b) = bind {
        q = q.bind(b);
    }
    let rows = q.fetch_all(store.pool()).await?;
    type Key = (i64, String);
    let mut groups: BTreeMap<Key, DoubleService> = BTreeMap::new();
    let mut seen: HashMap<Key, Vec<i64>> = HashMap::new();
    for r in &rows {
        let key: Key = (r.get(0), r.get(1));
        let org: Option<i64> = r.get(2);
        let g = groups.entry(key.clone()).or_insert_with(|| DoubleService {
            person_id: key.0,
            first_name: r.get(4),
            last_name: r.get(5),
            county_code: r.get(6),
            need_type: key.1.clone(),
            providers: vec![],
            entries: 0,
        });
        g.entries += 1;
        let orgs = seen.entry(key).or_default();
        let id = org.unwrap_or(0);
        if !orgs.contains(&id) {
            orgs.push(id);
            g.providers.push(r.get(3));
        }
    }
    Ok(groups
        .into_values()
        .filter(|g| g.providers.len() >= 2)
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Public statistics

/// Needs and what was given, by province and need type: counts of people, for publication with
/// small cells suppressed by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicCell {
    pub province_code: String,
    pub need_type: String,
    pub persons_in_need: i64,
    pub persons_served: i64,
    pub units_delivered: i64,
}

/// [`public_cells`] from the need summary (migration 0029: persons in need per province and
/// type over the needs not closed) and the delivered allocations (a few, on
/// `allocations_status_order`), not from every need and its allocations.
pub async fn public_cells(store: &Store) -> Result<Vec<PublicCell>> {
    let cells = sqlx::query(
        "SELECT grp, need_type, persons FROM need_summary WHERE grp_kind = 'province_open' \
         ORDER BY 1, 2",
    )
    .fetch_all(store.pool())
    .await?;
    let delivered = sqlx::query(
        "SELECT COALESCE(n.province_code, ''), n.need_type, COUNT(DISTINCT a.person_id), \
         CAST(COALESCE(SUM(a.units), 0) AS BIGINT) FROM allocations a \
         JOIN needs n ON n.id = a.need_id WHERE a.status = 'delivered' AND n.status <> 'closed' \
         GROUP BY 1, 2",
    )
    .fetch_all(store.pool())
    .await?;
    let delivered: std::collections::HashMap<(String, String), (i64, i64)> = delivered
        .iter()
        .map(|r| ((r.get(0), r.get(1)), (r.get(2), r.get(3))))
        .collect();
    Ok(cells
        .iter()
        .map(|r| {
            let key: (String, String) = (r.get(0), r.get(1));
            let (served, units) = delivered.get(&key).copied().unwrap_or((0, 0));
            PublicCell {
                province_code: key.0,
                need_type: key.1,
                persons_in_need: r.get(2),
                persons_served: served,
                units_delivered: units,
            }
        })
        .collect())
}

/// [`public_cells`] recomputed from every need and its allocations (the tests compare them).
pub async fn public_cells_from_scratch(store: &Store) -> Result<Vec<PublicCell>> {
    // Sums are NUMERIC on PostgreSQL, which the Any driver cannot read: always BIGINT.
    let big = |e: &str| format!("CAST({e} AS BIGINT)");
    let sql = format!(
        "SELECT COALESCE(n.province_code, ''), n.need_type, COUNT(DISTINCT n.person_id), \
         COUNT(DISTINCT CASE WHEN a.status = 'delivered' THEN a.person_id END), \
         {units} FROM needs n LEFT JOIN allocations a ON a.need_id = n.id \
         WHERE n.status <> 'closed' GROUP BY 1, 2 ORDER BY 1, 2",
        units = big("COALESCE(SUM(CASE WHEN a.status = 'delivered' THEN a.units ELSE 0 END), 0)")
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .fetch_all(store.pool())
        .await?;
    Ok(rows
        .iter()
        .map(|r| PublicCell {
            province_code: r.get(0),
            need_type: r.get(1),
            persons_in_need: r.get(2),
            persons_served: r.get(3),
            units_delivered: r.get(4),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(id: i64, amount: i64, status: &str, facts: HouseholdFacts) -> Candidate {
        Candidate {
            need_id: id,
            person_id: id,
            first_name: None,
            last_name: None,
            need_type: "food".into(),
            amount,
            allocated: 0,
            status: status.into(),
            urgency: "normal".into(),
            province_code: Some("23".into()),
            county_code: None,
            zone: None,
            received_elsewhere: 0,
            other_providers: 0,
            facts,
        }
    }

    #[test]
    fn plan_explains_ineligible_lines_and_weights_by_priority() {
        let head = HouseholdFacts {
            female_head: true,
            ..Default::default()
        };
        let mut elsewhere = cand(4, 3, "verified", HouseholdFacts::default());
        elsewhere.received_elsewhere = 3;
        let c = vec![
            cand(1, 10, "verified", head.clone()),
            cand(2, 10, "verified", HouseholdFacts::default()),
            cand(3, 10, "open", head),
            elsewhere,
        ];
        let p = plan(1, "food", c, &Weights::default(), 8, Policy::WaterFill);
        assert_eq!(p.total, 8);
        assert_eq!(p.eligible, 2);
        assert_eq!(p.lines[2].ineligible, Some(Ineligible::NotVerified));
        assert_eq!(p.lines[3].ineligible, Some(Ineligible::ReceivedElsewhere));
        // Weight 31 against 1: the female-headed household gets far more.
        assert!(p.lines[0].units > p.lines[1].units, "{:?}", p.lines);
        assert_eq!(p.lines[0].units + p.lines[1].units, 8);
    }

    #[test]
    fn plan_never_gives_more_than_remaining() {
        let mut c = cand(1, 10, "partly_met", HouseholdFacts::default());
        c.allocated = 7;
        let p = plan(
            1,
            "food",
            vec![c],
            &Weights::default(),
            100,
            Policy::WaterFill,
        );
        assert_eq!(p.total, 3);
        assert_eq!(p.lines[0].reason, Some("full_need"));
    }

    #[test]
    fn text_literals_are_quoted_safely() {
        assert_eq!(sql_text(None), "NULL");
        assert_eq!(sql_text(Some("a'b")), "'a''b'");
        assert_eq!(
            sql_text(Some("x'); DROP TABLE needs; --")),
            "'x''); DROP TABLE needs; --'"
        );
    }
}
