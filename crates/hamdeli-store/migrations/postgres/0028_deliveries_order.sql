-- The delivery list (/deliveries) pages allocations of one status by id (keyset). The only
-- index was (status, county_code): the national list read every pending allocation (36,462 at
-- 1M demo people) and sorted them for each page of 100. Keep in step with
-- ../sqlite/0028_deliveries_order.sql.
CREATE INDEX allocations_status_order ON allocations (status, id);
CREATE INDEX allocations_province_status_order ON allocations (province_code, status, id);
CREATE INDEX allocations_county_status_order ON allocations (county_code, status, id);
