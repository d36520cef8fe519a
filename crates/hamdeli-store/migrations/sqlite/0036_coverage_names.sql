-- The outreach list in name order as a range read (issue 17): SQLite. Keep in step with
-- ../postgres/0036_coverage_names.sql.
--
-- The county outreach page (female heads covered by no organisation, in name order) joined
-- `coverage_persons` to `persons` and sorted the whole county by name for every page: 340 ms
-- at 10M people. The names now live beside the coverage facts, and one index holds the page's
-- order, so a page is a walk of at most a page of index entries.
ALTER TABLE coverage_persons ADD COLUMN last_name TEXT NOT NULL DEFAULT '';
ALTER TABLE coverage_persons ADD COLUMN first_name TEXT NOT NULL DEFAULT '';
CREATE INDEX coverage_persons_outreach
    ON coverage_persons (county_code, female_head, orgs, last_name, first_name, person_id);

-- A renamed person's place is recomputed like a moved one's.
DROP TRIGGER scale_persons_update;
CREATE TRIGGER scale_persons_update
AFTER UPDATE OF province_code, county_code, zone, merged_into, first_name, last_name ON persons
WHEN OLD.province_code IS NOT NEW.province_code OR OLD.county_code IS NOT NEW.county_code
    OR OLD.zone IS NOT NEW.zone OR OLD.merged_into IS NOT NEW.merged_into
    OR OLD.first_name IS NOT NEW.first_name OR OLD.last_name IS NOT NEW.last_name
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

-- The names are filled by the next refresh, which recomputes everything.
INSERT INTO scale_dirty (province_code, county_code) VALUES ('*', '*');
