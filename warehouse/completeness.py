"""Completeness: which outlets have business days with no service events at all.

A day with no rows at an open outlet is almost always a missing export, not a quiet day;
the overview raises it as an alert and the data-quality page lists the days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import duckdb
import polars as pl

from warehouse.kpi.filters import make_filters, outlets_in_view


def missing_days(
    con: duckdb.DuckDBPyConnection,
    *,
    start: dt.date | str,
    end: dt.date | str,
    **filters: str | Iterable[str] | None,
) -> pl.DataFrame:
    """Per outlet: business days in [start, end) after it opened, days with events, gaps.

    Only official business days (dim_date.is_business_day, so holidays and weekends are
    not counted unless they are make-up working days) and only days within the span of
    data the warehouse holds, so the months before the first load and the current
    month's future are not "missing".

    Filters: outlets, township, outlet_type (as in the KPI layer).

    Returns:
        outlet_code, outlet_name, business_days, days_with_events, missing_days,
        missing_dates (list of dates), sorted by missing_days descending.
    """
    f = make_filters(start, end, **filters)
    for name in ("channel", "business_type", "position"):
        if getattr(f, name) is not None:
            raise ValueError(f"completeness is per outlet and day; drop the {name!r} filter")
    return con.sql(
        """
        WITH outlets AS (
            SELECT outlet_code, outlet_name, opened_on FROM dim_outlet
            WHERE ($outlets IS NULL OR list_contains($outlets, outlet_code))
        ),
        days AS (
            SELECT date FROM dim_date
            WHERE is_business_day AND date >= $start AND date < $end
              AND date BETWEEN (SELECT min(business_date) FROM fact_transaction)
                           AND (SELECT max(business_date) FROM fact_transaction)
        ),
        seen AS (
            SELECT DISTINCT outlet_code, business_date AS date FROM fact_transaction
            WHERE business_date >= $start AND business_date < $end
        ),
        expected AS (
            SELECT o.outlet_code, o.outlet_name, d.date, s.date IS NOT NULL AS has_events
            FROM outlets o JOIN days d ON o.opened_on IS NULL OR d.date >= o.opened_on
            LEFT JOIN seen s ON s.outlet_code = o.outlet_code AND s.date = d.date
        )
        SELECT o.outlet_code, o.outlet_name,
               count(e.date)::BIGINT AS business_days,
               count(e.date) FILTER (WHERE e.has_events)::BIGINT AS days_with_events,
               count(e.date) FILTER (WHERE NOT e.has_events)::BIGINT AS missing_days,
               coalesce(list(e.date ORDER BY e.date) FILTER (WHERE NOT e.has_events), [])
                   AS missing_dates
        FROM outlets o LEFT JOIN expected e USING (outlet_code)
        GROUP BY ALL
        ORDER BY missing_days DESC, outlet_code
        """,
        params={
            "start": f.start,
            "end": f.end,
            "outlets": outlets_in_view(con, f),
        },
    ).pl()
