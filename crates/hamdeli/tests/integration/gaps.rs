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
