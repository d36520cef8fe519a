//! Registry search as office users expect (issue 12, deliverable 6): one word is a first or a
//! last name, two words either order, compound first names apart or together, ranked (the
//! code, the name, then names that sound the same), paged, filtered inside the scope; and the
//! manual merge of two persons a user picked, with its evidence, audited and undone.

use reqwest::StatusCode;
use serde_json::Value;

use hamdeli_store::persons::{self, NewHousehold};

use crate::support::{Client, TestApp, code, org, spawn_app, upload};

const RELIEF: &str = "کمیته امداد (نمایشی)";
const WELFARE: &str = "سازمان بهزیستی (نمایشی)";
const HEADER: &str = "شناسه,کد ملی,نام,نام خانوادگی,نام پدر,تاریخ تولد,استان,شهرستان\n";

async fn person_of(app: &TestApp, source_id: &str) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT person_id FROM source_records WHERE source_id = $1")
        .bind(source_id.to_owned())
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

/// The county code and Persian name of a county expert's scope.
async fn county_of(app: &TestApp, user: &str) -> (String, String) {
    let u = hamdeli_store::users::by_id(&app.store, app.user_ids[user])
        .await
        .unwrap()
        .unwrap();
    let code = u.scope.county().unwrap().to_owned();
    let name = hamdeli_store::geo::county(&app.store, &code)
        .await
        .unwrap()
        .unwrap()
        .name_fa;
    (code, name)
}

/// The person ids of an API search, in order, and the next page it names.
async fn api_search(
    client: &Client,
    query: &str,
) -> (StatusCode, Vec<i64>, Vec<String>, Option<String>) {
    api_search_with(client, &[("q", query)]).await
}

/// `POST /api/v1/persons/search` (a code never travels in a URL), its body made of the
/// GET's parameters: `page` and `organisation` as numbers, `female_head` as a boolean.
async fn api_search_with(
    client: &Client,
    params: &[(&str, &str)],
) -> (StatusCode, Vec<i64>, Vec<String>, Option<String>) {
    let mut body = serde_json::Map::new();
    for (k, v) in params {
        let value = match *k {
            "page" | "organisation" => Value::from(v.parse::<i64>().unwrap()),
            "female_head" => Value::from(*v == "1"),
            _ => Value::from(*v),
        };
        body.insert((*k).to_owned(), value);
    }
    let r = client
        .post_json("/api/v1/persons/search", &Value::Object(body))
        .await;
    api_result(r).await
}

async fn api_result(r: reqwest::Response) -> (StatusCode, Vec<i64>, Vec<String>, Option<String>) {
    let status = r.status();
    let next = r
        .headers()
        .get("x-next-page")
        .map(|v| v.to_str().unwrap().to_owned());
    if status != StatusCode::OK {
        return (status, Vec::new(), Vec::new(), next);
    }
    let v: Value = r.json().await.unwrap();
    let hits = v.as_array().unwrap();
    (
        status,
        hits.iter().map(|h| h["id"].as_i64().unwrap()).collect(),
        hits.iter()
            .map(|h| h["match"].as_str().unwrap().to_owned())
            .collect(),
        next,
    )
}

#[tokio::test]
async fn search_by_first_or_last_name_either_order_compound_ranked_paged_filtered_in_scope() {
    let app = spawn_app().await;
    let (here_code, here) = county_of(&app, "tehran.expert").await;
    let (there_code, there) = county_of(&app, "tehran2.expert").await;
    let relief_org = org(&app, RELIEF).await;
    let welfare_org = org(&app, WELFARE).await;
    let admin = app.login("admin").await;

    let mut csv = String::from(HEADER);
    csv.push_str(&format!(
        "k1,{},زهرا,کریمی,علی,1360/01/01,تهران,{here}\n",
        code(9001)
    ));
    csv.push_str(&format!(
        "m1,{},مهتاب,رحیمی,حسن,1361/02/02,تهران,{here}\n",
        code(9002)
    ));
    csv.push_str(&format!(
        "t1,{},طاهره,رحیمی,رضا,1362/03/03,تهران,{here}\n",
        code(9003)
    ));
    csv.push_str(&format!(
        "b1,{},برات علی,صادقی,قاسم,1340/04/04,تهران,{here}\n",
        code(9004)
    ));
    csv.push_str(&format!(
        "b2,{},براتعلی,نادری,کاظم,1341/05/05,تهران,{here}\n",
        code(9005)
    ));
    csv.push_str(&format!(
        "o1,{},مهتاب,یزدانی,حسن,1363/06/06,تهران,{there}\n",
        code(9006)
    ));
    let firsts = ["نرگس", "لیلا", "سمیه", "مریم", "پروین", "شیرین"];
    for i in 0..60u64 {
        let county = if i < 55 { &here } else { &there };
        csv.push_str(&format!(
            "f{i},{},{},فرهادی,محمد,13{:02}/{:02}/{:02},تهران,{county}\n",
            code(9100 + i),
            firsts[i as usize % 6],
            40 + i % 20,
            i % 12 + 1,
            i % 28 + 1
        ));
    }
    upload(&admin, &app, relief_org, "فهرست جست‌وجو", &csv).await;
    // The welfare organisation covers two of the Farhadis.
    let welfare_csv = format!(
        "{HEADER}w0,{},نرگس,فرهادی,محمد,1340/01/01,تهران,{here}\nw6,{},نرگس,فرهادی,محمد,1346/07/07,تهران,{here}\n",
        code(9100),
        code(9106)
    );
    upload(&admin, &app, welfare_org, "بهزیستی", &welfare_csv).await;
    let (k1, m1, t1, b1, b2, o1) = (
        person_of(&app, "k1").await,
        person_of(&app, "m1").await,
        person_of(&app, "t1").await,
        person_of(&app, "b1").await,
        person_of(&app, "b2").await,
        person_of(&app, "o1").await,
    );
    assert_eq!(person_of(&app, "w0").await, person_of(&app, "f0").await);

    // One word: a first name finds the people of that first name (not only last names).
    let (_, ids, kinds, _) = api_search(&admin, "مهتاب").await;
    assert!(ids.contains(&m1) && ids.contains(&o1), "{ids:?}");
    assert!(kinds.iter().all(|k| k == "name"));
    let (_, ids, _, _) = api_search(&admin, "رحیمی").await;
    assert_eq!(
        ids[..2].iter().collect::<std::collections::BTreeSet<_>>(),
        [m1, t1].iter().collect()
    );
    // Two words, both orders, Arabic letters.
    for q in ["مهتاب رحیمی", "رحیمی مهتاب", "مهتاب رحيمي"] {
        let (_, ids, kinds, _) = api_search(&admin, q).await;
        assert_eq!(ids.first(), Some(&m1), "{q}: {ids:?}");
        assert_eq!(kinds[0], "name");
    }
    // A compound first name apart or together.
    let (_, ids, _, _) = api_search(&admin, "برات علی").await;
    assert!(ids.contains(&b1) && ids.contains(&b2), "{ids:?}");
    let (_, ids, _, _) = api_search(&admin, "براتعلی").await;
    assert!(ids.contains(&b1) && ids.contains(&b2), "{ids:?}");
    let (_, ids, _, _) = api_search(&admin, "براتعلی صادقی").await;
    assert_eq!(ids.first(), Some(&b1));
    let (_, ids, _, _) = api_search(&admin, "برات علی نادری").await;
    assert_eq!(ids.first(), Some(&b2));
    let (_, ids, _, _) = api_search(&admin, "نادری برات‌علی").await;
    assert_eq!(ids.first(), Some(&b2));
    // A name that sounds the same comes after the exact ones, marked phonetic.
    let (_, ids, kinds, _) = api_search(&admin, "تاهره رحیمی").await;
    assert_eq!(ids.first(), Some(&t1), "{ids:?}");
    assert_eq!(kinds[0], "phonetic");
    let (_, ids, kinds, _) = api_search(&admin, "طاهره").await;
    assert_eq!((ids.first(), kinds[0].as_str()), (Some(&t1), "name"));
    // Ranking: the exact national code first, then the name's people.
    let (_, ids, kinds, _) = api_search(&admin, &format!("{} رحیمی", code(9001))).await;
    assert_eq!(ids[0], k1);
    assert_eq!(kinds[0], "national_code");
    assert!(ids[1..].contains(&m1) && ids[1..].contains(&t1));

    // Paging past 50.
    let (_, page1, _, next) = api_search(&admin, "فرهادی").await;
    assert_eq!(page1.len(), 50);
    assert_eq!(next.as_deref(), Some("2"));
    let (_, page2, _, next) = api_search_with(&admin, &[("q", "فرهادی"), ("page", "2")]).await;
    assert_eq!(page2.len(), 10);
    assert_eq!(next, None);
    assert!(page2.iter().all(|id| !page1.contains(id)), "pages overlap");
    // The GET of a name (a bookmark) pages too; the pager submits by POST (the query a hidden
    // field, never a URL), and the POSTed page 2 continues it.
    let (status, html) = admin
        .get_text("/registry?q=%D9%81%D8%B1%D9%87%D8%A7%D8%AF%DB%8C")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-testid=\"page-next\"") && !html.contains("page-prev"));
    assert!(
        !html.contains("href=\"/registry?"),
        "no pager link carries the query"
    );
    let pager = &html[html.find("data-testid=\"pager\"").unwrap()..];
    assert!(pager.contains("<form method=\"post\" action=\"/registry\""));
    assert!(pager.contains("name=\"_csrf\""));
    assert!(pager.contains("name=\"q\" value=\"فرهادی\""));
    assert!(pager.contains("name=\"page\" value=\"2\""));
    let (_, html) = admin
        .get_text("/registry?q=%D9%81%D8%B1%D9%87%D8%A7%D8%AF%DB%8C&page=2")
        .await;
    assert!(html.contains("data-testid=\"page-prev\"") && !html.contains("page-next"));
    let r = admin
        .post_form("/registry", &[("q", "فرهادی"), ("page", "2")])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("data-testid=\"page-prev\"") && !html.contains("page-next"));
    let shown = html.matches("data-testid=\"hit-").count();
    assert_eq!(shown, 10, "page 2 by POST");

    // Filters: county, zone, female head, covering organisation.
    let farhadi_there: Vec<i64> = {
        let mut v = Vec::new();
        for i in 55..60 {
            v.push(person_of(&app, &format!("f{i}")).await);
        }
        v
    };
    let (_, ids, _, _) =
        api_search_with(&admin, &[("q", "فرهادی"), ("county", there_code.as_str())]).await;
    assert_eq!(ids.len(), 5);
    assert!(ids.iter().all(|id| farhadi_there.contains(id)));
    let (f1, f2) = (person_of(&app, "f1").await, person_of(&app, "f2").await);
    persons::load_households(
        &app.store,
        &[
            NewHousehold {
                reference: "h-rural-female".into(),
                county_code: Some(here_code.clone()),
                zone: Some("rural".into()),
                female_head_reason: Some("widowed".into()),
                members: vec![(code(9101), "head".into())],
                ..Default::default()
            },
            NewHousehold {
                reference: "h-urban".into(),
                county_code: Some(here_code.clone()),
                zone: Some("urban".into()),
                members: vec![(code(9102), "head".into())],
                ..Default::default()
            },
        ],
    )
    .await
    .unwrap();
    let (_, ids, _, _) = api_search_with(&admin, &[("q", "فرهادی"), ("zone", "rural")]).await;
    assert_eq!(ids, vec![f1]);
    let (_, ids, _, _) = api_search_with(&admin, &[("q", "فرهادی"), ("zone", "urban")]).await;
    assert_eq!(ids, vec![f2]);
    let (_, ids, _, _) = api_search_with(&admin, &[("q", "فرهادی"), ("female_head", "1")]).await;
    assert_eq!(ids, vec![f1]);
    let welfare_id = welfare_org.to_string();
    let (_, ids, _, _) = api_search_with(
        &admin,
        &[("q", "فرهادی"), ("organisation", welfare_id.as_str())],
    )
    .await;
    let mut want = vec![person_of(&app, "f0").await, person_of(&app, "f6").await];
    want.sort_unstable();
    let mut got = ids.clone();
    got.sort_unstable();
    assert_eq!(got, want);
    let (status, _, _, _) = api_search_with(&admin, &[("q", "فرهادی"), ("zone", "city")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The scope: a county expert finds no person of another county by any of these.
    let expert = app.login("tehran.expert").await;
    let probes: Vec<Vec<(&str, String)>> = vec![
        vec![("q", code(9006))],
        vec![("q", "مهتاب".into())],
        vec![("q", "یزدانی مهتاب".into())],
        vec![("q", "مهتاب یزدانی".into())],
        vec![("q", "مهطاب یزدانی".into())],
        vec![("q", "فرهادی".into()), ("county", there_code.clone())],
        vec![("q", "فرهادی".into()), ("page", "2".into())],
        vec![
            ("q", "فرهادی".into()),
            ("organisation", relief_org.to_string()),
        ],
        vec![("q", "فرهادی".into()), ("zone", "rural".into())],
        vec![("q", "فرهادی".into()), ("female_head", "1".into())],
    ];
    for p in &probes {
        let params: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, ids, _, _) = api_search_with(&expert, &params).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            !ids.contains(&o1),
            "{params:?} found another county's person"
        );
        assert!(
            ids.iter().all(|id| !farhadi_there.contains(id)),
            "{params:?} found another county's person"
        );
    }
    let (_, ids, _, _) = api_search(&expert, "فرهادی").await;
    assert_eq!(ids.len(), 50, "its own county's 55, paged");
    let (_, ids, _, _) = api_search(&expert, "مهتاب").await;
    assert_eq!(ids, vec![m1]);
    let other = app.login("tehran2.expert").await;
    let (_, ids, _, _) = api_search(&other, "فرهادی").await;
    assert_eq!(ids.len(), 5);

    // A partner finds only persons it holds, with only its own records' fields, and may not
    // filter by household facts it is not shown.
    let welfare = app.login("welfare.partner").await;
    let (_, ids, _, _) = api_search(&welfare, "فرهادی").await;
    assert_eq!(ids.len(), 2);
    let (_, ids, _, _) = api_search(&welfare, "مهتاب").await;
    assert!(ids.is_empty());
    let (status, _, _, _) = api_search_with(&welfare, &[("q", "فرهادی"), ("zone", "rural")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let relief = app.login("relief.partner").await;
    let (_, ids, _, _) = api_search(&relief, "مهتاب رحیمی").await;
    assert_eq!(ids.first(), Some(&m1));

    // Every search is audited without its key.
    let details: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'registry.search'")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert!(details.len() > 30);
    for d in &details {
        assert!(!d.contains("فرهادی") && !d.contains(&code(9006)), "{d}");
    }
    assert!(details.iter().any(|d| d.contains("female_head")));
}

#[tokio::test]
async fn a_manual_merge_shows_its_evidence_is_audited_undone_and_refused_across_scopes() {
    let app = spawn_app().await;
    let (_, here) = county_of(&app, "tehran.expert").await;
    let (_, there) = county_of(&app, "tehran2.expert").await;
    let admin = app.login("admin").await;
    let csv = format!(
        "{HEADER}a1,{},سارا,امینی,حسین,1365/01/01,تهران,{here}\n\
         a2,,سارا,امینی,محمود,1369/09/09,تهران,{here}\n\
         a3,{},سارا,امینی,حسین,1367/03/03,تهران,{here}\n\
         a4,,سارا,امینی,حسین,1365/01/01,تهران,{there}\n",
        code(7001),
        code(7002)
    );
    upload(&admin, &app, org(&app, RELIEF).await, "ادغام", &csv).await;
    let (a1, a2, a3, a4) = (
        person_of(&app, "a1").await,
        person_of(&app, "a2").await,
        person_of(&app, "a3").await,
        person_of(&app, "a4").await,
    );
    assert_eq!(
        [a1, a2, a3, a4]
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        4,
        "four persons to begin with"
    );
    let expert = app.login("tehran.expert").await;

    // The person page offers "merge with…"; the search in that mode offers the pick.
    let (_, page) = expert.get_text(&format!("/registry/persons/{a2}")).await;
    assert!(page.contains("data-testid=\"person-merge\""));
    let (_, picking) = expert
        .get_text(&format!(
            "/registry?merge_with={a2}&q=%D8%B3%D8%A7%D8%B1%D8%A7%20%D8%A7%D9%85%DB%8C%D9%86%DB%8C"
        ))
        .await;
    assert!(picking.contains(&format!("/registry/persons/{a2}/merge?with={a1}")));

    // The confirmation page: both side by side with the linkage evidence.
    let (status, confirm) = expert
        .get_text(&format!("/registry/persons/{a2}/merge?with={a1}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains("data-testid=\"side-by-side\""));
    assert!(
        confirm.contains("data-testid=\"evidence\"")
            || confirm.contains("data-testid=\"no-evidence\""),
    );
    assert!(confirm.contains("data-testid=\"merge\""));

    let r = expert
        .post_form(
            &format!("/registry/persons/{a2}/merge"),
            &[("with", a1.to_string().as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let keep = a1.min(a2);
    let gone = a1.max(a2);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("/registry/persons/{keep}")
    );
    let merged_into: Option<i64> =
        sqlx::query_scalar("SELECT merged_into FROM persons WHERE id = $1")
            .bind(gone)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(merged_into, Some(keep));
    assert_eq!(person_of(&app, "a1").await, keep);
    assert_eq!(person_of(&app, "a2").await, keep);
    let merge_id: i64 = sqlx::query_scalar("SELECT id FROM person_merges WHERE keep_person = $1")
        .bind(keep)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'person.merge' AND target_id = $1",
    )
    .bind(keep.to_string())
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // Undo: the two persons again, as they were.
    let (_, page) = expert.get_text(&format!("/registry/persons/{keep}")).await;
    assert!(page.contains(&format!("data-testid=\"undo-merge-{merge_id}\"")));
    let r = expert
        .post_form(&format!("/registry/merges/{merge_id}/undo"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(person_of(&app, "a1").await, a1);
    assert_eq!(person_of(&app, "a2").await, a2);
    let merged_into: Option<i64> =
        sqlx::query_scalar("SELECT merged_into FROM persons WHERE id = $1")
            .bind(gone)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(merged_into, None);
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'person.merge_undo'")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(audited, 1);
    let (status, _) = expert.get_text(&format!("/registry/persons/{gone}")).await;
    assert_eq!(status, StatusCode::OK, "a person of its own again");
    // Undone once only.
    let r = expert
        .post_form(&format!("/registry/merges/{merge_id}/undo"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Two different valid national codes: refused, nothing changes.
    let (status, page) = expert
        .get_text(&format!("/registry/persons/{a1}/merge?with={a3}"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("data-testid=\"form-error\"") && !page.contains("data-testid=\"merge\""));
    let r = expert
        .post_form(
            &format!("/registry/persons/{a1}/merge"),
            &[("with", a3.to_string().as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(person_of(&app, "a3").await, a3);

    // Across scopes: the other county's person is not there for this expert, nor this one's
    // for the other; a partner may not merge at all.
    for path in [
        format!("/registry/persons/{a2}/merge?with={a4}"),
        format!("/registry/persons/{a4}/merge?with={a2}"),
    ] {
        assert_eq!(
            expert.get(&path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let r = expert
        .post_form(
            &format!("/registry/persons/{a2}/merge"),
            &[("with", a4.to_string().as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let other = app.login("tehran2.expert").await;
    let r = other
        .post_form(
            &format!("/registry/persons/{a4}/merge"),
            &[("with", a2.to_string().as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let partner = app.login("relief.partner").await;
    let r = partner
        .post_form(
            &format!("/registry/persons/{a1}/merge"),
            &[("with", a2.to_string().as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(person_of(&app, "a4").await, a4);
    let merges: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM person_merges")
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(merges, 1, "only the one merge, undone");
}
