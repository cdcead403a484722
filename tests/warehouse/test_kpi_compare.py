"""Comparison periods, compare(), the catalogue, targets and red/amber/green."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from warehouse.kpi import (
    compare,
    is_improvement,
    kpi,
    kpi_catalogue,
    outlet_targets,
    previous_period,
    rag,
    same_period_last_year,
    service_summary,
    targets,
)
from warehouse.kpi.complaints import complaint_summary
from warehouse.kpi.deposits import deposit_summary

from .test_kpi_service import MARCH, approx, one

D = dt.date


def test_periods() -> None:
    assert previous_period("2024-03-01", "2024-04-01") == (D(2024, 2, 1), D(2024, 3, 1))
    assert previous_period(D(2024, 4, 1), D(2024, 7, 1)) == (D(2024, 1, 1), D(2024, 4, 1))
    assert previous_period("2024-03-04", "2024-03-11") == (D(2024, 2, 26), D(2024, 3, 4))
    assert same_period_last_year("2024-03-01", "2024-04-01") == (D(2023, 3, 1), D(2023, 4, 1))
    assert same_period_last_year("2024-02-29", "2024-03-01") == (D(2023, 2, 28), D(2023, 3, 1))


def test_compare_with_previous_month_and_last_year(wh: duckdb.DuckDBPyConnection) -> None:
    df = compare(service_summary, wh, by="outlet", outlets="A", **MARCH)
    assert df.columns[:2] == ["outlet_code", "kpi"]
    # Abandonment: March 3 of 8 counter arrivals; February p2 of p1 p2; March 2023 none of 2.
    ab = one(df, kpi="abandonment_rate")
    assert (ab["current"], ab["previous"], ab["last_year"]) == (approx(0.375), 0.5, 0.0)
    assert ab["change"] == approx(-0.125)
    assert ab["change_pct"] == approx(-0.25)
    assert ab["improved"] is True  # fewer customers left: good news
    assert ab["change_ly"] == approx(0.375)
    assert ab["change_ly_pct"] is None  # relative to 0
    assert ab["improved_ly"] is False
    # Wait p90: March 720 s; February a single wait of 100 s; March 2023 waits 20, 50.
    w = one(df, kpi="wait_p90_s")
    assert (w["current"], w["previous"], w["last_year"]) == (approx(720.0), 100.0, approx(47.0))
    assert w["direction"] == "down" and w["improved"] is False
    # Served rose from 1 to 5 (up is good); arrivals has no direction, so no colour.
    assert one(df, kpi="served")["improved"] is True
    assert one(df, kpi="arrivals")["improved"] is None
    # No roster before March: no utilisation to compare.
    u = one(df, kpi="utilisation")
    assert u["previous"] is None and u["change"] is None and u["improved"] is None


def test_compare_other_summaries(wh: duckdb.DuckDBPyConnection) -> None:
    c = compare(complaint_summary, wh, **MARCH)
    # February: no complaints; c0 was in January.
    r = one(c, kpi="complaints")
    assert (r["current"], r["previous"], r["improved"]) == (5.0, 0.0, False)
    d = compare(deposit_summary, wh, by="outlet", outlets="A", **MARCH)
    # February at A: p1 +800; March net 700.
    assert one(d, kpi="net_deposits")["previous"] == 800.0
    assert one(d, kpi="net_deposits")["improved"] is False


def test_compare_refuses_calendar_groupings(base_wh: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="month"):
        compare(service_summary, base_wh, by=("outlet", "month"), **MARCH)


def test_catalogue_covers_every_output_column(base_wh: duckdb.DuckDBPyConnection) -> None:
    cat = kpi_catalogue()
    names = set(cat["name"])
    keys = {"outlet_code"}
    for fn in (service_summary, complaint_summary, deposit_summary):
        cols = set(fn(base_wh, by="outlet", **MARCH).columns) - keys - {"month"}
        assert cols <= names, cols - names
    assert set(cat["direction"]) <= {"up", "down", "none"}
    for fmt in cat["format"]:
        format(1234, fmt) if fmt.endswith("d") else format(0.5, fmt)
    assert kpi("complaints_per_10k").name == "per_10k_transactions"  # target alias
    assert kpi("wait_p90_s").label_zh == "等候时长90分位"


def test_targets_with_outlet_override(wh: duckdb.DuckDBPyConnection) -> None:
    county = {r["kpi"]: r for r in targets(wh, 2024).iter_rows(named=True)}
    assert (county["service_level"]["target"], county["service_level"]["source"]) == (
        0.85,
        "county",
    )
    # The export names it complaints_per_10k: the alias maps it to our KPI.
    assert county["per_10k_transactions"]["target"] == 2.0
    assert (county["wait_p90_s"]["target"], county["wait_p90_s"]["source"]) == (900.0, "config")
    assert county["wait_p90_s"]["direction"] == "down"
    a = {r["kpi"]: r for r in targets(wh, 2024, "A").iter_rows(named=True)}
    assert (a["service_level"]["target"], a["service_level"]["source"]) == (0.9, "outlet")
    assert a["per_10k_transactions"]["source"] == "county"
    b = targets(wh, 2024, "B").filter(pl.col("kpi") == "service_level")
    assert b["target"].to_list() == [0.85]
    assert targets(wh, 2023).filter(pl.col("kpi") == "service_level")["target"].to_list() == [0.7]
    all_outlets = outlet_targets(wh, 2024).filter(pl.col("kpi") == "service_level")
    assert dict(zip(all_outlets["outlet_code"], all_outlets["target"], strict=True)) == {
        "A": 0.9,
        "B": 0.85,
        "C": 0.85,
    }


def test_rag_and_improvement() -> None:
    # Amber band: 10% of the target.
    assert rag("service_level", 0.85, 0.8) == "green"
    assert rag("service_level", 0.75, 0.8) == "amber"  # 0.05 short <= 0.08
    assert rag("service_level", 0.6, 0.8) == "red"
    assert rag("wait_p90_s", 900, 900) == "green"
    assert rag("wait_p90_s", 950, 900) == "amber"  # 50 over <= 90
    assert rag("wait_p90_s", 1000, 900) == "red"
    assert rag("arrivals", 10, 5) is None
    assert rag("wait_p90_s", None, 900) is None
    assert is_improvement("wait_p90_s", 800, 700) is True
    assert is_improvement("service_level", 0.8, 0.7) is False
    assert is_improvement("service_level", 0.8, 0.8) is None
    # Utilisation is good up to its 0.85 ceiling: 0.80 -> 0.95 is worse (0.85 - 0.10).
    assert is_improvement("utilisation", 0.80, 0.95) is False
    assert is_improvement("utilisation", 0.70, 0.80) is True
