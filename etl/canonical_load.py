"""Load exports already in the canonical layout (as the synthetic county writes them).

This is the plain loader the foundation needs: it recognises each file's kind from its
header, loads every file of one run into the next warehouse version and swaps it in
atomically, and skips a file whose bytes were loaded before. Mapping foreign layouts,
row-level validation and quarantine belong to the full ETL pipeline.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from etl.atomic import next_version, open_read_only
from etl.kinds import ExportKind, detect_kind, export_kinds
from warehouse.calendar import apply_holidays, ensure_covers

# Per kind: the statements that move the staged rows (temp table ``src``) into the warehouse.
# ``$load_id`` is replaced by the load's id.
LOAD_SQL: dict[str, list[str]] = {
    "outlets": [
        "INSERT OR REPLACE INTO dim_outlet SELECT outlet_code, outlet_name, township, outlet_type,"
        " counter_windows, self_service_devices, opened_on, latitude, longitude FROM src"
    ],
    "business_types": [
        "INSERT OR REPLACE INTO dim_business_type SELECT business_type, name_en, name_zh,"
        " standard_handling_s, cash_flow_sign FROM src"
    ],
    "kpi_targets": [
        "DELETE FROM ref_kpi_target t USING src s WHERE t.year = s.year AND t.kpi = s.kpi"
        " AND t.outlet_code IS NOT DISTINCT FROM s.outlet_code",
        "INSERT INTO ref_kpi_target SELECT year, kpi, outlet_code, target FROM src",
    ],
    "staff": [
        "INSERT OR REPLACE INTO dim_staff SELECT staff_id, effective_from, NULL, name, outlet_code,"
        " position, hire_date, coalesce(status, 'active'), true FROM src",
        # A transfer closes the previous assignment: valid_to is the next valid_from.
        "UPDATE dim_staff SET valid_to = n.next_from, is_current = n.next_from IS NULL"
        " FROM (SELECT staff_id, valid_from, lead(valid_from) OVER"
        " (PARTITION BY staff_id ORDER BY valid_from) AS next_from FROM dim_staff) AS n"
        " WHERE dim_staff.staff_id = n.staff_id AND dim_staff.valid_from = n.valid_from",
    ],
    "roster": [
        "INSERT INTO fact_roster SELECT work_date, staff_id, outlet_code, window_no, shift_start,"
        " shift_end, epoch(shift_end - shift_start)::INTEGER, $load_id FROM src"
    ],
    "transactions": [
        "INSERT INTO fact_transaction SELECT txn_id, outlet_code,"
        " coalesce(ticket_at, started_at)::DATE, channel, business_type, staff_id, window_no,"
        " amount, customer_segment, ticket_at, called_at, started_at, completed_at,"
        " coalesce(ticket_at, started_at), status, satisfaction, reversal_of, false,"
        " epoch(started_at - ticket_at)::INTEGER, epoch(completed_at - started_at)::INTEGER,"
        " $load_id FROM src",
        # Reversals may arrive in a later file than their original: mark originals every time.
        "UPDATE fact_transaction SET is_reversed = true WHERE NOT is_reversed AND txn_id IN"
        " (SELECT reversal_of FROM src WHERE reversal_of IS NOT NULL)",
    ],
    "complaints": [
        "INSERT INTO fact_complaint SELECT complaint_id, received_at, channel, outlet_code,"
        " staff_id, customer_ref, category, severity, coalesce(is_complex, severity <> 'minor'),"
        " description, status, resolved_at, substantiated, penalty, penalty_amount,"
        " epoch(resolved_at - received_at) / 86400.0, $load_id FROM src"
    ],
}


@dataclass(frozen=True)
class FileResult:
    """What happened to one file, for the operator's summary."""

    path: Path
    kind: str
    status: str  # loaded | skipped
    rows_read: int
    rows_loaded: int
    seconds: float
    message: str = ""


class LoadError(Exception):
    """A file could not be loaded; the warehouse was left as it was."""


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks so large exports do not fill memory."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _header(path: Path) -> list[str]:
    """The header row of a CSV export."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle), [])


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files named directly plus the ``*.csv`` files of named folders, in name order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(path.glob("*.csv"))
        elif path.exists():
            files.append(path)
        else:
            raise LoadError(f"{path}: no such file or folder")
    return files


def plan(paths: Iterable[Path]) -> list[tuple[Path, ExportKind]]:
    """Each file with its recognised kind, in load order (reference data first)."""
    planned = []
    for path in expand(paths):
        header = _header(path)
        kind = detect_kind(header)
        if kind is None:
            raise LoadError(f"{path.name}: header {header[:8]} matches no known export kind")
        planned.append((path, kind))
    return sorted(planned, key=lambda item: (item[1].order, item[0].name))


def _stage(con: duckdb.DuckDBPyConnection, path: Path, kind: ExportKind) -> int:
    """Read the file into temp table ``src`` with canonical columns and types."""
    present = set(_header(path))
    types = {col: typ for col, typ in kind.types.items() if col in present}
    type_sql = ", ".join(f"'{col}': '{typ}'" for col, typ in types.items())
    select = ", ".join(
        f'"{col}"' if col in present else f'NULL::{typ} AS "{col}"' for col, typ in kind.types.items()
    )
    con.execute("DROP TABLE IF EXISTS src")
    con.execute(
        f"CREATE TEMP TABLE src AS SELECT {select} FROM read_csv(?, header = true,"
        f" types = {{{type_sql}}}, timestampformat = '%Y-%m-%d %H:%M:%S')",
        [str(path)],
    )
    return int(con.execute("SELECT count(*) FROM src").fetchone()[0])


def loaded_digests(db_path: Path) -> set[str]:
    """SHA-256 of every file the warehouse has loaded (empty when there is no warehouse yet)."""
    if not db_path.exists():
        return set()
    with open_read_only(db_path) as con:
        exists = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'etl_load'"
        ).fetchone()[0]
        if not exists:
            return set()
        return {row[0] for row in con.execute("SELECT file_sha256 FROM etl_load").fetchall()}


def load_files(
    db_path: Path,
    paths: Iterable[Path],
    progress: Callable[[Path, int, int], None] | None = None,
) -> list[FileResult]:
    """Load canonical exports into the warehouse in one atomic step.

    Every new file loads or none does: on any error the warehouse file is untouched and a
    :class:`LoadError` names the file. Files whose bytes were loaded before are skipped;
    when nothing is new the warehouse file is not rewritten at all.
    ``progress(path, done, total)`` follows the files.
    """
    planned = plan(paths)
    seen = loaded_digests(db_path)
    results: list[FileResult] = []
    todo: list[tuple[Path, ExportKind, str]] = []
    for path, kind in planned:
        digest = sha256_of(path)
        if digest in seen:
            results.append(FileResult(path, kind.name, "skipped", 0, 0, 0.0, "already loaded"))
        else:
            todo.append((path, kind, digest))
            seen.add(digest)
    if not todo:
        return results
    with next_version(db_path) as con:
        for done, (path, kind, digest) in enumerate(todo, start=1):
            results.append(_load_one(con, path, kind, digest))
            if progress:
                progress(path, done, len(todo))
        ensure_covers(con, "fact_transaction", "business_date")
    return results


def _load_one(
    con: duckdb.DuckDBPyConnection, path: Path, kind: ExportKind, digest: str
) -> FileResult:
    """Stage one file, move it into its tables and record it in ``etl_load``."""
    started = time.perf_counter()
    load_id = int(con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM etl_load").fetchone()[0])
    began = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        rows = _stage(con, path, kind)
        if kind.name == "holidays":
            apply_holidays(con, "src")
        for statement in LOAD_SQL.get(kind.name, []):
            con.execute(statement.replace("$load_id", str(load_id)))
    except duckdb.Error as exc:
        raise LoadError(f"{path.name} ({kind.name}): {exc}") from exc
    con.execute(
        "INSERT INTO etl_load VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 'loaded', ?, ?, NULL)",
        [load_id, path.name, digest, kind.name, rows, rows, began, dt.datetime.now(dt.UTC).replace(tzinfo=None)],
    )
    return FileResult(path, kind.name, "loaded", rows, rows, time.perf_counter() - started)
