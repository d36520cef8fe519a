-- Organisations and their support programmes are created, edited and deactivated in the app.
-- A deactivated organisation keeps its records, but imports nothing more and is given no new
-- users or API keys: the triggers refuse that on every path (web, API, command line).
ALTER TABLE organisations ADD COLUMN active BIGINT NOT NULL DEFAULT 1;
ALTER TABLE organisations ADD COLUMN updated_at BIGINT;
ALTER TABLE programmes ADD COLUMN active BIGINT NOT NULL DEFAULT 1;
ALTER TABLE programmes ADD COLUMN updated_at BIGINT;

CREATE FUNCTION organisation_inactive(org BIGINT) RETURNS BOOLEAN LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM organisations WHERE id = org AND active = 0)
$$;

CREATE FUNCTION source_lists_organisation_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF organisation_inactive(NEW.organisation_id) THEN
        RAISE EXCEPTION 'organisation-inactive' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER source_lists_organisation_active BEFORE INSERT ON source_lists
    FOR EACH ROW EXECUTE FUNCTION source_lists_organisation_active();

CREATE FUNCTION import_batches_organisation_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF organisation_inactive((SELECT organisation_id FROM source_lists WHERE id = NEW.list_id)) THEN
        RAISE EXCEPTION 'organisation-inactive' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER import_batches_organisation_active BEFORE INSERT ON import_batches
    FOR EACH ROW EXECUTE FUNCTION import_batches_organisation_active();

CREATE FUNCTION scope_organisation_active() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.scope_organisation IS NOT DISTINCT FROM OLD.scope_organisation THEN
            RETURN NEW;
        END IF;
    END IF;
    IF organisation_inactive(NEW.scope_organisation) THEN
        RAISE EXCEPTION 'organisation-inactive' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER users_organisation_active BEFORE INSERT OR UPDATE OF scope_organisation ON users
    FOR EACH ROW EXECUTE FUNCTION scope_organisation_active();
CREATE TRIGGER api_keys_organisation_active BEFORE INSERT ON api_keys
    FOR EACH ROW EXECUTE FUNCTION scope_organisation_active();
