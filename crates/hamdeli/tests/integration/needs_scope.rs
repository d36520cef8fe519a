//! Every needs use case tried from outside its scope — a county expert of another county, a
//! provincial officer of another province, a partner organisation and a donor: refused, nothing
//! written, nothing audited as done — and from inside it: done, audited once.

use reqwest::StatusCode;
use sqlx::Row;

use hamdeli_alloc::Policy;
use hamdeli_domain::needs::{Indicator, NeedStatus, Urgency};
use hamdeli_store::Store;
use hamdeli_store::campaigns::{self, NewCampaign};
use hamdeli_store::distribution::{self, CommittedBy, Window};
use hamdeli_store::needs::{self, NewNeed};

use crate::support::{Client, TestApp, spawn_app};

/// The outsiders of the Tehran county expert's county: (username, expected status).
const OUTSIDERS: [(&str, StatusCode); 4] = [
    ("tehran2.expert", StatusCode::NOT_FOUND),
    ("isfahan.officer", StatusCode::NOT_FOUND),
    ("relief.partner", StatusCode::FORBIDDEN),
    ("donor", StatusCode::FORBIDDEN),
];

/// Those inside it.
const INSIDERS: [&str; 3] = ["tehran.expert", "tehran.officer", "admin"];

const NAME: &str = "ترانه‌سادات";

async fn scope_of(app: &TestApp, user: &str) -> hamdeli_domain::Scope {
    hamdeli_store::users::by_id(&app.store, app.user_ids[user])
        .await
        .unwrap()
        .unwrap()
        .scope
}

async fn county_of(app: &TestApp, user: &str) -> (String, String) {
    let scope = scope_of(app, user).await;
    (
        scope.province().unwrap().to_owned(),
        scope.county().unwrap().to_owned(),
    )
}

async fn add_person(store: &Store, province: &str, county: &str, first: &str, code: &str) -> i64 {
    sqlx::query(
        "INSERT INTO persons (province_code, county_code, zone, first_name, last_name, \
         national_code, created_at, updated_at) VALUES ($1, $2, 'urban', $3, 'دامنه‌پور', $4, 0, 0) \
         RETURNING id",
    )
    .bind(province.to_owned())
    .bind(county.to_owned())
    .bind(first.to_owned())
    .bind(code.to_owned())
    .fetch_one(store.pool())
    .await
    .unwrap()
    .get(0)
}

async fn new_need(store: &Store, person: i64, status: Option<NeedStatus>) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let id = needs::create_need(
        &mut tx,
        &NewNeed {
            person_id: person,
            need_type: "food".into(),
            amount: 4,
            urgency: Urgency::Normal,
            note: None,
        },
        None,
    )
    .await
    .unwrap();
    if let Some(s) = status {
        needs::set_status(&mut tx, id, s, None).await.unwrap();
    }
    tx.commit().await.unwrap();
    id
}

async fn count(store: &Store, sql: &'static str, bind: String) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .bind(bind)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// Audit entries of an action on a target.
async fn audited(store: &Store, action: &'static str, target: impl ToString) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND target_id = $2",
    )
    .bind(action)
    .bind(target.to_string())
    .fetch_one(store.pool())
    .await
    .unwrap()
}

/// Audit entries of an action by a user.
async fn audited_by(app: &TestApp, action: &'static str, user: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND actor_user_id = $2",
    )
    .bind(action)
    .bind(app.user_ids[user])
    .fetch_one(app.store.pool())
    .await
    .unwrap()
}

async fn need_status(store: &Store, id: i64) -> String {
    needs::need(store, id).await.unwrap().unwrap().status
}

async fn logins(app: &TestApp, users: &[&str]) -> Vec<(String, Client)> {
    let mut out = vec![];
    for u in users {
        out.push(((*u).to_owned(), app.login(u).await));
    }
    out
}

#[tokio::test]
async fn the_card_recording_and_deciding_needs_stay_in_scope() {
    let app = spawn_app().await;
    let (province, county) = county_of(&app, "tehran.expert").await;
    let person = add_person(&app.store, &province, &county, NAME, "9911110001").await;
    let open = new_need(&app.store, person, None).await;
    let outsiders = logins(&app, &OUTSIDERS.map(|(u, _)| u)).await;

    // Outside: the card is not there (or not theirs at all), nothing read is audited.
    for ((who, client), (_, expected)) in outsiders.iter().zip(OUTSIDERS) {
        let (status, body) = client
            .get_text(&format!("/registry/persons/{person}/card"))
            .await;
        assert_eq!(status, expected, "{who} reads the card");
        assert!(!body.contains(NAME), "{who} sees her name");
    }
    assert_eq!(audited(&app.store, "needs.card.read", person).await, 0);

    // Outside: recording a need is refused and writes nothing.
    for ((who, client), (_, expected)) in outsiders.iter().zip(OUTSIDERS) {
        let r = client
            .post_form(
                &format!("/registry/persons/{person}/needs"),
                &[("need_type", "food"), ("amount", "3"), ("urgency", "high")],
            )
            .await;
        assert_eq!(r.status(), expected, "{who} records a need");
    }
    let needs_of = |store: Store| async move {
        count(
            &store,
            "SELECT COUNT(*) FROM needs WHERE CAST(person_id AS TEXT) = $1",
            person.to_string(),
        )
        .await
    };
    assert_eq!(needs_of(app.store.clone()).await, 1, "nothing recorded");
    assert_eq!(
        count(
            &app.store,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'need.create' AND detail LIKE $1",
            format!("%\"person\":{person}%"),
        )
        .await,
        0
    );

    // Outside: verifying or closing the need is refused, its status stays.
    for ((who, client), (_, expected)) in outsiders.iter().zip(OUTSIDERS) {
        for status in ["verified", "closed"] {
            let r = client
                .post_form(&format!("/needs/{open}/status"), &[("status", status)])
                .await;
            assert_eq!(r.status(), expected, "{who} sets {status}");
        }
    }
    assert_eq!(need_status(&app.store, open).await, "open");
    assert_eq!(audited(&app.store, "need.status", open).await, 0);

    // Inside: the expert of the county, the officer of the province and the national admin
    // each read the card (audited once each).
    for who in INSIDERS {
        let client = app.login(who).await;
        let (status, body) = client
            .get_text(&format!("/registry/persons/{person}/card"))
            .await;
        assert_eq!(status, StatusCode::OK, "{who} reads the card");
        assert!(body.contains(NAME));
        assert_eq!(audited_by(&app, "needs.card.read", who).await, 1, "{who}");
    }
    assert_eq!(audited(&app.store, "needs.card.read", person).await, 3);

    // Inside: the expert records a need (audited once) and verifies the first (audited once).
    let expert = app.login("tehran.expert").await;
    let r = expert
        .post_form(
            &format!("/registry/persons/{person}/needs"),
            &[("need_type", "food"), ("amount", "۳"), ("urgency", "high")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(needs_of(app.store.clone()).await, 2);
    let recorded: i64 = sqlx::query_scalar("SELECT MAX(id) FROM needs WHERE person_id = $1")
        .bind(person)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(audited(&app.store, "need.create", recorded).await, 1);
    let r = expert
        .post_form(&format!("/needs/{open}/status"), &[("status", "verified")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(need_status(&app.store, open).await, "verified");
    assert_eq!(audited(&app.store, "need.status", open).await, 1);
    // The officer of the province closes the recorded one (audited once).
    let officer = app.login("tehran.officer").await;
    let r = officer
        .post_form(
            &format!("/needs/{recorded}/status"),
            &[("status", "closed")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(need_status(&app.store, recorded).await, "closed");
    assert_eq!(audited(&app.store, "need.status", recorded).await, 1);
}

/// A person of the expert's county whose household is filed in another province: a need of hers
/// lands in the household's place, so the expert may neither record one (it would be filed in
/// another office's lists) nor decide one filed there.
#[tokio::test]
async fn a_need_filed_under_a_household_elsewhere_is_not_the_experts() {
    let app = spawn_app().await;
    let (province, county) = county_of(&app, "tehran.expert").await;
    let (far_province, far_county) = county_of(&app, "isfahan.expert").await;
    let person = add_person(&app.store, &province, &county, NAME, "9911110002").await;
    let household: i64 = sqlx::query(
        "INSERT INTO households (reference, head_person_id, province_code, county_code, zone, \
         female_head, dependants, disability, chronic_illness, elderly, bereaved_by_covid, \
         created_at, updated_at) VALUES ('scope-h1', $1, $2, $3, 'urban', 1, 0, 0, 0, 0, 0, 0, 0) \
         RETURNING id",
    )
    .bind(person)
    .bind(far_province.clone())
    .bind(far_county.clone())
    .fetch_one(app.store.pool())
    .await
    .unwrap()
    .get(0);
    sqlx::query(
        "INSERT INTO household_members (person_id, household_id, relation) VALUES ($1, $2, 'head')",
    )
    .bind(person)
    .bind(household)
    .execute(app.store.pool())
    .await
    .unwrap();
    let filed_far = new_need(&app.store, person, None).await;
    let need = needs::need(&app.store, filed_far).await.unwrap().unwrap();
    assert_eq!(need.county_code.as_deref(), Some(far_county.as_str()));

    let expert = app.login("tehran.expert").await;
    // The card is hers to read (the person is in the county).
    assert_eq!(
        expert
            .get(&format!("/registry/persons/{person}/card"))
            .await
            .status(),
        StatusCode::OK
    );
    let r = expert
        .post_form(
            &format!("/registry/persons/{person}/needs"),
            &[
                ("need_type", "food"),
                ("amount", "2"),
                ("urgency", "normal"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "a need filed in Isfahan");
    let r = expert
        .post_form(
            &format!("/needs/{filed_far}/status"),
            &[("status", "verified")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "a need filed in Isfahan");
    assert_eq!(need_status(&app.store, filed_far).await, "open");
    assert_eq!(
        count(
            &app.store,
            "SELECT COUNT(*) FROM needs WHERE CAST(person_id AS TEXT) = $1",
            person.to_string()
        )
        .await,
        1
    );
    assert_eq!(audited(&app.store, "need.status", filed_far).await, 0);
    assert_eq!(audited_by(&app, "need.create", "tehran.expert").await, 0);
    // The national office holds both places.
    let admin = app.login("admin").await;
    let r = admin
        .post_form(
            &format!("/needs/{filed_far}/status"),
            &[("status", "verified")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(audited(&app.store, "need.status", filed_far).await, 1);
}

#[tokio::test]
async fn weights_and_need_types_are_the_national_offices() {
    let app = spawn_app().await;
    let before = needs::weights(&app.store).await.unwrap();
    let types_before = needs::need_types(&app.store).await.unwrap().len();
    let ledger_before = hamdeli_store::ledger::head(&app.store).await.unwrap().0;
    let type_form = [
        ("code", "tablet"),
        ("name_fa", "تبلت آموزشی"),
        ("name_en", "Tablet"),
        ("unit", "unit"),
        ("active", "1"),
        ("sort", "60"),
    ];
    for who in [
        "tehran.expert",
        "tehran2.expert",
        "tehran.officer",
        "isfahan.officer",
        "relief.partner",
        "donor",
    ] {
        let client = app.login(who).await;
        let r = client
            .post_form("/priority", &[("female_head", "77")])
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who} sets a weight");
        let r = client.post_form("/needs/types", &type_form).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who} adds a type");
    }
    assert_eq!(needs::weights(&app.store).await.unwrap(), before);
    assert_eq!(
        needs::need_types(&app.store).await.unwrap().len(),
        types_before
    );
    assert_eq!(
        hamdeli_store::ledger::head(&app.store).await.unwrap().0,
        ledger_before,
        "nothing in the public log"
    );
    for action in ["priority.weights", "need_type.save"] {
        assert_eq!(
            count(
                &app.store,
                "SELECT COUNT(*) FROM audit_log WHERE action = $1",
                action.to_owned()
            )
            .await,
            0,
            "{action}"
        );
    }
    let admin = app.login("admin").await;
    let r = admin.post_form("/priority", &[("female_head", "77")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        needs::weights(&app.store)
            .await
            .unwrap()
            .of(Indicator::FemaleHead),
        77
    );
    let r = admin.post_form("/needs/types", &type_form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(audited_by(&app, "priority.weights", "admin").await, 1);
    assert_eq!(audited(&app.store, "need_type.save", "tablet").await, 1);
    assert_eq!(
        hamdeli_store::ledger::head(&app.store).await.unwrap().0,
        ledger_before + 1,
        "the weights' change is public"
    );
}

/// A verified need of a person in the county, a campaign over the province funded for it, and
/// the allocation committed: (person, allocation, delivery code).
async fn allocated(app: &TestApp, province: &str, county: &str) -> (i64, i64, String) {
    let person = add_person(&app.store, province, county, NAME, "9911110003").await;
    new_need(&app.store, person, Some(NeedStatus::Verified)).await;
    let mut tx = app.store.begin().await.unwrap();
    let campaign = campaigns::create(
        &mut tx,
        &NewCampaign {
            title: "پویش دامنه".into(),
            description: String::new(),
            organisation_id: None,
            province_code: Some(province.to_owned()),
            county_code: None,
            goal_rials: 0,
            starts_on: "2020-01-01".into(),
            ends_on: "2100-01-01".into(),
            need_types: vec![("food".into(), 4)],
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
    let pledge = campaigns::pledge(&mut tx, campaign, donor, "food", 4)
        .await
        .unwrap();
    campaigns::receive(&mut tx, pledge, 4, "REF-S", None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let c = campaigns::get(&app.store, campaign).await.unwrap().unwrap();
    distribution::commit(
        &app.store,
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
    let row = sqlx::query("SELECT id, delivery_code FROM allocations WHERE person_id = $1")
        .bind(person)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    (person, row.get(0), row.get(1))
}

#[tokio::test]
async fn tables_deliveries_and_the_served_twice_report_stay_in_scope() {
    let app = spawn_app().await;
    let (province, county) = county_of(&app, "tehran.expert").await;
    let (person, allocation, code) = allocated(&app, &province, &county).await;
    // Served for food by two organisations this year.
    let orgs: Vec<i64> = sqlx::query_scalar("SELECT id FROM organisations ORDER BY id LIMIT 2")
        .fetch_all(app.store.pool())
        .await
        .unwrap();
    for org in &orgs {
        sqlx::query(
            "INSERT INTO support_ledger (person_id, organisation_id, need_type, amount, period, at, \
             source) VALUES ($1, $2, 'food', 1, '1405-02', 0, 'import')",
        )
        .bind(person)
        .bind(*org)
        .execute(app.store.pool())
        .await
        .unwrap();
    }
    let outsiders = logins(&app, &OUTSIDERS.map(|(u, _)| u)).await;
    let ledger_rows = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM support_ledger")
            .fetch_one(app.store.pool())
            .await
            .unwrap()
    };
    let rows_before = ledger_rows().await;

    for ((who, client), (_, expected)) in outsiders.iter().zip(OUTSIDERS) {
        // An office elsewhere reads its own (empty) lists; a partner and a donor none at all.
        let list_status = if expected == StatusCode::FORBIDDEN {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::OK
        };
        for path in [
            "/needs?by=county".to_owned(),
            format!("/needs?by=county&county={county}"),
            "/deliveries".to_owned(),
            "/support/double?period=1405".to_owned(),
            "/support/double?period=1405&format=csv".to_owned(),
        ] {
            // A partner reads its own campaigns' deliveries and its own persons served twice
            // (issue 12.4): the page answers, and still without her.
            let partner_view = who.ends_with(".partner")
                && (path.starts_with("/deliveries") || path.starts_with("/support/double"));
            let want = if partner_view {
                StatusCode::OK
            } else {
                list_status
            };
            let (status, body) = client.get_text(&path).await;
            assert_eq!(status, want, "{who} GET {path}");
            assert!(!body.contains(NAME), "{who} GET {path} shows her");
        }
        let (status, body) = client
            .get_text(&format!("/needs?by=county&county={county}&format=csv"))
            .await;
        assert_eq!(status, list_status, "{who} downloads the table");
        assert!(
            !body.contains(",1,1,4,4,0"),
            "{who} counts her need: {body}"
        );
        let (status, body) = client
            .get_text(&format!("/api/v1/needs/table?by=county&county={county}"))
            .await;
        assert_eq!(status, list_status, "{who} reads the API table");
        if status == StatusCode::OK {
            assert_eq!(body.trim(), "[]", "{who} reads the county's needs");
        }
        // Recording the delivery is refused and writes nothing (a partner may deliver its own
        // campaigns' allocations: another campaign's is absent to it).
        let expected = if who.ends_with(".partner") {
            StatusCode::NOT_FOUND
        } else {
            expected
        };
        let r = client
            .post_form(
                &format!("/deliveries/{allocation}"),
                &[("outcome", "delivered"), ("code", &code), ("note", "")],
            )
            .await;
        assert_eq!(r.status(), expected, "{who} records the delivery");
        let r = client
            .post_form(
                &format!("/deliveries/{allocation}"),
                &[("outcome", "failed"), ("note", "نبود")],
            )
            .await;
        assert_eq!(r.status(), expected, "{who} records a failure");
    }
    let pending: String = sqlx::query_scalar("SELECT status FROM allocations WHERE id = $1")
        .bind(allocation)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(pending, "pending");
    assert_eq!(
        ledger_rows().await,
        rows_before,
        "nothing in the support ledger"
    );
    assert_eq!(audited(&app.store, "delivery.record", allocation).await, 0);
    for (who, actions) in [
        // A partner's reads of its own deliveries and served-twice lists are audited reads.
        ("relief.partner", &["needs.list", "needs.export"][..]),
        (
            "donor",
            &[
                "needs.list",
                "needs.export",
                "deliveries.list",
                "support.double_service",
            ][..],
        ),
    ] {
        for action in actions {
            assert_eq!(audited_by(&app, action, who).await, 0, "{who} {action}");
        }
    }
    // An office elsewhere: its reads are audited as what they were, empty.
    let detail: String = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'support.double_service' AND actor_user_id = $1 \
         ORDER BY id LIMIT 1",
    )
    .bind(app.user_ids["tehran2.expert"])
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert!(detail.contains("\"rows\":0"), "{detail}");

    // The refresh of the support ledger is an office's: refused to a partner and a donor.
    for (who, client) in &outsiders[2..] {
        let r = client
            .post_form("/support/double", &[("period", "1405")])
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who} refreshes");
        assert_eq!(audited_by(&app, "support.refresh", who).await, 0);
    }

    // Inside: the county's expert sees her everywhere and each read is audited once.
    let expert = app.login("tehran.expert").await;
    for (path, action) in [
        ("/needs?by=county", "needs.list"),
        ("/deliveries", "deliveries.list"),
        ("/support/double?period=1405", "support.double_service"),
    ] {
        let (status, body) = expert.get_text(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(body.contains(NAME), "{path} shows her");
        assert_eq!(audited_by(&app, action, "tehran.expert").await, 1, "{path}");
    }
    let (status, body) = expert.get_text("/needs?by=county&format=csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(",1,1,4,4,0"), "{body}");
    assert_eq!(audited_by(&app, "needs.export", "tehran.expert").await, 1);
    let (_, json) = expert
        .get_text(&format!("/api/v1/needs/table?by=county&county={county}"))
        .await;
    assert!(json.contains("\"needs\":1"), "{json}");
    let r = expert
        .post_form(
            &format!("/deliveries/{allocation}"),
            &[("outcome", "delivered"), ("code", &code), ("note", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(audited(&app.store, "delivery.record", allocation).await, 1);
    assert_eq!(
        ledger_rows().await,
        rows_before + 1,
        "the delivery's ledger entry"
    );
    let r = expert
        .post_form("/support/double", &[("period", "1405")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        audited_by(&app, "support.refresh", "tehran.expert").await,
        1
    );
    // The provincial officer of the province reads the same.
    let officer = app.login("tehran.officer").await;
    let (_, body) = officer.get_text("/deliveries?status=delivered").await;
    assert!(body.contains(NAME));
}
