//! The HTTP envelope: security headers and cache rules on every response, compression and
//! fingerprinted static files (and the first page's weight), CSRF tokens never in the query
//! string, API keys only on the API, `/metrics` not public, no query string in the log, private
//! data files, `--demo` only on a fresh or demo database, passwords never on the command line,
//! and GET requests that do not write.

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, AUTHORIZATION, CACHE_CONTROL, CONTENT_ENCODING};

use crate::support::{Client, TestApp, spawn_app, temp_dir, wait_for_batch};

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'";

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn assert_security_headers(r: &reqwest::Response, what: &str) {
    assert_eq!(header(r, "content-security-policy"), CSP, "{what}");
    assert_eq!(header(r, "x-frame-options"), "DENY", "{what}");
    assert_eq!(header(r, "x-content-type-options"), "nosniff", "{what}");
    assert!(
        matches!(header(r, "referrer-policy"), "same-origin" | "no-referrer"),
        "{what}"
    );
}

/// Nothing a strict CSP would refuse: no inline script or style, no event-handler attributes.
fn assert_no_inline_code(html: &str, what: &str) {
    for part in html.split("<script").skip(1) {
        let tag = part.split('>').next().unwrap_or_default();
        assert!(tag.contains("src=\""), "{what}: inline <script{tag}>");
    }
    let lower = html.to_lowercase();
    assert!(!lower.contains("<style"), "{what}: <style>");
    assert!(!lower.contains(" style="), "{what}: style attribute");
    assert!(!lower.contains("hx-on"), "{what}: hx-on attribute");
    assert!(!lower.contains("javascript:"), "{what}: javascript: URL");
    for handler in ["onclick=", "onchange=", "onsubmit=", "onload=", "oninput="] {
        assert!(!lower.contains(handler), "{what}: {handler}");
    }
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_pages_are_never_stored() {
    let app = spawn_app().await;
    let anonymous = app.client();
    let admin = app.login("admin").await;
    for (client, path) in [
        (&anonymous, "/"),
        (&anonymous, "/login"),
        (&anonymous, "/no/such/page"),
        (&anonymous, "/api/openapi.json"),
        (&anonymous, "/api/docs"),
        (&anonymous, "/api/v1/me"),
        (&anonymous, "/healthz"),
        (&admin, "/"),
        (&admin, "/admin/users"),
        (&admin, "/needs?format=csv"),
        (&admin, "/needs?format=xlsx"),
        (&admin, "/api/v1/me"),
        (&admin, "/admin/audit"),
    ] {
        let r = client.get(path).await;
        assert_security_headers(&r, path);
        assert_eq!(header(&r, "cache-control"), "no-store", "{path}");
    }
    // A POST's answer too.
    let r = admin
        .post_form("/lang", &[("locale", "en"), ("back", "/")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_security_headers(&r, "POST /lang");
    assert_eq!(header(&r, "cache-control"), "no-store");

    // No page holds what the policy refuses (the Swagger UI page included).
    for page in [
        "/",
        "/login",
        "/places",
        "/organisations",
        "/admin/users",
        "/admin/users/new",
        "/admin/audit",
        "/admin/api-keys",
        "/account",
        "/registry",
        "/registry/imports",
        "/registry/coverage",
        "/needs",
        "/priority",
        "/deliveries",
        "/support/double",
        "/campaigns",
        "/campaigns/new",
        "/stats",
        "/transparency",
        "/receipts",
        "/api/docs",
        "/no/such/page",
    ] {
        let (status, html) = admin.get_text(page).await;
        assert!(
            status.is_success() || status.is_redirection() || status == StatusCode::NOT_FOUND,
            "{page}: {status}"
        );
        assert_no_inline_code(&html, page);
    }
    let (_, html) = anonymous.get_text("/donors/signup").await;
    assert_no_inline_code(&html, "/donors/signup");
}

/// The stylesheet and script a page links to.
fn linked_assets(html: &str) -> Vec<String> {
    let mut urls = vec![];
    for attr in ["href=\"", "src=\""] {
        for part in html.split(attr).skip(1) {
            let url: String = part.chars().take_while(|c| *c != '"').collect();
            if url.starts_with("/assets/") {
                urls.push(url);
            }
        }
    }
    urls
}

/// The body's size as sent with `Accept-Encoding: br, gzip` (reqwest decodes nothing here).
async fn transferred(c: &Client, path: &str) -> (usize, String, String) {
    let r = c
        .http
        .get(format!("{}{path}", c.base))
        .header(ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    let encoding = header(&r, CONTENT_ENCODING.as_str()).to_owned();
    let cache = header(&r, CACHE_CONTROL.as_str()).to_owned();
    (r.bytes().await.unwrap().len(), encoding, cache)
}

#[tokio::test]
async fn static_files_are_fingerprinted_compressed_and_the_first_page_is_light() {
    let app = spawn_app().await;
    let c = app.client();
    let (status, html) = c.get_text("/").await;
    assert_eq!(status, StatusCode::OK);
    let assets = linked_assets(&html);
    let css = assets
        .iter()
        .find(|u| u.ends_with(".css"))
        .expect("the page links its stylesheet under /assets/")
        .clone();
    let js = assets
        .iter()
        .find(|u| u.contains("htmx"))
        .expect("the page links htmx under /assets/")
        .clone();
    let fingerprinted = |url: &str| {
        let file = url.rsplit('/').next().unwrap();
        let parts: Vec<&str> = file.split('.').collect();
        parts.iter().any(|p| {
            p.len() == 8
                && p.chars()
                    .all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_uppercase())
        })
    };
    assert!(fingerprinted(&css), "{css}");
    assert!(fingerprinted(&js), "{js}");
    // The stylesheet names the font by its fingerprinted path.
    let (_, stylesheet) = c.get_text(&css).await;
    let font = stylesheet
        .split("url(\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the stylesheet has a font")
        .to_owned();
    assert!(
        font.starts_with("/assets/fonts/") && fingerprinted(&font),
        "{font}"
    );

    // What a first visit transfers: the page, its stylesheet, htmx and the font.
    let mut total = 0;
    for (path, compressed) in [
        ("/", true),
        (css.as_str(), true),
        (js.as_str(), true),
        (font.as_str(), false),
    ] {
        let (size, encoding, cache) = transferred(&c, path).await;
        if compressed {
            assert_eq!(encoding, "br", "{path} is compressed");
        } else {
            assert_eq!(encoding, "", "{path}: a woff2 font is compressed already");
        }
        if path == "/" {
            assert_eq!(cache, "no-store");
        } else {
            assert_eq!(cache, "public, max-age=31536000, immutable", "{path}");
        }
        eprintln!("first page: {path} {size} bytes ({encoding})");
        total += size;
    }
    eprintln!("first page transferred in all: {total} bytes");
    assert!(total <= 150_000, "the first page transfers {total} bytes");
    // gzip for a client without br.
    let r = c
        .http
        .get(format!("{}{js}", c.base))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "content-encoding"), "gzip");

    // A stale fingerprint is not found; the old unhashed paths still work, briefly cached.
    assert_eq!(
        c.get("/assets/app.00000000.css").await.status(),
        StatusCode::NOT_FOUND
    );
    let old = c.get("/static/app.css").await;
    assert_eq!(old.status(), StatusCode::OK);
    assert!(!header(&old, "cache-control").contains("immutable"));
}

#[tokio::test]
async fn csrf_tokens_never_travel_in_the_query_string() {
    let app = spawn_app().await;
    let c = app.login("relief.partner").await;
    let token = c.csrf().await;
    // An urlencoded form with the token in the query string only is refused.
    let r = c
        .post_raw(
            &format!("/lang?_csrf={token}"),
            &[("locale", "en"), ("back", "/")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The import form carries the token as its first field, not in its action.
    let (_, page) = c.get_text("/registry/imports").await;
    let form = page
        .split("enctype=\"multipart/form-data\"")
        .next()
        .and_then(|before| before.rsplit("<form").next())
        .unwrap();
    assert!(!form.contains("_csrf"), "no token in the action: {form}");
    let after = page
        .split("enctype=\"multipart/form-data\"")
        .nth(1)
        .unwrap();
    let first_field = after.split("name=\"").nth(1).unwrap();
    assert!(first_field.starts_with("_csrf\""), "{first_field}");

    let org = hamdeli_store::organisations::id_by_name(&app.store, "کمیته امداد (نمایشی)")
        .await
        .unwrap()
        .unwrap();
    let csv =
        "source_id,national_code,first_name,last_name,province,county\nr1,,زهرا,احمدی,تهران,ری\n";
    let form = |first_token: Option<&str>, last_token: Option<&str>| {
        let mut f = reqwest::multipart::Form::new();
        if let Some(t) = first_token {
            f = f.text("_csrf", t.to_owned());
        }
        f = f
            .text("organisation", org.to_string())
            .text("list", "فهرست آزمون")
            .text("kind", "support")
            .text("mode", "commit")
            .part(
                "file",
                reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("list.csv"),
            );
        if let Some(t) = last_token {
            f = f.text("_csrf", t.to_owned());
        }
        f
    };
    let post = |path: String, form: reqwest::multipart::Form| {
        let http = c.http.clone();
        let url = format!("{}{path}", c.base);
        async move { http.post(url).multipart(form).send().await.unwrap() }
    };
    // In the query string: refused.
    let r = post(format!("/registry/imports?_csrf={token}"), form(None, None)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Behind the file: refused (the check reads only the first part).
    let r = post("/registry/imports".into(), form(None, Some(&token))).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A wrong token first: refused.
    let r = post(
        "/registry/imports".into(),
        form(Some(&"0".repeat(64)), None),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM import_batches")
            .fetch_one(app.store.pool())
            .await
            .unwrap(),
        0,
        "nothing refused was imported"
    );
    // First: accepted, and the handler still reads the whole form.
    let r = post("/registry/imports".into(), form(Some(&token), None)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = header(&r, "location").to_owned();
    wait_for_batch(&app.store, &location).await;
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM source_records")
            .fetch_one(app.store.pool())
            .await
            .unwrap(),
        1
    );
}

async fn api_key(app: &TestApp) -> String {
    let org = hamdeli_store::organisations::id_by_name(&app.store, "کمیته امداد (نمایشی)")
        .await
        .unwrap()
        .unwrap();
    let mut conn = app.store.pool().acquire().await.unwrap();
    let (_, secret) = hamdeli_store::api_keys::issue(&mut conn, org, "envelope test", None)
        .await
        .unwrap();
    secret
}

#[tokio::test]
async fn api_keys_open_the_api_only_and_never_skip_csrf_on_pages() {
    let app = spawn_app().await;
    let key = api_key(&app).await;
    let bearer = format!("Bearer {key}");
    let c = app.client();
    let send = |method: reqwest::Method, path: &str| {
        c.http
            .request(method, format!("{}{path}", c.base))
            .header(AUTHORIZATION, bearer.clone())
    };
    // The API answers the key.
    let r = send(reqwest::Method::GET, "/api/v1/me")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // A page does not: the visitor is anonymous there.
    let r = send(reqwest::Method::GET, "/registry/imports")
        .send()
        .await
        .unwrap();
    assert!(
        r.status() == StatusCode::SEE_OTHER || r.status() == StatusCode::UNAUTHORIZED,
        "{}",
        r.status()
    );
    let (_, home) = {
        let r = send(reqwest::Method::GET, "/").send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    };
    assert!(
        home.contains("data-testid=\"login-link\""),
        "anonymous on pages"
    );
    // A state-changing page request with a key and no CSRF token is refused.
    let r = send(reqwest::Method::POST, "/lang")
        .form(&[("locale", "en"), ("back", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = send(reqwest::Method::POST, "/registry/imports")
        .form(&[("organisation", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn metrics_are_for_the_national_admin_or_a_direct_local_request() {
    let app = spawn_app().await;
    let anonymous = app.client();
    let relayed = |c: &Client| {
        c.http
            .get(format!("{}/metrics", c.base))
            .header("x-forwarded-for", "203.0.113.9")
    };
    // Straight from this machine: served.
    let r = anonymous.get("/metrics").await;
    assert_eq!(r.status(), StatusCode::OK);
    // Relayed by a proxy: not for the public, nor for an officer.
    assert_eq!(
        relayed(&anonymous).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    for header_name in ["forwarded", "x-real-ip"] {
        let r = anonymous
            .http
            .get(format!("{}/metrics", anonymous.base))
            .header(header_name, "for=203.0.113.9")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{header_name}");
    }
    let officer = app.login("tehran.officer").await;
    assert_eq!(
        relayed(&officer).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let admin = app.login("admin").await;
    let r = relayed(&admin).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("hamdeli_http_requests_total")
    );
}

/// Collects what the log would print, for this test's thread only.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn the_log_never_sees_a_query_string_even_at_trace_level() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            "trace,sqlx=warn,hyper=warn,hyper_util=warn,reqwest=warn,h2=warn",
        ))
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    // A current-thread test: the server's tasks run on this thread and log here.
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let code = hamdeli_text::NationalCode::generate(4242).to_string();
    // A code searched by the page's form, by the API, and refused in a GET's query string.
    let r = admin.post_form("/registry", &[("q", code.as_str())]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = admin
        .post_json("/api/v1/persons/search", &serde_json::json!({ "q": code }))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let (status, _) = admin.get_text(&format!("/registry?q={code}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = admin.get_text(&format!("/api/v1/persons?q={code}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = admin.get_text("/no/such/page/0012345678").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("route=/registry"),
        "the route is logged: {log}"
    );
    assert!(
        log.contains("route=/api/v1/persons/search"),
        "the route is logged: {log}"
    );
    assert!(
        !log.contains(&code),
        "a national code reached the log: {log}"
    );
    assert!(!log.contains("?q"), "a query string reached the log");
    assert!(
        !log.contains("0012345678"),
        "an unmatched path reached the log"
    );
}

fn hamdeli(
    data_dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hamdeli"));
    cmd.args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("HAMDELI_DATABASE_URL")
        .env_remove("HAMDELI_CONFIG")
        .env_remove("HAMDELI_PASSWORD")
        .env("HAMDELI_DEMO_PEOPLE", "0")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run hamdeli");
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[cfg(unix)]
#[test]
fn the_data_directory_database_and_secret_key_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = temp_dir();
    let data = dir.0.join("data");
    let (ok, text) = hamdeli(&data, &["migrate"], &[], None);
    assert!(ok, "{text}");
    assert_eq!(mode(&data), 0o700, "data directory");
    let db = data.join("hamdeli.db");
    assert_eq!(mode(&db), 0o600, "database");
    for side in ["hamdeli.db-wal", "hamdeli.db-shm"] {
        let p = data.join(side);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{side}");
        }
    }
    let backup = data.join("copy.db");
    let (ok, text) = hamdeli(
        &data,
        &["backup", "--out", backup.to_str().unwrap()],
        &[],
        None,
    );
    assert!(ok, "{text}");
    assert_eq!(mode(&backup), 0o600, "backup");

    // Files an older version left readable are tightened at the next start.
    let key = data.join("secret.key");
    std::fs::write(&key, "k".repeat(64)).unwrap();
    for (p, m) in [(&data, 0o755), (&db, 0o644), (&key, 0o644)] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    }
    let (ok, text) = hamdeli(&data, &["migrate"], &[], None);
    assert!(ok, "{text}");
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(&key), 0o600);
}

#[test]
fn the_demo_refuses_a_database_that_holds_real_users() {
    let dir = temp_dir();
    let fresh = dir.0.join("fresh");
    let (ok, text) = hamdeli(&fresh, &["demo", "--people", "0"], &[], None);
    assert!(ok, "a fresh database takes the demo: {text}");
    let (ok, text) = hamdeli(&fresh, &["demo", "--people", "0"], &[], None);
    assert!(ok, "the demo's own database takes it again: {text}");

    let real = dir.0.join("real");
    let (ok, text) = hamdeli(
        &real,
        &[
            "admin",
            "create-user",
            "--username",
            "real.admin",
            "--display-name",
            "مدیر",
            "--role",
            "national_admin",
        ],
        &[],
        None,
    );
    assert!(ok, "{text}");
    let (ok, text) = hamdeli(&real, &["demo", "--people", "0"], &[], None);
    assert!(!ok && text.contains("refusing --demo"), "{text}");
    let (ok, text) = hamdeli(
        &real,
        &["serve", "--demo", "--bind", "127.0.0.1:0"],
        &[],
        None,
    );
    assert!(!ok && text.contains("refusing --demo"), "{text}");
    let (ok, text) = hamdeli(&real, &["admin", "list-users"], &[], None);
    assert!(
        ok && !text.contains("tehran.officer"),
        "no demo account added: {text}"
    );
}

async fn password_works(data: &std::path::Path, username: &str, password: &str) -> bool {
    let url = format!("sqlite://{}", data.join("hamdeli.db").display());
    let store = hamdeli_store::Store::open(&url).await.unwrap();
    let candidate = hamdeli_store::users::for_login(&store, username)
        .await
        .unwrap()
        .unwrap();
    let ok = hamdeli_store::passwords::verify_password_blocking(
        password.to_owned(),
        candidate.password_hash,
    )
    .await;
    store.close().await;
    ok
}

#[tokio::test]
async fn admin_passwords_come_from_the_environment_or_stdin_never_the_command_line() {
    let dir = temp_dir();
    let data = dir.0.join("data");
    let (ok, text) = hamdeli(&data, &["admin", "create-user", "--help"], &[], None);
    assert!(ok, "{text}");
    assert!(
        text.contains("--password-stdin") && text.contains("HAMDELI_PASSWORD"),
        "{text}"
    );
    assert!(!text.contains("--password <"), "{text}");
    let create = |name: &'static str| {
        vec![
            "admin",
            "create-user",
            "--username",
            name,
            "--display-name",
            "کارشناس",
            "--role",
            "national_admin",
        ]
    };
    // On the command line: refused outright.
    let mut args = create("on.argv");
    args.extend(["--password", "long-enough-pass"]);
    let (ok, text) = hamdeli(&data, &args, &[], None);
    assert!(!ok, "{text}");
    // From the environment.
    let (ok, text) = hamdeli(
        &data,
        &create("from.env"),
        &[("HAMDELI_PASSWORD", "env-password-1405")],
        None,
    );
    assert!(ok && !text.contains("env-password-1405"), "{text}");
    assert!(password_works(&data, "from.env", "env-password-1405").await);
    // From standard input.
    let mut args = create("from.stdin");
    args.push("--password-stdin");
    let (ok, text) = hamdeli(&data, &args, &[], Some("stdin-password-1405\n"));
    assert!(ok, "{text}");
    assert!(password_works(&data, "from.stdin", "stdin-password-1405").await);
    // A short one is still refused; none at all is generated and printed.
    let (ok, text) = hamdeli(
        &data,
        &[
            "admin",
            "reset-password",
            "--username",
            "from.env",
            "--password-stdin",
        ],
        &[],
        Some("short\n"),
    );
    assert!(!ok && text.contains("at least 10"), "{text}");
    let (ok, text) = hamdeli(
        &data,
        &["admin", "reset-password", "--username", "from.env"],
        &[("HAMDELI_PASSWORD", "another-password-1405")],
        None,
    );
    assert!(ok, "{text}");
    assert!(password_works(&data, "from.env", "another-password-1405").await);
    let (ok, text) = hamdeli(&data, &create("generated"), &[], None);
    assert!(ok && text.contains("password: "), "{text}");
}

#[tokio::test]
async fn reading_the_double_service_report_writes_nothing_the_refresh_is_a_post() {
    let app = spawn_app().await;
    let partner = app.login("relief.partner").await;
    let org = hamdeli_store::organisations::id_by_name(&app.store, "کمیته امداد (نمایشی)")
        .await
        .unwrap()
        .unwrap();
    let token = partner.csrf().await;
    let csv = "source_id,national_code,first_name,last_name,province,county\nr1,,زهرا,احمدی,تهران,ری\nr2,,مریم,کریمی,تهران,ری\n";
    let form = reqwest::multipart::Form::new()
        .text("_csrf", token)
        .text("organisation", org.to_string())
        .text("list", "سبد غذا")
        .text("kind", "support")
        .text("mode", "commit")
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("list.csv"),
        );
    let r = partner
        .http
        .post(format!("{}/registry/imports", partner.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    wait_for_batch(&app.store, header(&r, "location")).await;
    // The list is a food programme's: its rows belong in the support ledger.
    sqlx::query(
        "INSERT INTO programmes (organisation_id, name_fa, name_en, support_kind, created_at) \
         VALUES ($1, 'سبد غذا', 'Food basket', 'food', 0)",
    )
    .bind(org)
    .execute(app.store.pool())
    .await
    .unwrap();
    sqlx::query(
        "UPDATE source_lists SET programme_id = (SELECT MAX(id) FROM programmes) WHERE name = 'سبد غذا'",
    )
    .execute(app.store.pool())
    .await
    .unwrap();
    let ledger = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM support_ledger")
            .fetch_one(app.store.pool())
            .await
            .unwrap()
    };
    let before = ledger().await;
    let admin = app.login("admin").await;
    for path in ["/support/double", "/support/double?period=1405&format=csv"] {
        assert_eq!(admin.get(path).await.status(), StatusCode::OK, "{path}");
    }
    assert_eq!(ledger().await, before, "a GET wrote to the support ledger");
    // The refresh is a POST (with a CSRF token), for those who may manage needs.
    let r = admin
        .post_raw("/support/double", &[("period", "1405")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = partner
        .post_form("/support/double", &[("period", "1405")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(ledger().await, before);
    let r = admin
        .post_form("/support/double", &[("period", "۱۴۰۵")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&r, "location"), "/support/double?period=1405");
    assert_eq!(ledger().await, before + 2);
}
