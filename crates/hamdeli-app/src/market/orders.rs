//! Orders: a guest's checkout split per producer with stock reserved by a guarded update; the
//! order and payment state machines with their history; the simulated payment gateway; the
//! sweeper of unpaid online payments; the producer's steps; the double-entry postings.

use std::collections::BTreeMap;

use hamdeli_domain::Action;
use hamdeli_domain::market::ledger::{self as postings, Account};
use hamdeli_domain::market::order::{self, OrderStatus, PaymentMethod, PaymentStatus};
use hamdeli_domain::market::policy::MarketAction;
use hamdeli_domain::market::{limits, money};
use hamdeli_domain::posting::{Posting, PostingError};
use hamdeli_store::market::ledger::{self, Refs};
use hamdeli_store::market::{self as sm, Event, Item, Order, Purchase};
use hamdeli_store::{AnyConnection, Store};

use super::{audit_guest, own_shop, resolve_county, resolve_province, text};
use crate::{Caller, Error, Result, audit_write};

/// A buyer as the checkout gives her.
#[derive(Debug, Clone, Default)]
pub struct BuyerInput {
    pub name: String,
    pub mobile: String,
    /// A province code or name.
    pub province: String,
    /// A county code or name.
    pub county: String,
    pub address: String,
    pub postal_code: String,
}

#[derive(Debug, Clone)]
pub struct OrderInput {
    pub buyer: BuyerInput,
    /// (product id, quantity).
    pub items: Vec<(i64, i64)>,
    /// `cod` or `online`.
    pub payment: String,
}

/// Why an order was not placed.
#[derive(Debug)]
pub enum PlaceError {
    /// Fields the buyer must fix: (field path, catalog message id).
    Fields(Vec<(String, &'static str)>),
    /// Not enough stock of this product (nothing was reserved).
    OutOfStock {
        product_id: i64,
        title: String,
    },
    Other(Error),
}

impl From<Error> for PlaceError {
    fn from(e: Error) -> Self {
        PlaceError::Other(e)
    }
}

impl From<hamdeli_store::StoreError> for PlaceError {
    fn from(e: hamdeli_store::StoreError) -> Self {
        PlaceError::Other(e.into())
    }
}

impl From<sqlx::Error> for PlaceError {
    fn from(e: sqlx::Error) -> Self {
        PlaceError::Other(e.into())
    }
}

/// What placing answered.
#[derive(Debug, Clone)]
pub struct Placed {
    pub code: String,
    pub status: String,
    pub total_rials: i64,
    pub payment_method: String,
    pub payment_status: String,
}

/// Checks a checkout; the errors name each bad field.
async fn check(
    store: &Store,
    input: &OrderInput,
) -> Result<(CheckedBuyer, Vec<(i64, i64)>, PaymentMethod), PlaceError> {
    let mut bad: Vec<(String, &'static str)> = vec![];
    let b = &input.buyer;
    let name = text(&b.name, limits::MAX_TITLE);
    if name.is_none() {
        bad.push(("buyer.name".into(), "market-field-name"));
    }
    let mobile = hamdeli_text::parse_mobile(&b.mobile).ok();
    if mobile.is_none() {
        bad.push(("buyer.mobile".into(), "market-field-mobile"));
    }
    let province = resolve_province(store, &b.province).await?;
    let county = match &province {
        Some(p) => resolve_county(store, &p.code, &b.county).await?,
        None => None,
    };
    if province.is_none() {
        bad.push(("buyer.province".into(), "market-field-province"));
    }
    if county.is_none() {
        bad.push(("buyer.county".into(), "market-field-county"));
    }
    let address = text(&b.address, limits::MAX_TEXT).filter(|a| a.chars().count() >= 5);
    if address.is_none() {
        bad.push(("buyer.address".into(), "market-field-address"));
    }
    let postal = hamdeli_text::parse_postal_code(&b.postal_code).ok();
    if postal.is_none() {
        bad.push(("buyer.postal_code".into(), "market-field-postal-code"));
    }
    if input.items.is_empty() || input.items.len() > limits::MAX_ITEMS {
        bad.push(("items".into(), "market-field-items"));
    }
    let mut merged: BTreeMap<i64, i64> = BTreeMap::new();
    for (i, (product, qty)) in input.items.iter().enumerate() {
        if *product <= 0 {
            bad.push((format!("items[{i}].product_id"), "market-field-product"));
        }
        if !(1..=limits::MAX_QUANTITY).contains(qty) {
            bad.push((format!("items[{i}].quantity"), "market-field-quantity"));
            continue;
        }
        let e = merged.entry(*product).or_insert(0);
        *e = e.saturating_add(*qty);
        if *e > limits::MAX_QUANTITY {
            bad.push((format!("items[{i}].quantity"), "market-field-quantity"));
        }
    }
    let method = PaymentMethod::parse(input.payment.trim());
    if method.is_none() {
        bad.push(("payment".into(), "market-field-payment"));
    }
    match (name, mobile, province, county, address, postal, method) {
        (Some(name), Some(mobile), Some(p), Some(c), Some(address), Some(postal), Some(m))
            if bad.is_empty() =>
        {
            Ok((
                CheckedBuyer {
                    name,
                    mobile: mobile.as_str().to_owned(),
                    province: p.code,
                    county: c.code,
                    address,
                    postal_code: postal.as_str().to_owned(),
                },
                merged.into_iter().collect(),
                m,
            ))
        }
        _ => Err(PlaceError::Fields(bad)),
    }
}

struct CheckedBuyer {
    name: String,
    mobile: String,
    province: String,
    county: String,
    address: String,
    postal_code: String,
}

/// Places a guest's order: every line's stock reserved by a guarded update in one transaction
/// (all or nothing), one order per producer, the history's first steps, the audit entry. An
/// online payment must be paid within the payment window or the stock goes back.
pub async fn place_order(
    store: &Store,
    client_addr: &str,
    input: &OrderInput,
) -> Result<Placed, PlaceError> {
    let (buyer, items, method) = check(store, input).await?;
    let bps = super::commission_bps(store).await?;
    let window = super::payment_window_millis(store).await?;
    let now = hamdeli_store::now_millis();
    let mut tx = store.begin().await?;
    // Products in id order (the lock order of concurrent multi-line orders on PostgreSQL).
    let mut by_producer: BTreeMap<i64, Vec<(sm::Product, i64)>> = BTreeMap::new();
    for (i, (product_id, qty)) in items.iter().enumerate() {
        let product = match sm::product(&mut tx, *product_id).await? {
            Some(p) if p.visible => p,
            _ => {
                return Err(PlaceError::Fields(vec![(
                    format!("items[{i}].product_id"),
                    "market-field-product",
                )]));
            }
        };
        if !delivers_to(&product.delivers_to, &buyer.province) {
            return Err(PlaceError::Fields(vec![(
                format!("items[{i}].product_id"),
                "market-field-not-delivered",
            )]));
        }
        if !sm::reserve(&mut tx, *product_id, *qty).await? {
            // Dropping the transaction rolls back every line reserved so far.
            return Err(PlaceError::OutOfStock {
                product_id: product.id,
                title: product.title,
            });
        }
        by_producer
            .entry(product.producer_id)
            .or_default()
            .push((product, *qty));
    }
    let mut splits = vec![];
    let mut total: i64 = 0;
    for (producer, lines) in &by_producer {
        let mut sub: i64 = 0;
        for (p, q) in lines {
            let line = money::line_total(p.price_rials, *q)
                .map_err(|_| Error::Invalid("market-amount-invalid"))?;
            sub = sub
                .checked_add(line)
                .ok_or(Error::Invalid("market-amount-invalid"))?;
        }
        let split = money::split(sub, bps).map_err(|_| Error::Invalid("market-amount-invalid"))?;
        total = total
            .checked_add(sub)
            .ok_or(Error::Invalid("market-amount-invalid"))?;
        splits.push((*producer, split));
    }
    let payment = PaymentStatus::initial(method);
    let mut code;
    let mut attempts = 0;
    loop {
        code = order::order_code(
            &hex_bytes(&hamdeli_store::tokens::random_token()).unwrap_or_default(),
        );
        if sm::purchase_by_code(&mut tx, &code).await?.is_none() {
            break;
        }
        attempts += 1;
        if attempts > 5 {
            return Err(PlaceError::Other(Error::Conflict("market-code-taken")));
        }
    }
    let purchase_id = sm::insert_purchase(
        &mut tx,
        &sm::NewPurchase {
            code: &code,
            buyer_name: &buyer.name,
            buyer_mobile: &buyer.mobile,
            province_code: &buyer.province,
            county_code: &buyer.county,
            address: &buyer.address,
            postal_code: &buyer.postal_code,
            payment_method: method.as_str(),
            payment_status: payment.as_str(),
            total_rials: total,
            pay_by: (method == PaymentMethod::Online).then_some(now + window),
            at: now,
        },
    )
    .await?;
    sm::append_event(
        &mut tx,
        purchase_id,
        None,
        "payment",
        None,
        payment.as_str(),
        "buyer",
        None,
    )
    .await?;
    for (producer, split) in &splits {
        let order_id = sm::insert_order(
            &mut tx,
            purchase_id,
            *producer,
            split.total,
            split.commission,
            now,
        )
        .await?;
        for (p, q) in by_producer.get(producer).into_iter().flatten() {
            sm::insert_item(&mut tx, order_id, p, *q).await?;
        }
        sm::append_event(
            &mut tx,
            purchase_id,
            Some(order_id),
            "order",
            None,
            OrderStatus::Placed.as_str(),
            "buyer",
            None,
        )
        .await?;
    }
    audit_guest(
        &mut tx,
        client_addr,
        "market.order.place",
        "market_purchase",
        purchase_id.to_string(),
        serde_json::json!({ "code": code, "total_rials": total, "orders": splits.len(), "payment": method.as_str() }),
    )
    .await?;
    tx.commit().await?;
    // The address that placed the order may follow it even while its code is over its failed
    // look-ups; the order stands whether or not this is remembered.
    if let Err(e) = super::remember_lookup(store, &code, client_addr).await {
        tracing::warn!(error = %e, "an order's placing address could not be remembered");
    }
    Ok(Placed {
        code,
        status: OrderStatus::Placed.as_str().into(),
        total_rials: total,
        payment_method: method.as_str().into(),
        payment_status: payment.as_str().into(),
    })
}

fn hex_bytes(h: &str) -> Option<Vec<u8>> {
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Whether a product delivers to a province (`delivers_to` empty: everywhere).
pub fn delivers_to(list: &str, province: &str) -> bool {
    let list = list.trim();
    list.is_empty() || list.split(',').any(|p| p.trim() == province)
}

/// A purchase as its buyer follows it.
#[derive(Debug, Clone)]
pub struct Tracking {
    pub purchase: Purchase,
    pub orders: Vec<Order>,
    pub items: Vec<Item>,
    pub events: Vec<Event>,
    /// The status of the whole purchase: its orders' one status when they agree, else the
    /// least advanced of those still moving.
    pub status: String,
}

fn overall_status(orders: &[Order]) -> String {
    let rank = |s: &str| match s {
        "placed" => 0,
        "confirmed" => 1,
        "shipped" => 2,
        "delivered" => 3,
        "returned" => 4,
        _ => 5,
    };
    orders
        .iter()
        .map(|o| o.status.as_str())
        .min_by_key(|s| rank(s))
        .unwrap_or("placed")
        .to_owned()
}

async fn tracking_of(conn: &mut AnyConnection, purchase: Purchase) -> Result<Tracking> {
    let orders = sm::orders_of_purchase(conn, purchase.id).await?;
    let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
    let items = sm::items_of_orders(conn, &ids).await?;
    let events = sm::events_of_purchase(conn, purchase.id).await?;
    Ok(Tracking {
        status: overall_status(&orders),
        purchase,
        orders,
        items,
        events,
    })
}

/// The buyer follows her order with its code and her mobile; a wrong pair looks absent.
pub async fn track(store: &Store, code: &str, mobile: &str) -> Result<Tracking> {
    let code = code.trim().to_ascii_uppercase();
    if !order::is_order_code(&code) {
        return Err(Error::NotFound);
    }
    let mobile = hamdeli_text::parse_mobile(mobile).map_err(|_| Error::NotFound)?;
    let mut conn = store.pool().acquire().await?;
    let purchase = sm::purchase_by_code(&mut conn, &code)
        .await?
        .filter(|p| p.buyer_mobile == mobile.as_str())
        .ok_or(Error::NotFound)?;
    tracking_of(&mut conn, purchase).await
}

/// The purchase by its code alone (the payment gateway's pages carry only the code).
pub async fn purchase_for_payment(store: &Store, code: &str) -> Result<Purchase> {
    if !order::is_order_code(code) {
        return Err(Error::NotFound);
    }
    let mut conn = store.pool().acquire().await?;
    sm::purchase_by_code(&mut conn, code)
        .await?
        .ok_or(Error::NotFound)
}

/// A posting of the market as built by the domain, or why it was refused (an amount out of
/// range; an unbalanced entry never leaves the domain's builders).
pub(crate) fn checked(
    p: std::result::Result<Posting<Account>, PostingError>,
) -> Result<Posting<Account>> {
    p.map_err(|e| match e {
        PostingError::Overflow => Error::Invalid("market-amount-invalid"),
        PostingError::Empty | PostingError::Unbalanced => {
            Error::Invalid("market-ledger-unbalanced")
        }
    })
}

/// The posting of an order's sale: the buyer's money to the platform, owed to the producer,
/// the commission to the platform's income.
fn sale_posting(o: &Order) -> Result<Posting<Account>> {
    checked(postings::sale(
        o.producer_id,
        o.total_rials,
        o.commission_rials,
    ))
}

/// What the simulated gateway's verify answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// Paid now.
    Paid,
    /// Paid before (a second callback): nothing moved again.
    AlreadyPaid,
    /// Too late or cancelled: not paid, the stock went back.
    NotPayable,
    /// The buyer cancelled at the gateway.
    Failed,
}

/// The gateway's callback, verified: a pending payment becomes paid once (the guarded update
/// lets one callback through however many arrive) and its sales are posted to the ledger.
pub async fn payment_callback(
    store: &Store,
    client_addr: &str,
    code: &str,
    gateway_ref: &str,
    success: bool,
) -> Result<Verified> {
    let purchase = purchase_for_payment(store, code).await?;
    if purchase.payment_method != PaymentMethod::Online.as_str() {
        return Err(Error::NotFound);
    }
    if !success {
        return Ok(match purchase.payment_status.as_str() {
            "paid" => Verified::AlreadyPaid,
            _ => Verified::Failed,
        });
    }
    let reference: String = gateway_ref
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(64)
        .collect();
    let now = hamdeli_store::now_millis();
    let mut tx = store.begin().await?;
    if purchase.pay_by.is_some_and(|d| d < now) && purchase.payment_status == "pending" {
        tx.commit().await?;
        expire_one(store, purchase.id).await?;
        return Ok(Verified::NotPayable);
    }
    if !sm::set_payment_status(&mut tx, purchase.id, "pending", "paid", Some(&reference)).await? {
        let now_status = sm::purchase(&mut tx, purchase.id)
            .await?
            .map(|p| p.payment_status)
            .unwrap_or_default();
        return Ok(if now_status == "paid" {
            Verified::AlreadyPaid
        } else {
            Verified::NotPayable
        });
    }
    sm::append_event(
        &mut tx,
        purchase.id,
        None,
        "payment",
        Some("pending"),
        "paid",
        "gateway",
        Some(&reference),
    )
    .await?;
    for o in sm::orders_of_purchase(&mut tx, purchase.id).await? {
        if o.status == "cancelled" {
            continue;
        }
        ledger::post(
            &mut tx,
            "sale",
            &Refs {
                purchase_id: Some(purchase.id),
                order_id: Some(o.id),
                producer_id: Some(o.producer_id),
                reference: Some(&reference),
            },
            &sale_posting(&o)?,
        )
        .await?;
    }
    audit_guest(
        &mut tx,
        client_addr,
        "market.payment.paid",
        "market_purchase",
        purchase.id.to_string(),
        serde_json::json!({ "code": purchase.code, "gateway_ref": reference }),
    )
    .await?;
    tx.commit().await?;
    Ok(Verified::Paid)
}

/// Cancels an order inside a transaction: its stock back, the history, a refund if it was paid,
/// and the purchase's payment void when nothing of it is left to pay.
async fn cancel_in(
    tx: &mut AnyConnection,
    o: &Order,
    to: OrderStatus,
    actor: &str,
    note: Option<&str>,
) -> Result<()> {
    let from = OrderStatus::parse(&o.status).ok_or(Error::Conflict("market-transition-refused"))?;
    order::step(from, to).map_err(|_| Error::Conflict("market-transition-refused"))?;
    if !sm::set_order_status(tx, o.id, from.as_str(), to.as_str(), None, None).await? {
        return Err(Error::Conflict("market-transition-refused"));
    }
    for item in sm::items_of_orders(tx, &[o.id]).await? {
        sm::release(tx, item.product_id, item.quantity).await?;
    }
    sm::append_event(
        tx,
        o.purchase_id,
        Some(o.id),
        "order",
        Some(from.as_str()),
        to.as_str(),
        actor,
        note,
    )
    .await?;
    let purchase = sm::purchase(tx, o.purchase_id)
        .await?
        .ok_or(Error::NotFound)?;
    let settled = PaymentStatus::parse(&purchase.payment_status).is_some_and(|s| s.is_settled())
        || (purchase.payment_method == "cod" && from == OrderStatus::Delivered);
    if settled {
        ledger::post(
            tx,
            "refund",
            &Refs {
                purchase_id: Some(o.purchase_id),
                order_id: Some(o.id),
                producer_id: Some(o.producer_id),
                reference: None,
            },
            &sale_posting(o)?.reversed(),
        )
        .await?;
    }
    let others = sm::orders_of_purchase(tx, o.purchase_id).await?;
    if others.iter().all(|x| x.status == "cancelled") {
        let current = purchase.payment_status.as_str();
        let next = match current {
            "pending" | "cod_due" => Some("void"),
            "paid" | "cod_collected" => Some("refunded"),
            _ => None,
        };
        if let Some(next) = next
            && sm::set_payment_status(tx, o.purchase_id, current, next, None).await?
        {
            sm::append_event(
                tx,
                o.purchase_id,
                None,
                "payment",
                Some(current),
                next,
                actor,
                None,
            )
            .await?;
        }
    }
    Ok(())
}

/// Expires one unpaid online payment (guarded: once), cancelling its orders and releasing
/// their stock. True when it expired now.
pub async fn expire_one(store: &Store, purchase_id: i64) -> Result<bool> {
    let mut tx = store.begin().await?;
    if !sm::set_payment_status(&mut tx, purchase_id, "pending", "expired", None).await? {
        return Ok(false);
    }
    sm::append_event(
        &mut tx,
        purchase_id,
        None,
        "payment",
        Some("pending"),
        "expired",
        "system",
        None,
    )
    .await?;
    for o in sm::orders_of_purchase(&mut tx, purchase_id).await? {
        if OrderStatus::parse(&o.status).is_some_and(|s| s.can_become(OrderStatus::Cancelled)) {
            cancel_in(
                &mut tx,
                &o,
                OrderStatus::Cancelled,
                "system",
                Some("payment expired"),
            )
            .await?;
        }
    }
    audit_guest(
        &mut tx,
        "system",
        "market.payment.expired",
        "market_purchase",
        purchase_id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The sweeper's pass: every online payment past its deadline expires, its stock back.
pub async fn expire_unpaid(store: &Store) -> Result<usize> {
    let mut n = 0;
    loop {
        let due = sm::expired_pending(store, hamdeli_store::now_millis(), 200).await?;
        if due.is_empty() {
            return Ok(n);
        }
        for id in &due {
            if expire_one(store, *id).await? {
                n += 1;
            }
        }
        if due.len() < 200 {
            return Ok(n);
        }
    }
}

/// The background sweeper of `hamdeli serve`: one pass a minute.
pub async fn run_sweeper(store: Store) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        match expire_unpaid(&store).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "market: unpaid online payments expired"),
            Err(e) => tracing::warn!(error = %e, "market: payment sweeper failed"),
        }
    }
}

/// The producer's orders (payable ones), with their lines.
pub async fn my_orders(store: &Store, caller: &Caller<'_>) -> Result<(Vec<Order>, Vec<Item>)> {
    let shop = own_shop(store, caller.principal).await?;
    let orders = sm::orders_of_producer(store, shop.id, 500).await?;
    let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
    let mut conn = store.pool().acquire().await?;
    let items = sm::items_of_orders(&mut conn, &ids).await?;
    Ok((orders, items))
}

/// One of the producer's orders with the buyer's delivery details (hers to ship to).
pub async fn my_order(store: &Store, caller: &Caller<'_>, order_id: i64) -> Result<Tracking> {
    let shop = own_shop(store, caller.principal).await?;
    let mut conn = store.pool().acquire().await?;
    let o = sm::order(&mut conn, order_id)
        .await?
        .filter(|o| o.producer_id == shop.id)
        .filter(|o| PaymentStatus::parse(&o.payment_status).is_some_and(order::visible_to_producer))
        .ok_or(Error::NotFound)?;
    let purchase = sm::purchase(&mut conn, o.purchase_id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut t = tracking_of(&mut conn, purchase).await?;
    t.orders.retain(|x| x.id == o.id);
    t.items.retain(|x| x.order_id == o.id);
    t.events.retain(|e| e.order_id.is_none_or(|id| id == o.id));
    crate::audit_read(
        store,
        caller,
        "market.order.read",
        "market_order",
        o.id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    Ok(t)
}

/// The producer's step on her order: confirm, ship (carrier and tracking code), deliver,
/// cancel (stock back, refund if paid), return.
pub async fn advance_order(
    store: &Store,
    caller: &Caller<'_>,
    order_id: i64,
    to: OrderStatus,
    carrier: Option<&str>,
    tracking: Option<&str>,
) -> Result<()> {
    let shop = own_shop(store, caller.principal).await?;
    let carrier = carrier.and_then(|c| text(c, 60));
    let tracking = tracking.and_then(|c| text(c, 60));
    if to == OrderStatus::Shipped && (carrier.is_none() || tracking.is_none()) {
        return Err(Error::Invalid("market-ship-needs-tracking"));
    }
    let mut tx = store.begin().await?;
    let o = sm::order(&mut tx, order_id)
        .await?
        .filter(|o| o.producer_id == shop.id)
        .filter(|o| PaymentStatus::parse(&o.payment_status).is_some_and(order::visible_to_producer))
        .ok_or(Error::NotFound)?;
    let from = OrderStatus::parse(&o.status).ok_or(Error::Conflict("market-transition-refused"))?;
    order::step(from, to).map_err(|_| Error::Conflict("market-transition-refused"))?;
    match to {
        OrderStatus::Cancelled | OrderStatus::Returned => {
            cancel_in(&mut tx, &o, to, "producer", None).await?;
        }
        _ => {
            if !sm::set_order_status(
                &mut tx,
                o.id,
                from.as_str(),
                to.as_str(),
                carrier.as_deref(),
                tracking.as_deref(),
            )
            .await?
            {
                return Err(Error::Conflict("market-transition-refused"));
            }
            let note = match (&carrier, &tracking) {
                (Some(c), Some(t)) if to == OrderStatus::Shipped => Some(format!("{c} {t}")),
                _ => None,
            };
            sm::append_event(
                &mut tx,
                o.purchase_id,
                Some(o.id),
                "order",
                Some(from.as_str()),
                to.as_str(),
                "producer",
                note.as_deref(),
            )
            .await?;
            // Cash on delivery: the money is collected when delivered; the sale is posted then.
            if to == OrderStatus::Delivered && o.payment_method == "cod" {
                ledger::post(
                    &mut tx,
                    "sale",
                    &Refs {
                        purchase_id: Some(o.purchase_id),
                        order_id: Some(o.id),
                        producer_id: Some(o.producer_id),
                        reference: Some("cod"),
                    },
                    &sale_posting(&o)?,
                )
                .await?;
                let all = sm::orders_of_purchase(&mut tx, o.purchase_id).await?;
                let done = all.iter().all(|x| {
                    OrderStatus::parse(&x.status).is_some_and(|s| s.is_final()) || x.id == o.id
                });
                if done
                    && sm::set_payment_status(
                        &mut tx,
                        o.purchase_id,
                        "cod_due",
                        "cod_collected",
                        None,
                    )
                    .await?
                {
                    sm::append_event(
                        &mut tx,
                        o.purchase_id,
                        None,
                        "payment",
                        Some("cod_due"),
                        "cod_collected",
                        "producer",
                        None,
                    )
                    .await?;
                }
            }
        }
    }
    audit_write(
        &mut tx,
        caller,
        "market.order.step",
        "market_order",
        o.id.to_string(),
        serde_json::json!({ "from": from.as_str(), "to": to.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The buyer cancels her order before it ships (code and mobile as proof).
pub async fn buyer_cancel(
    store: &Store,
    client_addr: &str,
    code: &str,
    mobile: &str,
    order_id: i64,
) -> Result<()> {
    let t = track(store, code, mobile).await?;
    let o = t
        .orders
        .into_iter()
        .find(|o| o.id == order_id)
        .ok_or(Error::NotFound)?;
    let mut tx = store.begin().await?;
    let o = sm::order(&mut tx, o.id).await?.ok_or(Error::NotFound)?;
    cancel_in(&mut tx, &o, OrderStatus::Cancelled, "buyer", None).await?;
    audit_guest(
        &mut tx,
        client_addr,
        "market.order.cancel",
        "market_order",
        o.id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The producer's balance and statement.
pub async fn my_balance(store: &Store, caller: &Caller<'_>) -> Result<(i64, Vec<ledger::Line>)> {
    let shop = own_shop(store, caller.principal).await?;
    let mut conn = store.pool().acquire().await?;
    let balance = ledger::producer_balance(&mut conn, shop.id).await?;
    let lines = ledger::statement(store, shop.id, 200).await?;
    Ok((balance, lines))
}

/// What the platform owes each producer (the national admin).
pub async fn payables(store: &Store, caller: &Caller<'_>) -> Result<Vec<(i64, String, i64)>> {
    caller
        .principal
        .authorize(Action::Market(MarketAction::ManagePayments))?;
    Ok(ledger::payables(store).await?)
}

/// A payout to a producer marked paid with the bank's reference: at most what she is owed.
pub async fn payout(
    store: &Store,
    caller: &Caller<'_>,
    producer_id: i64,
    amount: i64,
    reference: &str,
) -> Result<()> {
    caller
        .principal
        .authorize(Action::Market(MarketAction::ManagePayments))?;
    let reference = text(reference, 64).ok_or(Error::Invalid("market-payout-reference"))?;
    if amount <= 0 {
        return Err(Error::Invalid("market-amount-invalid"));
    }
    let mut tx = store.begin().await?;
    // Concurrent payouts to one producer take turns: each reads the balance the one before left.
    if !sm::lock_producer(&mut tx, producer_id).await? {
        return Err(Error::NotFound);
    }
    let shop = sm::producer(&mut tx, producer_id)
        .await?
        .ok_or(Error::NotFound)?;
    if shop.sheba.is_none() {
        return Err(Error::Conflict("market-payout-no-sheba"));
    }
    let balance = ledger::producer_balance(&mut tx, producer_id).await?;
    if amount > balance {
        return Err(Error::Conflict("market-payout-over-balance"));
    }
    ledger::post(
        &mut tx,
        "payout",
        &Refs {
            purchase_id: None,
            order_id: None,
            producer_id: Some(producer_id),
            reference: Some(&reference),
        },
        &checked(postings::payout(producer_id, amount))?,
    )
    .await?;
    audit_write(
        &mut tx,
        caller,
        "market.payout",
        "market_producer",
        producer_id.to_string(),
        serde_json::json!({ "amount_rials": amount, "reference": reference }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_areas() {
        assert!(delivers_to("", "23"));
        assert!(delivers_to("07, 23", "23"));
        assert!(!delivers_to("07", "23"));
    }

    #[test]
    fn hex_decodes() {
        assert_eq!(hex_bytes("00ff10"), Some(vec![0, 255, 16]));
    }
}
