//! The JSON API, API keys, the OpenAPI document and the operations endpoints.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::spawn_app;

#[tokio::test]
async fn partner_api_keys_are_scoped_hashed_and_revocable() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let relief = hamdeli_store::organisations::id_by_name(&app.store, "کمیته امداد (نمایشی)")
        .await
        .unwrap()
        .unwrap();
    let r = admin
        .post_form(
            "/admin/api-keys",
            &[
                ("organisation", &relief.to_string()),
                ("name", "relief system"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    let start = html
        .find("data-testid=\"new-api-key\">")
        .expect("the key is shown once")
        + 26;
    let key = html[start..].split('<').next().unwrap().to_owned();
    assert!(key.starts_with("hmd_"), "{key}");

    // Only the hash is stored.
    let stored: Vec<String> = sqlx::query_scalar("SELECT key_hash FROM api_keys")
        .fetch_all(app.store.pool())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!key.contains(&stored[0]) && !stored[0].contains(&key[16..]));

    let http = reqwest::Client::new();
    let get = |path: &str| http.get(app.url(path)).bearer_auth(&key).send();
    let me: Value = get("/api/v1/me").await.unwrap().json().await.unwrap();
    assert_eq!(me["role"], "partner_org");
    assert_eq!(me["scope"], format!("org:{relief}"));
    assert_eq!(me["via_api_key"], true);
    let orgs: Value = get("/api/v1/organisations")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let orgs = orgs.as_array().unwrap();
    assert_eq!(orgs.len(), 1, "a partner sees only its own organisation");
    assert_eq!(orgs[0]["id"], relief);
    assert_eq!(
        get("/api/v1/users").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get("/api/v1/audit").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );

    // A key needs no CSRF token (no cookies), but a wrong key is refused.
    let bad = http
        .get(app.url("/api/v1/me"))
        .bearer_auth("hmd_nothing_here")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"], "error-unauthenticated");

    // Revoke: the key stops working at once.
    let id: i64 = sqlx::query_scalar("SELECT id FROM api_keys")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let r = admin
        .post_form(&format!("/admin/api-keys/{id}/revoke"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        get("/api/v1/me").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let issued = hamdeli_store::audit::list(
        &app.store,
        &hamdeli_store::audit::Filter {
            target_kind: Some("api_key".into()),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(issued.len(), 2, "issue and revoke are audited");
}

#[tokio::test]
async fn api_errors_are_json_in_the_callers_language() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let r = http
        .get(app.url("/api/v1/me"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["message"], "Sign in to see this page.");
    let r = http
        .get(app.url("/api/v1/provinces/99"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["message"], "صفحه یا موردی که خواستید پیدا نشد.");
}

#[tokio::test]
async fn geography_is_loaded_with_every_province_and_its_counties() {
    let app = spawn_app().await;
    let http = reqwest::Client::new();
    let provinces: Value = http
        .get(app.url("/api/v1/provinces"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let provinces = provinces.as_array().unwrap();
    assert_eq!(provinces.len(), 31);
    let population: i64 = provinces
        .iter()
        .map(|p| p["population_1395"].as_i64().unwrap())
        .sum();
    assert_eq!(population, 79_926_270);
    let counties: Value = http
        .get(app.url("/api/v1/counties"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let counties = counties.as_array().unwrap();
    assert!(counties.len() > 350, "{} counties", counties.len());
    for p in provinces {
        assert!(
            counties.iter().any(|c| c["province_code"] == p["code"]),
            "no county in {}",
            p["code"]
        );
    }
}

#[tokio::test]
async fn openapi_document_is_valid_openapi_3() {
    let app = spawn_app().await;
    let doc: Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "Hamdeli API");
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/me",
        "/api/v1/provinces",
        "/api/v1/counties/{code}",
        "/api/v1/audit",
        "/api/v1/persons",
        "/api/v1/persons/search",
    ] {
        assert!(paths.contains_key(p), "missing {p}");
    }
    // The registry search by code takes its query in a JSON body, never in the URL.
    let search = &paths["/api/v1/persons/search"]["post"];
    assert!(search["requestBody"]["content"]["application/json"].is_object());
    assert!(search["responses"]["200"].is_object(), "{search}");
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
    // The docs page and everything it loads come from this host.
    let (status, html) = app.client().get_text("/api/docs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("//cdn"));
    for asset in [
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui/init.js",
    ] {
        assert_eq!(app.client().get(asset).await.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn health_readiness_and_prometheus_metrics() {
    let app = spawn_app().await;
    assert_eq!(
        reqwest::get(app.url("/healthz"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    assert_eq!(
        reqwest::get(app.url("/readyz")).await.unwrap().status(),
        StatusCode::OK
    );
    reqwest::get(app.url("/")).await.unwrap();
    let r = reqwest::get(app.url("/metrics")).await.unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    assert!(
        text.contains("# TYPE hamdeli_http_requests_total counter"),
        "{text}"
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("hamdeli_http_requests_total{") && l.contains("route=\"/\""))
        .expect("a sample for the home route");
    let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(value >= 1.0);
}
