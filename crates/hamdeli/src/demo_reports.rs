//! The demo data of capability reports, made through its use cases as a user would (never by
//! writing tables directly): two data sets, a year of monthly reports from every province (most
//! on time and accepted, some late, some returned with a comment, the last month still under
//! review, a few missing with reminders sent), county reports of a season for two provinces,
//! the figures of Hamdeli's own data, synthetic imported indicators and a change of weights.

use std::collections::BTreeMap;

use hamdeli_app::Caller;
use hamdeli_app::reports::{self as app, DataSetForm, ImportRow, ReportPlace, SaveOutcome};
use hamdeli_domain::reports::period::PeriodType;
use hamdeli_domain::reports::state::Transition;
use hamdeli_store::Store;
use hamdeli_store::geo;

/// The monthly data set every province reports (seed 003's thematic report).
const MONTHLY: &str = "\
masks | ماسک تولیدشده | Masks produced | number | urban_rural | required | 0 | 100000000
gowns | گان تولیدشده | Gowns produced | number | none | required | 0 | 10000000
women_trained | زنان آموزش‌دیده | Women trained | number | none | required | 0 | 1000000
women_employed | زنان شاغل‌شده | Women employed | number | none | required | 0 | 1000000
packages | بستهٔ معیشتی توزیع‌شده | Livelihood packages distributed | number | urban_rural | required | 0 | 10000000
counselling | جلسهٔ مشاوره | Counselling sessions | number | none | optional | 0 | 1000000
budget | اعتبار هزینه‌شده | Budget spent | money | none | optional | 0
hotline | خط مشاورهٔ فعال | Counselling hotline active | yes_no | none | optional
note | توضیح | Note | text | none | optional
rule: women_employed <= women_trained
";

const SEASONAL: &str = "\
households_visited | خانوار بازدیدشده | Households visited | number | urban_rural | required | 0 | 1000000
female_heads_found | زن سرپرست خانوار شناسایی‌شده | Female heads found | number | none | required | 0 | 1000000
rule: female_heads_found <= households_visited
";

/// A deterministic pseudo-random number in 0..n from a few keys (the demo is reproducible).
fn roll(keys: &[u64], n: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for k in keys {
        h ^= k.wrapping_add(0x9e37_79b9_7f4a_7c15);
        h = h.wrapping_mul(0x0100_0000_01b3).rotate_left(17);
    }
    h % n.max(1)
}

fn code_num(s: &str) -> u64 {
    s.bytes()
        .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b)))
}

/// Seeds capability reports's demo data once; returns a line for the console.
pub async fn seed(store: &Store) -> anyhow::Result<String> {
    if hamdeli_store::reports::datasets::by_code(store, "women_livelihood")
        .await?
        .is_some()
    {
        return Ok(String::new());
    }
    let principal = hamdeli_app::system_principal();
    let caller = Caller::new(&principal, "demo");
    let monthly = app::save_dataset(
        store,
        &caller,
        None,
        &DataSetForm {
            code: "women_livelihood".into(),
            name_fa: "گزارش موضوعی اشتغال و معیشت زنان".into(),
            name_en: "Women's livelihood thematic report".into(),
            period_type: "month".into(),
            level: "province".into(),
            due_day: "10".into(),
            provinces: vec![],
            active: true,
            definition: MONTHLY.into(),
        },
    )
    .await?
    .map_err(|e| anyhow::anyhow!("demo data set definition: {e:?}"))?;
    let provinces = geo::all_provinces(store).await?;
    let now = hamdeli_store::now_millis();
    let last_due = app::last_due_period(PeriodType::Month, now);
    let months = last_due.last_n(12);
    let (mut sent, mut late, mut returned, mut missing) = (0, 0, 0, 0);
    for (mi, period) in months.iter().enumerate() {
        let newest = mi + 1 == months.len();
        for p in &provinces {
            let keys = [code_num(&p.code), code_num(&period.code())];
            // The newest month: some provinces have not sent yet (they get a reminder).
            if newest && roll(&keys, 100) < 12 {
                missing += 1;
                continue;
            }
            let scale = (p.population_1395 / 10_000).max(50) as u64;
            let growth = 100 + 4 * mi as u64;
            let v = |k: u64, base: u64| {
                (base * scale * growth / 100 + roll(&[keys[0], keys[1], k], base * scale / 5 + 1))
                    as i64
            };
            let trained = v(3, 3);
            let employed = trained * (40 + roll(&[keys[0], keys[1], 9], 50) as i64) / 100;
            let mut raw: BTreeMap<String, String> = [
                ("masks.urban", v(1, 120)),
                ("masks.rural", v(2, 40)),
                ("gowns", v(4, 15)),
                ("women_trained", trained),
                ("women_employed", employed),
                ("packages.urban", v(5, 8)),
                ("packages.rural", v(6, 5)),
                ("counselling", v(7, 2)),
                // tomans
                ("budget", v(8, 250_000)),
            ]
            .into_iter()
            .map(|(k, n)| (k.to_owned(), n.to_string()))
            .collect();
            raw.insert(
                "hotline".into(),
                if roll(&keys, 5) == 0 { "0" } else { "1" }.into(),
            );
            // One province reports an odd month: an outlier warning to look at.
            if p.code == "16" && mi == months.len() - 2 {
                raw.insert("masks.urban".into(), "2500000".into());
            }
            // Due at the end of the 10th of the next month: most send a few days before, some
            // a few days after.
            let deadline = app::deadline_millis(period, 10);
            let is_late = roll(&keys, 100) < 15;
            let day = 86_400_000;
            let at = if is_late {
                deadline + (1 + roll(&keys, 9) as i64) * day
            } else {
                deadline - (1 + roll(&keys, 8) as i64) * day
            }
            .min(now);
            let place = ReportPlace {
                province: p.code.clone(),
                county: String::new(),
            };
            let outcome = app::save_entry_at(
                store,
                &caller,
                monthly,
                &place,
                &period.code(),
                &raw,
                true,
                Some(at),
            )
            .await?;
            let SaveOutcome::Saved { report, .. } = outcome else {
                anyhow::bail!("demo report of {} {} refused: {outcome:?}", p.code, period);
            };
            sent += 1;
            if is_late {
                late += 1;
            }
            if newest && roll(&keys, 3) == 0 {
                // Still with the province.
                continue;
            }
            app::decide(store, &caller, report, Transition::Approve, None).await?;
            if newest && roll(&keys, 2) == 0 {
                // Approved, waiting for the national office.
                continue;
            }
            if roll(&[keys[0], keys[1], 77], 100) < 6 {
                app::decide(
                    store,
                    &caller,
                    report,
                    Transition::Return,
                    Some("ارقام ماسک شهری با ماه پیش نمی‌خواند؛ لطفاً بازبینی و دوباره ارسال کنید."),
                )
                .await?;
                returned += 1;
                continue;
            }
            app::decide(store, &caller, report, Transition::Accept, None).await?;
        }
    }
    // One accepted report reopened by the national office (audited), then accepted again.
    if let Some(r) = hamdeli_store::reports::entries::list(
        store,
        &hamdeli_store::reports::ReportFilter {
            dataset: Some(monthly),
            status: Some("accepted".into()),
            ..Default::default()
        },
        1,
    )
    .await?
    .first()
    {
        app::decide(
            store,
            &caller,
            r.id,
            Transition::Reopen,
            Some("بازگشایی برای اصلاح رقم بودجه به درخواست استان."),
        )
        .await?;
    }
    let reminders = app::remind_late(store, &caller, monthly, &last_due.code()).await?;

    // County reports of the last season in Tehran and Isfahan.
    let seasonal = app::save_dataset(
        store,
        &caller,
        None,
        &DataSetForm {
            code: "county_outreach".into(),
            name_fa: "گزارش فصلی شناسایی زنان سرپرست خانوار".into(),
            name_en: "Seasonal outreach to female heads of household".into(),
            period_type: "season".into(),
            level: "county".into(),
            due_day: "15".into(),
            provinces: vec!["23".into(), "10".into()],
            active: true,
            definition: SEASONAL.into(),
        },
    )
    .await?
    .map_err(|e| anyhow::anyhow!("demo data set definition: {e:?}"))?;
    let season = app::last_due_period(PeriodType::Season, now);
    let mut county_reports = 0;
    for prov in ["23", "10"] {
        for c in geo::counties_of(store, prov, &hamdeli_domain::PlaceFilter::All).await? {
            let keys = [code_num(&c.code), code_num(&season.code())];
            if roll(&keys, 10) < 2 {
                continue;
            }
            let visited = 200 + roll(&keys, 800) as i64;
            let raw: BTreeMap<String, String> = [
                ("households_visited.urban", visited * 2 / 3),
                ("households_visited.rural", visited / 3),
                ("female_heads_found", visited / 4),
            ]
            .into_iter()
            .map(|(k, n)| (k.to_owned(), n.to_string()))
            .collect();
            let place = ReportPlace {
                province: prov.into(),
                county: c.code.clone(),
            };
            if let SaveOutcome::Saved { report, .. } =
                app::save_entry(store, &caller, seasonal, &place, &season.code(), &raw, true)
                    .await?
            {
                county_reports += 1;
                app::decide(store, &caller, report, Transition::Approve, None).await?;
                if roll(&keys, 4) != 0 {
                    app::decide(store, &caller, report, Transition::Accept, None).await?;
                }
            }
        }
    }

    // Hamdeli's own figures, synthetic external indicators, one change of the weights.
    app::refresh_figures(store, &caller).await?;
    for (indicator, base, spread) in [
        ("covid_case_rate", 900u64, 1400u64),
        ("unemployment", 70, 90),
    ] {
        let rows: Vec<ImportRow> = provinces
            .iter()
            .enumerate()
            .map(|(i, p)| ImportRow {
                row: i as u64 + 2,
                province: p.name_fa.clone(),
                value: format!(
                    "{:.1}",
                    (base + roll(&[code_num(&p.code), code_num(indicator)], spread)) as f64 / 10.0
                ),
            })
            .collect();
        app::import_indicator(store, &caller, indicator, "1399 (نمایشی)", &rows).await?;
    }
    let weights: BTreeMap<String, i64> = [
        ("female_heads_uncovered_share", 35),
        ("unmet_needs_per_1000", 30),
        ("covid_case_rate", 20),
        ("unemployment", 15),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    app::save_weights(
        store,
        &caller,
        &weights,
        Some("وزن بیشتر برای شیوع کرونا در موج پاییز (نمایشی)"),
    )
    .await?;
    Ok(format!(
        "reports: 2 data sets; {sent} monthly province reports over 12 months ({late} late, {returned} returned, {missing} missing, {reminders} reminders), {county_reports} county reports of {season}; figures, imported indicators and need-index weights"
    ))
}

/// Recomputes the figures of Hamdeli's own data as the command line's system principal.
pub async fn refresh(store: &Store) -> anyhow::Result<String> {
    let principal = hamdeli_app::system_principal();
    let caller = Caller::new(&principal, "cli");
    let n = app::refresh_figures(store, &caller).await?;
    Ok(format!("reports: {n} figures computed"))
}

/// The reports benchmark: `datasets` county-level monthly data sets of `elements` numeric
/// elements, every county reporting `months` months, all accepted (values loaded by set-based
/// INSERT … SELECT in one transaction, then the rollup built once as accepting would keep it);
/// then the dashboard's pages timed through the real server over loopback as the national
/// admin and a provincial officer, `requests` each (p50/p99), and the map page's size.
pub async fn bench(
    store: &Store,
    config: &crate::Config,
    datasets: usize,
    elements: usize,
    months: usize,
    requests: usize,
) -> anyhow::Result<String> {
    use std::time::Instant;
    crate::demo::seed(store).await?;
    let principal = hamdeli_app::system_principal();
    let caller = Caller::new(&principal, "bench");
    let elements = elements.clamp(1, 80);
    let definition: String = (1..=elements)
        .map(|i| format!("e{i:02} | قلم {i} | Element {i} | number | none | optional | 0\n"))
        .collect();
    let mut ids = vec![];
    for d in 1..=datasets {
        let code = format!("bench_{d:02}");
        let id = match hamdeli_store::reports::datasets::by_code(store, &code).await? {
            Some(ds) => ds.id,
            None => app::save_dataset(
                store,
                &caller,
                None,
                &DataSetForm {
                    code: code.clone(),
                    name_fa: format!("مجموعهٔ آزمون {d}"),
                    name_en: format!("Bench data set {d}"),
                    period_type: "month".into(),
                    level: "county".into(),
                    due_day: "10".into(),
                    provinces: vec![],
                    active: true,
                    definition: definition.clone(),
                },
            )
            .await?
            .map_err(|e| anyhow::anyhow!("bench definition: {e:?}"))?,
        };
        ids.push(id);
    }
    let now = hamdeli_store::now_millis();
    let periods = app::last_due_period(PeriodType::Month, now).last_n(months);
    let (_, have, _) = hamdeli_store::reports::bench::counts(store).await?;
    let mut out = format!(
        "reports bench on {}: {datasets} data sets × {elements} elements × {} counties × {months} months\n",
        store.engine().name(),
        geo::all_counties(store).await?.len()
    );
    if have == 0 {
        let spec: Vec<(String, String, i64)> = periods
            .iter()
            .map(|p| {
                (
                    p.code(),
                    p.due_iso(10).unwrap_or_default(),
                    app::deadline_millis(p, 10),
                )
            })
            .collect();
        let t = hamdeli_store::reports::bench::load(store, &ids, &spec, elements).await?;
        out.push_str(&format!(
            "load (one transaction, INSERT … SELECT): reports {:.1} s, values until {:.1} s, rollup and ANALYZE until {:.1} s\n",
            t.reports_s, t.values_s, t.total_s
        ));
    }
    let (r, v, u) = hamdeli_store::reports::bench::counts(store).await?;
    out.push_str(&format!("rows: {r} reports, {v} values, {u} rollup rows\n"));
    app::refresh_figures(store, &caller).await?;

    // The pages through the real server.
    let state = crate::app_state(store.clone(), config).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hamdeli_web::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let admin = login(&base, "admin").await?;
    let officer = login(&base, "tehran.officer").await?;
    let codes: Vec<String> = periods.iter().rev().map(|p| p.code()).collect();
    let period = |i: usize| codes[i % codes.len()].clone();
    let ds = |i: usize| ids[i % ids.len()];
    let el = |i: usize| format!("e{:02}", 1 + (i * 7) % elements);
    let (period, ds, el) = (&period, &ds, &el);
    type Route<'a> = Box<dyn Fn(usize) -> String + 'a>;
    let routes: Vec<(&str, &reqwest::Client, Route<'_>)> = vec![
        (
            "national dashboard + map /reports?ind=ds:…",
            &admin,
            Box::new(move |i| format!("/reports?ind=ds:{}:{}&period={}", ds(i), el(i), period(i))),
        ),
        (
            "province drill-down /reports/province/{p}",
            &admin,
            Box::new(move |i| {
                format!(
                    "/reports/province/{:02}?ind=ds:{}:{}&period={}",
                    i % 31,
                    ds(i),
                    el(i),
                    period(i)
                )
            }),
        ),
        (
            "provincial officer's dashboard",
            &officer,
            Box::new(move |i| {
                format!(
                    "/reports/province/23?ind=ds:{}:{}&period={}",
                    ds(i),
                    el(i),
                    period(i)
                )
            }),
        ),
        (
            "data set completeness /reports/datasets/{id}",
            &admin,
            Box::new(move |i| format!("/reports/datasets/{}?period={}", ds(i), period(i))),
        ),
        ("home dashboard /", &admin, Box::new(|_| "/".to_owned())),
        (
            "own-data map /reports?ind=fig:…",
            &admin,
            Box::new(|_| "/reports?ind=fig:female_heads_uncovered".to_owned()),
        ),
        (
            "API /api/v1/reports/indicators",
            &admin,
            Box::new(move |i| {
                format!(
                    "/api/v1/reports/indicators?ind=ds:{}:{}&period={}",
                    ds(i),
                    el(i),
                    period(i)
                )
            }),
        ),
        (
            "public /need-index",
            &admin,
            Box::new(|_| "/need-index".to_owned()),
        ),
    ];
    out.push_str(
        "\n| page | p50 ms | p99 ms | max ms | bytes | gzip bytes |\n|---|---|---|---|---|---|\n",
    );
    for (name, client, path) in &routes {
        let _ = client.get(format!("{base}{}", path(0))).send().await?;
        let mut times = vec![];
        let mut bytes = 0;
        for i in 0..requests {
            let url = format!("{base}{}", path(i + 1));
            let t = Instant::now();
            let r = client.get(&url).send().await?;
            let status = r.status();
            let body = r.bytes().await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(status.is_success(), "{url}: {status}");
            bytes = body.len();
        }
        times.sort_by(f64::total_cmp);
        let pct =
            |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
        let gz = client
            .get(format!("{base}{}", path(1)))
            .header("accept-encoding", "gzip")
            .send()
            .await?
            .bytes()
            .await?
            .len();
        out.push_str(&format!(
            "| {name} | {:.1} | {:.1} | {:.1} | {bytes} | {gz} |\n",
            pct(0.5),
            pct(0.99),
            times.last().copied().unwrap_or(0.0)
        ));
    }
    let _ = stop.send(());
    let _ = server.await;
    Ok(out)
}

async fn login(base: &str, username: &str) -> anyhow::Result<reqwest::Client> {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let page = http
        .get(format!("{base}/login"))
        .send()
        .await?
        .text()
        .await?;
    let marker = "name=\"_csrf\" value=\"";
    let start = page
        .find(marker)
        .ok_or_else(|| anyhow::anyhow!("no CSRF field on the login page"))?
        + marker.len();
    let token: String = page[start..].chars().take_while(|c| *c != '"').collect();
    let r = http
        .post(format!("{base}/login"))
        .form(&[
            ("username", username),
            ("password", crate::demo::DEMO_PASSWORD),
            ("next", "/"),
            ("_csrf", token.as_str()),
        ])
        .send()
        .await?;
    anyhow::ensure!(
        r.status().is_redirection(),
        "sign-in of {username}: {}",
        r.status()
    );
    Ok(http)
}
