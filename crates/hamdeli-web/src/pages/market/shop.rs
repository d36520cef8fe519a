//! The buyer's pages: catalogue by category and province with search and sort, the product
//! page, the cart (a cookie of product ids and quantities, across producers), the guest
//! checkout, order tracking by code and mobile, and the simulated payment gateway.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use hamdeli_app::market::{self as app, BuyerInput, OrderInput, PlaceError, Tracking, Verified};
use hamdeli_domain::market::CATEGORIES;
use hamdeli_store::geo;
use hamdeli_store::market::{Filter, Product};

use super::{category_name, tomans};
use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::{FormData, html, see_other};
use crate::view::{Loc, Shell};

pub(crate) const CART_COOKIE: &str = "hamdeli_cart";
const PAGE: i64 = 24;

/// A product as a card or a page shows it.
pub(crate) struct ProductView {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub price: String,
    pub stock: i64,
    pub stock_text: String,
    pub category: String,
    pub province: String,
    pub shop: String,
    pub has_photo: bool,
    pub weight: String,
}

pub(crate) fn view_of(l: Loc, p: &Product, provinces: &[geo::Province]) -> ProductView {
    let province = provinces
        .iter()
        .find(|x| x.code == p.province_code)
        .map(|x| l.name(&x.name_fa, &x.name_en).to_owned())
        .unwrap_or_default();
    ProductView {
        id: p.id,
        title: p.title.clone(),
        description: p.description.clone(),
        price: tomans(l, p.price_rials),
        stock: p.stock,
        stock_text: if p.stock > 0 {
            l.t1("market-in-stock", "n", &l.num(&p.stock))
        } else {
            l.t("market-out-of-stock-short")
        },
        category: category_name(l, &p.category),
        province,
        shop: p.shop_name.clone(),
        has_photo: p.has_photo,
        weight: if p.weight_grams > 0 {
            l.t1("market-weight-g", "g", &l.num(&p.weight_grams))
        } else {
            String::new()
        },
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CatalogueQuery {
    q: String,
    category: String,
    province: String,
    sort: String,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "market/catalogue.html")]
struct CataloguePage {
    shell: Shell,
    l: Loc,
    q: String,
    category: String,
    province: String,
    sort: String,
    categories: Vec<(String, String)>,
    provinces: Vec<(String, String)>,
    products: Vec<ProductView>,
    page: i64,
    prev: Option<String>,
    next: Option<String>,
    cart_count: i64,
}

fn query_string(q: &CatalogueQuery, page: i64) -> String {
    serde_urlencoded::to_string([
        ("q", q.q.as_str()),
        ("category", q.category.as_str()),
        ("province", q.province.as_str()),
        ("sort", q.sort.as_str()),
        ("page", &page.to_string()),
    ])
    .unwrap_or_default()
}

/// Handles the GET /market route: the public catalogue.
pub async fn catalogue(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(q): Query<CatalogueQuery>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let provinces = geo::all_provinces(&state.store).await?;
    let category = if CATEGORIES.contains(&q.category.as_str()) {
        q.category.clone()
    } else {
        String::new()
    };
    let province = provinces
        .iter()
        .find(|p| p.code == q.province)
        .map(|p| p.code.clone())
        .unwrap_or_default();
    let filter = Filter {
        category: category.clone(),
        province: province.clone(),
        sort: super::api::sort_of(&q.sort),
        limit: PAGE + 1,
        offset: (page - 1) * PAGE,
        ..Default::default()
    };
    let q_text: String = q.q.chars().take(100).collect();
    let mut list = app::catalogue(&state.store, &q_text, filter).await?;
    let more = list.len() as i64 > PAGE;
    list.truncate(PAGE as usize);
    let products = list.iter().map(|p| view_of(l, p, &provinces)).collect();
    let cart_count = read_cart(&headers).iter().map(|(_, n)| n).sum();
    html(CataloguePage {
        shell: Shell::new(&ctx, l.t("market-title")),
        l,
        prev: (page > 1).then(|| format!("/market?{}", query_string(&q, page - 1))),
        next: more.then(|| format!("/market?{}", query_string(&q, page + 1))),
        q: q_text,
        category,
        province,
        sort: q.sort.clone(),
        categories: CATEGORIES
            .iter()
            .map(|c| (c.to_string(), category_name(l, c)))
            .collect(),
        provinces: provinces
            .iter()
            .map(|p| (p.code.clone(), l.name(&p.name_fa, &p.name_en).to_owned()))
            .collect(),
        products,
        page,
        cart_count,
    })
}

#[derive(Template)]
#[template(path = "market/product.html")]
struct ProductPage {
    shell: Shell,
    l: Loc,
    p: ProductView,
}

/// Handles the GET /market/products/{id} route: one listed product.
pub async fn product(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let p = app::public_product(&state.store, id).await?;
    let provinces = geo::all_provinces(&state.store).await?;
    html(ProductPage {
        shell: Shell::new(&ctx, p.title.clone()),
        l,
        p: view_of(l, &p, &provinces),
    })
}

/// Handles the GET /market/products/{id}/photo route: the product's JPEG.
pub async fn photo(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let bytes = app::photo(&state.store, ctx.principal.as_ref(), id).await?;
    Ok((
        [
            (CONTENT_TYPE, "image/jpeg"),
            (CACHE_CONTROL, "public, max-age=300"),
        ],
        bytes,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// Cart

/// The cart cookie: `12x2.15x1` (product id × quantity, at most 50 lines).
pub(crate) fn read_cart(headers: &HeaderMap) -> Vec<(i64, i64)> {
    let Some(raw) = crate::cookies::get(headers, CART_COOKIE) else {
        return vec![];
    };
    raw.split('.')
        .filter_map(|part| {
            let (id, n) = part.split_once('x')?;
            let (id, n) = (id.parse::<i64>().ok()?, n.parse::<i64>().ok()?);
            (id > 0 && (1..=1000).contains(&n)).then_some((id, n))
        })
        .take(50)
        .collect()
}

fn cart_cookie(state: &AppState, cart: &[(i64, i64)]) -> String {
    let value = cart
        .iter()
        .map(|(id, n)| format!("{id}x{n}"))
        .collect::<Vec<_>>()
        .join(".");
    if value.is_empty() {
        crate::cookies::clear(CART_COOKIE, state.config.secure_cookies)
    } else {
        crate::cookies::set(
            CART_COOKIE,
            &value,
            Some(7 * 86_400),
            state.config.secure_cookies,
        )
    }
}

fn with_cookie(mut r: Response, cookie: String) -> Response {
    if let Ok(v) = axum::http::HeaderValue::from_str(&cookie) {
        r.headers_mut().append(SET_COOKIE, v);
    }
    r
}

#[derive(Deserialize)]
pub struct CartForm {
    product: i64,
    #[serde(default)]
    quantity: String,
}

/// Handles the POST /market/cart route: a product into the cart.
pub async fn cart_add(
    State(state): State<AppState>,
    headers: HeaderMap,
    FormData(f): FormData<CartForm>,
) -> Result<Response, AppError> {
    let qty = hamdeli_text::fold_digits(f.quantity.trim())
        .parse::<i64>()
        .unwrap_or(1)
        .clamp(1, 1000);
    app::public_product(&state.store, f.product).await?;
    let mut cart = read_cart(&headers);
    if let Some(line) = cart.iter_mut().find(|(id, _)| *id == f.product) {
        line.1 = (line.1 + qty).min(1000);
    } else if cart.len() < 50 {
        cart.push((f.product, qty));
    } else {
        return Err(AppError::BadRequest("market-field-items"));
    }
    Ok(with_cookie(
        see_other("/market/cart"),
        cart_cookie(&state, &cart),
    ))
}

#[derive(Deserialize)]
pub struct RemoveForm {
    product: i64,
}

/// Handles the POST /market/cart/remove route.
pub async fn cart_remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    FormData(f): FormData<RemoveForm>,
) -> Result<Response, AppError> {
    let cart: Vec<_> = read_cart(&headers)
        .into_iter()
        .filter(|(id, _)| *id != f.product)
        .collect();
    Ok(with_cookie(
        see_other("/market/cart"),
        cart_cookie(&state, &cart),
    ))
}

pub(crate) struct CartLine {
    id: i64,
    title: String,
    shop: String,
    quantity: i64,
    price: String,
    total: String,
}

#[derive(Template)]
#[template(path = "market/cart.html")]
struct CartPage {
    shell: Shell,
    l: Loc,
    lines: Vec<CartLine>,
    total: String,
    provinces: Vec<(String, String)>,
    errors: Vec<String>,
    form: CheckoutForm,
}

async fn cart_page(
    state: &AppState,
    ctx: &Ctx,
    cart: &[(i64, i64)],
    form: CheckoutForm,
    errors: Vec<String>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let mut lines = vec![];
    let mut total: i64 = 0;
    for (id, n) in cart {
        let Ok(p) = app::public_product(&state.store, *id).await else {
            continue;
        };
        let line = p.price_rials.saturating_mul(*n);
        total = total.saturating_add(line);
        lines.push(CartLine {
            id: p.id,
            title: p.title.clone(),
            shop: p.shop_name.clone(),
            quantity: *n,
            price: tomans(l, p.price_rials),
            total: tomans(l, line),
        });
    }
    let provinces = geo::all_provinces(&state.store)
        .await?
        .iter()
        .map(|p| (p.code.clone(), l.name(&p.name_fa, &p.name_en).to_owned()))
        .collect();
    html(CartPage {
        shell: Shell::new(ctx, l.t("market-cart-title")),
        l,
        lines,
        total: tomans(l, total),
        provinces,
        errors,
        form,
    })
}

/// Handles the GET /market/cart route: the cart and the checkout form.
pub async fn cart(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    cart_page(
        &state,
        &ctx,
        &read_cart(&headers),
        CheckoutForm::default(),
        vec![],
    )
    .await
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct CheckoutForm {
    name: String,
    mobile: String,
    province: String,
    county: String,
    address: String,
    postal_code: String,
    payment: String,
}

#[derive(Template)]
#[template(path = "market/placed.html")]
struct PlacedPage {
    shell: Shell,
    l: Loc,
    code: String,
    total: String,
}

/// Handles the POST /market/checkout route: the guest's order from the cart; cash on delivery
/// shows the code, an online payment goes to the gateway.
pub async fn checkout(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    FormData(f): FormData<CheckoutForm>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let cart = read_cart(&headers);
    if !app::admit_order(&state.store, &ctx.client_addr).await? {
        return Err(AppError::TooManyRequests);
    }
    let input = OrderInput {
        buyer: BuyerInput {
            name: f.name.clone(),
            mobile: f.mobile.clone(),
            province: f.province.clone(),
            county: f.county.clone(),
            address: f.address.clone(),
            postal_code: f.postal_code.clone(),
        },
        items: cart.clone(),
        payment: if f.payment == "online" {
            "online".into()
        } else {
            "cod".into()
        },
    };
    let errors = match app::place_order(&state.store, &ctx.client_addr, &input).await {
        Ok(placed) => {
            let clear = cart_cookie(&state, &[]);
            if placed.payment_method == "online" {
                return Ok(with_cookie(
                    see_other(&format!("/market/pay/{}", placed.code)),
                    clear,
                ));
            }
            let page = html(PlacedPage {
                shell: Shell::new(&ctx, l.t("market-placed-title")),
                l,
                code: placed.code,
                total: tomans(l, placed.total_rials),
            })?;
            return Ok(with_cookie(page, clear));
        }
        Err(PlaceError::Fields(fields)) => fields
            .into_iter()
            .map(|(field, id)| l.t1(id, "field", &field))
            .collect(),
        Err(PlaceError::OutOfStock { title, .. }) => {
            vec![l.t1("market-out-of-stock", "product", &title)]
        }
        Err(PlaceError::Other(e)) => return Err(e.into()),
    };
    let mut r = cart_page(&state, &ctx, &cart, f, errors).await?;
    *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// Tracking

pub(crate) struct OrderView {
    pub id: i64,
    pub shop: String,
    pub status: String,
    pub status_code: String,
    pub total: String,
    pub shipping: String,
    pub items: Vec<(String, String, String)>,
    pub cancellable: bool,
}

pub(crate) struct EventView {
    pub at: String,
    pub text: String,
}

pub(crate) fn tracking_views(l: Loc, t: &Tracking) -> (Vec<OrderView>, Vec<EventView>) {
    let orders = t
        .orders
        .iter()
        .map(|o| OrderView {
            id: o.id,
            shop: o.shop_name.clone(),
            status: l.tv("market-status", &o.status),
            status_code: o.status.clone(),
            total: tomans(l, o.total_rials),
            shipping: match (&o.carrier, &o.tracking_code) {
                (Some(c), Some(t)) => format!("{c} · {}", l.digits(t)),
                _ => String::new(),
            },
            items: t
                .items
                .iter()
                .filter(|i| i.order_id == o.id)
                .map(|i| {
                    (
                        i.title.clone(),
                        l.num(&i.quantity),
                        tomans(l, i.unit_price_rials),
                    )
                })
                .collect(),
            cancellable: matches!(o.status.as_str(), "placed" | "confirmed"),
        })
        .collect();
    let events = t
        .events
        .iter()
        .map(|e| {
            let shop = e
                .order_id
                .and_then(|id| t.orders.iter().find(|o| o.id == id))
                .map(|o| format!("{} — ", o.shop_name))
                .unwrap_or_default();
            let what = if e.kind == "payment" {
                l.tv("market-pay", &e.to_status)
            } else {
                l.tv("market-status", &e.to_status)
            };
            let note = e
                .note
                .as_deref()
                .map(|n| format!(" ({})", l.digits(n)))
                .unwrap_or_default();
            EventView {
                at: l.instant(&e.at),
                text: format!("{shop}{what}{note}"),
            }
        })
        .collect();
    (orders, events)
}

#[derive(Template)]
#[template(path = "market/track.html")]
struct TrackPage {
    shell: Shell,
    l: Loc,
    code: String,
    mobile: String,
    error: Option<String>,
    found: bool,
    status: String,
    payment: String,
    total: String,
    orders: Vec<OrderView>,
    events: Vec<EventView>,
}

fn empty_track(ctx: &Ctx, l: Loc, error: Option<String>) -> TrackPage {
    TrackPage {
        shell: Shell::new(ctx, l.t("market-track-title")),
        l,
        code: String::new(),
        mobile: String::new(),
        error,
        found: false,
        status: String::new(),
        payment: String::new(),
        total: String::new(),
        orders: vec![],
        events: vec![],
    }
}

/// Handles the GET /market/track route: the form for the code and the mobile.
pub async fn track_form(ctx: Ctx) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    html(empty_track(&ctx, l, None))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TrackForm {
    code: String,
    mobile: String,
}

/// Handles the POST /market/track route: the order's status and history (a POST, so the
/// mobile stays out of the address bar and the logs).
pub async fn track(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(f): FormData<TrackForm>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    match app::track_limited(&state.store, &ctx.client_addr, &f.code, &f.mobile).await {
        Ok(app::Lookup::TooMany) => Err(AppError::TooManyRequests),
        Ok(app::Lookup::Done(t)) => {
            let (orders, events) = tracking_views(l, &t);
            html(TrackPage {
                shell: Shell::new(&ctx, l.t("market-track-title")),
                l,
                code: t.purchase.code.clone(),
                mobile: f.mobile.clone(),
                error: None,
                found: true,
                status: l.tv("market-status", &t.status),
                payment: format!(
                    "{} — {}",
                    l.tv("market-method", &t.purchase.payment_method),
                    l.tv("market-pay", &t.purchase.payment_status)
                ),
                total: tomans(l, t.purchase.total_rials),
                orders,
                events,
            })
        }
        Err(hamdeli_app::Error::NotFound) => {
            let mut r = html(empty_track(&ctx, l, Some(l.t("market-track-not-found"))))?;
            *r.status_mut() = axum::http::StatusCode::NOT_FOUND;
            Ok(r)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct BuyerCancelForm {
    code: String,
    mobile: String,
    order: i64,
}

/// Handles the POST /market/track/cancel route: the buyer cancels one of her orders before it
/// ships (stock back, refund if paid); the tracking page again.
pub async fn buyer_cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(f): FormData<BuyerCancelForm>,
) -> Result<Response, AppError> {
    // The code and mobile are checked under the look-up limits before anything is cancelled.
    if let app::Lookup::TooMany =
        app::track_limited(&state.store, &ctx.client_addr, &f.code, &f.mobile).await?
    {
        return Err(AppError::TooManyRequests);
    }
    app::buyer_cancel(&state.store, &ctx.client_addr, &f.code, &f.mobile, f.order).await?;
    track(
        State(state),
        ctx,
        FormData(TrackForm {
            code: f.code,
            mobile: f.mobile,
        }),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// The simulated payment gateway: redirect → the gateway's page → callback → verify.

#[derive(Template)]
#[template(path = "market/gateway.html")]
struct GatewayPage {
    shell: Shell,
    l: Loc,
    code: String,
    total: String,
    status: String,
    payable: bool,
    result: Option<String>,
}

/// Handles the GET /market/pay/{code} route: the simulated gateway's payment page.
pub async fn gateway(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let p = app::purchase_for_payment(&state.store, &code).await?;
    if p.payment_method != "online" {
        return Err(AppError::NotFound);
    }
    html(GatewayPage {
        shell: Shell::new(&ctx, l.t("market-gateway-title")),
        l,
        payable: p.payment_status == "pending",
        status: l.tv("market-pay", &p.payment_status),
        code: p.code,
        total: tomans(l, p.total_rials),
        result: None,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct GatewayForm {
    action: String,
}

/// The simulated gateway's signature over its answer: a real gateway's return is verified with
/// the gateway server to server; the simulated one signs it with this server's secret, so a
/// callback address typed by hand (knowing only the purchase code) pays nothing.
fn gateway_seed(code: &str, status: &str, reference: &str) -> String {
    format!("market-gateway\n{code}\n{status}\n{reference}")
}

/// Handles the POST /market/pay/{code} route: the buyer pays (or cancels) at the simulated
/// gateway, which sends her back to the shop's callback with its reference, signed.
pub async fn gateway_submit(
    State(state): State<AppState>,
    Path(code): Path<String>,
    FormData(f): FormData<GatewayForm>,
) -> Result<Response, AppError> {
    if !hamdeli_domain::market::order::is_order_code(&code) {
        return Err(AppError::NotFound);
    }
    let status = if f.action == "pay" { "ok" } else { "nok" };
    let reference = format!("SIM{}", &hamdeli_store::tokens::random_token()[..16]);
    let sig = crate::csrf::token_for(
        &state.config.secret_key,
        &gateway_seed(&code, status, &reference),
    );
    Ok(see_other(&format!(
        "/market/pay/{code}/callback?status={status}&ref={reference}&sig={sig}"
    )))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CallbackQuery {
    status: String,
    #[serde(rename = "ref")]
    reference: String,
    sig: String,
}

/// Handles the GET /market/pay/{code}/callback route: the gateway's return, verified; a second
/// callback finds the payment made and pays nothing again.
pub async fn gateway_callback(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let seed = gateway_seed(&code, &q.status, &q.reference);
    let signed = crate::csrf::verify(&state.config.secret_key, &seed, &q.sig);
    let result = if !signed {
        "market-paid-unverified"
    } else {
        let verified = app::payment_callback(
            &state.store,
            &ctx.client_addr,
            &code,
            &q.reference,
            q.status == "ok",
        )
        .await?;
        match verified {
            Verified::Paid => "market-paid-now",
            Verified::AlreadyPaid => "market-paid-already",
            Verified::NotPayable => "market-paid-too-late",
            Verified::Failed => "market-paid-failed",
        }
    };
    let p = app::purchase_for_payment(&state.store, &code).await?;
    html(GatewayPage {
        shell: Shell::new(&ctx, l.t("market-gateway-title")),
        l,
        payable: p.payment_status == "pending",
        status: l.tv("market-pay", &p.payment_status),
        code: p.code,
        total: tomans(l, p.total_rials),
        result: Some(l.t(result)),
    })
    .map(|mut r| {
        if !signed {
            *r.status_mut() = axum::http::StatusCode::BAD_REQUEST;
        }
        r
    })
}
