//! Scope decided once, in the application layer, tried across scopes: a partner reads only
//! what it originated (and what another organisation's sharing rule gives it), a partner's
//! campaign reaches only its own persons, a review spanning two counties is invisible to each
//! county's expert, and a provincial officer manages no fellow officer.

use reqwest::StatusCode;

use hamdeli_store::persons::{self, LinkPlan, NewReview};

use crate::support::{TestApp, code, org, spawn_app, upload};

const RELIEF: &str = "کمیته امداد (نمایشی)";
const WELFARE: &str = "سازمان بهزیستی (نمایشی)";

async fn person_of_source(app: &TestApp, source_id: &str) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT person_id FROM source_records WHERE source_id = $1")
        .bind(source_id.to_owned())
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

const SECRET_PHONE: &str = "09127770011";
const SECRET_FATHER: &str = "غلامرضا";

#[tokio::test]
async fn a_partner_reads_only_what_it_originated_whatever_it_uploads() {
    let app = spawn_app().await;
    let relief_org = org(&app, RELIEF).await;
    let welfare_org = org(&app, WELFARE).await;
    let relief = app.login("relief.partner").await;
    let welfare = app.login("welfare.partner").await;
    let target = code(424_242);
    let other = code(515_151);
    let relief_csv = format!(
        "شناسه,کد ملی,نام,نام خانوادگی,نام پدر,تاریخ تولد,تلفن همراه,استان,شهرستان\n\
         t1,{target},نسرین,کاظمی,{SECRET_FATHER},1362/04/11,{SECRET_PHONE},تهران,ری\n\
         t2,{other},پروین,یزدانی,حسین,1358/01/20,09125550022,تهران,ری\n"
    );
    upload(&relief, &app, relief_org, "مستمری محرمانه", &relief_csv).await;
    let person = person_of_source(&app, "t1").await;
    let only_relief = person_of_source(&app, "t2").await;

    // Before any upload of its own, welfare neither finds nor opens the person.
    for path in [
        format!("/registry/persons/{person}"),
        format!("/api/v1/persons/{person}"),
    ] {
        assert_eq!(
            welfare.get(&path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let found = welfare
        .post_json(
            "/api/v1/persons/search",
            &serde_json::json!({ "q": target }),
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        found.trim(),
        "[]",
        "search finds nobody welfare does not hold"
    );

    // The attack: a one-row list with the person's code and name.
    let claim = format!(
        "شناسه,کد ملی,نام,نام خانوادگی,تاریخ تولد,استان,شهرستان\nw1,{target},نسرین,کاظمی,1362/04/11,تهران,ری\n"
    );
    upload(&welfare, &app, welfare_org, "ادعا", &claim).await;
    assert_eq!(
        person_of_source(&app, "w1").await,
        person,
        "linked to the same person"
    );

    // It now sees that relief also lists her, and nothing of relief's record.
    let (status, page) = welfare
        .get_text(&format!("/registry/persons/{person}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("data-testid=\"record-withheld\""),
        "a withheld record"
    );
    assert!(page.contains(RELIEF), "which organisation holds the match");
    for secret in [SECRET_PHONE, SECRET_FATHER, "۰۹۱۲۷۷۷۰۰۱۱"] {
        assert!(!page.contains(secret), "the page leaks {secret}");
    }
    let (status, json) = welfare.get_text(&format!("/api/v1/persons/{person}")).await;
    assert_eq!(status, StatusCode::OK);
    for secret in [SECRET_PHONE, SECRET_FATHER] {
        assert!(!json.contains(secret), "the API leaks {secret}: {json}");
    }
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["household"].is_null(), "no household for a partner");
    assert_eq!(
        v["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["withheld"] == true)
            .count(),
        1
    );
    let hits = welfare
        .post_json(
            "/api/v1/persons/search",
            &serde_json::json!({ "q": target }),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        hits.contains(&format!("\"id\":{person}")),
        "its own record is found: {hits}"
    );
    assert!(!hits.contains(SECRET_FATHER), "search hit leaks: {hits}");
    // Still nothing of the person it holds no record of.
    assert_eq!(
        welfare
            .get(&format!("/registry/persons/{only_relief}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Relief's own view is whole.
    let (_, own) = relief.get_text(&format!("/api/v1/persons/{person}")).await;
    assert!(own.contains(SECRET_PHONE) && own.contains(SECRET_FATHER));

    // Only the national admin sets a sharing rule; with "full" welfare reads relief's record.
    let path = format!("/organisations/{relief_org}/sharing");
    let to = welfare_org.to_string();
    for who in ["relief.partner", "welfare.partner", "tehran.officer"] {
        let r = app
            .login(who)
            .await
            .post_form(&path, &[("to", &to), ("level", "full")])
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who} may not share");
    }
    let (_, still) = welfare.get_text(&format!("/api/v1/persons/{person}")).await;
    assert!(!still.contains(SECRET_PHONE));
    let admin = app.login("admin").await;
    let r = admin
        .post_form(&path, &[("to", &to), ("level", "full")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, shared) = welfare.get_text(&format!("/api/v1/persons/{person}")).await;
    assert!(shared.contains(SECRET_PHONE), "shared in full: {shared}");
    let r = admin
        .post_form(&path, &[("to", &to), ("level", "match")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, back) = welfare.get_text(&format!("/api/v1/persons/{person}")).await;
    assert!(!back.contains(SECRET_PHONE), "back to match only");
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'sharing.set'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(audited, 2);
}

/// The organisation choices of the registry search page's filter (its `f-org` select).
fn organisation_choices(page: &str) -> Vec<String> {
    let start = page.find("id=\"f-org\"").expect("the organisation filter");
    let select = &page[start..];
    let select = &select[..select.find("</select>").expect("the end of the select")];
    select
        .split("<option value=\"")
        .skip(1)
        .map(|o| o[..o.find('"').unwrap()].to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// A partner's registry search page offers in its organisation filter only the organisations
/// whose records it reads: its own, and another's once that one shares in full with it.
#[tokio::test]
async fn a_partner_is_offered_only_the_organisations_it_reads() {
    let app = spawn_app().await;
    let relief_org = org(&app, RELIEF).await.to_string();
    let welfare_org = org(&app, WELFARE).await.to_string();
    let welfare = app.login("welfare.partner").await;
    let (status, page) = welfare.get_text("/registry").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(organisation_choices(&page), vec![welfare_org.clone()]);
    let (_, page) = app
        .login("relief.partner")
        .await
        .get_text("/registry")
        .await;
    assert_eq!(organisation_choices(&page), vec![relief_org.clone()]);
    // The offices are offered every organisation.
    let (_, page) = app
        .login("tehran.officer")
        .await
        .get_text("/registry")
        .await;
    let offered = organisation_choices(&page);
    assert!(offered.contains(&relief_org) && offered.contains(&welfare_org));
    // Relief shares in full with welfare: welfare is offered relief too, and relief still only
    // itself.
    let admin = app.login("admin").await;
    let r = admin
        .post_form(
            &format!("/organisations/{relief_org}/sharing"),
            &[("to", &welfare_org), ("level", "full")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = welfare.get_text("/registry").await;
    let offered = organisation_choices(&page);
    assert!(offered.contains(&relief_org) && offered.contains(&welfare_org));
    assert_eq!(offered.len(), 2, "{offered:?}");
    let (_, page) = app
        .login("relief.partner")
        .await
        .get_text("/registry")
        .await;
    assert_eq!(organisation_choices(&page), vec![relief_org]);
}

#[tokio::test]
async fn a_partner_campaign_reaches_only_persons_it_holds() {
    let app = spawn_app().await;
    let relief_org = org(&app, RELIEF).await;
    let relief = app.login("relief.partner").await;
    let welfare = app.login("welfare.partner").await;
    let expert_county = hamdeli_store::users::by_id(&app.store, app.user_ids["tehran.expert"])
        .await
        .unwrap()
        .unwrap()
        .scope
        .county()
        .unwrap()
        .to_owned();
    let county = hamdeli_store::geo::county(&app.store, &expert_county)
        .await
        .unwrap()
        .unwrap()
        .name_fa;
    let row =
        |id: &str, n: u64, first: &str| format!("{id},{},{first},رحیمی,تهران,{county}\n", code(n));
    let header = "شناسه,کد ملی,نام,نام خانوادگی,استان,شهرستان\n";
    upload(
        &relief,
        &app,
        relief_org,
        "خانوارهای امداد",
        &format!(
            "{header}{}{}",
            row("a1", 700_001, "ستاره"),
            row("a2", 700_002, "شیرین")
        ),
    )
    .await;
    upload(
        &welfare,
        &app,
        org(&app, WELFARE).await,
        "خانوارهای بهزیستی",
        &format!("{header}{}", row("b1", 700_003, "ناهید")),
    )
    .await;
    // The county expert records and verifies a food need for each of the three.
    let expert = app.login("tehran.expert").await;
    for source in ["a1", "a2", "b1"] {
        let person = person_of_source(&app, source).await;
        let r = expert
            .post_form(
                &format!("/registry/persons/{person}/needs"),
                &[
                    ("need_type", "food"),
                    ("amount", "2"),
                    ("urgency", "normal"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let need: i64 = sqlx::query_scalar("SELECT id FROM needs WHERE person_id = $1")
            .bind(person)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
        let r = expert
            .post_form(&format!("/needs/{need}/status"), &[("status", "verified")])
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    // Relief starts a campaign with no province: the whole country.
    let r = relief
        .post_form(
            "/campaigns",
            &[
                ("title", "پویش امداد"),
                ("description", "آزمون"),
                ("starts_on", "1405/01/01"),
                ("ends_on", "1405/12/29"),
                ("goal_rials", ""),
                ("province", ""),
                ("type", "food"),
                ("goal_food", "10"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let campaign: i64 = r.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let (status, page) = relief
        .get_text(&format!(
            "/campaigns/{campaign}/allocate?resource=food&all=1"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("ستاره") && page.contains("شیرین"),
        "its own persons are there"
    );
    assert!(
        !page.contains("ناهید"),
        "a person relief holds no record of is not listed"
    );
    // And welfare may not open relief's allocation at all.
    assert_eq!(
        welfare
            .get(&format!("/campaigns/{campaign}/allocate"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_review_across_two_counties_is_hidden_from_each_county_and_cannot_be_merged() {
    let app = spawn_app().await;
    let county_of = |name: &'static str| {
        let store = app.store.clone();
        let id = app.user_ids[name];
        async move {
            let u = hamdeli_store::users::by_id(&store, id)
                .await
                .unwrap()
                .unwrap();
            let code = u.scope.county().unwrap().to_owned();
            hamdeli_store::geo::county(&store, &code)
                .await
                .unwrap()
                .unwrap()
                .name_fa
        }
    };
    let here = county_of("tehran.expert").await;
    let there = county_of("tehran2.expert").await;
    let csv = format!(
        "شناسه,نام,نام خانوادگی,نام پدر,تاریخ تولد,تلفن همراه,استان,شهرستان\n\
         x1,مهسا,نوروزی,احمد,1370/01/01,09120000001,تهران,{here}\n\
         x2,مهسا,نوروزی,محمود,1371/02/02,{SECRET_PHONE},تهران,{there}\n"
    );
    let admin = app.login("admin").await;
    upload(&admin, &app, org(&app, RELIEF).await, "دو شهرستان", &csv).await;
    let record = |s: &'static str| {
        let store = app.store.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT id FROM source_records WHERE source_id = $1")
                .bind(s)
                .fetch_one(store.pool())
                .await
                .unwrap()
        }
    };
    let (a, b) = (record("x1").await, record("x2").await);
    assert_ne!(
        person_of_source(&app, "x1").await,
        person_of_source(&app, "x2").await
    );
    persons::apply_plan(
        &app.store,
        &LinkPlan {
            reviews: vec![NewReview {
                record_a: a.min(b),
                record_b: a.max(b),
                probability_bp: 6000,
                evidence: "[]".into(),
                reason: "uncertain",
            }],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let review: i64 = sqlx::query_scalar("SELECT id FROM link_reviews WHERE record_a = $1")
        .bind(a.min(b))
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    for who in ["tehran.expert", "tehran2.expert"] {
        let expert = app.login(who).await;
        let (status, list) = expert.get_text("/registry/reviews").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            !list.contains(&format!("/registry/reviews/{review}\"")),
            "{who} lists it"
        );
        assert_eq!(
            expert
                .get(&format!("/registry/reviews/{review}"))
                .await
                .status(),
            StatusCode::NOT_FOUND,
            "{who} opens it"
        );
        let r = expert
            .post_form(&format!("/registry/reviews/{review}/merge"), &[])
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{who} merges it");
    }
    let status: String = sqlx::query_scalar("SELECT status FROM link_reviews WHERE id = $1")
        .bind(review)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(status, "open", "nothing decided");
    // The provincial officer holds both counties.
    let officer = app.login("tehran.officer").await;
    let (status, page) = officer
        .get_text(&format!("/registry/reviews/{review}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(SECRET_PHONE) || page.contains("۰۹۱۲۷۷۷۰۰۱۱"));
}

#[tokio::test]
async fn a_provincial_officer_manages_county_experts_but_no_fellow_officer() {
    let app = spawn_app().await;
    let mut conn = app.store.pool().acquire().await.unwrap();
    let fellow = hamdeli_store::users::create(
        &mut conn,
        hamdeli_store::users::NewUser {
            username: "tehran.officer2".into(),
            display_name: "کارشناس دوم استان".into(),
            password: "a-long-enough-secret".into(),
            role: hamdeli_domain::Role::ProvincialOfficer,
            scope: hamdeli_domain::Scope::Province {
                province: "23".into(),
            },
            locale: "fa".into(),
            is_demo: false,
        },
    )
    .await
    .unwrap();
    drop(conn);
    let officer = app.login("tehran.officer").await;
    assert_eq!(
        officer
            .get(&format!("/admin/users/{fellow}"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    for (path, fields) in [
        ("password", vec![("password", "attacker-chosen-pw")]),
        ("role", vec![("role", "county_expert"), ("county", "2301")]),
        ("active", vec![("active", "0")]),
    ] {
        let r = officer
            .post_form(&format!("/admin/users/{fellow}/{path}"), &fields)
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let user = hamdeli_store::users::by_id(&app.store, fellow)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.role, hamdeli_domain::Role::ProvincialOfficer);
    assert!(user.active);
    assert_eq!(
        app.client()
            .login("tehran.officer2", "a-long-enough-secret")
            .await
            .status(),
        StatusCode::SEE_OTHER,
        "the password is unchanged"
    );
    // A county expert of the province stays theirs to manage.
    let expert = app.user_ids["tehran.expert"];
    assert_eq!(
        officer
            .get(&format!("/admin/users/{expert}"))
            .await
            .status(),
        StatusCode::OK
    );
}

/// The users page and the users API list the same users: the ones the caller may manage. A
/// provincial officer sees the county experts of the province, not itself nor a fellow officer.
#[tokio::test]
async fn the_users_page_lists_exactly_the_users_the_api_lists() {
    let app = spawn_app().await;
    let mut conn = app.store.pool().acquire().await.unwrap();
    hamdeli_store::users::create(
        &mut conn,
        hamdeli_store::users::NewUser {
            username: "tehran.officer2".into(),
            display_name: "کارشناس دوم استان".into(),
            password: "a-long-enough-secret".into(),
            role: hamdeli_domain::Role::ProvincialOfficer,
            scope: hamdeli_domain::Scope::Province {
                province: "23".into(),
            },
            locale: "fa".into(),
            is_demo: false,
        },
    )
    .await
    .unwrap();
    drop(conn);
    let everyone = hamdeli_store::users::list(&app.store, &hamdeli_domain::PlaceFilter::All)
        .await
        .unwrap();
    for (caller, expected) in [
        ("tehran.officer", "tehran.expert"),
        ("admin", "tehran.officer2"),
    ] {
        let c = app.login(caller).await;
        let r = c.get("/api/v1/users").await;
        assert_eq!(r.status(), StatusCode::OK, "{caller}");
        let listed: Vec<serde_json::Value> = r.json().await.unwrap();
        let listed: Vec<&str> = listed
            .iter()
            .map(|u| u["username"].as_str().unwrap())
            .collect();
        assert!(listed.contains(&expected), "{caller}: {listed:?}");
        let (status, page) = c.get_text("/admin/users").await;
        assert_eq!(status, StatusCode::OK, "{caller}");
        for u in &everyone {
            let on_page = page.contains(&format!(">{}</a>", u.username));
            assert_eq!(
                on_page,
                listed.contains(&u.username.as_str()),
                "{caller}: {} on the page {on_page}, in the API {listed:?}",
                u.username
            );
        }
    }
    // The officer's page shows neither the officer nor a fellow officer of the province.
    let (_, page) = app
        .login("tehran.officer")
        .await
        .get_text("/admin/users")
        .await;
    assert!(!page.contains(">tehran.officer2</a>"));
    assert!(!page.contains(">tehran.officer</a>"));
    assert!(page.contains(">tehran.expert</a>"));
}

/// The registry, needs and campaign use cases by role (columns: the users below, then the
/// anonymous visitor): who may open what at all; the cross-scope paths are the tests above.
#[tokio::test]
async fn every_use_case_by_every_role() {
    const USERS: [&str; 11] = [
        "admin",
        "tehran.officer",
        "isfahan.officer",
        "tehran.expert",
        "tehran2.expert",
        "isfahan.expert",
        "relief.partner",
        "welfare.partner",
        "donor",
        "producer",
        "volunteer",
    ];
    const OK: u16 = 200;
    const NO: u16 = 403;
    const LOGIN: u16 = 303;
    const UNAUTH: u16 = 401;
    const BAD: u16 = 400;
    let offices = [OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, NO, LOGIN];
    let staff = [OK, OK, OK, OK, OK, OK, OK, OK, NO, NO, NO, LOGIN];
    // A national code in a URL is refused (400) to everyone who may search, unsearched.
    let staff_code_in_url = [BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, NO, NO, NO, LOGIN];
    let matrix: Vec<(&str, [u16; 12])> = vec![
        ("/registry", staff),
        ("/registry?q=0012345679", staff_code_in_url),
        ("/registry?q=%D8%B2%D9%87%D8%B1%D8%A7", staff),
        ("/registry/reviews", offices),
        ("/registry/coverage", offices),
        ("/needs", offices),
        // Partners: the deliveries of their own campaigns, their own persons served twice.
        ("/deliveries", staff),
        ("/support/double", staff),
        ("/priority", [OK; 12]),
        ("/campaigns", [OK; 12]),
        ("/stats", [OK; 12]),
        (
            "/campaigns/new",
            [OK, OK, OK, NO, NO, NO, OK, OK, NO, NO, NO, LOGIN],
        ),
        (
            "/api/v1/persons?q=0012345679",
            [BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, NO, NO, NO, UNAUTH],
        ),
        (
            "/api/v1/persons?q=%D8%B2%D9%87%D8%B1%D8%A7",
            [OK, OK, OK, OK, OK, OK, OK, OK, NO, NO, NO, UNAUTH],
        ),
        (
            "/organisations/new",
            [OK, OK, OK, NO, NO, NO, NO, NO, NO, NO, NO, LOGIN],
        ),
        ("/registry/new", offices),
        ("/registry/households/new", offices),
        ("/registry/imports", staff),
        // Recorded support: a partner its organisation's, an office its place's.
        ("/support", staff),
        (
            "/api/v1/coverage",
            [OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, NO, UNAUTH],
        ),
    ];
    let app = spawn_app().await;
    let mut clients = vec![];
    for u in USERS {
        clients.push(app.login(u).await);
    }
    clients.push(app.client());
    let mut failures = vec![];
    for (path, expected) in &matrix {
        for (i, client) in clients.iter().enumerate() {
            let who = USERS.get(i).copied().unwrap_or("anonymous");
            let got = client.get(path).await.status().as_u16();
            if got != expected[i] {
                failures.push(format!(
                    "{who} GET {path}: expected {}, got {got}",
                    expected[i]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "use-case matrix broken:\n{}",
        failures.join("\n")
    );
}
