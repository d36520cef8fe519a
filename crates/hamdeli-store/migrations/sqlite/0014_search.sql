-- Registry search as office users expect (issue 12, deliverable 6) and manual merges, SQLite.
-- Keep in step with ../postgres/0014_search.sql.

-- One word may be a first name: walk the first names in (first, last, person) order, as
-- source_records_names walks the last names.
CREATE INDEX source_records_first_names ON source_records (first_key, last_key, person_id);

-- The phonetic key of every name key the registry holds (first and last names), so a search
-- finds "طاهره" for "تاهره": the words' phonetic keys give the name keys to look up in the name
-- indexes. Filled by the search from the records added since `last_record_id`.
CREATE TABLE search_names (
    name_key TEXT PRIMARY KEY NOT NULL,
    phonetic_key TEXT NOT NULL
);
CREATE INDEX search_names_phonetic ON search_names (phonetic_key);
CREATE TABLE search_names_state (
    id INTEGER PRIMARY KEY NOT NULL,
    last_record_id INTEGER NOT NULL
);

-- A merge of two persons a user picked (not a review item), and what it moved, so that it can
-- be undone: `records` is the JSON array of the record ids that came from `gone_person`, and
-- `moved_household` says its household membership followed the survivor.
CREATE TABLE person_merges (
    id INTEGER PRIMARY KEY NOT NULL,
    keep_person INTEGER NOT NULL REFERENCES persons (id),
    gone_person INTEGER NOT NULL REFERENCES persons (id),
    records TEXT NOT NULL,
    moved_household INTEGER NOT NULL DEFAULT 0,
    merged_by INTEGER REFERENCES users (id),
    merged_at INTEGER NOT NULL,
    undone_by INTEGER REFERENCES users (id),
    undone_at INTEGER
);
CREATE INDEX person_merges_keep ON person_merges (keep_person, id);
CREATE INDEX person_merges_gone ON person_merges (gone_person, id);
