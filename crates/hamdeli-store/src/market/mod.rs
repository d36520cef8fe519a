//! Capability market: every SQL statement of it, on SQLite and PostgreSQL.
//!
//! Stock is reserved by one guarded statement, `UPDATE market_products SET stock = stock - n
//! WHERE id = … AND stock >= n` (rows affected checked): on SQLite the write transaction holds
//! the database's write lock, on PostgreSQL the row lock makes a concurrent update re-read the
//! row, so no interleaving sells more than there is and stock never goes below zero (a CHECK
//! says so too).

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::{AnyConnection, Engine, Result, Store, StoreError, Tx, now_millis};

pub mod ledger;

// ---------------------------------------------------------------------------------------------
// Producers and certificates

#[derive(Debug, Clone, Serialize)]
pub struct Producer {
    pub id: i64,
    pub user_id: i64,
    pub shop_name: String,
    pub mobile: String,
    pub province_code: String,
    pub county_code: String,
    pub categories: String,
    pub about: String,
    pub sheba: Option<String>,
    pub person_id: Option<i64>,
    pub female_head: bool,
    pub created_at: i64,
}

const PRODUCER_COLUMNS: &str = "id, user_id, shop_name, mobile, province_code, county_code, \
     categories, about, sheba, person_id, female_head, created_at";

fn producer_from_row(r: &AnyRow) -> Producer {
    Producer {
        id: r.get(0),
        user_id: r.get(1),
        shop_name: r.get(2),
        mobile: r.get(3),
        province_code: r.get(4),
        county_code: r.get(5),
        categories: r.get(6),
        about: r.get(7),
        sheba: r.get(8),
        person_id: r.get(9),
        female_head: r.get::<i64, _>(10) != 0,
        created_at: r.get(11),
    }
}

pub struct NewProducer<'a> {
    pub user_id: i64,
    pub shop_name: &'a str,
    pub mobile: &'a str,
    pub province_code: &'a str,
    pub county_code: &'a str,
    pub categories: &'a str,
}

pub async fn create_producer(conn: &mut AnyConnection, n: &NewProducer<'_>) -> Result<i64> {
    let r = sqlx::query(
        "INSERT INTO market_producers (user_id, shop_name, mobile, province_code, county_code, \
         categories, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(n.user_id)
    .bind(n.shop_name.to_owned())
    .bind(n.mobile.to_owned())
    .bind(n.province_code.to_owned())
    .bind(n.county_code.to_owned())
    .bind(n.categories.to_owned())
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await;
    match r {
        Ok(row) => Ok(row.get(0)),
        Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
            Err(StoreError::Conflict("market-producer-exists"))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn producer_by_user(conn: &mut AnyConnection, user_id: i64) -> Result<Option<Producer>> {
    let sql = format!("SELECT {PRODUCER_COLUMNS} FROM market_producers WHERE user_id = $1");
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(producer_from_row))
}

pub async fn producer_by_mobile(store: &Store, mobile: &str) -> Result<Option<Producer>> {
    let sql = format!("SELECT {PRODUCER_COLUMNS} FROM market_producers WHERE mobile = $1");
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(mobile.to_owned())
        .fetch_optional(store.pool())
        .await?
        .as_ref()
        .map(producer_from_row))
}

pub async fn producer(conn: &mut AnyConnection, id: i64) -> Result<Option<Producer>> {
    let sql = format!("SELECT {PRODUCER_COLUMNS} FROM market_producers WHERE id = $1");
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(producer_from_row))
}

/// Locks a producer's row until the transaction ends, so what the transaction reads of her
/// balance afterwards stays true until it commits (a concurrent payout waits, then reads the
/// balance with the first one in it). SQLite's writing transaction holds the database already.
/// False when there is no such producer.
pub async fn lock_producer(conn: &mut AnyConnection, id: i64) -> Result<bool> {
    let done = sqlx::query("UPDATE market_producers SET id = id WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Producers of a province (`None`: all), newest first.
pub async fn producers(store: &Store, province: Option<&str>, limit: i64) -> Result<Vec<Producer>> {
    let sql = format!(
        "SELECT {PRODUCER_COLUMNS} FROM market_producers \
         WHERE ($1 = '' OR province_code = $1) ORDER BY id DESC LIMIT $2"
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(province.unwrap_or("").to_owned())
        .bind(limit)
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(producer_from_row)
        .collect())
}

pub async fn update_shop(
    conn: &mut AnyConnection,
    id: i64,
    shop_name: &str,
    about: &str,
    categories: &str,
    sheba: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "UPDATE market_producers SET shop_name = $1, about = $2, categories = $3, sheba = $4 \
         WHERE id = $5",
    )
    .bind(shop_name.to_owned())
    .bind(about.to_owned())
    .bind(categories.to_owned())
    .bind(sheba.map(str::to_owned))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn link_person(
    conn: &mut AnyConnection,
    id: i64,
    person_id: Option<i64>,
    female_head: bool,
    by: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "UPDATE market_producers SET person_id = $1, female_head = $2, linked_by = $3 WHERE id = $4",
    )
    .bind(person_id)
    .bind(crate::flag(female_head))
    .bind(by)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct Certificate {
    pub id: i64,
    pub producer_id: i64,
    pub kind: String,
    pub number: String,
    pub issuer: String,
    pub expires_on: String,
    pub status: String,
    pub checked_at: Option<i64>,
    pub created_at: i64,
    /// The shop's name and province (for the office's queue).
    pub shop_name: String,
    pub province_code: String,
}

const CERT_COLUMNS: &str = "c.id, c.producer_id, c.kind, c.number, c.issuer, c.expires_on, \
     c.status, c.checked_at, c.created_at, p.shop_name, p.province_code";

fn cert_from_row(r: &AnyRow) -> Certificate {
    Certificate {
        id: r.get(0),
        producer_id: r.get(1),
        kind: r.get(2),
        number: r.get(3),
        issuer: r.get(4),
        expires_on: r.get(5),
        status: r.get(6),
        checked_at: r.get(7),
        created_at: r.get(8),
        shop_name: r.get(9),
        province_code: r.get(10),
    }
}

pub async fn add_certificate(
    conn: &mut AnyConnection,
    producer_id: i64,
    kind: &str,
    number: &str,
    issuer: &str,
    expires_on: &str,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO market_certificates (producer_id, kind, number, issuer, expires_on, status, \
         created_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6) RETURNING id",
    )
    .bind(producer_id)
    .bind(kind.to_owned())
    .bind(number.to_owned())
    .bind(issuer.to_owned())
    .bind(expires_on.to_owned())
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.get(0))
}

pub async fn certificate(conn: &mut AnyConnection, id: i64) -> Result<Option<Certificate>> {
    let sql = format!(
        "SELECT {CERT_COLUMNS} FROM market_certificates c \
         JOIN market_producers p ON p.id = c.producer_id WHERE c.id = $1"
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(cert_from_row))
}

pub async fn certificates_of(store: &Store, producer_id: i64) -> Result<Vec<Certificate>> {
    let sql = format!(
        "SELECT {CERT_COLUMNS} FROM market_certificates c \
         JOIN market_producers p ON p.id = c.producer_id WHERE c.producer_id = $1 ORDER BY c.id DESC"
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(producer_id)
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(cert_from_row)
        .collect())
}

/// Certificates waiting for the office's check, of a province (`None`: all), oldest first.
pub async fn pending_certificates(
    store: &Store,
    province: Option<&str>,
) -> Result<Vec<Certificate>> {
    let sql = format!(
        "SELECT {CERT_COLUMNS} FROM market_certificates c \
         JOIN market_producers p ON p.id = c.producer_id \
         WHERE c.status = 'pending' AND ($1 = '' OR p.province_code = $1) ORDER BY c.id LIMIT 500"
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(province.unwrap_or("").to_owned())
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(cert_from_row)
        .collect())
}

/// Decides a pending certificate (guarded: only a pending one changes). False when it was
/// decided already.
pub async fn decide_certificate(
    conn: &mut AnyConnection,
    id: i64,
    approve: bool,
    by: Option<i64>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE market_certificates SET status = $1, checked_by = $2, checked_at = $3 \
         WHERE id = $4 AND status = 'pending'",
    )
    .bind(if approve { "approved" } else { "rejected" })
    .bind(by)
    .bind(now_millis())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

// ---------------------------------------------------------------------------------------------
// Products

#[derive(Debug, Clone, Serialize)]
pub struct Product {
    pub id: i64,
    pub producer_id: i64,
    pub certificate_id: Option<i64>,
    pub province_code: String,
    pub category: String,
    pub title: String,
    pub description: String,
    pub price_rials: i64,
    pub stock: i64,
    pub weight_grams: i64,
    pub delivers_to: String,
    pub active: bool,
    pub has_photo: bool,
    pub created_at: i64,
    /// Listed publicly now: active, with an approved certificate that has not expired.
    pub visible: bool,
    pub shop_name: String,
}

fn product_columns(today: &str) -> String {
    // `today` is an ISO date made by the code, never user input.
    format!(
        "p.id, p.producer_id, p.certificate_id, p.province_code, p.category, p.title, \
         p.description, p.price_rials, p.stock, p.weight_grams, p.delivers_to, p.active, \
         p.has_photo, p.created_at, \
         CASE WHEN p.active = 1 AND c.status = 'approved' AND c.expires_on >= '{today}' THEN 1 ELSE 0 END, \
         s.shop_name"
    )
}

fn product_from_row(r: &AnyRow) -> Product {
    Product {
        id: r.get(0),
        producer_id: r.get(1),
        certificate_id: r.get(2),
        province_code: r.get(3),
        category: r.get(4),
        title: r.get(5),
        description: r.get(6),
        price_rials: r.get(7),
        stock: r.get(8),
        weight_grams: r.get(9),
        delivers_to: r.get(10),
        active: r.get::<i64, _>(11) != 0,
        has_photo: r.get::<i64, _>(12) != 0,
        created_at: r.get(13),
        visible: r.get::<i64, _>(14) != 0,
        shop_name: r.get(15),
    }
}

/// Today's date in Iran, ISO: certificates expire at the end of their day.
pub fn today_iso() -> String {
    hamdeli_domain::ledger::iso_day(hamdeli_domain::ledger::day_of(now_millis()))
}

const PRODUCT_JOINS: &str = "JOIN market_producers s ON s.id = p.producer_id \
     LEFT JOIN market_certificates c ON c.id = p.certificate_id";
const PRODUCT_FROM: &str = "FROM market_products p \
     JOIN market_producers s ON s.id = p.producer_id \
     LEFT JOIN market_certificates c ON c.id = p.certificate_id";

pub struct NewProduct<'a> {
    pub producer_id: i64,
    pub certificate_id: Option<i64>,
    pub province_code: &'a str,
    pub category: &'a str,
    pub title: &'a str,
    pub title_key: &'a str,
    pub description: &'a str,
    pub price_rials: i64,
    pub stock: i64,
    pub weight_grams: i64,
    pub delivers_to: &'a str,
}

pub async fn create_product(conn: &mut AnyConnection, n: &NewProduct<'_>) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO market_products (producer_id, certificate_id, province_code, category, title, \
         title_key, description, price_rials, stock, weight_grams, delivers_to, active, has_photo, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, 0, $12) RETURNING id",
    )
    .bind(n.producer_id)
    .bind(n.certificate_id)
    .bind(n.province_code.to_owned())
    .bind(n.category.to_owned())
    .bind(n.title.to_owned())
    .bind(n.title_key.to_owned())
    .bind(n.description.to_owned())
    .bind(n.price_rials)
    .bind(n.stock)
    .bind(n.weight_grams)
    .bind(n.delivers_to.to_owned())
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.get(0))
}

/// Changes a product's listing; the stock is set to `stock` (what is left to order).
pub async fn update_product(
    conn: &mut AnyConnection,
    id: i64,
    n: &NewProduct<'_>,
    active: bool,
) -> Result<()> {
    sqlx::query(
        "UPDATE market_products SET certificate_id = $1, category = $2, title = $3, title_key = $4, \
         description = $5, price_rials = $6, stock = $7, weight_grams = $8, delivers_to = $9, \
         active = $10 WHERE id = $11 AND producer_id = $12",
    )
    .bind(n.certificate_id)
    .bind(n.category.to_owned())
    .bind(n.title.to_owned())
    .bind(n.title_key.to_owned())
    .bind(n.description.to_owned())
    .bind(n.price_rials)
    .bind(n.stock)
    .bind(n.weight_grams)
    .bind(n.delivers_to.to_owned())
    .bind(crate::flag(active))
    .bind(id)
    .bind(n.producer_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn product(conn: &mut AnyConnection, id: i64) -> Result<Option<Product>> {
    let sql = format!(
        "SELECT {} {PRODUCT_FROM} WHERE p.id = $1",
        product_columns(&today_iso())
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(product_from_row))
}

pub async fn products_of(store: &Store, producer_id: i64) -> Result<Vec<Product>> {
    let sql = format!(
        "SELECT {} {PRODUCT_FROM} WHERE p.producer_id = $1 ORDER BY p.id DESC LIMIT 1000",
        product_columns(&today_iso())
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(producer_id)
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(product_from_row)
        .collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Newest,
    PriceLow,
    PriceHigh,
}

/// What the public catalogue asks for.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// A normalised search key (letters and digits only: the caller makes it).
    pub q_key: String,
    pub category: String,
    pub province: String,
    pub in_stock_only: bool,
    pub sort: Sort,
    pub limit: i64,
    pub offset: i64,
}

/// The public catalogue: listed products only (active, certificate approved and not expired).
pub async fn public_products(store: &Store, f: &Filter) -> Result<Vec<Product>> {
    let today = today_iso();
    let order = match f.sort {
        // Ids grow with time: the newest first walks the primary key backwards, no sort.
        Sort::Newest => "p.id DESC",
        Sort::PriceLow => "p.price_rials ASC, p.id DESC",
        Sort::PriceHigh => "p.price_rials DESC, p.id DESC",
    };
    let like = match store.engine() {
        Engine::Sqlite => "instr(p.title_key, $1) > 0",
        Engine::Postgres => "strpos(p.title_key, $1) > 0",
    };
    // SQLite would take `active = 1` to an index and sort the whole catalogue for the newest
    // first; `+p.active` keeps it on the primary key, read backwards until the page is full.
    let active = match (store.engine(), f.sort) {
        (Engine::Sqlite, Sort::Newest) => "+p.active = 1",
        _ => "p.active = 1",
    };
    // The page's ids first (walking an index in order, the certificate check a semi-join),
    // then their rows: the join with the shops is done for one page, not the whole catalogue.
    let sql = format!(
        "SELECT {} FROM (SELECT p.id FROM market_products p \
         WHERE {active} AND p.certificate_id IN (SELECT c.id FROM market_certificates c \
         WHERE c.status = 'approved' AND c.expires_on >= '{today}') \
         AND ($1 = '' OR {like}) AND ($2 = '' OR p.category = $2) \
         AND ($3 = '' OR p.province_code = $3) AND ($4 = 0 OR p.stock > 0) \
         ORDER BY {order} LIMIT $5 OFFSET $6) q \
         JOIN market_products p ON p.id = q.id {PRODUCT_JOINS} ORDER BY {order}",
        product_columns(&today)
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(f.q_key.clone())
        .bind(f.category.clone())
        .bind(f.province.clone())
        .bind(crate::flag(f.in_stock_only))
        .bind(f.limit.clamp(1, 5000))
        .bind(f.offset.max(0))
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(product_from_row)
        .collect())
}

pub async fn set_photo(conn: &mut AnyConnection, product_id: i64, jpeg: Vec<u8>) -> Result<()> {
    sqlx::query("DELETE FROM market_photos WHERE product_id = $1")
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO market_photos (product_id, jpeg, created_at) VALUES ($1, $2, $3)")
        .bind(product_id)
        .bind(jpeg)
        .bind(now_millis())
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE market_products SET has_photo = 1 WHERE id = $1")
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn photo(store: &Store, product_id: i64) -> Result<Option<Vec<u8>>> {
    Ok(
        sqlx::query("SELECT jpeg FROM market_photos WHERE product_id = $1")
            .bind(product_id)
            .fetch_optional(store.pool())
            .await?
            .map(|r| r.get::<Vec<u8>, _>(0)),
    )
}

// ---------------------------------------------------------------------------------------------
// Stock

/// Takes `quantity` from the product's stock if it is listed and has that much; false (and
/// nothing changed) otherwise.
pub async fn reserve(conn: &mut AnyConnection, product_id: i64, quantity: i64) -> Result<bool> {
    let today = today_iso();
    let sql = format!(
        "UPDATE market_products SET stock = stock - $1 \
         WHERE id = $2 AND stock >= $1 AND active = 1 AND EXISTS (SELECT 1 FROM market_certificates c \
         WHERE c.id = market_products.certificate_id AND c.status = 'approved' AND c.expires_on >= '{today}')"
    );
    let done = sqlx::query(AssertSqlSafe(sql))
        .bind(quantity)
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives `quantity` back to the product's stock.
pub async fn release(conn: &mut AnyConnection, product_id: i64, quantity: i64) -> Result<()> {
    sqlx::query("UPDATE market_products SET stock = stock + $1 WHERE id = $2")
        .bind(quantity)
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn set_stock(conn: &mut AnyConnection, product_id: i64, stock: i64) -> Result<()> {
    sqlx::query("UPDATE market_products SET stock = $1 WHERE id = $2")
        .bind(stock)
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Purchases, orders, history

#[derive(Debug, Clone, Serialize)]
pub struct Purchase {
    pub id: i64,
    pub code: String,
    pub buyer_name: String,
    pub buyer_mobile: String,
    pub province_code: String,
    pub county_code: String,
    pub address: String,
    pub postal_code: String,
    pub payment_method: String,
    pub payment_status: String,
    pub total_rials: i64,
    pub pay_by: Option<i64>,
    pub gateway_ref: Option<String>,
    pub created_at: i64,
}

const PURCHASE_COLUMNS: &str = "id, code, buyer_name, buyer_mobile, province_code, county_code, \
     address, postal_code, payment_method, payment_status, total_rials, pay_by, gateway_ref, created_at";

fn purchase_from_row(r: &AnyRow) -> Purchase {
    Purchase {
        id: r.get(0),
        code: r.get(1),
        buyer_name: r.get(2),
        buyer_mobile: r.get(3),
        province_code: r.get(4),
        county_code: r.get(5),
        address: r.get(6),
        postal_code: r.get(7),
        payment_method: r.get(8),
        payment_status: r.get(9),
        total_rials: r.get(10),
        pay_by: r.get(11),
        gateway_ref: r.get(12),
        created_at: r.get(13),
    }
}

pub struct NewPurchase<'a> {
    pub code: &'a str,
    pub buyer_name: &'a str,
    pub buyer_mobile: &'a str,
    pub province_code: &'a str,
    pub county_code: &'a str,
    pub address: &'a str,
    pub postal_code: &'a str,
    pub payment_method: &'a str,
    pub payment_status: &'a str,
    pub total_rials: i64,
    pub pay_by: Option<i64>,
    pub at: i64,
}

pub async fn insert_purchase(conn: &mut AnyConnection, n: &NewPurchase<'_>) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO market_purchases (code, buyer_name, buyer_mobile, province_code, county_code, \
         address, postal_code, payment_method, payment_status, total_rials, pay_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(n.code.to_owned())
    .bind(n.buyer_name.to_owned())
    .bind(n.buyer_mobile.to_owned())
    .bind(n.province_code.to_owned())
    .bind(n.county_code.to_owned())
    .bind(n.address.to_owned())
    .bind(n.postal_code.to_owned())
    .bind(n.payment_method.to_owned())
    .bind(n.payment_status.to_owned())
    .bind(n.total_rials)
    .bind(n.pay_by)
    .bind(n.at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.get(0))
}

pub async fn purchase_by_code(conn: &mut AnyConnection, code: &str) -> Result<Option<Purchase>> {
    let sql = format!("SELECT {PURCHASE_COLUMNS} FROM market_purchases WHERE code = $1");
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(code.to_owned())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(purchase_from_row))
}

pub async fn purchase(conn: &mut AnyConnection, id: i64) -> Result<Option<Purchase>> {
    let sql = format!("SELECT {PURCHASE_COLUMNS} FROM market_purchases WHERE id = $1");
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(purchase_from_row))
}

/// Moves the payment from `from` to `to` (guarded: false when it was not in `from`).
pub async fn set_payment_status(
    conn: &mut AnyConnection,
    purchase_id: i64,
    from: &str,
    to: &str,
    gateway_ref: Option<&str>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE market_purchases SET payment_status = $1, gateway_ref = COALESCE($2, gateway_ref) \
         WHERE id = $3 AND payment_status = $4",
    )
    .bind(to.to_owned())
    .bind(gateway_ref.map(str::to_owned))
    .bind(purchase_id)
    .bind(from.to_owned())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Online payments still pending after their deadline.
pub async fn expired_pending(store: &Store, now: i64, limit: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query(
        "SELECT id FROM market_purchases WHERE payment_status = 'pending' AND pay_by < $1 \
         ORDER BY id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect())
}

#[derive(Debug, Clone, Serialize)]
pub struct Order {
    pub id: i64,
    pub purchase_id: i64,
    pub producer_id: i64,
    pub status: String,
    pub total_rials: i64,
    pub commission_rials: i64,
    pub carrier: Option<String>,
    pub tracking_code: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub shop_name: String,
    /// The purchase's code and payment (for the producer's list).
    pub code: String,
    pub payment_method: String,
    pub payment_status: String,
}

const ORDER_SELECT: &str = "SELECT o.id, o.purchase_id, o.producer_id, o.status, o.total_rials, \
     o.commission_rials, o.carrier, o.tracking_code, o.created_at, o.updated_at, s.shop_name, \
     u.code, u.payment_method, u.payment_status \
     FROM market_orders o JOIN market_producers s ON s.id = o.producer_id \
     JOIN market_purchases u ON u.id = o.purchase_id";

fn order_from_row(r: &AnyRow) -> Order {
    Order {
        id: r.get(0),
        purchase_id: r.get(1),
        producer_id: r.get(2),
        status: r.get(3),
        total_rials: r.get(4),
        commission_rials: r.get(5),
        carrier: r.get(6),
        tracking_code: r.get(7),
        created_at: r.get(8),
        updated_at: r.get(9),
        shop_name: r.get(10),
        code: r.get(11),
        payment_method: r.get(12),
        payment_status: r.get(13),
    }
}

pub async fn insert_order(
    conn: &mut AnyConnection,
    purchase_id: i64,
    producer_id: i64,
    total: i64,
    commission: i64,
    at: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO market_orders (purchase_id, producer_id, status, total_rials, \
         commission_rials, created_at, updated_at) VALUES ($1, $2, 'placed', $3, $4, $5, $5) RETURNING id",
    )
    .bind(purchase_id)
    .bind(producer_id)
    .bind(total)
    .bind(commission)
    .bind(at)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.get(0))
}

pub async fn insert_item(
    conn: &mut AnyConnection,
    order_id: i64,
    product: &Product,
    quantity: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO market_order_items (order_id, product_id, title, category, unit_price_rials, \
         quantity) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(order_id)
    .bind(product.id)
    .bind(product.title.clone())
    .bind(product.category.clone())
    .bind(product.price_rials)
    .bind(quantity)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn orders_of_purchase(conn: &mut AnyConnection, purchase_id: i64) -> Result<Vec<Order>> {
    let sql = format!("{ORDER_SELECT} WHERE o.purchase_id = $1 ORDER BY o.id");
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(purchase_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(order_from_row)
        .collect())
}

pub async fn order(conn: &mut AnyConnection, id: i64) -> Result<Option<Order>> {
    let sql = format!("{ORDER_SELECT} WHERE o.id = $1");
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(order_from_row))
}

/// A producer's orders that she may act on (payable: cash on delivery, or paid), newest first.
pub async fn orders_of_producer(store: &Store, producer_id: i64, limit: i64) -> Result<Vec<Order>> {
    let sql = format!(
        "{ORDER_SELECT} WHERE o.producer_id = $1 \
         AND u.payment_status NOT IN ('pending', 'expired', 'void') ORDER BY o.id DESC LIMIT $2"
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(producer_id)
        .bind(limit)
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(order_from_row)
        .collect())
}

#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub order_id: i64,
    pub product_id: i64,
    pub title: String,
    pub category: String,
    pub unit_price_rials: i64,
    pub quantity: i64,
}

pub async fn items_of_orders(conn: &mut AnyConnection, order_ids: &[i64]) -> Result<Vec<Item>> {
    if order_ids.is_empty() {
        return Ok(vec![]);
    }
    let list = order_ids
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "SELECT order_id, product_id, title, category, unit_price_rials, quantity \
         FROM market_order_items WHERE order_id IN ({list}) ORDER BY id"
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Item {
            order_id: r.get(0),
            product_id: r.get(1),
            title: r.get(2),
            category: r.get(3),
            unit_price_rials: r.get(4),
            quantity: r.get(5),
        })
        .collect())
}

/// Moves an order from `from` to `to` (guarded: false when it was not in `from`), with the
/// carrier and tracking code when shipped.
pub async fn set_order_status(
    conn: &mut AnyConnection,
    id: i64,
    from: &str,
    to: &str,
    carrier: Option<&str>,
    tracking: Option<&str>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE market_orders SET status = $1, carrier = COALESCE($2, carrier), \
         tracking_code = COALESCE($3, tracking_code), updated_at = $4 WHERE id = $5 AND status = $6",
    )
    .bind(to.to_owned())
    .bind(carrier.map(str::to_owned))
    .bind(tracking.map(str::to_owned))
    .bind(now_millis())
    .bind(id)
    .bind(from.to_owned())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub order_id: Option<i64>,
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: String,
    pub actor: String,
    pub note: Option<String>,
    pub at: i64,
}

/// Appends one step to the history (never updated or deleted).
#[allow(clippy::too_many_arguments)]
pub async fn append_event(
    conn: &mut AnyConnection,
    purchase_id: i64,
    order_id: Option<i64>,
    kind: &str,
    from: Option<&str>,
    to: &str,
    actor: &str,
    note: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO market_events (purchase_id, order_id, kind, from_status, to_status, actor, \
         note, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(purchase_id)
    .bind(order_id)
    .bind(kind.to_owned())
    .bind(from.map(str::to_owned))
    .bind(to.to_owned())
    .bind(actor.to_owned())
    .bind(note.map(str::to_owned))
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn events_of_purchase(conn: &mut AnyConnection, purchase_id: i64) -> Result<Vec<Event>> {
    Ok(sqlx::query(
        "SELECT order_id, kind, from_status, to_status, actor, note, at FROM market_events \
         WHERE purchase_id = $1 ORDER BY id",
    )
    .bind(purchase_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Event {
        order_id: r.get(0),
        kind: r.get(1),
        from_status: r.get(2),
        to_status: r.get(3),
        actor: r.get(4),
        note: r.get(5),
        at: r.get(6),
    })
    .collect())
}

// ---------------------------------------------------------------------------------------------
// Rate limit, sign-up codes, settings

/// Counts one hit of `client` (an address placing orders, or a look-up count's key) in minute
/// `minute`; returns the count so far.
pub async fn rate_hit(store: &Store, client: &str, minute: i64) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO market_rate (client, minute, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (client, minute) DO UPDATE SET hits = market_rate.hits + 1 RETURNING hits",
    )
    .bind(client.to_owned())
    .bind(minute)
    .fetch_one(store.pool())
    .await?;
    // Old minutes are forgotten now and then.
    if minute % 10 == 0 {
        sqlx::query("DELETE FROM market_rate WHERE minute < $1")
            .bind(minute - 10)
            .execute(store.pool())
            .await?;
    }
    Ok(row.get(0))
}

/// Takes back one hit of `client` in minute `minute` (a place held for a look-up that found
/// its order, see `hamdeli_app::market::track_limited`).
pub async fn rate_unhit(store: &Store, client: &str, minute: i64) -> Result<()> {
    sqlx::query(
        "UPDATE market_rate SET hits = hits - 1 WHERE client = $1 AND minute = $2 AND hits > 0",
    )
    .bind(client.to_owned())
    .bind(minute)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// The key under which an order code looked up successfully from an address is remembered:
/// a hash, so the counter table does not say which address follows which order.
fn lookup_ok_key(code: &str, client_addr: &str) -> String {
    format!(
        "lookup-ok:{}",
        crate::tokens::sha256_hex(&format!("{code}\n{client_addr}"))
    )
}

/// Remembers that `client_addr` found order `code` with the right mobile (or placed it), until
/// minute `until` (its row in `market_rate` carries that minute, so the counter's clean-up
/// forgets it after then; a later success moves it on).
pub async fn remember_lookup(
    store: &Store,
    code: &str,
    client_addr: &str,
    until: i64,
) -> Result<()> {
    let key = lookup_ok_key(code, client_addr);
    sqlx::query("DELETE FROM market_rate WHERE client = $1 AND minute <> $2")
        .bind(key.clone())
        .bind(until)
        .execute(store.pool())
        .await?;
    sqlx::query(
        "INSERT INTO market_rate (client, minute, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (client, minute) DO NOTHING",
    )
    .bind(key)
    .bind(until)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Whether `client_addr` is remembered as having found order `code` (see `remember_lookup`)
/// in minute `minute`.
pub async fn lookup_remembered(
    store: &Store,
    code: &str,
    client_addr: &str,
    minute: i64,
) -> Result<bool> {
    let row = sqlx::query("SELECT COUNT(*) FROM market_rate WHERE client = $1 AND minute >= $2")
        .bind(lookup_ok_key(code, client_addr))
        .bind(minute)
        .fetch_one(store.pool())
        .await?;
    Ok(row.get::<i64, _>(0) > 0)
}

pub const SIGNUP_CODE_MILLIS: i64 = 10 * 60 * 1000;
pub const SIGNUP_CODE_TRIES: i64 = 5;

pub async fn put_signup_code(
    store: &Store,
    mobile: &str,
    shop_name: &str,
    code_hash: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO market_signup_codes (mobile, shop_name, code_hash, expires_at, tries, created_at) \
         VALUES ($1, $2, $3, $4, 0, $5) \
         ON CONFLICT (mobile) DO UPDATE SET shop_name = excluded.shop_name, \
           code_hash = excluded.code_hash, expires_at = excluded.expires_at, tries = 0, \
           created_at = excluded.created_at",
    )
    .bind(mobile.to_owned())
    .bind(shop_name.to_owned())
    .bind(code_hash.to_owned())
    .bind(now + SIGNUP_CODE_MILLIS)
    .bind(now)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Counts one try of a code; `Ok(Some(shop_name))` for the right code in time (then it is
/// used up), `Ok(None)` otherwise.
pub async fn try_signup_code(
    conn: &mut AnyConnection,
    mobile: &str,
    code_hash: &str,
    now: i64,
) -> Result<Option<String>> {
    let row = sqlx::query(
        "UPDATE market_signup_codes SET tries = tries + 1 WHERE mobile = $1 AND tries < $2 \
         RETURNING code_hash, shop_name, expires_at",
    )
    .bind(mobile.to_owned())
    .bind(SIGNUP_CODE_TRIES)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let (stored, shop, expires): (String, String, i64) = (row.get(0), row.get(1), row.get(2));
    if expires <= now || stored != code_hash {
        return Ok(None);
    }
    sqlx::query("DELETE FROM market_signup_codes WHERE mobile = $1")
        .bind(mobile.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(Some(shop))
}

// ---------------------------------------------------------------------------------------------
// Sales statistics (office)

/// One cell of a sales table: a key (province code, category or Jalali month) and its sums.
#[derive(Debug, Clone, Serialize)]
pub struct SalesRow {
    pub key: String,
    pub orders: i64,
    pub pieces: i64,
    pub rials: i64,
}

/// What a sales table groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SalesBy {
    Province,
    Category,
    /// Female heads of household against the other producers (`1` / `0`).
    FemaleHead,
}

/// Sales of orders not cancelled or returned, by a dimension; `province` narrows to one.
pub async fn sales(store: &Store, by: SalesBy, province: Option<&str>) -> Result<Vec<SalesRow>> {
    let key = match by {
        SalesBy::Province => "s.province_code",
        SalesBy::Category => "i.category",
        SalesBy::FemaleHead => "CAST(s.female_head AS TEXT)",
    };
    let sum = crate::saturating_sum(store.engine(), "i.unit_price_rials * i.quantity");
    let pieces = crate::saturating_sum(store.engine(), "i.quantity");
    let sql = format!(
        "SELECT {key}, COUNT(DISTINCT o.id), {pieces}, {sum} FROM market_order_items i \
         JOIN market_orders o ON o.id = i.order_id JOIN market_producers s ON s.id = o.producer_id \
         JOIN market_purchases u ON u.id = o.purchase_id \
         WHERE o.status NOT IN ('cancelled', 'returned') AND u.payment_status NOT IN ('pending', 'expired', 'void') \
         AND ($1 = '' OR s.province_code = $1) GROUP BY {key} ORDER BY {key}"
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(province.unwrap_or("").to_owned())
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(|r| SalesRow {
            key: r.get(0),
            orders: r.get(1),
            pieces: r.get(2),
            rials: r.get(3),
        })
        .collect())
}

/// Order instants and amounts (for the Jalali-month table, grouped by the caller), newest
/// `limit` orders; `female_head_only` keeps the female heads' shops.
pub async fn sales_instants(
    store: &Store,
    province: Option<&str>,
    female_head_only: bool,
) -> Result<Vec<(i64, i64)>> {
    Ok(sqlx::query(
        "SELECT o.created_at, o.total_rials FROM market_orders o \
         JOIN market_producers s ON s.id = o.producer_id JOIN market_purchases u ON u.id = o.purchase_id \
         WHERE o.status NOT IN ('cancelled', 'returned') AND u.payment_status NOT IN ('pending', 'expired', 'void') \
         AND ($1 = '' OR s.province_code = $1) AND ($2 = 0 OR s.female_head = 1) \
         ORDER BY o.id DESC LIMIT 200000",
    )
    .bind(province.unwrap_or("").to_owned())
    .bind(crate::flag(female_head_only))
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect())
}

/// Counts for the demo's idempotence and the bench.
pub async fn count(store: &Store, table: &'static str) -> Result<i64> {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    Ok(sqlx::query(AssertSqlSafe(sql))
        .fetch_one(store.pool())
        .await?
        .get(0))
}

/// A transaction on the store (re-exported for the app's convenience).
pub async fn begin(store: &Store) -> Result<Tx> {
    store.begin().await
}

/// Persons the registry holds as female heads of household (the demo links producers to them).
pub async fn female_head_persons(store: &Store, limit: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query(
        "SELECT head_person_id FROM households WHERE female_head = 1 \
         AND head_person_id IS NOT NULL ORDER BY id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|r| r.get::<i64, _>(0))
    .collect())
}

// ---------------------------------------------------------------------------------------------
// Feed keys

#[derive(Debug, Clone, Serialize)]
pub struct FeedKey {
    pub id: i64,
    pub consumer: String,
    pub key_id: String,
    /// The secret that signs the consumer's feed (HMAC-SHA256); shown to the admin once.
    pub secret: String,
    pub active: bool,
    pub created_at: i64,
}

fn feed_key_from_row(r: &AnyRow) -> FeedKey {
    FeedKey {
        id: r.get(0),
        consumer: r.get(1),
        key_id: r.get(2),
        secret: r.get(3),
        active: r.get::<i64, _>(4) != 0,
        created_at: r.get(5),
    }
}

pub async fn create_feed_key(
    conn: &mut AnyConnection,
    consumer: &str,
    key_id: &str,
    secret: &str,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO market_feed_keys (consumer, key_id, secret, active, created_at) \
         VALUES ($1, $2, $3, 1, $4) RETURNING id",
    )
    .bind(consumer.to_owned())
    .bind(key_id.to_owned())
    .bind(secret.to_owned())
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.get(0))
}

pub async fn feed_key(store: &Store, key_id: &str) -> Result<Option<FeedKey>> {
    Ok(sqlx::query(
        "SELECT id, consumer, key_id, secret, active, created_at FROM market_feed_keys WHERE key_id = $1",
    )
    .bind(key_id.to_owned())
    .fetch_optional(store.pool())
    .await?
    .as_ref()
    .map(feed_key_from_row))
}

pub async fn feed_keys(store: &Store) -> Result<Vec<FeedKey>> {
    Ok(sqlx::query(
        "SELECT id, consumer, key_id, secret, active, created_at FROM market_feed_keys ORDER BY id DESC LIMIT 200",
    )
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(feed_key_from_row)
    .collect())
}

pub async fn set_feed_key_active(conn: &mut AnyConnection, id: i64, active: bool) -> Result<()> {
    sqlx::query("UPDATE market_feed_keys SET active = $1 WHERE id = $2")
        .bind(crate::flag(active))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Bulk production orders

#[derive(Debug, Clone, Serialize)]
pub struct Bulk {
    pub id: i64,
    pub title: String,
    pub category: String,
    pub pieces: i64,
    pub taken: i64,
    pub unit_price_rials: i64,
    pub organisation: String,
    pub status: String,
    pub created_at: i64,
}

fn bulk_from_row(r: &AnyRow) -> Bulk {
    Bulk {
        id: r.get(0),
        title: r.get(1),
        category: r.get(2),
        pieces: r.get(3),
        taken: r.get(4),
        unit_price_rials: r.get(5),
        organisation: r.get(6),
        status: r.get(7),
        created_at: r.get(8),
    }
}

const BULK_COLUMNS: &str =
    "id, title, category, pieces, taken, unit_price_rials, organisation, status, created_at";

#[allow(clippy::too_many_arguments)]
pub async fn create_bulk(
    conn: &mut AnyConnection,
    title: &str,
    category: &str,
    pieces: i64,
    unit_price: i64,
    organisation: &str,
    by: Option<i64>,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO market_bulk_orders (title, category, pieces, taken, unit_price_rials, posted_by, \
         organisation, status, created_at) VALUES ($1, $2, $3, 0, $4, $5, $6, 'open', $7) RETURNING id",
    )
    .bind(title.to_owned())
    .bind(category.to_owned())
    .bind(pieces)
    .bind(unit_price)
    .bind(by)
    .bind(organisation.to_owned())
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.get(0))
}

pub async fn bulks(store: &Store, limit: i64) -> Result<Vec<Bulk>> {
    let sql = format!("SELECT {BULK_COLUMNS} FROM market_bulk_orders ORDER BY id DESC LIMIT $1");
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(limit)
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(bulk_from_row)
        .collect())
}

pub async fn bulk(conn: &mut AnyConnection, id: i64) -> Result<Option<Bulk>> {
    let sql = format!("SELECT {BULK_COLUMNS} FROM market_bulk_orders WHERE id = $1");
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(bulk_from_row))
}

/// Takes `pieces` of an open bulk order (guarded: never more than it asks for).
pub async fn take_bulk(conn: &mut AnyConnection, id: i64, pieces: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE market_bulk_orders SET taken = taken + $1 \
         WHERE id = $2 AND status = 'open' AND taken + $1 <= pieces",
    )
    .bind(pieces)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, Serialize)]
pub struct BulkPart {
    pub id: i64,
    pub bulk_id: i64,
    pub producer_id: i64,
    pub shop_name: String,
    pub pieces: i64,
    pub accepted: i64,
    pub status: String,
    pub created_at: i64,
}

pub async fn add_bulk_part(
    conn: &mut AnyConnection,
    bulk_id: i64,
    producer_id: i64,
    pieces: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO market_bulk_parts (bulk_id, producer_id, pieces, accepted, status, created_at) \
         VALUES ($1, $2, $3, 0, 'taken', $4) RETURNING id",
    )
    .bind(bulk_id)
    .bind(producer_id)
    .bind(pieces)
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.get(0))
}

const PART_SELECT: &str = "SELECT b.id, b.bulk_id, b.producer_id, s.shop_name, b.pieces, b.accepted, \
     b.status, b.created_at FROM market_bulk_parts b JOIN market_producers s ON s.id = b.producer_id";

fn part_from_row(r: &AnyRow) -> BulkPart {
    BulkPart {
        id: r.get(0),
        bulk_id: r.get(1),
        producer_id: r.get(2),
        shop_name: r.get(3),
        pieces: r.get(4),
        accepted: r.get(5),
        status: r.get(6),
        created_at: r.get(7),
    }
}

/// Parts of a bulk order (`bulk`), or of a producer (`producer`).
pub async fn bulk_parts(
    store: &Store,
    bulk: Option<i64>,
    producer: Option<i64>,
) -> Result<Vec<BulkPart>> {
    let sql = format!(
        "{PART_SELECT} WHERE ($1 = 0 OR b.bulk_id = $1) AND ($2 = 0 OR b.producer_id = $2) ORDER BY b.id"
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(bulk.unwrap_or(0))
        .bind(producer.unwrap_or(0))
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(part_from_row)
        .collect())
}

pub async fn bulk_part(conn: &mut AnyConnection, id: i64) -> Result<Option<BulkPart>> {
    let sql = format!("{PART_SELECT} WHERE b.id = $1");
    Ok(sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(part_from_row))
}

/// Records the accepted pieces of a delivered part, once (guarded on its status).
pub async fn accept_bulk_part(conn: &mut AnyConnection, id: i64, accepted: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE market_bulk_parts SET accepted = $1, status = 'accepted' \
         WHERE id = $2 AND status = 'taken' AND $1 <= pieces",
    )
    .bind(accepted)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Refreshes the planner's statistics of the catalogue's tables (after a bulk load such as the
/// benchmark's; autovacuum does it in time on a live PostgreSQL).
pub async fn analyze(store: &Store) -> Result<()> {
    let sql = match store.engine() {
        Engine::Postgres => "ANALYZE market_products, market_certificates, market_producers",
        Engine::Sqlite => "ANALYZE",
    };
    sqlx::query(sql).execute(store.pool()).await?;
    Ok(())
}
