-- The needs pages at national volume (issue 17): about 94,000 needs at 1M demo people.
--
-- The need list in its order (urgency rank, then id) over the whole country, a province or a
-- county: an index walk that stops after one page, instead of joining and sorting every need.
-- The expression is the list's (needs::URGENCY_RANK) word for word.
CREATE INDEX needs_urgency_order ON needs
    ((CASE urgency WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END), id);
CREATE INDEX needs_province_urgency_order ON needs
    (province_code, (CASE urgency WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END), id);
CREATE INDEX needs_county_urgency_order ON needs
    (county_code, (CASE urgency WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END), id);
-- The need tables, the public statistics and an allocation's candidate counts read this index
-- alone (every column they group, filter or sum), not the needs' rows.
CREATE INDEX needs_tables ON needs
    (province_code, county_code, need_type, status, zone, urgency, person_id, amount, allocated);
-- The public statistics' delivered units per need, from the index alone.
CREATE INDEX allocations_need_cover ON allocations (need_id, status, person_id, units);
