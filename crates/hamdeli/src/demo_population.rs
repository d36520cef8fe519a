//! The demo registry: a synthetic population of households (`hamdeli-synth`) whose organisations'
//! noisy lists are imported and linked exactly as real lists are — so a new user sees merges,
//! review items, double coverage and female heads of household nobody supports.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;

use hamdeli_app::{Caller, imports};
use hamdeli_registry::import::Progress;
use hamdeli_store::persons;
use hamdeli_store::{Store, registry};
use hamdeli_synth::{ListKind, OrgKind, SynthOptions};

use crate::demo::{ORGS, org_id};

/// The demo population's size unless configured (`HAMDELI_DEMO_PEOPLE`).
pub const DEFAULT_PEOPLE: usize = 100_000;

/// Above this many people the demo loads its lists as a bulk load does (`hamdeli import
/// --defer-link` for each list, then one `hamdeli relink`): each list is written while it is
/// read and the registry is linked once, so memory holds one copy of the registry instead of
/// every list besides it (a national population does not fit otherwise).
pub const BULK_LOAD_ABOVE: usize = 1_000_000;

#[derive(Debug, Clone, Default, Serialize)]
pub struct PopulationReport {
    pub people: usize,
    pub households: usize,
    pub lists: Vec<ListReport>,
    pub households_loaded: i64,
    pub members_linked: i64,
    /// Loaded as a bulk load ([`BULK_LOAD_ABOVE`]): the lists' persons come from one relink,
    /// whose figures are in `relinked`.
    pub bulk: bool,
    pub relinked: Option<RelinkReport>,
    pub seconds: f64,
}

/// What the bulk load's one relink did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RelinkReport {
    pub records: u64,
    pub persons_created: i64,
    pub records_joined: i64,
    pub reviews_opened: i64,
    pub seconds: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ListReport {
    pub name: String,
    pub rows_in: i64,
    pub accepted: i64,
    pub rejected: i64,
    pub persons_created: i64,
    pub records_joined: i64,
    pub reviews_opened: i64,
}

fn demo_org(kind: OrgKind) -> &'static crate::demo::DemoOrg {
    match kind {
        OrgKind::Relief => &ORGS[0],
        OrgKind::Welfare => &ORGS[1],
        OrgKind::Charity => &ORGS[2],
        OrgKind::WomenAffairs => &ORGS[4],
        OrgKind::RedCrescent => &ORGS[5],
    }
}

/// Whether the registry already holds records (then the demo population is not made again).
pub async fn registry_is_empty(store: &Store) -> Result<bool> {
    Ok(persons::record_total(store).await? == 0)
}

/// Generates `people` synthetic people, writes their lists under `dir`, imports and links every
/// list — the household roster last, whose import builds the households (members, relations,
/// zone, female-head reason, dependants, decile, disability) as any office's household list
/// does. Call on an empty registry (see [`registry_is_empty`]).
pub async fn seed(store: &Store, dir: &Path, people: usize) -> Result<PopulationReport> {
    let load = if people > BULK_LOAD_ABOVE {
        Load::Bulk
    } else {
        Load::Linked
    };
    seed_as(store, dir, people, load).await
}

/// How the demo's lists go in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Load {
    /// Each list imported and linked, as an office's import (the default up to [`BULK_LOAD_ABOVE`]).
    Linked,
    /// Each list written while it is read, then one relink ([`BULK_LOAD_ABOVE`] and more).
    Bulk,
}

/// [`seed`] with the way the lists go in chosen by the caller.
pub async fn seed_as(
    store: &Store,
    dir: &Path,
    people: usize,
    load: Load,
) -> Result<PopulationReport> {
    let started = Instant::now();
    let options = SynthOptions {
        people,
        ..SynthOptions::default()
    };
    // The population is dropped once its lists are files: from here on only the files count.
    let (households, manifest) = {
        let dir = dir.to_owned();
        tokio::task::spawn_blocking(move || {
            let population = hamdeli_synth::generate(&options);
            let manifest = hamdeli_synth::write_files(&population, &dir);
            (population.households.len(), manifest)
        })
        .await?
    };
    let manifest = manifest.context("writing the demo lists")?;
    let principal = hamdeli_app::system_principal();
    let caller = Caller::new(&principal, "demo");
    let bulk = load == Load::Bulk;
    let mut report = PopulationReport {
        people,
        households,
        bulk,
        ..Default::default()
    };
    for list in &manifest.lists {
        let org = org_id(store, demo_org(list.organisation), None).await?;
        let kind = match list.list_kind {
            ListKind::Programme => "support",
            ListKind::Survey => "survey",
            ListKind::Reference => "reference",
        };
        let mut conn = store.pool().acquire().await?;
        let source_list = registry::ensure_list(
            &mut conn,
            registry::NewList {
                organisation_id: org,
                name: list.title_fa.clone(),
                list_kind: kind.into(),
                province_code: None,
                county_code: None,
                created_by: None,
            },
        )
        .await?;
        if let Some(support) = list.support_kind {
            let programme = registry::ensure_programme(
                &mut conn,
                org,
                &list.title_fa,
                &list.name,
                support.code(),
            )
            .await?;
            registry::set_list_programme(&mut conn, source_list.id, programme).await?;
        }
        drop(conn);
        if bulk {
            let mut loaded =
                load_unlinked(store, &caller, org, &source_list.name, kind, &list.path).await?;
            loaded.name = list.name.clone();
            report.lists.push(loaded);
            continue;
        }
        // Through the import use case, as any user's import: authorised, and audited
        // (`import.commit`) as the system principal in the batch's own transaction.
        let path = list.path.clone();
        let prepared = imports::preview(store, &caller, org, move || {
            hamdeli_ingest::read_all(&path, |_| {})
        })
        .await?
        .with_context(|| format!("reading {}", list.path.display()))?;
        let file_name = list
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let done = imports::commit(
            store,
            &caller,
            prepared,
            &source_list.name,
            kind,
            &file_name,
            &Progress::default(),
            true,
        )
        .await?;
        let link = done.link.unwrap_or_default();
        tracing::info!(list = %list.name, rows = done.counts.rows_in, persons = link.applied.persons_created, "demo list imported");
        report.lists.push(ListReport {
            name: list.name.clone(),
            rows_in: done.counts.rows_in,
            accepted: done.counts.rows_accepted,
            rejected: done.counts.rows_rejected,
            persons_created: link.applied.persons_created,
            records_joined: link.applied.records_joined,
            reviews_opened: link.applied.reviews_opened,
        });
    }
    if bulk {
        let started = Instant::now();
        let done = imports::relink(store, &caller, &hamdeli_link::LinkOptions::default()).await?;
        anyhow::ensure!(
            done.failed.is_empty(),
            "the household and support facts of batches {:?} were not applied",
            done.failed
        );
        report.relinked = Some(RelinkReport {
            records: done.link.records,
            persons_created: done.link.applied.persons_created,
            records_joined: done.link.applied.records_joined,
            reviews_opened: done.link.applied.reviews_opened,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    // The households came in with the lists (the survey and the household roster, like any
    // office's household list): what they hold now.
    let (households, members) = persons::household_totals(store).await?;
    report.households_loaded = households;
    report.members_linked = members;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// One list of a bulk load: written while it is read, a chunk at a time, not linked yet
/// (`hamdeli import --defer-link`, through the same use case).
async fn load_unlinked(
    store: &Store,
    caller: &Caller<'_>,
    organisation: i64,
    list: &str,
    kind: &str,
    path: &Path,
) -> Result<ListReport> {
    let reader = hamdeli_ingest::open_with(path, &hamdeli_ingest::Limits::BULK)
        .and_then(hamdeli_ingest::ChunkReader::new)
        .with_context(|| format!("reading {}", path.display()))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let done = imports::commit_streamed(
        store,
        caller,
        organisation,
        list,
        kind,
        &file_name,
        reader,
        &Progress::default(),
    )
    .await?;
    tracing::info!(
        list,
        rows = done.counts.rows_in,
        "demo list written (linked later)"
    );
    Ok(ListReport {
        name: list.to_owned(),
        rows_in: done.counts.rows_in,
        accepted: done.counts.rows_accepted,
        rejected: done.counts.rows_rejected,
        ..Default::default()
    })
}
