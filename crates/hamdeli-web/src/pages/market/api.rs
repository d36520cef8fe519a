//! The market's public JSON API (issue 13, item 9): the catalogue, placing an order as a guest
//! (no cookie, no CSRF token: [`csrf_exempt`]), following an order with its code and mobile
//! (the mobile in the body of a POST, never in the URL: no personal identifier in an address).
//! Orders are limited per client address (`HAMDELI_ORDER_RATE_PER_MINUTE`, default 30, 0 off).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use hamdeli_app::market::{self as app, OrderInput, PlaceError};
use hamdeli_locale::Locale;
use hamdeli_store::market::{Filter, Product, Sort};

use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;

/// The paths whose POST needs no CSRF token: the guest's order (JSON only; it acts for no
/// signed-in user, so a forged request could do nothing a stranger cannot do anyway).
pub(crate) fn csrf_exempt(path: &str) -> bool {
    path == "/api/v1/market/orders"
        || path
            .strip_prefix("/api/v1/market/orders/")
            .and_then(|rest| rest.strip_suffix("/lookup"))
            .is_some_and(|code| !code.is_empty() && !code.contains('/'))
}

pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_products))
        .routes(routes!(get_product))
        .routes(routes!(place_order))
        .routes(routes!(lookup_order))
        .routes(routes!(get_order))
}

/// A product as the public API gives it (prices in rials).
#[derive(Serialize, ToSchema)]
pub struct ApiProduct {
    pub id: i64,
    pub title: String,
    pub price_rials: i64,
    pub stock_available: i64,
    pub producer_id: i64,
    /// The province's code.
    pub province: String,
}

impl From<&Product> for ApiProduct {
    fn from(p: &Product) -> Self {
        ApiProduct {
            id: p.id,
            title: p.title.clone(),
            price_rials: p.price_rials,
            stock_available: p.stock,
            producer_id: p.producer_id,
            province: p.province_code.clone(),
        }
    }
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[serde(default)]
pub struct ProductsQuery {
    /// Words of the title (Persian normalised: Arabic letters, ZWNJ and spaces folded).
    q: String,
    /// A category code (`food`, `clothing`, `masks_gowns`, `handicraft`, …).
    category: String,
    /// A province code or name.
    province: String,
    /// `newest` (default), `price_asc`, `price_desc`.
    sort: String,
    limit: Option<i64>,
    offset: Option<i64>,
}

pub(crate) fn sort_of(s: &str) -> Sort {
    match s {
        "price_asc" | "price" => Sort::PriceLow,
        "price_desc" => Sort::PriceHigh,
        _ => Sort::Newest,
    }
}

/// The listed products (certificate approved and valid), filtered.
#[utoipa::path(get, path = "/api/v1/market/products", tag = "market",
    params(ProductsQuery),
    responses((status = 200, body = Vec<ApiProduct>)))]
async fn list_products(
    State(state): State<AppState>,
    Query(q): Query<ProductsQuery>,
) -> Result<Json<Vec<ApiProduct>>, AppError> {
    let province = if q.province.trim().is_empty() {
        String::new()
    } else {
        match app::resolve_province(&state.store, &q.province).await? {
            Some(p) => p.code,
            None => return Ok(Json(vec![])),
        }
    };
    let filter = Filter {
        category: q.category.trim().to_owned(),
        province,
        sort: sort_of(&q.sort),
        limit: q.limit.unwrap_or(100).clamp(1, 1000),
        offset: q.offset.unwrap_or(0).clamp(0, 1_000_000),
        ..Default::default()
    };
    let list = app::catalogue(&state.store, &q.q, filter).await?;
    Ok(Json(list.iter().map(ApiProduct::from).collect()))
}

/// One listed product.
#[utoipa::path(get, path = "/api/v1/market/products/{id}", tag = "market",
    params(("id" = i64, Path)),
    responses((status = 200, body = ApiProduct), (status = 404)))]
async fn get_product(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<ApiProduct>, AppError> {
    let p = app::public_product(&state.store, id).await?;
    Ok(Json(ApiProduct::from(&p)))
}

#[derive(Serialize, ToSchema)]
pub struct OrderPlaced {
    pub order_code: String,
    /// `placed`.
    pub status: String,
    pub total_rials: i64,
    /// `cod` or `online`.
    pub payment: String,
    pub payment_status: String,
    /// For an online payment: where the buyer pays (within 30 minutes, or the stock goes back).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_url: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message_fa: String,
    pub message_en: String,
}

#[derive(Serialize, ToSchema)]
pub struct OrderRefused {
    pub error: String,
    /// In Persian (the Persian message, as `message_fa`).
    pub message: String,
    pub message_fa: String,
    pub message_en: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_title: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

fn refused(status: StatusCode, body: OrderRefused) -> Response {
    (status, Json(body)).into_response()
}

fn both(id: &str, args: &[(&str, String)]) -> (String, String) {
    (
        hamdeli_locale::t_args(Locale::Fa, id, args),
        hamdeli_locale::t_args(Locale::En, id, args),
    )
}

fn field_errors(fields: Vec<(String, &'static str)>) -> Response {
    let fields: Vec<FieldError> = fields
        .into_iter()
        .map(|(field, id)| {
            let (fa, en) = both(id, &[("field", field.clone())]);
            FieldError {
                field,
                message_fa: fa,
                message_en: en,
            }
        })
        .collect();
    let names = fields
        .iter()
        .map(|f| f.field.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let (fa, en) = both("market-api-invalid", &[("fields", names)]);
    refused(
        StatusCode::BAD_REQUEST,
        OrderRefused {
            error: "invalid".into(),
            message: fa.clone(),
            message_fa: fa,
            message_en: en,
            product_id: None,
            product_title: None,
            fields,
        },
    )
}

/// Reads the JSON body by hand so that each bad field can be named.
fn parse_order(body: &[u8]) -> Result<OrderInput, Vec<(String, &'static str)>> {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => return Err(vec![("body".into(), "market-field-json")]),
    };
    let mut bad = vec![];
    let s = |v: Option<&Value>| -> Option<String> {
        match v? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let buyer = v.get("buyer");
    if !buyer.is_some_and(Value::is_object) {
        bad.push(("buyer".into(), "market-field-buyer"));
    }
    let get = |k: &str| s(buyer.and_then(|b| b.get(k))).unwrap_or_default();
    let mut items = vec![];
    match v.get("items") {
        Some(Value::Array(list)) => {
            for (i, it) in list.iter().enumerate() {
                let id = it.get("product_id").and_then(|x| match x {
                    Value::Number(n) => n.as_i64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                });
                let q = it.get("quantity").and_then(|x| match x {
                    Value::Number(n) => n.as_i64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                });
                match (id, q) {
                    (Some(id), Some(q)) => items.push((id, q)),
                    (id, q) => {
                        if id.is_none() {
                            bad.push((format!("items[{i}].product_id"), "market-field-product"));
                        }
                        if q.is_none() {
                            bad.push((format!("items[{i}].quantity"), "market-field-quantity"));
                        }
                    }
                }
            }
            if list.len() > hamdeli_domain::market::limits::MAX_ITEMS {
                bad.push(("items".into(), "market-field-items"));
            }
        }
        _ => bad.push(("items".into(), "market-field-items")),
    }
    if !bad.is_empty() {
        return Err(bad);
    }
    Ok(OrderInput {
        buyer: app::BuyerInput {
            name: get("name"),
            mobile: get("mobile"),
            province: get("province"),
            county: get("county"),
            address: get("address"),
            postal_code: get("postal_code"),
        },
        items,
        payment: s(v.get("payment")).unwrap_or_else(|| "cod".into()),
    })
}

/// Places a guest's order: 201 with its code; 409 naming the product (in Persian and English)
/// when its stock is short, nothing reserved; 400 naming each bad field; 429 over the limit.
#[utoipa::path(post, path = "/api/v1/market/orders", tag = "market",
    request_body(content = Object, content_type = "application/json",
        description = r#"{"buyer": {"name", "mobile", "province", "county", "address", "postal_code"}, "items": [{"product_id", "quantity"}], "payment": "cod" | "online"}"#),
    responses((status = 201, body = OrderPlaced), (status = 400, body = OrderRefused),
        (status = 409, body = OrderRefused), (status = 429)))]
async fn place_order(State(state): State<AppState>, ctx: Ctx, body: Bytes) -> Response {
    match place(&state, &ctx, &body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn place(state: &AppState, ctx: &Ctx, body: &[u8]) -> Result<Response, AppError> {
    if !app::admit_order(&state.store, &ctx.client_addr).await? {
        return Err(AppError::TooManyRequests);
    }
    let input = match parse_order(body) {
        Ok(i) => i,
        Err(fields) => return Ok(field_errors(fields)),
    };
    match app::place_order(&state.store, &ctx.client_addr, &input).await {
        Ok(p) => {
            let payment_url =
                (p.payment_method == "online").then(|| format!("/market/pay/{}", p.code));
            Ok((
                StatusCode::CREATED,
                Json(OrderPlaced {
                    order_code: p.code,
                    status: p.status,
                    total_rials: p.total_rials,
                    payment: p.payment_method,
                    payment_status: p.payment_status,
                    payment_url,
                }),
            )
                .into_response())
        }
        Err(PlaceError::Fields(f)) => Ok(field_errors(f)),
        Err(PlaceError::OutOfStock { product_id, title }) => {
            let (fa, en) = both("market-out-of-stock", &[("product", title.clone())]);
            Ok(refused(
                StatusCode::CONFLICT,
                OrderRefused {
                    error: "out_of_stock".into(),
                    message: fa.clone(),
                    message_fa: fa,
                    message_en: en,
                    product_id: Some(product_id),
                    product_title: Some(title),
                    fields: vec![],
                },
            ))
        }
        Err(PlaceError::Other(e)) => Err(e.into()),
    }
}

/// The body of an order's lookup.
#[derive(Deserialize, ToSchema)]
pub struct LookupBody {
    /// The buyer's mobile, as given with the order.
    pub mobile: String,
}

#[derive(Serialize, ToSchema)]
pub struct ApiItem {
    pub product_id: i64,
    pub title: String,
    pub unit_price_rials: i64,
    pub quantity: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ApiProducerOrder {
    pub producer_id: i64,
    pub shop: String,
    pub status: String,
    pub total_rials: i64,
    pub carrier: Option<String>,
    pub tracking_code: Option<String>,
    pub items: Vec<ApiItem>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiEvent {
    /// UTC milliseconds.
    pub at: i64,
    /// `order` or `payment`.
    pub kind: String,
    pub producer_id: Option<i64>,
    pub from: Option<String>,
    pub to: String,
    pub by: String,
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiOrder {
    pub order_code: String,
    pub status: String,
    pub total_rials: i64,
    pub payment: String,
    pub payment_status: String,
    pub created_at: i64,
    pub orders: Vec<ApiProducerOrder>,
    pub history: Vec<ApiEvent>,
}

/// Handles the GET /api/v1/market/orders/{order_code} route: no longer the lookup (it carried
/// the buyer's mobile in the URL, where access logs and histories keep it). Always 400, saying
/// where the mobile goes now; a `?mobile=` is never read.
#[utoipa::path(get, path = "/api/v1/market/orders/{order_code}", tag = "market",
    params(("order_code" = String, Path)),
    responses((status = 400, body = OrderRefused,
        description = "Always: the lookup is POST /api/v1/market/orders/{order_code}/lookup")))]
async fn get_order(Path(code): Path<String>) -> Response {
    let (fa, en) = both("market-api-mobile-in-url", &[("code", code)]);
    refused(
        StatusCode::BAD_REQUEST,
        OrderRefused {
            error: "mobile_in_body".into(),
            message: fa.clone(),
            message_fa: fa,
            message_en: en,
            product_id: None,
            product_title: None,
            fields: vec![],
        },
    )
}

/// Handles the POST /api/v1/market/orders/{order_code}/lookup route: the order with its status
/// and history, for its code and the buyer's mobile, which travels in the body (a wrong pair is
/// 404; a body without a mobile 400).
#[utoipa::path(post, path = "/api/v1/market/orders/{order_code}/lookup", tag = "market",
    params(("order_code" = String, Path)),
    request_body(content = LookupBody, content_type = "application/json"),
    responses((status = 200, body = ApiOrder), (status = 400, body = OrderRefused), (status = 404)))]
async fn lookup_order(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(code): Path<String>,
    body: Bytes,
) -> Result<Response, AppError> {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return Ok(field_errors(vec![("body".into(), "market-field-json")]));
    };
    let Ok(LookupBody { mobile }) = serde_json::from_value(v) else {
        return Ok(field_errors(vec![("mobile".into(), "market-field-mobile")]));
    };
    let app::Lookup::Done(t) =
        app::track_limited(&state.store, &ctx.client_addr, &code, &mobile).await?
    else {
        return Err(AppError::TooManyRequests);
    };
    let producer_of = |order_id: Option<i64>| {
        order_id.and_then(|id| t.orders.iter().find(|o| o.id == id).map(|o| o.producer_id))
    };
    Ok(Json(ApiOrder {
        order_code: t.purchase.code.clone(),
        status: t.status.clone(),
        total_rials: t.purchase.total_rials,
        payment: t.purchase.payment_method.clone(),
        payment_status: t.purchase.payment_status.clone(),
        created_at: t.purchase.created_at,
        orders: t
            .orders
            .iter()
            .map(|o| ApiProducerOrder {
                producer_id: o.producer_id,
                shop: o.shop_name.clone(),
                status: o.status.clone(),
                total_rials: o.total_rials,
                carrier: o.carrier.clone(),
                tracking_code: o.tracking_code.clone(),
                items: t
                    .items
                    .iter()
                    .filter(|i| i.order_id == o.id)
                    .map(|i| ApiItem {
                        product_id: i.product_id,
                        title: i.title.clone(),
                        unit_price_rials: i.unit_price_rials,
                        quantity: i.quantity,
                    })
                    .collect(),
            })
            .collect(),
        history: t
            .events
            .iter()
            .map(|e| ApiEvent {
                at: e.at,
                kind: e.kind.clone(),
                producer_id: producer_of(e.order_id),
                from: e.from_status.clone(),
                to: e.to_status.clone(),
                by: e.actor.clone(),
                note: e.note.clone(),
            })
            .collect(),
    })
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_each_bad_field() {
        let bad = parse_order(br#"{"buyer": {}, "items": [{"product_id": "x", "quantity": 1}]}"#)
            .unwrap_err();
        assert_eq!(
            bad,
            vec![("items[0].product_id".to_owned(), "market-field-product")]
        );
        assert!(parse_order(b"not json").is_err());
        let ok = parse_order(
            br#"{"buyer": {"name": "a", "mobile": "0912", "province": "23", "county": "2301",
                 "address": "x", "postal_code": 1234567890}, "items": [{"product_id": 3, "quantity": 2}], "payment": "cod"}"#,
        )
        .unwrap();
        assert_eq!(ok.items, vec![(3, 2)]);
        assert_eq!(ok.buyer.postal_code, "1234567890");
    }
}
