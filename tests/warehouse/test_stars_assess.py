"""A month's assessment on the small synthetic county, checked with independent SQL."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from rccdash.cli import app
from warehouse.stars.assess import assess_month
from warehouse.stars.model import load_model

MODEL = load_model()


@pytest.fixture(scope="module")
def con(small_warehouse: Path):
    connection = duckdb.connect(str(small_warehouse), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def february(con) -> dict[str, pl.DataFrame]:
    return assess_month(con, "2026-02")


def test_not_rated_rule_follows_roster_hours(con, february) -> None:
    hours = dict(
        con.execute(
            """SELECT staff_id, sum(staffed_s) / 3600 FROM fact_roster
               WHERE window_no IS NOT NULL AND work_date >= DATE '2026-02-01'
                 AND work_date < DATE '2026-03-01' GROUP BY 1"""
        ).fetchall()
    )
    minimum = MODEL.subjects["staff"].min_hours
    staff = february["staff"]
    assert staff.height > 10
    for row in staff.iter_rows(named=True):
        expected = "rated" if hours.get(row["subject_id"], 0) >= minimum else "not_rated"
        assert row["status"] == expected, row["subject_id"]


def test_an_outlet_without_service_that_month_is_not_rated(con, february) -> None:
    assert set(february["outlets"]["status"]) == {"rated"}
    after_the_data = assess_month(con, "2026-03")["outlets"]
    assert after_the_data.height == february["outlets"].height
    assert set(after_the_data["status"]) == {"not_rated"}  # not 1 star from half marks
    assert after_the_data["stars"].null_count() == after_the_data.height


def test_complaint_deductions_match_substantiated_complaints(con, february) -> None:
    counts = {
        staff: (minor, major, critical)
        for staff, minor, major, critical in con.execute(
            """SELECT staff_id, count(*) FILTER (WHERE severity = 'minor'),
                      count(*) FILTER (WHERE severity = 'major'),
                      count(*) FILTER (WHERE severity = 'critical')
               FROM fact_complaint WHERE substantiated AND staff_id IS NOT NULL
                 AND received_at >= TIMESTAMP '2026-02-01' AND received_at < TIMESTAMP '2026-03-01'
               GROUP BY 1"""
        ).fetchall()
    }
    assert counts, "the small county has substantiated complaints in February"
    rated = february["staff"].filter(pl.col("status") == "rated")
    for row in rated.iter_rows(named=True):
        minor, major, critical = counts.get(row["subject_id"], (0, 0, 0))
        expected = max(0.0, 15 - 5 * minor - 10 * major - 15 * critical)
        assert row["points_complaints"] == pytest.approx(expected), row["subject_id"]
        if major or critical:
            assert row["stars"] <= 2


def test_ranks_follow_scores_and_stars_follow_bands(february) -> None:
    for frame in february.values():
        rated = frame.filter(pl.col("status") == "rated").sort("rank")
        scores = rated["score"].to_list()
        assert scores == sorted(scores, reverse=True)
        assert rated["rank"][0] == 1
        for row in rated.iter_rows(named=True):
            assert 0 <= row["score"] <= 100
            if row["capped_by"] is None:
                assert row["stars"] == MODEL.stars_for(row["score"])


def test_movement_is_the_change_in_stars_since_last_month(con, february) -> None:
    january = assess_month(con, "2026-01")["outlets"].select("subject_id", jan="stars")
    joined = february["outlets"].join(january, on="subject_id")
    assert joined.height > 0
    for row in joined.iter_rows(named=True):
        assert row["movement"] == row["stars"] - row["jan"]


def test_cli_assess(small_warehouse: Path) -> None:
    result = CliRunner().invoke(
        app, ["assess", "2026-02", "--db", str(small_warehouse)], terminal_width=160
    )
    assert result.exit_code == 0, result.output
    assert "outlets, 2026-02" in result.output and "rated" in result.output
    assert CliRunner().invoke(app, ["assess", "Feb", "--db", str(small_warehouse)]).exit_code == 2
