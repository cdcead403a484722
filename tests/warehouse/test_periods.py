"""Months and quarters: parsing, bounds and arithmetic across year ends, by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from warehouse.periods import (
    Month,
    Quarter,
    clock_seconds,
    month_bounds,
    months_between,
    previous_month,
    quarter_bounds,
    quarter_months,
    quarter_of,
    quarters_between,
    trend_start,
)


def test_month_arithmetic_crosses_year_ends() -> None:
    assert month_bounds("2025-12") == (dt.date(2025, 12, 1), dt.date(2026, 1, 1))
    assert month_bounds("2024-02") == (dt.date(2024, 2, 1), dt.date(2024, 3, 1))
    assert previous_month("2026-01") == "2025-12"
    assert str(Month(2026, 1).shift(-13)) == "2024-12"
    assert str(Month(2025, 11).shift(3)) == "2026-02"
    assert str(Month.parse("2026-03").same_last_year()) == "2025-03"
    assert Month(2025, 12) < Month(2026, 1)


def test_quarters() -> None:
    assert quarter_months("2025Q4") == ["2025-10", "2025-11", "2025-12"]
    assert quarter_bounds("2025q4") == (dt.date(2025, 10, 1), dt.date(2026, 1, 1))
    assert [quarter_of(m) for m in ("2026-01", "2026-03", "2026-04", "2025-12")] == [
        "2026Q1",
        "2026Q1",
        "2026Q2",
        "2025Q4",
    ]
    assert str(Quarter(2026, 1).previous()) == "2025Q4"
    assert Quarter.of(dt.date(2026, 8, 31)) == Quarter(2026, 3)


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "26-01", "2026/01", "", "2026-00"])
def test_a_bad_month_is_refused_by_name(text: str) -> None:
    with pytest.raises(ValueError, match="month must be YYYY-MM"):
        Month.parse(text)


@pytest.mark.parametrize("text", ["2026Q5", "2026Q0", "2026-Q1", "Q1", "2026"])
def test_a_bad_quarter_is_refused_by_name(text: str) -> None:
    with pytest.raises(ValueError, match="quarter must look like 2026Q1"):
        Quarter.parse(text)


def test_ranges_and_trends() -> None:
    assert months_between(dt.date(2025, 11, 15), dt.date(2026, 2, 1)) == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]
    assert quarters_between(dt.date(2025, 12, 31), dt.date(2026, 4, 1)) == [
        "2025Q4",
        "2026Q1",
        "2026Q2",
    ]
    assert trend_start(dt.date(2026, 1, 31), 12) == dt.date(2025, 2, 1)
    assert trend_start(dt.date(2026, 1, 5), 1) == dt.date(2026, 1, 1)
    assert clock_seconds("17:30") == 17 * 3600 + 30 * 60
