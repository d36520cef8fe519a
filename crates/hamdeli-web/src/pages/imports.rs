//! Importing an organisation's list from the browser: upload, a dry run showing the column
//! mapping, sample rows and every problem, then the commit and its per-row report.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::response::Response;

use hamdeli_domain::{Action, Principal, Role};
use hamdeli_ingest::{Column, ColumnMapping};
use hamdeli_registry::import::{self, Places};
use hamdeli_store::organisations::{self, Organisation};
use hamdeli_store::registry::{self, BatchCounts, BatchRow, NewList, NewSourceRecord, Problem};

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::account::bad;
use crate::pages::{html, see_other};
use crate::view::{Loc, Shell};

/// Organisations the principal may import for.
async fn importable(state: &AppState, p: &Principal) -> Result<Vec<Organisation>, AppError> {
    let all = organisations::list(&state.store, &p.place_filter()).await?;
    Ok(all
        .into_iter()
        .filter(|o| p.allows(&Action::ImportList(o.id)))
        .collect())
}

fn require_importer(p: &Principal) -> Result<(), AppError> {
    match p.role {
        Role::NationalAdmin | Role::PartnerOrg => Ok(()),
        _ => Err(AppError::Forbidden),
    }
}

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

/// Rows each batch passed over (totals, footers, repeated headers): problems of severity
/// `skipped`, outside the stored counts (which are accepted + rejected).
async fn skipped_counts(
    state: &AppState,
    batches: &[i64],
) -> Result<std::collections::HashMap<i64, i64>, AppError> {
    if batches.is_empty() {
        return Ok(Default::default());
    }
    let ids: Vec<String> = batches.iter().map(i64::to_string).collect();
    // The ids are integers from the store: no user text in the statement.
    let sql = format!(
        "SELECT batch_id, COUNT(*) FROM import_problems WHERE severity = '{}' AND batch_id IN ({}) GROUP BY batch_id",
        import::SKIPPED,
        ids.join(",")
    );
    let rows: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(state.store.pool())
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(rows.into_iter().collect())
}

async fn imports_page(
    state: &AppState,
    ctx: &Ctx,
    error: Option<String>,
) -> Result<Response, AppError> {
    let p = ctx.require()?;
    require_importer(p)?;
    let organisations = importable(state, p).await?;
    let only = if p.role == Role::NationalAdmin {
        None
    } else {
        p.scope.organisation()
    };
    let batches = registry::recent_batches(&state.store, only, 50).await?;
    let ids: Vec<i64> = batches.iter().map(|b| b.batch.id).collect();
    let skipped = skipped_counts(state, &ids).await?;
    let batches = batches
        .into_iter()
        .map(|mut b| {
            let skipped = skipped.get(&b.batch.id).copied().unwrap_or(0);
            b.batch.rows_in += skipped;
            ListedBatch { b, skipped }
        })
        .collect();
    let l = Loc(ctx.locale);
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
    let p = ctx.require()?.clone();
    require_importer(&p)?;
    let form = read_upload(multipart).await?;
    let l = Loc(ctx.locale);
    let org = form
        .organisation
        .ok_or(AppError::BadRequest("scope-organisation-required"))?;
    p.authorize(Action::ImportList(org))?;
    if form.bytes.is_empty() {
        return bad(imports_page(&state, &ctx, Some(l.t("import-file-required"))).await);
    }
    if form.list.trim().is_empty() {
        return bad(imports_page(&state, &ctx, Some(l.t("list-name-required"))).await);
    }
    let bytes = form.bytes;
    let read = tokio::task::spawn_blocking(move || {
        hamdeli_ingest::from_bytes(bytes).and_then(|s| hamdeli_ingest::read_source(s, |_| {}))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let read = match read {
        Ok(r) => r,
        Err(e) => {
            let message = l.t(&format!(
                "import-error-{}",
                e.code().replace(['.', '_'], "-")
            ));
            return bad(imports_page(&state, &ctx, Some(message)).await);
        }
    };
    let format = read.format.name().to_owned();
    let mapping = mapping_rows(l, &read.mapping);
    let places = Places::load(&state.store)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let prepared = import::prepare(read, &places);
    if !form.commit {
        let mut counts = prepared.counts;
        counts.rows_in = prepared.rows_in();
        return html(PreviewPage {
            shell: Shell::new(&ctx, l.t("import-preview-title")),
            l,
            file_name: form.file_name,
            format,
            mapping,
            samples: prepared.records.iter().take(10).cloned().collect(),
            counts,
            skipped: prepared.skipped(),
            notices: prepared.notices().map(str::to_owned).collect(),
            problems: prepared.problems.into_iter().take(500).collect(),
        });
    }
    let mut tx = state.store.begin().await?;
    let list = match registry::ensure_list(
        &mut tx,
        NewList {
            organisation_id: org,
            name: form.list.clone(),
            list_kind: form.kind.clone(),
            province_code: None,
            county_code: None,
            created_by: p.user_id,
        },
    )
    .await
    {
        Ok(list) => list,
        Err(hamdeli_store::StoreError::Invalid(id)) => {
            drop(tx);
            return bad(imports_page(&state, &ctx, Some(l.t(id))).await);
        }
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    let batch = import::begin(&state.store, list.id, &form.file_name, &format, p.user_id)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let progress = std::sync::Arc::new(import::Progress::default());
    state
        .imports
        .lock()
        .map_err(|_| AppError::Internal("imports lock".into()))?
        .insert(batch, progress.clone());
    let job_state = state.clone();
    let principal = p.clone();
    let client_addr = ctx.client_addr.clone();
    let list_id = list.id;
    // The import goes on in the background; the batch page shows its progress.
    tokio::spawn(async move {
        let store = &job_state.store;
        let result = import::run(
            store,
            batch,
            list_id,
            prepared,
            &progress,
            Some(&hamdeli_link::LinkOptions::default()),
        )
        .await;
        let detail = match &result {
            Ok(done) => serde_json::json!({
                "organisation": org, "list": list_id, "rows_in": done.rows_in(),
                "accepted": done.counts.rows_accepted, "rejected": done.counts.rows_rejected,
                "skipped": done.skipped(),
                "inserted": done.written.inserted, "updated": done.written.updated,
                "link": done.link,
            }),
            Err(e) => {
                serde_json::json!({"organisation": org, "list": list_id, "error": e.to_string()})
            }
        };
        if let Err(e) = &result {
            tracing::error!(batch, error = %e, "import failed");
        }
        let actor = hamdeli_store::audit::Actor {
            principal: Some(&principal),
            client_addr: &client_addr,
        };
        if let Ok(mut conn) = store.pool().acquire().await {
            let event = hamdeli_store::audit::Event {
                action: if result.is_ok() {
                    "import.commit"
                } else {
                    "import.failed"
                },
                target_kind: "import_batch",
                target_id: batch.to_string(),
                detail,
            };
            if let Err(e) = hamdeli_store::audit::record(&mut conn, &actor, event).await {
                tracing::error!(batch, error = %e, "import audit failed");
            }
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

fn job_view(state: &AppState, batch: i64) -> Option<JobView> {
    let jobs = state.imports.lock().ok()?;
    let progress = jobs.get(&batch)?;
    let (stage, done, total) = progress.snapshot();
    Some(JobView {
        batch,
        stage: stage.code(),
        percent: progress.percent(),
        done,
        total,
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
    let p = ctx.require()?;
    require_importer(p)?;
    let row = registry::batch_with_org(&state.store, id)
        .await?
        .ok_or(AppError::NotFound)?;
    p.authorize(Action::ImportList(row.organisation_id))?;
    let job = job_view(&state, id);
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
    let p = ctx.require()?;
    require_importer(p)?;
    let row = registry::batch_with_org(&state.store, id)
        .await?
        .ok_or(AppError::NotFound)?;
    p.authorize(Action::ImportList(row.organisation_id))?;
    let l = Loc(ctx.locale);
    let organisation = organisations::by_id(&state.store, row.organisation_id)
        .await?
        .map(|o| l.name(&o.name_fa, &o.name_en).to_owned())
        .unwrap_or_default();
    let problems = registry::problems_of(&state.store, id, 1000).await?;
    let skipped = skipped_counts(&state, &[id])
        .await?
        .get(&id)
        .copied()
        .unwrap_or(0);
    let mut row = row;
    row.batch.rows_in += skipped;
    html(BatchPage {
        shell: Shell::new(&ctx, l.t("import-batch-title")),
        l,
        failure: failure_message(&row),
        skipped,
        row,
        organisation,
        problems,
        job: job_view(&state, id),
    })
}
