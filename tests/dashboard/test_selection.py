"""The global filter's URL round trip and period arithmetic, without Streamlit."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.selection import (
    Scope,
    Selection,
    default_month,
    from_query,
    to_query,
)
from warehouse.periods import month_bounds, months_between, quarter_bounds, quarters_between

FIRST, LAST = dt.date(2025, 12, 1), dt.date(2026, 2, 28)
KNOWN = {"township": ["城关", "石门"], "type": ["township_branch"], "outlets": ["03101", "03102"]}


def test_period_arithmetic() -> None:
    assert months_between(dt.date(2025, 11, 15), dt.date(2026, 2, 1)) == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]
    assert quarters_between(FIRST, LAST) == ["2025Q4", "2026Q1"]
    assert month_bounds("2025-12") == (dt.date(2025, 12, 1), dt.date(2026, 1, 1))
    assert quarter_bounds("2026Q1") == (dt.date(2026, 1, 1), dt.date(2026, 4, 1))
    assert quarter_bounds("2025Q4") == (dt.date(2025, 10, 1), dt.date(2026, 1, 1))


def test_default_is_the_latest_complete_month() -> None:
    assert default_month(FIRST, LAST) == "2026-02"  # February is complete
    assert default_month(FIRST, dt.date(2026, 2, 3)) == "2026-01"  # 3 days are not a month
    assert default_month(dt.date(2026, 2, 1), dt.date(2026, 2, 3)) == "2026-02"  # only one


@pytest.mark.parametrize(
    "params",
    [
        {"period": "month", "month": "2025-12"},
        {"period": "quarter", "quarter": "2025Q4"},
        {"period": "ytd", "year": "2026"},
        {"period": "custom", "from": "2025-12-10", "to": "2026-01-20"},
        {"period": "month", "month": "2026-01", "township": "城关,石门", "outlets": "03102"},
        {"period": "month", "month": "2026-01", "type": "township_branch"},
    ],
)
def test_url_round_trip(params: dict[str, str]) -> None:
    selection = from_query(params, FIRST, LAST, KNOWN)
    assert to_query(selection) == params
    assert from_query(to_query(selection), FIRST, LAST, KNOWN) == selection


def test_periods_from_the_url() -> None:
    ytd = from_query({"period": "ytd", "year": "2026"}, FIRST, LAST)
    assert (ytd.start, ytd.end) == (dt.date(2026, 1, 1), dt.date(2026, 3, 1))  # up to the data
    custom = from_query({"period": "custom", "from": "2025-12-10", "to": "2026-01-20"}, FIRST, LAST)
    assert (custom.start, custom.last_day, custom.end) == (
        dt.date(2025, 12, 10),
        dt.date(2026, 1, 20),
        dt.date(2026, 1, 21),
    )
    wide = {"period": "custom", "from": "2020-01-01", "to": "2030-01-01"}
    clamped = from_query(wide, FIRST, LAST)
    assert (clamped.start, clamped.last_day) == (FIRST, LAST)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"period": "nonsense"},
        {"period": "month", "month": "2019-01"},
        {"period": "quarter", "quarter": "2031Q9"},
        {"period": "custom", "from": "2026-02-01", "to": "2025-12-01"},
        {"period": "custom", "from": "yesterday"},
    ],
)
def test_bad_bookmarks_fall_back_to_the_default(params: dict[str, str]) -> None:
    selection = from_query(params, FIRST, LAST)
    assert (selection.preset, selection.key) == ("month", "2026-02")


def test_scope_keeps_only_known_values_and_feeds_the_kpi_filters() -> None:
    selection = from_query(
        {"township": "城关, 外县,城关", "outlets": "03101,99999", "type": ""}, FIRST, LAST, KNOWN
    )
    assert selection.scope == Scope(townships=("城关",), outlet_types=(), outlets=("03101",))
    assert selection.kpi_filters() == {"township": ("城关",), "outlets": ("03101",)}
    everything = Selection("month", "2026-02", *month_bounds("2026-02"))
    assert everything.kpi_filters() == {}
