//! `spawn_app`: the real application on a free port over a fresh database — SQLite by default,
//! PostgreSQL when `HAMDELI_TEST_POSTGRES` holds a base URL (each test gets its own database).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};

use hamdeli::config::{Config, Layer};
use hamdeli_store::Store;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use tokio::sync::oneshot;

pub const PASSWORD: &str = hamdeli::demo::DEMO_PASSWORD;

pub struct TestApp {
    pub addr: SocketAddr,
    pub store: Store,
    pub database_url: String,
    pub user_ids: HashMap<String, i64>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _dir: TempDir,
}

/// A temporary directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique() -> String {
    format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        &hamdeli_store::tokens::random_token()[..8]
    )
}

pub fn postgres_base() -> Option<String> {
    std::env::var("HAMDELI_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
}

/// The prefix of every test database on PostgreSQL; nothing else is ever dropped.
const TEST_DATABASE_PREFIX: &str = "hamdeli_t_";

/// A test database's name: the prefix, its creation time (Unix seconds), then the process id,
/// a counter and random letters, so a later run can tell how old a left-over database is.
fn test_database_name() -> String {
    format!("{TEST_DATABASE_PREFIX}{}_{}", now_secs(), unique())
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Left-over test databases (an interrupted run drops none of its own) older than this are
/// dropped when a test binary starts.
const STALE_TEST_DATABASE: i64 = 3_600;

/// Drops the test databases of interrupted runs on the server of `base`: only names with the
/// test prefix, older than an hour (by the creation time in the name, or for older names by
/// the database's PG_VERSION file), that no session is connected to; DROP DATABASE without
/// FORCE, so one a concurrent run connects to meanwhile is refused and kept. The names dropped.
pub async fn drop_stale_test_databases(base: &str) -> Vec<String> {
    sqlx::any::install_default_drivers();
    let Ok(pool) = sqlx::AnyPool::connect(base).await else {
        return vec![];
    };
    let unused = "FROM pg_database d WHERE d.datname LIKE 'hamdeli\\_t\\_%' \
         AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)";
    // The file's time needs a superuser (or pg_read_server_files); without it, names only.
    let with_file_time = format!(
        "SELECT d.datname::text, EXTRACT(EPOCH FROM (pg_stat_file('base/' || d.oid || '/PG_VERSION')).modification)::bigint {unused}"
    );
    let rows: Vec<(String, Option<i64>)> = match sqlx::query_as(sqlx::AssertSqlSafe(with_file_time))
        .fetch_all(&pool)
        .await
    {
        Ok(rows) => rows,
        Err(_) => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT d.datname::text, CAST(NULL AS BIGINT) {unused}"
        )))
        .fetch_all(&pool)
        .await
        .unwrap_or_default(),
    };
    let now = now_secs();
    let mut dropped = vec![];
    for (name, file_time) in rows {
        let Some(rest) = name.strip_prefix(TEST_DATABASE_PREFIX) else {
            continue;
        };
        if !rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        // A creation time in the name has 10 digits or more (a process id has fewer).
        let named_time = rest
            .split('_')
            .next()
            .filter(|t| t.len() >= 10)
            .and_then(|t| t.parse::<i64>().ok());
        let Some(created) = named_time.or(file_time) else {
            continue;
        };
        if now - created < STALE_TEST_DATABASE {
            continue;
        }
        let sql = format!("DROP DATABASE IF EXISTS {name}");
        if sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .is_ok()
        {
            dropped.push(name);
        }
    }
    pool.close().await;
    dropped
}

/// A fresh, empty database URL for one test. On PostgreSQL the first one of a test binary's
/// run drops the stale databases of interrupted runs first.
pub async fn fresh_database(dir: &std::path::Path) -> String {
    match postgres_base() {
        Some(base) => {
            static CLEANED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
            CLEANED
                .get_or_init(|| async {
                    let dropped = drop_stale_test_databases(&base).await;
                    if !dropped.is_empty() {
                        eprintln!("dropped {} stale test databases", dropped.len());
                    }
                })
                .await;
            let name = test_database_name();
            sqlx::any::install_default_drivers();
            let pool = sqlx::AnyPool::connect(&base)
                .await
                .expect("connect to HAMDELI_TEST_POSTGRES");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&pool)
                .await
                .expect("create test database");
            pool.close().await;
            let (server, _) = base.rsplit_once('/').expect("URL ends in /DATABASE");
            format!("{server}/{name}")
        }
        None => format!("sqlite://{}", dir.join("test.db").display()),
    }
}

pub fn temp_dir() -> TempDir {
    let dir = std::env::temp_dir().join(format!("hamdeli-it-{}", unique()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    TempDir(dir)
}

/// The app with the demo data set (a user for every role and scope).
pub async fn spawn_app() -> TestApp {
    let dir = temp_dir();
    let url = fresh_database(&dir.0).await;
    spawn_app_on(url, dir).await
}

pub async fn spawn_app_on(database_url: String, dir: TempDir) -> TestApp {
    spawn_app_with(database_url, dir, true).await
}

/// The app on a fresh database without the demo: no users, no data (real use from scratch).
pub async fn spawn_bare_app() -> TestApp {
    let dir = temp_dir();
    let url = fresh_database(&dir.0).await;
    spawn_app_with(url, dir, false).await
}

async fn spawn_app_with(database_url: String, dir: TempDir, demo: bool) -> TestApp {
    // HAMDELI_TEST_LOG=warn (an env-filter) shows the server's log while debugging a test.
    if let Ok(filter) = std::env::var("HAMDELI_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
    let flags = Layer {
        database_url: Some(database_url.clone()),
        data_dir: Some(dir.0.clone()),
        ..Default::default()
    };
    let config = Config::load(None, Layer::default(), flags).expect("config");
    let store = hamdeli::open_store(&config).await.expect("open store");
    if demo {
        hamdeli::demo::seed(&store).await.expect("demo data");
    }
    let state = hamdeli::app_state(store.clone(), &config)
        .await
        .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        hamdeli_web::serve(listener, state, async {
            let _ = stopped.await;
        })
        .await
        .expect("server");
    });
    let mut user_ids = HashMap::new();
    for u in hamdeli_store::users::list(&store, &hamdeli_domain::PlaceFilter::All)
        .await
        .unwrap()
    {
        user_ids.insert(u.username.clone(), u.id);
    }
    TestApp {
        addr,
        store,
        database_url,
        user_ids,
        stop: Some(stop),
        server: Some(server),
        _dir: dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A browser-like client: keeps cookies, does not follow redirects (tests look at them).
    pub fn client(&self) -> Client {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .expect("client");
        Client {
            http,
            base: format!("http://{}", self.addr),
        }
    }

    pub async fn login(&self, username: &str) -> Client {
        let c = self.client();
        let r = c.login(username, PASSWORD).await;
        assert_eq!(
            r.status(),
            StatusCode::SEE_OTHER,
            "login of {username} failed"
        );
        c
    }

    /// Stops the server (graceful shutdown) and keeps the database for a restart.
    pub async fn stop(mut self) -> (String, TempDir) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.server.take() {
            let _ = h.await;
        }
        self.store.close().await;
        let dir = std::mem::replace(&mut self._dir, TempDir(std::path::PathBuf::new()));
        // The caller restarts on this database; the new app drops it.
        (std::mem::take(&mut self.database_url), dir)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if !self.database_url.is_empty() {
            drop_postgres_database(&self.database_url);
        }
    }
}

/// Drops a test's own PostgreSQL database (the suite leaves nothing behind). Runs on a thread of
/// its own because `Drop` cannot await.
pub fn drop_postgres_database(url: &str) {
    let (Some(base), Some((_, name))) = (postgres_base(), url.rsplit_once('/')) else {
        return;
    };
    if !name.starts_with(TEST_DATABASE_PREFIX) {
        return;
    }
    let name = name.to_owned();
    let _ = std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            if let Ok(pool) = sqlx::AnyPool::connect(&base).await {
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
                pool.close().await;
            }
        });
    })
    .join();
}

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

/// The `_csrf` hidden field of a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("page has a CSRF field") + marker.len();
    html[start..start + 64].to_owned()
}

impl Client {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET")
    }

    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        let s = r.status();
        (s, r.text().await.expect("body"))
    }

    /// The CSRF token of this client's session, read from a page.
    pub async fn csrf(&self) -> String {
        let (_, html) = self.get_text("/login").await;
        if html.contains("name=\"_csrf\"") {
            return csrf_of(&html);
        }
        let (_, html) = self.get_text("/account").await;
        csrf_of(&html)
    }

    /// POSTs a form with the CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("_csrf", &token));
        self.post_raw(path, &all).await
    }

    /// POSTs a form exactly as given (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .expect("POST")
    }

    /// POSTs a JSON body with the session's CSRF token in the `x-csrf-token` header.
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        let token = self.csrf().await;
        self.http
            .post(format!("{}{path}", self.base))
            .header("x-csrf-token", token)
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.post_form(
            "/login",
            &[
                ("username", username),
                ("password", password),
                ("next", "/"),
            ],
        )
        .await
    }
}

/// Waits until the import job behind `/registry/imports/{id}` has ended in the background: the
/// batch's `finished_at`, set after the job's last step (the commit, then linking, review items
/// and coverage summaries) or when it failed.
pub async fn wait_for_batch(store: &hamdeli_store::Store, location: &str) -> i64 {
    let id: i64 = location
        .rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("a batch location");
    for _ in 0..1200 {
        let batch = hamdeli_store::registry::batch(store, id)
            .await
            .unwrap()
            .unwrap();
        if batch.finished_at.is_some() {
            return id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the import job of batch {id} did not end");
}

/// A support list of the demo organisation of this name, created for a test.
pub async fn new_list(
    store: &Store,
    organisation: &str,
    name: &str,
) -> hamdeli_store::registry::SourceList {
    let org = hamdeli_store::organisations::id_by_name(store, organisation)
        .await
        .unwrap()
        .unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    hamdeli_store::registry::ensure_list(
        &mut conn,
        hamdeli_store::registry::NewList {
            organisation_id: org,
            name: name.into(),
            list_kind: "support".into(),
            province_code: None,
            county_code: None,
            created_by: None,
        },
    )
    .await
    .unwrap()
}

/// The id of a demo organisation by its Persian name.
pub async fn org(app: &TestApp, name: &str) -> i64 {
    hamdeli_store::organisations::id_by_name(&app.store, name)
        .await
        .unwrap()
        .unwrap()
}

/// A valid national code (its check digit right) made from a number.
pub fn code(n: u64) -> String {
    hamdeli_text::NationalCode::generate(n).to_string()
}

/// Uploads a CSV list through the web form (CSRF in the header) and waits for its batch.
pub async fn upload(client: &Client, app: &TestApp, org: i64, list: &str, csv: &str) -> i64 {
    let token = client.csrf().await;
    let form = reqwest::multipart::Form::new()
        .text("_csrf", token.clone())
        .text("organisation", org.to_string())
        .text("list", list.to_owned())
        .text("kind", "support")
        .text("mode", "commit")
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("list.csv"),
        );
    let r = client
        .http
        .post(format!("{}/registry/imports", client.base))
        .header("x-csrf-token", token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "upload accepted");
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    wait_for_batch(&app.store, &location).await
}

#[tokio::test]
async fn stale_test_databases_are_dropped_and_nothing_else() {
    let Some(base) = postgres_base() else {
        return; // PostgreSQL only
    };
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(&base).await.unwrap();
    let tag = &hamdeli_store::tokens::random_token()[..8];
    let old = now_secs() - 2 * STALE_TEST_DATABASE;
    // Two hours old and unused; two hours old but connected to; just made; not a test's.
    let stale = format!("{TEST_DATABASE_PREFIX}{old}_1_0_{tag}");
    let busy = format!("{TEST_DATABASE_PREFIX}{old}_2_0_{tag}");
    let fresh = format!("{TEST_DATABASE_PREFIX}{}_3_0_{tag}", now_secs());
    let other = format!("hamdeli_keep_{old}_{tag}");
    for name in [&stale, &busy, &fresh, &other] {
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .unwrap();
    }
    let (server, _) = base.rsplit_once('/').unwrap();
    let session = sqlx::AnyPool::connect(&format!("{server}/{busy}"))
        .await
        .unwrap();
    sqlx::query("SELECT 1").execute(&session).await.unwrap();

    let dropped = drop_stale_test_databases(&base).await;
    assert!(dropped.contains(&stale), "{dropped:?}");
    for kept in [&busy, &fresh, &other] {
        assert!(!dropped.contains(kept), "{kept} dropped");
    }
    let exists = |name: String| {
        let admin = admin.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
                .bind(name)
                .fetch_one(&admin)
                .await
                .unwrap()
                == 1
        }
    };
    assert!(!exists(stale).await);
    assert!(exists(busy.clone()).await && exists(fresh.clone()).await);
    assert!(exists(other.clone()).await);

    session.close().await;
    for name in [&busy, &fresh, &other] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&admin)
        .await
        .unwrap();
    }
    admin.close().await;
}
