-- The market for women's home businesses (capability D, issue 13). Money in integer rials,
-- instants in UTC milliseconds, dates ISO. Keep in step with ../postgres/0019_market.sql.

-- A producer's shop: her user account, her workshop's place, her payout account; the office
-- links her to her registry person (female_head is shown to the office only, never to buyers).
CREATE TABLE market_producers (
    id INTEGER PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL UNIQUE REFERENCES users (id),
    shop_name TEXT NOT NULL,
    mobile TEXT NOT NULL UNIQUE,
    province_code TEXT NOT NULL REFERENCES provinces (code),
    county_code TEXT NOT NULL REFERENCES counties (code),
    categories TEXT NOT NULL DEFAULT '',
    about TEXT NOT NULL DEFAULT '',
    sheba TEXT,
    person_id INTEGER REFERENCES persons (id),
    female_head INTEGER NOT NULL DEFAULT 0,
    linked_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX market_producers_province ON market_producers (province_code);

-- A conformity certificate or health licence; the provincial office checks it. Products it
-- covers are listed only while it is approved and not expired.
CREATE TABLE market_certificates (
    id INTEGER PRIMARY KEY NOT NULL,
    producer_id INTEGER NOT NULL REFERENCES market_producers (id),
    kind TEXT NOT NULL,
    number TEXT NOT NULL,
    issuer TEXT NOT NULL,
    expires_on TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    checked_by INTEGER REFERENCES users (id),
    checked_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX market_certificates_producer ON market_certificates (producer_id);
CREATE INDEX market_certificates_status ON market_certificates (status);

-- A product; `stock` is what is left to order (reserved by a guarded UPDATE, never negative).
CREATE TABLE market_products (
    id INTEGER PRIMARY KEY NOT NULL,
    producer_id INTEGER NOT NULL REFERENCES market_producers (id),
    certificate_id INTEGER REFERENCES market_certificates (id),
    province_code TEXT NOT NULL REFERENCES provinces (code),
    category TEXT NOT NULL,
    title TEXT NOT NULL,
    title_key TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    price_rials INTEGER NOT NULL CHECK (price_rials >= 0),
    stock INTEGER NOT NULL CHECK (stock >= 0),
    weight_grams INTEGER NOT NULL DEFAULT 0,
    delivers_to TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1,
    has_photo INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX market_products_producer ON market_products (producer_id);
CREATE INDEX market_products_listing ON market_products (active, category, province_code, created_at);
CREATE INDEX market_products_price ON market_products (active, price_rials);

-- A product's photo, resized and stripped of metadata on upload (JPEG).
CREATE TABLE market_photos (
    product_id INTEGER PRIMARY KEY NOT NULL REFERENCES market_products (id),
    jpeg BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

-- A buyer's purchase (one checkout); it is split into one order per producer.
CREATE TABLE market_purchases (
    id INTEGER PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    buyer_name TEXT NOT NULL,
    buyer_mobile TEXT NOT NULL,
    province_code TEXT NOT NULL REFERENCES provinces (code),
    county_code TEXT NOT NULL REFERENCES counties (code),
    address TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    payment_method TEXT NOT NULL,
    payment_status TEXT NOT NULL,
    total_rials INTEGER NOT NULL,
    pay_by INTEGER,
    gateway_ref TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX market_purchases_pending ON market_purchases (payment_status, pay_by);

CREATE TABLE market_orders (
    id INTEGER PRIMARY KEY NOT NULL,
    purchase_id INTEGER NOT NULL REFERENCES market_purchases (id),
    producer_id INTEGER NOT NULL REFERENCES market_producers (id),
    status TEXT NOT NULL,
    total_rials INTEGER NOT NULL,
    commission_rials INTEGER NOT NULL,
    carrier TEXT,
    tracking_code TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX market_orders_purchase ON market_orders (purchase_id);
CREATE INDEX market_orders_producer ON market_orders (producer_id, created_at);

CREATE TABLE market_order_items (
    id INTEGER PRIMARY KEY NOT NULL,
    order_id INTEGER NOT NULL REFERENCES market_orders (id),
    product_id INTEGER NOT NULL REFERENCES market_products (id),
    title TEXT NOT NULL,
    category TEXT NOT NULL,
    unit_price_rials INTEGER NOT NULL,
    quantity INTEGER NOT NULL
);
CREATE INDEX market_order_items_order ON market_order_items (order_id);

-- The append-only history of orders and payments: every accepted step, never updated.
CREATE TABLE market_events (
    id INTEGER PRIMARY KEY NOT NULL,
    purchase_id INTEGER NOT NULL REFERENCES market_purchases (id),
    order_id INTEGER REFERENCES market_orders (id),
    kind TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor TEXT NOT NULL,
    note TEXT,
    at INTEGER NOT NULL
);
CREATE INDEX market_events_purchase ON market_events (purchase_id, id);

-- The double-entry ledger: a journal entry's postings add up to zero (debit positive, credit
-- negative). Accounts: platform_cash, producer_payable (with producer_id), commission_income.
CREATE TABLE market_journal (
    id INTEGER PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    purchase_id INTEGER REFERENCES market_purchases (id),
    order_id INTEGER REFERENCES market_orders (id),
    producer_id INTEGER REFERENCES market_producers (id),
    reference TEXT,
    at INTEGER NOT NULL
);
CREATE TABLE market_postings (
    id INTEGER PRIMARY KEY NOT NULL,
    journal_id INTEGER NOT NULL REFERENCES market_journal (id),
    account TEXT NOT NULL,
    producer_id INTEGER REFERENCES market_producers (id),
    amount_rials INTEGER NOT NULL
);
CREATE INDEX market_postings_account ON market_postings (account, producer_id);
CREATE INDEX market_postings_journal ON market_postings (journal_id);

-- One-time codes of producers' sign-up (hashed), ten minutes and five tries each.
CREATE TABLE market_signup_codes (
    mobile TEXT PRIMARY KEY NOT NULL,
    shop_name TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

-- Orders per client address per minute (the public API's limit), counted in the database.
CREATE TABLE market_rate (
    client TEXT NOT NULL,
    minute INTEGER NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (client, minute)
);

-- Keys of feed consumers (online stores, price-comparison sites): the key signs the feed.
CREATE TABLE market_feed_keys (
    id INTEGER PRIMARY KEY NOT NULL,
    consumer TEXT NOT NULL,
    key_id TEXT NOT NULL UNIQUE,
    secret TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

-- Bulk production orders (masks and gowns): an organisation posts N pieces at a unit price;
-- producers take parts; accepted pieces are paid through the ledger.
CREATE TABLE market_bulk_orders (
    id INTEGER PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    category TEXT NOT NULL,
    pieces INTEGER NOT NULL CHECK (pieces > 0),
    taken INTEGER NOT NULL DEFAULT 0 CHECK (taken >= 0),
    unit_price_rials INTEGER NOT NULL,
    posted_by INTEGER REFERENCES users (id),
    organisation TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    created_at INTEGER NOT NULL,
    CHECK (taken <= pieces)
);
CREATE TABLE market_bulk_parts (
    id INTEGER PRIMARY KEY NOT NULL,
    bulk_id INTEGER NOT NULL REFERENCES market_bulk_orders (id),
    producer_id INTEGER NOT NULL REFERENCES market_producers (id),
    pieces INTEGER NOT NULL,
    accepted INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'taken',
    created_at INTEGER NOT NULL
);
CREATE INDEX market_bulk_parts_bulk ON market_bulk_parts (bulk_id);
