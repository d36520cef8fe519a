-- The public transparency log (capability C), PostgreSQL. Keep in step with ../sqlite/.
-- Append-only and hash-chained; no personal data. ledger_head is a one-row lock and cache.

CREATE TABLE transparency_log (
    seq BIGINT PRIMARY KEY NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE
);

CREATE TABLE ledger_head (
    id BIGINT PRIMARY KEY NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO ledger_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION transparency_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'transparency_log is append-only';
END;
$$;
CREATE TRIGGER transparency_log_no_update BEFORE UPDATE OR DELETE ON transparency_log
    FOR EACH ROW EXECUTE FUNCTION transparency_log_append_only();
CREATE TRIGGER transparency_log_no_truncate BEFORE TRUNCATE ON transparency_log
    FOR EACH STATEMENT EXECUTE FUNCTION transparency_log_append_only();
