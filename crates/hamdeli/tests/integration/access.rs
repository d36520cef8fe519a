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

const OK: u16 = 200;
const LOGIN: u16 = 303; // pages send the anonymous visitor to the login page
const NO: u16 = 403;
const UNAUTH: u16 = 401; // the API answers 401 to the anonymous caller

#[tokio::test]
async fn every_route_refuses_what_is_out_of_scope() {
    let app = spawn_app().await;
    let p = places(&app).await;
    assert_ne!(
        p.tehran_county, p.tehran2_county,
        "demo needs two different Tehran counties"
    );

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
