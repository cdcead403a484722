"""Published assessments are immutable, restatements keep both versions; honours; payout."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rccdash.cli import app
from warehouse.periods import quarter_months
from warehouse.stars.assess import assess_month
from warehouse.stars.honours import awards, penalty_register
from warehouse.stars.model import load_model
from warehouse.stars.payout import level, payout, split_pool
from warehouse.stars.publish import AlreadyPublished, publish, published, restatement_changes

MODEL = load_model()


@pytest.fixture()
def db(small_warehouse: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "w.duckdb"
    shutil.copyfile(small_warehouse, copy)
    return copy


def test_publishing_is_immutable_and_a_restatement_keeps_both_versions(db: Path) -> None:
    with duckdb.connect(str(db)) as con:
        first = assess_month(con, "2026-02", MODEL)
        assert publish(con, "2026-02", first, MODEL, by="tester") == 1
        with pytest.raises(AlreadyPublished, match="already published"):
            publish(con, "2026-02", first, MODEL, by="tester")
        with pytest.raises(ValueError, match="reason"):
            publish(con, "2026-02", first, MODEL, by="tester", restate=True)
        # Late data changes one teller's month: the restatement is a new version.
        changed = {k: v.clone() for k, v in first.items()}
        changed["staff"] = changed["staff"].with_columns(
            score=pl.when(pl.col("rank") == 1).then(pl.col("score") - 30).otherwise(pl.col("score"))
        )
        assert (
            publish(con, "2026-02", changed, MODEL, by="tester", restate=True, reason="late file")
            == 2
        )
        v1, v2 = published(con, "2026-02", "staff", 1), published(con, "2026-02", "staff", 2)
        assert v1.height == v2.height == first["staff"].height
        assert v1.filter(pl.col("rank") == 1)["score"][0] == pytest.approx(
            first["staff"].filter(pl.col("rank") == 1)["score"][0]
        )  # version 1 kept its numbers
        diff = restatement_changes(con, "2026-02", "staff", 1, 2)
        assert diff.height == 1
        assert diff["new_score"][0] == pytest.approx(diff["old_score"][0] - 30)
        reasons = con.execute("SELECT version, reason FROM star_assessment ORDER BY 1").fetchall()
    assert reasons == [(1, None), (2, "late file")]


def test_cli_publish_twice_fails_and_restate_needs_a_reason(db: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["assess", "2026-01", "--db", str(db), "--publish"], terminal_width=160)
    assert ok.exit_code == 0, ok.output
    before = db.read_bytes()
    again = runner.invoke(
        app, ["assess", "2026-01", "--db", str(db), "--publish"], terminal_width=160
    )
    assert again.exit_code == 1 and "already published" in again.output
    assert db.read_bytes() == before
    restated = runner.invoke(
        app,
        ["assess", "2026-01", "--db", str(db), "--publish", "--restate", "--reason", "recheck"],
        terminal_width=160,
    )
    assert restated.exit_code == 0 and "version 2" in restated.output


def test_awards_go_to_the_best_uncapped_five_star_subjects() -> None:
    staff = pl.DataFrame(
        {
            "subject_id": ["a", "b", "c", "d"],
            "status": ["rated", "rated", "rated", "not_rated"],
            "score": [95.0, 97.0, 91.0, None],
            "stars": [5, 5, 5, None],
            "capped_by": [None, "substantiated major complaint", None, None],
        }
    )
    outlets = staff.head(0)
    honours = awards({"staff": staff, "outlets": outlets}, MODEL)
    assert honours.filter(pl.col("award") == "star_of_service")["subject_id"].to_list() == [
        "a",
        "c",
    ]


def test_penalty_register_lists_substantiated_complaints_against_people(
    small_warehouse: Path,
) -> None:
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        register = penalty_register(con, start=dt.date(2025, 12, 1), end=dt.date(2026, 3, 1))
        expected = con.execute(
            "SELECT count(*), coalesce(sum(penalty_amount), 0) FROM fact_complaint"
            " WHERE substantiated AND staff_id IS NOT NULL"
        ).fetchall()[0]
    assert register.height == expected[0] > 0
    assert register["penalty_amount"].sum() == pytest.approx(float(expected[1]))


def test_payout_table_by_hand(small_warehouse: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        table, sources = payout(con, "2026Q1", MODEL)
    assert sources == ["2026-01: provisional", "2026-02: provisional", "2026-03: provisional"]
    assert table["gross"].sum() == pytest.approx(MODEL.pool_per_quarter)
    assert table["net"].sum() == pytest.approx(MODEL.pool_per_quarter - table["penalties"].sum())
    for row in table.iter_rows(named=True):
        months = [s for s in (row["stars_m1"], row["stars_m2"], row["stars_m3"]) if s is not None]
        if months:
            assert row["average_stars"] == pytest.approx(sum(months) / len(months))
            assert row["coefficient"] == MODEL.coefficients[level(row["average_stars"])]
    out = tmp_path / "payout.xlsx"
    result = CliRunner().invoke(
        app,
        # nothing is published in this county: payroll's file needs the preview flag
        ["payout", "2026Q1", "--out", str(out), "--db", str(small_warehouse), "--provisional"],
        terminal_width=160,
    )
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out).active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["staff_id", "name", "outlet_code"] and header[-1] == "stars_basis"
    assert sheet.max_row == table.height + 1
    assert sheet.cell(2, len(header)).value == "; ".join(sources)


def test_quarters_and_levels() -> None:
    assert quarter_months("2026Q1") == ["2026-01", "2026-02", "2026-03"]
    assert quarter_months("2025q4") == ["2025-10", "2025-11", "2025-12"]
    with pytest.raises(ValueError):
        quarter_months("2026Q5")
    assert (level(3.5), level(3.49), level(None)) == (4, 3, None)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.2, 0.6, 1.0, 1.3, 1.6]), st.sampled_from([0, 100, 500, 2000])
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(min_value=0, max_value=10_000_000),
)
def test_payout_sums_to_the_pool_minus_penalties(people, pool_fen) -> None:
    coefficients = [c for c, _ in people]
    penalties = [float(p) for _, p in people]
    pool = pool_fen / 100
    money = split_pool(coefficients, penalties, pool)
    fines = round(sum(penalties) * 100)
    nets = round(sum(n for _, n in money) * 100)
    if sum(coefficients) > 0:
        assert round(sum(g for g, _ in money) * 100) == pool_fen
        assert nets == pool_fen - fines
    else:
        assert nets == -fines
    assert all(g >= 0 for g, _ in money)


def test_a_warehouse_from_before_publishing_reads_as_unpublished(tmp_path: Path) -> None:
    from warehouse.stars.publish import published_versions

    old = duckdb.connect(str(tmp_path / "old.duckdb"))
    old.execute("CREATE TABLE etl_load (load_id BIGINT)")
    assert published_versions(old, "2026-01") == []
    assert published(old, "2026-01", "staff").height == 0
