"""Change the warehouse all-or-nothing: build the next version beside it, then swap it in.

Readers (the dashboard) open the warehouse file read-only for a moment at a time. A load
works on a copy; only when everything succeeded is the copy flushed and moved over the
original with ``os.replace``, which is atomic on POSIX. A crash, an exception or
``kill -9`` at any point before that leaves the original file untouched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb

from warehouse.schema import migrate


def _fsync(path: Path) -> None:
    """Flush a file or directory to disk so the swap survives a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_abandoned_staging(db_path: Path) -> None:
    """Delete copies left behind by loads that were killed (their process is gone)."""
    for leftover in db_path.parent.glob(f".{db_path.name}.next-*"):
        pid = leftover.name.rsplit("-", 1)[-1].removesuffix(".wal")
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            leftover.unlink(missing_ok=True)


@contextlib.contextmanager
def next_version(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a connection to a copy of the warehouse; swap it in if the block succeeds."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_staging(db_path)
    staging = db_path.with_name(f".{db_path.name}.next-{os.getpid()}")
    staging.unlink(missing_ok=True)
    if db_path.exists():
        shutil.copyfile(db_path, staging)
    con = duckdb.connect(str(staging))
    try:
        migrate(con)
        yield con
        con.execute("CHECKPOINT")
        con.close()
        _fsync(staging)
        os.replace(staging, db_path)
        _fsync(db_path.parent)
    except BaseException:
        con.close()
        staging.unlink(missing_ok=True)
        Path(f"{staging}.wal").unlink(missing_ok=True)
        raise


def open_read_only(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A short-lived read-only connection, as the dashboard and analysts should use."""
    return duckdb.connect(str(db_path), read_only=True)
