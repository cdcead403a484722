"""The load: read -> map -> stage and validate -> load, for every file of one run.

All accepted files of a run go into one new warehouse version that is swapped in at the
end (:mod:`etl.atomic`), so a run commits completely or not at all. A file whose bytes
were loaded before is skipped. A file that cannot be read, has no source for a required
field, is empty, or has too many bad rows is *rejected*: it changes nothing and the run
ends with exit code 1, while the other files still load. Row conservation is recorded
per file in ``etl_load``: read = loaded + duplicate + quarantined + dropped.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from etl import gx_report
from etl.atomic import next_version, open_read_only, settle, writer_lock
from etl.direct import FileBytes, PlainHead, plain_head, scan_bytes
from etl.load_sql import finish_run, move_rows, next_load_id, quarantine_rows, record_load
from etl.mapping import Mapping, MappingError, build_mapping
from etl.outcome import FileOutcome
from etl.profiles import Profile, load_profile
from etl.raw import drop_raw, open_raw
from etl.read import RawTable, ReadError, read_export
from etl.retry import advice
from etl.rules import settings
from etl.stage import Fates, decide, drop_staged, stage
from warehouse.settings import os_user

SUPPORTED_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm"}
# A file etl.read parses while planning (to learn its kind: reference data loads first)
# and bigger than this is read again at its turn rather than held in memory meanwhile.
# Plain CSVs are only sniffed while planning: DuckDB reads them at their turn.
KEEP_ROWS_WHILE_PLANNING = 200_000
CONFLICT_RULES = {"conflicting_rows_same_key", "conflicts_with_loaded"}
# Background work that overlaps the main thread's: scanning bytes while etl.read parses.
# Heavy imports get a thread of their own, so a file's scan never queues behind them.
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rccdash-etl")
_IMPORTS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rccdash-import")


@dataclass(frozen=True)
class LoadOptions:
    """How to read the files of a run (None = detect)."""

    profile: str = "default"
    kind: str | None = None
    encoding: str | None = None
    report: bool = True  # write the Great Expectations validation report per file
    run_by: str | None = None  # who ran the load (recorded); None: the operating-system user


class FileRejected(Exception):
    """The file as a whole is unusable; nothing of it is loaded."""


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files named directly plus the export files inside named folders, in name order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES)
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return files


def loaded_digests(db_path: Path) -> set[str]:
    """SHA-256 of every file the warehouse has loaded (empty when there is no warehouse yet)."""
    if not db_path.exists():
        return set()
    with open_read_only(db_path) as con:
        return {row[0] for row in con.execute("SELECT file_sha256 FROM etl_load").fetchall()}


@dataclass
class _Planned:
    """A file mapped, waiting for its turn in load order."""

    outcome: FileOutcome
    mapping: Mapping
    digest: str
    # How to read it at its turn: DuckDB directly (its layout and bytes), or the frame
    # etl.read gave while planning; with neither (a big frame not held), etl.read again.
    plain: tuple[PlainHead, FileBytes] | None = None
    raw: RawTable | None = None


def _plan(
    path: Path,
    profile: Profile,
    options: LoadOptions,
    head: PlainHead | None,
    scanning: Future[FileBytes],
) -> _Planned | FileOutcome:
    """Map one file, or say why it is rejected; a file DuckDB can read is not read yet.

    A file the direct reader may take (``head``) is mapped from its header alone and read
    at its turn; the others are read now with etl.read, while ``scanning`` hashes them.
    """
    outcome = FileOutcome(path)
    try:
        if head is not None and scanning.result().plain:
            mapping = build_mapping(head.header, profile, options.kind)
            outcome.kind = mapping.kind.name
            return _Planned(outcome, mapping, "", plain=(head, scanning.result()))
        raw = read_export(path, encoding=options.encoding)
        mapping = build_mapping(raw.header, profile, options.kind)
    except (ReadError, MappingError) as exc:
        outcome.status, outcome.message = "rejected", str(exc)
        return outcome
    outcome.kind = mapping.kind.name
    if raw.frame.height == 0:
        return _no_rows(outcome)
    return _Planned(outcome, mapping, "", raw=raw)


def _no_rows(outcome: FileOutcome) -> FileOutcome:
    """Reject a file that has a header but no data rows."""
    outcome.status, outcome.message = "rejected", f"{outcome.path.name}: no data rows"
    return outcome


def load_paths(
    db_path: Path,
    paths: Iterable[Path],
    options: LoadOptions | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> list[FileOutcome]:
    """Load export files into the warehouse; returns one outcome per file, in load order.

    ``progress(label, done, total)`` is called as files are read and loaded; ``on_note``
    hears what the operator should know beyond the files, as it happens (another writer
    is waited for, a write-ahead log was folded in).
    """
    options = options or LoadOptions()
    profile = load_profile(options.profile)
    files = expand(paths)
    # The report process starts now, so GX is imported while the files are scanned.
    with (
        gx_report.Checker() if options.report else contextlib.nullcontext() as checker,
        # one writer at a time, from the check of loaded files to the swap
        writer_lock(db_path, on_wait=on_note),
    ):
        return _run(db_path, files, profile, options, progress, checker, on_note)


def _run(
    db_path: Path,
    files: list[Path],
    profile: Profile,
    options: LoadOptions,
    progress: Callable[[str, int, int], None] | None,
    checker: gx_report.Checker | None,
    on_note: Callable[[str], None] | None,
) -> list[FileOutcome]:
    """One load run under the writer lock: plan every file, then load them in one version."""
    for note in settle(db_path):  # before reading which files the warehouse holds
        if on_note is not None:
            on_note(note)
    seen = loaded_digests(db_path)
    outcomes: list[FileOutcome] = []
    planned: list[_Planned] = []
    for i, path in enumerate(files, start=1):
        if progress:
            progress(f"reading {path.name}", i - 1, len(files))
        head = plain_head(path, options.encoding)
        # hashlib and numpy release the GIL: the scan overlaps etl.read's parse
        scanning = _POOL.submit(scan_bytes, path, head)
        result = _plan(path, profile, options, head, scanning)
        digest = scanning.result().sha256
        if digest in seen:
            outcomes.append(FileOutcome(path, status="skipped", message="same file already loaded"))
            continue
        seen.add(digest)
        if isinstance(result, _Planned):
            result.digest = digest
        if isinstance(result, FileOutcome):
            outcomes.append(result)
        else:
            planned.append(result)
    planned.sort(key=lambda p: (p.mapping.kind.order, p.outcome.path.name))
    if len(planned) > 1:
        for item in planned:
            if item.raw is not None and item.raw.frame.height > KEEP_ROWS_WHILE_PLANNING:
                item.raw = None
    if not planned:
        return outcomes
    # The marts refresh at the end: imported while DuckDB reads (and releases the GIL).
    # It needs ibis only to compile statements it has not kept (see warehouse.marts).
    _IMPORTS.submit(importlib.import_module, "warehouse.marts")
    folder = reports_dir(db_path)
    try:
        why = f"load of {', '.join(p.outcome.path.name for p in planned)}"
        with next_version(db_path, locked=True, on_note=on_note, why=why[:500]) as con:
            reports: list[_Report] = []
            for i, item in enumerate(planned, start=1):
                step = _stepper(progress, item.outcome.path.name, i - 1, len(planned))
                report = _load_one(con, item, profile, options, step, checker, folder)
                reports += [report] if report else []
            if not any(p.outcome.status == "loaded" for p in planned):
                raise _NothingLoaded
            finish_run(con)  # the report process checks the samples meanwhile
            if progress and reports:
                progress("writing validation reports", len(planned), len(planned))
            _write_reports(con, reports, folder)
    except _NothingLoaded:
        pass  # every file was rejected: the new version is discarded, the warehouse untouched
    outcomes += [p.outcome for p in planned]
    if progress:
        progress("done", len(planned), len(planned))
    return outcomes


class _NothingLoaded(Exception):
    """Every planned file was rejected: abandon the new version so the file stays untouched."""


def _stepper(
    progress: Callable[[str, int, int], None] | None, name: str, done: int, total: int
) -> Callable[[str, float], None]:
    """Report phases within one file as fractions of it, so long files show movement."""

    def step(phase: str, fraction: float) -> None:
        if progress:
            progress(f"{phase} {name}", done + fraction, total)

    return step


@dataclass(frozen=True)
class _Report:
    """A loaded file's validation report, checked by the report process while the run goes on."""

    checking: Future[list[dict[str, Any]]]
    mapping: Mapping
    outcome: FileOutcome
    load_id: int


def _load_one(
    con: duckdb.DuckDBPyConnection,
    item: _Planned,
    profile: Profile,
    options: LoadOptions,
    step: Callable[[str, float], None],
    checker: gx_report.Checker | None,
    folder: Path,
) -> _Report | None:
    """Stage, validate and move one file; a file that fails is rejected, the run goes on.

    The file's inserts run in a transaction of their own, so a failure half-way through
    leaves nothing of this file in the new version. Its staging tables are dropped after
    it either way, so the next file and the marts have the memory. Returns the file's
    pending validation report, if one is being checked.
    """
    started = time.perf_counter()
    outcome = item.outcome
    report = None
    try:
        report = _validate_and_move(con, item, profile, options, step, checker, folder)
    except (duckdb.Error, ReadError) as exc:
        outcome.status, outcome.load_id, outcome.report = "rejected", None, None
        outcome.loaded = outcome.duplicate = 0
        detail = str(exc).splitlines()[0]  # a ReadError names the file itself
        outcome.message = detail if isinstance(exc, ReadError) else f"{outcome.path.name}: {detail}"
    finally:
        drop_raw(con)
        drop_staged(con)
    outcome.seconds = time.perf_counter() - started
    return report


def _validate_and_move(
    con: duckdb.DuckDBPyConnection,
    item: _Planned,
    profile: Profile,
    options: LoadOptions,
    step: Callable[[str, float], None],
    checker: gx_report.Checker | None,
    folder: Path,
) -> _Report | None:
    """The work of :func:`_load_one`, raising on any failure."""
    began = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    outcome, mapping = item.outcome, item.mapping
    step("reading", 0.0)
    raw = open_raw(con, outcome.path, encoding=options.encoding, plain=item.plain, table=item.raw)
    item.raw = None  # the frame is in DuckDB now
    if raw.rows == 0:
        _no_rows(outcome)
        return None
    step("validating", 0.2)
    raw = stage(con, raw, mapping, profile, file_name=outcome.path.name)
    # The report process checks the sample while the fates are decided and the rows move.
    checking = checker.check(gx_report.sample(con, mapping), mapping.kind.name) if checker else None
    fates = decide(con, mapping, profile)
    _fill(outcome, fates)
    reason = _too_many_bad_rows(fates)
    if fates.quarantined:
        outcome.advice = advice(con, outcome.path.name, mapping.kind, rejected=reason is not None)
    if reason:
        outcome.status, outcome.message = "rejected", reason
        outcome.loaded = outcome.duplicate = 0
        return None
    step("loading", 0.6)
    con.execute("BEGIN TRANSACTION")
    try:
        load_id = next_load_id(con)
        quarantine_rows(con, load_id, raw, fates.quarantined)
        drop_raw(con)  # the raw records are not needed any more: free their memory
        if move_rows(con, mapping.kind.name, load_id):
            # The marts will re-derive partitions of earlier loads, a statement they compile
            # with ibis: import it while this run goes on.
            _IMPORTS.submit(importlib.import_module, "warehouse.mart_compile")
        report = gx_report.report_path(folder, load_id, outcome.path) if checking else None
        record_load(
            con,
            load_id=load_id,
            file_name=outcome.path.name,
            digest=item.digest,
            kind=mapping.kind.name,
            fates=fates,
            status="loaded",
            started=began,
            message=_summary(fates),
            profile=profile.name,
            encoding=raw.encoding,
            run_by=options.run_by or os_user(),
            report=str(report) if report else None,
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    outcome.status, outcome.load_id, outcome.report = "loaded", load_id, report
    return _Report(checking, mapping, outcome, load_id) if checking else None


def _too_many_bad_rows(fates: Fates) -> str | None:
    """Why the file is rejected for failing rows, or None.

    Only validation failures count: rows that conflict with other rows of the same key are
    quarantined but say nothing about whether the file itself is sound.
    """
    limit = float(settings()["max_bad_share"])
    conflicts = sum(n for r, n in fates.rule_counts.items() if r in CONFLICT_RULES)
    considered = fates.read - fates.dropped
    failing = fates.quarantined - conflicts
    if considered and failing / considered > limit:
        return (
            f"{failing:,} of {considered:,} rows fail validation (over {limit:.0%});"
            f" most common: {_top_rules(fates)}"
        )
    return None


def _write_reports(con: duckdb.DuckDBPyConnection, reports: list[_Report], folder: Path) -> None:
    """Write each loaded file's GX report; one that fails is noted, never fails the load.

    Runs at the end of the run, so the report process had the whole load to check the
    samples. ``etl_load`` already names each report (it is committed with its file); a
    report that could not be written is unrecorded there before the new version is swapped
    in, so the warehouse never points at a missing report.
    """
    for report in reports:
        outcome = report.outcome
        try:
            results = report.checking.result()
            gx_report.write_report(results, report.mapping, outcome, report.load_id, folder)
        except Exception as exc:  # GX is the report, not the gate: the SQL rules decided
            outcome.message, outcome.report = f"validation report not written: {exc}", None
            con.execute(
                "UPDATE etl_load SET report_path = NULL WHERE load_id = ?", [report.load_id]
            )


def reports_dir(db_path: Path) -> Path:
    """Validation reports live beside their warehouse: ``<warehouse>-reports/``."""
    return db_path.with_name(f"{db_path.stem}-reports")


def _fill(outcome: FileOutcome, fates: Fates) -> None:
    """Copy the tallies onto the outcome."""
    outcome.read, outcome.loaded, outcome.duplicate = fates.read, fates.load, fates.duplicate
    outcome.quarantined, outcome.dropped, outcome.rule_counts = (
        fates.quarantined,
        fates.dropped,
        fates.rule_counts,
    )


def _top_rules(fates: Fates, n: int = 3) -> str:
    """The most frequent rules, for a one-line message."""
    return (
        ", ".join(f"{rule} ({count:,})" for rule, count in list(fates.rule_counts.items())[:n])
        or "none"
    )


def _summary(fates: Fates) -> str | None:
    """The message stored with a load: which rules quarantined or dropped rows."""
    return f"rules: {_top_rules(fates, 8)}" if fates.rule_counts else None
