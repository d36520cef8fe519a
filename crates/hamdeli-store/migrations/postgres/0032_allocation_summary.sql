-- The allocation overview's candidate counts from a summary (issue 17): PostgreSQL. Keep in
-- step with ../sqlite/0032_allocation_summary.sql.
--
-- The overview of a large allocation (`distribution::candidate_counts`) counted its candidate
-- needs with one GROUP BY over every one of them (~40,000 of a national campaign at 1M people).
-- `allocation_summary` keeps those counts per need type, province, county, urgency and
-- eligibility, over the needs that are not closed (an allocation's candidates): how many and
-- what they still lack (amount - allocated, not below 0). Eligible is what the plan calls
-- eligible before support received elsewhere: verified or partly met with amount > allocated.
-- A row trigger on `needs` keeps it exact in the writing transaction (a need created or
-- removed, its type, place, urgency, status, amount or allocated units changed): every write
-- removes the old row's contribution and adds the new one's. The writers of needs take turns
-- (migration 0030's advisory lock), so its shared rows cannot deadlock. `hamdeli admin
-- rebuild-summaries` recomputes it.

CREATE TABLE allocation_summary (
    need_type TEXT NOT NULL,
    -- '' when the need has no province / county
    province_code TEXT NOT NULL,
    county_code TEXT NOT NULL,
    urgency TEXT NOT NULL,
    -- 1: verified or partly met with something left
    eligible BIGINT NOT NULL,
    needs BIGINT NOT NULL,
    open_units BIGINT NOT NULL,
    PRIMARY KEY (need_type, province_code, county_code, urgency, eligible)
);

INSERT INTO allocation_summary (need_type, province_code, county_code, urgency, eligible, needs, open_units)
SELECT need_type, COALESCE(province_code, ''), COALESCE(county_code, ''), urgency,
    CASE WHEN status IN ('verified', 'partly_met') AND amount > allocated THEN 1 ELSE 0 END, COUNT(*),
    COALESCE(SUM(CASE WHEN amount > allocated THEN amount - allocated ELSE 0 END), 0)
FROM needs WHERE status <> 'closed' GROUP BY 1, 2, 3, 4, 5;

CREATE FUNCTION allocation_summary_apply(n needs, s BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF n.status = 'closed' THEN
        RETURN;
    END IF;
    INSERT INTO allocation_summary (need_type, province_code, county_code, urgency, eligible, needs, open_units)
    VALUES (n.need_type, COALESCE(n.province_code, ''), COALESCE(n.county_code, ''), n.urgency,
        CASE WHEN n.status IN ('verified', 'partly_met') AND n.amount > n.allocated THEN 1 ELSE 0 END, s,
        s * (CASE WHEN n.amount > n.allocated THEN n.amount - n.allocated ELSE 0 END))
    ON CONFLICT (need_type, province_code, county_code, urgency, eligible) DO UPDATE SET
        needs = allocation_summary.needs + excluded.needs,
        open_units = allocation_summary.open_units + excluded.open_units;
    IF s < 0 THEN
        DELETE FROM allocation_summary WHERE needs = 0 AND need_type = n.need_type
            AND province_code = COALESCE(n.province_code, '') AND county_code = COALESCE(n.county_code, '')
            AND urgency = n.urgency;
    END IF;
END;
$$;

CREATE FUNCTION allocation_summary_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM allocation_summary_apply(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM allocation_summary_apply(NEW, 1);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER allocation_summary_write AFTER INSERT OR DELETE OR UPDATE OF need_type,
    province_code, county_code, urgency, status, amount, allocated ON needs
    FOR EACH ROW EXECUTE FUNCTION allocation_summary_write();
