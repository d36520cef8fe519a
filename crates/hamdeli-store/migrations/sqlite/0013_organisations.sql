-- Organisations and their support programmes are created, edited and deactivated in the app.
-- A deactivated organisation keeps its records, but imports nothing more and is given no new
-- users or API keys: the triggers refuse that on every path (web, API, command line).
ALTER TABLE organisations ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE organisations ADD COLUMN updated_at INTEGER;
ALTER TABLE programmes ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE programmes ADD COLUMN updated_at INTEGER;

CREATE TRIGGER source_lists_organisation_active BEFORE INSERT ON source_lists
WHEN EXISTS (SELECT 1 FROM organisations WHERE id = NEW.organisation_id AND active = 0)
BEGIN
    SELECT RAISE(ABORT, 'organisation-inactive');
END;
CREATE TRIGGER import_batches_organisation_active BEFORE INSERT ON import_batches
WHEN EXISTS (SELECT 1 FROM source_lists l JOIN organisations o ON o.id = l.organisation_id
             WHERE l.id = NEW.list_id AND o.active = 0)
BEGIN
    SELECT RAISE(ABORT, 'organisation-inactive');
END;
CREATE TRIGGER users_organisation_active BEFORE INSERT ON users
WHEN EXISTS (SELECT 1 FROM organisations WHERE id = NEW.scope_organisation AND active = 0)
BEGIN
    SELECT RAISE(ABORT, 'organisation-inactive');
END;
CREATE TRIGGER users_organisation_active_update BEFORE UPDATE OF scope_organisation ON users
WHEN NEW.scope_organisation IS NOT OLD.scope_organisation
    AND EXISTS (SELECT 1 FROM organisations WHERE id = NEW.scope_organisation AND active = 0)
BEGIN
    SELECT RAISE(ABORT, 'organisation-inactive');
END;
CREATE TRIGGER api_keys_organisation_active BEFORE INSERT ON api_keys
WHEN EXISTS (SELECT 1 FROM organisations WHERE id = NEW.scope_organisation AND active = 0)
BEGIN
    SELECT RAISE(ABORT, 'organisation-inactive');
END;
