//! Capability loans: its pages (each handler's doc line names its route). They parse, call a
//! use case of `hamdeli_app::loans` and render; amounts are entered and shown in tomans (the
//! use cases take rials), dates in Jalali.

pub(crate) mod api;

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

use hamdeli_app::loans::{self as app, LoanFilter};
use hamdeli_domain::loans::schedule;
use hamdeli_domain::{Action, Principal, loans::policy::LoanAction};

use crate::AppState;
use crate::charts::{self, Bar};
use crate::context::Ctx;
use crate::error::AppError;
use crate::export::{self, Cell};
use crate::pages::{FormData, html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/loans", get(list).post(apply))
        .route("/loans/new", get(new_form))
        .route("/loans/{id}", get(loan_page))
        .route("/loans/{id}/comment", post(comment))
        .route("/loans/{id}/decide", post(decide))
        .route("/loans/{id}/contract", post(contract))
        .route("/loans/{id}/disburse", post(disburse))
        .route("/loans/{id}/repay", post(repay))
        .route("/loans/{id}/deferrals", post(request_deferral))
        .route("/loans/{id}/deferrals/{did}", post(decide_deferral))
        .route(
            "/loans/statements",
            get(statement_form).post(statement_upload),
        )
        .route("/loans/bulk-deferral", get(bulk_form).post(bulk_post))
        .route("/loans/late", get(late))
        .route("/loans/portfolio", get(portfolio))
        .route("/loans/cooperatives", get(coops).post(coop_create))
        .route("/loans/cooperatives/import", post(coop_import))
        .route("/loans/cooperatives/{id}", get(coop_page))
        .route("/loans/cooperatives/{id}/members", post(coop_member))
        .route("/loans/cooperatives/{id}/status", post(coop_status))
        .route("/loans/products", get(products).post(product_create))
}

/// The menu items of this capability for a signed-in principal: (href, message id). An empty
/// list hides the group.
pub(crate) fn nav_items(principal: &Principal) -> Vec<(&'static str, &'static str)> {
    let mut items = vec![];
    let can = |a: LoanAction<'_>| principal.allows(&Action::Loan(a));
    if can(LoanAction::View) || can(LoanAction::ApplyOwn) {
        items.push(("/loans", "loans-nav-list"));
    }
    if can(LoanAction::View) && principal.role.is_staff() {
        items.push(("/loans/cooperatives", "loans-nav-cooperatives"));
    }
    if can(LoanAction::ViewPortfolio) {
        items.push(("/loans/late", "loans-nav-late"));
        items.push(("/loans/portfolio", "loans-nav-portfolio"));
    }
    if can(LoanAction::ImportStatement) {
        items.push(("/loans/statements", "loans-nav-statements"));
        items.push(("/loans/bulk-deferral", "loans-nav-bulk"));
    }
    if can(LoanAction::View) || can(LoanAction::ApplyOwn) {
        items.push(("/loans/products", "loans-nav-products"));
    }
    items
}

// ---------------------------------------------------------------------------------------------
// Formatting helpers

fn tomans(l: Loc, rials: i64) -> String {
    hamdeli_locale::format_tomans(l.0, rials)
}

/// A day number (days since 1970-01-01) as a Jalali date in the locale's digits.
fn jdate(l: Loc, days: i64) -> String {
    match hamdeli_text::IsoDate::from_days(days) {
        Some(d) => {
            let j = d.to_jalali();
            match l.0 {
                hamdeli_locale::Locale::Fa => l.digits(&schedule::jalali_text(j)),
                hamdeli_locale::Locale::En => format!(
                    "{} ({:04}-{:02}-{:02})",
                    schedule::jalali_text(j),
                    d.year(),
                    d.month(),
                    d.day()
                ),
            }
        }
        None => "—".into(),
    }
}

/// Tomans typed (any digits, separators) → rials.
fn rials_of(s: &str) -> Result<i64, AppError> {
    schedule::parse_whole(s)
        .filter(|t| *t > 0)
        .and_then(|t| t.checked_mul(10))
        .ok_or(AppError::BadRequest("loans-amount-positive"))
}

fn whole(s: &str, code: &'static str) -> Result<i64, AppError> {
    schedule::parse_whole(s).ok_or(AppError::BadRequest(code))
}

fn today_jalali(l: Loc) -> String {
    let today = hamdeli_store::loans::today_in_iran();
    match hamdeli_text::IsoDate::from_days(today) {
        Some(d) => l.digits(&schedule::jalali_text(d.to_jalali())),
        None => String::new(),
    }
}

fn status_label(l: Loc, s: &str) -> String {
    l.t(&format!("loans-status-{s}"))
}

// ---------------------------------------------------------------------------------------------
// The list

pub struct LoanLine {
    pub id: i64,
    pub no: String,
    pub borrower: String,
    pub product: String,
    pub county: String,
    pub amount: String,
    pub outstanding: String,
    pub status: String,
    pub status_code: String,
    pub late: String,
    pub deferred: bool,
}

fn line(l: Loc, x: &app::Loan) -> LoanLine {
    LoanLine {
        id: x.id,
        no: l.digits(&x.loan_no),
        borrower: x.borrower.clone(),
        product: x.product_name.clone(),
        county: x.county_name.clone(),
        amount: tomans(l, x.amount),
        outstanding: tomans(l, x.outstanding()),
        status: status_label(l, &x.status),
        status_code: x.status.clone(),
        late: if x.days_late > 0 {
            l.num(&x.days_late)
        } else {
            String::new()
        },
        deferred: x.deferred_months > 0,
    }
}

#[derive(Template)]
#[template(path = "loans/list.html")]
struct ListPage {
    shell: Shell,
    l: Loc,
    rows: Vec<LoanLine>,
    status: String,
    tabs: Vec<(String, String)>,
    can_apply: bool,
    page: i64,
    more: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    status: Option<String>,
    page: Option<i64>,
}

/// Handles the GET /loans route: the loans of the principal's scope, by state.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let p = caller.principal;
    let page = q.page.unwrap_or(0).clamp(0, 10_000);
    let status = q.status.clone().unwrap_or_default();
    let rows = if p.allows(&Action::Loan(LoanAction::View)) {
        app::list(
            &state.store,
            &caller,
            &LoanFilter {
                status: Some(status.clone()).filter(|s| !s.is_empty()),
                county: None,
                limit: 101,
                offset: page * 100,
            },
        )
        .await?
    } else if p.allows(&Action::Loan(LoanAction::ApplyOwn)) {
        vec![]
    } else {
        return Err(AppError::Forbidden);
    };
    let more = rows.len() > 100;
    let rows = rows.iter().take(100).map(|x| line(l, x)).collect();
    let tabs = [
        "",
        "applied",
        "approved",
        "disbursed",
        "late",
        "deferred",
        "repaid",
        "rejected",
    ]
    .iter()
    .map(|s| {
        (
            s.to_string(),
            if s.is_empty() {
                l.name("همه", "All").to_owned()
            } else {
                status_label(l, s)
            },
        )
    })
    .collect();
    let can_apply = p.allows(&Action::Loan(LoanAction::ApplyOwn))
        || p.allows(&Action::Loan(LoanAction::View)) && p.role != hamdeli_domain::Role::Donor;
    html(ListPage {
        shell: Shell::new(&ctx, l.t("loans-title")),
        l,
        rows,
        status,
        tabs,
        can_apply,
        page,
        more,
    })
}

// ---------------------------------------------------------------------------------------------
// Application

#[derive(Template)]
#[template(path = "loans/new.html")]
struct NewPage {
    shell: Shell,
    l: Loc,
    products: Vec<(i64, String)>,
    coops: Vec<(i64, String)>,
    own: bool,
}

/// Handles the GET /loans/new route: the application form.
pub async fn new_form(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let products = app::products(&state.store, &caller)
        .await?
        .into_iter()
        .filter(|p| p.active)
        .map(|p| {
            (
                p.id,
                format!(
                    "{} — {} {}٪ — {} {}",
                    l.name(&p.name_fa, &p.name_en),
                    l.name("کارمزد", "fee"),
                    l.digits(
                        &schedule::FeeRate::from_units(p.fee_units)
                            .map(|f| f.to_string())
                            .unwrap_or_default()
                    ),
                    l.name("سقف", "max"),
                    tomans(l, p.max_amount)
                ),
            )
        })
        .collect();
    let own = caller.principal.allows(&Action::Loan(LoanAction::ApplyOwn));
    let coops = if own {
        vec![]
    } else {
        app::cooperatives(&state.store, &caller)
            .await?
            .into_iter()
            .filter(|c| c.status == "active")
            .map(|c| {
                (
                    c.id,
                    format!("{} ({})", c.name, l.digits(&c.registration_no)),
                )
            })
            .collect()
    };
    html(NewPage {
        shell: Shell::new(&ctx, l.t("loans-apply-title")),
        l,
        products,
        coops,
        own,
    })
}

#[derive(Deserialize)]
pub struct ApplyForm {
    product: i64,
    kind: String,
    #[serde(default)]
    national_code: String,
    #[serde(default)]
    cooperative: String,
    amount: String,
    #[serde(default)]
    months: String,
    purpose: String,
    #[serde(default)]
    documents: String,
}

/// Handles the POST /loans route: applies (or enters an application), then opens the loan.
pub async fn apply(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(f): FormData<ApplyForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let input = app::ApplicationInput {
        product_id: f.product,
        applicant_kind: f.kind,
        national_code: Some(f.national_code).filter(|s| !s.trim().is_empty()),
        person_id: None,
        cooperative_id: f.cooperative.trim().parse().ok(),
        amount: rials_of(&f.amount)?,
        months: match f.months.trim() {
            "" => None,
            m => Some(whole(m, "loans-error-months")?),
        },
        purpose: f.purpose,
        documents: f.documents,
    };
    let (id, _) = app::apply(&state.store, &caller, &input).await?;
    Ok(see_other(&format!("/loans/{id}")))
}

// ---------------------------------------------------------------------------------------------
// The loan page

pub struct Row {
    pub n: i64,
    pub due: String,
    pub principal: String,
    pub fee: String,
    pub total: String,
    pub paid: String,
    pub balance: String,
    pub state: &'static str,
}

pub struct PayLine {
    pub receipt: String,
    pub amount: String,
    pub date: String,
    pub source: String,
}

pub struct NoteLine {
    pub kind: String,
    pub body: String,
    pub author: String,
    pub at: String,
}

pub struct DeferLine {
    pub id: i64,
    pub from: String,
    pub months: String,
    pub status: String,
    pub status_code: String,
    pub reason: String,
    pub bulk: bool,
}

#[derive(Template)]
#[template(path = "loans/loan.html")]
struct LoanPage {
    shell: Shell,
    l: Loc,
    loan: LoanLine,
    purpose: String,
    documents: String,
    kind: String,
    fee: String,
    fee_total: String,
    months: String,
    grace: String,
    contract: String,
    start: String,
    paid: String,
    schedule: Vec<Row>,
    payments: Vec<PayLine>,
    notes: Vec<NoteLine>,
    deferrals: Vec<DeferLine>,
    can_comment: bool,
    can_decide: bool,
    can_repay: bool,
    can_request: bool,
    key: String,
    today: String,
    done: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DoneQuery {
    done: Option<String>,
}

/// Handles the GET /loans/{id} route: a loan with its schedule (Jalali dates, tomans),
/// payments, comments, deferrals and the forms its reader may use.
pub async fn loan_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let v = app::view(&state.store, &caller, id).await?;
    let p = caller.principal;
    let place = hamdeli_domain::Place::county(&v.loan.province, &v.loan.county);
    let can = |a: LoanAction<'_>| p.allows(&Action::Loan(a));
    let today = hamdeli_store::loans::today_in_iran();
    let mut balance = v.loan.amount + v.loan.fee_total;
    let schedule = v
        .instalments
        .iter()
        .map(|i| {
            balance -= i.total;
            Row {
                n: i.n,
                due: jdate(l, i.due_on),
                principal: tomans(l, i.principal),
                fee: tomans(l, i.fee),
                total: tomans(l, i.total),
                paid: tomans(l, i.paid),
                balance: tomans(l, balance),
                state: if i.paid >= i.total {
                    "paid"
                } else if i.due_on < today {
                    "late"
                } else if i.paid > 0 {
                    "partial"
                } else {
                    "open"
                },
            }
        })
        .collect();
    let payments = v
        .payments
        .iter()
        .map(|x| PayLine {
            receipt: l.digits(&x.receipt_no),
            amount: tomans(l, x.amount),
            date: l.date(&x.paid_on),
            source: l.t(&format!("loans-source-{}", x.source)),
        })
        .collect();
    let notes = v
        .comments
        .iter()
        .map(|c| NoteLine {
            kind: l.t(&format!("loans-note-{}", c.kind.replace('_', "-"))),
            body: l.digits(&c.body),
            author: c.author.clone(),
            at: l.instant(&c.at),
        })
        .collect();
    let deferrals = v
        .deferrals
        .iter()
        .map(|d| DeferLine {
            id: d.id,
            from: l.num(&d.from_n),
            months: l.num(&d.months),
            status: l.t(&format!("loans-deferral-{}", d.status)),
            status_code: d.status.clone(),
            reason: d.reason.clone(),
            bulk: d.bulk_id.is_some(),
        })
        .collect();
    let x = &v.loan;
    html(LoanPage {
        shell: Shell::new(
            &ctx,
            format!("{} {}", l.t("loans-loan"), l.digits(&x.loan_no)),
        ),
        l,
        purpose: x.purpose.clone(),
        documents: x.documents.clone(),
        kind: l.t(&format!(
            "loans-kind-{}",
            x.applicant_kind.replace('_', "-")
        )),
        fee: l.digits(
            &schedule::FeeRate::from_units(x.fee_units)
                .map(|f| f.to_string())
                .unwrap_or_default(),
        ),
        fee_total: tomans(l, x.fee_total),
        months: l.num(&x.months),
        grace: l.num(&x.grace_months),
        contract: l.opt(&x.contract_no),
        start: l.opt(&x.start_jalali),
        paid: tomans(l, x.paid_total),
        loan: line(l, x),
        schedule,
        payments,
        notes,
        deferrals,
        can_comment: can(LoanAction::Comment(&place)),
        can_decide: can(LoanAction::Decide(&place)),
        can_repay: can(LoanAction::RecordRepayment(&place)) && x.status == "disbursed",
        can_request: can(LoanAction::RequestDeferral) && x.status == "disbursed",
        key: hamdeli_store::tokens::random_token(),
        today: today_jalali(l),
        done: q.done.unwrap_or_default(),
    })
}

#[derive(Deserialize)]
pub struct TextForm {
    #[serde(default)]
    body: String,
}

/// Handles the POST /loans/{id}/comment route.
pub async fn comment(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<TextForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    app::comment(&state.store, &caller, id, &f.body).await?;
    Ok(see_other(&format!("/loans/{id}?done=comment")))
}

#[derive(Deserialize)]
pub struct DecideForm {
    decision: String,
    #[serde(default)]
    body: String,
}

/// Handles the POST /loans/{id}/decide route: approve or reject.
pub async fn decide(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<DecideForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let approve = match f.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(AppError::BadRequest("form-invalid")),
    };
    app::decide(&state.store, &caller, id, approve, &f.body).await?;
    Ok(see_other(&format!("/loans/{id}?done=decided")))
}

#[derive(Deserialize)]
pub struct ContractForm {
    contract_no: String,
}

/// Handles the POST /loans/{id}/contract route.
pub async fn contract(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<ContractForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    app::contract(&state.store, &caller, id, &f.contract_no).await?;
    Ok(see_other(&format!("/loans/{id}?done=contract")))
}

#[derive(Deserialize)]
pub struct DisburseForm {
    start: String,
    key: String,
}

/// Handles the POST /loans/{id}/disburse route (once per form key).
pub async fn disburse(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<DisburseForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    app::disburse(&state.store, &caller, id, &f.start, &f.key).await?;
    Ok(see_other(&format!("/loans/{id}?done=disbursed")))
}

#[derive(Deserialize)]
pub struct RepayForm {
    amount: String,
    date: String,
    key: String,
}

/// Handles the POST /loans/{id}/repay route: an office records a repayment (once per key).
pub async fn repay(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<RepayForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let date = hamdeli_locale::parse_form_date(&f.date)
        .ok_or(AppError::BadRequest("loans-date-invalid"))?
        .iso();
    app::repay(
        &state.store,
        &caller,
        id,
        rials_of(&f.amount)?,
        &date,
        &f.key,
    )
    .await?;
    Ok(see_other(&format!("/loans/{id}?done=repaid")))
}

#[derive(Deserialize)]
pub struct DeferForm {
    from: String,
    months: String,
    #[serde(default)]
    reason: String,
}

/// Handles the POST /loans/{id}/deferrals route: a deferral is asked for.
pub async fn request_deferral(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<DeferForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    app::request_deferral(
        &state.store,
        &caller,
        id,
        whole(&f.from, "loans-error-defer-from")?,
        whole(&f.months, "loans-error-defer-months")?,
        &f.reason,
    )
    .await?;
    Ok(see_other(&format!("/loans/{id}?done=deferral")))
}

/// Handles the POST /loans/{id}/deferrals/{did} route: an office decides a deferral.
pub async fn decide_deferral(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((id, did)): Path<(i64, i64)>,
    FormData(f): FormData<DecideForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let approve = match f.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(AppError::BadRequest("form-invalid")),
    };
    app::decide_deferral(&state.store, &caller, id, did, approve).await?;
    Ok(see_other(&format!("/loans/{id}?done=deferral")))
}

// ---------------------------------------------------------------------------------------------
// Bank statements

#[derive(Template)]
#[template(path = "loans/statement.html")]
struct StatementPage {
    shell: Shell,
    l: Loc,
    key: String,
    report: Vec<(String, String, String, String, String)>,
    matched: String,
    replayed: bool,
}

/// Handles the GET /loans/statements route: the bank statement upload.
pub async fn statement_form(State(_s): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    caller
        .principal
        .authorize(Action::Loan(LoanAction::ImportStatement))?;
    let l = Loc(ctx.locale);
    html(StatementPage {
        shell: Shell::new(&ctx, l.t("loans-nav-statements")),
        l,
        key: hamdeli_store::tokens::random_token(),
        report: vec![],
        matched: String::new(),
        replayed: false,
    })
}

async fn read_multipart(
    mut m: Multipart,
) -> Result<(String, Vec<u8>, Vec<(String, String)>), AppError> {
    let mut name = String::new();
    let mut bytes = vec![];
    let mut fields = vec![];
    while let Some(field) = m
        .next_field()
        .await
        .map_err(|_| AppError::BadRequest("form-invalid"))?
    {
        let n = field.name().unwrap_or_default().to_owned();
        if n == "file" {
            name = field.file_name().unwrap_or("statement").to_owned();
            bytes = field
                .bytes()
                .await
                .map_err(|_| AppError::PayloadTooLarge)?
                .to_vec();
        } else {
            let t = field
                .text()
                .await
                .map_err(|_| AppError::BadRequest("form-invalid"))?;
            fields.push((n, t));
        }
    }
    Ok((name, bytes, fields))
}

/// Handles the POST /loans/statements route: books a statement (once per form key) and shows
/// the per-row report.
pub async fn statement_upload(
    State(state): State<AppState>,
    ctx: Ctx,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let (name, bytes, fields) = read_multipart(multipart).await?;
    let key = fields
        .iter()
        .find(|(n, _)| n == "key")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let out = app::import_statement(&state.store, &caller, &name, &bytes, &key).await?;
    let replayed = out.replayed();
    let rows = out.into_value();
    let matched = l.num(&(rows.iter().filter(|r| r.status == "matched").count() as i64));
    let report = rows
        .iter()
        .map(|r| {
            (
                l.num(&(r.row as i64)),
                l.digits(&r.loan_no),
                tomans(l, r.amount),
                l.t(&format!("loans-match-{}", r.status.replace('_', "-"))),
                l.opt(&r.receipt_no),
            )
        })
        .collect();
    html(StatementPage {
        shell: Shell::new(&ctx, l.t("loans-nav-statements")),
        l,
        key: hamdeli_store::tokens::random_token(),
        report,
        matched,
        replayed,
    })
}

// ---------------------------------------------------------------------------------------------
// Bulk deferral

#[derive(Template)]
#[template(path = "loans/bulk.html")]
struct BulkPage {
    shell: Shell,
    l: Loc,
    provinces: Vec<(String, String)>,
    form: BulkForm,
    preview: Option<Vec<(String, String, String, String)>>,
    sample: Vec<(String, String, String, String, String)>,
    total_loans: String,
    total_amount: String,
    result: Option<(String, String, String, bool)>,
    key: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct BulkForm {
    province: String,
    county: String,
    female_head_only: String,
    due_from: String,
    due_to: String,
    months: String,
    reason: String,
    action: String,
    key: String,
}

async fn provinces(state: &AppState, p: &Principal) -> Result<Vec<(String, String)>, AppError> {
    let all =
        hamdeli_store::geo::provinces(&state.store, &hamdeli_domain::PlaceFilter::All).await?;
    Ok(all
        .into_iter()
        .filter(|x| p.scope.province().is_none_or(|own| own == x.code))
        .map(|x| (x.code.clone(), x.name_fa.clone()))
        .collect())
}

/// Handles the GET /loans/bulk-deferral route: the form of a bulk deferral.
pub async fn bulk_form(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    caller
        .principal
        .authorize(Action::Loan(LoanAction::ImportStatement))?;
    let l = Loc(ctx.locale);
    html(BulkPage {
        shell: Shell::new(&ctx, l.t("loans-nav-bulk")),
        l,
        provinces: provinces(&state, caller.principal).await?,
        form: BulkForm {
            months: "3".into(),
            female_head_only: "1".into(),
            ..Default::default()
        },
        preview: None,
        sample: vec![],
        total_loans: String::new(),
        total_amount: String::new(),
        result: None,
        key: hamdeli_store::tokens::random_token(),
    })
}

/// Handles the POST /loans/bulk-deferral route: `action=preview` shows who is affected and how;
/// `action=commit` defers them all in one audited transaction (once per key).
pub async fn bulk_post(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(f): FormData<BulkForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let input = app::BulkInput {
        province: f.province.clone(),
        county: Some(f.county.clone()).filter(|c| !c.trim().is_empty()),
        female_head_only: f.female_head_only == "1",
        product_id: None,
        due_from: f.due_from.clone(),
        due_to: f.due_to.clone(),
        months: whole(&f.months, "loans-error-defer-months")?,
    };
    let mut page = BulkPage {
        shell: Shell::new(&ctx, l.t("loans-nav-bulk")),
        l,
        provinces: provinces(&state, caller.principal).await?,
        form: f.clone(),
        preview: None,
        sample: vec![],
        total_loans: String::new(),
        total_amount: String::new(),
        result: None,
        key: if f.key.is_empty() {
            hamdeli_store::tokens::random_token()
        } else {
            f.key.clone()
        },
    };
    if f.action == "commit" {
        let r = app::bulk_commit(&state.store, &caller, &input, &f.reason, &f.key).await?;
        let replayed = r.replayed();
        let r = r.into_value();
        page.result = Some((
            l.num(&r.loans),
            l.num(&r.instalments),
            tomans(l, r.amount),
            replayed,
        ));
    } else {
        let (lines, sample) = app::bulk_preview(&state.store, &caller, &input).await?;
        page.total_loans = l.num(&lines.iter().map(|x| x.loans).sum::<i64>());
        page.total_amount = tomans(l, lines.iter().map(|x| x.amount).sum::<i64>());
        page.preview = Some(
            lines
                .iter()
                .map(|x| {
                    (
                        x.county_name.clone(),
                        l.num(&x.loans),
                        l.num(&x.instalments),
                        tomans(l, x.amount),
                    )
                })
                .collect(),
        );
        page.sample = sample
            .iter()
            .map(|s| {
                (
                    l.digits(&s.loan_no),
                    s.borrower.clone(),
                    l.num(&s.from_n),
                    jdate(l, s.old_due),
                    jdate(l, s.new_due),
                )
            })
            .collect();
    }
    html(page)
}

// ---------------------------------------------------------------------------------------------
// Delinquency

#[derive(Template)]
#[template(path = "loans/late.html")]
struct LatePage {
    shell: Shell,
    l: Loc,
    counties: Vec<(String, Vec<LateRow>)>,
    buckets: Vec<(String, String)>,
}

pub struct LateRow {
    pub id: i64,
    pub no: String,
    pub borrower: String,
    pub phone: String,
    pub days: String,
    pub bucket: String,
    pub overdue: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FormatQuery {
    format: Option<String>,
    by: Option<String>,
}

/// Handles the GET /loans/late route: the delinquency buckets and the call list per county
/// (XLSX with `?format=xlsx`).
pub async fn late(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<FormatQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let rows = app::late(&state.store, &caller).await?;
    let bucket = |d: i64| hamdeli_domain::loans::bucket(d).unwrap_or("");
    if q.format.as_deref() == Some("xlsx") {
        let headers: Vec<String> = [
            ("شهرستان", "County"),
            ("شماره وام", "Loan"),
            ("وام‌گیرنده", "Borrower"),
            ("تلفن", "Phone"),
            ("روز تأخیر", "Days late"),
            ("دسته", "Bucket"),
            ("معوق (ریال)", "Overdue (rials)"),
        ]
        .iter()
        .map(|(fa, en)| l.name(fa, en).to_owned())
        .collect();
        let data: Vec<Vec<Cell>> = rows
            .iter()
            .map(|r| {
                vec![
                    Cell::from(r.county_name.clone()),
                    Cell::from(r.loan_no.clone()),
                    Cell::from(r.borrower.clone()),
                    Cell::from(r.phone.clone()),
                    Cell::from(r.days_late),
                    Cell::from(bucket(r.days_late)),
                    Cell::from(r.overdue),
                ]
            })
            .collect();
        let bytes = export::xlsx_bytes("late", &headers, &data, l.dir() == "rtl")
            .map_err(|e| AppError::Internal(e.to_string()))?;
        return Ok(export::download(
            bytes,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "loans-late.xlsx",
        ));
    }
    let mut counts = [0_i64; 3];
    let mut counties: Vec<(String, Vec<LateRow>)> = vec![];
    for r in &rows {
        let b = bucket(r.days_late);
        match b {
            "1-30" => counts[0] += 1,
            "31-90" => counts[1] += 1,
            _ => counts[2] += 1,
        }
        let row = LateRow {
            id: r.loan_id,
            no: l.digits(&r.loan_no),
            borrower: r.borrower.clone(),
            phone: l.opt(&r.phone),
            days: l.num(&r.days_late),
            bucket: l.t(&format!("loans-bucket-{}", b.replace('+', "plus"))),
            overdue: tomans(l, r.overdue),
        };
        match counties.last_mut() {
            Some((c, v)) if *c == r.county_name => v.push(row),
            _ => counties.push((r.county_name.clone(), vec![row])),
        }
    }
    let buckets = ["1-30", "31-90", "90plus"]
        .iter()
        .zip(counts)
        .map(|(b, n)| (l.t(&format!("loans-bucket-{b}")), l.num(&n)))
        .collect();
    html(LatePage {
        shell: Shell::new(&ctx, l.t("loans-nav-late")),
        l,
        counties,
        buckets,
    })
}

// ---------------------------------------------------------------------------------------------
// Portfolio

#[derive(Template)]
#[template(path = "loans/portfolio.html")]
struct PortfolioPage {
    shell: Shell,
    l: Loc,
    by: String,
    rows: Vec<Vec<String>>,
    totals: Vec<String>,
    /// Outstanding with the part at risk over it (SVG; the table has the figures).
    chart: String,
    legend: String,
}

/// Handles the GET /loans/portfolio route: disbursed, outstanding, repaid, deferred and at risk by
/// province, product or Jalali month, an SVG chart, XLSX with `?format=xlsx`.
pub async fn portfolio(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<FormatQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let by = match q.by.as_deref() {
        Some("product") => "product",
        Some("month") => "month",
        _ => "province",
    };
    let lines = app::portfolio(&state.store, &caller, by).await?;
    let label = |x: &app::PortfolioLine| {
        if by == "month" {
            l.digits(&x.key)
        } else {
            x.label.clone()
        }
    };
    if q.format.as_deref() == Some("xlsx") {
        let headers: Vec<String> = [
            ("گروه", "Group"),
            ("وام‌ها", "Loans"),
            ("پرداخت‌شده (ریال)", "Disbursed (rials)"),
            ("مانده (ریال)", "Outstanding (rials)"),
            ("بازپرداخت (ریال)", "Repaid (rials)"),
            ("استمهال‌شده (ریال)", "Deferred (rials)"),
            ("در معرض خطر (ریال)", "At risk (rials)"),
        ]
        .iter()
        .map(|(fa, en)| l.name(fa, en).to_owned())
        .collect();
        let data: Vec<Vec<Cell>> = lines
            .iter()
            .map(|x| {
                vec![
                    Cell::from(if by == "month" {
                        x.key.clone()
                    } else {
                        x.label.clone()
                    }),
                    Cell::from(x.loans),
                    Cell::from(x.disbursed),
                    Cell::from(x.outstanding),
                    Cell::from(x.repaid),
                    Cell::from(x.deferred),
                    Cell::from(x.at_risk),
                ]
            })
            .collect();
        let bytes = export::xlsx_bytes("portfolio", &headers, &data, l.dir() == "rtl")
            .map_err(|e| AppError::Internal(e.to_string()))?;
        return Ok(export::download(
            bytes,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "loans-portfolio.xlsx",
        ));
    }
    let bars: Vec<Bar> = lines
        .iter()
        .map(|x| Bar {
            part: Some(x.at_risk),
            ..Bar::new(label(x), x.outstanding, tomans(l, x.outstanding))
        })
        .collect();
    let out_name = l.name("مانده", "Outstanding");
    let risk_name = l.name("در معرض خطر", "At risk");
    let chart = charts::bars(
        l.name("مانده و در معرض خطر", "Outstanding and at risk"),
        &bars,
        l.dir() == "rtl",
    );
    let legend = charts::legend(&[("chart-bar", out_name), ("chart-part", risk_name)]);
    let rows = lines
        .iter()
        .map(|x| {
            vec![
                label(x),
                l.num(&x.loans),
                tomans(l, x.disbursed),
                tomans(l, x.outstanding),
                tomans(l, x.repaid),
                tomans(l, x.deferred),
                tomans(l, x.at_risk),
            ]
        })
        .collect();
    let s = |f: fn(&app::PortfolioLine) -> i64| lines.iter().map(f).sum::<i64>();
    let totals = vec![
        l.num(&s(|x| x.loans)),
        tomans(l, s(|x| x.disbursed)),
        tomans(l, s(|x| x.outstanding)),
        tomans(l, s(|x| x.repaid)),
        tomans(l, s(|x| x.deferred)),
        tomans(l, s(|x| x.at_risk)),
    ];
    html(PortfolioPage {
        shell: Shell::new(&ctx, l.t("loans-nav-portfolio")),
        l,
        by: by.into(),
        rows,
        totals,
        chart,
        legend,
    })
}

// ---------------------------------------------------------------------------------------------
// Cooperatives

#[derive(Template)]
#[template(path = "loans/coops.html")]
struct CoopsPage {
    shell: Shell,
    l: Loc,
    rows: Vec<app::Cooperative>,
    can_manage: bool,
    report: Vec<(String, String, String, String)>,
}

/// Handles the GET /loans/cooperatives route: the cooperatives of the scope, a form and an
/// import.
pub async fn coops(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    coops_page(&state, &ctx, &caller, vec![]).await
}

async fn coops_page(
    state: &AppState,
    ctx: &Ctx,
    caller: &hamdeli_app::Caller<'_>,
    report: Vec<(String, String, String, String)>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let rows = app::cooperatives(&state.store, caller).await?;
    let p = caller.principal;
    let can_manage = p.role != hamdeli_domain::Role::Producer;
    html(CoopsPage {
        shell: Shell::new(ctx, l.t("loans-nav-cooperatives")),
        l,
        rows,
        can_manage,
        report,
    })
}

#[derive(Deserialize)]
pub struct CoopForm {
    registration_no: String,
    name: String,
    #[serde(default)]
    field: String,
    county: String,
}

/// Handles the POST /loans/cooperatives route: registers a cooperative.
pub async fn coop_create(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(f): FormData<CoopForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let id = app::create_cooperative(
        &state.store,
        &caller,
        &app::CooperativeInput {
            registration_no: f.registration_no,
            name: f.name,
            field: f.field,
            county: hamdeli_text::fold_digits(f.county.trim()),
        },
    )
    .await?;
    Ok(see_other(&format!("/loans/cooperatives/{id}")))
}

/// Handles the POST /loans/cooperatives/import route: a CSV/XLSX of cooperatives, with a per-row
/// report.
pub async fn coop_import(
    State(state): State<AppState>,
    ctx: Ctx,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let (_, bytes, _) = read_multipart(multipart).await?;
    let report = app::import_cooperatives(&state.store, &caller, &bytes).await?;
    let report = report
        .iter()
        .map(|r| {
            (
                l.num(&(r.row as i64)),
                l.digits(&r.registration_no),
                l.t(&format!("loans-import-{}", r.status)),
                if r.message.is_empty() {
                    String::new()
                } else {
                    l.t(r.message)
                },
            )
        })
        .collect();
    coops_page(&state, &ctx, &caller, report).await
}

#[derive(Template)]
#[template(path = "loans/coop.html")]
struct CoopPage {
    shell: Shell,
    l: Loc,
    c: app::Cooperative,
    status: String,
    members: Vec<app::Member>,
    /// The statuses this caller may set (empty: no form).
    statuses: Vec<&'static str>,
    /// (when, who, from, to, reason) of each status change, newest first.
    history: Vec<(String, String, String, String, String)>,
}

/// Handles the GET /loans/cooperatives/{id} route: a cooperative, its board and members.
pub async fn coop_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let (c, members) = app::cooperative(&state.store, &caller, id).await?;
    let statuses =
        if c.status != "dissolved" && app::may_set_cooperative_status(caller.principal, &c) {
            app::COOP_STATUSES
                .iter()
                .copied()
                .filter(|s| *s != c.status)
                .collect()
        } else {
            vec![]
        };
    let status_name = |s: &str| {
        if s.is_empty() {
            String::new()
        } else {
            l.t(&format!("loans-coop-status-{s}"))
        }
    };
    let history = app::cooperative_status_history(&state.store, &caller, &c)
        .await?
        .into_iter()
        .map(|h| {
            (
                l.instant(&h.at),
                h.actor,
                status_name(&h.from),
                status_name(&h.to),
                h.reason,
            )
        })
        .collect();
    html(CoopPage {
        shell: Shell::new(&ctx, c.name.clone()),
        l,
        status: status_name(&c.status),
        c,
        members,
        statuses,
        history,
    })
}

#[derive(Deserialize)]
pub struct CoopStatusForm {
    status: String,
    #[serde(default)]
    reason: String,
}

/// Handles the POST /loans/cooperatives/{id}/status route: changes the cooperative's status
/// with a reason (the offices that decide loans in its place).
pub async fn coop_status(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<CoopStatusForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    app::set_cooperative_status(&state.store, &caller, id, &f.status, &f.reason).await?;
    Ok(see_other(&format!("/loans/cooperatives/{id}")))
}

#[derive(Deserialize)]
pub struct MemberForm {
    national_code: String,
    #[serde(default)]
    board_role: String,
}

/// Handles the POST /loans/cooperatives/{id}/members route: adds a registry person.
pub async fn coop_member(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<MemberForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    app::add_member(
        &state.store,
        &caller,
        id,
        &f.national_code,
        Some(f.board_role.as_str()),
    )
    .await?;
    Ok(see_other(&format!("/loans/cooperatives/{id}")))
}

// ---------------------------------------------------------------------------------------------
// Products

#[derive(Template)]
#[template(path = "loans/products.html")]
struct ProductsPage {
    shell: Shell,
    l: Loc,
    rows: Vec<Vec<String>>,
    can_manage: bool,
}

/// Handles the GET /loans/products route.
pub async fn products(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let rows = app::products(&state.store, &caller)
        .await?
        .iter()
        .map(|p| {
            vec![
                l.digits(&p.code),
                l.name(&p.name_fa, &p.name_en).to_owned(),
                l.digits(
                    &schedule::FeeRate::from_units(p.fee_units)
                        .map(|f| f.to_string())
                        .unwrap_or_default(),
                ),
                tomans(l, p.max_amount),
                l.num(&p.term_months),
                l.num(&p.grace_months),
                p.applicants
                    .split(',')
                    .map(|k| l.t(&format!("loans-kind-{}", k.replace('_', "-"))))
                    .collect::<Vec<_>>()
                    .join("، "),
                format!(
                    "{} — {}",
                    l.t(&format!("loans-fund-{}", p.fund_source.replace('_', "-"))),
                    p.fund_name
                ),
            ]
        })
        .collect();
    html(ProductsPage {
        shell: Shell::new(&ctx, l.t("loans-nav-products")),
        l,
        rows,
        can_manage: caller
            .principal
            .allows(&Action::Loan(LoanAction::ManageProducts)),
    })
}

#[derive(Deserialize)]
pub struct ProductForm {
    code: String,
    name_fa: String,
    #[serde(default)]
    name_en: String,
    fee_percent: String,
    max_amount: String,
    term_months: String,
    #[serde(default)]
    grace_months: String,
    #[serde(default)]
    applicant_person: String,
    #[serde(default)]
    applicant_home_business: String,
    #[serde(default)]
    applicant_cooperative: String,
    #[serde(default)]
    female_head_only: String,
    fund_source: String,
    #[serde(default)]
    fund_name: String,
}

/// Handles the POST /loans/products route (the national office).
pub async fn product_create(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(f): FormData<ProductForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let mut applicants = vec![];
    for (v, k) in [
        (&f.applicant_person, "person"),
        (&f.applicant_home_business, "home_business"),
        (&f.applicant_cooperative, "cooperative"),
    ] {
        if !v.is_empty() {
            applicants.push(k.to_owned());
        }
    }
    app::create_product(
        &state.store,
        &caller,
        &app::ProductInput {
            code: f.code,
            name_fa: f.name_fa,
            name_en: f.name_en,
            fee_percent: f.fee_percent,
            max_amount: rials_of(&f.max_amount)?,
            term_months: whole(&f.term_months, "loans-error-months")?,
            grace_months: if f.grace_months.trim().is_empty() {
                0
            } else {
                whole(&f.grace_months, "loans-error-grace")?
            },
            applicants,
            female_head_only: !f.female_head_only.is_empty(),
            fund_source: f.fund_source,
            fund_name: f.fund_name,
        },
    )
    .await?;
    Ok(see_other("/loans/products"))
}
