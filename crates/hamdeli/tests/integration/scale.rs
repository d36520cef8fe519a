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
            match rng.next() % 9 {
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
                // A list changes kind (support ↔ survey): everything is recomputed.
                _ if rng.next() % 4 == 0 => {
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
