//! The transparency log: concurrent appends never fork the chain; tampering is named.

use reqwest::StatusCode;
use serde_json::json;

use hamdeli_store::{Engine, ledger};

use crate::support::spawn_app;

#[tokio::test]
async fn concurrent_appends_keep_one_chain_and_tampering_is_found() {
    let app = spawn_app().await;
    let mut tasks = vec![];
    for i in 0..24 {
        let store = app.store.clone();
        tasks.push(tokio::spawn(async move {
            let mut tx = store.begin().await.unwrap();
            ledger::append(
                &mut tx,
                "donation",
                &json!({ "receipt": format!("R{i}"), "rials": 1000 * i, "province": "23" }),
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // A rolled-back append leaves no trace.
    let mut tx = app.store.begin().await.unwrap();
    ledger::append(&mut tx, "donation", &json!({ "receipt": "never" }))
        .await
        .unwrap();
    tx.rollback().await.unwrap();

    let (n, head) = ledger::verify(&app.store)
        .await
        .unwrap()
        .expect("intact chain");
    assert_eq!(n, 24);
    assert_eq!(ledger::head(&app.store).await.unwrap(), (24, head.clone()));

    // The public page and feed show the head hash and no personal data fields.
    let (status, html) = app.client().get_text("/transparency").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&head), "the head hash is published");
    let feed: serde_json::Value = reqwest::get(app.url("/api/v1/transparency?limit=5"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(feed["head"]["entries"], 24);
    assert_eq!(feed["entries"].as_array().unwrap().len(), 5);
    assert_eq!(feed["entries"][0]["seq"], 24);

    // Entries cannot be changed through the database's front door…
    assert!(
        sqlx::query("UPDATE transparency_log SET payload = '{}' WHERE seq = 7")
            .execute(app.store.pool())
            .await
            .is_err()
    );
    // …and someone who goes around it is caught, at the first entry changed.
    let drop_guard = match app.store.engine() {
        Engine::Sqlite => "DROP TRIGGER transparency_log_no_update",
        Engine::Postgres => "DROP TRIGGER transparency_log_no_update ON transparency_log",
    };
    sqlx::query(drop_guard)
        .execute(app.store.pool())
        .await
        .unwrap();
    sqlx::query(
        "UPDATE transparency_log SET payload = '{\"receipt\":\"R6\",\"rials\":1}' WHERE seq = 7",
    )
    .execute(app.store.pool())
    .await
    .unwrap();
    let broken = ledger::verify(&app.store).await.unwrap().unwrap_err();
    assert_eq!(broken.seq(), 7);
}

#[tokio::test]
async fn the_feed_pages_oldest_first_and_a_day_is_closed_once_however_many_close_it() {
    let app = spawn_app().await;
    // A campaign (its creation is an entry) and twelve deliveries of today queued in one county.
    let mut tx = app.store.begin().await.unwrap();
    let campaign = hamdeli_store::campaigns::create(
        &mut tx,
        &hamdeli_store::campaigns::NewCampaign {
            title: "پویش دفتر".into(),
            description: String::new(),
            organisation_id: None,
            province_code: Some("23".into()),
            county_code: None,
            goal_rials: 0,
            starts_on: "2020-01-01".into(),
            ends_on: "2100-01-01".into(),
            need_types: vec![("food".into(), 10)],
        },
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let now = hamdeli_store::now_millis();
    for _ in 0..12 {
        sqlx::query(
            "INSERT INTO ledger_events (kind, status, campaign_id, province_code, county_code, \
             need_type, units, day) VALUES ('delivery', 'delivered', $1, '23', '2301', 'food', 1, $2)",
        )
        .bind(campaign)
        .bind(hamdeli_domain::ledger::day_of(now))
        .execute(app.store.pool())
        .await
        .unwrap();
    }
    // Four closes of the same day at once: one entry.
    let mut tasks = vec![];
    for _ in 0..4 {
        let store = app.store.clone();
        tasks.push(tokio::spawn(async move {
            ledger::publish_closed_days(&store, now + 86_400_000)
                .await
                .unwrap()
                .len()
        }));
    }
    let mut appended = 0;
    for t in tasks {
        appended += t.await.unwrap();
    }
    assert_eq!(appended, 1);
    let (n, head) = ledger::verify(&app.store)
        .await
        .unwrap()
        .expect("intact chain");
    assert_eq!(n, 2);
    let counted: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM ledger_events WHERE published_seq = 2")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(counted, 12);

    // The feed, oldest first a page at a time, and newest first.
    let page = |q: &str| {
        let url = app.url(&format!("/api/v1/transparency?{q}"));
        async move {
            reqwest::get(url)
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let first = page("after=0&limit=1").await;
    assert_eq!(first["rule"], "hamdeli-ledger-v1");
    assert_eq!(first["head"]["hash"], head.as_str());
    assert_eq!(first["entries"][0]["seq"], 1);
    assert_eq!(first["next"], 1);
    let second = page("after=1&limit=1").await;
    assert_eq!(second["entries"][0]["seq"], 2);
    assert_eq!(second["entries"][0]["kind"], "delivery");
    assert!(second["next"].is_null(), "the last page");
    assert!(
        page("after=2").await["entries"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let newest = page("limit=1").await;
    assert_eq!(newest["entries"][0]["seq"], 2);
    assert_eq!(newest["next"], 2);
    assert!(page("before=2").await["next"].is_null());
}
