-- Provincial thematic reports, the dashboard's figures and the province need index
-- (capability G, issue 16), SQLite. Keep in step with ../postgres/0022_reports.sql.

-- A data set the national office defines; each change of its definition is a new version.
CREATE TABLE report_datasets (
    id INTEGER PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name_fa TEXT NOT NULL,
    name_en TEXT NOT NULL,
    -- month, season, year
    period_type TEXT NOT NULL,
    -- province (each province reports) or county (each county reports)
    level TEXT NOT NULL,
    -- the day of the month after the period by which the report is due
    due_day INTEGER NOT NULL,
    -- the province codes that report, comma-separated; '' for every province
    provinces TEXT NOT NULL DEFAULT '',
    -- the current version
    version INTEGER NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Every version of a data set's definition (elements and rules, JSON).
CREATE TABLE report_dataset_versions (
    dataset_id INTEGER NOT NULL REFERENCES report_datasets (id),
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (dataset_id, version)
);

-- One report: a data set, a reporting place (a province, or a county of it) and a period.
CREATE TABLE reports (
    id INTEGER PRIMARY KEY NOT NULL,
    dataset_id INTEGER NOT NULL REFERENCES report_datasets (id),
    -- the definition version it was filled against
    version INTEGER NOT NULL,
    province_code TEXT NOT NULL REFERENCES provinces (code),
    -- '' for a province's own report
    county_code TEXT NOT NULL,
    -- 1404-07, 1404-S2, 1404
    period TEXT NOT NULL,
    -- draft, submitted, approved, accepted, returned
    status TEXT NOT NULL,
    -- ISO date (Gregorian) it is due
    due_on TEXT NOT NULL,
    -- the first submission (timeliness counts from it)
    submitted_at INTEGER,
    submitted_by INTEGER REFERENCES users (id),
    approved_at INTEGER,
    approved_by INTEGER REFERENCES users (id),
    accepted_at INTEGER,
    accepted_by INTEGER REFERENCES users (id),
    -- the last comment of a return or a reopening
    comment TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (dataset_id, province_code, county_code, period)
);
CREATE INDEX reports_period ON reports (dataset_id, period, status);
CREATE INDEX reports_status ON reports (status, province_code);

-- A report's values: part '' is the total, 'urban'/'rural' the parts of a disaggregated element.
CREATE TABLE report_values (
    report_id INTEGER NOT NULL REFERENCES reports (id),
    element TEXT NOT NULL,
    part TEXT NOT NULL,
    num_value INTEGER,
    text_value TEXT,
    PRIMARY KEY (report_id, element, part)
);

-- Accepted totals per data set, element, period and province, kept by accept and reopen, so
-- the dashboard never sums the values table.
CREATE TABLE report_rollup (
    dataset_id INTEGER NOT NULL REFERENCES report_datasets (id),
    element TEXT NOT NULL,
    period TEXT NOT NULL,
    province_code TEXT NOT NULL REFERENCES provinces (code),
    value INTEGER NOT NULL,
    reports INTEGER NOT NULL,
    PRIMARY KEY (dataset_id, element, period, province_code)
);

-- What happened to a report, in order (the audit log has it too).
CREATE TABLE report_events (
    id INTEGER PRIMARY KEY NOT NULL,
    report_id INTEGER NOT NULL REFERENCES reports (id),
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    comment TEXT,
    actor_user_id INTEGER REFERENCES users (id),
    actor_name TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX report_events_report ON report_events (report_id, id);

-- In-app reminders to a late reporter.
CREATE TABLE report_reminders (
    id INTEGER PRIMARY KEY NOT NULL,
    dataset_id INTEGER NOT NULL REFERENCES report_datasets (id),
    period TEXT NOT NULL,
    province_code TEXT NOT NULL REFERENCES provinces (code),
    -- '' for the province's own report
    county_code TEXT NOT NULL,
    sent_by INTEGER REFERENCES users (id),
    sent_at INTEGER NOT NULL
);
CREATE INDEX report_reminders_place ON report_reminders (province_code, sent_at);

-- Figures of Hamdeli's own data (registry, coverage, needs, aid …) per place and period,
-- computed by grouped queries when refreshed. period: a Jalali month (1404-07) or 'now'.
CREATE TABLE report_figures (
    indicator TEXT NOT NULL,
    period TEXT NOT NULL,
    province_code TEXT NOT NULL,
    -- '' for the province's total
    county_code TEXT NOT NULL,
    value INTEGER NOT NULL,
    computed_at INTEGER NOT NULL,
    PRIMARY KEY (indicator, period, province_code, county_code)
);

-- The need index's indicators, their direction and their weight in points.
CREATE TABLE index_indicators (
    code TEXT PRIMARY KEY NOT NULL,
    name_fa TEXT NOT NULL,
    name_en TEXT NOT NULL,
    -- own (from Hamdeli's figures) or imported (values per province imported from a file)
    source TEXT NOT NULL,
    -- higher_is_worse, higher_is_better
    direction TEXT NOT NULL,
    weight INTEGER NOT NULL,
    sort INTEGER NOT NULL
);

-- Every change of the weights (JSON code → points), who made it and why.
CREATE TABLE index_weight_history (
    id INTEGER PRIMARY KEY NOT NULL,
    weights TEXT NOT NULL,
    note TEXT,
    changed_by INTEGER REFERENCES users (id),
    changed_by_name TEXT NOT NULL,
    changed_at INTEGER NOT NULL
);

-- Imported values of an external indicator per province (value × 1000).
CREATE TABLE index_imported_values (
    indicator TEXT NOT NULL REFERENCES index_indicators (code),
    province_code TEXT NOT NULL REFERENCES provinces (code),
    value_milli INTEGER NOT NULL,
    -- the period the source states (free text, e.g. 1399)
    period TEXT NOT NULL,
    imported_by INTEGER REFERENCES users (id),
    imported_at INTEGER NOT NULL,
    PRIMARY KEY (indicator, province_code)
);

-- The indicators the national office starts with; it changes the weights on the index page.
INSERT INTO index_indicators (code, name_fa, name_en, source, direction, weight, sort) VALUES
    ('female_heads_uncovered_share', 'سهم زنان سرپرست خانوار بدون هیچ پوشش', 'Share of female heads covered by nobody', 'own', 'higher_is_worse', 40, 10),
    ('unmet_needs_per_1000', 'نیاز برآورده‌نشده به ازای هر هزار نفر', 'Unmet needs per 1,000 people in the registry', 'own', 'higher_is_worse', 30, 20),
    ('covid_case_rate', 'نرخ ابتلا به کرونا در صد هزار نفر', 'COVID cases per 100,000', 'imported', 'higher_is_worse', 15, 30),
    ('unemployment', 'نرخ بیکاری (درصد)', 'Unemployment rate (%)', 'imported', 'higher_is_worse', 15, 40);
