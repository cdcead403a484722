"""Load history, rule counts, quarantined rows and orphaned reversals, checked independently.

A private copy of the small county's warehouse gets one transactions file with planted
defects; every expected figure is then recounted in Python from the raw quarantine rows
or the planted rows themselves, never taken from the function under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import polars as pl
import pytest

from etl.kinds import export_kinds
from etl.pipeline import LoadOptions, load_paths
from tests.export_rows import transaction_row
from warehouse.data_quality import (
    load_history,
    load_totals,
    orphan_reversals,
    quarantined_rows,
    rule_counts,
)

HEADER = list(export_kinds()["transactions"].types)


# Planted defects: txn id -> changed fields (each row fails one or two rules).
PLANTED = {
    "DQ-CH1": {"channel": "fax"},
    "DQ-CH2": {"channel": "fax", "satisfaction": "9"},
    "DQ-AMT": {"amount": "-3"},
    "DQ-OUT": {"outlet_code": "99999"},
}


def on_duty(db: Path) -> tuple[str, str, dt.date]:
    """A (staff, outlet, day) from the roster, so planted rows pass the reference checks."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT staff_id, outlet_code, work_date FROM fact_roster WHERE window_no IS NOT NULL"
            " AND work_date BETWEEN DATE '2025-12-10' AND DATE '2025-12-20' ORDER BY ALL LIMIT 1"
        ).fetchall()[0]


def write_bad_file(db: Path, folder: Path, good: int = 20) -> Path:
    """A transactions file of ``good`` clean rows followed by the PLANTED defects."""
    staff, outlet, day = on_duty(db)
    rows = [transaction_row(f"DQ-OK{i}", staff, outlet, day) for i in range(good)]
    rows += [transaction_row(txn, staff, outlet, day, **over) for txn, over in PLANTED.items()]
    path = folder / f"transactions_{day:%Y-%m}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def dq_warehouse(small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small county plus one file of 20 good rows and the planted bad ones."""
    folder = tmp_path_factory.mktemp("dq")
    db = folder / "w.duckdb"
    shutil.copyfile(small_warehouse, db)
    [outcome] = load_paths(db, [write_bad_file(db, folder)], LoadOptions(report=False))
    assert outcome.status == "loaded", outcome.message
    assert outcome.quarantined == len(PLANTED)
    return db


def _raw_quarantine(db: Path) -> list[tuple[int, list[str], dict]]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT load_id, rules, raw_record FROM etl_quarantine").fetchall()
    return [(load, list(rules), json.loads(raw)) for load, rules, raw in rows]


def test_rule_counts_match_an_independent_count(dq_warehouse: Path) -> None:
    raw = _raw_quarantine(dq_warehouse)
    [load_id] = {load for load, _, _ in raw}
    expected = Counter(rule for _, rules, _ in raw for rule in rules)
    with duckdb.connect(str(dq_warehouse), read_only=True) as con:
        counted = rule_counts(con, load_id=load_id)
        everything = rule_counts(con)
        other_load = rule_counts(con, load_id=1)
    assert dict(zip(counted["rule"], counted["rows"], strict=True)) == expected
    assert counted["rows"].to_list() == sorted(expected.values(), reverse=True)
    assert expected["not_allowed_channel"] == 2  # the two fax rows, one with a bad rating too
    shares = dict(zip(counted["rule"], counted["share"], strict=True))
    assert shares["not_allowed_channel"] == pytest.approx(2 / len(raw))
    assert everything.equals(counted)  # only one load quarantined anything
    assert other_load.is_empty()  # the outlets file was clean


def test_quarantined_rows_filter_by_load_and_rule(dq_warehouse: Path) -> None:
    raw = _raw_quarantine(dq_warehouse)
    with duckdb.connect(str(dq_warehouse), read_only=True) as con:
        every = quarantined_rows(con)
        fax = quarantined_rows(con, rule="not_allowed_channel")
        amount = quarantined_rows(con, load_id=raw[0][0], rule="out_of_range_amount")
        capped = quarantined_rows(con, limit=2)
        none = quarantined_rows(con, load_id=1)
    assert sorted(json.loads(r)["txn_id"] for r in every["raw_record"]) == sorted(PLANTED)
    assert sorted(json.loads(r)["txn_id"] for r in fax["raw_record"]) == ["DQ-CH1", "DQ-CH2"]
    assert [json.loads(r)["amount"] for r in amount["raw_record"]] == ["-3"]
    assert (
        "out_of_range_satisfaction"
        in fax.filter(fax["source_row"] == fax["source_row"].max())["rules"].item()
    )
    assert capped.height == 2 and capped["source_row"].is_sorted()
    assert none.is_empty()


def test_load_history_conserves_rows_and_agrees_with_the_tables(dq_warehouse: Path) -> None:
    with duckdb.connect(str(dq_warehouse), read_only=True) as con:
        history = load_history(con)
        latest = load_history(con, limit=1)
        facts = dict(
            con.execute(
                "SELECT load_id, count(*) FROM fact_transaction GROUP BY load_id"
            ).fetchall()
        )
    quarantined = Counter(load for load, _, _ in _raw_quarantine(dq_warehouse))
    assert history["load_id"].to_list() == sorted(history["load_id"].to_list(), reverse=True)
    assert latest["load_id"].item() == history["load_id"].max()
    for row in history.iter_rows(named=True):
        parts = (
            row["rows_loaded"]
            + row["rows_duplicate"]
            + row["rows_quarantined"]
            + row["rows_dropped"]
        )
        assert row["rows_read"] == parts, row["file_name"]
        assert row["rows_quarantined"] == quarantined.get(row["load_id"], 0)
        if row["source_kind"] == "transactions":
            assert row["rows_loaded"] == facts[row["load_id"]]
    assert history["report_path"].is_null().all()  # loaded with report=False


def test_totals_count_every_load_not_only_the_latest(dq_warehouse: Path) -> None:
    with duckdb.connect(str(dq_warehouse), read_only=True) as con:
        everything = load_history(con, limit=10_000)
        totals = load_totals(con)
        assert load_history(con, limit=1).height == 1  # the table is capped, totals are not
    assert totals["files_loaded"] == everything.filter(pl.col("status") == "loaded").height
    assert totals["rows_read"] == everything["rows_read"].sum()
    assert totals["rows_quarantined"] == len(_raw_quarantine(dq_warehouse)) > 0
    assert totals["rows_loaded"] == everything["rows_loaded"].sum()
    assert totals["last_finished_at"] == everything["finished_at"].max()


def test_orphaned_reversals_are_found_and_filtered(small_warehouse: Path, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copyfile(small_warehouse, db)
    with duckdb.connect(str(db)) as con:
        txn, outlet, day, original = con.execute(
            "SELECT r.txn_id, r.outlet_code, r.business_date, r.reversal_of"
            " FROM fact_transaction r JOIN dim_outlet o USING (outlet_code)"
            " WHERE r.status = 'reversed' ORDER BY r.business_date, r.txn_id LIMIT 1"
        ).fetchall()[0]
        township, kind = con.execute(
            "SELECT township, outlet_type FROM dim_outlet WHERE outlet_code = ?", [outlet]
        ).fetchall()[0]
        other = con.execute(
            "SELECT outlet_code FROM dim_outlet WHERE township <> ? LIMIT 1", [township]
        ).fetchall()[0][0]
        before = orphan_reversals(con, start="2025-12-01", end="2026-03-01")
        con.execute("DELETE FROM fact_transaction WHERE txn_id = ?", [original])
        found = orphan_reversals(con, start="2025-12-01", end="2026-03-01")
        scoped = orphan_reversals(
            con, start="2025-12-01", end="2026-03-01", township=township, outlet_type=kind
        )
        elsewhere = orphan_reversals(con, start="2025-12-01", end="2026-03-01", outlets=other)
        later = orphan_reversals(con, start=day + dt.timedelta(days=1), end="2026-03-01")
        with pytest.raises(ValueError, match="channel"):
            orphan_reversals(con, start="2025-12-01", end="2026-03-01", channel="counter")
    assert before.is_empty()  # the generator writes every original
    assert found.rows() == [(txn, outlet, day, original)]
    assert scoped.equals(found)
    assert elsewhere.is_empty()
    assert later.filter(later["txn_id"] == txn).is_empty()
