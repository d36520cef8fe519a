-- Household-aware linkage across imports (issue 18's defects), PostgreSQL. Keep in step with
-- ../sqlite/0025_borrowed_codes.sql.
--
-- 1 when linkage took the record's valid national code as its household head's, not its own (a
-- dependant listed under the head's code: hamdeli_link::LinkResult::released_codes). Linkage
-- keeps it equal to the engine's decision over the whole registry; a person's displayed code is
-- never chosen from such a record.
ALTER TABLE source_records ADD COLUMN code_borrowed INTEGER NOT NULL DEFAULT 0;
