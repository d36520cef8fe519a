-- Issue 17: the need summary's writers take turns, PostgreSQL.
-- Keep in step with ../sqlite/0030_need_summary_order.sql.
--
-- Every write of a need updates the summary rows of its cells (0027, 0029) from a row trigger.
-- Two transactions that write several needs (an allocation commit, a merge, a campaign's
-- closing) in different places could lock those shared rows in opposite orders and deadlock
-- (PostgreSQL then cancels one of them). A statement trigger that runs before any row of
-- `needs` is touched takes one transaction-level advisory lock, so the transactions that write
-- needs take turns from their first need-writing statement to their commit, holding nothing of
-- the summary while they wait. The lock key is a fixed number of this schema (the ASCII of
-- "needsum").
CREATE OR REPLACE FUNCTION need_summary_take_turn() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(31073733589562733);
    RETURN NULL;
END;
$$;

CREATE TRIGGER need_summary_take_turn BEFORE INSERT OR UPDATE OR DELETE ON needs
    FOR EACH STATEMENT EXECUTE FUNCTION need_summary_take_turn();
