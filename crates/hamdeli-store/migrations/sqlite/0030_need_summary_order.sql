-- Issue 17: the need summary's writers take turns, SQLite.
-- Keep in step with ../postgres/0030_need_summary_order.sql. SQLite has one writer at a time
-- (a write transaction holds the database's write lock to its commit): the need summary's
-- writers take turns already; the schema stays the same.

SELECT 1;
