//! Importing a list through the one import use case, from every door: a partner's API key
//! (`POST /api/v1/imports`, no CSRF token: no cookies), the browser's session (CSRF needed, on
//! the API route too), the web page (a background job) and `hamdeli import` (as `cli:<os
//! user>`). Each commit writes exactly one `import.commit` audit entry, in the batch's
//! transaction; another organisation's key neither imports for this one nor reads its batch,
//! and a county expert imports nothing.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{Client, TestApp, code, org, spawn_app, wait_for_batch};

const RELIEF: &str = "کمیته امداد (نمایشی)";
const WELFARE: &str = "سازمان بهزیستی (نمایشی)";

/// A new API key of the organisation, issued by the national admin (shown once).
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
    let key = html[start..].split('<').next().unwrap().to_owned();
    assert!(key.starts_with("hmd_"), "{key}");
    key
}

/// Five people (one with a national code whose check digit is wrong: accepted with a
/// warning), a row with no identity (rejected) and a totals row (skipped).
fn list_csv(k: u64) -> String {
    let mut csv = String::from(
        "source_id,national_code,first_name,last_name,father_name,birth_date,province,county\n",
    );
    let names = ["زهرا", "مریم", "فاطمه", "سمیه"];
    for (i, first) in names.iter().enumerate() {
        csv.push_str(&format!(
            "a{k}-{i},{},{first},احمدی,علی,1360/01/{:02},تهران,ری\n",
            code(70_000 + k * 100 + i as u64),
            i + 1
        ));
    }
    csv.push_str(&format!(
        "a{k}-4,0010350828,لیلا,کریمی,رضا,1361/02/03,تهران,ری\n"
    ));
    csv.push_str(&format!("a{k}-5,,,,حسن,1362/03/04,تهران,ری\n"));
    csv.push_str(",,جمع,,,,,\n");
    csv
}

fn form(list: &str, csv: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("list", list.to_owned())
        .text("kind", "support")
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("list.csv"),
        )
}

async fn post_with_key(
    app: &TestApp,
    key: &str,
    form: reqwest::multipart::Form,
) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/imports"))
        .bearer_auth(key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get_with_key(app: &TestApp, key: &str, path: &str) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .get(app.url(path))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// (actor, actor_api_key_id, actor_user_id) of every audit entry of this action and batch.
async fn audit_of(
    app: &TestApp,
    action: &str,
    batch: i64,
) -> Vec<(String, Option<i64>, Option<i64>)> {
    sqlx::query_as(
        "SELECT actor, actor_api_key_id, actor_user_id FROM audit_log \
         WHERE action = $1 AND target_kind = 'import_batch' AND target_id = $2 ORDER BY id",
    )
    .bind(action.to_owned())
    .bind(batch.to_string())
    .fetch_all(app.store.pool())
    .await
    .unwrap()
}

async fn batch_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM import_batches")
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

fn n(v: &Value, field: &str) -> i64 {
    v[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{field} in {v}"))
}

#[tokio::test]
async fn a_partner_key_uploads_a_list_and_gets_its_report() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let relief = org(&app, RELIEF).await;
    let key = issue_key(&admin, relief, "relief system").await;

    // A bearer key needs no CSRF token: a multipart POST goes straight through.
    let (status, report) = post_with_key(&app, &key, form("فهرست API", &list_csv(1))).await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    assert_eq!(report["status"], "committed");
    assert_eq!(n(&report, "organisation_id"), relief);
    assert_eq!(report["list_name"], "فهرست API");
    assert_eq!(
        (
            n(&report, "rows_in"),
            n(&report, "accepted"),
            n(&report, "accepted_with_warnings"),
            n(&report, "rejected"),
            n(&report, "skipped")
        ),
        (7, 5, 1, 1, 1),
        "{report}"
    );
    assert_eq!(
        n(&report, "rows_in"),
        n(&report, "accepted") + n(&report, "rejected") + n(&report, "skipped")
    );
    assert_eq!(n(&report, "inserted"), 5);
    let problems = report["problems"].as_array().unwrap();
    let has = |severity: &str, code: &str| {
        problems
            .iter()
            .any(|p| p["severity"] == severity && p["code"] == code)
    };
    assert!(has("rejected", "identity.missing"), "{report}");
    assert!(has("skipped", "row.totals"), "{report}");
    assert!(has("warning", "national_code.bad_check_digit"), "{report}");
    // Linked before the answer.
    let batch = n(&report, "batch_id");
    let unlinked: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM source_records WHERE batch_id = $1 AND person_id IS NULL",
    )
    .bind(batch)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(unlinked, 0);

    // One import.commit, as the key, in the batch's transaction.
    let key_id: i64 = sqlx::query_scalar("SELECT id FROM api_keys")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let commits = audit_of(&app, "import.commit", batch).await;
    assert_eq!(commits.len(), 1, "{commits:?}");
    assert_eq!(commits[0].1, Some(key_id));
    assert!(commits[0].0.starts_with("api-key:"), "{commits:?}");
    assert!(audit_of(&app, "import.failed", batch).await.is_empty());

    // The key reads its batch's report and finds it among its batches.
    let (status, read) = get_with_key(&app, &key, &format!("/api/v1/imports/{batch}")).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    for field in ["rows_in", "accepted", "rejected", "skipped", "inserted"] {
        assert_eq!(read[field], report[field], "{field}");
    }
    assert_eq!(read["problems"].as_array().unwrap().len(), problems.len());
    assert_eq!(audit_of(&app, "import.read", batch).await.len(), 1);
    let (status, listed) = get_with_key(&app, &key, "/api/v1/imports").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["batch_id"] == batch && b["rows_in"] == 7),
        "{listed}"
    );

    // A dry run writes nothing and says so; more than axum's default 2 MB body is read.
    let before = batch_count(&app).await;
    let mut big = list_csv(2);
    let filler = "ن".repeat(400);
    for i in 0..3000u64 {
        big.push_str(&format!(
            "b-{i},{},سارا,رضایی,{filler},1365/05/05,تهران,ری\n",
            code(200_000 + i)
        ));
    }
    assert!(big.len() > 2 * 1024 * 1024, "{}", big.len());
    let (status, dry) =
        post_with_key(&app, &key, form("آزمایشی", &big).text("dry_run", "true")).await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(dry["status"], "dry_run");
    assert!(dry["batch_id"].is_null());
    assert_eq!(n(&dry, "rows_in"), 3007);
    assert_eq!(n(&dry, "accepted"), 3005);
    assert_eq!(batch_count(&app).await, before, "a dry run writes no batch");

    // A file that is not a list is refused with the reason, and writes nothing.
    let picture = reqwest::multipart::Form::new().text("list", "تصویر").part(
        "file",
        reqwest::multipart::Part::bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec())
            .file_name("list.csv"),
    );
    let (status, body) = post_with_key(&app, &key, picture).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "import-error-ingest-not-spreadsheet");
    assert_eq!(batch_count(&app).await, before);

    // The browser's session on the same route needs the CSRF token like any other POST.
    let partner = app.login("relief.partner").await;
    let r = partner
        .http
        .post(app.url("/api/v1/imports"))
        .multipart(form("بی‌توکن", &list_csv(3)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "error-csrf");
    assert_eq!(batch_count(&app).await, before);
    let token = partner.csrf().await;
    let r = partner
        .http
        .post(app.url("/api/v1/imports"))
        .header("x-csrf-token", token)
        .multipart(form("با توکن", &list_csv(3)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.unwrap();
    let commits = audit_of(&app, "import.commit", n(&body, "batch_id")).await;
    assert_eq!(commits.len(), 1);
    assert_eq!(commits[0].0, "relief.partner");
    assert_eq!(commits[0].2, Some(app.user_ids["relief.partner"]));
}

#[tokio::test]
async fn another_organisations_key_and_a_county_expert_import_nothing() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let relief = org(&app, RELIEF).await;
    let welfare = org(&app, WELFARE).await;
    let relief_key = issue_key(&admin, relief, "relief system").await;
    let welfare_key = issue_key(&admin, welfare, "welfare system").await;
    let (status, report) = post_with_key(&app, &relief_key, form("امداد", &list_csv(1))).await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    let batch = n(&report, "batch_id");
    let before = batch_count(&app).await;

    // Welfare's key cannot import for relief …
    let (status, body) = post_with_key(
        &app,
        &welfare_key,
        form("ادعا", &list_csv(2)).text("organisation", relief.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(batch_count(&app).await, before, "nothing written");
    // … nor read relief's batch, nor list it.
    let (status, _) = get_with_key(&app, &welfare_key, &format!("/api/v1/imports/{batch}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, listed) = get_with_key(&app, &welfare_key, "/api/v1/imports").await;
    assert_eq!(status, StatusCode::OK);
    assert!(listed.as_array().unwrap().is_empty(), "{listed}");
    assert!(audit_of(&app, "import.read", batch).await.is_empty());
    // Its own organisation it imports for (the key's own is the default).
    let (status, own) = post_with_key(&app, &welfare_key, form("بهزیستی", &list_csv(2))).await;
    assert_eq!(status, StatusCode::CREATED, "{own}");
    assert_eq!(n(&own, "organisation_id"), welfare);

    // A county expert imports for no organisation: not on the API, not on the page.
    let before = batch_count(&app).await;
    let expert = app.login("tehran.expert").await;
    let token = expert.csrf().await;
    let r = expert
        .http
        .post(app.url("/api/v1/imports"))
        .header("x-csrf-token", token.clone())
        .multipart(form("کارشناس", &list_csv(4)).text("organisation", relief.to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = expert
        .http
        .post(app.url("/registry/imports"))
        .header("x-csrf-token", token)
        .multipart(
            form("کارشناس", &list_csv(4))
                .text("organisation", relief.to_string())
                .text("mode", "commit"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(batch_count(&app).await, before, "nothing written");
    assert_eq!(
        expert
            .get(&format!("/api/v1/imports/{batch}"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        expert
            .get(&format!("/registry/imports/{batch}"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        expert.get("/api/v1/imports").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_command_line_and_the_web_page_each_audit_one_import_commit() {
    let app = spawn_app().await;
    let relief = org(&app, RELIEF).await;

    // The command line, as cli:<os user>.
    let dir = crate::support::temp_dir();
    let file = dir.0.join("list.csv");
    std::fs::write(&file, list_csv(5)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hamdeli"))
        .args(["--database-url", &app.database_url, "--data-dir"])
        .arg(&dir.0)
        .args([
            "import",
            "--organisation",
            RELIEF,
            "--list",
            "خط فرمان",
            "--file",
        ])
        .arg(&file)
        .env("USER", "operator")
        .env_remove("HAMDELI_DATABASE_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("rows in 7 = accepted 5 (with warnings 1) + rejected 1 + skipped 1"),
        "{stdout}"
    );
    let cli_batch: i64 = sqlx::query_scalar(
        "SELECT b.id FROM import_batches b JOIN source_lists l ON l.id = b.list_id WHERE l.name = $1",
    )
    .bind("خط فرمان")
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    let commits = audit_of(&app, "import.commit", cli_batch).await;
    assert_eq!(commits, vec![("cli:operator".to_owned(), None, None)]);

    // The web page, as the signed-in partner (a background job).
    let partner = app.login("relief.partner").await;
    let token = partner.csrf().await;
    let r = partner
        .http
        .post(app.url("/registry/imports"))
        .header("x-csrf-token", token)
        .multipart(
            form("صفحه", &list_csv(6))
                .text("organisation", relief.to_string())
                .text("mode", "commit"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let web_batch = wait_for_batch(&app.store, &location).await;
    let commits = audit_of(&app, "import.commit", web_batch).await;
    assert_eq!(
        commits,
        vec![(
            "relief.partner".to_owned(),
            None,
            Some(app.user_ids["relief.partner"])
        )]
    );
    // Its report page is read through the use case (audited).
    let (status, html) = partner.get_text(&location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("صفحه"), "the list's name on its report");
    assert_eq!(audit_of(&app, "import.read", web_batch).await.len(), 1);

    // Two batches, two commits, no failures.
    let all: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'import.commit'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(all, 2);
    let failed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'import.failed'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(failed, 0);
}
