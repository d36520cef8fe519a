//! Every organisation records its aid, and the write API for other organisations' systems
//! (issue 12.4, 12.5): a partner records support by the person page and by `POST
//! /api/v1/support` (once per idempotency key; a different body under a used key is 409), never
//! for a person it holds no record of, nor delivers another organisation's campaign; the
//! registry check says whether a national code is in the registry and who holds it, never a
//! field; the served-twice report shows a person two organisations supported.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

use hamdeli_alloc::Policy;
use hamdeli_domain::needs::{NeedStatus, Urgency};
use hamdeli_store::campaigns::{self, NewCampaign};
use hamdeli_store::distribution::{self, Window};
use hamdeli_store::needs::{self, NewNeed};

use crate::support::{Client, TestApp, code, org, spawn_app};

const RELIEF: &str = "کمیته امداد (نمایشی)";
const WELFARE: &str = "سازمان بهزیستی (نمایشی)";

/// A new API key of the organisation, issued by the national admin on its page.
async fn issue_key(admin: &Client, organisation: i64, name: &str) -> String {
    let r = admin
        .post_form(
            "/admin/api-keys",
            &[("organisation", &organisation.to_string()), ("name", name)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let marker = "data-testid=\"new-api-key\">";
    let start = html.find(marker).expect("the key is shown once") + marker.len();
    html[start..].split('<').next().unwrap().to_owned()
}

/// Uploads a support list of (code, first name, last name) through the API.
async fn upload(app: &TestApp, key: &str, list: &str, rows: &[(&str, &str, &str)]) {
    let mut csv = String::from("source_id,national_code,first_name,last_name\n");
    for (i, (c, first, last)) in rows.iter().enumerate() {
        csv.push_str(&format!("{list}-{i},{c},{first},{last}\n"));
    }
    // Others on the list (other codes). A registry of four records links nothing: the model
    // needs more than a handful of records to weigh agreement.
    let seed = list.chars().count() as u64 * 10;
    for (i, (first, last)) in [
        ("پروین", "اکبری"),
        ("نرگس", "موسوی"),
        ("لیلا", "حسینی"),
        ("فریبا", "نوری"),
    ]
    .iter()
    .enumerate()
    {
        csv.push_str(&format!(
            "{list}-x{i},{},{first},{last}\n",
            code(287_092_000 + seed + i as u64)
        ));
    }
    let form = reqwest::multipart::Form::new()
        .text("list", list.to_owned())
        .text("kind", "support")
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("list.csv"),
        );
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/imports"))
        .bearer_auth(key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
}

async fn post_json(
    app: &TestApp,
    key: &str,
    path: &str,
    idempotency: Option<&str>,
    body: &Value,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = reqwest::Client::new()
        .post(app.url(path))
        .bearer_auth(key)
        .json(body);
    if let Some(k) = idempotency {
        req = req.header("Idempotency-Key", k);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

async fn get_json(app: &TestApp, key: &str, path: &str) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .get(app.url(path))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn person_of(app: &TestApp, national_code: &str) -> i64 {
    sqlx::query("SELECT DISTINCT person_id FROM source_records WHERE national_code = $1")
        .bind(national_code.to_owned())
        .fetch_one(app.store.pool())
        .await
        .unwrap()
        .get(0)
}

async fn count(app: &TestApp, sql: &'static str, bind: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(bind)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

/// Relief and welfare, each with a key and a list: Zahra is on both lists, Maryam on relief's
/// only, Sara on welfare's only.
struct World {
    app: TestApp,
    relief: i64,
    welfare: i64,
    relief_key: String,
    welfare_key: String,
    zahra: String,
    maryam: String,
    sara: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let relief = org(&app, RELIEF).await;
    let welfare = org(&app, WELFARE).await;
    let relief_key = issue_key(&admin, relief, "relief system").await;
    let welfare_key = issue_key(&admin, welfare, "welfare system").await;
    let (zahra, maryam, sara) = (code(287_091_001), code(287_091_002), code(287_091_003));
    upload(
        &app,
        &relief_key,
        "فهرست امداد",
        &[(&zahra, "زهرا", "رضایی"), (&maryam, "مریم", "کاظمی")],
    )
    .await;
    upload(
        &app,
        &welfare_key,
        "فهرست بهزیستی",
        &[(&zahra, "زهرا", "رضائی"), (&sara, "ساراخانم", "یزدانی")],
    )
    .await;
    World {
        app,
        relief,
        welfare,
        relief_key,
        welfare_key,
        zahra,
        maryam,
        sara,
    }
}

fn report(code: &str, amount: i64, date: &str) -> Value {
    json!({ "national_code": code, "kind": "food", "amount": amount, "date": date, "note": "سبد غذایی" })
}

#[tokio::test]
async fn a_partner_records_support_by_page_and_by_api() {
    let w = world().await;
    let app = &w.app;
    let maryam = person_of(app, &w.maryam).await;
    let partner = app.login("relief.partner").await;

    // The person page loads the form in place; the form offers the organisation's programmes.
    let (status, page) = partner
        .get_text(&format!("/registry/persons/{maryam}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("data-testid=\"support-slot\""), "{page}");
    let (status, form) = partner
        .get_text(&format!("/support/new?person={maryam}&fragment=1"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("data-testid=\"support-form\""), "{form}");
    assert!(!form.contains("<html"), "a fragment, not a page");
    let key_marker = "name=\"key\" value=\"";
    let start = form.find(key_marker).unwrap() + key_marker.len();
    let form_key = form[start..start + 64].to_owned();

    // Submitted with Persian digits and a Jalali date; a double submit records once.
    let fields = [
        ("person", maryam.to_string()),
        ("kind", "food".to_owned()),
        ("amount", "۵۰۰٬۰۰۰".to_owned()),
        ("date", "۱۴۰۵/۰۸/۱۰".to_owned()),
        ("programme", String::new()),
        ("note", "بسته ماه آبان".to_owned()),
        ("key", form_key),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for _ in 0..2 {
        let r = partner.post_form("/support", &fields).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(
            r.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/support?recorded="),
        );
    }
    let rows = sqlx::query(
        "SELECT organisation_id, need_type, amount, period, source, recorded_by, given_on \
         FROM support_ledger WHERE person_id = $1",
    )
    .bind(maryam)
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 1, "the double submit recorded once");
    let r = &rows[0];
    assert_eq!(r.get::<i64, _>(0), w.relief);
    assert_eq!(r.get::<String, _>(1), "food");
    assert_eq!(r.get::<i64, _>(2), 500_000);
    assert_eq!(r.get::<String, _>(3), "1405-08");
    assert_eq!(r.get::<String, _>(4), "recorded");
    assert_eq!(
        r.get::<Option<i64>, _>(5),
        Some(app.user_ids["relief.partner"])
    );
    assert_eq!(r.get::<String, _>(6), "2026-11-01");
    let (status, list) = partner.get_text("/support").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list.contains("data-testid=\"support-list\"") && list.contains("مریم"),
        "{list}"
    );

    // By the API, with the organisation's programme named and an ISO date.
    let mut tx = app.store.begin().await.unwrap();
    let programme = hamdeli_store::organisations::create_programme(
        &mut tx,
        w.relief,
        hamdeli_store::organisations::ProgrammeFields {
            name_fa: "طرح اطعام".into(),
            name_en: "Food parcels".into(),
            support_kind: "food".into(),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut body = report(&w.maryam, 2_000_000, "2026-11-15");
    body["programme"] = json!("طرح اطعام");
    let (status, _, first) = post_json(
        app,
        &w.relief_key,
        "/api/v1/support",
        Some("relief-0001"),
        &body,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["person_id"], json!(maryam));
    assert_eq!(first["organisation_id"], json!(w.relief));
    assert_eq!(first["programme_id"], json!(programme));
    assert_eq!(first["period"], "1405-08");
    let (status, listed) = get_json(app, &w.relief_key, "/api/v1/support").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");

    // Both writes audited as the recording user and the key.
    let actors: Vec<(String, Option<i64>)> = sqlx::query_as(
        "SELECT actor, actor_api_key_id FROM audit_log WHERE action = 'support.record' ORDER BY id",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(actors.len(), 2, "{actors:?}");
    assert!(actors[0].1.is_none() && actors[1].1.is_some(), "{actors:?}");

    // Another organisation's programme, an unknown kind, a zero amount, a future date: refused.
    let mut bad = report(&w.maryam, 1, "2026-11-15");
    bad["programme"] = json!("no such programme");
    for (body, key) in [
        (bad, "bad-1"),
        (
            json!({ "national_code": w.maryam, "kind": "spaceships", "amount": 1, "date": "2026-11-15" }),
            "bad-2",
        ),
        (report(&w.maryam, 0, "2026-11-15"), "bad-3"),
        (report(&w.maryam, 1, "2100-01-01"), "bad-4"),
        (report("1234567890", 1, "2026-11-15"), "bad-5"),
    ] {
        let (status, _, answer) =
            post_json(app, &w.relief_key, "/api/v1/support", Some(key), &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
    }
    // A county expert (an office, not an organisation) records no organisation's support.
    let expert = app.login("tehran.expert").await;
    let r = expert
        .post_form(
            "/support",
            &[
                ("person", &maryam.to_string()),
                ("kind", "food"),
                ("amount", "1"),
                ("date", "2026-11-15"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_same_idempotency_key_records_once_and_a_different_body_is_409() {
    let w = world().await;
    let app = &w.app;
    let body = report(&w.zahra, 750_000, "1405/08/20");
    let (s1, h1, first) = post_json(
        app,
        &w.relief_key,
        "/api/v1/support",
        Some("day-1-row-7"),
        &body,
    )
    .await;
    assert_eq!(s1, StatusCode::CREATED, "{first}");
    assert!(h1.get("idempotent-replayed").is_none());
    let (s2, h2, second) = post_json(
        app,
        &w.relief_key,
        "/api/v1/support",
        Some("day-1-row-7"),
        &body,
    )
    .await;
    assert_eq!(s2, StatusCode::CREATED, "{second}");
    assert_eq!(h2["idempotent-replayed"], "true");
    assert_eq!(first, second, "the first result, again");
    let zahra = person_of(app, &w.zahra).await;
    assert_eq!(
        count(
            app,
            "SELECT COUNT(*) FROM support_ledger WHERE person_id = $1",
            zahra
        )
        .await,
        1
    );
    // The same key with another amount: 409, nothing written.
    let (s3, _, conflict) = post_json(
        app,
        &w.relief_key,
        "/api/v1/support",
        Some("day-1-row-7"),
        &report(&w.zahra, 900_000, "1405/08/20"),
    )
    .await;
    assert_eq!(s3, StatusCode::CONFLICT, "{conflict}");
    assert_eq!(conflict["error"], "support-idempotency-conflict");
    // Keys are per organisation: welfare may use the same one.
    let (s4, _, other) = post_json(
        app,
        &w.welfare_key,
        "/api/v1/support",
        Some("day-1-row-7"),
        &body,
    )
    .await;
    assert_eq!(s4, StatusCode::CREATED, "{other}");
    assert_ne!(other["id"], first["id"]);
    // Without a key: 400.
    let (s5, _, missing) = post_json(app, &w.relief_key, "/api/v1/support", None, &body).await;
    assert_eq!(s5, StatusCode::BAD_REQUEST, "{missing}");
    assert_eq!(missing["error"], "support-idempotency-key-required");
    assert_eq!(
        count(
            app,
            "SELECT COUNT(*) FROM support_ledger WHERE person_id = $1",
            zahra
        )
        .await,
        2
    );
    // Concurrent retries of one new key record once.
    let body = report(&w.zahra, 10, "1405/08/21");
    let mut tasks = vec![];
    for _ in 0..6 {
        let (url, key, body) = (
            app.url("/api/v1/support"),
            w.relief_key.clone(),
            body.clone(),
        );
        tasks.push(tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(key)
                .header("Idempotency-Key", "burst")
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::CREATED);
    }
    assert_eq!(
        count(
            app,
            "SELECT COUNT(*) FROM support_ledger WHERE person_id = $1 AND amount = 10",
            zahra
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_partner_records_nothing_outside_what_it_holds() {
    let w = world().await;
    let app = &w.app;
    let sara = person_of(app, &w.sara).await;
    let zahra = person_of(app, &w.zahra).await;
    // Sara is on welfare's list only: relief may not record support for her, by code, by id
    // or by the page.
    let (status, _, _) = post_json(
        app,
        &w.relief_key,
        "/api/v1/support",
        Some("k1"),
        &report(&w.sara, 1000, "2026-11-01"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = post_json(
        app,
        &w.relief_key,
        "/api/v1/support",
        Some("k2"),
        &json!({ "person_id": sara, "kind": "food", "amount": 1000, "date": "2026-11-01" }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let partner = app.login("relief.partner").await;
    let r = partner
        .post_form(
            "/support",
            &[
                ("person", &sara.to_string()),
                ("kind", "food"),
                ("amount", "1000"),
                ("date", "2026-11-01"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (status, _) = partner
        .get_text(&format!("/support/new?person={sara}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        count(
            app,
            "SELECT COUNT(*) FROM support_ledger WHERE person_id = $1",
            sara
        )
        .await,
        0
    );

    // Welfare's campaign allocates to Zahra (whom relief holds too): relief neither lists nor
    // delivers it; welfare does, and the delivery enters the ledger under welfare.
    let mut tx = app.store.begin().await.unwrap();
    let need = needs::create_need(
        &mut tx,
        &NewNeed {
            person_id: zahra,
            need_type: "food".into(),
            amount: 5,
            urgency: Urgency::Normal,
            note: None,
        },
        None,
    )
    .await
    .unwrap();
    needs::set_status(&mut tx, need, NeedStatus::Verified, None)
        .await
        .unwrap();
    let campaign = campaigns::create(
        &mut tx,
        &NewCampaign {
            title: "پویش بهزیستی".into(),
            description: String::new(),
            organisation_id: Some(w.welfare),
            province_code: None,
            county_code: None,
            goal_rials: 0,
            starts_on: "2020-01-01".into(),
            ends_on: "2100-01-01".into(),
            need_types: vec![("food".into(), 5)],
        },
        None,
    )
    .await
    .unwrap();
    let donor_user = app.user_ids["donor"];
    let donor = campaigns::register_donor(&mut tx, donor_user, "09120000000")
        .await
        .unwrap();
    let pledge = campaigns::pledge(&mut tx, campaign, donor, "food", 5)
        .await
        .unwrap();
    campaigns::receive(&mut tx, pledge, 5, "REF", None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let c = campaigns::get(&app.store, campaign).await.unwrap().unwrap();
    distribution::commit(
        &app.store,
        &c,
        "food",
        Policy::WaterFill,
        Window {
            from: 0,
            to: i64::MAX,
        },
        distribution::CommittedBy::unaudited(None),
    )
    .await
    .unwrap();
    let allocation: i64 = sqlx::query_scalar("SELECT id FROM allocations WHERE person_id = $1")
        .bind(zahra)
        .fetch_one(app.store.pool())
        .await
        .unwrap();

    let (status, page) = partner.get_text("/deliveries").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains(&format!("data-allocation=\"{allocation}\"")));
    let r = partner
        .post_form(
            &format!("/deliveries/{allocation}"),
            &[("outcome", "delivered"), ("note", "داده شد")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let welfare = app.login("welfare.partner").await;
    let (status, page) = welfare.get_text("/deliveries").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!("data-allocation=\"{allocation}\"")),
        "{page}"
    );
    let r = welfare
        .post_form(
            &format!("/deliveries/{allocation}"),
            &[("outcome", "delivered"), ("note", "تحویل در دفتر")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let org: Option<i64> =
        sqlx::query_scalar("SELECT organisation_id FROM support_ledger WHERE allocation_id = $1")
            .bind(allocation)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(org, Some(w.welfare));
}

#[tokio::test]
async fn the_registry_check_says_who_holds_a_code_and_nothing_more() {
    let w = world().await;
    let app = &w.app;
    // Sara: welfare's only. Relief learns the match and welfare's name, no field, no id.
    let (status, _, sara) = post_json(
        app,
        &w.relief_key,
        "/api/v1/registry/check",
        None,
        &json!({ "national_code": hamdeli_text::to_persian_digits(&w.sara) }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sara}");
    assert_eq!(sara["found"], true);
    assert_eq!(sara["held_by_you"], false);
    assert_eq!(sara["person_id"], Value::Null);
    let names: Vec<&str> = sara["organisations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name_fa"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec![WELFARE]);
    let mut keys: Vec<&String> = sara.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["found", "held_by_you", "organisations", "person_id"]
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .iter()
            .collect::<Vec<_>>()
    );
    for o in sara["organisations"].as_array().unwrap() {
        let mut k: Vec<&String> = o.as_object().unwrap().keys().collect();
        k.sort();
        assert_eq!(k, ["id", "kind", "name_en", "name_fa"]);
    }
    let text = sara.to_string();
    for field in ["ساراخانم", "یزدانی", "1360", "تهران", &w.sara] {
        assert!(!text.contains(field), "{field} leaked: {text}");
    }
    // Even a full sharing rule from welfare adds no field to the check.
    hamdeli_app::sharing::set_rule(
        &app.store,
        &hamdeli_app::Caller::new(&hamdeli_app::system_principal(), "test"),
        w.welfare,
        w.relief,
        hamdeli_store::sharing::Level::Full,
    )
    .await
    .unwrap();
    let (_, _, again) = post_json(
        app,
        &w.relief_key,
        "/api/v1/registry/check",
        None,
        &json!({ "national_code": w.sara }),
    )
    .await;
    assert_eq!(again, sara);

    // Zahra: both hold her; relief gets her id (it holds her).
    let zahra = person_of(app, &w.zahra).await;
    let (_, _, z) = post_json(
        app,
        &w.relief_key,
        "/api/v1/registry/check",
        None,
        &json!({ "national_code": w.zahra }),
    )
    .await;
    assert_eq!(z["held_by_you"], true);
    assert_eq!(z["person_id"], json!(zahra));
    assert_eq!(z["organisations"].as_array().unwrap().len(), 2, "{z}");

    // A valid code nobody holds: no; an invalid code: 400.
    let (status, _, none) = post_json(
        app,
        &w.relief_key,
        "/api/v1/registry/check",
        None,
        &json!({ "national_code": code(287_099_999) }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(none["found"], false);
    assert_eq!(none["organisations"], json!([]));
    let (status, _, _) = post_json(
        app,
        &w.relief_key,
        "/api/v1/registry/check",
        None,
        &json!({ "national_code": "1234567890" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Audited, without the code.
    let details: Vec<(String, String)> = sqlx::query_as(
        "SELECT target_id, CAST(detail AS TEXT) FROM audit_log WHERE action = 'registry.check'",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(details.len(), 4, "{details:?}");
    assert!(
        details
            .iter()
            .all(|(t, d)| !t.contains(&w.sara) && !d.contains(&w.sara))
    );
    // A donor may not ask.
    let donor = app.login("donor").await;
    let token = donor.csrf().await;
    let r = donor
        .http
        .post(app.url("/api/v1/registry/check"))
        .header("x-csrf-token", token)
        .json(&json!({ "national_code": w.sara }))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(r.status(), StatusCode::FORBIDDEN),
        "{}",
        r.status()
    );
}

#[tokio::test]
async fn the_served_twice_report_shows_a_person_both_organisations_supported() {
    let w = world().await;
    let app = &w.app;
    for (key, amount) in [(&w.relief_key, 1_000_000), (&w.welfare_key, 1_500_000)] {
        let (status, _, answer) = post_json(
            app,
            key,
            "/api/v1/support",
            Some("aban-zahra"),
            &report(&w.zahra, amount, "1405/08/12"),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    // Maryam: relief only, once: not served twice.
    post_json(
        app,
        &w.relief_key,
        "/api/v1/support",
        Some("aban-maryam"),
        &report(&w.maryam, 1_000_000, "1405/08/12"),
    )
    .await;
    let zahra = person_of(app, &w.zahra).await;

    let (status, report) = get_json(app, &w.relief_key, "/api/v1/support/double?period=1405").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["persons"], 1, "{report}");
    let row = &report["rows"][0];
    assert_eq!(row["person_id"], json!(zahra));
    assert_eq!(row["need_type"], "food");
    let mut providers: Vec<&str> = row["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    providers.sort();
    let mut want = vec![RELIEF, WELFARE];
    want.sort();
    assert_eq!(providers, want);
    // The name is relief's own spelling, not welfare's.
    assert_eq!(row["last_name"], "رضایی");
    let (_, month) = get_json(app, &w.relief_key, "/api/v1/support/double?period=1405-09").await;
    assert_eq!(month["persons"], 0, "{month}");

    // The office's report (the national admin's page) shows her too.
    let admin = app.login("admin").await;
    let (status, page) = admin.get_text("/support/double?period=1405").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!("/registry/persons/{zahra}")),
        "{page}"
    );
    // And her need for food is reduced by what the two organisations gave.
    let received: i64 = sqlx::query_scalar(
        "SELECT CAST(SUM(amount) AS BIGINT) FROM support_ledger WHERE person_id = $1 \
         AND need_type = 'food' AND source <> 'delivery'",
    )
    .bind(zahra)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(received, 2_500_000);
}
