-- Loans (issue 14): fill factors of loans and loan_instalments, SQLite.
-- Keep in step with ../postgres/0024_loans_fillfactor.sql. SQLite has no fill factor (an update
-- rewrites the row in its B-tree page in place): nothing to change; the schema stays the same.

SELECT 1;
