"""Compile the data contract (``config/expectations.yaml``) into row-level SQL checks.

Each check is a named condition that is true when a row FAILS it; a row's failures are
collected into a list of rule names, which is what ``etl_quarantine.rules`` records and
what operators read. The same declarations become the Great Expectations suite in
:mod:`etl.gx_report`, so the contract is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from etl.kinds import ExportKind
from etl.mapping import literal, quote
from warehouse.periods import clock_seconds
from warehouse.settings import load_config

ID_NOT_TEXT = r"^[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+$"  # 6.22E+18: a spreadsheet ate the id


@dataclass(frozen=True)
class Check:
    """A named row-level rule: ``fails`` is SQL that is true for a failing row."""

    name: str
    fails: str


def contract() -> dict[str, Any]:
    """The whole declared contract."""
    return load_config("expectations")


def suite(kind: str) -> dict[str, Any]:
    """The declared expectations of one export kind."""
    return contract()["kinds"].get(kind, {})


def settings() -> dict[str, Any]:
    """Contract-wide settings (thresholds, report folder)."""
    return contract()["settings"]


def row_checks(kind: ExportKind, *, period: tuple[str, str] | None = None) -> list[Check]:
    """Checks on the staged row alone (types, nulls, sets, ranges, order, durations, ids).

    ``period`` (first day, day after last) comes from the file name, e.g. ``_2026-03``.
    """
    spec = suite(kind.name)
    cfg = settings()
    checks: list[Check] = []
    for field, sql_type in kind.types.items():
        if sql_type != "VARCHAR":
            checks.append(
                Check(
                    f"bad_type_{field}",
                    f"{quote(field + '__txt')} IS NOT NULL AND {quote(field)} IS NULL",
                )
            )
    for field in spec.get("not_null", []):
        fails = f"{quote(field)} IS NULL"
        if kind.types[field] != "VARCHAR":
            fails += f" AND {quote(field + '__txt')} IS NULL"
        checks.append(Check(f"missing_{field}", fails))
    for name, condition in spec.get("not_null_when", {}).items():
        checks.append(Check(f"missing_{name}", f"NOT ({condition})"))
    for field in spec.get("id_text", []):
        # The regex runs only on values holding its exponent mark (E or e): a literal test
        # is several times cheaper than the regex on millions of ids that cannot match.
        value, regex = quote(field), literal(ID_NOT_TEXT)
        checks.append(
            Check(
                f"id_not_text_{field}",
                f"CASE WHEN contains({value}, 'E') OR contains({value}, 'e')"
                f" THEN regexp_matches({value}, {regex}) ELSE false END",
            )
        )
    for field, allowed in spec.get("in_set", {}).items():
        listed = ", ".join(literal(str(v)) for v in allowed)
        checks.append(
            Check(
                f"not_allowed_{field}",
                f"{quote(field)} IS NOT NULL AND {quote(field)} NOT IN ({listed})",
            )
        )
    for field, bounds in spec.get("between", {}).items():
        parts = []
        if "min" in bounds:
            parts.append(f"{quote(field)} < {bounds['min']}")
        if "max" in bounds:
            parts.append(f"{quote(field)} > {bounds['max']}")
        checks.append(Check(f"out_of_range_{field}", " OR ".join(parts)))
    order = spec.get("order", [])
    if order:
        pairs = [
            f"({quote(a)} IS NOT NULL AND {quote(b)} IS NOT NULL AND {quote(b)} < {quote(a)})"
            for i, a in enumerate(order)
            for b in order[i + 1 :]
        ]
        checks.append(Check("timestamp_order", " OR ".join(pairs)))
    if duration := spec.get("max_duration"):
        limit = int(duration.get("seconds", cfg["max_duration_s"]))
        over = [
            f"date_diff('second', {quote(a)}, {quote(b)}) > {limit}" for a, b in duration["pairs"]
        ]
        checks.append(Check(f"duration_over_{limit // 3600}h", " OR ".join(over)))
    local_now = f"(now() AT TIME ZONE {literal(cfg['timezone'])})"  # exports are local time
    future = [f"{quote(f)} > {local_now}" for f in spec.get("not_future", [])]
    if future:
        checks.append(Check("in_future", " OR ".join(future)))
    if field := spec.get("counter_hours"):
        first, last = (clock_seconds(t) for t in cfg["counter_hours"])
        seconds = f"(extract('epoch' FROM {quote(field)}::TIME))"
        checks.append(
            Check(
                "outside_counter_hours",
                f"channel = 'counter' AND {quote(field)} IS NOT NULL"
                f" AND ({seconds} < {first} OR {seconds} > {last})",
            )
        )
    if period and spec.get("in_file_period"):
        first_day, next_day = period
        arrival = "coalesce(ticket_at, started_at)"
        checks.append(
            Check(
                "outside_file_period",
                f"{arrival} < DATE {literal(first_day)} OR {arrival} >= DATE {literal(next_day)}",
            )
        )
    return checks


def reference_checks(kind: ExportKind) -> list[Check]:
    """Cross-table checks against the warehouse (reference data is loaded first).

    Unlike row checks, ``fails`` here is a query over ``stg`` returning the ``__row`` of
    every failing row: written as joins, which DuckDB runs far faster than correlated
    subqueries on millions of rows.
    """
    wanted = set(suite(kind.name).get("references", []))
    checks = []
    if "outlet_known" in wanted:
        checks.append(
            Check(
                "unknown_outlet",
                "SELECT s.__row FROM stg s ANTI JOIN dim_outlet o USING (outlet_code)"
                " WHERE s.__drop IS NULL AND s.outlet_code IS NOT NULL",
            )
        )
    if "staff_known" in wanted:
        day = (
            "s.work_date" if kind.name == "roster" else "coalesce(s.ticket_at, s.started_at)::DATE"
        )
        checks.append(
            Check(
                "staff_not_assigned",
                f"""SELECT s.__row FROM stg s
                    LEFT JOIN dim_staff a
                        ON a.staff_id = s.staff_id AND a.outlet_code = s.outlet_code
                        AND a.valid_from <= {day} AND (a.valid_to IS NULL OR {day} < a.valid_to)
                    LEFT JOIN (SELECT DISTINCT staff_id, work_date FROM fact_roster) r
                        ON r.staff_id = s.staff_id AND r.work_date = {day}
                    WHERE s.__drop IS NULL AND s.staff_id IS NOT NULL
                      AND a.staff_id IS NULL AND r.staff_id IS NULL""",
            )
        )
    return checks


def failures_sql(checks: list[Check]) -> str:
    """SQL for the list of names of the checks a row fails (empty list when it passes)."""
    if not checks:
        return "[]::VARCHAR[]"
    cases = ", ".join(
        f"CASE WHEN coalesce(({c.fails}), false) THEN {literal(c.name)} END" for c in checks
    )
    return f"list_filter([{cases}], lambda x: x IS NOT NULL)"
