-- The outreach list in name order as a range read (issue 17): PostgreSQL. Keep in step with
-- ../sqlite/0036_coverage_names.sql.
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
CREATE OR REPLACE FUNCTION scale_persons_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO scale_dirty (province_code, county_code)
    SELECT COALESCE(o.province_code, ''), COALESCE(o.county_code, '')
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE o.province_code IS DISTINCT FROM n.province_code OR o.county_code IS DISTINCT FROM n.county_code
       OR o.zone IS DISTINCT FROM n.zone OR o.merged_into IS DISTINCT FROM n.merged_into
       OR o.first_name IS DISTINCT FROM n.first_name OR o.last_name IS DISTINCT FROM n.last_name
    UNION
    SELECT COALESCE(n.province_code, ''), COALESCE(n.county_code, '')
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE o.province_code IS DISTINCT FROM n.province_code OR o.county_code IS DISTINCT FROM n.county_code
       OR o.zone IS DISTINCT FROM n.zone OR o.merged_into IS DISTINCT FROM n.merged_into
       OR o.first_name IS DISTINCT FROM n.first_name OR o.last_name IS DISTINCT FROM n.last_name;
    RETURN NULL;
END;
$$;

-- The names are filled by the next refresh, which recomputes everything.
INSERT INTO scale_dirty (province_code, county_code) VALUES ('*', '*');
