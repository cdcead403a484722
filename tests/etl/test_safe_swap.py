"""The swap survives what other programs leave beside the warehouse (issue 13).

Each test reproduces one way the copy-and-swap used to lose data or leave a warehouse
that no longer opens: a write-ahead log of another program, a read-write holder, a copy
cut short by a full disk, a mode reset, a second writer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from etl.atomic import WarehouseBusy, next_version, wal_path, writer_lock
from etl.pipeline import LoadOptions, load_paths
from tests.conftest import SmallCounty


def _load(db: Path, *paths: Path, notes: list[str] | None = None):
    heard = notes.append if notes is not None else None
    return load_paths(db, list(paths), LoadOptions(report=False), on_note=heard)


def _killed_writer(db: Path, sql: str) -> None:
    """Another program commits ``sql`` read-write and is killed before any checkpoint."""
    code = textwrap.dedent(
        f"""
        import duckdb, os, signal
        con = duckdb.connect({str(db)!r})
        con.execute("SET checkpoint_threshold = '1TB'")  # keep the change in the log
        con.execute({sql!r})
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    subprocess.run([sys.executable, "-c", code], check=False)
    assert wal_path(db).exists()


def _count(db: Path, sql: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()[0][0]


@pytest.fixture
def db(small_county: SmallCounty, tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    _load(path, small_county.exports / "outlets.csv")
    return path


def test_a_committed_change_in_another_programs_log_is_kept(
    db: Path, small_county: SmallCounty
) -> None:
    _killed_writer(db, "UPDATE dim_outlet SET outlet_name = 'renamed by a notebook'")
    notes: list[str] = []
    assert _load(db, small_county.exports / "business_types.csv", notes=notes)[0].status == (
        "loaded"
    )
    assert any("folded in" in n for n in notes)
    assert not wal_path(db).exists()
    renamed = "SELECT count(*) FROM dim_outlet WHERE outlet_name = 'renamed by a notebook'"
    assert _count(db, renamed) == _count(db, "SELECT count(*) FROM dim_outlet") > 0


def test_a_log_of_an_older_version_is_set_aside_and_the_warehouse_opens(
    db: Path, small_county: SmallCounty, tmp_path: Path
) -> None:
    _killed_writer(db, "UPDATE dim_outlet SET township = 'lost'")
    stale = wal_path(db).read_bytes()
    with next_version(db, on_note=lambda _: None) as con:  # folds it in: now none
        con.execute("SELECT 1")
    wal_path(db).write_bytes(stale)  # the old code's situation: a log of another version
    with pytest.raises(duckdb.Error, match="WAL"):
        duckdb.connect(str(db), read_only=True)
    notes: list[str] = []
    assert _load(db, small_county.exports / "business_types.csv", notes=notes)[0].status == (
        "loaded"
    )
    assert any("older version" in n for n in notes)
    aside = list(tmp_path.glob("w.duckdb.wal.stale-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == stale  # kept for whoever needs it
    assert _count(db, "SELECT count(*) FROM dim_business_type") > 0


def test_a_load_is_refused_while_another_program_holds_the_file_for_writing(
    db: Path, small_county: SmallCounty
) -> None:
    before = db.read_bytes()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db)!r});"
            " print('open', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(WarehouseBusy, match=rf"pid {holder.pid}.*open for writing"):
            _load(db, small_county.exports / "business_types.csv")
    finally:
        holder.kill()
        holder.wait()
    assert db.read_bytes() == before


def test_a_copy_cut_short_by_a_full_disk_leaves_nothing_behind(db: Path, tmp_path: Path) -> None:
    before = db.read_bytes()
    code = textwrap.dedent(
        f"""
        import resource, signal, sys
        from pathlib import Path
        from etl.atomic import next_version
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
        resource.setrlimit(resource.RLIMIT_FSIZE, ({len(before) // 2}, {len(before) // 2}))
        try:
            with next_version(Path({str(db)!r})):
                pass
        except OSError as error:
            print("failed:", error.errno)
            sys.exit(3)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
    assert "failed: 27" in done.stdout  # EFBIG, as a full disk would give ENOSPC
    assert not list(tmp_path.glob(".w.duckdb.next-*"))
    assert db.read_bytes() == before


def test_the_new_version_keeps_the_mode_of_the_old(db: Path, small_county: SmallCounty) -> None:
    os.chmod(db, 0o600)
    _load(db, small_county.exports / "business_types.csv")
    assert oct(db.stat().st_mode & 0o777) == "0o600"
    os.chmod(db, 0o640)
    _load(db, small_county.exports / "holidays.csv")
    assert oct(db.stat().st_mode & 0o777) == "0o640"


def test_a_new_warehouse_is_private_to_its_owner(small_county: SmallCounty, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.duckdb"
    _load(fresh, small_county.exports / "outlets.csv")
    assert oct(fresh.stat().st_mode & 0o777) == "0o600"


def test_a_second_writer_says_it_waits_and_gives_up_after_its_time(db: Path) -> None:
    heard: list[str] = []
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import time; from pathlib import Path; "
            f"from etl.atomic import writer_lock\nwith writer_lock(Path({str(db)!r})):\n"
            "    print('locked', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with (
            pytest.raises(WarehouseBusy, match="still holds the warehouse after 1 s"),
            writer_lock(db, wait_s=1.0, on_wait=heard.append),
        ):
            pass
        assert 0.9 < time.monotonic() - started < 5
        assert heard == [
            f"pid {holder.pid} ({heard[0].split('(')[1]} is changing the warehouse;"
            " waiting up to 1 s"
        ] or heard[0].startswith(f"pid {holder.pid} (")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with writer_lock(db, wait_s=5):  # the kill released it
        pass
