"""Materialised KPI relations, so dashboard queries on a county-year stay interactive.

The marts are exactly the relations of :mod:`warehouse.kpi.relations` written to tables,
so a KPI computed from a mart equals the KPI computed from the base tables row for row:

- ``mart_event``: the event relation (one row per ``fact_transaction`` row) with the
  outlet and staff attributes already joined, the served / counter / error flags already
  decided and the wait and handling times already restricted to their populations. A full
  build sorts it by outlet and date, so one outlet's or one month's rows sit together and
  DuckDB's zone maps skip the rest; an incremental refresh appends each run's rows, sorted
  the same way, after them (a monthly block sorted by outlet skips as well). Percentiles
  are still computed from these events, never from pre-aggregates.
- ``mart_event_cell``: the event mart summed per outlet, date, hour, channel and business
  type (every measure is additive): about 15 times fewer rows for the KPIs that need
  neither staff nor percentiles.
- ``mart_roster_hour``: roster segments cut into clock hours with the staff position on
  the work date, so staffed time groups by hour as cheaply as by day.
- ``mart_meta``: per mart, how it was last refreshed (``full``, ``incremental`` or
  ``unchanged``) and the state of the warehouse it reflects: source rows, last load ids,
  reversed originals, and a fingerprint of the definition and the dimensions. A KPI uses a
  mart only while the row count and last load still match the warehouse, so a load that
  forgot to refresh costs speed, never correctness.
- ``mart_sql``: the compiled statements appending a load's rows to each mart, under the
  fingerprint of the code and schema that compiled them (:mod:`warehouse.mart_compile`
  compiles them with ibis, which a refresh then only imports when they are missing or
  were compiled by other code, or when a reversal re-derives older partitions).

``refresh`` is called by the ETL at the end of every load, on the writable connection. It
brings a mart up to date incrementally when the only changes since its last refresh are
those a load makes: new fact rows with a higher ``load_id``, and originals of earlier loads
marked reversed by a reversal in a new load. Anything else (a dimension, the definition or
the schema changed; rows of earlier loads added, removed or flipped otherwise; a mart or
its record missing or with the wrong row count) rebuilds that mart from scratch. Either
way the mart holds the same rows as a full rebuild.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from warehouse.settings import satisfied_from

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

log = logging.getLogger(__name__)

MART_EVENT = "mart_event"
MART_CELL = "mart_event_cell"
MART_ROSTER = "mart_roster_hour"
MART_META = "mart_meta"
# Compiled statements of the usual refresh (new rows appended), kept beside the marts so
# that a load need not import ibis to compile them again (see ``_Statements``).
MART_SQL = "mart_sql"
# Views of the rows a refresh appends (those of loads after the one the mart covered).
NEW_ROWS = {"fact_transaction": "_mart_new_fact", "fact_roster": "_mart_new_roster"}
# The modules whose source decides what the marts hold and how they are written.
DEFINING_MODULES = ("warehouse.kpi.relations", "warehouse.mart_compile", __name__)

# mart name -> (source table whose row count it reflects, sort order of the mart), in
# build order: the cell mart is summed from the event mart. The event mart is sorted by
# outlet and date only: that is what its zone maps skip by, and an hour key as well cost
# 3% more CPU on 2M events for no block DuckDB could skip.
MARTS: dict[str, tuple[str, tuple[str, ...]]] = {
    MART_EVENT: ("fact_transaction", ("outlet_code", "business_date")),
    MART_CELL: ("fact_transaction", ("outlet_code", "business_date", "hour")),
    MART_ROSTER: ("fact_roster", ("outlet_code", "business_date", "hour")),
}
# Dimension tables each mart copies attributes from: a change to any of them (an outlet
# renamed to another township, a staff transfer, a new standard handling time) changes
# rows the incremental path would not touch, so it forces a full rebuild of that mart.
DIMENSIONS: dict[str, tuple[str, ...]] = {
    MART_EVENT: ("dim_business_type", "dim_outlet", "dim_staff"),
    MART_CELL: ("dim_business_type", "dim_outlet", "dim_staff"),
    MART_ROSTER: ("dim_outlet", "dim_staff"),
}
# Rows of a fact table re-derived together: (outlet, date) is a key prefix of every cell.
PARTITION = ("outlet_code", "business_date")

META_COLUMNS = {
    "mart": "VARCHAR PRIMARY KEY",
    "source_table": "VARCHAR NOT NULL",
    "source_rows": "BIGINT NOT NULL",
    "last_load_id": "BIGINT",
    "source_load_id": "BIGINT",
    "source_reversed": "BIGINT",
    "mart_rows": "BIGINT NOT NULL",
    "fingerprint": "VARCHAR NOT NULL",
    "mode": "VARCHAR NOT NULL",
    "reason": "VARCHAR",
    "refreshed_at": "TIMESTAMP NOT NULL",
}

FULL, INCREMENTAL, UNCHANGED = "full", "incremental", "unchanged"


def _scalar(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object] | None = None
) -> object:
    """First value of a query, fully consumed (DuckDB 2 refuses new work otherwise)."""
    rows = con.execute(sql, params).fetchall() if params else con.sql(sql).fetchall()
    return rows[0][0] if rows else None


def _table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Tables and views of the connection's current schema."""
    rows = con.sql(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        " AND schema_name = current_schema() UNION ALL SELECT view_name FROM duckdb_views()"
        " WHERE database_name = current_database() AND schema_name = current_schema()"
    ).fetchall()
    return {row[0] for row in rows}


def _last_load_id(con: duckdb.DuckDBPyConnection, tables: set[str]) -> int | None:
    """Highest etl_load id, or None in a warehouse never loaded through the ETL."""
    if "etl_load" not in tables:
        return None
    value = _scalar(con, "SELECT max(load_id) FROM etl_load")
    return None if value is None else int(value)


@dataclass(frozen=True)
class _Meta:
    """A mart_meta row as recorded by the previous refresh."""

    source_rows: int
    source_load_id: int | None
    source_reversed: int | None
    mart_rows: int
    fingerprint: dict[str, str]


@dataclass(frozen=True)
class _Source:
    """A fact table now, and its rows up to the load a mart last covered."""

    rows: int
    max_load_id: int | None
    reversed: int | None
    old_rows: int
    old_reversed: int | None


@dataclass
class _Plan:
    """How one mart is brought up to date."""

    mode: str
    reason: str | None = None
    since: int | None = None  # rows with a higher load_id are new (None: every row is new)
    flips: bool = False  # partitions of originals reversed by a new load are re-derived


def refresh(con: duckdb.DuckDBPyConnection, *, full: bool = False) -> dict[str, int]:
    """Bring every mart up to date with the warehouse; return the rows each mart holds.

    Called at the end of each ETL load so the dashboard never reads a mart older than the
    data. A mart whose record in mart_meta still describes the warehouse up to the new
    loads is updated incrementally: new event and roster rows are appended, the partitions
    (outlet, date) of originals a new reversal marked reversed are re-derived, and the
    cells of every touched partition are summed again. Otherwise (or with ``full=True``)
    the mart is rebuilt with CREATE OR REPLACE from the same ibis relation the KPI layer
    uses without marts. The mode and the reason for a full rebuild are logged and recorded
    in ``mart_meta.mode`` / ``mart_meta.reason``.

    It runs in the caller's transaction if one is open (the ETL works on a staging copy
    swapped in atomically); without one, a failure half-way leaves the marts not yet
    refreshed unrecorded, so KPIs read the base tables and the next refresh rebuilds them.

    Example: ``refresh(duckdb.connect("data/warehouse.duckdb"))`` returns
    ``{"mart_event": <rows>, "mart_event_cell": <rows>, "mart_roster_hour": <rows>}``.
    """
    tables = _table_names(con)
    previous = _read_meta(con, tables)
    last_load = _last_load_id(con, tables)
    common = _definition(con)
    fingerprints = _fingerprints(con, common)
    statements = _Statements(con, tables, json.dumps(common, sort_keys=True))
    # The event and cell marts normally share their source state: query it once.
    state = functools.cache(lambda source, since: _source_state(con, source, since))
    flips_of = functools.cache(lambda since: _explained_flips(con, since))
    sources = {}
    for name, (source, _) in MARTS.items():
        meta = previous.get(name)
        sources[name] = state(source, meta.source_load_id if meta else None)
    # Forget every mart first: if a refresh fails half-way, the marts not yet refreshed
    # have no meta row and are not read, rather than passing for fresh with old contents.
    con.execute(f"DELETE FROM {MART_META}")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    written: dict[str, int] = {}
    plans: dict[str, _Plan] = {}
    for name in MARTS:
        plan = _plan(
            con, name, tables, previous.get(name), sources[name], fingerprints[name], flips_of
        )
        if full:
            plan = _Plan(FULL, "full rebuild requested")
        elif name == MART_CELL and plan.mode != FULL:
            # The cells are summed from the event mart: only the partitions the event
            # mart's refresh touched can be summed again.
            event = plans[MART_EVENT]
            if event.mode == FULL:
                plan = _Plan(FULL, f"{MART_EVENT} was rebuilt")
            elif (plan.mode, plan.since, plan.flips) != (event.mode, event.since, event.flips):
                plan = _Plan(FULL, f"mart_meta record differs from {MART_EVENT}'s")
        if plan.mode == FULL:
            _build_full(con, statements, name)
        elif plan.mode == INCREMENTAL:
            _build_incremental(con, statements, name, plan)
        written[name] = int(_scalar(con, f"SELECT count(*) FROM {name}") or 0)
        if name == MART_EVENT and plan.mode != FULL and written[name] != sources[name].rows:
            # One mart row per fact row: a mismatch means the warehouse changed in a way the
            # checks did not see. Never leave such a mart behind.
            log.warning(
                "%s: %d rows for %d events; rebuilding", name, written[name], sources[name].rows
            )
            plan = _Plan(FULL, "event count differs from fact_transaction after refresh")
            _build_full(con, statements, name)
            written[name] = int(_scalar(con, f"SELECT count(*) FROM {name}") or 0)
        plans[name] = plan
        _record(con, name, sources[name], last_load, written[name], fingerprints[name], plan, now)
        log.info(
            "%s: %s refresh, %d rows%s",
            name,
            plan.mode,
            written[name],
            f" ({plan.reason})" if plan.reason else "",
        )
    for temp in ("_mart_new_parts", "_mart_flip_parts", "_mart_parts"):
        con.execute(f"DROP TABLE IF EXISTS temp.{temp}")
    for view in NEW_ROWS.values():
        con.execute(f"DROP VIEW IF EXISTS temp.{view}")
    return written


def _record(
    con: duckdb.DuckDBPyConnection,
    name: str,
    src: _Source,
    last_load: int | None,
    mart_rows: int,
    fingerprint: dict[str, str],
    plan: _Plan,
    now: dt.datetime,
) -> None:
    """Write the mart_meta row of a refreshed mart."""
    values = {
        "mart": name,
        "source_table": MARTS[name][0],
        "source_rows": src.rows,
        "last_load_id": last_load,
        "source_load_id": src.max_load_id,
        "source_reversed": src.reversed,
        "mart_rows": mart_rows,
        "fingerprint": json.dumps(fingerprint, sort_keys=True),
        "mode": plan.mode,
        "reason": plan.reason,
        "refreshed_at": now,
    }
    con.execute(
        f"INSERT INTO {MART_META} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
        list(values.values()),
    )


def modes(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str | None]]:
    """How each mart was last refreshed: ``(mode, reason for a full rebuild or None)``."""
    if MART_META not in _table_names(con):
        return {}
    rows = con.sql(f"SELECT mart, mode, reason FROM {MART_META}").fetchall()
    return {name: (mode, reason) for name, mode, reason in rows}


# -- what changed since the last refresh ---------------------------------------------------


def _read_meta(con: duckdb.DuckDBPyConnection, tables: set[str]) -> dict[str, _Meta]:
    """The previous refresh's records; a mart_meta of another layout is replaced (empty)."""
    current: list[str] = []
    if MART_META in tables:
        current = [
            row[0]
            for row in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database()"
                " AND schema_name = current_schema()"
                " AND table_name = ? ORDER BY column_index",
                [MART_META],
            ).fetchall()
        ]
    if current != list(META_COLUMNS):
        con.execute(f"DROP TABLE IF EXISTS {MART_META}")
        columns = ", ".join(f"{name} {dtype}" for name, dtype in META_COLUMNS.items())
        con.execute(f"CREATE TABLE {MART_META} ({columns})")
        return {}
    rows = con.sql(
        "SELECT mart, source_rows, source_load_id, source_reversed, mart_rows, fingerprint"
        f" FROM {MART_META}"
    ).fetchall()
    return {
        name: _Meta(rows_, load_id, reversed_, mart_rows, json.loads(fingerprint))
        for name, rows_, load_id, reversed_, mart_rows, fingerprint in rows
    }


def _definition(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """What every mart's rows and statements depend on besides the data: code and schema.

    ``code`` hashes the source of the modules defining and writing the marts with the ibis
    and DuckDB versions, so any change to how a mart is defined or written rebuilds it once
    and compiles its statements again (the compiled SQL itself is no fingerprint: ibis
    orders some column lists by Python's per-process string hashing). The modules are
    found, not imported: a refresh that compiles nothing never imports ibis.

    ``satisfied_from`` is the configuration the marts store (the satisfied flag).

    ``schema`` hashes the columns of the tables a mart can read, not the migration number:
    a migration that only adds bookkeeping (the loads' log, the quarantine, the stars)
    must not rebuild every mart of a five-year warehouse, which takes minutes.
    """
    columns = con.execute(
        """SELECT table_name, column_name, data_type FROM duckdb_columns()
           WHERE database_name = current_database() AND schema_name = 'main'
             AND NOT starts_with(table_name, 'etl_') AND NOT starts_with(table_name, 'mart_')
             AND NOT starts_with(table_name, 'star_') AND table_name <> 'schema_migrations'
           ORDER BY table_name, column_index"""
    ).fetchall()
    schema = hashlib.sha256(repr(columns).encode()).hexdigest()[:16]
    code = hashlib.sha256()
    for module in DEFINING_MODULES:
        spec = importlib.util.find_spec(module)
        code.update(Path(str(spec.origin if spec else module)).read_bytes())
    versions = (importlib.metadata.version("ibis-framework"), duckdb.__version__)
    code.update("ibis {} duckdb {}".format(*versions).encode())
    return {
        "code": code.hexdigest()[:16],
        "schema": schema,
        "satisfied_from": str(satisfied_from()),
    }


def _fingerprints(
    con: duckdb.DuckDBPyConnection, common: dict[str, str]
) -> dict[str, dict[str, str]]:
    """Per mart: what its rows depend on besides the fact rows (compared between refreshes).

    The definition (:func:`_definition`), and each dimension as its row count and an
    order-independent sum of row hashes: a few milliseconds on the small dimension tables.
    """
    dims = {d: _table_hash(con, d) for d in sorted({d for ds in DIMENSIONS.values() for d in ds})}
    return {name: {**common, **{d: dims[d] for d in DIMENSIONS[name]}} for name in MARTS}


def _table_hash(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """Row count and order-independent content hash of a (small) table."""
    count, total = con.sql(
        f"SELECT count(*), coalesce(sum(hash(d)::HUGEINT), 0) FROM {name} AS d"
    ).fetchall()[0]
    return f"{count}:{total}"


def _source_state(con: duckdb.DuckDBPyConnection, source: str, since: int | None) -> _Source:
    """Counts of the fact table, in total and up to the load the mart last covered."""
    # Rows the mart covered: none when it was built from an empty table (or never built).
    old = "false" if since is None else f"load_id <= {int(since)}"
    reversed_ = "count(*) FILTER (is_reversed)" if source == "fact_transaction" else "NULL"
    old_reversed = (
        f"count(*) FILTER (is_reversed AND {old})" if source == "fact_transaction" else "NULL"
    )
    rows, max_load, rev, old_rows, old_rev = con.sql(
        f"SELECT count(*), max(load_id), {reversed_}, count(*) FILTER ({old}), {old_reversed}"
        f" FROM {source}"
    ).fetchall()[0]
    return _Source(
        int(rows),
        None if max_load is None else int(max_load),
        None if rev is None else int(rev),
        int(old_rows),
        None if old_rev is None else int(old_rev),
    )


def _plan(
    con: duckdb.DuckDBPyConnection,
    name: str,
    tables: set[str],
    meta: _Meta | None,
    src: _Source,
    fingerprint: dict[str, str],
    flips_of: Callable[[int | None], int],
) -> _Plan:
    """Decide whether the mart can be brought up to date incrementally, and how."""
    if meta is None:
        return _Plan(FULL, "no mart_meta record")
    if name not in tables:
        return _Plan(FULL, "mart missing")
    changed = sorted(
        k
        for k in fingerprint.keys() | meta.fingerprint.keys()
        if fingerprint.get(k) != meta.fingerprint.get(k)
    )
    if changed:
        return _Plan(FULL, "changed: " + ", ".join(changed))
    if int(_scalar(con, f"SELECT count(*) FROM {name}") or 0) != meta.mart_rows:
        return _Plan(FULL, "mart row count differs from mart_meta")
    if meta.source_load_id is None and meta.source_rows:
        return _Plan(FULL, "source rows recorded without a load id")
    if src.old_rows != meta.source_rows:
        return _Plan(FULL, "rows of earlier loads were added or removed")
    since = meta.source_load_id
    flips = False
    if src.old_reversed is not None:  # fact_transaction: originals reversed since?
        new_rows = src.rows > src.old_rows
        changed_reversed = src.old_reversed != meta.source_reversed
        explained = flips_of(since) if new_rows or changed_reversed else 0
        if meta.source_reversed is None or src.old_reversed - meta.source_reversed != explained:
            return _Plan(FULL, "is_reversed changed on rows of earlier loads")
        flips = explained > 0
    if src.rows == src.old_rows and not flips:
        return _Plan(UNCHANGED, since=since)
    return _Plan(INCREMENTAL, since=since, flips=flips)


def _explained_flips(con: duckdb.DuckDBPyConnection, since: int | None) -> int:
    """Originals of earlier loads that a reversal of a new load marked reversed.

    The ETL sets ``is_reversed`` on a transaction exactly when some reversal row points at
    it, so between two refreshes the originals newly reversed are those a new reversal
    points at and no earlier one did. The caller compares their number with the change of
    the reversed count: equal means those are the only rows of earlier loads that changed
    (a hand edit elsewhere, or setting one back, makes them differ: full rebuild).
    """
    if since is None:
        return 0
    # Reversals of the new loads whose original is not in them (usually none): the same
    # first check as the ETL's, on the new rows only.
    pending = _scalar(
        con,
        "SELECT count(*) FROM fact_transaction WHERE load_id > $since"
        " AND reversal_of IS NOT NULL AND reversal_of NOT IN"
        " (SELECT txn_id FROM fact_transaction WHERE load_id > $since)",
        {"since": since},
    )
    if not pending:
        return 0
    return int(
        _scalar(
            con,
            "SELECT count(*) FROM fact_transaction f"
            " WHERE f.load_id <= $since AND f.is_reversed"
            " AND f.txn_id IN (SELECT reversal_of FROM fact_transaction"
            "   WHERE load_id > $since AND reversal_of IS NOT NULL)"
            " AND f.txn_id NOT IN (SELECT reversal_of FROM fact_transaction"
            "   WHERE load_id <= $since AND reversal_of IS NOT NULL)",
            {"since": since},
        )
        or 0
    )


# -- writing the marts ------------------------------------------------------------------


class _Statements:
    """The statements appending new rows to each mart, compiled once per definition.

    Kept in table ``mart_sql`` under the definition's fingerprint (:func:`_definition`):
    a refresh with the same code and schema reads them back instead of importing ibis and
    compiling them (about half a second of a load). They read the new rows from the
    ``NEW_ROWS`` views and the touched partitions from ``_mart_parts``, so they do not
    change from one load to the next. A full build compiles them too, ready for the next
    load.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, tables: set[str], key: str) -> None:
        self.con, self.key = con, key
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {MART_SQL} (mart VARCHAR PRIMARY KEY,"
            " fingerprint VARCHAR NOT NULL, statement VARCHAR NOT NULL)"
        )
        rows = con.execute(
            f"SELECT mart, statement FROM {MART_SQL} WHERE fingerprint = ?", [key]
        ).fetchall()
        self.stored: dict[str, str] = dict(rows)
        self._backend: BaseBackend | None = None

    def backend(self) -> BaseBackend:
        """The ibis backend, created (and ibis imported) on first need."""
        if self._backend is None:
            from warehouse import mart_compile

            self._backend = mart_compile.backend(self.con)
        return self._backend

    def append(self, name: str) -> str:
        """The SELECT of the rows to append to mart ``name``, compiled if not stored."""
        if name not in self.stored:
            from warehouse import mart_compile

            order = MARTS[name][1]
            compilers: dict[str, Callable[[BaseBackend], str]] = {
                MART_EVENT: lambda b: mart_compile.events_of(
                    b, NEW_ROWS["fact_transaction"], order
                ),
                MART_CELL: lambda b: mart_compile.cells_of(
                    b, MART_EVENT, "_mart_parts", list(PARTITION), order
                ),
                MART_ROSTER: lambda b: mart_compile.roster_of(b, NEW_ROWS["fact_roster"], order),
            }
            statement = compilers[name](self.backend())
            self.con.execute(
                f"INSERT OR REPLACE INTO {MART_SQL} VALUES (?, ?, ?)", [name, self.key, statement]
            )
            self.stored[name] = statement
        return self.stored[name]


def _build_full(con: duckdb.DuckDBPyConnection, statements: _Statements, name: str) -> None:
    """Rebuild a mart from scratch, and have its append statement ready for the next load."""
    from warehouse import mart_compile

    order = MARTS[name][1]
    sql = mart_compile.full_select(statements.backend(), name, MART_EVENT, order)
    con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
    _new_rows_view(con, MARTS[name][0], None)
    con.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _mart_parts AS"
        f" SELECT {', '.join(PARTITION)} FROM fact_transaction WHERE false"
    )
    statements.append(name)


def _new_rows_view(con: duckdb.DuckDBPyConnection, source: str, since: int | None) -> None:
    """Point the source's ``NEW_ROWS`` view at its rows loaded after ``since`` (all: None)."""
    newer = "" if since is None else f" WHERE load_id > {int(since)}"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {NEW_ROWS[source]} AS SELECT * FROM {source}{newer}")


def _build_incremental(
    con: duckdb.DuckDBPyConnection, statements: _Statements, name: str, plan: _Plan
) -> None:
    """Apply the new loads to a mart that matched the warehouse up to ``plan.since``."""
    since = plan.since
    if name == MART_EVENT:
        newer = "" if since is None else f" WHERE load_id > {int(since)}"
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _mart_new_parts AS"
            f" SELECT DISTINCT outlet_code, business_date FROM fact_transaction{newer}"
        )
        if plan.flips and since is not None:
            # Re-derive whole partitions holding an original a new reversal points at.
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _mart_flip_parts AS"
                " SELECT DISTINCT outlet_code, business_date FROM fact_transaction"
                " WHERE load_id <= $since AND is_reversed AND txn_id IN"
                " (SELECT reversal_of FROM fact_transaction"
                "  WHERE load_id > $since AND reversal_of IS NOT NULL)",
                {"since": since},
            )
            con.execute(
                f"DELETE FROM {name} m USING temp._mart_flip_parts p"
                " WHERE m.outlet_code = p.outlet_code AND m.business_date = p.business_date"
            )
            from warehouse import mart_compile

            order = MARTS[name][1]
            b = statements.backend()
            sql = mart_compile.events_flipped(b, since, "_mart_flip_parts", order)
        else:
            _new_rows_view(con, "fact_transaction", since)
            sql = statements.append(name)
    elif name == MART_CELL:
        union = "UNION SELECT * FROM temp._mart_flip_parts" if plan.flips else ""
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _mart_parts AS"
            f" SELECT * FROM temp._mart_new_parts {union}"
        )
        con.execute(
            f"DELETE FROM {name} c USING temp._mart_parts p"
            " WHERE c.outlet_code = p.outlet_code AND c.business_date = p.business_date"
        )
        sql = statements.append(name)
    else:
        _new_rows_view(con, "fact_roster", since)
        sql = statements.append(name)
    con.execute(f"INSERT INTO {name} BY NAME {sql}")


def drop(con: duckdb.DuckDBPyConnection) -> None:
    """Remove the marts (KPIs then read the base tables); used by tests and benchmarks."""
    for name in (*MARTS, MART_META, MART_SQL):
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
