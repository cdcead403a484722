"""What the loads did: load history and quarantined rows, for operators and the DQ page."""

from __future__ import annotations

import duckdb
import polars as pl


def load_history(con: duckdb.DuckDBPyConnection, *, limit: int = 200) -> pl.DataFrame:
    """The latest loads, newest first, with where every row went."""
    return con.sql(
        """SELECT load_id, file_name, source_kind, status, rows_read, rows_loaded, rows_duplicate,
                  rows_quarantined, rows_dropped, started_at, finished_at, message, report_path
           FROM etl_load ORDER BY load_id DESC LIMIT ?""",
        params=[limit],
    ).pl()


def quarantined_rows(
    con: duckdb.DuckDBPyConnection, *, load_id: int | None = None, limit: int = 1000
) -> pl.DataFrame:
    """Quarantined rows with the rules they failed and the record as read."""
    return con.sql(
        """SELECT q.load_id, l.file_name, q.source_row, array_to_string(q.rules, ', ') AS rules,
                  q.raw_record::VARCHAR AS raw_record
           FROM etl_quarantine q JOIN etl_load l USING (load_id)
           WHERE ? IS NULL OR q.load_id = ?
           ORDER BY q.load_id, q.source_row LIMIT ?""",
        params=[load_id, load_id, limit],
    ).pl()
