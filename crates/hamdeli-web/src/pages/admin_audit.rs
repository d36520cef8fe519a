//! The audit log, read-only, with filters.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::audit_log;
use hamdeli_domain::Action;
use hamdeli_locale::clock::iran_midnight_millis;
use hamdeli_locale::parse_form_date;
use hamdeli_store::audit::{Entry, Filter};

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::html;
use crate::view::{Loc, Shell};

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct AuditQuery {
    pub actor: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub from: String,
    pub to: String,
    pub before: Option<i64>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    shell: Shell,
    l: Loc,
    q: AuditQuery,
    actions: Vec<String>,
    entries: Vec<Entry>,
    error: Option<String>,
    next_before: Option<i64>,
    next_query: String,
}

const PAGE: i64 = 100;

fn nonempty(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Turns the query into a store filter; a date that does not parse names itself.
pub fn filter_of(q: &AuditQuery) -> Result<Filter, &'static str> {
    let day = |s: &str, field: &'static str| -> Result<Option<i64>, &'static str> {
        match nonempty(s) {
            None => Ok(None),
            Some(s) => parse_form_date(&s)
                .map(|d| Some(iran_midnight_millis(d)))
                .ok_or(field),
        }
    };
    Ok(Filter {
        actor: nonempty(&q.actor),
        action: nonempty(&q.action),
        target_kind: nonempty(&q.target_kind),
        target_id: nonempty(&q.target_id),
        from_millis: day(&q.from, "audit-from-invalid")?,
        // "to" is inclusive: up to the start of the next day.
        to_millis: day(&q.to, "audit-to-invalid")?.map(|m| m + 86_400_000),
        limit: PAGE,
        before_id: q.before,
    })
}

/// Handles the GET /admin/audit route.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AuditQuery>,
) -> Result<Response, AppError> {
    let caller = crate::use_case::caller(&ctx)?;
    caller.principal.authorize(Action::ReadAudit)?;
    let l = Loc(ctx.locale);
    let (entries, error) = match filter_of(&q) {
        Ok(f) => (audit_log::list(&state.store, &caller, &f).await?, None),
        Err(id) => (vec![], Some(l.t(id))),
    };
    let next_before = if entries.len() as i64 == PAGE {
        entries.last().map(|e| e.id)
    } else {
        None
    };
    let next_query = serde_urlencoded::to_string([
        ("actor", &q.actor),
        ("action", &q.action),
        ("target_kind", &q.target_kind),
        ("target_id", &q.target_id),
        ("from", &q.from),
        ("to", &q.to),
    ])
    .unwrap_or_default();
    html(AuditPage {
        shell: Shell::new(&ctx, l.t("audit-title")),
        l,
        actions: audit_log::actions(&state.store, &caller).await?,
        q,
        entries,
        error,
        next_before,
        next_query,
    })
}
