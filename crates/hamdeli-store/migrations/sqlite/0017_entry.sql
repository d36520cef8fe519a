-- People and households entered by hand (issue 12, deliverable 2), SQLite. Keep in step with
-- ../postgres/0017_entry.sql.
--
-- A hand-entered person is a source record of the office's own "manual entry" list (one batch
-- per entry, file format 'manual'), so linkage, coverage and provenance read it like any list.

-- Who entered a household by hand (NULL for households an import or reference list built).
ALTER TABLE households ADD COLUMN created_by INTEGER REFERENCES users (id);

-- Every change to a person entered or edited by hand: the field, the value before and after,
-- who and when. record_id is the manual-entry record the change was written to.
CREATE TABLE person_edits (
    id INTEGER PRIMARY KEY NOT NULL,
    person_id INTEGER NOT NULL REFERENCES persons (id),
    record_id INTEGER REFERENCES source_records (id),
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    edited_by INTEGER REFERENCES users (id),
    edited_at INTEGER NOT NULL
);
CREATE INDEX person_edits_person ON person_edits (person_id, id);

-- The same for a household's facts and its members' relations (field 'relation:<person id>').
CREATE TABLE household_edits (
    id INTEGER PRIMARY KEY NOT NULL,
    household_id INTEGER NOT NULL REFERENCES households (id),
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    edited_by INTEGER REFERENCES users (id),
    edited_at INTEGER NOT NULL
);
CREATE INDEX household_edits_household ON household_edits (household_id, id);
