//! Capability reports, end to end: a data set defined by the national office, a province's
//! report from draft to accepted (validation, scope, locking, reopening), the dashboard and its
//! map, bulk entry, completeness with reminders, the need index, exports and the API.

use reqwest::StatusCode;
use sqlx::Row;

use hamdeli_app::reports as app;
use hamdeli_domain::reports::period::PeriodType;

use crate::support::{Client, TestApp, spawn_app};

const DEFINITION: &str = "\
masks | ماسک تولیدشده | Masks produced | number | urban_rural | required | 0 | 1000000
women_trained | زنان آموزش‌دیده | Women trained | number | none | required | 0
women_employed | زنان شاغل‌شده | Women employed | number | none | required | 0
budget | اعتبار | Budget | money | none | optional
rule: women_employed <= women_trained
";

fn last_due() -> String {
    app::last_due_period(PeriodType::Month, hamdeli_store::now_millis()).code()
}

async fn define(admin: &Client, code: &str, level: &str) -> i64 {
    let r = admin
        .post_form(
            "/reports/datasets",
            &[
                ("code", code),
                ("name_fa", "گزارش آزمایشی"),
                ("name_en", "Test report"),
                ("period_type", "month"),
                ("level", level),
                ("due_day", "10"),
                ("provinces", ""),
                ("active", "1"),
                ("definition", DEFINITION),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "data set created");
    r.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

async fn report_row(app: &TestApp, dataset: i64, province: &str) -> Option<(i64, String)> {
    sqlx::query(
        "SELECT id, status FROM reports WHERE dataset_id = $1 AND province_code = $2 \
         AND county_code = ''",
    )
    .bind(dataset)
    .bind(province.to_owned())
    .fetch_optional(app.store.pool())
    .await
    .unwrap()
    .map(|r| (r.get(0), r.get(1)))
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) FROM audit_log WHERE action = $1")
        .bind(action.to_owned())
        .fetch_one(app.store.pool())
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_province_report_goes_from_draft_to_accepted_and_the_dashboard_maps_it() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let ds = define(&admin, "livelihood", "province").await;
    let period = last_due();
    let entry = format!("/reports/datasets/{ds}/entry?place=23&period={period}");

    let officer = app.login("tehran.officer").await;
    let (s, html) = officer.get_text(&entry).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("name=\"masks.urban\"") && html.contains("name=\"masks.rural\""));

    // Wrong cells and a broken rule: nothing saved, the problems in Persian.
    let r = officer
        .post_form(
            &entry,
            &[
                ("masks.urban", "abc"),
                ("masks.rural", "10"),
                ("women_trained", "5"),
                ("women_employed", "9"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("عدد درست وارد کنید"), "{html}");
    assert!(html.contains("با قاعدهٔ مجموعه‌داده نمی‌خواند"));
    assert!(report_row(&app, ds, "23").await.is_none(), "nothing saved");

    // Another province's officer neither reads nor writes Tehran's report.
    let isfahan = app.login("isfahan.officer").await;
    assert_eq!(isfahan.get(&entry).await.status(), StatusCode::NOT_FOUND);
    let r = isfahan
        .post_form(&entry, &[("masks.urban", "1"), ("action", "save")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Valid, in Persian digits and tomans: submitted.
    let r = officer
        .post_form(
            &entry,
            &[
                ("masks.urban", "۱۲۰"),
                ("masks.rural", "80"),
                ("women_trained", "50"),
                ("women_employed", "20"),
                ("budget", "۱٬۵۰۰"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (id, status) = report_row(&app, ds, "23").await.unwrap();
    assert_eq!(status, "submitted");
    let budget: i64 = sqlx::query(
        "SELECT num_value FROM report_values WHERE report_id = $1 AND element = 'budget'",
    )
    .bind(id)
    .fetch_one(app.store.pool())
    .await
    .unwrap()
    .get(0);
    assert_eq!(budget, 15_000, "tomans stored as rials");

    // A county expert does not approve; the province does; the national office accepts.
    let expert = app.login("tehran.expert").await;
    let decide = format!("/reports/{id}/decide");
    let r = expert
        .post_form(&decide, &[("transition", "approve"), ("comment", "")])
        .await;
    assert!(matches!(
        r.status(),
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ));
    let r = officer
        .post_form(&decide, &[("transition", "accept"), ("comment", "")])
        .await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "only the national office accepts"
    );
    let r = officer
        .post_form(&decide, &[("transition", "approve"), ("comment", "")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = admin
        .post_form(&decide, &[("transition", "return"), ("comment", "  ")])
        .await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "a return needs a comment"
    );
    let r = admin
        .post_form(&decide, &[("transition", "accept"), ("comment", "")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(report_row(&app, ds, "23").await.unwrap().1, "accepted");

    // Locked: the province cannot change it.
    let r = officer
        .post_form(&entry, &[("masks.urban", "1"), ("action", "save")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // The accepted totals are on the dashboard, its map and the API.
    let api = format!("/api/v1/reports/indicators?ind=ds:{ds}:masks&period={period}");
    let (s, body) = admin.get_text(&api).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["values"]["23"], 200);
    let r = admin
        .get(&format!("/reports?ind=ds:{ds}:masks&period={period}"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.len() < 100_000, "map page is {} bytes", html.len());
    assert!(html.contains("<svg class=\"map\""));
    assert_eq!(html.matches("<path class=\"rq").count(), 31);
    assert!(
        html.contains("<tr data-code=\"23\"><th scope=\"row\"><a href=\"/reports/province/23?")
    );
    assert!(html.contains("۲۰۰"), "Tehran's 200 masks in Persian digits");
    // The province drill-down and the XLSX of the table.
    let (s, _) = admin
        .get_text(&format!(
            "/reports/province/23?ind=ds:{ds}:masks&period={period}"
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    let r = admin
        .get(&format!(
            "/reports?ind=ds:{ds}:masks&period={period}&format=xlsx"
        ))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    // The exchange file: data element, period, org unit, value.
    let (s, csv) = admin
        .get_text(&format!("/reports/datasets/{ds}/exchange?period={period}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        csv.contains(&format!("livelihood.masks,,{period},23,200,accepted")),
        "{csv}"
    );
    // A provincial officer's dashboard is her province's.
    let r = officer.get("/reports").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = isfahan
        .get(&format!(
            "/reports/province/23?ind=ds:{ds}:masks&period={period}"
        ))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let partner = app.login("relief.partner").await;
    assert_eq!(
        partner.get("/reports").await.status(),
        StatusCode::FORBIDDEN
    );

    // Only the national office reopens, with a comment; the totals leave the rollup.
    let r = officer
        .post_form(&decide, &[("transition", "reopen"), ("comment", "x")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = admin
        .post_form(
            &decide,
            &[("transition", "reopen"), ("comment", "اصلاح بودجه")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(report_row(&app, ds, "23").await.unwrap().1, "returned");
    let (_, body) = admin.get_text(&api).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["values"]["23"], 0);
    assert_eq!(audit_count(&app, "reports.reopen").await, 1);
    assert_eq!(audit_count(&app, "reports.accept").await, 1);
    let (_, html) = officer.get_text(&entry).await;
    assert!(
        html.contains("اصلاح بودجه"),
        "the comment reaches the reporter"
    );
}

#[tokio::test]
async fn bulk_entry_reports_each_row_and_late_provinces_get_reminders() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let ds = define(&admin, "bulk_test", "province").await;
    let period = last_due();
    let r = admin
        .get(&format!(
            "/reports/datasets/{ds}/template.xlsx?period={period}"
        ))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));

    let csv = format!(
        "Province,County,Place,Period,Masks\n\
         province,county,place,period,masks.urban,masks.rural,women_trained,women_employed\n\
         23,,Tehran,{period},10,5,8,4\n\
         10,,Isfahan,{period},x,5,8,4\n\
         99,,Nowhere,{period},1,1,1,1\n\
         07,,Fars,{period},1,1,1,9\n"
    );
    let token = admin.csrf().await;
    let form = reqwest::multipart::Form::new()
        .text("_csrf", token.clone())
        .text("submit", "1")
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("bulk.csv"),
        );
    let r = admin
        .http
        .post(app.url(&format!("/reports/datasets/{ds}/upload")))
        .header("x-csrf-token", token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-row=\"3\""), "{html}");
    assert!(
        html.contains("عدد درست وارد کنید"),
        "the wrong cell is named"
    );
    assert!(html.contains("این محل این مجموعه‌داده را گزارش نمی‌کند"));
    assert_eq!(report_row(&app, ds, "23").await.unwrap().1, "submitted");
    assert!(report_row(&app, ds, "10").await.is_none());
    assert!(report_row(&app, ds, "07").await.is_none(), "rule broken");

    // Completeness: one of 31 sent; reminders to the 30 others (the period is past due).
    let (s, html) = admin
        .get_text(&format!("/reports/datasets/{ds}?period={period}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("data-testid=\"totals\""));
    let r = admin
        .post_form(
            &format!("/reports/datasets/{ds}/remind"),
            &[("period", &period)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM report_reminders WHERE dataset_id = $1")
        .bind(ds)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 30);
    let isfahan = app.login("isfahan.officer").await;
    let (_, home) = isfahan.get_text("/").await;
    assert!(
        home.contains("data-testid=\"reminders\""),
        "Isfahan is reminded"
    );
    let officer = app.login("tehran.officer").await;
    let (_, home) = officer.get_text("/").await;
    assert!(
        !home.contains("data-testid=\"reminders\""),
        "Tehran sent its report"
    );
    let r = officer
        .post_form(
            &format!("/reports/datasets/{ds}/remind"),
            &[("period", &period)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The county page shows its own figures.
    let expert_scope = hamdeli_store::users::by_id(&app.store, app.user_ids["tehran.expert"])
        .await
        .unwrap()
        .unwrap()
        .scope;
    let county = expert_scope.county().unwrap().to_owned();
    let expert = app.login("tehran.expert").await;
    let (s, html) = expert.get_text(&format!("/places/23/{county}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("data-testid=\"county-figures\""));
}

#[tokio::test]
async fn the_need_index_previews_saves_imports_and_publishes() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let weights = [
        ("w_female_heads_uncovered_share", "10"),
        ("w_unmet_needs_per_1000", "10"),
        ("w_covid_case_rate", "70"),
        ("w_unemployment", "10"),
    ];
    let mut fields = weights.to_vec();
    fields.push(("action", "preview"));
    let r = admin.post_form("/reports/index", &fields).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("data-testid=\"preview-notice\"")
    );
    let saved: i64 =
        sqlx::query("SELECT weight FROM index_indicators WHERE code = 'covid_case_rate'")
            .fetch_one(app.store.pool())
            .await
            .unwrap()
            .get(0);
    assert_eq!(saved, 15, "a preview saves nothing");

    let mut bad = weights.to_vec();
    bad[0].1 = "500";
    bad.push(("action", "save"));
    let r = admin.post_form("/reports/index", &bad).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let mut fields = weights.to_vec();
    fields.push(("action", "save"));
    fields.push(("note", "موج تازه"));
    let r = admin.post_form("/reports/index", &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let row = sqlx::query("SELECT weights, note FROM index_weight_history")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert!(row.get::<String, _>(0).contains("\"covid_case_rate\":70"));
    assert_eq!(row.get::<String, _>(1), "موج تازه");

    let officer = app.login("tehran.officer").await;
    let r = officer.post_form("/reports/index", &fields).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Import an external indicator: a good row by Persian name, one by ISO code, two refused.
    let csv = "province,value\nتهران,۱۲/۵\nIR-10,3.25\nNowhere,3\n07,abc\n";
    let token = admin.csrf().await;
    let form = reqwest::multipart::Form::new()
        .text("_csrf", token.clone())
        .text("indicator", "covid_case_rate")
        .text("period", "1399")
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("covid.csv"),
        );
    let r = admin
        .http
        .post(app.url("/reports/index/import"))
        .header("x-csrf-token", token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-testid=\"import-rejected\""));
    assert!(html.contains("استان شناخته نشد") && html.contains("مقدار عدد نیست"));
    let values: Vec<(String, i64)> = sqlx::query(
        "SELECT province_code, value_milli FROM index_imported_values ORDER BY province_code",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect();
    assert_eq!(values, [("10".to_owned(), 3250), ("23".to_owned(), 12_500)]);

    // Tehran has the highest case rate and the case rate weighs most: it ranks first, in
    // public, with the method and no count of people.
    let public = app.client();
    let (s, html) = public.get_text("/need-index").await;
    assert_eq!(s, StatusCode::OK);
    let first = html.split("<tr data-code=\"").nth(1).unwrap();
    assert!(first.starts_with("23\""), "{first}");
    assert!(html.contains("data-testid=\"public-ranking\""));
    let (s, body) = public.get_text("/api/v1/reports/need-index").await;
    assert_eq!(s, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v[0]["province_code"], "23");
    assert_eq!(v[0]["rank"], 1);
}

#[tokio::test]
async fn the_demo_makes_a_year_of_reports_once() {
    let app = spawn_app().await;
    assert!(
        hamdeli_store::reports::datasets::by_code(&app.store, "women_livelihood")
            .await
            .unwrap()
            .is_none()
    );
    let line = hamdeli::demo_reports::seed(&app.store).await.unwrap();
    assert!(line.contains("monthly province reports"), "{line}");
    let count = |sql: &'static str| {
        let pool = app.store.pool().clone();
        async move {
            sqlx::query(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
                .get::<i64, _>(0)
        }
    };
    let monthly = "SELECT COUNT(*) FROM reports r JOIN report_datasets d ON d.id = r.dataset_id \
                   WHERE d.code = 'women_livelihood'";
    let n = count(monthly).await;
    assert!((31 * 11..=31 * 12).contains(&n), "{n}");
    assert!(count("SELECT COUNT(*) FROM reports WHERE status = 'returned'").await > 0);
    assert!(count("SELECT COUNT(*) FROM reports WHERE status = 'accepted'").await > 200);
    assert!(count("SELECT COUNT(*) FROM report_reminders").await > 0);
    assert!(count("SELECT COUNT(*) FROM report_rollup").await > 0);
    // Run twice: nothing more.
    assert_eq!(hamdeli::demo_reports::seed(&app.store).await.unwrap(), "");
    assert_eq!(count(monthly).await, n);
    // Late ones exist: sent after their deadline.
    let admin = app.login("admin").await;
    let (s, html) = admin.get_text("/reports").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("data-testid=\"completeness-summary\""));
}

#[tokio::test]
async fn the_figures_count_market_sales_loans_and_volunteer_hours() {
    let app = spawn_app().await;
    hamdeli::demo_market::seed(&app.store).await.unwrap();
    hamdeli::demo_loans::seed(&app.store).await.unwrap();
    hamdeli::demo_network::seed(&app.store).await.unwrap();
    hamdeli::demo_reports::refresh(&app.store).await.unwrap();
    let sum = |ind: &'static str| {
        let pool = app.store.pool().clone();
        async move {
            sqlx::query(
                "SELECT COUNT(*), COALESCE(MAX(value), 0) FROM report_figures \
                 WHERE indicator = $1 AND county_code = ''",
            )
            .bind(ind)
            .fetch_one(&pool)
            .await
            .map(|r| (r.get::<i64, _>(0), r.get::<i64, _>(1)))
            .unwrap()
        }
    };
    for ind in [
        "market_orders",
        "market_sales_rials",
        "loans_disbursed",
        "volunteer_hours",
    ] {
        let (rows, max) = sum(ind).await;
        assert!(rows > 0 && max > 0, "{ind}: {rows} rows, max {max}");
    }
    // The dashboard maps them.
    let admin = app.login("admin").await;
    let (s, html) = admin.get_text("/reports?ind=fig:market_sales_rials").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("class=\"rq4\""),
        "some province has the most sales"
    );
}
