//! Sign-in limits: attempts are counted before their password is checked (a parallel burst
//! gets at most five checks per account), a growing wait instead of a lock, unknown usernames
//! answered like known ones, client addresses behind a trusted proxy, `next` after login, and
//! the donor sign-up limit.

use std::sync::Arc;

use reqwest::StatusCode;
use tokio::sync::oneshot;

use hamdeli::config::{Config, Layer};
use hamdeli_app::accounts::limits::{self as ratelimit, LoginGate};
use hamdeli_store::Store;
use hamdeli_store::audit::{self, Filter};
use hamdeli_web::AppState;

use crate::support::{Client, PASSWORD, TempDir, fresh_database, temp_dir};

/// The demo app like `support::spawn_app`, keeping its state (for the password-check counter)
/// and with trusted proxies configured.
struct App {
    addr: std::net::SocketAddr,
    store: Store,
    state: AppState,
    database_url: String,
    stop: Option<oneshot::Sender<()>>,
    _dir: TempDir,
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        crate::support::drop_postgres_database(&self.database_url);
    }
}

async fn spawn(trusted_proxies: Option<&str>) -> App {
    let dir = temp_dir();
    let database_url = fresh_database(&dir.0).await;
    let flags = Layer {
        database_url: Some(database_url.clone()),
        data_dir: Some(dir.0.clone()),
        trusted_proxies: trusted_proxies.map(|t| hamdeli::config::AddressList::Text(t.into())),
        ..Default::default()
    };
    let config = Config::load(None, Layer::default(), flags).expect("config");
    let store = hamdeli::open_store(&config).await.expect("open store");
    hamdeli::demo::seed(&store).await.expect("demo data");
    let state = hamdeli::app_state(store.clone(), &config)
        .await
        .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = state.clone();
    tokio::spawn(async move {
        let _ = hamdeli_web::serve(listener, serving, async {
            let _ = stopped.await;
        })
        .await;
    });
    App {
        addr,
        store,
        state,
        database_url,
        stop: Some(stop),
        _dir: dir,
    }
}

impl App {
    fn client(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: format!("http://{}", self.addr),
        }
    }

    fn checks(&self) -> u64 {
        self.state.login_limiter.password_checks()
    }

    async fn failed_reasons(&self) -> Vec<(String, String, String)> {
        audit::list(
            &self.store,
            &Filter {
                action: Some("auth.login_failed".into()),
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            let detail: serde_json::Value = serde_json::from_str(&e.detail).unwrap_or_default();
            let reason = detail["reason"].as_str().unwrap_or_default().to_owned();
            (e.target_id, reason, e.client_addr)
        })
        .collect()
    }

    /// As if the account's wait were over (instead of sleeping for it).
    async fn end_wait(&self, username: &str) {
        sqlx::query("UPDATE login_accounts SET wait_until = 0 WHERE subject = $1")
            .bind(username)
            .execute(self.store.pool())
            .await
            .unwrap();
    }
}

/// A login POST from a client, optionally as if forwarded for `from` by a proxy.
async fn login_as(
    c: &Client,
    token: &str,
    from: Option<&str>,
    username: &str,
    password: &str,
    next: &str,
) -> reqwest::Response {
    let mut r = c.http.post(format!("{}/login", c.base)).form(&[
        ("username", username),
        ("password", password),
        ("next", next),
        ("_csrf", token),
    ]);
    if let Some(from) = from {
        r = r.header("x-forwarded-for", from);
    }
    r.send().await.expect("POST /login")
}

/// `n` logins at once from one client; the statuses in the order they were started.
async fn burst(
    app: &App,
    username: &str,
    passwords: Vec<String>,
    usernames: bool,
) -> Vec<StatusCode> {
    let c = Arc::new(app.client());
    let token = Arc::new(c.csrf().await);
    let mut tasks = Vec::new();
    for (i, password) in passwords.into_iter().enumerate() {
        let (c, token) = (c.clone(), token.clone());
        let username = if usernames {
            format!("{username}{i}")
        } else {
            username.to_owned()
        };
        tasks.push(tokio::spawn(async move {
            login_as(&c, &token, None, &username, &password, "/")
                .await
                .status()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    statuses
}

fn count(statuses: &[StatusCode], s: StatusCode) -> usize {
    statuses.iter().filter(|x| **x == s).count()
}

#[tokio::test]
async fn a_parallel_burst_of_forty_gets_five_password_checks() {
    // Behind a trusted proxy (this test's own address), so the last attempt can come from
    // another address.
    let app = spawn(Some("127.0.0.1")).await;
    let before = app.checks();
    let statuses = burst(&app, "donor", vec!["wrong-password".to_owned(); 40], false).await;
    let checks = app.checks() - before;
    assert_eq!(checks, 5, "password checks in a burst of 40: {statuses:?}");
    assert_eq!(
        count(&statuses, StatusCode::UNAUTHORIZED),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        count(&statuses, StatusCode::TOO_MANY_REQUESTS),
        35,
        "{statuses:?}"
    );
    let bad: Vec<_> = app
        .failed_reasons()
        .await
        .into_iter()
        .filter(|(_, reason, _)| reason == "bad_password")
        .collect();
    assert_eq!(bad.len(), 5, "the audit log agrees");

    // The right password right after the burst, from another address, waits too, unchecked.
    let c = app.client();
    let token = c.csrf().await;
    let r = login_as(&c, &token, Some("198.51.100.2"), "donor", PASSWORD, "/").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        r.text().await.unwrap().contains("۱ دقیقهٔ دیگر"),
        "the wait is named in minutes"
    );
    assert_eq!(app.checks() - before, 5);
}

#[tokio::test]
async fn a_right_password_inside_a_burst_is_checked_only_within_the_five() {
    let app = spawn(None).await;
    let mut passwords = vec!["wrong-password".to_owned(); 40];
    passwords[20] = PASSWORD.to_owned();
    let before = app.checks();
    let statuses = burst(&app, "tehran.expert", passwords, false).await;
    let checked =
        count(&statuses, StatusCode::UNAUTHORIZED) + count(&statuses, StatusCode::SEE_OTHER);
    assert!(app.checks() - before <= 5, "{statuses:?}");
    assert_eq!(checked as u64, app.checks() - before, "{statuses:?}");
    assert_eq!(
        count(&statuses, StatusCode::TOO_MANY_REQUESTS),
        40 - checked,
        "the rest are refused unchecked: {statuses:?}"
    );
}

#[tokio::test]
async fn a_burst_on_many_names_from_one_address_gets_ten_checks() {
    let app = spawn(None).await;
    let before = app.checks();
    let statuses = burst(&app, "ghost", vec!["wrong-password".to_owned(); 40], true).await;
    assert_eq!(app.checks() - before, 10, "{statuses:?}");
    assert_eq!(
        count(&statuses, StatusCode::TOO_MANY_REQUESTS),
        30,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn the_wait_grows_and_unknown_names_are_answered_like_known_ones() {
    let app = spawn(None).await;
    let c = app.client();
    let mut answers = Vec::new();
    for name in ["donor", "nobody.here"] {
        let before = app.checks();
        let mut statuses = Vec::new();
        let mut texts = Vec::new();
        for _ in 0..6 {
            let r = c.login(name, "wrong-password").await;
            statuses.push(r.status());
            let html = r.text().await.unwrap();
            let marker = "data-testid=\"form-error\">";
            let at = html.find(marker).expect("an error") + marker.len();
            let end = html[at..].find('<').unwrap() + at;
            texts.push(html[at..end].to_owned());
        }
        answers.push((statuses, texts, app.checks() - before));
        // The address window (ten per five minutes) is not what this test is about.
        sqlx::query("DELETE FROM rate_windows")
            .execute(app.store.pool())
            .await
            .unwrap();
    }
    assert_eq!(answers[0], answers[1], "known and unknown names alike");
    let (statuses, texts, checks) = &answers[0];
    assert_eq!(statuses[..5], [StatusCode::UNAUTHORIZED; 5]);
    assert_eq!(statuses[5], StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        *checks, 5,
        "a dummy check for the unknown name, none while waiting"
    );
    assert!(
        texts[0].contains("نام کاربری یا گذرواژه درست نیست"),
        "{texts:?}"
    );
    assert!(
        texts[5].contains("تلاش‌های ناموفق زیادی") && texts[5].contains("۱ دقیقهٔ دیگر"),
        "{texts:?}"
    );
    // The unknown name's audit entries say so; the answers did not.
    let reasons = app.failed_reasons().await;
    assert!(
        reasons
            .iter()
            .any(|(n, r, _)| n == "nobody.here" && r == "unknown_user")
    );
    assert!(
        reasons
            .iter()
            .any(|(n, r, _)| n == "nobody.here" && r == "account_wait")
    );

    // Once the minute is over one more attempt is checked, and the next wait is two minutes.
    app.end_wait("donor").await;
    let before = app.checks();
    assert_eq!(
        c.login("donor", "wrong-password").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = c.login("donor", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().await.unwrap().contains("۲ دقیقهٔ دیگر"));
    assert_eq!(app.checks() - before, 1);

    // No lock outlives the wait: when it is over, the right password signs in, and that
    // forgets the failures.
    app.end_wait("donor").await;
    let r = c.login("donor", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let gone: Option<i64> =
        sqlx::query_scalar("SELECT failures FROM login_accounts WHERE subject = 'donor'")
            .fetch_optional(app.store.pool())
            .await
            .unwrap();
    assert_eq!(gone, None);
}

#[tokio::test]
async fn an_admin_password_reset_ends_the_wait_and_the_admin_sees_it() {
    let app = spawn(None).await;
    let attacker = app.client();
    for _ in 0..6 {
        attacker.login("donor", "wrong-password").await;
    }
    let admin = app.client();
    assert_eq!(
        admin.login("admin", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let id = hamdeli_store::users::id_by_username(&app.store, "donor")
        .await
        .unwrap()
        .unwrap();
    let user = hamdeli_store::users::by_id(&app.store, id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        user.locked_until
            .is_some_and(|u| u > hamdeli_store::now_millis()),
        "the user page shows until when the account waits"
    );
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
}

#[tokio::test]
async fn a_success_from_elsewhere_or_from_the_attacker_resets_nothing_for_the_attackers_address() {
    // Behind a trusted proxy (this test's own address), so addresses can be told apart.
    let app = spawn(Some("127.0.0.1")).await;
    let c = app.client();
    let token = c.csrf().await;
    let attacker = Some("203.0.113.7");
    for i in 0..8 {
        let r = login_as(
            &c,
            &token,
            attacker,
            &format!("ghost{i}"),
            "wrong-pass",
            "/",
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // The victim signs in from another address; the attacker from theirs with their own account.
    let victim = app.client();
    let victim_token = victim.csrf().await;
    let r = login_as(
        &victim,
        &victim_token,
        Some("198.51.100.1"),
        "admin",
        PASSWORD,
        "/",
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let own = app.client();
    let own_token = own.csrf().await;
    let r = login_as(&own, &own_token, attacker, "relief.partner", PASSWORD, "/").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Two more failures fill the attacker's window; the eleventh attempt is refused.
    for i in 8..10 {
        let r = login_as(
            &c,
            &token,
            attacker,
            &format!("ghost{i}"),
            "wrong-pass",
            "/",
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let r = login_as(&c, &token, attacker, "ghost10", "wrong-pass", "/").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another address is not affected.
    let r = login_as(
        &c,
        &token,
        Some("203.0.113.8"),
        "ghost11",
        "wrong-pass",
        "/",
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Per account: five failures from the attacker's address make "donor" wait; when the wait
    // is over its owner signs in from elsewhere, which forgets only the owner's own attempt.
    let attacker = Some("203.0.113.30");
    for _ in 0..5 {
        let r = login_as(&c, &token, attacker, "donor", "wrong-pass", "/").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    app.end_wait("donor").await;
    let owner = app.client();
    let owner_token = owner.csrf().await;
    let r = login_as(
        &owner,
        &owner_token,
        Some("198.51.100.9"),
        "donor",
        PASSWORD,
        "/",
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let before = app.checks();
    let r = login_as(&c, &token, attacker, "donor", "wrong-pass", "/").await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the owner's sign-in gave the attacker no fresh attempts"
    );
    assert_eq!(app.checks(), before);
}

/// The measurement in `ratelimit`'s comment: an attacker who opens with a parallel burst of 40
/// and then tries one account every five seconds, each time from a new address, for two hours.
#[tokio::test]
async fn an_attacker_gets_eleven_checks_in_the_first_hour_and_four_an_hour_after() {
    let app = spawn(None).await;
    let store = app.store.clone();
    let t0 = hamdeli_store::now_millis();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            ratelimit::admit_login(&store, &format!("10.1.0.{i}"), "donor", t0)
                .await
                .unwrap()
        }));
    }
    let mut first_hour = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), LoginGate::Check(_)) {
            first_hour += 1;
        }
    }
    assert_eq!(first_hour, 5, "the burst");
    let mut checked_at = Vec::new();
    let mut second_hour = 0;
    for step in 1..(2 * 3600 / 5) {
        let now = t0 + step * 5_000;
        let from = format!("10.2.{}.{}", step / 250, step % 250);
        if let LoginGate::Check(_) = ratelimit::admit_login(&store, &from, "donor", now)
            .await
            .unwrap()
        {
            checked_at.push((now - t0) / 60_000);
            if now - t0 < 3_600_000 {
                first_hour += 1;
            } else {
                second_hour += 1;
            }
        }
    }
    assert_eq!(
        checked_at[..6],
        [1, 3, 7, 15, 30, 45],
        "minutes of the checks after the burst"
    );
    assert_eq!(first_hour, 11, "checks in the first hour");
    assert_eq!(second_hour, 4, "checks in the second hour");
}

#[tokio::test]
async fn the_client_address_comes_from_x_forwarded_for_only_behind_a_trusted_proxy() {
    let untrusted = spawn(None).await;
    let c = untrusted.client();
    let token = c.csrf().await;
    login_as(&c, &token, Some("203.0.113.9"), "ghost", "wrong-pass", "/").await;
    let addrs: Vec<String> = untrusted
        .failed_reasons()
        .await
        .into_iter()
        .map(|e| e.2)
        .collect();
    assert_eq!(addrs, ["127.0.0.1"], "a header from anyone is ignored");

    let trusted = spawn(Some("10.9.9.9, 127.0.0.1")).await;
    let c = trusted.client();
    let token = c.csrf().await;
    for from in [
        "203.0.113.9",
        // Whatever the client wrote on the left is not believed.
        "1.2.3.4, 203.0.113.10",
        // A chain of trusted proxies is walked back to the client.
        "203.0.113.11, 10.9.9.9",
        // Not an address: the peer.
        "garbage",
    ] {
        login_as(&c, &token, Some(from), "ghost", "wrong-pass", "/").await;
    }
    let mut addrs: Vec<String> = trusted
        .failed_reasons()
        .await
        .into_iter()
        .map(|e| e.2)
        .collect();
    addrs.sort();
    assert_eq!(
        addrs,
        ["127.0.0.1", "203.0.113.10", "203.0.113.11", "203.0.113.9"]
    );
}

#[tokio::test]
async fn next_after_login_stays_on_the_site_and_never_fails() {
    let app = spawn(None).await;
    let nexts = [
        ("/%09/evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("/%0D%0A", "/"),
        ("/\r\nSet-Cookie: x=1", "/"),
        ("//evil.example", "/"),
        ("/%2F/evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example", "/"),
        ("/donor", "/donor"),
        ("/registry?q=%D8%B9", "/registry?q=%D8%B9"),
    ];
    for (next, expected) in nexts {
        let c = app.client();
        let token = c.csrf().await;
        // A refused sign-in renders the form with the (cleaned) next in it.
        let r = login_as(&c, &token, None, "admin", "wrong-password", next).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{next:?}");
        let r = login_as(&c, &token, None, "admin", PASSWORD, next).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(r.headers()["location"], expected, "{next:?}");
        // Signed in already, the login page sends on to next too.
        let url = reqwest::Url::parse_with_params(&format!("{}/login", c.base), [("next", next)])
            .unwrap();
        let r = c.http.get(url).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(r.headers()["location"], expected, "{next:?}");
        sqlx::query("DELETE FROM rate_windows")
            .execute(app.store.pool())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn donor_sign_ups_are_limited_per_address() {
    let app = spawn(Some("127.0.0.1")).await;
    let signup = |mobile: &'static str, from: &'static str| {
        let c = app.client();
        async move {
            let token = c.csrf().await;
            c.http
                .post(format!("{}/donors/signup", c.base))
                .header("x-forwarded-for", from)
                .form(&[
                    ("mobile", mobile),
                    ("name", "خیر آزمایشی"),
                    ("password", "long-enough-pw"),
                    ("_csrf", token.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    for mobile in [
        "09120000001",
        "09120000002",
        "09120000003",
        "09120000004",
        "09120000005",
    ] {
        // The code's page comes back at once (no redirect carrying the mobile).
        let r = signup(mobile, "203.0.113.20").await;
        assert_eq!(r.status(), StatusCode::OK, "{mobile}");
    }
    let r = signup("09120000006", "203.0.113.20").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().await.unwrap().contains("ثبت‌نام‌های زیادی"));
    assert!(
        hamdeli_store::users::id_by_username(&app.store, "09120000006")
            .await
            .unwrap()
            .is_none()
    );
    let r = signup("09120000006", "203.0.113.21").await;
    assert_eq!(r.status(), StatusCode::OK, "another address");
}

/// A stolen session guessing the current password on the account page gets no more checks
/// than the login form gives: five, then a wait, refused without a check.
#[tokio::test]
async fn the_password_change_form_guesses_under_the_sign_in_limits() {
    let app = spawn(None).await;
    let c = app.client();
    assert_eq!(
        c.login("tehran.expert", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let before = app.checks();
    let mut statuses = vec![];
    for i in 0..8 {
        let guess = format!("guess-number-{i}");
        let r = c
            .post_form(
                "/account/password",
                &[
                    ("current", guess.as_str()),
                    ("new", "a-brand-new-secret-1"),
                    ("confirm", "a-brand-new-secret-1"),
                ],
            )
            .await;
        statuses.push(r.status());
    }
    assert_eq!(count(&statuses, StatusCode::BAD_REQUEST), 5, "{statuses:?}");
    assert_eq!(
        count(&statuses, StatusCode::TOO_MANY_REQUESTS),
        3,
        "{statuses:?}"
    );
    assert_eq!(app.checks() - before, 5, "five password checks, no more");
    // The password is unchanged.
    assert_eq!(
        app.client().login("tehran.expert", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the account waits for everyone"
    );
}
