"""Distributions of waiting and handling times: histograms and a percentile table.

The KPI layer gives one number per group (median, 90th percentile, service level); the
service-quality page also has to show the *shape* behind them: whether long waits are a
few outliers or a second hump at the lunch hour. No KPI function gives a distribution, so
this module adds one, built on the KPI layer's own event relation and filters
(:mod:`warehouse.kpi.relations`, :mod:`warehouse.kpi.filters`): "served counter customer",
the period and the outlet scope mean exactly what they mean in ``service_summary``, and
the counts add up to its ``counter_served``.

Bins are closed on the right: the first bin is [0, w], then (w, 2w], (2w, 3w] ... so a
customer who waited exactly the 900 s target falls in the bin that ends at the target,
on the "within target" side of the line, as ``service_level`` counts them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Literal

import ibis
import ibis.expr.types as ir
import polars as pl

from warehouse.kpi.filters import apply, make_filters
from warehouse.kpi.source import Connection, Source

Measure = Literal["wait_s", "service_s"]
MEASURES: tuple[Measure, ...] = ("wait_s", "service_s")
DEFAULT_QUANTILES: tuple[float, ...] = (0.5, 0.75, 0.9, 0.95)

_BIN_SCHEMA = {"bin_start": pl.Float64, "bin_end": pl.Float64, "count": pl.Int64}


def bin_index(value: ir.NumericValue, width: float) -> ir.IntegerValue:
    """Right-closed bin number of a value: [0, w] -> 0, (w, 2w] -> 1, ... (NULL stays NULL).

    Negative values (which the ETL rejects for durations) would land in bin 0.
    """
    raw = (value.cast("float64") / float(width)).ceil().cast("int64") - 1
    # Not ibis.greatest: DuckDB's GREATEST skips NULLs, which would put missing values in 0.
    return ibis.ifelse(raw < 0, 0, raw)


def binned_counts(
    src: Source, rel: ir.Table, column: str, *, width: float, cap: float
) -> pl.DataFrame:
    """Count the rows of ``rel`` per right-closed bin of ``column``, on a complete grid.

    Returns bin_start, bin_end, count: every bin from 0 to ``cap`` (zeros included), then
    one overflow row (bin_start = cap, bin_end null) for values above ``cap``, then, only
    when there are any, one row with both bounds null for rows whose value is missing.
    So the counts always add up to the rows of ``rel``.
    """
    _check_bins(width, cap)
    n_bins = round(cap / width)
    value = rel[column]
    index = ibis.ifelse(value > cap, n_bins, bin_index(value, width))
    counted = src.run(rel.group_by(_bin=index).aggregate(count=rel.count()))
    observed = dict(zip(counted["_bin"].to_list(), counted["count"].to_list(), strict=True))
    rows = [(i * width, (i + 1) * width, observed.get(i, 0)) for i in range(n_bins)]
    rows.append((cap, None, observed.get(n_bins, 0)))
    if observed.get(None):
        rows.append((None, None, observed[None]))
    return pl.DataFrame(rows, schema=_BIN_SCHEMA, orient="row")


def _check_bins(width: float, cap: float) -> None:
    """Refuse a grid that would not tile [0, cap] exactly (the last bin would lie)."""
    if width <= 0 or cap <= 0:
        raise ValueError(f"bin width ({width}) and cap ({cap}) must be positive")
    ratio = cap / width
    if abs(ratio - round(ratio)) > 1e-9:
        raise ValueError(f"cap ({cap}) must be a whole number of bins of {width}")


def _check_measure(measure: str) -> str:
    """Accept only the two per-customer durations the event relation keeps."""
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    return measure


def served_counter(
    src: Source,
    start: dt.date | str,
    end: dt.date | str,
    **filters: str | Iterable[str] | None,
) -> ir.Table:
    """The KPI layer's served counter customers in the period and scope, one row each.

    The population of ``wait_*`` and ``service_*`` in ``service_summary`` (a reversed
    original is excluded, an error is included).
    """
    ev = apply(src.events(), make_filters(start, end, **filters))
    return ev.filter(ev.counter_served == 1)


def wait_histogram(
    con: Connection,
    *,
    start: dt.date | str,
    end: dt.date | str,
    measure: Measure = "wait_s",
    bin_s: int = 60,
    cap_s: int = 3600,
    use_marts: bool | None = None,
    **filters: str | Iterable[str] | None,
) -> pl.DataFrame:
    """Served counter customers per bin of waiting (or handling) time.

    Args:
        con: DuckDB connection (read-only is fine) or ibis backend.
        start: First day (inclusive).
        end: Day after the last day (exclusive).
        measure: ``"wait_s"`` (ticket to start of service) or ``"service_s"`` (handling).
        bin_s: Bin width in seconds; bins are right-closed ([0, 60], (60, 120], ...).
        cap_s: Upper end of the last regular bin; a multiple of ``bin_s``. Longer times
            go to one overflow row.
        use_marts: As for the KPI functions.
        **filters: outlets, township, outlet_type, channel, business_type, position.

    Returns:
        bin_start_s, bin_end_s (Int64 seconds), customers (Int64), share (of all rows):
        every bin from 0 to ``cap_s``, then the overflow row (bin_start_s = cap_s,
        bin_end_s null), then, only if some customer has no recorded time, a row with
        both bounds null. ``customers`` adds up to ``service_summary(...)["counter_served"]``
        for the same period and filters.

    Example:
        >>> wait_histogram(con, start="2026-02-01", end="2026-03-01", outlets="03101")

    """
    column = _check_measure(measure)
    src = Source.of(con, use_marts)
    rel = served_counter(src, start, end, **filters)
    counts = binned_counts(src, rel, column, width=bin_s, cap=cap_s)
    total = int(counts["count"].sum())
    return counts.select(
        bin_start_s=pl.col("bin_start").cast(pl.Int64),
        bin_end_s=pl.col("bin_end").cast(pl.Int64),
        customers=pl.col("count"),
        share=pl.col("count") / total if total else pl.lit(None, dtype=pl.Float64),
    )


def percentile_table(
    con: Connection,
    *,
    start: dt.date | str,
    end: dt.date | str,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    use_marts: bool | None = None,
    **filters: str | Iterable[str] | None,
) -> pl.DataFrame:
    """Percentiles of waiting and handling time of served counter customers, one row each.

    Exact percentiles (linear interpolation between order statistics, as DuckDB's
    ``QUANTILE_CONT``), so p50 and p90 equal ``service_summary``'s ``wait_p50_s``,
    ``wait_p90_s`` and ``service_p90_s`` for the same filters.

    Returns:
        measure ("wait_s", "service_s"), customers (those with a recorded time), mean_s,
        one column per quantile named ``p{100 q}_s`` (p50_s, p75_s, p90_s, p95_s by
        default) and max_s, all Float64 seconds; null when nobody was served.

    Example:
        >>> percentile_table(con, start="2026-02-01", end="2026-03-01", township="城关")

    """
    qs = tuple(float(q) for q in quantiles)
    if not qs or any(not 0 < q < 1 for q in qs):
        raise ValueError(f"quantiles must lie strictly between 0 and 1, got {quantiles!r}")
    names = [_quantile_name(q) for q in qs]
    src = Source.of(con, use_marts)
    rel = served_counter(src, start, end, **filters)
    metrics: dict[str, ir.Value] = {}
    for m in MEASURES:
        metrics[f"{m}__customers"] = rel[m].count()
        metrics[f"{m}__mean_s"] = rel[m].mean()
        metrics[f"{m}__q"] = rel[m].quantile(list(qs))
        metrics[f"{m}__max_s"] = rel[m].max()
    row = src.run(rel.aggregate(**metrics)).row(0, named=True)
    rows = []
    for m in MEASURES:
        values = row[f"{m}__q"] or [None] * len(qs)
        rows.append(
            {
                "measure": m,
                "customers": row[f"{m}__customers"],
                "mean_s": row[f"{m}__mean_s"],
                **dict(zip(names, values, strict=True)),
                "max_s": row[f"{m}__max_s"],
            }
        )
    schema = {"measure": pl.String, "customers": pl.Int64, "mean_s": pl.Float64}
    schema |= {n: pl.Float64 for n in names} | {"max_s": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def _quantile_name(q: float) -> str:
    """Column name of a quantile: 0.5 -> p50_s, 0.975 -> p97.5_s."""
    return f"p{q * 100:g}_s"
