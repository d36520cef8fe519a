//! Capability market: its pages (each handler's doc line names its route) and its JSON API
//! ([`api`]). The use cases are `hamdeli_app::market`; this only parses, calls and renders.

use axum::Router;
use axum::routing::{get, post};

use hamdeli_domain::Role;
use hamdeli_domain::market::policy::MarketAction;

use crate::AppState;
use crate::view::Loc;

pub(crate) mod api;
mod bulk;
mod office;
mod producer;
mod shop;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/market", get(shop::catalogue))
        .route("/market/products/{id}", get(shop::product))
        .route("/market/products/{id}/photo", get(shop::photo))
        .route("/market/cart", get(shop::cart).post(shop::cart_add))
        .route("/market/cart/remove", post(shop::cart_remove))
        .route("/market/checkout", post(shop::checkout))
        .route("/market/track", get(shop::track_form).post(shop::track))
        .route("/market/track/cancel", post(shop::buyer_cancel))
        .route(
            "/market/pay/{code}",
            get(shop::gateway).post(shop::gateway_submit),
        )
        .route("/market/pay/{code}/callback", get(shop::gateway_callback))
        .route(
            "/market/signup",
            get(producer::signup_form).post(producer::signup),
        )
        .route(
            "/market/signup/verify",
            get(producer::verify_form).post(producer::verify),
        )
        .route("/market/producer", get(producer::home))
        .route("/market/producer/open", post(producer::open_shop))
        .route("/market/producer/shop", post(producer::update_shop))
        .route(
            "/market/producer/certificates",
            post(producer::add_certificate),
        )
        .route(
            "/market/producer/products",
            get(producer::products).post(producer::create_product),
        )
        .route(
            "/market/producer/products/{id}",
            get(producer::product_form).post(producer::save_product),
        )
        .route(
            "/market/producer/products/{id}/photo",
            post(producer::upload_photo)
                .layer(axum::extract::DefaultBodyLimit::max(producer::MAX_UPLOAD)),
        )
        .route("/market/producer/orders", get(producer::orders))
        .route("/market/producer/orders/{id}", get(producer::order))
        .route("/market/producer/orders/{id}/step", post(producer::step))
        .route("/market/office", get(office::home))
        .route(
            "/market/office/certificates/{id}",
            post(office::decide_certificate),
        )
        .route("/market/office/producers/{id}/link", post(office::link))
        .route("/market/office/producers/{id}/find", post(office::find))
        .route("/market/office/payouts", post(office::payout))
        .route("/market/office/sales", get(office::sales))
        .route("/market/office/feeds", get(bulk::feeds).post(bulk::issue))
        .route("/market/office/feeds/{id}/revoke", post(bulk::revoke))
        .route("/market/bulk", get(bulk::page).post(bulk::post))
        .route("/market/bulk/{id}/take", post(bulk::take))
        .route("/market/bulk/parts/{id}/accept", post(bulk::accept))
        .route("/api/v1/market/feed.json", get(bulk::feed_json))
        .route("/api/v1/market/feed.csv", get(bulk::feed_csv))
        .route("/market/sitemap.xml", get(bulk::sitemap))
}

/// The menu items of this capability for a signed-in principal: (href, message id). An empty
/// list hides the group.
pub(crate) fn nav_items(
    principal: &hamdeli_domain::Principal,
) -> Vec<(&'static str, &'static str)> {
    let mut items = vec![("/market", "market-nav-catalogue")];
    if principal.role == Role::Producer {
        items.push(("/market/producer", "market-nav-shop"));
        items.push(("/market/producer/products", "market-nav-products"));
        items.push(("/market/producer/orders", "market-nav-orders"));
        items.push(("/market/bulk", "market-nav-bulk"));
    }
    if principal.allows(&hamdeli_domain::Action::Market(MarketAction::ViewSales)) {
        items.push(("/market/office", "market-nav-office"));
        items.push(("/market/office/sales", "market-nav-sales"));
    }
    if principal.allows(&hamdeli_domain::Action::Market(MarketAction::PostBulkOrder)) {
        items.push(("/market/bulk", "market-nav-bulk"));
    }
    if principal.allows(&hamdeli_domain::Action::Market(
        MarketAction::ManagePayments,
    )) {
        items.push(("/market/office/feeds", "market-nav-feeds"));
    }
    items
}

/// Rials as tomans with the locale's digits and the unit.
pub(crate) fn tomans(l: Loc, rials: i64) -> String {
    format!(
        "{} {}",
        hamdeli_locale::format_tomans(l.0, rials),
        l.t("market-toman")
    )
}

/// A category code in words.
pub(crate) fn category_name(l: Loc, code: &str) -> String {
    l.tv("market-cat", code)
}
