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
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from etl.atomic import next_version, open_read_only
from etl.load_sql import finish_run, move_rows
from etl.mapping import Mapping, MappingError, build_mapping
from etl.profiles import Profile, load_profile
from etl.read import RawTable, ReadError, read_export
from etl.rules import settings
from etl.stage import Fates, decide, stage
from warehouse.settings import PROJECT_ROOT

SUPPORTED_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xlsm"}
# Files are read once to learn their kind (reference data loads first); a file bigger
# than this is read again when its turn comes rather than held in memory meanwhile.
KEEP_ROWS_WHILE_PLANNING = 200_000


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


def _plan(
    path: Path, profile: Profile, options: LoadOptions, digest: str
) -> _Planned | FileOutcome:
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
    return _Planned(outcome, raw, mapping, digest, raw.encoding)


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
    if options.report:
        _import_gx_in_background()
    files = expand(paths)
    seen = loaded_digests(db_path)
    outcomes: list[FileOutcome] = []
    planned: list[_Planned] = []
    for i, path in enumerate(files, start=1):
        if progress:
            progress(f"reading {path.name}", i - 1, len(files))
        digest = sha256_of(path)
        if digest in seen:
            outcomes.append(FileOutcome(path, status="skipped", message="same file already loaded"))
            continue
        seen.add(digest)
        result = _plan(path, profile, options, digest)
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
        with next_version(db_path) as con:
            for i, item in enumerate(planned, start=1):
                step = _stepper(progress, item.outcome.path.name, i - 1, len(planned))
                _load_one(con, item, profile, options, step)
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
) -> None:
    """Stage, validate and move one file inside the run's transaction-like new version."""
    started = time.perf_counter()
    began = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    outcome, mapping = item.outcome, item.mapping
    step("reading", 0.0)
    raw = item.raw or read_export(outcome.path, encoding=options.encoding)
    item.raw = None
    step("validating", 0.2)
    stage(con, raw, mapping, profile, file_name=outcome.path.name)
    fates = decide(con, mapping, profile)
    _fill(outcome, fates)
    limit = float(settings()["max_bad_share"])
    considered = fates.read - fates.dropped
    if considered and fates.quarantined / considered > limit:
        outcome.status = "rejected"
        outcome.loaded = outcome.duplicate = 0
        outcome.message = (
            f"{fates.quarantined:,} of {considered:,} rows fail validation (over {limit:.0%});"
            f" most common: {_top_rules(fates)}"
        )
        outcome.seconds = time.perf_counter() - started
        return
    load_id = int(
        con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM etl_load").fetchall()[0][0]
    )
    step("loading", 0.6)
    move_rows(con, mapping.kind.name, load_id, raw)
    del raw
    if options.report:
        from etl.gx_report import write_report

        step("reporting", 0.85)
        outcome.report = write_report(con, mapping, outcome, load_id, _reports_dir())
    outcome.status, outcome.load_id = "loaded", load_id
    outcome.seconds = time.perf_counter() - started
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


def _import_gx_in_background() -> None:
    """Start importing Great Expectations (seconds of work) while files are read."""
    import threading

    def _import() -> None:
        import great_expectations  # noqa: F401

    threading.Thread(target=_import, name="gx-import", daemon=True).start()


def _reports_dir() -> Path:
    """Folder for validation reports (``config/expectations.yaml``, relative to the project)."""
    return PROJECT_ROOT / settings()["reports_dir"]


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
