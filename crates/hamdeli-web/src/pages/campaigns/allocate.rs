//! A campaign's allocation: the dry run of a pool under a policy and area quotas, above
//! [`distribution::FULL_DRY_RUN_MAX`] candidate needs the overview counted set-based with its
//! candidates a page at a time, and the commit of the exact plan.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_alloc::Policy;
use hamdeli_app::campaigns::AllocationPreview;
use hamdeli_store::campaigns::{Campaign, MONEY};
use hamdeli_store::distribution::{self, AreaLevel, AreaQuotas, Plan};

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::needs::{TypeNames, parse_amount};
use crate::pages::registry::PlaceNames;
use crate::pages::{FormData, html, see_other};
use crate::view::{Loc, Shell};

use super::{show_amount, window_of};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AllocateQuery {
    resource: Option<String>,
    policy: Option<String>,
    all: Option<String>,
    /// A large allocation's candidates page by key: the page starts after this need id.
    after: Option<i64>,
}

impl AllocateQuery {
    fn of(pairs: &[(String, String)]) -> AllocateQuery {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        AllocateQuery {
            resource: get("resource"),
            policy: get("policy"),
            all: get("all"),
            after: get("after").and_then(|v| v.parse().ok()),
        }
    }
}

/// The area quotas of an allocation form: `quota_level` (`province` or `county`) and a field
/// `q_CODE` per area — tomans for money (stored ×10 as rials, checked), units for goods; an
/// empty field is no quota. Also the same quotas as typed, to carry them to the next form.
fn quotas_of(
    pairs: &[(String, String)],
    money: bool,
) -> Result<(AreaQuotas, Vec<(String, String)>), AppError> {
    let level = match pairs
        .iter()
        .find(|(k, _)| k == "quota_level")
        .map(|(_, v)| v.as_str())
    {
        Some("county") => AreaLevel::County,
        _ => AreaLevel::Province,
    };
    let mut quotas = AreaQuotas {
        level,
        max_units: Default::default(),
    };
    let mut typed = vec![];
    for (k, v) in pairs {
        let Some(code) = k.strip_prefix("q_") else {
            continue;
        };
        if v.trim().is_empty()
            || code.is_empty()
            || !code.chars().all(|c| c.is_ascii_alphanumeric())
        {
            continue;
        }
        let n = parse_amount(v).ok_or(AppError::BadRequest("allocation-quota-invalid"))?;
        let units = if money {
            n.checked_mul(10)
                .ok_or(AppError::BadRequest("allocation-quota-invalid"))?
        } else {
            n
        };
        quotas.max_units.insert(code.to_owned(), units);
        typed.push((format!("q_{code}"), n.to_string()));
    }
    typed.push((
        "quota_level".to_owned(),
        match level {
            AreaLevel::Province => "province",
            AreaLevel::County => "county",
        }
        .to_owned(),
    ));
    Ok((quotas, typed))
}

/// One area of the quota form: its quota as typed and what the plan gives it.
pub struct QuotaRow {
    pub code: String,
    pub name: String,
    pub typed: String,
    pub requests: i64,
    pub given: String,
    pub held: bool,
}

pub struct Breakdown {
    pub label: String,
    pub requests: i64,
    pub units: String,
}

pub struct LineView {
    pub need_id: i64,
    pub person_id: i64,
    pub name: String,
    pub county: String,
    pub need_type: String,
    pub remaining: String,
    pub score: i64,
    pub weight: String,
    pub units: String,
    pub why: String,
    pub warn: bool,
    pub given: bool,
}

#[derive(Template)]
#[template(path = "campaigns/allocate.html")]
struct AllocatePage {
    shell: Shell,
    l: Loc,
    c: Campaign,
    resources: Vec<(String, String)>,
    resource: String,
    policy: &'static str,
    plan: Plan,
    pool: String,
    total: String,
    level: String,
    tables: Vec<(String, Vec<Breakdown>)>,
    lines: Vec<LineView>,
    hidden: usize,
    /// `province` or `county`.
    quota_level: &'static str,
    quota_rows: Vec<QuotaRow>,
    /// The quotas as typed, for the commit form's hidden fields and the "show all" link.
    quota_fields: Vec<(String, String)>,
    quota_query: String,
    /// The unit quotas are typed in: tomans or units.
    quota_unit: String,
    /// The quota form shows what the plan gives each area (`_allocate_form.html`).
    quota_given: bool,
    /// The plan gives something: the commit form (`_allocate_commit.html`).
    may_commit: bool,
    /// The breakdown tables' units column (`_allocate_tables.html`).
    tables_units: &'static str,
}

fn breakdown(
    l: Loc,
    plan: &Plan,
    types: &TypeNames,
    key: impl Fn(&distribution::PlanLine) -> String,
) -> Vec<Breakdown> {
    let mut m: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
    for line in plan.lines.iter().filter(|l| l.ineligible.is_none()) {
        let e = m.entry(key(line)).or_default();
        e.0 += 1;
        e.1 += line.units;
    }
    m.into_iter()
        .map(|(label, (requests, units))| Breakdown {
            label,
            requests,
            units: show_amount(l, types, &plan.resource, units),
        })
        .collect()
}

fn policy_of(s: Option<&str>) -> Policy {
    s.and_then(Policy::parse).unwrap_or_default()
}

/// Handles the GET /campaigns/{id}/allocate route: the dry run of a resource's pool under a
/// policy and area quotas, or above [`distribution::FULL_DRY_RUN_MAX`] candidate needs the
/// overview (counted set-based, candidates a page at a time).
pub async fn allocate_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let q = AllocateQuery::of(&pairs);
    let caller = crate::use_case::caller(&ctx)?;
    let summary = hamdeli_app::campaigns::for_edit(&state.store, &caller, id).await?;
    let c = summary.campaign;
    let l = Loc(ctx.locale);
    let types = TypeNames::load(&state, l).await?;
    let places = PlaceNames::load(&state, l).await?;
    let resources: Vec<(String, String)> = summary
        .pools
        .into_iter()
        .filter(|pool| pool.resource == MONEY || !types.is_money(&pool.resource))
        .map(|pool| (pool.resource.clone(), types.resource(&pool.resource)))
        .collect();
    let resource = q
        .resource
        .clone()
        .filter(|r| resources.iter().any(|(k, _)| k == r))
        .or_else(|| {
            resources
                .iter()
                .find(|(k, _)| k != MONEY)
                .or(resources.first())
                .map(|(k, _)| k.clone())
        })
        .ok_or(AppError::NotFound)?;
    let policy = policy_of(q.policy.as_deref());
    let money = types.is_money(&resource);
    let (quotas, quota_fields) = quotas_of(&pairs, money)?;
    let preview = hamdeli_app::campaigns::allocation_preview(
        &state.store,
        &caller,
        &c,
        &hamdeli_app::campaigns::AllocationRequest {
            resource: resource.clone(),
            policy,
            window: window_of(&c),
            quotas: quotas.clone(),
        },
        q.after,
    )
    .await?;
    let plan = match preview {
        AllocationPreview::Plan(plan) => plan,
        AllocationPreview::Overview { counts, page, next } => {
            return overview_page(
                &ctx,
                l,
                c,
                Overview {
                    types: &types,
                    places: &places,
                    resources,
                    resource,
                    policy,
                    quotas: &quotas,
                    quota_fields,
                    counts,
                    page,
                    next,
                },
            );
        }
    };
    // The areas of the eligible needs at the quotas' level, with any quota already typed.
    let mut areas: std::collections::BTreeMap<String, i64> = Default::default();
    for line in plan.lines.iter().filter(|x| x.ineligible.is_none()) {
        let code = match quotas.level {
            AreaLevel::Province => &line.candidate.province_code,
            AreaLevel::County => &line.candidate.county_code,
        };
        if let Some(code) = code {
            *areas.entry(code.clone()).or_default() += 1;
        }
    }
    for code in quotas.max_units.keys() {
        areas.entry(code.clone()).or_default();
    }
    let quota_rows = areas
        .into_iter()
        .map(|(code, requests)| {
            let used = plan.quotas.iter().find(|u| u.area == code);
            let given: i64 = plan
                .lines
                .iter()
                .filter(|x| {
                    let area = match quotas.level {
                        AreaLevel::Province => &x.candidate.province_code,
                        AreaLevel::County => &x.candidate.county_code,
                    };
                    area.as_deref() == Some(code.as_str())
                })
                .map(|x| x.units)
                .sum();
            QuotaRow {
                name: places.of(&Some(code.clone())),
                typed: quota_fields
                    .iter()
                    .find(|(k, _)| *k == format!("q_{code}"))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
                requests,
                given: show_amount(l, &types, &resource, given),
                held: used.is_some_and(|u| u.held),
                code,
            }
        })
        .collect();
    let quota_query: String = quota_fields
        .iter()
        .map(|(k, v)| format!("&{k}={v}"))
        .collect();
    let by_province = breakdown(l, &plan, &types, |line| {
        places.of(&line.candidate.province_code)
    });
    let by_zone = breakdown(l, &plan, &types, |line| {
        l.opt_tv("zone", &line.candidate.zone)
    });
    let by_type = breakdown(l, &plan, &types, |line| types.of(&line.candidate.need_type));
    let by_decile = breakdown(l, &plan, &types, |line| {
        match line.candidate.facts.income_decile {
            Some(d) => l.t1("decile-n", "n", &l.num(&d)),
            None => l.t("decile-unknown"),
        }
    });
    let shown_all = q.all.is_some();
    // Who gets something first (most first), then the eligible who get nothing, then the rest.
    let mut order: Vec<&distribution::PlanLine> = plan.lines.iter().collect();
    order.sort_by(|a, b| {
        (a.ineligible.is_some(), std::cmp::Reverse(a.units))
            .cmp(&(b.ineligible.is_some(), std::cmp::Reverse(b.units)))
            .then(b.weight.total_cmp(&a.weight))
    });
    let mut lines: Vec<LineView> = order
        .into_iter()
        .map(|line| {
            let cand = &line.candidate;
            let why = match line.ineligible {
                Some(reason) => l.tv("ineligible", reason.code()),
                None => l.tv("alloc-reason", line.reason.unwrap_or("level")),
            };
            LineView {
                need_id: cand.need_id,
                person_id: cand.person_id,
                name: format!(
                    "{} {}",
                    cand.first_name.as_deref().unwrap_or(""),
                    cand.last_name.as_deref().unwrap_or("")
                ),
                county: places.of(&cand.county_code),
                need_type: types.of(&cand.need_type),
                remaining: show_amount(l, &types, &cand.need_type, line.remaining),
                score: line.score,
                weight: l.digits(&format!("{:.2}", line.weight)),
                units: show_amount(l, &types, &cand.need_type, line.units),
                why,
                warn: cand.other_providers > 0,
                given: line.units > 0,
            }
        })
        .collect();
    let hidden = if shown_all || lines.len() <= 300 {
        0
    } else {
        lines.len() - 300
    };
    lines.truncate(lines.len() - hidden);
    html(AllocatePage {
        shell: Shell::new(&ctx, format!("{} — {}", l.t("allocate-title"), c.title)),
        pool: show_amount(l, &types, &resource, plan.pool),
        total: show_amount(l, &types, &resource, plan.total),
        quota_level: match quotas.level {
            AreaLevel::Province => "province",
            AreaLevel::County => "county",
        },
        quota_rows,
        quota_fields,
        quota_query,
        quota_unit: if money {
            l.t("unit-toman")
        } else {
            l.t("unit-unit")
        },
        quota_given: true,
        may_commit: plan.total > 0,
        tables_units: "allocate-total",
        level: plan
            .level
            .map(|v| l.digits(&format!("{v:.4}")))
            .unwrap_or_else(|| l.t("level-all-met")),
        l,
        c,
        resources,
        resource,
        policy: plan.policy,
        tables: vec![
            (l.t("field-province"), by_province),
            (l.t("field-zone"), by_zone),
            (l.t("field-need-type"), by_type),
            (l.t("field-income-decile"), by_decile),
        ],
        lines,
        hidden,
        plan,
    })
}

#[derive(Template)]
#[template(path = "campaigns/allocate_overview.html")]
struct OverviewPage {
    shell: Shell,
    l: Loc,
    c: Campaign,
    resources: Vec<(String, String)>,
    resource: String,
    policy: &'static str,
    pool: String,
    open: String,
    candidates: i64,
    eligible: i64,
    /// The share of what the eligible needs lack that the pool meets, in whole percent.
    covers: i64,
    may_commit: bool,
    tables: Vec<(String, Vec<Breakdown>)>,
    lines: Vec<LineView>,
    next: Option<i64>,
    quota_level: &'static str,
    quota_rows: Vec<QuotaRow>,
    quota_fields: Vec<(String, String)>,
    quota_query: String,
    quota_unit: String,
    quota_given: bool,
    tables_units: &'static str,
}

/// What the overview of a large allocation is made of.
struct Overview<'a> {
    types: &'a TypeNames,
    places: &'a PlaceNames,
    resources: Vec<(String, String)>,
    resource: String,
    policy: Policy,
    quotas: &'a AreaQuotas,
    quota_fields: Vec<(String, String)>,
    counts: distribution::CandidateCounts,
    page: Vec<distribution::PlanLine>,
    next: Option<i64>,
}

/// The allocation page of a campaign with more candidate needs than a dry run shows in full:
/// the candidates counted set-based (by province, urgency and need type), what the pool meets
/// of what they lack, the policy, and the candidates one page at a time by key. The commit
/// computes each need's exact share.
fn overview_page(ctx: &Ctx, l: Loc, c: Campaign, o: Overview<'_>) -> Result<Response, AppError> {
    let Overview {
        types,
        places,
        resources,
        resource,
        policy,
        quotas,
        quota_fields,
        counts,
        page,
        next,
    } = o;
    let eligible = counts.groups.iter().filter(|g| g.eligible);
    let table = |key: &dyn Fn(&distribution::CandidateGroup) -> String| -> Vec<Breakdown> {
        let mut m: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
        for g in eligible.clone() {
            let e = m.entry(key(g)).or_default();
            e.0 += g.needs;
            e.1 = e.1.saturating_add(g.open);
        }
        m.into_iter()
            .map(|(label, (requests, open))| Breakdown {
                label,
                requests,
                units: show_amount(l, types, &resource, open),
            })
            .collect()
    };
    let tables = vec![
        (
            l.t("field-province"),
            table(&|g: &distribution::CandidateGroup| places.of(&g.province_code)),
        ),
        (
            l.t("field-urgency"),
            table(&|g: &distribution::CandidateGroup| l.tv("urgency", &g.urgency)),
        ),
        (
            l.t("field-need-type"),
            table(&|g: &distribution::CandidateGroup| types.of(&g.need_type)),
        ),
    ];
    // The eligible needs per area at the quotas' level, with any quota already typed.
    let mut areas: std::collections::BTreeMap<String, i64> = counts.areas.iter().cloned().collect();
    for code in quotas.max_units.keys() {
        areas.entry(code.clone()).or_default();
    }
    let quota_rows = areas
        .into_iter()
        .map(|(code, requests)| QuotaRow {
            name: places.of(&Some(code.clone())),
            typed: quota_fields
                .iter()
                .find(|(k, _)| *k == format!("q_{code}"))
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
            requests,
            given: "—".into(),
            held: false,
            code,
        })
        .collect();
    let quota_query: String = quota_fields
        .iter()
        .map(|(k, v)| format!("&{k}={v}"))
        .collect();
    let lines = page
        .iter()
        .map(|line| {
            let cand = &line.candidate;
            LineView {
                need_id: cand.need_id,
                person_id: cand.person_id,
                name: format!(
                    "{} {}",
                    cand.first_name.as_deref().unwrap_or(""),
                    cand.last_name.as_deref().unwrap_or("")
                ),
                county: places.of(&cand.county_code),
                need_type: types.of(&cand.need_type),
                remaining: show_amount(l, types, &cand.need_type, line.remaining),
                score: line.score,
                weight: l.digits(&format!("{:.2}", line.weight)),
                units: l.tv("urgency", &cand.urgency),
                why: match line.ineligible {
                    Some(reason) => l.tv("ineligible", reason.code()),
                    None => l.t("allocate-overview-eligible"),
                },
                warn: cand.other_providers > 0,
                given: false,
            }
        })
        .collect();
    // The share of the open need the pool meets (whole percent, at most 100).
    let covers = if counts.open <= 0 {
        100
    } else {
        (i128::from(counts.pool.max(0)) * 100 / i128::from(counts.open)).min(100) as i64
    };
    let money = types.is_money(&resource);
    html(OverviewPage {
        shell: Shell::new(ctx, format!("{} — {}", l.t("allocate-title"), c.title)),
        pool: show_amount(l, types, &resource, counts.pool),
        open: show_amount(l, types, &resource, counts.open),
        candidates: counts.candidates,
        eligible: counts.eligible,
        covers,
        may_commit: counts.pool > 0 && counts.eligible > 0,
        tables,
        lines,
        next,
        quota_level: match quotas.level {
            AreaLevel::Province => "province",
            AreaLevel::County => "county",
        },
        quota_rows,
        quota_fields,
        quota_query,
        quota_unit: if money {
            l.t("unit-toman")
        } else {
            l.t("unit-unit")
        },
        quota_given: false,
        tables_units: "allocate-overview-open",
        l,
        c,
        resources,
        resource,
        policy: match policy {
            Policy::WaterFill => "water-fill",
            Policy::Priority => "priority",
        },
    })
}

/// Handles POST /campaigns/{id}/allocate: the commit of the plan under the quotas of the dry
/// run it was shown with (resource, policy, `quota_level`, `q_CODE`).
pub async fn allocate_commit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    let c = hamdeli_app::distribution::managed_campaign(&state.store, &caller, id).await?;
    let q = AllocateQuery::of(&form);
    let resource = q.resource.ok_or(AppError::BadRequest("form-invalid"))?;
    let types = TypeNames::load(&state, Loc(ctx.locale)).await?;
    let (quotas, _) = quotas_of(&form, types.is_money(&resource))?;
    hamdeli_app::campaigns::allocation_commit(
        &state.store,
        &caller,
        &c,
        &hamdeli_app::campaigns::AllocationRequest {
            resource,
            policy: policy_of(q.policy.as_deref()),
            window: window_of(&c),
            quotas,
        },
    )
    .await?;
    Ok(see_other(&format!("/campaigns/{id}")))
}
