//! Campaign lifecycle (issue 12, deliverable 7): the owner's edit and close, no pledges after
//! closing or after the last day (checked by the store in the pledge's own transaction),
//! cancelled pledges, a county as the whole area, area quotas in the allocation, money in
//! tomans on every campaign page and form, and a donor's sign-up confirmed by a one-time code
//! (log sender and HTTP gateway sender).

use reqwest::StatusCode;
use sqlx::Row;

use hamdeli_app::sms::{LogSender, SmsSender};
use hamdeli_domain::PlaceFilter;
use hamdeli_domain::needs::{NeedStatus, Urgency};
use hamdeli_locale::Locale;
use hamdeli_store::campaigns::{self, NewCampaign};
use hamdeli_store::needs::{self, NewNeed};
use hamdeli_store::{Store, StoreError, ledger};

use crate::support::{Client, TestApp, spawn_app};

/// The code in the newest text message the log sender sent to `mobile` (the demo's and the
/// tests' sender records what it logs).
pub fn sent_code(mobile: &str) -> String {
    let text = LogSender::last_text_to(mobile).expect("a code was sent to the number");
    let digits: Vec<char> = text.chars().collect();
    digits
        .windows(6)
        .find(|w| w.iter().all(char::is_ascii_digit))
        .map(|w| w.iter().collect())
        .expect("the message carries a six-digit code")
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn scalar(store: &Store, sql: &'static str, bind: i64) -> i64 {
    sqlx::query(sql)
        .bind(bind)
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0)
}

fn fa(id: &str) -> String {
    hamdeli_locale::t(Locale::Fa, id)
}

/// A donor account with its profile, signed in.
async fn donor(app: &TestApp, mobile: &str) -> (Client, i64) {
    let mut tx = app.store.begin().await.unwrap();
    let user = hamdeli_store::users::create(
        &mut tx,
        hamdeli_store::users::NewUser {
            username: mobile.into(),
            display_name: format!("خیّر {mobile}"),
            password: "donor-password-1".into(),
            role: hamdeli_domain::Role::Donor,
            scope: hamdeli_domain::Scope::Own,
            locale: "fa".into(),
            is_demo: false,
        },
    )
    .await
    .unwrap();
    let id = campaigns::register_donor(&mut tx, user, mobile)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let c = app.client();
    assert_eq!(
        c.login(mobile, "donor-password-1").await.status(),
        StatusCode::SEE_OTHER
    );
    (c, id)
}

/// The province of a demo user's scope.
async fn province_of(app: &TestApp, user: &str) -> String {
    hamdeli_store::users::by_id(&app.store, app.user_ids[user])
        .await
        .unwrap()
        .unwrap()
        .scope
        .province()
        .unwrap()
        .to_owned()
}

/// Two counties of a province.
async fn two_counties(store: &Store, province: &str) -> (String, String) {
    let counties = hamdeli_store::geo::counties_of(store, province, &PlaceFilter::All)
        .await
        .unwrap();
    (counties[0].code.clone(), counties[1].code.clone())
}

/// `n` persons of a county, each with a verified food need of `amount` units.
async fn verified_food_needs(
    store: &Store,
    province: &str,
    county: &str,
    n: usize,
    amount: i64,
) -> Vec<i64> {
    let mut tx = store.begin().await.unwrap();
    let mut out = vec![];
    for i in 0..n {
        let person: i64 = sqlx::query(
            "INSERT INTO persons (province_code, county_code, zone, first_name, last_name, \
             created_at, updated_at) VALUES ($1, $2, 'urban', $3, 'آزمون', 0, 0) RETURNING id",
        )
        .bind(province.to_owned())
        .bind(county.to_owned())
        .bind(format!("زن {county} {i}"))
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get(0);
        let need = needs::create_need(
            &mut tx,
            &NewNeed {
                person_id: person,
                need_type: "food".into(),
                amount,
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
        out.push(need);
    }
    tx.commit().await.unwrap();
    out
}

/// A campaign straight into the store, with `units` of food received.
async fn stored_campaign(
    store: &Store,
    province: Option<&str>,
    county: Option<&str>,
    ends_on: &str,
    units: i64,
) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let id = campaigns::create(
        &mut tx,
        &NewCampaign {
            title: "پویش چرخهٔ عمر".into(),
            description: String::new(),
            organisation_id: None,
            province_code: province.map(str::to_owned),
            county_code: county.map(str::to_owned),
            goal_rials: 0,
            starts_on: "2020-01-01".into(),
            ends_on: ends_on.into(),
            need_types: vec![("food".into(), 0), ("rent_housing".into(), 0)],
        },
        None,
    )
    .await
    .unwrap();
    if units > 0 {
        // A pledge as the store takes it, received at once (a campaign may have ended since).
        let user: i64 = sqlx::query("SELECT id FROM users WHERE username = 'donor'")
            .fetch_one(&mut *tx)
            .await
            .unwrap()
            .get(0);
        let donor = match sqlx::query("SELECT id FROM donors WHERE user_id = $1")
            .bind(user)
            .fetch_optional(&mut *tx)
            .await
            .unwrap()
        {
            Some(r) => r.get(0),
            None => campaigns::register_donor(&mut tx, user, "09129990000")
                .await
                .unwrap(),
        };
        let pledge: i64 = sqlx::query(
            "INSERT INTO pledges (campaign_id, donor_id, resource, amount, status, created_at) \
             VALUES ($1, $2, 'food', $3, 'pledged', 0) RETURNING id",
        )
        .bind(id)
        .bind(donor)
        .bind(units)
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get(0);
        campaigns::receive(&mut tx, pledge, units, "REF", None)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    id
}

#[tokio::test]
async fn the_owner_edits_and_closes_and_no_pledge_comes_after() {
    let app = spawn_app().await;
    let tehran = province_of(&app, "tehran.officer").await;
    let (county, _) = two_counties(&app.store, &tehran).await;
    let officer = app.login("tehran.officer").await;
    // Started in the form with the cash goal in tomans: 1,000 tomans are 10,000 rials.
    let r = officer
        .post_form(
            "/campaigns",
            &[
                ("title", "پویش اجاره"),
                ("description", "نخست"),
                ("starts_on", "1405/01/01"),
                ("ends_on", "1500/12/29"),
                ("goal_tomans", "۱٬۰۰۰"),
                ("type", "rent_housing"),
                ("type", "food"),
                ("goal_food", "40"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id: i64 = location(&r).rsplit('/').next().unwrap().parse().unwrap();
    let c = campaigns::get(&app.store, id).await.unwrap().unwrap();
    assert_eq!(c.goal_rials, 10_000, "tomans in, rials stored");
    let (_, page) = officer.get_text(&format!("/campaigns/{id}")).await;
    assert!(page.contains("۱٬۰۰۰ تومان"), "the goal in tomans");
    assert!(page.contains("data-testid=\"campaign-edit\""));

    // Only its owner (or the national office) edits it.
    let edit = format!("/campaigns/{id}/edit");
    let fields = |title: &'static str, goal: &'static str| {
        vec![
            ("title", title),
            ("description", "دوم"),
            ("starts_on", "2026-03-21"),
            ("ends_on", "2099-03-20"),
            ("goal_tomans", goal),
            ("type", "rent_housing"),
            ("type", "food"),
            ("goal_food", "60"),
        ]
    };
    for who in [
        "isfahan.officer",
        "relief.partner",
        "tehran.expert",
        "donor",
    ] {
        let c = app.login(who).await;
        assert_eq!(c.get(&edit).await.status(), StatusCode::FORBIDDEN, "{who}");
        let r = c.post_form(&edit, &fields("ربوده", "1")).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{who}");
    }
    assert_eq!(
        app.client().get(&edit).await.status(),
        StatusCode::SEE_OTHER,
        "to the login page"
    );
    let (status, form) = officer.get_text(&edit).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("value=\"1000\""), "the goal typed in tomans");
    assert!(form.contains("۱۵۰۰/۱۲/۲۹"), "the end date in Jalali");
    let mut edited = fields("پویش اجاره و غذا", "2500");
    edited.push(("county", &county));
    let r = officer.post_form(&edit, &edited).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let c = campaigns::get(&app.store, id).await.unwrap().unwrap();
    assert_eq!(c.title, "پویش اجاره و غذا");
    assert_eq!(c.goal_rials, 25_000);
    assert_eq!(c.ends_on, "2099-03-20");
    assert_eq!(c.county_code.as_deref(), Some(county.as_str()));
    assert_eq!(
        c.province_code.as_deref(),
        Some(tehran.as_str()),
        "the province stays"
    );
    assert!(c.updated_at.is_some());
    let pools = campaigns::pools(&app.store, id).await.unwrap();
    assert_eq!(
        pools.iter().find(|p| p.resource == "food").unwrap().goal,
        60
    );
    assert_eq!(
        scalar(
            &app.store,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'campaign.update' AND target_id = CAST($1 AS TEXT)",
            id
        )
        .await,
        1
    );
    let entries = ledger::recent(&app.store, None, 5).await.unwrap();
    assert!(entries.iter().any(|e| e.kind == "campaign.updated"));
    // A county of another province is refused.
    let isfahan = province_of(&app, "isfahan.officer").await;
    let (elsewhere, _) = two_counties(&app.store, &isfahan).await;
    let mut wrong = fields("x", "1");
    wrong.push(("county", &elsewhere));
    let r = officer.post_form(&edit, &wrong).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&fa("campaign-county-invalid"))
    );

    // A donor pledges 1,000 tomans: 10,000 rials kept, tomans shown everywhere.
    let (d, _) = donor(&app, "09351110001").await;
    let r = d
        .post_form(
            &format!("/campaigns/{id}/pledges"),
            &[("resource", "money"), ("amount", "۱٬۰۰۰")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let pledge = campaigns::pledges_of_campaign(&app.store, id)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(pledge.amount, 10_000);
    let (_, mine) = d.get_text("/donor").await;
    assert!(mine.contains("۱٬۰۰۰ تومان"), "the donor's page in tomans");
    let (_, office) = officer.get_text(&format!("/campaigns/{id}")).await;
    assert!(office.contains("۱٬۰۰۰ تومان"));
    assert!(
        office.contains("value=\"1000\""),
        "the receipt form starts in tomans"
    );
    // The office records 900 tomans received: 9,000 rials.
    let r = officer
        .post_form(
            &format!("/campaigns/{id}/pledges/{}/receive", pledge.id),
            &[("amount", "900"), ("reference", "BANK-9")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let received = campaigns::pledge_by_id(&app.store, pledge.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(received.received_amount, Some(9_000));
    let (_, receipt) = app
        .client()
        .get_text(&format!(
            "/receipts?code={}",
            received.receipt_code.unwrap()
        ))
        .await;
    assert!(
        receipt.contains("۹۰۰ تومان"),
        "the public receipt in tomans"
    );

    // Closed by its owner: no pledge after, on the page nor in the store.
    let close = format!("/campaigns/{id}/close");
    assert_eq!(
        app.login("isfahan.officer")
            .await
            .post_form(&close, &[])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        officer.post_form(&close, &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    let c = campaigns::get(&app.store, id).await.unwrap().unwrap();
    assert_eq!(c.status, "closed");
    assert!(c.closed_at.is_some());
    let r = d
        .post_form(
            &format!("/campaigns/{id}/pledges"),
            &[("resource", "money"), ("amount", "1000")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&fa("pledge-campaign-closed"))
    );
    let donor_id: i64 = pledge.donor_id;
    let mut tx = app.store.begin().await.unwrap();
    let refused = campaigns::pledge(&mut tx, id, donor_id, "money", 10_000).await;
    assert!(matches!(
        refused,
        Err(StoreError::Invalid("pledge-campaign-closed"))
    ));
    drop(tx);
    let (_, page) = d.get_text(&format!("/campaigns/{id}")).await;
    assert!(!page.contains("data-testid=\"pledge-form\""));
    assert!(page.contains("data-testid=\"campaign-no-pledges\""));
    assert_eq!(
        officer.post_form(&close, &[]).await.status(),
        StatusCode::BAD_REQUEST,
        "closed once"
    );
    assert_eq!(
        officer.post_form(&edit, &fields("دیر", "1")).await.status(),
        StatusCode::BAD_REQUEST,
        "a closed campaign is not edited"
    );
    assert!(
        ledger::recent(&app.store, None, 5)
            .await
            .unwrap()
            .iter()
            .any(|e| e.kind == "campaign.closed")
    );
    assert!(ledger::verify(&app.store).await.unwrap().is_ok());

    // Past its last day a campaign takes no pledge either, though nobody closed it.
    let ended = stored_campaign(&app.store, Some(&tehran), None, "2021-03-20", 0).await;
    let r = d
        .post_form(
            &format!("/campaigns/{ended}/pledges"),
            &[("resource", "food"), ("amount", "3")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&fa("pledge-campaign-ended"))
    );
    let mut tx = app.store.begin().await.unwrap();
    let refused = campaigns::pledge(&mut tx, ended, donor_id, "food", 3).await;
    assert!(matches!(
        refused,
        Err(StoreError::Invalid("pledge-campaign-ended"))
    ));
    drop(tx);
    let (_, page) = d.get_text(&format!("/campaigns/{ended}")).await;
    assert!(!page.contains("data-testid=\"pledge-form\""));
    assert!(page.contains(&fa("campaign-ended")));
    let (_, list) = app.client().get_text("/campaigns").await;
    assert!(list.contains(&fa("campaign-ended")), "the list says so too");
}

#[tokio::test]
async fn a_donor_cancels_her_own_open_pledge_and_the_office_any_of_its_campaign() {
    let app = spawn_app().await;
    let tehran = province_of(&app, "tehran.officer").await;
    let id = stored_campaign(&app.store, Some(&tehran), None, "2099-01-01", 0).await;
    let (a, _) = donor(&app, "09351110011").await;
    let (b, _) = donor(&app, "09351110012").await;
    for (c, amount) in [(&a, "10"), (&b, "20"), (&b, "30"), (&a, "40")] {
        let r = c
            .post_form(
                &format!("/campaigns/{id}/pledges"),
                &[("resource", "food"), ("amount", amount)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let pledges = campaigns::pledges_of_campaign(&app.store, id)
        .await
        .unwrap();
    let of = |amount: i64| pledges.iter().find(|p| p.amount == amount).unwrap().id;
    let cancel = |p: i64| format!("/campaigns/{id}/pledges/{p}/cancel");
    // Not another donor's pledge: to her it does not exist.
    assert_eq!(
        a.post_form(&cancel(of(20)), &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    let (_, mine) = a.get_text("/donor").await;
    assert!(mine.contains(&format!("data-testid=\"cancel-{}\"", of(10))));
    let r = a.post_form(&cancel(of(10)), &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/donor");
    let p = campaigns::pledge_by_id(&app.store, of(10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.status, "cancelled");
    assert_eq!(
        a.post_form(&cancel(of(10)), &[]).await.status(),
        StatusCode::BAD_REQUEST,
        "cancelled once"
    );
    assert_eq!(
        campaigns::pledge_by_id(&app.store, of(20))
            .await
            .unwrap()
            .unwrap()
            .status,
        "pledged"
    );
    // The campaign's office cancels one; another province's office may not.
    assert_eq!(
        app.login("isfahan.officer")
            .await
            .post_form(&cancel(of(20)), &[])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let officer = app.login("tehran.officer").await;
    assert_eq!(
        officer.post_form(&cancel(of(20)), &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        campaigns::pledge_by_id(&app.store, of(20))
            .await
            .unwrap()
            .unwrap()
            .status,
        "cancelled"
    );
    // A received pledge is a donation: it stays.
    let r = officer
        .post_form(
            &format!("/campaigns/{id}/pledges/{}/receive", of(30)),
            &[("amount", "30"), ("reference", "NOTE")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        b.post_form(&cancel(of(30)), &[]).await.status(),
        StatusCode::BAD_REQUEST
    );
    // The pool counts only what is still pledged or received.
    let food = campaigns::pools(&app.store, id)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.resource == "food")
        .unwrap();
    assert_eq!(food.pledged, 30 + 40);
    assert_eq!(
        scalar(
            &app.store,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'pledge.cancel' AND target_id <> CAST($1 AS TEXT)",
            0
        )
        .await,
        2
    );
}

#[tokio::test]
async fn a_county_campaign_reaches_only_that_county() {
    let app = spawn_app().await;
    let tehran = province_of(&app, "tehran.officer").await;
    let (here, there) = two_counties(&app.store, &tehran).await;
    let inside = verified_food_needs(&app.store, &tehran, &here, 4, 5).await;
    let outside = verified_food_needs(&app.store, &tehran, &there, 4, 5).await;
    let officer = app.login("tehran.officer").await;
    let (_, form) = officer.get_text("/campaigns/new").await;
    assert!(
        form.contains(&format!("value=\"{here}\"")),
        "the province's counties"
    );
    let r = officer
        .post_form(
            "/campaigns",
            &[
                ("title", "پویش شهرستان"),
                ("starts_on", "2026-01-01"),
                ("ends_on", "2099-01-01"),
                ("type", "food"),
                ("county", &here),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id: i64 = location(&r).rsplit('/').next().unwrap().parse().unwrap();
    let c = campaigns::get(&app.store, id).await.unwrap().unwrap();
    assert_eq!(c.county_code.as_deref(), Some(here.as_str()));
    assert_eq!(c.province_code.as_deref(), Some(tehran.as_str()));
    // A county of another province is not an office's to choose.
    let isfahan = province_of(&app, "isfahan.officer").await;
    let (elsewhere, _) = two_counties(&app.store, &isfahan).await;
    let r = officer
        .post_form(
            "/campaigns",
            &[
                ("title", "پویش بیرون"),
                ("starts_on", "2026-01-01"),
                ("ends_on", "2099-01-01"),
                ("type", "food"),
                ("county", &elsewhere),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // 100 units received; the dry run and the commit reach the county's needs only.
    let mut tx = app.store.begin().await.unwrap();
    let donor: i64 = campaigns::register_donor(&mut tx, app.user_ids["donor"], "09129990001")
        .await
        .unwrap();
    let pledge: i64 = sqlx::query(
        "INSERT INTO pledges (campaign_id, donor_id, resource, amount, status, created_at) \
         VALUES ($1, $2, 'food', 100, 'pledged', 0) RETURNING id",
    )
    .bind(id)
    .bind(donor)
    .fetch_one(&mut *tx)
    .await
    .unwrap()
    .get(0);
    campaigns::receive(&mut tx, pledge, 100, "REF", None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (status, dry) = officer
        .get_text(&format!("/campaigns/{id}/allocate?resource=food"))
        .await;
    assert_eq!(status, StatusCode::OK);
    for n in &inside {
        assert!(dry.contains(&format!("data-need=\"{n}\"")));
    }
    for n in &outside {
        assert!(!dry.contains(&format!("data-need=\"{n}\"")));
    }
    let r = officer
        .post_form(
            &format!("/campaigns/{id}/allocate"),
            &[("resource", "food"), ("policy", "water-fill")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let given_outside: i64 = sqlx::query(
        "SELECT COUNT(*) FROM allocations a JOIN allocation_batches b ON b.id = a.batch_id \
         WHERE b.campaign_id = $1 AND a.county_code <> $2",
    )
    .bind(id)
    .bind(here.clone())
    .fetch_one(app.store.pool())
    .await
    .unwrap()
    .get(0);
    assert_eq!(given_outside, 0);
    assert_eq!(
        scalar(
            &app.store,
            "SELECT CAST(SUM(a.units) AS BIGINT) FROM allocations a JOIN allocation_batches b \
             ON b.id = a.batch_id WHERE b.campaign_id = $1",
            id
        )
        .await,
        20,
        "the county's four needs of five, met"
    );
}

#[tokio::test]
async fn area_quotas_cap_a_provinces_units_in_the_commit() {
    let app = spawn_app().await;
    let tehran = province_of(&app, "tehran.officer").await;
    let isfahan = province_of(&app, "isfahan.officer").await;
    let (t_county, _) = two_counties(&app.store, &tehran).await;
    let (i_county, _) = two_counties(&app.store, &isfahan).await;
    let in_tehran = verified_food_needs(&app.store, &tehran, &t_county, 5, 10).await;
    verified_food_needs(&app.store, &isfahan, &i_county, 5, 10).await;
    // A national campaign with 60 units for 100 units of need.
    let id = stored_campaign(&app.store, None, None, "2099-01-01", 60).await;
    let admin = app.login("admin").await;
    let units_in = |province: String| {
        let store = app.store.clone();
        async move {
            let v: i64 = sqlx::query(
                "SELECT CAST(COALESCE(SUM(a.units), 0) AS BIGINT) FROM allocations a \
                 JOIN allocation_batches b ON b.id = a.batch_id \
                 WHERE b.campaign_id = $1 AND a.province_code = $2",
            )
            .bind(id)
            .bind(province)
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get(0);
            v
        }
    };
    // The dry run shows each province's quota field and honours a quota typed there.
    let (status, plain) = admin
        .get_text(&format!("/campaigns/{id}/allocate?resource=food"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(plain.contains(&format!("name=\"q_{tehran}\"")));
    assert!(plain.contains(&format!("name=\"q_{isfahan}\"")));
    let (status, dry) = admin
        .get_text(&format!(
            "/campaigns/{id}/allocate?resource=food&quota_level=province&q_{tehran}=12"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(dry.contains(&hamdeli_locale::t(Locale::Fa, "allocate-quota-held")));
    assert!(
        dry.contains(&format!("name=\"q_{tehran}\" value=\"12\"")),
        "carried to the commit"
    );
    assert_eq!(
        units_in(tehran.clone()).await,
        0,
        "a dry run writes nothing"
    );
    let r = admin
        .post_form(
            &format!("/campaigns/{id}/allocate"),
            &[
                ("resource", "food"),
                ("policy", "water-fill"),
                ("quota_level", "province"),
                (&format!("q_{tehran}"), "12"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(units_in(tehran.clone()).await, 12, "held at its quota");
    assert_eq!(
        units_in(isfahan.clone()).await,
        48,
        "the rest to the others"
    );
    for n in &in_tehran {
        let got = scalar(
            &app.store,
            "SELECT CAST(COALESCE(SUM(units), 0) AS BIGINT) FROM allocations WHERE need_id = $1",
            *n,
        )
        .await;
        assert!(
            (2..=3).contains(&got),
            "shared fairly inside the quota: {got}"
        );
    }
    let audited: String = sqlx::query(
        "SELECT detail FROM audit_log WHERE action = 'allocation.commit' ORDER BY id DESC",
    )
    .fetch_one(app.store.pool())
    .await
    .unwrap()
    .get(0);
    assert!(audited.contains("quotas"), "{audited}");
    // A quota that is not a number is a form error.
    let (status, _) = admin
        .get_text(&format!(
            "/campaigns/{id}/allocate?resource=food&q_{tehran}=many"
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn start(c: &Client, mobile: &str) -> reqwest::Response {
    c.post_form(
        "/donors/signup",
        &[("mobile", mobile), ("name", "خیّر کددار")],
    )
    .await
}

async fn verify(c: &Client, mobile: &str, code: String) -> reqwest::Response {
    c.post_form(
        "/donors/signup/verify",
        &[
            ("mobile", mobile),
            ("code", &code),
            ("password", "a-long-enough-secret"),
        ],
    )
    .await
}

#[tokio::test]
async fn a_donor_signs_up_with_the_code_sent_to_her_mobile() {
    let app = spawn_app().await;
    let forget_address_limit = || async {
        sqlx::query("DELETE FROM rate_windows WHERE subject LIKE 'signup:%'")
            .execute(app.store.pool())
            .await
            .unwrap();
    };
    let user_of = |mobile: &'static str| {
        let store = app.store.clone();
        async move {
            hamdeli_store::users::id_by_username(&store, mobile)
                .await
                .unwrap()
        }
    };
    let visitor = app.client();

    // The page asks for the number and the name; the code goes by text message.
    let (_, page) = visitor.get_text("/donors/signup").await;
    assert!(
        !page.contains("name=\"password\""),
        "the password comes after the code"
    );
    let r = start(&visitor, "09351110021").await;
    // The code's page at once, the number in its form and never in an address.
    assert_eq!(r.status(), StatusCode::OK);
    assert!(location(&r).is_empty(), "no number in an address");
    let page = r.text().await.unwrap();
    assert!(page.contains("data-testid=\"verify-form\""));
    assert!(page.contains("name=\"mobile\" value=\"09351110021\""));
    let code = sent_code("09351110021");
    assert_eq!(code.len(), 6);
    let stored: String =
        sqlx::query("SELECT code_hash FROM donor_signup_codes WHERE mobile = '09351110021'")
            .fetch_one(app.store.pool())
            .await
            .unwrap()
            .get(0);
    assert!(!stored.contains(&code), "only a keyed hash is kept");
    // The code's page by address reads no number: back to the sign-up.
    let r = visitor
        .get("/donors/signup/verify?mobile=09351110021")
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/donors/signup");
    // A wrong code is refused and creates nothing.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = verify(&visitor, "09351110021", wrong.into()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains(&fa("signup-code-wrong")));
    assert!(user_of("09351110021").await.is_none());
    // The right one, typed in Persian digits, creates the donor.
    let persian: String = code
        .chars()
        .map(|c| char::from_u32(0x06F0 + c.to_digit(10).unwrap()).unwrap())
        .collect();
    let r = verify(&visitor, "09351110021", persian).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login?next=/donor&signed_up=1");
    let user = user_of("09351110021").await.unwrap();
    assert!(
        campaigns::donor_of_user(&app.store, user)
            .await
            .unwrap()
            .is_some(),
        "a donor profile"
    );
    assert_eq!(
        scalar(
            &app.store,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'donor.signup' AND target_id = CAST($1 AS TEXT)",
            user
        )
        .await,
        1
    );
    let signed_in = app.client();
    assert_eq!(
        signed_in
            .login("09351110021", "a-long-enough-secret")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // Used once: the same code again finds nothing.
    let r = verify(&visitor, "09351110021", code.clone()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // A registered number gets no code.
    let r = start(&visitor, "09351110021").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains(&fa("donor-mobile-taken")));

    // Five wrong codes, then even the right one is refused.
    let r = start(&visitor, "09351110022").await;
    assert_eq!(r.status(), StatusCode::OK);
    let code = sent_code("09351110022");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let r = verify(&visitor, "09351110022", wrong.into()).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
    let r = verify(&visitor, "09351110022", code).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&fa("signup-code-too-many-tries"))
    );
    assert!(user_of("09351110022").await.is_none());

    // After ten minutes the code is refused.
    let r = start(&visitor, "09351110023").await;
    assert_eq!(r.status(), StatusCode::OK);
    let code = sent_code("09351110023");
    sqlx::query("UPDATE donor_signup_codes SET expires_at = $1 WHERE mobile = '09351110023'")
        .bind(hamdeli_store::now_millis() - 1)
        .execute(app.store.pool())
        .await
        .unwrap();
    let r = verify(&visitor, "09351110023", code).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains(&fa("signup-code-expired")));
    assert!(user_of("09351110023").await.is_none());
    // A new code replaces the dead one.
    forget_address_limit().await;
    let r = start(&visitor, "09351110023").await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = verify(&visitor, "09351110023", sent_code("09351110023")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(user_of("09351110023").await.is_some());

    // One number gets three codes an hour, whatever the address.
    forget_address_limit().await;
    for _ in 0..3 {
        assert_eq!(
            start(&visitor, "09351110024").await.status(),
            StatusCode::OK
        );
    }
    forget_address_limit().await;
    let r = start(&visitor, "09351110024").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains(&fa("signup-code-too-many"))
    );
}

/// A one-request HTTP server on a free port: answers `status` and hands back the request line.
async fn one_request_server(status: u16) -> (String, tokio::task::JoinHandle<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 8192];
        let mut got = 0;
        while !buf[..got].windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf[got..]).await.unwrap();
            if n == 0 {
                break;
            }
            got += n;
        }
        let answer =
            format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        socket.write_all(answer.as_bytes()).await.unwrap();
        let head = String::from_utf8_lossy(&buf[..got]).to_string();
        head.lines().next().unwrap_or_default().to_owned()
    });
    (base, task)
}

#[tokio::test]
async fn the_http_gateway_gets_the_number_and_the_text_in_its_url() {
    let (base, request) = one_request_server(200).await;
    let template = format!("{base}/send?to={{mobile}}&text={{text}}&key=k1");
    let sender = hamdeli::sms::HttpSender::new(&template).unwrap();
    sender
        .send("09351110031", "کد: 123456 & more")
        .await
        .unwrap();
    assert_eq!(
        request.await.unwrap(),
        "GET /send?to=09351110031&text=%DA%A9%D8%AF%3A%20123456%20%26%20more&key=k1 HTTP/1.1"
    );
    // A gateway that refuses is an error the sign-up reports, not a success.
    let (base, request) = one_request_server(500).await;
    let sender =
        hamdeli::sms::HttpSender::new(&format!("{base}/s?m={{mobile}}&t={{text}}")).unwrap();
    assert!(sender.send("09351110032", "x").await.is_err());
    request.await.unwrap();

    // Through the configuration: the app's sign-up sends the code to the gateway.
    let (base, request) = one_request_server(200).await;
    let dir = crate::support::temp_dir();
    let url = crate::support::fresh_database(&dir.0).await;
    let flags = hamdeli::config::Layer {
        database_url: Some(url),
        data_dir: Some(dir.0.clone()),
        sms_gateway_url: Some(format!("{base}/send?to={{mobile}}&text={{text}}")),
        ..Default::default()
    };
    let config = hamdeli::Config::load(None, Default::default(), flags).unwrap();
    let store = hamdeli::open_store(&config).await.unwrap();
    let state = hamdeli::app_state(store.clone(), &config).await.unwrap();
    hamdeli_app::campaigns::start_signup(
        &store,
        state.sms.as_ref(),
        &state.config.secret_key,
        "09351110033",
        "خیّر",
        &|code| format!("code {code}"),
    )
    .await
    .unwrap();
    let line = request.await.unwrap();
    assert!(
        line.starts_with("GET /send?to=09351110033&text=code%20"),
        "{line}"
    );
    assert!(
        LogSender::last_text_to("09351110033").is_none(),
        "the gateway, not the log"
    );
    store.close().await;
    if crate::support::postgres_base().is_some() {
        crate::support::drop_postgres_database(&config.database_url);
    }
    // An https template is refused at start: this build has no TLS.
    let flags = hamdeli::config::Layer {
        sms_gateway_url: Some("https://gw.example/send?to={mobile}&text={text}".into()),
        ..Default::default()
    };
    assert!(hamdeli::Config::load(None, Default::default(), flags).is_err());
}
