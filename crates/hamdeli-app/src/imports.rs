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
//! A survey of a county ([`preview_survey`]): [`Action::ImportSurvey`] of the county — the
//! offices of the place (the national admin, the provincial officer of its province, the county
//! expert of the county). The list is a `survey` list of the province's office organisation
//! (the one that keeps the manual-entry lists, [`entry::office_of`]) with the county set; a row
//! placed in another county or province is rejected (`survey.other_county`), a row with no
//! place (or only the province) is filed under the county. Such a batch is read by its
//! uploader and the offices of its county.
//!
//! The batch's audit entries are the batch's own: the store handle the import writes with acts
//! for the caller ([`BatchActor::of_principal`]), so the commit writes `import.commit` and a
//! failure (or an interrupted process, found by the sweep) writes `import.failed` in the same
//! transaction as the change.

use hamdeli_domain::{Action, Place, PlaceFilter, Principal, Role};
use hamdeli_ingest::{ChunkReader, ColumnMapping, FileFormat, IngestError, ReadReport};
use hamdeli_registry::import::{self, Outcome, Places, Progress};
use hamdeli_store::organisations::{self, Organisation};
use hamdeli_store::registry::{
    self, BatchActor, BatchRow, NewList, Problem, SourceList, SurveyPlace,
};
use hamdeli_store::{Store, StoreError, entry, geo};

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
    /// The county a survey is imported into ([`preview_survey`]); `None` for an organisation's
    /// list.
    survey: Option<Place>,
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
    let (format, mapping, outcome) = match read_prepared(store, read).await? {
        Ok(x) => x,
        Err(e) => return Ok(Err(e)),
    };
    Ok(Ok(Prepared {
        organisation,
        survey: None,
        format,
        mapping,
        outcome,
    }))
}

/// Reads a file on a blocking thread and prepares its rows (nothing written).
async fn read_prepared<F>(
    store: &Store,
    read: F,
) -> Result<std::result::Result<(FileFormat, ColumnMapping, Outcome), IngestError>>
where
    F: FnOnce() -> std::result::Result<ReadReport, IngestError> + Send + 'static,
{
    let report = match tokio::task::spawn_blocking(read).await {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => return Ok(Err(e)),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => return Err(failed(anyhow::anyhow!("reading stopped: {e}"))),
    };
    let places = Places::load(store).await.map_err(failed)?;
    let format = report.format;
    let mapping = report.mapping.clone();
    Ok(Ok((format, mapping, import::prepare(report, &places))))
}

/// Whether the principal imports surveys anywhere (the offices of a place: the survey form).
pub fn may_import_surveys(p: &Principal) -> bool {
    matches!(
        p.role,
        Role::NationalAdmin | Role::ProvincialOfficer | Role::CountyExpert
    )
}

/// The county (with its province) a survey goes into, if the principal may import surveys
/// into it: an unknown county is refused as invalid, one outside the scope as denied.
async fn survey_place(store: &Store, p: &Principal, county: &str) -> Result<Place> {
    if !may_import_surveys(p) {
        return Err(Error::Denied);
    }
    let c = geo::county(store, county.trim())
        .await?
        .ok_or(Error::Invalid("problem-entry-county-required"))?;
    let place = Place::county(c.province_code, c.code);
    p.authorize(Action::ImportSurvey(&place))?;
    Ok(place)
}

/// The office organisation that owns the surveys of the place's province (active).
async fn survey_office(store: &Store, place: &Place) -> Result<i64> {
    let mut conn = store.pool().acquire().await?;
    let office = entry::office_of(&mut conn, &place.province)
        .await?
        .ok_or(Error::Conflict("entry-no-office"))?;
    drop(conn);
    crate::organisations::require_active(store, office).await?;
    Ok(office)
}

/// The counties the principal may import surveys into (the survey form's choices).
pub async fn survey_counties(store: &Store, caller: &Caller<'_>) -> Result<Vec<geo::County>> {
    let p = caller.principal;
    if !may_import_surveys(p) {
        return Err(Error::Denied);
    }
    Ok(geo::all_counties(store)
        .await?
        .into_iter()
        .filter(|c| {
            p.allows(&Action::ImportSurvey(&Place::county(
                c.province_code.clone(),
                c.code.clone(),
            )))
        })
        .collect())
}

/// The problem code of a survey row placed outside the survey's county.
pub const OTHER_COUNTY: &str = "survey.other_county";

/// Keeps a survey's rows to its county: a row placed in another province or county is
/// rejected ([`OTHER_COUNTY`], its place quoted), a row with no county is filed under it.
fn confine_to(outcome: &mut Outcome, place: &Place) {
    let county = place.county.as_deref().unwrap_or_default();
    let mut kept = Vec::with_capacity(outcome.records.len());
    let mut rejected = Vec::new();
    for mut rec in std::mem::take(&mut outcome.records) {
        let other_province = rec
            .province_code
            .as_deref()
            .is_some_and(|p| p != place.province);
        let other_county = rec.county_code.as_deref().is_some_and(|c| c != county);
        if other_province || other_county {
            let detail = [rec.province_raw.as_deref(), rec.county_raw.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" / ");
            rejected.push((rec.row_number, detail));
            continue;
        }
        rec.province_code = Some(place.province.clone());
        rec.county_code = Some(county.to_owned());
        kept.push(rec);
    }
    outcome.records = kept;
    if rejected.is_empty() {
        return;
    }
    let rows: std::collections::HashSet<i64> = rejected.iter().map(|(r, _)| *r).collect();
    // The rejected rows' warnings no longer count: the row is refused.
    let warned: std::collections::HashSet<i64> = outcome
        .problems
        .iter()
        .filter(|x| x.severity == "warning" && rows.contains(&x.row_number))
        .map(|x| x.row_number)
        .collect();
    outcome
        .problems
        .retain(|x| !(x.severity == "warning" && rows.contains(&x.row_number)));
    let n = rejected.len() as i64;
    outcome.counts.rows_accepted -= n;
    outcome.counts.rows_rejected += n;
    outcome.counts.rows_with_warnings -= warned.len() as i64;
    for (row_number, detail) in rejected {
        outcome.problems.push(Problem {
            row_number,
            severity: "rejected".into(),
            code: OTHER_COUNTY.into(),
            detail,
        });
    }
    outcome.problems.sort_by_key(|x| x.row_number);
}

/// The dry run of a survey of a county: authorises [`Action::ImportSurvey`] of the county,
/// finds the province's office (the survey's owner), reads the file and keeps its rows to the
/// county (see the module's note); nothing is written.
pub async fn preview_survey<F>(
    store: &Store,
    caller: &Caller<'_>,
    county: &str,
    read: F,
) -> Result<std::result::Result<Prepared, IngestError>>
where
    F: FnOnce() -> std::result::Result<ReadReport, IngestError> + Send + 'static,
{
    let place = survey_place(store, caller.principal, county).await?;
    let office = survey_office(store, &place).await?;
    let (format, mapping, mut outcome) = match read_prepared(store, read).await? {
        Ok(x) => x,
        Err(e) => return Ok(Err(e)),
    };
    confine_to(&mut outcome, &place);
    Ok(Ok(Prepared {
        organisation: office,
        survey: Some(place),
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
    place: Option<&Place>,
) -> Result<SourceList> {
    let mut tx = store.begin().await?;
    let list = registry::ensure_list(
        &mut tx,
        NewList {
            organisation_id: organisation,
            name: list.to_owned(),
            list_kind: kind.to_owned(),
            province_code: place.map(|p| p.province.clone()),
            county_code: place.and_then(|p| p.county.clone()),
            created_by: caller.principal.user_id,
        },
    )
    .await?;
    // A survey goes into its county's survey list only (the name says the county, so another
    // county's list of the same name is another list; a list of another kind is refused).
    if let Some(place) = place
        && (list.list_kind != SURVEY || list.county_code != place.county)
    {
        return Err(Error::Conflict("list-kind-invalid"));
    }
    tx.commit().await?;
    Ok(list)
}

/// The kind of a county's survey list.
pub const SURVEY: &str = "survey";

/// A survey list's name: the name given, with the county's code (so each county's survey of
/// the same name is its own list of the office).
fn survey_list_name(list: &str, place: &Place) -> String {
    let list = list.trim();
    let county = place.county.as_deref().unwrap_or_default();
    let suffix = format!("({county})");
    if list.ends_with(&suffix) {
        list.to_owned()
    } else {
        format!("{list} {suffix}")
    }
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
    let list = match &prepared.survey {
        Some(place) => {
            // Authorised again: the survey's county and its office.
            caller.principal.authorize(Action::ImportSurvey(place))?;
            crate::organisations::require_active(store, organisation).await?;
            let name = survey_list_name(list, place);
            ensure_list(store, caller, organisation, &name, SURVEY, Some(place)).await?
        }
        None => {
            authorize_for(store, caller.principal, organisation).await?;
            ensure_list(store, caller, organisation, list, kind, None).await?
        }
    };
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
    let list = ensure_list(store, caller, organisation, list, kind, None).await?;
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

/// What [`relink`] did: the linkage, and the household and support facts of the batches whose
/// records it linked.
#[derive(Debug, Clone, Default)]
pub struct Relinked {
    pub link: hamdeli_registry::linkage::LinkReport,
    /// The batches whose facts were applied, oldest first.
    pub batches: Vec<i64>,
    /// Their facts, summed.
    pub facts: registry::facts::FactsApplied,
    /// Batches whose facts failed (logged; the next relink or import of the list writes them).
    pub failed: Vec<i64>,
}

/// `hamdeli relink` (after `import --defer-link`): links every record without a person, then
/// builds the households and support-ledger entries of every batch that had such records, as
/// a linked import does once it is written, and of every finished batch whose facts were never
/// applied (they failed, or the process stopped first). The national admin only (the command line).
pub async fn relink(
    store: &Store,
    caller: &Caller<'_>,
    options: &hamdeli_link::LinkOptions,
) -> Result<Relinked> {
    if importer_scope(caller.principal)?.is_some() {
        return Err(Error::Denied);
    }
    let batches = registry::batches_needing_facts(store).await?;
    let link = hamdeli_registry::linkage::link_new_records(store, None, options)
        .await
        .map_err(failed)?;
    let mut out = Relinked {
        link,
        ..Default::default()
    };
    for batch in batches {
        match registry::facts::apply_batch(store, batch, &import::jalali_period).await {
            Ok(applied) => {
                let f = &mut out.facts;
                f.households += applied.households;
                f.households_new += applied.households_new;
                f.members += applied.members;
                f.zones += applied.zones;
                f.support_entries += applied.support_entries;
                out.batches.push(batch);
            }
            Err(e) => {
                tracing::error!(batch, error = %e, "the batch's household and support facts were not applied");
                out.failed.push(batch);
            }
        }
    }
    // The summaries folded in now, not by the first report.
    import::fold_in_summaries(store, out.batches.last().copied().unwrap_or_default()).await;
    Ok(out)
}

/// Rows each batch passed over (totals, footers, repeated headers): problems of severity
/// `skipped`, outside the stored counts (which are accepted + rejected).
async fn skipped_counts(
    store: &Store,
    batches: &[i64],
) -> Result<std::collections::HashMap<i64, i64>> {
    Ok(registry::problem_counts(store, batches, import::SKIPPED).await?)
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

/// The newest batches of the organisations the principal imports for, newest first (the
/// API's list; refused to the offices of a place, see [`readable_batches`]).
pub async fn batches(store: &Store, caller: &Caller<'_>, limit: i64) -> Result<Vec<ListedBatch>> {
    let only = importer_scope(caller.principal)?;
    let rows = registry::recent_batches(store, only, limit).await?;
    listed(store, rows).await
}

/// The newest batches the principal reads, newest first (the imports page): those of the
/// organisations it imports for (every one for the national admin); for the offices of a
/// place (a provincial officer, a county expert), the county surveys of its place and its own
/// uploads.
pub async fn readable_batches(
    store: &Store,
    caller: &Caller<'_>,
    limit: i64,
) -> Result<Vec<ListedBatch>> {
    let p = caller.principal;
    if p.scope.organisation().is_some() || p.role == Role::NationalAdmin {
        return batches(store, caller, limit).await;
    }
    if !may_import_surveys(p) {
        return Err(Error::Denied);
    }
    let filter = p.place_filter();
    let place = match &filter {
        PlaceFilter::Province(code) => SurveyPlace::Province(code),
        PlaceFilter::County(code) => SurveyPlace::County(code),
        _ => return Err(Error::Denied),
    };
    // Hand entries (one batch each) are not imports and stay on the persons' pages.
    let ids =
        registry::survey_batch_ids(store, place, SURVEY, p.user_id.unwrap_or(0), limit).await?;
    let mut rows = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(row) = registry::batch_with_org(store, id).await? {
            rows.push(row);
        }
    }
    listed(store, rows).await
}

/// Whether the principal reads this batch: it imports for the batch's organisation, uploaded
/// it, or is an office of the county the batch's survey list is of.
async fn reads_batch(store: &Store, p: &Principal, row: &BatchRow) -> Result<bool> {
    if p.allows(&Action::ImportList(row.organisation_id)) {
        return Ok(true);
    }
    let Some(origin) = registry::batch_origin(store, row.batch.id).await? else {
        return Ok(false);
    };
    if origin.created_by.is_some() && origin.created_by == p.user_id {
        return Ok(true);
    }
    let (kind, province, county) = (origin.list_kind, origin.province_code, origin.county_code);
    Ok(match (kind == SURVEY, province, county) {
        (true, Some(province), Some(county)) => {
            p.allows(&Action::ImportSurvey(&Place::county(province, county)))
        }
        _ => false,
    })
}

/// The batch if the principal reads it ([`reads_batch`]; another organisation's batch is
/// refused). Not audited: its counts only (the progress bar polls it).
pub async fn batch(store: &Store, caller: &Caller<'_>, id: i64) -> Result<ListedBatch> {
    let p = caller.principal;
    if importer_scope(p).is_err() && !may_import_surveys(p) {
        return Err(Error::Denied);
    }
    let row = registry::batch_with_org(store, id)
        .await?
        .ok_or(Error::NotFound)?;
    if !reads_batch(store, p, &row).await? {
        return Err(Error::Denied);
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use hamdeli_store::registry::{BatchCounts, NewSourceRecord, Written};

    fn rec(row: i64, province: Option<&str>, county: Option<&str>) -> NewSourceRecord {
        NewSourceRecord {
            row_number: row,
            province_code: province.map(str::to_owned),
            county_code: county.map(str::to_owned),
            county_raw: county.map(|c| format!("county {c}")),
            ..NewSourceRecord::default()
        }
    }

    #[test]
    fn a_survey_keeps_its_county_rows_and_files_placeless_ones_under_it() {
        let mut outcome = Outcome {
            batch_id: None,
            counts: BatchCounts {
                rows_in: 4,
                rows_accepted: 4,
                rows_with_warnings: 1,
                rows_rejected: 0,
            },
            written: Written::default(),
            problems: vec![Problem {
                row_number: 3,
                severity: "warning".into(),
                code: "phone.invalid".into(),
                detail: String::new(),
            }],
            records: vec![
                rec(1, Some("23"), Some("2301")),
                rec(2, None, None),
                rec(3, Some("23"), Some("2302")),
                rec(4, Some("10"), None),
            ],
            link: None,
        };
        confine_to(&mut outcome, &Place::county("23", "2301"));
        let kept: Vec<(i64, Option<&str>)> = outcome
            .records
            .iter()
            .map(|r| (r.row_number, r.county_code.as_deref()))
            .collect();
        assert_eq!(kept, vec![(1, Some("2301")), (2, Some("2301"))]);
        assert_eq!(outcome.records[1].province_code.as_deref(), Some("23"));
        let c = outcome.counts;
        assert_eq!(
            (
                c.rows_in,
                c.rows_accepted,
                c.rows_with_warnings,
                c.rows_rejected
            ),
            (4, 2, 0, 2)
        );
        let problems: Vec<(i64, &str, &str)> = outcome
            .problems
            .iter()
            .map(|p| (p.row_number, p.severity.as_str(), p.code.as_str()))
            .collect();
        assert_eq!(
            problems,
            vec![(3, "rejected", OTHER_COUNTY), (4, "rejected", OTHER_COUNTY)]
        );
    }
}
