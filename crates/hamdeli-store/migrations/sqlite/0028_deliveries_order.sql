-- The delivery list (/deliveries) pages allocations of one status by id (keyset). The only
-- index was (status, county_code): the national list read every pending allocation (36,462 at
-- 1M demo people) and sorted them for each page of 100. Keep in step with
-- ../postgres/0028_deliveries_order.sql. (A county's list walks allocations_status, whose
-- rows of one status and county are in id order on SQLite.)
CREATE INDEX allocations_status_order ON allocations (status, id);
CREATE INDEX allocations_province_status_order ON allocations (province_code, status, id);
