//! Organisations and their support programmes on a fresh install: created, edited and
//! deactivated by page and by `hamdeli admin create-organisation`, within the policy, audited,
//! and a deactivated organisation imports nothing more and is given no new users.

use reqwest::StatusCode;

use crate::support::{Client, TestApp, spawn_app, temp_dir, wait_for_batch};

const CSV: &str = "شناسه,کد ملی,نام,نام خانوادگی,استان,شهرستان\n1,0010350829,زهرا,احمدی,تهران,ری\n2,10350829,مریم,کریمی,اصفهان,کاشان\n";

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

/// Audit entries of this action on this target.
async fn audited(app: &TestApp, action: &str, target_id: i64) -> Vec<(String, String)> {
    sqlx::query_as::<_, (String, String)>(
        "SELECT actor, detail FROM audit_log WHERE action = $1 AND target_id = $2 ORDER BY id",
    )
    .bind(action)
    .bind(target_id.to_string())
    .fetch_all(app.store.pool())
    .await
    .unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .expect("a redirect")
        .to_str()
        .unwrap()
        .to_owned()
}

fn id_in(location: &str) -> i64 {
    location
        .trim_start_matches("/organisations/")
        .split(['/', '#'])
        .next()
        .and_then(|s| s.parse().ok())
        .expect("an organisation location")
}

async fn create_by_page(
    client: &Client,
    name_fa: &str,
    name_en: &str,
    kind: &str,
    province: &str,
) -> reqwest::Response {
    client
        .post_form(
            "/organisations/new",
            &[
                ("name_fa", name_fa),
                ("name_en", name_en),
                ("kind", kind),
                ("province", province),
            ],
        )
        .await
}

async fn upload(client: &Client, org: i64, list: &str) -> reqwest::Response {
    let token = client.csrf().await;
    let form = reqwest::multipart::Form::new()
        .text("organisation", org.to_string())
        .text("list", list.to_owned())
        .text("kind", "support")
        .text("mode", "commit")
        .part(
            "file",
            reqwest::multipart::Part::bytes(CSV.as_bytes().to_vec()).file_name("list.csv"),
        );
    client
        .http
        .post(format!("{}/registry/imports", client.base))
        .header("x-csrf-token", token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn create_partner_user(admin: &Client, username: &str, org: i64) -> reqwest::Response {
    admin
        .post_form(
            "/admin/users",
            &[
                ("username", username),
                ("display_name", "کاربر سازمان"),
                ("password", "a-long-password-1405"),
                ("role", "partner_org"),
                ("province", ""),
                ("county", ""),
                ("organisation", &org.to_string()),
            ],
        )
        .await
}

#[tokio::test]
async fn the_admin_creates_an_organisation_and_a_programme_whose_partner_then_imports() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;

    // Reachable from the navigation and the list.
    let (status, html) = admin.get_text("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("href=\"/organisations\""), "{html}");
    let (_, html) = admin.get_text("/organisations").await;
    assert!(html.contains("href=\"/organisations/new\""), "{html}");
    let (status, html) = admin.get_text("/organisations/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("name=\"name_fa\"") && html.contains("value=\"relief_committee\""),
        "{html}"
    );

    let r = create_by_page(&admin, "خیریهٔ مهر نو", "Mehr-e No charity", "charity", "23").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let org = id_in(&location(&r));
    let (status, html) = admin.get_text(&format!("/organisations/{org}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("خیریهٔ مهر نو") && html.contains("تهران"),
        "{html}"
    );
    assert!(html.contains("data-testid=\"organisation-deactivate\""));
    assert!(
        html.contains("data-testid=\"sharing-form\""),
        "sharing kept"
    );
    let created = audited(&app, "organisation.create", org).await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].0, "admin");
    assert!(created[0].1.contains("charity"), "{created:?}");

    // A programme of one kind from the need vocabulary, shown on the organisation's page.
    let r = admin
        .post_form(
            &format!("/organisations/{org}/programmes"),
            &[
                ("name_fa", "سبد غذای ماهانه"),
                ("name_en", "Monthly food basket"),
                ("kind", "food"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let programme: i64 = count(
        &app,
        &format!("SELECT MAX(id) FROM programmes WHERE organisation_id = {org}"),
    )
    .await;
    let (_, html) = admin.get_text(&format!("/organisations/{org}")).await;
    assert!(
        html.contains("سبد غذای ماهانه") && html.contains("سبد غذایی"),
        "{html}"
    );
    assert_eq!(audited(&app, "programme.create", programme).await.len(), 1);

    // Edited by page: the programme's kind, the organisation's Latin name.
    let (status, html) = admin
        .get_text(&format!("/organisations/{org}/programmes/{programme}/edit"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("value=\"medical\""), "{html}");
    let r = admin
        .post_form(
            &format!("/organisations/{org}/programmes/{programme}/edit"),
            &[
                ("name_fa", "سبد غذای ماهانه"),
                ("name_en", "Monthly food basket"),
                ("kind", "medical"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let g = hamdeli_store::organisations::programme_by_id(&app.store, programme)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(g.support_kind, "medical");
    assert_eq!(audited(&app, "programme.update", programme).await.len(), 1);
    let (status, html) = admin.get_text(&format!("/organisations/{org}/edit")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Mehr-e No charity"), "{html}");
    let r = admin
        .post_form(
            &format!("/organisations/{org}/edit"),
            &[
                ("name_fa", "خیریهٔ مهر نو"),
                ("name_en", "Mehr-e No"),
                ("kind", "charity"),
                ("province", "23"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let o = hamdeli_store::organisations::by_id(&app.store, org)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(o.name_en, "Mehr-e No");
    assert!(o.updated_at.is_some());
    let updated = audited(&app, "organisation.update", org).await;
    assert_eq!(updated.len(), 1);
    assert!(updated[0].1.contains("Mehr-e No charity"), "{updated:?}");

    // A partner user for it, who imports the organisation's list.
    let r = create_partner_user(&admin, "mehr.partner", org).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let partner = app.client();
    assert_eq!(
        partner
            .login("mehr.partner", "a-long-password-1405")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let r = upload(&partner, org, "مددجویان مهر").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    wait_for_batch(&app.store, &location(&r)).await;
    let records = count(
        &app,
        &format!(
            "SELECT COUNT(*) FROM source_records r JOIN source_lists l ON l.id = r.list_id \
             WHERE l.organisation_id = {org}"
        ),
    )
    .await;
    assert_eq!(records, 2);
    // The partner sees its organisation and programme, and may not manage them.
    let (status, html) = partner.get_text(&format!("/organisations/{org}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("سبد غذای ماهانه"));
    assert!(!html.contains("data-testid=\"organisation-deactivate\""));
    assert!(!html.contains("data-testid=\"programme-form\""));
}

#[tokio::test]
async fn a_provincial_officer_registers_charities_and_ngos_of_its_own_province_only() {
    let app = spawn_app().await;
    let officer = app.login("tehran.officer").await;
    let orgs_before = count(&app, "SELECT COUNT(*) FROM organisations").await;

    let (status, html) = officer.get_text("/organisations/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("value=\"charity\"") && html.contains("value=\"ngo\""));
    assert!(!html.contains("value=\"relief_committee\""), "{html}");
    assert!(
        !html.contains("value=\"10\""),
        "only its own province: {html}"
    );

    let r = create_by_page(&officer, "خیریهٔ محلهٔ ری", "Rey charity", "charity", "23").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let org = id_in(&location(&r));
    let created = audited(&app, "organisation.create", org).await;
    assert_eq!(created[0].0, "tehran.officer");
    // It runs it: edits it and adds a programme.
    let r = officer
        .post_form(
            &format!("/organisations/{org}/programmes"),
            &[
                ("name_fa", "مشاوره"),
                ("name_en", ""),
                ("kind", "counselling"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = officer
        .post_form(
            &format!("/organisations/{org}/edit"),
            &[
                ("name_fa", "خیریهٔ محلهٔ ری"),
                ("name_en", ""),
                ("kind", "ngo"),
                ("province", "23"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);

    // Not in another province, not a relief committee, not national, not turned into one.
    for (kind, province) in [
        ("charity", "10"),
        ("relief_committee", "23"),
        ("welfare", "23"),
        ("charity", ""),
    ] {
        let r = create_by_page(&officer, "خیریهٔ دیگر", "Other", kind, province).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{kind} in {province:?}");
    }
    let r = officer
        .post_form(
            &format!("/organisations/{org}/edit"),
            &[
                ("name_fa", "خیریهٔ محلهٔ ری"),
                ("name_en", ""),
                ("kind", "relief_committee"),
                ("province", "23"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Nor the national relief committee of the demo.
    let relief = hamdeli_store::organisations::id_by_name(&app.store, "کمیته امداد (نمایشی)")
        .await
        .unwrap()
        .unwrap();
    let (status, _) = officer
        .get_text(&format!("/organisations/{relief}/edit"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let r = officer
        .post_form(
            &format!("/organisations/{relief}/active"),
            &[("active", "0")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The officer of another province does not manage Tehran's charity.
    let isfahan = app.login("isfahan.officer").await;
    let r = isfahan
        .post_form(&format!("/organisations/{org}/active"), &[("active", "0")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM organisations").await,
        orgs_before + 1
    );
    let o = hamdeli_store::organisations::by_id(&app.store, org)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((o.kind.as_str(), o.active), ("ngo", true));
    let r = hamdeli_store::organisations::by_id(&app.store, relief)
        .await
        .unwrap()
        .unwrap();
    assert!(r.active);
}

#[tokio::test]
async fn a_partner_neither_creates_nor_edits_organisations() {
    let app = spawn_app().await;
    let relief = hamdeli_store::organisations::id_by_name(&app.store, "کمیته امداد (نمایشی)")
        .await
        .unwrap()
        .unwrap();
    let before = (
        count(&app, "SELECT COUNT(*) FROM organisations").await,
        count(&app, "SELECT COUNT(*) FROM programmes").await,
        count(&app, "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'organisation.%' OR action LIKE 'programme.%'").await,
    );
    for username in ["relief.partner", "tehran.expert", "donor"] {
        let c = app.login(username).await;
        let (status, html) = c.get_text("/organisations").await;
        assert!(!html.contains("href=\"/organisations/new\""), "{username}");
        let _ = status;
        assert_eq!(
            c.get("/organisations/new").await.status(),
            StatusCode::FORBIDDEN,
            "{username}"
        );
        let r = create_by_page(&c, "سمن تازه", "New NGO", "ngo", "23").await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{username}");
        assert_eq!(
            c.get(&format!("/organisations/{relief}/edit"))
                .await
                .status(),
            StatusCode::FORBIDDEN,
            "{username}"
        );
        let r = c
            .post_form(
                &format!("/organisations/{relief}/edit"),
                &[
                    ("name_fa", "کمیته امداد (نمایشی)"),
                    ("name_en", "changed"),
                    ("kind", "relief_committee"),
                    ("province", ""),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{username}");
        let r = c
            .post_form(
                &format!("/organisations/{relief}/active"),
                &[("active", "0")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{username}");
        let r = c
            .post_form(
                &format!("/organisations/{relief}/programmes"),
                &[("name_fa", "برنامه"), ("name_en", ""), ("kind", "food")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{username}");
    }
    let after = (
        count(&app, "SELECT COUNT(*) FROM organisations").await,
        count(&app, "SELECT COUNT(*) FROM programmes").await,
        count(&app, "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'organisation.%' OR action LIKE 'programme.%'").await,
    );
    assert_eq!(before, after);
    let r = hamdeli_store::organisations::by_id(&app.store, relief)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.name_en, "Relief committee (demo)");
}

#[tokio::test]
async fn bad_input_is_shown_on_the_form_in_persian_and_english_and_writes_nothing() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let before = (
        count(&app, "SELECT COUNT(*) FROM organisations").await,
        count(&app, "SELECT COUNT(*) FROM programmes").await,
        count(&app, "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'organisation.%' OR action LIKE 'programme.%'").await,
    );
    for (name_fa, kind, province, message) in [
        ("  ", "charity", "", "نام سازمان را بنویسید."),
        ("خیریهٔ تازه", "bank", "", "نوع سازمان معتبر نیست."),
        ("خیریهٔ تازه", "charity", "99", "استان انتخاب‌شده وجود ندارد."),
        (
            "کمیته امداد (نمایشی)",
            "charity",
            "",
            "سازمانی با این نام هست.",
        ),
    ] {
        let r = create_by_page(&admin, name_fa, "x", kind, province).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{kind}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains(message) && html.contains("data-testid=\"form-error\""),
            "{message}: {html}"
        );
        // The form keeps what was typed.
        assert!(html.contains("value=\"x\""), "{html}");
    }
    let relief = hamdeli_store::organisations::id_by_name(&app.store, "کمیته امداد (نمایشی)")
        .await
        .unwrap()
        .unwrap();
    let r = admin
        .post_form(
            &format!("/organisations/{relief}/programmes"),
            &[
                ("name_fa", "برنامهٔ وام"),
                ("name_en", ""),
                ("kind", "loans"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("نوع حمایت را از فهرست نوع‌های نیاز انتخاب کنید.")
            && html.contains("برنامهٔ وام"),
        "{html}"
    );
    let r = admin
        .post_form(
            &format!("/organisations/{relief}/edit"),
            &[
                ("name_fa", ""),
                ("name_en", ""),
                ("kind", "relief_committee"),
                ("province", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("نام سازمان را بنویسید."));

    // In English for an English session.
    let r = admin
        .post_form("/lang", &[("locale", "en"), ("back", "/organisations/new")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = create_by_page(&admin, "", "x", "charity", "").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("Enter the organisation"));

    let after = (
        count(&app, "SELECT COUNT(*) FROM organisations").await,
        count(&app, "SELECT COUNT(*) FROM programmes").await,
        count(&app, "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'organisation.%' OR action LIKE 'programme.%'").await,
    );
    assert_eq!(before, after);
}

/// Runs the binary on the test's database.
fn hamdeli(app: &TestApp, args: &[&str]) -> (bool, String) {
    let dir = temp_dir();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hamdeli"))
        .args(args)
        .arg("--data-dir")
        .arg(&dir.0)
        .arg("--database-url")
        .arg(&app.database_url)
        .env_remove("HAMDELI_DATABASE_URL")
        .env_remove("HAMDELI_CONFIG")
        .env("USER", "operator")
        .output()
        .expect("run hamdeli");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn the_command_line_creates_and_lists_organisations_audited_as_cli() {
    let app = spawn_app().await;
    let (ok, text) = hamdeli(
        &app,
        &[
            "admin",
            "create-organisation",
            "--name-fa",
            "سمن زنان کاشان",
            "--name-en",
            "Kashan women's NGO",
            "--kind",
            "ngo",
            "--province",
            "10",
        ],
    );
    assert!(ok, "{text}");
    let id: i64 = text
        .trim()
        .rsplit(' ')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    let o = hamdeli_store::organisations::by_id(&app.store, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (o.kind.as_str(), o.province_code.as_deref(), o.active),
        ("ngo", Some("10"), true)
    );
    let entries = audited(&app, "organisation.create", id).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, "cli:operator");

    let (ok, text) = hamdeli(&app, &["admin", "list-organisations"]);
    assert!(
        ok && text.contains("سمن زنان کاشان") && text.contains("active"),
        "{text}"
    );
    // Refusals in words, nothing written.
    let (ok, text) = hamdeli(
        &app,
        &[
            "admin",
            "create-organisation",
            "--name-fa",
            "سمن زنان کاشان",
            "--kind",
            "ngo",
        ],
    );
    assert!(
        !ok && text.contains("An organisation with this name exists."),
        "{text}"
    );
    let (ok, text) = hamdeli(
        &app,
        &[
            "admin",
            "create-organisation",
            "--name-fa",
            "بانک",
            "--kind",
            "bank",
        ],
    );
    assert!(!ok, "{text}");
    let (ok, text) = hamdeli(
        &app,
        &[
            "admin",
            "create-organisation",
            "--name-fa",
            "خیریه",
            "--kind",
            "charity",
            "--province",
            "99",
        ],
    );
    assert!(!ok && text.contains("province does not exist"), "{text}");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'organisation.create'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_deactivated_organisation_keeps_its_records_but_imports_nothing_and_gets_no_users() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let r = create_by_page(&admin, "خیریهٔ امید", "Omid charity", "charity", "").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let org = id_in(&location(&r));
    assert_eq!(
        create_partner_user(&admin, "omid.partner", org)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let partner = app.client();
    partner.login("omid.partner", "a-long-password-1405").await;
    let r = upload(&partner, org, "فهرست امید").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    wait_for_batch(&app.store, &location(&r)).await;
    let records = format!(
        "SELECT COUNT(*) FROM source_records r JOIN source_lists l ON l.id = r.list_id \
         WHERE l.organisation_id = {org}"
    );
    let batches = format!(
        "SELECT COUNT(*) FROM import_batches b JOIN source_lists l ON l.id = b.list_id \
         WHERE l.organisation_id = {org}"
    );
    assert_eq!(count(&app, &records).await, 2);
    assert_eq!(count(&app, &batches).await, 1);

    let r = admin
        .post_form(&format!("/organisations/{org}/active"), &[("active", "0")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(audited(&app, "organisation.deactivate", org).await.len(), 1);
    let (_, html) = admin.get_text(&format!("/organisations/{org}")).await;
    assert!(
        html.contains("data-testid=\"organisation-activate\"")
            && !html.contains("data-testid=\"programme-form\""),
        "{html}"
    );

    // No import: not its existing list, not a new one, not by page and not by the command line.
    for list in ["فهرست امید", "فهرست تازه"] {
        // Refused with a message on the form, never an internal error.
        let r = upload(&partner, org, list).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{list}");
        let r = upload(&admin, org, list).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{list}");
    }
    let dir = temp_dir();
    let file = dir.0.join("list.csv");
    std::fs::write(&file, CSV).unwrap();
    let (ok, text) = hamdeli(
        &app,
        &[
            "import",
            "--organisation",
            &org.to_string(),
            "--list",
            "فهرست امید",
            "--file",
            file.to_str().unwrap(),
        ],
    );
    assert!(!ok, "{text}");
    assert!(
        text.contains("organisation-inactive") || text.contains("deactivated"),
        "{text}"
    );
    // No new user, by page or by the command line.
    let users_before = count(&app, "SELECT COUNT(*) FROM users").await;
    let r = create_partner_user(&admin, "omid.partner2", org).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let (ok, text) = hamdeli(
        &app,
        &[
            "admin",
            "create-user",
            "--username",
            "omid.partner3",
            "--display-name",
            "x",
            "--role",
            "partner_org",
            "--organisation",
            &org.to_string(),
        ],
    );
    assert!(!ok, "{text}");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM users").await,
        users_before
    );
    // No new programme.
    let r = admin
        .post_form(
            &format!("/organisations/{org}/programmes"),
            &[("name_fa", "سبد"), ("name_en", ""), ("kind", "food")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("این سازمان غیرفعال است"));

    // Its records stay, and its partner still reads them.
    assert_eq!(count(&app, &records).await, 2);
    assert_eq!(count(&app, &batches).await, 1);
    let (status, _) = partner.get_text(&format!("/organisations/{org}")).await;
    assert_eq!(status, StatusCode::OK);

    // Reactivated, it imports again.
    let r = admin
        .post_form(&format!("/organisations/{org}/active"), &[("active", "1")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(audited(&app, "organisation.activate", org).await.len(), 1);
    let r = upload(&partner, org, "فهرست امید").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    wait_for_batch(&app.store, &location(&r)).await;
    assert_eq!(count(&app, &batches).await, 2);
}
