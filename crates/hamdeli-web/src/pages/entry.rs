//! People and households entered by hand (`hamdeli_app::entry`): the forms, the duplicate
//! check shown before saving, the edit forms with their history, and the history fragment the
//! person page loads. Handlers parse, call the use case and render.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::entry::{
    self as app, Candidate, FEMALE_HEAD_REASONS, HouseholdInput, MAX_MEMBERS, MemberInput,
    PersonInput, RELATIONS, Refusal,
};
use hamdeli_store::entry::Edit;

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::account::bad;
use crate::pages::registry::PlaceNames;
use crate::pages::{FormData, html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

/// A form's refusals in words, by field.
pub struct Errors(Vec<(String, String)>);

impl Errors {
    fn none() -> Errors {
        Errors(Vec::new())
    }

    fn of(l: Loc, refusals: &[Refusal]) -> Errors {
        Errors(
            refusals
                .iter()
                .map(|r| (r.field.clone(), l.problem(r.code)))
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|(f, _)| f == field)
    }

    pub fn get(&self, field: &str) -> String {
        self.0
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A household member's field (`m{i}.{field}`).
    pub fn m(&self, i: &usize, field: &str) -> String {
        self.get(&format!("m{i}.{field}"))
    }

    pub fn all(&self) -> Vec<String> {
        self.0.iter().map(|(_, m)| m.clone()).collect()
    }
}

/// A choice of a select.
pub struct Choice {
    pub value: String,
    pub label: String,
}

async fn county_choices(state: &AppState, ctx: &Ctx, l: Loc) -> Result<Vec<Choice>, AppError> {
    Ok(app::counties(&state.store, &caller(ctx)?)
        .await?
        .into_iter()
        .map(|c| Choice {
            label: format!("{} ({})", l.name(&c.name_fa, &c.name_en), l.digits(&c.code)),
            value: c.code,
        })
        .collect())
}

/// A history line in words.
pub struct HistoryLine {
    pub when: String,
    pub who: String,
    pub field: String,
    pub old: String,
    pub new: String,
}

fn field_name(l: Loc, field: &str) -> String {
    let id = match field {
        "national_code" => "field-national-code",
        "first_name" => "field-first-name",
        "last_name" => "field-last-name",
        "father_name" => "field-father-name",
        "birth_date" => "field-birth-date",
        "gender" => "field-gender",
        "phone" => "field-phone",
        "address" => "field-address",
        "county" => "field-county",
        "zone" => "field-zone",
        "female_head" => "field-female-head",
        "female_head_reason" => "field-female-head-reason",
        "monthly_income" => "entry-monthly-income",
        "income_decile" => "field-income-decile",
        "dependants" => "field-dependants",
        "disability" => "indicator-disability",
        "chronic_illness" => "indicator-chronic-illness",
        "elderly" => "indicator-elderly",
        "bereaved_by_covid" => "indicator-bereaved-by-covid",
        "household" => "person-household",
        f if f.starts_with("relation:") => {
            return format!(
                "{} ({} {})",
                l.t("field-relation"),
                l.t("field-person"),
                l.digits(&f["relation:".len()..])
            );
        }
        other => return other.to_owned(),
    };
    l.t(id)
}

fn value_in_words(l: Loc, field: &str, v: &Option<String>) -> String {
    let Some(v) = v.as_deref().filter(|v| !v.is_empty()) else {
        return "—".into();
    };
    match field {
        "birth_date" => l.date(v),
        "gender" => l.tv("gender", v),
        "zone" => l.tv("zone", v),
        "female_head_reason" => l.tv("female-head-reason", v),
        "female_head" | "disability" | "chronic_illness" | "elderly" | "bereaved_by_covid" => {
            l.t(if v == "1" { "yes" } else { "no" })
        }
        "monthly_income" => v
            .parse::<i64>()
            .map(|r| format!("{} {}", l.num(&(r / 10)), l.t("entry-tomans")))
            .unwrap_or_else(|_| l.digits(v)),
        f if f.starts_with("relation:") => l.tv("relation", v),
        _ => l.digits(v),
    }
}

fn history_lines(l: Loc, edits: &[Edit]) -> Vec<HistoryLine> {
    edits
        .iter()
        .map(|e| HistoryLine {
            when: l.instant(&e.edited_at),
            who: e.editor.clone().unwrap_or_else(|| "—".into()),
            field: field_name(l, &e.field),
            old: value_in_words(l, &e.field, &e.old_value),
            new: value_in_words(l, &e.field, &e.new_value),
        })
        .collect()
}

/// A duplicate-check hit in words.
#[derive(Clone)]
pub struct CandidateView {
    pub id: i64,
    pub name: String,
    pub national_code: String,
    pub birth_date: String,
    pub county: String,
    /// "organisation — list (kind)" per list.
    pub lists: Vec<String>,
    pub household: Option<i64>,
}

fn candidate_views(l: Loc, places: &PlaceNames, found: Vec<Candidate>) -> Vec<CandidateView> {
    found
        .into_iter()
        .map(|c| CandidateView {
            id: c.hit.id,
            name: format!("{} {}", l.opt(&c.hit.first_name), l.opt(&c.hit.last_name)),
            national_code: l.opt(&c.hit.national_code),
            birth_date: l.iso_date(&c.hit.birth_date),
            county: places.of(&c.hit.county_code),
            lists: c
                .lists
                .iter()
                .map(|x| {
                    format!(
                        "{} — {} ({})",
                        l.name(&x.organisation_fa, &x.organisation_en),
                        x.list_name,
                        l.tv("list-kind", &x.list_kind)
                    )
                })
                .collect(),
            household: c.household,
        })
        .collect()
}

/// A stored ISO date as a form shows it: Jalali in Persian digits in the Persian interface.
fn form_date(l: Loc, iso: &str) -> String {
    if l.lang() != "fa" {
        return iso.to_owned();
    }
    match hamdeli_text::parse_date(iso).ok().and_then(|d| d.iso()) {
        Some(d) => {
            let j = d.to_jalali();
            l.digits(&format!("{}/{:02}/{:02}", j.year(), j.month(), j.day()))
        }
        None => iso.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// A person

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct PersonForm {
    county: String,
    zone: String,
    national_code: String,
    first_name: String,
    last_name: String,
    father_name: String,
    birth_date: String,
    gender: String,
    phone: String,
    address: String,
    /// `check` (the duplicate check) or `save`.
    action: String,
}

impl PersonForm {
    fn input(&self) -> PersonInput {
        PersonInput {
            national_code: self.national_code.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            father_name: self.father_name.clone(),
            birth_date: self.birth_date.clone(),
            gender: self.gender.clone(),
            phone: self.phone.clone(),
            address: self.address.clone(),
        }
    }

    fn of(input: &PersonInput) -> PersonForm {
        PersonForm {
            national_code: input.national_code.clone(),
            first_name: input.first_name.clone(),
            last_name: input.last_name.clone(),
            father_name: input.father_name.clone(),
            birth_date: input.birth_date.clone(),
            gender: input.gender.clone(),
            phone: input.phone.clone(),
            address: input.address.clone(),
            ..PersonForm::default()
        }
    }
}

#[derive(Template)]
#[template(path = "entry/person_form.html")]
struct PersonPage {
    shell: Shell,
    l: Loc,
    form: PersonForm,
    counties: Vec<Choice>,
    errors: Errors,
    /// The duplicate check ran (its hits, possibly none).
    checked: bool,
    candidates: Vec<CandidateView>,
    /// Editing this person (`None`: a new one).
    editing: Option<i64>,
    history: Vec<HistoryLine>,
    household: Option<i64>,
}

#[allow(clippy::too_many_arguments)]
async fn person_page(
    state: &AppState,
    ctx: &Ctx,
    form: PersonForm,
    errors: Errors,
    checked: bool,
    candidates: Vec<Candidate>,
    editing: Option<(i64, Vec<Edit>, Option<i64>)>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let places = PlaceNames::load(state, l).await?;
    let title = match &editing {
        Some((id, _, _)) => l.t1("entry-edit-person-title", "id", &l.num(id)),
        None => l.t("entry-person-title"),
    };
    let refused = !errors.is_empty();
    let (editing, history, household) = match editing {
        Some((id, edits, household)) => (Some(id), history_lines(l, &edits), household),
        None => (None, Vec::new(), None),
    };
    let page = html(PersonPage {
        shell: Shell::new(ctx, title),
        l,
        form,
        counties: county_choices(state, ctx, l).await?,
        errors,
        checked,
        candidates: candidate_views(l, &places, candidates),
        editing,
        history,
        household,
    });
    if refused { bad(page) } else { page }
}

/// Handles the GET /registry/new route: the form of a person entered by hand.
pub async fn new_person_form(
    State(state): State<AppState>,
    ctx: Ctx,
) -> Result<Response, AppError> {
    let p = ctx.require()?;
    let form = PersonForm {
        county: p.scope.county().unwrap_or_default().to_owned(),
        ..PersonForm::default()
    };
    person_page(&state, &ctx, form, Errors::none(), false, Vec::new(), None).await
}

/// Handles the POST /registry/new route: the duplicate check (`action=check`), or saving the
/// person into the office's manual-entry list of the county.
pub async fn new_person(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<PersonForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let input = form.input();
    if form.action == "check" {
        let found = app::check(&state.store, &c, &input).await?;
        return person_page(&state, &ctx, form, Errors::none(), true, found, None).await;
    }
    match app::register_person(&state.store, &c, &form.county, &form.zone, &input).await? {
        Ok(entered) => Ok(see_other(&format!("/registry/persons/{}", entered.person))),
        Err(refusals) => {
            let found = app::check(&state.store, &c, &input).await?;
            let errors = Errors::of(l, &refusals);
            person_page(&state, &ctx, form, errors, true, found, None).await
        }
    }
}

/// Handles the GET /registry/persons/{id}/edit route: the person's form as the office stated
/// it, with the history of its edits.
pub async fn edit_person_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let edit = app::person_for_edit(&state.store, &caller(&ctx)?, id).await?;
    let mut form = PersonForm::of(&edit.input);
    form.county = edit.person.county_code.clone().unwrap_or_default();
    form.birth_date = form_date(Loc(ctx.locale), &form.birth_date);
    person_page(
        &state,
        &ctx,
        form,
        Errors::none(),
        false,
        Vec::new(),
        Some((id, edit.history, edit.household)),
    )
    .await
}

/// Handles the POST /registry/persons/{id}/edit route: saves the edit, its history kept.
pub async fn edit_person(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(form): FormData<PersonForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    match app::edit_person(&state.store, &c, id, &form.input()).await? {
        Ok(_) => Ok(see_other(&format!("/registry/persons/{id}"))),
        Err(refusals) => {
            let l = Loc(ctx.locale);
            let history = app::person_history(&state.store, &c, id).await?;
            person_page(
                &state,
                &ctx,
                form,
                Errors::of(l, &refusals),
                false,
                Vec::new(),
                Some((id, history, None)),
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "entry/_history.html")]
struct HistoryFragment {
    l: Loc,
    history: Vec<HistoryLine>,
}

/// Handles the GET /registry/persons/{id}/history route: the person's history of hand edits
/// (the person page loads it), empty for those who do not enter persons.
pub async fn person_history(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let history = match app::person_history(&state.store, &caller(&ctx)?, id).await {
        Ok(edits) => history_lines(l, &edits),
        Err(hamdeli_app::Error::Denied) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    html(HistoryFragment { l, history })
}

// ---------------------------------------------------------------------------------------------
// A household

/// A member row of the household form.
#[derive(Default, Clone)]
pub struct MemberRow {
    pub person: PersonForm,
    pub relation: String,
    /// The duplicate check's hits for this member.
    pub candidates: Vec<CandidateView>,
}

/// The household facts of a form.
#[derive(Default, Clone)]
pub struct HouseholdForm {
    pub county: String,
    pub zone: String,
    pub address: String,
    pub female_head: bool,
    pub female_head_reason: String,
    pub monthly_income: String,
    pub income_decile: String,
    pub dependants: String,
    pub disability: bool,
    pub chronic_illness: bool,
    pub bereaved_by_covid: bool,
}

impl HouseholdForm {
    fn of_fields(f: &HashMap<String, String>) -> HouseholdForm {
        let text = |k: &str| f.get(k).cloned().unwrap_or_default();
        let on = |k: &str| matches!(f.get(k).map(String::as_str), Some("1" | "on" | "true"));
        HouseholdForm {
            county: text("county"),
            zone: text("zone"),
            address: text("address"),
            female_head: on("female_head"),
            female_head_reason: text("female_head_reason"),
            monthly_income: text("monthly_income"),
            income_decile: text("income_decile"),
            dependants: text("dependants"),
            disability: on("disability"),
            chronic_illness: on("chronic_illness"),
            bereaved_by_covid: on("bereaved_by_covid"),
        }
    }

    fn of_input(i: &HouseholdInput) -> HouseholdForm {
        HouseholdForm {
            county: i.county.clone(),
            zone: i.zone.clone(),
            address: i.address.clone(),
            female_head: i.female_head,
            female_head_reason: i.female_head_reason.clone(),
            monthly_income: i.monthly_income.clone(),
            income_decile: i.income_decile.clone(),
            dependants: i.dependants.clone(),
            disability: i.disability,
            chronic_illness: i.chronic_illness,
            bereaved_by_covid: i.bereaved_by_covid,
        }
    }

    fn input(&self) -> HouseholdInput {
        HouseholdInput {
            county: self.county.clone(),
            zone: self.zone.clone(),
            address: self.address.clone(),
            female_head: self.female_head,
            female_head_reason: self.female_head_reason.clone(),
            monthly_income: self.monthly_income.clone(),
            income_decile: self.income_decile.clone(),
            dependants: self.dependants.clone(),
            disability: self.disability,
            chronic_illness: self.chronic_illness,
            bereaved_by_covid: self.bereaved_by_covid,
        }
    }
}

fn member_rows(f: &HashMap<String, String>) -> Vec<MemberRow> {
    let count = f
        .get("members")
        .and_then(|n| hamdeli_text::fold_digits(n).trim().parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, MAX_MEMBERS);
    (0..count)
        .map(|i| {
            let text = |k: &str| f.get(&format!("m{i}.{k}")).cloned().unwrap_or_default();
            MemberRow {
                person: PersonForm {
                    national_code: text("national_code"),
                    first_name: text("first_name"),
                    last_name: text("last_name"),
                    father_name: text("father_name"),
                    birth_date: text("birth_date"),
                    gender: text("gender"),
                    phone: text("phone"),
                    ..PersonForm::default()
                },
                relation: text("relation"),
                candidates: Vec::new(),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "entry/household_form.html")]
struct HouseholdPage {
    shell: Shell,
    l: Loc,
    form: HouseholdForm,
    members: Vec<MemberRow>,
    counties: Vec<Choice>,
    relations: Vec<&'static str>,
    reasons: Vec<&'static str>,
    errors: Errors,
    checked: bool,
}

async fn household_page(
    state: &AppState,
    ctx: &Ctx,
    form: HouseholdForm,
    members: Vec<MemberRow>,
    errors: Errors,
    checked: bool,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let refused = !errors.is_empty();
    let page = html(HouseholdPage {
        shell: Shell::new(ctx, l.t("entry-household-title")),
        l,
        form,
        members,
        counties: county_choices(state, ctx, l).await?,
        relations: RELATIONS.to_vec(),
        reasons: FEMALE_HEAD_REASONS.to_vec(),
        errors,
        checked,
    });
    if refused { bad(page) } else { page }
}

#[derive(Deserialize, Default)]
pub struct NewHouseholdQuery {
    /// A person already in the registry to head the household.
    #[serde(default)]
    head: Option<i64>,
}

/// Handles the GET /registry/households/new route: the form of a household entered by hand
/// (`?head=` a person already in the registry, who heads it).
pub async fn new_household_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NewHouseholdQuery>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let p = c.principal;
    if !app::may_enter(p) {
        return Err(AppError::Forbidden);
    }
    let mut members = vec![
        MemberRow::default(),
        MemberRow::default(),
        MemberRow::default(),
    ];
    members[0].relation = "head".into();
    if let Some(head) = q.head {
        let edit = app::person_for_edit(&state.store, &c, head).await?;
        members[0].person.national_code = edit.input.national_code;
    }
    let form = HouseholdForm {
        county: p.scope.county().unwrap_or_default().to_owned(),
        ..HouseholdForm::default()
    };
    household_page(&state, &ctx, form, members, Errors::none(), false).await
}

fn member_inputs(rows: &[MemberRow]) -> Vec<MemberInput> {
    rows.iter()
        .filter(|m| {
            let p = &m.person;
            !(p.national_code.trim().is_empty()
                && p.first_name.trim().is_empty()
                && p.last_name.trim().is_empty())
        })
        .map(|m| MemberInput {
            person: m.person.input(),
            relation: m.relation.clone(),
        })
        .collect()
}

/// Handles the POST /registry/households/new route: one more member row (`action=add`), the
/// duplicate check of every member (`action=check`), or saving the household.
pub async fn new_household(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(fields): FormData<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let l = Loc(ctx.locale);
    let form = HouseholdForm::of_fields(&fields);
    let mut members = member_rows(&fields);
    match fields.get("action").map(String::as_str) {
        Some("add") => {
            if members.len() < MAX_MEMBERS {
                members.push(MemberRow::default());
            }
            household_page(&state, &ctx, form, members, Errors::none(), false).await
        }
        Some("check") => {
            let places = PlaceNames::load(&state, l).await?;
            for m in &mut members {
                let found = app::check(&state.store, &c, &m.person.input()).await?;
                m.candidates = candidate_views(l, &places, found);
            }
            household_page(&state, &ctx, form, members, Errors::none(), true).await
        }
        _ => {
            // Rows left empty are no members; the refusals name the rows as typed.
            let kept: Vec<MemberRow> = members
                .iter()
                .filter(|m| !member_inputs(std::slice::from_ref(*m)).is_empty())
                .cloned()
                .collect();
            let inputs = member_inputs(&kept);
            match app::register_household(&state.store, &c, &form.input(), &inputs).await? {
                Ok(saved) => Ok(see_other(&format!("/registry/persons/{}", saved.head))),
                Err(refusals) => {
                    household_page(&state, &ctx, form, kept, Errors::of(l, &refusals), false).await
                }
            }
        }
    }
}

#[derive(Template)]
#[template(path = "entry/household_edit.html")]
struct HouseholdEditPage {
    shell: Shell,
    l: Loc,
    id: i64,
    form: HouseholdForm,
    /// (person, relation, name).
    members: Vec<(i64, String, String)>,
    relations: Vec<&'static str>,
    reasons: Vec<&'static str>,
    errors: Errors,
    history: Vec<HistoryLine>,
}

async fn household_edit_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    form: Option<(HouseholdForm, Vec<(i64, String)>)>,
    errors: Errors,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let edit = app::household_for_edit(&state.store, &caller(ctx)?, id).await?;
    let (form, relations) = match form {
        Some(f) => f,
        None => (
            HouseholdForm::of_input(&edit.input),
            edit.members.iter().map(|m| (m.0, m.1.clone())).collect(),
        ),
    };
    let members = edit
        .members
        .iter()
        .map(|(person, relation, first, last)| {
            let relation = relations
                .iter()
                .find(|(p, _)| p == person)
                .map(|(_, r)| r.clone())
                .unwrap_or_else(|| relation.clone());
            (
                *person,
                relation,
                format!("{} {}", l.opt(first), l.opt(last)),
            )
        })
        .collect();
    let refused = !errors.is_empty();
    let page = html(HouseholdEditPage {
        shell: Shell::new(ctx, l.t1("entry-edit-household-title", "id", &l.num(&id))),
        l,
        id,
        form,
        members,
        relations: RELATIONS.to_vec(),
        reasons: FEMALE_HEAD_REASONS.to_vec(),
        errors,
        history: history_lines(l, &edit.history),
    });
    if refused { bad(page) } else { page }
}

/// Handles the GET /registry/households/{id}/edit route: the household's facts and members'
/// relations, with the history of its edits.
pub async fn edit_household_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    household_edit_page(&state, &ctx, id, None, Errors::none()).await
}

/// Handles the POST /registry/households/{id}/edit route: saves the edit, its history kept.
pub async fn edit_household(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(fields): FormData<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let form = HouseholdForm::of_fields(&fields);
    let relations: Vec<(i64, String)> = fields
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("relation.")
                .and_then(|p| p.parse::<i64>().ok())
                .map(|p| (p, v.clone()))
        })
        .collect();
    match app::edit_household(&state.store, &c, id, &form.input(), &relations).await? {
        Ok(_) => {
            let head = app::household_for_edit(&state.store, &c, id)
                .await?
                .members
                .iter()
                .find(|m| m.1 == "head")
                .map(|m| m.0);
            Ok(see_other(&match head {
                Some(p) => format!("/registry/persons/{p}"),
                None => format!("/registry/households/{id}/edit"),
            }))
        }
        Err(refusals) => {
            let l = Loc(ctx.locale);
            household_edit_page(
                &state,
                &ctx,
                id,
                Some((form, relations)),
                Errors::of(l, &refusals),
            )
            .await
        }
    }
}
