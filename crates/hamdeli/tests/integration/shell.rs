//! The web shell: Persian right-to-left by default, English left-to-right on request, Jalali
//! dates and Persian digits, localised error pages, nothing loaded from another host.

use reqwest::StatusCode;

use crate::support::spawn_app;

const PERSIAN_DIGITS: [char; 10] = ['۰', '۱', '۲', '۳', '۴', '۵', '۶', '۷', '۸', '۹'];
const JALALI_MONTHS: [&str; 12] = [
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
];

fn today_of(html: &str) -> String {
    let start = html.find("data-testid=\"today\">").expect("today's date") + 20;
    html[start..].split('<').next().unwrap().to_owned()
}

#[tokio::test]
async fn persian_by_default_english_on_request() {
    let app = spawn_app().await;
    let c = app.login("tehran.officer").await;
    let (status, html) = c.get_text("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<html lang=\"fa\" dir=\"rtl\">"));
    let today = today_of(&html);
    assert!(
        today.chars().any(|ch| PERSIAN_DIGITS.contains(&ch)),
        "{today}"
    );
    assert!(!today.chars().any(|ch| ch.is_ascii_digit()), "{today}");
    assert!(JALALI_MONTHS.iter().any(|m| today.contains(m)), "{today}");
    assert!(
        html.contains("data-testid=\"demo-banner\""),
        "demo data is labelled synthetic"
    );

    let r = c
        .post_form("/lang", &[("locale", "en"), ("back", "/places")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/places");
    let (_, html) = c.get_text("/").await;
    assert!(html.contains("<html lang=\"en\" dir=\"ltr\">"));
    let today = today_of(&html);
    assert!(
        today.chars().any(|ch| ch.is_ascii_digit())
            && !today.chars().any(|ch| PERSIAN_DIGITS.contains(&ch)),
        "{today}"
    );
    assert!(
        html.contains("data-testid=\"count-provinces\">1<"),
        "one province in the officer's scope, ASCII digits"
    );
    // The choice is kept for the account, across sessions.
    let again = app.login("tehran.officer").await;
    assert!(again.get_text("/").await.1.contains("lang=\"en\""));

    // An off-site "back" is not followed.
    let r = c
        .post_form("/lang", &[("locale", "fa"), ("back", "//evil.example/")])
        .await;
    assert_eq!(r.headers()["location"], "/");
    let r = c
        .post_form("/lang", &[("locale", "xx"), ("back", "/")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn error_pages_speak_the_users_language() {
    let app = spawn_app().await;
    let c = app.client();
    let (status, html) = c.get_text("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("پیدا نشد") && html.contains("dir=\"rtl\""));
    let expert = app.login("tehran.expert").await;
    let (status, html) = expert.get_text("/places/10").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("بیرون از محدوده دسترسی شماست"));
    expert
        .post_form("/lang", &[("locale", "en"), ("back", "/")])
        .await;
    let (status, html) = expert.get_text("/places/10").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("This page is outside your scope."));
    // A malformed id is a 4xx page, never a panic.
    let (status, _) = expert.get_text("/organisations/not-a-number").await;
    assert!(status.is_client_error());
}

#[tokio::test]
async fn no_page_refers_to_another_host() {
    let app = spawn_app().await;
    let admin = app.login("admin").await;
    let pages = [
        "/",
        "/places",
        "/places/23",
        "/organisations",
        "/admin/users",
        "/admin/users/new",
        "/admin/audit",
        "/admin/api-keys",
        "/account",
        "/api/docs",
    ];
    for page in pages {
        let (status, html) = admin.get_text(page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for attr in ["src=\"", "href=\"", "action=\"", "url("] {
            for part in html.split(attr).skip(1) {
                let target: String = part
                    .chars()
                    .take_while(|c| *c != '"' && *c != ')')
                    .collect();
                assert!(
                    target.starts_with('/') || target.starts_with('#') || target.starts_with('?'),
                    "{page} refers to {target}"
                );
            }
        }
    }
    let (_, css) = admin.get_text("/static/app.css").await;
    assert!(
        css.contains("Vazirmatn") && !css.contains("http"),
        "font is vendored"
    );
    assert_eq!(
        admin
            .get("/static/fonts/Vazirmatn-Variable.woff2")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        admin.get("/static/fonts/OFL.txt").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        admin.get("/static/vendor/htmx.min.js").await.status(),
        StatusCode::OK
    );
}
