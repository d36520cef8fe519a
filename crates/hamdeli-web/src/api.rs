//! The JSON API under `/api/v1/`, declared with its OpenAPI description (utoipa): the document
//! at `/api/openapi.json` is generated from these handlers. Partners authenticate with an API
//! key (`Authorization: Bearer hmd_…`); the browser's session cookie works too.

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{
    ApiKey as ApiKeyScheme, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use hamdeli_domain::Action;
use hamdeli_store::audit::Entry;
use hamdeli_store::dashboard::Counts;
use hamdeli_store::geo::{self, County, Province};
use hamdeli_store::organisations::Organisation;
use hamdeli_store::users::User;

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hamdeli API",
        description = "همدلی — registry, needs and fair distribution for women heads of household. \
                       Personal data is returned only inside the caller's scope.",
        license(name = "AGPL-3.0-or-later")
    ),
    modifiers(&Security),
    tags((name = "transparency"), (name = "account"), (name = "geography"), (name = "organisations"), (name = "registry"), (name = "needs"), (name = "campaigns"), (name = "admin"))
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKeyScheme::Cookie(ApiKeyValue::new("hamdeli_session"))),
        );
    }
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(me))
        .routes(routes!(dashboard_counts))
        .routes(routes!(list_provinces))
        .routes(routes!(get_province))
        .routes(routes!(list_counties))
        .routes(routes!(get_county))
        .routes(routes!(list_organisations))
        .routes(routes!(list_users))
        .routes(routes!(list_audit))
        .routes(routes!(transparency_feed))
        .routes(routes!(search_persons))
        .routes(routes!(search_persons_post))
        .routes(routes!(get_person))
        .routes(routes!(coverage_report))
        .routes(routes!(coverage_outreach))
        .routes(routes!(need_table))
        .routes(routes!(priority_public))
        .routes(routes!(list_campaigns))
        .routes(routes!(campaign_destinations))
        .routes(routes!(receipt_public))
        .routes(routes!(public_stats))
        .routes(routes!(list_support, record_support))
        .routes(routes!(served_twice))
        .routes(routes!(registry_check))
        .merge(crate::pages::reports::api::router())
        .merge(crate::pages::market::api::routes())
        .merge(crate::pages::loans::api::routes())
        .merge(crate::pages::network::api::routes())
        // Uploads read past axum's default 2 MB body limit (the server's limit still holds).
        .merge(
            OpenApiRouter::new()
                .routes(routes!(list_imports, upload_import))
                .routes(routes!(get_import))
                .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024)),
        )
}

/// The OpenAPI document, as served at `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().split_for_parts().1
}

pub fn router() -> Router<AppState> {
    let (router, doc) = api_router().split_for_parts();
    let doc = std::sync::Arc::new(doc);
    router
        .route(
            "/api/openapi.json",
            get(move || async move { Json((*doc).clone()) }),
        )
        .route("/api/docs", get(docs_page))
}

async fn docs_page() -> Response {
    Html(include_str!("../assets/api_docs.html")).into_response()
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub name: String,
    pub role: String,
    pub scope: String,
    pub via_api_key: bool,
}

/// Who the caller is, with role and scope.
#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    responses((status = 200, body = Me), (status = 401, description = "not signed in")),
    security(("api_key" = []), ("session" = [])))]
async fn me(ctx: Ctx) -> Result<Json<Me>, AppError> {
    let p = ctx.require()?;
    Ok(Json(Me {
        name: p.name.clone(),
        role: p.role.as_str().to_owned(),
        scope: p.scope.label(),
        via_api_key: p.api_key_id.is_some(),
    }))
}

/// Live counts inside the caller's scope (the dashboard's figures).
#[utoipa::path(get, path = "/api/v1/dashboard", tag = "account",
    responses((status = 200, body = Counts), (status = 401), (status = 403)),
    security(("api_key" = []), ("session" = [])))]
async fn dashboard_counts(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Json<Counts>, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    Ok(Json(
        hamdeli_app::dashboard::counts(&state.store, &caller).await?,
    ))
}

/// The provinces (with 1395 census population). Place names are public reference data.
#[utoipa::path(get, path = "/api/v1/provinces", tag = "geography",
    responses((status = 200, body = Vec<Province>)))]
async fn list_provinces(State(state): State<AppState>) -> Result<Json<Vec<Province>>, AppError> {
    Ok(Json(geo::all_provinces(&state.store).await?))
}

/// One province.
#[utoipa::path(get, path = "/api/v1/provinces/{code}", tag = "geography",
    params(("code" = String, Path, description = "two-digit province code")),
    responses((status = 200, body = Province), (status = 404)))]
async fn get_province(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<Province>, AppError> {
    Ok(Json(
        geo::province(&state.store, &code)
            .await?
            .ok_or(AppError::NotFound)?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct CountiesQuery {
    /// Only the counties of this province.
    province: Option<String>,
}

/// Counties (شهرستان), optionally of one province.
#[utoipa::path(get, path = "/api/v1/counties", tag = "geography",
    params(CountiesQuery),
    responses((status = 200, body = Vec<County>)))]
async fn list_counties(
    State(state): State<AppState>,
    Query(q): Query<CountiesQuery>,
) -> Result<Json<Vec<County>>, AppError> {
    let all = geo::all_counties(&state.store).await?;
    Ok(Json(match q.province {
        Some(p) => all.into_iter().filter(|c| c.province_code == p).collect(),
        None => all,
    }))
}

/// One county.
#[utoipa::path(get, path = "/api/v1/counties/{code}", tag = "geography",
    params(("code" = String, Path)),
    responses((status = 200, body = County), (status = 404)))]
async fn get_county(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<County>, AppError> {
    Ok(Json(
        geo::county(&state.store, &code)
            .await?
            .ok_or(AppError::NotFound)?,
    ))
}

/// Organisations the caller may see: all for office staff, its own for a partner.
#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisations",
    responses((status = 200, body = Vec<Organisation>), (status = 401)),
    security(("api_key" = []), ("session" = [])))]
async fn list_organisations(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Json<Vec<Organisation>>, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    Ok(Json(
        hamdeli_app::organisations::visible(&state.store, &caller).await?,
    ))
}

/// Users the caller may manage.
#[utoipa::path(get, path = "/api/v1/users", tag = "admin",
    responses((status = 200, body = Vec<User>), (status = 401), (status = 403)),
    security(("api_key" = []), ("session" = [])))]
async fn list_users(State(state): State<AppState>, ctx: Ctx) -> Result<Json<Vec<User>>, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    Ok(Json(hamdeli_app::users::list(&state.store, &caller).await?))
}

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[serde(default)]
struct AuditParams {
    actor: String,
    action: String,
    target_kind: String,
    target_id: String,
    /// From this date (Jalali or ISO), inclusive.
    from: String,
    /// To this date (Jalali or ISO), inclusive.
    to: String,
    /// Entries older than this id (paging).
    before: Option<i64>,
}

/// The audit log, newest first, 100 at a time (national admins only).
#[utoipa::path(get, path = "/api/v1/audit", tag = "admin",
    params(AuditParams),
    responses((status = 200, body = Vec<Entry>), (status = 400), (status = 401), (status = 403)),
    security(("api_key" = []), ("session" = [])))]
async fn list_audit(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AuditParams>,
) -> Result<Json<Vec<Entry>>, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    // Refused before the query is checked: a malformed date is a 400 only for the admin.
    caller.principal.authorize(Action::ReadAudit)?;
    let q = crate::pages::AuditQuery {
        actor: q.actor,
        action: q.action,
        target_kind: q.target_kind,
        target_id: q.target_id,
        from: q.from,
        to: q.to,
        before: q.before,
    };
    let filter = crate::pages::audit_filter(&q).map_err(AppError::BadRequest)?;
    Ok(Json(
        hamdeli_app::audit_log::list(&state.store, &caller, &filter).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct LedgerHead {
    /// How many entries the log holds.
    pub entries: i64,
    /// The hash of the last entry: keep it, and check later that the log still leads to it.
    pub hash: String,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerEntry {
    pub seq: i64,
    pub at: i64,
    pub kind: String,
    /// Canonical JSON as hashed: areas, need types, amounts, counts, receipt codes; no persons.
    pub payload: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerPage {
    /// The hashing rule (docs/transparency.md): `hamdeli-ledger-v1`.
    pub rule: &'static str,
    pub head: LedgerHead,
    /// Oldest first with `after`; otherwise newest first.
    pub entries: Vec<LedgerEntry>,
    /// The cursor of the next page in the same order (`after=` or `before=` it); absent on the
    /// last page.
    pub next: Option<i64>,
}

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[serde(default)]
struct LedgerParams {
    /// Entries after this sequence number, oldest first (`after=0`: from the first entry; the way
    /// to read the whole chain and verify it).
    after: Option<i64>,
    /// Entries older than this sequence number, newest first (without `after`).
    before: Option<i64>,
    /// At most this many (1–1000, default 100).
    limit: Option<i64>,
}

/// The public transparency log (JSON feed) with the current head hash: newest first, or from
/// any point oldest first (`after`), a page at a time (`next`). Days that have closed since the
/// last read get their aggregates appended first.
#[utoipa::path(get, path = "/api/v1/transparency", tag = "transparency",
    params(LedgerParams),
    responses((status = 200, body = LedgerPage)))]
async fn transparency_feed(
    State(state): State<AppState>,
    Query(q): Query<LedgerParams>,
) -> Result<Json<LedgerPage>, AppError> {
    use hamdeli_app::transparency::{self, Start};
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let start = match q.after {
        Some(after) => Start::After(after.max(0)),
        None => Start::Before(q.before),
    };
    let log = transparency::read(&state.store, start, limit).await?;
    let (entries, hash, list) = (log.head_count, log.head_hash, log.entries);
    let last = list.last().map(|e| e.seq);
    let next = match start {
        Start::After(_) => last.filter(|s| *s < entries),
        Start::Before(_) => last.filter(|s| *s > 1),
    };
    Ok(Json(LedgerPage {
        rule: "hamdeli-ledger-v1",
        head: LedgerHead { entries, hash },
        next,
        entries: list
            .into_iter()
            .map(|e| LedgerEntry {
                seq: e.seq,
                at: e.at,
                kind: e.kind,
                payload: e.payload,
                prev_hash: e.prev_hash,
                hash: e.hash,
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Registry

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[serde(default)]
struct PersonSearchParams {
    /// A name: one word is a first or last name, several are "first last", "last first" or
    /// one compound name. A national code or a mobile number (8 or more digits in a row, any
    /// digit script) is refused here (400 `query_in_body`): search it with
    /// `POST /api/v1/persons/search`, so it never travels in a URL.
    q: String,
    /// The page (from 1) of 50 hits; the `x-next-page` header names the next when there is one.
    page: Option<String>,
    /// Only persons of this county (a code; inside the caller's scope).
    county: Option<String>,
    /// `urban` or `rural` (offices only).
    zone: Option<String>,
    /// `1`: only heads of female-headed households (offices only).
    female_head: Option<String>,
    /// Only persons a support list of this organisation covers.
    organisation: Option<String>,
}

/// A registry search in a request body, so that a national code or a mobile number never
/// travels in a URL (browser history, proxies and logs keep URLs).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PersonSearchBody {
    /// A national code, a mobile number (any digit script) and/or a name: one word is a first
    /// or last name, several are "first last", "last first" or one compound name.
    q: String,
    /// The page (from 1) of 50 hits; the `x-next-page` header names the next when there is one.
    #[serde(default)]
    page: Option<u32>,
    /// Only persons of this county (a code; inside the caller's scope).
    #[serde(default)]
    county: Option<String>,
    /// `urban` or `rural` (offices only).
    #[serde(default)]
    zone: Option<String>,
    /// Only heads of female-headed households (offices only).
    #[serde(default)]
    female_head: bool,
    /// Only persons a support list of this organisation covers.
    #[serde(default)]
    organisation: Option<i64>,
}

/// The answer to a GET search whose query holds a national code or a mobile number.
#[derive(Serialize, ToSchema)]
struct QueryInBody {
    /// `query_in_body`.
    error: &'static str,
    /// The route to search it with instead: `POST /api/v1/persons/search`.
    route: &'static str,
    message: &'static str,
}

type SearchAnswer = (
    axum::http::HeaderMap,
    Json<Vec<hamdeli_store::persons::PersonHit>>,
);

/// Persons matching a name inside the caller's scope, best first (the name as typed, names
/// that sound the same), 50 a page, narrowed by the filters. Audited. A query holding a
/// national code or a mobile number is refused unsearched (400 `query_in_body`): those are
/// searched with `POST /api/v1/persons/search`.
#[utoipa::path(get, path = "/api/v1/persons", tag = "registry",
    params(PersonSearchParams),
    responses((status = 200, body = Vec<hamdeli_store::persons::PersonHit>,
        headers(("x-next-page" = u32, description = "The next page, when there is one"))),
        (status = 400, body = QueryInBody,
            description = "`query_in_body` (a national code or mobile in the URL), or an invalid filter"),
        (status = 401), (status = 403)),
    security(("api_key" = []), ("session" = [])))]
async fn search_persons(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PersonSearchParams>,
) -> Result<Response, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    caller.principal.authorize(Action::SearchRegistry)?;
    if crate::pages::registry::holds_code_or_mobile(&q.q) {
        return Ok((
            axum::http::StatusCode::BAD_REQUEST,
            Json(QueryInBody {
                error: "query_in_body",
                route: "POST /api/v1/persons/search",
                message: "National codes and mobile numbers are not searched from a URL; \
                          send the query in the body of POST /api/v1/persons/search.",
            }),
        )
            .into_response());
    }
    let (page, filters) = crate::pages::registry::search_filters(
        &q.page,
        &q.county,
        &q.zone,
        &q.female_head,
        &q.organisation,
    )?;
    Ok(run_search(&state, &caller, &q.q, page, filters)
        .await?
        .into_response())
}

/// Persons matching a national code, mobile number or name inside the caller's scope, best
/// first (the code or phone, the name as typed, names that sound the same), 50 a page,
/// narrowed by the filters; the query travels in the body, never in the URL. Audited. With a
/// session cookie (not an API key) the `x-csrf-token` header is required, as on every POST.
#[utoipa::path(post, path = "/api/v1/persons/search", tag = "registry",
    request_body = PersonSearchBody,
    responses((status = 200, body = Vec<hamdeli_store::persons::PersonHit>,
        headers(("x-next-page" = u32, description = "The next page, when there is one"))),
        (status = 400), (status = 401), (status = 403)),
    security(("api_key" = []), ("session" = [])))]
async fn search_persons_post(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(body): Json<PersonSearchBody>,
) -> Result<SearchAnswer, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    caller.principal.authorize(Action::SearchRegistry)?;
    let filters = hamdeli_store::persons::SearchFilters {
        county: body.county.filter(|c| !c.trim().is_empty()),
        zone: body.zone.filter(|z| !z.trim().is_empty()),
        female_head: body.female_head,
        organisation: body.organisation,
    };
    run_search(
        &state,
        &caller,
        &body.q,
        body.page.unwrap_or(1).max(1),
        filters,
    )
    .await
}

/// The search both routes answer: the use case (authorised, scoped, audited there).
async fn run_search(
    state: &AppState,
    caller: &hamdeli_app::Caller<'_>,
    text: &str,
    page: u32,
    filters: hamdeli_store::persons::SearchFilters,
) -> Result<SearchAnswer, AppError> {
    let mut query = hamdeli_registry::search::parse_query(text)
        .ok_or(AppError::BadRequest("registry-search-label"))?;
    query.page = page;
    query.filters = filters;
    let results = hamdeli_app::registry::search(&state.store, caller, &query).await?;
    let mut headers = axum::http::HeaderMap::new();
    if results.has_more
        && let Ok(v) = axum::http::HeaderValue::from_str(&(results.page + 1).to_string())
    {
        headers.insert("x-next-page", v);
    }
    Ok((headers, Json(results.hits)))
}

#[derive(Serialize, ToSchema)]
struct PersonDetail {
    person: hamdeli_store::persons::Person,
    records: Vec<hamdeli_store::persons::SourceRecordView>,
    household: Option<hamdeli_store::persons::Household>,
    members: Vec<hamdeli_store::persons::Member>,
}

/// A person with every source record and its provenance, and the household. Audited.
#[utoipa::path(get, path = "/api/v1/persons/{id}", tag = "registry",
    params(("id" = i64, Path)),
    responses((status = 200, body = PersonDetail), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = []), ("session" = [])))]
async fn get_person(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Json<PersonDetail>, AppError> {
    use hamdeli_app::registry::{PersonRead, read_person};
    let caller = crate::use_case::caller(&ctx)?;
    let view = match read_person(&state.store, &caller, id).await? {
        PersonRead::Person(view) => *view,
        // A person merged away answers with the survivor.
        PersonRead::MergedInto(to) => match read_person(&state.store, &caller, to).await? {
            PersonRead::Person(view) => *view,
            PersonRead::MergedInto(_) => return Err(AppError::NotFound),
        },
    };
    let (household, members) = match view.household {
        Some((h, m)) => (Some(h), m),
        None => (None, Vec::new()),
    };
    Ok(Json(PersonDetail {
        person: view.person,
        records: view.records,
        household,
        members,
    }))
}

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[serde(default)]
struct CoverageParams {
    /// `province`, `county` or `zone`.
    by: Option<String>,
    /// Only this province (two-digit code).
    province: Option<String>,
}

/// People by number of covering organisations, same-kind double coverage and uncovered female
/// heads of household, grouped by province, county or urban/rural zone (a map-ready table).
#[utoipa::path(get, path = "/api/v1/coverage", tag = "registry",
    params(CoverageParams),
    responses((status = 200, body = Vec<hamdeli_store::coverage::CoverageRow>), (status = 400), (status = 401), (status = 403)),
    security(("api_key" = []), ("session" = [])))]
async fn coverage_report(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<CoverageParams>,
) -> Result<Json<Vec<hamdeli_store::coverage::CoverageRow>>, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    let report = hamdeli_app::registry::coverage(
        &state.store,
        &caller,
        q.by.as_deref(),
        q.province.as_deref(),
        hamdeli_app::registry::CoverageVia::Api,
    )
    .await?;
    Ok(Json(report.rows))
}

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[serde(default)]
struct OutreachParams {
    /// The page starts after this person: the `next` of the page before (absent: the first
    /// page).
    after: Option<i64>,
    /// At most this many rows (1–5000, default 500).
    limit: Option<i64>,
}

/// One page of a county's outreach list.
#[derive(Serialize, ToSchema)]
struct OutreachPage {
    /// The page's persons in name order (last name, first name, id).
    rows: Vec<hamdeli_store::coverage::OutreachRow>,
    /// The `after` of the next page; `null` on the last page.
    next: Option<i64>,
}

/// The county's female heads of household covered by no organisation (personal data; audited),
/// in name order, a page at a time: 500 rows unless `limit` says otherwise (at most 5000), the
/// next page with `after=` the `next` of this one, until `next` is `null`.
#[utoipa::path(get, path = "/api/v1/coverage/{county}/outreach", tag = "registry",
    params(("county" = String, Path, description = "The county's code"), OutreachParams),
    responses((status = 200, body = OutreachPage), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = []), ("session" = [])))]
async fn coverage_outreach(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(county): Path<String>,
    Query(q): Query<OutreachParams>,
) -> Result<Json<OutreachPage>, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    let page = hamdeli_app::registry::outreach(
        &state.store,
        &caller,
        &county,
        q.after,
        q.limit.unwrap_or(OUTREACH_API_ROWS),
        hamdeli_app::registry::OutreachVia::Api,
    )
    .await?;
    Ok(Json(OutreachPage {
        rows: page.rows,
        next: page.next,
    }))
}

/// The outreach API's page without a `limit`.
const OUTREACH_API_ROWS: i64 = 500;

// ---------------------------------------------------------------------------------------------
// Needs, campaigns and public statistics

/// A count as published: the number, or `null` when fewer than 5 people (suppressed).
fn published(n: i64) -> Option<i64> {
    match hamdeli_domain::needs::public_count(n) {
        hamdeli_domain::needs::PublicCount::Exact(n) => Some(n),
        hamdeli_domain::needs::PublicCount::Suppressed => None,
    }
}

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[serde(default)]
struct NeedTableParams {
    /// province (default), county, zone or type.
    by: Option<String>,
    province: Option<String>,
    county: Option<String>,
    zone: Option<String>,
    need_type: Option<String>,
    status: Option<String>,
}

/// Needs by province, county, urban/rural zone or type, and need type, inside the caller's scope.
#[utoipa::path(get, path = "/api/v1/needs/table", tag = "needs",
    params(NeedTableParams),
    responses((status = 200, body = Vec<hamdeli_store::needs::NeedTableRow>), (status = 401), (status = 403)),
    security(("api_key" = []), ("session" = [])))]
async fn need_table(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NeedTableParams>,
) -> Result<Json<Vec<hamdeli_store::needs::NeedTableRow>>, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    let keep = |v: Option<String>| v.filter(|s| !s.is_empty());
    let filters = hamdeli_store::needs::NeedQuery {
        province: keep(q.province),
        county: keep(q.county),
        zone: keep(q.zone),
        need_type: keep(q.need_type),
        status: keep(q.status),
    };
    let group = hamdeli_store::needs::NeedGroup::parse(q.by.as_deref().unwrap_or("province"));
    Ok(Json(
        hamdeli_app::needs::need_table(&state.store, &caller, &filters, group).await?,
    ))
}

/// The need types and the published priority weights.
#[derive(Serialize, ToSchema)]
pub struct PriorityPublic {
    pub need_types: Vec<hamdeli_store::needs::NeedType>,
    /// Indicator code → weight in points.
    pub weights: std::collections::BTreeMap<String, i64>,
}

#[utoipa::path(get, path = "/api/v1/priority", tag = "needs",
    responses((status = 200, body = PriorityPublic)))]
async fn priority_public(State(state): State<AppState>) -> Result<Json<PriorityPublic>, AppError> {
    let (w, need_types) = hamdeli_app::needs::published_priority(&state.store).await?;
    Ok(Json(PriorityPublic {
        need_types,
        weights: w.0.iter().map(|(i, n)| (i.code().to_owned(), *n)).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct CampaignPublic {
    pub campaign: hamdeli_store::campaigns::Campaign,
    pub need_types: Vec<String>,
    pub pools: Vec<hamdeli_store::campaigns::CampaignPool>,
}

/// Every campaign with its goals and progress (public).
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns",
    responses((status = 200, body = Vec<CampaignPublic>)))]
async fn list_campaigns(
    State(state): State<AppState>,
) -> Result<Json<Vec<CampaignPublic>>, AppError> {
    Ok(Json(
        hamdeli_app::campaigns::public_list(&state.store)
            .await?
            .into_iter()
            .map(|c| CampaignPublic {
                campaign: c.campaign,
                need_types: c.need_types,
                pools: c.pools,
            })
            .collect(),
    ))
}

/// Where a campaign's allocations went, by province, zone and need type (never by person).
#[derive(Serialize, ToSchema)]
pub struct DestinationPublic {
    pub province_code: Option<String>,
    pub zone: Option<String>,
    pub need_type: String,
    /// Recipients; `null` when fewer than 5.
    pub recipients: Option<i64>,
    pub units: i64,
    /// Delivered; `null` when fewer than 5.
    pub delivered: Option<i64>,
}

fn destinations_public(rows: Vec<hamdeli_store::campaigns::Destination>) -> Vec<DestinationPublic> {
    rows.into_iter()
        .map(|d| DestinationPublic {
            province_code: d.province_code,
            zone: d.zone,
            need_type: d.need_type,
            recipients: published(d.allocations),
            units: d.units,
            delivered: published(d.delivered),
        })
        .collect()
}

#[utoipa::path(get, path = "/api/v1/campaigns/{id}/destinations", tag = "campaigns",
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<DestinationPublic>), (status = 404)))]
async fn campaign_destinations(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Vec<DestinationPublic>>, AppError> {
    Ok(Json(destinations_public(
        hamdeli_app::campaigns::public_destinations(&state.store, id).await?,
    )))
}

/// A donation as its receipt code shows it (public: no donor, no recipient).
#[derive(Serialize, ToSchema)]
pub struct ReceiptPublic {
    pub receipt_code: String,
    pub campaign_id: i64,
    pub campaign_title: String,
    pub resource: String,
    pub amount: i64,
    pub received_at: Option<i64>,
    /// The transparency-log entry that recorded it.
    pub ledger_seq: Option<i64>,
    pub destinations: Vec<DestinationPublic>,
}

#[utoipa::path(get, path = "/api/v1/receipts/{code}", tag = "campaigns",
    params(("code" = String, Path)),
    responses((status = 200, body = ReceiptPublic), (status = 404)))]
async fn receipt_public(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<ReceiptPublic>, AppError> {
    let code = hamdeli_domain::needs::normalize_receipt_code(&code);
    let r = hamdeli_app::campaigns::receipt(&state.store, &code)
        .await?
        .ok_or(AppError::NotFound)?;
    let (p, destinations) = (r.pledge, destinations_public(r.destinations));
    Ok(Json(ReceiptPublic {
        receipt_code: code,
        campaign_id: p.campaign_id,
        campaign_title: p.campaign_title,
        resource: p.resource,
        amount: p.received_amount.unwrap_or(0),
        received_at: p.received_at,
        ledger_seq: p.ledger_seq,
        destinations,
    }))
}

/// Needs and support by province and need type, small cells suppressed (`null`: fewer than 5).
#[derive(Serialize, ToSchema)]
pub struct StatPublic {
    pub province_code: String,
    pub need_type: String,
    pub persons_in_need: Option<i64>,
    pub persons_served: Option<i64>,
    pub units_delivered: i64,
}

#[utoipa::path(get, path = "/api/v1/stats", tag = "campaigns",
    responses((status = 200, body = Vec<StatPublic>)))]
async fn public_stats(State(state): State<AppState>) -> Result<Json<Vec<StatPublic>>, AppError> {
    Ok(Json(
        hamdeli_app::distribution::public_cells(&state.store)
            .await?
            .into_iter()
            .map(|c| StatPublic {
                province_code: c.province_code,
                need_type: c.need_type,
                persons_in_need: published(c.persons_in_need),
                persons_served: published(c.persons_served),
                units_delivered: c.units_delivered,
            })
            .collect(),
    ))
}

/// An import batch's report: rows in = accepted + rejected + skipped, and the per-row problems
/// (warnings of accepted rows, reasons of rejected rows, skipped rows; row 0 is the whole file).
#[derive(Serialize, ToSchema)]
pub struct ImportReport {
    /// The batch written; none for a dry run.
    pub batch_id: Option<i64>,
    pub organisation_id: i64,
    pub list_id: Option<i64>,
    pub list_name: String,
    pub file_name: String,
    pub file_format: String,
    /// `committed`, `failed`, `running`, or `dry_run` (nothing written).
    pub status: String,
    pub rows_in: i64,
    pub accepted: i64,
    pub accepted_with_warnings: i64,
    pub rejected: i64,
    /// Rows that are not persons (totals, footers, repeated headers).
    pub skipped: i64,
    pub inserted: i64,
    pub updated: i64,
    pub persons_created: i64,
    pub records_joined: i64,
    pub reviews_opened: i64,
    /// Why a failed batch failed.
    pub error: Option<String>,
    pub problems: Vec<hamdeli_store::registry::Problem>,
    /// True when the batch has more problems than `problems` holds (the first 10,000).
    pub problems_truncated: bool,
}

/// The problems an API report carries at most.
const REPORT_PROBLEMS: usize = 10_000;

impl ImportReport {
    fn of_batch(
        b: hamdeli_app::imports::ListedBatch,
        mut problems: Vec<hamdeli_store::registry::Problem>,
    ) -> ImportReport {
        let problems_truncated = problems.len() > REPORT_PROBLEMS;
        problems.truncate(REPORT_PROBLEMS);
        let batch = b.row.batch;
        ImportReport {
            batch_id: Some(batch.id),
            organisation_id: b.row.organisation_id,
            list_id: Some(batch.list_id),
            list_name: b.row.list_name,
            file_name: batch.file_name,
            file_format: batch.file_format,
            status: batch.status.as_str().to_owned(),
            rows_in: batch.rows_in,
            accepted: batch.rows_accepted,
            accepted_with_warnings: batch.rows_with_warnings,
            rejected: batch.rows_rejected,
            skipped: b.skipped,
            inserted: batch.rows_inserted,
            updated: batch.rows_updated,
            persons_created: batch.persons_created,
            records_joined: batch.records_joined,
            reviews_opened: batch.reviews_opened,
            error: batch.error,
            problems,
            problems_truncated,
        }
    }
}

/// The multipart form of `POST /api/v1/imports`.
#[derive(Default, ToSchema)]
#[allow(dead_code)] // described for the OpenAPI document; read field by field
struct ImportUpload {
    /// The list's name (re-importing the same list updates rows by their id).
    list: String,
    /// `support` (default), `survey` or `reference`.
    kind: Option<String>,
    /// Defaults to the API key's own organisation; another organisation is refused.
    organisation: Option<i64>,
    /// `true`: check the file and report every row, write nothing.
    dry_run: Option<bool>,
    /// The list: CSV (UTF-8, UTF-16 with BOM or Windows-1256) or XLSX.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

async fn read_import_upload(
    mut multipart: axum::extract::Multipart,
) -> Result<(ImportUpload, String), AppError> {
    let mut form = ImportUpload::default();
    let mut file_name = String::from("list");
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::BadRequest("form-invalid"))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            file_name = field.file_name().unwrap_or("list").to_owned();
            form.file = field
                .bytes()
                .await
                .map_err(|_| AppError::PayloadTooLarge)?
                .to_vec();
            continue;
        }
        let text = field
            .text()
            .await
            .map_err(|_| AppError::BadRequest("form-invalid"))?;
        match name.as_str() {
            "list" => form.list = text,
            "kind" => form.kind = Some(text.trim().to_owned()).filter(|k| !k.is_empty()),
            "organisation" => {
                form.organisation = Some(
                    text.trim()
                        .parse()
                        .map_err(|_| AppError::BadRequest("form-invalid"))?,
                )
            }
            "dry_run" => form.dry_run = Some(matches!(text.trim(), "true" | "1" | "yes")),
            _ => {}
        }
    }
    Ok((form, file_name))
}

/// The catalog message of a file that cannot be read.
fn ingest_message(e: &hamdeli_ingest::IngestError) -> &'static str {
    match e.code() {
        "ingest.empty" => "import-error-ingest-empty",
        "ingest.header" => "import-error-ingest-header",
        "ingest.xlsx" => "import-error-ingest-xlsx",
        "ingest.no_known_columns" => "import-error-ingest-no-known-columns",
        "ingest.not_spreadsheet" => "import-error-ingest-not-spreadsheet",
        "ingest.legacy_workbook" => "import-error-ingest-legacy-workbook",
        "ingest.encoding" => "import-error-ingest-encoding",
        "ingest.too_large" => "import-error-ingest-too-large",
        _ => "import-error-ingest-io",
    }
}

/// Uploads an organisation's list (a partner's API key imports for its own organisation): the
/// rows are read, checked, written as one batch and linked into persons before the answer,
/// which is the batch's report. With `dry_run=true` nothing is written. Audited
/// (`import.commit`, in the batch's transaction).
#[utoipa::path(post, path = "/api/v1/imports", tag = "registry",
    request_body(content = ImportUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = ImportReport, description = "written"),
        (status = 200, body = ImportReport, description = "dry run: nothing written"),
        (status = 400, description = "no file, no list name, an unreadable file or a refused list"),
        (status = 401), (status = 403), (status = 413)),
    security(("api_key" = [])))]
async fn upload_import(
    State(state): State<AppState>,
    ctx: Ctx,
    multipart: axum::extract::Multipart,
) -> Result<(axum::http::StatusCode, Json<ImportReport>), AppError> {
    use hamdeli_app::imports;
    let caller = crate::use_case::caller(&ctx)?;
    let (form, file_name) = read_import_upload(multipart).await?;
    let organisation = form
        .organisation
        .or(caller.principal.scope.organisation())
        .ok_or(AppError::BadRequest("scope-organisation-required"))?;
    let dry_run = form.dry_run.unwrap_or(false);
    if form.file.is_empty() {
        return Err(AppError::BadRequest("import-file-required"));
    }
    if !dry_run && form.list.trim().is_empty() {
        return Err(AppError::BadRequest("list-name-required"));
    }
    let bytes = form.file;
    let read = move || {
        hamdeli_ingest::from_bytes(bytes).and_then(|s| hamdeli_ingest::read_source(s, |_| {}))
    };
    let prepared = imports::preview(&state.store, &caller, organisation, read)
        .await?
        .map_err(|e| AppError::BadRequest(ingest_message(&e)))?;
    if dry_run {
        let format = prepared.format.name().to_owned();
        let o = prepared.outcome;
        let mut problems = o.problems.clone();
        let problems_truncated = problems.len() > REPORT_PROBLEMS;
        problems.truncate(REPORT_PROBLEMS);
        return Ok((
            axum::http::StatusCode::OK,
            Json(ImportReport {
                batch_id: None,
                organisation_id: organisation,
                list_id: None,
                list_name: form.list.trim().to_owned(),
                file_name,
                file_format: format,
                status: "dry_run".into(),
                rows_in: o.rows_in(),
                accepted: o.counts.rows_accepted,
                accepted_with_warnings: o.counts.rows_with_warnings,
                rejected: o.counts.rows_rejected,
                skipped: o.skipped(),
                inserted: 0,
                updated: 0,
                persons_created: 0,
                records_joined: 0,
                reviews_opened: 0,
                error: None,
                problems,
                problems_truncated,
            }),
        ));
    }
    let progress = hamdeli_registry::import::Progress::default();
    let kind = form.kind.as_deref().unwrap_or("support");
    let outcome = imports::commit(
        &state.store,
        &caller,
        prepared,
        &form.list,
        kind,
        &file_name,
        &progress,
        true,
    )
    .await?;
    let batch = outcome
        .batch_id
        .ok_or_else(|| AppError::Internal("a committed import without its batch".into()))?;
    let listed = imports::batch(&state.store, &caller, batch).await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(ImportReport::of_batch(listed, outcome.problems)),
    ))
}

/// The import batches of the caller's organisation (every organisation's for the national
/// admin), newest first; counts only.
#[utoipa::path(get, path = "/api/v1/imports", tag = "registry",
    responses((status = 200, body = Vec<ImportReport>), (status = 401), (status = 403)),
    security(("api_key" = []), ("session" = [])))]
async fn list_imports(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Json<Vec<ImportReport>>, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    let batches = hamdeli_app::imports::batches(&state.store, &caller, 100).await?;
    Ok(Json(
        batches
            .into_iter()
            .map(|b| ImportReport::of_batch(b, Vec::new()))
            .collect(),
    ))
}

/// An import batch's report with its per-row problems (the first 10,000): only for the
/// organisation's importer or the national admin. Audited.
#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "registry",
    params(("id" = i64, Path)),
    responses((status = 200, body = ImportReport), (status = 401), (status = 403), (status = 404)),
    security(("api_key" = []), ("session" = [])))]
async fn get_import(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Json<ImportReport>, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    let report =
        hamdeli_app::imports::read_batch(&state.store, &caller, id, REPORT_PROBLEMS as i64 + 1)
            .await?;
    Ok(Json(ImportReport::of_batch(report.batch, report.problems)))
}

// ---------------------------------------------------------------------------------------------
// Support an organisation records, and the registry check (issue 12.4, 12.5)

/// One piece of support a partner organisation gave, as its system reports it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupportReport {
    /// The person's national code (any digit script; 8–9 digits are zero-padded) — or
    /// `person_id`. The organisation must hold a record of the person.
    pub national_code: Option<String>,
    /// The registry's person id (as `GET /api/v1/persons` or the registry check gives it).
    pub person_id: Option<i64>,
    /// The kind of support: a need-type code (`food`, `rent_housing`, `medical` …; see
    /// `GET /api/v1/priority`).
    pub kind: String,
    /// Rials for money, a count for goods and services; above zero.
    pub amount: i64,
    /// The day it was given: ISO `2026-11-22` or Jalali `1405/09/01` (any digit script); not in
    /// the future.
    pub date: String,
    /// One of the organisation's programmes, by id …
    pub programme_id: Option<i64>,
    /// … or by its Persian or English name.
    pub programme: Option<String>,
    /// Up to 500 characters.
    pub note: Option<String>,
}

/// The catalog id of a national code that cannot be read.
fn national_code_message(e: &hamdeli_text::NationalCodeError) -> &'static str {
    use hamdeli_text::NationalCodeError as E;
    match e {
        E::Empty => "problem-national-code-empty",
        E::NonDigit(_) => "problem-national-code-non-digit",
        E::WrongLength(_) => "problem-national-code-wrong-length",
        E::AllSameDigits => "problem-national-code-all-same-digits",
        E::BadCheckDigit { .. } => "problem-national-code-bad-check-digit",
    }
}

fn national_code_of(s: &str) -> Result<String, AppError> {
    hamdeli_text::NationalCode::parse(s)
        .map(|p| p.code.to_string())
        .map_err(|e| AppError::BadRequest(national_code_message(&e)))
}

/// The support API's own refusals, worded here (the catalog has the shared ones).
fn support_refusal(ctx: &Ctx, status: axum::http::StatusCode, id: &'static str) -> Response {
    let fa = ctx.locale == hamdeli_locale::Locale::Fa;
    let message = match id {
        "support-idempotency-conflict" if fa => {
            "این کلید Idempotency-Key پیش‌تر برای درخواست دیگری به کار رفته است."
        }
        "support-idempotency-conflict" => {
            "This Idempotency-Key was already used for a different request."
        }
        "support-idempotency-key-required" if fa => {
            "سرآیند Idempotency-Key لازم است (۱ تا ۲۰۰ نویسهٔ لاتین دیدنی)."
        }
        "support-idempotency-key-required" | "support-idempotency-key-invalid" if !fa => {
            "The Idempotency-Key header is required: 1–200 visible ASCII characters."
        }
        "support-idempotency-key-invalid" => {
            "سرآیند Idempotency-Key باید ۱ تا ۲۰۰ نویسهٔ لاتین دیدنی باشد."
        }
        "support-person-required" if fa => "کد ملی یا شناسهٔ فرد (یکی از دو) لازم است.",
        "support-person-required" => "Give the national code or the person id (one of them).",
        "support-person-ambiguous" if fa => {
            "این کد ملی به بیش از یک فرد از فهرست‌های شما پیوسته است؛ شناسهٔ فرد را بفرستید."
        }
        "support-person-ambiguous" => {
            "This national code is linked to more than one person of your lists; send the person id."
        }
        "support-programme-unknown" if fa => "این طرح از طرح‌های فعال سازمان شما نیست.",
        "support-programme-unknown" => "This is not an active programme of your organisation.",
        other => return AppError::BadRequest(other).into_response(),
    };
    (
        status,
        Json(serde_json::json!({ "error": id, "message": message })),
    )
        .into_response()
}

/// Records one piece of support the caller's organisation gave a person it holds a record of:
/// it enters the support ledger under the organisation (so the served-twice report and
/// allocations' "received elsewhere" count it) with its audit entry, in one transaction. The
/// `Idempotency-Key` header is required: the same key records once and answers with the first
/// result (`Idempotent-Replayed: true`); a different request under the same key is 409.
#[utoipa::path(post, path = "/api/v1/support", tag = "needs",
    request_body = SupportReport,
    params(("Idempotency-Key" = String, Header,
        description = "The client's key for this report (1–200 visible ASCII characters), unique per organisation")),
    responses(
        (status = 201, body = hamdeli_store::support::Recorded,
            description = "recorded, or the first result of this key (then `Idempotent-Replayed: true`)"),
        (status = 400, description = "no key, an unknown kind, an amount not above zero, an unreadable or future date, an unknown programme, a bad national code"),
        (status = 401), (status = 403, description = "not a partner organisation's key or user"),
        (status = 404, description = "the organisation holds no record of this person"),
        (status = 409, description = "the key was used for a different request")),
    security(("api_key" = []), ("session" = [])))]
async fn record_support(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
    Json(body): Json<SupportReport>,
) -> Result<Response, AppError> {
    use axum::http::StatusCode;
    use hamdeli_app::support::{self as support_app, Outcome, PersonRef, SupportInput};
    let caller = crate::use_case::caller(&ctx)?;
    let Some(key) = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
    else {
        return Ok(support_refusal(
            &ctx,
            StatusCode::BAD_REQUEST,
            "support-idempotency-key-required",
        ));
    };
    let person = match (body.national_code.as_deref().map(str::trim), body.person_id) {
        (Some(code), None) if !code.is_empty() => PersonRef::NationalCode(national_code_of(code)?),
        (None, Some(id)) => PersonRef::Id(id),
        _ => {
            return Ok(support_refusal(
                &ctx,
                StatusCode::BAD_REQUEST,
                "support-person-required",
            ));
        }
    };
    let date = hamdeli_locale::parse_form_date(&body.date)
        .ok_or(AppError::BadRequest("date-invalid"))?
        .iso();
    let input = SupportInput {
        person,
        kind: body.kind,
        amount: body.amount,
        date,
        programme_id: body.programme_id,
        programme_name: body.programme,
        note: body.note,
        idempotency_key: Some(key.to_owned()),
    };
    match support_app::record(&state.store, &caller, &input).await {
        Ok(Outcome::Created(r)) => Ok((StatusCode::CREATED, Json(r)).into_response()),
        Ok(Outcome::Replayed(r)) => Ok((
            StatusCode::CREATED,
            [("idempotent-replayed", "true")],
            Json(r),
        )
            .into_response()),
        Err(hamdeli_app::Error::Conflict(id @ "support-idempotency-conflict")) => {
            Ok(support_refusal(&ctx, StatusCode::CONFLICT, id))
        }
        Err(hamdeli_app::Error::Conflict(id @ "support-person-ambiguous")) => {
            Ok(support_refusal(&ctx, StatusCode::CONFLICT, id))
        }
        Err(hamdeli_app::Error::Invalid(id)) if id.starts_with("support-") => {
            Ok(support_refusal(&ctx, StatusCode::BAD_REQUEST, id))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[serde(default)]
struct SupportListParams {
    /// Entries older than this id (paging: the last id of the previous page).
    before: Option<i64>,
}

/// The support the caller's organisation recorded (an office: recorded for persons of its
/// place), newest first, 100 at a time. Audited.
#[utoipa::path(get, path = "/api/v1/support", tag = "needs",
    params(SupportListParams),
    responses((status = 200, body = Vec<hamdeli_store::support::SupportRow>), (status = 401), (status = 403)),
    security(("api_key" = []), ("session" = [])))]
async fn list_support(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SupportListParams>,
) -> Result<Json<Vec<hamdeli_store::support::SupportRow>>, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    Ok(Json(
        hamdeli_app::support::recorded(&state.store, &caller, q.before, 100).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams, Default)]
#[serde(default)]
struct DoubleParams {
    /// A Jalali year (`1405`) or year-month (`1405-09`); this year by default.
    period: Option<String>,
}

/// People served for one need type by more than one organisation in a period.
#[derive(Serialize, ToSchema)]
pub struct ServedTwice {
    pub period: String,
    /// How many persons (of the caller's scope) were served twice.
    pub persons: i64,
    /// One row per person and need type, with the providers by name.
    pub rows: Vec<hamdeli_store::distribution::DoubleService>,
}

/// The served-twice report from deliveries, imported support lists and recorded support: for a
/// partner, the persons it holds a record of (the other providers by name only); for an office,
/// its place. Audited.
#[utoipa::path(get, path = "/api/v1/support/double", tag = "needs",
    params(DoubleParams),
    responses((status = 200, body = ServedTwice), (status = 400), (status = 401), (status = 403)),
    security(("api_key" = []), ("session" = [])))]
async fn served_twice(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<DoubleParams>,
) -> Result<Json<ServedTwice>, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    let period: String = q
        .period
        .map(|p| hamdeli_text::digits::fold_digits(p.trim()).replace('/', "-"))
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| {
            hamdeli_locale::jalali_year_month(hamdeli_store::now_millis())[..4].to_owned()
        });
    let shape_ok = matches!(period.len(), 4 | 7)
        && period.bytes().enumerate().all(|(i, b)| {
            if i == 4 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shape_ok {
        return Err(AppError::BadRequest("date-invalid"));
    }
    let rows = hamdeli_app::needs::double_service(&state.store, &caller, &period, None).await?;
    let mut persons: Vec<i64> = rows.iter().map(|r| r.person_id).collect();
    persons.dedup();
    Ok(Json(ServedTwice {
        period,
        persons: persons.len() as i64,
        rows,
    }))
}

/// The national code to look up (in the body, never in a URL).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistryCheckRequest {
    /// Any digit script; 8–9 digits are zero-padded.
    pub national_code: String,
}

/// Whether a national code is in the registry, and which organisations hold it.
#[derive(Serialize, ToSchema)]
pub struct RegistryCheck {
    /// A person with this national code is in the registry.
    pub found: bool,
    /// Your organisation (an office: your place) holds the person itself.
    pub held_by_you: bool,
    /// The person id, only when you hold the person.
    pub person_id: Option<i64>,
    /// The organisations holding a record of the person, by name — never a field of their
    /// records.
    pub organisations: Vec<hamdeli_store::support::Holder>,
}

/// Is this national code in the registry? Yes or no, and which organisations hold it: the
/// asking organisation learns only that a match exists and the other organisations' names (the
/// default sharing rule), never their records' fields. POST, so the code stays out of URLs and
/// access logs. Audited (without the code).
#[utoipa::path(post, path = "/api/v1/registry/check", tag = "registry",
    request_body = RegistryCheckRequest,
    responses((status = 200, body = RegistryCheck), (status = 400, description = "not a national code"),
        (status = 401), (status = 403)),
    security(("api_key" = []), ("session" = [])))]
async fn registry_check(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(body): Json<RegistryCheckRequest>,
) -> Result<Json<RegistryCheck>, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    let code = national_code_of(&body.national_code)?;
    let c = hamdeli_app::support::check_code(&state.store, &caller, &code).await?;
    Ok(Json(RegistryCheck {
        found: c.found,
        held_by_you: c.held_by_you,
        person_id: c.person_id,
        organisations: c.organisations,
    }))
}
