//! Sign-in, sessions, CSRF, rate limiting, the wait after failed sign-ins, password changes and
//! the audit trail.

use reqwest::StatusCode;

use hamdeli_store::audit::{self, Filter};

use crate::support::{PASSWORD, spawn_app, spawn_app_on};

async fn audit_actions(app: &crate::support::TestApp, action: &str) -> Vec<audit::Entry> {
    audit::list(
        &app.store,
        &Filter {
            action: Some(action.into()),
            limit: 500,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn login_sets_an_http_only_same_site_session_and_logout_ends_it() {
    let app = spawn_app().await;
    let c = app.client();
    let r = c.login("admin", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("hamdeli_session="))
        .expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    let (status, html) = c.get_text("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("data-testid=\"count-provinces\">۳۱<"),
        "dashboard shows 31 provinces in Persian digits"
    );
    assert_eq!(audit_actions(&app, "auth.login").await.len(), 1);

    let r = c.post_form("/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(c.get("/account").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(audit_actions(&app, "auth.logout").await.len(), 1);
}

#[tokio::test]
async fn wrong_passwords_are_refused_in_persian() {
    let app = spawn_app().await;
    let c = app.client();
    let r = c.login("admin", "not-the-password").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let html = r.text().await.unwrap();
    assert!(html.contains("نام کاربری یا گذرواژه درست نیست"), "{html}");
    let r = c.login("nobody", "whatever-it-is").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(audit_actions(&app, "auth.login_failed").await.len(), 2);
}

#[tokio::test]
async fn state_changing_requests_need_the_csrf_token() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let fields = [
        ("username", "csrf.victim"),
        ("display_name", "x"),
        ("password", "long-enough-pw"),
        ("role", "donor"),
    ];
    // No token at all.
    let r = admin.post_raw("/admin/users", &fields).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("درخواست پذیرفته نشد"));
    // A forged token.
    let mut forged = fields.to_vec();
    forged.push((
        "_csrf",
        "00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff",
    ));
    assert_eq!(
        admin.post_raw("/admin/users", &forged).await.status(),
        StatusCode::FORBIDDEN
    );
    // Another browser's valid token does not work for this one.
    let other = app.client();
    let other_token = other.csrf().await;
    let mut stolen = fields.to_vec();
    stolen.push(("_csrf", &other_token));
    assert_eq!(
        admin.post_raw("/admin/users", &stolen).await.status(),
        StatusCode::FORBIDDEN
    );
    // Logout and login are state-changing too.
    assert_eq!(
        admin.post_raw("/logout", &[]).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.client()
            .post_raw("/login", &[("username", "admin"), ("password", PASSWORD)])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert!(
        hamdeli_store::users::id_by_username(&app.store, "csrf.victim")
            .await
            .unwrap()
            .is_none()
    );

    // The htmx header form works.
    let token = admin.csrf().await;
    let r = admin
        .http
        .post(format!("{}/admin/users", admin.base))
        .header("x-csrf-token", token)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        hamdeli_store::users::id_by_username(&app.store, "csrf.victim")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn login_attempts_are_rate_limited_per_address() {
    let app = spawn_app().await;
    // Successful sign-ins from one address (an office) do not count.
    for _ in 0..hamdeli_app::accounts::limits::MAX_FAILURES + 2 {
        app.login("tehran.expert").await;
    }
    let c = app.client();
    for i in 0..hamdeli_app::accounts::limits::MAX_FAILURES {
        let r = c.login(&format!("ghost{i}"), "wrong-password").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let r = c.login("admin", PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the window is used up, even for a right password"
    );
    assert!(r.text().await.unwrap().contains("تلاش‌های زیادی"));
}

#[tokio::test]
async fn an_account_waits_after_five_wrong_passwords_until_reset() {
    let app = spawn_app().await;
    let c = app.client();
    for i in 0..5 {
        assert_eq!(
            c.login("donor", "wrong-password").await.status(),
            StatusCode::UNAUTHORIZED,
            "try {i}"
        );
    }
    // Waiting: even the right password is refused now, unchecked, and told how long.
    let r = c.login("donor", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().await.unwrap().contains("دقیقهٔ دیگر"));

    // An admin resets the password, which ends the wait.
    let admin = app.login("admin").await;
    let id = app.user_ids["donor"];
    let r = admin
        .post_form(
            &format!("/admin/users/{id}/password"),
            &[("password", "fresh-password-1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.client()
            .login("donor", "fresh-password-1")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(audit_actions(&app, "user.reset_password").await.len(), 1);
}

#[tokio::test]
async fn password_change_checks_and_signs_out_other_sessions() {
    let app = spawn_app().await;
    let here = app.login("tehran.expert").await;
    let elsewhere = app.login("tehran.expert").await;
    let r = here
        .post_form(
            "/account/password",
            &[
                ("current", "wrong"),
                ("new", "new-password-99"),
                ("confirm", "new-password-99"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("گذرواژه کنونی درست نیست"));
    let r = here
        .post_form(
            "/account/password",
            &[
                ("current", PASSWORD),
                ("new", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = here
        .post_form(
            "/account/password",
            &[
                ("current", PASSWORD),
                ("new", "new-password-99"),
                ("confirm", "new-password-99"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        here.get("/account").await.status(),
        StatusCode::OK,
        "this session continues"
    );
    assert_eq!(
        elsewhere.get("/account").await.status(),
        StatusCode::SEE_OTHER,
        "others are signed out"
    );
    assert_eq!(
        app.client()
            .login("tehran.expert", "new-password-99")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn sessions_survive_a_restart() {
    let app = spawn_app().await;
    let c = app.login("admin").await;
    let port_before = app.addr;
    let (url, dir) = app.stop().await;
    let app = spawn_app_on(url, dir).await;
    // Same cookie jar, new server on a new port: point the client there.
    let c = crate::support::Client {
        http: c.http.clone(),
        base: format!("http://{}", app.addr),
    };
    assert_ne!(port_before, app.addr);
    // Cookies are per host, and both servers are 127.0.0.1: the session cookie goes along.
    assert_eq!(c.get("/admin/users").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_audit_log_records_writes_and_reads_and_cannot_be_changed() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let r = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "audited"),
                ("display_name", "x"),
                ("password", "long-enough-pw"),
                ("role", "volunteer"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = hamdeli_store::users::id_by_username(&app.store, "audited")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        admin.get(&format!("/admin/users/{id}")).await.status(),
        StatusCode::OK
    );

    let created = audit_actions(&app, "user.create").await;
    let created = created
        .iter()
        .find(|e| e.target_id == id.to_string())
        .expect("user.create entry");
    assert_eq!(created.actor, "admin");
    assert_eq!(created.scope, "country");
    assert_eq!(created.client_addr, "127.0.0.1");
    let reads = audit_actions(&app, "user.read").await;
    assert!(reads.iter().any(|e| e.target_id == id.to_string()));

    // The audit page filters by action and by a Jalali date range.
    let today = hamdeli_locale::clock::iran_today(hamdeli_store::now_millis());
    let (y, m, d) = hamdeli_locale::jalali(today).unwrap();
    let (status, html) = admin
        .get_text(&format!(
            "/admin/audit?action=user.create&from={y}/{m}/{d}&to={y}/{m}/{d}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("<td dir=\"ltr\">user.create</td>"),
        "the entry is listed"
    );
    assert!(
        !html.contains("<td dir=\"ltr\">auth.login</td>"),
        "filtered by action"
    );
    let (_, html) = admin.get_text("/admin/audit?from=1405/13/40").await;
    assert!(
        html.contains("data-testid=\"form-error\""),
        "a bad date is named, not ignored"
    );

    // Append-only, enforced by the database on both engines.
    let update = sqlx::query("UPDATE audit_log SET actor = 'someone else'")
        .execute(app.store.pool())
        .await;
    assert!(update.is_err(), "audit entries cannot be changed");
    let delete = sqlx::query("DELETE FROM audit_log")
        .execute(app.store.pool())
        .await;
    assert!(delete.is_err(), "audit entries cannot be deleted");
    assert!(!audit_actions(&app, "user.create").await.is_empty());
}

#[tokio::test]
async fn a_failed_write_leaves_no_audit_entry_and_no_user() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let before = audit_actions(&app, "user.create").await.len();
    // Username taken: the form comes back with the reason, in Persian, and nothing is written.
    let r = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "donor"),
                ("display_name", "x"),
                ("password", "long-enough-pw"),
                ("role", "donor"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("این نام کاربری گرفته شده است")
    );
    let r = admin
        .post_form(
            "/admin/users",
            &[
                ("username", "no scope"),
                ("display_name", "x"),
                ("password", "long-enough-pw"),
                ("role", "county_expert"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("شهرستان را انتخاب کنید"));
    assert_eq!(audit_actions(&app, "user.create").await.len(), before);
}
