-- Version 2: remember how each file was read and where its validation report is.
ALTER TABLE etl_load ADD COLUMN profile VARCHAR;
ALTER TABLE etl_load ADD COLUMN encoding VARCHAR;
ALTER TABLE etl_load ADD COLUMN report_path VARCHAR;
COMMENT ON COLUMN etl_load.profile IS 'Import profile used to map the file';
COMMENT ON COLUMN etl_load.encoding IS 'Text encoding the file was read with (utf-8, utf-8-sig, gb18030)';
COMMENT ON COLUMN etl_load.report_path IS 'HTML validation report written for this file';
