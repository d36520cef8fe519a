-- The public transparency log (capability C), SQLite. Keep in step with ../postgres/.
-- Append-only and hash-chained; no personal data. ledger_head is a one-row lock and cache.

CREATE TABLE transparency_log (
    seq INTEGER PRIMARY KEY NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE
);

CREATE TABLE ledger_head (
    id INTEGER PRIMARY KEY NOT NULL,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO ledger_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER transparency_log_no_update BEFORE UPDATE ON transparency_log
BEGIN
    SELECT RAISE(ABORT, 'transparency_log is append-only');
END;
CREATE TRIGGER transparency_log_no_delete BEFORE DELETE ON transparency_log
BEGIN
    SELECT RAISE(ABORT, 'transparency_log is append-only');
END;
