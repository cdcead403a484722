"""complaint_summary and complaint_pareto on the hand-sized warehouse.

Complaints in March 2024 (conftest): c1 A S1 K1 attitude simple 7 days substantiated;
c2 A S1 K2 wait_time simple 20 days not substantiated; c3 B K1 wait_time complex open;
c4 A S2 K3 attitude complex 19 days substantiated; c5 B K4 facility simple open.
Before March: c0 (2024-01-20, A, S1, K9) and c6 (2023-10-01, B, K4).
Served transactions in March: A 5, B 3, total 8.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import polars as pl
import pytest

from warehouse.kpi import complaint_pareto, complaint_summary

from .test_kpi_service import MARCH, approx, one


def test_county_month(wh: duckdb.DuckDBPyConnection) -> None:
    r = one(complaint_summary(wh, **MARCH))
    assert r["complaints"] == 5
    assert r["transactions"] == 8
    assert r["per_10k_transactions"] == approx(5 * 10_000 / 8)
    # Decided: c1 yes, c2 no, c4 yes (c3, c5 undecided).
    assert r["substantiated_share"] == approx(2 / 3)
    # Resolved after 7, 20, 19 days -> sorted 7 19 20; p90 at h = 1.8: 19 + 0.8 * 1.
    assert r["resolution_days_mean"] == approx(46 / 3)
    assert r["resolution_days_p90"] == approx(19.8)
    # Judged at the period end (2024-04-01): due = c1 c2 c4 (resolved) + c5 (15-day
    # deadline 29 March passed); c3 (complex, deadline 11 April) is not yet due.
    # Within deadline: c1 (7 <= 15), c4 (19 <= 30); c2 took 20 > 15 days.
    assert r["closed_within_deadline_share"] == approx(2 / 4)
    # Repeats: c1 (S1 had c0 45 days before), c2 (S1 had c1), c3 (K1 had c1 at another
    # outlet); c5's K4 complained 165 days before (c6): not within 90 days.
    assert r["repeat_share"] == approx(3 / 5)


def test_as_of_moves_the_deadline_judgement(wh: duckdb.DuckDBPyConnection) -> None:
    r = one(complaint_summary(wh, as_of=dt.datetime(2024, 4, 12), **MARCH))
    # By 12 April c3's deadline (11 April 12:00) has passed too: 2 in time of 5 due.
    assert r["closed_within_deadline_share"] == approx(2 / 5)


def test_by_outlet(wh: duckdb.DuckDBPyConnection) -> None:
    df = complaint_summary(wh, by="outlet", **MARCH)
    assert df["outlet_code"].to_list() == ["A", "B", "C"]
    a = one(df, outlet_code="A")
    assert (a["complaints"], a["transactions"]) == (3, 5)
    assert a["per_10k_transactions"] == approx(6000.0)
    assert a["substantiated_share"] == approx(2 / 3)
    assert a["resolution_days_p90"] == approx(19.8)
    assert a["closed_within_deadline_share"] == approx(2 / 3)
    assert a["repeat_share"] == approx(2 / 3)
    b = one(df, outlet_code="B")
    assert (b["complaints"], b["transactions"]) == (2, 3)
    assert b["per_10k_transactions"] == approx(20_000 / 3)
    assert b["substantiated_share"] is None  # nothing decided yet
    assert b["resolution_days_mean"] is None
    assert b["closed_within_deadline_share"] == approx(0.0)  # c5 overdue, c3 not due
    assert b["repeat_share"] == approx(1 / 2)
    c = one(df, outlet_code="C")
    assert (c["complaints"], c["transactions"]) == (0, 0)
    assert c["per_10k_transactions"] is None


def test_by_staff_and_position(wh: duckdb.DuckDBPyConnection) -> None:
    df = complaint_summary(wh, by="staff", **MARCH)
    assert df["staff_id"].to_list() == ["S1", "S2", "S3", None]
    # S1: c1 c2 over a1 a2 a5 a10; S2: c4 over b2 (its served transaction at B).
    assert one(df, staff_id="S1")["per_10k_transactions"] == approx(2 * 10_000 / 4)
    assert one(df, staff_id="S2")["per_10k_transactions"] == approx(10_000.0)
    assert one(df, staff_id="S3")["per_10k_transactions"] == approx(0.0)
    unnamed = one(df.filter(pl.col("staff_id").is_null()))
    assert (unnamed["complaints"], unnamed["transactions"]) == (2, 0)  # c3, c5
    assert unnamed["per_10k_transactions"] is None

    # Tellers on the day received: c1 c2 (S1) and c4 (S2, before the transfer); teller
    # transactions: a1 a2 a5 a10 b1.
    teller = one(complaint_summary(wh, position="teller", **MARCH))
    assert (teller["complaints"], teller["transactions"]) == (3, 5)


def test_by_week_keeps_weeks_with_only_one_side(wh: duckdb.DuckDBPyConnection) -> None:
    df = complaint_summary(wh, by="week", **MARCH)
    got = {r["week"]: (r["complaints"], r["transactions"]) for r in df.iter_rows(named=True)}
    # c4 on Fri 1 March belongs to the week of 26 February, which has no served
    # transaction inside March; the week of 18 March has transactions (a10 b2 b3) only.
    assert got == {
        dt.date(2024, 2, 26): (1, 0),
        dt.date(2024, 3, 4): (2, 4),  # c1 c2; a1 a2 a5 a6
        dt.date(2024, 3, 11): (2, 1),  # c3 c5; b1
        dt.date(2024, 3, 18): (0, 3),
    }


def test_refuses_filters_complaints_do_not_carry(base_wh: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="channel"):
        complaint_summary(base_wh, channel="counter", **MARCH)
    with pytest.raises(ValueError, match="group by"):
        complaint_summary(base_wh, by="business_type", **MARCH)


def test_pareto(wh: duckdb.DuckDBPyConnection) -> None:
    df = complaint_pareto(wh, **MARCH)
    rows: list[dict[str, Any]] = df.to_dicts()
    # attitude c1 c4, wait_time c2 c3, facility c5; ties ordered by name.
    assert [r["category"] for r in rows] == ["attitude", "wait_time", "facility"]
    assert [r["complaints"] for r in rows] == [2, 2, 1]
    assert [r["share"] for r in rows] == [approx(0.4), approx(0.4), approx(0.2)]
    assert [r["cumulative_share"] for r in rows] == [approx(0.4), approx(0.8), approx(1.0)]
    # 80% is reached with attitude and wait_time.
    assert [r["vital_few"] for r in rows] == [True, True, False]
    assert rows[0]["label_zh"] == "服务态度"
    assert complaint_pareto(wh, township="west", **MARCH).height == 0
