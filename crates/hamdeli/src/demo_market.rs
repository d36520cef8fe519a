//! The demo data of capability market, made through its use cases as a user would (never by
//! writing tables directly): 30 producers (the demo `producer` login is the first) in ten
//! provinces, their certificates checked by the office (one waiting, one expired), Sheba
//! numbers, a third of them linked to female heads of household in the registry, 200 products
//! with pictures drawn here, and orders in every state (placed, confirmed, shipped, delivered,
//! cancelled, returned; cash on delivery, paid online, awaiting payment, expired), payouts.
//! Idempotent: a second run finds the producers and does nothing. Also `hamdeli bench market`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use hamdeli_app::market::{self as app, BuyerInput, OrderInput, ProductInput, ShopInput};
use hamdeli_app::{Caller, system_principal};
use hamdeli_domain::market::order::OrderStatus;
use hamdeli_domain::{PlaceFilter, Role, Scope};
use hamdeli_store::{Store, geo, users};

const PROVINCES: [&str; 10] = [
    "Tehran",
    "Isfahan",
    "Fars",
    "Razavi Khorasan",
    "East Azerbaijan",
    "Gilan",
    "Kerman",
    "Khuzestan",
    "Mazandaran",
    "Yazd",
];

const SHOPS: [&str; 10] = [
    "کارگاه خانگی",
    "دست‌بافته‌های",
    "آشپزخانهٔ",
    "خیاطی",
    "گلدوزی",
    "ترشی و مربای",
    "سبزی خشک",
    "عروسک‌های",
    "سفالینه‌های",
    "شیرینی خانگی",
];

const NAMES: [&str; 15] = [
    "مریم",
    "فاطمه",
    "زهرا",
    "معصومه",
    "لیلا",
    "نرگس",
    "طاهره",
    "رقیه",
    "شهناز",
    "مهین",
    "پروین",
    "سمیه",
    "اکرم",
    "منیژه",
    "صدیقه",
];

/// Titles per category (with a variation added).
fn titles(category: &str) -> &'static [&'static str] {
    match category {
        "food" => &[
            "مربای بالنگ",
            "ترشی لیته",
            "سبزی خشک کوکو",
            "رب انار",
            "کلوچهٔ خانگی",
            "نان محلی",
            "کشک محلی",
        ],
        "clothing" => &[
            "روسری نخی",
            "پیراهن محلی",
            "جوراب پشمی",
            "شال بافتنی",
            "کلاه بافتنی",
        ],
        "masks_gowns" => &[
            "ماسک پارچه‌ای سه‌لایه",
            "گان یک‌بار مصرف",
            "ماسک نخی قابل شست‌وشو",
            "کلاه جراحی پارچه‌ای",
        ],
        "handicraft" => &[
            "گلیم دستباف",
            "سفال لعابی",
            "سوزن‌دوزی بلوچ",
            "حصیر بافته",
            "عروسک نمدی",
            "قلاب‌بافی",
        ],
        "beauty" => &["صابون گیاهی", "روغن سیاه‌دانه", "گلاب قمصر"],
        _ => &["رومیزی ترمه", "کوسن دست‌دوز", "سبد حصیری"],
    }
}

const CATS: [&str; 6] = [
    "food",
    "clothing",
    "masks_gowns",
    "handicraft",
    "beauty",
    "home",
];

/// A deterministic pseudo-random sequence (the demo is the same every time).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A valid Sheba number for the i-th producer.
fn sheba(i: usize) -> String {
    let bban = format!("0170000000{:012}", 100_000 + i);
    hamdeli_domain::market::sheba::with_check_digits(&bban).unwrap_or_default()
}

/// Seeds capability market's demo data once; returns a line for the console.
pub async fn seed(store: &Store) -> Result<String> {
    if hamdeli_store::market::count(store, "market_producers").await? >= 30 {
        return Ok(String::new());
    }
    let started = Instant::now();
    let admin = system_principal();
    let admin_c = Caller::new(&admin, "demo");
    app::set_commission(store, &admin_c, 500).await?;
    let provinces = geo::all_provinces(store).await?;
    let mut rng = Rng(13);
    // Female heads of household in the registry, for the office's links.
    let heads = hamdeli_store::market::female_head_persons(store, 12)
        .await
        .unwrap_or_default();
    let mut products: Vec<(i64, String)> = vec![];
    let mut product_count = 0usize;
    for i in 0..30usize {
        let username = if i == 0 {
            "producer".to_owned()
        } else {
            format!("producer{i:02}")
        };
        let user_id = match users::id_by_username(store, &username).await? {
            Some(id) => id,
            None => {
                hamdeli_app::users::create(
                    store,
                    &admin_c,
                    users::NewUser {
                        username: username.clone(),
                        display_name: format!("{} {}", NAMES[i % NAMES.len()], "(نمایشی)"),
                        password: crate::demo::DEMO_PASSWORD.into(),
                        role: Role::Producer,
                        scope: Scope::Own,
                        locale: "fa".into(),
                        is_demo: true,
                    },
                )
                .await?
            }
        };
        let principal = users::by_id(store, user_id)
            .await?
            .context("demo producer")?
            .principal();
        let c = Caller::new(&principal, "demo");
        if app::my_shop(store, &principal).await?.is_some() {
            continue;
        }
        let province = provinces
            .iter()
            .find(|p| p.name_en == PROVINCES[i % PROVINCES.len()])
            .or(provinces.first())
            .context("provinces")?;
        let counties = geo::counties_of(store, &province.code, &PlaceFilter::All).await?;
        let county = counties
            .get(i / PROVINCES.len() % counties.len().max(1))
            .context("counties")?;
        let main_cat = CATS[i % CATS.len()];
        let shop_name = format!(
            "{} {}",
            SHOPS[i % SHOPS.len()],
            NAMES[(i * 7) % NAMES.len()]
        );
        let shop = app::open_shop(
            store,
            &c,
            &ShopInput {
                shop_name: shop_name.clone(),
                mobile: format!("0913{:07}", 5_000_000 + i),
                province: province.code.clone(),
                county: county.code.clone(),
                categories: vec![main_cat.into(), CATS[(i + 1) % CATS.len()].into()],
                ..Default::default()
            },
        )
        .await?;
        app::update_shop(
            store,
            &c,
            &ShopInput {
                shop_name: shop_name.clone(),
                categories: vec![main_cat.into(), CATS[(i + 1) % CATS.len()].into()],
                about: "محصولات خانگی با مواد اولیهٔ محلی، بسته‌بندی بهداشتی.".into(),
                sheba: if i % 6 == 5 { String::new() } else { sheba(i) },
                ..Default::default()
            },
        )
        .await?;
        // One producer waits for the office's check; one has only an expired certificate.
        let (expires, approve) = match i {
            28 => ("2099-12-29", false),
            29 => ("2024-03-19", true),
            _ => ("2027-03-20", true),
        };
        let cert = app::add_certificate(
            store,
            &c,
            if main_cat == "food" || main_cat == "beauty" {
                "health"
            } else {
                "conformity"
            },
            &format!(
                "{}-{:05}",
                if i.is_multiple_of(2) { "ST" } else { "HL" },
                1000 + i * 37
            ),
            if main_cat == "food" {
                "معاونت غذا و دارو"
            } else {
                "ادارهٔ کل استاندارد استان"
            },
            expires,
        )
        .await?;
        if approve {
            app::decide_certificate(store, &admin_c, cert, true).await?;
        }
        if let Some(person) = heads.get(i / 3).filter(|_| i.is_multiple_of(3)) {
            let _ = app::link_producer(store, &admin_c, shop, Some(*person)).await;
        }
        let n = if i < 20 { 7 } else { 6 };
        for k in 0..n {
            let cat = if k % 3 == 2 {
                CATS[(i + 1) % CATS.len()]
            } else {
                main_cat
            };
            let list = titles(cat);
            let title = format!(
                "{} {}",
                list[(k + i) % list.len()],
                ["ممتاز", "خانگی", "محلی", "دست‌ساز", "ویژه", "سنتی", "اعلا"][k % 7]
            );
            let price_tomans = 20_000 + rng.below(60) as i64 * 15_000;
            let stock = if k == 5 { 0 } else { 5 + rng.below(60) as i64 };
            let id = app::save_product(
                store,
                &c,
                None,
                &ProductInput {
                    title: title.clone(),
                    description: format!("{title} — تولید {shop_name}"),
                    category: cat.into(),
                    price_rials: price_tomans * 10,
                    stock,
                    weight_grams: 200 + rng.below(20) as i64 * 100,
                    delivers_to: String::new(),
                    certificate_id: Some(cert),
                    active: true,
                },
            )
            .await?;
            if let Some(jpeg) = app::photos::draw_demo(id as u64 * 31 + k as u64, cat) {
                app::set_photo(store, &c, id, jpeg).await?;
            }
            product_count += 1;
            if approve && i != 29 && stock > 3 {
                products.push((id, username.clone()));
            }
        }
    }
    let orders = seed_orders(store, &products, &mut rng).await?;
    Ok(format!(
        "demo market: 30 producers, {product_count} products with pictures, {orders} orders in every state ({:.1} s)",
        started.elapsed().as_secs_f64()
    ))
}

/// Orders through the buyer's, the gateway's and the producers' use cases.
async fn seed_orders(store: &Store, products: &[(i64, String)], rng: &mut Rng) -> Result<usize> {
    if products.is_empty() {
        return Ok(0);
    }
    let buyers = [
        ("سارا محمدی", "09121234501", "تهران", "تهران"),
        ("الهام رضوی", "09151234502", "خراسان رضوی", "مشهد"),
        ("نگار کاظمی", "09131234503", "اصفهان", "اصفهان"),
        ("مینا صالحی", "09171234504", "فارس", "شیراز"),
        ("آزاده نیک‌پور", "09141234505", "آذربایجان شرقی", "تبریز"),
    ];
    let mut placed = 0;
    for n in 0..80usize {
        let (name, mobile, province, county) = buyers[n % buyers.len()];
        let (a, owner) = &products[rng.below(products.len() as u64) as usize];
        let mut items = vec![(*a, 1 + rng.below(2) as i64)];
        if n.is_multiple_of(4) {
            let (b, _) = &products[rng.below(products.len() as u64) as usize];
            if b != a {
                items.push((*b, 1));
            }
        }
        let online = n % 3 == 1;
        let input = OrderInput {
            buyer: BuyerInput {
                name: name.into(),
                mobile: mobile.into(),
                province: province.into(),
                county: county.into(),
                address: format!("خیابان بهار، کوچهٔ {}، پلاک {}", n % 9 + 1, n + 3),
                postal_code: format!("{}", 1_417_613_151 + n as i64 * 7),
            },
            items,
            payment: if online { "online" } else { "cod" }.into(),
        };
        let Ok(p) = app::place_order(store, "demo", &input).await else {
            continue;
        };
        placed += 1;
        if online {
            match n % 12 {
                // Left waiting for payment, or expired.
                1 => continue,
                4 => {
                    let purchase = app::purchase_for_payment(store, &p.code).await?;
                    app::expire_one(store, purchase.id).await?;
                    continue;
                }
                _ => {
                    app::payment_callback(store, "demo", &p.code, &format!("SIM{n:05}"), true)
                        .await?;
                }
            }
        }
        // The producers' steps on every order of the purchase.
        let purchase = app::purchase_for_payment(store, &p.code).await?;
        let t = app::track(store, &p.code, mobile).await?;
        let _ = purchase;
        for o in &t.orders {
            let shop =
                hamdeli_store::market::producer(&mut *store.pool().acquire().await?, o.producer_id)
                    .await?
                    .context("shop")?;
            let principal = users::by_id(store, shop.user_id)
                .await?
                .context("producer")?
                .principal();
            let c = Caller::new(&principal, "demo");
            let steps: &[OrderStatus] = match n % 8 {
                0 => &[],
                1 => &[OrderStatus::Confirmed],
                2 => &[OrderStatus::Confirmed, OrderStatus::Shipped],
                3..=5 => &[
                    OrderStatus::Confirmed,
                    OrderStatus::Shipped,
                    OrderStatus::Delivered,
                ],
                6 => &[OrderStatus::Cancelled],
                _ => &[
                    OrderStatus::Confirmed,
                    OrderStatus::Shipped,
                    OrderStatus::Delivered,
                    OrderStatus::Returned,
                ],
            };
            for s in steps {
                let (carrier, code) = if *s == OrderStatus::Shipped {
                    (
                        Some("پست پیشتاز"),
                        Some(format!("PP{:08}", 4_000_000 + n * 13)),
                    )
                } else {
                    (None, None)
                };
                app::advance_order(store, &c, o.id, *s, carrier, code.as_deref()).await?;
            }
        }
        let _ = owner;
    }
    // Payouts to the first producers owed money, marked paid with a bank reference.
    let admin = system_principal();
    let admin_c = Caller::new(&admin, "demo");
    for (k, (producer, _, owed)) in app::payables(store, &admin_c)
        .await?
        .into_iter()
        .take(6)
        .enumerate()
    {
        let amount = owed / 2;
        if amount > 0 {
            let _ = app::payout(
                store,
                &admin_c,
                producer,
                amount,
                &format!("BK-1405-{k:04}"),
            )
            .await;
        }
    }
    // A bulk order of masks from the national office: three workshops take parts, the first
    // part's delivered pieces are accepted (paid per piece through the ledger).
    let bulk = app::post_bulk(
        store,
        &admin_c,
        "ماسک پارچه‌ای سه‌لایه (سفارش ستاد)",
        "masks_gowns",
        5_000,
        12_000,
        "ستاد مقابله با کرونا",
    )
    .await?;
    let mut first_part = None;
    for name in ["producer02", "producer08", "producer14"] {
        if let Some(id) = users::id_by_username(store, name).await? {
            let principal = users::by_id(store, id)
                .await?
                .context("producer")?
                .principal();
            let part = app::take_bulk(store, &Caller::new(&principal, "demo"), bulk, 1_200).await?;
            first_part.get_or_insert(part);
        }
    }
    if let Some(part) = first_part {
        app::accept_bulk_part(store, &admin_c, part, 1_150).await?;
    }
    Ok(placed)
}

// ---------------------------------------------------------------------------------------------
// `hamdeli bench market`

/// The market benchmark: `orders` concurrent guest orders (quantity 1) for one product of
/// `stock` pieces through the real server (placed, refused, 5xx, stock after, orders/s); then
/// the catalogue page with `products` products read by `readers` concurrent readers (p50/p99).
pub async fn bench(
    store: &Store,
    config: &crate::Config,
    orders: usize,
    stock: i64,
    products: usize,
    readers: usize,
    requests: usize,
) -> Result<String> {
    crate::demo::seed(store).await?;
    hamdeli_store::settings::set(store, app::SETTING_ORDER_RATE, "0").await?;
    let admin = system_principal();
    let admin_c = Caller::new(&admin, "bench");
    // A producer of the bench with an approved certificate.
    let username = format!("bench{}", hamdeli_store::now_millis() % 1_000_000);
    let user = hamdeli_app::users::create(
        store,
        &admin_c,
        users::NewUser {
            username: username.clone(),
            display_name: "بنچمارک".into(),
            password: crate::demo::DEMO_PASSWORD.into(),
            role: Role::Producer,
            scope: Scope::Own,
            locale: "fa".into(),
            is_demo: true,
        },
    )
    .await?;
    let principal = users::by_id(store, user)
        .await?
        .context("user")?
        .principal();
    let c = Caller::new(&principal, "bench");
    app::open_shop(
        store,
        &c,
        &ShopInput {
            shop_name: "کارگاه بنچمارک".into(),
            mobile: format!("0919{:07}", user % 10_000_000),
            province: "23".into(),
            county: "تهران".into(),
            categories: vec!["food".into()],
            ..Default::default()
        },
    )
    .await?;
    let cert = app::add_certificate(store, &c, "health", "B-1", "بنچ", "2099-01-01").await?;
    app::decide_certificate(store, &admin_c, cert, true).await?;
    let product = |title: String, stock: i64, price: i64| ProductInput {
        title,
        category: "food".into(),
        price_rials: price,
        stock,
        certificate_id: Some(cert),
        active: true,
        ..Default::default()
    };
    let target = app::save_product(
        store,
        &c,
        None,
        &product("کالای بنچمارک".into(), stock, 100_000),
    )
    .await?;

    let state = crate::app_state(store.clone(), config).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hamdeli_web::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(120))
        .build()?;
    let body = serde_json::json!({
        "buyer": {"name": "خریدار بنچمارک", "mobile": "09120000001", "province": "23",
                  "county": "تهران", "address": "خیابان آزادی، پلاک ۱", "postal_code": "1417613151"},
        "items": [{"product_id": target, "quantity": 1}],
        "payment": "cod"
    });
    let body = Arc::new(body);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(orders);
    for _ in 0..orders {
        let (http, base, body) = (http.clone(), base.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            http.post(format!("{base}/api/v1/market/orders"))
                .json(&*body)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }));
    }
    let (mut placed, mut refused, mut server_errors, mut other) = (0, 0, 0, 0);
    for t in tasks {
        match t.await.unwrap_or(0) {
            201 => placed += 1,
            409 => refused += 1,
            s if s >= 500 => server_errors += 1,
            _ => other += 1,
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let left: serde_json::Value = http
        .get(format!("{base}/api/v1/market/products/{target}"))
        .send()
        .await?
        .json()
        .await
        .unwrap_or_default();
    let mut out = format!(
        "market bench on {engine}\n{orders} concurrent orders (qty 1) for stock {stock}: placed {placed}, refused 409 {refused}, 5xx {server_errors}, other {other}, stock after {left}, {secs:.2} s, {rate:.0} orders/s\n",
        engine = store.engine().name(),
        left = left["stock_available"],
        rate = orders as f64 / secs.max(1e-9),
    );

    // The catalogue with `products` listed products.
    let have = hamdeli_store::market::count(store, "market_products").await? as usize;
    for k in have..products {
        app::save_product(
            store,
            &c,
            None,
            &product(
                format!("محصول شمارهٔ {k}"),
                1 + (k as i64 % 50),
                10_000 + (k as i64 % 997) * 1_000,
            ),
        )
        .await?;
    }
    hamdeli_store::market::analyze(store).await?;
    let listed = hamdeli_store::market::count(store, "market_products").await?;
    let paths = [
        "/market",
        "/market?sort=price_asc",
        "/market?category=food&page=3",
        "/market?q=%D9%85%D8%AD%D8%B5%D9%88%D9%84",
    ];
    // One warm-up each.
    for p in paths {
        http.get(format!("{base}{p}")).send().await?;
    }
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(readers);
    for r in 0..readers {
        let (http, base) = (http.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(requests);
            let mut bad = 0;
            for i in 0..requests {
                let path = paths[(r + i) % paths.len()];
                let t = Instant::now();
                match http.get(format!("{base}{path}")).send().await {
                    Ok(resp) if resp.status().is_success() => {
                        let _ = resp.bytes().await;
                    }
                    _ => bad += 1,
                }
                times.push(t.elapsed());
            }
            (times, bad)
        }));
    }
    let mut all = vec![];
    let mut bad = 0;
    for t in tasks {
        if let Ok((times, b)) = t.await {
            all.extend(times);
            bad += b;
        }
    }
    let total = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    out.push_str(&format!(
        "catalogue page (/market, 24 a page; newest, by price, a category's third page, a search) with {listed} products, {readers} concurrent readers × {requests}: p50 {:.1} ms, p99 {:.1} ms, {:.0} pages/s, failed {bad}\n",
        pct(0.50),
        pct(0.99),
        all.len() as f64 / total.max(1e-9)
    ));
    let _ = stop.send(());
    let _ = server.await;
    Ok(out)
}
