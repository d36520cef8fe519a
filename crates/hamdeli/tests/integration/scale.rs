//! Every page at national scale (issue 17): the summary tables equal a recomputation from
//! scratch after random writes, the coverage pages read them, lists page by key, and the hot
//! queries' plans never scan a large table inside a loop.

use hamdeli_domain::PlaceFilter;
use hamdeli_store::coverage::{self, GroupBy};
use reqwest::StatusCode;

use crate::support::{spawn_app, temp_dir};

/// A small deterministic generator (the test must fail the same way twice).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[(self.next() as usize) % xs.len()]
    }
}

async fn ids(store: &hamdeli_store::Store, sql: &'static str) -> Vec<i64> {
    sqlx::query_scalar(sql)
        .fetch_all(store.pool())
        .await
        .unwrap()
}

async fn exec(store: &hamdeli_store::Store, sql: &str, a: i64, b: i64) {
    // Each write in its own transaction, as the product's writes are.
    let mut tx = store.begin().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(a)
        .bind(b)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Every grouping and scope of the report, and one county's outreach list, from the summary
/// tables and from scratch.
async fn assert_summaries_agree(store: &hamdeli_store::Store, step: &str) {
    let provinces: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT province_code FROM persons WHERE province_code IS NOT NULL ORDER BY 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let counties: Vec<String> = sqlx::query_scalar(
        "SELECT county_code FROM persons WHERE county_code IS NOT NULL \
         GROUP BY county_code ORDER BY COUNT(*) DESC, county_code LIMIT 2",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let orgs = ids(
        store,
        "SELECT DISTINCT organisation_id FROM source_lists ORDER BY 1",
    )
    .await;
    let mut filters = vec![PlaceFilter::All];
    filters.extend(provinces.iter().take(2).cloned().map(PlaceFilter::Province));
    filters.extend(counties.iter().cloned().map(PlaceFilter::County));
    filters.extend(orgs.iter().take(2).map(|o| PlaceFilter::Organisation(*o)));
    for filter in &filters {
        let counts = hamdeli_store::persons::counts(store, filter).await.unwrap();
        let scratch = hamdeli_store::persons::counts_from_scratch(store, filter)
            .await
            .unwrap();
        assert_eq!(
            (counts.persons, counts.records),
            scratch,
            "{step}: registry counts of {filter:?}"
        );
        for by in [GroupBy::Province, GroupBy::County, GroupBy::Zone] {
            let summary = coverage::report(store, filter, by, None).await.unwrap();
            let scratch = coverage::report_from_scratch(store, filter, by, None)
                .await
                .unwrap();
            assert_eq!(summary, scratch, "{step}: {filter:?} by {by:?}");
        }
    }
    if let Some(p) = provinces.first() {
        let summary = coverage::report(store, &PlaceFilter::All, GroupBy::County, Some(p))
            .await
            .unwrap();
        let scratch =
            coverage::report_from_scratch(store, &PlaceFilter::All, GroupBy::County, Some(p))
                .await
                .unwrap();
        assert_eq!(summary, scratch, "{step}: within province {p}");
    }
    for county in &counties {
        let scratch = coverage::outreach_from_scratch(store, &PlaceFilter::All, county, 10_000)
            .await
            .unwrap();
        // Page by page (keyset), seven at a time: the same persons in the same order.
        let mut paged = Vec::new();
        let mut after = None;
        loop {
            let page = coverage::outreach(store, &PlaceFilter::All, county, after, 7)
                .await
                .unwrap();
            paged.extend(page.iter().map(|r| r.person_id));
            if page.len() < 7 {
                break;
            }
            after = page.last().map(|r| r.person_id);
        }
        assert_eq!(paged, scratch, "{step}: outreach of {county}");
    }
}

#[tokio::test]
async fn coverage_summary_equals_a_recomputation_after_random_writes() {
    let app = spawn_app().await;
    let store = &app.store;
    // A small national population through the product's own import path (lists of five
    // organisations, a survey, the household roster).
    let dir = temp_dir();
    hamdeli::demo_population::seed(store, &dir.0, 400)
        .await
        .unwrap();
    assert_summaries_agree(store, "after the demo imports").await;
    // The summary is not a copy of the old answer by accident: it has persons and gaps.
    let total = coverage::report(store, &PlaceFilter::All, GroupBy::Province, None)
        .await
        .unwrap();
    let persons: i64 = total.iter().map(|r| r.persons).sum();
    let uncovered: i64 = total.iter().map(|r| r.female_heads_uncovered).sum();
    assert!(persons >= 300, "{total:?}");
    assert!(uncovered > 0, "{total:?}");

    let counties: Vec<String> =
        sqlx::query_scalar("SELECT code FROM counties ORDER BY code LIMIT 40")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let mut rng = Lcg(17);
    for round in 0..6 {
        for _ in 0..12 {
            let persons = ids(store, "SELECT id FROM persons WHERE merged_into IS NULL").await;
            let records = ids(store, "SELECT id FROM source_records").await;
            let households = ids(store, "SELECT id FROM households").await;
            let lists = ids(store, "SELECT id FROM source_lists").await;
            let a = rng.pick(&persons);
            let b = rng.pick(&persons);
            match rng.next() % 10 {
                // Linking moves a record to another person.
                0 => {
                    exec(
                        store,
                        "UPDATE source_records SET person_id = $2 WHERE id = $1",
                        rng.pick(&records),
                        b,
                    )
                    .await
                }
                // A merge: the records go to the survivor, the other points at it.
                1 if a != b => {
                    let mut tx = store.begin().await.unwrap();
                    sqlx::query("UPDATE source_records SET person_id = $1 WHERE person_id = $2")
                        .bind(a)
                        .bind(b)
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    sqlx::query("UPDATE persons SET merged_into = $1 WHERE id = $2")
                        .bind(a)
                        .bind(b)
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                }
                // A person moves to another county (of its own province or not).
                2 => {
                    let county = &counties[(rng.next() as usize) % counties.len()];
                    let mut tx = store.begin().await.unwrap();
                    sqlx::query(
                        "UPDATE persons SET county_code = $2, province_code = \
                         (SELECT province_code FROM counties WHERE code = $2) WHERE id = $1",
                    )
                    .bind(a)
                    .bind(county.clone())
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                    tx.commit().await.unwrap();
                }
                // A household becomes female-headed or not, changes zone or head.
                3 => {
                    exec(
                        store,
                        "UPDATE households SET female_head = 1 - female_head WHERE id = $1 AND $2 = $2",
                        rng.pick(&households),
                        0,
                    )
                    .await
                }
                4 => {
                    exec(
                        store,
                        "UPDATE households SET zone = CASE WHEN zone = 'urban' THEN 'rural' ELSE 'urban' END \
                         WHERE id = $1 AND $2 = $2",
                        rng.pick(&households),
                        0,
                    )
                    .await
                }
                5 => {
                    exec(
                        store,
                        "UPDATE households SET head_person_id = $2 WHERE id = $1",
                        rng.pick(&households),
                        a,
                    )
                    .await
                }
                // A person joins a household, or leaves one.
                6 => {
                    let h = rng.pick(&households);
                    exec(
                        store,
                        "DELETE FROM household_members WHERE person_id = $1 AND $2 = $2",
                        a,
                        0,
                    )
                    .await;
                    exec(
                        store,
                        "INSERT INTO household_members (person_id, household_id, relation) \
                         VALUES ($1, $2, 'other')",
                        a,
                        h,
                    )
                    .await
                }
                // A record leaves its list (a correction) or a person's zone changes.
                7 => {
                    exec(
                        store,
                        "UPDATE persons SET zone = CASE WHEN zone = 'rural' THEN 'urban' ELSE 'rural' END \
                         WHERE id = $1 AND $2 = $2",
                        a,
                        0,
                    )
                    .await
                }
                // A person's name is corrected (the outreach list's order changes).
                8 => {
                    exec(
                        store,
                        "UPDATE persons SET last_name = CASE WHEN $2 = 0 THEN 'آبادی' \
                         ELSE 'یزدی' END WHERE id = $1",
                        a,
                        (rng.next() % 2) as i64,
                    )
                    .await
                }
                // A list changes kind (support ↔ survey): everything is recomputed.
                _ if rng.next().is_multiple_of(4) => {
                    exec(
                        store,
                        "UPDATE source_lists SET list_kind = CASE WHEN list_kind = 'support' \
                         THEN 'survey' ELSE 'support' END WHERE id = $1 AND $2 = $2",
                        rng.pick(&lists),
                        0,
                    )
                    .await
                }
                _ => {
                    exec(
                        store,
                        "UPDATE source_records SET list_id = $2 WHERE id = $1",
                        rng.pick(&records),
                        rng.pick(&lists),
                    )
                    .await
                }
            }
        }
        assert_summaries_agree(store, &format!("round {round}")).await;
    }
    // The rebuild command's work gives the same answer, and leaves nothing to refresh.
    hamdeli_store::scale::rebuild(store).await.unwrap();
    assert!(!hamdeli_store::scale::is_dirty(store).await.unwrap());
    assert_summaries_agree(store, "after the rebuild").await;
}

#[tokio::test]
async fn coverage_pages_read_the_summary_and_outreach_pages_by_key() {
    let app = spawn_app().await;
    let dir = temp_dir();
    hamdeli::demo_population::seed(&app.store, &dir.0, 400)
        .await
        .unwrap();
    let admin = app.login("admin").await;
    for path in [
        "/registry/coverage",
        "/registry/coverage?by=county",
        "/registry/coverage?by=zone",
        "/api/v1/coverage",
        "/api/v1/coverage?by=county",
    ] {
        let (status, body) = admin.get_text(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    // The API's national totals are the recomputation's.
    let api: Vec<serde_json::Value> = admin
        .get("/api/v1/coverage?by=county")
        .await
        .json()
        .await
        .unwrap();
    let scratch =
        coverage::report_from_scratch(&app.store, &PlaceFilter::All, GroupBy::County, None)
            .await
            .unwrap();
    assert_eq!(api.len(), scratch.len());
    for (a, s) in api.iter().zip(&scratch) {
        assert_eq!(a["key"], s.key.as_str());
        assert_eq!(a["persons"], s.persons);
        assert_eq!(a["female_heads_uncovered"], s.female_heads_uncovered);
    }
    // The county with the most uncovered female heads: its outreach page shows one page and a
    // link to the next, which goes on after the last row.
    let (county, n): (String, i64) = sqlx::query_as(
        "SELECT county_code, COUNT(*) FROM coverage_persons WHERE female_head = 1 AND orgs = 0 \
         GROUP BY county_code ORDER BY 2 DESC, 1 LIMIT 1",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert!(n > 0);
    let (status, html) = admin
        .get_text(&format!("/registry/coverage/{county}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let shown = html.matches("href=\"/registry/persons/").count() as i64;
    assert_eq!(shown, n.min(100), "one page at most");
    assert_eq!(html.contains("outreach-next"), n > 100);
    // The download holds the whole list.
    let r = admin
        .get(&format!("/registry/coverage/{county}?format=csv"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    assert_eq!(csv.trim_end().lines().count() as i64, n + 1, "{csv}");
}

// ---------------------------------------------------------------------------------------------
// Query plans: the statements the hot pages run, explained on the engine, never scan a large
// table inside a loop (the inner side of a nested loop, or a correlated subquery run per row).

mod plans {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    use tracing::field::{Field, Visit};
    use tracing_subscriber::layer::{Context, SubscriberExt};

    /// Statements seen while capturing (sqlx logs each one at TRACE under `sqlx::query`).
    pub static CAPTURED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    pub static CAPTURING: AtomicBool = AtomicBool::new(false);

    struct Capture;

    struct Statement(Option<String>, Option<String>);

    impl Visit for Statement {
        fn record_str(&mut self, field: &Field, value: &str) {
            match field.name() {
                "db.statement" if !value.trim().is_empty() => self.0 = Some(value.trim().into()),
                "summary" => self.1 = Some(value.into()),
                _ => {}
            }
        }
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            if field.name() == "summary" && self.1.is_none() {
                self.1 = Some(format!("{value:?}").trim_matches('"').to_owned());
            }
        }
    }

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            if !CAPTURING.load(Ordering::Relaxed) || event.metadata().target() != "sqlx::query" {
                return;
            }
            let mut s = Statement(None, None);
            event.record(&mut s);
            if let Some(sql) = s.0.or(s.1) {
                CAPTURED.lock().unwrap().push(sql);
            }
        }
    }

    /// Installs the capturing subscriber for the whole test process; false when another one
    /// was installed first (HAMDELI_TEST_LOG).
    pub fn install() -> bool {
        static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *INSTALLED.get_or_init(|| {
            let subscriber = tracing_subscriber::registry().with(Capture).with(
                tracing_subscriber::filter::Targets::new()
                    .with_target("sqlx::query", tracing::Level::TRACE),
            );
            tracing::subscriber::set_global_default(subscriber).is_ok()
        })
    }
}

/// Tables that grow with the population: a full scan of one inside a loop is the defect.
const LARGE: &[&str] = &[
    "persons",
    "source_records",
    "households",
    "household_members",
    "needs",
    "allocations",
    "support_ledger",
    "audit_log",
    "transparency_log",
    "coverage_persons",
    "link_reviews",
    "import_problems",
    "pledges",
];

/// The highest `$N` of a statement.
fn parameters(sql: &str) -> usize {
    let b = sql.as_bytes();
    let mut max = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if let Ok(n) = sql[i + 1..j].parse::<usize>() {
                max = max.max(n);
            }
            i = j;
        } else {
            i += 1;
        }
    }
    max
}

/// The names a statement reads its tables by: each table, and each alias given to it
/// (`FROM persons p`, `JOIN households AS h`), mapped to the table.
fn aliases(sql: &str) -> Vec<(String, String)> {
    const KEYWORDS: &[&str] = &[
        "WHERE",
        "JOIN",
        "LEFT",
        "INNER",
        "CROSS",
        "ON",
        "GROUP",
        "ORDER",
        "LIMIT",
        "UNION",
        "USING",
        "NATURAL",
        "AND",
        "OR",
        "SET",
        "VALUES",
        "WINDOW",
        "HAVING",
        "NOT",
        "INDEXED",
        "OFFSET",
        "EXCEPT",
        "INTERSECT",
        "RETURNING",
    ];
    let tokens: Vec<String> = sql
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',' || c == ';')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let upper = t.to_ascii_uppercase();
        if upper != "FROM" && upper != "JOIN" {
            continue;
        }
        let Some(table) = tokens.get(i + 1) else {
            continue;
        };
        out.push((table.clone(), table.clone()));
        let mut j = i + 2;
        if tokens.get(j).is_some_and(|t| t.eq_ignore_ascii_case("AS")) {
            j += 1;
        }
        if let Some(alias) = tokens.get(j) {
            let is_name = alias.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if is_name && !KEYWORDS.contains(&alias.to_ascii_uppercase().as_str()) {
                out.push((alias.clone(), table.clone()));
            }
        }
    }
    out
}

/// The large table a SQLite plan line scans in full, if any ("SCAN p" names the alias).
fn large_in(detail: &str, names: &[(String, String)]) -> Option<&'static str> {
    let rest = detail.strip_prefix("SCAN ")?;
    let name = rest.split_whitespace().next()?;
    let tables: Vec<&str> = names
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, t)| t.as_str())
        .chain(std::iter::once(name))
        .collect();
    LARGE.iter().copied().find(|t| tables.contains(t))
}

/// SQLite: `EXPLAIN QUERY PLAN` rows (id, parent, detail); a SCAN of a large table under a
/// CORRELATED subquery, or not the first loop of its join, is a scan inside a loop.
fn sqlite_violations(rows: &[(i64, i64, String)], names: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    let parent_of = |id: i64| rows.iter().find(|r| r.0 == id).map(|r| r.1);
    let detail_of = |id: i64| rows.iter().find(|r| r.0 == id).map(|r| r.2.as_str());
    for (id, parent, detail) in rows {
        let Some(table) = large_in(detail, names) else {
            continue;
        };
        // Inside a correlated subquery (any ancestor)?
        let mut p = Some(*parent);
        let mut correlated = false;
        while let Some(pid) = p.filter(|x| *x != 0) {
            if detail_of(pid).is_some_and(|d| d.starts_with("CORRELATED")) {
                correlated = true;
            }
            p = parent_of(pid);
        }
        // The inner loop of a join: an earlier sibling loop under the same parent.
        let inner = rows.iter().any(|(oid, opar, od)| {
            opar == parent && oid < id && (od.starts_with("SCAN ") || od.starts_with("SEARCH "))
        });
        if correlated || inner {
            out.push(format!(
                "SCAN {table} {}",
                if correlated {
                    "in a correlated subquery"
                } else {
                    "as the inner loop of a join"
                }
            ));
        }
    }
    out
}

/// PostgreSQL: a Seq Scan of a large table on the inner side of a Nested Loop or in a SubPlan.
fn postgres_violations(node: &serde_json::Value, in_loop: bool, out: &mut Vec<String>) {
    let kind = node["Node Type"].as_str().unwrap_or("");
    // An index walked whole (no condition on its key, or only `IS NOT NULL`, as PostgreSQL
    // does for a MIN()/MAX() it answers from another index) is a full scan as well.
    let whole_index = (kind == "Index Scan" || kind == "Index Only Scan")
        && node["Index Cond"]
            .as_str()
            .is_none_or(|c| c.trim_matches(['(', ')']).ends_with("IS NOT NULL"));
    if (kind == "Seq Scan" || whole_index)
        && in_loop
        && let Some(t) = node["Relation Name"].as_str().filter(|t| LARGE.contains(t))
    {
        out.push(format!("{kind} on {t} inside a loop"));
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        let rel = child["Parent Relationship"].as_str().unwrap_or("");
        let looped = in_loop || rel == "SubPlan" || (kind == "Nested Loop" && rel == "Inner");
        postgres_violations(child, looped, out);
    }
}

/// PostgreSQL's YAML plan (text: the Any driver reads no JSON column) as the JSON shape of
/// `EXPLAIN (FORMAT JSON)`'s plan: each node's type, parent relationship, relation and plans,
/// nested by indentation.
fn yaml_plan(yaml: &str) -> serde_json::Value {
    // (indent of the node's keys, node) for the open nodes, outermost first.
    let mut open: Vec<(usize, serde_json::Value)> = Vec::new();
    let mut root = serde_json::Value::Null;
    for line in yaml.lines() {
        let trimmed = line.trim_start_matches([' ', '-']);
        let indent = line.len() - trimmed.len();
        let Some((key, value)) = trimmed.split_once(':') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        if key == "Node Type" {
            while open.last().is_some_and(|(i, _)| *i >= indent) {
                let (_, node) = open.pop().expect("an open node");
                match open.last_mut() {
                    Some((_, parent)) => parent["Plans"]
                        .as_array_mut()
                        .expect("plans of a node")
                        .push(node),
                    None => root = node,
                }
            }
            open.push((
                indent,
                serde_json::json!({ "Node Type": value, "Plans": [] }),
            ));
        } else if (key == "Parent Relationship" || key == "Relation Name" || key == "Index Cond")
            && let Some((i, node)) = open.last_mut()
            && *i == indent
        {
            node[key] = serde_json::Value::String(value.to_owned());
        }
    }
    while let Some((_, node)) = open.pop() {
        match open.last_mut() {
            Some((_, parent)) => parent["Plans"]
                .as_array_mut()
                .expect("plans of a node")
                .push(node),
            None => root = node,
        }
    }
    root
}

/// Explains each statement on the store's engine; the statements whose plans scan a large
/// table inside a loop, with why.
async fn plan_violations(
    store: &hamdeli_store::Store,
    statements: &[String],
) -> (Vec<String>, usize) {
    let mut conn = store.pool().acquire().await.unwrap();
    let mut bad = Vec::new();
    let mut explained = 0;
    let postgres = store.engine() == hamdeli_store::Engine::Postgres;
    if postgres {
        // Plans as for a large table (the test's tables are small: a sequential scan would
        // win on cost alone) and without the values (a generic plan).
        sqlx::query("SET enable_seqscan = off")
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query("SET plan_cache_mode = force_generic_plan")
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    for (i, sql) in statements.iter().enumerate() {
        let n = parameters(sql);
        let found = if postgres {
            let prepared = sqlx::query(sqlx::AssertSqlSafe(format!(
                "PREPARE scale_plan_{i} AS {sql}"
            )))
            .execute(&mut *conn)
            .await;
            if prepared.is_err() {
                // A parameter whose type the statement alone does not say: not explainable
                // without its values; the SQLite run explains it.
                continue;
            }
            let args = vec!["NULL"; n].join(", ");
            let exec = if n == 0 {
                format!("EXPLAIN (FORMAT YAML) EXECUTE scale_plan_{i}")
            } else {
                format!("EXPLAIN (FORMAT YAML) EXECUTE scale_plan_{i}({args})")
            };
            let plan: String = sqlx::query_scalar(sqlx::AssertSqlSafe(exec))
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("DEALLOCATE scale_plan_{i}")))
                .execute(&mut *conn)
                .await
                .unwrap();
            let mut out = Vec::new();
            postgres_violations(&yaml_plan(&plan), false, &mut out);
            out
        } else {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")));
            for _ in 0..n {
                q = q.bind(Option::<i64>::None);
            }
            let Ok(rows) = q.fetch_all(&mut *conn).await else {
                continue;
            };
            use sqlx::Row;
            let rows: Vec<(i64, i64, String)> = rows
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(3)))
                .collect();
            sqlite_violations(&rows, &aliases(sql))
        };
        explained += 1;
        for v in found {
            bad.push(format!("{v}:\n    {sql}"));
        }
    }
    if postgres {
        sqlx::query("RESET ALL").execute(&mut *conn).await.unwrap();
    }
    (bad, explained)
}

#[test]
fn the_plan_rules_catch_a_scan_in_a_loop() {
    // SQLite: a correlated subquery scanning households (what the coverage report did).
    let rows = vec![
        (3, 0, "SCAN persons".to_owned()),
        (10, 0, "CORRELATED SCALAR SUBQUERY 1".to_owned()),
        (14, 10, "SCAN households".to_owned()),
    ];
    let names = aliases("SELECT p.id FROM persons p LEFT JOIN households AS h ON h.id = p.id");
    assert!(
        names.contains(&("h".to_owned(), "households".to_owned())),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|(n, _)| n == "ON" || n == "LEFT"),
        "{names:?}"
    );
    assert_eq!(sqlite_violations(&rows, &names).len(), 1);
    // By alias, as SQLite names them.
    let rows = vec![
        (2, 0, "SCAN p USING COVERING INDEX persons_place".to_owned()),
        (10, 0, "CORRELATED SCALAR SUBQUERY 1".to_owned()),
        (14, 10, "SCAN h".to_owned()),
    ];
    assert_eq!(
        sqlite_violations(&rows, &names),
        ["SCAN households in a correlated subquery"]
    );
    // The inner loop of a join.
    let rows = vec![
        (
            2,
            0,
            "SEARCH needs USING INDEX needs_place (province_code=?)".to_owned(),
        ),
        (5, 0, "SCAN persons".to_owned()),
    ];
    assert_eq!(sqlite_violations(&rows, &[]).len(), 1);
    // An outer scan, and index searches inside loops, are fine.
    let rows = vec![
        (2, 0, "SCAN coverage_summary".to_owned()),
        (
            3,
            0,
            "SEARCH persons USING INTEGER PRIMARY KEY (rowid=?)".to_owned(),
        ),
        (10, 0, "CORRELATED SCALAR SUBQUERY 1".to_owned()),
        (
            14,
            10,
            "SEARCH source_records USING INDEX source_records_person (person_id=?)".to_owned(),
        ),
    ];
    assert!(sqlite_violations(&rows, &[]).is_empty());
    // PostgreSQL: a Seq Scan in a SubPlan, or on the inner side of a Nested Loop.
    let plan = serde_json::json!({"Node Type": "Seq Scan", "Relation Name": "persons",
        "Plans": [{"Node Type": "Seq Scan", "Relation Name": "households", "Parent Relationship": "SubPlan"}]});
    let mut out = Vec::new();
    postgres_violations(&plan, false, &mut out);
    assert_eq!(out, ["Seq Scan on households inside a loop"]);
    let plan = serde_json::json!({"Node Type": "Nested Loop", "Plans": [
        {"Node Type": "Index Scan", "Relation Name": "needs", "Parent Relationship": "Outer"},
        {"Node Type": "Seq Scan", "Relation Name": "source_records", "Parent Relationship": "Inner"}]});
    let mut out = Vec::new();
    postgres_violations(&plan, false, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(parameters("SELECT $1, $12 FROM t WHERE x = $3"), 12);
    // The households' primary key walked whole per row (a MIN() PostgreSQL answered by order).
    let plan = serde_json::json!({"Node Type": "Index Scan", "Relation Name": "households",
        "Index Cond": "(id = (SubPlan 3))", "Plans": [{"Node Type": "Result", "Parent Relationship": "SubPlan",
        "Plans": [{"Node Type": "Index Scan", "Relation Name": "households", "Parent Relationship": "Outer",
        "Index Cond": "(id IS NOT NULL)"}]}]});
    let mut out = Vec::new();
    postgres_violations(&plan, false, &mut out);
    assert_eq!(out, ["Index Scan on households inside a loop"]);
    // PostgreSQL's YAML plan read back as a tree.
    let yaml = "- Plan: \n    Node Type: \"Seq Scan\"\n    Relation Name: \"persons\"\n    Plans: \n      - Node Type: \"Aggregate\"\n        Parent Relationship: \"SubPlan\"\n        Plans: \n          - Node Type: \"Seq Scan\"\n            Parent Relationship: \"Outer\"\n            Relation Name: \"households\"\n";
    let mut out = Vec::new();
    postgres_violations(&yaml_plan(yaml), false, &mut out);
    assert_eq!(out, ["Seq Scan on households inside a loop"]);
}

/// The hot pages' statements, as the pages run them, explained on the engine.
#[tokio::test]
async fn hot_queries_never_scan_a_large_table_inside_a_loop() {
    if !plans::install() {
        eprintln!("another tracing subscriber was installed first: plans not captured");
        return;
    }
    let app = spawn_app().await;
    let dir = temp_dir();
    hamdeli::demo_population::seed(&app.store, &dir.0, 300)
        .await
        .unwrap();
    hamdeli::demo_distribution::seed(&app.store).await.unwrap();
    let admin = app.login("admin").await;
    let officer = app.login("tehran.officer").await;
    let partner = app.login("relief.partner").await;
    // Warm: the summaries are folded in before capture (the fold is a write, not a page read).
    admin.get("/registry/coverage").await;
    let pages: &[(&crate::support::Client, &str)] = &[
        (&admin, "/registry/coverage"),
        (&admin, "/registry/coverage?by=county"),
        (&admin, "/registry/coverage/2301"),
        (&admin, "/api/v1/coverage?by=zone"),
        (&officer, "/registry/coverage?by=county"),
        (&admin, "/support/double"),
        (&partner, "/support/double"),
        (&admin, "/needs"),
        (&admin, "/needs?by=county"),
        (&officer, "/needs"),
        (&admin, "/deliveries"),
        (&admin, "/registry"),
        (&admin, "/registry?q=%D8%B2%D9%87%D8%B1%D8%A7"),
        (&admin, "/registry/reviews"),
        (&admin, "/admin/audit"),
        (&admin, "/transparency"),
        (&admin, "/api/v1/transparency"),
        (&admin, "/campaigns/1/allocate"),
    ];
    plans::CAPTURED.lock().unwrap().clear();
    plans::CAPTURING.store(true, std::sync::atomic::Ordering::Relaxed);
    for (client, path) in pages {
        let r = client.get(path).await;
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }
    plans::CAPTURING.store(false, std::sync::atomic::Ordering::Relaxed);
    let mut statements: Vec<String> = plans::CAPTURED.lock().unwrap().clone();
    statements.sort();
    statements.dedup();
    // Reads only (writes are the audit entries and sessions), and not this test's own.
    statements.retain(|s| {
        let head = s.trim_start().to_ascii_uppercase();
        (head.starts_with("SELECT") || head.starts_with("WITH")) && !head.contains("EXPLAIN")
    });
    assert!(
        statements.len() >= 10,
        "the pages' statements were captured: {statements:?}"
    );
    assert!(
        statements.iter().any(|s| s.contains("coverage_summary")),
        "{statements:?}"
    );
    let (bad, explained) = plan_violations(&app.store, &statements).await;
    eprintln!(
        "{} statements of the hot pages, {explained} explained on {}",
        statements.len(),
        app.store.engine().name()
    );
    assert!(
        explained * 4 >= statements.len() * 3,
        "most are explainable"
    );
    assert!(
        bad.is_empty(),
        "full scans inside loops:\n{}",
        bad.join("\n")
    );
    // And a lookup per person without an index (what the coverage report did with households
    // by head) is caught on this engine: the rules have teeth.
    let without_index = match app.store.engine() {
        hamdeli_store::Engine::Sqlite => {
            "SELECT p.id, (SELECT COUNT(*) FROM households h NOT INDEXED \
             WHERE h.head_person_id = p.id) FROM persons p"
        }
        hamdeli_store::Engine::Postgres => {
            "SELECT p.id, (SELECT COUNT(*) FROM households h WHERE h.address = p.first_name) \
             FROM persons p"
        }
    };
    let (bad, _) = plan_violations(&app.store, &[without_index.to_owned()]).await;
    assert_eq!(bad.len(), 1, "{bad:?}");
}

// ---------------------------------------------------------------------------------------------
// Lists that grow page by key: each page starts after the last row of the one before, never
// by OFFSET, and the pages together are the whole list in its order.

#[tokio::test]
async fn growing_lists_page_by_key_and_render_one_page() {
    let app = spawn_app().await;
    let store = &app.store;
    let dir = temp_dir();
    hamdeli::demo_population::seed(store, &dir.0, 400)
        .await
        .unwrap();
    hamdeli::demo_distribution::seed(store).await.unwrap();
    // More needs than a page, in Tehran's first county.
    hamdeli_store::bench::verified_needs(store, "23", "2301", "food", 250)
        .await
        .unwrap();

    // Needs: most urgent first, then oldest; pages of 7 walk the whole list.
    let q = hamdeli_store::needs::NeedQuery::default();
    for filter in [PlaceFilter::All, PlaceFilter::County("2301".into())] {
        let whole: Vec<i64> = hamdeli_store::needs::list(store, &filter, &q, 100_000)
            .await
            .unwrap()
            .iter()
            .map(|n| n.id)
            .collect();
        let mut paged = Vec::new();
        let mut after = None;
        loop {
            let page = hamdeli_store::needs::list_after(store, &filter, &q, after, 7)
                .await
                .unwrap();
            paged.extend(page.iter().map(|n| n.id));
            match page.last() {
                Some(n) if page.len() == 7 => {
                    after = Some((hamdeli_store::needs::urgency_rank(&n.urgency), n.id))
                }
                _ => break,
            }
        }
        assert!(whole.len() > 250, "{}", whole.len());
        assert_eq!(paged, whole, "needs of {filter:?}");
    }

    // Deliveries (allocations by status), by id.
    for status in ["pending", "delivered"] {
        let whole: Vec<i64> =
            hamdeli_store::distribution::allocations(store, &PlaceFilter::All, status, 10_000)
                .await
                .unwrap()
                .iter()
                .map(|a| a.id)
                .collect();
        let mut paged = Vec::new();
        let mut after = None;
        loop {
            let page = hamdeli_store::distribution::allocations_after(
                store,
                &PlaceFilter::All,
                status,
                after,
                5,
            )
            .await
            .unwrap();
            paged.extend(page.iter().map(|a| a.id));
            if page.len() < 5 {
                break;
            }
            after = page.last().map(|a| a.id);
        }
        assert!(!whole.is_empty(), "{status}");
        assert_eq!(paged, whole, "{status} deliveries");
    }

    // Reviews: likeliest first, then by id.
    let whole: Vec<i64> =
        hamdeli_store::persons::reviews(store, &PlaceFilter::All, "open", 100_000)
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page =
            hamdeli_store::persons::reviews_after(store, &PlaceFilter::All, "open", after, 3)
                .await
                .unwrap();
        paged.extend(page.iter().map(|r| r.id));
        if page.len() < 3 {
            break;
        }
        after = page.last().map(|r| r.id);
    }
    assert_eq!(paged, whole, "reviews");

    // The pages: at most one page of rows, and a next link that goes on where it ended.
    let expert = app.login("tehran.expert").await;
    let (status, first) = expert.get_text("/needs").await;
    assert_eq!(status, StatusCode::OK);
    let rows = |html: &str| html.matches("/card\">").count();
    assert_eq!(rows(&first), 100, "one page of needs");
    let next = first
        .split("data-testid=\"needs-next\"")
        .next()
        .and_then(|h| h.rsplit("href=\"").next())
        .and_then(|h| h.split('"').next())
        .expect("a next link")
        .replace("&amp;", "&");
    let (status, second) = expert.get_text(&next).await;
    assert_eq!(status, StatusCode::OK, "{next}");
    assert!(rows(&second) > 0 && rows(&second) <= 100);
    let ids = |html: &str| -> Vec<String> {
        html.split("/registry/persons/")
            .skip(1)
            .filter_map(|s| s.split('/').next().map(str::to_owned))
            .collect()
    };
    let (a, b) = (ids(&first), ids(&second));
    assert!(
        a.last() != b.first() || a.len() < 2,
        "the second page starts after the first"
    );
    let admin = app.login("admin").await;
    for path in [
        "/deliveries",
        "/deliveries?status=delivered",
        "/registry/reviews",
    ] {
        let (status, _) = admin.get_text(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
}

/// Every unmerged person's display values and place, by id.
async fn display_values(store: &hamdeli_store::Store) -> Vec<Vec<Option<String>>> {
    sqlx::query(
        "SELECT national_code, first_name, last_name, father_name, birth_date, gender, phone, \
         province_code, county_code, CAST(id AS TEXT) FROM persons ORDER BY id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| {
        use sqlx::Row;
        (0..10).map(|i| r.get::<Option<String>, _>(i)).collect()
    })
    .collect()
}

#[tokio::test]
async fn the_summaries_are_exact_right_after_an_import_and_the_first_report_refreshes_nothing() {
    let app = spawn_app().await;
    let store = &app.store;
    let dir = temp_dir();
    // The first import folds in everything (a new database is dirty everywhere), the later
    // ones the places they touched; each at the end of its own import job.
    hamdeli::demo_population::seed(store, &dir.0, 400)
        .await
        .unwrap();
    assert!(
        !hamdeli_store::scale::is_dirty(store).await.unwrap(),
        "an import leaves places for the first report to refresh"
    );
    // Read before anything refreshes them: the tables equal a recomputation from scratch.
    assert_summaries_agree(store, "right after the demo imports").await;
    let refreshed = hamdeli_store::scale::refresh(store).await.unwrap();
    assert_eq!(refreshed, hamdeli_store::scale::Refreshed::default());
}

#[tokio::test]
async fn many_persons_refreshed_in_one_statement_get_the_values_one_by_one_gives() {
    let app = spawn_app().await;
    let store = &app.store;
    let dir = temp_dir();
    hamdeli::demo_population::seed(store, &dir.0, 400)
        .await
        .unwrap();
    // Some records without a county or a place, so the place rule's fallbacks are used.
    let mut tx = store.begin().await.unwrap();
    sqlx::query("UPDATE source_records SET county_code = NULL WHERE id % 7 = 0")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE source_records SET county_code = NULL, province_code = NULL WHERE id % 11 = 0",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query("UPDATE source_records SET first_name = '' WHERE id % 5 = 0")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let persons: Vec<i64> = ids(store, "SELECT id FROM persons ORDER BY id").await;
    assert!(persons.len() >= 300);
    let mut tx = store.begin().await.unwrap();
    for p in &persons {
        hamdeli_store::persons::refresh_person(&mut tx, *p)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let one_by_one = display_values(store).await;
    let mut tx = store.begin().await.unwrap();
    sqlx::query(
        "UPDATE persons SET national_code = 'x', first_name = NULL, last_name = 'x', \
         father_name = NULL, birth_date = 'x', gender = NULL, phone = 'x', province_code = NULL, \
         county_code = NULL",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    hamdeli_store::persons::refresh_persons(&mut tx, store.engine(), &persons, 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(display_values(store).await, one_by_one);
}

/// Persons, households and members of a registry.
async fn registry_shape(store: &hamdeli_store::Store) -> (i64, i64, i64) {
    let persons: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM persons WHERE merged_into IS NULL")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let (households, members) = hamdeli_store::persons::household_totals(store)
        .await
        .unwrap();
    (persons, households, members)
}

#[tokio::test]
async fn the_bulk_loaded_demo_makes_the_registry_the_linked_demo_makes() {
    use hamdeli::demo_population::{Load, seed_as};
    let people = 1_500;
    let linked_app = spawn_app().await;
    let linked_dir = temp_dir();
    let linked = seed_as(&linked_app.store, &linked_dir.0, people, Load::Linked)
        .await
        .unwrap();
    let bulk_app = spawn_app().await;
    let bulk_dir = temp_dir();
    let bulk = seed_as(&bulk_app.store, &bulk_dir.0, people, Load::Bulk)
        .await
        .unwrap();
    assert!(linked.relinked.is_none() && !linked.bulk);
    let relinked = bulk.relinked.as_ref().expect("the bulk load relinks once");
    // Every row of every list went in, as in the linked load.
    assert_eq!(linked.lists.len(), bulk.lists.len());
    for (a, b) in linked.lists.iter().zip(&bulk.lists) {
        assert_eq!(
            (&a.name, a.rows_in, a.accepted, a.rejected),
            (&b.name, b.rows_in, b.accepted, b.rejected)
        );
        assert_eq!(b.rows_in, b.accepted + b.rejected);
    }
    let accepted: i64 = bulk.lists.iter().map(|l| l.accepted).sum();
    assert_eq!(
        relinked.records as i64, accepted,
        "the relink saw every record"
    );
    let (lp, lh, lm) = registry_shape(&linked_app.store).await;
    let (bp, bh, bm) = registry_shape(&bulk_app.store).await;
    // The households come from the roster either way; linkage in one pass may decide a few
    // borderline pairs otherwise than list by list.
    assert!(bh > 0 && bm > 0);
    assert_eq!((lh, lm), (bh, bm), "households and members");
    assert!(
        (lp - bp).abs() * 100 <= lp,
        "persons: linked {lp}, bulk {bp} (more than 1% apart)"
    );
    assert!(
        !hamdeli_store::scale::is_dirty(&bulk_app.store)
            .await
            .unwrap()
    );
    assert_summaries_agree(&bulk_app.store, "after the bulk-loaded demo").await;
}

#[tokio::test]
async fn a_big_household_list_clears_the_heads_who_moved_out_in_one_statement() {
    let app = spawn_app().await;
    let store = &app.store;
    let dir = temp_dir();
    // 2,500 people: the household roster names more members than the chunked path takes
    // (the survey's female heads made households first; the roster moves them to theirs).
    hamdeli::demo_population::seed(store, &dir.0, 2_500)
        .await
        .unwrap();
    let heads_elsewhere: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM households h WHERE h.head_person_id IS NOT NULL AND NOT EXISTS \
         (SELECT 1 FROM household_members m WHERE m.person_id = h.head_person_id \
         AND m.household_id = h.id)",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(
        heads_elsewhere, 0,
        "a household is headed by someone living elsewhere"
    );
    let headless: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM households WHERE head_person_id IS NULL")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(headless > 0, "no head moved out: the test does not test");
    assert!(!hamdeli_store::scale::is_dirty(store).await.unwrap());
    assert_summaries_agree(store, "after a big household list").await;
}

/// The need summary (migration 0027) row by row, and what a recomputation from every need gives.
async fn need_summary_and_scratch(
    store: &hamdeli_store::Store,
) -> (
    Vec<(String, String, String, Vec<i64>)>,
    Vec<(String, String, String, Vec<i64>)>,
) {
    let read = |rows: Vec<sqlx::any::AnyRow>| {
        use sqlx::Row;
        let mut out: Vec<(String, String, String, Vec<i64>)> = rows
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    (3..8).map(|i| r.get::<i64, _>(i)).collect(),
                )
            })
            .collect();
        out.sort();
        out
    };
    let kept = sqlx::query(
        "SELECT grp_kind, grp, need_type, needs, persons, amount, allocated, outstanding \
         FROM need_summary",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let scratch = sqlx::query(sqlx::AssertSqlSafe(
        hamdeli_store::scale::need_summary_recomputed(),
    ))
    .fetch_all(store.pool())
    .await
    .unwrap();
    (read(kept), read(scratch))
}

/// How much of the distribution a database holds: needs, allocations by status, pools'
/// allocated units and received donations.
async fn distribution_counts(store: &hamdeli_store::Store) -> Vec<i64> {
    let mut out = vec![];
    for sql in [
        "SELECT COUNT(*) FROM needs",
        "SELECT COUNT(*) FROM allocations",
        "SELECT COUNT(*) FROM allocations WHERE status = 'delivered'",
        "SELECT COUNT(*) FROM allocations WHERE status = 'failed'",
        "SELECT COUNT(*) FROM allocation_batches",
        "SELECT CAST(COALESCE(SUM(allocated), 0) AS BIGINT) FROM campaign_pools",
        "SELECT COUNT(*) FROM campaigns",
        "SELECT COUNT(*) FROM pledges WHERE status = 'received'",
    ] {
        out.push(
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(store.pool())
                .await
                .unwrap(),
        );
    }
    out
}

#[tokio::test]
async fn a_demo_distribution_stopped_after_its_campaigns_goes_on_and_a_finished_one_adds_nothing() {
    // Straight through.
    let straight = spawn_app().await;
    let dir = temp_dir();
    hamdeli::demo_population::seed(&straight.store, &dir.0, 300)
        .await
        .unwrap();
    let report = hamdeli::demo_distribution::seed(&straight.store)
        .await
        .unwrap();
    let full = distribution_counts(&straight.store).await;
    assert!(report.allocations > 0 && report.delivered > 0, "{report:?}");
    assert_eq!(full[1], report.allocations);
    assert_eq!(full[2], report.delivered);
    // Again: nothing more.
    let again = hamdeli::demo_distribution::seed(&straight.store)
        .await
        .unwrap();
    assert_eq!((again.needs, again.allocations, again.delivered), (0, 0, 0));
    assert_eq!(distribution_counts(&straight.store).await, full);

    // Stopped after the campaigns (before any allocation), then run again: the same as
    // straight through.
    let stopped = spawn_app().await;
    let dir = temp_dir();
    hamdeli::demo_population::seed(&stopped.store, &dir.0, 300)
        .await
        .unwrap();
    let mut half = hamdeli::demo_distribution::DistributionReport::default();
    let admin = Some(stopped.user_ids["admin"]);
    let today = hamdeli_locale::clock::iran_today(hamdeli_store::now_millis());
    let days = hamdeli_locale::clock::days_from_civil(today);
    hamdeli::demo_distribution::seed_needs_and_campaigns(
        &stopped.store,
        &mut half,
        admin,
        hamdeli_locale::clock::civil_from_days(days - 30),
        hamdeli_locale::clock::civil_from_days(days + 60),
    )
    .await
    .unwrap();
    let before = distribution_counts(&stopped.store).await;
    assert_eq!(before[0], full[0], "the needs are all there");
    assert_eq!(before[1], 0, "no allocation yet");
    let resumed = hamdeli::demo_distribution::seed(&stopped.store)
        .await
        .unwrap();
    assert_eq!(resumed.needs, 0, "the needs are not made twice");
    assert_eq!(resumed.allocations, report.allocations);
    assert_eq!(distribution_counts(&stopped.store).await, full);
    let (kept, scratch) = need_summary_and_scratch(&stopped.store).await;
    assert_eq!(kept, scratch);
}

/// The filed columns of needs, sorted: (person, household, type, amount, urgency, status,
/// province, county, zone, created by).
async fn filed_needs(store: &hamdeli_store::Store, ids: &[i64]) -> Vec<String> {
    use sqlx::Row;
    let mut out = vec![];
    for id in ids {
        let r = sqlx::query(
            "SELECT person_id, household_id, need_type, amount, urgency, status, province_code, \
             county_code, zone, created_by, allocated FROM needs WHERE id = $1",
        )
        .bind(*id)
        .fetch_one(store.pool())
        .await
        .unwrap();
        out.push(format!(
            "{} {:?} {} {} {} {} {:?} {:?} {:?} {:?} {}",
            r.get::<i64, _>(0),
            r.get::<Option<i64>, _>(1),
            r.get::<String, _>(2),
            r.get::<i64, _>(3),
            r.get::<String, _>(4),
            r.get::<String, _>(5),
            r.get::<Option<String>, _>(6),
            r.get::<Option<String>, _>(7),
            r.get::<Option<String>, _>(8),
            r.get::<Option<i64>, _>(9),
            r.get::<i64, _>(10),
        ));
    }
    out.sort();
    out
}

#[tokio::test]
async fn needs_made_in_a_batch_are_filed_as_one_at_a_time() {
    use hamdeli_domain::needs::{NeedStatus, Urgency};
    use hamdeli_store::StoreError;
    use hamdeli_store::needs::{self, NewNeed};
    let app = spawn_app().await;
    let store = &app.store;
    let dir = temp_dir();
    hamdeli::demo_population::seed(store, &dir.0, 200)
        .await
        .unwrap();
    // Heads of households (filed under the household's place) and persons in no household
    // (filed under their own).
    let heads = ids(
        store,
        "SELECT DISTINCT m.person_id FROM household_members m JOIN persons p ON p.id = m.person_id \
         WHERE p.merged_into IS NULL ORDER BY m.person_id LIMIT 12",
    )
    .await;
    assert_eq!(heads.len(), 12);
    let mut alone = vec![];
    for (i, zone) in ["urban", "rural", "urban"].iter().enumerate() {
        alone.push(
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO persons (province_code, county_code, zone, first_name, last_name, \
                 created_at, updated_at) SELECT province_code, code, $1, $2, 'تنها', 0, 0 \
                 FROM counties ORDER BY code LIMIT 1 RETURNING id",
            )
            .bind(zone.to_string())
            .bind(format!("مریم{i}"))
            .fetch_one(store.pool())
            .await
            .unwrap(),
        );
    }
    let types = ["food", "medical", "rent_housing"];
    let list: Vec<NewNeed> = heads
        .iter()
        .chain(&alone)
        .enumerate()
        .map(|(i, &person)| NewNeed {
            person_id: person,
            need_type: types[i % 3].into(),
            amount: 1 + i as i64,
            urgency: if i % 4 == 0 {
                Urgency::Critical
            } else {
                Urgency::Normal
            },
            note: Some(format!("یادداشت {i}")),
        })
        .collect();
    let admin = Some(app.user_ids["admin"]);
    let mut tx = store.begin().await.unwrap();
    let mut one_by_one = vec![];
    for n in &list {
        one_by_one.push(needs::create_need(&mut tx, n, admin).await.unwrap());
    }
    let batch = needs::create_needs(&mut tx, &list, admin).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(batch.len(), list.len());
    assert!(
        batch.windows(2).all(|w| w[0] < w[1]),
        "ascending: {batch:?}"
    );
    assert_eq!(
        filed_needs(store, &batch).await,
        filed_needs(store, &one_by_one).await
    );
    let households: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM needs WHERE household_id IS NOT NULL AND id IN ({})",
        batch
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    )))
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(households, heads.len() as i64);

    // Verified at once, as one at a time: only open needs change.
    let mut tx = store.begin().await.unwrap();
    for id in &one_by_one[..5] {
        needs::set_status(&mut tx, *id, NeedStatus::Verified, admin)
            .await
            .unwrap();
    }
    needs::set_status(&mut tx, batch[5], NeedStatus::Closed, admin)
        .await
        .unwrap();
    assert_eq!(
        needs::verify_needs(&mut tx, &batch[..6], admin)
            .await
            .unwrap(),
        5
    );
    assert_eq!(
        needs::verify_needs(&mut tx, &batch[..6], admin)
            .await
            .unwrap(),
        0
    );
    tx.commit().await.unwrap();
    let filed_a = filed_needs(store, &one_by_one[..5]).await;
    assert_eq!(filed_needs(store, &batch[..5]).await, filed_a);
    assert!(
        filed_a.iter().all(|r| r.contains(" verified ")),
        "{filed_a:?}"
    );

    // All or nothing: one bad need fails the list and writes none of it.
    let before = ids(store, "SELECT id FROM needs").await.len();
    for (bad, error) in [
        (
            NewNeed {
                need_type: "no-such-type".into(),
                ..list[0].clone()
            },
            "need-type-unknown",
        ),
        (
            NewNeed {
                amount: 0,
                ..list[0].clone()
            },
            "need-amount-positive",
        ),
        (
            NewNeed {
                person_id: i64::MAX,
                ..list[0].clone()
            },
            "not found",
        ),
    ] {
        let mut with_bad = list.clone();
        with_bad.push(bad);
        let mut tx = store.begin().await.unwrap();
        let e = needs::create_needs(&mut tx, &with_bad, admin)
            .await
            .unwrap_err();
        tx.rollback().await.unwrap();
        match (&e, error) {
            (StoreError::Invalid(code), _) => assert_eq!(*code, error),
            (StoreError::NotFound, "not found") => {}
            _ => panic!("{error}: {e:?}"),
        }
    }
    assert_eq!(ids(store, "SELECT id FROM needs").await.len(), before);
    let (kept, scratch) = need_summary_and_scratch(store).await;
    assert_eq!(kept, scratch);
}

#[tokio::test]
async fn need_summary_equals_a_recomputation_after_random_writes() {
    use hamdeli_domain::needs::{NeedStatus, Urgency};
    use hamdeli_store::needs::{self, NeedGroup, NeedQuery, NewNeed};
    let app = spawn_app().await;
    let store = &app.store;
    let dir = temp_dir();
    hamdeli::demo_population::seed(store, &dir.0, 300)
        .await
        .unwrap();
    // Needs, campaigns, committed allocations and deliveries through the product's paths.
    hamdeli::demo_distribution::seed(store).await.unwrap();
    let delivered: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM allocations WHERE status = 'delivered'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert!(delivered > 0);
    let (kept, scratch) = need_summary_and_scratch(store).await;
    assert_eq!(kept, scratch, "after the demo distribution");
    let counties: Vec<String> =
        sqlx::query_scalar("SELECT code FROM counties ORDER BY code LIMIT 30")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let types = ["food", "rent_housing", "medical"];
    let mut rng = Lcg(27);
    for round in 0..8 {
        for _ in 0..15 {
            let persons = ids(store, "SELECT id FROM persons WHERE merged_into IS NULL").await;
            let all_needs = ids(store, "SELECT id FROM needs").await;
            // A few persons: some get several needs of one type and place.
            let a = rng.pick(&persons[..persons.len().min(25)]);
            let op = if all_needs.is_empty() {
                0
            } else {
                rng.next() % 15
            };
            let need = all_needs.first().map(|_| rng.pick(&all_needs)).unwrap_or(0);
            match op {
                // Several needs created in one statement (the bulk path), some verified at once:
                // two to four persons, each with one or two needs of one type.
                12 | 14 => {
                    let list: Vec<NewNeed> = (0..2 + rng.next() % 3)
                        .flat_map(|_| {
                            let person = rng.pick(&persons[..persons.len().min(25)]);
                            let need_type = types[(rng.next() as usize) % types.len()];
                            let amount = 1 + (rng.next() % 9) as i64;
                            (0..1 + rng.next() % 2).map(move |_| NewNeed {
                                person_id: person,
                                need_type: need_type.into(),
                                amount,
                                urgency: Urgency::Normal,
                                note: None,
                            })
                        })
                        .collect();
                    let mut tx = store.begin().await.unwrap();
                    let made = needs::create_needs(&mut tx, &list, None).await.unwrap();
                    assert_eq!(made.len(), list.len());
                    let chosen: Vec<i64> = made.iter().copied().step_by(2).collect();
                    let verified = needs::verify_needs(&mut tx, &chosen, None).await.unwrap();
                    assert_eq!(verified, chosen.len() as u64);
                    tx.commit().await.unwrap();
                }
                // A need created (the product's own path), sometimes verified.
                0 | 1 | 11 => {
                    let mut tx = store.begin().await.unwrap();
                    let id = needs::create_need(
                        &mut tx,
                        &NewNeed {
                            person_id: a,
                            need_type: types[(rng.next() as usize) % types.len()].into(),
                            amount: 1 + (rng.next() % 9) as i64,
                            urgency: Urgency::Normal,
                            note: None,
                        },
                        None,
                    )
                    .await
                    .unwrap();
                    if rng.next().is_multiple_of(2) {
                        needs::set_status(&mut tx, id, NeedStatus::Verified, None)
                            .await
                            .unwrap();
                    }
                    tx.commit().await.unwrap();
                }
                // Closed by hand (or refused when already closed).
                2 | 9 => {
                    let mut tx = store.begin().await.unwrap();
                    let _ = needs::set_status(&mut tx, need, NeedStatus::Closed, None).await;
                    tx.commit().await.unwrap();
                }
                // An allocation committed: part or all of the amount.
                3 | 10 => exec(
                    store,
                    "UPDATE needs SET allocated = CASE WHEN amount > $2 THEN $2 ELSE amount END, \
                         status = CASE WHEN amount > $2 THEN 'partly_met' ELSE 'met' END \
                         WHERE id = $1 AND status <> 'closed'",
                    need,
                    (rng.next() % 6) as i64 + 1,
                )
                .await,
                // A merge moves the need to another person (the survivor).
                4 => {
                    exec(
                        store,
                        "UPDATE needs SET person_id = $2 WHERE id = $1",
                        need,
                        a,
                    )
                    .await
                }
                // The need refiled under another county (and its province) and zone.
                5 => {
                    let county = &counties[(rng.next() as usize) % counties.len()];
                    let mut tx = store.begin().await.unwrap();
                    sqlx::query(
                        "UPDATE needs SET county_code = $2, province_code = \
                         (SELECT province_code FROM counties WHERE code = $2), \
                         zone = CASE WHEN zone = 'rural' THEN 'urban' ELSE 'rural' END WHERE id = $1",
                    )
                    .bind(need)
                    .bind(county.clone())
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                    tx.commit().await.unwrap();
                }
                // Another type (each column alone: a trigger missing one is caught).
                6 => {
                    exec(
                        store,
                        "UPDATE needs SET need_type = CASE WHEN need_type = 'food' THEN 'medical' \
                         ELSE 'food' END WHERE id = $1 AND $2 = $2",
                        need,
                        0,
                    )
                    .await
                }
                // Another amount.
                7 => {
                    exec(
                        store,
                        "UPDATE needs SET amount = amount + $2 WHERE id = $1",
                        need,
                        (rng.next() % 3) as i64 + 1,
                    )
                    .await
                }
                // Allocated units corrected alone.
                8 => {
                    exec(
                        store,
                        "UPDATE needs SET allocated = $2 WHERE id = $1 AND amount >= $2",
                        need,
                        1,
                    )
                    .await
                }
                // Removed (one no allocation points at).
                _ => {
                    exec(
                        store,
                        "DELETE FROM needs WHERE id = $1 AND NOT EXISTS \
                         (SELECT 1 FROM allocations a WHERE a.need_id = $2)",
                        need,
                        need,
                    )
                    .await
                }
            }
        }
        let (kept, scratch) = need_summary_and_scratch(store).await;
        assert_eq!(kept, scratch, "round {round}");
        // A person's row goes when the person's count there reaches zero.
        let zero_rows: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM need_summary_persons WHERE needs = 0")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(zero_rows, 0, "round {round}");
        assert_eq!(
            hamdeli_store::distribution::public_cells(store)
                .await
                .unwrap(),
            hamdeli_store::distribution::public_cells_from_scratch(store)
                .await
                .unwrap(),
            "round {round}: public statistics"
        );
    }
    let (kept, _) = need_summary_and_scratch(store).await;
    // The writes left a real summary: several places, persons with more than one need.
    assert!(kept.len() > 20, "{kept:?}");
    assert!(
        kept.iter().any(|(_, _, _, v)| v[0] > v[1]),
        "no cell with a person counted once for two needs: {kept:?}"
    );
    // The national need tables read it and say what the per-need query says.
    for group in [
        NeedGroup::Province,
        NeedGroup::County,
        NeedGroup::Zone,
        NeedGroup::Type,
    ] {
        let table = needs::table(store, &PlaceFilter::All, &NeedQuery::default(), group)
            .await
            .unwrap();
        let mut rows: Vec<(String, String, Vec<i64>)> = table
            .iter()
            .map(|r| {
                (
                    r.group.clone(),
                    r.need_type.clone(),
                    vec![r.needs, r.persons, r.amount, r.allocated, r.outstanding],
                )
            })
            .collect();
        let mut expected: Vec<(String, String, Vec<i64>)> = kept
            .iter()
            .filter(|(k, ..)| k == group.code())
            .map(|(_, g, t, v)| (g.clone(), t.clone(), v.clone()))
            .collect();
        expected.sort();
        rows.sort();
        assert_eq!(rows, expected, "{group:?}");
    }
    // A province's and a county's tables (read from the summary by their place and by type,
    // from the needs otherwise) say what the per-need query with the same place says.
    let busiest = |kind: &str| {
        kept.iter()
            .filter(|(k, g, ..)| k == kind && !g.is_empty())
            .max_by_key(|(.., v)| v[0])
            .map(|(_, g, ..)| g.clone())
            .unwrap()
    };
    let (province, county) = (busiest("province"), busiest("county"));
    for (filter, by_place) in [
        (
            PlaceFilter::Province(province.clone()),
            NeedQuery {
                province: Some(province.clone()),
                ..NeedQuery::default()
            },
        ),
        (
            PlaceFilter::County(county.clone()),
            NeedQuery {
                county: Some(county.clone()),
                ..NeedQuery::default()
            },
        ),
    ] {
        for group in [
            NeedGroup::Province,
            NeedGroup::County,
            NeedGroup::Zone,
            NeedGroup::Type,
        ] {
            let read = |t: Vec<needs::NeedTableRow>| {
                t.into_iter()
                    .map(|r| {
                        (
                            r.group,
                            r.need_type,
                            vec![r.needs, r.persons, r.amount, r.allocated, r.outstanding],
                        )
                    })
                    .collect::<Vec<_>>()
            };
            let scoped = needs::table(store, &filter, &NeedQuery::default(), group)
                .await
                .unwrap();
            let direct = needs::table(store, &PlaceFilter::All, &by_place, group)
                .await
                .unwrap();
            assert!(!direct.is_empty(), "{filter:?} {group:?}");
            assert_eq!(read(scoped), read(direct), "{filter:?} {group:?}");
        }
    }
    // The rebuild gives the same rows.
    hamdeli_store::scale::rebuild(store).await.unwrap();
    let (rebuilt, _) = need_summary_and_scratch(store).await;
    assert_eq!(rebuilt, kept);
}

/// SQLite: the detail column of `EXPLAIN QUERY PLAN` for a statement and its values, which
/// `bind` adds to the query it is given.
async fn sqlite_plan_details(
    store: &hamdeli_store::Store,
    sql: &str,
    bind: impl for<'q> FnOnce(
        sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
) -> Vec<String> {
    use sqlx::Row;
    let explain = format!("EXPLAIN QUERY PLAN {sql}");
    bind(sqlx::query(sqlx::AssertSqlSafe(explain)))
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(3))
        .collect()
}

/// The delivery list's page (national, a province, a county) walks an index in id order: it
/// sorted every pending allocation of the country for each page (124 ms at 1M demo people).
#[tokio::test]
async fn the_delivery_list_walks_one_page_in_id_order() {
    let app = spawn_app().await;
    let store = &app.store;
    if store.engine() != hamdeli_store::Engine::Sqlite {
        // PostgreSQL's plan on a few test rows says nothing about a million; the indexes of
        // migration 0028 are there and the list's paging is tested in distribution::.
        return;
    }
    for filter in [
        PlaceFilter::All,
        PlaceFilter::Province("23".into()),
        PlaceFilter::County("2301".into()),
    ] {
        let (sql, bind) = hamdeli_store::distribution::allocations_after_sql(&filter, 101);
        let plan = sqlite_plan_details(store, &sql, |q| {
            let q = q.bind("pending").bind(0i64);
            match bind {
                Some(b) => q.bind(b),
                None => q,
            }
        })
        .await;
        assert!(
            !plan.iter().any(|d| d.contains("TEMP B-TREE")),
            "{filter:?}: {plan:?}"
        );
        assert!(
            plan.iter().any(|d| d.contains("SEARCH a USING")),
            "{filter:?}: {plan:?}"
        );
    }
}

/// A corrected name moves the person in the outreach list at once: the summary's copy of the
/// names follows the registry (the rename marks the person's place).
#[tokio::test]
async fn a_renamed_person_moves_in_the_outreach_list() {
    let app = spawn_app().await;
    let store = &app.store;
    let dir = temp_dir();
    hamdeli::demo_population::seed(store, &dir.0, 300)
        .await
        .unwrap();
    let (county, n): (String, i64) = sqlx::query_as(
        "SELECT county_code, COUNT(*) FROM coverage_persons WHERE female_head = 1 AND orgs = 0 \
         GROUP BY county_code ORDER BY 2 DESC, 1 LIMIT 1",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert!(n >= 2, "{county}: {n}");
    let before = coverage::outreach(store, &PlaceFilter::All, &county, None, 1000)
        .await
        .unwrap();
    let last = before.last().unwrap().person_id;
    assert_ne!(before[0].person_id, last);
    // Each row carries the household its person heads (the first one), or none.
    let mut with_household = 0;
    for row in &before {
        let household: Option<(Option<String>, i64)> = sqlx::query_as(
            "SELECT female_head_reason, dependants FROM households WHERE head_person_id = $1 \
             ORDER BY id LIMIT 1",
        )
        .bind(row.person_id)
        .fetch_optional(store.pool())
        .await
        .unwrap();
        if household.is_some() {
            with_household += 1;
        }
        let (reason, dependants) = household.map_or((None, None), |(r, d)| (r, Some(d)));
        assert_eq!(
            (&row.female_head_reason, row.dependants),
            (&reason, dependants),
            "{}",
            row.person_id
        );
    }
    assert!(with_household > 0);
    // The last of the list is renamed to come first, then back to the end.
    for (name, first) in [("آآآ", true), ("ییی", false)] {
        let mut tx = store.begin().await.unwrap();
        sqlx::query("UPDATE persons SET last_name = $1 WHERE id = $2")
            .bind(name)
            .bind(last)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let after = coverage::outreach(store, &PlaceFilter::All, &county, None, 1000)
            .await
            .unwrap();
        let ids: Vec<i64> = after.iter().map(|r| r.person_id).collect();
        let scratch = coverage::outreach_from_scratch(store, &PlaceFilter::All, &county, 1000)
            .await
            .unwrap();
        assert_eq!(ids, scratch, "{name}");
        if first {
            assert_eq!(ids[0], last, "{name}");
        } else {
            assert_eq!(*ids.last().unwrap(), last, "{name}");
        }
    }
}

/// The county outreach page is a range read of the outreach index, in the page's order: it
/// sorted the whole county by name for every page (340 ms at 10M people).
#[tokio::test]
async fn the_outreach_page_reads_its_rows_in_index_order() {
    let app = spawn_app().await;
    let store = &app.store;
    if store.engine() != hamdeli_store::Engine::Sqlite {
        // PostgreSQL's plan on a few test rows says nothing about a million; the index of
        // migration 0036 is there and the paging is tested above.
        return;
    }
    for filter in [
        PlaceFilter::All,
        PlaceFilter::Province("23".into()),
        PlaceFilter::County("2301".into()),
        PlaceFilter::Organisation(1),
    ] {
        for paged in [false, true] {
            let query = coverage::outreach_query(&filter, paged).unwrap();
            let plan = sqlite_plan_details(store, &query.sql, |mut q| {
                q = q.bind("2301");
                if let Some(t) = query.text {
                    q = q.bind(t);
                }
                if let Some(o) = query.int {
                    q = q.bind(o);
                }
                if paged {
                    q = q.bind(1i64);
                }
                q.bind(101i64)
            })
            .await;
            assert!(
                plan.iter()
                    .any(|d| d.contains("INDEX coverage_persons_outreach")),
                "{filter:?} {paged}: {plan:?}"
            );
            assert!(
                !plan.iter().any(|d| d.contains("TEMP B-TREE")),
                "{filter:?} {paged}: {plan:?}"
            );
        }
    }
}

/// Two transactions that write needs in two provinces in opposite orders (as two allocation
/// commits can) both commit: the need summary's writers take turns (migration 0030) instead of
/// locking the summary's province rows in opposite orders, which deadlocked on PostgreSQL.
#[tokio::test]
async fn need_writers_in_opposite_places_take_turns_without_deadlock() {
    let app = spawn_app().await;
    let store = &app.store;
    let dir = temp_dir();
    hamdeli::demo_population::seed(store, &dir.0, 300)
        .await
        .unwrap();
    hamdeli::demo_distribution::seed(store).await.unwrap();
    // Needs of one type, so that both writers touch the same summary cells.
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, province_code FROM needs WHERE need_type = 'food' AND province_code IS NOT NULL \
         ORDER BY id",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let first = rows[0].1.clone();
    let here: Vec<i64> = rows.iter().filter(|r| r.1 == first).map(|r| r.0).collect();
    let other = rows.iter().find(|r| r.1 != first).map(|r| r.1.clone());
    let there: Vec<i64> = rows
        .iter()
        .filter(|r| Some(&r.1) == other.as_ref())
        .map(|r| r.0)
        .collect();
    assert!(
        here.len() >= 2 && there.len() >= 2,
        "needs in two provinces"
    );
    let writer = |a: i64, b: i64| async move {
        let mut tx = store.begin().await.expect("a transaction");
        sqlx::query("UPDATE needs SET amount = amount + 1 WHERE id = $1")
            .bind(a)
            .execute(&mut *tx)
            .await?;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        sqlx::query("UPDATE needs SET amount = amount + 1 WHERE id = $1")
            .bind(b)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    };
    let (one, two) = tokio::join!(writer(here[0], there[0]), writer(there[1], here[1]));
    one.expect("the first writer commits");
    two.expect("the second writer commits");
    let (kept, scratch) = need_summary_and_scratch(store).await;
    assert_eq!(kept, scratch, "after the two writers");
}

/// A person's card shows the support of the persons merged into her (read through the
/// `persons_merged_into` index of migration 0031 instead of every person).
#[tokio::test]
async fn a_card_reads_the_support_of_merged_persons_by_index() {
    let app = spawn_app().await;
    let store = &app.store;
    let dir = temp_dir();
    hamdeli::demo_population::seed(store, &dir.0, 300)
        .await
        .unwrap();
    let with_support: Vec<i64> = sqlx::query_scalar(
        "SELECT person_id FROM support_ledger GROUP BY person_id ORDER BY person_id LIMIT 2",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(with_support.len(), 2, "two persons with support");
    let (kept, merged) = (with_support[0], with_support[1]);
    let own = hamdeli_store::distribution::support_of_person(store, kept)
        .await
        .unwrap()
        .len();
    let theirs = hamdeli_store::distribution::support_of_person(store, merged)
        .await
        .unwrap()
        .len();
    sqlx::query("UPDATE persons SET merged_into = $1 WHERE id = $2")
        .bind(kept)
        .bind(merged)
        .execute(store.pool())
        .await
        .unwrap();
    let both = hamdeli_store::distribution::support_of_person(store, kept)
        .await
        .unwrap()
        .len();
    assert_eq!(
        both,
        own + theirs,
        "the merged person's support is on the card"
    );
}

/// The outreach API pages by key: walking `next` from the first page to `null` reads every
/// row of the county's list exactly once, in the list's order; the default page is small, a
/// `limit` above the most is cut to it; a county outside the caller's scope is refused as the
/// page refuses it (403), an unknown one is 404 on both.
#[tokio::test]
async fn outreach_api_walks_every_row_once_and_keeps_to_the_scope() {
    let app = spawn_app().await;
    let dir = temp_dir();
    hamdeli::demo_population::seed(&app.store, &dir.0, 2000)
        .await
        .unwrap();
    let (county, n): (String, i64) = sqlx::query_as(
        "SELECT county_code, COUNT(*) FROM coverage_persons WHERE female_head = 1 AND orgs = 0 \
         GROUP BY county_code ORDER BY 2 DESC, 1 LIMIT 1",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert!(n >= 4, "the county has a few pages of 3: {n}");
    let whole = coverage::outreach_from_scratch(&app.store, &PlaceFilter::All, &county, 10_000)
        .await
        .unwrap();
    assert_eq!(whole.len() as i64, n);
    let admin = app.login("admin").await;
    let base = format!("/api/v1/coverage/{county}/outreach");
    let mut walked: Vec<i64> = Vec::new();
    let mut after: Option<i64> = None;
    let mut pages = 0;
    loop {
        let path = match after {
            Some(a) => format!("{base}?limit=3&after={a}"),
            None => format!("{base}?limit=3"),
        };
        let (status, body) = admin.get_text(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        let page: serde_json::Value = serde_json::from_str(&body).unwrap();
        let rows = page["rows"].as_array().expect("rows");
        assert!(rows.len() <= 3, "{path}: {body}");
        for r in rows {
            assert!(r["national_code"].is_string() || r["national_code"].is_null());
            assert!(r.get("female_head_reason").is_some(), "{body}");
            walked.push(r["person_id"].as_i64().unwrap());
        }
        pages += 1;
        assert!(pages <= n, "the walk ends");
        match page["next"].as_i64() {
            Some(next) => {
                assert_eq!(Some(&next), walked.last(), "next is the last row's person");
                after = Some(next);
            }
            None => {
                assert!(page["next"].is_null(), "{body}");
                break;
            }
        }
    }
    assert_eq!(walked, whole, "every row once, in name order");
    assert_eq!(pages, (n + 2) / 3);
    // Without a limit: the default page (500) holds this small county whole; a limit above
    // the most (5000) is cut to it rather than refused.
    for path in [base.clone(), format!("{base}?limit=999999")] {
        let page: serde_json::Value = admin.get(&path).await.json().await.unwrap();
        assert_eq!(page["rows"].as_array().unwrap().len() as i64, n, "{path}");
        assert!(page["next"].is_null(), "{path}");
    }
    // A county outside the caller's scope: the API answers as the page and its download do.
    let outsider = if county.starts_with("23") {
        "isfahan.officer"
    } else {
        "tehran.officer"
    };
    let outsider = app.login(outsider).await;
    for path in [
        base.clone(),
        format!("/registry/coverage/{county}"),
        format!("/registry/coverage/{county}?format=csv"),
    ] {
        assert_eq!(
            outsider.get(&path).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    for path in ["/api/v1/coverage/9999/outreach", "/registry/coverage/9999"] {
        assert_eq!(
            admin.get(path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // A partner sees no outreach lists at all.
    let partner = app.login("relief.partner").await;
    assert_eq!(partner.get(&base).await.status(), StatusCode::FORBIDDEN);
    // The OpenAPI document tells a client how to page.
    let doc: serde_json::Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let op = &doc["paths"]["/api/v1/coverage/{county}/outreach"]["get"];
    let params: Vec<&str> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["county", "after", "limit"], "{op}");
    let page = &doc["components"]["schemas"]["OutreachPage"]["properties"];
    assert!(
        page["rows"].is_object() && page["next"].is_object(),
        "{page}"
    );
}

/// The outreach downloads hold the whole list, in the list's order, when it is longer than a
/// page of the outreach page (100 rows): every list turned into a survey and every person
/// moved into one county make the county's uncovered female heads the whole population.
#[tokio::test]
async fn outreach_downloads_hold_every_row_of_a_list_longer_than_a_page() {
    let app = spawn_app().await;
    let dir = temp_dir();
    hamdeli::demo_population::seed(&app.store, &dir.0, 400)
        .await
        .unwrap();
    for sql in [
        "UPDATE source_lists SET list_kind = 'survey'",
        "UPDATE persons SET province_code = '23', county_code = '2301'",
    ] {
        sqlx::query(sql).execute(app.store.pool()).await.unwrap();
    }
    let whole = coverage::outreach_from_scratch(&app.store, &PlaceFilter::All, "2301", 10_000)
        .await
        .unwrap();
    assert!(whole.len() > 250, "longer than two pages: {}", whole.len());
    let officer = app.login("tehran.officer").await;
    // The page shows the first 100 and links to the next.
    let (status, html) = officer.get_text("/registry/coverage/2301").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("href=\"/registry/persons/").count(), 100);
    assert!(html.contains("outreach-next"));
    // CSV: a byte-order mark, the header, then one line a person (the first field is the id).
    let r = officer.get("/registry/coverage/2301?format=csv").await;
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    assert!(csv.starts_with('\u{feff}'));
    let lines: Vec<&str> = csv.trim_end().lines().collect();
    assert_eq!(lines[0].split(',').count(), 9, "{}", lines[0]);
    let ids: Vec<i64> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ids, whole, "every row once, in name order");
    // XLSX: the sheet's rows, the first column's numbers.
    let r = officer.get("/registry/coverage/2301?format=xlsx").await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut sheet = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(),
        &mut sheet,
    )
    .unwrap();
    assert_eq!(sheet.matches("<row ").count(), whole.len() + 1);
    let ids: Vec<i64> = sheet
        .split("<c r=\"A")
        .skip(2)
        .map(|c| {
            let v = &c[c.find("<v>").unwrap() + 3..];
            v[..v.find("</v>").unwrap()].parse().unwrap()
        })
        .collect();
    assert_eq!(ids, whole, "every row once, in name order");
    // Outside the officer's province: refused, as the page is.
    let isfahan = app.login("isfahan.officer").await;
    for format in ["csv", "xlsx"] {
        let path = format!("/registry/coverage/2301?format={format}");
        assert_eq!(isfahan.get(&path).await.status(), StatusCode::FORBIDDEN);
    }
}
