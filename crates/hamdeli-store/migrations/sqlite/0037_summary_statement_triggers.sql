-- The summaries of needs and allocations kept per statement (issue 17): SQLite. Keep in step
-- with ../postgres/0037_summary_statement_triggers.sql.
--
-- Nothing changes on SQLite. PostgreSQL replaces its row triggers on `needs` and `allocations`
-- with statement triggers, because each update of a summary row there leaves a row version the
-- next update in the same transaction must walk past (a commit of N allocations cost N²).
-- SQLite updates a row in place, so its row triggers (0027, 0029, 0032, 0033) stay.
SELECT 1;
