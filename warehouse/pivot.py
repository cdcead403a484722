"""The explorer's pivot and chart-builder data: KPI-layer results reshaped, never recomputed.

Why a module of its own: an analyst picks a KPI and one or two groupings; the numbers
must be the KPI layer's (a ratio such as the service level cannot be summed or averaged
across cells), so these functions only choose which KPI function to call with which
``by``, check that the combination exists (complaints carry no channel or business
type), and reshape the result with polars.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

import duckdb
import polars as pl

from warehouse.kpi import (
    KEY_COLUMNS,
    complaint_summary,
    deposit_summary,
    kpi,
    kpi_names,
    service_summary,
)
from warehouse.kpi.complaints import COMPLAINT_GROUPINGS
from warehouse.kpi.deposits import DEPOSIT_GROUPINGS
from warehouse.kpi.service import SERVICE_GROUPINGS

# The KPI functions that take a free grouping, and the groupings each accepts.
SOURCES: dict[str, tuple[Callable[..., pl.DataFrame], tuple[str, ...]]] = {
    "service_summary": (service_summary, SERVICE_GROUPINGS),
    "complaint_summary": (complaint_summary, COMPLAINT_GROUPINGS),
    "deposit_summary": (deposit_summary, DEPOSIT_GROUPINGS),
}
# The order groupings are offered in.
GROUPINGS = (
    "outlet",
    "month",
    "week",
    "day",
    "weekday",
    "hour",
    "channel",
    "business_type",
    "staff",
    "quarter",
)
# Header of a column whose key is null (self-service events have no staff member).
NO_KEY = "—"

Filter = str | Iterable[str] | None


def measures() -> tuple[str, ...]:
    """The KPIs a pivot or chart can show: those of a KPI function with a free grouping.

    demand_profile's KPIs are left out: it always answers per weekday and hour.
    """
    return tuple(name for name in kpi_names() if kpi(name).source in SOURCES)


def groupings(names: Sequence[str]) -> tuple[str, ...]:
    """The groupings valid for every KPI in ``names`` (all groupings for none)."""
    allowed = set(GROUPINGS)
    for name in names:
        allowed &= set(_source(name)[1])
    return tuple(g for g in GROUPINGS if g in allowed)


def _source(name: str) -> tuple[Callable[..., pl.DataFrame], tuple[str, ...]]:
    """The KPI function computing ``name`` and its groupings; ValueError if none fits."""
    try:
        entry = kpi(name)
    except KeyError:
        raise ValueError(f"unknown KPI {name!r}; choose one of {list(measures())}") from None
    if entry.source not in SOURCES:
        raise ValueError(
            f"{name} comes from {entry.source}, which has a fixed layout; "
            f"choose one of {list(measures())}"
        )
    return SOURCES[entry.source]


def _check(names: Sequence[str], keys: Sequence[str]) -> None:
    """Refuse an unknown KPI, a grouping its function does not accept, or a repeat."""
    if not names:
        raise ValueError("choose at least one KPI")
    if len(set(keys)) != len(keys):
        raise ValueError(f"choose two different groupings, got {list(keys)}")
    valid = groupings(names)
    for key in keys:
        if key not in valid:
            raise ValueError(
                f"{', '.join(names)} cannot be grouped by {key!r}; valid: {list(valid)}"
            )


def _by_source(names: Sequence[str]) -> dict[str, list[str]]:
    """The requested KPIs, per KPI function, keeping the order asked for."""
    out: dict[str, list[str]] = {}
    for name in names:
        out.setdefault(kpi(name).source, []).append(name)
    return out


def pivot(
    con: duckdb.DuckDBPyConnection,
    *,
    start: dt.date | str,
    end: dt.date | str,
    rows: str,
    columns: str | None,
    measure: str,
    **filters: Filter,
) -> pl.DataFrame:
    """One KPI as a grid: a row per value of ``rows``, a column per value of ``columns``.

    The KPI function of ``measure`` (its catalogue ``source``) is called once with
    ``by=(rows, columns)`` and its result is pivoted, so every cell is exactly the
    KPI layer's value for that pair of groups. ``columns=None`` gives a single column
    named after the measure. Filters go to the KPI function unchanged.

    Returns the row key column (``KEY_COLUMNS[rows]``, e.g. outlet_code) followed by one
    column per ``columns`` value in key order, headed by the value as text (dates ISO,
    :data:`NO_KEY` for a null key); cells without data are null.

    Raises:
        ValueError: an unknown KPI, one without a free grouping, a grouping its function
            does not accept (complaints by channel), or the same grouping twice.

    """
    keys = (rows,) if columns is None else (rows, columns)
    _check([measure], keys)
    fn = _source(measure)[0]
    long = fn(con, start=start, end=end, by=keys, **filters)
    row_col = KEY_COLUMNS[rows]
    if columns is None:
        return long.select(row_col, measure)
    col_col = KEY_COLUMNS[columns]
    order = long.select(col_col).unique().sort(col_col, nulls_last=True)
    headers = [NO_KEY if v is None else str(v) for v in order[col_col].to_list()]
    labelled = long.select(
        row_col,
        pl.col(col_col).cast(pl.String).fill_null(NO_KEY).alias(col_col),
        measure,
    )
    return labelled.pivot(on=col_col, on_columns=headers, index=row_col, values=measure)


def chart_data(
    con: duckdb.DuckDBPyConnection,
    *,
    start: dt.date | str,
    end: dt.date | str,
    names: Sequence[str],
    x: str,
    colour: str | None = None,
    **filters: Filter,
) -> pl.DataFrame:
    """KPIs per ``x`` (and per ``colour`` group) in long form, for the chart builder.

    Each KPI function needed is called once with ``by=(x, colour)``; the values are the
    KPI layer's. Returns the key columns (``KEY_COLUMNS`` names), then ``kpi`` (name)
    and ``value`` (float), sorted by KPI in the order asked, then by the keys.

    Raises:
        ValueError: as :func:`pivot`, for any KPI in ``names`` or grouping.

    """
    keys = (x,) if colour is None else (x, colour)
    _check(names, keys)
    key_cols = [KEY_COLUMNS[k] for k in keys]
    parts = []
    for source, wanted in _by_source(names).items():
        frame = SOURCES[source][0](con, start=start, end=end, by=keys, **filters)
        parts.append(
            frame.select(*key_cols, *[pl.col(n).cast(pl.Float64) for n in wanted]).unpivot(
                index=key_cols, on=wanted, variable_name="kpi", value_name="value"
            )
        )
    order = {name: i for i, name in enumerate(names)}
    return (
        pl.concat(parts)
        .with_columns(_order=pl.col("kpi").replace_strict(order, return_dtype=pl.Int32))
        .sort(["_order", *key_cols], nulls_last=True)
        .drop("_order")
    )


def business_types(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Business-type codes with their English and Chinese names, to label groupings."""
    return con.sql(
        "SELECT business_type, name_en, name_zh FROM dim_business_type ORDER BY business_type"
    ).pl()
