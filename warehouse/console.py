"""The analysts' read-only SQL console: one reading statement, capped, timed, sealed off.

Why a module of its own: the console runs SQL a person typed, so it cannot use the
dashboard's cached connections (``dashboard.data``). DuckDB hands every connection to the
same file the same database instance, and the console changes instance-wide settings; a
long console query would also hold the dashboard's one-at-a-time lock. Each call therefore
builds its own short-lived DuckDB instance: an in-memory database that ATTACHes the
warehouse file READ_ONLY and is sealed before the user's SQL runs. The ETL may swap the
file (``os.replace``) meanwhile; a short connection just reads the version it opened.

Three layers, each enough against most abuse on its own (defence in depth):

1. :func:`refusal` checks the text with DuckDB's own parser (``extract_statements``,
   ``json_serialize_sql``, ``tokenize``), not with regexes: exactly one statement; a
   reading one (SELECT, WITH, FROM-first, VALUES, DESCRIBE, SHOW, SUMMARIZE, PIVOT with
   an ``IN`` list, EXPLAIN [ANALYZE] of such a query); table functions only from
   :data:`TABLE_FUNCTIONS`; none of :data:`REFUSED_FUNCTIONS`; no file name as a table;
   of DuckDB's built-in views only the catalogue ones (:data:`SYSTEM_VIEWS`).
2. :func:`sealed_connection` turns off external access (files, network, ATTACH, COPY,
   INSTALL / LOAD), extension autoloading and autoinstalling, community extensions,
   Python replacement scans and spilling to disk, caps memory and threads, then locks
   the configuration so SET / RESET / PRAGMA cannot undo any of it.
3. The warehouse is attached READ_ONLY: CREATE, INSERT, UPDATE, DROP fail.

Then limits: a timer interrupts the query after the time limit; at most row cap + 1 rows
are fetched (a LIMIT on the query's relation, so DuckDB stops early); the rows are read
in batches against a byte budget, because DuckDB's memory limit does not cover the result
handed to Python nor values built by string functions. One huge value (``repeat('x',
10^9)``) can still be built before the budget sees it; only the time limit bounds that.

What DuckDB 2.0.1 still shows with external access off (checked, see the tests):
``getenv()`` does not exist outside the DuckDB CLI; the file readers (read_csv, read_text,
read_blob, read_parquet, read_json, glob, sniff_csv, parquet_metadata, ``FROM 'x.csv'``),
``duckdb_secrets()``, ``duckdb_extensions()``, INSTALL and LOAD fail with a permission
error. But ``current_setting()`` and ``duckdb_settings()`` still reveal server paths (the
secret directory under the service account's home, the temp directory), and an instance
may read the files it attached, so ``read_blob('<warehouse path>')`` would work and
``duckdb_databases()`` shows that path, as do the built-in views ``duckdb_databases`` and
``pragma_database_list``; the view ``pg_settings`` lists the settings. Layer 1 refuses
these: only the allowlisted table functions and catalogue views (:data:`SYSTEM_VIEWS`)
run, and ``current_setting`` / ``getenv`` are refused by name.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from warehouse.schema import describe
from warehouse.settings import load_config

ATTACHED_AS = "warehouse"
_BATCH_ROWS = 2048

# Table functions an analyst needs: series, unnesting, the catalogue. Every other table
# function is refused, because most of the rest read files (read_*, glob, *_scan),
# reveal the server (duckdb_settings, duckdb_databases, duckdb_extensions) or run SQL
# text that layer 1 never saw (query, query_table).
TABLE_FUNCTIONS = frozenset(
    {
        "range",
        "generate_series",
        "unnest",
        "json_each",
        "json_tree",
        "duckdb_tables",
        "duckdb_columns",
        "duckdb_views",
        "duckdb_constraints",
        "duckdb_indexes",
        "duckdb_schemas",
        "duckdb_types",
        "duckdb_functions",
        "duckdb_keywords",
        "pragma_table_info",
    }
)
# Scalar functions that read the environment or the server's settings.
REFUSED_FUNCTIONS = frozenset({"getenv", "current_setting"})
# DuckDB's own views describing the catalogue. Every other built-in view is refused:
# pg_settings shows the settings, duckdb_databases and pragma_database_list file paths.
SYSTEM_VIEWS = frozenset(
    {
        "duckdb_tables",
        "duckdb_columns",
        "duckdb_views",
        "duckdb_constraints",
        "duckdb_indexes",
        "duckdb_schemas",
        "duckdb_types",
        "tables",
        "columns",
        "views",
        "schemata",
        "table_constraints",
        "key_column_usage",
        "referential_constraints",
        "check_constraints",
        "constraint_column_usage",
        "constraint_table_usage",
    }
)
# A table name holding one of these is a file name (a replacement scan: FROM 'x.csv').
_FILE_NAME_CHARS = frozenset("./\\:~*?")

# Why a query gave no rows, in English; the dashboard shows its own translation of each.
PROBLEMS = {
    "empty": "There is no statement to run.",
    "syntax": "DuckDB could not read the query: {detail}",
    "multiple": "Run one statement at a time ({detail} statements given).",
    "statement": (
        "Only reading statements run here (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, "
        "SUMMARIZE, EXPLAIN); this one is {detail}."
    ),
    "pivot": "List the PIVOT's column values here: PIVOT t ON col IN ('a', 'b') USING ...",
    "function": (
        "{detail}() is not available in the console: it reads files, settings or the "
        "environment, or runs SQL of its own."
    ),
    "file": "Files cannot be read from the console ({detail}); query the warehouse tables.",
    "system": "{detail} is not available in the console: it shows the server, not the warehouse.",
    "busy": "The console is busy with other queries; try again in {detail} s.",
    "stopped": "Stopped after {detail} s, the console's time limit.",
    "large": "The result passed {detail} MB: select fewer or shorter columns, or aggregate.",
    "failed": "{detail}",
    "missing": "There is no warehouse at {detail}.",
    "memory": (
        "The query needed more memory than the console allows ({detail} MB); aggregate first."
    ),
    "nested": "The query is nested too deeply to read; write it flatter.",
    "hidden": (
        "{detail} names the attached warehouse directly; query the tables by their own names"
        " (pay columns are empty without the pay grant)."
    ),
}


@dataclass(frozen=True)
class Refusal:
    """Why a statement will not run: a key of :data:`PROBLEMS` and what it is about."""

    problem: str
    detail: str


@dataclass(frozen=True)
class QueryResult:
    """The rows of one console query, or why there are none.

    ``frame`` holds at most ``row_cap`` rows; ``truncated`` says the query returned more.
    ``problem`` (a key of :data:`PROBLEMS`) and ``detail`` say why ``frame`` is None.
    """

    frame: pl.DataFrame | None
    truncated: bool = False
    elapsed_s: float = 0.0
    problem: str | None = None
    detail: str = ""

    @property
    def message(self) -> str:
        """The problem in plain English (empty when the query ran)."""
        if self.problem is None:
            return ""
        return PROBLEMS[self.problem].format(detail=self.detail)


def _statement_types(sql: str) -> list[str]:
    """The parser's statement types (SELECT, COPY, ...), one per statement in ``sql``."""
    statements = duckdb.extract_statements(sql)
    try:
        return [s.type.name for s in statements]
    except ValueError:  # a statement type the Python binding does not know (UPDATE EXTENSIONS)
        return ["UNKNOWN"] * len(statements)


def _after_explain(sql: str) -> str | None:
    """The query after a leading EXPLAIN [ANALYZE], or None when ``sql`` does not start so.

    Uses DuckDB's tokenizer, so comments before or between the keywords are skipped.
    """
    tokens = duckdb.tokenize(sql)
    ends = [pos for pos, _ in tokens[1:]] + [len(sql)]
    words = [
        (sql[pos:end].strip().upper(), pos)
        for (pos, kind), end in zip(tokens, ends, strict=True)
        if kind != duckdb.token_type.comment
    ]
    if not words or words[0][0] != "EXPLAIN":
        return None
    rest = words[1:]
    if rest and rest[0][0] in ("ANALYZE", "ANALYSE"):
        rest = rest[1:]
    return sql[rest[0][1] :] if rest else ""


@dataclass
class _Names:
    """What a parse tree refers to: table functions, all functions, tables (by name)."""

    table_functions: list[str]
    functions: list[str]
    tables: list[str]
    qualifiers: list[str]  # the catalog and schema names tables are qualified with


def _walk(node: Any, found: _Names) -> None:
    """Collect the names a parse tree (``json_serialize_sql``) refers to, at any depth."""
    if isinstance(node, list):
        for item in node:
            _walk(item, found)
        return
    if not isinstance(node, dict):
        return
    if node.get("type") == "TABLE_FUNCTION":
        found.table_functions.append(str(node["function"]["function_name"]).lower())
    elif node.get("class") == "FUNCTION":
        found.functions.append(str(node["function_name"]).lower())
    elif node.get("type") in ("BASE_TABLE", "SHOW_REF"):
        found.tables.append(str(node.get("table_name", "")))
        found.qualifiers += [str(node.get(k) or "") for k in ("catalog_name", "schema_name")]
    for value in node.values():
        _walk(value, found)


def _parser() -> duckdb.DuckDBPyConnection:
    """An empty in-memory DuckDB that only parses: nothing to read, nothing to load."""
    return duckdb.connect(
        config={
            "enable_external_access": False,
            "autoload_known_extensions": False,
            "autoinstall_known_extensions": False,
        }
    )


@cache
def _builtin_views() -> frozenset[str]:
    """Names of DuckDB's own views (pg_settings, duckdb_databases ...)."""
    with _parser() as con:
        rows = con.execute("SELECT view_name FROM duckdb_views() WHERE internal").fetchall()
    return frozenset(name.lower() for (name,) in rows)


def _tree(sql: str) -> dict[str, Any]:
    """DuckDB's parse tree of a SELECT (``json_serialize_sql``), parsed only, never run."""
    with _parser() as con:
        text = con.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0]
    return json.loads(text)


def _check_select(sql: str, sealed_catalog: str | None) -> Refusal | None:
    """Refuse a SELECT that reads a file, a server view or calls a refused function.

    With ``sealed_catalog``, a table qualified with that catalog's name is refused too:
    the console then reads views of it that leave the hidden columns empty.
    """
    tree = _tree(sql)
    if tree.get("error"):
        return Refusal("syntax", str(tree.get("error_message", "")))
    found = _Names([], [], [], [])
    _walk(tree["statements"], found)
    if sealed_catalog and sealed_catalog in (q.lower() for q in found.qualifiers):
        return Refusal("hidden", sealed_catalog)
    for name in found.tables:
        if _FILE_NAME_CHARS & set(name):
            return Refusal("file", name)
        if name.lower() in _builtin_views() - SYSTEM_VIEWS:
            return Refusal("system", name)
    for name in found.table_functions:
        if name not in TABLE_FUNCTIONS:
            return Refusal("function", name)
    for name in found.functions:
        if name in REFUSED_FUNCTIONS:
            return Refusal("function", name)
    return None


def refusal(sql: str, *, sealed_catalog: str | None = None) -> Refusal | None:
    """Why ``sql`` must not run in the console, or None when it may (layer 1).

    The parser decides, not patterns on the text: one statement, of type SELECT (which
    covers WITH, FROM-first, VALUES, DESCRIBE, SHOW, SUMMARIZE and PIVOT with an IN
    list) or EXPLAIN [ANALYZE] of such a query, calling no refused function (and, with
    ``sealed_catalog``, naming no table of that catalog directly).
    """
    try:
        types = _statement_types(sql)
    except duckdb.Error as error:
        return Refusal("syntax", str(error))
    if not types:
        return Refusal("empty", "")
    if len(types) > 1:
        return Refusal("multiple", str(len(types)))
    if types[0] == "EXPLAIN":
        query = _after_explain(sql)
        inner = (
            refusal(query, sealed_catalog=sealed_catalog)
            if query
            else Refusal("statement", "EXPLAIN")
        )
        if inner is not None and inner.problem in ("statement", "syntax", "empty"):
            return Refusal("statement", "EXPLAIN of something other than a query")
        return inner
    if types[0] == "MULTI":  # PIVOT without IN: DuckDB would first create a type
        return Refusal("pivot", "")
    if types[0] != "SELECT":
        return Refusal("statement", types[0])
    return _check_select(sql, sealed_catalog)


def _console_settings() -> dict[str, Any]:
    """The console's section of config/explorer.yaml."""
    return load_config("explorer")["console"]


def sealed_connection(
    db_path: str | Path,
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
    hidden: Mapping[str, Sequence[str]] | None = None,
) -> duckdb.DuckDBPyConnection:
    """A fresh DuckDB instance with the warehouse attached READ_ONLY, sealed (layers 2, 3).

    Settings that DuckDB only accepts at start (memory, threads, no spilling, no Python
    replacement scans, no extension autoloading) are given at connect; external access is
    switched off right after the ATTACH that needs it, and the configuration is locked
    last, so no statement can switch anything back on. The caller closes it.

    ``hidden`` (table -> columns) is what the person may not see, such as pay: queries
    then read in-memory views of every table, with those columns empty, and
    :func:`refusal` (given ``sealed_catalog``) keeps them from naming the real tables.
    """
    defaults = _console_settings()
    con = duckdb.connect(
        ":memory:",
        config={
            "memory_limit": memory_limit or str(defaults["memory_limit"]),
            "threads": int(threads or defaults["threads"]),
            "temp_directory": "",  # no spilling: a console query never writes a file
            "python_enable_replacements": False,  # FROM some_variable must not find one
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
        },
    )
    try:
        quoted = str(db_path).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS {ATTACHED_AS} (READ_ONLY)")
        if hidden:
            _shadow(con, hidden)
            con.execute("USE memory")
        else:
            con.execute(f"USE {ATTACHED_AS}")
        con.execute("SET enable_progress_bar = false")  # it prints to the server's terminal
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except Exception:
        con.close()
        raise
    return con


def _shadow(con: duckdb.DuckDBPyConnection, hidden: Mapping[str, Sequence[str]]) -> None:
    """In-memory views of every warehouse table and view, the ``hidden`` columns NULL."""
    columns = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns()"
        " WHERE database_name = ? AND schema_name = 'main' ORDER BY table_name, column_index",
        [ATTACHED_AS],
    ).fetchall()
    kinds: dict[str, dict[str, str]] = {}
    for table, column, kind in columns:
        kinds.setdefault(table, {})[column] = kind
    for table, types in kinds.items():
        blank = [c for c in hidden.get(table, ()) if c in types]
        replace = ", ".join(f'NULL::{types[c]} AS "{c}"' for c in blank)
        projection = f"* REPLACE ({replace})" if replace else "*"
        con.execute(
            f'CREATE VIEW memory.main."{table}" AS'
            f' SELECT {projection} FROM {ATTACHED_AS}.main."{table}"'
        )


def _statement_body(sql: str) -> str:
    """The one statement without its closing semicolon and anything after it.

    The relation API wraps the text in a subquery for the row cap, where a trailing
    ``;`` (or a comment after it) is a syntax error. DuckDB's tokenizer finds the real
    last token, so a ``';'`` inside a string or a comment is left alone.
    """
    tokens = [
        (position, kind)
        for position, kind in duckdb.tokenize(sql)
        if kind != duckdb.token_type.comment
    ]
    if tokens:
        position, kind = tokens[-1]
        if kind == duckdb.token_type.operator and sql[position:].startswith(";"):
            return sql[:position]
    return sql


def _readable(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """The relation with INTERVAL columns as text, which polars cannot import.

    Subtracting two timestamps gives an INTERVAL, so this is common. Columns are named by
    position (``#n``), so results with two columns of the same name still work.
    """
    types = [str(t) for t in relation.types]
    if not any("INTERVAL" in t for t in types):
        return relation
    columns = []
    for i, (name, kind) in enumerate(zip(relation.columns, types, strict=True), start=1):
        alias = '"' + name.replace('"', '""') + '"'
        expr = f"CAST(#{i} AS VARCHAR)" if "INTERVAL" in kind else f"#{i}"
        columns.append(f"{expr} AS {alias}")
    return relation.project(", ".join(columns))


def _unique(names: list[str]) -> list[str]:
    """Column names made unique (a, a_1), as tables need: SQL allows SELECT 1 a, 2 a."""
    seen: set[str] = set()
    out = []
    for name in names:
        unique, n = name, 0
        while unique in seen:
            n += 1
            unique = f"{name}_{n}"
        seen.add(unique)
        out.append(unique)
    return out


class _TooLarge(Exception):
    """The rows fetched so far passed the console's byte budget."""


@dataclass
class _Run:
    """One query on a sealed connection, with the timer that stops it."""

    con: duckdb.DuckDBPyConnection
    time_limit_s: float
    stopped: threading.Event

    def _stop(self) -> None:
        """Called by the timer: remember why the query fails, then interrupt it."""
        self.stopped.set()
        self.con.interrupt()

    def fetch(self, sql: str, row_cap: int, max_bytes: int) -> pl.DataFrame:
        """Up to ``row_cap`` + 1 rows, read in batches so a wide result stops early.

        DuckDB's memory limit does not cover the result handed to Python, so the
        batches are counted here and :class:`_TooLarge` raised past ``max_bytes``.
        """
        timer = threading.Timer(self.time_limit_s, self._stop)
        timer.start()
        try:
            relation = _readable(self.con.sql(_statement_body(sql))).limit(row_cap + 1)
            reader = relation.to_arrow_reader(_BATCH_ROWS)
            batches, size = [], 0
            for batch in reader:
                size += batch.nbytes
                if size > max_bytes:
                    raise _TooLarge
                batches.append(batch)
            table = pa.Table.from_batches(batches, schema=reader.schema)
        finally:
            timer.cancel()
        frame = pl.from_arrow(table.rename_columns(_unique(table.column_names)))
        assert isinstance(frame, pl.DataFrame)  # a table, never a single column
        return frame


def run_query(
    db_path: str | Path,
    sql: str,
    *,
    row_cap: int,
    time_limit_s: float,
    max_mb: float | None = None,
    memory_limit: str | None = None,
    threads: int | None = None,
    hidden: Mapping[str, Sequence[str]] | None = None,
) -> QueryResult:
    """Run one analyst's query on the warehouse, safely; never raises for a bad query.

    Refused statements (see :func:`refusal`) do not reach DuckDB. The rest runs on a
    sealed, read-only connection of its own (:func:`sealed_connection`), stopped after
    ``time_limit_s`` seconds (DuckDB has no statement timeout: a timer interrupts it),
    and returns at most ``row_cap`` rows with ``truncated`` set when there were more;
    a result passing ``max_mb`` megabytes first is refused as too large (defaults:
    config/explorer.yaml). Errors come back as :attr:`QueryResult.problem` with
    DuckDB's message as detail. ``hidden`` (table -> columns) are shown empty
    (:func:`sealed_connection`).
    """
    refused = refusal(sql, sealed_catalog=ATTACHED_AS if hidden else None)
    if refused is not None:
        return QueryResult(None, problem=refused.problem, detail=refused.detail)
    if not Path(db_path).is_file():
        return QueryResult(None, problem="missing", detail=str(db_path))
    budget = float(max_mb if max_mb is not None else _console_settings()["max_result_mb"])
    started = time.perf_counter()
    stopped = threading.Event()
    try:
        with sealed_connection(
            db_path, memory_limit=memory_limit, threads=threads, hidden=hidden
        ) as con:
            frame = _Run(con, time_limit_s, stopped).fetch(sql, row_cap, int(budget * 2**20))
    except _TooLarge:
        elapsed = time.perf_counter() - started
        return QueryResult(None, elapsed_s=elapsed, problem="large", detail=f"{budget:g}")
    except Exception as error:  # user SQL: any failure is a message for the analyst
        elapsed = time.perf_counter() - started
        if stopped.is_set():
            return QueryResult(
                None, elapsed_s=elapsed, problem="stopped", detail=f"{time_limit_s:g}"
            )
        return QueryResult(None, elapsed_s=elapsed, problem="failed", detail=str(error))
    elapsed = time.perf_counter() - started
    return QueryResult(frame.head(row_cap), frame.height > row_cap, elapsed)


def schema_tree(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The warehouse's tables and views with their columns, types and comments.

    For the schema browser beside the console: one row per column, in table order and
    column order, with the table's comment repeated. Tables come from
    :func:`warehouse.schema.describe` (the same source as docs/schema.md); views, if the
    warehouse has any, are added with their column types.

    Columns: table_name, kind ('table' or 'view'), table_comment, column_name,
    data_type, meaning, unit.
    """
    rows = [
        (t.name, "table", t.comment, c.name, c.data_type, c.meaning, c.unit)
        for t in describe(con)
        for c in t.columns
    ]
    views = con.execute(
        "SELECT v.view_name, coalesce(v.comment, ''), c.column_name, c.data_type,"
        " coalesce(c.comment, '') FROM duckdb_views() v JOIN duckdb_columns() c"
        " ON c.table_oid = v.view_oid WHERE NOT v.internal AND v.schema_name = 'main'"
        " ORDER BY v.view_name, c.column_index"
    ).fetchall()
    rows += [
        (name, "view", comment, col, dtype, text, "") for name, comment, col, dtype, text in views
    ]
    return pl.DataFrame(
        rows,
        schema={
            "table_name": pl.String,
            "kind": pl.String,
            "table_comment": pl.String,
            "column_name": pl.String,
            "data_type": pl.String,
            "meaning": pl.String,
            "unit": pl.String,
        },
        orient="row",
    )
