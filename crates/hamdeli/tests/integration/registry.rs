//! Registry storage: lists, import batches, upsert by source id, no partial batches.

use hamdeli_store::registry::{self, BatchCounts, BatchStatus, NewList, NewSourceRecord, Problem};

use crate::support::spawn_app;

fn record(source_id: &str, row: i64, first: &str) -> NewSourceRecord {
    NewSourceRecord {
        source_id: source_id.into(),
        row_number: row,
        first_name: Some(first.into()),
        last_name: Some("احمدی".into()),
        national_code: Some("0010350829".into()),
        extra: "{}".into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn reimporting_a_list_updates_by_source_id_and_keeps_provenance() {
    let app = spawn_app().await;
    let org = hamdeli_store::organisations::id_by_name(&app.store, "کمیته امداد (نمایشی)")
        .await
        .unwrap()
        .unwrap();
    let mut conn = app.store.pool().acquire().await.unwrap();
    let list = registry::ensure_list(
        &mut conn,
        NewList {
            organisation_id: org,
            name: "مستمری‌بگیران".into(),
            list_kind: "support".into(),
            province_code: None,
            county_code: None,
            created_by: None,
        },
    )
    .await
    .unwrap();
    drop(conn);

    let b1 = registry::begin_batch(&app.store, list.id, "list.csv", "csv", None)
        .await
        .unwrap();
    let counts = BatchCounts {
        rows_in: 3,
        rows_accepted: 2,
        rows_with_warnings: 0,
        rows_rejected: 1,
    };
    let problems = [Problem {
        row_number: 4,
        severity: "rejected".into(),
        code: "identity.missing".into(),
        detail: String::new(),
    }];
    let w = registry::commit_batch(
        &app.store,
        b1,
        list.id,
        &[record("a", 2, "زهرا"), record("b", 3, "مریم")],
        &problems,
        counts,
    )
    .await
    .unwrap();
    assert_eq!((w.inserted, w.updated), (2, 0));

    let b2 = registry::begin_batch(&app.store, list.id, "list-v2.csv", "csv", None)
        .await
        .unwrap();
    let counts = BatchCounts {
        rows_in: 2,
        rows_accepted: 2,
        rows_with_warnings: 0,
        rows_rejected: 0,
    };
    let w = registry::commit_batch(
        &app.store,
        b2,
        list.id,
        &[record("b", 2, "مریم‌السادات"), record("c", 3, "فاطمه")],
        &[],
        counts,
    )
    .await
    .unwrap();
    assert_eq!((w.inserted, w.updated), (1, 1));
    assert_eq!(
        registry::record_count(&app.store, list.id).await.unwrap(),
        3
    );
    let (first, batch): (String, i64) =
        sqlx::query_as("SELECT first_name, batch_id FROM source_records WHERE source_id = 'b'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(first, "مریم‌السادات");
    assert_eq!(
        batch, b2,
        "provenance points at the batch that last wrote the row"
    );
    let report = registry::batch(&app.store, b1).await.unwrap().unwrap();
    assert_eq!(report.status, BatchStatus::Committed);
    assert_eq!(report.rows_in, report.rows_accepted + report.rows_rejected);
    assert_eq!(
        registry::problems_of(&app.store, b1, 10)
            .await
            .unwrap()
            .len(),
        1
    );

    // Counts that do not add up are refused, and nothing is written.
    let b3 = registry::begin_batch(&app.store, list.id, "bad.csv", "csv", None)
        .await
        .unwrap();
    let bad = BatchCounts {
        rows_in: 5,
        rows_accepted: 1,
        rows_with_warnings: 0,
        rows_rejected: 1,
    };
    assert!(
        registry::commit_batch(&app.store, b3, list.id, &[record("d", 2, "x")], &[], bad)
            .await
            .is_err()
    );
    assert_eq!(
        registry::record_count(&app.store, list.id).await.unwrap(),
        3
    );

    // A batch interrupted before commit is marked failed and left no rows.
    let b4 = registry::begin_batch(&app.store, list.id, "killed.csv", "csv", None)
        .await
        .unwrap();
    assert_eq!(
        registry::fail_abandoned_batches(&app.store).await.unwrap(),
        2
    );
    let killed = registry::batch(&app.store, b4).await.unwrap().unwrap();
    assert_eq!(killed.status, BatchStatus::Failed);
    assert_eq!(
        registry::record_count(&app.store, list.id).await.unwrap(),
        3
    );
}
