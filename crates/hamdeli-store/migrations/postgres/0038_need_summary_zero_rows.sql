-- Zero rows of the need summary's persons deleted person by person (issue 17): PostgreSQL.
-- Keep in step with ../sqlite/0038_need_summary_zero_rows.sql.
--
-- 0037 deleted the persons' rows that a set of needs brought to zero with
-- `person_id = ANY (ARRAY(…))`. On the 10M demo the planner scanned the whole table (4M rows)
-- and compared each row with every person of the set: an allocation commit of 300,000 needs
-- ran for minutes and did not finish. The rows are now looked up person by person (an index
-- scan each) and deleted by row id, whatever the planner guesses of the set or the table.
--
-- The summary functions also run without JIT: at these cost estimates PostgreSQL compiled each
-- trigger statement (about 150 ms) to run it in a few.

CREATE OR REPLACE FUNCTION need_summary_apply_set(rs needs[], s BIGINT) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan SET jit = off AS $$
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
        -- The rows these needs brought to zero (no other row is ever zero), found person by
        -- person through the index of 0035 and deleted by their row ids. OFFSET 0 keeps the
        -- look-up per person: flattened into a join, it reads the whole table.
        DELETE FROM need_summary_persons
        WHERE ctid = ANY (ARRAY(
            SELECT z.ctid FROM (SELECT DISTINCT n.person_id FROM unnest(rs) n) x
            CROSS JOIN LATERAL (SELECT sp.ctid FROM need_summary_persons sp
                WHERE sp.person_id = x.person_id AND sp.needs = 0 OFFSET 0) z))
        AND needs = 0;
        DELETE FROM need_summary
        WHERE needs = 0 AND (grp_kind, grp, need_type) IN
            (SELECT e.kind, e.grp, e.need_type FROM need_summary_cells(rs) e);
    END IF;
END;
$$;

ALTER FUNCTION allocation_summary_apply_set(needs[], BIGINT) SET jit = off;
ALTER FUNCTION destination_summary_apply_set(allocations[], BIGINT) SET jit = off;
