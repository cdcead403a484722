-- Version 3: published star assessments. A published month is immutable: a restatement
-- adds a new version with its reason; every version stays queryable.
CREATE TABLE star_assessment (
    month          VARCHAR NOT NULL,
    version        INTEGER NOT NULL,
    model_version  VARCHAR NOT NULL,
    data_as_of     BIGINT NOT NULL,
    published_at   TIMESTAMP NOT NULL,
    published_by   VARCHAR NOT NULL,
    reason         VARCHAR,
    PRIMARY KEY (month, version)
);
COMMENT ON TABLE star_assessment IS 'One row per published version of a month''s star assessment; never updated.';
COMMENT ON COLUMN star_assessment.month IS 'Month assessed, YYYY-MM';
COMMENT ON COLUMN star_assessment.version IS 'Version of the month: 1 when first published, +1 per restatement';
COMMENT ON COLUMN star_assessment.model_version IS 'Version of config/star_model.yaml used';
COMMENT ON COLUMN star_assessment.data_as_of IS 'Last etl_load id the assessment saw (the data it was computed on)';
COMMENT ON COLUMN star_assessment.published_at IS 'When it was published (UTC)';
COMMENT ON COLUMN star_assessment.published_by IS 'Who published it (operating-system user)';
COMMENT ON COLUMN star_assessment.reason IS 'Why a restatement was made; NULL for the first version';

CREATE TABLE star_score (
    month         VARCHAR NOT NULL,
    version       INTEGER NOT NULL,
    subject_type  VARCHAR NOT NULL,
    subject_id    VARCHAR NOT NULL,
    outlet_code   VARCHAR,
    peer_group    VARCHAR,
    status        VARCHAR NOT NULL,
    score         DOUBLE,
    stars         INTEGER,
    capped_by     VARCHAR,
    rank          INTEGER,
    movement      INTEGER,
    points        JSON
);
COMMENT ON TABLE star_score IS 'Scores of one published assessment version: one row per outlet or staff member.';
COMMENT ON COLUMN star_score.month IS 'Month assessed, YYYY-MM';
COMMENT ON COLUMN star_score.version IS 'Assessment version (star_assessment.version)';
COMMENT ON COLUMN star_score.subject_type IS 'staff or outlets';
COMMENT ON COLUMN star_score.subject_id IS 'Staff id or outlet code';
COMMENT ON COLUMN star_score.outlet_code IS 'Outlet of the staff member at the month''s end (staff only)';
COMMENT ON COLUMN star_score.peer_group IS 'Position the staff member was compared within (staff only)';
COMMENT ON COLUMN star_score.status IS 'rated or not_rated (too few hours)';
COMMENT ON COLUMN star_score.score IS 'Score 0-100 [points]';
COMMENT ON COLUMN star_score.stars IS 'Stars 1-5 after vetoes [stars]';
COMMENT ON COLUMN star_score.capped_by IS 'Veto that capped the stars, if any';
COMMENT ON COLUMN star_score.rank IS 'Rank among rated subjects of the same type (1 = best)';
COMMENT ON COLUMN star_score.movement IS 'Stars minus the previous month''s stars';
COMMENT ON COLUMN star_score.points IS 'Points per indicator, as JSON';
