"""Stage one raw export: map it to canonical typed columns and decide each row's fate.

Every row read ends in exactly one of four fates, which is what makes loads auditable:
``dropped`` (by a profile rule or as a subtotal row), ``quarantined`` (failed a rule, or
conflicts with a row of the same key), ``duplicate`` (identical to a row already loaded or
earlier in the file) or ``load``. Nothing is written to the warehouse tables here.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from etl.direct import FileBytes
from etl.kinds import ExportKind
from etl.mapping import FREE_TEXT, Mapping, literal, quote, text_sql, typed_sql
from etl.normalise import normalise_sql
from etl.profiles import Profile
from etl.raw import RawRows, delete_empty, materialise, reference
from etl.rules import failures_sql, reference_checks, row_checks, suite
from etl.subtotals import subtotal_sql

# Where each kind lands, and the warehouse column holding each canonical field.
TARGETS: dict[str, tuple[str, dict[str, str]]] = {
    "outlets": ("dim_outlet", {}),
    "business_types": ("dim_business_type", {}),
    "kpi_targets": ("ref_kpi_target", {}),
    "staff": ("dim_staff", {"effective_from": "valid_from", "name": "staff_name"}),
    "roster": ("fact_roster", {}),
    "transactions": ("fact_transaction", {}),
    "complaints": ("fact_complaint", {}),
}
# Reference data is updated in place when a row with the same key changes; facts conflict.
UPDATABLE = {"outlets", "business_types", "kpi_targets", "staff", "holidays"}
# Defaults the warehouse applies, set at staging so identical rows compare identical.
DEFAULTS = {
    "staff": "coalesce(status, 'active') AS status",
    "complaints": "coalesce(is_complex, severity <> 'minor') AS is_complex",
}
# The staged rows of a file; view ``stg`` adds their numbers when they are positional.
_STAGED = "stg_rows"
# Plan operators that keep the rows of a single scan in their order (DuckDB's order
# preservation: a file scan, and expressions over its rows).
ORDER_KEEPING_OPERATORS = {"READ_CSV", "PROJECTION"}
# A file covering one month ends its name with it: transactions_2026-03.csv, 交易_2026-03.xlsx.
PERIOD_IN_NAME = re.compile(r"(?:^|[^0-9-])(20\d{2})-(\d{2})$")


@dataclass(frozen=True)
class Fates:
    """How many rows of a file went where, and the rules behind drops and quarantines."""

    read: int
    load: int
    duplicate: int
    quarantined: int
    dropped: int
    rule_counts: dict[str, int]


def file_period(name: str) -> tuple[str, str] | None:
    """The month a file says it covers (``..._2026-03.csv``) as (first day, next month's first)."""
    match = PERIOD_IN_NAME.search(Path(name).stem)
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return None
    nxt = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}-01", f"{nxt[0]:04d}-{nxt[1]:02d}-01"


def stage(
    con: duckdb.DuckDBPyConnection,
    raw: RawRows,
    mapping: Mapping,
    profile: Profile,
    *,
    file_name: str,
) -> RawRows:
    """Create view ``stg``: one row per data row, canonical typed columns, row checks.

    One pass over the records in layers (trimmed text, source expression, text, type,
    defaults): ``__drop`` names the rule dropping the row (a subtotal row or a profile
    rule), ``__fail`` lists the row-level rules it fails (a value present but not
    castable is one).

    A direct file (:mod:`etl.direct`) is staged straight from DuckDB's scan of it, in one
    statement, when that statement only scans and computes (no join, which could reorder
    rows): the rows are then numbered by their place in the staged table, which is their
    place in the file. Otherwise, or when that statement fails (say a profile's SQL
    raising on a record without any value, which a records table no longer holds), its
    records are read into a table first. Returns the records actually staged from, which
    quarantine copies text from.
    """
    drop_staged(con)
    if raw.direct is not None:
        if not _keeps_insertion_order(con):
            raw = reference(con, raw)  # rowid would not number the file's records
        else:
            select = _staging_select(raw, mapping, profile, file_name, numbered=False)
            with _in_lists_as_expressions(con):
                staged = _only_scans_and_computes(con, select) and _stage_in_file_order(
                    con, select, raw.direct.scanned
                )
            if staged:
                return raw
            raw = materialise(con, raw)
    select = _staging_select(raw, mapping, profile, file_name, numbered=True)
    con.execute(f"CREATE TEMP TABLE {_STAGED} AS {select}")
    con.execute(f"CREATE TEMP VIEW stg AS SELECT * FROM {_STAGED}")
    return raw


def _staging_select(
    raw: RawRows, mapping: Mapping, profile: Profile, file_name: str, *, numbered: bool
) -> str:
    """The SELECT staging the records of ``raw.relation`` (see :func:`stage`).

    ``numbered``: the relation has ``__row``, passed through; otherwise the rows are
    numbered by position afterwards.
    """
    free = {column for f, column in mapping.sources.items() if f in FREE_TEXT}
    trimmed = ", ".join(
        quote(c) if c in raw.clean else f"{normalise_sql(c, fold=c not in free)} AS {quote(c)}"
        for c in raw.columns
    )
    drops = [f"WHEN {subtotal_sql(raw.columns)} THEN 'subtotal_row'"]
    drops += [
        f"WHEN coalesce(({rule.when}), false) THEN {literal(rule.name)}"
        for rule in profile.drop_rows
    ]
    fields = mapping.kind.types
    source = ", ".join(
        f"{mapping.source_sql.get(f, 'NULL::VARCHAR')} AS {quote(f + '__src')}" for f in fields
    )
    allowed = suite(mapping.kind.name).get("in_set", {})
    codes = {f: tuple(str(c) for c in allowed.get(f, ())) for f in fields}
    text = ", ".join(
        f"{text_sql(f, quote(f + '__src'), profile, codes[f])} AS {quote(f + '__txt')}"
        for f in fields
    )
    on_date = {
        f: typed_sql(d, fields[d], quote(d + "__txt"), profile)
        for f, d in mapping.kind.on_date.items()
    }
    typed = [
        f"{typed_sql(f, t, quote(f + '__txt'), profile, codes[f], on_date.get(f))} AS {quote(f)}"
        for f, t in fields.items()
    ]
    typed += [quote(f + "__txt") for f, t in fields.items() if t != "VARCHAR"]
    defaults = DEFAULTS.get(mapping.kind.name)
    replace = f" REPLACE ({defaults})" if defaults else ""
    checks = [
        c
        for c in row_checks(mapping.kind, period=file_period(file_name))
        if c.name not in profile.skip_rules
    ]
    final = ", ".join(quote(f) for f in fields)
    row = "__row, " if numbered else ""
    return f"""WITH n AS (SELECT {row}{trimmed} FROM ({raw.relation})),
                 a AS (SELECT {row}CASE {" ".join(drops)} END AS __drop, {source} FROM n),
                 b AS (SELECT {row}__drop, {text} FROM a),
                 c AS (SELECT {row}__drop, {", ".join(typed)} FROM b),
                 d AS (SELECT *{replace} FROM c)
            SELECT {row}__drop, {final},
                   {failures_sql(checks)} AS __fail
            FROM d"""


@contextlib.contextmanager
def _in_lists_as_expressions(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Keep ``x IN (a, b, ...)`` an expression while inside: DuckDB turns long lists into joins."""
    before = con.execute("SELECT current_setting('disabled_optimizers')").fetchall()[0][0]
    disabled = ",".join(filter(None, [before, "in_clause"]))
    con.execute(f"SET disabled_optimizers = {literal(disabled)}")
    try:
        yield
    finally:
        con.execute(f"SET disabled_optimizers = {literal(before)}")


def _keeps_insertion_order(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether DuckDB keeps rows in insertion order here (a setting; on by default).

    Numbering rows by their place in a table read from the file relies on it.
    """
    setting = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()
    return bool(setting[0][0])


def _only_scans_and_computes(con: duckdb.DuckDBPyConnection, select: str) -> bool:
    """Whether DuckDB plans ``select`` as a file scan and projections only.

    Why: DuckDB guarantees that such a plan keeps the rows in file order (a join, say from
    a profile's SQL looking another table up, does not).
    """
    plan = con.execute(f"EXPLAIN (FORMAT json) {select}").fetchall()[0][1]
    pending = list(json.loads(plan))
    while pending:
        node = pending.pop()
        if node["name"] not in ORDER_KEEPING_OPERATORS:
            return False
        pending += node.get("children", [])
    return True


def _stage_in_file_order(con: duckdb.DuckDBPyConnection, select: str, scanned: FileBytes) -> bool:
    """Stage a direct file in one statement; False (nothing staged) if that fails.

    The rows are numbered by ``rowid``: their place in the table, which a plan of scans
    and projections fills in file order. A count other than the scan's, which cannot
    happen for a plain file, is never trusted blind either. Running out of memory is not
    retried another way: it is raised.
    """
    try:
        con.execute(f"CREATE TEMP TABLE {_STAGED} AS {select}")
    except duckdb.OutOfMemoryException:
        raise
    except duckdb.Error:  # the caller stages from a records table, which says more
        drop_staged(con)
        return False
    if con.execute(f"SELECT count(*) FROM {_STAGED}").fetchall()[0][0] != scanned.records:
        drop_staged(con)
        return False
    delete_empty(con, _STAGED, scanned)
    con.execute(f"CREATE TEMP VIEW stg AS SELECT rowid + 1 AS __row, * FROM {_STAGED}")
    return True


def drop_staged(con: duckdb.DuckDBPyConnection) -> None:
    """Drop a file's staged rows and fates, to free their memory for the next file."""
    con.execute("DROP VIEW IF EXISTS stg")
    for table in (_STAGED, "fate", "ref_fail", "_existing"):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def decide(con: duckdb.DuckDBPyConnection, mapping: Mapping, profile: Profile) -> Fates:
    """Give every staged row its fate; temp table ``fate`` lists the rows not simply loaded.

    ``fate`` holds (__row, fate, rules) for rows dropped, quarantined (failing a rule, or
    conflicting with a row of the same key) or duplicate; every other staged row loads.
    The cross-table checks join the staged rows to the reference tables once and add
    their failures (in rule-name order) to the row checks'; then duplicates and conflicts
    are settled by key, within the file and against the warehouse, in one statement.
    Listing only the exceptions keeps ``fate`` small, so counting and moving the loaded
    rows never join millions of rows to their fates.
    """
    kind = mapping.kind
    refs = [c for c in reference_checks(kind) if c.name not in profile.skip_rules]
    failing = " UNION ALL ".join(
        f"SELECT __row, {literal(c.name)} AS rule FROM ({c.fails})" for c in refs
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE ref_fail AS SELECT __row, list(rule ORDER BY rule) AS rules"
        f" FROM ({failing or 'SELECT NULL::BIGINT AS __row, NULL::VARCHAR AS rule WHERE false'})"
        " GROUP BY __row"
    )
    key = list(suite(kind.name).get("key", []))
    exceptions = [
        "SELECT __row, 'dropped' AS fate, [__drop] AS rules FROM stg WHERE __drop IS NOT NULL",
        "SELECT s.__row, 'quarantined', list_concat(s.__fail, coalesce(b.rules, []))"
        " FROM stg s LEFT JOIN ref_fail b USING (__row)"
        " WHERE s.__drop IS NULL AND (len(s.__fail) > 0 OR b.rules IS NOT NULL)",
    ]
    if key:
        exceptions.append(
            "SELECT __row, CASE WHEN conflict IS NULL THEN 'duplicate' ELSE 'quarantined' END,"
            " CASE WHEN conflict IS NULL THEN []::VARCHAR[] ELSE [conflict] END"
            " FROM judged WHERE conflict IS NOT NULL OR duplicate"
        )
    listed = " UNION ALL ".join(exceptions)
    if key:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _existing AS {_existing(kind, key)}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE fate AS {_judged(kind, key)} {listed}")
    return _count(con)


def _existing(kind: ExportKind, key: list[str]) -> str:
    """The loaded rows sharing a staged row's key (first key column): keys, content hash."""
    keys = ", ".join(quote(k) for k in key)
    table, renamed = TARGETS.get(kind.name, (None, {}))
    if not table:
        return f"SELECT {keys}, NULL::UBIGINT AS __old FROM stg WHERE false"
    target_keys = ", ".join(f"{quote(renamed.get(k, k))} AS {quote(k)}" for k in key)
    target_hash = ", ".join(quote(renamed.get(f, f)) for f in kind.types)
    match = " AND ".join(
        f"{quote(renamed.get(k, k))} IN (SELECT {quote(k)} FROM stg)" for k in key[:1]
    )
    return f"SELECT {target_keys}, hash({target_hash}) AS __old FROM {table} WHERE {match}"


def _judged(kind: ExportKind, key: list[str]) -> str:
    """The WITH clause judging valid rows that share their key with another row, or none.

    It reads the loaded rows sharing a key from temp table ``_existing`` (made by
    :func:`decide` from :func:`_existing`): the only step whose cost grows with the
    warehouse, a scan of the key column, is then done once rather than per reference.
    """
    if not key:
        return ""
    keys = ", ".join(quote(k) for k in key)
    existing = "SELECT * FROM _existing"
    conflict_loaded = "'conflicts_with_loaded'" if kind.name not in UPDATABLE else "NULL"

    def same_key(a: str, b: str) -> str:
        """Key equality that treats NULL parts as equal (a county-wide target has no outlet)."""
        return " AND ".join(f"{a}.{quote(k)} IS NOT DISTINCT FROM {b}.{quote(k)}" for k in key)

    content = ", ".join(f"s.{quote(f)}" for f in kind.types)
    content_keys = ", ".join(f"s.{quote(k)}" for k in key)
    # ``valid`` is read again by each step rather than kept: a scan of the staged rows is
    # cheaper than materialising millions of keys.
    return f"""WITH valid AS NOT MATERIALIZED (
                SELECT __row, {keys} FROM stg WHERE __drop IS NULL AND len(__fail) = 0
                AND __row NOT IN (SELECT __row FROM ref_fail)),
            -- Keys whose hash repeats: grouping integers first is cheaper than grouping
            -- every key, and a hash collision only adds a key the next step clears.
            hashed AS (SELECT hash({keys}) AS __k FROM valid GROUP BY 1 HAVING count(*) > 1),
            existing AS ({existing}),
            -- The rows sharing their key with another row or a loaded one. Only their
            -- content is compared, so only theirs is hashed: usually none of a file's.
            shared AS (
                SELECT __row FROM valid WHERE hash({keys}) IN (SELECT __k FROM hashed)
                UNION SELECT v.__row FROM valid v SEMI JOIN existing e ON {same_key("v", "e")}),
            content AS (
                SELECT s.__row, {content_keys}, hash({content}) AS __h
                FROM stg s SEMI JOIN shared USING (__row)),
            repeated AS (  -- min <> max: more than one version (cheaper than count DISTINCT)
                SELECT {keys}, min(__h) <> max(__h) AS differ, min(__row) AS first_row
                FROM content WHERE hash({keys}) IN (SELECT __k FROM hashed)
                GROUP BY ALL HAVING count(*) > 1),
            judged AS (
                SELECT v.__row,
                       CASE WHEN r.differ THEN 'conflicting_rows_same_key'
                            WHEN e.__old IS NOT NULL AND e.__old <> v.__h THEN {conflict_loaded}
                       END AS conflict,
                       coalesce(e.__old = v.__h, false)
                           OR coalesce(v.__row > r.first_row, false) AS duplicate
                FROM content v
                LEFT JOIN repeated r ON {same_key("v", "r")}
                LEFT JOIN existing e ON {same_key("v", "e")}
                WHERE r.first_row IS NOT NULL OR e.__old IS NOT NULL)"""


def _count(con: duckdb.DuckDBPyConnection) -> Fates:
    """Tally the fates and the rules behind them (rows not in ``fate`` load)."""
    counts = dict(con.execute("SELECT fate, count(*) FROM fate GROUP BY 1").fetchall())
    read = int(con.execute("SELECT count(*) FROM stg").fetchall()[0][0])
    rules = dict(
        con.execute(
            "SELECT r, count(*) FROM (SELECT unnest(rules) AS r FROM fate)"
            " GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
    )
    duplicate, quarantined, dropped = (
        int(counts.get(f, 0)) for f in ("duplicate", "quarantined", "dropped")
    )
    return Fates(
        read=read,
        load=read - duplicate - quarantined - dropped,
        duplicate=duplicate,
        quarantined=quarantined,
        dropped=dropped,
        rule_counts={str(k): int(v) for k, v in rules.items()},
    )
