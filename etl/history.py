"""The warehouse's history and backups: earlier versions, restore, backup, verify.

Every swap (:func:`etl.atomic.next_version`) keeps the version it replaces under
``<warehouse>-versions/``: a hard link to the old file, so keeping it costs no copy and no
time (it is the old file itself, which nothing writes any more). The last
``etl.keep_versions`` are kept. :func:`restore` swaps one back in the same atomic way, and
keeps the version it replaces, so a restore can itself be undone.

A backup (:func:`backup`) is a folder holding the warehouse, the configuration and the
account and audit store, with a manifest: each file's SHA-256, and per warehouse table
its rows and a content checksum (the XOR of DuckDB's hash of every row, so row order does
not matter). :func:`verify` checks a backup against its manifest, or the live warehouse
against itself: it opens, its migrations are current, its publications' seals hold, and
every load's rows are where ``etl_load`` says.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from warehouse.schema import migrations
from warehouse.settings import CONFIG_DIR, load_config, os_user

MANIFEST = "manifest.json"
WAREHOUSE_FILE = "warehouse.duckdb"
ACCESS_FILE = "access.sqlite"


def versions_dir(db_path: Path) -> Path:
    """Where earlier versions of the warehouse are kept: ``<warehouse>-versions/``."""
    return db_path.with_name(f"{db_path.stem}-versions")


@dataclass(frozen=True)
class Version:
    """An earlier version of the warehouse: its file and what replaced it, when, by whom."""

    name: str
    path: Path
    size: int
    replaced_at: str
    replaced_by: str
    why: str


def keep(db_path: Path, why: str) -> Path | None:
    """Keep the live file as a version before it is replaced (a hard link, no copy).

    Returns the version's path (None when there is no live file yet); older versions
    beyond ``etl.keep_versions`` are removed.
    """
    if not db_path.exists():
        return None
    folder = versions_dir(db_path)
    folder.mkdir(mode=0o700, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    name = now.strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"{name}.duckdb"
    try:
        os.link(db_path, target)
    except OSError:  # a filesystem without hard links: a copy, still atomic to readers
        shutil.copy2(db_path, target)
    meta = {"replaced_at": now.isoformat(timespec="seconds"), "replaced_by": os_user(), "why": why}
    target.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
    _prune(folder, int(load_config("settings")["etl"]["keep_versions"]))
    return target


def _prune(folder: Path, keep_count: int) -> None:
    """Remove all but the newest ``keep_count`` versions."""
    files = sorted(folder.glob("*.duckdb"))
    for old in files[: max(0, len(files) - keep_count)]:
        old.unlink(missing_ok=True)
        old.with_suffix(".json").unlink(missing_ok=True)


def versions(db_path: Path) -> list[Version]:
    """The kept versions, newest first."""
    found = []
    for path in sorted(versions_dir(db_path).glob("*.duckdb"), reverse=True):
        try:
            meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        found.append(
            Version(
                name=path.stem,
                path=path,
                size=path.stat().st_size,
                replaced_at=meta.get("replaced_at", ""),
                replaced_by=meta.get("replaced_by", ""),
                why=meta.get("why", ""),
            )
        )
    return found


def schema_versions(con: duckdb.DuckDBPyConnection) -> set[int]:
    """Migrations recorded in a warehouse opened read-only (none for an empty file)."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_migrations'"
    ).fetchall()[0][0]
    if not exists:
        return set()
    return {v for (v,) in con.execute("SELECT version FROM schema_migrations").fetchall()}


# -- checksums ----------------------------------------------------------------------------


def table_checksums(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, int]]:
    """Per base table of ``main``: rows, and the XOR of every row's hash (order-free)."""
    tables = [
        t
        for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
            " AND NOT internal ORDER BY table_name"
        ).fetchall()
    ]
    out = {}
    for table in tables:
        rows, digest = con.execute(
            f'SELECT count(*), coalesce(bit_xor(hash(t)), 0) FROM "{table}" t'
        ).fetchall()[0]
        out[table] = {"rows": int(rows), "checksum": int(digest)}
    return out


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# -- backup -------------------------------------------------------------------------------


def backup(db_path: Path, target: Path, access_path: Path | None) -> dict[str, Any]:
    """Write a backup folder: warehouse, configuration, account store, manifest.

    The caller holds the writer lock, so no load swaps the warehouse mid-copy; the account
    store is copied with SQLite's online backup (it may be written meanwhile). Returns
    the manifest.
    """
    target.mkdir(parents=True, exist_ok=False)
    os.chmod(target, 0o700)
    shutil.copy2(db_path, target / WAREHOUSE_FILE)
    shutil.copytree(CONFIG_DIR, target / "config")
    if access_path is not None and access_path.exists():
        with sqlite3.connect(access_path) as source, sqlite3.connect(target / ACCESS_FILE) as out:
            source.backup(out)
    with duckdb.connect(str(target / WAREHOUSE_FILE), read_only=True) as con:
        tables = table_checksums(con)
        schema = sorted(schema_versions(con))
    files = {
        str(p.relative_to(target)): file_sha256(p) for p in sorted(target.rglob("*")) if p.is_file()
    }
    manifest = {
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "created_by": os_user(),
        "source": str(db_path),
        "schema_versions": schema,
        "files": files,
        "tables": tables,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


# -- verify -------------------------------------------------------------------------------


@dataclass
class Check:
    """What :func:`verify` found: every check made, and the ones that failed."""

    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failed

    def expect(self, condition: bool, what: str) -> None:
        """Record one check."""
        (self.passed if condition else self.failed).append(what)


def verify_backup(folder: Path) -> Check:
    """Check a backup folder: every file's hash, then the warehouse's tables, as recorded."""
    check = Check()
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    for name, digest in manifest["files"].items():
        path = folder / name
        check.expect(path.is_file() and file_sha256(path) == digest, f"file {name} unchanged")
    _verify_warehouse(folder / WAREHOUSE_FILE, check, manifest["tables"])
    return check


def verify_live(db_path: Path) -> Check:
    """Check the live warehouse against itself (see the module docstring)."""
    check = Check()
    wal = db_path.with_name(f"{db_path.name}.wal")
    check.expect(not wal.exists(), "no write-ahead log beside the file")
    _verify_warehouse(db_path, check, None)
    return check


def _verify_warehouse(path: Path, check: Check, expected: dict[str, dict[str, int]] | None) -> None:
    """Open a warehouse file and check its schema, tables, loads and seals."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        check.expect(False, f"the warehouse opens ({error})")
        return
    with con:
        check.expect(True, "the warehouse opens")
        wanted = {m.version for m in migrations()}
        check.expect(schema_versions(con) >= wanted, "its schema migrations are current")
        if expected is not None:
            actual = table_checksums(con)
            for table, want in expected.items():
                got = actual.get(table)
                check.expect(got == want, f"table {table}: {want['rows']} rows as recorded")
        _check_loads(con, check)
        _check_seals(con, check)


def _check_loads(con: duckdb.DuckDBPyConnection, check: Check) -> None:
    """Every load balanced, and the insert-only facts hold exactly the rows loads added."""
    unbalanced = con.execute(
        "SELECT count(*) FROM etl_load WHERE status = 'loaded' AND rows_read <>"
        " rows_loaded + rows_duplicate + rows_quarantined + rows_dropped"
    ).fetchall()[0][0]
    check.expect(unbalanced == 0, "every load's rows are accounted for (read = sum of fates)")
    for kind, table in (("transactions", "fact_transaction"), ("roster", "fact_roster")):
        mismatched = con.execute(
            f"""SELECT count(*) FROM etl_load l
                LEFT JOIN (SELECT load_id, count(*) AS n FROM {table} GROUP BY 1) f USING (load_id)
                WHERE l.source_kind = ? AND l.status = 'loaded'
                  AND coalesce(f.n, 0) <> l.rows_loaded""",
            [kind],
        ).fetchall()[0][0]
        check.expect(mismatched == 0, f"{table} holds the rows each {kind} load added")


def _check_seals(con: duckdb.DuckDBPyConnection, check: Check) -> None:
    """Every published version still matches its seal."""
    from warehouse.stars.publish import check_seal

    versions_ = con.execute("SELECT month, version FROM star_assessment ORDER BY 1, 2").fetchall()
    broken = [f"{m} v{v}" for m, v in versions_ if check_seal(con, m, v) is False]
    check.expect(
        not broken, "published stars match their seals" + (f" (not: {broken})" if broken else "")
    )
