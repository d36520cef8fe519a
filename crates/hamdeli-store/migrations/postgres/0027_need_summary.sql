-- The national need tables kept as a summary (issue 17): PostgreSQL. Keep in step with
-- ../sqlite/0027_need_summary.sql.
--
-- `need_summary` holds, per grouping of the need tables (province, county, zone, type) and need
-- type, the count of needs, of distinct persons, and the sums of amount, allocated and
-- outstanding (amount - allocated over open, verified and partly met needs), exactly what
-- `needs::table` computes over every need. `need_summary_persons` counts each person's needs
-- per cell, so a person is counted once in a cell. Triggers on `needs` keep both exact in the
-- writing transaction (a need created, its status, amount, allocation, place, type or person
-- changed by a merge, a need removed): every write removes the old row's contribution and adds
-- the new one's. scale::rebuild (`hamdeli admin rebuild-summaries`) recomputes them.

CREATE TABLE need_summary_kinds (kind TEXT PRIMARY KEY NOT NULL);
INSERT INTO need_summary_kinds (kind) VALUES ('province'), ('county'), ('zone'), ('type');

CREATE TABLE need_summary (
    -- province, county, zone or type: the need table's grouping
    grp_kind TEXT NOT NULL,
    -- the group: a province or county code ('' unknown), a zone ('unknown'), a need type
    grp TEXT NOT NULL,
    need_type TEXT NOT NULL,
    needs BIGINT NOT NULL,
    persons BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    allocated BIGINT NOT NULL,
    outstanding BIGINT NOT NULL,
    PRIMARY KEY (grp_kind, grp, need_type)
);

-- How many needs each person has in a cell: the distinct persons of a cell are its rows.
CREATE TABLE need_summary_persons (
    grp_kind TEXT NOT NULL,
    grp TEXT NOT NULL,
    need_type TEXT NOT NULL,
    person_id BIGINT NOT NULL,
    needs BIGINT NOT NULL,
    PRIMARY KEY (grp_kind, grp, need_type, person_id)
);

-- Filled from the needs already there (also `hamdeli admin rebuild-summaries`, scale::rebuild).
INSERT INTO need_summary_persons (grp_kind, grp, need_type, person_id, needs)
SELECT k.kind, CASE k.kind WHEN 'province' THEN COALESCE(n.province_code, '') WHEN 'county' THEN COALESCE(n.county_code, '') WHEN 'zone' THEN COALESCE(n.zone, 'unknown') ELSE n.need_type END, n.need_type, n.person_id, COUNT(*)
FROM needs n CROSS JOIN need_summary_kinds k GROUP BY 1, 2, 3, 4;
INSERT INTO need_summary (grp_kind, grp, need_type, needs, persons, amount, allocated, outstanding)
SELECT k.kind, CASE k.kind WHEN 'province' THEN COALESCE(n.province_code, '') WHEN 'county' THEN COALESCE(n.county_code, '') WHEN 'zone' THEN COALESCE(n.zone, 'unknown') ELSE n.need_type END, n.need_type, COUNT(*), COUNT(DISTINCT n.person_id),
    COALESCE(SUM(n.amount), 0), COALESCE(SUM(n.allocated), 0), COALESCE(SUM(CASE WHEN n.status IN ('open', 'verified', 'partly_met') THEN n.amount - n.allocated ELSE 0 END), 0)
FROM needs n CROSS JOIN need_summary_kinds k GROUP BY 1, 2, 3;

-- Adds (s = 1) or removes (s = -1) one need's contribution.
CREATE FUNCTION need_summary_apply(n needs, s BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO need_summary_persons (grp_kind, grp, need_type, person_id, needs)
    SELECT k.kind, CASE k.kind WHEN 'province' THEN COALESCE(n.province_code, '') WHEN 'county' THEN COALESCE(n.county_code, '') WHEN 'zone' THEN COALESCE(n.zone, 'unknown') ELSE n.need_type END,
        n.need_type, n.person_id, s FROM need_summary_kinds k WHERE 1 = 1
    ON CONFLICT (grp_kind, grp, need_type, person_id)
    DO UPDATE SET needs = need_summary_persons.needs + excluded.needs;
    INSERT INTO need_summary (grp_kind, grp, need_type, needs, persons, amount, allocated, outstanding)
    SELECT k.kind, CASE k.kind WHEN 'province' THEN COALESCE(n.province_code, '') WHEN 'county' THEN COALESCE(n.county_code, '') WHEN 'zone' THEN COALESCE(n.zone, 'unknown') ELSE n.need_type END,
        n.need_type, s,
        (SELECT CASE WHEN sp.needs = (CASE WHEN s > 0 THEN 1 ELSE 0 END) THEN s ELSE 0 END FROM need_summary_persons sp
         WHERE sp.grp_kind = k.kind AND sp.grp = CASE k.kind WHEN 'province' THEN COALESCE(n.province_code, '') WHEN 'county' THEN COALESCE(n.county_code, '') WHEN 'zone' THEN COALESCE(n.zone, 'unknown') ELSE n.need_type END
         AND sp.need_type = n.need_type AND sp.person_id = n.person_id),
        s * (n.amount), s * (n.allocated), s * (CASE WHEN n.status IN ('open', 'verified', 'partly_met') THEN n.amount - n.allocated ELSE 0 END)
    FROM need_summary_kinds k WHERE 1 = 1
    ON CONFLICT (grp_kind, grp, need_type) DO UPDATE SET
        needs = need_summary.needs + excluded.needs,
        persons = need_summary.persons + excluded.persons,
        amount = need_summary.amount + excluded.amount,
        allocated = need_summary.allocated + excluded.allocated,
        outstanding = need_summary.outstanding + excluded.outstanding;
    DELETE FROM need_summary_persons WHERE needs = 0 AND need_type = n.need_type
        AND person_id = n.person_id
        AND (grp_kind, grp) IN (SELECT k.kind, CASE k.kind WHEN 'province' THEN COALESCE(n.province_code, '') WHEN 'county' THEN COALESCE(n.county_code, '') WHEN 'zone' THEN COALESCE(n.zone, 'unknown') ELSE n.need_type END FROM need_summary_kinds k);
    DELETE FROM need_summary WHERE needs = 0 AND need_type = n.need_type
        AND (grp_kind, grp) IN (SELECT k.kind, CASE k.kind WHEN 'province' THEN COALESCE(n.province_code, '') WHEN 'county' THEN COALESCE(n.county_code, '') WHEN 'zone' THEN COALESCE(n.zone, 'unknown') ELSE n.need_type END FROM need_summary_kinds k);
END;
$$;

CREATE FUNCTION need_summary_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM need_summary_apply(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM need_summary_apply(NEW, 1);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER need_summary_write AFTER INSERT OR DELETE OR UPDATE OF province_code, county_code,
    zone, need_type, person_id, amount, allocated, status ON needs
    FOR EACH ROW EXECUTE FUNCTION need_summary_write();
