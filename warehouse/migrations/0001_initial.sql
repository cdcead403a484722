-- rccdash warehouse, version 1: dimensions, facts and ETL bookkeeping.
-- Every table and column carries a COMMENT: docs/schema.md is generated from them
-- (`rccdash schema --doc`), so the catalogue an analyst browses and the document agree.
-- Comment convention: "meaning [unit]"; the unit part is optional.

CREATE TABLE dim_outlet (
    outlet_code          VARCHAR PRIMARY KEY,
    outlet_name          VARCHAR NOT NULL,
    township             VARCHAR,
    outlet_type          VARCHAR NOT NULL,
    counter_windows      INTEGER,
    self_service_devices INTEGER,
    opened_on            DATE,
    latitude             DOUBLE,
    longitude            DOUBLE
);
COMMENT ON TABLE dim_outlet IS 'One row per outlet (grass-roots cooperative, branch, sub-branch or service point).';
COMMENT ON COLUMN dim_outlet.outlet_code IS 'Outlet code as issued by the union; text, leading zeros kept';
COMMENT ON COLUMN dim_outlet.outlet_name IS 'Outlet name';
COMMENT ON COLUMN dim_outlet.township IS 'Township (乡镇) the outlet serves';
COMMENT ON COLUMN dim_outlet.outlet_type IS 'county_department, township_branch, sub_branch or service_point';
COMMENT ON COLUMN dim_outlet.counter_windows IS 'Counter windows installed [windows]';
COMMENT ON COLUMN dim_outlet.self_service_devices IS 'Self-service devices installed at the time of the export (ATM, cash recycler) [devices]';
COMMENT ON COLUMN dim_outlet.opened_on IS 'Date the outlet opened';
COMMENT ON COLUMN dim_outlet.latitude IS 'Latitude, WGS84 [degrees]';
COMMENT ON COLUMN dim_outlet.longitude IS 'Longitude, WGS84 [degrees]';

CREATE TABLE dim_staff (
    staff_id     VARCHAR NOT NULL,
    valid_from   DATE NOT NULL,
    valid_to     DATE,
    staff_name   VARCHAR,
    outlet_code  VARCHAR NOT NULL,
    position     VARCHAR NOT NULL,
    hire_date    DATE,
    status       VARCHAR,
    is_current   BOOLEAN NOT NULL,
    PRIMARY KEY (staff_id, valid_from)
);
COMMENT ON TABLE dim_staff IS 'One row per staff assignment: a transfer closes one row (valid_to) and opens the next.';
COMMENT ON COLUMN dim_staff.staff_id IS 'Staff (teller) id; text, leading zeros kept';
COMMENT ON COLUMN dim_staff.valid_from IS 'First day of this assignment (inclusive)';
COMMENT ON COLUMN dim_staff.valid_to IS 'Day the next assignment starts (exclusive); NULL while current';
COMMENT ON COLUMN dim_staff.staff_name IS 'Full name';
COMMENT ON COLUMN dim_staff.outlet_code IS 'Outlet of this assignment';
COMMENT ON COLUMN dim_staff.position IS 'teller, lobby_manager, account_manager, credit_officer or outlet_head';
COMMENT ON COLUMN dim_staff.hire_date IS 'Date hired by the union';
COMMENT ON COLUMN dim_staff.status IS 'active, on_leave or left';
COMMENT ON COLUMN dim_staff.is_current IS 'True for the assignment in force now (valid_to IS NULL)';

CREATE TABLE dim_business_type (
    business_type       VARCHAR PRIMARY KEY,
    name_en             VARCHAR NOT NULL,
    name_zh             VARCHAR NOT NULL,
    standard_handling_s INTEGER NOT NULL,
    cash_flow_sign      INTEGER NOT NULL
);
COMMENT ON TABLE dim_business_type IS 'Business-type catalogue with the standard handling time the union sets per type.';
COMMENT ON COLUMN dim_business_type.business_type IS 'Canonical business type code (deposit, withdrawal, ...)';
COMMENT ON COLUMN dim_business_type.name_en IS 'English label';
COMMENT ON COLUMN dim_business_type.name_zh IS 'Chinese label';
COMMENT ON COLUMN dim_business_type.standard_handling_s IS 'Standard counter handling time for one transaction of this type [s]';
COMMENT ON COLUMN dim_business_type.cash_flow_sign IS 'Sign of the amount in net deposits: +1 deposit, -1 withdrawal, 0 not a deposit flow';

CREATE TABLE dim_date (
    date            DATE PRIMARY KEY,
    year            INTEGER NOT NULL,
    quarter         INTEGER NOT NULL,
    month           INTEGER NOT NULL,
    day             INTEGER NOT NULL,
    weekday         INTEGER NOT NULL,
    iso_week        INTEGER NOT NULL,
    year_month      VARCHAR NOT NULL,
    year_quarter    VARCHAR NOT NULL,
    is_weekend      BOOLEAN NOT NULL,
    is_holiday      BOOLEAN NOT NULL,
    holiday_name    VARCHAR,
    is_business_day BOOLEAN NOT NULL
);
COMMENT ON TABLE dim_date IS 'Calendar: one row per day spanning the data, with the statutory holiday calendar.';
COMMENT ON COLUMN dim_date.date IS 'Calendar day';
COMMENT ON COLUMN dim_date.year IS 'Calendar year';
COMMENT ON COLUMN dim_date.quarter IS 'Quarter 1-4';
COMMENT ON COLUMN dim_date.month IS 'Month 1-12';
COMMENT ON COLUMN dim_date.day IS 'Day of month 1-31';
COMMENT ON COLUMN dim_date.weekday IS 'Day of week, 0 = Monday ... 6 = Sunday';
COMMENT ON COLUMN dim_date.iso_week IS 'ISO 8601 week number';
COMMENT ON COLUMN dim_date.year_month IS 'Month label, e.g. 2026-03';
COMMENT ON COLUMN dim_date.year_quarter IS 'Quarter label, e.g. 2026Q1';
COMMENT ON COLUMN dim_date.is_weekend IS 'Saturday or Sunday';
COMMENT ON COLUMN dim_date.is_holiday IS 'Statutory public holiday (day off)';
COMMENT ON COLUMN dim_date.holiday_name IS 'Holiday name, or the holiday a weekend working day makes up for';
COMMENT ON COLUMN dim_date.is_business_day IS 'Official working day: a weekday that is not a holiday, or a weekend day declared a working day (调休)';

CREATE TABLE fact_transaction (
    txn_id           VARCHAR NOT NULL,
    outlet_code      VARCHAR NOT NULL,
    business_date    DATE NOT NULL,
    channel          VARCHAR NOT NULL,
    business_type    VARCHAR NOT NULL,
    staff_id         VARCHAR,
    window_no        INTEGER,
    amount           DECIMAL(18, 2),
    customer_segment VARCHAR,
    ticket_at        TIMESTAMP,
    called_at        TIMESTAMP,
    started_at       TIMESTAMP,
    completed_at     TIMESTAMP,
    arrival_at       TIMESTAMP NOT NULL,
    status           VARCHAR NOT NULL,
    satisfaction     INTEGER,
    reversal_of      VARCHAR,
    is_reversed      BOOLEAN NOT NULL,
    wait_s           INTEGER,
    service_s        INTEGER,
    load_id          BIGINT NOT NULL
);
COMMENT ON TABLE fact_transaction IS 'One row per customer service event (counter or self-service). txn_id is unique (enforced by the ETL, not an index, to keep loads fast).';
COMMENT ON COLUMN fact_transaction.txn_id IS 'Transaction / event id (交易流水号); text';
COMMENT ON COLUMN fact_transaction.outlet_code IS 'Outlet where the event happened';
COMMENT ON COLUMN fact_transaction.business_date IS 'Local date of arrival_at';
COMMENT ON COLUMN fact_transaction.channel IS 'counter, atm, cash_recycler, pos, phone, online or mobile';
COMMENT ON COLUMN fact_transaction.business_type IS 'Business type code, see dim_business_type';
COMMENT ON COLUMN fact_transaction.staff_id IS 'Teller who served; NULL for self-service and abandoned customers';
COMMENT ON COLUMN fact_transaction.window_no IS 'Counter window number; NULL off the counter';
COMMENT ON COLUMN fact_transaction.amount IS 'Transaction amount, always positive; direction comes from business_type [CNY]';
COMMENT ON COLUMN fact_transaction.customer_segment IS 'vip, regular or new';
COMMENT ON COLUMN fact_transaction.ticket_at IS 'Customer took a queue ticket / entered the queue; NULL off the counter';
COMMENT ON COLUMN fact_transaction.called_at IS 'Ticket called to a window';
COMMENT ON COLUMN fact_transaction.started_at IS 'Service started';
COMMENT ON COLUMN fact_transaction.completed_at IS 'Service completed';
COMMENT ON COLUMN fact_transaction.arrival_at IS 'Derived: when demand arrived, ticket_at for queued customers else started_at';
COMMENT ON COLUMN fact_transaction.status IS 'completed, reversed, error or abandoned (left before being served)';
COMMENT ON COLUMN fact_transaction.satisfaction IS 'Window evaluator rating 1 (very dissatisfied) to 5 (very satisfied); NULL when not rated';
COMMENT ON COLUMN fact_transaction.reversal_of IS 'For a reversal (冲正) row: txn_id of the transaction it reverses';
COMMENT ON COLUMN fact_transaction.is_reversed IS 'Derived: a later reversal row points at this transaction, so it is netted out of throughput and amounts';
COMMENT ON COLUMN fact_transaction.wait_s IS 'Derived: started_at - ticket_at [s]';
COMMENT ON COLUMN fact_transaction.service_s IS 'Derived: completed_at - started_at [s]';
COMMENT ON COLUMN fact_transaction.load_id IS 'etl_load row that brought this event in';

CREATE TABLE fact_roster (
    work_date   DATE NOT NULL,
    staff_id    VARCHAR NOT NULL,
    outlet_code VARCHAR NOT NULL,
    window_no   INTEGER,
    shift_start TIMESTAMP NOT NULL,
    shift_end   TIMESTAMP NOT NULL,
    staffed_s   INTEGER NOT NULL,
    load_id     BIGINT NOT NULL
);
COMMENT ON TABLE fact_roster IS 'Daily roster / attendance: one row per shift segment a staff member worked (a lunch break splits a day into two segments).';
COMMENT ON COLUMN fact_roster.work_date IS 'Working day';
COMMENT ON COLUMN fact_roster.staff_id IS 'Staff member on duty';
COMMENT ON COLUMN fact_roster.outlet_code IS 'Outlet worked at';
COMMENT ON COLUMN fact_roster.window_no IS 'Counter window staffed; NULL for lobby and back-office duty';
COMMENT ON COLUMN fact_roster.shift_start IS 'Segment start';
COMMENT ON COLUMN fact_roster.shift_end IS 'Segment end';
COMMENT ON COLUMN fact_roster.staffed_s IS 'Derived: shift_end - shift_start [s]';
COMMENT ON COLUMN fact_roster.load_id IS 'etl_load row that brought this segment in';

CREATE TABLE fact_complaint (
    complaint_id   VARCHAR NOT NULL,
    received_at    TIMESTAMP NOT NULL,
    channel        VARCHAR NOT NULL,
    outlet_code    VARCHAR NOT NULL,
    staff_id       VARCHAR,
    customer_ref   VARCHAR,
    category       VARCHAR NOT NULL,
    severity       VARCHAR NOT NULL,
    is_complex     BOOLEAN NOT NULL,
    description    VARCHAR,
    status         VARCHAR NOT NULL,
    resolved_at    TIMESTAMP,
    substantiated  BOOLEAN,
    penalty        VARCHAR,
    penalty_amount DECIMAL(12, 2),
    resolution_days DOUBLE,
    load_id        BIGINT NOT NULL
);
COMMENT ON TABLE fact_complaint IS 'One row per customer complaint, with its handling and any penalty.';
COMMENT ON COLUMN fact_complaint.complaint_id IS 'Complaint id (投诉编号); text';
COMMENT ON COLUMN fact_complaint.received_at IS 'When the complaint was received (受理时间)';
COMMENT ON COLUMN fact_complaint.channel IS 'hotline, in_person, letter, online or regulator';
COMMENT ON COLUMN fact_complaint.outlet_code IS 'Outlet complained about';
COMMENT ON COLUMN fact_complaint.staff_id IS 'Staff member complained about; NULL when nobody is named';
COMMENT ON COLUMN fact_complaint.customer_ref IS 'Pseudonymous customer reference, for repeat complaints';
COMMENT ON COLUMN fact_complaint.category IS 'attitude, language, wait_time, error, environment, fees_product, facility or other';
COMMENT ON COLUMN fact_complaint.severity IS 'minor, major or critical';
COMMENT ON COLUMN fact_complaint.is_complex IS 'Complex complaint (30-day deadline) rather than simple (15 days)';
COMMENT ON COLUMN fact_complaint.description IS 'Free text as written; may contain anything, including markup: escape before display';
COMMENT ON COLUMN fact_complaint.status IS 'open, investigating, resolved or closed';
COMMENT ON COLUMN fact_complaint.resolved_at IS 'When handling finished (办结时间); NULL while open';
COMMENT ON COLUMN fact_complaint.substantiated IS 'The outlet or staff member was at fault (是否有责); NULL until decided';
COMMENT ON COLUMN fact_complaint.penalty IS 'none, criticism, fine, suspension or transfer';
COMMENT ON COLUMN fact_complaint.penalty_amount IS 'Fine imposed [CNY]';
COMMENT ON COLUMN fact_complaint.resolution_days IS 'Derived: resolved_at - received_at [days]';
COMMENT ON COLUMN fact_complaint.load_id IS 'etl_load row that brought this complaint in';

CREATE TABLE ref_kpi_target (
    year        INTEGER NOT NULL,
    kpi         VARCHAR NOT NULL,
    outlet_code VARCHAR,
    target      DOUBLE NOT NULL
);
COMMENT ON TABLE ref_kpi_target IS 'KPI targets per year: outlet_code NULL is the county default, otherwise an outlet override.';
COMMENT ON COLUMN ref_kpi_target.year IS 'Target year';
COMMENT ON COLUMN ref_kpi_target.kpi IS 'KPI name as in the KPI layer (e.g. service_level, wait_p90_s)';
COMMENT ON COLUMN ref_kpi_target.outlet_code IS 'Outlet the override applies to; NULL for the county default';
COMMENT ON COLUMN ref_kpi_target.target IS 'Target value, in the KPI''s own unit';

CREATE TABLE etl_load (
    load_id          BIGINT PRIMARY KEY,
    file_name        VARCHAR NOT NULL,
    file_sha256      VARCHAR NOT NULL,
    source_kind      VARCHAR NOT NULL,
    rows_read        BIGINT NOT NULL,
    rows_loaded      BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    rows_duplicate   BIGINT NOT NULL,
    rows_dropped     BIGINT NOT NULL,
    status           VARCHAR NOT NULL,
    started_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP,
    message          VARCHAR
);
COMMENT ON TABLE etl_load IS 'One row per file per load: what was read and where every row went (read = loaded + duplicate + quarantined + dropped).';
COMMENT ON COLUMN etl_load.load_id IS 'Load id, increasing';
COMMENT ON COLUMN etl_load.file_name IS 'File name as given to the loader';
COMMENT ON COLUMN etl_load.file_sha256 IS 'SHA-256 of the file bytes; a file already loaded is skipped';
COMMENT ON COLUMN etl_load.source_kind IS 'Export kind: transactions, roster, staff, complaints, outlets, business_types, holidays, kpi_targets';
COMMENT ON COLUMN etl_load.rows_read IS 'Data rows read from the file [rows]';
COMMENT ON COLUMN etl_load.rows_loaded IS 'Rows added to the warehouse [rows]';
COMMENT ON COLUMN etl_load.rows_quarantined IS 'Rows sent to etl_quarantine [rows]';
COMMENT ON COLUMN etl_load.rows_duplicate IS 'Rows already present with identical content [rows]';
COMMENT ON COLUMN etl_load.rows_dropped IS 'Rows dropped by an import-profile rule [rows]';
COMMENT ON COLUMN etl_load.status IS 'loaded, skipped (same file loaded before) or rejected';
COMMENT ON COLUMN etl_load.started_at IS 'Load start (UTC)';
COMMENT ON COLUMN etl_load.finished_at IS 'Load end (UTC)';
COMMENT ON COLUMN etl_load.message IS 'Operator message: why a file was skipped or rejected';

CREATE TABLE etl_quarantine (
    load_id     BIGINT NOT NULL,
    source_row  BIGINT NOT NULL,
    rules       VARCHAR[] NOT NULL,
    raw_record  JSON NOT NULL
);
COMMENT ON TABLE etl_quarantine IS 'Rows that failed validation, with every rule they failed and the record as read.';
COMMENT ON COLUMN etl_quarantine.load_id IS 'etl_load row of the file the row came from';
COMMENT ON COLUMN etl_quarantine.source_row IS 'Data row number in the file, 1 = first row after the header';
COMMENT ON COLUMN etl_quarantine.rules IS 'Names of the failed rules';
COMMENT ON COLUMN etl_quarantine.raw_record IS 'The row as read, column name to text value';
