-- Version 5: quarantined rows can be retried once the reference data they failed on is
-- fixed. A retry is a load of its own (etl_load.retry_of names the load whose rows it
-- re-validated); a row it releases stays in etl_quarantine, marked with the retry that
-- released it and how, so every row of every file can still be traced.
ALTER TABLE etl_load ADD COLUMN retry_of BIGINT;
COMMENT ON COLUMN etl_load.retry_of IS 'For a quarantine retry (status retry): the load whose quarantined rows it re-validated; NULL for a file';
COMMENT ON COLUMN etl_load.status IS 'loaded, skipped (same file loaded before), rejected, or retry (quarantined rows of an earlier load re-validated)';
ALTER TABLE etl_quarantine ADD COLUMN released_by BIGINT;
ALTER TABLE etl_quarantine ADD COLUMN released_as VARCHAR;
COMMENT ON COLUMN etl_quarantine.released_by IS 'The retry (etl_load) that released the row; NULL while it is still quarantined';
COMMENT ON COLUMN etl_quarantine.released_as IS 'What the retry did with it: loaded, duplicate or dropped; NULL while quarantined';
