"""History and backups: versions kept for free, restore, backup, verify (issue 13)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
from typer.testing import CliRunner

from etl.atomic import next_version
from etl.history import (
    MANIFEST,
    WAREHOUSE_FILE,
    table_checksums,
    verify_backup,
    verify_live,
    versions,
    versions_dir,
)
from etl.pipeline import LoadOptions, load_paths
from rccdash.cli import app
from tests.conftest import SmallCounty
from warehouse.kpi import service_summary
from warehouse.stars.publish import publish_month


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cli(*args: str):
    return CliRunner().invoke(app, list(args), terminal_width=200)


def test_every_swap_keeps_the_version_it_replaces_without_copying(
    small_county: SmallCounty, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    load_paths(db, [small_county.exports / "outlets.csv"], LoadOptions(report=False))
    assert versions(db) == []  # the first load had nothing to replace
    first, inode = _sha(db), db.stat().st_ino
    load_paths(db, [small_county.exports / "business_types.csv"], LoadOptions(report=False))
    [kept] = versions(db)
    assert _sha(kept.path) == first and kept.path.stat().st_ino == inode  # the old file itself
    assert kept.why == "load of business_types.csv" and kept.replaced_by
    for name in ("holidays.csv", "kpi_targets.csv", "staff.csv"):
        load_paths(db, [small_county.exports / name], LoadOptions(report=False))
    assert len(versions(db)) == 3  # etl.keep_versions
    assert [v.why for v in versions(db)] == [
        "load of staff.csv",
        "load of kpi_targets.csv",
        "load of holidays.csv",
    ]


def test_restore_brings_a_version_back_and_keeps_the_one_it_replaces(
    small_county: SmallCounty, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    load_paths(db, [small_county.exports / "outlets.csv"], LoadOptions(report=False))
    before = _sha(db)
    load_paths(db, [small_county.exports / "business_types.csv"], LoadOptions(report=False))
    after = _sha(db)
    [older] = versions(db)
    result = _cli("restore", older.name, "--db", str(db))
    assert result.exit_code == 0, result.output
    assert _sha(db) == before  # exactly the earlier version
    assert _sha(versions(db)[0].path) == after  # the replaced one, kept
    assert not list(tmp_path.glob(".w.duckdb.next-*"))
    assert _cli("restore", "no-such-version", "--db", str(db)).exit_code == 1


def test_a_backup_verifies_restores_and_gives_the_same_kpis(
    small_warehouse: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copy(small_warehouse, db)
    with next_version(db) as con:
        publish_month(con, "2026-01", by="Chairman Wang")
    folder = tmp_path / "backup"
    result = _cli("backup", "--to", str(folder), "--db", str(db))
    assert result.exit_code == 0, result.output
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    assert {"warehouse.duckdb", "config/star_model.yaml", MANIFEST} - {MANIFEST} <= set(
        manifest["files"]
    )
    with duckdb.connect(str(db), read_only=True) as con:
        assert manifest["tables"] == table_checksums(con)
        expected = service_summary(con, start="2026-01-01", end="2026-02-01", by="outlet")
    assert verify_backup(folder).ok
    assert _cli("verify", str(folder)).exit_code == 0

    with duckdb.connect(str(db)) as con:  # the live warehouse goes wrong ...
        con.execute("DELETE FROM fact_transaction WHERE outlet_code = '03101'")
    live = verify_live(db)
    assert not live.ok and any("fact_transaction holds the rows" in f for f in live.failed)
    assert _cli("verify", "--db", str(db)).exit_code == 1
    restored = _cli("restore", str(folder), "--db", str(db))  # ... and comes back
    assert restored.exit_code == 0, restored.output
    with duckdb.connect(str(db), read_only=True) as con:
        got = service_summary(con, start="2026-01-01", end="2026-02-01", by="outlet")
        assert table_checksums(con) == manifest["tables"]
    assert got.equals(expected)
    assert verify_live(db).ok


def test_a_changed_backup_fails_verify_and_is_not_restored(
    small_warehouse: Path, tmp_path: Path
) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copy(small_warehouse, db)
    folder = tmp_path / "backup"
    assert _cli("backup", "--to", str(folder), "--db", str(db)).exit_code == 0
    with duckdb.connect(str(folder / WAREHOUSE_FILE)) as con:
        con.execute("UPDATE dim_outlet SET outlet_name = 'tampered'")
    check = verify_backup(folder)
    assert not check.ok
    assert "file warehouse.duckdb unchanged" in check.failed
    assert any(f.startswith("table dim_outlet") for f in check.failed)
    before = _sha(db)
    refused = _cli("restore", str(folder), "--db", str(db))
    assert refused.exit_code == 1 and "fails its checks" in refused.output
    assert _sha(db) == before
    assert _cli("backup", "--to", str(folder), "--db", str(db)).exit_code == 1  # no overwrite


def test_verify_of_the_live_file_reports_a_broken_seal(small_warehouse: Path, tmp_path: Path):
    db = tmp_path / "w.duckdb"
    shutil.copy(small_warehouse, db)
    with next_version(db) as con:
        publish_month(con, "2026-01", by="x")
    assert verify_live(db).ok
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE star_score SET score = score + 1 WHERE month = '2026-01'")
    failed = verify_live(db).failed
    assert failed == ["published stars match their seals (not: ['2026-01 v1'])"]


def test_versions_dir_is_beside_the_warehouse(tmp_path: Path) -> None:
    assert versions_dir(tmp_path / "w.duckdb") == tmp_path / "w-versions"
