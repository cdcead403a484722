"""Published months are sealed: a row changed behind the code's back is seen and stops pay."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from etl.atomic import next_version
from rccdash.cli import app
from warehouse.settings import os_user
from warehouse.stars.board import publication, quarter_payout
from warehouse.stars.model import load_model
from warehouse.stars.payout import NotPublished, payout
from warehouse.stars.publish import BrokenSeal, check_seal, publish_month, seal


@pytest.fixture
def db(small_warehouse: Path, tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    shutil.copy(small_warehouse, path)
    with next_version(path) as con:
        for month in ("2026-01", "2026-02"):
            publish_month(con, month, by="Chairman Wang")
    return path


def test_a_published_version_is_sealed_and_the_seal_holds(db: Path) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        info = publication(con, month="2026-01")
        stored = con.execute(
            "SELECT content_sha256, published_by, run_by FROM star_assessment"
            " WHERE month = '2026-01'"
        ).fetchall()
        assert info.sealed is True and check_seal(con, "2026-01", 1) is True
        assert stored == [(seal(con, "2026-01", 1), "Chairman Wang", os_user())]
        assert len(stored[0][0]) == 64


def test_changing_a_published_row_breaks_the_seal_and_stops_the_payout(db: Path) -> None:
    with duckdb.connect(str(db)) as con:  # what anyone with DuckDB can do to the file
        con.execute(
            "UPDATE star_score SET stars = 5 WHERE month = '2026-01' AND subject_type = 'staff'"
            " AND subject_id = (SELECT min(subject_id) FROM star_score WHERE stars < 5)"
        )
    with duckdb.connect(str(db), read_only=True) as con:
        assert publication(con, month="2026-01").sealed is False
        assert publication(con, month="2026-02").sealed is True  # the other month is intact
        with pytest.raises(BrokenSeal, match=r"2026-01 \(version 1\) were changed"):
            payout(con, "2026Q1", load_model())
        with pytest.raises(BrokenSeal):
            quarter_payout(con, quarter="2026Q1")


def test_a_version_cannot_hold_the_same_subject_twice(db: Path) -> None:
    with duckdb.connect(str(db)) as con, pytest.raises(duckdb.ConstraintException):
        con.execute(
            "INSERT INTO star_score SELECT * FROM star_score WHERE month = '2026-01' LIMIT 1"
        )


def test_versions_published_before_seals_are_sealed_at_the_next_change(db: Path) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE star_assessment SET content_sha256 = NULL")
    with duckdb.connect(str(db), read_only=True) as con:
        assert publication(con, month="2026-01").sealed is None
    with next_version(db):
        pass
    with duckdb.connect(str(db), read_only=True) as con:
        assert publication(con, month="2026-01").sealed is True


def test_payroll_gets_published_months_only_unless_asked(db: Path, tmp_path: Path) -> None:
    with duckdb.connect(str(db), read_only=True) as con:
        with pytest.raises(NotPublished, match="2025-10 is not published"):
            payout(con, "2025Q4", load_model(), provisional=False)
        table, sources = payout(con, "2026Q1", load_model(), provisional=True)
    assert sources[:2] == ["2026-01: published v1", "2026-02: published v1"]
    runner = CliRunner()
    out = tmp_path / "q1.csv"
    refused = runner.invoke(app, ["payout", "2026Q1", "--out", str(out), "--db", str(db)])
    assert refused.exit_code == 1 and "2026-03 is not published" in refused.output
    assert not out.exists()
    preview = runner.invoke(
        app, ["payout", "2026Q1", "--out", str(out), "--db", str(db), "--provisional"]
    )
    assert preview.exit_code == 0, preview.output
    written = pl.read_csv(out)
    assert written.height == table.height
    assert set(written["stars_basis"]) == {
        "2026-01: published v1; 2026-02: published v1; 2026-03: provisional"
    }


def test_the_publisher_is_who_is_named_and_the_os_account_not_an_environment_variable(
    small_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "w.duckdb"
    shutil.copy(small_warehouse, path)
    monkeypatch.setenv("LOGNAME", "chairman")
    monkeypatch.setenv("USER", "chairman")
    runner = CliRunner()
    result = runner.invoke(
        app, ["assess", "2026-01", "--publish", "--by", "Li Ming", "--db", str(path)]
    )
    assert result.exit_code == 0, result.output
    plain = runner.invoke(app, ["assess", "2026-02", "--publish", "--db", str(path)])
    assert plain.exit_code == 0, plain.output
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "SELECT month, published_by, run_by FROM star_assessment ORDER BY month"
        ).fetchall()
        loads = {r[0] for r in con.execute("SELECT run_by FROM etl_load").fetchall()}
    assert rows == [("2026-01", "Li Ming", os_user()), ("2026-02", os_user(), os_user())]
    assert os_user() != "chairman"
    assert loads == {os_user()}  # the loads of the fixture recorded who ran them
