//! Capability market: its use cases (authorise, transaction, store, audit, commit).
//!
//! Buyers are anonymous guests: the catalogue, placing an order, following it with its code and
//! the buyer's mobile and the payment gateway's return need no principal; they are audited with
//! the client's address. Producers act on their own shop only; the provincial office checks
//! certificates of its province; the national admin does everything.

use hamdeli_domain::market::money;
use hamdeli_domain::market::policy::MarketAction;
use hamdeli_domain::{Action, Principal, Role};
use hamdeli_store::market::{self as sm, Producer};
use hamdeli_store::{AnyConnection, Store, audit, geo, settings};

use crate::policy_doc::UseCase;
use crate::{Caller, Error, Result, audit_write};

pub mod bulk;
pub mod orders;
pub mod photos;
pub mod producers;

pub use bulk::*;
pub use orders::*;
pub use producers::*;

/// The rows of `docs/access.md` for capability market.
pub(crate) const DOC_USE_CASES: &[UseCase] = &[
    UseCase {
        name: "market: open a shop (a producer signed in without one)",
        inside: |p| p.allows(&Action::Market(MarketAction::OpenShop)),
        outside: |_| false,
    },
    UseCase {
        name: "market: her shop, products, photos, certificates, orders (confirm, ship, deliver, cancel), balance",
        inside: |p| {
            p.allows(&Action::Market(MarketAction::ManageShop {
                owner_user: p.user_id.unwrap_or(0),
            }))
        },
        outside: |p| {
            p.allows(&Action::Market(MarketAction::ManageShop {
                owner_user: p.user_id.unwrap_or(0) + 1,
            }))
        },
    },
    UseCase {
        name: "market: check a producer's certificate, link her to her registry person",
        inside: |p| {
            p.allows(&Action::Market(MarketAction::CheckProducer {
                province: p.scope.province().unwrap_or("23"),
            }))
        },
        outside: |p| {
            p.allows(&Action::Market(MarketAction::CheckProducer {
                province: "07",
            }))
        },
    },
    UseCase {
        name: "market: sales by province, category, month and of female heads of household",
        inside: |p| p.allows(&Action::Market(MarketAction::ViewSales)),
        outside: |p| p.role == Role::NationalAdmin,
    },
    UseCase {
        name: "market: payouts to producers, commission, feed keys",
        inside: |p| p.allows(&Action::Market(MarketAction::ManagePayments)),
        outside: |p| p.allows(&Action::Market(MarketAction::ManagePayments)),
    },
    UseCase {
        name: "market: post a bulk production order, accept delivered pieces",
        inside: |p| p.allows(&Action::Market(MarketAction::PostBulkOrder)),
        outside: |_| false,
    },
    UseCase {
        name: "market: take part of a bulk production order",
        inside: |p| p.allows(&Action::Market(MarketAction::TakeBulkOrder)),
        outside: |_| false,
    },
];

/// Settings keys of the market.
pub const SETTING_COMMISSION_BPS: &str = "market_commission_bps";
pub const SETTING_ORDER_RATE: &str = "market_order_rate_per_minute";
pub const SETTING_PAYMENT_MINUTES: &str = "market_payment_minutes";
/// The environment variable that sets the order limit per client address per minute.
pub const ENV_ORDER_RATE: &str = "HAMDELI_ORDER_RATE_PER_MINUTE";
pub const DEFAULT_ORDER_RATE: i64 = 30;
pub const DEFAULT_PAYMENT_MINUTES: i64 = 30;

async fn setting_i64(store: &Store, key: &str) -> Result<Option<i64>> {
    Ok(settings::get(store, key)
        .await?
        .and_then(|v| v.trim().parse().ok()))
}

/// The platform's commission in basis points (0 unless configured).
pub async fn commission_bps(store: &Store) -> Result<i64> {
    Ok(setting_i64(store, SETTING_COMMISSION_BPS)
        .await?
        .unwrap_or(0)
        .clamp(0, money::MAX_COMMISSION_BPS))
}

/// Sets the commission (the national admin).
pub async fn set_commission(store: &Store, caller: &Caller<'_>, bps: i64) -> Result<()> {
    caller
        .principal
        .authorize(Action::Market(MarketAction::ManagePayments))?;
    if !(0..=money::MAX_COMMISSION_BPS).contains(&bps) {
        return Err(Error::Invalid("market-commission-invalid"));
    }
    settings::set(store, SETTING_COMMISSION_BPS, &bps.to_string()).await?;
    let mut tx = store.begin().await?;
    audit_write(
        &mut tx,
        caller,
        "market.commission",
        "setting",
        SETTING_COMMISSION_BPS.into(),
        serde_json::json!({ "bps": bps }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Orders a client address may place per minute: `HAMDELI_ORDER_RATE_PER_MINUTE`, else the
/// setting, else 30; 0 turns the limit off.
pub async fn order_rate(store: &Store) -> Result<i64> {
    if let Some(v) = std::env::var(ENV_ORDER_RATE)
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
    {
        return Ok(v.max(0));
    }
    Ok(setting_i64(store, SETTING_ORDER_RATE)
        .await?
        .unwrap_or(DEFAULT_ORDER_RATE)
        .max(0))
}

/// Counts an order attempt of the client; false when it is over the limit this minute.
pub async fn admit_order(store: &Store, client_addr: &str) -> Result<bool> {
    let limit = order_rate(store).await?;
    if limit == 0 {
        return Ok(true);
    }
    let minute = hamdeli_store::now_millis() / 60_000;
    let hits = sm::rate_hit(store, client_addr, minute).await?;
    Ok(hits <= limit)
}

/// Order look-ups (code and mobile: tracking, the API's lookup, a buyer's cancellation) an
/// address may make a minute.
pub const LOOKUPS_PER_ADDRESS_MINUTE: i64 = 20;
/// Failed look-ups of one order code (no order with that code and mobile) a minute, from any
/// address: a known code does not let anyone try more mobiles than this a minute, however many
/// addresses they have. Once they are used up, every look-up of the code from an address that
/// has not found (or placed) the order before is refused alike, right mobile or wrong, so the
/// refusal tells nothing; an address that has is not refused by the code's count.
pub const LOOKUPS_PER_CODE_MINUTE: i64 = 10;
/// How long an address that found an order with the right mobile (or placed it) is let through
/// a code over its failed look-ups: 24 hours after its last success.
pub const LOOKUP_REMEMBERED_MINUTES: i64 = 24 * 60;

/// An order look-up by code and mobile as the limits of this minute let it through.
#[derive(Debug)]
pub enum Lookup<T> {
    /// The look-up ran and found the order.
    Done(T),
    /// Refused (429): the address is over its look-ups this minute, or the code is over its
    /// failed look-ups this minute and the address has not found the order before.
    TooMany,
}

/// Remembers that `client_addr` may follow order `code` (it found it with the right mobile, or
/// placed it) for the next [`LOOKUP_REMEMBERED_MINUTES`].
pub async fn remember_lookup(store: &Store, code: &str, client_addr: &str) -> Result<()> {
    let minute = hamdeli_store::now_millis() / 60_000;
    sm::remember_lookup(store, code, client_addr, minute + LOOKUP_REMEMBERED_MINUTES).await?;
    Ok(())
}

/// An order's tracking by its code and the buyer's mobile (tracking, the API's lookup, the
/// check before a buyer's cancellation) under the look-up limits. Every look-up counts towards
/// its address's limit, checked before it runs. An address not remembered for the code holds
/// a place among the code's failed look-ups before it runs: past the limit it is refused
/// (`TooMany`) without looking, whatever the mobile; a look-up that finds the order gives its
/// place back and remembers the address. A remembered address is not refused by the code's
/// count (its failures still count).
pub async fn track_limited(
    store: &Store,
    client_addr: &str,
    code: &str,
    mobile: &str,
) -> Result<Lookup<Tracking>> {
    let minute = hamdeli_store::now_millis() / 60_000;
    let by_address = sm::rate_hit(store, &format!("lookup-addr:{client_addr}"), minute).await?;
    if by_address > LOOKUPS_PER_ADDRESS_MINUTE {
        return Ok(Lookup::TooMany);
    }
    // Only a well-formed code keys counts of its own (any other finds nothing anyway), so
    // made-up codes add no rows to the counter table.
    let code = code.trim().to_ascii_uppercase();
    if !hamdeli_domain::market::order::is_order_code(&code) {
        return track(store, &code, mobile).await.map(Lookup::Done);
    }
    let failed = format!("lookup-failed:{code}");
    let known = sm::lookup_remembered(store, &code, client_addr, minute).await?;
    // The place is held before looking (not counted after a failure), so concurrent guesses
    // cannot all get past a count not yet raised and tell a right mobile by its answer.
    let held = !known;
    if held && sm::rate_hit(store, &failed, minute).await? > LOOKUPS_PER_CODE_MINUTE {
        return Ok(Lookup::TooMany);
    }
    match track(store, &code, mobile).await {
        Ok(t) => {
            if held {
                sm::rate_unhit(store, &failed, minute).await?;
            }
            remember_lookup(store, &code, client_addr).await?;
            Ok(Lookup::Done(t))
        }
        Err(Error::NotFound) => {
            if !held {
                sm::rate_hit(store, &failed, minute).await?;
            }
            Err(Error::NotFound)
        }
        Err(e) => {
            if held {
                sm::rate_unhit(store, &failed, minute).await?;
            }
            Err(e)
        }
    }
}

/// How long an online payment may stay unpaid before its stock goes back.
pub async fn payment_window_millis(store: &Store) -> Result<i64> {
    Ok(setting_i64(store, SETTING_PAYMENT_MINUTES)
        .await?
        .unwrap_or(DEFAULT_PAYMENT_MINUTES)
        .clamp(1, 24 * 60)
        * 60_000)
}

/// The audit actor of an anonymous buyer or the gateway.
fn guest<'a>(client_addr: &'a str) -> audit::Actor<'a> {
    audit::Actor {
        principal: None,
        client_addr,
    }
}

async fn audit_guest(
    conn: &mut AnyConnection,
    client_addr: &str,
    action: &str,
    target_kind: &str,
    target_id: String,
    detail: serde_json::Value,
) -> Result<()> {
    audit::record(
        conn,
        &guest(client_addr),
        audit::Event {
            action,
            target_kind,
            target_id,
            detail,
        },
    )
    .await?;
    Ok(())
}

/// A text field trimmed and limited in length; `None` when empty.
fn text(s: &str, max: usize) -> Option<String> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > max {
        None
    } else {
        Some(t.to_owned())
    }
}

/// The search key of a title or a query: the registry's name normalisation (Arabic letters,
/// digits, ZWNJ and spaces folded), with LIKE's wildcards taken out.
pub fn search_key(s: &str) -> String {
    hamdeli_text::name_key(s)
        .chars()
        .filter(|c| !matches!(c, '%' | '_' | '\\'))
        .take(100)
        .collect()
}

/// A province by its code or its Persian/English name.
pub async fn resolve_province(store: &Store, given: &str) -> Result<Option<geo::Province>> {
    let g = given.trim();
    if g.is_empty() {
        return Ok(None);
    }
    let key = hamdeli_text::name_key(g);
    Ok(geo::all_provinces(store).await?.into_iter().find(|p| {
        p.code == g
            || p.iso_3166_2.eq_ignore_ascii_case(g)
            || hamdeli_text::name_key(&p.name_fa) == key
            || p.name_en.eq_ignore_ascii_case(g)
    }))
}

/// A county of the province by its code or its Persian/English name.
pub async fn resolve_county(
    store: &Store,
    province: &str,
    given: &str,
) -> Result<Option<geo::County>> {
    let g = given.trim();
    if g.is_empty() {
        return Ok(None);
    }
    let key = hamdeli_text::name_key(g);
    Ok(
        geo::counties_of(store, province, &hamdeli_domain::PlaceFilter::All)
            .await?
            .into_iter()
            .find(|c| {
                c.code == g
                    || hamdeli_text::name_key(&c.name_fa) == key
                    || c.name_en.eq_ignore_ascii_case(g)
            }),
    )
}

/// The shop of the signed-in producer (absent: `NotFound`), authorised for her.
pub async fn own_shop(store: &Store, p: &Principal) -> Result<Producer> {
    let user = p.user_id.ok_or(Error::Denied)?;
    let mut conn = store.pool().acquire().await?;
    let shop = sm::producer_by_user(&mut conn, user)
        .await?
        .ok_or(Error::NotFound)?;
    p.authorize(Action::Market(MarketAction::ManageShop {
        owner_user: shop.user_id,
    }))?;
    Ok(shop)
}

/// The signed-in producer's shop if she has one (a producer without one opens it first).
pub async fn my_shop(store: &Store, p: &Principal) -> Result<Option<Producer>> {
    match own_shop(store, p).await {
        Ok(s) => Ok(Some(s)),
        Err(Error::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}
