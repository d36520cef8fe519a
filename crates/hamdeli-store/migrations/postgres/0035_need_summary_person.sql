-- The need summary's per-person rows by person (issue 17): PostgreSQL. Keep in step with
-- ../sqlite/0035_need_summary_person.sql.
--
-- Every need written removes the per-person rows it brought to zero (`need_summary_apply`,
-- 0027). PostgreSQL runs that DELETE from a plan cached for any person, which found the rows
-- by reading all of `need_summary_persons` (137,000 rows at 1M people: 30 ms a need, half an
-- hour for the national demo's needs; ten times that at 10M). By person it is an index look-up.
CREATE INDEX IF NOT EXISTS need_summary_persons_person ON need_summary_persons (person_id);
