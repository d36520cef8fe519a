//! The role × route matrix: every route refuses what is out of the user's scope.

use reqwest::StatusCode;

use crate::support::{TestApp, spawn_app};

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

/// Codes the matrix needs, read from the demo data.
struct Places {
    tehran_county: String,
    tehran2_county: String,
    isfahan_county: String,
    relief_org: i64,
    tehran_expert_id: i64,
    isfahan_expert_id: i64,
}

async fn places(app: &TestApp) -> Places {
    let user = |name: &'static str| async move {
        hamdeli_store::users::by_id(&app.store, app.user_ids[name])
            .await
            .unwrap()
            .unwrap()
    };
    let county = |u: hamdeli_store::users::User| u.scope.county().unwrap().to_owned();
    Places {
        tehran_county: county(user("tehran.expert").await),
        tehran2_county: county(user("tehran2.expert").await),
        isfahan_county: county(user("isfahan.expert").await),
        relief_org: user("relief.partner").await.scope.organisation().unwrap(),
        tehran_expert_id: app.user_ids["tehran.expert"],
        isfahan_expert_id: app.user_ids["isfahan.expert"],
    }
}

/// Ids of capabilities D–G (market, loans, network, reports) read from their demo data, in scope
/// and out of scope of the demo users.
struct Capabilities {
    /// A listed product of the demo `producer`, and one of another producer.
    own_product: i64,
    other_product: i64,
    /// An order of the demo `producer`, and one of another producer.
    own_order: i64,
    other_order: i64,
    /// Loans of Tehran's first county, its second county, an Isfahan county, and the producer's own.
    tehran_loan: i64,
    tehran2_loan: i64,
    isfahan_loan: i64,
    producer_loan: i64,
    /// Cooperatives of Tehran's first county and of Isfahan.
    tehran_coop: i64,
    isfahan_coop: i64,
    /// Capable women of Tehran and of Isfahan whose consent is "this office only".
    tehran_woman: i64,
    isfahan_woman: i64,
    /// The demo volunteer's profile.
    volunteer: i64,
    /// Centres of Tehran's first county and of Isfahan.
    tehran_centre: i64,
    isfahan_centre: i64,
    /// A case the demo volunteer was assigned, and one she was not.
    her_case: i64,
    other_case: i64,
    /// NGOs of Tehran and of Isfahan.
    tehran_ngo: i64,
    isfahan_ngo: i64,
    /// A data set each province reports.
    dataset: i64,
}

async fn id_of(app: &TestApp, sql: &str, binds: &[&str]) -> i64 {
    let mut q = sqlx::query_scalar::<_, Option<i64>>(sqlx::AssertSqlSafe(sql.to_owned()));
    for b in binds {
        q = q.bind(b.to_string());
    }
    q.fetch_optional(app.store.pool())
        .await
        .unwrap()
        .flatten()
        .unwrap_or_else(|| panic!("demo data has no row for {sql}"))
}

/// Seeds the demo data of D–G (as `serve --demo` does) plus an Isfahan cooperative's loan (the
/// loans demo has only Tehran's), and reads the ids the matrix needs.
async fn capabilities(app: &TestApp, p: &Places) -> Capabilities {
    hamdeli::demo_market::seed(&app.store).await.unwrap();
    hamdeli::demo_loans::seed(&app.store).await.unwrap();
    hamdeli::demo_network::seed(&app.store).await.unwrap();
    hamdeli::demo_reports::seed(&app.store).await.unwrap();

    use hamdeli_app::loans::{self as loans, ApplicationInput, CooperativeInput};
    let system = hamdeli_app::system_principal();
    let caller = hamdeli_app::Caller::new(&system, "test");
    let isfahan_coop = loans::create_cooperative(
        &app.store,
        &caller,
        &CooperativeInput {
            registration_no: "۹۸۷۶۵".into(),
            name: "تعاونی بانوان اصفهان".into(),
            field: "صنایع دستی".into(),
            county: p.isfahan_county.clone(),
        },
    )
    .await
    .unwrap();
    let product = hamdeli_store::loans::product_by_code(&app.store, "qh-coop")
        .await
        .unwrap()
        .unwrap();
    let (isfahan_loan, _) = loans::apply(
        &app.store,
        &caller,
        &ApplicationInput {
            product_id: product.id,
            applicant_kind: "cooperative".into(),
            national_code: None,
            person_id: None,
            cooperative_id: Some(isfahan_coop),
            amount: 1_000_000_000,
            months: None,
            purpose: "کارگاه".into(),
            documents: String::new(),
        },
    )
    .await
    .unwrap();

    let producer_products = "SELECT p.id FROM market_products p \
         JOIN market_producers m ON m.id = p.producer_id JOIN users u ON u.id = m.user_id \
         WHERE p.active = 1 AND u.username";
    let producer_orders = "SELECT o.id FROM market_orders o \
         JOIN market_producers m ON m.id = o.producer_id JOIN users u ON u.id = m.user_id \
         WHERE u.username";
    let (t, t2) = (p.tehran_county.as_str(), p.tehran2_county.as_str());
    let person_loan = "SELECT MIN(id) FROM loans WHERE applicant_user_id IS NULL \
         AND cooperative_id IS NULL AND county_code = $1";
    Capabilities {
        own_product: id_of(app, &format!("{producer_products} = 'producer' ORDER BY p.id"), &[]).await,
        other_product: id_of(app, &format!("{producer_products} <> 'producer' ORDER BY p.id"), &[]).await,
        own_order: id_of(app, &format!("{producer_orders} = 'producer' ORDER BY o.id"), &[]).await,
        other_order: id_of(app, &format!("{producer_orders} <> 'producer' ORDER BY o.id"), &[]).await,
        tehran_loan: id_of(app, person_loan, &[t]).await,
        tehran2_loan: id_of(app, person_loan, &[t2]).await,
        isfahan_loan,
        producer_loan: id_of(
            app,
            "SELECT l.id FROM loans l JOIN users u ON u.id = l.applicant_user_id \
             WHERE u.username = 'producer'",
            &[],
        )
        .await,
        tehran_coop: id_of(app, "SELECT MIN(id) FROM loan_cooperatives WHERE county_code = $1", &[t]).await,
        isfahan_coop,
        tehran_woman: id_of(
            app,
            "SELECT MIN(id) FROM network_women WHERE consent = 'office' AND province_code = '23'",
            &[],
        )
        .await,
        isfahan_woman: id_of(
            app,
            "SELECT MIN(id) FROM network_women WHERE consent = 'office' AND province_code = '10'",
            &[],
        )
        .await,
        volunteer: id_of(
            app,
            "SELECT v.id FROM network_volunteers v JOIN users u ON u.id = v.user_id \
             WHERE u.username = 'volunteer'",
            &[],
        )
        .await,
        tehran_centre: id_of(app, "SELECT MIN(id) FROM network_centres WHERE county_code = $1", &[t]).await,
        isfahan_centre: id_of(app, "SELECT MIN(id) FROM network_centres WHERE province_code = '10'", &[]).await,
        her_case: id_of(
            app,
            "SELECT MIN(c.id) FROM network_cases c JOIN network_volunteers v ON v.id = c.volunteer_id \
             JOIN users u ON u.id = v.user_id WHERE u.username = 'volunteer'",
            &[],
        )
        .await,
        other_case: id_of(
            app,
            "SELECT MIN(c.id) FROM network_cases c JOIN network_centres n ON n.id = c.centre_id \
             WHERE n.county_code = $1 AND c.volunteer_id IS NULL",
            &[t],
        )
        .await,
        tehran_ngo: id_of(app, "SELECT MIN(organisation_id) FROM network_ngos WHERE province_code = '23'", &[]).await,
        isfahan_ngo: id_of(app, "SELECT MIN(organisation_id) FROM network_ngos WHERE province_code = '10'", &[]).await,
        dataset: id_of(app, "SELECT MIN(id) FROM report_datasets WHERE level = 'province'", &[]).await,
    }
}

const OK: u16 = 200;
const LOGIN: u16 = 303; // pages send the anonymous visitor to the login page
const NO: u16 = 403;
const UNAUTH: u16 = 401; // the API answers 401 to the anonymous caller
/// Refused as not found: a record out of the user's scope (or a capability's own page of someone
/// else's) is not confirmed to exist.
const HID: u16 = 404;
/// A signed-in user sent to her own page (a producer's shop, a volunteer's page, an office's
/// own dashboard).
const OWN: u16 = 303;

#[tokio::test]
async fn every_route_refuses_what_is_out_of_scope() {
    let app = spawn_app().await;
    let p = places(&app).await;
    assert_ne!(
        p.tehran_county, p.tehran2_county,
        "demo needs two different Tehran counties"
    );
    let d = capabilities(&app, &p).await;

    // Columns: the users of USERS in order, then the anonymous visitor.
    let matrix: Vec<(String, [u16; 12])> = vec![
        // A producer and a volunteer land on their own pages (market, network).
        (
            "/".into(),
            [OK, OK, OK, OK, OK, OK, OK, OK, OK, 303, 303, OK],
        ),
        (
            "/account".into(),
            [OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, LOGIN],
        ),
        (
            "/places".into(),
            [OK, OK, OK, OK, OK, OK, OK, OK, NO, NO, NO, LOGIN],
        ),
        (
            "/places/23".into(),
            [OK, OK, NO, NO, NO, NO, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/places/10".into(),
            [OK, NO, OK, NO, NO, NO, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            format!("/places/23/{}", p.tehran_county),
            [OK, OK, NO, OK, NO, NO, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            format!("/places/23/{}", p.tehran2_county),
            [OK, OK, NO, NO, OK, NO, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            format!("/places/10/{}", p.isfahan_county),
            [OK, NO, OK, NO, NO, OK, NO, NO, NO, NO, NO, LOGIN],
        ),
        // A county filed under the wrong province is not a back door.
        (
            format!("/places/10/{}", p.tehran_county),
            [404, NO, 404, NO, NO, NO, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/organisations".into(),
            [OK, OK, OK, OK, OK, OK, OK, OK, NO, NO, NO, LOGIN],
        ),
        (
            format!("/organisations/{}", p.relief_org),
            [OK, OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/admin/users".into(),
            [OK, OK, OK, NO, NO, NO, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/admin/users/new".into(),
            [OK, OK, OK, NO, NO, NO, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            format!("/admin/users/{}", p.tehran_expert_id),
            [OK, OK, NO, NO, NO, NO, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            format!("/admin/users/{}", p.isfahan_expert_id),
            [OK, NO, OK, NO, NO, NO, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/admin/audit".into(),
            [OK, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/admin/api-keys".into(),
            [OK, NO, NO, NO, NO, NO, OK, OK, NO, NO, NO, LOGIN],
        ),
        (
            "/registry/imports".into(),
            // Offices import surveys of their counties; partners their organisation's lists.
            [OK, OK, OK, OK, OK, OK, OK, OK, NO, NO, NO, LOGIN],
        ),
        (
            "/api/v1/me".into(),
            [OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, UNAUTH],
        ),
        (
            "/api/v1/dashboard".into(),
            [OK, OK, OK, OK, OK, OK, OK, OK, NO, NO, NO, UNAUTH],
        ),
        (
            "/api/v1/users".into(),
            [OK, OK, OK, NO, NO, NO, NO, NO, NO, NO, NO, UNAUTH],
        ),
        (
            "/api/v1/audit".into(),
            [OK, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, UNAUTH],
        ),
        ("/api/v1/provinces".into(), [OK; 12]),
        ("/transparency".into(), [OK; 12]),
        ("/api/v1/transparency".into(), [OK; 12]),
        // D. Market: the public catalogue; a producer's own pages (hers only); the office's pages.
        ("/market".into(), [OK; 12]),
        (format!("/market/products/{}", d.own_product), [OK; 12]),
        ("/market/cart".into(), [OK; 12]),
        ("/market/track".into(), [OK; 12]),
        ("/api/v1/market/products".into(), [OK; 12]),
        (
            format!("/api/v1/market/products/{}", d.own_product),
            [OK; 12],
        ),
        (
            "/market/producer".into(),
            [NO, NO, NO, NO, NO, NO, NO, NO, NO, OK, NO, LOGIN],
        ),
        (
            "/market/producer/orders".into(),
            [NO, NO, NO, NO, NO, NO, NO, NO, NO, OK, NO, LOGIN],
        ),
        (
            format!("/market/producer/orders/{}", d.own_order),
            [HID, HID, HID, HID, HID, HID, HID, HID, HID, OK, HID, LOGIN],
        ),
        (
            format!("/market/producer/orders/{}", d.other_order),
            [HID, HID, HID, HID, HID, HID, HID, HID, HID, HID, HID, LOGIN],
        ),
        (
            format!("/market/producer/products/{}", d.own_product),
            [HID, HID, HID, HID, HID, HID, HID, HID, HID, OK, HID, LOGIN],
        ),
        (
            format!("/market/producer/products/{}", d.other_product),
            [HID, HID, HID, HID, HID, HID, HID, HID, HID, HID, HID, LOGIN],
        ),
        (
            "/market/office".into(),
            [OK, OK, OK, NO, NO, NO, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/market/office/sales".into(),
            [OK, OK, OK, NO, NO, NO, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/market/office/feeds".into(),
            [OK, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            // Offices and partners post bulk orders; producers take parts of them.
            "/market/bulk".into(),
            [OK, OK, OK, NO, NO, NO, OK, OK, NO, OK, NO, LOGIN],
        ),
        // E. Loans: the office of the loan's place, the partner that originated it, the producer
        // who applied herself.
        (
            "/loans".into(),
            [OK, OK, OK, OK, OK, OK, OK, OK, NO, OK, NO, LOGIN],
        ),
        (
            "/loans/new".into(),
            [OK, OK, OK, OK, OK, OK, OK, OK, NO, OK, NO, LOGIN],
        ),
        (
            format!("/loans/{}", d.tehran_loan),
            [OK, OK, HID, OK, HID, HID, HID, HID, NO, HID, NO, LOGIN],
        ),
        (
            format!("/loans/{}", d.tehran2_loan),
            [OK, OK, HID, HID, OK, HID, HID, HID, NO, HID, NO, LOGIN],
        ),
        (
            format!("/loans/{}", d.isfahan_loan),
            [OK, HID, OK, HID, HID, OK, HID, HID, NO, HID, NO, LOGIN],
        ),
        (
            format!("/loans/{}", d.producer_loan),
            [OK, OK, HID, HID, OK, HID, HID, HID, NO, OK, NO, LOGIN],
        ),
        (
            "/loans/statements".into(),
            [OK, OK, OK, NO, NO, NO, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/loans/bulk-deferral".into(),
            [OK, OK, OK, NO, NO, NO, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/loans/late".into(),
            [OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/loans/portfolio".into(),
            [OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/loans/cooperatives".into(),
            [OK, OK, OK, OK, OK, OK, OK, OK, NO, OK, NO, LOGIN],
        ),
        (
            format!("/loans/cooperatives/{}", d.tehran_coop),
            [OK, OK, HID, OK, HID, HID, HID, HID, NO, HID, NO, LOGIN],
        ),
        (
            format!("/loans/cooperatives/{}", d.isfahan_coop),
            [OK, HID, OK, HID, HID, OK, HID, HID, NO, HID, NO, LOGIN],
        ),
        (
            "/loans/products".into(),
            [OK, OK, OK, OK, OK, OK, OK, OK, NO, OK, NO, LOGIN],
        ),
        (
            "/api/v1/loans".into(),
            [OK, OK, OK, OK, OK, OK, OK, OK, NO, OK, NO, UNAUTH],
        ),
        (
            format!("/api/v1/loans/{}", d.tehran_loan),
            [OK, OK, HID, OK, HID, HID, HID, HID, NO, HID, NO, UNAUTH],
        ),
        (
            format!("/api/v1/loans/{}", d.isfahan_loan),
            [OK, HID, OK, HID, HID, OK, HID, HID, NO, HID, NO, UNAUTH],
        ),
        (
            format!("/api/v1/loans/{}", d.producer_loan),
            [OK, OK, HID, HID, OK, HID, HID, HID, NO, OK, NO, UNAUTH],
        ),
        // F. Network: offices in scope; a woman's profile by her consent ("this office only":
        // her province's offices); personal details of a case to the centre's county experts and
        // the volunteer assigned; public cards and sign-up pages to everyone.
        (
            "/network".into(),
            [OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, OWN, LOGIN],
        ),
        (
            "/network/reports".into(),
            [OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/network/women".into(),
            [OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/network/women/new".into(),
            [OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            format!("/network/women/{}", d.tehran_woman),
            [HID, OK, HID, OK, OK, HID, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            format!("/network/women/{}", d.isfahan_woman),
            [HID, HID, OK, HID, HID, OK, NO, NO, NO, NO, NO, LOGIN],
        ),
        ("/network/directory".into(), [OK; 12]),
        ("/api/v1/network/directory".into(), [OK; 12]),
        (
            "/network/volunteers".into(),
            [OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            // The office that checks volunteers enters them (national admin, provincial officer).
            "/network/volunteers/new".into(),
            [OK, OK, OK, NO, NO, NO, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            format!("/network/volunteers/{}", d.volunteer),
            [OK, OK, HID, OK, OK, HID, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/network/volunteer".into(),
            [NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, OK, LOGIN],
        ),
        (
            "/network/centres".into(),
            [OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            format!("/network/centres/{}", d.tehran_centre),
            [OK, OK, HID, OK, HID, HID, HID, HID, HID, HID, HID, LOGIN],
        ),
        (
            format!("/network/centres/{}", d.isfahan_centre),
            [OK, HID, OK, HID, HID, OK, HID, HID, HID, HID, HID, LOGIN],
        ),
        (
            format!("/network/cases/{}", d.her_case),
            [OK, OK, HID, OK, HID, HID, HID, HID, HID, HID, OK, LOGIN],
        ),
        (
            format!("/network/cases/{}", d.other_case),
            [OK, OK, HID, OK, HID, HID, HID, HID, HID, HID, HID, LOGIN],
        ),
        (
            // Proposals name volunteers for a case: the centre's county experts only.
            format!("/api/v1/network/cases/{}/proposals", d.other_case),
            [NO, NO, NO, OK, NO, NO, NO, NO, NO, NO, NO, UNAUTH],
        ),
        (
            "/network/ngos".into(),
            [OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            format!("/network/ngos/{}", d.tehran_ngo),
            [OK, OK, HID, OK, OK, HID, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            format!("/network/ngos/{}", d.isfahan_ngo),
            [OK, HID, OK, HID, HID, OK, NO, NO, NO, NO, NO, LOGIN],
        ),
        // G. Reports: offices of their places; definitions and the need index's settings are the
        // national office's; the need index's public page is everyone's.
        (
            "/reports".into(),
            [OK, OWN, OWN, OWN, OWN, OWN, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/reports/province/23".into(),
            [OK, OK, HID, OK, OK, HID, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/reports/province/10".into(),
            [OK, HID, OK, HID, HID, OK, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/reports/list".into(),
            [OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/reports/datasets".into(),
            [OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/reports/datasets/new".into(),
            [OK, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            format!("/reports/datasets/{}", d.dataset),
            [OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            format!("/reports/datasets/{}/edit", d.dataset),
            [OK, NO, NO, NO, NO, NO, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            format!(
                "/reports/datasets/{}/entry?place=23&period=1405-07",
                d.dataset
            ),
            [OK, OK, HID, HID, HID, HID, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            format!(
                "/reports/datasets/{}/entry?place=10&period=1405-07",
                d.dataset
            ),
            [OK, HID, OK, HID, HID, HID, NO, NO, NO, NO, NO, LOGIN],
        ),
        (
            "/reports/index".into(),
            [OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, NO, LOGIN],
        ),
        ("/need-index".into(), [OK; 12]),
        (
            "/api/v1/reports/datasets".into(),
            [OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, NO, UNAUTH],
        ),
        (
            "/api/v1/reports/indicators?ind=fig:persons&period=now".into(),
            [OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, NO, UNAUTH],
        ),
        (
            "/api/v1/reports/indicators?ind=fig:persons&period=now&province=23".into(),
            [OK, OK, HID, OK, OK, HID, NO, NO, NO, NO, NO, UNAUTH],
        ),
        (
            format!("/api/v1/reports/datasets/{}/completeness", d.dataset),
            [OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, NO, UNAUTH],
        ),
        (
            format!("/api/v1/reports/datasets/{}/exchange", d.dataset),
            [OK, OK, OK, OK, OK, OK, NO, NO, NO, NO, NO, UNAUTH],
        ),
        ("/api/v1/reports/need-index".into(), [OK; 12]),
    ];

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
        "access matrix broken:\n{}",
        failures.join("\n")
    );

    // A case's page: its personal details (the client's name) to the centre's county experts and
    // the volunteer assigned only; the national and provincial offices see the case without them.
    let case = format!("/network/cases/{}", d.her_case);
    for (user, sees) in [
        ("admin", false),
        ("tehran.officer", false),
        ("tehran.expert", true),
        ("volunteer", true),
    ] {
        let i = USERS.iter().position(|u| *u == user).unwrap();
        let (status, html) = clients[i].get_text(&case).await;
        assert_eq!(status, StatusCode::OK, "{user}");
        assert_eq!(
            html.contains("مراجع نمایشی ۱"),
            sees,
            "{user} and the client's name"
        );
    }
}

#[tokio::test]
async fn writes_out_of_scope_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let p = places(&app).await;

    // A provincial officer cannot give a Tehran expert an Isfahan county, nor touch Isfahan users.
    let isfahan_officer = app.login("isfahan.officer").await;
    let r = isfahan_officer
        .post_form(
            &format!("/admin/users/{}/role", p.tehran_expert_id),
            &[("role", "county_expert"), ("county", &p.isfahan_county)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = isfahan_officer
        .post_form(
            &format!("/admin/users/{}/password", p.tehran_expert_id),
            &[("password", "a-brand-new-password")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // …nor create a national admin, nor a county expert outside the own province.
    let r = isfahan_officer
        .post_form(
            "/admin/users",
            &[
                ("username", "sneaky"),
                ("display_name", "x"),
                ("password", "long-enough-pw"),
                ("role", "national_admin"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = isfahan_officer
        .post_form(
            "/admin/users",
            &[
                ("username", "sneaky2"),
                ("display_name", "x"),
                ("password", "long-enough-pw"),
                ("role", "county_expert"),
                ("county", &p.tehran_county),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // A county expert cannot administer anyone.
    let expert = app.login("tehran.expert").await;
    let r = expert
        .post_form(
            "/admin/users",
            &[
                ("username", "sneaky3"),
                ("display_name", "x"),
                ("password", "long-enough-pw"),
                ("role", "donor"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A partner cannot issue keys for another organisation.
    let welfare = app.login("welfare.partner").await;
    let r = welfare
        .post_form(
            "/admin/api-keys",
            &[
                ("organisation", &p.relief_org.to_string()),
                ("name", "stolen"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    for name in ["sneaky", "sneaky2", "sneaky3"] {
        assert!(
            hamdeli_store::users::id_by_username(&app.store, name)
                .await
                .unwrap()
                .is_none()
        );
    }
    let tehran_expert = hamdeli_store::users::by_id(&app.store, p.tehran_expert_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tehran_expert.scope.county(), Some(p.tehran_county.as_str()));
    // The expert's password is unchanged.
    assert_eq!(
        app.client()
            .login("tehran.expert", crate::support::PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );

    // The officer of the right province can do it.
    let tehran_officer = app.login("tehran.officer").await;
    let r = tehran_officer
        .post_form(
            "/admin/users",
            &[
                ("username", "new.expert"),
                ("display_name", "کارشناس جدید"),
                ("password", "long-enough-pw"),
                ("role", "county_expert"),
                ("county", &p.tehran2_county),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = hamdeli_store::users::id_by_username(&app.store, "new.expert")
        .await
        .unwrap()
        .unwrap();
    let created = hamdeli_store::users::by_id(&app.store, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(created.scope.county(), Some(p.tehran2_county.as_str()));
    assert_eq!(created.scope.province(), Some("23"));
}

/// Real use without the demo: a fresh database, a national admin created with
/// `hamdeli admin create-user` as the README says, and every GET page of capabilities D–G (and
/// their API lists) answers without a server error, each with its empty state.
#[tokio::test]
async fn every_d_to_g_page_answers_on_an_empty_database() {
    let app = crate::support::spawn_bare_app().await;
    let data_dir = crate::support::temp_dir();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hamdeli"))
        .args([
            "admin",
            "create-user",
            "--username",
            "boss",
            "--display-name",
            "مدیر ستاد",
            "--role",
            "national_admin",
            "--database-url",
            &app.database_url,
            "--data-dir",
        ])
        .arg(&data_dir.0)
        .env_remove("HAMDELI_CONFIG")
        .env_remove("HAMDELI_DATABASE_URL")
        .env("HAMDELI_PASSWORD", "a-long-national-password")
        .output()
        .expect("run hamdeli");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let admin = app.client();
    assert_eq!(
        admin
            .login("boss", "a-long-national-password")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let anonymous = app.client();
    let pages = [
        "/market",
        "/market?sort=price&category=food&province=23&q=%D8%B4%D8%A7%D9%84",
        "/market/cart",
        "/market/track",
        "/market/signup",
        "/market/office",
        "/market/office/sales",
        "/market/office/sales?format=xlsx",
        "/market/office/feeds",
        "/market/bulk",
        "/market/sitemap.xml",
        "/api/v1/market/products",
        "/loans",
        "/loans/new",
        "/loans/statements",
        "/loans/bulk-deferral",
        "/loans/late",
        "/loans/late?format=xlsx",
        "/loans/portfolio",
        "/loans/portfolio?by=product",
        "/loans/portfolio?by=month",
        "/loans/portfolio?format=xlsx",
        "/loans/cooperatives",
        "/loans/products",
        "/api/v1/loans",
        "/network",
        "/network/reports",
        "/network/women",
        "/network/women?format=xlsx",
        "/network/women/new",
        "/network/directory",
        "/network/me",
        "/network/volunteers",
        "/network/volunteers/signup",
        "/network/centres",
        "/network/ngos",
        "/api/v1/network/directory",
        "/reports",
        "/reports?format=xlsx",
        "/reports/province/23",
        "/reports/list",
        "/reports/datasets",
        "/reports/datasets/new",
        "/reports/index",
        "/need-index",
        "/api/v1/reports/datasets",
        "/api/v1/reports/indicators?ind=fig:persons&period=now",
        "/api/v1/reports/need-index",
    ];
    let mut failures = vec![];
    for path in pages {
        for (who, client) in [("boss", &admin), ("anonymous", &anonymous)] {
            let r = client.get(path).await;
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            if status.is_server_error() {
                failures.push(format!("{who} GET {path}: {status}"));
            } else if who == "boss" && !status.is_success() && !status.is_redirection() {
                failures.push(format!(
                    "{who} GET {path}: {status} {}",
                    &body[..body.len().min(200)]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "pages on an empty database:\n{}",
        failures.join("\n")
    );
}

/// A workbook with two far-apart cells: its declared dimension (and a dense range of its cells)
/// is 1,048,576 × 16,384 — 17 billion cells.
fn far_cells_workbook() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.write_string(0, 0, "registration_no").unwrap();
    ws.write_number(1_048_575, 16_383, 1.0).unwrap();
    book.save_to_buffer().unwrap()
}

/// A zip bomb: a workbook whose shared strings unpack to 80 MB (a few hundred KB packed).
fn shared_strings_bomb() -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
        ),
        (
            "xl/worksheets/sheet1.xml",
            r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>"#,
        ),
    ];
    for (name, body) in parts {
        zip.start_file(name, opts).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.start_file("xl/sharedStrings.xml", opts).unwrap();
    zip.write_all(br#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>"#)
        .unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..80 {
        zip.write_all(&chunk).unwrap();
    }
    zip.write_all(b"</t></si></sst>").unwrap();
    zip.finish().unwrap().into_inner()
}

/// Every spreadsheet upload of D–G (cooperatives, bank statements, reports' bulk entry, the
/// need index's indicator import) reads XLSX through hamdeli-ingest's guarded reader: a hostile
/// workbook (a huge declared dimension, a zip bomb) or bytes that are no spreadsheet get a clear
/// Persian message, never a server error, and the server stays up.
#[tokio::test]
async fn hostile_spreadsheets_get_a_persian_error_in_every_d_to_g_upload() {
    let app = spawn_app().await;
    hamdeli::demo_reports::seed(&app.store).await.unwrap();
    let dataset = id_of(
        &app,
        "SELECT MIN(id) FROM report_datasets WHERE level = 'province'",
        &[],
    )
    .await;
    let admin = app.login("admin").await;
    let png = b"\x89PNG\r\n\x1a\n not a spreadsheet at all".to_vec();
    // (route, its other form fields, the message of a too large file, of an unreadable one)
    type Upload<'a> = (String, Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let uploads: Vec<Upload> = vec![
        (
            "/loans/cooperatives/import".into(),
            vec![],
            "فایل بیش از اندازه بزرگ است",
            "فایل خوانده نشد",
        ),
        (
            "/loans/statements".into(),
            vec![("key", "hostile-statement-key-1")],
            "فایل بیش از اندازه بزرگ است",
            "فایل خوانده نشد",
        ),
        (
            format!("/reports/datasets/{dataset}/upload"),
            vec![],
            "پرونده بیش از اندازه بزرگ است",
            "پرونده خوانده نشد",
        ),
        (
            "/reports/index/import".into(),
            vec![("indicator", "covid_case_rate"), ("period", "1399")],
            "پرونده بیش از اندازه بزرگ است",
            "پرونده خوانده نشد",
        ),
    ];
    let files = [
        ("far.xlsx", far_cells_workbook(), true),
        ("bomb.xlsx", shared_strings_bomb(), true),
        ("picture.xlsx", png, false),
    ];
    for (path, fields, too_large, unreadable) in &uploads {
        for (name, bytes, hostile) in &files {
            let token = admin.csrf().await;
            let mut form = reqwest::multipart::Form::new().text("_csrf", token.clone());
            for (k, v) in fields {
                // A fresh idempotency key per upload.
                let v = if *k == "key" {
                    format!("{v}-{name}")
                } else {
                    (*v).to_owned()
                };
                form = form.text(k.to_string(), v);
            }
            let form = form.part(
                "file",
                reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.to_string()),
            );
            let started = std::time::Instant::now();
            let r = admin
                .http
                .post(app.url(path))
                .header("x-csrf-token", token)
                .multipart(form)
                .send()
                .await
                .unwrap();
            let status = r.status();
            let html = r.text().await.unwrap();
            assert!(!status.is_server_error(), "{path} {name}: {status} {html}");
            let want = if *hostile { too_large } else { unreadable };
            assert!(html.contains(want), "{path} {name}: {status}, no «{want}»");
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "{path} {name} took {:?}",
                started.elapsed()
            );
        }
    }
    assert_eq!(
        app.client().get("/healthz").await.status(),
        StatusCode::OK,
        "the server is still up"
    );
}

/// Every POST form of D–G (and the registry search's form and API, which carry a national code
/// in their body) refuses a request without its CSRF token (a forged cross-site form), for a
/// signed-in user and for a visitor, and the refused request changes nothing.
#[tokio::test]
async fn every_d_to_g_form_refuses_a_post_without_its_csrf_token() {
    let app = spawn_app().await;
    let posts = [
        "/market/cart",
        "/market/cart/remove",
        "/market/checkout",
        "/market/track",
        "/market/track/cancel",
        "/market/pay/HMD-AAAA-AAAA",
        "/market/signup",
        "/market/signup/verify",
        "/market/producer/open",
        "/market/producer/shop",
        "/market/producer/certificates",
        "/market/producer/products",
        "/market/producer/products/1",
        "/market/producer/products/1/photo",
        "/market/producer/orders/1/step",
        "/market/office/certificates/1",
        "/market/office/producers/1/link",
        "/market/office/producers/1/find",
        "/market/office/payouts",
        "/market/office/feeds",
        "/market/office/feeds/1/revoke",
        "/market/bulk",
        "/market/bulk/1/take",
        "/market/bulk/parts/1/accept",
        "/loans",
        "/loans/1/comment",
        "/loans/1/decide",
        "/loans/1/contract",
        "/loans/1/disburse",
        "/loans/1/repay",
        "/loans/1/deferrals",
        "/loans/1/deferrals/1",
        "/loans/statements",
        "/loans/bulk-deferral",
        "/loans/cooperatives",
        "/loans/cooperatives/import",
        "/loans/cooperatives/1/members",
        "/loans/cooperatives/1/status",
        "/loans/products",
        "/api/v1/loans/1/repayments",
        "/network/women/new",
        "/network/women/1/edit",
        "/network/women/1/consent",
        "/network/me",
        "/network/me/code",
        "/network/me/verify",
        "/network/me/consent",
        "/network/me/logout",
        "/network/volunteers/1/check",
        "/network/volunteers/new",
        "/network/notices/1/read",
        "/network/volunteer",
        "/network/volunteers/signup",
        "/network/volunteers/signup/verify",
        "/network/centres",
        "/network/centres/1/cases",
        "/network/cases/1/assign",
        "/network/cases/1/respond",
        "/network/cases/1/sessions",
        "/network/cases/1/close",
        "/network/ngos/1/licence",
        "/network/ngos/1/step",
        "/network/ngos/1/trainings",
        "/reports/refresh",
        "/reports/datasets",
        "/reports/datasets/1",
        "/reports/datasets/1/upload",
        "/reports/datasets/1/remind",
        "/reports/datasets/1/entry",
        "/reports/1/decide",
        "/reports/index",
        "/reports/index/import",
        // The registry search (a national code travels in the body, never the URL).
        "/registry",
        "/api/v1/persons/search",
    ];
    let admin = app.login("admin").await;
    let producer = app.login("producer").await;
    let anonymous = app.client();
    // The clients have a CSRF seed (a page was read) but send no token.
    anonymous.get("/market").await;
    let products_before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM loan_products")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let mut failures = vec![];
    for path in posts {
        for (who, client) in [
            ("admin", &admin),
            ("producer", &producer),
            ("anonymous", &anonymous),
        ] {
            let r = client
                .post_raw(
                    path,
                    &[
                        ("code", "LN-1"),
                        ("name_fa", "وام جعلی"),
                        ("amount", "1000"),
                        ("quantity", "1"),
                    ],
                )
                .await;
            if r.status() != StatusCode::FORBIDDEN {
                failures.push(format!("{who} POST {path}: {}", r.status()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "posts without a CSRF token:\n{}",
        failures.join("\n")
    );
    let products_after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM loan_products")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(products_before, products_after);
}
