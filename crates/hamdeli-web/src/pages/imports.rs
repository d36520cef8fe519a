//! Importing an organisation's list from the browser: upload, a dry run showing the column
//! mapping, sample rows and every problem, then the commit and its per-row report.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::response::Response;

use hamdeli_app::imports;
use hamdeli_ingest::{Column, ColumnMapping};
use hamdeli_registry::import;
use hamdeli_store::geo::County;
use hamdeli_store::organisations::Organisation;
use hamdeli_store::registry::{self, BatchCounts, BatchRow, NewSourceRecord, Problem};

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::account::bad;
use crate::pages::{html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

#[derive(Template)]
#[template(path = "imports.html")]
struct ImportsPage {
    shell: Shell,
    l: Loc,
    organisations: Vec<Organisation>,
    batches: Vec<ListedBatch>,
    error: Option<String>,
}

/// A batch in the list, its rows in counting the rows skipped.
struct ListedBatch {
    b: BatchRow,
    skipped: i64,
}

/// The survey upload form of the offices of a place (a provincial officer, a county expert):
/// a `survey` list of the province's office into a county of the scope.
#[derive(Template)]
#[template(path = "import_survey.html")]
struct SurveyImportsPage {
    shell: Shell,
    l: Loc,
    counties: Vec<County>,
    batches: Vec<ListedBatch>,
    error: Option<String>,
}

async fn imports_page(
    state: &AppState,
    ctx: &Ctx,
    error: Option<String>,
) -> Result<Response, AppError> {
    let caller = caller(ctx)?;
    let batches = imports::readable_batches(&state.store, &caller, 50)
        .await?
        .into_iter()
        .map(|x| ListedBatch {
            b: x.row,
            skipped: x.skipped,
        })
        .collect();
    let l = Loc(ctx.locale);
    let p = caller.principal;
    // The offices of a place import surveys of their counties; organisations (and the national
    // admin, for any organisation's list) the organisation form.
    if p.scope.organisation().is_none()
        && p.role != hamdeli_domain::Role::NationalAdmin
        && imports::may_import_surveys(p)
    {
        let counties = imports::survey_counties(&state.store, &caller).await?;
        return html(SurveyImportsPage {
            shell: Shell::new(ctx, l.t("imports-title")),
            l,
            counties,
            batches,
            error,
        });
    }
    let organisations = imports::importable_organisations(&state.store, &caller).await?;
    html(ImportsPage {
        shell: Shell::new(ctx, l.t("imports-title")),
        l,
        organisations,
        batches,
        error,
    })
}

pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    imports_page(&state, &ctx, None).await
}

pub struct MappingRow {
    pub header: String,
    pub target: String,
}

#[derive(Template)]
#[template(path = "import_preview.html")]
struct PreviewPage {
    shell: Shell,
    l: Loc,
    file_name: String,
    format: String,
    mapping: Vec<MappingRow>,
    samples: Vec<NewSourceRecord>,
    /// Rows in counts the rows skipped: accepted + rejected + skipped.
    counts: BatchCounts,
    skipped: i64,
    /// Notices about the whole file (codes shown as problems are).
    notices: Vec<String>,
    problems: Vec<Problem>,
}

fn mapping_rows(l: Loc, m: &ColumnMapping) -> Vec<MappingRow> {
    m.headers
        .iter()
        .zip(&m.columns)
        .map(|(h, c)| MappingRow {
            header: h.clone(),
            target: match c {
                Column::Field(f) => {
                    l.t(&format!("import-field-{}", f.canonical().replace('_', "-")))
                }
                Column::Extra(_) | Column::Duplicate(_) => l.t("import-extra-column"),
            },
        })
        .collect()
}

#[derive(Default)]
struct UploadForm {
    organisation: Option<i64>,
    /// A survey's county (the survey form): the list is the office's, the kind `survey`.
    county: Option<String>,
    list: String,
    kind: String,
    commit: bool,
    file_name: String,
    bytes: Vec<u8>,
}

async fn read_upload(mut multipart: Multipart) -> Result<UploadForm, AppError> {
    let mut form = UploadForm {
        kind: "support".into(),
        ..Default::default()
    };
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::BadRequest("form-invalid"))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            form.file_name = field.file_name().unwrap_or("list").to_owned();
            form.bytes = field
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
            "organisation" => form.organisation = text.trim().parse().ok(),
            "county" if !text.trim().is_empty() => form.county = Some(text.trim().to_owned()),
            "list" => form.list = text,
            "kind" => form.kind = text,
            "mode" => form.commit = text == "commit",
            _ => {}
        }
    }
    Ok(form)
}

pub async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    multipart: Multipart,
) -> Result<Response, AppError> {
    let caller = caller(&ctx)?;
    let form = read_upload(multipart).await?;
    let l = Loc(ctx.locale);
    if form.county.is_none() && form.organisation.is_none() {
        return Err(AppError::BadRequest("scope-organisation-required"));
    }
    if form.bytes.is_empty() {
        return bad(imports_page(&state, &ctx, Some(l.t("import-file-required"))).await);
    }
    if form.list.trim().is_empty() {
        return bad(imports_page(&state, &ctx, Some(l.t("list-name-required"))).await);
    }
    let bytes = form.bytes;
    let read = move || {
        hamdeli_ingest::from_bytes(bytes).and_then(|s| hamdeli_ingest::read_source(s, |_| {}))
    };
    let prepared = match &form.county {
        Some(county) => imports::preview_survey(&state.store, &caller, county, read).await,
        None => {
            let org = form.organisation.unwrap_or_default();
            imports::preview(&state.store, &caller, org, read).await
        }
    };
    let prepared = match prepared {
        Err(hamdeli_app::Error::Invalid(id)) => {
            return bad(imports_page(&state, &ctx, Some(l.t(id))).await);
        }
        other => other?,
    };
    let prepared = match prepared {
        Ok(prepared) => prepared,
        Err(e) => {
            let message = l.t(&format!(
                "import-error-{}",
                e.code().replace(['.', '_'], "-")
            ));
            return bad(imports_page(&state, &ctx, Some(message)).await);
        }
    };
    if !form.commit {
        let outcome = &prepared.outcome;
        let mut counts = outcome.counts;
        counts.rows_in = outcome.rows_in();
        return html(PreviewPage {
            shell: Shell::new(&ctx, l.t("import-preview-title")),
            l,
            file_name: form.file_name,
            format: prepared.format.name().to_owned(),
            mapping: mapping_rows(l, &prepared.mapping),
            samples: outcome.records.iter().take(10).cloned().collect(),
            counts,
            skipped: outcome.skipped(),
            notices: outcome.notices().map(str::to_owned).collect(),
            problems: outcome.problems.iter().take(500).cloned().collect(),
        });
    }
    let started = match imports::start(
        &state.store,
        &caller,
        prepared,
        &form.list,
        &form.kind,
        &form.file_name,
    )
    .await
    {
        Ok(started) => started,
        Err(hamdeli_app::Error::Invalid(id)) => {
            return bad(imports_page(&state, &ctx, Some(l.t(id))).await);
        }
        Err(e) => return Err(e.into()),
    };
    let batch = started.batch_id();
    let progress = std::sync::Arc::new(import::Progress::default());
    state
        .imports
        .lock()
        .map_err(|_| AppError::Internal("imports lock".into()))?
        .insert(batch, progress.clone());
    let job_state = state.clone();
    // The import goes on in the background; the batch page shows its progress. The batch
    // writes its own audit entry (import.commit or import.failed) as the caller.
    tokio::spawn(async move {
        if let Err(e) = started.run(&progress, true).await {
            tracing::error!(batch, error = %e, "import failed");
        }
        if let Ok(mut jobs) = job_state.imports.lock() {
            jobs.remove(&batch);
        }
    });
    Ok(see_other(&format!("/registry/imports/{batch}")))
}

#[derive(Template)]
#[template(path = "import_batch.html")]
struct BatchPage {
    shell: Shell,
    l: Loc,
    /// Its rows in count the rows skipped.
    row: BatchRow,
    skipped: i64,
    organisation: String,
    problems: Vec<Problem>,
    job: Option<JobView>,
    /// Why a failed batch failed, as a catalog message id.
    failure: Option<&'static str>,
}

/// The message for a failed batch's stored error (the store's codes, or the restart marker).
fn failure_message(row: &BatchRow) -> Option<&'static str> {
    if row.batch.status != registry::BatchStatus::Failed {
        return None;
    }
    let error = row.batch.error.as_deref().unwrap_or("");
    Some(if error.contains("import-list-changed") {
        "import-failure-list-changed"
    } else if error.contains("import-unknown-reference") {
        "import-failure-unknown-reference"
    } else if error.contains("interrupted") {
        "import-failure-interrupted"
    } else {
        "import-failure-other"
    })
}

/// A running import as the progress bar shows it.
struct JobView {
    batch: i64,
    stage: &'static str,
    percent: u64,
    done: u64,
    total: u64,
}

/// The batch's import job while it runs: this process's, with its stage and counts; or one
/// another process runs (a command-line import, another server), known from the batch alone —
/// running, or committed with its linking and summaries not over (no `finished_at` yet).
fn job_view(state: &AppState, batch: &registry::Batch) -> Option<JobView> {
    let own = state.imports.lock().ok().and_then(|jobs| {
        let progress = jobs.get(&batch.id)?;
        let (stage, done, total) = progress.snapshot();
        Some(JobView {
            batch: batch.id,
            stage: stage.code(),
            percent: progress.percent(),
            done,
            total,
        })
    });
    if own.is_some() || batch.finished_at.is_some() || batch.status == registry::BatchStatus::Failed
    {
        return own;
    }
    let stage = match batch.status {
        registry::BatchStatus::Running => "writing",
        _ => "linking",
    };
    Some(JobView {
        batch: batch.id,
        stage,
        percent: 0,
        done: 0,
        total: 0,
    })
}

#[derive(Template)]
#[template(path = "_import_progress.html")]
struct ProgressFragment {
    l: Loc,
    job: Option<JobView>,
}

/// The progress bar alone, polled by htmx while the import runs; when it is over, the page
/// reloads to show the report.
pub async fn progress(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let listed = imports::batch(&state.store, &caller(&ctx)?, id).await?;
    let job = job_view(&state, &listed.row.batch);
    let finished = job.is_none();
    let mut response = html(ProgressFragment {
        l: Loc(ctx.locale),
        job,
    })?;
    if finished {
        response
            .headers_mut()
            .insert("HX-Refresh", axum::http::HeaderValue::from_static("true"));
    }
    Ok(response)
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let report = imports::read_batch(&state.store, &caller(&ctx)?, id, 1000).await?;
    let l = Loc(ctx.locale);
    let row = report.batch.row;
    let job = job_view(&state, &row.batch);
    let organisation = hamdeli_app::organisations::named(&state.store, row.organisation_id)
        .await?
        .map(|o| l.name(&o.name_fa, &o.name_en).to_owned())
        .unwrap_or_default();
    html(BatchPage {
        shell: Shell::new(&ctx, l.t("import-batch-title")),
        l,
        failure: failure_message(&row),
        skipped: report.batch.skipped,
        row,
        organisation,
        problems: report.problems,
        job,
    })
}
