//! Producers and their products: sign-up with a one-time code, her shop, certificates the
//! office checks, products and photos; the public catalogue; the office's queue, links to the
//! registry and sales figures.

use hamdeli_domain::market::policy::MarketAction;
use hamdeli_domain::market::{self as dm, limits, sheba};
use hamdeli_domain::{Action, Principal, Role, Scope};
use hamdeli_store::market::{self as sm, Certificate, Producer, Product};
use hamdeli_store::{Store, campaigns, users};

use super::{audit_guest, own_shop, resolve_county, resolve_province, search_key, text};
use crate::sms::SmsSender;
use crate::{Caller, Error, Result, audit_write};

// ---------------------------------------------------------------------------------------------
// Public catalogue

/// The public catalogue (listed products only).
pub async fn catalogue(store: &Store, q: &str, f: sm::Filter) -> Result<Vec<Product>> {
    let f = sm::Filter {
        q_key: search_key(q),
        ..f
    };
    Ok(sm::public_products(store, &f).await?)
}

/// One listed product; an unlisted one (expired certificate, withdrawn) looks absent.
pub async fn public_product(store: &Store, id: i64) -> Result<Product> {
    let mut conn = store.pool().acquire().await?;
    sm::product(&mut conn, id)
        .await?
        .filter(|p| p.visible)
        .ok_or(Error::NotFound)
}

/// A product's photo if it is listed (or the signed-in owner's own).
pub async fn photo(store: &Store, principal: Option<&Principal>, id: i64) -> Result<Vec<u8>> {
    let mut conn = store.pool().acquire().await?;
    let p = sm::product(&mut conn, id).await?.ok_or(Error::NotFound)?;
    drop(conn);
    let mine = match principal {
        Some(pr) => own_shop(store, pr)
            .await
            .is_ok_and(|s| s.id == p.producer_id),
        None => false,
    };
    if !p.visible && !mine {
        return Err(Error::NotFound);
    }
    sm::photo(store, id).await?.ok_or(Error::NotFound)
}

// ---------------------------------------------------------------------------------------------
// Sign-up with a one-time code

/// Codes per number per hour.
const CODES_PER_MOBILE: i64 = 3;
const CODE_WINDOW_MILLIS: i64 = 3_600_000;

/// The first step: a code goes to the mobile. `message` makes the text from the code.
pub async fn start_signup(
    store: &Store,
    sms: &dyn SmsSender,
    key: &[u8],
    mobile: &str,
    shop_name: &str,
    message: impl Fn(&str) -> String,
) -> Result<String> {
    let mobile = hamdeli_text::parse_mobile(mobile)
        .map_err(|_| Error::Invalid("market-field-mobile"))?
        .as_str()
        .to_owned();
    let shop = text(shop_name, limits::MAX_TITLE).ok_or(Error::Invalid("market-field-shop"))?;
    if users::id_by_username(store, &mobile).await?.is_some()
        || sm::producer_by_mobile(store, &mobile).await?.is_some()
    {
        return Err(Error::Conflict("market-mobile-taken"));
    }
    let now = hamdeli_store::now_millis();
    if hamdeli_store::sessions::reserve_window(
        store,
        &format!("market-signup:{mobile}"),
        CODES_PER_MOBILE,
        CODE_WINDOW_MILLIS,
        now,
    )
    .await?
    .is_none()
    {
        return Err(Error::Conflict("signup-code-too-many"));
    }
    let code = campaigns::new_signup_code();
    let hash = campaigns::signup_code_hash(key, &mobile, &code);
    sm::put_signup_code(store, &mobile, &shop, &hash, now).await?;
    if let Err(e) = sms.send(&mobile, &message(&code)).await {
        tracing::warn!(error = %e, "a producer's sign-up code could not be sent");
        return Err(Error::Conflict("signup-code-not-sent"));
    }
    Ok(mobile)
}

/// What the second step of sign-up needs besides the code.
#[derive(Debug, Clone)]
pub struct SignupInput {
    pub mobile: String,
    pub code: String,
    pub password: String,
    pub province: String,
    pub county: String,
    pub categories: Vec<String>,
}

/// The second step: the right code creates her account (role producer) and her shop, in one
/// transaction with its audit entry. Returns the new user's id.
pub async fn finish_signup(
    store: &Store,
    client_addr: &str,
    key: &[u8],
    input: &SignupInput,
) -> Result<i64> {
    let mobile = hamdeli_text::parse_mobile(&input.mobile)
        .map_err(|_| Error::Invalid("market-field-mobile"))?
        .as_str()
        .to_owned();
    hamdeli_store::passwords::check_strength(&input.password).map_err(Error::Invalid)?;
    let province = resolve_province(store, &input.province)
        .await?
        .ok_or(Error::Invalid("market-field-province"))?;
    let county = resolve_county(store, &province.code, &input.county)
        .await?
        .ok_or(Error::Invalid("market-field-county"))?;
    let categories = categories(&input.categories)?;
    let code: String = input
        .code
        .chars()
        .map(hamdeli_text::digits::fold_digit)
        .filter(|c| !c.is_whitespace())
        .collect();
    let hash = campaigns::signup_code_hash(key, &mobile, &code);
    let now = hamdeli_store::now_millis();
    let mut tx = store.begin().await?;
    let Some(shop_name) = sm::try_signup_code(&mut tx, &mobile, &hash, now).await? else {
        tx.commit().await?;
        return Err(Error::Invalid("signup-code-wrong"));
    };
    let user = match users::create(
        &mut tx,
        users::NewUser {
            username: mobile.clone(),
            display_name: shop_name.clone(),
            password: input.password.clone(),
            role: Role::Producer,
            scope: Scope::Own,
            locale: "fa".into(),
            is_demo: false,
        },
    )
    .await
    {
        Ok(id) => id,
        Err(e)
            if e.is_unique_violation() || matches!(e, hamdeli_store::StoreError::Conflict(_)) =>
        {
            return Err(Error::Conflict("market-mobile-taken"));
        }
        Err(e) => return Err(e.into()),
    };
    let id = sm::create_producer(
        &mut tx,
        &sm::NewProducer {
            user_id: user,
            shop_name: &shop_name,
            mobile: &mobile,
            province_code: &province.code,
            county_code: &county.code,
            categories: &categories,
        },
    )
    .await?;
    audit_guest(
        &mut tx,
        client_addr,
        "market.producer.signup",
        "market_producer",
        id.to_string(),
        serde_json::json!({ "province": province.code, "county": county.code }),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

fn categories(given: &[String]) -> Result<String> {
    let mut out: Vec<&str> = vec![];
    for c in given {
        let c = c.trim();
        if c.is_empty() {
            continue;
        }
        if !dm::is_category(c) {
            return Err(Error::Invalid("market-field-category"));
        }
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out.join(","))
}

/// What a producer's shop form gives.
#[derive(Debug, Clone, Default)]
pub struct ShopInput {
    pub shop_name: String,
    pub mobile: String,
    pub province: String,
    pub county: String,
    pub categories: Vec<String>,
    pub about: String,
    /// Empty: none yet.
    pub sheba: String,
}

/// A producer signed in without a shop opens it (the demo's producer, an account the admin
/// made). Returns the shop's id.
pub async fn open_shop(store: &Store, caller: &Caller<'_>, input: &ShopInput) -> Result<i64> {
    caller
        .principal
        .authorize(Action::Market(MarketAction::OpenShop))?;
    let user = caller.principal.user_id.ok_or(Error::Denied)?;
    let shop =
        text(&input.shop_name, limits::MAX_TITLE).ok_or(Error::Invalid("market-field-shop"))?;
    let mobile = hamdeli_text::parse_mobile(&input.mobile)
        .map_err(|_| Error::Invalid("market-field-mobile"))?;
    let province = resolve_province(store, &input.province)
        .await?
        .ok_or(Error::Invalid("market-field-province"))?;
    let county = resolve_county(store, &province.code, &input.county)
        .await?
        .ok_or(Error::Invalid("market-field-county"))?;
    let cats = categories(&input.categories)?;
    let mut tx = store.begin().await?;
    let id = sm::create_producer(
        &mut tx,
        &sm::NewProducer {
            user_id: user,
            shop_name: &shop,
            mobile: mobile.as_str(),
            province_code: &province.code,
            county_code: &county.code,
            categories: &cats,
        },
    )
    .await?;
    audit_write(
        &mut tx,
        caller,
        "market.producer.open",
        "market_producer",
        id.to_string(),
        serde_json::json!({ "province": province.code }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Her shop's name, description, categories and payout account (Sheba checked).
pub async fn update_shop(store: &Store, caller: &Caller<'_>, input: &ShopInput) -> Result<()> {
    let shop = own_shop(store, caller.principal).await?;
    let name =
        text(&input.shop_name, limits::MAX_TITLE).ok_or(Error::Invalid("market-field-shop"))?;
    let about = input.about.trim();
    if about.chars().count() > limits::MAX_TEXT {
        return Err(Error::Invalid("market-field-about"));
    }
    let sheba = match input.sheba.trim() {
        "" => None,
        s => Some(sheba::parse(s).map_err(|e| Error::Invalid(e.code()))?),
    };
    let cats = categories(&input.categories)?;
    let mut tx = store.begin().await?;
    sm::update_shop(&mut tx, shop.id, &name, about, &cats, sheba.as_deref()).await?;
    audit_write(
        &mut tx,
        caller,
        "market.producer.update",
        "market_producer",
        shop.id.to_string(),
        serde_json::json!({ "sheba_set": sheba.is_some() }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Her certificates.
pub async fn my_certificates(store: &Store, caller: &Caller<'_>) -> Result<Vec<Certificate>> {
    let shop = own_shop(store, caller.principal).await?;
    Ok(sm::certificates_of(store, shop.id).await?)
}

/// A conformity certificate or health licence, waiting for the office's check.
pub async fn add_certificate(
    store: &Store,
    caller: &Caller<'_>,
    kind: &str,
    number: &str,
    issuer: &str,
    expires_on: &str,
) -> Result<i64> {
    let shop = own_shop(store, caller.principal).await?;
    let kind = match kind.trim() {
        k @ ("conformity" | "health") => k,
        _ => return Err(Error::Invalid("market-field-cert-kind")),
    };
    let number = text(number, 60).ok_or(Error::Invalid("market-field-cert-number"))?;
    let issuer =
        text(issuer, limits::MAX_TITLE).ok_or(Error::Invalid("market-field-cert-issuer"))?;
    let expires =
        hamdeli_locale_date(expires_on).ok_or(Error::Invalid("market-field-cert-expiry"))?;
    let mut tx = store.begin().await?;
    let id = sm::add_certificate(&mut tx, shop.id, kind, &number, &issuer, &expires).await?;
    audit_write(
        &mut tx,
        caller,
        "market.certificate.add",
        "market_certificate",
        id.to_string(),
        serde_json::json!({ "kind": kind, "expires_on": expires }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// An ISO date from a form: ISO or Jalali (`1405/09/16`), any digits.
fn hamdeli_locale_date(s: &str) -> Option<String> {
    let d = hamdeli_text::parse_date(s.trim()).ok()?;
    Some(d.iso()?.to_string())
}

/// What a product form gives.
#[derive(Debug, Clone, Default)]
pub struct ProductInput {
    pub title: String,
    pub description: String,
    pub category: String,
    pub price_rials: i64,
    pub stock: i64,
    pub weight_grams: i64,
    /// Province codes, comma-separated; empty: everywhere.
    pub delivers_to: String,
    pub certificate_id: Option<i64>,
    pub active: bool,
}

/// Lists a new product (`id` None) or changes one of hers. Returns its id.
pub async fn save_product(
    store: &Store,
    caller: &Caller<'_>,
    id: Option<i64>,
    input: &ProductInput,
) -> Result<i64> {
    let shop = own_shop(store, caller.principal).await?;
    let title =
        text(&input.title, limits::MAX_TITLE).ok_or(Error::Invalid("market-field-title"))?;
    let description = input.description.trim();
    if description.chars().count() > limits::MAX_TEXT {
        return Err(Error::Invalid("market-field-description"));
    }
    if !dm::is_category(input.category.trim()) {
        return Err(Error::Invalid("market-field-category"));
    }
    if !(1..=limits::MAX_PRICE_RIALS).contains(&input.price_rials) {
        return Err(Error::Invalid("market-field-price"));
    }
    if !(0..=limits::MAX_STOCK).contains(&input.stock) {
        return Err(Error::Invalid("market-field-stock"));
    }
    if !(0..=1_000_000).contains(&input.weight_grams) {
        return Err(Error::Invalid("market-field-weight"));
    }
    let delivers: Vec<&str> = input
        .delivers_to
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if delivers.len() > 31
        || delivers
            .iter()
            .any(|d| d.len() != 2 || !d.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(Error::Invalid("market-field-delivers"));
    }
    let delivers = delivers.join(",");
    if let Some(c) = input.certificate_id {
        let mut conn = store.pool().acquire().await?;
        let cert = sm::certificate(&mut conn, c).await?;
        if cert.is_none_or(|c| c.producer_id != shop.id) {
            return Err(Error::Invalid("market-field-certificate"));
        }
    }
    let key = search_key(&title);
    let n = sm::NewProduct {
        producer_id: shop.id,
        certificate_id: input.certificate_id,
        province_code: &shop.province_code,
        category: input.category.trim(),
        title: &title,
        title_key: &key,
        description,
        price_rials: input.price_rials,
        stock: input.stock,
        weight_grams: input.weight_grams,
        delivers_to: &delivers,
    };
    let mut tx = store.begin().await?;
    let id = match id {
        None => sm::create_product(&mut tx, &n).await?,
        Some(id) => {
            let existing = sm::product(&mut tx, id)
                .await?
                .filter(|p| p.producer_id == shop.id)
                .ok_or(Error::NotFound)?;
            sm::update_product(&mut tx, existing.id, &n, input.active).await?;
            existing.id
        }
    };
    audit_write(
        &mut tx,
        caller,
        "market.product.save",
        "market_product",
        id.to_string(),
        serde_json::json!({ "price_rials": input.price_rials, "stock": input.stock }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Her products (listed or not).
pub async fn my_products(store: &Store, caller: &Caller<'_>) -> Result<Vec<Product>> {
    let shop = own_shop(store, caller.principal).await?;
    Ok(sm::products_of(store, shop.id).await?)
}

/// One of her products.
pub async fn my_product(store: &Store, caller: &Caller<'_>, id: i64) -> Result<Product> {
    let shop = own_shop(store, caller.principal).await?;
    let mut conn = store.pool().acquire().await?;
    sm::product(&mut conn, id)
        .await?
        .filter(|p| p.producer_id == shop.id)
        .ok_or(Error::NotFound)
}

/// A product's photo, already resized and stripped of metadata (JPEG bytes).
pub async fn set_photo(store: &Store, caller: &Caller<'_>, id: i64, jpeg: Vec<u8>) -> Result<()> {
    let p = my_product(store, caller, id).await?;
    if jpeg.is_empty() || jpeg.len() > 2 * 1024 * 1024 {
        return Err(Error::Invalid("market-photo-invalid"));
    }
    let mut tx = store.begin().await?;
    let size = jpeg.len();
    sm::set_photo(&mut tx, p.id, jpeg).await?;
    audit_write(
        &mut tx,
        caller,
        "market.product.photo",
        "market_product",
        p.id.to_string(),
        serde_json::json!({ "bytes": size }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Office

/// The province an officer works in (`None`: the national admin's whole country).
fn office_province(p: &Principal) -> Result<Option<String>> {
    match (&p.role, &p.scope) {
        (Role::NationalAdmin, _) => Ok(None),
        (Role::ProvincialOfficer, Scope::Province { province }) => Ok(Some(province.clone())),
        _ => Err(Error::Denied),
    }
}

/// Certificates waiting for a check, in the officer's province.
pub async fn pending_certificates(store: &Store, caller: &Caller<'_>) -> Result<Vec<Certificate>> {
    let province = office_province(caller.principal)?;
    Ok(sm::pending_certificates(store, province.as_deref()).await?)
}

/// Approves or rejects a pending certificate of the officer's province.
pub async fn decide_certificate(
    store: &Store,
    caller: &Caller<'_>,
    id: i64,
    approve: bool,
) -> Result<()> {
    let mut tx = store.begin().await?;
    let cert = sm::certificate(&mut tx, id).await?.ok_or(Error::NotFound)?;
    caller
        .principal
        .authorize(Action::Market(MarketAction::CheckProducer {
            province: &cert.province_code,
        }))
        .map_err(|_| Error::NotFound)?;
    if !sm::decide_certificate(&mut tx, id, approve, caller.principal.user_id).await? {
        return Err(Error::Conflict("market-certificate-decided"));
    }
    audit_write(
        &mut tx,
        caller,
        if approve {
            "market.certificate.approve"
        } else {
            "market.certificate.reject"
        },
        "market_certificate",
        id.to_string(),
        serde_json::json!({ "producer": cert.producer_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Producers of the officer's province (the office sees female-head status; buyers never).
pub async fn office_producers(store: &Store, caller: &Caller<'_>) -> Result<Vec<Producer>> {
    let province = office_province(caller.principal)?;
    let list = sm::producers(store, province.as_deref(), 1000).await?;
    crate::audit_read(
        store,
        caller,
        "market.producers.read",
        "market_producer",
        province.unwrap_or_else(|| "all".into()),
        serde_json::json!({ "rows": list.len() }),
    )
    .await?;
    Ok(list)
}

/// Links a producer to her registry person (by the person's id) with her female-head status
/// as the registry says it; `None` unlinks.
pub async fn link_producer(
    store: &Store,
    caller: &Caller<'_>,
    producer_id: i64,
    person_id: Option<i64>,
) -> Result<bool> {
    let mut tx = store.begin().await?;
    let shop = sm::producer(&mut tx, producer_id)
        .await?
        .ok_or(Error::NotFound)?;
    caller
        .principal
        .authorize(Action::Market(MarketAction::CheckProducer {
            province: &shop.province_code,
        }))
        .map_err(|_| Error::NotFound)?;
    let female_head = match person_id {
        None => false,
        Some(pid) => {
            // Only a person of the office's own registry scope (the search shows no other).
            let person = match crate::registry::person_in_scope(store, caller.principal, pid).await
            {
                Ok(p) => p,
                Err(Error::NotFound | Error::Denied) => {
                    return Err(Error::Invalid("market-person-unknown"));
                }
                Err(e) => return Err(e),
            };
            hamdeli_store::persons::heads_a_female_headed_household(store, person.id).await?
        }
    };
    sm::link_person(
        &mut tx,
        producer_id,
        person_id,
        female_head,
        caller.principal.user_id,
    )
    .await?;
    audit_write(
        &mut tx,
        caller,
        "market.producer.link",
        "market_producer",
        producer_id.to_string(),
        serde_json::json!({ "person": person_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(female_head)
}

/// The registry persons an office may link a producer to: the registry's search (inside the
/// caller's scope, audited) by the name or national code typed; with the producer.
pub async fn find_person_for_producer(
    store: &Store,
    caller: &Caller<'_>,
    producer_id: i64,
    typed: &str,
) -> Result<(Producer, Vec<hamdeli_store::persons::PersonHit>)> {
    let shop = {
        let mut tx = store.begin().await?;
        let shop = sm::producer(&mut tx, producer_id).await?;
        tx.rollback().await?;
        shop.ok_or(Error::NotFound)?
    };
    caller
        .principal
        .authorize(Action::Market(MarketAction::CheckProducer {
            province: &shop.province_code,
        }))
        .map_err(|_| Error::NotFound)?;
    if typed.chars().count() > 200 {
        return Err(Error::Invalid("market-person-search-empty"));
    }
    let query = hamdeli_registry::search::parse_query(typed)
        .filter(|q| !q.is_empty())
        .ok_or(Error::Invalid("market-person-search-empty"))?;
    let hits = crate::registry::search(store, caller, &query).await?.hits;
    Ok((shop, hits))
}

/// Sales tables for the office: by province, by category, by female-head status.
pub async fn sales(
    store: &Store,
    caller: &Caller<'_>,
    by: sm::SalesBy,
) -> Result<Vec<sm::SalesRow>> {
    caller
        .principal
        .authorize(Action::Market(MarketAction::ViewSales))?;
    let province = office_province(caller.principal)?;
    Ok(sm::sales(store, by, province.as_deref()).await?)
}

/// Sales by Jalali month (`1405-09`), all producers or the female heads' only.
pub async fn sales_by_month(
    store: &Store,
    caller: &Caller<'_>,
    female_head_only: bool,
) -> Result<Vec<(String, i64, i64)>> {
    caller
        .principal
        .authorize(Action::Market(MarketAction::ViewSales))?;
    let province = office_province(caller.principal)?;
    let mut months: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
    for (at, rials) in sm::sales_instants(store, province.as_deref(), female_head_only).await? {
        let m = hamdeli_registry::import::jalali_period(at);
        let e = months.entry(m).or_default();
        e.0 += 1;
        e.1 = e.1.saturating_add(rials);
    }
    Ok(months.into_iter().map(|(m, (n, r))| (m, n, r)).collect())
}
