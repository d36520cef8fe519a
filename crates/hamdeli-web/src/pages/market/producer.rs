//! The producer's pages: sign-up with her mobile and a one-time code, her shop (open, edit,
//! Sheba, certificates, balance), her products with photos, her orders and their steps.

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::response::Response;
use serde::Deserialize;

use hamdeli_app::market::{self as app, ProductInput, ShopInput, SignupInput};
use hamdeli_domain::market::CATEGORIES;
use hamdeli_domain::market::order::OrderStatus;
use hamdeli_store::geo;
use hamdeli_store::market::{Certificate, Producer, Product};

use super::shop::{EventView, OrderView, tracking_views};
use super::{category_name, tomans};
use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::{FormData, html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

/// The largest photo upload accepted (the server resizes it).
pub const MAX_UPLOAD: usize = 5 * 1024 * 1024;

fn options(l: Loc) -> Vec<(String, String)> {
    CATEGORIES
        .iter()
        .map(|c| (c.to_string(), category_name(l, c)))
        .collect()
}

async fn province_options(state: &AppState, l: Loc) -> Result<Vec<(String, String)>, AppError> {
    Ok(geo::all_provinces(&state.store)
        .await?
        .iter()
        .map(|p| (p.code.clone(), l.name(&p.name_fa, &p.name_en).to_owned()))
        .collect())
}

/// A form's error in the user's language, and the page with status 400.
fn bad(mut r: Response) -> Result<Response, AppError> {
    *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    Ok(r)
}

fn app_error_text(l: Loc, e: hamdeli_app::Error) -> Result<String, AppError> {
    match e {
        hamdeli_app::Error::Invalid(id) | hamdeli_app::Error::Conflict(id) => Ok(l.t(id)),
        other => Err(other.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Sign-up

#[derive(Template)]
#[template(path = "market/signup.html")]
struct SignupPage {
    shell: Shell,
    l: Loc,
    error: Option<String>,
    mobile: String,
    shop: String,
}

/// Handles the GET /market/signup route: her mobile and her shop's name.
pub async fn signup_form(ctx: Ctx) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    html(SignupPage {
        shell: Shell::new(&ctx, l.t("market-signup-title")),
        l,
        error: None,
        mobile: String::new(),
        shop: String::new(),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignupForm {
    mobile: String,
    shop: String,
}

/// Handles the POST /market/signup route: a one-time code goes to her mobile.
pub async fn signup(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(f): FormData<SignupForm>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let now = hamdeli_store::now_millis();
    if !crate::ratelimit::admit_signup(&state.store, &ctx.client_addr, now).await? {
        return Err(AppError::TooManyRequests);
    }
    let text = l.t1("signup-code-sms", "code", "@CODE@");
    match app::start_signup(
        &state.store,
        state.sms.as_ref(),
        &state.config.secret_key,
        &f.mobile,
        &f.shop,
        |code| text.replace("@CODE@", code),
    )
    .await
    {
        Ok(mobile) => Ok(see_other(&format!(
            "/market/signup/verify?m={}",
            mask_ref(&mobile)
        ))),
        Err(e) => {
            let error = Some(app_error_text(l, e)?);
            bad(html(SignupPage {
                shell: Shell::new(&ctx, l.t("market-signup-title")),
                l,
                error,
                mobile: f.mobile,
                shop: f.shop,
            })?)
        }
    }
}

/// The verify page is reached without the number in the address (it is typed again).
fn mask_ref(_mobile: &str) -> &'static str {
    "1"
}

#[derive(Template)]
#[template(path = "market/verify.html")]
struct VerifyPage {
    shell: Shell,
    l: Loc,
    error: Option<String>,
    categories: Vec<(String, String)>,
    provinces: Vec<(String, String)>,
}

/// Handles the GET /market/signup/verify route: the code, her password, her workshop's place.
pub async fn verify_form(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    html(VerifyPage {
        shell: Shell::new(&ctx, l.t("market-signup-title")),
        l,
        error: None,
        categories: options(l),
        provinces: province_options(&state, l).await?,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct VerifyForm {
    mobile: String,
    code: String,
    password: String,
    province: String,
    county: String,
    category: String,
}

/// Handles the POST /market/signup/verify route: the right code makes her account and shop.
pub async fn verify(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(f): FormData<VerifyForm>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let input = SignupInput {
        mobile: f.mobile,
        code: f.code,
        password: f.password,
        province: f.province,
        county: f.county,
        categories: vec![f.category],
    };
    match app::finish_signup(
        &state.store,
        &ctx.client_addr,
        &state.config.secret_key,
        &input,
    )
    .await
    {
        Ok(_) => Ok(see_other("/login?next=/market/producer&signed_up=1")),
        Err(e) => {
            let error = Some(app_error_text(l, e)?);
            bad(html(VerifyPage {
                shell: Shell::new(&ctx, l.t("market-signup-title")),
                l,
                error,
                categories: options(l),
                provinces: province_options(&state, l).await?,
            })?)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Her shop

struct CertView {
    id: i64,
    kind: String,
    number: String,
    issuer: String,
    expires: String,
    status: String,
}

fn cert_views(l: Loc, certs: &[Certificate]) -> Vec<CertView> {
    certs
        .iter()
        .map(|c| CertView {
            id: c.id,
            kind: l.tv("market-cert-kind", &c.kind),
            number: l.digits(&c.number),
            issuer: c.issuer.clone(),
            expires: l.date(&c.expires_on),
            status: if c.status == "approved" && c.expires_on < hamdeli_store::market::today_iso() {
                l.t("market-cert-expired")
            } else {
                l.tv("market-cert", &c.status)
            },
        })
        .collect()
}

#[derive(Template)]
#[template(path = "market/producer_home.html")]
struct HomePage {
    shell: Shell,
    l: Loc,
    shop: Option<Producer>,
    error: Option<String>,
    categories: Vec<(String, String)>,
    shop_categories: Vec<(String, String, bool)>,
    provinces: Vec<(String, String)>,
    certs: Vec<CertView>,
    balance: String,
    statement: Vec<(String, String, String, String)>,
    products: i64,
    open_orders: i64,
}

async fn home_page(
    state: &AppState,
    ctx: &Ctx,
    error: Option<String>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let c = caller(ctx)?;
    let shop = app::my_shop(&state.store, c.principal).await?;
    let (certs, balance, statement, products, open_orders) = match &shop {
        Some(_) => {
            let certs = app::my_certificates(&state.store, &c).await?;
            let (balance, lines) = app::my_balance(&state.store, &c).await?;
            let products = app::my_products(&state.store, &c).await?.len() as i64;
            let (orders, _) = app::my_orders(&state.store, &c).await?;
            let open = orders
                .iter()
                .filter(|o| matches!(o.status.as_str(), "placed" | "confirmed"))
                .count() as i64;
            (
                cert_views(l, &certs),
                tomans(l, balance),
                lines
                    .iter()
                    .map(|x| {
                        (
                            l.instant(&x.at),
                            l.tv("market-journal", &x.kind),
                            l.opt(&x.reference),
                            tomans(l, x.amount),
                        )
                    })
                    .collect(),
                products,
                open,
            )
        }
        None => (vec![], String::new(), vec![], 0, 0),
    };
    let mine: Vec<String> = shop
        .as_ref()
        .map(|s| s.categories.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let shop_categories = options(l)
        .into_iter()
        .map(|(c, n)| {
            let on = mine.contains(&c);
            (c, n, on)
        })
        .collect();
    html(HomePage {
        shell: Shell::new(ctx, l.t("market-producer-title")),
        l,
        shop,
        shop_categories,
        error,
        categories: options(l),
        provinces: province_options(state, l).await?,
        certs,
        balance,
        statement,
        products,
        open_orders,
    })
}

/// Handles the GET /market/producer route: her market home (open her shop if she has none).
pub async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let p = ctx.require()?;
    if p.role != hamdeli_domain::Role::Producer {
        return Err(AppError::Forbidden);
    }
    home_page(&state, &ctx, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ShopForm {
    shop_name: String,
    mobile: String,
    province: String,
    county: String,
    category: Vec<String>,
    about: String,
    sheba: String,
}

fn shop_input(f: ShopForm) -> ShopInput {
    ShopInput {
        shop_name: f.shop_name,
        mobile: f.mobile,
        province: f.province,
        county: f.county,
        categories: f.category,
        about: f.about,
        sheba: f.sheba,
    }
}

/// Handles the POST /market/producer/open route: a producer without a shop opens it.
pub async fn open_shop(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::extract::RawForm(raw): axum::extract::RawForm,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let f = shop_form(&raw)?;
    match app::open_shop(&state.store, &c, &shop_input(f)).await {
        Ok(_) => Ok(see_other("/market/producer")),
        Err(e) => {
            let l = Loc(ctx.locale);
            let msg = app_error_text(l, e)?;
            bad(home_page(&state, &ctx, Some(msg)).await?)
        }
    }
}

/// A shop form with repeated `category` fields.
fn shop_form(raw: &[u8]) -> Result<ShopForm, AppError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(raw).map_err(|_| AppError::BadRequest("form-invalid"))?;
    let mut f = ShopForm::default();
    for (k, v) in pairs {
        match k.as_str() {
            "shop_name" => f.shop_name = v,
            "mobile" => f.mobile = v,
            "province" => f.province = v,
            "county" => f.county = v,
            "category" => f.category.push(v),
            "about" => f.about = v,
            "sheba" => f.sheba = v,
            _ => {}
        }
    }
    Ok(f)
}

/// Handles the POST /market/producer/shop route: her shop's name, description, categories and
/// Sheba.
pub async fn update_shop(
    State(state): State<AppState>,
    ctx: Ctx,
    axum::extract::RawForm(raw): axum::extract::RawForm,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let f = shop_form(&raw)?;
    match app::update_shop(&state.store, &c, &shop_input(f)).await {
        Ok(()) => Ok(see_other("/market/producer")),
        Err(e) => {
            let l = Loc(ctx.locale);
            let msg = app_error_text(l, e)?;
            bad(home_page(&state, &ctx, Some(msg)).await?)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CertForm {
    kind: String,
    number: String,
    issuer: String,
    expires_on: String,
}

/// Handles the POST /market/producer/certificates route: a certificate for the office to check.
pub async fn add_certificate(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(f): FormData<CertForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    match app::add_certificate(
        &state.store,
        &c,
        &f.kind,
        &f.number,
        &f.issuer,
        &f.expires_on,
    )
    .await
    {
        Ok(_) => Ok(see_other("/market/producer")),
        Err(e) => {
            let l = Loc(ctx.locale);
            let msg = app_error_text(l, e)?;
            bad(home_page(&state, &ctx, Some(msg)).await?)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Her products

struct MyProduct {
    id: i64,
    title: String,
    price: String,
    stock: String,
    listed: bool,
    has_photo: bool,
}

#[derive(Template)]
#[template(path = "market/producer_products.html")]
struct ProductsPage {
    shell: Shell,
    l: Loc,
    products: Vec<MyProduct>,
    error: Option<String>,
    categories: Vec<(String, String)>,
    certs: Vec<CertView>,
    form: ProductForm,
    editing: Option<i64>,
    has_photo: bool,
}

async fn products_page(
    state: &AppState,
    ctx: &Ctx,
    form: ProductForm,
    editing: Option<i64>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let c = caller(ctx)?;
    let list = app::my_products(&state.store, &c).await?;
    let certs = app::my_certificates(&state.store, &c).await?;
    let has_photo = editing.is_some_and(|id| list.iter().any(|p| p.id == id && p.has_photo));
    html(ProductsPage {
        shell: Shell::new(ctx, l.t("market-nav-products")),
        l,
        products: list
            .iter()
            .map(|p| MyProduct {
                id: p.id,
                title: p.title.clone(),
                price: tomans(l, p.price_rials),
                stock: l.num(&p.stock),
                listed: p.visible,
                has_photo: p.has_photo,
            })
            .collect(),
        error,
        categories: options(l),
        certs: cert_views(l, &certs),
        form,
        editing,
        has_photo,
    })
}

/// Handles the GET /market/producer/products route: her products and the form for a new one.
pub async fn products(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    if app::my_shop(&state.store, c.principal).await?.is_none() {
        if c.principal.role != hamdeli_domain::Role::Producer {
            return Err(AppError::Forbidden);
        }
        return Ok(see_other("/market/producer"));
    }
    products_page(&state, &ctx, ProductForm::new(), None, None).await
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ProductForm {
    title: String,
    description: String,
    category: String,
    price_tomans: String,
    stock: String,
    weight_grams: String,
    delivers_to: String,
    certificate: String,
    active: String,
}

impl ProductForm {
    fn new() -> ProductForm {
        ProductForm {
            active: "1".into(),
            ..Default::default()
        }
    }

    fn of(p: &Product) -> ProductForm {
        ProductForm {
            title: p.title.clone(),
            description: p.description.clone(),
            category: p.category.clone(),
            price_tomans: (p.price_rials / 10).to_string(),
            stock: p.stock.to_string(),
            weight_grams: p.weight_grams.to_string(),
            delivers_to: p.delivers_to.clone(),
            certificate: p.certificate_id.map(|c| c.to_string()).unwrap_or_default(),
            active: if p.active { "1".into() } else { String::new() },
        }
    }

    fn input(&self) -> Result<ProductInput, &'static str> {
        let int = |s: &str| {
            hamdeli_text::fold_digits(s.trim())
                .replace([',', '٬'], "")
                .parse::<i64>()
        };
        Ok(ProductInput {
            title: self.title.clone(),
            description: self.description.clone(),
            category: self.category.clone(),
            price_rials: hamdeli_domain::market::money::parse_tomans(&self.price_tomans)
                .ok_or("market-field-price")?,
            stock: int(&self.stock).map_err(|_| "market-field-stock")?,
            weight_grams: if self.weight_grams.trim().is_empty() {
                0
            } else {
                int(&self.weight_grams).map_err(|_| "market-field-weight")?
            },
            delivers_to: hamdeli_text::fold_digits(&self.delivers_to),
            certificate_id: self.certificate.trim().parse().ok(),
            active: !self.active.is_empty(),
        })
    }
}

async fn save(
    state: &AppState,
    ctx: &Ctx,
    id: Option<i64>,
    f: ProductForm,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let c = caller(ctx)?;
    let result = match f.input() {
        Ok(input) => app::save_product(&state.store, &c, id, &input).await,
        Err(code) => Err(hamdeli_app::Error::Invalid(code)),
    };
    match result {
        Ok(saved) => Ok(see_other(&format!("/market/producer/products/{saved}"))),
        Err(e) => {
            let msg = app_error_text(l, e)?;
            bad(products_page(state, ctx, f, id, Some(msg)).await?)
        }
    }
}

/// Handles the POST /market/producer/products route: a new product.
pub async fn create_product(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(f): FormData<ProductForm>,
) -> Result<Response, AppError> {
    save(&state, &ctx, None, f).await
}

/// Handles the GET /market/producer/products/{id} route: one of her products to edit, with its
/// photo.
pub async fn product_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let p = app::my_product(&state.store, &c, id).await?;
    products_page(&state, &ctx, ProductForm::of(&p), Some(p.id), None).await
}

/// Handles the POST /market/producer/products/{id} route: her product changed.
pub async fn save_product(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<ProductForm>,
) -> Result<Response, AppError> {
    save(&state, &ctx, Some(id), f).await
}

/// Handles the POST /market/producer/products/{id}/photo route: a photo, re-encoded on the
/// server (which drops its metadata) and resized.
pub async fn upload_photo(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let mut bytes = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::PayloadTooLarge)?
    {
        if field.name() == Some("photo") {
            let data = field.bytes().await.map_err(|_| AppError::PayloadTooLarge)?;
            bytes = Some(data.to_vec());
        }
    }
    let bytes = bytes.ok_or(AppError::BadRequest("market-photo-invalid"))?;
    // Decoding a large picture takes a second of CPU: off the request threads.
    let jpeg = tokio::task::spawn_blocking(move || reencode(&bytes))
        .await
        .ok()
        .flatten()
        .ok_or(AppError::BadRequest("market-photo-invalid"))?;
    app::set_photo(&state.store, &c, id, jpeg).await?;
    Ok(see_other(&format!("/market/producer/products/{id}")))
}

/// A photo decoded, resized to fit 800 px and encoded again as JPEG: nothing of the upload's
/// metadata (EXIF, GPS, comments) survives.
pub(crate) fn reencode(bytes: &[u8]) -> Option<Vec<u8>> {
    hamdeli_app::market::photos::normalise(bytes)
}

// ---------------------------------------------------------------------------------------------
// Her orders

#[derive(Template)]
#[template(path = "market/producer_orders.html")]
struct OrdersPage {
    shell: Shell,
    l: Loc,
    orders: Vec<(i64, String, String, String, String, String)>,
}

/// Handles the GET /market/producer/orders route: her orders, newest first.
pub async fn orders(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let c = caller(&ctx)?;
    if app::my_shop(&state.store, c.principal).await?.is_none() {
        // A producer without a shop opens one first; nobody else has a producer's pages.
        if c.principal.role != hamdeli_domain::Role::Producer {
            return Err(AppError::Forbidden);
        }
        return Ok(see_other("/market/producer"));
    }
    let (orders, items) = app::my_orders(&state.store, &c).await?;
    html(OrdersPage {
        shell: Shell::new(&ctx, l.t("market-nav-orders")),
        l,
        orders: orders
            .iter()
            .map(|o| {
                let what = items
                    .iter()
                    .filter(|i| i.order_id == o.id)
                    .map(|i| format!("{} × {}", i.title, l.num(&i.quantity)))
                    .collect::<Vec<_>>()
                    .join("، ");
                (
                    o.id,
                    l.instant(&o.created_at),
                    what,
                    tomans(l, o.total_rials),
                    l.tv("market-status", &o.status),
                    l.tv("market-method", &o.payment_method),
                )
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "market/producer_order.html")]
struct OrderPage {
    shell: Shell,
    l: Loc,
    order: OrderView,
    events: Vec<EventView>,
    buyer: String,
    address: String,
    code: String,
    next: Vec<(String, String)>,
    error: Option<String>,
}

async fn order_page(
    state: &AppState,
    ctx: &Ctx,
    id: i64,
    error: Option<String>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let c = caller(ctx)?;
    let t = app::my_order(&state.store, &c, id).await?;
    let (mut orders, events) = tracking_views(l, &t);
    let order = orders.pop().ok_or(AppError::NotFound)?;
    let from = OrderStatus::parse(&order.status_code).ok_or(AppError::NotFound)?;
    let next = OrderStatus::ALL
        .into_iter()
        .filter(|s| from.can_become(*s))
        .map(|s| (s.as_str().to_owned(), l.tv("market-step", s.as_str())))
        .collect();
    let county = geo::county(&state.store, &t.purchase.county_code).await?;
    let place = county
        .map(|c| l.name(&c.name_fa, &c.name_en).to_owned())
        .unwrap_or_default();
    html(OrderPage {
        shell: Shell::new(ctx, l.t("market-order-title")),
        l,
        order,
        events,
        buyer: format!(
            "{} — {}",
            t.purchase.buyer_name,
            l.digits(&t.purchase.buyer_mobile)
        ),
        address: format!(
            "{place}، {} — {}",
            t.purchase.address,
            l.digits(&t.purchase.postal_code)
        ),
        code: t.purchase.code.clone(),
        next,
        error,
    })
}

/// Handles the GET /market/producer/orders/{id} route: one of her orders with the buyer's
/// delivery details and its history.
pub async fn order(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    order_page(&state, &ctx, id, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StepForm {
    to: String,
    carrier: String,
    tracking: String,
}

/// Handles the POST /market/producer/orders/{id}/step route: confirm, ship (carrier and
/// tracking code), deliver, cancel or return.
pub async fn step(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<StepForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let to = OrderStatus::parse(&f.to).ok_or(AppError::BadRequest("form-invalid"))?;
    match app::advance_order(
        &state.store,
        &c,
        id,
        to,
        Some(&f.carrier),
        Some(&f.tracking),
    )
    .await
    {
        Ok(()) => Ok(see_other(&format!("/market/producer/orders/{id}"))),
        Err(e) => {
            let l = Loc(ctx.locale);
            let msg = app_error_text(l, e)?;
            bad(order_page(&state, &ctx, id, Some(msg)).await?)
        }
    }
}
