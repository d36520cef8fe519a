-- Persons, households, coverage and the linkage review queue (capability A), SQLite.
-- Keep in step with ../postgres/0004_persons_households.sql.

-- A person's display values, chosen from its source records by linkage; provenance stays with
-- the source records. A person merged into another keeps its row and points at the survivor,
-- so old links still lead somewhere.
ALTER TABLE persons ADD COLUMN national_code TEXT;
ALTER TABLE persons ADD COLUMN first_name TEXT;
ALTER TABLE persons ADD COLUMN last_name TEXT;
ALTER TABLE persons ADD COLUMN father_name TEXT;
ALTER TABLE persons ADD COLUMN birth_date TEXT;
ALTER TABLE persons ADD COLUMN gender TEXT;
ALTER TABLE persons ADD COLUMN phone TEXT;
ALTER TABLE persons ADD COLUMN merged_into INTEGER REFERENCES persons (id);
CREATE INDEX persons_national_code ON persons (national_code);

-- What linking a batch into the registry did.
ALTER TABLE import_batches ADD COLUMN persons_created INTEGER NOT NULL DEFAULT 0;
ALTER TABLE import_batches ADD COLUMN records_joined INTEGER NOT NULL DEFAULT 0;
ALTER TABLE import_batches ADD COLUMN reviews_opened INTEGER NOT NULL DEFAULT 0;

-- Start of support as the list states it (Jalali or ISO as parsed, ISO stored).
ALTER TABLE source_records ADD COLUMN support_since TEXT;

CREATE TABLE households (
    id INTEGER PRIMARY KEY NOT NULL,
    reference TEXT UNIQUE,
    head_person_id INTEGER REFERENCES persons (id),
    province_code TEXT REFERENCES provinces (code),
    county_code TEXT REFERENCES counties (code),
    zone TEXT,
    address TEXT,
    female_head INTEGER NOT NULL DEFAULT 0,
    -- widowed, divorced, spouse_absent, spouse_incapacitated, never_married; NULL when not female-headed
    female_head_reason TEXT,
    dependants INTEGER NOT NULL DEFAULT 0,
    disability INTEGER NOT NULL DEFAULT 0,
    chronic_illness INTEGER NOT NULL DEFAULT 0,
    elderly INTEGER NOT NULL DEFAULT 0,
    bereaved_by_covid INTEGER NOT NULL DEFAULT 0,
    income_decile INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX households_place ON households (province_code, county_code);

CREATE TABLE household_members (
    person_id INTEGER PRIMARY KEY NOT NULL REFERENCES persons (id),
    household_id INTEGER NOT NULL REFERENCES households (id),
    -- head, spouse, child, parent, other
    relation TEXT NOT NULL
);
CREATE INDEX household_members_household ON household_members (household_id);

-- Pairs of source records linkage was unsure of, or refused to merge; a reviewer decides.
CREATE TABLE link_reviews (
    id INTEGER PRIMARY KEY NOT NULL,
    record_a INTEGER NOT NULL REFERENCES source_records (id),
    record_b INTEGER NOT NULL REFERENCES source_records (id),
    -- match probability in basis points (0..10000)
    probability_bp INTEGER NOT NULL,
    -- JSON: [[field, level code, weight in hundredths of a bit], ...]
    evidence TEXT NOT NULL,
    -- uncertain, national_code_conflict, person_conflict
    reason TEXT NOT NULL,
    -- open, merged, separated
    status TEXT NOT NULL,
    batch_id INTEGER REFERENCES import_batches (id),
    created_at INTEGER NOT NULL,
    decided_by INTEGER REFERENCES users (id),
    decided_at INTEGER,
    UNIQUE (record_a, record_b)
);
CREATE INDEX link_reviews_status ON link_reviews (status, id);

-- A reviewer said these two records are different people: linkage never joins them again.
CREATE TABLE link_separations (
    record_a INTEGER NOT NULL REFERENCES source_records (id),
    record_b INTEGER NOT NULL REFERENCES source_records (id),
    decided_by INTEGER REFERENCES users (id),
    decided_at INTEGER NOT NULL,
    PRIMARY KEY (record_a, record_b)
);
CREATE INDEX link_separations_b ON link_separations (record_b);
