"""Complaint KPIs: volume and rate, fault, handling time, deadlines, repeats, Pareto.

The leading group reviews how complaints were handled against the 2020 measures on
consumer complaint handling (simple within 15 days, complex within 30); these functions
give those figures with the same filters as the service KPIs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import ibis.expr.types as ir
import polars as pl

from warehouse.kpi.filters import (
    EVENT_ONLY_KEYS,
    GROUPINGS,
    KEY_COLUMNS,
    Filters,
    aggregate,
    apply,
    check_by,
    key_exprs,
    make_filters,
    ratio,
)
from warehouse.kpi.grid import complete_outlets, sort_by_keys
from warehouse.kpi.service import join_on_keys, needs_staff
from warehouse.kpi.source import Connection, Source
from warehouse.settings import load_config

COMPLAINT_GROUPINGS = tuple(k for k in GROUPINGS if k not in EVENT_ONLY_KEYS)
COMPLAINT_COUNTS = ("complaints", "transactions")
# Complaints carry no channel or business type: these filters are refused, not ignored.
REFUSED_FILTERS = ("channel", "business_type")


def default_as_of(end: dt.date) -> dt.datetime:
    """Judge deadlines at the end of the period, or now if the period has not ended.

    A closed quarter then keeps its figure however late the query runs, while the current
    month does not count as late a complaint whose deadline is still ahead.
    """
    return min(dt.datetime.combine(end, dt.time()), dt.datetime.now().replace(microsecond=0))


def complaint_measures(cp: ir.Table, keys: Sequence[ir.Value], as_of: dt.datetime) -> ir.Table:
    """Count complaints and summarise their resolution per group.

    Public so every complaint view (by outlet, by channel received) defines them once.
    """
    as_of_s = int(as_of.replace(tzinfo=dt.UTC).timestamp())
    resolved = cp.resolved_at.notnull()
    deadline_s = cp.received_at.epoch_seconds().cast("int64") + cp.deadline_days * 86_400
    due = resolved | (deadline_s <= as_of_s)
    in_time = resolved & (cp.resolution_days <= cp.deadline_days)
    return aggregate(
        cp,
        keys,
        complaints=cp.count(),
        _substantiated=(cp.substantiated == True).fill_null(False).cast("int64").sum(),  # noqa: E712
        _decided=cp.substantiated.count(),
        resolution_days_mean=cp.resolution_days.mean(),
        resolution_days_p90=cp.resolution_days.quantile(0.9),
        _due=due.cast("int64").sum(),
        _in_time=in_time.fill_null(False).cast("int64").sum(),
        _repeats=cp.is_repeat.cast("int64").sum(),
    )


def _transactions(src: Source, f: Filters, keys: Sequence[str]) -> ir.Table:
    """Count served transactions per group: the denominator of the complaint rate.

    Grouped by staff, transactions without a teller (self-service) are left out, so
    complaints naming nobody show no rate instead of one against self-service volume.
    """
    rel = apply(src.measures(per_staff=needs_staff(keys, f)), f)
    if "staff" in keys:
        rel = rel.filter(rel.staff_id.notnull())
    return aggregate(rel, key_exprs(rel, keys), transactions=rel.served.sum())


def complaint_expr(src: Source, f: Filters, keys: Sequence[str], as_of: dt.datetime) -> ir.Table:
    """Build the complaint_summary query as one ibis expression."""
    cp = apply(src.complaints(), f, reject=REFUSED_FILTERS)
    m = complaint_measures(cp, key_exprs(cp, keys), as_of)
    names = [KEY_COLUMNS[k] for k in keys]
    j = join_on_keys(m, _transactions(src, f, keys), names, "outer")
    complaints = j.complaints.fill_null(0)
    transactions = j.transactions.fill_null(0)
    return j.select(
        *names,
        complaints=complaints,
        transactions=transactions,
        per_10k_transactions=ratio(complaints * 10_000, transactions),
        substantiated_share=ratio(j._substantiated, j._decided),
        resolution_days_mean=j.resolution_days_mean.cast("float64"),
        resolution_days_p90=j.resolution_days_p90.cast("float64"),
        closed_within_deadline_share=ratio(j._in_time, j._due),
        repeat_share=ratio(j._repeats, complaints),
    )


def complaint_summary(
    con: Connection,
    *,
    start: dt.date | str,
    end: dt.date | str,
    by: str | Sequence[str] = (),
    as_of: dt.datetime | None = None,
    use_marts: bool | None = None,
    **filters: str | Iterable[str] | None,
) -> pl.DataFrame:
    """Complaint KPIs per group, for the quarterly review and the outlet pages.

    Complaints are counted by the day they were received (``start`` <= day < ``end``).

    - complaints: complaints received; transactions: served transactions (all channels),
      per_10k_transactions = complaints x 10,000 / transactions.
    - substantiated_share: substantiated / complaints whose fault has been decided.
    - resolution_days_mean / _p90: over complaints resolved (resolved_at set); exact p90.
    - closed_within_deadline_share: resolved within the deadline (15 days, 30 if complex)
      / complaints due, i.e. resolved or past their deadline at ``as_of`` (default: the
      end of the period, or now if earlier). Open complaints still within their deadline
      are not judged yet.
    - repeat_share: complaints whose customer_ref, or whose named staff member, had
      another complaint received in the 90 days before (anywhere in the warehouse).

    Grouping: outlet, staff, day, week, month, quarter, hour, weekday. Filters as for
    service_summary, except channel and business_type, which complaints do not carry
    (passing them raises ValueError rather than silently mixing scopes).

    Example:
        >>> complaint_summary(con, start="2025-10-01", end="2026-01-01", by="outlet")

    """
    src = Source.of(con, use_marts)
    f = make_filters(start, end, **filters)
    keys = check_by(by, COMPLAINT_GROUPINGS)
    for name in REFUSED_FILTERS:
        if getattr(f, name) is not None:
            raise ValueError(f"complaints have no {name}; drop the {name!r} filter")
    judged_at = as_of if as_of is not None else default_as_of(f.end)
    df = src.run(complaint_expr(src, f, keys, judged_at))
    df = complete_outlets(df, src, f, keys, COMPLAINT_COUNTS)
    return sort_by_keys(df, keys)


def complaint_pareto(
    con: Connection,
    *,
    start: dt.date | str,
    end: dt.date | str,
    use_marts: bool | None = None,
    **filters: str | Iterable[str] | None,
) -> pl.DataFrame:
    """Complaints by category, largest first, with cumulative share and the vital few.

    The Pareto chart tells the leading group which few categories to act on first. The
    vital few are the categories needed to reach ``complaints.pareto_vital_share`` (80%)
    of complaints: each category whose preceding cumulative share is still below it.

    Returns columns: category, label_en, label_zh, complaints, share, cumulative_share,
    vital_few. Ties in count are ordered by category name.

    Example:
        >>> complaint_pareto(con, start="2025-10-01", end="2026-01-01", township="城关")

    """
    src = Source.of(con, use_marts)
    f = make_filters(start, end, **filters)
    cp = apply(src.complaints(), f, reject=REFUSED_FILTERS)
    counts = src.run(cp.group_by("category").aggregate(complaints=cp.count()))
    cfg = load_config("kpi")["complaints"]
    labels = cfg["category_labels"]
    vital = float(cfg["pareto_vital_share"])
    total = int(counts["complaints"].sum()) if counts.height else 0
    df = counts.sort(["complaints", "category"], descending=[True, False]).with_columns(
        label_en=pl.col("category").replace_strict(
            {k: v["en"] for k, v in labels.items()}, default=pl.col("category")
        ),
        label_zh=pl.col("category").replace_strict(
            {k: v["zh"] for k, v in labels.items()}, default=pl.col("category")
        ),
        share=pl.col("complaints") / total if total else pl.lit(None, dtype=pl.Float64),
    )
    before = pl.col("complaints").cum_sum() - pl.col("complaints")
    df = df.with_columns(
        cumulative_share=pl.col("complaints").cum_sum() / total if total else pl.col("share"),
        # Compare counts, not summed float shares, so 0.1 + 0.7 is not "below 0.8".
        vital_few=before < vital * total,
    )
    return df.select(
        "category",
        "label_en",
        "label_zh",
        pl.col("complaints").cast(pl.Int64),
        pl.col("share").cast(pl.Float64),
        pl.col("cumulative_share").cast(pl.Float64),
        "vital_few",
    )
