//! Concurrent writers and absurd amounts: parallel imports and parallel pledges answer without a
//! 5xx and lose nothing (SQLite write transactions begin IMMEDIATE and queue on the write lock);
//! an import's audit entry never contradicts its batch; the command line audits its imports as a
//! named system principal; batches of a process that is gone are failed as interrupted, batches
//! of a live one are not; pledges are capped and money sums never overflow into a 500.

use std::sync::Arc;

use reqwest::StatusCode;

use hamdeli_domain::{Role, Scope};
use hamdeli_locale::Locale;
use hamdeli_store::campaigns::{self, MAX_PLEDGE_RIALS, NewCampaign};
use hamdeli_store::registry::{self, BatchActor, BatchStatus};
use hamdeli_store::{Store, ledger, users};

use crate::support::{Client, PASSWORD, TestApp, csrf_of, new_list, spawn_app, wait_for_batch};

const RELIEF: &str = "کمیته امداد (نمایشی)";

async fn count(store: &Store, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(bind.to_owned())
        .fetch_one(store.pool())
        .await
        .unwrap()
}

async fn audit_count(store: &Store, action: &str) -> i64 {
    count(
        store,
        "SELECT COUNT(*) FROM audit_log WHERE action = $1",
        action,
    )
    .await
}

/// A list of `n` people of its own (distinct codes and names per list `k`).
fn list_csv(k: u64, n: u64) -> String {
    let firsts = [
        "زهرا",
        "مریم",
        "فاطمه",
        "سمیه",
        "لیلا",
        "نرگس",
        "شیرین",
        "الهام",
    ];
    let lasts = ["احمدی", "کریمی", "رضایی", "موسوی", "حسینی", "صادقی", "نوری"];
    let mut csv = String::from(
        "source_id,national_code,first_name,last_name,father_name,birth_date,province,county\n",
    );
    for i in 0..n {
        let code = hamdeli_text::NationalCode::generate(50_000 + k * 1000 + i).to_string();
        csv.push_str(&format!(
            "k{k}-{i},{code},{},{},علی,1360/{:02}/{:02},تهران,ری\n",
            firsts[((k + i) % 8) as usize],
            lasts[((k * 3 + i) % 7) as usize],
            k % 12 + 1,
            i % 28 + 1
        ));
    }
    csv
}

/// Uploads a list through the web import and returns the response's status and location.
async fn upload(
    client: &Client,
    token: &str,
    org: i64,
    list: &str,
    csv: String,
) -> (StatusCode, String) {
    // The CSRF token is the first part of a multipart form.
    let form = reqwest::multipart::Form::new()
        .text("_csrf", token.to_owned())
        .text("organisation", org.to_string())
        .text("list", list.to_owned())
        .text("kind", "support")
        .text("mode", "commit")
        .part(
            "file",
            reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("list.csv"),
        );
    let r = client
        .http
        .post(format!("{}/registry/imports?_csrf={token}", client.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    match location {
        Some(l) => (status, l),
        None => (status, r.text().await.unwrap()),
    }
}

#[tokio::test]
async fn parallel_web_imports_all_commit_and_each_is_audited_as_committed() {
    let app = spawn_app().await;
    let org = hamdeli_store::organisations::id_by_name(&app.store, RELIEF)
        .await
        .unwrap()
        .unwrap();
    let partner = Arc::new(app.login("relief.partner").await);
    let token = partner.csrf().await;
    let mut jobs = Vec::new();
    for k in 0..16u64 {
        let partner = partner.clone();
        let token = token.clone();
        jobs.push(tokio::spawn(async move {
            upload(
                &partner,
                &token,
                org,
                &format!("فهرست {k}"),
                list_csv(k, 40),
            )
            .await
        }));
    }
    let mut batches = Vec::new();
    for job in jobs {
        let (status, location) = job.await.unwrap();
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "every upload is taken: {location}"
        );
        batches.push(wait_for_batch(&app.store, &location).await);
    }
    for &b in &batches {
        let batch = registry::batch(&app.store, b).await.unwrap().unwrap();
        assert_eq!(
            batch.status,
            BatchStatus::Committed,
            "batch {b}: {:?}",
            batch.error
        );
        assert_eq!(batch.rows_inserted, 40);
    }
    // The jobs' audit entries follow their last write.
    for _ in 0..100 {
        if audit_count(&app.store, "import.commit").await >= 16 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(audit_count(&app.store, "import.commit").await, 16);
    assert_eq!(audit_count(&app.store, "import.failed").await, 0);
    let records: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM source_records")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(records, 16 * 40, "nothing lost");
}

/// `n` donors of their own (users with the donor role and a donor profile), signed in.
async fn donors(app: &TestApp, n: usize) -> Vec<Client> {
    let mut out = Vec::new();
    for i in 0..n {
        let mobile = format!("0912{:07}", 1_000_000 + i);
        let mut tx = app.store.begin().await.unwrap();
        let user = users::create(
            &mut tx,
            users::NewUser {
                username: mobile.clone(),
                display_name: format!("donor {i}"),
                password: PASSWORD.into(),
                role: Role::Donor,
                scope: Scope::Own,
                locale: "fa".into(),
                is_demo: false,
            },
        )
        .await
        .unwrap();
        campaigns::register_donor(&mut tx, user, &mobile)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        out.push(app.login(&mobile).await);
    }
    out
}

async fn money_campaign(store: &Store) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let id = campaigns::create(
        &mut tx,
        &NewCampaign {
            title: "پویش همزمانی".into(),
            description: String::new(),
            organisation_id: None,
            province_code: None,
            county_code: None,
            goal_rials: 1_000_000_000,
            starts_on: "2020-01-01".into(),
            ends_on: "2100-01-01".into(),
            need_types: vec![("rent_housing".into(), 0)],
        },
        None,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// The CSRF token of a signed-in client, from a page with a form.
async fn token_of(client: &Client) -> String {
    let (_, html) = client.get_text("/account").await;
    csrf_of(&html)
}

#[tokio::test]
async fn parallel_pledges_answer_without_5xx_and_nothing_is_lost() {
    let app = spawn_app().await;
    let campaign = money_campaign(&app.store).await;
    let ledger_before = ledger::head(&app.store).await.unwrap().0;
    let donors = donors(&app, 25).await;
    let mut jobs = Vec::new();
    for d in donors {
        let d = Arc::new(d);
        let token = token_of(&d).await;
        for k in 0..8 {
            let (d, token) = (d.clone(), token.clone());
            jobs.push(tokio::spawn(async move {
                let amount = (1000 * (k + 1)).to_string();
                d.post_raw(
                    &format!("/campaigns/{campaign}/pledges"),
                    &[
                        ("resource", "money"),
                        ("amount", &amount),
                        ("_csrf", &token),
                    ],
                )
                .await
                .status()
            }));
        }
    }
    let mut statuses = Vec::new();
    for job in jobs {
        statuses.push(job.await.unwrap());
    }
    assert!(
        statuses.iter().all(|s| *s == StatusCode::SEE_OTHER),
        "every pledge is taken: {:?}",
        statuses
            .iter()
            .filter(|s| **s != StatusCode::SEE_OTHER)
            .collect::<Vec<_>>()
    );
    let pledges = campaigns::pledges_of_campaign(&app.store, campaign)
        .await
        .unwrap();
    assert_eq!(pledges.len(), 200, "nothing lost");
    assert_eq!(audit_count(&app.store, "pledge.create").await, 200);
    let pool = campaigns::pools(&app.store, campaign).await.unwrap();
    // Typed in tomans, kept in rials.
    assert_eq!(
        pool[0].pledged,
        25 * (10 * 1000 * (1 + 2 + 3 + 4 + 5 + 6 + 7 + 8))
    );
    // A pledge is a promise: the public log grows when one is received, not before.
    assert_eq!(ledger::head(&app.store).await.unwrap().0, ledger_before);
    assert!(ledger::verify(&app.store).await.unwrap().is_ok());
}

#[tokio::test]
async fn absurd_pledges_are_refused_in_the_users_language_and_pages_keep_answering() {
    let app = spawn_app().await;
    let campaign = money_campaign(&app.store).await;
    let donor = donors(&app, 1).await.remove(0);
    let token = token_of(&donor).await;
    let pledge = |amount: String| {
        let (donor, token) = (&donor, token.clone());
        async move {
            let r = donor
                .post_raw(
                    &format!("/campaigns/{campaign}/pledges"),
                    &[
                        ("resource", "money"),
                        ("amount", &amount),
                        ("_csrf", &token),
                    ],
                )
                .await;
            let status = r.status();
            (status, r.text().await.unwrap())
        }
    };
    // The report's amount: 999,999,999,999,999 (tomans now: ten times as many rials), refused
    // with a form error in Persian.
    let (status, html) = pledge("999999999999999".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains(&hamdeli_locale::t(Locale::Fa, "pledge-too-large")));
    // More digits than any amount: still "too large", in Persian digits too.
    let (status, html) = pledge("۹۹۹۹۹۹۹۹۹۹۹۹۹۹۹۹۹۹۹۹".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains(&hamdeli_locale::t(Locale::Fa, "pledge-too-large")));
    // Five pledges at the cap (typed in tomans) are the most one donor may have open on a
    // campaign; one toman past the cap is too large.
    let (status, html) = pledge((MAX_PLEDGE_RIALS / 10 + 1).to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains(&hamdeli_locale::t(Locale::Fa, "pledge-too-large")));
    for _ in 0..5 {
        assert_eq!(
            pledge((MAX_PLEDGE_RIALS / 10).to_string()).await.0,
            StatusCode::SEE_OTHER
        );
    }
    let (status, html) = pledge((MAX_PLEDGE_RIALS / 10).to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains(&hamdeli_locale::t(Locale::Fa, "pledge-open-too-much")));
    // …and ten open pledges at most, whatever their amounts (on a campaign of their own).
    let small = money_campaign(&app.store).await;
    let pledge_small = || async {
        donor
            .post_raw(
                &format!("/campaigns/{small}/pledges"),
                &[("resource", "money"), ("amount", "1000"), ("_csrf", &token)],
            )
            .await
    };
    for _ in 0..10 {
        assert_eq!(pledge_small().await.status(), StatusCode::SEE_OTHER);
    }
    let r = pledge_small().await;
    let (status, html) = (r.status(), r.text().await.unwrap());
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains(&hamdeli_locale::t(Locale::Fa, "pledge-open-too-many")));
    // In English for an English reader.
    let r = donor
        .post_raw(
            "/lang",
            &[("locale", "en"), ("back", "/"), ("_csrf", &token)],
        )
        .await;
    assert!(r.status().is_redirection());
    let (status, html) = pledge("999999999999999".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains(&hamdeli_locale::t(Locale::En, "pledge-too-large")));

    // Pledges from before the caps (or any sum past an integer's limit) never make a page fail:
    // the sums saturate.
    let donor_id: i64 = sqlx::query_scalar("SELECT id FROM donors")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    for _ in 0..12 {
        sqlx::query(
            "INSERT INTO pledges (campaign_id, donor_id, resource, amount, status, created_at) \
             VALUES ($1, $2, 'money', $3, 'pledged', 0)",
        )
        .bind(campaign)
        .bind(donor_id)
        .bind(999_999_999_999_999_999i64)
        .execute(app.store.pool())
        .await
        .unwrap();
    }
    let pools = campaigns::pools(&app.store, campaign).await.unwrap();
    assert_eq!(pools[0].pledged, i64::MAX);
    let anon = app.client();
    for path in [
        "/campaigns".to_owned(),
        format!("/campaigns/{campaign}"),
        "/api/v1/campaigns".to_owned(),
    ] {
        assert_eq!(anon.get(&path).await.status(), StatusCode::OK, "{path}");
        assert_eq!(donor.get(&path).await.status(), StatusCode::OK, "{path}");
    }
    // A receipt that would carry the pool past the limit is refused, not a 500.
    sqlx::query(
        "UPDATE campaign_pools SET received = $1 WHERE campaign_id = $2 AND resource = 'money'",
    )
    .bind(i64::MAX - 10)
    .bind(campaign)
    .execute(app.store.pool())
    .await
    .unwrap();
    let open = campaigns::pledges_of_campaign(&app.store, campaign)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.amount == MAX_PLEDGE_RIALS)
        .unwrap();
    let mut tx = app.store.begin().await.unwrap();
    let refused = campaigns::receive(&mut tx, open.id, 1000, "BANK-1", None).await;
    assert!(
        matches!(
            refused,
            Err(hamdeli_store::StoreError::Invalid("money-sum-too-large"))
        ),
        "{refused:?}"
    );
    drop(tx);
    assert_eq!(
        anon.get(&format!("/campaigns/{campaign}")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_received_pledge_enters_the_public_log_once_as_a_donation() {
    let app = spawn_app().await;
    let campaign = money_campaign(&app.store).await;
    let donor = donors(&app, 1).await.remove(0);
    let token = token_of(&donor).await;
    let before = ledger::head(&app.store).await.unwrap().0;
    let r = donor
        .post_raw(
            &format!("/campaigns/{campaign}/pledges"),
            &[
                ("resource", "money"),
                ("amount", "50000"),
                ("_csrf", &token),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        ledger::head(&app.store).await.unwrap().0,
        before,
        "a promise is not logged"
    );
    let pledge = campaigns::pledges_of_campaign(&app.store, campaign)
        .await
        .unwrap()
        .remove(0);
    let mut tx = app.store.begin().await.unwrap();
    let code = campaigns::receive(&mut tx, pledge.id, 50000, "BANK-2", None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let entries = ledger::recent(&app.store, None, 10).await.unwrap();
    assert_eq!(ledger::head(&app.store).await.unwrap().0, before + 1);
    assert_eq!(entries[0].kind, "donation");
    assert!(entries[0].payload.contains(&code));
    assert!(entries.iter().all(|e| e.kind != "pledge"));
}

#[tokio::test]
async fn batches_of_a_gone_process_are_failed_as_interrupted_and_live_ones_kept() {
    let app = spawn_app().await;
    let list = new_list(&app.store, RELIEF, "فهرست قطع‌شده").await;
    let store = app
        .store
        .clone()
        .acting_as(BatchActor::command_line("tester"));
    let mine = registry::begin_batch(&store, list.id, "mine.csv", "csv", None)
        .await
        .unwrap();
    let gone = registry::begin_batch(&store, list.id, "gone.csv", "csv", None)
        .await
        .unwrap();
    let alive = registry::begin_batch(&store, list.id, "alive.csv", "csv", None)
        .await
        .unwrap();
    let now = hamdeli_store::now_millis();
    // `gone` was written by a process that stopped ten minutes ago; `alive` by another process
    // that said it is alive a moment ago.
    for (batch, boot, beat) in [
        (gone, "gone-boot", now - 600_000),
        (alive, "other-boot", now),
    ] {
        sqlx::query("UPDATE import_batches SET owner_boot = $1, heartbeat_at = $2 WHERE id = $3")
            .bind(boot)
            .bind(beat)
            .bind(batch)
            .execute(app.store.pool())
            .await
            .unwrap();
    }
    let failed = registry::fail_interrupted_batches(&app.store, registry::STALE_AFTER)
        .await
        .unwrap();
    assert_eq!(failed, 1);
    let status = |b: i64| {
        let store = app.store.clone();
        async move { registry::batch(&store, b).await.unwrap().unwrap() }
    };
    let g = status(gone).await;
    assert_eq!(g.status, BatchStatus::Failed);
    assert_eq!(g.error.as_deref(), Some("interrupted"));
    assert_eq!(
        status(mine).await.status,
        BatchStatus::Running,
        "this process is alive"
    );
    assert_eq!(
        status(alive).await.status,
        BatchStatus::Running,
        "its owner is alive"
    );
    // Its audit entry says failed, as the command line's principal.
    let row = sqlx::query_as::<_, (String, String)>(
        "SELECT actor, detail FROM audit_log WHERE action = 'import.failed' AND target_id = $1",
    )
    .bind(gone.to_string())
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(row.0, "cli:tester");
    assert!(row.1.contains("interrupted"));
    // The page names the reason.
    let admin = app.login("admin").await;
    let (_, html) = admin.get_text(&format!("/registry/imports/{gone}")).await;
    assert!(html.contains(&hamdeli_locale::t(Locale::Fa, "import-failure-interrupted")));

    // A batch that committed is never failed after, and gets no `import.failed`.
    let input = registry::BatchInput::default();
    registry::commit_linked_batch(
        &store,
        mine,
        list.id,
        input,
        registry::BatchCounts::default(),
        &|_| {},
    )
    .await
    .unwrap();
    registry::fail_batch(&store, mine, "late failure")
        .await
        .unwrap();
    assert_eq!(status(mine).await.status, BatchStatus::Committed);
    assert_eq!(audit_count(&app.store, "import.failed").await, 1);
    let commits = count(
        &app.store,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'import.commit' AND target_id = $1",
        &mine.to_string(),
    )
    .await;
    assert_eq!(
        commits, 1,
        "the commit wrote its entry in the batch's transaction"
    );
    // A batch a sweep failed cannot commit after (its records would contradict its status).
    let refused = registry::commit_linked_batch(
        &store,
        gone,
        list.id,
        registry::BatchInput::default(),
        registry::BatchCounts::default(),
        &|_| {},
    )
    .await;
    assert!(refused.is_err());
    assert_eq!(status(gone).await.status, BatchStatus::Failed);
}

#[tokio::test]
async fn the_command_line_import_audits_its_batch_as_a_system_principal() {
    let app = spawn_app().await;
    let dir = crate::support::temp_dir();
    let file = dir.0.join("list.csv");
    std::fs::write(&file, list_csv(7, 12)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hamdeli"))
        .args(["--database-url", &app.database_url, "--data-dir"])
        .arg(&dir.0)
        .args([
            "import",
            "--organisation",
            RELIEF,
            "--list",
            "خط فرمان",
            "--file",
        ])
        .arg(&file)
        .env("USER", "operator")
        .env_remove("HAMDELI_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (batch, actor, detail) = sqlx::query_as::<_, (String, String, String)>(
        "SELECT target_id, actor, detail FROM audit_log WHERE action = 'import.commit'",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(actor, "cli:operator");
    let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(detail["inserted"], 12);
    assert_eq!(detail["rows_in"], 12);
    let b = registry::batch(&app.store, batch.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.status, BatchStatus::Committed);
}
