//! Capability market, end to end: the public JSON API (exact paths and fields), stock that is
//! never oversold under concurrency, the order and payment machines with the ledger, the
//! producer's and the office's use cases, and the buyer's pages.

use std::sync::Arc;

use hamdeli_app::Caller;
use hamdeli_app::market as app;
use hamdeli_domain::Principal;
use hamdeli_domain::market::order::OrderStatus;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{TestApp, spawn_app};

async fn principal(app: &TestApp, username: &str) -> Principal {
    let id = app.user_ids[username];
    hamdeli_store::users::by_id(&app.store, id)
        .await
        .unwrap()
        .unwrap()
        .principal()
}

/// The demo producer's shop in Tehran with an approved certificate and one product of `stock`
/// pieces at 250,000 rials; returns (product id, producer id).
async fn shop_with_product(app: &TestApp, stock: i64) -> (i64, i64) {
    let producer = principal(app, "producer").await;
    let c = Caller::new(&producer, "test");
    let shop = match app::my_shop(&app.store, &producer).await.unwrap() {
        Some(s) => s.id,
        None => app::open_shop(
            &app.store,
            &c,
            &app::ShopInput {
                shop_name: "کارگاه خانگی آزمون".into(),
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
    let cert = app::add_certificate(&app.store, &c, "health", "HL-1", "بهداشت", "2099-01-01")
        .await
        .unwrap();
    let admin = principal(app, "admin").await;
    app::decide_certificate(&app.store, &Caller::new(&admin, "test"), cert, true)
        .await
        .unwrap();
    let id = app::save_product(
        &app.store,
        &c,
        None,
        &app::ProductInput {
            title: "مربای بالنگ خانگی".into(),
            description: "شیشهٔ ۵۰۰ گرمی".into(),
            category: "food".into(),
            price_rials: 250_000,
            stock,
            weight_grams: 500,
            delivers_to: String::new(),
            certificate_id: Some(cert),
            active: true,
        },
    )
    .await
    .unwrap();
    (id, shop)
}

fn order_body(product: i64, quantity: i64, payment: &str) -> Value {
    json!({
        "buyer": {"name": "مریم احمدی", "mobile": "09123456789", "province": "تهران",
                  "county": "تهران", "address": "خیابان آزادی، کوچهٔ یک، پلاک ۲", "postal_code": "1417613151"},
        "items": [{"product_id": product, "quantity": quantity}],
        "payment": payment
    })
}

async fn post_order(app: &TestApp, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url("/api/v1/market/orders"))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Looks an order up through the API: the mobile in the body, never in the URL.
async fn lookup(app: &TestApp, code: &str, mobile: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url(&format!("/api/v1/market/orders/{code}/lookup")))
        .json(&json!({ "mobile": mobile }))
        .send()
        .await
        .unwrap()
}

async fn stock_of(app: &TestApp, product: i64) -> i64 {
    let v: Value = reqwest::get(app.url(&format!("/api/v1/market/products/{product}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["stock_available"].as_i64().unwrap()
}

#[tokio::test]
async fn the_public_api_lists_orders_refuses_and_tracks() {
    let app = spawn_app().await;
    let (product, producer) = shop_with_product(&app, 10).await;

    // The catalogue: exact fields, search with Persian normalisation (Arabic yeh and kaf, ZWNJ).
    let list: Value =
        reqwest::get(app.url("/api/v1/market/products?q=مرباي&category=food&province=تهران"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let first = &list.as_array().unwrap()[0];
    assert_eq!(first["id"], product);
    assert_eq!(first["title"], "مربای بالنگ خانگی");
    assert_eq!(first["price_rials"], 250_000);
    assert_eq!(first["stock_available"], 10);
    assert_eq!(first["producer_id"], producer);
    assert!(first["province"].is_string());
    let none: Value = reqwest::get(app.url("/api/v1/market/products?category=clothing"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none.as_array().unwrap().len(), 0);

    // 201: placed, stock reserved.
    let r = post_order(&app, &order_body(product, 3, "cod")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let placed: Value = r.json().await.unwrap();
    assert_eq!(placed["status"], "placed");
    assert_eq!(placed["total_rials"], 750_000);
    let code = placed["order_code"].as_str().unwrap().to_owned();
    assert_eq!(stock_of(&app, product).await, 7);

    // 409 naming the product in Persian and English; nothing reserved.
    let r = post_order(&app, &order_body(product, 8, "cod")).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let refused: Value = r.json().await.unwrap();
    assert!(
        refused["message_fa"]
            .as_str()
            .unwrap()
            .contains("مربای بالنگ خانگی")
    );
    assert!(
        refused["message_en"]
            .as_str()
            .unwrap()
            .contains("مربای بالنگ خانگی")
    );
    assert!(
        refused["message_en"]
            .as_str()
            .unwrap()
            .contains("Not enough stock")
    );
    assert_eq!(refused["product_id"], product);
    assert_eq!(stock_of(&app, product).await, 7);

    // 400 naming each bad field.
    let mut bad = order_body(product, 0, "card");
    bad["buyer"]["mobile"] = json!("12");
    bad["buyer"]["postal_code"] = json!("123");
    let r = post_order(&app, &bad).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    let fields: Vec<&str> = v["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    for f in [
        "buyer.mobile",
        "buyer.postal_code",
        "items[0].quantity",
        "payment",
    ] {
        assert!(fields.contains(&f), "{f} missing in {fields:?}");
    }
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/market/orders"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Tracking with code and mobile (in the body); a wrong mobile looks absent.
    let r = lookup(&app, &code, "+989123456789").await;
    assert_eq!(r.status(), StatusCode::OK);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["order_code"], code.as_str());
    assert_eq!(t["status"], "placed");
    assert!(t["history"].as_array().unwrap().len() >= 2);
    let r = lookup(&app, &code, "09120000000").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A body without a mobile names the field.
    let r = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/market/orders/{code}/lookup")))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["fields"][0]["field"], "mobile");
    // The mobile in the URL (the old GET) is refused, not read, and says where it goes now.
    for query in ["?mobile=09123456789", ""] {
        let r = reqwest::get(app.url(&format!("/api/v1/market/orders/{code}{query}")))
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"], "mobile_in_body");
        let message = e["message_en"].as_str().unwrap();
        assert!(message.contains("/lookup"), "{message}");
        assert!(e.get("order_code").is_none(), "nothing of the order");
    }
    // The OpenAPI document has the lookup as a POST.
    let doc: Value = reqwest::get(app.url("/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/market/orders/{order_code}/lookup"]["post"].is_object());

    // The producer confirms, ships, delivers: the history grows, the sale reaches the ledger.
    let producer_p = principal(&app, "producer").await;
    let c = Caller::new(&producer_p, "test");
    let (orders, _) = app::my_orders(&app.store, &c).await.unwrap();
    let order = orders[0].id;
    assert!(
        app::advance_order(&app.store, &c, order, OrderStatus::Shipped, None, None)
            .await
            .is_err(),
        "placed cannot jump to shipped"
    );
    app::advance_order(&app.store, &c, order, OrderStatus::Confirmed, None, None)
        .await
        .unwrap();
    assert!(
        app::advance_order(
            &app.store,
            &c,
            order,
            OrderStatus::Shipped,
            Some("پست"),
            None
        )
        .await
        .is_err(),
        "shipping needs a tracking code"
    );
    app::advance_order(
        &app.store,
        &c,
        order,
        OrderStatus::Shipped,
        Some("پست"),
        Some("TRK123"),
    )
    .await
    .unwrap();
    app::advance_order(&app.store, &c, order, OrderStatus::Delivered, None, None)
        .await
        .unwrap();
    let t: Value = lookup(&app, &code, "09123456789")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["status"], "delivered");
    assert_eq!(t["payment_status"], "cod_collected");
    assert_eq!(t["orders"][0]["tracking_code"], "TRK123");
    let (balance, _) = app::my_balance(&app.store, &c).await.unwrap();
    assert_eq!(balance, 750_000);
    assert_eq!(
        hamdeli_store::market::ledger::trial_balance(&app.store)
            .await
            .unwrap(),
        0
    );

    // Another user's shop is not hers: the donor has none and may not open one.
    let donor = principal(&app, "donor").await;
    assert!(
        app::my_orders(&app.store, &Caller::new(&donor, "t"))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn concurrent_orders_never_oversell() {
    let app = spawn_app().await;
    hamdeli_store::settings::set(&app.store, app::SETTING_ORDER_RATE, "0")
        .await
        .unwrap();
    let (product, _) = shop_with_product(&app, 7).await;
    let app = Arc::new(app);
    let mut tasks = vec![];
    for _ in 0..60 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            post_order(&app, &order_body(product, 1, "cod"))
                .await
                .status()
        }));
    }
    let mut placed = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => placed += 1,
            StatusCode::CONFLICT => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((placed, refused), (7, 53));
    assert_eq!(stock_of(&app, product).await, 0);
}

#[tokio::test]
async fn orders_are_rate_limited_per_address() {
    let app = spawn_app().await;
    hamdeli_store::settings::set(&app.store, app::SETTING_ORDER_RATE, "3")
        .await
        .unwrap();
    let (product, _) = shop_with_product(&app, 100).await;
    for _ in 0..3 {
        assert_eq!(
            post_order(&app, &order_body(product, 1, "cod"))
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    assert_eq!(
        post_order(&app, &order_body(product, 1, "cod"))
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// Places a cash-on-delivery order of one unit from 127.0.0.1: its code and the buyer's mobile.
async fn place_cod_order(app: &TestApp, product: i64) -> (String, String) {
    let placed: Value = post_order(app, &order_body(product, 1, "cod"))
        .await
        .json()
        .await
        .unwrap();
    let mobile = order_body(product, 1, "cod")["buyer"]["mobile"]
        .as_str()
        .unwrap()
        .to_owned();
    (placed["order_code"].as_str().unwrap().to_owned(), mobile)
}

#[tokio::test]
async fn order_lookups_are_limited_per_code_and_per_address() {
    let app = spawn_app().await;
    let (product, _) = shop_with_product(&app, 100).await;
    // Placed from 127.0.0.1: that address may follow the order whatever the code's count.
    let (code, mobile) = place_cod_order(&app, product).await;
    // Someone else who knows the code tries mobiles: ten wrong ones this minute are answered
    // "not found"; past them the code is closed to that address, the right mobile included,
    // with the same answer.
    for i in 0..app::LOOKUPS_PER_CODE_MINUTE {
        let r = lookup_from(&app, 2, &code, &format!("0912000{:04}", i)).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    let wrong = lookup_from(&app, 2, &code, "09120009999").await;
    assert_eq!(wrong.status(), StatusCode::TOO_MANY_REQUESTS);
    let right = lookup_from(&app, 2, &code, &mobile).await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(wrong.text().await.unwrap(), right.text().await.unwrap());
    // The web tracking form shares the count: from the guessing address both mobiles are
    // refused alike; from the placing address the order is shown.
    let guesser = client_from(&app, 2);
    let mut bodies = vec![];
    for m in ["09120008888", mobile.as_str()] {
        let r = guesser
            .post_form("/market/track", &[("code", code.as_str()), ("mobile", m)])
            .await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        bodies.push(r.text().await.unwrap());
    }
    assert_eq!(bodies[0], bodies[1]);
    let r = app
        .client()
        .post_form(
            "/market/track",
            &[("code", code.as_str()), ("mobile", mobile.as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(lookup(&app, &code, &mobile).await.status(), StatusCode::OK);
    // One address trying many codes is stopped too (the code limit is not reached: every code
    // is another).
    let mut refused = false;
    for i in 0..=app::LOOKUPS_PER_ADDRESS_MINUTE {
        let r = lookup_from(&app, 3, &format!("HMD-{:04}-0000", i), &mobile).await;
        refused |= r.status() == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(refused, "an address made more than its look-ups a minute");
    // The address limit holds for the placing address too.
    let mut refused = false;
    for _ in 0..app::LOOKUPS_PER_ADDRESS_MINUTE {
        refused |= lookup(&app, &code, &mobile).await.status() == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(
        refused,
        "the buyer's address made more than its look-ups a minute"
    );
}

/// An order look-up through the API from another local address (127.0.0.`host`: the server
/// sees each as a client of its own).
async fn lookup_from(app: &TestApp, host: u8, code: &str, mobile: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, host]))
        .build()
        .unwrap()
        .post(app.url(&format!("/api/v1/market/orders/{code}/lookup")))
        .json(&json!({ "mobile": mobile }))
        .send()
        .await
        .unwrap()
}

/// A browser-like client (cookies, no redirects) from another local address, 127.0.0.`host`.
fn client_from(app: &TestApp, host: u8) -> crate::support::Client {
    crate::support::Client {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .local_address(std::net::IpAddr::from([127, 0, 0, host]))
            .build()
            .unwrap(),
        base: app.url(""),
    }
}

#[tokio::test]
async fn wrong_mobiles_from_anywhere_do_not_keep_the_buyer_from_her_order() {
    let app = spawn_app().await;
    let (product, _) = shop_with_product(&app, 100).await;
    let (code, mobile) = place_cod_order(&app, product).await;
    // Before anyone guesses, the buyer follows her order from another address of hers (her
    // phone, say: not the one she ordered from).
    const BUYER: u8 = 50;
    assert_eq!(
        lookup_from(&app, BUYER, &code, &mobile).await.status(),
        StatusCode::OK
    );
    // Ten wrong mobiles for the code, each from an address of its own (none near its own
    // limit): answered "not found".
    let limit = app::LOOKUPS_PER_CODE_MINUTE as u8;
    for host in 2..2 + limit {
        let r = lookup_from(&app, host, &code, &format!("0912000{host:04}")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "wrong try from {host}");
    }
    // (1) From a fresh address the code is now refused whatever the mobile, with the same
    // answer: guessing tells nothing. So is it from an address that guessed wrong, and through
    // the web tracking form.
    let fresh = 2 + limit;
    let wrong = lookup_from(&app, fresh, &code, "09120009999").await;
    let right = lookup_from(&app, fresh, &code, &mobile).await;
    assert_eq!(wrong.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    let (wrong, right) = (wrong.text().await.unwrap(), right.text().await.unwrap());
    assert_eq!(wrong, right, "a right and a wrong mobile are refused alike");
    assert!(!right.contains(&mobile) && !right.contains("order_code"));
    let other = lookup_from(&app, fresh + 1, &code, &mobile).await;
    assert_eq!(other.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(other.text().await.unwrap(), right);
    assert_eq!(
        lookup_from(&app, 2, &code, &mobile).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let mut pages = vec![];
    let browser = client_from(&app, fresh);
    for m in [mobile.as_str(), "09120006666"] {
        let r = browser
            .post_form("/market/track", &[("code", code.as_str()), ("mobile", m)])
            .await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        pages.push(r.text().await.unwrap());
    }
    assert_eq!(pages[0], pages[1], "the tracking form refuses both alike");
    // (2) The address that found the order before the attack still gets it: through the API
    // and the web tracking form. A mistyped mobile from it is answered "not found", not 429.
    let r = lookup_from(&app, BUYER, &code, &mobile).await;
    assert_eq!(r.status(), StatusCode::OK);
    let found: Value = r.json().await.unwrap();
    assert_eq!(found["order_code"], code.as_str());
    let r = client_from(&app, BUYER)
        .post_form(
            "/market/track",
            &[("code", code.as_str()), ("mobile", mobile.as_str())],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.text().await.unwrap().contains(&code),
        "the tracking page shows the order"
    );
    assert_eq!(
        lookup_from(&app, BUYER, &code, "09120007777")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // So does the address she placed it from (127.0.0.1), never having looked it up.
    let r = lookup(&app, &code, &mobile).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

/// The simulated gateway's answer for the buyer's choice ("pay" or "cancel"): the signed
/// callback address it sends her back to.
async fn gateway_return(http: &crate::support::Client, code: &str, action: &str) -> String {
    let r = http
        .post_form(&format!("/market/pay/{code}"), &[("action", action)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    r.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn online_payment_pays_once_and_expiry_releases_stock() {
    let app = spawn_app().await;
    let (product, _) = shop_with_product(&app, 5).await;
    let placed: Value = post_order(&app, &order_body(product, 2, "online"))
        .await
        .json()
        .await
        .unwrap();
    let code = placed["order_code"].as_str().unwrap().to_owned();
    assert_eq!(placed["payment_status"], "pending");
    assert_eq!(stock_of(&app, product).await, 3);
    // The producer does not see an unpaid online order.
    let producer = principal(&app, "producer").await;
    let c = Caller::new(&producer, "test");
    assert!(app::my_orders(&app.store, &c).await.unwrap().0.is_empty());

    // A callback address typed by hand (the purchase code known, no gateway signature) pays
    // nothing, and neither does one signed for another answer.
    let http = app.client();
    for forged in [
        format!("/market/pay/{code}/callback?status=ok&ref=SIM1"),
        format!(
            "/market/pay/{code}/callback?status=ok&ref=SIM1&sig={}",
            "0".repeat(64)
        ),
    ] {
        let (s, body) = http.get_text(&forged).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{forged}");
        assert!(body.contains("data-testid=\"payment-result\""));
    }
    let cancelled = gateway_return(&http, &code, "cancel").await;
    let (_, _) = http
        .get_text(&cancelled.replace("status=nok", "status=ok"))
        .await;
    let producer_balance = app::my_balance(&app.store, &c).await.unwrap().0;
    assert_eq!(producer_balance, 0, "a forged or altered callback paid");

    // The gateway's signed callback twice: paid once, one sale in the ledger.
    let cb = gateway_return(&http, &code, "pay").await;
    let (s, body) = http.get_text(&cb).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("data-testid=\"payment-result\""));
    let (s, _) = http.get_text(&cb).await;
    assert_eq!(s, StatusCode::OK);
    let (balance, lines) = app::my_balance(&app.store, &c).await.unwrap();
    assert_eq!(balance, 500_000);
    assert_eq!(lines.len(), 1, "a second callback pays nothing again");
    assert_eq!(app::my_orders(&app.store, &c).await.unwrap().0.len(), 1);

    // Cancelled by the producer after payment: stock back, a refund balances it.
    let (orders, _) = app::my_orders(&app.store, &c).await.unwrap();
    app::advance_order(
        &app.store,
        &c,
        orders[0].id,
        OrderStatus::Cancelled,
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(stock_of(&app, product).await, 5);
    assert_eq!(app::my_balance(&app.store, &c).await.unwrap().0, 0);

    // An unpaid online order past its window expires: its stock goes back once.
    let placed: Value = post_order(&app, &order_body(product, 4, "online"))
        .await
        .json()
        .await
        .unwrap();
    let code2 = placed["order_code"].as_str().unwrap().to_owned();
    assert_eq!(stock_of(&app, product).await, 1);
    sqlx::query("UPDATE market_purchases SET pay_by = 1 WHERE code = $1")
        .bind(code2.clone())
        .execute(app.store.pool())
        .await
        .unwrap();
    assert_eq!(app::expire_unpaid(&app.store).await.unwrap(), 1);
    assert_eq!(app::expire_unpaid(&app.store).await.unwrap(), 0);
    assert_eq!(stock_of(&app, product).await, 5);
    let t: Value = lookup(&app, &code2, "09123456789")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["payment_status"], "expired");
    assert_eq!(t["status"], "cancelled");
    // A late callback pays nothing.
    let late = gateway_return(&http, &code2, "pay").await;
    let (_, _) = http.get_text(&late).await;
    assert_eq!(app::my_balance(&app.store, &c).await.unwrap().0, 0);
}

#[tokio::test]
async fn an_expired_certificate_hides_its_products_and_officers_check_their_province() {
    let app = spawn_app().await;
    let (product, _) = shop_with_product(&app, 5).await;
    let producer = principal(&app, "producer").await;
    let c = Caller::new(&producer, "test");
    // A second certificate, expired: a product under it is not listed.
    let old = app::add_certificate(
        &app.store,
        &c,
        "conformity",
        "C-9",
        "استاندارد",
        "2020-01-01",
    )
    .await
    .unwrap();
    // Isfahan's officer may not decide a Tehran certificate; Tehran's may.
    let isfahan = principal(&app, "isfahan.officer").await;
    assert!(
        app::decide_certificate(&app.store, &Caller::new(&isfahan, "t"), old, true)
            .await
            .is_err()
    );
    let pending = app::pending_certificates(&app.store, &Caller::new(&isfahan, "t"))
        .await
        .unwrap();
    assert!(pending.is_empty());
    let tehran = principal(&app, "tehran.officer").await;
    let pending = app::pending_certificates(&app.store, &Caller::new(&tehran, "t"))
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    app::decide_certificate(&app.store, &Caller::new(&tehran, "t"), old, true)
        .await
        .unwrap();
    let hidden = app::save_product(
        &app.store,
        &c,
        None,
        &app::ProductInput {
            title: "ماسک پارچه‌ای".into(),
            category: "masks_gowns".into(),
            price_rials: 50_000,
            stock: 10,
            certificate_id: Some(old),
            active: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let r = reqwest::get(app.url(&format!("/api/v1/market/products/{hidden}")))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = post_order(&app, &order_body(hidden, 1, "cod")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(stock_of(&app, product).await, 5);

    // Sheba: checked with mod 97.
    let bad = app::update_shop(
        &app.store,
        &c,
        &app::ShopInput {
            shop_name: "کارگاه".into(),
            sheba: "IR062960000000100324200002".into(),
            ..Default::default()
        },
    )
    .await;
    assert!(matches!(
        bad,
        Err(hamdeli_app::Error::Invalid("market-sheba-check"))
    ));
    app::update_shop(
        &app.store,
        &c,
        &app::ShopInput {
            shop_name: "کارگاه".into(),
            sheba: "IR06 2960 0000 0010 0324 2000 01".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_guest_buys_through_the_pages_and_the_producer_lands_on_her_shop() {
    let app = spawn_app().await;
    let (product, _) = shop_with_product(&app, 4).await;
    let guest = app.client();
    let (s, body) = guest.get_text("/market?q=بالنگ").await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("مربای بالنگ خانگی"));
    assert!(
        !body.contains("سرپرست خانوار بودن"),
        "no female-head status for buyers"
    );
    let (s, body) = guest.get_text(&format!("/market/products/{product}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("data-testid=\"add-to-cart\""));
    let r = guest
        .post_form(
            "/market/cart",
            &[("product", &product.to_string()), ("quantity", "۲")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, cart) = guest.get_text("/market/cart").await;
    assert!(cart.contains("data-testid=\"checkout-form\""));
    let r = guest
        .post_form(
            "/market/checkout",
            &[
                ("name", "زهرا"),
                ("mobile", "۰۹۱۲۳۴۵۶۷۸۹"),
                ("province", "23"),
                ("county", "تهران"),
                ("address", "خیابان انقلاب، پلاک ۵"),
                ("postal_code", "1417613151"),
                ("payment", "cod"),
            ],
        )
        .await;
    let status = r.status();
    let body = r.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("data-testid=\"order-code\""));
    assert_eq!(stock_of(&app, product).await, 2);

    // The producer's home is her shop.
    let producer = app.login("producer").await;
    let (s, body) = producer.get_text("/market/producer").await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("data-testid=\"market-shop-name\""));
    let (s, body) = producer.get_text("/market/producer/orders").await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("مربای بالنگ خانگی"));
    // The office pages: the Tehran officer sees the sales page.
    let officer = app.login("tehran.officer").await;
    let (s, _) = officer.get_text("/market/office/sales").await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = officer.get_text("/market/office").await;
    assert_eq!(s, StatusCode::OK);
    let r = officer.get("/market/office/sales?export=xlsx").await;
    assert_eq!(r.status(), StatusCode::OK);
    // A producer may not open the office page.
    let (s, _) = producer.get_text("/market/office").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bulk_orders_are_never_overtaken_and_accepted_pieces_are_paid() {
    let app = spawn_app().await;
    shop_with_product(&app, 1).await;
    let officer = principal(&app, "tehran.officer").await;
    let oc = Caller::new(&officer, "t");
    let bulk = app::post_bulk(
        &app.store,
        &oc,
        "ماسک سه‌لایه",
        "masks_gowns",
        100,
        20_000,
        "ستاد کرونا",
    )
    .await
    .unwrap();
    let producer = principal(&app, "producer").await;
    let c = Caller::new(&producer, "t");
    let donor = principal(&app, "donor").await;
    assert!(
        app::post_bulk(
            &app.store,
            &Caller::new(&donor, "t"),
            "x",
            "food",
            1,
            1,
            "y"
        )
        .await
        .is_err()
    );
    let part = app::take_bulk(&app.store, &c, bulk, 60).await.unwrap();
    assert!(matches!(
        app::take_bulk(&app.store, &c, bulk, 41).await,
        Err(hamdeli_app::Error::Conflict("market-bulk-too-many"))
    ));
    app::take_bulk(&app.store, &c, bulk, 40).await.unwrap();
    app::accept_bulk_part(&app.store, &oc, part, 55)
        .await
        .unwrap();
    assert!(
        app::accept_bulk_part(&app.store, &oc, part, 55)
            .await
            .is_err(),
        "accepted once"
    );
    assert_eq!(
        app::my_balance(&app.store, &c).await.unwrap().0,
        55 * 20_000
    );
    let http = app.login("producer").await;
    let (s, body) = http.get_text("/market/bulk").await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("ماسک سه‌لایه"));
}

#[tokio::test]
async fn feeds_are_signed_per_consumer_and_list_in_stock_products_in_tomans() {
    use hmac::{Hmac, Mac};
    let app = spawn_app().await;
    let (product, _) = shop_with_product(&app, 3).await;
    let admin = principal(&app, "admin").await;
    let key = app::issue_feed_key(&app.store, &Caller::new(&admin, "t"), "دیجی‌فروشگاه")
        .await
        .unwrap();
    let r = reqwest::get(app.url(&format!("/api/v1/market/feed.json?key={}", key.key_id)))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let sig = r.headers()["x-hamdeli-signature"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = r.bytes().await.unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.secret.as_bytes()).unwrap();
    mac.update(&body);
    assert_eq!(
        sig,
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    );
    let items: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(items[0]["id"], product);
    assert_eq!(items[0]["price_tomans"], 25_000);
    let r = reqwest::get(app.url(&format!("/api/v1/market/feed.csv?key={}", key.key_id)))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("25000"));
    let r = reqwest::get(app.url("/api/v1/market/feed.json?key=mf_unknown"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Sold out: not in the feed.
    post_order(&app, &order_body(product, 3, "cod")).await;
    let items: Value =
        reqwest::get(app.url(&format!("/api/v1/market/feed.json?key={}", key.key_id)))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(items.as_array().unwrap().len(), 0);
    let sitemap = reqwest::get(app.url("/market/sitemap.xml"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(sitemap.contains(&format!("/market/products/{product}")));
}

#[tokio::test]
async fn a_producer_signs_up_with_a_code_and_the_office_links_and_pays_her() {
    let app = spawn_app().await;
    let guest = app.client();
    let mobile = "09351113344";
    let r = guest
        .post_form(
            "/market/signup",
            &[
                ("mobile", "+98 935 111 3344"),
                ("shop", "ترشی‌های خانگی نرگس"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let code = crate::campaign_lifecycle::sent_code(mobile);
    let wrong = guest
        .post_form(
            "/market/signup/verify",
            &[
                ("mobile", mobile),
                ("code", "000000"),
                ("password", "a-long-pass-phrase-1405"),
                ("province", "23"),
                ("county", "تهران"),
                ("category", "food"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let r = guest
        .post_form(
            "/market/signup/verify",
            &[
                ("mobile", mobile),
                ("code", &code),
                ("password", "a-long-pass-phrase-1405"),
                ("province", "23"),
                ("county", "تهران"),
                ("category", "food"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let her = app.client();
    assert_eq!(
        her.login(mobile, "a-long-pass-phrase-1405").await.status(),
        StatusCode::SEE_OTHER
    );
    let r = her.get("/").await;
    assert_eq!(r.headers()["location"], "/market/producer");
    let (s, body) = her.get_text("/market/producer").await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("ترشی‌های خانگی نرگس"));

    // The Tehran office links her to a registry person; the status shows on the office page only.
    let id = hamdeli_store::users::id_by_username(&app.store, mobile)
        .await
        .unwrap()
        .unwrap();
    let p = hamdeli_store::users::by_id(&app.store, id)
        .await
        .unwrap()
        .unwrap()
        .principal();
    let shop = app::my_shop(&app.store, &p).await.unwrap().unwrap();
    let officer = principal(&app, "tehran.officer").await;
    let isfahan = principal(&app, "isfahan.officer").await;
    assert!(
        app::link_producer(&app.store, &Caller::new(&isfahan, "t"), shop.id, None)
            .await
            .is_err()
    );
    app::link_producer(&app.store, &Caller::new(&officer, "t"), shop.id, None)
        .await
        .unwrap();
    let office = app.login("tehran.officer").await;
    let (s, body) = office.get_text("/market/office").await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("ترشی‌های خانگی نرگس"));

    // Payouts: only what she is owed, only to a Sheba number, marked with the bank's reference.
    let admin = principal(&app, "admin").await;
    let ac = Caller::new(&admin, "t");
    let (product, producer) = shop_with_product(&app, 5).await;
    post_order(&app, &order_body(product, 2, "cod")).await;
    let demo = principal(&app, "producer").await;
    let c = Caller::new(&demo, "t");
    let (orders, _) = app::my_orders(&app.store, &c).await.unwrap();
    for s in [
        OrderStatus::Confirmed,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
    ] {
        app::advance_order(&app.store, &c, orders[0].id, s, Some("پست"), Some("T1"))
            .await
            .unwrap();
    }
    assert!(matches!(
        app::payout(&app.store, &ac, producer, 100_000, "BK-1").await,
        Err(hamdeli_app::Error::Conflict("market-payout-no-sheba"))
    ));
    app::update_shop(
        &app.store,
        &c,
        &app::ShopInput {
            shop_name: "کارگاه".into(),
            sheba: "IR062960000000100324200001".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        app::payout(&app.store, &ac, producer, 500_001, "BK-1")
            .await
            .is_err()
    );
    app::payout(&app.store, &ac, producer, 300_000, "BK-1")
        .await
        .unwrap();
    assert_eq!(app::my_balance(&app.store, &c).await.unwrap().0, 200_000);
    assert!(
        app::payout(&app.store, &Caller::new(&officer, "t"), producer, 1, "BK-2")
            .await
            .is_err()
    );
    // Eight payouts of her whole balance at once: exactly one is made, never more than she is
    // owed (on PostgreSQL each read the balance before any had written).
    let tries: Vec<_> = (0..8)
        .map(|i| {
            let store = app.store.clone();
            let admin = admin.clone();
            tokio::spawn(async move {
                app::payout(
                    &store,
                    &Caller::new(&admin, "t"),
                    producer,
                    200_000,
                    &format!("BK-RACE-{i}"),
                )
                .await
            })
        })
        .collect();
    let mut made = 0;
    for t in tries {
        match t.await.unwrap() {
            Ok(()) => made += 1,
            Err(hamdeli_app::Error::Conflict("market-payout-over-balance")) => {}
            Err(e) => panic!("a payout failed otherwise: {e:?}"),
        }
    }
    assert_eq!(made, 1, "one payout of the whole balance");
    assert_eq!(app::my_balance(&app.store, &c).await.unwrap().0, 0);
    assert_eq!(
        hamdeli_store::market::ledger::trial_balance(&app.store)
            .await
            .unwrap(),
        0
    );
}
