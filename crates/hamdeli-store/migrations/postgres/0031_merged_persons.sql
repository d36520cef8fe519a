-- Issue 17: the persons merged into a person, found by index (postgres).
-- Keep in step with ../sqlite/0031_merged_persons.sql.
--
-- A person's card reads the support of the records merged into her
-- (distribution::support_of_person): without an index "merged into this person" read every
-- person (450 ms at a million people on PostgreSQL). Only merged persons are in it.
CREATE INDEX persons_merged_into ON persons (merged_into) WHERE merged_into IS NOT NULL;
