"""Alerts on the small county, each kind checked against an independent computation."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from warehouse.alerts import alerts
from warehouse.kpi import outlet_targets, service_summary
from warehouse.settings import load_config

FEB = {"start": dt.date(2026, 2, 1), "end": dt.date(2026, 3, 1)}


@pytest.fixture(scope="module")
def con(small_warehouse: Path) -> duckdb.DuckDBPyConnection:
    with duckdb.connect(str(small_warehouse), read_only=True) as connection:
        yield connection


def _kind(found: pl.DataFrame, kind: str) -> pl.DataFrame:
    return found.filter(pl.col("kind") == kind).sort("outlet_code")


def test_long_waits_are_the_outlets_over_their_own_target(con) -> None:
    found = _kind(alerts(con, **FEB), "wait_above_target")
    waits = service_summary(con, **FEB, by="outlet").select("outlet_code", "wait_p90_s")
    goals = outlet_targets(con, 2026).filter(pl.col("kpi") == "wait_p90_s")
    expected = (
        waits.join(goals, on="outlet_code")
        .filter(pl.col("wait_p90_s") > pl.col("target"))
        .sort("outlet_code")
    )
    assert expected.height > 0, "the fixture should have an outlet over target"
    assert found["outlet_code"].to_list() == expected["outlet_code"].to_list()
    assert found["value"].to_list() == pytest.approx(expected["wait_p90_s"].to_list())
    assert found["threshold"].to_list() == expected["target"].to_list()


@pytest.mark.parametrize(
    ("month", "before"),
    [
        ("2026-02", ["2025-12", "2026-01"]),  # November is before the data: unknown, not 0
        ("2026-01", ["2025-12"]),
        ("2025-12", []),  # the first month has no baseline and so no spike
    ],
)
def test_complaint_spike_against_the_months_before_with_data(con, month, before) -> None:
    rule = load_config("dashboard")["alerts"]["complaint_spike"]
    counts = con.sql(
        """SELECT outlet_code, strftime(received_at, '%Y-%m') AS month, count(*) AS n
           FROM fact_complaint GROUP BY ALL"""
    ).pl()
    now = counts.filter(pl.col("month") == month).select("outlet_code", now="n")
    base = (
        counts.filter(pl.col("month").is_in(before))
        .group_by("outlet_code")
        .agg(baseline=pl.col("n").sum() / max(len(before), 1))
    )
    expected = (
        now.join(base, on="outlet_code", how="left")
        .with_columns(pl.col("baseline").fill_null(0.0))
        .filter(
            pl.lit(bool(before))
            & (pl.col("now") >= rule["min_complaints"])
            & (pl.col("now") >= rule["factor"] * pl.col("baseline"))
        )
        .sort("outlet_code")
    )
    year, mon = map(int, month.split("-"))
    period = {"start": dt.date(year, mon, 1), "end": dt.date(year + mon // 12, mon % 12 + 1, 1)}
    found = _kind(alerts(con, **period), "complaint_spike")
    assert found["outlet_code"].to_list() == expected["outlet_code"].to_list()
    assert found["value"].to_list() == expected["now"].cast(pl.Float64).to_list()
    assert found["threshold"].to_list() == pytest.approx(expected["baseline"].to_list())


def test_a_day_without_events_is_missing_data(small_warehouse: Path, tmp_path: Path) -> None:
    copy = tmp_path / "gap.duckdb"
    shutil.copyfile(small_warehouse, copy)
    with duckdb.connect(str(copy)) as rw:
        assert not _kind(alerts(rw, **FEB), "missing_data").height
        day = rw.sql(
            "SELECT min(date) FROM dim_date WHERE is_business_day AND date >= '2026-02-10'"
        ).fetchall()[0][0]
        rw.execute(
            "DELETE FROM fact_transaction WHERE outlet_code = '03102' AND business_date = ?",
            [day],
        )
        found = _kind(alerts(rw, **FEB), "missing_data")
        assert found["outlet_code"].to_list() == ["03102"]
        assert found["value"].to_list() == [1.0]
        business_days = rw.sql(
            "SELECT count(*) FROM dim_date WHERE is_business_day"
            " AND date >= '2026-02-01' AND date < '2026-03-01'"
        ).fetchall()[0][0]
        assert found["threshold"].to_list() == [float(business_days)]
        assert (
            alerts(rw, **FEB, outlets=("03101",))
            .filter(pl.col("kind") == "missing_data")["outlet_code"]
            .to_list()
            == []
        )


def test_filters_limit_alerts_to_the_outlets_in_scope(con) -> None:
    everyone = alerts(con, **FEB)
    some = sorted(set(everyone["outlet_code"].to_list()))[:1]
    scoped = alerts(con, **FEB, outlets=tuple(some))
    assert set(scoped["outlet_code"].to_list()) == set(some)
    assert scoped.height == everyone.filter(pl.col("outlet_code").is_in(some)).height
    order = {"missing_data": 0, "complaint_spike": 1, "wait_above_target": 2}
    ranks = [order[k] for k in everyone["kind"].to_list()]
    assert ranks == sorted(ranks)  # most serious kind first
