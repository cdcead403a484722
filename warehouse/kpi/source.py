"""Turn whatever connection the caller has into the relations the KPIs read.

Callers hold a plain DuckDB connection (dashboard, notebooks) or an ibis backend (a later
PySpark deployment). Either way a KPI asks this module for the event, roster or complaint
relation and gets a fresh mart when one exists, the base-table definition otherwise.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import duckdb
import ibis

# Load the DuckDB backend and its result converter (which imports pandas) now, at import
# time, rather than inside the first KPI query a dashboard serves (about 0.4 s).
import ibis.backends.duckdb
import ibis.backends.duckdb.converter
import ibis.expr.types as ir
import polars as pl
from ibis.backends import BaseBackend

from warehouse import marts
from warehouse.kpi import relations

Connection = duckdb.DuckDBPyConnection | BaseBackend


class StaleMartError(RuntimeError):
    """``use_marts=True`` was asked for but a mart is missing or older than the data."""


def backend_of(con: Any) -> BaseBackend:
    """Return an ibis backend for ``con`` (a DuckDB connection is wrapped, not copied)."""
    if isinstance(con, BaseBackend):
        return con
    if isinstance(con, duckdb.DuckDBPyConnection):
        return ibis.duckdb.from_connection(con)
    raise TypeError(f"expected a DuckDB connection or an ibis backend, got {type(con).__name__}")


def _raw_duckdb(backend: BaseBackend) -> duckdb.DuckDBPyConnection | None:
    """Return the DuckDB connection under an ibis DuckDB backend, else None."""
    if backend.name == "duckdb":
        raw = getattr(backend, "con", None)
        if isinstance(raw, duckdb.DuckDBPyConnection):
            return raw
    return None


# The columns each mart holds when built by the current definition of its relation.
_LAYOUTS: dict[str, tuple[str, ...]] = {
    marts.MART_EVENT: relations.EVENT_COLUMNS,
    marts.MART_CELL: (*relations.CELL_KEYS, *relations.MEASURES),
    marts.MART_ROSTER: relations.ROSTER_COLUMNS,
}


def _outdated_layouts(raw: duckdb.DuckDBPyConnection, names: Iterable[str]) -> list[str]:
    """Marts whose columns are not those of the current relation definitions.

    A mart is refreshed by the next load, but a warehouse can be read by newer code
    before that load: a mart written under an older definition of the relations (a
    measure added, dropped or redefined with its name) would then pass for fresh on row
    counts alone and answer with the old meaning, or fail on a missing column. Reading
    the base tables until the refresh costs speed, never correctness.
    """
    wanted = [n for n in names if n in _LAYOUTS]
    if not wanted:
        return []
    rows = raw.execute(
        "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns()"
        " WHERE database_name = current_database() AND schema_name = current_schema()"
        " AND list_contains(?, table_name) GROUP BY table_name",
        [wanted],
    ).fetchall()
    found = {name: tuple(columns) for name, columns in rows}
    return [n for n in wanted if set(found.get(n, ())) != set(_LAYOUTS[n])]


@dataclass(frozen=True)
class Source:
    """The relations of one warehouse connection, from marts when they are fresh."""

    backend: BaseBackend
    fresh: frozenset[str]

    @classmethod
    def of(cls, con: Connection, use_marts: bool | None = None) -> Source:
        """Resolve ``con`` and decide which marts to read.

        ``use_marts``: None uses the marts that are fresh and the base tables otherwise
        (with a warning for a stale mart); False always reads the base tables; True insists
        on fresh marts and raises :class:`StaleMartError` without them.
        """
        backend = backend_of(con)
        if use_marts is False:
            return cls(backend, frozenset())
        raw = _raw_duckdb(backend)
        state = marts.status(raw) if raw is not None else {}
        if raw is not None and state:
            state = {**state, **dict.fromkeys(_outdated_layouts(raw, state), False)}
        fresh = frozenset(name for name, ok in state.items() if ok)
        stale = set(state) - fresh
        if stale and use_marts is None:
            warnings.warn(
                f"marts {sorted(stale)} are older than the data (or than the code that"
                " defines them); reading base tables (run warehouse.marts.refresh after loading)",
                stacklevel=3,
            )
        missing = set(marts.MARTS) - fresh
        if use_marts and missing:
            raise StaleMartError(f"marts {sorted(missing)} are missing or stale")
        return cls(backend, fresh)

    def events(self) -> ir.Table:
        """Return the event relation (see :mod:`warehouse.kpi.relations`)."""
        if marts.MART_EVENT in self.fresh:
            return relations.table(self.backend, marts.MART_EVENT)
        return relations.base_events(self.backend)

    def measures(self, *, per_staff: bool = False) -> ir.Table:
        """Return the relation to sum additive measures over: cells when they suffice.

        ``per_staff`` (grouping by staff or filtering by position) needs the events; the
        sums are the same either way.
        """
        if not per_staff and marts.MART_CELL in self.fresh:
            return relations.table(self.backend, marts.MART_CELL)
        return self.events()

    def roster(self) -> ir.Table:
        """Return the roster relation, one row per segment and clock hour."""
        if marts.MART_ROSTER in self.fresh:
            return relations.table(self.backend, marts.MART_ROSTER)
        return relations.base_roster(self.backend)

    def complaints(self) -> ir.Table:
        """Return the complaint relation (small: always computed from fact_complaint)."""
        return relations.base_complaints(self.backend)

    def outlets(self) -> ir.Table:
        """Outlets with township and type, to list outlets that have no rows."""
        return relations.base_outlets(self.backend)

    def run(self, expr: ir.Table) -> pl.DataFrame:
        """Execute an expression on the backend and return a polars DataFrame."""
        return expr.to_polars()
