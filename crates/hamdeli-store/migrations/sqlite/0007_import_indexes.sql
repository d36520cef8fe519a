-- Import speed (issue 3, "Figures"): no query reads source records by county (places are
-- searched and reported through persons), yet every bulk import sorted a million county codes
-- to rebuild this index. Keep in step with ../postgres/0007_import_indexes.sql.
DROP INDEX source_records_county;
