-- Version 4: who ran each load and publication, and a seal on every published version.
-- A published month is immutable by rule; its content checksum makes a change made behind
-- the code's back (an UPDATE on the file) show on every read, and star_score gets its key.
ALTER TABLE etl_load ADD COLUMN run_by VARCHAR;
COMMENT ON COLUMN etl_load.run_by IS 'Who ran the load: the operating-system account, or the person given with --by';
ALTER TABLE star_assessment ADD COLUMN run_by VARCHAR;
ALTER TABLE star_assessment ADD COLUMN content_sha256 VARCHAR;
COMMENT ON COLUMN star_assessment.published_by IS 'Who published it: the signed-in person on the dashboard, or --by on the command line';
COMMENT ON COLUMN star_assessment.run_by IS 'The operating-system account of the process that published it';
COMMENT ON COLUMN star_assessment.content_sha256 IS 'SHA-256 of the version''s star_score rows, checked on every read; NULL for versions published before seals (sealed at the next change)';
ALTER TABLE star_score ADD PRIMARY KEY (month, version, subject_type, subject_id);
