"""Each outlet against the county: its value, its rank among all outlets, county and median.

Why: an outlet head sees only their own outlet, yet needs to know where it stands. The
county's value and the median outlet are benchmarks that name nobody, and a rank
("3rd of 24") places the outlet without showing any other outlet's number. The KPIs come
from the same summaries as the headline cards (:data:`warehouse.headline.SUMMARIES`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import polars as pl

from warehouse.headline import SUMMARIES
from warehouse.kpi import kpi
from warehouse.profiles import scope_outlets

SCHEMA = {
    "kpi": pl.String,
    "outlet_code": pl.String,
    "value": pl.Float64,
    "rank": pl.Int64,
    "ranked": pl.Int64,
    "county": pl.Float64,
    "county_median": pl.Float64,
}


def outlet_benchmark(
    con: object,
    *,
    start: dt.date,
    end: dt.date,
    kpis: Sequence[str],
    township: str | Iterable[str] | None = None,
    outlet_type: str | Iterable[str] | None = None,
    outlets: str | Iterable[str] | None = None,
) -> pl.DataFrame:
    """One row per KPI and outlet in view: value, rank, outlets ranked, county, median.

    ``rank`` is 1 for the best outlet in the KPI's good direction among every outlet of
    the county with a value (``ranked`` of them), whatever the filters; ``county`` is the
    KPI over the whole county, ``county_median`` the median over outlets. The filters
    only choose whose rows are returned. Rank is null for volumes (no good direction).
    """
    sources = {kpi(name).source for name in kpis}
    by_outlet: dict[str, pl.DataFrame] = {}
    county: dict[str, pl.DataFrame] = {}
    for source in sources:
        fn = SUMMARIES[source]
        by_outlet[source] = fn(con, start=start, end=end, by="outlet")
        county[source] = fn(con, start=start, end=end, by=())
    in_view = scope_outlets(con, township=township, outlet_type=outlet_type, outlets=outlets)
    rows = []
    for name in kpis:
        source = kpi(name).source
        values = (
            by_outlet[source]
            .select("outlet_code", value=pl.col(name).cast(pl.Float64))
            .drop_nulls()
        )
        whole = county[source]
        county_value = whole[name][0] if whole.height and name in whole.columns else None
        median = values["value"].median() if values.height else None
        for outlet, value in values.iter_rows():
            if in_view is not None and outlet not in in_view:
                continue
            rows.append(
                {
                    "kpi": name,
                    "outlet_code": outlet,
                    "value": value,
                    "rank": kpi(name).rank_of(value, values["value"]),
                    "ranked": values.height,
                    "county": None if county_value is None else float(county_value),
                    "county_median": median,
                }
            )
    return pl.DataFrame(rows, schema=SCHEMA).sort("outlet_code", maintain_order=True)
