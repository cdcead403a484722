"""Compare any KPI function's output with the previous period and the same period last year.

The chairman's headline is "value, change since last period, change since last year,
good or bad news". This works for every summary function without knowing its KPIs: it
melts the KPI columns (those in the catalogue) into rows and attaches each KPI's good
direction, so the dashboard colours a change without a KPI-specific rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

from warehouse.kpi.catalogue import kpi_catalogue
from warehouse.kpi.filters import CALENDAR_KEYS, KEY_COLUMNS, check_by, to_date
from warehouse.kpi.periods import previous_period, same_period_last_year
from warehouse.kpi.source import Connection

KpiFunction = Callable[..., pl.DataFrame]

COMPARE_COLUMNS = (
    "kpi",
    "current",
    "previous",
    "last_year",
    "change",
    "change_pct",
    "change_ly",
    "change_ly_pct",
    "direction",
    "improved",
    "improved_ly",
)


def _long(df: pl.DataFrame, keys: list[str], kpis: list[str], value: str) -> pl.DataFrame:
    """One row per group and KPI, the value as float64."""
    wide = df.select(*keys, *[pl.col(k).cast(pl.Float64) for k in kpis])
    return wide.unpivot(index=keys, on=kpis, variable_name="kpi", value_name=value)


def _goodness(value: pl.Expr) -> pl.Expr:
    """Score rising with good news: the value for 'up', minus it for 'down', bent at a ceiling."""
    over = pl.col("_ceiling").is_not_null() & (value > pl.col("_ceiling"))
    up = pl.when(over).then(2 * pl.col("_ceiling") - value).otherwise(value)
    return pl.when(pl.col("direction") == "down").then(-value).otherwise(up)


def _improved(before: str, after: str) -> pl.Expr:
    """Flag good (True) or bad (False) news; null when unchanged, unknown or undirected."""
    b, a = _goodness(pl.col(before)), _goodness(pl.col(after))
    return (
        pl.when(pl.col("direction") == "none")
        .then(None)
        .when(a > b)
        .then(True)
        .when(a < b)
        .then(False)
        .otherwise(None)
    )


def _pct(change: str, base: str) -> pl.Expr:
    """Change relative to |base|; null when the base is 0 or missing."""
    return pl.when(pl.col(base) != 0).then(pl.col(change) / pl.col(base).abs()).otherwise(None)


def compare(
    fn: KpiFunction,
    con: Connection,
    *,
    start: dt.date | str,
    end: dt.date | str,
    by: str | Sequence[str] = (),
    **kwargs: Any,
) -> pl.DataFrame:
    """Run ``fn`` for the period, the previous equal period and last year, side by side.

    ``fn`` is any KPI summary (service_summary, complaint_summary, deposit_summary ...);
    ``kwargs`` (filters, as_of, use_marts) are passed to all three runs. Periods come from
    :func:`previous_period` and :func:`same_period_last_year`. Grouping by day, week, month
    or quarter is refused: those keys differ between the periods, so there is nothing to
    pair (compare a trend by its own rows instead).

    Returns one row per group and KPI: the key columns, then kpi, current, previous,
    last_year, change (current - previous), change_pct (change / |previous|), change_ly,
    change_ly_pct, direction (up / down / none) and improved / improved_ly (True = good
    news, False = bad news, null = no change, no direction or a missing value). A share
    changes in fractions: 0.80 -> 0.85 is change 0.05 (5 points).

    Example:
        >>> compare(service_summary, con, start="2025-11-01", end="2025-12-01", by="outlet")
        ... .filter(pl.col("kpi") == "wait_p90_s")

    """
    keys = check_by(by)
    calendar_keys = [k for k in keys if k in CALENDAR_KEYS]
    if calendar_keys:
        raise ValueError(f"cannot compare periods grouped by {calendar_keys}")
    first, last = to_date(start, "start"), to_date(end, "end")
    periods = {
        "current": (first, last),
        "previous": previous_period(first, last),
        "last_year": same_period_last_year(first, last),
    }
    names = [KEY_COLUMNS[k] for k in keys]
    catalogue = kpi_catalogue()
    frames: dict[str, pl.DataFrame] = {}
    for label, (p_start, p_end) in periods.items():
        df = fn(con, start=p_start, end=p_end, by=keys, **kwargs)
        kpis = [c for c in df.columns if c in set(catalogue["name"])]
        frames[label] = _long(df, names, kpis, label)
    on = [*names, "kpi"]
    out = frames["current"]
    for label in ("previous", "last_year"):
        out = out.join(frames[label], on=on, how="left", nulls_equal=True)
    meta = catalogue.select(
        pl.col("name").alias("kpi"), "direction", pl.col("ceiling").alias("_ceiling")
    )
    out = out.join(meta, on="kpi", how="left").with_columns(
        change=pl.col("current") - pl.col("previous"),
        change_ly=pl.col("current") - pl.col("last_year"),
    )
    out = out.with_columns(
        change_pct=_pct("change", "previous"),
        change_ly_pct=_pct("change_ly", "last_year"),
        improved=_improved("previous", "current"),
        improved_ly=_improved("last_year", "current"),
    )
    return out.select(*names, *COMPARE_COLUMNS)
