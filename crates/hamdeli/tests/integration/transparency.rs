//! The public transparency log publishes allocations and deliveries only as daily aggregates
//! (no cell under five, nothing about a person, no time finer than the day), and anyone can
//! verify the chain from the public feed alone: `hamdeli ledger verify --from URL` and
//! `docs/verify_ledger.py`, against the running server, a saved feed and doctored feeds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

use hamdeli_alloc::Policy;
use hamdeli_domain::ledger::{day_close, day_of, entry_hash, iso_day};
use hamdeli_domain::needs::{NeedStatus, Urgency};
use hamdeli_store::campaigns::{self, NewCampaign};
use hamdeli_store::distribution::{self, CommittedBy, Window};
use hamdeli_store::needs::{self, NewNeed};
use hamdeli_store::{Store, ledger, now_millis};

use crate::support::{TestApp, spawn_app, temp_dir};

const DAY: i64 = 86_400_000;

/// The county of the demo's Tehran county expert.
async fn tehran_county(app: &TestApp) -> String {
    hamdeli_store::users::by_id(&app.store, app.user_ids["tehran.expert"])
        .await
        .unwrap()
        .unwrap()
        .scope
        .county()
        .unwrap()
        .to_owned()
}

/// `n` women of one county with a verified food need of 2, a campaign over the province funded
/// for all of them, and its allocation committed: the allocations' ids and delivery codes.
async fn allocated_in_one_county(store: &Store, county: &str, n: usize) -> Vec<(i64, String)> {
    let mut tx = store.begin().await.unwrap();
    for i in 0..n {
        let person: i64 = sqlx::query(
            "INSERT INTO persons (province_code, county_code, zone, first_name, last_name, \
             national_code, created_at, updated_at) VALUES ('23', $1, 'urban', $2, 'شفاف‌زاده', $3, 0, 0) \
             RETURNING id",
        )
        .bind(county.to_owned())
        .bind(format!("مریم{i}"))
        .bind(format!("77{i:08}"))
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get(0);
        let need = needs::create_need(
            &mut tx,
            &NewNeed {
                person_id: person,
                need_type: "food".into(),
                amount: 2,
                urgency: Urgency::Normal,
                note: None,
            },
            None,
        )
        .await
        .unwrap();
        needs::set_status(&mut tx, need, NeedStatus::Verified, None)
            .await
            .unwrap();
    }
    let units = 2 * n as i64;
    let campaign = campaigns::create(
        &mut tx,
        &NewCampaign {
            title: "پویش شفافیت".into(),
            description: String::new(),
            organisation_id: None,
            province_code: Some("23".into()),
            county_code: None,
            goal_rials: 0,
            starts_on: "2020-01-01".into(),
            ends_on: "2100-01-01".into(),
            need_types: vec![("food".into(), units)],
        },
        None,
    )
    .await
    .unwrap();
    let user: i64 = sqlx::query("SELECT id FROM users WHERE username = 'donor'")
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get(0);
    let donor = campaigns::register_donor(&mut tx, user, "09120000000")
        .await
        .unwrap();
    let pledge = campaigns::pledge(&mut tx, campaign, donor, "food", units)
        .await
        .unwrap();
    campaigns::receive(&mut tx, pledge, units, "REF-T", None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let c = campaigns::get(store, campaign).await.unwrap().unwrap();
    let done = distribution::commit(
        store,
        &c,
        "food",
        Policy::WaterFill,
        Window {
            from: 0,
            to: i64::MAX,
        },
        CommittedBy::unaudited(None),
    )
    .await
    .unwrap();
    assert_eq!(done.allocations, n as i64);
    sqlx::query("SELECT id, delivery_code FROM allocations ORDER BY id")
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

/// The whole public feed, oldest first, read page by page the way a verifier reads it.
async fn read_feed(base: &str) -> (Value, Vec<Value>) {
    let mut after = 0;
    let mut head = Value::Null;
    let mut all = Vec::new();
    loop {
        let page: Value = reqwest::get(format!("{base}/api/v1/transparency?after={after}&limit=3"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if head.is_null() {
            head = page["head"].clone();
        }
        let entries = page["entries"].as_array().unwrap().clone();
        assert!(entries.len() <= 3);
        let next = page["next"].as_i64();
        all.extend(entries);
        match next {
            Some(n) => after = n,
            None => break,
        }
    }
    (head, all)
}

/// Every count the payload publishes (any `count` or `allocations` number), with the county of
/// the object that holds it.
fn counts(v: &Value, out: &mut Vec<(Option<String>, i64)>) {
    match v {
        Value::Object(m) => {
            for key in ["count", "allocations"] {
                if let Some(n) = m.get(key).and_then(Value::as_i64) {
                    out.push((m.get("county").and_then(Value::as_str).map(Into::into), n));
                }
            }
            m.values().for_each(|x| counts(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| counts(x, out)),
        _ => {}
    }
}

fn payload(e: &Value) -> Value {
    serde_json::from_str(e["payload"].as_str().unwrap()).unwrap()
}

/// The cells of the aggregates of `kind` in the feed.
fn cells(entries: &[Value], kind: &str) -> Vec<Value> {
    entries
        .iter()
        .filter(|e| e["kind"] == kind)
        .flat_map(|e| payload(e)["cells"].as_array().cloned().unwrap_or_default())
        .collect()
}

async fn deliver(expert: &crate::support::Client, allocations: &[(i64, String)]) {
    for (id, code) in allocations {
        let r = expert
            .post_form(
                &format!("/deliveries/{id}"),
                &[("outcome", "delivered"), ("code", code), ("note", "")],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "delivery {id}");
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs a verifier off the async runtime (the server under test lives on it): (success, output).
async fn run(program: &'static str, args: Vec<String>) -> (bool, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(program)
            .args(&args)
            .env_remove("HAMDELI_DATABASE_URL")
            .env_remove("HAMDELI_CONFIG")
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    })
    .await
    .unwrap()
}

/// `hamdeli ledger verify --from URL`, with a data directory that holds no database (and is
/// checked to stay so).
async fn hamdeli_verify(url: &str, extra: &[&str]) -> (bool, String) {
    let dir = temp_dir();
    let mut args: Vec<String> = ["ledger", "verify", "--from", url]
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect();
    args.extend(["--data-dir".into(), dir.0.display().to_string()]);
    let out = run(env!("CARGO_BIN_EXE_hamdeli"), args).await;
    assert!(
        !dir.0.join("hamdeli.db").exists(),
        "verifying the feed opened no database"
    );
    out
}

async fn python_verify(args: &[&str]) -> (bool, String) {
    let script = repo_root().join("docs/verify_ledger.py");
    let mut all = vec![script.display().to_string()];
    all.extend(args.iter().map(|s| s.to_string()));
    run("python3", all).await
}

/// A tiny server for a doctored feed: the given head and entries, paged like the real one.
async fn serve_feed(head: Value, entries: Vec<Value>) -> String {
    let entries = Arc::new(entries);
    let app = axum::Router::new().route(
        "/api/v1/transparency",
        axum::routing::get(
            move |axum::extract::Query(q): axum::extract::Query<HashMap<String, i64>>| {
                let entries = entries.clone();
                let head = head.clone();
                async move {
                    let after = q.get("after").copied().unwrap_or(0);
                    let limit = q.get("limit").copied().unwrap_or(100).clamp(1, 1000) as usize;
                    let page: Vec<Value> = entries
                        .iter()
                        .filter(|e| e["seq"].as_i64().unwrap() > after)
                        .take(limit)
                        .cloned()
                        .collect();
                    let last = page.last().and_then(|e| e["seq"].as_i64());
                    let more = entries
                        .iter()
                        .any(|e| Some(e["seq"].as_i64().unwrap()) > last);
                    axum::Json(json!({
                        "rule": "hamdeli-ledger-v1",
                        "head": head,
                        "entries": page,
                        "next": if more { last } else { None },
                    }))
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn deliveries_enter_the_public_log_only_as_daily_counts_of_five_or_more() {
    let app = spawn_app().await;
    let county = tehran_county(&app).await;
    let allocations = allocated_in_one_county(&app.store, &county, 8).await;
    let expert = app.login("tehran.expert").await;
    let now = now_millis();
    let today = day_of(now);

    // Three deliveries in one county: nothing about them is public, today or after the close.
    deliver(&expert, &allocations[..3]).await;
    let (_, feed) = read_feed(&app.url("")).await;
    assert!(cells(&feed, "delivery").is_empty() && cells(&feed, "allocation").is_empty());
    let appended = ledger::publish_closed_days(&app.store, now + DAY)
        .await
        .unwrap();
    assert_eq!(appended.len(), 1, "today's allocations, not the deliveries");
    assert!(
        ledger::publish_closed_days(&app.store, now + DAY)
            .await
            .unwrap()
            .is_empty(),
        "a day closes once"
    );
    let (head, feed) = read_feed(&app.url("")).await;
    assert_eq!(head["entries"].as_i64().unwrap(), feed.len() as i64);
    let mut published = Vec::new();
    for e in &feed {
        counts(&payload(e), &mut published);
    }
    for (c, n) in &published {
        assert!(*n >= 5, "a public count of {n} (county {c:?})");
    }
    assert!(
        !published
            .iter()
            .any(|(c, n)| c.as_deref() == Some(county.as_str()) && *n < 5),
        "no count under 5 for the county"
    );
    assert!(cells(&feed, "delivery").is_empty(), "three are held");
    let alloc = cells(&feed, "allocation");
    assert_eq!(alloc.len(), 1, "{alloc:?}");
    assert_eq!(alloc[0]["area"], "county");
    assert_eq!(alloc[0]["county"], county.as_str());
    assert_eq!(alloc[0]["count"], 8);
    assert_eq!(alloc[0]["units"], 16);
    let entry = feed.iter().find(|e| e["kind"] == "allocation").unwrap();
    assert_eq!(payload(entry)["day"], iso_day(today).as_str());
    assert_eq!(
        entry["at"],
        day_close(today),
        "the day's close, not a moment of the day"
    );
    for e in &feed {
        let text = e["payload"].as_str().unwrap();
        for personal in ["مریم", "شفاف‌زاده", "7700000", "batch", "person", "zone"] {
            assert!(!text.contains(personal), "{text} has {personal}");
        }
    }

    // Two more (a later day): with the three held they make five, and the county cell appears.
    deliver(&expert, &allocations[3..5]).await;
    let appended = ledger::publish_closed_days(&app.store, now + 2 * DAY)
        .await
        .unwrap();
    assert_eq!(appended.len(), 1);
    let (_, feed) = read_feed(&app.url("")).await;
    let delivered = cells(&feed, "delivery");
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0]["area"], "county");
    assert_eq!(delivered[0]["county"], county.as_str());
    assert_eq!(delivered[0]["status"], "delivered");
    assert_eq!(delivered[0]["count"], 5);
    assert_eq!(delivered[0]["units"], 10);
    let entry = feed.iter().find(|e| e["kind"] == "delivery").unwrap();
    assert_eq!(payload(entry)["day"], iso_day(today + 1).as_str());
    let held: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM ledger_events WHERE published_seq IS NULL")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(held, 0, "every event counted once");
    let (_, page) = app.client().get_text("/transparency").await;
    assert!(page.contains(&entry["hash"].as_str().unwrap()[..16]));

    // The chain verifies from the feed alone, with the binary and with the Python script.
    let (n, head) = ledger::head(&app.store).await.unwrap();
    let ok = format!("ok: {n} entries, head {head}");
    let (success, out) = hamdeli_verify(&app.url(""), &[]).await;
    assert!(success && out.contains(&ok), "{out}");
    let kept = feed[2]["hash"].as_str().unwrap().to_owned();
    let (success, out) = hamdeli_verify(&app.url("/api/v1/transparency"), &["--kept", &kept]).await;
    assert!(success && out.contains(&ok), "{out}");
    let (success, out) = hamdeli_verify(&app.url(""), &["--kept", &"ab".repeat(32)]).await;
    assert!(!success && out.contains("not in the chain"), "{out}");
    let saved = temp_dir();
    let file = saved.0.join("feed.json");
    let file = file.to_str().unwrap();
    let (success, out) = python_verify(&[&app.url(""), "--save", file]).await;
    assert!(success && out.contains(&ok), "{out}");
    let (success, out) = python_verify(&["--file", file, "--kept", &kept]).await;
    assert!(success && out.contains(&ok), "{out}");

    // A saved feed with one count changed is caught at that entry.
    let seq = entry["seq"].as_i64().unwrap();
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let doctored = doc["entries"][seq as usize - 1]["payload"]
        .as_str()
        .unwrap()
        .replace("\"count\":5", "\"count\":9");
    doc["entries"][seq as usize - 1]["payload"] = json!(doctored);
    std::fs::write(file, doc.to_string()).unwrap();
    let (success, out) = python_verify(&["--file", file]).await;
    assert!(
        !success && out.contains(&format!("BROKEN at entry {seq}:")),
        "{out}"
    );

    // Doctored feeds served over HTTP: both verifiers name the first broken entry. The
    // allocation count is changed (an entry before the last), then also its hash recomputed
    // (the next entry's link breaks), the last entry dropped, two entries swapped.
    let seq = feed.iter().find(|e| e["kind"] == "allocation").unwrap()["seq"]
        .as_i64()
        .unwrap();
    assert!(seq < n);
    let doctored = feed[seq as usize - 1]["payload"]
        .as_str()
        .unwrap()
        .replace("\"count\":8", "\"count\":4");
    let mut changed = feed.clone();
    changed[seq as usize - 1]["payload"] = json!(doctored);
    let rehashed = {
        let mut c = changed.clone();
        let e = &mut c[seq as usize - 1];
        e["hash"] = json!(entry_hash(
            e["prev_hash"].as_str().unwrap(),
            seq,
            e["at"].as_i64().unwrap(),
            e["kind"].as_str().unwrap(),
            &doctored,
        ));
        c
    };
    let truncated = feed[..feed.len() - 1].to_vec();
    let mut reordered = feed.clone();
    reordered.swap(1, 2);
    let published_head = json!({ "entries": n, "hash": head });
    for (feed, broken_at) in [
        (changed, seq),
        (rehashed, seq + 1),
        (truncated, n),
        (reordered, 2),
    ] {
        let url = serve_feed(published_head.clone(), feed).await;
        let needle = format!("BROKEN at entry {broken_at}:");
        let (success, out) = hamdeli_verify(&url, &[]).await;
        assert!(!success && out.contains(&needle), "hamdeli: {out}");
        let (success, out) = python_verify(&[&url]).await;
        assert!(!success && out.contains(&needle), "python: {out}");
    }
    // A feed whose head is not the chain's end is refused too.
    let url = serve_feed(
        json!({ "entries": n, "hash": "00".repeat(32) }),
        feed.clone(),
    )
    .await;
    let (success, out) = hamdeli_verify(&url, &[]).await;
    assert!(
        !success && out.contains(&format!("BROKEN at entry {n}:")),
        "{out}"
    );
    let (success, out) = python_verify(&[&url]).await;
    assert!(
        !success && out.contains(&format!("BROKEN at entry {n}:")),
        "{out}"
    );
}

#[tokio::test]
async fn small_counties_roll_up_to_the_province_and_late_events_join_the_next_close() {
    let app = spawn_app().await;
    let county = tehran_county(&app).await;
    let allocations = allocated_in_one_county(&app.store, &county, 6).await;
    let now = now_millis();
    ledger::publish_closed_days(&app.store, now + DAY)
        .await
        .unwrap();
    // Three delivered in the expert's county and two in another county of the province (moved
    // there behind the app's back): neither county reaches five, the province does.
    let other: String = sqlx::query_scalar(
        "SELECT code FROM counties WHERE province_code = '23' AND code <> $1 ORDER BY code LIMIT 1",
    )
    .bind(county.clone())
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    for (id, _) in &allocations[3..5] {
        sqlx::query("UPDATE allocations SET county_code = $1 WHERE id = $2")
            .bind(other.clone())
            .bind(*id)
            .execute(app.store.pool())
            .await
            .unwrap();
    }
    let expert = app.login("tehran.officer").await;
    deliver(&expert, &allocations[..5]).await;
    // The day of these deliveries was closed already (above): they are counted at the next close.
    assert!(
        ledger::publish_closed_days(&app.store, now + DAY)
            .await
            .unwrap()
            .is_empty()
    );
    ledger::publish_closed_days(&app.store, now + 2 * DAY)
        .await
        .unwrap();
    let (_, feed) = read_feed(&app.url("")).await;
    let delivered = cells(&feed, "delivery");
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0]["area"], "province");
    assert_eq!(delivered[0]["province"], "23");
    assert!(delivered[0]["county"].is_null());
    assert_eq!(delivered[0]["count"], 5);
    let entry = feed.iter().find(|e| e["kind"] == "delivery").unwrap();
    assert_eq!(
        payload(entry)["day"],
        iso_day(day_of(now) + 1).as_str(),
        "published at the next close"
    );
    assert!(ledger::verify(&app.store).await.unwrap().is_ok());
}
