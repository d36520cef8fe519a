-- Needs, priority weights, campaigns, donors, pledges and donations, allocations, deliveries
-- and the support ledger (capabilities B and C), SQLite. Keep in step with
-- ../postgres/0005_needs_distribution.sql. Need types and weights are seeded by the store from
-- hamdeli-domain's defaults.

CREATE TABLE need_types (
    code TEXT PRIMARY KEY NOT NULL,
    name_fa TEXT NOT NULL,
    name_en TEXT NOT NULL,
    -- rial (money) or unit (goods, sessions, items)
    unit TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    sort INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE needs (
    id INTEGER PRIMARY KEY NOT NULL,
    person_id INTEGER NOT NULL REFERENCES persons (id),
    household_id INTEGER REFERENCES households (id),
    need_type TEXT NOT NULL REFERENCES need_types (code),
    -- rials or units, as the need type's unit says
    amount INTEGER NOT NULL,
    -- what committed allocations gave; an allocation never takes it above amount
    allocated INTEGER NOT NULL DEFAULT 0,
    -- low, normal, high, critical
    urgency TEXT NOT NULL,
    -- open, verified, partly_met, met, closed
    status TEXT NOT NULL,
    note TEXT,
    province_code TEXT REFERENCES provinces (code),
    county_code TEXT REFERENCES counties (code),
    zone TEXT,
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL,
    verified_by INTEGER REFERENCES users (id),
    verified_at INTEGER,
    updated_at INTEGER NOT NULL
);
CREATE INDEX needs_person ON needs (person_id);
CREATE INDEX needs_household ON needs (household_id);
CREATE INDEX needs_place ON needs (province_code, county_code, need_type, status);

-- The published weights of the priority score's indicators, in points.
CREATE TABLE priority_weights (
    indicator TEXT PRIMARY KEY NOT NULL,
    weight INTEGER NOT NULL,
    updated_by INTEGER REFERENCES users (id),
    updated_at INTEGER NOT NULL
);

CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    -- the partner organisation running it; NULL for an office
    organisation_id INTEGER REFERENCES organisations (id),
    -- the eligible area; NULL province: the whole country
    province_code TEXT REFERENCES provinces (code),
    county_code TEXT REFERENCES counties (code),
    goal_rials INTEGER NOT NULL DEFAULT 0,
    -- ISO dates, both inclusive
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    -- active, closed
    status TEXT NOT NULL,
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL
);

-- The need types a campaign serves, with a goal in units for goods (0: no goods goal).
CREATE TABLE campaign_need_types (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    need_type TEXT NOT NULL REFERENCES need_types (code),
    goal_units INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, need_type)
);

-- What a campaign holds to give: money (resource 'money', in rials) or goods of one need type
-- (in units). Donations add to received, committed allocations to allocated; allocated never
-- passes received.
CREATE TABLE campaign_pools (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    resource TEXT NOT NULL,
    received INTEGER NOT NULL DEFAULT 0,
    allocated INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, resource)
);

CREATE TABLE donors (
    id INTEGER PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL UNIQUE REFERENCES users (id),
    -- 09xxxxxxxxx
    mobile TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

-- A donor's promise; an office's record of receipt makes it a donation with a receipt code.
CREATE TABLE pledges (
    id INTEGER PRIMARY KEY NOT NULL,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    donor_id INTEGER NOT NULL REFERENCES donors (id),
    resource TEXT NOT NULL,
    amount INTEGER NOT NULL,
    -- pledged, received, cancelled
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    received_amount INTEGER,
    bank_reference TEXT,
    receipt_code TEXT UNIQUE,
    received_by INTEGER REFERENCES users (id),
    received_at INTEGER,
    ledger_seq INTEGER
);
CREATE INDEX pledges_campaign ON pledges (campaign_id, status);
CREATE INDEX pledges_donor ON pledges (donor_id);

CREATE TABLE allocation_batches (
    id INTEGER PRIMARY KEY NOT NULL,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    resource TEXT NOT NULL,
    -- water-fill, priority
    policy TEXT NOT NULL,
    pool INTEGER NOT NULL,
    total INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX allocation_batches_campaign ON allocation_batches (campaign_id);

-- What a batch gave one need; a delivery closes it.
CREATE TABLE allocations (
    id INTEGER PRIMARY KEY NOT NULL,
    batch_id INTEGER NOT NULL REFERENCES allocation_batches (id),
    need_id INTEGER NOT NULL REFERENCES needs (id),
    person_id INTEGER NOT NULL REFERENCES persons (id),
    need_type TEXT NOT NULL,
    units INTEGER NOT NULL,
    -- the allocation weight times 1000
    weight_milli INTEGER NOT NULL,
    reason TEXT NOT NULL,
    province_code TEXT,
    county_code TEXT,
    zone TEXT,
    -- pending, delivered, failed
    status TEXT NOT NULL,
    -- the code the recipient gives at delivery
    delivery_code TEXT NOT NULL,
    delivered_by INTEGER REFERENCES users (id),
    delivered_at INTEGER,
    note TEXT,
    UNIQUE (batch_id, need_id)
);
CREATE INDEX allocations_need ON allocations (need_id);
CREATE INDEX allocations_status ON allocations (status, county_code);

-- Every piece of support a person receives from any organisation: deliveries of allocations,
-- and the support lists of other organisations brought in from the registry.
CREATE TABLE support_ledger (
    id INTEGER PRIMARY KEY NOT NULL,
    person_id INTEGER NOT NULL REFERENCES persons (id),
    organisation_id INTEGER REFERENCES organisations (id),
    need_type TEXT NOT NULL,
    -- rials or units; 0 when the organisation's list does not say
    amount INTEGER NOT NULL,
    -- the Jalali year and month, 1405-09
    period TEXT NOT NULL,
    at INTEGER NOT NULL,
    -- delivery, import
    source TEXT NOT NULL,
    allocation_id INTEGER UNIQUE REFERENCES allocations (id),
    source_record_id INTEGER UNIQUE REFERENCES source_records (id)
);
CREATE INDEX support_ledger_person ON support_ledger (person_id, need_type, period);
CREATE INDEX support_ledger_period ON support_ledger (period, need_type);
