"""Change the warehouse all-or-nothing: build the next version beside it, then swap it in.

Readers (the dashboard) open the warehouse file read-only for a moment at a time. A load
works on a copy; only when everything succeeded is the copy flushed and moved over the
original with ``os.replace``, which is atomic on POSIX. A crash, an exception or
``kill -9`` at any point before that leaves the original file untouched.

Writers take an exclusive lock (``<db>.lock``) for the whole run, so two loads cannot both
copy the same version and the second swap undo the first. Holding the lock also means
no other writer is alive, so any staging file still lying around is abandoned and removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb

from warehouse.schema import migrate
from warehouse.settings import load_config


def _fsync(path: Path) -> None:
    """Flush a file or directory to disk so the swap survives a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def writer_lock(db_path: Path) -> Iterator[None]:
    """Hold the warehouse's exclusive writer lock (waits for a running load to finish)."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with open(db_path.with_name(f"{db_path.name}.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_abandoned_staging(db_path: Path) -> None:
    """Delete copies (and their WAL and spill folders) left by loads that were killed."""
    for leftover in db_path.parent.glob(f".{db_path.name}.next-*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


@contextlib.contextmanager
def next_version(db_path: Path, *, locked: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a connection to a copy of the warehouse; swap it in if the block succeeds.

    ``locked=True`` when the caller already holds :func:`writer_lock` for the run.
    """
    with contextlib.ExitStack() as stack:
        if not locked:
            stack.enter_context(writer_lock(db_path))
        _remove_abandoned_staging(db_path)
        staging = db_path.with_name(f".{db_path.name}.next-{uuid.uuid4().hex}")
        if db_path.exists():
            shutil.copyfile(db_path, staging)
        con = duckdb.connect(str(staging))
        con.execute(f"SET memory_limit = '{load_config('settings')['etl']['duckdb_memory_limit']}'")
        # DuckDB would draw its own progress bar over the operator's for long statements.
        con.execute("SET enable_progress_bar = false")
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
            _remove_abandoned_staging(db_path)
            raise


def open_read_only(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A short-lived read-only connection, as the dashboard and analysts should use."""
    return duckdb.connect(str(db_path), read_only=True)
