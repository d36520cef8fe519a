-- scale (issue 17): the coverage report kept as tables, so that it answers in milliseconds at
-- national scale. SQLite. Keep in step with ../postgres/0023_scale.sql.
--
-- `coverage_persons` holds each unmerged person's coverage facts, `coverage_summary` their
-- counts per province, county and zone. Triggers on the tables the facts come from mark the
-- places whose facts changed in `scale_dirty`, in the writing transaction itself; the store
-- (hamdeli_store::scale::refresh) recomputes those places before a report reads the tables,
-- and `hamdeli admin rebuild-summaries` recomputes everything. A dirty place of ('*', '*')
-- means everything (a list's kind or programme changed).

CREATE TABLE coverage_persons (
    person_id INTEGER PRIMARY KEY NOT NULL,
    province_code TEXT NOT NULL,
    county_code TEXT NOT NULL,
    zone TEXT NOT NULL,
    orgs INTEGER NOT NULL,
    same_kind INTEGER NOT NULL,
    female_head INTEGER NOT NULL,
    -- The person's source records (the registry page's count).
    records INTEGER NOT NULL
);
CREATE INDEX coverage_persons_county ON coverage_persons (county_code, female_head, orgs);

CREATE TABLE coverage_summary (
    province_code TEXT NOT NULL,
    county_code TEXT NOT NULL,
    zone TEXT NOT NULL,
    persons INTEGER NOT NULL,
    covered_by_none INTEGER NOT NULL,
    covered_by_one INTEGER NOT NULL,
    covered_by_two INTEGER NOT NULL,
    covered_by_three_or_more INTEGER NOT NULL,
    same_kind_twice INTEGER NOT NULL,
    female_heads INTEGER NOT NULL,
    female_heads_uncovered INTEGER NOT NULL,
    records INTEGER NOT NULL,
    PRIMARY KEY (province_code, county_code, zone)
);

CREATE TABLE scale_dirty (
    id INTEGER PRIMARY KEY NOT NULL,
    province_code TEXT NOT NULL,
    county_code TEXT NOT NULL
);
CREATE INDEX scale_dirty_place ON scale_dirty (province_code, county_code);

-- Households were looked up by their head without an index (the coverage report, outreach).
CREATE INDEX households_head ON households (head_person_id);

-- The audit page's filters walk the newest entries of one action or actor by key.
CREATE INDEX audit_log_action_id ON audit_log (action, id);
CREATE INDEX audit_log_actor_id ON audit_log (actor, id);

-- Everything is dirty until the first refresh builds the tables.
INSERT INTO scale_dirty (province_code, county_code) VALUES ('*', '*');

-- One writer at a time on SQLite: a place is marked once until the next refresh.
CREATE TRIGGER scale_records_insert AFTER INSERT ON source_records WHEN NEW.person_id IS NOT NULL
BEGIN
    INSERT INTO scale_dirty (province_code, county_code)
    SELECT COALESCE(p.province_code, ''), COALESCE(p.county_code, '') FROM persons p
    WHERE p.id = NEW.person_id AND NOT EXISTS (SELECT 1 FROM scale_dirty d
        WHERE d.province_code = COALESCE(p.province_code, '') AND d.county_code = COALESCE(p.county_code, ''));
END;
CREATE TRIGGER scale_records_update AFTER UPDATE OF person_id, list_id ON source_records
WHEN OLD.person_id IS NOT NEW.person_id OR OLD.list_id IS NOT NEW.list_id
BEGIN
    INSERT INTO scale_dirty (province_code, county_code)
    SELECT DISTINCT COALESCE(p.province_code, ''), COALESCE(p.county_code, '') FROM persons p
    WHERE p.id IN (OLD.person_id, NEW.person_id) AND NOT EXISTS (SELECT 1 FROM scale_dirty d
        WHERE d.province_code = COALESCE(p.province_code, '') AND d.county_code = COALESCE(p.county_code, ''));
END;
CREATE TRIGGER scale_records_delete AFTER DELETE ON source_records WHEN OLD.person_id IS NOT NULL
BEGIN
    INSERT INTO scale_dirty (province_code, county_code)
    SELECT COALESCE(p.province_code, ''), COALESCE(p.county_code, '') FROM persons p
    WHERE p.id = OLD.person_id AND NOT EXISTS (SELECT 1 FROM scale_dirty d
        WHERE d.province_code = COALESCE(p.province_code, '') AND d.county_code = COALESCE(p.county_code, ''));
END;

CREATE TRIGGER scale_persons_insert AFTER INSERT ON persons
BEGIN
    INSERT INTO scale_dirty (province_code, county_code)
    SELECT COALESCE(NEW.province_code, ''), COALESCE(NEW.county_code, '')
    WHERE NOT EXISTS (SELECT 1 FROM scale_dirty d
        WHERE d.province_code = COALESCE(NEW.province_code, '') AND d.county_code = COALESCE(NEW.county_code, ''));
END;
CREATE TRIGGER scale_persons_update AFTER UPDATE OF province_code, county_code, zone, merged_into ON persons
WHEN OLD.province_code IS NOT NEW.province_code OR OLD.county_code IS NOT NEW.county_code
    OR OLD.zone IS NOT NEW.zone OR OLD.merged_into IS NOT NEW.merged_into
BEGIN
    INSERT INTO scale_dirty (province_code, county_code)
    SELECT COALESCE(OLD.province_code, ''), COALESCE(OLD.county_code, '')
    WHERE NOT EXISTS (SELECT 1 FROM scale_dirty d
        WHERE d.province_code = COALESCE(OLD.province_code, '') AND d.county_code = COALESCE(OLD.county_code, ''));
    INSERT INTO scale_dirty (province_code, county_code)
    SELECT COALESCE(NEW.province_code, ''), COALESCE(NEW.county_code, '')
    WHERE NOT EXISTS (SELECT 1 FROM scale_dirty d
        WHERE d.province_code = COALESCE(NEW.province_code, '') AND d.county_code = COALESCE(NEW.county_code, ''));
END;
CREATE TRIGGER scale_persons_delete AFTER DELETE ON persons
BEGIN
    INSERT INTO scale_dirty (province_code, county_code)
    SELECT COALESCE(OLD.province_code, ''), COALESCE(OLD.county_code, '')
    WHERE NOT EXISTS (SELECT 1 FROM scale_dirty d
        WHERE d.province_code = COALESCE(OLD.province_code, '') AND d.county_code = COALESCE(OLD.county_code, ''));
END;

CREATE TRIGGER scale_members_insert AFTER INSERT ON household_members
BEGIN
    INSERT INTO scale_dirty (province_code, county_code)
    SELECT COALESCE(p.province_code, ''), COALESCE(p.county_code, '') FROM persons p
    WHERE p.id = NEW.person_id AND NOT EXISTS (SELECT 1 FROM scale_dirty d
        WHERE d.province_code = COALESCE(p.province_code, '') AND d.county_code = COALESCE(p.county_code, ''));
END;
CREATE TRIGGER scale_members_update AFTER UPDATE ON household_members
BEGIN
    INSERT INTO scale_dirty (province_code, county_code)
    SELECT DISTINCT COALESCE(p.province_code, ''), COALESCE(p.county_code, '') FROM persons p
    WHERE p.id IN (OLD.person_id, NEW.person_id) AND NOT EXISTS (SELECT 1 FROM scale_dirty d
        WHERE d.province_code = COALESCE(p.province_code, '') AND d.county_code = COALESCE(p.county_code, ''));
END;
CREATE TRIGGER scale_members_delete AFTER DELETE ON household_members
BEGIN
    INSERT INTO scale_dirty (province_code, county_code)
    SELECT COALESCE(p.province_code, ''), COALESCE(p.county_code, '') FROM persons p
    WHERE p.id = OLD.person_id AND NOT EXISTS (SELECT 1 FROM scale_dirty d
        WHERE d.province_code = COALESCE(p.province_code, '') AND d.county_code = COALESCE(p.county_code, ''));
END;

-- A household's head (female head of household) and zone (its members' zone).
CREATE TRIGGER scale_households_insert AFTER INSERT ON households
BEGIN
    INSERT INTO scale_dirty (province_code, county_code)
    SELECT DISTINCT COALESCE(p.province_code, ''), COALESCE(p.county_code, '') FROM persons p
    WHERE (p.id = NEW.head_person_id OR p.id IN (SELECT m.person_id FROM household_members m WHERE m.household_id = NEW.id))
      AND NOT EXISTS (SELECT 1 FROM scale_dirty d
        WHERE d.province_code = COALESCE(p.province_code, '') AND d.county_code = COALESCE(p.county_code, ''));
END;
CREATE TRIGGER scale_households_update AFTER UPDATE OF head_person_id, female_head, zone ON households
WHEN OLD.head_person_id IS NOT NEW.head_person_id OR OLD.female_head IS NOT NEW.female_head
    OR OLD.zone IS NOT NEW.zone
BEGIN
    INSERT INTO scale_dirty (province_code, county_code)
    SELECT DISTINCT COALESCE(p.province_code, ''), COALESCE(p.county_code, '') FROM persons p
    WHERE (p.id IN (OLD.head_person_id, NEW.head_person_id)
           OR p.id IN (SELECT m.person_id FROM household_members m WHERE m.household_id = NEW.id))
      AND NOT EXISTS (SELECT 1 FROM scale_dirty d
        WHERE d.province_code = COALESCE(p.province_code, '') AND d.county_code = COALESCE(p.county_code, ''));
END;
CREATE TRIGGER scale_households_delete AFTER DELETE ON households
BEGIN
    INSERT INTO scale_dirty (province_code, county_code)
    SELECT DISTINCT COALESCE(p.province_code, ''), COALESCE(p.county_code, '') FROM persons p
    WHERE (p.id = OLD.head_person_id
           OR p.id IN (SELECT m.person_id FROM household_members m WHERE m.household_id = OLD.id))
      AND NOT EXISTS (SELECT 1 FROM scale_dirty d
        WHERE d.province_code = COALESCE(p.province_code, '') AND d.county_code = COALESCE(p.county_code, ''));
END;

-- A list's kind, organisation or programme, or a programme's kind of support: everything.
CREATE TRIGGER scale_lists_update AFTER UPDATE OF list_kind, programme_id, organisation_id ON source_lists
WHEN OLD.list_kind IS NOT NEW.list_kind OR OLD.programme_id IS NOT NEW.programme_id
    OR OLD.organisation_id IS NOT NEW.organisation_id
BEGIN
    INSERT INTO scale_dirty (province_code, county_code) VALUES ('*', '*');
END;
CREATE TRIGGER scale_lists_delete AFTER DELETE ON source_lists
BEGIN
    INSERT INTO scale_dirty (province_code, county_code) VALUES ('*', '*');
END;
CREATE TRIGGER scale_programmes_update AFTER UPDATE OF support_kind ON programmes
WHEN OLD.support_kind IS NOT NEW.support_kind
BEGIN
    INSERT INTO scale_dirty (province_code, county_code) VALUES ('*', '*');
END;
