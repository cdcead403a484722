"""Copies of the warehouse: a clone where the filesystem can, else a copy that says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from etl import atomic
from etl.filecopy import can_clone, clone, copy_file

# A reflink-capable folder (XFS with reflink=1, btrfs), when this machine has one mounted.
CLONING = [
    Path(p)
    for p in (os.environ.get("RCCDASH_CLONE_DIR", ""), "/mnt/xfs")
    if p and Path(p).is_dir() and os.access(p, os.W_OK) and can_clone(Path(p))
]


def _warehouse(path: Path, rows: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS i, range * 2 AS j FROM range(?)", [rows])


def test_a_copy_has_the_same_bytes_and_is_independent(tmp_path: Path) -> None:
    source, target = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    _warehouse(source, 100_000)
    cloned = copy_file(source, target)
    assert cloned == can_clone(tmp_path)
    assert target.read_bytes() == source.read_bytes()
    before = source.read_bytes()
    with duckdb.connect(str(target)) as con:
        con.execute("INSERT INTO t VALUES (-1, -2)")
    assert source.read_bytes() == before  # writing the copy leaves the source alone
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT count(*), min(i) FROM t").fetchall() == [(100_001, -1)]


def test_a_real_error_during_the_copy_is_raised_not_swallowed(tmp_path: Path) -> None:
    source = tmp_path / "a.duckdb"
    _warehouse(source, 200_000)
    limit = source.stat().st_size // 2
    code = (
        "import resource, signal, sys; from pathlib import Path;"
        " signal.signal(signal.SIGXFSZ, signal.SIG_IGN);"
        f" resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}));"
        " from etl.filecopy import copy_file;"
        " copy_file(Path(sys.argv[1]), Path(sys.argv[2]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(source), str(tmp_path / "b.duckdb")],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    if can_clone(tmp_path):  # a clone writes no data blocks, so no limit is met
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode != 0 and "File too large" in done.stderr


def test_a_change_that_copies_a_large_file_says_so(tmp_path: Path, monkeypatch) -> None:
    db = tmp_path / "w.duckdb"
    _warehouse(db, 1_000)
    monkeypatch.setattr(atomic, "SLOW_COPY_BYTES", 1)  # every file is "large"
    notes: list[str] = []
    with atomic.next_version(db, on_note=notes.append) as con:
        con.execute("INSERT INTO t VALUES (-1, -2)")
    said = [n for n in notes if "cannot clone" in n]
    assert len(said) == (0 if can_clone(tmp_path) else 1)
    monkeypatch.setattr(atomic, "SLOW_COPY_BYTES", db.stat().st_size + 1)
    notes.clear()
    with atomic.next_version(db, on_note=notes.append) as con:
        con.execute("INSERT INTO t VALUES (-3, -6)")
    assert not [n for n in notes if "cannot clone" in n]  # a small file is not worth a word
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM t").fetchall() == [(1_002,)]


@pytest.mark.skipif(not CLONING, reason="no reflink-capable folder (set RCCDASH_CLONE_DIR)")
def test_on_a_cloning_filesystem_a_change_shares_the_unchanged_blocks(tmp_path: Path) -> None:
    folder = CLONING[0] / f"rccdash-test-{os.getpid()}"
    folder.mkdir()
    try:
        db = folder / "w.duckdb"
        _warehouse(db, 3_000_000)
        size = db.stat().st_size
        free_before = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
        assert clone(db, folder / "copy.duckdb")
        free_after = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
        assert free_before - free_after < size / 10  # the clone took no data blocks
        notes: list[str] = []
        with atomic.next_version(db, on_note=notes.append) as con:
            con.execute("INSERT INTO t VALUES (-1, -2)")
        assert not [n for n in notes if "cannot clone" in n]
        with duckdb.connect(str(db), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM t").fetchall() == [(3_000_001,)]
    finally:
        for path in sorted(folder.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        folder.rmdir()
