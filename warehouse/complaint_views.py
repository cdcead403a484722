"""Complaint views the KPI layer does not give: by channel received, days to resolve, the list.

``warehouse.kpi.complaints`` answers "how many, how well handled" per outlet, staff or
period. The service-quality page also asks how complaints reach the union (hotline,
letter, a regulator's referral ...), how the days to resolve are spread against the
15/30-day deadlines, and which complaints exactly are behind a number, with a search box.
These views read the KPI layer's complaint relation with its filters
(:func:`warehouse.kpi.filters.apply`), so the period (day received), the outlet scope
and the staff position mean what they mean in ``complaint_summary``, and every measure is
defined by the KPI layer's own aggregation.

The complaint's ``channel`` (how it was received) is not the KPI filter ``channel`` (the
channel of a service event): that filter is refused here as in ``complaint_summary``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import polars as pl

from warehouse.distributions import binned_counts
from warehouse.kpi.complaints import REFUSED_FILTERS, complaint_measures, default_as_of
from warehouse.kpi.filters import Filters, apply, codes, make_filters, ratio
from warehouse.kpi.relations import table
from warehouse.kpi.source import Connection, Source
from warehouse.settings import load_config

# Columns of complaint_list, in order.
LIST_COLUMNS = (
    "complaint_id",
    "received_at",
    "channel",
    "outlet_code",
    "outlet_name",
    "staff_id",
    "staff_name",
    "customer_ref",
    "category",
    "severity",
    "status",
    "substantiated",
    "is_repeat",
    "resolution_days",
    "deadline_days",
    "within_deadline",
    "penalty",
    "penalty_amount",
    "description",
)
# Text columns a search term is looked for in (case-insensitive substring).
SEARCHED = (
    "complaint_id",
    "category",
    "description",
    "customer_ref",
    "staff_id",
    "staff_name",
    "outlet_code",
    "outlet_name",
)
SEVERITIES = ("minor", "major", "critical")
STATUSES = ("open", "investigating", "resolved", "closed")


def _filters(start: dt.date | str, end: dt.date | str, filters: dict[str, Any]) -> Filters:
    """The KPI filters, refusing event-only ones exactly as ``complaint_summary`` does."""
    f = make_filters(start, end, **filters)
    for name in REFUSED_FILTERS:
        if getattr(f, name) is not None:
            raise ValueError(f"complaints have no {name}; drop the {name!r} filter")
    return f


def scoped_complaints(src: Source, f: Filters) -> ir.Table:
    """The KPI complaint relation in the period and scope, with what the exports add.

    Adds the channel received (``channel``), description, status, penalty and the outlet
    and staff names; one row per complaint.
    """
    cp = apply(src.complaints(), f, reject=REFUSED_FILTERS)
    fc = table(src.backend, "fact_complaint")
    extra = fc.select(
        _id=fc.complaint_id,
        channel=fc.channel,
        description=fc.description,
        status=fc.status,
        penalty=fc.penalty,
        penalty_amount=fc.penalty_amount.cast("float64"),
    )
    outlets = table(src.backend, "dim_outlet")
    outlets = outlets.select(_o=outlets.outlet_code, outlet_name=outlets.outlet_name)
    staff = table(src.backend, "dim_staff")
    # Names do not change with a transfer; one per staff id keeps the join one-to-one.
    names = staff.group_by(_p=staff.staff_id).aggregate(staff_name=staff.staff_name.max())
    j = cp.join(extra, cp.complaint_id == extra._id).drop("_id")
    j = j.left_join(outlets, j.outlet_code == outlets._o).drop("_o")
    return j.left_join(names, j.staff_id == names._p).drop("_p")


def complaints_by_channel(
    con: Connection,
    *,
    start: dt.date | str,
    end: dt.date | str,
    as_of: dt.datetime | None = None,
    **filters: str | Iterable[str] | None,
) -> pl.DataFrame:
    """Complaints per channel received (hotline, in person, letter, online, regulator).

    A regulator's referral weighs more than a hotline call, and a channel that brings
    many unsubstantiated complaints may need another intake; the handling measures are
    ``complaint_summary``'s own (same aggregation, same ``as_of`` rule), per channel.

    Returns:
        channel, complaints, share (of all complaints in scope), substantiated_share,
        resolution_days_mean, resolution_days_p90, closed_within_deadline_share,
        repeat_share; most complaints first (ties by channel). Channels without
        complaints are left out; no complaints gives an empty frame.

    Example:
        >>> complaints_by_channel(con, start="2026-01-01", end="2026-04-01", township="城关")

    """
    src = Source.of(con, use_marts=False)
    f = _filters(start, end, filters)
    cp = scoped_complaints(src, f)
    judged_at = as_of if as_of is not None else default_as_of(f.end)
    m = complaint_measures(cp, [cp.channel.name("channel")], judged_at)
    expr = m.select(
        "channel",
        "complaints",
        substantiated_share=ratio(m._substantiated, m._decided),
        resolution_days_mean=m.resolution_days_mean.cast("float64"),
        resolution_days_p90=m.resolution_days_p90.cast("float64"),
        closed_within_deadline_share=ratio(m._in_time, m._due),
        repeat_share=ratio(m._repeats, m.complaints),
    )
    df = src.run(expr).with_columns(pl.col("complaints").cast(pl.Int64))
    total = int(df["complaints"].sum()) if df.height else 0
    df = df.with_columns(share=pl.col("complaints") / total if total else pl.lit(None))
    df = df.sort(["complaints", "channel"], descending=[True, False])
    return df.select(
        "channel",
        "complaints",
        pl.col("share").cast(pl.Float64),
        "substantiated_share",
        "resolution_days_mean",
        "resolution_days_p90",
        "closed_within_deadline_share",
        "repeat_share",
    )


def resolution_histogram(
    con: Connection,
    *,
    start: dt.date | str,
    end: dt.date | str,
    bin_days: float | None = None,
    cap_days: float | None = None,
    **filters: str | Iterable[str] | None,
) -> pl.DataFrame:
    """Complaints per bin of days to resolve, to set against the 15 and 30-day deadlines.

    ``bin_days`` and ``cap_days`` default to config/quality.yaml ``resolution``.
    Bins are right-closed ([0, 1], (1, 2] ...), so a complaint resolved in exactly 15 days
    sits left of the 15-day line, as the deadline counts it.

    Returns:
        bin_start_days, bin_end_days (Float64), complaints (Int64): every bin from 0 to
        ``cap_days``, one overflow row (bin_start_days = cap_days, bin_end_days null), then,
        when some complaints are not resolved yet, a row with both bounds null counting
        them. ``complaints`` adds up to ``complaint_summary(...)["complaints"]``.

    Example:
        >>> resolution_histogram(con, start="2026-01-01", end="2026-04-01")

    """
    cfg = load_config("quality")["resolution"]
    bin_days = float(cfg["bin_days"]) if bin_days is None else bin_days
    cap_days = float(cfg["cap_days"]) if cap_days is None else cap_days
    src = Source.of(con, use_marts=False)
    cp = scoped_complaints(src, _filters(start, end, filters))
    counts = binned_counts(src, cp, "resolution_days", width=bin_days, cap=cap_days)
    return counts.select(
        bin_start_days=pl.col("bin_start"),
        bin_end_days=pl.col("bin_end"),
        complaints=pl.col("count"),
    )


def _with_deadline(cp: ir.Table, as_of: dt.datetime) -> ir.Table:
    """Add within_deadline: True / False once the complaint is due, NULL before.

    Due and in time as in ``complaint_summary``: due = resolved, or the deadline passed
    at ``as_of``; in time = resolved within ``deadline_days``.
    """
    as_of_s = int(as_of.replace(tzinfo=dt.UTC).timestamp())
    resolved = cp.resolved_at.notnull()
    deadline_s = cp.received_at.epoch_seconds().cast("int64") + cp.deadline_days * 86_400
    due = resolved | (deadline_s <= as_of_s)
    in_time = (resolved & (cp.resolution_days <= cp.deadline_days)).fill_null(False)
    return cp.mutate(within_deadline=ibis.ifelse(due, in_time, ibis.null("boolean")))


def _category_matches(term: str) -> list[str]:
    """Category codes whose English or Chinese label contains ``term`` (case-insensitive)."""
    labels = load_config("kpi")["complaints"]["category_labels"]
    return [
        code
        for code, names in labels.items()
        if any(term in str(label).lower() for label in names.values())
    ]


def _search_clause(search: str | None) -> tuple[list[str], dict[str, Any]]:
    """SQL conditions and named parameters for the search text: every word must match.

    A word matches when it is a substring (case-insensitive) of any searched column, or
    of a category's label. User text only ever travels as a parameter value.
    """
    conditions: list[str] = []
    params: dict[str, Any] = {}
    for i, word in enumerate((search or "").lower().split()):
        name = f"term{i}"
        params[name] = word
        params[f"{name}_cats"] = _category_matches(word)
        alternatives = [f"contains(lower(coalesce(c.{col}, '')), ${name})" for col in SEARCHED]
        alternatives.append(f"list_contains(${name}_cats, c.category)")
        conditions.append("(" + " OR ".join(alternatives) + ")")
    return conditions, params


def _raw_connection(con: Connection) -> duckdb.DuckDBPyConnection:
    """The DuckDB connection under ``con`` (the list runs a parameterised DuckDB query)."""
    if isinstance(con, duckdb.DuckDBPyConnection):
        return con
    raw = getattr(con, "con", None)
    if isinstance(raw, duckdb.DuckDBPyConnection):
        return raw
    raise TypeError(f"complaint_list needs a DuckDB connection, got {type(con).__name__}")


def complaint_list(
    con: Connection,
    *,
    start: dt.date | str,
    end: dt.date | str,
    search: str | None = None,
    status: str | Iterable[str] | None = None,
    severity: str | Iterable[str] | None = None,
    limit: int | None = None,
    as_of: dt.datetime | None = None,
    **filters: str | Iterable[str] | None,
) -> pl.DataFrame:
    """The complaints received in the period and scope, newest first, searchable.

    What an analyst opens after a number surprised them: which complaints, about whom,
    how they were handled.

    Args:
        con: DuckDB connection (read-only is fine) or an ibis DuckDB backend.
        start: First day received (inclusive).
        end: Day after the last day (exclusive).
        search: Words to look for; each must appear (case-insensitive substring) in the
            id, category (code or English / Chinese label), description, customer ref,
            staff id or name, outlet code or name. Sent to DuckDB as parameters only.
        status: open, investigating, resolved, closed (one or several; None = all).
        severity: minor, major, critical (one or several; None = all).
        limit: At most this many rows (None = all).
        as_of: When deadlines are judged (default as in ``complaint_summary``).
        **filters: outlets, township, outlet_type, position (as for the KPI functions).

    Returns:
        The columns of ``LIST_COLUMNS``: complaint_id, received_at, channel (received),
        outlet_code, outlet_name, staff_id, staff_name, customer_ref, category, severity,
        status, substantiated, is_repeat, resolution_days, deadline_days, within_deadline
        (null while not yet due), penalty, penalty_amount (CNY), description (raw text:
        escape before rendering as markup). Newest first, then by id.

    Example:
        >>> complaint_list(con, start="2026-02-01", end="2026-03-01", search="态度",
        ...                status=("open", "investigating"))

    """
    src = Source.of(con, use_marts=False)
    f = _filters(start, end, filters)
    judged_at = as_of if as_of is not None else default_as_of(f.end)
    scoped = _with_deadline(scoped_complaints(src, f), judged_at).select(*LIST_COLUMNS)
    conditions, params = _search_clause(search)
    for column, value in (("status", status), ("severity", severity)):
        wanted = list(codes(value, column) or ())  # none picked: no restriction
        if wanted:
            params[column] = wanted
            conditions.append(f"list_contains(${column}, c.{column})")
    where = " AND ".join(conditions) or "TRUE"
    tail = ""
    if limit is not None:
        params["limit"] = int(limit)
        tail = " LIMIT $limit"
    # Only compiled ibis SQL and fixed text are joined here; user input is in ``params``.
    query = (
        f"SELECT * FROM ({ibis.to_sql(scoped, dialect='duckdb')}) AS c WHERE {where}"
        f" ORDER BY c.received_at DESC, c.complaint_id{tail}"
    )
    return _raw_connection(con).sql(query, params=params or None).pl()
