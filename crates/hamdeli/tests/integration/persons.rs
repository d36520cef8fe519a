//! The registry end to end: imports link into stable persons, search inside the scope, person
//! pages with provenance, the review queue (merge, separate, never re-merge), split, coverage.

use reqwest::StatusCode;

use hamdeli_registry::import;
use hamdeli_store::persons::{self, LinkPlan, NewReview};
use hamdeli_store::registry::{self, BatchCounts, NewSourceRecord};

use crate::support::{Client, TestApp, code, new_list, org, spawn_app, wait_for_batch};

const RELIEF: &str = "کمیته امداد (نمایشی)";

/// The registry page's search form submitted (by POST, the query in the body).
async fn web_search(client: &Client, q: &str) -> (StatusCode, String) {
    let r = client.post_form("/registry", &[("q", q)]).await;
    let status = r.status();
    (status, r.text().await.unwrap())
}
const WELFARE: &str = "سازمان بهزیستی (نمایشی)";

async fn import(
    client: &Client,
    app: &TestApp,
    org: i64,
    list: &str,
    kind: &str,
    csv: &str,
) -> i64 {
    let token = client.csrf().await;
    let form = reqwest::multipart::Form::new()
        .text("organisation", org.to_string())
        .text("list", list.to_owned())
        .text("kind", kind.to_owned())
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
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    wait_for_batch(&app.store, &location).await
}

/// A relief list of 30 people in Tehran (county Rey, 2303?) and a welfare list that shares ten of
/// them, written differently (Arabic letters, Persian digits, a lost leading zero).
fn lists() -> (String, String) {
    let firsts = ["زهرا", "مریم", "فاطمه", "سمیه", "لیلا", "نرگس"];
    let lasts = ["احمدی", "کریمی", "رضایی", "موسوی", "حسینی"];
    let mut relief =
        String::from("شناسه,کد ملی,نام,نام خانوادگی,نام پدر,تاریخ تولد,استان,شهرستان\n");
    let mut welfare = String::from(
        "source_id,national_code,first_name,last_name,father_name,birth_date,province,county\n",
    );
    for i in 0..30u64 {
        let (f, l) = (firsts[i as usize % 6], lasts[i as usize / 6]);
        let c = code(1000 + i);
        relief.push_str(&format!(
            "r{i},{c},{f},{l},علی,1360/05/{:02},تهران,ری\n",
            i % 28 + 1
        ));
        if i < 10 {
            let arabic_f = f.replace('ی', "ي");
            let persian = hamdeli_text::to_persian_digits(&c);
            welfare.push_str(&format!(
                "w{i},{persian},{arabic_f},{l},علی,۱۳۶۰-۰۵-{:02},تهران,ری\n",
                i % 28 + 1
            ));
        }
    }
    (relief, welfare)
}

/// Imports both lists of `lists()` through the web upload, as the partners; returns the two
/// organisations' ids.
async fn import_both_lists(app: &TestApp) -> (i64, i64) {
    let (relief_csv, welfare_csv) = lists();
    let relief = app.login("relief.partner").await;
    let welfare = app.login("welfare.partner").await;
    let relief_org = org(app, RELIEF).await;
    let welfare_org = org(app, WELFARE).await;
    import(&relief, app, relief_org, "مستمری", "support", &relief_csv).await;
    import(
        &welfare,
        app,
        welfare_org,
        "زنان سرپرست",
        "support",
        &welfare_csv,
    )
    .await;
    (relief_org, welfare_org)
}

#[tokio::test]
async fn imports_link_into_stable_persons_found_by_search_in_any_digits() {
    let app = spawn_app().await;
    let (relief_csv, welfare_csv) = lists();
    let relief = app.login("relief.partner").await;
    let welfare = app.login("welfare.partner").await;
    import(
        &relief,
        &app,
        org(&app, RELIEF).await,
        "مستمری",
        "support",
        &relief_csv,
    )
    .await;
    let before: Vec<(i64, String)> =
        sqlx::query_as("SELECT person_id, source_id FROM source_records ORDER BY source_id")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert_eq!(before.len(), 30);
    import(
        &welfare,
        &app,
        org(&app, WELFARE).await,
        "زنان سرپرست",
        "support",
        &welfare_csv,
    )
    .await;

    // Ten welfare records join the relief persons; no new persons for them; old ids unchanged.
    let persons: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM persons WHERE merged_into IS NULL")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(persons, 30);
    for (person, source_id) in &before {
        let now: i64 =
            sqlx::query_scalar("SELECT person_id FROM source_records WHERE source_id = $1")
                .bind(source_id.clone())
                .fetch_one(app.store.pool())
                .await
                .unwrap();
        assert_eq!(now, *person, "person ids stay stable for {source_id}");
    }
    let shared: i64 =
        sqlx::query_scalar("SELECT person_id FROM source_records WHERE source_id = 'w3'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    let r3: i64 = sqlx::query_scalar("SELECT person_id FROM source_records WHERE source_id = 'r3'")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(shared, r3);

    // The admin finds her by national code typed in Persian digits; the page shows both records.
    let admin = app.login("admin").await;
    let q = hamdeli_text::to_persian_digits(&code(1003));
    let (status, html) = web_search(&admin, &q).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("/registry/persons/{r3}")), "{html}");
    let (status, html) = admin.get_text(&format!("/registry/persons/{r3}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("مستمری") && html.contains("زنان سرپرست"),
        "{html}"
    );
    let reads: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'person.read' AND target_id = $1",
    )
    .bind(r3.to_string())
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(reads, 1, "every read of a person is audited");

    // Name search with Arabic letters.
    let (_, html) = admin.get_text("/registry?q=مريم%20احمدي").await;
    assert!(html.contains("search-results"), "{html}");

    // Scope: an Isfahan expert sees nobody from Tehran, not even by direct link.
    let isfahan = app.login("isfahan.expert").await;
    let (_, html) = web_search(&isfahan, &code(1003)).await;
    assert!(html.contains("no-results"), "{html}");
    assert_eq!(
        isfahan
            .get(&format!("/registry/persons/{r3}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // The welfare partner sees its own ten, not the relief committee's other twenty.
    let (_, html) = web_search(&welfare, &code(1003)).await;
    assert!(html.contains(&format!("/registry/persons/{r3}")));
    let (_, html) = web_search(&welfare, &code(1020)).await;
    assert!(html.contains("no-results"));
    // Donors cannot search at all.
    let donor = app.login("donor").await;
    assert_eq!(donor.get("/registry").await.status(), StatusCode::FORBIDDEN);
}

async fn searches_audited(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'registry.search'")
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

/// The ids of an API search's hits.
async fn hit_ids(r: reqwest::Response) -> Vec<i64> {
    assert_eq!(r.status(), StatusCode::OK);
    let hits: Vec<serde_json::Value> = r.json().await.unwrap();
    hits.iter().map(|h| h["id"].as_i64().unwrap()).collect()
}

/// Trust rule "no national codes in logs or URLs": a national code or mobile number is searched
/// by POST only (the page's form and pager, `POST /api/v1/persons/search`); a GET carrying one
/// in its query string is refused with 400, unsearched and unechoed; names still work by GET.
#[tokio::test]
async fn a_code_or_mobile_is_searched_by_post_only_and_a_get_carrying_one_is_refused() {
    let app = spawn_app().await;
    let (_, welfare_org) = import_both_lists(&app).await;
    let person_of = |source: &'static str| {
        let store = app.store.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT person_id FROM source_records WHERE source_id = $1",
            )
            .bind(source)
            .fetch_one(store.pool())
            .await
            .unwrap()
        }
    };
    let (p3, p20) = (person_of("r3").await, person_of("r20").await);
    let admin = app.login("admin").await;
    let ascii = code(1003);
    let persian = hamdeli_text::to_persian_digits(&ascii);
    let arabic: String = ascii
        .chars()
        .map(|c| char::from_u32(0x0660 + c.to_digit(10).unwrap()).unwrap())
        .collect();
    let spaced = format!("{} {} {}", &ascii[..3], &ascii[3..9], &ascii[9..]);
    let mobile = "۰۹۱۲ ۳۴۵ ۶۷۸۹";

    // GET with a code or a mobile, in any digit script, alone or with a name: 400, the
    // Persian message, nothing echoed (in any script) and nothing searched.
    let before = searches_audited(&app).await;
    for q in [
        ascii.as_str(),
        persian.as_str(),
        arabic.as_str(),
        spaced.as_str(),
        mobile,
        &format!("زهرا {persian}"),
    ] {
        let r = admin
            .http
            .get(format!("{}/registry", admin.base))
            .query(&[("q", q), ("page", "2")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{q}");
        let html = r.text().await.unwrap();
        assert!(html.contains("data-testid=\"code-in-url\""), "{q}: {html}");
        assert!(
            html.contains("کد ملی و شمارهٔ همراه در نشانی صفحه"),
            "{html}"
        );
        assert!(html.contains("method=\"post\" action=\"/registry\""));
        assert!(!html.contains("search-results") && !html.contains("no-results"));
        assert!(!html.contains(&format!("/registry/persons/{p3}\"")), "{q}");
        for digits in [
            ascii.as_str(),
            persian.as_str(),
            arabic.as_str(),
            &ascii[2..],
            &persian[4..],
        ] {
            assert!(!html.contains(digits), "{q} echoed: {html}");
        }
        for digits in [
            "09123456789",
            "۰۹۱۲۳۴۵۶۷۸۹",
            "۰۹۱۲ ۳۴۵ ۶۷۸۹",
            "3456789",
            "۳۴۵ ۶۷۸۹",
        ] {
            assert!(!html.contains(digits), "{q} echoed: {html}");
        }
        let r = admin
            .http
            .get(format!("{}/api/v1/persons", admin.base))
            .query(&[("q", q)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{q}");
        let body = r.text().await.unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"], "query_in_body", "{body}");
        assert!(
            v["route"]
                .as_str()
                .unwrap()
                .contains("POST /api/v1/persons/search")
        );
        for digits in [
            ascii.as_str(),
            persian.as_str(),
            arabic.as_str(),
            &ascii[2..],
            "3456789",
        ] {
            assert!(!body.contains(digits), "{q} echoed: {body}");
        }
    }
    assert_eq!(
        searches_audited(&app).await,
        before,
        "a refused GET searched"
    );
    // The refusal is behind the same authorisation: a donor is still refused outright.
    let donor = app.login("donor").await;
    let r = donor
        .http
        .get(format!("{}/registry", donor.base))
        .query(&[("q", ascii.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // A name by GET still works (bookmarks), page and API.
    let (status, html) = admin.get_text("/registry?q=%D8%B2%D9%87%D8%B1%D8%A7").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("search-results"), "{html}");
    let (status, _) = admin.get_text("/api/v1/persons?q=زهرا").await;
    assert_eq!(status, StatusCode::OK);

    // The page's form by POST: the search form is a POST form with its CSRF token, the result
    // rendered directly (no redirect carrying the query).
    let (_, page) = admin.get_text("/registry").await;
    assert!(page.contains("<form method=\"post\" action=\"/registry\" class=\"form search\""));
    assert!(!page.contains("method=\"get\" action=\"/registry\""));
    for (who, q, finds) in [
        ("admin", &persian, Some(p3)),
        ("admin", &arabic, Some(p3)),
        ("welfare.partner", &ascii, Some(p3)),
        ("isfahan.expert", &ascii, None),
    ] {
        let other;
        let c = if who == "admin" {
            &admin
        } else {
            other = app.login(who).await;
            &other
        };
        let r = c.post_form("/registry", &[("q", q.as_str())]).await;
        assert_eq!(r.status(), StatusCode::OK, "{who}");
        assert_eq!(r.url().path(), "/registry");
        assert_eq!(r.url().query(), None, "no redirect carrying the query");
        let html = r.text().await.unwrap();
        match finds {
            Some(p) => assert!(html.contains(&format!("/registry/persons/{p}\"")), "{who}"),
            None => assert!(html.contains("no-results"), "{who}: {html}"),
        }
    }
    // r20 has only a relief record: outside the welfare partner's scope, found by the relief's.
    let welfare = app.login("welfare.partner").await;
    let (_, html) = {
        let r = welfare
            .post_form("/registry", &[("q", code(1020).as_str())])
            .await;
        (r.status(), r.text().await.unwrap())
    };
    assert!(html.contains("no-results") && !html.contains(&format!("/registry/persons/{p20}\"")));
    // Without its CSRF token the form is refused.
    let r = admin.post_raw("/registry", &[("q", ascii.as_str())]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The merge picker on a person's page is a POST form too.
    let (_, person_page) = admin.get_text(&format!("/registry/persons/{p3}")).await;
    assert!(!person_page.contains("method=\"get\" action=\"/registry\""));

    // The API by POST: inside the scope only; a session needs the CSRF header, an API key not.
    let search = |c: &Client, body: serde_json::Value| {
        let c = Client {
            http: c.http.clone(),
            base: c.base.clone(),
        };
        async move { c.post_json("/api/v1/persons/search", &body).await }
    };
    assert_eq!(
        hit_ids(search(&admin, serde_json::json!({ "q": arabic })).await).await,
        vec![p3]
    );
    assert_eq!(
        hit_ids(search(&welfare, serde_json::json!({ "q": ascii })).await).await,
        vec![p3]
    );
    assert!(
        hit_ids(search(&welfare, serde_json::json!({ "q": code(1020) })).await)
            .await
            .is_empty()
    );
    let isfahan = app.login("isfahan.expert").await;
    assert!(
        hit_ids(search(&isfahan, serde_json::json!({ "q": persian })).await)
            .await
            .is_empty()
    );
    let r = admin
        .http
        .post(format!("{}/api/v1/persons/search", admin.base))
        .json(&serde_json::json!({ "q": ascii }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "a session without the CSRF header"
    );
    let secret = {
        let mut conn = app.store.pool().acquire().await.unwrap();
        hamdeli_store::api_keys::issue(&mut conn, welfare_org, "search test", None)
            .await
            .unwrap()
            .1
    };
    let by_key = |q: String| {
        let c = app.client();
        let secret = secret.clone();
        async move {
            c.http
                .post(format!("{}/api/v1/persons/search", c.base))
                .header("authorization", format!("Bearer {secret}"))
                .json(&serde_json::json!({ "q": q }))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(hit_ids(by_key(ascii.clone()).await).await, vec![p3]);
    assert!(hit_ids(by_key(code(1020)).await).await.is_empty());
    let r = by_key(String::new()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Every POST search is audited, without its key.
    let details: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'registry.search'")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert!(details.len() as i64 >= before + 12);
    assert!(
        details
            .iter()
            .all(|d| !d.contains(&ascii) && !d.contains("1003"))
    );
}

#[tokio::test]
async fn a_last_name_search_lists_each_person_once_by_first_name_and_every_search_is_audited() {
    let app = spawn_app().await;
    import_both_lists(&app).await;

    // Six people are named احمدی, each with a relief and a welfare record (ي in the latter).
    let admin = app.login("admin").await;
    let (status, body) = admin.get_text("/api/v1/persons?q=احمدي").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let hits: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    let names: Vec<&str> = hits
        .iter()
        .map(|h| h["first_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["زهرا", "سمیه", "فاطمه", "لیلا", "مریم", "نرگس"],
        "each person once, by first name"
    );
    assert!(hits.iter().all(|h| h["records"] == 2), "{body}");

    // Sixteen searches at once: every one answered and every one in the audit log.
    let before: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'registry.search'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    let mut searches = tokio::task::JoinSet::new();
    let token = admin.csrf().await;
    for i in 0..16u64 {
        let (http, url, token) = (
            admin.http.clone(),
            format!("{}/api/v1/persons/search", admin.base),
            token.clone(),
        );
        searches.spawn(async move {
            http.post(url)
                .header("x-csrf-token", token)
                .json(&serde_json::json!({ "q": code(1000 + i) }))
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    while let Some(status) = searches.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    let after: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'registry.search'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(after - before, 16);

    // A search whose audit entry cannot be written is refused, not answered unaudited.
    sqlx::query("ALTER TABLE audit_log RENAME TO audit_log_away")
        .execute(app.store.pool())
        .await
        .unwrap();
    let (status, body) = admin.get_text("/api/v1/persons?q=احمدي").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!body.contains("زهرا"), "{body}");
}

#[tokio::test]
async fn review_merge_separate_and_split_are_audited_and_never_undone_by_linkage() {
    let app = spawn_app().await;
    let (relief_csv, _) = lists();
    let relief = app.login("relief.partner").await;
    import(
        &relief,
        &app,
        org(&app, RELIEF).await,
        "مستمری",
        "support",
        &relief_csv,
    )
    .await;
    let id_of = |s: &'static str| {
        let store = app.store.clone();
        async move {
            sqlx::query_as::<_, (i64, i64)>(
                "SELECT id, person_id FROM source_records WHERE source_id = $1",
            )
            .bind(s)
            .fetch_one(store.pool())
            .await
            .unwrap()
        }
    };
    // Two records without national codes that linkage kept apart.
    let admin = app.login("admin").await;
    let loose = "source_id,first_name,last_name,father_name,birth_date,province,county\nn1,سارا,صالحی,حسن,1365/02/10,تهران,ری\nn2,سارا,صالحی,رضا,1366/07/21,تهران,ری\n";
    import(
        &admin,
        &app,
        org(&app, WELFARE).await,
        "بی‌کد",
        "support",
        loose,
    )
    .await;
    let (r1, p1) = id_of("r1").await;
    let (r2, p2) = id_of("r2").await;
    let (a, pa) = id_of("n1").await;
    let (b, pb) = id_of("n2").await;
    let (c, pc) = id_of("r4").await;
    assert!(pa != pb && pb != pc && p1 != p2);
    let review = |x: i64, y: i64, bp: i64, evidence: &str| NewReview {
        record_a: x.min(y),
        record_b: x.max(y),
        probability_bp: bp,
        evidence: evidence.into(),
        reason: "uncertain",
    };
    persons::apply_plan(
        &app.store,
        &LinkPlan {
            reviews: vec![
                review(
                    a,
                    b,
                    7000,
                    r#"[["first_name","first_name.phonetic","moderate_for",250]]"#,
                ),
                review(b, c, 6000, "[]"),
                review(r1, r2, 5500, "[]"),
            ],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // The review page reads its records in one statement: the same views as one by one, and
    // nothing for an id that is not there.
    let many = persons::records_by_id(&app.store, &[a, b, c, r1, 999_999])
        .await
        .unwrap();
    assert_eq!(many.len(), 4);
    for id in [a, b, c, r1] {
        let one = persons::record(&app.store, id).await.unwrap().unwrap();
        assert_eq!(
            serde_json::to_value(&many[&id]).unwrap(),
            serde_json::to_value(&one).unwrap()
        );
    }
    // The provincial officer of Tehran reviews (the pairs are in county Rey).
    let expert = app.login("tehran.officer").await;
    let (status, html) = expert.get_text("/registry/reviews").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let review_id = |x: i64, y: i64| {
        let store = app.store.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT id FROM link_reviews WHERE record_a = $1 AND record_b = $2",
            )
            .bind(x.min(y))
            .bind(x.max(y))
            .fetch_one(store.pool())
            .await
            .unwrap()
        }
    };
    let first = review_id(a, b).await;
    let (status, html) = expert.get_text(&format!("/registry/reviews/{first}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("هم‌آوا") && html.contains("دلیل متوسط بر یکی بودن"),
        "{html}"
    );
    // A county expert of Isfahan cannot open a Tehran pair; a partner cannot review at all.
    let isfahan = app.login("isfahan.expert").await;
    assert_eq!(
        isfahan
            .get(&format!("/registry/reviews/{first}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        relief.get("/registry/reviews").await.status(),
        StatusCode::FORBIDDEN
    );

    // Two different valid national codes are never merged, even by a reviewer.
    let coded = review_id(r1, r2).await;
    let r = expert
        .post_form(&format!("/registry/reviews/{coded}/merge"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("کد ملی معتبر متفاوت"));
    assert_ne!(id_of("r1").await.1, id_of("r2").await.1);

    // Merge: the older person survives, the other points at it.
    let r = expert
        .post_form(&format!("/registry/reviews/{first}/merge"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let keep = pa.min(pb);
    assert_eq!(id_of("n1").await.1, keep);
    assert_eq!(id_of("n2").await.1, keep);
    let merged_into: Option<i64> =
        sqlx::query_scalar("SELECT merged_into FROM persons WHERE id = $1")
            .bind(pa.max(pb))
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(merged_into, Some(keep));
    // Deciding twice is refused in words.
    let r = expert
        .post_form(&format!("/registry/reviews/{first}/merge"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("پیش‌تر تصمیم گرفته شده"));

    // Separate the second pair; then split n2 off again.
    let second = review_id(b, c).await;
    let r = expert
        .post_form(&format!("/registry/reviews/{second}/separate"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = expert
        .post_form(
            &format!("/registry/persons/{keep}/split"),
            &[("record", &b.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let split_person = id_of("n2").await.1;
    assert_ne!(split_person, keep);

    // The same two records arrive again in another list: linkage may join them to the persons
    // above, but never puts n1 and n2 (separated by the split) back together.
    let again = "source_id,first_name,last_name,father_name,birth_date,province,county\nm1,سارا,صالحی,حسن,1365/02/10,تهران,ری\nm2,سارا,صالحی,رضا,1366/07/21,تهران,ری\n";
    let welfare = app.login("welfare.partner").await;
    import(
        &welfare,
        &app,
        org(&app, WELFARE).await,
        "تازه",
        "support",
        again,
    )
    .await;
    assert_ne!(id_of("n1").await.1, id_of("n2").await.1);
    assert_ne!(id_of("n2").await.1, id_of("r4").await.1);

    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE action IN ('review.merge', 'review.separate', 'person.split') ORDER BY id",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert_eq!(actions, ["review.merge", "review.separate", "person.split"]);
}

#[tokio::test]
async fn coverage_counts_gaps_and_double_coverage_and_exports_safely() {
    let app = spawn_app().await;
    let (relief_org, welfare_org) = import_both_lists(&app).await;
    // Both programmes give cash: the ten on both lists are covered twice by the same kind.
    let mut conn = app.store.pool().acquire().await.unwrap();
    for (org_id, name) in [(relief_org, "مستمری"), (welfare_org, "زنان سرپرست")] {
        let programme = hamdeli_store::registry::ensure_programme(
            &mut conn,
            org_id,
            name,
            "pension",
            "cash_assistance",
        )
        .await
        .unwrap();
        let list: i64 = sqlx::query_scalar("SELECT id FROM source_lists WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        hamdeli_store::registry::set_list_programme(&mut conn, list, programme)
            .await
            .unwrap();
    }
    drop(conn);
    // A survey finds two female heads nobody supports, one with a formula-like address.
    let survey =
        "source_id,national_code,first_name,last_name,birth_date,province,county,address\ns1,"
            .to_owned()
            + &code(5001)
            + ",پروین,صالحی,1350/01/01,تهران,ری,=HYPERLINK(\"x\")\ns2,"
            + &code(5002)
            + ",شهلا,نوری,1352/02/02,تهران,ری,کوچه یاس\n";
    let admin = app.login("admin").await;
    import(&admin, &app, welfare_org, "پیمایش ری", "survey", &survey).await;

    let rows = hamdeli_store::coverage::report(
        &app.store,
        &hamdeli_domain::PlaceFilter::All,
        hamdeli_store::coverage::GroupBy::Province,
        None,
    )
    .await
    .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let t = &rows[0];
    assert_eq!(t.key, "23");
    assert_eq!(
        (
            t.persons,
            t.covered_by_none,
            t.covered_by_one,
            t.covered_by_two
        ),
        (32, 2, 20, 10)
    );
    assert_eq!(t.same_kind_twice, 10);
    assert_eq!((t.female_heads, t.female_heads_uncovered), (2, 2));

    let officer = app.login("tehran.officer").await;
    let (status, html) = officer.get_text("/registry/coverage").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-testid=\"coverage\""), "{html}");
    let county: String =
        sqlx::query_scalar("SELECT county_code FROM persons WHERE county_code IS NOT NULL LIMIT 1")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    let (status, html) = officer
        .get_text(&format!("/registry/coverage/{county}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("پروین") && html.contains("شهلا"), "{html}");
    let csv = officer
        .get(&format!("/registry/coverage/{county}?format=csv"))
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    let body = csv.text().await.unwrap();
    assert!(body.contains("'=HYPERLINK"), "formula-safe CSV: {body}");
    let xlsx = officer.get("/registry/coverage?format=xlsx").await;
    assert_eq!(xlsx.status(), StatusCode::OK);
    assert!(
        xlsx.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    assert_eq!(&xlsx.bytes().await.unwrap()[..2], b"PK");
    // Through the API too.
    let (status, json) = admin.get_text("/api/v1/coverage?by=province").await;
    assert_eq!(status, StatusCode::OK);
    assert!(json.contains("\"covered_by_none\":2"), "{json}");
    // Isfahan's officer sees no Tehran rows; partners do not get the report.
    let isfahan = app.login("isfahan.officer").await;
    let (_, html) = isfahan.get_text("/registry/coverage").await;
    assert!(!html.contains("data-code=\"23"), "{html}");
    let relief = app.login("relief.partner").await;
    assert_eq!(
        relief.get("/registry/coverage").await.status(),
        StatusCode::FORBIDDEN
    );
    // One use case for the page, its downloads and the API: only a download is audited (its
    // grouping, format and province); the API refuses an unknown grouping (400), after the
    // permission (403 for a partner); the page takes its default grouping instead.
    let exports: Vec<(String, String)> = sqlx::query(
        "SELECT target_id, detail FROM audit_log WHERE action LIKE 'coverage.%' \
         AND action <> 'coverage.outreach' ORDER BY id",
    )
    .fetch_all(app.store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| (sqlx::Row::get(r, 0), sqlx::Row::get(r, 1)))
    .collect();
    assert_eq!(exports.len(), 1, "{exports:?}");
    assert_eq!(exports[0].0, "county");
    let detail: serde_json::Value = serde_json::from_str(&exports[0].1).unwrap();
    assert_eq!(
        detail,
        serde_json::json!({ "format": "xlsx", "province": null })
    );
    assert_eq!(
        admin.get("/api/v1/coverage?by=street").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        relief.get("/api/v1/coverage?by=street").await.status(),
        StatusCode::FORBIDDEN
    );
    let (status, html) = admin.get_text("/registry/coverage?by=street").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("/registry/coverage?by=province&amp;format=xlsx")
            || html.contains("/registry/coverage?by=province&format=xlsx"),
        "{html}"
    );
    // A province asked for means counties, even one the page ignores as malformed.
    let (_, html) = admin.get_text("/registry/coverage?province=x").await;
    assert!(
        html.contains("/registry/coverage?by=county&amp;format=xlsx")
            || html.contains("/registry/coverage?by=county&format=xlsx"),
        "{html}"
    );
    let (status, json) = admin.get_text("/api/v1/coverage").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        json.contains("\"key\":\"23\""),
        "provinces by default: {json}"
    );
}

/// Records for the store, as the import makes them.
fn stored(source_id: &str, code: Option<String>, first: &str, last: &str) -> NewSourceRecord {
    NewSourceRecord {
        source_id: source_id.into(),
        national_code: code,
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        first_key: Some(hamdeli_text::name_key(first)),
        last_key: Some(hamdeli_text::name_key(last)),
        father_name: Some("علی".into()),
        birth_date: Some("1981-08-03".into()),
        gender: Some("female".into()),
        province_code: Some("23".into()),
        county_code: Some("2301".into()),
        extra: "{}".into(),
        ..Default::default()
    }
}

fn outcome(records: Vec<NewSourceRecord>) -> import::Outcome {
    let n = records.len() as i64;
    import::Outcome {
        batch_id: None,
        counts: BatchCounts {
            rows_in: n,
            rows_accepted: n,
            rows_with_warnings: 0,
            rows_rejected: 0,
        },
        written: Default::default(),
        problems: Vec::new(),
        records,
        link: None,
    }
}

async fn person_of(app: &TestApp, source_id: &str) -> Option<i64> {
    sqlx::query_scalar("SELECT person_id FROM source_records WHERE source_id = $1")
        .bind(source_id.to_owned())
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

/// An import links its records in memory before writing them: new records go in with their
/// person, records a deferred load left without a person join the same persons afterwards, and
/// a record that joins an existing person keeps that person's id.
#[tokio::test]
async fn a_linked_import_writes_records_with_their_persons_and_links_older_unlinked_records() {
    let app = spawn_app().await;
    let options = hamdeli_link::LinkOptions {
        u_samples: 10_000,
        ..Default::default()
    };
    let progress = import::Progress::default();
    // A linked list first: a crowd for the model to learn from, and Sara (code 2000).
    let firsts = ["مریم", "فاطمه", "زهرا", "سارا", "لیلا", "نرگس", "مینا"];
    let lasts = ["احمدی", "رضایی", "کریمی", "حسینی", "موسوی", "جعفری"];
    let mut crowd = Vec::new();
    for (i, f) in firsts.iter().enumerate() {
        for (j, l) in lasts.iter().enumerate() {
            let mut r = stored(
                &format!("c{i}{j}"),
                Some(code(3000 + (i * 10 + j) as u64)),
                f,
                l,
            );
            r.birth_date = Some(format!("19{}-0{}-1{}", 60 + i, 1 + j, i));
            r.phone = Some(format!("0912{:07}", i * 10 + j));
            crowd.push(r);
        }
    }
    crowd.push(stored("sara", Some(code(2000)), "سارا", "کاظمی"));
    let first_list = new_list(&app.store, RELIEF, "نخست").await.id;
    let done = import::commit(
        &app.store,
        first_list,
        "a.csv",
        "csv",
        None,
        outcome(crowd.clone()),
        &progress,
        Some(&options),
    )
    .await
    .unwrap();
    let link = done.link.expect("linked");
    assert_eq!(link.applied.persons_created, crowd.len() as i64);
    let sara = person_of(&app, "sara")
        .await
        .expect("written with a person");

    // A deferred load: Zahra (code 2001) waits without a person.
    let deferred = new_list(&app.store, RELIEF, "معوق").await.id;
    import::commit(
        &app.store,
        deferred,
        "b.csv",
        "csv",
        None,
        outcome(vec![stored("zahra-old", Some(code(2001)), "زهرا", "نوری")]),
        &progress,
        None,
    )
    .await
    .unwrap();
    assert_eq!(person_of(&app, "zahra-old").await, None);

    // The linked import: Zahra again (joins the deferred record in one new person), Sara again
    // (joins her existing person), and Mina, new.
    let third = new_list(&app.store, RELIEF, "سوم").await.id;
    let done = import::commit(
        &app.store,
        third,
        "c.csv",
        "csv",
        None,
        outcome(vec![
            stored("zahra-new", Some(code(2001)), "زهرا", "نوري"),
            stored("sara-again", Some(code(2000)), "سارا", "كاظمي"),
            stored("mina", Some(code(2002)), "مینا", "صالحی"),
        ]),
        &progress,
        Some(&options),
    )
    .await
    .unwrap();
    let link = done.link.expect("linked");
    assert_eq!(link.applied.persons_created, 2, "{link:?}");
    assert_eq!(link.applied.records_joined, 1, "{link:?}");
    assert_eq!(person_of(&app, "sara-again").await, Some(sara));
    let zahra = person_of(&app, "zahra-new").await.expect("a person");
    assert_eq!(person_of(&app, "zahra-old").await, Some(zahra));
    assert_ne!(zahra, sara);
    let mina = person_of(&app, "mina").await.expect("a person");
    assert!(mina != zahra && mina != sara);
    let (shown_code, shown_last): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT national_code, last_name FROM persons WHERE id = $1")
            .bind(zahra)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(shown_code, Some(code(2001)));
    assert_eq!(
        shown_last.as_deref(),
        Some("نوری"),
        "the older record's values come first"
    );
    let batch = registry::batch(&app.store, done.batch_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((batch.persons_created, batch.records_joined), (2, 1));

    // A batch planned against a list that meanwhile got one of its records is refused whole.
    let planned = hamdeli_registry::linkage::plan_batch(
        &app.store,
        third,
        &[stored("late", Some(code(2003)), "لیلا", "امینی")],
        &options,
    )
    .await
    .unwrap();
    import::commit(
        &app.store,
        third,
        "d.csv",
        "csv",
        None,
        outcome(vec![stored("late", Some(code(2003)), "لیلا", "امینی")]),
        &progress,
        None,
    )
    .await
    .unwrap();
    let before = registry::record_count(&app.store, third).await.unwrap();
    let b = registry::begin_batch(&app.store, third, "e.csv", "csv", None)
        .await
        .unwrap();
    let refused = registry::commit_linked_batch(
        &app.store,
        b,
        third,
        registry::BatchInput {
            records: vec![stored("late", Some(code(2003)), "لیلا", "امینی")],
            problems: Vec::new(),
            links: Some(planned.links),
        },
        outcome(Vec::new()).counts,
        &|_| {},
    )
    .await;
    assert!(
        matches!(
            refused,
            Err(hamdeli_store::StoreError::Conflict("import-list-changed"))
        ),
        "{refused:?}"
    );
    assert_eq!(
        registry::record_count(&app.store, third).await.unwrap(),
        before
    );
}
