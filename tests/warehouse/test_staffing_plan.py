"""staffing_plan on the hand-sized warehouse (outlet A).

With one open window (N = 1) Erlang C gives C = A (the offered load) and a service level
of 1 - A * exp(-(1 - A) * t / s). For A's small loads that is above 0.8 for t = 900 s, so
one window is needed in every hour with arrivals.
"""

from __future__ import annotations

import math

import duckdb
import polars as pl

from warehouse.staffing import staffing_plan, staffing_plans

from .test_kpi_service import MARCH, approx, one


def test_month_plan(wh: duckdb.DuckDBPyConnection) -> None:
    df = staffing_plan(wh, "A", **MARCH)
    assert df.height == 168
    assert df.columns == [
        "weekday",
        "hour",
        "arrivals_per_hour",
        "mean_service_s",
        "offered_load",
        "windows_needed",
        "windows_staffed",
        "gap",
        "status",
    ]
    mon9 = one(df, weekday=0, hour=9)
    # 0.75 arrivals/h x 155 s = 0.0323 erlangs; N = 1: 1 - 0.0323 e^(-0.968 x 900/155) > 0.8.
    assert mon9["offered_load"] == approx(0.75 * 155 / 3600)
    assert mon9["windows_needed"] == 1
    assert mon9["windows_staffed"] == approx(0.375)
    assert mon9["gap"] == approx(-0.625)
    assert mon9["status"] == "under"  # short by more than 0.25 windows
    assert one(df, weekday=0, hour=10)["status"] == "under"  # 0.5 open for 1 needed
    mon11 = one(df, weekday=0, hour=11)
    assert (mon11["windows_needed"], mon11["windows_staffed"], mon11["status"]) == (0, 0.5, "ok")
    # Wednesday 11h had only abandoned customers: the slot has no handling time, so the
    # period's mean counter handling time of A (90 100 150 210 -> 137.5 s) is used.
    wed11 = one(df, weekday=2, hour=11)
    assert wed11["mean_service_s"] == approx(137.5)
    assert wed11["windows_needed"] == 1
    assert wed11["status"] == "under"
    quiet = one(df, weekday=0, hour=12)
    assert (quiet["arrivals_per_hour"], quiet["mean_service_s"], quiet["windows_needed"]) == (
        0.0,
        None,
        0,
    )
    assert quiet["status"] == "ok"


def test_single_day_with_a_strict_target(wh: duckdb.DuckDBPyConnection) -> None:
    df = staffing_plan(
        wh, "A", start="2024-03-04", end="2024-03-05", target_wait_s=0, service_level=0.99
    )
    # 9h: 3 arrivals x 155 s = 0.12917 erlangs. "Nobody waits" with 99% needs N = 2:
    # N = 1 gives 1 - C = 1 - 0.129 = 0.871; N = 2: B(2) = 0.0073337,
    # C = 2B / (2 - A(1 - B)) = 0.0078361, so 0.99216 >= 0.99.
    a = 3 * 155 / 3600
    b1 = a / (1 + a)
    b2 = a * b1 / (2 + a * b1)
    assert math.isclose(1 - 2 * b2 / (2 - a * (1 - b2)), 0.99216, abs_tol=1e-5)
    h9 = one(df, weekday=0, hour=9)
    assert (h9["windows_needed"], h9["windows_staffed"], h9["status"]) == (2, 1.5, "under")
    # 11h: nobody arrived but S1 and S2 kept two windows open: over by more than 1.
    h11 = one(df, weekday=0, hour=11)
    assert (h11["windows_needed"], h11["windows_staffed"], h11["status"]) == (0, 2.0, "over")
    # Other weekdays do not occur in the period: nothing needed, nothing staffed.
    assert df.filter(pl.col("weekday") > 0)["status"].unique().to_list() == ["ok"]


def test_all_outlets_at_once_equal_one_by_one(small_warehouse) -> None:
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        period = {"start": "2026-01-01", "end": "2026-02-01"}
        every = staffing_plans(con, **period)
        codes = sorted(r[0] for r in con.execute("SELECT outlet_code FROM dim_outlet").fetchall())
        assert sorted(set(every["outlet_code"])) == codes
        assert every.height == 168 * len(codes)
        for code in codes:
            mine = every.filter(pl.col("outlet_code") == code).drop("outlet_code")
            assert mine.equals(staffing_plan(con, code, **period)), code
        assert (every["status"] == "under").any()  # the county has an understaffed outlet
        some = staffing_plans(con, **period, outlets=codes[:2])
        assert sorted(set(some["outlet_code"])) == codes[:2]
