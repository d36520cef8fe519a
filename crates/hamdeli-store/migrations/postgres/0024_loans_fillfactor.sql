-- Loans (issue 14): room on every page for a second version of each row, PostgreSQL.
-- Keep in step with ../sqlite/0024_loans_fillfactor.sql (SQLite has no fill factor).
--
-- A bulk deferral updates every loan of an area once (deferred_months) and the instalments from
-- the first deferred one on (due_month, due_on); repayments update paid_total and paid. None of
-- these columns is indexed, so with free space on the row's page PostgreSQL writes a HOT update
-- (no new index entries, one page written). At the default fill factor of 100 the pages are full
-- and every such update moved the row to another page with new entries in each index (loans has
-- five): 5 million instalments and 1 million loans cost 219 s, 13 GB of WAL.
-- loan_instalments (about 100 bytes a row): 70 % leaves room for the 5 of 12 instalments a
-- three-month deferral moves. loans (about 200 bytes a row): 50 % leaves room for every row.
-- Applies to pages written from now on; existing tables get it with
-- `VACUUM FULL loans, loan_instalments` in a maintenance window.

ALTER TABLE loan_instalments SET (fillfactor = 70);
ALTER TABLE loans SET (fillfactor = 50);
