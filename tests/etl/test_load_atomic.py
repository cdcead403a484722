"""Loads are complete, idempotent and atomic.

Every row lands, a file loads once, failures change nothing.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from etl.atomic import next_version
from etl.pipeline import LoadOptions, load_paths
from tests.conftest import SmallCounty

KIND_TABLE = {
    "transactions": "fact_transaction",
    "roster": "fact_roster",
    "complaints": "fact_complaint",
    "outlets": "dim_outlet",
    "business_types": "dim_business_type",
    "staff": "dim_staff",
    "kpi_targets": "ref_kpi_target",
}


def load(db: Path, paths: list[Path]):
    return load_paths(db, paths, LoadOptions(report=False))


def _csv_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_row_of_every_file_is_in_the_warehouse(
    small_county: SmallCounty, small_warehouse: Path
) -> None:
    con = duckdb.connect(str(small_warehouse), read_only=True)
    per_kind: dict[str, int] = {}
    for row in con.execute(
        "SELECT file_name, source_kind, rows_read, rows_loaded, rows_duplicate, rows_quarantined,"
        " rows_dropped FROM etl_load"
    ).fetchall():
        name, kind, read, loaded, duplicate, quarantined, dropped = row
        assert read == _csv_rows(small_county.exports / name), name
        assert (loaded, duplicate, quarantined, dropped) == (read, 0, 0, 0), name
        per_kind[kind] = per_kind.get(kind, 0) + loaded
    for kind, table in KIND_TABLE.items():
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == per_kind[kind], kind
    assert len(per_kind) == 8


def test_derived_columns(small_warehouse: Path) -> None:
    con = duckdb.connect(str(small_warehouse), read_only=True)
    bad = con.execute(
        """SELECT count(*) FROM fact_transaction WHERE
           wait_s IS DISTINCT FROM date_diff('second', ticket_at, started_at)
           OR service_s IS DISTINCT FROM date_diff('second', started_at, completed_at)
           OR arrival_at <> coalesce(ticket_at, started_at) OR business_date <> arrival_at::DATE"""
    ).fetchone()[0]
    assert bad == 0
    reversed_, reversals = con.execute(
        "SELECT count(*) FILTER (WHERE is_reversed), count(*) FILTER (WHERE status = 'reversed')"
        " FROM fact_transaction"
    ).fetchone()
    assert reversed_ == reversals > 0


def test_transfer_closes_the_previous_assignment(
    small_county: SmallCounty, small_warehouse: Path
) -> None:
    moved = {}
    for a in small_county.result.county.assignments:
        moved.setdefault(a.staff_id, []).append(a.effective_from)
    staff_id, dates = next((s, sorted(d)) for s, d in moved.items() if len(d) > 1)
    con = duckdb.connect(str(small_warehouse), read_only=True)
    rows = con.execute(
        "SELECT valid_from, valid_to, is_current FROM dim_staff WHERE staff_id = ? ORDER BY 1",
        [staff_id],
    ).fetchall()
    assert rows == [(dates[0], dates[1], False), (dates[1], None, True)]


def test_loading_the_same_files_again_changes_nothing(
    small_county: SmallCounty, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    load(db, [small_county.exports / "outlets.csv"])
    before = _sha(db)
    results = load(db, [small_county.exports / "outlets.csv"])
    assert [r.status for r in results] == ["skipped"]
    assert _sha(db) == before


def test_a_failing_load_leaves_the_warehouse_exactly_as_it_was(
    small_county: SmallCounty, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "w.duckdb"
    load(db, [small_county.exports / "outlets.csv"])
    before = _sha(db)
    broken = tmp_path / "in"
    broken.mkdir()
    shutil.copy(small_county.exports / "business_types.csv", broken)
    shutil.copy(small_county.exports / "transactions_2025-12.csv", broken)

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("etl.pipeline.finish_run", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        load(db, [broken])
    assert _sha(db) == before
    assert not list(tmp_path.glob(".w.duckdb.next-*"))


def test_unknown_file_is_rejected_and_creates_nothing(tmp_path: Path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b\n1,2\n", encoding="utf-8")
    [outcome] = load(tmp_path / "w.duckdb", [odd])
    assert outcome.status == "rejected"
    assert "matches no export kind" in outcome.message
    assert not (tmp_path / "w.duckdb").exists()


def test_sigkill_mid_load_loses_nothing(small_county: SmallCounty, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    load(db, [small_county.exports / "outlets.csv"])
    before = _sha(db)
    big = tmp_path / "big"
    big.mkdir()
    months = sorted(small_county.exports.glob("transactions_*.csv"))
    with (big / "transactions_all.csv").open("w", encoding="utf-8") as out:
        out.write(months[0].read_text(encoding="utf-8").splitlines(keepends=True)[0])
        for copy in range(6):  # make the load long enough to be killed half-way
            for month in months:
                lines = month.read_text(encoding="utf-8").splitlines(keepends=True)[1:]
                out.writelines(f"K{copy}{line}" for line in lines)
    process = subprocess.Popen(
        [sys.executable, "-m", "rccdash.cli", "load", str(big), "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".w.duckdb.next-*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    assert process.poll() is None, "the load finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert _sha(db) == before
    results = load(db, [small_county.exports / "business_types.csv"])
    assert results[0].status == "loaded"
    assert not list(tmp_path.glob(".w.duckdb.next-*"))


def test_leftovers_of_a_killed_load_are_removed_not_replayed(
    small_county: SmallCounty, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    load(db, [small_county.exports / "outlets.csv"])
    before = _sha(db)
    (tmp_path / ".w.duckdb.next-1").write_bytes(b"half a copy")
    (tmp_path / ".w.duckdb.next-1.wal").write_bytes(b"half a log")
    (tmp_path / ".w.duckdb.next-1.tmp").mkdir()
    assert [r.status for r in load(db, [small_county.exports / "outlets.csv"])] == ["skipped"]
    assert _sha(db) == before
    load(db, [small_county.exports / "business_types.csv"])
    assert not list(tmp_path.glob(".w.duckdb.next-*"))


def test_a_second_writer_waits_for_the_first(small_county: SmallCounty, tmp_path: Path) -> None:
    import threading

    from etl.atomic import writer_lock

    db = tmp_path / "w.duckdb"
    done = threading.Event()

    def second_load() -> None:
        load(db, [small_county.exports / "outlets.csv"])
        done.set()

    with writer_lock(db):
        worker = threading.Thread(target=second_load)
        worker.start()
        assert not done.wait(1.0), "a load ran while another writer held the lock"
    worker.join(60)
    assert done.is_set()
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM dim_outlet").fetchall()[0][0] > 0


def test_the_load_connection_draws_no_progress_bar_of_its_own(tmp_path: Path) -> None:
    # DuckDB prints a bar for statements over 2 s, over the operator's own progress bar.
    with next_version(tmp_path / "w.duckdb") as con:
        setting = con.execute("SELECT current_setting('enable_progress_bar')").fetchall()
    assert setting == [(False,)]
