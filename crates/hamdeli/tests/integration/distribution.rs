//! Needs, campaigns, donors and fair distribution end to end: recording and verifying needs,
//! a campaign with a donor's pledge turned into a donation with a receipt code, the allocation
//! dry run and commit, deliveries, the support ledger, double service, public pages without
//! personal data, and concurrent allocations that never exceed a need or spend a gift twice.

use reqwest::StatusCode;
use sqlx::Row;

use hamdeli_alloc::Policy;
use hamdeli_domain::needs::{NeedStatus, Urgency};
use hamdeli_store::campaigns::{self, NewCampaign};
use hamdeli_store::distribution::{self, AreaLevel, Window};
use hamdeli_store::needs::{self, NewNeed};
use hamdeli_store::{Store, StoreError, ledger};

use crate::support::{TestApp, spawn_app};

/// The county of the demo's Tehran county expert.
async fn tehran_county(app: &TestApp) -> String {
    hamdeli_store::users::by_id(&app.store, app.user_ids["tehran.expert"])
        .await
        .unwrap()
        .unwrap()
        .scope
        .county()
        .unwrap()
        .to_owned()
}

/// Persons straight into the registry (linkage is tested elsewhere).
async fn add_persons(store: &Store, county: &str, n: usize, prefix: &str) -> Vec<i64> {
    let mut ids = vec![];
    for i in 0..n {
        let id: i64 = sqlx::query(
            "INSERT INTO persons (province_code, county_code, zone, first_name, last_name, \
             national_code, created_at, updated_at) VALUES ('23', $1, 'urban', $2, $3, $4, 0, 0) \
             RETURNING id",
        )
        .bind(county.to_owned())
        .bind(format!("{prefix}{i}"))
        .bind("نمونه‌زاده".to_owned())
        .bind(format!("99{i:08}"))
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
        ids.push(id);
    }
    ids
}

async fn need_ids_of(store: &Store, person: i64) -> Vec<i64> {
    sqlx::query("SELECT id FROM needs WHERE person_id = $1 ORDER BY id")
        .bind(person)
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

async fn scalar(store: &Store, sql: &'static str, bind: i64) -> i64 {
    sqlx::query(sql)
        .bind(bind)
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0)
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn needs_to_donation_to_allocation_to_delivery_in_the_browser() {
    let app = spawn_app().await;
    let county = tehran_county(&app).await;
    let persons = add_persons(&app.store, &county, 12, "آزاده").await;

    // A county expert records needs (amounts in any digits) and verifies ten of them.
    let expert = app.login("tehran.expert").await;
    for (i, p) in persons.iter().enumerate() {
        let amount = if i == 0 { "۳" } else { "3" };
        let r = expert
            .post_form(
                &format!("/registry/persons/{p}/needs"),
                &[
                    ("need_type", "food"),
                    ("amount", amount),
                    ("urgency", "normal"),
                    ("note", ""),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let bad = expert
        .post_form(
            &format!("/registry/persons/{}/needs", persons[0]),
            &[
                ("need_type", "food"),
                ("amount", "سه"),
                ("urgency", "normal"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.unwrap().contains("مقدار باید عددی درست"));
    let mut needs_of = vec![];
    for p in &persons {
        needs_of.push(need_ids_of(&app.store, *p).await[0]);
    }
    for n in &needs_of[..10] {
        let r = expert
            .post_form(&format!("/needs/{n}/status"), &[("status", "verified")])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    // Verifying twice is refused, and an expert of another county cannot see these needs.
    let again = expert
        .post_form(
            &format!("/needs/{}/status", needs_of[0]),
            &[("status", "verified")],
        )
        .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    let r = expert
        .post_form(
            &format!("/needs/{}/status", needs_of[11]),
            &[("status", "closed")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        needs::need(&app.store, needs_of[11])
            .await
            .unwrap()
            .unwrap()
            .status,
        "closed"
    );
    let other = app.login("isfahan.expert").await;
    let (status, _) = other
        .get_text(&format!("/registry/persons/{}/card", persons[0]))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, table) = expert.get_text("/needs?by=type").await;
    assert_eq!(status, StatusCode::OK);
    assert!(table.contains("سبد غذایی"));
    // A county expert's table starts at the county; the national office's at the province.
    let (_, start) = expert.get_text("/needs").await;
    assert!(start.contains(r#"href="/needs?by=county" aria-current="page""#));
    let (_, national) = app.login("admin").await.get_text("/needs").await;
    assert!(national.contains(r#"href="/needs?by=province" aria-current="page""#));
    let csv = expert.get("/needs?by=county&format=csv").await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.text().await.unwrap().contains(",12,12,36,0,33"),
        "a closed need is not outstanding"
    );

    // The needs identity card shows the score indicator by indicator.
    let (status, card) = expert
        .get_text(&format!("/registry/persons/{}/card", persons[0]))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(card.contains("data-testid=\"priority-breakdown\""));
    assert!(card.contains("بی‌پوشش"), "the uncovered indicator is listed");

    // The provincial office starts a campaign for food.
    let officer = app.login("tehran.officer").await;
    let r = officer
        .post_form(
            "/campaigns",
            &[
                ("title", "پویش آزمایشی غذا"),
                ("description", "آزمون"),
                ("starts_on", "1405/01/01"),
                ("ends_on", "۱۴۰۵/۱۲/۲۹"),
                ("goal_rials", ""),
                ("type", "food"),
                ("goal_food", "100"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let campaign: i64 = location(&r).rsplit('/').next().unwrap().parse().unwrap();
    let c = campaigns::get(&app.store, campaign).await.unwrap().unwrap();
    assert_eq!(
        c.province_code.as_deref(),
        Some("23"),
        "an office's own province"
    );

    // A donor signs up with a mobile number in Persian digits, confirms it with the code sent
    // to it, signs in with it and pledges.
    let visitor = app.client();
    let r = visitor
        .post_form(
            "/donors/signup",
            &[("mobile", "۰۹۱۲۳۴۵۶۷۸۹"), ("name", "خیّر آزمایشی")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let code = crate::campaign_lifecycle::sent_code("09123456789");
    let r = visitor
        .post_form(
            "/donors/signup/verify",
            &[
                ("mobile", "09123456789"),
                ("code", &code),
                ("password", "a-long-enough-secret"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let dup = app
        .client()
        .post_form(
            "/donors/signup",
            &[
                ("mobile", "09123456789"),
                ("name", "دیگری"),
                ("password", "a-long-enough-secret"),
            ],
        )
        .await;
    assert_eq!(dup.status(), StatusCode::BAD_REQUEST);
    assert!(dup.text().await.unwrap().contains("پیش‌تر ثبت‌نام شده"));
    let donor = app.client();
    assert_eq!(
        donor
            .login("۰۹۱۲۳۴۵۶۷۸۹", "a-long-enough-secret")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let r = donor
        .post_form(
            &format!("/campaigns/{campaign}/pledges"),
            &[("resource", "food"), ("amount", "20")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let pledge: i64 = scalar(
        &app.store,
        "SELECT id FROM pledges WHERE campaign_id = $1",
        campaign,
    )
    .await;

    // The office records the receipt: a donation with a receipt code, once.
    let receive = format!("/campaigns/{campaign}/pledges/{pledge}/receive");
    let r = officer
        .post_form(&receive, &[("amount", "20"), ("reference", "BANK-1")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = officer
        .post_form(&receive, &[("amount", "20"), ("reference", "BANK-1")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "no second receipt");
    let code = campaigns::pledge_by_id(&app.store, pledge)
        .await
        .unwrap()
        .unwrap()
        .receipt_code
        .unwrap();
    // A donor may not record receipts.
    let r = donor
        .post_form(&receive, &[("amount", "20"), ("reference", "x")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The dry run explains every need; the commit gives exactly the pool, never above a need.
    let (status, dry) = officer
        .get_text(&format!("/campaigns/{campaign}/allocate?resource=food"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(dry.contains("تأیید نشده"), "unverified needs say why");
    assert_eq!(
        scalar(
            &app.store,
            "SELECT COUNT(*) FROM allocations WHERE batch_id > $1",
            0
        )
        .await,
        0,
        "a dry run writes nothing"
    );
    let r = officer
        .post_form(
            &format!("/campaigns/{campaign}/allocate"),
            &[("resource", "food"), ("policy", "water-fill")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let total = scalar(
        &app.store,
        "SELECT CAST(COALESCE(SUM(a.units), 0) AS BIGINT) FROM allocations a JOIN allocation_batches b ON b.id = a.batch_id WHERE b.campaign_id = $1",
        campaign,
    )
    .await;
    assert_eq!(total, 20);
    let over = scalar(
        &app.store,
        "SELECT COUNT(*) FROM needs WHERE allocated > amount OR allocated < $1",
        0,
    )
    .await;
    assert_eq!(over, 0);
    for n in &needs_of[10..] {
        assert_eq!(
            scalar(
                &app.store,
                "SELECT COUNT(*) FROM allocations WHERE need_id = $1",
                *n
            )
            .await,
            0,
            "unverified needs get nothing"
        );
    }
    let again = officer
        .post_form(
            &format!("/campaigns/{campaign}/allocate"),
            &[("resource", "food"), ("policy", "water-fill")],
        )
        .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "the pool is spent");
    assert_eq!(
        scalar(
            &app.store,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'allocation.commit' AND target_id = \
             (SELECT CAST(MAX(id) AS TEXT) FROM allocation_batches WHERE campaign_id = $1) \
             AND NOT EXISTS (SELECT 1 FROM audit_log o WHERE o.action = 'allocation.commit' \
             AND o.target_id <> audit_log.target_id)",
            campaign
        )
        .await,
        1,
        "the commit is audited in its transaction, the refused one not at all"
    );

    // Deliveries: a wrong code is refused; the right one enters the support ledger; a failed
    // delivery gives the units back to the need and the pool.
    let (status, list) = expert.get_text("/deliveries").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("آزاده"));
    let allocs: Vec<(i64, String, i64, i64)> =
        sqlx::query("SELECT id, delivery_code, need_id, units FROM allocations ORDER BY id")
            .fetch_all(app.store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect();
    let (a0, code0, _, _) = &allocs[0];
    let wrong = if code0 == "000000" {
        "111111"
    } else {
        "000000"
    };
    let r = expert
        .post_form(
            &format!("/deliveries/{a0}"),
            &[("outcome", "delivered"), ("code", wrong), ("note", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let audited = |id: i64| {
        let store = app.store.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'delivery.record' AND target_id = $1",
            )
            .bind(id.to_string())
            .fetch_one(store.pool())
            .await
            .unwrap()
        }
    };
    assert_eq!(audited(*a0).await, 0, "a refused delivery is not audited");
    let r = expert
        .post_form(
            &format!("/deliveries/{a0}"),
            &[("outcome", "delivered"), ("code", code0), ("note", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        audited(*a0).await,
        1,
        "the delivery and its audit entry commit together"
    );
    assert_eq!(
        scalar(
            &app.store,
            "SELECT COUNT(*) FROM support_ledger WHERE allocation_id = $1",
            *a0
        )
        .await,
        1
    );
    let (a1, _, need1, units1) = &allocs[1];
    let before = scalar(
        &app.store,
        "SELECT allocated FROM needs WHERE id = $1",
        *need1,
    )
    .await;
    let r = expert
        .post_form(
            &format!("/deliveries/{a1}"),
            &[
                ("outcome", "failed"),
                ("code", ""),
                ("note", "نشانی پیدا نشد"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        scalar(
            &app.store,
            "SELECT allocated FROM needs WHERE id = $1",
            *need1
        )
        .await,
        before - units1
    );
    assert_eq!(
        scalar(
            &app.store,
            "SELECT allocated FROM campaign_pools WHERE campaign_id = $1 AND resource = 'food'",
            campaign
        )
        .await,
        20 - units1
    );

    // Public pages: the receipt, the campaign, the statistics, the log — no personal data.
    let anon = app.client();
    let (status, receipt) = anon
        .get_text(&format!("/receipts?code={}", code.to_lowercase()))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(receipt.contains("data-testid=\"receipt-found\""));
    assert!(receipt.contains("پویش آزمایشی غذا"));
    let (_, unknown) = anon.get_text("/receipts?code=HMD-2222-2222").await;
    assert!(unknown.contains("data-testid=\"receipt-unknown\""));
    for path in [
        format!("/receipts?code={code}"),
        format!("/campaigns/{campaign}"),
        "/campaigns".to_owned(),
        "/stats".to_owned(),
        "/transparency".to_owned(),
        "/api/v1/transparency?limit=100".to_owned(),
        "/api/v1/campaigns".to_owned(),
        format!("/api/v1/campaigns/{campaign}/destinations"),
        format!("/api/v1/receipts/{code}"),
        "/api/v1/stats".to_owned(),
        "/api/v1/priority".to_owned(),
    ] {
        let (status, body) = anon.get_text(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        for personal in [
            "آزاده",
            "نمونه‌زاده",
            "9900000001",
            "09123456789",
            "۰۹۱۲۳۴۵۶۷۸۹",
        ] {
            assert!(!body.contains(personal), "{path} shows {personal}");
        }
    }
    let receipt: serde_json::Value = anon
        .get(&format!("/api/v1/receipts/{}", code.replace('-', " ")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(receipt["amount"], 20);
    assert_eq!(receipt["receipt_code"], code.as_str());
    let stats_json: serde_json::Value = anon.get("/api/v1/stats").await.json().await.unwrap();
    assert!(
        stats_json
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["persons_served"].is_null() && c["need_type"] == "food"),
        "a served cell of one person is suppressed: {stats_json}"
    );
    assert_eq!(
        expert.get("/api/v1/needs/table?by=type").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        anon.get("/api/v1/needs/table").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (_, stats) = anon.get_text("/stats").await;
    assert!(
        stats.contains("کمتر از ۵"),
        "one delivered person is a small cell"
    );
    let (_, donor_page) = donor.get_text("/donor").await;
    assert!(donor_page.contains(&code));
    let kinds: Vec<String> = ledger::recent(&app.store, None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    for k in ["campaign.created", "donation"] {
        assert!(kinds.iter().any(|x| x == k), "{k} is in the log");
    }
    // One allocation and one delivery are cells under five: held, never published alone.
    for k in ["allocation", "delivery"] {
        assert!(kinds.iter().all(|x| x != k), "{k} is held back");
    }
    // A pledge is a promise: it enters the log when it is received, as the donation.
    assert!(kinds.iter().all(|x| x != "pledge"));
    assert!(ledger::verify(&app.store).await.unwrap().is_ok());
}

/// A campaign with `units` of food received, over the whole country or one province.
async fn funded_campaign(store: &Store, province: Option<&str>, units: i64) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let id = campaigns::create(
        &mut tx,
        &NewCampaign {
            title: format!("پویش {}", province.unwrap_or("ملی")),
            description: String::new(),
            organisation_id: None,
            province_code: province.map(str::to_owned),
            county_code: None,
            goal_rials: 0,
            starts_on: "2020-01-01".into(),
            ends_on: "2100-01-01".into(),
            need_types: vec![("food".into(), units)],
        },
        None,
    )
    .await
    .unwrap();
    let user: i64 = sqlx::query("SELECT id FROM users WHERE username = 'donor'")
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get(0);
    let donor = campaigns::register_donor(&mut tx, user, "09120000000")
        .await
        .unwrap();
    let pledge = campaigns::pledge(&mut tx, id, donor, "food", units)
        .await
        .unwrap();
    campaigns::receive(&mut tx, pledge, units, "REF", None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

#[tokio::test]
async fn concurrent_allocations_never_exceed_a_need_or_spend_a_donation_twice() {
    let app = spawn_app().await;
    let county = tehran_county(&app).await;
    let persons = add_persons(&app.store, &county, 30, "سارا").await;
    let mut tx = app.store.begin().await.unwrap();
    for p in &persons {
        let id = needs::create_need(
            &mut tx,
            &NewNeed {
                person_id: *p,
                need_type: "food".into(),
                amount: 5,
                urgency: Urgency::Normal,
                note: None,
            },
            None,
        )
        .await
        .unwrap();
        needs::set_status(&mut tx, id, NeedStatus::Verified, None)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    // Two campaigns over the same needs (150 units needed, 200 given), each committed from two
    // tasks at once: the needs cap the total, and each pool is spent at most once.
    let national = funded_campaign(&app.store, None, 100).await;
    let mut tx = app.store.begin().await.unwrap();
    let donor: i64 = sqlx::query("SELECT id FROM donors")
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get(0);
    tx.rollback().await.unwrap();
    let tehran = {
        let mut tx = app.store.begin().await.unwrap();
        let id = campaigns::create(
            &mut tx,
            &NewCampaign {
                title: "پویش تهران".into(),
                description: String::new(),
                organisation_id: None,
                province_code: Some("23".into()),
                county_code: None,
                goal_rials: 0,
                starts_on: "2020-01-01".into(),
                ends_on: "2100-01-01".into(),
                need_types: vec![("food".into(), 100)],
            },
            None,
        )
        .await
        .unwrap();
        let pledge = campaigns::pledge(&mut tx, id, donor, "food", 100)
            .await
            .unwrap();
        campaigns::receive(&mut tx, pledge, 100, "REF2", None)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    };
    let window = Window {
        from: 0,
        to: i64::MAX,
    };
    let mut tasks = vec![];
    for campaign in [national, tehran, national, tehran] {
        let store = app.store.clone();
        tasks.push(tokio::spawn(async move {
            let c = campaigns::get(&store, campaign).await.unwrap().unwrap();
            let mut given = 0;
            for _ in 0..5 {
                match distribution::commit(
                    &store,
                    &c,
                    "food",
                    Policy::WaterFill,
                    window,
                    distribution::CommittedBy::unaudited(None),
                )
                .await
                {
                    Ok(done) => given += done.total,
                    Err(StoreError::Conflict(_)) | Err(StoreError::Invalid(_)) => {}
                    Err(e) => panic!("{e}"),
                }
                tokio::task::yield_now().await;
            }
            given
        }));
    }
    let mut given = 0;
    for t in tasks {
        given += t.await.unwrap();
    }
    let per_need: Vec<(i64, i64, i64)> = sqlx::query(
        "SELECT n.amount, n.allocated, CAST(COALESCE((SELECT SUM(a.units) FROM allocations a WHERE a.need_id = n.id), 0) AS BIGINT) \
         FROM needs n",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect();
    assert_eq!(per_need.len(), 30);
    for (amount, allocated, sum) in &per_need {
        assert!(allocated <= amount, "{allocated} > {amount}");
        assert_eq!(allocated, sum, "the need's counter matches its allocations");
    }
    let total: i64 = per_need.iter().map(|p| p.2).sum();
    assert_eq!(total, given);
    assert_eq!(total, 150, "every need is met, no more");
    let pools: Vec<(i64, i64)> =
        sqlx::query("SELECT received, allocated FROM campaign_pools WHERE resource = 'food'")
            .fetch_all(app.store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    for (received, allocated) in &pools {
        assert!(allocated <= received, "a donation spent twice");
    }
    let from_batches = scalar(
        &app.store,
        "SELECT CAST(COALESCE(SUM(total), 0) AS BIGINT) FROM allocation_batches WHERE id > $1",
        0,
    )
    .await;
    assert_eq!(from_batches, total);
}

#[tokio::test]
async fn priority_weights_are_published_and_only_the_national_office_sets_them() {
    let app = spawn_app().await;
    let (status, page) = app.client().get_text("/priority").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("زن سرپرست خانوار"));
    assert!(!page.contains("data-testid=\"weights-form\""));
    let officer = app.login("tehran.officer").await;
    let r = officer
        .post_form("/priority", &[("female_head", "50")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let admin = app.login("admin").await;
    let r = admin
        .post_form("/priority", &[("female_head", "۵۰"), ("rural", "0")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let w = needs::weights(&app.store).await.unwrap();
    assert_eq!(w.of(hamdeli_domain::needs::Indicator::FemaleHead), 50);
    assert_eq!(w.of(hamdeli_domain::needs::Indicator::Rural), 0);
    let r = admin
        .post_form("/priority", &[("female_head", "5000")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        needs::weights(&app.store)
            .await
            .unwrap()
            .of(hamdeli_domain::needs::Indicator::FemaleHead),
        50,
        "a refused change changes nothing"
    );
    // A new need type, then a need of it.
    let r = admin
        .post_form(
            "/needs/types",
            &[
                ("code", "internet"),
                ("name_fa", "اینترنت برای آموزش"),
                ("name_en", "Internet for school"),
                ("unit", "rial"),
                ("active", "1"),
                ("sort", "50"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.client().get_text("/priority").await;
    assert!(page.contains("اینترنت برای آموزش"));
}

#[tokio::test]
async fn the_double_service_report_finds_people_served_twice_across_organisations() {
    let app = spawn_app().await;
    let county = tehran_county(&app).await;
    let persons = add_persons(&app.store, &county, 2, "مهسا").await;
    let orgs: Vec<i64> = sqlx::query("SELECT id FROM organisations ORDER BY id LIMIT 2")
        .fetch_all(app.store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    // Person 0: food from two organisations in 1405-09; person 1: food from one, twice.
    for (person, org, period) in [
        (persons[0], orgs[0], "1405-09"),
        (persons[0], orgs[1], "1405-09"),
        (persons[1], orgs[0], "1405-09"),
        (persons[1], orgs[0], "1405-08"),
    ] {
        sqlx::query(
            "INSERT INTO support_ledger (person_id, organisation_id, need_type, amount, period, at, source) \
             VALUES ($1, $2, 'food', 1, $3, 0, 'import')",
        )
        .bind(person)
        .bind(org)
        .bind(period)
        .execute(app.store.pool())
        .await
        .unwrap();
    }
    let expert = app.login("tehran.expert").await;
    let (status, page) = expert.get_text("/support/double?period=۱۴۰۵").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("مهسا۰"));
    assert!(!page.contains("مهسا۱"));
    let (_, month) = expert.get_text("/support/double?period=1405-08").await;
    assert!(month.contains("data-testid=\"no-double\""));
    let csv = expert.get("/support/double?period=1405&format=csv").await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.text().await.unwrap().contains("مهسا0"));
    // Out of scope: another county's expert sees nobody.
    let other = app.login("isfahan.expert").await;
    let (_, page) = other.get_text("/support/double?period=1405").await;
    assert!(!page.contains("مهسا۰"));
}

/// The need ids of an allocation page's candidate lines, in the page's order.
fn need_rows(html: &str) -> Vec<i64> {
    html.match_indices("data-need=\"")
        .filter_map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest[..rest.find('"')?].parse().ok()
        })
        .collect()
}

/// A campaign with more candidate needs than a dry run shows in full (issue 17): the GET counts
/// them set-based — the same candidates, eligible needs, open need and pool as the full plan —
/// and lists them by key, at most 100 a page, the pages together every candidate once in need
/// id order; the commit from that page still writes exactly the full plan, once.
#[tokio::test]
async fn a_large_allocation_is_counted_paged_by_key_and_committed_exactly() {
    let app = spawn_app().await;
    let n = distribution::FULL_DRY_RUN_MAX as usize + 130;
    hamdeli_store::bench::verified_needs(&app.store, "23", "2301", "food", n)
        .await
        .unwrap();
    // One need not verified yet (a candidate, not eligible) and one closed (not a candidate).
    for (id, status) in sqlx::query("SELECT id FROM needs ORDER BY id LIMIT 2")
        .fetch_all(app.store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<i64, _>(0))
        .zip(["open", "closed"])
    {
        sqlx::query("UPDATE needs SET status = $1 WHERE id = $2")
            .bind(status)
            .bind(id)
            .execute(app.store.pool())
            .await
            .unwrap();
    }
    let campaign = funded_campaign(&app.store, None, 700).await;
    let c = campaigns::get(&app.store, campaign).await.unwrap().unwrap();
    let window = Window {
        from: 0,
        to: i64::MAX,
    };
    let plan = distribution::dry_run(&app.store, &c, "food", Policy::WaterFill, window)
        .await
        .unwrap();
    let counts = distribution::candidate_counts(&app.store, &c, "food", AreaLevel::Province)
        .await
        .unwrap();
    assert_eq!(counts.candidates, plan.lines.len() as i64);
    assert_eq!(counts.candidates, n as i64 - 1);
    assert!(counts.candidates > distribution::FULL_DRY_RUN_MAX);
    assert_eq!(counts.eligible, plan.eligible);
    assert_eq!(counts.eligible, n as i64 - 2);
    let open: i64 = plan
        .lines
        .iter()
        .filter(|l| l.ineligible.is_none())
        .map(|l| l.remaining)
        .sum();
    assert_eq!(counts.open, open);
    assert_eq!(counts.pool, plan.pool);
    assert_eq!(
        counts.groups.iter().map(|g| g.needs).sum::<i64>(),
        counts.candidates
    );

    let admin = app.login("admin").await;
    let mut seen = vec![];
    let mut after: Option<i64> = None;
    for page in 0.. {
        let path = match after {
            Some(a) => format!("/campaigns/{campaign}/allocate?resource=food&after={a}"),
            None => format!("/campaigns/{campaign}/allocate?resource=food"),
        };
        let (status, html) = admin.get_text(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(html.contains("data-testid=\"allocate-overview\""), "{path}");
        assert!(html.contains("data-testid=\"allocate-commit\""));
        let rows = need_rows(&html);
        assert!(rows.len() <= 100, "{} rows on one page", rows.len());
        if page == 0 {
            assert_eq!(rows.len(), 100);
        }
        seen.extend(rows);
        after = html.find("data-testid=\"allocate-next\"").map(|i| {
            let rest = &html[i..];
            let start = rest.find("after=").unwrap() + "after=".len();
            let digits: String = rest[start..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().unwrap()
        });
        if after.is_none() {
            break;
        }
    }
    let every: Vec<i64> = plan.lines.iter().map(|l| l.candidate.need_id).collect();
    assert_eq!(seen, every, "the pages are every candidate once, in order");

    // The commit from the overview writes the full plan, exactly; a second finds nothing left.
    let r = admin
        .post_form(
            &format!("/campaigns/{campaign}/allocate"),
            &[("resource", "food"), ("policy", "water-fill")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let written: Vec<(i64, i64)> =
        sqlx::query("SELECT need_id, units FROM allocations ORDER BY need_id")
            .fetch_all(app.store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    let planned: Vec<(i64, i64)> = plan
        .lines
        .iter()
        .filter(|l| l.units > 0)
        .map(|l| (l.candidate.need_id, l.units))
        .collect();
    assert_eq!(written, planned);
    assert_eq!(written.iter().map(|w| w.1).sum::<i64>(), 700);
    let again = admin
        .post_form(
            &format!("/campaigns/{campaign}/allocate"),
            &[("resource", "food"), ("policy", "water-fill")],
        )
        .await;
    assert!(again.status().is_client_error(), "{}", again.status());
    assert_eq!(
        scalar(
            &app.store,
            "SELECT CAST(COALESCE(SUM(units), 0) AS BIGINT) FROM allocations WHERE units > $1",
            0
        )
        .await,
        700
    );
    // The overview after the commit: the pool is spent, nothing to commit.
    let (_, html) = admin
        .get_text(&format!("/campaigns/{campaign}/allocate?resource=food"))
        .await;
    assert!(!html.contains("data-testid=\"allocate-commit\""));
}

/// A small deterministic generator for the random writes below.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[(self.next() as usize) % xs.len()].clone()
    }
}

/// A campaign of the country, a province or a county for food and the money types, its pools
/// empty (the counts do not need a gift).
async fn campaign_for(store: &Store, province: Option<&str>, county: Option<&str>) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let id = campaigns::create(
        &mut tx,
        &NewCampaign {
            title: format!("پویش {province:?} {county:?}"),
            description: String::new(),
            organisation_id: None,
            province_code: province.map(str::to_owned),
            county_code: county.map(str::to_owned),
            goal_rials: 0,
            starts_on: "2020-01-01".into(),
            ends_on: "2100-01-01".into(),
            need_types: vec![
                ("food".into(), 100),
                ("medical".into(), 100),
                ("rent_housing".into(), 100),
            ],
        },
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// The allocation summary's rows (migration 0032) and the same recomputed from every need.
async fn allocation_summary_and_scratch(
    store: &Store,
) -> (
    Vec<(String, String, String, String, Vec<i64>)>,
    Vec<(String, String, String, String, Vec<i64>)>,
) {
    let read = |rows: Vec<sqlx::any::AnyRow>| {
        let mut out: Vec<(String, String, String, String, Vec<i64>)> = rows
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    r.get(3),
                    (4..7).map(|i| r.get::<i64, _>(i)).collect(),
                )
            })
            .collect();
        out.sort();
        out
    };
    let kept = sqlx::query(
        "SELECT need_type, province_code, county_code, urgency, CAST(eligible AS BIGINT), \
         CAST(needs AS BIGINT), CAST(open_units AS BIGINT) FROM allocation_summary",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let scratch = sqlx::query(distribution::ALLOCATION_SUMMARY_RECOMPUTED)
        .fetch_all(store.pool())
        .await
        .unwrap();
    (read(kept), read(scratch))
}

/// Every campaign's counts for food and money, from the summary and recounted from the needs.
async fn assert_counts_agree(store: &Store, campaigns_ids: &[i64], when: &str) {
    let (kept, scratch) = allocation_summary_and_scratch(store).await;
    assert_eq!(kept, scratch, "{when}: allocation_summary");
    for &id in campaigns_ids {
        let c = campaigns::get(store, id).await.unwrap().unwrap();
        for resource in ["food", campaigns::MONEY] {
            for level in [AreaLevel::Province, AreaLevel::County] {
                let kept = distribution::candidate_counts(store, &c, resource, level)
                    .await
                    .unwrap();
                let scratch = distribution::candidate_counts_recomputed(store, &c, resource, level)
                    .await
                    .unwrap();
                assert_eq!(
                    kept, scratch,
                    "{when}: campaign {id}, {resource}, {level:?}"
                );
                assert_eq!(
                    kept.areas.iter().map(|a| a.1).sum::<i64>(),
                    kept.eligible
                        - kept
                            .groups
                            .iter()
                            .filter(|g| g.eligible && g.province_code.is_none())
                            .map(|g| g.needs)
                            .sum::<i64>(),
                    "{when}: campaign {id}, {resource}, {level:?}: areas (a need's county and \
                     province are known together here)"
                );
            }
        }
    }
}

/// A number as the pages show it (Persian or Latin digits, with separators).
fn shown_number(s: &str) -> i64 {
    s.chars()
        .filter_map(|ch| match ch {
            '0'..='9' => ch.to_digit(10),
            '۰'..='۹' => Some(ch as u32 - '۰' as u32),
            _ => None,
        })
        .fold(0, |n, d| n * 10 + i64::from(d))
}

/// The allocation overview's counts come from `allocation_summary` (migration 0032), kept by
/// triggers on `needs`: after random writes of every kind (needs created, verified, closed and
/// reopened, allocated in part or in full, allocated units or amount changed alone, refiled to
/// another county or none, another type or urgency, removed) the counts of a national,
/// provincial and county campaign for goods and money equal a recount of their needs, the
/// overview page shows the full plan's eligible needs, and a rebuild restores a damaged summary.
#[tokio::test]
async fn the_allocation_overview_counts_equal_a_recomputation_after_random_writes() {
    let app = spawn_app().await;
    let store = &app.store;
    let n = distribution::FULL_DRY_RUN_MAX as usize + 50;
    hamdeli_store::bench::verified_needs(store, "23", "2301", "food", n)
        .await
        .unwrap();
    let county = tehran_county(&app).await;
    let persons = add_persons(store, &county, 20, "رعنا").await;
    let national = campaign_for(store, None, None).await;
    let province = campaign_for(store, Some("23"), None).await;
    let county_campaign = campaign_for(store, Some("23"), Some("2301")).await;
    let all = [national, province, county_campaign];
    assert_counts_agree(store, &all, "at the start").await;

    let mut counties: Vec<(Option<String>, Option<String>)> = sqlx::query(
        "SELECT province_code, code FROM counties ORDER BY province_code <> '23', code LIMIT 8",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| (Some(r.get(0)), Some(r.get(1))))
    .collect();
    counties.push((None, None));
    let types = ["food", "medical", "rent_housing"];
    let urgencies = [
        Urgency::Low,
        Urgency::Normal,
        Urgency::High,
        Urgency::Critical,
    ];
    let mut rng = Lcg(32);
    for round in 0..6 {
        for _ in 0..20 {
            let needs_now: Vec<i64> = sqlx::query("SELECT id FROM needs ORDER BY id DESC LIMIT 60")
                .fetch_all(store.pool())
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            let need = rng.pick(&needs_now);
            let x = (rng.next() % 6) as i64 + 1;
            let (sql, a, b): (&'static str, Option<String>, Option<String>) = match rng.next() % 13
            {
                0 | 1 => {
                    let mut tx = store.begin().await.unwrap();
                    let id = needs::create_need(
                        &mut tx,
                        &NewNeed {
                            person_id: rng.pick(&persons),
                            need_type: rng.pick(&types).into(),
                            amount: x * 1000,
                            urgency: rng.pick(&urgencies),
                            note: None,
                        },
                        None,
                    )
                    .await
                    .unwrap();
                    if !rng.next().is_multiple_of(3) {
                        needs::set_status(&mut tx, id, NeedStatus::Verified, None)
                            .await
                            .unwrap();
                    }
                    tx.commit().await.unwrap();
                    continue;
                }
                2 => {
                    let mut tx = store.begin().await.unwrap();
                    let _ = needs::set_status(&mut tx, need, NeedStatus::Closed, None).await;
                    tx.commit().await.unwrap();
                    continue;
                }
                3 => (
                    "UPDATE needs SET status = CASE WHEN allocated > 0 THEN 'partly_met' ELSE 'verified' END \
                     WHERE id = $1 AND status = 'closed' AND $2 = $2 AND $3 = $3",
                    None,
                    None,
                ),
                4 => (
                    "UPDATE needs SET allocated = CASE WHEN amount > allocated + CAST($2 AS BIGINT) \
                     THEN allocated + CAST($2 AS BIGINT) ELSE amount END, \
                     status = CASE WHEN amount > allocated + CAST($2 AS BIGINT) THEN 'partly_met' ELSE 'met' END \
                     WHERE id = $1 AND status IN ('verified', 'partly_met') AND $3 = $3",
                    Some(x.to_string()),
                    None,
                ),
                5 => (
                    "UPDATE needs SET allocated = CAST($2 AS BIGINT) WHERE id = $1 AND amount >= CAST($2 AS BIGINT) AND $3 = $3",
                    Some(x.to_string()),
                    None,
                ),
                6 => (
                    "UPDATE needs SET amount = CASE WHEN allocated > 0 THEN allocated ELSE amount + CAST($2 AS BIGINT) END \
                     WHERE id = $1 AND $3 = $3",
                    Some(x.to_string()),
                    None,
                ),
                7 => {
                    let (p, c) = rng.pick(&counties);
                    (
                        "UPDATE needs SET province_code = $2, county_code = $3 WHERE id = $1",
                        p,
                        c,
                    )
                }
                8 => (
                    "UPDATE needs SET need_type = $2 WHERE id = $1 AND $3 = $3",
                    Some(rng.pick(&types).to_owned()),
                    None,
                ),
                9 => (
                    "UPDATE needs SET urgency = $2 WHERE id = $1 AND $3 = $3",
                    Some(rng.pick(&urgencies).code().to_owned()),
                    None,
                ),
                10 => (
                    "UPDATE needs SET status = 'open' WHERE id = $1 AND status = 'verified' AND $2 = $2 AND $3 = $3",
                    None,
                    None,
                ),
                _ => (
                    "DELETE FROM needs WHERE id = $1 AND NOT EXISTS \
                     (SELECT 1 FROM allocations a WHERE a.need_id = needs.id) AND $2 = $2 AND $3 = $3",
                    None,
                    None,
                ),
            };
            // `$2 = $2` keeps every parameter referenced on both engines; NULL binds compare as
            // unknown there, so those statements bind text.
            let a = if sql.contains("province_code = $2") {
                a
            } else {
                Some(a.unwrap_or_default())
            };
            let b = if sql.contains("county_code = $3") {
                b
            } else {
                Some(b.unwrap_or_default())
            };
            sqlx::query(sql)
                .bind(need)
                .bind(a)
                .bind(b)
                .execute(store.pool())
                .await
                .unwrap();
        }
        assert_counts_agree(store, &all, &format!("round {round}")).await;
    }
    let (kept, _) = allocation_summary_and_scratch(store).await;
    // The writes reached several types, places, urgencies and both sides of eligibility.
    assert!(kept.len() >= 12, "{kept:?}");
    for eligible in [0, 1] {
        for t in types {
            assert!(
                kept.iter().any(|k| k.0 == t && k.4[0] == eligible),
                "no {t} group with eligible = {eligible}: {kept:?}"
            );
        }
    }
    assert!(
        kept.iter().any(|k| k.1.is_empty()),
        "no need without a place"
    );

    // The counts are the full plan's: candidates, eligible needs and what they lack.
    let c = campaigns::get(store, national).await.unwrap().unwrap();
    let window = Window {
        from: 0,
        to: i64::MAX,
    };
    let counts = distribution::candidate_counts(store, &c, "food", AreaLevel::County)
        .await
        .unwrap();
    let plan = distribution::dry_run(store, &c, "food", Policy::WaterFill, window)
        .await
        .unwrap();
    assert_eq!(counts.candidates, plan.lines.len() as i64);
    assert!(counts.candidates > distribution::FULL_DRY_RUN_MAX);
    assert_eq!(counts.eligible, plan.eligible);
    let open: i64 = plan
        .lines
        .iter()
        .filter(|l| l.ineligible.is_none())
        .map(|l| l.remaining)
        .sum();
    assert_eq!(counts.open, open);
    // The overview page shows them.
    let admin = app.login("admin").await;
    let (status, html) = admin
        .get_text(&format!("/campaigns/{national}/allocate?resource=food"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-testid=\"allocate-overview\""));
    let at = html.find("data-testid=\"allocate-eligible\">").unwrap();
    let shown = &html[at + "data-testid=\"allocate-eligible\">".len()..];
    assert_eq!(
        shown_number(&shown[..shown.find('<').unwrap()]),
        plan.eligible
    );

    // The page reads the summary: a damaged one shows, and a rebuild makes it exact again.
    sqlx::query("UPDATE allocation_summary SET needs = needs + 1 WHERE need_type = 'food'")
        .execute(store.pool())
        .await
        .unwrap();
    let damaged = distribution::candidate_counts(store, &c, "food", AreaLevel::Province)
        .await
        .unwrap();
    assert_ne!(damaged.candidates, counts.candidates);
    hamdeli_store::scale::rebuild(store).await.unwrap();
    assert_counts_agree(store, &all, "after a rebuild").await;
}

/// `destination_summary` (migration 0033) and the same recomputed from every allocation, sorted.
async fn destination_summary_and_scratch(
    store: &Store,
) -> (
    Vec<(i64, String, String, String, String, Vec<i64>)>,
    Vec<(i64, String, String, String, String, Vec<i64>)>,
) {
    let read = |rows: Vec<sqlx::any::AnyRow>| {
        let mut out: Vec<(i64, String, String, String, String, Vec<i64>)> = rows
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    r.get(3),
                    r.get(4),
                    (5..8).map(|i| r.get::<i64, _>(i)).collect(),
                )
            })
            .collect();
        out.sort();
        out
    };
    let kept = sqlx::query(
        "SELECT CAST(campaign_id AS BIGINT), resource, province_code, zone, need_type, \
         CAST(allocations AS BIGINT), CAST(units AS BIGINT), CAST(delivered AS BIGINT) \
         FROM destination_summary",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let scratch = sqlx::query(campaigns::DESTINATION_SUMMARY_RECOMPUTED)
        .fetch_all(store.pool())
        .await
        .unwrap();
    (read(kept), read(scratch))
}

type DestinationKey = (Option<String>, Option<String>, String, i64, i64, i64);

fn destination_keys(rows: Vec<campaigns::Destination>) -> Vec<DestinationKey> {
    rows.into_iter()
        .map(|d| {
            (
                d.province_code,
                d.zone,
                d.need_type,
                d.allocations,
                d.units,
                d.delivered,
            )
        })
        .collect()
}

/// The summary equals a recount, and every campaign's destinations (all resources and food
/// alone, as the receipts ask) equal the former scan of its allocations, in the same order.
async fn assert_destinations_agree(store: &Store, campaign_ids: &[i64], when: &str) {
    let (kept, scratch) = destination_summary_and_scratch(store).await;
    assert_eq!(kept, scratch, "{when}: destination_summary");
    for &id in campaign_ids {
        for resource in [None, Some("food"), Some(campaigns::MONEY)] {
            let kept = campaigns::destinations(store, id, resource).await.unwrap();
            let scratch = campaigns::destinations_recomputed(store, id, resource)
                .await
                .unwrap();
            assert_eq!(
                destination_keys(kept),
                destination_keys(scratch),
                "{when}: campaign {id}, {resource:?}"
            );
        }
    }
}

/// The public campaign page's destination rows: (units, row count).
fn page_destination_units(html: &str) -> (i64, usize) {
    let Some(at) = html.find("data-testid=\"campaign-destinations\"") else {
        return (0, 0);
    };
    let body = &html[at..];
    let body = &body[body.find("<tbody>").unwrap()..body.find("</tbody>").unwrap()];
    let rows: Vec<&str> = body.split("<tr>").skip(1).collect();
    let units = rows
        .iter()
        .map(|r| {
            let cell = r.split("<td>").nth(5).unwrap();
            shown_number(&cell[..cell.find("</td>").unwrap()])
        })
        .sum();
    (units, rows.len())
}

/// Where a campaign's allocations went comes from `destination_summary` (migration 0033), kept
/// by triggers on `allocations`: after random allocation commits of two campaigns, deliveries,
/// failed deliveries (units back to the need and the pool), allocations moved to another
/// province, zone, need type or number of units, and removed (the product removes none; the
/// triggers cover it), the summary equals a recount and the campaigns' destinations equal the
/// former scan; commits run at the same time as deliveries and failures never deadlock
/// (PostgreSQL); the public page and the API show the figures, and a rebuild restores a
/// damaged summary.
#[tokio::test]
async fn campaign_destinations_equal_a_recomputation_after_random_allocation_writes() {
    let app = spawn_app().await;
    let store = &app.store;
    hamdeli_store::bench::verified_needs(store, "23", "2301", "food", 120)
        .await
        .unwrap();
    let county = tehran_county(&app).await;
    let persons = add_persons(store, &county, 20, "نسرین").await;
    // The national campaign gives part of what is needed, the provincial one the rest.
    let national = funded_campaign(store, None, 150).await;
    let tehran = {
        let mut tx = store.begin().await.unwrap();
        let id = campaigns::create(
            &mut tx,
            &NewCampaign {
                title: "پویش تهران".into(),
                description: String::new(),
                organisation_id: None,
                province_code: Some("23".into()),
                county_code: None,
                goal_rials: 0,
                starts_on: "2020-01-01".into(),
                ends_on: "2100-01-01".into(),
                need_types: vec![("food".into(), 3000)],
            },
            None,
        )
        .await
        .unwrap();
        let donor: i64 = sqlx::query("SELECT id FROM donors")
            .fetch_one(&mut *tx)
            .await
            .unwrap()
            .get(0);
        let pledge = campaigns::pledge(&mut tx, id, donor, "food", 3000)
            .await
            .unwrap();
        campaigns::receive(&mut tx, pledge, 3000, "REF-T", None)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    };
    let all = [national, tehran];
    assert_destinations_agree(store, &all, "at the start").await;

    let window = Window {
        from: 0,
        to: i64::MAX,
    };
    let places: Vec<(Option<String>, Option<String>)> = vec![
        (Some("23".into()), Some("urban".into())),
        (Some("23".into()), Some("rural".into())),
        (Some("07".into()), Some("urban".into())),
        (Some("07".into()), None),
        (None, None),
    ];
    let types = ["food", "medical", "rent_housing"];
    let mut rng = Lcg(33);
    let mut removed = 0;
    for round in 0..5 {
        // New needs, then a commit of each campaign (the first rounds give everything out).
        let mut tx = store.begin().await.unwrap();
        for _ in 0..8 {
            let id = needs::create_need(
                &mut tx,
                &NewNeed {
                    person_id: rng.pick(&persons),
                    need_type: "food".into(),
                    amount: (rng.next() % 5) as i64 + 1,
                    urgency: Urgency::Normal,
                    note: None,
                },
                None,
            )
            .await
            .unwrap();
            needs::set_status(&mut tx, id, NeedStatus::Verified, None)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let order = if round % 2 == 0 {
            [national, tehran]
        } else {
            [tehran, national]
        };
        for campaign in order {
            let c = campaigns::get(store, campaign).await.unwrap().unwrap();
            let policy = if rng.next().is_multiple_of(2) {
                Policy::WaterFill
            } else {
                Policy::Priority
            };
            match distribution::commit(
                store,
                &c,
                "food",
                policy,
                window,
                distribution::CommittedBy::unaudited(None),
            )
            .await
            {
                Ok(_) | Err(StoreError::Invalid(_)) | Err(StoreError::Conflict(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
        assert_destinations_agree(store, &all, &format!("round {round}, committed")).await;
        // Deliveries and failures of pending allocations, each in its own transaction.
        let pending: Vec<i64> =
            sqlx::query("SELECT id FROM allocations WHERE status = 'pending' ORDER BY id")
                .fetch_all(store.pool())
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
        for &a in &pending {
            if !rng.next().is_multiple_of(3) {
                continue;
            }
            let outcome = if rng.next().is_multiple_of(3) {
                distribution::Outcome::Failed {
                    note: "نبود".into(),
                }
            } else {
                distribution::Outcome::Delivered {
                    code: None,
                    note: Some("تحویل شد".into()),
                }
            };
            let mut tx = store.begin().await.unwrap();
            distribution::record_delivery(&mut tx, a, &outcome, "1405-01", None)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        // Writes of the summary's columns the product does not make (the triggers cover them).
        let ids: Vec<i64> = sqlx::query("SELECT id FROM allocations ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        for _ in 0..12 {
            let a = rng.pick(&ids);
            let (p, z) = rng.pick(&places);
            let q = match rng.next() % 5 {
                0 => sqlx::query("UPDATE allocations SET province_code = $2, zone = $3 WHERE id = $1")
                    .bind(a)
                    .bind(p)
                    .bind(z),
                1 => sqlx::query("UPDATE allocations SET need_type = $2 WHERE id = $1")
                    .bind(a)
                    .bind(rng.pick(&types).to_owned()),
                2 => sqlx::query("UPDATE allocations SET units = units + 1 WHERE id = $1").bind(a),
                3 => sqlx::query(
                    "UPDATE allocations SET status = 'delivered' WHERE id = $1 AND status = 'pending'",
                )
                .bind(a),
                _ => sqlx::query(
                    "UPDATE allocations SET status = 'pending' WHERE id = $1 AND status <> 'pending' \
                     AND NOT EXISTS (SELECT 1 FROM support_ledger s WHERE s.allocation_id = allocations.id)",
                )
                .bind(a),
            };
            q.execute(store.pool()).await.unwrap();
        }
        // A removed allocation (pending, never in the ledger or the public log's queue).
        let gone = sqlx::query(
            "DELETE FROM allocations WHERE id = (SELECT MAX(a.id) FROM allocations a \
             WHERE a.status = 'pending' AND NOT EXISTS \
             (SELECT 1 FROM support_ledger s WHERE s.allocation_id = a.id))",
        )
        .execute(store.pool())
        .await;
        if let Ok(done) = gone {
            removed += done.rows_affected();
        }
        assert_destinations_agree(store, &all, &format!("round {round}")).await;
    }
    // Commits of both campaigns at the same time as deliveries and failures (which give units
    // back to the pools and the needs): none waits on another for ever (PostgreSQL would cancel
    // one with a deadlock error), and the summary stays exact.
    let mut tx = store.begin().await.unwrap();
    for p in &persons {
        let id = needs::create_need(
            &mut tx,
            &NewNeed {
                person_id: *p,
                need_type: "food".into(),
                amount: 3,
                urgency: Urgency::High,
                note: None,
            },
            None,
        )
        .await
        .unwrap();
        needs::set_status(&mut tx, id, NeedStatus::Verified, None)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let pending: Vec<i64> =
        sqlx::query("SELECT id FROM allocations WHERE status = 'pending' ORDER BY id")
            .fetch_all(store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
    let mut tasks = vec![];
    for campaign in [national, tehran, national, tehran] {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let c = campaigns::get(&store, campaign).await.unwrap().unwrap();
            for _ in 0..3 {
                match distribution::commit(
                    &store,
                    &c,
                    "food",
                    Policy::WaterFill,
                    window,
                    distribution::CommittedBy::unaudited(None),
                )
                .await
                {
                    Ok(_) | Err(StoreError::Conflict(_)) | Err(StoreError::Invalid(_)) => {}
                    Err(e) => panic!("commit: {e}"),
                }
                tokio::task::yield_now().await;
            }
        }));
    }
    for part in 0..2 {
        let store = store.clone();
        let mine: Vec<i64> = pending.iter().copied().skip(part).step_by(2).collect();
        tasks.push(tokio::spawn(async move {
            for (i, a) in mine.into_iter().enumerate() {
                let outcome = if i % 2 == 0 {
                    distribution::Outcome::Failed {
                        note: "نبود".into(),
                    }
                } else {
                    distribution::Outcome::Delivered {
                        code: None,
                        note: Some("تحویل شد".into()),
                    }
                };
                let mut tx = store.begin().await.unwrap();
                distribution::record_delivery(&mut tx, a, &outcome, "1405-01", None)
                    .await
                    .unwrap_or_else(|e| panic!("delivery {a}: {e}"));
                tx.commit().await.unwrap();
                tokio::task::yield_now().await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_destinations_agree(store, &all, "after concurrent commits and deliveries").await;

    let (kept, _) = destination_summary_and_scratch(store).await;
    // Both campaigns, several places and types, deliveries.
    assert!(kept.len() >= 8, "{kept:?}");
    for c in all {
        assert!(kept.iter().any(|k| k.0 == c), "no row of campaign {c}");
    }
    assert!(
        kept.iter().any(|k| k.2.is_empty()),
        "no allocation without a province"
    );
    assert!(kept.iter().any(|k| k.5[2] > 0), "no delivery");
    assert!(removed > 0, "no allocation removed");
    let failed = scalar(
        store,
        "SELECT CAST(COUNT(*) AS BIGINT) FROM allocations WHERE status = 'failed' AND id > $1",
        0,
    )
    .await;
    assert!(failed > 0, "no failed delivery");

    // The public page and the API show the recomputed figures.
    let anon = app.client();
    let expected = campaigns::destinations_recomputed(store, national, None)
        .await
        .unwrap();
    let expected_units: i64 = expected.iter().map(|d| d.units).sum();
    let check = |html: &str, api: &str, when: &str| {
        assert_eq!(
            page_destination_units(html),
            (expected_units, expected.len()),
            "{when}: page"
        );
        let api: serde_json::Value = serde_json::from_str(api).unwrap();
        let api = api.as_array().unwrap();
        assert_eq!(api.len(), expected.len(), "{when}: API");
        for (a, d) in api.iter().zip(&expected) {
            assert_eq!(a["province_code"].as_str(), d.province_code.as_deref());
            assert_eq!(a["zone"].as_str(), d.zone.as_deref());
            assert_eq!(a["need_type"].as_str(), Some(d.need_type.as_str()));
            assert_eq!(a["units"].as_i64(), Some(d.units), "{when}: API");
            if let Some(r) = a["recipients"].as_i64() {
                assert_eq!(r, d.allocations, "{when}: API");
            }
        }
    };
    let (status, page) = anon.get_text(&format!("/campaigns/{national}")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, api) = anon
        .get_text(&format!("/api/v1/campaigns/{national}/destinations"))
        .await;
    assert_eq!(status, StatusCode::OK);
    check(&page, &api, "kept");

    // They read the summary: a damaged one shows, and a rebuild makes it exact again.
    sqlx::query("UPDATE destination_summary SET units = units + 1000 WHERE campaign_id = $1")
        .bind(national)
        .execute(store.pool())
        .await
        .unwrap();
    let (_, api) = anon
        .get_text(&format!("/api/v1/campaigns/{national}/destinations"))
        .await;
    let api: serde_json::Value = serde_json::from_str(&api).unwrap();
    assert_ne!(
        api.as_array().unwrap()[0]["units"].as_i64(),
        Some(expected[0].units)
    );
    hamdeli_store::scale::rebuild(store).await.unwrap();
    assert_destinations_agree(store, &all, "after a rebuild").await;
    let (_, page) = anon.get_text(&format!("/campaigns/{national}")).await;
    let (_, api) = anon
        .get_text(&format!("/api/v1/campaigns/{national}/destinations"))
        .await;
    check(&page, &api, "after a rebuild");
}
