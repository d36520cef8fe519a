-- Where a campaign's allocations went, from a summary (issue 17): PostgreSQL. Keep in step
-- with ../sqlite/0033_destination_summary.sql.
--
-- The public campaign page, its API, the receipts and the donor page show where a campaign's
-- allocations went (`campaigns::destinations`): one GROUP BY over every allocation of the
-- campaign (~37,000 of a national campaign at 1M people, ten times that at 10M).
-- `destination_summary` keeps those figures per campaign, resource, province, zone and need
-- type: how many allocations, their units, how many were delivered. A row trigger on
-- `allocations` keeps it exact in the writing transaction (an allocation inserted or removed,
-- its status, units, province, zone, need type or batch changed): every write removes the old
-- row's contribution and adds the new one's. A batch's campaign and resource never change.
-- `hamdeli admin rebuild-summaries` recomputes it.
--
-- Deadlocks (the lesson of 0030): an allocation commit inserts thousands of allocations in plan
-- order, so it updates these shared rows in no fixed order, and a transaction could record
-- several deliveries. A statement trigger that runs before any row of `allocations` is touched
-- takes one transaction-level advisory lock of its own, so the transactions that write
-- allocations take turns from their first allocation-writing statement to their commit,
-- holding no summary row while they wait. Every writer takes it before the need summary's
-- lock (0030): a commit writes its allocations before its needs, a failed delivery its
-- allocation before its need. The key is a fixed number of this schema (the ASCII of
-- "destsum").

CREATE TABLE destination_summary (
    campaign_id BIGINT NOT NULL,
    resource TEXT NOT NULL,
    -- '' when the allocation has no province / zone
    province_code TEXT NOT NULL,
    zone TEXT NOT NULL,
    need_type TEXT NOT NULL,
    allocations BIGINT NOT NULL,
    units BIGINT NOT NULL,
    delivered BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, resource, province_code, zone, need_type)
);

INSERT INTO destination_summary (campaign_id, resource, province_code, zone, need_type,
    allocations, units, delivered)
SELECT b.campaign_id, b.resource, COALESCE(a.province_code, ''), COALESCE(a.zone, ''), a.need_type,
    COUNT(*), COALESCE(SUM(a.units), 0), COALESCE(SUM(CASE WHEN a.status = 'delivered' THEN 1 ELSE 0 END), 0)
FROM allocations a JOIN allocation_batches b ON b.id = a.batch_id GROUP BY 1, 2, 3, 4, 5;

CREATE FUNCTION destination_summary_apply(a allocations, s BIGINT) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    c BIGINT;
    r TEXT;
BEGIN
    SELECT b.campaign_id, b.resource INTO c, r FROM allocation_batches b WHERE b.id = a.batch_id;
    INSERT INTO destination_summary (campaign_id, resource, province_code, zone, need_type,
        allocations, units, delivered)
    VALUES (c, r, COALESCE(a.province_code, ''), COALESCE(a.zone, ''), a.need_type, s, s * a.units,
        s * (CASE WHEN a.status = 'delivered' THEN 1 ELSE 0 END))
    ON CONFLICT (campaign_id, resource, province_code, zone, need_type) DO UPDATE SET
        allocations = destination_summary.allocations + excluded.allocations,
        units = destination_summary.units + excluded.units,
        delivered = destination_summary.delivered + excluded.delivered;
    IF s < 0 THEN
        DELETE FROM destination_summary WHERE allocations = 0 AND campaign_id = c AND resource = r
            AND province_code = COALESCE(a.province_code, '') AND zone = COALESCE(a.zone, '')
            AND need_type = a.need_type;
    END IF;
END;
$$;

CREATE FUNCTION destination_summary_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM destination_summary_apply(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM destination_summary_apply(NEW, 1);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER destination_summary_write AFTER INSERT OR DELETE OR UPDATE OF status, units,
    province_code, zone, need_type, batch_id ON allocations
    FOR EACH ROW EXECUTE FUNCTION destination_summary_write();

CREATE FUNCTION destination_summary_take_turn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(28259044220433773);
    RETURN NULL;
END;
$$;

CREATE TRIGGER destination_summary_take_turn BEFORE INSERT OR UPDATE OR DELETE ON allocations
    FOR EACH STATEMENT EXECUTE FUNCTION destination_summary_take_turn();
