-- Where a campaign's allocations went, from a summary (issue 17): SQLite. Keep in step with
-- ../postgres/0033_destination_summary.sql.
--
-- The public campaign page, its API, the receipts and the donor page show where a campaign's
-- allocations went (`campaigns::destinations`): one GROUP BY over every allocation of the
-- campaign (~37,000 of a national campaign at 1M people, ten times that at 10M).
-- `destination_summary` keeps those figures per campaign, resource, province, zone and need
-- type: how many allocations, their units, how many were delivered. Triggers on `allocations`
-- keep it exact in the writing transaction (an allocation inserted or removed, its status,
-- units, province, zone, need type or batch changed): every write removes the old row's
-- contribution and adds the new one's. A batch's campaign and resource never change.
-- `hamdeli admin rebuild-summaries` recomputes it.

CREATE TABLE destination_summary (
    campaign_id INTEGER NOT NULL,
    resource TEXT NOT NULL,
    -- '' when the allocation has no province / zone
    province_code TEXT NOT NULL,
    zone TEXT NOT NULL,
    need_type TEXT NOT NULL,
    allocations INTEGER NOT NULL,
    units INTEGER NOT NULL,
    delivered INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, resource, province_code, zone, need_type)
);

INSERT INTO destination_summary (campaign_id, resource, province_code, zone, need_type,
    allocations, units, delivered)
SELECT b.campaign_id, b.resource, COALESCE(a.province_code, ''), COALESCE(a.zone, ''), a.need_type,
    COUNT(*), COALESCE(SUM(a.units), 0), COALESCE(SUM(CASE WHEN a.status = 'delivered' THEN 1 ELSE 0 END), 0)
FROM allocations a JOIN allocation_batches b ON b.id = a.batch_id GROUP BY 1, 2, 3, 4, 5;

CREATE TRIGGER destination_summary_insert AFTER INSERT ON allocations
BEGIN
    INSERT INTO destination_summary (campaign_id, resource, province_code, zone, need_type,
        allocations, units, delivered)
    SELECT b.campaign_id, b.resource, COALESCE(NEW.province_code, ''), COALESCE(NEW.zone, ''),
        NEW.need_type, 1, NEW.units, CASE WHEN NEW.status = 'delivered' THEN 1 ELSE 0 END
    FROM allocation_batches b WHERE b.id = NEW.batch_id
    ON CONFLICT (campaign_id, resource, province_code, zone, need_type) DO UPDATE SET
        allocations = destination_summary.allocations + excluded.allocations,
        units = destination_summary.units + excluded.units,
        delivered = destination_summary.delivered + excluded.delivered;
END;

CREATE TRIGGER destination_summary_delete AFTER DELETE ON allocations
BEGIN
    UPDATE destination_summary SET allocations = allocations - 1, units = units - OLD.units,
        delivered = delivered - (CASE WHEN OLD.status = 'delivered' THEN 1 ELSE 0 END)
    WHERE (campaign_id, resource) = (SELECT b.campaign_id, b.resource FROM allocation_batches b
            WHERE b.id = OLD.batch_id)
        AND province_code = COALESCE(OLD.province_code, '') AND zone = COALESCE(OLD.zone, '')
        AND need_type = OLD.need_type;
    DELETE FROM destination_summary WHERE allocations = 0
        AND (campaign_id, resource) = (SELECT b.campaign_id, b.resource FROM allocation_batches b
            WHERE b.id = OLD.batch_id)
        AND province_code = COALESCE(OLD.province_code, '') AND zone = COALESCE(OLD.zone, '')
        AND need_type = OLD.need_type;
END;

CREATE TRIGGER destination_summary_update AFTER UPDATE OF status, units, province_code, zone,
    need_type, batch_id ON allocations
BEGIN
    UPDATE destination_summary SET allocations = allocations - 1, units = units - OLD.units,
        delivered = delivered - (CASE WHEN OLD.status = 'delivered' THEN 1 ELSE 0 END)
    WHERE (campaign_id, resource) = (SELECT b.campaign_id, b.resource FROM allocation_batches b
            WHERE b.id = OLD.batch_id)
        AND province_code = COALESCE(OLD.province_code, '') AND zone = COALESCE(OLD.zone, '')
        AND need_type = OLD.need_type;
    DELETE FROM destination_summary WHERE allocations = 0
        AND (campaign_id, resource) = (SELECT b.campaign_id, b.resource FROM allocation_batches b
            WHERE b.id = OLD.batch_id)
        AND province_code = COALESCE(OLD.province_code, '') AND zone = COALESCE(OLD.zone, '')
        AND need_type = OLD.need_type;
    INSERT INTO destination_summary (campaign_id, resource, province_code, zone, need_type,
        allocations, units, delivered)
    SELECT b.campaign_id, b.resource, COALESCE(NEW.province_code, ''), COALESCE(NEW.zone, ''),
        NEW.need_type, 1, NEW.units, CASE WHEN NEW.status = 'delivered' THEN 1 ELSE 0 END
    FROM allocation_batches b WHERE b.id = NEW.batch_id
    ON CONFLICT (campaign_id, resource, province_code, zone, need_type) DO UPDATE SET
        allocations = destination_summary.allocations + excluded.allocations,
        units = destination_summary.units + excluded.units,
        delivered = destination_summary.delivered + excluded.delivered;
END;
