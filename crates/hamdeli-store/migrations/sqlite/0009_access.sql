-- What one organisation lets another see of the persons they both hold records of. No row is
-- the default "match": the other organisation learns only that a match exists and with whom.
CREATE TABLE data_sharing (
    from_organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    to_organisation_id INTEGER NOT NULL REFERENCES organisations (id),
    level TEXT NOT NULL CHECK (level IN ('match', 'full')),
    set_by INTEGER REFERENCES users (id),
    set_at INTEGER NOT NULL,
    PRIMARY KEY (from_organisation_id, to_organisation_id)
);
