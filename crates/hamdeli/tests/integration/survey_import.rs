//! County experts import their own surveys: a `survey` list of the province's office into a
//! county of their scope (rows placed in another county rejected, rows with no place filed
//! under it), audited as the expert; another county or an organisation's list is refused.
//! `relink` after a deferred import builds the households a linked import would.

use reqwest::StatusCode;

use hamdeli_store::registry;

use crate::support::{Client, TestApp, spawn_app, wait_for_batch};

/// A valid national code made from a number.
fn code(n: u32) -> String {
    let first9 = format!("{:09}", 200_000_000 + n);
    let digits: [u8; 9] = std::array::from_fn(|i| first9.as_bytes()[i] - b'0');
    format!("{first9}{}", hamdeli_text::check_digit_for(&digits))
}

async fn county_of(app: &TestApp, user: &str) -> (String, String) {
    let scope = hamdeli_store::users::by_id(&app.store, app.user_ids[user])
        .await
        .unwrap()
        .unwrap()
        .scope;
    (
        scope.province().unwrap().to_owned(),
        scope.county().unwrap().to_owned(),
    )
}

async fn names_of(app: &TestApp, county: &str) -> (String, String) {
    let c = hamdeli_store::geo::county(&app.store, county)
        .await
        .unwrap()
        .unwrap();
    let province: String = sqlx::query_scalar("SELECT name_fa FROM provinces WHERE code = $1")
        .bind(c.province_code.clone())
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    (province, c.name_fa)
}

/// Posts the import form: the survey form (`county`) or the organisation form.
async fn upload(client: &Client, fields: &[(&str, String)], body: String) -> reqwest::Response {
    let token = client.csrf().await;
    let mut form = reqwest::multipart::Form::new()
        .text("_csrf", token.clone())
        .text("mode", "commit");
    for (k, v) in fields {
        form = form.text(k.to_string(), v.clone());
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(body.into_bytes()).file_name("survey.csv"),
    );
    client
        .http
        .post(format!("{}/registry/imports?_csrf={token}", client.base))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Three female heads of household: one in the county, one with no place, one in Isfahan.
fn survey(province: &str, county: &str) -> String {
    format!(
        "کد ملی,نام,نام خانوادگی,نام پدر,تاریخ تولد,جنسیت,استان,شهرستان\n\
         {},زهرا,احمدی,علی,1360/05/12,زن,{province},{county}\n\
         {},مریم,کریمی,حسن,1365/02/01,زن,,\n\
         {},فاطمه,رضایی,رضا,1370/01/01,زن,اصفهان,اصفهان\n",
        code(1),
        code(2),
        code(3)
    )
}

#[tokio::test]
async fn a_county_expert_imports_a_survey_into_her_county_only() {
    let app = spawn_app().await;
    let (province, county) = county_of(&app, "tehran.expert").await;
    let (province_name, county_name) = names_of(&app, &county).await;
    let expert = app.login("tehran.expert").await;

    // The page shows her the survey form, its counties limited to her own.
    let (status, html) = expert.get_text("/registry/imports").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("data-testid=\"survey-import\""), "{html}");
    assert!(html.contains(&format!("value=\"{county}\"")), "{html}");
    assert_eq!(html.matches("<option value=").count(), 1, "{html}");

    let r = upload(
        &expert,
        &[
            ("county", county.clone()),
            ("list", "پیمایش زنان سرپرست خانوار".into()),
            ("kind", "support".into()),
        ],
        survey(&province_name, &county_name),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let batch = wait_for_batch(&app.store, &location).await;
    let b = registry::batch(&app.store, batch).await.unwrap().unwrap();
    assert_eq!(
        (b.rows_accepted, b.rows_rejected),
        (2, 1),
        "the Isfahan row is rejected"
    );

    // The list: a survey of the province's office, of her county, whatever kind was posted.
    let list = sqlx::query_as::<_, (String, i64, Option<String>, Option<String>, String)>(
        "SELECT l.list_kind, l.organisation_id, l.province_code, l.county_code, o.kind \
         FROM source_lists l JOIN organisations o ON o.id = l.organisation_id WHERE l.id = $1",
    )
    .bind(b.list_id)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(list.0, "survey");
    assert_eq!(list.4, "office");
    assert_eq!(
        (list.2.as_deref(), list.3.as_deref()),
        (Some(&*province), Some(&*county))
    );
    // Every record is filed under her county (the one without a place too).
    let outside: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM source_records WHERE batch_id = $1 \
         AND (county_code IS NULL OR county_code <> $2)",
    )
    .bind(batch)
    .bind(county.clone())
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(outside, 0);

    // Audited as her, in the batch's transaction.
    let actors: Vec<Option<i64>> = sqlx::query_scalar(
        "SELECT actor_user_id FROM audit_log WHERE action = 'import.commit' AND target_id = $1",
    )
    .bind(batch.to_string())
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(actors, vec![Some(app.user_ids["tehran.expert"])]);

    // She reads her batch and finds it on the page; the other county's expert does not; the
    // provincial officer of the province does.
    let (status, html) = expert.get_text(&location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("در شهرستان یا استان دیگری است"),
        "the other county's row in words: {html}"
    );
    let (_, page) = expert.get_text("/registry/imports").await;
    assert!(
        page.contains(&format!("/registry/imports/{batch}\"")),
        "{page}"
    );
    let other = app.login("tehran2.expert").await;
    assert_eq!(other.get(&location).await.status(), StatusCode::FORBIDDEN);
    let (_, page) = other.get_text("/registry/imports").await;
    assert!(!page.contains(&format!("/registry/imports/{batch}\"")));
    let officer = app.login("tehran.officer").await;
    assert_eq!(officer.get(&location).await.status(), StatusCode::OK);

    // Not into another county (of her province), nor an organisation's support list.
    let (_, other_county) = county_of(&app, "tehran2.expert").await;
    let before = registry::recent_batches(&app.store, None, 100)
        .await
        .unwrap()
        .len();
    let r = upload(
        &expert,
        &[
            ("county", other_county),
            ("list", "پیمایش".into()),
            ("kind", "survey".into()),
        ],
        survey(&province_name, &county_name),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let relief = hamdeli_store::organisations::id_by_name(&app.store, "کمیته امداد (نمایشی)")
        .await
        .unwrap()
        .unwrap();
    let r = upload(
        &expert,
        &[
            ("organisation", relief.to_string()),
            ("list", "مستمری".into()),
            ("kind", "support".into()),
        ],
        survey(&province_name, &county_name),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let after = registry::recent_batches(&app.store, None, 100)
        .await
        .unwrap()
        .len();
    assert_eq!(before, after, "nothing written by a refused import");
}

/// A household list (two households, one row per member).
fn households() -> String {
    let mut s = "شماره خانوار,کد ملی,نام,نام خانوادگی,جنسیت,تاریخ تولد,نسبت با سرپرست,\
                 استان,شهرستان,شهری/روستایی,علت سرپرستی\n"
        .to_owned();
    for row in [
        format!(
            "۱۰۰۱,{},زهرا,احمدی,زن,۱۳۶۰/۰۵/۱۲,سرپرست,تهران,تهران,روستایی,فوت همسر",
            code(11)
        ),
        format!(
            "۱۰۰۱,{},سارا,احمدی,زن,۱۳۹۰/۰۱/۰۱,دختر,تهران,تهران,روستایی,",
            code(12)
        ),
        format!(
            "1002,{},فاطمه,نوری,زن,1365/09/09,خود,تهران,تهران,شهری,مطلقه",
            code(13)
        ),
    ] {
        s.push_str(&row);
        s.push('\n');
    }
    s
}

#[tokio::test]
async fn relink_after_a_deferred_import_builds_the_households() {
    let app = spawn_app().await;
    let principal = hamdeli_app::system_principal();
    let caller = hamdeli_app::Caller::new(&principal, "test");
    let relief = hamdeli_store::organisations::id_by_name(&app.store, "کمیته امداد (نمایشی)")
        .await
        .unwrap()
        .unwrap();
    let reader = hamdeli_ingest::from_bytes(households().into_bytes())
        .and_then(hamdeli_ingest::ChunkReader::new)
        .unwrap();
    let done = hamdeli_app::imports::commit_streamed(
        &app.store,
        &caller,
        relief,
        "خانوارهای انبوه",
        "survey",
        "households.csv",
        reader,
        &hamdeli_registry::import::Progress::default(),
    )
    .await
    .unwrap();
    assert_eq!(done.counts.rows_accepted, 3);
    let count = |sql: &'static str| {
        let store = app.store.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(store.pool())
                .await
                .unwrap()
        }
    };
    assert_eq!(count("SELECT COUNT(*) FROM households").await, 0);

    let relinked =
        hamdeli_app::imports::relink(&app.store, &caller, &hamdeli_link::LinkOptions::default())
            .await
            .unwrap();
    assert_eq!(relinked.link.new_records, 3);
    assert_eq!(relinked.batches.len(), 1);
    assert!(relinked.failed.is_empty());
    assert_eq!(count("SELECT COUNT(*) FROM households").await, 2);
    assert_eq!(count("SELECT COUNT(*) FROM household_members").await, 3);
    assert_eq!(
        count("SELECT COUNT(*) FROM households WHERE female_head = 1").await,
        2
    );

    // Nothing left to link or apply: a second relink applies no batch.
    let again =
        hamdeli_app::imports::relink(&app.store, &caller, &hamdeli_link::LinkOptions::default())
            .await
            .unwrap();
    assert!(again.batches.is_empty(), "{:?}", again.batches);
    // A batch whose facts never got applied (they failed, or the process stopped before
    // them, as a national load killed in its facts step): the next relink applies them.
    for sql in [
        "DELETE FROM household_members",
        "DELETE FROM households",
        "UPDATE import_batches SET facts_applied_at = NULL",
    ] {
        sqlx::query(sql).execute(app.store.pool()).await.unwrap();
    }
    let recovered =
        hamdeli_app::imports::relink(&app.store, &caller, &hamdeli_link::LinkOptions::default())
            .await
            .unwrap();
    assert_eq!(recovered.link.new_records, 0);
    assert_eq!(recovered.batches, relinked.batches);
    assert_eq!(count("SELECT COUNT(*) FROM households").await, 2);
    assert_eq!(count("SELECT COUNT(*) FROM household_members").await, 3);
    assert_eq!(
        count("SELECT COUNT(*) FROM import_batches WHERE facts_applied_at IS NULL").await,
        0
    );

    // Only the national system principal relinks.
    let expert = hamdeli_store::users::by_id(&app.store, app.user_ids["tehran.expert"])
        .await
        .unwrap()
        .unwrap();
    let p = hamdeli_domain::Principal {
        user_id: Some(expert.id),
        api_key_id: None,
        name: expert.username.clone(),
        role: expert.role,
        scope: expert.scope.clone(),
    };
    let r = hamdeli_app::imports::relink(
        &app.store,
        &hamdeli_app::Caller::new(&p, "test"),
        &hamdeli_link::LinkOptions::default(),
    )
    .await;
    assert!(matches!(r, Err(hamdeli_app::Error::Denied)));
}

/// The demo population's lists come in through the import use case: each batch audited
/// (`import.commit`) as the system principal, client `demo`.
#[tokio::test]
async fn the_demo_population_imports_through_the_use_case() {
    let app = spawn_app().await;
    let dir = crate::support::temp_dir();
    let report = hamdeli::demo_population::seed(&app.store, &dir.0, 300)
        .await
        .unwrap();
    assert!(!report.lists.is_empty());
    let batches: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM import_batches")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(batches, report.lists.len() as i64);
    let audited: Vec<(String, String)> = sqlx::query_as(
        "SELECT actor, client_addr FROM audit_log WHERE action = 'import.commit' ORDER BY id",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(audited.len(), report.lists.len(), "{audited:?}");
    assert!(
        audited
            .iter()
            .all(|(actor, addr)| actor.starts_with("cli:") && addr == "demo"),
        "{audited:?}"
    );
}
