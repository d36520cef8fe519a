//! `hamdeli bench …`: figures the issues ask for, measured on the real storage path.

use std::time::Instant;

use anyhow::{Context, Result};

use hamdeli_alloc::Policy;
use hamdeli_store::Store;
use hamdeli_store::campaigns::{self, NewCampaign};
use hamdeli_store::distribution::{self, Window};

/// Adds `requests` verified food needs in one county and a campaign holding half of what they
/// need, then times the dry run and the commit (one transaction, guarded updates).
pub async fn allocation_commit(store: &Store, requests: usize) -> Result<String> {
    crate::demo::seed(store).await?;
    let started = Instant::now();
    let needed =
        hamdeli_store::bench::verified_needs(store, "23", "2301", "food", requests).await?;
    let setup = started.elapsed();
    let pool = needed / 2;
    let mut tx = store.begin().await?;
    let campaign = campaigns::create(
        &mut tx,
        &NewCampaign {
            title: format!("بنچمارک تخصیص {requests}"),
            description: String::new(),
            organisation_id: None,
            province_code: Some("23".into()),
            county_code: Some("2301".into()),
            goal_rials: 0,
            starts_on: "2020-01-01".into(),
            ends_on: "2100-01-01".into(),
            need_types: vec![("food".into(), pool)],
        },
        None,
    )
    .await?;
    let user = hamdeli_store::users::id_by_username(store, "donor")
        .await?
        .context("the demo donor")?;
    let donor = match campaigns::donor_of_user(store, user).await? {
        Some(d) => d.id,
        None => campaigns::register_donor(&mut tx, user, "09120000000").await?,
    };
    let pledge = campaigns::pledge(&mut tx, campaign, donor, "food", pool).await?;
    campaigns::receive(&mut tx, pledge, pool, "BENCH", None).await?;
    tx.commit().await?;
    let c = campaigns::get(store, campaign)
        .await?
        .context("the campaign")?;
    let window = Window {
        from: 0,
        to: i64::MAX,
    };
    let t = Instant::now();
    let plan = distribution::dry_run(store, &c, "food", Policy::WaterFill, window).await?;
    let dry = t.elapsed();
    let t = Instant::now();
    let done = distribution::commit(
        store,
        &c,
        "food",
        Policy::WaterFill,
        window,
        distribution::CommittedBy::unaudited(None),
    )
    .await?;
    let commit = t.elapsed();
    Ok(format!(
        "allocation commit on {engine}: {requests} verified needs ({needed} units), pool {pool}\n  \
         setup (synthetic rows) {setup:.2} s\n  dry run {dry:.2} s ({eligible} eligible, {planned} units planned)\n  \
         commit {commit:.2} s ({allocs} allocations, {total} units, one transaction)",
        engine = store.engine().name(),
        setup = setup.as_secs_f64(),
        dry = dry.as_secs_f64(),
        eligible = plan.eligible,
        planned = plan.total,
        commit = commit.as_secs_f64(),
        allocs = done.allocations,
        total = done.total,
    ))
}

/// What `hamdeli bench concurrency` measured.
struct Round {
    requests: usize,
    seconds: f64,
    server_errors: usize,
    refused: usize,
}

impl Round {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// A signed-in HTTP client of the bench's own server: its cookies and CSRF token.
struct WebClient {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl WebClient {
    async fn login(base: &str, username: &str) -> Result<WebClient> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let login = http
            .get(format!("{base}/login"))
            .send()
            .await?
            .text()
            .await?;
        let token = csrf_of(&login).context("the login page's CSRF token")?;
        let r = http
            .post(format!("{base}/login"))
            .form(&[
                ("username", username),
                ("password", crate::demo::DEMO_PASSWORD),
                ("next", "/"),
                ("_csrf", &token),
            ])
            .send()
            .await?;
        anyhow::ensure!(
            r.status().is_redirection(),
            "sign-in of {username}: {}",
            r.status()
        );
        let account = http
            .get(format!("{base}/account"))
            .send()
            .await?
            .text()
            .await?;
        let token = csrf_of(&account).context("the account page's CSRF token")?;
        Ok(WebClient {
            http,
            base: base.to_owned(),
            token,
        })
    }
}

fn csrf_of(html: &str) -> Option<String> {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker)? + marker.len();
    html.get(start..start + 64).map(str::to_owned)
}

/// A list of `rows` people of its own (list `k`: distinct codes), as CSV.
fn bench_list(k: usize, rows: usize) -> String {
    let firsts = [
        "زهرا",
        "مریم",
        "فاطمه",
        "سمیه",
        "لیلا",
        "نرگس",
        "شیرین",
        "الهام",
    ];
    let lasts = ["احمدی", "کریمی", "رضایی", "موسوی", "حسینی", "صادقی", "نوری"];
    let mut csv = String::from(
        "source_id,national_code,first_name,last_name,father_name,birth_date,province,county\n",
    );
    for i in 0..rows {
        let code = hamdeli_text::NationalCode::generate((1_000_000 + k * 100_000 + i) as u64);
        csv.push_str(&format!(
            "b{k}-{i},{code},{},{},علی,1360/{:02}/{:02},تهران,ری\n",
            firsts[(k + i) % 8],
            lasts[(k * 3 + i / 8) % 7],
            (i / 28) % 12 + 1,
            i % 28 + 1
        ));
    }
    csv
}

/// `imports` lists of `rows` rows uploaded at once through the web import (each links in the
/// background); timed until every batch is committed and linked.
async fn parallel_imports(
    store: &Store,
    base: &str,
    imports: usize,
    rows: usize,
    round: usize,
) -> Result<Round> {
    let org = hamdeli_store::organisations::id_by_name(store, "کمیته امداد (نمایشی)")
        .await?
        .context("the demo relief organisation")?;
    let partner = std::sync::Arc::new(WebClient::login(base, "relief.partner").await?);
    let lists: Vec<String> = (0..imports)
        .map(|k| bench_list(round * imports + k, rows))
        .collect();
    let started = Instant::now();
    let mut jobs = Vec::new();
    for (k, csv) in lists.into_iter().enumerate() {
        let c = partner.clone();
        jobs.push(tokio::spawn(async move {
            // The CSRF token is the first part of a multipart form.
            let form = reqwest::multipart::Form::new()
                .text("_csrf", c.token.clone())
                .text("organisation", org.to_string())
                .text("list", format!("بنچمارک {round}-{k}"))
                .text("kind", "support")
                .text("mode", "commit")
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("list.csv"),
                );
            c.http
                .post(format!("{}/registry/imports?_csrf={}", c.base, c.token))
                .multipart(form)
                .send()
                .await
        }));
    }
    let mut batches = Vec::new();
    let (mut server_errors, mut refused) = (0, 0);
    for job in jobs {
        let r = job.await??;
        if r.status().is_server_error() {
            server_errors += 1;
        } else if !r.status().is_redirection() {
            refused += 1;
        }
        if let Some(id) = r
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .and_then(|l| l.rsplit('/').next())
            .and_then(|id| id.parse::<i64>().ok())
        {
            batches.push(id);
        }
    }
    // Finished: no batch running, and every job has written its audit entry.
    loop {
        let mut running = 0;
        for &b in &batches {
            let batch = hamdeli_store::registry::batch(store, b)
                .await?
                .context("a batch")?;
            if batch.status == hamdeli_store::registry::BatchStatus::Running {
                running += 1;
            }
        }
        let ids: Vec<String> = batches.iter().map(i64::to_string).collect();
        let audited = audit_of(store, &["import.commit", "import.failed"], &ids).await?;
        if running == 0 && audited >= batches.len() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    for &b in &batches {
        let batch = hamdeli_store::registry::batch(store, b)
            .await?
            .context("a batch")?;
        anyhow::ensure!(
            batch.status == hamdeli_store::registry::BatchStatus::Committed,
            "batch {b} failed: {:?}",
            batch.error
        );
    }
    Ok(Round {
        requests: batches.len(),
        seconds,
        server_errors,
        refused,
    })
}

/// Audit entries of these actions on these import batches.
async fn audit_of(store: &Store, actions: &[&str], batch_ids: &[String]) -> Result<usize> {
    let mut n = 0;
    for a in actions {
        for id in batch_ids {
            n += count_audit(store, a, Some(id)).await?;
        }
    }
    Ok(n)
}

/// Audit entries of an action (on one target id when given), page by page.
async fn count_audit(store: &Store, action: &str, target_id: Option<&str>) -> Result<usize> {
    let mut n = 0;
    let mut before = None;
    loop {
        let page = hamdeli_store::audit::list(
            store,
            &hamdeli_store::audit::Filter {
                action: Some(action.to_owned()),
                target_id: target_id.map(str::to_owned),
                limit: 500,
                before_id: before,
                ..Default::default()
            },
        )
        .await?;
        n += page.len();
        match page.last() {
            Some(e) if page.len() == 500 => before = Some(e.id),
            _ => return Ok(n),
        }
    }
}

/// `pledges` pledges at once, eight per donor, on a new campaign.
async fn parallel_pledges(
    store: &Store,
    donors: &[std::sync::Arc<WebClient>],
    pledges: usize,
    round: usize,
) -> Result<(Round, i64)> {
    let mut tx = store.begin().await?;
    let campaign = campaigns::create(
        &mut tx,
        &NewCampaign {
            title: format!("بنچمارک تعهد {round}"),
            description: String::new(),
            organisation_id: None,
            province_code: None,
            county_code: None,
            goal_rials: 1_000_000_000_000,
            starts_on: "2020-01-01".into(),
            ends_on: "2100-01-01".into(),
            need_types: vec![("rent_housing".into(), 0)],
        },
        None,
    )
    .await?;
    tx.commit().await?;
    let started = Instant::now();
    let mut jobs = Vec::new();
    for i in 0..pledges {
        let c = donors[i % donors.len()].clone();
        jobs.push(tokio::spawn(async move {
            let amount = (1000 * (i % 7 + 1)).to_string();
            c.http
                .post(format!("{}/campaigns/{campaign}/pledges", c.base))
                .form(&[
                    ("resource", "money"),
                    ("amount", amount.as_str()),
                    ("_csrf", c.token.as_str()),
                ])
                .send()
                .await
                .map(|r| r.status())
        }));
    }
    let (mut server_errors, mut refused) = (0, 0);
    for job in jobs {
        let status = job.await??;
        if status.is_server_error() {
            server_errors += 1;
        } else if !status.is_redirection() {
            refused += 1;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok((
        Round {
            requests: pledges,
            seconds,
            server_errors,
            refused,
        },
        campaign,
    ))
}

/// `hamdeli bench concurrency`: the real server on a local port over the configured (fresh)
/// database, then `imports` parallel web imports of `rows` rows and `pledges` parallel pledges,
/// `rounds` times each. Prints throughput, 5xx answers and whether the pledges, the audit log
/// and the transparency log agree.
pub async fn concurrency(
    store: &Store,
    config: &crate::Config,
    imports: usize,
    rows: usize,
    pledges: usize,
    rounds: usize,
) -> Result<String> {
    crate::demo::seed(store).await?;
    let state = crate::app_state(store.clone(), config).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hamdeli_web::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let mut out = format!(
        "concurrency on {engine}: {imports} parallel web imports of {rows} rows, {pledges} parallel pledges, {rounds} rounds each\n",
        engine = store.engine().name()
    );
    let mut import_rounds = Vec::new();
    for round in 0..rounds {
        import_rounds.push(parallel_imports(store, &base, imports, rows, round).await?);
    }
    // Eight pledges per donor (a donor has at most ten open on a campaign).
    let donor_count = pledges.div_ceil(8).max(1);
    let mut donors = Vec::new();
    for i in 0..donor_count {
        let mobile = format!("0935{:07}", 2_000_000 + i);
        let mut tx = store.begin().await?;
        let user = hamdeli_store::users::create(
            &mut tx,
            hamdeli_store::users::NewUser {
                username: mobile.clone(),
                display_name: format!("بنچمارک {i}"),
                password: crate::demo::DEMO_PASSWORD.into(),
                role: hamdeli_domain::Role::Donor,
                scope: hamdeli_domain::Scope::Own,
                locale: "fa".into(),
                is_demo: true,
            },
        )
        .await?;
        campaigns::register_donor(&mut tx, user, &mobile).await?;
        tx.commit().await?;
        donors.push(std::sync::Arc::new(WebClient::login(&base, &mobile).await?));
    }
    let ledger_before = hamdeli_store::ledger::head(store).await?.0;
    let mut pledge_rounds = Vec::new();
    let mut campaigns_made = Vec::new();
    for round in 0..rounds {
        let (r, c) = parallel_pledges(store, &donors, pledges, round).await?;
        pledge_rounds.push(r);
        campaigns_made.push(c);
    }
    let _ = stop.send(());
    let _ = server.await;
    // Nothing lost: every pledge taken is stored and audited once; the log holds no promises.
    let mut stored = 0;
    for c in &campaigns_made {
        stored += campaigns::pledges_of_campaign(store, *c).await?.len();
    }
    let audited = count_audit(store, "pledge.create", None).await?;
    let ledger_after = hamdeli_store::ledger::head(store).await?.0;
    let chain_ok = hamdeli_store::ledger::verify(store).await?.is_ok();
    let import_failed = count_audit(store, "import.failed", None).await?;
    let line = |name: &str, unit: &str, rounds: &[Round], per: f64| {
        let mut rates: Vec<f64> = rounds.iter().map(Round::per_second).collect();
        rates.sort_by(f64::total_cmp);
        let median = rates[rates.len() / 2];
        let errors: usize = rounds.iter().map(|r| r.server_errors).sum();
        let refused: usize = rounds.iter().map(|r| r.refused).sum();
        let secs: Vec<String> = rounds.iter().map(|r| format!("{:.2}", r.seconds)).collect();
        let rows = if per > 1.0 {
            format!(" ({:.0} rows/s)", median * per)
        } else {
            String::new()
        };
        // Import rounds run against a registry that grows by every round before them.
        format!(
            "  {name}: median {median:.1} {unit}/s{rows}, best {:.1}; rounds took [{}] s; 5xx {errors}, other refusals {refused}\n",
            rates.last().copied().unwrap_or(0.0),
            secs.join(", ")
        )
    };
    out.push_str(&line(
        "imports (upload to committed and linked)",
        "imports",
        &import_rounds,
        rows as f64,
    ));
    out.push_str(&line("pledges", "pledges", &pledge_rounds, 1.0));
    out.push_str(&format!(
        "  agree: {stored} pledges stored of {} sent, {audited} pledge.create audit entries; transparency log {} -> {} entries (chain {}); import.failed entries {import_failed}\n",
        pledges * rounds,
        ledger_before,
        ledger_after,
        if chain_ok { "ok" } else { "BROKEN" },
    ));
    Ok(out)
}

/// The routes `hamdeli bench pages` times when no `--routes` file is given: one line per route
/// and role (see the file's header).
pub const PAGE_ROUTES: &str = include_str!("../../../bench/pages.routes");

/// One route timed as one role.
#[derive(Debug, Clone)]
pub struct PageTiming {
    pub role: String,
    pub path: String,
    pub status: u16,
    pub bytes: usize,
    pub samples: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Parses the route table: `role path` per line, `#` comments; `{name}` placeholders are
/// replaced from `values`, and a line whose placeholder has no value is skipped.
pub fn parse_routes(text: &str, values: &[(&str, String)]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let mut parts = line.split_whitespace();
        let (Some(role), Some(path)) = (parts.next(), parts.next()) else {
            continue;
        };
        let mut path = path.to_owned();
        for (name, value) in values {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        if !path.contains('{') {
            out.push((role.to_owned(), path));
        }
    }
    out
}

/// Times every route of the table as its role against the server at `base` (over loopback):
/// for each, one warm-up request, then `requests` requests one after another (fewer when one
/// takes more than ten seconds), and returns p50/p99 per route and role. Roles are demo
/// usernames, or `public` (not signed in).
pub async fn pages(
    base: &str,
    routes: &[(String, String)],
    requests: usize,
) -> Result<Vec<PageTiming>> {
    let mut clients: std::collections::HashMap<String, reqwest::Client> = Default::default();
    let mut out = Vec::new();
    for (role, path) in routes {
        if !clients.contains_key(role) {
            let client = if role == "public" {
                reqwest::Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()?
            } else {
                WebClient::login(base, role).await?.http
            };
            clients.insert(role.clone(), client);
        }
        let http = &clients[role];
        let url = format!("{base}{path}");
        let fetch = || async {
            let t = Instant::now();
            let r = http
                .get(&url)
                .timeout(std::time::Duration::from_secs(150))
                .send()
                .await;
            let (status, bytes) = match r {
                Ok(r) => {
                    let status = r.status().as_u16();
                    (status, r.bytes().await.map(|b| b.len()).unwrap_or(0))
                }
                Err(_) => (0, 0),
            };
            (status, bytes, t.elapsed().as_secs_f64() * 1000.0)
        };
        let (_, _, warm) = fetch().await;
        let n = if warm > 10_000.0 { 2 } else { requests.max(1) };
        let mut times = Vec::with_capacity(n);
        let mut last = (0, 0);
        for _ in 0..n {
            let (status, bytes, ms) = fetch().await;
            last = (status, bytes);
            times.push(ms);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let timing = PageTiming {
            role: role.clone(),
            path: path.clone(),
            status: last.0,
            bytes: last.1,
            samples: n,
            p50_ms: percentile(&times, 50.0),
            p99_ms: percentile(&times, 99.0),
            max_ms: times.last().copied().unwrap_or(0.0),
        };
        eprintln!(
            "{:<16} {:<48} {} p50 {:>8.1} ms  p99 {:>8.1} ms",
            timing.role, timing.path, timing.status, timing.p50_ms, timing.p99_ms
        );
        out.push(timing);
    }
    Ok(out)
}

/// The timings as a Markdown table.
pub fn pages_table(timings: &[PageTiming]) -> String {
    let mut s = String::from(
        "| route | role | status | p50 ms | p99 ms | max ms | requests | bytes |\n|---|---|---|---|---|---|---|---|\n",
    );
    for t in timings {
        s.push_str(&format!(
            "| `{}` | {} | {} | {:.1} | {:.1} | {:.1} | {} | {} |\n",
            t.path, t.role, t.status, t.p50_ms, t.p99_ms, t.max_ms, t.samples, t.bytes
        ));
    }
    s
}
