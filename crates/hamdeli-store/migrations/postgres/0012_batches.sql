-- Import batches know their owner (issue: concurrency): the boot id of the process writing a
-- running batch (a random id per process start) and when that process last said it is alive.
-- A batch still running whose owner is gone (another boot, heartbeat stale) is failed as
-- "interrupted" at start-up and by a running server's sweep. `audit_actor` is who an import
-- acts for when the batch's own transactions write its audit entry (the command line's
-- system principal), as JSON. Keep in step with ../sqlite/0012_batches.sql.
ALTER TABLE import_batches ADD COLUMN owner_boot TEXT;
ALTER TABLE import_batches ADD COLUMN heartbeat_at BIGINT;
ALTER TABLE import_batches ADD COLUMN audit_actor TEXT;
CREATE INDEX import_batches_running ON import_batches (status, heartbeat_at) WHERE status = 'running';
