-- The public statistics (/stats, /api/v1/stats) from the need summary (issue 17): SQLite.
-- Keep in step with ../postgres/0029_need_summary_open.sql.
--
-- A fifth grouping of migration 0027's need summary, `province_open`: per province and need
-- type, the needs that are not closed and their distinct persons (the statistics' persons in
-- need). A closed need is not in it; closing or reopening a need moves it out or in (the
-- triggers remove the old row's contribution and add the new one's, as before).

INSERT INTO need_summary_kinds (kind) VALUES ('province_open');

INSERT INTO need_summary_persons (grp_kind, grp, need_type, person_id, needs)
SELECT 'province_open', COALESCE(n.province_code, ''), n.need_type, n.person_id, COUNT(*)
FROM needs n WHERE n.status <> 'closed' GROUP BY 2, 3, 4;
INSERT INTO need_summary (grp_kind, grp, need_type, needs, persons, amount, allocated, outstanding)
SELECT 'province_open', COALESCE(n.province_code, ''), n.need_type, COUNT(*), COUNT(DISTINCT n.person_id),
    COALESCE(SUM(n.amount), 0), COALESCE(SUM(n.allocated), 0), COALESCE(SUM(CASE WHEN n.status IN ('open', 'verified', 'partly_met') THEN n.amount - n.allocated ELSE 0 END), 0)
FROM needs n WHERE n.status <> 'closed' GROUP BY 2, 3;

DROP TRIGGER need_summary_insert;
DROP TRIGGER need_summary_delete;
DROP TRIGGER need_summary_update;

CREATE TRIGGER need_summary_insert AFTER INSERT ON needs
BEGIN
    INSERT INTO need_summary_persons (grp_kind, grp, need_type, person_id, needs)
    SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(NEW.province_code, '') WHEN k.kind = 'county' THEN COALESCE(NEW.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(NEW.zone, 'unknown') ELSE NEW.need_type END,
        NEW.need_type, NEW.person_id, 1 FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR NEW.status <> 'closed')
    ON CONFLICT (grp_kind, grp, need_type, person_id)
    DO UPDATE SET needs = need_summary_persons.needs + excluded.needs;
    INSERT INTO need_summary (grp_kind, grp, need_type, needs, persons, amount, allocated, outstanding)
    SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(NEW.province_code, '') WHEN k.kind = 'county' THEN COALESCE(NEW.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(NEW.zone, 'unknown') ELSE NEW.need_type END,
        NEW.need_type, 1,
        (SELECT CASE WHEN sp.needs = 1 THEN 1 ELSE 0 END FROM need_summary_persons sp
         WHERE sp.grp_kind = k.kind AND sp.grp = CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(NEW.province_code, '') WHEN k.kind = 'county' THEN COALESCE(NEW.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(NEW.zone, 'unknown') ELSE NEW.need_type END
         AND sp.need_type = NEW.need_type AND sp.person_id = NEW.person_id),
        (NEW.amount), (NEW.allocated), (CASE WHEN NEW.status IN ('open', 'verified', 'partly_met') THEN NEW.amount - NEW.allocated ELSE 0 END)
    FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR NEW.status <> 'closed')
    ON CONFLICT (grp_kind, grp, need_type) DO UPDATE SET
        needs = need_summary.needs + excluded.needs,
        persons = need_summary.persons + excluded.persons,
        amount = need_summary.amount + excluded.amount,
        allocated = need_summary.allocated + excluded.allocated,
        outstanding = need_summary.outstanding + excluded.outstanding;
    DELETE FROM need_summary_persons WHERE needs = 0 AND need_type = NEW.need_type
        AND person_id = NEW.person_id
        AND (grp_kind, grp) IN (SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(NEW.province_code, '') WHEN k.kind = 'county' THEN COALESCE(NEW.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(NEW.zone, 'unknown') ELSE NEW.need_type END FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR NEW.status <> 'closed'));
    DELETE FROM need_summary WHERE needs = 0 AND need_type = NEW.need_type
        AND (grp_kind, grp) IN (SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(NEW.province_code, '') WHEN k.kind = 'county' THEN COALESCE(NEW.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(NEW.zone, 'unknown') ELSE NEW.need_type END FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR NEW.status <> 'closed'));
END;

CREATE TRIGGER need_summary_delete AFTER DELETE ON needs
BEGIN
    INSERT INTO need_summary_persons (grp_kind, grp, need_type, person_id, needs)
    SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(OLD.province_code, '') WHEN k.kind = 'county' THEN COALESCE(OLD.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(OLD.zone, 'unknown') ELSE OLD.need_type END,
        OLD.need_type, OLD.person_id, -1 FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR OLD.status <> 'closed')
    ON CONFLICT (grp_kind, grp, need_type, person_id)
    DO UPDATE SET needs = need_summary_persons.needs + excluded.needs;
    INSERT INTO need_summary (grp_kind, grp, need_type, needs, persons, amount, allocated, outstanding)
    SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(OLD.province_code, '') WHEN k.kind = 'county' THEN COALESCE(OLD.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(OLD.zone, 'unknown') ELSE OLD.need_type END,
        OLD.need_type, -1,
        (SELECT CASE WHEN sp.needs = 0 THEN -1 ELSE 0 END FROM need_summary_persons sp
         WHERE sp.grp_kind = k.kind AND sp.grp = CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(OLD.province_code, '') WHEN k.kind = 'county' THEN COALESCE(OLD.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(OLD.zone, 'unknown') ELSE OLD.need_type END
         AND sp.need_type = OLD.need_type AND sp.person_id = OLD.person_id),
        -(OLD.amount), -(OLD.allocated), -(CASE WHEN OLD.status IN ('open', 'verified', 'partly_met') THEN OLD.amount - OLD.allocated ELSE 0 END)
    FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR OLD.status <> 'closed')
    ON CONFLICT (grp_kind, grp, need_type) DO UPDATE SET
        needs = need_summary.needs + excluded.needs,
        persons = need_summary.persons + excluded.persons,
        amount = need_summary.amount + excluded.amount,
        allocated = need_summary.allocated + excluded.allocated,
        outstanding = need_summary.outstanding + excluded.outstanding;
    DELETE FROM need_summary_persons WHERE needs = 0 AND need_type = OLD.need_type
        AND person_id = OLD.person_id
        AND (grp_kind, grp) IN (SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(OLD.province_code, '') WHEN k.kind = 'county' THEN COALESCE(OLD.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(OLD.zone, 'unknown') ELSE OLD.need_type END FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR OLD.status <> 'closed'));
    DELETE FROM need_summary WHERE needs = 0 AND need_type = OLD.need_type
        AND (grp_kind, grp) IN (SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(OLD.province_code, '') WHEN k.kind = 'county' THEN COALESCE(OLD.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(OLD.zone, 'unknown') ELSE OLD.need_type END FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR OLD.status <> 'closed'));
END;

CREATE TRIGGER need_summary_update AFTER UPDATE OF province_code, county_code, zone, need_type,
    person_id, amount, allocated, status ON needs
BEGIN
    INSERT INTO need_summary_persons (grp_kind, grp, need_type, person_id, needs)
    SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(OLD.province_code, '') WHEN k.kind = 'county' THEN COALESCE(OLD.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(OLD.zone, 'unknown') ELSE OLD.need_type END,
        OLD.need_type, OLD.person_id, -1 FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR OLD.status <> 'closed')
    ON CONFLICT (grp_kind, grp, need_type, person_id)
    DO UPDATE SET needs = need_summary_persons.needs + excluded.needs;
    INSERT INTO need_summary (grp_kind, grp, need_type, needs, persons, amount, allocated, outstanding)
    SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(OLD.province_code, '') WHEN k.kind = 'county' THEN COALESCE(OLD.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(OLD.zone, 'unknown') ELSE OLD.need_type END,
        OLD.need_type, -1,
        (SELECT CASE WHEN sp.needs = 0 THEN -1 ELSE 0 END FROM need_summary_persons sp
         WHERE sp.grp_kind = k.kind AND sp.grp = CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(OLD.province_code, '') WHEN k.kind = 'county' THEN COALESCE(OLD.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(OLD.zone, 'unknown') ELSE OLD.need_type END
         AND sp.need_type = OLD.need_type AND sp.person_id = OLD.person_id),
        -(OLD.amount), -(OLD.allocated), -(CASE WHEN OLD.status IN ('open', 'verified', 'partly_met') THEN OLD.amount - OLD.allocated ELSE 0 END)
    FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR OLD.status <> 'closed')
    ON CONFLICT (grp_kind, grp, need_type) DO UPDATE SET
        needs = need_summary.needs + excluded.needs,
        persons = need_summary.persons + excluded.persons,
        amount = need_summary.amount + excluded.amount,
        allocated = need_summary.allocated + excluded.allocated,
        outstanding = need_summary.outstanding + excluded.outstanding;
    DELETE FROM need_summary_persons WHERE needs = 0 AND need_type = OLD.need_type
        AND person_id = OLD.person_id
        AND (grp_kind, grp) IN (SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(OLD.province_code, '') WHEN k.kind = 'county' THEN COALESCE(OLD.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(OLD.zone, 'unknown') ELSE OLD.need_type END FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR OLD.status <> 'closed'));
    DELETE FROM need_summary WHERE needs = 0 AND need_type = OLD.need_type
        AND (grp_kind, grp) IN (SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(OLD.province_code, '') WHEN k.kind = 'county' THEN COALESCE(OLD.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(OLD.zone, 'unknown') ELSE OLD.need_type END FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR OLD.status <> 'closed'));
    INSERT INTO need_summary_persons (grp_kind, grp, need_type, person_id, needs)
    SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(NEW.province_code, '') WHEN k.kind = 'county' THEN COALESCE(NEW.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(NEW.zone, 'unknown') ELSE NEW.need_type END,
        NEW.need_type, NEW.person_id, 1 FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR NEW.status <> 'closed')
    ON CONFLICT (grp_kind, grp, need_type, person_id)
    DO UPDATE SET needs = need_summary_persons.needs + excluded.needs;
    INSERT INTO need_summary (grp_kind, grp, need_type, needs, persons, amount, allocated, outstanding)
    SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(NEW.province_code, '') WHEN k.kind = 'county' THEN COALESCE(NEW.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(NEW.zone, 'unknown') ELSE NEW.need_type END,
        NEW.need_type, 1,
        (SELECT CASE WHEN sp.needs = 1 THEN 1 ELSE 0 END FROM need_summary_persons sp
         WHERE sp.grp_kind = k.kind AND sp.grp = CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(NEW.province_code, '') WHEN k.kind = 'county' THEN COALESCE(NEW.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(NEW.zone, 'unknown') ELSE NEW.need_type END
         AND sp.need_type = NEW.need_type AND sp.person_id = NEW.person_id),
        (NEW.amount), (NEW.allocated), (CASE WHEN NEW.status IN ('open', 'verified', 'partly_met') THEN NEW.amount - NEW.allocated ELSE 0 END)
    FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR NEW.status <> 'closed')
    ON CONFLICT (grp_kind, grp, need_type) DO UPDATE SET
        needs = need_summary.needs + excluded.needs,
        persons = need_summary.persons + excluded.persons,
        amount = need_summary.amount + excluded.amount,
        allocated = need_summary.allocated + excluded.allocated,
        outstanding = need_summary.outstanding + excluded.outstanding;
    DELETE FROM need_summary_persons WHERE needs = 0 AND need_type = NEW.need_type
        AND person_id = NEW.person_id
        AND (grp_kind, grp) IN (SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(NEW.province_code, '') WHEN k.kind = 'county' THEN COALESCE(NEW.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(NEW.zone, 'unknown') ELSE NEW.need_type END FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR NEW.status <> 'closed'));
    DELETE FROM need_summary WHERE needs = 0 AND need_type = NEW.need_type
        AND (grp_kind, grp) IN (SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(NEW.province_code, '') WHEN k.kind = 'county' THEN COALESCE(NEW.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(NEW.zone, 'unknown') ELSE NEW.need_type END FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR NEW.status <> 'closed'));
END;
