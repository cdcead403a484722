"""The chairman's headline: chosen KPIs for a period, with change, target and RAG.

One function so the overview page and the quarterly review pack show the same cards:
each KPI comes from the KPI layer's own summary (service, complaints, deposits), compared
with the previous equal period, and judged against its target for the year.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl

from warehouse.kpi import (
    compare,
    complaint_summary,
    deposit_summary,
    kpi,
    rag,
    service_summary,
    targets,
)

SUMMARIES: dict[str, Any] = {
    "service_summary": service_summary,
    "complaint_summary": complaint_summary,
    "deposit_summary": deposit_summary,
}


def _single_outlet(filters: dict[str, Any]) -> str | None:
    """The outlet whose own targets apply: set when the filter names exactly one outlet."""
    chosen = filters.get("outlets")
    if isinstance(chosen, str):
        return chosen
    if chosen is not None and len(tuple(chosen)) == 1:
        return next(iter(chosen))
    return None


def headline(
    con: Any,
    *,
    start: dt.date,
    end: dt.date,
    kpis: Sequence[str],
    **filters: str | Iterable[str] | None,
) -> pl.DataFrame:
    """One row per requested KPI, in the order asked: current, previous, change, target, rag.

    ``improved`` is True when the change is good news in the KPI's direction (a fall in
    waiting time is good news), so a screen can colour it without knowing the KPI.
    """
    sources = {kpi(name).source for name in kpis}
    parts = []
    for source in sorted(sources):
        fn = SUMMARIES[source]
        extra = {"by": ()} if source == "deposit_summary" else {}
        parts.append(compare(fn, con, start=start, end=end, **extra, **filters))
    compared = pl.concat(parts, how="diagonal_relaxed").unique("kpi", keep="first")
    goals = targets(con, start.year, outlet=_single_outlet(filters))
    rows = []
    for name in kpis:
        found = compared.filter(pl.col("kpi") == name)
        row = found.row(0, named=True) if found.height else {}
        target_rows = goals.filter(pl.col("kpi") == name)
        target = target_rows["target"][0] if target_rows.height else None
        current = row.get("current")
        rows.append(
            {
                "kpi": name,
                "current": current,
                "previous": row.get("previous"),
                "change": row.get("change"),
                "improved": row.get("improved"),
                "direction": kpi(name).direction,
                "target": target,
                "rag": rag(name, current, target),
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "kpi": pl.String,
            "current": pl.Float64,
            "previous": pl.Float64,
            "change": pl.Float64,
            "improved": pl.Boolean,
            "direction": pl.String,
            "target": pl.Float64,
            "rag": pl.String,
        },
    )


def outlet_changes(
    con: Any,
    *,
    start: dt.date,
    end: dt.date,
    kpi_name: str,
    **filters: str | Iterable[str] | None,
) -> pl.DataFrame:
    """One KPI per outlet now and in the previous equal period, for "who improved most".

    Returns outlet_code, current, previous, change and improved (True = good news in the
    KPI's direction), from the same summary function the headline card uses.
    """
    fn = SUMMARIES[kpi(kpi_name).source]
    compared = compare(fn, con, start=start, end=end, by="outlet", **filters)
    return compared.filter(pl.col("kpi") == kpi_name).select(
        "outlet_code", "current", "previous", "change", "improved"
    )
