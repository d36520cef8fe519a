//! Bulk production orders (the office posts and accepts, producers take parts), the feeds for
//! online stores and price-comparison sites (JSON and CSV, tomans, in stock only, signed with
//! the consumer's key: `X-Hamdeli-Signature: sha256=<hex HMAC-SHA256 of the body>`), the feed
//! keys page and the sitemap.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use hamdeli_app::market as app;
use hamdeli_domain::Role;
use hamdeli_domain::market::CATEGORIES;
use hamdeli_store::market::{Bulk, BulkPart};

use super::{category_name, tomans};
use crate::AppState;
use crate::context::Ctx;
use crate::error::AppError;
use crate::pages::{FormData, html, see_other};
use crate::use_case::caller;
use crate::view::{Loc, Shell};

struct BulkView {
    id: i64,
    title: String,
    category: String,
    pieces: String,
    left: i64,
    left_text: String,
    price: String,
    organisation: String,
    parts: Vec<PartView>,
}

struct PartView {
    id: i64,
    shop: String,
    pieces: String,
    pieces_n: i64,
    accepted: String,
    open: bool,
}

fn part_view(l: Loc, p: &BulkPart) -> PartView {
    PartView {
        id: p.id,
        shop: p.shop_name.clone(),
        pieces: l.num(&p.pieces),
        pieces_n: p.pieces,
        accepted: if p.status == "accepted" {
            l.num(&p.accepted)
        } else {
            "—".into()
        },
        open: p.status == "taken",
    }
}

fn bulk_view(l: Loc, b: &Bulk, parts: Vec<PartView>) -> BulkView {
    let left = b.pieces - b.taken;
    BulkView {
        id: b.id,
        title: b.title.clone(),
        category: category_name(l, &b.category),
        pieces: l.num(&b.pieces),
        left,
        left_text: l.num(&left),
        price: tomans(l, b.unit_price_rials),
        organisation: b.organisation.clone(),
        parts,
    }
}

#[derive(Template)]
#[template(path = "market/bulk.html")]
struct BulkPage {
    shell: Shell,
    l: Loc,
    office: bool,
    bulks: Vec<BulkView>,
    mine: Vec<(String, PartView)>,
    categories: Vec<(String, String)>,
    error: Option<String>,
}

async fn bulk_page(
    state: &AppState,
    ctx: &Ctx,
    error: Option<String>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let c = caller(ctx)?;
    let office = c.principal.allows(&hamdeli_domain::Action::Market(
        hamdeli_domain::market::policy::MarketAction::PostBulkOrder,
    ));
    let producer = c.principal.role == Role::Producer;
    if !office && !producer {
        return Err(AppError::Forbidden);
    }
    let all = app::bulks(&state.store).await?;
    let mut bulks = vec![];
    for b in &all {
        let parts = if office {
            app::bulk_parts(&state.store, &c, Some(b.id))
                .await?
                .iter()
                .map(|p| part_view(l, p))
                .collect()
        } else {
            vec![]
        };
        bulks.push(bulk_view(l, b, parts));
    }
    let mine = if producer && app::my_shop(&state.store, c.principal).await?.is_some() {
        app::bulk_parts(&state.store, &c, None)
            .await?
            .iter()
            .map(|p| {
                let title = all
                    .iter()
                    .find(|b| b.id == p.bulk_id)
                    .map(|b| b.title.clone())
                    .unwrap_or_default();
                (title, part_view(l, p))
            })
            .collect()
    } else {
        vec![]
    };
    html(BulkPage {
        shell: Shell::new(ctx, l.t("market-bulk-title")),
        l,
        office,
        bulks,
        mine,
        categories: CATEGORIES
            .iter()
            .map(|c| (c.to_string(), category_name(l, c)))
            .collect(),
        error,
    })
}

fn error_text(l: Loc, e: hamdeli_app::Error) -> Result<String, AppError> {
    match e {
        hamdeli_app::Error::Invalid(id) | hamdeli_app::Error::Conflict(id) => Ok(l.t(id)),
        other => Err(other.into()),
    }
}

/// Handles the GET /market/bulk route: bulk production orders (the office posts and accepts;
/// a producer takes parts).
pub async fn page(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    bulk_page(&state, &ctx, None).await
}

fn int(s: &str) -> Option<i64> {
    hamdeli_text::fold_digits(s.trim())
        .replace([',', '٬'], "")
        .parse()
        .ok()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PostForm {
    title: String,
    category: String,
    pieces: String,
    price_tomans: String,
    organisation: String,
}

/// Handles the POST /market/bulk route: an office or a partner posts a bulk order.
pub async fn post(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(f): FormData<PostForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let result = match (
        int(&f.pieces),
        hamdeli_domain::market::money::parse_tomans(&f.price_tomans),
    ) {
        (Some(n), Some(p)) => {
            app::post_bulk(
                &state.store,
                &c,
                &f.title,
                &f.category,
                n,
                p,
                &f.organisation,
            )
            .await
        }
        _ => Err(hamdeli_app::Error::Invalid("market-field-price")),
    };
    match result {
        Ok(_) => Ok(see_other("/market/bulk")),
        Err(e) => {
            let msg = error_text(Loc(ctx.locale), e)?;
            bulk_page(&state, &ctx, Some(msg)).await
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PiecesForm {
    pieces: String,
}

/// Handles the POST /market/bulk/{id}/take route: a producer takes pieces of a bulk order.
pub async fn take(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<PiecesForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let result = match int(&f.pieces) {
        Some(n) => app::take_bulk(&state.store, &c, id, n).await.map(|_| ()),
        None => Err(hamdeli_app::Error::Invalid("market-field-quantity")),
    };
    match result {
        Ok(()) => Ok(see_other("/market/bulk")),
        Err(e) => {
            let msg = error_text(Loc(ctx.locale), e)?;
            bulk_page(&state, &ctx, Some(msg)).await
        }
    }
}

/// Handles the POST /market/bulk/parts/{id}/accept route: the office accepts delivered pieces
/// (paid per piece through the ledger).
pub async fn accept(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    FormData(f): FormData<PiecesForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let result = match int(&f.pieces) {
        Some(n) => app::accept_bulk_part(&state.store, &c, id, n).await,
        None => Err(hamdeli_app::Error::Invalid("market-field-quantity")),
    };
    match result {
        Ok(()) => Ok(see_other("/market/bulk")),
        Err(e) => {
            let msg = error_text(Loc(ctx.locale), e)?;
            bulk_page(&state, &ctx, Some(msg)).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Feed keys and feeds

#[derive(Template)]
#[template(path = "market/feeds.html")]
struct FeedsPage {
    shell: Shell,
    l: Loc,
    keys: Vec<(i64, String, String, bool, String)>,
    issued: Option<(String, String)>,
}

async fn feeds_page(
    state: &AppState,
    ctx: &Ctx,
    issued: Option<(String, String)>,
) -> Result<Response, AppError> {
    let l = Loc(ctx.locale);
    let c = caller(ctx)?;
    let keys = app::feed_keys(&state.store, &c)
        .await?
        .into_iter()
        .map(|k| {
            (
                k.id,
                k.consumer,
                k.key_id,
                k.active,
                l.instant(&k.created_at),
            )
        })
        .collect();
    html(FeedsPage {
        shell: Shell::new(ctx, l.t("market-feeds-title")),
        l,
        keys,
        issued,
    })
}

/// Handles the GET /market/office/feeds route: the feed keys of online stores.
pub async fn feeds(State(state): State<AppState>, ctx: Ctx) -> Result<Response, AppError> {
    feeds_page(&state, &ctx, None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct IssueForm {
    consumer: String,
}

/// Handles the POST /market/office/feeds route: a new key (its secret is shown once).
pub async fn issue(
    State(state): State<AppState>,
    ctx: Ctx,
    FormData(f): FormData<IssueForm>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    let key = app::issue_feed_key(&state.store, &c, &f.consumer).await?;
    feeds_page(&state, &ctx, Some((key.key_id, key.secret))).await
}

/// Handles the POST /market/office/feeds/{id}/revoke route.
pub async fn revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let c = caller(&ctx)?;
    app::revoke_feed_key(&state.store, &c, id).await?;
    Ok(see_other("/market/office/feeds"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct FeedQuery {
    key: String,
}

/// The hex HMAC-SHA256 of a body under a consumer's secret.
pub(crate) fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn signed(content_type: &'static str, secret: &str, body: Vec<u8>) -> Response {
    let sig = format!("sha256={}", signature(secret, &body));
    (
        [
            (CONTENT_TYPE, content_type.to_owned()),
            (
                axum::http::HeaderName::from_static("x-hamdeli-signature"),
                sig,
            ),
        ],
        body,
    )
        .into_response()
}

#[derive(serde::Serialize)]
struct FeedItem {
    id: i64,
    title: String,
    category: String,
    price_tomans: i64,
    stock: i64,
    province: String,
    url: String,
    image: Option<String>,
}

async fn feed_items(state: &AppState, key: &str) -> Result<(String, Vec<FeedItem>), AppError> {
    let (secret, products) = app::feed(&state.store, key).await.map_err(|e| match e {
        hamdeli_app::Error::Denied => AppError::Unauthenticated,
        other => other.into(),
    })?;
    let items = products
        .iter()
        .map(|p| FeedItem {
            id: p.id,
            title: p.title.clone(),
            category: p.category.clone(),
            price_tomans: p.price_rials / 10,
            stock: p.stock,
            province: p.province_code.clone(),
            url: format!("/market/products/{}", p.id),
            image: p
                .has_photo
                .then(|| format!("/market/products/{}/photo", p.id)),
        })
        .collect();
    Ok((secret, items))
}

/// Handles the GET /api/v1/market/feed.json route: a consumer's signed feed (tomans, in stock).
pub async fn feed_json(
    State(state): State<AppState>,
    Query(q): Query<FeedQuery>,
) -> Result<Response, AppError> {
    let (secret, items) = feed_items(&state, &q.key).await?;
    let body = serde_json::to_vec(&items).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(signed("application/json", &secret, body))
}

/// Handles the GET /api/v1/market/feed.csv route: the same feed as CSV.
pub async fn feed_csv(
    State(state): State<AppState>,
    Query(q): Query<FeedQuery>,
) -> Result<Response, AppError> {
    let (secret, items) = feed_items(&state, &q.key).await?;
    let headers: Vec<String> = [
        "id",
        "title",
        "category",
        "price_tomans",
        "stock",
        "province",
        "url",
        "image",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    use crate::export::Cell;
    let rows: Vec<Vec<Cell>> = items
        .into_iter()
        .map(|i| {
            vec![
                Cell::Int(i.id),
                Cell::from(i.title),
                Cell::from(i.category),
                Cell::Int(i.price_tomans),
                Cell::Int(i.stock),
                Cell::from(i.province),
                Cell::from(i.url),
                Cell::from(i.image),
            ]
        })
        .collect();
    let body = crate::export::csv_bytes(&headers, &rows);
    Ok(signed(crate::export::CSV, &secret, body))
}

/// Handles the GET /market/sitemap.xml route: the catalogue and every listed product.
pub async fn sitemap(State(state): State<AppState>) -> Result<Response, AppError> {
    let products = app::sitemap_products(&state.store).await?;
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n<url><loc>/market</loc></url>\n",
    );
    for p in products {
        let day = hamdeli_domain::ledger::iso_day(hamdeli_domain::ledger::day_of(p.created_at));
        xml.push_str(&format!(
            "<url><loc>/market/products/{}</loc><lastmod>{day}</lastmod></url>\n",
            p.id
        ));
    }
    xml.push_str("</urlset>\n");
    Ok(([(CONTENT_TYPE, "application/xml; charset=utf-8")], xml).into_response())
}
