//! Capability network, end to end: capable women and their consent (office entry and her own
//! self-service by a one-time code), the public directory and the export; volunteers, the
//! provincial check and the licence sweep; centres, cases, proposals with reasons, and who
//! reads a case's personal details (audited); NGOs' lifecycle and the rule that an NGO without
//! an active licence receives no campaign funds and no partner access.

use reqwest::StatusCode;

use hamdeli_app::Caller;
use hamdeli_app::sms::LogSender;
use hamdeli_domain::network::dates::plus_days;
use hamdeli_domain::{Principal, Role, Scope};
use hamdeli_store::users::{self, NewUser};

use crate::support::{Client, PASSWORD, TestApp, spawn_app};

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn principal(app: &TestApp, username: &str) -> Principal {
    let id = users::id_by_username(&app.store, username)
        .await
        .unwrap()
        .unwrap();
    users::by_id(&app.store, id)
        .await
        .unwrap()
        .unwrap()
        .principal()
}

/// The county of a county expert's scope.
async fn county_of(app: &TestApp, username: &str) -> (String, String) {
    let p = principal(app, username).await;
    (
        p.scope.province().unwrap().to_owned(),
        p.scope.county().unwrap().to_owned(),
    )
}

fn sent_code(mobile: &str) -> String {
    let text = LogSender::last_text_to(mobile).expect("a code was sent");
    let chars: Vec<char> = text.chars().collect();
    chars
        .windows(6)
        .find(|w| w.iter().all(char::is_ascii_digit))
        .map(|w| w.iter().collect())
        .expect("a six-digit code")
}

async fn audited(app: &TestApp, action: &str, target: &str) -> Vec<String> {
    sqlx::query_scalar::<_, String>(
        "SELECT actor FROM audit_log WHERE action = $1 AND target_id = $2 ORDER BY id",
    )
    .bind(action)
    .bind(target)
    .fetch_all(app.store.pool())
    .await
    .unwrap()
}

async fn enter_woman(c: &Client, county: &str, name: &str, consent: &str) -> i64 {
    let r = c
        .post_form(
            "/network/women/new",
            &[
                ("name", name),
                ("mobile", ""),
                ("field", "handicrafts"),
                ("education", "دیپلم"),
                ("skills", "خياطي، گلدوزی"),
                ("achievements", "نمایشگاه استانی"),
                ("languages", "fa"),
                ("languages", "az"),
                ("county", county),
                ("contact", "دفتر شهرستان"),
                ("consent", consent),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let to = location(&r);
    to.rsplit('/').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn consent_decides_who_reads_a_profile_and_every_change_is_kept() {
    let app = spawn_app().await;
    let (_, county) = county_of(&app, "tehran.expert").await;
    let expert = app.login("tehran.expert").await;
    let id = enter_woman(&expert, &county, "شهین تستی", "office").await;

    // "This office only": Tehran's offices read her; Isfahan's and the national office do not.
    let officer = app.login("tehran.officer").await;
    let (s, html) = officer.get_text(&format!("/network/women/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("شهین تستی"));
    let isfahan = app.login("isfahan.officer").await;
    assert_eq!(
        isfahan.get(&format!("/network/women/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let (_, list) = isfahan.get_text("/network/women").await;
    assert!(!list.contains("شهین تستی"));
    // A skill typed in Arabic letters finds her (normalised search).
    let (_, found) = officer
        .get_text("/network/women?skill=%D8%AE%DB%8C%D8%A7%D8%B7%DB%8C")
        .await;
    assert!(found.contains("شهین تستی"), "{found}");
    // Volunteers and partners never read profiles.
    let partner = app.login("relief.partner").await;
    assert_eq!(
        partner.get("/network/women").await.status(),
        StatusCode::FORBIDDEN
    );

    // Public card: everyone's directory shows her, without her contact.
    let r = expert
        .post_form(
            &format!("/network/women/{id}/consent"),
            &[("consent", "public")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, dir) = app.client().get_text("/network/directory").await;
    assert!(dir.contains("شهین تستی") && !dir.contains("دفتر شهرستان"));
    assert_eq!(
        isfahan.get(&format!("/network/women/{id}")).await.status(),
        StatusCode::OK
    );
    let api: serde_json::Value = app
        .client()
        .get("/api/v1/network/directory")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        api["cards"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "شهین تستی")
    );

    // Withdrawn: nobody reads her, the directory drops her; the history keeps all three.
    let r = expert
        .post_form(
            &format!("/network/women/{id}/consent"),
            &[("consent", "withdrawn")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        officer.get(&format!("/network/women/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let (_, dir) = app.client().get_text("/network/directory").await;
    assert!(!dir.contains("شهین تستی"));
    let history = hamdeli_store::network::women::history(&app.store, id)
        .await
        .unwrap();
    let levels: Vec<&str> = history.iter().map(|h| h.consent.as_str()).collect();
    assert_eq!(levels, ["office", "public", "withdrawn"]);
    assert_eq!(
        audited(&app, "network.woman.consent", &id.to_string())
            .await
            .len(),
        2
    );
    assert!(
        !audited(&app, "network.woman.read", &id.to_string())
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_office_exports_the_databank_and_forms_refuse_in_words() {
    let app = spawn_app().await;
    let (_, county) = county_of(&app, "tehran.expert").await;
    let expert = app.login("tehran.expert").await;
    let id = enter_woman(&expert, &county, "مهری صادراتی", "all_offices").await;
    // Her office edits the profile; another province's office may read it but not edit it.
    let (s, form) = expert.get_text(&format!("/network/women/{id}/edit")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(form.contains("مهری صادراتی"));
    let r = expert
        .post_form(
            &format!("/network/women/{id}/edit"),
            &[
                ("name", "مهری صادراتی"),
                ("field", "business"),
                ("skills", "فروش"),
                ("languages", "fa"),
                ("county", &county),
            ],
        )
        .await;
    assert_eq!(location(&r), format!("/network/women/{id}"));
    let w = hamdeli_store::network::women::by_id(&app.store, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (w.field.as_str(), w.consent.as_str()),
        ("business", "all_offices")
    );
    let isfahan = app.login("isfahan.officer").await;
    assert_eq!(
        isfahan
            .get(&format!("/network/women/{id}/edit"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let officer = app.login("tehran.officer").await;
    let r = officer.get("/network/women?format=xlsx").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    assert_eq!(
        expert.get("/network/women?format=xlsx").await.status(),
        StatusCode::FORBIDDEN
    );
    // A bad mobile is refused in Persian, the typed name kept.
    let r = expert
        .post_form(
            "/network/women/new",
            &[
                ("name", "نام نگه‌داشته"),
                ("mobile", "12"),
                ("field", "arts"),
                ("county", &county),
                ("consent", "office"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    assert!(html.contains("شمارهٔ همراه معتبر نیست") && html.contains("نام نگه‌داشته"));
}

#[tokio::test]
async fn she_makes_her_own_profile_with_a_code_and_withdraws_her_consent() {
    let app = spawn_app().await;
    let (_, county) = county_of(&app, "tehran.expert").await;
    let her = app.client();
    let mobile = "09351231234";
    let r = her
        .post_form("/network/me/code", &[("mobile", "+98 935 123 1234")])
        .await;
    // The code's page at once, her number in its form and never in an address.
    assert_eq!(r.status(), StatusCode::OK);
    assert!(location(&r).is_empty());
    let page = r.text().await.unwrap();
    assert!(page.contains("action=\"/network/me/verify\"") && page.contains(mobile));
    // The code's page by address reads no number: back to the start.
    let r = her
        .get(&format!("/network/me/verify?mobile={mobile}"))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/network/me");
    let wrong = her
        .post_form(
            "/network/me/verify",
            &[("mobile", mobile), ("code", "000000x")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let r = her
        .post_form(
            "/network/me/verify",
            &[("mobile", mobile), ("code", &sent_code(mobile))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = her
        .post_form(
            "/network/me",
            &[
                ("name", "نگار خودخدمت"),
                ("field", "technology"),
                ("skills", "طراحی وب"),
                ("languages", "fa"),
                ("county", &county),
                ("consent", "public"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let w = hamdeli_store::network::women::by_mobile(&app.store, mobile)
        .await
        .unwrap()
        .expect("her profile, under her proven mobile");
    assert!(w.self_service && w.consent == "public");
    let (_, dir) = app.client().get_text("/network/directory").await;
    assert!(dir.contains("نگار خودخدمت"));
    let r = her
        .post_form("/network/me/consent", &[("consent", "withdrawn")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, dir) = app.client().get_text("/network/directory").await;
    assert!(!dir.contains("نگار خودخدمت"));
    let history = hamdeli_store::network::women::history(&app.store, w.id)
        .await
        .unwrap();
    assert_eq!(history.len(), 2);
    assert!(history.iter().all(|h| h.source == "self"));
    // Without the cookie nobody changes her profile.
    let stranger = app.client();
    let r = stranger
        .post_form("/network/me/consent", &[("consent", "public")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// The demo volunteer's profile through her page; the Tehran officer verifies it.
async fn volunteer_signs_up(app: &TestApp, county: &str, province: &str) -> (Client, i64) {
    let v = app.login("volunteer").await;
    let r = v.get("/").await;
    assert_eq!(
        location(&r),
        "/network/volunteer",
        "a volunteer lands on her page"
    );
    let expires = plus_days(&hamdeli_app::network::today(), 200).unwrap();
    let r = v
        .post_form(
            "/network/volunteer",
            &[
                ("name", "مشاور آزمون"),
                ("mobile", "09121112233"),
                ("gender", "f"),
                ("specialty", "counsellor"),
                ("licence_number", "L-77"),
                ("licence_issuer", "سازمان نظام روان‌شناسی"),
                ("licence_expires_on", &expires),
                ("languages", "fa"),
                ("languages", "az"),
                ("province", province),
                ("counties", county),
                ("weekly_hours", "۸"),
                ("days", "0"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let me = principal(app, "volunteer").await;
    let vol = hamdeli_store::network::volunteers::by_user(&app.store, me.user_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(vol.status, "pending");
    let isfahan = app.login("isfahan.officer").await;
    let r = isfahan
        .post_form(
            &format!("/network/volunteers/{}/check", vol.id),
            &[("decision", "verify")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let officer = app.login("tehran.officer").await;
    let r = officer
        .post_form(
            &format!("/network/volunteers/{}/check", vol.id),
            &[("decision", "verify")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    (v, vol.id)
}

#[tokio::test]
async fn a_case_goes_from_proposal_to_close_and_only_its_centre_and_volunteer_read_it() {
    let app = spawn_app().await;
    let (province, county) = county_of(&app, "tehran.expert").await;
    let (volunteer, vol_id) = volunteer_signs_up(&app, &county, &province).await;
    let officer = app.login("tehran.officer").await;
    let r = officer
        .post_form(
            "/network/centres",
            &[("name", "اورژانس آزمون"), ("county", &county)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let centre: i64 = location(&r).rsplit('/').next().unwrap().parse().unwrap();
    let expert = app.login("tehran.expert").await;
    // The provincial officer is not the centre's staff: no case from it.
    let r = officer
        .post_form(
            &format!("/network/centres/{centre}/cases"),
            &[
                ("specialty", "counsellor"),
                ("language", "az"),
                ("urgency", "high"),
                ("client_name", "x"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = expert
        .post_form(
            &format!("/network/centres/{centre}/cases"),
            &[
                ("specialty", "counsellor"),
                ("language", "az"),
                ("gender_preference", "f"),
                ("urgency", "high"),
                ("client_name", "مراجع محرمانه"),
                ("client_phone", "09125556677"),
                ("details", "شرح محرمانه"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let case: i64 = location(&r).rsplit('/').next().unwrap().parse().unwrap();

    // Proposals with their reasons.
    let (s, html) = expert.get_text(&format!("/network/cases/{case}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("مراجع محرمانه") && html.contains("مشاور آزمون"));
    assert!(html.contains("زبان مراجع را می‌داند") && html.contains("در همین شهرستان"));
    let api: serde_json::Value = expert
        .get(&format!("/api/v1/network/cases/{case}/proposals"))
        .await
        .json()
        .await
        .unwrap();
    let first = &api[0];
    assert_eq!(first["volunteer_id"], vol_id);
    let codes: Vec<&str> = first["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"specialty") && codes.contains(&"language") && codes.contains(&"gender")
    );

    let r = expert
        .post_form(
            &format!("/network/cases/{case}/assign"),
            &[("volunteer", &vol_id.to_string())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Who reads the personal details: the centre's staff and her; the province's officer sees
    // the case without them; another county's expert, another volunteer and a partner not at all.
    let (_, html) = volunteer.get_text(&format!("/network/cases/{case}")).await;
    assert!(html.contains("مراجع محرمانه"));
    let (s, html) = officer.get_text(&format!("/network/cases/{case}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!html.contains("مراجع محرمانه") && !html.contains("09125556677"));
    assert!(html.contains("case-personal-hidden"));
    for who in [
        "tehran2.expert",
        "isfahan.expert",
        "relief.partner",
        "donor",
    ] {
        let c = app.login(who).await;
        let (s, html) = c.get_text(&format!("/network/cases/{case}")).await;
        assert!(
            s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN,
            "{who}: {s}"
        );
        assert!(!html.contains("مراجع محرمانه"), "{who}");
    }
    let other = {
        let mut tx = app.store.begin().await.unwrap();
        users::create(
            &mut tx,
            NewUser {
                username: "volunteer.other".into(),
                display_name: "دیگری".into(),
                password: PASSWORD.into(),
                role: Role::Volunteer,
                scope: Scope::Own,
                locale: "fa".into(),
                is_demo: false,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        app.login("volunteer.other").await
    };
    let (s, html) = other.get_text(&format!("/network/cases/{case}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(!html.contains("مراجع محرمانه"));
    // Every read audited, with whether personal details were in it.
    let reads: Vec<String> = sqlx::query_scalar::<_, String>(
        "SELECT detail FROM audit_log WHERE action = 'network.case.read' AND target_id = $1",
    )
    .bind(case.to_string())
    .fetch_all(app.store.pool())
    .await
    .unwrap();
    assert!(reads.iter().filter(|d| d.contains("true")).count() >= 2);
    assert!(reads.iter().any(|d| d.contains("false")));

    // She accepts, logs a session; the centre closes it with an outcome; her load is freed.
    let r = volunteer
        .post_form(
            &format!("/network/cases/{case}/respond"),
            &[("answer", "accept")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let today = hamdeli_app::network::today();
    let r = volunteer
        .post_form(
            &format!("/network/cases/{case}/sessions"),
            &[("held_on", &today), ("minutes", "۹۰"), ("note", "")],
        )
        .await;
    assert_eq!(location(&r), format!("/network/cases/{case}"));
    let r = expert
        .post_form(
            &format!("/network/cases/{case}/close"),
            &[("outcome", "resolved")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let k = hamdeli_store::network::cases::case(&app.store, case)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (k.state.as_str(), k.outcome.as_deref(), k.minutes),
        ("closed", Some("resolved"), 90)
    );
    let v = hamdeli_store::network::volunteers::by_id(&app.store, vol_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v.open_cases, 0);
    let (s, html) = officer.get_text("/network/reports").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("<svg") && html.contains("حل‌شده"));
    let r = officer
        .get("/network/reports?format=xlsx&table=cases")
        .await;
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
}

#[tokio::test]
async fn a_declined_case_is_not_proposed_to_her_again() {
    let app = spawn_app().await;
    let (province, county) = county_of(&app, "tehran.expert").await;
    let (volunteer, vol_id) = volunteer_signs_up(&app, &county, &province).await;
    let officer = principal(&app, "tehran.officer").await;
    let centre = hamdeli_app::network::cases::create_centre(
        &app.store,
        &Caller::new(&officer, "test"),
        "مرکز رد",
        &county,
    )
    .await
    .unwrap();
    let expert = principal(&app, "tehran.expert").await;
    let staff = Caller::new(&expert, "test");
    let case = hamdeli_app::network::cases::open_case(
        &app.store,
        &staff,
        centre,
        &hamdeli_app::network::cases::CaseInput {
            specialty: "counsellor".into(),
            language: "fa".into(),
            urgency: "normal".into(),
            client_name: "x".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    hamdeli_app::network::cases::assign(&app.store, &staff, case, vol_id)
        .await
        .unwrap();
    let r = volunteer
        .post_form(
            &format!("/network/cases/{case}/respond"),
            &[("answer", "decline")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let list = hamdeli_app::network::cases::proposals(&app.store, &staff, case)
        .await
        .unwrap();
    assert!(list.iter().all(|p| p.volunteer_id != vol_id));
    // And she cannot be assigned it again.
    assert!(
        hamdeli_app::network::cases::assign(&app.store, &staff, case, vol_id)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_licence_sweep_suspends_an_expired_volunteer_and_tells_the_office() {
    let app = spawn_app().await;
    let (province, county) = county_of(&app, "tehran.expert").await;
    let (_, vol_id) = volunteer_signs_up(&app, &county, &province).await;
    let today = hamdeli_app::network::today();
    let report = hamdeli_app::network::volunteers::sweep(&app.store, &today)
        .await
        .unwrap();
    assert_eq!(report.volunteers_suspended, 0);
    // 201 days on, her licence (200 days) has expired.
    let later = plus_days(&today, 201).unwrap();
    let report = hamdeli_app::network::volunteers::sweep(&app.store, &later)
        .await
        .unwrap();
    assert_eq!(report.volunteers_suspended, 1);
    let v = hamdeli_store::network::volunteers::by_id(&app.store, vol_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v.status, "suspended");
    let officer = app.login("tehran.officer").await;
    let (_, html) = officer.get_text("/network").await;
    assert!(
        html.contains("مشاور آزمون") && html.contains("منقضی"),
        "{html}"
    );
    let isfahan = app.login("isfahan.officer").await;
    let (_, html) = isfahan.get_text("/network").await;
    assert!(!html.contains("مشاور آزمون"));
    assert_eq!(
        audited(&app, "network.volunteer.suspend", &vol_id.to_string()).await,
        ["system:licence-sweep"]
    );
    // The sweep is idempotent.
    let again = hamdeli_app::network::volunteers::sweep(&app.store, &later)
        .await
        .unwrap();
    assert_eq!(again.volunteers_suspended, 0);
}

#[tokio::test]
async fn an_ngo_without_an_active_licence_gets_no_funds_and_no_partner_access() {
    let app = spawn_app().await;
    let (province, county) = county_of(&app, "tehran.expert").await;
    let admin = principal(&app, "admin").await;
    let org = hamdeli_app::organisations::create(
        &app.store,
        &Caller::new(&admin, "test"),
        hamdeli_app::organisations::OrganisationInput {
            name_fa: "سمن آزمون".into(),
            name_en: "Test NGO".into(),
            kind: "ngo".into(),
            province: Some(province.clone()),
        },
    )
    .await
    .unwrap();
    {
        let mut tx = app.store.begin().await.unwrap();
        users::create(
            &mut tx,
            NewUser {
                username: "ngo.partner".into(),
                display_name: "کاربر سمن".into(),
                password: PASSWORD.into(),
                role: Role::PartnerOrg,
                scope: Scope::Organisation { organisation: org },
                locale: "fa".into(),
                is_demo: false,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    let partner = app.login("ngo.partner").await;
    assert_eq!(partner.get("/").await.status(), StatusCode::FORBIDDEN);
    // Its API key is refused too, until the licence is active.
    let (_, secret) =
        hamdeli_app::api_keys::issue(&app.store, &Caller::new(&admin, "test"), org, "سامانهٔ سمن")
            .await
            .unwrap();
    let by_key = || async {
        reqwest::Client::new()
            .get(app.url("/api/v1/me"))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(by_key().await, StatusCode::FORBIDDEN);

    // The provincial office registers the licence and walks the lifecycle.
    let officer = app.login("tehran.officer").await;
    let expires = plus_days(&hamdeli_app::network::today(), 90).unwrap();
    // A capacity out of bounds or not a number is refused in words; Persian digits are read.
    for bad in ["-1", "1000000000000000000000000000000", "صد", "12.5"] {
        let r = officer
            .post_form(
                &format!("/network/ngos/{org}/licence"),
                &[
                    ("licence_issuer", "وزارت کشور"),
                    ("licence_number", "N-1"),
                    ("licence_expires_on", &expires),
                    ("fields", "آموزش"),
                    ("county", &county),
                    ("board", "الف"),
                    ("capacity", bad),
                ],
            )
            .await;
        assert!(
            location(&r).contains("error=network-capacity-invalid"),
            "capacity {bad}: {}",
            location(&r)
        );
    }
    let r = officer
        .post_form(
            &format!("/network/ngos/{org}/licence"),
            &[
                ("licence_issuer", "وزارت کشور"),
                ("licence_number", "N-1"),
                ("licence_expires_on", &expires),
                ("fields", "آموزش"),
                ("county", &county),
                ("board", "الف"),
                ("capacity", "۱۰۰"),
            ],
        )
        .await;
    assert_eq!(location(&r), format!("/network/ngos/{org}"));
    let r = officer
        .post_form(&format!("/network/ngos/{org}/step"), &[("to", "active")])
        .await;
    assert!(location(&r).contains("error=network-ngo-step-not-allowed"));
    for to in ["verified", "active"] {
        let r = officer
            .post_form(&format!("/network/ngos/{org}/step"), &[("to", to)])
            .await;
        assert_eq!(location(&r), format!("/network/ngos/{org}"), "{to}");
    }
    for bad in ["0", "-3", "99999999999999999999", "دوازده"] {
        let r = officer
            .post_form(
                &format!("/network/ngos/{org}/trainings"),
                &[
                    ("title", "دورهٔ مدیریت"),
                    ("held_on", "2026-01-10"),
                    ("hours", bad),
                    ("certificate", "C-1"),
                ],
            )
            .await;
        assert!(
            location(&r).contains("error=network-hours-invalid"),
            "hours {bad}: {}",
            location(&r)
        );
    }
    let r = officer
        .post_form(
            &format!("/network/ngos/{org}/trainings"),
            &[
                ("title", "دورهٔ مدیریت"),
                ("held_on", "2026-01-10"),
                ("hours", "۱۲"),
                ("certificate", "C-1"),
            ],
        )
        .await;
    assert_eq!(location(&r), format!("/network/ngos/{org}"));
    let (_, html) = officer.get_text(&format!("/network/ngos/{org}")).await;
    assert!(html.contains("دورهٔ مدیریت") && html.contains("فعال"));
    // Active: the partner works, starts a campaign, a donor pledges to it.
    assert_eq!(partner.get("/").await.status(), StatusCode::OK);
    assert_eq!(by_key().await, StatusCode::OK);
    let partner_p = principal(&app, "ngo.partner").await;
    let campaign = hamdeli_app::campaigns::create(
        &app.store,
        &Caller::new(&partner_p, "test"),
        hamdeli_app::campaigns::CampaignInput {
            title: "پویش سمن".into(),
            description: String::new(),
            province: Some(province.clone()),
            county: None,
            goal_rials: 1_000_000_000,
            starts_on: hamdeli_app::network::today(),
            ends_on: expires.clone(),
            need_types: vec![("food".into(), 1)],
        },
    )
    .await
    .unwrap();
    let donor = principal(&app, "donor").await;
    {
        let mut tx = app.store.begin().await.unwrap();
        hamdeli_store::campaigns::register_donor(&mut tx, donor.user_id.unwrap(), "09350001122")
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let pledge = |amount: i64| {
        let store = app.store.clone();
        let donor = donor.clone();
        async move {
            hamdeli_app::campaigns::pledge(
                &store,
                &Caller::new(&donor, "test"),
                campaign,
                "money",
                amount,
            )
            .await
        }
    };
    let first = pledge(10_000_000)
        .await
        .expect("an active NGO receives funds");
    let second = pledge(20_000_000).await.expect("a second pledge");
    // The national office runs every campaign (receipts, allocation).
    let office = admin.clone();
    let receive = |pledge_id: i64| {
        let store = app.store.clone();
        let office = office.clone();
        async move {
            hamdeli_app::campaigns::receive(
                &store,
                &Caller::new(&office, "test"),
                campaign,
                pledge_id,
                10_000_000,
                "BANK-1",
            )
            .await
        }
    };
    receive(first)
        .await
        .expect("an active NGO's donation is received");
    let allocate = || {
        let store = app.store.clone();
        let office = office.clone();
        async move {
            let c = hamdeli_store::campaigns::get(&store, campaign)
                .await
                .unwrap()
                .unwrap();
            hamdeli_app::campaigns::allocation_commit(
                &store,
                &Caller::new(&office, "test"),
                &c,
                &hamdeli_app::campaigns::AllocationRequest {
                    resource: "money".into(),
                    policy: hamdeli_alloc::Policy::WaterFill,
                    window: hamdeli_store::distribution::Window {
                        from: 0,
                        to: i64::MAX,
                    },
                    quotas: Default::default(),
                },
            )
            .await
            .map(|_| ())
        }
    };
    let active = allocate().await;
    assert!(
        !matches!(
            active,
            Err(hamdeli_app::Error::Conflict("network-ngo-unlicensed"))
        ),
        "an active NGO's campaign allocates: {active:?}"
    );
    // Suspended: no partner access, no funds.
    let r = officer
        .post_form(&format!("/network/ngos/{org}/step"), &[("to", "suspended")])
        .await;
    assert_eq!(location(&r), format!("/network/ngos/{org}"));
    assert_eq!(partner.get("/").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(by_key().await, StatusCode::FORBIDDEN);
    let refused = pledge(10_000_000).await;
    assert!(
        matches!(
            refused,
            Err(hamdeli_app::Error::Conflict("network-ngo-unlicensed"))
        ),
        "{refused:?}"
    );
    // …nor is a donation received for its campaign, nor its pool allocated (use case level).
    let refused = receive(second).await;
    assert!(
        matches!(
            refused,
            Err(hamdeli_app::Error::Conflict("network-ngo-unlicensed"))
        ),
        "{refused:?}"
    );
    let refused = allocate().await;
    assert!(
        matches!(
            refused,
            Err(hamdeli_app::Error::Conflict("network-ngo-unlicensed"))
        ),
        "{refused:?}"
    );
    // Other organisations are untouched by the rule.
    let relief = app.login("relief.partner").await;
    assert_eq!(relief.get("/").await.status(), StatusCode::OK);
    // An Isfahan officer may not touch a Tehran NGO.
    let isfahan = app.login("isfahan.officer").await;
    let r = isfahan
        .post_form(&format!("/network/ngos/{org}/step"), &[("to", "active")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn network_pages_answer_every_role_in_persian() {
    let app = spawn_app().await;
    for (who, path, want) in [
        ("admin", "/network", StatusCode::OK),
        ("admin", "/network/women", StatusCode::OK),
        ("admin", "/network/volunteers", StatusCode::OK),
        ("admin", "/network/centres", StatusCode::OK),
        ("admin", "/network/ngos", StatusCode::OK),
        ("admin", "/network/reports", StatusCode::OK),
        ("tehran.expert", "/network/women/new", StatusCode::OK),
        ("volunteer", "/network/volunteer", StatusCode::OK),
        ("volunteer", "/network/women", StatusCode::FORBIDDEN),
        ("donor", "/network/volunteers", StatusCode::FORBIDDEN),
        ("relief.partner", "/network/ngos", StatusCode::FORBIDDEN),
    ] {
        let c = app.login(who).await;
        let (s, html) = c.get_text(path).await;
        assert_eq!(s, want, "{who} {path}");
        if s == StatusCode::OK {
            assert!(html.contains("dir=\"rtl\""), "{who} {path}");
        }
    }
    for path in [
        "/network/directory",
        "/network/me",
        "/network/volunteers/signup",
    ] {
        let (s, _) = app.client().get_text(path).await;
        assert_eq!(s, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn a_volunteer_signs_up_with_a_code_and_the_demo_data_is_made_twice_alike() {
    let app = spawn_app().await;
    let visitor = app.client();
    let mobile = "09357778899";
    let r = visitor
        .post_form(
            "/network/volunteers/signup",
            &[("mobile", mobile), ("name", "داوطلب تازه")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(location(&r).is_empty(), "no number in an address");
    let page = r.text().await.unwrap();
    assert!(page.contains("action=\"/network/volunteers/signup/verify\"") && page.contains(mobile));
    let r = visitor
        .get(&format!(
            "/network/volunteers/signup/verify?mobile={mobile}"
        ))
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/network/volunteers/signup");
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
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    let id = users::id_by_username(&app.store, mobile)
        .await
        .unwrap()
        .unwrap();
    let u = users::by_id(&app.store, id).await.unwrap().unwrap();
    assert_eq!(u.principal().role, Role::Volunteer);

    let first = hamdeli::demo_network::seed(&app.store).await.unwrap();
    assert!(first.contains("network:"), "{first}");
    let count = |table: &'static str| {
        let store = app.store.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM {table}"
            )))
            .fetch_one(store.pool())
            .await
            .unwrap()
        }
    };
    let before = (
        count("network_women").await,
        count("network_volunteers").await,
        count("network_cases").await,
        count("network_ngos").await,
    );
    assert!(
        before.0 >= 10 && before.1 >= 7 && before.2 >= 5 && before.3 >= 5,
        "{before:?}"
    );
    hamdeli::demo_network::seed(&app.store).await.unwrap();
    let after = (
        count("network_women").await,
        count("network_volunteers").await,
        count("network_cases").await,
        count("network_ngos").await,
    );
    assert_eq!(before, after);
    // Every lifecycle state and every case state is there.
    let states: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT state FROM network_ngos ORDER BY state")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert_eq!(
        states,
        ["active", "applied", "expired", "suspended", "verified"]
    );
    let case_states: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT state FROM network_cases ORDER BY state")
            .fetch_all(app.store.pool())
            .await
            .unwrap();
    assert_eq!(case_states, ["accepted", "assigned", "closed", "open"]);
}
