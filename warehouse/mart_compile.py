"""Compile the SQL that builds and appends to the marts from the KPI relations (ibis).

:mod:`warehouse.marts` decides what a refresh does; this module turns the single definition
of each mart (:mod:`warehouse.kpi.relations`) into DuckDB statements. It is the only part
of a refresh that imports ibis, and :mod:`warehouse.marts` keeps the statements of the
usual refresh in the warehouse, so most loads never import it.

Every statement selects columns cast to exactly the types ibis gives them, sorted like a
full build (see :func:`typed_select`).
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend
from ibis.backends.sql.datatypes import DuckDBType

from warehouse.kpi.relations import base_events, base_roster, cells, table


def backend(con: duckdb.DuckDBPyConnection) -> BaseBackend:
    """An ibis backend over the refresh's connection (wrapped, not copied)."""
    return ibis.duckdb.from_connection(con)


def typed_select(expr: ir.Table, order: tuple[str, ...]) -> str:
    """The relation as a SELECT where every column gets exactly the type ibis gave it, sorted.

    ibis leaves out casts it considers no-ops, but DuckDB sums integers into 128-bit
    integers; pinning the declared types keeps the marts narrow and their reads typed
    the same as the base relations.
    """
    columns = ", ".join(
        f'CAST("{col}" AS {DuckDBType.to_string(dtype)}) AS "{col}"'
        for col, dtype in expr.schema().items()
    )
    order_by = ", ".join(f'"{col}"' for col in order)
    return (
        f"SELECT {columns} FROM ({ibis.to_sql(expr, dialect='duckdb')}) AS src ORDER BY {order_by}"
    )


def full_select(b: BaseBackend, name: str, event_mart: str, order: tuple[str, ...]) -> str:
    """The whole relation mart ``name`` materialises (cells are summed from ``event_mart``)."""
    builders: dict[str, Callable[[], ir.Table]] = {
        "mart_event": lambda: base_events(b),
        "mart_event_cell": lambda: cells(table(b, event_mart)),
        "mart_roster_hour": lambda: base_roster(b),
    }
    return typed_select(builders[name](), order)


def events_of(b: BaseBackend, rows: str, order: tuple[str, ...]) -> str:
    """The event relation of the fact rows in table or view ``rows`` only."""
    ft = table(b, "fact_transaction")
    return typed_select(_with_source(base_events(b), ft, table(b, rows)), order)


def events_flipped(b: BaseBackend, since: int, flipped_parts: str, order: tuple[str, ...]) -> str:
    """The events of loads after ``since`` and of every partition in ``flipped_parts``."""
    ft = table(b, "fact_transaction")
    fp = table(b, flipped_parts)
    flipped = (fp.outlet_code == ft.outlet_code) & (fp.business_date == ft.business_date)
    rows = ft.filter((ft.load_id > since) | flipped.any())  # EXISTS: ft's own schema
    return typed_select(_with_source(base_events(b), ft, rows), order)


def cells_of(
    b: BaseBackend, event_mart: str, parts: str, keys: list[str], order: tuple[str, ...]
) -> str:
    """The cells of the partitions listed in table ``parts``, summed from ``event_mart``."""
    events = table(b, event_mart)
    return typed_select(cells(events.semi_join(table(b, parts), keys)), order)


def roster_of(b: BaseBackend, rows: str, order: tuple[str, ...]) -> str:
    """The roster-hour relation of the roster rows in table or view ``rows`` only."""
    fr = table(b, "fact_roster")
    return typed_select(_with_source(base_roster(b), fr, table(b, rows)), order)


def _with_source(expr: ir.Table, source: ir.Table, rows: ir.Table) -> ir.Table:
    """The same relation computed over ``rows`` (a subset of the source table)."""
    return expr.op().replace({source.op(): rows.op()}).to_expr()
