-- reports: filled by its capability.
SELECT 1;
