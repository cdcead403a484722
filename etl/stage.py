"""Stage one raw export: map it to canonical typed columns and decide each row's fate.

Every row read ends in exactly one of four fates, which is what makes loads auditable:
``dropped`` (by a profile rule or as a subtotal row), ``quarantined`` (failed a rule, or
conflicts with a row of the same key), ``duplicate`` (identical to a row already loaded or
earlier in the file) or ``load``. Nothing is written to the warehouse tables here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from etl.mapping import Mapping, fold_full_width, literal, quote, text_sql, typed_sql
from etl.profiles import Profile
from etl.read import RawTable
from etl.rules import Check, failures_sql, reference_checks, row_checks, suite

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
    "staff": ["UPDATE stg SET status = 'active' WHERE status IS NULL"],
    "complaints": ["UPDATE stg SET is_complex = severity <> 'minor' WHERE is_complex IS NULL"],
}
PERIOD_IN_NAME = re.compile(r"(\d{4})-(\d{2})(?!\d)")


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
    match = PERIOD_IN_NAME.search(name)
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        return None
    nxt = (year + 1, 1) if month == 12 else (year, month + 1)
    return f"{year:04d}-{month:02d}-01", f"{nxt[0]:04d}-{nxt[1]:02d}-01"


def stage(con: duckdb.DuckDBPyConnection, raw: RawTable, mapping: Mapping, profile: Profile) -> None:
    """Create temp table ``stg``: one row per data row with canonical typed columns.

    ``__drop`` names the rule that drops the row (NULL when kept); ``<field>__txt`` keeps
    the text of every non-text field so a value that does not cast can be reported.
    """
    con.register("raw_in", fold_full_width(raw.frame, mapping))
    drops = [f"WHEN __row IN ({', '.join(map(str, raw.subtotal_rows))}) THEN 'subtotal_row'"] if raw.subtotal_rows else []
    drops += [f"WHEN coalesce(({rule.when}), false) THEN {literal(rule.name)}" for rule in profile.drop_rows]
    drop_sql = f"CASE {' '.join(drops)} END" if drops else "NULL::VARCHAR"
    fields = mapping.kind.types
    source = ", ".join(
        f"{mapping.source_sql.get(f, 'NULL::VARCHAR')} AS {quote(f + '__src')}" for f in fields
    )
    text = ", ".join(f"{text_sql(f, quote(f + '__src'), profile)} AS {quote(f + '__txt')}" for f in fields)
    typed = ["__row", "__drop"]
    for f, sql_type in fields.items():
        typed.append(f"{typed_sql(f, sql_type, quote(f + '__txt'), profile)} AS {quote(f)}")
        if sql_type != "VARCHAR":
            typed.append(quote(f + "__txt"))
    con.execute("DROP TABLE IF EXISTS stg")
    try:
        con.execute(
            f"""CREATE TEMP TABLE stg AS
                WITH a AS (SELECT __row, {drop_sql} AS __drop, {source} FROM raw_in),
                     b AS (SELECT __row, __drop, {text} FROM a)
                SELECT {', '.join(typed)} FROM b"""
        )
    finally:
        con.unregister("raw_in")
    for statement in DEFAULTS.get(mapping.kind.name, []):
        con.execute(statement)


def decide(
    con: duckdb.DuckDBPyConnection, mapping: Mapping, profile: Profile, *, file_name: str
) -> Fates:
    """Validate ``stg`` and give every row its fate in temp table ``fate`` (__row, fate, rules)."""
    kind = mapping.kind
    checks: list[Check] = [
        check
        for check in row_checks(kind, period=file_period(file_name)) + reference_checks(kind)
        if check.name not in profile.skip_rules
    ]
    key = list(suite(kind.name).get("key", []))
    fields = list(kind.types)
    con.execute("DROP TABLE IF EXISTS checked")
    con.execute(
        f"""CREATE TEMP TABLE checked AS
            SELECT s.*, {failures_sql(checks)} AS __fail,
                   hash({', '.join(quote(f) for f in fields)}) AS __h
            FROM stg s WHERE __drop IS NULL"""
    )
    con.execute("DROP TABLE IF EXISTS fate")
    con.execute(
        "CREATE TEMP TABLE fate (__row BIGINT, fate VARCHAR, rules VARCHAR[])"
    )
    con.execute("INSERT INTO fate SELECT __row, 'dropped', [__drop] FROM stg WHERE __drop IS NOT NULL")
    con.execute("INSERT INTO fate SELECT __row, 'quarantined', __fail FROM checked WHERE len(__fail) > 0")
    if key:
        _key_fates(con, kind.name, key, fields)
    con.execute(
        "INSERT INTO fate SELECT __row, 'load', [] FROM checked"
        " WHERE len(__fail) = 0 AND __row NOT IN (SELECT __row FROM fate)"
    )
    return _count(con)


def _key_fates(con: duckdb.DuckDBPyConnection, kind: str, key: list[str], fields: list[str]) -> None:
    """Duplicates and conflicts by key, within the file and against the warehouse."""
    keys = ", ".join(quote(k) for k in key)
    ok = "len(__fail) = 0"
    ok_c = "len(c.__fail) = 0"
    # Within the file: same key, different content -> every such row is a conflict.
    con.execute(
        f"""INSERT INTO fate SELECT c.__row, 'quarantined', ['conflicting_rows_same_key']
            FROM checked c JOIN (SELECT {keys} FROM checked WHERE {ok} GROUP BY ALL
                                 HAVING count(DISTINCT __h) > 1) g USING ({keys})
            WHERE {ok_c}"""
    )
    # Same key, same content, later in the file -> duplicate of the first.
    con.execute(
        f"""INSERT INTO fate SELECT __row, 'duplicate', [] FROM (
                SELECT __row, row_number() OVER (PARTITION BY {keys} ORDER BY __row) AS n
                FROM checked WHERE {ok} AND __row NOT IN (SELECT __row FROM fate)) WHERE n > 1"""
    )
    if kind not in TARGETS:
        return
    table, renamed = TARGETS[kind]
    target_cols = [quote(renamed.get(f, f)) for f in fields]
    target_keys = ", ".join(f"{quote(renamed.get(k, k))} AS {quote(k)}" for k in key)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE existing AS
            SELECT {target_keys}, hash({', '.join(target_cols)}) AS __h FROM {table}"""
    )
    con.execute(
        f"""INSERT INTO fate SELECT c.__row, 'duplicate', [] FROM checked c
            JOIN existing e USING ({keys}) WHERE {ok_c} AND c.__h = e.__h
            AND c.__row NOT IN (SELECT __row FROM fate)"""
    )
    if kind not in UPDATABLE:
        con.execute(
            f"""INSERT INTO fate SELECT c.__row, 'quarantined', ['conflicts_with_loaded'] FROM checked c
                JOIN existing e USING ({keys}) WHERE {ok_c} AND c.__h <> e.__h
                AND c.__row NOT IN (SELECT __row FROM fate)"""
        )


def _count(con: duckdb.DuckDBPyConnection) -> Fates:
    """Tally the fates and the rules behind them."""
    counts = dict(con.execute("SELECT fate, count(*) FROM fate GROUP BY 1").fetchall())
    read = int(con.execute("SELECT count(*) FROM stg").fetchone()[0])
    rules = dict(
        con.execute(
            "SELECT r, count(*) FROM (SELECT unnest(rules) AS r FROM fate) GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
    )
    return Fates(
        read=read,
        load=int(counts.get("load", 0)),
        duplicate=int(counts.get("duplicate", 0)),
        quarantined=int(counts.get("quarantined", 0)),
        dropped=int(counts.get("dropped", 0)),
        rule_counts={str(k): int(v) for k, v in rules.items()},
    )
