-- Registry search by name (issue 3, "Figures"): the names index also carries the person, so a
-- search by a common last name (tens of thousands of records in a registry of a million) reads
-- the person ids from the index alone instead of visiting every matching record.
-- Keep in step with ../postgres/0006_import_perf.sql.
DROP INDEX source_records_names;
CREATE INDEX source_records_names ON source_records (last_key, first_key, person_id);
