//! Every organisation records its aid (issue 12.4): the form a partner fills on a person's page
//! (kind, amount, date, programme, note) and the list of what its organisation recorded at
//! `/support`. The use cases are `hamdeli_app::support`; this only parses, calls and renders.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use hamdeli_app::support::{self as support_app, PersonRef, SupportInput};
use hamdeli_store::needs::NeedType;
use hamdeli_store::organisations::Programme;
use hamdeli_store::support::SupportRow;

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::needs::{TypeNames, parse_amount};
use crate::pages::{FormData, html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

/// Today in Iran as the form shows it: Jalali `1405/09/01` in Persian, ISO in English.
fn today_typed(l: Loc) -> String {
    let today = hamdeli_locale::clock::iran_today(hamdeli_store::now_millis());
    match l.0 {
        hamdeli_locale::Locale::Fa => match hamdeli_locale::jalali(today) {
            Some((y, m, d)) => l.digits(&format!("{y}/{m:02}/{d:02}")),
            None => today.iso(),
        },
        hamdeli_locale::Locale::En => today.iso(),
    }
}

// ---------------------------------------------------------------------------------------------
// The form (on the person page, or alone)

#[derive(Template)]
#[template(path = "support/form.html")]
struct FormPage {
    shell: Shell,
    l: Loc,
    person: i64,
    types: Vec<NeedType>,
    programmes: Vec<Programme>,
    today: String,
    key: String,
}

/// The same form alone, for the person page to load in place.
#[derive(Template)]
#[template(path = "support/_form.html")]
struct FormFragment {
    shell: Shell,
    l: Loc,
    person: i64,
    types: Vec<NeedType>,
    programmes: Vec<Programme>,
    today: String,
    key: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FormQuery {
    person: Option<i64>,
    fragment: Option<String>,
}

/// The form to record support for a person the partner holds a record of; an empty fragment
/// for anyone else (the person page asks every non-office reader).
pub async fn new_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<FormQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let person = q.person.ok_or(AppError::BadRequest("form-invalid"))?;
    let fragment = q.fragment.is_some();
    let Some((types, programmes)) =
        support_app::form_options(&state.store, &caller, person).await?
    else {
        if fragment {
            return Ok(Html(String::new()).into_response());
        }
        return Err(AppError::Forbidden);
    };
    let shell = Shell::new(&ctx, l.name("ثبت کمک", "Record support").to_owned());
    // One key per form shown: a double submit records once.
    let key = hamdeli_store::tokens::random_token();
    let today = today_typed(l);
    if fragment {
        return html(FormFragment {
            shell,
            l,
            person,
            types,
            programmes,
            today,
            key,
        });
    }
    html(FormPage {
        shell,
        l,
        person,
        types,
        programmes,
        today,
        key,
    })
}

#[derive(Deserialize)]
pub struct SupportForm {
    person: i64,
    kind: String,
    amount: String,
    date: String,
    #[serde(default)]
    programme: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    key: String,
}

/// Records the form's support, then shows the organisation's list.
pub async fn record(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<SupportForm>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let amount = parse_amount(&form.amount)
        .filter(|a| *a > 0)
        .ok_or(AppError::BadRequest("need-amount-positive"))?;
    let date = hamdeli_locale::parse_form_date(&form.date)
        .ok_or(AppError::BadRequest("date-invalid"))?
        .iso();
    let programme = match form.programme.trim() {
        "" => None,
        p => Some(
            p.parse()
                .map_err(|_| AppError::BadRequest("form-invalid"))?,
        ),
    };
    let input = SupportInput {
        person: PersonRef::Id(form.person),
        kind: form.kind,
        amount,
        date,
        programme_id: programme,
        programme_name: None,
        note: Some(form.note),
        idempotency_key: Some(form.key).filter(|k| !k.trim().is_empty()),
    };
    let outcome = support_app::record(&state.store, &caller, &input).await?;
    Ok(see_other(&format!(
        "/support?recorded={}",
        outcome.recorded().id
    )))
}

// ---------------------------------------------------------------------------------------------
// The list

#[derive(Template)]
#[template(path = "support/list.html")]
struct ListPage {
    shell: Shell,
    l: Loc,
    rows: Vec<SupportRow>,
    types: TypeNames,
    recorded: Option<i64>,
    next: Option<i64>,
    partner: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    before: Option<i64>,
    recorded: Option<i64>,
}

const PAGE: i64 = 100;

/// The support the organisation recorded (an office: recorded for persons of its place),
/// newest first, 100 a page.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let partner = caller.principal.role == hamdeli_domain::Role::PartnerOrg;
    let rows = support_app::recorded(&state.store, &caller, q.before, PAGE).await?;
    let next = (rows.len() as i64 == PAGE)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    html(ListPage {
        shell: Shell::new(&ctx, l.name("کمک‌های ثبت‌شده", "Recorded support").to_owned()),
        l,
        rows,
        types: TypeNames::load(&state, l).await?,
        recorded: q.recorded,
        next,
        partner,
    })
}

#[cfg(test)]
mod tests {
    use super::today_typed;
    use crate::view::Loc;

    #[test]
    fn today_reads_back_as_a_form_date() {
        for locale in hamdeli_locale::Locale::ALL {
            let typed = today_typed(Loc(locale));
            let parsed = hamdeli_locale::parse_form_date(&typed).unwrap();
            let today = hamdeli_locale::clock::iran_today(hamdeli_store::now_millis());
            assert_eq!(parsed, today, "{typed}");
        }
    }
}
