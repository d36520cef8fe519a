//! Bulk production orders (masks and gowns by home workshops): an office or a partner
//! organisation posts N pieces at a unit price; producers take parts of it (never more than
//! are left: a guarded update); the delivered pieces that are accepted are paid per piece
//! through the double-entry ledger. Also the feed keys of online stores and price-comparison
//! sites.

use hamdeli_domain::Action;
use hamdeli_domain::market::ledger as postings;
use hamdeli_domain::market::policy::MarketAction;
use hamdeli_domain::market::{self as dm, limits, money};
use hamdeli_store::Store;
use hamdeli_store::market::ledger::{self, Refs};
use hamdeli_store::market::{self as sm, Bulk, BulkPart, FeedKey, Product};

use super::{own_shop, text};
use crate::{Caller, Error, Result, audit_write};

/// Posts a bulk order; returns its id.
pub async fn post_bulk(
    store: &Store,
    caller: &Caller<'_>,
    title: &str,
    category: &str,
    pieces: i64,
    unit_price_rials: i64,
    organisation: &str,
) -> Result<i64> {
    caller
        .principal
        .authorize(Action::Market(MarketAction::PostBulkOrder))?;
    let title = text(title, limits::MAX_TITLE).ok_or(Error::Invalid("market-field-title"))?;
    let organisation =
        text(organisation, limits::MAX_TITLE).ok_or(Error::Invalid("market-field-shop"))?;
    if !dm::is_category(category) {
        return Err(Error::Invalid("market-field-category"));
    }
    if !(1..=10_000_000).contains(&pieces) {
        return Err(Error::Invalid("market-field-stock"));
    }
    if !(1..=limits::MAX_PRICE_RIALS).contains(&unit_price_rials)
        || money::line_total(unit_price_rials, pieces).is_err()
    {
        return Err(Error::Invalid("market-field-price"));
    }
    let mut tx = store.begin().await?;
    let id = sm::create_bulk(
        &mut tx,
        &title,
        category,
        pieces,
        unit_price_rials,
        &organisation,
        caller.principal.user_id,
    )
    .await?;
    audit_write(
        &mut tx,
        caller,
        "market.bulk.post",
        "market_bulk",
        id.to_string(),
        serde_json::json!({ "pieces": pieces, "unit_price_rials": unit_price_rials }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The bulk orders (open ones first to the producers; all to the office).
pub async fn bulks(store: &Store) -> Result<Vec<Bulk>> {
    Ok(sm::bulks(store, 100).await?)
}

/// The parts of one bulk order (the office) or of the signed-in producer.
pub async fn bulk_parts(
    store: &Store,
    caller: &Caller<'_>,
    bulk: Option<i64>,
) -> Result<Vec<BulkPart>> {
    match bulk {
        Some(b) => {
            caller
                .principal
                .authorize(Action::Market(MarketAction::PostBulkOrder))?;
            Ok(sm::bulk_parts(store, Some(b), None).await?)
        }
        None => {
            let shop = own_shop(store, caller.principal).await?;
            Ok(sm::bulk_parts(store, None, Some(shop.id)).await?)
        }
    }
}

/// A producer takes `pieces` of a bulk order (refused when fewer are left).
pub async fn take_bulk(store: &Store, caller: &Caller<'_>, bulk: i64, pieces: i64) -> Result<i64> {
    caller
        .principal
        .authorize(Action::Market(MarketAction::TakeBulkOrder))?;
    let shop = own_shop(store, caller.principal).await?;
    if !(1..=1_000_000).contains(&pieces) {
        return Err(Error::Invalid("market-field-quantity"));
    }
    let mut tx = store.begin().await?;
    if !sm::take_bulk(&mut tx, bulk, pieces).await? {
        return Err(Error::Conflict("market-bulk-too-many"));
    }
    let id = sm::add_bulk_part(&mut tx, bulk, shop.id, pieces).await?;
    audit_write(
        &mut tx,
        caller,
        "market.bulk.take",
        "market_bulk",
        bulk.to_string(),
        serde_json::json!({ "pieces": pieces, "part": id }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The office accepts `accepted` delivered pieces of a part; they are owed to the producer at
/// the unit price (the organisation's money to the platform, then payable to her).
pub async fn accept_bulk_part(
    store: &Store,
    caller: &Caller<'_>,
    part: i64,
    accepted: i64,
) -> Result<()> {
    caller
        .principal
        .authorize(Action::Market(MarketAction::PostBulkOrder))?;
    let mut tx = store.begin().await?;
    let p = sm::bulk_part(&mut tx, part).await?.ok_or(Error::NotFound)?;
    let b = sm::bulk(&mut tx, p.bulk_id).await?.ok_or(Error::NotFound)?;
    if accepted < 0 || accepted > p.pieces {
        return Err(Error::Invalid("market-field-quantity"));
    }
    if !sm::accept_bulk_part(&mut tx, part, accepted).await? {
        return Err(Error::Conflict("market-bulk-accepted-already"));
    }
    let amount = money::line_total(b.unit_price_rials, accepted)
        .map_err(|_| Error::Invalid("market-amount-invalid"))?;
    if amount > 0 {
        ledger::post(
            &mut tx,
            "bulk",
            &Refs {
                purchase_id: None,
                order_id: None,
                producer_id: Some(p.producer_id),
                reference: Some(&format!("BULK-{}-{}", b.id, p.id)),
            },
            &super::orders::checked(postings::bulk(p.producer_id, amount))?,
        )
        .await?;
    }
    audit_write(
        &mut tx,
        caller,
        "market.bulk.accept",
        "market_bulk_part",
        part.to_string(),
        serde_json::json!({ "accepted": accepted, "amount_rials": amount }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Feeds

/// Issues a feed key to a consumer (the national admin); the secret is shown once.
pub async fn issue_feed_key(store: &Store, caller: &Caller<'_>, consumer: &str) -> Result<FeedKey> {
    caller
        .principal
        .authorize(Action::Market(MarketAction::ManagePayments))?;
    let consumer = text(consumer, limits::MAX_TITLE).ok_or(Error::Invalid("market-field-shop"))?;
    let key_id = format!("mf_{}", &hamdeli_store::tokens::random_token()[..16]);
    let secret = hamdeli_store::tokens::random_token();
    let mut tx = store.begin().await?;
    let id = sm::create_feed_key(&mut tx, &consumer, &key_id, &secret).await?;
    audit_write(
        &mut tx,
        caller,
        "market.feed_key.issue",
        "market_feed_key",
        id.to_string(),
        serde_json::json!({ "consumer": consumer, "key_id": key_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(FeedKey {
        id,
        consumer,
        key_id,
        secret,
        active: true,
        created_at: hamdeli_store::now_millis(),
    })
}

/// The feed keys (the national admin), secrets withheld.
pub async fn feed_keys(store: &Store, caller: &Caller<'_>) -> Result<Vec<FeedKey>> {
    caller
        .principal
        .authorize(Action::Market(MarketAction::ManagePayments))?;
    Ok(sm::feed_keys(store)
        .await?
        .into_iter()
        .map(|k| FeedKey {
            secret: String::new(),
            ..k
        })
        .collect())
}

/// Revokes a feed key.
pub async fn revoke_feed_key(store: &Store, caller: &Caller<'_>, id: i64) -> Result<()> {
    caller
        .principal
        .authorize(Action::Market(MarketAction::ManagePayments))?;
    let mut tx = store.begin().await?;
    sm::set_feed_key_active(&mut tx, id, false).await?;
    audit_write(
        &mut tx,
        caller,
        "market.feed_key.revoke",
        "market_feed_key",
        id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A consumer's feed: the listed products in stock, and the secret that signs it. An unknown
/// or revoked key is `Denied`.
pub async fn feed(store: &Store, key_id: &str) -> Result<(String, Vec<Product>)> {
    let key = sm::feed_key(store, key_id.trim())
        .await?
        .filter(|k| k.active)
        .ok_or(Error::Denied)?;
    let products = sm::public_products(
        store,
        &sm::Filter {
            in_stock_only: true,
            limit: 5000,
            ..Default::default()
        },
    )
    .await?;
    Ok((key.secret, products))
}

/// The listed products' ids and times, for the sitemap.
pub async fn sitemap_products(store: &Store) -> Result<Vec<Product>> {
    Ok(sm::public_products(
        store,
        &sm::Filter {
            limit: 5000,
            ..Default::default()
        },
    )
    .await?)
}
