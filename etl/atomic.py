"""Change the warehouse all-or-nothing: build the next version beside it, then swap it in.

Readers (the dashboard) open the warehouse file read-only for a moment at a time. A load
works on a copy; only when everything succeeded is the copy flushed and moved over the
original with ``os.replace``, which is atomic on POSIX. A crash, an exception or
``kill -9`` at any point before that leaves the original file untouched.

Writers take an exclusive lock (``<db>.lock``) for the whole run, so two loads cannot both
copy the same version and the second swap undo the first; a second writer waits for the
first, saying so, up to ``etl.writer_wait_s``. Holding the lock also means no other
writer of ours is alive, so any staging file still lying around is abandoned and removed.

What the copy cannot see is a program outside this discipline holding the file
read-write (a notebook's ``duckdb.connect(path)``): its committed changes may sit in the
write-ahead log ``<db>.wal`` beside the file, which a copy does not carry and which no
longer matches the file after a swap (every open then fails). :func:`settle` therefore
runs first: it refuses while such a program holds the file, folds a log of this file into
it (nothing committed is lost), and moves a log of an older version aside (the file opens
again). During the run a read-only connection to the live file keeps any such program
from opening it for writing until the swap is done, so no log can appear in between.
The new version keeps the old file's mode and owner.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
import shutil
import stat
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from etl.filecopy import copy_file
from etl.history import keep
from warehouse.schema import migrate
from warehouse.settings import load_config, os_user
from warehouse.stars.publish import seal_unsealed

# New warehouses hold names and complaint narratives: readable by their owner only.
NEW_FILE_MODE = 0o600
# Past this size a change that must copy the whole file (no cloning) says so, once.
SLOW_COPY_BYTES = 256 * 2**20
# How long to wait for readers to let go before folding a write-ahead log in.
_SETTLE_WAIT_S = 10.0


class WarehouseBusy(RuntimeError):
    """Another program holds the warehouse, or another writer did not finish in time."""


def wal_path(db_path: Path) -> Path:
    """DuckDB's write-ahead log beside a database file."""
    return db_path.with_name(f"{db_path.name}.wal")


def _fsync(path: Path) -> None:
    """Flush a file or directory to disk so the swap survives a power cut."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _holder(lock_file: Path) -> str:
    """Who holds the writer lock, as its holder wrote it (pid, user, since)."""
    try:
        return lock_file.read_text(encoding="utf-8").strip() or "another writer"
    except OSError:
        return "another writer"


@contextlib.contextmanager
def writer_lock(
    db_path: Path,
    *,
    wait_s: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the warehouse's exclusive writer lock for a load, publication or restore.

    When another writer holds it, ``on_wait`` is told who (once) and the call waits up to
    ``wait_s`` seconds (default ``etl.writer_wait_s``), then raises :class:`WarehouseBusy`.
    """
    db_path.parent.mkdir(parents=True, exist_ok=True)
    lock_file = db_path.with_name(f"{db_path.name}.lock")
    limit = float(load_config("settings")["etl"]["writer_wait_s"] if wait_s is None else wait_s)
    with open(lock_file, "a+") as handle:
        deadline = time.monotonic() + limit
        told = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told and on_wait is not None:
                    on_wait(
                        f"{_holder(lock_file)} is changing the warehouse; waiting up to {limit:g} s"
                    )
                    told = True
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(
                        f"{_holder(lock_file)} still holds the warehouse after {limit:g} s;"
                        " try again when it has finished"
                    ) from None
                time.sleep(0.2)
        try:
            handle.seek(0)
            handle.truncate()
            since = dt.datetime.now().isoformat(timespec="seconds")
            handle.write(f"pid {os.getpid()} ({os_user()}, since {since})")
            handle.flush()
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_abandoned_staging(db_path: Path) -> None:
    """Delete copies (and their WAL and spill folders) left by loads that were killed."""
    for leftover in db_path.parent.glob(f".{db_path.name}.next-*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def _read_write_holder(error: duckdb.Error) -> str | None:
    """The program DuckDB names when another process holds the file for writing."""
    text = str(error)
    if "Conflicting lock" not in text:
        return None
    found = re.search(r"held in (.+?) \(PID (\d+)\)", text)
    return f"{found.group(1)} (pid {found.group(2)})" if found else "another program"


def settle(db_path: Path) -> list[str]:
    """Make the live file whole before it is copied; what was done, in words.

    Refuses (:class:`WarehouseBusy`) while another program holds it read-write. A
    write-ahead log of this file (a writer was killed, or closed without a checkpoint) is
    folded in, so its committed changes are in the copy; a log that belongs to another
    version of the file (it makes every open fail) is moved aside as
    ``<db>.wal.stale-<time>`` and reported.
    """
    notes: list[str] = []
    wal = wal_path(db_path)
    if not db_path.exists():
        if wal.exists():
            notes.append(_set_aside(wal, "a write-ahead log without its warehouse"))
        return notes
    try:
        duckdb.connect(str(db_path), read_only=True).close()
    except duckdb.Error as error:
        holder = _read_write_holder(error)
        if holder:
            raise WarehouseBusy(
                f"{holder} has {db_path.name} open for writing; close it (open the warehouse"
                " with read_only=True to read it) and load again"
            ) from None
        if not (wal.exists() and "WAL" in str(error)):
            raise
        notes.append(_set_aside(wal, "a write-ahead log of an older version of the file"))
        duckdb.connect(str(db_path), read_only=True).close()
    if wal.exists():
        _fold_in(db_path)
        notes.append("folded in a write-ahead log left by another program (nothing lost)")
    return notes


def _set_aside(wal: Path, what: str) -> str:
    """Move a log out of DuckDB's way, keeping it for whoever wants to recover from it."""
    aside = wal.with_name(f"{wal.name}.stale-{dt.datetime.now():%Y%m%dT%H%M%S}")
    os.replace(wal, aside)
    return f"moved {what} aside to {aside.name}"


def _fold_in(db_path: Path) -> None:
    """Replay and checkpoint the file's own write-ahead log (waits for readers briefly)."""
    deadline = time.monotonic() + _SETTLE_WAIT_S
    while True:
        try:
            with duckdb.connect(str(db_path)) as con:
                con.execute("CHECKPOINT")
            return
        except duckdb.Error as error:
            if _read_write_holder(error) is None or time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"could not fold the write-ahead log into {db_path}: {error}"
                ) from None
            time.sleep(0.2)


def _carry_ownership(source: Path, target: Path) -> None:
    """Give ``target`` the mode and, where allowed, the owner of ``source``."""
    info = source.stat()
    os.chmod(target, stat.S_IMODE(info.st_mode))
    with contextlib.suppress(PermissionError):
        if (info.st_uid, info.st_gid) != (os.getuid(), os.getgid()):
            os.chown(target, info.st_uid, info.st_gid)


@contextlib.contextmanager
def next_version(
    db_path: Path,
    *,
    locked: bool = False,
    on_note: Callable[[str], None] | None = None,
    why: str = "change",
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Yield a connection to a copy of the warehouse; swap it in if the block succeeds.

    ``locked=True`` when the caller already holds :func:`writer_lock` for the run.
    ``on_note`` hears, as it happens, that another writer is waited for and what
    :func:`settle` did. The version replaced is kept (:func:`etl.history.keep`), with
    ``why`` it was replaced.
    """
    with contextlib.ExitStack() as stack:
        if not locked:
            stack.enter_context(writer_lock(db_path, on_wait=on_note))
        _remove_abandoned_staging(db_path)
        for note in settle(db_path):
            if on_note is not None:
                on_note(note)
        staging = db_path.with_name(f".{db_path.name}.next-{uuid.uuid4().hex}")
        con: duckdb.DuckDBPyConnection | None = None
        try:
            if db_path.exists():
                # Readers may still open it; nobody may open it read-write until the swap.
                stack.enter_context(duckdb.connect(str(db_path), read_only=True))
                if not copy_file(db_path, staging) and on_note is not None:
                    size = db_path.stat().st_size
                    if size >= SLOW_COPY_BYTES:
                        on_note(
                            f"this filesystem cannot clone files: the change copies the whole"
                            f" warehouse ({size / 2**20:,.0f} MB); on XFS or btrfs it would"
                            " copy only what changes (docs/deploy.md, Filesystem)"
                        )
                _carry_ownership(db_path, staging)
            con = duckdb.connect(str(staging))
            if not db_path.exists():
                os.chmod(staging, NEW_FILE_MODE)
            con.execute(
                f"SET memory_limit = '{load_config('settings')['etl']['duckdb_memory_limit']}'"
            )
            # DuckDB would draw its own progress bar over the operator's for long statements.
            con.execute("SET enable_progress_bar = false")
            # One checkpoint, at the end: nobody reads the copy before then, and each
            # automatic one would rewrite what the next statement changes again.
            con.execute("SET checkpoint_threshold = '1TB'")
            migrate(con)
            seal_unsealed(con)  # versions published before seals existed, as they are now
            yield con
            con.execute("CHECKPOINT")
            con.close()
            if wal_path(staging).exists():  # a checkpointed, closed file has no log
                raise RuntimeError(f"{staging.name} still has a write-ahead log after closing")
            _fsync(staging)
            keep(db_path, why)
            os.replace(staging, db_path)
            _fsync(db_path.parent)
        except BaseException:
            if con is not None:
                con.close()
            _remove_abandoned_staging(db_path)
            raise


def replace_with(
    db_path: Path,
    source: Path,
    *,
    why: str,
    on_note: Callable[[str], None] | None = None,
) -> None:
    """Swap a copy of ``source`` (an earlier version, a backup) in as the warehouse.

    The same discipline as a load: the writer lock, :func:`settle`, a copy beside the
    file that is flushed before the atomic rename, the replaced version kept.
    """
    with duckdb.connect(str(source), read_only=True):  # it must open before it goes live
        pass
    with writer_lock(db_path, on_wait=on_note):
        _remove_abandoned_staging(db_path)
        for note in settle(db_path):
            if on_note is not None:
                on_note(note)
        staging = db_path.with_name(f".{db_path.name}.next-{uuid.uuid4().hex}")
        try:
            copy_file(source, staging)
            if db_path.exists():
                _carry_ownership(db_path, staging)
            else:
                os.chmod(staging, NEW_FILE_MODE)
            _fsync(staging)
            keep(db_path, why)
            os.replace(staging, db_path)
            _fsync(db_path.parent)
        except BaseException:
            _remove_abandoned_staging(db_path)
            raise


def open_read_only(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A short-lived read-only connection, as the dashboard and analysts should use."""
    return duckdb.connect(str(db_path), read_only=True)
