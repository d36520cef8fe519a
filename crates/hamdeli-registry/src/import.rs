//! Importing an organisation's list into the registry: read and type every row
//! (`hamdeli-ingest`), resolve province and county names to codes, then write the batch in one
//! transaction (`hamdeli-store::registry`). Shared by `hamdeli import` and the web upload.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use anyhow::Result;
use rayon::prelude::*;

use hamdeli_link::LinkOptions;
use serde::Serialize;

use crate::linkage::{self, LinkReport};
use hamdeli_ingest::{ChunkReader, CleanRecord, ReadReport, RowFacts, Warning};
use hamdeli_store::registry::facts::{self, RecordFacts};
use hamdeli_store::registry::{
    self, BatchChunk, BatchCounts, BatchInput, NewSourceRecord, Problem, Written,
};
use hamdeli_store::{Store, geo};
use hamdeli_text::name_key;

/// Province and county names (as people type them) to codes.
pub struct Places {
    provinces: HashMap<String, String>,
    counties: HashMap<(String, String), String>,
    counties_anywhere: HashMap<String, Option<String>>,
}

impl Places {
    pub async fn load(store: &Store) -> Result<Places> {
        let mut provinces = HashMap::new();
        for p in geo::all_provinces(store).await? {
            provinces.insert(name_key(&p.name_fa), p.code.clone());
            provinces.insert(name_key(&p.name_en), p.code.clone());
        }
        let mut counties = HashMap::new();
        let mut counties_anywhere: HashMap<String, Option<String>> = HashMap::new();
        for c in geo::all_counties(store).await? {
            let k = name_key(&c.name_fa);
            counties.insert((c.province_code.clone(), k.clone()), c.code.clone());
            counties.insert(
                (c.province_code.clone(), name_key(&c.name_en)),
                c.code.clone(),
            );
            // A county name that two provinces share resolves only with its province.
            counties_anywhere
                .entry(k)
                .and_modify(|v| *v = None)
                .or_insert_with(|| Some(c.code.clone()));
        }
        Ok(Places {
            provinces,
            counties,
            counties_anywhere,
        })
    }

    fn province_key(s: &str) -> String {
        let k = name_key(s);
        k.strip_prefix("استان").map(str::to_owned).unwrap_or(k)
    }

    /// (province code, county code) for the names given, as far as they resolve.
    pub fn resolve(
        &self,
        province: Option<&str>,
        county: Option<&str>,
    ) -> (Option<String>, Option<String>) {
        let p = province.and_then(|p| self.provinces.get(&Places::province_key(p)).cloned());
        let county_key = county.map(|c| {
            let k = name_key(c);
            k.strip_prefix("شهرستان").map(str::to_owned).unwrap_or(k)
        });
        let c = match (&p, &county_key) {
            (Some(p), Some(k)) => self.counties.get(&(p.clone(), k.clone())).cloned(),
            (None, Some(k)) => self.counties_anywhere.get(k).cloned().flatten(),
            _ => None,
        };
        let p = p.or_else(|| c.as_ref().map(|c| c[..2].to_owned()));
        (p, c)
    }
}

fn extra_json(extra: &[(String, String)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = extra
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// A place name resolved once per distinct spelling: a list of a million rows names a few
/// hundred places.
type PlaceMemo = HashMap<(Option<String>, Option<String>), (Option<String>, Option<String>)>;

fn to_store(
    rec: CleanRecord,
    places: &Places,
    memo: &mut PlaceMemo,
    warnings: &mut Vec<Warning>,
) -> NewSourceRecord {
    let key = (rec.province.clone(), rec.county.clone());
    let (province_code, county_code) = match memo.get(&key) {
        Some(resolved) => resolved.clone(),
        None => {
            let resolved = places.resolve(rec.province.as_deref(), rec.county.as_deref());
            memo.insert(key, resolved.clone());
            resolved
        }
    };
    if rec.province.is_some() && province_code.is_none() {
        warnings.push(Warning {
            field: hamdeli_ingest::Field::Province,
            code: "province.unknown",
            value: rec.province.clone().unwrap_or_default(),
        });
    }
    if rec.county.is_some() && county_code.is_none() {
        warnings.push(Warning {
            field: hamdeli_ingest::Field::County,
            code: "county.unknown",
            value: rec.county.clone().unwrap_or_default(),
        });
    }
    NewSourceRecord {
        row_number: rec.row as i64,
        birth_date: rec.birth.and_then(|b| b.iso()).map(|d| d.to_string()),
        birth_year_jalali: rec.birth.and_then(|b| b.jalali_year()).map(i64::from),
        gender: rec.gender.map(|g| g.as_str().to_owned()),
        province_code,
        county_code,
        zone: rec.facts.zone.map(str::to_owned),
        extra: extra_json(&rec.extra),
        support_since: support_since(&rec.extra),
        facts: record_facts(&rec.facts).to_json(),
        source_id: rec.source_id,
        national_code: rec.national_code,
        national_code_raw: rec.national_code_raw,
        honorific: rec.honorific,
        first_name: rec.first_name,
        last_name: rec.last_name,
        father_name: rec.father_name,
        first_key: rec.first_key,
        last_key: rec.last_key,
        father_key: rec.father_key,
        phone: rec.phone,
        province_raw: rec.province,
        county_raw: rec.county,
        address: rec.address,
    }
}

/// The facts a row states, as the store keeps them (the zone goes in its own column).
fn record_facts(f: &RowFacts) -> RecordFacts {
    RecordFacts {
        household_id: f.household_id.clone(),
        head_code: f.head_code.clone(),
        relation: f.relation.map(str::to_owned),
        household_size: f.household_size,
        dependants: f.dependants,
        female_head_reason: f.female_head_reason.map(str::to_owned),
        monthly_income: f.monthly_income,
        income_decile: f.income_decile,
        disability: f.disability,
        chronic_illness: f.chronic_illness,
        bereaved_by_covid: f.bereaved_by_covid,
        programme: f.programme.clone(),
        support_kind: f.support_kind.map(str::to_owned),
        amount: f.amount,
        support_date: f.support_date.clone(),
    }
}

/// The Jalali year and month (`1405-09`) of an instant in Iran (UTC+03:30): the period the
/// support ledger groups by.
pub fn jalali_period(unix_millis: i64) -> String {
    let days = (unix_millis + 12_600_000).div_euclid(86_400_000);
    match hamdeli_text::IsoDate::from_days(days) {
        Some(d) => {
            let j = d.to_jalali();
            format!("{}-{:02}", j.year(), j.month())
        }
        None => String::new(),
    }
}

/// Builds the households the batch's rows describe and files its support rows in the
/// support ledger (`hamdeli-store::registry::facts`). The batch is committed by then: a
/// failure is logged, and the next import of the list writes them again.
async fn apply_facts(store: &Store, batch: i64) {
    match facts::apply_batch(store, batch, &jalali_period).await {
        Ok(applied) => tracing::info!(
            batch,
            households = applied.households,
            households_new = applied.households_new,
            members = applied.members,
            zones = applied.zones,
            support_entries = applied.support_entries,
            "household and support facts applied"
        ),
        Err(e) => {
            tracing::error!(batch, error = %e, "the batch's household and support facts were not applied")
        }
    }
}

/// Headers of a column saying since when the organisation supports the person.
const SINCE_HEADERS: [&str; 5] = [
    "since",
    "support_since",
    "از تاریخ",
    "تاریخ شروع",
    "تاریخ عضویت",
];

fn support_since(extra: &[(String, String)]) -> Option<String> {
    extra
        .iter()
        .find(|(k, _)| SINCE_HEADERS.iter().any(|h| name_key(k) == name_key(h)))
        .and_then(|(_, v)| hamdeli_text::parse_date(v).ok())
        .and_then(|d| d.iso())
        .map(|d| d.to_string())
}

/// What an import did, row by row.
pub struct Outcome {
    pub batch_id: Option<i64>,
    /// Counts of the rows read as persons or refused (`rows_in` = accepted + rejected, as the
    /// store keeps them); rows passed over (totals, footers, repeated headers) are problems of
    /// severity `skipped` ([`Outcome::skipped`]), so the file's rows in are
    /// [`Outcome::rows_in`]. Notices about the whole file are warnings on row 0.
    pub counts: BatchCounts,
    pub written: Written,
    pub problems: Vec<Problem>,
    pub records: Vec<NewSourceRecord>,
    /// What linking the batch did, once it ran.
    pub link: Option<LinkReport>,
}

impl Outcome {
    /// Rows that are not persons (totals, footers, repeated headers), never stored as records.
    pub fn skipped(&self) -> i64 {
        self.problems
            .iter()
            .filter(|p| p.severity == SKIPPED)
            .count() as i64
    }

    /// Notices about the whole file (row 0), e.g. `source_id.no_column`.
    pub fn notices(&self) -> impl Iterator<Item = &str> {
        self.problems
            .iter()
            .take_while(|p| p.row_number == 0)
            .map(|p| p.code.as_str())
    }

    /// Every data row of the file: accepted + rejected + skipped.
    pub fn rows_in(&self) -> i64 {
        self.counts.rows_in + self.skipped()
    }

    /// The counts in one line, as the command line prints them.
    pub fn summary(&self) -> String {
        let c = self.counts;
        format!(
            "rows in {} = accepted {} (with warnings {}) + rejected {} + skipped {}",
            self.rows_in(),
            c.rows_accepted,
            c.rows_with_warnings,
            c.rows_rejected,
            self.skipped()
        )
    }
}

/// The severity of a row passed over.
pub const SKIPPED: &str = "skipped";

/// The problems a whole-file notice puts first in the report (row 0: the file itself).
fn notice_problems(notices: &[&'static str]) -> Vec<Problem> {
    notices
        .iter()
        .map(|code| Problem {
            row_number: 0,
            severity: "warning".into(),
            code: (*code).into(),
            detail: String::new(),
        })
        .collect()
}

/// Turns a read report into store records and the per-row problems (warnings, rejects and
/// skipped rows).
pub fn prepare(report: ReadReport, places: &Places) -> Outcome {
    let (records, mut problems, counts) =
        prepare_rows(report.accepted, report.rejected, report.skipped, places);
    if !report.notices.is_empty() {
        let mut all = notice_problems(&report.notices);
        all.append(&mut problems);
        problems = all;
    }
    Outcome {
        batch_id: None,
        counts,
        written: Written::default(),
        problems,
        records,
        link: None,
    }
}

/// Store records, per-row problems in row order and counts for typed rows (a whole file or a
/// chunk of one). Skipped rows are problems of severity `skipped`, outside the counts.
fn prepare_rows(
    accepted: Vec<(CleanRecord, Vec<Warning>)>,
    rejected: Vec<hamdeli_ingest::Reject>,
    skipped: Vec<hamdeli_ingest::Reject>,
    places: &Places,
) -> (Vec<NewSourceRecord>, Vec<Problem>, BatchCounts) {
    let mut problems = Vec::new();
    let mut warned = 0;
    // In parallel, a slice of rows per task, each with its own memo of places.
    let (records, warnings): (Vec<NewSourceRecord>, Vec<Vec<Warning>>) = accepted
        .into_par_iter()
        .with_min_len(4096)
        .map_init(PlaceMemo::new, |memo, (rec, mut warnings)| {
            let stored = to_store(rec, places, memo, &mut warnings);
            (stored, warnings)
        })
        .unzip();
    for (stored, warnings) in records.iter().zip(warnings) {
        if !warnings.is_empty() {
            warned += 1;
        }
        for w in warnings {
            problems.push(Problem {
                row_number: stored.row_number,
                severity: "warning".into(),
                code: w.code.into(),
                detail: w.value,
            });
        }
    }
    let rows_rejected = rejected.len() as i64;
    for r in rejected {
        problems.push(Problem {
            row_number: r.row as i64,
            severity: "rejected".into(),
            code: r.code.into(),
            detail: r.detail,
        });
    }
    for r in skipped {
        problems.push(Problem {
            row_number: r.row as i64,
            severity: SKIPPED.into(),
            code: r.code.into(),
            detail: r.detail,
        });
    }
    problems.sort_by_key(|p| p.row_number);
    let counts = BatchCounts {
        rows_in: records.len() as i64 + rows_rejected,
        rows_accepted: records.len() as i64,
        rows_with_warnings: warned,
        rows_rejected,
    };
    (records, problems, counts)
}

/// Reads a file and writes it as one new batch of the list at the same time, a chunk at a
/// time, without linking: for bulk loads (`hamdeli import --defer-link`; `hamdeli relink`
/// makes the persons). Writing overlaps reading and only a few chunks are held in memory. The
/// outcome has the counts and every per-row problem, not the records.
pub async fn stream_unlinked(
    store: &Store,
    list_id: i64,
    file_name: &str,
    created_by: Option<i64>,
    reader: ChunkReader,
    places: Places,
    progress: &Progress,
) -> Result<Outcome> {
    let batch = begin(store, list_id, file_name, reader.format.name(), created_by).await?;
    progress.set(Stage::Writing, 0, 0);
    let (chunks, received) = tokio::sync::mpsc::channel(2);
    let reading = tokio::task::spawn_blocking(move || read_into(reader, &places, chunks));
    let on_row = |n: u64| progress.done.store(n, Ordering::Relaxed);
    let written = registry::commit_streamed_batch(store, batch, list_id, received, &on_row).await;
    // The reader stops when the writer goes away (its sends fail), so this join is prompt.
    let read = match reading.await {
        Ok(read) => read,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(anyhow::anyhow!("reading stopped: {e}")),
    };
    let outcome = match (written, read) {
        (Ok(written), Ok((problems, counts))) => Outcome {
            batch_id: Some(batch),
            counts,
            written,
            problems,
            records: Vec::new(),
            link: None,
        },
        (Err(e), _) => {
            progress.set(Stage::Failed, 0, 0);
            registry::fail_batch(store, batch, &e.to_string()).await?;
            return Err(e.into());
        }
        (Ok(_), Err(e)) => {
            progress.set(Stage::Failed, 0, 0);
            registry::fail_batch(store, batch, &e.to_string()).await?;
            return Err(e);
        }
    };
    let total = outcome.counts.rows_accepted as u64;
    // Records updated in place keep their persons: their places are marked.
    fold_in_summaries(store, batch).await;
    end_job(store, batch).await;
    progress.set(Stage::Done, total, total);
    Ok(outcome)
}

/// The reading side of [`stream_unlinked`]: typed, prepared chunks into the channel, then the
/// file's counts. A file that stops being readable midway fails the batch (nothing written).
fn read_into(
    mut reader: ChunkReader,
    places: &Places,
    chunks: tokio::sync::mpsc::Sender<BatchChunk>,
) -> Result<(Vec<Problem>, BatchCounts)> {
    let mut all_problems = notice_problems(&reader.notices());
    let mut counts = BatchCounts::default();
    if !all_problems.is_empty() {
        chunks
            .blocking_send(BatchChunk::Rows {
                records: Vec::new(),
                problems: all_problems.clone(),
            })
            .map_err(|_| anyhow::anyhow!("the batch writer stopped"))?;
    }
    while let Some(chunk) = reader.next_chunk()? {
        let (records, problems, c) =
            prepare_rows(chunk.accepted, chunk.rejected, chunk.skipped, places);
        counts.rows_in += c.rows_in;
        counts.rows_accepted += c.rows_accepted;
        counts.rows_with_warnings += c.rows_with_warnings;
        counts.rows_rejected += c.rows_rejected;
        all_problems.extend(problems.iter().cloned());
        chunks
            .blocking_send(BatchChunk::Rows { records, problems })
            .map_err(|_| anyhow::anyhow!("the batch writer stopped"))?;
    }
    chunks
        .blocking_send(BatchChunk::End(counts))
        .map_err(|_| anyhow::anyhow!("the batch writer stopped"))?;
    Ok((all_problems, counts))
}

/// Where a running import is; shared between the task doing it and the pages showing it.
#[derive(Debug, Default)]
pub struct Progress {
    stage: AtomicU8,
    done: AtomicU64,
    total: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Queued,
    Writing,
    Linking,
    Done,
    Failed,
}

impl Stage {
    pub fn code(self) -> &'static str {
        match self {
            Stage::Queued => "queued",
            Stage::Writing => "writing",
            Stage::Linking => "linking",
            Stage::Done => "done",
            Stage::Failed => "failed",
        }
    }
}

impl Progress {
    fn set(&self, stage: Stage, done: u64, total: u64) {
        self.stage.store(stage as u8, Ordering::Relaxed);
        self.done.store(done, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
    }

    /// (stage, done, total).
    pub fn snapshot(&self) -> (Stage, u64, u64) {
        let stage = match self.stage.load(Ordering::Relaxed) {
            0 => Stage::Queued,
            1 => Stage::Writing,
            2 => Stage::Linking,
            3 => Stage::Done,
            _ => Stage::Failed,
        };
        (
            stage,
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }

    /// Done as a whole percentage of the current stage.
    pub fn percent(&self) -> u64 {
        let (_, done, total) = self.snapshot();
        (done * 100).checked_div(total).unwrap_or(0).min(100)
    }
}

/// Opens the batch a prepared import will be written to (visible at once as running).
pub async fn begin(
    store: &Store,
    list_id: i64,
    file_name: &str,
    format: &str,
    created_by: Option<i64>,
) -> Result<i64> {
    Ok(registry::begin_batch(store, list_id, file_name, format, created_by).await?)
}

/// Links a prepared import in memory against the registry, then writes the batch with the
/// persons of its new records (one transaction), then files what linkage left for the
/// registry's older records and the review queue. A failure before or while writing leaves
/// the batch marked failed and nothing written.
pub async fn run(
    store: &Store,
    batch: i64,
    list_id: i64,
    mut outcome: Outcome,
    progress: &Progress,
    link_options: Option<&LinkOptions>,
) -> Result<Outcome> {
    let total = outcome.records.len() as u64;
    let started = std::time::Instant::now();
    let planned = match link_options {
        Some(options) => {
            progress.set(Stage::Linking, 0, total);
            match linkage::plan_batch(store, list_id, &outcome.records, options).await {
                Ok(plan) => Some(plan),
                Err(e) => {
                    progress.set(Stage::Failed, 0, total);
                    registry::fail_batch(store, batch, &e.to_string()).await?;
                    return Err(e);
                }
            }
        }
        // Linking deferred (bulk loads): the records wait without a person for `hamdeli relink`.
        None => None,
    };
    let linked_at = std::time::Instant::now();
    progress.set(Stage::Writing, 0, total);
    let on_row = |n: u64| progress.done.store(n, Ordering::Relaxed);
    let mut planned = planned;
    let input = BatchInput {
        records: std::mem::take(&mut outcome.records),
        problems: std::mem::take(&mut outcome.problems),
        links: planned.as_mut().map(|p| std::mem::take(&mut p.links)),
    };
    let committed =
        match registry::commit_linked_batch(store, batch, list_id, input, outcome.counts, &on_row)
            .await
        {
            Ok((committed, input)) => {
                outcome.batch_id = Some(batch);
                outcome.written = committed.written;
                outcome.records = input.records;
                outcome.problems = input.problems;
                if let (Some(plan), Some(links)) = (planned.as_mut(), input.links) {
                    plan.links = links;
                }
                tracing::info!(
                    batch,
                    records = total,
                    link_s = (linked_at - started).as_secs_f64(),
                    write_s = linked_at.elapsed().as_secs_f64(),
                    "import batch written"
                );
                committed
            }
            Err(e) => {
                progress.set(Stage::Failed, 0, total);
                registry::fail_batch(store, batch, &e.to_string()).await?;
                return Err(e.into());
            }
        };
    let Some(plan) = planned else {
        fold_in_summaries(store, batch).await;
        end_job(store, batch).await;
        progress.set(Stage::Done, total, total);
        return Ok(outcome);
    };
    // Every record of the batch has its person now: its households and support entries.
    apply_facts(store, batch).await;
    // The batch is committed from here on: whatever happens next, the import succeeded (an
    // error now would have the caller report a committed batch as failed).
    match linkage::finish_batch(store, batch, plan, &committed).await {
        Ok(report) => {
            if let Err(e) = registry::record_link_result(
                store,
                batch,
                report.applied.persons_created,
                report.applied.records_joined,
                report.applied.reviews_opened,
            )
            .await
            {
                tracing::error!(batch, error = %e, "the batch's link counts were not recorded");
            }
            outcome.link = Some(report);
        }
        Err(e) => {
            // The batch and its records' persons are in; older records stay without a person
            // until the next linkage run. The outcome has no link report.
            tracing::error!(batch, error = %e, "linking after the committed batch failed");
        }
    }
    fold_in_summaries(store, batch).await;
    end_job(store, batch).await;
    progress.set(Stage::Done, total, total);
    Ok(outcome)
}

/// The very end of a committed import's job, after its last step: the batch's `finished_at`,
/// which tells a poller the import is over. The batch is committed: a failure is logged.
async fn end_job(store: &Store, batch: i64) {
    if let Err(e) = registry::end_batch_job(store, batch).await {
        tracing::error!(batch, error = %e, "the end of the import job was not recorded");
    }
}

/// The end of an import's job: the places its writes marked are folded into the coverage
/// summaries now, set-based (`hamdeli_store::scale::refresh`), so the first report after a big
/// import reads them at once instead of paying for the refresh (10 s at a million people).
/// The batch is committed already: a failure here is logged, and the next report refreshes.
pub async fn fold_in_summaries(store: &Store, batch: i64) {
    let started = std::time::Instant::now();
    match hamdeli_store::scale::refresh(store).await {
        Ok(done) => tracing::info!(
            batch,
            places = done.places,
            everything = done.everything,
            seconds = started.elapsed().as_secs_f64(),
            "coverage summaries folded in"
        ),
        Err(e) => tracing::error!(batch, error = %e, "coverage summaries not folded in"),
    }
}

/// Writes a prepared import as one new batch of the list and links it unless `link` is None
/// (for the CLI and tests).
#[allow(clippy::too_many_arguments)]
pub async fn commit(
    store: &Store,
    list_id: i64,
    file_name: &str,
    format: &str,
    created_by: Option<i64>,
    outcome: Outcome,
    progress: &Progress,
    link: Option<&LinkOptions>,
) -> Result<Outcome> {
    let batch = begin(store, list_id, file_name, format, created_by).await?;
    run(store, batch, list_id, outcome, progress, link).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_period_is_the_jalali_month_in_iran() {
        let noon = facts::noon_in_iran("2026-11-06").unwrap();
        assert_eq!(jalali_period(noon), "1405-08");
        // 00:30 on 2026-03-21 in Iran (21:00 UTC the day before) is 1 Farvardin 1405.
        let nowruz = facts::noon_in_iran("2026-03-20").unwrap() + 12 * 3_600_000 + 1_800_000;
        assert_eq!(jalali_period(nowruz), "1405-01");
        assert_eq!(jalali_period(nowruz - 3_600_000), "1404-12");
    }

    #[test]
    fn row_facts_become_the_records_facts() {
        let f = RowFacts {
            household_id: Some("1001".into()),
            relation: Some("head"),
            zone: Some("rural"),
            support_kind: Some("food"),
            amount: Some(5_000_000),
            ..RowFacts::default()
        };
        let r = record_facts(&f);
        assert_eq!(r.household_id.as_deref(), Some("1001"));
        assert_eq!(r.relation.as_deref(), Some("head"));
        assert_eq!(r.support_kind.as_deref(), Some("food"));
        assert_eq!(r.amount, Some(5_000_000));
        assert!(r.to_json().is_some());
        assert_eq!(record_facts(&RowFacts::default()).to_json(), None);
    }
}
