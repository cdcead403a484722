"""service_summary on the hand-sized warehouse (tests/warehouse/conftest.py).

Every expected value is derived by hand in the comments from the event table in the
conftest docstring. Percentiles follow QUANTILE_CONT: for n sorted values x[0..n-1] the
p-quantile is at position h = (n - 1) * p, interpolated between x[floor h] and x[ceil h].
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import ibis
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from warehouse.kpi import service_summary

MARCH = {"start": "2024-03-01", "end": "2024-04-01"}


def one(df: pl.DataFrame, **keys: Any) -> dict[str, Any]:
    """The single row of ``df`` matching ``keys``."""
    rows = df.filter(*[pl.col(k) == v for k, v in keys.items()]) if keys else df
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def approx(value: float) -> Any:
    return pytest.approx(value, rel=1e-12)


def test_county_month(wh: duckdb.DuckDBPyConnection) -> None:
    r = one(service_summary(wh, **MARCH))
    # Rows in March: a1-a10, b1-b3 = 13; a4 is a reversal row, so 12 arrivals.
    assert r["arrivals"] == 12
    # Counter arrivals: a1 a2 a3 a5 a7 a8 a9 a10 b1 b2 (a6 ATM, b3 recycler) = 10.
    assert r["counter_arrivals"] == 10
    # Served = completed/error not reversed: a1 a2 a5 a6 a10 b1 b2 b3 (a3 reversed) = 8.
    assert r["served"] == 8
    assert r["counter_served"] == 6  # a1 a2 a5 a10 b1 b2
    assert r["abandoned"] == 3  # a7 a8 a9
    assert r["abandonment_rate"] == approx(3 / 10)
    # Waits of served counter events: 60 300 120 900 30 1200 -> sorted 30 60 120 300 900 1200.
    assert r["wait_mean_s"] == approx(2610 / 6)
    assert r["wait_p50_s"] == approx(210.0)  # h = 2.5: 120 + 0.5 * (300 - 120)
    assert r["wait_p90_s"] == approx(1050.0)  # h = 4.5: 900 + 0.5 * (1200 - 900)
    assert r["service_level"] == approx(5 / 6)  # 1200 > 900; 900 itself is within target
    # Handling: 210 100 90 150 120 180 -> sorted 90 100 120 150 180 210, sum 850.
    assert r["service_mean_s"] == approx(850 / 6)
    assert r["service_p90_s"] == approx(195.0)  # h = 4.5: 180 + 0.5 * 30
    # Standards: deposit 150, withdrawal 150, enquiry 90 -> 150+150+90+150+150+150 = 840.
    assert r["service_vs_standard"] == approx(850 / 840)
    # Errors: a5 (status error) + a3 (reversed original) = 2, per 1,000 of 8 served.
    assert r["errors"] == 2
    assert r["errors_per_1000"] == approx(250.0)
    # Rated served counter events: a1 5, a2 3, a5 4, b1 2, b2 5 -> 3 of 5 rated >= 4.
    assert r["satisfaction_rate"] == approx(3 / 5)
    assert r["rating_coverage"] == approx(5 / 6)  # a10 unrated
    assert r["self_service_share"] == approx(2 / 12)  # a6, b3
    # Counter staffed 37,800 s = 10.5 h (lobby duty of S4 excluded).
    assert r["counter_staff_hours"] == approx(10.5)
    assert r["served_per_staff_hour"] == approx(6 / 10.5)
    # Busy: a1 210 + a2 100 + a3 300 + a4 60 (the reversal took a window) + a5 90
    # + a10 150 + b1 120 + b2 180 = 1210 s.
    assert r["utilisation"] == approx(1210 / 37800)


def test_by_outlet_includes_outlet_without_events(wh: duckdb.DuckDBPyConnection) -> None:
    df = service_summary(wh, by="outlet", **MARCH)
    assert df["outlet_code"].to_list() == ["A", "B", "C"]
    a = one(df, outlet_code="A")
    assert (a["arrivals"], a["counter_arrivals"], a["served"], a["counter_served"]) == (9, 8, 5, 4)
    assert a["abandonment_rate"] == approx(3 / 8)
    # Waits 60 300 120 900 -> sorted 60 120 300 900.
    assert a["wait_mean_s"] == approx(345.0)
    assert a["wait_p50_s"] == approx(210.0)  # h = 1.5: 120 + 0.5 * 180
    assert a["wait_p90_s"] == approx(720.0)  # h = 2.7: 300 + 0.7 * 600
    assert a["service_level"] == approx(1.0)
    # Handling 210 100 90 150 -> sorted 90 100 150 210.
    assert a["service_mean_s"] == approx(137.5)
    assert a["service_p90_s"] == approx(192.0)  # h = 2.7: 150 + 0.7 * 60
    assert a["service_vs_standard"] == approx(550 / 540)
    assert a["errors_per_1000"] == approx(400.0)  # 2 errors / 5 served
    assert a["satisfaction_rate"] == approx(2 / 3)  # a1 5, a2 3, a5 4
    assert a["rating_coverage"] == approx(3 / 4)
    assert a["self_service_share"] == approx(1 / 9)
    assert a["counter_staff_hours"] == approx(8.5)  # 10800 + 9000 + 3600 + 1800 + 5400 s
    assert a["served_per_staff_hour"] == approx(4 / 8.5)
    assert a["utilisation"] == approx(910 / 30600)  # 210+100+300+60+90+150

    b = one(df, outlet_code="B")
    assert (b["arrivals"], b["served"], b["abandoned"]) == (3, 3, 0)
    assert b["abandonment_rate"] == approx(0.0)
    assert b["wait_p50_s"] == approx(615.0)  # 30, 1200: h = 0.5
    assert b["wait_p90_s"] == approx(1083.0)  # h = 0.9: 30 + 0.9 * 1170
    assert b["service_level"] == approx(0.5)
    assert b["service_p90_s"] == approx(174.0)  # 120, 180: 120 + 0.9 * 60
    assert b["errors_per_1000"] == approx(0.0)
    assert b["served_per_staff_hour"] == approx(1.0)  # 2 served / 2 h
    assert b["utilisation"] == approx(300 / 7200)

    c = one(df, outlet_code="C")
    assert (c["arrivals"], c["served"], c["abandoned"], c["errors"]) == (0, 0, 0, 0)
    assert c["counter_staff_hours"] == 0.0
    for rate in ("abandonment_rate", "wait_p90_s", "service_level", "served_per_staff_hour"):
        assert c[rate] is None


def test_day_with_only_abandoned_customers(wh: duckdb.DuckDBPyConnection) -> None:
    df = service_summary(wh, by="day", outlets="A", **MARCH)
    r = one(df, day=dt.date(2024, 3, 6))
    assert (r["arrivals"], r["served"], r["abandoned"]) == (2, 0, 2)
    assert r["abandonment_rate"] == approx(1.0)
    assert r["wait_mean_s"] is None and r["wait_p90_s"] is None and r["service_level"] is None
    assert r["errors_per_1000"] is None  # nothing served
    assert r["counter_staff_hours"] == approx(1.5)  # S1 11:00-12:00 + S2 11:30-12:00
    assert r["served_per_staff_hour"] == approx(0.0)
    assert r["utilisation"] == approx(0.0)
    # Days listed: 4, 6 and 18 March (events and shifts on the same days).
    assert df["day"].to_list() == [dt.date(2024, 3, d) for d in (4, 6, 18)]


def test_by_hour_keeps_staffed_hours_without_arrivals(wh: duckdb.DuckDBPyConnection) -> None:
    df = service_summary(wh, by="hour", **MARCH)
    # Arrival hours: 9 (a1 a2 a3 b1 b2), 10 (a5 a6 a7), 11 (a8 a9), 14 (a10), 15 (b3);
    # hours 8 and 13 have staffed time only (S3 08:30-, S1 13:30-).
    assert df["hour"].to_list() == [8, 9, 10, 11, 13, 14, 15]
    assert df["arrivals"].to_list() == [0, 5, 3, 2, 0, 1, 1]
    h8 = one(df, hour=8)
    assert h8["counter_staff_hours"] == approx(0.5)
    assert h8["served_per_staff_hour"] == approx(0.0)
    # Hour 9 staffed: S1 3600 + S2 1800 (A, 4 Mar) + S3 3600 + S2 1800 (B) = 3 h;
    # served counter a1 a2 b1 b2 = 4.
    assert one(df, hour=9)["served_per_staff_hour"] == approx(4 / 3)


def test_transferred_staff_member(wh: duckdb.DuckDBPyConnection) -> None:
    # S2: teller at A until 15 March (a3 reversed, a4 its reversal), then at B (b2).
    df = service_summary(wh, by="staff", **MARCH)
    s2 = one(df, staff_id="S2")
    assert (s2["arrivals"], s2["served"], s2["errors"]) == (2, 1, 1)  # a3, b2
    assert s2["counter_staff_hours"] == approx(3.5)  # 9000 + 1800 (A) + 1800 (B) s
    assert s2["utilisation"] == approx(540 / 12600)  # a3 300 + a4 60 + b2 180
    # Self-service events have no staff: their group is the null staff_id, sorted last.
    assert df["staff_id"].to_list() == ["S1", "S2", "S3", None]
    assert one(df.filter(pl.col("staff_id").is_null()))["served"] == 2  # a6, b3

    at_a = one(service_summary(wh, by="staff", outlets="A", **MARCH), staff_id="S2")
    assert (at_a["arrivals"], at_a["served"], at_a["counter_staff_hours"]) == (1, 0, 3.0)
    at_b = service_summary(wh, by="staff", outlets=["B"], **MARCH)
    assert one(at_b, staff_id="S2")["served_per_staff_hour"] == approx(2.0)  # 1 in 0.5 h
    assert one(at_b, staff_id="S3")["served_per_staff_hour"] == approx(1 / 1.5)


def test_position_uses_assignment_on_event_date(wh: duckdb.DuckDBPyConnection) -> None:
    teller = one(service_summary(wh, position="teller", **MARCH))
    # Teller events: a1 a2 a3 a4 a5 a10 (S1, S2 before the 15th) and b1 (S3); b2 was
    # served by S2 as lobby manager. Arrivals a1 a2 a3 a5 a10 b1 = 6, served 5.
    assert (teller["arrivals"], teller["served"], teller["errors"]) == (6, 5, 2)
    # Teller counter time: all of A's 30600 s + S3's 5400 s = 10 h.
    assert teller["counter_staff_hours"] == approx(10.0)
    assert teller["served_per_staff_hour"] == approx(0.5)
    lobby = one(service_summary(wh, position="lobby_manager", **MARCH))
    assert (lobby["arrivals"], lobby["served"]) == (1, 1)  # b2
    assert lobby["served_per_staff_hour"] == approx(2.0)  # 1 in S2's 1800 s at B


def test_filters(wh: duckdb.DuckDBPyConnection) -> None:
    counter = one(service_summary(wh, channel="counter", **MARCH))
    assert (counter["arrivals"], counter["served"]) == (10, 6)
    assert counter["self_service_share"] == approx(0.0)

    deposits = one(
        service_summary(wh, by="outlet", business_type="deposit", **MARCH), outlet_code="A"
    )
    # A deposits: a1 a3 a7 a8 a9 a10 arrive, a1 a10 served, a3 reversed (an error).
    assert (deposits["arrivals"], deposits["served"], deposits["errors"]) == (6, 2, 1)
    assert deposits["abandonment_rate"] == approx(3 / 6)
    # Staffed time is not split by business type: all of A's 8.5 h.
    assert deposits["served_per_staff_hour"] == approx(2 / 8.5)

    west = one(service_summary(wh, township="west", **MARCH))  # outlet C only
    assert (west["arrivals"], west["served"], west["counter_staff_hours"]) == (0, 0, 0.0)
    assert west["wait_p90_s"] is None and west["abandonment_rate"] is None

    sub = service_summary(wh, by="outlet", outlet_type="sub_branch", **MARCH)
    assert sub["outlet_code"].to_list() == ["B"]


def test_business_types_add_up_to_the_outlet(wh: duckdb.DuckDBPyConnection) -> None:
    df = service_summary(wh, by=("outlet", "business_type"), outlets="A", **MARCH)
    # deposit: a1 a10 served at the counter; withdrawal: a2 (a6 is ATM); enquiry: a5.
    assert dict(zip(df["business_type"], df["counter_served"], strict=True)) == {
        "deposit": 2,
        "enquiry": 1,
        "withdrawal": 1,
    }
    # Each type gets the outlet's 8.5 staffed hours, so productivities sum to A's 4 / 8.5.
    assert df["served_per_staff_hour"].sum() == approx(4 / 8.5)


def test_period_end_is_exclusive(wh: duckdb.DuckDBPyConnection) -> None:
    assert one(service_summary(wh, start="2024-04-01", end="2024-04-03"))["arrivals"] == 1  # x1
    assert one(service_summary(wh, start=dt.date(2024, 3, 1), end="2024-04-02"))["arrivals"] == 12


def test_bad_arguments(base_wh: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(TypeError, match="townsip"):
        service_summary(base_wh, townsip="east", **MARCH)
    with pytest.raises(ValueError, match="group by"):
        service_summary(base_wh, by="region", **MARCH)
    with pytest.raises(ValueError, match="before end"):
        service_summary(base_wh, start="2024-04-01", end="2024-03-01")


def test_accepts_an_ibis_backend(wh: duckdb.DuckDBPyConnection) -> None:
    backend = ibis.duckdb.from_connection(wh)
    assert_frame_equal(
        service_summary(backend, by="outlet", **MARCH), service_summary(wh, by="outlet", **MARCH)
    )
