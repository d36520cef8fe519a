//! The province need index: indicators with visible weights the national office edits, the
//! ranking with each province's breakdown, a what-if preview before saving, the history of
//! weight changes, imports of external indicators, and the public page with the method.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Multipart, State};
use axum::response::Response;

use hamdeli_app::reports::{self as app, ImportReport, ImportRow};
use hamdeli_domain::Action;
use hamdeli_domain::reports::index::ProvinceScore;
use hamdeli_domain::reports::policy::ReportAction;
use hamdeli_store::reports::index::{Indicator, WeightChange};

use super::{Names, map, sheet};
use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::{FormData, html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

pub(crate) struct ScoreRow {
    pub rank: String,
    pub code: String,
    pub name: String,
    pub score: String,
    /// (points, raw value) per indicator, in the indicators' order.
    pub parts: Vec<(String, String)>,
    /// The rank with the saved weights, when previewing other weights.
    pub saved_rank: Option<String>,
}

fn score_rows(
    l: Loc,
    names: &Names,
    scores: &[ProvinceScore],
    saved: Option<&[ProvinceScore]>,
    raw: bool,
) -> Vec<ScoreRow> {
    scores
        .iter()
        .map(|s| ScoreRow {
            rank: if s.rank > 0 {
                l.num(&(s.rank as i64))
            } else {
                "—".into()
            },
            code: s.province.clone(),
            name: names.of(&s.province),
            score: s
                .score
                .map(|x| l.digits(&format!("{x:.1}")))
                .unwrap_or_else(|| "—".into()),
            parts: s
                .parts
                .iter()
                .map(|p| {
                    (
                        l.digits(&format!("{:.1}", p.points)),
                        if raw {
                            p.raw
                                .map(|v| l.digits(&format!("{v:.1}")))
                                .unwrap_or_else(|| "—".into())
                        } else {
                            String::new()
                        },
                    )
                })
                .collect(),
            saved_rank: saved.and_then(|saved| {
                saved
                    .iter()
                    .find(|x| x.province == s.province)
                    .map(|x| l.num(&(x.rank as i64)))
            }),
        })
        .collect()
}

fn score_map(l: Loc, names: &Names, scores: &[ProvinceScore], title: &str) -> String {
    let values: BTreeMap<String, f64> = scores
        .iter()
        .filter_map(|s| Some((s.province.clone(), s.score?)))
        .collect();
    map::province_map(
        &values,
        title,
        &|code| {
            let v = values
                .get(code)
                .map(|x| l.digits(&format!("{x:.1}")))
                .unwrap_or_else(|| "—".into());
            format!("{}: {v}", names.of(code))
        },
        &|_| None,
    )
}

#[derive(Template)]
#[template(path = "reports/index.html")]
struct IndexPage {
    shell: Shell,
    l: Loc,
    indicators: Vec<Indicator>,
    weights: Vec<(String, String, i64)>,
    rows: Vec<ScoreRow>,
    preview: bool,
    map: String,
    history: Vec<(String, String, String, String)>,
    may_configure: bool,
    imported: Vec<(String, String)>,
    import_report: Option<ImportLines>,
    error: Option<String>,
}

pub(crate) struct ImportLines {
    pub accepted: Vec<(String, String, String)>,
    pub rejected: Vec<(String, String, String)>,
}

fn history_lines(
    l: Loc,
    indicators: &[Indicator],
    h: &[WeightChange],
) -> Vec<(String, String, String, String)> {
    h.iter()
        .map(|c| {
            let w = c
                .weights
                .iter()
                .map(|(k, v)| {
                    let name = indicators
                        .iter()
                        .find(|i| &i.code == k)
                        .map(|i| l.name(&i.name_fa, &i.name_en).to_owned())
                        .unwrap_or_else(|| k.clone());
                    format!("{name}: {}", l.num(v))
                })
                .collect::<Vec<_>>()
                .join("، ");
            (
                l.instant(&c.changed_at),
                c.changed_by_name.clone(),
                w,
                c.note.clone().unwrap_or_default(),
            )
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn index_page(
    state: &AppState,
    ctx: &Ctx,
    what_if: Option<&BTreeMap<String, i64>>,
    import_report: Option<ImportReport>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let caller = caller(ctx)?;
    if !app::may_view(Some(caller.principal)) {
        return Err(AppError::Forbidden);
    }
    let l = Loc(ctx.locale);
    let names = Names::load(state, l).await?;
    let (indicators, saved) = app::need_index(&state.store, None).await?;
    let (rows, preview) = match what_if {
        Some(w) => {
            let (_, scores) = app::need_index(&state.store, Some(w)).await?;
            (score_rows(l, &names, &scores, Some(&saved), true), true)
        }
        None => (score_rows(l, &names, &saved, None, true), false),
    };
    let weights = indicators
        .iter()
        .map(|i| {
            (
                i.code.clone(),
                l.name(&i.name_fa, &i.name_en).to_owned(),
                what_if
                    .and_then(|w| w.get(&i.code).copied())
                    .unwrap_or(i.weight),
            )
        })
        .collect();
    let (history, imported_values) = app::index_history(&state.store, &caller).await?;
    let imported = indicators
        .iter()
        .filter(|i| i.source == "imported")
        .map(|i| {
            (
                l.name(&i.name_fa, &i.name_en).to_owned(),
                l.num(&(imported_values.get(&i.code).map(|m| m.len()).unwrap_or(0) as i64)),
            )
        })
        .collect();
    let import_report = import_report.map(|r| ImportLines {
        accepted: r
            .accepted
            .iter()
            .map(|(row, code, v)| {
                (
                    l.num(&(*row as i64)),
                    names.of(code),
                    l.digits(&format!("{:.3}", *v as f64 / 1000.0)),
                )
            })
            .collect(),
        rejected: r
            .rejected
            .iter()
            .map(|(row, text, code)| (l.num(&(*row as i64)), text.clone(), l.t(code)))
            .collect(),
    });
    let title = l.t("reports-index-title");
    let scores_for_map = match what_if {
        Some(w) => app::need_index(&state.store, Some(w)).await?.1,
        None => saved,
    };
    let map = score_map(l, &names, &scores_for_map, &title);
    let bad = error.is_some();
    let mut page = html(IndexPage {
        shell: Shell::new(ctx, title),
        history: history_lines(l, &indicators, &history),
        may_configure: caller
            .principal
            .allows(&Action::Report(ReportAction::ConfigureIndex)),
        indicators,
        weights,
        rows,
        preview,
        map,
        imported,
        import_report,
        error,
        l,
    })?;
    if bad {
        *page.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page)
}

/// Handles the GET /reports/index route
pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    index_page(&state, &ctx, None, None, None).await
}

/// Handles the POST /reports/index route
///
/// `action=preview` shows the ranking with the typed weights (nothing saved); `action=save`
/// saves them with the note into the history.
pub async fn post(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(form): FormData<BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    caller
        .principal
        .authorize(Action::Report(ReportAction::ConfigureIndex))?;
    let l = Loc(ctx.locale);
    let mut weights = BTreeMap::new();
    for (k, v) in &form {
        if let Some(code) = k.strip_prefix("w_") {
            let Some(w) = hamdeli_domain::reports::dataset::parse_number(v) else {
                return index_page(
                    &state,
                    &ctx,
                    None,
                    None,
                    Some(l.t("reports-index-weight-range")),
                )
                .await;
            };
            weights.insert(code.to_owned(), w);
        }
    }
    if let Err(hamdeli_app::Error::Invalid(code)) = app::check_weights(&state.store, &weights).await
    {
        return index_page(&state, &ctx, None, None, Some(l.t(code))).await;
    }
    if form.get("action").map(String::as_str) == Some("save") {
        app::save_weights(
            &state.store,
            &caller,
            &weights,
            form.get("note").map(String::as_str),
        )
        .await?;
        return Ok(see_other("/reports/index"));
    }
    index_page(&state, &ctx, Some(&weights), None, None).await
}

/// Handles the POST /reports/index/import route
///
/// A CSV or XLSX file with a header row naming a `province` column and a `value` column.
pub async fn import(
    State(state): State<AppState>,
    ctx: Ctx,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    caller
        .principal
        .authorize(Action::Report(ReportAction::ConfigureIndex))?;
    let l = Loc(ctx.locale);
    let (mut bytes, mut indicator, mut period) = (vec![], String::new(), String::new());
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::BadRequest("form-invalid"))?
    {
        match field.name().unwrap_or_default() {
            "file" => {
                bytes = field
                    .bytes()
                    .await
                    .map_err(|_| AppError::PayloadTooLarge)?
                    .to_vec()
            }
            "indicator" => indicator = field.text().await.unwrap_or_default(),
            "period" => period = field.text().await.unwrap_or_default(),
            _ => {}
        }
    }
    let rows = match sheet::read_rows(&bytes) {
        Ok(r) => r,
        Err(code) => return index_page(&state, &ctx, None, None, Some(l.t(code))).await,
    };
    let Some(header_at) = rows.iter().position(|(_, cells)| {
        cells
            .iter()
            .any(|c| c.eq_ignore_ascii_case("province") || c == "استان")
    }) else {
        return index_page(
            &state,
            &ctx,
            None,
            None,
            Some(l.t("reports-upload-no-header")),
        )
        .await;
    };
    let header = &rows[header_at].1;
    let pc = header
        .iter()
        .position(|c| c.eq_ignore_ascii_case("province") || c == "استان");
    let vc = header
        .iter()
        .position(|c| c.eq_ignore_ascii_case("value") || c == "مقدار");
    let (Some(pc), Some(vc)) = (pc, vc) else {
        return index_page(
            &state,
            &ctx,
            None,
            None,
            Some(l.t("reports-upload-no-header")),
        )
        .await;
    };
    let import_rows: Vec<ImportRow> = rows[header_at + 1..]
        .iter()
        .map(|(n, cells)| ImportRow {
            row: *n,
            province: cells.get(pc).cloned().unwrap_or_default(),
            value: cells.get(vc).cloned().unwrap_or_default(),
        })
        .collect();
    match app::import_indicator(&state.store, &caller, &indicator, &period, &import_rows).await {
        Ok(report) => index_page(&state, &ctx, None, Some(report), None).await,
        Err(hamdeli_app::Error::Invalid(code)) => {
            index_page(&state, &ctx, None, None, Some(l.t(code))).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "reports/public_index.html")]
struct PublicPage {
    shell: Shell,
    l: Loc,
    indicators: Vec<Indicator>,
    rows: Vec<ScoreRow>,
    map: String,
}

/// Handles the GET /need-index route
///
/// Public: the ranking, each province's points per indicator and the method; no count of
/// people (the shares behind it use only provinces with at least 5 people in their base).
pub async fn public(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let names = Names::load(&state, l).await?;
    let (indicators, scores) = app::need_index(&state.store, None).await?;
    let title = l.t("reports-public-title");
    html(PublicPage {
        shell: Shell::new(&ctx, title.clone()),
        rows: score_rows(l, &names, &scores, None, false),
        map: score_map(l, &names, &scores, &title),
        indicators,
        l,
    })
}
