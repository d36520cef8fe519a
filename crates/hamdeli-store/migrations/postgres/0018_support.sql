-- Support an organisation records itself (issue 12.4): one piece of support to a person it
-- holds a record of, by the person page or `POST /api/v1/support`, in the support ledger with
-- `source = 'recorded'`. PostgreSQL. Keep in step with ../sqlite/0018_support.sql.

-- The day it was given (ISO), as reported; `at` is its noon in Iran.
ALTER TABLE support_ledger ADD COLUMN given_on TEXT;
ALTER TABLE support_ledger ADD COLUMN note TEXT;
-- Who recorded it: a user, or an organisation's API key.
ALTER TABLE support_ledger ADD COLUMN recorded_by BIGINT REFERENCES users (id);
ALTER TABLE support_ledger ADD COLUMN recorded_by_api_key BIGINT REFERENCES api_keys (id);
ALTER TABLE support_ledger ADD COLUMN recorded_at BIGINT;
-- The client's Idempotency-Key: the same key of an organisation records once.
ALTER TABLE support_ledger ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX support_ledger_idempotency ON support_ledger (organisation_id, idempotency_key);
CREATE INDEX support_ledger_organisation ON support_ledger (organisation_id, source, at);
