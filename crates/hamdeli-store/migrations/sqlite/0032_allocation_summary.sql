-- The allocation overview's candidate counts from a summary (issue 17): SQLite. Keep in step
-- with ../postgres/0032_allocation_summary.sql.
--
-- The overview of a large allocation (`distribution::candidate_counts`) counted its candidate
-- needs with one GROUP BY over every one of them (~40,000 of a national campaign at 1M people).
-- `allocation_summary` keeps those counts per need type, province, county, urgency and
-- eligibility, over the needs that are not closed (an allocation's candidates): how many and
-- what they still lack (amount - allocated, not below 0). Eligible is what the plan calls
-- eligible before support received elsewhere: verified or partly met with amount > allocated.
-- Triggers on `needs` keep it exact in the writing transaction (a need created or removed, its
-- type, place, urgency, status, amount or allocated units changed): every write removes the old
-- row's contribution and adds the new one's. `hamdeli admin rebuild-summaries` recomputes it.

CREATE TABLE allocation_summary (
    need_type TEXT NOT NULL,
    -- '' when the need has no province / county
    province_code TEXT NOT NULL,
    county_code TEXT NOT NULL,
    urgency TEXT NOT NULL,
    -- 1: verified or partly met with something left
    eligible INTEGER NOT NULL,
    needs INTEGER NOT NULL,
    open_units INTEGER NOT NULL,
    PRIMARY KEY (need_type, province_code, county_code, urgency, eligible)
);

INSERT INTO allocation_summary (need_type, province_code, county_code, urgency, eligible, needs, open_units)
SELECT need_type, COALESCE(province_code, ''), COALESCE(county_code, ''), urgency,
    CASE WHEN status IN ('verified', 'partly_met') AND amount > allocated THEN 1 ELSE 0 END, COUNT(*),
    COALESCE(SUM(CASE WHEN amount > allocated THEN amount - allocated ELSE 0 END), 0)
FROM needs WHERE status <> 'closed' GROUP BY 1, 2, 3, 4, 5;

CREATE TRIGGER allocation_summary_insert AFTER INSERT ON needs WHEN NEW.status <> 'closed'
BEGIN
    INSERT INTO allocation_summary (need_type, province_code, county_code, urgency, eligible, needs, open_units)
    SELECT NEW.need_type, COALESCE(NEW.province_code, ''), COALESCE(NEW.county_code, ''), NEW.urgency,
        CASE WHEN NEW.status IN ('verified', 'partly_met') AND NEW.amount > NEW.allocated THEN 1 ELSE 0 END, 1,
        CASE WHEN NEW.amount > NEW.allocated THEN NEW.amount - NEW.allocated ELSE 0 END
    WHERE 1 = 1
    ON CONFLICT (need_type, province_code, county_code, urgency, eligible) DO UPDATE SET
        needs = allocation_summary.needs + excluded.needs,
        open_units = allocation_summary.open_units + excluded.open_units;
END;

CREATE TRIGGER allocation_summary_delete AFTER DELETE ON needs WHEN OLD.status <> 'closed'
BEGIN
    UPDATE allocation_summary SET needs = needs - 1,
        open_units = open_units - (CASE WHEN OLD.amount > OLD.allocated THEN OLD.amount - OLD.allocated ELSE 0 END)
    WHERE need_type = OLD.need_type AND province_code = COALESCE(OLD.province_code, '')
        AND county_code = COALESCE(OLD.county_code, '') AND urgency = OLD.urgency
        AND eligible = (CASE WHEN OLD.status IN ('verified', 'partly_met') AND OLD.amount > OLD.allocated THEN 1 ELSE 0 END);
    DELETE FROM allocation_summary WHERE needs = 0 AND need_type = OLD.need_type
        AND province_code = COALESCE(OLD.province_code, '') AND county_code = COALESCE(OLD.county_code, '')
        AND urgency = OLD.urgency;
END;

CREATE TRIGGER allocation_summary_update AFTER UPDATE OF need_type, province_code, county_code,
    urgency, status, amount, allocated ON needs
BEGIN
    UPDATE allocation_summary SET needs = needs - 1,
        open_units = open_units - (CASE WHEN OLD.amount > OLD.allocated THEN OLD.amount - OLD.allocated ELSE 0 END)
    WHERE OLD.status <> 'closed' AND need_type = OLD.need_type AND province_code = COALESCE(OLD.province_code, '')
        AND county_code = COALESCE(OLD.county_code, '') AND urgency = OLD.urgency
        AND eligible = (CASE WHEN OLD.status IN ('verified', 'partly_met') AND OLD.amount > OLD.allocated THEN 1 ELSE 0 END);
    DELETE FROM allocation_summary WHERE needs = 0 AND need_type = OLD.need_type
        AND province_code = COALESCE(OLD.province_code, '') AND county_code = COALESCE(OLD.county_code, '')
        AND urgency = OLD.urgency;
    INSERT INTO allocation_summary (need_type, province_code, county_code, urgency, eligible, needs, open_units)
    SELECT NEW.need_type, COALESCE(NEW.province_code, ''), COALESCE(NEW.county_code, ''), NEW.urgency,
        CASE WHEN NEW.status IN ('verified', 'partly_met') AND NEW.amount > NEW.allocated THEN 1 ELSE 0 END, 1,
        CASE WHEN NEW.amount > NEW.allocated THEN NEW.amount - NEW.allocated ELSE 0 END
    WHERE NEW.status <> 'closed'
    ON CONFLICT (need_type, province_code, county_code, urgency, eligible) DO UPDATE SET
        needs = allocation_summary.needs + excluded.needs,
        open_units = allocation_summary.open_units + excluded.open_units;
END;
