//! People and households entered by hand (issue 12, deliverable 2): a county expert registers a
//! household of three with Persian digits (a wrong check digit is refused in Persian and
//! writes nothing), the duplicate check shows an existing person's organisations, the new
//! person is found by search at once and the needs card shows the household's indicators, an
//! edit keeps its history, and nobody outside the county (another county's expert, a partner)
//! registers into it or edits its people.

use reqwest::StatusCode;
use sqlx::Row;

use hamdeli_store::Store;
use hamdeli_store::entry;
use hamdeli_store::registry::NewSourceRecord;
use hamdeli_text::{NationalCode, to_persian_digits};

use crate::support::{TestApp, new_list, spawn_app};

/// A valid national code from its first nine digits.
fn code(first9: &str) -> String {
    let d: Vec<u8> = first9.bytes().map(|b| b - b'0').collect();
    let first: [u8; 9] = d.try_into().unwrap();
    NationalCode::from_first_nine(first)
        .unwrap()
        .as_str()
        .to_owned()
}

/// The same code with a wrong check digit.
fn wrong(code: &str) -> String {
    let last = code.as_bytes()[9] - b'0';
    format!("{}{}", &code[..9], (last + 1) % 10)
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

async fn count(store: &Store, sql: &'static str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// What hand entry may have written: persons, records, households, members, batches, edits.
async fn written(store: &Store) -> [i64; 6] {
    [
        count(store, "SELECT COUNT(*) FROM persons").await,
        count(store, "SELECT COUNT(*) FROM source_records").await,
        count(store, "SELECT COUNT(*) FROM households").await,
        count(store, "SELECT COUNT(*) FROM household_members").await,
        count(store, "SELECT COUNT(*) FROM import_batches").await,
        count(store, "SELECT COUNT(*) FROM person_edits").await,
    ]
}

async fn audited(store: &Store, action: &'static str) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// A person of the relief committee's support list in this county, as an import would leave it.
async fn relief_person(app: &TestApp, province: &str, county: &str, national_code: &str) -> i64 {
    let list = new_list(&app.store, "کمیته امداد (نمایشی)", "مستمری‌بگیران").await;
    let mut tx = app.store.begin().await.unwrap();
    let batch = entry::open_batch(&mut tx, list.id, 1, None).await.unwrap();
    let rec = NewSourceRecord {
        source_id: "R-1".into(),
        row_number: 1,
        national_code: Some(national_code.into()),
        first_name: Some("فاطمه".into()),
        last_name: Some("کاظمی".into()),
        first_key: Some(hamdeli_text::name_key("فاطمه")),
        last_key: Some(hamdeli_text::name_key("کاظمی")),
        province_code: Some(province.into()),
        county_code: Some(county.into()),
        ..Default::default()
    };
    let entered = entry::insert_record(&mut tx, list.id, batch, &rec, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    entered.person
}

fn household_form<'a>(
    county: &'a str,
    action: &'a str,
    head_code: &'a str,
    spouse_code: &'a str,
    child_code: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("action", action),
        ("county", county),
        ("zone", "rural"),
        ("address", "روستای دهک، کوچهٔ ۳"),
        ("female_head", "1"),
        ("female_head_reason", "spouse_incapacitated"),
        ("monthly_income", "۲٬۵۰۰٬۰۰۰"),
        ("income_decile", "۲"),
        ("disability", "1"),
        ("members", "3"),
        ("m0.relation", "head"),
        ("m0.national_code", head_code),
        ("m0.first_name", "زهرا"),
        ("m0.last_name", "رستگارنیا"),
        ("m0.father_name", "علی"),
        ("m0.birth_date", "۱۳۶۲/۰۵/۱۴"),
        ("m0.gender", "female"),
        ("m0.phone", "۰۹۱۲ ۳۴۵ ۶۷۸۹"),
        ("m1.relation", "spouse"),
        ("m1.national_code", spouse_code),
        ("m1.first_name", "حسن"),
        ("m1.last_name", "رستگارنیا"),
        ("m1.birth_date", "۱۳۵۸/۰۱/۲۰"),
        ("m1.gender", "male"),
        ("m2.relation", "child"),
        ("m2.national_code", child_code),
        ("m2.first_name", "مریم"),
        ("m2.last_name", "رستگارنیا"),
        ("m2.birth_date", "۱۳۹۰/۱۱/۰۲"),
        ("m2.gender", "female"),
    ]
}

#[tokio::test]
async fn a_county_expert_registers_a_household_by_hand_found_at_once_with_its_indicators() {
    let app = spawn_app().await;
    let (_, county) = county_of(&app, "tehran.expert").await;
    let expert = app.login("tehran.expert").await;
    let head = code("001234567");
    let spouse = code("001234568");
    let child = code("001234569");
    let (head_fa, spouse_fa, child_fa) = (
        to_persian_digits(&head),
        to_persian_digits(&spouse),
        to_persian_digits(&child),
    );

    // The links: from the registry page to both forms.
    let (status, body) = expert.get_text("/registry").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("href=\"/registry/households/new\""), "{body}");
    let (status, body) = expert.get_text("/registry/households/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("data-testid=\"household-form\""));

    // A wrong check digit (Persian digits): refused in Persian, nothing written.
    let before = written(&app.store).await;
    let bad_head = to_persian_digits(&wrong(&head));
    let r = expert
        .post_form(
            "/registry/households/new",
            &household_form(&county, "save", &bad_head, &spouse_fa, &child_fa),
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.text().await.unwrap();
    assert!(body.contains("رقم کنترل کد ملی درست نیست"), "{body}");
    assert!(
        !body.contains("درست یک سرپرست"),
        "the head is still the head: {body}"
    );
    assert_eq!(written(&app.store).await, before);
    assert_eq!(audited(&app.store, "household.enter").await, 0);

    // The check before saving: nobody yet.
    let r = expert
        .post_form(
            "/registry/households/new",
            &household_form(&county, "check", &head_fa, &spouse_fa, &child_fa),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert!(body.contains("data-testid=\"no-duplicates-0\""), "{body}");
    assert!(body.contains("data-testid=\"save\""));

    // Saved: three new persons in the office's manual-entry list, one household, audited once.
    let r = expert
        .post_form(
            "/registry/households/new",
            &household_form(&county, "save", &head_fa, &spouse_fa, &child_fa),
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let head_id: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
    let after = written(&app.store).await;
    assert_eq!(after[0] - before[0], 3, "persons");
    assert_eq!(after[1] - before[1], 3, "records");
    assert_eq!(after[2] - before[2], 1, "households");
    assert_eq!(after[3] - before[3], 3, "members");
    assert_eq!(after[4] - before[4], 1, "one batch");
    assert_eq!(audited(&app.store, "household.enter").await, 1);
    let row = sqlx::query(
        "SELECT p.national_code, p.birth_date, p.phone, p.county_code, l.list_kind, o.kind, \
         b.file_format, b.created_by FROM persons p JOIN source_records r ON r.person_id = p.id \
         JOIN source_lists l ON l.id = r.list_id JOIN organisations o ON o.id = l.organisation_id \
         JOIN import_batches b ON b.id = r.batch_id WHERE p.id = $1",
    )
    .bind(head_id)
    .fetch_one(app.store.pool())
    .await
    .unwrap();
    assert_eq!(row.get::<String, _>(0), head, "stored in ASCII digits");
    assert_eq!(row.get::<String, _>(1), "1983-08-05", "Jalali 1362/05/14");
    assert_eq!(row.get::<String, _>(2), "09123456789");
    assert_eq!(row.get::<String, _>(3), county);
    assert_eq!(row.get::<String, _>(4), "survey");
    assert_eq!(row.get::<String, _>(5), "office");
    assert_eq!(row.get::<String, _>(6), "manual");
    assert_eq!(
        row.get::<Option<i64>, _>(7),
        Some(app.user_ids["tehran.expert"])
    );

    // Found by search at once, by code (Persian digits) and by name.
    let r = expert
        .post_form("/registry", &[("q", head_fa.as_str())])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert!(
        body.contains(&format!("data-testid=\"hit-{head_id}\"")),
        "{body}"
    );
    let (_, body) = expert.get_text("/registry?q=زهرا%20رستگارنیا").await;
    assert!(
        body.contains(&format!("data-testid=\"hit-{head_id}\"")),
        "{body}"
    );

    // The household's indicators, as the needs card scores them.
    let facts = hamdeli_store::needs::facts_of_person(&app.store, head_id)
        .await
        .unwrap();
    assert!(facts.female_head);
    assert!(facts.disability);
    assert!(facts.rural);
    assert_eq!(facts.dependants, 2);
    assert_eq!(facts.income_decile, Some(2));
    let weights = hamdeli_store::needs::weights(&app.store).await.unwrap();
    let score = hamdeli_domain::needs::score(&facts, &weights);
    assert!(score.total > 0);
    let (status, body) = expert
        .get_text(&format!("/registry/persons/{head_id}/card"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let total = hamdeli_locale::format_int(hamdeli_locale::Locale::Fa, score.total);
    assert!(
        body.contains(&format!("data-testid=\"priority-total\">{total}<")),
        "{body}"
    );
    let monthly: Option<i64> =
        sqlx::query_scalar("SELECT monthly_income FROM households WHERE head_person_id = $1")
            .bind(head_id)
            .fetch_one(app.store.pool())
            .await
            .unwrap();
    assert_eq!(monthly, Some(25_000_000), "2,500,000 tomans in rials");

    // The person page links to the edit form and the household's.
    let (_, body) = expert
        .get_text(&format!("/registry/persons/{head_id}"))
        .await;
    assert!(body.contains("data-testid=\"entry-edit-person\""));
    assert!(body.contains("data-testid=\"entry-edit-household\""));

    // Entered twice: refused, nothing written.
    let before = written(&app.store).await;
    let r = expert
        .post_form(
            "/registry/new",
            &[
                ("action", "save"),
                ("county", &county),
                ("national_code", &head_fa),
                ("first_name", "زهرا"),
                ("last_name", "رستگارنیا"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(written(&app.store).await, before);
}

#[tokio::test]
async fn the_duplicate_check_shows_the_organisations_and_a_known_code_joins_that_person() {
    let app = spawn_app().await;
    let (province, county) = county_of(&app, "tehran.expert").await;
    let known = code("004455667");
    let existing = relief_person(&app, &province, &county, &known).await;
    let expert = app.login("tehran.expert").await;
    let form = |action: &'static str| {
        vec![
            ("action", action.to_owned()),
            ("county", county.clone()),
            ("zone", "urban".to_owned()),
            ("national_code", to_persian_digits(&known)),
            ("first_name", "فاطمه".to_owned()),
            ("last_name", "کاظمی".to_owned()),
            ("birth_date", "۱۳۷۰/۰۲/۰۳".to_owned()),
            ("gender", "female".to_owned()),
        ]
    };
    let fields = form("check");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = expert.post_form("/registry/new", &fields).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert!(
        body.contains(&format!("data-testid=\"duplicate-{existing}\"")),
        "{body}"
    );
    assert!(
        body.contains("کمیته امداد (نمایشی) — مستمری‌بگیران"),
        "{body}"
    );

    // Saved anyway: the record joins the person of its national code, no new person.
    let persons_before = count(&app.store, "SELECT COUNT(*) FROM persons").await;
    let fields = form("save");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = expert.post_form("/registry/new", &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("/registry/persons/{existing}")
    );
    assert_eq!(
        count(&app.store, "SELECT COUNT(*) FROM persons").await,
        persons_before
    );
    let records = hamdeli_store::persons::records_of(&app.store, existing)
        .await
        .unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(audited(&app.store, "person.enter").await, 1);
    let birth: Option<String> = sqlx::query_scalar("SELECT birth_date FROM persons WHERE id = $1")
        .bind(existing)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(birth.as_deref(), Some("1991-04-23"), "from the hand entry");
}

#[tokio::test]
async fn an_edit_keeps_its_history_and_outsiders_neither_register_nor_edit() {
    let app = spawn_app().await;
    let (_, county) = county_of(&app, "tehran.expert").await;
    let expert = app.login("tehran.expert").await;
    let person_code = code("007788990");
    let r = expert
        .post_form(
            "/registry/new",
            &[
                ("action", "save"),
                ("county", &county),
                ("zone", "urban"),
                ("national_code", &to_persian_digits(&person_code)),
                ("first_name", "سمیه"),
                ("last_name", "نادری"),
                ("birth_date", "۱۳۶۵/۰۷/۰۱"),
                ("gender", "female"),
                ("phone", "09121112233"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let id: i64 = location.rsplit('/').next().unwrap().parse().unwrap();

    // The edit: a new mobile number (Persian digits), the old one kept in the history.
    let (status, body) = expert
        .get_text(&format!("/registry/persons/{id}/edit"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("09121112233"),
        "the form holds the stated values"
    );
    let edit = [
        ("national_code", person_code.as_str()),
        ("first_name", "سمیه"),
        ("last_name", "نادری"),
        ("birth_date", "1365/07/01"),
        ("gender", "female"),
        ("phone", "۰۹۳۵۹۹۹۸۸۷۷"),
    ];
    let r = expert
        .post_form(&format!("/registry/persons/{id}/edit"), &edit)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let phone: Option<String> = sqlx::query_scalar("SELECT phone FROM persons WHERE id = $1")
        .bind(id)
        .fetch_one(app.store.pool())
        .await
        .unwrap();
    assert_eq!(phone.as_deref(), Some("09359998877"));
    let history = entry::person_history(&app.store, id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].field, "phone");
    assert_eq!(history[0].old_value.as_deref(), Some("09121112233"));
    assert_eq!(history[0].new_value.as_deref(), Some("09359998877"));
    assert_eq!(history[0].edited_by, Some(app.user_ids["tehran.expert"]));
    assert_eq!(audited(&app.store, "person.edit").await, 1);
    // The person page loads the history.
    let (status, body) = expert
        .get_text(&format!("/registry/persons/{id}/history"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(&to_persian_digits("09121112233")), "{body}");
    assert!(body.contains(&to_persian_digits("09359998877")), "{body}");
    // A bad mobile number is refused in Persian, nothing changes.
    let mut bad = edit;
    bad[5] = ("phone", "۰۲۱۵۵۵۵");
    let r = expert
        .post_form(&format!("/registry/persons/{id}/edit"), &bad)
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        entry::person_history(&app.store, id).await.unwrap().len(),
        1
    );

    // Outsiders: another county's expert and a partner register nothing into this county and
    // edit nobody of it.
    let before = written(&app.store).await;
    let other = code("009988776");
    let new_person = [
        ("action", "save"),
        ("county", county.as_str()),
        ("national_code", other.as_str()),
        ("first_name", "لیلا"),
        ("last_name", "صالحی"),
    ];
    for (user, register, edit_status) in [
        (
            "tehran2.expert",
            StatusCode::FORBIDDEN,
            StatusCode::NOT_FOUND,
        ),
        (
            "relief.partner",
            StatusCode::FORBIDDEN,
            StatusCode::FORBIDDEN,
        ),
    ] {
        let c = app.login(user).await;
        let r = c.post_form("/registry/new", &new_person).await;
        assert_eq!(r.status(), register, "{user} registers");
        let mut household = household_form(&county, "save", &other, "", "");
        household.retain(|(k, _)| !k.starts_with("m1.") && !k.starts_with("m2."));
        let r = c.post_form("/registry/households/new", &household).await;
        assert_eq!(r.status(), register, "{user} registers a household");
        let (status, _) = c.get_text(&format!("/registry/persons/{id}/edit")).await;
        assert_eq!(status, edit_status, "{user} opens the edit");
        let r = c
            .post_form(&format!("/registry/persons/{id}/edit"), &edit)
            .await;
        assert_eq!(r.status(), edit_status, "{user} edits");
        let (status, _) = c.get_text("/registry/new").await;
        assert!(
            status == StatusCode::OK || status == StatusCode::FORBIDDEN,
            "{user}: {status}"
        );
    }
    assert_eq!(written(&app.store).await, before);
    assert_eq!(
        entry::person_history(&app.store, id).await.unwrap().len(),
        1
    );
}
