-- When a batch's household and support facts were applied (issue 17): SQLite. Keep in step
-- with ../postgres/0034_facts_applied.sql.
--
-- The facts of a batch follow its commit in their own transaction (after linking). When they
-- fail, or the process stops between the two, `hamdeli relink` applies them: it looks for
-- the committed, finished batches whose facts were never applied. Batches committed before
-- this migration are taken as applied.
ALTER TABLE import_batches ADD COLUMN facts_applied_at BIGINT;
UPDATE import_batches SET facts_applied_at = COALESCE(finished_at, started_at)
    WHERE status = 'committed';
