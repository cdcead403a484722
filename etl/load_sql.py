"""Move accepted rows from staging into the warehouse tables, and keep derived state right.

``quarantine_rows`` and ``move_rows`` run per file (quarantined rows with their raw
record; rows whose fate is ``load``); ``finish_run`` runs once per load run, after all
files, for what depends on the whole warehouse: the calendar span and the marts.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import duckdb

from etl.mapping import quote
from etl.raw import RawRows, quarantined_records
from warehouse.calendar import apply_holidays, ensure_covers

if TYPE_CHECKING:
    from etl.stage import Fates

# Per kind: statements moving the accepted rows (view ``src``) into the warehouse.
INSERT_SQL: dict[str, list[str]] = {
    "outlets": [
        "INSERT OR REPLACE INTO dim_outlet SELECT outlet_code, outlet_name, township, outlet_type,"
        " counter_windows, self_service_devices, opened_on, latitude, longitude FROM src"
    ],
    "business_types": [
        "INSERT OR REPLACE INTO dim_business_type SELECT business_type, name_en, name_zh,"
        " standard_handling_s, cash_flow_sign FROM src"
    ],
    "kpi_targets": [
        "DELETE FROM ref_kpi_target t USING src s WHERE t.year = s.year AND t.kpi = s.kpi"
        " AND t.outlet_code IS NOT DISTINCT FROM s.outlet_code",
        "INSERT INTO ref_kpi_target SELECT year, kpi, outlet_code, target FROM src",
    ],
    "staff": [
        "INSERT OR REPLACE INTO dim_staff SELECT staff_id, effective_from, NULL, name, outlet_code,"
        " position, hire_date, status, true FROM src",
        # A transfer closes the previous assignment: valid_to is the next valid_from.
        "UPDATE dim_staff SET valid_to = n.next_from, is_current = n.next_from IS NULL"
        " FROM (SELECT staff_id, valid_from, lead(valid_from) OVER"
        " (PARTITION BY staff_id ORDER BY valid_from) AS next_from FROM dim_staff) AS n"
        " WHERE dim_staff.staff_id = n.staff_id AND dim_staff.valid_from = n.valid_from",
    ],
    "roster": [
        "INSERT INTO fact_roster SELECT work_date, staff_id, outlet_code, window_no, shift_start,"
        " shift_end, date_diff('second', shift_start, shift_end), $load_id FROM src"
    ],
    "transactions": [
        "INSERT INTO fact_transaction SELECT txn_id, outlet_code,"
        " coalesce(ticket_at, started_at)::DATE, channel, business_type, staff_id, window_no,"
        " amount, customer_segment, ticket_at, called_at, started_at, completed_at,"
        " coalesce(ticket_at, started_at), status, satisfaction, reversal_of,"
        # Reversed by a reversal in this file or one loaded before (either may come first).
        " txn_id IN (SELECT reversal_of FROM src WHERE reversal_of IS NOT NULL"
        " UNION ALL SELECT reversal_of FROM fact_transaction WHERE reversal_of IS NOT NULL),"
        " date_diff('second', ticket_at, started_at),"
        " date_diff('second', started_at, completed_at),"
        " $load_id FROM src"
    ],
    "complaints": [
        "INSERT INTO fact_complaint SELECT complaint_id, received_at, channel, outlet_code,"
        " staff_id, customer_ref, category, severity, is_complex, description, status,"
        " resolved_at, substantiated, penalty, penalty_amount,"
        " date_diff('second', received_at, resolved_at) / 86400.0, $load_id FROM src"
    ],
}


def quarantine_rows(
    con: duckdb.DuckDBPyConnection, load_id: int, raw: RawRows, quarantined: int
) -> None:
    """Copy the file's quarantined rows into ``etl_quarantine`` with their raw record.

    The record is the text as read, untouched by trimming and folding, so the operator
    sees what the source system exported. With no quarantined rows (the usual case) the
    raw records are not looked at.
    """
    if not quarantined:
        return
    records = quarantined_records(con, raw, "SELECT __row FROM fate WHERE fate = 'quarantined'")
    record = ", ".join(f"{quote(c)} := r.{quote(c)}" for c in raw.columns)
    con.execute(
        f"""INSERT INTO etl_quarantine (load_id, source_row, rules, raw_record)
            SELECT {load_id}, f.__row, f.rules, to_json(struct_pack({record}))
            FROM fate f JOIN ({records}) r ON r.__row = f.__row
            WHERE f.fate = 'quarantined'"""
    )


def move_rows(con: duckdb.DuckDBPyConnection, kind: str, load_id: int) -> bool:
    """Insert the file's accepted rows: the staged rows ``fate`` does not list.

    ``fate`` lists only the exceptions (see :func:`etl.stage.decide`), so the anti join
    against it is cheap however many rows load. Returns whether reversals of the file may
    have marked originals of earlier loads reversed (the marts then re-derive those).
    """
    con.execute(
        "CREATE OR REPLACE TEMP VIEW src AS SELECT s.* FROM stg s"
        " ANTI JOIN fate f ON f.__row = s.__row"
    )
    if kind == "holidays":
        apply_holidays(con, "src")
    for statement in INSERT_SQL.get(kind, []):
        con.execute(statement.replace("$load_id", str(load_id)))
    return kind == "transactions" and _link_earlier_originals(con)


def _link_earlier_originals(con: duckdb.DuckDBPyConnection) -> bool:
    """Mark originals loaded by an earlier file that this file's reversals point at.

    Checked first on the file alone, so the usual case (no such reversal) costs no scan of
    the whole fact table; the check joins the few reversal targets to the file's ids
    (rather than hashing every id of the file to look the targets up). Returns whether
    there were such reversals.
    """
    pending = con.execute(
        "SELECT count(*) FROM (SELECT DISTINCT reversal_of FROM src"
        " WHERE reversal_of IS NOT NULL) r ANTI JOIN src s ON s.txn_id = r.reversal_of"
    ).fetchall()[0][0]
    if pending:
        con.execute(
            "UPDATE fact_transaction SET is_reversed = true WHERE NOT is_reversed AND txn_id IN"
            " (SELECT reversal_of FROM src WHERE reversal_of IS NOT NULL)"
        )
    return bool(pending)


def finish_run(con: duckdb.DuckDBPyConnection) -> None:
    """Derived state after all files of a run: the calendar span and the marts."""
    # Imported here: the pipeline imports the marts in the background while files are read.
    from warehouse import marts

    ensure_covers(con, "fact_transaction", "business_date")
    marts.refresh(con)


def next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    """The id the next ``etl_load`` row takes (ids increase; a retry takes one too)."""
    return int(con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM etl_load").fetchall()[0][0])


def record_load(
    con: duckdb.DuckDBPyConnection,
    *,
    load_id: int,
    file_name: str,
    digest: str,
    kind: str,
    fates: Fates,
    status: str,
    started: dt.datetime,
    message: str | None,
    profile: str,
    encoding: str | None,
    run_by: str,
    report: str | None = None,
    retry_of: int | None = None,
) -> None:
    """Write one ``etl_load`` row: a file's load, or a quarantine retry of an earlier one."""
    con.execute(
        "INSERT INTO etl_load (load_id, file_name, file_sha256, source_kind, rows_read,"
        " rows_loaded, rows_quarantined, rows_duplicate, rows_dropped, status, started_at,"
        " finished_at, message, profile, encoding, report_path, run_by, retry_of)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            load_id,
            file_name,
            digest,
            kind,
            fates.read,
            fates.load,
            fates.quarantined,
            fates.duplicate,
            fates.dropped,
            status,
            started,
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
            message,
            profile,
            encoding,
            report,
            run_by,
            retry_of,
        ],
    )
