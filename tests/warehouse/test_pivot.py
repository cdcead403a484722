"""The explorer's pivot and chart data: reshaped KPI-layer values, never recomputed.

Runs on the hand-sized warehouse of tests/warehouse/conftest.py (March 2024, outlets A
and B with events, C without).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from warehouse.kpi import complaint_summary, deposit_summary, kpi, service_summary
from warehouse.pivot import NO_KEY, business_types, chart_data, groupings, measures, pivot

MARCH = {"start": "2024-03-01", "end": "2024-04-01"}


def _cells(frame: pl.DataFrame) -> dict[tuple[object, str], object]:
    """(row key, column header) -> value of a pivot."""
    row_col, *cols = frame.columns
    return {(row[row_col], c): row[c] for row in frame.iter_rows(named=True) for c in cols}


def test_arrivals_by_outlet_and_day_hand_counted(base_wh: duckdb.DuckDBPyConnection) -> None:
    grid = pivot(base_wh, **MARCH, rows="outlet", columns="day", measure="arrivals")
    cells = _cells(grid)
    # a1 a2 a3 a5 a6 a7 on the 4th (a4 is a reversal row, not an arrival); a8 a9; a10.
    assert cells[("A", "2024-03-04")] == 6
    assert cells[("A", "2024-03-06")] == 2
    assert cells[("A", "2024-03-18")] == 1
    assert cells[("B", "2024-03-11")] == 1
    assert cells[("B", "2024-03-20")] == 2
    assert grid.columns == [
        "outlet_code",
        "2024-03-04",
        "2024-03-06",
        "2024-03-11",
        "2024-03-18",
        "2024-03-20",
    ]


@pytest.mark.parametrize(
    ("rows", "columns", "measure", "fn"),
    [
        ("outlet", "weekday", "service_level", service_summary),
        ("outlet", "hour", "wait_p90_s", service_summary),
        ("staff", "channel", "served_per_staff_hour", service_summary),
        ("business_type", "outlet", "errors_per_1000", service_summary),
        ("month", "staff", "complaints", complaint_summary),
        ("outlet", "week", "per_10k_transactions", complaint_summary),
        ("outlet", "month", "net_deposits", deposit_summary),
    ],
)
def test_every_cell_is_the_kpi_functions_value(
    base_wh: duckdb.DuckDBPyConnection, rows: str, columns: str, measure: str, fn
) -> None:
    grid = pivot(base_wh, **MARCH, rows=rows, columns=columns, measure=measure)
    long = fn(base_wh, **MARCH, by=(rows, columns))
    row_col, col_col = long.columns[:2]
    cells = _cells(grid)
    assert len(cells) == grid.height * (grid.width - 1)
    for row in long.iter_rows(named=True):
        header = NO_KEY if row[col_col] is None else str(row[col_col])
        assert cells[(row[row_col], header)] == row[measure]
    # Cells without a group in the KPI output stay empty rather than made up.
    assert sum(v is not None for v in cells.values()) == long[measure].drop_nulls().len()


def test_columns_follow_key_order_and_nulls_come_last(base_wh: duckdb.DuckDBPyConnection) -> None:
    by_hour = pivot(base_wh, **MARCH, rows="outlet", columns="hour", measure="arrivals")
    hours = [int(h) for h in by_hour.columns[1:]]
    assert hours == sorted(hours)
    assert 9 in hours and 14 in hours  # 9 before 14 although "14" < "9" as text
    by_staff = pivot(base_wh, **MARCH, rows="outlet", columns="staff", measure="served")
    assert by_staff.columns[-1] == NO_KEY  # self-service: no staff member
    assert _cells(by_staff)[("A", NO_KEY)] == 1  # a6 at the ATM


def test_without_columns_the_pivot_is_the_single_grouping(
    base_wh: duckdb.DuckDBPyConnection,
) -> None:
    grid = pivot(base_wh, **MARCH, rows="outlet", columns=None, measure="abandonment_rate")
    expected = service_summary(base_wh, **MARCH, by="outlet").select(
        "outlet_code", "abandonment_rate"
    )
    assert grid.equals(expected)
    assert grid.filter(pl.col("outlet_code") == "C")["abandonment_rate"].to_list() == [None]


def test_filters_reach_the_kpi_function(base_wh: duckdb.DuckDBPyConnection) -> None:
    grid = pivot(base_wh, **MARCH, rows="outlet", columns="day", measure="arrivals", outlets=("B",))
    assert grid["outlet_code"].to_list() == ["B"]
    assert grid.columns[1:] == ["2024-03-11", "2024-03-20"]
    east = pivot(base_wh, **MARCH, rows="outlet", columns=None, measure="arrivals", township="west")
    assert east["outlet_code"].to_list() == ["C"]
    assert east["arrivals"].to_list() == [0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rows": "channel", "columns": "outlet", "measure": "complaints"}, "channel"),
        (
            {"rows": "outlet", "columns": "business_type", "measure": "repeat_share"},
            "business_type",
        ),
        ({"rows": "outlet", "columns": "outlet", "measure": "arrivals"}, "two different"),
        ({"rows": "weekday", "columns": "hour", "measure": "arrivals_per_hour"}, "demand_profile"),
        ({"rows": "outlet", "columns": None, "measure": "no_such_kpi"}, "unknown KPI"),
        ({"rows": "township", "columns": None, "measure": "arrivals"}, "township"),
    ],
)
def test_invalid_combinations_are_clear_errors(
    base_wh: duckdb.DuckDBPyConnection, kwargs: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        pivot(base_wh, **MARCH, **kwargs)


def test_measures_and_groupings_offer_only_valid_combinations() -> None:
    offered = measures()
    assert "service_level" in offered and "complaints" in offered and "net_deposits" in offered
    assert "arrivals_per_hour" not in offered  # demand_profile has a fixed layout
    assert all(kpi(n).source.endswith("_summary") for n in offered)
    assert "channel" in groupings(["arrivals"])
    assert "channel" not in groupings(["complaints"])
    assert "channel" not in groupings(["arrivals", "complaints"])
    assert groupings(["arrivals", "net_deposits"]) == groupings(["arrivals"])


def test_chart_data_holds_each_kpis_values_in_long_form(
    base_wh: duckdb.DuckDBPyConnection,
) -> None:
    names = ["complaints", "service_level", "arrivals"]
    frame = chart_data(base_wh, **MARCH, names=names, x="day", colour="outlet")
    assert frame.columns == ["day", "outlet_code", "kpi", "value"]
    assert frame["kpi"].unique(maintain_order=True).to_list() == names
    assert frame["value"].dtype == pl.Float64
    service = service_summary(base_wh, **MARCH, by=("day", "outlet"))
    complaints = complaint_summary(base_wh, **MARCH, by=("day", "outlet"))
    for name, source in (
        ("service_level", service),
        ("arrivals", service),
        ("complaints", complaints),
    ):
        got = frame.filter(pl.col("kpi") == name).drop("kpi")
        expected = source.select("day", "outlet_code", pl.col(name).cast(pl.Float64).alias("value"))
        assert got.equals(expected)
    first = frame.filter(pl.col("kpi") == "arrivals").row(0, named=True)
    assert first["day"] == dt.date(2024, 3, 4)


def test_chart_data_refuses_a_grouping_one_kpi_lacks(base_wh: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="channel"):
        chart_data(base_wh, **MARCH, names=["arrivals", "complaints"], x="channel")
    with pytest.raises(ValueError, match="at least one"):
        chart_data(base_wh, **MARCH, names=[], x="day")


def test_business_type_names(base_wh: duckdb.DuckDBPyConnection) -> None:
    names = business_types(base_wh)
    expected = base_wh.execute(
        "SELECT business_type, name_zh FROM dim_business_type ORDER BY 1"
    ).fetchall()
    assert list(names.select("business_type", "name_zh").iter_rows()) == expected
