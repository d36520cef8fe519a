-- Capability F (issue 15): the databank of capable women and their consent, volunteer
-- specialists, social emergency centres and their cases, and NGOs' licences, lifecycle and
-- training (keyed by the organisation). Keep in step with the other engine's 0021_network.sql.

-- A capable woman's profile, entered by an office or by herself (mobile and a one-time code).
CREATE TABLE network_women (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    mobile TEXT UNIQUE,
    field TEXT NOT NULL,
    education TEXT NOT NULL,
    achievements TEXT NOT NULL,
    -- As typed, one per comma; `skills_key` is `|skill|skill|` normalised for search.
    skills TEXT NOT NULL,
    skills_key TEXT NOT NULL,
    languages TEXT NOT NULL,
    province_code TEXT NOT NULL REFERENCES provinces (code),
    county_code TEXT NOT NULL REFERENCES counties (code),
    contact TEXT NOT NULL,
    -- office | all_offices | public | withdrawn; every change in network_consent_history.
    consent TEXT NOT NULL,
    self_service INTEGER NOT NULL DEFAULT 0,
    entered_by INTEGER REFERENCES users (id),
    is_demo INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX network_women_place ON network_women (province_code, field);
CREATE INDEX network_women_consent ON network_women (consent, province_code);

CREATE TABLE network_consent_history (
    id INTEGER PRIMARY KEY NOT NULL,
    woman_id INTEGER NOT NULL REFERENCES network_women (id),
    consent TEXT NOT NULL,
    -- office (recorded by staff) | self (by her, after a one-time code)
    source TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX network_consent_history_woman ON network_consent_history (woman_id, at);

-- One-time codes for a woman's self-service and a volunteer's sign-up (hashed; ten minutes,
-- five tries).
CREATE TABLE network_codes (
    purpose TEXT NOT NULL,
    mobile TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (purpose, mobile)
);

-- A woman's proven mobile: a short self-service session (the token hashed), no password.
CREATE TABLE network_self_sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    mobile TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

-- A volunteer specialist (a user with the volunteer role, or entered by an office).
CREATE TABLE network_volunteers (
    id INTEGER PRIMARY KEY NOT NULL,
    user_id INTEGER UNIQUE REFERENCES users (id),
    name TEXT NOT NULL,
    mobile TEXT NOT NULL,
    gender TEXT NOT NULL,
    specialty TEXT NOT NULL,
    licence_number TEXT NOT NULL,
    licence_issuer TEXT NOT NULL,
    licence_expires_on TEXT NOT NULL,
    languages TEXT NOT NULL,
    remote INTEGER NOT NULL DEFAULT 0,
    province_code TEXT NOT NULL REFERENCES provinces (code),
    -- Hours a week, and the days (a bit per day, Saturday first).
    weekly_hours INTEGER NOT NULL,
    days INTEGER NOT NULL DEFAULT 0,
    -- pending | verified | rejected | suspended
    status TEXT NOT NULL,
    status_note TEXT NOT NULL DEFAULT '',
    checked_by INTEGER REFERENCES users (id),
    checked_at INTEGER,
    -- Cases assigned to her and not closed (kept in the transaction of each step).
    open_cases INTEGER NOT NULL DEFAULT 0,
    is_demo INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX network_volunteers_match ON network_volunteers (specialty, status, remote);
CREATE INDEX network_volunteers_province ON network_volunteers (province_code, status);
CREATE INDEX network_volunteers_expiry ON network_volunteers (status, licence_expires_on);

CREATE TABLE network_volunteer_counties (
    volunteer_id INTEGER NOT NULL REFERENCES network_volunteers (id),
    county_code TEXT NOT NULL REFERENCES counties (code),
    PRIMARY KEY (volunteer_id, county_code)
);
CREATE INDEX network_volunteer_counties_county ON network_volunteer_counties (county_code, volunteer_id);

-- In-app notices to an office (e.g. a volunteer's licence expired and she was suspended).
CREATE TABLE network_notices (
    id INTEGER PRIMARY KEY NOT NULL,
    province_code TEXT NOT NULL REFERENCES provinces (code),
    kind TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id INTEGER NOT NULL,
    subject_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
CREATE INDEX network_notices_province ON network_notices (province_code, created_at);

-- A social emergency centre of a county.
CREATE TABLE network_centres (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    province_code TEXT NOT NULL REFERENCES provinces (code),
    county_code TEXT NOT NULL REFERENCES counties (code),
    is_demo INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX network_centres_place ON network_centres (province_code, county_code);

-- A case of a centre. client_name, client_phone and details are personal: only the centre's
-- staff and the assigned volunteer read them, every read audited.
CREATE TABLE network_cases (
    id INTEGER PRIMARY KEY NOT NULL,
    centre_id INTEGER NOT NULL REFERENCES network_centres (id),
    specialty TEXT NOT NULL,
    language TEXT NOT NULL,
    gender_preference TEXT,
    urgency TEXT NOT NULL,
    client_name TEXT NOT NULL,
    client_phone TEXT NOT NULL,
    details TEXT NOT NULL,
    -- open | assigned | accepted | closed
    state TEXT NOT NULL,
    volunteer_id INTEGER REFERENCES network_volunteers (id),
    assigned_at INTEGER,
    accepted_at INTEGER,
    outcome TEXT,
    closed_at INTEGER,
    created_by INTEGER REFERENCES users (id),
    is_demo INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX network_cases_centre ON network_cases (centre_id, state);
CREATE INDEX network_cases_volunteer ON network_cases (volunteer_id, state);

-- Volunteers who declined a case are not proposed for it again.
CREATE TABLE network_case_declines (
    case_id INTEGER NOT NULL REFERENCES network_cases (id),
    volunteer_id INTEGER NOT NULL REFERENCES network_volunteers (id),
    at INTEGER NOT NULL,
    PRIMARY KEY (case_id, volunteer_id)
);

CREATE TABLE network_case_sessions (
    id INTEGER PRIMARY KEY NOT NULL,
    case_id INTEGER NOT NULL REFERENCES network_cases (id),
    volunteer_id INTEGER NOT NULL REFERENCES network_volunteers (id),
    held_on TEXT NOT NULL,
    minutes INTEGER NOT NULL,
    note TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX network_case_sessions_case ON network_case_sessions (case_id);
CREATE INDEX network_case_sessions_volunteer ON network_case_sessions (volunteer_id);

-- An NGO's licence and lifecycle, keyed by its organisation (kind 'ngo').
CREATE TABLE network_ngos (
    organisation_id INTEGER PRIMARY KEY NOT NULL REFERENCES organisations (id),
    -- applied | verified | active | suspended | expired
    state TEXT NOT NULL,
    licence_issuer TEXT NOT NULL,
    licence_number TEXT NOT NULL,
    licence_expires_on TEXT NOT NULL,
    fields TEXT NOT NULL,
    province_code TEXT REFERENCES provinces (code),
    county_code TEXT REFERENCES counties (code),
    board TEXT NOT NULL,
    capacity INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX network_ngos_state ON network_ngos (state, licence_expires_on);

CREATE TABLE network_ngo_events (
    id INTEGER PRIMARY KEY NOT NULL,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    from_state TEXT,
    to_state TEXT NOT NULL,
    actor TEXT NOT NULL,
    note TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX network_ngo_events_org ON network_ngo_events (organisation_id, at);

CREATE TABLE network_trainings (
    id INTEGER PRIMARY KEY NOT NULL,
    organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    title TEXT NOT NULL,
    held_on TEXT NOT NULL,
    hours INTEGER NOT NULL,
    certificate TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX network_trainings_org ON network_trainings (organisation_id, held_on);
