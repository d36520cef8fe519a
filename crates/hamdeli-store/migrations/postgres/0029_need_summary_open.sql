-- The public statistics (/stats, /api/v1/stats) from the need summary (issue 17): PostgreSQL.
-- Keep in step with ../sqlite/0029_need_summary_open.sql.
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

CREATE OR REPLACE FUNCTION need_summary_apply(n needs, s BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO need_summary_persons (grp_kind, grp, need_type, person_id, needs)
    SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(n.province_code, '') WHEN k.kind = 'county' THEN COALESCE(n.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(n.zone, 'unknown') ELSE n.need_type END,
        n.need_type, n.person_id, s FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR n.status <> 'closed')
    ON CONFLICT (grp_kind, grp, need_type, person_id)
    DO UPDATE SET needs = need_summary_persons.needs + excluded.needs;
    INSERT INTO need_summary (grp_kind, grp, need_type, needs, persons, amount, allocated, outstanding)
    SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(n.province_code, '') WHEN k.kind = 'county' THEN COALESCE(n.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(n.zone, 'unknown') ELSE n.need_type END,
        n.need_type, s,
        (SELECT CASE WHEN sp.needs = (CASE WHEN s > 0 THEN 1 ELSE 0 END) THEN s ELSE 0 END FROM need_summary_persons sp
         WHERE sp.grp_kind = k.kind AND sp.grp = CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(n.province_code, '') WHEN k.kind = 'county' THEN COALESCE(n.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(n.zone, 'unknown') ELSE n.need_type END
         AND sp.need_type = n.need_type AND sp.person_id = n.person_id),
        s * (n.amount), s * (n.allocated), s * (CASE WHEN n.status IN ('open', 'verified', 'partly_met') THEN n.amount - n.allocated ELSE 0 END)
    FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR n.status <> 'closed')
    ON CONFLICT (grp_kind, grp, need_type) DO UPDATE SET
        needs = need_summary.needs + excluded.needs,
        persons = need_summary.persons + excluded.persons,
        amount = need_summary.amount + excluded.amount,
        allocated = need_summary.allocated + excluded.allocated,
        outstanding = need_summary.outstanding + excluded.outstanding;
    DELETE FROM need_summary_persons WHERE needs = 0 AND need_type = n.need_type
        AND person_id = n.person_id
        AND (grp_kind, grp) IN (SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(n.province_code, '') WHEN k.kind = 'county' THEN COALESCE(n.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(n.zone, 'unknown') ELSE n.need_type END FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR n.status <> 'closed'));
    DELETE FROM need_summary WHERE needs = 0 AND need_type = n.need_type
        AND (grp_kind, grp) IN (SELECT k.kind, CASE WHEN k.kind IN ('province', 'province_open') THEN COALESCE(n.province_code, '') WHEN k.kind = 'county' THEN COALESCE(n.county_code, '') WHEN k.kind = 'zone' THEN COALESCE(n.zone, 'unknown') ELSE n.need_type END FROM need_summary_kinds k WHERE (k.kind <> 'province_open' OR n.status <> 'closed'));
END;
$$;
