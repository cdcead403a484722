"""demand_profile and windows_staffed on the hand-sized warehouse.

March 2024 starts on a Friday: it has 5 Fridays, Saturdays and Sundays and 4 of every
other weekday, so a Monday figure is a total over 4 Mondays divided by 4.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from warehouse.kpi import demand_profile, weekday_counts, windows_staffed

from .test_kpi_service import MARCH, approx, one


def test_weekday_counts() -> None:
    assert weekday_counts(dt.date(2024, 3, 1), dt.date(2024, 4, 1)) == {
        0: 4,
        1: 4,
        2: 4,
        3: 4,
        4: 5,
        5: 5,
        6: 5,
    }
    assert weekday_counts(dt.date(2024, 3, 4), dt.date(2024, 3, 5)) == {
        0: 1,
        1: 0,
        2: 0,
        3: 0,
        4: 0,
        5: 0,
        6: 0,
    }


def test_counter_profile_of_one_outlet(wh: duckdb.DuckDBPyConnection) -> None:
    df = demand_profile(wh, outlets="A", channel="counter", **MARCH)
    assert df.height == 168
    assert df.select("weekday", "hour").unique().height == 168
    # Mondays (weekday 0): 9h a1 a2 a3, 10h a5 a7 (a4 is a reversal, a6 is the ATM),
    # 14h a10. Wednesday 6 March 11h: a8 a9 (abandoned: still demand).
    mon9 = one(df, weekday=0, hour=9)
    assert (mon9["days"], mon9["arrivals"]) == (4, 3)
    assert mon9["arrivals_per_hour"] == approx(3 / 4)
    assert mon9["mean_service_s"] == approx(155.0)  # a1 210, a2 100 (a3 was reversed)
    mon10 = one(df, weekday=0, hour=10)
    assert mon10["arrivals_per_hour"] == approx(0.5)
    assert mon10["mean_service_s"] == approx(90.0)  # a5
    assert one(df, weekday=0, hour=14)["arrivals_per_hour"] == approx(0.25)
    wed11 = one(df, weekday=2, hour=11)
    assert wed11["arrivals_per_hour"] == approx(0.5)
    assert wed11["mean_service_s"] is None  # only abandoned customers
    # An hour without arrivals is a zero, not a missing row.
    mon12 = one(df, weekday=0, hour=12)
    assert (mon12["arrivals"], mon12["arrivals_per_hour"], mon12["mean_service_s"]) == (
        0,
        0.0,
        None,
    )
    fri = one(df, weekday=4, hour=9)
    assert (fri["days"], fri["arrivals_per_hour"]) == (5, 0.0)
    assert df["arrivals"].sum() == 8  # A's counter arrivals in March


def test_all_channels_and_outlets(wh: duckdb.DuckDBPyConnection) -> None:
    df = demand_profile(wh, **MARCH)
    # Monday 10h: a5 a6 (ATM) a7; served handling a5 90, a6 40.
    mon10 = one(df, weekday=0, hour=10)
    assert mon10["arrivals_per_hour"] == approx(3 / 4)
    assert mon10["mean_service_s"] == approx(65.0)
    assert df["arrivals"].sum() == 12


def test_position_filter_reads_events(wh: duckdb.DuckDBPyConnection) -> None:
    df = demand_profile(wh, position="lobby_manager", **MARCH)
    # b2 (Wednesday 20 March, 9h) is the only event of a lobby manager.
    assert df.filter(pl.col("arrivals") > 0).select("weekday", "hour", "arrivals").rows() == [
        (2, 9, 1)
    ]


def test_windows_staffed(wh: duckdb.DuckDBPyConnection) -> None:
    df = windows_staffed(wh, outlets="A", **MARCH)
    assert df.height == 168
    # Monday 4 March: w1 09:00-12:00 (S1), w2 09:30-12:00 (S2); Monday 18 March:
    # w1 13:30-15:00. Averaged over 4 Mondays.
    assert one(df, weekday=0, hour=9)["windows_staffed"] == approx(1.5 / 4)
    assert one(df, weekday=0, hour=10)["windows_staffed"] == approx(2 / 4)
    assert one(df, weekday=0, hour=13)["windows_staffed"] == approx(0.5 / 4)
    assert one(df, weekday=0, hour=14)["windows_staffed"] == approx(1 / 4)
    # Wednesday 6 March 11h: S1 and S2 both on window 1 (a handover) count it once.
    assert one(df, weekday=2, hour=11)["windows_staffed"] == approx(1 / 4)
    assert one(df, weekday=0, hour=8)["windows_staffed"] == 0.0
    # Lobby duty (S4, no window) is not a counter window.
    assert df["windows_staffed"].sum() == approx((1.5 + 2 + 2 + 0.5 + 1) / 4 + 1 / 4)
