-- The transparency log publishes allocations and deliveries as daily aggregates (SQLite; keep in
-- step with ../postgres/). Each allocation and delivery is queued here in its own transaction;
-- once its day (Iran time) has closed it is counted into a published cell of at least five, or
-- held until it can be. No person and no time finer than the day is kept here.

CREATE TABLE ledger_events (
    id INTEGER PRIMARY KEY NOT NULL,
    -- allocation, delivery
    kind TEXT NOT NULL,
    -- allocated, delivered, failed
    status TEXT NOT NULL,
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    province_code TEXT,
    county_code TEXT,
    need_type TEXT NOT NULL,
    units INTEGER NOT NULL,
    -- the civil day in Iran, days since 1970-01-01
    day INTEGER NOT NULL,
    -- the log entry that counted it; NULL while held
    published_seq INTEGER
);
CREATE INDEX ledger_events_held ON ledger_events (day) WHERE published_seq IS NULL;

-- The last day whose aggregates were appended (NULL: none yet).
ALTER TABLE ledger_head ADD COLUMN closed_through INTEGER;
