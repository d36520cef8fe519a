//! Importing an organisation's list: the dry run (column mapping, sample rows, every problem,
//! nothing written), the commit (the batch, its records and their linkage, with its
//! `import.commit` audit entry in the batch's own transaction), reading a batch's report and
//! listing the batches in scope. The web page (a background job with progress), the JSON API
//! and `hamdeli import` all come through here.
//!
//! Who may: [`Action::ImportList`] of the organisation — its partner organisation and the
//! national admin (the command line acts as the national system principal). A batch of another
//! organisation looks the same as no batch.
//!
//! The batch's audit entries are the batch's own: the store handle the import writes with acts
//! for the caller ([`BatchActor::of_principal`]), so the commit writes `import.commit` and a
//! failure (or an interrupted process, found by the sweep) writes `import.failed` in the same
//! transaction as the change.

use hamdeli_domain::{Action, Principal, Role};
use hamdeli_ingest::{ChunkReader, ColumnMapping, FileFormat, IngestError, ReadReport};
use hamdeli_registry::import::{self, Outcome, Places, Progress};
use hamdeli_store::organisations::{self, Organisation};
use hamdeli_store::registry::{self, BatchActor, BatchRow, NewList, Problem, SourceList};
use hamdeli_store::{Store, StoreError};

use crate::{Caller, Error, Result, audit_read};

/// The organisations whose lists the principal may import, or `None` for every one (the
/// national admin). Refused for anyone who imports for no organisation.
fn importer_scope(p: &Principal) -> Result<Option<i64>> {
    match p.scope.organisation() {
        Some(org) => {
            p.authorize(Action::ImportList(org))?;
            Ok(Some(org))
        }
        None if p.role == Role::NationalAdmin => Ok(None),
        None => Err(Error::Denied),
    }
}

/// May the principal import for this organisation (which exists)?
async fn authorize_for(store: &Store, p: &Principal, organisation: i64) -> Result<()> {
    p.authorize(Action::ImportList(organisation))?;
    // A deactivated organisation imports nothing (the database refuses it too; this says why).
    crate::organisations::require_active(store, organisation).await
}

/// An import's error as the use case returns it: the store's refusals as they are (a list
/// changed meanwhile, an unknown place …), anything else logged and reported as the failed
/// write it is (the batch, if there is one, is marked failed with the reason).
fn failed(e: anyhow::Error) -> Error {
    match e.downcast::<StoreError>() {
        Ok(store) => store.into(),
        Err(other) => {
            tracing::error!(error = %other, "import failed");
            Error::Conflict("import-failure-other")
        }
    }
}

/// The organisations the principal may import for (the upload form's choices).
pub async fn importable_organisations(
    store: &Store,
    caller: &Caller<'_>,
) -> Result<Vec<Organisation>> {
    let p = caller.principal;
    importer_scope(p)?;
    Ok(organisations::list(store, &p.place_filter())
        .await?
        .into_iter()
        .filter(|o| p.allows(&Action::ImportList(o.id)))
        .collect())
}

/// A list read, typed and checked for an organisation: what the dry run shows and what the
/// commit writes.
pub struct Prepared {
    organisation: i64,
    pub format: FileFormat,
    pub mapping: ColumnMapping,
    /// Every row: the records to write, the per-row problems and the counts (nothing written).
    pub outcome: Outcome,
}

impl Prepared {
    pub fn organisation(&self) -> i64 {
        self.organisation
    }
}

/// The dry run: authorises the import for `organisation`, reads the file with `read` (on a
/// blocking thread: reading a large sheet takes seconds), resolves places and reports every
/// row; nothing is written. A file that cannot be read is the inner error, for the caller to
/// word (the web in the user's language, the command line with its detail).
pub async fn preview<F>(
    store: &Store,
    caller: &Caller<'_>,
    organisation: i64,
    read: F,
) -> Result<std::result::Result<Prepared, IngestError>>
where
    F: FnOnce() -> std::result::Result<ReadReport, IngestError> + Send + 'static,
{
    authorize_for(store, caller.principal, organisation).await?;
    let report = match tokio::task::spawn_blocking(read).await {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => return Ok(Err(e)),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => return Err(failed(anyhow::anyhow!("reading stopped: {e}"))),
    };
    let places = Places::load(store).await.map_err(failed)?;
    let format = report.format;
    let mapping = report.mapping.clone();
    let outcome = import::prepare(report, &places);
    Ok(Ok(Prepared {
        organisation,
        format,
        mapping,
        outcome,
    }))
}

/// The store handle a caller's batches are written with: their commit and failure write their
/// audit entry in their own transaction, as the caller.
fn acting_store(store: &Store, caller: &Caller<'_>) -> Store {
    store.clone().acting_as(BatchActor::of_principal(
        caller.principal,
        caller.client_addr,
    ))
}

/// The organisation's list of this name and kind (created when new), inside its own
/// transaction.
async fn ensure_list(
    store: &Store,
    caller: &Caller<'_>,
    organisation: i64,
    list: &str,
    kind: &str,
) -> Result<SourceList> {
    let mut tx = store.begin().await?;
    let list = registry::ensure_list(
        &mut tx,
        NewList {
            organisation_id: organisation,
            name: list.to_owned(),
            list_kind: kind.to_owned(),
            province_code: None,
            county_code: None,
            created_by: caller.principal.user_id,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(list)
}

/// An import whose batch is open (visible as running) and not yet written; [`Started::run`]
/// writes it, possibly in the background.
pub struct Started {
    store: Store,
    batch: i64,
    list: SourceList,
    prepared: Prepared,
}

impl Started {
    pub fn batch_id(&self) -> i64 {
        self.batch
    }

    pub fn list(&self) -> &SourceList {
        &self.list
    }

    /// Links the rows in memory (unless `link` is false: bulk loads, linked later by `hamdeli
    /// relink`), then writes the batch with its records, their persons and its `import.commit`
    /// audit entry in one transaction. On failure the batch is marked failed, with its
    /// `import.failed` entry, and nothing is written.
    pub async fn run(self, progress: &Progress, link: bool) -> Result<Outcome> {
        let options = hamdeli_link::LinkOptions::default();
        import::run(
            &self.store,
            self.batch,
            self.list.id,
            self.prepared.outcome,
            progress,
            link.then_some(&options),
        )
        .await
        .map_err(failed)
    }
}

/// Opens the batch of a prepared list: the list `list` of kind `kind` of the prepared
/// organisation (created when new), authorised again for the caller.
pub async fn start(
    store: &Store,
    caller: &Caller<'_>,
    prepared: Prepared,
    list: &str,
    kind: &str,
    file_name: &str,
) -> Result<Started> {
    let organisation = prepared.organisation;
    authorize_for(store, caller.principal, organisation).await?;
    let list = ensure_list(store, caller, organisation, list, kind).await?;
    let acting = acting_store(store, caller);
    let batch = import::begin(
        &acting,
        list.id,
        file_name,
        prepared.format.name(),
        caller.principal.user_id,
    )
    .await
    .map_err(failed)?;
    Ok(Started {
        store: acting,
        batch,
        list,
        prepared,
    })
}

/// The commit at once: [`start`], then [`Started::run`].
#[allow(clippy::too_many_arguments)]
pub async fn commit(
    store: &Store,
    caller: &Caller<'_>,
    prepared: Prepared,
    list: &str,
    kind: &str,
    file_name: &str,
    progress: &Progress,
    link: bool,
) -> Result<Outcome> {
    start(store, caller, prepared, list, kind, file_name)
        .await?
        .run(progress, link)
        .await
}

/// A bulk load (`hamdeli import --defer-link`): the file is written as one new batch while it
/// is read, a chunk at a time, without linking (`hamdeli relink` makes the persons); the batch
/// audits its commit or failure as the caller, in its own transaction.
#[allow(clippy::too_many_arguments)]
pub async fn commit_streamed(
    store: &Store,
    caller: &Caller<'_>,
    organisation: i64,
    list: &str,
    kind: &str,
    file_name: &str,
    reader: ChunkReader,
    progress: &Progress,
) -> Result<Outcome> {
    authorize_for(store, caller.principal, organisation).await?;
    let places = Places::load(store).await.map_err(failed)?;
    let list = ensure_list(store, caller, organisation, list, kind).await?;
    let acting = acting_store(store, caller);
    import::stream_unlinked(
        &acting,
        list.id,
        file_name,
        caller.principal.user_id,
        reader,
        places,
        progress,
    )
    .await
    .map_err(failed)
}

/// Rows each batch passed over (totals, footers, repeated headers): problems of severity
/// `skipped`, outside the stored counts (which are accepted + rejected).
async fn skipped_counts(
    store: &Store,
    batches: &[i64],
) -> Result<std::collections::HashMap<i64, i64>> {
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
        .fetch_all(store.pool())
        .await?;
    Ok(rows.into_iter().collect())
}

/// A batch as reports show it: its rows in count the rows skipped (rows in = accepted +
/// rejected + skipped).
#[derive(Debug, Clone)]
pub struct ListedBatch {
    pub row: BatchRow,
    pub skipped: i64,
}

async fn listed(store: &Store, rows: Vec<BatchRow>) -> Result<Vec<ListedBatch>> {
    let ids: Vec<i64> = rows.iter().map(|b| b.batch.id).collect();
    let skipped = skipped_counts(store, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|mut row| {
            let skipped = skipped.get(&row.batch.id).copied().unwrap_or(0);
            row.batch.rows_in += skipped;
            ListedBatch { row, skipped }
        })
        .collect())
}

/// The newest batches of the organisations the principal imports for, newest first.
pub async fn batches(store: &Store, caller: &Caller<'_>, limit: i64) -> Result<Vec<ListedBatch>> {
    let only = importer_scope(caller.principal)?;
    let rows = registry::recent_batches(store, only, limit).await?;
    listed(store, rows).await
}

/// The batch if the principal imports for its organisation (another organisation's batch is
/// refused). Not audited: its counts only (the progress bar polls it).
pub async fn batch(store: &Store, caller: &Caller<'_>, id: i64) -> Result<ListedBatch> {
    let p = caller.principal;
    importer_scope(p)?;
    let row = registry::batch_with_org(store, id)
        .await?
        .ok_or(Error::NotFound)?;
    p.authorize(Action::ImportList(row.organisation_id))?;
    let mut out = listed(store, vec![row]).await?;
    out.pop().ok_or(Error::NotFound)
}

/// A batch's report: the batch (rows in counting the skipped rows) and its per-row problems.
#[derive(Debug, Clone)]
pub struct BatchReport {
    pub batch: ListedBatch,
    /// The first `limit` problems, in row order.
    pub problems: Vec<Problem>,
}

/// Reads a batch's report, with its per-row problems (at most `limit`); audited (the
/// problems quote the rows' values).
pub async fn read_batch(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
    limit: i64,
) -> Result<BatchReport> {
    let batch = batch(store, caller, id).await?;
    let problems = registry::problems_of(store, id, limit).await?;
    audit_read(
        store,
        caller,
        "import.read",
        "import_batch",
        id.to_string(),
        serde_json::json!({
            "organisation": batch.row.organisation_id, "problems": problems.len()
        }),
    )
    .await?;
    Ok(BatchReport { batch, problems })
}
