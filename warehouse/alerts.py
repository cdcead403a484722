"""Alerts for the chairman: an outlet over its waiting target, a complaint spike, missing data.

Each alert names an outlet, the measured value and the threshold it crossed, so the page
can say it in one sentence and link to the outlet. Thresholds live in
config/dashboard.yaml (``alerts``); the waiting target is the outlet's own KPI target.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import polars as pl

from warehouse.completeness import missing_days
from warehouse.kpi import complaint_summary, outlet_targets, previous_period, service_summary
from warehouse.settings import load_config

ALERT_SCHEMA = {
    "kind": pl.String,
    "outlet_code": pl.String,
    "outlet_name": pl.String,
    "value": pl.Float64,
    "threshold": pl.Float64,
}
KIND_ORDER = ("missing_data", "complaint_spike", "wait_above_target")


def _wait_alerts(con: Any, start: dt.date, end: dt.date, filters: dict) -> pl.DataFrame:
    """Outlets whose 90th-percentile wait is above their own target for the year."""
    name = load_config("dashboard")["alerts"]["wait_kpi"]
    waits = service_summary(con, start=start, end=end, by="outlet", **filters)
    goals = outlet_targets(con, start.year).filter(pl.col("kpi") == name)
    return (
        waits.select("outlet_code", value=pl.col(name))
        .join(goals.select("outlet_code", threshold="target"), on="outlet_code")
        .filter(pl.col("value") > pl.col("threshold"))
        .with_columns(kind=pl.lit("wait_above_target"))
    )


def _complaint_alerts(con: Any, start: dt.date, end: dt.date, filters: dict) -> pl.DataFrame:
    """Outlets with at least ``min_complaints`` and ``factor`` x their recent average.

    The baseline is the mean over up to ``baseline_periods`` equal periods before this one
    (a month against the three months before it), counting only periods that start in or
    after the first month with data: months before the warehouse begins are unknown, not
    zero, and with no such period there is no baseline and no spike.
    """
    rule = load_config("dashboard")["alerts"]["complaint_spike"]
    first_day = con.sql("SELECT min(business_date) FROM fact_transaction").fetchall()[0][0]
    now = complaint_summary(con, start=start, end=end, by="outlet", **filters)
    counts = []
    first, last = start, end
    for _ in range(int(rule["baseline_periods"])):
        first, last = previous_period(first, last)
        if first_day is None or first < first_day.replace(day=1):
            break
        before = complaint_summary(con, start=first, end=last, by="outlet", **filters)
        counts.append(before.select("outlet_code", "complaints"))
    if not counts:
        return pl.DataFrame(schema={**ALERT_SCHEMA, "kind": pl.String}).drop("outlet_name")
    baseline = (
        pl.concat(counts)
        .group_by("outlet_code")
        .agg(threshold=pl.col("complaints").sum() / len(counts))
    )
    return (
        now.select("outlet_code", value=pl.col("complaints").cast(pl.Float64))
        .join(baseline, on="outlet_code", how="left")
        .with_columns(pl.col("threshold").fill_null(0.0).cast(pl.Float64))
        .filter(
            (pl.col("value") >= rule["min_complaints"])
            & (pl.col("value") >= pl.col("threshold") * rule["factor"])
        )
        .with_columns(kind=pl.lit("complaint_spike"))
    )


def _missing_alerts(con: Any, start: dt.date, end: dt.date, filters: dict) -> pl.DataFrame:
    """Outlets with business days that have no service events at all."""
    gaps = missing_days(con, start=start, end=end, **filters)
    return gaps.filter(pl.col("missing_days") > 0).select(
        "outlet_code",
        value=pl.col("missing_days").cast(pl.Float64),
        threshold=pl.col("business_days").cast(pl.Float64),
        kind=pl.lit("missing_data"),
    )


def alerts(
    con: Any,
    *,
    start: dt.date,
    end: dt.date,
    **filters: str | Iterable[str] | None,
) -> pl.DataFrame:
    """Every alert for [start, end) under the outlet filters, most serious kind first.

    Returns kind (missing_data, complaint_spike, wait_above_target), outlet_code,
    outlet_name, value (missing days / complaints / wait p90 s) and threshold (business
    days / baseline complaints / target s).
    """
    parts = [
        check(con, start, end, filters)
        for check in (_missing_alerts, _complaint_alerts, _wait_alerts)
    ]
    names = con.sql("SELECT outlet_code, outlet_name FROM dim_outlet").pl()
    found = pl.concat([p.select("kind", "outlet_code", "value", "threshold") for p in parts])
    order = pl.col("kind").replace_strict(
        {k: i for i, k in enumerate(KIND_ORDER)}, return_dtype=pl.Int32
    )
    return (
        found.join(names, on="outlet_code", how="left")
        .sort(order, pl.col("outlet_code"))
        .select(list(ALERT_SCHEMA))
        .cast(ALERT_SCHEMA)
    )
