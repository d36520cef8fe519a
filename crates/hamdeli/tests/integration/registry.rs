//! Registry storage: lists, import batches, upsert by source id, no partial batches.

use reqwest::StatusCode;

use hamdeli_store::registry::{self, BatchCounts, BatchStatus, NewSourceRecord, Problem};

use crate::support::{new_list, spawn_app};

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
    let list = new_list(&app.store, "کمیته امداد (نمایشی)", "مستمری‌بگیران").await;

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
        &|_| {},
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
        &|_| {},
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
        registry::commit_batch(
            &app.store,
            b3,
            list.id,
            &[record("d", 2, "x")],
            &[],
            bad,
            &|_| {}
        )
        .await
        .is_err()
    );
    assert_eq!(
        registry::record_count(&app.store, list.id).await.unwrap(),
        3
    );

    // A county that is not in the reference table is refused (on SQLite the bulk writer checks
    // references per distinct value, on PostgreSQL the foreign key does), and nothing is written.
    let b5 = registry::begin_batch(&app.store, list.id, "bad-place.csv", "csv", None)
        .await
        .unwrap();
    let mut nowhere = record("e", 2, "سارا");
    nowhere.county_code = Some("9999".into());
    let one = BatchCounts {
        rows_in: 2,
        rows_accepted: 2,
        rows_with_warnings: 0,
        rows_rejected: 0,
    };
    assert!(
        registry::commit_batch(
            &app.store,
            b5,
            list.id,
            &[record("f", 3, "لیلا"), nowhere],
            &[],
            one,
            &|_| {}
        )
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
    // b3, b5 (refused above, never marked by an import run) and b4.
    assert_eq!(
        registry::fail_abandoned_batches(&app.store).await.unwrap(),
        3
    );
    let killed = registry::batch(&app.store, b4).await.unwrap().unwrap();
    assert_eq!(killed.status, BatchStatus::Failed);
    assert_eq!(
        registry::record_count(&app.store, list.id).await.unwrap(),
        3
    );
}

async fn upload(
    client: &crate::support::Client,
    org: i64,
    mode: &str,
    name: &str,
    body: &str,
) -> reqwest::Response {
    let token = client.csrf().await;
    let form = reqwest::multipart::Form::new()
        .text("organisation", org.to_string())
        .text("list", "مددجویان")
        .text("kind", "support")
        .text("mode", mode.to_owned())
        .part(
            "file",
            reqwest::multipart::Part::bytes(body.as_bytes().to_vec()).file_name(name.to_owned()),
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

#[tokio::test]
async fn a_partner_imports_its_list_in_the_browser_with_a_per_row_report() {
    let app = spawn_app().await;
    let relief = hamdeli_store::organisations::id_by_name(&app.store, "کمیته امداد (نمایشی)")
        .await
        .unwrap()
        .unwrap();
    let welfare = hamdeli_store::organisations::id_by_name(&app.store, "سازمان بهزیستی (نمایشی)")
        .await
        .unwrap()
        .unwrap();
    let partner = app.login("relief.partner").await;
    let csv = "شناسه,کد ملی,نام,نام خانوادگی,استان,شهرستان\n1,0010350829,زهرا,احمدی,تهران,ری\n2,10350829,مریم,کریمی,اصفهان,کاشان\n3,,,,تهران,\n";

    // Dry run: mapping, samples, counts and problems; nothing written.
    let r = upload(&partner, relief, "dry_run", "list.csv", csv).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("بررسی فهرست (بدون ثبت)") && html.contains("کد ملی با صفرهای آغاز کامل شد"),
        "{html}"
    );
    assert!(html.contains("نه کد ملی دارد نه نام"));
    assert!(
        registry::recent_batches(&app.store, Some(relief), 10)
            .await
            .unwrap()
            .is_empty()
    );

    // Another organisation's list is refused.
    assert_eq!(
        upload(&partner, welfare, "commit", "list.csv", csv)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    // Commit: one batch, rows in = accepted + rejected, and a report page.
    let r = upload(&partner, relief, "commit", "list.csv", csv).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    crate::support::wait_for_batch(&app.store, &location).await;
    let (status, html) = partner.get_text(&location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("ثبت شد"), "{html}");
    let batches = registry::recent_batches(&app.store, Some(relief), 10)
        .await
        .unwrap();
    let b = &batches[0].batch;
    assert_eq!(
        (b.rows_in, b.rows_accepted, b.rows_rejected, b.rows_inserted),
        (3, 2, 1, 2)
    );
    let place: (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT province_code, county_code FROM source_records WHERE source_id = '1'",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(
        place.0.as_deref(),
        Some("23"),
        "place names resolve to codes"
    );
    assert!(place.1.is_some());

    // The report is the partner's own; another partner cannot open it.
    let welfare_user = app.login("welfare.partner").await;
    assert_eq!(
        welfare_user.get(&location).await.status(),
        StatusCode::FORBIDDEN
    );
    // A file with no known column is a clear error, in Persian.
    let r = upload(&partner, relief, "dry_run", "x.csv", "a,b\n1,2\n").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("هیچ ستون شناخته‌شده‌ای نیست")
    );
}

/// Indexes and foreign keys of `source_records`, as the engine lists them (a key a bulk load
/// put back without re-checking old rows, `NOT VALID` on PostgreSQL, is the same key).
async fn source_records_schema(store: &hamdeli_store::Store) -> Vec<String> {
    let sql = match store.engine() {
        hamdeli_store::Engine::Sqlite => {
            "SELECT name || ': ' || COALESCE(sql, '') FROM sqlite_master \
             WHERE tbl_name = 'source_records' AND type = 'index' ORDER BY name"
        }
        hamdeli_store::Engine::Postgres => {
            "SELECT indexname || ': ' || indexdef FROM pg_indexes \
             WHERE tablename = 'source_records' \
             UNION ALL SELECT conname::text || ': ' || \
             replace(pg_get_constraintdef(oid), ' NOT VALID', '') \
             FROM pg_constraint WHERE conrelid = 'source_records'::regclass AND contype = 'f' \
             ORDER BY 1"
        }
    };
    sqlx::query_scalar(sql)
        .fetch_all(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_bulk_batch_rebuilds_indexes_and_a_failed_one_leaves_nothing() {
    let app = spawn_app().await;
    let list = new_list(&app.store, "کمیته امداد (نمایشی)", "bulk").await;
    let schema = source_records_schema(&app.store).await;
    assert!(schema.len() >= 5, "{schema:?}");
    let n = 60_000;
    let records: Vec<NewSourceRecord> = (0..n)
        .map(|i| {
            let mut r = record(&format!("s{i}"), i + 2, "زهرا");
            r.phone = Some(format!("0912{:07}", i));
            r.national_code = Some(hamdeli_text::NationalCode::generate(i as u64 + 1).to_string());
            r.province_code = Some("23".into());
            r.county_code = Some("2301".into());
            r.address = Some("tab\there, backslash \\ and\nnewline".into());
            r
        })
        .collect();
    let counts = |n: i64| BatchCounts {
        rows_in: n,
        rows_accepted: n,
        rows_with_warnings: 0,
        rows_rejected: 0,
    };

    // A bulk batch whose last row repeats a source id fails as a whole: no rows, the indexes
    // and foreign keys as they were.
    let mut bad = records.clone();
    bad.push(record("s0", n + 2, "تکراری"));
    let b0 = registry::begin_batch(&app.store, list.id, "bad.csv", "csv", None)
        .await
        .unwrap();
    assert!(
        registry::commit_batch(&app.store, b0, list.id, &bad, &[], counts(n + 1), &|_| {})
            .await
            .is_err()
    );
    assert_eq!(
        registry::record_count(&app.store, list.id).await.unwrap(),
        0
    );
    assert_eq!(source_records_schema(&app.store).await, schema);

    let b1 = registry::begin_batch(&app.store, list.id, "bulk.csv", "csv", None)
        .await
        .unwrap();
    let w = registry::commit_batch(&app.store, b1, list.id, &records, &[], counts(n), &|_| {})
        .await
        .unwrap();
    assert_eq!((w.inserted, w.updated), (n, 0));
    assert_eq!(source_records_schema(&app.store).await, schema);
    // The foreign keys hold again for every later write.
    let dangling =
        sqlx::query("UPDATE source_records SET county_code = '9999' WHERE source_id = 's0'")
            .execute(app.store.pool())
            .await;
    assert!(dangling.is_err(), "{dangling:?}");
    let (address, phone): (String, String) =
        sqlx::query_as("SELECT address, phone FROM source_records WHERE source_id = 's59999'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(address, "tab\there, backslash \\ and\nnewline");
    assert_eq!(phone, "09120059999");

    // Again with a few new rows: the existing ones update in place (the bulk path's staging
    // table on PostgreSQL), the new ones are inserted.
    let mut again = records[..100].to_vec();
    again[0].first_name = Some("مریم".into());
    again.push(record("new", n + 2, "فاطمه"));
    let b2 = registry::begin_batch(&app.store, list.id, "again.csv", "csv", None)
        .await
        .unwrap();
    let w = registry::commit_batch(&app.store, b2, list.id, &again, &[], counts(101), &|_| {})
        .await
        .unwrap();
    assert_eq!((w.inserted, w.updated), (1, 100));
    assert_eq!(
        registry::record_count(&app.store, list.id).await.unwrap(),
        n + 1
    );
    let first: String =
        sqlx::query_scalar("SELECT first_name FROM source_records WHERE source_id = 's0'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(first, "مریم");

    // Linking them afterwards (`hamdeli relink`) goes through the bulk writers: every record
    // gets a person (distinct valid national codes: one person each), the indexes and keys
    // are as they were, and they hold.
    let options = hamdeli_link::LinkOptions {
        u_samples: 10_000,
        ..Default::default()
    };
    let report = hamdeli_registry::linkage::link_new_records(&app.store, None, &options)
        .await
        .unwrap();
    assert_eq!(report.applied.persons_created, n + 1);
    let unlinked: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM source_records WHERE person_id IS NULL")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(unlinked, 0);
    let (code, phone): (String, String) = sqlx::query_as(
        "SELECT p.national_code, p.phone FROM persons p \
         JOIN source_records r ON r.person_id = p.id WHERE r.source_id = 's59999'",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(
        code,
        hamdeli_text::NationalCode::generate(60_000).to_string()
    );
    assert_eq!(phone, "09120059999");
    assert_eq!(source_records_schema(&app.store).await, schema);
    let dangling =
        sqlx::query("UPDATE source_records SET person_id = 999999999 WHERE source_id = 's1'")
            .execute(app.store.pool())
            .await;
    assert!(dangling.is_err(), "{dangling:?}");
}

async fn stream_csv(
    store: &hamdeli_store::Store,
    list_id: i64,
    csv: &str,
) -> anyhow::Result<hamdeli_registry::import::Outcome> {
    use hamdeli_registry::import;
    let reader =
        hamdeli_ingest::ChunkReader::new(hamdeli_ingest::from_bytes(csv.as_bytes().to_vec())?)?;
    let places = import::Places::load(store).await?;
    import::stream_unlinked(
        store,
        list_id,
        "bulk.csv",
        None,
        reader,
        places,
        &import::Progress::default(),
    )
    .await
}

/// A bulk load written while the file is read: the same per-row report, updates by source id
/// on a second load, and nothing written when the reading side goes away or the counts do not
/// add up.
#[tokio::test]
async fn a_streamed_batch_reports_every_row_and_a_broken_stream_leaves_nothing() {
    let app = spawn_app().await;
    let list = new_list(&app.store, "کمیته امداد (نمایشی)", "انبوه").await;
    let csv = "source_id,national_code,first_name,last_name,province,county\n\
               a,0010350829,زهرا,احمدی,تهران,ری\n\
               b,10350829,مریم,کریمی,اصفهان,کاشان\n\
               c,,,,تهران,\n";
    let first = stream_csv(&app.store, list.id, csv).await.unwrap();
    assert_eq!(
        (
            first.counts.rows_in,
            first.counts.rows_accepted,
            first.counts.rows_rejected
        ),
        (3, 2, 1)
    );
    assert_eq!((first.written.inserted, first.written.updated), (2, 0));
    let codes: Vec<(i64, &str)> = first
        .problems
        .iter()
        .map(|p| (p.row_number, p.code.as_str()))
        .collect();
    assert_eq!(
        codes,
        vec![(3, "national_code.padded"), (4, "identity.missing")]
    );
    let batch = registry::batch(&app.store, first.batch_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(batch.status, BatchStatus::Committed);
    assert_eq!((batch.rows_in, batch.rows_inserted), (3, 2));
    let county: Option<String> =
        sqlx::query_scalar("SELECT county_code FROM source_records WHERE source_id = 'b'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert!(county.is_some(), "places resolve while streaming");
    let again = stream_csv(&app.store, list.id, csv).await.unwrap();
    assert_eq!((again.written.inserted, again.written.updated), (0, 2));

    // The reading side goes away after a chunk: nothing of it stays.
    let b = registry::begin_batch(&app.store, list.id, "cut.csv", "csv", None)
        .await
        .unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tx.send(registry::BatchChunk::Rows {
        records: vec![record("cut", 2, "سارا")],
        problems: Vec::new(),
    })
    .await
    .unwrap();
    drop(tx);
    assert!(
        registry::commit_streamed_batch(&app.store, b, list.id, rx, &|_| {})
            .await
            .is_err()
    );
    // Counts that do not match the rows sent are refused.
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tx.send(registry::BatchChunk::Rows {
        records: vec![record("odd", 2, "لیلا")],
        problems: Vec::new(),
    })
    .await
    .unwrap();
    tx.send(registry::BatchChunk::End(BatchCounts {
        rows_in: 5,
        rows_accepted: 5,
        rows_with_warnings: 0,
        rows_rejected: 0,
    }))
    .await
    .unwrap();
    assert!(
        registry::commit_streamed_batch(&app.store, b, list.id, rx, &|_| {})
            .await
            .is_err()
    );
    assert_eq!(
        registry::record_count(&app.store, list.id).await.unwrap(),
        2
    );
}

/// A failed batch's page says why in the user's language, and that nothing was written.
#[tokio::test]
async fn a_failed_batch_page_says_why() {
    let app = spawn_app().await;
    let list = new_list(&app.store, "کمیته امداد (نمایشی)", "ناموفق").await;
    let b = registry::begin_batch(&app.store, list.id, "late.csv", "csv", None)
        .await
        .unwrap();
    registry::fail_batch(&app.store, b, "conflict: import-list-changed")
        .await
        .unwrap();
    let admin = app.login("admin").await;
    let (status, html) = admin.get_text(&format!("/registry/imports/{b}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("data-testid=\"batch-failure\"")
            && html.contains("همین فهرست در این میان از راه دیگری به‌روز شد"),
        "{html}"
    );
    // A committed batch has no such notice.
    let ok = registry::begin_batch(&app.store, list.id, "ok.csv", "csv", None)
        .await
        .unwrap();
    registry::commit_batch(
        &app.store,
        ok,
        list.id,
        &[record("z", 2, "زهرا")],
        &[],
        BatchCounts {
            rows_in: 1,
            rows_accepted: 1,
            rows_with_warnings: 0,
            rows_rejected: 0,
        },
        &|_| {},
    )
    .await
    .unwrap();
    let (_, html) = admin.get_text(&format!("/registry/imports/{ok}")).await;
    assert!(!html.contains("batch-failure"), "{html}");
}

#[tokio::test]
async fn a_batch_is_finished_when_its_import_job_ends_not_at_its_commit() {
    let app = spawn_app().await;
    let list = new_list(&app.store, "کمیته امداد (نمایشی)", "پایان کار").await;
    let counts = BatchCounts {
        rows_in: 1,
        rows_accepted: 1,
        rows_with_warnings: 0,
        rows_rejected: 0,
    };
    let commit = |batch: i64| {
        let store = app.store.clone();
        async move {
            let input = registry::BatchInput {
                records: vec![record(&format!("s{batch}"), 2, "زهرا")],
                ..Default::default()
            };
            registry::commit_linked_batch(&store, batch, list.id, input, counts, &|_| {})
                .await
                .unwrap();
        }
    };
    // Committed, its job not over (linking, review items, summaries come after the commit).
    let b = registry::begin_batch(&app.store, list.id, "a.csv", "csv", None)
        .await
        .unwrap();
    commit(b).await;
    let batch = registry::batch(&app.store, b).await.unwrap().unwrap();
    assert_eq!(batch.status, BatchStatus::Committed);
    assert_eq!(
        batch.finished_at, None,
        "the job has not ended at the commit"
    );
    // This process is alive: the sweep leaves its job alone.
    registry::fail_interrupted_batches(&app.store, registry::STALE_AFTER)
        .await
        .unwrap();
    let batch = registry::batch(&app.store, b).await.unwrap().unwrap();
    assert_eq!(batch.finished_at, None);
    // The progress bar polls on (the job is not this server's: as of another process).
    let admin = app.login("admin").await;
    let r = admin.get(&format!("/registry/imports/{b}/progress")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().get("hx-refresh").is_none(), "not over yet");
    let fragment = r.text().await.unwrap();
    assert!(
        fragment.contains("data-testid=\"import-progress\""),
        "{fragment}"
    );
    registry::end_batch_job(&app.store, b).await.unwrap();
    let batch = registry::batch(&app.store, b).await.unwrap().unwrap();
    assert!(batch.finished_at.is_some(), "the job's end recorded");
    let r = admin.get(&format!("/registry/imports/{b}/progress")).await;
    assert_eq!(r.headers()["hx-refresh"], "true", "over: the page reloads");

    // The job of a process that is gone ends with its last beat.
    let gone = registry::begin_batch(&app.store, list.id, "b.csv", "csv", None)
        .await
        .unwrap();
    commit(gone).await;
    sqlx::query("UPDATE import_batches SET owner_boot = 'gone', heartbeat_at = 1000 WHERE id = $1")
        .bind(gone)
        .execute(app.store.pool())
        .await
        .unwrap();
    registry::fail_interrupted_batches(&app.store, registry::STALE_AFTER)
        .await
        .unwrap();
    let batch = registry::batch(&app.store, gone).await.unwrap().unwrap();
    assert_eq!(batch.status, BatchStatus::Committed);
    assert_eq!(batch.finished_at, Some(1000));

    // Through the web: the batch is finished only once its persons and link counts are in.
    let office = crate::support::org(&app, "کمیته امداد (نمایشی)").await;
    let client = admin;
    let csv = format!(
        "شناسه,کد ملی,نام,نام خانوادگی,استان,شهرستان\n1,{},مریم,کریمی,تهران,تهران\n",
        crate::support::code(424_242)
    );
    let id = crate::support::upload(&client, &app, office, "پایان کار وب", &csv).await;
    let batch = registry::batch(&app.store, id).await.unwrap().unwrap();
    assert_eq!(batch.status, BatchStatus::Committed);
    assert!(batch.finished_at.is_some());
    assert!(
        batch.persons_created + batch.records_joined > 0,
        "link counts in"
    );
}
