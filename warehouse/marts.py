"""Materialised KPI relations, so dashboard queries on a county-year stay interactive.

The marts are exactly the relations of :mod:`warehouse.kpi.relations` written to tables,
so a KPI computed from a mart equals the KPI computed from the base tables row for row:

- ``mart_event``: the event relation (one row per ``fact_transaction`` row) with the
  outlet and staff attributes already joined, the served / counter / error flags already
  decided and the wait and handling times already restricted to their populations. It is
  sorted by outlet and date, so one outlet's or one month's rows sit together and DuckDB's
  zone maps skip the rest. Percentiles are still computed from these events, never from
  pre-aggregates.
- ``mart_event_cell``: the event mart summed per outlet, date, hour, channel and business
  type (every measure is additive): about 15 times fewer rows for the KPIs that need
  neither staff nor percentiles.
- ``mart_roster_hour``: roster segments cut into clock hours with the staff position on
  the work date, so staffed time groups by hour as cheaply as by day.
- ``mart_meta``: when each mart was built and from how many source rows. A KPI uses a mart
  only while these still match the warehouse, so a load that forgot to refresh costs speed,
  never correctness.

``refresh`` is called by the ETL at the end of every load, on the writable connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb
import ibis
from ibis.backends.sql.datatypes import DuckDBType

from warehouse.kpi.relations import base_events, base_roster, cells, table

MART_EVENT = "mart_event"
MART_CELL = "mart_event_cell"
MART_ROSTER = "mart_roster_hour"
MART_META = "mart_meta"

# mart name -> (source table whose row count it reflects, sort order of the mart), in
# build order: the cell mart is summed from the event mart.
MARTS: dict[str, tuple[str, tuple[str, ...]]] = {
    MART_EVENT: ("fact_transaction", ("outlet_code", "business_date", "hour")),
    MART_CELL: ("fact_transaction", ("outlet_code", "business_date", "hour")),
    MART_ROSTER: ("fact_roster", ("outlet_code", "business_date", "hour")),
}


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    """First value of a query, fully consumed (DuckDB 2 refuses new work otherwise)."""
    rows = con.sql(sql).fetchall()
    return rows[0][0] if rows else None


def _table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Tables and views of the connection's current schema."""
    rows = con.sql(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = current_schema()"
        " UNION ALL SELECT view_name FROM duckdb_views() WHERE schema_name = current_schema()"
    ).fetchall()
    return {row[0] for row in rows}


def _last_load_id(con: duckdb.DuckDBPyConnection, tables: set[str]) -> int | None:
    """Highest etl_load id, or None in a warehouse never loaded through the ETL."""
    if "etl_load" not in tables:
        return None
    value = _scalar(con, "SELECT max(load_id) FROM etl_load")
    return None if value is None else int(value)


def refresh(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild every mart from the warehouse tables; return the rows written per mart.

    Called at the end of each ETL load so the dashboard never reads a mart older than the
    data. Each mart is rebuilt with CREATE OR REPLACE from the same ibis relation the KPI
    layer uses without marts. It runs in the caller's transaction if one is open (the ETL
    works on a staging copy swapped in atomically); without one, a failure half-way
    leaves the marts not yet rebuilt unrecorded, so KPIs read the base tables instead.

    Example: ``refresh(duckdb.connect("data/warehouse.duckdb"))`` returns
    ``{"mart_event": <rows>, "mart_event_cell": <rows>, "mart_roster_hour": <rows>}``.
    """
    backend = ibis.duckdb.from_connection(con)
    relations = {
        MART_EVENT: lambda: base_events(backend),
        MART_CELL: lambda: cells(table(backend, MART_EVENT)),
        MART_ROSTER: lambda: base_roster(backend),
    }
    return _rebuild(con, relations)


def _typed(expr: ibis.Table, select_sql: str) -> str:
    """Wrap a compiled query so every column gets exactly the type ibis gave it.

    ibis leaves out casts it considers no-ops, but DuckDB sums integers into 128-bit
    integers; pinning the declared types keeps the marts narrow and their reads typed
    the same as the base relations.
    """
    columns = ", ".join(
        f'CAST("{col}" AS {DuckDBType.to_string(dtype)}) AS "{col}"'
        for col, dtype in expr.schema().items()
    )
    return f"SELECT {columns} FROM ({select_sql}) AS src"


def _rebuild(
    con: duckdb.DuckDBPyConnection, relations: dict[str, Callable[[], ibis.Table]]
) -> dict[str, int]:
    """Write each mart and its mart_meta row."""
    tables = _table_names(con)
    last_load = _last_load_id(con, tables)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    written: dict[str, int] = {}
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {MART_META} (mart VARCHAR PRIMARY KEY,"
        " source_table VARCHAR NOT NULL, source_rows BIGINT NOT NULL, last_load_id BIGINT,"
        " refreshed_at TIMESTAMP NOT NULL)"
    )
    # Forget every mart first: if a rebuild fails half-way, the marts not yet rebuilt have
    # no meta row and are not read, rather than passing for fresh with old contents.
    con.execute(f"DELETE FROM {MART_META}")
    for name, build in relations.items():
        source, order = MARTS[name]
        expr = build()
        select_sql = ibis.to_sql(expr.order_by(list(order)), dialect="duckdb")
        source_rows = int(_scalar(con, f"SELECT count(*) FROM {source}") or 0)
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {_typed(expr, select_sql)}")
        written[name] = int(_scalar(con, f"SELECT count(*) FROM {name}") or 0)
        con.execute(
            f"INSERT OR REPLACE INTO {MART_META} VALUES (?, ?, ?, ?, ?)",
            [name, source, source_rows, last_load, now],
        )
    return written


def drop(con: duckdb.DuckDBPyConnection) -> None:
    """Remove the marts (KPIs then read the base tables); used by tests and benchmarks."""
    for name in (*MARTS, MART_META):
        con.execute(f"DROP TABLE IF EXISTS {name}")


def status(con: duckdb.DuckDBPyConnection) -> dict[str, bool]:
    """Each mart recorded in mart_meta, and whether it still matches the warehouse.

    A mart is fresh when its source table has the row count it had at refresh time and no
    ETL load has happened since. The checks read metadata-sized results (about a
    millisecond on a county-year), so they can run before every KPI query.
    """
    tables = _table_names(con)
    if MART_META not in tables:
        return {}
    meta = con.sql(
        f"SELECT mart, source_table, source_rows, last_load_id FROM {MART_META}"
    ).fetchall()
    last_load = _last_load_id(con, tables)
    out: dict[str, bool] = {}
    for name, source, rows, load_id in meta:
        if name not in tables or source not in tables:
            out[name] = False
            continue
        current = int(_scalar(con, f"SELECT count(*) FROM {source}") or 0)
        out[name] = current == rows and load_id == last_load
    return out


def fresh_marts(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the marts that exist and still match the warehouse they were built from."""
    return {name for name, fresh in status(con).items() if fresh}
