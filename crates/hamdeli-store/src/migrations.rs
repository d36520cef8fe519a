use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::{Engine, Result, Store};

/// (version, description, SQLite script, PostgreSQL script). Embedded so the binary carries its
/// schema; a new migration is a new pair of files and a new line here.
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/sqlite/0001_foundation.sql"),
        include_str!("../migrations/postgres/0001_foundation.sql"),
    ),
    (
        2,
        "registry",
        include_str!("../migrations/sqlite/0002_registry.sql"),
        include_str!("../migrations/postgres/0002_registry.sql"),
    ),
    (
        3,
        "transparency",
        include_str!("../migrations/sqlite/0003_transparency.sql"),
        include_str!("../migrations/postgres/0003_transparency.sql"),
    ),
    (
        4,
        "persons_households",
        include_str!("../migrations/sqlite/0004_persons_households.sql"),
        include_str!("../migrations/postgres/0004_persons_households.sql"),
    ),
    (
        5,
        "needs_distribution",
        include_str!("../migrations/sqlite/0005_needs_distribution.sql"),
        include_str!("../migrations/postgres/0005_needs_distribution.sql"),
    ),
    (
        6,
        "import_perf",
        include_str!("../migrations/sqlite/0006_import_perf.sql"),
        include_str!("../migrations/postgres/0006_import_perf.sql"),
    ),
    (
        7,
        "import_indexes",
        include_str!("../migrations/sqlite/0007_import_indexes.sql"),
        include_str!("../migrations/postgres/0007_import_indexes.sql"),
    ),
    (
        8,
        "persons_national_code",
        include_str!("../migrations/sqlite/0008_persons_national_code.sql"),
        include_str!("../migrations/postgres/0008_persons_national_code.sql"),
    ),
    (
        9,
        "access",
        include_str!("../migrations/sqlite/0009_access.sql"),
        include_str!("../migrations/postgres/0009_access.sql"),
    ),
    (
        10,
        "login",
        include_str!("../migrations/sqlite/0010_login.sql"),
        include_str!("../migrations/postgres/0010_login.sql"),
    ),
    (
        11,
        "ledger",
        include_str!("../migrations/sqlite/0011_ledger.sql"),
        include_str!("../migrations/postgres/0011_ledger.sql"),
    ),
    (
        12,
        "batches",
        include_str!("../migrations/sqlite/0012_batches.sql"),
        include_str!("../migrations/postgres/0012_batches.sql"),
    ),
    (
        13,
        "organisations",
        include_str!("../migrations/sqlite/0013_organisations.sql"),
        include_str!("../migrations/postgres/0013_organisations.sql"),
    ),
    (
        14,
        "search",
        include_str!("../migrations/sqlite/0014_search.sql"),
        include_str!("../migrations/postgres/0014_search.sql"),
    ),
    (
        15,
        "household_facts",
        include_str!("../migrations/sqlite/0015_household_facts.sql"),
        include_str!("../migrations/postgres/0015_household_facts.sql"),
    ),
    (
        16,
        "campaign_lifecycle",
        include_str!("../migrations/sqlite/0016_campaign_lifecycle.sql"),
        include_str!("../migrations/postgres/0016_campaign_lifecycle.sql"),
    ),
    (
        17,
        "entry",
        include_str!("../migrations/sqlite/0017_entry.sql"),
        include_str!("../migrations/postgres/0017_entry.sql"),
    ),
    (
        18,
        "support",
        include_str!("../migrations/sqlite/0018_support.sql"),
        include_str!("../migrations/postgres/0018_support.sql"),
    ),
    (
        19,
        "market",
        include_str!("../migrations/sqlite/0019_market.sql"),
        include_str!("../migrations/postgres/0019_market.sql"),
    ),
    (
        20,
        "loans",
        include_str!("../migrations/sqlite/0020_loans.sql"),
        include_str!("../migrations/postgres/0020_loans.sql"),
    ),
    (
        21,
        "network",
        include_str!("../migrations/sqlite/0021_network.sql"),
        include_str!("../migrations/postgres/0021_network.sql"),
    ),
    (
        22,
        "reports",
        include_str!("../migrations/sqlite/0022_reports.sql"),
        include_str!("../migrations/postgres/0022_reports.sql"),
    ),
    (
        23,
        "scale",
        include_str!("../migrations/sqlite/0023_scale.sql"),
        include_str!("../migrations/postgres/0023_scale.sql"),
    ),
    (
        24,
        "loans_fillfactor",
        include_str!("../migrations/sqlite/0024_loans_fillfactor.sql"),
        include_str!("../migrations/postgres/0024_loans_fillfactor.sql"),
    ),
    (
        25,
        "borrowed_codes",
        include_str!("../migrations/sqlite/0025_borrowed_codes.sql"),
        include_str!("../migrations/postgres/0025_borrowed_codes.sql"),
    ),
    (
        26,
        "needs_pages",
        include_str!("../migrations/sqlite/0026_needs_pages.sql"),
        include_str!("../migrations/postgres/0026_needs_pages.sql"),
    ),
    (
        27,
        "need_summary",
        include_str!("../migrations/sqlite/0027_need_summary.sql"),
        include_str!("../migrations/postgres/0027_need_summary.sql"),
    ),
    (
        28,
        "deliveries_order",
        include_str!("../migrations/sqlite/0028_deliveries_order.sql"),
        include_str!("../migrations/postgres/0028_deliveries_order.sql"),
    ),
    (
        29,
        "need_summary_open",
        include_str!("../migrations/sqlite/0029_need_summary_open.sql"),
        include_str!("../migrations/postgres/0029_need_summary_open.sql"),
    ),
    (
        30,
        "need_summary_order",
        include_str!("../migrations/sqlite/0030_need_summary_order.sql"),
        include_str!("../migrations/postgres/0030_need_summary_order.sql"),
    ),
    (
        31,
        "merged_persons",
        include_str!("../migrations/sqlite/0031_merged_persons.sql"),
        include_str!("../migrations/postgres/0031_merged_persons.sql"),
    ),
    (
        32,
        "allocation_summary",
        include_str!("../migrations/sqlite/0032_allocation_summary.sql"),
        include_str!("../migrations/postgres/0032_allocation_summary.sql"),
    ),
    (
        33,
        "destination_summary",
        include_str!("../migrations/sqlite/0033_destination_summary.sql"),
        include_str!("../migrations/postgres/0033_destination_summary.sql"),
    ),
    (
        34,
        "facts_applied",
        include_str!("../migrations/sqlite/0034_facts_applied.sql"),
        include_str!("../migrations/postgres/0034_facts_applied.sql"),
    ),
    (
        35,
        "need_summary_person",
        include_str!("../migrations/sqlite/0035_need_summary_person.sql"),
        include_str!("../migrations/postgres/0035_need_summary_person.sql"),
    ),
    (
        36,
        "coverage_names",
        include_str!("../migrations/sqlite/0036_coverage_names.sql"),
        include_str!("../migrations/postgres/0036_coverage_names.sql"),
    ),
    (
        37,
        "summary_statement_triggers",
        include_str!("../migrations/sqlite/0037_summary_statement_triggers.sql"),
        include_str!("../migrations/postgres/0037_summary_statement_triggers.sql"),
    ),
    (
        38,
        "need_summary_zero_rows",
        include_str!("../migrations/sqlite/0038_need_summary_zero_rows.sql"),
        include_str!("../migrations/postgres/0038_need_summary_zero_rows.sql"),
    ),
];

fn migrator(engine: Engine) -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .map(|(version, description, sqlite, postgres)| {
            let sql = match engine {
                Engine::Sqlite => *sqlite,
                Engine::Postgres => *postgres,
            };
            Migration::new(
                *version,
                Cow::Borrowed(*description),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

pub(crate) async fn run(store: &Store) -> Result<()> {
    migrator(store.engine()).run(store.pool()).await?;
    Ok(())
}

/// The latest schema version this binary knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map(|m| m.0).unwrap_or(0)
}

/// Every migration script of an engine, in order (the schema-parity test reads them).
pub fn scripts(engine: Engine) -> Vec<&'static str> {
    MIGRATIONS
        .iter()
        .map(|(_, _, sqlite, postgres)| match engine {
            Engine::Sqlite => *sqlite,
            Engine::Postgres => *postgres,
        })
        .collect()
}
