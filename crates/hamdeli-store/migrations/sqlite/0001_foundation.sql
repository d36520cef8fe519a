-- Foundation schema, SQLite. Keep in step with ../postgres/0001_foundation.sql:
-- the schema-parity test compares both. Instants are Unix milliseconds (UTC).

CREATE TABLE provinces (
    code TEXT PRIMARY KEY NOT NULL,
    iso_3166_2 TEXT NOT NULL UNIQUE,
    name_en TEXT NOT NULL,
    name_fa TEXT NOT NULL,
    capital_fa TEXT NOT NULL,
    population_1395 INTEGER NOT NULL
);

CREATE TABLE counties (
    code TEXT PRIMARY KEY NOT NULL,
    province_code TEXT NOT NULL REFERENCES provinces (code),
    name_fa TEXT NOT NULL,
    name_en TEXT NOT NULL,
    UNIQUE (province_code, name_fa)
);
CREATE INDEX counties_province ON counties (province_code);

CREATE TABLE organisations (
    id INTEGER PRIMARY KEY NOT NULL,
    name_fa TEXT NOT NULL UNIQUE,
    name_en TEXT NOT NULL,
    kind TEXT NOT NULL,
    province_code TEXT REFERENCES provinces (code),
    is_demo INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    scope_province TEXT REFERENCES provinces (code),
    scope_county TEXT REFERENCES counties (code),
    scope_organisation INTEGER REFERENCES organisations (id),
    locale TEXT NOT NULL DEFAULT 'fa',
    active INTEGER NOT NULL DEFAULT 1,
    is_demo INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,
    password_changed_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX users_scope ON users (scope_province, scope_county);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    client_addr TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY NOT NULL,
    prefix TEXT NOT NULL UNIQUE,
    key_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    scope_province TEXT REFERENCES provinces (code),
    scope_county TEXT REFERENCES counties (code),
    scope_organisation INTEGER REFERENCES organisations (id),
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY NOT NULL,
    at INTEGER NOT NULL,
    actor_user_id INTEGER,
    actor_api_key_id INTEGER,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    client_addr TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id, at);
CREATE INDEX audit_log_target ON audit_log (target_kind, target_id);

-- The audit log is append-only: the database itself refuses to change or remove an entry.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
