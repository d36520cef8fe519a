-- Women's cooperatives and qard al-hasan loans (capability E, issue 14), SQLite.
-- Keep in step with ../postgres/0020_loans.sql. Money is integer rials; days are days since
-- 1970-01-01 (UTC calendar days of the Jalali due date); instants are Unix milliseconds.

CREATE TABLE loan_cooperatives (
    id INTEGER PRIMARY KEY NOT NULL,
    registration_no TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- what it does (tailoring, handicrafts, food, carpets, agriculture, services, …)
    field TEXT NOT NULL,
    province_code TEXT NOT NULL REFERENCES provinces (code),
    county_code TEXT NOT NULL REFERENCES counties (code),
    -- active, suspended, dissolved
    status TEXT NOT NULL,
    -- the partner organisation that registered it, if any
    organisation_id INTEGER REFERENCES organisations (id),
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX loan_cooperatives_place ON loan_cooperatives (province_code, county_code);

CREATE TABLE loan_cooperative_members (
    cooperative_id INTEGER NOT NULL REFERENCES loan_cooperatives (id),
    person_id INTEGER NOT NULL REFERENCES persons (id),
    -- chair, deputy, secretary, treasurer, board; NULL for a member not on the board
    board_role TEXT,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (cooperative_id, person_id)
);

CREATE TABLE loan_products (
    id INTEGER PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name_fa TEXT NOT NULL,
    name_en TEXT NOT NULL,
    -- service fee in ten-thousandths of a percent a year (25000 = 2.5 %)
    fee_units INTEGER NOT NULL,
    max_amount INTEGER NOT NULL,
    term_months INTEGER NOT NULL,
    grace_months INTEGER NOT NULL,
    -- who may apply: a comma list of person, home_business, cooperative
    applicants TEXT NOT NULL,
    -- 1: only female heads of household (checked against the registry)
    female_head_only INTEGER NOT NULL DEFAULT 1,
    -- campaign, bank_line, fund
    fund_source TEXT NOT NULL,
    fund_name TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

CREATE TABLE loans (
    id INTEGER PRIMARY KEY NOT NULL,
    loan_no TEXT NOT NULL UNIQUE,
    product_id INTEGER NOT NULL REFERENCES loan_products (id),
    -- person, home_business, cooperative
    applicant_kind TEXT NOT NULL,
    person_id INTEGER REFERENCES persons (id),
    cooperative_id INTEGER REFERENCES loan_cooperatives (id),
    -- the producer (user) who applied herself
    applicant_user_id INTEGER REFERENCES users (id),
    -- the partner organisation that originated it
    organisation_id INTEGER REFERENCES organisations (id),
    province_code TEXT NOT NULL,
    county_code TEXT NOT NULL,
    -- the registry said female head of household when the application was checked
    female_head INTEGER NOT NULL DEFAULT 0,
    amount INTEGER NOT NULL,
    months INTEGER NOT NULL,
    grace_months INTEGER NOT NULL,
    fee_units INTEGER NOT NULL,
    fee_total INTEGER NOT NULL DEFAULT 0,
    purpose TEXT NOT NULL,
    documents TEXT NOT NULL DEFAULT '',
    -- applied, approved, rejected, disbursed, repaid
    status TEXT NOT NULL,
    contract_no TEXT,
    -- the start date, Jalali YYYY/MM/DD: its day is the due day of every instalment
    start_jalali TEXT,
    paid_total INTEGER NOT NULL DEFAULT 0,
    deferred_months INTEGER NOT NULL DEFAULT 0,
    applied_at INTEGER NOT NULL,
    decided_at INTEGER,
    disbursed_at INTEGER,
    created_by INTEGER REFERENCES users (id)
);
CREATE INDEX loans_place ON loans (province_code, county_code, status);
CREATE INDEX loans_person ON loans (person_id);
CREATE INDEX loans_organisation ON loans (organisation_id);

CREATE TABLE loan_comments (
    id INTEGER PRIMARY KEY NOT NULL,
    loan_id INTEGER NOT NULL REFERENCES loans (id),
    -- comment, approve, reject, contract, disburse, deferral_request, deferral_decision
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    author_user_id INTEGER REFERENCES users (id),
    author_name TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX loan_comments_loan ON loan_comments (loan_id);

-- A disbursed loan's schedule. due_month is the Jalali month index (year × 12 + month − 1),
-- anchor_day the start's day; due_on the clamped date as days since 1970-01-01.
CREATE TABLE loan_instalments (
    loan_id INTEGER NOT NULL REFERENCES loans (id),
    n INTEGER NOT NULL,
    due_month INTEGER NOT NULL,
    anchor_day INTEGER NOT NULL,
    due_on INTEGER NOT NULL,
    principal INTEGER NOT NULL,
    fee INTEGER NOT NULL,
    total INTEGER NOT NULL,
    paid INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (loan_id, n)
);

-- (Jalali month index, start day) → the due date's day number, clamped to the month's length:
-- lets a bulk deferral move millions of instalments in one UPDATE. Filled by the store.
CREATE TABLE loan_calendar (
    month_index INTEGER NOT NULL,
    day INTEGER NOT NULL,
    due_on INTEGER NOT NULL,
    PRIMARY KEY (month_index, day)
);

CREATE TABLE loan_bulk_deferrals (
    id INTEGER PRIMARY KEY NOT NULL,
    province_code TEXT NOT NULL,
    county_code TEXT,
    female_head_only INTEGER NOT NULL,
    product_id INTEGER REFERENCES loan_products (id),
    -- the instalments due in this period (days) and after move
    due_from INTEGER NOT NULL,
    due_to INTEGER NOT NULL,
    months INTEGER NOT NULL,
    reason TEXT NOT NULL,
    loans INTEGER NOT NULL DEFAULT 0,
    instalments INTEGER NOT NULL DEFAULT 0,
    amount INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL
);

CREATE TABLE loan_deferrals (
    id INTEGER PRIMARY KEY NOT NULL,
    loan_id INTEGER NOT NULL REFERENCES loans (id),
    bulk_id INTEGER REFERENCES loan_bulk_deferrals (id),
    from_n INTEGER NOT NULL,
    months INTEGER NOT NULL,
    -- requested, approved, rejected
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    decided_at INTEGER,
    decided_by INTEGER REFERENCES users (id)
);
CREATE INDEX loan_deferrals_loan ON loan_deferrals (loan_id);
CREATE INDEX loan_deferrals_bulk ON loan_deferrals (bulk_id, loan_id);

CREATE TABLE loan_statements (
    id INTEGER PRIMARY KEY NOT NULL,
    file_name TEXT NOT NULL,
    rows_read INTEGER NOT NULL,
    rows_matched INTEGER NOT NULL,
    uploaded_by INTEGER REFERENCES users (id),
    uploaded_at INTEGER NOT NULL
);

CREATE TABLE loan_payments (
    id INTEGER PRIMARY KEY NOT NULL,
    loan_id INTEGER NOT NULL REFERENCES loans (id),
    amount INTEGER NOT NULL,
    -- ISO date it was paid
    paid_on TEXT NOT NULL,
    -- office, bank
    source TEXT NOT NULL,
    -- the bank's reference of a statement row (one payment per reference)
    bank_ref TEXT UNIQUE,
    statement_id INTEGER REFERENCES loan_statements (id),
    receipt_no TEXT NOT NULL UNIQUE,
    recorded_by INTEGER REFERENCES users (id),
    recorded_at INTEGER NOT NULL
);
CREATE INDEX loan_payments_loan ON loan_payments (loan_id);

-- Double-entry journal in integer rials: every entry's lines debit and credit the same sum.
-- Accounts: fund:<source> (the money lent), loan_receivable, fee_income, bank (repayments in).
CREATE TABLE loan_journal (
    id INTEGER PRIMARY KEY NOT NULL,
    entry TEXT NOT NULL,
    account TEXT NOT NULL,
    loan_id INTEGER REFERENCES loans (id),
    debit INTEGER NOT NULL,
    credit INTEGER NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX loan_journal_loan ON loan_journal (loan_id);
CREATE INDEX loan_journal_entry ON loan_journal (entry);

-- Every request that moves money carries a key: the first answer is kept and replayed.
CREATE TABLE loan_requests (
    idempotency_key TEXT PRIMARY KEY NOT NULL,
    action TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    result TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
