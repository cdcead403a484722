"""Demand by weekday and hour, and the counter windows actually open, for staffing.

Brief section 5: arrivals by weekday x hour averaged over the weeks in range give the
demand curve an Erlang C model turns into windows needed; the roster gives the windows
that were open. Both are averaged over the same calendar days so they can be compared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import polars as pl

from warehouse.kpi.filters import (
    EVENT_ONLY_KEYS,
    Filters,
    apply,
    make_filters,
    outlets_in_scope,
    ratio,
)
from warehouse.kpi.source import Connection, Source

WEEKDAYS = range(7)
HOURS = range(24)


def weekday_counts(start: dt.date, end: dt.date) -> dict[int, int]:
    """How many of each weekday (0 = Monday) fall in [start, end).

    Holidays and closed days count: the profile is "an average Monday of the period",
    so a Monday without customers pulls the Monday average down, as it should.
    """
    days = (end - start).days
    weeks, rest = divmod(days, 7)
    counts = dict.fromkeys(WEEKDAYS, weeks)
    for offset in range(rest):
        counts[(start.weekday() + offset) % 7] += 1
    return counts


def _grid(f: Filters, src: Source | None = None) -> pl.DataFrame:
    """All 168 weekday-hour slots with the number of such weekdays in the period.

    With ``src`` (per-outlet results) the slots are crossed with every outlet the
    filters keep, so an outlet without a single arrival still has its 168 rows.
    """
    counts = weekday_counts(f.start, f.end)
    grid = pl.DataFrame(
        {
            "weekday": [w for w in WEEKDAYS for _ in HOURS],
            "hour": [h for _ in WEEKDAYS for h in HOURS],
            "days": [counts[w] for w in WEEKDAYS for _ in HOURS],
        },
        schema={"weekday": pl.Int8, "hour": pl.Int8, "days": pl.Int64},
    )
    if src is None:
        return grid
    codes = pl.DataFrame(
        {"outlet_code": outlets_in_scope(src, **f.outlet_scope())},
        schema={"outlet_code": pl.String},
    )
    return codes.join(grid, how="cross")


def demand_profile(
    con: Connection,
    *,
    start: dt.date | str,
    end: dt.date | str,
    use_marts: bool | None = None,
    by_outlet: bool = False,
    **filters: str | Iterable[str] | None,
) -> pl.DataFrame:
    """Average arrivals per hour for each weekday and hour, with the mean handling time.

    This is the demand curve of brief section 5: staffing_plan feeds it to Erlang C. An
    arrival is counted at ``arrival_at`` (ticket time for queued customers), abandoned
    customers included, since they too needed a window (or an agent: a caller who hung
    up in the queue was waiting for one). ``arrivals_per_hour`` divides the
    arrivals of a weekday-hour by the number of such weekdays in [start, end), so an hour
    with no arrivals is 0, not missing; all 168 rows are always present (null only when
    the period holds no such weekday). ``mean_service_s`` is the mean handling time of
    the served events arriving in that slot (pass ``channel="counter"`` for the counter,
    ``channel="phone"`` for the telephone queue: staffing_plan does, one channel at a time).

    Returns columns: weekday (0 = Monday), hour (0-23), days, arrivals,
    arrivals_per_hour, mean_service_s; with ``by_outlet`` an outlet_code column first and
    168 rows per outlet the filters keep (one query for a whole county's staffing).

    Example:
        >>> demand_profile(con, start="2025-10-01", end="2026-01-01", outlets="03104",
        ...                channel="counter")

    """
    src = Source.of(con, use_marts)
    f = make_filters(start, end, **filters)
    keys = ["outlet_code", "weekday", "hour"] if by_outlet else ["weekday", "hour"]
    rel = apply(src.measures(per_staff=f.position is not None), f)
    agg = rel.group_by(keys).aggregate(
        arrivals=rel.arrivals.sum(),
        _service_s=rel.service_s.sum(),
        _services=rel.services.sum(),
    )
    agg = agg.select(*keys, "arrivals", mean_service_s=ratio(agg._service_s, agg._services))
    got = src.run(agg).with_columns(pl.col("weekday").cast(pl.Int8), pl.col("hour").cast(pl.Int8))
    out = _grid(f, src if by_outlet else None).join(got, on=keys, how="left")
    return out.select(
        *keys[:-2],
        "weekday",
        "hour",
        "days",
        pl.col("arrivals").fill_null(0).cast(pl.Int64),
        pl.when(pl.col("days") > 0)
        .then(pl.col("arrivals").fill_null(0) / pl.col("days"))
        .otherwise(None)
        .cast(pl.Float64)
        .alias("arrivals_per_hour"),
        pl.col("mean_service_s").cast(pl.Float64),
    ).sort(keys)


def windows_staffed(
    con: Connection,
    *,
    start: dt.date | str,
    end: dt.date | str,
    use_marts: bool | None = None,
    by_outlet: bool = False,
    **filters: str | Iterable[str] | None,
) -> pl.DataFrame:
    """Average number of counter windows open in each weekday-hour, from the roster.

    The supply side of the staffing comparison: for each day, outlet, window and clock
    hour, the seconds that window was staffed (capped at the hour, so two tellers handing
    over one window count it once), summed over windows and divided by 3,600 gives the
    windows open on average in that hour; averaged over every such weekday in the period,
    exactly like ``demand_profile``. A window open 8:15-9:00 counts 0.75 in hour 8.
    Channel and business-type filters do not apply to the roster and are ignored.

    Returns columns: weekday, hour, days, windows_staffed (all 168 rows); with
    ``by_outlet`` an outlet_code column first and 168 rows per outlet.
    """
    src = Source.of(con, use_marts)
    f = make_filters(start, end, **filters)
    ro = apply(src.roster(), f, ignore=EVENT_ONLY_KEYS)
    ro = ro.filter(ro.is_counter)
    per_window = ro.group_by(
        ["outlet_code", "business_date", "window_no", "weekday", "hour"]
    ).aggregate(_s=ro.staffed_s.sum())
    capped = per_window.mutate(_s=per_window._s.clip(upper=3600))
    keys = ["outlet_code", "weekday", "hour"] if by_outlet else ["weekday", "hour"]
    agg = capped.group_by(keys).aggregate(_window_s=capped._s.sum())
    got = src.run(agg).with_columns(pl.col("weekday").cast(pl.Int8), pl.col("hour").cast(pl.Int8))
    out = _grid(f, src if by_outlet else None).join(got, on=keys, how="left")
    return out.select(
        *keys[:-2],
        "weekday",
        "hour",
        "days",
        pl.when(pl.col("days") > 0)
        .then(pl.col("_window_s").fill_null(0) / 3600 / pl.col("days"))
        .otherwise(None)
        .cast(pl.Float64)
        .alias("windows_staffed"),
    ).sort(keys)
