-- Zero rows of the need summary's persons deleted person by person (issue 17): SQLite. Keep in
-- step with ../postgres/0038_need_summary_zero_rows.sql.
--
-- Nothing changes on SQLite: its need summary is kept by row triggers (0027, 0029), which
-- delete a person's row by key when it reaches zero. PostgreSQL's statement triggers (0037)
-- delete a whole set's zero rows at once, and 0038 makes that a look-up per person there.
SELECT 1;
