-- Registry (capability A), SQLite. Keep in step with ../postgres/0002_registry.sql.
-- A person is a cluster of source records; every stored value keeps its provenance
-- (organisation, list, import batch, row, time) through the source record it came from.

CREATE TABLE programmes (
    id INTEGER PRIMARY KEY NOT NULL,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    name_fa TEXT NOT NULL,
    name_en TEXT NOT NULL,
    support_kind TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (organisation_id, name_fa)
);

-- One organisation's list: who it supports in a programme, a survey, or a reference population.
CREATE TABLE source_lists (
    id INTEGER PRIMARY KEY NOT NULL,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    programme_id INTEGER REFERENCES programmes (id),
    name TEXT NOT NULL,
    list_kind TEXT NOT NULL,
    province_code TEXT REFERENCES provinces (code),
    county_code TEXT REFERENCES counties (code),
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL,
    UNIQUE (organisation_id, name)
);

CREATE TABLE import_batches (
    id INTEGER PRIMARY KEY NOT NULL,
    list_id INTEGER NOT NULL REFERENCES source_lists (id),
    file_name TEXT NOT NULL,
    file_format TEXT NOT NULL,
    status TEXT NOT NULL,
    rows_in INTEGER NOT NULL DEFAULT 0,
    rows_accepted INTEGER NOT NULL DEFAULT 0,
    rows_with_warnings INTEGER NOT NULL DEFAULT 0,
    rows_rejected INTEGER NOT NULL DEFAULT 0,
    rows_inserted INTEGER NOT NULL DEFAULT 0,
    rows_updated INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_by INTEGER REFERENCES users (id),
    started_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX import_batches_list ON import_batches (list_id, id);

-- What the per-row report says about each warned or rejected row.
CREATE TABLE import_problems (
    id INTEGER PRIMARY KEY NOT NULL,
    batch_id INTEGER NOT NULL REFERENCES import_batches (id) ON DELETE CASCADE,
    row_number INTEGER NOT NULL,
    severity TEXT NOT NULL,
    code TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX import_problems_batch ON import_problems (batch_id, row_number);

CREATE TABLE persons (
    id INTEGER PRIMARY KEY NOT NULL,
    province_code TEXT REFERENCES provinces (code),
    county_code TEXT REFERENCES counties (code),
    zone TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX persons_place ON persons (province_code, county_code);

CREATE TABLE source_records (
    id INTEGER PRIMARY KEY NOT NULL,
    list_id INTEGER NOT NULL REFERENCES source_lists (id),
    source_id TEXT NOT NULL,
    batch_id INTEGER NOT NULL REFERENCES import_batches (id),
    row_number INTEGER NOT NULL,
    imported_at INTEGER NOT NULL,
    national_code TEXT,
    national_code_raw TEXT,
    honorific TEXT,
    first_name TEXT,
    last_name TEXT,
    father_name TEXT,
    first_key TEXT,
    last_key TEXT,
    father_key TEXT,
    birth_date TEXT,
    birth_year_jalali INTEGER,
    gender TEXT,
    phone TEXT,
    province_code TEXT REFERENCES provinces (code),
    county_code TEXT REFERENCES counties (code),
    province_raw TEXT,
    county_raw TEXT,
    address TEXT,
    zone TEXT,
    extra TEXT NOT NULL DEFAULT '{}',
    person_id INTEGER REFERENCES persons (id),
    UNIQUE (list_id, source_id)
);
CREATE INDEX source_records_national_code ON source_records (national_code);
CREATE INDEX source_records_person ON source_records (person_id);
CREATE INDEX source_records_phone ON source_records (phone);
CREATE INDEX source_records_names ON source_records (last_key, first_key);
CREATE INDEX source_records_county ON source_records (county_code);
