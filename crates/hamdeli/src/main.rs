//! `hamdeli` — the one binary: web server, migrations, demo data, administration, backups.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use hamdeli::config::{Config, Layer, LogFormat};
use hamdeli::{app_state, demo, open_store, redact};
use hamdeli_domain::{Role, Scope};
use hamdeli_store::users::{self, NewUser};
use hamdeli_store::{backup, geo};

mod bench_network;
mod loans_cli;

/// mimalloc: `hamdeli link` and imports allocate millions of small strings; glibc malloc spent
/// about 40 % of a 1M-record link in malloc and free. Built without transparent huge pages
/// (`no_thp`): zeroing 2 MB pages on every fault cost more system time than the TLB saved.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "hamdeli",
    version,
    about = "Hamdeli (همدلی): one system to support women heads of household — registry, needs, fair distribution, reports."
)]
struct Cli {
    /// Configuration file (TOML). Default: hamdeli.toml in the data directory, if present.
    #[arg(long, global = true, env = "HAMDELI_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (the SQLite database, the secret key). Default: ./hamdeli-data
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB. Default: SQLite in the data directory.
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Log format: text or json.
    #[arg(long, global = true)]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (pages, API, /healthz, /readyz, /metrics) until Ctrl-C or SIGTERM.
    Serve {
        /// Address to listen on. Default: 127.0.0.1:8080
        #[arg(long)]
        bind: Option<String>,
        /// Create the synthetic demo data set (if missing) and print the demo logins; the demo
        /// population is imported and linked in the background while the server already answers.
        #[arg(long)]
        demo: bool,
        /// People in the synthetic demo population (0: none).
        #[arg(long, env = "HAMDELI_DEMO_PEOPLE", default_value_t = hamdeli::demo_population::DEFAULT_PEOPLE)]
        demo_people: usize,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate,
    /// Create the synthetic demo data set (users for every role and scope, and a population
    /// whose organisations' lists are imported and linked) and print the logins.
    Demo {
        /// People in the synthetic demo population (0: none). Above 1,000,000 the lists are
        /// loaded as a bulk load: each written while it is read, then linked once.
        #[arg(long, env = "HAMDELI_DEMO_PEOPLE", default_value_t = hamdeli::demo_population::DEFAULT_PEOPLE)]
        people: usize,
    },
    /// Manage user accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Write an online backup of the SQLite database to a new file (PostgreSQL: use pg_dump).
    Backup {
        /// The backup file to create.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the OpenAPI document of the HTTP API.
    Openapi,
    /// Find the same person within and across list files (no database needed).
    ///
    /// Writes clusters.csv (source,source_id,cluster_id) with one row for every readable input row.
    Link {
        /// An input list as NAME=PATH (CSV or XLSX); repeat for each list.
        #[arg(long = "input", required = true)]
        inputs: Vec<hamdeli::link::Input>,
        #[arg(long)]
        out: PathBuf,
        /// Match probability at or above which two records are one person.
        #[arg(long, default_value_t = 0.9)]
        threshold: f64,
        /// Write every scored candidate pair with its per-field evidence.
        #[arg(long)]
        pairs: Option<PathBuf>,
        /// Write the rows that could not be read, with row number and reason.
        #[arg(long)]
        rejects: Option<PathBuf>,
    },
    /// Import an organisation's list (CSV or XLSX) into the registry, with a per-row report.
    Import {
        /// The organisation: its id or its Persian name.
        #[arg(long)]
        organisation: String,
        /// The list's name (re-importing the same list updates rows by source_id).
        #[arg(long)]
        list: String,
        /// support (people the organisation supports), survey or reference.
        #[arg(long, default_value = "support")]
        kind: String,
        #[arg(long)]
        file: PathBuf,
        /// Show the column mapping, sample rows and every problem; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the per-row report (warnings and rejects) to this CSV file.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Write the rows now and link them into persons later with `hamdeli relink` (bulk loads:
        /// a national list of up to 50M rows, written while it is read).
        #[arg(long)]
        defer_link: bool,
    },
    /// Link every registry record that has no person yet (after `import --defer-link`).
    Relink,
    /// Distribute a pool of indivisible units over requests (works on files, no database).
    ///
    /// requests.csv: request_id,need,weight[,group]; quotas.csv: group,max_units;
    /// allocations.csv: request_id,allocated,served_fraction,reason (input order).
    Allocate {
        #[arg(long)]
        requests: PathBuf,
        /// Units in the pool (a whole number ≥ 0).
        #[arg(long)]
        pool: u64,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        quotas: Option<PathBuf>,
        /// water-fill (weighted max-min, the default) or priority.
        #[arg(long, default_value = "water-fill")]
        policy: String,
    },
    /// The public transparency log.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Qard al-hasan loans: the schedule calculator and the loans benchmark.
    Loans {
        #[command(subcommand)]
        command: loans_cli::LoansCommand,
    },
    /// Benchmarks that print their figures (use a fresh database: they add synthetic rows).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Provincial reports (issue 16): `demo` makes the demo users and the demo reports (once),
    /// `refresh` recomputes the figures of Hamdeli's own data.
    Reports {
        /// demo or refresh
        action: String,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// The reports dashboard (issue 16): loads county-level monthly data sets (default 50 × 50
    /// elements × every county × 24 months ≈ 27M values) in one transaction, then times the
    /// dashboard, map, drill-down and completeness pages through the real server (p50/p99) and
    /// the map page's size. Use a fresh database.
    Reports {
        #[arg(long, default_value_t = 50)]
        datasets: usize,
        #[arg(long, default_value_t = 50)]
        elements: usize,
        #[arg(long, default_value_t = 24)]
        months: usize,
        #[arg(long, default_value_t = 100)]
        requests: usize,
    },
    /// The market (issue 13): concurrent guest orders for a small stock through the real
    /// server (placed, refused, 5xx, stock after, orders/s), then the catalogue page with many
    /// products under concurrent readers (p50/p99). Use a fresh database.
    Market {
        #[arg(long, default_value_t = 500)]
        orders: usize,
        #[arg(long, default_value_t = 100)]
        stock: i64,
        #[arg(long, default_value_t = 10_000)]
        products: usize,
        #[arg(long, default_value_t = 100)]
        readers: usize,
        #[arg(long, default_value_t = 20)]
        requests: usize,
    },
    /// Time a campaign allocation's dry run and its one-transaction commit over N verified needs.
    AllocationCommit {
        #[arg(long, default_value_t = 100_000)]
        requests: usize,
    },
    /// Parallel web imports and parallel pledges against the real server on a local port:
    /// throughput, 5xx answers, and whether pledges, audit and transparency log agree.
    Concurrency {
        #[arg(long, default_value_t = 16)]
        imports: usize,
        #[arg(long, default_value_t = 2_000)]
        rows: usize,
        #[arg(long, default_value_t = 200)]
        pledges: usize,
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// Matching volunteers to cases (issue 15): seeds N synthetic volunteers and M open cases,
    /// times one proposal per case (p50/p99).
    Network {
        #[arg(long, default_value_t = 50_000)]
        volunteers: usize,
        #[arg(long, default_value_t = 1_000)]
        cases: usize,
    },
    /// Time every GET page and API route of a running server (over loopback) as each demo role:
    /// p50/p99 per route, as a Markdown table (bench/pages.sh builds the data set and runs it
    /// on both engines). Reads the data set (same --data-dir / --database-url) for the ids its
    /// routes need.
    Pages {
        /// The running server, e.g. http://127.0.0.1:18080.
        #[arg(long)]
        url: String,
        /// Route table (`role path` per line); default: bench/pages.routes.
        #[arg(long)]
        routes: Option<PathBuf>,
        /// Requests per route and role, one after another, after one warm-up.
        #[arg(long, default_value_t = 20)]
        requests: usize,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Recompute the hash chain; name the first broken entry (exit code 1) or print the head.
    /// From the database, or with --from from a server's public feed alone (no database).
    Verify {
        /// A server's address (http://HOST:PORT) or its feed (…/api/v1/transparency): read the
        /// feed page by page and check the chain and the head it publishes. http:// only (this
        /// binary carries no TLS); for https use docs/verify_ledger.py.
        #[arg(long)]
        from: Option<String>,
        /// A head hash kept earlier: the chain must still pass through it.
        #[arg(long)]
        kept: Option<String>,
    },
    /// Print the current head (entry count and hash) to keep and check later.
    Head,
    /// Append the daily aggregates of allocations and deliveries for every day (Iran time) that
    /// has closed and is not yet in the log; small counts stay held (run it from cron, or let
    /// the server do it: deliveries, allocations and reads of the log close due days too).
    Publish,
}

/// `hamdeli ledger verify --from URL`: the public feed, oldest first, a page at a time; no
/// database. Ok: (entries, head hash); a broken chain names its first broken entry.
async fn verify_feed(
    from: &str,
    kept: Option<&str>,
) -> Result<std::result::Result<(i64, String), hamdeli_domain::ledger::Broken>> {
    use hamdeli_domain::ledger::{Broken, Entry, Verifier};
    #[derive(serde::Deserialize)]
    struct Head {
        entries: i64,
        hash: String,
    }
    #[derive(serde::Deserialize)]
    struct Page {
        head: Head,
        entries: Vec<Entry>,
        next: Option<i64>,
    }
    if from.starts_with("https://") {
        anyhow::bail!(
            "this build reads http:// feeds only (no TLS); for https use docs/verify_ledger.py"
        );
    }
    let base = from.trim_end_matches('/');
    let feed = if base.ends_with("/api/v1/transparency") {
        base.to_owned()
    } else {
        format!("{base}/api/v1/transparency")
    };
    let client = reqwest::Client::new();
    let mut verifier = Verifier::default();
    let mut published: Option<Head> = None;
    let mut kept_seen = kept.is_none();
    let mut after = 0;
    loop {
        let url = format!("{feed}?after={after}&limit=1000");
        let page: Page = client
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("reading {url}"))?
            .json()
            .await
            .with_context(|| format!("reading {url}: not the transparency feed"))?;
        // The head as published when the walk began: the chain must reach it (entries
        // appended meanwhile are checked too).
        let head = published.get_or_insert(page.head);
        for e in &page.entries {
            if let Err(broken) = verifier.push(e) {
                return Ok(Err(broken));
            }
            if e.seq == head.entries && e.hash != head.hash {
                return Ok(Err(Broken::HeadMismatch { seq: e.seq }));
            }
            kept_seen |= Some(e.hash.as_str()) == kept;
        }
        match (page.next, page.entries.last()) {
            (Some(_), Some(last)) => after = last.seq,
            _ => break,
        }
    }
    let head = published.expect("one page read");
    if verifier.count() < head.entries {
        return Ok(Err(Broken::Gap {
            expected: verifier.count() + 1,
            found: head.entries,
        }));
    }
    if !kept_seen {
        anyhow::bail!("the kept head {} is not in the chain", kept.unwrap_or(""));
    }
    Ok(Ok((verifier.count(), verifier.head().to_owned())))
}

#[derive(Args)]
struct ScopeArgs {
    /// Role: national_admin, provincial_officer, county_expert, partner_org, donor, producer, volunteer.
    #[arg(long)]
    role: String,
    /// Province code (provincial officer; county expert may omit it).
    #[arg(long)]
    province: Option<String>,
    /// County code (county expert).
    #[arg(long)]
    county: Option<String>,
    /// Organisation id (partner organisation).
    #[arg(long)]
    organisation: Option<i64>,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a user. The password comes from HAMDELI_PASSWORD or, with --password-stdin, from
    /// standard input (never the command line, where `ps` shows it); without either a strong
    /// one is generated and printed.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// Read the password from standard input (one line); else HAMDELI_PASSWORD is used.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Change a user's role and scope (signs the user out).
    SetRole {
        #[arg(long)]
        username: String,
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Set a new password (HAMDELI_PASSWORD or --password-stdin; else generated and printed), lift
    /// any lockout, sign the user out.
    ResetPassword {
        #[arg(long)]
        username: String,
        /// Read the password from standard input (one line); else HAMDELI_PASSWORD is used.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    ListUsers,
    /// Register an organisation (audited as cli:<os user>). Without --province it is national.
    CreateOrganisation {
        /// Its Persian name (unique).
        #[arg(long)]
        name_fa: String,
        /// Its Latin name.
        #[arg(long, default_value = "")]
        name_en: String,
        #[arg(long, value_parser = ["relief_committee", "welfare", "charity", "ngo", "office"])]
        kind: String,
        /// Province code (e.g. 23 for Tehran).
        #[arg(long)]
        province: Option<String>,
    },
    /// List organisations (id, kind, province, active or not, names).
    ListOrganisations,
    /// Set what one organisation shares with another of the persons both hold records of:
    /// `match` (the default: only that a match exists) or `full` (its records in full).
    Share {
        #[arg(long)]
        from: i64,
        #[arg(long)]
        to: i64,
        #[arg(long, value_parser = ["match", "full"])]
        level: String,
    },
    /// Recompute the summary tables (coverage by place) from the registry, in one transaction
    /// (they are kept up to date as the registry changes; this is for after a restore or a
    /// manual change in the database).
    RebuildSummaries,
}

fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("HAMDELI_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    // Files this process creates (database, its -wal/-shm, backups, secret key) are private.
    hamdeli::config::private_umask();
    let cli = Cli::parse();
    let bind = match &cli.command {
        Command::Serve { bind, .. } => bind.clone(),
        _ => None,
    };
    let flags = Layer {
        bind,
        database_url: cli.database_url.clone(),
        data_dir: cli.data_dir.clone(),
        log_format: cli.log_format.clone(),
        ..Default::default()
    };
    let env = Layer::from_env(|k| std::env::var(k).ok())?;
    let config = Config::load(cli.config.as_deref(), env, flags)?;
    init_tracing(config.log_format);
    config.protect_files()?;
    match cli.command {
        Command::Serve {
            demo: with_demo,
            demo_people,
            ..
        } => serve(&config, with_demo, demo_people).await,
        Command::Migrate => {
            open_store(&config).await?;
            println!(
                "database {} is at schema version {}",
                redact(&config.database_url),
                hamdeli_store::migrations::latest_version()
            );
            Ok(())
        }
        Command::Demo { people } => {
            let store = open_store(&config).await?;
            demo::check_may_seed(&store).await?;
            let logins = demo::seed(&store).await?;
            if people > 0 && hamdeli::demo_population::registry_is_empty(&store).await? {
                eprintln!("making and importing a synthetic population of {people} people…");
                let report = hamdeli::demo_population::seed(
                    &store,
                    &config.data_dir.join("demo-lists"),
                    people,
                )
                .await?;
                print_population(&report);
            }
            let dist = hamdeli::demo_distribution::seed(&store).await?;
            print_distribution(&dist);
            demo::seed_capabilities(&store).await;
            // What the seeds after the imports marked, folded into the summaries now: the
            // first report of a fresh demo data set refreshes nothing.
            hamdeli_store::scale::refresh(&store).await?;
            demo::print_logins(None, &logins);
            Ok(())
        }
        Command::Admin { command } => admin(&config, command).await,
        Command::Loans { command } => loans_cli::run(&config, command).await,
        Command::Backup { out } => {
            let store = open_store(&config).await?;
            backup::sqlite_backup(&store, &out)
                .await
                .map_err(|e| match e {
                    hamdeli_store::StoreError::Invalid("backup-postgres-use-pg-dump") => {
                        anyhow::anyhow!(
                            "this database is PostgreSQL: back it up with pg_dump (see README)"
                        )
                    }
                    hamdeli_store::StoreError::Invalid("backup-destination-exists") => {
                        anyhow::anyhow!("{} already exists; choose a new file", out.display())
                    }
                    other => anyhow::Error::new(other),
                })?;
            println!("backup written to {}", out.display());
            Ok(())
        }
        Command::Link {
            inputs,
            out,
            threshold,
            pairs,
            rejects,
        } => {
            anyhow::ensure!(
                (0.0..=1.0).contains(&threshold),
                "--threshold must be between 0 and 1"
            );
            hamdeli::link::run(&hamdeli::link::LinkArgs {
                inputs,
                out,
                threshold,
                pairs,
                rejects,
            })
        }
        Command::Import {
            organisation,
            list,
            kind,
            file,
            dry_run,
            report,
            defer_link,
        } => {
            import_command(
                &config,
                &ImportArgs {
                    organisation: &organisation,
                    list: &list,
                    kind: &kind,
                    file: &file,
                    dry_run,
                    report_path: report.as_deref(),
                    defer_link,
                },
            )
            .await
        }
        Command::Relink => {
            let store = open_store(&config).await?;
            let principal = hamdeli_app::system_principal();
            let caller = hamdeli_app::Caller::new(&principal, "cli");
            // Links the records, then builds the households and support-ledger entries of
            // every batch it linked, as a linked import does.
            let done = hamdeli_app::imports::relink(
                &store,
                &caller,
                &hamdeli_link::LinkOptions::default(),
            )
            .await
            .map_err(explain_app)?;
            let report = &done.link;
            println!(
                "linked {} records without a person (of {}): {} new persons, {} joined existing persons, {} pairs for review, {:.1} s",
                report.new_records,
                report.records,
                report.applied.persons_created,
                report.applied.records_joined,
                report.applied.reviews_opened,
                report.millis as f64 / 1000.0
            );
            println!(
                "facts of {} batches: {} households ({} new), {} members, {} support ledger entries",
                done.batches.len(),
                done.facts.households,
                done.facts.households_new,
                done.facts.members,
                done.facts.support_entries
            );
            if !done.failed.is_empty() {
                anyhow::bail!(
                    "the household and support facts of batches {:?} were not applied (see the log)",
                    done.failed
                );
            }
            Ok(())
        }
        Command::Allocate {
            requests,
            pool,
            out,
            quotas,
            policy,
        } => {
            let policy = hamdeli_alloc::Policy::parse(&policy).with_context(|| {
                format!("--policy must be water-fill or priority, not {policy:?}")
            })?;
            let job = hamdeli_alloc::files::FileJob {
                requests,
                pool,
                quotas,
                policy,
                out,
            };
            let report = hamdeli_alloc::files::run_file_job(&job)?;
            eprintln!(
                "allocated {} units over {} requests (level {:.6}) in {:.2} s; wrote {}",
                report.total_allocated,
                report.rows,
                report.level,
                (report.read + report.allocate + report.write).as_secs_f64(),
                job.out.display()
            );
            Ok(())
        }
        Command::Bench {
            command:
                BenchCommand::Market {
                    orders,
                    stock,
                    products,
                    readers,
                    requests,
                },
        } => {
            let store = open_store(&config).await?;
            let report = hamdeli::demo_market::bench(
                &store, &config, orders, stock, products, readers, requests,
            )
            .await?;
            println!("{report}");
            Ok(())
        }
        Command::Bench {
            command:
                BenchCommand::Concurrency {
                    imports,
                    rows,
                    pledges,
                    rounds,
                },
        } => {
            let store = open_store(&config).await?;
            let report =
                hamdeli::bench::concurrency(&store, &config, imports, rows, pledges, rounds.max(1))
                    .await?;
            println!("{report}");
            Ok(())
        }
        Command::Bench {
            command:
                BenchCommand::Pages {
                    url,
                    routes,
                    requests,
                },
        } => {
            // The ids its routes need, from the data set (a table given with ids written in
            // needs none: a database another binary's schema holds cannot be opened).
            let values = match open_store(&config).await {
                Ok(store) => {
                    let values = hamdeli_store::bench::page_placeholders(&store).await?;
                    store.close().await;
                    values
                }
                Err(e) => {
                    eprintln!("no ids from the data set ({e:#}); routes with {{…}} are skipped");
                    Vec::new()
                }
            };
            let table = match routes {
                Some(f) => std::fs::read_to_string(&f)
                    .with_context(|| format!("reading {}", f.display()))?,
                None => hamdeli::bench::PAGE_ROUTES.to_owned(),
            };
            let routes = hamdeli::bench::parse_routes(&table, &values);
            let timings =
                hamdeli::bench::pages(url.trim_end_matches('/'), &routes, requests).await?;
            println!("{}", hamdeli::bench::pages_table(&timings));
            Ok(())
        }
        Command::Bench {
            command:
                BenchCommand::Reports {
                    datasets,
                    elements,
                    months,
                    requests,
                },
        } => {
            let store = open_store(&config).await?;
            let report =
                hamdeli::demo_reports::bench(&store, &config, datasets, elements, months, requests)
                    .await?;
            println!("{report}");
            Ok(())
        }
        Command::Reports { action } => {
            let store = open_store(&config).await?;
            let line = match action.as_str() {
                "demo" => {
                    hamdeli::demo::seed(&store).await?;
                    hamdeli::demo_reports::seed(&store).await?
                }
                "refresh" => hamdeli::demo_reports::refresh(&store).await?,
                other => anyhow::bail!("unknown reports action {other:?} (demo or refresh)"),
            };
            println!("{line}");
            Ok(())
        }
        Command::Bench {
            command: BenchCommand::Network { volunteers, cases },
        } => {
            let store = open_store(&config).await?;
            bench_network::run(&store, volunteers, cases).await
        }
        Command::Bench {
            command: BenchCommand::AllocationCommit { requests },
        } => {
            let store = open_store(&config).await?;
            let report = hamdeli::bench::allocation_commit(&store, requests).await?;
            println!("{report}");
            Ok(())
        }
        Command::Ledger { command } => {
            let verdict = match command {
                LedgerCommand::Verify {
                    from: Some(from),
                    kept,
                } => verify_feed(&from, kept.as_deref()).await?,
                LedgerCommand::Verify { from: None, kept } => {
                    let store = open_store(&config).await?;
                    let verdict = hamdeli_store::ledger::verify(&store).await?;
                    if let (Some(k), Ok(_)) = (&kept, &verdict) {
                        anyhow::ensure!(
                            hamdeli_store::ledger::contains(&store, k).await?,
                            "the kept head {k} is not in the chain"
                        );
                    }
                    verdict
                }
                LedgerCommand::Head => {
                    let store = open_store(&config).await?;
                    let (n, hash) = hamdeli_store::ledger::head(&store).await?;
                    println!("{n} entries, head {hash}");
                    return Ok(());
                }
                LedgerCommand::Publish => {
                    let store = open_store(&config).await?;
                    let now = hamdeli_store::now_millis();
                    let appended = hamdeli_store::ledger::publish_closed_days(&store, now).await?;
                    let (today, held) = hamdeli_store::ledger::waiting(&store, now).await?;
                    let (n, hash) = hamdeli_store::ledger::head(&store).await?;
                    println!(
                        "appended {} aggregate entries; days closed through {}; waiting: {today} \
                         event(s) of today, {held} held (cells under {}); {n} entries, head {hash}",
                        appended.len(),
                        hamdeli_domain::ledger::iso_day(hamdeli_domain::ledger::day_of(now) - 1),
                        hamdeli_domain::ledger::MIN_PUBLIC_COUNT,
                    );
                    return Ok(());
                }
            };
            match verdict {
                Ok((n, hash)) => println!("ok: {n} entries, head {hash}"),
                Err(broken) => {
                    eprintln!("BROKEN at entry {}: {broken}", broken.seq());
                    std::process::exit(1);
                }
            }
            Ok(())
        }
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&hamdeli_web::api::openapi())?
            );
            Ok(())
        }
    }
}

fn print_distribution(r: &hamdeli::demo_distribution::DistributionReport) {
    println!(
        "demo distribution: {} needs ({} verified) in {:.1} s, {} campaigns, {} donations, {} allocations ({} delivered, {} failed); {} support records left to sync (the imports filed the lists' support as they went) ({:.1} s)",
        r.needs,
        r.verified,
        r.needs_seconds,
        r.campaigns,
        r.donations,
        r.allocations,
        r.delivered,
        r.failed,
        r.imported_support,
        r.seconds
    );
}

fn print_population(report: &hamdeli::demo_population::PopulationReport) {
    println!(
        "demo population: {} people in {} households ({:.1} s)",
        report.people, report.households, report.seconds
    );
    for l in &report.lists {
        println!(
            "  {:<22} rows {:>6} = accepted {:>6} + rejected {:>3}; new persons {:>6}, joined {:>5}, for review {:>4}",
            l.name,
            l.rows_in,
            l.accepted,
            l.rejected,
            l.persons_created,
            l.records_joined,
            l.reviews_opened
        );
    }
    if let Some(r) = &report.relinked {
        println!(
            "  bulk load, linked once: {} records, new persons {}, joined {}, for review {} ({:.1} s)",
            r.records, r.persons_created, r.records_joined, r.reviews_opened, r.seconds
        );
    }
    println!(
        "  households: {} with {} members in the registry",
        report.households_loaded, report.members_linked
    );
}

async fn serve(config: &Config, with_demo: bool, demo_people: usize) -> Result<()> {
    let store = open_store(config).await?;
    // Batches of a process that is gone, at start-up and then every heartbeat while serving.
    sweep_interrupted_batches(&store).await;
    let sweeping = store.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(hamdeli_store::registry::HEARTBEAT_EVERY).await;
            sweep_interrupted_batches(&sweeping).await;
        }
    });
    tokio::spawn(hamdeli_app::market::run_sweeper(store.clone()));
    let logins = if with_demo {
        demo::check_may_seed(&store).await?;
        Some(demo::seed(&store).await?)
    } else {
        None
    };
    let state = app_state(store.clone(), config).await?;
    let listener = tokio::net::TcpListener::bind(&config.bind)
        .await
        .with_context(|| format!("listening on {}", config.bind))?;
    let address = listener.local_addr()?.to_string();
    if let Some(logins) = &logins {
        demo::print_logins(Some(&address), logins);
    }
    println!(
        "Hamdeli is serving on http://{address}/ (database: {})",
        redact(&config.database_url)
    );
    tracing::info!(%address, engine = store.engine().name(), "serving");
    if with_demo && demo_people > 0 && hamdeli::demo_population::registry_is_empty(&store).await? {
        println!(
            "The synthetic demo population ({demo_people} people) is being imported and linked in the background; \
             the registry pages fill in as it goes."
        );
        let seeding = store.clone();
        let dir = config.data_dir.join("demo-lists");
        tokio::spawn(async move {
            match hamdeli::demo_population::seed(&seeding, &dir, demo_people).await {
                Ok(report) => print_population(&report),
                Err(e) => {
                    tracing::error!(error = %e, "the demo population could not be made");
                    return;
                }
            }
            match hamdeli::demo_distribution::seed(&seeding).await {
                Ok(report) => print_distribution(&report),
                Err(e) => tracing::error!(error = %e, "the demo campaigns could not be made"),
            }
            demo::seed_capabilities(&seeding).await;
        });
    }
    tokio::spawn(hamdeli_app::network::volunteers::sweep_daily(store.clone()));
    let purge = store.clone();
    tokio::spawn(async move {
        loop {
            if let Err(e) = hamdeli_store::sessions::purge_expired(&purge).await {
                tracing::warn!(error = %e, "could not purge expired sessions");
            }
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    });
    hamdeli_web::serve(listener, state, shutdown_signal()).await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

fn scope_of(args: &ScopeArgs) -> Result<(Role, Scope)> {
    let role = Role::parse(&args.role).with_context(|| format!("unknown role {:?}", args.role))?;
    let scope = Scope::for_role(
        role,
        args.province.as_deref(),
        args.county.as_deref(),
        args.organisation,
    )
    .map_err(|e| {
        anyhow::anyhow!("{e}: give --province, --county or --organisation as the role needs")
    })?;
    Ok((role, scope))
}

/// A county expert's province follows from the county.
async fn complete_scope(store: &hamdeli_store::Store, args: &ScopeArgs) -> Result<(Role, Scope)> {
    if args.role == Role::CountyExpert.as_str()
        && args.province.is_none()
        && let Some(c) = &args.county
    {
        let county = geo::county(store, c)
            .await?
            .with_context(|| format!("unknown county {c}"))?;
        let filled = ScopeArgs {
            role: args.role.clone(),
            province: Some(county.province_code),
            county: args.county.clone(),
            organisation: args.organisation,
        };
        return scope_of(&filled);
    }
    scope_of(args)
}

/// The password an admin command was given: one line of standard input with `--password-stdin`,
/// else `HAMDELI_PASSWORD`; `None` when neither (then one is generated).
fn given_password(from_stdin: bool) -> Result<Option<String>> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        let password = line.trim_end_matches(['\n', '\r']).to_owned();
        anyhow::ensure!(
            !password.is_empty(),
            "--password-stdin: standard input held no password"
        );
        return Ok(Some(password));
    }
    Ok(std::env::var("HAMDELI_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty()))
}

fn generated_password() -> String {
    hamdeli_store::tokens::random_token()[..20].to_owned()
}

async fn admin(config: &Config, command: AdminCommand) -> Result<()> {
    let store = open_store(config).await?;
    // The command line acts as the system principal `cli:<os user>`, through the same use
    // cases (and audit entries) as the pages.
    let principal = hamdeli_app::system_principal();
    let caller = hamdeli_app::Caller::new(&principal, "cli");
    match command {
        AdminCommand::RebuildSummaries => {
            let started = std::time::Instant::now();
            hamdeli_store::scale::rebuild(&store).await?;
            println!(
                "summaries rebuilt in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        AdminCommand::CreateUser {
            username,
            display_name,
            password_stdin,
            scope,
        } => {
            let (role, scope) = complete_scope(&store, &scope).await?;
            let (password, generated) = match given_password(password_stdin)? {
                Some(p) => (p, false),
                None => (generated_password(), true),
            };
            let id = hamdeli_app::users::create(
                &store,
                &caller,
                NewUser {
                    username: username.clone(),
                    display_name,
                    password: password.clone(),
                    role,
                    scope: scope.clone(),
                    locale: config.default_locale.tag().into(),
                    is_demo: false,
                },
            )
            .await
            .map_err(explain_app)?;
            println!(
                "created user {username} (id {id}) as {} with scope {}",
                role.as_str(),
                scope.label()
            );
            if generated {
                println!("password: {password}");
            }
        }
        AdminCommand::SetRole { username, scope } => {
            let id = users::id_by_username(&store, &username)
                .await?
                .with_context(|| format!("no user {username}"))?;
            let (role, scope) = complete_scope(&store, &scope).await?;
            hamdeli_app::users::change_role(&store, &caller, id, role, &scope)
                .await
                .map_err(explain_app)?;
            println!(
                "{username} is now {} with scope {}",
                role.as_str(),
                scope.label()
            );
        }
        AdminCommand::ResetPassword {
            username,
            password_stdin,
        } => {
            let id = users::id_by_username(&store, &username)
                .await?
                .with_context(|| format!("no user {username}"))?;
            let (password, generated) = match given_password(password_stdin)? {
                Some(p) => (p, false),
                None => (generated_password(), true),
            };
            hamdeli_app::users::reset_password(&store, &caller, id, password.clone())
                .await
                .map_err(explain_app)?;
            println!("password of {username} reset; sessions signed out");
            if generated {
                println!("password: {password}");
            }
        }
        AdminCommand::ListUsers => {
            for u in users::list(&store, &hamdeli_domain::PlaceFilter::All).await? {
                println!(
                    "{:>5}  {:<20} {:<20} {:<24} {}{}",
                    u.id,
                    u.username,
                    u.role.as_str(),
                    u.scope.label(),
                    if u.active { "active" } else { "inactive" },
                    if u.is_demo { " (demo)" } else { "" }
                );
            }
        }
        AdminCommand::CreateOrganisation {
            name_fa,
            name_en,
            kind,
            province,
        } => {
            let principal = hamdeli_app::system_principal();
            let caller = hamdeli_app::Caller::new(&principal, "cli");
            let input = hamdeli_app::organisations::OrganisationInput {
                name_fa,
                name_en,
                kind,
                province,
            };
            let id = hamdeli_app::organisations::create(&store, &caller, input)
                .await
                .map_err(explain_app)?;
            println!("created organisation {id}");
        }
        AdminCommand::ListOrganisations => {
            let everyone = hamdeli_domain::PlaceFilter::All;
            for o in hamdeli_store::organisations::list(&store, &everyone).await? {
                println!(
                    "{:>5}  {:<16} {:<8} {:<8} {}{}  {}",
                    o.id,
                    o.kind,
                    o.province_code.as_deref().unwrap_or("-"),
                    if o.active { "active" } else { "inactive" },
                    o.name_fa,
                    if o.is_demo { " (demo)" } else { "" },
                    o.name_en,
                );
            }
        }
        AdminCommand::Share { from, to, level } => {
            let level = hamdeli_store::sharing::Level::parse(&level)
                .ok_or_else(|| anyhow::anyhow!("level is match or full"))?;
            let principal = hamdeli_app::system_principal();
            let caller = hamdeli_app::Caller::new(&principal, "cli");
            hamdeli_app::sharing::set_rule(&store, &caller, from, to, level)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("organisation {from} shares with {to}: {}", level.as_str());
        }
    }
    Ok(())
}

/// Use-case refusals in English words for the terminal.
fn explain_app(e: hamdeli_app::Error) -> anyhow::Error {
    match e {
        hamdeli_app::Error::Invalid(id) | hamdeli_app::Error::Conflict(id) => {
            anyhow::anyhow!("{}", hamdeli_locale::t(hamdeli_locale::Locale::En, id))
        }
        other => anyhow::Error::new(other),
    }
}

/// The name an import batch records for its file.
fn file_name_of(file: &std::path::Path) -> String {
    file.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Redraws an import's progress bar on standard error until aborted.
fn draw_progress(
    progress: std::sync::Arc<hamdeli_registry::import::Progress>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let (stage, done, total) = progress.snapshot();
            hamdeli::progress::draw(stage.code(), done, total);
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    })
}

fn print_columns(
    format: &hamdeli_ingest::FileFormat,
    mapping: &hamdeli_ingest::ColumnMapping,
) -> Result<()> {
    println!("format: {}", serde_json::to_string(format)?);
    println!("columns:");
    for (h, c) in mapping.headers.iter().zip(&mapping.columns) {
        let target = match c {
            hamdeli_ingest::Column::Field(f) => f.canonical().to_owned(),
            hamdeli_ingest::Column::Extra(_) => "(extra attribute)".to_owned(),
            hamdeli_ingest::Column::Duplicate(_) => "(repeated header: extra attribute)".to_owned(),
        };
        println!("  {h:<24} -> {target}");
    }
    Ok(())
}

/// `hamdeli import --defer-link`: the file is written while it is read, chunk by chunk.
async fn stream_unlinked_import(
    store: &hamdeli_store::Store,
    caller: &hamdeli_app::Caller<'_>,
    org_id: i64,
    args: &ImportArgs<'_>,
    started: std::time::Instant,
) -> Result<()> {
    let file = args.file;
    let reader = hamdeli_ingest::open_with(file, &hamdeli_ingest::Limits::BULK)
        .and_then(hamdeli_ingest::ChunkReader::new)
        .with_context(|| format!("reading {}", file.display()))?;
    print_columns(&reader.format, &reader.mapping)?;
    let name = file_name_of(file);
    let progress = std::sync::Arc::new(hamdeli_registry::import::Progress::default());
    let ticker = draw_progress(progress.clone());
    let result = hamdeli_app::imports::commit_streamed(
        store, caller, org_id, args.list, args.kind, &name, reader, &progress,
    )
    .await;
    ticker.abort();
    let (stage, done, total) = progress.snapshot();
    hamdeli::progress::draw(stage.code(), done, total);
    eprintln!(
        "\nread and written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    print_outcome(&result.map_err(explain_app)?, args.report_path)
}

fn print_outcome(
    outcome: &hamdeli_registry::import::Outcome,
    report_path: Option<&std::path::Path>,
) -> Result<()> {
    use std::io::Write;
    println!("{}", outcome.summary());
    if let Some(batch) = outcome.batch_id {
        println!(
            "batch {batch}: {} inserted, {} updated",
            outcome.written.inserted, outcome.written.updated
        );
    } else {
        println!("dry run: nothing written");
    }
    if let Some(link) = &outcome.link {
        println!(
            "linked: {} new records, {} new persons, {} joined existing persons, {} pairs for review ({:.1} s)",
            link.new_records,
            link.applied.persons_created,
            link.applied.records_joined,
            link.applied.reviews_opened,
            link.millis as f64 / 1000.0
        );
    }
    for p in outcome
        .problems
        .iter()
        .filter(|p| p.severity == "rejected")
        .take(20)
    {
        println!("  row {}: rejected ({}) {}", p.row_number, p.code, p.detail);
    }
    if let Some(path) = report_path {
        let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
        writeln!(w, "row,severity,code,detail")?;
        for p in &outcome.problems {
            // A leading = + - @ (or tab, CR) would run as a formula in a spreadsheet.
            let detail = hamdeli_ingest::formula_safe(&p.detail).replace('"', "\"\"");
            writeln!(w, "{},{},{},\"{detail}\"", p.row_number, p.severity, p.code)?;
        }
        w.flush()?;
        println!("per-row report written to {}", path.display());
    }
    Ok(())
}

struct ImportArgs<'a> {
    organisation: &'a str,
    list: &'a str,
    kind: &'a str,
    file: &'a std::path::Path,
    dry_run: bool,
    report_path: Option<&'a std::path::Path>,
    defer_link: bool,
}

async fn import_command(config: &Config, args: &ImportArgs<'_>) -> Result<()> {
    let ImportArgs {
        organisation,
        list,
        kind,
        file,
        dry_run,
        report_path,
        defer_link,
    } = *args;
    // The command line acts as a named system principal (`cli:<os user>`): the import use
    // case has each batch write its audit entry in the batch's own transaction, as it.
    let principal = hamdeli_app::system_principal();
    let caller = hamdeli_app::Caller::new(&principal, "cli");
    let store = open_store(config).await?;
    sweep_interrupted_batches(&store).await;
    let org_id = match organisation.parse::<i64>() {
        Ok(id) => hamdeli_store::organisations::by_id(&store, id)
            .await?
            .map(|o| o.id),
        Err(_) => hamdeli_store::organisations::id_by_name(&store, organisation).await?,
    }
    .with_context(|| format!("no organisation {organisation:?}"))?;
    let started = std::time::Instant::now();
    if defer_link && !dry_run {
        return stream_unlinked_import(&store, &caller, org_id, args, started).await;
    }
    let path = file.to_path_buf();
    let read = move || {
        hamdeli_ingest::read_all(&path, |n| {
            if n > 0 {
                eprint!("\rreading {}: {n} rows\x1b[K", path.display());
            }
        })
    };
    let prepared = hamdeli_app::imports::preview(&store, &caller, org_id, read)
        .await
        .map_err(explain_app)?
        .with_context(|| format!("reading {}", file.display()))?;
    eprintln!(
        "\rreading {}: {} rows in {:.1} s",
        file.display(),
        prepared.outcome.rows_in(),
        started.elapsed().as_secs_f64()
    );
    print_columns(&prepared.format, &prepared.mapping)?;
    if dry_run {
        println!("sample rows as parsed:");
        for r in prepared.outcome.records.iter().take(5) {
            println!(
                "  row {}: id={} code={} name={} {} birth={} phone={} place={}/{}",
                r.row_number,
                r.source_id,
                r.national_code.as_deref().unwrap_or("-"),
                r.first_name.as_deref().unwrap_or("-"),
                r.last_name.as_deref().unwrap_or("-"),
                r.birth_date.as_deref().unwrap_or("-"),
                r.phone.as_deref().unwrap_or("-"),
                r.province_code.as_deref().unwrap_or("-"),
                r.county_code.as_deref().unwrap_or("-"),
            );
        }
    }
    let outcome = if dry_run {
        prepared.outcome
    } else {
        let name = file_name_of(file);
        let progress = std::sync::Arc::new(hamdeli_registry::import::Progress::default());
        let ticker = draw_progress(progress.clone());
        let written_at = std::time::Instant::now();
        let result = hamdeli_app::imports::commit(
            &store,
            &caller,
            prepared,
            list,
            kind,
            &name,
            &progress,
            !defer_link,
        )
        .await;
        eprintln!(
            "\nwritten{} in {:.1} s (whole import {:.1} s)",
            if defer_link { "" } else { " and linked" },
            written_at.elapsed().as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
        ticker.abort();
        let (stage, done, total) = progress.snapshot();
        hamdeli::progress::draw(stage.code(), done, total);
        eprintln!();
        let outcome = result.map_err(explain_app)?;
        if !defer_link && outcome.link.is_none() {
            eprintln!(
                "warning: the batch is written, but linking it failed (see the log); `hamdeli relink` links what is left"
            );
        }
        outcome
    };
    print_outcome(&outcome, report_path)?;
    Ok(())
}

/// Marks batches left running by a process that is gone (a killed import or server) as failed,
/// "interrupted"; batches another live process is writing keep running.
async fn sweep_interrupted_batches(store: &hamdeli_store::Store) {
    match hamdeli_store::registry::fail_interrupted_batches(
        store,
        hamdeli_store::registry::STALE_AFTER,
    )
    .await
    {
        Ok(0) => {}
        Ok(n) => eprintln!("{n} import batch(es) of a stopped process marked interrupted"),
        Err(e) => tracing::warn!(error = %e, "could not sweep interrupted import batches"),
    }
}
