"""deposit_summary on the hand-sized warehouse.

Deposit types: deposit (+1), withdrawal (-1), enquiry (0). March 2024 at A: a1 +1000,
a2 -400, a3 +500 reversed by a4 (both left out), a6 -200 (ATM), a10 +300; at B: b1 +2000,
b2 -700, b3 +100 (cash recycler). March 2023 at A: l1 +600, l2 -100.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from warehouse.kpi import deposit_summary

from .test_kpi_service import MARCH, approx, one


def test_by_outlet_and_month(wh: duckdb.DuckDBPyConnection) -> None:
    df = deposit_summary(wh, **MARCH)
    assert df.columns == [
        "outlet_code",
        "month",
        "deposits",
        "withdrawals",
        "net_deposits",
        "net_deposits_last_year",
        "net_deposit_growth",
    ]
    assert df["outlet_code"].to_list() == ["A", "B", "C"]
    assert set(df["month"]) == {dt.date(2024, 3, 1)}
    a = one(df, outlet_code="A")
    assert (a["deposits"], a["withdrawals"], a["net_deposits"]) == (1300.0, 600.0, 700.0)
    assert a["net_deposits_last_year"] == 500.0  # 600 - 100
    assert a["net_deposit_growth"] == approx(0.4)  # (700 - 500) / 500
    b = one(df, outlet_code="B")
    assert (b["deposits"], b["withdrawals"], b["net_deposits"]) == (2100.0, 700.0, 1400.0)
    assert b["net_deposits_last_year"] is None and b["net_deposit_growth"] is None
    c = one(df, outlet_code="C")
    assert (c["deposits"], c["net_deposits"], c["net_deposit_growth"]) == (0.0, 0.0, None)


def test_whole_county(wh: duckdb.DuckDBPyConnection) -> None:
    r = one(deposit_summary(wh, by=(), **MARCH))
    assert (r["deposits"], r["withdrawals"], r["net_deposits"]) == (3400.0, 1300.0, 2100.0)
    assert r["net_deposit_growth"] == approx((2100 - 500) / 500)


def test_by_day_matches_last_years_date(wh: duckdb.DuckDBPyConnection) -> None:
    df = deposit_summary(wh, by="day", outlets="A", **MARCH)
    # Last year's flows (6 March 2023) land on 6 March 2024, a day with only abandoned
    # customers: net 0 against 500 a year before.
    d6 = one(df, day=dt.date(2024, 3, 6))
    assert (d6["net_deposits"], d6["net_deposits_last_year"]) == (0.0, 500.0)
    assert d6["net_deposit_growth"] == approx(-1.0)
    d4 = one(df, day=dt.date(2024, 3, 4))
    assert (d4["deposits"], d4["withdrawals"], d4["net_deposits_last_year"]) == (
        1000.0,
        600.0,
        None,
    )


def test_channel_filter(wh: duckdb.DuckDBPyConnection) -> None:
    r = one(deposit_summary(wh, by="outlet", channel="atm", **MARCH), outlet_code="A")
    assert (r["deposits"], r["withdrawals"], r["net_deposits"]) == (0.0, 200.0, -200.0)
