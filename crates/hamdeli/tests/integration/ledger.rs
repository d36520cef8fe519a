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
