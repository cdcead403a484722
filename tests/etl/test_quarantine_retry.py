"""The retry story: a wrong outlet row, its rows quarantined, the outlet fixed, the rows back."""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from etl.pipeline import LoadOptions, load_paths
from etl.retry import retry_quarantine
from rccdash.cli import app
from tests.conftest import SmallCounty

MONTH = "2025-12"
REFERENCES = ("business_types.csv", "holidays.csv", "outlets.csv", "staff.csv")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def story(small_county: SmallCounty, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A county month loaded with one outlet's row wrong in outlets.csv."""
    work = tmp_path_factory.mktemp("retry")
    exports = work / "exports"
    exports.mkdir()
    for name in (*REFERENCES, f"roster_{MONTH}.csv", f"transactions_{MONTH}.csv"):
        shutil.copyfile(small_county.exports / name, exports / name)
    with (exports / "outlets.csv").open(encoding="utf-8") as handle:
        outlets = list(csv.DictReader(handle))
    # The smallest outlet that is not the county department, so its rows stay a minority.
    txns = _count_by_outlet(exports / f"transactions_{MONTH}.csv")
    wrong = min(
        (o for o in outlets if o["outlet_type"] != "county_department"),
        key=lambda o: txns.get(o["outlet_code"], 0),
    )
    good = (exports / "outlets.csv").read_text(encoding="utf-8")
    bad = good.replace(
        f"{wrong['outlet_code']},{wrong['outlet_name']},{wrong['township']},{wrong['outlet_type']},",
        f"{wrong['outlet_code']},{wrong['outlet_name']},{wrong['township']},head_office,",
    )
    assert bad != good
    (exports / "outlets.csv").write_text(bad, encoding="utf-8")
    db = work / "warehouse.duckdb"
    outcomes = load_paths(db, [exports], LoadOptions(report=False))
    fixed = work / "fixed"
    fixed.mkdir()
    (fixed / "outlets.csv").write_text(good, encoding="utf-8")
    return {
        "db": db,
        "outcomes": {o.path.name: o for o in outcomes},
        "outlet": wrong["outlet_code"],
        "expected_txns": txns[wrong["outlet_code"]],
        "fixed": fixed / "outlets.csv",
    }


def _count_by_outlet(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            counts[row["outlet_code"]] = counts.get(row["outlet_code"], 0) + 1
    return counts


def test_rows_of_a_quarantined_outlet_are_quarantined_with_advice(story: dict) -> None:
    outcomes, outlet = story["outcomes"], story["outlet"]
    assert outcomes["outlets.csv"].quarantined == 1
    txns = outcomes[f"transactions_{MONTH}.csv"]
    assert txns.status == "loaded"
    assert txns.quarantined == story["expected_txns"] >= 300  # all of that outlet's rows
    assert txns.advice == (
        f"{story['expected_txns']:,} rows refer to outlet {outlet}, which was quarantined in"
        " outlets.csv: fix outlets.csv, load it, then run rccdash quarantine --retry"
    )


def test_the_retry_loads_them_back_conserving_rows_and_a_second_changes_nothing(
    story: dict, small_warehouse: Path, tmp_path: Path
) -> None:
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(story["db"], db)
    outlet = story["outlet"]
    # Loading the same transactions file again is skipped: the retry is the way back.
    [fixed] = load_paths(db, [story["fixed"]], LoadOptions(report=False))
    assert fixed.status == "loaded" and fixed.loaded >= 1
    quarantined_before = dict(_rows(db, "SELECT load_id, count(*) FROM etl_quarantine GROUP BY 1"))

    outcomes = retry_quarantine(db, run_by="operator-test")
    by_kind = {o.kind: o for o in outcomes}
    txns = by_kind["transactions"]
    assert txns.checked == story["expected_txns"]
    assert (txns.loaded, txns.duplicate, txns.quarantined) == (story["expected_txns"], 0, 0)
    for o in outcomes:
        assert o.checked == o.loaded + o.duplicate + o.dropped + o.quarantined
        assert o.checked == quarantined_before[o.retry_of]

    # Recorded like a load, pointing back at the load and rows it re-checked.
    [(status, retry_of, read, loaded, run_by)] = _rows(
        db,
        "SELECT status, retry_of, rows_read, rows_loaded, run_by FROM etl_load WHERE load_id = ?",
        [txns.load_id],
    )
    assert (status, retry_of, read, loaded) == ("retry", txns.retry_of, txns.checked, txns.loaded)
    assert run_by == "operator-test"
    released = _rows(
        db,
        "SELECT count(*) FILTER (WHERE released_by = ? AND released_as = 'loaded'),"
        " count(*) FILTER (WHERE released_by IS NULL) FROM etl_quarantine WHERE load_id = ?",
        [txns.load_id, txns.retry_of],
    )
    assert released == [(txns.loaded, 0)]

    # Row conservation per original load: what it loaded, plus what retries released, plus
    # what is still quarantined, is every row read.
    for load_id, read, loaded, duplicate, dropped in _rows(
        db,
        "SELECT load_id, rows_read, rows_loaded, rows_duplicate, rows_dropped FROM etl_load"
        " WHERE status = 'loaded'",
    ):
        [(released_n, still)] = _rows(
            db,
            "SELECT count(*) FILTER (WHERE released_by IS NOT NULL),"
            " count(*) FILTER (WHERE released_by IS NULL) FROM etl_quarantine WHERE load_id = ?",
            [load_id],
        )
        assert read == loaded + duplicate + dropped + released_n + still

    # The month now holds exactly what a load of the correct files gives.
    sql = (
        "SELECT count(*), sum(amount), count(DISTINCT staff_id) FROM fact_transaction"
        " WHERE outlet_code = ? AND strftime(business_date, '%Y-%m') = ?"
    )
    assert _rows(db, sql, [outlet, MONTH]) == _rows(small_warehouse, sql, [outlet, MONTH])
    # Only the wrong outlet row itself stays: its type is still not one the contract allows.
    assert _rows(
        db,
        "SELECT l.file_name, q.rules FROM etl_quarantine q JOIN etl_load l USING (load_id)"
        " WHERE q.released_by IS NULL",
    ) == [("outlets.csv", ["not_allowed_outlet_type"])]

    before = _sha(db)
    again = retry_quarantine(db)  # a second retry changes nothing
    assert [(o.file_name, o.checked, o.changed) for o in again] == [("outlets.csv", 1, False)]
    assert _sha(db) == before


def test_a_retry_that_cures_nothing_leaves_the_file_as_it_was(story: dict, tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(story["db"], db)
    before = _sha(db)
    outcomes = retry_quarantine(db)  # the outlet is still wrong: every row still fails
    assert outcomes and all(not o.changed for o in outcomes)
    assert sum(o.quarantined for o in outcomes) == sum(o.checked for o in outcomes) > 300
    assert _sha(db) == before
    assert not list(db.parent.glob(f".{db.name}.next-*"))


def test_the_command_retries_one_rule_and_says_what_happened(story: dict, tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(story["db"], db)
    load_paths(db, [story["fixed"]], LoadOptions(report=False))
    result = CliRunner().invoke(
        app,
        ["quarantine", "--retry", "--rule", "unknown_outlet", "--db", str(db)],
        terminal_width=200,
    )
    assert result.exit_code == 0, result.output
    assert "Quarantine retry" in result.output
    assert f"transactions_{MONTH}.csv" in result.output
    assert f"{story['expected_txns']:,}" in result.output
    listed = CliRunner().invoke(app, ["quarantine", "--db", str(db)], terminal_width=200)
    assert "outlets.csv" in listed.output and "transactions_" not in listed.output
