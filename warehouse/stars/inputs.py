"""The month's indicator values the star model scores, gathered from the KPI layer.

Most indicators are KPIs of :mod:`warehouse.kpi` as they are; the two the KPI layer does
not carry (business types a teller handled, substantiated complaints by severity) are
defined here, on the same relations and filters, so they too run on any ibis backend.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from warehouse.kpi import complaint_summary, deposit_summary, service_summary
from warehouse.kpi.filters import apply, make_filters
from warehouse.kpi.source import Connection, Source
from warehouse.stars.model import SEVERITIES

SEVERITY_COLUMNS = [f"complaints_{s}" for s in SEVERITIES]


def business_types_handled(con: Connection, *, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Distinct business types each teller served: the breadth indicator (staff_id, count)."""
    src = Source.of(con)
    ev = apply(src.events(), make_filters(start, end))
    ev = ev.filter((ev.served > 0) & ev.staff_id.notnull())
    return src.run(
        ev.group_by(ev.staff_id).aggregate(business_types_handled=ev.business_type.nunique())
    )


def substantiated_by_severity(
    con: Connection, *, start: dt.date, end: dt.date, key: str
) -> pl.DataFrame:
    """Substantiated complaints received in the period, by severity, per ``key`` column.

    ``key`` is ``staff_id`` or ``outlet_code``; these counts feed the deductions and the
    vetoes of the star model.
    """
    src = Source.of(con)
    cp = apply(src.complaints(), make_filters(start, end))
    cp = cp.filter(cp.substantiated.fill_null(False) & cp[key].notnull())
    counts = {f"complaints_{s}": (cp.severity == s).cast("int64").sum() for s in SEVERITIES}
    return src.run(cp.group_by(cp[key]).aggregate(**counts))


def _with_counts(frame: pl.DataFrame, counts: pl.DataFrame, key: str) -> pl.DataFrame:
    """Attach the severity counts (zero where a subject had none)."""
    return frame.join(counts, on=key, how="left").with_columns(
        pl.col(c).fill_null(0) for c in SEVERITY_COLUMNS
    )


def staff_inputs(
    con: Connection, *, start: dt.date, end: dt.date, positions: pl.DataFrame
) -> pl.DataFrame:
    """One row per staff member who worked the counter: indicator values, hours, peer group.

    ``positions`` maps staff_id to position and outlet (the assignment at the month's end).
    """
    service = service_summary(con, start=start, end=end, by="staff").filter(
        pl.col("staff_id").is_not_null()
    )
    frame = (
        service.join(business_types_handled(con, start=start, end=end), on="staff_id", how="left")
        .join(positions, on="staff_id", how="left")
        .rename({"staff_id": "subject_id", "position": "peer_group"})
        .with_columns(hours=pl.col("counter_staff_hours"))
    )
    counts = substantiated_by_severity(con, start=start, end=end, key="staff_id").rename(
        {"staff_id": "subject_id"}
    )
    return _with_counts(frame, counts, "subject_id")


def outlet_inputs(con: Connection, *, start: dt.date, end: dt.date) -> pl.DataFrame:
    """One row per outlet: service, complaint and deposit indicators and complaint counts.

    ``hours`` (counter staff-hours on the roster) lets the model leave an outlet with no
    service that month (closed, or its exports not loaded yet) "not rated" instead of
    scoring it from half marks for missing values.
    """
    service = service_summary(con, start=start, end=end, by="outlet")
    complaints = complaint_summary(con, start=start, end=end, by="outlet").select(
        "outlet_code", "per_10k_transactions"
    )
    deposits = deposit_summary(con, start=start, end=end, by="outlet").select(
        "outlet_code", "net_deposit_growth"
    )
    frame = (
        service.join(complaints, on="outlet_code", how="left")
        .join(deposits, on="outlet_code", how="left")
        .rename({"outlet_code": "subject_id"})
        .with_columns(hours=pl.col("counter_staff_hours"))
    )
    counts = substantiated_by_severity(con, start=start, end=end, key="outlet_code").rename(
        {"outlet_code": "subject_id"}
    )
    return _with_counts(frame, counts, "subject_id")
