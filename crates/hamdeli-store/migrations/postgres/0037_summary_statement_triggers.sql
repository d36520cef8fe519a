-- The summaries of needs and allocations kept per statement (issue 17): PostgreSQL. Keep in
-- step with ../sqlite/0037_summary_statement_triggers.sql.
--
-- Migrations 0027, 0029, 0032 and 0033 kept `need_summary`, `need_summary_persons`,
-- `allocation_summary` and `destination_summary` from row triggers: every need or allocation
-- written updated its cells' rows there and then. An allocation commit writes its allocations
-- in one INSERT and their needs in one UPDATE, thousands of rows, and every one of them updated
-- the same few national rows (a need type's, a province's) once more in the same transaction.
-- PostgreSQL keeps each of those updates as a new version of the row that the next one must
-- walk past until the transaction ends, so a commit of N allocations cost N² (minutes for the
-- 1M demo's 36,000 allocations; it never finished at 10M).
--
-- Statement triggers over transition tables (as the coverage triggers of 0023 do) fold a whole
-- statement's rows into one delta per cell and write each cell once. An UPDATE takes the old
-- rows away, then adds the new ones.
-- The writers still take turns (0030, 0033) before any row is touched.
--
-- The functions that write a set plan each statement for the set at hand
-- (`plan_cache_mode = force_custom_plan`): PL/pgSQL's generic plan guesses the set's size, and
-- for one need it read the summaries whole (a need a few ms at 1M people; 95 needs a second
-- against 303 with plans made for the set).

DROP TRIGGER need_summary_write ON needs;
DROP TRIGGER allocation_summary_write ON needs;
DROP TRIGGER destination_summary_write ON allocations;
DROP FUNCTION need_summary_write();
DROP FUNCTION allocation_summary_write();
DROP FUNCTION destination_summary_write();
DROP FUNCTION need_summary_apply(needs, BIGINT);
DROP FUNCTION allocation_summary_apply(needs, BIGINT);
DROP FUNCTION destination_summary_apply(allocations, BIGINT);

-- Five rows; without statistics the planner takes them for 1,360 and joins accordingly.
ANALYZE need_summary_kinds;

-- A set of needs in the need summary's cells (0027, 0029): one row per grouping a need is in.
CREATE FUNCTION need_summary_cells(rs needs[]) RETURNS TABLE (kind TEXT, grp TEXT, need_type TEXT,
    person_id BIGINT, amount BIGINT, allocated BIGINT, outstanding BIGINT)
LANGUAGE sql STABLE AS $$
    SELECT k.kind,
        CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(n.province_code, '')
             WHEN k.kind = 'county' THEN COALESCE(n.county_code, '')
             WHEN k.kind = 'zone' THEN COALESCE(n.zone, 'unknown') ELSE n.need_type END,
        n.need_type, n.person_id, n.amount, n.allocated,
        CASE WHEN n.status IN ('open', 'verified', 'partly_met') THEN n.amount - n.allocated ELSE 0 END
    FROM unnest(rs) n CROSS JOIN need_summary_kinds k
    WHERE k.kind <> 'province_open' OR n.status <> 'closed'
$$;

-- Adds (s = 1) or takes away (s = -1) a set of needs. A cell's persons change by the persons
-- whose count there goes from none to some, less those whose count goes to none, read before
-- the persons' counts are written.
CREATE FUNCTION need_summary_apply_set(rs needs[], s BIGINT) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan AS $$
BEGIN
    IF cardinality(rs) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO need_summary (grp_kind, grp, need_type, needs, persons, amount, allocated, outstanding)
    SELECT c.kind, c.grp, c.need_type, s * c.needs, COALESCE(p.persons, 0),
        s * c.amount, s * c.allocated, s * c.outstanding
    FROM (SELECT e.kind, e.grp, e.need_type, COUNT(*) AS needs, CAST(SUM(e.amount) AS BIGINT) AS amount,
            CAST(SUM(e.allocated) AS BIGINT) AS allocated, CAST(SUM(e.outstanding) AS BIGINT) AS outstanding
          FROM need_summary_cells(rs) e GROUP BY 1, 2, 3) c
    LEFT JOIN (SELECT d.kind, d.grp, d.need_type,
            SUM((CASE WHEN d.prior + s * d.needs > 0 THEN 1 ELSE 0 END)
              - (CASE WHEN d.prior > 0 THEN 1 ELSE 0 END)) AS persons
          FROM (SELECT e.kind, e.grp, e.need_type, e.person_id, COUNT(*) AS needs,
                  -- A primary-key look-up per person and cell, whatever the planner guesses
                  -- of the set's size (a join read all of need_summary_persons per need).
                  COALESCE((SELECT sp.needs FROM need_summary_persons sp WHERE sp.grp_kind = e.kind
                    AND sp.grp = e.grp AND sp.need_type = e.need_type AND sp.person_id = e.person_id), 0)
                    AS prior
                FROM need_summary_cells(rs) e GROUP BY 1, 2, 3, 4) d
          GROUP BY 1, 2, 3) p ON p.kind = c.kind AND p.grp = c.grp AND p.need_type = c.need_type
    ON CONFLICT (grp_kind, grp, need_type) DO UPDATE SET
        needs = need_summary.needs + excluded.needs,
        persons = need_summary.persons + excluded.persons,
        amount = need_summary.amount + excluded.amount,
        allocated = need_summary.allocated + excluded.allocated,
        outstanding = need_summary.outstanding + excluded.outstanding;
    INSERT INTO need_summary_persons (grp_kind, grp, need_type, person_id, needs)
    SELECT e.kind, e.grp, e.need_type, e.person_id, s * COUNT(*)
    FROM need_summary_cells(rs) e GROUP BY 1, 2, 3, 4
    ON CONFLICT (grp_kind, grp, need_type, person_id)
    DO UPDATE SET needs = need_summary_persons.needs + excluded.needs;
    IF s < 0 THEN
        -- By person (the index of 0035): the rows these needs brought to zero, and no other
        -- row is ever zero.
        DELETE FROM need_summary_persons
        WHERE needs = 0 AND person_id = ANY (ARRAY(SELECT DISTINCT n.person_id FROM unnest(rs) n));
        DELETE FROM need_summary
        WHERE needs = 0 AND (grp_kind, grp, need_type) IN
            (SELECT e.kind, e.grp, e.need_type FROM need_summary_cells(rs) e);
    END IF;
END;
$$;

-- Adds or takes away a set of needs in the allocation overview's counts (0032).
CREATE FUNCTION allocation_summary_apply_set(rs needs[], s BIGINT) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan AS $$
BEGIN
    IF cardinality(rs) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO allocation_summary (need_type, province_code, county_code, urgency, eligible, needs, open_units)
    SELECT n.need_type, COALESCE(n.province_code, ''), COALESCE(n.county_code, ''), n.urgency,
        CASE WHEN n.status IN ('verified', 'partly_met') AND n.amount > n.allocated THEN 1 ELSE 0 END,
        s * COUNT(*),
        s * CAST(SUM(CASE WHEN n.amount > n.allocated THEN n.amount - n.allocated ELSE 0 END) AS BIGINT)
    FROM unnest(rs) n WHERE n.status <> 'closed' GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (need_type, province_code, county_code, urgency, eligible) DO UPDATE SET
        needs = allocation_summary.needs + excluded.needs,
        open_units = allocation_summary.open_units + excluded.open_units;
    IF s < 0 THEN
        DELETE FROM allocation_summary a
        USING (SELECT DISTINCT n.need_type, COALESCE(n.province_code, '') AS province_code,
                COALESCE(n.county_code, '') AS county_code, n.urgency
               FROM unnest(rs) n WHERE n.status <> 'closed') x
        WHERE a.needs = 0 AND a.need_type = x.need_type AND a.province_code = x.province_code
          AND a.county_code = x.county_code AND a.urgency = x.urgency;
    END IF;
END;
$$;

CREATE FUNCTION need_summaries_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rs needs[] := ARRAY(SELECT n::needs FROM new_rows n);
BEGIN
    PERFORM need_summary_apply_set(rs, 1::BIGINT);
    PERFORM allocation_summary_apply_set(rs, 1::BIGINT);
    RETURN NULL;
END;
$$;
CREATE FUNCTION need_summaries_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rs needs[] := ARRAY(SELECT o::needs FROM old_rows o);
BEGIN
    PERFORM need_summary_apply_set(rs, -1::BIGINT);
    PERFORM allocation_summary_apply_set(rs, -1::BIGINT);
    RETURN NULL;
END;
$$;
-- Every row of the statement: the old ones taken away, the new ones added (a row whose
-- summarised columns did not change adds what it took away). Not a join of the old rows to
-- the new: PL/pgSQL keeps the plan of its first, one-row call, a nested loop, and an
-- allocation commit of N needs then compared N × N rows.
CREATE FUNCTION need_summaries_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gone needs[] := ARRAY(SELECT o::needs FROM old_rows o);
    came needs[] := ARRAY(SELECT n::needs FROM new_rows n);
BEGIN
    PERFORM need_summary_apply_set(gone, -1::BIGINT);
    PERFORM allocation_summary_apply_set(gone, -1::BIGINT);
    PERFORM need_summary_apply_set(came, 1::BIGINT);
    PERFORM allocation_summary_apply_set(came, 1::BIGINT);
    RETURN NULL;
END;
$$;
CREATE TRIGGER need_summaries_insert AFTER INSERT ON needs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION need_summaries_insert();
CREATE TRIGGER need_summaries_update AFTER UPDATE ON needs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION need_summaries_update();
CREATE TRIGGER need_summaries_delete AFTER DELETE ON needs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION need_summaries_delete();

-- Adds or takes away a set of allocations in the campaigns' destinations (0033).
CREATE FUNCTION destination_summary_apply_set(rs allocations[], s BIGINT) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan AS $$
BEGIN
    IF cardinality(rs) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO destination_summary (campaign_id, resource, province_code, zone, need_type,
        allocations, units, delivered)
    SELECT b.campaign_id, b.resource, COALESCE(a.province_code, ''), COALESCE(a.zone, ''), a.need_type,
        s * COUNT(*), s * CAST(SUM(a.units) AS BIGINT),
        s * CAST(SUM(CASE WHEN a.status = 'delivered' THEN 1 ELSE 0 END) AS BIGINT)
    FROM unnest(rs) a JOIN allocation_batches b ON b.id = a.batch_id GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (campaign_id, resource, province_code, zone, need_type) DO UPDATE SET
        allocations = destination_summary.allocations + excluded.allocations,
        units = destination_summary.units + excluded.units,
        delivered = destination_summary.delivered + excluded.delivered;
    IF s < 0 THEN
        DELETE FROM destination_summary d
        USING (SELECT DISTINCT b.campaign_id, b.resource, COALESCE(a.province_code, '') AS province_code,
                COALESCE(a.zone, '') AS zone, a.need_type
               FROM unnest(rs) a JOIN allocation_batches b ON b.id = a.batch_id) x
        WHERE d.allocations = 0 AND d.campaign_id = x.campaign_id AND d.resource = x.resource
          AND d.province_code = x.province_code AND d.zone = x.zone AND d.need_type = x.need_type;
    END IF;
END;
$$;

CREATE FUNCTION destination_summary_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM destination_summary_apply_set(ARRAY(SELECT n::allocations FROM new_rows n), 1::BIGINT);
    RETURN NULL;
END;
$$;
CREATE FUNCTION destination_summary_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM destination_summary_apply_set(ARRAY(SELECT o::allocations FROM old_rows o), -1::BIGINT);
    RETURN NULL;
END;
$$;
CREATE FUNCTION destination_summary_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM destination_summary_apply_set(ARRAY(SELECT o::allocations FROM old_rows o), -1::BIGINT);
    PERFORM destination_summary_apply_set(ARRAY(SELECT n::allocations FROM new_rows n), 1::BIGINT);
    RETURN NULL;
END;
$$;
CREATE TRIGGER destination_summary_insert AFTER INSERT ON allocations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION destination_summary_insert();
CREATE TRIGGER destination_summary_update AFTER UPDATE ON allocations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION destination_summary_update();
CREATE TRIGGER destination_summary_delete AFTER DELETE ON allocations
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION destination_summary_delete();
