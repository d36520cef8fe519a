-- Import speed (issue 3, "Figures"): no query reads persons by national code (a search by code
-- goes through source_records_national_code, linkage through its own blocking), yet every
-- linked bulk import sorted 900k codes to rebuild this index. Keep in step with
-- ../sqlite/0008_persons_national_code.sql.
DROP INDEX persons_national_code;
