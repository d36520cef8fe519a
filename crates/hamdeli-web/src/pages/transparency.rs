//! The public transparency log: what came in and where it went, by area and need type — never
//! by person — with the head hash anyone can keep and check later. Allocations and deliveries
//! appear as daily aggregates (no cell under five); days closed since the last read are
//! appended before the page is read.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::transparency::{self, Start};
use hamdeli_domain::ledger::Entry;

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::html;
use crate::view::{Loc, Shell};

#[derive(Template)]
#[template(path = "transparency.html")]
struct Page {
    shell: Shell,
    l: Loc,
    entries: Vec<Row>,
    head_count: i64,
    head_hash: String,
    older: Option<i64>,
}

/// An entry as the page shows it: a daily aggregate by its day, anything else by its instant.
struct Row {
    e: Entry,
    day: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    before: Option<i64>,
}

const PAGE: i64 = 50;

/// Handles the GET /transparency route.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let log = transparency::read(&state.store, Start::Before(q.before), PAGE).await?;
    let (entries, head_count, head_hash) = (log.entries, log.head_count, log.head_hash);
    let older = entries
        .last()
        .map(|e| e.seq)
        .filter(|s| *s > 1 && entries.len() as i64 == PAGE);
    let l = Loc(ctx.locale);
    html(Page {
        shell: Shell::new(&ctx, l.t("transparency-title")),
        l,
        entries: entries
            .into_iter()
            .map(|e| {
                let day = matches!(e.kind.as_str(), "allocation" | "delivery")
                    .then(|| serde_json::from_str::<serde_json::Value>(&e.payload).ok())
                    .flatten()
                    .and_then(|p| p["day"].as_str().map(str::to_owned));
                Row { e, day }
            })
            .collect(),
        head_count,
        head_hash,
        older,
    })
}
