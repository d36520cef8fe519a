//! The product gaps of capabilities D–G closed after their first session: a cooperative's
//! status, offices entering volunteers, notices marked read, a producer linked by search.

use reqwest::StatusCode;

use crate::support::spawn_app;

async fn coop_status(app: &crate::support::TestApp, id: i64) -> String {
    sqlx::query_scalar("SELECT status FROM loan_cooperatives WHERE id = $1")
        .bind(id)
        .fetch_one(app.store.pool())
        .await
        .unwrap()
}

/// The provincial officer suspends a cooperative of her province with a reason (kept and shown
/// in its history), a suspended cooperative takes no new application, she reactivates and then
/// dissolves it (final); a county expert of the same county may not, an officer of another
/// province does not see it.
#[tokio::test]
async fn an_office_changes_a_cooperatives_status_with_its_reason() {
    let app = spawn_app().await;
    hamdeli::demo_loans::seed(&app.store).await.unwrap();
    let expert_user = hamdeli_store::users::by_id(&app.store, app.user_ids["tehran.expert"])
        .await
        .unwrap()
        .unwrap();
    let county = expert_user.scope.county().unwrap().to_owned();

    use hamdeli_app::loans::{self as loans, ApplicationInput, CooperativeInput};
    let system = hamdeli_app::system_principal();
    let caller = hamdeli_app::Caller::new(&system, "test");
    let coop = loans::create_cooperative(
        &app.store,
        &caller,
        &CooperativeInput {
            registration_no: "۵۵۵۱۲".into(),
            name: "تعاونی بانوان آزمون".into(),
            field: "خیاطی".into(),
            county,
        },
    )
    .await
    .unwrap();
    let product = hamdeli_store::loans::product_by_code(&app.store, "qh-coop")
        .await
        .unwrap()
        .unwrap();
    let application = ApplicationInput {
        product_id: product.id,
        applicant_kind: "cooperative".into(),
        national_code: None,
        person_id: None,
        cooperative_id: Some(coop),
        amount: 1_000_000_000,
        months: None,
        purpose: "کارگاه".into(),
        documents: String::new(),
    };
    let path = format!("/loans/cooperatives/{coop}/status");
    let page = format!("/loans/cooperatives/{coop}");

    // The county expert reads the cooperative but has no form and may not change it.
    let expert = app.login("tehran.expert").await;
    let (s, body) = expert.get_text(&page).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!body.contains("loans-coop-status-form"));
    let r = expert
        .post_form(&path, &[("status", "suspended"), ("reason", "x")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Another province's officer and a partner do not see it.
    for who in ["isfahan.officer", "relief.partner"] {
        let c = app.login(who).await;
        let r = c
            .post_form(&path, &[("status", "suspended"), ("reason", "x")])
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{who}");
    }
    assert_eq!(coop_status(&app, coop).await, "active");

    let officer = app.login("tehran.officer").await;
    let (s, body) = officer.get_text(&page).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("loans-coop-status-form"));
    // A reason is required, the status must be one the domain knows.
    for fields in [
        [("status", "suspended"), ("reason", "  ")],
        [("status", "closed"), ("reason", "بدهی")],
        [("status", "active"), ("reason", "همان")],
    ] {
        let r = officer.post_form(&path, &fields).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{fields:?}");
    }
    assert_eq!(coop_status(&app, coop).await, "active");

    let r = officer
        .post_form(
            &path,
            &[
                ("status", "suspended"),
                ("reason", "گزارش بازرسی: دفاتر مالی ناقص"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(coop_status(&app, coop).await, "suspended");
    let (_, body) = officer.get_text(&page).await;
    assert!(body.contains("loans-coop-status-history"));
    assert!(body.contains("گزارش بازرسی: دفاتر مالی ناقص"));
    assert!(body.contains("تعلیق"));

    // Suspended: no new application.
    let err = loans::apply(&app.store, &caller, &application)
        .await
        .unwrap_err();
    assert!(
        matches!(err, hamdeli_app::Error::Invalid("loans-coop-inactive")),
        "{err:?}"
    );

    // Reactivated: applications again.
    let r = officer
        .post_form(&path, &[("status", "active"), ("reason", "دفاتر تکمیل شد")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    loans::apply(&app.store, &caller, &application)
        .await
        .unwrap();

    // Dissolved is final.
    let r = officer
        .post_form(&path, &[("status", "dissolved"), ("reason", "رأی مجمع")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = officer
        .post_form(&path, &[("status", "active"), ("reason", "دوباره")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(coop_status(&app, coop).await, "dissolved");
    let (_, body) = officer.get_text(&page).await;
    assert!(!body.contains("loans-coop-status-form"));
    // Three changes, newest first, each with its reason.
    let history = body
        .split("loans-coop-status-history")
        .nth(1)
        .unwrap_or_default();
    let at = |s: &str| history.find(s).unwrap_or(usize::MAX);
    assert!(at("رأی مجمع") < at("دفاتر تکمیل شد"));
    assert!(at("دفاتر تکمیل شد") < at("گزارش بازرسی"));
    assert!(at("گزارش بازرسی") < usize::MAX);
}

async fn post(c: &crate::support::Client, f: Vec<(&'static str, String)>) -> reqwest::Response {
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    c.post_form("/network/volunteers/new", &pairs).await
}

fn sent_code(mobile: &str) -> String {
    let text = hamdeli_app::sms::LogSender::last_text_to(mobile).expect("a code was sent");
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(6)
        .find(|w| w.iter().all(char::is_ascii_digit))
        .map(|w| w.iter().collect())
        .expect("a six-digit code")
}

/// The provincial office enters a volunteer from her papers (no account): she waits for the
/// check, a second profile with her mobile is refused, another province's officer and a county
/// expert may not enter one; when she makes her account by a one-time code to that mobile the
/// profile is hers. The licence sweep's notice is marked read by her office only.
#[tokio::test]
async fn an_office_enters_a_volunteer_and_marks_its_notices_read() {
    let app = spawn_app().await;
    let expert_user = hamdeli_store::users::by_id(&app.store, app.user_ids["tehran.expert"])
        .await
        .unwrap()
        .unwrap();
    let county = expert_user.scope.county().unwrap().to_owned();
    let province = expert_user.scope.province().unwrap().to_owned();
    let today = hamdeli_app::network::today();
    let expires = hamdeli_domain::network::dates::plus_days(&today, 200).unwrap();
    let mobile = "09351234987";
    let fields = |mobile: &'static str| {
        vec![
            ("name", "روان‌شناس ثبت دفتر".to_owned()),
            ("mobile", mobile.to_owned()),
            ("gender", "f".to_owned()),
            ("specialty", "counsellor".to_owned()),
            ("licence_number", "P-4411".to_owned()),
            ("licence_issuer", "سازمان نظام روان‌شناسی".to_owned()),
            ("licence_expires_on", expires.clone()),
            ("languages", "fa".to_owned()),
            ("province", province.clone()),
            ("counties", county.clone()),
            ("weekly_hours", "۶".to_owned()),
            ("days", "1".to_owned()),
        ]
    };
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM network_volunteers")
            .fetch_one(app.store.pool())
            .await
            .unwrap()
    };
    let before = count().await;

    let expert = app.login("tehran.expert").await;
    assert_eq!(
        expert.get("/network/volunteers/new").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&expert, fields(mobile)).await.status(),
        StatusCode::FORBIDDEN
    );
    let isfahan = app.login("isfahan.officer").await;
    assert_eq!(
        post(&isfahan, fields(mobile)).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(count().await, before);

    let officer = app.login("tehran.officer").await;
    let (s, page) = officer.get_text("/network/volunteers").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("/network/volunteers/new"));
    let (s, page) = officer.get_text("/network/volunteers/new").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("volunteer-enter-form"));
    let r = post(&officer, fields(mobile)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let at = r.headers()["location"].to_str().unwrap().to_owned();
    let id: i64 = at.rsplit('/').next().unwrap().parse().unwrap();
    let v = hamdeli_store::network::volunteers::by_id(&app.store, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v.status, "pending");
    assert_eq!(v.weekly_hours, 6);
    // The same mobile again is refused with a message, nothing written.
    let r = post(&officer, fields(mobile)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("form-error"));
    assert_eq!(count().await, before + 1);

    // She makes her account with a code to that mobile: the profile is hers.
    let visitor = app.client();
    let r = visitor
        .post_form(
            "/network/volunteers/signup",
            &[("mobile", mobile), ("name", "روان‌شناس ثبت دفتر")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = visitor
        .post_form(
            "/network/volunteers/signup/verify",
            &[
                ("mobile", mobile),
                ("code", &sent_code(mobile)),
                ("password", "a-long-enough-secret"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let user = hamdeli_store::users::id_by_username(&app.store, mobile)
        .await
        .unwrap()
        .unwrap();
    let mine = hamdeli_store::network::volunteers::by_user(&app.store, user)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mine.id, id);

    // Verified, then her licence expires: the sweep's notice goes to the Tehran office.
    let r = officer
        .post_form(
            &format!("/network/volunteers/{id}/check"),
            &[("decision", "verify")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let later = hamdeli_domain::network::dates::plus_days(&today, 201).unwrap();
    hamdeli_app::network::volunteers::sweep(&app.store, &later)
        .await
        .unwrap();
    let notice: i64 = sqlx::query_scalar(
        "SELECT id FROM network_notices WHERE subject_kind = 'volunteer' AND subject_id = $1",
    )
    .bind(id)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    let read_at = || async {
        sqlx::query_scalar::<_, Option<i64>>("SELECT read_at FROM network_notices WHERE id = $1")
            .bind(notice)
            .fetch_one(app.store.pool())
            .await
            .unwrap()
    };
    let (_, page) = officer.get_text("/network").await;
    assert!(page.contains(&format!("/network/notices/{notice}/read")));
    // Another province's office does not see it.
    let r = isfahan
        .post_form(&format!("/network/notices/{notice}/read"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(read_at().await, None);
    let r = officer
        .post_form(&format!("/network/notices/{notice}/read"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let first = read_at().await;
    assert!(first.is_some());
    let (_, page) = officer.get_text("/network").await;
    assert!(!page.contains(&format!("/network/notices/{notice}/read")));
    // Marking it again keeps the first time.
    let r = officer
        .post_form(&format!("/network/notices/{notice}/read"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(read_at().await, first);
}

/// The office links a producer by searching the registry (POST, in its own scope) for her name
/// or national code and picking the person: her female-head status follows the registry. A
/// person of another province is neither found nor linked by her id; another province's
/// office cannot search for this producer.
#[tokio::test]
async fn the_office_links_a_producer_to_the_registry_by_search() {
    use crate::support::code;
    let app = spawn_app().await;
    let system = hamdeli_app::system_principal();
    let caller = hamdeli_app::Caller::new(&system, "test");
    let relief = hamdeli_store::organisations::id_by_name(&app.store, "کمیته امداد (نمایشی)")
        .await
        .unwrap()
        .unwrap();
    let mut csv = "شماره خانوار,کد ملی,نام,نام خانوادگی,جنسیت,تاریخ تولد,نسبت با سرپرست,\
                   استان,شهرستان,شهری/روستایی,علت سرپرستی\n"
        .to_owned();
    csv.push_str(&format!(
        "۷۰۰۱,{},نرگس,شاکری,زن,۱۳۶۲/۰۴/۱۰,سرپرست,تهران,تهران,شهری,فوت همسر\n",
        code(7001)
    ));
    csv.push_str(&format!(
        "۷۰۰۲,{},نرگس,شاکری,زن,۱۳۶۸/۰۲/۰۲,سرپرست,اصفهان,اصفهان,شهری,مطلقه\n",
        code(7002)
    ));
    let reader = hamdeli_ingest::from_bytes(csv.into_bytes())
        .and_then(hamdeli_ingest::ChunkReader::new)
        .unwrap();
    hamdeli_app::imports::commit_streamed(
        &app.store,
        &caller,
        relief,
        "سرپرستان آزمون بازار",
        "survey",
        "households.csv",
        reader,
        &hamdeli_registry::import::Progress::default(),
    )
    .await
    .unwrap();
    hamdeli_app::imports::relink(&app.store, &caller, &hamdeli_link::LinkOptions::default())
        .await
        .unwrap();
    let person_of = |c: String| {
        let store = app.store.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT id FROM persons WHERE national_code = $1")
                .bind(c)
                .fetch_one(store.pool())
                .await
                .unwrap()
        }
    };
    let tehran_person = person_of(code(7001)).await;
    let isfahan_person = person_of(code(7002)).await;

    // The demo producer's shop in Tehran.
    let producer_user = hamdeli_store::users::by_id(&app.store, app.user_ids["producer"])
        .await
        .unwrap()
        .unwrap()
        .principal();
    let shop = match hamdeli_app::market::my_shop(&app.store, &producer_user)
        .await
        .unwrap()
    {
        Some(s) => s.id,
        None => hamdeli_app::market::open_shop(
            &app.store,
            &hamdeli_app::Caller::new(&producer_user, "test"),
            &hamdeli_app::market::ShopInput {
                shop_name: "کارگاه نرگس".into(),
                mobile: "09121110000".into(),
                province: "تهران".into(),
                county: "تهران".into(),
                categories: vec!["food".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap(),
    };
    let linked = || {
        let store = app.store.clone();
        async move {
            sqlx::query_as::<_, (Option<i64>, i64)>(
                "SELECT person_id, female_head FROM market_producers WHERE id = $1",
            )
            .bind(shop)
            .fetch_one(store.pool())
            .await
            .unwrap()
        }
    };
    let find = format!("/market/office/producers/{shop}/find");
    let link = format!("/market/office/producers/{shop}/link");

    let officer = app.login("tehran.officer").await;
    let (s, page) = officer.get_text("/market/office").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains(&find), "a search form, not an id box");
    // By name: the Tehran woman only (the Isfahan one is outside the office's scope).
    let r = officer.post_form(&find, &[("q", "نرگس شاکری")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains(&format!("data-person=\"{tehran_person}\"")));
    assert!(!page.contains(&format!("data-person=\"{isfahan_person}\"")));
    // By national code, in Persian digits.
    let persian: String = code(7001)
        .chars()
        .map(|c| char::from_u32('۰' as u32 + c.to_digit(10).unwrap()).unwrap())
        .collect();
    let r = officer.post_form(&find, &[("q", &persian)]).await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&format!("data-person=\"{tehran_person}\""))
    );
    // Nothing typed: a message.
    let r = officer.post_form(&find, &[("q", "  ")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Another province's office does not reach this producer.
    let isfahan = app.login("isfahan.officer").await;
    let r = isfahan.post_form(&find, &[("q", "نرگس شاکری")]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // An id outside her scope is not linked.
    let r = officer
        .post_form(&link, &[("person", &isfahan_person.to_string())])
        .await;
    assert_ne!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(linked().await, (None, 0));
    // She picks the person found: linked, and the female-head status follows the registry.
    let r = officer
        .post_form(&link, &[("person", &tehran_person.to_string())])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(linked().await, (Some(tehran_person), 1));
    let (_, page) = officer.get_text("/market/office").await;
    assert!(page.contains(&format!("/registry/persons/{tehran_person}")));
}

/// `/reports/list?status=all` pages by key (100 a page, newest first, a next link): every
/// report of the scope exactly once over the pages, a provincial officer her province's only.
#[tokio::test]
async fn the_reports_list_pages_by_key() {
    let app = spawn_app().await;
    hamdeli::demo_reports::seed(&app.store).await.unwrap();
    let (dataset, version): (i64, i64) =
        sqlx::query_as("SELECT id, version FROM report_datasets ORDER BY id LIMIT 1")
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    let isfahan = hamdeli_store::users::by_id(&app.store, app.user_ids["isfahan.officer"])
        .await
        .unwrap()
        .unwrap()
        .scope
        .province()
        .unwrap()
        .to_owned();
    // 230 reports more: 150 of Tehran, 80 of Isfahan, each its own (made-up) period.
    for i in 0..230 {
        let province = if i < 150 { "23" } else { isfahan.as_str() };
        sqlx::query(
            "INSERT INTO reports (dataset_id, version, province_code, county_code, period, \
             status, due_on, created_at, updated_at) VALUES ($1, $2, $3, '', $4, 'draft', \
             '2026-01-01', $5, $5)",
        )
        .bind(dataset)
        .bind(version)
        .bind(province.to_owned())
        .bind(format!("1300-P{i:03}"))
        .bind(1_700_000_000_000_i64 + i)
        .execute(app.store.pool())
        .await
        .unwrap();
    }
    let count = |sql: &'static str, bind: Option<String>| {
        let store = app.store.clone();
        async move {
            let mut q = sqlx::query_scalar::<_, i64>(sql);
            if let Some(b) = bind {
                q = q.bind(b);
            }
            q.fetch_one(store.pool()).await.unwrap()
        }
    };
    let all = count("SELECT COUNT(*) FROM reports", None).await;
    let tehran = count(
        "SELECT COUNT(*) FROM reports WHERE province_code = $1",
        Some("23".into()),
    )
    .await;
    for (who, want) in [("admin", all), ("tehran.officer", tehran)] {
        let c = app.login(who).await;
        let mut path = "/reports/list?status=all".to_owned();
        let mut seen = std::collections::HashSet::new();
        let mut pages = 0;
        loop {
            let (s, body) = c.get_text(&path).await;
            assert_eq!(s, StatusCode::OK, "{who} {path}");
            pages += 1;
            let rows: Vec<&str> = body
                .split("<tr><th scope=\"row\"><a href=\"")
                .skip(1)
                .map(|r| r.split('"').next().unwrap())
                .collect();
            assert!(rows.len() <= 100, "{who}: at most 100 a page");
            for r in rows {
                assert!(seen.insert(r.to_owned()), "{who}: {r} twice");
                if who == "tehran.officer" {
                    assert!(!r.contains(&format!("place={isfahan}")), "{r}");
                }
            }
            let Some(next) = body
                .split("data-testid=\"report-list-next\"")
                .next()
                .filter(|_| body.contains("report-list-next"))
                .and_then(|b| b.rsplit("href=\"").next())
                .map(|h| {
                    h.split('"')
                        .next()
                        .unwrap()
                        .replace("&amp;", "&")
                        .replace("&#38;", "&")
                })
            else {
                break;
            };
            path = next;
            assert!(pages < 10);
        }
        assert_eq!(seen.len() as i64, want, "{who}: every report once");
        assert!(pages >= 2, "{who}: more than one page");
    }
}
