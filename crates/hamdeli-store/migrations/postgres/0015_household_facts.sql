-- Household and support facts from the organisations' own lists (issue 12), PostgreSQL. Keep in
-- step with ../sqlite/0015_household_facts.sql.

-- What a row states about its household and its support, typed, as JSON: household id, the
-- head's code, relation, size, dependants, female-head reason, income, decile, disability,
-- chronic illness, COVID bereavement, programme, kind, amount (rials) and date.
ALTER TABLE source_records ADD COLUMN facts TEXT;

-- A household an import built: its list and its id there (re-importing the list updates it).
ALTER TABLE households ADD COLUMN source_list_id BIGINT REFERENCES source_lists (id);
ALTER TABLE households ADD COLUMN source_reference TEXT;
-- Rials a month, as the list states it.
ALTER TABLE households ADD COLUMN monthly_income BIGINT;
CREATE UNIQUE INDEX households_source ON households (source_list_id, source_reference);

-- The programme a piece of imported support came from.
ALTER TABLE support_ledger ADD COLUMN programme_id BIGINT REFERENCES programmes (id);
