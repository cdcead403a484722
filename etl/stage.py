"""Stage one raw export: map it to canonical typed columns and decide each row's fate.

Every row read ends in exactly one of four fates, which is what makes loads auditable:
``dropped`` (by a profile rule or as a subtotal row), ``quarantined`` (failed a rule, or
conflicts with a row of the same key), ``duplicate`` (identical to a row already loaded or
earlier in the file) or ``load``. Nothing is written to the warehouse tables here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from etl.mapping import Mapping, literal, normalise_raw, quote, text_sql, typed_sql
from etl.profiles import Profile
from etl.read import RawTable
from etl.rules import failures_sql, reference_checks, row_checks, suite

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
    raw: RawTable,
    mapping: Mapping,
    profile: Profile,
    *,
    file_name: str,
) -> None:
    """Create temp table ``stg``: one row per data row, canonical typed columns, row checks.

    One pass over the raw rows in four layers (source expression, text, type, defaults):
    ``__drop`` names the rule dropping the row, ``__fail`` lists the row-level rules it
    fails (a value present but not castable is one), ``__h`` hashes its canonical content.
    """
    con.register("raw_in", normalise_raw(raw.frame, mapping))
    drops = (
        [f"WHEN __row IN ({', '.join(map(str, raw.subtotal_rows))}) THEN 'subtotal_row'"]
        if raw.subtotal_rows
        else []
    )
    drops += [
        f"WHEN coalesce(({rule.when}), false) THEN {literal(rule.name)}"
        for rule in profile.drop_rows
    ]
    drop_sql = f"CASE {' '.join(drops)} END" if drops else "NULL::VARCHAR"
    fields = mapping.kind.types
    source = ", ".join(
        f"{mapping.source_sql.get(f, 'NULL::VARCHAR')} AS {quote(f + '__src')}" for f in fields
    )
    text = ", ".join(
        f"{text_sql(f, quote(f + '__src'), profile)} AS {quote(f + '__txt')}" for f in fields
    )
    typed = [
        f"{typed_sql(f, t, quote(f + '__txt'), profile)} AS {quote(f)}" for f, t in fields.items()
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
    con.execute("DROP TABLE IF EXISTS stg")
    try:
        con.execute(
            f"""CREATE TEMP TABLE stg AS
                WITH a AS (SELECT __row, {drop_sql} AS __drop, {source} FROM raw_in),
                     b AS (SELECT __row, __drop, {text} FROM a),
                     c AS (SELECT __row, __drop, {", ".join(typed)} FROM b),
                     d AS (SELECT *{replace} FROM c)
                SELECT __row, __drop, {final},
                       {failures_sql(checks)} AS __fail, hash({final}) AS __h
                FROM d"""
        )
    finally:
        con.unregister("raw_in")


def decide(con: duckdb.DuckDBPyConnection, mapping: Mapping, profile: Profile) -> Fates:
    """Give every staged row its fate, in temp table ``fate`` (__row, fate, rules).

    Adds the cross-table checks to the row checks, then settles duplicates and conflicts by
    key, within the file and against the warehouse, in one statement.
    """
    kind = mapping.kind
    refs = [c for c in reference_checks(kind) if c.name not in profile.skip_rules]
    key = list(suite(kind.name).get("key", []))
    keys = ", ".join(quote(k) for k in key)
    if refs:
        failing = " UNION ALL ".join(
            f"SELECT __row, {literal(c.name)} AS rule FROM ({c.fails})" for c in refs
        )
        con.execute(
            f"""UPDATE stg SET __fail = list_concat(stg.__fail, bad.rules)
                FROM (SELECT __row, list(rule ORDER BY rule) AS rules
                      FROM ({failing}) GROUP BY __row) AS bad
                WHERE stg.__row = bad.__row"""
        )
    if not key:
        con.execute(
            """CREATE OR REPLACE TEMP TABLE fate AS SELECT __row,
                   CASE WHEN __drop IS NOT NULL THEN 'dropped'
                        WHEN len(__fail) > 0 THEN 'quarantined' ELSE 'load' END AS fate,
                   CASE WHEN __drop IS NOT NULL THEN [__drop] ELSE __fail END AS rules
               FROM stg"""
        )
        return _count(con)
    table, renamed = TARGETS.get(kind.name, (None, {}))
    if table:
        target_keys = ", ".join(f"{quote(renamed.get(k, k))} AS {quote(k)}" for k in key)
        target_hash = ", ".join(quote(renamed.get(f, f)) for f in kind.types)
        match = " AND ".join(
            f"{quote(renamed.get(k, k))} IN (SELECT {quote(k)} FROM stg)" for k in key[:1]
        )
        existing = f"SELECT {target_keys}, hash({target_hash}) AS __old FROM {table} WHERE {match}"
    else:
        nothing = ", ".join(f"NULL::VARCHAR AS {quote(k)}" for k in key)
        existing = f"SELECT {nothing}, NULL::UBIGINT AS __old WHERE false"
    conflict_loaded = "'conflicts_with_loaded'" if kind.name not in UPDATABLE else "NULL"

    def same_key(a: str, b: str) -> str:
        """Key equality that treats NULL parts as equal (a county-wide target has no outlet)."""
        return " AND ".join(f"{a}.{quote(k)} IS NOT DISTINCT FROM {b}.{quote(k)}" for k in key)

    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE fate AS
            WITH valid AS (
                SELECT __row, {keys}, __h FROM stg WHERE __drop IS NULL AND len(__fail) = 0),
            repeated AS (
                SELECT {keys}, count(DISTINCT __h) AS versions, min(__row) AS first_row
                FROM valid GROUP BY ALL HAVING count(*) > 1),
            existing AS ({existing}),
            judged AS (
                SELECT v.__row,
                       CASE WHEN r.versions > 1 THEN 'conflicting_rows_same_key'
                            WHEN e.__old IS NOT NULL AND e.__old <> v.__h THEN {conflict_loaded}
                       END AS conflict,
                       coalesce(e.__old = v.__h, false)
                           OR coalesce(v.__row > r.first_row, false) AS duplicate
                FROM valid v
                LEFT JOIN repeated r ON {same_key("v", "r")}
                LEFT JOIN existing e ON {same_key("v", "e")})
            SELECT s.__row,
                   CASE WHEN s.__drop IS NOT NULL THEN 'dropped'
                        WHEN len(s.__fail) > 0 OR j.conflict IS NOT NULL THEN 'quarantined'
                        WHEN j.duplicate THEN 'duplicate' ELSE 'load' END AS fate,
                   CASE WHEN s.__drop IS NOT NULL THEN [s.__drop]
                        WHEN j.conflict IS NOT NULL THEN [j.conflict] ELSE s.__fail END AS rules
            FROM stg s LEFT JOIN judged j USING (__row)"""
    )
    return _count(con)


def _count(con: duckdb.DuckDBPyConnection) -> Fates:
    """Tally the fates and the rules behind them."""
    counts = dict(con.execute("SELECT fate, count(*) FROM fate GROUP BY 1").fetchall())
    read = int(con.execute("SELECT count(*) FROM stg").fetchall()[0][0])
    rules = dict(
        con.execute(
            "SELECT r, count(*) FROM (SELECT unnest(rules) AS r FROM fate)"
            " GROUP BY 1 ORDER BY 2 DESC"
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
