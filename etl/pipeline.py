"""The load: read -> map -> stage and validate -> load, for every file of one run.

All accepted files of a run go into one new warehouse version that is swapped in at the
end (:mod:`etl.atomic`), so a run commits completely or not at all. A file whose bytes
were loaded before is skipped. A file that cannot be read, has no source for a required
field, is empty, or has too many bad rows is *rejected*: it changes nothing and the run
ends with exit code 1, while the other files still load. Row conservation is recorded
per file in ``etl_load``: read = loaded + duplicate + quarantined + dropped.
"""

from __future__ import annotations

import datetime as dt
import importlib
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from etl.atomic import next_version, open_read_only, writer_lock
from etl.load_sql import finish_run, move_rows
from etl.mapping import Mapping, MappingError, build_mapping
from etl.profiles import Profile, load_profile
from etl.read import RawTable, ReadError, read_export
from etl.rules import settings
from etl.stage import Fates, decide, stage

SUPPORTED_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm"}
# Files are read once to learn their kind (reference data loads first); a file bigger
# than this is read again when its turn comes rather than held in memory meanwhile.
KEEP_ROWS_WHILE_PLANNING = 200_000
CONFLICT_RULES = {"conflicting_rows_same_key", "conflicts_with_loaded"}
# Background work that overlaps the main thread's: hashing, imports, the GX report.
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="rccdash-etl")


@dataclass(frozen=True)
class LoadOptions:
    """How to read the files of a run (None = detect)."""

    profile: str = "default"
    kind: str | None = None
    encoding: str | None = None
    report: bool = True  # write the Great Expectations validation report per file


@dataclass
class FileOutcome:
    """What happened to one file: the operator's summary line."""

    path: Path
    kind: str = ""
    status: str = ""  # loaded | skipped | rejected
    read: int = 0
    loaded: int = 0
    duplicate: int = 0
    quarantined: int = 0
    dropped: int = 0
    seconds: float = 0.0
    message: str = ""
    load_id: int | None = None
    report: Path | None = None
    rule_counts: dict[str, int] = field(default_factory=dict)


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


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks so large exports do not fill memory."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def loaded_digests(db_path: Path) -> set[str]:
    """SHA-256 of every file the warehouse has loaded (empty when there is no warehouse yet)."""
    if not db_path.exists():
        return set()
    with open_read_only(db_path) as con:
        return {row[0] for row in con.execute("SELECT file_sha256 FROM etl_load").fetchall()}


@dataclass
class _Planned:
    """A file read and mapped, waiting for its turn in load order."""

    outcome: FileOutcome
    raw: RawTable | None  # None for a big file: read again at its turn, to bound memory
    mapping: Mapping
    digest: str
    encoding: str


def _plan(path: Path, profile: Profile, options: LoadOptions) -> _Planned | FileOutcome:
    """Read and map one file, or say why it is rejected."""
    outcome = FileOutcome(path)
    try:
        raw = read_export(path, encoding=options.encoding)
        mapping = build_mapping(raw.header, profile, options.kind)
    except (ReadError, MappingError) as exc:
        outcome.status, outcome.message = "rejected", str(exc)
        return outcome
    outcome.kind = mapping.kind.name
    if raw.frame.height == 0:
        outcome.status, outcome.message = "rejected", f"{path.name}: no data rows"
        return outcome
    return _Planned(outcome, raw, mapping, "", raw.encoding)


def load_paths(
    db_path: Path,
    paths: Iterable[Path],
    options: LoadOptions | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[FileOutcome]:
    """Load export files into the warehouse; returns one outcome per file, in load order.

    ``progress(label, done, total)`` is called as files are read and loaded.
    """
    options = options or LoadOptions()
    profile = load_profile(options.profile)
    _import_in_background("great_expectations" if options.report else None, "warehouse.marts")
    files = expand(paths)
    with writer_lock(db_path):  # one writer at a time, from the check of loaded files to the swap
        return _run(db_path, files, profile, options, progress)


def _run(
    db_path: Path,
    files: list[Path],
    profile: Profile,
    options: LoadOptions,
    progress: Callable[[str, int, int], None] | None,
) -> list[FileOutcome]:
    """One load run under the writer lock: plan every file, then load them in one version."""
    seen = loaded_digests(db_path)
    outcomes: list[FileOutcome] = []
    planned: list[_Planned] = []
    for i, path in enumerate(files, start=1):
        if progress:
            progress(f"reading {path.name}", i - 1, len(files))
        hashing = _POOL.submit(sha256_of, path)  # hashlib releases the GIL: overlaps the read
        result = _plan(path, profile, options)
        digest = hashing.result()
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
    try:
        with next_version(db_path, locked=True) as con:
            for i, item in enumerate(planned, start=1):
                step = _stepper(progress, item.outcome.path.name, i - 1, len(planned))
                _load_one(con, item, profile, options, step, reports_dir(db_path))
            if not any(p.outcome.status == "loaded" for p in planned):
                raise _NothingLoaded
            finish_run(con)
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


def _load_one(
    con: duckdb.DuckDBPyConnection,
    item: _Planned,
    profile: Profile,
    options: LoadOptions,
    step: Callable[[str, float], None],
    report_dir: Path,
) -> None:
    """Stage, validate and move one file; a file that fails is rejected, the run goes on.

    The file's inserts run in a transaction of their own, so a failure half-way through
    leaves nothing of this file in the new version.
    """
    started = time.perf_counter()
    outcome = item.outcome
    try:
        _validate_and_move(con, item, profile, options, step, report_dir)
    except (duckdb.Error, ReadError) as exc:
        outcome.status, outcome.load_id, outcome.report = "rejected", None, None
        outcome.loaded = outcome.duplicate = 0
        outcome.message = f"{outcome.path.name}: {str(exc).splitlines()[0]}"
    outcome.seconds = time.perf_counter() - started


def _validate_and_move(
    con: duckdb.DuckDBPyConnection,
    item: _Planned,
    profile: Profile,
    options: LoadOptions,
    step: Callable[[str, float], None],
    report_dir: Path,
) -> None:
    """The work of :func:`_load_one`, raising on any failure."""
    began = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    outcome, mapping = item.outcome, item.mapping
    step("reading", 0.0)
    raw = item.raw or read_export(outcome.path, encoding=options.encoding)
    item.raw = None
    step("validating", 0.2)
    stage(con, raw, mapping, profile, file_name=outcome.path.name)
    fates = decide(con, mapping, profile)
    _fill(outcome, fates)
    if reason := _too_many_bad_rows(fates):
        outcome.status, outcome.message = "rejected", reason
        outcome.loaded = outcome.duplicate = 0
        return
    checking = None
    if options.report:
        from etl import gx_report

        checking = _POOL.submit(
            gx_report.validate, gx_report.sample(con, mapping), mapping.kind.name
        )
    step("loading", 0.6)
    con.execute("BEGIN TRANSACTION")
    try:
        load_id = int(
            con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM etl_load").fetchall()[0][0]
        )
        move_rows(con, mapping.kind.name, load_id, raw)  # GX checks the sample meanwhile
        outcome.report = _report(checking, mapping, outcome, load_id, step, report_dir)
        con.execute(
            "INSERT INTO etl_load VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'loaded', ?, ?, ?, ?, ?, ?)",
            [
                load_id,
                outcome.path.name,
                item.digest,
                mapping.kind.name,
                fates.read,
                fates.load,
                fates.quarantined,
                fates.duplicate,
                fates.dropped,
                began,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
                _summary(fates),
                profile.name,
                item.encoding,
                str(outcome.report) if outcome.report else None,
            ],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    outcome.status, outcome.load_id = "loaded", load_id


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


def _report(
    checking: Future[list[dict[str, object]]] | None,
    mapping: Mapping,
    outcome: FileOutcome,
    load_id: int,
    step: Callable[[str, float], None],
    folder: Path,
) -> Path | None:
    """Write the GX validation report; a report that fails is noted, never fails the load."""
    if checking is None:
        return None
    from etl import gx_report

    step("reporting", 0.85)
    try:
        return gx_report.write_report(checking.result(), mapping, outcome, load_id, folder)
    except Exception as exc:  # GX is the report, not the gate: the SQL rules decided the rows
        outcome.message = f"validation report not written: {exc}"
        return None


def _import_in_background(*modules: str | None) -> None:
    """Start importing heavy modules (GX, ibis for the marts) while the files are read."""
    for module in filter(None, modules):
        _POOL.submit(importlib.import_module, module)


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
