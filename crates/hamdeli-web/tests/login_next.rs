//! The login answers any `next` without a server error: arbitrary strings go through the real
//! router (CSRF, sign-in limits, password check, redirect) on a throwaway SQLite database.
#![allow(clippy::unwrap_used)] // a test or benchmark program: a failed step should stop it loudly

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tower::ServiceExt;

use hamdeli_domain::{Role, Scope};
use hamdeli_store::{Store, users};
use hamdeli_web::{AppState, WebConfig, csrf};

const SECRET: [u8; 32] = [7; 32];
const SEED: &str = "0123456789abcdef0123456789abcdef";
const PASSWORD: &str = "a-long-enough-password";

async fn setup() -> (axum::Router, Store, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "hamdeli-login-next-{}-{}",
        std::process::id(),
        hamdeli_store::tokens::random_token()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let store = Store::open(&format!("sqlite://{}", dir.join("t.db").display()))
        .await
        .expect("store");
    let mut conn = store.pool().acquire().await.expect("connection");
    users::create(
        &mut conn,
        users::NewUser {
            username: "next.tester".into(),
            display_name: "Next tester".into(),
            password: PASSWORD.into(),
            role: Role::NationalAdmin,
            scope: Scope::Country,
            locale: "en".into(),
            is_demo: false,
        },
    )
    .await
    .expect("user");
    drop(conn);
    let state = AppState::new(
        store.clone(),
        WebConfig {
            secret_key: SECRET.to_vec(),
            secure_cookies: false,
            default_locale: hamdeli_locale::Locale::En,
            trusted_proxies: vec![],
        },
    )
    .await
    .expect("state");
    (hamdeli_web::router(state), store, dir)
}

fn login(username: &str, password: &str, next: &str) -> Request<Body> {
    let token = csrf::token_for(&SECRET, SEED);
    let body = serde_urlencoded::to_string([
        ("username", username),
        ("password", password),
        ("next", next),
        ("_csrf", token.as_str()),
    ])
    .expect("form");
    Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("hamdeli_csrf={SEED}"))
        .body(Body::from(body))
        .expect("request")
}

fn login_page(next: &str) -> Request<Body> {
    let query = serde_urlencoded::to_string([("next", next)]).expect("query");
    Request::get(format!("/login?{query}"))
        .body(Body::empty())
        .expect("request")
}

#[test]
fn the_login_never_fails_for_any_next() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (router, store, dir) = rt.block_on(setup());
    let strategy = prop_oneof![
        any::<String>(),
        "[/\\\\%0-9a-fA-F\t\n\r :.@?#a-z\u{a0}\u{2028}]{0,16}",
        Just("/%09/evil.example".to_owned()),
        Just("/%0D%0A".to_owned()),
        Just("/\r\n".to_owned()),
    ];
    let mut runner = TestRunner::new(Config::with_cases(48));
    let result = runner.run(&strategy, |next| {
        rt.block_on(async {
            // A right password: a redirect to a path on this site.
            let r = router
                .clone()
                .oneshot(login("next.tester", PASSWORD, &next))
                .await
                .expect("response");
            prop_assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", next);
            let location = r
                .headers()
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            // What a browser makes of it: tabs and newlines dropped.
            let seen: String = location
                .chars()
                .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
                .collect();
            prop_assert!(
                seen.starts_with('/') && !seen.starts_with("//") && !seen.starts_with("/\\"),
                "{:?} -> {:?}",
                next,
                location
            );
            if next.starts_with("/%09") || next.starts_with("/%0D") || next.starts_with("/\r") {
                prop_assert_eq!(location.as_str(), "/");
            }
            // A wrong one (unknown name): the form again, with next in it.
            let r = router
                .clone()
                .oneshot(login("nobody.at.all", "wrong-password", &next))
                .await
                .expect("response");
            prop_assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{:?}", next);
            let r = router
                .clone()
                .oneshot(login_page(&next))
                .await
                .expect("response");
            prop_assert_eq!(r.status(), StatusCode::OK, "{:?}", next);
            // Keep the sign-in limits out of the way of the next case.
            for table in ["rate_windows", "login_accounts"] {
                sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table}")))
                    .execute(store.pool())
                    .await
                    .expect("reset limits");
            }
            Ok(())
        })
    });
    rt.block_on(store.close());
    let _ = std::fs::remove_dir_all(dir);
    if let Err(e) = result {
        panic!("{e}");
    }
}
